/* ts-http-chunked.c: the chunked transfer coding decoder.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "ts-http-chunked.h"
#include "ts-http-request.h"

#include <string.h>

void
ts_http_chunked_init (TsHttpChunked *self)
{
  g_return_if_fail (self != NULL);
  *self = (TsHttpChunked){ .state = TS_HTTP_CHUNKED_SIZE };
}

static gssize
invalid (TsHttpChunked *self, const char *error)
{
  self->state = TS_HTTP_CHUNKED_INVALID;
  self->error = error;
  return TS_HTTP_PARSE_INVALID;
}

gssize
ts_http_chunked_feed (TsHttpChunked *self, const guint8 *data, gsize len)
{
  gsize i = 0;

  g_return_val_if_fail (self != NULL, TS_HTTP_PARSE_INVALID);
  if (self->state == TS_HTTP_CHUNKED_INVALID)
    return TS_HTTP_PARSE_INVALID;

  while (i < len && self->state != TS_HTTP_CHUNKED_DONE)
    {
      guint8 c = data[i];

      switch (self->state)
        {
          case TS_HTTP_CHUNKED_SIZE:
            if (g_ascii_isxdigit (c))
              {
                if (++self->n_digits > TS_HTTP_CHUNK_MAX_SIZE_DIGITS
                    || self->remaining > (TS_HTTP_CHUNK_MAX_SIZE >> 4))
                  return invalid (self, "chunk-size overflow (RFC 9112 §7.1)");
                self->remaining = (self->remaining << 4) | g_ascii_xdigit_value (c);
                i++;
                break;
              }
            if (self->n_digits == 0)
              return invalid (self, "chunk-size without digits (RFC 9112 §7.1)");
            self->last = self->remaining == 0;
            self->line_len = 0;
            if (c == '\r')
              self->state = TS_HTTP_CHUNKED_SIZE_LF;
            else if (c == ';' || c == ' ' || c == '\t')
              self->state = TS_HTTP_CHUNKED_EXT;
            else
              return invalid (self, "invalid byte after chunk-size (RFC 9112 §7.1)");
            i++;
            break;

          case TS_HTTP_CHUNKED_EXT:
            if (c == '\r')
              self->state = TS_HTTP_CHUNKED_SIZE_LF;
            else if ((c < 0x20 && c != '\t') || c == 0x7f)
              return invalid (self, "control byte in chunk-ext (RFC 9112 §7.1.1)");
            else if (++self->line_len > TS_HTTP_CHUNK_MAX_LINE)
              return invalid (self, "chunk-ext too long (convention)");
            i++;
            break;

          case TS_HTTP_CHUNKED_SIZE_LF:
            if (c != '\n')
              return invalid (self, "CR not followed by LF (RFC 9112 §7.1)");
            i++;
            if (self->last)
              {
                self->state = TS_HTTP_CHUNKED_TRAILER;
                self->trailer_len = 0;
              }
            else
              self->state = TS_HTTP_CHUNKED_DATA;
            break;

          case TS_HTTP_CHUNKED_DATA:
            {
              gsize take = MIN ((guint64)(len - i), self->remaining);

              i += take;
              self->remaining -= take;
              if (self->remaining == 0)
                self->state = TS_HTTP_CHUNKED_DATA_CR;
            }
            break;

          case TS_HTTP_CHUNKED_DATA_CR:
            if (c != '\r')
              return invalid (self, "chunk-data not followed by CRLF (RFC 9112 §7.1)");
            self->state = TS_HTTP_CHUNKED_DATA_LF;
            i++;
            break;

          case TS_HTTP_CHUNKED_DATA_LF:
            if (c != '\n')
              return invalid (self, "chunk-data not followed by CRLF (RFC 9112 §7.1)");
            self->state = TS_HTTP_CHUNKED_SIZE;
            self->n_digits = 0;
            self->remaining = 0;
            i++;
            break;

          case TS_HTTP_CHUNKED_TRAILER:
            if (c == '\r')
              self->state = TS_HTTP_CHUNKED_END_LF;
            else if (c == ' ' || c == '\t' || c == '\n')
              return invalid (self, "malformed trailer line (RFC 9112 §7.1.2)");
            else
              {
                self->state = TS_HTTP_CHUNKED_TRAILER_LINE;
                self->line_len = 1;
              }
            self->trailer_len++;
            i++;
            break;

          case TS_HTTP_CHUNKED_TRAILER_LINE:
            if (c == '\r')
              self->state = TS_HTTP_CHUNKED_TRAILER_LF;
            else if ((c < 0x20 && c != '\t') || c == 0x7f)
              return invalid (self, "control byte in trailer (RFC 9112 §7.1.2)");
            else if (++self->line_len > TS_HTTP_CHUNK_MAX_LINE)
              return invalid (self, "trailer line too long (convention)");
            if (++self->trailer_len > TS_HTTP_CHUNK_MAX_TRAILER)
              return invalid (self, "trailer section too large (convention)");
            i++;
            break;

          case TS_HTTP_CHUNKED_TRAILER_LF:
            if (c != '\n')
              return invalid (self, "CR not followed by LF (RFC 9112 §7.1.2)");
            self->state = TS_HTTP_CHUNKED_TRAILER;
            i++;
            break;

          case TS_HTTP_CHUNKED_END_LF:
            if (c != '\n')
              return invalid (self, "CR not followed by LF (RFC 9112 §7.1)");
            self->state = TS_HTTP_CHUNKED_DONE;
            i++;
            break;

          case TS_HTTP_CHUNKED_DONE:
          case TS_HTTP_CHUNKED_INVALID:
          default:
            g_assert_not_reached ();
        }
    }
  return i;
}

gssize
ts_http_chunked_decode (TsHttpChunked *self, const guint8 *data, gsize len, guint8 *out,
                        gsize *out_len)
{
  gsize i = 0, o = 0;

  g_return_val_if_fail (self != NULL && out_len != NULL, TS_HTTP_PARSE_INVALID);
  *out_len = 0;
  while (i < len && self->state != TS_HTTP_CHUNKED_DONE)
    {
      /* Chunk data in one piece; the framing around it a byte at a time
       * (a few bytes per chunk). */
      gsize n = self->state == TS_HTTP_CHUNKED_DATA ? MIN ((guint64)(len - i), self->remaining) : 1;
      gssize r;

      if (self->state == TS_HTTP_CHUNKED_DATA)
        {
          memmove (out + o, data + i, n);
          o += n;
        }
      r = ts_http_chunked_feed (self, data + i, n);
      if (r < 0)
        return r;
      i += r;
      if (r == 0 || (gsize)r < n)
        break;
    }
  *out_len = o;
  return i;
}
