/* ts-proxy.c: the proxy's single-threaded epoll event loop: accepting,
 * request heads, policy, upstream connections (direct or through a
 * parent), the splice(2) relay, TLS interception and the decrypted relay.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One thread runs everything but name resolution, which a small pool of
 * resolver threads does with getaddrinfo () (the lab resolves through hosts
 * files; a blocking lookup must not stall other clients). A connection is a
 * TsConn walking through the states below; an idle tunnel holds only its
 * TsConn (a few hundred bytes): head buffers are freed once the tunnel is
 * up, and the relay's pipes are made on the first byte.
 */
#define _GNU_SOURCE
#include "config.h"

#include "ts-proxy.h"
#include "ts-http-chunked.h"
#include "ts-http-request.h"
#include "ts-http-response.h"
#include "ts-lab-pki.h"
#include "ts-trace-event.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <gio/gio.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#define TS_PROXY_HEAD_INITIAL 2048             /* first head buffer; grows to the caps */
#define TS_PROXY_RELAY_BUF 16384               /* per direction, decrypted relay only */
#define TS_PROXY_PIPE_SIZE (1024 * 1024)       /* relay pipe capacity (default 64 KiB) */
#define TS_PROXY_PIPE_BYTES TS_PROXY_PIPE_SIZE /* most bytes per splice () */
#define TS_PROXY_LINGER_S 2                    /* lingering close after an error answer */
#define TS_PROXY_LINGER_DISCARD (1 << 20)      /* bytes discarded while lingering */
/* An origin told "close" closes within this after its response. */
#define TS_PROXY_CLOSE_GRACE_S 1
#define TS_PROXY_EXCERPT 64          /* body bytes in intercept events */
#define TS_PROXY_LEAF_CACHE_MAX 1024 /* minted leaves kept */
#define TS_PROXY_SWEEP_MS 250
#define TS_PROXY_LOG_FLUSH_MS 100 /* access log lines wait at most this (+ a sweep) */
/* Resolved names are kept this long and reused (squid's ipcache keeps a
 * positive answer for its TTL): getaddrinfo () through a resolver thread
 * reads the hosts files on every call. Only the name's addresses are kept;
 * the address policy still checks them on every CONNECT. */
#define TS_PROXY_NAME_CACHE_S 5
#define TS_PROXY_NAME_CACHE_MAX 256 /* names kept */
#define TS_PROXY_MAX_ADDRS 16       /* addresses kept and tried per name */

typedef enum
{
  ST_HEAD,       /* reading the client's request head */
  ST_RESOLVING,  /* a resolver thread is looking the name up */
  ST_CONNECTING, /* non-blocking connect () to the target or parent */
  ST_PARENT,     /* waiting for the parent's answer to our CONNECT */
  ST_SEND_200,   /* writing "200 Connection established" */
  ST_PEEK,       /* intercepting: waiting for the client's first byte */
  ST_TLS_CLIENT, /* intercepting: handshake with the client */
  ST_TLS_ORIGIN, /* intercepting: handshake with the origin */
  ST_SPLICE,     /* blind relay with splice (2) */
  ST_PUMP,       /* relay through buffers (TLS, or plain HTTP forwarding) */
  ST_ANSWER,     /* writing our own answer, then lingering */
  ST_LINGER,     /* discarding input until EOF or timeout */
} TsConnState;

static const char *const state_names[] = {
  "head",       "resolving",  "connecting", "parent", "send-200", "peek",
  "tls-client", "tls-origin", "splice",     "pump",   "answer",   "linger",
};

typedef enum
{
  KIND_NONE,
  KIND_CONNECT,
  KIND_HTTP,
} TsConnKind;

typedef struct _TsConn TsConn;

/* One address of a target or parent (the port is set when connecting). */
typedef struct
{
  socklen_t len;
  struct sockaddr_storage ss;
} TsAddr;

typedef struct
{
  TsConn *conn;
  int fd;
  SSL *ssl;
  guint32 events;  /* registered with epoll */
  guint32 rd_want; /* what the last read waited for (EPOLLIN/EPOLLOUT), 0 */
  guint32 wr_want;
  gboolean registered;
} TsEndp;

typedef struct
{
  char *data;
  guint32 off, len, cap;
} TsBuf;

/* Follows one direction of a decrypted or forwarded HTTP/1 stream. */
typedef enum
{
  SNOOP_HEAD,
  SNOOP_LENGTH,
  SNOOP_CHUNKED,
  SNOOP_UNTIL_EOF,
  SNOOP_STOPPED,
} TsSnoopState;

typedef struct
{
  TsSnoopState state;
  gboolean response;
  char *head;
  guint32 head_len, head_last;
  guint64 remaining;
  TsHttpChunked chunked;
  TsTraceEvent *pending;  /* waiting for its body excerpt */
  gboolean final_pending; /* a final response's body is being followed */
  GString *excerpt;
  guint n_messages;
  guint64 n_fed; /* bytes fed by earlier snoop_feed () calls */
} TsSnoop;

/* An intercepted request, until its exchange's access line is written:
 * where it starts and ends in the client's decrypted stream. */
typedef struct
{
  guint64 start, end; /* end: G_MAXUINT64 until the request has ended */
  gint64 t0;          /* monotonic µs, when its head was read */
  char *method, *url;
} TsExchange;

struct _TsConn
{
  TsEndp c, s; /* client, server (origin or parent) */
  TsConnState state;
  TsConnKind kind;
  guint64 id;
  gint64 t_start, deadline; /* monotonic µs */
  char *host;               /* target host (no brackets) */
  guint16 port;
  char *method; /* for the access log */
  char *url;
  char *via_in; /* CONNECT through a parent: the client's Via list, until sent on */
  char client[64];
  guint status; /* answered or relayed status, for the access log */
  /* Client head; after a decision, bytes past the head stay as early data. */
  char *head;
  guint32 head_len, head_cap, head_last, head_used;
  /* Bytes to send before relaying: to the client (answer, 200), to the
   * server (forwarded head, CONNECT to parent). */
  TsBuf to_c, to_s;
  /* Parent's answer head. */
  char *phead;
  guint32 phead_len;
  TsAddr *addrs; /* to try, in order; freed once connected */
  guint8 n_addrs, next_addr;
  /* splice relay: [0] client to server, [1] server to client */
  int pipe_r[2], pipe_w[2];
  guint32 fill[2];
  gboolean in_blocked[2], out_blocked[2];
  /* The relay runs for an epoll event (woken), which said that @readable
   * (or no endpoint: NULL) has input; otherwise it looks at both sides. */
  gboolean woken;
  TsEndp *readable;
  gboolean eof[2];
  TsBuf buf[2];
  TsSnoop *snoop[2];
  guint8 head_ring; /* request methods that were HEAD, newest lowest bit */
  guint64 bytes[2];
  char *sni;
  guint64 discarded;
  gboolean dead, via_parent, intercepted, logged, http_request_done;
  /* Intercepting: requests whose exchange is not logged yet, in order, and
   * where the response stream stood when the last one was. */
  GArray *exchanges; /* of TsExchange */
  guint64 resp_base;
  /* Plain forwarding: the origin's bytes wait here until each response
   * head is complete and rewritten (Via, hop-by-hop fields). */
  TsBuf rstage;
  gboolean rstaging;
  /* Plain forwarding keeps the client's connection for its next request
   * (RFC 9112 §9.3) when the response's end is known. */
  gboolean keepalive, response_done, req_is_head;
  gboolean client_http10; /* plain forwarding: the client's request was HTTP/1.0 */
  TsHttpChunked *dechunk; /* plain forwarding: removing chunked for an HTTP/1.0 client */
  guint n_done;           /* exchanges completed on this connection */
  TsBuf pipelined;        /* client bytes past the current request */
  TsConn *prev, *next;
};

typedef struct
{
  X509 *cert;
  EVP_PKEY *key;
  gint64 expires; /* real time µs */
} TsLeaf;

typedef struct
{
  guint64 conn_id;
  char *host;
  struct addrinfo *res;
  int err;
} TsResolve;

/* A cached name (see TS_PROXY_NAME_CACHE_S). */
typedef struct
{
  TsAddr *addrs;
  guint n_addrs;
  gint64 expires; /* monotonic µs */
} TsName;

typedef struct
{
  TsProxyOptions *o;
  int ep, lfd, efd, sfd;
  struct sockaddr_storage laddr;
  GHashTable *conns; /* id -> TsConn */
  TsConn *head, *dead;
  guint64 next_id;
  guint n_conns;
  GThreadPool *resolvers;
  GAsyncQueue *resolved;
  GHashTable *names; /* host -> TsName */
  GArray *own_addrs; /* of struct sockaddr_storage */
  SSL_CTX *sctx, *cctx;
  X509 *ca_cert;
  EVP_PKEY *ca_key;
  GHashTable *leaves; /* name -> TsLeaf */
  FILE *access;
  gint64 access_flushed; /* monotonic µs */
  time_t access_sec;     /* the second access_date shows */
  char access_date[32];
  int keylog_fd;
  /* $TS_EVENTS names a file: the events of every tunnel (up, closed) are
   * only built when there is somewhere to write them. */
  gboolean events;
  gboolean quit;
  /* This turn of the loop read a whole request head (see --busy-poll). */
  gboolean request_seen;
} TsProxy;

static TsProxy *proxy_singleton; /* for OpenSSL callbacks */

static void conn_close (TsProxy *p, TsConn *c, const char *reason);
static void conn_answer (TsProxy *p, TsConn *c, guint status, const char *reason,
                         const char *extra_headers);
static void conn_update (TsProxy *p, TsConn *c);
static void pump_run (TsProxy *p, TsConn *c);
static void splice_run (TsProxy *p, TsConn *c);
static void conn_connect_next (TsProxy *p, TsConn *c);
static void on_event (TsProxy *p, TsEndp *e, guint32 events);

/* ------------------------------------------------------------------ */
/* Small helpers */

static gint64
now_us (void)
{
  return g_get_monotonic_time ();
}

static const char *
status_text (guint status)
{
  switch (status)
    {
      case 200:
        return "OK";
      case 400:
        return "Bad Request";
      case 403:
        return "Forbidden";
      case 405:
        return "Method Not Allowed";
      case 407:
        return "Proxy Authentication Required";
      case 408:
        return "Request Timeout";
      case 414:
        return "URI Too Long";
      case 417:
        return "Expectation Failed";
      case 431:
        return "Request Header Fields Too Large";
      case 500:
        return "Internal Server Error";
      case 501:
        return "Not Implemented";
      case 502:
        return "Bad Gateway";
      case 503:
        return "Service Unavailable";
      case 504:
        return "Gateway Timeout";
      case 505:
        return "HTTP Version Not Supported";
      default:
        return "Error";
    }
}

/* "Date: " and the current time as an IMF-fixdate (RFC 9110 §5.6.7), with
 * its CRLF, into @out (at least 48 bytes). Written by hand: strftime ()'s
 * names follow the locale. */
static void
date_field (char *out, gsize out_len)
{
  static const char days[][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
  static const char months[][4]
      = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
  time_t t = time (NULL);
  struct tm tm;

  gmtime_r (&t, &tm);
  g_snprintf (out, out_len, "Date: %s, %02d %s %04d %02d:%02d:%02d GMT\r\n", days[tm.tm_wday],
              tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void
buf_append (TsBuf *b, const void *data, gsize len)
{
  if (b->off > 0 && b->off == b->len)
    b->off = b->len = 0;
  if (b->len + len > b->cap)
    {
      guint32 cap = MAX (b->cap * 2, b->len + len);

      b->data = g_realloc (b->data, cap);
      b->cap = cap;
    }
  memcpy (b->data + b->len, data, len);
  b->len += len;
}

static void
buf_clear (TsBuf *b)
{
  g_free (b->data);
  memset (b, 0, sizeof *b);
}

static guint32
buf_pending (const TsBuf *b)
{
  return b->len - b->off;
}

static void
emit (TsProxy *p, TsTraceEvent *ev)
{
  g_autoptr (GError) error = NULL;

  if (!ts_trace_event_emit (ev, &error))
    g_printerr ("ts-proxy: cannot write event: %s\n", error->message);
  ts_trace_event_free (ev);
}

static TsTraceEvent *
event_new (TsProxy *p, const char *kind, TsConn *c)
{
  TsTraceEvent *ev = ts_trace_event_new (0, p->o->node, kind);

  if (c != NULL)
    {
      ts_trace_event_add_printf (ev, "conn", "%" G_GUINT64_FORMAT, c->id);
      ts_trace_event_add (ev, "client", c->client);
      if (c->host != NULL)
        {
          if (strchr (c->host, ':') != NULL)
            ts_trace_event_add_printf (ev, "target", "[%s]:%u", c->host, c->port);
          else
            ts_trace_event_add_printf (ev, "target", "%s:%u", c->host, c->port);
        }
    }
  return ev;
}

static void
sockaddr_to_string (const struct sockaddr *sa, char *out, gsize out_len)
{
  char host[INET6_ADDRSTRLEN] = "?";
  guint port = 0;

  if (sa->sa_family == AF_INET)
    {
      const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
      inet_ntop (AF_INET, &s4->sin_addr, host, sizeof host);
      port = ntohs (s4->sin_port);
      g_snprintf (out, out_len, "%s:%u", host, port);
    }
  else if (sa->sa_family == AF_INET6)
    {
      const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
      inet_ntop (AF_INET6, &s6->sin6_addr, host, sizeof host);
      port = ntohs (s6->sin6_port);
      g_snprintf (out, out_len, "[%s]:%u", host, port);
    }
  else
    g_strlcpy (out, "?", out_len);
}

static void
access_log_line (TsProxy *p, TsConn *c, const char *method, const char *url, guint64 up,
                 guint64 down, gint64 t0)
{
  struct timespec ts;

  /* UTC to the microsecond; the date part is formatted once a second. */
  clock_gettime (CLOCK_REALTIME, &ts);
  if (ts.tv_sec != p->access_sec)
    {
      struct tm tm;

      gmtime_r (&ts.tv_sec, &tm);
      strftime (p->access_date, sizeof p->access_date, "%Y-%m-%dT%H:%M:%S", &tm);
      p->access_sec = ts.tv_sec;
    }
  /* time client status method target bytes_up bytes_down duration_ms via */
  fprintf (p->access,
           "%s.%06ldZ %s %u %s %s %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GINT64_FORMAT
           " %s\n",
           p->access_date, (long)(ts.tv_nsec / 1000), c->client, c->status, method, url ? url : "-",
           up, down, (now_us () - t0) / 1000,
           c->via_parent ? "parent" : (c->intercepted ? "intercept" : "direct"));
}

static void
exchange_clear (gpointer data)
{
  TsExchange *x = data;

  g_free (x->method);
  g_free (x->url);
}

/* The access line of the oldest intercepted exchange, whose response ends
 * at @resp_end in the response stream: its own bytes each way (decrypted,
 * heads included) and its own time, from its request's head. */
static void
exchange_log (TsProxy *p, TsConn *c, guint64 resp_end)
{
  TsExchange *x = &g_array_index (c->exchanges, TsExchange, 0);
  guint64 req_end = x->end != G_MAXUINT64 ? x->end : (c->snoop[0] ? c->snoop[0]->n_fed : x->start);

  c->logged = TRUE;
  if (p->access != NULL)
    access_log_line (p, c, x->method, x->url, req_end - x->start, resp_end - c->resp_base, x->t0);
  c->resp_base = resp_end;
  g_array_remove_index (c->exchanges, 0);
}

static void
access_log (TsProxy *p, TsConn *c)
{
  /* Intercepting: the exchange cut short by the close, if any. */
  if (c->exchanges != NULL && c->exchanges->len > 0)
    {
      exchange_log (p, c, c->snoop[1] ? c->snoop[1]->n_fed : c->resp_base);
      g_array_set_size (c->exchanges, 0);
      return;
    }
  if (p->access == NULL || c->logged || c->method == NULL)
    return;
  c->logged = TRUE;
  access_log_line (p, c, c->method, c->url, c->bytes[0], c->bytes[1], c->t_start);
}

/* ------------------------------------------------------------------ */
/* epoll registration */

static void
endp_set (TsProxy *p, TsEndp *e, guint32 events)
{
  struct epoll_event ev = { .events = events, .data.ptr = e };

  if (e->fd < 0)
    return;
  if (!e->registered)
    {
      if (epoll_ctl (p->ep, EPOLL_CTL_ADD, e->fd, &ev) == 0)
        e->registered = TRUE;
      e->events = events;
      return;
    }
  if (e->events == events)
    return;
  epoll_ctl (p->ep, EPOLL_CTL_MOD, e->fd, &ev);
  e->events = events;
}

static void
endp_close (TsProxy *p, TsEndp *e)
{
  if (e->ssl != NULL)
    {
      SSL_free (e->ssl);
      e->ssl = NULL;
    }
  if (e->fd >= 0)
    {
      /* close () drops the epoll registration: the fd is never dup'ed. */
      close (e->fd);
      e->fd = -1;
      e->registered = FALSE;
    }
}

/* ------------------------------------------------------------------ */
/* Snooping on HTTP/1 streams */

static TsSnoop *
snoop_new (gboolean response)
{
  TsSnoop *s = g_new0 (TsSnoop, 1);

  s->response = response;
  s->state = SNOOP_HEAD;
  return s;
}

static void
snoop_flush (TsProxy *p, TsSnoop *s)
{
  if (s->pending == NULL)
    return;
  if (s->excerpt != NULL && s->excerpt->len > 0)
    ts_trace_event_add (s->pending, "body_excerpt", s->excerpt->str);
  emit (p, s->pending);
  s->pending = NULL;
  if (s->excerpt != NULL)
    g_string_truncate (s->excerpt, 0);
}

static void
snoop_free (TsProxy *p, TsSnoop *s)
{
  if (s == NULL)
    return;
  snoop_flush (p, s);
  g_free (s->head);
  if (s->excerpt != NULL)
    g_string_free (s->excerpt, TRUE);
  g_free (s);
}

static void
snoop_excerpt (TsProxy *p, TsSnoop *s, const char *data, gsize len)
{
  if (s->pending == NULL)
    return;
  if (s->excerpt == NULL)
    s->excerpt = g_string_new (NULL);
  for (gsize i = 0; i < len && s->excerpt->len < TS_PROXY_EXCERPT; i++)
    {
      guchar ch = data[i];
      g_string_append_c (s->excerpt, g_ascii_isprint (ch) ? ch : '.');
    }
  if (s->excerpt->len >= TS_PROXY_EXCERPT)
    snoop_flush (p, s);
}

/* The current message ended, at @pos in its stream: back to reading heads.
 * The end of an intercepted request is noted; that of a final response
 * writes its exchange's access line. */
static void
snoop_message_done (TsProxy *p, TsConn *c, TsSnoop *s, guint64 pos)
{
  snoop_flush (p, s);
  s->state = SNOOP_HEAD;
  if (s->response && s->final_pending)
    {
      s->final_pending = FALSE;
      c->response_done = TRUE;
      if (c->exchanges != NULL && c->exchanges->len > 0)
        exchange_log (p, c, pos);
    }
  else if (!s->response && c->exchanges != NULL && c->exchanges->len > 0)
    {
      TsExchange *x = &g_array_index (c->exchanges, TsExchange, c->exchanges->len - 1);

      if (x->end == G_MAXUINT64)
        x->end = pos;
    }
}

static char *
headers_to_string (const TsHttpHeader *h, gsize n)
{
  GString *s = g_string_new (NULL);

  for (gsize i = 0; i < n; i++)
    g_string_append_printf (s, "%s%.*s: %.*s", i ? "\n" : "", (int)h[i].name_len, h[i].name,
                            (int)h[i].value_len, h[i].value);
  return g_string_free (s, FALSE);
}

/* The URL of an intercepted request, for the access log: https://, the
 * name the leaf was minted for (the SNI, else the CONNECT host, an IPv6
 * literal in brackets), the CONNECT port unless it is 443 (RFC 9110
 * §4.2.2), then the request-target. */
static char *
intercept_url (TsConn *c, const char *target, gsize target_len)
{
  const char *name = c->sni ? c->sni : c->host;
  gboolean v6 = strchr (name, ':') != NULL;
  g_autofree char *port = c->port != 443 ? g_strdup_printf (":%u", c->port) : g_strdup ("");

  return g_strdup_printf ("https://%s%s%s%s%.*s", v6 ? "[" : "", name, v6 ? "]" : "", port,
                          (int)target_len, target);
}

/* Feeds decrypted bytes of one direction. Returns FALSE when the stream
 * broke the framing rules (error in @out_reason). */
static gboolean
snoop_feed_messages (TsProxy *p, TsConn *c, TsSnoop *s, const char *data, gsize len,
                     const char **out_reason)
{
  const char *data0 = data; /* where this call's bytes start, at s->n_fed */

  while (len > 0)
    {
      switch (s->state)
        {
          case SNOOP_STOPPED:
            return TRUE;

          case SNOOP_HEAD:
            {
              gsize take = MIN (len, (gsize)TS_HTTP_MAX_HEAD + 1 - s->head_len);
              gssize r;
              s->head = g_realloc (s->head, s->head_len + take);
              memcpy (s->head + s->head_len, data, take);
              s->head_len += take;
              if (s->response)
                {
                  TsHttpResponse resp;
                  gboolean no_body, drop_length;
                  TsHttpBodyKind kind;
                  guint64 length;

                  r = ts_http_response_parse (&resp, s->head, s->head_len, s->head_last);
                  if (r == TS_HTTP_PARSE_INCOMPLETE)
                    {
                      s->head_last = s->head_len;
                      return TRUE;
                    }
                  if (r < 0)
                    {
                      *out_reason = resp.error;
                      s->state = SNOOP_STOPPED;
                      return FALSE;
                    }
                  if (resp.status >= 200 || resp.status == 101)
                    {
                      no_body = (c->head_ring & 1) || resp.status == 204 || resp.status == 304;
                      c->head_ring >>= 1;
                      s->final_pending = TRUE;
                    }
                  else
                    no_body = TRUE;
                  c->status = resp.status;
                  if (c->intercepted)
                    {
                      g_autofree char *hs = headers_to_string (resp.headers, resp.n_headers);

                      /* The request's event first, even when its body
                       * (say, behind "Expect: 100-continue") is still to
                       * come: a response never precedes its request. */
                      if (c->snoop[0] != NULL)
                        snoop_flush (p, c->snoop[0]);
                      snoop_flush (p, s);
                      s->pending = event_new (p, "proxy.intercept.response", c);
                      ts_trace_event_add_printf (s->pending, "status", "%u", resp.status);
                      ts_trace_event_add (s->pending, "headers", hs);
                      /* One access line per exchange, with its final
                       * status (an interim 1xx is not one, RFC 9110 §15.2),
                       * written when the response ends; after a 101, when
                       * its head does. */
                      if (resp.status == 101 && c->exchanges != NULL && c->exchanges->len > 0)
                        exchange_log (p, c, s->n_fed + (data - data0) + r - (s->head_len - take));
                    }
                  else
                    {
                      TsTraceEvent *ev = event_new (p, "proxy.http.response", c);

                      ts_trace_event_add_printf (ev, "status", "%u", resp.status);
                      emit (p, ev);
                    }
                  s->state = SNOOP_UNTIL_EOF;
                  if (resp.status == 101)
                    {
                      /* Switching protocols (WebSocket): what follows is not
                       * HTTP/1 in either direction. */
                      snoop_flush (p, s);
                      s->state = SNOOP_STOPPED;
                      if (c->snoop[0])
                        c->snoop[0]->state = SNOOP_STOPPED;
                      return TRUE;
                    }
                  if (!ts_http_response_get_framing (&resp, no_body, &kind, &length, &drop_length,
                                                     out_reason))
                    {
                      s->state = SNOOP_STOPPED;
                      return FALSE;
                    }
                  if (kind == TS_HTTP_BODY_CHUNKED)
                    {
                      ts_http_chunked_init (&s->chunked);
                      s->state = SNOOP_CHUNKED;
                    }
                  else if (kind == TS_HTTP_BODY_LENGTH)
                    {
                      s->remaining = length;
                      s->state = SNOOP_LENGTH;
                    }
                  else if (kind == TS_HTTP_BODY_NONE)
                    s->state = SNOOP_HEAD;
                }
              else
                {
                  TsHttpRequest req;
                  TsHttpBodyKind kind;
                  guint64 length;
                  guint status;
                  const char *reason;

                  r = ts_http_request_parse (&req, s->head, s->head_len, s->head_last);
                  if (r == TS_HTTP_PARSE_INCOMPLETE)
                    {
                      s->head_last = s->head_len;
                      return TRUE;
                    }
                  if (r < 0)
                    {
                      *out_reason = req.reason;
                      s->state = SNOOP_STOPPED;
                      return FALSE;
                    }
                  if (!ts_http_request_get_framing (&req, &kind, &length, &status, &reason))
                    {
                      *out_reason = reason;
                      s->state = SNOOP_STOPPED;
                      return FALSE;
                    }
                  c->head_ring = (c->head_ring << 1)
                                 | ts_http_method_is (req.method, req.method_len, "HEAD");
                  {
                    g_autofree char *hs = headers_to_string (req.headers, req.n_headers);
                    gssize hi = ts_http_request_find_header (&req, "Host", 0);

                    snoop_flush (p, s);
                    s->pending = event_new (p, "proxy.intercept.request", c);
                    ts_trace_event_add_printf (s->pending, "method", "%.*s", (int)req.method_len,
                                               req.method);
                    ts_trace_event_add_printf (s->pending, "path", "%.*s", (int)req.target_len,
                                               req.target);
                    if (hi >= 0)
                      ts_trace_event_add_printf (s->pending, "host", "%.*s",
                                                 (int)req.headers[hi].value_len,
                                                 req.headers[hi].value);
                    ts_trace_event_add (s->pending, "headers", hs);
                    g_free (c->method);
                    c->method = g_strndup (req.method, req.method_len);
                    g_free (c->url);
                    c->url = intercept_url (c, req.target, req.target_len);
                    if (c->intercepted)
                      {
                        TsExchange x = {
                          .start = s->n_fed + (data - data0) - (s->head_len - take),
                          .end = G_MAXUINT64,
                          .t0 = now_us (),
                          .method = g_strdup (c->method),
                          .url = g_strdup (c->url),
                        };

                        if (c->exchanges == NULL)
                          {
                            c->exchanges = g_array_new (FALSE, FALSE, sizeof (TsExchange));
                            g_array_set_clear_func (c->exchanges, exchange_clear);
                          }
                        /* No response to it yet: status 0 if none comes. */
                        if (c->exchanges->len == 0)
                          c->status = 0;
                        g_array_append_val (c->exchanges, x);
                      }
                  }
                  s->state = kind == TS_HTTP_BODY_CHUNKED  ? SNOOP_CHUNKED
                             : kind == TS_HTTP_BODY_LENGTH ? SNOOP_LENGTH
                                                           : SNOOP_HEAD;
                  s->remaining = length;
                  if (kind == TS_HTTP_BODY_CHUNKED)
                    ts_http_chunked_init (&s->chunked);
                }
              s->n_messages++;
              /* The bytes of this call past the head. */
              {
                gsize used = r - (s->head_len - take);

                data += used;
                len -= used;
              }
              s->head_len = s->head_last = 0;
              if (s->state == SNOOP_HEAD)
                snoop_message_done (p, c, s, s->n_fed + (data - data0));
            }
            break;

          case SNOOP_LENGTH:
            {
              gsize take = MIN ((guint64)len, s->remaining);

              snoop_excerpt (p, s, data, take);
              s->remaining -= take;
              data += take;
              len -= take;
              if (s->remaining == 0)
                snoop_message_done (p, c, s, s->n_fed + (data - data0));
            }
            break;

          case SNOOP_CHUNKED:
            {
              gssize r = 0;

              /* While an excerpt is wanted, the chunk data is taken out of
               * its framing a piece at a time (the excerpt holds no chunk
               * sizes or extensions); then the rest is fed at once. */
              while (s->pending != NULL && (gsize)r < len && !ts_http_chunked_is_done (&s->chunked))
                {
                  guint8 piece[256];
                  gsize n = 0;
                  gssize k = ts_http_chunked_decode (&s->chunked, (const guint8 *)data + r,
                                                     MIN (len - r, sizeof piece), piece, &n);

                  if (k < 0)
                    {
                      r = k;
                      break;
                    }
                  snoop_excerpt (p, s, (const char *)piece, n);
                  if (k == 0)
                    break;
                  r += k;
                }
              if (r >= 0 && (gsize)r < len && !ts_http_chunked_is_done (&s->chunked))
                {
                  gssize k = ts_http_chunked_feed (&s->chunked, (const guint8 *)data + r, len - r);

                  r = k < 0 ? k : r + k;
                }
              if (r < 0)
                {
                  *out_reason = s->chunked.error;
                  s->state = SNOOP_STOPPED;
                  return FALSE;
                }
              data += r;
              len -= r;
              if (ts_http_chunked_is_done (&s->chunked))
                snoop_message_done (p, c, s, s->n_fed + (data - data0));
            }
            break;

          case SNOOP_UNTIL_EOF:
            snoop_excerpt (p, s, data, len);
            return TRUE;
        }
      /* Plain forwarding relays one request per connection. */
      if (!s->response && !c->intercepted && s->state == SNOOP_HEAD && s->n_messages > 0)
        {
          c->http_request_done = TRUE;
          s->state = SNOOP_STOPPED;
          return TRUE;
        }
    }
  return TRUE;
}

/* Feeds decrypted bytes of one direction, counting them. */
static gboolean
snoop_feed (TsProxy *p, TsConn *c, TsSnoop *s, const char *data, gsize len, const char **out_reason)
{
  gboolean ok = snoop_feed_messages (p, c, s, data, len, out_reason);

  s->n_fed += len;
  return ok;
}

/* ------------------------------------------------------------------ */
/* Connections */

static TsConn *
conn_new (TsProxy *p, int fd, const struct sockaddr *peer)
{
  TsConn *c = g_new0 (TsConn, 1);

  c->id = ++p->next_id;
  c->c.conn = c->s.conn = c;
  c->c.fd = fd;
  c->s.fd = -1;
  c->pipe_r[0] = c->pipe_r[1] = c->pipe_w[0] = c->pipe_w[1] = -1;
  c->t_start = now_us ();
  c->deadline = c->t_start + (gint64)p->o->header_timeout_s * G_USEC_PER_SEC;
  sockaddr_to_string (peer, c->client, sizeof c->client);
  c->next = p->head;
  if (p->head)
    p->head->prev = c;
  p->head = c;
  g_hash_table_insert (p->conns, &c->id, c);
  p->n_conns++;
  return c;
}

static void
conn_free (TsProxy *p, TsConn *c)
{
  for (int d = 0; d < 2; d++)
    {
      if (c->pipe_r[d] >= 0)
        close (c->pipe_r[d]);
      if (c->pipe_w[d] >= 0)
        close (c->pipe_w[d]);
      buf_clear (&c->buf[d]);
      snoop_free (p, c->snoop[d]);
    }
  g_free (c->dechunk);
  if (c->exchanges != NULL)
    g_array_unref (c->exchanges);
  buf_clear (&c->to_c);
  buf_clear (&c->to_s);
  buf_clear (&c->rstage);
  buf_clear (&c->pipelined);
  g_free (c->addrs);
  g_free (c->head);
  g_free (c->phead);
  g_free (c->host);
  g_free (c->method);
  g_free (c->url);
  g_free (c->via_in);
  g_free (c->sni);
  g_free (c);
}

/* A relay (tunnel or pump) ends: its event with the bytes each way, what
 * the snoopers still hold, and a close_notify to each TLS peer (best
 * effort). */
static void
conn_relay_over (TsProxy *p, TsConn *c, const char *reason)
{
  if ((c->state == ST_SPLICE || c->state == ST_PUMP) && p->events)
    {
      TsTraceEvent *ev = event_new (p, "proxy.tunnel.closed", c);

      ts_trace_event_add_printf (ev, "bytes_up", "%" G_GUINT64_FORMAT, c->bytes[0]);
      ts_trace_event_add_printf (ev, "bytes_down", "%" G_GUINT64_FORMAT, c->bytes[1]);
      ts_trace_event_add_printf (ev, "duration_ms", "%" G_GINT64_FORMAT,
                                 (now_us () - c->t_start) / 1000);
      ts_trace_event_add (ev, "reason", reason);
      emit (p, ev);
    }
  for (int d = 0; d < 2; d++)
    if (c->snoop[d])
      snoop_flush (p, c->snoop[d]);
  if (c->c.ssl && SSL_is_init_finished (c->c.ssl))
    SSL_shutdown (c->c.ssl);
  if (c->s.ssl && SSL_is_init_finished (c->s.ssl))
    SSL_shutdown (c->s.ssl);
}

static void
conn_close (TsProxy *p, TsConn *c, const char *reason)
{
  if (c->dead)
    return;
  conn_relay_over (p, c, reason);
  access_log (p, c);
  endp_close (p, &c->c);
  endp_close (p, &c->s);
  c->dead = TRUE;
  g_hash_table_remove (p->conns, &c->id);
  if (c->prev)
    c->prev->next = c->next;
  else
    p->head = c->next;
  if (c->next)
    c->next->prev = c->prev;
  /* Freed after the current batch of epoll events. */
  c->next = p->dead;
  c->prev = NULL;
  p->dead = c;
  p->n_conns--;
}

/* Our own answer to the client (@body, of type @content_type), then a
 * lingering close: the connection is never read as HTTP again. */
static void
conn_answer_with (TsProxy *p, TsConn *c, guint status, const char *content_type,
                  const char *extra_headers, const char *body)
{
  char date[64];
  g_autofree char *msg = NULL;

  /* Date in our own answers (RFC 9110 §6.6.1: MUST in 2xx-4xx). */
  date_field (date, sizeof date);
  msg = g_strdup_printf ("HTTP/1.1 %u %s\r\n"
                         "%s"
                         "Server: ts-proxy\r\n"
                         "Content-Type: %s\r\n"
                         "Content-Length: %zu\r\n"
                         "Connection: close\r\n"
                         "%s"
                         "\r\n%s",
                         status, status_text (status), date, content_type, strlen (body),
                         extra_headers ? extra_headers : "",
                         /* No content in answer to HEAD (RFC 9110 §9.3.2). */
                         c->method && g_str_equal (c->method, "HEAD") ? "" : body);

  c->status = status;
  if (c->method == NULL)
    c->method = g_strdup ("-");
  endp_close (p, &c->s);
  g_clear_pointer (&c->head, g_free);
  buf_clear (&c->to_c);
  buf_append (&c->to_c, msg, strlen (msg));
  c->state = ST_ANSWER;
  c->deadline = now_us () + TS_PROXY_LINGER_S * G_USEC_PER_SEC;
  access_log (p, c);
  conn_update (p, c);
}

static void
conn_answer (TsProxy *p, TsConn *c, guint status, const char *reason, const char *extra_headers)
{
  g_autofree char *body = g_strdup_printf ("ts-proxy: %s\n", reason);

  conn_answer_with (p, c, status, "text/plain", extra_headers, body);
}

/* A lingering close of one side (0: the client's connection, 1: the
 * server's; the other is closed): its write side is shut, and what it
 * still sends is read and dropped until it closes, or
 * TS_PROXY_LINGER_DISCARD bytes or TS_PROXY_LINGER_S seconds (from the
 * answer, when there was one of ours: its deadline stands) are over. Its
 * TLS, if any, has ended (close_notify sent): what comes is dropped as
 * bytes. */
static void
conn_linger_side (TsProxy *p, TsConn *c, int side)
{
  TsEndp *keep = side == 0 ? &c->c : &c->s;

  if (c->state != ST_ANSWER)
    c->deadline = now_us () + TS_PROXY_LINGER_S * G_USEC_PER_SEC;
  endp_close (p, side == 0 ? &c->s : &c->c);
  if (keep->ssl != NULL)
    {
      if (SSL_is_init_finished (keep->ssl) && !(SSL_get_shutdown (keep->ssl) & SSL_SENT_SHUTDOWN))
        SSL_shutdown (keep->ssl);
      /* (The socket stays open: SSL_set_fd () does not own it.) */
      SSL_free (keep->ssl);
      keep->ssl = NULL;
    }
  access_log (p, c);
  shutdown (keep->fd, SHUT_WR);
  c->state = ST_LINGER;
  conn_update (p, c);
}

/* The client's side is done (our answer sent, or the server's): a
 * lingering close of the client's connection. */
static void
conn_linger (TsProxy *p, TsConn *c)
{
  conn_linger_side (p, c, 0);
}

/* The tunnel rule (RFC 9110 §9.3.6): side @d (0 the client, 1 the server)
 * closed and what it sent was delivered, so both connections close; the
 * other one, unless it closed too, in a lingering close (RFC 9112 §9.6):
 * after a close_notify when we terminate its TLS, its write side is shut
 * and what it still sends (an upload the origin stopped reading; the
 * server's own close_notify) is dropped until it closes. Closing it at
 * once would answer those bytes with a reset, which may also destroy what
 * was just delivered before the peer reads it. */
static void
conn_side_closed (TsProxy *p, TsConn *c, int d)
{
  const char *reason = d == 0 ? "client closed" : "server closed";

  if (c->eof[1 - d])
    {
      conn_close (p, c, reason);
      return;
    }
  conn_relay_over (p, c, reason);
  conn_linger_side (p, c, 1 - d);
}

static void
conn_refuse (TsProxy *p, TsConn *c, const char *kind, guint status, const char *reason,
             const char *extra_headers)
{
  TsTraceEvent *ev = event_new (p, kind, c);

  ts_trace_event_add_printf (ev, "status", "%u", status);
  ts_trace_event_add (ev, "reason", reason);
  emit (p, ev);
  conn_answer (p, c, status, reason, extra_headers);
}

/* Writes what is queued in @b to @e (plain socket or TLS). Returns FALSE on
 * a fatal error. */
static gboolean
flush_buf (TsEndp *e, TsBuf *b)
{
  while (buf_pending (b) > 0)
    {
      gssize n;

      if (e->ssl)
        {
          size_t w = 0;
          int r = SSL_write_ex (e->ssl, b->data + b->off, buf_pending (b), &w);

          if (r <= 0)
            {
              int err = SSL_get_error (e->ssl, r);

              ERR_clear_error ();
              if (err == SSL_ERROR_WANT_WRITE)
                {
                  e->wr_want = EPOLLOUT;
                  return TRUE;
                }
              if (err == SSL_ERROR_WANT_READ)
                {
                  e->wr_want = EPOLLIN;
                  return TRUE;
                }
              return FALSE;
            }
          n = w;
        }
      else
        {
          n = send (e->fd, b->data + b->off, buf_pending (b), MSG_NOSIGNAL);
          if (n < 0)
            {
              if (errno == EAGAIN || errno == EINTR)
                {
                  e->wr_want = EPOLLOUT;
                  return TRUE;
                }
              return FALSE;
            }
        }
      e->wr_want = 0;
      b->off += n;
    }
  b->off = b->len = 0;
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* Address policy */

static gboolean
addr_is_loopback (const struct sockaddr *sa)
{
  if (sa->sa_family == AF_INET)
    return (ntohl (((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
  if (sa->sa_family == AF_INET6)
    {
      const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;

      if (IN6_IS_ADDR_LOOPBACK (a))
        return TRUE;
      if (IN6_IS_ADDR_V4MAPPED (a))
        return a->s6_addr[12] == 127;
    }
  return FALSE;
}

static gboolean
addr_same_ip (const struct sockaddr *a, const struct sockaddr *b)
{
  if (a->sa_family != b->sa_family)
    return FALSE;
  if (a->sa_family == AF_INET)
    return ((const struct sockaddr_in *)a)->sin_addr.s_addr
           == ((const struct sockaddr_in *)b)->sin_addr.s_addr;
  if (a->sa_family == AF_INET6)
    return memcmp (&((const struct sockaddr_in6 *)a)->sin6_addr,
                   &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof (struct in6_addr))
           == 0;
  return FALSE;
}

/* NULL when the proxy may connect to @sa, else why not. */
static const char *
addr_refusal (TsProxy *p, const struct sockaddr *sa, guint port)
{
  struct sockaddr_in mapped = { .sin_family = AF_INET };
  gboolean own;

  /* An IPv4-mapped IPv6 address (::ffff:a.b.c.d) reaches the IPv4 address
   * a.b.c.d (the socket is dual-stack): judge that one, so that
   * [::ffff:0.0.0.0], [::ffff:169.254.1.1] or the proxy's own IPv4
   * addresses in that spelling are refused as they are in dotted form. */
  if (sa->sa_family == AF_INET6
      && IN6_IS_ADDR_V4MAPPED (&((const struct sockaddr_in6 *)sa)->sin6_addr))
    {
      memcpy (&mapped.sin_addr, &((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr[12], 4);
      sa = (const struct sockaddr *)&mapped;
    }
  own = addr_is_loopback (sa);

  for (guint i = 0; !own && i < p->own_addrs->len; i++)
    own = addr_same_ip (
        sa, (const struct sockaddr *)&g_array_index (p->own_addrs, struct sockaddr_storage, i));
  if (sa->sa_family == AF_INET)
    {
      guint32 a = ntohl (((const struct sockaddr_in *)sa)->sin_addr.s_addr);

      if (a == 0 || (a >> 24) == 0)
        return "target is an unspecified address";
      if ((a >> 16) == 0xa9fe)
        return "target is link-local";
      if ((a >> 28) == 0xe || a == 0xffffffff)
        return "target is multicast or broadcast";
    }
  else if (sa->sa_family == AF_INET6)
    {
      const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;

      if (IN6_IS_ADDR_UNSPECIFIED (a))
        return "target is an unspecified address";
      if (IN6_IS_ADDR_LINKLOCAL (a))
        return "target is link-local";
      if (IN6_IS_ADDR_MULTICAST (a))
        return "target is multicast";
    }
  else
    return "unsupported address family";
  if (own && port == (guint)p->o->port)
    return "target is the proxy itself";
  if (p->o->allow_loopback)
    return NULL;
  if (addr_is_loopback (sa))
    return "target is loopback";
  if (own)
    return "target is one of the proxy's own addresses";
  return NULL;
}

/* ------------------------------------------------------------------ */
/* Resolution and connecting */

static void
resolver_thread (gpointer data, gpointer user_data)
{
  TsResolve *job = data;
  TsProxy *p = user_data;
  struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
  guint64 one = 1;
  ssize_t r;

  job->err = getaddrinfo (job->host, NULL, &hints, &job->res);
  g_async_queue_push (p->resolved, job);
  r = write (p->efd, &one, sizeof one);
  (void)r;
}

/* Copies the stream addresses of @res (at most TS_PROXY_MAX_ADDRS). */
static TsAddr *
addrs_from_addrinfo (const struct addrinfo *res, guint8 *out_n)
{
  TsAddr *addrs;
  guint n = 0;

  for (const struct addrinfo *ai = res; ai != NULL && n < TS_PROXY_MAX_ADDRS; ai = ai->ai_next)
    if (ai->ai_addrlen <= sizeof (struct sockaddr_storage))
      n++;
  addrs = g_new0 (TsAddr, MAX (n, 1));
  n = 0;
  for (const struct addrinfo *ai = res; ai != NULL && n < TS_PROXY_MAX_ADDRS; ai = ai->ai_next)
    if (ai->ai_addrlen <= sizeof (struct sockaddr_storage))
      {
        memcpy (&addrs[n].ss, ai->ai_addr, ai->ai_addrlen);
        addrs[n].len = ai->ai_addrlen;
        n++;
      }
  *out_n = n;
  return addrs;
}

static void
name_free (gpointer data)
{
  TsName *name = data;

  g_free (name->addrs);
  g_free (name);
}

static void
name_cache_put (TsProxy *p, const char *host, const TsAddr *addrs, guint n)
{
  gint64 now = now_us ();
  TsName *name;

  if (n == 0)
    return;
  if (g_hash_table_size (p->names) >= TS_PROXY_NAME_CACHE_MAX)
    {
      GHashTableIter it;
      gpointer value;

      g_hash_table_iter_init (&it, p->names);
      while (g_hash_table_iter_next (&it, NULL, &value))
        if (((TsName *)value)->expires <= now)
          g_hash_table_iter_remove (&it);
      if (g_hash_table_size (p->names) >= TS_PROXY_NAME_CACHE_MAX)
        return;
    }
  name = g_new0 (TsName, 1);
  name->addrs = g_memdup2 (addrs, n * sizeof *addrs);
  name->n_addrs = n;
  name->expires = now + TS_PROXY_NAME_CACHE_S * G_USEC_PER_SEC;
  g_hash_table_replace (p->names, g_strdup (host), name);
}

static void
conn_resolve (TsProxy *p, TsConn *c)
{
  const char *host = c->via_parent ? p->o->parent_host : c->host;
  struct addrinfo hints
      = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST };
  struct addrinfo *res = NULL;
  TsName *name;
  TsResolve *job;

  c->state = ST_RESOLVING;
  c->deadline = now_us () + (gint64)p->o->connect_timeout_s * G_USEC_PER_SEC;
  /* An IP literal needs no thread, nor does a name resolved a moment ago.
   * The usual literals are parsed here; getaddrinfo () takes the rest (the
   * older IPv4 forms, "127.1", a scope). */
  {
    TsAddr a = { 0 };
    struct sockaddr_in *s4 = (struct sockaddr_in *)&a.ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a.ss;

    if (inet_pton (AF_INET, host, &s4->sin_addr) == 1)
      {
        s4->sin_family = AF_INET;
        a.len = sizeof *s4;
      }
    else if (inet_pton (AF_INET6, host, &s6->sin6_addr) == 1)
      {
        s6->sin6_family = AF_INET6;
        a.len = sizeof *s6;
      }
    if (a.len > 0)
      {
        c->addrs = g_memdup2 (&a, sizeof a);
        c->n_addrs = 1;
        conn_connect_next (p, c);
        return;
      }
  }
  if (getaddrinfo (host, NULL, &hints, &res) == 0)
    {
      c->addrs = addrs_from_addrinfo (res, &c->n_addrs);
      freeaddrinfo (res);
      conn_connect_next (p, c);
      return;
    }
  name = g_hash_table_lookup (p->names, host);
  if (name != NULL && name->expires > now_us ())
    {
      c->addrs = g_memdup2 (name->addrs, name->n_addrs * sizeof *name->addrs);
      c->n_addrs = name->n_addrs;
      conn_connect_next (p, c);
      return;
    }
  job = g_new0 (TsResolve, 1);
  job->conn_id = c->id;
  job->host = g_strdup (host);
  g_thread_pool_push (p->resolvers, job, NULL);
  conn_update (p, c);
}

static void
resolved (TsProxy *p, TsResolve *job)
{
  TsConn *c = g_hash_table_lookup (p->conns, &job->conn_id);

  if (job->err == 0)
    {
      guint8 n = 0;
      g_autofree TsAddr *addrs = addrs_from_addrinfo (job->res, &n);

      name_cache_put (p, job->host, addrs, n);
      if (c != NULL && c->state == ST_RESOLVING)
        {
          c->addrs = g_steal_pointer (&addrs);
          c->n_addrs = n;
          c->next_addr = 0;
          conn_connect_next (p, c);
        }
    }
  else if (c != NULL && c->state == ST_RESOLVING)
    {
      g_autofree char *why
          = g_strdup_printf ("cannot resolve %s: %s", job->host, gai_strerror (job->err));
      conn_refuse (p, c, "proxy.connect.failed", 502, why, NULL);
    }
  if (job->res)
    freeaddrinfo (job->res);
  g_free (job->host);
  g_free (job);
}

static void on_connected (TsProxy *p, TsConn *c);

static void
conn_connect_next (TsProxy *p, TsConn *c)
{
  const char *refusal = NULL;
  guint port = c->via_parent ? p->o->parent_port : c->port;

  endp_close (p, &c->s);
  for (; c->next_addr < c->n_addrs; c->next_addr++)
    {
      TsAddr *a = &c->addrs[c->next_addr];
      struct sockaddr *sa = (struct sockaddr *)&a->ss;
      int fd;

      ((struct sockaddr_in *)sa)->sin_port = htons (port); /* same offset in v6 */
      /* The operator chose the parent; targets pass the address policy,
       * every time (cached names too). */
      if (!c->via_parent && (refusal = addr_refusal (p, sa, port)) != NULL)
        continue;
      fd = socket (sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0)
        continue;
      {
        int one = 1;
        setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      }
      if (connect (fd, sa, a->len) == 0 || errno == EINPROGRESS)
        {
          c->s.fd = fd;
          c->state = ST_CONNECTING;
          c->next_addr++;
          /* A near target (a lab link, loopback) has often answered by the
           * time connect () returns: look before waiting for an event. */
          on_connected (p, c);
          return;
        }
      close (fd);
    }
  if (refusal != NULL)
    conn_refuse (p, c, "proxy.connect.refused", 403, refusal, NULL);
  else
    conn_refuse (p, c, "proxy.connect.failed", 502, "cannot connect to the target", NULL);
}

/* The tunnel to the target is up (directly or through the parent, whose
 * address @peer is when known). */
static void
conn_established (TsProxy *p, TsConn *c, const struct sockaddr *peer)
{
  c->deadline = now_us () + (gint64)p->o->idle_timeout_s * G_USEC_PER_SEC;
  if (c->kind == KIND_HTTP)
    {
      /* The forwarded head (and any body bytes) were queued in to_s. */
      c->buf[0] = c->to_s;
      memset (&c->to_s, 0, sizeof c->to_s);
      c->snoop[1] = snoop_new (TRUE);
      c->rstaging = TRUE;
      c->state = ST_PUMP;
      pump_run (p, c);
      return;
    }
  /* The event comes before the 200, as the lab's timelines show it (the
   * decision, then its answer); it is only built when events are read. */
  if (p->events)
    {
      TsTraceEvent *ev = event_new (p, "proxy.connect.allowed", c);
      struct sockaddr_storage ss;
      socklen_t sl = sizeof ss;
      char addr[80];

      if (peer == NULL && getpeername (c->s.fd, (struct sockaddr *)&ss, &sl) == 0)
        peer = (struct sockaddr *)&ss;
      if (peer != NULL)
        {
          sockaddr_to_string (peer, addr, sizeof addr);
          ts_trace_event_add (ev, c->via_parent ? "parent_address" : "address", addr);
        }
      ts_trace_event_add (ev, "mode", p->o->intercept ? "intercept" : "tunnel");
      emit (p, ev);
    }
  c->status = 200;
  buf_append (&c->to_c, "HTTP/1.1 200 Connection established\r\n\r\n", 39);
  c->state = ST_SEND_200;
  /* The client's socket is almost always writable: try at once. */
  on_event (p, &c->c, EPOLLOUT);
}

static void
send_parent_connect (TsProxy *p, TsConn *c)
{
  g_autofree char *authority = strchr (c->host, ':') ? g_strdup_printf ("[%s]:%u", c->host, c->port)
                                                     : g_strdup_printf ("%s:%u", c->host, c->port);
  g_autofree char *auth
      = p->o->parent_auth_b64
            ? g_strdup_printf ("Proxy-Authorization: Basic %s\r\n", p->o->parent_auth_b64)
            : g_strdup ("");
  /* Our entry after those of the hops before (RFC 9110 §7.6.3). */
  g_autofree char *msg = g_strdup_printf (
      "CONNECT %s HTTP/1.1\r\nHost: %s\r\n%sVia: %s%s1.1 %s\r\n\r\n", authority, authority, auth,
      c->via_in ? c->via_in : "", c->via_in ? ", " : "", p->o->node);

  g_clear_pointer (&c->via_in, g_free);
  buf_append (&c->to_s, msg, strlen (msg));
  c->state = ST_PARENT;
}

/* Called after connect () and on each event while connecting. */
static void
on_connected (TsProxy *p, TsConn *c)
{
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;

  /* Only a peer name proves the connection is up: neither a look right
   * after connect () nor a stale event (for an fd closed in this batch)
   * may be taken for its end. */
  if (getpeername (c->s.fd, (struct sockaddr *)&ss, &sl) != 0)
    {
      int err = 0;
      socklen_t len = sizeof err;

      if (errno == ENOTCONN && getsockopt (c->s.fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0
          && err == 0)
        conn_update (p, c); /* still under way: wait for writability */
      else
        conn_connect_next (p, c);
      return;
    }
  g_clear_pointer (&c->addrs, g_free);
  c->n_addrs = c->next_addr = 0;
  if (c->via_parent && c->kind == KIND_CONNECT)
    {
      send_parent_connect (p, c);
      conn_update (p, c);
      return;
    }
  conn_established (p, c, (struct sockaddr *)&ss);
}

/* The parent's answer to CONNECT: what c->phead holds (its first
 * @last_len bytes seen before, without a complete head). */
static void
on_parent_head (TsProxy *p, TsConn *c, gsize last_len)
{
  TsHttpResponse resp;
  gssize r;

  for (;;)
    {
      r = ts_http_response_parse (&resp, c->phead, c->phead_len, last_len);
      if (r == TS_HTTP_PARSE_INCOMPLETE)
        return;
      if (r < 0)
        {
          conn_refuse (p, c, "proxy.parent.failed", 502, "malformed answer from the parent", NULL);
          return;
        }
      if (resp.status / 100 != 1 || resp.status == 101)
        break;
      /* An interim answer (RFC 9110 §15.2): the final one follows. */
      memmove (c->phead, c->phead + r, c->phead_len - r);
      c->phead_len -= r;
      last_len = 0;
      if (c->phead_len == 0)
        return;
    }
  if (resp.status / 100 != 2)
    {
      g_autofree char *why = g_strdup_printf ("parent answered %u %.*s", resp.status,
                                              (int)resp.reason_phrase_len, resp.reason_phrase);
      TsTraceEvent *ev = event_new (p, "proxy.parent.refused", c);

      ts_trace_event_add_printf (ev, "status", "%u", resp.status);
      emit (p, ev);
      /* Pass the parent's status on (a 407 from the parent is the
       * parent's business: it becomes 502 so clients do not send it our
       * credentials). */
      conn_answer (p, c, resp.status == 407 ? 502 : resp.status, why, NULL);
      return;
    }
  /* Bytes after the parent's head are the target's: for the client. */
  if ((gsize)r < c->phead_len)
    buf_append (&c->buf[1], c->phead + r, c->phead_len - r);
  g_clear_pointer (&c->phead, g_free);
  c->phead_len = 0;
  conn_established (p, c, NULL);
}

static void
on_parent_readable (TsProxy *p, TsConn *c)
{
  gssize n;

  if (c->phead == NULL)
    c->phead = g_malloc (TS_HTTP_MAX_HEAD + 1);
  n = recv (c->s.fd, c->phead + c->phead_len, TS_HTTP_MAX_HEAD + 1 - c->phead_len, 0);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (n <= 0)
    {
      conn_refuse (p, c, "proxy.parent.failed", 502, "parent closed before answering", NULL);
      return;
    }
  c->phead_len += n;
  on_parent_head (p, c, c->phead_len - n);
}

/* ------------------------------------------------------------------ */
/* Request heads and decisions */

static gboolean
check_auth (TsProxy *p, TsConn *c, const TsHttpRequest *req)
{
  gssize i;

  if (p->o->auth_b64 == NULL)
    return TRUE;
  for (i = ts_http_request_find_header (req, "Proxy-Authorization", 0); i >= 0;
       i = ts_http_request_find_header (req, "Proxy-Authorization", i + 1))
    {
      const TsHttpHeader *h = &req->headers[i];
      gsize bl = strlen (p->o->auth_b64), k = 5;

      /* credentials = auth-scheme 1*SP token68 (RFC 9110 §11.4): the
       * scheme in any case, any number of spaces. */
      if (h->value_len <= 6 || g_ascii_strncasecmp (h->value, "Basic", 5) != 0
          || h->value[5] != ' ')
        continue;
      while (k < h->value_len && h->value[k] == ' ')
        k++;
      if (h->value_len - k == bl && memcmp (h->value + k, p->o->auth_b64, bl) == 0)
        return TRUE;
    }
  conn_refuse (p, c, "proxy.auth.failed", 407,
               i == -1 && ts_http_request_find_header (req, "Proxy-Authorization", 0) < 0
                   ? "proxy authentication required"
                   : "wrong proxy credentials",
               "Proxy-Authenticate: Basic realm=\"tunnelscope\"\r\n");
  return FALSE;
}

/* host [":" port] from @s; brackets around IPv6 literals. FALSE when
 * malformed. *@out_port stays as given when there is no port and
 * @port_required is FALSE. */
static gboolean
parse_authority (const char *s, gsize len, gboolean port_required, char **out_host, guint *out_port,
                 const char **out_reason)
{
  const char *host = s, *colon = NULL;
  gsize host_len;

  if (len == 0)
    return *out_reason = "empty authority", FALSE;
  if (memchr (s, '@', len) != NULL)
    return *out_reason = "userinfo in authority (RFC 9110 §4.2.4)", FALSE;
  if (s[0] == '[')
    {
      const char *rb = memchr (s, ']', len);
      char buf[INET6_ADDRSTRLEN + 1];
      struct in6_addr a6;

      if (rb == NULL || (gsize)(rb - s - 1) >= sizeof buf)
        return *out_reason = "malformed IPv6 literal (RFC 3986 §3.2.2)", FALSE;
      memcpy (buf, s + 1, rb - s - 1);
      buf[rb - s - 1] = 0;
      if (inet_pton (AF_INET6, buf, &a6) != 1)
        return *out_reason = "malformed IPv6 literal (RFC 3986 §3.2.2)", FALSE;
      host = s + 1;
      host_len = rb - s - 1;
      if (rb + 1 < s + len)
        {
          if (rb[1] != ':')
            return *out_reason = "junk after IPv6 literal", FALSE;
          colon = rb + 1;
        }
    }
  else
    {
      colon = memchr (s, ':', len);
      host_len = colon ? (gsize)(colon - s) : len;
      if (host_len == 0)
        return *out_reason = "empty host (RFC 9110 §4.2.1)", FALSE;
      for (gsize i = 0; i < host_len; i++)
        if (!(g_ascii_isalnum (s[i]) || s[i] == '-' || s[i] == '.' || s[i] == '_'))
          return *out_reason = "invalid character in host name (RFC 3986 §3.2.2)", FALSE;
      if (host_len > TS_LAB_PKI_MAX_NAME)
        return *out_reason = "host name too long (RFC 1035 §2.3.4)", FALSE;
    }
  if (colon != NULL)
    {
      const char *ps = colon + 1, *pe = s + len;
      guint port = 0;

      /* An empty port is the scheme's default in a URI (RFC 3986 §3.2.3;
       * RFC 9110 §4.2.3 gives http://example.com:/ as the same as
       * http://example.com/); CONNECT needs a port. */
      if (ps == pe && !port_required)
        {
          *out_host = g_strndup (host, host_len);
          return TRUE;
        }
      if (ps == pe)
        return *out_reason = "empty port (RFC 9110 §9.3.6)", FALSE;
      if (pe - ps > 5)
        return *out_reason = "port out of range (RFC 9110 §4.2.1)", FALSE;
      for (const char *q = ps; q < pe; q++)
        {
          if (!g_ascii_isdigit (*q))
            return *out_reason = "non-numeric port (RFC 3986 §3.2.3)", FALSE;
          port = port * 10 + (*q - '0');
        }
      if (port == 0 || port > 65535)
        return *out_reason = "port out of range (RFC 9110 §4.2.1)", FALSE;
      *out_port = port;
    }
  else if (port_required)
    return *out_reason = "missing port in CONNECT target (RFC 9110 §9.3.6)", FALSE;
  *out_host = g_strndup (host, host_len);
  return TRUE;
}

/* TRUE when a Connection field of @headers lists the token @token
 * (@token_len bytes, any case). */
static gboolean
connection_lists (const TsHttpHeader *headers, gsize n, const char *token, gsize token_len)
{
  for (gsize i = 0; i < n; i++)
    {
      const char *v = headers[i].value, *ve = v + headers[i].value_len;

      if (!ts_http_header_is (&headers[i], "Connection"))
        continue;
      while (v < ve)
        {
          const char *t;

          while (v < ve && (*v == ' ' || *v == '\t' || *v == ','))
            v++;
          t = v;
          while (v < ve && *v != ',' && *v != ' ' && *v != '\t')
            v++;
          if ((gsize)(v - t) == token_len && g_ascii_strncasecmp (t, token, token_len) == 0)
            return TRUE;
        }
    }
  return FALSE;
}

static gboolean
connection_has (const TsHttpHeader *headers, gsize n, const char *token)
{
  return connection_lists (headers, n, token, strlen (token));
}

/* Hop-by-hop fields (RFC 9110 §7.6.1) and what the proxy regenerates.
 * Proxy-Authentication-Info is for the next client on the response chain
 * only (RFC 9110 §11.7.2): a parent's is for us. (Trailer is not one: it
 * announces the trailer fields, which travel end to end with the chunked
 * body, RFC 9110 §6.6.2.) */
static gboolean
is_hop_by_hop (const TsHttpHeader *h, const TsHttpHeader *all, gsize n_all)
{
  static const char *const names[] = {
    "Connection",
    "Proxy-Connection",
    "Keep-Alive",
    "TE",
    "Upgrade",
    "Proxy-Authorization",
    "Proxy-Authenticate",
    "Host",
    "Proxy-Authentication-Info",
  };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (ts_http_header_is (h, names[i]))
      return TRUE;
  /* And the fields that Connection names, except the message's framing. */
  return connection_lists (all, n_all, h->name, h->name_len)
         && !ts_http_header_is (h, "Transfer-Encoding") && !ts_http_header_is (h, "Content-Length");
}

/* The index of the last field named @name, or -1. A message may carry
 * several Via lines (one list, RFC 9110 §5.3): the proxy's own entry goes
 * once, after the last of them (RFC 9110 §7.6.3). */
static gssize
last_header (const TsHttpHeader *headers, gsize n, const char *name)
{
  for (gsize i = n; i > 0; i--)
    if (ts_http_header_is (&headers[i - 1], name))
      return i - 1;
  return -1;
}

/* Max-Forwards on TRACE and OPTIONS (RFC 9110 §7.6.2): -1 when the
 * request has none that applies (other methods, or a value that is not
 * 1*DIGIT: sent on as it is), else its value (capped). */
static gint64
max_forwards (const TsHttpRequest *req)
{
  gssize i;
  const TsHttpHeader *h;
  gint64 v = 0;

  if (!ts_http_method_is (req->method, req->method_len, "TRACE")
      && !ts_http_method_is (req->method, req->method_len, "OPTIONS"))
    return -1;
  if ((i = ts_http_request_find_header (req, "Max-Forwards", 0)) < 0)
    return -1;
  h = &req->headers[i];
  if (h->value_len == 0)
    return -1;
  for (gsize k = 0; k < h->value_len; k++)
    {
      if (!g_ascii_isdigit (h->value[k]))
        return -1;
      v = MIN (v * 10 + (h->value[k] - '0'), G_MAXINT32);
    }
  return v;
}

/* TRACE or OPTIONS with Max-Forwards: 0: the proxy MUST NOT forward it and
 * answers as the final recipient (RFC 9110 §7.6.2): TRACE with the request
 * it received as message/http (§9.3.8; without credentials and cookies),
 * OPTIONS with the methods it relays. "OPTIONS *" asks the proxy itself
 * (§9.3.7), answered the same way. @why: the event's reason. */
static void
answer_as_final (TsProxy *p, TsConn *c, const TsHttpRequest *req, const char *why)
{
  TsTraceEvent *ev = event_new (p, "proxy.http.answered", c);

  ts_trace_event_add (ev, "method", c->method);
  ts_trace_event_add (ev, "reason", why);
  emit (p, ev);
  if (ts_http_method_is (req->method, req->method_len, "TRACE"))
    {
      g_autoptr (GString) body = g_string_new (NULL);

      g_string_append_printf (body, "%.*s %.*s HTTP/1.%d\r\n", (int)req->method_len, req->method,
                              (int)req->target_len, req->target, req->minor_version);
      for (gsize i = 0; i < req->n_headers; i++)
        {
          const TsHttpHeader *h = &req->headers[i];

          if (ts_http_header_is (h, "Proxy-Authorization") || ts_http_header_is (h, "Authorization")
              || ts_http_header_is (h, "Cookie"))
            continue;
          g_string_append_printf (body, "%.*s: %.*s\r\n", (int)h->name_len, h->name,
                                  (int)h->value_len, h->value);
        }
      g_string_append (body, "\r\n");
      conn_answer_with (p, c, 200, "message/http", NULL, body->str);
    }
  else
    conn_answer_with (p, c, 200, "text/plain",
                      "Allow: GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, TRACE, PATCH\r\n",
                      "");
}

/* Plain forwarding: how many of @len client bytes belong to the current
 * request's body (the rest is the next request). Sets http_request_done at
 * the body's end. Returns TS_HTTP_PARSE_INVALID on a malformed chunked
 * body (reason in @out_reason). */
static gssize
http_body_take (TsConn *c, const char *data, gsize len, const char **out_reason)
{
  TsSnoop *s = c->snoop[0];
  gsize take = 0;

  if (s->state == SNOOP_LENGTH)
    {
      take = MIN ((guint64)len, s->remaining);
      s->remaining -= take;
      if (s->remaining == 0)
        s->state = SNOOP_HEAD;
    }
  else if (s->state == SNOOP_CHUNKED && len > 0)
    {
      gssize r = ts_http_chunked_feed (&s->chunked, (const guint8 *)data, len);

      if (r < 0)
        {
          *out_reason = s->chunked.error;
          return TS_HTTP_PARSE_INVALID;
        }
      take = r;
      if (ts_http_chunked_is_done (&s->chunked))
        s->state = SNOOP_HEAD;
    }
  if (s->state == SNOOP_HEAD)
    {
      s->state = SNOOP_STOPPED;
      c->http_request_done = TRUE;
    }
  return take;
}

/* TRUE for "localhost" and its subdomains (RFC 6761 §6.3), in any case,
 * with or without the root's trailing dot: names that mean this host,
 * refused before any lookup (and through a parent, which resolves them
 * itself). */
static gboolean
host_is_localhost (const char *host)
{
  gsize len = strlen (host);

  if (len > 0 && host[len - 1] == '.')
    len--;
  if (len < 9 || g_ascii_strncasecmp (host + len - 9, "localhost", 9) != 0)
    return FALSE;
  return len == 9 || host[len - 10] == '.';
}

static void
decide_connect (TsProxy *p, TsConn *c, TsHttpRequest *req)
{
  const char *reason = NULL;
  guint port = 0;

  if (!parse_authority (req->target, req->target_len, TRUE, &c->host, &port, &reason))
    {
      conn_refuse (p, c, "proxy.request.rejected", 400, reason, NULL);
      return;
    }
  c->port = port;
  c->kind = KIND_CONNECT;
  g_free (c->url);
  c->url = g_strndup (req->target, req->target_len);
  if (ts_http_request_find_header (req, "Content-Length", 0) >= 0
      || ts_http_request_find_header (req, "Transfer-Encoding", 0) >= 0)
    {
      conn_refuse (p, c, "proxy.request.rejected", 400,
                   "CONNECT with content framing (RFC 9110 §9.3.6)", NULL);
      return;
    }
  if (!check_auth (p, c, req))
    return;
  if (!ts_proxy_port_allowed (p->o->connect_ports, port))
    {
      g_autofree char *why = g_strdup_printf ("port %u not allowed for CONNECT", port);
      conn_refuse (p, c, "proxy.connect.refused", 403, why, NULL);
      return;
    }
  if (host_is_localhost (c->host))
    {
      if (!p->o->allow_loopback || port == (guint)p->o->port)
        {
          conn_refuse (p, c, "proxy.connect.refused", 403, "target is loopback", NULL);
          return;
        }
    }
  if (p->o->parent_host)
    {
      TsTraceEvent *ev = event_new (p, "proxy.parent.chosen", c);
      GString *via = NULL;

      ts_trace_event_add_printf (ev, "parent", "%s:%u", p->o->parent_host, p->o->parent_port);
      emit (p, ev);
      c->via_parent = TRUE;
      /* The hops before ours, for the CONNECT we send the parent. */
      for (gssize i = ts_http_request_find_header (req, "Via", 0); i >= 0;
           i = ts_http_request_find_header (req, "Via", i + 1))
        {
          const TsHttpHeader *h = &req->headers[i];

          if (h->value_len == 0 || connection_lists (req->headers, req->n_headers, "Via", 3))
            continue;
          if (via == NULL)
            via = g_string_new (NULL);
          else
            g_string_append (via, ", ");
          g_string_append_len (via, h->value, h->value_len);
        }
      if (via != NULL)
        c->via_in = g_string_free (via, FALSE);
    }
  /* head_process () goes on with conn_resolve (). */
}

static void
decide_http (TsProxy *p, TsConn *c, TsHttpRequest *req, gsize head_len)
{
  const char *t = req->target, *te = req->target + req->target_len;
  const char *auth_end, *path;
  const char *reason = NULL;
  guint port = 80;
  TsHttpBodyKind kind;
  guint64 length;
  guint status;
  GString *out;
  gssize last_via;
  gint64 mf;

  c->kind = KIND_HTTP;
  c->url = g_strndup (req->target, req->target_len);
  if (req->target_len == 1 && req->target[0] == '*'
      && ts_http_method_is (req->method, req->method_len, "OPTIONS"))
    {
      /* Asterisk-form: the server as a whole, here the proxy (RFC 9112
       * §3.2.4, RFC 9110 §9.3.7). */
      if (check_auth (p, c, req))
        answer_as_final (p, c, req, "OPTIONS * asks the proxy itself");
      return;
    }
  if (req->target_len < 7 || g_ascii_strncasecmp (t, "http://", 7) != 0)
    {
      if (req->target[0] == '/' || req->target[0] == '*')
        conn_refuse (p, c, "proxy.request.rejected", 400,
                     "not a proxy request: absolute-form needed (RFC 9112 §3.2.2)", NULL);
      else if (memchr (t, ':', req->target_len) != NULL && memmem (t, req->target_len, "://", 3))
        conn_refuse (p, c, "proxy.request.rejected", 501,
                     "only http:// is forwarded; use CONNECT for https", NULL);
      else
        conn_refuse (p, c, "proxy.request.rejected", 400,
                     "authority-form is only for CONNECT (RFC 9112 §3.2.3)", NULL);
      return;
    }
  t += 7;
  for (auth_end = t; auth_end < te && *auth_end != '/' && *auth_end != '?' && *auth_end != '#';
       auth_end++)
    ;
  if (!parse_authority (t, auth_end - t, FALSE, &c->host, &port, &reason))
    {
      conn_refuse (p, c, "proxy.request.rejected", 400, reason, NULL);
      return;
    }
  c->port = port;
  if (memchr (auth_end, '#', te - auth_end) != NULL)
    {
      conn_refuse (p, c, "proxy.request.rejected", 400,
                   "fragment in request target (RFC 9112 §3.2)", NULL);
      return;
    }
  if (!ts_http_request_get_framing (req, &kind, &length, &status, &reason))
    {
      conn_refuse (p, c, "proxy.request.rejected", status, reason, NULL);
      return;
    }
  if (!check_auth (p, c, req))
    return;
  mf = max_forwards (req);
  if (mf == 0)
    {
      answer_as_final (p, c, req, "Max-Forwards: 0");
      return;
    }
  if (!ts_proxy_port_allowed (p->o->http_ports, port))
    {
      g_autofree char *why = g_strdup_printf ("port %u not allowed for HTTP", port);
      conn_refuse (p, c, "proxy.connect.refused", 403, why, NULL);
      return;
    }
  if (host_is_localhost (c->host) && (!p->o->allow_loopback || port == (guint)p->o->port))
    {
      conn_refuse (p, c, "proxy.connect.refused", 403, "target is loopback", NULL);
      return;
    }

  /* Body bytes that came with the head: check chunked framing now. */
  c->snoop[0] = snoop_new (FALSE);
  c->snoop[0]->n_messages = 1;
  if (kind == TS_HTTP_BODY_CHUNKED)
    {
      ts_http_chunked_init (&c->snoop[0]->chunked);
      c->snoop[0]->state = SNOOP_CHUNKED;
    }
  else if (kind == TS_HTTP_BODY_LENGTH)
    {
      c->snoop[0]->state = SNOOP_LENGTH;
      c->snoop[0]->remaining = length;
    }
  else
    c->snoop[0]->state = SNOOP_HEAD;

  /* The forwarded head (RFC 9112 §3.2.2, RFC 9110 §7.6). */
  path = auth_end < te ? auth_end : "/";
  out = g_string_sized_new (head_len + 128);
  g_string_append_printf (out, "%.*s ", (int)req->method_len, req->method);
  if (p->o->parent_host)
    g_string_append_len (out, req->target, req->target_len);
  else if (auth_end == te && ts_http_method_is (req->method, req->method_len, "OPTIONS"))
    /* OPTIONS for the server as a whole: the last proxy MUST send "*"
     * (RFC 9112 §3.2.4). */
    g_string_append_c (out, '*');
  else if (*path == '?')
    g_string_append_printf (out, "/%.*s", (int)(te - path), path);
  else
    g_string_append_len (out, path, auth_end < te ? te - path : 1);
  g_string_append (out, " HTTP/1.1\r\nHost: ");
  /* (Without the ':' of an empty port: RFC 3986 §3.2.3 normalization.) */
  g_string_append_len (out, t, auth_end - t - (auth_end[-1] == ':'));
  g_string_append (out, "\r\n");
  last_via = last_header (req->headers, req->n_headers, "Via");
  if (last_via >= 0 && is_hop_by_hop (&req->headers[last_via], req->headers, req->n_headers))
    last_via = -1;
  for (gsize i = 0; i < req->n_headers; i++)
    {
      const TsHttpHeader *h = &req->headers[i];

      if (is_hop_by_hop (h, req->headers, req->n_headers))
        continue;
      /* An HTTP/1.0 request's 100-continue expectation MUST be ignored
       * (RFC 9110 §10.1.1): the origin is not asked for a 100. */
      if (req->minor_version == 0 && ts_http_header_is (h, "Expect"))
        continue;
      if ((gssize)i == last_via)
        {
          g_string_append_printf (out, "Via: %.*s, 1.%d %s\r\n", (int)h->value_len, h->value,
                                  req->minor_version, p->o->node);
          continue;
        }
      if (mf > 0 && ts_http_header_is (h, "Max-Forwards"))
        {
          /* One hop used (RFC 9110 §7.6.2). */
          g_string_append_printf (out, "Max-Forwards: %" G_GINT64_FORMAT "\r\n", mf - 1);
          continue;
        }
      g_string_append_len (out, h->name, h->name_len);
      g_string_append (out, ": ");
      g_string_append_len (out, h->value, h->value_len);
      g_string_append (out, "\r\n");
    }
  if (last_via < 0)
    g_string_append_printf (out, "Via: 1.%d %s\r\n", req->minor_version, p->o->node);
  if (p->o->parent_host && p->o->parent_auth_b64)
    g_string_append_printf (out, "Proxy-Authorization: Basic %s\r\n", p->o->parent_auth_b64);
  g_string_append (out, "Connection: close\r\n\r\n");
  buf_append (&c->to_s, out->str, out->len);
  g_string_free (out, TRUE);

  c->head_ring = ts_http_method_is (req->method, req->method_len, "HEAD");
  c->req_is_head = c->head_ring & 1;
  c->keepalive = req->minor_version >= 1 && !connection_has (req->headers, req->n_headers, "close");
  c->client_http10 = req->minor_version == 0;
  /* Body bytes that came with the head: only those of this request go
   * upstream; what follows is the client's next request. */
  {
    gsize left = c->head_len - head_len;
    const char *why = NULL;
    gssize fwd = http_body_take (c, c->head + head_len, left, &why);

    if (fwd < 0)
      {
        conn_refuse (p, c, "proxy.request.rejected", 400, why, NULL);
        return;
      }
    buf_append (&c->to_s, c->head + head_len, fwd);
    if (c->keepalive && (gsize)fwd < left)
      buf_append (&c->pipelined, c->head + head_len + fwd, left - fwd);
  }
  {
    TsTraceEvent *ev = event_new (p, "proxy.http.forwarded", c);

    ts_trace_event_add (ev, "method", c->method);
    ts_trace_event_add (ev, "url", c->url);
    emit (p, ev);
  }
  if (p->o->parent_host)
    {
      TsTraceEvent *ev = event_new (p, "proxy.parent.chosen", c);

      ts_trace_event_add_printf (ev, "parent", "%s:%u", p->o->parent_host, p->o->parent_port);
      emit (p, ev);
      c->via_parent = TRUE;
    }
  /* head_process () goes on with conn_resolve (). */
}

static void head_process (TsProxy *p, TsConn *c);

static void
on_head_readable (TsProxy *p, TsConn *c)
{
  gssize n;

  if (c->head == NULL)
    {
      c->head_cap = TS_PROXY_HEAD_INITIAL;
      c->head = g_malloc (c->head_cap);
    }
  if (c->head_len == c->head_cap)
    {
      c->head_cap = MIN (c->head_cap * 2, TS_HTTP_MAX_HEAD + 1);
      c->head = g_realloc (c->head, c->head_cap);
    }
  n = recv (c->c.fd, c->head + c->head_len, c->head_cap - c->head_len, 0);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (n <= 0)
    {
      if (c->head_len > 0)
        {
          TsTraceEvent *ev = event_new (p, "proxy.request.incomplete", c);
          ts_trace_event_add_printf (ev, "bytes", "%u", c->head_len);
          emit (p, ev);
        }
      conn_close (p, c, n == 0 ? "client closed" : "client error");
      return;
    }
  c->head_len += n;
  head_process (p, c);
}

/* Parses what the head buffer holds and decides. */
static void
head_process (TsProxy *p, TsConn *c)
{
  TsHttpRequest req;
  gssize r;

  r = ts_http_request_parse (&req, c->head, c->head_len, c->head_last);
  if (r == TS_HTTP_PARSE_INCOMPLETE)
    {
      c->head_last = c->head_len;
      return;
    }
  p->request_seen = TRUE;
  if (r < 0)
    {
      conn_refuse (p, c, "proxy.request.rejected", req.status, req.reason, NULL);
      return;
    }
  c->head_used = r;
  c->method = g_strndup (req.method, req.method_len);
  if (ts_http_method_is (req.method, req.method_len, "CONNECT"))
    {
      if (req.minor_version >= 1 && ts_http_request_find_header (&req, "Host", 0) < 0)
        {
          conn_refuse (p, c, "proxy.request.rejected", 400,
                       "missing Host in HTTP/1.1 (RFC 9112 §3.2)", NULL);
          return;
        }
      if (ts_http_request_find_header (&req, "Host", 0) >= 0
          && ts_http_request_find_header (&req, "Host",
                                          ts_http_request_find_header (&req, "Host", 0) + 1)
                 >= 0)
        {
          conn_refuse (p, c, "proxy.request.rejected", 400, "more than one Host (RFC 9112 §3.2)",
                       NULL);
          return;
        }
      decide_connect (p, c, &req);
    }
  else
    decide_http (p, c, &req, r);
  /* A decision that did not answer leaves the state alone: the request
   * goes upstream. */
  if (!c->dead && c->state == ST_HEAD)
    {
      /* Early bytes after a CONNECT head go to the target once the tunnel
       * is up; after a forwarded head they were queued already. */
      if (c->kind == KIND_CONNECT && c->head_len > (guint32)r)
        buf_append (&c->buf[0], c->head + r, c->head_len - r);
      g_clear_pointer (&c->head, g_free);
      c->head_len = c->head_cap = c->head_last = 0;
      /* Last: the connection may be up, and relaying, when it returns. */
      conn_resolve (p, c);
    }
}

/* ------------------------------------------------------------------ */
/* TLS interception */

static void
keylog_cb (const SSL *ssl, const char *line)
{
  TsProxy *p = proxy_singleton;
  g_autofree char *l = g_strconcat (line, "\n", NULL);
  ssize_t r;

  if (p->keylog_fd < 0)
    return;
  r = write (p->keylog_fd, l, strlen (l));
  (void)r;
}

static void
leaf_free (gpointer data)
{
  TsLeaf *l = data;

  X509_free (l->cert);
  EVP_PKEY_free (l->key);
  g_free (l);
}

static TsLeaf *
leaf_get (TsProxy *p, TsConn *c, const char *name)
{
  TsLeaf *l = g_hash_table_lookup (p->leaves, name);
  g_autoptr (GError) error = NULL;
  gint64 now = g_get_real_time ();
  TsTraceEvent *ev;

  /* Re-mint when less than a minute of life is left. */
  if (l != NULL && l->expires - 60 * G_USEC_PER_SEC > now)
    return l;
  if (g_hash_table_size (p->leaves) >= TS_PROXY_LEAF_CACHE_MAX)
    g_hash_table_remove_all (p->leaves);
  l = g_new0 (TsLeaf, 1);
  l->cert
      = ts_lab_pki_mint_leaf (p->ca_cert, p->ca_key, name, p->o->leaf_lifetime_s, &l->key, &error);
  if (l->cert == NULL)
    {
      ev = event_new (p, "proxy.cert.failed", c);
      ts_trace_event_add (ev, "name", name);
      ts_trace_event_add (ev, "reason", error->message);
      emit (p, ev);
      g_free (l);
      return NULL;
    }
  /* From the leaf itself: the CA's own end may have cut its life short. */
  {
    int days = 0, secs = 0;

    ASN1_TIME_diff (&days, &secs, NULL, X509_get0_notAfter (l->cert));
    l->expires = now + ((gint64)days * 86400 + secs) * G_USEC_PER_SEC;
  }
  g_hash_table_replace (p->leaves, g_strdup (name), l);
  ev = event_new (p, "proxy.cert.minted", c);
  ts_trace_event_add (ev, "name", name);
  {
    BIGNUM *bn = ASN1_INTEGER_to_BN (X509_get0_serialNumber (l->cert), NULL);
    char *hex = BN_bn2hex (bn);

    ts_trace_event_add (ev, "serial", hex);
    OPENSSL_free (hex);
    BN_free (bn);
  }
  ts_trace_event_add (ev, "issuer", "Tunnelscope Lab Intercept CA");
  /* What is left of it (--leaf-lifetime, unless the CA ends sooner). */
  ts_trace_event_add_printf (ev, "lifetime_s", "%" G_GINT64_FORMAT,
                             (l->expires - now) / G_USEC_PER_SEC);
  emit (p, ev);
  return l;
}

/* Picks the leaf during the handshake, once the SNI is known. A DNS name
 * is compared without regard to case (RFC 4343) and the SNI carries no
 * trailing dot (RFC 6066 §3): the name is lowered and such a dot dropped,
 * so that WWW.Example.COM. and www.example.com share a leaf, the leaf
 * holds a name that the CA's nameConstraints can permit, and the origin
 * gets that name in its SNI. */
static int
cert_cb (SSL *ssl, void *arg)
{
  TsProxy *p = arg;
  TsConn *c = SSL_get_app_data (ssl);
  const char *sni = SSL_get_servername (ssl, TLSEXT_NAMETYPE_host_name);
  g_autofree char *name = g_ascii_strdown (sni ? sni : c->host, -1);
  gsize len = strlen (name);
  TsLeaf *l;

  if (len > 1 && name[len - 1] == '.')
    name[len - 1] = '\0';
  if (sni != NULL && c->sni == NULL)
    c->sni = g_strdup (name);
  l = leaf_get (p, c, name);
  if (l == NULL)
    return 0;
  return SSL_use_cert_and_key (ssl, l->cert, l->key, NULL, 1) == 1 ? 1 : 0;
}

/* Only http/1.1 (the decrypted relay speaks HTTP/1). A client whose ALPN
 * list lacks it (h2 alone) gets a fatal no_application_protocol alert
 * (RFC 7301 §3.2), not a session in which its h2 would be taken for
 * malformed HTTP/1. */
static int
alpn_cb (SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
         unsigned int inlen, void *arg)
{
  for (unsigned int i = 0; i < inlen; i += 1 + in[i])
    if (in[i] == 8 && i + 9 <= inlen && memcmp (in + i + 1, "http/1.1", 8) == 0)
      {
        *out = in + i + 1;
        *outlen = 8;
        return SSL_TLSEXT_ERR_OK;
      }
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

static gboolean
tls_setup (TsProxy *p, GError **error)
{
  static const unsigned char alpn[] = "\x08http/1.1";

  p->ca_cert = ts_lab_pki_load_cert (p->o->ca_cert, error);
  if (p->ca_cert == NULL)
    return FALSE;
  p->ca_key = ts_lab_pki_load_key (p->o->ca_key, error);
  if (p->ca_key == NULL)
    return FALSE;
  p->sctx = SSL_CTX_new (TLS_server_method ());
  p->cctx = SSL_CTX_new (TLS_client_method ());
  SSL_CTX_set_min_proto_version (p->sctx, TLS1_2_VERSION);
  SSL_CTX_set_min_proto_version (p->cctx, TLS1_2_VERSION);
  SSL_CTX_set_cert_cb (p->sctx, cert_cb, p);
  SSL_CTX_set_alpn_select_cb (p->sctx, alpn_cb, p);
  SSL_CTX_set_alpn_protos (p->cctx, alpn, sizeof alpn - 1);
  SSL_CTX_set_keylog_callback (p->sctx, keylog_cb);
  SSL_CTX_set_keylog_callback (p->cctx, keylog_cb);
  SSL_CTX_set_options (p->sctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_options (p->cctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_mode (p->sctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_mode (p->cctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_verify (p->cctx, SSL_VERIFY_PEER, NULL);
  if (p->o->web_ca == NULL || SSL_CTX_load_verify_locations (p->cctx, p->o->web_ca, NULL) != 1)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "cannot load the Web Root CA from %s (--web-ca or TS_WEB_CA)",
                   p->o->web_ca ? p->o->web_ca : "(unset)");
      return FALSE;
    }
  return TRUE;
}

static void
tls_fail (TsProxy *p, TsConn *c, const char *kind, const char *why)
{
  TsTraceEvent *ev = event_new (p, kind, c);
  unsigned long e = ERR_peek_error ();
  char buf[256];

  ts_trace_event_add (ev, "reason", why);
  if (e)
    {
      ERR_error_string_n (e, buf, sizeof buf);
      ts_trace_event_add (ev, "openssl", buf);
    }
  emit (p, ev);
  ERR_clear_error ();
}

/* The origin's TLS failed or timed out: an event says why, and the client,
 * already told 200 and in its TLS session with us, gets @status (502, 504)
 * inside it. */
static void
origin_tls_fail (TsProxy *p, TsConn *c, guint status, const char *why)
{
  g_autofree char *msg = NULL;
  size_t w;

  tls_fail (p, c, "proxy.intercept.origin_failed", why);
  msg = g_strdup_printf ("HTTP/1.1 %u %s\r\nContent-Type: text/plain\r\n"
                         "Content-Length: %zu\r\nConnection: close\r\n\r\nts-proxy: %s\n",
                         status, status_text (status), strlen (why) + 11, why);
  SSL_write_ex (c->c.ssl, msg, strlen (msg), &w);
  ERR_clear_error ();
  c->status = status;
  conn_close (p, c, why);
}

static void
start_origin_tls (TsProxy *p, TsConn *c)
{
  const char *name = c->sni ? c->sni : c->host;
  struct in6_addr tmp;
  gboolean is_ip = inet_pton (AF_INET, name, &tmp) == 1 || inet_pton (AF_INET6, name, &tmp) == 1;

  c->s.ssl = SSL_new (p->cctx);
  SSL_set_fd (c->s.ssl, c->s.fd);
  SSL_set_app_data (c->s.ssl, c);
  SSL_set_connect_state (c->s.ssl);
  if (is_ip)
    X509_VERIFY_PARAM_set1_ip_asc (SSL_get0_param (c->s.ssl), name);
  else
    {
      SSL_set_tlsext_host_name (c->s.ssl, name);
      SSL_set1_host (c->s.ssl, name);
    }
  c->state = ST_TLS_ORIGIN;
  /* Reaching the origin, TLS included, has --connect-timeout, as a plain
   * CONNECT's TCP connection has; not what is left of the client's. */
  c->deadline = now_us () + (gint64)p->o->connect_timeout_s * G_USEC_PER_SEC;
}

static void
drive_handshake (TsProxy *p, TsConn *c)
{
  TsEndp *e = c->state == ST_TLS_CLIENT ? &c->c : &c->s;
  int r = SSL_do_handshake (e->ssl);

  if (r == 1)
    {
      e->rd_want = 0;
      if (c->state == ST_TLS_CLIENT)
        {
          TsTraceEvent *ev = event_new (p, "proxy.intercept.started", c);
          const unsigned char *alpn = NULL;
          unsigned int alpn_len = 0;

          SSL_get0_alpn_selected (e->ssl, &alpn, &alpn_len);
          ts_trace_event_add (ev, "sni", c->sni ? c->sni : "");
          ts_trace_event_add_printf (ev, "alpn", "%.*s", (int)alpn_len, alpn ? (char *)alpn : "");
          ts_trace_event_add (ev, "version", SSL_get_version (e->ssl));
          emit (p, ev);
          start_origin_tls (p, c);
          drive_handshake (p, c);
          return;
        }
      {
        TsTraceEvent *ev = event_new (p, "proxy.intercept.origin", c);

        ts_trace_event_add (ev, "verify", "ok");
        ts_trace_event_add (ev, "version", SSL_get_version (e->ssl));
        emit (p, ev);
      }
      c->snoop[0] = snoop_new (FALSE);
      c->snoop[1] = snoop_new (TRUE);
      c->state = ST_PUMP;
      pump_run (p, c);
      return;
    }
  switch (SSL_get_error (e->ssl, r))
    {
      case SSL_ERROR_WANT_READ:
        e->rd_want = EPOLLIN;
        break;
      case SSL_ERROR_WANT_WRITE:
        e->rd_want = EPOLLOUT;
        break;
      default:
        if (c->state == ST_TLS_CLIENT)
          {
            /* OpenSSL has sent its alert; the client's connection ends in
             * a lingering close, so that what it still sends is not
             * answered with a reset that may destroy the alert (RFC 9112
             * §9.6 for the same reason). */
            tls_fail (p, c, "proxy.intercept.client_failed", "client TLS handshake failed");
            conn_relay_over (p, c, "client TLS handshake failed");
            conn_linger_side (p, c, 0);
          }
        else
          {
            long v = SSL_get_verify_result (e->ssl);
            g_autofree char *why = g_strdup_printf (
                "origin TLS handshake failed: %s",
                v != X509_V_OK ? X509_verify_cert_error_string (v) : "handshake error");

            origin_tls_fail (p, c, 502, why);
          }
        return;
    }
  conn_update (p, c);
}

static void
on_peek (TsProxy *p, TsConn *c)
{
  guint8 b;
  gssize n = recv (c->c.fd, &b, 1, MSG_PEEK);

  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (n <= 0)
    {
      c->state = ST_SPLICE;
      conn_close (p, c, "client closed");
      return;
    }
  /* A TLS handshake record starts 0x16 0x03 (RFC 8446 §5.1). */
  if (b == 0x16)
    {
      c->intercepted = TRUE;
      c->c.ssl = SSL_new (p->sctx);
      SSL_set_fd (c->c.ssl, c->c.fd);
      SSL_set_app_data (c->c.ssl, c);
      SSL_set_accept_state (c->c.ssl);
      c->state = ST_TLS_CLIENT;
      c->deadline = now_us () + (gint64)p->o->header_timeout_s * G_USEC_PER_SEC;
      drive_handshake (p, c);
      return;
    }
  {
    TsTraceEvent *ev = event_new (p, "proxy.intercept.passthrough", c);
    ts_trace_event_add (ev, "reason", "client bytes are not TLS");
    emit (p, ev);
  }
  c->state = ST_SPLICE;
  splice_run (p, c);
}

/* ------------------------------------------------------------------ */
/* Relays */

static gssize
endp_read (TsEndp *e, char *data, gsize len)
{
  if (e->ssl)
    {
      size_t n = 0;
      int r = SSL_read_ex (e->ssl, data, len, &n);

      if (r == 1)
        {
          e->rd_want = 0;
          return n;
        }
      switch (SSL_get_error (e->ssl, r))
        {
          case SSL_ERROR_WANT_READ:
            e->rd_want = EPOLLIN;
            return -EAGAIN;
          case SSL_ERROR_WANT_WRITE:
            e->rd_want = EPOLLOUT;
            return -EAGAIN;
          case SSL_ERROR_ZERO_RETURN:
            return 0;
          default:
            ERR_clear_error ();
            return -EIO;
        }
    }
  else
    {
      gssize n = recv (e->fd, data, len, 0);

      if (n >= 0)
        return n;
      if (errno == EAGAIN || errno == EINTR)
        {
          e->rd_want = EPOLLIN;
          return -EAGAIN;
        }
      return -errno;
    }
}

/* Plain forwarding, keep-alive: forgets the exchange that ended and reads
 * the client's next request (bytes it already sent first). */
static void
http_next (TsProxy *p, TsConn *c)
{
  TsBuf next = c->pipelined;

  access_log (p, c);
  endp_close (p, &c->s);
  for (int d = 0; d < 2; d++)
    {
      snoop_free (p, c->snoop[d]);
      c->snoop[d] = NULL;
      buf_clear (&c->buf[d]);
      c->eof[d] = FALSE;
      c->bytes[d] = 0;
    }
  buf_clear (&c->rstage);
  memset (&c->pipelined, 0, sizeof c->pipelined);
  g_clear_pointer (&c->host, g_free);
  g_clear_pointer (&c->method, g_free);
  g_clear_pointer (&c->url, g_free);
  c->kind = KIND_NONE;
  c->status = 0;
  c->logged = c->via_parent = c->http_request_done = FALSE;
  c->keepalive = c->response_done = c->rstaging = c->req_is_head = FALSE;
  c->client_http10 = FALSE;
  g_clear_pointer (&c->dechunk, g_free);
  c->head_ring = 0;
  c->n_done++;
  c->t_start = now_us ();
  c->deadline = c->t_start + (gint64)p->o->header_timeout_s * G_USEC_PER_SEC;
  c->state = ST_HEAD;
  c->c.rd_want = c->c.wr_want = 0;
  if (buf_pending (&next) > 0)
    {
      c->head_cap = MAX (TS_PROXY_HEAD_INITIAL, buf_pending (&next));
      c->head = g_malloc (c->head_cap);
      c->head_len = buf_pending (&next);
      memcpy (c->head, next.data + next.off, c->head_len);
      c->head_last = 0;
      buf_clear (&next);
      head_process (p, c);
      if (!c->dead && c->state == ST_HEAD)
        conn_update (p, c);
      return;
    }
  buf_clear (&next);
  conn_update (p, c);
}

/* Plain forwarding to an HTTP/1.0 client: replaces the @len bytes at
 * @data with the chunk data they hold (what follows the chunked body's end
 * is dropped). FALSE when the chunked framing is invalid. */
static gboolean
dechunk_in_place (TsConn *c, char *data, guint32 *len)
{
  gsize out_len = 0;

  if (ts_http_chunked_decode (c->dechunk, (const guint8 *)data, *len, (guint8 *)data, &out_len) < 0)
    return FALSE;
  *len = out_len;
  return TRUE;
}

/* Plain forwarding: rewrites the response heads staged in c->rstage into
 * c->buf[1] (RFC 9110 §7.6: hop-by-hop fields removed, Via added) until the
 * final (non-1xx) head has passed; then the rest flows unchanged. Returns
 * FALSE when the connection was answered or closed. */
static gboolean
rewrite_response_heads (TsProxy *p, TsConn *c)
{
  while (c->rstaging)
    {
      TsHttpResponse resp;
      gssize r = ts_http_response_parse (&resp, c->rstage.data, c->rstage.len, 0);
      GString *out;
      gssize last_via;
      TsHttpBodyKind framing;
      guint64 length;
      gboolean drop_length, dechunk;
      const char *framing_error = NULL;

      if (r == TS_HTTP_PARSE_INCOMPLETE)
        return TRUE;
      if (r < 0)
        {
          conn_refuse (p, c, "proxy.http.bad_response", 502,
                       resp.error ? resp.error : "malformed response head", NULL);
          return FALSE;
        }
      if (resp.status < 200 && resp.status != 101 && c->client_http10)
        {
          /* No 1xx to an HTTP/1.0 client (RFC 9110 §15.2: MUST NOT). */
          memmove (c->rstage.data, c->rstage.data + r, c->rstage.len - r);
          c->rstage.len -= r;
          continue;
        }
      if (c->via_parent && resp.status == 407)
        {
          /* The parent's credentials are ours to send, not the client's:
           * as for CONNECT, a 502 (passed on, the 407 would reach the
           * client without its Proxy-Authenticate, a hop-by-hop field). */
          g_autofree char *why = g_strdup_printf ("parent answered %u %.*s", resp.status,
                                                  (int)resp.reason_phrase_len, resp.reason_phrase);

          conn_refuse (p, c, "proxy.parent.refused", 502, why, NULL);
          return FALSE;
        }
      /* The final answer's framing (RFC 9112 §6.3): an invalid one is a
       * 502 (item 5), never passed on for the client to read its own
       * way. */
      if (!ts_http_response_get_framing (&resp,
                                         resp.status < 200 || c->req_is_head || resp.status == 204
                                             || resp.status == 304,
                                         &framing, &length, &drop_length, &framing_error))
        {
          conn_refuse (p, c, "proxy.http.bad_response", 502, framing_error, NULL);
          return FALSE;
        }
      /* No Transfer-Encoding to an HTTP/1.0 client (RFC 9112 §6.1: MUST
       * NOT): chunked is removed, the body then ends with the connection
       * (it is not kept); any other coding cannot be sent at all. */
      dechunk = FALSE;
      if (resp.status >= 200 && c->client_http10
          && ts_http_response_find_header (&resp, "Transfer-Encoding", 0) >= 0
          && framing != TS_HTTP_BODY_NONE)
        {
          for (gssize k = ts_http_response_find_header (&resp, "Transfer-Encoding", 0); k >= 0;
               k = ts_http_response_find_header (&resp, "Transfer-Encoding", k + 1))
            if (resp.headers[k].value_len != 7
                || g_ascii_strncasecmp (resp.headers[k].value, "chunked", 7) != 0)
              {
                conn_refuse (p, c, "proxy.http.bad_response", 502,
                             "a transfer coding an HTTP/1.0 client cannot receive (RFC 9112 §6.1)",
                             NULL);
                return FALSE;
              }
          dechunk = TRUE;
        }
      out = g_string_sized_new (r + 64);
      g_string_append_printf (out, "HTTP/1.1 %u %.*s\r\n", resp.status, (int)resp.reason_phrase_len,
                              resp.reason_phrase);
      last_via = last_header (resp.headers, resp.n_headers, "Via");
      if (last_via >= 0 && is_hop_by_hop (&resp.headers[last_via], resp.headers, resp.n_headers))
        last_via = -1;
      for (gsize i = 0; i < resp.n_headers; i++)
        {
          const TsHttpHeader *h = &resp.headers[i];

          if (is_hop_by_hop (h, resp.headers, resp.n_headers))
            continue;
          /* Transfer-Encoding frames it: a proxy MUST remove Content-Length
           * (RFC 9112 §6.3 item 3). */
          if (drop_length && ts_http_header_is (h, "Content-Length"))
            continue;
          if (dechunk && ts_http_header_is (h, "Transfer-Encoding"))
            continue;
          if ((gssize)i == last_via)
            {
              g_string_append_printf (out, "Via: %.*s, 1.%d %s\r\n", (int)h->value_len, h->value,
                                      resp.minor_version, p->o->node);
              continue;
            }
          g_string_append_printf (out, "%.*s: %.*s\r\n", (int)h->name_len, h->name,
                                  (int)h->value_len, h->value);
        }
      if (last_via < 0)
        g_string_append_printf (out, "Via: 1.%d %s\r\n", resp.minor_version, p->o->node);
      /* A recipient with a clock that forwards a response without Date
       * MUST add one (RFC 9110 §6.6.1). */
      if (resp.status >= 200 && ts_http_response_find_header (&resp, "Date", 0) < 0)
        {
          char date[64];

          date_field (date, sizeof date);
          g_string_append (out, date);
        }
      /* The client's connection stays open only when this response's end
       * is known without the origin closing (RFC 9112 §6.3). */
      if (resp.status >= 200 && c->keepalive)
        {
          if (framing == TS_HTTP_BODY_UNTIL_CLOSE)
            c->keepalive = FALSE;
        }
      else if (resp.status >= 200)
        c->keepalive = FALSE;
      /* A final answer before the request's body has all come: the rest of
       * that body is not a next request, and the origin may not read it
       * (RFC 9112 §9.6): the client's connection closes after the answer. */
      if (resp.status >= 200 && !c->http_request_done)
        c->keepalive = FALSE;
      if (resp.status < 200 || c->keepalive)
        g_string_append (out, "\r\n");
      else
        g_string_append (out, "Connection: close\r\n\r\n");
      buf_append (&c->buf[1], out->str, out->len);
      g_string_free (out, TRUE);
      memmove (c->rstage.data, c->rstage.data + r, c->rstage.len - r);
      c->rstage.len -= r;
      if (resp.status >= 200 || resp.status == 101)
        {
          c->rstaging = FALSE;
          if (dechunk)
            {
              c->dechunk = g_new (TsHttpChunked, 1);
              ts_http_chunked_init (c->dechunk);
              if (!dechunk_in_place (c, c->rstage.data, &c->rstage.len))
                {
                  conn_refuse (p, c, "proxy.http.bad_response", 502, c->dechunk->error, NULL);
                  return FALSE;
                }
            }
          buf_append (&c->buf[1], c->rstage.data, c->rstage.len);
          buf_clear (&c->rstage);
        }
    }
  return TRUE;
}

/* Relays through buffers: TLS on either side, or plain forwarding. */
static void
pump_run (TsProxy *p, TsConn *c)
{
  TsEndp *src[2] = { &c->c, &c->s }, *dst[2] = { &c->s, &c->c };
  gboolean progress = TRUE;

  for (int d = 0; d < 2; d++)
    if (c->buf[d].cap < TS_PROXY_RELAY_BUF)
      {
        c->buf[d].data = g_realloc (c->buf[d].data, TS_PROXY_RELAY_BUF);
        c->buf[d].cap = TS_PROXY_RELAY_BUF;
      }
  while (progress)
    {
      progress = FALSE;
      for (int d = 0; d < 2; d++)
        {
          TsBuf *b = &c->buf[d];
          gboolean reading = !c->eof[d] && !(d == 0 && c->http_request_done);

          if (reading && b->len < b->cap)
            {
              gssize n;

              if (b->off == b->len)
                b->off = b->len = 0;
              n = endp_read (src[d], b->data + b->len, b->cap - b->len);
              if (n > 0)
                {
                  const char *why = NULL;

                  if (d == 0 && c->kind == KIND_HTTP)
                    {
                      gssize take = http_body_take (c, b->data + b->len, n, &why);

                      if (take < 0)
                        {
                          if (c->bytes[1] == 0)
                            {
                              conn_refuse (p, c, "proxy.request.rejected", 400, why, NULL);
                              return;
                            }
                          conn_close (p, c, why);
                          return;
                        }
                      /* Past this request's end: the next request. */
                      if (c->keepalive && take < n)
                        buf_append (&c->pipelined, b->data + b->len + take, n - take);
                      n = take;
                    }
                  else if (c->snoop[d]
                           && !snoop_feed (p, c, c->snoop[d], b->data + b->len, n, &why))
                    {
                      TsTraceEvent *ev = event_new (p, "proxy.relay.anomaly", c);

                      ts_trace_event_add (ev, "direction", d == 0 ? "up" : "down");
                      ts_trace_event_add (ev, "reason", why ? why : "malformed");
                      emit (p, ev);
                      if (d == 0 && c->kind == KIND_HTTP && c->bytes[1] == 0)
                        {
                          conn_refuse (p, c, "proxy.request.rejected", 400,
                                       why ? why : "malformed body", NULL);
                          return;
                        }
                    }
                  c->bytes[d] += n;
                  progress = TRUE;
                  if (d == 1 && c->rstaging)
                    {
                      if (c->rstage.len + n > TS_HTTP_MAX_HEAD + TS_PROXY_RELAY_BUF)
                        {
                          conn_refuse (p, c, "proxy.http.bad_response", 502,
                                       "response head too large", NULL);
                          return;
                        }
                      buf_append (&c->rstage, b->data + b->len, n);
                      if (!rewrite_response_heads (p, c))
                        return;
                    }
                  else if (d == 1 && c->dechunk)
                    {
                      guint32 m = n;

                      if (!dechunk_in_place (c, b->data + b->len, &m))
                        {
                          conn_close (p, c, c->dechunk->error);
                          return;
                        }
                      b->len += m;
                    }
                  else
                    b->len += n;
                }
              else if (n == 0)
                {
                  if (d == 1 && c->rstaging)
                    {
                      conn_refuse (p, c, "proxy.http.bad_response", 502,
                                   "origin closed before a complete response head", NULL);
                      return;
                    }
                  c->eof[d] = TRUE;
                  progress = TRUE;
                }
              else if (n != -EAGAIN)
                {
                  conn_close (p, c, d == 0 ? "client error" : "server error");
                  return;
                }
            }
          if (buf_pending (b) > 0)
            {
              guint32 before = buf_pending (b);

              if (!flush_buf (dst[d], b))
                {
                  conn_close (p, c, d == 0 ? "server error" : "client error");
                  return;
                }
              if (buf_pending (b) != before)
                progress = TRUE;
            }
        }
    }
  /* Plain forwarding: the response was delivered and the client may send
   * its next request on the same connection. */
  if (c->kind == KIND_HTTP && c->keepalive && c->response_done && c->http_request_done
      && !c->rstaging && buf_pending (&c->buf[1]) == 0)
    {
      http_next (p, c);
      return;
    }
  /* Plain forwarding: the origin answered and closed before the request's
   * body had all come. Its answer delivered, the client's connection ends
   * in a lingering close (RFC 9112 §9.6): closing with the rest of the body
   * unread would reset the connection, and the answer with it. */
  if (c->kind == KIND_HTTP && !c->http_request_done && c->eof[1] && !c->rstaging
      && buf_pending (&c->buf[1]) == 0)
    {
      conn_linger (p, c);
      return;
    }
  /* The tunnel rule (RFC 9110 §9.3.6): when one side closed and what it
   * sent was delivered, close both. Plain forwarding waits for the
   * server's end instead of the client's. */
  for (int d = 0; d < 2; d++)
    if (c->eof[d] && buf_pending (&c->buf[d]) == 0 && !(c->kind == KIND_HTTP && d == 0))
      {
        conn_side_closed (p, c, d);
        return;
      }
  /* Plain forwarding, not kept: the response was delivered and said
   * "close", so the connection must close now (RFC 9112 §9.6; an answer
   * that came before the request's end waits for the origin's close, as
   * above, which may still read the body). The origin
   * was told "close" too, and its close normally comes with its response;
   * one that keeps its connection open gets TS_PROXY_CLOSE_GRACE_S (then
   * sweep () closes both). */
  if (c->kind == KIND_HTTP && !c->keepalive && c->response_done && c->http_request_done
      && !c->rstaging && buf_pending (&c->buf[1]) == 0)
    {
      c->deadline = MIN (c->deadline, now_us () + TS_PROXY_CLOSE_GRACE_S * G_USEC_PER_SEC);
      conn_update (p, c);
      return;
    }
  c->deadline = now_us () + (gint64)p->o->idle_timeout_s * G_USEC_PER_SEC;
  conn_update (p, c);
}

static gboolean
pipes_make (TsConn *c, int d)
{
  int fds[2];

  if (c->pipe_r[d] >= 0)
    return TRUE;
  if (pipe2 (fds, O_NONBLOCK | O_CLOEXEC) != 0)
    return FALSE;
  /* A larger pipe moves more per splice () call: fewer wake-ups. Its
   * pages are only taken while bytes are in flight. */
  fcntl (fds[1], F_SETPIPE_SZ, TS_PROXY_PIPE_SIZE);
  c->pipe_r[d] = fds[0];
  c->pipe_w[d] = fds[1];
  return TRUE;
}

/* The blind relay: socket -> pipe -> socket, no copy through user space. */
static void
splice_run (TsProxy *p, TsConn *c)
{
  TsEndp *src[2] = { &c->c, &c->s }, *dst[2] = { &c->s, &c->c };

  /* Early bytes (after the CONNECT head, or from the parent) go first,
   * through the buffered path. */
  for (int d = 0; d < 2; d++)
    if (buf_pending (&c->buf[d]) > 0)
      {
        if (!flush_buf (dst[d], &c->buf[d]))
          {
            conn_close (p, c, "write error");
            return;
          }
        if (buf_pending (&c->buf[d]) > 0)
          {
            c->out_blocked[d] = TRUE;
            conn_update (p, c);
            return;
          }
        buf_clear (&c->buf[d]);
      }
  for (int d = 0; d < 2; d++)
    {
      for (int round = 0; round < 8; round++)
        {
          gboolean progress = FALSE;
          gssize n;

          if (c->fill[d] > 0)
            {
              n = splice (c->pipe_r[d], NULL, dst[d]->fd, NULL, c->fill[d],
                          SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
              if (n > 0)
                {
                  c->fill[d] -= n;
                  c->out_blocked[d] = FALSE;
                  c->in_blocked[d] = FALSE;
                  progress = TRUE;
                }
              else if (n < 0 && errno == EAGAIN)
                c->out_blocked[d] = TRUE;
              else
                {
                  conn_close (p, c, d == 0 ? "server error" : "client error");
                  return;
                }
            }
          if (!c->eof[d] && !c->in_blocked[d])
            {
              /* No pipe for a side that only ever closes (a short-lived
               * tunnel): look before making one. A side without a pipe
               * has had nothing to read yet; unless an input event of its
               * own woke us, epoll (level-triggered) tells when it has. */
              if (c->pipe_r[d] < 0)
                {
                  char b;
                  gssize pn;

                  if (c->woken && c->readable != src[d])
                    break;
                  pn = recv (src[d]->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);

                  if (pn == 0)
                    {
                      c->eof[d] = TRUE;
                      break;
                    }
                  if (pn < 0 && (errno == EAGAIN || errno == EINTR))
                    break;
                  if (pn < 0)
                    {
                      conn_close (p, c, d == 0 ? "client error" : "server error");
                      return;
                    }
                }
              if (!pipes_make (c, d))
                {
                  conn_close (p, c, "out of pipes");
                  return;
                }
              n = splice (src[d]->fd, NULL, c->pipe_w[d], NULL, TS_PROXY_PIPE_BYTES,
                          SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
              if (n > 0)
                {
                  c->fill[d] += n;
                  c->bytes[d] += n;
                  progress = TRUE;
                }
              else if (n == 0)
                c->eof[d] = TRUE;
              else if (errno == EAGAIN)
                {
                  /* Either the socket is empty or the pipe is full; with
                   * bytes in the pipe, wait for the writer's progress. */
                  if (c->fill[d] > 0)
                    c->in_blocked[d] = TRUE;
                }
              else
                {
                  conn_close (p, c, d == 0 ? "client error" : "server error");
                  return;
                }
            }
          if (!progress)
            break;
        }
      if (c->eof[d] && c->fill[d] == 0)
        {
          conn_side_closed (p, c, d);
          return;
        }
    }
  c->deadline = now_us () + (gint64)p->o->idle_timeout_s * G_USEC_PER_SEC;
  conn_update (p, c);
}

/* ------------------------------------------------------------------ */
/* Interest and dispatch */

static void
conn_update (TsProxy *p, TsConn *c)
{
  guint32 ce = 0, se = 0;

  if (c->dead)
    return;
  switch (c->state)
    {
      case ST_HEAD:
        ce = EPOLLIN;
        break;
      case ST_RESOLVING:
        ce = 0;
        break;
      case ST_CONNECTING:
        se = EPOLLOUT;
        break;
      case ST_PARENT:
        se = buf_pending (&c->to_s) ? EPOLLOUT : EPOLLIN;
        break;
      case ST_SEND_200:
      case ST_ANSWER:
        ce = EPOLLOUT;
        break;
      case ST_PEEK:
        ce = se = EPOLLIN;
        break;
      case ST_LINGER:
        /* (Only the lingering side is still open.) */
        ce = se = EPOLLIN;
        break;
      case ST_TLS_CLIENT:
        ce = c->c.rd_want ? c->c.rd_want : EPOLLIN;
        break;
      case ST_TLS_ORIGIN:
        se = c->s.rd_want ? c->s.rd_want : EPOLLOUT;
        break;
      case ST_SPLICE:
        for (int d = 0; d < 2; d++)
          {
            guint32 *se_src = d == 0 ? &ce : &se, *se_dst = d == 0 ? &se : &ce;

            if (!c->eof[d] && !c->in_blocked[d])
              *se_src |= EPOLLIN;
            /* Bytes waiting: whether the last write blocked or a round limit
             * stopped us, writability is what lets them move. */
            if (c->fill[d] > 0 || buf_pending (&c->buf[d]) > 0)
              *se_dst |= EPOLLOUT;
          }
        break;
      case ST_PUMP:
        for (int d = 0; d < 2; d++)
          {
            TsEndp *src = d == 0 ? &c->c : &c->s, *dst = d == 0 ? &c->s : &c->c;
            guint32 *se_src = d == 0 ? &ce : &se, *se_dst = d == 0 ? &se : &ce;

            if (!c->eof[d] && !(d == 0 && c->http_request_done) && c->buf[d].len < c->buf[d].cap)
              *se_src |= src->rd_want ? src->rd_want : EPOLLIN;
            if (buf_pending (&c->buf[d]) > 0)
              *se_dst |= dst->wr_want ? dst->wr_want : EPOLLOUT;
          }
        break;
    }
  endp_set (p, &c->c, ce);
  endp_set (p, &c->s, se);
}

static void
on_event (TsProxy *p, TsEndp *e, guint32 events)
{
  TsConn *c = e->conn;

  /* An event for an endpoint that an earlier event of the same batch
   * closed (the tunnel's other side ended, and with it this one) is
   * stale: read as its connection's, it would be taken for an error of
   * the side still lingering (recv () on -1), closing that side with a
   * reset while its peer still sends. */
  if (c->dead || e->fd < 0)
    return;
  switch (c->state)
    {
      case ST_HEAD:
        on_head_readable (p, c);
        break;
      case ST_RESOLVING:
        break;
      case ST_CONNECTING:
        on_connected (p, c);
        break;
      case ST_PARENT:
        if (buf_pending (&c->to_s))
          {
            if (!flush_buf (&c->s, &c->to_s))
              conn_refuse (p, c, "proxy.parent.failed", 502, "cannot write to the parent", NULL);
            else
              conn_update (p, c);
          }
        else
          on_parent_readable (p, c);
        break;
      case ST_SEND_200:
        if (!flush_buf (&c->c, &c->to_c))
          {
            conn_close (p, c, "client error");
            break;
          }
        if (buf_pending (&c->to_c) > 0)
          {
            conn_update (p, c);
            break;
          }
        buf_clear (&c->to_c);
        if (p->o->intercept && buf_pending (&c->buf[0]) == 0 && buf_pending (&c->buf[1]) == 0)
          {
            c->state = ST_PEEK;
            conn_update (p, c);
          }
        else if (buf_pending (&c->buf[0]) == 0 && buf_pending (&c->buf[1]) == 0)
          {
            /* Nothing to relay yet (the client has only now been told the
             * tunnel is up): wait for bytes rather than look for them. */
            c->state = ST_SPLICE;
            conn_update (p, c);
          }
        else
          {
            c->state = ST_SPLICE;
            splice_run (p, c);
          }
        break;
      case ST_PEEK:
        if (e == &c->s)
          {
            /* The target spoke first: not TLS from the client. */
            TsTraceEvent *ev = event_new (p, "proxy.intercept.passthrough", c);

            ts_trace_event_add (ev, "reason", "target spoke first");
            emit (p, ev);
            c->state = ST_SPLICE;
            splice_run (p, c);
          }
        else
          on_peek (p, c);
        break;
      case ST_TLS_CLIENT:
      case ST_TLS_ORIGIN:
        drive_handshake (p, c);
        break;
      case ST_SPLICE:
        /* EPOLLERR and EPOLLHUP: splice () or recv () reports what
         * happened. */
        c->woken = TRUE;
        c->readable = events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR) ? e : NULL;
        splice_run (p, c);
        c->woken = FALSE;
        break;
      case ST_PUMP:
        pump_run (p, c);
        break;
      case ST_ANSWER:
        if (!flush_buf (&c->c, &c->to_c))
          {
            conn_close (p, c, "client error");
            break;
          }
        if (buf_pending (&c->to_c) > 0)
          break;
        buf_clear (&c->to_c);
        conn_linger (p, c);
        break;
      case ST_LINGER:
        {
          char junk[4096];
          gssize n = recv (e->fd, junk, sizeof junk, 0);

          if (n > 0)
            {
              c->discarded += n;
              if (c->discarded > TS_PROXY_LINGER_DISCARD)
                conn_close (p, c, "discarded enough");
            }
          else if (n == 0 || (errno != EAGAIN && errno != EINTR))
            conn_close (p, c, "answered");
        }
        break;
    }
}

static void
sweep (TsProxy *p)
{
  gint64 now = now_us ();
  TsConn *next;

  for (TsConn *c = p->head; c != NULL; c = next)
    {
      next = c->next;
      if (c->deadline == 0 || c->deadline > now)
        continue;
      switch (c->state)
        {
          case ST_HEAD:
            if (c->n_done > 0 && c->head_len == 0)
              conn_close (p, c, "idle keep-alive"); /* RFC 9112 §9.5 */
            else
              conn_refuse (p, c, "proxy.timeout", 408, "request head not received in time", NULL);
            break;
          case ST_RESOLVING:
          case ST_CONNECTING:
          case ST_PARENT:
            conn_refuse (p, c, "proxy.connect.failed", 504, "timed out reaching the target", NULL);
            break;
          case ST_TLS_ORIGIN:
            origin_tls_fail (p, c, 504, "origin TLS handshake timed out");
            break;
          case ST_ANSWER:
          case ST_LINGER:
            conn_close (p, c, "linger over");
            break;
          case ST_PUMP:
            if (c->kind == KIND_HTTP && !c->keepalive && c->response_done && c->http_request_done)
              {
                /* Its response delivered, the origin did not close: both
                 * connections close, the client's in a lingering close. */
                conn_relay_over (p, c, "response delivered");
                conn_linger (p, c);
                break;
              }
            G_GNUC_FALLTHROUGH;
          default:
            {
              TsTraceEvent *ev = event_new (p, "proxy.timeout", c);

              ts_trace_event_add (ev, "state", state_names[c->state]);
              emit (p, ev);
              conn_close (p, c, "timeout");
            }
            break;
        }
    }
}

/* One connection per readiness of the listener (as nginx does without
 * multi_accept): the listener is level-triggered, so the next
 * epoll_wait () reports it again while more wait, and a lone client costs
 * no accept4 () that finds nothing. */
static void
on_accept (TsProxy *p)
{
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  int fd = accept4 (p->lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
  TsConn *c;

  if (fd < 0)
    return;
  /* TCP_NODELAY comes from the listening socket. */
  c = conn_new (p, fd, (struct sockaddr *)&ss);
  if (p->n_conns > p->o->max_connections)
    {
      conn_refuse (p, c, "proxy.limit.connections", 503, "too many connections", NULL);
      return;
    }
  c->state = ST_HEAD;
  /* The request often follows the handshake at once: read it now rather
   * than after another epoll_wait (). */
  on_head_readable (p, c);
  conn_update (p, c);
}

/* ------------------------------------------------------------------ */
/* Setup */

static gboolean
listen_setup (TsProxy *p, GError **error)
{
  struct addrinfo hints = { .ai_family = AF_UNSPEC,
                            .ai_socktype = SOCK_STREAM,
                            .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
  struct addrinfo *res = NULL;
  char port[8];
  int r, one = 1, zero = 0;
  socklen_t sl = sizeof p->laddr;

  g_snprintf (port, sizeof port, "%d", p->o->port);
  if (p->o->listen == NULL)
    hints.ai_family = AF_INET6;
  r = getaddrinfo (p->o->listen, port, &hints, &res);
  if (r != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot resolve listen address %s: %s",
                   p->o->listen, gai_strerror (r));
      return FALSE;
    }
  p->lfd = socket (res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (p->lfd >= 0)
    {
      setsockopt (p->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      /* Accepted sockets inherit it: one setsockopt () less per client. */
      setsockopt (p->lfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      if (res->ai_family == AF_INET6 && p->o->listen == NULL)
        setsockopt (p->lfd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    }
  if (p->lfd < 0 || bind (p->lfd, res->ai_addr, res->ai_addrlen) != 0 || listen (p->lfd, 4096) != 0)
    {
      int e = errno;

      freeaddrinfo (res);
      /* No IPv6: fall back to IPv4 for "all addresses". */
      if (p->o->listen == NULL && (e == EAFNOSUPPORT || e == EADDRNOTAVAIL))
        {
          if (p->lfd >= 0)
            close (p->lfd);
          p->o->listen = g_strdup ("0.0.0.0");
          return listen_setup (p, error);
        }
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot listen on %s port %d: %s",
                   p->o->listen ? p->o->listen : "*", p->o->port, g_strerror (e));
      return FALSE;
    }
  freeaddrinfo (res);
  getsockname (p->lfd, (struct sockaddr *)&p->laddr, &sl);
  p->o->port = ntohs (((struct sockaddr_in *)&p->laddr)->sin_port);
  if (p->o->port_file)
    {
      g_autofree char *text = g_strdup_printf ("%d\n", p->o->port);

      if (!g_file_set_contents (p->o->port_file, text, -1, error))
        return FALSE;
    }
  return TRUE;
}

static void
own_addrs_setup (TsProxy *p)
{
  struct ifaddrs *ifa = NULL;

  p->own_addrs = g_array_new (FALSE, TRUE, sizeof (struct sockaddr_storage));
  if (getifaddrs (&ifa) != 0)
    return;
  for (struct ifaddrs *i = ifa; i; i = i->ifa_next)
    {
      struct sockaddr_storage ss = { 0 };

      if (i->ifa_addr == NULL)
        continue;
      if (i->ifa_addr->sa_family == AF_INET)
        memcpy (&ss, i->ifa_addr, sizeof (struct sockaddr_in));
      else if (i->ifa_addr->sa_family == AF_INET6)
        memcpy (&ss, i->ifa_addr, sizeof (struct sockaddr_in6));
      else
        continue;
      g_array_append_val (p->own_addrs, ss);
    }
  freeifaddrs (ifa);
}

int
ts_proxy_run (TsProxyOptions *o)
{
  TsProxy pr = { 0 }, *p = &pr;
  g_autoptr (GError) error = NULL;
  struct epoll_event ev;
  struct epoll_event evs[256];
  sigset_t mask;
  gint64 last_sweep = 0, spin_until = 0;

  proxy_singleton = p;
  p->o = o;
  p->keylog_fd = -1;
  p->events = g_getenv ("TS_EVENTS") != NULL && *g_getenv ("TS_EVENTS") != '\0';
  p->conns = g_hash_table_new (g_int64_hash, g_int64_equal);
  p->leaves = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, leaf_free);
  p->names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, name_free);
  signal (SIGPIPE, SIG_IGN);

  /* Many tunnels need many descriptors. */
  {
    struct rlimit rl;

    if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max)
      {
        rl.rlim_cur = rl.rlim_max;
        setrlimit (RLIMIT_NOFILE, &rl);
      }
  }
  if (o->keylog && *o->keylog)
    {
      p->keylog_fd = open (o->keylog, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
      if (p->keylog_fd < 0)
        g_printerr ("ts-proxy: cannot open key log %s: %s\n", o->keylog, g_strerror (errno));
    }
  if (o->intercept && !tls_setup (p, &error))
    {
      g_printerr ("ts-proxy: %s\n", error->message);
      return 1;
    }
  if (!listen_setup (p, &error))
    {
      g_printerr ("ts-proxy: %s\n", error->message);
      return 1;
    }
  if (g_strcmp0 (o->access_log, "none") == 0)
    p->access = NULL;
  else if (o->access_log == NULL || g_strcmp0 (o->access_log, "-") == 0)
    p->access = stdout;
  else if ((p->access = fopen (o->access_log, "ae")) == NULL)
    {
      g_printerr ("ts-proxy: cannot open access log %s: %s\n", o->access_log, g_strerror (errno));
      return 1;
    }
  own_addrs_setup (p);

  p->ep = epoll_create1 (EPOLL_CLOEXEC);
  p->efd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
  sigemptyset (&mask);
  sigaddset (&mask, SIGTERM);
  sigaddset (&mask, SIGINT);
  sigprocmask (SIG_BLOCK, &mask, NULL);
  p->sfd = signalfd (-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  p->resolved = g_async_queue_new ();
  p->resolvers = g_thread_pool_new (resolver_thread, p, 4, FALSE, NULL);

  ev.events = EPOLLIN;
  ev.data.ptr = &p->lfd;
  epoll_ctl (p->ep, EPOLL_CTL_ADD, p->lfd, &ev);
  ev.data.ptr = &p->efd;
  epoll_ctl (p->ep, EPOLL_CTL_ADD, p->efd, &ev);
  ev.data.ptr = &p->sfd;
  epoll_ctl (p->ep, EPOLL_CTL_ADD, p->sfd, &ev);

  {
    TsTraceEvent *start = event_new (p, "proxy.started", NULL);
    char addr[80];

    sockaddr_to_string ((struct sockaddr *)&p->laddr, addr, sizeof addr);
    ts_trace_event_add (start, "listen", addr);
    ts_trace_event_add (start, "mode", o->intercept ? "intercept" : "forward");
    if (o->parent_host)
      ts_trace_event_add_printf (start, "parent", "%s:%u", o->parent_host, o->parent_port);
    emit (p, start);
  }

  while (!p->quit)
    {
      int n, timeout = TS_PROXY_SWEEP_MS;
      gint64 now;

      /* Bounded busy polling (--busy-poll): for a short while after a
       * turn that read a request, poll without sleeping, so that the next
       * request of a busy client is found without a sleep and a wake-up
       * (across CPUs an interrupt, expensive in a VM). Each empty poll
       * yields the CPU to whatever else is runnable on it (often the
       * client whose request we wait for). Relay turns do not arm it: a
       * wake-up costs little against the bytes each one moves. An idle
       * proxy sleeps as before. */
      if (spin_until != 0)
        {
          if (now_us () < spin_until)
            timeout = 0;
          else
            spin_until = 0;
        }
      n = epoll_wait (p->ep, evs, G_N_ELEMENTS (evs), timeout);
      if (n == 0 && timeout == 0)
        sched_yield ();
      p->request_seen = FALSE;

      for (int i = 0; i < n; i++)
        {
          void *ptr = evs[i].data.ptr;

          if (ptr == &p->lfd)
            on_accept (p);
          else if (ptr == &p->efd)
            {
              guint64 v;
              TsResolve *job;
              ssize_t r = read (p->efd, &v, sizeof v);

              (void)r;
              while ((job = g_async_queue_try_pop (p->resolved)) != NULL)
                resolved (p, job);
            }
          else if (ptr == &p->sfd)
            p->quit = TRUE;
          else
            on_event (p, ptr, evs[i].events);
        }
      now = now_us ();
      if (p->request_seen && o->busy_poll_us > 0)
        spin_until = now + o->busy_poll_us;
      if (now - last_sweep >= TS_PROXY_SWEEP_MS * 1000)
        {
          sweep (p);
          last_sweep = now;
        }
      while (p->dead)
        {
          TsConn *c = p->dead;

          p->dead = c->next;
          conn_free (p, c);
        }
      /* Access log lines go out in batches, at most TS_PROXY_LOG_FLUSH_MS
       * (plus one sweep interval when idle) after they were written. */
      if (p->access && now - p->access_flushed >= TS_PROXY_LOG_FLUSH_MS * 1000)
        {
          fflush (p->access);
          p->access_flushed = now;
        }
    }

  /* Orderly exit: close everything. */
  while (p->head)
    conn_close (p, p->head, "proxy exiting");
  while (p->dead)
    {
      TsConn *c = p->dead;

      p->dead = c->next;
      conn_free (p, c);
    }
  g_thread_pool_free (p->resolvers, TRUE, TRUE);
  {
    TsResolve *job;

    while ((job = g_async_queue_try_pop (p->resolved)) != NULL)
      {
        if (job->res)
          freeaddrinfo (job->res);
        g_free (job->host);
        g_free (job);
      }
  }
  g_async_queue_unref (p->resolved);
  g_hash_table_destroy (p->conns);
  g_hash_table_destroy (p->leaves);
  g_hash_table_destroy (p->names);
  g_array_free (p->own_addrs, TRUE);
  if (p->sctx)
    SSL_CTX_free (p->sctx);
  if (p->cctx)
    SSL_CTX_free (p->cctx);
  X509_free (p->ca_cert);
  EVP_PKEY_free (p->ca_key);
  if (p->access && p->access != stdout)
    fclose (p->access);
  if (p->keylog_fd >= 0)
    close (p->keylog_fd);
  close (p->lfd);
  close (p->efd);
  close (p->sfd);
  close (p->ep);
  return 0;
}

/* ------------------------------------------------------------------ */
/* Port lists */

GArray *
ts_proxy_parse_ports (const char *text, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (text, ",", -1);
  GArray *a = g_array_new (FALSE, FALSE, sizeof (TsPortRange));

  for (guint i = 0; parts[i]; i++)
    {
      char *s = g_strstrip (parts[i]);
      char *dash = strchr (s, '-');
      guint64 lo, hi;
      TsPortRange r;

      if (*s == 0)
        continue;
      if (dash)
        *dash = 0;
      if (!g_ascii_string_to_unsigned (s, 10, 1, 65535, &lo, NULL)
          || !g_ascii_string_to_unsigned (dash ? dash + 1 : s, 10, lo, 65535, &hi, NULL))
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "bad port list \"%s\" (e.g. 443 or 80,443,1025-65535)", text);
          g_array_unref (a);
          return NULL;
        }
      r.lo = lo;
      r.hi = hi;
      g_array_append_val (a, r);
    }
  return a;
}

gboolean
ts_proxy_port_allowed (const GArray *ranges, guint port)
{
  for (guint i = 0; i < ranges->len; i++)
    {
      const TsPortRange *r = &g_array_index (ranges, TsPortRange, i);

      if (port >= r->lo && port <= r->hi)
        return TRUE;
    }
  return FALSE;
}
