/* ts-http2-headers.h: HTTP/2 header blocks in one direction of a
 * connection: HEADERS or PUSH_PROMISE and their CONTINUATION frames
 * (RFC 9113 §4.3, §6.2, §6.6, §6.10) put together and decompressed with
 * HPACK (RFC 7541, nghttp2's inflater).
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * HPACK keeps a dynamic table across the blocks of a direction, so every
 * block must be decoded, in order: after an error (a malformed block, a
 * lost fragment, a block over the cap) the decoder stops, since the blocks
 * that follow cannot be read reliably.
 */
#pragma once

#include <glib.h>

#include "ts-http2.h"

G_BEGIN_DECLS

/* Bytes of one header block (after CONTINUATIONs), decompressed. */
#define TS_HTTP2_MAX_HEADER_BLOCK (256 * 1024)

typedef struct
{
  const char *name; /* NUL-terminated; valid until the next feed */
  const char *value;
  gsize name_len, value_len;
} TsHttp2Field;

typedef enum
{
  TS_HTTP2_HEADERS_NONE,  /* not a header frame, or the decoder stopped */
  TS_HTTP2_HEADERS_MORE,  /* a block started or went on: CONTINUATION to come */
  TS_HTTP2_HEADERS_DONE,  /* a block is whole: see TsHttp2HeaderBlock */
  TS_HTTP2_HEADERS_ERROR, /* the decoder stops (why: TsHttp2HeaderBlock.error) */
} TsHttp2HeadersResult;

typedef struct
{
  guint32 stream;      /* the stream of the HEADERS frame, or the promised one */
  gboolean push;       /* a PUSH_PROMISE: the request a server pushes */
  gboolean end_stream; /* the HEADERS frame ended its stream */
  const TsHttp2Field *fields;
  guint n_fields;
  const char *error;
} TsHttp2HeaderBlock;

typedef struct _TsHttp2HeaderDecoder TsHttp2HeaderDecoder;

TsHttp2HeaderDecoder *ts_http2_header_decoder_new (void);
void ts_http2_header_decoder_free (TsHttp2HeaderDecoder *self);

/* Feeds the next frame of the direction (as TsHttp2Stream delivers it:
 * header frames whole, or cut to a preview when over
 * TS_HTTP2_MAX_HEADER_FRAME). On DONE and ERROR, @out holds the block or
 * the error until the next call. */
TsHttp2HeadersResult ts_http2_header_decoder_feed (TsHttp2HeaderDecoder *self,
                                                   const TsHttp2FrameHeader *frame,
                                                   const guint8 *payload, gsize payload_len,
                                                   TsHttp2HeaderBlock *out);

/* The value of the first field named @name in @block, or NULL. */
const char *ts_http2_header_block_get (const TsHttp2HeaderBlock *block, const char *name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TsHttp2HeaderDecoder, ts_http2_header_decoder_free)

G_END_DECLS
