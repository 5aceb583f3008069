/* ts-lesson-capture.c: a lesson's capture, analysed for highlights and computed answers.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "ts-lesson-capture.h"
#include "ts-lesson-query.h"
#include "ts-timeline-render.h"

struct _TsLessonCapture
{
  TsAnalyzer *analyzer;
  JsonParser *parser;
  JsonArray *events; /* owned by @parser */
};

void
ts_lesson_capture_free (TsLessonCapture *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->analyzer, ts_analyzer_free);
  g_clear_object (&self->parser);
  g_free (self);
}

TsLessonCapture *
ts_lesson_capture_new_from_file (const char *path, GError **error)
{
  g_autoptr (TsLessonCapture) self = g_new0 (TsLessonCapture, 1);
  g_autoptr (GMappedFile) mapped = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autofree char *json = NULL;
  TsRenderOptions options = { .as_node = -1, .no_coalesce = TRUE };
  JsonNode *root;

  g_return_val_if_fail (path != NULL, NULL);

  mapped = g_mapped_file_new (path, FALSE, error);
  if (mapped == NULL)
    return NULL;
  bytes = g_mapped_file_get_bytes (mapped);
  self->analyzer = ts_analyzer_new ();
  if (!ts_analyzer_feed_bytes (self->analyzer, bytes, error)
      || !ts_analyzer_finish (self->analyzer, error))
    {
      g_prefix_error (error, "%s: ", path);
      return NULL;
    }
  json = ts_timeline_render_json (ts_analyzer_get_timeline (self->analyzer), &options);
  self->parser = json_parser_new ();
  if (!json_parser_load_from_data (self->parser, json, -1, error))
    return NULL;
  root = json_parser_get_root (self->parser);
  self->events = json_object_get_array_member (json_node_get_object (root), "events");
  return g_steal_pointer (&self);
}

const TsTimeline *
ts_lesson_capture_get_timeline (TsLessonCapture *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return ts_analyzer_get_timeline (self->analyzer);
}

GArray *
ts_lesson_capture_find (TsLessonCapture *self, const char *query_text, GError **error)
{
  g_autoptr (TsLessonQuery) query = NULL;
  GArray *found;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (query_text != NULL, NULL);

  query = ts_lesson_query_new (query_text, error);
  if (query == NULL)
    return NULL;
  found = g_array_new (FALSE, FALSE, sizeof (guint));
  for (guint i = 0; i < json_array_get_length (self->events); i++)
    {
      JsonObject *event = json_array_get_object_element (self->events, i);

      if (ts_lesson_query_matches (query, event))
        {
          guint index = (guint)json_object_get_int_member (event, "index");
          g_array_append_val (found, index);
        }
    }
  return found;
}

char *
ts_lesson_capture_compute_answer (TsLessonCapture *self, const TsLessonQuestion *question,
                                  GError **error)
{
  g_autoptr (TsLessonQuery) query = NULL;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (question != NULL, NULL);

  if (question->from_query == NULL)
    {
      g_set_error (error, TS_LESSON_ERROR, TS_LESSON_ERROR_INVALID,
                   "the question has no 'from:' line");
      return NULL;
    }
  query = ts_lesson_query_new (question->from_query, error);
  if (query == NULL)
    return NULL;
  if (g_strcmp0 (question->from_field, "#count") == 0)
    {
      guint n = 0;

      for (guint i = 0; i < json_array_get_length (self->events); i++)
        n += ts_lesson_query_matches (query, json_array_get_object_element (self->events, i));
      return g_strdup_printf ("%u", n);
    }
  for (guint i = 0; i < json_array_get_length (self->events); i++)
    {
      JsonObject *event = json_array_get_object_element (self->events, i);

      if (ts_lesson_query_matches (query, event))
        {
          char *value = ts_lesson_json_get_text (event, question->from_field);

          if (value == NULL)
            g_set_error (error, TS_LESSON_ERROR, TS_LESSON_ERROR_INVALID,
                         "the first event matching '%s' has no field '%s'", question->from_query,
                         question->from_field);
          return value;
        }
    }
  g_set_error (error, TS_LESSON_ERROR, TS_LESSON_ERROR_INVALID, "no event matches '%s'",
               question->from_query);
  return NULL;
}
