/* ts-settings.c: the app's preferences in a GKeyFile under the XDG config directory.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "ts-settings.h"

#include <errno.h>

#include <glib/gstdio.h>

char *
ts_settings_get_path (void)
{
  return g_build_filename (g_get_user_config_dir (), "tunnelscope", "settings.ini", NULL);
}

static GKeyFile *
load (const char *path)
{
  GKeyFile *file = g_key_file_new ();

  /* A damaged file is the defaults, not an error in the user's way. */
  g_key_file_load_from_file (file, path, G_KEY_FILE_KEEP_COMMENTS, NULL);
  return file;
}

gboolean
ts_settings_get_large_text (void)
{
  g_autofree char *path = ts_settings_get_path ();
  g_autoptr (GKeyFile) file = load (path);

  return g_key_file_get_boolean (file, "view", "large-text", NULL);
}

gboolean
ts_settings_set_large_text (gboolean large, GError **error)
{
  g_autofree char *path = ts_settings_get_path ();
  g_autofree char *dir = g_path_get_dirname (path);
  g_autoptr (GKeyFile) file = load (path);

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int e = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e), "cannot create %s: %s", dir,
                   g_strerror (e));
      return FALSE;
    }
  g_key_file_set_boolean (file, "view", "large-text", large);
  return g_key_file_save_to_file (file, path, error);
}
