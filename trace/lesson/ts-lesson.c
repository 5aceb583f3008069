/* ts-lesson.c: parses lesson files (Markdown, through cmark) into metadata and steps.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <cmark.h>

#include "ts-lesson.h"
#include "ts-lesson-query.h"

G_DEFINE_QUARK (ts - lesson - error - quark, ts_lesson_error)

static const char *const meta_keys[]
    = { "scenario", "capture", "compare", "objectives", "cites", NULL };
static const char *const step_keys[] = { "highlight", "view", "as", "compare", NULL };
static const char *const view_names[] = { "ladder", "topology", "detail", "compare", NULL };

const char *
ts_lesson_view_to_string (TsLessonView view)
{
  g_return_val_if_fail (view <= TS_LESSON_VIEW_COMPARE, NULL);
  return view_names[view];
}

static void
question_free (TsLessonQuestion *q)
{
  if (q == NULL)
    return;
  g_free (q->prompt);
  g_ptr_array_unref (q->choices);
  g_free (q->answer);
  g_free (q->from_query);
  g_free (q->from_field);
  g_free (q);
}

static void
step_free (TsLessonStep *step)
{
  g_free (step->title);
  g_free (step->narrative);
  g_free (step->highlight);
  g_free (step->as);
  g_free (step->compare);
  question_free (step->question);
  g_free (step);
}

void
ts_lesson_free (TsLesson *self)
{
  if (self == NULL)
    return;
  g_free (self->path);
  g_free (self->title);
  g_free (self->scenario);
  g_free (self->compare);
  g_free (self->capture);
  g_free (self->objectives);
  g_free (self->cites);
  g_free (self->intro);
  g_ptr_array_unref (self->steps);
  g_free (self);
}

/* The text of an inline tree; soft breaks become @soft_break. */
static void
append_inline_text (GString *out, cmark_node *node, const char *soft_break)
{
  for (cmark_node *child = cmark_node_first_child (node); child != NULL;
       child = cmark_node_next (child))
    {
      switch (cmark_node_get_type (child))
        {
          case CMARK_NODE_TEXT:
          case CMARK_NODE_CODE:
            g_string_append (out, cmark_node_get_literal (child));
            break;
          case CMARK_NODE_SOFTBREAK:
          case CMARK_NODE_LINEBREAK:
            g_string_append (out, soft_break);
            break;
          default:
            append_inline_text (out, child, soft_break);
            break;
        }
    }
}

static char *
inline_text (cmark_node *node, const char *soft_break)
{
  GString *out = g_string_new (NULL);

  append_inline_text (out, node, soft_break);
  return g_string_free (out, FALSE);
}

/* "key: value" of a list item holding one paragraph; FALSE otherwise. */
static gboolean
item_key_value (cmark_node *item, char **out_key, char **out_value)
{
  cmark_node *para = cmark_node_first_child (item);
  g_autofree char *text = NULL;
  const char *colon;

  if (para == NULL || cmark_node_get_type (para) != CMARK_NODE_PARAGRAPH
      || cmark_node_next (para) != NULL)
    return FALSE;
  text = inline_text (para, " ");
  colon = strchr (text, ':');
  if (colon == NULL || colon == text)
    return FALSE;
  for (const char *p = text; p < colon; p++)
    if (!(g_ascii_isalnum (*p) || *p == '-' || *p == '_'))
      return FALSE;
  *out_key = g_strndup (text, (gsize)(colon - text));
  *out_value = g_strstrip (g_strdup (colon + 1));
  return TRUE;
}

static gboolean
is_settings_list (cmark_node *node, const char *const *keys)
{
  g_autofree char *key = NULL;
  g_autofree char *value = NULL;

  if (cmark_node_get_type (node) != CMARK_NODE_LIST)
    return FALSE;
  if (!item_key_value (cmark_node_first_child (node), &key, &value))
    return FALSE;
  return g_strv_contains (keys, key);
}

static char *
render (cmark_node *node)
{
  char *md = cmark_render_commonmark (node, CMARK_OPT_DEFAULT, 0);
  char *copy = g_strdup (md);

  free (md);
  return copy;
}

static gboolean fail (GError **error, const char *path, cmark_node *node, const char *format, ...)
    G_GNUC_PRINTF (4, 5);

static gboolean
fail (GError **error, const char *path, cmark_node *node, const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  if (node != NULL)
    g_set_error (error, TS_LESSON_ERROR, TS_LESSON_ERROR_INVALID, "%s:%d: %s", path,
                 cmark_node_get_start_line (node), message);
  else
    g_set_error (error, TS_LESSON_ERROR, TS_LESSON_ERROR_INVALID, "%s: %s", path, message);
  return FALSE;
}

static gboolean
parse_question (const char *path, cmark_node *quote, TsLessonQuestion **out, GError **error)
{
  TsLessonQuestion *q = g_new0 (TsLessonQuestion, 1);
  g_autoptr (GError) local = NULL;
  cmark_node *first = cmark_node_first_child (quote);
  g_autofree char *first_text = inline_text (first, " ");

  q->choices = g_ptr_array_new_with_free_func (g_free);
  q->line = (guint)cmark_node_get_start_line (quote);
  q->prompt = g_strstrip (g_strdup (first_text + strlen ("Question:")));

  for (cmark_node *node = cmark_node_next (first); node != NULL; node = cmark_node_next (node))
    {
      if (cmark_node_get_type (node) == CMARK_NODE_LIST)
        {
          for (cmark_node *item = cmark_node_first_child (node); item != NULL;
               item = cmark_node_next (item))
            g_ptr_array_add (q->choices, g_strstrip (inline_text (item, " ")));
        }
      else if (cmark_node_get_type (node) == CMARK_NODE_PARAGRAPH)
        {
          g_autofree char *text = inline_text (node, "\n");
          g_auto (GStrv) lines = g_strsplit (text, "\n", -1);

          for (char **l = lines; *l != NULL; l++)
            {
              if (g_str_has_prefix (*l, "answer:"))
                {
                  g_free (q->answer);
                  q->answer = g_strstrip (g_strdup (*l + strlen ("answer:")));
                }
              else if (g_str_has_prefix (*l, "from:") || g_str_has_prefix (*l, "from-compare:"))
                {
                  const char *arrow = strstr (*l, "->");
                  gsize skip = g_str_has_prefix (*l, "from:") ? 5 : 13;
                  g_autoptr (TsLessonQuery) query = NULL;

                  if (arrow == NULL)
                    {
                      question_free (q);
                      return fail (error, path, node, "'from:' needs QUERY -> FIELD");
                    }
                  q->from_compare = skip == 13;
                  q->from_query = g_strstrip (g_strndup (*l + skip, (gsize)(arrow - (*l + skip))));
                  q->from_field = g_strstrip (g_strdup (arrow + 2));
                  query = ts_lesson_query_new (q->from_query, &local);
                  if (query == NULL || *q->from_field == '\0')
                    {
                      fail (error, path, node, "bad 'from:' line: %s",
                            local != NULL ? local->message : "no FIELD after ->");
                      question_free (q);
                      return FALSE;
                    }
                }
              else if (**l != '\0')
                {
                  fail (error, path, node,
                        "a question holds its prompt, a list of choices, and 'answer:' and "
                        "'from:' lines; found '%s'",
                        *l);
                  question_free (q);
                  return FALSE;
                }
            }
        }
      else
        {
          question_free (q);
          return fail (error, path, node, "a question holds only paragraphs and a list of choices");
        }
    }
  if (q->answer == NULL || *q->answer == '\0')
    {
      question_free (q);
      return fail (error, path, quote, "the question has no 'answer:' line");
    }
  if (q->choices->len > 0
      && !g_ptr_array_find_with_equal_func (q->choices, q->answer, g_str_equal, NULL))
    {
      fail (error, path, quote, "the answer '%s' is not one of the choices", q->answer);
      question_free (q);
      return FALSE;
    }
  *out = q;
  return TRUE;
}

static gboolean
apply_step_setting (const char *path, cmark_node *item, TsLessonStep *step, GError **error)
{
  g_autofree char *key = NULL;
  g_autofree char *value = NULL;
  g_autoptr (GError) local = NULL;

  if (!item_key_value (item, &key, &value))
    return fail (error, path, item, "a step's settings list holds only 'key: value' items");
  if (strcmp (key, "highlight") == 0)
    {
      g_autoptr (TsLessonQuery) query = ts_lesson_query_new (value, &local);

      if (query == NULL)
        return fail (error, path, item, "bad highlight: %s", local->message);
      g_free (step->highlight);
      step->highlight = g_steal_pointer (&value);
    }
  else if (strcmp (key, "view") == 0)
    {
      guint i;

      for (i = 0; view_names[i] != NULL; i++)
        if (strcmp (value, view_names[i]) == 0)
          break;
      if (view_names[i] == NULL)
        return fail (error, path, item,
                     "unknown view '%s' (known: ladder, topology, detail, compare)", value);
      step->view = (TsLessonView)i;
    }
  else if (strcmp (key, "as") == 0)
    {
      g_free (step->as);
      step->as = g_steal_pointer (&value);
    }
  else if (strcmp (key, "compare") == 0)
    {
      if (*value == '\0')
        return fail (error, path, item, "'compare:' needs a scenario name");
      g_free (step->compare);
      step->compare = g_steal_pointer (&value);
    }
  else
    return fail (error, path, item,
                 "unknown step setting '%s' (known: highlight, view, as, compare)", key);
  return TRUE;
}

static gboolean
apply_meta (const char *path, cmark_node *item, TsLesson *self, GError **error)
{
  g_autofree char *key = NULL;
  g_autofree char *value = NULL;
  char **slot = NULL;

  if (!item_key_value (item, &key, &value))
    return fail (error, path, item, "the lesson's metadata list holds only 'key: value' items");
  if (strcmp (key, "scenario") == 0)
    slot = &self->scenario;
  else if (strcmp (key, "capture") == 0)
    slot = &self->capture;
  else if (strcmp (key, "compare") == 0)
    slot = &self->compare;
  else if (strcmp (key, "objectives") == 0)
    slot = &self->objectives;
  else if (strcmp (key, "cites") == 0)
    slot = &self->cites;
  else
    return fail (
        error, path, item,
        "unknown lesson setting '%s' (known: scenario, capture, compare, objectives, cites)", key);
  g_free (*slot);
  *slot = g_steal_pointer (&value);
  return TRUE;
}

static guint
number_from_path (const char *path)
{
  g_autofree char *base = g_path_get_basename (path);

  return g_ascii_isdigit (base[0]) ? (guint)g_ascii_strtoull (base, NULL, 10) : 0;
}

TsLesson *
ts_lesson_new_from_data (const char *path, const char *text, gsize len, GError **error)
{
  g_autoptr (TsLesson) self = NULL;
  cmark_node *doc;
  TsLessonStep *step = NULL;
  GString *narrative = g_string_new (NULL);
  gboolean ok = TRUE;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (text != NULL || len == 0, NULL);

  if (len > TS_LESSON_MAX_SIZE)
    {
      g_string_free (narrative, TRUE);
      fail (error, path, NULL, "the file is %" G_GSIZE_FORMAT " bytes, over the cap of %d", len,
            TS_LESSON_MAX_SIZE);
      return NULL;
    }
  if (!g_utf8_validate (text, (gssize)len, NULL))
    {
      g_string_free (narrative, TRUE);
      fail (error, path, NULL, "the file is not UTF-8");
      return NULL;
    }

  self = g_new0 (TsLesson, 1);
  self->path = g_strdup (path);
  self->number = number_from_path (path);
  self->steps = g_ptr_array_new_with_free_func ((GDestroyNotify)step_free);

  doc = cmark_parse_document (text, len, CMARK_OPT_DEFAULT | CMARK_OPT_SOURCEPOS);
  for (cmark_node *node = cmark_node_first_child (doc); node != NULL && ok;
       node = cmark_node_next (node))
    {
      cmark_node_type type = cmark_node_get_type (node);
      int level = type == CMARK_NODE_HEADING ? cmark_node_get_heading_level (node) : 0;

      if (self->title == NULL)
        {
          if (level != 1)
            ok = fail (error, path, node, "a lesson starts with its title, a '# ' heading");
          else
            {
              self->title = inline_text (node, " ");
              if (cmark_node_next (node) != NULL
                  && is_settings_list (cmark_node_next (node), meta_keys))
                {
                  node = cmark_node_next (node);
                  for (cmark_node *item = cmark_node_first_child (node); item != NULL && ok;
                       item = cmark_node_next (item))
                    ok = apply_meta (path, item, self, error);
                }
            }
          continue;
        }

      if (level == 1)
        {
          ok = fail (error, path, node, "a lesson has one '# ' title; steps are '## ' headings");
          continue;
        }
      if (level == 2)
        {
          if (step != NULL)
            {
              step->narrative = g_strdup (narrative->str);
              g_string_truncate (narrative, 0);
            }
          else
            {
              self->intro = g_strdup (narrative->str);
              g_string_truncate (narrative, 0);
            }
          if (self->steps->len >= TS_LESSON_MAX_STEPS)
            {
              ok = fail (error, path, node, "more than %d steps", TS_LESSON_MAX_STEPS);
              continue;
            }
          step = g_new0 (TsLessonStep, 1);
          step->title = inline_text (node, " ");
          step->line = (guint)cmark_node_get_start_line (node);
          g_ptr_array_add (self->steps, step);
          if (cmark_node_next (node) != NULL
              && is_settings_list (cmark_node_next (node), step_keys))
            {
              node = cmark_node_next (node);
              for (cmark_node *item = cmark_node_first_child (node); item != NULL && ok;
                   item = cmark_node_next (item))
                ok = apply_step_setting (path, item, step, error);
            }
          continue;
        }

      if (type == CMARK_NODE_BLOCK_QUOTE && cmark_node_first_child (node) != NULL
          && cmark_node_get_type (cmark_node_first_child (node)) == CMARK_NODE_PARAGRAPH)
        {
          g_autofree char *first = inline_text (cmark_node_first_child (node), " ");

          if (g_str_has_prefix (first, "Question:"))
            {
              if (step == NULL)
                ok = fail (error, path, node, "a question belongs to a step ('## ' heading)");
              else if (step->question != NULL)
                ok = fail (error, path, node, "a step has at most one question");
              else
                ok = parse_question (path, node, &step->question, error);
              continue;
            }
        }

      {
        g_autofree char *md = render (node);

        if (narrative->len > 0)
          g_string_append_c (narrative, '\n');
        g_string_append (narrative, md);
      }
    }
  cmark_node_free (doc);

  if (ok && step != NULL)
    step->narrative = g_strdup (narrative->str);
  g_string_free (narrative, TRUE);
  if (!ok)
    return NULL;

  if (self->title == NULL)
    {
      fail (error, path, NULL, "the lesson is empty: it needs a '# ' title");
      return NULL;
    }
  if (self->scenario == NULL)
    {
      fail (error, path, NULL, "the lesson names no scenario ('- scenario: NAME' under the title)");
      return NULL;
    }
  if (self->steps->len == 0)
    {
      fail (error, path, NULL, "the lesson has no steps ('## ' headings)");
      return NULL;
    }
  for (guint i = 0; i < self->steps->len; i++)
    {
      TsLessonStep *s = self->steps->pdata[i];

      /* A step's own compare is what its compare view shows: on a step
       * that does not show it, the narrative would talk about a capture
       * the student cannot see. */
      if (s->compare != NULL && s->view != TS_LESSON_VIEW_COMPARE)
        {
          fail (error, path, NULL, "line %u: a step's 'compare: %s' goes with 'view: compare'",
                s->line, s->compare);
          return NULL;
        }
      if (s->view == TS_LESSON_VIEW_COMPARE && s->compare == NULL && self->compare == NULL)
        {
          fail (error, path, NULL,
                "line %u: 'view: compare' needs a '- compare: SCENARIO' setting, on the step or "
                "the lesson",
                s->line);
          return NULL;
        }
      if (s->question != NULL && s->question->from_compare && s->compare == NULL
          && self->compare == NULL)
        {
          fail (error, path, NULL,
                "line %u: 'from-compare:' needs a '- compare: SCENARIO' setting, on the step or "
                "the lesson",
                s->question->line);
          return NULL;
        }
    }
  if (self->capture == NULL)
    self->capture = g_strdup_printf ("captures/%s.pcapng", self->scenario);
  if (self->intro == NULL)
    self->intro = g_strdup ("");
  return g_steal_pointer (&self);
}

const char *
ts_lesson_get_step_compare (const TsLesson *self, guint index)
{
  const TsLessonStep *step;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (index < self->steps->len, NULL);

  step = self->steps->pdata[index];
  return step->compare != NULL ? step->compare : self->compare;
}

char *
ts_lesson_dup_step_compare_capture (const TsLesson *self, guint index)
{
  const char *scenario;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (index < self->steps->len, NULL);

  scenario = ts_lesson_get_step_compare (self, index);
  return scenario != NULL ? g_strdup_printf ("captures/%s.pcapng", scenario) : NULL;
}

TsLesson *
ts_lesson_new_from_file (const char *path, GError **error)
{
  g_autofree char *text = NULL;
  gsize len = 0;
  g_autoptr (GError) local = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  if (!g_file_get_contents (path, &text, &len, &local))
    {
      g_set_error (error, TS_LESSON_ERROR, TS_LESSON_ERROR_IO, "%s", local->message);
      return NULL;
    }
  return ts_lesson_new_from_data (path, text, len, error);
}

static int
compare_paths (gconstpointer a, gconstpointer b)
{
  const char *pa = *(const char *const *)a, *pb = *(const char *const *)b;
  guint na = number_from_path (pa), nb = number_from_path (pb);

  if (na != nb)
    return na < nb ? -1 : 1;
  return strcmp (pa, pb);
}

GPtrArray *
ts_lesson_list_files (const char *dir, GError **error)
{
  g_autoptr (GDir) d = NULL;
  GPtrArray *paths;
  const char *name;

  g_return_val_if_fail (dir != NULL, NULL);

  d = g_dir_open (dir, 0, error);
  if (d == NULL)
    return NULL;
  paths = g_ptr_array_new_with_free_func (g_free);
  while ((name = g_dir_read_name (d)) != NULL)
    if (g_ascii_isdigit (name[0]) && g_str_has_suffix (name, ".md") && strchr (name, '-') != NULL)
      g_ptr_array_add (paths, g_build_filename (dir, name, NULL));
  g_ptr_array_sort (paths, compare_paths);
  return paths;
}

char *
ts_lesson_find_data (const char *name)
{
  const char *env = g_getenv ("TS_DATA_DIR");
  g_autofree char *source = g_build_filename (TS_SOURCE_DIR, name, NULL);

  if (env != NULL && *env != '\0')
    return g_build_filename (env, name, NULL);
  if (g_file_test (source, G_FILE_TEST_EXISTS))
    return g_steal_pointer (&source);
  return g_build_filename (TS_DATADIR, name, NULL);
}
