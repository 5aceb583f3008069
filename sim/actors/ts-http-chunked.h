/* ts-http-chunked.h: a resumable decoder for the HTTP/1.1 chunked transfer coding.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * RFC 9112 §7.1:
 *
 *   chunked-body   = *chunk last-chunk trailer-section CRLF
 *   chunk          = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *   chunk-size     = 1*HEXDIG
 *   last-chunk     = 1*("0") [ chunk-ext ] CRLF
 *   trailer-section = *( field-line CRLF )
 *
 * Feed it bytes as they arrive; it appends the decoded data to a GByteArray
 * and says how many input bytes it used. Trailer fields are skipped.
 */
#pragma once

#include <glib.h>

#include "ts-http-head.h"

G_BEGIN_DECLS

/* Caps on what input controls. */
#define TS_HTTP_CHUNK_SIZE_DIGITS 15 /* hex digits in a chunk size: below 2^60, no overflow */
#define TS_HTTP_CHUNK_LINE_MAX 4096  /* bytes in a chunk-size line (extensions) or trailer line */

typedef enum
{
  TS_HTTP_CHUNKED_SIZE,
  TS_HTTP_CHUNKED_EXT,
  TS_HTTP_CHUNKED_SIZE_LF,
  TS_HTTP_CHUNKED_DATA,
  TS_HTTP_CHUNKED_DATA_CR,
  TS_HTTP_CHUNKED_DATA_LF,
  TS_HTTP_CHUNKED_TRAILER_START,
  TS_HTTP_CHUNKED_TRAILER_LINE,
  TS_HTTP_CHUNKED_TRAILER_LF,
  TS_HTTP_CHUNKED_FINAL_LF,
  TS_HTTP_CHUNKED_DONE,
} TsHttpChunkedState;

typedef struct
{
  TsHttpChunkedState state;
  guint64 remaining; /* bytes left in the current chunk's data */
  guint n_digits;
  gsize line_len;
} TsHttpChunked;

void ts_http_chunked_init (TsHttpChunked *self);

/* Decodes from @data, appending chunk data to @out. Returns the number of
 * bytes used (all of @len unless the body ends inside it), or
 * TS_PARSE_INVALID (the decoder then stays invalid). Bytes after the end of
 * the body are not used. */
gssize ts_http_chunked_feed (TsHttpChunked *self, const guint8 *data, gsize len, GByteArray *out);

/* TRUE once the last chunk and the trailer section have been read. */
gboolean ts_http_chunked_is_done (const TsHttpChunked *self);

/* Appends one chunk holding @len bytes of @data (none when @len is 0: use
 * ts_http_chunked_append_last () for the end). */
void ts_http_chunked_append_chunk (GByteArray *out, const void *data, gsize len);
/* Appends the last chunk and an empty trailer section. */
void ts_http_chunked_append_last (GByteArray *out);

G_END_DECLS
