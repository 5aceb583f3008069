/* tscope.c: the terminal twin of the app and the lab's driver: dispatches subcommands.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "tscope.h"

typedef struct
{
  const char *name;
  int (*run) (int argc, char **argv);
  const char *synopsis;
  const char *summary;
} TsCommand;

static const TsCommand commands[] = {
  { "list", ts_cmd_list, "[--format json]", "list the built-in scenarios and their topology" },
  { "up", ts_cmd_up, "SCENARIO [--lab NAME] [--set KEY=VALUE]...", "bring a scenario's lab up and leave it running" },
  { "down", ts_cmd_down, "[--lab NAME]", "tear a lab down (and what dead labs left)" },
  { "status", ts_cmd_status, "", "show the labs that run" },
  { "exec", ts_cmd_exec, "[--lab NAME] NODE -- CMD...", "run a command inside a node" },
  { "shell", ts_cmd_shell, "[--lab NAME] NODE", "open a shell inside a node" },
  { "run", ts_cmd_run, "SCENARIO [-o FILE|-] [--set KEY=VALUE]...", "run a scenario, check its expectations, write its trace" },
  { "record", ts_cmd_record, "[--all | SCENARIO...]", "run scenarios and write captures/SCENARIO.pcapng" },
  { "explain", ts_cmd_explain, "TRACE|-", "turn a trace into a timeline and a ladder diagram" },
  { "lesson", ts_cmd_lesson, "[N] [--all]", "list the lessons, or step through one" },
  { "trace-info", ts_cmd_trace_info, "FILE", "summarise a trace: interfaces, packets, secrets, events, damage" },
};

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

static void
print_help (FILE *out)
{
  fprintf (out,
           "Usage: tscope COMMAND [OPTIONS...]\n"
           "\n"
           "Tunnelscope's terminal twin: run the proxy lab, record and explain its traces,\n"
           "and step through the lessons.\n"
           "\n"
           "Commands:\n");
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-11s %s\n", commands[i].name, commands[i].summary);
  fprintf (out,
           "\n"
           "Options:\n"
           "  -h, --help     show this help\n"
           "  --version      show the version\n"
           "\n"
           "'tscope COMMAND --help' shows the options of a command.\n"
           "Exit status: 0 success, 1 the thing asked failed, 2 bad usage.\n");
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  g_set_prgname ("tscope");

  if (argc < 2)
    {
      print_help (stderr);
      return TS_EXIT_USAGE;
    }
  if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0
      || strcmp (argv[1], "help") == 0)
    {
      print_help (stdout);
      return TS_EXIT_OK;
    }
  if (strcmp (argv[1], "--version") == 0)
    {
      printf ("tscope %s\n", PACKAGE_VERSION);
      return TS_EXIT_OK;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (strcmp (argv[1], commands[i].name) == 0)
      {
        g_autofree char *prgname = g_strdup_printf ("tscope %s", commands[i].name);
        g_set_prgname (prgname);
        return commands[i].run (argc - 1, argv + 1);
      }
  ts_cli_error ("unknown command '%s' (see tscope --help)", argv[1]);
  return TS_EXIT_USAGE;
}
