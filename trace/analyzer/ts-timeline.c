/* ts-timeline.c: the timeline model.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "ts-timeline-private.h"

#include <stdarg.h>
#include <string.h>

struct _TsTimeline
{
  GStringChunk *strings;
  GPtrArray *nodes;     /* TsTimelineNode* */
  GPtrArray *links;     /* TsTimelineLink* */
  GArray *readers;      /* TsTimelineReader */
  GPtrArray *conns;     /* TsTimelineConn* */
  GPtrArray *tunnels;   /* TsTimelineTunnel* */
  GArray *events;       /* TsTimelineEvent */
  GArray *details;      /* TsTimelineDetail */
  guint64 capture_lost; /* packets the trace's captures said they lost */
  guint64 origin_ns;    /* the time of the trace's first record, 0: none yet */
};

static void
node_free (gpointer p)
{
  TsTimelineNode *n = p;

  g_free (n->name);
  g_free (n->role);
  g_ptr_array_unref (n->names);
  g_ptr_array_unref (n->addresses);
  g_free (n);
}

static void
link_free (gpointer p)
{
  TsTimelineLink *l = p;

  g_free (l->name);
  g_free (l);
}

static void
conn_free (gpointer p)
{
  TsTimelineConn *c = p;

  g_free (c->client_addr);
  g_free (c->server_addr);
  g_free (c->protocol);
  g_free (c);
}

static void
tunnel_free (gpointer p)
{
  TsTimelineTunnel *t = p;

  g_array_unref (t->proxies);
  g_array_unref (t->conns);
  g_array_unref (t->events);
  g_free (t->target);
  g_free (t);
}

TsTimeline *
ts_timeline_new (void)
{
  TsTimeline *self = g_new0 (TsTimeline, 1);

  self->strings = g_string_chunk_new (64 * 1024);
  self->nodes = g_ptr_array_new_with_free_func (node_free);
  self->links = g_ptr_array_new_with_free_func (link_free);
  self->readers = g_array_new (FALSE, FALSE, sizeof (TsTimelineReader));
  self->conns = g_ptr_array_new_with_free_func (conn_free);
  self->tunnels = g_ptr_array_new_with_free_func (tunnel_free);
  self->events = g_array_new (FALSE, FALSE, sizeof (TsTimelineEvent));
  self->details = g_array_new (FALSE, FALSE, sizeof (TsTimelineDetail));
  return self;
}

void
ts_timeline_free (TsTimeline *self)
{
  if (self == NULL)
    return;
  g_string_chunk_free (self->strings);
  g_ptr_array_unref (self->nodes);
  g_ptr_array_unref (self->links);
  g_array_unref (self->readers);
  g_ptr_array_unref (self->conns);
  g_ptr_array_unref (self->tunnels);
  g_array_unref (self->events);
  g_array_unref (self->details);
  g_free (self);
}

guint
ts_timeline_get_n_nodes (const TsTimeline *self)
{
  return self->nodes->len;
}

const TsTimelineNode *
ts_timeline_get_node (const TsTimeline *self, guint id)
{
  g_return_val_if_fail (id < self->nodes->len, NULL);
  return self->nodes->pdata[id];
}

gint
ts_timeline_find_node (const TsTimeline *self, const char *name)
{
  for (guint i = 0; i < self->nodes->len; i++)
    {
      const TsTimelineNode *n = self->nodes->pdata[i];
      if (n->merged_into < 0 && g_strcmp0 (n->name, name) == 0)
        return (gint)i;
    }
  /* An address of a node goes by that node too (a proxy's other side). */
  for (guint i = 0; i < self->nodes->len; i++)
    {
      const TsTimelineNode *n = self->nodes->pdata[i];
      for (guint k = 0; n->merged_into < 0 && k < n->addresses->len; k++)
        if (g_strcmp0 (n->addresses->pdata[k], name) == 0)
          return (gint)i;
    }
  return -1;
}

guint
ts_timeline_get_n_links (const TsTimeline *self)
{
  return self->links->len;
}

const TsTimelineLink *
ts_timeline_get_link (const TsTimeline *self, guint id)
{
  g_return_val_if_fail (id < self->links->len, NULL);
  return self->links->pdata[id];
}

guint
ts_timeline_get_n_readers (const TsTimeline *self)
{
  return self->readers->len;
}

const TsTimelineReader *
ts_timeline_get_reader (const TsTimeline *self, guint id)
{
  g_return_val_if_fail (id < self->readers->len, NULL);
  return &g_array_index (self->readers, TsTimelineReader, id);
}

char *
ts_timeline_dup_reader_name (const TsTimeline *self, guint id)
{
  const TsTimelineReader *r = ts_timeline_get_reader (self, id);

  if (r == NULL)
    return NULL;
  if (r->kind == TS_READER_NODE)
    return g_strdup (ts_timeline_get_node (self, (guint)r->id)->name);
  return g_strdup_printf ("observer on %s", ts_timeline_get_link (self, (guint)r->id)->name);
}

guint
ts_timeline_get_n_conns (const TsTimeline *self)
{
  return self->conns->len;
}

const TsTimelineConn *
ts_timeline_get_conn (const TsTimeline *self, guint id)
{
  g_return_val_if_fail (id < self->conns->len, NULL);
  return self->conns->pdata[id];
}

guint
ts_timeline_get_n_tunnels (const TsTimeline *self)
{
  return self->tunnels->len;
}

const TsTimelineTunnel *
ts_timeline_get_tunnel (const TsTimeline *self, guint id)
{
  g_return_val_if_fail (id < self->tunnels->len, NULL);
  return self->tunnels->pdata[id];
}

guint64
ts_timeline_get_capture_lost (const TsTimeline *self)
{
  return self->capture_lost;
}

guint64
ts_timeline_get_origin_ns (const TsTimeline *self)
{
  if (self->origin_ns != 0 || self->events->len == 0)
    return self->origin_ns;
  return g_array_index (self->events, TsTimelineEvent, 0).time_ns;
}

void
_ts_timeline_see_time (TsTimeline *self, guint64 time_ns)
{
  if (self->origin_ns == 0)
    self->origin_ns = time_ns;
}

void
_ts_timeline_add_capture_lost (TsTimeline *self, guint64 n)
{
  self->capture_lost = n > G_MAXUINT64 - self->capture_lost ? G_MAXUINT64 : self->capture_lost + n;
}

guint
ts_timeline_get_n_events (const TsTimeline *self)
{
  return self->events->len;
}

const TsTimelineEvent *
ts_timeline_get_event (const TsTimeline *self, guint index)
{
  g_return_val_if_fail (index < self->events->len, NULL);
  return &g_array_index (self->events, TsTimelineEvent, index);
}

const TsTimelineDetail *
ts_timeline_get_detail (const TsTimeline *self, guint first)
{
  if (first >= self->details->len)
    return NULL;
  return &g_array_index (self->details, TsTimelineDetail, first);
}

static const TsTimeline *sort_timeline;

static gint
by_time (gconstpointer a, gconstpointer b)
{
  guint ia = *(const guint *)a, ib = *(const guint *)b;
  const TsTimelineEvent *ea = &g_array_index (sort_timeline->events, TsTimelineEvent, ia);
  const TsTimelineEvent *eb = &g_array_index (sort_timeline->events, TsTimelineEvent, ib);

  if (ea->time_ns != eb->time_ns)
    return ea->time_ns < eb->time_ns ? -1 : 1;
  return ia < ib ? -1 : ia > ib;
}

GArray *
ts_timeline_dup_time_order (const TsTimeline *self)
{
  GArray *order = g_array_sized_new (FALSE, FALSE, sizeof (guint), self->events->len);
  gboolean sorted = TRUE;

  for (guint i = 0; i < self->events->len; i++)
    {
      g_array_append_val (order, i);
      if (i > 0
          && g_array_index (self->events, TsTimelineEvent, i).time_ns
                 < g_array_index (self->events, TsTimelineEvent, i - 1).time_ns)
        sorted = FALSE;
    }
  if (!sorted)
    {
      /* g_array_sort is a stable merge sort in GLib; the index tiebreak
       * makes the order total anyway. Single-threaded use only. */
      sort_timeline = self;
      g_array_sort (order, by_time);
      sort_timeline = NULL;
    }
  return order;
}

gboolean
ts_timeline_event_readable_by (const TsTimeline *self, const TsTimelineEvent *event, gint node)
{
  guint64 bit = _ts_timeline_node_bit (self, node);

  return bit != 0 && (event->readers & bit) != 0;
}

const char *
ts_layer_to_string (TsLayer layer)
{
  static const char *const names[]
      = { "lab", "link", "ip", "tcp", "udp", "http", "tls", "websocket", "data" };

  return layer < G_N_ELEMENTS (names) ? names[layer] : "unknown";
}

const char *
ts_phase_to_string (TsPhase phase)
{
  static const char *const names[]
      = { "none", "connect", "proxy", "tls-handshake", "data", "close" };

  return phase < G_N_ELEMENTS (names) ? names[phase] : "unknown";
}

const char *
ts_tunnel_mode_to_string (TsTunnelMode mode)
{
  switch (mode)
    {
      case TS_TUNNEL_MODE_RELAY:
        return "relay";
      case TS_TUNNEL_MODE_INTERCEPT:
        return "intercept";
      default:
        return "unknown";
    }
}

/* --- building ------------------------------------------------------------ */

const char *
_ts_timeline_intern (TsTimeline *self, const char *s)
{
  return s == NULL ? NULL : g_string_chunk_insert_const (self->strings, s);
}

const char *
_ts_timeline_intern_len (TsTimeline *self, const char *s, gssize len)
{
  if (s == NULL)
    return NULL;
  return g_string_chunk_insert_len (self->strings, s, len);
}

/* Formats into the timeline's strings: through a buffer on the stack
 * (summaries and detail lines are short; a timeline has hundreds of
 * thousands), on the heap only for a longer one. */
const char *
_ts_timeline_intern_vprintf (TsTimeline *self, const char *format, va_list args)
{
  char buf[256];
  g_autofree char *text = NULL;
  va_list again;
  int n;

  va_copy (again, args);
  n = g_vsnprintf (buf, sizeof buf, format, args);
  if (n >= 0 && (gsize)n < sizeof buf)
    {
      va_end (again);
      return g_string_chunk_insert_len (self->strings, buf, n);
    }
  text = g_strdup_vprintf (format, again);
  va_end (again);
  return g_string_chunk_insert (self->strings, text);
}

static gint
add_reader (TsTimeline *self, TsReaderKind kind, gint id)
{
  TsTimelineReader r = { kind, id };

  if (self->readers->len >= TS_TIMELINE_MAX_READERS)
    return -1;
  g_array_append_val (self->readers, r);
  return (gint)self->readers->len - 1;
}

guint
_ts_timeline_add_node (TsTimeline *self, const char *name, const char *role, gboolean inferred)
{
  TsTimelineNode *n = g_new0 (TsTimelineNode, 1);

  n->name = g_strdup (name);
  n->role = g_strdup (role);
  n->names = g_ptr_array_new_with_free_func (g_free);
  n->addresses = g_ptr_array_new_with_free_func (g_free);
  n->inferred = inferred;
  n->merged_into = -1;
  g_ptr_array_add (self->nodes, n);
  n->reader = add_reader (self, TS_READER_NODE, (gint)self->nodes->len - 1);
  return self->nodes->len - 1;
}

void
_ts_timeline_node_add_address (TsTimeline *self, guint node, const char *address)
{
  TsTimelineNode *n = self->nodes->pdata[node];

  for (guint i = 0; i < n->addresses->len; i++)
    if (strcmp (n->addresses->pdata[i], address) == 0)
      return;
  g_ptr_array_add (n->addresses, g_strdup (address));
}

void
_ts_timeline_node_set_role (TsTimeline *self, guint node, const char *role)
{
  TsTimelineNode *n = self->nodes->pdata[node];

  g_free (n->role);
  n->role = g_strdup (role);
}

void
_ts_timeline_node_add_name (TsTimeline *self, guint node, const char *name)
{
  TsTimelineNode *n = self->nodes->pdata[node];

  g_ptr_array_add (n->names, g_strdup (name));
}

guint
_ts_timeline_add_link (TsTimeline *self, const char *name, gint a, gint b)
{
  TsTimelineLink *l = g_new0 (TsTimelineLink, 1);

  l->name = g_strdup (name);
  l->a = a;
  l->b = b;
  g_ptr_array_add (self->links, l);
  l->reader = add_reader (self, TS_READER_OBSERVER, (gint)self->links->len - 1);
  return self->links->len - 1;
}

void
_ts_timeline_set_link_ends (TsTimeline *self, guint link, gint a, gint b)
{
  TsTimelineLink *l = self->links->pdata[link];

  l->a = a;
  l->b = b;
}

TsTimelineConn *
_ts_timeline_add_conn (TsTimeline *self)
{
  TsTimelineConn *c = g_new0 (TsTimelineConn, 1);

  c->id = self->conns->len;
  c->link = c->client = c->server = c->tunnel = -1;
  c->leg = -1;
  c->upstream = -1;
  c->wscale[0] = c->wscale[1] = -1;
  g_ptr_array_add (self->conns, c);
  return c;
}

TsTimelineConn *
_ts_timeline_conn (TsTimeline *self, guint id)
{
  return self->conns->pdata[id];
}

TsTimelineTunnel *
_ts_timeline_add_tunnel (TsTimeline *self)
{
  TsTimelineTunnel *t = g_new0 (TsTimelineTunnel, 1);

  t->id = self->tunnels->len;
  t->client = t->server = t->intercepting_proxy = -1;
  t->proxies = g_array_new (FALSE, FALSE, sizeof (gint));
  t->conns = g_array_new (FALSE, FALSE, sizeof (guint));
  t->events = g_array_new (FALSE, FALSE, sizeof (guint));
  g_ptr_array_add (self->tunnels, t);
  return t;
}

TsTimelineTunnel *
_ts_timeline_tunnel (TsTimeline *self, guint id)
{
  return self->tunnels->pdata[id];
}

guint
_ts_timeline_append_event (TsTimeline *self)
{
  TsTimelineEvent e = { 0 };

  e.packet = G_MAXUINT32;
  e.link = e.src = e.dst = e.stops_at = e.conn = e.tunnel = -1;
  e.tls_handshake_type = -1;
  e.detail_first = self->details->len;
  g_array_append_val (self->events, e);
  return self->events->len - 1;
}

TsTimelineEvent *
_ts_timeline_event (TsTimeline *self, guint index)
{
  return &g_array_index (self->events, TsTimelineEvent, index);
}

void
_ts_timeline_add_detail (TsTimeline *self, guint index, guint depth, const char *format, ...)
{
  TsTimelineEvent *e = &g_array_index (self->events, TsTimelineEvent, index);
  TsTimelineDetail d;
  va_list args;

  /* Details of an event are contiguous: only the newest event takes lines. */
  g_return_if_fail (index == self->events->len - 1);
  g_return_if_fail (e->detail_first + e->n_detail == self->details->len);
  va_start (args, format);
  d.text = _ts_timeline_intern_vprintf (self, format, args);
  va_end (args);
  d.depth = depth;
  g_array_append_val (self->details, d);
  e->n_detail++;
}

guint64
_ts_timeline_node_bit (const TsTimeline *self, gint node)
{
  const TsTimelineNode *n;

  if (node < 0 || (guint)node >= self->nodes->len)
    return 0;
  n = self->nodes->pdata[node];
  return n->reader < 0 ? 0 : G_GUINT64_CONSTANT (1) << n->reader;
}

guint64
_ts_timeline_observer_bit (const TsTimeline *self, gint link)
{
  const TsTimelineLink *l;

  if (link < 0 || (guint)link >= self->links->len)
    return 0;
  l = self->links->pdata[link];
  return l->reader < 0 ? 0 : G_GUINT64_CONSTANT (1) << l->reader;
}
