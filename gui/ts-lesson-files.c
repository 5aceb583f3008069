/* ts-lesson-files.c: finding lessons and their captures.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "ts-lesson-files.h"

#include <gio/gio.h>

GPtrArray *
ts_lesson_files_load_all (GError **error)
{
  g_autofree char *dir = ts_lesson_find_data ("lessons");
  g_autoptr (GPtrArray) files = ts_lesson_list_files (dir, error);
  g_autoptr (GPtrArray) lessons = NULL;

  if (files == NULL)
    return NULL;
  lessons = g_ptr_array_new_with_free_func ((GDestroyNotify)ts_lesson_free);
  for (guint i = 0; i < files->len; i++)
    {
      TsLesson *lesson = ts_lesson_new_from_file (files->pdata[i], error);
      if (lesson == NULL)
        return NULL;
      g_ptr_array_add (lessons, lesson);
    }
  return g_steal_pointer (&lessons);
}

TsLesson *
ts_lesson_files_load (guint number, GError **error)
{
  g_autofree char *dir = ts_lesson_find_data ("lessons");
  g_autoptr (GPtrArray) files = ts_lesson_list_files (dir, error);

  if (files == NULL)
    return NULL;
  for (guint i = 0; i < files->len; i++)
    {
      g_autofree char *base = g_path_get_basename (files->pdata[i]);
      if (g_ascii_strtoull (base, NULL, 10) == number)
        return ts_lesson_new_from_file (files->pdata[i], error);
    }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "there is no lesson %u in %s", number, dir);
  return NULL;
}

static char *
resolve (const char *relative)
{
  g_autofree char *root = NULL;

  if (g_path_is_absolute (relative))
    return g_strdup (relative);
  root = ts_lesson_find_data ("");
  return g_build_filename (root, relative, NULL);
}

char *
ts_lesson_files_capture_path (const TsLesson *lesson)
{
  g_return_val_if_fail (lesson != NULL, NULL);
  return resolve (lesson->capture);
}

char *
ts_lesson_files_compare_path (const TsLesson *lesson)
{
  g_autofree char *relative = NULL;

  g_return_val_if_fail (lesson != NULL, NULL);
  if (lesson->compare == NULL)
    return NULL;
  relative = g_strdup_printf ("captures/%s.pcapng", lesson->compare);
  return resolve (relative);
}
