/* actors-fixture.c: test processes on loopback, ended by PID in teardown.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "actors-fixture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

const char *
actors_fixture_program (const char *env_name)
{
  const char *path = g_getenv (env_name);

  g_assert_nonnull (path);
  return path;
}

/* Runs in the child between fork and exec. When an assertion aborts the
 * test, teardown does not run: the kernel then ends the children instead. */
static void
child_setup (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

GSubprocessLauncher *
actors_fixture_launcher (ActorsFixture *f, const char *node, GSubprocessFlags flags)
{
  GSubprocessLauncher *l = g_subprocess_launcher_new (flags);
  static const char *const proxy_vars[]
      = { "http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
          "all_proxy",  "no_proxy",    "NO_PROXY",   NULL };

  for (guint i = 0; proxy_vars[i]; i++)
    g_subprocess_launcher_unsetenv (l, proxy_vars[i]);
  g_subprocess_launcher_setenv (l, "TS_LAB", "test", TRUE);
  g_subprocess_launcher_setenv (l, "TS_NODE", node, TRUE);
  g_subprocess_launcher_setenv (l, "TS_EVENTS", f->events, TRUE);
  g_subprocess_launcher_setenv (l, "SSLKEYLOGFILE", f->keylog, TRUE);
  g_subprocess_launcher_setenv (l, "TS_PKI_DIR", f->pki.dir, TRUE);
  g_subprocess_launcher_setenv (l, "TS_WEB_CA", f->pki.web_ca_cert, TRUE);
  g_subprocess_launcher_setenv (l, "TS_INTERCEPT_CA", f->pki.intercept_ca_cert, TRUE);
  g_subprocess_launcher_set_cwd (l, f->tmpdir);
  g_subprocess_launcher_set_child_setup (l, child_setup, NULL, NULL);
  return l;
}

GSubprocess *
actors_fixture_spawn (ActorsFixture *f, const char *node, const char *const *argv)
{
  /* Output goes to files, so a chatty helper never blocks on a full pipe;
   * the server's standard output is a pipe for its "listening" line. */
  gboolean is_server = strcmp (node, "server") == 0;
  g_autoptr (GSubprocessLauncher) l = actors_fixture_launcher (
      f, node, is_server ? G_SUBPROCESS_FLAGS_STDOUT_PIPE : G_SUBPROCESS_FLAGS_NONE);
  g_autoptr (GError) error = NULL;
  g_autofree char *out_path = g_strdup_printf ("%s/%s.out", f->tmpdir, node);
  g_autofree char *err_path = g_strdup_printf ("%s/%s.err", f->tmpdir, node);
  GSubprocess *p;

  if (!is_server)
    g_subprocess_launcher_set_stdout_file_path (l, out_path);
  g_subprocess_launcher_set_stderr_file_path (l, err_path);
  p = g_subprocess_launcher_spawnv (l, argv, &error);

  g_assert_no_error (error);
  g_ptr_array_add (f->procs, p); /* the array holds the reference */
  return p;
}

static int
parse_port (const char *line, const char *service)
{
  g_autofree char *key = g_strdup_printf (" %s=", service);
  const char *p = strstr (line, key);
  const char *colon;

  g_assert_nonnull (p);
  p += strlen (key);
  colon = strchr (p, ' ');
  colon = colon ? colon : p + strlen (p);
  while (colon > p && colon[-1] != ':')
    colon--;
  return atoi (colon);
}

void
actors_fixture_setup_with (ActorsFixture *f, const char *const *extra_args)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GDataInputStream) in = NULL;
  g_autofree char *line = NULL;

  f->tmpdir = g_dir_make_tmp ("ts-actors-XXXXXX", &error);
  g_assert_no_error (error);
  {
    g_autofree char *pki_dir = g_build_filename (f->tmpdir, "pki", NULL);
    g_assert_true (ts_lab_pki_ensure (pki_dir, &f->pki, &error));
    g_assert_no_error (error);
  }
  f->events = g_build_filename (f->tmpdir, "events.log", NULL);
  f->keylog = g_build_filename (f->tmpdir, "keylog.txt", NULL);
  f->procs = g_ptr_array_new_with_free_func (g_object_unref);

  g_ptr_array_add (argv, (char *)actors_fixture_program ("TS_SERVER"));
  g_ptr_array_add (argv, "--listen=127.0.0.1");
  g_ptr_array_add (argv, "--http-port=0");
  g_ptr_array_add (argv, "--https-port=0");
  g_ptr_array_add (argv, "--smtp-port=0");
  g_ptr_array_add (argv, "--udp-echo-port=0");
  g_ptr_array_add (argv, "--dns-port=0");
  g_ptr_array_add (argv, "--cert");
  g_ptr_array_add (argv, f->pki.server_cert);
  g_ptr_array_add (argv, "--key");
  g_ptr_array_add (argv, f->pki.server_key);
  g_ptr_array_add (argv, "--no-hosts-file");
  g_ptr_array_add (argv, "--dns-record=example.com=192.0.2.10");
  g_ptr_array_add (argv, "--dns-record=example.com=2001:db8::10");
  g_ptr_array_add (argv, "--dns-record=www.example.com=192.0.2.11");
  for (guint i = 0; extra_args && extra_args[i]; i++)
    g_ptr_array_add (argv, (char *)extra_args[i]);
  g_ptr_array_add (argv, NULL);

  f->server = g_object_ref (actors_fixture_spawn (f, "server", (const char *const *)argv->pdata));
  in = g_data_input_stream_new (g_subprocess_get_stdout_pipe (f->server));
  line = g_data_input_stream_read_line_utf8 (in, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  g_assert_true (g_str_has_prefix (line, "ts-server: listening"));
  f->http_port = parse_port (line, "http");
  f->https_port = parse_port (line, "https");
  f->smtp_port = parse_port (line, "smtp");
  f->udp_port = parse_port (line, "udp-echo");
  f->dns_port = parse_port (line, "dns");
  g_assert_cmpint (f->https_port, >, 0);
}

void
actors_fixture_setup (ActorsFixture *f, gconstpointer data)
{
  actors_fixture_setup_with (f, NULL);
}

static void
wait_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  gboolean *done = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  *done = TRUE;
}

void
actors_fixture_end (GSubprocess *p)
{
  gint64 end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  gboolean done = FALSE;

  /* By PID, never by name: only what this test started. */
  g_subprocess_send_signal (p, SIGTERM);
  g_subprocess_wait_async (p, NULL, wait_done_cb, &done);
  while (!done && g_get_monotonic_time () < end)
    {
      if (!g_main_context_iteration (NULL, FALSE))
        g_usleep (10 * 1000);
    }
  if (!done)
    {
      g_subprocess_force_exit (p);
      while (!done)
        g_main_context_iteration (NULL, TRUE);
    }
}

void
actors_fixture_teardown (ActorsFixture *f, gconstpointer data)
{
  gboolean server_died = f->server && g_subprocess_get_identifier (f->server) == NULL;

  for (guint i = 0; f->procs && i < f->procs->len; i++)
    actors_fixture_end (f->procs->pdata[i]);
  /* ts-server must have run until told to stop, and then stopped cleanly
   * (under AddressSanitizer, that also means without leaks). */
  if (f->server)
    {
      g_autofree char *err_path = g_build_filename (f->tmpdir, "server.err", NULL);
      g_autofree char *err = NULL;

      g_file_get_contents (err_path, &err, NULL, NULL);
      if (server_died || !g_subprocess_get_if_exited (f->server)
          || g_subprocess_get_exit_status (f->server) != 0)
        g_error ("ts-server %s; its standard error:\n%s",
                 server_died ? "died during the test" : "did not stop cleanly on SIGTERM",
                 err ? err : "(none)");
    }
  g_clear_object (&f->server);
  g_clear_pointer (&f->procs, g_ptr_array_unref);

  if (f->tmpdir && g_getenv ("TS_KEEP_TMP") == NULL)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *cmd_out = NULL;
      const char *argv[] = { "rm", "-rf", "--one-file-system", f->tmpdir, NULL };
      g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &cmd_out, NULL,
                    NULL, &error);
    }
  ts_lab_pki_clear (&f->pki);
  g_clear_pointer (&f->tmpdir, g_free);
  g_clear_pointer (&f->events, g_free);
  g_clear_pointer (&f->keylog, g_free);
}

int
actors_fixture_run (ActorsFixture *f, const char *const *argv, char **out_stdout, char **out_stderr)
{
  g_autoptr (GSubprocessLauncher) l = actors_fixture_launcher (
      f, "client", G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) p = g_subprocess_launcher_spawnv (l, argv, &error);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  g_assert_no_error (error);
  g_ptr_array_add (f->procs, g_object_ref (p));
  g_subprocess_communicate_utf8 (p, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  if (g_test_verbose ())
    g_printerr ("$ %s ...\n%s%s", argv[0], out ? out : "", err ? err : "");
  if (out_stdout)
    *out_stdout = g_steal_pointer (&out);
  if (out_stderr)
    *out_stderr = g_steal_pointer (&err);
  g_assert_true (g_subprocess_get_if_exited (p));
  return g_subprocess_get_exit_status (p);
}

int
actors_fixture_run_client (ActorsFixture *f, const char *const *args, char **out_stdout,
                           char **out_stderr)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();

  g_ptr_array_add (argv, (char *)actors_fixture_program ("TS_CLIENT"));
  g_ptr_array_add (argv, "--timeout=15");
  for (guint i = 0; args[i]; i++)
    g_ptr_array_add (argv, (char *)args[i]);
  g_ptr_array_add (argv, NULL);
  return actors_fixture_run (f, (const char *const *)argv->pdata, out_stdout, out_stderr);
}

char *
actors_fixture_resolve (int port)
{
  return g_strdup_printf ("example.com:%d:127.0.0.1", port);
}

int
actors_fixture_free_port (void)
{
  struct sockaddr_in sa = { .sin_family = AF_INET };
  socklen_t sl = sizeof sa;
  int fd = socket (AF_INET, SOCK_STREAM, 0);
  int port;

  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (bind (fd, (struct sockaddr *)&sa, sizeof sa), ==, 0);
  g_assert_cmpint (getsockname (fd, (struct sockaddr *)&sa, &sl), ==, 0);
  port = ntohs (sa.sin_port);
  close (fd);
  return port;
}

gboolean
actors_fixture_wait_port (GSubprocess *proc, int port, double timeout_s)
{
  gint64 end = g_get_monotonic_time () + (gint64)(timeout_s * G_USEC_PER_SEC);

  while (g_get_monotonic_time () < end)
    {
      struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons ((guint16)port) };
      int fd = socket (AF_INET, SOCK_STREAM, 0);
      int r;

      sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
      r = connect (fd, (struct sockaddr *)&sa, sizeof sa);
      close (fd);
      if (r == 0)
        return TRUE;
      if (g_subprocess_get_identifier (proc) == NULL)
        return FALSE; /* it exited (GLib reaps children as they end) */
      g_usleep (50 * 1000);
    }
  return FALSE;
}
