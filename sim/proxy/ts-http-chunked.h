/* ts-http-chunked.h: a resumable decoder of the chunked transfer coding
 * (RFC 9112 §7.1) that checks framing and finds the end of a message.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 *   chunked-body = *chunk last-chunk trailer-section CRLF
 *   chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *   chunk-size   = 1*HEXDIG
 *   last-chunk   = 1*("0") [ chunk-ext ] CRLF
 *
 * The proxy forwards the chunked bytes as they are; this decoder only says
 * where the body ends and whether it is well formed.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Caps on what input controls. */
#define TS_HTTP_CHUNK_MAX_SIZE_DIGITS 16                            /* hex digits in a size */
#define TS_HTTP_CHUNK_MAX_SIZE ((G_GUINT64_CONSTANT (1) << 62) - 1) /* one chunk */
#define TS_HTTP_CHUNK_MAX_LINE 4096     /* chunk-ext or one trailer line */
#define TS_HTTP_CHUNK_MAX_TRAILER 32768 /* whole trailer section */

typedef enum
{
  TS_HTTP_CHUNKED_SIZE,         /* reading hex digits */
  TS_HTTP_CHUNKED_EXT,          /* after the size, up to CR */
  TS_HTTP_CHUNKED_SIZE_LF,      /* CR seen after size */
  TS_HTTP_CHUNKED_DATA,         /* chunk data */
  TS_HTTP_CHUNKED_DATA_CR,      /* expecting CR after data */
  TS_HTTP_CHUNKED_DATA_LF,      /* expecting LF after data */
  TS_HTTP_CHUNKED_TRAILER,      /* at the start of a trailer line */
  TS_HTTP_CHUNKED_TRAILER_LINE, /* inside a trailer line */
  TS_HTTP_CHUNKED_TRAILER_LF,   /* CR seen in a trailer line */
  TS_HTTP_CHUNKED_END_LF,       /* CR seen on the final empty line */
  TS_HTTP_CHUNKED_DONE,
  TS_HTTP_CHUNKED_INVALID,
} TsHttpChunkedState;

typedef struct
{
  TsHttpChunkedState state;
  guint64 remaining; /* bytes of the current chunk still to come */
  guint n_digits;
  gsize line_len;
  gsize trailer_len;
  gboolean last;     /* the size line being read is the last chunk */
  const char *error; /* when invalid: the rule broken (static) */
} TsHttpChunked;

void ts_http_chunked_init (TsHttpChunked *self);

/* Feeds @len bytes. Returns the number consumed: all of them, or fewer
 * when the message ended inside @data (the rest belongs to what follows);
 * or TS_HTTP_PARSE_INVALID (see self->error). */
gssize ts_http_chunked_feed (TsHttpChunked *self, const guint8 *data, gsize len);

/* As ts_http_chunked_feed (), and also removes the coding: copies the
 * chunk data found in @data (not the sizes, extensions, line ends or
 * trailer fields) to @out, which has room for @len bytes and may be @data
 * itself (it is written at or before what is read); sets *@out_len. */
gssize ts_http_chunked_decode (TsHttpChunked *self, const guint8 *data, gsize len, guint8 *out,
                               gsize *out_len);

static inline gboolean
ts_http_chunked_is_done (const TsHttpChunked *self)
{
  return self->state == TS_HTTP_CHUNKED_DONE;
}

G_END_DECLS
