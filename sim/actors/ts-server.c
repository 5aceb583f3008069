/* ts-server.c: the origin actor (example.com): HTTP and HTTPS with a small site, a JSON REST
 * API and a WebSocket echo, an SMTP-style banner, a UDP echo and a DNS responder.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One GLib main loop serves every socket. A TCP connection is a small state
 * machine (TLS handshake, HTTP/1.1 requests, then possibly WebSocket or, on the SMTP
 * port, command lines) over non-blocking I/O: each readiness event reads what
 * is there, handles every complete message, and writes what it can. Every
 * size the peer controls is capped (see the headers of the parsers and the
 * caps below), and a malformed request gets a 400 and the connection closes.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib-unix.h>
#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "ts-actor-event.h"
#include "ts-actor-tls.h"
#include "ts-dns-message.h"
#include "ts-actor-chunked.h"
#include "ts-actor-http-head.h"
#include "ts-lab-pki.h"
#include "ts-ws-frame.h"

#define PROGRAM "ts-server"

/* Caps on what peers control. */
#define SERVER_MAX_BODY (1 << 20)        /* bytes in a request body */
#define SERVER_MAX_CONNECTIONS 1024      /* open TCP connections at once */
#define SERVER_MAX_ORDERS 1000           /* orders kept by the REST API */
#define SERVER_MAX_SMTP_LINE 1000        /* bytes in an SMTP command line (RFC 5321 §4.5.3.1.4) */
#define SERVER_MAX_CHUNKS 1000           /* chunks /chunked?n= may ask for */
#define SERVER_MAX_PENDING_OUT (4 << 20) /* unsent bytes before we stop reading */
#define SERVER_READ_SIZE 16384

typedef enum
{
  SERVICE_HTTP,
  SERVICE_HTTPS,
  SERVICE_SMTP,
  SERVICE_UDP_ECHO,
  SERVICE_DNS,
  N_SERVICES
} Service;

static const char *const service_names[N_SERVICES] = { "http", "https", "smtp", "udp-echo", "dns" };

typedef enum
{
  MODE_HTTP,
  MODE_WEBSOCKET,
  MODE_SMTP,
} ConnMode;

typedef struct _Server Server;

typedef struct
{
  Server *server;
  int fd;
  guint watch_id;
  GIOCondition watch_cond;
  SSL *ssl;
  gboolean handshake_done;
  gboolean want_write; /* the last TLS call asked for writability */
  ConnMode mode;
  GByteArray *in;
  GByteArray *out;
  gboolean close_after_flush;
  gboolean peer_closed;
  gboolean closed;
  gboolean lingering;     /* our side is shut down; draining what the peer still sends */
  gboolean sent_continue; /* a 100 Continue went out for the request being read */
  guint n_requests;
  char *peer;
  gint64 last_activity;
  /* WebSocket message being reassembled. */
  GByteArray *ws_message;
  guint ws_opcode;
} Conn;

struct _Server
{
  GMainLoop *loop;
  char *name;
  SSL_CTX *ssl_ctx;
  int fds[N_SERVICES];
  GHashTable *conns; /* Conn* set */
  guint idle_timeout_s;
  /* REST API state. */
  JsonArray *orders;
  gint64 next_order_id;
  /* DNS: lower-case name -> GPtrArray of GInetAddress. */
  GHashTable *dns_names;
};

static void conn_pump (Conn *c);

/* ---- connections ------------------------------------------------------------------------ */

static char *
sockaddr_to_string (const struct sockaddr_storage *ss)
{
  char host[INET6_ADDRSTRLEN] = "?";
  guint port = 0;

  if (ss->ss_family == AF_INET)
    {
      const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
      inet_ntop (AF_INET, &s4->sin_addr, host, sizeof host);
      port = ntohs (s4->sin_port);
      return g_strdup_printf ("%s:%u", host, port);
    }
  if (ss->ss_family == AF_INET6)
    {
      const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
      if (IN6_IS_ADDR_V4MAPPED (&s6->sin6_addr))
        inet_ntop (AF_INET, &s6->sin6_addr.s6_addr[12], host, sizeof host);
      else
        {
          char a[INET6_ADDRSTRLEN];
          inet_ntop (AF_INET6, &s6->sin6_addr, a, sizeof a);
          g_snprintf (host, sizeof host, "[%s]", a);
        }
      port = ntohs (s6->sin6_port);
    }
  return g_strdup_printf ("%s:%u", host, port);
}

static void
conn_free (Conn *c)
{
  if (c->watch_id)
    g_source_remove (c->watch_id);
  if (c->ssl)
    SSL_free (c->ssl);
  if (c->fd >= 0)
    close (c->fd);
  g_byte_array_unref (c->in);
  g_byte_array_unref (c->out);
  g_clear_pointer (&c->ws_message, g_byte_array_unref);
  g_free (c->peer);
  g_free (c);
}

static gboolean conn_ready_cb (int fd, GIOCondition cond, gpointer user_data);

static void
conn_close (Conn *c)
{
  if (c->closed)
    return;
  c->closed = TRUE;
  /* A close_notify tells the client the response is complete (RFC 8446 §6.1). */
  if (c->ssl && c->handshake_done)
    SSL_shutdown (c->ssl);
  if (!c->peer_closed && c->fd >= 0)
    {
      /* Closing with unread input makes the kernel send a reset, which can
       * destroy the response (a 400 or 413) before the client reads it.
       * So shut down our side and drain for a moment first ("lingering
       * close", RFC 9112 §9.6). */
      shutdown (c->fd, SHUT_WR);
      c->lingering = TRUE;
      c->last_activity = g_get_monotonic_time ();
      if (c->watch_id)
        g_source_remove (c->watch_id);
      c->watch_cond = G_IO_IN;
      c->watch_id = g_unix_fd_add (c->fd, G_IO_IN | G_IO_ERR, conn_ready_cb, c);
      return;
    }
  g_hash_table_remove (c->server->conns, c);
}

static void
conn_destroy (Conn *c)
{
  g_hash_table_remove (c->server->conns, c);
}

static gboolean
conn_ready_cb (int fd, GIOCondition cond, gpointer user_data)
{
  Conn *c = user_data;

  if (c->lingering)
    {
      guint8 sink[4096];
      gssize n = read (fd, sink, sizeof sink);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) || (cond & G_IO_ERR))
        {
          c->watch_id = 0;
          conn_destroy (c);
          return G_SOURCE_REMOVE;
        }
      return G_SOURCE_CONTINUE;
    }
  c->last_activity = g_get_monotonic_time ();
  if (cond & (G_IO_ERR | G_IO_NVAL))
    {
      c->watch_id = 0;
      c->peer_closed = TRUE;
      conn_close (c);
      return G_SOURCE_REMOVE;
    }
  conn_pump (c);
  return G_SOURCE_CONTINUE;
}

static void
conn_update_watch (Conn *c)
{
  GIOCondition cond = 0;

  if (!c->peer_closed && c->out->len < SERVER_MAX_PENDING_OUT && !c->close_after_flush)
    cond |= G_IO_IN;
  if (c->out->len > 0 || c->want_write)
    cond |= G_IO_OUT;
  if (cond == 0)
    cond = G_IO_IN; /* still notice errors */
  if (c->watch_id && cond == c->watch_cond)
    return;
  if (c->watch_id)
    g_source_remove (c->watch_id);
  c->watch_cond = cond;
  c->watch_id = g_unix_fd_add (c->fd, cond | G_IO_ERR, conn_ready_cb, c);
}

/* Reads into @buf. Returns > 0 bytes, 0 at end of stream, -1 when it would
 * block, -2 on error. */
static gssize
conn_read (Conn *c, guint8 *buf, gsize len)
{
  if (c->ssl)
    {
      size_t n = 0;
      int err;

      if (SSL_read_ex (c->ssl, buf, len, &n) == 1)
        return (gssize)n;
      err = SSL_get_error (c->ssl, 0);
      if (err == SSL_ERROR_WANT_READ)
        return -1;
      if (err == SSL_ERROR_WANT_WRITE)
        {
          c->want_write = TRUE;
          return -1;
        }
      if (err == SSL_ERROR_ZERO_RETURN)
        return 0;
      ERR_clear_error ();
      return -2;
    }
  else
    {
      gssize n = read (c->fd, buf, len);
      if (n >= 0)
        return n;
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return -1;
      return -2;
    }
}

static gssize
conn_write (Conn *c, const guint8 *buf, gsize len)
{
  if (c->ssl)
    {
      size_t n = 0;
      int err;

      if (SSL_write_ex (c->ssl, buf, len, &n) == 1)
        return (gssize)n;
      err = SSL_get_error (c->ssl, 0);
      if (err == SSL_ERROR_WANT_WRITE)
        {
          c->want_write = TRUE;
          return -1;
        }
      if (err == SSL_ERROR_WANT_READ)
        return -1;
      ERR_clear_error ();
      return -2;
    }
  else
    {
      gssize n = send (c->fd, buf, len, MSG_NOSIGNAL);
      if (n >= 0)
        return n;
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return -1;
      return -2;
    }
}

static void out_printf (Conn *c, const char *format, ...) G_GNUC_PRINTF (2, 3);

static void
out_printf (Conn *c, const char *format, ...)
{
  g_autofree char *s = NULL;
  va_list ap;

  va_start (ap, format);
  s = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_byte_array_append (c->out, (const guint8 *)s, (guint)strlen (s));
}

/* ---- HTTP ----------------------------------------------------------------------------------- */

typedef struct
{
  const TsActorHttpHead *head;
  char *method;
  char *target;
  char *path;  /* target without query, origin-form */
  char *query; /* or NULL */
  char *host;  /* Host field or NULL */
  const guint8 *body;
  gsize body_len;
  gboolean keep_alive;
  gboolean head_only;
} Request;

static void
request_clear (Request *r)
{
  g_free (r->method);
  g_free (r->target);
  g_free (r->path);
  g_free (r->query);
  g_free (r->host);
}

static const char *
status_reason (guint status)
{
  switch (status)
    {
      case 101:
        return "Switching Protocols";
      case 200:
        return "OK";
      case 201:
        return "Created";
      case 204:
        return "No Content";
      case 400:
        return "Bad Request";
      case 404:
        return "Not Found";
      case 405:
        return "Method Not Allowed";
      case 413:
        return "Content Too Large";
      case 426:
        return "Upgrade Required";
      case 431:
        return "Request Header Fields Too Large";
      case 501:
        return "Not Implemented";
      case 503:
        return "Service Unavailable";
      default:
        return "Unknown";
    }
}

static const char *
conn_scheme (Conn *c)
{
  return c->ssl ? "https" : "http";
}

static void
emit_request_event (Conn *c, Request *req, guint status)
{
  g_autofree char *status_s = g_strdup_printf ("%u", status);
  g_autofree char *n_s = g_strdup_printf ("%u", c->n_requests);
  g_autofree char *body_s = g_strdup_printf ("%zu", req->body_len);

  ts_actor_event_emit ("server.request", "method", req->method, "target", req->target, "status",
                       status_s, "scheme", conn_scheme (c), "host", req->host, "peer", c->peer,
                       "tls", c->ssl ? SSL_get_version (c->ssl) : NULL, "conn_requests", n_s,
                       "request_body", body_s, NULL);
}

static void
http_date (char *buf, gsize len)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *s = g_date_time_format (now, "%a, %d %b %Y %H:%M:%S GMT");
  g_strlcpy (buf, s, len);
}

/* Writes the status line and the common fields; the caller adds its own
 * and the empty line. */
static void
respond_head (Conn *c, Request *req, guint status)
{
  char date[64];

  http_date (date, sizeof date);
  out_printf (c,
              "HTTP/1.1 %u %s\r\n"
              "Date: %s\r\n"
              "Server: ts-server/%s\r\n"
              "X-Ts-Connection-Requests: %u\r\n",
              status, status_reason (status), date, PACKAGE_VERSION, c->n_requests);
  if (!req->keep_alive)
    out_printf (c, "Connection: close\r\n");
  else if (req->head && req->head->version_minor == 0)
    out_printf (c, "Connection: keep-alive\r\n");
}

static void
respond (Conn *c, Request *req, guint status, const char *content_type, const char *body,
         gsize body_len, const char *extra_fields)
{
  respond_head (c, req, status);
  if (content_type)
    out_printf (c, "Content-Type: %s\r\n", content_type);
  out_printf (c, "Content-Length: %zu\r\n%s\r\n", body_len, extra_fields ? extra_fields : "");
  if (!req->head_only && body_len > 0)
    g_byte_array_append (c->out, (const guint8 *)body, (guint)body_len);
  emit_request_event (c, req, status);
  if (!req->keep_alive)
    c->close_after_flush = TRUE;
}

static void
respond_text_with (Conn *c, Request *req, guint status, const char *text, const char *extra_fields)
{
  g_autofree char *body = g_strdup_printf ("%u %s: %s\n", status, status_reason (status), text);
  respond (c, req, status, "text/plain; charset=utf-8", body, strlen (body), extra_fields);
}

static void
respond_text (Conn *c, Request *req, guint status, const char *text)
{
  respond_text_with (c, req, status, text, NULL);
}

static void
respond_json (Conn *c, Request *req, guint status, JsonNode *node, const char *extra_fields)
{
  g_autofree char *body = json_to_string (node, TRUE);
  g_autofree char *with_nl = g_strconcat (body, "\n", NULL);
  respond (c, req, status, "application/json", with_nl, strlen (with_nl), extra_fields);
}

/* A bad request that could not even be parsed: answer and close. */
static void
respond_malformed (Conn *c, guint status, const char *why)
{
  Request req = { .method = g_strdup ("-"), .target = g_strdup ("-") };
  respond_text (c, &req, status, why);
  c->close_after_flush = TRUE;
  request_clear (&req);
}

#define PAGE_INDEX                                                                                 \
  "<!DOCTYPE html>\n"                                                                              \
  "<html lang=\"en\">\n"                                                                           \
  "<head><meta charset=\"utf-8\"><title>%s</title></head>\n"                                       \
  "<body>\n"                                                                                       \
  "<h1>Welcome to %s</h1>\n"                                                                       \
  "<p>This is the origin server of the Tunnelscope lab. Every byte you see here\n"                 \
  "travelled through the lab's links, and the trace shows who could read it.</p>\n"                \
  "<ul>\n"                                                                                         \
  "<li><a href=\"/about.html\">About this site</a></li>\n"                                         \
  "<li><a href=\"/api/orders\">The orders API</a> (JSON, GET and POST)</li>\n"                     \
  "<li><a href=\"/chunked\">A chunked response</a></li>\n"                                         \
  "<li><a href=\"/headers\">The request headers as this server received them</a></li>\n"           \
  "<li>A WebSocket echo at <code>/ws</code></li>\n"                                                \
  "</ul>\n"                                                                                        \
  "</body>\n"                                                                                      \
  "</html>\n"

#define PAGE_ABOUT                                                                                 \
  "<!DOCTYPE html>\n"                                                                              \
  "<html lang=\"en\">\n"                                                                           \
  "<head><meta charset=\"utf-8\"><title>About %s</title></head>\n"                                 \
  "<body>\n"                                                                                       \
  "<h1>About %s</h1>\n"                                                                            \
  "<p>%s is served by ts-server, the origin actor of Tunnelscope. Its certificate\n"               \
  "is signed by the Lab Web Root CA, which stands for the public web PKI inside the lab.</p>\n"    \
  "<p><a href=\"/\">Back home</a></p>\n"                                                           \
  "</body>\n"                                                                                      \
  "</html>\n"

static void
handle_page (Conn *c, Request *req, gboolean about)
{
  const char *n = c->server->name;
  g_autofree char *body
      = about ? g_strdup_printf (PAGE_ABOUT, n, n, n) : g_strdup_printf (PAGE_INDEX, n, n);

  respond (c, req, 200, "text/html; charset=utf-8", body, strlen (body), NULL);
}

static gboolean
method_allowed (Conn *c, Request *req, const char *allow)
{
  g_auto (GStrv) methods = g_strsplit (allow, ", ", -1);
  g_autofree char *field = NULL;

  if (g_strv_contains ((const char *const *)methods, req->method))
    return TRUE;
  field = g_strdup_printf ("Allow: %s\r\n", allow);
  respond_text_with (c, req, 405, "this resource does not take that method", field);
  return FALSE;
}

static void
handle_orders (Conn *c, Request *req)
{
  Server *s = c->server;
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = NULL;
  g_autofree char *location = NULL;
  JsonObject *order;
  JsonNode *root;

  if (!method_allowed (c, req, "GET, HEAD, POST"))
    return;
  if (strcmp (req->method, "POST") != 0)
    {
      JsonObject *obj = json_object_new ();
      json_object_set_array_member (obj, "orders", json_array_ref (s->orders));
      json_object_set_int_member (obj, "count", json_array_get_length (s->orders));
      reply = json_node_init_object (json_node_alloc (), obj);
      json_object_unref (obj);
      respond_json (c, req, 200, reply, NULL);
      return;
    }

  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, (const char *)req->body, (gssize)req->body_len, &error))
    {
      g_autofree char *why = g_strdup_printf ("request body is not JSON: %s", error->message);
      respond_text (c, req, 400, why);
      return;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      respond_text (c, req, 400, "an order is a JSON object, for example {\"item\": \"pen\"}");
      return;
    }
  if (json_array_get_length (s->orders) >= SERVER_MAX_ORDERS)
    {
      respond_text (c, req, 503, "the order book is full");
      return;
    }
  /* The new order: what the client sent, plus an id. */
  order = json_object_ref (json_node_get_object (root));
  json_object_set_int_member (order, "id", s->next_order_id);
  json_array_add_object_element (s->orders, order);
  location = g_strdup_printf ("Location: /api/orders/%" G_GINT64_FORMAT "\r\n", s->next_order_id);
  s->next_order_id++;
  reply = json_node_init_object (json_node_alloc (), order);
  respond_json (c, req, 201, reply, location);
}

static void
handle_order (Conn *c, Request *req, const char *id_text)
{
  Server *s = c->server;
  guint64 id = 0;

  if (!method_allowed (c, req, "GET, HEAD"))
    return;
  if (!g_ascii_string_to_unsigned (id_text, 10, 1, G_MAXINT64, &id, NULL))
    {
      respond_text (c, req, 404, "no such order");
      return;
    }
  for (guint i = 0; i < json_array_get_length (s->orders); i++)
    {
      JsonObject *o = json_array_get_object_element (s->orders, i);
      if (json_object_get_int_member_with_default (o, "id", -1) == (gint64)id)
        {
          g_autoptr (JsonNode) node = json_node_init_object (json_node_alloc (), o);
          respond_json (c, req, 200, node, NULL);
          return;
        }
    }
  respond_text (c, req, 404, "no such order");
}

static void
handle_headers (Conn *c, Request *req)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) node = NULL;

  if (!method_allowed (c, req, "GET, HEAD"))
    return;
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "method");
  json_builder_add_string_value (b, req->method);
  json_builder_set_member_name (b, "target");
  json_builder_add_string_value (b, req->target);
  json_builder_set_member_name (b, "peer");
  json_builder_add_string_value (b, c->peer);
  json_builder_set_member_name (b, "headers");
  json_builder_begin_array (b);
  for (guint i = 0; i < req->head->n_headers; i++)
    {
      const TsActorHttpHeader *h = &req->head->headers[i];
      g_autofree char *name = g_strndup (h->name, h->name_len);
      g_autofree char *value = g_utf8_make_valid (h->value, (gssize)h->value_len);
      json_builder_begin_array (b);
      json_builder_add_string_value (b, name);
      json_builder_add_string_value (b, value);
      json_builder_end_array (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  node = json_builder_get_root (b);
  respond_json (c, req, 200, node, NULL);
}

static void
handle_chunked (Conn *c, Request *req)
{
  guint64 n = 5;

  if (!method_allowed (c, req, "GET, HEAD"))
    return;
  if (req->query && g_str_has_prefix (req->query, "n="))
    {
      if (!g_ascii_string_to_unsigned (req->query + 2, 10, 1, SERVER_MAX_CHUNKS, &n, NULL))
        {
          respond_text (c, req, 400, "n must be a number from 1 to 1000");
          return;
        }
    }
  /* An HTTP/1.0 client does not know chunked (RFC 9112 §7): send it whole. */
  if (req->head->version_minor == 0)
    {
      g_autoptr (GString) body = g_string_new (NULL);
      for (guint i = 1; i <= n; i++)
        g_string_append_printf (body, "chunk %u of %u\n", i, (guint)n);
      respond (c, req, 200, "text/plain; charset=utf-8", body->str, body->len, NULL);
      return;
    }
  respond_head (c, req, 200);
  out_printf (c, "Content-Type: text/plain; charset=utf-8\r\nTransfer-Encoding: chunked\r\n\r\n");
  if (!req->head_only)
    {
      for (guint i = 1; i <= n; i++)
        {
          g_autofree char *line = g_strdup_printf ("chunk %u of %u\n", i, (guint)n);
          ts_actor_chunked_append_chunk (c->out, line, strlen (line));
        }
      ts_actor_chunked_append_last (c->out);
    }
  emit_request_event (c, req, 200);
  if (!req->keep_alive)
    c->close_after_flush = TRUE;
}

static void
handle_websocket (Conn *c, Request *req)
{
  const char *key;
  gsize key_len = 0;
  g_autofree char *accept = NULL;
  g_autofree guchar *raw = NULL;
  g_autofree char *key_s = NULL;
  gsize raw_len = 0;

  if (!ts_actor_http_head_has_token (req->head, "Upgrade", "websocket")
      || !ts_actor_http_head_has_token (req->head, "Connection", "upgrade"))
    {
      respond_text_with (c, req, 426, "use a WebSocket handshake",
                         "Upgrade: websocket\r\nConnection: Upgrade\r\n");
      return;
    }
  if (strcmp (req->method, "GET") != 0 || req->head->version_minor < 1)
    {
      respond_text (c, req, 400, "a WebSocket handshake is an HTTP/1.1 GET (RFC 6455 §4.1)");
      return;
    }
  key = ts_actor_http_head_get (req->head, "Sec-WebSocket-Key", &key_len);
  if (key)
    {
      key_s = g_strndup (key, key_len);
      raw = g_base64_decode (key_s, &raw_len);
    }
  if (key == NULL || raw_len != 16)
    {
      respond_text (c, req, 400, "Sec-WebSocket-Key must be the base64 of 16 bytes");
      return;
    }
  {
    gsize vlen = 0;
    const char *v = ts_actor_http_head_get (req->head, "Sec-WebSocket-Version", &vlen);
    if (v == NULL || vlen != 2 || memcmp (v, "13", 2) != 0)
      {
        respond_text_with (c, req, 426, "WebSocket version 13 only",
                           "Sec-WebSocket-Version: 13\r\n");
        return;
      }
  }

  accept = ts_ws_accept_for_key (key, key_len);
  respond_head (c, req, 101);
  out_printf (c,
              "Upgrade: websocket\r\n"
              "Connection: Upgrade\r\n"
              "Sec-WebSocket-Accept: %s\r\n\r\n",
              accept);
  emit_request_event (c, req, 101);
  c->mode = MODE_WEBSOCKET;
}

/* Origin-form path and query of a request target; NULL for a form we do
 * not serve (authority-form, asterisk-form). */
static gboolean
split_target (Request *req)
{
  const char *t = req->target;
  const char *q;

  /* absolute-form (RFC 9112 §3.2.2): a server must accept it. */
  if (g_ascii_strncasecmp (t, "http://", 7) == 0 || g_ascii_strncasecmp (t, "https://", 8) == 0)
    {
      const char *p = strstr (t, "://") + 3;
      p = strchr (p, '/');
      t = p ? p : "/";
    }
  if (t[0] != '/')
    return FALSE;
  q = strchr (t, '?');
  req->path = q ? g_strndup (t, (gsize)(q - t)) : g_strdup (t);
  req->query = q ? g_strdup (q + 1) : NULL;
  return TRUE;
}

static void
handle_request (Conn *c, const TsActorHttpHead *head, const guint8 *body, gsize body_len)
{
  Request req = { 0 };
  gsize host_len = 0;
  const char *host;

  c->n_requests++;
  req.head = head;
  req.method = g_strndup (head->method, head->method_len);
  req.target = g_strndup (head->target, head->target_len);
  req.body = body;
  req.body_len = body_len;
  req.head_only = strcmp (req.method, "HEAD") == 0;
  host = ts_actor_http_head_get (head, "Host", &host_len);
  if (host)
    req.host = g_strndup (host, host_len);
  /* RFC 9112 §9.3: HTTP/1.1 persists unless "close"; HTTP/1.0 only with
   * "keep-alive". */
  if (head->version_minor >= 1)
    req.keep_alive = !ts_actor_http_head_has_token (head, "Connection", "close");
  else
    req.keep_alive = ts_actor_http_head_has_token (head, "Connection", "keep-alive");

  if (head->version_minor >= 1 && ts_actor_http_head_count (head, "Host") != 1)
    {
      req.keep_alive = FALSE;
      respond_text (c, &req, 400,
                    "an HTTP/1.1 request needs exactly one Host field (RFC 9112 §3.2)");
    }
  else if (!split_target (&req))
    {
      if (strcmp (req.method, "CONNECT") == 0)
        respond_text (c, &req, 405, "this is an origin server, not a proxy: CONNECT is refused");
      else
        respond_text (c, &req, 400, "the request target is not origin-form or absolute-form");
    }
  else if (strcmp (req.path, "/") == 0 || strcmp (req.path, "/index.html") == 0)
    {
      if (method_allowed (c, &req, "GET, HEAD"))
        handle_page (c, &req, FALSE);
    }
  else if (strcmp (req.path, "/about.html") == 0)
    {
      if (method_allowed (c, &req, "GET, HEAD"))
        handle_page (c, &req, TRUE);
    }
  else if (strcmp (req.path, "/api/orders") == 0)
    handle_orders (c, &req);
  else if (g_str_has_prefix (req.path, "/api/orders/"))
    handle_order (c, &req, req.path + strlen ("/api/orders/"));
  else if (strcmp (req.path, "/headers") == 0)
    handle_headers (c, &req);
  else if (strcmp (req.path, "/chunked") == 0)
    handle_chunked (c, &req);
  else if (strcmp (req.path, "/ws") == 0)
    handle_websocket (c, &req);
  else
    respond_text (c, &req, 404, "no such page");

  request_clear (&req);
}

/* Handles every complete request in the input buffer. */
static void
process_http (Conn *c)
{
  while (c->mode == MODE_HTTP && !c->close_after_flush && c->in->len > 0)
    {
      TsActorHttpHead head;
      gssize head_len;
      gint64 content_length = -1;
      gsize consumed;
      g_autoptr (GByteArray) body = NULL;

      head_len = ts_actor_http_head_parse_request (&head, (const char *)c->in->data, c->in->len);
      if (head_len == TS_PARSE_INCOMPLETE)
        {
          if (c->peer_closed)
            c->close_after_flush = TRUE;
          return;
        }
      if (head_len == TS_PARSE_TOO_LARGE)
        {
          respond_malformed (c, 431, "the request head is over 16 KiB or 64 fields");
          return;
        }
      if (head_len < 0)
        {
          respond_malformed (c, 400, "malformed request head (RFC 9112 §3)");
          return;
        }

      if (ts_actor_http_head_get (&head, "Transfer-Encoding", NULL) != NULL)
        {
          TsActorChunked dec;
          gssize used;

          /* Only "chunked" is understood, and with a Content-Length too the
           * message is suspect (request smuggling, RFC 9112 §6.3). */
          if (ts_actor_http_head_count (&head, "Transfer-Encoding") != 1
              || !ts_actor_http_head_has_token (&head, "Transfer-Encoding", "chunked")
              || ts_actor_http_head_get (&head, "Content-Length", NULL) != NULL)
            {
              respond_malformed (c, head.version_minor ? 501 : 400,
                                 "only Transfer-Encoding: chunked, without Content-Length");
              return;
            }
          body = g_byte_array_new ();
          ts_actor_chunked_init (&dec);
          used = ts_actor_chunked_feed (&dec, c->in->data + head_len, c->in->len - (gsize)head_len,
                                        body);
          if (used < 0)
            {
              respond_malformed (c, 400, "malformed chunked body");
              return;
            }
          if (body->len > SERVER_MAX_BODY)
            {
              respond_malformed (c, 413, "the request body is over 1 MiB");
              return;
            }
          if (!ts_actor_chunked_is_done (&dec))
            {
              if (c->in->len - (gsize)head_len > SERVER_MAX_BODY + 65536)
                respond_malformed (c, 413, "the request body is over 1 MiB");
              else if (c->peer_closed)
                c->close_after_flush = TRUE;
              return;
            }
          consumed = (gsize)head_len + (gsize)used;
        }
      else
        {
          if (!ts_actor_http_head_get_content_length (&head, &content_length))
            {
              respond_malformed (c, 400, "malformed or conflicting Content-Length");
              return;
            }
          if (content_length > SERVER_MAX_BODY)
            {
              respond_malformed (c, 413, "the request body is over 1 MiB");
              return;
            }
          if (content_length < 0)
            content_length = 0;
          if (c->in->len - (gsize)head_len < (gsize)content_length)
            {
              if (c->peer_closed)
                c->close_after_flush = TRUE;
              else if (!c->sent_continue && head.version_minor >= 1
                       && ts_actor_http_head_has_token (&head, "Expect", "100-continue"))
                {
                  /* RFC 9110 §10.1.1: the client waits for this before its body. */
                  out_printf (c, "HTTP/1.1 100 Continue\r\n\r\n");
                  c->sent_continue = TRUE;
                }
              return;
            }
          consumed = (gsize)head_len + (gsize)content_length;
        }

      c->sent_continue = FALSE;
      if (body)
        handle_request (c, &head, body->data, body->len);
      else
        handle_request (c, &head, c->in->data + head_len, (gsize)content_length);
      g_byte_array_remove_range (c->in, 0, (guint)consumed);
    }
}

/* ---- WebSocket ------------------------------------------------------------------------------ */

static void
ws_close (Conn *c, guint code, const char *why)
{
  guint8 payload[125];
  gsize len = 0;

  payload[len++] = (guint8)(code >> 8);
  payload[len++] = (guint8)code;
  if (why)
    {
      gsize n = MIN (strlen (why), sizeof payload - 2);
      memcpy (payload + 2, why, n);
      len += n;
    }
  ts_ws_frame_append (c->out, TRUE, TS_WS_OPCODE_CLOSE, NULL, payload, len);
  c->close_after_flush = TRUE;
}

static void
ws_emit (Conn *c, const char *what, guint opcode, gsize len)
{
  g_autofree char *len_s = g_strdup_printf ("%zu", len);
  ts_actor_event_emit ("server.websocket.message", "direction", what, "opcode",
                       ts_ws_opcode_to_string (opcode), "length", len_s, "peer", c->peer, NULL);
}

static void
process_websocket (Conn *c)
{
  while (!c->close_after_flush && c->in->len > 0)
    {
      TsWsFrame f;
      gssize n = ts_ws_frame_parse (&f, c->in->data, c->in->len);
      guint8 *payload;

      if (n == TS_PARSE_INCOMPLETE)
        return;
      if (n == TS_PARSE_TOO_LARGE)
        {
          ws_close (c, TS_WS_CLOSE_MESSAGE_TOO_BIG, "frame over 1 MiB");
          return;
        }
      if (n < 0)
        {
          ws_close (c, TS_WS_CLOSE_PROTOCOL_ERROR, "malformed frame");
          return;
        }
      /* A client must mask every frame (RFC 6455 §5.1). */
      if (!f.masked)
        {
          ws_close (c, TS_WS_CLOSE_PROTOCOL_ERROR, "client frames must be masked");
          return;
        }
      payload = c->in->data + f.header_len;
      ts_ws_mask (payload, (gsize)f.payload_len, f.mask_key);

      switch (f.opcode)
        {
          case TS_WS_OPCODE_TEXT:
          case TS_WS_OPCODE_BINARY:
          case TS_WS_OPCODE_CONTINUATION:
            if ((f.opcode == TS_WS_OPCODE_CONTINUATION) != (c->ws_message != NULL))
              {
                ws_close (c, TS_WS_CLOSE_PROTOCOL_ERROR, "unexpected continuation or new message");
                return;
              }
            if (c->ws_message == NULL)
              {
                c->ws_message = g_byte_array_new ();
                c->ws_opcode = f.opcode;
              }
            if (c->ws_message->len + f.payload_len > TS_WS_MAX_MESSAGE)
              {
                ws_close (c, TS_WS_CLOSE_MESSAGE_TOO_BIG, "message over 1 MiB");
                return;
              }
            g_byte_array_append (c->ws_message, payload, (guint)f.payload_len);
            if (f.fin)
              {
                g_autoptr (GByteArray) msg = g_steal_pointer (&c->ws_message);
                if (c->ws_opcode == TS_WS_OPCODE_TEXT
                    && !g_utf8_validate ((const char *)msg->data, msg->len, NULL))
                  {
                    ws_close (c, TS_WS_CLOSE_INVALID_PAYLOAD, "text is not UTF-8");
                    return;
                  }
                ws_emit (c, "received", c->ws_opcode, msg->len);
                ts_ws_frame_append (c->out, TRUE, (TsWsOpcode)c->ws_opcode, NULL, msg->data,
                                    msg->len);
                ws_emit (c, "echoed", c->ws_opcode, msg->len);
              }
            break;

          case TS_WS_OPCODE_PING:
            ws_emit (c, "received", f.opcode, (gsize)f.payload_len);
            ts_ws_frame_append (c->out, TRUE, TS_WS_OPCODE_PONG, NULL, payload,
                                (gsize)f.payload_len);
            break;

          case TS_WS_OPCODE_PONG:
            break;

          case TS_WS_OPCODE_CLOSE:
            ws_emit (c, "received", f.opcode, (gsize)f.payload_len);
            if (f.payload_len == 1)
              ws_close (c, TS_WS_CLOSE_PROTOCOL_ERROR, "close payload of 1 byte");
            else
              {
                /* Echo the status code back (RFC 6455 §5.5.1). */
                ts_ws_frame_append (c->out, TRUE, TS_WS_OPCODE_CLOSE, NULL, payload,
                                    MIN ((gsize)f.payload_len, 2));
                c->close_after_flush = TRUE;
              }
            break;

          default:
            g_assert_not_reached ();
        }
      g_byte_array_remove_range (c->in, 0, (guint)n);
    }
}

/* ---- SMTP banner ---------------------------------------------------------------------------- */

static void
process_smtp (Conn *c)
{
  while (!c->close_after_flush)
    {
      /* An empty GByteArray's data may be NULL: never hand that to memchr. */
      guint8 *nl = c->in->len ? memchr (c->in->data, '\n', c->in->len) : NULL;
      g_autofree char *line = NULL;
      char verb[5] = { 0 };
      gsize len;

      if (nl == NULL)
        {
          if (c->in->len > SERVER_MAX_SMTP_LINE)
            {
              out_printf (c, "500 5.5.2 Line too long\r\n");
              c->close_after_flush = TRUE;
            }
          else if (c->peer_closed)
            c->close_after_flush = TRUE;
          return;
        }
      len = (gsize)(nl - c->in->data);
      line = g_strndup ((const char *)c->in->data, len);
      g_byte_array_remove_range (c->in, 0, (guint)len + 1);
      g_strchomp (line);
      for (int i = 0; i < 4 && line[i]; i++)
        verb[i] = g_ascii_toupper (line[i]);
      ts_actor_event_emit ("server.smtp.command", "verb", verb, "peer", c->peer, NULL);

      if (strcmp (verb, "HELO") == 0)
        out_printf (c, "250 %s\r\n", c->server->name);
      else if (strcmp (verb, "EHLO") == 0)
        out_printf (c, "250-%s greets you\r\n250 HELP\r\n", c->server->name);
      else if (strcmp (verb, "NOOP") == 0 || strcmp (verb, "RSET") == 0)
        out_printf (c, "250 2.0.0 OK\r\n");
      else if (strcmp (verb, "QUIT") == 0)
        {
          out_printf (c, "221 2.0.0 %s closing connection\r\n", c->server->name);
          c->close_after_flush = TRUE;
        }
      else
        out_printf (c, "502 5.5.1 Command not implemented: this is a lab banner only\r\n");
    }
}

/* ---- the pump ---------------------------------------------------------------------------------
 */

static void
conn_pump (Conn *c)
{
  guint8 buf[SERVER_READ_SIZE];

  c->want_write = FALSE;
  if (c->ssl && !c->handshake_done)
    {
      int r = SSL_accept (c->ssl);
      if (r == 1)
        c->handshake_done = TRUE;
      else
        {
          int err = SSL_get_error (c->ssl, r);
          if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
            {
              c->want_write = err == SSL_ERROR_WANT_WRITE;
              conn_update_watch (c);
              return;
            }
          {
            g_autofree char *why = ts_actor_tls_dup_error ();
            ts_actor_event_emit ("server.tls.failed", "peer", c->peer, "reason", why, NULL);
          }
          conn_close (c);
          return;
        }
    }

  /* Read what is there, unless the output is backed up (the peer is not
   * reading: stop reading until it does). */
  while (!c->peer_closed && !c->close_after_flush && c->out->len < SERVER_MAX_PENDING_OUT)
    {
      gssize n = conn_read (c, buf, sizeof buf);
      if (n > 0)
        {
          g_byte_array_append (c->in, buf, (guint)n);
          /* Parse as we go so a huge pipelined burst stays bounded. */
          if (c->in->len > TS_ACTOR_HTTP_MAX_HEAD + SERVER_MAX_BODY + 65536)
            break;
        }
      else if (n == 0)
        c->peer_closed = TRUE;
      else if (n == -1)
        break;
      else
        {
          conn_close (c);
          return;
        }
    }

  switch (c->mode)
    {
      case MODE_HTTP:
        process_http (c);
        if (c->mode == MODE_WEBSOCKET)
          process_websocket (c);
        break;
      case MODE_WEBSOCKET:
        process_websocket (c);
        break;
      case MODE_SMTP:
        process_smtp (c);
        break;
    }

  while (c->out->len > 0)
    {
      gssize n = conn_write (c, c->out->data, c->out->len);
      if (n > 0)
        g_byte_array_remove_range (c->out, 0, (guint)n);
      else if (n == -1)
        break;
      else
        {
          conn_close (c);
          return;
        }
    }

  if (c->out->len == 0 && (c->close_after_flush || c->peer_closed))
    {
      conn_close (c);
      return;
    }
  conn_update_watch (c);
}

static gboolean
accept_cb (int fd, GIOCondition cond, gpointer user_data)
{
  Server *s = user_data;

  for (int i = 0; i < 64; i++)
    {
      struct sockaddr_storage ss;
      socklen_t sl = sizeof ss;
      int cfd = accept4 (fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
      Conn *c;
      int one = 1;

      if (cfd < 0)
        break;
      if (g_hash_table_size (s->conns) >= SERVER_MAX_CONNECTIONS)
        {
          close (cfd);
          continue;
        }
      setsockopt (cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      c = g_new0 (Conn, 1);
      c->server = s;
      c->fd = cfd;
      c->in = g_byte_array_new ();
      c->out = g_byte_array_new ();
      c->peer = sockaddr_to_string (&ss);
      c->last_activity = g_get_monotonic_time ();
      g_hash_table_add (s->conns, c);
      if (fd == s->fds[SERVICE_HTTPS])
        {
          c->ssl = SSL_new (s->ssl_ctx);
          SSL_set_fd (c->ssl, cfd);
        }
      else if (fd == s->fds[SERVICE_SMTP])
        {
          c->mode = MODE_SMTP;
          ts_actor_event_emit ("server.smtp.connection", "peer", c->peer, NULL);
          out_printf (c, "220 %s ESMTP ts-server (Tunnelscope lab banner)\r\n", s->name);
        }
      conn_pump (c);
    }
  return G_SOURCE_CONTINUE;
}

static gboolean
idle_check_cb (gpointer user_data)
{
  Server *s = user_data;
  gint64 limit = g_get_monotonic_time () - (gint64)s->idle_timeout_s * G_USEC_PER_SEC;
  GHashTableIter iter;
  gpointer key;
  gint64 linger_limit = g_get_monotonic_time () - 2 * G_USEC_PER_SEC;
  g_autoptr (GPtrArray) idle = g_ptr_array_new ();

  g_hash_table_iter_init (&iter, s->conns);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      Conn *c = key;
      if (c->last_activity < (c->lingering ? linger_limit : limit))
        g_ptr_array_add (idle, key);
    }
  for (guint i = 0; i < idle->len; i++)
    {
      Conn *c = idle->pdata[i];
      if (c->lingering)
        conn_destroy (c);
      else
        conn_close (c);
    }
  return G_SOURCE_CONTINUE;
}

/* ---- UDP: echo and DNS ------------------------------------------------------------------------
 */

static gboolean
udp_echo_cb (int fd, GIOCondition cond, gpointer user_data)
{
  for (int i = 0; i < 64; i++)
    {
      guint8 buf[65536];
      struct sockaddr_storage ss;
      socklen_t sl = sizeof ss;
      gssize n = recvfrom (fd, buf, sizeof buf, 0, (struct sockaddr *)&ss, &sl);
      g_autofree char *peer = NULL;
      g_autofree char *len_s = NULL;

      if (n < 0)
        break;
      sendto (fd, buf, (gsize)n, 0, (struct sockaddr *)&ss, sl);
      peer = sockaddr_to_string (&ss);
      len_s = g_strdup_printf ("%zd", n);
      ts_actor_event_emit ("server.udp.echo", "peer", peer, "length", len_s, NULL);
    }
  return G_SOURCE_CONTINUE;
}

static gboolean
dns_cb (int fd, GIOCondition cond, gpointer user_data)
{
  Server *s = user_data;

  for (int i = 0; i < 64; i++)
    {
      guint8 buf[TS_DNS_MAX_MESSAGE];
      struct sockaddr_storage ss;
      socklen_t sl = sizeof ss;
      gssize n = recvfrom (fd, buf, sizeof buf, 0, (struct sockaddr *)&ss, &sl);
      TsDnsMessage q;
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) reply = NULL;
      g_autofree char *peer = NULL;
      GPtrArray *addrs = NULL;
      guint rcode;

      if (n < 0)
        break;
      peer = sockaddr_to_string (&ss);
      if (!ts_dns_message_parse_query (&q, buf, (gsize)n, &error))
        {
          /* A response or fewer than 12 bytes gets no answer at all. */
          if (n < 12 || q.is_response)
            continue;
          rcode = TS_DNS_RCODE_FORMERR;
        }
      else if (q.opcode != 0)
        rcode = TS_DNS_RCODE_NOTIMP;
      else if (q.qclass != TS_DNS_CLASS_IN)
        rcode = TS_DNS_RCODE_REFUSED;
      else if ((addrs = g_hash_table_lookup (s->dns_names, q.name)) == NULL)
        rcode = TS_DNS_RCODE_NXDOMAIN;
      else
        rcode = TS_DNS_RCODE_NOERROR;

      reply = ts_dns_message_build_response (&q, rcode, addrs);
      if (reply)
        sendto (fd, g_bytes_get_data (reply, NULL), g_bytes_get_size (reply), 0,
                (struct sockaddr *)&ss, sl);
      {
        const char *type = ts_dns_type_to_string (q.qtype);
        g_autofree char *type_s = type ? g_strdup (type) : g_strdup_printf ("%u", q.qtype);
        ts_actor_event_emit ("server.dns.query", "name", q.name[0] ? q.name : NULL, "type", type_s,
                             "rcode", ts_dns_rcode_to_string (rcode), "peer", peer, NULL);
      }
    }
  return G_SOURCE_CONTINUE;
}

static void
dns_add (Server *s, const char *name, GInetAddress *addr)
{
  g_autofree char *key = g_ascii_strdown (name, -1);
  GPtrArray *list;
  gsize len = strlen (key);

  if (len > 0 && key[len - 1] == '.')
    key[len - 1] = '\0';
  list = g_hash_table_lookup (s->dns_names, key);
  if (list == NULL)
    {
      list = g_ptr_array_new_with_free_func (g_object_unref);
      g_hash_table_insert (s->dns_names, g_strdup (key), list);
    }
  for (guint i = 0; i < list->len; i++)
    if (g_inet_address_equal (list->pdata[i], addr))
      return;
  g_ptr_array_add (list, g_object_ref (addr));
}

static gboolean
dns_load_hosts (Server *s, const char *path, GError **error)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents (path, &text, NULL, error))
    return FALSE;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    {
      char *hash = strchr (lines[i], '#');
      g_auto (GStrv) words = NULL;
      g_autoptr (GInetAddress) addr = NULL;

      if (hash)
        *hash = '\0';
      words = g_strsplit_set (g_strstrip (lines[i]), " \t", -1);
      if (words[0] == NULL || (addr = g_inet_address_new_from_string (words[0])) == NULL)
        continue;
      for (guint k = 1; words[k]; k++)
        if (*words[k])
          dns_add (s, words[k], addr);
    }
  return TRUE;
}

/* ---- setup ------------------------------------------------------------------------------------
 */

static int
listen_on (const char *addr_text, guint port, gboolean udp, char **out_bound, GError **error)
{
  g_autoptr (GInetAddress) addr = g_inet_address_new_from_string (addr_text);
  struct sockaddr_storage ss = { 0 };
  socklen_t sl;
  int fd, one = 1;

  if (addr == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "--listen %s is not an IP address", addr_text);
      return -1;
    }
  if (g_inet_address_get_family (addr) == G_SOCKET_FAMILY_IPV6)
    {
      struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
      s6->sin6_family = AF_INET6;
      s6->sin6_port = htons ((guint16)port);
      memcpy (&s6->sin6_addr, g_inet_address_to_bytes (addr), 16);
      sl = sizeof *s6;
    }
  else
    {
      struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
      s4->sin_family = AF_INET;
      s4->sin_port = htons ((guint16)port);
      memcpy (&s4->sin_addr, g_inet_address_to_bytes (addr), 4);
      sl = sizeof *s4;
    }

  fd = socket (ss.ss_family, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    goto fail;
  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (ss.ss_family == AF_INET6)
    {
      /* "::" serves IPv4 too, so one socket covers a dual-stack node. */
      int zero = 0;
      setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    }
  if (bind (fd, (struct sockaddr *)&ss, sl) < 0)
    goto fail;
  if (!udp && listen (fd, 128) < 0)
    goto fail;
  sl = sizeof ss;
  getsockname (fd, (struct sockaddr *)&ss, &sl);
  *out_bound = sockaddr_to_string (&ss);
  return fd;

fail:
  {
    int saved = errno;
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "cannot %s %s port %u: %s",
                 fd < 0 ? "open a socket for" : "listen on", addr_text, port, g_strerror (saved));
    if (fd >= 0)
      close (fd);
    return -1;
  }
}

static gboolean
parse_port (const char *text, int *out_port)
{
  guint64 v;

  if (g_ascii_strcasecmp (text, "off") == 0)
    {
      *out_port = -1;
      return TRUE;
    }
  if (!g_ascii_string_to_unsigned (text, 10, 0, 65535, &v, NULL))
    return FALSE;
  *out_port = (int)v;
  return TRUE;
}

static gboolean
quit_cb (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

static SSL_CTX *
make_ssl_ctx (const char *cert, const char *key, int version, GError **error)
{
  SSL_CTX *ctx = SSL_CTX_new (TLS_server_method ());

  SSL_CTX_set_min_proto_version (ctx, version ? version : TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version (ctx, version ? version : TLS1_3_VERSION);
  /* A client that goes away without close_notify is ordinary here. */
  SSL_CTX_set_options (ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
  ts_actor_tls_set_keylog (ctx);
  if (SSL_CTX_use_certificate_chain_file (ctx, cert) != 1)
    {
      g_autofree char *why = ts_actor_tls_dup_error ();
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot load certificate %s: %s", cert,
                   why);
      SSL_CTX_free (ctx);
      return NULL;
    }
  if (SSL_CTX_use_PrivateKey_file (ctx, key, SSL_FILETYPE_PEM) != 1
      || SSL_CTX_check_private_key (ctx) != 1)
    {
      g_autofree char *why = ts_actor_tls_dup_error ();
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot use key %s: %s", key, why);
      SSL_CTX_free (ctx);
      return NULL;
    }
  return ctx;
}

/* ALPN: we speak HTTP/1.1 only; a client offering only h2 gets no ALPN and
 * falls back, as RFC 7301 §3.2 allows. */
static int
alpn_select_cb (SSL *ssl, const unsigned char **out, unsigned char *out_len,
                const unsigned char *in, unsigned int in_len, void *arg)
{
  static const unsigned char http11[] = { 8, 'h', 't', 't', 'p', '/', '1', '.', '1' };
  unsigned char *sel = NULL;
  unsigned char sel_len = 0;

  if (SSL_select_next_proto (&sel, &sel_len, http11, sizeof http11, in, in_len)
      == OPENSSL_NPN_NEGOTIATED)
    {
      *out = sel;
      *out_len = sel_len;
      return SSL_TLSEXT_ERR_OK;
    }
  return SSL_TLSEXT_ERR_NOACK;
}

static const char summary[]
    = "The origin actor of the Tunnelscope lab (example.com).\n"
      "\n"
      "Serves, each on its own port (a port of 0 lets the kernel choose, \"off\" disables it):\n"
      "  HTTP and HTTPS  /, /about.html, /api/orders (GET lists, POST creates),\n"
      "                  /api/orders/ID, /headers, /chunked[?n=N], /ws (WebSocket echo)\n"
      "  SMTP            a banner and a few commands, for the port-policy lesson\n"
      "  UDP echo        each datagram is sent back\n"
      "  DNS             A and AAAA answers for --dns-record names and the hosts file\n"
      "\n"
      "It prints one line when it listens (\"ts-server: listening http=ADDR:PORT ...\"),\n"
      "writes TLS secrets to $SSLKEYLOGFILE and events to $TS_EVENTS, and runs until\n"
      "SIGTERM or SIGINT. The certificate and key default to server.pem and server.key\n"
      "of the lab PKI ($TS_PKI_DIR).";

/* Option values live for the whole run (file scope keeps them reachable). */
static char *opt_listen;
static char *opt_port[N_SERVICES];
static char *opt_cert;
static char *opt_key;
static char *opt_tls_version;
static char *opt_name;
static char *opt_hosts_file;
static char **opt_dns_records;
static int opt_idle_timeout = 60;
static gboolean opt_no_hosts;
static Server the_server;

static GOptionEntry entries[] = {
  { "listen", 'l', 0, G_OPTION_ARG_STRING, &opt_listen,
    "Address to listen on (default ::, which also serves IPv4)", "ADDR" },
  { "http-port", 0, 0, G_OPTION_ARG_STRING, &opt_port[SERVICE_HTTP], "HTTP port (80)", "PORT" },
  { "https-port", 0, 0, G_OPTION_ARG_STRING, &opt_port[SERVICE_HTTPS], "HTTPS port (443)", "PORT" },
  { "smtp-port", 0, 0, G_OPTION_ARG_STRING, &opt_port[SERVICE_SMTP], "SMTP banner port (25)",
    "PORT" },
  { "udp-echo-port", 0, 0, G_OPTION_ARG_STRING, &opt_port[SERVICE_UDP_ECHO], "UDP echo port (7)",
    "PORT" },
  { "dns-port", 0, 0, G_OPTION_ARG_STRING, &opt_port[SERVICE_DNS], "DNS port (53)", "PORT" },
  { "cert", 'c', 0, G_OPTION_ARG_FILENAME, &opt_cert,
    "Certificate chain, PEM (default: $TS_PKI_DIR/server.pem)", "FILE" },
  { "key", 'k', 0, G_OPTION_ARG_FILENAME, &opt_key,
    "Private key, PEM (default: $TS_PKI_DIR/server.key)", "FILE" },
  { "tls-version", 0, 0, G_OPTION_ARG_STRING, &opt_tls_version,
    "Offer only this TLS version: 1.2 or 1.3 (default: both)", "VERSION" },
  { "name", 'n', 0, G_OPTION_ARG_STRING, &opt_name,
    "The site's name in pages and banners (default example.com)", "NAME" },
  { "dns-record", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_dns_records,
    "Answer NAME with ADDR (repeatable)", "NAME=ADDR" },
  { "hosts-file", 0, 0, G_OPTION_ARG_FILENAME, &opt_hosts_file,
    "Also answer the names of this hosts file (default /etc/hosts)", "FILE" },
  { "no-hosts-file", 0, 0, G_OPTION_ARG_NONE, &opt_no_hosts, "Do not read a hosts file", NULL },
  { "idle-timeout", 0, 0, G_OPTION_ARG_INT, &opt_idle_timeout,
    "Close connections idle this long (default 60)", "SECONDS" },
  { NULL }
};

int
main (int argc, char **argv)
{
  static const int default_ports[N_SERVICES] = { 80, 443, 25, 7, 53 };
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) listening = g_string_new (PROGRAM ": listening");
  int ports[N_SERVICES];
  int version = 0;

  /* The character set of the locale (for --help), not its number format:
   * reports and events keep "1.5", never "1,5". */
  setlocale (LC_CTYPE, "");
  g_set_prgname (PROGRAM);
  signal (SIGPIPE, SIG_IGN);
  context = g_option_context_new ("- the Tunnelscope origin server");
  g_option_context_set_summary (context, summary);
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s: %s\n", PROGRAM, error->message);
      return 2;
    }
  if (argc > 1)
    {
      g_printerr ("%s: unexpected argument %s (see --help)\n", PROGRAM, argv[1]);
      return 2;
    }
  for (int i = 0; i < N_SERVICES; i++)
    {
      ports[i] = default_ports[i];
      if (opt_port[i] && !parse_port (opt_port[i], &ports[i]))
        {
          g_printerr ("%s: --%s-port %s is not a port number (0-65535) or \"off\"\n", PROGRAM,
                      service_names[i], opt_port[i]);
          return 2;
        }
    }
  if (opt_tls_version && (version = ts_actor_tls_parse_version (opt_tls_version)) == 0)
    {
      g_printerr ("%s: --tls-version %s: use 1.2 or 1.3\n", PROGRAM, opt_tls_version);
      return 2;
    }
  if (opt_idle_timeout < 1)
    {
      g_printerr ("%s: --idle-timeout must be at least 1 second\n", PROGRAM);
      return 2;
    }

  the_server.name = g_strdup (opt_name ? opt_name : "example.com");
  the_server.idle_timeout_s = (guint)opt_idle_timeout;
  the_server.conns
      = g_hash_table_new_full (g_direct_hash, g_direct_equal, (GDestroyNotify)conn_free, NULL);
  the_server.orders = json_array_new ();
  the_server.dns_names
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_ptr_array_unref);
  {
    /* Two orders to start with, so the first GET shows something. */
    JsonObject *o = json_object_new ();
    json_object_set_int_member (o, "id", 1);
    json_object_set_string_member (o, "item", "lab coat");
    json_object_set_int_member (o, "quantity", 1);
    json_array_add_object_element (the_server.orders, o);
    o = json_object_new ();
    json_object_set_int_member (o, "id", 2);
    json_object_set_string_member (o, "item", "test tube");
    json_object_set_int_member (o, "quantity", 12);
    json_array_add_object_element (the_server.orders, o);
    the_server.next_order_id = 3;
  }

  for (guint i = 0; opt_dns_records && opt_dns_records[i]; i++)
    {
      char *eq = strchr (opt_dns_records[i], '=');
      g_autoptr (GInetAddress) addr = NULL;

      if (eq == NULL || eq == opt_dns_records[i]
          || (addr = g_inet_address_new_from_string (eq + 1)) == NULL)
        {
          g_printerr ("%s: --dns-record %s: use NAME=ADDR with an IP address\n", PROGRAM,
                      opt_dns_records[i]);
          return 2;
        }
      *eq = '\0';
      dns_add (&the_server, opt_dns_records[i], addr);
    }
  if (ports[SERVICE_DNS] >= 0 && !opt_no_hosts)
    {
      g_autoptr (GError) herr = NULL;
      const char *path = opt_hosts_file ? opt_hosts_file : "/etc/hosts";
      if (!dns_load_hosts (&the_server, path, &herr) && opt_hosts_file)
        {
          g_printerr ("%s: %s\n", PROGRAM, herr->message);
          return 1;
        }
    }

  if (ports[SERVICE_HTTPS] >= 0)
    {
      TsLabPki pki = { 0 };

      if ((opt_cert == NULL) != (opt_key == NULL))
        {
          g_printerr ("%s: give both --cert and --key, or neither\n", PROGRAM);
          return 2;
        }
      if (opt_cert == NULL)
        {
          if (!ts_lab_pki_ensure (g_getenv ("TS_PKI_DIR"), &pki, &error))
            {
              g_printerr ("%s: no certificate: %s (give --cert and --key, or set TS_PKI_DIR)\n",
                          PROGRAM, error->message);
              return 1;
            }
          opt_cert = g_strdup (pki.server_cert);
          opt_key = g_strdup (pki.server_key);
          ts_lab_pki_clear (&pki);
        }
      the_server.ssl_ctx = make_ssl_ctx (opt_cert, opt_key, version, &error);
      if (the_server.ssl_ctx == NULL)
        {
          g_printerr ("%s: %s\n", PROGRAM, error->message);
          return 1;
        }
      SSL_CTX_set_alpn_select_cb (the_server.ssl_ctx, alpn_select_cb, NULL);
    }

  the_server.loop = g_main_loop_new (NULL, FALSE);
  for (int i = 0; i < N_SERVICES; i++)
    {
      g_autofree char *bound = NULL;
      gboolean udp = i == SERVICE_UDP_ECHO || i == SERVICE_DNS;
      const char *addr = opt_listen ? opt_listen : "::";

      the_server.fds[i] = -1;
      if (ports[i] < 0)
        continue;
      the_server.fds[i] = listen_on (addr, (guint)ports[i], udp, &bound, &error);
      if (the_server.fds[i] < 0 && opt_listen == NULL)
        {
          /* No IPv6 on this node: IPv4 only. */
          g_clear_error (&error);
          the_server.fds[i] = listen_on ("0.0.0.0", (guint)ports[i], udp, &bound, &error);
        }
      if (the_server.fds[i] < 0)
        {
          g_printerr ("%s: %s\n", PROGRAM, error->message);
          return 1;
        }
      g_string_append_printf (listening, " %s=%s", service_names[i], bound);
      if (i == SERVICE_UDP_ECHO)
        g_unix_fd_add (the_server.fds[i], G_IO_IN, udp_echo_cb, &the_server);
      else if (i == SERVICE_DNS)
        g_unix_fd_add (the_server.fds[i], G_IO_IN, dns_cb, &the_server);
      else
        g_unix_fd_add (the_server.fds[i], G_IO_IN, accept_cb, &the_server);
    }

  g_unix_signal_add (SIGTERM, quit_cb, the_server.loop);
  g_unix_signal_add (SIGINT, quit_cb, the_server.loop);
  g_timeout_add_seconds (1, idle_check_cb, &the_server);

  g_print ("%s\n", listening->str);
  fflush (stdout);
  ts_actor_event_emit ("server.listening", "ports",
                       listening->str + strlen (PROGRAM ": listening "), NULL);

  g_main_loop_run (the_server.loop);

  g_hash_table_destroy (the_server.conns);
  for (int i = 0; i < N_SERVICES; i++)
    if (the_server.fds[i] >= 0)
      close (the_server.fds[i]);
  if (the_server.ssl_ctx)
    SSL_CTX_free (the_server.ssl_ctx);
  json_array_unref (the_server.orders);
  g_hash_table_destroy (the_server.dns_names);
  g_main_loop_unref (the_server.loop);
  g_free (the_server.name);
  return 0;
}
