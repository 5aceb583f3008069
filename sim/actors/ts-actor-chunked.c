/* ts-actor-chunked.c: the chunked transfer coding, decoded a byte at a time.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "ts-actor-chunked.h"

#include <stdio.h>

/* A state no valid input reaches; stays put once entered. */
#define STATE_INVALID ((TsActorChunkedState)-1)

void
ts_actor_chunked_init (TsActorChunked *self)
{
  g_return_if_fail (self != NULL);
  *self = (TsActorChunked){ .state = TS_ACTOR_CHUNKED_SIZE };
}

gboolean
ts_actor_chunked_is_done (const TsActorChunked *self)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return self->state == TS_ACTOR_CHUNKED_DONE;
}

static gssize
invalid (TsActorChunked *self)
{
  self->state = STATE_INVALID;
  return TS_PARSE_INVALID;
}

gssize
ts_actor_chunked_feed (TsActorChunked *self, const guint8 *data, gsize len, GByteArray *out)
{
  gsize i = 0;

  g_return_val_if_fail (self != NULL, TS_PARSE_INVALID);
  g_return_val_if_fail (data != NULL || len == 0, TS_PARSE_INVALID);
  g_return_val_if_fail (out != NULL, TS_PARSE_INVALID);

  if (self->state == STATE_INVALID)
    return TS_PARSE_INVALID;

  while (i < len && self->state != TS_ACTOR_CHUNKED_DONE)
    {
      guchar c = data[i];

      switch (self->state)
        {
          case TS_ACTOR_CHUNKED_SIZE:
            if (g_ascii_isxdigit (c))
              {
                if (++self->n_digits > TS_ACTOR_CHUNK_SIZE_DIGITS)
                  return invalid (self);
                self->remaining = self->remaining * 16 + (guint64)g_ascii_xdigit_value (c);
              }
            else if (self->n_digits == 0)
              return invalid (self);
            else if (c == ';' || c == ' ' || c == '\t')
              {
                self->state = TS_ACTOR_CHUNKED_EXT;
                self->line_len = 0;
              }
            else if (c == '\r')
              self->state = TS_ACTOR_CHUNKED_SIZE_LF;
            else if (c == '\n')
              goto size_line_done;
            else
              return invalid (self);
            i++;
            break;

          case TS_ACTOR_CHUNKED_EXT:
            /* Extensions are ignored (RFC 9112 §7.1.1), but bounded. */
            if (c == '\r')
              self->state = TS_ACTOR_CHUNKED_SIZE_LF;
            else if (c == '\n')
              goto size_line_done;
            else if ((c < 0x20 && c != '\t') || ++self->line_len > TS_ACTOR_CHUNK_LINE_MAX)
              return invalid (self);
            i++;
            break;

          case TS_ACTOR_CHUNKED_SIZE_LF:
            if (c != '\n')
              return invalid (self);
          size_line_done:
            i++;
            self->n_digits = 0;
            self->state
                = self->remaining == 0 ? TS_ACTOR_CHUNKED_TRAILER_START : TS_ACTOR_CHUNKED_DATA;
            break;

          case TS_ACTOR_CHUNKED_DATA:
            {
              gsize n = (gsize)MIN ((guint64)(len - i), self->remaining);
              g_byte_array_append (out, data + i, (guint)n);
              i += n;
              self->remaining -= n;
              if (self->remaining == 0)
                self->state = TS_ACTOR_CHUNKED_DATA_CR;
            }
            break;

          case TS_ACTOR_CHUNKED_DATA_CR:
            if (c == '\r')
              self->state = TS_ACTOR_CHUNKED_DATA_LF;
            else if (c == '\n')
              self->state = TS_ACTOR_CHUNKED_SIZE;
            else
              return invalid (self);
            i++;
            break;

          case TS_ACTOR_CHUNKED_DATA_LF:
            if (c != '\n')
              return invalid (self);
            self->state = TS_ACTOR_CHUNKED_SIZE;
            i++;
            break;

          case TS_ACTOR_CHUNKED_TRAILER_START:
            if (c == '\r')
              self->state = TS_ACTOR_CHUNKED_FINAL_LF;
            else if (c == '\n')
              self->state = TS_ACTOR_CHUNKED_DONE;
            else if (c < 0x20 || c == 0x7f)
              return invalid (self);
            else
              {
                self->state = TS_ACTOR_CHUNKED_TRAILER_LINE;
                self->line_len = 1;
              }
            i++;
            break;

          case TS_ACTOR_CHUNKED_TRAILER_LINE:
            if (c == '\r')
              self->state = TS_ACTOR_CHUNKED_TRAILER_LF;
            else if (c == '\n')
              self->state = TS_ACTOR_CHUNKED_TRAILER_START;
            else if ((c < 0x20 && c != '\t') || ++self->line_len > TS_ACTOR_CHUNK_LINE_MAX)
              return invalid (self);
            i++;
            break;

          case TS_ACTOR_CHUNKED_TRAILER_LF:
            if (c != '\n')
              return invalid (self);
            self->state = TS_ACTOR_CHUNKED_TRAILER_START;
            i++;
            break;

          case TS_ACTOR_CHUNKED_FINAL_LF:
            if (c != '\n')
              return invalid (self);
            self->state = TS_ACTOR_CHUNKED_DONE;
            i++;
            break;

          case TS_ACTOR_CHUNKED_DONE:
          default:
            g_assert_not_reached ();
        }
    }
  return (gssize)i;
}

void
ts_actor_chunked_append_chunk (GByteArray *out, const void *data, gsize len)
{
  char size[32];
  int n;

  g_return_if_fail (out != NULL);
  if (len == 0)
    return;
  n = snprintf (size, sizeof size, "%zx\r\n", len);
  g_byte_array_append (out, (const guint8 *)size, (guint)n);
  g_byte_array_append (out, data, (guint)len);
  g_byte_array_append (out, (const guint8 *)"\r\n", 2);
}

void
ts_actor_chunked_append_last (GByteArray *out)
{
  g_return_if_fail (out != NULL);
  g_byte_array_append (out, (const guint8 *)"0\r\n\r\n", 5);
}
