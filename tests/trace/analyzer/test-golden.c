/* test-golden.c: every trace in captures/ renders to the text ladder stored
 * in tests/trace/analyzer/golden/NAME.txt (80 columns; and NAME.120.txt at
 * 120 when present). Regenerate with tests/trace/analyzer/update-golden.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "ts-analyzer.h"
#include "ts-timeline-render.h"

static char *
render (const char *path, guint width)
{
  g_autoptr (TsAnalyzer) an = ts_analyzer_new ();
  g_autofree char *data = NULL;
  gsize len = 0;
  g_autoptr (GError) error = NULL;
  TsRenderOptions o = { width, -1, NULL, FALSE };

  g_assert_true (g_file_get_contents (path, &data, &len, &error));
  (void)ts_analyzer_feed (an, (const guint8 *)data, len, NULL);
  (void)ts_analyzer_finish (an, NULL);
  /* The same title as `tscope explain`: the scenario, else the path given. */
  o.title = ts_analyzer_get_scenario (an) ? ts_analyzer_get_scenario (an) : path;
  return ts_timeline_render_text (ts_analyzer_get_timeline (an), &o);
}

static void
test_golden (void)
{
  g_autofree char *dir = g_build_filename (TS_SOURCE_DIR, "captures", NULL);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  guint n = 0;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *base = NULL, *path = NULL;

      if (!g_str_has_suffix (name, ".pcapng"))
        continue;
      base = g_strndup (name, strlen (name) - strlen (".pcapng"));
      path = g_build_filename (dir, name, NULL);
      for (guint w = 0; w < 2; w++)
        {
          guint width = w == 0 ? 80 : 120;
          g_autofree char *gname = g_strdup_printf ("%s%s.txt", base, w == 0 ? "" : ".120");
          g_autofree char *golden = g_build_filename (TS_SOURCE_DIR, "tests", "trace", "analyzer",
                                                      "golden", gname, NULL);
          g_autofree char *expected = NULL, *actual = NULL;

          if (!g_file_get_contents (golden, &expected, NULL, NULL))
            {
              if (w == 0)
                g_test_message (
                    "%s has no golden text yet (run tests/trace/analyzer/update-golden)", name);
              continue;
            }
          actual = render (path, width);
          if (strcmp (actual, expected) != 0)
            {
              g_autofree char *tmp = g_build_filename (g_get_tmp_dir (), gname, NULL);
              g_file_set_contents (tmp, actual, -1, NULL);
              g_error ("%s at %u columns differs from %s (got %s; diff them, or regenerate with "
                       "tests/trace/analyzer/update-golden)",
                       name, width, golden, tmp);
            }
          n++;
        }
    }
  if (n == 0)
    g_test_skip ("no trace in captures/ with a golden text yet");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ts/trace/analyzer/golden", test_golden);
  return g_test_run ();
}
