/* ts-http2-headers.c: HTTP/2 header blocks, put together and decompressed.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "ts-http2-headers.h"

#include <nghttp2/nghttp2.h>
#include <string.h>

/* The largest dynamic table an encoder may ask for (RFC 7541 §4.2; the
 * receiver's SETTINGS_HEADER_TABLE_SIZE, which browsers set to 64 KiB). */
#define MAX_TABLE_SIZE 65536

/* RFC 9113 §6.2, §6.6 flags. */
#define FLAG_END_STREAM 0x1
#define FLAG_END_HEADERS 0x4
#define FLAG_PADDED 0x8
#define FLAG_PRIORITY 0x20

struct _TsHttp2HeaderDecoder
{
  nghttp2_hd_inflater *inflater;
  gboolean stopped;
  gboolean open; /* a block waits for CONTINUATION */
  guint32 frame_stream, stream;
  gboolean push, end_stream;
  GByteArray *block;   /* the compressed block so far */
  GByteArray *strings; /* "name\0value\0" of the decoded fields */
  GArray *fields;      /* TsHttp2Field */
};

TsHttp2HeaderDecoder *
ts_http2_header_decoder_new (void)
{
  TsHttp2HeaderDecoder *self = g_new0 (TsHttp2HeaderDecoder, 1);

  if (nghttp2_hd_inflate_new (&self->inflater) != 0)
    g_error ("nghttp2_hd_inflate_new: out of memory");
  (void)nghttp2_hd_inflate_change_table_size (self->inflater, MAX_TABLE_SIZE);
  self->block = g_byte_array_new ();
  self->strings = g_byte_array_new ();
  self->fields = g_array_new (FALSE, FALSE, sizeof (TsHttp2Field));
  return self;
}

void
ts_http2_header_decoder_free (TsHttp2HeaderDecoder *self)
{
  if (self == NULL)
    return;
  nghttp2_hd_inflate_del (self->inflater);
  g_byte_array_unref (self->block);
  g_byte_array_unref (self->strings);
  g_array_unref (self->fields);
  g_free (self);
}

static TsHttp2HeadersResult
stop (TsHttp2HeaderDecoder *self, TsHttp2HeaderBlock *out, const char *why)
{
  self->stopped = TRUE;
  memset (out, 0, sizeof *out);
  out->error = why;
  return TS_HTTP2_HEADERS_ERROR;
}

static guint32
be31 (const guint8 *p)
{
  return ((guint32)p[0] << 24 | (guint32)p[1] << 16 | (guint32)p[2] << 8 | p[3]) & 0x7fffffffu;
}

/* Decompresses self->block into self->fields. */
static const char *
inflate_block (TsHttp2HeaderDecoder *self)
{
  /* An empty block's buffer may be NULL: nghttp2 gets a valid pointer. */
  static const guint8 none[1];
  const guint8 *in = self->block->len > 0 ? self->block->data : none;
  gsize left = self->block->len;
  GArray *offsets = g_array_new (FALSE, FALSE, sizeof (gsize));

  g_byte_array_set_size (self->strings, 0);
  g_array_set_size (self->fields, 0);
  for (;;)
    {
      nghttp2_nv nv;
      int flags = 0;
      ssize_t n = nghttp2_hd_inflate_hd2 (self->inflater, &nv, &flags, in, left, 1);

      if (n < 0)
        {
          g_array_unref (offsets);
          return "HPACK: the header block does not decompress (RFC 7541)";
        }
      in += n;
      left -= (gsize)n;
      if (flags & NGHTTP2_HD_INFLATE_EMIT)
        {
          TsHttp2Field f = { NULL, NULL, nv.namelen, nv.valuelen };
          gsize at = self->strings->len;

          if (at + nv.namelen + nv.valuelen + 2 > TS_HTTP2_MAX_HEADER_BLOCK)
            {
              g_array_unref (offsets);
              return "HPACK: the decompressed header block is longer than "
                     "TS_HTTP2_MAX_HEADER_BLOCK";
            }
          g_byte_array_append (self->strings, nv.name, (guint)nv.namelen);
          g_byte_array_append (self->strings, (const guint8 *)"", 1);
          g_byte_array_append (self->strings, nv.value, (guint)nv.valuelen);
          g_byte_array_append (self->strings, (const guint8 *)"", 1);
          g_array_append_val (self->fields, f);
          g_array_append_val (offsets, at);
        }
      if (flags & NGHTTP2_HD_INFLATE_FINAL)
        {
          nghttp2_hd_inflate_end_headers (self->inflater);
          break;
        }
      if (!(flags & NGHTTP2_HD_INFLATE_EMIT) && left == 0)
        break;
    }
  /* The strings are where they stay now: point the fields at them. */
  for (guint i = 0; i < self->fields->len; i++)
    {
      TsHttp2Field *f = &g_array_index (self->fields, TsHttp2Field, i);
      gsize at = g_array_index (offsets, gsize, i);

      f->name = (const char *)self->strings->data + at;
      f->value = f->name + f->name_len + 1;
    }
  g_array_unref (offsets);
  return NULL;
}

TsHttp2HeadersResult
ts_http2_header_decoder_feed (TsHttp2HeaderDecoder *self, const TsHttp2FrameHeader *frame,
                              const guint8 *payload, gsize payload_len, TsHttp2HeaderBlock *out)
{
  gsize from = 0, to = payload_len;
  const char *why;

  g_return_val_if_fail (self != NULL && frame != NULL && out != NULL, TS_HTTP2_HEADERS_NONE);

  if (self->stopped)
    return TS_HTTP2_HEADERS_NONE;
  if (frame->type != TS_HTTP2_HEADERS && frame->type != TS_HTTP2_PUSH_PROMISE
      && frame->type != TS_HTTP2_CONTINUATION)
    {
      if (self->open)
        return stop (self, out,
                     "a frame between a header block and its CONTINUATION (RFC 9113 §6.10)");
      return TS_HTTP2_HEADERS_NONE;
    }
  if (payload_len < frame->length)
    return stop (self, out, "a header frame longer than TS_HTTP2_MAX_HEADER_FRAME");
  if (frame->type == TS_HTTP2_CONTINUATION)
    {
      if (!self->open || frame->stream_id != self->frame_stream)
        return stop (self, out, "CONTINUATION without its HEADERS (RFC 9113 §6.10)");
    }
  else
    {
      if (self->open)
        return stop (self, out, "a header block before the last one ended (RFC 9113 §6.10)");
      if (frame->flags & FLAG_PADDED)
        {
          if (to < 1 || (gsize)payload[0] >= to)
            return stop (self, out, "padding longer than the frame (RFC 9113 §6.2)");
          to -= payload[0];
          from = 1;
        }
      if (frame->type == TS_HTTP2_HEADERS && (frame->flags & FLAG_PRIORITY))
        from += 5;
      if (frame->type == TS_HTTP2_PUSH_PROMISE)
        {
          if (from + 4 > to)
            return stop (self, out, "PUSH_PROMISE without its promised stream (RFC 9113 §6.6)");
          self->stream = be31 (payload + from);
          from += 4;
        }
      else
        self->stream = frame->stream_id;
      if (from > to)
        return stop (self, out, "a HEADERS frame shorter than its fields (RFC 9113 §6.2)");
      self->frame_stream = frame->stream_id;
      self->push = frame->type == TS_HTTP2_PUSH_PROMISE;
      self->end_stream = frame->type == TS_HTTP2_HEADERS && (frame->flags & FLAG_END_STREAM);
      self->open = TRUE;
      g_byte_array_set_size (self->block, 0);
    }
  if (self->block->len + (to - from) > TS_HTTP2_MAX_HEADER_BLOCK)
    return stop (self, out, "a header block longer than TS_HTTP2_MAX_HEADER_BLOCK");
  if (to > from)
    g_byte_array_append (self->block, payload + from, (guint)(to - from));
  if (!(frame->flags & FLAG_END_HEADERS))
    return TS_HTTP2_HEADERS_MORE;
  self->open = FALSE;
  why = inflate_block (self);
  if (why != NULL)
    return stop (self, out, why);
  out->stream = self->stream;
  out->push = self->push;
  out->end_stream = self->end_stream;
  out->fields = (const TsHttp2Field *)(gpointer)self->fields->data;
  out->n_fields = self->fields->len;
  out->error = NULL;
  return TS_HTTP2_HEADERS_DONE;
}

const char *
ts_http2_header_block_get (const TsHttp2HeaderBlock *block, const char *name)
{
  for (guint i = 0; i < block->n_fields; i++)
    if (strcmp (block->fields[i].name, name) == 0)
      return block->fields[i].value;
  return NULL;
}
