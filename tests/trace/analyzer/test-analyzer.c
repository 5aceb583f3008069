/* test-analyzer.c: the analyzer on traces built in the test: tunnels across
 * hops (relay, intercept, chains), readers, WebSocket, reordering and gaps,
 * damaged traces, and chunked feeding reaching the timeline of one pass
 * (and of a trace fed whole, with its TLS records opened ahead).
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <nghttp2/nghttp2.h>

#include "ts-analyzer-private.h"
#include "ts-http2.h"
#include "ts-test-frames.h"
#include "ts-timeline-render.h"
#include "ts-trace-writer.h"

#define T0 G_GUINT64_CONSTANT (1764230400000000000)

/* A trace being written into memory. */
typedef struct
{
  GOutputStream *out;
  TsTraceWriter *writer;
  guint64 now;
} Trace;

/* @window_ns: how long the writer holds packets to merge them by time
 * (G_MAXUINT64: all, the file in time order). */
static void
trace_init_window (Trace *t, const char *metadata, const char *const *links, guint64 window_ns)
{
  g_autoptr (GError) error = NULL;

  t->out = g_memory_output_stream_new_resizable ();
  t->writer = ts_trace_writer_new (t->out, "test", window_ns, &error);
  g_assert_no_error (error);
  t->now = T0;
  if (metadata != NULL)
    g_assert_true (ts_trace_writer_set_metadata (t->writer, t->now, metadata, &error));
  for (guint i = 0; links[i] != NULL; i++)
    {
      ts_trace_writer_add_interface (t->writer, links[i], TS_LINKTYPE_ETHERNET, NULL, &error);
      g_assert_no_error (error);
    }
}

static void
trace_init (Trace *t, const char *metadata, const char *const *links)
{
  trace_init_window (t, metadata, links, G_MAXUINT64);
}

/* Writes out what @t holds (with a window of 0: everything added). */
static void
trace_flush (Trace *t)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (ts_trace_writer_advance (t->writer, G_MAXUINT64, &error));
  g_assert_no_error (error);
}

static GBytes *
trace_finish (Trace *t)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (ts_trace_writer_close (t->writer, &error));
  g_assert_no_error (error);
  ts_trace_writer_free (t->writer);
  {
    GBytes *b = g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (t->out));
    g_object_unref (t->out);
    return b;
  }
}

/* One TCP connection on one interface. */
typedef struct
{
  Trace *trace;
  guint iface;
  gint32 ifindex;  /* > 0: SLL2 frames (a capture on "any") of this interface index */
  gsize snaplen;   /* > 0: frames captured up to this many bytes (tcpdump -s) */
  TsTestFlow f[2]; /* 0: client -> server */
} Tcp;

static void
emit (Tcp *c, int dir, guint8 flags, const void *data, gsize len)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) frame = NULL;

  c->f[dir].ack = c->f[1 - dir].seq;
  frame = ts_test_tcp_frame (&c->f[dir], flags, data, len);
  if (c->ifindex > 0)
    {
      GBytes *cooked = ts_test_sll2_frame (frame, c->ifindex);
      g_bytes_unref (frame);
      frame = cooked;
    }
  c->trace->now += 1000000; /* 1 ms */
  g_assert_true (ts_trace_writer_add_packet (
      c->trace->writer, c->iface, c->trace->now, g_bytes_get_data (frame, NULL),
      c->snaplen > 0 ? MIN (c->snaplen, g_bytes_get_size (frame)) : g_bytes_get_size (frame),
      g_bytes_get_size (frame), &error));
}

/* Opens @c on interface @iface (as interface index @ifindex of a capture
 * on "any" when > 0). */
static void
tcp_open_on (Tcp *c, Trace *t, guint iface, gint32 ifindex, const char *a, guint16 ap,
             const char *b, guint16 bp)
{
  c->trace = t;
  c->iface = iface;
  c->ifindex = ifindex;
  c->snaplen = 0;
  ts_test_flow_pair (&c->f[0], &c->f[1], a, ap, b, bp);
  emit (c, 0, 0x02, NULL, 0);
  emit (c, 1, 0x12, NULL, 0);
  emit (c, 0, 0x10, NULL, 0);
}

static void
tcp_open (Tcp *c, Trace *t, guint iface, const char *a, guint16 ap, const char *b, guint16 bp)
{
  tcp_open_on (c, t, iface, 0, a, ap, b, bp);
}

static void
tcp_send (Tcp *c, int dir, const void *data, gsize len)
{
  emit (c, dir, 0x18, data, len);
}

static void
tcp_sends (Tcp *c, int dir, const char *text)
{
  tcp_send (c, dir, text, strlen (text));
}

static void
tcp_close (Tcp *c)
{
  emit (c, 0, 0x11, NULL, 0);
  emit (c, 1, 0x11, NULL, 0);
  emit (c, 0, 0x10, NULL, 0);
}

/* An opaque TLS 1.3 record (application data) of @n bytes. */
static GByteArray *
app_record (gsize n)
{
  GByteArray *b = g_byte_array_new ();

  g_byte_array_append (b, (guint8[]){ 0x17, 0x03, 0x03, (guint8)(n >> 8), (guint8)n }, 5);
  for (gsize i = 0; i < n; i++)
    g_byte_array_append (b, (guint8[]){ (guint8)(i * 7) }, 1);
  return b;
}

static const char metadata_one_proxy[]
    = "{\"scenario\":\"connect\",\"nodes\":["
      "{\"name\":\"client\",\"role\":\"client\",\"names\":[\"client.test\"],\"addresses\":[\"192.0."
      "2.1\"]},"
      "{\"name\":\"proxy\",\"role\":\"proxy\",\"names\":[\"proxy.test\"],\"addresses\":[\"192.0.2."
      "2\",\"198.51.100.1\"]},"
      "{\"name\":\"server\",\"role\":\"server\",\"names\":[\"server.test\",\"example.com\"],"
      "\"addresses\":[\"198.51.100.2\"]}],"
      "\"links\":[{\"name\":\"client-proxy\",\"ends\":[{\"node\":\"client\"},{\"node\":\"proxy\"}]}"
      ","
      "{\"name\":\"proxy-server\",\"ends\":[{\"node\":\"proxy\"},{\"node\":\"server\"}]}]}";

static const char *const links_one_proxy[] = { "client-proxy", "proxy-server", NULL };

/* client -CONNECT-> proxy -> server into @t, the client's leg on
 * interface @if_a (interface index @ifx_a of a capture on "any" when > 0),
 * the server's on @if_b (@ifx_b), with @seed2 the random of the
 * ClientHello on the second leg (the same as the first: a relay). */
static void
write_connect (Trace *t, guint8 seed2, guint if_a, gint32 ifx_a, guint if_b, gint32 ifx_b)
{
  Tcp a, b;
  g_autoptr (GByteArray) ch1 = ts_test_client_hello ("example.com", 1);
  g_autoptr (GByteArray) ch2 = ts_test_client_hello ("example.com", seed2);
  g_autoptr (GByteArray) rec = app_record (100);

  tcp_open_on (&a, t, if_a, ifx_a, "192.0.2.1", 40000, "192.0.2.2", 3128);
  tcp_sends (&a, 0, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
  tcp_open_on (&b, t, if_b, ifx_b, "198.51.100.1", 50000, "198.51.100.2", 443);
  tcp_sends (&a, 1, "HTTP/1.1 200 Connection established\r\n\r\n");
  tcp_send (&a, 0, ch1->data, ch1->len);
  tcp_send (&b, 0, ch2->data, ch2->len);
  tcp_send (&b, 1, rec->data, rec->len);
  tcp_send (&a, 1, rec->data, rec->len);
  tcp_close (&a);
  tcp_close (&b);
}

static GBytes *
make_connect_trace (guint8 seed2)
{
  Trace t;

  trace_init (&t, metadata_one_proxy, links_one_proxy);
  write_connect (&t, seed2, 0, 0, 1, 0);
  return trace_finish (&t);
}

static TsAnalyzer *
analyze (GBytes *trace)
{
  TsAnalyzer *an = ts_analyzer_new ();
  g_autoptr (GError) error = NULL;

  g_assert_true (
      ts_analyzer_feed (an, g_bytes_get_data (trace, NULL), g_bytes_get_size (trace), &error));
  g_assert_no_error (error);
  g_assert_true (ts_analyzer_finish (an, &error));
  g_assert_no_error (error);
  return an;
}

/* The file at @path in the source tree (it must be there). Transfer full. */
static GBytes *
source_file (const char *path)
{
  g_autofree char *full = g_build_filename (TS_SOURCE_DIR, path, NULL);
  g_autofree char *data = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (full, &data, &len, NULL));
  return g_bytes_new_take (g_steal_pointer (&data), len);
}

/* Analyzes captures/@name. Transfer full. */
static TsAnalyzer *
analyze_capture (const char *name)
{
  g_autofree char *path = g_build_filename ("captures", name, NULL);
  g_autoptr (GBytes) trace = source_file (path);

  return analyze (trace);
}

static gint
node (TsTimeline *tl, const char *name)
{
  gint n = ts_timeline_find_node (tl, name);
  g_assert_cmpint (n, >=, 0);
  return n;
}

static gboolean
observer_reads (TsTimeline *tl, const TsTimelineEvent *e, const char *link)
{
  for (guint r = 0; r < ts_timeline_get_n_readers (tl); r++)
    {
      const TsTimelineReader *rd = ts_timeline_get_reader (tl, r);
      if (rd->kind == TS_READER_OBSERVER
          && strcmp (ts_timeline_get_link (tl, (guint)rd->id)->name, link) == 0)
        return (e->readers >> r) & 1;
    }
  g_assert_not_reached ();
  return FALSE;
}

/* The first event of @kind on @link (NULL: any) whose summary starts with @prefix. */
static const TsTimelineEvent *
find_event (TsTimeline *tl, const char *kind, const char *link, const char *prefix)
{
  for (guint i = 0; i < ts_timeline_get_n_events (tl); i++)
    {
      const TsTimelineEvent *e = ts_timeline_get_event (tl, i);
      if (strcmp (e->kind, kind) != 0)
        continue;
      if (link
          && (e->link < 0 || strcmp (ts_timeline_get_link (tl, (guint)e->link)->name, link) != 0))
        continue;
      if (prefix && !g_str_has_prefix (e->summary, prefix))
        continue;
      return e;
    }
  return NULL;
}

static void
test_connect_relay (void)
{
  g_autoptr (GBytes) trace = make_connect_trace (1);
  g_autoptr (TsAnalyzer) an = analyze (trace);
  TsTimeline *tl = ts_analyzer_get_timeline (an);
  const TsTimelineTunnel *t;
  const TsTimelineEvent *e;
  gint client = node (tl, "client"), proxy = node (tl, "proxy"), server = node (tl, "server");

  g_assert_cmpuint (ts_timeline_get_n_nodes (tl), ==, 3);
  g_assert_cmpuint (ts_timeline_get_n_tunnels (tl), ==, 1);
  t = ts_timeline_get_tunnel (tl, 0);
  g_assert_cmpint (t->mode, ==, TS_TUNNEL_MODE_RELAY);
  g_assert_cmpint (t->client, ==, client);
  g_assert_cmpuint (t->proxies->len, ==, 1);
  g_assert_cmpint (g_array_index (t->proxies, gint, 0), ==, proxy);
  g_assert_cmpint (t->server, ==, server);
  g_assert_cmpstr (t->target, ==, "example.com:443");
  g_assert_cmpuint (t->conns->len, ==, 2);

  /* The CONNECT line: client, proxy and the observer of that link. */
  e = find_event (tl, "http.request", "client-proxy", "CONNECT");
  g_assert_nonnull (e);
  g_assert_cmpstr (e->http_method, ==, "CONNECT");
  g_assert_cmpint (e->phase, ==, TS_PHASE_PROXY);
  g_assert_true (ts_timeline_event_readable_by (tl, e, client));
  g_assert_true (ts_timeline_event_readable_by (tl, e, proxy));
  g_assert_false (ts_timeline_event_readable_by (tl, e, server));
  g_assert_true (observer_reads (tl, e, "client-proxy"));
  g_assert_false (observer_reads (tl, e, "proxy-server"));
  g_assert_nonnull (find_event (tl, "tunnel.established", "client-proxy", NULL));

  /* SNI: everyone on the path. */
  e = find_event (tl, "tls.handshake", "client-proxy", "ClientHello");
  g_assert_nonnull (e);
  g_assert_cmpstr (e->tls_sni, ==, "example.com");
  g_assert_cmpint (e->tunnel, ==, 0);
  g_assert_true (ts_timeline_event_readable_by (tl, e, proxy));
  g_assert_true (ts_timeline_event_readable_by (tl, e, server));
  g_assert_true (observer_reads (tl, e, "proxy-server"));

  /* Encrypted data through a relay: only the TLS ends, not the proxy. */
  e = find_event (tl, "tls.application_data", "client-proxy", NULL);
  g_assert_nonnull (e);
  g_assert_true (e->encrypted);
  g_assert_false (e->decrypted);
  g_assert_cmpuint (e->wire_len, ==, 105);
  {
    /* The event's bytes: a packet of the trace, whose frame holds them. */
    guint64 when = 0, off = 0;
    guint iface = 99;
    g_assert_true (ts_analyzer_get_packet (an, e->packet, &when, &iface, &off));
    g_assert_cmpuint (iface, ==, 0);
    g_assert_cmpuint (when, <=, e->time_ns);
    g_assert_cmpuint (off, >, 0);
    g_assert_cmpuint (off, <, g_bytes_get_size (trace));
    g_assert_cmpuint (e->byte_offset, ==, 54); /* Ethernet, IPv4, TCP headers */
    g_assert_false (ts_analyzer_get_packet (an, G_MAXUINT32 - 1, NULL, NULL, NULL));
  }
  g_assert_true (ts_timeline_event_readable_by (tl, e, client));
  g_assert_true (ts_timeline_event_readable_by (tl, e, server));
  g_assert_false (ts_timeline_event_readable_by (tl, e, proxy));
  g_assert_false (observer_reads (tl, e, "client-proxy"));

  /* The ladder names the tunnel, and --as proxy hides the data. */
  {
    TsRenderOptions o = { 80, -1, "connect", FALSE };
    g_autofree char *text = ts_timeline_render_text (tl, &o);
    g_autofree char *as_proxy = NULL;
    g_assert_nonnull (strstr (text, "tunnel #0 relay: client > proxy > server (example.com:443)"));
    g_assert_nonnull (strstr (text, "CONNECT example.com:443 HTTP/1.1"));
    {
      g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
      for (guint i = 0; lines[i] != NULL; i++)
        g_assert_cmpuint (strlen (lines[i]), <=, 80);
    }
    o.as_node = proxy;
    as_proxy = ts_timeline_render_text (tl, &o);
    g_assert_nonnull (strstr (as_proxy, "encrypted, 105 bytes"));
    g_assert_nonnull (strstr (as_proxy, "ClientHello SNI example.com"));
  }
}

static void
test_connect_intercept (void)
{
  g_autoptr (GBytes) trace = make_connect_trace (77);
  g_autoptr (TsAnalyzer) an = analyze (trace);
  TsTimeline *tl = ts_analyzer_get_timeline (an);
  const TsTimelineTunnel *t = ts_timeline_get_tunnel (tl, 0);
  const TsTimelineEvent *e;
  gint client = node (tl, "client"), proxy = node (tl, "proxy"), server = node (tl, "server");

  g_assert_cmpint (t->mode, ==, TS_TUNNEL_MODE_INTERCEPT);
  g_assert_cmpint (t->intercepting_proxy, ==, proxy);
  /* Leg 0's session ends at the proxy, leg 1's starts there. */
  e = find_event (tl, "tls.application_data", "client-proxy", NULL);
  g_assert_true (ts_timeline_event_readable_by (tl, e, client));
  g_assert_true (ts_timeline_event_readable_by (tl, e, proxy));
  g_assert_false (ts_timeline_event_readable_by (tl, e, server));
  e = find_event (tl, "tls.application_data", "proxy-server", NULL);
  g_assert_false (ts_timeline_event_readable_by (tl, e, client));
  g_assert_true (ts_timeline_event_readable_by (tl, e, proxy));
  g_assert_true (ts_timeline_event_readable_by (tl, e, server));
  /* The client's ClientHello goes no further than the proxy that answers it:
   * the server never sees it, nor does an observer of the server's link. */
  e = find_event (tl, "tls.handshake", "client-proxy", "ClientHello");
  g_assert_true (ts_timeline_event_readable_by (tl, e, client));
  g_assert_true (ts_timeline_event_readable_by (tl, e, proxy));
  g_assert_false (ts_timeline_event_readable_by (tl, e, server));
  g_assert_true (observer_reads (tl, e, "client-proxy"));
  g_assert_false (observer_reads (tl, e, "proxy-server"));
  {
    g_autofree char *json = ts_timeline_render_json (tl, NULL);
    g_assert_nonnull (strstr (json, "\"mode\": \"intercept\""));
    g_assert_nonnull (strstr (json, "\"intercepting_proxy\": \"proxy\""));
  }
}

static void
test_chain (void)
{
  static const char metadata[]
      = "{\"nodes\":["
        "{\"name\":\"client\",\"role\":\"client\",\"addresses\":[\"192.0.2.1\"]},"
        "{\"name\":\"proxy1\",\"role\":\"proxy\",\"names\":[\"proxy1.test\"],\"addresses\":[\"192."
        "0.2.2\",\"198.51.100.1\"]},"
        "{\"name\":\"proxy2\",\"role\":\"proxy\",\"names\":[\"proxy2.test\"],\"addresses\":[\"198."
        "51.100.2\",\"203.0.113.1\"]},"
        "{\"name\":\"server\",\"role\":\"server\",\"names\":[\"example.com\"],\"addresses\":[\"203."
        "0.113.2\"]}],"
        "\"links\":[{\"name\":\"client-proxy1\",\"ends\":[{\"node\":\"client\"},{\"node\":"
        "\"proxy1\"}]},"
        "{\"name\":\"proxy1-proxy2\",\"ends\":[{\"node\":\"proxy1\"},{\"node\":\"proxy2\"}]},"
        "{\"name\":\"proxy2-server\",\"ends\":[{\"node\":\"proxy2\"},{\"node\":\"server\"}]}]}";
  static const char *const links[] = { "client-proxy1", "proxy1-proxy2", "proxy2-server", NULL };
  static const char connect[] = "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n";
  static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
  Trace t;
  Tcp a, b, c;
  g_autoptr (GByteArray) ch = ts_test_client_hello ("example.com", 9);
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (TsAnalyzer) an = NULL;
  TsTimeline *tl;
  const TsTimelineTunnel *tun;
  const TsTimelineEvent *e;

  trace_init (&t, metadata, links);
  tcp_open (&a, &t, 0, "192.0.2.1", 40000, "192.0.2.2", 3128);
  tcp_sends (&a, 0, connect);
  tcp_open (&b, &t, 1, "198.51.100.1", 41000, "198.51.100.2", 3128);
  tcp_sends (&b, 0, connect);
  tcp_open (&c, &t, 2, "203.0.113.1", 42000, "203.0.113.2", 443);
  tcp_sends (&b, 1, ok);
  tcp_sends (&a, 1, ok);
  tcp_send (&a, 0, ch->data, ch->len);
  tcp_send (&b, 0, ch->data, ch->len);
  tcp_send (&c, 0, ch->data, ch->len);
  tcp_close (&a);
  tcp_close (&b);
  tcp_close (&c);
  bytes = trace_finish (&t);
  an = analyze (bytes);
  tl = ts_analyzer_get_timeline (an);

  g_assert_cmpuint (ts_timeline_get_n_tunnels (tl), ==, 1);
  tun = ts_timeline_get_tunnel (tl, 0);
  g_assert_cmpuint (tun->proxies->len, ==, 2);
  g_assert_cmpint (g_array_index (tun->proxies, gint, 0), ==, node (tl, "proxy1"));
  g_assert_cmpint (g_array_index (tun->proxies, gint, 1), ==, node (tl, "proxy2"));
  g_assert_cmpint (tun->server, ==, node (tl, "server"));
  g_assert_cmpuint (tun->conns->len, ==, 3);
  g_assert_cmpint (tun->mode, ==, TS_TUNNEL_MODE_RELAY);
  /* proxy2 reads proxy1's CONNECT, not the client's. */
  e = find_event (tl, "http.request", "client-proxy1", "CONNECT");
  g_assert_false (ts_timeline_event_readable_by (tl, e, node (tl, "proxy2")));
  e = find_event (tl, "http.request", "proxy1-proxy2", "CONNECT");
  g_assert_true (ts_timeline_event_readable_by (tl, e, node (tl, "proxy2")));
  g_assert_false (ts_timeline_event_readable_by (tl, e, node (tl, "client")));
  /* The SNI on the last leg: everyone on the path, the client included. */
  e = find_event (tl, "tls.handshake", "proxy2-server", "ClientHello");
  g_assert_true (ts_timeline_event_readable_by (tl, e, node (tl, "client")));
  g_assert_true (observer_reads (tl, e, "client-proxy1"));
}

/* A direct WebSocket session, and a request split, reordered, retransmitted
 * and with a lost segment on another connection. */
static GBytes *
make_misc_trace (void)
{
  static const char *const links[] = { "lan", NULL };
  Trace t;
  Tcp a, b;
  static const guint8 hello[]
      = { 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58 };
  static const guint8 pong[] = { 0x81, 0x02, 'h', 'i' };
  const char *req = "GET /reordered HTTP/1.1\r\nHost: example.com\r\n\r\n";
  guint32 seq0;

  trace_init (&t, NULL, links);
  tcp_open (&a, &t, 0, "192.0.2.10", 40000, "203.0.113.80", 80);
  tcp_sends (&a, 0,
             "GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: "
             "Upgrade\r\n\r\n");
  tcp_sends (
      &a, 1,
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
  tcp_send (&a, 0, hello, sizeof hello);
  tcp_send (&a, 1, pong, sizeof pong);
  tcp_close (&a);

  tcp_open (&b, &t, 0, "192.0.2.10", 40001, "203.0.113.80", 80);
  seq0 = b.f[0].seq;
  b.f[0].seq = seq0 + 20;
  tcp_send (&b, 0, req + 20, strlen (req) - 20); /* second half first */
  b.f[0].seq = seq0;
  tcp_send (&b, 0, req, 25); /* overlaps the held half */
  b.f[0].seq = seq0;
  tcp_send (&b, 0, req, 10); /* retransmission */
  b.f[0].seq = seq0 + (guint32)strlen (req);
  tcp_sends (&b, 1, "HTTP/1.1 200 OK\r\nContent-Length: 4000\r\n\r\n");
  b.f[1].seq += 1000; /* 1000 body bytes lost */
  {
    char body[3000];
    memset (body, 'x', sizeof body);
    tcp_send (&b, 1, body, sizeof body);
  }
  tcp_close (&b);
  {
    /* A connection attempt nobody answers, SYN sent twice. */
    Tcp c;
    c.trace = &t;
    c.iface = 0;
    c.ifindex = 0;
    ts_test_flow_pair (&c.f[0], &c.f[1], "192.0.2.10", 40002, "203.0.113.99", 443);
    emit (&c, 0, 0x02, NULL, 0);
    c.f[0].seq--;
    emit (&c, 0, 0x02, NULL, 0);
  }
  return trace_finish (&t);
}

static void
test_misc (void)
{
  g_autoptr (GBytes) trace = make_misc_trace ();
  g_autoptr (TsAnalyzer) an = analyze (trace);
  TsTimeline *tl = ts_analyzer_get_timeline (an);
  const TsTimelineEvent *e;
  guint n_requests = 0;

  /* Inferred nodes for a foreign capture. */
  g_assert_cmpint (ts_timeline_find_node (tl, "192.0.2.10"), >=, 0);
  g_assert_cmpint (ts_timeline_find_node (tl, "203.0.113.80"), >=, 0);
  g_assert_true (ts_timeline_get_node (tl, 0)->inferred);
  e = find_event (tl, "websocket.frame", NULL, "WebSocket text, 5 bytes \"Hello\"");
  g_assert_nonnull (e);
  g_assert_nonnull (find_event (tl, "websocket.frame", NULL, "WebSocket text, 2 bytes \"hi\""));
  g_assert_nonnull (find_event (tl, "tunnel.established", NULL, "switched to websocket"));
  for (guint i = 0; i < ts_timeline_get_n_events (tl); i++)
    if (strcmp (ts_timeline_get_event (tl, i)->kind, "http.request") == 0)
      n_requests++;
  g_assert_cmpuint (n_requests, ==, 2);
  e = find_event (tl, "http.request", NULL, "GET /reordered HTTP/1.1");
  g_assert_nonnull (e);
  g_assert_cmpstr (e->http_target, ==, "/reordered");
  g_assert_nonnull (find_event (tl, "anomaly", NULL, "1000 bytes lost in the capture"));
  g_assert_nonnull (find_event (tl, "http.response", NULL, "200 OK"));
  e = find_event (tl, "tcp.no-answer", NULL, "no answer to SYN (2 sent)");
  g_assert_nonnull (e);
  g_assert_cmpint (e->dst, ==, ts_timeline_find_node (tl, "203.0.113.99"));
}

/* HTTP/2 in clear through a CONNECT tunnel: frames with their streams. */
/* Appends an HTTP/2 frame (RFC 9113 §4.1) to @b. */
static void
h2_frame (GByteArray *b, guint8 type, guint8 flags, guint32 stream, const guint8 *payload,
          gsize len)
{
  guint8 h[9] = {
    (guint8)(len >> 16),    (guint8)(len >> 8),     (guint8)len,           type,          flags,
    (guint8)(stream >> 24), (guint8)(stream >> 16), (guint8)(stream >> 8), (guint8)stream
  };

  g_byte_array_append (b, h, 9);
  g_byte_array_append (b, payload, (guint)len);
}

/* A header block of "name", "value", ... pairs (NULL-terminated),
 * compressed by @deflater (its dynamic table carries over). */
static GByteArray *
h2_block (nghttp2_hd_deflater *deflater, ...)
{
  nghttp2_nv nv[16];
  gsize n = 0;
  GByteArray *out = g_byte_array_new ();
  const char *name;
  va_list ap;
  ssize_t r;

  va_start (ap, deflater);
  while ((name = va_arg (ap, const char *)) != NULL && n < G_N_ELEMENTS (nv))
    {
      const char *value = va_arg (ap, const char *);
      nv[n++] = (nghttp2_nv){ (guint8 *)name, (guint8 *)value, strlen (name), strlen (value),
                              NGHTTP2_NV_FLAG_NONE };
    }
  va_end (ap);
  g_byte_array_set_size (out, (guint)nghttp2_hd_deflate_bound (deflater, nv, n));
  r = nghttp2_hd_deflate_hd (deflater, out->data, out->len, nv, n);
  g_assert_cmpint (r, >, 0);
  g_byte_array_set_size (out, (guint)r);
  return out;
}

/* A direction's first HEADERS frame with an empty header block (RFC 9113
 * allows it; it holds no fields): decoded as a block without fields, and
 * the next block still decodes. The empty block once did pointer
 * arithmetic on the block's NULL buffer (UBSan: "applying zero offset to
 * null pointer", found by fuzz-http1). */
static void
test_h2c_empty_block (void)
{
  static const char *const links[] = { "lan", NULL };
  static const guint8 settings[] = { 0, 0, 0, 4, 0, 0, 0, 0, 0 };
  nghttp2_hd_deflater *creq = NULL;
  g_autoptr (GByteArray) b = g_byte_array_new ();
  g_autoptr (GByteArray) r1 = NULL;
  g_autoptr (GBytes) trace = NULL;
  g_autoptr (TsAnalyzer) an = NULL;
  TsTimeline *tl;
  Trace t;
  Tcp a;

  g_assert_cmpint (nghttp2_hd_deflate_new (&creq, 4096), ==, 0);
  r1 = h2_block (creq, ":method", "GET", ":scheme", "http", ":authority", "example.com", ":path",
                 "/after-empty", NULL);
  nghttp2_hd_deflate_del (creq);
  trace_init (&t, NULL, links);
  tcp_open (&a, &t, 0, "192.0.2.10", 40000, "192.0.2.1", 3128);
  tcp_sends (&a, 0, "CONNECT example.com:80 HTTP/1.1\r\n\r\n");
  tcp_sends (&a, 1, "HTTP/1.1 200 OK\r\n\r\n");
  g_byte_array_append (b, (const guint8 *)"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
  g_byte_array_append (b, settings, sizeof settings);
  h2_frame (b, TS_HTTP2_HEADERS, 0x5, 1, NULL, 0);
  h2_frame (b, TS_HTTP2_HEADERS, 0x5, 3, r1->data, r1->len);
  tcp_send (&a, 0, b->data, b->len);
  tcp_close (&a);
  trace = trace_finish (&t);

  an = analyze (trace);
  tl = ts_analyzer_get_timeline (an);
  g_assert_nonnull (
      find_event (tl, "http2.frame", NULL, "HTTP/2 HEADERS [END_STREAM,END_HEADERS], stream 1"));
  g_assert_nonnull (find_event (tl, "http.request", NULL, "GET /after-empty HTTP/2, stream 3"));
}

/* HTTP/2 in clear through a CONNECT tunnel: its frames, and its requests
 * and responses from the HPACK-compressed header blocks (a block continued
 * in a CONTINUATION, the dynamic table carried from block to block, a
 * padded HEADERS frame); a block that does not decompress is an anomaly,
 * after which that direction's blocks are not decoded. */
static void
test_h2c_in_tunnel (void)
{
  static const char *const links[] = { "lan", NULL };
  static const guint8 settings[] = { 0, 0, 0, 4, 0, 0, 0, 0, 0 };
  static const guint8 get_only[] = { 0x82 }; /* :method GET, indexed (RFC 7541 Appendix A) */
  static const guint8 garbage[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
  nghttp2_hd_deflater *creq = NULL, *cresp = NULL;
  g_autoptr (GByteArray) b = g_byte_array_new ();
  g_autoptr (GByteArray) sb = g_byte_array_new ();
  g_autoptr (GByteArray) r1 = NULL, r2 = NULL, s1 = NULL, s2 = NULL;
  g_autoptr (GBytes) trace = NULL;
  g_autoptr (TsAnalyzer) an = NULL;
  TsTimeline *tl;
  const TsTimelineEvent *e;
  Trace t;
  Tcp a;

  g_assert_cmpint (nghttp2_hd_deflate_new (&creq, 4096), ==, 0);
  g_assert_cmpint (nghttp2_hd_deflate_new (&cresp, 4096), ==, 0);
  r1 = h2_block (creq, ":method", "GET", ":scheme", "http", ":authority", "example.com", ":path",
                 "/index.html", "user-agent", "tunnelscope-test", NULL);
  r2 = h2_block (creq, ":method", "GET", ":scheme", "http", ":authority", "example.com", ":path",
                 "/second", "user-agent", "tunnelscope-test", NULL);
  s1 = h2_block (cresp, ":status", "200", "content-type", "text/plain", NULL);
  s2 = h2_block (cresp, ":status", "404", NULL);
  /* The second request's fields come from the dynamic table: shorter. */
  g_assert_cmpuint (r2->len, <, r1->len);

  trace_init (&t, NULL, links);
  tcp_open (&a, &t, 0, "192.0.2.10", 40000, "192.0.2.1", 3128);
  tcp_sends (&a, 0, "CONNECT example.com:80 HTTP/1.1\r\n\r\n");
  tcp_sends (&a, 1, "HTTP/1.1 200 OK\r\n\r\n");
  g_byte_array_append (b, (const guint8 *)"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
  g_byte_array_append (b, settings, sizeof settings);
  h2_frame (b, TS_HTTP2_HEADERS, 0x5, 1, r1->data, r1->len);
  /* Stream 3's block in two: HEADERS without END_HEADERS, then CONTINUATION. */
  h2_frame (b, TS_HTTP2_HEADERS, 0x1, 3, r2->data, 2);
  h2_frame (b, TS_HTTP2_CONTINUATION, 0x4, 3, r2->data + 2, r2->len - 2);
  h2_frame (b, TS_HTTP2_HEADERS, 0x5, 5, get_only, sizeof get_only);
  tcp_send (&a, 0, b->data, b->len);
  g_byte_array_append (sb, settings, sizeof settings);
  h2_frame (sb, TS_HTTP2_HEADERS, 0x4, 1, s1->data, s1->len);
  /* Stream 1's body in two DATA frames, the second padded: 6 + 5 bytes. */
  h2_frame (sb, TS_HTTP2_DATA, 0, 1, (const guint8 *)"hello ", 6);
  h2_frame (sb, TS_HTTP2_DATA, 0x1 | 0x8, 1, (const guint8 *)"\x04world\0\0\0\0", 10);
  {
    /* Padded: a pad length byte, the block, then three bytes of padding. */
    g_autoptr (GByteArray) padded = g_byte_array_new ();
    g_byte_array_append (padded, (const guint8[]){ 3 }, 1);
    g_byte_array_append (padded, s2->data, s2->len);
    g_byte_array_append (padded, (const guint8[]){ 0, 0, 0 }, 3);
    h2_frame (sb, TS_HTTP2_HEADERS, 0x4 | 0x8 | 0x1, 3, padded->data, padded->len);
  }
  h2_frame (sb, TS_HTTP2_HEADERS, 0x5, 5, garbage, sizeof garbage);
  h2_frame (sb, TS_HTTP2_HEADERS, 0x5, 7, s1->data, s1->len);
  tcp_send (&a, 1, sb->data, sb->len);
  tcp_close (&a);
  trace = trace_finish (&t);
  nghttp2_hd_deflate_del (creq);
  nghttp2_hd_deflate_del (cresp);

  an = analyze (trace);
  tl = ts_analyzer_get_timeline (an);
  e = find_event (tl, "http2.frame", NULL, "HTTP/2 HEADERS [END_STREAM,END_HEADERS], stream 5");
  g_assert_nonnull (e);
  g_assert_cmpuint (e->stream, ==, 5);
  g_assert_cmpint (e->tunnel, ==, 0);
  g_assert_nonnull (find_event (tl, "http2.frame", NULL, "HTTP/2 SETTINGS, stream 0, 0 bytes"));
  g_assert_cmpstr (ts_timeline_get_conn (tl, 0)->protocol, ==, "http+h2c");

  e = find_event (tl, "http.request", NULL, "GET /index.html HTTP/2, stream 1");
  g_assert_nonnull (e);
  g_assert_cmpstr (e->http_method, ==, "GET");
  g_assert_cmpstr (e->http_target, ==, "/index.html");
  g_assert_cmpuint (e->stream, ==, 1);
  g_assert_cmpint (e->tunnel, ==, 0);
  g_assert_cmpint (e->layer, ==, TS_LAYER_HTTP);
  {
    gboolean ua = FALSE;
    for (guint i = 0; i < e->n_detail; i++)
      ua |= strcmp (ts_timeline_get_detail (tl, e->detail_first + i)->text,
                    "user-agent: tunnelscope-test")
            == 0;
    g_assert_true (ua);
  }
  e = find_event (tl, "http.request", NULL, "GET /second HTTP/2, stream 3");
  g_assert_nonnull (e);
  g_assert_cmpuint (e->stream, ==, 3);
  g_assert_nonnull (find_event (tl, "http.request", NULL, "GET ? HTTP/2, stream 5"));
  e = find_event (tl, "http.response", NULL, "200 HTTP/2, stream 1");
  g_assert_nonnull (e);
  g_assert_cmpuint (e->http_status, ==, 200);
  {
    /* The DATA frame that ends stream 1 tells its body's size. */
    gboolean told = FALSE;
    for (guint i = 0; i < ts_timeline_get_n_events (tl); i++)
      {
        const TsTimelineEvent *d = ts_timeline_get_event (tl, i);
        if (strcmp (d->kind, "http2.frame") != 0 || !g_str_has_prefix (d->summary, "HTTP/2 DATA"))
          continue;
        for (guint k = 0; k < d->n_detail; k++)
          if (strcmp (ts_timeline_get_detail (tl, d->detail_first + k)->text,
                      "the message body on stream 1: 11 bytes in 2 DATA frames")
              == 0)
            told = TRUE;
      }
    g_assert_true (told);
  }
  e = find_event (tl, "http.response", NULL, "404 HTTP/2, stream 3");
  g_assert_nonnull (e);
  g_assert_cmpuint (e->http_status, ==, 404);
  /* The garbage block: an anomaly; the valid block after it is not read
   * (the decompression state is lost). */
  e = find_event (tl, "anomaly", NULL, "HPACK: the header block does not decompress");
  g_assert_nonnull (e);
  g_assert_cmpuint (e->stream, ==, 5);
  g_assert_null (find_event (tl, "http.response", NULL, "200 HTTP/2, stream 7"));
}

static char *
render_json_chunked (GBytes *trace, gsize chunk, guint seed, guint *out_n_new)
{
  g_autoptr (TsAnalyzer) an = ts_analyzer_new ();
  const guint8 *data = g_bytes_get_data (trace, NULL);
  gsize len = g_bytes_get_size (trace), at = 0;
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  guint n_new = 0;

  while (at < len)
    {
      gsize n = chunk ? chunk : (gsize)g_rand_int_range (rand, 1, 3000);
      g_autofree guint8 *copy = g_memdup2 (data + at, MIN (n, len - at));
      TsAnalyzerChanges ch;

      n = MIN (n, len - at);
      g_assert_true (ts_analyzer_feed (an, copy, n, NULL));
      at += n;
      ts_analyzer_take_changes (an, &ch);
      g_assert_cmpuint (ch.first_new_event, ==, n_new);
      for (guint i = 0; i < ch.changed_events->len; i++)
        g_assert_cmpuint (g_array_index (ch.changed_events, guint, i), <, ch.first_new_event);
      n_new = ch.n_events;
      ts_analyzer_changes_clear (&ch);
    }
  g_assert_true (ts_analyzer_finish (an, NULL));
  {
    TsAnalyzerChanges ch;
    ts_analyzer_take_changes (an, &ch);
    n_new = ch.n_events;
    ts_analyzer_changes_clear (&ch);
  }
  *out_n_new = n_new;
  g_assert_cmpuint (n_new, ==, ts_timeline_get_n_events (ts_analyzer_get_timeline (an)));
  return ts_timeline_render_json (ts_analyzer_get_timeline (an), NULL);
}

static GBytes *make_routed_trace (void);

static GBytes *make_any_trace (void);

static GBytes *make_body_trace (void);

static void
test_chunked (void)
{
  GBytes *traces[] = { make_connect_trace (1), make_connect_trace (5), make_misc_trace (),
                       make_routed_trace (),   make_any_trace (),      make_body_trace () };

  for (gsize k = 0; k < G_N_ELEMENTS (traces); k++)
    {
      guint n_whole = 0, n = 0;
      g_autofree char *whole = render_json_chunked (traces[k], G_MAXSIZE / 4, 0, &n_whole);
      static const gsize chunks[] = { 1, 3, 64, 1000, 0, 0, 0 };

      for (gsize i = 0; i < G_N_ELEMENTS (chunks); i++)
        {
          g_autofree char *json = render_json_chunked (traces[k], chunks[i], (guint)i, &n);
          g_assert_cmpuint (n, ==, n_whole);
          g_assert_cmpstr (json, ==, whole);
        }
      g_bytes_unref (traces[k]);
    }
}

/* The whole trace at once (a mapped file), with or without the second
 * thread that opens TLS records ahead: the JSON of one pass, with and
 * without --as. */
static char *
render_json_whole (GBytes *trace, gboolean ahead, gint as_node)
{
  g_autoptr (TsAnalyzer) an = ts_analyzer_new ();
  TsRenderOptions o = { 0, as_node, NULL, FALSE };

  _ts_analyzer_set_decrypt_ahead (an, ahead);
  (void)ts_analyzer_feed_bytes (an, trace, NULL);
  (void)ts_analyzer_finish (an, NULL);
  return ts_timeline_render_json (ts_analyzer_get_timeline (an), &o);
}

static char *
render_json_fed (GBytes *trace, gint as_node)
{
  g_autoptr (TsAnalyzer) an = ts_analyzer_new ();
  TsRenderOptions o = { 0, as_node, NULL, FALSE };

  (void)ts_analyzer_feed (an, g_bytes_get_data (trace, NULL), g_bytes_get_size (trace), NULL);
  (void)ts_analyzer_finish (an, NULL);
  return ts_timeline_render_json (ts_analyzer_get_timeline (an), &o);
}

static void
test_decrypt_ahead (void)
{
  g_autoptr (GPtrArray) traces = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);
  g_autofree char *dir = g_build_filename (TS_SOURCE_DIR, "captures", NULL);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  g_ptr_array_add (traces, make_connect_trace (1));
  g_ptr_array_add (traces, make_connect_trace (5));
  g_ptr_array_add (traces, make_misc_trace ());
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autofree char *data = NULL;
      gsize len = 0;

      if (g_str_has_suffix (name, ".pcapng") && g_file_get_contents (path, &data, &len, NULL))
        g_ptr_array_add (traces, g_bytes_new_take (g_steal_pointer (&data), len));
    }
  for (guint k = 0; k < traces->len; k++)
    {
      GBytes *trace = traces->pdata[k];
      gsize len = g_bytes_get_size (trace);

      for (gint as = -1; as < 2; as++)
        {
          g_autofree char *fed = render_json_fed (trace, as);
          g_autofree char *alone = render_json_whole (trace, FALSE, as);

          g_assert_cmpstr (alone, ==, fed);
          /* The threads meet differently each time: the same timeline. */
          for (guint run = 0; run < 8; run++)
            {
              g_autofree char *ahead = render_json_whole (trace, TRUE, as);
              g_assert_cmpstr (ahead, ==, fed);
            }
        }
      /* Cut short: the damage is the same, and what came before. */
      for (gsize cut = len / 3; cut < len; cut += len / 3)
        {
          g_autoptr (GBytes) part = g_bytes_new_from_bytes (trace, 0, cut);
          g_autofree char *fed = render_json_fed (part, -1);
          g_autofree char *ahead = render_json_whole (part, TRUE, -1);
          g_assert_cmpstr (ahead, ==, fed);
        }
    }
}

/* Bulk TLS through a tunnel, as tests/bench/ts-gen-trace writes it (real
 * OpenSSL records and their secrets; the same records on both links, as a
 * blind relay sends them), large enough that the second thread opens
 * records ahead: records in one segment and cut across several (opened
 * where they lie), AEAD and CBC suites. The same timeline as one pass fed
 * in chunks, and the counts show the helper's work was used. */
static void
test_decrypt_ahead_bulk (void)
{
  static const struct
  {
    const char *args;
    gboolean pieces; /* records cut across segments opened where they lie */
    gboolean lossy;  /* bytes missing: each record opened about once is not asked */
  } cases[] = {
    /* Over 20 MB: the helper's arena (TS_DECRYPT_AHEAD_ARENA) wraps. */
    { "-n 16000 --record 16384", TRUE },
    { "--record 5000", TRUE },
    { "--record 1400 --cipher TLS_CHACHA20_POLY1305_SHA256", TRUE },
    { "--tls12 --cipher ECDHE-ECDSA-AES256-GCM-SHA384 --record 16384", TRUE },
    { "--tls12 --cipher ECDHE-ECDSA-AES128-SHA256 --record 3000", FALSE },
    /* As tcpdump -i any writes it: the links are interface indexes. */
    { "--any --record 5000", TRUE },
    /* Segments out of order (veth from two CPUs): a record cut across
     * them has a piece from the reassembly buffer, which does not stay. */
    { "-n 8000 --record 16384 --reorder 5", TRUE },
    /* Segments missing on one link (lost by the capture): the helper
     * holds what comes after a hole, gives up, and is restarted after the
     * analyzer's gap. */
    { "-n 8000 --record 16384 --drop 97", TRUE, TRUE },
  };
  g_autofree char *gen
      = g_build_filename (g_getenv ("TS_BUILD_DIR"), "tests", "bench", "ts-gen-trace", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *tmp = NULL;

  g_assert_nonnull (g_getenv ("TS_BUILD_DIR")); /* set by meson test */
  if (g_get_num_processors () < 2)
    {
      g_test_skip ("one processor: records are not opened ahead");
      return;
    }
  tmp = g_dir_make_tmp ("ts-ahead-XXXXXX", &error);
  g_assert_no_error (error);
  for (guint k = 0; k < G_N_ELEMENTS (cases); k++)
    {
      g_autofree char *path = g_build_filename (tmp, "bulk.pcapng", NULL);
      g_autofree char *cmd
          = g_strdup_printf ("%s -n 5000 --response-records 4 -o %s %s", gen, path, cases[k].args);
      /* (A second -n in the case's arguments wins.) */
      g_auto (GStrv) argv = NULL;
      g_autofree char *data = NULL;
      g_autoptr (GBytes) trace = NULL;
      g_autofree char *fed = NULL;
      gint status = 0;
      gsize len = 0;
      guint n = 0;
      TsDecryptAheadCounts sum = { 0 };

      g_assert_true (g_shell_parse_argv (cmd, NULL, &argv, &error));
      g_assert_true (g_spawn_sync (NULL, argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL,
                                   NULL, &status, &error));
      g_assert_no_error (error);
      g_assert_true (g_spawn_check_wait_status (status, NULL));
      g_assert_true (g_file_get_contents (path, &data, &len, &error));
      g_assert_cmpuint (len, >, 3 * 1024 * 1024);
      trace = g_bytes_new_take (g_steal_pointer (&data), len);
      fed = render_json_chunked (trace, 65536, 0, &n);
      /* The helper's share depends on how the threads are scheduled (on a
       * loaded machine it may not get ahead at all in one run): runs go on
       * until it has shown each kind of work, or fail after many. */
      for (guint run = 0; run < 2
                          || (run < 40
                              && (sum.hits == 0 || sum.twins_ahead + sum.twins_here == 0
                                  || (cases[k].pieces && sum.pieces == 0)));
           run++)
        {
          g_autoptr (TsAnalyzer) an = ts_analyzer_new ();
          g_autofree char *json = NULL;
          const TsDecryptAheadCounts *c;

          /* Each record the helper opened is checked against its opening
           * here; every other run, the threads race for every record, and
           * the helper's arena is small (it wraps all the time). */
          _ts_analyzer_set_decrypt_ahead_checked (an, TRUE);
          if (run % 2 == 1)
            _ts_analyzer_set_decrypt_ahead_tight (an, TRUE);
          g_assert_true (ts_analyzer_feed_bytes (an, trace, NULL));
          g_assert_true (ts_analyzer_finish (an, NULL));
          json = ts_timeline_render_json (ts_analyzer_get_timeline (an), NULL);
          g_assert_cmpstr (json, ==, fed);
          c = _ts_analyzer_get_ahead_counts (an);
          g_assert_cmpuint (c->hits, <=, c->opened);
          {
            /* Through a relay every record is on both links: each opened
             * once, the twin taking its result, wherever the threads met
             * them (a few pairs split between them open twice). */
            gsize records = c->hits + c->opened_here + c->twins_here;
            gsize opened = c->opened - c->twins_ahead + c->opened_here;
            g_test_message ("%s, run %u: %zu records, %zu decryptions", cases[k].args, run, records,
                            opened);
            if (run % 2 == 0 && !cases[k].lossy) /* (racing: pairs split often) */
              g_assert_cmpuint (opened * 10, <=, records * 6);
          }
          sum.opened += c->opened;
          sum.pieces += c->pieces;
          sum.twins_ahead += c->twins_ahead;
          sum.hits += c->hits;
          sum.opened_here += c->opened_here;
          sum.twins_here += c->twins_here;
        }
      g_test_message ("%s: opened ahead %zu (in pieces %zu, twins %zu), taken %zu; opened here %zu "
                      "(twins %zu)",
                      cases[k].args, sum.opened, sum.pieces, sum.twins_ahead, sum.hits,
                      sum.opened_here, sum.twins_here);
      g_assert_cmpuint (sum.opened, >, 0);
      g_assert_cmpuint (sum.hits, >, 0);
      g_assert_cmpuint (sum.twins_ahead + sum.twins_here, >, 0);
      if (cases[k].pieces)
        g_assert_cmpuint (sum.pieces, >, 0);
      else
        g_assert_cmpuint (sum.pieces, ==, 0);
      g_assert_cmpint (g_unlink (path), ==, 0);
    }
  g_assert_cmpint (g_rmdir (tmp), ==, 0);
}

/* Plain HTTP on one link: a body of known length over three segments, a
 * request whose small body shares its head's segment, and a chunked body
 * over two segments. */
static GBytes *
make_body_trace (void)
{
  static const char *const links[] = { "eth0", NULL };
  Trace t;
  Tcp c;
  g_autofree char *body = g_strnfill (1000, 'x');

  trace_init (&t, NULL, links);
  tcp_open (&c, &t, 0, "192.0.2.1", 40000, "198.51.100.2", 80);
  tcp_sends (&c, 0, "GET /big HTTP/1.1\r\nHost: example.com\r\n\r\n");
  {
    g_autofree char *first
        = g_strconcat ("HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n\r\n", body, NULL);
    tcp_sends (&c, 1, first);
  }
  tcp_sends (&c, 1, body);
  tcp_sends (&c, 1, body);
  tcp_sends (&c, 0, "POST /small HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\n\r\nhello");
  tcp_sends (&c, 1,
             "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\n");
  tcp_sends (&c, 1, "4\r\nwxyz\r\n0\r\n\r\n");
  tcp_close (&c);
  return trace_finish (&t);
}

/* A body that goes on past its head's segment ends with an event of its
 * own, where it ends, with its size; one in its head's segment does not. */
static void
test_http_body (void)
{
  g_autoptr (GBytes) trace = make_body_trace ();
  g_autoptr (TsAnalyzer) an = analyze (trace);
  const TsTimeline *tl = ts_analyzer_get_timeline (an);
  g_autoptr (GString) bodies = g_string_new (NULL);

  for (guint i = 0; i < ts_timeline_get_n_events (tl); i++)
    {
      const TsTimelineEvent *e = ts_timeline_get_event (tl, i);

      if (strcmp (e->kind, "http.body") != 0)
        continue;
      g_string_append_printf (bodies, "%s | wire %" G_GUINT64_FORMAT " | packet %u | %s\n",
                              e->summary, e->wire_len, e->packet,
                              ts_timeline_get_detail (tl, e->detail_first)->text);
      g_assert_cmpstr (
          ts_timeline_get_node (tl, (guint)e->src)->name, ==,
          ts_timeline_get_node (tl, (guint)ts_timeline_get_event (tl, i - 1)->src)->name);
    }
  /* Packets: 3 of the handshake, the GET (3), the three of the 200 (4-6),
   * the POST (7), the chunked 200 in two (8, 9); the chunked body's 20
   * bytes take 36 on the wire (sizes, chunk ends, the last chunk). */
  g_assert_cmpstr (bodies->str, ==,
                   "body ends: 3000 bytes | wire 3000 | packet 6 | the body of: 200 OK\n"
                   "body ends: 20 bytes | wire 36 | packet 9 | the body of: 200 OK\n");
}

/* The HTTP events of @tl, one summary a line. */
static char *
http_summaries (const TsTimeline *tl)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < ts_timeline_get_n_events (tl); i++)
    {
      const TsTimelineEvent *e = ts_timeline_get_event (tl, i);

      if (g_str_has_prefix (e->kind, "http.") || g_str_has_prefix (e->summary, "HTTP: "))
        g_string_append_printf (out, "%s\n", e->summary);
    }
  return g_string_free (out, FALSE);
}

/* A capture with a short snapshot length (tcpdump -s 96) keeps each
 * segment's first 42 bytes of HTTP here: the request and status lines
 * that fit are reported (tshark reports them too), marked as cut, and a
 * cut head does not stop the connection's parsing. Before, the first cut
 * head stopped it, and nothing of these four messages was shown.
 * Each cut segment is two rows: its head, then the bytes the capture lost
 * (TCP). It was four: the frame's truncation and HTTP's loss besides, the
 * lost bytes before the head they followed. */
static void
test_snaplen (void)
{
  static const char *const links[] = { "lo", NULL };
  Trace t;
  Tcp c;
  g_autoptr (GBytes) trace = NULL;
  g_autoptr (TsAnalyzer) an = NULL;
  g_autofree char *http = NULL;

  trace_init (&t, NULL, links);
  tcp_open (&c, &t, 0, "192.0.2.1", 40000, "198.51.100.2", 80);
  c.snaplen = 96; /* Ethernet, IPv4, TCP: 54 bytes, then 42 of HTTP */
  tcp_sends (&c, 0, "GET /one HTTP/1.1\r\nHost: example.com\r\nUser-Agent: test/1.0\r\n\r\n");
  tcp_sends (&c, 1,
             "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello");
  tcp_sends (&c, 0, "GET /two HTTP/1.1\r\nHost: example.com\r\nUser-Agent: test/1.0\r\n\r\n");
  tcp_sends (&c, 1, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nServer: test\r\n\r\n");
  tcp_close (&c);
  trace = trace_finish (&t);
  an = analyze (trace);
  http = http_summaries (ts_analyzer_get_timeline (an));
  g_assert_cmpstr (http, ==,
                   "GET /one HTTP/1.1 (head cut by the capture)\n"
                   "200 OK (head cut by the capture)\n"
                   "GET /two HTTP/1.1 (head cut by the capture)\n"
                   "404 Not Found (head cut by the capture)\n");
  {
    const TsTimeline *tl = ts_analyzer_get_timeline (an);
    guint heads = 0, anomalies = 0;

    for (guint i = 0; i < ts_timeline_get_n_events (tl); i++)
      {
        const TsTimelineEvent *e = ts_timeline_get_event (tl, i);
        const TsTimelineEvent *next
            = i + 1 < ts_timeline_get_n_events (tl) ? ts_timeline_get_event (tl, i + 1) : NULL;

        if (e->anomaly)
          {
            anomalies++;
            g_assert_cmpint (e->layer, ==, TS_LAYER_TCP);
            g_assert_true (strstr (e->summary, " bytes lost in the capture (TCP gap") != NULL);
          }
        if (g_str_has_prefix (e->kind, "http.") && strstr (e->summary, "(head cut by the capture)"))
          {
            /* The bytes it lost come next, in its direction. */
            heads++;
            g_assert_nonnull (next);
            g_assert_true (next->anomaly);
            g_assert_cmpint (next->src, ==, e->src);
          }
      }
    g_assert_cmpuint (heads, ==, 4);
    g_assert_cmpuint (anomalies, ==, 4);
  }
  {
    const TsTimeline *tl = ts_analyzer_get_timeline (an);
    const TsTimelineEvent *e = find_event ((TsTimeline *)tl, "http.request", "lo", "GET /one");

    g_assert_nonnull (e);
    g_assert_cmpstr (e->http_method, ==, "GET");
    g_assert_cmpstr (e->http_target, ==, "/one");
    g_assert_false (e->anomaly);
    {
      /* Where parsing goes on is said in the head's own detail. */
      gboolean said = FALSE;

      for (guint k = 0; k < e->n_detail; k++)
        said |= strstr (ts_timeline_get_detail (tl, e->detail_first + k)->text,
                        "HTTP/1 parsing resumes at the next request")
                != NULL;
      g_assert_true (said);
    }
  }
}

/* A gap inside a body: the bytes the capture lost (TCP) come first, then
 * what that does to HTTP (its parsing resumes at the next response), in
 * the order a reader follows cause and effect. */
static void
test_gap_order (void)
{
  static const char *const links[] = { "lo", NULL };
  Trace t;
  Tcp c;
  g_autoptr (GBytes) trace = NULL;
  g_autoptr (TsAnalyzer) an = NULL;
  const TsTimeline *tl;
  gint tcp_gap = -1, http_gap = -1;
  g_autofree char *body = g_strdup_printf ("40\r\n%064d\r\n0\r\n\r\n", 0);

  trace_init (&t, NULL, links);
  tcp_open (&c, &t, 0, "192.0.2.1", 40000, "198.51.100.2", 80);
  tcp_sends (&c, 0, "GET /a HTTP/1.1\r\nHost: example.com\r\n\r\n");
  tcp_sends (&c, 1, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
  c.snaplen = 54 + 10; /* the chunk size line, then 6 bytes of data */
  tcp_sends (&c, 1, body);
  c.snaplen = 0;
  tcp_close (&c);
  trace = trace_finish (&t);
  an = analyze (trace);
  tl = ts_analyzer_get_timeline (an);
  for (guint i = 0; i < ts_timeline_get_n_events (tl); i++)
    {
      const TsTimelineEvent *e = ts_timeline_get_event (tl, i);

      if (e->anomaly && e->layer == TS_LAYER_TCP && tcp_gap < 0)
        tcp_gap = (gint)i;
      if (e->anomaly && g_str_has_prefix (e->summary, "HTTP: bytes lost in the capture")
          && http_gap < 0)
        http_gap = (gint)i;
    }
  g_assert_cmpint (tcp_gap, >=, 0);
  g_assert_cmpint (http_gap, >=, 0);
  g_assert_cmpint (tcp_gap, <, http_gap);
}

/* A capture that began while the server was sending a body (tcpdump
 * started on a kept-alive connection): the body's tail is data, and the
 * next request and its response are HTTP. Before, the tail made the whole
 * connection opaque. */
static void
test_mid_message (void)
{
  static const char *const links[] = { "lo", NULL };
  Trace t;
  Tcp c = { 0 };
  g_autoptr (GBytes) trace = NULL;
  g_autoptr (TsAnalyzer) an = NULL;
  g_autofree char *http = NULL;
  g_autofree char *tail = g_strnfill (500, 'x');
  const TsTimeline *tl;
  const TsTimelineConn *conn;

  trace_init (&t, NULL, links);
  c.trace = &t;
  ts_test_flow_pair (&c.f[0], &c.f[1], "192.0.2.1", 40000, "198.51.100.2", 80);
  tcp_sends (&c, 1, tail);
  tcp_sends (&c, 0, "GET /second HTTP/1.1\r\nHost: example.com\r\n\r\n");
  tcp_sends (&c, 1, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
  tcp_close (&c);
  trace = trace_finish (&t);
  an = analyze (trace);
  tl = ts_analyzer_get_timeline (an);
  http = http_summaries (tl);
  g_assert_cmpstr (http, ==, "GET /second HTTP/1.1\n404 Not Found\n");
  g_assert_nonnull (find_event ((TsTimeline *)tl, "data", "lo", "500 bytes"));
  g_assert_nonnull (find_event ((TsTimeline *)tl, "anomaly", "lo", "capture starts in the middle"));
  conn = ts_timeline_get_conn (tl, 0);
  g_assert_cmpstr (conn->protocol, ==, "http");
}

/* A capture whose link type the analyzer does not decode (here 127,
 * 802.11 with radiotap headers, as tcpdump -I writes) says so once, with
 * the number: it said "unknown link type" for every packet before. */
static void
test_unknown_link_type (void)
{
  static const guint8 frame[64] = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) trace = NULL;
  g_autoptr (TsAnalyzer) an = NULL;
  const TsTimeline *tl;
  guint n_anomalies = 0;
  Trace t;

  trace_init (&t, NULL, (const char *const[]){ "eth0", NULL });
  ts_trace_writer_add_interface (t.writer, "wlan0mon", 127, NULL, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 5; i++)
    g_assert_true (ts_trace_writer_add_packet (t.writer, 1, T0 + i * 1000, frame, sizeof frame,
                                               sizeof frame, &error));
  trace = trace_finish (&t);
  an = analyze (trace);
  tl = ts_analyzer_get_timeline (an);
  for (guint i = 0; i < ts_timeline_get_n_events (tl); i++)
    {
      const TsTimelineEvent *e = ts_timeline_get_event (tl, i);

      g_assert_true (e->anomaly);
      g_assert_true (g_str_has_prefix (e->summary, "link type 127 is not decoded"));
      g_assert_cmpstr (ts_timeline_get_link (tl, (guint)e->link)->name, ==, "wlan0mon");
      n_anomalies++;
    }
  g_assert_cmpuint (n_anomalies, ==, 1);
}

/* dumpcap -i vc -i vs on a proxy's host (a foreign capture, no lab
 * metadata): each interface's packets are in time order in the file, the
 * two interfaces' are not (dumpcap wrote one leg's exchange ahead of the
 * other's, tens of ms off). The forward proxy's upstream request comes
 * before the client's request in the file, and the CONNECT's upstream leg
 * after the client's leg has closed. Times decide the matching: before,
 * neither leg was matched (no upstream, a tunnel of one leg, the proxy's
 * second address a node of its own). */
static void
test_interfaces_out_of_order (void)
{
  static const char *const links[] = { "vc", "vs", NULL };
  const guint64 ms = 1000000;
  g_autoptr (GByteArray) ch = ts_test_client_hello ("198.51.100.2", 5);
  g_autoptr (GByteArray) rec = app_record (100);
  g_autoptr (GBytes) trace = NULL;
  g_autoptr (TsAnalyzer) an = NULL;
  const TsTimeline *tl;
  const TsTimelineTunnel *tun;
  Trace t;
  Tcp a, b, a2, b2;
  guint64 start;

  trace_init_window (&t, NULL, links, 0);
  start = t.now;
  /* Forward proxy: the client's GET at 4 ms, the upstream leg from 5 ms,
   * written first. */
  t.now = start + 4 * ms;
  tcp_open_on (&b, &t, 1, 0, "198.51.100.1", 50000, "198.51.100.2", 80);
  tcp_sends (&b, 0, "GET /index.html HTTP/1.1\r\nHost: 198.51.100.2\r\n\r\n");
  tcp_sends (&b, 1, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
  tcp_close (&b);
  trace_flush (&t);
  t.now = start;
  tcp_open_on (&a, &t, 0, 0, "192.0.2.2", 40000, "192.0.2.1", 3128);
  tcp_sends (&a, 0, "GET http://198.51.100.2/index.html HTTP/1.1\r\nHost: 198.51.100.2\r\n\r\n");
  t.now = start + 12 * ms;
  tcp_sends (&a, 1, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
  tcp_close (&a);
  /* CONNECT at 104 ms; the upstream leg opens at 105 ms but is written
   * after the client's leg has closed. */
  t.now = start + 100 * ms;
  tcp_open_on (&a2, &t, 0, 0, "192.0.2.2", 40001, "192.0.2.1", 3128);
  tcp_sends (&a2, 0, "CONNECT 198.51.100.2:443 HTTP/1.1\r\nHost: 198.51.100.2:443\r\n\r\n");
  t.now += 3 * ms;
  tcp_sends (&a2, 1, "HTTP/1.1 200 Connection established\r\n\r\n");
  tcp_send (&a2, 0, ch->data, ch->len);
  t.now += 2 * ms;
  tcp_send (&a2, 1, rec->data, rec->len);
  tcp_close (&a2);
  trace_flush (&t);
  t.now = start + 104 * ms;
  tcp_open_on (&b2, &t, 1, 0, "198.51.100.1", 50001, "198.51.100.2", 443);
  t.now = start + 109 * ms;
  tcp_send (&b2, 0, ch->data, ch->len);
  tcp_send (&b2, 1, rec->data, rec->len);
  tcp_close (&b2);
  trace = trace_finish (&t);
  if (g_getenv ("TS_TEST_SAVE_TRACE") != NULL)
    g_assert_true (g_file_set_contents (g_getenv ("TS_TEST_SAVE_TRACE"),
                                        g_bytes_get_data (trace, NULL),
                                        (gssize)g_bytes_get_size (trace), NULL));

  an = analyze (trace);
  tl = ts_analyzer_get_timeline (an);
  /* Connections in file order: b, a, a2, b2. */
  g_assert_cmpuint (ts_timeline_get_n_conns (tl), ==, 4);
  g_assert_cmpint (ts_timeline_get_conn (tl, 1)->upstream, ==, 0);
  g_assert_cmpuint (ts_timeline_get_n_tunnels (tl), ==, 1);
  tun = ts_timeline_get_tunnel (tl, 0);
  g_assert_cmpuint (tun->conns->len, ==, 2);
  g_assert_cmpuint (g_array_index (tun->conns, guint, 0), ==, 2);
  g_assert_cmpuint (g_array_index (tun->conns, guint, 1), ==, 3);
  g_assert_cmpint (tun->mode, ==, TS_TUNNEL_MODE_RELAY);
  /* The proxy's address on vs is the proxy. */
  for (guint i = 0; i < 4; i += 3)
    g_assert_cmpstr (ts_timeline_get_node (tl, (guint)ts_timeline_get_conn (tl, i)->client)->name,
                     ==, "192.0.2.1");
}

/* An HTTP/1.0 body delimited by the close (openssl s_server -www) ends
 * when the connection does. All in its head's segment, it has no body
 * event of its own (it had one at the FIN, counting the body's bytes on
 * the wire a second time); one that went on in a later segment keeps its
 * event, at its last byte. */
static void
test_body_until_close (void)
{
  static const char *const links[] = { "eth0", NULL };
  Trace t;
  Tcp c;
  g_autoptr (GBytes) trace = NULL;
  g_autoptr (TsAnalyzer) an = NULL;
  g_autoptr (GString) bodies = g_string_new (NULL);
  const TsTimeline *tl;

  trace_init (&t, NULL, links);
  tcp_open (&c, &t, 0, "192.0.2.1", 40000, "198.51.100.2", 80);
  tcp_sends (&c, 0, "GET /one HTTP/1.0\r\n\r\n");
  tcp_sends (&c, 1, "HTTP/1.0 200 ok\r\nContent-type: text/html\r\n\r\n<p>all of it</p>");
  tcp_close (&c);
  tcp_open (&c, &t, 0, "192.0.2.1", 40001, "198.51.100.2", 80);
  tcp_sends (&c, 0, "GET /two HTTP/1.0\r\n\r\n");
  tcp_sends (&c, 1, "HTTP/1.0 200 ok\r\nContent-type: text/html\r\n\r\n<p>first</p>");
  tcp_sends (&c, 1, "<p>second</p>");
  tcp_close (&c);
  trace = trace_finish (&t);
  an = analyze (trace);
  tl = ts_analyzer_get_timeline (an);
  for (guint i = 0; i < ts_timeline_get_n_events (tl); i++)
    {
      const TsTimelineEvent *e = ts_timeline_get_event (tl, i);

      if (strcmp (e->kind, "http.body") == 0)
        g_string_append_printf (bodies, "%s | conn %d | wire %" G_GUINT64_FORMAT " | packet %u\n",
                                e->summary, e->conn, e->wire_len, e->packet);
    }
  /* Packets of the second connection: 3 of the handshake (8-10), the GET
   * (11), the two of the 200 (12, 13). */
  g_assert_cmpstr (bodies->str, ==, "body ends: 25 bytes | conn 1 | wire 25 | packet 13\n");
}

/* openssl s_server -WWW answering one small file over TLS 1.3, with its
 * secrets (tcpdump on lo; editcap injected them). */
#define S_SERVER_WWW "tests/trace/analyzer/s-server-www.pcapng"

/* The same inside TLS: openssl s_server -WWW answering one small file
 * (tests/trace/analyzer/s-server-www.pcapng, tcpdump on lo, its TLS 1.3
 * secrets injected with editcap): the body is in its head's record, and
 * the response's wire length counts that record. It had a body event too,
 * at the connection's close, counting the record's body bytes again (an
 * observer was shown "encrypted, 13 bytes" of a transfer that never
 * happened). */
static void
test_body_until_close_tls (void)
{
  g_autoptr (GBytes) trace = source_file (S_SERVER_WWW);
  g_autoptr (TsAnalyzer) an = NULL;
  const TsTimeline *tl;
  const TsTimelineEvent *e;
  guint n_bodies = 0;

  an = analyze (trace);
  tl = ts_analyzer_get_timeline (an);
  e = find_event ((TsTimeline *)tl, "http.response", NULL, "200 ok");
  g_assert_nonnull (e);
  g_assert_true (e->decrypted);
  for (guint i = 0; i < ts_timeline_get_n_events (tl); i++)
    n_bodies += strcmp (ts_timeline_get_event (tl, i)->kind, "http.body") == 0;
  g_assert_cmpuint (n_bodies, ==, 0);
}

/* @pcapng without its Decryption Secrets Blocks (a little-endian file, as
 * editcap wrote it). */
static GBytes *
strip_secrets (GBytes *pcapng)
{
  gsize len = 0;
  const guint8 *d = g_bytes_get_data (pcapng, &len);
  GByteArray *out = g_byte_array_new ();

  for (gsize at = 0; at + 12 <= len;)
    {
      guint32 type = GUINT32_FROM_LE (*(const guint32 *)(const void *)(d + at));
      guint32 block_len = GUINT32_FROM_LE (*(const guint32 *)(const void *)(d + at + 4));

      g_assert_cmpuint (block_len, >=, 12);
      g_assert_cmpuint (at + block_len, <=, len);
      if (type != 0x0000000a)
        g_byte_array_append (out, d + at, block_len);
      at += block_len;
    }
  return g_byte_array_free_to_bytes (out);
}

/* TLS 1.3 without its keys (the s_server capture above, its secrets left
 * out): the handshake after ServerHello is in records that look like
 * application data. By their place, the server's before the client's first
 * protected record, and that record (the client's Finished), are in the
 * handshake phase; they were in the data phase, and the ladder showed the
 * handshake, data, the handshake again (the client's ChangeCipherSpec),
 * then data. */
static void
test_tls13_phases_without_keys (void)
{
  g_autoptr (GBytes) with_keys = source_file (S_SERVER_WWW);
  g_autoptr (GBytes) trace = NULL;
  g_autoptr (TsAnalyzer) an = NULL;
  g_autofree char *text = NULL;
  g_autoptr (GString) phases = g_string_new (NULL);
  const TsTimeline *tl;
  g_autoptr (GArray) order = NULL;
  TsRenderOptions o = { 80, -1, NULL, FALSE };
  guint n_brackets = 0;

  trace = strip_secrets (with_keys);
  g_assert_cmpuint (g_bytes_get_size (trace), <, g_bytes_get_size (with_keys));
  an = analyze (trace);
  tl = ts_analyzer_get_timeline (an);
  order = ts_timeline_dup_time_order (tl);
  for (guint i = 0; i < order->len; i++)
    {
      const TsTimelineEvent *e = ts_timeline_get_event (tl, g_array_index (order, guint, i));

      if (strcmp (e->kind, "tls.application_data") == 0)
        g_string_append_printf (phases, "%s %s\n",
                                e->src == ts_timeline_get_conn (tl, (guint)e->conn)->client ? "c"
                                                                                            : "s",
                                ts_phase_to_string (e->phase));
    }
  /* The server's EncryptedExtensions, Certificate, CertificateVerify and
   * Finished; the client's Finished, request and close_notify; the
   * server's response and close_notify. */
  g_assert_cmpstr (phases->str, ==,
                   "s tls-handshake\ns tls-handshake\ns tls-handshake\ns tls-handshake\n"
                   "c tls-handshake\n"
                   "c data\ns data\ns data\nc data\n");
  text = ts_timeline_render_text (tl, &o);
  for (const char *p = text; (p = strstr (p, "[ TLS handshake")) != NULL; p++)
    n_brackets++;
  g_assert_cmpuint (n_brackets, ==, 1);
  /* The client's Finished is a row of its own: rows of data records do not
   * span phases. */
  g_assert_nonnull (strstr (text, "application data, 69 bytes (encrypted)"));
}

/* tcpdump on a client's interface (a foreign capture): a connection to one
 * server through a router the capture does not show, then SYNs to another
 * host that nothing answered. The link's ends are only a guess from the
 * first connection, so the SYNs are not said to have gone "no further
 * than" that first server (they were, drawn ending in its column). */
static void
test_foreign_unanswered (void)
{
  static const char *const links[] = { "eth0", NULL };
  Trace t;
  Tcp c, lost;
  g_autoptr (GBytes) trace = NULL;
  g_autoptr (TsAnalyzer) an = NULL;
  g_autofree char *text = NULL;
  TsRenderOptions o = { 80, -1, NULL, FALSE };
  TsTimeline *tl;
  const TsTimelineEvent *e;

  trace_init (&t, NULL, links);
  tcp_open (&c, &t, 0, "192.0.2.2", 40000, "198.51.100.2", 80);
  tcp_sends (&c, 0, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  tcp_sends (&c, 1, "HTTP/1.1 204 No Content\r\n\r\n");
  tcp_close (&c);
  lost = (Tcp){ .trace = &t };
  ts_test_flow_pair (&lost.f[0], &lost.f[1], "192.0.2.2", 40001, "198.51.100.77", 80);
  for (guint i = 0; i < 2; i++)
    emit (&lost, 0, 0x02, NULL, 0);
  trace = trace_finish (&t);
  an = analyze (trace);
  tl = ts_analyzer_get_timeline (an);
  e = NULL;
  for (guint i = 0; i < ts_timeline_get_n_events (tl); i++)
    {
      const TsTimelineEvent *s = ts_timeline_get_event (tl, i);
      if (strcmp (s->kind, "tcp.syn") == 0
          && strcmp (ts_timeline_get_node (tl, (guint)s->dst)->name, "198.51.100.77") == 0)
        e = s;
    }
  g_assert_nonnull (e);
  g_assert_cmpstr (e->summary, ==, "SYN, unanswered");
  g_assert_cmpint (e->stops_at, ==, -1);
  g_assert_cmpint (ts_timeline_event_arrow_end (e), ==, e->dst);
  text = ts_timeline_render_text (tl, &o);
  g_assert_null (strstr (text, "no further than"));
}

/* A response with obsolete line folding (RFC 9112 §5.2) is decoded, not
 * an anomaly that stops its direction: the field's detail line has its
 * lines joined with a space, with a note under it, and the next response
 * is decoded too. */
static void
test_obs_fold (void)
{
  static const char *const links[] = { "eth0", NULL };
  Trace t;
  Tcp c;
  g_autoptr (GBytes) trace = NULL;
  g_autoptr (TsAnalyzer) an = NULL;
  TsTimeline *tl;
  const TsTimelineEvent *e;
  g_autoptr (GString) details = g_string_new (NULL);

  trace_init (&t, NULL, links);
  tcp_open (&c, &t, 0, "192.0.2.2", 40000, "198.51.100.2", 80);
  tcp_sends (&c, 0, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
  tcp_sends (&c, 1,
             "HTTP/1.1 200 OK\r\nX-Folded: first\r\n  second\r\nContent-Length: 2\r\n\r\nok");
  tcp_sends (&c, 0, "GET /b HTTP/1.1\r\nHost: x\r\n\r\n");
  tcp_sends (&c, 1, "HTTP/1.1 204 No Content\r\n\r\n");
  tcp_close (&c);
  trace = trace_finish (&t);
  an = analyze (trace);
  tl = ts_analyzer_get_timeline (an);
  g_assert_null (find_event (tl, "anomaly", NULL, NULL));
  e = find_event (tl, "http.response", NULL, "200 OK");
  g_assert_nonnull (e);
  for (guint k = 0; k < e->n_detail; k++)
    {
      const TsTimelineDetail *d = ts_timeline_get_detail (tl, e->detail_first + k);
      g_string_append_printf (details, "%u %s\n", d->depth, d->text);
    }
  g_test_message ("%s", details->str);
  g_assert_nonnull (strstr (details->str, "1 X-Folded: first second\n"
                                          "2 obsolete line folding (RFC 9112 §5.2): its lines are "
                                          "joined with a space, as a user agent must read them\n"
                                          "1 Content-Length: 2\n"));
  g_assert_nonnull (strstr (details->str, "0 body: 2 bytes\n"));
  g_assert_nonnull (find_event (tl, "http.response", NULL, "204 No Content"));
}

/* A capture that began inside a TLS connection (tcpdump started during a
 * download over HTTPS): no handshake, only application data records. They
 * are TLS, encrypted, read by the two ends only (after the end of a record
 * whose start the capture missed, which stays data); they were opaque
 * "data" that the observer on the link was said to read. */
static void
test_mid_tls (void)
{
  static const char *const links[] = { "lo", NULL };
  Trace t;
  Tcp c = { 0 };
  g_autoptr (GBytes) trace = NULL;
  g_autoptr (TsAnalyzer) an = NULL;
  g_autoptr (GByteArray) down = app_record (1000);
  g_autoptr (GByteArray) up = app_record (40);
  const TsTimeline *tl;
  guint n_records = 0, n_missing = 0;

  trace_init (&t, NULL, links);
  c.trace = &t;
  ts_test_flow_pair (&c.f[0], &c.f[1], "192.0.2.1", 40000, "198.51.100.2", 443);
  /* The end of a record whose start the capture missed: data. */
  tcp_send (&c, 1, down->data + 700, down->len - 700);
  tcp_send (&c, 0, up->data, up->len);
  tcp_send (&c, 1, down->data, down->len);
  tcp_send (&c, 1, down->data, down->len);
  tcp_close (&c);
  trace = trace_finish (&t);
  an = analyze (trace);
  tl = ts_analyzer_get_timeline (an);
  g_assert_cmpstr (ts_timeline_get_conn (tl, 0)->protocol, ==, "tls");
  for (guint i = 0; i < ts_timeline_get_n_events (tl); i++)
    {
      const TsTimelineEvent *e = ts_timeline_get_event (tl, i);

      if (strcmp (e->kind, "data") == 0)
        g_assert_cmpuint (e->wire_len, ==, down->len - 700);
      if (strcmp (e->kind, "tls.application_data") != 0)
        continue;
      n_records++;
      g_assert_true (e->encrypted);
      g_assert_false (observer_reads ((TsTimeline *)tl, e, "lo"));
    }
  g_assert_cmpuint (n_records, ==, 3);
  g_assert_nonnull (find_event ((TsTimeline *)tl, "data", "lo", NULL));
  /* Why they stay encrypted: the handshake was before the capture (not a
   * secret missing for a client random it never saw). */
  for (guint i = 0; i < ts_timeline_get_n_events (tl); i++)
    {
      const TsTimelineEvent *e = ts_timeline_get_event (tl, i);

      if (e->anomaly && strstr (e->summary, "missing_keys") != NULL)
        {
          g_assert_cmpstr (e->summary, ==,
                           "TLS missing_keys: the TLS handshake is not in the capture (it began "
                           "before the capture did), so these records cannot be decrypted");
          n_missing++;
        }
    }
  g_assert_cmpuint (n_missing, >=, 1);
}

/* curl -x http://127.0.0.1:3128 https://127.0.0.1:8443/ captured on lo
 * (a foreign capture): the CONNECT target is a loopback address, which is
 * also the client's node (servers on loopback are ADDR:PORT). The tunnel
 * ends at the server on port 8443; it ended at the client ("tunnel #0
 * relay: 127.0.0.1 > 127.0.0.1:3128 > 127.0.0.1"). A tunnel whose
 * upstream leg was not captured has no server yet, rather than the
 * client. */
static void
test_loopback_target (void)
{
  static const char *const links[] = { "lo", NULL };
  g_autoptr (GByteArray) ch = ts_test_client_hello ("server.test", 3);
  g_autoptr (GBytes) trace = NULL;
  g_autoptr (TsAnalyzer) an = NULL;
  const TsTimeline *tl;
  const TsTimelineTunnel *tun;
  Trace t;
  Tcp a, b, a2;

  trace_init (&t, NULL, links);
  tcp_open (&a, &t, 0, "127.0.0.1", 40000, "127.0.0.1", 3128);
  tcp_sends (&a, 0, "CONNECT 127.0.0.1:8443 HTTP/1.1\r\nHost: 127.0.0.1:8443\r\n\r\n");
  tcp_open (&b, &t, 0, "127.0.0.1", 50000, "127.0.0.1", 8443);
  tcp_sends (&a, 1, "HTTP/1.1 200 Connection established\r\n\r\n");
  tcp_send (&a, 0, ch->data, ch->len);
  tcp_send (&b, 0, ch->data, ch->len);
  tcp_close (&a);
  tcp_close (&b);
  /* Another, to a port nothing was seen on. */
  tcp_open (&a2, &t, 0, "127.0.0.1", 40001, "127.0.0.1", 3128);
  tcp_sends (&a2, 0, "CONNECT 127.0.0.1:9443 HTTP/1.1\r\nHost: 127.0.0.1:9443\r\n\r\n");
  tcp_sends (&a2, 1, "HTTP/1.1 200 Connection established\r\n\r\n");
  tcp_close (&a2);
  trace = trace_finish (&t);
  an = analyze (trace);
  tl = ts_analyzer_get_timeline (an);
  g_assert_cmpuint (ts_timeline_get_n_tunnels (tl), ==, 2);
  tun = ts_timeline_get_tunnel (tl, 0);
  g_assert_cmpuint (tun->conns->len, ==, 2);
  g_assert_cmpint (tun->server, >=, 0);
  g_assert_cmpstr (ts_timeline_get_node (tl, (guint)tun->server)->name, ==, "127.0.0.1:8443");
  g_assert_cmpstr (ts_timeline_get_node (tl, (guint)tun->client)->name, ==, "127.0.0.1");
  tun = ts_timeline_get_tunnel (tl, 1);
  g_assert_cmpuint (tun->conns->len, ==, 1);
  g_assert_cmpint (tun->server, ==, -1);
}

/* What a capture lost (its interface's statistics block) is an anomaly on
 * that link, with the counts; a capture that lost nothing says nothing. */
static void
test_capture_lost (void)
{
  Trace t;
  g_autoptr (GBytes) trace = NULL;
  g_autoptr (TsAnalyzer) an = NULL;
  g_autoptr (GError) error = NULL;
  /* The counters run from the capture's start: a second block with the
   * same counts says nothing new, and packets dropped by the interface (the
   * network's loss) are not the capture's. */
  const TsTraceStatistics lost = { 1000, 3, 250, 747 };
  const TsTraceStatistics none = { 40, 9, 0, 31 };
  const TsTimeline *tl;
  guint n_lost = 0;

  trace_init (&t, metadata_one_proxy, links_one_proxy);
  write_connect (&t, 1, 0, 0, 1, 0);
  g_assert_true (ts_trace_writer_add_statistics (t.writer, 1, t.now, &lost, &error));
  g_assert_true (ts_trace_writer_add_statistics (t.writer, 0, t.now, &none, &error));
  g_assert_true (ts_trace_writer_add_statistics (t.writer, 1, t.now, &lost, &error));
  trace = trace_finish (&t);
  an = analyze (trace);
  tl = ts_analyzer_get_timeline (an);
  for (guint i = 0; i < ts_timeline_get_n_events (tl); i++)
    {
      const TsTimelineEvent *e = ts_timeline_get_event (tl, i);
      g_autofree char *details = NULL;
      GString *d;

      if (strstr (e->summary, "the capture lost") == NULL)
        continue;
      n_lost++;
      g_assert_true (e->anomaly);
      g_assert_cmpstr (e->summary, ==,
                       "the capture lost 250 packets on proxy-server: it did not keep up with "
                       "the traffic, so gaps there are the capture's, not the network's");
      g_assert_cmpint (e->link, ==, 1);
      g_assert_cmpstr (ts_timeline_get_node (tl, (guint)e->src)->name, ==, "proxy");
      g_assert_cmpstr (ts_timeline_get_node (tl, (guint)e->dst)->name, ==, "server");
      d = g_string_new (NULL);
      for (guint k = 0; k < e->n_detail; k++)
        g_string_append_printf (d, "%s\n", ts_timeline_get_detail (tl, e->detail_first + k)->text);
      details = g_string_free (d, FALSE);
      g_assert_cmpstr (details, ==,
                       "Received by the interface: 1000 packets\n"
                       "Delivered to the capturing program: 747 packets\n"
                       "Dropped by the operating system (capture buffer full): 250 packets\n"
                       "Dropped by the interface: 3 packets\n");
    }
  g_assert_cmpuint (n_lost, ==, 1);
  g_assert_cmpuint (ts_timeline_get_capture_lost (tl), ==, 250);
  /* The text ladder says it before the ladder. */
  {
    TsRenderOptions o = { 120, -1, NULL, FALSE };
    g_autofree char *text = ts_timeline_render_text (tl, &o);
    g_assert_true (g_str_has_prefix (text, "the capture lost 250 packets (it did not keep up): "
                                           "gaps below are the capture's, not the network's\n"));
  }
}

/* Cut the trace at sampled points: never a crash; the cut shows as an
 * anomaly; what came before stays. */
static void
test_truncated (void)
{
  g_autoptr (GBytes) trace = make_connect_trace (1);
  const guint8 *data = g_bytes_get_data (trace, NULL);
  gsize len = g_bytes_get_size (trace);

  for (gsize cut = 0; cut < len; cut += (cut < 200 ? 1 : 37))
    {
      g_autoptr (TsAnalyzer) an = ts_analyzer_new ();
      g_autofree guint8 *copy = g_memdup2 (data, cut);
      g_autoptr (GError) error = NULL;
      gboolean ok = ts_analyzer_feed (an, copy, cut, &error);

      if (ok)
        ok = ts_analyzer_finish (an, &error);
      else
        ts_analyzer_finish (an, NULL);
      if (!ok)
        {
          g_assert_nonnull (error);
          g_assert_nonnull (
              find_event (ts_analyzer_get_timeline (an), "anomaly", NULL, "trace damaged"));
        }
      {
        g_autofree char *text = ts_timeline_render_text (ts_analyzer_get_timeline (an), NULL);
        g_autofree char *json = ts_timeline_render_json (ts_analyzer_get_timeline (an), NULL);
        g_assert_nonnull (text);
        g_assert_nonnull (json);
      }
    }
  /* Garbage: an error naming the offset, nothing else. */
  {
    g_autoptr (TsAnalyzer) an = ts_analyzer_new ();
    g_autoptr (GError) error = NULL;
    static const char junk[] = "this is not a capture file at all, sorry";
    gboolean ok = ts_analyzer_feed (an, (const guint8 *)junk, sizeof junk, &error);
    if (ok)
      ok = ts_analyzer_finish (an, &error);
    g_assert_false (ok);
    g_assert_nonnull (error);
    g_assert_cmpuint (ts_analyzer_get_n_packets (an), ==, 0);
  }
}

/* A trace damaged after good blocks (a block length that breaks the format,
 * or a cut inside a block): the anomaly names the offset where reading
 * stopped before the cause, and the text ladder at 80 columns shows that
 * offset on the damage's line, for a chain's five lanes too. */
static void
test_damage_offset (void)
{
  g_autofree char *path
      = g_build_filename (TS_SOURCE_DIR, "captures", "connect-chain.pcapng", NULL);
  g_autofree char *data = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  for (guint k = 0; k < 2; k++)
    {
      g_autoptr (TsAnalyzer) an = ts_analyzer_new ();
      g_autoptr (GError) error = NULL;
      g_autofree guint8 *copy = g_memdup2 (data, len);
      gsize at = ts_test_pcapng_block_at (copy, len, len / 2 + 10);
      gsize fed = len;
      g_autofree char *want = NULL;
      g_autofree char *want_line = NULL;
      g_autofree char *text = NULL;
      g_auto (GStrv) lines = NULL;
      const TsTimelineEvent *e;
      TsRenderOptions o = { 80, -1, NULL, FALSE };
      gboolean seen = FALSE;

      if (k == 0)
        {
          guint32 bad = 30;
          memcpy (copy + at + 4, &bad, 4);
          want = g_strdup_printf ("trace damaged at offset %" G_GSIZE_FORMAT
                                  ", reading stopped: block at offset %" G_GSIZE_FORMAT
                                  " has length 30, not a multiple of 4 of at least 12",
                                  at, at);
        }
      else
        {
          fed = len / 2 + 10;
          want = g_strdup_printf (
              "trace damaged at offset %" G_GSIZE_FORMAT
              ", reading stopped: the trace ends inside the block at offset %" G_GSIZE_FORMAT,
              at, at);
        }
      if (ts_analyzer_feed (an, copy, fed, &error))
        g_assert_false (ts_analyzer_finish (an, &error));
      else
        ts_analyzer_finish (an, NULL);
      g_assert_nonnull (error);
      g_assert_cmpuint (ts_analyzer_get_offset (an), ==, at);
      g_assert_cmpuint (ts_analyzer_get_n_packets (an), >, 10);
      e = find_event (ts_analyzer_get_timeline (an), "anomaly", NULL, "trace damaged");
      g_assert_nonnull (e);
      g_assert_true (g_str_has_prefix (e->summary, want));
      text = ts_timeline_render_text (ts_analyzer_get_timeline (an), &o);
      lines = g_strsplit (text, "\n", -1);
      want_line = g_strdup_printf ("trace damaged at offset %" G_GSIZE_FORMAT ",", at);
      for (guint i = 0; lines[i] != NULL; i++)
        if (strstr (lines[i], "trace damaged") != NULL)
          {
            g_test_message ("%s", lines[i]);
            g_assert_cmpuint (strlen (lines[i]), <=, 80);
            g_assert_nonnull (strstr (lines[i], want_line));
            seen = TRUE;
          }
      g_assert_true (seen);
    }
}

/* Damage inside the bytes of a packet: flipped bytes never crash. */
static void
test_corrupted (void)
{
  g_autoptr (GBytes) trace = make_misc_trace ();
  const guint8 *data = g_bytes_get_data (trace, NULL);
  gsize len = g_bytes_get_size (trace);

  for (guint seed = 0; seed < 60; seed++)
    {
      g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
      g_autofree guint8 *copy = g_memdup2 (data, len);
      g_autoptr (TsAnalyzer) an = ts_analyzer_new ();

      for (int i = 0; i < 8; i++)
        copy[g_rand_int_range (rand, 200, (gint32)len)] ^= (guint8)g_rand_int_range (rand, 1, 256);
      (void)ts_analyzer_feed (an, copy, len, NULL);
      (void)ts_analyzer_finish (an, NULL);
      g_free (ts_timeline_render_text (ts_analyzer_get_timeline (an), NULL));
    }
}

#ifdef TS_HAVE_CAIRO
#include "ts-ladder-cairo.h"
#ifdef TS_TEST_FONTCONFIG
#include <fontconfig/fontconfig.h>
#endif

/* The picture: SVG, PNG and PDF files that start as they should. */
static void
test_picture (void)
{
  g_autoptr (GBytes) trace = make_connect_trace (77);
  g_autoptr (TsAnalyzer) an = analyze (trace);
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ts-ladder-XXXXXX", &error);
  static const struct
  {
    const char *format;
    const char *magic;
  } formats[] = { { "svg", "<?xml" }, { "png", "\x89PNG" }, { "pdf", "%PDF" } };
  TsRenderOptions o = { 0, -1, "connect", FALSE };

  g_assert_no_error (error);
  for (gsize i = 0; i < G_N_ELEMENTS (formats); i++)
    {
      g_autofree char *name = g_strdup_printf ("ladder.%s", formats[i].format);
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autofree char *data = NULL;
      gsize len = 0;

      o.as_node = i == 2 ? ts_timeline_find_node (ts_analyzer_get_timeline (an), "proxy") : -1;
      g_assert_true (
          ts_ladder_write (ts_analyzer_get_timeline (an), &o, formats[i].format, path, &error));
      g_assert_no_error (error);
      g_assert_true (g_file_get_contents (path, &data, &len, NULL));
      g_assert_cmpuint (len, >, 1000);
      g_assert_true (g_str_has_prefix (data, formats[i].magic));
      g_unlink (path);
    }
  g_assert_false (
      ts_ladder_write (ts_analyzer_get_timeline (an), &o, "gif", "/nonexistent/x.gif", &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  /* No label runs off the picture: its right margin stays blank (the
   * server's events were cut at the edge). */
  {
    g_autofree char *png = g_build_filename (dir, "connect.png", NULL);
    g_autoptr (TsAnalyzer) ran = analyze_capture ("connect.pcapng");
    cairo_surface_t *img;
    const guint8 *px;
    int w, h, stride;
    guint dark = 0;

    o.as_node = -1;
    g_assert_true (ts_ladder_write (ts_analyzer_get_timeline (ran), &o, "png", png, &error));
    g_assert_no_error (error);
    img = cairo_image_surface_create_from_png (png);
    g_assert_cmpint (cairo_surface_status (img), ==, CAIRO_STATUS_SUCCESS);
    cairo_surface_flush (img);
    px = cairo_image_surface_get_data (img);
    w = cairo_image_surface_get_width (img);
    h = cairo_image_surface_get_height (img);
    stride = cairo_image_surface_get_stride (img);
    for (int y = 0; y < h; y++)
      for (int x = w - 16; x < w; x++)
        {
          guint32 v = *(const guint32 *)(px + y * stride + x * 4);
          if (((v >> 16) & 0xff) + ((v >> 8) & 0xff) + (v & 0xff) < 3 * 160)
            dark++;
        }
    cairo_surface_destroy (img);
    g_assert_cmpuint (dark, ==, 0);
    g_unlink (png);
  }
  g_rmdir (dir);
  /* Let the leak checker see cairo's and fontconfig's caches released. */
  cairo_debug_reset_static_data ();
#ifdef TS_TEST_FONTCONFIG
  FcFini ();
#endif
}
#endif
static void
send_udp (Trace *t, guint iface, const TsTestFlow *f, const char *text)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) frame = ts_test_udp_frame (f, (const guint8 *)text, strlen (text));

  t->now += 1000000;
  g_assert_true (
      ts_trace_writer_add_packet (t->writer, iface, t->now, g_bytes_get_data (frame, NULL),
                                  g_bytes_get_size (frame), g_bytes_get_size (frame), &error));
  g_assert_no_error (error);
}

/* @e (not NULL) is read by exactly the nodes named in @names
 * (space-separated). */
static void
assert_node_readers (TsTimeline *tl, const TsTimelineEvent *e, const char *names)
{
  g_auto (GStrv) want = g_strsplit (names, " ", -1);

  g_assert_nonnull (e);
  for (guint n = 0; n < ts_timeline_get_n_nodes (tl); n++)
    {
      const char *name = ts_timeline_get_node (tl, n)->name;
      g_test_message ("%s: %s reads it?", e->summary, name);
      g_assert_cmpint (ts_timeline_event_readable_by (tl, e, (gint)n), ==,
                       g_strv_contains ((const char *const *)want, name));
    }
}

/* The event of @kind on @link whose source is @src (a node name). */
static const TsTimelineEvent *
find_from (TsTimeline *tl, const char *kind, const char *link, const char *src)
{
  for (guint i = 0; i < ts_timeline_get_n_events (tl); i++)
    {
      const TsTimelineEvent *e = ts_timeline_get_event (tl, i);
      if (strcmp (e->kind, kind) == 0 && e->link >= 0
          && strcmp (ts_timeline_get_link (tl, (guint)e->link)->name, link) == 0
          && e->src == ts_timeline_find_node (tl, src))
        return e;
    }
  return NULL;
}

/* The client's own packets for the server through the proxy's node (see
 * test_routed): a blocked SYN, a dropped datagram, a routed connection, a
 * one-way datagram seen on both links, the proxy's own answered datagram. */
static GBytes *
make_routed_trace (void)
{
  Trace t;
  Tcp blocked, routed;
  TsTestFlow udp_lost[2], udp_routed[2], udp_proxy[2];

  trace_init (&t, metadata_one_proxy, links_one_proxy);
  /* A SYN blocked at the proxy's node: no answer. */
  blocked = (Tcp){ .trace = &t };
  ts_test_flow_pair (&blocked.f[0], &blocked.f[1], "192.0.2.1", 40001, "198.51.100.2", 80);
  emit (&blocked, 0, 0x02, NULL, 0);
  /* A datagram dropped there. */
  ts_test_flow_pair (&udp_lost[0], &udp_lost[1], "192.0.2.1", 41000, "198.51.100.2", 7);
  send_udp (&t, 0, &udp_lost[0], "hello");
  /* A connection routed through it: the SYN-ACK shows the SYN arrived. */
  tcp_open (&routed, &t, 0, "192.0.2.1", 40002, "198.51.100.2", 80);
  tcp_sends (&routed, 0, "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n");
  /* A datagram routed through it, seen on both links, never answered. */
  ts_test_flow_pair (&udp_routed[0], &udp_routed[1], "192.0.2.1", 41001, "198.51.100.2", 9);
  send_udp (&t, 0, &udp_routed[0], "one way");
  send_udp (&t, 1, &udp_routed[0], "one way");
  /* The proxy's own datagram to the server, answered. */
  ts_test_flow_pair (&udp_proxy[0], &udp_proxy[1], "198.51.100.1", 41002, "198.51.100.2", 7);
  send_udp (&t, 1, &udp_proxy[0], "ping");
  send_udp (&t, 1, &udp_proxy[1], "ping");
  return trace_finish (&t);
}

/* Packets the proxy's node routes (or drops) rather than proxies: the
 * client's own packets for the server, seen on the client-proxy link.
 * The node that forwards them reads what is clear in them; the server
 * reads them only once something shows they got there (an answer, or the
 * same flow on its own link); a blocked SYN and an unanswered datagram
 * never reach it, and --as server does not show them. */
static void
test_routed (void)
{
  g_autoptr (GBytes) trace = make_routed_trace ();
  g_autoptr (TsAnalyzer) an = NULL;
  TsTimeline *tl;
  const TsTimelineEvent *e;
  gint proxy, server;

  an = analyze (trace);
  tl = ts_analyzer_get_timeline (an);
  proxy = node (tl, "proxy");
  server = node (tl, "server");

  /* The blocked SYN: client, the proxy's node, the observer; not the server. */
  e = find_event (tl, "tcp.syn", "client-proxy", NULL);
  g_assert_nonnull (e);
  g_assert_cmpint (e->dst, ==, server);
  assert_node_readers (tl, e, "client proxy");
  g_assert_true (observer_reads (tl, e, "client-proxy"));
  g_assert_true (ts_timeline_event_seen_by (tl, e, proxy));
  g_assert_false (ts_timeline_event_seen_by (tl, e, server));
  g_assert_cmpint (e->stops_at, ==, proxy);
  g_assert_cmpint (ts_timeline_event_arrow_end (e), ==, proxy);
  {
    /* The ladder concludes it went no further; a live line, printed when
     * the SYN is seen, cannot know that yet. */
    TsRenderOptions o = { 80, -1, NULL, FALSE };
    g_autofree char *text = ts_timeline_render_text (tl, &o);
    g_autofree char *live = ts_timeline_render_event_line (
        tl, &o, (guint)(e - ts_timeline_get_event (tl, 0)), e->time_ns);
    g_assert_nonnull (strstr (text, "-x|"));
    g_assert_nonnull (strstr (text, "SYN, no further than proxy"));
    g_assert_nonnull (strstr (live, "client -> server  SYN"));
    g_assert_null (strstr (live, "no further"));
  }
  assert_node_readers (tl, find_event (tl, "tcp.no-answer", "client-proxy", NULL), "client proxy");

  /* The dropped datagram likewise. */
  e = find_event (tl, "udp.datagram", "client-proxy", "UDP 41000 > 7");
  g_assert_nonnull (e);
  g_assert_cmpint (e->stops_at, ==, proxy);
  assert_node_readers (tl, e, "client proxy");

  /* The routed connection: its SYN was read by the server after all (the
   * SYN-ACK came later), and its request by client, router and server. */
  e = find_from (tl, "tcp.syn-ack", "client-proxy", "server");
  g_assert_nonnull (e);
  for (guint i = 0; i < ts_timeline_get_n_events (tl); i++)
    {
      const TsTimelineEvent *s = ts_timeline_get_event (tl, i);
      if (s->conn == e->conn && strcmp (s->kind, "tcp.syn") == 0)
        {
          assert_node_readers (tl, s, "client proxy server");
          g_assert_true (ts_timeline_event_seen_by (tl, s, server));
          g_assert_cmpint (s->stops_at, ==, -1);
        }
    }
  assert_node_readers (tl, find_event (tl, "http.request", "client-proxy", "GET /"),
                       "client proxy server");

  /* The one-way datagram: on the server's link, so it got there. */
  e = find_event (tl, "udp.datagram", "client-proxy", "UDP 41001 > 9");
  g_assert_nonnull (e);
  g_assert_cmpint (e->stops_at, ==, -1);
  assert_node_readers (tl, e, "client proxy server");
  assert_node_readers (tl, find_event (tl, "udp.datagram", "proxy-server", "UDP 41001 > 9"),
                       "client proxy server");

  /* Between the ends of a link: as ever. */
  e = find_from (tl, "udp.datagram", "proxy-server", "proxy");
  g_assert_nonnull (e);
  g_assert_cmpint (e->dst, ==, server);
  assert_node_readers (tl, e, "proxy server");
}

/* SYNs to a node on the same link that never answers (the link lost
 * them, as with loss = 100%): nothing shows they got there, so that node
 * is not taken to have read them, and its view does not show them. */
static void
test_unanswered_on_link (void)
{
  Trace t;
  Tcp lost;
  g_autoptr (GBytes) trace = NULL;
  g_autoptr (TsAnalyzer) an = NULL;
  TsTimeline *tl;
  const TsTimelineEvent *e;
  gint proxy;

  trace_init (&t, metadata_one_proxy, links_one_proxy);
  lost = (Tcp){ .trace = &t };
  ts_test_flow_pair (&lost.f[0], &lost.f[1], "192.0.2.1", 40005, "192.0.2.2", 8080);
  for (guint i = 0; i < 3; i++)
    emit (&lost, 0, 0x02, NULL, 0);
  trace = trace_finish (&t);
  an = analyze (trace);
  tl = ts_analyzer_get_timeline (an);
  proxy = node (tl, "proxy");
  e = find_event (tl, "tcp.syn", "client-proxy", NULL);
  g_assert_nonnull (e);
  g_assert_cmpint (e->dst, ==, proxy);
  assert_node_readers (tl, e, "client");
  g_assert_true (observer_reads (tl, e, "client-proxy"));
  g_assert_false (ts_timeline_event_seen_by (tl, e, proxy));
  /* Its arrow still goes to the proxy (it was last seen on that link),
   * and says it was not answered. */
  g_assert_cmpint (e->stops_at, ==, -1);
  g_assert_cmpstr (e->summary, ==, "SYN, unanswered");
  e = find_event (tl, "tcp.no-answer", "client-proxy", NULL);
  g_assert_nonnull (e);
  assert_node_readers (tl, e, "client");
  /* Its detail says when each SYN went (the retransmission timer). */
  g_assert_cmpuint (e->n_detail, ==, 3);
  g_assert_cmpstr (ts_timeline_get_detail (tl, e->detail_first)->text, ==,
                   "SYN 1 sent at +0.000 s");
  g_assert_true (
      g_str_has_prefix (ts_timeline_get_detail (tl, e->detail_first + 2)->text, "SYN 3 sent at +"));
  {
    TsRenderOptions o = { 80, proxy, NULL, FALSE };
    g_autofree char *text = ts_timeline_render_text (tl, &o);
    g_assert_null (strstr (text, "SYN"));
  }
}

/* tcpdump -i any on a proxy's host: one interface "any" (SLL2) holding
 * both legs of a tunnel, each packet with the index of its own interface
 * (2 to the client, 3 to the server), the proxy with an address on each;
 * and a connection the host routes, seen coming in on 2 and going out on
 * 3. No lab metadata: nodes are inferred. */
static GBytes *
make_any_trace (void)
{
  Trace t;
  Tcp r[2];
  g_autoptr (GError) error = NULL;

  trace_init (&t, NULL, (const char *const[]){ NULL });
  ts_trace_writer_add_interface (t.writer, "any", TS_LINKTYPE_LINUX_SLL2, NULL, &error);
  g_assert_no_error (error);
  write_connect (&t, 1, 0, 2, 0, 3);
  /* Routed: each packet in on 2, then out on 3. */
  for (int k = 0; k < 2; k++)
    {
      r[k].trace = &t;
      r[k].iface = 0;
      r[k].ifindex = 2 + k;
      ts_test_flow_pair (&r[k].f[0], &r[k].f[1], "192.0.2.1", 40001, "198.51.100.2", 80);
    }
  emit (&r[0], 0, 0x02, NULL, 0);
  emit (&r[1], 0, 0x02, NULL, 0);
  emit (&r[1], 1, 0x12, NULL, 0);
  emit (&r[0], 1, 0x12, NULL, 0);
  return trace_finish (&t);
}

static const TsTimelineLink *
link_named (TsTimeline *tl, const char *name)
{
  for (guint i = 0; i < ts_timeline_get_n_links (tl); i++)
    if (strcmp (ts_timeline_get_link (tl, i)->name, name) == 0)
      return ts_timeline_get_link (tl, i);
  return NULL;
}

/* A capture on "any" is a link per interface index: the tunnel's legs on
 * two links, each link's observer reading its own leg only, the proxy one
 * node with both its addresses; a routed packet once on each link. */
static void
test_any (void)
{
  g_autoptr (GBytes) trace = make_any_trace ();
  g_autoptr (TsAnalyzer) an = analyze (trace);
  TsTimeline *tl = ts_analyzer_get_timeline (an);
  const TsTimelineEvent *e;
  guint n_routed_syn[2] = { 0, 0 };

  g_assert_cmpuint (ts_timeline_get_n_links (tl), ==, 2);
  g_assert_nonnull (link_named (tl, "ifindex 2"));
  g_assert_nonnull (link_named (tl, "ifindex 3"));

  e = find_event (tl, "http.request", "ifindex 2", "CONNECT example.com:443");
  g_assert_nonnull (e);
  g_assert_true (observer_reads (tl, e, "ifindex 2"));
  g_assert_false (observer_reads (tl, e, "ifindex 3"));
  e = find_from (tl, "tcp.syn", "ifindex 3", "192.0.2.2");
  g_assert_nonnull (e);
  g_assert_true (observer_reads (tl, e, "ifindex 3"));
  g_assert_false (observer_reads (tl, e, "ifindex 2"));
  /* The ClientHello crosses both links: its SNI is read on both. */
  e = find_event (tl, "tls.handshake", "ifindex 3", "ClientHello");
  g_assert_nonnull (e);
  g_assert_true (observer_reads (tl, e, "ifindex 3"));
  g_assert_true (observer_reads (tl, e, "ifindex 2"));
  g_assert_cmpuint (ts_timeline_get_n_tunnels (tl), ==, 1);
  g_assert_cmpint (ts_timeline_get_tunnel (tl, 0)->mode, ==, TS_TUNNEL_MODE_RELAY);

  for (guint i = 0; i < ts_timeline_get_n_events (tl); i++)
    {
      const TsTimelineEvent *s = ts_timeline_get_event (tl, i);
      const TsTimelineConn *c = s->conn >= 0 ? ts_timeline_get_conn (tl, (guint)s->conn) : NULL;
      if (strcmp (s->kind, "tcp.syn") == 0 && c != NULL && c->server >= 0
          && g_str_equal (ts_timeline_get_node (tl, (guint)c->server)->name, "198.51.100.2")
          && s->link >= 0)
        {
          const char *link = ts_timeline_get_link (tl, (guint)s->link)->name;
          if (strstr (s->summary, "SYN") && c->client >= 0
              && g_str_equal (ts_timeline_get_node (tl, (guint)c->client)->name, "192.0.2.1"))
            n_routed_syn[g_str_equal (link, "ifindex 3")]++;
        }
    }
  g_assert_cmpuint (n_routed_syn[0], ==, 1);
  g_assert_cmpuint (n_routed_syn[1], ==, 1);

  /* The proxy is one node, found by either address, inferred a proxy; the
   * node first inferred for its server-side address is merged into it:
   * the links' ends, the JSON's nodes and readers name it no more. */
  {
    gint proxy = node (tl, "192.0.2.2");
    const TsTimelineLink *l3 = link_named (tl, "ifindex 3");
    TsRenderOptions o = { 80, -1, NULL, FALSE };
    g_autofree char *json = ts_timeline_render_json (tl, &o);

    g_assert_cmpint (ts_timeline_find_node (tl, "198.51.100.1"), ==, proxy);
    g_assert_cmpstr (ts_timeline_get_node (tl, (guint)proxy)->role, ==, "proxy");
    g_assert_cmpstr (ts_timeline_get_node (tl, (guint)node (tl, "192.0.2.1"))->role, ==, "client");
    g_assert_cmpstr (ts_timeline_get_node (tl, (guint)node (tl, "198.51.100.2"))->role, ==,
                     "server");
    g_assert_true (l3->a == proxy || l3->b == proxy);
    for (guint i = 0; i < ts_timeline_get_n_events (tl); i++)
      {
        const TsTimelineEvent *s = ts_timeline_get_event (tl, i);
        g_assert_true (s->src < 0 || ts_timeline_get_node (tl, (guint)s->src)->merged_into < 0);
        g_assert_true (s->dst < 0 || ts_timeline_get_node (tl, (guint)s->dst)->merged_into < 0);
      }
    g_assert_null (strstr (json, "\"name\": \"198.51.100.1\""));
    g_assert_nonnull (strstr (json, "\"198.51.100.1\"")); /* an address of the proxy */
  }
}

/* A SYN's options, on a capture from the lab (Linux's defaults): in the
 * detail of its event, and each side's window scale on the connection. */
static void
test_syn_options (void)
{
  g_autofree char *path = g_build_filename (TS_SOURCE_DIR, "captures", "connect.pcapng", NULL);
  g_autofree char *data = NULL;
  gsize len = 0;
  g_autoptr (GBytes) trace = NULL;
  g_autoptr (TsAnalyzer) an = NULL;
  TsTimeline *tl;
  const TsTimelineEvent *e;
  const TsTimelineConn *c;
  gboolean found = FALSE;

  if (!g_file_get_contents (path, &data, &len, NULL))
    {
      g_test_skip ("captures/connect.pcapng is not there");
      return;
    }
  trace = g_bytes_new_take (g_steal_pointer (&data), len);
  an = analyze (trace);
  tl = ts_analyzer_get_timeline (an);
  e = find_event (tl, "tcp.syn", "client-proxy", NULL);
  g_assert_nonnull (e);
  for (guint i = 0; i < e->n_detail; i++)
    found |= g_strcmp0 (ts_timeline_get_detail (tl, e->detail_first + i)->text,
                        "options: MSS 1440, window scale 10 (windows ×1024), SACK permitted, "
                        "timestamps")
             == 0;
  g_assert_true (found);
  c = ts_timeline_get_conn (tl, (guint)e->conn);
  g_assert_cmpint (c->wscale[0], ==, 10);
  g_assert_cmpint (c->wscale[1], ==, 10);
}

/* What an observer sees of a message inside TLS is the record that carries
 * it: in these captures each request, response (head and body) and
 * WebSocket frame has a record of its own, in one segment, so its
 * wire_len is the record's size, the bytes the event points at (it was
 * the plaintext's: 89 for a GET in a 111-byte record). */
static void
test_wire_length (void)
{
  const char *names[] = { "connect.pcapng", "websocket-over-connect.pcapng", "intercept.pcapng" };

  for (guint k = 0; k < G_N_ELEMENTS (names); k++)
    {
      g_autoptr (TsAnalyzer) an = analyze_capture (names[k]);
      TsTimeline *tl = ts_analyzer_get_timeline (an);
      guint n = 0;

      for (guint i = 0; i < ts_timeline_get_n_events (tl); i++)
        {
          const TsTimelineEvent *e = ts_timeline_get_event (tl, i);

          if (!e->encrypted || e->packet == G_MAXUINT32
              || (e->layer != TS_LAYER_HTTP && e->layer != TS_LAYER_WEBSOCKET))
            continue;
          g_test_message ("%s: %s: wire %" G_GUINT64_FORMAT ", bytes %u", names[k], e->summary,
                          e->wire_len, e->byte_len);
          g_assert_cmpuint (e->wire_len, ==, e->byte_len);
          n++;
        }
      g_assert_cmpuint (n, >=, 4);
    }
}

/* A NewSessionTicket is part of the handshake in TLS 1.2 (RFC 5077 §3.3:
 * before the server's ChangeCipherSpec), and comes after it in TLS 1.3
 * (RFC 8446 §4.6.1). */
static void
test_ticket_phase (void)
{
  const char *names[] = { "connect-tls12.pcapng", "connect.pcapng" };
  const TsPhase want[] = { TS_PHASE_TLS_HANDSHAKE, TS_PHASE_DATA };

  for (guint k = 0; k < G_N_ELEMENTS (names); k++)
    {
      g_autoptr (TsAnalyzer) an = analyze_capture (names[k]);
      TsTimeline *tl = ts_analyzer_get_timeline (an);
      guint n = 0;

      for (guint i = 0; i < ts_timeline_get_n_events (tl); i++)
        {
          const TsTimelineEvent *e = ts_timeline_get_event (tl, i);

          if (g_str_has_prefix (e->summary, "NewSessionTicket"))
            {
              g_assert_cmpint (e->phase, ==, want[k]);
              n++;
            }
        }
      g_assert_cmpuint (n, >=, 1);
    }
}

/* The same packet has the same time in every view: times count from the
 * trace's first event, not from the first one the reader sees. */
static void
test_view_times (void)
{
  g_autoptr (TsAnalyzer) an = analyze_capture ("connect-chain.pcapng");
  TsTimeline *tl = ts_analyzer_get_timeline (an);
  g_autofree char *first = NULL;
  gint views[3] = { -1, -1, -1 };

  /* Everyone, and the two ends of the client-proxy1 link where the first
   * ClientHello goes. */
  views[1] = node (tl, "client");
  views[2] = node (tl, "proxy1");
  for (guint v = 0; v < G_N_ELEMENTS (views); v++)
    {
      TsRenderOptions o = { 120, views[v], NULL, FALSE };
      g_autofree char *text = ts_timeline_render_text (tl, &o);
      const char *hello = strstr (text, "ClientHello SNI example.com");
      const char *line;
      g_autofree char *when = NULL;

      g_assert_nonnull (hello);
      for (line = hello; line > text && line[-1] != '\n'; line--)
        ;
      when = g_strndup (line, 11);
      if (first == NULL)
        first = g_strdup (when);
      g_assert_cmpstr (when, ==, first);
    }
  /* They count from the trace's first record, the lab's metadata block
   * (Wireshark's frame 1), which comes before the first event. */
  {
    const TsTimelineEvent *hello = find_event (tl, "tls.handshake", "client-proxy1", "ClientHello");
    g_autofree char *want = NULL;

    g_assert_nonnull (hello);
    g_assert_cmpuint (ts_timeline_get_origin_ns (tl), <, ts_timeline_get_event (tl, 0)->time_ns);
    want = g_strdup_printf ("%10.6f ",
                            (double)(hello->time_ns - ts_timeline_get_origin_ns (tl)) / 1e9);
    g_assert_cmpstr (first, ==, want);
  }
}

/* "observer": an on-path observer of every link reads the CONNECT, the
 * SNI and the TLS records' sizes, not what is inside them. */
static void
test_as_observer (void)
{
  g_autoptr (TsAnalyzer) an = analyze_capture ("connect.pcapng");
  TsTimeline *tl = ts_analyzer_get_timeline (an);
  g_autofree char *text = NULL, *json = NULL;
  TsRenderOptions o = { 100, -1, NULL, FALSE };

  g_assert_true (ts_render_find_as (tl, "observer", &o.as_node));
  g_assert_cmpint (o.as_node, ==, TS_RENDER_AS_OBSERVER);
  g_assert_false (ts_render_find_as (tl, "nobody", &o.as_node));
  g_assert_true (ts_render_find_as (tl, "observer", &o.as_node));
  text = ts_timeline_render_text (tl, &o);
  g_assert_nonnull (strstr (text, "as seen by an on-path observer of every link"));
  g_assert_nonnull (strstr (text, "CONNECT example.com:443 HTTP/1.1"));
  g_assert_nonnull (strstr (text, "ClientHello SNI example.com"));
  g_assert_nonnull (strstr (text, "encrypted, 111 bytes"));
  g_assert_null (strstr (text, "GET /"));
  g_assert_null (strstr (text, "200 OK"));
  /* Lab events happen on no link: no observer sees them. */
  g_assert_null (strstr (text, "lab.actor.started"));
  json = ts_timeline_render_json (tl, &o);
  g_assert_nonnull (strstr (json, "\"as\": \"observer\""));
  g_assert_null (strstr (json, "GET /"));
  /* Nor what kind of thing was inside: the only HTTP it knows of is the
   * CONNECT and its answer. */
  {
    const char *kinds[] = { "\"kind\": \"http.request\"", "\"kind\": \"http.response\"" };

    for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
      {
        const char *at = strstr (json, kinds[k]);
        g_assert_nonnull (at);
        g_assert_null (strstr (at + 1, kinds[k]));
      }
    g_assert_nonnull (strstr (json, "\"kind\": \"tls.encrypted\""));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ts/trace/analyzer/connect-relay", test_connect_relay);
  g_test_add_func ("/ts/trace/analyzer/any", test_any);
  g_test_add_func ("/ts/trace/analyzer/syn-options", test_syn_options);
  g_test_add_func ("/ts/trace/analyzer/connect-intercept", test_connect_intercept);
  g_test_add_func ("/ts/trace/analyzer/chain", test_chain);
  g_test_add_func ("/ts/trace/analyzer/routed", test_routed);
  g_test_add_func ("/ts/trace/analyzer/unanswered-on-link", test_unanswered_on_link);
  g_test_add_func ("/ts/trace/analyzer/websocket-reorder-gap", test_misc);
  g_test_add_func ("/ts/trace/analyzer/h2c-in-tunnel", test_h2c_in_tunnel);
  g_test_add_func ("/ts/trace/analyzer/h2c-empty-block", test_h2c_empty_block);
  g_test_add_func ("/ts/trace/analyzer/chunked-equals-one-pass", test_chunked);
  g_test_add_func ("/ts/trace/analyzer/decrypt-ahead-equals-one-pass", test_decrypt_ahead);
  g_test_add_func ("/ts/trace/analyzer/decrypt-ahead-bulk", test_decrypt_ahead_bulk);
  g_test_add_func ("/ts/trace/analyzer/http-body", test_http_body);
  g_test_add_func ("/ts/trace/analyzer/wire-length", test_wire_length);
  g_test_add_func ("/ts/trace/analyzer/ticket-phase", test_ticket_phase);
  g_test_add_func ("/ts/trace/analyzer/view-times", test_view_times);
  g_test_add_func ("/ts/trace/analyzer/as-observer", test_as_observer);
  g_test_add_func ("/ts/trace/analyzer/capture-lost", test_capture_lost);
  g_test_add_func ("/ts/trace/analyzer/truncated", test_truncated);
  g_test_add_func ("/ts/trace/analyzer/damage-offset", test_damage_offset);
  g_test_add_func ("/ts/trace/analyzer/loopback-target", test_loopback_target);
  g_test_add_func ("/ts/trace/analyzer/mid-tls", test_mid_tls);
  g_test_add_func ("/ts/trace/analyzer/foreign-unanswered", test_foreign_unanswered);
  g_test_add_func ("/ts/trace/analyzer/obs-fold", test_obs_fold);
  g_test_add_func ("/ts/trace/analyzer/body-until-close", test_body_until_close);
  g_test_add_func ("/ts/trace/analyzer/body-until-close-tls", test_body_until_close_tls);
  g_test_add_func ("/ts/trace/analyzer/tls13-phases-without-keys", test_tls13_phases_without_keys);
  g_test_add_func ("/ts/trace/analyzer/interfaces-out-of-order", test_interfaces_out_of_order);
  g_test_add_func ("/ts/trace/analyzer/unknown-link-type", test_unknown_link_type);
  g_test_add_func ("/ts/trace/analyzer/snaplen", test_snaplen);
  g_test_add_func ("/ts/trace/analyzer/gap-order", test_gap_order);
  g_test_add_func ("/ts/trace/analyzer/mid-message", test_mid_message);
  g_test_add_func ("/ts/trace/analyzer/corrupted", test_corrupted);
#ifdef TS_HAVE_CAIRO
  g_test_add_func ("/ts/trace/analyzer/picture", test_picture);
#endif
  return g_test_run ();
}
