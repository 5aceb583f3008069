/* ts-lesson-pane.h: the lesson player beside the views: the lesson's
 * title and objectives, the step's narrative (Markdown), its question
 * answered inline, Back and Next.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The pane changes only the session, and only through the session's
 * actions (the ones the keyboard uses): going to a lesson step activates
 * session.highlight (the events its query matches), session.goto (the
 * first of them), session.as and session.view (and compare.highlight on
 * the compare side). It must therefore sit in the window that inserts the
 * sessions' actions.
 *
 * Actions ("lesson.*"): previous, next, check, show-answer, run-live
 * (activates win.run-scenario with the lesson's scenario), close (emits
 * "close").
 *
 * Signals: "close"; "step-changed", emitted when the pane goes to a step,
 * before the step is applied to the sessions: the window then puts the
 * step's compare capture (ts_lesson_dup_step_compare_capture ()) on the
 * compare side where another one is there; the pane marks the step's
 * events in it when it is loaded (the compare session's "reset"), and
 * shows them (ts_lesson_pane_show_compare ()).
 *
 * Progress (the step reached, questions answered right) is saved as it
 * happens, see ts-lesson-progress.h.
 */
#pragma once

#include <gtk/gtk.h>

#include "ts-lesson.h"
#include "ts-session.h"

G_BEGIN_DECLS

#define TS_TYPE_LESSON_PANE (ts_lesson_pane_get_type ())
G_DECLARE_FINAL_TYPE (TsLessonPane, ts_lesson_pane, TS, LESSON_PANE, GtkWidget)

GtkWidget *ts_lesson_pane_new (void);

/* The session whose timeline the highlight queries run on (the pane
 * reads it; it changes it through actions). */
void ts_lesson_pane_set_session (TsLessonPane *self, TsSession *session);

/* The right side of compare mode: for steps with `view: compare` the
 * step's query marks its events too, through compare.highlight (the
 * window inserts that session's actions as "compare"). It holds the
 * step's compare capture: the step's own compare scenario's, else the
 * lesson's (the window loads it, see "step-changed"). */
void ts_lesson_pane_set_compare_session (TsLessonPane *self, TsSession *compare);

/* For the window, once it has loaded the current step's compare capture
 * (and the compare side follows the left again): where the step's events
 * are on the right only, the left goes to the same time since its first
 * packet and the right to the first of them, as when going to the step. */
void ts_lesson_pane_show_compare (TsLessonPane *self);

/* Shows @lesson (transfer full; NULL: none). @capture_missing, when not
 * NULL, says why its capture is not shown (the pane then offers to run
 * the scenario live). Does not move to a step: call ts_lesson_pane_go (). */
void ts_lesson_pane_set_lesson (TsLessonPane *self, TsLesson *lesson, const char *capture_missing);
/* Borrowed, or NULL. */
const TsLesson *ts_lesson_pane_get_lesson (TsLessonPane *self);

/* Goes to lesson step @index (clamped) and applies it to the session. */
void ts_lesson_pane_go (TsLessonPane *self, guint index);
guint ts_lesson_pane_get_step (TsLessonPane *self);

/* The events the current step's highlight matches in the session's
 * timeline (event indexes; transfer full, empty when none). */
GArray *ts_lesson_pane_resolve (TsLessonPane *self, const char *query);

/* Answers the current step's question with @answer (a choice's text, or a
 * short answer), as the Check button does; TRUE when right. */
gboolean ts_lesson_pane_answer (TsLessonPane *self, const char *answer);
/* Whether steps reached and answers are saved as progress (TRUE by
 * default; the screenshot mode turns it off). */
void ts_lesson_pane_set_record_progress (TsLessonPane *self, gboolean record);

/* What the pane says about a missing capture (borrowed), or NULL. */
const char *ts_lesson_pane_get_capture_missing (TsLessonPane *self);
/* The feedback shown under the question ("" when none). */
const char *ts_lesson_pane_get_feedback (TsLessonPane *self);

G_END_DECLS
