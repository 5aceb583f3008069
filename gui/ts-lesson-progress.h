/* ts-lesson-progress.h: a user's progress through the lessons, kept in
 * the XDG data directory (g_get_user_data_dir ()/tunnelscope/progress.ini,
 * a GKeyFile): per lesson, the step shown last, the furthest step reached
 * and the steps whose question was answered right.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 *   [lesson 4]
 *   step=2          the step shown last (0 is the first)
 *   reached=3       the furthest step shown
 *   answered=0;2;   steps whose question was answered right
 *
 * Not a GObject: a small record the start page reads and the lesson pane
 * writes; every change is saved at once (atomically, g_file_set_contents).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _TsLessonProgress TsLessonProgress;

/* Reads @path (NULL: the default path above); a missing or unreadable
 * file is an empty progress. */
TsLessonProgress *ts_lesson_progress_new (const char *path);
void ts_lesson_progress_free (TsLessonProgress *self);

/* The file (borrowed). */
const char *ts_lesson_progress_get_path (TsLessonProgress *self);

/* Whether lesson @number was opened at all. */
gboolean ts_lesson_progress_has (TsLessonProgress *self, guint number);
/* The step shown last and the furthest one (0 when none). */
guint ts_lesson_progress_get_step (TsLessonProgress *self, guint number);
guint ts_lesson_progress_get_reached (TsLessonProgress *self, guint number);
gboolean ts_lesson_progress_is_answered (TsLessonProgress *self, guint number, guint step);
guint ts_lesson_progress_get_n_answered (TsLessonProgress *self, guint number);

/* Record and save; FALSE with @error when the file cannot be written (the
 * progress stays in memory). */
gboolean ts_lesson_progress_set_step (TsLessonProgress *self, guint number, guint step,
                                      GError **error);
gboolean ts_lesson_progress_set_answered (TsLessonProgress *self, guint number, guint step,
                                          GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TsLessonProgress, ts_lesson_progress_free)

G_END_DECLS
