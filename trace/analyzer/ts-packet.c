/* ts-packet.c: link, network and transport header decoding.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "ts-packet.h"

#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "ts-cursor.h"

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8

static gssize decode_ip (TsPacket *out, const guint8 *data, gsize len, gsize offset);

/* Ethernet II (IEEE 802.3):
 *   0                   6                   12      14
 *  +-------------------+-------------------+-------+
 *  | destination MAC   | source MAC        | type  |  [802.1Q: 0x8100 TCI type]
 *  +-------------------+-------------------+-------+ */
static gssize
decode_ethernet (TsPacket *out, const guint8 *data, gsize len)
{
  TsCursor c;
  guint16 type;

  ts_cursor_init (&c, data, len);
  ts_cursor_skip (&c, 12);
  type = ts_cursor_be16 (&c);
  for (guint i = 0;
       i < TS_PACKET_MAX_VLAN_TAGS && (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ); i++)
    {
      ts_cursor_skip (&c, 2); /* TCI */
      type = ts_cursor_be16 (&c);
    }
  if (c.failed)
    return TS_PARSE_INCOMPLETE;
  out->ethertype = type;
  return decode_ip (out, data, len, c.pos);
}

/* Linux cooked capture v1 (LINKTYPE_LINUX_SLL), 16 bytes:
 *  packet type(2) ARPHRD type(2) address length(2) address(8) protocol(2) */
static gssize
decode_sll (TsPacket *out, const guint8 *data, gsize len)
{
  TsCursor c;

  ts_cursor_init (&c, data, len);
  ts_cursor_skip (&c, 14);
  out->ethertype = ts_cursor_be16 (&c);
  if (c.failed)
    return TS_PARSE_INCOMPLETE;
  return decode_ip (out, data, len, c.pos);
}

/* Linux cooked capture v2 (LINKTYPE_LINUX_SLL2), 20 bytes:
 *  protocol(2) reserved(2) interface index(4) ARPHRD type(2) packet type(1)
 *  address length(1) address(8) */
static gssize
decode_sll2 (TsPacket *out, const guint8 *data, gsize len)
{
  TsCursor c;
  gint32 ifindex;

  ts_cursor_init (&c, data, len);
  out->ethertype = ts_cursor_be16 (&c);
  ts_cursor_skip (&c, 2);
  ifindex = (gint32)ts_cursor_be32 (&c);
  ts_cursor_skip (&c, 12);
  if (c.failed)
    return TS_PARSE_INCOMPLETE;
  /* Linux's indexes are positive; anything else reads as none. */
  out->ifindex = MAX (ifindex, -1);
  return decode_ip (out, data, len, c.pos);
}

/* BSD loopback: a 4-byte address family, host order (NULL) or network
 * order (LOOP). AF_INET is 2 everywhere; AF_INET6 is 10, 24, 28 or 30. */
static gssize
decode_loopback (TsPacket *out, const guint8 *data, gsize len, gboolean network_order)
{
  TsCursor c;
  guint32 family, le, be;

  ts_cursor_init (&c, data, len);
  be = ts_cursor_be32 (&c);
  if (c.failed)
    return TS_PARSE_INCOMPLETE;
  le = GUINT32_SWAP_LE_BE (be);
  family = network_order ? be : (le < be ? le : be);
  if (family == 2)
    out->ethertype = ETHERTYPE_IPV4;
  else if (family == 10 || family == 24 || family == 28 || family == 30)
    out->ethertype = ETHERTYPE_IPV6;
  else
    out->ethertype = 0;
  return decode_ip (out, data, len, c.pos);
}

static guint16
ipv4_checksum (const guint8 *hdr, gsize len)
{
  guint32 sum = 0;

  for (gsize i = 0; i + 1 < len; i += 2)
    sum += (guint32)(hdr[i] << 8 | hdr[i + 1]);
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return (guint16)~sum;
}

/* UDP (RFC 768):  source port(2) destination port(2) length(2) checksum(2) */
static gssize
decode_udp (TsPacket *out, const guint8 *data, gsize len, gsize offset, gsize l4_wire_len)
{
  TsCursor c;
  guint16 ulen;

  ts_cursor_init (&c, data + offset, len - offset);
  out->src_port = ts_cursor_be16 (&c);
  out->dst_port = ts_cursor_be16 (&c);
  ulen = ts_cursor_be16 (&c);
  ts_cursor_skip (&c, 2);
  if (c.failed)
    return TS_PARSE_INCOMPLETE;
  if (ulen < 8 || ulen > l4_wire_len)
    out->anomalies |= TS_PACKET_ANOMALY_UDP_LENGTH;
  else
    l4_wire_len = ulen;
  out->payload_offset = (guint32)(offset + 8);
  out->payload_wire_len = (guint32)(l4_wire_len >= 8 ? l4_wire_len - 8 : 0);
  out->payload_len = MIN (out->payload_wire_len, (guint32)(len - out->payload_offset));
  return out->payload_offset;
}

/* The options of a SYN that tell how the connection runs: MSS (kind 2),
 * window scale (3), SACK permitted (4), timestamps (8). A malformed list
 * ends the reading, keeping what came before. */
static void
decode_syn_options (TsPacket *out, const guint8 *p, gsize n)
{
  gsize i = 0;

  while (i < n && p[i] != 0) /* 0: end of option list */
    {
      guint8 kind = p[i], len;

      if (kind == 1) /* no-operation */
        {
          i++;
          continue;
        }
      if (i + 1 >= n || (len = p[i + 1]) < 2 || len > n - i)
        break;
      if (kind == 2 && len == 4)
        out->tcp_mss = (guint16)(p[i + 2] << 8 | p[i + 3]);
      else if (kind == 3 && len == 3)
        out->tcp_wscale = p[i + 2];
      else if (kind == 4 && len == 2)
        out->tcp_sack_ok = TRUE;
      else if (kind == 8 && len == 10)
        out->tcp_timestamps = TRUE;
      i += len;
    }
}

/* TCP (RFC 9293 §3.1):
 *  source port(2) destination port(2) sequence(4) acknowledgment(4)
 *  data offset(4 bits) reserved(4 bits) flags(8) window(2) checksum(2)
 *  urgent pointer(2) options(data offset * 4 - 20) */
static gssize
decode_tcp (TsPacket *out, const guint8 *data, gsize len, gsize offset, gsize l4_wire_len)
{
  TsCursor c;
  guint doff;

  ts_cursor_init (&c, data + offset, len - offset);
  out->src_port = ts_cursor_be16 (&c);
  out->dst_port = ts_cursor_be16 (&c);
  out->tcp_seq = ts_cursor_be32 (&c);
  out->tcp_ack = ts_cursor_be32 (&c);
  doff = (guint)(ts_cursor_u8 (&c) >> 4) * 4;
  out->tcp_flags = ts_cursor_u8 (&c);
  out->tcp_window = ts_cursor_be16 (&c);
  ts_cursor_skip (&c, 4);
  if (c.failed)
    return TS_PARSE_INCOMPLETE;
  if (doff < 20)
    return TS_PARSE_INVALID;
  if (!ts_cursor_skip (&c, doff - 20))
    {
      /* Options cut short: incomplete when the capture ends, invalid when
       * the IP length itself is too short for them. */
      return doff > l4_wire_len ? TS_PARSE_INVALID : TS_PARSE_INCOMPLETE;
    }
  if (doff > l4_wire_len)
    return TS_PARSE_INVALID;
  if (out->tcp_flags & TS_TCP_SYN)
    decode_syn_options (out, data + offset + 20, doff - 20);
  {
    guint8 f = out->tcp_flags;
    if ((f & (TS_TCP_SYN | TS_TCP_FIN)) == (TS_TCP_SYN | TS_TCP_FIN)
        || (f & (TS_TCP_SYN | TS_TCP_RST)) == (TS_TCP_SYN | TS_TCP_RST) || f == 0)
      out->anomalies |= TS_PACKET_ANOMALY_TCP_FLAGS;
  }
  out->payload_offset = (guint32)(offset + doff);
  out->payload_wire_len = (guint32)(l4_wire_len - doff);
  out->payload_len = MIN (out->payload_wire_len, (guint32)(len - out->payload_offset));
  return out->payload_offset;
}

static gssize
decode_l4 (TsPacket *out, const guint8 *data, gsize len, gsize offset, gsize l4_wire_len)
{
  out->l4_offset = (guint32)offset;
  out->payload_offset = (guint32)offset;
  out->payload_wire_len = (guint32)l4_wire_len;
  out->payload_len = (guint32)MIN (l4_wire_len, len - offset);
  if (out->anomalies & TS_PACKET_ANOMALY_FRAGMENT)
    return (gssize)offset;
  switch (out->ip_proto)
    {
      case TS_IPPROTO_TCP:
        return decode_tcp (out, data, len, offset, l4_wire_len);
      case TS_IPPROTO_UDP:
        return decode_udp (out, data, len, offset, l4_wire_len);
      default:
        return (gssize)offset;
    }
}

/* IPv4 (RFC 791 §3.1):
 *  version(4 bits) IHL(4 bits) TOS(1) total length(2) identification(2)
 *  flags(3 bits) fragment offset(13 bits) TTL(1) protocol(1) checksum(2)
 *  source(4) destination(4) options(IHL * 4 - 20) */
static gssize
decode_ipv4 (TsPacket *out, const guint8 *data, gsize len, gsize offset)
{
  TsCursor c;
  guint8 vihl;
  guint ihl;
  guint16 total, frag;
  gsize avail = len - offset;

  ts_cursor_init (&c, data + offset, avail);
  vihl = ts_cursor_u8 (&c);
  if (c.failed)
    return TS_PARSE_INCOMPLETE;
  if (vihl >> 4 != 4)
    return TS_PARSE_INVALID;
  ihl = (guint)(vihl & 0x0f) * 4;
  if (ihl < 20)
    return TS_PARSE_INVALID;
  ts_cursor_skip (&c, 1);
  total = ts_cursor_be16 (&c);
  ts_cursor_skip (&c, 2);
  frag = ts_cursor_be16 (&c);
  out->ttl = ts_cursor_u8 (&c);
  out->ip_proto = ts_cursor_u8 (&c);
  ts_cursor_skip (&c, 2);
  {
    const guint8 *s = ts_cursor_bytes (&c, 4);
    const guint8 *d = ts_cursor_bytes (&c, 4);
    ts_cursor_skip (&c, ihl - 20);
    if (c.failed)
      return TS_PARSE_INCOMPLETE;
    out->src.family = 4;
    memcpy (out->src.bytes, s, 4);
    out->dst.family = 4;
    memcpy (out->dst.bytes, d, 4);
  }
  out->ip_version = 4;
  if (total < ihl)
    {
      /* Total length 0 happens with TSO captures; treat what was captured as the packet. */
      out->anomalies |= TS_PACKET_ANOMALY_IP_LENGTH;
      total = (guint16)MIN (avail, 0xffff);
      if (total < ihl)
        total = (guint16)ihl;
    }
  if (total > avail)
    out->anomalies |= TS_PACKET_ANOMALY_TRUNCATED;
  else if (total < avail && out->linktype != TS_LINKTYPE_EN10MB)
    out->anomalies |= TS_PACKET_ANOMALY_TRAILING;
  if (ipv4_checksum (data + offset, ihl) != 0)
    out->anomalies |= TS_PACKET_ANOMALY_IP_CHECKSUM;
  if ((frag & 0x1fff) != 0 || (frag & 0x2000) != 0)
    out->anomalies |= TS_PACKET_ANOMALY_FRAGMENT;
  /* Bytes past the IP total length (Ethernet padding) are not payload. */
  return decode_l4 (out, data, MIN (len, offset + total), offset + ihl, total - ihl);
}

/* IPv6 (RFC 8200 §3):
 *  version(4 bits) traffic class(8 bits) flow label(20 bits)
 *  payload length(2) next header(1) hop limit(1) source(16) destination(16)
 * then extension headers (§4): next header(1) length in 8-octet units beyond
 * the first 8 (1) ...; fragment header: 8 bytes. */
static gssize
decode_ipv6 (TsPacket *out, const guint8 *data, gsize len, gsize offset)
{
  TsCursor c;
  guint16 plen;
  guint8 next;
  gsize avail = len - offset, ext_len = 0;

  ts_cursor_init (&c, data + offset, avail);
  if (ts_cursor_remaining (&c) >= 1 && (c.data[0] >> 4) != 6)
    return TS_PARSE_INVALID;
  ts_cursor_skip (&c, 4);
  plen = ts_cursor_be16 (&c);
  next = ts_cursor_u8 (&c);
  out->ttl = ts_cursor_u8 (&c);
  out->src.family = 6;
  out->dst.family = 6;
  {
    const guint8 *s = ts_cursor_bytes (&c, 16);
    const guint8 *d = ts_cursor_bytes (&c, 16);
    if (c.failed)
      return TS_PARSE_INCOMPLETE;
    memcpy (out->src.bytes, s, 16);
    memcpy (out->dst.bytes, d, 16);
  }
  out->ip_version = 6;
  for (guint i = 0;; i++)
    {
      guint8 hdr_next, hdr_len;
      gsize this_len;

      if (next != 0 && next != 43 && next != 44 && next != 60 && next != 51)
        break;
      if (i == TS_PACKET_MAX_IPV6_EXT_HEADERS)
        {
          out->anomalies |= TS_PACKET_ANOMALY_EXT_HEADERS;
          break;
        }
      hdr_next = ts_cursor_u8 (&c);
      hdr_len = ts_cursor_u8 (&c);
      if (c.failed)
        return TS_PARSE_INCOMPLETE;
      if (next == 44)
        {
          guint16 frag = ts_cursor_be16 (&c);
          this_len = 8;
          if ((frag & 0xfff9) != 0)
            out->anomalies |= TS_PACKET_ANOMALY_FRAGMENT;
          ts_cursor_skip (&c, 4);
        }
      else if (next == 51) /* AH: length in 4-octet units, minus 2 */
        {
          this_len = ((gsize)hdr_len + 2) * 4;
          ts_cursor_skip (&c, this_len - 2);
        }
      else
        {
          this_len = ((gsize)hdr_len + 1) * 8;
          ts_cursor_skip (&c, this_len - 2);
        }
      if (c.failed)
        return TS_PARSE_INCOMPLETE;
      ext_len += this_len;
      next = hdr_next;
    }
  out->ip_proto = next;
  if (plen == 0) /* jumbogram or TSO: take what was captured */
    {
      out->anomalies |= TS_PACKET_ANOMALY_IP_LENGTH;
      plen = (guint16)MIN (avail - 40, 0xffff);
    }
  if (ext_len > plen)
    {
      out->anomalies |= TS_PACKET_ANOMALY_IP_LENGTH;
      return (gssize)(offset + c.pos);
    }
  if ((gsize)plen + 40 > avail)
    out->anomalies |= TS_PACKET_ANOMALY_TRUNCATED;
  else if ((gsize)plen + 40 < avail && out->linktype != TS_LINKTYPE_EN10MB)
    out->anomalies |= TS_PACKET_ANOMALY_TRAILING;
  return decode_l4 (out, data, MIN (len, offset + 40 + plen), offset + c.pos, plen - ext_len);
}

static gssize
decode_ip (TsPacket *out, const guint8 *data, gsize len, gsize offset)
{
  out->ip_offset = (guint32)offset;
  switch (out->ethertype)
    {
      case ETHERTYPE_IPV4:
        return decode_ipv4 (out, data, len, offset);
      case ETHERTYPE_IPV6:
        return decode_ipv6 (out, data, len, offset);
      default:
        out->payload_offset = (guint32)offset;
        out->payload_len = (guint32)(len - offset);
        out->payload_wire_len = out->payload_len;
        return (gssize)offset;
    }
}

gssize
ts_packet_decode (guint linktype, const guint8 *data, gsize len, TsPacket *out)
{
  g_return_val_if_fail (data != NULL || len == 0, TS_PARSE_INVALID);
  g_return_val_if_fail (out != NULL, TS_PARSE_INVALID);

  memset (out, 0, sizeof *out);
  out->linktype = linktype;
  out->ifindex = -1;
  out->tcp_wscale = -1;
  switch (linktype)
    {
      case TS_LINKTYPE_EN10MB:
        return decode_ethernet (out, data, len);
      case TS_LINKTYPE_SLL:
        return decode_sll (out, data, len);
      case TS_LINKTYPE_SLL2:
        return decode_sll2 (out, data, len);
      case TS_LINKTYPE_NULL_BSD:
        return decode_loopback (out, data, len, FALSE);
      case TS_LINKTYPE_LOOP:
        return decode_loopback (out, data, len, TRUE);
      case TS_LINKTYPE_RAW_IP:
      case 12: /* DLT_RAW on some BSDs */
      case 14:
      case TS_LINKTYPE_IPV4_ONLY:
      case TS_LINKTYPE_IPV6_ONLY:
        if (len < 1)
          return TS_PARSE_INCOMPLETE;
        out->ethertype = (data[0] >> 4) == 6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4;
        return decode_ip (out, data, len, 0);
      default:
        out->anomalies |= TS_PACKET_ANOMALY_UNKNOWN_LINK;
        out->payload_len = (guint32)len;
        out->payload_wire_len = (guint32)len;
        return 0;
    }
}

const char *
ts_address_to_string (const TsAddress *addr, char *buf, gsize buf_len)
{
  g_return_val_if_fail (buf_len >= 46, NULL);
  if (addr->family == 4)
    inet_ntop (AF_INET, addr->bytes, buf, (socklen_t)buf_len);
  else if (addr->family == 6)
    inet_ntop (AF_INET6, addr->bytes, buf, (socklen_t)buf_len);
  else
    g_strlcpy (buf, "-", buf_len);
  return buf;
}

gboolean
ts_address_parse (const char *text, TsAddress *out)
{
  char tmp[64];
  const char *slash;

  memset (out, 0, sizeof *out);
  /* Accept "ADDR/PREFIX" as in lab metadata. */
  slash = strchr (text, '/');
  if (slash != NULL)
    {
      if ((gsize)(slash - text) >= sizeof tmp)
        return FALSE;
      memcpy (tmp, text, (gsize)(slash - text));
      tmp[slash - text] = '\0';
      text = tmp;
    }
  if (inet_pton (AF_INET, text, out->bytes) == 1)
    out->family = 4;
  else if (inet_pton (AF_INET6, text, out->bytes) == 1)
    out->family = 6;
  else
    return FALSE;
  return TRUE;
}

gboolean
ts_address_equal (const TsAddress *a, const TsAddress *b)
{
  if (a->family != b->family)
    return FALSE;
  return memcmp (a->bytes, b->bytes, a->family == 4 ? 4 : 16) == 0;
}

guint
ts_address_hash (const TsAddress *a)
{
  guint h = a->family;
  gsize n = a->family == 4 ? 4 : 16;

  for (gsize i = 0; i < n; i++)
    h = h * 31 + a->bytes[i];
  return h;
}

gboolean
ts_address_is_loopback (const TsAddress *a)
{
  static const guint8 v6[16] = { [15] = 1 };

  if (a->family == 4)
    return a->bytes[0] == 127;
  if (a->family == 6)
    return memcmp (a->bytes, v6, 16) == 0;
  return FALSE;
}

const char *
ts_tcp_flags_to_string (guint8 flags, char *buf, gsize buf_len)
{
  static const char *names[] = { "FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR" };
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < 8; i++)
    if (flags & (1u << i))
      g_string_append_printf (s, "%s%s", s->len ? "," : "", names[i]);
  g_strlcpy (buf, s->len ? s->str : "none", buf_len);
  g_string_free (s, TRUE);
  return buf;
}

const char *
ts_packet_anomaly_to_string (TsPacketAnomaly anomaly)
{
  switch (anomaly)
    {
      case TS_PACKET_ANOMALY_TRUNCATED:
        return "captured frame shorter than its IP length";
      case TS_PACKET_ANOMALY_IP_LENGTH:
        return "IP length shorter than its headers";
      case TS_PACKET_ANOMALY_FRAGMENT:
        return "IP fragment (not reassembled)";
      case TS_PACKET_ANOMALY_IP_CHECKSUM:
        return "IPv4 header checksum wrong";
      case TS_PACKET_ANOMALY_EXT_HEADERS:
        return "too many IPv6 extension headers";
      case TS_PACKET_ANOMALY_UNKNOWN_LINK:
        return "unknown link type";
      case TS_PACKET_ANOMALY_TCP_FLAGS:
        return "impossible TCP flags";
      case TS_PACKET_ANOMALY_TRAILING:
        return "bytes after the IP length";
      case TS_PACKET_ANOMALY_UDP_LENGTH:
        return "UDP length disagrees with IP";
      default:
        return "unknown anomaly";
    }
}

const char *
ts_linktype_to_string (guint linktype)
{
  switch (linktype)
    {
      case TS_LINKTYPE_NULL_BSD:
        return "BSD loopback";
      case TS_LINKTYPE_EN10MB:
        return "Ethernet";
      case TS_LINKTYPE_RAW_IP:
      case 12: /* DLT_RAW on some BSDs */
      case 14:
        return "raw IP";
      case TS_LINKTYPE_LOOP:
        return "OpenBSD loopback";
      case TS_LINKTYPE_SLL:
        return "Linux cooked capture v1";
      case TS_LINKTYPE_IPV4_ONLY:
        return "raw IPv4";
      case TS_LINKTYPE_IPV6_ONLY:
        return "raw IPv6";
      case TS_LINKTYPE_SLL2:
        return "Linux cooked capture v2";
      default:
        return NULL;
    }
}
