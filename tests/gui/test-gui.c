/* test-gui.c: the GTK app under Xvfb: the session (load, step, whose eyes),
 * the window and its views, compare mode, a live stream, the start page,
 * and the screenshot mode writing a PNG for every view.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include <adwaita.h>
#include <glib/gstdio.h>

#include "ts-application.h"
#include "ts-gui-test-util.h"
#include "ts-lesson-capture.h"
#include "ts-lesson-files.h"
#include "ts-lesson-progress.h"
#include "ts-markdown.h"
#include "ts-screenshot.h"
#include "ts-session.h"
#include "ts-settings.h"
#include "ts-step-model.h"
#include "ts-window.h"

static char *tmpdir;
static char *relay_path;
static char *intercept_path;

static void
iterate_until (gboolean (*done) (gpointer), gpointer data, guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + (gint64)timeout_ms * 1000;

  while (!done (data) && g_get_monotonic_time () < end)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (1000);
}

static void
iterate_for (guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64)ms * 1000;

  while (g_get_monotonic_time () < end)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (1000);
}

/* The step whose event has @kind and whose summary contains @text. */
static int
find_step (TsSession *session, const char *kind, const char *text)
{
  TsStepList *list = ts_session_get_step_list (session);

  for (guint i = 0; i < ts_step_list_get_n_steps (list); i++)
    {
      const TsTimelineEvent *ev = ts_step_list_get_event (list, i);
      if ((kind == NULL || g_str_equal (ev->kind, kind))
          && (text == NULL || strstr (ev->summary, text)))
        return (int)i;
    }
  return -1;
}

/* A trace whose capture lost packets says so in its title, up front
 * (its gaps are not the network's). */
static void
test_session_capture_lost (void)
{
  g_autoptr (TsSession) session = ts_session_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_path_get_dirname (relay_path);
  g_autofree char *path = ts_gui_test_write_lossy_trace (dir, "lossy.pcapng", 7);

  g_assert_true (ts_session_load_path (session, path, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (ts_session_get_title (session), ==,
                   "connect — lossy.pcapng — the capture lost 7 packets");
  g_assert_cmpuint (
      ts_timeline_get_capture_lost (ts_step_list_get_timeline (ts_session_get_step_list (session))),
      ==, 7);
  g_assert_true (ts_session_load_path (session, relay_path, &error));
  g_assert_cmpstr (ts_session_get_title (session), ==, "connect — relay.pcapng");
  g_assert_cmpint (g_unlink (path), ==, 0);
}

static void
test_session_step (void)
{
  g_autoptr (TsSession) session = ts_session_new ();
  g_autoptr (GError) error = NULL;
  GActionGroup *actions = ts_session_get_actions (session);
  guint n;

  g_assert_cmpint (ts_session_get_step (session), ==, -1);
  g_assert_false (g_action_group_get_action_enabled (actions, "next"));
  g_assert_true (ts_session_load_path (session, relay_path, &error));
  g_assert_no_error (error);
  n = ts_session_get_n_steps (session);
  g_assert_cmpuint (n, >, 20);
  g_assert_cmpint (ts_session_get_step (session), ==, 0);
  g_assert_cmpstr (ts_session_get_title (session), ==, "connect — relay.pcapng");
  g_assert_false (g_action_group_get_action_enabled (actions, "previous"));
  g_assert_true (g_action_group_get_action_enabled (actions, "next"));

  /* Forward and back, through the actions the keyboard uses. */
  g_action_group_activate_action (actions, "next", NULL);
  g_action_group_activate_action (actions, "next", NULL);
  g_assert_cmpint (ts_session_get_step (session), ==, 2);
  g_action_group_activate_action (actions, "previous", NULL);
  g_assert_cmpint (ts_session_get_step (session), ==, 1);
  g_action_group_activate_action (actions, "last", NULL);
  g_assert_cmpint (ts_session_get_step (session), ==, (int)n - 1);
  g_assert_false (g_action_group_get_action_enabled (actions, "next"));
  ts_session_next (session);
  g_assert_cmpint (ts_session_get_step (session), ==, (int)n - 1);
  g_action_group_activate_action (actions, "first", NULL);
  g_assert_cmpint (ts_session_get_step (session), ==, 0);
  g_action_group_activate_action (actions, "goto", g_variant_new_int32 (5));
  g_assert_cmpint (ts_session_get_step (session), ==, 5);
  ts_session_set_step (session, 100000);
  g_assert_cmpint (ts_session_get_step (session), ==, (int)n - 1);

  /* The selected field belongs to a step: stepping clears it. */
  ts_session_set_selected_field (session, 2);
  g_assert_cmpint (ts_session_get_selected_field (session), ==, 2);
  ts_session_previous (session);
  g_assert_cmpint (ts_session_get_selected_field (session), ==, -1);

  /* Playing at the end starts from the first step. */
  ts_session_last (session);
  ts_session_set_playing (session, TRUE);
  g_assert_true (ts_session_get_playing (session));
  g_assert_cmpint (ts_session_get_step (session), ==, 0);
  ts_session_set_speed (session, 100);
  iterate_for (200);
  g_assert_cmpint (ts_session_get_step (session), >, 0);
  g_action_group_activate_action (actions, "play", NULL);
  g_assert_false (ts_session_get_playing (session));

  g_assert_finalize_object (g_steal_pointer (&session));
}

/* Whose eyes: the CONNECT line is the proxy's to read, the TLS records in
 * the tunnel are not; the client reads its own tunnel; an on-path observer
 * reads the CONNECT line but not the tunnel. */
static void
test_session_whose_eyes (void)
{
  g_autoptr (TsSession) session = ts_session_new ();
  g_autoptr (GError) error = NULL;
  TsStepList *list;
  const TsTimeline *tl;
  int connect, data, proxy;

  g_assert_true (ts_session_load_path (session, relay_path, &error));
  list = ts_session_get_step_list (session);
  tl = ts_step_list_get_timeline (list);
  connect = find_step (session, NULL, "CONNECT example.com:443");
  g_assert_cmpint (connect, >=, 0);
  data = -1;
  for (guint i = 0; i < ts_step_list_get_n_steps (list) && data < 0; i++)
    {
      const TsTimelineEvent *ev = ts_step_list_get_event (list, i);
      if (ev->layer == TS_LAYER_TLS && ev->encrypted && !ev->anomaly && ev->tls_handshake_type < 0
          && ev->tunnel >= 0)
        data = (int)i;
    }
  g_assert_cmpint (data, >=, 0);
  proxy = ts_timeline_find_node (tl, "proxy");
  g_assert_cmpint (proxy, >=, 0);

  ts_session_set_as (session, "proxy");
  g_assert_cmpint (ts_session_get_reader (session), ==, proxy);
  g_assert_true (ts_step_list_can_read (list, connect, ts_session_get_reader (session)));
  g_assert_false (ts_step_list_can_read (list, data, ts_session_get_reader (session)));
  {
    g_autofree char *seen
        = ts_step_list_dup_summary_as (list, data, ts_session_get_reader (session));
    g_assert_nonnull (strstr (seen, "encrypted"));
  }
  ts_session_set_as (session, "client");
  g_assert_true (ts_step_list_can_read (list, data, ts_session_get_reader (session)));
  ts_session_set_as (session, "observer");
  g_assert_cmpint (ts_session_get_reader (session), ==, TS_STEP_READER_OBSERVER);
  g_assert_true (ts_step_list_can_read (list, connect, ts_session_get_reader (session)));
  g_assert_false (ts_step_list_can_read (list, data, ts_session_get_reader (session)));
  ts_session_set_as (session, "");
  g_assert_cmpint (ts_session_get_reader (session), ==, TS_STEP_READER_EVERYONE);
  g_assert_true (ts_step_list_can_read (list, data, ts_session_get_reader (session)));
  /* The action and the property are one state. */
  g_action_group_activate_action (ts_session_get_actions (session), "as",
                                  g_variant_new_string ("server"));
  g_assert_cmpstr (ts_session_get_as (session), ==, "server");
  g_assert_finalize_object (g_steal_pointer (&session));
}

static void
loaded_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  gboolean *done = user_data;
  g_autoptr (GError) error = NULL;

  g_assert_true (ts_session_load_finish (TS_SESSION (source), result, &error));
  g_assert_no_error (error);
  *done = TRUE;
}

static gboolean
flag_set (gpointer data)
{
  return *(gboolean *)data;
}

static void
count_cb (TsSession *session, guint *count)
{
  (*count)++;
}

static void
added_cb (TsSession *session, guint first, guint n, guint *count)
{
  g_assert_cmpuint (n, >, 0);
  (*count)++;
}

/* A recorded capture: the inner HTTP of a CONNECT tunnel is the client's
 * and the server's to read, not the proxy's nor an on-path observer's;
 * through an intercepting proxy (when such a capture exists), the proxy
 * reads it too. */
static int
inner_http_step (TsSession *session)
{
  TsStepList *list = ts_session_get_step_list (session);

  for (guint i = 0; i < ts_step_list_get_n_steps (list); i++)
    {
      const TsTimelineEvent *ev = ts_step_list_get_event (list, i);
      if (ev->layer == TS_LAYER_HTTP && ev->tunnel >= 0 && ev->http_method != NULL
          && !g_str_equal (ev->http_method, "CONNECT"))
        return (int)i;
    }
  return -1;
}

/* The source tree (captures, lessons): where meson test says, else where it was built from. */
static const char *
source_dir (void)
{
  return g_getenv ("TS_SOURCE_DIR") ? g_getenv ("TS_SOURCE_DIR") : TS_SOURCE_DIR;
}

static gboolean
reads (TsSession *session, int step, const char *as)
{
  ts_session_set_as (session, as);
  return ts_step_list_can_read (ts_session_get_step_list (session), step,
                                ts_session_get_reader (session));
}

static void
test_captures_whose_eyes (void)
{
  g_autofree char *connect = g_build_filename (source_dir (), "captures", "connect.pcapng", NULL);
  g_autofree char *intercept
      = g_build_filename (source_dir (), "captures", "intercept.pcapng", NULL);
  g_autofree char *blocked
      = g_build_filename (source_dir (), "captures", "direct-blocked.pcapng", NULL);
  g_autoptr (TsSession) session = ts_session_new ();
  g_autoptr (GError) error = NULL;
  int step;

  if (!g_file_test (connect, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("captures/connect.pcapng is not recorded yet");
      return;
    }
  g_assert_true (ts_session_load_path (session, connect, &error));
  g_assert_no_error (error);
  /* Step forward and back through the capture. */
  ts_session_next (session);
  ts_session_next (session);
  ts_session_previous (session);
  g_assert_cmpint (ts_session_get_step (session), ==, 1);
  step = inner_http_step (session);
  g_assert_cmpint (step, >=, 0);
  g_assert_true (reads (session, step, "client"));
  g_assert_true (reads (session, step, "server"));
  g_assert_false (reads (session, step, "proxy"));
  g_assert_false (reads (session, step, "observer"));
  {
    g_autofree char *seen = ts_step_list_dup_summary_as (ts_session_get_step_list (session), step,
                                                         ts_session_get_reader (session));
    g_assert_nonnull (strstr (seen, "encrypted"));
  }
  if (!g_file_test (intercept, G_FILE_TEST_EXISTS))
    {
      g_test_message (
          "captures/intercept.pcapng is not recorded yet: the intercepting side is not checked");
      return;
    }
  g_assert_true (ts_session_load_path (session, intercept, &error));
  step = inner_http_step (session);
  g_assert_cmpint (step, >=, 0);
  g_assert_true (reads (session, step, "proxy"));
  g_assert_false (reads (session, step, "observer"));
  if (!g_file_test (blocked, G_FILE_TEST_EXISTS))
    return;
  /* The client's own SYN for the server, blocked at the proxy's node: the
   * proxy's node reads it, the server never got it. */
  g_assert_true (ts_session_load_path (session, blocked, &error));
  g_assert_no_error (error);
  {
    TsStepList *list = ts_session_get_step_list (session);
    gboolean found = FALSE;

    for (guint i = 0; i < ts_step_list_get_n_steps (list) && !found; i++)
      if (strcmp (ts_step_list_get_event (list, i)->kind, "tcp.syn") == 0)
        {
          g_autofree char *seen = NULL;
          found = TRUE;
          g_assert_true (reads (session, (int)i, "proxy"));
          g_assert_false (reads (session, (int)i, "server"));
          seen = ts_step_list_dup_summary_as (list, i, ts_session_get_reader (session));
          g_assert_cmpstr (seen, ==, "tcp, 0 bytes (never reached server)");
        }
    g_assert_true (found);
  }
}

/* Splits the pcapng at @path into the trace without its Decryption
 * Secrets Blocks (written to @out_trace) and their key log lines
 * (returned): a capture with its key log beside it, as tcpdump and
 * SSLKEYLOGFILE leave them. Little-endian pcapng, as the lab writes. */
static GBytes *
split_secrets (const char *path, const char *out_trace)
{
  g_autofree guint8 *data = NULL;
  g_autoptr (GByteArray) trace = g_byte_array_new ();
  g_autoptr (GByteArray) keys = g_byte_array_new ();
  g_autoptr (GError) error = NULL;
  gsize len = 0, at = 0;
  guint n = 0;

  g_assert_true (g_file_get_contents (path, (char **)&data, &len, &error));
  while (at + 12 <= len)
    {
      guint32 type = GUINT32_FROM_LE (*(guint32 *)(gpointer)(data + at));
      guint32 total = GUINT32_FROM_LE (*(guint32 *)(gpointer)(data + at + 4));

      g_assert_cmpuint (total, >=, 12);
      g_assert_cmpuint (at + total, <=, len);
      if (type == 0x0000000A) /* Decryption Secrets Block */
        {
          guint32 n_secrets = GUINT32_FROM_LE (*(guint32 *)(gpointer)(data + at + 12));
          g_byte_array_append (keys, data + at + 16, n_secrets);
          n++;
        }
      else
        g_byte_array_append (trace, data + at, total);
      at += total;
    }
  g_assert_cmpuint (n, >, 0);
  g_assert_true (g_file_set_contents (out_trace, (const char *)trace->data, trace->len, &error));
  return g_byte_array_free_to_bytes (g_steal_pointer (&keys));
}

/* A capture whose TLS secrets sit in a key log beside it: the app reads
 * the tunnel's HTTP only with the key log (tunnelscope --keylog). */
static void
test_session_keylog (void)
{
  g_autofree char *connect = g_build_filename (source_dir (), "captures", "connect.pcapng", NULL);
  g_autofree char *dir = NULL;
  g_autofree char *bare = NULL;
  g_autoptr (GBytes) keylog = NULL;
  g_autoptr (TsSession) session = ts_session_new ();
  g_autoptr (GError) error = NULL;
  int step;

  if (!g_file_test (connect, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("captures/connect.pcapng is not recorded yet");
      return;
    }
  dir = g_dir_make_tmp ("ts-gui-keylog-XXXXXX", NULL);
  bare = g_build_filename (dir, "bare.pcapng", NULL);
  keylog = split_secrets (connect, bare);
  g_assert_true (ts_session_load_path (session, bare, &error));
  g_assert_no_error (error);
  g_assert_cmpint (inner_http_step (session), <, 0);
  ts_session_set_keylog (session, keylog);
  g_assert_true (ts_session_load_path (session, bare, &error));
  g_assert_no_error (error);
  step = inner_http_step (session);
  g_assert_cmpint (step, >=, 0);
  g_assert_true (
      ts_step_list_get_event (ts_session_get_step_list (session), (guint)step)->decrypted);
  ts_session_set_keylog (session, NULL);
  g_assert_cmpint (g_unlink (bare), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

static void
test_session_load_async (void)
{
  g_autoptr (TsSession) session = ts_session_new ();
  g_autoptr (GFile) file = g_file_new_for_path (relay_path);
  gboolean done = FALSE;
  guint resets = 0;

  g_signal_connect (session, "reset", G_CALLBACK (count_cb), &resets);
  ts_session_load_async (session, file, NULL, loaded_cb, &done);
  g_assert_true (ts_session_get_loading (session));
  iterate_until (flag_set, &done, 20000);
  g_assert_true (done);
  g_assert_false (ts_session_get_loading (session));
  g_assert_cmpuint (resets, ==, 1);
  g_assert_cmpuint (ts_session_get_n_steps (session), >, 20);
  g_assert_null (ts_session_get_error (session));
  g_assert_finalize_object (g_steal_pointer (&session));
}

static void
test_session_load_error (void)
{
  g_autoptr (TsSession) session = ts_session_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *junk = g_build_filename (tmpdir, "junk.pcapng", NULL);

  g_assert_true (
      g_file_set_contents (junk, "this is not a capture at all, not even close", -1, NULL));
  g_assert_false (ts_session_load_path (session, junk, &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "junk.pcapng"));
  g_clear_error (&error);
  g_assert_false (ts_session_load_path (session, "/nonexistent/trace.pcapng", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_cmpint (ts_session_get_step (session), ==, -1);
  g_assert_finalize_object (g_steal_pointer (&session));
}

/* A trace cut short (a copy interrupted, a disk full) shows what was read
 * before the cut, with the analyzer's "trace damaged" anomaly last, and
 * says so in its title, as tscope explain does. */
static void
test_session_load_damaged (void)
{
  g_autofree char *contents = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (relay_path, &contents, &len, NULL));
  for (guint k = 0; k < 2; k++)
    {
      g_autoptr (TsSession) session = ts_session_new ();
      g_autoptr (GError) error = NULL;
      g_autofree char *cut = g_build_filename (tmpdir, "cut.pcapng", NULL);
      gsize keep = k == 0 ? len - 30 : len / 2;
      TsStepList *list;
      const TsTimelineEvent *last;

      g_assert_true (g_file_set_contents (cut, contents, (gssize)keep, NULL));
      g_assert_true (ts_session_load_path (session, cut, &error));
      g_assert_no_error (error);
      list = ts_session_get_step_list (session);
      g_assert_cmpuint (ts_step_list_get_n_steps (list), >, 1);
      g_assert_nonnull (ts_step_list_get_damage (list));
      g_assert_nonnull (strstr (ts_step_list_get_damage (list), "ends inside the block"));
      g_assert_nonnull (strstr (ts_session_get_title (session), "the trace is damaged"));
      last = ts_step_list_get_event (list, ts_step_list_get_n_steps (list) - 1);
      g_assert_true (last->anomaly);
      g_assert_true (g_str_has_prefix (last->summary, "trace damaged"));
      g_assert_finalize_object (g_steal_pointer (&session));
    }
  /* The whole trace is not damaged. */
  {
    g_autoptr (TsSession) session = ts_session_new ();
    g_assert_true (ts_session_load_path (session, relay_path, NULL));
    g_assert_null (ts_step_list_get_damage (ts_session_get_step_list (session)));
    g_assert_finalize_object (g_steal_pointer (&session));
  }
}

/* A live lab is a child process whose stream is fed as it comes: here a
 * child that writes a trace slowly stands for `tscope run -o -`. */
static gboolean
live_done (gpointer data)
{
  return !ts_session_get_live (TS_SESSION (data));
}

static void
test_session_live_stream (void)
{
  g_autoptr (TsSession) session = ts_session_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *script = g_strdup_printf (
      "head -c 3000 '%s'; sleep 0.3; cat '%s' | tail -c +3001", relay_path, relay_path);
  const char *argv[] = { "/bin/sh", "-c", script, NULL };
  guint added = 0;

  g_signal_connect (session, "steps-added", G_CALLBACK (added_cb), &added);
  g_assert_true (ts_session_run_live (session, "connect", argv, &error));
  g_assert_no_error (error);
  g_assert_true (ts_session_get_live (session));
  g_assert_true (g_action_group_get_action_enabled (ts_session_get_actions (session), "stop-live"));
  iterate_until (live_done, session, 20000);
  g_assert_false (ts_session_get_live (session));
  /* Events arrived in more than one batch. */
  g_assert_cmpuint (added, >=, 2);
  g_assert_cmpuint (ts_session_get_n_steps (session), >, 20);
  g_assert_cmpint (ts_session_get_step (session), ==, 0);
  g_assert_null (ts_session_get_error (session));
  g_assert_finalize_object (g_steal_pointer (&session));
}

static gboolean
has_packets (TsSession *session)
{
  TsStepList *list = ts_session_get_step_list (session);

  for (guint i = 0; i < ts_step_list_get_n_steps (list); i++)
    if (ts_step_list_get_event (list, i)->layer != TS_LAYER_LAB
        && ts_step_list_get_event (list, i)->packet != G_MAXUINT32)
      return TRUE;
  return FALSE;
}

/* A real lab: only where `tscope run connect` can run here. */
static void
test_session_live_lab (void)
{
  g_autofree char *tscope = (g_unsetenv ("TS_TSCOPE"), ts_session_find_tscope ());
  gboolean required = g_strcmp0 (g_getenv ("TS_REQUIRE_LAB"), "1") == 0;
  g_autoptr (TsSession) session = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;
  int status = 0;

  if (tscope == NULL || !g_file_test (tscope, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_skip ("tscope is not built");
      return;
    }
  {
    const char *argv[] = { tscope, "list", "--format", "json", NULL };
    if (!g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out,
                       NULL, &status, NULL)
        || !g_spawn_check_wait_status (status, NULL) || out == NULL
        || strstr (out, "\"connect\"") == NULL)
      {
        g_test_skip ("tscope list does not offer the connect scenario yet");
        return;
      }
  }
  session = ts_session_new ();
  g_assert_true (ts_session_run_live (session, "connect", NULL, &error));
  iterate_until (live_done, session, 60000);
  /* The lab ran when packets came through; otherwise it could not start
   * here (no namespaces, an actor program missing): its message says why. */
  if (!has_packets (session))
    {
      g_autofree char *why
          = g_strdup_printf ("the lab did not run here: %s",
                             ts_session_get_error (session) ? ts_session_get_error (session) : "?");
      ts_session_stop_live (session);
      /* The lab's own tests (suite lab) insist on it under TS_REQUIRE_LAB;
       * here the streaming path is covered by live-stream either way. */
      if (required)
        g_test_message ("TS_REQUIRE_LAB=1: the lab tests will say why");
      g_test_skip (why);
      return;
    }
  /* The lab's events arrived: its CONNECT, the tunnel, a TLS handshake. */
  g_assert_cmpint (find_step (session, NULL, "CONNECT example.com:443"), >=, 0);
  g_assert_cmpint (find_step (session, NULL, "ClientHello"), >=, 0);
  g_assert_cmpstr (ts_session_get_title (session), ==, "connect");
  g_assert_finalize_object (g_steal_pointer (&session));
}

/* Every recorded capture opens, and every step of it can be shown. */
static void
test_captures (void)
{
  g_autofree char *dir = g_build_filename (source_dir (), "captures", NULL);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  guint opened = 0, n_scaled = 0;

  while (d && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autoptr (TsSession) session = NULL;
      g_autoptr (GError) error = NULL;
      TsStepList *list;

      if (!g_str_has_suffix (name, ".pcapng") && !g_str_has_suffix (name, ".pcap"))
        continue;
      session = ts_session_new ();
      g_assert_true (ts_session_load_path (session, path, &error));
      g_assert_no_error (error);
      list = ts_session_get_step_list (session);
      g_assert_cmpuint (ts_step_list_get_n_steps (list), >, 0);
      for (guint i = 0; i < ts_step_list_get_n_steps (list); i++)
        {
          g_autoptr (GArray) fields = ts_step_list_dup_fields (list, i);
          g_autofree char *seen = ts_step_list_dup_summary_as (list, i, TS_STEP_READER_OBSERVER);
          g_assert_cmpuint (fields->len, >, 0);
          /* What an observer cannot read: a packet's size, or that a
           * node decided something. */
          g_assert_nonnull (seen);
          if (!ts_step_list_can_read (list, i, TS_STEP_READER_OBSERVER))
            g_assert_true (g_str_has_prefix (seen, "encrypted, ")
                           || g_str_has_prefix (seen, "(a decision inside "));
          /* A packet's tree names its link layer (the lab's links are
           * Ethernet). */
          if (g_str_has_prefix (g_array_index (fields, TsStepField, 0).label, "Frame "))
            g_assert_cmpstr (g_array_index (fields, TsStepField, 1).label, ==,
                             "Link layer: Ethernet");
          /* Past the handshake, windows are scaled (both ends sent a
           * window scale of 10, Linux's default here). */
          for (guint k = 0; k < fields->len; k++)
            {
              guint raw = 0, factor = 0;
              guint64 bytes = 0;
              if (sscanf (g_array_index (fields, TsStepField, k).label,
                          "Window: %u × %u = %" G_GUINT64_FORMAT " bytes", &raw, &factor, &bytes)
                  == 3)
                {
                  g_assert_cmpuint (factor, ==, 1024);
                  g_assert_cmpuint (bytes, ==, (guint64)raw * factor);
                  n_scaled++;
                }
            }
        }
      opened++;
    }
  if (opened == 0)
    g_test_skip ("captures/ holds no trace yet");
  else
    g_assert_cmpuint (n_scaled, >, 0);
}

static void
test_start_page (void)
{
  GtkWidget *page = g_object_ref_sink (ts_start_page_new ());
  g_autoptr (GError) error = NULL;

  g_assert_true (
      ts_start_page_set_scenarios_json (TS_START_PAGE (page),
                                        "[{\"name\":\"connect\",\"description\":\"A CONNECT "
                                        "tunnel\",\"nodes\":[{\"name\":\"client\"},"
                                        "{\"name\":\"proxy\"},{\"name\":\"server\"}]},{\"name\":"
                                        "\"intercept\",\"description\":\"Interception\"}]",
                                        &error));
  g_assert_cmpuint (ts_start_page_get_n_scenarios (TS_START_PAGE (page)), ==, 2);
  g_assert_null (ts_start_page_get_message (TS_START_PAGE (page)));
  g_assert_true (ts_start_page_set_scenarios_json (
      TS_START_PAGE (page), "{\"scenarios\":[{\"name\":\"direct\"}]}", &error));
  g_assert_cmpuint (ts_start_page_get_n_scenarios (TS_START_PAGE (page)), ==, 1);
  g_assert_false (ts_start_page_set_scenarios_json (TS_START_PAGE (page), "42", &error));
  g_clear_error (&error);
  /* Without tscope the page says so. */
  g_setenv ("TS_TSCOPE", "/nonexistent/tscope", TRUE);
  ts_start_page_refresh (TS_START_PAGE (page));
  g_assert_cmpuint (ts_start_page_get_n_scenarios (TS_START_PAGE (page)), ==, 0);
  g_assert_nonnull (ts_start_page_get_message (TS_START_PAGE (page)));
  g_assert_finalize_object (page);
}

static gboolean
window_mapped (gpointer data)
{
  return gtk_widget_get_mapped (GTK_WIDGET (data)) && gtk_widget_get_width (GTK_WIDGET (data)) > 0;
}

static TsWindow *
new_window (void)
{
  TsWindow *window;

  /* No scenario lookup in the tests: the start page says tscope is missing. */
  g_setenv ("TS_TSCOPE", "/nonexistent/tscope", TRUE);
  window = ts_window_new (NULL);
  g_object_ref (window);
  gtk_window_set_default_size (GTK_WINDOW (window), 1200, 800);
  gtk_window_present (GTK_WINDOW (window));
  iterate_until (window_mapped, window, 10000);
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (window)));
  return window;
}

static void
close_window (TsWindow *window)
{
  gtk_window_destroy (GTK_WINDOW (window));
  iterate_for (50);
  g_assert_finalize_object (window);
}

static void
test_window_views (void)
{
  TsWindow *window = new_window ();
  TsSession *session = ts_window_get_session (window);
  g_autoptr (GError) error = NULL;
  g_autofree char *hex = NULL;
  int first, last, step;
  guint off, len;
  double x1, y1, x2, y2;

  g_assert_cmpstr (ts_window_get_view (window), ==, "start");
  g_assert_true (ts_window_load_path (window, relay_path, &error));
  g_assert_cmpstr (ts_window_get_view (window), ==, "ladder");
  iterate_for (100);

  /* The ladder drew rows from the first step. */
  ts_ladder_view_get_drawn_range (ts_window_get_ladder (window), &first, &last);
  g_assert_cmpint (first, ==, 0);
  g_assert_cmpint (last, >, 0);

  /* Stepping through the window's actions (as the keyboard does). */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "session.next", NULL));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "session.next", NULL));
  g_assert_cmpint (ts_session_get_step (session), ==, 2);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "session.previous", NULL));
  g_assert_cmpint (ts_session_get_step (session), ==, 1);

  /* The detail view shows the step: a tree and its bytes, linked. */
  ts_window_set_view (window, "detail");
  iterate_for (50);
  step = find_step (session, NULL, "CONNECT example.com:443");
  ts_session_set_step (session, step);
  g_assert_cmpuint (ts_detail_view_get_n_rows (ts_window_get_detail (window)), >, 4);
  hex = ts_detail_view_dup_hex_text (ts_window_get_detail (window));
  g_assert_true (g_str_has_prefix (hex, "0000  "));
  g_assert_nonnull (strstr (hex, "CONNECT"));
  g_assert_false (ts_detail_view_get_highlight (ts_window_get_detail (window), &off, &len));
  /* Row 1 is the link layer (Ethernet, 14 bytes): its bytes light up. */
  ts_session_set_selected_field (session, 1);
  g_assert_true (ts_detail_view_get_highlight (ts_window_get_detail (window), &off, &len));
  g_assert_cmpuint (off, ==, 0);
  g_assert_cmpuint (len, ==, 14);
  /* And a byte selects the innermost field: byte 20 is in the IP header. */
  g_assert_cmpint (ts_detail_view_field_at_byte (ts_window_get_detail (window), 20), ==, 2);

  /* Topology: three nodes, left to right client, proxy, server. */
  ts_window_set_view (window, "topology");
  iterate_for (50);
  {
    const TsTimeline *tl = ts_step_list_get_timeline (ts_session_get_step_list (session));
    g_assert_cmpuint (ts_timeline_get_n_nodes (tl), ==, 3);
    g_assert_true (ts_topology_view_get_node_position (
        ts_window_get_topology (window), ts_timeline_find_node (tl, "client"), &x1, &y1));
    g_assert_true (ts_topology_view_get_node_position (
        ts_window_get_topology (window), ts_timeline_find_node (tl, "server"), &x2, &y2));
    g_assert_cmpfloat (x1, <, x2);
  }

  /* Whose eyes from the window: the dropdown follows the session. */
  ts_session_set_as (session, "proxy");
  g_assert_cmpstr (ts_session_get_as (ts_window_get_compare_session (window)), ==, "proxy");

  /* The events list: one item per step, its selection and the session's
   * step follow each other. */
  ts_window_set_view (window, "events");
  iterate_for (50);
  {
    TsEventList *events = ts_window_get_events (window);
    GListModel *model = ts_event_list_get_model (events);
    g_autoptr (GObject) item = NULL;

    g_assert_cmpuint (g_list_model_get_n_items (model), ==, ts_session_get_n_steps (session));
    ts_session_set_step (session, 7);
    g_assert_cmpuint (ts_event_list_get_selected (events), ==, 7);
    item = g_list_model_get_item (model, 7);
    g_assert_nonnull (item);
    g_assert_cmpuint (ts_step_item_get_index (TS_STEP_ITEM (item)), ==, 7);
    ts_event_list_set_selected (events, 3);
    g_assert_cmpint (ts_session_get_step (session), ==, 3);
  }

  /* Folding: each TCP handshake is one ladder row; the steps stay. */
  {
    TsLadderView *ladder = ts_window_get_ladder (window);
    guint n = ts_session_get_n_steps (session);
    g_assert_true (ts_ladder_view_get_fold (ladder));
    g_assert_cmpuint (ts_ladder_view_get_n_rows (ladder), <, n);
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.fold-handshakes", NULL));
    g_assert_false (ts_ladder_view_get_fold (ladder));
    g_assert_cmpuint (ts_ladder_view_get_n_rows (ladder), ==, n);
    g_assert_cmpuint (ts_session_get_n_steps (session), ==, n);
  }

  ts_window_set_view (window, "start");
  g_assert_cmpstr (ts_window_get_view (window), ==, "start");
  close_window (window);
}

/* 20,000 steps: the ladder draws only the rows in view. */
static void
test_ladder_large (void)
{
  g_autofree char *path = ts_gui_test_write_long_trace (tmpdir, "long.pcapng", 2000);
  TsWindow *window = new_window ();
  TsSession *session = ts_window_get_session (window);
  TsLadderView *ladder = ts_window_get_ladder (window);
  g_autoptr (GError) error = NULL;
  int first, last, row;
  guint n;

  g_assert_true (ts_window_load_path (window, path, &error));
  g_assert_no_error (error);
  n = ts_session_get_n_steps (session);
  g_assert_cmpuint (n, >=, 20000);
  iterate_for (100);
  row = ts_ladder_view_get_row_height (ladder);
  ts_ladder_view_get_drawn_range (ladder, &first, &last);
  g_assert_cmpint (last - first + 1, <=, 800 / row + 2);
  /* The last step scrolls into view and only its neighbourhood is drawn. */
  ts_session_last (session);
  iterate_for (100);
  ts_ladder_view_get_drawn_range (ladder, &first, &last);
  g_assert_cmpint (last, ==, (int)n - 1);
  g_assert_cmpint (last - first + 1, <=, 800 / row + 2);
  close_window (window);
}

/* Each arrow's label keeps to the gap between its two columns and none
 * runs into the tunnel tag on the right ("relay", "intercept"): long
 * labels are ellipsized, at any width. */
static gboolean
ladder_shows_step (gpointer data)
{
  TsWindow *window = data;
  int first = -1, last = -1, step = ts_session_get_step (ts_window_get_session (window));

  ts_ladder_view_get_drawn_range (ts_window_get_ladder (window), &first, &last);
  return first >= 0 && first <= step && step <= last;
}

static void
test_ladder_labels_fit (void)
{
  g_autofree char *path = g_build_filename (source_dir (), "captures", "intercept.pcapng", NULL);
  static const int widths[] = { 1200, 800 };

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("captures/intercept.pcapng is missing");
      return;
    }
  for (guint k = 0; k < G_N_ELEMENTS (widths); k++)
    {
      TsWindow *window = new_window ();
      TsSession *session = ts_window_get_session (window);
      TsLadderView *ladder = ts_window_get_ladder (window);
      g_autoptr (GError) error = NULL;
      guint n;

      gtk_window_set_default_size (GTK_WINDOW (window), widths[k], 700);
      g_assert_true (ts_window_load_path (window, path, &error));
      g_assert_no_error (error);
      ts_window_set_view (window, "ladder");
      n = ts_session_get_n_steps (session);
      for (guint i = 0; i < n; i += 12)
        {
          ts_session_set_step (session, (int)i);
          iterate_until (ladder_shows_step, window, 5000);
          g_assert_true (ladder_shows_step (window));
          g_assert_cmpuint (ts_ladder_view_get_drawn_overruns (ladder), ==, 0);
        }
      close_window (window);
    }
}

/* Compare panes and a ladder beside a lesson are narrow: each arrow's
 * label still shows what the arrow is. At the screenshots' size (1280 by
 * 800), in each compare pane, with and without lesson 5's pane beside
 * them, the TCP handshake, the CONNECT, its 200, the ClientHello, the
 * ServerHello and the GET and 200 inside the tunnel are given the room
 * their first words and key value need, and no label leaves its room. */
static void
find_ladders (GtkWidget *widget, GPtrArray *out)
{
  if (TS_IS_LADDER_VIEW (widget) && gtk_widget_get_mapped (widget))
    g_ptr_array_add (out, widget);
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c; c = gtk_widget_get_next_sibling (c))
    find_ladders (c, out);
}

typedef struct
{
  TsLadderView *ladder;
  guint step;
} LadderStep;

static gboolean
ladder_draws_label (gpointer data)
{
  LadderStep *ls = data;
  return ts_ladder_view_get_drawn_label (ls->ladder, ls->step, NULL, NULL);
}

static void
check_compare_labels (TsWindow *window)
{
  static const struct
  {
    const char *prefix; /* the drawn summary starts with it */
    const char *needs;  /* what must fit whole */
  } rows[] = {
    { "TCP handshake", "TCP handshake (SYN, SYN-ACK)" },
    { "CONNECT ", "CONNECT example.com:443" },
    { "200 ", "200 Connection established" },
    { "ClientHello", "ClientHello SNI example.com" },
    { "ServerHello", "ServerHello TLS 1.3" },
    { "GET ", "GET /api/orders" },
    { "200 OK", "200 OK" },
  };
  g_autoptr (GPtrArray) ladders = g_ptr_array_new ();
  guint panes = 0;

  find_ladders (GTK_WIDGET (window), ladders);
  for (guint k = 0; k < ladders->len; k++)
    {
      TsLadderView *ladder = ladders->pdata[k];
      TsSession *session = ts_ladder_view_get_session (ladder);
      TsStepList *list = ts_session_get_step_list (session);
      guint n = ts_session_get_n_steps (session);

      if (ladder == ts_window_get_ladder (window))
        continue;
      panes++;
      /* A pane: less than half the window. */
      g_assert_cmpint (gtk_widget_get_width (GTK_WIDGET (ladder)), <, 640);
      for (guint r = 0; r < G_N_ELEMENTS (rows); r++)
        {
          g_autoptr (PangoLayout) need
              = gtk_widget_create_pango_layout (GTK_WIDGET (ladder), rows[r].needs);
          int need_w = 0, natural = 0;
          double room = 0;
          guint i;

          pango_layout_get_pixel_size (need, &need_w, NULL);
          for (i = 0; i < n; i++)
            {
              const TsTimelineEvent *ev = ts_step_list_get_event (list, i);
              g_autofree char *seen
                  = ts_step_list_dup_summary_as (list, i, ts_session_get_reader (session));
              /* A folded handshake is labelled on its SYN's row. */
              if (g_str_equal (rows[r].prefix, "TCP handshake")
                      ? g_str_equal (ev->kind, "tcp.syn")
                      : g_str_has_prefix (seen, rows[r].prefix))
                break;
            }
          g_assert_cmpuint (i, <, n);
          {
            LadderStep ls = { ladder, i };
            ts_session_set_step (session, (int)i);
            iterate_until (ladder_draws_label, &ls, 5000);
          }
          g_assert_true (ts_ladder_view_get_drawn_label (ladder, i, &room, &natural));
          if (g_test_verbose ())
            g_printerr ("pane %u %-14s room %.0f needs %d (whole %d)\n", panes, rows[r].prefix,
                        room, need_w, natural);
          g_assert_cmpfloat (room, >=, MIN (need_w, natural));
          g_assert_cmpuint (ts_ladder_view_get_drawn_overruns (ladder), ==, 0);
        }
    }
  g_assert_cmpuint (panes, ==, 2);
}

static void
test_ladder_compare_readable (void)
{
  g_autofree char *a = g_build_filename (source_dir (), "captures", "intercept.pcapng", NULL);
  g_autofree char *b = g_build_filename (source_dir (), "captures", "connect.pcapng", NULL);
  g_autoptr (GError) error = NULL;
  TsWindow *window;

  if (!g_file_test (a, G_FILE_TEST_EXISTS) || !g_file_test (b, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("a capture is missing");
      return;
    }
  window = new_window ();
  gtk_window_set_default_size (GTK_WINDOW (window), 1280, 800);
  g_assert_true (ts_window_load_path (window, a, &error));
  g_assert_true (ts_window_load_compare_path (window, b, &error));
  g_assert_no_error (error);
  ts_window_set_view (window, "compare");
  iterate_for (300);
  check_compare_labels (window);
  close_window (window);

  /* Lesson 5's last step: the lesson pane takes a third of the window. */
  window = new_window ();
  gtk_window_set_default_size (GTK_WINDOW (window), 1280, 800);
  ts_lesson_pane_set_record_progress (ts_window_get_lesson_pane (window), FALSE);
  if (!ts_window_load_lesson (window, 5, 4, &error))
    {
      close_window (window);
      g_test_skip (error->message);
      return;
    }
  iterate_for (300);
  g_assert_cmpstr (ts_window_get_view (window), ==, "compare");
  check_compare_labels (window);
  close_window (window);
}

static void
test_window_compare (void)
{
  TsWindow *window = new_window ();
  TsSession *a = ts_window_get_session (window);
  TsSession *b = ts_window_get_compare_session (window);
  g_autoptr (GError) error = NULL;
  const char *summary;

  g_assert_true (ts_window_load_path (window, intercept_path, &error));
  g_assert_true (ts_window_load_compare_path (window, relay_path, &error));
  g_assert_no_error (error);
  ts_window_set_view (window, "compare");
  iterate_for (50);
  summary = ts_window_get_compare_summary (window);
  g_assert_nonnull (strstr (summary, "Tunnels relayed / intercepted: 0 / 1 · 1 / 0"));
  /* The two traces line up: stepping one steps the other to the same time. */
  ts_session_last (a);
  g_assert_cmpint (ts_session_get_step (b), ==, (int)ts_session_get_n_steps (b) - 1);
  ts_session_first (a);
  g_assert_cmpint (ts_session_get_step (b), ==, 0);
  ts_session_set_step (a, 10);
  g_assert_cmpint (ts_session_get_step (b), >=, 9);
  g_assert_cmpint (ts_session_get_step (b), <=, 11);
  close_window (window);
}

/* Round trips before the first response byte, on the shipped captures:
 * TCP, CONNECT (one per proxy the client talks to), the TLS handshake (one
 * round trip in TLS 1.3, RFC 8446 §2; two in TLS 1.2, RFC 5246 §7.3) and
 * the request; a NewSessionTicket before the request answers nothing. An
 * intercepting proxy makes its own handshake and request meanwhile. */
static void
test_window_compare_round_trips (void)
{
  static const struct
  {
    const char *a, *b, *client, *proxies;
  } pairs[] = {
    { "intercept", "connect", "4 · 4", "3 · 1" },
    { "connect-tls12", "connect-chain", "5 · 4", "1 · 3" },
    { "direct", "http-forward", "3 · 2", "0 · 2" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (pairs); i++)
    {
      TsWindow *window = new_window ();
      g_autofree char *name_a = g_strconcat (pairs[i].a, ".pcapng", NULL);
      g_autofree char *name_b = g_strconcat (pairs[i].b, ".pcapng", NULL);
      g_autofree char *a = g_build_filename (source_dir (), "captures", name_a, NULL);
      g_autofree char *b = g_build_filename (source_dir (), "captures", name_b, NULL);
      g_autofree char *client = g_strconcat (
          "Round trips the client waits for before the first response byte: ", pairs[i].client,
          "\n", NULL);
      g_autofree char *proxies
          = g_strconcat ("Round trips the proxies wait for meanwhile, on their own connections: ",
                         pairs[i].proxies, NULL);
      g_autoptr (GError) error = NULL;
      const char *summary;

      if (!g_file_test (a, G_FILE_TEST_EXISTS) || !g_file_test (b, G_FILE_TEST_EXISTS))
        {
          close_window (window);
          g_test_skip ("a capture is missing");
          return;
        }
      g_assert_true (ts_window_load_path (window, a, &error));
      g_assert_true (ts_window_load_compare_path (window, b, &error));
      g_assert_no_error (error);
      summary = ts_window_get_compare_summary (window);
      g_test_message ("%s · %s:\n%s", pairs[i].a, pairs[i].b, summary);
      g_assert_nonnull (strstr (summary, client));
      g_assert_nonnull (strstr (summary, proxies));
      close_window (window);
    }
}

/* Whose eyes by an address or by a name the trace lacks: the header names
 * the node the address belongs to; a compare side without the node says
 * so; the command line refuses a name no node has, as tscope explain does. */
static void
test_window_as_unknown (void)
{
  g_autofree char *connect = g_build_filename (source_dir (), "captures", "connect.pcapng", NULL);
  g_autofree char *chain
      = g_build_filename (source_dir (), "captures", "connect-chain.pcapng", NULL);
  const char *exe = g_getenv ("TS_TUNNELSCOPE");
  g_autofree char *out = g_build_filename (tmpdir, "as-nobody.png", NULL);
  TsWindow *window;
  TsSession *session;
  g_autoptr (GError) error = NULL;

  if (!g_file_test (connect, G_FILE_TEST_EXISTS) || !g_file_test (chain, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("a capture is missing");
      return;
    }
  window = new_window ();
  session = ts_window_get_session (window);
  g_assert_true (ts_window_load_path (window, connect, &error));
  g_assert_true (ts_window_load_compare_path (window, chain, &error));
  g_assert_no_error (error);
  /* The proxy's server-side address is the proxy. */
  ts_session_set_as (session, "2001:db8:2::1");
  g_assert_cmpstr (ts_window_get_as_label (window), ==, "proxy (proxy)");
  g_assert_cmpint (ts_session_get_reader (session), ==,
                   ts_timeline_find_node (
                       ts_step_list_get_timeline (ts_session_get_step_list (session)), "proxy"));
  /* connect-chain has proxy1 and proxy2, no proxy: its side says so. */
  ts_session_set_as (session, "proxy");
  g_assert_cmpstr (ts_window_get_compare_note (window, 0), ==, "");
  g_assert_nonnull (strstr (ts_window_get_compare_note (window, 1), "no node proxy"));
  g_assert_nonnull (strstr (ts_window_get_compare_note (window, 1), "proxy1, proxy2"));
  /* A name neither has is not "Everyone". */
  ts_session_set_as (session, "nobody");
  g_assert_cmpstr (ts_window_get_as_label (window), ==, "nobody: no such node");
  ts_session_set_as (session, "");
  g_assert_cmpstr (ts_window_get_as_label (window), ==, "Everyone (all keys)");
  g_assert_cmpstr (ts_window_get_compare_note (window, 1), ==, "");
  close_window (window);

  if (exe != NULL)
    {
      const char *argv[] = { exe, "--screenshot", out, connect, "--as", "nobody", NULL };
      g_autofree char *err = NULL;
      int status = 0;

      g_assert_true (g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL,
                                   &err, &status, NULL));
      g_assert_true (WIFEXITED (status));
      g_assert_cmpint (WEXITSTATUS (status), ==, 2);
      g_assert_nonnull (strstr (err, "tunnelscope: --as nobody: no such node in "));
      g_assert_nonnull (
          strstr (err, "(nodes: client, proxy, server; or observer, on every link)\n"));
      g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
    }
}

/* A proxy has addresses on each of its links: each is told on its side
 * (lesson 10 asks for the proxy's server-side addresses). */
static void
test_session_address_sides (void)
{
  g_autofree char *path = g_build_filename (source_dir (), "captures", "connect.pcapng", NULL);
  g_autoptr (TsSession) session = NULL;
  TsStepList *list;
  const TsTimeline *tl;
  gint client, proxy, server;

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("captures/connect.pcapng is missing");
      return;
    }
  session = ts_session_new ();
  g_assert_true (ts_session_load_path (session, path, NULL));
  list = ts_session_get_step_list (session);
  tl = ts_step_list_get_timeline (list);
  client = ts_timeline_find_node (tl, "client");
  proxy = ts_timeline_find_node (tl, "proxy");
  server = ts_timeline_find_node (tl, "server");
  g_assert_cmpint (ts_step_list_address_side (list, proxy, "192.0.2.2"), ==, client);
  g_assert_cmpint (ts_step_list_address_side (list, proxy, "2001:db8:1::2"), ==, client);
  g_assert_cmpint (ts_step_list_address_side (list, proxy, "203.0.113.1"), ==, server);
  g_assert_cmpint (ts_step_list_address_side (list, proxy, "2001:db8:2::1"), ==, server);
  g_assert_cmpint (ts_step_list_address_side (list, server, "203.0.113.2"), ==, proxy);
  g_assert_cmpint (ts_step_list_address_side (list, proxy, "not an address"), ==, -1);
}

/* Wireshark's number for packet @packet (from 0) of a little-endian pcapng
 * file: its packet blocks and journal export blocks (the lab's events)
 * are all frames. 0 when there is no such packet. */
static guint
wireshark_frame (const guint8 *data, gsize len, guint packet)
{
  guint frames = 0, packets = 0;

  for (gsize off = 0; off + 12 <= len;)
    {
      guint32 type
          = data[off] | data[off + 1] << 8 | data[off + 2] << 16 | (guint32)data[off + 3] << 24;
      guint32 total
          = data[off + 4] | data[off + 5] << 8 | data[off + 6] << 16 | (guint32)data[off + 7] << 24;

      if (total < 12)
        break;
      if (type == 2 || type == 3 || type == 6 || type == 9)
        frames++;
      if (type == 2 || type == 3 || type == 6)
        if (packets++ == packet)
          return frames;
      off += total;
    }
  return 0;
}

/* Frame numbers are Wireshark's (the trace opens there too), with the
 * packet's own number beside them where the lab's events make them
 * differ. */
static void
test_session_frame_numbers (void)
{
  g_autofree char *path = g_build_filename (source_dir (), "captures", "connect.pcapng", NULL);
  g_autoptr (TsSession) session = NULL;
  g_autofree char *contents = NULL;
  gsize len = 0;
  TsStepList *list;
  guint checked = 0;

  if (!g_file_get_contents (path, (char **)&contents, &len, NULL))
    {
      g_test_skip ("captures/connect.pcapng is missing");
      return;
    }
  session = ts_session_new ();
  g_assert_true (ts_session_load_path (session, path, NULL));
  list = ts_session_get_step_list (session);
  for (guint i = 0; i < ts_step_list_get_n_steps (list); i++)
    {
      const TsTimelineEvent *ev = ts_step_list_get_event (list, i);
      g_autoptr (GArray) fields = NULL;
      g_autofree char *want = NULL;

      if (ev->packet == G_MAXUINT32)
        continue;
      fields = ts_step_list_dup_fields (list, i);
      want = g_strdup_printf (
          "Frame %u (packet %u): ", wireshark_frame ((const guint8 *)contents, len, ev->packet),
          ev->packet + 1);
      g_assert_true (g_str_has_prefix (g_array_index (fields, TsStepField, 0).label, want));
      checked++;
    }
  g_assert_cmpuint (checked, >, 10);
}

/* "Encrypted" only for what is encrypted: as the client sees it, the
 * intercepting proxy's own ClientHello to the server is on a link the
 * client is not on, in clear. */
static void
test_session_not_on_path (void)
{
  g_autofree char *path = g_build_filename (source_dir (), "captures", "intercept.pcapng", NULL);
  g_autoptr (TsSession) session = NULL;
  g_autoptr (GError) error = NULL;
  TsStepList *list;
  const TsTimeline *tl;
  gboolean found = FALSE;

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("captures/intercept.pcapng is missing");
      return;
    }
  session = ts_session_new ();
  g_assert_true (ts_session_load_path (session, path, &error));
  g_assert_no_error (error);
  list = ts_session_get_step_list (session);
  tl = ts_step_list_get_timeline (list);
  for (guint i = 0; i < ts_step_list_get_n_steps (list); i++)
    {
      const TsTimelineEvent *ev = ts_step_list_get_event (list, i);
      for (guint node = 0; node < ts_timeline_get_n_nodes (tl); node++)
        {
          g_autofree char *seen = ts_step_list_dup_summary_as (list, i, (int)node);
          if (g_str_has_prefix (seen, "encrypted, "))
            g_assert_true (ev->encrypted);
        }
      if (ev->tls_handshake_type == 1 && ev->src == ts_timeline_find_node (tl, "proxy"))
        {
          g_autofree char *seen
              = ts_step_list_dup_summary_as (list, i, ts_timeline_find_node (tl, "client"));
          g_assert_true (g_str_has_prefix (seen, "tls, "));
          g_assert_true (g_str_has_suffix (seen, " bytes (not on client's path)"));
          found = TRUE;
        }
    }
  g_assert_true (found);
}

/* Compare pane titles: each in its own half, a gap between them, long
 * titles ellipsized within it (lesson 7's are long). */
static void
test_window_compare_titles (void)
{
  g_autofree char *a
      = g_build_filename (source_dir (), "captures", "websocket-over-connect.pcapng", NULL);
  g_autofree char *b
      = g_build_filename (source_dir (), "captures", "connect-port-25-denied.pcapng", NULL);
  TsWindow *window;
  g_autoptr (GError) error = NULL;
  graphene_rect_t ra, rb;
  GtkWidget *ta, *tb;
  int wa = 0, wb = 0;

  if (!g_file_test (a, G_FILE_TEST_EXISTS) || !g_file_test (b, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("a capture is missing");
      return;
    }
  window = new_window ();
  gtk_window_set_default_size (GTK_WINDOW (window), 900, 700);
  g_assert_true (ts_window_load_path (window, a, &error));
  g_assert_true (ts_window_load_compare_path (window, b, &error));
  g_assert_no_error (error);
  ts_window_set_view (window, "compare");
  iterate_for (300);
  ta = ts_window_get_compare_title (window, 0);
  tb = ts_window_get_compare_title (window, 1);
  g_assert_true (gtk_widget_compute_bounds (ta, GTK_WIDGET (window), &ra));
  g_assert_true (gtk_widget_compute_bounds (tb, GTK_WIDGET (window), &rb));
  g_assert_cmpfloat (ra.origin.x + ra.size.width + 6, <=, rb.origin.x);
  /* The text keeps within its label (ellipsized). */
  pango_layout_get_pixel_size (gtk_label_get_layout (GTK_LABEL (ta)), &wa, NULL);
  pango_layout_get_pixel_size (gtk_label_get_layout (GTK_LABEL (tb)), &wb, NULL);
  g_assert_cmpint (wa, <=, (int)ra.size.width);
  g_assert_cmpint (wb, <=, (int)rb.size.width);
  close_window (window);
}

/* The bytes beside the ladder fit whole in a lesson's layout (the pane
 * beside the views narrows the window's room): the pane is at least a hex
 * line wide, text column included. */
static void
test_window_hex_fits (void)
{
  TsWindow *window = new_window ();
  TsDetailView *detail = ts_window_get_ladder_detail (window);
  g_autoptr (GError) error = NULL;
  int min;

  gtk_window_set_default_size (GTK_WINDOW (window), 1280, 800);
  ts_lesson_pane_set_record_progress (ts_window_get_lesson_pane (window), FALSE);
  if (!ts_window_load_lesson (window, 2, 2, &error))
    {
      close_window (window);
      g_test_skip (error->message);
      return;
    }
  ts_window_set_view (window, "ladder");
  iterate_for (300);
  min = ts_detail_view_get_hex_min_width (detail);
  /* "0000  " then 8 bytes and their text: wider than the 300 pixels the
   * pane asked for before. */
  g_assert_cmpint (min, >, 300);
  g_assert_cmpint (gtk_widget_get_width (GTK_WIDGET (detail)), >=, min);
  close_window (window);
}

/* Large text for projectors: the drawn views grow with the window's font. */
static void
test_window_large_text (void)
{
  TsWindow *window = new_window ();
  g_autoptr (GError) error = NULL;
  int normal, large;

  g_assert_true (ts_window_load_path (window, relay_path, &error));
  iterate_for (50);
  normal = ts_ladder_view_get_row_height (ts_window_get_ladder (window));
  gtk_widget_add_css_class (GTK_WIDGET (window), "large-text");
  iterate_for (50);
  large = ts_ladder_view_get_row_height (ts_window_get_ladder (window));
  g_assert_cmpint (large, >, normal * 5 / 4);
  close_window (window);
}

/* Ctrl+T is kept for the next run, in the XDG config directory. */
static void
test_settings_large_text (void)
{
  g_autofree char *path = ts_settings_get_path ();
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (g_str_has_prefix (path, tmpdir));
  g_assert_false (ts_settings_get_large_text ());
  g_assert_true (ts_settings_set_large_text (TRUE, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_assert_nonnull (strstr (text, "[view]"));
  g_assert_nonnull (strstr (text, "large-text=true"));
  g_assert_true (ts_settings_get_large_text ());
  g_assert_true (ts_settings_set_large_text (FALSE, &error));
  g_assert_false (ts_settings_get_large_text ());
  /* A damaged file is the defaults. */
  g_assert_true (g_file_set_contents (path, "\x01[view\nlarge-text=maybe\n", -1, NULL));
  g_assert_false (ts_settings_get_large_text ());
  g_assert_true (ts_settings_set_large_text (TRUE, &error));
  g_assert_true (ts_settings_get_large_text ());
  g_unlink (path);
}

/* The ladder and the topology export to PNG, SVG and PDF. */
static void
test_window_export (void)
{
  TsWindow *window = new_window ();
  g_autoptr (GError) error = NULL;
  static const struct
  {
    const char *view, *name, *magic;
  } cases[] = {
    { "ladder", "ladder.png", "\x89PNG" },   { "ladder", "ladder.svg", "<?xml" },
    { "ladder", "ladder.pdf", "%PDF" },      { "topology", "topology.png", "\x89PNG" },
    { "topology", "topology.svg", "<?xml" }, { "topology", "topology.pdf", "%PDF" },
  };

  g_assert_true (ts_window_load_path (window, relay_path, &error));
  ts_session_set_step (ts_window_get_session (window), 20);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_build_filename (tmpdir, cases[i].name, NULL);
      g_autofree char *data = NULL;
      gsize len = 0;

      ts_window_set_view (window, cases[i].view);
      iterate_for (30);
      g_assert_true (ts_window_export (window, path, &error));
      g_assert_no_error (error);
      g_assert_true (g_file_get_contents (path, &data, &len, NULL));
      g_assert_cmpuint (len, >, 1000);
      g_assert_true (g_str_has_prefix (data, cases[i].magic));
    }
  {
    g_autofree char *bad = g_build_filename (tmpdir, "ladder.gif", NULL);
    g_assert_false (ts_window_export (window, bad, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  }
  close_window (window);
}

/* The screenshot mode renders the real window to a PNG for each view. */
static void
check_png (const char *path, int min_w, int min_h)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GdkTexture) texture = gdk_texture_new_from_filename (path, &error);
  g_autofree guchar *pixels = NULL;
  gsize stride;
  int w, h;
  gboolean varied = FALSE;

  g_assert_no_error (error);
  w = gdk_texture_get_width (texture);
  h = gdk_texture_get_height (texture);
  g_assert_cmpint (w, >=, min_w);
  g_assert_cmpint (h, >=, min_h);
  stride = (gsize)w * 4;
  pixels = g_malloc (stride * h);
  gdk_texture_download (texture, pixels, stride);
  /* Not a blank frame: the middle row holds more than one colour. */
  for (int x = 1; x < w && !varied; x++)
    varied = memcmp (pixels + (h / 2) * stride + x * 4, pixels + (h / 2) * stride, 4) != 0;
  g_assert_true (varied);
}

static void
test_screenshot (gconstpointer data)
{
  const char *view = data;
  const char *exe = g_getenv ("TS_TUNNELSCOPE");
  const char *keep = g_getenv ("TS_SCREENSHOT_DIR");
  g_autofree char *name = g_strdup_printf ("tunnelscope-%s.png", view);
  g_autofree char *out = g_build_filename (keep && *keep ? keep : tmpdir, name, NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *err = NULL;
  int status = 0;
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();

  if (exe == NULL)
    {
      g_test_skip ("TS_TUNNELSCOPE is not set");
      return;
    }
  g_ptr_array_add (argv, (char *)exe);
  g_ptr_array_add (argv, "--screenshot");
  g_ptr_array_add (argv, out);
  g_ptr_array_add (argv, g_str_equal (view, "compare") ? intercept_path : relay_path);
  g_ptr_array_add (argv, "--view");
  g_ptr_array_add (argv, (char *)view);
  g_ptr_array_add (argv, "--step");
  g_ptr_array_add (argv, g_str_equal (view, "detail") ? "27" : "30");
  if (g_str_equal (view, "compare"))
    {
      g_ptr_array_add (argv, "--compare");
      g_ptr_array_add (argv, relay_path);
    }
  if (g_str_equal (view, "topology"))
    {
      g_ptr_array_add (argv, "--as");
      g_ptr_array_add (argv, "proxy");
    }
  g_ptr_array_add (argv, NULL);
  g_remove (out);
  g_assert_true (g_spawn_sync (NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL,
                               &err, &status, &error));
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("tunnelscope --screenshot failed: %s", err);
  check_png (out, 1000, 600);
}

static void
test_screenshot_usage (void)
{
  const char *exe = g_getenv ("TS_TUNNELSCOPE");
  int status = 0;
  g_autofree char *err = NULL;
  const char *argv[] = { exe, "--screenshot", "/tmp/x.png", NULL };

  if (exe == NULL)
    {
      g_test_skip ("TS_TUNNELSCOPE is not set");
      return;
    }
  g_assert_true (g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, &err,
                               &status, NULL));
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 2);
  g_assert_nonnull (strstr (err, "tunnelscope: --screenshot needs a TRACE"));
}

/* Bad arguments are refused in one line, not clamped in silence. */
static void
test_command_line_refusals (void)
{
  const char *exe = g_getenv ("TS_TUNNELSCOPE");
  g_autofree char *out = g_build_filename (tmpdir, "refused.png", NULL);
  static const struct
  {
    const char *args[5];
    int status;
    const char *says;
  } cases[] = {
    { { "RELAY", "--step", "0", NULL }, 2, "tunnelscope: --step counts from 1" },
    { { "RELAY", "--step", "-3", NULL }, 2, "tunnelscope: --step counts from 1" },
    { { "RELAY", "--step", "9999", NULL }, 2, "tunnelscope: --step 9999: " },
    { { "--lesson", "0", NULL }, 2, "tunnelscope: there is no lesson 0" },
    { { "--lesson", "4", "--step", "9", NULL }, 2, "tunnelscope: --step 9: lesson 4 has " },
    { { "TMPDIR", NULL }, 1, ": is a directory, not a trace" },
  };

  if (exe == NULL)
    {
      g_test_skip ("TS_TUNNELSCOPE is not set");
      return;
    }
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GPtrArray) argv = g_ptr_array_new ();
      g_autofree char *err = NULL;
      int status = 0;

      g_ptr_array_add (argv, (char *)exe);
      g_ptr_array_add (argv, "--screenshot");
      g_ptr_array_add (argv, out);
      for (guint k = 0; cases[i].args[k] != NULL; k++)
        {
          const char *a = cases[i].args[k];
          g_ptr_array_add (argv, g_str_equal (a, "RELAY")    ? relay_path
                                 : g_str_equal (a, "TMPDIR") ? tmpdir
                                                             : (char *)a);
        }
      g_ptr_array_add (argv, NULL);
      g_assert_true (g_spawn_sync (NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                                   NULL, &err, &status, NULL));
      g_test_message ("case %u: %s", i, err);
      g_assert_true (WIFEXITED (status));
      g_assert_cmpint (WEXITSTATUS (status), ==, cases[i].status);
      g_assert_nonnull (strstr (err, cases[i].says));
      g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
    }
}

/* Lessons in the app. */

/* With TS_SCREENSHOT_DIR set, keeps a picture of @window as it is (to look at). */
static void
keep_picture (TsWindow *window, const char *name)
{
  const char *dir = g_getenv ("TS_SCREENSHOT_DIR");
  g_autofree char *path = NULL;
  g_autoptr (GError) error = NULL;

  if (dir == NULL || *dir == '\0')
    return;
  iterate_for (500); /* past the page's crossfade */
  path = g_build_filename (dir, name, NULL);
  if (!ts_screenshot_save (GTK_WIDGET (window), path, &error))
    g_test_message ("no picture %s: %s", path, error->message);
}

static guint
lesson_n_steps_4 (void)
{
  g_autoptr (TsLesson) lesson = ts_lesson_files_load (4, NULL);
  return lesson ? lesson->steps->len : 0;
}

static gboolean
lesson_shown (gpointer data)
{
  return ts_window_get_lesson_visible (TS_WINDOW (data));
}

/* Lesson 5 compares interception with a tunnel: its compare scenario's
 * capture opens on the right, and its compare steps show the compare view. */
static void
test_lesson_compare (void)
{
  g_autofree char *intercept
      = g_build_filename (source_dir (), "captures", "intercept.pcapng", NULL);
  g_autofree char *connect = g_build_filename (source_dir (), "captures", "connect.pcapng", NULL);
  g_autoptr (GError) error = NULL;
  TsWindow *window;
  TsSession *session;
  const TsLesson *lesson;
  guint compare_steps = 0;

  if (!g_file_test (intercept, G_FILE_TEST_EXISTS) || !g_file_test (connect, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("captures/intercept.pcapng or captures/connect.pcapng is not recorded yet");
      return;
    }
  window = new_window ();
  session = ts_window_get_session (window);
  g_assert_true (ts_window_load_lesson (window, 5, 0, &error));
  g_assert_no_error (error);
  lesson = ts_lesson_pane_get_lesson (ts_window_get_lesson_pane (window));
  g_assert_nonnull (lesson->compare);
  g_assert_cmpuint (ts_session_get_n_steps (session), >, 20);
  g_assert_cmpuint (ts_session_get_n_steps (ts_window_get_compare_session (window)), >, 20);
  g_assert_nonnull (
      strstr (ts_window_get_compare_summary (window), "Tunnels relayed / intercepted"));
  for (guint i = 0; i < lesson->steps->len; i++)
    {
      const TsLessonStep *step = lesson->steps->pdata[i];

      ts_lesson_pane_go (ts_window_get_lesson_pane (window), i);
      iterate_for (20);
      g_assert_cmpstr (ts_window_get_view (window), ==, ts_lesson_view_to_string (step->view));
      /* Both sides look through the step's eyes. */
      g_assert_cmpstr (ts_session_get_as (ts_window_get_compare_session (window)), ==,
                       step->as ? step->as : "");
      compare_steps += step->view == TS_LESSON_VIEW_COMPARE;
    }
  g_assert_cmpuint (compare_steps, >, 0);
  close_window (window);
}

/* Run it live: the lesson stays, and its highlights resolve again in the
 * live lab's events as they arrive (a child writing the lesson's capture
 * slowly stands for `tscope run connect -o -`). */
static void
test_lesson_live (void)
{
  g_autofree char *connect = g_build_filename (source_dir (), "captures", "connect.pcapng", NULL);
  g_autofree char *script
      = g_strdup_printf ("head -c 4000 '%s'; sleep 0.3; tail -c +4001 '%s'", connect, connect);
  const char *argv[] = { "/bin/sh", "-c", script, NULL };
  g_autoptr (GError) error = NULL;
  TsWindow *window;
  TsSession *session;
  TsLessonPane *pane;
  guint n = 0;

  if (!g_file_test (connect, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("captures/connect.pcapng is not recorded yet");
      return;
    }
  window = new_window ();
  session = ts_window_get_session (window);
  pane = ts_window_get_lesson_pane (window);
  g_assert_true (ts_window_load_lesson (window, 4, 1, &error));
  ts_session_get_highlights (session, &n);
  g_assert_cmpuint (n, >, 0);
  g_assert_true (ts_session_run_live (session, "connect", argv, &error));
  g_assert_no_error (error);
  iterate_until (live_done, session, 20000);
  iterate_for (400); /* the queries run again at most every 250 ms */
  g_assert_true (ts_window_get_lesson_visible (window));
  g_assert_cmpuint (ts_lesson_pane_get_step (pane), ==, 1);
  ts_session_get_highlights (session, &n);
  g_assert_cmpuint (n, >, 0);
  g_assert_cmpint (ts_session_get_first_highlighted_step (session), >, 0);
  /* Going to the step again moves to its events in the live trace. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (pane), "lesson.previous", NULL));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (pane), "lesson.next", NULL));
  g_assert_cmpint (ts_session_get_step (session), ==,
                   ts_session_get_first_highlighted_step (session));
  close_window (window);
}

/* A compare step with a highlight marks its events on both sides, each in
 * its own trace (a lesson written here, over the shipped captures). */
static void
test_lesson_compare_highlights (void)
{
  g_autofree char *data = g_build_filename (tmpdir, "data-compare", NULL);
  g_autofree char *lessons = g_build_filename (data, "lessons", NULL);
  g_autofree char *lesson_path = g_build_filename (lessons, "05-side-by-side.md", NULL);
  g_autofree char *captures = g_build_filename (data, "captures", NULL);
  g_autofree char *shipped = g_build_filename (source_dir (), "captures", NULL);
  g_autofree char *intercept = g_build_filename (shipped, "intercept.pcapng", NULL);
  g_autoptr (GError) error = NULL;
  const char *text
      = "# Side by side\n\n- scenario: intercept\n- compare: connect\n\nBoth.\n\n"
        "## The CONNECT on both sides\n\n- highlight: kind=http.request http.method=CONNECT\n"
        "- view: compare\n\nThe same request.\n\n"
        "## The ladder alone\n\n- highlight: kind=http.request http.method=CONNECT\n\nOnly the "
        "left.\n";
  TsWindow *window;
  TsSession *left, *right;
  guint n_left = 0, n_right = 0;

  if (!g_file_test (intercept, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("captures/intercept.pcapng is not recorded yet");
      return;
    }
  g_assert_cmpint (g_mkdir_with_parents (lessons, 0700), ==, 0);
  g_assert_true (g_file_set_contents (lesson_path, text, -1, NULL));
  {
    g_autoptr (GFile) link = g_file_new_for_path (captures);
    g_assert_true (g_file_make_symbolic_link (link, shipped, NULL, &error));
    g_assert_no_error (error);
  }
  g_setenv ("TS_DATA_DIR", data, TRUE);
  window = new_window ();
  left = ts_window_get_session (window);
  right = ts_window_get_compare_session (window);
  g_assert_true (ts_window_load_lesson (window, 5, 0, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (ts_window_get_view (window), ==, "compare");
  ts_session_get_highlights (left, &n_left);
  ts_session_get_highlights (right, &n_right);
  g_assert_cmpuint (n_left, >, 0);
  g_assert_cmpuint (n_right, >, 0);
  {
    int step = ts_session_get_first_highlighted_step (right);
    g_assert_cmpint (step, >=, 0);
    g_assert_cmpstr (
        ts_step_list_get_event (ts_session_get_step_list (right), (guint)step)->http_method, ==,
        "CONNECT");
  }
  iterate_for (50);
  /* A step that is not in compare mode leaves the right side unmarked. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.lesson-next", NULL));
  ts_session_get_highlights (right, &n_right);
  g_assert_cmpuint (n_right, ==, 0);
  ts_session_get_highlights (left, &n_left);
  g_assert_cmpuint (n_left, >, 0);
  g_unsetenv ("TS_DATA_DIR");
  close_window (window);
  g_remove (captures);
  g_remove (lesson_path);
  g_rmdir (lessons);
  g_rmdir (data);
}

typedef struct
{
  TsWindow *window;
  const char *scenario;
} CompareWait;

/* The compare side's title names @scenario (its capture is loaded). */
static gboolean
compare_title_names (gpointer data)
{
  CompareWait *w = data;
  const char *title = gtk_label_get_text (GTK_LABEL (ts_window_get_compare_title (w->window, 1)));
  g_autofree char *prefix = g_strdup_printf ("%s — ", w->scenario);

  return g_str_has_prefix (title, prefix);
}

/* The right side holds @scenario's capture, its title says so, and the
 * step's highlight marks there the client's one fatal alert, @alert, in
 * view, and nothing on the left (the intercept client trusts the proxy). */
static void
assert_right_alert (TsWindow *window, const char *scenario, const char *alert)
{
  TsSession *left = ts_window_get_session (window);
  TsSession *right = ts_window_get_compare_session (window);
  CompareWait wait = { window, scenario };
  const char *title;
  guint n_left = 0, n_right = 0;
  int first;

  iterate_until (compare_title_names, &wait, 10000);
  title = gtk_label_get_text (GTK_LABEL (ts_window_get_compare_title (window, 1)));
  g_test_message ("compare title: %s", title);
  g_assert_true (compare_title_names (&wait));
  g_assert_nonnull (strstr (title, ".pcapng"));
  g_assert_cmpstr (ts_window_get_view (window), ==, "compare");
  ts_session_get_highlights (left, &n_left);
  ts_session_get_highlights (right, &n_right);
  g_assert_cmpuint (n_left, ==, 0);
  g_assert_cmpuint (n_right, ==, 1);
  first = ts_session_get_first_highlighted_step (right);
  g_assert_cmpint (first, >=, 0);
  g_assert_cmpstr (ts_step_list_get_event (ts_session_get_step_list (right), (guint)first)->summary,
                   ==, alert);
  /* The right shows the alert, the left the same time. */
  g_assert_cmpint (ts_session_get_step (right), ==, first);
  g_assert_cmpint (ts_session_get_step (left), >, 0);
}

/* A step's own compare scenario: lesson 3's refusing clients are on the
 * right of their steps (the app showed the intercept capture, where the
 * client trusts the proxy), loaded as the student goes to the step, back
 * and forth, and at once when the lesson opens there. Lessons comparing
 * with their lesson's scenario alone keep it (lesson 1: connect). */
static void
test_lesson_step_compare (void)
{
  g_autofree char *untrusted
      = g_build_filename (source_dir (), "captures", "intercept-untrusted.pcapng", NULL);
  g_autofree char *pinned
      = g_build_filename (source_dir (), "captures", "intercept-pinned.pcapng", NULL);
  g_autoptr (GError) error = NULL;
  TsWindow *window;
  TsLessonPane *pane;
  const TsLesson *lesson;
  guint n = 0;

  if (!g_file_test (untrusted, G_FILE_TEST_EXISTS) || !g_file_test (pinned, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("the intercept-untrusted and intercept-pinned captures are not recorded");
      return;
    }
  window = new_window ();
  pane = ts_window_get_lesson_pane (window);
  ts_lesson_pane_set_record_progress (pane, FALSE);
  g_assert_true (ts_window_load_lesson (window, 3, 4, &error));
  g_assert_no_error (error);
  lesson = ts_lesson_pane_get_lesson (pane);
  g_assert_null (lesson->compare);
  g_assert_cmpuint (ts_session_get_n_steps (ts_window_get_compare_session (window)), ==, 0);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.lesson-next", NULL));
  g_assert_cmpuint (ts_lesson_pane_get_step (pane), ==, 5);
  assert_right_alert (window, "intercept-untrusted", "Alert fatal unknown_ca");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.lesson-next", NULL));
  assert_right_alert (window, "intercept-pinned", "Alert fatal handshake_failure");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.lesson-previous", NULL));
  assert_right_alert (window, "intercept-untrusted", "Alert fatal unknown_ca");
  /* A step comparing with nothing leaves the right side as it is. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.lesson-previous", NULL));
  /* Leaving the Bytes view about 100 ms after a step scrolled its panes
   * gave a GLib critical inside GTK 4.8 (a scrolled window unmapped while
   * its adjustment animated): fatal here, so this is its test. */
  iterate_for (100);
  g_assert_cmpstr (ts_window_get_view (window), ==, "detail");
  ts_session_get_highlights (ts_window_get_compare_session (window), &n);
  g_assert_cmpuint (n, ==, 0);
  g_assert_true (
      g_str_has_prefix (gtk_label_get_text (GTK_LABEL (ts_window_get_compare_title (window, 1))),
                        "intercept-untrusted — "));

  /* Opened at the pinning step (the screenshot mode's way): loaded at once. */
  g_assert_true (ts_window_load_lesson (window, 3, 6, &error));
  g_assert_no_error (error);
  g_assert_true (
      g_str_has_prefix (gtk_label_get_text (GTK_LABEL (ts_window_get_compare_title (window, 1))),
                        "intercept-pinned — "));
  assert_right_alert (window, "intercept-pinned", "Alert fatal handshake_failure");

  /* Lesson 1 compares with its lesson's connect: the proxy's two SYNs on
   * the right, the client's lone SYN on the left. */
  g_assert_true (ts_window_load_lesson (window, 1, 0, &error));
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (
      gtk_label_get_text (GTK_LABEL (ts_window_get_compare_title (window, 1))), "connect — "));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.lesson-next", NULL));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.lesson-next", NULL));
  iterate_for (100);
  g_assert_cmpuint (ts_lesson_pane_get_step (pane), ==, 2);
  g_assert_cmpstr (ts_window_get_view (window), ==, "compare");
  g_assert_true (g_str_has_prefix (
      gtk_label_get_text (GTK_LABEL (ts_window_get_compare_title (window, 1))), "connect — "));
  ts_session_get_highlights (ts_window_get_session (window), &n);
  g_assert_cmpuint (n, ==, 1);
  ts_session_get_highlights (ts_window_get_compare_session (window), &n);
  g_assert_cmpuint (n, ==, 2);
  close_window (window);
}

/* A lesson whose capture is missing says so and offers the live lab. */
static void
test_lesson_missing_capture (void)
{
  g_autofree char *data = g_build_filename (tmpdir, "data", NULL);
  g_autofree char *lessons = g_build_filename (data, "lessons", NULL);
  g_autofree char *src = g_build_filename (source_dir (), "lessons", "04-connect-tunnel.md", NULL);
  g_autofree char *dst = g_build_filename (lessons, "04-connect-tunnel.md", NULL);
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  TsWindow *window;
  TsLessonPane *pane;
  gsize len;

  g_assert_true (g_file_get_contents (src, &text, &len, NULL));
  g_assert_cmpint (g_mkdir_with_parents (lessons, 0700), ==, 0);
  g_assert_true (g_file_set_contents (dst, text, (gssize)len, NULL));
  g_setenv ("TS_DATA_DIR", data, TRUE);
  window = new_window ();
  pane = ts_window_get_lesson_pane (window);
  g_assert_true (ts_window_load_lesson (window, 4, 2, &error));
  g_assert_no_error (error);
  g_assert_true (ts_window_get_lesson_visible (window));
  g_assert_cmpuint (ts_lesson_pane_get_step (pane), ==, 2);
  g_assert_cmpuint (ts_session_get_n_steps (ts_window_get_session (window)), ==, 0);
  g_assert_nonnull (ts_lesson_pane_get_capture_missing (pane));
  g_assert_nonnull (strstr (ts_lesson_pane_get_capture_missing (pane), "captures/connect.pcapng"));
  g_assert_nonnull (strstr (ts_lesson_pane_get_capture_missing (pane), "is not recorded yet"));
  g_assert_nonnull (strstr (ts_lesson_pane_get_capture_missing (pane), "connect scenario live"));
  /* The narrative still works: the view and whose eyes follow the steps. */
  g_assert_cmpstr (ts_session_get_view (ts_window_get_session (window)), ==, "detail");
  g_assert_false (ts_window_load_lesson (window, 7, 0, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_unsetenv ("TS_DATA_DIR");
  close_window (window);
  g_remove (dst);
  g_rmdir (lessons);
  g_rmdir (data);
}

/* The screenshot mode renders the window with the lesson pane. */
static void
test_screenshot_lesson (void)
{
  const char *exe = g_getenv ("TS_TUNNELSCOPE");
  const char *keep = g_getenv ("TS_SCREENSHOT_DIR");
  g_autofree char *out
      = g_build_filename (keep && *keep ? keep : tmpdir, "tunnelscope-lesson-4-step-3.png", NULL);
  g_autofree char *connect = g_build_filename (source_dir (), "captures", "connect.pcapng", NULL);
  g_autofree char *err = NULL;
  g_autoptr (GError) error = NULL;
  int status = 0;
  const char *argv[] = { exe, "--screenshot", out, "--lesson", "4", "--step", "3", NULL };
  const char *bad[] = { exe, "--screenshot", out, "--lesson", "99", NULL };

  if (exe == NULL)
    {
      g_test_skip ("TS_TUNNELSCOPE is not set");
      return;
    }
  if (!g_file_test (connect, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("captures/connect.pcapng is not recorded yet");
      return;
    }
  g_remove (out);
  g_assert_true (g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, &err,
                               &status, &error));
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("tunnelscope --screenshot --lesson 4 --step 3 failed: %s", err);
  check_png (out, 1000, 600);
  g_clear_pointer (&err, g_free);
  g_assert_true (g_spawn_sync (NULL, (char **)bad, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, &err,
                               &status, NULL));
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 1);
  g_assert_nonnull (strstr (err, "there is no lesson 99"));
  /* Opening it (no screenshot) fails the same way, before any window shows. */
  g_clear_pointer (&err, g_free);
  g_assert_true (g_spawn_sync (NULL, (char **)(const char *[]){ exe, "--lesson", "99", NULL }, NULL,
                               G_SPAWN_DEFAULT, NULL, NULL, NULL, &err, &status, NULL));
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 1);
  g_assert_nonnull (strstr (err, "there is no lesson 99"));
}

/* Whether @markup is what a GtkLabel accepts: Pango markup plus <a href>
 * (which the label handles itself). */
static gboolean
label_markup_ok (const char *markup, GError **error)
{
  g_autoptr (GRegex) links = g_regex_new ("<a href=\"[^\"]*\">|</a>", 0, 0, NULL);
  g_autofree char *plain = g_regex_replace_literal (links, markup, -1, 0, "", 0, NULL);

  return pango_parse_markup (plain, -1, 0, NULL, NULL, NULL, error);
}

/* Markdown becomes Pango markup a label accepts: for every step of every
 * shipped lesson, and for the constructs lessons use. */
static void
test_lesson_markdown (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) lessons = ts_lesson_files_load_all (&error);
  g_autofree char *markup = ts_markdown_to_pango (
      "A `CONNECT` and [RFC 9110](https://www.rfc-editor.org/rfc/rfc9110) "
      "*em* **strong** <b>raw</b> & more\n\n- one\n- two\n\n1. first\n2. second\n");

  g_assert_nonnull (strstr (markup, "font_family=\"monospace\""));
  g_assert_nonnull (strstr (markup, "CONNECT"));
  g_assert_nonnull (
      strstr (markup, "<a href=\"https://www.rfc-editor.org/rfc/rfc9110\">RFC 9110</a>"));
  g_assert_nonnull (strstr (markup, "<i>em</i>"));
  g_assert_nonnull (strstr (markup, "<b>strong</b>"));
  g_assert_nonnull (strstr (markup, "&lt;b&gt;raw&lt;/b&gt; &amp; more"));
  g_assert_nonnull (strstr (markup, "• one\n• two"));
  g_assert_nonnull (strstr (markup, "1. first\n2. second"));
  g_assert_true (label_markup_ok (markup, &error));
  g_assert_no_error (error);

  g_assert_nonnull (lessons);
  g_assert_cmpuint (lessons->len, >=, 10);
  for (guint i = 0; i < lessons->len; i++)
    {
      const TsLesson *lesson = lessons->pdata[i];
      g_autofree char *intro = ts_markdown_to_pango (lesson->intro);

      g_assert_true (label_markup_ok (intro, &error));
      for (guint k = 0; k < lesson->steps->len; k++)
        {
          const TsLessonStep *step = lesson->steps->pdata[k];
          g_autofree char *text = ts_markdown_to_pango (step->narrative);
          if (!label_markup_ok (text, &error))
            g_error ("%s step %u: %s\n%s", lesson->path, k + 1, error->message, text);
        }
    }
}

static gboolean
same_indexes (GArray *a, const guint32 *b, guint n)
{
  if (a->len != n)
    return FALSE;
  for (guint i = 0; i < n; i++)
    if (g_array_index (a, guint, i) != b[i])
      return FALSE;
  return TRUE;
}

/* Lesson 4 on captures/connect.pcapng: each lesson step sets the session's
 * step (the first highlighted event), highlights, view and whose eyes;
 * the highlights are the events the lesson library finds in the capture. */
static void
test_lesson_steps (void)
{
  g_autofree char *capture_path
      = g_build_filename (source_dir (), "captures", "connect.pcapng", NULL);
  g_autoptr (TsLessonCapture) capture = NULL;
  g_autoptr (GError) error = NULL;
  TsWindow *window;
  TsSession *session;
  TsLessonPane *pane;
  const TsLesson *lesson;

  if (!g_file_test (capture_path, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("captures/connect.pcapng is not recorded yet");
      return;
    }
  capture = ts_lesson_capture_new_from_file (capture_path, &error);
  g_assert_no_error (error);
  window = new_window ();
  session = ts_window_get_session (window);
  pane = ts_window_get_lesson_pane (window);
  g_assert_false (ts_window_get_lesson_visible (window));
  g_assert_true (ts_window_load_lesson (window, 4, 0, &error));
  g_assert_no_error (error);
  g_assert_true (ts_window_get_lesson_visible (window));
  g_assert_cmpstr (ts_window_get_view (window), !=, "start");
  lesson = ts_lesson_pane_get_lesson (pane);
  g_assert_nonnull (lesson);
  g_assert_cmpuint (lesson->number, ==, 4);
  g_assert_cmpuint (lesson->steps->len, >=, 4);
  g_assert_null (ts_lesson_pane_get_capture_missing (pane));
  g_assert_cmpuint (ts_session_get_n_steps (session), >, 20);

  for (guint i = 0; i < lesson->steps->len; i++)
    {
      const TsLessonStep *step = lesson->steps->pdata[i];
      g_autoptr (GArray) expected = NULL;
      const guint32 *highlights;
      guint n;
      int first;

      if (i > 0)
        {
          /* Alt+Right: the window's action, as the keyboard uses it. */
          g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.lesson-next", NULL));
          iterate_for (20);
        }
      g_assert_cmpuint (ts_lesson_pane_get_step (pane), ==, i);
      g_assert_cmpstr (ts_session_get_view (session), ==, ts_lesson_view_to_string (step->view));
      g_assert_cmpstr (ts_window_get_view (window), ==, ts_lesson_view_to_string (step->view));
      g_assert_cmpstr (ts_session_get_as (session), ==, step->as ? step->as : "");
      highlights = ts_session_get_highlights (session, &n);
      if (step->highlight == NULL)
        {
          g_assert_cmpuint (n, ==, 0);
          continue;
        }
      expected = ts_lesson_capture_find (capture, step->highlight, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (expected->len, >, 0);
      g_assert_true (same_indexes (expected, highlights, n));
      first = ts_session_get_first_highlighted_step (session);
      g_assert_cmpint (first, >=, 0);
      g_assert_cmpint (ts_session_get_step (session), ==, first);
      g_assert_true (ts_session_step_is_highlighted (session, (guint)first));
      /* The step shows the highlighted event: its timeline index is one of them. */
      g_assert_cmpint (ts_step_list_find_step (ts_session_get_step_list (session), highlights[0]),
                       >=, first);
    }
  /* At the end Next does nothing; Back goes back and the session follows. */
  g_assert_false (gtk_widget_activate_action (GTK_WIDGET (pane), "lesson.next", NULL)
                  && ts_lesson_pane_get_step (pane) != lesson->steps->len - 1);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (pane), "lesson.previous", NULL));
  g_assert_cmpuint (ts_lesson_pane_get_step (pane), ==, lesson->steps->len - 2);
  {
    const TsLessonStep *step = lesson->steps->pdata[lesson->steps->len - 2];
    g_assert_cmpstr (ts_session_get_view (session), ==, ts_lesson_view_to_string (step->view));
    g_assert_cmpstr (ts_session_get_as (session), ==, step->as ? step->as : "");
  }
  /* The ladder draws with the highlights (a frame, no criticals), and the
   * events list marks them. */
  ts_lesson_pane_go (pane, 0);
  iterate_for (50);
  {
    GListModel *model = ts_event_list_get_model (ts_window_get_events (window));
    int first = ts_session_get_first_highlighted_step (session);
    g_autoptr (GObject) marked = g_list_model_get_item (model, (guint)first);
    g_autoptr (GObject) plain = g_list_model_get_item (model, 0);

    g_assert_cmpint (first, >, 0);
    g_assert_true (ts_step_item_get_highlighted (TS_STEP_ITEM (marked)));
    g_assert_false (ts_step_item_get_highlighted (TS_STEP_ITEM (plain)));
    gtk_widget_activate_action (GTK_WIDGET (window), "win.view", "s", "events");
    iterate_for (50);
    g_assert_cmpstr (ts_session_get_view (session), ==, "events");
    keep_picture (window, "lesson-events.png");
  }

  /* Closing the lesson clears its highlights. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.close-lesson", NULL));
  g_assert_false (ts_window_get_lesson_visible (window));
  {
    guint n;
    ts_session_get_highlights (session, &n);
    g_assert_cmpuint (n, ==, 0);
  }
  close_window (window);
}

/* Questions: wrong, then right (with the capture's own answer where the
 * lesson says how to compute it), and show the answer; progress is saved
 * under $XDG_DATA_HOME and the start page reads it back. */
static void
test_lesson_questions_progress (void)
{
  g_autofree char *capture_path
      = g_build_filename (source_dir (), "captures", "connect.pcapng", NULL);
  g_autofree char *progress_path
      = g_build_filename (g_get_user_data_dir (), "tunnelscope", "progress.ini", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (TsLessonProgress) progress = NULL;
  TsWindow *window;
  TsLessonPane *pane;
  const TsLesson *lesson;
  int status_step = -1;

  g_assert_true (g_str_has_prefix (progress_path, tmpdir));
  if (!g_file_test (capture_path, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("captures/connect.pcapng is not recorded yet");
      return;
    }
  g_remove (progress_path);
  window = new_window ();
  pane = ts_window_get_lesson_pane (window);
  g_assert_true (ts_window_load_lesson (window, 4, 0, &error));
  lesson = ts_lesson_pane_get_lesson (pane);

  /* Step 1: authority-form. */
  g_assert_false (ts_lesson_pane_answer (pane, "origin-form"));
  g_assert_nonnull (strstr (ts_lesson_pane_get_feedback (pane), "try again"));
  keep_picture (window, "lesson-answer-wrong.png");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (pane), "lesson.show-answer", NULL));
  g_assert_nonnull (strstr (ts_lesson_pane_get_feedback (pane), "The answer: authority-form"));
  /* Show the answer selected it: Check now says right. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (pane), "lesson.check", NULL));
  g_assert_true (g_str_has_prefix (ts_lesson_pane_get_feedback (pane), "Right: authority-form"));
  g_assert_true (ts_lesson_pane_answer (pane, "  Authority-Form "));

  /* The question computed from the capture: the status that opened the tunnel. */
  for (guint i = 0; i < lesson->steps->len; i++)
    {
      const TsLessonStep *step = lesson->steps->pdata[i];
      if (step->question && step->question->from_query
          && g_str_equal (step->question->answer, "200"))
        status_step = (int)i;
    }
  g_assert_cmpint (status_step, >, 0);
  ts_lesson_pane_go (pane, (guint)status_step);
  g_assert_cmpstr (ts_lesson_pane_get_feedback (pane), ==, "");
  g_assert_false (ts_lesson_pane_answer (pane, "204"));
  g_assert_true (ts_lesson_pane_answer (pane, "200"));
  g_assert_nonnull (strstr (ts_lesson_pane_get_feedback (pane), "The capture says so too: 200"));
  keep_picture (window, "lesson-answer-right.png");
  ts_lesson_pane_go (pane, lesson->steps->len - 1);
  ts_lesson_pane_go (pane, 1);
  close_window (window);

  /* Saved where XDG says, and read back. */
  g_assert_true (g_file_test (progress_path, G_FILE_TEST_EXISTS));
  progress = ts_lesson_progress_new (NULL);
  g_assert_cmpstr (ts_lesson_progress_get_path (progress), ==, progress_path);
  g_assert_true (ts_lesson_progress_has (progress, 4));
  g_assert_false (ts_lesson_progress_has (progress, 1));
  g_assert_cmpuint (ts_lesson_progress_get_step (progress, 4), ==, 1);
  g_assert_cmpuint (ts_lesson_progress_get_reached (progress, 4), ==, lesson_n_steps_4 () - 1);
  g_assert_true (ts_lesson_progress_is_answered (progress, 4, 0));
  g_assert_true (ts_lesson_progress_is_answered (progress, 4, (guint)status_step));
  g_assert_cmpuint (ts_lesson_progress_get_n_answered (progress, 4), ==, 2);

  /* The start page lists the lessons with it; a window reopens where the
   * student left off. */
  window = new_window ();
  {
    TsStartPage *page = ts_window_get_start_page (window);
    g_autofree char *expected = NULL;
    const char *line;

    ts_start_page_refresh_lessons (page);
    g_assert_cmpuint (ts_start_page_get_n_lessons (page), >=, 10);
    line = ts_start_page_get_lesson_progress (page, 4);
    g_assert_nonnull (line);
    expected = g_strdup_printf ("Step %u of %u reached · 2 of 3 questions answered",
                                lesson_n_steps_4 (), lesson_n_steps_4 ());
    g_assert_cmpstr (line, ==, expected);
    g_assert_nonnull (strstr (ts_start_page_get_lesson_progress (page, 1), "not started"));
  }
  /* The start page's Open button: win.open-lesson, off the main loop. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.open-lesson", "i", 4));
  iterate_until (lesson_shown, window, 20000);
  g_assert_true (ts_window_get_lesson_visible (window));
  g_assert_cmpuint (ts_lesson_pane_get_step (ts_window_get_lesson_pane (window)), ==, 1);
  close_window (window);
}

/* Removes @path and everything under it (the test's own directory). */
static void
remove_tree (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
      const char *name;
      while (dir && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          remove_tree (child);
        }
      g_rmdir (path);
    }
  else
    g_remove (path);
}

/* Every warning and critical stays fatal, but one: GTK 4.8's "Trying to
 * snapshot GtkGizmo ... without a current allocation", about one of its
 * own internal widgets. It came once, in a CI run under load, during
 * ladder/labels-fit (not reproduced in eight runs here); GTK gives it
 * elsewhere for a popup that goes away between frames, and a ladder row's
 * tooltip is the popup here that depends on where the display's pointer
 * rests, which the tests do not control. */
static gboolean
fatal_unless_gtk_popup_snapshot (const char *domain, GLogLevelFlags level, const char *message,
                                 gpointer data)
{
  if (g_strcmp0 (domain, "Gtk") == 0 && (level & G_LOG_LEVEL_WARNING)
      && g_str_has_prefix (message, "Trying to snapshot GtkGizmo ")
      && g_str_has_suffix (message, " without a current allocation"))
    return FALSE;
  return TRUE;
}

int
main (int argc, char **argv)
{
  g_autofree char *reason = NULL;
  int ret;

  g_setenv ("GSK_RENDERER", "cairo", FALSE);
  g_setenv ("GTK_A11Y", "none", TRUE);
  g_setenv ("NO_AT_BRIDGE", "1", TRUE);
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  tmpdir = g_dir_make_tmp ("ts-gui-XXXXXX", NULL);
  /* Lesson progress goes to a directory of the test's own (set before
   * anything asks GLib for the user data directory: it is read once). */
  {
    g_autofree char *xdg = g_build_filename (tmpdir, "xdg-data", NULL);
    g_autofree char *config = g_build_filename (tmpdir, "xdg-config", NULL);
    g_setenv ("XDG_DATA_HOME", xdg, TRUE);
    g_setenv ("XDG_CONFIG_HOME", config, TRUE);
  }
  if (!ts_gui_test_start_display (&reason))
    {
      printf ("1..0 # SKIP %s\n", reason);
      return 0;
    }
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  g_test_log_set_fatal_handler (fatal_unless_gtk_popup_snapshot, NULL);
  ts_application_ensure_resources ();
  /* The app's style sheet, as the AdwApplication would load it. */
  {
    g_autoptr (GtkCssProvider) css = gtk_css_provider_new ();
    gtk_css_provider_load_from_resource (css, "/org/tunnelscope/Tunnelscope/style.css");
    gtk_style_context_add_provider_for_display (gdk_display_get_default (),
                                                GTK_STYLE_PROVIDER (css),
                                                GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  }
  /* TS_GUI_TEST_TRACE_DIR keeps copies of the test traces (for screenshots
   * by hand). */
  if (g_getenv ("TS_GUI_TEST_TRACE_DIR"))
    {
      g_free (ts_gui_test_write_connect_trace (g_getenv ("TS_GUI_TEST_TRACE_DIR"), "relay.pcapng",
                                               FALSE));
      g_free (ts_gui_test_write_connect_trace (g_getenv ("TS_GUI_TEST_TRACE_DIR"),
                                               "intercept.pcapng", TRUE));
    }
  relay_path = ts_gui_test_write_connect_trace (tmpdir, "relay.pcapng", FALSE);
  intercept_path = ts_gui_test_write_connect_trace (tmpdir, "intercept.pcapng", TRUE);

  g_test_add_func ("/ts/gui/session/step", test_session_step);
  g_test_add_func ("/ts/gui/session/capture-lost", test_session_capture_lost);
  g_test_add_func ("/ts/gui/session/whose-eyes", test_session_whose_eyes);
  g_test_add_func ("/ts/gui/session/not-on-path", test_session_not_on_path);
  g_test_add_func ("/ts/gui/session/address-sides", test_session_address_sides);
  g_test_add_func ("/ts/gui/session/frame-numbers", test_session_frame_numbers);
  g_test_add_func ("/ts/gui/session/load-async", test_session_load_async);
  g_test_add_func ("/ts/gui/session/keylog", test_session_keylog);
  g_test_add_func ("/ts/gui/session/load-error", test_session_load_error);
  g_test_add_func ("/ts/gui/session/load-damaged", test_session_load_damaged);
  g_test_add_func ("/ts/gui/session/live-stream", test_session_live_stream);
  g_test_add_func ("/ts/gui/session/live-lab", test_session_live_lab);
  g_test_add_func ("/ts/gui/start-page", test_start_page);
  g_test_add_func ("/ts/gui/captures", test_captures);
  g_test_add_func ("/ts/gui/captures/whose-eyes", test_captures_whose_eyes);
  g_test_add_func ("/ts/gui/window/views", test_window_views);
  g_test_add_func ("/ts/gui/window/compare", test_window_compare);
  g_test_add_func ("/ts/gui/window/compare-round-trips", test_window_compare_round_trips);
  g_test_add_func ("/ts/gui/window/as-unknown", test_window_as_unknown);
  g_test_add_func ("/ts/gui/window/compare-titles", test_window_compare_titles);
  g_test_add_func ("/ts/gui/window/hex-fits", test_window_hex_fits);
  g_test_add_func ("/ts/gui/window/export", test_window_export);
  g_test_add_func ("/ts/gui/window/large-text", test_window_large_text);
  g_test_add_func ("/ts/gui/settings/large-text", test_settings_large_text);
  g_test_add_func ("/ts/gui/ladder/large", test_ladder_large);
  g_test_add_func ("/ts/gui/ladder/labels-fit", test_ladder_labels_fit);
  g_test_add_func ("/ts/gui/ladder/compare-readable", test_ladder_compare_readable);
  g_test_add_data_func ("/ts/gui/screenshot/ladder", "ladder", test_screenshot);
  g_test_add_data_func ("/ts/gui/screenshot/topology", "topology", test_screenshot);
  g_test_add_data_func ("/ts/gui/screenshot/detail", "detail", test_screenshot);
  g_test_add_data_func ("/ts/gui/screenshot/compare", "compare", test_screenshot);
  g_test_add_func ("/ts/gui/screenshot/usage", test_screenshot_usage);
  g_test_add_func ("/ts/gui/command-line/refusals", test_command_line_refusals);
  g_test_add_func ("/ts/gui/lesson/markdown", test_lesson_markdown);
  g_test_add_func ("/ts/gui/lesson/steps", test_lesson_steps);
  g_test_add_func ("/ts/gui/lesson/questions-progress", test_lesson_questions_progress);
  g_test_add_func ("/ts/gui/lesson/compare", test_lesson_compare);
  g_test_add_func ("/ts/gui/lesson/live", test_lesson_live);
  g_test_add_func ("/ts/gui/lesson/compare-highlights", test_lesson_compare_highlights);
  g_test_add_func ("/ts/gui/lesson/step-compare", test_lesson_step_compare);
  g_test_add_func ("/ts/gui/lesson/missing-capture", test_lesson_missing_capture);
  g_test_add_func ("/ts/gui/screenshot/lesson", test_screenshot_lesson);
  ret = g_test_run ();

  remove_tree (tmpdir);
  ts_gui_test_stop_display ();
  return ret;
}
