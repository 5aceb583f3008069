/* ts-packet.h: decodes one captured frame's link, network and transport
 * headers (Ethernet, Linux SLL and SLL2, BSD loopback, raw IP; IPv4, IPv6;
 * UDP, TCP) into a small struct.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The decoder reads only through a bounded cursor and never copies: the
 * payload is a byte range of the frame. Damage that leaves the headers
 * readable is reported as anomaly flags on the decoded packet (and becomes
 * an anomaly event in the timeline); only headers cut short or broken give
 * TS_PARSE_INCOMPLETE or TS_PARSE_INVALID.
 */
#pragma once

#include <glib.h>
#include "ts-parse.h"

G_BEGIN_DECLS

/* Link types (tcpdump.org LINKTYPE_* numbers). */
typedef enum
{
  TS_LINKTYPE_NULL_BSD = 0, /* BSD loopback: 4-byte family, host order */
  TS_LINKTYPE_EN10MB = 1,   /* Ethernet */
  TS_LINKTYPE_RAW_IP = 101, /* raw IPv4 or IPv6 */
  TS_LINKTYPE_LOOP = 108,   /* OpenBSD loopback: 4-byte family, network order */
  TS_LINKTYPE_SLL = 113,    /* Linux cooked v1 */
  TS_LINKTYPE_IPV4_ONLY = 228,
  TS_LINKTYPE_IPV6_ONLY = 229,
  TS_LINKTYPE_SLL2 = 276, /* Linux cooked v2 (-i any, with ifindex) */
} TsLinktype;

/* Caps on what the input controls. */
#define TS_PACKET_MAX_VLAN_TAGS 2        /* 802.1Q / 802.1ad tags stepped over */
#define TS_PACKET_MAX_IPV6_EXT_HEADERS 8 /* IPv6 extension headers stepped over */

typedef enum
{
  TS_PACKET_ANOMALY_TRUNCATED = 1 << 0,    /* captured fewer bytes than the IP length says */
  TS_PACKET_ANOMALY_IP_LENGTH = 1 << 1,    /* IP length shorter than its own headers */
  TS_PACKET_ANOMALY_FRAGMENT = 1 << 2,     /* an IP fragment: payload not decoded */
  TS_PACKET_ANOMALY_IP_CHECKSUM = 1 << 3,  /* IPv4 header checksum wrong */
  TS_PACKET_ANOMALY_EXT_HEADERS = 1 << 4,  /* more IPv6 extension headers than the cap */
  TS_PACKET_ANOMALY_UNKNOWN_LINK = 1 << 5, /* a link type we do not decode */
  TS_PACKET_ANOMALY_TCP_FLAGS = 1 << 6,    /* an impossible flag set (SYN+FIN, SYN+RST, none) */
  TS_PACKET_ANOMALY_TRAILING = 1 << 7,     /* bytes after the IP length (padding) */
  TS_PACKET_ANOMALY_UDP_LENGTH = 1 << 8,   /* UDP length disagrees with IP */
} TsPacketAnomaly;

typedef enum
{
  TS_TCP_FIN = 0x01,
  TS_TCP_SYN = 0x02,
  TS_TCP_RST = 0x04,
  TS_TCP_PSH = 0x08,
  TS_TCP_ACK = 0x10,
  TS_TCP_URG = 0x20,
  TS_TCP_ECE = 0x40,
  TS_TCP_CWR = 0x80,
} TsTcpFlag;

#define TS_IPPROTO_TCP 6
#define TS_IPPROTO_UDP 17

typedef struct
{
  guint8 family; /* 0 none, 4, 6 */
  guint8 bytes[16];
} TsAddress;

typedef struct
{
  guint linktype;
  guint16 ethertype; /* 0x0800, 0x86dd, or what else the link said */
  gint32 ifindex;    /* SLL2 interface index, -1 when absent */
  guint8 ip_version; /* 0: not IP */
  guint8 ip_proto;   /* transport protocol (after IPv6 extension headers) */
  guint8 ttl;
  TsAddress src;
  TsAddress dst;
  guint32 ip_offset; /* where the IP header starts in the frame */
  guint32 l4_offset; /* where the transport header starts */
  guint16 src_port;
  guint16 dst_port;
  guint32 tcp_seq;
  guint32 tcp_ack;
  guint16 tcp_window;
  guint8 tcp_flags; /* TsTcpFlag bits */
  /* Options of a SYN (RFC 9293 §3.2, RFC 7323, RFC 2018); not read on other
   * segments. */
  guint16 tcp_mss;      /* 0: none */
  gint16 tcp_wscale;    /* window scale shift as sent, -1: none */
  gboolean tcp_sack_ok; /* SACK permitted */
  gboolean tcp_timestamps;
  guint32 payload_offset;
  guint32 payload_len;      /* captured payload bytes (may be less than sent when truncated) */
  guint32 payload_wire_len; /* payload length the IP header announces */
  guint32 anomalies;        /* TsPacketAnomaly bits */
} TsPacket;

/* Decodes @data (@len captured bytes) of link type @linktype into @out.
 * Returns the payload offset (>= 0) when the headers are whole (a non-IP
 * frame, or an IP protocol other than TCP and UDP, has ip_version or
 * ip_proto set and no ports), TS_PARSE_INCOMPLETE when a header is cut
 * short, TS_PARSE_INVALID when a header breaks its format (IPv4 IHL < 5,
 * TCP data offset < 5, wrong IP version). @out is filled as far as read. */
gssize ts_packet_decode (guint linktype, const guint8 *data, gsize len, TsPacket *out);

/* Formats an address ("192.0.2.1", "2001:db8::1") into @buf (>= 46 bytes). */
const char *ts_address_to_string (const TsAddress *addr, char *buf, gsize buf_len);
/* Parses a textual address; FALSE when it is neither IPv4 nor IPv6. */
gboolean ts_address_parse (const char *text, TsAddress *out);
gboolean ts_address_equal (const TsAddress *a, const TsAddress *b);
guint ts_address_hash (const TsAddress *a);
gboolean ts_address_is_loopback (const TsAddress *a);

/* "SYN,ACK" style names of @flags into @buf (>= 40 bytes). */
const char *ts_tcp_flags_to_string (guint8 flags, char *buf, gsize buf_len);

/* The names of TsPacketAnomaly bits, for anomaly events. */
const char *ts_packet_anomaly_to_string (TsPacketAnomaly anomaly);
/* "Ethernet", "Linux cooked capture v2", ...; NULL for a link type not decoded. */
const char *ts_linktype_to_string (guint linktype);

G_END_DECLS
