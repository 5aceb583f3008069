/* ts-lesson-files.h: where the app finds the lessons and their captures:
 * ts_lesson_find_data () ($TS_DATA_DIR, else the source tree when running
 * from a build, else the installed data directory), as tscope does.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "ts-lesson.h"

G_BEGIN_DECLS

/* Every lesson, parsed, sorted by number (TsLesson *, transfer full);
 * NULL with @error when the directory cannot be read or a lesson does not
 * parse. */
GPtrArray *ts_lesson_files_load_all (GError **error);

/* Lesson @number (transfer full), or NULL with @error. */
TsLesson *ts_lesson_files_load (guint number, GError **error);

/* The path of @lesson's capture, and of its compare scenario's capture
 * (NULL when the lesson has none); transfer full. */
char *ts_lesson_files_capture_path (const TsLesson *lesson);
char *ts_lesson_files_compare_path (const TsLesson *lesson);

G_END_DECLS
