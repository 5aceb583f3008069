/* lab-harness.c: what the lab test programs share (see lab-harness.h).
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <sched.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab-harness.h"

char *tscope;
char *tmp_root;

void
lab_harness_init (void)
{
  const char *build = g_getenv ("TS_BUILD_DIR");

  if (g_getenv ("TSCOPE") != NULL)
    tscope = g_strdup (g_getenv ("TSCOPE"));
  else
    tscope = g_build_filename (build != NULL ? build : TS_BUILD_DIR, "cli", "tscope", NULL);
  /* The subprocess of a test inherits its directory from the parent
   * (run_isolated ()), which removes it whatever the test did. */
  if (g_test_subprocess () && g_getenv ("TS_LAB_TEST_TMP") != NULL)
    tmp_root = g_strdup (g_getenv ("TS_LAB_TEST_TMP"));
}

void
lab_harness_clear (void)
{
  g_clear_pointer (&tmp_root, g_free);
  g_clear_pointer (&tscope, g_free);
}

int
spawn (char **out, char **err, const char *const *argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *o = NULL, *e = NULL;
  int status = 0;

  if (!g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &o, &e, &status,
                     &error))
    {
      g_printerr ("cannot run %s: %s\n", argv[0], error->message);
      return -1;
    }
  if (out != NULL)
    *out = g_steal_pointer (&o);
  if (err != NULL)
    *err = g_steal_pointer (&e);
  else if (e != NULL && e[0] != '\0' && !strstr (argv[0], "tshark"))
    g_printerr ("%s", e);
  if (WIFEXITED (status))
    return WEXITSTATUS (status);
  return 128 + WTERMSIG (status);
}

char *
lab_name (const char *tag)
{
  return g_strdup_printf ("%s%d", tag, (int)(getpid () % 1000));
}

gboolean
lab_possible (char **out_reason)
{
  pid_t pid;
  int status;

  pid = fork ();
  if (pid == 0)
    {
      int flags = CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWPID;
      if (geteuid () != 0)
        flags |= CLONE_NEWUSER;
      _exit (unshare (flags) == 0 ? 0 : 1);
    }
  if (pid < 0 || waitpid (pid, &status, 0) != pid || !WIFEXITED (status)
      || WEXITSTATUS (status) != 0)
    {
      *out_reason = g_strdup (
          geteuid () == 0 ? "root, but namespaces cannot be made here (no CAP_SYS_ADMIN?)"
                          : "not root, and unprivileged user namespaces are not allowed here");
      return FALSE;
    }
  if (!g_file_test ("/usr/bin/tshark", G_FILE_TEST_IS_EXECUTABLE))
    {
      *out_reason = g_strdup ("tshark is not installed");
      return FALSE;
    }
  return TRUE;
}

void
run_isolated (gconstpointer data)
{
  const LabTest *t = data;
  g_autofree char *reason = NULL;
  g_autofree char *rundir = NULL, *xdg = NULL;

  if (g_test_subprocess ())
    {
      t->body (t->data);
      return;
    }
  if (!lab_possible (&reason))
    {
      if (g_strcmp0 (g_getenv ("TS_REQUIRE_LAB"), "1") == 0)
        {
          g_test_fail_printf ("the lab is required (TS_REQUIRE_LAB=1) but impossible here: %s",
                              reason);
          return;
        }
      g_test_skip_printf ("no lab possible: %s", reason);
      return;
    }
  /* A directory of its own for each test: labs, PKI, traces. */
  g_free (tmp_root);
  tmp_root = g_dir_make_tmp ("ts-lab-test-XXXXXX", NULL);
  g_assert_nonnull (tmp_root);
  rundir = g_build_filename (tmp_root, "labs", NULL);
  xdg = g_build_filename (tmp_root, "data", NULL);
  g_setenv ("TS_LAB_TEST_TMP", tmp_root, TRUE);
  g_setenv ("TS_LAB_RUNDIR", rundir, TRUE);
  g_setenv ("XDG_DATA_HOME", xdg, TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  /* Whatever happened: no lab left running, no files left behind. */
  {
    const char *down[] = { tscope, "down", "--all", NULL };
    const char *rm[] = { "rm", "-rf", tmp_root, NULL };
    g_autofree char *out = NULL;

    spawn (&out, NULL, down);
    spawn (NULL, NULL, rm);
  }
  g_test_trap_assert_passed ();
}

void
for_each_record (const char *path, void (*visit) (const TsTraceRecord *rec, gpointer data),
                 gpointer data)
{
  g_autoptr (TsTraceReader) r = ts_trace_reader_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GMappedFile) map = g_mapped_file_new (path, FALSE, &error);
  g_autoptr (GBytes) bytes = NULL;
  TsTraceRecord rec;

  g_assert_no_error (error);
  bytes = g_mapped_file_get_bytes (map);
  ts_trace_reader_feed_bytes (r, bytes);
  while (ts_trace_reader_next (r, &rec, &error) > TS_TRACE_RECORD_NONE)
    visit (&rec, data);
  g_assert_no_error (error);
}
