/* tscope-analyze.c: the analyzer's commands of tscope (explain, lesson),
 * which tscope runs by exec so that the lab's commands need not load what
 * the analyzer links (cairo, cmark). "tscope-analyze COMMAND ARGS..." is
 * "tscope COMMAND ARGS...".
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "tscope.h"

static const struct
{
  const char *name;
  int (*run) (int argc, char **argv);
} commands[] = {
  { "explain", ts_cmd_explain },
  { "lesson", ts_cmd_lesson },
};

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  g_set_prgname ("tscope");

  for (gsize i = 0; argc >= 2 && i < G_N_ELEMENTS (commands); i++)
    if (strcmp (argv[1], commands[i].name) == 0)
      {
        g_autofree char *prgname = g_strdup_printf ("tscope %s", commands[i].name);
        g_set_prgname (prgname);
        return commands[i].run (argc - 1, argv + 1);
      }
  ts_cli_error ("tscope-analyze runs 'explain' and 'lesson' for tscope (see tscope --help)");
  return TS_EXIT_USAGE;
}
