/* ts-test-frames.c: builds Ethernet/IPv4/TCP and UDP frames with valid checksums for tests.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ts-test-frames.h"

static guint32
sum16 (const guint8 *data, gsize len, guint32 sum)
{
  for (gsize i = 0; i + 1 < len; i += 2)
    sum += (guint32)(data[i] << 8 | data[i + 1]);
  if (len % 2 == 1)
    sum += (guint32)data[len - 1] << 8;
  return sum;
}

static guint16
fold (guint32 sum)
{
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return (guint16)~sum;
}

/* An Ethernet frame with an IPv4 header of @flow for @proto and @l4_len
 * bytes after it (zeroed); returns the frame, *out_l4 at its layer 4. */
static guint8 *
ipv4_frame (const TsTestFlow *flow, guint8 proto, gsize l4_len, guint8 **out_l4)
{
  gsize ip_len = 20 + l4_len;
  guint8 *frame = g_malloc0 (14 + ip_len);
  guint8 *ip = frame + 14;
  guint16 check;

  memcpy (frame, flow->dst_mac, 6);
  memcpy (frame + 6, flow->src_mac, 6);
  frame[12] = 0x08;
  frame[13] = 0x00;

  ip[0] = 0x45;
  ip[2] = (guint8)(ip_len >> 8);
  ip[3] = (guint8)ip_len;
  ip[6] = 0x40; /* DF */
  ip[8] = 64;
  ip[9] = proto;
  memcpy (ip + 12, flow->src_ip, 4);
  memcpy (ip + 16, flow->dst_ip, 4);
  check = fold (sum16 (ip, 20, 0));
  ip[10] = (guint8)(check >> 8);
  ip[11] = (guint8)check;
  *out_l4 = ip + 20;
  return frame;
}

GBytes *
ts_test_udp_frame (const TsTestFlow *flow, const guint8 *payload, gsize len)
{
  guint8 *udp;
  guint8 *frame = ipv4_frame (flow, 17, 8 + len, &udp);

  udp[0] = (guint8)(flow->src_port >> 8);
  udp[1] = (guint8)flow->src_port;
  udp[2] = (guint8)(flow->dst_port >> 8);
  udp[3] = (guint8)flow->dst_port;
  udp[4] = (guint8)((8 + len) >> 8);
  udp[5] = (guint8)(8 + len);
  /* Checksum 0: none (RFC 768). */
  if (len > 0)
    memcpy (udp + 8, payload, len);
  return g_bytes_new_take (frame, 14 + 20 + 8 + len);
}

GBytes *
ts_test_tcp_frame (TsTestFlow *flow, guint8 flags, const guint8 *payload, gsize len)
{
  gsize ip_len = 20 + 20 + len;
  guint8 *tcp;
  guint8 *frame = ipv4_frame (flow, 6, 20 + len, &tcp);
  guint8 pseudo[12];
  guint32 sum;
  guint16 check;

  tcp[0] = (guint8)(flow->src_port >> 8);
  tcp[1] = (guint8)flow->src_port;
  tcp[2] = (guint8)(flow->dst_port >> 8);
  tcp[3] = (guint8)flow->dst_port;
  tcp[4] = (guint8)(flow->seq >> 24);
  tcp[5] = (guint8)(flow->seq >> 16);
  tcp[6] = (guint8)(flow->seq >> 8);
  tcp[7] = (guint8)flow->seq;
  if (flags & 0x10)
    {
      tcp[8] = (guint8)(flow->ack >> 24);
      tcp[9] = (guint8)(flow->ack >> 16);
      tcp[10] = (guint8)(flow->ack >> 8);
      tcp[11] = (guint8)flow->ack;
    }
  tcp[12] = 5 << 4;
  tcp[13] = flags;
  tcp[14] = 0xff;
  tcp[15] = 0xff;
  if (len > 0)
    memcpy (tcp + 20, payload, len);

  memcpy (pseudo, flow->src_ip, 4);
  memcpy (pseudo + 4, flow->dst_ip, 4);
  pseudo[8] = 0;
  pseudo[9] = 6;
  pseudo[10] = (guint8)((20 + len) >> 8);
  pseudo[11] = (guint8)(20 + len);
  sum = sum16 (pseudo, 12, 0);
  sum = sum16 (tcp, 20 + len, sum);
  check = fold (sum);
  tcp[16] = (guint8)(check >> 8);
  tcp[17] = (guint8)check;

  flow->seq += (guint32)len + ((flags & 0x03) ? 1 : 0); /* SYN and FIN count one */
  return g_bytes_new_take (frame, 14 + ip_len);
}

static void
parse_ip (const char *text, guint8 out[4])
{
  guint a = 0, b = 0, c = 0, d = 0;

  g_assert_cmpint (sscanf (text, "%u.%u.%u.%u", &a, &b, &c, &d), ==, 4);
  out[0] = (guint8)a;
  out[1] = (guint8)b;
  out[2] = (guint8)c;
  out[3] = (guint8)d;
}

void
ts_test_flow_pair (TsTestFlow *a_to_b, TsTestFlow *b_to_a, const char *a_ip, guint16 a_port,
                   const char *b_ip, guint16 b_port)
{
  static const guint8 mac_a[6] = { 0x02, 0, 0, 0, 0, 0x0a };
  static const guint8 mac_b[6] = { 0x02, 0, 0, 0, 0, 0x0b };

  memset (a_to_b, 0, sizeof *a_to_b);
  memset (b_to_a, 0, sizeof *b_to_a);
  memcpy (a_to_b->src_mac, mac_a, 6);
  memcpy (a_to_b->dst_mac, mac_b, 6);
  memcpy (b_to_a->src_mac, mac_b, 6);
  memcpy (b_to_a->dst_mac, mac_a, 6);
  parse_ip (a_ip, a_to_b->src_ip);
  parse_ip (b_ip, a_to_b->dst_ip);
  parse_ip (b_ip, b_to_a->src_ip);
  parse_ip (a_ip, b_to_a->dst_ip);
  a_to_b->src_port = b_to_a->dst_port = a_port;
  a_to_b->dst_port = b_to_a->src_port = b_port;
  a_to_b->seq = 1000;
  b_to_a->seq = 5000;
}

/* A TLS 1.3 ClientHello record with @sni and a random filled with @seed. */
GByteArray *
ts_test_client_hello (const char *sni, guint8 seed)
{
  GByteArray *b = g_byte_array_new ();
  gsize n = strlen (sni);
  guint8 rnd[32];
  guint16 sni_ext = (guint16)(n + 5), exts = (guint16)(4 + sni_ext + 4 + 3);
  guint32 body = 2 + 32 + 1 + 2 + 2 + 2 + 2 + exts;

  for (int i = 0; i < 32; i++)
    rnd[i] = (guint8)(seed + i);
  g_byte_array_append (
      b, (guint8[]){ 0x16, 0x03, 0x01, (guint8)((body + 4) >> 8), (guint8)(body + 4) }, 5);
  g_byte_array_append (b, (guint8[]){ 0x01, 0, (guint8)(body >> 8), (guint8)body, 0x03, 0x03 }, 6);
  g_byte_array_append (b, rnd, 32);
  g_byte_array_append (
      b, (guint8[]){ 0, 0, 2, 0x13, 0x01, 1, 0, (guint8)(exts >> 8), (guint8)exts }, 9);
  g_byte_array_append (b,
                       (guint8[]){ 0, 0, (guint8)(sni_ext >> 8), (guint8)sni_ext,
                                   (guint8)((n + 3) >> 8), (guint8)(n + 3), 0, (guint8)(n >> 8),
                                   (guint8)n },
                       9);
  g_byte_array_append (b, (const guint8 *)sni, (guint)n);
  g_byte_array_append (b, (guint8[]){ 0, 0x2b, 0, 3, 2, 0x03, 0x04 }, 7);
  return b;
}

GBytes *
ts_test_sll2_frame (GBytes *frame, gint32 ifindex)
{
  gsize len;
  const guint8 *eth = g_bytes_get_data (frame, &len);
  GByteArray *b = g_byte_array_new ();
  guint8 h[20] = { 0 };
  guint32 be = GUINT32_TO_BE ((guint32)ifindex);

  g_assert (len >= 14);
  memcpy (h, eth + 12, 2);     /* protocol: the EtherType */
  memcpy (h + 4, &be, 4);      /* interface index */
  h[9] = 1;                    /* ARPHRD_ETHER */
  h[11] = 6;                   /* address length */
  memcpy (h + 12, eth + 6, 6); /* the sender's MAC */
  g_byte_array_append (b, h, sizeof h);
  g_byte_array_append (b, eth + 14, (guint)(len - 14));
  return g_byte_array_free_to_bytes (b);
}

gsize
ts_test_pcapng_block_at (const guint8 *data, gsize len, gsize at)
{
  gsize pos = 0;

  for (;;)
    {
      guint32 total;

      g_assert_cmpuint (pos + 8, <=, len);
      memcpy (&total, data + pos + 4, 4);
      g_assert_cmpuint (total, >=, 12);
      if (pos + total > at)
        return pos;
      pos += total;
    }
}
