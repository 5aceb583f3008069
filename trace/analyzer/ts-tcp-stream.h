/* ts-tcp-stream.h: one direction of a TCP connection, reassembled into an
 * ordered byte stream.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Segments are added as they were captured: in order, out of order,
 * retransmitted or overlapping. Bytes are delivered to the callback exactly
 * once, in stream order, starting at stream offset 0 (the byte after the
 * SYN). Out-of-order bytes wait, copied, until the hole before them fills;
 * at most TS_TCP_STREAM_MAX_PENDING bytes wait: past that, or when the
 * stream is flushed at its end, the hole is declared lost and delivered as a
 * gap (data == NULL), so the consumer knows it skipped bytes.
 *
 * Where bytes overlap, the first copy seen wins; a later copy that differs
 * is counted (a conflicting retransmission is an anomaly, often an attack).
 *
 * Every delivered range remembers the packet it came from, so a stream
 * offset maps back to a packet and a byte range (ts_tcp_stream_lookup ()).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Cap: out-of-order bytes held per direction before a hole is given up. */
#define TS_TCP_STREAM_MAX_PENDING (4 * 1024 * 1024)
/* Cap: out-of-order segments held per direction. */
#define TS_TCP_STREAM_MAX_PENDING_SEGMENTS 4096

/* Called for every delivered range. @data is NULL for a gap (lost bytes).
 * @packet and @packet_offset say where the first byte of @data sits in the
 * capture (G_MAXUINT32 for a gap). */
typedef void (*TsTcpStreamDeliverFunc) (gpointer user_data, guint64 stream_offset,
                                        const guint8 *data, gsize len, guint32 packet,
                                        guint32 packet_offset);

/* A delivered range and where it came from. */
typedef struct
{
  guint64 stream_offset;
  guint32 len;
  guint32 packet;        /* packet index, G_MAXUINT32 for a gap */
  guint32 packet_offset; /* byte offset of the range's first byte inside that packet */
} TsTcpSpan;

typedef struct _TsTcpStream TsTcpStream;

TsTcpStream *ts_tcp_stream_new (TsTcpStreamDeliverFunc deliver, gpointer user_data);
void ts_tcp_stream_free (TsTcpStream *self);

/* Declares the sequence number of the SYN; stream offset 0 is @syn_seq + 1.
 * A stream that never saw its SYN (capture started mid-connection) starts
 * at the first segment added, and ts_tcp_stream_get_mid_stream () says so. */
void ts_tcp_stream_set_syn (TsTcpStream *self, guint32 syn_seq);

/* Adds a segment: @seq is its sequence number, @data its payload (may be
 * empty), @fin whether it carries FIN. @packet and @packet_offset locate
 * @data in the capture. */
void ts_tcp_stream_add (TsTcpStream *self, guint32 seq, const guint8 *data, gsize len, gboolean fin,
                        guint32 packet, guint32 packet_offset);

/* ACKs from the peer that acknowledge bytes past a hole, before the hole is
 * filled, that make the hole a gap (the peer got bytes the capture lost). */
#define TS_TCP_STREAM_ACKS_FOR_GAP 3

/* The peer acknowledged everything before @ack. Once it has done so past a
 * hole TS_TCP_STREAM_ACKS_FOR_GAP times, the hole is given up as a gap, so a
 * lost segment does not hold the stream back until the connection ends. */
void ts_tcp_stream_acked (TsTcpStream *self, guint32 ack);

/* Declares @len bytes at @seq that were on the wire but not captured (a
 * frame cut by the snap length): they are delivered as a gap in their turn. */
void ts_tcp_stream_add_lost (TsTcpStream *self, guint32 seq, gsize len, guint32 packet);

/* Gives up on every hole: waiting bytes are delivered after gaps. Call at
 * reset, and at the end of the trace. */
void ts_tcp_stream_flush (TsTcpStream *self);

/* The stream offset delivered so far. */
guint64 ts_tcp_stream_get_delivered (const TsTcpStream *self);
/* Bytes waiting out of order. */
gsize ts_tcp_stream_get_pending (const TsTcpStream *self);
/* TRUE once FIN was seen and every byte before it delivered. */
gboolean ts_tcp_stream_is_finished (const TsTcpStream *self);
gboolean ts_tcp_stream_get_mid_stream (const TsTcpStream *self);
/* Counters: bytes seen again (retransmitted or overlapping), of those the
 * bytes that differed from the first copy, bytes lost (in gaps), segments
 * that arrived out of order. */
guint64 ts_tcp_stream_get_retransmitted (const TsTcpStream *self);
guint64 ts_tcp_stream_get_conflicting (const TsTcpStream *self);
guint64 ts_tcp_stream_get_lost (const TsTcpStream *self);
guint64 ts_tcp_stream_get_out_of_order (const TsTcpStream *self);

/* Where stream byte @offset came from: FALSE when not delivered yet or in a
 * gap. */
gboolean ts_tcp_stream_lookup (const TsTcpStream *self, guint64 offset, guint32 *out_packet,
                               guint32 *out_packet_offset);
/* The delivered span holding stream byte @offset (a gap's span too), or
 * NULL. Borrowed, valid until the next add. */
const TsTcpSpan *ts_tcp_stream_lookup_span (const TsTcpStream *self, guint64 offset);
/* The delivered spans, in order (borrowed, valid until the next add). */
const TsTcpSpan *ts_tcp_stream_get_spans (const TsTcpStream *self, guint *out_n_spans);

/* The sequence number of stream offset @offset in *@out_seq: FALSE while
 * the start of the stream is unknown. */
gboolean ts_tcp_stream_get_seq_of (const TsTcpStream *self, guint64 offset, guint32 *out_seq);

/* Stream offset of sequence number @seq (for ACKs and lookups). */
guint64 ts_tcp_stream_offset_of (const TsTcpStream *self, guint32 seq);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TsTcpStream, ts_tcp_stream_free)

G_END_DECLS
