/* ts-lesson-progress.c: lesson progress in a GKeyFile under the XDG data directory.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "ts-lesson-progress.h"

#include <errno.h>

#include <glib/gstdio.h>

/* Cap: answered steps kept per lesson (lessons have at most
 * TS_LESSON_MAX_STEPS steps). */
#define MAX_ANSWERED 200

struct _TsLessonProgress
{
  char *path;
  GKeyFile *file;
};

TsLessonProgress *
ts_lesson_progress_new (const char *path)
{
  TsLessonProgress *self = g_new0 (TsLessonProgress, 1);

  self->path = path
                   ? g_strdup (path)
                   : g_build_filename (g_get_user_data_dir (), "tunnelscope", "progress.ini", NULL);
  self->file = g_key_file_new ();
  /* A damaged file is a fresh start, not an error in the student's way. */
  g_key_file_load_from_file (self->file, self->path, G_KEY_FILE_KEEP_COMMENTS, NULL);
  return self;
}

void
ts_lesson_progress_free (TsLessonProgress *self)
{
  if (self == NULL)
    return;
  g_key_file_free (self->file);
  g_free (self->path);
  g_free (self);
}

const char *
ts_lesson_progress_get_path (TsLessonProgress *self)
{
  return self->path;
}

static char *
group (guint number)
{
  return g_strdup_printf ("lesson %u", number);
}

gboolean
ts_lesson_progress_has (TsLessonProgress *self, guint number)
{
  g_autofree char *g = group (number);

  return g_key_file_has_group (self->file, g);
}

static guint
get_uint (TsLessonProgress *self, guint number, const char *key)
{
  g_autofree char *g = group (number);
  int v = g_key_file_get_integer (self->file, g, key, NULL);

  return v > 0 ? (guint)v : 0;
}

guint
ts_lesson_progress_get_step (TsLessonProgress *self, guint number)
{
  return get_uint (self, number, "step");
}

guint
ts_lesson_progress_get_reached (TsLessonProgress *self, guint number)
{
  return get_uint (self, number, "reached");
}

static int *
answered (TsLessonProgress *self, guint number, gsize *out_n)
{
  g_autofree char *g = group (number);
  int *list = g_key_file_get_integer_list (self->file, g, "answered", out_n, NULL);

  if (list == NULL)
    *out_n = 0;
  return list;
}

gboolean
ts_lesson_progress_is_answered (TsLessonProgress *self, guint number, guint step)
{
  gsize n;
  g_autofree int *list = answered (self, number, &n);

  for (gsize i = 0; i < n; i++)
    if (list[i] == (int)step)
      return TRUE;
  return FALSE;
}

guint
ts_lesson_progress_get_n_answered (TsLessonProgress *self, guint number)
{
  gsize n;
  g_autofree int *list = answered (self, number, &n);

  return (guint)n;
}

static gboolean
save (TsLessonProgress *self, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (self->path);

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "cannot create %s: %s",
                   dir, g_strerror (saved));
      return FALSE;
    }
  return g_key_file_save_to_file (self->file, self->path, error);
}

gboolean
ts_lesson_progress_set_step (TsLessonProgress *self, guint number, guint step, GError **error)
{
  g_autofree char *g = group (number);

  if (ts_lesson_progress_has (self, number) && ts_lesson_progress_get_step (self, number) == step
      && ts_lesson_progress_get_reached (self, number) >= step)
    return TRUE;
  g_key_file_set_integer (self->file, g, "step", (int)step);
  if (!g_key_file_has_key (self->file, g, "reached", NULL)
      || ts_lesson_progress_get_reached (self, number) < step)
    g_key_file_set_integer (self->file, g, "reached", (int)step);
  return save (self, error);
}

gboolean
ts_lesson_progress_set_answered (TsLessonProgress *self, guint number, guint step, GError **error)
{
  g_autofree char *g = group (number);
  gsize n;
  g_autofree int *list = answered (self, number, &n);
  g_autofree int *more = NULL;

  if (ts_lesson_progress_is_answered (self, number, step) || n >= MAX_ANSWERED)
    return TRUE;
  more = g_new (int, n + 1);
  for (gsize i = 0; i < n; i++)
    more[i] = list[i];
  more[n] = (int)step;
  g_key_file_set_integer_list (self->file, g, "answered", more, n + 1);
  if (!g_key_file_has_key (self->file, g, "reached", NULL))
    {
      g_key_file_set_integer (self->file, g, "step", (int)step);
      g_key_file_set_integer (self->file, g, "reached", (int)step);
    }
  return save (self, error);
}
