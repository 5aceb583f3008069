/* ts-start-page.h: the first page: the built-in scenarios (from `tscope
 * list --format json`, with a Run button each), open a trace (button or
 * drag and drop anywhere on the window), and the lessons with the
 * student's progress.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Run buttons activate "win.run-scenario" with the scenario's name.
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define TS_TYPE_START_PAGE (ts_start_page_get_type ())
G_DECLARE_FINAL_TYPE (TsStartPage, ts_start_page, TS, START_PAGE, GtkWidget)

GtkWidget *ts_start_page_new (void);

/* Runs `tscope list --format json` again (asynchronously). */
void ts_start_page_refresh (TsStartPage *self);

/* Fills the scenario list from @json (tests); FALSE with @error when it is
 * not a list of scenarios. */
gboolean ts_start_page_set_scenarios_json (TsStartPage *self, const char *json, GError **error);
/* Shows @message instead of the scenarios (tscope missing or failing). */
void ts_start_page_set_scenarios_message (TsStartPage *self, const char *message);

/* Lists the lessons again, with the progress kept (ts-lesson-progress.h).
 * Open buttons activate "win.open-lesson" with the lesson's number. */
void ts_start_page_refresh_lessons (TsStartPage *self);
/* For tests: lesson rows shown, and a lesson's progress line (borrowed,
 * NULL when it is not listed). */
guint ts_start_page_get_n_lessons (TsStartPage *self);
const char *ts_start_page_get_lesson_progress (TsStartPage *self, guint number);

/* For tests: scenario rows shown, and the message shown (or NULL). */
guint ts_start_page_get_n_scenarios (TsStartPage *self);
const char *ts_start_page_get_message (TsStartPage *self);

G_END_DECLS
