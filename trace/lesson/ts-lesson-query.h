/* ts-lesson-query.h: the small query language lessons use to pick timeline events.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 *   query  = term *( SP term )
 *   term   = path ( "=" / "~" / "!=" ) value      exact, contains, differs
 *   path   = name *( "." name )                   into nested JSON objects
 *
 * A term holds when the event's value at path, as text (numbers and
 * booleans in their JSON spelling; arrays: any element), compares as asked.
 * A missing path never holds, except for "!=".
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _TsLessonQuery TsLessonQuery;

TsLessonQuery *ts_lesson_query_new (const char *text, GError **error);
void ts_lesson_query_free (TsLessonQuery *self);
gboolean ts_lesson_query_matches (const TsLessonQuery *self, JsonObject *event);

/* The value at @path of @event as text (transfer full), or NULL. Arrays
 * read as their elements joined by ", ". */
char *ts_lesson_json_get_text (JsonObject *event, const char *path);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TsLessonQuery, ts_lesson_query_free)

G_END_DECLS
