/* ts-lesson-query.c: the small query language lessons use to pick timeline events.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "ts-lesson.h"
#include "ts-lesson-query.h"

/* A query longer than this is a mistake, not a lesson. */
#define TS_LESSON_QUERY_MAX_TERMS 32

typedef enum
{
  OP_EQUAL,
  OP_CONTAINS,
  OP_DIFFERS,
} Op;

typedef struct
{
  char *path;
  Op op;
  char *value;
} Term;

struct _TsLessonQuery
{
  GArray *terms; /* Term */
};

static void
term_clear (Term *term)
{
  g_free (term->path);
  g_free (term->value);
}

void
ts_lesson_query_free (TsLessonQuery *self)
{
  if (self == NULL)
    return;
  g_array_unref (self->terms);
  g_free (self);
}

TsLessonQuery *
ts_lesson_query_new (const char *text, GError **error)
{
  g_autoptr (TsLessonQuery) self = g_new0 (TsLessonQuery, 1);
  g_auto (GStrv) words = NULL;

  g_return_val_if_fail (text != NULL, NULL);

  self->terms = g_array_new (FALSE, TRUE, sizeof (Term));
  g_array_set_clear_func (self->terms, (GDestroyNotify)term_clear);
  words = g_strsplit_set (text, " \t", -1);
  for (char **w = words; *w != NULL; w++)
    {
      Term term = { 0 };
      const char *op;
      gsize op_len = 1;

      if (**w == '\0')
        continue;
      op = strpbrk (*w, "=~!");
      if (op != NULL && op[0] == '!')
        {
          if (op[1] != '=')
            op = NULL;
          else
            op_len = 2;
        }
      if (op == NULL || op == *w)
        {
          g_set_error (error, TS_LESSON_ERROR, TS_LESSON_ERROR_INVALID,
                       "query term '%s' is not PATH=VALUE, PATH~VALUE or PATH!=VALUE", *w);
          return NULL;
        }
      if (self->terms->len >= TS_LESSON_QUERY_MAX_TERMS)
        {
          g_set_error (error, TS_LESSON_ERROR, TS_LESSON_ERROR_INVALID,
                       "query has more than %d terms", TS_LESSON_QUERY_MAX_TERMS);
          return NULL;
        }
      term.path = g_strndup (*w, (gsize)(op - *w));
      term.op = op[0] == '=' ? OP_EQUAL : (op[0] == '~' ? OP_CONTAINS : OP_DIFFERS);
      term.value = g_strdup (op + op_len);
      g_array_append_val (self->terms, term);
    }
  if (self->terms->len == 0)
    {
      g_set_error (error, TS_LESSON_ERROR, TS_LESSON_ERROR_INVALID, "query is empty");
      return NULL;
    }
  return g_steal_pointer (&self);
}

static char *
node_text (JsonNode *node)
{
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return NULL;
  if (JSON_NODE_HOLDS_VALUE (node))
    {
      switch (json_node_get_value_type (node))
        {
          case G_TYPE_STRING:
            return g_strdup (json_node_get_string (node));
          case G_TYPE_INT64:
            return g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (node));
          case G_TYPE_BOOLEAN:
            return g_strdup (json_node_get_boolean (node) ? "true" : "false");
          case G_TYPE_DOUBLE:
            {
              char buf[G_ASCII_DTOSTR_BUF_SIZE];
              return g_strdup (g_ascii_dtostr (buf, sizeof buf, json_node_get_double (node)));
            }
          default:
            return NULL;
        }
    }
  if (JSON_NODE_HOLDS_ARRAY (node))
    {
      /* An array of values reads as a list: "client, server". */
      JsonArray *array = json_node_get_array (node);
      GString *out = g_string_new (NULL);

      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          g_autofree char *item = node_text (json_array_get_element (array, i));

          if (i > 0)
            g_string_append (out, ", ");
          g_string_append (out, item != NULL ? item : "null");
        }
      return g_string_free (out, FALSE);
    }
  return json_to_string (node, FALSE);
}

static JsonNode *
lookup (JsonObject *event, const char *path)
{
  g_auto (GStrv) parts = g_strsplit (path, ".", -1);
  JsonObject *object = event;
  JsonNode *node = NULL;

  for (char **p = parts; *p != NULL; p++)
    {
      if (object == NULL || !json_object_has_member (object, *p))
        return NULL;
      node = json_object_get_member (object, *p);
      object = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
    }
  return node;
}

char *
ts_lesson_json_get_text (JsonObject *event, const char *path)
{
  g_return_val_if_fail (event != NULL, NULL);
  g_return_val_if_fail (path != NULL, NULL);

  return node_text (lookup (event, path));
}

static gboolean
value_holds (JsonNode *node, const Term *term)
{
  g_autofree char *text = NULL;

  if (node != NULL && JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);

      for (guint i = 0; i < json_array_get_length (array); i++)
        if (value_holds (json_array_get_element (array, i), term))
          return TRUE;
      return FALSE;
    }
  text = node_text (node);
  if (text == NULL)
    return FALSE;
  if (term->op == OP_EQUAL)
    return strcmp (text, term->value) == 0;
  return strstr (text, term->value) != NULL;
}

gboolean
ts_lesson_query_matches (const TsLessonQuery *self, JsonObject *event)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (event != NULL, FALSE);

  for (guint i = 0; i < self->terms->len; i++)
    {
      const Term *term = &g_array_index (self->terms, Term, i);
      JsonNode *node = lookup (event, term->path);

      if (term->op == OP_DIFFERS)
        {
          Term equal = *term;

          equal.op = OP_EQUAL;
          if (node != NULL && value_holds (node, &equal))
            return FALSE;
        }
      else if (!value_holds (node, term))
        return FALSE;
    }
  return TRUE;
}
