/* ts-client.c: the client actor: HTTP(S) GET and POST direct, through a forward proxy
 * (absolute-form) or a CONNECT tunnel, WebSocket echo, UDP echo and DNS queries; it reports
 * what it saw (status, certificate, TLS parameters, a timing breakdown) as text or JSON.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One request path, blocking sockets with poll(2) and a deadline:
 *
 *   resolve → TCP connect → [CONNECT] → [TLS handshake] → request(s) → response(s)
 *
 * Each phase is timed with CLOCK_MONOTONIC. The report is filled as the run
 * goes, so a failure still shows how far it got (for example the issuer of
 * a certificate that was refused).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "ts-actor-event.h"
#include "ts-actor-tls.h"
#include "ts-dns-message.h"
#include "ts-actor-chunked.h"
#include "ts-actor-http-head.h"
#include "ts-lab-pki.h"
#include "ts-ws-frame.h"

#define PROGRAM "ts-client"

/* Caps on what peers control. */
#define CLIENT_MAX_BODY (16 << 20)  /* bytes of a response body kept */
#define CLIENT_MAX_BODY_SHOWN 65536 /* bytes of the body put in the JSON report */
#define CLIENT_MAX_REPEAT 1000      /* requests --repeat may ask for */
#define CLIENT_READ_SIZE 16384
#define CLIENT_TAKE_MAX (4 * CLIENT_READ_SIZE) /* bytes taken in while a request goes out */
#define CLIENT_EARLY_PIECE (256 * 1024)        /* bytes written between looks for an early answer */

enum
{
  EXIT_OK = 0,
  EXIT_FAILED = 1,
  EXIT_USAGE = 2,
};

typedef enum
{
  SCHEME_HTTP,
  SCHEME_HTTPS,
  SCHEME_WS,
  SCHEME_WSS,
  SCHEME_UDP,
  SCHEME_DNS,
  SCHEME_SMTP,
} Scheme;

/* ---- options ----------------------------------------------------------------------------------
 */

static char *opt_method;
static char *opt_data;
static char **opt_headers;
static char *opt_proxy;
static gboolean opt_proxy_tunnel;
static char *opt_proxy_user;
static char **opt_resolve;
static char *opt_cacert;
static gboolean opt_trust_intercept;
static char *opt_pin;
static char *opt_pin_cert;
static char *opt_tls_version;
static char *opt_alpn;
static int opt_repeat = 1;
static char *opt_message;
static int opt_expect_status = -1;
static double opt_timeout = 10.0;
static gboolean opt_json;
static gboolean opt_body;
static char *opt_dns_type;

static GOptionEntry entries[] = {
  { "request", 'X', 0, G_OPTION_ARG_STRING, &opt_method,
    "Request method (default GET, or POST with --data)", "METHOD" },
  { "data", 'd', 0, G_OPTION_ARG_FILENAME, &opt_data, "Request body; @FILE reads it from a file",
    "DATA" },
  { "header", 'H', 0, G_OPTION_ARG_FILENAME_ARRAY, &opt_headers,
    "Extra request header (repeatable)", "'NAME: VALUE'" },
  { "proxy", 'x', 0, G_OPTION_ARG_STRING, &opt_proxy,
    "Use this HTTP proxy: absolute-form for http://, CONNECT for https:// ws:// wss://",
    "HOST:PORT" },
  { "proxy-tunnel", 'p', 0, G_OPTION_ARG_NONE, &opt_proxy_tunnel,
    "Use CONNECT for http:// URLs too", NULL },
  { "proxy-user", 'U', 0, G_OPTION_ARG_STRING, &opt_proxy_user,
    "Authenticate to the proxy with Basic credentials (RFC 9110 section 11.7.2)", "USER:PASS" },
  { "resolve", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_resolve,
    "Connect to ADDR for NAME:PORT instead of resolving it (repeatable)", "NAME:PORT:ADDR" },
  { "cacert", 0, 0, G_OPTION_ARG_FILENAME, &opt_cacert,
    "Trust this CA instead of the Lab Web Root CA ($TS_WEB_CA)", "FILE" },
  { "trust-intercept", 0, 0, G_OPTION_ARG_NONE, &opt_trust_intercept,
    "Also trust the Intercept CA ($TS_INTERCEPT_CA): \"the proxy's CA is installed\"", NULL },
  { "pin", 0, 0, G_OPTION_ARG_STRING, &opt_pin,
    "Require the server's public key to match (curl's format; several joined by ';')",
    "sha256//BASE64" },
  { "pin-cert", 0, 0, G_OPTION_ARG_FILENAME, &opt_pin_cert,
    "Pin the public key of the certificate in FILE (PEM), as an app that ships its server's key",
    "FILE" },
  { "tls-version", 0, 0, G_OPTION_ARG_STRING, &opt_tls_version,
    "Offer only this TLS version: 1.2 or 1.3", "VERSION" },
  { "alpn", 0, 0, G_OPTION_ARG_STRING, &opt_alpn,
    "ALPN protocols to offer, comma-separated (default http/1.1; \"none\" for none)", "LIST" },
  { "repeat", 'n', 0, G_OPTION_ARG_INT, &opt_repeat,
    "Send the request N times on one connection (keep-alive)", "N" },
  { "message", 'm', 0, G_OPTION_ARG_FILENAME, &opt_message,
    "Message for ws:// wss:// udp:// (default \"hello from ts-client\")", "TEXT" },
  { "expect-status", 0, 0, G_OPTION_ARG_INT, &opt_expect_status,
    "Succeed only with this HTTP status (default: any 1xx-3xx)", "CODE" },
  { "timeout", 't', 0, G_OPTION_ARG_DOUBLE, &opt_timeout,
    "Give up after this many seconds (default 10)", "SECONDS" },
  { "json", 'j', 0, G_OPTION_ARG_NONE, &opt_json, "Print the report as a JSON object", NULL },
  { "body", 'b', 0, G_OPTION_ARG_NONE, &opt_body, "Print the response body after the report",
    NULL },
  { "dns-type", 0, 0, G_OPTION_ARG_STRING, &opt_dns_type,
    "Record type for dns:// URLs: A (default) or AAAA", "TYPE" },
  { NULL }
};

static const char summary[]
    = "The client actor of the Tunnelscope lab. URL schemes:\n"
      "  http:// https://     GET (or --data to POST), direct or through --proxy\n"
      "  ws:// wss://         WebSocket to the URL's path: send --message, check the echo\n"
      "  udp://HOST:PORT      send --message as one datagram, wait for the echo\n"
      "  dns://HOST[:PORT]/NAME  ask HOST for NAME's A (or --dns-type AAAA) records\n"
      "  smtp://HOST[:PORT]   read the mail server's banner, EHLO, QUIT (CONNECT with --proxy)\n"
      "\n"
      "Trust: the Lab Web Root CA ($TS_WEB_CA) only; --trust-intercept adds the\n"
      "Intercept CA ($TS_INTERCEPT_CA); --pin checks the server's public key.\n"
      "TLS secrets go to $SSLKEYLOGFILE, a client.result event to $TS_EVENTS.\n"
      "\n"
      "Exit status: 0 success; 1 failure (connection, certificate refused, pin\n"
      "mismatch, proxy refusal, an HTTP status of 400 or more, or not the one\n"
      "--expect-status asks for); 2 bad usage.";

/* ---- the report ---------------------------------------------------------------------------------
 */

typedef struct
{
  char *url;
  char *method;
  char *mode; /* direct, absolute-form, connect */
  char *proxy;
  char *connected_to;
  gboolean ok;
  char *error;
  /* proxy */
  int proxy_status;
  char *proxy_reason;
  /* TLS */
  gboolean tls;
  char *sni;
  char *tls_version;
  char *cipher;
  char *alpn;
  char *cert_subject;
  char *cert_issuer;
  char *cert_sha256;
  char *cert_pin;
  char *cert_not_after;
  char *verify;
  GPtrArray *trusted; /* names of trust anchors */
  /* HTTP */
  int status;
  char *reason;
  char *http_version;
  GPtrArray *response_headers; /* alternating name, value */
  gboolean chunked;
  GByteArray *body;   /* the first CLIENT_MAX_BODY bytes */
  guint64 body_total; /* bytes in the whole body */
  gboolean body_truncated;
  guint n_requests;
  guint n_connections;
  GArray *statuses;
  gboolean early_answer; /* a final answer came before the request was all sent */
  /* WebSocket, UDP, DNS */
  char *sent;
  char *received;
  gboolean echo_ok;
  char *dns_rcode;
  GPtrArray *dns_answers;
  /* timing, nanoseconds; -1 when the phase did not happen */
  gint64 t_resolve;
  gint64 t_tcp;
  gint64 t_proxy;
  gint64 t_tls;
  gint64 t_first_byte;
  gint64 t_transfer; /* first byte of the response to its last */
  gint64 t_total;
} Report;

static Report report;

static void
report_init (void)
{
  report.trusted = g_ptr_array_new_with_free_func (g_free);
  report.response_headers = g_ptr_array_new_with_free_func (g_free);
  report.body = g_byte_array_new ();
  report.statuses = g_array_new (FALSE, FALSE, sizeof (int));
  report.dns_answers = g_ptr_array_new_with_free_func (g_free);
  report.status = -1;
  report.proxy_status = -1;
  report.t_resolve = report.t_tcp = report.t_proxy = report.t_tls = report.t_first_byte = -1;
  report.t_transfer = -1;
}

static void
report_clear (void)
{
  g_free (report.url);
  g_free (report.method);
  g_free (report.mode);
  g_free (report.proxy);
  g_free (report.connected_to);
  g_free (report.error);
  g_free (report.proxy_reason);
  g_free (report.sni);
  g_free (report.tls_version);
  g_free (report.cipher);
  g_free (report.alpn);
  g_free (report.cert_subject);
  g_free (report.cert_issuer);
  g_free (report.cert_sha256);
  g_free (report.cert_pin);
  g_free (report.cert_not_after);
  g_free (report.verify);
  g_ptr_array_unref (report.trusted);
  g_free (report.reason);
  g_free (report.http_version);
  g_ptr_array_unref (report.response_headers);
  g_byte_array_unref (report.body);
  g_array_unref (report.statuses);
  g_free (report.sent);
  g_free (report.received);
  g_free (report.dns_rcode);
  g_ptr_array_unref (report.dns_answers);
  memset (&report, 0, sizeof report);
}

/* Replaces a report field (a reconnection under --repeat sets them again). */
static void
set_field (char **field, char *value)
{
  g_free (*field);
  *field = value;
}

static void fail (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

static void
fail (GError **error, const char *format, ...)
{
  va_list ap;

  va_start (ap, format);
  if (error && *error == NULL)
    *error = g_error_new_valist (G_IO_ERROR, G_IO_ERROR_FAILED, format, ap);
  va_end (ap);
}

static gint64
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64)ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

static gint64 deadline_ns;

/* Milliseconds left before the deadline, at least 0. */
static int
ms_left (void)
{
  gint64 left = deadline_ns - now_ns ();
  return left <= 0 ? 0 : (int)MIN (left / 1000000 + 1, G_MAXINT);
}

/* ---- a connection: a socket and maybe TLS on it ------------------------------------------------
 */

typedef struct
{
  int fd;
  SSL *ssl;
  GByteArray *buf; /* bytes read but not yet used */
  gboolean eof;
} Conn;

static void
conn_clear (Conn *c)
{
  /* RFC 8446 §6.1: each party sends close_notify before closing its write
   * side. Only on a connection whose handshake finished: after a fatal alert
   * there is nothing to close cleanly. The peer's close_notify is not
   * awaited (a unidirectional close). */
  if (c->ssl && SSL_is_init_finished (c->ssl)
      && (SSL_get_shutdown (c->ssl) & SSL_SENT_SHUTDOWN) == 0)
    {
      ERR_set_mark ();
      SSL_shutdown (c->ssl);
      ERR_pop_to_mark ();
      /* Then end our side of TCP and drain what the peer still sends (its
       * own close_notify) until it closes, briefly: closing a socket with
       * unread bytes would answer them with a RST. */
      if (c->fd >= 0 && shutdown (c->fd, SHUT_WR) == 0)
        {
          gint64 deadline = g_get_monotonic_time () + 500 * G_TIME_SPAN_MILLISECOND;
          char sink[4096];

          for (;;)
            {
              struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
              gint64 left = (deadline - g_get_monotonic_time ()) / 1000;

              if (left <= 0 || poll (&pfd, 1, (int)left) <= 0)
                break;
              if (recv (c->fd, sink, sizeof sink, 0) <= 0)
                break;
            }
        }
    }
  if (c->ssl)
    SSL_free (c->ssl);
  if (c->fd >= 0)
    close (c->fd);
  if (c->buf)
    g_byte_array_unref (c->buf);
  c->ssl = NULL;
  c->fd = -1;
  c->buf = NULL;
}

static gboolean
wait_fd (int fd, short events, GError **error)
{
  struct pollfd p = { fd, events, 0 };

  for (;;)
    {
      int r = poll (&p, 1, ms_left ());
      if (r > 0)
        return TRUE;
      if (r == 0)
        {
          fail (error, "timed out after %.1f s", opt_timeout);
          return FALSE;
        }
      if (errno != EINTR)
        {
          fail (error, "poll: %s", g_strerror (errno));
          return FALSE;
        }
    }
}

/* One read into c->buf, without waiting: bytes appended, or c->eof set at
 * the end of the stream, or *@out_want set to the poll events it waits
 * for. FALSE on error. */
static gboolean
conn_read_some (Conn *c, short *out_want, GError **error)
{
  guint8 tmp[CLIENT_READ_SIZE];

  *out_want = 0;
  if (c->ssl)
    {
      size_t n = 0;
      int err;

      if (SSL_read_ex (c->ssl, tmp, sizeof tmp, &n) == 1)
        {
          g_byte_array_append (c->buf, tmp, (guint)n);
          return TRUE;
        }
      err = SSL_get_error (c->ssl, 0);
      if (err == SSL_ERROR_ZERO_RETURN)
        c->eof = TRUE;
      else if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
        *out_want = err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
      else
        {
          g_autofree char *why = ts_actor_tls_dup_error ();
          fail (error, "TLS read failed: %s", why);
          return FALSE;
        }
      return TRUE;
    }
  else
    {
      gssize n = read (c->fd, tmp, sizeof tmp);

      if (n > 0)
        g_byte_array_append (c->buf, tmp, (guint)n);
      else if (n == 0)
        c->eof = TRUE;
      else if (errno == EAGAIN || errno == EINTR)
        *out_want = POLLIN;
      else
        {
          fail (error, "read failed: %s", g_strerror (errno));
          return FALSE;
        }
      return TRUE;
    }
}

/* Reads some bytes into c->buf, waiting for them. FALSE on error (or
 * timeout); sets c->eof at the end of the stream. */
static gboolean
conn_fill (Conn *c, GError **error)
{
  for (;;)
    {
      short want;

      if (!conn_read_some (c, &want, error))
        return FALSE;
      if (want == 0)
        return TRUE;
      if (!wait_fd (c->fd, want, error))
        return FALSE;
    }
}

/* Whether c->buf holds a final response head: the server answered before
 * the request was all sent (a body over its limit), and the rest is not
 * wanted. */
static gboolean
answered_early (Conn *c)
{
  gsize off = 0;

  /* (Interim 1xx answers, such as 100 Continue, come first.) */
  while (off < c->buf->len)
    {
      TsActorHttpHead head;
      gssize r = ts_actor_http_head_parse_response (&head, (const char *)c->buf->data + off,
                                                    c->buf->len - off);

      if (r <= 0)
        return FALSE;
      if (head.status >= 200)
        return TRUE;
      off += (gsize)r;
    }
  return FALSE;
}

/* Takes what the peer sent while we write (a request body can be long, and
 * the server may answer before its end), without waiting: bytes read stay
 * in c->buf for the reader. FALSE on a read error. */
static gboolean
conn_take_input (Conn *c, GError **error)
{
  /* (Bounded: a peer that floods is read later, by the reader.) */
  while (!c->eof && c->buf->len < CLIENT_TAKE_MAX)
    {
      short want;

      if (!conn_read_some (c, &want, error))
        return FALSE;
      if (want != 0)
        break;
    }
  return TRUE;
}

/* After a write that blocked or failed: reads what the peer sent, and
 * tells whether it is a final answer (then the rest of the request is not
 * wanted; a read error after it does not matter). */
static gboolean
early_answer_in (Conn *c)
{
  g_autoptr (GError) ignored = NULL;

  (void)conn_take_input (c, &ignored);
  return answered_early (c);
}

/* A write to @c failed (@ssl_err: SSL_get_error's, or 0): the error, in
 * words after @what; or, when the peer had answered first and closed
 * (@out_early given), that answer: *@out_early TRUE. */
static gboolean
write_failed (Conn *c, const char *what, int ssl_err, gboolean *out_early, GError **error)
{
  int saved = errno;
  g_autofree char *why = NULL;

  if (c->ssl && ssl_err == SSL_ERROR_SSL)
    why = ts_actor_tls_dup_error ();
  else if (c->ssl && ssl_err == SSL_ERROR_ZERO_RETURN)
    why = g_strdup ("the peer closed the TLS connection (close_notify)");
  else
    why = g_strdup (saved == 0 ? "the peer closed the connection" : g_strerror (saved));
  ERR_clear_error ();
  if (out_early && early_answer_in (c))
    {
      *out_early = TRUE;
      return TRUE;
    }
  fail (error, "%s: %s", what, why);
  return FALSE;
}

/* Whether the peer's bytes are waiting to be read, without waiting. */
static gboolean
input_waiting (Conn *c)
{
  struct pollfd pfd = { .fd = c->fd, .events = POLLIN };

  return (c->ssl && SSL_pending (c->ssl) > 0) || poll (&pfd, 1, 0) > 0;
}

/* Writes @len bytes of @data. When @out_early is given, the peer's bytes
 * are read whenever the write blocks, and between pieces of
 * CLIENT_EARLY_PIECE bytes when they are waiting (a peer that drains fast
 * never blocks the write); a final response head among them ends the
 * write: *@out_early TRUE, the caller reads that answer (a server refusing
 * a body over its limit answers, then closes). */
static gboolean
conn_write_all_early (Conn *c, const void *data, gsize len, gboolean *out_early, GError **error)
{
  const guint8 *p = data;
  gsize piece_left = CLIENT_EARLY_PIECE;

  if (out_early)
    *out_early = FALSE;
  while (len > 0)
    {
      short want = POLLOUT;
      /* (A TLS write that blocked is retried with the same arguments.) */
      gsize chunk = out_early ? MIN (len, CLIENT_EARLY_PIECE) : len;

      if (out_early && piece_left == 0)
        {
          piece_left = CLIENT_EARLY_PIECE;
          if (input_waiting (c) && early_answer_in (c))
            {
              *out_early = TRUE;
              return TRUE;
            }
        }
      if (c->ssl)
        {
          size_t n = 0;
          int err;

          ERR_clear_error ();
          errno = 0;
          if (SSL_write_ex (c->ssl, p, chunk, &n) == 1)
            {
              p += n;
              len -= n;
              piece_left -= MIN (piece_left, n);
              continue;
            }
          err = SSL_get_error (c->ssl, 0);
          if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE)
            return write_failed (c, "TLS write failed", err, out_early, error);
          want = err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
        }
      else
        {
          gssize n;

          errno = 0;
          n = send (c->fd, p, chunk, MSG_NOSIGNAL);
          if (n >= 0)
            {
              p += n;
              len -= (gsize)n;
              piece_left -= MIN (piece_left, (gsize)n);
              continue;
            }
          if (errno != EAGAIN && errno != EINTR)
            return write_failed (c, "write failed", 0, out_early, error);
        }
      if (out_early && want == POLLOUT)
        {
          if (early_answer_in (c))
            {
              *out_early = TRUE;
              return TRUE;
            }
          /* Woken by input too, while there is room to take it in (at its
           * end, or with the buffer full, only room to write wakes us). */
          if (!c->eof && c->buf->len < CLIENT_TAKE_MAX)
            want = POLLOUT | POLLIN;
        }
      if (!wait_fd (c->fd, want, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
conn_write_all (Conn *c, const void *data, gsize len, GError **error)
{
  return conn_write_all_early (c, data, len, NULL, error);
}

/* Reads a response head into @out_head (views into c->buf; the head stays
 * at the start of c->buf until the caller removes @out_len bytes). Sets
 * report.t_first_byte from @sent_ns when @sent_ns > 0. */
static gboolean
conn_read_head (Conn *c, TsActorHttpHead *out_head, gsize *out_len, gint64 sent_ns, const char *who,
                GError **error)
{
  for (;;)
    {
      gssize r
          = ts_actor_http_head_parse_response (out_head, (const char *)c->buf->data, c->buf->len);
      if (r > 0)
        {
          *out_len = (gsize)r;
          return TRUE;
        }
      if (r == TS_PARSE_INVALID || r == TS_PARSE_TOO_LARGE)
        {
          fail (error, "%s sent a malformed HTTP response head", who);
          return FALSE;
        }
      if (c->eof)
        {
          fail (error,
                c->buf->len ? "%s closed the connection in the middle of a response head"
                            : "%s closed the connection without a response",
                who);
          return FALSE;
        }
      if (!conn_fill (c, error))
        return FALSE;
      if (sent_ns > 0 && report.t_first_byte < 0 && c->buf->len > 0)
        report.t_first_byte = now_ns () - sent_ns;
    }
}

/* ---- URL, resolution, connect -----------------------------------------------------------------
 */

typedef struct
{
  Scheme scheme;
  char *host; /* without brackets */
  int port;
  char *path_query; /* origin-form target */
} Target;

static void
target_clear (Target *t)
{
  g_free (t->host);
  g_free (t->path_query);
}

static gboolean
parse_url (const char *url, Target *t, GError **error)
{
  g_autoptr (GUri) uri
      = g_uri_parse (url, G_URI_FLAGS_ENCODED | G_URI_FLAGS_SCHEME_NORMALIZE, error);
  static const struct
  {
    const char *name;
    Scheme scheme;
    int port;
  } schemes[] = {
    { "http", SCHEME_HTTP, 80 }, { "https", SCHEME_HTTPS, 443 }, { "ws", SCHEME_WS, 80 },
    { "wss", SCHEME_WSS, 443 },  { "udp", SCHEME_UDP, 7 },       { "dns", SCHEME_DNS, 53 },
    { "smtp", SCHEME_SMTP, 25 },
  };
  const char *scheme, *path, *query;
  gsize i;

  if (uri == NULL)
    return FALSE;
  scheme = g_uri_get_scheme (uri);
  for (i = 0; i < G_N_ELEMENTS (schemes); i++)
    if (g_ascii_strcasecmp (scheme, schemes[i].name) == 0)
      break;
  if (i == G_N_ELEMENTS (schemes))
    {
      fail (error, "URL scheme %s: use http, https, ws, wss, udp, dns or smtp", scheme);
      return FALSE;
    }
  if (g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0')
    {
      fail (error, "URL %s has no host", url);
      return FALSE;
    }
  t->scheme = schemes[i].scheme;
  t->host = g_strdup (g_uri_get_host (uri));
  t->port = g_uri_get_port (uri) > 0 ? g_uri_get_port (uri) : schemes[i].port;
  path = g_uri_get_path (uri);
  query = g_uri_get_query (uri);
  t->path_query
      = g_strconcat (path && *path ? path : "/", query ? "?" : "", query ? query : "", NULL);
  return TRUE;
}

/* "host:port" as it goes in Host and CONNECT: brackets around IPv6. */
static char *
authority (const char *host, int port, gboolean with_default_port, int default_port)
{
  gboolean v6 = strchr (host, ':') != NULL;

  if (!with_default_port && port == default_port)
    return v6 ? g_strdup_printf ("[%s]", host) : g_strdup (host);
  return v6 ? g_strdup_printf ("[%s]:%d", host, port) : g_strdup_printf ("%s:%d", host, port);
}

/* Splits "host:port" or "[v6]:port". */
static gboolean
split_host_port (const char *text, char **out_host, int *out_port)
{
  const char *colon;
  guint64 port;

  if (text[0] == '[')
    {
      const char *end = strchr (text, ']');
      if (end == NULL || end[1] != ':')
        return FALSE;
      *out_host = g_strndup (text + 1, (gsize)(end - text - 1));
      colon = end + 1;
    }
  else
    {
      colon = strrchr (text, ':');
      if (colon == NULL || colon == text)
        return FALSE;
      *out_host = g_strndup (text, (gsize)(colon - text));
    }
  if (!g_ascii_string_to_unsigned (colon + 1, 10, 1, 65535, &port, NULL))
    {
      g_clear_pointer (out_host, g_free);
      return FALSE;
    }
  *out_port = (int)port;
  return TRUE;
}

/* Addresses for @host:@port: --resolve first, else the system resolver. */
static GList *
resolve (const char *host, int port, GError **error)
{
  g_autofree char *key = g_strdup_printf ("%s:%d:", host, port);
  GList *list = NULL;
  struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG };
  struct addrinfo *res = NULL;
  char port_s[8];
  int r;

  for (guint i = 0; opt_resolve && opt_resolve[i]; i++)
    if (g_ascii_strncasecmp (opt_resolve[i], key, strlen (key)) == 0)
      {
        const char *addr = opt_resolve[i] + strlen (key);
        g_autofree char *bare = NULL;
        GInetAddress *a;

        if (addr[0] == '[' && addr[strlen (addr) - 1] == ']')
          addr = bare = g_strndup (addr + 1, strlen (addr) - 2);
        a = g_inet_address_new_from_string (addr);
        if (a)
          list = g_list_append (list, g_inet_socket_address_new (a, (guint16)port));
        g_clear_object (&a);
      }
  if (list)
    return list;

  g_snprintf (port_s, sizeof port_s, "%d", port);
  r = getaddrinfo (host, port_s, &hints, &res);
  if (r != 0)
    {
      fail (error, "cannot resolve %s: %s", host, gai_strerror (r));
      return NULL;
    }
  for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
    {
      GSocketAddress *sa = g_socket_address_new_from_native (ai->ai_addr, ai->ai_addrlen);
      if (sa)
        list = g_list_append (list, sa);
    }
  freeaddrinfo (res);
  if (list == NULL)
    fail (error, "cannot resolve %s: no address", host);
  return list;
}

static char *
socket_address_to_string (GSocketAddress *sa)
{
  GInetAddress *a = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (sa));
  g_autofree char *s = g_inet_address_to_string (a);
  guint port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (sa));

  return g_inet_address_get_family (a) == G_SOCKET_FAMILY_IPV6
             ? g_strdup_printf ("[%s]:%u", s, port)
             : g_strdup_printf ("%s:%u", s, port);
}

/* Connects to the first address of @host:@port that answers. */
static int
tcp_connect (const char *host, int port, GError **error)
{
  GList *addrs;
  int fd = -1;
  g_autofree char *last_error = NULL;
  gint64 t0 = now_ns ();

  addrs = resolve (host, port, error);
  if (addrs == NULL)
    return -1;
  report.t_resolve = now_ns () - t0;

  for (GList *l = addrs; l && fd < 0; l = l->next)
    {
      struct sockaddr_storage ss;
      GSocketAddress *sa = l->data;
      gsize sl = g_socket_address_get_native_size (sa);
      int one = 1, so_error = 0;
      socklen_t len = sizeof so_error;
      gint64 t1;

      g_socket_address_to_native (sa, &ss, sizeof ss, NULL);
      fd = socket (ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0)
        continue;
      setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      t1 = now_ns ();
      if (connect (fd, (struct sockaddr *)&ss, (socklen_t)sl) < 0 && errno != EINPROGRESS)
        so_error = errno;
      else if (!wait_fd (fd, POLLOUT, error))
        {
          close (fd);
          fd = -1;
          break;
        }
      else
        getsockopt (fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
      if (so_error != 0)
        {
          g_free (last_error);
          last_error = g_strdup (g_strerror (so_error));
          close (fd);
          fd = -1;
          continue;
        }
      report.t_tcp = now_ns () - t1;
      set_field (&report.connected_to, socket_address_to_string (sa));
    }
  g_list_free_full (addrs, g_object_unref);
  if (fd < 0)
    fail (error, "cannot connect to %s port %d: %s", host, port,
          last_error ? last_error : "no address worked");
  return fd;
}

/* ---- TLS ----------------------------------------------------------------------------------------
 */

typedef struct
{
  gboolean pin_mismatch;
  char *seen_pin;
} VerifyState;

static int verify_state_index = -1;

static void
record_certificate (X509 *cert)
{
  const ASN1_TIME *na = X509_get0_notAfter (cert);
  BIO *bio = BIO_new (BIO_s_mem ());
  char *data = NULL;
  long n;

  g_free (report.cert_subject);
  g_free (report.cert_issuer);
  g_free (report.cert_sha256);
  g_free (report.cert_pin);
  g_free (report.cert_not_after);
  report.cert_subject = ts_actor_tls_dup_name (X509_get_subject_name (cert));
  report.cert_issuer = ts_actor_tls_dup_name (X509_get_issuer_name (cert));
  report.cert_sha256 = ts_actor_tls_dup_fingerprint (cert);
  report.cert_pin = ts_actor_tls_dup_pin (cert);
  ASN1_TIME_print (bio, na);
  n = BIO_get_mem_data (bio, &data);
  report.cert_not_after = g_strndup (data, (gsize)MAX (n, 0));
  BIO_free (bio);
}

/* Records the leaf as it is seen (so a refused certificate is still
 * described) and checks the pin once the chain verified. */
static int
verify_cb (int preverify_ok, X509_STORE_CTX *ctx)
{
  SSL *ssl = X509_STORE_CTX_get_ex_data (ctx, SSL_get_ex_data_X509_STORE_CTX_idx ());
  VerifyState *vs = SSL_get_ex_data (ssl, verify_state_index);
  X509 *cert = X509_STORE_CTX_get_current_cert (ctx);

  if (X509_STORE_CTX_get_error_depth (ctx) != 0 || cert == NULL)
    return preverify_ok;
  record_certificate (cert);
  if (preverify_ok && opt_pin)
    {
      g_free (vs->seen_pin);
      vs->seen_pin = ts_actor_tls_dup_pin (cert);
      if (vs->seen_pin == NULL || !ts_actor_tls_pin_matches (opt_pin, vs->seen_pin))
        {
          /* Refuse in the handshake, as a browser does: the alert is on the wire. */
          vs->pin_mismatch = TRUE;
          X509_STORE_CTX_set_error (ctx, X509_V_ERR_APPLICATION_VERIFICATION);
          return 0;
        }
    }
  return preverify_ok;
}

static char *
first_cert_name (const char *path)
{
  g_autoptr (GError) error = NULL;
  X509 *cert = ts_lab_pki_load_cert (path, &error);
  char *name;

  if (cert == NULL)
    return g_strdup (path);
  name = ts_actor_tls_dup_name (X509_get_subject_name (cert));
  X509_free (cert);
  return name;
}

static SSL_CTX *
make_ssl_ctx (GError **error)
{
  SSL_CTX *ctx = SSL_CTX_new (TLS_client_method ());
  X509_STORE *store = SSL_CTX_get_cert_store (ctx);
  const char *web_ca = opt_cacert ? opt_cacert : g_getenv ("TS_WEB_CA");
  TsLabPki pki = { 0 };
  int version = opt_tls_version ? ts_actor_tls_parse_version (opt_tls_version) : 0;

  SSL_CTX_set_min_proto_version (ctx, version ? version : TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version (ctx, version ? version : TLS1_3_VERSION);
  SSL_CTX_set_options (ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
  ts_actor_tls_set_keylog (ctx);

  /* No system trust store: in the lab only the lab's CAs mean anything. */
  if (web_ca == NULL || *web_ca == '\0')
    {
      g_autoptr (GError) pki_error = NULL;
      if (!ts_lab_pki_ensure (g_getenv ("TS_PKI_DIR"), &pki, &pki_error))
        {
          fail (error, "no trust anchor: set TS_WEB_CA or --cacert (%s)", pki_error->message);
          SSL_CTX_free (ctx);
          return NULL;
        }
      web_ca = pki.web_ca_cert;
    }
  if (X509_STORE_load_file (store, web_ca) != 1)
    {
      g_autofree char *why = ts_actor_tls_dup_error ();
      fail (error, "cannot load CA %s: %s", web_ca, why);
      ts_lab_pki_clear (&pki);
      SSL_CTX_free (ctx);
      return NULL;
    }
  g_ptr_array_add (report.trusted, first_cert_name (web_ca));
  ts_lab_pki_clear (&pki);

  if (opt_trust_intercept)
    {
      const char *ica_env = g_getenv ("TS_INTERCEPT_CA");
      g_autofree char *ica = ica_env && *ica_env ? g_strdup (ica_env) : NULL;

      if (ica == NULL)
        {
          g_autoptr (GError) pki_error = NULL;
          if (!ts_lab_pki_ensure (g_getenv ("TS_PKI_DIR"), &pki, &pki_error))
            {
              fail (error, "--trust-intercept: set TS_INTERCEPT_CA (%s)", pki_error->message);
              SSL_CTX_free (ctx);
              return NULL;
            }
          ica = g_strdup (pki.intercept_ca_cert);
          ts_lab_pki_clear (&pki);
        }
      if (X509_STORE_load_file (store, ica) != 1)
        {
          g_autofree char *why = ts_actor_tls_dup_error ();
          fail (error, "cannot load Intercept CA %s: %s", ica, why);
          SSL_CTX_free (ctx);
          return NULL;
        }
      g_ptr_array_add (report.trusted, first_cert_name (ica));
    }

  SSL_CTX_set_verify (ctx, SSL_VERIFY_PEER, verify_cb);

  if (opt_alpn == NULL || strcmp (opt_alpn, "none") != 0)
    {
      g_auto (GStrv) protos = g_strsplit (opt_alpn ? opt_alpn : "http/1.1", ",", -1);
      g_autoptr (GByteArray) wire = g_byte_array_new ();

      for (guint i = 0; protos[i]; i++)
        {
          guint8 l = (guint8)MIN (strlen (protos[i]), 255);
          if (l == 0)
            continue;
          g_byte_array_append (wire, &l, 1);
          g_byte_array_append (wire, (const guint8 *)protos[i], l);
        }
      SSL_CTX_set_alpn_protos (ctx, wire->data, wire->len);
    }
  return ctx;
}

static gboolean
tls_handshake (Conn *c, SSL_CTX *ctx, const char *host, GError **error)
{
  VerifyState vs = { 0 };
  gint64 t0 = now_ns ();
  gboolean is_ip = g_hostname_is_ip_address (host);
  const unsigned char *alpn = NULL;
  unsigned int alpn_len = 0;
  gboolean ok = FALSE;

  c->ssl = SSL_new (ctx);
  SSL_set_fd (c->ssl, c->fd);
  SSL_set_ex_data (c->ssl, verify_state_index, &vs);
  /* SNI only for names (RFC 6066 §3), and the name or address is checked
   * against the certificate. */
  if (!is_ip)
    SSL_set_tlsext_host_name (c->ssl, host);
  if (is_ip)
    X509_VERIFY_PARAM_set1_ip_asc (SSL_get0_param (c->ssl), host);
  else
    SSL_set1_host (c->ssl, host);
  report.tls = TRUE;
  set_field (&report.sni, is_ip ? NULL : g_strdup (host));

  for (;;)
    {
      int r = SSL_connect (c->ssl);
      int err;

      if (r == 1)
        break;
      err = SSL_get_error (c->ssl, r);
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
        {
          if (!wait_fd (c->fd, err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, error))
            goto out;
          continue;
        }
      /* The verify callback records the leaf at depth 0; when the chain
       * failed higher up, take it from the handshake instead. */
      if (report.cert_subject == NULL && SSL_get0_peer_certificate (c->ssl) != NULL)
        record_certificate (SSL_get0_peer_certificate (c->ssl));
      if (vs.pin_mismatch)
        {
          set_field (&report.verify, g_strdup ("public key pin mismatch"));
          fail (error, "public key pin mismatch: the server's key is %s, expected %s", vs.seen_pin,
                opt_pin);
        }
      else if (SSL_get_verify_result (c->ssl) != X509_V_OK)
        {
          long v = SSL_get_verify_result (c->ssl);
          set_field (&report.verify, g_strdup (X509_verify_cert_error_string (v)));
          fail (error, "certificate refused: %s (subject %s, issuer %s)",
                X509_verify_cert_error_string (v), report.cert_subject ? report.cert_subject : "?",
                report.cert_issuer ? report.cert_issuer : "?");
        }
      else
        {
          g_autofree char *why = ts_actor_tls_dup_error ();
          fail (error, "TLS handshake with %s failed: %s", host, why);
        }
      ERR_clear_error ();
      goto out;
    }

  report.t_tls = now_ns () - t0;
  set_field (&report.verify, g_strdup ("ok"));
  set_field (&report.tls_version, g_strdup (SSL_get_version (c->ssl)));
  set_field (&report.cipher, g_strdup (SSL_get_cipher_name (c->ssl)));
  SSL_get0_alpn_selected (c->ssl, &alpn, &alpn_len);
  set_field (&report.alpn, alpn_len ? g_strndup ((const char *)alpn, alpn_len) : NULL);
  {
    X509 *peer = SSL_get0_peer_certificate (c->ssl);
    if (peer)
      record_certificate (peer);
  }
  ok = TRUE;

out:
  SSL_set_ex_data (c->ssl, verify_state_index, NULL);
  g_free (vs.seen_pin);
  return ok;
}

/* ---- HTTP ---------------------------------------------------------------------------------------
 */

static char *
head_dup (const TsActorHttpHead *h, const char *name)
{
  gsize len = 0;
  const char *v = ts_actor_http_head_get (h, name, &len);
  return v ? g_strndup (v, len) : NULL;
}

/* "Proxy-Authorization: Basic ...\r\n" for --proxy-user, or "" (transfer full). */
static char *
proxy_authorization (void)
{
  g_autofree char *b64 = NULL;

  if (opt_proxy_user == NULL)
    return g_strdup ("");
  b64 = g_base64_encode ((const guchar *)opt_proxy_user, strlen (opt_proxy_user));
  return g_strdup_printf ("Proxy-Authorization: Basic %s\r\n", b64);
}

/* CONNECT host:port through the proxy on @c (RFC 9110 §9.3.6). */
static gboolean
proxy_connect (Conn *c, const Target *t, GError **error)
{
  g_autofree char *auth = authority (t->host, t->port, TRUE, 0);
  g_autofree char *credentials = proxy_authorization ();
  g_autofree char *req = g_strdup_printf ("CONNECT %s HTTP/1.1\r\n"
                                          "Host: %s\r\n"
                                          "User-Agent: ts-client/%s\r\n"
                                          "%s"
                                          "\r\n",
                                          auth, auth, PACKAGE_VERSION, credentials);
  TsActorHttpHead head;
  gsize head_len = 0;
  gint64 t0 = now_ns ();

  if (!conn_write_all (c, req, strlen (req), error))
    return FALSE;
  if (!conn_read_head (c, &head, &head_len, 0, "the proxy", error))
    return FALSE;
  report.t_proxy = now_ns () - t0;
  report.proxy_status = (int)head.status;
  set_field (&report.proxy_reason, g_strndup (head.reason, head.reason_len));
  if (head.status == 407)
    {
      fail (error, "proxy %s refused CONNECT %s: 407 %s: it wants credentials%s", opt_proxy, auth,
            report.proxy_reason, opt_proxy_user ? " and did not accept ours" : " (--proxy-user)");
      return FALSE;
    }
  if (head.status < 200 || head.status > 299)
    {
      fail (error, "proxy %s refused CONNECT %s: %u %s", opt_proxy, auth, head.status,
            report.proxy_reason);
      return FALSE;
    }
  /* A 2xx to CONNECT has no body (RFC 9110 §9.3.6): the tunnel starts
   * right after the head. */
  g_byte_array_remove_range (c->buf, 0, (guint)head_len);
  return TRUE;
}

static gboolean
load_body (GBytes **out_body, GError **error)
{
  if (opt_data == NULL)
    {
      *out_body = NULL;
      return TRUE;
    }
  if (opt_data[0] == '@')
    {
      char *contents = NULL;
      gsize len = 0;
      if (!g_file_get_contents (opt_data + 1, &contents, &len, error))
        return FALSE;
      *out_body = g_bytes_new_take (contents, len);
      return TRUE;
    }
  *out_body = g_bytes_new (opt_data, strlen (opt_data));
  return TRUE;
}

/* Reads the body of a response whose head is @head (@head_len bytes at the
 * start of c->buf). Removes head and body from c->buf. */
/* Keeps the first CLIENT_MAX_BODY bytes of a body and counts the rest, so a
 * large download (an experiment's) costs no memory. */
static void
body_take (const guint8 *data, gsize len)
{
  gsize room = report.body->len < CLIENT_MAX_BODY ? CLIENT_MAX_BODY - report.body->len : 0;

  if (len > 0)
    g_byte_array_append (report.body, data, (guint)MIN (len, room));
  report.body_total += len;
  report.body_truncated |= len > room;
}

static gboolean
read_body (Conn *c, const TsActorHttpHead *head, gsize head_len, gboolean head_request,
           gboolean *out_reusable, GError **error)
{
  gint64 content_length = -1;
  gboolean chunked = ts_actor_http_head_has_token (head, "Transfer-Encoding", "chunked");
  gboolean length_ok = ts_actor_http_head_get_content_length (head, &content_length);

  /* Everything needed from @head is read before its bytes go away. */
  *out_reusable = head->version_minor >= 1
                      ? !ts_actor_http_head_has_token (head, "Connection", "close")
                      : ts_actor_http_head_has_token (head, "Connection", "keep-alive");
  g_byte_array_set_size (report.body, 0);
  report.body_total = 0;
  report.body_truncated = FALSE;
  g_byte_array_remove_range (c->buf, 0, (guint)head_len);
  head = NULL;
  report.chunked = chunked;

  /* RFC 9112 §6.3: no body after HEAD, 1xx, 204 and 304. */
  if (head_request || report.status < 200 || report.status == 204 || report.status == 304)
    return TRUE;

  if (chunked)
    {
      g_autoptr (GByteArray) piece = g_byte_array_new ();
      TsActorChunked dec;

      ts_actor_chunked_init (&dec);
      for (;;)
        {
          gssize used = ts_actor_chunked_feed (&dec, c->buf->data, c->buf->len, piece);
          if (used < 0)
            {
              fail (error, "malformed chunked body");
              return FALSE;
            }
          g_byte_array_remove_range (c->buf, 0, (guint)used);
          body_take (piece->data, piece->len);
          g_byte_array_set_size (piece, 0);
          if (ts_actor_chunked_is_done (&dec))
            return TRUE;
          if (c->eof)
            {
              fail (error, "connection closed inside a chunked body");
              return FALSE;
            }
          if (!conn_fill (c, error))
            return FALSE;
        }
    }

  if (!length_ok)
    {
      fail (error, "malformed Content-Length in the response");
      return FALSE;
    }
  if (content_length >= 0)
    {
      guint64 left = (guint64)content_length;

      for (;;)
        {
          gsize n = (gsize)MIN ((guint64)c->buf->len, left);

          body_take (c->buf->data, n);
          g_byte_array_remove_range (c->buf, 0, (guint)n);
          left -= n;
          if (left == 0)
            return TRUE;
          if (c->eof)
            {
              fail (error,
                    "connection closed after %" G_GUINT64_FORMAT " of %" G_GINT64_FORMAT
                    " body bytes",
                    report.body_total, content_length);
              return FALSE;
            }
          if (!conn_fill (c, error))
            return FALSE;
        }
    }

  /* Neither: the body runs to the end of the connection. */
  *out_reusable = FALSE;
  for (;;)
    {
      body_take (c->buf->data, c->buf->len);
      g_byte_array_set_size (c->buf, 0);
      if (c->eof)
        return TRUE;
      if (!conn_fill (c, error))
        return FALSE;
    }
}

static void
record_response_head (const TsActorHttpHead *head)
{
  g_free (report.reason);
  g_free (report.http_version);
  report.status = (int)head->status;
  report.reason = g_strndup (head->reason, head->reason_len);
  report.http_version = g_strdup_printf ("HTTP/1.%u", head->version_minor);
  g_ptr_array_set_size (report.response_headers, 0);
  for (guint i = 0; i < head->n_headers; i++)
    {
      g_ptr_array_add (report.response_headers,
                       g_strndup (head->headers[i].name, head->headers[i].name_len));
      g_ptr_array_add (
          report.response_headers,
          g_utf8_make_valid (head->headers[i].value, (gssize)head->headers[i].value_len));
    }
}

/* Opens the connection to the origin (or the tunnel through the proxy),
 * with TLS when @t asks for it. */
static gboolean
open_connection (Conn *c, const Target *t, SSL_CTX *ctx, GError **error)
{
  gboolean tls = t->scheme == SCHEME_HTTPS || t->scheme == SCHEME_WSS;
  gboolean tunnel
      = opt_proxy
        && (tls || t->scheme == SCHEME_WS || t->scheme == SCHEME_SMTP || opt_proxy_tunnel);

  c->buf = g_byte_array_new ();
  report.n_connections++;
  if (opt_proxy)
    {
      g_autofree char *phost = NULL;
      int pport = 0;

      split_host_port (opt_proxy, &phost, &pport);
      c->fd = tcp_connect (phost, pport, error);
    }
  else
    c->fd = tcp_connect (t->host, t->port, error);
  if (c->fd < 0)
    return FALSE;
  if (tunnel && !proxy_connect (c, t, error))
    return FALSE;
  if (tls && !tls_handshake (c, ctx, t->host, error))
    return FALSE;
  return TRUE;
}

static gboolean
run_http (const Target *t, SSL_CTX *ctx, GError **error)
{
  g_autoptr (GBytes) body = NULL;
  g_autoptr (GString) req = g_string_new (NULL);
  gboolean absolute = opt_proxy && !opt_proxy_tunnel && t->scheme == SCHEME_HTTP;
  gboolean tls = t->scheme == SCHEME_HTTPS;
  g_autofree char *host = authority (t->host, t->port, FALSE, tls ? 443 : 80);
  const char *method;
  Conn c = { .fd = -1 };
  gboolean ok = FALSE;

  if (!load_body (&body, error))
    return FALSE;
  method = opt_method ? opt_method : body ? "POST" : "GET";
  report.method = g_strdup (method);

  /* The request line: absolute-form to a forward proxy (RFC 9112 §3.2.2),
   * origin-form otherwise. */
  if (absolute)
    g_string_append_printf (req, "%s http://%s%s HTTP/1.1\r\n", method, host, t->path_query);
  else
    g_string_append_printf (req, "%s %s HTTP/1.1\r\n", method, t->path_query);
  g_string_append_printf (req, "Host: %s\r\nUser-Agent: ts-client/%s\r\nAccept: */*\r\n", host,
                          PACKAGE_VERSION);
  if (absolute)
    {
      /* Credentials go to the proxy only, never through a tunnel. */
      g_autofree char *credentials = proxy_authorization ();
      g_string_append (req, credentials);
    }
  for (guint i = 0; opt_headers && opt_headers[i]; i++)
    g_string_append_printf (req, "%s\r\n", opt_headers[i]);
  if (body)
    {
      gboolean has_ct = FALSE;
      for (guint i = 0; opt_headers && opt_headers[i]; i++)
        if (g_ascii_strncasecmp (opt_headers[i], "Content-Type:", 13) == 0)
          has_ct = TRUE;
      if (!has_ct)
        g_string_append (req, "Content-Type: application/json\r\n");
      g_string_append_printf (req, "Content-Length: %zu\r\n", g_bytes_get_size (body));
    }
  g_string_append (req, "\r\n");
  if (body)
    g_string_append_len (req, g_bytes_get_data (body, NULL), (gssize)g_bytes_get_size (body));

  for (int i = 0; i < opt_repeat; i++)
    {
      TsActorHttpHead head;
      gsize head_len = 0;
      gboolean reusable = FALSE, early = FALSE;
      gint64 sent;

      if (c.fd < 0 && !open_connection (&c, t, ctx, error))
        goto out;
      if (!conn_write_all_early (&c, req->str, req->len, &early, error))
        goto out;
      sent = now_ns ();
      /* Answered before the request was all sent: that connection is not
       * reused (the server closes it, or would read the rest as a next
       * request). */
      report.early_answer |= early;
      if (!conn_read_head (&c, &head, &head_len, i == 0 ? sent : 0,
                           absolute ? "the proxy" : "the server", error))
        goto out;
      /* 1xx interim responses (100 Continue) come before the final one. */
      while (head.status >= 100 && head.status < 200)
        {
          g_byte_array_remove_range (c.buf, 0, (guint)head_len);
          if (!conn_read_head (&c, &head, &head_len, 0, "the server", error))
            goto out;
        }
      record_response_head (&head);
      if (absolute)
        report.proxy_status = (int)head.status;
      if (!read_body (&c, &head, head_len, strcmp (method, "HEAD") == 0, &reusable, error))
        goto out;
      if (early)
        reusable = FALSE;
      if (i == 0 && report.t_first_byte >= 0)
        report.t_transfer = now_ns () - sent - report.t_first_byte;
      report.n_requests++;
      g_array_append_val (report.statuses, report.status);
      if (!reusable)
        conn_clear (&c);
    }
  ok = TRUE;

out:
  conn_clear (&c);
  return ok;
}

static gboolean
run_websocket (const Target *t, SSL_CTX *ctx, GError **error)
{
  gboolean tls = t->scheme == SCHEME_WSS;
  g_autofree char *host = authority (t->host, t->port, FALSE, tls ? 443 : 80);
  g_autofree char *key = NULL;
  g_autofree char *expect = NULL;
  g_autofree char *req = NULL;
  g_autoptr (GByteArray) frame = g_byte_array_new ();
  g_autoptr (GByteArray) echo = g_byte_array_new ();
  const char *message = opt_message ? opt_message : "hello from ts-client";
  guint8 nonce[16], mask[4];
  TsActorHttpHead head;
  gsize head_len = 0;
  gboolean reusable;
  Conn c = { .fd = -1 };
  gboolean ok = FALSE;
  gint64 sent;

  report.method = g_strdup ("GET");
  if (!open_connection (&c, t, ctx, error))
    goto out;

  RAND_bytes (nonce, sizeof nonce);
  key = g_base64_encode (nonce, sizeof nonce);
  expect = ts_ws_accept_for_key (key, strlen (key));
  req = g_strdup_printf ("GET %s HTTP/1.1\r\n"
                         "Host: %s\r\n"
                         "User-Agent: ts-client/%s\r\n"
                         "Upgrade: websocket\r\n"
                         "Connection: Upgrade\r\n"
                         "Sec-WebSocket-Key: %s\r\n"
                         "Sec-WebSocket-Version: 13\r\n"
                         "\r\n",
                         t->path_query, host, PACKAGE_VERSION, key);
  if (!conn_write_all (&c, req, strlen (req), error))
    goto out;
  sent = now_ns ();
  if (!conn_read_head (&c, &head, &head_len, sent, "the server", error))
    goto out;
  record_response_head (&head);
  report.n_requests = 1;
  if (head.status != 101)
    {
      read_body (&c, &head, head_len, FALSE, &reusable, NULL);
      fail (error, "the server did not switch to WebSocket: %u %s", head.status, report.reason);
      goto out;
    }
  {
    g_autofree char *accept = head_dup (&head, "Sec-WebSocket-Accept");
    if (accept == NULL || strcmp (accept, expect) != 0)
      {
        fail (error, "wrong Sec-WebSocket-Accept %s (expected %s, RFC 6455 §4.1)",
              accept ? accept : "(none)", expect);
        goto out;
      }
  }
  g_byte_array_remove_range (c.buf, 0, (guint)head_len);

  /* One masked text frame (a client must mask, RFC 6455 §5.3). */
  RAND_bytes (mask, sizeof mask);
  ts_ws_frame_append (frame, TRUE, TS_WS_OPCODE_TEXT, mask, message, strlen (message));
  if (!conn_write_all (&c, frame->data, frame->len, error))
    goto out;
  report.sent = g_strdup (message);

  for (;;)
    {
      TsWsFrame f;
      gssize n = ts_ws_frame_parse (&f, c.buf->data, c.buf->len);

      if (n == TS_PARSE_INCOMPLETE)
        {
          if (c.eof)
            {
              fail (error, "the server closed the connection before echoing");
              goto out;
            }
          if (!conn_fill (&c, error))
            goto out;
          continue;
        }
      if (n < 0 || f.masked)
        {
          fail (error, "the server sent a malformed or masked WebSocket frame");
          goto out;
        }
      if (f.opcode == TS_WS_OPCODE_CLOSE)
        {
          fail (error, "the server closed the WebSocket before echoing");
          goto out;
        }
      if (f.opcode == TS_WS_OPCODE_TEXT || f.opcode == TS_WS_OPCODE_CONTINUATION
          || f.opcode == TS_WS_OPCODE_BINARY)
        g_byte_array_append (echo, f.payload, (guint)f.payload_len);
      g_byte_array_remove_range (c.buf, 0, (guint)n);
      if (f.fin && f.opcode != TS_WS_OPCODE_PING && f.opcode != TS_WS_OPCODE_PONG)
        break;
    }
  report.received = g_utf8_make_valid ((const char *)echo->data, echo->len);
  report.echo_ok = echo->len == strlen (message)
                   && (echo->len == 0 || memcmp (echo->data, message, echo->len) == 0);

  /* Close politely: 1000, then wait for the server's close. */
  g_byte_array_set_size (frame, 0);
  RAND_bytes (mask, sizeof mask);
  ts_ws_frame_append (frame, TRUE, TS_WS_OPCODE_CLOSE, mask, "\x03\xe8", 2);
  if (conn_write_all (&c, frame->data, frame->len, NULL))
    {
      while (!c.eof)
        {
          TsWsFrame f;
          gssize n = ts_ws_frame_parse (&f, c.buf->data, c.buf->len);
          if (n > 0 && f.opcode == TS_WS_OPCODE_CLOSE)
            break;
          if (n > 0)
            g_byte_array_remove_range (c.buf, 0, (guint)n);
          else if (n != TS_PARSE_INCOMPLETE || !conn_fill (&c, NULL))
            break;
        }
    }
  if (!report.echo_ok)
    {
      fail (error, "the echo differs from what was sent");
      goto out;
    }
  ok = TRUE;

out:
  conn_clear (&c);
  return ok;
}

/* ---- SMTP: the banner, for the port-policy lesson -----------------------------------------------
 */

#define CLIENT_MAX_SMTP_LINE 1000 /* bytes in an SMTP reply line (RFC 5321 §4.5.3.1.5) */

/* Reads one reply line (without CRLF) into @out_line (transfer full). */
static gboolean
smtp_read_line (Conn *c, char **out_line, GError **error)
{
  for (;;)
    {
      guint8 *nl = c->buf->len ? memchr (c->buf->data, '\n', c->buf->len) : NULL;

      if (nl != NULL)
        {
          gsize len = (gsize)(nl - c->buf->data);
          char *line = g_strndup ((const char *)c->buf->data, len);
          g_byte_array_remove_range (c->buf, 0, (guint)len + 1);
          *out_line = g_utf8_make_valid (g_strchomp (line), -1);
          g_free (line);
          return TRUE;
        }
      if (c->buf->len > CLIENT_MAX_SMTP_LINE)
        {
          fail (error, "the server sent a line over %d bytes", CLIENT_MAX_SMTP_LINE);
          return FALSE;
        }
      if (c->eof)
        {
          fail (error, "the server closed the connection");
          return FALSE;
        }
      if (!conn_fill (c, error))
        return FALSE;
    }
}

/* Reads a reply (its continuation lines "250-" up to the last "250 ") and
 * returns its code, or -1. */
static int
smtp_read_reply (Conn *c, char **out_last, GError **error)
{
  for (guint i = 0; i < 100; i++)
    {
      g_autofree char *line = NULL;

      if (!smtp_read_line (c, &line, error))
        return -1;
      if (strlen (line) < 3 || !g_ascii_isdigit (line[0]) || !g_ascii_isdigit (line[1])
          || !g_ascii_isdigit (line[2]))
        {
          fail (error, "the server's reply is not SMTP: %s", line);
          return -1;
        }
      if (line[3] != '-')
        {
          int code = atoi (line);
          *out_last = g_steal_pointer (&line);
          return code;
        }
    }
  fail (error, "the server's reply has over 100 lines");
  return -1;
}

static gboolean
run_smtp (const Target *t, GError **error)
{
  static const char ehlo[] = "EHLO client.test\r\n";
  static const char quit[] = "QUIT\r\n";
  g_autofree char *banner = NULL;
  g_autofree char *reply = NULL;
  Conn c = { .fd = -1 };
  gboolean ok = FALSE;
  gint64 t0;
  int code;

  if (!open_connection (&c, t, NULL, error))
    goto out;
  t0 = now_ns ();
  /* The server speaks first (RFC 5321 §4.3.1). */
  code = smtp_read_reply (&c, &banner, error);
  if (code < 0)
    goto out;
  report.t_first_byte = now_ns () - t0;
  set_field (&report.received, g_strdup (banner));
  if (code != 220)
    {
      fail (error, "the server greeted with %s, not 220", banner);
      goto out;
    }
  set_field (&report.sent, g_strdup ("EHLO client.test, QUIT"));
  if (!conn_write_all (&c, ehlo, strlen (ehlo), error)
      || smtp_read_reply (&c, &reply, error) != 250)
    {
      fail (error, "EHLO was not accepted: %s", reply ? reply : "(no reply)");
      goto out;
    }
  g_clear_pointer (&reply, g_free);
  if (conn_write_all (&c, quit, strlen (quit), error))
    smtp_read_reply (&c, &reply, NULL);
  report.echo_ok = TRUE;
  ok = TRUE;

out:
  conn_clear (&c);
  return ok;
}

/* ---- UDP and DNS --------------------------------------------------------------------------------
 */

static gboolean
run_udp (const Target *t, GError **error)
{
  GList *addrs;
  struct sockaddr_storage ss;
  GSocketAddress *sa;
  int fd = -1;
  gboolean ok = FALSE;
  guint16 id = 0;
  GBytes *query = NULL;
  const char *message = opt_message ? opt_message : "hello from ts-client";
  const guint8 *data;
  gsize len;
  guint16 qtype = TS_DNS_TYPE_A;
  gint64 t0;

  if (opt_proxy)
    {
      /* A CONNECT tunnel is a TCP byte stream (RFC 9110 §9.3.6): a datagram
       * has no way through it. MASQUE's CONNECT-UDP (RFC 9298) would be one. */
      fail (error,
            "cannot send UDP through proxy %s: HTTP CONNECT carries only TCP streams; "
            "UDP needs CONNECT-UDP (RFC 9298)",
            opt_proxy);
      return FALSE;
    }
  if (t->scheme == SCHEME_DNS)
    {
      const char *name = t->path_query + 1;
      if (opt_dns_type && g_ascii_strcasecmp (opt_dns_type, "AAAA") == 0)
        qtype = TS_DNS_TYPE_AAAA;
      RAND_bytes ((guint8 *)&id, sizeof id);
      query = ts_dns_message_build_query (id, name, qtype);
      if (query == NULL || *name == '\0')
        {
          g_clear_pointer (&query, g_bytes_unref);
          fail (error, "dns:// URL needs a valid name as its path, as dns://SERVER/example.com");
          return FALSE;
        }
      data = g_bytes_get_data (query, &len);
      report.sent = g_strdup_printf ("%s %s", name, ts_dns_type_to_string (qtype));
    }
  else
    {
      data = (const guint8 *)message;
      len = strlen (message);
      report.sent = g_strdup (message);
    }

  addrs = resolve (t->host, t->port, error);
  if (addrs == NULL)
    {
      g_clear_pointer (&query, g_bytes_unref);
      return FALSE;
    }
  sa = addrs->data;
  g_socket_address_to_native (sa, &ss, sizeof ss, NULL);
  set_field (&report.connected_to, socket_address_to_string (sa));
  fd = socket (ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0
      || connect (fd, (struct sockaddr *)&ss, (socklen_t)g_socket_address_get_native_size (sa)) < 0)
    {
      fail (error, "cannot open a UDP socket to %s: %s", report.connected_to, g_strerror (errno));
      goto out;
    }

  t0 = now_ns ();
  /* Datagrams get lost: send again every second until the deadline. */
  for (;;)
    {
      guint8 buf[65536];
      struct pollfd p = { fd, POLLIN, 0 };
      gssize n;
      int r;

      if (send (fd, data, len, 0) < 0 && errno != ECONNREFUSED)
        {
          fail (error, "send to %s: %s", report.connected_to, g_strerror (errno));
          goto out;
        }
      r = poll (&p, 1, MIN (1000, ms_left ()));
      if (r == 0)
        {
          if (ms_left () == 0)
            {
              fail (error, "no answer from %s within %.1f s", report.connected_to, opt_timeout);
              goto out;
            }
          continue;
        }
      n = recv (fd, buf, sizeof buf, 0);
      if (n < 0)
        {
          fail (error, "no answer from %s: %s", report.connected_to, g_strerror (errno));
          goto out;
        }
      report.t_first_byte = now_ns () - t0;
      if (t->scheme == SCHEME_UDP)
        {
          report.received = g_utf8_make_valid ((const char *)buf, n);
          report.echo_ok = (gsize)n == len && (len == 0 || memcmp (buf, data, len) == 0);
          if (!report.echo_ok)
            fail (error, "the echo differs from what was sent");
          ok = report.echo_ok;
          goto out;
        }
      else
        {
          TsDnsMessage m;
          g_autoptr (GError) perr = NULL;

          if (!ts_dns_message_parse_response (&m, buf, (gsize)n, &perr) || m.id != id)
            continue; /* not our answer */
          report.dns_rcode = g_strdup (
              ts_dns_rcode_to_string (m.rcode) ? ts_dns_rcode_to_string (m.rcode) : "?");
          for (guint i = 0; i < m.n_answers; i++)
            g_ptr_array_add (report.dns_answers, g_inet_address_to_string (m.answers[i]));
          ts_dns_message_clear (&m);
          if (m.rcode != TS_DNS_RCODE_NOERROR)
            fail (error, "DNS answer %s for %s", report.dns_rcode, t->path_query + 1);
          else if (report.dns_answers->len == 0)
            fail (error, "no %s record for %s", ts_dns_type_to_string (qtype), t->path_query + 1);
          ok = m.rcode == TS_DNS_RCODE_NOERROR && report.dns_answers->len > 0;
          goto out;
        }
    }

out:
  if (fd >= 0)
    close (fd);
  g_list_free_full (addrs, g_object_unref);
  g_clear_pointer (&query, g_bytes_unref);
  return ok;
}

/* ---- output -------------------------------------------------------------------------------------
 */

static char *
ms (gint64 ns)
{
  return ns < 0 ? NULL : g_strdup_printf ("%.3f", (double)ns / 1e6);
}

static void
add_string (JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name (b, name);
  if (value)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

static void
add_ms (JsonBuilder *b, const char *name, gint64 ns)
{
  json_builder_set_member_name (b, name);
  if (ns < 0)
    json_builder_add_null_value (b);
  else
    json_builder_add_double_value (b, (double)ns / 1e6);
}

static void
add_int (JsonBuilder *b, const char *name, gint64 value)
{
  json_builder_set_member_name (b, name);
  if (value < 0)
    json_builder_add_null_value (b);
  else
    json_builder_add_int_value (b, value);
}

static void
print_json (Scheme scheme)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *text = NULL;

  json_builder_begin_object (b);
  add_string (b, "url", report.url);
  json_builder_set_member_name (b, "ok");
  json_builder_add_boolean_value (b, report.ok);
  add_string (b, "error", report.error);
  add_string (b, "method", report.method);
  add_string (b, "mode", report.mode);
  add_string (b, "proxy", report.proxy);
  add_int (b, "proxy_status", report.proxy_status);
  add_string (b, "proxy_reason", report.proxy_reason);
  add_string (b, "connected_to", report.connected_to);
  add_int (b, "status", report.status);
  add_string (b, "reason", report.reason);
  json_builder_set_member_name (b, "answered_before_request_sent");
  json_builder_add_boolean_value (b, report.early_answer);
  add_string (b, "http_version", report.http_version);
  add_int (b, "requests", report.n_requests);
  add_int (b, "connections", report.n_connections);
  json_builder_set_member_name (b, "statuses");
  json_builder_begin_array (b);
  for (guint i = 0; i < report.statuses->len; i++)
    json_builder_add_int_value (b, g_array_index (report.statuses, int, i));
  json_builder_end_array (b);
  json_builder_set_member_name (b, "headers");
  json_builder_begin_array (b);
  for (guint i = 0; i + 1 < report.response_headers->len; i += 2)
    {
      json_builder_begin_array (b);
      json_builder_add_string_value (b, report.response_headers->pdata[i]);
      json_builder_add_string_value (b, report.response_headers->pdata[i + 1]);
      json_builder_end_array (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "chunked");
  json_builder_add_boolean_value (b, report.chunked);
  add_int (b, "body_length", scheme <= SCHEME_HTTPS ? (gint64)report.body_total : -1);
  json_builder_set_member_name (b, "body");
  if (scheme <= SCHEME_HTTPS && !report.body_truncated && report.body->len <= CLIENT_MAX_BODY_SHOWN
      && g_utf8_validate ((const char *)report.body->data, report.body->len, NULL))
    {
      g_autofree char *s = g_strndup ((const char *)report.body->data, report.body->len);
      json_builder_add_string_value (b, s);
    }
  else
    json_builder_add_null_value (b);

  json_builder_set_member_name (b, "tls");
  if (report.tls)
    {
      json_builder_begin_object (b);
      add_string (b, "sni", report.sni);
      add_string (b, "version", report.tls_version);
      add_string (b, "cipher", report.cipher);
      add_string (b, "alpn", report.alpn);
      add_string (b, "verify", report.verify);
      json_builder_set_member_name (b, "trusted");
      json_builder_begin_array (b);
      for (guint i = 0; i < report.trusted->len; i++)
        json_builder_add_string_value (b, report.trusted->pdata[i]);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "certificate");
      if (report.cert_subject)
        {
          json_builder_begin_object (b);
          add_string (b, "subject", report.cert_subject);
          add_string (b, "issuer", report.cert_issuer);
          add_string (b, "sha256", report.cert_sha256);
          add_string (b, "pin", report.cert_pin);
          add_string (b, "not_after", report.cert_not_after);
          json_builder_end_object (b);
        }
      else
        json_builder_add_null_value (b);
      json_builder_end_object (b);
    }
  else
    json_builder_add_null_value (b);

  if (scheme == SCHEME_SMTP)
    {
      json_builder_set_member_name (b, "smtp");
      json_builder_begin_object (b);
      add_string (b, "banner", report.received);
      add_string (b, "sent", report.sent);
      json_builder_end_object (b);
    }
  if (scheme == SCHEME_WS || scheme == SCHEME_WSS || scheme == SCHEME_UDP)
    {
      json_builder_set_member_name (b, scheme == SCHEME_UDP ? "udp" : "websocket");
      json_builder_begin_object (b);
      add_string (b, "sent", report.sent);
      add_string (b, "received", report.received);
      json_builder_set_member_name (b, "echo_ok");
      json_builder_add_boolean_value (b, report.echo_ok);
      json_builder_end_object (b);
    }
  if (scheme == SCHEME_DNS)
    {
      json_builder_set_member_name (b, "dns");
      json_builder_begin_object (b);
      add_string (b, "query", report.sent);
      add_string (b, "rcode", report.dns_rcode);
      json_builder_set_member_name (b, "answers");
      json_builder_begin_array (b);
      for (guint i = 0; i < report.dns_answers->len; i++)
        json_builder_add_string_value (b, report.dns_answers->pdata[i]);
      json_builder_end_array (b);
      json_builder_end_object (b);
    }

  json_builder_set_member_name (b, "timing_ms");
  json_builder_begin_object (b);
  add_ms (b, "resolve", report.t_resolve);
  add_ms (b, "tcp_connect", report.t_tcp);
  add_ms (b, "proxy_connect", report.t_proxy);
  add_ms (b, "tls_handshake", report.t_tls);
  add_ms (b, "first_byte", report.t_first_byte);
  add_ms (b, "transfer", report.t_transfer);
  add_ms (b, "total", report.t_total);
  json_builder_end_object (b);
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  text = json_generator_to_data (gen, NULL);
  printf ("%s\n", text);
}

static void
print_text (Scheme scheme)
{
  g_autofree char *t_tcp = ms (report.t_tcp);
  g_autofree char *t_proxy = ms (report.t_proxy);
  g_autofree char *t_tls = ms (report.t_tls);
  g_autofree char *t_fb = ms (report.t_first_byte);
  g_autofree char *t_transfer = ms (report.t_transfer);
  g_autofree char *t_total = ms (report.t_total);

  printf ("url:         %s\n", report.url);
  if (report.proxy)
    {
      printf ("proxy:       %s (%s)", report.proxy, report.mode);
      if (report.proxy_status >= 0)
        printf (", answered %d %s", report.proxy_status,
                report.proxy_reason ? report.proxy_reason : "");
      printf ("\n");
    }
  if (report.connected_to)
    printf ("connected:   %s\n", report.connected_to);
  if (report.tls)
    {
      printf ("tls:         %s %s alpn=%s sni=%s\n", report.tls_version ? report.tls_version : "-",
              report.cipher ? report.cipher : "-", report.alpn ? report.alpn : "-",
              report.sni ? report.sni : "-");
      if (report.cert_subject)
        {
          printf ("certificate: subject %s\n", report.cert_subject);
          printf ("             issuer  %s\n", report.cert_issuer);
          printf ("             sha256  %s\n", report.cert_sha256);
          printf ("             pin     %s\n", report.cert_pin ? report.cert_pin : "-");
        }
      printf ("verify:      %s (trusting: ", report.verify ? report.verify : "-");
      for (guint i = 0; i < report.trusted->len; i++)
        printf ("%s%s", i ? "; " : "", (char *)report.trusted->pdata[i]);
      printf (")\n");
    }
  if (report.status >= 0)
    printf ("status:      %s %d %s\n", report.http_version, report.status, report.reason);
  if (scheme <= SCHEME_HTTPS && report.status >= 0)
    printf ("body:        %" G_GUINT64_FORMAT " bytes%s; %u request(s) on %u connection(s)\n",
            report.body_total, report.chunked ? " (chunked)" : "", report.n_requests,
            report.n_connections);
  if (report.early_answer)
    printf ("note:        answered before the request was all sent (the rest was not sent)\n");
  if (report.sent)
    printf ("sent:        %s\n", report.sent);
  if (report.received && scheme == SCHEME_SMTP)
    printf ("banner:      %s\n", report.received);
  else if (report.received)
    printf ("received:    %s (%s)\n", report.received, report.echo_ok ? "echo ok" : "differs");
  if (report.dns_rcode)
    {
      printf ("dns:         %s", report.dns_rcode);
      for (guint i = 0; i < report.dns_answers->len; i++)
        printf (" %s", (char *)report.dns_answers->pdata[i]);
      printf ("\n");
    }
  printf ("timing (ms): tcp %s  connect %s  tls %s  first-byte %s  transfer %s  total %s\n",
          t_tcp ? t_tcp : "-", t_proxy ? t_proxy : "-", t_tls ? t_tls : "-", t_fb ? t_fb : "-",
          t_transfer ? t_transfer : "-", t_total ? t_total : "-");
  printf ("result:      %s%s%s\n", report.ok ? "ok" : "FAILED", report.error ? ": " : "",
          report.error ? report.error : "");
  if (opt_body && report.body->len > 0)
    {
      printf ("\n");
      fwrite (report.body->data, 1, report.body->len, stdout);
    }
}

static void
emit_result (void)
{
  g_autofree char *status = report.status >= 0 ? g_strdup_printf ("%d", report.status) : NULL;
  g_autofree char *pstatus
      = report.proxy_status >= 0 ? g_strdup_printf ("%d", report.proxy_status) : NULL;
  g_autofree char *body_len
      = report.status >= 0 ? g_strdup_printf ("%" G_GUINT64_FORMAT, report.body_total) : NULL;
  g_autofree char *t_tcp = ms (report.t_tcp);
  g_autofree char *t_proxy = ms (report.t_proxy);
  g_autofree char *t_tls = ms (report.t_tls);
  g_autofree char *t_fb = ms (report.t_first_byte);
  g_autofree char *t_transfer = ms (report.t_transfer);
  g_autofree char *t_total = ms (report.t_total);

  /* clang-format off */
  ts_actor_event_emit ("client.result",
                       "ok", report.ok ? "true" : "false",
                       "url", report.url,
                       "method", report.method,
                       "mode", report.mode,
                       "proxy", report.proxy,
                       "proxy_status", pstatus,
                       "status", status,
                       "body_length", body_len,
                       "tls_version", report.tls_version,
                       "cipher", report.cipher,
                       "alpn", report.alpn,
                       "sni", report.sni,
                       "cert_subject", report.cert_subject,
                       "cert_issuer", report.cert_issuer,
                       "cert_sha256", report.cert_sha256,
                       "verify", report.verify,
                       "t_tcp_connect_ms", t_tcp,
                       "t_proxy_connect_ms", t_proxy,
                       "t_tls_handshake_ms", t_tls,
                       "t_first_byte_ms", t_fb,
                       "t_transfer_ms", t_transfer,
                       "t_total_ms", t_total,
                       "error", report.error,
                       NULL);
  /* clang-format on */
}

/* ---- main ---------------------------------------------------------------------------------------
 */

static int usage_error (const char *format, ...) G_GNUC_PRINTF (1, 2);

static int
usage_error (const char *format, ...)
{
  g_autofree char *msg = NULL;
  va_list ap;

  va_start (ap, format);
  msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  fprintf (stderr, "%s: %s\n", PROGRAM, msg);
  return EXIT_USAGE;
}

static int
check_usage (int argc, char **argv, Target *t)
{
  g_autoptr (GError) error = NULL;

  if (argc != 2)
    return usage_error (argc < 2 ? "give a URL (see --help)" : "give one URL only (see --help)");
  if (!parse_url (argv[1], t, &error))
    return usage_error ("%s", error->message);
  if (opt_proxy)
    {
      g_autofree char *h = NULL;
      int p;
      if (!split_host_port (opt_proxy, &h, &p))
        return usage_error ("--proxy %s: use HOST:PORT", opt_proxy);
    }
  if (opt_proxy_user && (strchr (opt_proxy_user, ':') == NULL || opt_proxy == NULL))
    return usage_error ("--proxy-user needs USER:PASS and --proxy");
  for (guint i = 0; opt_resolve && opt_resolve[i]; i++)
    {
      char *last = strrchr (opt_resolve[i], ':');
      char *first = strchr (opt_resolve[i], ':');
      if (first == NULL || last == first)
        return usage_error ("--resolve %s: use NAME:PORT:ADDR", opt_resolve[i]);
    }
  for (guint i = 0; opt_headers && opt_headers[i]; i++)
    if (strchr (opt_headers[i], ':') == NULL || strpbrk (opt_headers[i], "\r\n"))
      return usage_error ("--header %s: use 'NAME: VALUE' on one line", opt_headers[i]);
  if (opt_method && (strlen (opt_method) == 0 || strpbrk (opt_method, " \t\r\n")))
    return usage_error ("--request %s is not a method token", opt_method);
  if (opt_pin && !ts_actor_tls_pin_list_is_valid (opt_pin))
    return usage_error ("--pin %s: use sha256//BASE64 (44 characters), several joined by ';'",
                        opt_pin);
  if (opt_pin_cert)
    {
      g_autoptr (GError) cert_error = NULL;
      X509 *cert = ts_lab_pki_load_cert (opt_pin_cert, &cert_error);
      g_autofree char *pin = NULL;

      if (cert == NULL)
        return usage_error ("--pin-cert: %s", cert_error->message);
      pin = ts_actor_tls_dup_pin (cert);
      X509_free (cert);
      if (pin == NULL)
        return usage_error ("--pin-cert %s: cannot encode its public key", opt_pin_cert);
      /* One list: --pin and --pin-cert add up. */
      if (opt_pin)
        {
          char *both = g_strconcat (opt_pin, ";", pin, NULL);
          g_free (opt_pin);
          opt_pin = both;
        }
      else
        opt_pin = g_steal_pointer (&pin);
    }
  if (opt_tls_version && ts_actor_tls_parse_version (opt_tls_version) == 0)
    return usage_error ("--tls-version %s: use 1.2 or 1.3", opt_tls_version);
  /* Bytes as given, whatever the locale (FILENAME options are not
   * converted); a WebSocket text message must be UTF-8 (RFC 6455 §5.6). */
  if (opt_message && !g_utf8_validate (opt_message, -1, NULL))
    return usage_error ("--message must be UTF-8 text");
  if (opt_repeat < 1 || opt_repeat > CLIENT_MAX_REPEAT)
    return usage_error ("--repeat must be from 1 to %d", CLIENT_MAX_REPEAT);
  if (opt_timeout <= 0 || opt_timeout > 3600)
    return usage_error ("--timeout must be above 0 and at most 3600 seconds");
  if (opt_dns_type && g_ascii_strcasecmp (opt_dns_type, "A") != 0
      && g_ascii_strcasecmp (opt_dns_type, "AAAA") != 0)
    return usage_error ("--dns-type %s: use A or AAAA", opt_dns_type);
  if (opt_expect_status != -1 && (opt_expect_status < 100 || opt_expect_status > 999))
    return usage_error ("--expect-status %d is not an HTTP status", opt_expect_status);
  return EXIT_OK;
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  Target t = { 0 };
  SSL_CTX *ctx = NULL;
  gboolean ok = FALSE;
  gint64 t0;
  int rc;

  /* The character set of the locale (for --help), not its number format:
   * reports and events keep "1.5", never "1,5". */
  setlocale (LC_CTYPE, "");
  g_set_prgname (PROGRAM);
  signal (SIGPIPE, SIG_IGN);
  context = g_option_context_new ("URL - the Tunnelscope client");
  g_option_context_set_summary (context, summary);
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error ("%s", error->message);
  rc = check_usage (argc, argv, &t);
  if (rc != EXIT_OK)
    {
      target_clear (&t);
      return rc;
    }

  verify_state_index = SSL_get_ex_new_index (0, NULL, NULL, NULL, NULL);
  report_init ();
  report.url = g_strdup (argv[1]);
  report.proxy = g_strdup (opt_proxy);
  if (opt_proxy == NULL)
    report.mode = g_strdup ("direct");
  else if (t.scheme == SCHEME_UDP || t.scheme == SCHEME_DNS)
    report.mode = g_strdup ("udp");
  else if (t.scheme == SCHEME_HTTP && !opt_proxy_tunnel)
    report.mode = g_strdup ("absolute-form");
  else
    report.mode = g_strdup ("connect");

  t0 = now_ns ();
  deadline_ns = t0 + (gint64)(opt_timeout * 1e9);

  if (t.scheme == SCHEME_HTTPS || t.scheme == SCHEME_WSS)
    {
      ctx = make_ssl_ctx (&error);
      if (ctx == NULL)
        goto done;
    }
  switch (t.scheme)
    {
      case SCHEME_HTTP:
      case SCHEME_HTTPS:
        ok = run_http (&t, ctx, &error);
        break;
      case SCHEME_WS:
      case SCHEME_WSS:
        ok = run_websocket (&t, ctx, &error);
        break;
      case SCHEME_UDP:
      case SCHEME_DNS:
        ok = run_udp (&t, &error);
        break;
      case SCHEME_SMTP:
        ok = run_smtp (&t, &error);
        break;
    }

  if (ok && report.status >= 0)
    {
      /* The HTTP status decides, as curl --fail does, unless told which. */
      for (guint i = 0; i < report.statuses->len; i++)
        {
          int st = g_array_index (report.statuses, int, i);
          if (opt_expect_status >= 0 ? st != opt_expect_status : st >= 400)
            {
              ok = FALSE;
              if (opt_expect_status >= 0)
                fail (&error, "status %d, expected %d", st, opt_expect_status);
              else
                fail (&error, "%s answered %d %s",
                      report.mode && strcmp (report.mode, "absolute-form") == 0
                          ? "the proxy or the server"
                          : "the server",
                      st, report.reason);
              break;
            }
        }
    }

done:
  report.t_total = now_ns () - t0;
  report.ok = ok;
  if (!ok)
    report.error = g_strdup (error ? error->message : "failed");
  if (opt_json)
    print_json (t.scheme);
  else
    print_text (t.scheme);
  if (!ok)
    fprintf (stderr, "%s: %s\n", PROGRAM, report.error);
  emit_result ();

  if (ctx)
    SSL_CTX_free (ctx);
  report_clear ();
  target_clear (&t);
  return ok ? EXIT_OK : EXIT_FAILED;
}
