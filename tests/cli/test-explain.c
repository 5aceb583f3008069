/* test-explain.c: `tscope explain` as a user runs it: its exit statuses and
 * one-line errors for traces that cannot be read, a partly damaged trace,
 * standard input, JSON, pictures, --as, --width, and a trace truncated by
 * another program while it is mapped.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <signal.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "ts-test-frames.h"

typedef struct
{
  int status; /* exit status, or 128 + the signal */
  char *out;
  gsize out_len;
  char *err;
} Run;

static void
run_clear (Run *r)
{
  g_free (r->out);
  g_free (r->err);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Run, run_clear)

/* A path in the build directory: components, NULL-terminated. */
static char *
build_path (const char *first, ...)
{
  const char *build = g_getenv ("TS_BUILD_DIR") ? g_getenv ("TS_BUILD_DIR") : TS_BUILD_DIR;
  g_autofree char *tail = NULL;
  va_list ap;

  va_start (ap, first);
  tail = g_build_filename_valist (first, &ap);
  va_end (ap);
  return g_build_filename (build, tail, NULL);
}

static char *
capture_path (const char *name)
{
  const char *source = g_getenv ("TS_SOURCE_DIR") ? g_getenv ("TS_SOURCE_DIR") : TS_SOURCE_DIR;
  return g_build_filename (source, "captures", name, NULL);
}

/* Runs `tscope ARGS...` (NULL-terminated) with standard input from
 * @stdin_path (or /dev/null) and @env ("NAME=VALUE" pairs, NULL-terminated,
 * or NULL) added. */
static void
run_tscope (Run *r, const char *stdin_path, const char *const *env, ...)
{
  g_autoptr (GSubprocessLauncher) launcher
      = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GBytes) out = NULL, err = NULL;
  g_autoptr (GError) error = NULL;
  const char *arg;
  va_list ap;

  g_ptr_array_add (argv, build_path ("cli", "tscope", NULL));
  va_start (ap, env);
  while ((arg = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (argv, g_strdup (arg));
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  g_subprocess_launcher_setenv (launcher, "TZ", "UTC", TRUE);
  g_subprocess_launcher_setenv (launcher, "LC_ALL", "C", TRUE);
  {
    /* Pictures load fontconfig, whose caches live until exit. */
    const char *source = g_getenv ("TS_SOURCE_DIR") ? g_getenv ("TS_SOURCE_DIR") : TS_SOURCE_DIR;
    g_autofree char *supp = g_build_filename (source, "tests", "cli", "lsan.supp", NULL);
    g_autofree char *lsan = g_strconcat ("print_suppressions=0:suppressions=", supp, NULL);
    g_subprocess_launcher_setenv (launcher, "LSAN_OPTIONS", lsan, TRUE);
  }
  for (guint i = 0; env != NULL && env[i] != NULL; i++)
    {
      g_auto (GStrv) kv = g_strsplit (env[i], "=", 2);
      g_subprocess_launcher_setenv (launcher, kv[0], kv[1], TRUE);
    }
  g_subprocess_launcher_set_stdin_file_path (launcher,
                                             stdin_path != NULL ? stdin_path : "/dev/null");
  proc = g_subprocess_launcher_spawnv (launcher, (const char *const *)argv->pdata, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_communicate (proc, NULL, NULL, &out, &err, &error));
  g_assert_no_error (error);
  r->status = g_subprocess_get_if_exited (proc) ? g_subprocess_get_exit_status (proc)
                                                : 128 + g_subprocess_get_term_sig (proc);
  r->out = g_bytes_unref_to_data (g_steal_pointer (&out), &r->out_len);
  r->out = g_realloc (r->out, r->out_len + 1);
  r->out[r->out_len] = '\0';
  {
    gsize n;
    r->err = g_bytes_unref_to_data (g_steal_pointer (&err), &n);
    r->err = g_realloc (r->err, n + 1);
    r->err[n] = '\0';
  }
}

/* The error is one line, "tscope: ..." containing each of the NULL-terminated
 * @parts. */
static void
assert_one_line_error (const Run *r, ...)
{
  const char *part;
  va_list ap;

  g_test_message ("stderr: %s", r->err);
  g_assert_true (g_str_has_prefix (r->err, "tscope: "));
  g_assert_true (g_str_has_suffix (r->err, "\n"));
  g_assert_true (strchr (r->err, '\n') == r->err + strlen (r->err) - 1);
  va_start (ap, r);
  while ((part = va_arg (ap, const char *)) != NULL)
    g_assert_nonnull (strstr (r->err, part));
  va_end (ap);
}

static void
test_unreadable (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ts-explain-XXXXXX", NULL);
  g_autofree char *missing = g_build_filename (dir, "missing.pcapng", NULL);
  g_autofree char *junk = g_build_filename (dir, "junk.pcapng", NULL);
  g_autofree char *empty = g_build_filename (dir, "empty.pcapng", NULL);
  g_autofree char *gz = g_build_filename (dir, "trace.pcapng.gz", NULL);
  g_autoptr (GError) error = NULL;

  {
    g_auto (Run) r = { 0 };
    run_tscope (&r, NULL, NULL, "explain", missing, NULL);
    g_assert_cmpint (r.status, ==, 1);
    assert_one_line_error (&r, missing, "No such file", NULL);
    g_assert_cmpstr (r.out, ==, "");
  }
  {
    g_auto (Run) r = { 0 };
    g_assert_true (g_file_set_contents (junk, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", -1, &error));
    run_tscope (&r, NULL, NULL, "explain", junk, NULL);
    g_assert_cmpint (r.status, ==, 1);
    assert_one_line_error (&r, junk, "offset 0", "not a pcap or pcapng file", NULL);
  }
  {
    g_auto (Run) r = { 0 };
    g_assert_true (g_file_set_contents (empty, "", 0, &error));
    run_tscope (&r, NULL, NULL, "explain", empty, NULL);
    g_assert_cmpint (r.status, ==, 1);
    assert_one_line_error (&r, empty, "empty", NULL);
  }
  {
    /* The same from standard input. */
    g_auto (Run) r = { 0 };
    run_tscope (&r, junk, NULL, "explain", "-", NULL);
    g_assert_cmpint (r.status, ==, 1);
    assert_one_line_error (&r, "offset 0", "not a pcap or pcapng file", NULL);
  }
  {
    /* A gzip-compressed capture: say so, and to decompress it. */
    g_autofree char *capture = capture_path ("connect.pcapng");
    g_autoptr (GFile) in = g_file_new_for_path (capture);
    g_autoptr (GFile) out = g_file_new_for_path (gz);
    g_autoptr (GInputStream) raw = G_INPUT_STREAM (g_file_read (in, NULL, &error));
    g_autoptr (GOutputStream) file
        = G_OUTPUT_STREAM (g_file_replace (out, NULL, FALSE, 0, NULL, &error));
    g_autoptr (GZlibCompressor) gzip = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP, -1);
    g_autoptr (GOutputStream) compressed = g_converter_output_stream_new (file, G_CONVERTER (gzip));
    g_auto (Run) r = { 0 };

    g_assert_no_error (error);
    g_assert_cmpint (g_output_stream_splice (compressed, raw,
                                             G_OUTPUT_STREAM_SPLICE_CLOSE_SOURCE
                                                 | G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET,
                                             NULL, &error),
                     >, 0);
    g_assert_no_error (error);
    run_tscope (&r, NULL, NULL, "explain", gz, NULL);
    g_assert_cmpint (r.status, ==, 1);
    assert_one_line_error (&r, gz, "gzip-compressed", "decompress it first (gunzip)", NULL);
    g_assert_cmpstr (r.out, ==, "");
  }
  g_unlink (junk);
  g_unlink (empty);
  g_unlink (gz);
  g_rmdir (dir);
}

/* --keylog FILE that cannot be read: one line naming the option, the file
 * and the cause (not GLib's "Failed to open file"), exit status 1 as for a
 * TRACE that cannot be opened, nothing on standard output. A readable one
 * is taken. */
static void
test_keylog_unreadable (void)
{
  g_autofree char *capture = capture_path ("connect.pcapng");
  g_autofree char *dir = g_dir_make_tmp ("ts-explain-XXXXXX", NULL);
  g_autofree char *missing = g_build_filename (dir, "missing.keys", NULL);
  g_autofree char *keys = g_build_filename (dir, "keys.txt", NULL);
  g_autoptr (GError) error = NULL;

  {
    g_auto (Run) r = { 0 };
    g_autofree char *want
        = g_strdup_printf ("tscope: --keylog %s: No such file or directory\n", missing);
    run_tscope (&r, NULL, NULL, "explain", "--keylog", missing, capture, NULL);
    g_assert_cmpint (r.status, ==, 1);
    g_assert_cmpstr (r.err, ==, want);
    g_assert_cmpstr (r.out, ==, "");
  }
  {
    /* A directory opens but does not read. */
    g_auto (Run) r = { 0 };
    g_autofree char *want = g_strdup_printf ("tscope: --keylog %s: Is a directory\n", dir);
    run_tscope (&r, NULL, NULL, "explain", "--keylog", dir, capture, NULL);
    g_assert_cmpint (r.status, ==, 1);
    g_assert_cmpstr (r.err, ==, want);
    g_assert_cmpstr (r.out, ==, "");
  }
  {
    g_auto (Run) r = { 0 };
    g_assert_true (g_file_set_contents (keys, "# no secrets here\n", -1, &error));
    run_tscope (&r, NULL, NULL, "explain", "--keylog", keys, capture, NULL);
    g_assert_cmpint (r.status, ==, 0);
    g_assert_cmpstr (r.err, ==, "");
    g_assert_nonnull (strstr (r.out, "CONNECT example.com:443"));
  }
  g_unlink (keys);
  g_rmdir (dir);
}

/* A partly damaged trace: what comes before the damage is shown, the
 * damage is an anomaly event whose line at 80 columns shows the offset, the
 * run succeeds, and one line on standard error says where and why (not in
 * the JSON on standard output). Cut in the middle of a block, and a block
 * with a bad length after good ones (a chain: five lanes). */
static void
test_cut (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ts-explain-XXXXXX", NULL);
  g_autofree char *cut = g_build_filename (dir, "cut.pcapng", NULL);

  for (guint k = 0; k < 2; k++)
    {
      g_autofree char *capture = capture_path (k == 0 ? "connect.pcapng" : "connect-chain.pcapng");
      g_autofree char *data = NULL;
      g_autofree char *warning = NULL;
      g_autofree char *on_ladder = NULL;
      g_autoptr (GError) error = NULL;
      g_autoptr (JsonParser) parser = json_parser_new ();
      JsonArray *events;
      gboolean damaged = FALSE;
      gsize len, at;

      g_assert_true (g_file_get_contents (capture, &data, &len, &error));
      at = ts_test_pcapng_block_at ((const guint8 *)data, len, len / 2);
      if (k == 0)
        {
          g_assert_true (g_file_set_contents (cut, data, (gssize)(len / 2), &error));
          warning = g_strdup_printf ("tscope: %s: damaged at offset %" G_GSIZE_FORMAT
                                     ": the trace ends inside the block at offset %" G_GSIZE_FORMAT
                                     " (%" G_GSIZE_FORMAT " of ",
                                     cut, at, at, len / 2 - at);
        }
      else
        {
          guint32 bad = 30;
          memcpy (data + at + 4, &bad, 4);
          g_assert_true (g_file_set_contents (cut, data, (gssize)len, &error));
          warning = g_strdup_printf ("tscope: %s: damaged at offset %" G_GSIZE_FORMAT
                                     ": block at offset %" G_GSIZE_FORMAT
                                     " has length 30, not a multiple of 4 of at least 12; "
                                     "shown up to there\n",
                                     cut, at, at);
        }
      on_ladder = g_strdup_printf ("! trace damaged at offset %" G_GSIZE_FORMAT ",", at);
      {
        g_auto (Run) r = { 0 };
        g_auto (GStrv) lines = NULL;
        gboolean seen = FALSE;

        run_tscope (&r, NULL, NULL, "explain", cut, NULL);
        g_assert_cmpint (r.status, ==, 0);
        assert_one_line_error (&r, NULL);
        g_assert_true (g_str_has_prefix (r.err, warning));
        g_assert_true (g_str_has_suffix (r.err, "; shown up to there\n"));
        g_assert_nonnull (strstr (r.out, "ClientHello SNI example.com"));
        lines = g_strsplit (r.out, "\n", -1);
        for (guint i = 0; lines[i] != NULL; i++)
          if (strstr (lines[i], "trace damaged") != NULL)
            {
              g_test_message ("%s", lines[i]);
              g_assert_cmpuint (strlen (lines[i]), <=, 80);
              g_assert_nonnull (strstr (lines[i], on_ladder));
              seen = TRUE;
            }
        g_assert_true (seen);
      }
      {
        g_auto (Run) r = { 0 };
        run_tscope (&r, NULL, NULL, "explain", "--format", "json", cut, NULL);
        g_assert_cmpint (r.status, ==, 0);
        g_assert_true (g_str_has_prefix (r.err, warning));
        g_assert_true (json_parser_load_from_data (parser, r.out, (gssize)r.out_len, &error));
        g_assert_no_error (error);
        events = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)),
                                               "events");
        for (guint i = 0; i < json_array_get_length (events); i++)
          {
            JsonObject *e = json_array_get_object_element (events, i);
            const char *summary = json_object_get_string_member (e, "summary");
            if (json_object_get_boolean_member (e, "anomaly")
                && strstr (summary, "trace damaged") != NULL)
              {
                g_assert_nonnull (strstr (summary, on_ladder + 2));
                damaged = TRUE;
              }
          }
        g_assert_true (damaged);
      }
      {
        /* From standard input, named so. */
        g_auto (Run) r = { 0 };
        g_autofree char *from_stdin = g_strdup_printf (
            "tscope: standard input: damaged at offset %" G_GSIZE_FORMAT ": ", at);
        run_tscope (&r, cut, NULL, "explain", "-", NULL);
        g_assert_cmpint (r.status, ==, 0);
        assert_one_line_error (&r, NULL);
        g_assert_true (g_str_has_prefix (r.err, from_stdin));
      }
      g_unlink (cut);
    }
  g_rmdir (dir);
}

/* `tscope explain -` reads standard input to the same ladder as the file. */
static void
test_stdin (void)
{
  g_autofree char *capture = capture_path ("connect.pcapng");
  g_auto (Run) a = { 0 };
  g_auto (Run) b = { 0 };

  run_tscope (&a, NULL, NULL, "explain", capture, NULL);
  run_tscope (&b, capture, NULL, "explain", "-", NULL);
  g_assert_cmpint (a.status, ==, 0);
  g_assert_cmpint (b.status, ==, 0);
  g_assert_cmpstr (a.err, ==, "");
  g_assert_cmpuint (a.out_len, >, 1000);
  g_assert_cmpstr (a.out, ==, b.out);
}

static void
test_json (void)
{
  g_autofree char *capture = capture_path ("connect.pcapng");
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  g_auto (Run) r = { 0 };
  JsonObject *root, *tunnel;
  JsonArray *nodes, *events, *proxies;
  gboolean saw_connect = FALSE;

  run_tscope (&r, NULL, NULL, "explain", "--format", "json", capture, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_true (json_parser_load_from_data (parser, r.out, (gssize)r.out_len, &error));
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (parser));
  nodes = json_object_get_array_member (root, "nodes");
  g_assert_cmpuint (json_array_get_length (nodes), ==, 3);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (nodes, 1), "role"),
                   ==, "proxy");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (root, "tunnels")), ==, 1);
  tunnel = json_array_get_object_element (json_object_get_array_member (root, "tunnels"), 0);
  g_assert_cmpstr (json_object_get_string_member (tunnel, "mode"), ==, "relay");
  g_assert_cmpstr (json_object_get_string_member (tunnel, "target"), ==, "example.com:443");
  proxies = json_object_get_array_member (tunnel, "proxies");
  g_assert_cmpuint (json_array_get_length (proxies), ==, 1);
  g_assert_cmpstr (json_array_get_string_element (proxies, 0), ==, "proxy");
  events = json_object_get_array_member (root, "events");
  for (guint i = 0; i < json_array_get_length (events); i++)
    {
      JsonObject *e = json_array_get_object_element (events, i);
      if (g_strcmp0 (json_object_get_string_member_with_default (e, "summary", ""),
                     "CONNECT example.com:443 HTTP/1.1")
          == 0)
        {
          JsonArray *readers = json_object_get_array_member (e, "readers");
          gboolean proxy_reads = FALSE;
          for (guint k = 0; k < json_array_get_length (readers); k++)
            proxy_reads |= g_strcmp0 (json_array_get_string_element (readers, k), "proxy") == 0;
          g_assert_true (proxy_reads);
          g_assert_cmpstr (json_object_get_string_member (e, "layer"), ==, "http");
          saw_connect = TRUE;
        }
    }
  g_assert_true (saw_connect);
}

static void
test_pictures (void)
{
  g_autofree char *capture = capture_path ("connect.pcapng");
  g_autofree char *dir = g_dir_make_tmp ("ts-explain-XXXXXX", NULL);
  struct
  {
    const char *format, *magic;
  } kinds[] = { { "svg", "<?xml" }, { "png", "\x89PNG\r\n\x1a\n" }, { "pdf", "%PDF-" } };

  for (gsize i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      g_autofree char *name = g_strdup_printf ("ladder.%s", kinds[i].format);
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autofree char *data = NULL;
      g_autoptr (GError) error = NULL;
      gsize len = 0;
      g_auto (Run) r = { 0 };
      g_auto (Run) no_file = { 0 };

      run_tscope (&r, NULL, NULL, "explain", "--format", kinds[i].format, "-o", path, capture,
                  NULL);
      g_assert_cmpint (r.status, ==, 0);
      g_assert_cmpstr (r.err, ==, "");
      g_assert_true (g_file_get_contents (path, &data, &len, &error));
      g_assert_cmpuint (len, >, 1000);
      g_assert_cmpmem (data, strlen (kinds[i].magic), kinds[i].magic, strlen (kinds[i].magic));
      g_unlink (path);
      if (strcmp (kinds[i].format, "svg") == 0)
        continue;
      /* A binary picture is not written to a terminal or a pipe. */
      run_tscope (&no_file, NULL, NULL, "explain", "--format", kinds[i].format, capture, NULL);
      g_assert_cmpint (no_file.status, ==, 2);
      assert_one_line_error (&no_file, "-o FILE", NULL);
      g_assert_cmpstr (no_file.out, ==, "");
    }
  {
    g_auto (Run) r = { 0 };
    run_tscope (&r, NULL, NULL, "explain", "--format", "xml", capture, NULL);
    g_assert_cmpint (r.status, ==, 2);
    assert_one_line_error (&r, "'xml'", NULL);
  }
  g_rmdir (dir);
}

/* --as NODE: the proxy of a relayed tunnel reads the CONNECT and the SNI,
 * not the HTTP inside the tunnel; the client reads it all. */
static void
test_as (void)
{
  g_autofree char *capture = capture_path ("connect.pcapng");
  g_auto (Run) proxy = { 0 };
  g_auto (Run) client = { 0 };
  g_auto (Run) nobody = { 0 };

  run_tscope (&proxy, NULL, NULL, "explain", "--as", "proxy", capture, NULL);
  run_tscope (&client, NULL, NULL, "explain", "--as", "client", capture, NULL);
  g_assert_cmpint (proxy.status, ==, 0);
  g_assert_cmpint (client.status, ==, 0);
  g_assert_nonnull (strstr (proxy.out, "as seen by proxy"));
  g_assert_nonnull (strstr (proxy.out, "CONNECT example.com:443"));
  g_assert_nonnull (strstr (proxy.out, "ClientHello SNI example.com"));
  g_assert_nonnull (strstr (proxy.out, "encrypted, "));
  g_assert_null (strstr (proxy.out, "GET /"));
  g_assert_nonnull (strstr (client.out, "GET /"));
  run_tscope (&nobody, NULL, NULL, "explain", "--as", "nosuch", capture, NULL);
  g_assert_cmpint (nobody.status, ==, 2);
  assert_one_line_error (&nobody, "nosuch", "client, proxy, server", NULL);
}

static gsize
widest_line (const char *text)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  gsize widest = 0;

  for (guint i = 0; lines[i] != NULL; i++)
    widest = MAX (widest, (gsize)g_utf8_strlen (lines[i], -1));
  return widest;
}

static void
test_width (void)
{
  g_autofree char *capture = capture_path ("connect-chain.pcapng");
  g_auto (Run) narrow = { 0 };
  g_auto (Run) wide = { 0 };
  g_auto (Run) too_narrow = { 0 };

  run_tscope (&narrow, NULL, NULL, "explain", capture, NULL);
  run_tscope (&wide, NULL, NULL, "explain", "--width", "120", capture, NULL);
  g_assert_cmpint (narrow.status, ==, 0);
  g_assert_cmpint (wide.status, ==, 0);
  g_assert_cmpuint (widest_line (narrow.out), <=, 80);
  g_assert_cmpuint (widest_line (wide.out), <=, 120);
  g_assert_cmpuint (widest_line (wide.out), >, 80);
  run_tscope (&too_narrow, NULL, NULL, "explain", "--width", "30", capture, NULL);
  g_assert_cmpint (too_narrow.status, ==, 2);
  assert_one_line_error (&too_narrow, "--width 30", NULL);
}

/* Another program truncates the trace while it is mapped: the next read of
 * a lost page raises SIGBUS, which tscope turns into one line and exit
 * status 1 (not a crash). The truncation comes from an LD_PRELOAD module
 * right after the mapping, so the test does not race. */
static void
test_shrunk (void)
{
  g_autofree char *capture = capture_path ("connect.pcapng");
  g_autofree char *dir = g_dir_make_tmp ("ts-explain-XXXXXX", NULL);
  g_autofree char *real_dir = g_canonicalize_filename (dir, NULL);
  g_autofree char *trace = g_build_filename (real_dir, "shrinking.pcapng", NULL);
  g_autofree char *marker = g_strconcat (trace, ".shrunk", NULL);
  g_autofree char *shim = build_path ("tests", "cli", "libts-test-shrink.so", NULL);
  g_autofree char *env_path = g_strconcat ("TS_TEST_SHRINK_PATH=", trace, NULL);
  g_autofree char *env_preload = g_strconcat ("LD_PRELOAD=", shim, NULL);
  const char *env[] = { env_path, "TS_TEST_SHRINK_TO=4096", env_preload, NULL };
  g_autofree char *data = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (Run) r = { 0 };
  gsize len;

  g_assert_true (g_file_get_contents (capture, &data, &len, &error));
  g_assert_cmpuint (len, >, 3 * 4096);
  g_assert_true (g_file_set_contents (trace, data, (gssize)len, &error));
  run_tscope (&r, NULL, env, "explain", trace, NULL);
  if (!g_file_test (marker, G_FILE_TEST_EXISTS))
    {
      /* A sanitizer's own mmap () can hide ours. */
      g_test_skip ("the LD_PRELOAD module did not see the mapping");
    }
  else
    {
      g_assert_cmpint (r.status, ==, 1);
      assert_one_line_error (&r, trace, "shrank while it was read", NULL);
    }
  g_unlink (marker);
  g_unlink (trace);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ts/cli/explain/unreadable", test_unreadable);
  g_test_add_func ("/ts/cli/explain/keylog-unreadable", test_keylog_unreadable);
  g_test_add_func ("/ts/cli/explain/cut", test_cut);
  g_test_add_func ("/ts/cli/explain/stdin", test_stdin);
  g_test_add_func ("/ts/cli/explain/json", test_json);
  g_test_add_func ("/ts/cli/explain/pictures", test_pictures);
  g_test_add_func ("/ts/cli/explain/as", test_as);
  g_test_add_func ("/ts/cli/explain/width", test_width);
  g_test_add_func ("/ts/cli/explain/shrunk", test_shrunk);
  return g_test_run ();
}
