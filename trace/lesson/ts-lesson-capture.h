/* ts-lesson-capture.h: a lesson's capture, analysed: its events as JSON for the
 * lesson queries, its highlights, and the answers computed from it.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "ts-analyzer.h"
#include "ts-lesson.h"

G_BEGIN_DECLS

typedef struct _TsLessonCapture TsLessonCapture;

/* Analyses the trace at @path (the whole file) and keeps its timeline and
 * the timeline's events as JSON (trace/analyzer/SCHEMA.md). */
TsLessonCapture *ts_lesson_capture_new_from_file (const char *path, GError **error);
void ts_lesson_capture_free (TsLessonCapture *self);

/* The timeline (valid while @self lives). */
const TsTimeline *ts_lesson_capture_get_timeline (TsLessonCapture *self);

/* The `index` of every event that @query matches, in time order (an array
 * of guint, transfer full); NULL with @error when the query is malformed. */
GArray *ts_lesson_capture_find (TsLessonCapture *self, const char *query, GError **error);

/* The answer @question's `from:` line computes from the capture (transfer
 * full): the FIELD of the first matching event, or with FIELD "#count" the
 * number of matching events. NULL with @error when the
 * question has no `from:`, nothing matches, or the field is absent. */
char *ts_lesson_capture_compute_answer (TsLessonCapture *self, const TsLessonQuestion *question,
                                        GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TsLessonCapture, ts_lesson_capture_free)

G_END_DECLS
