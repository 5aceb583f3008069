/* test-actors-wire.c: the actors' wire helpers: HTTP heads, chunked bodies,
 * WebSocket frames, DNS messages, public-key pins.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include <string.h>

#include <glib.h>

#include "ts-actor-tls.h"
#include "ts-dns-message.h"
#include "ts-actor-chunked.h"
#include "ts-actor-http-head.h"
#include "ts-ws-frame.h"

/* ---- HTTP heads ---- */

static const char request_text[] = "POST /api/orders?x=1 HTTP/1.1\r\n"
                                   "Host: example.com\r\n"
                                   "Connection: keep-alive, Upgrade\r\n"
                                   "Content-Length: 12\r\n"
                                   "X-Empty:\r\n"
                                   "\r\n"
                                   "{\"a\": \"bcd\"}";

static void
test_head_request (void)
{
  TsActorHttpHead h;
  gssize n = ts_actor_http_head_parse_request (&h, request_text, strlen (request_text));
  gint64 cl = 0;
  gsize len = 0;
  const char *v;

  g_assert_cmpint (n, ==, (gssize)(strlen (request_text) - 12));
  g_assert_true (ts_actor_http_head_method_is (&h, "POST"));
  g_assert_cmpmem (h.target, h.target_len, "/api/orders?x=1", 15);
  g_assert_cmpuint (h.version_minor, ==, 1);
  g_assert_cmpuint (h.n_headers, ==, 4);
  v = ts_actor_http_head_get (&h, "host", &len);
  g_assert_cmpmem (v, len, "example.com", 11);
  v = ts_actor_http_head_get (&h, "X-Empty", &len);
  g_assert_nonnull (v);
  g_assert_cmpuint (len, ==, 0);
  g_assert_true (ts_actor_http_head_has_token (&h, "Connection", "upgrade"));
  g_assert_true (ts_actor_http_head_has_token (&h, "connection", "KEEP-ALIVE"));
  g_assert_false (ts_actor_http_head_has_token (&h, "Connection", "close"));
  g_assert_true (ts_actor_http_head_get_content_length (&h, &cl));
  g_assert_cmpint (cl, ==, 12);
}

static void
test_head_truncated (void)
{
  gsize head_len = strlen (request_text) - 12;

  /* Every strict prefix of a head is incomplete, never invalid. */
  for (gsize i = 0; i < head_len; i++)
    {
      TsActorHttpHead h;
      g_autofree char *copy = g_memdup2 (request_text, i ? i : 1);
      gssize n = ts_actor_http_head_parse_request (&h, copy, i);
      if (n != TS_PARSE_INCOMPLETE)
        g_error ("prefix of %zu bytes gave %zd", i, n);
    }
}

static void
test_head_response (void)
{
  static const char text[] = "HTTP/1.1 200 Connection established\r\n\r\n";
  static const char no_reason[] = "HTTP/1.0 404\r\nA: b\r\n\r\n";
  TsActorHttpHead h;

  g_assert_cmpint (ts_actor_http_head_parse_response (&h, text, strlen (text)), ==, strlen (text));
  g_assert_cmpuint (h.status, ==, 200);
  g_assert_cmpmem (h.reason, h.reason_len, "Connection established", 22);
  g_assert_cmpint (ts_actor_http_head_parse_response (&h, no_reason, strlen (no_reason)), ==,
                   strlen (no_reason));
  g_assert_cmpuint (h.status, ==, 404);
  g_assert_cmpuint (h.version_minor, ==, 0);
  g_assert_cmpuint (h.reason_len, ==, 0);
}

static void
test_head_invalid (void)
{
  static const char *const bad[] = {
    "GET  / HTTP/1.1\r\n\r\n",               /* two spaces */
    "GET / HTTP/2.0\r\n\r\n",                /* not HTTP/1.x */
    "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", /* space in a name */
    "GET / HTTP/1.1\r\nName : x\r\n\r\n",    /* space before the colon */
    "GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n",  /* obs-fold */
    "GET / HTTP/1.1\r\nA: b\rc\r\n\r\n",     /* bare CR */
    "G(T / HTTP/1.1\r\n\r\n",                /* not a token */
    "GET /\x01 HTTP/1.1\r\n\r\n",            /* control in the target */
    "GET / HTTP/1.1\r\nNoColon\r\n\r\n",
    "\r\n\r\n\r\n\r\n",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      TsActorHttpHead h;
      gssize n = ts_actor_http_head_parse_request (&h, bad[i], strlen (bad[i]));
      if (n != TS_PARSE_INVALID)
        g_error ("case %zu gave %zd, not invalid", i, n);
    }
  {
    TsActorHttpHead h;
    const char *r = "HTTP/1.1 2000 OK\r\n\r\n";
    g_assert_cmpint (ts_actor_http_head_parse_response (&h, r, strlen (r)), ==, TS_PARSE_INVALID);
  }
  {
    TsActorHttpHead h;
    const char *r = "GET / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n";
    gint64 cl;
    g_assert_cmpint (ts_actor_http_head_parse_request (&h, r, strlen (r)), >, 0);
    g_assert_false (ts_actor_http_head_get_content_length (&h, &cl));
  }
}

static void
test_head_early_invalid (void)
{
  /* Garbage is refused before any line end arrives. */
  static const char *const bad[] = { "\x16\x03\x01\x02", "GET /x HTTX",   "G\x80", "GET  ",
                                     "GET / HTTP/1.1 x", "GET / HTTP/1.x" };
  static const char *const fine[] = { "GE", "GET /a", "GET /a HTTP/", "GET /a HTTP/1.1\r" };
  TsActorHttpHead h;

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    if (ts_actor_http_head_parse_request (&h, bad[i], strlen (bad[i])) != TS_PARSE_INVALID)
      g_error ("early case %zu is not invalid", i);
  for (gsize i = 0; i < G_N_ELEMENTS (fine); i++)
    if (ts_actor_http_head_parse_request (&h, fine[i], strlen (fine[i])) != TS_PARSE_INCOMPLETE)
      g_error ("early case %zu is not incomplete", i);
}

static void
test_head_too_large (void)
{
  g_autoptr (GString) s = g_string_new ("GET / HTTP/1.1\r\n");
  TsActorHttpHead h;

  for (int i = 0; i < TS_ACTOR_HTTP_MAX_HEADERS + 1; i++)
    g_string_append_printf (s, "X-%d: v\r\n", i);
  g_string_append (s, "\r\n");
  g_assert_cmpint (ts_actor_http_head_parse_request (&h, s->str, s->len), ==, TS_PARSE_TOO_LARGE);

  g_string_assign (s, "GET / HTTP/1.1\r\nX: ");
  while (s->len < TS_ACTOR_HTTP_MAX_HEAD + 10)
    g_string_append_c (s, 'a');
  g_assert_cmpint (ts_actor_http_head_parse_request (&h, s->str, s->len), ==, TS_PARSE_TOO_LARGE);
}

/* ---- chunked ---- */

static const char chunked_text[]
    = "5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nTrailer: x\r\n\r\nNEXT";

static void
test_chunked_whole (void)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();
  TsActorChunked d;
  gssize n;

  ts_actor_chunked_init (&d);
  n = ts_actor_chunked_feed (&d, (const guint8 *)chunked_text, strlen (chunked_text), out);
  g_assert_cmpint (n, ==, strlen (chunked_text) - 4);
  g_assert_true (ts_actor_chunked_is_done (&d));
  g_assert_cmpmem (out->data, out->len, "hello, world", 12);
}

static void
test_chunked_bytewise (void)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();
  TsActorChunked d;
  gsize total = strlen (chunked_text) - 4;

  ts_actor_chunked_init (&d);
  for (gsize i = 0; i < total; i++)
    {
      g_assert_false (ts_actor_chunked_is_done (&d));
      g_assert_cmpint (ts_actor_chunked_feed (&d, (const guint8 *)chunked_text + i, 1, out), ==, 1);
    }
  g_assert_true (ts_actor_chunked_is_done (&d));
  g_assert_cmpmem (out->data, out->len, "hello, world", 12);
}

static void
test_chunked_invalid (void)
{
  static const char *const bad[] = { "x\r\n", "5\r\nhelloX\r\n", "1234567890abcdef0\r\n", "\r\n",
                                     "5\r\nhello\r\n0\r\nA\x01\r\n" };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GByteArray) out = g_byte_array_new ();
      TsActorChunked d;

      ts_actor_chunked_init (&d);
      if (ts_actor_chunked_feed (&d, (const guint8 *)bad[i], strlen (bad[i]), out)
          != TS_PARSE_INVALID)
        g_error ("chunked case %zu is not invalid", i);
      /* and stays so */
      g_assert_cmpint (ts_actor_chunked_feed (&d, (const guint8 *)"0\r\n\r\n", 5, out), ==,
                       TS_PARSE_INVALID);
    }
}

static void
test_chunked_round_trip (void)
{
  g_autoptr (GByteArray) enc = g_byte_array_new ();
  g_autoptr (GByteArray) out = g_byte_array_new ();
  TsActorChunked d;

  ts_actor_chunked_append_chunk (enc, "abc", 3);
  ts_actor_chunked_append_chunk (enc, "", 0);
  ts_actor_chunked_append_chunk (enc, "0123456789abcdefXYZ", 19);
  ts_actor_chunked_append_last (enc);
  ts_actor_chunked_init (&d);
  g_assert_cmpint (ts_actor_chunked_feed (&d, enc->data, enc->len, out), ==, enc->len);
  g_assert_true (ts_actor_chunked_is_done (&d));
  g_assert_cmpmem (out->data, out->len, "abc0123456789abcdefXYZ", 22);
}

/* ---- WebSocket ---- */

static void
test_ws_accept (void)
{
  /* RFC 6455 §1.3's example. */
  g_autofree char *a = ts_ws_accept_for_key ("dGhlIHNhbXBsZSBub25jZQ==", 24);
  g_assert_cmpstr (a, ==, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

static void
test_ws_round_trip (void)
{
  static const gsize sizes[] = { 0, 5, 125, 126, 65535, 65536, 70000 };
  static const guint8 key[4] = { 0x37, 0xfa, 0x21, 0x3d };

  for (gsize k = 0; k < G_N_ELEMENTS (sizes); k++)
    for (int masked = 0; masked < 2; masked++)
      {
        g_autoptr (GByteArray) out = g_byte_array_new ();
        g_autofree guint8 *payload = g_malloc (sizes[k] + 1);
        g_autofree guint8 *copy = NULL;
        TsWsFrame f;
        gssize n;

        for (gsize i = 0; i < sizes[k]; i++)
          payload[i] = (guint8)(i * 7);
        ts_ws_frame_append (out, TRUE, TS_WS_OPCODE_BINARY, masked ? key : NULL, payload, sizes[k]);
        n = ts_ws_frame_parse (&f, out->data, out->len);
        g_assert_cmpint (n, ==, out->len);
        g_assert_true (f.fin);
        g_assert_cmpint (f.opcode, ==, TS_WS_OPCODE_BINARY);
        g_assert_cmpint (f.masked, ==, masked);
        g_assert_cmpuint (f.payload_len, ==, sizes[k]);
        copy = g_memdup2 (f.payload, sizes[k] + 1);
        if (masked)
          ts_ws_mask (copy, sizes[k], f.mask_key);
        g_assert_cmpmem (copy, sizes[k], payload, sizes[k]);
        /* Every strict prefix is incomplete (checked on the small ones). */
        if (sizes[k] <= 126)
          for (gsize i = 0; i < out->len; i++)
            g_assert_cmpint (ts_ws_frame_parse (&f, out->data, i), ==, TS_PARSE_INCOMPLETE);
      }
}

static void
test_ws_invalid (void)
{
  TsWsFrame f;
  /* RSV1 set; reserved opcode 3; fragmented ping; ping of 126 bytes; 64-bit length top bit. */
  static const guint8 rsv[] = { 0xc1, 0x00 };
  static const guint8 op3[] = { 0x83, 0x00 };
  static const guint8 frag_ping[] = { 0x09, 0x00 };
  static const guint8 long_ping[] = { 0x89, 0x7e, 0x00, 0x7e };
  static const guint8 huge[] = { 0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 1 };
  static const guint8 big[] = { 0x82, 0x7f, 0, 0, 0, 0, 0x10, 0, 0, 0 };

  g_assert_cmpint (ts_ws_frame_parse (&f, rsv, sizeof rsv), ==, TS_PARSE_INVALID);
  g_assert_cmpint (ts_ws_frame_parse (&f, op3, sizeof op3), ==, TS_PARSE_INVALID);
  g_assert_cmpint (ts_ws_frame_parse (&f, frag_ping, sizeof frag_ping), ==, TS_PARSE_INVALID);
  g_assert_cmpint (ts_ws_frame_parse (&f, long_ping, sizeof long_ping), ==, TS_PARSE_INVALID);
  g_assert_cmpint (ts_ws_frame_parse (&f, huge, sizeof huge), ==, TS_PARSE_INVALID);
  g_assert_cmpint (ts_ws_frame_parse (&f, big, sizeof big), ==, TS_PARSE_TOO_LARGE);
}

/* ---- DNS ---- */

static void
test_dns_round_trip (void)
{
  g_autoptr (GBytes) q = ts_dns_message_build_query (0x1234, "WWW.Example.com.", TS_DNS_TYPE_A);
  g_autoptr (GPtrArray) addrs = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GBytes) r = NULL;
  g_autoptr (GError) error = NULL;
  TsDnsMessage m, resp;
  gsize len;
  const guint8 *data = g_bytes_get_data (q, &len);
  g_autofree char *a0 = NULL;

  g_assert_true (ts_dns_message_parse_query (&m, data, len, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (m.id, ==, 0x1234);
  g_assert_cmpstr (m.name, ==, "www.example.com");
  g_assert_cmpuint (m.qtype, ==, TS_DNS_TYPE_A);

  g_ptr_array_add (addrs, g_inet_address_new_from_string ("192.0.2.10"));
  g_ptr_array_add (addrs, g_inet_address_new_from_string ("2001:db8::10"));
  g_ptr_array_add (addrs, g_inet_address_new_from_string ("192.0.2.11"));
  r = ts_dns_message_build_response (&m, TS_DNS_RCODE_NOERROR, addrs);
  data = g_bytes_get_data (r, &len);
  g_assert_true (ts_dns_message_parse_response (&resp, data, len, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (resp.id, ==, 0x1234);
  g_assert_cmpuint (resp.rcode, ==, TS_DNS_RCODE_NOERROR);
  g_assert_cmpuint (resp.n_answers, ==, 2);
  a0 = g_inet_address_to_string (resp.answers[0]);
  g_assert_cmpstr (a0, ==, "192.0.2.10");
  ts_dns_message_clear (&resp);

  /* Every truncation of the response is refused or gives fewer answers, without over-read. */
  for (gsize i = 0; i < len; i++)
    {
      g_autofree guint8 *cut = g_memdup2 (data, i ? i : 1);
      g_autoptr (GError) e = NULL;
      if (ts_dns_message_parse_response (&resp, cut, i, &e))
        g_assert_cmpuint (resp.n_answers, <, 2);
      ts_dns_message_clear (&resp);
    }
}

static void
test_dns_malformed (void)
{
  /* A query whose name uses a compression pointer, and a label running
   * past the end. */
  static const guint8 ptr[] = { 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x0c, 0, 1, 0, 1 };
  static const guint8 past[] = { 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x3f, 'a', 'b' };
  static const guint8 loop[]
      = { 0, 1, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 1, 'a', 0, 0, 1, 0, 1, 0xc0, 19, 0, 1, 0, 1 };
  TsDnsMessage m;
  g_autoptr (GError) e1 = NULL;
  g_autoptr (GError) e2 = NULL;
  g_autoptr (GError) e3 = NULL;

  g_assert_false (ts_dns_message_parse_query (&m, ptr, sizeof ptr, &e1));
  g_assert_cmpuint (m.id, ==, 1);
  g_assert_false (ts_dns_message_parse_query (&m, past, sizeof past, &e2));
  /* A pointer to itself must not loop. */
  g_assert_false (ts_dns_message_parse_response (&m, loop, sizeof loop, &e3));
  ts_dns_message_clear (&m);
  g_assert_null (ts_dns_message_build_query (1, "a..b", TS_DNS_TYPE_A));
}

/* ---- pins ---- */

static void
test_pins (void)
{
  const char *good = "sha256//5SXq7yWTp6AnyGtDReV4XrmA6Cyjuc0ZNfrsfqX3lGU=";
  g_autofree char *two
      = g_strconcat ("sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=;", good, NULL);

  g_assert_true (ts_actor_tls_pin_list_is_valid (good));
  g_assert_true (ts_actor_tls_pin_list_is_valid (two));
  g_assert_false (ts_actor_tls_pin_list_is_valid ("sha1//abc"));
  g_assert_false (ts_actor_tls_pin_list_is_valid ("sha256//short="));
  g_assert_true (ts_actor_tls_pin_matches (two, good));
  g_assert_false (
      ts_actor_tls_pin_matches ("sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", good));
  g_assert_cmpint (ts_actor_tls_parse_version ("1.2"), ==, TLS1_2_VERSION);
  g_assert_cmpint (ts_actor_tls_parse_version ("TLSv1.3"), ==, TLS1_3_VERSION);
  g_assert_cmpint (ts_actor_tls_parse_version ("1.1"), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ts/sim/actors/http-head/request", test_head_request);
  g_test_add_func ("/ts/sim/actors/http-head/truncated", test_head_truncated);
  g_test_add_func ("/ts/sim/actors/http-head/response", test_head_response);
  g_test_add_func ("/ts/sim/actors/http-head/invalid", test_head_invalid);
  g_test_add_func ("/ts/sim/actors/http-head/too-large", test_head_too_large);
  g_test_add_func ("/ts/sim/actors/http-head/early-invalid", test_head_early_invalid);
  g_test_add_func ("/ts/sim/actors/chunked/whole", test_chunked_whole);
  g_test_add_func ("/ts/sim/actors/chunked/bytewise", test_chunked_bytewise);
  g_test_add_func ("/ts/sim/actors/chunked/invalid", test_chunked_invalid);
  g_test_add_func ("/ts/sim/actors/chunked/round-trip", test_chunked_round_trip);
  g_test_add_func ("/ts/sim/actors/ws/accept-key", test_ws_accept);
  g_test_add_func ("/ts/sim/actors/ws/round-trip", test_ws_round_trip);
  g_test_add_func ("/ts/sim/actors/ws/invalid", test_ws_invalid);
  g_test_add_func ("/ts/sim/actors/dns/round-trip", test_dns_round_trip);
  g_test_add_func ("/ts/sim/actors/dns/malformed", test_dns_malformed);
  g_test_add_func ("/ts/sim/actors/tls/pins", test_pins);
  return g_test_run ();
}
