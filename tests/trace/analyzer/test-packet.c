/* test-packet.c: link, IP, UDP and TCP header decoding.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "ts-packet.h"

static void
put16 (GByteArray *b, guint16 v)
{
  guint8 x[2] = { v >> 8, v & 0xff };
  g_byte_array_append (b, x, 2);
}

static void
put32 (GByteArray *b, guint32 v)
{
  put16 (b, v >> 16);
  put16 (b, v & 0xffff);
}

static void
tcp_header (GByteArray *b, guint16 sport, guint16 dport, guint32 seq, guint32 ack, guint8 flags,
            guint options_len)
{
  put16 (b, sport);
  put16 (b, dport);
  put32 (b, seq);
  put32 (b, ack);
  g_byte_array_append (b, (guint8[]){ (guint8)((20 + options_len) / 4) << 4, flags }, 2);
  put16 (b, 65535);
  put32 (b, 0);
  for (guint i = 0; i < options_len; i++)
    g_byte_array_append (b, (guint8[]){ 1 }, 1); /* NOP */
}

/* An IPv4 header for TCP, 192.0.2.1 to 198.51.100.7, of @total_len bytes
 * with the header, and its checksum. */
static void
ipv4_tcp_header (GByteArray *b, guint16 total_len)
{
  guint ip_at = b->len;
  guint32 sum = 0;

  g_byte_array_append (b, (guint8[]){ 0x45, 0 }, 2);
  put16 (b, total_len);
  put16 (b, 1);
  put16 (b, 0x4000);
  g_byte_array_append (b, (guint8[]){ 64, 6, 0, 0 }, 4);
  g_byte_array_append (b, (guint8[]){ 192, 0, 2, 1, 198, 51, 100, 7 }, 8);
  for (guint i = 0; i < 20; i += 2)
    sum += (guint32)(b->data[ip_at + i] << 8 | b->data[ip_at + i + 1]);
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  b->data[ip_at + 10] = (guint8)(~sum >> 8);
  b->data[ip_at + 11] = (guint8)(~sum & 0xff);
}

/* Ethernet + IPv4 + TCP with @payload. */
static GByteArray *
make_eth_ipv4_tcp (const char *payload)
{
  GByteArray *b = g_byte_array_new ();
  gsize plen = strlen (payload);

  for (int i = 0; i < 12; i++)
    g_byte_array_append (b, (guint8[]){ (guint8)i }, 1);
  put16 (b, 0x0800);
  ipv4_tcp_header (b, (guint16)(20 + 24 + plen));
  tcp_header (b, 40000, 3128, 1000, 2000, TS_TCP_ACK | TS_TCP_PSH, 4);
  g_byte_array_append (b, (const guint8 *)payload, (guint)plen);
  return b;
}

/* SLL + IPv6 with a hop-by-hop and a destination options header + TCP. */
static GByteArray *
make_sll_ipv6_tcp (const char *payload)
{
  GByteArray *b = g_byte_array_new ();
  gsize plen = strlen (payload);
  static const guint8 src[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
  static const guint8 dst[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };

  put16 (b, 4); /* outgoing */
  put16 (b, 1);
  put16 (b, 6);
  for (int i = 0; i < 8; i++)
    g_byte_array_append (b, (guint8[]){ 0xaa }, 1);
  put16 (b, 0x86dd);
  put32 (b, 0x60000000);
  put16 (b, (guint16)(8 + 16 + 20 + plen));
  g_byte_array_append (b, (guint8[]){ 0 /* hop-by-hop */, 63 }, 2);
  g_byte_array_append (b, src, 16);
  g_byte_array_append (b, dst, 16);
  g_byte_array_append (b, (guint8[]){ 60, 0, 1, 4, 0, 0, 0, 0 }, 8); /* HBH -> dest opts */
  g_byte_array_append (b, (guint8[]){ 6, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, 16);
  tcp_header (b, 443, 50000, 7, 9, TS_TCP_ACK, 0);
  g_byte_array_append (b, (const guint8 *)payload, (guint)plen);
  return b;
}

/* SLL2 + IPv4 + UDP. */
static GByteArray *
make_sll2_ipv4_udp (const char *payload)
{
  GByteArray *b = g_byte_array_new ();
  gsize plen = strlen (payload);

  put16 (b, 0x0800);
  put16 (b, 0);
  put32 (b, 7);
  put16 (b, 1);
  g_byte_array_append (b, (guint8[]){ 0, 6 }, 2);
  for (int i = 0; i < 8; i++)
    g_byte_array_append (b, (guint8[]){ 0 }, 1);
  g_byte_array_append (b, (guint8[]){ 0x45, 0 }, 2);
  put16 (b, (guint16)(28 + plen));
  put32 (b, 0);
  g_byte_array_append (b, (guint8[]){ 64, 17, 0, 0 }, 4);
  g_byte_array_append (b, (guint8[]){ 203, 0, 113, 1, 203, 0, 113, 2 }, 8);
  put16 (b, 5353);
  put16 (b, 53);
  put16 (b, (guint16)(8 + plen));
  put16 (b, 0);
  g_byte_array_append (b, (const guint8 *)payload, (guint)plen);
  return b;
}

static void
test_ethernet (void)
{
  g_autoptr (GByteArray) b = make_eth_ipv4_tcp ("GET / HTTP/1.1\r\n\r\n");
  TsPacket p;
  gssize r = ts_packet_decode (TS_LINKTYPE_EN10MB, b->data, b->len, &p);
  char buf[64];

  g_assert_cmpint (r, ==, 14 + 20 + 24);
  g_assert_cmpuint (p.ip_version, ==, 4);
  g_assert_cmpuint (p.ip_proto, ==, 6);
  g_assert_cmpstr (ts_address_to_string (&p.src, buf, sizeof buf), ==, "192.0.2.1");
  g_assert_cmpstr (ts_address_to_string (&p.dst, buf, sizeof buf), ==, "198.51.100.7");
  g_assert_cmpuint (p.src_port, ==, 40000);
  g_assert_cmpuint (p.dst_port, ==, 3128);
  g_assert_cmpuint (p.tcp_seq, ==, 1000);
  g_assert_cmpuint (p.tcp_ack, ==, 2000);
  g_assert_cmpuint (p.tcp_flags, ==, TS_TCP_ACK | TS_TCP_PSH);
  g_assert_cmpuint (p.payload_len, ==, 18);
  g_assert_cmpuint (p.anomalies, ==, 0);
  g_assert_cmpmem (b->data + p.payload_offset, 3, "GET", 3);
}

static void
test_sll_ipv6 (void)
{
  g_autoptr (GByteArray) b = make_sll_ipv6_tcp ("hello");
  TsPacket p;
  gssize r = ts_packet_decode (TS_LINKTYPE_SLL, b->data, b->len, &p);
  char buf[64];

  g_assert_cmpint (r, ==, 16 + 40 + 24 + 20);
  g_assert_cmpuint (p.ip_version, ==, 6);
  g_assert_cmpuint (p.ip_proto, ==, 6);
  g_assert_cmpstr (ts_address_to_string (&p.src, buf, sizeof buf), ==, "2001:db8::1");
  g_assert_cmpuint (p.src_port, ==, 443);
  g_assert_cmpuint (p.payload_len, ==, 5);
  g_assert_cmpuint (p.anomalies, ==, 0);
}

static void
test_sll2_udp (void)
{
  g_autoptr (GByteArray) b = make_sll2_ipv4_udp ("dns?");
  TsPacket p;
  gssize r = ts_packet_decode (TS_LINKTYPE_SLL2, b->data, b->len, &p);

  g_assert_cmpint (r, ==, 20 + 20 + 8);
  g_assert_cmpint (p.ifindex, ==, 7);
  g_assert_cmpuint (p.ip_proto, ==, 17);
  g_assert_cmpuint (p.dst_port, ==, 53);
  g_assert_cmpuint (p.payload_len, ==, 4);
  /* the IPv4 checksum was left 0 on purpose */
  g_assert_cmpuint (p.anomalies, ==, TS_PACKET_ANOMALY_IP_CHECKSUM);
}

static void
test_raw (void)
{
  g_autoptr (GByteArray) b = make_sll_ipv6_tcp ("x");
  TsPacket p;
  gssize r = ts_packet_decode (TS_LINKTYPE_RAW_IP, b->data + 16, b->len - 16, &p);

  g_assert_cmpint (r, ==, 40 + 24 + 20);
  g_assert_cmpuint (p.ip_version, ==, 6);
  g_assert_cmpuint (p.payload_len, ==, 1);
}

/* Every prefix: incomplete while a header is cut, then a packet whose
 * payload is cut, flagged TRUNCATED; never a crash (run under ASan). */
static void
check_prefixes (guint linktype, GByteArray *b, gssize full)
{
  for (gsize n = 0; n < b->len; n++)
    {
      g_autofree guint8 *copy = g_memdup2 (b->data, n); /* exact-size copy for ASan */
      TsPacket p;
      gssize r = ts_packet_decode (linktype, copy, n, &p);

      if ((gssize)n < full)
        g_assert_cmpint (r, ==, TS_PARSE_INCOMPLETE);
      else
        {
          g_assert_cmpint (r, ==, full);
          g_assert_true (p.anomalies & TS_PACKET_ANOMALY_TRUNCATED);
          g_assert_cmpuint (p.payload_len, ==, n - (gsize)full);
        }
    }
}

static void
test_truncated (void)
{
  g_autoptr (GByteArray) a = make_eth_ipv4_tcp ("GET / HTTP/1.1\r\n\r\n");
  g_autoptr (GByteArray) b = make_sll_ipv6_tcp ("hello");
  g_autoptr (GByteArray) c = make_sll2_ipv4_udp ("dns?");

  check_prefixes (TS_LINKTYPE_EN10MB, a, 58);
  check_prefixes (TS_LINKTYPE_SLL, b, 100);
  check_prefixes (TS_LINKTYPE_SLL2, c, 48);
}

static void
test_invalid (void)
{
  g_autoptr (GByteArray) a = make_eth_ipv4_tcp ("x");
  TsPacket p;

  a->data[14] = 0x44; /* IHL 4 */
  g_assert_cmpint (ts_packet_decode (TS_LINKTYPE_EN10MB, a->data, a->len, &p), ==,
                   TS_PARSE_INVALID);
  a->data[14] = 0x45;
  a->data[14 + 20 + 12] = 0x40; /* TCP data offset 4 words */
  g_assert_cmpint (ts_packet_decode (TS_LINKTYPE_EN10MB, a->data, a->len, &p), ==,
                   TS_PARSE_INVALID);
  a->data[14 + 20 + 12] = 0xf0; /* data offset 60 > segment */
  g_assert_cmpint (ts_packet_decode (TS_LINKTYPE_EN10MB, a->data, a->len, &p), ==,
                   TS_PARSE_INVALID);
  /* Random bytes never crash. */
  for (guint seed = 0; seed < 2000; seed++)
    {
      g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
      guint8 buf[96];
      guint n = (guint)g_rand_int_range (rand, 0, sizeof buf);
      g_autofree guint8 *copy = NULL;

      for (guint i = 0; i < n; i++)
        buf[i] = (guint8)g_rand_int (rand);
      if (n > 14 && seed % 2)
        buf[12] = 0x08, buf[13] = 0, buf[14] = 0x45;
      copy = g_memdup2 (buf, n);
      (void)ts_packet_decode (seed % 3 == 0   ? TS_LINKTYPE_EN10MB
                              : seed % 3 == 1 ? TS_LINKTYPE_SLL2
                                              : TS_LINKTYPE_RAW_IP,
                              copy, n, &p);
    }
}

static void
test_address (void)
{
  TsAddress a, b;
  char buf[64];

  g_assert_true (ts_address_parse ("2001:db8::5/64", &a));
  g_assert_cmpstr (ts_address_to_string (&a, buf, sizeof buf), ==, "2001:db8::5");
  g_assert_true (ts_address_parse ("127.0.0.1", &b));
  g_assert_true (ts_address_is_loopback (&b));
  g_assert_false (ts_address_equal (&a, &b));
  g_assert_false (ts_address_parse ("example.com", &a));
  g_assert_cmpstr (ts_tcp_flags_to_string (TS_TCP_SYN | TS_TCP_ACK, buf, sizeof buf), ==,
                   "SYN,ACK");
}

/* Raw IPv4 + a TCP segment with @flags and the options @opts (@n bytes, a
 * multiple of 4). */
static GByteArray *
make_raw_tcp_options (guint8 flags, const guint8 *opts, guint n)
{
  GByteArray *b = g_byte_array_new ();

  ipv4_tcp_header (b, (guint16)(20 + 20 + n));
  tcp_header (b, 40000, 443, 1000, 0, flags, 0);
  b->data[20 + 12] = (guint8)((20 + n) / 4) << 4;
  g_byte_array_append (b, opts, n);
  return b;
}

/* A SYN's options (MSS, window scale, SACK permitted, timestamps) are read;
 * a malformed list stops the reading, keeping what came before; other
 * segments' options are not read. */
static void
test_syn_options (void)
{
  static const guint8 all[]
      = { 2, 4, 0x05, 0xb4, 1, 3, 3, 7, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 1, 0 };
  static const guint8 bad_len[] = { 2, 4, 0x05, 0xb4, 3, 0, 7, 1 };
  static const guint8 overflow[] = { 4, 2, 8, 40, 0, 0, 0, 0 };
  static const guint8 big_shift[] = { 3, 3, 15, 0 };
  TsPacket p;
  g_autoptr (GByteArray) a = make_raw_tcp_options (TS_TCP_SYN, all, sizeof all);
  g_autoptr (GByteArray) b = make_raw_tcp_options (TS_TCP_SYN, bad_len, sizeof bad_len);
  g_autoptr (GByteArray) c = make_raw_tcp_options (TS_TCP_SYN, overflow, sizeof overflow);
  g_autoptr (GByteArray) d = make_raw_tcp_options (TS_TCP_ACK, all, sizeof all);
  g_autoptr (GByteArray) e
      = make_raw_tcp_options (TS_TCP_SYN | TS_TCP_ACK, big_shift, sizeof big_shift);

  g_assert_cmpint (ts_packet_decode (TS_LINKTYPE_RAW_IP, a->data, a->len, &p), ==,
                   20 + 20 + sizeof all);
  g_assert_cmpuint (p.tcp_mss, ==, 1460);
  g_assert_cmpint (p.tcp_wscale, ==, 7);
  g_assert_true (p.tcp_sack_ok);
  g_assert_true (p.tcp_timestamps);

  g_assert_cmpint (ts_packet_decode (TS_LINKTYPE_RAW_IP, b->data, b->len, &p), >, 0);
  g_assert_cmpuint (p.tcp_mss, ==, 1460);
  g_assert_cmpint (p.tcp_wscale, ==, -1);

  g_assert_cmpint (ts_packet_decode (TS_LINKTYPE_RAW_IP, c->data, c->len, &p), >, 0);
  g_assert_true (p.tcp_sack_ok);
  g_assert_false (p.tcp_timestamps);

  g_assert_cmpint (ts_packet_decode (TS_LINKTYPE_RAW_IP, d->data, d->len, &p), >, 0);
  g_assert_cmpuint (p.tcp_mss, ==, 0);
  g_assert_cmpint (p.tcp_wscale, ==, -1);
  g_assert_false (p.tcp_sack_ok);

  g_assert_cmpint (ts_packet_decode (TS_LINKTYPE_RAW_IP, e->data, e->len, &p), >, 0);
  g_assert_cmpint (p.tcp_wscale, ==, 15); /* as sent: RFC 7323 takes it as 14 */
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ts/trace/packet/ethernet-ipv4-tcp", test_ethernet);
  g_test_add_func ("/ts/trace/packet/sll-ipv6-ext-tcp", test_sll_ipv6);
  g_test_add_func ("/ts/trace/packet/sll2-udp", test_sll2_udp);
  g_test_add_func ("/ts/trace/packet/syn-options", test_syn_options);
  g_test_add_func ("/ts/trace/packet/raw-ip", test_raw);
  g_test_add_func ("/ts/trace/packet/truncated", test_truncated);
  g_test_add_func ("/ts/trace/packet/invalid", test_invalid);
  g_test_add_func ("/ts/trace/packet/address", test_address);
  return g_test_run ();
}
