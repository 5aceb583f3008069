/* test-lesson-golden.c: `tscope lesson 4 --all` prints exactly the stored expectation.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include <glib.h>

static void
test_lesson_4_all (void)
{
  const char *build = g_getenv ("TS_BUILD_DIR") ? g_getenv ("TS_BUILD_DIR") : TS_BUILD_DIR;
  const char *source = g_getenv ("TS_SOURCE_DIR") ? g_getenv ("TS_SOURCE_DIR") : TS_SOURCE_DIR;
  g_autofree char *tscope = g_build_filename (build, "cli", "tscope", NULL);
  g_autofree char *golden_path
      = g_build_filename (source, "tests", "trace", "lesson", "lesson-4-all.golden", NULL);
  g_autofree char *capture = g_build_filename (source, "captures", "connect.pcapng", NULL);
  const char *argv[] = { tscope, "lesson", "4", "--all", NULL };
  g_auto (GStrv) envp = g_get_environ ();
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *golden = NULL;
  g_autoptr (GError) error = NULL;
  int status = -1;

  if (!g_file_test (capture, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("captures/connect.pcapng is not recorded (tscope record connect)");
      return;
    }
  envp = g_environ_setenv (envp, "TZ", "UTC", TRUE);
  envp = g_environ_setenv (envp, "LC_ALL", "C", TRUE);
  g_assert_true (g_spawn_sync (NULL, (char **)argv, envp, G_SPAWN_STDIN_FROM_DEV_NULL, NULL, NULL,
                               &out, &err, &status, &error));
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (err, ==, "");
  g_assert_true (g_file_get_contents (golden_path, &golden, NULL, &error));
  g_assert_no_error (error);
  if (strcmp (out, golden) != 0)
    g_error ("tscope lesson 4 --all differs from %s; if the change is right, run "
             "tests/trace/lesson/regenerate-golden and review the diff",
             golden_path);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ts/lesson/golden/lesson-4-all", test_lesson_4_all);
  return g_test_run ();
}
