/* ts-analyzer.c: trace records to timeline events, across hops.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "ts-analyzer-private.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "ts-decrypt-ahead.h"
#include "ts-http1.h"
#include "ts-http2-headers.h"
#include "ts-http2.h"
#include "ts-packet.h"
#include "ts-tcp-stream.h"
#include "ts-timeline-private.h"
#include "ts-tls-session.h"
#include "ts-trace-reader.h"
#include "ts-websocket.h"

/* Cap: TCP connections tracked at once (older closed ones are forgotten
 * from the lookup table, not from the timeline). */
#define MAX_LIVE_CONNS 65536

/* Cap: how long a proxy request waits for the proxy's upstream leg. */
#define MATCH_WINDOW_NS (G_GUINT64_CONSTANT (60) * 1000000000u)
/* How far a capture of several interfaces (dumpcap -i a -i b) may write one
 * interface's packets behind another's: a request whose connection closed
 * keeps waiting this long for an upstream leg that opened before the close. */
#define MATCH_DISORDER_NS (G_GUINT64_CONSTANT (2) * 1000000000u)

/* How a connection's bytes are decoded. */
typedef enum
{
  PROTO_UNKNOWN,
  PROTO_HTTP,
  PROTO_TLS,
  PROTO_OPAQUE,
  PROTO_HTTP2,
} Proto;

/* What an event's readers follow from. */
typedef enum
{
  READ_CLEAR, /* in clear on this leg: its endpoints and the link observer */
  READ_PATH,  /* in clear on every leg of its tunnel (SNI, relayed clear bytes) */
  READ_TLS,   /* inside a TLS session: its two ends */
  READ_LAB,   /* an actor event: its node */
} ReadClass;

typedef struct
{
  guint8 cls;
  guint8 dir;
  /* A packet for a node that is no end of the link it was captured on,
   * with nothing yet to show that it got there (see beyond_link ()). */
  guint8 undelivered;
} EventMeta;

typedef struct
{
  guint64 time_ns;
  guint64 offset; /* where its block starts in the trace */
  guint32 iface;
} PacketInfo;

typedef struct
{
  guint linktype;
  gint link;                  /* -1: none, or one per interface index (per_ifindex) */
  gboolean per_ifindex;       /* a capture on "any" (SLL2): a link per interface index */
  gboolean unknown_link_told; /* its link type is not decoded, and an anomaly said so */
} IfaceInfo;

/* The capture on "any" (its interface id) and interface index of a link. */
typedef struct
{
  gint iface;
  gint32 ifindex;
} LinkIfindex;

typedef struct _Conn Conn;

typedef struct
{
  Conn *conn;
  int dir;
} DirCtx;

struct _Conn
{
  TsAnalyzer *an;
  guint id;
  gint link;
  TsAddress addr[2]; /* client, server */
  guint16 port[2];
  gboolean syn_seen, synack_seen, fin[2], rst, closed, mid_stream_reported;
  gboolean heard[2]; /* a packet from this end was seen (it got what came before) */
  guint32 syn_seq;
  guint n_syn; /* SYNs sent (retransmissions included) */
  guint64 last_syn_time;
  guint64 syn_times[8]; /* when the first SYNs were sent */
  guint32 last_syn_packet;
  TsTcpStream *stream[2];
  DirCtx ctx[2];
  guint64 conflicting_reported;
  Proto proto;
  TsHttp1Conn *http;
  /* tunnel contents */
  gboolean in_tunnel_data;  /* the HTTP connection became a tunnel */
  guint64 tunnel_data_time; /* ...when (the time of its 2xx or 101) */
  gboolean upgrade;         /* ...by Upgrade (WebSocket) rather than CONNECT */
  Proto tunnel_proto;
  TsTlsSession *tls;
  guint64 tls_base[2];
  gboolean tls_base_set[2];
  TsWebsocketStream *ws[2];
  guint64 ws_base[2];
  TsHttp1Conn *inner_http; /* HTTP in decrypted TLS, or in clear inside a tunnel */
  Proto inner_proto;
  guint64 inner_at[2];     /* plaintext offsets fed to inner_http */
  guint64 inner_base[2];   /* stream offset of the first clear tunnel byte (inner HTTP in clear) */
  gboolean inner_upgraded; /* the inner HTTP switched protocols (WebSocket) */
  TsWebsocketStream *inner_ws[2];
  TsHttp2Stream *h2[2];             /* HTTP/2 frames: in clear (h2c) or inside decrypted TLS */
  TsHttp2HeaderDecoder *h2hd[2];    /* ...and their header blocks (HPACK) */
  GHashTable *h2_body[2];           /* stream id -> H2Body: DATA of a message not ended yet */
  guint64 cur_tls_off, cur_tls_end; /* the TLS event being handled (stream offsets) */
  guint64 tls_overhead[2];          /* record bytes beyond their plaintext, not yet in a wire_len */
  guint64 cur_plain_end;            /* where the plaintext of the record being fed ends */
  guint64 rec_off[2], rec_end[2];   /* per direction, the last record whose plaintext was fed */
  guint64 tls13_client_protected_ns; /* TLS 1.3 not decrypted: when the client's first
                                      * protected record (its Finished, by its place) came, 0 */
  int cur_tls_dir;
  /* The HTTP/1 message whose body is being read, per direction: its head's
   * event and packet, and where its head ended on the wire. */
  struct
  {
    gboolean open;
    guint head_event;
    guint32 head_packet;
    guint64 head_end; /* stream offset (of the TLS stream, for HTTP in TLS) */
  } body[2];
  /* proxying */
  char *connect_target; /* CONNECT target on this connection */
  guint64 connect_time;
  gboolean connect_pending; /* waiting for an upstream leg */
  char *forward_target;     /* host:port of an absolute-form request (forward proxy) */
  guint64 forward_time;
  gboolean forward_pending;
  gboolean is_upstream;    /* a proxy opened it for a request (matched) */
  GArray *events;          /* guint event indices */
  guint64 ahead_serial[2]; /* the keys the decrypt-ahead helper follows per direction, 0 */
  guint64 tls_readers;     /* READ_TLS readers of this leg, while tls_readers_ok */
  gboolean tls_readers_ok;
};

typedef struct
{
  gint link;
  TsAddress a, b;
  guint16 pa, pb;
} ConnKey;

/* The datagrams between two endpoints (a ConnKey of link -1), on any link. */
typedef struct
{
  GArray *events;      /* guint event indices */
  gboolean reached[2]; /* the key's end a (0) or b (1) got what was sent to it */
} UdpFlow;

struct _TsAnalyzer
{
  TsTraceReader *reader;
  TsTimeline *tl;
  TsTlsKeylog *keylog;
  GArray *packets;           /* PacketInfo */
  GArray *ifaces;            /* IfaceInfo by interface id */
  GArray *isb_lost;          /* guint64 by interface id: its capture's last lost count */
  GHashTable *ifindex_links; /* (interface id << 32 | SLL2 interface index) -> link + 1 */
  GArray *link_ifindex;      /* by link: LinkIfindex, the other way ({ -1 } for the rest) */
  GArray *meta;              /* EventMeta per event */
  GHashTable *conn_table;    /* ConnKey* -> Conn* (live) */
  GPtrArray *conns;          /* Conn* by id */
  GPtrArray *waiting;    /* Conn* with a proxy request waiting for its upstream leg, oldest first */
  GPtrArray *live_tls;   /* Conn* with a TLS session still open */
  GHashTable *udp_flows; /* UdpKey* -> UdpFlow* (delivery of datagrams) */
  GHashTable *addr_nodes; /* "addr" or "addr:port" -> node id + 1 */
  GHashTable *name_nodes; /* host name -> node id + 1 */
  gboolean have_metadata;
  gboolean failed;
  gboolean finished;
  guint64 n_records;
  guint64 cur_time;
  guint32 cur_packet;
  /* changes */
  guint changes_first;
  GHashTable *changed; /* event index set */
  gboolean nodes_changed, tunnels_changed;
  const char *last_kind, *last_kind_interned;
  gboolean last_kind_anomaly;
  /* TLS records opened ahead by a second thread (a trace fed whole), and
   * when it was last restarted (in records read). */
  struct
  {
    ConnKey key;
    Conn *conn;
  } recent[4]; /* connections found last in conn_table */
  TsDecryptAhead *ahead;
  const guint8
      *whole; /* the trace fed whole (valid while ahead is), from stream offset whole_base */
  gsize whole_len;
  guint64 whole_base;
  GThread *release;      /* frees the reader (and unmaps the trace) after _finish */
  guint64 final_offset;  /* the reader's, once it is gone */
  char *scenario;        /* the reader's, once it is gone */
  guint64 ahead_checked; /* records read when restart_ahead last looked */
  guint ahead_lost;      /* ts_decrypt_ahead_get_lost () at the last restart */
  TsDecryptAheadCounts ahead_counts;
  gboolean no_ahead;
  gboolean ahead_tight;
  gboolean ahead_verify;
};

/* Restarts of the helper after it missed a record: at most one every this
 * many trace records (more with more TLS directions to key again). */
#define AHEAD_RESTART_RECORDS 32

static const TsTlsAhead ahead_hook
    = { ts_decrypt_ahead_open, ts_decrypt_ahead_stable, ts_decrypt_ahead_open_here, FALSE };
static const TsTlsAhead ahead_hook_checked
    = { ts_decrypt_ahead_open, ts_decrypt_ahead_stable, ts_decrypt_ahead_open_here, TRUE };

#define AHEAD_HOOK(self) ((self)->ahead_verify ? &ahead_hook_checked : &ahead_hook)

static void conn_close (TsAnalyzer *self, Conn *c);
static void update_tunnel (TsAnalyzer *self, gint tunnel);

/* --- small helpers -------------------------------------------------------- */

static guint
conn_key_hash (gconstpointer p)
{
  const ConnKey *k = p;

  return ts_address_hash (&k->a) ^ (ts_address_hash (&k->b) * 7) ^ ((guint)k->pa << 16) ^ k->pb
         ^ ((guint)k->link * 31);
}

static gboolean
conn_key_equal (gconstpointer pa, gconstpointer pb)
{
  const ConnKey *a = pa, *b = pb;

  return a->link == b->link && a->pa == b->pa && a->pb == b->pb && ts_address_equal (&a->a, &b->a)
         && ts_address_equal (&a->b, &b->b);
}

/* Normalises so that both directions give the same key. */
static void
make_key (ConnKey *k, gint link, const TsAddress *s, guint16 sp, const TsAddress *d, guint16 dp)
{
  int cmp;

  memset (k, 0, sizeof *k);
  k->link = link;
  cmp = memcmp (s, d, sizeof *s);
  if (cmp < 0 || (cmp == 0 && sp <= dp))
    {
      k->a = *s, k->pa = sp, k->b = *d, k->pb = dp;
    }
  else
    {
      k->a = *d, k->pa = dp, k->b = *s, k->pb = sp;
    }
}

static void
forget_recent_conns (TsAnalyzer *self)
{
  memset (self->recent, 0, sizeof self->recent);
}

static char *
endpoint_string (const TsAddress *a, guint16 port)
{
  char buf[64];

  ts_address_to_string (a, buf, sizeof buf);
  if (a->family == 6)
    return g_strdup_printf ("[%s]:%u", buf, port);
  return g_strdup_printf ("%s:%u", buf, port);
}

static void
mark_changed (TsAnalyzer *self, guint ev)
{
  if (ev < self->changes_first)
    g_hash_table_add (self->changed, GUINT_TO_POINTER (ev + 1));
}

static TsTimelineConn *
tconn (TsAnalyzer *self, Conn *c)
{
  return _ts_timeline_conn (self->tl, c->id);
}

/* --- nodes --------------------------------------------------------------- */

static gint
node_for_host (TsAnalyzer *self, const char *host)
{
  gpointer v;
  TsAddress a;
  char buf[64];

  if (host == NULL)
    return -1;
  v = g_hash_table_lookup (self->name_nodes, host);
  if (v != NULL)
    return GPOINTER_TO_INT (v) - 1;
  if (ts_address_parse (host, &a))
    {
      ts_address_to_string (&a, buf, sizeof buf);
      v = g_hash_table_lookup (self->addr_nodes, buf);
      if (v != NULL)
        return GPOINTER_TO_INT (v) - 1;
    }
  return -1;
}

/* The node a CONNECT target (@host, @port) names. On loopback the bare
 * address is the clients' node and servers are told apart by their port
 * (node_for_address ()): the server listening there, or -1 while unseen
 * (it was the client: "tunnel relay: ::1 > [::1]:18888 > ::1"). */
static gint
node_for_target (TsAnalyzer *self, const char *host, guint port)
{
  TsAddress a;

  if (host != NULL && port <= G_MAXUINT16 && ts_address_parse (host, &a)
      && ts_address_is_loopback (&a))
    {
      g_autofree char *key = endpoint_string (&a, (guint16)port);
      gpointer v = g_hash_table_lookup (self->addr_nodes, key);

      return v != NULL ? GPOINTER_TO_INT (v) - 1 : -1;
    }
  return node_for_host (self, host);
}

/* Splits "host:port" / "[v6]:port" into a host (transfer full) and port. */
static char *
split_authority (const char *target, guint *out_port)
{
  const char *colon = strrchr (target, ':');
  char *host;

  *out_port = 0;
  if (colon == NULL)
    return g_strdup (target);
  *out_port = (guint)strtoul (colon + 1, NULL, 10);
  if (target[0] == '[' && colon > target && colon[-1] == ']')
    host = g_strndup (target + 1, (gsize)(colon - target - 2));
  else
    host = g_strndup (target, (gsize)(colon - target));
  return host;
}

/* The node owning @addr (and @port, for loopback servers), creating an
 * inferred node for an address nobody declared. */
static gint
node_for_address (TsAnalyzer *self, const TsAddress *addr, guint16 port, gboolean is_server)
{
  char buf[64];
  g_autofree char *key = NULL;
  gpointer v;
  guint id;

  ts_address_to_string (addr, buf, sizeof buf);
  /* On loopback every program shares one address: tell servers apart by
   * their port; clients stay one node per address until matched. */
  if (ts_address_is_loopback (addr))
    {
      g_autofree char *as_server = endpoint_string (addr, port);
      v = g_hash_table_lookup (self->addr_nodes, as_server);
      if (v != NULL)
        return GPOINTER_TO_INT (v) - 1;
      key = is_server ? g_steal_pointer (&as_server) : g_strdup (buf);
    }
  else
    key = g_strdup (buf);
  v = g_hash_table_lookup (self->addr_nodes, key);
  if (v != NULL)
    return GPOINTER_TO_INT (v) - 1;
  id = _ts_timeline_add_node (self->tl, key, NULL, TRUE);
  _ts_timeline_node_add_address (self->tl, id, key);
  g_hash_table_insert (self->addr_nodes, g_strdup (key), GINT_TO_POINTER (id + 1));
  self->nodes_changed = TRUE;
  return (gint)id;
}

static void
load_metadata (TsAnalyzer *self, const char *json)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *root;
  JsonArray *nodes, *links;

  if (!json_parser_load_from_data (parser, json, -1, NULL))
    return;
  if (!JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return;
  root = json_node_get_object (json_parser_get_root (parser));
  nodes = json_object_has_member (root, "nodes") ? json_object_get_array_member (root, "nodes")
                                                 : NULL;
  links = json_object_has_member (root, "links") ? json_object_get_array_member (root, "links")
                                                 : NULL;
  for (guint i = 0; nodes != NULL && i < json_array_get_length (nodes); i++)
    {
      JsonNode *n = json_array_get_element (nodes, i);
      JsonObject *o;
      const char *name, *role;
      guint id;

      if (JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING)
        {
          name = json_node_get_string (n);
          if (ts_timeline_find_node (self->tl, name) < 0)
            {
              id = _ts_timeline_add_node (self->tl, name, NULL, FALSE);
              g_hash_table_insert (self->name_nodes, g_strdup (name), GINT_TO_POINTER (id + 1));
            }
          continue;
        }
      if (!JSON_NODE_HOLDS_OBJECT (n))
        continue;
      o = json_node_get_object (n);
      name = json_object_get_string_member_with_default (o, "name", NULL);
      role = json_object_get_string_member_with_default (o, "role", NULL);
      if (name == NULL || ts_timeline_find_node (self->tl, name) >= 0)
        continue;
      id = _ts_timeline_add_node (self->tl, name, role, FALSE);
      g_hash_table_insert (self->name_nodes, g_strdup (name), GINT_TO_POINTER (id + 1));
      if (json_object_has_member (o, "names"))
        {
          JsonArray *a = json_object_get_array_member (o, "names");
          for (guint k = 0; a != NULL && k < json_array_get_length (a); k++)
            {
              const char *s = json_array_get_string_element (a, k);
              if (s == NULL)
                continue;
              _ts_timeline_node_add_name (self->tl, id, s);
              g_hash_table_insert (self->name_nodes, g_strdup (s), GINT_TO_POINTER (id + 1));
            }
        }
      if (json_object_has_member (o, "addresses"))
        {
          JsonArray *a = json_object_get_array_member (o, "addresses");
          for (guint k = 0; a != NULL && k < json_array_get_length (a); k++)
            {
              const char *s = json_array_get_string_element (a, k);
              TsAddress addr;
              char buf[64];
              if (s == NULL || !ts_address_parse (s, &addr))
                continue;
              ts_address_to_string (&addr, buf, sizeof buf);
              _ts_timeline_node_add_address (self->tl, id, buf);
              g_hash_table_insert (self->addr_nodes, g_strdup (buf), GINT_TO_POINTER (id + 1));
            }
        }
    }
  for (guint i = 0; links != NULL && i < json_array_get_length (links); i++)
    {
      JsonNode *n = json_array_get_element (links, i);
      JsonObject *o;
      const char *name;
      gint ends[2] = { -1, -1 };

      if (!JSON_NODE_HOLDS_OBJECT (n))
        continue;
      o = json_node_get_object (n);
      name = json_object_get_string_member_with_default (o, "name", NULL);
      if (name == NULL)
        continue;
      if (json_object_has_member (o, "ends"))
        {
          JsonArray *a = json_object_get_array_member (o, "ends");
          for (guint k = 0; a != NULL && k < 2 && k < json_array_get_length (a); k++)
            {
              JsonNode *e = json_array_get_element (a, k);
              if (JSON_NODE_HOLDS_OBJECT (e))
                ends[k]
                    = ts_timeline_find_node (self->tl, json_object_get_string_member_with_default (
                                                           json_node_get_object (e), "node", ""));
            }
        }
      _ts_timeline_add_link (self->tl, name, ends[0], ends[1]);
    }
  self->have_metadata = TRUE;
  self->nodes_changed = TRUE;
}

static gint
link_by_name (TsAnalyzer *self, const char *name)
{
  for (guint i = 0; i < ts_timeline_get_n_links (self->tl); i++)
    if (g_strcmp0 (ts_timeline_get_link (self->tl, i)->name, name) == 0)
      return (gint)i;
  return -1;
}

/* --- events -------------------------------------------------------------- */

static guint64
node_bit (TsAnalyzer *self, gint node)
{
  return _ts_timeline_node_bit (self->tl, node);
}

/* Whether @node is no end of @link in a lab trace (whose links and their
 * ends are known): a packet for it seen there has still to be forwarded by
 * the link's other end, and may never arrive (a firewall, no route). */
static gboolean
beyond_link (TsAnalyzer *self, gint link, gint node)
{
  const TsTimelineLink *l;

  if (!self->have_metadata || link < 0 || node < 0)
    return FALSE;
  l = ts_timeline_get_link (self->tl, (guint)link);
  return l->a >= 0 && l->b >= 0 && node != l->a && node != l->b;
}

/* The end of @link that is not @node, or -1 (@node is neither end). */
static gint
link_far_end (TsAnalyzer *self, gint link, gint node)
{
  const TsTimelineLink *l;

  /* A foreign capture's link ends are a guess from the first connection
   * seen on it: behind a router that capture does not show (tcpdump on a
   * client's interface), its far end is not the node it names, and an
   * unanswered SYN to another host went "no further than" the first
   * host the client talked to. */
  if (!self->have_metadata || link < 0)
    return -1;
  l = ts_timeline_get_link (self->tl, (guint)link);
  return l->a == node ? l->b : l->b == node ? l->a : -1;
}

/* Both ends of @link in a lab trace: a lab link joins two nodes, each of
 * which sends or receives every frame on it, so a node that forwards a
 * packet (a router, a firewall) reads what is clear in it. */
static guint64
link_end_bits (TsAnalyzer *self, gint link)
{
  const TsTimelineLink *l;

  if (!self->have_metadata || link < 0)
    return 0;
  l = ts_timeline_get_link (self->tl, (guint)link);
  return node_bit (self, l->a) | node_bit (self, l->b);
}

/* The legs of @t that carry the same TLS session as leg @leg (the same
 * client random in their ClientHellos): [*out_lo, *out_hi]. Legs whose
 * ClientHello was not seen join their neighbours only when nothing says
 * otherwise, i.e. a leg without TLS spans the whole tunnel. */
static void
tunnel_tls_span (TsAnalyzer *self, const TsTimelineTunnel *t, guint leg, guint *out_lo,
                 guint *out_hi)
{
  guint n = t->conns->len;
  const TsTlsSessionInfo *info[64] = { 0 };
  guint j;

  for (guint i = 0; i < n && i < G_N_ELEMENTS (info); i++)
    {
      Conn *c = self->conns->pdata[g_array_index (t->conns, guint, i)];
      if (c->tls != NULL)
        {
          const TsTlsSessionInfo *in = ts_tls_session_get_info (c->tls);
          if (in->have_client_hello)
            info[i] = in;
        }
    }
  if (leg >= G_N_ELEMENTS (info) || info[leg] == NULL)
    {
      *out_lo = 0;
      *out_hi = n > 0 ? n - 1 : 0;
      return;
    }
#define SAME(x, y)                                                                                 \
  (info[x] != NULL && info[y] != NULL                                                              \
   && memcmp (info[x]->client_random, info[y]->client_random, 32) == 0)
  j = leg;
  while (j > 0 && SAME (j - 1, j))
    j--;
  *out_lo = j;
  j = leg;
  while (j + 1 < n && j + 1 < G_N_ELEMENTS (info) && SAME (j, j + 1))
    j++;
  *out_hi = j;
#undef SAME
}

/* TLS ends of leg @leg of @t: who holds the keys of the session on it. */
static void
tunnel_tls_ends (TsAnalyzer *self, const TsTimelineTunnel *t, guint leg, gint *out_client,
                 gint *out_server)
{
  guint n = t->conns->len, lo, hi;

  tunnel_tls_span (self, t, leg, &lo, &hi);
  *out_client = lo == 0
                    ? t->client
                    : ts_timeline_get_conn (self->tl, g_array_index (t->conns, guint, lo))->client;
  if (hi + 1 == n && n <= t->proxies->len)
    {
      /* The last captured leg still ends at a proxy: the far end is the target. */
      *out_server = t->server;
    }
  else
    *out_server = ts_timeline_get_conn (self->tl, g_array_index (t->conns, guint, hi))->server;
}

static void
compute_readers (TsAnalyzer *self, guint index)
{
  TsTimelineEvent *e = _ts_timeline_event (self->tl, index);
  EventMeta *m = &g_array_index (self->meta, EventMeta, index);
  const TsTimelineConn *c = e->conn >= 0 ? ts_timeline_get_conn (self->tl, (guint)e->conn) : NULL;
  const TsTimelineTunnel *t
      = e->tunnel >= 0 ? ts_timeline_get_tunnel (self->tl, (guint)e->tunnel) : NULL;
  guint64 r = 0;

  switch ((ReadClass)m->cls)
    {
      case READ_LAB:
        r = node_bit (self, e->src);
        break;
      case READ_PATH:
        if (t != NULL)
          {
            /* Clear bytes inside a tunnel travel as far as the TLS session
             * (or the relayed stream) they belong to: through a relay, every
             * leg; through an intercepting proxy, only the legs up to it. */
            guint lo = 0, hi = t->conns->len > 0 ? t->conns->len - 1 : 0;
            gint a = t->client, b = t->server;

            if (c != NULL && c->leg >= 0)
              {
                tunnel_tls_span (self, t, (guint)c->leg, &lo, &hi);
                tunnel_tls_ends (self, t, (guint)c->leg, &a, &b);
              }
            r |= node_bit (self, a) | node_bit (self, b);
            for (guint i = lo; i <= hi && i < t->conns->len; i++)
              {
                const TsTimelineConn *l
                    = ts_timeline_get_conn (self->tl, g_array_index (t->conns, guint, i));
                r |= _ts_timeline_observer_bit (self->tl, l->link) | node_bit (self, l->client)
                     | node_bit (self, l->server);
              }
          }
        G_GNUC_FALLTHROUGH;
      case READ_CLEAR:
        {
          /* Its destination reads it once something shows it got there. */
          gint lost_to = m->undelivered && e->dst != e->src ? e->dst : -1;

          if (c != NULL)
            r |= (c->client != lost_to ? node_bit (self, c->client) : 0)
                 | (c->server != lost_to ? node_bit (self, c->server) : 0);
          else
            r |= node_bit (self, e->src) | (e->dst != lost_to ? node_bit (self, e->dst) : 0);
          r |= _ts_timeline_observer_bit (self->tl, e->link)
               | (link_end_bits (self, e->link) & ~(lost_to >= 0 ? node_bit (self, lost_to) : 0));
          /* (Where it was last seen; not its destination itself, at the
           * link's far end, which it may or may not have reached.) */
          e->stops_at = lost_to >= 0 ? link_far_end (self, e->link, e->src) : -1;
          if (e->stops_at == e->dst)
            e->stops_at = -1;
          break;
        }
      case READ_TLS:
        {
          /* Bulk data asks this once per record: cache it per leg until the
           * tunnel changes. */
          Conn *cs = c != NULL ? self->conns->pdata[c->id] : NULL;
          if (cs != NULL && cs->tls_readers_ok)
            r = cs->tls_readers;
          else if (t != NULL && c != NULL && c->leg >= 0)
            {
              gint a, b;
              tunnel_tls_ends (self, t, (guint)c->leg, &a, &b);
              r = node_bit (self, a) | node_bit (self, b);
            }
          else if (c != NULL)
            r = node_bit (self, c->client) | node_bit (self, c->server);
          if (cs != NULL)
            {
              cs->tls_readers = r;
              cs->tls_readers_ok = TRUE;
            }
          break;
        }
    }
  if (e->readers != r)
    {
      e->readers = r;
      mark_changed (self, index);
    }
}

/* Appends an event on @c in direction @dir (or a connection-less one when
 * @c is NULL) and returns its index. The caller fills the rest and may add
 * detail lines right away. */
static guint new_event (TsAnalyzer *self, Conn *c, int dir, TsLayer layer, TsPhase phase,
                        const char *kind, ReadClass cls, const char *format, ...)
    G_GNUC_PRINTF (8, 9);

static guint
new_event (TsAnalyzer *self, Conn *c, int dir, TsLayer layer, TsPhase phase, const char *kind,
           ReadClass cls, const char *format, ...)
{
  guint index = _ts_timeline_append_event (self->tl);
  TsTimelineEvent *e = _ts_timeline_event (self->tl, index);
  EventMeta m = { (guint8)cls, (guint8)dir };
  va_list args;

  g_array_append_val (self->meta, m);
  e->time_ns = self->cur_time;
  e->packet = self->cur_packet;
  e->layer = layer;
  e->phase = phase;
  /* Kinds are literals or already interned (stable storage): intern each
   * pointer once. */
  if (kind != self->last_kind)
    {
      self->last_kind = kind;
      self->last_kind_interned = _ts_timeline_intern (self->tl, kind);
      self->last_kind_anomaly = strcmp (kind, "anomaly") == 0;
    }
  e->kind = self->last_kind_interned;
  va_start (args, format);
  e->summary = _ts_timeline_intern_vprintf (self->tl, format, args);
  va_end (args);
  e->anomaly = self->last_kind_anomaly;
  if (c != NULL)
    {
      TsTimelineConn *tc = tconn (self, c);
      e->link = tc->link;
      e->conn = (gint)c->id;
      e->src = dir == 0 ? tc->client : tc->server;
      e->dst = dir == 0 ? tc->server : tc->client;
      e->tunnel = tc->tunnel;
      g_array_index (self->meta, EventMeta, index).undelivered
          = beyond_link (self, tc->link, e->dst) && !c->heard[1 - dir];
      g_array_append_val (c->events, index);
      if (tc->tunnel >= 0)
        g_array_append_val (_ts_timeline_tunnel (self->tl, (guint)tc->tunnel)->events, index);
    }
  compute_readers (self, index);
  return index;
}

/* What a message inside TLS took on the wire: its @len bytes, and the
 * overhead (record headers, content type, tag) of the records fed in its
 * direction since the last message there was placed. Every record's
 * overhead goes to one message, so that the wire_len of the events sum to
 * the records' bytes, and a message alone in its record gets exactly that
 * record's size (what an observer sees). */
static guint64
tls_wire_len (Conn *c, guint64 len)
{
  guint64 o = c->tls_overhead[c->cur_tls_dir];

  c->tls_overhead[c->cur_tls_dir] = 0;
  return len + o;
}

/* Places event @index at stream bytes [off, end) of @c's direction @dir. */
static void
locate (TsAnalyzer *self, Conn *c, int dir, guint64 off, guint64 end, guint index)
{
  TsTimelineEvent *e = _ts_timeline_event (self->tl, index);
  const TsTcpSpan *s;

  if (c->stream[dir] == NULL)
    return;
  e->wire_len = end > off ? end - off : 0;
  s = ts_tcp_stream_lookup_span (c->stream[dir], off);
  if (s != NULL && s->packet != G_MAXUINT32)
    {
      guint64 in = off - s->stream_offset;
      e->packet = s->packet;
      e->byte_offset = s->packet_offset + (guint32)in;
      e->byte_len = (guint32)MIN (end - off, (guint64)s->len - in);
    }
  if (end > off)
    {
      s = ts_tcp_stream_lookup_span (c->stream[dir], end - 1);
      if (s != NULL && s->packet != G_MAXUINT32 && s->packet < self->packets->len)
        e->time_ns = g_array_index (self->packets, PacketInfo, s->packet).time_ns;
    }
}

static guint anomaly_event (TsAnalyzer *self, Conn *c, int dir, const char *format, ...)
    G_GNUC_PRINTF (4, 5);

static guint
anomaly_event (TsAnalyzer *self, Conn *c, int dir, const char *format, ...)
{
  va_list args;
  g_autofree char *text = NULL;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  return new_event (self, c, dir, c != NULL ? TS_LAYER_TCP : TS_LAYER_LINK, TS_PHASE_NONE,
                    "anomaly", READ_CLEAR, "%s", text);
}

/* --- tunnels --------------------------------------------------------------- */

static void
refresh_conn_events (TsAnalyzer *self, Conn *c)
{
  TsTimelineConn *tc = tconn (self, c);

  c->tls_readers_ok = FALSE;

  for (guint i = 0; i < c->events->len; i++)
    {
      guint index = g_array_index (c->events, guint, i);
      TsTimelineEvent *e = _ts_timeline_event (self->tl, index);
      EventMeta *m = &g_array_index (self->meta, EventMeta, index);
      gint src = m->dir == 0 ? tc->client : tc->server;
      gint dst = m->dir == 0 ? tc->server : tc->client;

      if (e->src != src || e->dst != dst || e->tunnel != tc->tunnel)
        {
          e->src = src;
          e->dst = dst;
          if (e->tunnel != tc->tunnel)
            {
              e->tunnel = tc->tunnel;
              if (tc->tunnel >= 0)
                g_array_append_val (_ts_timeline_tunnel (self->tl, (guint)tc->tunnel)->events,
                                    index);
            }
          mark_changed (self, index);
        }
    }
}

/* An inferred node's role, from what a tunnel shows it to be: its client,
 * a proxy on its way, its server. A proxy stays a proxy (a proxy is also
 * the client of the next leg and the server of the one before). */
static void
infer_role (TsAnalyzer *self, gint node, const char *role)
{
  const TsTimelineNode *n;

  if (node < 0)
    return;
  n = ts_timeline_get_node (self->tl, (guint)node);
  /* Set once; only a client or server found to be a proxy changes. */
  if (!n->inferred
      || (n->role != NULL && (!g_str_equal (role, "proxy") || g_str_equal (n->role, "proxy"))))
    return;
  _ts_timeline_node_set_role (self->tl, (guint)node, role);
  self->nodes_changed = TRUE;
}

static void
update_tunnel (TsAnalyzer *self, gint tunnel)
{
  TsTimelineTunnel *t;
  const TsTlsSessionInfo *prev = NULL;
  TsTunnelMode mode = TS_TUNNEL_MODE_UNKNOWN;
  gint intercepting = -1;
  gboolean any_clear = FALSE;

  if (tunnel < 0)
    return;
  t = _ts_timeline_tunnel (self->tl, (guint)tunnel);
  for (guint i = 0; i < t->conns->len; i++)
    {
      Conn *c = self->conns->pdata[g_array_index (t->conns, guint, i)];
      const TsTlsSessionInfo *in = c->tls ? ts_tls_session_get_info (c->tls) : NULL;

      if (c->tunnel_proto == PROTO_OPAQUE || c->tunnel_proto == PROTO_HTTP)
        any_clear = TRUE;
      if (in == NULL || !in->have_client_hello)
        continue;
      if (prev != NULL)
        {
          if (memcmp (prev->client_random, in->client_random, 32) == 0)
            {
              if (mode == TS_TUNNEL_MODE_UNKNOWN)
                mode = TS_TUNNEL_MODE_RELAY;
            }
          else
            {
              mode = TS_TUNNEL_MODE_INTERCEPT;
              if (intercepting < 0)
                intercepting = tconn (self, c)->client;
            }
        }
      prev = in;
    }
  if (mode == TS_TUNNEL_MODE_UNKNOWN)
    {
      /* A ServerHello on a leg whose next leg carries no ClientHello: the
       * proxy between them answered the TLS itself (an interception the
       * client may then refuse). Through a relay the next leg's ClientHello
       * always comes first. */
      for (guint i = 0; i + 1 < t->conns->len; i++)
        {
          Conn *a = self->conns->pdata[g_array_index (t->conns, guint, i)];
          Conn *b = self->conns->pdata[g_array_index (t->conns, guint, i + 1)];
          const TsTlsSessionInfo *ia = a->tls ? ts_tls_session_get_info (a->tls) : NULL;
          const TsTlsSessionInfo *ib = b->tls ? ts_tls_session_get_info (b->tls) : NULL;
          if (ia != NULL && ia->have_server_hello && (ib == NULL || !ib->have_client_hello))
            {
              mode = TS_TUNNEL_MODE_INTERCEPT;
              intercepting = tconn (self, a)->server;
              break;
            }
        }
    }
  if (mode == TS_TUNNEL_MODE_UNKNOWN && any_clear)
    mode = TS_TUNNEL_MODE_RELAY;
  for (guint i = 0; i < t->conns->len; i++)
    ((Conn *)self->conns->pdata[g_array_index (t->conns, guint, i)])->tls_readers_ok = FALSE;
  if (t->mode != mode || t->intercepting_proxy != intercepting)
    {
      t->mode = mode;
      t->intercepting_proxy = intercepting;
      self->tunnels_changed = TRUE;
    }
  for (guint i = 0; i < t->events->len; i++)
    compute_readers (self, g_array_index (t->events, guint, i));
  infer_role (self, t->client, "client");
  infer_role (self, t->server, "server");
  for (guint i = 0; i < t->proxies->len; i++)
    infer_role (self, g_array_index (t->proxies, gint, i), "proxy");
}

static inline gint
swap_node (gint id, gint old, gint node)
{
  return id == old ? node : id;
}

/* The inferred node @old turns out to be @node (another address of a
 * proxy): everything that named @old names @node, and @old is shown
 * nowhere any more. Rare (once per proxy address), so it walks it all. */
static void
merge_node (TsAnalyzer *self, gint old, gint node)
{
  const TsTimelineNode *o = ts_timeline_get_node (self->tl, (guint)old);
  GHashTableIter it;
  gpointer k, v;

  for (guint i = 0; i < o->addresses->len; i++)
    _ts_timeline_node_add_address (self->tl, (guint)node, o->addresses->pdata[i]);
  g_hash_table_iter_init (&it, self->addr_nodes);
  while (g_hash_table_iter_next (&it, &k, &v))
    if (GPOINTER_TO_INT (v) - 1 == old)
      g_hash_table_iter_replace (&it, GINT_TO_POINTER (node + 1));
  for (guint i = 0; i < self->conns->len; i++)
    {
      Conn *c = self->conns->pdata[i];
      TsTimelineConn *tc = tconn (self, c);
      if (tc->client == old || tc->server == old)
        {
          tc->client = swap_node (tc->client, old, node);
          tc->server = swap_node (tc->server, old, node);
          c->tls_readers_ok = FALSE;
        }
    }
  for (guint i = 0; i < ts_timeline_get_n_tunnels (self->tl); i++)
    {
      TsTimelineTunnel *t = _ts_timeline_tunnel (self->tl, i);
      t->client = swap_node (t->client, old, node);
      t->server = swap_node (t->server, old, node);
      t->intercepting_proxy = swap_node (t->intercepting_proxy, old, node);
      for (guint p = 0; p < t->proxies->len; p++)
        g_array_index (t->proxies, gint, p)
            = swap_node (g_array_index (t->proxies, gint, p), old, node);
    }
  for (guint i = 0; i < ts_timeline_get_n_links (self->tl); i++)
    {
      const TsTimelineLink *l = ts_timeline_get_link (self->tl, i);
      if (l->a == old || l->b == old)
        _ts_timeline_set_link_ends (self->tl, i, swap_node (l->a, old, node),
                                    swap_node (l->b, old, node));
    }
  for (guint i = 0; i < ts_timeline_get_n_events (self->tl); i++)
    {
      TsTimelineEvent *e = _ts_timeline_event (self->tl, i);
      if (e->src == old || e->dst == old || e->stops_at == old
          || (e->readers & node_bit (self, old)))
        {
          e->src = swap_node (e->src, old, node);
          e->dst = swap_node (e->dst, old, node);
          e->stops_at = swap_node (e->stops_at, old, node);
          compute_readers (self, i);
          mark_changed (self, i);
        }
    }
  ((TsTimelineNode *)ts_timeline_get_node (self->tl, (guint)old))->merged_into = node;
  self->tunnels_changed = TRUE;
  self->nodes_changed = TRUE;
}

/* @up's client is really @node (a proxy): a foreign capture's address of
 * that proxy now maps to it, and the node inferred for that address alone
 * is that proxy. */
static void
adopt_client (TsAnalyzer *self, Conn *up, gint node)
{
  TsTimelineConn *tu = tconn (self, up);
  char buf[64];

  if (!ts_address_is_loopback (&up->addr[0]) && tu->client >= 0
      && ts_timeline_get_node (self->tl, (guint)tu->client)->inferred)
    {
      const TsTimelineNode *old = ts_timeline_get_node (self->tl, (guint)tu->client);
      ts_address_to_string (&up->addr[0], buf, sizeof buf);
      if (tu->client != node && old->merged_into < 0 && old->addresses->len == 1
          && g_str_equal (old->addresses->pdata[0], buf))
        merge_node (self, tu->client, node);
      g_hash_table_replace (self->addr_nodes, g_strdup (buf), GINT_TO_POINTER (node + 1));
      _ts_timeline_node_add_address (self->tl, (guint)node, buf);
    }
  tu->client = node;
  up->tls_readers_ok = FALSE;
  self->nodes_changed = TRUE;
}

/* @up becomes the next leg of @down's tunnel. */
static void
join_legs (TsAnalyzer *self, Conn *down, Conn *up)
{
  TsTimelineConn *td = tconn (self, down), *tu = tconn (self, up);
  TsTimelineTunnel *t;
  guint host_port = 0;
  g_autofree char *host = NULL;

  if (td->tunnel < 0)
    {
      t = _ts_timeline_add_tunnel (self->tl);
      t->client = td->client;
      t->target = g_strdup (down->connect_target);
      g_array_append_val (t->proxies, td->server);
      g_array_append_val (t->conns, down->id);
      td->tunnel = (gint)t->id;
      td->leg = 0;
      refresh_conn_events (self, down);
    }
  t = _ts_timeline_tunnel (self->tl, (guint)td->tunnel);
  /* On a shared address (loopback), or where the proxy's other address was
   * unknown, the upstream leg's client was a guess: it is the proxy. */
  if (tu->client != td->server)
    adopt_client (self, up, td->server);
  tu->tunnel = td->tunnel;
  tu->leg = td->leg + 1;
  g_array_append_val (t->conns, up->id);
  host = split_authority (down->connect_target ? down->connect_target : "", &host_port);
  if (t->server < 0)
    {
      gint n = node_for_target (self, host, host_port);
      t->server = n >= 0 ? n : tu->server;
    }
  refresh_conn_events (self, up);
  self->tunnels_changed = TRUE;
  self->nodes_changed = TRUE;
  update_tunnel (self, td->tunnel);
}

/* A new connection @up opened: is it a proxy's upstream leg for a pending
 * CONNECT (or a forward proxy's for an absolute-form request)? Match on the
 * proxy node, the timing, and the target. */
static void
match_upstream (TsAnalyzer *self, Conn *up)
{
  TsTimelineConn *tu = tconn (self, up);
  /* When @up opened: a capture of several interfaces (dumpcap -i a -i b)
   * holds each interface's packets in order but not the interfaces'
   * between them, so the request, its answer and the upstream leg may come
   * in any order in the file: times decide, not the order. */
  guint64 up_time = tu->open_ns;
  Conn *best = NULL;
  gboolean best_connect = FALSE;
  int best_score = 0;

  /* Requests that waited longer than this for their upstream leg stop
   * waiting (a proxy connects at once; this bounds the search). */
  for (guint i = 0; i < self->waiting->len;)
    {
      Conn *d = self->waiting->pdata[i];
      guint64 when = MAX (d->connect_pending ? d->connect_time : 0,
                          d->forward_pending ? d->forward_time : 0);
      if ((!d->connect_pending && !d->forward_pending)
          || (d->closed && tconn (self, d)->close_ns + MATCH_DISORDER_NS < self->cur_time)
          || when + MATCH_WINDOW_NS < self->cur_time)
        {
          d->connect_pending = d->forward_pending = FALSE;
          g_ptr_array_remove_index (self->waiting, i);
        }
      else
        i++;
    }
  for (guint i = 0; i < self->waiting->len; i++)
    {
      Conn *d = self->waiting->pdata[i];
      TsTimelineConn *td = tconn (self, d);

      for (int kind = 0; kind < 2; kind++)
        {
          gboolean is_connect = kind == 0;
          const char *target = is_connect ? d->connect_target : d->forward_target;
          guint64 when = is_connect ? d->connect_time : d->forward_time;
          int score = 0;
          guint port = 0;
          g_autofree char *host = NULL;

          if (!(is_connect ? d->connect_pending : d->forward_pending) || d == up || up->is_upstream
              || when > up_time || (d->closed && tconn (self, d)->close_ns < up_time))
            continue;
          host = split_authority (target, &port);
          /* The upstream leg starts at the proxy. In a foreign capture the
           * proxy's other address may be unknown yet: then only a leg opened
           * while the request waits for its answer qualifies. */
          if (tu->client == td->server)
            score += 2;
          else if (!ts_address_is_loopback (&up->addr[0])
                   && !(ts_timeline_get_node (self->tl, (guint)tu->client)->inferred
                        && ts_timeline_get_node (self->tl, (guint)td->server)->inferred
                        && tu->client != td->client
                        && !(d->in_tunnel_data && d->tunnel_data_time <= up_time)))
            continue;
          if (port == up->port[1])
            score += 1;
          {
            gint n = node_for_host (self, host);
            char buf[64];
            ts_address_to_string (&up->addr[1], buf, sizeof buf);
            if ((n >= 0 && n == tu->server) || g_strcmp0 (host, buf) == 0
                || (ts_address_is_loopback (&up->addr[1]) && g_strcmp0 (host, "localhost") == 0))
              score += 2;
          }
          /* On loopback only a matching target is evidence; across an
           * unknown proxy, at least the port. */
          if (ts_address_is_loopback (&up->addr[0]) && score < 3)
            continue;
          if (tu->client != td->server && score < 1)
            continue;
          if (score > best_score)
            {
              best = d;
              best_connect = is_connect;
              best_score = score;
            }
        }
    }
  if (best == NULL)
    return;
  up->is_upstream = TRUE;
  if (best_connect)
    {
      best->connect_pending = FALSE;
      tconn (self, best)->upstream = (gint)up->id;
      join_legs (self, best, up);
    }
  else
    {
      best->forward_pending = FALSE;
      tconn (self, best)->upstream = (gint)up->id;
      if (tu->client != tconn (self, best)->server)
        {
          adopt_client (self, up, tconn (self, best)->server);
          refresh_conn_events (self, up);
        }
    }
}

/* How many of the latest connections a new proxy request looks through for
 * an upstream leg that came before it in the file. */
#define MATCH_EARLIER_CONNS 256

/* @d's proxy request was just seen: its upstream leg may be in the file
 * already, ahead of it (a capture of several interfaces, whose packets are
 * not in time order between interfaces): a connection that opened after
 * the request, not yet matched, is tried as it was when it opened. */
static void
match_earlier_upstream (TsAnalyzer *self, Conn *d)
{
  guint n = self->conns->len;

  for (guint i = n; i > 0 && n - i < MATCH_EARLIER_CONNS; i--)
    {
      Conn *up = self->conns->pdata[i - 1];
      guint64 open = tconn (self, up)->open_ns;

      if (!d->connect_pending && !d->forward_pending)
        return;
      if (up == d || up->is_upstream || !up->syn_seen || open < self->cur_time)
        continue;
      match_upstream (self, up);
    }
}

/* "http://host:port/path" -> "host:port" (default port by scheme), or NULL. */
static char *
absolute_authority (const char *uri)
{
  const char *p = strstr (uri, "://"), *end;
  g_autofree char *auth = NULL;
  const char *at;
  guint port = g_str_has_prefix (uri, "https:") ? 443 : 80;

  if (p == NULL)
    return NULL;
  p += 3;
  end = p + strcspn (p, "/?#");
  auth = g_strndup (p, (gsize)(end - p));
  at = strrchr (auth, '@');
  if (at != NULL)
    memmove (auth, at + 1, strlen (at + 1) + 1);
  if (strrchr (auth, ':') != NULL && (auth[0] != '[' || strrchr (auth, ']') < strrchr (auth, ':')))
    return g_steal_pointer (&auth);
  return g_strdup_printf ("%s:%u", auth, port);
}

/* --- HTTP ------------------------------------------------------------------ */

/* Whether @c's HTTP is inside TLS (its own, or its tunnel's). */
static gboolean
http_over_tls (const Conn *c)
{
  return c->tunnel_proto == PROTO_TLS || c->proto == PROTO_TLS;
}

/* Who reads @c's HTTP: everyone on the path for the outer HTTP, the
 * path's ends (and interceptors) inside TLS, the path inside a clear
 * tunnel. */
static ReadClass
http_read_class (const Conn *c, gboolean inner)
{
  return !inner ? READ_CLEAR : http_over_tls (c) ? READ_TLS : READ_PATH;
}

static void
http_head (gpointer user_data, TsHttp1Direction dir, guint64 offset, gsize len,
           const TsHttp1Head *h, TsHttp1BodyKind body, guint64 body_len, const char *request_method,
           gboolean inner)
{
  Conn *c = user_data;
  TsAnalyzer *self = c->an;
  g_autofree char *method = NULL, *target = NULL;
  gboolean proxy_phase;
  guint index;
  gboolean over_tls = http_over_tls (c);
  ReadClass cls = http_read_class (c, inner);
  TsTimelineEvent *e;
  const char *cut = body == TS_HTTP1_BODY_CUT ? " (head cut by the capture)" : "";

  if (h->is_request)
    {
      method = g_strndup (h->method, h->method_len);
      target = g_strndup (h->target, h->target_len);
      proxy_phase = !inner
                    && (h->target_form == TS_HTTP1_TARGET_AUTHORITY
                        || h->target_form == TS_HTTP1_TARGET_ABSOLUTE);
      index = new_event (self, c, dir, TS_LAYER_HTTP, proxy_phase ? TS_PHASE_PROXY : TS_PHASE_DATA,
                         "http.request", cls, "%s %s HTTP/1.%d%s", method, target, h->minor_version,
                         cut);
      e = _ts_timeline_event (self->tl, index);
      e->http_method = _ts_timeline_intern (self->tl, method);
      e->http_target = _ts_timeline_intern (self->tl, target);
      _ts_timeline_add_detail (self->tl, index, 0, "request-target form: %s",
                               ts_http1_target_form_to_string (h->target_form));
      if (!inner && h->target_form == TS_HTTP1_TARGET_ABSOLUTE)
        {
          g_free (c->forward_target);
          c->forward_target = absolute_authority (target);
          c->forward_time = self->cur_time;
          c->forward_pending = c->forward_target != NULL;
          if (c->forward_pending && !g_ptr_array_find (self->waiting, c, NULL))
            g_ptr_array_add (self->waiting, c);
          if (c->forward_pending)
            match_earlier_upstream (self, c);
        }
      if (!inner && h->target_form == TS_HTTP1_TARGET_AUTHORITY)
        {
          g_free (c->connect_target);
          c->connect_target = g_strdup (target);
          c->connect_time = self->cur_time;
          /* A leg that is itself upstream of a tunnel extends the chain. */
          if (tconn (self, c)->tunnel >= 0)
            {
              TsTimelineTunnel *t = _ts_timeline_tunnel (self->tl, (guint)tconn (self, c)->tunnel);
              gint p = tconn (self, c)->server;
              gboolean have = FALSE;
              for (guint i = 0; i < t->proxies->len; i++)
                have |= g_array_index (t->proxies, gint, i) == p;
              if (!have)
                {
                  g_array_append_val (t->proxies, p);
                  if (t->server == p)
                    t->server = -1;
                  self->tunnels_changed = TRUE;
                }
            }
          c->connect_pending = TRUE;
          if (!g_ptr_array_find (self->waiting, c, NULL))
            g_ptr_array_add (self->waiting, c);
          match_earlier_upstream (self, c);
        }
    }
  else
    {
      proxy_phase = !inner && strcmp (request_method, "CONNECT") == 0;
      index = new_event (self, c, dir, TS_LAYER_HTTP, proxy_phase ? TS_PHASE_PROXY : TS_PHASE_DATA,
                         "http.response", cls, "%d %.*s%s", h->status, (int)h->reason_len,
                         h->reason, cut);
      e = _ts_timeline_event (self->tl, index);
      e->http_status = (guint)h->status;
      if (request_method[0] != '\0')
        _ts_timeline_add_detail (self->tl, index, 0, "answers: %s", request_method);
    }
  e = _ts_timeline_event (self->tl, index);
  e->encrypted = inner && over_tls;
  e->decrypted = e->encrypted;
  _ts_timeline_add_detail (self->tl, index, 0, "HTTP/1.%d, %zu header fields", h->minor_version,
                           h->n_headers);
  for (gsize i = 0; i < h->n_headers; i++)
    {
      const TsHttp1Header *f = &h->headers[i];
      g_autofree char *joined = f->folded ? ts_http1_header_dup_value (f) : NULL;

      _ts_timeline_add_detail (self->tl, index, 1, "%.*s: %.*s", (int)f->name_len, f->name,
                               (int)MIN (joined ? strlen (joined) : f->value_len, 200),
                               joined ? joined : f->value);
      if (f->folded)
        _ts_timeline_add_detail (self->tl, index, 2,
                                 "obsolete line folding (RFC 9112 §5.2): its lines are joined "
                                 "with a space, as a user agent must read them");
    }
  if (body == TS_HTTP1_BODY_LENGTH)
    _ts_timeline_add_detail (self->tl, index, 0, "body: %" G_GUINT64_FORMAT " bytes", body_len);
  else if (body == TS_HTTP1_BODY_CHUNKED)
    _ts_timeline_add_detail (self->tl, index, 0, "body: chunked");
  else if (body == TS_HTTP1_BODY_UNTIL_CLOSE)
    _ts_timeline_add_detail (self->tl, index, 0, "body: until the connection closes");
  else if (body == TS_HTTP1_BODY_CUT)
    _ts_timeline_add_detail (self->tl, index, 0,
                             "the capture lost the rest of the head: the header fields above are "
                             "its complete lines, and where the message ends is not known: "
                             "HTTP/1 parsing resumes at the next %s",
                             h->is_request ? "request" : "response");
  if (inner)
    {
      if (over_tls)
        {
          e->packet = G_MAXUINT32;
          /* Its record's bytes after it are its body's (an observer
           * sees the record whole; a body event counts the records
           * after it). */
          guint64 tail = c->cur_plain_end > offset + len ? c->cur_plain_end - offset - len : 0;

          if (body == TS_HTTP1_BODY_LENGTH)
            tail = MIN (tail, body_len);
          else if (body == TS_HTTP1_BODY_NONE)
            tail = 0;
          locate (self, c, c->cur_tls_dir, c->cur_tls_off, c->cur_tls_end, index);
          e->wire_len = tls_wire_len (c, len + tail);
        }
      else
        locate (self, c, dir, c->inner_base[dir] + offset, c->inner_base[dir] + offset + len,
                index);
    }
  else
    locate (self, c, dir, offset, offset + len, index);
  c->body[dir].open = body != TS_HTTP1_BODY_NONE && body != TS_HTTP1_BODY_CUT;
  c->body[dir].head_event = index;
  c->body[dir].head_packet = self->cur_packet;
  c->body[dir].head_end = !inner     ? offset + len
                          : over_tls ? c->cur_tls_end
                                     : c->inner_base[dir] + offset + len;
}

/* A message's body ended at stream offset @end (@body_len bytes). A body
 * that went on past its head's packet gets an event of its own where it
 * ends: a download's seconds and megabytes are not lost in its head's line
 * (an observer who cannot read it still sees their size and timing). */
static void
http_message_end (gpointer user_data, TsHttp1Direction dir, guint64 end, guint64 body_len,
                  gboolean inner)
{
  Conn *c = user_data;
  TsAnalyzer *self = c->an;
  gboolean over_tls = http_over_tls (c);
  ReadClass cls = http_read_class (c, inner);
  const TsTimelineEvent *head;
  const char *head_summary;
  TsTimelineEvent *e;
  guint64 wire_end, head_time;
  guint index;

  if (!c->body[dir].open)
    return;
  c->body[dir].open = FALSE;
  if (body_len == 0 || self->cur_packet == c->body[dir].head_packet)
    return;
  /* A body delimited by the close ends when the connection does, which may
   * be packets after its last byte: where that byte is decides. In its
   * head's packet (or TLS record), the body has no event: its bytes are
   * counted with the head (twice before, and an observer was shown them
   * as a transfer of their own). */
  if (inner && over_tls)
    {
      wire_end = c->rec_end[dir];
      if (wire_end <= c->body[dir].head_end)
        return;
    }
  else
    {
      const TsTcpSpan *last;

      wire_end = inner ? c->inner_base[dir] + end : end;
      last = c->stream[dir] != NULL ? ts_tcp_stream_lookup_span (c->stream[dir], wire_end - 1)
                                    : NULL;
      if (last != NULL && last->packet == c->body[dir].head_packet)
        return;
    }
  head = _ts_timeline_event (self->tl, c->body[dir].head_event);
  head_time = head->time_ns;
  head_summary = head->summary;
  index = new_event (self, c, dir, TS_LAYER_HTTP, TS_PHASE_DATA, "http.body", cls,
                     "body ends: %" G_GUINT64_FORMAT " bytes", body_len);
  e = _ts_timeline_event (self->tl, index);
  e->encrypted = inner && over_tls;
  e->decrypted = e->encrypted;
  if (inner && over_tls)
    locate (self, c, dir, c->rec_off[dir], c->rec_end[dir], index);
  else
    locate (self, c, dir, wire_end - 1, wire_end, index);
  /* What it took on the wire after its head (TLS records and all: their
   * overhead is counted here). */
  e->wire_len = wire_end > c->body[dir].head_end ? wire_end - c->body[dir].head_end : body_len;
  if (inner && over_tls)
    c->tls_overhead[dir] = 0;
  _ts_timeline_add_detail (self->tl, index, 0, "the body of: %s", head_summary);
  _ts_timeline_add_detail (self->tl, index, 0, "%" G_GUINT64_FORMAT " bytes of body", body_len);
  if (e->time_ns > head_time)
    {
      double s = (double)(e->time_ns - head_time) / 1e9;
      _ts_timeline_add_detail (self->tl, index, 0, "%.3f s after its head", s);
      _ts_timeline_add_detail (self->tl, index, 0, "%.1f MB/s on average",
                               (double)body_len / s / 1e6);
    }
  if (inner && over_tls)
    _ts_timeline_add_detail (self->tl, index, 0,
                             "%" G_GUINT64_FORMAT " bytes of TLS records after the head's",
                             e->wire_len);
}

static void
outer_message_end (gpointer user_data, TsHttp1Direction dir, guint64 end, guint64 body_len)
{
  http_message_end (user_data, dir, end, body_len, FALSE);
}

static void
inner_message_end (gpointer user_data, TsHttp1Direction dir, guint64 end, guint64 body_len)
{
  http_message_end (user_data, dir, end, body_len, TRUE);
}

static void
outer_head (gpointer user_data, TsHttp1Direction dir, guint64 offset, gsize len,
            const TsHttp1Head *h, TsHttp1BodyKind body, guint64 body_len,
            const char *request_method)
{
  http_head (user_data, dir, offset, len, h, body, body_len, request_method, FALSE);
}

static void
inner_head (gpointer user_data, TsHttp1Direction dir, guint64 offset, gsize len,
            const TsHttp1Head *h, TsHttp1BodyKind body, guint64 body_len,
            const char *request_method)
{
  http_head (user_data, dir, offset, len, h, body, body_len, request_method, TRUE);
}

static void
http_anomaly (gpointer user_data, TsHttp1Direction dir, guint64 offset, const char *what)
{
  Conn *c = user_data;
  guint index = new_event (c->an, c, dir, TS_LAYER_HTTP, TS_PHASE_NONE, "anomaly", READ_CLEAR,
                           "HTTP: %s", what);

  locate (c->an, c, dir, offset, offset + 1, index);
}

static void inner_anomaly (gpointer user_data, TsHttp1Direction dir, guint64 offset,
                           const char *what);
static void inner_tunnel (gpointer user_data, TsHttp1TunnelKind kind, const char *protocol);
static void h2_start (Conn *c);
static gboolean is_h2_preface (const guint8 *data, gsize len);
static void inner_tunnel_data (gpointer user_data, TsHttp1Direction dir, guint64 offset,
                               const guint8 *data, gsize len);

static void tls_event (const TsTlsEvent *ev, gpointer user_data);

static void ws_frame (gpointer user_data, guint64 offset, const TsWebsocketFrame *f,
                      const guint8 *preview, gsize preview_len);
static void ws_frame_server (gpointer user_data, guint64 offset, const TsWebsocketFrame *f,
                             const guint8 *preview, gsize preview_len);
static void ws_error (gpointer user_data, guint64 offset, const char *what);

static void
http_tunnel (gpointer user_data, TsHttp1TunnelKind kind, const char *protocol)
{
  Conn *c = user_data;
  TsAnalyzer *self = c->an;
  guint index;

  c->in_tunnel_data = TRUE;
  c->tunnel_data_time = self->cur_time;
  c->upgrade = kind == TS_HTTP1_TUNNEL_UPGRADE;
  if (kind == TS_HTTP1_TUNNEL_CONNECT)
    {
      index
          = new_event (self, c, 1, TS_LAYER_HTTP, TS_PHASE_PROXY, "tunnel.established", READ_CLEAR,
                       "tunnel to %s established", c->connect_target ? c->connect_target : "?");
      if (tconn (self, c)->tunnel < 0 && c->connect_pending)
        {
          /* No upstream leg seen yet (or not captured): the tunnel starts
           * here all the same. */
          TsTimelineConn *tc = tconn (self, c);
          TsTimelineTunnel *t = _ts_timeline_add_tunnel (self->tl);
          guint port = 0;
          g_autofree char *host
              = split_authority (c->connect_target ? c->connect_target : "", &port);
          t->client = tc->client;
          t->target = g_strdup (c->connect_target);
          g_array_append_val (t->proxies, tc->server);
          g_array_append_val (t->conns, c->id);
          t->server = node_for_target (self, host, port);
          tc->tunnel = (gint)t->id;
          tc->leg = 0;
          refresh_conn_events (self, c);
          self->tunnels_changed = TRUE;
        }
    }
  else
    index = new_event (self, c, 1, TS_LAYER_HTTP, TS_PHASE_DATA, "tunnel.established", READ_CLEAR,
                       "switched to %s", protocol);
  (void)index;
}

static void
tunnel_data (gpointer user_data, TsHttp1Direction dir, guint64 offset, const guint8 *data,
             gsize len)
{
  Conn *c = user_data;
  TsAnalyzer *self = c->an;

  if (c->tunnel_proto == PROTO_UNKNOWN)
    {
      if (c->upgrade)
        c->tunnel_proto = PROTO_OPAQUE; /* WebSocket frames: decoded below */
      else if (dir == 0 && ts_tls_session_looks_like_tls (data, len))
        c->tunnel_proto = PROTO_TLS;
      else if (dir == 0 && is_h2_preface (data, len))
        c->tunnel_proto = PROTO_HTTP2;
      else if (dir == 0 && ts_http1_looks_like_request (data, len))
        c->tunnel_proto = PROTO_HTTP;
      else
        c->tunnel_proto = PROTO_OPAQUE;
      g_free (tconn (self, c)->protocol);
      tconn (self, c)->protocol = g_strdup (c->tunnel_proto == PROTO_TLS     ? "http+tls"
                                            : c->upgrade                     ? "http+websocket"
                                            : c->tunnel_proto == PROTO_HTTP  ? "http+http"
                                            : c->tunnel_proto == PROTO_HTTP2 ? "http+h2c"
                                                                             : "http+opaque");
      if (c->tunnel_proto == PROTO_TLS)
        {
          c->tls = ts_tls_session_new (self->keylog, tls_event, c);
          if (self->ahead != NULL)
            ts_tls_session_set_ahead (c->tls, AHEAD_HOOK (self), self->ahead);
          g_ptr_array_add (self->live_tls, c);
        }
      else if (c->tunnel_proto == PROTO_HTTP2)
        h2_start (c);
      else if (c->tunnel_proto == PROTO_HTTP)
        {
          static const TsHttp1Callbacks cb
              = { inner_head, inner_message_end, inner_tunnel, inner_tunnel_data, inner_anomaly };
          c->inner_http = ts_http1_conn_new (&cb, c);
          c->inner_proto = PROTO_HTTP;
        }
      update_tunnel (self, tconn (self, c)->tunnel);
    }
  switch (c->tunnel_proto)
    {
      case PROTO_TLS:
        if (!c->tls_base_set[dir])
          {
            c->tls_base_set[dir] = TRUE;
            c->tls_base[dir] = offset;
          }
        ts_tls_session_feed (c->tls, (TsTlsDirection)dir, data, len,
                             (gint64)(self->cur_time / 1000));
        break;
      case PROTO_HTTP2:
        ts_http2_stream_feed (c->h2[dir], offset, data, len);
        break;
      case PROTO_HTTP:
        if (!c->tls_base_set[dir])
          {
            /* Inner offsets start at the tunnel's first byte. */
            c->tls_base_set[dir] = TRUE;
            c->inner_base[dir] = offset;
          }
        if (c->inner_http)
          ts_http1_conn_feed (c->inner_http, dir, data, len);
        break;
      default:
        if (c->upgrade)
          {
            if (c->ws[dir] == NULL)
              {
                c->ws[dir]
                    = ts_websocket_stream_new (dir == 0 ? ws_frame : ws_frame_server, ws_error, c);
                c->ws_base[dir] = offset;
              }
            ts_websocket_stream_feed (c->ws[dir], offset, data, len);
          }
        else
          {
            guint index = new_event (self, c, dir, TS_LAYER_DATA, TS_PHASE_DATA, "data", READ_PATH,
                                     "%zu bytes", len);
            locate (self, c, dir, offset, offset + len, index);
          }
        break;
    }
}

static void
inner_anomaly (gpointer user_data, TsHttp1Direction dir, guint64 offset, const char *what)
{
  Conn *c = user_data;
  (void)new_event (c->an, c, dir, TS_LAYER_HTTP, TS_PHASE_NONE, "anomaly",
                   http_read_class (c, TRUE), "inner HTTP: %s", what);
}

/* --- WebSocket -------------------------------------------------------------- */

static void
ws_frame_dir (Conn *c, int dir, guint64 offset, const TsWebsocketFrame *f, const guint8 *preview,
              gsize preview_len, gboolean inner)
{
  TsAnalyzer *self = c->an;
  GString *p = g_string_new (NULL);
  gboolean over_tls = inner && (c->tunnel_proto == PROTO_TLS || c->proto == PROTO_TLS);
  guint index;
  TsTimelineEvent *e;

  if (f->opcode == TS_WEBSOCKET_TEXT || (f->opcode == TS_WEBSOCKET_CONTINUATION))
    for (gsize i = 0; i < preview_len && i < 40; i++)
      g_string_append_c (p, g_ascii_isprint (preview[i]) ? (char)preview[i] : '.');
  index = new_event (self, c, dir, TS_LAYER_WEBSOCKET,
                     f->opcode == TS_WEBSOCKET_CLOSE ? TS_PHASE_CLOSE : TS_PHASE_DATA,
                     "websocket.frame",
                     over_tls ? READ_TLS
                     : inner  ? READ_PATH
                              : READ_CLEAR,
                     "WebSocket %s%s, %" G_GUINT64_FORMAT " bytes%s%s%s",
                     ts_websocket_opcode_to_string (f->opcode), f->fin ? "" : " (fragment)",
                     f->payload_len, p->len ? " \"" : "", p->str, p->len ? "\"" : "");
  _ts_timeline_add_detail (self->tl, index, 0, "FIN %d, RSV %d, opcode %d, masked %d", f->fin,
                           f->rsv, f->opcode, f->masked);
  e = _ts_timeline_event (self->tl, index);
  e->encrypted = e->decrypted = over_tls;
  if (over_tls)
    {
      /* Inside TLS: the record that completed the frame. */
      locate (self, c, c->cur_tls_dir, c->cur_tls_off, c->cur_tls_end, index);
      e->wire_len = tls_wire_len (c, f->header_len + f->payload_len);
    }
  else
    locate (self, c, dir, (inner ? c->inner_base[dir] : 0) + offset,
            (inner ? c->inner_base[dir] : 0) + offset + f->header_len + f->payload_len, index);
  g_string_free (p, TRUE);
}

static void
ws_frame (gpointer user_data, guint64 offset, const TsWebsocketFrame *f, const guint8 *preview,
          gsize preview_len)
{
  ws_frame_dir (user_data, 0, offset, f, preview, preview_len, FALSE);
}

static void
ws_frame_server (gpointer user_data, guint64 offset, const TsWebsocketFrame *f,
                 const guint8 *preview, gsize preview_len)
{
  ws_frame_dir (user_data, 1, offset, f, preview, preview_len, FALSE);
}

static void
inner_ws_frame (gpointer user_data, guint64 offset, const TsWebsocketFrame *f,
                const guint8 *preview, gsize preview_len)
{
  ws_frame_dir (user_data, 0, offset, f, preview, preview_len, TRUE);
}

static void
inner_ws_frame_server (gpointer user_data, guint64 offset, const TsWebsocketFrame *f,
                       const guint8 *preview, gsize preview_len)
{
  ws_frame_dir (user_data, 1, offset, f, preview, preview_len, TRUE);
}

/* The inner HTTP (in decrypted TLS, or in clear through a tunnel) switched
 * protocols: WebSocket frames follow. */
static void
inner_tunnel (gpointer user_data, TsHttp1TunnelKind kind, const char *protocol)
{
  Conn *c = user_data;

  c->inner_upgraded = kind == TS_HTTP1_TUNNEL_UPGRADE;
}

static void
inner_tunnel_data (gpointer user_data, TsHttp1Direction dir, guint64 offset, const guint8 *data,
                   gsize len)
{
  Conn *c = user_data;

  if (!c->inner_upgraded)
    return;
  if (c->inner_ws[dir] == NULL)
    c->inner_ws[dir]
        = ts_websocket_stream_new (dir == 0 ? inner_ws_frame : inner_ws_frame_server, NULL, c);
  ts_websocket_stream_feed (c->inner_ws[dir], offset, data, len);
}

static void
ws_error (gpointer user_data, guint64 offset, const char *what)
{
  Conn *c = user_data;

  (void)new_event (c->an, c, 0, TS_LAYER_WEBSOCKET, TS_PHASE_NONE, "anomaly", READ_CLEAR, "%s",
                   what);
}

/* --- HTTP/2 (frame layer) ------------------------------------------------ */

/* A header-carrying frame @frame_index of direction @dir: when it ends a
 * header block, the request (:method), response (:status) or trailers it
 * holds, as an HTTP event of its stream placed where the frame is. */
static void
h2_header_block (Conn *c, int dir, const TsHttp2FrameHeader *f, const guint8 *payload,
                 gsize payload_len, guint frame_index)
{
  TsAnalyzer *self = c->an;
  /* A copy: new events may move the timeline's array. */
  const TsTimelineEvent frame_event = *_ts_timeline_event (self->tl, frame_index);
  const TsTimelineEvent *fe = &frame_event;
  TsHttp2HeaderBlock b;
  TsHttp2HeadersResult r = ts_http2_header_decoder_feed (c->h2hd[dir], f, payload, payload_len, &b);
  ReadClass cls = fe->encrypted ? READ_TLS : READ_CLEAR;
  const char *method, *target, *status;
  guint index;
  TsTimelineEvent *e;

  if (r == TS_HTTP2_HEADERS_ERROR)
    {
      index
          = new_event (self, c, dir, TS_LAYER_HTTP, TS_PHASE_NONE, "anomaly", cls,
                       "%s; later HTTP/2 header blocks of this direction are not decoded", b.error);
      e = _ts_timeline_event (self->tl, index);
      e->anomaly = TRUE;
      e->stream = f->stream_id;
      e->encrypted = e->decrypted = fe->encrypted;
      return;
    }
  if (r != TS_HTTP2_HEADERS_DONE)
    return;
  method = ts_http2_header_block_get (&b, ":method");
  status = ts_http2_header_block_get (&b, ":status");
  /* CONNECT names its target in :authority (RFC 9113 §8.5); extended
   * CONNECT (RFC 8441, MASQUE) has a :path and a :protocol too. */
  target = ts_http2_header_block_get (&b, ":path");
  if (target == NULL)
    target = ts_http2_header_block_get (&b, ":authority");
  if (method != NULL)
    {
      index = new_event (self, c, dir, TS_LAYER_HTTP, TS_PHASE_DATA, "http.request", cls,
                         "%s%s %s HTTP/2, stream %u", b.push ? "pushed: " : "", method,
                         target != NULL ? target : "?", b.stream);
      e = _ts_timeline_event (self->tl, index);
      e->http_method = _ts_timeline_intern (self->tl, method);
      e->http_target = _ts_timeline_intern (self->tl, target);
    }
  else if (status != NULL)
    {
      index = new_event (self, c, dir, TS_LAYER_HTTP, TS_PHASE_DATA, "http.response", cls,
                         "%s HTTP/2, stream %u", status, b.stream);
      e = _ts_timeline_event (self->tl, index);
      e->http_status = (guint)g_ascii_strtoull (status, NULL, 10);
    }
  else
    {
      index = new_event (self, c, dir, TS_LAYER_HTTP, TS_PHASE_DATA, "http2.trailers", cls,
                         "HTTP/2 trailers, stream %u, %u fields", b.stream, b.n_fields);
      e = _ts_timeline_event (self->tl, index);
    }
  e->stream = b.stream;
  e->encrypted = e->decrypted = fe->encrypted;
  e->packet = fe->packet;
  e->byte_offset = fe->byte_offset;
  e->byte_len = fe->byte_len;
  e->wire_len = fe->wire_len;
  e->time_ns = fe->time_ns;
  _ts_timeline_add_detail (self->tl, index, 0, "HTTP/2, stream %u, %u header fields%s", b.stream,
                           b.n_fields, b.end_stream ? ", ends the stream" : "");
  for (guint i = 0; i < b.n_fields; i++)
    _ts_timeline_add_detail (self->tl, index, 1, "%.*s: %.*s", (int)MIN (b.fields[i].name_len, 200),
                             b.fields[i].name, (int)MIN (b.fields[i].value_len, 200),
                             b.fields[i].value);
}

/* Cap: message bodies followed at once per direction of a connection. */
#define H2_BODIES_MAX 1024

typedef struct
{
  guint64 bytes;
  guint frames;
} H2Body;

/* DATA frame @f (event @index) adds to its stream's message body; the one
 * that ends the stream tells the body's size (RFC 9113 §6.1: the frame's
 * length less any padding). */
static void
h2_body (Conn *c, int dir, const TsHttp2FrameHeader *f, const guint8 *payload, gsize payload_len,
         guint index)
{
  gpointer key = GUINT_TO_POINTER (f->stream_id);
  H2Body *b = g_hash_table_lookup (c->h2_body[dir], key);
  guint64 n = f->length;

  if (f->flags & 0x8) /* PADDED: a length byte, then that much padding at the end */
    n = payload_len >= 1 && n >= 1u + payload[0] ? n - 1 - payload[0] : 0;
  if (b == NULL && g_hash_table_size (c->h2_body[dir]) < H2_BODIES_MAX)
    {
      b = g_new0 (H2Body, 1);
      g_hash_table_insert (c->h2_body[dir], key, b);
    }
  if (b != NULL)
    {
      b->bytes += n;
      b->frames++;
    }
  if (!(f->flags & 0x1)) /* END_STREAM */
    return;
  if (b != NULL)
    _ts_timeline_add_detail (c->an->tl, index, 0,
                             "the message body on stream %u: %" G_GUINT64_FORMAT
                             " bytes in %u DATA frame%s",
                             f->stream_id, b->bytes, b->frames, b->frames == 1 ? "" : "s");
  g_hash_table_remove (c->h2_body[dir], key);
}

static void
h2_frame_dir (Conn *c, int dir, guint64 offset, const TsHttp2FrameHeader *f, const guint8 *payload,
              gsize payload_len)
{
  TsAnalyzer *self = c->an;
  gboolean over_tls = c->proto == PROTO_TLS || c->tunnel_proto == PROTO_TLS;
  char flags[64];
  guint index;
  TsTimelineEvent *e;

  ts_http2_flags_to_string (f->type, f->flags, flags, sizeof flags);
  index = new_event (self, c, dir, TS_LAYER_HTTP,
                     f->type == TS_HTTP2_GOAWAY ? TS_PHASE_CLOSE : TS_PHASE_DATA, "http2.frame",
                     over_tls ? READ_TLS : READ_CLEAR, "HTTP/2 %s%s%s%s, stream %u, %u bytes",
                     ts_http2_frame_type_to_string (f->type), flags[0] ? " [" : "", flags,
                     flags[0] ? "]" : "", f->stream_id, f->length);
  e = _ts_timeline_event (self->tl, index);
  e->stream = f->stream_id;
  e->encrypted = e->decrypted = over_tls;
  if (f->type == TS_HTTP2_SETTINGS)
    for (gsize i = 0; i + 6 <= payload_len; i += 6)
      {
        guint id = (guint)(payload[i] << 8 | payload[i + 1]);
        guint32 v = (guint32)payload[i + 2] << 24 | (guint32)payload[i + 3] << 16
                    | (guint32)payload[i + 4] << 8 | payload[i + 5];
        _ts_timeline_add_detail (self->tl, index, 0, "%s (0x%x) = %u",
                                 ts_http2_setting_to_string (id), id, v);
      }
  else if (f->type == TS_HTTP2_WINDOW_UPDATE && payload_len >= 4)
    _ts_timeline_add_detail (self->tl, index, 0, "window increment %u",
                             ((guint32)payload[0] << 24 | (guint32)payload[1] << 16
                              | (guint32)payload[2] << 8 | payload[3])
                                 & 0x7fffffffu);
  else if (f->type == TS_HTTP2_RST_STREAM && payload_len >= 4)
    _ts_timeline_add_detail (self->tl, index, 0, "error %s",
                             ts_http2_error_to_string ((guint32)payload[0] << 24
                                                       | (guint32)payload[1] << 16
                                                       | (guint32)payload[2] << 8 | payload[3]));
  else if (f->type == TS_HTTP2_GOAWAY && payload_len >= 8)
    _ts_timeline_add_detail (self->tl, index, 0, "last stream %u, error %s",
                             ((guint32)payload[0] << 24 | (guint32)payload[1] << 16
                              | (guint32)payload[2] << 8 | payload[3])
                                 & 0x7fffffffu,
                             ts_http2_error_to_string ((guint32)payload[4] << 24
                                                       | (guint32)payload[5] << 16
                                                       | (guint32)payload[6] << 8 | payload[7]));
  if (f->type == TS_HTTP2_DATA && f->stream_id != 0 && c->h2_body[dir] != NULL)
    h2_body (c, dir, f, payload, payload_len, index);
  if (over_tls)
    {
      locate (self, c, c->cur_tls_dir, c->cur_tls_off, c->cur_tls_end, index);
      e->wire_len = tls_wire_len (c, 9 + (guint64)f->length);
    }
  else
    locate (self, c, dir, offset, offset + 9 + f->length, index);
  if (c->h2hd[dir] != NULL)
    h2_header_block (c, dir, f, payload, payload_len, index);
}

static void
h2_frame_client (gpointer user_data, guint64 offset, const TsHttp2FrameHeader *f,
                 const guint8 *payload, gsize payload_len)
{
  h2_frame_dir (user_data, 0, offset, f, payload, payload_len);
}

static void
h2_frame_server (gpointer user_data, guint64 offset, const TsHttp2FrameHeader *f,
                 const guint8 *payload, gsize payload_len)
{
  h2_frame_dir (user_data, 1, offset, f, payload, payload_len);
}

static void
h2_error (gpointer user_data, guint64 offset, const char *what)
{
  Conn *c = user_data;

  (void)new_event (c->an, c, 0, TS_LAYER_HTTP, TS_PHASE_NONE, "anomaly", READ_CLEAR, "%s", what);
}

static void
h2_start (Conn *c)
{
  c->h2[0] = ts_http2_stream_new (TRUE, h2_frame_client, h2_error, c);
  c->h2[1] = ts_http2_stream_new (FALSE, h2_frame_server, h2_error, c);
  c->h2hd[0] = ts_http2_header_decoder_new ();
  c->h2hd[1] = ts_http2_header_decoder_new ();
  c->h2_body[0] = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);
  c->h2_body[1] = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);
}

static gboolean
is_h2_preface (const guint8 *data, gsize len)
{
  return len >= TS_HTTP2_PREFACE_LEN && memcmp (data, TS_HTTP2_PREFACE, TS_HTTP2_PREFACE_LEN) == 0;
}

/* --- TLS ---------------------------------------------------------------- */

static const char *
hs_name (guint type)
{
  static const struct
  {
    guint type;
    const char *name;
  } names[] = {
    { 0, "HelloRequest" },     { 1, "ClientHello" },        { 2, "ServerHello" },
    { 4, "NewSessionTicket" }, { 5, "EndOfEarlyData" },     { 8, "EncryptedExtensions" },
    { 11, "Certificate" },     { 12, "ServerKeyExchange" }, { 13, "CertificateRequest" },
    { 14, "ServerHelloDone" }, { 15, "CertificateVerify" }, { 16, "ClientKeyExchange" },
    { 20, "Finished" },        { 22, "CertificateStatus" }, { 24, "KeyUpdate" },
    { 254, "MessageHash" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    if (names[i].type == type)
      return names[i].name;
  return "handshake message";
}

static const char *
str_or (const char *s, const char *fallback)
{
  return s != NULL ? s : fallback;
}

/* "CN=example.com" out of "CN=example.com,O=Lab" (RFC 2253), or all of it. */
static char *
common_name (const char *dn)
{
  const char *cn = dn ? strstr (dn, "CN=") : NULL;
  gsize n;

  if (cn == NULL || (cn != dn && cn[-1] != ','))
    return g_strdup (dn ? dn : "?");
  n = strcspn (cn + 3, ",");
  return g_strndup (cn + 3, n);
}

static void
tls_handshake_event (TsAnalyzer *self, Conn *c, const TsTlsEvent *ev, gboolean in_tunnel)
{
  const TsTlsHandshake *h = ev->handshake;
  GString *s = g_string_new (NULL);
  TsPhase phase = TS_PHASE_TLS_HANDSHAKE;
  ReadClass cls;
  guint index;
  TsTimelineEvent *e;
  const char *name = h->is_hello_retry_request ? "HelloRetryRequest" : hs_name (h->type);

  g_string_append (s, name);
  switch ((guint)h->type)
    {
      case TS_TLS_HS_CLIENT_HELLO:
        if (h->server_name)
          g_string_append_printf (s, " SNI %s", h->server_name);
        if (h->n_alpn > 0)
          {
            g_string_append (s, " ALPN ");
            for (guint i = 0; i < h->n_alpn; i++)
              g_string_append_printf (s, "%s%s", i ? "," : "", h->alpn[i]);
          }
        break;
      case TS_TLS_HS_SERVER_HELLO:
        if (!h->is_hello_retry_request)
          g_string_append_printf (
              s, " %s %s", str_or (ts_tls_version_to_string (h->selected_version), "?"),
              h->n_cipher_suites ? str_or (ts_tls_cipher_suite_to_string (h->cipher_suites[0]), "?")
                                 : "");
        else if (h->n_key_share_groups > 0)
          g_string_append_printf (
              s, " group %s", str_or (ts_tls_named_group_to_string (h->key_share_groups[0]), "?"));
        break;
      case TS_TLS_HS_CERTIFICATE:
        if (h->n_certificates > 0 && h->certificates[0].parsed)
          {
            /* The common names say it in a line; the full names are in the
             * detail and the JSON. */
            g_autofree char *subject = common_name (h->certificates[0].subject);
            g_autofree char *issuer = common_name (h->certificates[0].issuer);
            g_string_append_printf (s, " %s, issued by %s", subject, issuer);
          }
        break;
      case TS_TLS_HS_ENCRYPTED_EXTENSIONS:
        if (h->n_alpn > 0)
          g_string_append_printf (s, " ALPN %s", h->alpn[0]);
        break;
      case TS_TLS_HS_NEW_SESSION_TICKET:
        /* After the handshake in TLS 1.3 (RFC 8446 §4.6.1); in TLS 1.2 a
         * part of it, before the server's ChangeCipherSpec (RFC 5077
         * §3.3). */
        if (c->tls == NULL || ts_tls_session_get_info (c->tls)->version != TS_TLS_VERSION_1_2)
          phase = TS_PHASE_DATA;
        break;
      case TS_TLS_HS_KEY_UPDATE:
        phase = TS_PHASE_DATA;
        break;
      default:
        break;
    }
  if (ev->encrypted && !ev->decrypted)
    g_string_append (s, " (encrypted)");
  /* Hellos (and a TLS 1.2 certificate) are in clear: on a tunnel everyone on
   * the path reads them; protected messages only the TLS ends. */
  cls = ev->encrypted ? READ_TLS : in_tunnel ? READ_PATH : READ_CLEAR;
  index
      = new_event (self, c, ev->direction, TS_LAYER_TLS, phase, "tls.handshake", cls, "%s", s->str);
  g_string_free (s, TRUE);
  e = _ts_timeline_event (self->tl, index);
  e->encrypted = ev->encrypted;
  e->decrypted = ev->decrypted;
  e->tls_handshake_type = (gint)h->type;
  if (h->type == TS_TLS_HS_CLIENT_HELLO)
    {
      e->tls_sni = _ts_timeline_intern (self->tl, h->server_name);
      if (h->n_alpn > 0)
        {
          g_autoptr (GString) a = g_string_new (NULL);
          for (guint i = 0; i < h->n_alpn; i++)
            g_string_append_printf (a, "%s%s", i ? "," : "", h->alpn[i]);
          e->tls_alpn = _ts_timeline_intern (self->tl, a->str);
        }
      _ts_timeline_add_detail (self->tl, index, 0,
                               "legacy_version 0x%04x, %u cipher suites, %u extensions",
                               h->legacy_version, h->n_cipher_suites, h->n_extensions);
      for (guint i = 0; i < h->n_supported_versions; i++)
        if (!ts_tls_is_grease (h->supported_versions[i]))
          _ts_timeline_add_detail (
              self->tl, index, 1, "supported_version %s",
              str_or (ts_tls_version_to_string (h->supported_versions[i]), "?"));
      for (guint i = 0; i < h->n_key_share_groups; i++)
        if (!ts_tls_is_grease (h->key_share_groups[i]))
          _ts_timeline_add_detail (
              self->tl, index, 1, "key_share %s",
              str_or (ts_tls_named_group_to_string (h->key_share_groups[i]), "?"));
    }
  else if (h->type == TS_TLS_HS_SERVER_HELLO)
    {
      e->tls_version = h->selected_version;
      if (h->n_cipher_suites > 0)
        e->tls_cipher = h->cipher_suites[0];
      if (h->n_alpn > 0)
        e->tls_alpn = _ts_timeline_intern (self->tl, h->alpn[0]);
    }
  else if (h->type == TS_TLS_HS_CERTIFICATE && h->n_certificates > 0)
    {
      for (guint i = 0; i < h->n_certificates; i++)
        {
          const TsTlsCertificate *cert = &h->certificates[i];
          if (!cert->parsed)
            {
              _ts_timeline_add_detail (self->tl, index, 0, "certificate %u: unreadable", i);
              continue;
            }
          if (i == 0)
            {
              e->tls_cert_subject = _ts_timeline_intern (self->tl, cert->subject);
              e->tls_cert_issuer = _ts_timeline_intern (self->tl, cert->issuer);
            }
          _ts_timeline_add_detail (self->tl, index, 0, "certificate %u: %s", i, cert->subject);
          _ts_timeline_add_detail (self->tl, index, 1, "issuer %s", cert->issuer);
          for (guint k = 0; k < cert->n_sans; k++)
            _ts_timeline_add_detail (self->tl, index, 1, "SAN %s", cert->sans[k]);
          _ts_timeline_add_detail (self->tl, index, 1, "validity at capture time: %s",
                                   cert->validity == TS_TLS_CERT_VALID           ? "valid"
                                   : cert->validity == TS_TLS_CERT_EXPIRED       ? "expired"
                                   : cert->validity == TS_TLS_CERT_NOT_YET_VALID ? "not yet valid"
                                                                                 : "unknown");
        }
    }
  {
    const TsTlsSessionInfo *info = ts_tls_session_get_info (c->tls);
    if (e->tls_version == 0)
      e->tls_version = info->version;
    if (e->tls_cipher == 0)
      e->tls_cipher = info->cipher_suite;
  }
  locate (self, c, ev->direction, c->tls_base[ev->direction] + ev->offset,
          c->tls_base[ev->direction] + ev->end_offset, index);
  if (h->type == TS_TLS_HS_CLIENT_HELLO || h->type == TS_TLS_HS_SERVER_HELLO)
    update_tunnel (self, tconn (self, c)->tunnel);
}

/* The decrypted record @ev of direction @dir is fed to the protocol inside
 * TLS: where it lies on the wire, its overhead (for the wire_len of the
 * message it completes, tls_wire_len ()) and where its plaintext ends. */
static void
enter_record (Conn *c, int dir, const TsTlsEvent *ev)
{
  c->cur_tls_dir = dir;
  c->cur_tls_off = c->tls_base[dir] + ev->offset;
  c->cur_tls_end = c->tls_base[dir] + ev->end_offset;
  c->tls_overhead[dir] += ev->end_offset - ev->offset - MIN (ev->len, ev->end_offset - ev->offset);
  c->cur_plain_end = c->inner_at[dir] + ev->len;
  c->rec_off[dir] = c->cur_tls_off;
  c->rec_end[dir] = c->cur_tls_end;
}

static void
tls_app_data (TsAnalyzer *self, Conn *c, const TsTlsEvent *ev, gboolean in_tunnel)
{
  int dir = ev->direction;
  guint index;
  TsTimelineEvent *e;

  if (ev->kind == TS_TLS_EVENT_APPLICATION_DATA && ev->decrypted)
    {
      if (c->inner_proto == PROTO_UNKNOWN)
        {
          const char *alpn = ts_tls_session_get_info (c->tls)->alpn;

          /* HTTP/2 (RFC 9113 §3.2, §3.4): chosen in ALPN (its server may
           * send its SETTINGS before the client's preface is seen), or
           * seen in the preface. The preface also looks like an HTTP/1
           * request ("PRI *"). */
          if ((alpn != NULL && strcmp (alpn, "h2") == 0)
              || (dir == 0 && is_h2_preface (ev->data, ev->len)))
            {
              c->inner_proto = PROTO_HTTP2;
              h2_start (c);
            }
          else if (dir == 0 && ts_http1_looks_like_request (ev->data, ev->len))
            {
              static const TsHttp1Callbacks cb = { inner_head, inner_message_end, inner_tunnel,
                                                   inner_tunnel_data, inner_anomaly };
              c->inner_http = ts_http1_conn_new (&cb, c);
              c->inner_proto = PROTO_HTTP;
            }
          else if (dir == 0)
            c->inner_proto = PROTO_OPAQUE;
          /* Else the server spoke first: undecided until the client does. */
        }
      if (c->inner_proto == PROTO_HTTP2)
        {
          if (dir == 0 && c->inner_at[0] == 0 && is_h2_preface (ev->data, ev->len))
            {
              index = new_event (self, c, dir, TS_LAYER_HTTP, TS_PHASE_DATA, "http2.preface",
                                 READ_TLS, "HTTP/2 connection preface");
              e = _ts_timeline_event (self->tl, index);
              e->encrypted = TRUE;
              e->decrypted = TRUE;
              locate (self, c, dir, c->tls_base[dir] + ev->offset,
                      c->tls_base[dir] + ev->end_offset, index);
            }
          enter_record (c, dir, ev);
          ts_http2_stream_feed (c->h2[dir], c->inner_at[dir], ev->data, ev->len);
          c->inner_at[dir] += ev->len;
          return;
        }
      if (c->inner_proto == PROTO_HTTP)
        {
          enter_record (c, dir, ev);
          ts_http1_conn_feed (c->inner_http, dir, ev->data, ev->len);
          c->inner_at[dir] += ev->len;
          return;
        }
    }
  index = new_event (self, c, dir, TS_LAYER_TLS, TS_PHASE_DATA, "tls.application_data", READ_TLS,
                     "application data, %zu bytes%s", ev->len,
                     ev->decrypted   ? " (decrypted)"
                     : ev->encrypted ? " (encrypted)"
                                     : "");
  e = _ts_timeline_event (self->tl, index);
  e->encrypted = ev->encrypted || ev->kind == TS_TLS_EVENT_OPAQUE;
  e->decrypted = ev->decrypted;
  locate (self, c, dir, c->tls_base[dir] + ev->offset, c->tls_base[dir] + ev->end_offset, index);
  /* TLS 1.3 protects the handshake after ServerHello in records that look
   * like application data (RFC 8446 §2, §5.1). Without the keys, their
   * place says what they are: the client's first protected record is its
   * Finished, and the server's records before it are its
   * EncryptedExtensions to Finished (a client certificate, early data and
   * 0.5-RTT data are not told apart). They were in the data phase, which
   * then broke into the handshake's. By time, not by the order of
   * analysis: records wait for keys that may come later in the trace. */
  if (ev->kind == TS_TLS_EVENT_OPAQUE && c->tls != NULL
      && ts_tls_session_get_info (c->tls)->version == TS_TLS_VERSION_1_3)
    {
      if (dir == 0 && c->tls13_client_protected_ns == 0)
        {
          c->tls13_client_protected_ns = e->time_ns;
          e->phase = TS_PHASE_TLS_HANDSHAKE;
        }
      else if (dir == 1
               && (c->tls13_client_protected_ns == 0 || e->time_ns < c->tls13_client_protected_ns))
        e->phase = TS_PHASE_TLS_HANDSHAKE;
    }
  (void)in_tunnel;
}

static void
tls_event (const TsTlsEvent *ev, gpointer user_data)
{
  Conn *c = user_data;
  TsAnalyzer *self = c->an;
  gboolean in_tunnel = c->in_tunnel_data || tconn (self, c)->tunnel >= 0;
  int dir = ev->direction;
  guint index;
  TsTimelineEvent *e;

  switch (ev->kind)
    {
      case TS_TLS_EVENT_RECORD:
        return;
      case TS_TLS_EVENT_HANDSHAKE:
        tls_handshake_event (self, c, ev, in_tunnel);
        return;
      case TS_TLS_EVENT_CHANGE_CIPHER_SPEC:
        index = new_event (self, c, dir, TS_LAYER_TLS, TS_PHASE_TLS_HANDSHAKE,
                           "tls.change_cipher_spec", in_tunnel ? READ_PATH : READ_CLEAR,
                           "ChangeCipherSpec");
        break;
      case TS_TLS_EVENT_ALERT:
        index = new_event (
            self, c, dir, TS_LAYER_TLS,
            ev->alert_description == TS_TLS_ALERT_CLOSE_NOTIFY ? TS_PHASE_CLOSE : TS_PHASE_NONE,
            "tls.alert",
            ev->encrypted ? READ_TLS
            : in_tunnel   ? READ_PATH
                          : READ_CLEAR,
            "Alert %s %s%s", str_or (ts_tls_alert_level_to_string (ev->alert_level), "?"),
            str_or (ts_tls_alert_description_to_string (ev->alert_description), "?"),
            ev->encrypted && !ev->decrypted ? " (encrypted)" : "");
        break;
      case TS_TLS_EVENT_APPLICATION_DATA:
      case TS_TLS_EVENT_OPAQUE:
        tls_app_data (self, c, ev, in_tunnel);
        return;
      case TS_TLS_EVENT_ANOMALY:
      default:
        index = new_event (self, c, dir, TS_LAYER_TLS, TS_PHASE_NONE, "anomaly", READ_CLEAR,
                           "TLS %s: %s", str_or (ts_tls_anomaly_to_string (ev->anomaly), "anomaly"),
                           str_or (ev->detail, ""));
        break;
    }
  e = _ts_timeline_event (self->tl, index);
  e->encrypted = ev->encrypted;
  e->decrypted = ev->decrypted;
  locate (self, c, dir, c->tls_base[dir] + ev->offset, c->tls_base[dir] + ev->end_offset, index);
}

/* --- TCP ---------------------------------------------------------------- */

static void
decide_proto (TsAnalyzer *self, Conn *c, int dir, guint64 offset, const guint8 *data, gsize len)
{
  const char *name;
  /* A capture that began inside the connection (neither SYN seen): its
   * first bytes may be the middle of a message, which decides nothing. */
  gboolean mid = !c->syn_seen && !c->synack_seen;

  if (dir == 0 && ts_tls_session_looks_like_tls (data, len))
    c->proto = PROTO_TLS;
  else if (dir == 0 && is_h2_preface (data, len))
    c->proto = PROTO_HTTP2;
  else if (ts_http1_starts_message ((TsHttp1Direction)dir, data, len))
    c->proto = PROTO_HTTP;
  else if (mid && ts_tls_session_looks_like_record (data, len))
    c->proto = PROTO_TLS;
  else if (mid)
    return; /* the next piece may start a message: shown as data until then */
  else
    c->proto = PROTO_OPAQUE;
  if (c->proto == PROTO_HTTP)
    {
      static const TsHttp1Callbacks cb
          = { outer_head, outer_message_end, http_tunnel, tunnel_data, http_anomaly };
      c->http = ts_http1_conn_new (&cb, c);
      if (mid)
        {
          /* What each direction carried before was shown as data; the
           * other one may be inside a message too: each starts at the
           * first piece that starts like a message. */
          ts_http1_conn_skip (c->http, dir, offset);
          ts_http1_conn_skip (c->http, 1 - dir, tconn (self, c)->bytes[1 - dir]);
        }
    }
  else if (c->proto == PROTO_TLS)
    {
      c->tls = ts_tls_session_new (self->keylog, tls_event, c);
      if (self->ahead != NULL)
        ts_tls_session_set_ahead (c->tls, AHEAD_HOOK (self), self->ahead);
      g_ptr_array_add (self->live_tls, c);
      c->tls_base_set[0] = c->tls_base_set[1] = TRUE;
      if (mid)
        {
          /* The session starts at this record; what each direction
           * carried before was shown as data, and the other one may be
           * inside a record: it looks for the next record header. */
          guint64 other = tconn (self, c)->bytes[1 - dir];

          c->tls_base[dir] = offset;
          c->tls_base[1 - dir] = other;
          if (other > 0)
            ts_tls_session_gap (c->tls, (TsTlsDirection)(1 - dir), 0);
        }
    }
  if (c->proto == PROTO_HTTP2)
    h2_start (c);
  name = c->proto == PROTO_HTTP    ? "http"
         : c->proto == PROTO_TLS   ? "tls"
         : c->proto == PROTO_HTTP2 ? "h2c"
                                   : "opaque";
  g_free (tconn (self, c)->protocol);
  tconn (self, c)->protocol = g_strdup (name);
}

static void
deliver (gpointer user_data, guint64 offset, const guint8 *data, gsize len, guint32 packet,
         guint32 packet_offset)
{
  DirCtx *ctx = user_data;
  Conn *c = ctx->conn;
  TsAnalyzer *self = c->an;
  int dir = ctx->dir;

  tconn (self, c)->bytes[dir] += len;
  if (data == NULL)
    {
      guint index;

      /* What the bytes before the gap still say (a head cut by the
       * capture) comes first, then the gap, then what the gap does to
       * the protocol above. */
      if (c->proto == PROTO_HTTP)
        ts_http1_conn_cut (c->http, dir);
      index = new_event (
          self, c, dir, TS_LAYER_TCP, TS_PHASE_NONE, "anomaly", READ_CLEAR,
          "%zu bytes lost in the capture (TCP gap at stream offset %" G_GUINT64_FORMAT ")", len,
          offset);
      _ts_timeline_event (self->tl, index)->wire_len = len;
      switch (c->proto)
        {
          case PROTO_HTTP:
            ts_http1_conn_gap (c->http, dir, len);
            break;
          case PROTO_TLS:
            ts_tls_session_gap (c->tls, (TsTlsDirection)dir, len);
            break;
          default:
            break;
        }
      if (c->proto == PROTO_HTTP && c->in_tunnel_data && c->tls != NULL)
        ts_tls_session_gap (c->tls, (TsTlsDirection)dir, len);
      return;
    }
  if (c->proto == PROTO_UNKNOWN)
    decide_proto (self, c, dir, offset, data, len);
  switch (c->proto)
    {
      case PROTO_HTTP:
        ts_http1_conn_feed (c->http, dir, data, len);
        break;
      case PROTO_TLS:
        ts_tls_session_feed (c->tls, (TsTlsDirection)dir, data, len,
                             (gint64)(self->cur_time / 1000));
        break;
      case PROTO_HTTP2:
        ts_http2_stream_feed (c->h2[dir], offset, data, len);
        break;
      default:
        {
          guint index = new_event (self, c, dir, TS_LAYER_DATA, TS_PHASE_DATA, "data", READ_CLEAR,
                                   "%zu bytes", len);
          locate (self, c, dir, offset, offset + len, index);
          break;
        }
    }
}

static Conn *
conn_new (TsAnalyzer *self, gint link, const TsPacket *p, gboolean from_client, const ConnKey *key)
{
  Conn *c = g_new0 (Conn, 1);
  TsTimelineConn *tc = _ts_timeline_add_conn (self->tl);

  c->an = self;
  c->id = tc->id;
  c->link = link;
  c->addr[0] = from_client ? p->src : p->dst;
  c->port[0] = from_client ? p->src_port : p->dst_port;
  c->addr[1] = from_client ? p->dst : p->src;
  c->port[1] = from_client ? p->dst_port : p->src_port;
  c->events = g_array_new (FALSE, FALSE, sizeof (guint));
  for (int d = 0; d < 2; d++)
    {
      c->ctx[d].conn = c;
      c->ctx[d].dir = d;
      c->stream[d] = ts_tcp_stream_new (deliver, &c->ctx[d]);
    }
  tc->link = link;
  tc->server = node_for_address (self, &c->addr[1], c->port[1], TRUE);
  tc->client = node_for_address (self, &c->addr[0], c->port[0], FALSE);
  tc->client_addr = endpoint_string (&c->addr[0], c->port[0]);
  tc->server_addr = endpoint_string (&c->addr[1], c->port[1]);
  tc->protocol = g_strdup ("unknown");
  tc->open_ns = self->cur_time;
  g_ptr_array_add (self->conns, c);
  if (g_hash_table_size (self->conn_table) >= MAX_LIVE_CONNS)
    {
      /* Forget closed connections' lookups (the timeline keeps them); if
       * none is closed, forget all rather than grow without bound. */
      GHashTableIter it;
      gpointer v;
      g_hash_table_iter_init (&it, self->conn_table);
      while (g_hash_table_iter_next (&it, NULL, &v))
        if (((Conn *)v)->closed)
          g_hash_table_iter_remove (&it);
      if (g_hash_table_size (self->conn_table) >= MAX_LIVE_CONNS)
        g_hash_table_remove_all (self->conn_table);
    }
  forget_recent_conns (self);
  g_hash_table_insert (self->conn_table, g_memdup2 (key, sizeof *key), c);
  /* Link ends from what its connections show, for foreign captures. */
  if (link >= 0)
    {
      const TsTimelineLink *l = ts_timeline_get_link (self->tl, (guint)link);
      if (l->a < 0 && l->b < 0)
        {
          _ts_timeline_set_link_ends (self->tl, (guint)link, tc->client, tc->server);
          self->nodes_changed = TRUE;
        }
    }
  return c;
}

static void
conn_free (gpointer p)
{
  Conn *c = p;

  for (int d = 0; d < 2; d++)
    {
      ts_tcp_stream_free (c->stream[d]);
      ts_websocket_stream_free (c->ws[d]);
    }
  ts_http1_conn_free (c->http);
  ts_http1_conn_free (c->inner_http);
  ts_websocket_stream_free (c->inner_ws[0]);
  ts_websocket_stream_free (c->inner_ws[1]);
  ts_http2_stream_free (c->h2[0]);
  ts_http2_stream_free (c->h2[1]);
  ts_http2_header_decoder_free (c->h2hd[0]);
  ts_http2_header_decoder_free (c->h2hd[1]);
  if (c->h2_body[0] != NULL)
    g_hash_table_unref (c->h2_body[0]);
  if (c->h2_body[1] != NULL)
    g_hash_table_unref (c->h2_body[1]);
  ts_tls_session_free (c->tls);
  g_free (c->connect_target);
  g_free (c->forward_target);
  g_array_unref (c->events);
  g_free (c);
}

/* Ends @c: gives up holes, ends the protocols. */
static void
conn_close (TsAnalyzer *self, Conn *c)
{
  if (c->closed)
    return;
  c->closed = TRUE;
  if (c->syn_seen && !c->synack_seen && !c->rst)
    {
      /* Nobody answered: the attempt failed on the wire (a client trying to
       * bypass its proxy, a filtered port). */
      guint64 now = self->cur_time;
      guint32 packet = self->cur_packet;
      guint index;

      self->cur_time = c->last_syn_time;
      self->cur_packet = c->last_syn_packet;
      index = new_event (self, c, 0, TS_LAYER_TCP, TS_PHASE_CONNECT, "tcp.no-answer", READ_CLEAR,
                         "no answer to SYN (%u sent)", c->n_syn);
      _ts_timeline_event (self->tl, index)->time_ns = c->last_syn_time + 1;
      /* When each was sent: the retransmission timer's steps. */
      for (guint i = 0; i < MIN (c->n_syn, G_N_ELEMENTS (c->syn_times)); i++)
        if (i == 0)
          _ts_timeline_add_detail (self->tl, index, 0, "SYN 1 sent at +0.000 s");
        else
          _ts_timeline_add_detail (self->tl, index, 0,
                                   "SYN %u sent at +%.3f s, %.3f s after the one before", i + 1,
                                   (double)(c->syn_times[i] - c->syn_times[0]) / 1e9,
                                   (double)(c->syn_times[i] - c->syn_times[i - 1]) / 1e9);
      self->cur_time = now;
      self->cur_packet = packet;
      /* Nothing shows the SYNs got there (the link may have lost them, or
       * the host dropped them): their destination is not taken to have
       * read them. */
      for (guint i = 0; i < c->events->len; i++)
        {
          guint k = g_array_index (c->events, guint, i);
          EventMeta *m = &g_array_index (self->meta, EventMeta, k);

          if (m->dir == 0 && !m->undelivered)
            {
              TsTimelineEvent *syn = _ts_timeline_event (self->tl, k);

              m->undelivered = TRUE;
              compute_readers (self, k);
              /* Its arrow still ends at its destination, the link's far
               * end: the line says nothing showed it arrived. */
              if (strcmp (syn->kind, "tcp.syn") == 0)
                {
                  g_autofree char *said = g_strdup_printf ("%s, unanswered", syn->summary);
                  syn->summary = _ts_timeline_intern (self->tl, said);
                  mark_changed (self, k);
                }
            }
        }
    }
  for (int d = 0; d < 2; d++)
    ts_tcp_stream_flush (c->stream[d]);
  if (c->http)
    {
      ts_http1_conn_end (c->http, TS_HTTP1_DIR_CLIENT);
      ts_http1_conn_end (c->http, TS_HTTP1_DIR_SERVER);
    }
  if (c->inner_http)
    {
      ts_http1_conn_end (c->inner_http, TS_HTTP1_DIR_CLIENT);
      ts_http1_conn_end (c->inner_http, TS_HTTP1_DIR_SERVER);
    }
  if (c->tls)
    ts_tls_session_finish (c->tls);
  /* A request still waiting for its upstream leg keeps waiting a little
   * (MATCH_DISORDER_NS): another interface's packets may come later in the
   * file with earlier times. */
  tconn (self, c)->close_ns = self->cur_time;
  /* Nothing more comes out of its streams: let their buffers and packet
   * maps go (the TLS session stays: tunnels compare its client random). */
  for (int d = 0; d < 2; d++)
    {
      g_clear_pointer (&c->stream[d], ts_tcp_stream_free);
      g_clear_pointer (&c->ws[d], ts_websocket_stream_free);
    }
  g_clear_pointer (&c->http, ts_http1_conn_free);
  g_clear_pointer (&c->inner_http, ts_http1_conn_free);
  g_clear_pointer (&c->inner_ws[0], ts_websocket_stream_free);
  g_clear_pointer (&c->inner_ws[1], ts_websocket_stream_free);
  g_clear_pointer (&c->h2[0], ts_http2_stream_free);
  g_clear_pointer (&c->h2[1], ts_http2_stream_free);
  g_clear_pointer (&c->h2hd[0], ts_http2_header_decoder_free);
  g_clear_pointer (&c->h2hd[1], ts_http2_header_decoder_free);
  g_clear_pointer (&c->h2_body[0], g_hash_table_unref);
  g_clear_pointer (&c->h2_body[1], g_hash_table_unref);
}

/* The live connection of @key (made by make_key: padding zeroed), or NULL.
 * Packets mostly alternate between a few connections: the last ones found
 * are looked at before the hash table. */
static Conn *
lookup_conn (TsAnalyzer *self, const ConnKey *key)
{
  Conn *c;

  for (guint i = 0; i < G_N_ELEMENTS (self->recent); i++)
    if (self->recent[i].conn != NULL && memcmp (&self->recent[i].key, key, sizeof *key) == 0)
      return self->recent[i].conn;
  c = g_hash_table_lookup (self->conn_table, key);
  if (c != NULL)
    {
      memmove (&self->recent[1], &self->recent[0], sizeof self->recent - sizeof self->recent[0]);
      memcpy (&self->recent[0].key, key, sizeof *key);
      self->recent[0].conn = c;
    }
  return c;
}

/* Events of @indices (guint) sent towards their end @to that waited to be
 * shown delivered: @to reads them after all. */
static void
delivered (TsAnalyzer *self, GArray *indices, int to)
{
  for (guint i = 0; i < indices->len; i++)
    {
      guint index = g_array_index (indices, guint, i);
      EventMeta *m = &g_array_index (self->meta, EventMeta, index);

      if (m->undelivered && m->dir == 1 - to)
        {
          m->undelivered = FALSE;
          compute_readers (self, index);
        }
    }
}

/* The detail line of a SYN's options: what the connection will run with. */
static void
syn_options (TsAnalyzer *self, guint index, const TsPacket *p)
{
  GString *s = g_string_new (NULL);

  if (p->tcp_mss > 0)
    g_string_append_printf (s, ", MSS %u", p->tcp_mss);
  /* RFC 7323 §2.3: a shift over 14 is taken as 14. */
  if (p->tcp_wscale >= 0)
    g_string_append_printf (s, ", window scale %d (windows ×%u%s)", p->tcp_wscale,
                            1u << MIN (p->tcp_wscale, 14),
                            p->tcp_wscale > 14 ? ", over 14: taken as 14" : "");
  if (p->tcp_sack_ok)
    g_string_append (s, ", SACK permitted");
  if (p->tcp_timestamps)
    g_string_append (s, ", timestamps");
  if (s->len > 0)
    _ts_timeline_add_detail (self->tl, index, 0, "options: %s", s->str + 2);
  g_string_free (s, TRUE);
}

static void
handle_tcp (TsAnalyzer *self, gint link, const guint8 *frame, const TsPacket *p)
{
  ConnKey key;
  Conn *c;
  int dir;
  guint8 f = p->tcp_flags;
  char fl[40];
  guint index;

  make_key (&key, link, &p->src, p->src_port, &p->dst, p->dst_port);
  c = lookup_conn (self, &key);
  if ((f & TS_TCP_SYN) && !(f & TS_TCP_ACK))
    {
      /* A SYN on a closed connection's ports starts a new one; a SYN
       * retransmission does not. */
      /* The same SYN again (its SYN-ACK was lost) is a retransmission. */
      gboolean again = c != NULL && c->syn_seen && p->tcp_seq == c->syn_seq && !c->closed;
      if (c != NULL && !again && (c->closed || c->fin[0] || c->fin[1] || c->rst || c->synack_seen))
        {
          conn_close (self, c);
          g_hash_table_remove (self->conn_table, &key);
          forget_recent_conns (self);
          c = NULL;
        }
      if (c == NULL)
        {
          c = conn_new (self, link, p, TRUE, &key);
          match_upstream (self, c);
        }
    }
  else if (c == NULL)
    {
      /* Mid-connection: a SYN-ACK says who the server is; otherwise guess
       * the lower port is the server. */
      gboolean from_client = (f & TS_TCP_SYN) ? FALSE : p->src_port > p->dst_port;
      if (f & TS_TCP_RST && p->payload_len == 0)
        return; /* a stray reset on an unknown connection */
      c = conn_new (self, link, p, from_client, &key);
    }
  dir = (ts_address_equal (&p->src, &c->addr[0]) && p->src_port == c->port[0]) ? 0 : 1;
  if (c->closed)
    return; /* a late ACK or retransmission after the end: nothing to show */
  if (!c->heard[dir])
    {
      /* A packet from this end: it got what was sent to it before (a
       * SYN-ACK answers the SYN; a blocked SYN has no answer). */
      c->heard[dir] = TRUE;
      delivered (self, c->events, dir);
    }

  if ((f & TS_TCP_SYN) && dir == 0)
    {
      if (c->n_syn < G_N_ELEMENTS (c->syn_times))
        c->syn_times[c->n_syn] = self->cur_time;
      c->n_syn++;
      c->last_syn_time = self->cur_time;
      c->last_syn_packet = self->cur_packet;
    }
  if (f & TS_TCP_SYN)
    {
      gboolean first = dir == 0 ? !c->syn_seen : !c->synack_seen;
      ts_tcp_stream_set_syn (c->stream[dir], p->tcp_seq);
      if (first)
        {
          index = new_event (self, c, dir, TS_LAYER_TCP, TS_PHASE_CONNECT,
                             dir == 0 ? "tcp.syn" : "tcp.syn-ack", READ_CLEAR, "%s",
                             ts_tcp_flags_to_string (f, fl, sizeof fl));
          _ts_timeline_add_detail (self->tl, index, 0, "seq %u, window %u", p->tcp_seq,
                                   p->tcp_window);
          syn_options (self, index, p);
          tconn (self, c)->wscale[dir] = p->tcp_wscale;
          _ts_timeline_event (self->tl, index)->byte_offset = p->l4_offset;
          if (dir == 0)
            {
              c->syn_seen = TRUE;
              c->syn_seq = p->tcp_seq;
            }
          else
            c->synack_seen = TRUE;
        }
    }
  if (p->payload_len > 0 || (f & TS_TCP_FIN))
    {
      guint64 conflicting;
      ts_tcp_stream_add (c->stream[dir], p->tcp_seq + ((f & TS_TCP_SYN) ? 1 : 0),
                         frame + p->payload_offset, p->payload_len, (f & TS_TCP_FIN) != 0,
                         self->cur_packet, p->payload_offset);
      if (p->payload_len < p->payload_wire_len)
        ts_tcp_stream_add_lost (c->stream[dir],
                                p->tcp_seq + ((f & TS_TCP_SYN) ? 1 : 0) + p->payload_len,
                                p->payload_wire_len - p->payload_len, self->cur_packet);
      if (ts_tcp_stream_get_mid_stream (c->stream[dir]) && !c->mid_stream_reported)
        {
          c->mid_stream_reported = TRUE;
          (void)anomaly_event (self, c, dir, "capture starts in the middle of this connection");
        }
      conflicting = ts_tcp_stream_get_conflicting (c->stream[dir])
                    + ts_tcp_stream_get_conflicting (c->stream[1 - dir]);
      if (conflicting > c->conflicting_reported)
        {
          c->conflicting_reported = conflicting;
          (void)anomaly_event (self, c, dir, "retransmitted bytes differ from the first copy");
        }
    }
  if (f & TS_TCP_ACK)
    ts_tcp_stream_acked (c->stream[1 - dir], p->tcp_ack);
  if ((f & TS_TCP_FIN) && !c->fin[dir])
    {
      c->fin[dir] = TRUE;
      index = new_event (self, c, dir, TS_LAYER_TCP, TS_PHASE_CLOSE, "tcp.fin", READ_CLEAR, "%s",
                         ts_tcp_flags_to_string (f, fl, sizeof fl));
      _ts_timeline_event (self->tl, index)->byte_offset = p->l4_offset;
      if (c->http && ts_tcp_stream_is_finished (c->stream[dir]))
        ts_http1_conn_end (c->http, dir);
    }
  if ((f & TS_TCP_RST) && !c->rst)
    {
      c->rst = TRUE;
      index = new_event (self, c, dir, TS_LAYER_TCP, TS_PHASE_CLOSE, "tcp.rst", READ_CLEAR, "%s",
                         ts_tcp_flags_to_string (f, fl, sizeof fl));
      _ts_timeline_event (self->tl, index)->byte_offset = p->l4_offset;
      conn_close (self, c);
    }
  if (c->fin[0] && c->fin[1] && !c->closed && ts_tcp_stream_get_pending (c->stream[0]) == 0
      && ts_tcp_stream_get_pending (c->stream[1]) == 0)
    conn_close (self, c);
}

static void
add_interface (TsAnalyzer *self, const TsTraceInterface *i)
{
  IfaceInfo info = { i->linktype, -1, FALSE, FALSE };

  info.link = link_by_name (self, i->name);
  /* A capture on "any" (tcpdump -i any) is one interface of the file but
   * holds every link of its host, each packet with the index of its own
   * interface (SLL2): a link per index, so that the two legs of a proxy
   * are two links, each with its own observer, and a routed packet seen
   * coming in and going out is seen on two links, not twice on one. */
  if (info.link < 0 && i->linktype == TS_LINKTYPE_SLL2)
    info.per_ifindex = TRUE;
  else if (info.link < 0)
    {
      info.link = (gint)_ts_timeline_add_link (self->tl, i->name, -1, -1);
      self->nodes_changed = TRUE;
    }
  if (i->id >= self->ifaces->len)
    {
      guint old = self->ifaces->len;
      g_array_set_size (self->ifaces, i->id + 1);
      for (guint k = old; k < self->ifaces->len; k++)
        g_array_index (self->ifaces, IfaceInfo, k).link = -1;
    }
  g_array_index (self->ifaces, IfaceInfo, i->id) = info;
}

/* The link of interface index @ifindex on the "any" interface @iface,
 * made on first sight: "ifindex N" (the file names no interface behind an
 * index), or "NAME ifindex N" when that name is taken. */
static gint
ifindex_link (TsAnalyzer *self, guint iface, gint32 ifindex)
{
  gint64 key = (gint64)iface << 32 | (guint32)ifindex;
  gpointer v = g_hash_table_lookup (self->ifindex_links, &key);
  g_autofree char *name = NULL;
  gint link;

  if (v != NULL)
    return GPOINTER_TO_INT (v) - 1;
  if (g_hash_table_size (self->ifindex_links) >= TS_PCAPNG_MAX_INTERFACES)
    return -1;
  name = g_strdup_printf ("ifindex %d", ifindex);
  if (link_by_name (self, name) >= 0)
    {
      const TsTraceInterface *i = ts_trace_reader_get_interface (self->reader, iface);
      g_free (name);
      name = g_strdup_printf ("%s ifindex %d", i != NULL ? i->name : "any", ifindex);
    }
  link = (gint)_ts_timeline_add_link (self->tl, name, -1, -1);
  self->nodes_changed = TRUE;
  g_hash_table_insert (self->ifindex_links, g_memdup2 (&key, sizeof key),
                       GINT_TO_POINTER (link + 1));
  while (self->link_ifindex->len <= (guint)link)
    {
      LinkIfindex none = { -1, -1 };
      g_array_append_val (self->link_ifindex, none);
    }
  g_array_index (self->link_ifindex, LinkIfindex, link) = (LinkIfindex){ (gint)iface, ifindex };
  return link;
}

static void
udp_flow_free (gpointer p)
{
  UdpFlow *f = p;

  g_array_unref (f->events);
  g_free (f);
}

/* The datagram flow of @key, made on first sight; NULL past MAX_LIVE_CONNS
 * flows (its datagrams are then taken as delivered). */
static UdpFlow *
udp_flow (TsAnalyzer *self, const ConnKey *key)
{
  UdpFlow *f = g_hash_table_lookup (self->udp_flows, key);

  if (f == NULL && g_hash_table_size (self->udp_flows) < MAX_LIVE_CONNS)
    {
      f = g_new0 (UdpFlow, 1);
      f->events = g_array_new (FALSE, FALSE, sizeof (guint));
      g_hash_table_insert (self->udp_flows, g_memdup2 (key, sizeof *key), f);
    }
  return f;
}

/* An interface's capture statistics: packets its capture lost (the kernel
 * dropped them because the capturing program did not keep up) leave gaps
 * in the trace that the network did not have. The counters run from the
 * start of the capture, and a trace may hold several blocks for one
 * interface: said when the count grows, on the interface's link (or on no
 * link: a capture on "any"), at the block's time (or the last packet's). */
static void
handle_statistics (TsAnalyzer *self, const TsTraceRecord *rec)
{
  guint64 lost = ts_trace_statistics_capture_lost (&rec->statistics);
  guint64 before;
  const IfaceInfo *iface = rec->interface_id < self->ifaces->len
                               ? &g_array_index (self->ifaces, IfaceInfo, rec->interface_id)
                               : NULL;
  const TsTraceInterface *ti = ts_trace_reader_get_interface (self->reader, rec->interface_id);
  TsTimelineEvent *e;
  guint index;

  if (self->isb_lost->len <= rec->interface_id)
    g_array_set_size (self->isb_lost, rec->interface_id + 1);
  before = g_array_index (self->isb_lost, guint64, rec->interface_id);
  if (lost <= before)
    return;
  g_array_index (self->isb_lost, guint64, rec->interface_id) = lost;
  _ts_timeline_add_capture_lost (self->tl, lost - before);
  self->cur_packet = G_MAXUINT32;
  self->cur_time = MAX (self->cur_time, rec->time_ns);
  index = new_event (self, NULL, 0, TS_LAYER_LINK, TS_PHASE_NONE, "anomaly", READ_CLEAR,
                     "the capture lost %" G_GUINT64_FORMAT " packet%s on %s: it did not keep up "
                     "with the traffic, so gaps there are the capture's, not the network's",
                     lost, lost == 1 ? "" : "s", ti != NULL ? ti->name : "an interface");
  e = _ts_timeline_event (self->tl, index);
  if (iface != NULL && iface->link >= 0 && !iface->per_ifindex)
    {
      const TsTimelineLink *l = ts_timeline_get_link (self->tl, (guint)iface->link);
      e->link = iface->link;
      e->src = l->a;
      e->dst = l->b;
    }
  {
    const struct
    {
      const char *what;
      guint64 n;
    } counts[] = {
      { "Received by the interface", rec->statistics.received },
      { "Delivered to the capturing program", rec->statistics.delivered },
      { "Dropped by the operating system (capture buffer full)", rec->statistics.os_drops },
      { "Dropped by the interface", rec->statistics.if_drops },
    };

    for (gsize i = 0; i < G_N_ELEMENTS (counts); i++)
      if (counts[i].n != G_MAXUINT64)
        _ts_timeline_add_detail (self->tl, index, 0, "%s: %" G_GUINT64_FORMAT " packets",
                                 counts[i].what, counts[i].n);
  }
}

static void
handle_packet (TsAnalyzer *self, const TsTraceRecord *rec)
{
  PacketInfo pi = { rec->time_ns, rec->offset, rec->interface_id };
  IfaceInfo *iface;
  TsPacket p;
  gssize r;
  gint link;

  /* Classic pcap declares its one interface in the file header. */
  if ((rec->interface_id >= self->ifaces->len
       || g_array_index (self->ifaces, IfaceInfo, rec->interface_id).link < 0)
      && ts_trace_reader_get_interface (self->reader, rec->interface_id) != NULL)
    add_interface (self, ts_trace_reader_get_interface (self->reader, rec->interface_id));
  iface = rec->interface_id < self->ifaces->len
              ? &g_array_index (self->ifaces, IfaceInfo, rec->interface_id)
              : NULL;
  if (iface != NULL && iface->link < 0 && !iface->per_ifindex)
    iface = NULL;

  self->cur_time = rec->time_ns;
  self->cur_packet = self->packets->len;
  g_array_append_val (self->packets, pi);
  if (iface == NULL)
    {
      (void)anomaly_event (self, NULL, 0, "packet on undeclared interface %u", rec->interface_id);
      return;
    }
  r = ts_packet_decode (iface->linktype, rec->data, rec->caplen, &p);
  link = iface->link;
  if (iface->per_ifindex && r >= 0)
    {
      link = ifindex_link (self, rec->interface_id, p.ifindex);
      if (link < 0)
        {
          (void)anomaly_event (self, NULL, 0,
                               "packet on interface index %d, past the cap of %d interfaces",
                               p.ifindex, TS_PCAPNG_MAX_INTERFACES);
          return;
        }
    }
  if (r < 0)
    {
      /* Only the link types decoded get here (others are an anomaly bit). */
      guint index = anomaly_event (
          self, NULL, 0, "frame %s (%s, %u bytes)",
          r == TS_PARSE_INCOMPLETE ? "cut inside its headers" : "with malformed headers",
          ts_linktype_to_string (iface->linktype) ?: "link type ?", rec->caplen);
      _ts_timeline_event (self->tl, index)->link = link;
      _ts_timeline_event (self->tl, index)->wire_len = rec->orig_len;
      return;
    }
  /* A TCP segment cut by the capture's snapshot length inside its payload:
   * the TCP layer reports the bytes lost, where they were in the stream
   * (ts_tcp_stream_add_lost ()); a row for the frame too would say it
   * twice. */
  if (p.ip_version != 0 && p.ip_proto == TS_IPPROTO_TCP && p.payload_len > 0
      && !(p.anomalies & TS_PACKET_ANOMALY_FRAGMENT))
    p.anomalies &= ~(guint32)TS_PACKET_ANOMALY_TRUNCATED;
  if (p.anomalies & ~(TS_PACKET_ANOMALY_TRAILING))
    {
      for (guint bit = 0; bit < 16; bit++)
        if ((p.anomalies & (1u << bit)) && (1u << bit) != TS_PACKET_ANOMALY_TRAILING)
          {
            guint index;

            /* A link type not decoded is the interface's, not each
             * packet's: said once, with its number, so that a user can
             * tell which capture option made it. */
            if ((1u << bit) == TS_PACKET_ANOMALY_UNKNOWN_LINK)
              {
                if (iface->unknown_link_told)
                  continue;
                iface->unknown_link_told = TRUE;
                index = anomaly_event (self, NULL, 0,
                                       "link type %u is not decoded (Ethernet, Linux cooked "
                                       "capture v1 and v2, raw IP and BSD loopback are): the "
                                       "packets of this interface are not shown",
                                       iface->linktype);
              }
            else
              index = anomaly_event (self, NULL, 0, "%s", ts_packet_anomaly_to_string (1u << bit));
            _ts_timeline_event (self->tl, index)->link = link;
            _ts_timeline_event (self->tl, index)->layer = TS_LAYER_IP;
          }
    }
  if (p.ip_version != 0 && p.ip_proto == TS_IPPROTO_TCP
      && !(p.anomalies & TS_PACKET_ANOMALY_FRAGMENT))
    handle_tcp (self, link, rec->data, &p);
  else if (p.ip_version != 0 && p.ip_proto == TS_IPPROTO_UDP
           && !(p.anomalies & TS_PACKET_ANOMALY_FRAGMENT))
    {
      /* A datagram: one event (its own layer; MASQUE's CONNECT-UDP later). */
      gboolean dst_is_server = p.dst_port <= p.src_port;
      gint src = node_for_address (self, &p.src, p.src_port, !dst_is_server);
      gint dst = node_for_address (self, &p.dst, p.dst_port, dst_is_server);
      ConnKey key;
      int from;
      UdpFlow *flow;
      guint index;
      TsTimelineEvent *e;

      make_key (&key, -1, &p.src, p.src_port, &p.dst, p.dst_port);
      from = ts_address_equal (&key.a, &p.src) && key.pa == p.src_port ? 0 : 1;
      flow = udp_flow (self, &key);
      index = new_event (self, NULL, from, TS_LAYER_UDP, TS_PHASE_DATA, "udp.datagram", READ_CLEAR,
                         "UDP %u > %u, %u bytes", p.src_port, p.dst_port, p.payload_wire_len);
      e = _ts_timeline_event (self->tl, index);
      e->link = link;
      e->src = src;
      e->dst = dst;
      e->byte_offset = p.payload_offset;
      e->byte_len = p.payload_len;
      e->wire_len = p.payload_wire_len;
      if (flow != NULL)
        {
          /* Its sender got what was sent to it before (an answer); on a
           * link of its destination, it got there. */
          if (!flow->reached[from])
            {
              flow->reached[from] = TRUE;
              delivered (self, flow->events, from);
            }
          if (!flow->reached[1 - from] && !beyond_link (self, link, dst))
            {
              flow->reached[1 - from] = TRUE;
              delivered (self, flow->events, 1 - from);
            }
          g_array_index (self->meta, EventMeta, index).undelivered = !flow->reached[1 - from];
          g_array_append_val (flow->events, index);
        }
      compute_readers (self, index);
    }
}

static void
poll_tls (TsAnalyzer *self)
{
  for (guint i = 0; i < self->live_tls->len;)
    {
      Conn *c = self->live_tls->pdata[i];
      if (c->closed)
        {
          g_ptr_array_remove_index (self->live_tls, i);
          continue;
        }
      ts_tls_session_poll (c->tls, (gint64)(self->cur_time / 1000));
      i++;
    }
}

static void
handle_event (TsAnalyzer *self, const TsTraceEvent *ev)
{
  const char *kind = ts_trace_event_get_kind (ev);
  g_autoptr (GString) s = g_string_new (kind);
  guint index;
  gint node;

  if (strcmp (kind, TS_TRACE_EVENT_KIND_METADATA) == 0)
    {
      if (!self->have_metadata && ts_trace_event_get (ev, "metadata") != NULL)
        load_metadata (self, ts_trace_event_get (ev, "metadata"));
      return;
    }
  for (guint i = 0; i < ts_trace_event_get_n_fields (ev) && s->len < 160; i++)
    {
      const char *k, *v;
      ts_trace_event_get_field (ev, i, &k, &v);
      g_string_append_printf (s, " %s=%s", k, v);
    }
  node = ts_timeline_find_node (self->tl, ts_trace_event_get_node (ev));
  self->cur_time = ts_trace_event_get_time_ns (ev);
  self->cur_packet = G_MAXUINT32;
  /* Interned first: new_event caches kinds by pointer, and this one's
   * storage goes away with the record. */
  index = new_event (self, NULL, 0, TS_LAYER_LAB, TS_PHASE_NONE,
                     _ts_timeline_intern (self->tl, kind), READ_LAB, "%s", s->str);
  {
    TsTimelineEvent *e = _ts_timeline_event (self->tl, index);
    e->src = node;
    e->dst = node;
    compute_readers (self, index);
    for (guint i = 0; i < ts_trace_event_get_n_fields (ev); i++)
      {
        const char *k, *v;
        ts_trace_event_get_field (ev, i, &k, &v);
        _ts_timeline_add_detail (self->tl, index, 0, "%s = %s", k, v);
      }
  }
}

/* Asks for the next block's header while this one is handled: in a trace
 * held whole the next block is where the reader stands. */
#define PREFETCH_AHEAD 4096

static void
prefetch_next (TsAnalyzer *self)
{
#if defined(__GNUC__)
  guint64 next = ts_trace_reader_get_offset (self->reader);

  if (next >= self->whole_base && next - self->whole_base < self->whole_len)
    {
      gsize at = next - self->whole_base;

      __builtin_prefetch (self->whole + at);
      /* A few blocks on too: a cache miss takes longer than one packet. */
      if (self->whole_len - at > PREFETCH_AHEAD)
        __builtin_prefetch (self->whole + at + PREFETCH_AHEAD);
    }
#else
  (void)self;
#endif
}

/* The helper missed a record: it follows again, from the next block, every
 * TLS direction whose next records can be told from where we stand. */
static void
restart_ahead (TsAnalyzer *self)
{
  g_autoptr (GArray) flows = NULL;
  g_autoptr (GArray) linktypes = NULL;
  g_autoptr (GArray) links = NULL;
  g_autoptr (GPtrArray) owners = NULL; /* Conn * of each flow */
  gboolean news = FALSE;
  guint lost;

  /* Looked at (restarted or not) at most every so many records: most
   * misses are records the helper left to us (this check runs for each of
   * them, so it comes before any allocation). */
  if (self->ahead_checked != 0
      && self->n_records - self->ahead_checked
             < AHEAD_RESTART_RECORDS + 4 * (guint64)self->live_tls->len)
    return;
  self->ahead_checked = self->n_records;
  flows = g_array_new (FALSE, FALSE, sizeof (TsDecryptAheadFlow));
  linktypes = g_array_new (FALSE, FALSE, sizeof (guint));
  links = g_array_new (FALSE, FALSE, sizeof (gint));
  owners = g_ptr_array_new ();
  lost = ts_decrypt_ahead_get_lost (self->ahead);
  for (guint i = 0; i < self->live_tls->len; i++)
    {
      Conn *c = self->live_tls->pdata[i];

      for (int dir = 0; dir < 2 && !c->closed; dir++)
        {
          TsDecryptAheadFlow f;
          TsTlsSync sync;
          guint64 delivered;

          /* Only a stream that took every byte so far in order, all of them
           * fed to TLS. */
          if (c->stream[dir] == NULL || !c->tls_base_set[dir]
              || ts_tcp_stream_get_pending (c->stream[dir]) != 0
              || !ts_tls_session_get_sync (c->tls, (TsTlsDirection)dir, &sync))
            continue;
          delivered = ts_tcp_stream_get_delivered (c->stream[dir]);
          if (c->tls_base[dir] + sync.fed != delivered
              || !ts_tcp_stream_get_seq_of (c->stream[dir], delivered, &f.next_seq))
            continue;
          f.link = c->link;
          f.ifindex = -1;
          if (c->link >= 0 && (guint)c->link < self->link_ifindex->len
              && g_array_index (self->link_ifindex, LinkIfindex, c->link).iface >= 0)
            {
              const LinkIfindex *li = &g_array_index (self->link_ifindex, LinkIfindex, c->link);
              f.link = ts_decrypt_ahead_ifindex_link ((guint)li->iface);
              f.ifindex = li->ifindex;
            }
          f.src = c->addr[dir];
          f.dst = c->addr[1 - dir];
          f.src_port = c->port[dir];
          f.dst_port = c->port[1 - dir];
          f.partial = sync.partial;
          f.partial_len = sync.partial_len;
          f.rec_seq = sync.seq;
          f.cipher = sync.cipher;
          f.all_protected = sync.all_protected;
          g_array_append_val (flows, f);
          g_ptr_array_add (owners, c);
          /* Keys the helper does not have (a new session, a KeyUpdate). */
          news |= c->ahead_serial[dir] != sync.cipher->serial;
        }
    }
  /* Nothing new to follow, nothing lost: the misses were records left to
   * us near our position; the helper goes on as it is. */
  if (flows->len == 0 || (!news && lost == self->ahead_lost))
    return;
  self->ahead_lost = lost;
  for (guint i = 0; i < self->live_tls->len; i++)
    {
      Conn *c = self->live_tls->pdata[i];
      c->ahead_serial[0] = c->ahead_serial[1] = 0;
    }
  for (guint i = 0; i < flows->len; i++)
    {
      const TsDecryptAheadFlow *f = &g_array_index (flows, TsDecryptAheadFlow, i);
      Conn *c = g_ptr_array_index (owners, i);
      c->ahead_serial[ts_address_equal (&f->src, &c->addr[0]) && f->src_port == c->port[0] ? 0 : 1]
          = f->cipher->serial;
    }
  for (guint i = 0; i < self->ifaces->len; i++)
    {
      const IfaceInfo *in = &g_array_index (self->ifaces, IfaceInfo, i);
      gint link = in->per_ifindex ? TS_DECRYPT_AHEAD_PER_IFINDEX : in->link;
      g_array_append_val (linktypes, in->linktype);
      g_array_append_val (links, link);
    }
  ts_decrypt_ahead_restart (self->ahead, ts_trace_reader_get_offset (self->reader),
                            (const TsDecryptAheadFlow *)(gpointer)flows->data, flows->len,
                            (const guint *)(gpointer)linktypes->data,
                            (const gint *)(gpointer)links->data, self->ifaces->len);
}

/* The trace container is damaged (@cause, the reader's error): reading
 * stops, and the damage is an anomaly event. Its summary names the offset
 * where reading stopped (the start of the damaged block) before the cause,
 * so that a narrow ladder cut after a few words still shows where. */
static void
record_damage (TsAnalyzer *self, const GError *cause)
{
  self->failed = TRUE;
  self->cur_packet = G_MAXUINT32;
  (void)new_event (self, NULL, 0, TS_LAYER_LINK, TS_PHASE_NONE, "anomaly", READ_CLEAR,
                   "trace damaged at offset %" G_GUINT64_FORMAT ", reading stopped: %s",
                   ts_trace_reader_get_offset (self->reader), cause->message);
}

static gboolean
pump (TsAnalyzer *self, GError **error)
{
  TsTraceRecord rec;
  TsTraceRecordKind kind;
  GError *local = NULL;

  while ((kind = ts_trace_reader_next (self->reader, &rec, &local)) > TS_TRACE_RECORD_NONE)
    {
      self->n_records++;
      if (self->ahead != NULL)
        {
          ts_decrypt_ahead_set_position (self->ahead, rec.offset);
          prefetch_next (self);
        }
      switch (kind)
        {
          case TS_TRACE_RECORD_INTERFACE:
            add_interface (self, rec.interface);
            break;
          case TS_TRACE_RECORD_PACKET:
            _ts_timeline_see_time (self->tl, rec.time_ns);
            handle_packet (self, &rec);
            break;
          case TS_TRACE_RECORD_SECRETS:
            if (rec.secrets_type == TS_PCAPNG_SECRETS_TLS_KEYLOG)
              {
                ts_tls_keylog_feed (self->keylog, (const char *)rec.secrets, rec.secrets_len);
                ts_tls_keylog_end (self->keylog);
                poll_tls (self);
              }
            break;
          case TS_TRACE_RECORD_EVENT:
            _ts_timeline_see_time (self->tl, ts_trace_event_get_time_ns (rec.event));
            handle_event (self, rec.event);
            break;
          case TS_TRACE_RECORD_STATISTICS:
            handle_statistics (self, &rec);
            break;
          default:
            break;
        }
      if (self->ahead != NULL && ts_decrypt_ahead_take_miss (self->ahead))
        restart_ahead (self);
    }
  if (kind == TS_TRACE_RECORD_ERROR)
    {
      record_damage (self, local);
      g_propagate_error (error, local);
      return FALSE;
    }
  return TRUE;
}

/* --- public ------------------------------------------------------------- */

TsAnalyzer *
ts_analyzer_new (void)
{
  TsAnalyzer *self = g_new0 (TsAnalyzer, 1);

  self->reader = ts_trace_reader_new ();
  self->tl = ts_timeline_new ();
  self->keylog = ts_tls_keylog_new ();
  self->packets = g_array_new (FALSE, FALSE, sizeof (PacketInfo));
  self->ifaces = g_array_new (FALSE, TRUE, sizeof (IfaceInfo));
  self->isb_lost = g_array_new (FALSE, TRUE, sizeof (guint64));
  self->ifindex_links = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  self->link_ifindex = g_array_new (FALSE, FALSE, sizeof (LinkIfindex));
  self->meta = g_array_new (FALSE, FALSE, sizeof (EventMeta));
  self->conn_table = g_hash_table_new_full (conn_key_hash, conn_key_equal, g_free, NULL);
  self->udp_flows = g_hash_table_new_full (conn_key_hash, conn_key_equal, g_free, udp_flow_free);
  self->conns = g_ptr_array_new_with_free_func (conn_free);
  self->waiting = g_ptr_array_new ();
  self->live_tls = g_ptr_array_new ();
  self->addr_nodes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->name_nodes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->changed = g_hash_table_new (NULL, NULL);
  self->cur_packet = G_MAXUINT32;
  return self;
}

void
ts_analyzer_free (TsAnalyzer *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->ahead, ts_decrypt_ahead_free);
  if (self->release != NULL)
    g_thread_join (self->release);
  g_free (self->scenario);
  g_hash_table_unref (self->conn_table);
  g_hash_table_unref (self->udp_flows);
  g_ptr_array_unref (self->waiting);
  g_ptr_array_unref (self->live_tls);
  g_ptr_array_unref (self->conns);
  ts_trace_reader_free (self->reader);
  ts_tls_keylog_unref (self->keylog);
  g_array_unref (self->packets);
  g_array_unref (self->ifaces);
  g_array_unref (self->isb_lost);
  g_hash_table_unref (self->ifindex_links);
  g_array_unref (self->link_ifindex);
  g_array_unref (self->meta);
  g_hash_table_unref (self->addr_nodes);
  g_hash_table_unref (self->name_nodes);
  g_hash_table_unref (self->changed);
  ts_timeline_free (self->tl);
  g_free (self);
}

void
ts_analyzer_add_keylog (TsAnalyzer *self, const char *text, gsize len)
{
  g_return_if_fail (self != NULL);
  ts_tls_keylog_feed (self->keylog, text, len);
  ts_tls_keylog_end (self->keylog);
  poll_tls (self);
}

gboolean
ts_analyzer_feed (TsAnalyzer *self, const guint8 *data, gsize len, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);

  if (self->failed || self->finished)
    return !self->failed;
  ts_trace_reader_feed (self->reader, data, len);
  return pump (self, error);
}

gboolean
ts_analyzer_feed_bytes (TsAnalyzer *self, GBytes *bytes, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (bytes != NULL, FALSE);

  if (self->failed || self->finished)
    return !self->failed;
  /* The whole trace is there: a second thread may open TLS records ahead
   * of us (the same timeline, sooner). */
  if (self->ahead == NULL && g_get_num_processors () > 1 && !self->no_ahead)
    {
      self->ahead = ts_decrypt_ahead_new (bytes, ts_trace_reader_get_offset (self->reader));
      ts_decrypt_ahead_set_counts (self->ahead, &self->ahead_counts);
      if (self->ahead_tight)
        ts_decrypt_ahead_set_tight (self->ahead);
      self->whole = g_bytes_get_data (bytes, &self->whole_len);
      self->whole_base = ts_trace_reader_get_offset (self->reader);
      for (guint i = 0; i < self->live_tls->len; i++)
        ts_tls_session_set_ahead (((Conn *)self->live_tls->pdata[i])->tls, AHEAD_HOOK (self),
                                  self->ahead);
    }
  ts_trace_reader_feed_bytes (self->reader, bytes);
  return pump (self, error);
}

void
_ts_analyzer_set_decrypt_ahead_tight (TsAnalyzer *self, gboolean tight)
{
  g_return_if_fail (self != NULL);
  self->ahead_tight = tight;
}

void
_ts_analyzer_set_decrypt_ahead_checked (TsAnalyzer *self, gboolean checked)
{
  g_return_if_fail (self != NULL);
  self->ahead_verify = checked;
}

const TsDecryptAheadCounts *
_ts_analyzer_get_ahead_counts (TsAnalyzer *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return &self->ahead_counts;
}

void
_ts_analyzer_set_decrypt_ahead (TsAnalyzer *self, gboolean enabled)
{
  g_return_if_fail (self != NULL);
  self->no_ahead = !enabled;
}

static gpointer
release_reader (gpointer reader)
{
  ts_trace_reader_free (reader);
  return NULL;
}

gboolean
ts_analyzer_finish (TsAnalyzer *self, GError **error)
{
  GError *local = NULL;
  gboolean ok = TRUE;

  g_return_val_if_fail (self != NULL, FALSE);
  if (self->finished)
    return !self->failed;
  self->finished = TRUE;
  if (!self->failed && !ts_trace_reader_finish (self->reader, &local))
    {
      record_damage (self, local);
      g_propagate_error (error, local);
      ok = FALSE;
    }
  for (guint i = 0; i < self->conns->len; i++)
    conn_close (self, self->conns->pdata[i]);
  for (guint i = 0; i < ts_timeline_get_n_tunnels (self->tl); i++)
    update_tunnel (self, (gint)i);
  /* Nothing is opened any more: stop the helper (the sessions of closed
   * connections stay, without it). */
  for (guint i = 0; i < self->conns->len; i++)
    if (((Conn *)self->conns->pdata[i])->tls != NULL)
      ts_tls_session_set_ahead (((Conn *)self->conns->pdata[i])->tls, NULL, NULL);
  g_clear_pointer (&self->ahead, ts_decrypt_ahead_free);
  if (self->whole != NULL)
    {
      /* The trace fed whole is read: unmapping a large one is tens of
       * milliseconds of page-table work, done by another thread while the
       * caller renders the timeline (joined in _free). */
      self->final_offset = ts_trace_reader_get_offset (self->reader);
      self->scenario = g_strdup (ts_trace_reader_get_scenario (self->reader));
      self->whole = NULL;
      self->release = g_thread_new ("ts-release", release_reader, g_steal_pointer (&self->reader));
    }
  return ok;
}

TsTimeline *
ts_analyzer_get_timeline (TsAnalyzer *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->tl;
}

static gint
cmp_uint (gconstpointer a, gconstpointer b)
{
  guint x = *(const guint *)a, y = *(const guint *)b;

  return x < y ? -1 : x > y;
}

void
ts_analyzer_take_changes (TsAnalyzer *self, TsAnalyzerChanges *out)
{
  GHashTableIter it;
  gpointer key;

  g_return_if_fail (self != NULL && out != NULL);
  out->first_new_event = self->changes_first;
  out->n_events = ts_timeline_get_n_events (self->tl);
  out->changed_events = g_array_new (FALSE, FALSE, sizeof (guint));
  g_hash_table_iter_init (&it, self->changed);
  while (g_hash_table_iter_next (&it, &key, NULL))
    {
      guint v = GPOINTER_TO_UINT (key) - 1;
      g_array_append_val (out->changed_events, v);
    }
  g_array_sort (out->changed_events, cmp_uint);
  out->nodes_changed = self->nodes_changed;
  out->tunnels_changed = self->tunnels_changed;
  g_hash_table_remove_all (self->changed);
  self->changes_first = out->n_events;
  self->nodes_changed = FALSE;
  self->tunnels_changed = FALSE;
}

void
ts_analyzer_changes_clear (TsAnalyzerChanges *changes)
{
  g_clear_pointer (&changes->changed_events, g_array_unref);
}

guint64
ts_analyzer_get_n_records (TsAnalyzer *self)
{
  return self->n_records;
}

guint64
ts_analyzer_get_n_packets (TsAnalyzer *self)
{
  return self->packets->len;
}

guint64
ts_analyzer_get_offset (TsAnalyzer *self)
{
  return self->reader != NULL ? ts_trace_reader_get_offset (self->reader) : self->final_offset;
}

gboolean
ts_analyzer_get_packet (TsAnalyzer *self, guint32 index, guint64 *out_time_ns, guint *out_interface,
                        guint64 *out_trace_offset)
{
  const PacketInfo *pi;

  g_return_val_if_fail (self != NULL, FALSE);
  if (index >= self->packets->len)
    return FALSE;
  pi = &g_array_index (self->packets, PacketInfo, index);
  if (out_time_ns)
    *out_time_ns = pi->time_ns;
  if (out_interface)
    *out_interface = pi->iface;
  if (out_trace_offset)
    *out_trace_offset = pi->offset;
  return TRUE;
}

const char *
ts_analyzer_get_scenario (TsAnalyzer *self)
{
  return self->reader != NULL ? ts_trace_reader_get_scenario (self->reader) : self->scenario;
}
