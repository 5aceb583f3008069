/* tscope.h: the subcommands of tscope, the terminal twin and lab driver.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each subcommand gets argv with argv[0] set to its own name and returns the
 * exit status: 0 success, 1 the thing asked failed, 2 bad usage. Errors are
 * printed as "tscope: what went wrong (file:line where there is one)". */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define TS_EXIT_OK 0
#define TS_EXIT_FAILED 1
#define TS_EXIT_USAGE 2

/* tscope-trace-info.c */
int ts_cmd_trace_info (int argc, char **argv);
/* tscope-lab.c */
int ts_cmd_list (int argc, char **argv);
int ts_cmd_up (int argc, char **argv);
int ts_cmd_down (int argc, char **argv);
int ts_cmd_status (int argc, char **argv);
int ts_cmd_exec (int argc, char **argv);
int ts_cmd_shell (int argc, char **argv);
int ts_cmd_run (int argc, char **argv);
int ts_cmd_record (int argc, char **argv);
/* tscope-explain.c */
int ts_cmd_explain (int argc, char **argv);
/* tscope-lesson.c */
int ts_cmd_lesson (int argc, char **argv);

/* Prints "tscope: MESSAGE\n" to standard error. */
void ts_cli_error (const char *format, ...) G_GNUC_PRINTF (1, 2);

/* Parses @entries for a subcommand; on bad usage prints the error and returns
 * FALSE. @parameter_string and @summary go into its --help. */
gboolean ts_cli_parse (int *argc, char ***argv, const char *parameter_string, const char *summary,
                       const GOptionEntry *entries);

G_END_DECLS
