/* test-http-request.c: the HTTP/1 decoders of ts-proxy: request heads,
 * framing rules, response heads, the chunked coding.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include <glib.h>

#include "ts-http-chunked.h"
#include "ts-http-request.h"
#include "ts-http-response.h"

static const char *const valid_requests[] = {
  "GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n",
  "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nUser-Agent: curl/7.88.1\r\n"
  "Proxy-Connection: Keep-Alive\r\n\r\n",
  "POST http://a.test/x?y=1 HTTP/1.1\r\nHost: a.test\r\nContent-Length: 3\r\n"
  "X-Empty:\r\nX-Spaces:   padded value  \r\n\r\n",
  "\r\nGET http://a.test/ HTTP/1.0\r\n\r\n",
  "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
  "GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\nX-Obs-Text: caf\xc3\xa9\r\n\r\n",
};

/* Every strict prefix of a valid head is incomplete, in one call and when
 * fed byte by byte (resuming). */
static void
test_truncations (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (valid_requests); i++)
    {
      const char *req = valid_requests[i];
      gsize len = strlen (req), last = 0;
      TsHttpRequest r;

      for (gsize n = 0; n < len; n++)
        {
          char *copy = g_memdup2 (req, n); /* exact size: ASan catches over-reads */

          g_assert_cmpint (ts_http_request_parse (&r, copy, n, 0), ==, TS_HTTP_PARSE_INCOMPLETE);
          g_assert_cmpint (ts_http_request_parse (&r, copy, n, last), ==, TS_HTTP_PARSE_INCOMPLETE);
          last = n;
          g_free (copy);
        }
      g_assert_cmpint (ts_http_request_parse (&r, req, len, last), ==, (gssize)len);
      g_assert_cmpint (ts_http_request_parse (&r, req, len, 0), ==, (gssize)len);
    }
}

static void
test_fields (void)
{
  TsHttpRequest r;
  const char *req = valid_requests[2];
  gssize n = ts_http_request_parse (&r, req, strlen (req), 0);
  gssize i;

  g_assert_cmpint (n, ==, (gssize)strlen (req));
  g_assert_true (ts_http_method_is (r.method, r.method_len, "POST"));
  g_assert_cmpmem (r.target, r.target_len, "http://a.test/x?y=1", 19);
  g_assert_cmpint (r.minor_version, ==, 1);
  g_assert_cmpuint (r.n_headers, ==, 4);
  i = ts_http_request_find_header (&r, "x-spaces", 0);
  g_assert_cmpint (i, ==, 3);
  g_assert_cmpmem (r.headers[i].value, r.headers[i].value_len, "padded value", 12);
  i = ts_http_request_find_header (&r, "X-Empty", 0);
  g_assert_cmpuint (r.headers[i].value_len, ==, 0);
  g_assert_cmpint (ts_http_request_find_header (&r, "Missing", 0), ==, -1);

  /* The head ends where the body starts. */
  {
    const char *with_body = "POST http://a/ HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc";
    g_assert_cmpint (ts_http_request_parse (&r, with_body, strlen (with_body), 0), ==,
                     (gssize)strlen (with_body) - 3);
  }
}

typedef struct
{
  const char *name;
  const char *data;
  gsize len; /* 0: strlen */
  guint status;
} Invalid;

static void
test_invalid (void)
{
  static const Invalid cases[] = {
    { "bare LF", "GET http://a/ HTTP/1.1\nHost: a\n\n", 0, 400 },
    { "bare CR", "GET http://a/ HTTP/1.1\rHost: a\r\n\r\n", 0, 400 },
    { "no version", "GET http://a/\r\n\r\n", 0, 400 },
    { "lowercase version", "GET http://a/ http/1.1\r\n\r\n", 0, 400 },
    { "HTTP/2.0", "GET http://a/ HTTP/2.0\r\n\r\n", 0, 505 },
    { "double SP", "GET  http://a/ HTTP/1.1\r\n\r\n", 0, 400 },
    { "empty method", " http://a/ HTTP/1.1\r\n\r\n", 0, 400 },
    { "method with slash", "G/T http://a/ HTTP/1.1\r\n\r\n", 0, 400 },
    { "NUL in target", "GET http://a/\0 HTTP/1.1\r\n\r\n", 27, 400 },
    { "NUL in value", "GET http://a/ HTTP/1.1\r\nX: a\0b\r\n\r\n", 34, 400 },
    { "CTL in value", "GET http://a/ HTTP/1.1\r\nX: a\x01 b\r\n\r\n", 0, 400 },
    { "DEL in value", "GET http://a/ HTTP/1.1\r\nX: a\x7f\r\n\r\n", 0, 400 },
    { "space before colon", "GET http://a/ HTTP/1.1\r\nHost : a\r\n\r\n", 0, 400 },
    { "obs-fold", "GET http://a/ HTTP/1.1\r\nX: a\r\n b\r\n\r\n", 0, 400 },
    { "no colon", "GET http://a/ HTTP/1.1\r\nHost\r\n\r\n", 0, 400 },
    { "empty name", "GET http://a/ HTTP/1.1\r\n: a\r\n\r\n", 0, 400 },
    { "5 empty lines", "\r\n\r\n\r\n\r\n\r\nGET http://a/ HTTP/1.1\r\n\r\n", 0, 400 },
  };
  TsHttpRequest r;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      gsize len = cases[i].len ? cases[i].len : strlen (cases[i].data);
      char *copy = g_memdup2 (cases[i].data, len);

      g_test_message ("%s", cases[i].name);
      g_assert_cmpint (ts_http_request_parse (&r, copy, len, 0), ==, TS_HTTP_PARSE_INVALID);
      g_assert_cmpuint (r.status, ==, cases[i].status);
      g_assert_nonnull (r.reason);
      g_free (copy);
    }
}

static void
test_caps (void)
{
  TsHttpRequest r;
  GString *s = g_string_new ("GET http://a/");
  gssize n;

  /* A request line past the cap is refused before it ends. */
  while (s->len <= TS_HTTP_MAX_REQUEST_LINE)
    g_string_append_c (s, 'x');
  g_assert_cmpint (ts_http_request_parse (&r, s->str, s->len, 0), ==, TS_HTTP_PARSE_INVALID);
  g_assert_cmpuint (r.status, ==, 414);

  /* Too many fields. */
  g_string_assign (s, "GET http://a/ HTTP/1.1\r\n");
  for (guint i = 0; i <= TS_HTTP_MAX_HEADERS; i++)
    g_string_append_printf (s, "X-%u: v\r\n", i);
  g_string_append (s, "\r\n");
  g_assert_cmpint (ts_http_request_parse (&r, s->str, s->len, 0), ==, TS_HTTP_PARSE_INVALID);
  g_assert_cmpuint (r.status, ==, 431);

  /* Exactly the maximum is fine. */
  g_string_assign (s, "GET http://a/ HTTP/1.1\r\n");
  for (guint i = 0; i < TS_HTTP_MAX_HEADERS; i++)
    g_string_append_printf (s, "X-%u: v\r\n", i);
  g_string_append (s, "\r\n");
  n = ts_http_request_parse (&r, s->str, s->len, 0);
  g_assert_cmpint (n, ==, (gssize)s->len);

  /* A head past the cap, complete or not. */
  g_string_assign (s, "GET http://a/ HTTP/1.1\r\nX: ");
  while (s->len <= TS_HTTP_MAX_HEAD)
    g_string_append_c (s, 'v');
  g_assert_cmpint (ts_http_request_parse (&r, s->str, s->len, 0), ==, TS_HTTP_PARSE_INVALID);
  g_assert_cmpuint (r.status, ==, 431);
  g_string_append (s, "\r\n\r\n");
  g_assert_cmpint (ts_http_request_parse (&r, s->str, s->len, 0), ==, TS_HTTP_PARSE_INVALID);
  g_assert_cmpuint (r.status, ==, 431);
  g_string_free (s, TRUE);
}

typedef struct
{
  const char *head;
  gboolean ok;
  guint status;
  TsHttpBodyKind kind;
  guint64 length;
} Framing;

static void
test_framing (void)
{
  static const Framing cases[] = {
    { "GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n", TRUE, 0, TS_HTTP_BODY_NONE, 0 },
    { "GET http://a/ HTTP/1.0\r\n\r\n", TRUE, 0, TS_HTTP_BODY_NONE, 0 },
    { "GET http://a/ HTTP/1.1\r\n\r\n", FALSE, 400 },
    { "GET http://a/ HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", FALSE, 400 },
    { "POST http://a/ HTTP/1.1\r\nHost: a\r\nContent-Length: 42\r\n\r\n", TRUE, 0,
      TS_HTTP_BODY_LENGTH, 42 },
    { "POST http://a/ HTTP/1.1\r\nHost: a\r\nContent-Length: 42, 42\r\n\r\n", TRUE, 0,
      TS_HTTP_BODY_LENGTH, 42 },
    { "POST http://a/ HTTP/1.1\r\nHost: a\r\nContent-Length: 42\r\nContent-Length: 42\r\n\r\n",
      TRUE, 0, TS_HTTP_BODY_LENGTH, 42 },
    { "POST http://a/ HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", FALSE,
      400 },
    { "POST http://a/ HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n", FALSE, 400 },
    { "POST http://a/ HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", FALSE, 400 },
    { "POST http://a/ HTTP/1.1\r\nHost: a\r\nContent-Length: +1\r\n\r\n", FALSE, 400 },
    { "POST http://a/ HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n", FALSE, 400 },
    { "POST http://a/ HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n", FALSE,
      400 },
    { "POST http://a/ HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", FALSE, 400 },
    { "POST http://a/ HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", TRUE, 0,
      TS_HTTP_BODY_CHUNKED, 0 },
    { "POST http://a/ HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: CHUNKED\r\n\r\n", TRUE, 0,
      TS_HTTP_BODY_CHUNKED, 0 },
    { "POST http://a/ HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
      "Content-Length: 3\r\n\r\n",
      FALSE, 400 },
    { "POST http://a/ HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", FALSE,
      400 },
    { "POST http://a/ HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", FALSE,
      501 },
    { "POST http://a/ HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", FALSE,
      400 },
    { "POST http://a/ HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
      "Transfer-Encoding: gzip\r\n\r\n",
      FALSE, 400 },
    { "POST http://a/ HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", FALSE, 400 },
    { "POST http://a/ HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n", FALSE, 400 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      TsHttpRequest r;
      TsHttpBodyKind kind = 99;
      guint64 length = 99;
      guint status = 0;
      const char *reason = NULL;
      gboolean ok;

      g_test_message ("%s", cases[i].head);
      g_assert_cmpint (ts_http_request_parse (&r, cases[i].head, strlen (cases[i].head), 0), ==,
                       (gssize)strlen (cases[i].head));
      ok = ts_http_request_get_framing (&r, &kind, &length, &status, &reason);
      g_assert_cmpint (ok, ==, cases[i].ok);
      if (ok)
        {
          g_assert_cmpint (kind, ==, cases[i].kind);
          g_assert_cmpuint (length, ==, cases[i].length);
        }
      else
        {
          g_assert_cmpuint (status, ==, cases[i].status);
          g_assert_nonnull (reason);
        }
    }
}

static void
test_response (void)
{
  const char *resp = "HTTP/1.1 200 Connection established\r\nVia: 1.1 squid\r\n\r\nextra";
  gsize head = strlen (resp) - 5;
  TsHttpResponse r;

  for (gsize n = 0; n < head; n++)
    {
      char *copy = g_memdup2 (resp, n);
      g_assert_cmpint (ts_http_response_parse (&r, copy, n, 0), ==, TS_HTTP_PARSE_INCOMPLETE);
      g_free (copy);
    }
  g_assert_cmpint (ts_http_response_parse (&r, resp, strlen (resp), 0), ==, (gssize)head);
  g_assert_cmpuint (r.status, ==, 200);
  g_assert_cmpmem (r.reason_phrase, r.reason_phrase_len, "Connection established", 22);
  g_assert_cmpint (ts_http_response_find_header (&r, "via", 0), ==, 0);

  g_assert_cmpint (ts_http_response_parse (&r, "HTTP/1.1 407\r\n\r\n", 16, 0), ==, 16);
  g_assert_cmpuint (r.status, ==, 407);
  g_assert_cmpint (ts_http_response_parse (&r, "HTTP/1.1 20 OK\r\n\r\n", 18, 0), ==,
                   TS_HTTP_PARSE_INVALID);
  g_assert_cmpint (ts_http_response_parse (&r, "HTTP/1.1 200OK\r\n\r\n", 18, 0), ==,
                   TS_HTTP_PARSE_INVALID);
  g_assert_cmpint (ts_http_response_parse (&r, "ICY 200 OK\r\n\r\n", 14, 0), ==,
                   TS_HTTP_PARSE_INVALID);
}

/* The response framing rules of RFC 9112 §6.3. */
static void
test_response_framing (void)
{
  static const struct
  {
    const char *head;
    gboolean no_body, ok;
    TsHttpBodyKind kind;
    guint64 length;
    gboolean drop_length;
  } cases[] = {
    { "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", FALSE, TRUE, TS_HTTP_BODY_LENGTH, 5, FALSE },
    { "HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n", FALSE, TRUE, TS_HTTP_BODY_LENGTH, 5,
      FALSE },
    { "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", FALSE, TRUE, TS_HTTP_BODY_NONE, 0, FALSE },
    { "HTTP/1.1 200 OK\r\n\r\n", FALSE, TRUE, TS_HTTP_BODY_UNTIL_CLOSE, 0, FALSE },
    { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", FALSE, TRUE, TS_HTTP_BODY_CHUNKED, 0,
      FALSE },
    { "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", FALSE, TRUE,
      TS_HTTP_BODY_CHUNKED, 0, TRUE },
    { "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", FALSE, TRUE, TS_HTTP_BODY_UNTIL_CLOSE,
      0, FALSE },
    { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", FALSE, TRUE,
      TS_HTTP_BODY_UNTIL_CLOSE, 0, FALSE },
    { "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n", TRUE, TRUE, TS_HTTP_BODY_NONE, 0,
      FALSE },
    { "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", FALSE, FALSE, 0, 0,
      FALSE },
    { "HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n", FALSE, FALSE, 0, 0, FALSE },
    { "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", FALSE, FALSE, 0, 0, FALSE },
    { "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", FALSE, FALSE, 0, 0, FALSE },
    { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", FALSE, FALSE, 0, 0, FALSE },
    { "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", FALSE, FALSE, 0, 0, FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      TsHttpResponse r;
      TsHttpBodyKind kind = TS_HTTP_BODY_NONE;
      guint64 length = 0;
      gboolean drop = FALSE;
      const char *reason = NULL;

      g_test_message ("%s", cases[i].head);
      g_assert_cmpint (ts_http_response_parse (&r, cases[i].head, strlen (cases[i].head), 0), ==,
                       (gssize)strlen (cases[i].head));
      g_assert_cmpint (
          ts_http_response_get_framing (&r, cases[i].no_body, &kind, &length, &drop, &reason), ==,
          cases[i].ok);
      if (!cases[i].ok)
        {
          g_assert_nonnull (reason);
          continue;
        }
      g_assert_cmpint (kind, ==, cases[i].kind);
      g_assert_cmpuint (length, ==, cases[i].length);
      g_assert_cmpint (drop, ==, cases[i].drop_length);
    }
}

static void
test_chunked (void)
{
  static const char body[] = "4\r\nWiki\r\n5;ext=1\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n"
                             "0\r\nTrailer: x\r\n\r\nNEXT";
  gsize len = strlen (body);
  TsHttpChunked c;

  /* In one piece: stops at the end of the message. */
  ts_http_chunked_init (&c);
  g_assert_cmpint (ts_http_chunked_feed (&c, (const guint8 *)body, len), ==, (gssize)len - 4);
  g_assert_true (ts_http_chunked_is_done (&c));

  /* Byte by byte: the same. */
  ts_http_chunked_init (&c);
  for (gsize i = 0; i < len - 4; i++)
    {
      g_assert_false (ts_http_chunked_is_done (&c));
      g_assert_cmpint (ts_http_chunked_feed (&c, (const guint8 *)body + i, 1), ==, 1);
    }
  g_assert_true (ts_http_chunked_is_done (&c));

  /* Decoding, in place, split at every point: the chunk data alone, and
   * the same consumed length. */
  for (gsize cut = 0; cut <= len; cut++)
    {
      g_autofree guint8 *copy = (guint8 *)g_strndup (body, len);
      GString *out = g_string_new (NULL);
      gsize o1 = 0, o2 = 0;
      gssize r1, r2 = 0;

      ts_http_chunked_init (&c);
      r1 = ts_http_chunked_decode (&c, copy, cut, copy, &o1);
      g_assert_cmpint (r1, >=, 0);
      g_string_append_len (out, (const char *)copy, o1);
      if (!ts_http_chunked_is_done (&c))
        {
          r2 = ts_http_chunked_decode (&c, copy + cut, len - cut, copy + cut, &o2);
          g_assert_cmpint (r2, >=, 0);
          g_string_append_len (out, (const char *)copy + cut, o2);
        }
      g_assert_true (ts_http_chunked_is_done (&c));
      g_assert_cmpint (r1 + r2, ==, (gssize)len - 4);
      g_assert_cmpstr (out->str, ==, "Wikipedia in\r\n\r\nchunks.");
      g_string_free (out, TRUE);
    }

  {
    static const char *const bad[] = {
      "FFFFFFFFFFFFFFFFF\r\n", /* 17 digits */
      "4000000000000000\r\n",  /* 2^62 */
      "xyz\r\n",
      "\r\n",
      "4\r\nWikiX\r\n",
      "4\nWiki\r\n",
      "4 junk\x01\r\n",
      "0\r\n bad trailer\r\n\r\n",
    };

    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        g_test_message ("%s", bad[i]);
        ts_http_chunked_init (&c);
        g_assert_cmpint (ts_http_chunked_feed (&c, (const guint8 *)bad[i], strlen (bad[i])), ==,
                         TS_HTTP_PARSE_INVALID);
        g_assert_nonnull (c.error);
      }
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ts/sim/proxy/http/request/truncations", test_truncations);
  g_test_add_func ("/ts/sim/proxy/http/request/fields", test_fields);
  g_test_add_func ("/ts/sim/proxy/http/request/invalid", test_invalid);
  g_test_add_func ("/ts/sim/proxy/http/request/caps", test_caps);
  g_test_add_func ("/ts/sim/proxy/http/request/framing", test_framing);
  g_test_add_func ("/ts/sim/proxy/http/response", test_response);
  g_test_add_func ("/ts/sim/proxy/http/response/framing", test_response_framing);
  g_test_add_func ("/ts/sim/proxy/http/chunked", test_chunked);
  return g_test_run ();
}
