/* ts-test-frames.h: builds Ethernet/IPv4/TCP and UDP frames with valid checksums for tests.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* One direction of a TCP connection between two IPv4 hosts. */
typedef struct
{
  guint8 src_mac[6], dst_mac[6];
  guint8 src_ip[4], dst_ip[4];
  guint16 src_port, dst_port;
  guint32 seq, ack;
} TsTestFlow;

/* Appends to @out an Ethernet frame carrying a TCP segment of @flow with
 * @flags (0x02 SYN, 0x10 ACK, 0x18 PSH|ACK, 0x11 FIN|ACK) and @payload, and
 * advances @flow's sequence number. Returns the frame (transfer full). */
GBytes *ts_test_tcp_frame (TsTestFlow *flow, guint8 flags, const guint8 *payload, gsize len);

/* The Ethernet frame @frame as Linux cooked v2 (what tcpdump -i any
 * writes) on interface index @ifindex (transfer full). */
GBytes *ts_test_sll2_frame (GBytes *frame, gint32 ifindex);

/* An Ethernet frame carrying a UDP datagram of @flow's addresses and ports
 * with @payload (transfer full). */
GBytes *ts_test_udp_frame (const TsTestFlow *flow, const guint8 *payload, gsize len);

/* Initialises both directions of a connection a -> b. */
void ts_test_flow_pair (TsTestFlow *a_to_b, TsTestFlow *b_to_a, const char *a_ip, guint16 a_port,
                        const char *b_ip, guint16 b_port);

/* A TLS 1.3 ClientHello record (record header included) with @sni and a
 * random filled from @seed (transfer full). */
GByteArray *ts_test_client_hello (const char *sni, guint8 seed);

/* The offset of the pcapng block of @data (@len bytes; blocks in this
 * machine's byte order, as the lab writes them) that holds byte @at. */
gsize ts_test_pcapng_block_at (const guint8 *data, gsize len, gsize at);

G_END_DECLS
