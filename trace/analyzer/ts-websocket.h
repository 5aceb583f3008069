/* ts-websocket.h: WebSocket frames (RFC 6455 §5.2) in one direction of an
 * upgraded connection, resumable.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-------+-+-------------+-------------------------------+
 * |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
 * |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
 * |N|V|V|V|       |S|             |   (if payload len==126/127)   |
 * | |1|2|3|       |K|             |                               |
 * +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
 * |     Extended payload length continued, if payload len == 127  |
 * + - - - - - - - - - - - - - - - +-------------------------------+
 * |                               |Masking-key, if MASK set to 1  |
 * +-------------------------------+-------------------------------+
 * | Masking-key (continued)       |          Payload Data         |
 * +-------------------------------- - - - - - - - - - - - - - - - +
 */
#pragma once

#include <glib.h>
#include "ts-parse.h"

G_BEGIN_DECLS

/* The first bytes of a payload kept (unmasked) for summaries. */
#define TS_WEBSOCKET_PREVIEW 64

typedef enum
{
  TS_WEBSOCKET_CONTINUATION = 0x0,
  TS_WEBSOCKET_TEXT = 0x1,
  TS_WEBSOCKET_BINARY = 0x2,
  TS_WEBSOCKET_CLOSE = 0x8,
  TS_WEBSOCKET_PING = 0x9,
  TS_WEBSOCKET_PONG = 0xa,
} TsWebsocketOpcode;

typedef struct
{
  gboolean fin;
  guint8 rsv; /* RSV1..3 as bits 2..0 */
  guint8 opcode;
  gboolean masked;
  guint8 mask[4];
  guint64 payload_len;
  guint header_len;
} TsWebsocketFrame;

/* Parses a frame header at the start of @data: returns its length,
 * TS_PARSE_INCOMPLETE, or TS_PARSE_INVALID (a 64-bit length with the top
 * bit set, a reserved opcode, a control frame over 125 bytes or fragmented). */
gssize ts_websocket_parse_header (const guint8 *data, gsize len, TsWebsocketFrame *out);

const char *ts_websocket_opcode_to_string (guint opcode);

/* Called once per frame, when its payload is complete. @offset: stream
 * offset of the frame header; @preview: the first bytes of the unmasked
 * payload (at most TS_WEBSOCKET_PREVIEW). */
typedef void (*TsWebsocketFrameFunc) (gpointer user_data, guint64 offset,
                                      const TsWebsocketFrame *frame, const guint8 *preview,
                                      gsize preview_len);
/* Called when the stream stops being WebSocket (invalid frame at @offset). */
typedef void (*TsWebsocketErrorFunc) (gpointer user_data, guint64 offset, const char *what);

typedef struct _TsWebsocketStream TsWebsocketStream;

TsWebsocketStream *ts_websocket_stream_new (TsWebsocketFrameFunc frame, TsWebsocketErrorFunc error,
                                            gpointer user_data);
void ts_websocket_stream_free (TsWebsocketStream *self);
/* Feeds the next bytes (any chunking) starting at stream @offset. */
void ts_websocket_stream_feed (TsWebsocketStream *self, guint64 offset, const guint8 *data,
                               gsize len);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TsWebsocketStream, ts_websocket_stream_free)

G_END_DECLS
