/* ts-dns-message.h: the few DNS messages the lab needs (A and AAAA, class IN).
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * RFC 1035 §4.1. Header:
 *
 *                                   1  1  1  1  1  1
 *     0  1  2  3  4  5  6  7  8  9  0  1  2  3  4  5
 *   +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
 *   |                      ID                       |
 *   +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
 *   |QR|   Opcode  |AA|TC|RD|RA|   Z    |   RCODE   |
 *   +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
 *   |          QDCOUNT / ANCOUNT / NSCOUNT / ARCOUNT |
 *   +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
 *
 * then the question (QNAME as length-prefixed labels, QTYPE, QCLASS) and
 * resource records (NAME, TYPE, CLASS, TTL, RDLENGTH, RDATA). Names in
 * answers may be compressed (§4.1.4); a query's name may not (we refuse
 * pointers there, as no stub resolver sends them).
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Caps on what input controls. */
#define TS_DNS_MAX_MESSAGE 512 /* bytes in a UDP message without EDNS (§4.2.1) */
#define TS_DNS_MAX_NAME 255    /* bytes in a name on the wire (§3.1) */
#define TS_DNS_MAX_ANSWERS 32  /* answer records read from one response */
#define TS_DNS_MAX_POINTERS 16 /* compression pointers followed in one name */

/* Types and classes, numbered as in RFC 1035 §3.2.2 and RFC 3596. */
typedef enum
{
  TS_DNS_TYPE_A = 1,
  TS_DNS_TYPE_CNAME = 5,
  TS_DNS_TYPE_AAAA = 28,
} TsDnsType;

#define TS_DNS_CLASS_IN 1

/* RCODEs, RFC 1035 §4.1.1. */
typedef enum
{
  TS_DNS_RCODE_NOERROR = 0,
  TS_DNS_RCODE_FORMERR = 1,
  TS_DNS_RCODE_SERVFAIL = 2,
  TS_DNS_RCODE_NXDOMAIN = 3,
  TS_DNS_RCODE_NOTIMP = 4,
  TS_DNS_RCODE_REFUSED = 5,
} TsDnsRcode;

const char *ts_dns_type_to_string (guint type);
const char *ts_dns_rcode_to_string (guint rcode);

typedef struct
{
  guint16 id;
  guint16 flags;
  guint opcode;
  gboolean is_response;
  guint rcode;
  char name[TS_DNS_MAX_NAME + 1]; /* the question's name, lower case, no final dot */
  guint16 qtype;
  guint16 qclass;
  gsize question_end;                        /* offset just after the question */
  guint n_answers;                           /* A and AAAA answers found (responses) */
  GInetAddress *answers[TS_DNS_MAX_ANSWERS]; /* owned; cleared by ts_dns_message_clear () */
} TsDnsMessage;

void ts_dns_message_clear (TsDnsMessage *self);

/* Parses a query (QR = 0, exactly one question). Returns TRUE and fills
 * @out_msg, or FALSE with @error when it is malformed; when at least the
 * header was read, @out_msg->id is set so a FORMERR answer can be sent. */
gboolean ts_dns_message_parse_query (TsDnsMessage *out_msg, const guint8 *data, gsize len,
                                     GError **error);

/* Parses a response to one question, collecting its A and AAAA answers. */
gboolean ts_dns_message_parse_response (TsDnsMessage *out_msg, const guint8 *data, gsize len,
                                        GError **error);

/* Builds the response to @query with @rcode and the addresses of
 * @addresses (GInetAddress, those of the query's type are used). When the
 * query could not be parsed past its header, pass it with name[0] == '\0'
 * and its question is left out. Transfer full. */
GBytes *ts_dns_message_build_response (const TsDnsMessage *query, guint rcode,
                                       GPtrArray *addresses);

/* Builds a recursive query for @name and @qtype with @id. NULL when the
 * name is not a valid DNS name. Transfer full. */
GBytes *ts_dns_message_build_query (guint16 id, const char *name, guint16 qtype);

G_END_DECLS
