/* ts-http2.c: HTTP/2 frame headers and a resumable frame stream.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "ts-http2.h"

#include <string.h>

#include "ts-cursor.h"

gssize
ts_http2_parse_frame_header (const guint8 *data, gsize len, TsHttp2FrameHeader *out)
{
  TsCursor c;

  g_return_val_if_fail (out != NULL, TS_PARSE_INVALID);
  ts_cursor_init (&c, data, len);
  out->length = ts_cursor_be24 (&c);
  out->type = ts_cursor_u8 (&c);
  out->flags = ts_cursor_u8 (&c);
  out->stream_id = ts_cursor_be32 (&c) & 0x7fffffffu;
  if (c.failed)
    return TS_PARSE_INCOMPLETE;
  return 9;
}

const char *
ts_http2_frame_type_to_string (guint type)
{
  static const char *const names[]
      = { "DATA",         "HEADERS", "PRIORITY", "RST_STREAM",    "SETTINGS",
          "PUSH_PROMISE", "PING",    "GOAWAY",   "WINDOW_UPDATE", "CONTINUATION" };

  return type < G_N_ELEMENTS (names) ? names[type] : "unknown";
}

const char *
ts_http2_flags_to_string (guint type, guint flags, char *buf, gsize buf_len)
{
  GString *s = g_string_new (NULL);

  if ((type == TS_HTTP2_DATA || type == TS_HTTP2_HEADERS) && (flags & 0x1))
    g_string_append (s, "END_STREAM,");
  if ((type == TS_HTTP2_SETTINGS || type == TS_HTTP2_PING) && (flags & 0x1))
    g_string_append (s, "ACK,");
  if ((type == TS_HTTP2_HEADERS || type == TS_HTTP2_PUSH_PROMISE || type == TS_HTTP2_CONTINUATION)
      && (flags & 0x4))
    g_string_append (s, "END_HEADERS,");
  if ((type == TS_HTTP2_DATA || type == TS_HTTP2_HEADERS || type == TS_HTTP2_PUSH_PROMISE)
      && (flags & 0x8))
    g_string_append (s, "PADDED,");
  if (type == TS_HTTP2_HEADERS && (flags & 0x20))
    g_string_append (s, "PRIORITY,");
  if (s->len > 0)
    g_string_truncate (s, s->len - 1);
  g_strlcpy (buf, s->str, buf_len);
  g_string_free (s, TRUE);
  return buf;
}

const char *
ts_http2_setting_to_string (guint id)
{
  switch (id)
    {
      case 0x1:
        return "HEADER_TABLE_SIZE";
      case 0x2:
        return "ENABLE_PUSH";
      case 0x3:
        return "MAX_CONCURRENT_STREAMS";
      case 0x4:
        return "INITIAL_WINDOW_SIZE";
      case 0x5:
        return "MAX_FRAME_SIZE";
      case 0x6:
        return "MAX_HEADER_LIST_SIZE";
      case 0x8:
        return "ENABLE_CONNECT_PROTOCOL"; /* RFC 8441 */
      case 0x9:
        return "NO_RFC7540_PRIORITIES";
      case 0x33:
        return "H2_DATAGRAM"; /* RFC 9297 */
      default:
        return "unknown";
    }
}

const char *
ts_http2_error_to_string (guint code)
{
  static const char *const names[] = { "NO_ERROR",
                                       "PROTOCOL_ERROR",
                                       "INTERNAL_ERROR",
                                       "FLOW_CONTROL_ERROR",
                                       "SETTINGS_TIMEOUT",
                                       "STREAM_CLOSED",
                                       "FRAME_SIZE_ERROR",
                                       "REFUSED_STREAM",
                                       "CANCEL",
                                       "COMPRESSION_ERROR",
                                       "CONNECT_ERROR",
                                       "ENHANCE_YOUR_CALM",
                                       "INADEQUATE_SECURITY",
                                       "HTTP_1_1_REQUIRED" };

  return code < G_N_ELEMENTS (names) ? names[code] : "unknown";
}

struct _TsHttp2Stream
{
  TsHttp2FrameFunc frame_func;
  TsHttp2ErrorFunc error_func;
  gpointer user_data;
  gsize preface_left; /* preface bytes still to check */
  guint8 header[9];
  guint header_have;
  gboolean in_payload;
  gboolean dead;
  TsHttp2FrameHeader frame;
  guint64 frame_offset;
  guint32 payload_seen;
  guint8 preview[TS_HTTP2_PAYLOAD_PREVIEW];
  gsize preview_len;
  GByteArray *whole; /* the payload of a header-carrying frame, kept whole */
  gboolean keep_whole;
};

TsHttp2Stream *
ts_http2_stream_new (gboolean client, TsHttp2FrameFunc frame, TsHttp2ErrorFunc error,
                     gpointer user_data)
{
  TsHttp2Stream *self = g_new0 (TsHttp2Stream, 1);

  self->preface_left = client ? TS_HTTP2_PREFACE_LEN : 0;
  self->frame_func = frame;
  self->error_func = error;
  self->user_data = user_data;
  return self;
}

void
ts_http2_stream_free (TsHttp2Stream *self)
{
  if (self == NULL)
    return;
  if (self->whole != NULL)
    g_byte_array_unref (self->whole);
  g_free (self);
}

static void
frame_done (TsHttp2Stream *self)
{
  if (self->frame_func)
    self->frame_func (self->user_data, self->frame_offset, &self->frame,
                      self->keep_whole ? self->whole->data : self->preview,
                      self->keep_whole ? self->whole->len : self->preview_len);
  self->in_payload = FALSE;
  self->header_have = 0;
  self->payload_seen = 0;
  self->preview_len = 0;
  if (self->whole != NULL)
    g_byte_array_set_size (self->whole, 0);
}

void
ts_http2_stream_feed (TsHttp2Stream *self, guint64 offset, const guint8 *data, gsize len)
{
  g_return_if_fail (self != NULL);

  while (len > 0 && !self->dead)
    {
      if (self->preface_left > 0)
        {
          gsize at = TS_HTTP2_PREFACE_LEN - self->preface_left;
          gsize n = MIN (len, self->preface_left);
          if (memcmp (data, &TS_HTTP2_PREFACE[at], n) != 0)
            {
              self->dead = TRUE;
              if (self->error_func)
                self->error_func (self->user_data, offset,
                                  "not the HTTP/2 connection preface (RFC 9113 §3.4)");
              return;
            }
          self->preface_left -= n;
          offset += n;
          data += n;
          len -= n;
          continue;
        }
      if (!self->in_payload)
        {
          gsize n = MIN (len, sizeof self->header - self->header_have);
          if (self->header_have == 0)
            self->frame_offset = offset;
          memcpy (self->header + self->header_have, data, n);
          self->header_have += (guint)n;
          offset += n;
          data += n;
          len -= n;
          if (ts_http2_parse_frame_header (self->header, self->header_have, &self->frame) < 0)
            continue;
          self->in_payload = TRUE;
          self->keep_whole
              = (self->frame.type == TS_HTTP2_HEADERS || self->frame.type == TS_HTTP2_PUSH_PROMISE
                 || self->frame.type == TS_HTTP2_CONTINUATION)
                && self->frame.length <= TS_HTTP2_MAX_HEADER_FRAME;
          if (self->keep_whole && self->whole == NULL)
            self->whole = g_byte_array_new ();
          if (self->frame.length == 0)
            frame_done (self);
          continue;
        }
      {
        gsize n = MIN (len, (gsize)(self->frame.length - self->payload_seen));
        gsize keep = MIN (n, TS_HTTP2_PAYLOAD_PREVIEW - self->preview_len);
        memcpy (self->preview + self->preview_len, data, keep);
        self->preview_len += keep;
        if (self->keep_whole)
          g_byte_array_append (self->whole, data, (guint)n);
        self->payload_seen += (guint32)n;
        offset += n;
        data += n;
        len -= n;
        if (self->payload_seen == self->frame.length)
          frame_done (self);
      }
    }
}
