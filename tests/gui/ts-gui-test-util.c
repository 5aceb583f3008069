/* ts-gui-test-util.c: Xvfb for the GUI tests, and traces written in the test.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "ts-gui-test-util.h"

#include <signal.h>
#include <sys/prctl.h>
#include <string.h>
#include <unistd.h>

#include "ts-test-frames.h"
#include "ts-trace-writer.h"

#define T0 G_GUINT64_CONSTANT (1764230400000000000)

static GSubprocess *xvfb;

/* Xvfb dies with the test, even when the test aborts. */
static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

gboolean
ts_gui_test_start_display (char **out_reason)
{
  g_autofree char *path = g_find_program_in_path ("Xvfb");
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GError) error = NULL;
  int fds[2];
  char buf[32] = { 0 };
  gsize got = 0;

  if (g_getenv ("DISPLAY") && g_strcmp0 (g_getenv ("TS_GUI_TEST_USE_DISPLAY"), "1") == 0)
    return TRUE;
  if (path == NULL)
    {
      *out_reason = g_strdup ("Xvfb is not installed (apt-get install xvfb)");
      return FALSE;
    }
  if (pipe (fds) != 0)
    {
      *out_reason = g_strdup ("pipe failed");
      return FALSE;
    }
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE
                                        | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_subprocess_launcher_take_fd (launcher, fds[1], 3);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  /* -displayfd: Xvfb picks a free display and writes its number once ready. */
  xvfb = g_subprocess_launcher_spawn (launcher, &error, path, "-displayfd", "3", "-screen", "0",
                                      "1400x1000x24", "-nolisten", "tcp", "-noreset", NULL);
  if (xvfb == NULL)
    {
      close (fds[0]);
      *out_reason = g_strdup_printf ("Xvfb did not start: %s", error->message);
      return FALSE;
    }
  g_clear_object (&launcher); /* closes our copy of the write end */
  while (got < sizeof buf - 1)
    {
      ssize_t n = read (fds[0], buf + got, sizeof buf - 1 - got);
      if (n <= 0)
        break;
      got += (gsize)n;
      if (memchr (buf, '\n', got))
        break;
    }
  close (fds[0]);
  g_strstrip (buf);
  if (buf[0] == '\0')
    {
      ts_gui_test_stop_display ();
      *out_reason = g_strdup ("Xvfb did not report a display");
      return FALSE;
    }
  {
    g_autofree char *display = g_strdup_printf (":%s", buf);
    g_setenv ("DISPLAY", display, TRUE);
  }
  g_unsetenv ("WAYLAND_DISPLAY");
  g_setenv ("GDK_BACKEND", "x11", TRUE);
  return TRUE;
}

void
ts_gui_test_stop_display (void)
{
  if (xvfb == NULL)
    return;
  g_subprocess_send_signal (xvfb, SIGTERM);
  g_subprocess_wait (xvfb, NULL, NULL);
  g_clear_object (&xvfb);
}

typedef struct
{
  TsTraceWriter *writer;
  guint64 now;
} Trace;

typedef struct
{
  Trace *trace;
  guint iface;
  TsTestFlow f[2];
} Tcp;

static void
emit (Tcp *c, int dir, guint8 flags, const void *data, gsize len)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) frame = NULL;

  c->f[dir].ack = c->f[1 - dir].seq;
  frame = ts_test_tcp_frame (&c->f[dir], flags, data, len);
  c->trace->now += 1000000;
  g_assert_true (ts_trace_writer_add_packet (
      c->trace->writer, c->iface, c->trace->now, g_bytes_get_data (frame, NULL),
      g_bytes_get_size (frame), g_bytes_get_size (frame), &error));
  /* Long traces are written as they go, not held whole in memory. */
  g_assert_true (ts_trace_writer_advance (c->trace->writer, c->trace->now, &error));
}

static void
tcp_open (Tcp *c, Trace *t, guint iface, const char *a, guint16 ap, const char *b, guint16 bp)
{
  c->trace = t;
  c->iface = iface;
  ts_test_flow_pair (&c->f[0], &c->f[1], a, ap, b, bp);
  emit (c, 0, 0x02, NULL, 0);
  emit (c, 1, 0x12, NULL, 0);
  emit (c, 0, 0x10, NULL, 0);
}

static void
tcp_sends (Tcp *c, int dir, const char *text)
{
  emit (c, dir, 0x18, text, strlen (text));
}

static void
tcp_close (Tcp *c)
{
  emit (c, 0, 0x11, NULL, 0);
  emit (c, 1, 0x11, NULL, 0);
  emit (c, 0, 0x10, NULL, 0);
}

/* An opaque TLS 1.3 application data record of @n bytes. */
static GByteArray *
app_record (gsize n)
{
  GByteArray *b = g_byte_array_new ();

  g_byte_array_append (b, (guint8[]){ 0x17, 0x03, 0x03, (guint8)(n >> 8), (guint8)n }, 5);
  for (gsize i = 0; i < n; i++)
    g_byte_array_append (b, (guint8[]){ (guint8)(i * 7) }, 1);
  return b;
}

static const char metadata[] = "{\"scenario\":\"connect\",\"description\":\"A client reaches "
                               "example.com through a CONNECT proxy.\","
                               "\"nodes\":["
                               "{\"name\":\"client\",\"role\":\"client\",\"names\":[\"client."
                               "test\"],\"addresses\":[\"192.0.2.1\"]},"
                               "{\"name\":\"proxy\",\"role\":\"proxy\",\"names\":[\"proxy.test\"],"
                               "\"addresses\":[\"192.0.2.2\",\"198.51.100.1\"]},"
                               "{\"name\":\"server\",\"role\":\"server\",\"names\":[\"server."
                               "test\",\"example.com\"],\"addresses\":[\"198.51.100.2\"]}],"
                               "\"links\":[{\"name\":\"client-proxy\",\"captured_end\":\"client\","
                               "\"ends\":[{\"node\":\"client\"},{\"node\":\"proxy\"}]},"
                               "{\"name\":\"proxy-server\",\"captured_end\":\"proxy\",\"ends\":[{"
                               "\"node\":\"proxy\"},{\"node\":\"server\"}]}]}";

static void
trace_begin (Trace *t, const char *path)
{
  g_autoptr (GError) error = NULL;

  t->writer
      = ts_trace_writer_new_for_path (path, "connect", TS_TRACE_WRITER_DEFAULT_WINDOW_NS, &error);
  g_assert_no_error (error);
  t->now = T0;
  g_assert_true (ts_trace_writer_set_metadata (t->writer, t->now, metadata, &error));
  ts_trace_writer_add_interface (t->writer, "client-proxy", TS_LINKTYPE_ETHERNET,
                                 "captured at client", &error);
  g_assert_no_error (error);
  ts_trace_writer_add_interface (t->writer, "proxy-server", TS_LINKTYPE_ETHERNET,
                                 "captured at proxy", &error);
  g_assert_no_error (error);
}

static void
trace_end (Trace *t)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (ts_trace_writer_close (t->writer, &error));
  g_assert_no_error (error);
  ts_trace_writer_free (t->writer);
}

static void
lab_event (Trace *t, const char *node, const char *kind, const char *key, const char *value)
{
  g_autoptr (TsTraceEvent) ev = NULL;
  g_autoptr (GError) error = NULL;

  t->now += 100000;
  ev = ts_trace_event_new (t->now, node, kind);
  ts_trace_event_add (ev, key, value);
  g_assert_true (ts_trace_writer_add_event (t->writer, ev, &error));
}

/* A forward-proxy request for plain HTTP: the proxy reads it all. */
static void
plain_exchange (Trace *t, guint16 port, guint i)
{
  Tcp a, b;
  g_autofree char *req
      = g_strdup_printf ("GET http://example.com/page/%u HTTP/1.1\r\nHost: example.com\r\n\r\n", i);
  g_autofree char *fwd
      = g_strdup_printf ("GET /page/%u HTTP/1.1\r\nHost: example.com\r\nVia: 1.1 proxy\r\n\r\n", i);
  const char *resp = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

  tcp_open (&a, t, 0, "192.0.2.1", port, "192.0.2.2", 3128);
  tcp_sends (&a, 0, req);
  tcp_open (&b, t, 1, "198.51.100.1", port, "198.51.100.2", 80);
  tcp_sends (&b, 0, fwd);
  tcp_sends (&b, 1, resp);
  tcp_sends (&a, 1, resp);
  tcp_close (&b);
  tcp_close (&a);
}

char *
ts_gui_test_write_connect_trace (const char *dir, const char *name, gboolean intercept)
{
  char *path = g_build_filename (dir, name, NULL);
  Trace t;
  Tcp a, b;
  g_autoptr (GByteArray) ch1 = ts_test_client_hello ("example.com", 1);
  g_autoptr (GByteArray) ch2 = ts_test_client_hello ("example.com", intercept ? 77 : 1);
  g_autoptr (GByteArray) rec = app_record (120);
  g_autoptr (GByteArray) rec2 = app_record (160);

  trace_begin (&t, path);
  plain_exchange (&t, 39000, 0);
  tcp_open (&a, &t, 0, "192.0.2.1", 40000, "192.0.2.2", 3128);
  tcp_sends (&a, 0, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
  lab_event (&t, "proxy", "proxy.connect.allowed", "target", "example.com:443");
  tcp_open (&b, &t, 1, "198.51.100.1", 50000, "198.51.100.2", 443);
  tcp_sends (&a, 1, "HTTP/1.1 200 Connection established\r\n\r\n");
  emit (&a, 0, 0x18, ch1->data, ch1->len);
  emit (&b, 0, 0x18, ch2->data, ch2->len);
  emit (&b, 1, 0x18, rec->data, rec->len);
  emit (&a, 1, 0x18, intercept ? rec2->data : rec->data, intercept ? rec2->len : rec->len);
  tcp_close (&a);
  tcp_close (&b);
  trace_end (&t);
  return path;
}

char *
ts_gui_test_write_lossy_trace (const char *dir, const char *name, guint64 lost)
{
  char *path = g_build_filename (dir, name, NULL);
  const TsTraceStatistics stats = { 100 + lost, 0, lost, 100 };
  g_autoptr (GError) error = NULL;
  Trace t;

  trace_begin (&t, path);
  plain_exchange (&t, 39000, 0);
  g_assert_true (ts_trace_writer_add_statistics (t.writer, 1, t.now, &stats, &error));
  g_assert_no_error (error);
  trace_end (&t);
  return path;
}

char *
ts_gui_test_write_long_trace (const char *dir, const char *name, guint n_requests)
{
  char *path = g_build_filename (dir, name, NULL);
  Trace t;

  trace_begin (&t, path);
  for (guint i = 0; i < n_requests; i++)
    plain_exchange (&t, (guint16)(20000 + i % 40000), i);
  trace_end (&t);
  return path;
}

char *
ts_gui_test_write_bulk_trace (const char *dir, const char *name, guint n_conns, guint segments)
{
  char *path = g_build_filename (dir, name, NULL);
  g_autofree guint8 *body = g_malloc (1000);
  Trace t;

  for (guint i = 0; i < 1000; i++)
    body[i] = (guint8)('a' + i % 26);
  trace_begin (&t, path);
  for (guint c = 0; c < n_conns; c++)
    {
      Tcp a;
      g_autofree char *head
          = g_strdup_printf ("HTTP/1.1 200 OK\r\nContent-Length: %u\r\n\r\n", segments * 1000);

      tcp_open (&a, &t, 0, "192.0.2.1", (guint16)(30000 + c), "192.0.2.2", 3128);
      tcp_sends (&a, 0, "GET http://example.com/big HTTP/1.1\r\nHost: example.com\r\n\r\n");
      tcp_sends (&a, 1, head);
      for (guint k = 0; k < segments; k++)
        emit (&a, 1, 0x10, body, 1000);
      tcp_close (&a);
    }
  trace_end (&t);
  return path;
}
