/* test-http1.c: HTTP/1 heads, chunked bodies, the connection state machine
 * (pipelining, HEAD, CONNECT, Upgrade), WebSocket frames.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "ts-http1.h"
#include "ts-http2.h"
#include "ts-websocket.h"

static void
test_request_forms (void)
{
  static const struct
  {
    const char *text;
    const char *method;
    const char *target;
    TsHttp1TargetForm form;
  } cases[] = {
    { "GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\n\r\n", "GET", "/index.html?q=1",
      TS_HTTP1_TARGET_ORIGIN },
    { "GET http://example.com/a HTTP/1.1\r\nHost: example.com\r\nProxy-Connection: "
      "keep-alive\r\n\r\n",
      "GET", "http://example.com/a", TS_HTTP1_TARGET_ABSOLUTE },
    { "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", "CONNECT",
      "example.com:443", TS_HTTP1_TARGET_AUTHORITY },
    { "CONNECT [2001:db8::1]:443 HTTP/1.1\r\n\r\n", "CONNECT", "[2001:db8::1]:443",
      TS_HTTP1_TARGET_AUTHORITY },
    { "OPTIONS * HTTP/1.1\nHost: example.com\n\n", "OPTIONS", "*", TS_HTTP1_TARGET_ASTERISK },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      TsHttp1Head h;
      gsize len = strlen (cases[i].text);
      gssize r = ts_http1_parse_request ((const guint8 *)cases[i].text, len, &h);

      g_assert_cmpint (r, ==, (gssize)len);
      g_assert_cmpmem (h.method, h.method_len, cases[i].method, strlen (cases[i].method));
      g_assert_cmpmem (h.target, h.target_len, cases[i].target, strlen (cases[i].target));
      g_assert_cmpint (h.target_form, ==, cases[i].form);
      g_assert_cmpint (h.minor_version, ==, 1);
      /* Every prefix is incomplete. */
      for (gsize n = 0; n < len; n++)
        {
          g_autofree guint8 *copy = g_memdup2 (cases[i].text, n);
          g_assert_cmpint (ts_http1_parse_request (copy, n, &h), ==, TS_PARSE_INCOMPLETE);
        }
    }
}

static void
test_request_invalid (void)
{
  static const char *const bad[] = {
    "GE(T / HTTP/1.1\r\n\r\n",
    "GET / HTTP/2.0\r\n\r\n",
    "GET  / HTTP/1.1\r\n\r\n",
    "GET relative HTTP/1.1\r\n\r\n",
    "CONNECT example.com HTTP/1.1\r\n\r\n",
    "CONNECT example.com:x HTTP/1.1\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",
    "GET / HTTP/1.1\r\nBad Header: a\r\n\r\n",
    "GET / HTTP/1.1\r\nNoColon\r\n\r\n",
    "GET / HTTP/1.1\rX\r\n\r\n",
    "\x16\x03\x01\x02\x00\x01",
  };
  TsHttp1Head h;

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    g_assert_cmpint (ts_http1_parse_request ((const guint8 *)bad[i], strlen (bad[i]), &h), ==,
                     TS_PARSE_INVALID);
  {
    /* Over the header cap. */
    GString *s = g_string_new ("GET / HTTP/1.1\r\n");
    for (int i = 0; i <= TS_HTTP1_MAX_HEADERS; i++)
      g_string_append_printf (s, "X-%d: y\r\n", i);
    g_string_append (s, "\r\n");
    g_assert_cmpint (ts_http1_parse_request ((const guint8 *)s->str, s->len, &h), ==,
                     TS_PARSE_INVALID);
    g_string_free (s, TRUE);
  }
}

static void
test_response (void)
{
  const char *text = "HTTP/1.1 200 Connection established\r\nVia: 1.1 proxy\r\n\r\n";
  gsize len = strlen (text);
  TsHttp1Head h;
  gsize vlen;
  const char *v;

  g_assert_cmpint (ts_http1_parse_response ((const guint8 *)text, len, &h), ==, (gssize)len);
  g_assert_cmpint (h.status, ==, 200);
  g_assert_cmpmem (h.reason, h.reason_len, "Connection established", 22);
  v = ts_http1_head_get (&h, "via", &vlen);
  g_assert_cmpmem (v, vlen, "1.1 proxy", 9);
  for (gsize n = 0; n < len; n++)
    {
      g_autofree guint8 *copy = g_memdup2 (text, n);
      g_assert_cmpint (ts_http1_parse_response (copy, n, &h), ==, TS_PARSE_INCOMPLETE);
    }
  g_assert_cmpint (ts_http1_parse_response ((const guint8 *)"HTTP/1.0 404\r\n\r\n", 16, &h), ==,
                   16);
  g_assert_cmpint (h.status, ==, 404);
  g_assert_cmpint (ts_http1_parse_response ((const guint8 *)"HTTP/1.1 20x OK\r\n\r\n", 19, &h), ==,
                   TS_PARSE_INVALID);
  g_assert_cmpint (ts_http1_parse_response ((const guint8 *)"SSH-2.0-x\r\n", 11, &h), ==,
                   TS_PARSE_INVALID);
}

static void
test_chunked (void)
{
  const char *body
      = "4;ext=1\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nTrailer: x\r\n\r\nNEXT";
  gsize len = strlen (body);

  for (gsize step = 1; step <= len; step++)
    {
      TsHttp1Chunked c;
      gsize at = 0;

      ts_http1_chunked_init (&c);
      while (at < len && c.state != TS_HTTP1_CHUNK_DONE)
        {
          gsize n = MIN (step, len - at);
          gssize r = ts_http1_chunked_feed (&c, (const guint8 *)body + at, n);
          g_assert_cmpint (r, >=, 0);
          at += (gsize)r;
          if ((gsize)r < n)
            break;
        }
      g_assert_cmpint (c.state, ==, TS_HTTP1_CHUNK_DONE);
      g_assert_cmpuint (c.body_len, ==, 23);
      g_assert_cmpuint (c.n_chunks, ==, 3);
      g_assert_cmpuint (at, ==, len - 4);
    }
  {
    TsHttp1Chunked c;
    ts_http1_chunked_init (&c);
    g_assert_cmpint (ts_http1_chunked_feed (&c, (const guint8 *)"zz\r\n", 4), ==, TS_PARSE_INVALID);
    ts_http1_chunked_init (&c);
    g_assert_cmpint (ts_http1_chunked_feed (&c, (const guint8 *)"2\r\nabX", 6), ==,
                     TS_PARSE_INVALID);
    ts_http1_chunked_init (&c);
    g_assert_cmpint (ts_http1_chunked_feed (&c, (const guint8 *)"ffffffffffffffffff\r\n", 20), ==,
                     TS_PARSE_INVALID);
  }
}

/* A log of callbacks, one line each, to compare runs. */
static void
log_head (gpointer user_data, TsHttp1Direction dir, guint64 offset, gsize len, const TsHttp1Head *h,
          TsHttp1BodyKind body, guint64 body_len, const char *request_method)
{
  GString *log = user_data;

  if (h->is_request)
    g_string_append_printf (
        log, "%d@%" G_GUINT64_FORMAT "+%zu req %.*s %.*s %s body=%d/%" G_GUINT64_FORMAT "\n", dir,
        offset, len, (int)h->method_len, h->method, (int)h->target_len, h->target,
        ts_http1_target_form_to_string (h->target_form), body, body_len);
  else
    g_string_append_printf (
        log, "%d@%" G_GUINT64_FORMAT "+%zu resp %d (to %s) body=%d/%" G_GUINT64_FORMAT "\n", dir,
        offset, len, h->status, request_method, body, body_len);
}

static void
log_end (gpointer user_data, TsHttp1Direction dir, guint64 end, guint64 body_len)
{
  g_string_append_printf (user_data, "%d end@%" G_GUINT64_FORMAT " body %" G_GUINT64_FORMAT "\n",
                          dir, end, body_len);
}

static void
log_tunnel (gpointer user_data, TsHttp1TunnelKind kind, const char *protocol)
{
  g_string_append_printf (user_data, "tunnel %d %s\n", kind, protocol);
}

static void
log_tunnel_data (gpointer user_data, TsHttp1Direction dir, guint64 offset, const guint8 *data,
                 gsize len)
{
  /* Coalesce so that chunking does not change the log: one char per byte. */
  GString *log = user_data;
  g_string_append_printf (log, "%d data@%" G_GUINT64_FORMAT ":", dir, offset);
  g_string_append_len (log, (const char *)data, (gssize)len);
  g_string_append_c (log, '\n');
}

static void
log_anomaly (gpointer user_data, TsHttp1Direction dir, guint64 offset, const char *what)
{
  g_string_append_printf (user_data, "%d anomaly@%" G_GUINT64_FORMAT " %s\n", dir, offset, what);
}

static const TsHttp1Callbacks log_callbacks = {
  log_head, log_end, log_tunnel, NULL, log_anomaly,
};

static const TsHttp1Callbacks log_callbacks_data = {
  log_head, log_end, log_tunnel, log_tunnel_data, log_anomaly,
};

typedef struct
{
  TsHttp1Direction dir;
  const char *bytes;
} Step;

static char *
run (const Step *steps, gsize n_steps, gsize chunk, const TsHttp1Callbacks *cb)
{
  GString *log = g_string_new (NULL);
  g_autoptr (TsHttp1Conn) conn = ts_http1_conn_new (cb, log);

  for (gsize i = 0; i < n_steps; i++)
    {
      const char *b = steps[i].bytes;
      gsize len = strlen (b);
      for (gsize at = 0; at < len; at += chunk)
        {
          g_autofree guint8 *copy = g_memdup2 (b + at, MIN (chunk, len - at));
          ts_http1_conn_feed (conn, steps[i].dir, copy, MIN (chunk, len - at));
        }
    }
  ts_http1_conn_end (conn, TS_HTTP1_DIR_CLIENT);
  ts_http1_conn_end (conn, TS_HTTP1_DIR_SERVER);
  return g_string_free (log, FALSE);
}

static void
check_chunkings (const Step *steps, gsize n, const char *expected)
{
  g_autofree char *whole = run (steps, n, G_MAXSIZE / 2, &log_callbacks);

  g_assert_cmpstr (whole, ==, expected);
  for (gsize chunk = 1; chunk < 40; chunk++)
    {
      g_autofree char *log = run (steps, n, chunk, &log_callbacks);
      g_assert_cmpstr (log, ==, whole);
    }
}

static void
test_conn_pipeline (void)
{
  static const Step steps[] = {
    { TS_HTTP1_DIR_CLIENT, "POST /up HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
                           "HEAD /h HTTP/1.1\r\n\r\n"
                           "GET /c HTTP/1.1\r\n\r\n" },
    { TS_HTTP1_DIR_SERVER,
      "HTTP/1.1 100 Continue\r\n\r\n"
      "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"
      "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
      "HTTP/1.0 200 OK\r\n\r\nuntil close" },
  };
  check_chunkings (steps, G_N_ELEMENTS (steps),
                   "0@0+40 req POST /up origin body=1/5\n"
                   "0 end@45 body 5\n"
                   "0@45+20 req HEAD /h origin body=0/0\n"
                   "0 end@65 body 0\n"
                   "0@65+19 req GET /c origin body=0/0\n"
                   "0 end@84 body 0\n"
                   "1@0+25 resp 100 (to POST) body=0/0\n"
                   "1 end@25 body 0\n"
                   "1@25+43 resp 201 (to POST) body=1/2\n"
                   "1 end@70 body 2\n"
                   "1@70+41 resp 200 (to HEAD) body=0/0\n"
                   "1 end@111 body 0\n"
                   "1@111+53 resp 200 (to GET) body=2/0\n"
                   "1 end@177 body 3\n"
                   "1@177+19 resp 200 (to ) body=3/0\n"
                   "1 end@207 body 11\n");
}

/* RFC 9112 §5.2: obsolete line folding in a response is taken, each fold
 * read as a space (a user agent must); the field says it was folded. */
static void
test_response_obs_fold (void)
{
  const char *text = "HTTP/1.1 200 OK\r\n"
                     "X-Folded: first \r\n  second\r\n\tthird\r\n"
                     "Content-Length: 0\r\n"
                     "X-Empty-First:\r\n value\r\n \r\n"
                     "\r\n";
  gsize len = strlen (text);
  TsHttp1Head h;
  g_autofree char *joined = NULL;
  g_autofree char *empty_first = NULL;
  g_autofree char *plain = NULL;
  static const char *const bad[] = {
    /* Whitespace between the start line and the first field is no fold. */
    "HTTP/1.1 200 OK\r\n folded\r\n\r\n",
    /* A fold's line holds field-vchar, SP and HTAB only. */
    "HTTP/1.1 200 OK\r\nX: a\r\n b\x01\r\n\r\n",
    "HTTP/1.1 200 OK\r\nX: a\r\n b\rc\r\n\r\n",
  };

  g_assert_cmpint (ts_http1_parse_response ((const guint8 *)text, len, &h), ==, (gssize)len);
  g_assert_cmpuint (h.n_headers, ==, 3);
  g_assert_cmpuint (h.n_folded, ==, 2);
  g_assert_true (h.headers[0].folded);
  g_assert_false (h.headers[1].folded);
  g_assert_true (h.headers[2].folded);
  joined = ts_http1_header_dup_value (&h.headers[0]);
  g_assert_cmpstr (joined, ==, "first second third");
  /* The value is a view of the head, folds included. */
  g_assert_cmpmem (h.headers[0].value, h.headers[0].value_len, "first \r\n  second\r\n\tthird", 24);
  empty_first = ts_http1_header_dup_value (&h.headers[2]);
  g_assert_cmpstr (empty_first, ==, "value");
  plain = ts_http1_header_dup_value (&h.headers[1]);
  g_assert_cmpstr (plain, ==, "0");
  for (gsize n = 0; n < len; n++)
    {
      g_autofree guint8 *copy = g_memdup2 (text, n);
      g_assert_cmpint (ts_http1_parse_response (copy, n, &h), ==, TS_PARSE_INCOMPLETE);
    }
  /* LF alone ends lines (RFC 9112 §2.2), folds too. */
  {
    const char *lf = "HTTP/1.1 200 OK\nX: a\n b\n\n";
    g_autofree char *v = NULL;

    g_assert_cmpint (ts_http1_parse_response ((const guint8 *)lf, strlen (lf), &h), ==,
                     (gssize)strlen (lf));
    v = ts_http1_header_dup_value (&h.headers[0]);
    g_assert_cmpstr (v, ==, "a b");
  }
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    g_assert_cmpint (ts_http1_parse_response ((const guint8 *)bad[i], strlen (bad[i]), &h), ==,
                     TS_PARSE_INVALID);
  /* A request with obsolete line folding stays invalid (a server may
   * reject it; test_request_invalid has one). */
  {
    const char *request = "GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n";

    g_assert_cmpint (ts_http1_parse_request ((const guint8 *)request, strlen (request), &h), ==,
                     TS_PARSE_INVALID);
  }
}

/* Folded framing fields frame the body as their joined value says, and the
 * direction goes on decoding after them. */
static void
test_conn_obs_fold (void)
{
  static const Step steps[] = {
    { TS_HTTP1_DIR_CLIENT, "GET /a HTTP/1.1\r\n\r\n"
                           "GET /b HTTP/1.1\r\n\r\n"
                           "GET /c HTTP/1.1\r\n\r\n" },
    { TS_HTTP1_DIR_SERVER,
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip,\r\n\tchunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Length:\r\n 2\r\nX-Note: a\r\n b\r\n\r\nok"
      "HTTP/1.1 204 No Content\r\n\r\n" },
  };
  check_chunkings (steps, G_N_ELEMENTS (steps),
                   "0@0+19 req GET /a origin body=0/0\n"
                   "0 end@19 body 0\n"
                   "0@19+19 req GET /b origin body=0/0\n"
                   "0 end@38 body 0\n"
                   "0@38+19 req GET /c origin body=0/0\n"
                   "0 end@57 body 0\n"
                   "1@0+55 resp 200 (to GET) body=2/0\n"
                   "1 end@68 body 3\n"
                   "1@68+55 resp 200 (to GET) body=1/2\n"
                   "1 end@125 body 2\n"
                   "1@125+27 resp 204 (to GET) body=0/0\n"
                   "1 end@152 body 0\n");
}

/* A request with obsolete line folding is not decoded (a server may
 * reject it, RFC 9112 §5.2), and the anomaly says why; a head that is
 * malformed otherwise says only that. */
static void
test_conn_request_obs_fold (void)
{
  static const Step folded[] = {
    { TS_HTTP1_DIR_CLIENT, "GET /a HTTP/1.1\r\nHost: a\r\nX-Long: one,\r\n two\r\n\r\n" },
  };
  static const Step bad[] = {
    { TS_HTTP1_DIR_CLIENT, "GET /a HTTP/1.1\r\nHost a\r\n\r\n" },
  };
  g_autofree char *a = run (folded, G_N_ELEMENTS (folded), 1000, &log_callbacks);
  g_autofree char *b = run (bad, G_N_ELEMENTS (bad), 1000, &log_callbacks);

  g_assert_cmpstr (a, ==,
                   "0 anomaly@0 HTTP/1 request head with obsolete line folding, not decoded (RFC "
                   "9112 §5.2: a server rejects it with 400 or reads each fold as a space)\n");
  g_assert_cmpstr (b, ==, "0 anomaly@0 malformed HTTP/1 request head\n");
}

static void
test_conn_connect (void)
{
  static const Step steps[] = {
    { TS_HTTP1_DIR_CLIENT,
      "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n\x16\x03\x01 hello" },
    { TS_HTTP1_DIR_SERVER, "HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x03 server" },
    { TS_HTTP1_DIR_CLIENT, "more" },
  };
  g_autofree char *whole = run (steps, G_N_ELEMENTS (steps), 1000, &log_callbacks_data);

  g_assert_cmpstr (whole, ==,
                   "0@0+59 req CONNECT example.com:443 authority body=0/0\n"
                   "0 end@59 body 0\n"
                   "1@0+39 resp 200 (to CONNECT) body=0/0\n"
                   "1 end@39 body 0\n"
                   "tunnel 0 CONNECT\n"
                   "0 data@59:\x16\x03\x01 hello\n"
                   "1 data@39:\x16\x03\x03 server\n"
                   "0 data@68:more\n");
  check_chunkings (steps, G_N_ELEMENTS (steps),
                   "0@0+59 req CONNECT example.com:443 authority body=0/0\n"
                   "0 end@59 body 0\n"
                   "1@0+39 resp 200 (to CONNECT) body=0/0\n"
                   "1 end@39 body 0\n"
                   "tunnel 0 CONNECT\n");
}

static void
test_conn_connect_refused (void)
{
  static const Step steps[] = {
    { TS_HTTP1_DIR_CLIENT,
      "CONNECT mail.test:25 HTTP/1.1\r\n\r\nGET http://example.com/ HTTP/1.1\r\n\r\n" },
    { TS_HTTP1_DIR_SERVER, "HTTP/1.1 403 Forbidden\r\nContent-Length: 3\r\n\r\nno!"
                           "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n" },
  };
  check_chunkings (steps, G_N_ELEMENTS (steps),
                   "0@0+33 req CONNECT mail.test:25 authority body=0/0\n"
                   "0 end@33 body 0\n"
                   "1@0+45 resp 403 (to CONNECT) body=1/3\n"
                   "0@33+36 req GET http://example.com/ absolute body=0/0\n"
                   "0 end@69 body 0\n"
                   "1 end@48 body 3\n"
                   "1@48+38 resp 200 (to GET) body=0/0\n"
                   "1 end@86 body 0\n");
}

static void
test_conn_anomalies (void)
{
  static const Step steps[] = {
    { TS_HTTP1_DIR_CLIENT, "GET / HTTP/1.1\r\n\r\n" },
    { TS_HTTP1_DIR_SERVER, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n" },
  };
  static const Step cut[] = {
    { TS_HTTP1_DIR_CLIENT, "GET / HTTP/1.1\r\nHost: a" },
  };
  g_autofree char *a = run (steps, 2, 1000, &log_callbacks);
  g_autofree char *b = run (cut, 1, 3, &log_callbacks);

  g_assert_nonnull (strstr (a, "1 anomaly@47 malformed chunked body"));
  g_assert_nonnull (strstr (b, "0 anomaly@0 connection closed inside an HTTP/1 head"));
}

static void
feed_text (TsHttp1Conn *conn, TsHttp1Direction dir, const char *text)
{
  ts_http1_conn_feed (conn, dir, (const guint8 *)text, strlen (text));
}

/* A capture with a short snapshot length (tcpdump -s 96) keeps each
 * segment's first bytes: a head cut by the gap is reported with its
 * complete lines (body TS_HTTP1_BODY_CUT), and no anomaly besides (its
 * event says it), and parsing resumes at the next piece fed that starts
 * like a message, as tshark's does. The first such gap stopped the
 * direction for good before. A gap elsewhere (in a body, in a status line
 * too short to report) is an anomaly. */
static void
test_conn_gap (void)
{
  GString *log = g_string_new (NULL);
  g_autoptr (TsHttp1Conn) conn = ts_http1_conn_new (&log_callbacks, log);

  feed_text (conn, TS_HTTP1_DIR_CLIENT, "GET /a HTTP/1.1\r\nHost: x\r\nUser-Ag");
  ts_http1_conn_gap (conn, TS_HTTP1_DIR_CLIENT, 20);
  feed_text (conn, TS_HTTP1_DIR_CLIENT, "HEAD /b HTTP/1.1\r\n\r\n");
  feed_text (conn, TS_HTTP1_DIR_SERVER,
             "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhe");
  ts_http1_conn_gap (conn, TS_HTTP1_DIR_SERVER, 10);
  /* Not a message start: skipped. */
  feed_text (conn, TS_HTTP1_DIR_SERVER, "llo\r\n0\r\n\r\n");
  feed_text (conn, TS_HTTP1_DIR_SERVER, "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n");
  /* Cut inside its status line: nothing to report but the gap. */
  feed_text (conn, TS_HTTP1_DIR_SERVER, "HTTP/1.1 404 Not");
  ts_http1_conn_gap (conn, TS_HTTP1_DIR_SERVER, 30);
  g_assert_cmpstr (log->str, ==,
                   "0@0+33 req GET /a origin body=4/0\n"
                   "0@53+20 req HEAD /b origin body=0/0\n"
                   "0 end@73 body 0\n"
                   "1@0+47 resp 200 (to GET) body=2/0\n"
                   "1 anomaly@52 bytes lost in the capture: HTTP/1 parsing resumes at the next "
                   "response\n"
                   "1@72+38 resp 200 (to HEAD) body=0/0\n"
                   "1 end@110 body 0\n"
                   "1 anomaly@126 bytes lost in the capture: HTTP/1 parsing resumes at the next "
                   "response\n");
  g_string_free (log, TRUE);
}

/* A capture that began inside a connection: each direction starts at the
 * first piece that starts like a message (ts_http1_conn_skip ()). */
static void
test_conn_skip (void)
{
  GString *log = g_string_new (NULL);
  g_autoptr (TsHttp1Conn) conn = ts_http1_conn_new (&log_callbacks, log);

  ts_http1_conn_skip (conn, TS_HTTP1_DIR_SERVER, 100);
  ts_http1_conn_skip (conn, TS_HTTP1_DIR_CLIENT, 0);
  feed_text (conn, TS_HTTP1_DIR_SERVER, "the end of a body");
  feed_text (conn, TS_HTTP1_DIR_CLIENT, "GET /x HTTP/1.1\r\n\r\n");
  feed_text (conn, TS_HTTP1_DIR_SERVER, "HTTP/1.1 204 No Content\r\n\r\n");
  g_assert_cmpstr (log->str, ==,
                   "0@0+19 req GET /x origin body=0/0\n"
                   "0 end@19 body 0\n"
                   "1@117+27 resp 204 (to GET) body=0/0\n"
                   "1 end@144 body 0\n");
  g_string_free (log, TRUE);
}

/* More requests than TS_HTTP1_MAX_PIPELINE waiting: the rest are parsed
 * but not remembered (found by fuzzing: a use after free). */
static void
test_conn_pipeline_cap (void)
{
  GString *client = g_string_new (NULL);
  GString *log = g_string_new (NULL);
  g_autoptr (TsHttp1Conn) conn = ts_http1_conn_new (&log_callbacks, log);
  guint n = 0;

  for (guint i = 0; i < TS_HTTP1_MAX_PIPELINE + 3; i++)
    g_string_append (client, "GET / HTTP/1.1\r\nUpgrade: x\r\n\r\n");
  ts_http1_conn_feed (conn, TS_HTTP1_DIR_CLIENT, (const guint8 *)client->str, client->len);
  for (const char *p = log->str; (p = strstr (p, " req GET ")) != NULL; p++)
    n++;
  /* Each waits for its Upgrade answer, so only the first is parsed now. */
  g_assert_cmpuint (n, ==, 1);
  g_string_truncate (log, 0);
  g_string_truncate (client, 0);
  for (guint i = 0; i < TS_HTTP1_MAX_PIPELINE + 3; i++)
    g_string_append (client, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  ts_http1_conn_feed (conn, TS_HTTP1_DIR_SERVER, (const guint8 *)client->str, client->len);
  g_assert_nonnull (strstr (log->str, "resp 200 (to GET)"));
  g_string_free (client, TRUE);
  g_string_free (log, TRUE);
}

static void
test_conn_many_requests (void)
{
  GString *client = g_string_new (NULL);
  GString *log = g_string_new (NULL);
  g_autoptr (TsHttp1Conn) conn = ts_http1_conn_new (&log_callbacks, log);

  for (guint i = 0; i < TS_HTTP1_MAX_PIPELINE + 3; i++)
    g_string_append (client, "GET / HTTP/1.1\r\n\r\n");
  g_string_append (client, "GET /up HTTP/1.1\r\nUpgrade: websocket\r\n\r\n");
  ts_http1_conn_feed (conn, TS_HTTP1_DIR_CLIENT, (const guint8 *)client->str, client->len);
  g_assert_nonnull (strstr (log->str, "req GET /up origin"));
  g_string_free (client, TRUE);
  g_string_free (log, TRUE);
}

/* HTTP/2 frames after the preface, any chunking. */
static void
h2_frame (gpointer user_data, guint64 offset, const TsHttp2FrameHeader *f, const guint8 *payload,
          gsize payload_len)
{
  char flags[64];

  g_string_append_printf (user_data, "@%" G_GUINT64_FORMAT " %s [%s] stream %u len %u kept %zu\n",
                          offset, ts_http2_frame_type_to_string (f->type),
                          ts_http2_flags_to_string (f->type, f->flags, flags, sizeof flags),
                          f->stream_id, f->length, payload_len);
}

static void
h2_error (gpointer user_data, guint64 offset, const char *what)
{
  g_string_append_printf (user_data, "@%" G_GUINT64_FORMAT " error\n", offset);
}

static void
test_http2_frames (void)
{
  GByteArray *b = g_byte_array_new ();
  static const guint8 settings[] = { 0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 100 };
  static const guint8 headers[] = { 0, 0, 3, 1, 5, 0, 0, 0, 1, 0x82, 0x86, 0x84 };
  static const guint8 ack[] = { 0, 0, 0, 4, 1, 0, 0, 0, 0 };
  guint8 data[9 + 100] = { 0, 0, 100, 0, 1, 0, 0, 0, 1 };
  TsHttp2FrameHeader h;

  g_byte_array_append (b, (const guint8 *)TS_HTTP2_PREFACE, TS_HTTP2_PREFACE_LEN);
  g_byte_array_append (b, settings, sizeof settings);
  g_byte_array_append (b, headers, sizeof headers);
  g_byte_array_append (b, ack, sizeof ack);
  g_byte_array_append (b, data, sizeof data);
  for (gsize chunk = 1; chunk <= b->len; chunk += chunk < 12 ? 1 : 29)
    {
      GString *log = g_string_new (NULL);
      g_autoptr (TsHttp2Stream) s = ts_http2_stream_new (TRUE, h2_frame, h2_error, log);

      for (gsize at = 0; at < b->len; at += chunk)
        ts_http2_stream_feed (s, at, b->data + at, MIN (chunk, b->len - at));
      g_assert_cmpstr (log->str, ==,
                       "@24 SETTINGS [] stream 0 len 6 kept 6\n"
                       "@39 HEADERS [END_STREAM,END_HEADERS] stream 1 len 3 kept 3\n"
                       "@51 SETTINGS [ACK] stream 0 len 0 kept 0\n"
                       "@60 DATA [END_STREAM] stream 1 len 100 kept 64\n");
      g_string_free (log, TRUE);
    }
  for (gsize n = 0; n < 9; n++)
    g_assert_cmpint (ts_http2_parse_frame_header (headers, n, &h), ==, TS_PARSE_INCOMPLETE);
  g_assert_cmpint (ts_http2_parse_frame_header (headers, 9, &h), ==, 9);
  g_assert_cmpuint (h.stream_id, ==, 1);
  {
    GString *log = g_string_new (NULL);
    g_autoptr (TsHttp2Stream) s = ts_http2_stream_new (TRUE, h2_frame, h2_error, log);
    ts_http2_stream_feed (s, 0, (const guint8 *)"GET / HTTP/1.1\r\n", 16);
    g_assert_cmpstr (log->str, ==, "@0 error\n");
    g_string_free (log, TRUE);
  }
  g_byte_array_unref (b);
}

/* WebSocket frames after a 101. */
static void
ws_frame (gpointer user_data, guint64 offset, const TsWebsocketFrame *f, const guint8 *preview,
          gsize preview_len)
{
  g_string_append_printf (
      user_data, "@%" G_GUINT64_FORMAT " %s fin=%d len=%" G_GUINT64_FORMAT " '%.*s'\n", offset,
      ts_websocket_opcode_to_string (f->opcode), f->fin, f->payload_len, (int)preview_len, preview);
}

static void
ws_error (gpointer user_data, guint64 offset, const char *what)
{
  g_string_append_printf (user_data, "@%" G_GUINT64_FORMAT " error\n", offset);
}

static void
test_websocket (void)
{
  /* Client: masked "Hello" (RFC 6455 §5.7), then a fragmented text, a
   * ping; then a 200-byte binary with a 16-bit length. */
  GByteArray *b = g_byte_array_new ();
  static const guint8 hello[]
      = { 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58 };
  static const guint8 frag[] = { 0x01, 0x03, 'H', 'e', 'l', 0x80, 0x02, 'l', 'o', 0x89, 0x00 };
  guint8 big[4] = { 0x82, 126, 0, 200 };

  g_byte_array_append (b, hello, sizeof hello);
  g_byte_array_append (b, frag, sizeof frag);
  g_byte_array_append (b, big, 4);
  for (int i = 0; i < 200; i++)
    g_byte_array_append (b, (const guint8 *)"z", 1);

  for (gsize chunk = 1; chunk <= b->len; chunk += (chunk < 20 ? 1 : 50))
    {
      GString *log = g_string_new (NULL);
      g_autoptr (TsWebsocketStream) s = ts_websocket_stream_new (ws_frame, ws_error, log);

      for (gsize at = 0; at < b->len; at += chunk)
        ts_websocket_stream_feed (s, at, b->data + at, MIN (chunk, b->len - at));
      g_assert_cmpstr (log->str, ==,
                       "@0 text fin=1 len=5 'Hello'\n"
                       "@11 text fin=0 len=3 'Hel'\n"
                       "@16 continuation fin=1 len=2 'lo'\n"
                       "@20 ping fin=1 len=0 ''\n"
                       "@22 binary fin=1 len=200 "
                       "'zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz'\n");
      g_string_free (log, TRUE);
    }
  {
    TsWebsocketFrame f;
    for (gsize n = 0; n < sizeof hello - 5; n++)
      g_assert_cmpint (ts_websocket_parse_header (hello, n, &f), ==, TS_PARSE_INCOMPLETE);
    g_assert_cmpint (ts_websocket_parse_header ((const guint8 *)"\x83\x00", 2, &f), ==,
                     TS_PARSE_INVALID);
    g_assert_cmpint (ts_websocket_parse_header ((const guint8 *)"\x09\x00", 2, &f), ==,
                     TS_PARSE_INVALID);
  }
  g_byte_array_unref (b);
}

static void
test_conn_upgrade (void)
{
  static const Step steps[] = {
    { TS_HTTP1_DIR_CLIENT, "GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: "
                           "websocket\r\nConnection: Upgrade\r\n\r\nX" },
    { TS_HTTP1_DIR_SERVER,
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nY" },
  };
  g_autofree char *log = run (steps, 2, 7, &log_callbacks_data);

  g_assert_nonnull (strstr (log, "tunnel 1 websocket\n"));
  g_assert_nonnull (strstr (log, "0 data@82:X\n"));
  g_assert_nonnull (strstr (log, "1 data@77:Y\n"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ts/trace/http1/request-forms", test_request_forms);
  g_test_add_func ("/ts/trace/http1/request-invalid", test_request_invalid);
  g_test_add_func ("/ts/trace/http1/response", test_response);
  g_test_add_func ("/ts/trace/http1/response-obs-fold", test_response_obs_fold);
  g_test_add_func ("/ts/trace/http1/conn-obs-fold", test_conn_obs_fold);
  g_test_add_func ("/ts/trace/http1/conn-request-obs-fold", test_conn_request_obs_fold);
  g_test_add_func ("/ts/trace/http1/chunked", test_chunked);
  g_test_add_func ("/ts/trace/http1/conn-pipeline", test_conn_pipeline);
  g_test_add_func ("/ts/trace/http1/conn-connect", test_conn_connect);
  g_test_add_func ("/ts/trace/http1/conn-connect-refused", test_conn_connect_refused);
  g_test_add_func ("/ts/trace/http1/conn-anomalies", test_conn_anomalies);
  g_test_add_func ("/ts/trace/http1/conn-gap", test_conn_gap);
  g_test_add_func ("/ts/trace/http1/conn-skip", test_conn_skip);
  g_test_add_func ("/ts/trace/http1/conn-upgrade", test_conn_upgrade);
  g_test_add_func ("/ts/trace/http1/conn-pipeline-cap", test_conn_pipeline_cap);
  g_test_add_func ("/ts/trace/http1/conn-many-requests", test_conn_many_requests);
  g_test_add_func ("/ts/trace/websocket/frames", test_websocket);
  g_test_add_func ("/ts/trace/http2/frames", test_http2_frames);
  return g_test_run ();
}
