/* test-tshark-proxies.c: the analyzer against tshark on traces made here
 * with curl through squid and through tinyproxy (loopback of a private
 * network namespace, tcpdump capture, curl's key log): every HTTP request
 * and response (HTTP/1, and HTTP/2 from nghttpd through the tunnels) and
 * every TLS handshake message tshark reports on an interface, the analyzer
 * reports on the same link with the same values.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "ts-analyzer.h"

static gboolean
have (const char *program)
{
  g_autofree char *path = g_find_program_in_path (program);
  return path != NULL;
}

/* Adds "IFACE KEY" to @set (a multiset: value = count). */
static void
add (GHashTable *set, const char *iface, const char *key)
{
  char *k = g_strdup_printf ("%s %s", iface, key);
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (set, k));

  g_hash_table_replace (set, k, GUINT_TO_POINTER (n + 1));
}

/* "PREFIX ITEM" for each ITEM of the comma-separated @list (several
 * messages in one frame). */
static void
add_each (GHashTable *set, const char *iface, const char *prefix, const char *list)
{
  g_auto (GStrv) items = NULL;

  if (list[0] == '\0')
    return;
  items = g_strsplit (list, ",", -1);
  for (guint k = 0; items[k] != NULL; k++)
    {
      g_autofree char *key = g_strdup_printf ("%s %s", prefix, items[k]);
      add (set, iface, key);
    }
}

/* "request METHOD TARGET" for the parallel lists @methods and @targets. */
static void
add_requests (GHashTable *set, const char *iface, const char *methods, const char *targets)
{
  g_auto (GStrv) m = NULL;
  g_auto (GStrv) u = NULL;

  if (methods[0] == '\0')
    return;
  m = g_strsplit (methods, ",", -1);
  u = g_strsplit (targets, ",", -1);
  for (guint k = 0; m[k] != NULL; k++)
    {
      g_autofree char *key
          = g_strdup_printf ("request %s %s", m[k], k < g_strv_length (u) ? u[k] : "");
      add (set, iface, key);
    }
}

/* What tshark reports in @trace (with the key log @keys, or NULL for the
 * secrets inside the trace). */
static GHashTable *
tshark_set (const char *trace, const char *keys)
{
  GHashTable *set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *keyopt = g_strdup_printf ("tls.keylog_file:%s", keys ? keys : "");
  const char *argv[] = { "tshark", "-n",
                         "-r",     trace,
                         "-o",     keyopt,
                         "-T",     "fields",
                         "-E",     "separator=/t",
                         "-e",     "frame.interface_name",
                         "-e",     "http.request.method",
                         "-e",     "http.request.uri",
                         "-e",     "http.response.code",
                         "-e",     "tls.handshake.type",
                         "-e",     "tls.handshake.extensions_server_name",
                         "-e",     "http2.headers.method",
                         "-e",     "http2.headers.path",
                         "-e",     "http2.headers.status",
                         NULL };
  g_autofree char *out = NULL;
  g_autoptr (GError) error = NULL;
  int status = 0;
  g_auto (GStrv) lines = NULL;

  g_assert_true (g_spawn_sync (NULL, (char **)argv, NULL,
                               G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out,
                               NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  lines = g_strsplit (out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto (GStrv) f = g_strsplit (lines[i], "\t", -1);
      const char *iface;
      if (g_strv_length (f) < 9)
        continue;
      iface = f[0][0] ? f[0] : "if0"; /* classic pcap: one unnamed interface */
      /* HTTP/1, then HTTP/2 (HPACK's fields): the same keys. */
      add_requests (set, iface, f[1], f[2]);
      add_each (set, iface, "response", f[3]);
      add_each (set, iface, "handshake", f[4]);
      if (f[5][0])
        {
          g_autofree char *key = g_strdup_printf ("sni %s", f[5]);
          add (set, iface, key);
        }
      add_requests (set, iface, f[6], f[7]);
      add_each (set, iface, "response", f[8]);
    }
  return set;
}

static GHashTable *
analyzer_set (const char *trace, const char *keys, TsAnalyzer **out_an)
{
  GHashTable *set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *data = NULL, *keytext = NULL;
  gsize len = 0, keylen = 0;
  g_autoptr (GError) error = NULL;
  TsAnalyzer *an = ts_analyzer_new ();
  TsTimeline *tl;

  g_assert_true (g_file_get_contents (trace, &data, &len, &error));
  if (keys != NULL)
    {
      g_assert_true (g_file_get_contents (keys, &keytext, &keylen, &error));
      ts_analyzer_add_keylog (an, keytext, keylen);
    }
  g_assert_true (ts_analyzer_feed (an, (const guint8 *)data, len, &error));
  g_assert_no_error (error);
  g_assert_true (ts_analyzer_finish (an, &error));
  g_assert_no_error (error);
  tl = ts_analyzer_get_timeline (an);
  for (guint i = 0; i < ts_timeline_get_n_events (tl); i++)
    {
      const TsTimelineEvent *e = ts_timeline_get_event (tl, i);
      g_autofree char *key = NULL;
      const char *iface = e->link >= 0 ? ts_timeline_get_link (tl, (guint)e->link)->name : "-";

      if (strcmp (e->kind, "http.request") == 0)
        key = g_strdup_printf ("request %s %s", e->http_method, e->http_target);
      else if (strcmp (e->kind, "http.response") == 0)
        key = g_strdup_printf ("response %u", e->http_status);
      else if (strcmp (e->kind, "tls.handshake") == 0)
        {
          key = g_strdup_printf ("handshake %d", e->tls_handshake_type);
          if (e->tls_sni != NULL)
            {
              g_autofree char *sni = g_strdup_printf ("sni %s", e->tls_sni);
              add (set, iface, sni);
            }
        }
      if (key != NULL)
        add (set, iface, key);
    }
  *out_an = an;
  return set;
}

/* Every item of @theirs is in @ours at least as often. Counts HTTP and TLS items. */
static void
check_included (GHashTable *theirs, GHashTable *ours, const char *what, guint *out_http,
                guint *out_tls)
{
  GHashTableIter it;
  gpointer k, v;

  *out_http = *out_tls = 0;
  g_hash_table_iter_init (&it, theirs);
  while (g_hash_table_iter_next (&it, &k, &v))
    {
      guint mine = GPOINTER_TO_UINT (g_hash_table_lookup (ours, k));
      if (mine < GPOINTER_TO_UINT (v))
        g_error ("%s: tshark reports \"%s\" %u times, the analyzer %u", what, (const char *)k,
                 GPOINTER_TO_UINT (v), mine);
      if (strstr (k, " request ") || strstr (k, " response "))
        *out_http += GPOINTER_TO_UINT (v);
      else
        *out_tls += GPOINTER_TO_UINT (v);
    }
  g_test_message ("%s: %u HTTP and %u TLS items agree with tshark", what, *out_http, *out_tls);
}

static void
test_squid_tinyproxy (void)
{
  static const char *const needed[] = { "tshark",  "squid",   "tinyproxy", "curl", "tcpdump",
                                        "openssl", "python3", "unshare",   "ip",   "ss" };
  g_autofree char *dir = NULL;
  g_autofree char *script
      = g_build_filename (TS_SOURCE_DIR, "tests", "trace", "analyzer", "capture-proxies.sh", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) theirs = NULL, ours = NULL;
  g_autoptr (TsAnalyzer) an = NULL;
  guint n_http = 0, n_tls = 0;
  gboolean h2 = FALSE;
  int status = 0;
  g_autofree char *err = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (needed); i++)
    if (!have (needed[i]))
      {
        g_autofree char *why = g_strdup_printf ("%s is not installed", needed[i]);
        g_test_skip (why);
        return;
      }
  if (getuid () != 0)
    {
      g_test_skip ("needs root to run squid and tcpdump in a private network namespace");
      return;
    }
  dir = g_dir_make_tmp ("ts-analyzer-proxies-XXXXXX", &error);
  g_assert_no_error (error);
  /* squid drops to its own user: let it write its log here. */
  g_chmod (dir, 0777);
  {
    const char *argv[] = { "timeout", "90", "unshare", "-n", "sh", script, dir, NULL };
    g_assert_true (g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                                 &err, &status, &error));
    g_assert_no_error (error);
    if (!g_spawn_check_wait_status (status, NULL))
      {
        g_autofree char *why = g_strdup_printf (
            "could not make the capture (unshare, squid or tinyproxy failed): %s", err);
        g_test_skip (why);
        return;
      }
  }
  {
    g_autofree char *trace = g_build_filename (dir, "trace.pcap", NULL);
    g_autofree char *keys = g_build_filename (dir, "keys.log", NULL);
    g_autofree char *h2_flag = g_build_filename (dir, "h2", NULL);
    theirs = tshark_set (trace, keys);
    ours = analyzer_set (trace, keys, &an);
    check_included (theirs, ours, "squid and tinyproxy", &n_http, &n_tls);
    h2 = g_file_test (h2_flag, G_FILE_TEST_EXISTS);
    if (!h2 && g_getenv ("TS_REQUIRE_LAB") != NULL)
      g_error ("nghttpd is not installed: no HTTP/2 through the proxies (tools/install-deps)");
  }
  /* Both proxies, each with a forward GET and a CONNECT: 2 x (2 + 2 + 1 + 1 + 2 inner GETs);
   * with nghttpd, also an HTTP/2 GET and its response through a second CONNECT. */
  g_assert_cmpuint (n_http, >=, h2 ? 24 : 16);
  g_assert_cmpuint (n_tls, >=, h2 ? 16 : 8);
  /* And the hops were matched: a tunnel per CONNECT, relayed. */
  {
    TsTimeline *tl = ts_analyzer_get_timeline (an);
    guint n_h2 = 0;

    g_assert_cmpuint (ts_timeline_get_n_tunnels (tl), ==, h2 ? 4 : 2);
    for (guint i = 0; i < ts_timeline_get_n_tunnels (tl); i++)
      {
        const TsTimelineTunnel *t = ts_timeline_get_tunnel (tl, i);
        g_assert_cmpint (t->mode, ==, TS_TUNNEL_MODE_RELAY);
        g_assert_cmpuint (t->conns->len, ==, 2);
        g_assert_true (g_str_equal (t->target, "localhost:18443")
                       || (h2 && g_str_equal (t->target, "localhost:18444")));
      }
    /* The HTTP/2 requests: decrypted, on a stream, on both legs of a relay. */
    for (guint i = 0; i < ts_timeline_get_n_events (tl); i++)
      {
        const TsTimelineEvent *e = ts_timeline_get_event (tl, i);
        if (strcmp (e->kind, "http.request") == 0 && e->stream != 0)
          {
            g_assert_cmpstr (e->http_target, ==, "/index.html");
            g_assert_true (e->decrypted);
            g_assert_cmpint (e->tunnel, >=, 0);
            n_h2++;
          }
      }
    g_assert_cmpuint (n_h2, >=, h2 ? 2 : 0);
  }
  {
    const char *argv[] = { "rm", "-rf", dir, NULL };
    g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL,
                  NULL);
  }
}

/* Every trace in captures/ (recorded by `tscope record`, secrets inside). */
static void
test_captures (void)
{
  /* TS_CAPTURES_DIR points elsewhere, to check freshly recorded traces. */
  g_autofree char *dir = g_getenv ("TS_CAPTURES_DIR")
                             ? g_strdup (g_getenv ("TS_CAPTURES_DIR"))
                             : g_build_filename (TS_SOURCE_DIR, "captures", NULL);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  guint n = 0;

  if (!have ("tshark"))
    {
      g_test_skip ("tshark is not installed");
      return;
    }
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = NULL;
      g_autoptr (GHashTable) theirs = NULL, ours = NULL;
      g_autoptr (TsAnalyzer) an = NULL;
      guint n_http, n_tls;

      if (!g_str_has_suffix (name, ".pcapng"))
        continue;
      path = g_build_filename (dir, name, NULL);
      theirs = tshark_set (path, NULL);
      ours = analyzer_set (path, NULL, &an);
      check_included (theirs, ours, name, &n_http, &n_tls);
      n++;
    }
  if (n == 0)
    g_test_skip ("captures/ holds no trace yet (tscope record --all makes them)");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ts/trace/analyzer/tshark/squid-tinyproxy", test_squid_tinyproxy);
  g_test_add_func ("/ts/trace/analyzer/tshark/captures", test_captures);
  return g_test_run ();
}
