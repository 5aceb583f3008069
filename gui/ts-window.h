/* ts-window.h: the main window: header bar, start page, the views bound to
 * one session, the stepping controls.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Actions: win.open, win.open-compare, win.show-start, win.export,
 * win.run-scenario(s), win.view(s) ("ladder", "topology", "detail",
 * "compare"), win.open-lesson(i), win.lesson-next, win.lesson-previous,
 * win.close-lesson; the session's actions are inserted as "session.*",
 * the compare side's as "compare.*".
 */
#pragma once

#include <adwaita.h>

#include "ts-detail-view.h"
#include "ts-event-list.h"
#include "ts-ladder-view.h"
#include "ts-lesson-pane.h"
#include "ts-session.h"
#include "ts-start-page.h"
#include "ts-topology-view.h"

G_BEGIN_DECLS

#define TS_TYPE_WINDOW (ts_window_get_type ())
G_DECLARE_FINAL_TYPE (TsWindow, ts_window, TS, WINDOW, AdwApplicationWindow)

TsWindow *ts_window_new (GtkApplication *app);

TsSession *ts_window_get_session (TsWindow *self);
/* The second trace of compare mode (empty until one is opened). */
TsSession *ts_window_get_compare_session (TsWindow *self);

/* Opens a trace off the main loop; errors are shown in a dialog. */
void ts_window_open (TsWindow *self, GFile *file);
/* Loads a trace now (screenshot mode, tests); FALSE with @error. */
gboolean ts_window_load_path (TsWindow *self, const char *path, GError **error);
gboolean ts_window_load_compare_path (TsWindow *self, const char *path, GError **error);
/* Starts a scenario live (`tscope run NAME -o -`). */
void ts_window_run_scenario (TsWindow *self, const char *name);

/* Opens lesson @number in the lesson pane, on its shipped capture (and,
 * for a lesson with `compare:`, that scenario's capture on the compare
 * side), at lesson step @step (G_MAXUINT: where the student left it).
 * A missing capture is not an error: the pane says so and offers to run
 * the scenario live. ts_window_load_lesson () loads now (screenshot mode,
 * tests) and fails with @error only when there is no such lesson;
 * ts_window_open_lesson () loads off the main loop (errors in a dialog). */
gboolean ts_window_load_lesson (TsWindow *self, guint number, guint step, GError **error);
void ts_window_open_lesson (TsWindow *self, guint number, guint step);
/* Hides the lesson pane and clears its highlights. */
void ts_window_close_lesson (TsWindow *self);

/* Exports the shown drawing (the topology, or else the ladder) to a PNG,
 * SVG or PDF file named @path. */
gboolean ts_window_export (TsWindow *self, const char *path, GError **error);

/* "start" or one of the views. */
void ts_window_set_view (TsWindow *self, const char *view);
const char *ts_window_get_view (TsWindow *self);

/* The compare summary text (borrowed). */
const char *ts_window_get_compare_summary (TsWindow *self);
/* What a compare side (0: the left, 1: the right) says about itself
 * ("This trace has no node ..."), "" when nothing (borrowed). */
const char *ts_window_get_compare_note (TsWindow *self, guint side);
/* A compare side's title label (0: the left, 1: the right; borrowed). */
GtkWidget *ts_window_get_compare_title (TsWindow *self, guint side);
/* The whose-eyes drop-down's chosen entry, as shown (borrowed). */
const char *ts_window_get_as_label (TsWindow *self);

/* Widgets, for tests and the screenshot mode (borrowed). */
TsLadderView *ts_window_get_ladder (TsWindow *self);
TsTopologyView *ts_window_get_topology (TsWindow *self);
TsDetailView *ts_window_get_detail (TsWindow *self);
/* The bytes pane beside the ladder (8 bytes a line). */
TsDetailView *ts_window_get_ladder_detail (TsWindow *self);
TsStartPage *ts_window_get_start_page (TsWindow *self);
TsEventList *ts_window_get_events (TsWindow *self);
TsLessonPane *ts_window_get_lesson_pane (TsWindow *self);
/* Whether the lesson pane is shown. */
gboolean ts_window_get_lesson_visible (TsWindow *self);

G_END_DECLS
