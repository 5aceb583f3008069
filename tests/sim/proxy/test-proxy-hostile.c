/* test-proxy-hostile.c: ts-proxy against hostile clients. The expected
 * status of every case comes from sim/proxy/HOSTILE.md; after every case a
 * normal request must still work.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>

#include "ts-proxy-test-util.h"

typedef enum
{
  PLAIN,     /* send, read until EOF */
  PIPELINE,  /* also: exactly one response, the origin saw nothing */
  SLOW,      /* trickle the head */
  VANISH,    /* CONNECT, then reset the connection mid-relay */
  FULL,      /* two idle clients hold every slot first */
  HEAD_ONLY, /* also: nothing after the answer's head (an answer to HEAD) */
} Kind;

typedef struct
{
  const char *name;
  const char *proxy; /* "test", "strict", "blackhole", "small" */
  Kind kind;
  const char *request; /* template, see expand () */
} Case;

/* Templates: {O} plain origin port, {P} the proxy's port, {C} a closed
 * port, {L} a 64-byte DNS label; <NUL> <SOH> <DEL> bytes; <X:N> N bytes
 * 'x'; <H:N> N short fields; <B:N> N fields of 1000 bytes. */
static const Case cases[] = {
  { "line-bare-lf", "test", PLAIN, "GET http://127.0.0.1:{O}/ HTTP/1.1\nHost: 127.0.0.1\n\n" },
  { "line-bare-cr", "test", PLAIN, "GET http://127.0.0.1:{O}/ HTTP/1.1\rHost: a\r\n\r\n" },
  { "line-no-version", "test", PLAIN, "GET http://127.0.0.1:{O}/\r\n\r\n" },
  { "line-bad-version", "test", PLAIN, "GET http://127.0.0.1:{O}/ HTTX/1.1\r\nHost: a\r\n\r\n" },
  { "line-http2-version", "test", PLAIN, "GET http://127.0.0.1:{O}/ HTTP/2.0\r\nHost: a\r\n\r\n" },
  { "line-double-space", "test", PLAIN, "GET  http://127.0.0.1:{O}/ HTTP/1.1\r\nHost: a\r\n\r\n" },
  { "line-empty-method", "test", PLAIN, " http://127.0.0.1:{O}/ HTTP/1.1\r\nHost: a\r\n\r\n" },
  { "line-lowercase-connect", "test", PLAIN,
    "connect 127.0.0.1:{O} HTTP/1.1\r\nHost: 127.0.0.1:{O}\r\n\r\n" },
  { "line-origin-form", "test", PLAIN, "GET / HTTP/1.1\r\nHost: 127.0.0.1:{O}\r\n\r\n" },
  { "line-https-scheme", "test", PLAIN,
    "GET https://127.0.0.1:{O}/ HTTP/1.1\r\nHost: 127.0.0.1:{O}\r\n\r\n" },
  { "line-tls-to-proxy", "test", PLAIN, "\x16\x03\x01<NUL>\xc8\x01<NUL><NUL>\xc4\x03\x03<X:32>" },
  { "line-leading-empty-lines", "test", PLAIN,
    "\r\n\r\n\r\n\r\n\r\nGET http://127.0.0.1:{O}/ HTTP/1.1\r\nHost: a\r\n\r\n" },
  { "line-fragment", "test", PLAIN,
    "GET http://127.0.0.1:{O}/#frag HTTP/1.1\r\nHost: 127.0.0.1:{O}\r\n\r\n" },
  { "port-missing", "test", PLAIN, "CONNECT 127.0.0.1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" },
  { "port-empty", "test", PLAIN, "CONNECT 127.0.0.1: HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" },
  { "port-zero", "test", PLAIN, "CONNECT 127.0.0.1:0 HTTP/1.1\r\nHost: 127.0.0.1:0\r\n\r\n" },
  { "port-too-large", "test", PLAIN,
    "CONNECT 127.0.0.1:65536 HTTP/1.1\r\nHost: 127.0.0.1:65536\r\n\r\n" },
  { "port-six-digits", "test", PLAIN,
    "CONNECT 127.0.0.1:000443 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" },
  { "port-non-numeric", "test", PLAIN,
    "CONNECT 127.0.0.1:https HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" },
  { "port-25", "test", PLAIN, "CONNECT 127.0.0.1:25 HTTP/1.1\r\nHost: 127.0.0.1:25\r\n\r\n" },
  { "port-22", "test", PLAIN, "CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n" },
  { "port-http-25-head", "test", HEAD_ONLY,
    "HEAD http://127.0.0.1:25/ HTTP/1.1\r\nHost: 127.0.0.1:25\r\n\r\n" },
  { "port-http-25", "test", PLAIN,
    "GET http://127.0.0.1:25/ HTTP/1.1\r\nHost: 127.0.0.1:25\r\n\r\n" },
  { "size-request-line", "test", PLAIN,
    "GET http://127.0.0.1:{O}/<X:9000> HTTP/1.1\r\nHost: a\r\n\r\n" },
  { "size-one-header", "test", PLAIN,
    "GET http://127.0.0.1:{O}/ HTTP/1.1\r\nHost: a\r\nX-Big: <X:40000>\r\n\r\n" },
  { "size-header-count", "test", PLAIN,
    "GET http://127.0.0.1:{O}/ HTTP/1.1\r\nHost: a\r\n<H:101>\r\n" },
  { "size-header-section", "test", PLAIN,
    "GET http://127.0.0.1:{O}/ HTTP/1.1\r\nHost: a\r\n<B:40>\r\n" },
  { "bytes-nul-in-value", "test", PLAIN,
    "GET http://127.0.0.1:{O}/ HTTP/1.1\r\nHost: a\r\nX: a<NUL>b\r\n\r\n" },
  { "bytes-nul-in-target", "test", PLAIN,
    "GET http://127.0.0.1:{O}/<NUL> HTTP/1.1\r\nHost: a\r\n\r\n" },
  { "bytes-ctl-in-value", "test", PLAIN,
    "GET http://127.0.0.1:{O}/ HTTP/1.1\r\nHost: a\r\nX: a<SOH>b\r\n\r\n" },
  { "bytes-del-in-value", "test", PLAIN,
    "GET http://127.0.0.1:{O}/ HTTP/1.1\r\nHost: a\r\nX: a<DEL>b\r\n\r\n" },
  { "ws-before-colon", "test", PLAIN, "GET http://127.0.0.1:{O}/ HTTP/1.1\r\nHost : a\r\n\r\n" },
  { "obs-fold", "test", PLAIN,
    "GET http://127.0.0.1:{O}/ HTTP/1.1\r\nHost: a\r\nX-Folded: a\r\n b\r\n\r\n" },
  { "header-no-colon", "test", PLAIN, "GET http://127.0.0.1:{O}/ HTTP/1.1\r\nHost a\r\n\r\n" },
  { "header-empty-name", "test", PLAIN,
    "GET http://127.0.0.1:{O}/ HTTP/1.1\r\nHost: a\r\n: a\r\n\r\n" },
  { "cl-and-te", "test", PLAIN,
    "POST http://127.0.0.1:{O}/ HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
    "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" },
  { "cl-differing-duplicate", "test", PLAIN,
    "POST http://127.0.0.1:{O}/ HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
    "Content-Length: 6\r\n\r\nhello!" },
  { "cl-differing-list", "test", PLAIN,
    "POST http://127.0.0.1:{O}/ HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\nhello!" },
  { "cl-negative", "test", PLAIN,
    "POST http://127.0.0.1:{O}/ HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n" },
  { "cl-overflow", "test", PLAIN,
    "POST http://127.0.0.1:{O}/ HTTP/1.1\r\nHost: a\r\nContent-Length: "
    "184467440737095516160\r\n\r\n" },
  { "te-chunk-size-overflow", "test", PLAIN,
    "POST http://127.0.0.1:{O}/ HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
    "10000000000000001\r\nx\r\n0\r\n\r\n" },
  { "te-chunk-size-invalid", "test", PLAIN,
    "POST http://127.0.0.1:{O}/ HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
    "xyz\r\n" },
  { "te-chunked-not-last", "test", PLAIN,
    "POST http://127.0.0.1:{O}/ HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n" },
  { "te-unknown-coding", "test", PLAIN,
    "POST http://127.0.0.1:{O}/ HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
    "0\r\n\r\n" },
  { "te-chunked-twice", "test", PLAIN,
    "POST http://127.0.0.1:{O}/ HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n"
    "\r\n0\r\n\r\n" },
  { "te-in-http10", "test", PLAIN,
    "POST http://127.0.0.1:{O}/ HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" },
  { "connect-with-content-length", "test", PLAIN,
    "CONNECT 127.0.0.1:{O} HTTP/1.1\r\nHost: 127.0.0.1:{O}\r\nContent-Length: 5\r\n\r\nhello" },
  { "absolute-form-userinfo", "test", PLAIN,
    "GET http://user:pw@127.0.0.1:{O}/ HTTP/1.1\r\nHost: 127.0.0.1:{O}\r\n\r\n" },
  { "absolute-form-empty-host", "test", PLAIN, "GET http:///path HTTP/1.1\r\nHost: a\r\n\r\n" },
  { "host-missing", "test", PLAIN, "GET http://127.0.0.1:{O}/ HTTP/1.1\r\n\r\n" },
  { "host-duplicate", "test", PLAIN,
    "GET http://127.0.0.1:{O}/ HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n" },
  { "connect-host-missing", "test", PLAIN, "CONNECT 127.0.0.1:{O} HTTP/1.1\r\n\r\n" },
  { "connect-bad-ipv6", "test", PLAIN, "CONNECT [::zz]:443 HTTP/1.1\r\nHost: [::zz]:443\r\n\r\n" },
  { "connect-loopback", "strict", PLAIN,
    "CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n\r\n" },
  { "connect-localhost-name", "strict", PLAIN,
    "CONNECT localhost:443 HTTP/1.1\r\nHost: localhost:443\r\n\r\n" },
  { "connect-localhost-dot", "strict", PLAIN,
    "CONNECT LocalHost.:443 HTTP/1.1\r\nHost: LocalHost.:443\r\n\r\n" },
  { "http-localhost-subdomain", "strict", PLAIN,
    "GET http://a.localhost.:{O}/ HTTP/1.1\r\nHost: a.localhost.:{O}\r\n\r\n" },
  { "connect-ipv6-loopback", "strict", PLAIN,
    "CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\r\n" },
  { "connect-link-local", "test", PLAIN,
    "CONNECT 169.254.1.1:443 HTTP/1.1\r\nHost: 169.254.1.1:443\r\n\r\n" },
  { "connect-unspecified", "test", PLAIN,
    "CONNECT 0.0.0.0:443 HTTP/1.1\r\nHost: 0.0.0.0:443\r\n\r\n" },
  { "connect-mapped-loopback", "strict", PLAIN,
    "CONNECT [::ffff:127.0.0.1]:443 HTTP/1.1\r\nHost: [::ffff:127.0.0.1]:443\r\n\r\n" },
  /* On the proxy that allows loopback: only the unspecified address stops
   * it, and the origin is what that address would reach. */
  { "connect-mapped-unspecified", "test", PLAIN,
    "CONNECT [::ffff:0.0.0.0]:{O} HTTP/1.1\r\nHost: [::ffff:0.0.0.0]:{O}\r\n\r\n" },
  { "http-mapped-unspecified", "test", PLAIN,
    "GET http://[::ffff:0.0.0.0]:{O}/ HTTP/1.1\r\nHost: x\r\n\r\n" },
  { "connect-proxy-itself", "test", PLAIN,
    "CONNECT 127.0.0.1:{P} HTTP/1.1\r\nHost: 127.0.0.1:{P}\r\n\r\n" },
  { "connect-unresolvable", "test", PLAIN, "CONNECT {L}.invalid:443 HTTP/1.1\r\nHost: x\r\n\r\n" },
  { "connect-refused", "test", PLAIN, "CONNECT 127.0.0.1:{C} HTTP/1.1\r\nHost: x\r\n\r\n" },
  { "http-refused", "test", PLAIN, "GET http://127.0.0.1:{C}/ HTTP/1.1\r\nHost: x\r\n\r\n" },
  { "connect-timeout", "blackhole", PLAIN, "CONNECT 198.51.100.1:443 HTTP/1.1\r\nHost: x\r\n\r\n" },
  { "pipelined-after-refused-connect", "test", PIPELINE,
    "CONNECT 127.0.0.1:25 HTTP/1.1\r\nHost: 127.0.0.1:25\r\n\r\n"
    "GET http://127.0.0.1:{O}/smuggled HTTP/1.1\r\nHost: 127.0.0.1:{O}\r\n\r\n" },
  { "slowloris", "test", SLOW,
    "GET http://127.0.0.1:{O}/ HTTP/1.1\r\nHost: a\r\nX-1: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"
    "X-2: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"
    "\r\n" },
  { "max-connections", "small", FULL,
    "GET http://127.0.0.1:{O}/ HTTP/1.1\r\nHost: 127.0.0.1:{O}\r\n\r\n" },
  { "vanish-mid-relay", "test", VANISH,
    "CONNECT 127.0.0.1:{O} HTTP/1.1\r\nHost: 127.0.0.1:{O}\r\n\r\n" },
};

static struct
{
  char *dir;
  TsTestChildren kids;
  TsTestOrigin *origin;
  guint16 test_port, strict_port, blackhole_port, small_port, closed_port;
  int blackhole_fd;
  int closed_fd;     /* bound, never listening: holds {C} closed for the whole run */
  GHashTable *table; /* case name -> status */
} g;

static GBytes *
expand (const char *t, guint16 proxy_port)
{
  GByteArray *out = g_byte_array_new ();

  while (*t)
    {
      const char *end;
      char *s = NULL;

      if (g_str_has_prefix (t, "{O}"))
        s = g_strdup_printf ("%u", ts_test_origin_get_port (g.origin)), t += 3;
      else if (g_str_has_prefix (t, "{P}"))
        s = g_strdup_printf ("%u", proxy_port), t += 3;
      else if (g_str_has_prefix (t, "{C}"))
        s = g_strdup_printf ("%u", g.closed_port), t += 3;
      else if (g_str_has_prefix (t, "{L}"))
        s = g_strnfill (64, 'a'), t += 3;
      else if (g_str_has_prefix (t, "<NUL>"))
        {
          g_byte_array_append (out, (const guint8 *)"", 1);
          t += 5;
          continue;
        }
      else if (g_str_has_prefix (t, "<SOH>"))
        s = g_strdup ("\x01"), t += 5;
      else if (g_str_has_prefix (t, "<DEL>"))
        s = g_strdup ("\x7f"), t += 5;
      else if ((g_str_has_prefix (t, "<X:") || g_str_has_prefix (t, "<H:")
                || g_str_has_prefix (t, "<B:"))
               && (end = strchr (t, '>')) != NULL)
        {
          guint n = atoi (t + 3);
          GString *str = g_string_new (NULL);

          for (guint i = 0; i < n; i++)
            {
              if (t[1] == 'X')
                g_string_append_c (str, 'x');
              else if (t[1] == 'H')
                g_string_append_printf (str, "X-Field-%u: v\r\n", i);
              else
                {
                  g_string_append_printf (str, "X-Big-%u: ", i);
                  for (guint j = 0; j < 1000; j++)
                    g_string_append_c (str, 'v');
                  g_string_append (str, "\r\n");
                }
            }
          s = g_string_free (str, FALSE);
          t = end + 1;
        }
      else
        {
          g_byte_array_append (out, (const guint8 *)t, 1);
          t++;
          continue;
        }
      g_byte_array_append (out, (const guint8 *)s, strlen (s));
      g_free (s);
    }
  return g_byte_array_free_to_bytes (out);
}

/* The table: rows "| `name` | status | source |". */
static GHashTable *
load_table (void)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  GHashTable *t = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  g_assert_true (g_file_get_contents (TS_HOSTILE_TABLE, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    {
      g_auto (GStrv) cells = NULL;
      char *name;

      if (!g_str_has_prefix (lines[i], "| `"))
        continue;
      cells = g_strsplit (lines[i], "|", -1);
      g_assert_cmpuint (g_strv_length (cells), >=, 4);
      name = g_strstrip (cells[1]);
      g_assert_true (name[0] == '`' && name[strlen (name) - 1] == '`');
      g_hash_table_insert (t, g_strndup (name + 1, strlen (name) - 2),
                           GUINT_TO_POINTER (atoi (g_strstrip (cells[2]))));
    }
  return t;
}

static int
connect_to (guint16 port)
{
  struct sockaddr_in sin = { .sin_family = AF_INET,
                             .sin_port = htons (port),
                             .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct timeval tv = { .tv_sec = 10 };

  g_assert_cmpint (connect (fd, (struct sockaddr *)&sin, sizeof sin), ==, 0);
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

static guint
run_slow (guint16 port, GBytes *req)
{
  gsize len;
  const char *d = g_bytes_get_data (req, &len);
  int fd = connect_to (port);
  char buf[512];
  guint status = 0;

  /* A byte every 150 ms: the head would take far longer than the
   * proxy's 2 s; the answer must come meanwhile. */
  for (gsize i = 0; i < len; i++)
    {
      struct pollfd pfd = { fd, POLLIN, 0 };

      if (send (fd, d + i, 1, MSG_NOSIGNAL) != 1)
        break;
      if (poll (&pfd, 1, 150) > 0)
        break;
    }
  {
    gssize n = recv (fd, buf, sizeof buf - 1, 0);

    if (n >= 12)
      {
        GBytes *b = g_bytes_new (buf, n);
        status = ts_test_status (b);
        g_bytes_unref (b);
      }
  }
  close (fd);
  return status;
}

static guint
run_vanish (guint16 port, GBytes *req)
{
  gsize len;
  const char *d = g_bytes_get_data (req, &len);
  int fd = connect_to (port);
  char buf[512];
  gssize n;
  guint status = 0;
  struct linger lg = { .l_onoff = 1, .l_linger = 0 };
  static const char partial[] = "GET /partial HTTP/1.1\r\nHost: x\r\n";

  g_assert_cmpint (send (fd, d, len, MSG_NOSIGNAL), ==, (gssize)len);
  n = recv (fd, buf, sizeof buf - 1, 0);
  if (n >= 12)
    {
      GBytes *b = g_bytes_new (buf, n);
      status = ts_test_status (b);
      g_bytes_unref (b);
    }
  (void)!send (fd, partial, strlen (partial), MSG_NOSIGNAL);
  g_usleep (100000);
  /* Vanish: a reset, not a FIN. */
  setsockopt (fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  close (fd);
  return status;
}

static guint
count_responses (GBytes *resp)
{
  gsize len;
  const char *d = g_bytes_get_data (resp, &len);
  guint n = 0;

  for (gsize i = 0; i + 9 <= len; i++)
    if (memcmp (d + i, "HTTP/1.1 ", 9) == 0)
      n++;
  return n;
}

static void
check_normal_request_on (guint16 port)
{
  g_autofree char *req
      = g_strdup_printf ("GET http://127.0.0.1:%u/normal HTTP/1.1\r\n"
                         "Host: 127.0.0.1:%u\r\nConnection: close\r\n\r\n",
                         ts_test_origin_get_port (g.origin), ts_test_origin_get_port (g.origin));
  GBytes *resp = ts_test_exchange (port, req, strlen (req), 10000);

  g_assert_cmpuint (ts_test_status (resp), ==, 200);
  g_assert_nonnull (
      g_strstr_len (g_bytes_get_data (resp, NULL), g_bytes_get_size (resp), TS_TEST_ORIGIN_BODY));
  g_bytes_unref (resp);
}

static void
check_normal_request (void)
{
  check_normal_request_on (g.test_port);
}

static void
test_case (gconstpointer data)
{
  const Case *c = data;
  guint16 port = g_str_equal (c->proxy, "strict")      ? g.strict_port
                 : g_str_equal (c->proxy, "blackhole") ? g.blackhole_port
                 : g_str_equal (c->proxy, "small")     ? g.small_port
                                                       : g.test_port;
  int holders[2] = { -1, -1 };
  gpointer expected_p;
  guint expected, status;
  GBytes *req = expand (c->request, port);
  guint before = ts_test_origin_get_n_requests (g.origin);

  g_assert_true (g_hash_table_lookup_extended (g.table, c->name, NULL, &expected_p));
  expected = GPOINTER_TO_UINT (expected_p);
  switch (c->kind)
    {
      case SLOW:
        status = run_slow (port, req);
        break;
      case VANISH:
        status = run_vanish (port, req);
        break;
      case FULL:
        for (guint i = 0; i < G_N_ELEMENTS (holders); i++)
          {
            holders[i] = connect_to (port);
            (void)!send (holders[i], "GET http://", 11, MSG_NOSIGNAL);
          }
        g_usleep (200000); /* the proxy accepts them */
        G_GNUC_FALLTHROUGH;
      default:
        {
          GBytes *resp = ts_test_exchange (port, g_bytes_get_data (req, NULL),
                                           g_bytes_get_size (req), 15000);

          status = ts_test_status (resp);
          if (status != expected)
            g_test_message ("answer: %.*s", (int)MIN (g_bytes_get_size (resp), 300),
                            (const char *)g_bytes_get_data (resp, NULL));
          if (c->kind == HEAD_ONLY)
            {
              const char *d = g_bytes_get_data (resp, NULL);
              const char *end = g_strstr_len (d, g_bytes_get_size (resp), "\r\n\r\n");

              g_assert_nonnull (end);
              if (end != NULL)
                g_assert_cmpint (end + 4 - d, ==, g_bytes_get_size (resp));
            }
          if (c->kind == PIPELINE)
            {
              g_assert_cmpuint (count_responses (resp), ==, 1);
              g_assert_cmpuint (ts_test_origin_get_n_requests (g.origin), ==, before);
            }
          g_bytes_unref (resp);
        }
        break;
    }
  g_bytes_unref (req);
  for (guint i = 0; i < G_N_ELEMENTS (holders); i++)
    if (holders[i] >= 0)
      close (holders[i]);
  g_assert_cmpuint (status, ==, expected);
  if (c->kind == FULL)
    {
      g_usleep (200000); /* the proxy sees the holders go */
      check_normal_request_on (port);
    }

  /* The proxy keeps serving. */
  check_normal_request ();
  if (port == g.strict_port)
    {
      static const char probe[] = "CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: x\r\n\r\n";
      GBytes *resp = ts_test_exchange (port, probe, strlen (probe), 10000);

      g_assert_cmpuint (ts_test_status (resp), ==, 403);
      g_bytes_unref (resp);
    }
}

/* Every case has a row and every row a case. */
static void
test_table (void)
{
  g_assert_cmpuint (g_hash_table_size (g.table), ==, G_N_ELEMENTS (cases));
  g_assert_cmpuint (G_N_ELEMENTS (cases), >=, 40);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    g_assert_true (g_hash_table_contains (g.table, cases[i].name));
}

/* Many clients at once, some hostile, some normal. */
static void
test_concurrent (void)
{
  int fds[200];
  static const char half[] = "GET http://127.0.0.1:1/ HTTP/1.1\r\nHost: a\r\nX-Slow: ";

  for (guint i = 0; i < G_N_ELEMENTS (fds); i++)
    {
      fds[i] = connect_to (g.test_port);
      (void)!send (fds[i], half, strlen (half), MSG_NOSIGNAL);
    }
  for (guint i = 0; i < 5; i++)
    check_normal_request ();
  for (guint i = 0; i < G_N_ELEMENTS (fds); i++)
    close (fds[i]);
  check_normal_request ();
}

static void
start_all (void)
{
  g_autoptr (GError) error = NULL;
  const char *test_args[] = { "--allow-loopback-targets", "--connect-ports=443,1025-65535",
                              "--header-timeout=2", NULL };
  const char *strict_args[] = { "--header-timeout=2", NULL };
  g_autofree char *parent = NULL;
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t sl = sizeof sin;

  g.dir = g_dir_make_tmp ("ts-test-hostile-XXXXXX", &error);
  g_assert_no_error (error);
  ts_test_children_init (&g.kids);
  ts_test_children_setenv (&g.kids, "TS_EVENTS", "/dev/null");
  g.kids.envp = g_environ_unsetenv (g.kids.envp, "SSLKEYLOGFILE");
  g.origin = ts_test_origin_new (NULL, NULL);
  /* The closed port: bound and never listening, so that a connection to it
   * is refused for the whole run (a port found free and let go could be
   * taken meanwhile, as an ephemeral port of another connection: the
   * CONNECT then got 200, not 502). */
  g.closed_fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_assert_cmpint (bind (g.closed_fd, (struct sockaddr *)&sin, sizeof sin), ==, 0);
  getsockname (g.closed_fd, (struct sockaddr *)&sin, &sl);
  g.closed_port = ntohs (sin.sin_port);
  sin.sin_port = 0;
  sl = sizeof sin;
  /* The blackhole: listens, never accepts. */
  g.blackhole_fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_assert_cmpint (bind (g.blackhole_fd, (struct sockaddr *)&sin, sizeof sin), ==, 0);
  g_assert_cmpint (listen (g.blackhole_fd, 16), ==, 0);
  getsockname (g.blackhole_fd, (struct sockaddr *)&sin, &sl);
  parent = g_strdup_printf ("--parent=127.0.0.1:%u", ntohs (sin.sin_port));
  g.test_port = ts_test_start_proxy (&g.kids, g.dir, "test", test_args);
  g.strict_port = ts_test_start_proxy (&g.kids, g.dir, "strict", strict_args);
  {
    const char *bh_args[] = { parent, "--connect-timeout=1", NULL };
    g.blackhole_port = ts_test_start_proxy (&g.kids, g.dir, "blackhole", bh_args);
  }
  {
    const char *small_args[]
        = { "--allow-loopback-targets", "--max-connections=2", "--header-timeout=2", NULL };
    g.small_port = ts_test_start_proxy (&g.kids, g.dir, "small", small_args);
  }
  g.table = load_table ();
}

static void
stop_all (void)
{
  ts_test_children_kill_all (&g.kids);
  ts_test_origin_free (g.origin);
  close (g.blackhole_fd);
  close (g.closed_fd);
  if (g_getenv ("TS_TEST_KEEP") == NULL)
    ts_test_rm_rf (g.dir);
  g_free (g.dir);
  g_hash_table_unref (g.table);
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  /* Failures are recorded and the run goes on, so the children are always
   * killed below (they also die with this process: PR_SET_PDEATHSIG). */
  g_test_set_nonfatal_assertions ();
  start_all ();
  g_test_add_func ("/ts/sim/proxy/hostile/table", test_table);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/ts/sim/proxy/hostile/%s", cases[i].name);
      g_test_add_data_func (path, &cases[i], test_case);
    }
  g_test_add_func ("/ts/sim/proxy/hostile/concurrent", test_concurrent);
  status = g_test_run ();
  stop_all ();
  return status;
}
