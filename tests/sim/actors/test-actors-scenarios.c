/* test-actors-scenarios.c: the scenario drafts of sim/actors/scenario-drafts parse with
 * the lab's scenario parser and use the actors the way their --help says.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include <string.h>

#include <gio/gio.h>

#include "ts-lab-scenario.h"

static void
test_drafts_parse (void)
{
  g_autofree char *dir
      = g_build_filename (g_getenv ("TS_SOURCE_DIR"), "sim", "actors", "scenario-drafts", NULL);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  guint n = 0;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autoptr (GError) error = NULL;
      g_autoptr (TsLabScenario) sc = NULL;

      if (!g_str_has_suffix (name, ".scenario"))
        continue;
      sc = ts_lab_scenario_new_from_file (path, NULL, &error);
      g_assert_no_error (error);
      g_assert_nonnull (sc);
      /* Each one runs ts-server and checks at least one expectation. */
      g_assert_cmpuint (sc->expects->len, >, 0);
      g_assert_cmpuint (sc->steps->len, >, 0);
      {
        gboolean has_origin = FALSE;
        for (guint i = 0; i < sc->actors->len; i++)
          {
            TsLabActor *a = sc->actors->pdata[i];
            if (strstr (a->command, "ts-server"))
              has_origin = TRUE;
          }
        g_assert_true (has_origin);
      }
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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ts/sim/actors/scenario-drafts/parse", test_drafts_parse);
  return g_test_run ();
}
