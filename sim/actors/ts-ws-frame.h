/* ts-ws-frame.h: WebSocket frames and the opening handshake key (RFC 6455).
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * RFC 6455 §5.2, base framing protocol:
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-------+-+-------------+-------------------------------+
 *   |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
 *   |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
 *   |N|V|V|V|       |S|             |   (if payload len==126/127)   |
 *   | |1|2|3|       |K|             |                               |
 *   +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
 *   |     Extended payload length continued, if payload len == 127  |
 *   + - - - - - - - - - - - - - - - +-------------------------------+
 *   |                               |Masking-key, if MASK set to 1  |
 *   +-------------------------------+-------------------------------+
 *   | Masking-key (continued)       |          Payload Data         |
 *   +-------------------------------- - - - - - - - - - - - - - - - +
 */
#pragma once

#include <glib.h>

#include "ts-actor-http-head.h"

G_BEGIN_DECLS

/* Caps on what input controls. */
#define TS_WS_MAX_PAYLOAD (1 << 20) /* bytes in one frame's payload */
#define TS_WS_MAX_MESSAGE (1 << 20) /* bytes in one reassembled message */

/* Opcodes, numbered as in RFC 6455 §5.2 / §11.8. */
typedef enum
{
  TS_WS_OPCODE_CONTINUATION = 0x0,
  TS_WS_OPCODE_TEXT = 0x1,
  TS_WS_OPCODE_BINARY = 0x2,
  TS_WS_OPCODE_CLOSE = 0x8,
  TS_WS_OPCODE_PING = 0x9,
  TS_WS_OPCODE_PONG = 0xA,
} TsWsOpcode;

/* Close codes, RFC 6455 §7.4.1. */
typedef enum
{
  TS_WS_CLOSE_NORMAL = 1000,
  TS_WS_CLOSE_GOING_AWAY = 1001,
  TS_WS_CLOSE_PROTOCOL_ERROR = 1002,
  TS_WS_CLOSE_UNSUPPORTED_DATA = 1003,
  TS_WS_CLOSE_INVALID_PAYLOAD = 1007,
  TS_WS_CLOSE_POLICY_VIOLATION = 1008,
  TS_WS_CLOSE_MESSAGE_TOO_BIG = 1009,
} TsWsCloseCode;

typedef struct
{
  gboolean fin;
  TsWsOpcode opcode;
  gboolean masked;
  guint8 mask_key[4];
  gsize header_len;
  guint64 payload_len;
  const guint8 *payload; /* view into the parsed buffer, still masked */
} TsWsFrame;

/* "text", "binary", "close", ... or NULL for a reserved opcode. */
const char *ts_ws_opcode_to_string (guint opcode);

/* Parses the frame at the start of @data. Returns the frame's whole length
 * (header and payload), TS_PARSE_INCOMPLETE, TS_PARSE_INVALID (reserved
 * bits or opcode, a fragmented or long control frame, a 64-bit length with
 * its top bit set) or TS_PARSE_TOO_LARGE (over TS_WS_MAX_PAYLOAD). */
gssize ts_ws_frame_parse (TsWsFrame *out_frame, const guint8 *data, gsize len);

/* XORs @len bytes of @data with @mask_key in place (masking and unmasking
 * are the same operation). */
void ts_ws_mask (guint8 *data, gsize len, const guint8 mask_key[4]);

/* Appends a frame to @out; masked with @mask_key when it is not NULL (a
 * client must mask, a server must not). */
void ts_ws_frame_append (GByteArray *out, gboolean fin, TsWsOpcode opcode, const guint8 *mask_key,
                         const void *payload, gsize len);

/* Sec-WebSocket-Accept for a Sec-WebSocket-Key (RFC 6455 §4.2.2 item 5.4):
 * base64 (SHA-1 (key "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")). Transfer full. */
char *ts_ws_accept_for_key (const char *key, gsize key_len);

G_END_DECLS
