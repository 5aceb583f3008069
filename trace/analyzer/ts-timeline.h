/* ts-timeline.h: the analyzer's output: nodes, links, connections, tunnels
 * and an ordered list of protocol events, as plain C arrays.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The timeline is what every view renders (the GTK app wraps it in a
 * GListModel at its boundary; `tscope explain` renders it as text, JSON or
 * a picture). It is built by TsAnalyzer (ts-analyzer.h), which appends
 * events and updates them as it learns more (a tunnel's mode, who can read
 * a leg), and tells what changed.
 *
 * Every struct here is owned by the timeline; pointers and strings stay
 * valid while it lives (arrays may move when they grow: hold indices, not
 * pointers, across feeds).
 *
 * Readers: every node is a reader, and so is an on-path observer of every
 * link. An event's @readers is a bitmask over reader ids (at most
 * TS_TIMELINE_MAX_READERS); ts_timeline_get_reader () says what each id is.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Cap: readers (nodes plus link observers) a timeline tells apart. Nodes
 * and links beyond it exist but read nothing. */
#define TS_TIMELINE_MAX_READERS 64

typedef enum
{
  TS_LAYER_LAB,  /* actor events and lab metadata */
  TS_LAYER_LINK, /* frames we could not decode as IP */
  TS_LAYER_IP,
  TS_LAYER_TCP,
  TS_LAYER_UDP,
  TS_LAYER_HTTP,
  TS_LAYER_TLS,
  TS_LAYER_WEBSOCKET,
  TS_LAYER_DATA, /* opaque bytes (a tunnel carrying something we do not decode) */
} TsLayer;

typedef enum
{
  TS_PHASE_NONE,
  TS_PHASE_CONNECT, /* TCP handshake */
  TS_PHASE_PROXY,   /* CONNECT or a request to a forward proxy, and its answer */
  TS_PHASE_TLS_HANDSHAKE,
  TS_PHASE_DATA,
  TS_PHASE_CLOSE, /* FIN, RST, close_notify */
} TsPhase;

typedef enum
{
  TS_TUNNEL_MODE_UNKNOWN,   /* no inner TLS seen on two legs yet */
  TS_TUNNEL_MODE_RELAY,     /* the same bytes on every leg: the proxy relays */
  TS_TUNNEL_MODE_INTERCEPT, /* a proxy terminated TLS and opened its own session */
} TsTunnelMode;

typedef enum
{
  TS_READER_NODE,
  TS_READER_OBSERVER, /* an on-path observer of a link */
} TsReaderKind;

typedef struct
{
  char *name;
  char *role;           /* "client", "proxy", "server", ... or NULL when inferred */
  GPtrArray *names;     /* host names (char *) */
  GPtrArray *addresses; /* textual addresses (char *) */
  gboolean inferred;    /* made up from addresses in a foreign capture */
  gint reader;          /* reader id, -1 past the cap */
  gint merged_into;     /* -1, or the node it turned out to be (an inferred node for
                         * another address of a proxy): then it is shown nowhere */
} TsTimelineNode;

typedef struct
{
  char *name;  /* "client-proxy", or the interface name */
  gint a, b;   /* node ids of its ends, -1 unknown */
  gint reader; /* the observer's reader id, -1 past the cap */
} TsTimelineLink;

typedef struct
{
  TsReaderKind kind;
  gint id; /* node id or link id */
} TsTimelineReader;

typedef struct
{
  guint id;
  gint link;
  gint client, server; /* node ids */
  char *client_addr;   /* "192.0.2.1:40000" */
  char *server_addr;
  char *protocol;   /* "http", "tls", "opaque", "unknown" */
  gint tunnel;      /* -1, or the tunnel it is a leg of */
  gint leg;         /* its position in the tunnel (0: at the client) */
  gint upstream;    /* the connection a proxy opened for this one's request, -1 */
  gint16 wscale[2]; /* the window scale shift each side sent in its SYN (RFC 7323), -1:
                     * none; the windows of later segments are scaled only when both did */
  guint64 open_ns, close_ns;
  guint64 bytes[2]; /* payload bytes client→server and back */
} TsTimelineConn;

typedef struct
{
  guint id;
  gint client;     /* node that asked for the tunnel */
  GArray *proxies; /* gint node ids, in order from the client */
  gint server;     /* the far end, -1 until seen */
  char *target;    /* the CONNECT target, "example.com:443" */
  TsTunnelMode mode;
  gint intercepting_proxy; /* node id that re-terminated TLS, or -1 */
  GArray *conns;           /* guint connection ids, leg order */
  GArray *events;          /* guint event indices carried by it */
} TsTimelineTunnel;

/* A line of an event's detail tree (pre-order, with its depth). */
typedef struct
{
  guint depth;
  const char *text;
} TsTimelineDetail;

typedef struct
{
  guint64 time_ns;
  guint32 packet;      /* index of the packet holding its first byte, G_MAXUINT32: none */
  guint32 byte_offset; /* first byte inside that packet */
  guint32 byte_len;    /* bytes of it inside that packet */
  guint64 wire_len;    /* bytes it covers on the wire (sizes an observer sees) */
  gint link;           /* -1 for lab events */
  gint src, dst;       /* node ids, -1 unknown */
  gint stops_at;       /* a packet for dst that nothing shows got past this node (the far end
                        * of its link: a firewall, no route), or -1 */
  gint conn;           /* connection id, -1 */
  guint32 stream;      /* stream inside the connection (0: the connection itself; HTTP/2 later) */
  gint tunnel;         /* tunnel id, -1 */
  TsLayer layer;
  TsPhase phase;
  const char *kind;    /* "tcp.syn", "http.request", "tls.handshake", "anomaly", ... */
  const char *summary; /* one line */
  guint64 readers;     /* bitmask over reader ids */
  guint detail_first;  /* into ts_timeline_get_detail () */
  guint n_detail;
  gboolean anomaly;
  gboolean encrypted; /* carried encrypted on the wire */
  gboolean decrypted; /* ...and the analyzer decrypted it */
  /* HTTP */
  const char *http_method;
  const char *http_target;
  guint http_status;
  /* TLS */
  gint tls_handshake_type; /* -1 when not a handshake message */
  guint tls_version;
  guint tls_cipher;
  const char *tls_sni;
  const char *tls_alpn;
  const char *tls_cert_subject;
  const char *tls_cert_issuer;
} TsTimelineEvent;

typedef struct _TsTimeline TsTimeline;

TsTimeline *ts_timeline_new (void);
void ts_timeline_free (TsTimeline *self);

guint ts_timeline_get_n_nodes (const TsTimeline *self);
const TsTimelineNode *ts_timeline_get_node (const TsTimeline *self, guint id);
/* The node named @name, else the node with the address @name, or -1
 * (merged nodes are not found). */
gint ts_timeline_find_node (const TsTimeline *self, const char *name);
guint ts_timeline_get_n_links (const TsTimeline *self);
const TsTimelineLink *ts_timeline_get_link (const TsTimeline *self, guint id);
guint ts_timeline_get_n_readers (const TsTimeline *self);
const TsTimelineReader *ts_timeline_get_reader (const TsTimeline *self, guint id);
/* "proxy" or "observer on client-proxy" (transfer full). */
char *ts_timeline_dup_reader_name (const TsTimeline *self, guint id);
guint ts_timeline_get_n_conns (const TsTimeline *self);
const TsTimelineConn *ts_timeline_get_conn (const TsTimeline *self, guint id);
guint ts_timeline_get_n_tunnels (const TsTimeline *self);
const TsTimelineTunnel *ts_timeline_get_tunnel (const TsTimeline *self, guint id);
guint ts_timeline_get_n_events (const TsTimeline *self);
/* Packets the trace's captures said they lost (their Interface Statistics
 * Blocks), over all interfaces: gaps that are the capture's. */
guint64 ts_timeline_get_capture_lost (const TsTimeline *self);
/* Where times count from: the time of the trace's first record (a lab
 * trace's metadata block, which Wireshark shows as frame 1). Every view
 * counts from it, as Wireshark's frame.time_relative does (an event
 * earlier still, in a capture out of order, shows as 0). */
guint64 ts_timeline_get_origin_ns (const TsTimeline *self);
const TsTimelineEvent *ts_timeline_get_event (const TsTimeline *self, guint index);
const TsTimelineDetail *ts_timeline_get_detail (const TsTimeline *self, guint first);

/* Event indices sorted by time (stable: equal times keep their order).
 * Transfer full (g_array_unref). */
GArray *ts_timeline_dup_time_order (const TsTimeline *self);

/* Can @node read @event's content? */
gboolean ts_timeline_event_readable_by (const TsTimeline *self, const TsTimelineEvent *event,
                                        gint node);

const char *ts_layer_to_string (TsLayer layer);
const char *ts_phase_to_string (TsPhase phase);
const char *ts_tunnel_mode_to_string (TsTunnelMode mode);

/* For the analyzer (ts-timeline-private.h has the rest). */
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TsTimeline, ts_timeline_free)

G_END_DECLS
