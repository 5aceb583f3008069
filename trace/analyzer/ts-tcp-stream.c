/* ts-tcp-stream.c: per-direction TCP reassembly.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "ts-tcp-stream.h"

#include <string.h>

typedef struct
{
  guint64 offset;
  guint8 *data;
  guint32 len;
  guint32 packet;
  guint32 packet_offset;
} Pending;

struct _TsTcpStream
{
  TsTcpStreamDeliverFunc deliver;
  gpointer user_data;
  gboolean have_base;
  gboolean mid_stream;
  guint32 base_seq;    /* sequence number of stream offset 0 */
  guint64 next;        /* next offset to deliver */
  guint64 last_offset; /* last offset seen, to unwrap sequence numbers */
  gboolean fin_seen;
  guint64 fin_offset;
  GArray *pending; /* Pending, sorted by offset, non-overlapping */
  gsize pending_bytes;
  GArray *spans;   /* TsTcpSpan */
  guint span_hint; /* where the last lookup landed: lookups mostly walk forward */
  guint64 hole_at; /* next, when the peer's ACKs were first seen past it */
  guint acks_past_hole;
  guint64 retransmitted;
  guint64 conflicting;
  guint64 lost;
  guint64 out_of_order;
};

TsTcpStream *
ts_tcp_stream_new (TsTcpStreamDeliverFunc deliver, gpointer user_data)
{
  TsTcpStream *self = g_new0 (TsTcpStream, 1);

  self->deliver = deliver;
  self->user_data = user_data;
  self->pending = g_array_new (FALSE, FALSE, sizeof (Pending));
  self->spans = g_array_new (FALSE, FALSE, sizeof (TsTcpSpan));
  return self;
}

void
ts_tcp_stream_free (TsTcpStream *self)
{
  if (self == NULL)
    return;
  for (guint i = 0; i < self->pending->len; i++)
    g_free (g_array_index (self->pending, Pending, i).data);
  g_array_unref (self->pending);
  g_array_unref (self->spans);
  g_free (self);
}

void
ts_tcp_stream_set_syn (TsTcpStream *self, guint32 syn_seq)
{
  g_return_if_fail (self != NULL);
  if (self->have_base)
    return; /* a retransmitted SYN, or one after data: keep the first base */
  self->have_base = TRUE;
  self->base_seq = syn_seq + 1;
}

guint64
ts_tcp_stream_offset_of (const TsTcpStream *self, guint32 seq)
{
  /* Sequence numbers wrap at 2^32: take the offset within 2^31 of the
   * furthest offset seen. */
  guint64 ref = self->last_offset;
  gint32 diff = (gint32)(seq - (guint32)(self->base_seq + (guint32)ref));
  gint64 cand = (gint64)ref + diff;

  if (cand < 0)
    return G_MAXUINT64; /* before the stream (a SYN retransmission) */
  return (guint64)cand;
}

gboolean
ts_tcp_stream_get_seq_of (const TsTcpStream *self, guint64 offset, guint32 *out_seq)
{
  if (!self->have_base)
    return FALSE;
  *out_seq = self->base_seq + (guint32)offset;
  return TRUE;
}

static void
emit (TsTcpStream *self, const guint8 *data, gsize len, guint32 packet, guint32 packet_offset)
{
  TsTcpSpan span = { self->next, (guint32)len, packet, packet_offset };
  guint64 at = self->next;

  if (len == 0)
    return;
  if (data == NULL)
    {
      span.packet = G_MAXUINT32;
      span.packet_offset = 0;
      self->lost += len;
    }
  g_array_append_val (self->spans, span);
  self->next += len;
  if (self->deliver != NULL)
    self->deliver (self->user_data, at, data, len, span.packet, span.packet_offset);
}

/* Compares the part of a new copy that overlaps a held segment. */
static void
count_overlap (TsTcpStream *self, const guint8 *a, const guint8 *b, gsize n)
{
  self->retransmitted += n;
  if (a == NULL || b == NULL)
    return; /* a copy that was not captured: nothing to compare */
  if (memcmp (a, b, n) != 0)
    {
      for (gsize i = 0; i < n; i++)
        if (a[i] != b[i])
          self->conflicting++;
    }
}

static void
drain (TsTcpStream *self)
{
  while (self->pending->len > 0)
    {
      Pending *p = &g_array_index (self->pending, Pending, 0);
      guint64 end = p->offset + p->len;

      if (p->offset > self->next)
        break;
      if (end > self->next)
        {
          gsize skip = (gsize)(self->next - p->offset);
          emit (self, p->data ? p->data + skip : NULL, p->len - skip, p->packet,
                p->packet_offset + (guint32)skip);
        }
      self->pending_bytes -= p->len;
      g_free (p->data);
      g_array_remove_index (self->pending, 0);
    }
}

/* Gives up the first hole: a gap up to the first waiting segment. */
static void
skip_hole (TsTcpStream *self)
{
  Pending *p;

  if (self->pending->len == 0)
    return;
  p = &g_array_index (self->pending, Pending, 0);
  if (p->offset > self->next)
    emit (self, NULL, (gsize)(p->offset - self->next), G_MAXUINT32, 0);
  drain (self);
}

/* Inserts [offset, offset+len) into the pending list, keeping only the parts
 * no held segment covers yet. */
static void
hold (TsTcpStream *self, guint64 offset, const guint8 *data, gsize len, guint32 packet,
      guint32 packet_offset)
{
  guint i = 0;

  while (len > 0)
    {
      Pending *p = NULL;
      guint64 end = offset + len;

      /* First held segment that ends after @offset. */
      while (i < self->pending->len)
        {
          p = &g_array_index (self->pending, Pending, i);
          if (p->offset + p->len > offset)
            break;
          i++;
          p = NULL;
        }
      if (p != NULL && p->offset <= offset)
        {
          /* Overlaps the start of a held segment's range: step over it. */
          gsize n = (gsize)MIN (end, p->offset + p->len) - (gsize)offset;
          count_overlap (self, p->data ? p->data + (offset - p->offset) : NULL, data, n);
          offset += n;
          if (data != NULL)
            data += n;
          len -= n;
          packet_offset += (guint32)n;
          i++;
          continue;
        }
      {
        /* Insert the part before the next held segment (or all of it). */
        gsize n = p != NULL ? (gsize)MIN (end, p->offset) - (gsize)offset : len;
        Pending np
            = { offset, data ? g_memdup2 (data, n) : NULL, (guint32)n, packet, packet_offset };

        if (self->pending->len >= TS_TCP_STREAM_MAX_PENDING_SEGMENTS)
          {
            g_free (np.data);
            return;
          }
        g_array_insert_val (self->pending, i, np);
        self->pending_bytes += n;
        offset += n;
        if (data != NULL)
          data += n;
        len -= n;
        packet_offset += (guint32)n;
        i++;
      }
    }
}

void
ts_tcp_stream_add (TsTcpStream *self, guint32 seq, const guint8 *data, gsize len, gboolean fin,
                   guint32 packet, guint32 packet_offset)
{
  guint64 offset, end;

  g_return_if_fail (self != NULL);
  g_return_if_fail (data != NULL || len == 0);

  if (!self->have_base)
    {
      if (len == 0 && !fin)
        return; /* a bare ACK tells nothing about where the stream starts */
      self->have_base = TRUE;
      self->mid_stream = TRUE;
      self->base_seq = seq;
    }
  offset = ts_tcp_stream_offset_of (self, seq);
  if (offset == G_MAXUINT64)
    {
      self->retransmitted += len;
      return;
    }
  end = offset + len;
  if (fin && !self->fin_seen)
    {
      self->fin_seen = TRUE;
      self->fin_offset = end;
    }
  if (len == 0)
    return;
  if (end > self->last_offset)
    self->last_offset = end;

  if (end <= self->next)
    {
      self->retransmitted += len; /* bytes already delivered: cannot compare, not kept */
      return;
    }
  if (offset < self->next)
    {
      gsize skip = (gsize)(self->next - offset);
      self->retransmitted += skip;
      data += skip;
      len -= skip;
      packet_offset += (guint32)skip;
      offset = self->next;
    }
  if (offset == self->next)
    {
      /* Held segments may overlap this one; the held copy came first but
       * this one fills the hole, so deliver it and let drain trim. */
      for (guint i = 0; i < self->pending->len; i++)
        {
          Pending *p = &g_array_index (self->pending, Pending, i);
          guint64 lo = MAX (p->offset, offset), hi = MIN (p->offset + p->len, offset + len);
          if (p->offset >= offset + len)
            break;
          if (hi > lo)
            count_overlap (self, p->data + (lo - p->offset), data + (lo - offset),
                           (gsize)(hi - lo));
        }
      emit (self, data, len, packet, packet_offset);
      drain (self);
      return;
    }

  self->out_of_order++;
  while (self->pending_bytes + len > TS_TCP_STREAM_MAX_PENDING && self->pending->len > 0)
    skip_hole (self);
  if (len > TS_TCP_STREAM_MAX_PENDING || self->pending->len >= TS_TCP_STREAM_MAX_PENDING_SEGMENTS)
    {
      /* Cannot wait for the hole: give it up and take this segment now. */
      skip_hole (self);
      if (offset > self->next)
        emit (self, NULL, (gsize)(offset - self->next), G_MAXUINT32, 0);
      if (offset + len > self->next)
        {
          gsize skip = (gsize)(self->next - offset);
          emit (self, data + skip, len - skip, packet, packet_offset + (guint32)skip);
        }
      drain (self);
      return;
    }
  if (offset < self->next)
    {
      /* skip_hole moved next past part of this segment. */
      gsize skip = (gsize)MIN (self->next - offset, len);
      data += skip;
      len -= skip;
      packet_offset += (guint32)skip;
      offset += skip;
      if (len == 0)
        return;
      if (offset == self->next)
        {
          emit (self, data, len, packet, packet_offset);
          drain (self);
          return;
        }
    }
  hold (self, offset, data, len, packet, packet_offset);
}

void
ts_tcp_stream_acked (TsTcpStream *self, guint32 ack)
{
  guint64 acked;

  g_return_if_fail (self != NULL);
  if (!self->have_base || self->pending->len == 0)
    return;
  acked = ts_tcp_stream_offset_of (self, ack);
  if (acked == G_MAXUINT64 || acked <= self->next || acked > self->last_offset + 1)
    return;
  if (self->hole_at != self->next)
    {
      self->hole_at = self->next;
      self->acks_past_hole = 0;
    }
  /* The peer has the bytes of the hole, so the capture lost them. Captures
   * can show an ACK a little before the segment it acknowledges (reordering
   * on the way to the capture point): wait for a few such ACKs. */
  if (++self->acks_past_hole >= TS_TCP_STREAM_ACKS_FOR_GAP)
    {
      self->acks_past_hole = 0;
      skip_hole (self);
    }
}

void
ts_tcp_stream_add_lost (TsTcpStream *self, guint32 seq, gsize len, guint32 packet)
{
  guint64 offset, end;

  g_return_if_fail (self != NULL);
  if (!self->have_base || len == 0)
    return;
  offset = ts_tcp_stream_offset_of (self, seq);
  if (offset == G_MAXUINT64)
    return;
  end = offset + len;
  if (end > self->last_offset)
    self->last_offset = end;
  if (end <= self->next)
    return;
  if (offset < self->next)
    offset = self->next;
  len = (gsize)(end - offset);
  if (offset == self->next)
    {
      emit (self, NULL, len, G_MAXUINT32, 0);
      drain (self);
      return;
    }
  if (len <= TS_TCP_STREAM_MAX_PENDING && self->pending->len < TS_TCP_STREAM_MAX_PENDING_SEGMENTS)
    hold (self, offset, NULL, len, packet, 0);
}

void
ts_tcp_stream_flush (TsTcpStream *self)
{
  g_return_if_fail (self != NULL);
  while (self->pending->len > 0)
    skip_hole (self);
  if (self->fin_seen && self->fin_offset > self->next)
    emit (self, NULL, (gsize)(self->fin_offset - self->next), G_MAXUINT32, 0);
}

guint64
ts_tcp_stream_get_delivered (const TsTcpStream *self)
{
  return self->next;
}

gsize
ts_tcp_stream_get_pending (const TsTcpStream *self)
{
  return self->pending_bytes;
}

gboolean
ts_tcp_stream_is_finished (const TsTcpStream *self)
{
  return self->fin_seen && self->next >= self->fin_offset;
}

gboolean
ts_tcp_stream_get_mid_stream (const TsTcpStream *self)
{
  return self->mid_stream;
}

guint64
ts_tcp_stream_get_retransmitted (const TsTcpStream *self)
{
  return self->retransmitted;
}

guint64
ts_tcp_stream_get_conflicting (const TsTcpStream *self)
{
  return self->conflicting;
}

guint64
ts_tcp_stream_get_lost (const TsTcpStream *self)
{
  return self->lost;
}

guint64
ts_tcp_stream_get_out_of_order (const TsTcpStream *self)
{
  return self->out_of_order;
}

const TsTcpSpan *
ts_tcp_stream_lookup_span (const TsTcpStream *self, guint64 offset)
{
  guint lo = 0, hi = self->spans->len;
  guint hint = self->span_hint;

  /* The span of the last lookup, or one of the next two, usually holds it. */
  for (guint i = hint; i < hint + 3 && i < self->spans->len; i++)
    {
      const TsTcpSpan *s = &g_array_index (self->spans, TsTcpSpan, i);
      if (offset < s->stream_offset)
        break;
      if (offset < s->stream_offset + s->len)
        {
          ((TsTcpStream *)self)->span_hint = i;
          return s;
        }
    }

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      const TsTcpSpan *s = &g_array_index (self->spans, TsTcpSpan, mid);

      if (offset < s->stream_offset)
        hi = mid;
      else if (offset >= s->stream_offset + s->len)
        lo = mid + 1;
      else
        {
          ((TsTcpStream *)self)->span_hint = mid;
          return s;
        }
    }
  return NULL;
}

gboolean
ts_tcp_stream_lookup (const TsTcpStream *self, guint64 offset, guint32 *out_packet,
                      guint32 *out_packet_offset)
{
  const TsTcpSpan *s = ts_tcp_stream_lookup_span (self, offset);

  if (s == NULL || s->packet == G_MAXUINT32)
    return FALSE;
  if (out_packet)
    *out_packet = s->packet;
  if (out_packet_offset)
    *out_packet_offset = s->packet_offset + (guint32)(offset - s->stream_offset);
  return TRUE;
}

const TsTcpSpan *
ts_tcp_stream_get_spans (const TsTcpStream *self, guint *out_n_spans)
{
  *out_n_spans = self->spans->len;
  return (const TsTcpSpan *)(gpointer)self->spans->data;
}
