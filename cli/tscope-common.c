/* tscope-common.c: what every tscope command shares: errors, option
 * parsing.
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
