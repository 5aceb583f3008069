/* ts-step-list.c: the analyzer's timeline in time order, with packet bytes.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "ts-step-list.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "ts-analyzer.h"
#include "ts-packet.h"
#include "ts-timeline-render.h"
#include "ts-trace-reader.h"

typedef struct
{
  guint64 offset; /* into the file's bytes, or into the store */
  guint32 caplen;
  guint16 linktype;
  guint8 in_store; /* copied (a stream), or a view into the file */
  guint32 frame;   /* its number as Wireshark shows it (from 1) */
} Packet;

/* pcapng's Systemd Journal Export Block: the lab's events. Wireshark shows
 * each as a frame of its own, so they count in its frame numbers. */
#define PCAPNG_BLOCK_SJE 0x00000009

struct _TsStepList
{
  TsAnalyzer *analyzer;
  TsTraceReader *reader; /* our own pass, for the bytes */
  gboolean reader_failed;
  GArray *packets;          /* Packet */
  guint32 n_frames;         /* records Wireshark numbers as frames, read so far */
  GByteArray *store;        /* copies of packets read from a stream */
  GBytes *file;             /* a whole trace file (mapped): packets are views into it */
  gboolean file_read;       /* its records were read */
  GArray *order;            /* guint event indices in time order */
  GArray *step_of;          /* gint: event index -> step */
  GHashTable *captured_end; /* link name -> node name */
  char *description;
  char *damage; /* the reader's message where the trace is damaged, or NULL */
};

TsStepList *
ts_step_list_new (void)
{
  TsStepList *self = g_new0 (TsStepList, 1);

  self->analyzer = ts_analyzer_new ();
  self->reader = ts_trace_reader_new ();
  self->packets = g_array_new (FALSE, FALSE, sizeof (Packet));
  self->store = g_byte_array_new ();
  self->order = g_array_new (FALSE, FALSE, sizeof (guint));
  self->step_of = g_array_new (FALSE, FALSE, sizeof (gint));
  self->captured_end = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return self;
}

void
ts_step_list_add_keylog (TsStepList *self, GBytes *keylog)
{
  gsize len = 0;
  const char *text = keylog != NULL ? g_bytes_get_data (keylog, &len) : NULL;

  if (text != NULL && len > 0)
    ts_analyzer_add_keylog (self->analyzer, text, len);
}

void
ts_step_list_free (TsStepList *self)
{
  if (self == NULL)
    return;
  ts_analyzer_free (self->analyzer);
  ts_trace_reader_free (self->reader);
  g_array_unref (self->packets);
  g_byte_array_unref (self->store);
  g_clear_pointer (&self->file, g_bytes_unref);
  g_array_unref (self->order);
  g_array_unref (self->step_of);
  g_hash_table_unref (self->captured_end);
  g_free (self->description);
  g_free (self->damage);
  g_free (self);
}

/* The lab metadata (ts_lab_plan_to_json ()): we only need what the
 * timeline does not carry: the description and each link's captured end. */
static void
load_metadata (TsStepList *self, const char *json)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *root;
  JsonNode *links;

  if (json == NULL || !json_parser_load_from_data (parser, json, -1, NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return;
  root = json_node_get_object (json_parser_get_root (parser));
  if (json_object_has_member (root, "description")
      && JSON_NODE_HOLDS_VALUE (json_object_get_member (root, "description")))
    {
      g_free (self->description);
      self->description = g_strdup (json_object_get_string_member (root, "description"));
    }
  links = json_object_get_member (root, "links");
  if (links == NULL || !JSON_NODE_HOLDS_ARRAY (links))
    return;
  for (guint i = 0; i < json_array_get_length (json_node_get_array (links)); i++)
    {
      JsonNode *l = json_array_get_element (json_node_get_array (links), i);
      JsonObject *o;
      JsonNode *name, *end;

      if (!JSON_NODE_HOLDS_OBJECT (l))
        continue;
      o = json_node_get_object (l);
      name = json_object_get_member (o, "name");
      end = json_object_get_member (o, "captured_end");
      if (name && end && JSON_NODE_HOLDS_VALUE (name) && JSON_NODE_HOLDS_VALUE (end)
          && json_node_get_value_type (name) == G_TYPE_STRING
          && json_node_get_value_type (end) == G_TYPE_STRING)
        g_hash_table_replace (self->captured_end, g_strdup (json_node_get_string (name)),
                              g_strdup (json_node_get_string (end)));
    }
}

static void
read_records (TsStepList *self)
{
  TsTraceRecord rec;
  TsTraceRecordKind kind;
  gsize file_len = 0;
  const guint8 *file = self->file ? g_bytes_get_data (self->file, &file_len) : NULL;

  while ((kind = ts_trace_reader_next (self->reader, &rec, NULL)) > TS_TRACE_RECORD_NONE)
    {
      /* Wireshark numbers packets and journal entries (ours, or any). */
      if (kind == TS_TRACE_RECORD_PACKET || kind == TS_TRACE_RECORD_EVENT
          || (kind == TS_TRACE_RECORD_OTHER && rec.block_type == PCAPNG_BLOCK_SJE))
        self->n_frames++;
      if (kind == TS_TRACE_RECORD_PACKET)
        {
          const TsTraceInterface *iface
              = ts_trace_reader_get_interface (self->reader, rec.interface_id);
          Packet p = { 0, rec.caplen, iface ? (guint16)iface->linktype : 1, TRUE, self->n_frames };

          /* A view into the mapped file where the record lies in it; a
           * copy otherwise. */
          if (file != NULL && rec.data >= file && rec.data + rec.caplen <= file + file_len)
            {
              p.offset = (guint64)(rec.data - file);
              p.in_store = FALSE;
            }
          else
            {
              p.offset = self->store->len;
              g_byte_array_append (self->store, rec.data, rec.caplen);
            }
          g_array_append_val (self->packets, p);
        }
      else if (kind == TS_TRACE_RECORD_EVENT
               && g_strcmp0 (ts_trace_event_get_kind (rec.event), TS_TRACE_EVENT_KIND_METADATA)
                      == 0)
        load_metadata (self, ts_trace_event_get (rec.event, "metadata"));
    }
  if (kind == TS_TRACE_RECORD_ERROR)
    self->reader_failed = TRUE;
}

static void
read_bytes (TsStepList *self, const guint8 *data, gsize len)
{
  if (self->reader_failed)
    return;
  if (self->file != NULL)
    {
      /* The whole file is there: its records are read once. */
      if (!self->file_read)
        {
          self->file_read = TRUE;
          read_records (self);
        }
      return;
    }
  ts_trace_reader_feed (self->reader, data, len);
  read_records (self);
}

void
ts_step_list_set_file (TsStepList *self, GBytes *file)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (self->file == NULL && self->packets->len == 0);
  self->file = g_bytes_ref (file);
  ts_trace_reader_feed_bytes (self->reader, file);
}

static void
resort (TsStepList *self)
{
  const TsTimeline *tl = ts_analyzer_get_timeline (self->analyzer);
  guint n = ts_timeline_get_n_events (tl);

  g_array_unref (self->order);
  self->order = ts_timeline_dup_time_order (tl);
  g_array_set_size (self->step_of, n);
  for (guint i = 0; i < self->order->len; i++)
    g_array_index (self->step_of, gint, g_array_index (self->order, guint, i)) = (gint)i;
}

/* Keeps the first damage's message (the analyzer's anomaly names it too)
 * and hands @local on. */
static void
note_damage (TsStepList *self, GError *local, GError **error)
{
  if (self->damage == NULL && ts_analyzer_get_n_packets (self->analyzer) > 0)
    self->damage = g_strdup (local->message);
  g_propagate_error (error, local);
}

gboolean
ts_step_list_feed (TsStepList *self, const guint8 *data, gsize len, GError **error)
{
  gboolean ok;
  TsAnalyzerChanges changes = { 0 };
  GError *local = NULL;

  g_return_val_if_fail (self != NULL, FALSE);
  read_bytes (self, data, len);
  ok = ts_analyzer_feed (self->analyzer, data, len, &local);
  ts_analyzer_take_changes (self->analyzer, &changes);
  ts_analyzer_changes_clear (&changes);
  resort (self);
  if (!ok)
    note_damage (self, local, error);
  return ok;
}

gboolean
ts_step_list_finish (TsStepList *self, GError **error)
{
  gboolean ok;
  GError *local = NULL;

  g_return_val_if_fail (self != NULL, FALSE);
  ok = ts_analyzer_finish (self->analyzer, &local);
  resort (self);
  if (!ok)
    note_damage (self, local, error);
  return ok;
}

const char *
ts_step_list_get_damage (TsStepList *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->damage;
}

guint64
ts_step_list_get_offset (TsStepList *self)
{
  return ts_analyzer_get_offset (self->analyzer);
}

const TsTimeline *
ts_step_list_get_timeline (TsStepList *self)
{
  return ts_analyzer_get_timeline (self->analyzer);
}

const char *
ts_step_list_get_scenario (TsStepList *self)
{
  return ts_analyzer_get_scenario (self->analyzer);
}

const char *
ts_step_list_get_description (TsStepList *self)
{
  return self->description;
}

const char *
ts_step_list_get_captured_end (TsStepList *self, const char *link)
{
  return link ? g_hash_table_lookup (self->captured_end, link) : NULL;
}

guint
ts_step_list_get_n_steps (TsStepList *self)
{
  return self->order->len;
}

const TsTimelineEvent *
ts_step_list_get_event (TsStepList *self, guint i)
{
  g_return_val_if_fail (i < self->order->len, NULL);
  return ts_timeline_get_event (ts_analyzer_get_timeline (self->analyzer),
                                g_array_index (self->order, guint, i));
}

int
ts_step_list_find_step (TsStepList *self, guint event_index)
{
  return event_index < self->step_of->len ? g_array_index (self->step_of, gint, event_index) : -1;
}

const guint8 *
ts_step_list_get_bytes (TsStepList *self, guint i, gsize *out_size, guint32 *out_offset,
                        guint32 *out_len)
{
  const TsTimelineEvent *ev = ts_step_list_get_event (self, i);
  const Packet *p;

  *out_size = 0;
  if (out_offset)
    *out_offset = 0;
  if (out_len)
    *out_len = 0;
  if (ev == NULL || ev->packet == G_MAXUINT32 || ev->packet >= self->packets->len)
    return NULL;
  p = &g_array_index (self->packets, Packet, ev->packet);
  *out_size = p->caplen;
  if (!p->in_store)
    {
      if (out_offset)
        *out_offset = MIN (ev->byte_offset, p->caplen);
      if (out_len)
        *out_len
            = ev->byte_offset < p->caplen ? MIN (ev->byte_len, p->caplen - ev->byte_offset) : 0;
      return (const guint8 *)g_bytes_get_data (self->file, NULL) + p->offset;
    }
  if (out_offset)
    *out_offset = MIN (ev->byte_offset, p->caplen);
  if (out_len)
    *out_len = ev->byte_offset < p->caplen ? MIN (ev->byte_len, p->caplen - ev->byte_offset) : 0;
  return self->store->data + p->offset;
}

gboolean
ts_step_list_can_read (TsStepList *self, guint i, int reader)
{
  const TsTimeline *tl = ts_analyzer_get_timeline (self->analyzer);
  const TsTimelineEvent *ev = ts_step_list_get_event (self, i);

  if (ev == NULL)
    return FALSE;
  if (reader == TS_STEP_READER_EVERYONE)
    return TRUE;
  if (reader == TS_STEP_READER_OBSERVER)
    return ts_timeline_event_read_as (tl, ev, TS_RENDER_AS_OBSERVER);
  if (reader < 0 || (guint)reader >= ts_timeline_get_n_nodes (tl))
    return FALSE;
  return ts_timeline_event_readable_by (tl, ev, reader);
}

char *
ts_step_list_dup_summary_as (TsStepList *self, guint i, int reader)
{
  const TsTimeline *tl = ts_analyzer_get_timeline (self->analyzer);
  const TsTimelineEvent *ev = ts_step_list_get_event (self, i);

  if (ev == NULL)
    return g_strdup ("");
  if (ts_step_list_can_read (self, i, reader))
    return ts_timeline_event_dup_summary (tl, ev);
  if (ev->layer == TS_LAYER_LAB)
    {
      const char *who = ev->src >= 0 ? ts_timeline_get_node (tl, ev->src)->name : "another node";
      return g_strdup_printf ("(a decision inside %s)", who);
    }
  /* "Encrypted" only for what is: a cleartext message on a link this
   * party is not on (the proxy's own ClientHello to the server, as the
   * client sees it) is out of its sight, not encrypted. */
  if (ev->encrypted)
    return g_strdup_printf ("encrypted, %" G_GUINT64_FORMAT " bytes", ev->wire_len);
  /* Sent to this node, but blocked or dropped on the way. */
  if (reader >= 0 && ev->dst == reader && !ts_timeline_event_seen_by (tl, ev, reader))
    return g_strdup_printf ("%s, %" G_GUINT64_FORMAT " bytes (never reached %s)",
                            ts_layer_to_string (ev->layer), ev->wire_len,
                            ts_timeline_get_node (tl, (guint)reader)->name);
  if (reader >= 0 && (guint)reader < ts_timeline_get_n_nodes (tl)
      && !ts_timeline_event_seen_by (tl, ev, reader))
    return g_strdup_printf ("%s, %" G_GUINT64_FORMAT " bytes (not on %s's path)",
                            ts_layer_to_string (ev->layer), ev->wire_len,
                            ts_timeline_get_node (tl, (guint)reader)->name);
  return g_strdup_printf ("%s, %" G_GUINT64_FORMAT " bytes (not readable here)",
                          ts_layer_to_string (ev->layer), ev->wire_len);
}

const char *
ts_step_list_node_role (TsStepList *self, guint node)
{
  const TsTimeline *tl = ts_analyzer_get_timeline (self->analyzer);
  const TsTimelineNode *n;

  if (node >= ts_timeline_get_n_nodes (tl))
    return "host";
  n = ts_timeline_get_node (tl, node);
  return n->role && *n->role ? n->role : "host";
}

static void field (GArray *out, guint depth, guint32 offset, guint32 len, const char *format, ...)
    G_GNUC_PRINTF (5, 6);

static void
field (GArray *out, guint depth, guint32 offset, guint32 len, const char *format, ...)
{
  TsStepField f = { depth, NULL, offset, len, FALSE };
  va_list ap;

  va_start (ap, format);
  f.label = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_array_append_val (out, f);
}

static void
clear_field (gpointer p)
{
  g_free (((TsStepField *)p)->label);
}

/* The window field of TCP segment @p of @ev's connection: as sent, and in
 * bytes where both ends sent a window scale in their SYNs (RFC 7323 §2.2:
 * each end shifts the windows it sends by the count it announced; never
 * in a SYN). */
static void
window_field (GArray *out, const TsTimeline *tl, const TsTimelineEvent *ev, const TsPacket *p)
{
  const TsTimelineConn *c = ev->conn >= 0 && (guint)ev->conn < ts_timeline_get_n_conns (tl)
                                ? ts_timeline_get_conn (tl, (guint)ev->conn)
                                : NULL;
  const char *colon = c != NULL && c->client_addr != NULL ? strrchr (c->client_addr, ':') : NULL;
  gboolean from_client;
  gint16 shift;

  if (c == NULL || colon == NULL || (p->tcp_flags & TS_TCP_SYN) || c->wscale[0] < 0
      || c->wscale[1] < 0)
    {
      field (out, 2, p->l4_offset + 14, 2, "Window: %u", p->tcp_window);
      return;
    }
  from_client = g_ascii_strtoull (colon + 1, NULL, 10) == p->src_port;
  shift = MIN (c->wscale[from_client ? 0 : 1], 14);
  field (out, 2, p->l4_offset + 14, 2, "Window: %u × %u = %" G_GUINT64_FORMAT " bytes (scaled)",
         p->tcp_window, 1u << shift, (guint64)p->tcp_window << shift);
}

GArray *
ts_step_list_dup_fields (TsStepList *self, guint i)
{
  GArray *out = g_array_new (FALSE, TRUE, sizeof (TsStepField));
  const TsTimeline *tl = ts_analyzer_get_timeline (self->analyzer);
  const TsTimelineEvent *ev;
  const TsTimelineDetail *detail;
  const guint8 *frame;
  gsize size = 0;
  guint32 off = 0, len = 0;
  guint content_start;

  g_array_set_clear_func (out, clear_field);
  ev = ts_step_list_get_event (self, i);
  if (ev == NULL)
    return out;
  frame = ts_step_list_get_bytes (self, i, &size, &off, &len);
  if (frame != NULL)
    {
      const Packet *pk = &g_array_index (self->packets, Packet, ev->packet);
      const char *link = ev->link >= 0 ? ts_timeline_get_link (tl, ev->link)->name : "?";
      TsPacket p;
      gssize r = ts_packet_decode (pk->linktype, frame, size, &p);
      char a[64], b[64], flags[48];

      /* Numbered as Wireshark numbers it (the trace opens there too); the
       * packet's own number where they differ (Wireshark counts the lab's
       * events as frames). */
      if (pk->frame != ev->packet + 1)
        field (out, 0, 0, (guint32)size,
               "Frame %u (packet %u): %" G_GSIZE_FORMAT " bytes captured on %s", pk->frame,
               ev->packet + 1, size, link);
      else
        field (out, 0, 0, (guint32)size, "Frame %u: %" G_GSIZE_FORMAT " bytes captured on %s",
               pk->frame, size, link);
      if (r >= 0 && p.ip_offset > 0 && p.ifindex >= 0)
        field (out, 1, 0, p.ip_offset, "Link layer: %s, interface index %d",
               ts_linktype_to_string (pk->linktype), p.ifindex);
      else if (r >= 0 && p.ip_offset > 0 && ts_linktype_to_string (pk->linktype) != NULL)
        field (out, 1, 0, p.ip_offset, "Link layer: %s", ts_linktype_to_string (pk->linktype));
      if (r >= 0 && p.ip_version != 0)
        {
          ts_address_to_string (&p.src, a, sizeof a);
          ts_address_to_string (&p.dst, b, sizeof b);
          field (out, 1, p.ip_offset, p.l4_offset - p.ip_offset,
                 "Internet Protocol version %u, %s → %s", p.ip_version, a, b);
          if (p.ip_proto == TS_IPPROTO_TCP)
            {
              ts_tcp_flags_to_string (p.tcp_flags, flags, sizeof flags);
              field (out, 1, p.l4_offset, p.payload_offset - p.l4_offset,
                     "Transmission Control Protocol, %u → %u [%s]", p.src_port, p.dst_port, flags);
              field (out, 2, p.l4_offset + 4, 4, "Sequence number: %u", p.tcp_seq);
              field (out, 2, p.l4_offset + 8, 4, "Acknowledgement number: %u", p.tcp_ack);
              field (out, 2, p.l4_offset + 13, 1, "Flags: %s", flags);
              window_field (out, tl, ev, &p);
            }
          else if (p.ip_proto == TS_IPPROTO_UDP)
            field (out, 1, p.l4_offset, 8, "User Datagram Protocol, %u → %u", p.src_port,
                   p.dst_port);
          if (p.payload_len > 0)
            field (out, 1, p.payload_offset, p.payload_len, "Payload, %u bytes", p.payload_len);
        }
      else if (r < 0)
        field (out, 1, 0, (guint32)size, "Headers cut short or malformed");
    }
  /* The analyzer's view of the event: what it is, then its detail tree. */
  content_start = out->len;
  field (out, 0, off, len, "%s: %s%s", ts_layer_to_string (ev->layer), ev->summary,
         ev->decrypted ? " (decrypted)" : "");
  detail = ev->n_detail > 0 ? ts_timeline_get_detail (tl, ev->detail_first) : NULL;
  for (guint k = 0; detail && k < ev->n_detail; k++)
    field (out, detail[k].depth + 1, off, len, "%s", detail[k].text);
  if (ev->phase != TS_PHASE_NONE)
    field (out, 1, 0, 0, "Phase: %s", ts_phase_to_string (ev->phase));
  if (ev->tunnel >= 0)
    {
      const TsTimelineTunnel *t = ts_timeline_get_tunnel (tl, ev->tunnel);
      field (out, 1, 0, 0, "Tunnel %d to %s (%s)", ev->tunnel, t->target ? t->target : "?",
             ts_tunnel_mode_to_string (t->mode));
    }
  {
    g_autoptr (GString) who = g_string_new (NULL);
    for (guint r = 0; r < ts_timeline_get_n_readers (tl) && r < 64; r++)
      if (ev->readers & (G_GUINT64_CONSTANT (1) << r))
        {
          g_autofree char *name = ts_timeline_dup_reader_name (tl, r);
          g_string_append_printf (who, "%s%s", who->len ? ", " : "", name);
        }
    field (out, 1, 0, 0, "Readable by: %s", who->len ? who->str : "nobody on this path");
  }
  for (guint k = content_start; k < out->len; k++)
    g_array_index (out, TsStepField, k).content = TRUE;
  return out;
}

/* Leading bits @a and @b have in common (same family), or -1. */
static int
common_prefix_bits (GInetAddress *a, GInetAddress *b)
{
  const guint8 *x, *y;
  gsize n;
  int bits = 0;

  if (g_inet_address_get_family (a) != g_inet_address_get_family (b))
    return -1;
  n = g_inet_address_get_native_size (a);
  x = g_inet_address_to_bytes (a);
  y = g_inet_address_to_bytes (b);
  for (gsize i = 0; i < n; i++)
    {
      guint8 d = x[i] ^ y[i];
      if (d == 0)
        {
          bits += 8;
          continue;
        }
      while ((d & 0x80) == 0)
        {
          bits++;
          d <<= 1;
        }
      break;
    }
  return bits;
}

gint
ts_step_list_address_side (TsStepList *self, guint node, const char *address)
{
  const TsTimeline *tl = ts_analyzer_get_timeline (self->analyzer);
  g_autoptr (GInetAddress) addr = g_inet_address_new_from_string (address);
  gint best = -1;
  int best_bits = -1;

  if (addr == NULL)
    return -1;
  /* Addresses on one link share its prefix (the lab's, and most
   * networks'): the neighbour across the link with the most in common. */
  for (guint l = 0; l < ts_timeline_get_n_links (tl); l++)
    {
      const TsTimelineLink *link = ts_timeline_get_link (tl, l);
      gint other = link->a == (gint)node ? link->b : link->b == (gint)node ? link->a : -1;
      const TsTimelineNode *n;

      if (other < 0 || (guint)other >= ts_timeline_get_n_nodes (tl))
        continue;
      n = ts_timeline_get_node (tl, (guint)other);
      for (guint k = 0; n->addresses && k < n->addresses->len; k++)
        {
          g_autoptr (GInetAddress) theirs = g_inet_address_new_from_string (n->addresses->pdata[k]);
          int bits = theirs ? common_prefix_bits (addr, theirs) : -1;
          if (bits > best_bits)
            {
              best_bits = bits;
              best = other;
            }
        }
    }
  return best;
}

guint64
ts_step_list_get_first_wire_time (TsStepList *self)
{
  for (guint i = 0; i < ts_step_list_get_n_steps (self); i++)
    if (ts_step_list_get_event (self, i)->layer != TS_LAYER_LAB)
      return ts_step_list_get_event (self, i)->time_ns;
  return ts_step_list_get_n_steps (self) ? ts_step_list_get_event (self, 0)->time_ns : 0;
}

guint64
ts_step_list_get_origin_ns (TsStepList *self)
{
  return ts_timeline_get_origin_ns (ts_analyzer_get_timeline (self->analyzer));
}
