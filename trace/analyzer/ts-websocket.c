/* ts-websocket.c: WebSocket frame headers and a resumable frame stream.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "ts-websocket.h"

#include <string.h>

#include "ts-cursor.h"

gssize
ts_websocket_parse_header (const guint8 *data, gsize len, TsWebsocketFrame *out)
{
  TsCursor c;
  guint8 b0, b1;
  guint64 plen;

  g_return_val_if_fail (out != NULL, TS_PARSE_INVALID);
  memset (out, 0, sizeof *out);
  ts_cursor_init (&c, data, len);
  b0 = ts_cursor_u8 (&c);
  b1 = ts_cursor_u8 (&c);
  if (c.failed)
    return TS_PARSE_INCOMPLETE;
  out->fin = (b0 & 0x80) != 0;
  out->rsv = (b0 >> 4) & 0x07;
  out->opcode = b0 & 0x0f;
  out->masked = (b1 & 0x80) != 0;
  plen = b1 & 0x7f;
  if ((out->opcode >= 3 && out->opcode <= 7) || out->opcode >= 0xb)
    return TS_PARSE_INVALID;
  if (out->opcode >= 8 && (plen > 125 || !out->fin))
    return TS_PARSE_INVALID;
  if (plen == 126)
    plen = ts_cursor_be16 (&c);
  else if (plen == 127)
    {
      plen = ts_cursor_be64 (&c);
      if (!c.failed && (plen >> 63) != 0)
        return TS_PARSE_INVALID;
    }
  if (out->masked)
    {
      const guint8 *m = ts_cursor_bytes (&c, 4);
      if (m != NULL)
        memcpy (out->mask, m, 4);
    }
  if (c.failed)
    return TS_PARSE_INCOMPLETE;
  out->payload_len = plen;
  out->header_len = (guint)c.pos;
  return (gssize)c.pos;
}

const char *
ts_websocket_opcode_to_string (guint opcode)
{
  switch (opcode)
    {
      case TS_WEBSOCKET_CONTINUATION:
        return "continuation";
      case TS_WEBSOCKET_TEXT:
        return "text";
      case TS_WEBSOCKET_BINARY:
        return "binary";
      case TS_WEBSOCKET_CLOSE:
        return "close";
      case TS_WEBSOCKET_PING:
        return "ping";
      case TS_WEBSOCKET_PONG:
        return "pong";
      default:
        return "reserved";
    }
}

struct _TsWebsocketStream
{
  TsWebsocketFrameFunc frame_func;
  TsWebsocketErrorFunc error_func;
  gpointer user_data;
  guint8 header[14];
  guint header_have;
  gboolean in_payload;
  gboolean dead;
  TsWebsocketFrame frame;
  guint64 frame_offset;
  guint64 payload_seen;
  guint8 preview[TS_WEBSOCKET_PREVIEW];
  gsize preview_len;
};

TsWebsocketStream *
ts_websocket_stream_new (TsWebsocketFrameFunc frame, TsWebsocketErrorFunc error, gpointer user_data)
{
  TsWebsocketStream *self = g_new0 (TsWebsocketStream, 1);

  self->frame_func = frame;
  self->error_func = error;
  self->user_data = user_data;
  return self;
}

void
ts_websocket_stream_free (TsWebsocketStream *self)
{
  g_free (self);
}

static void
frame_done (TsWebsocketStream *self)
{
  if (self->frame_func)
    self->frame_func (self->user_data, self->frame_offset, &self->frame, self->preview,
                      self->preview_len);
  self->in_payload = FALSE;
  self->header_have = 0;
  self->preview_len = 0;
  self->payload_seen = 0;
}

void
ts_websocket_stream_feed (TsWebsocketStream *self, guint64 offset, const guint8 *data, gsize len)
{
  g_return_if_fail (self != NULL);

  while (len > 0 && !self->dead)
    {
      if (!self->in_payload)
        {
          gssize r;
          guint before = self->header_have;
          gsize n = MIN (len, sizeof self->header - self->header_have);

          if (self->header_have == 0)
            self->frame_offset = offset;
          memcpy (self->header + self->header_have, data, n);
          self->header_have += (guint)n;
          r = ts_websocket_parse_header (self->header, self->header_have, &self->frame);
          if (r == TS_PARSE_INCOMPLETE)
            {
              offset += n;
              data += n;
              len -= n;
              continue;
            }
          if (r == TS_PARSE_INVALID)
            {
              self->dead = TRUE;
              if (self->error_func)
                self->error_func (self->user_data, self->frame_offset,
                                  "invalid WebSocket frame header (RFC 6455 §5.2)");
              return;
            }
          /* Step over only the header's bytes of this chunk. */
          n = (gsize)r - before;
          offset += n;
          data += n;
          len -= n;
          self->in_payload = TRUE;
          self->payload_seen = 0;
          self->preview_len = 0;
          if (self->frame.payload_len == 0)
            frame_done (self);
          continue;
        }
      {
        guint64 left = self->frame.payload_len - self->payload_seen;
        gsize n = (gsize)MIN ((guint64)len, left);

        for (gsize i = 0; i < n && self->preview_len < TS_WEBSOCKET_PREVIEW; i++)
          {
            guint8 b = data[i];
            if (self->frame.masked)
              b ^= self->frame.mask[(self->payload_seen + i) % 4];
            self->preview[self->preview_len++] = b;
          }
        self->payload_seen += n;
        offset += n;
        data += n;
        len -= n;
        if (self->payload_seen == self->frame.payload_len)
          frame_done (self);
      }
    }
}
