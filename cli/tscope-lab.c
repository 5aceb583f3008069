/* tscope-lab.c: the lab subcommands (list, up, down, status, exec, shell, run, record).
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "ts-lab-engine.h"
#include "ts-lab-error.h"
#include "ts-lab-plan.h"
#include "ts-lab-registry.h"
#include "ts-lab-scenario.h"
#include "tscope.h"

/* Captures shipped in captures/ must stay small. */
#define TS_RECORD_MAX_BYTES (1024 * 1024)

/* A --set or --lab that is wrong is bad usage; anything else, a failure. */
static int
exit_for (const GError *error)
{
  return g_error_matches (error, TS_LAB_ERROR, TS_LAB_ERROR_USAGE) ? TS_EXIT_USAGE : TS_EXIT_FAILED;
}

static TsLabScenario *
load_scenario (const char *name, char **sets, TsLabPlan **out_plan, GError **error)
{
  g_autofree char *path = ts_lab_scenario_find (name, error);
  g_autoptr (TsLabScenario) scenario = NULL;

  if (path == NULL)
    return NULL;
  scenario = ts_lab_scenario_new_from_file (path, (const char *const *)sets, error);
  if (scenario == NULL)
    return NULL;
  if (out_plan != NULL && (*out_plan = ts_lab_plan_new (scenario, error)) == NULL)
    return NULL;
  return g_steal_pointer (&scenario);
}

int
ts_cmd_list (int argc, char **argv)
{
  g_autofree char *format = NULL;
  const GOptionEntry entries[] = {
    { "format", 0, 0, G_OPTION_ARG_STRING, &format, "output format: text (default) or json",
      "FORMAT" },
    { NULL },
  };
  g_autoptr (GPtrArray) paths = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  gboolean json;
  int status = TS_EXIT_OK, width = 16;

  if (!ts_cli_parse (&argc, &argv, "", "List the built-in scenarios with their topology.", entries))
    return TS_EXIT_USAGE;
  if (argc > 1
      || (format != NULL && !g_str_equal (format, "json") && !g_str_equal (format, "text")))
    {
      ts_cli_error ("usage: tscope list [--format text|json]");
      return TS_EXIT_USAGE;
    }
  json = format != NULL && g_str_equal (format, "json");
  paths = ts_lab_scenario_list_builtin ();
  /* The name column is as wide as the longest name (the file's). */
  for (guint i = 0; i < paths->len; i++)
    {
      g_autofree char *base = g_path_get_basename (paths->pdata[i]);
      width = MAX (width, (int)strcspn (base, "."));
    }
  json_builder_begin_array (b);
  for (guint i = 0; i < paths->len; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (TsLabScenario) s = ts_lab_scenario_new_from_file (paths->pdata[i], NULL, &error);
      g_autoptr (TsLabPlan) plan = s != NULL ? ts_lab_plan_new (s, &error) : NULL;

      if (plan == NULL)
        {
          ts_cli_error ("%s", error->message);
          status = TS_EXIT_FAILED;
          continue;
        }
      if (json)
        {
          g_autofree char *text = ts_lab_plan_to_json (plan, NULL, FALSE);
          g_autoptr (JsonNode) node = json_from_string (text, NULL);
          json_object_set_string_member (json_node_get_object (node), "file", paths->pdata[i]);
          json_builder_add_value (b, g_steal_pointer (&node));
        }
      else
        {
          g_autoptr (GString) topo = g_string_new (NULL);
          for (guint k = 0; k < plan->links->len; k++)
            {
              TsLabPlanLink *l = plan->links->pdata[k];
              if (k == 0)
                g_string_append (topo, l->ends[0].node);
              g_string_append_printf (topo, " %s %s", l->wire ? "~~" : "--", l->ends[1].node);
            }
          printf ("%-*s %s\n%-*s %s\n", width, s->name, s->description, width, "", topo->str);
        }
    }
  json_builder_end_array (b);
  if (json)
    {
      g_autoptr (JsonGenerator) gen = json_generator_new ();
      g_autoptr (JsonNode) root = json_builder_get_root (b);
      g_autofree char *text = NULL;
      json_generator_set_root (gen, root);
      json_generator_set_pretty (gen, TRUE);
      text = json_generator_to_data (gen, NULL);
      printf ("%s\n", text);
    }
  return status;
}

static int
run_or_up (int argc, char **argv, TsLabMode mode)
{
  g_autofree char *lab = NULL;
  g_autofree char *output = NULL;
  g_auto (GStrv) sets = NULL;
  gboolean network_only = FALSE, quiet = FALSE;
  const GOptionEntry run_entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
      "write the trace to FILE ('-': standard output; default SCENARIO.pcapng)", "FILE" },
    { "set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &sets,
      "override a scenario value (link.client-proxy.delay=50ms)", "KEY=VALUE" },
    { "lab", 0, 0, G_OPTION_ARG_STRING, &lab, "name the lab (default: the scenario's name)",
      "NAME" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "print no summary", NULL },
    { "network-only", 0, 0, G_OPTION_ARG_NONE, &network_only,
      "bring the network up and down only, no actors (for benchmarks)", NULL },
    { NULL },
  };
  const GOptionEntry up_entries[] = {
    { "lab", 0, 0, G_OPTION_ARG_STRING, &lab, "name the lab (default: the scenario's name)",
      "NAME" },
    { "set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &sets,
      "override a scenario value (link.client-proxy.delay=50ms)", "KEY=VALUE" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
      "capture every link into FILE until tscope down", "FILE" },
    { NULL },
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (TsLabPlan) plan = NULL;
  g_autoptr (TsLabScenario) scenario = NULL;
  g_autofree char *default_output = NULL;
  TsLabOptions options = { 0 };
  int status;

  if (!ts_cli_parse (
          &argc, &argv, "SCENARIO",
          mode == TS_LAB_MODE_UP
              ? "Bring a scenario's lab up and leave it running (tscope down ends it)."
              : "Run a scenario: bring its lab up, run its timeline, check its expectations,\n"
                "write its trace, tear it down. Exit status 0 only if every expectation held;\n"
                "130 (128 + the signal) when interrupted by Ctrl-C (SIGINT), 143 by SIGTERM:\n"
                "the lab is torn down and the expectations are not checked.",
          mode == TS_LAB_MODE_UP ? up_entries : run_entries))
    return TS_EXIT_USAGE;
  if (argc != 2)
    {
      ts_cli_error ("expected one SCENARIO (tscope list shows them)");
      return TS_EXIT_USAGE;
    }
  if (lab != NULL && !ts_lab_registry_check_name (lab, &error))
    {
      ts_cli_error ("--lab: %s", error->message);
      return TS_EXIT_USAGE;
    }
  scenario = load_scenario (argv[1], sets, &plan, &error);
  if (scenario == NULL)
    {
      ts_cli_error ("%s", error->message);
      /* An unknown scenario name or a bad --set is bad usage; a broken
       * scenario file is a failure. */
      if (g_error_matches (error, TS_LAB_ERROR, TS_LAB_ERROR_NOT_FOUND)
          && strchr (argv[1], '/') == NULL)
        return TS_EXIT_USAGE;
      return exit_for (error);
    }
  if (mode == TS_LAB_MODE_RUN && network_only)
    mode = TS_LAB_MODE_NETWORK;
  if (mode == TS_LAB_MODE_RUN && output == NULL)
    output = default_output = NULL, output = g_strdup_printf ("%s.pcapng", scenario->name);
  options.mode = mode;
  options.lab = lab;
  options.trace_path = mode == TS_LAB_MODE_NETWORK ? NULL : output;
  options.quiet = quiet || mode == TS_LAB_MODE_NETWORK;
  status = ts_lab_engine_run (scenario, plan, &options, &error);
  if (error != NULL)
    ts_cli_error ("%s", error->message);
  /* Interrupted (128 + the signal) says so whatever else went wrong. */
  if (error != NULL && status <= 128)
    return exit_for (error);
  return status;
}

int
ts_cmd_up (int argc, char **argv)
{
  return run_or_up (argc, argv, TS_LAB_MODE_UP);
}

int
ts_cmd_run (int argc, char **argv)
{
  return run_or_up (argc, argv, TS_LAB_MODE_RUN);
}

int
ts_cmd_down (int argc, char **argv)
{
  g_autofree char *lab = NULL;
  gboolean all = FALSE;
  const GOptionEntry entries[] = {
    { "lab", 0, 0, G_OPTION_ARG_STRING, &lab, "the lab to stop (default: the only one)", "NAME" },
    { "all", 0, 0, G_OPTION_ARG_NONE, &all, "stop every lab of this user", NULL },
    { NULL },
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) labs = NULL;
  gboolean named_dead = FALSE;
  guint reaped;
  guint stopped = 0;

  if (!ts_cli_parse (&argc, &argv, "", "Tear a lab down, and remove what dead labs left.", entries))
    return TS_EXIT_USAGE;
  if (argc > 1)
    {
      ts_cli_error ("unexpected argument '%s' (tscope down [--lab NAME])", argv[1]);
      return TS_EXIT_USAGE;
    }
  if (lab != NULL && !ts_lab_registry_check_name (lab, &error))
    {
      ts_cli_error ("--lab: %s", error->message);
      return TS_EXIT_USAGE;
    }
  labs = ts_lab_registry_list ();
  for (guint i = 0; lab != NULL && i < labs->len; i++)
    named_dead = named_dead
                 || (!((TsLabInfo *)labs->pdata[i])->alive
                     && g_str_equal (((TsLabInfo *)labs->pdata[i])->name, lab));
  g_clear_pointer (&labs, g_ptr_array_unref);
  reaped = ts_lab_registry_reap ();
  if (reaped > 0)
    printf ("Removed what %u dead lab%s left.\n", reaped, reaped == 1 ? "" : "s");
  labs = ts_lab_registry_list ();
  for (guint i = 0; i < labs->len; i++)
    {
      TsLabInfo *info = labs->pdata[i];
      guint n_alive = 0;
      for (guint k = 0; k < labs->len; k++)
        n_alive += ((TsLabInfo *)labs->pdata[k])->alive;
      if (!info->alive || !(all || (lab != NULL ? g_str_equal (lab, info->name) : n_alive == 1)))
        continue;
      if (!ts_lab_registry_stop (info, 10000, &error))
        {
          ts_cli_error ("%s", error->message);
          return TS_EXIT_FAILED;
        }
      printf ("Lab %s is down.\n", info->name);
      stopped++;
    }
  if (stopped == 0 && lab == NULL && !all)
    {
      guint n_alive = 0;
      for (guint k = 0; k < labs->len; k++)
        n_alive += ((TsLabInfo *)labs->pdata[k])->alive;
      if (n_alive > 1)
        {
          ts_cli_error ("%u labs are running: say which with --lab NAME, or --all", n_alive);
          return TS_EXIT_USAGE;
        }
    }
  if (stopped == 0 && lab != NULL && !named_dead)
    {
      /* The lab asked for is not there: what was asked failed. */
      ts_cli_error ("no running lab named '%s' (tscope status lists them)", lab);
      return TS_EXIT_FAILED;
    }
  if (stopped == 0 && reaped == 0)
    printf ("No lab is running.\n");
  return TS_EXIT_OK;
}

int
ts_cmd_status (int argc, char **argv)
{
  g_autoptr (GPtrArray) labs = NULL;
  int name_w = 16, scenario_w = 16;

  if (!ts_cli_parse (&argc, &argv, "", "Show the labs that run.", NULL))
    return TS_EXIT_USAGE;
  if (argc > 1)
    {
      ts_cli_error ("unexpected argument '%s' (tscope status lists every lab)", argv[1]);
      return TS_EXIT_USAGE;
    }
  labs = ts_lab_registry_list ();
  if (labs->len == 0)
    {
      printf ("No lab is running.\n");
      return TS_EXIT_OK;
    }
  /* Columns as wide as the longest name and scenario. */
  for (guint i = 0; i < labs->len; i++)
    {
      TsLabInfo *info = labs->pdata[i];
      name_w = MAX (name_w, (int)strlen (info->name));
      scenario_w = MAX (scenario_w, info->scenario ? (int)strlen (info->scenario) : 1);
    }
  for (guint i = 0; i < labs->len; i++)
    {
      TsLabInfo *info = labs->pdata[i];
      g_autofree char *nodes = g_strjoinv (" ", info->nodes);
      printf ("%-*s %-8s scenario %-*s supervisor %-8d %s  nodes: %s\n", name_w, info->name,
              info->alive ? "running" : "dead", scenario_w, info->scenario ? info->scenario : "?",
              info->supervisor_pid, info->rootless ? "rootless" : "root", nodes);
    }
  return TS_EXIT_OK;
}

/* Splits argv at "--": options before, the command after. */
static int
split_dashdash (int argc, char **argv)
{
  for (int i = 1; i < argc; i++)
    if (strcmp (argv[i], "--") == 0)
      return i;
  return -1;
}

static int
exec_or_shell (int argc, char **argv, gboolean shell)
{
  g_autofree char *lab = NULL;
  const GOptionEntry entries[] = {
    { "lab", 0, 0, G_OPTION_ARG_STRING, &lab, "the lab (default: the only one that runs)", "NAME" },
    { NULL },
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (TsLabInfo) info = NULL;
  int dd = shell ? -1 : split_dashdash (argc, argv);
  int opt_argc = dd >= 0 ? dd : argc;
  char **cmd = dd >= 0 ? argv + dd + 1 : NULL;
  int status;

  if (!ts_cli_parse (&opt_argc, &argv, shell ? "NODE" : "NODE -- COMMAND...",
                     shell ? "Open an interactive shell inside a node of a running lab."
                           : "Run a command inside a node of a running lab.",
                     entries))
    return TS_EXIT_USAGE;
  if (opt_argc != 2 || (!shell && (cmd == NULL || cmd[0] == NULL)))
    {
      ts_cli_error (shell ? "usage: tscope shell [--lab NAME] NODE"
                          : "usage: tscope exec [--lab NAME] NODE -- COMMAND...");
      return TS_EXIT_USAGE;
    }
  info = ts_lab_registry_find (lab, &error);
  if (info == NULL)
    {
      ts_cli_error ("%s", error->message);
      return TS_EXIT_FAILED;
    }
  status = ts_lab_registry_exec (info, argv[1], cmd, &error);
  if (status < 0)
    {
      ts_cli_error ("%s", error->message);
      return TS_EXIT_FAILED;
    }
  return status;
}

int
ts_cmd_exec (int argc, char **argv)
{
  return exec_or_shell (argc, argv, FALSE);
}

int
ts_cmd_shell (int argc, char **argv)
{
  return exec_or_shell (argc, argv, TRUE);
}

int
ts_cmd_record (int argc, char **argv)
{
  gboolean all = FALSE;
  g_autofree char *dir = NULL;
  const GOptionEntry entries[] = {
    { "all", 0, 0, G_OPTION_ARG_NONE, &all, "every built-in scenario", NULL },
    { "dir", 0, 0, G_OPTION_ARG_FILENAME, &dir,
      "where to write (default: captures/ in the source tree)", "DIR" },
    { NULL },
  };
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  int status = TS_EXIT_OK;

  if (!ts_cli_parse (&argc, &argv, "[--all | SCENARIO...]",
                     "Run scenarios and write captures/SCENARIO.pcapng.", entries))
    return TS_EXIT_USAGE;
  if (all == (argc > 1))
    {
      ts_cli_error ("usage: tscope record [--all | SCENARIO...]");
      return TS_EXIT_USAGE;
    }
  if (dir == NULL)
    dir = g_build_filename (TS_SOURCE_DIR, "captures", NULL);
  if (all)
    {
      g_autoptr (GPtrArray) paths = ts_lab_scenario_list_builtin ();
      for (guint i = 0; i < paths->len; i++)
        {
          g_autofree char *base = g_path_get_basename (paths->pdata[i]);
          base[strlen (base) - strlen (".scenario")] = '\0';
          g_ptr_array_add (names, g_steal_pointer (&base));
        }
    }
  else
    for (int i = 1; i < argc; i++)
      g_ptr_array_add (names, g_strdup (argv[i]));
  g_mkdir_with_parents (dir, 0755);
  for (guint i = 0; i < names->len; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (TsLabPlan) plan = NULL;
      g_autoptr (TsLabScenario) scenario = load_scenario (names->pdata[i], NULL, &plan, &error);
      g_autofree char *file = NULL;
      g_autofree char *path = NULL;
      TsLabOptions options = { 0 };
      struct stat st;
      int rc;

      if (scenario == NULL)
        {
          ts_cli_error ("%s", error->message);
          status = TS_EXIT_FAILED;
          continue;
        }
      file = g_strdup_printf ("%s.pcapng", scenario->name);
      path = g_build_filename (dir, file, NULL);
      options.mode = TS_LAB_MODE_RUN;
      options.trace_path = path;
      options.quiet = TRUE;
      rc = ts_lab_engine_run (scenario, plan, &options, &error);
      if (error != NULL || rc != 0)
        {
          ts_cli_error ("%s: %s", scenario->name,
                        error != NULL ? error->message
                                      : "an expectation failed (tscope run shows which)");
          status = TS_EXIT_FAILED;
          continue;
        }
      if (stat (path, &st) == 0 && st.st_size > TS_RECORD_MAX_BYTES)
        {
          ts_cli_error ("%s: %s is %lld bytes, over the %d-byte limit for shipped captures",
                        scenario->name, path, (long long)st.st_size, TS_RECORD_MAX_BYTES);
          status = TS_EXIT_FAILED;
          continue;
        }
      printf ("%s: %s (%lld bytes)\n", scenario->name, path, (long long)st.st_size);
    }
  return status;
}
