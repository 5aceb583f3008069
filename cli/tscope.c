/* tscope.c: the terminal twin of the app and the lab's driver: dispatches subcommands.
 *
 * The lab's commands run here; the analyzer's (explain, lesson) run in
 * tscope-analyze, which this program becomes by exec. A lab run starts in
 * milliseconds, and loading cairo, cmark and their dependencies for it
 * would cost two of them.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tscope.h"

typedef struct
{
  const char *name;
  int (*run) (int argc, char **argv); /* NULL: a command of tscope-analyze */
  const char *synopsis;
  const char *summary;
} TsCommand;

static const TsCommand commands[] = {
  { "list", ts_cmd_list, "[--format json]", "list the built-in scenarios and their topology" },
  { "up", ts_cmd_up, "SCENARIO [--lab NAME] [--set KEY=VALUE]...",
    "bring a scenario's lab up and leave it running" },
  { "down", ts_cmd_down, "[--lab NAME]", "tear a lab down (and what dead labs left)" },
  { "status", ts_cmd_status, "", "show the labs that run" },
  { "exec", ts_cmd_exec, "[--lab NAME] NODE -- CMD...", "run a command inside a node" },
  { "shell", ts_cmd_shell, "[--lab NAME] NODE", "open a shell inside a node" },
  { "run", ts_cmd_run, "SCENARIO [-o FILE|-] [--set KEY=VALUE]...",
    "run a scenario, check its expectations, write its trace" },
  { "record", ts_cmd_record, "[--all | SCENARIO...]",
    "run scenarios and write captures/SCENARIO.pcapng" },
  { "explain", NULL, "TRACE|-", "turn a trace into a timeline and a ladder diagram" },
  { "lesson", NULL, "[N] [--all]", "list the lessons, or step through one" },
  { "trace-info", ts_cmd_trace_info, "FILE",
    "summarise a trace: interfaces, packets, secrets, events, damage" },
};

/* Becomes tscope-analyze with the same arguments: the one beside this
 * program in a build directory, else the installed one. Returns only on
 * failure. */
static int
exec_analyze (char **argv)
{
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *dir = self != NULL ? g_path_get_dirname (self) : NULL;
  g_autofree char *beside = dir != NULL ? g_build_filename (dir, "tscope-analyze", NULL) : NULL;
  const char *path = TS_LIBEXECDIR "/tscope-analyze";

  if (beside != NULL && g_file_test (beside, G_FILE_TEST_IS_EXECUTABLE))
    path = beside;
  execv (path, argv);
  ts_cli_error ("cannot run %s: %s", path, g_strerror (errno));
  return TS_EXIT_FAILED;
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
  fprintf (out, "\n"
                "Options:\n"
                "  -h, --help     show this help\n"
                "  --version      show the version\n"
                "\n"
                "'tscope COMMAND --help' shows the options of a command.\n"
                "Exit status: 0 success, 1 the thing asked failed, 2 bad usage,\n"
                "128 + N when signal N interrupted it (130: Ctrl-C).\n");
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

        if (commands[i].run == NULL)
          return exec_analyze (argv);
        g_set_prgname (prgname);
        return commands[i].run (argc - 1, argv + 1);
      }
  ts_cli_error ("unknown command '%s' (see tscope --help)", argv[1]);
  return TS_EXIT_USAGE;
}
