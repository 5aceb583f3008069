/* ts-http2.h: HTTP/2 frames (RFC 9113 §4.1) in one direction of a
 * connection, resumable: the frame layer only (HPACK and stream state come
 * later, with MASQUE).
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 *  +-----------------------------------------------+
 *  |                 Length (24)                   |
 *  +---------------+---------------+---------------+
 *  |   Type (8)    |   Flags (8)   |
 *  +-+-------------+---------------+-------------------------------+
 *  |R|                 Stream Identifier (31)                      |
 *  +=+=============================================================+
 *  |                   Frame Payload (0...)                      ...
 *  +---------------------------------------------------------------+
 *
 * The client direction starts with the connection preface (§3.4),
 * "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", which the stream checks and skips.
 */
#pragma once

#include <glib.h>
#include "ts-parse.h"

G_BEGIN_DECLS

#define TS_HTTP2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define TS_HTTP2_PREFACE_LEN 24
/* Payload bytes of a frame kept for its event (SETTINGS, GOAWAY, ...). */
#define TS_HTTP2_PAYLOAD_PREVIEW 64
/* HEADERS, PUSH_PROMISE and CONTINUATION frames are kept whole up to this
 * length (their header block fragments are decoded; RFC 9113 §4.2 lets a
 * peer raise SETTINGS_MAX_FRAME_SIZE to 2^24 - 1). */
#define TS_HTTP2_MAX_HEADER_FRAME 65536

/* RFC 9113 §6 frame types. */
typedef enum
{
  TS_HTTP2_DATA = 0x0,
  TS_HTTP2_HEADERS = 0x1,
  TS_HTTP2_PRIORITY = 0x2,
  TS_HTTP2_RST_STREAM = 0x3,
  TS_HTTP2_SETTINGS = 0x4,
  TS_HTTP2_PUSH_PROMISE = 0x5,
  TS_HTTP2_PING = 0x6,
  TS_HTTP2_GOAWAY = 0x7,
  TS_HTTP2_WINDOW_UPDATE = 0x8,
  TS_HTTP2_CONTINUATION = 0x9,
} TsHttp2FrameType;

typedef struct
{
  guint32 length;
  guint8 type;
  guint8 flags;
  guint32 stream_id;
} TsHttp2FrameHeader;

/* Parses the 9-byte header at @data: 9, or TS_PARSE_INCOMPLETE. */
gssize ts_http2_parse_frame_header (const guint8 *data, gsize len, TsHttp2FrameHeader *out);

const char *ts_http2_frame_type_to_string (guint type);
/* "END_STREAM,END_HEADERS" for @type's @flags into @buf (>= 64 bytes). */
const char *ts_http2_flags_to_string (guint type, guint flags, char *buf, gsize buf_len);
/* RFC 9113 §6.5.2 setting names, §7 error code names. */
const char *ts_http2_setting_to_string (guint id);
const char *ts_http2_error_to_string (guint code);

/* A complete frame at stream offset @offset; @payload holds its first
 * min(length, TS_HTTP2_PAYLOAD_PREVIEW) bytes, or all of a HEADERS,
 * PUSH_PROMISE or CONTINUATION frame up to TS_HTTP2_MAX_HEADER_FRAME (a
 * longer one: the preview). */
typedef void (*TsHttp2FrameFunc) (gpointer user_data, guint64 offset,
                                  const TsHttp2FrameHeader *frame, const guint8 *payload,
                                  gsize payload_len);
/* The stream is not HTTP/2 (a bad preface): later bytes are ignored. */
typedef void (*TsHttp2ErrorFunc) (gpointer user_data, guint64 offset, const char *what);

typedef struct _TsHttp2Stream TsHttp2Stream;

/* @client: this direction starts with the preface. */
TsHttp2Stream *ts_http2_stream_new (gboolean client, TsHttp2FrameFunc frame, TsHttp2ErrorFunc error,
                                    gpointer user_data);
void ts_http2_stream_free (TsHttp2Stream *self);
/* Feeds the next bytes (any chunking), the first at stream @offset. */
void ts_http2_stream_feed (TsHttp2Stream *self, guint64 offset, const guint8 *data, gsize len);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TsHttp2Stream, ts_http2_stream_free)

G_END_DECLS
