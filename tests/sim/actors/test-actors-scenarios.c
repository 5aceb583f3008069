/* test-actors-scenarios.c: the scenario drafts of sim/actors/scenario-drafts parse with the
 * lab's parser, and, where one node's loopback can stand for their topology, their actors
 * and steps run as written in a private network namespace and meet their expectations.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include <string.h>
#include <unistd.h>

#include <gio/gio.h>

#include "actors-fixture.h"
#include "ts-lab-scenario.h"

static char *
drafts_dir (void)
{
  return g_build_filename (g_getenv ("TS_SOURCE_DIR"), "sim", "actors", "scenario-drafts", NULL);
}

static void
test_drafts_parse (void)
{
  g_autofree char *dir = drafts_dir ();
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  guint n = 0;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autoptr (GError) error = NULL;
      g_autoptr (TsLabScenario) sc = NULL;
      gboolean has_origin = FALSE;

      if (!g_str_has_suffix (name, ".scenario"))
        continue;
      sc = ts_lab_scenario_new_from_file (path, NULL, &error);
      g_assert_no_error (error);
      g_assert_nonnull (sc);
      /* Each one runs ts-server and checks at least one expectation. */
      g_assert_cmpuint (sc->expects->len, >, 0);
      g_assert_cmpuint (sc->steps->len, >, 0);
      for (guint i = 0; i < sc->actors->len; i++)
        {
          TsLabActor *a = sc->actors->pdata[i];
          if (strstr (a->command, "ts-server"))
            has_origin = TRUE;
        }
      g_assert_true (has_origin);
      /* Every client step parses as a shell command line. */
      for (guint i = 0; i < sc->steps->len; i++)
        {
          TsLabStep *s = sc->steps->pdata[i];
          g_auto (GStrv) argv = NULL;
          g_assert_true (g_shell_parse_argv (s->command, NULL, &argv, NULL));
          g_assert_cmpstr (argv[0], ==, "ts-client");
        }
      n++;
    }
  g_assert_cmpuint (n, ==, 12);
}

/* ---- a dry run on one loopback -------------------------------------------------------------- */

/* Scenarios whose point is their topology cannot run on one loopback:
 * direct-blocked needs a route that goes nowhere, connect-chain two proxies
 * on the same port. */
static const char *const needs_topology[] = { "direct-blocked", "connect-chain", NULL };

static void
skip_or_fail (const char *why)
{
  if (g_strcmp0 (g_getenv ("TS_REQUIRE_LAB"), "1") == 0)
    g_error ("TS_REQUIRE_LAB=1: %s", why);
  g_test_skip (why);
}

static char *
dir_of (const char *program_env)
{
  return g_path_get_dirname (actors_fixture_program (program_env));
}

/* The bash script that runs @sc in a fresh network and mount namespace:
 * loopback up, our hosts file over /etc/hosts, each actor in the
 * background (then waiting for its ready port), each step with its output
 * and exit status kept in @dir. */
static char *
dry_run_script (ActorsFixture *f, TsLabScenario *sc, const char *dir)
{
  g_autoptr (GString) s = g_string_new ("set -u\n");
  g_autofree char *hosts = g_build_filename (dir, "hosts", NULL);
  g_autofree char *server_dir = dir_of ("TS_SERVER");
  g_autofree char *client_dir = dir_of ("TS_CLIENT");
  g_autofree char *proxy_dir = dir_of ("TS_PROXY");

  g_assert_true (g_file_set_contents (
      hosts,
      "127.0.0.1 localhost example.com www.example.com proxy.test proxy client.test client "
      "server.test server\n",
      -1, NULL));
  g_string_append (s, "trap 'kill $(jobs -p) 2>/dev/null; wait' EXIT\n"
                      "ip link set lo up || exit 97\n");
  g_string_append_printf (s, "mount --bind '%s' /etc/hosts || exit 98\n", hosts);
  g_string_append_printf (s,
                          "export PATH='%s:%s:%s':\"$PATH\" TS_LAB=drafts TS_PKI_DIR='%s' "
                          "TS_WEB_CA='%s' TS_INTERCEPT_CA='%s' SSLKEYLOGFILE='%s' TS_EVENTS='%s'\n",
                          server_dir, client_dir, proxy_dir, f->pki.dir, f->pki.web_ca_cert,
                          f->pki.intercept_ca_cert, f->keylog, f->events);
  for (guint i = 0; i < sc->actors->len; i++)
    {
      TsLabActor *a = sc->actors->pdata[i];
      g_autofree char *cmd_path = g_strdup_printf ("%s/actor-%s.sh", dir, a->name);
      g_autofree char *cmd = NULL;

      /* ts-proxy refuses loopback targets unless told, and here the origin
       * is on loopback: the one change from the scenario as written. */
      if (strstr (a->command, "ts-proxy"))
        cmd = g_strconcat (a->command, " --allow-loopback-targets\n", NULL);
      else
        cmd = g_strconcat (a->command, "\n", NULL);
      g_assert_true (g_file_set_contents (cmd_path, cmd, -1, NULL));
      g_string_append_printf (s, "TS_NODE='%s' sh '%s' > '%s/actor-%s.log' 2>&1 &\n", a->node,
                              cmd_path, dir, a->name);
      if (a->ready_port)
        g_string_append_printf (s,
                                "for i in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/%u) "
                                "2>/dev/null && break; sleep 0.05; done\n",
                                a->ready_port);
    }
  for (guint i = 0; i < sc->steps->len; i++)
    {
      TsLabStep *st = sc->steps->pdata[i];
      g_autofree char *cmd_path = g_strdup_printf ("%s/step-%s.sh", dir, st->name);
      g_autofree char *cmd = g_strconcat (st->command, "\n", NULL);

      g_assert_true (g_file_set_contents (cmd_path, cmd, -1, NULL));
      g_string_append_printf (s,
                              "TS_NODE='%s' timeout 60 sh '%s' > '%s/step-%s.out' 2>&1; "
                              "echo $? > '%s/step-%s.rc'\n",
                              st->node, cmd_path, dir, st->name, dir, st->name);
    }
  g_string_append (s, "sleep 0.2\n");
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static void
check_expectations (ActorsFixture *f, TsLabScenario *sc, const char *dir)
{
  g_autofree char *events = NULL;

  g_file_get_contents (f->events, &events, NULL, NULL);
  for (guint i = 0; i < sc->expects->len; i++)
    {
      TsLabExpect *x = sc->expects->pdata[i];

      if (x->step)
        {
          g_autofree char *out_path = g_strdup_printf ("%s/step-%s.out", dir, x->step);
          g_autofree char *rc_path = g_strdup_printf ("%s/step-%s.rc", dir, x->step);
          g_autofree char *out = NULL;
          g_autofree char *rc_text = NULL;
          int rc;

          g_assert_true (g_file_get_contents (out_path, &out, NULL, NULL));
          g_assert_true (g_file_get_contents (rc_path, &rc_text, NULL, NULL));
          rc = atoi (rc_text);
          if ((x->exit_rule == TS_LAB_EXIT_ZERO && rc != 0)
              || (x->exit_rule == TS_LAB_EXIT_NONZERO && rc == 0)
              || (x->exit_rule == TS_LAB_EXIT_CODE && rc != x->exit_code)
              || (x->output_contains && strstr (out, x->output_contains) == NULL)
              || (x->output_lacks && strstr (out, x->output_lacks) != NULL))
            g_error ("%s: expect %s (%s) does not hold: exit %d, output:\n%s", sc->name, x->name,
                     x->description, rc, out);
        }
      if (x->event)
        {
          g_autofree char *needle
              = g_strdup_printf (" %s %s", x->event_node ? x->event_node : "", x->event);
          gboolean seen = events
                          && (x->event_node ? strstr (events, needle) != NULL
                                            : strstr (events, x->event) != NULL);
          if (seen == x->event_absent)
            g_error ("%s: expect %s (%s) does not hold: event %s %s; events:\n%s", sc->name,
                     x->name, x->description, x->event, seen ? "present" : "absent",
                     events ? events : "(none)");
        }
    }
}

static void
test_drafts_run (void)
{
  g_autofree char *dir = drafts_dir ();
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  guint n_run = 0;

  if (g_getenv ("TS_PROXY") == NULL)
    {
      skip_or_fail ("ts-proxy is not built");
      return;
    }
  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autofree char *base = NULL;
      g_autofree char *script = NULL;
      g_autoptr (TsLabScenario) sc = NULL;
      g_autoptr (GError) error = NULL;
      ActorsFixture f = { 0 };
      int rc;

      if (!g_str_has_suffix (name, ".scenario"))
        continue;
      base = g_strndup (name, strlen (name) - strlen (".scenario"));
      if (g_strv_contains (needs_topology, base))
        continue;
      sc = ts_lab_scenario_new_from_file (path, NULL, &error);
      g_assert_no_error (error);

      f.tmpdir = g_dir_make_tmp ("ts-actors-drafts-XXXXXX", &error);
      g_assert_no_error (error);
      {
        g_autofree char *pki_dir = g_build_filename (f.tmpdir, "pki", NULL);
        g_assert_true (ts_lab_pki_ensure (pki_dir, &f.pki, &error));
      }
      f.events = g_build_filename (f.tmpdir, "events.log", NULL);
      f.keylog = g_build_filename (f.tmpdir, "keylog.txt", NULL);
      f.procs = g_ptr_array_new_with_free_func (g_object_unref);
      script = dry_run_script (&f, sc, f.tmpdir);
      {
        /* A user namespace makes it work without root (ports below 1024,
         * the bind mount). A new PID namespace: when the script ends, or
         * this test is killed, every actor it started goes with it. Its own
         * /proc, so that LeakSanitizer finds its threads. */
        const char *argv[] = { "unshare",
                               "--user",
                               "--map-root-user",
                               "--net",
                               "--mount",
                               "--pid",
                               "--fork",
                               "--mount-proc",
                               "--kill-child",
                               "--",
                               "bash",
                               "-c",
                               script,
                               NULL };
        g_autofree char *err = NULL;
        rc = actors_fixture_run (&f, argv, NULL, &err);
        if (rc == 97 || rc == 98 || (rc != 0 && n_run == 0 && strstr (err, "unshare")))
          {
            g_autofree char *why = g_strdup_printf ("no private network namespace here: %s", err);
            actors_fixture_teardown (&f, NULL);
            skip_or_fail (why);
            return;
          }
      }
      g_test_message ("dry run of %s", base);
      check_expectations (&f, sc, f.tmpdir);
      actors_fixture_teardown (&f, NULL);
      n_run++;
    }
  g_assert_cmpuint (n_run, ==, 10);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ts/sim/actors/scenario-drafts/parse", test_drafts_parse);
  g_test_add_func ("/ts/sim/actors/scenario-drafts/loopback-dry-run", test_drafts_run);
  return g_test_run ();
}
