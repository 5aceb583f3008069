/* tscope-common.c: what every tscope command shares: errors, option
 * parsing, finding data.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdio.h>

#include "tscope.h"

void
ts_cli_error (const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  fprintf (stderr, "tscope: %s\n", message);
}

gboolean
ts_cli_parse (int *argc, char ***argv, const char *parameter_string, const char *summary,
              const GOptionEntry *entries)
{
  g_autoptr (GOptionContext) context = g_option_context_new (parameter_string);
  g_autoptr (GError) error = NULL;

  g_option_context_set_summary (context, summary);
  if (entries != NULL)
    g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, argc, argv, &error))
    {
      ts_cli_error ("%s (see tscope %s --help)", error->message, (*argv)[0]);
      return FALSE;
    }
  return TRUE;
}

char *
ts_cli_find_data (const char *name)
{
  const char *env = g_getenv ("TS_DATA_DIR");
  g_autofree char *source = g_build_filename (TS_SOURCE_DIR, name, NULL);

  if (env != NULL && *env != '\0')
    return g_build_filename (env, name, NULL);
  if (g_file_test (source, G_FILE_TEST_EXISTS))
    return g_steal_pointer (&source);
  return g_build_filename (TS_DATADIR, name, NULL);
}
