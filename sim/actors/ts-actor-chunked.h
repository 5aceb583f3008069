/* ts-actor-chunked.h: a resumable decoder for the HTTP/1.1 chunked transfer coding.
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

#include "ts-actor-http-head.h"

G_BEGIN_DECLS

/* Caps on what input controls. */
#define TS_ACTOR_CHUNK_SIZE_DIGITS 15 /* hex digits in a chunk size: below 2^60, no overflow */
#define TS_ACTOR_CHUNK_LINE_MAX 4096  /* bytes in a chunk-size line (extensions) or trailer line */

typedef enum
{
  TS_ACTOR_CHUNKED_SIZE,
  TS_ACTOR_CHUNKED_EXT,
  TS_ACTOR_CHUNKED_SIZE_LF,
  TS_ACTOR_CHUNKED_DATA,
  TS_ACTOR_CHUNKED_DATA_CR,
  TS_ACTOR_CHUNKED_DATA_LF,
  TS_ACTOR_CHUNKED_TRAILER_START,
  TS_ACTOR_CHUNKED_TRAILER_LINE,
  TS_ACTOR_CHUNKED_TRAILER_LF,
  TS_ACTOR_CHUNKED_FINAL_LF,
  TS_ACTOR_CHUNKED_DONE,
} TsActorChunkedState;

typedef struct
{
  TsActorChunkedState state;
  guint64 remaining; /* bytes left in the current chunk's data */
  guint n_digits;
  gsize line_len;
} TsActorChunked;

void ts_actor_chunked_init (TsActorChunked *self);

/* Decodes from @data, appending chunk data to @out. Returns the number of
 * bytes used (all of @len unless the body ends inside it), or
 * TS_PARSE_INVALID (the decoder then stays invalid). Bytes after the end of
 * the body are not used. */
gssize ts_actor_chunked_feed (TsActorChunked *self, const guint8 *data, gsize len, GByteArray *out);

/* TRUE once the last chunk and the trailer section have been read. */
gboolean ts_actor_chunked_is_done (const TsActorChunked *self);

/* Appends one chunk holding @len bytes of @data (none when @len is 0: use
 * ts_actor_chunked_append_last () for the end). */
void ts_actor_chunked_append_chunk (GByteArray *out, const void *data, gsize len);
/* Appends the last chunk and an empty trailer section. */
void ts_actor_chunked_append_last (GByteArray *out);

G_END_DECLS
