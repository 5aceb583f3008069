/* fuzz-tcp.c: libFuzzer target for the packet decoder and TCP reassembly.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The input is a script of segments: flags (1 byte: bit 0 direction, bit 1
 * SYN, bit 2 FIN, bit 3 flush, bit 4 the sequence number is an ACK instead), sequence number (4),
 * length (2, capped by what is left), then the payload. Every delivery must start where the
 * previous one ended. The whole input is also decoded as a frame of each
 * link type. */
#include "config.h"

#include <string.h>

#include "ts-packet.h"
#include "ts-tcp-stream.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

typedef struct
{
  guint64 next;
} Sink;

static void
deliver (gpointer user_data, guint64 offset, const guint8 *d, gsize len, guint32 packet,
         guint32 packet_offset)
{
  Sink *s = user_data;

  g_assert (offset == s->next);
  g_assert (len > 0);
  if (d != NULL)
    {
      volatile guint8 x = d[0] ^ d[len - 1]; /* touch both ends for ASan */
      (void)x;
    }
  s->next += len;
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  static const guint linktypes[] = { TS_LINKTYPE_EN10MB,
                                     TS_LINKTYPE_SLL,
                                     TS_LINKTYPE_SLL2,
                                     TS_LINKTYPE_RAW_IP,
                                     TS_LINKTYPE_NULL_BSD,
                                     TS_LINKTYPE_LOOP,
                                     12345 };
  Sink sinks[2] = { { 0 }, { 0 } };
  TsTcpStream *s[2];
  gsize at = 0;
  guint32 packet = 0;

  for (gsize i = 0; i < G_N_ELEMENTS (linktypes); i++)
    {
      TsPacket p;
      gssize r = ts_packet_decode (linktypes[i], data, size, &p);
      if (r >= 0)
        g_assert ((gsize)p.payload_offset + p.payload_len <= size);
    }

  s[0] = ts_tcp_stream_new (deliver, &sinks[0]);
  s[1] = ts_tcp_stream_new (deliver, &sinks[1]);
  while (at + 7 <= size)
    {
      guint8 flags = data[at];
      guint32 seq = (guint32)data[at + 1] << 24 | (guint32)data[at + 2] << 16
                    | (guint32)data[at + 3] << 8 | data[at + 4];
      gsize len = (gsize)(data[at + 5] << 8 | data[at + 6]);
      int dir = flags & 1;

      at += 7;
      len = MIN (len, size - at);
      if (flags & 2)
        ts_tcp_stream_set_syn (s[dir], seq);
      if (flags & 16)
        ts_tcp_stream_acked (s[dir], seq);
      else
        ts_tcp_stream_add (s[dir], seq, data + at, len, (flags & 4) != 0, packet++, (guint32)at);
      if (flags & 8)
        ts_tcp_stream_flush (s[dir]);
      g_assert (ts_tcp_stream_get_pending (s[dir]) <= TS_TCP_STREAM_MAX_PENDING + 65535);
      g_assert (ts_tcp_stream_get_delivered (s[dir]) == sinks[dir].next);
      at += len;
    }
  for (int d = 0; d < 2; d++)
    {
      ts_tcp_stream_flush (s[d]);
      g_assert (ts_tcp_stream_get_pending (s[d]) == 0);
      ts_tcp_stream_free (s[d]);
    }
  return 0;
}
