/* ts-http-response.c: the HTTP/1.1 response-head decoder.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "ts-http-response.h"
#include "ts-http-private.h"

#include <string.h>

gssize
ts_http_response_parse (TsHttpResponse *self, const char *data, gsize len, gsize last_len)
{
  guint status = 0;
  const char *reason = NULL;
  const char *p, *line_end;
  gssize end;

  g_return_val_if_fail (self != NULL, TS_HTTP_PARSE_INVALID);
  g_return_val_if_fail (data != NULL || len == 0, TS_HTTP_PARSE_INVALID);

  self->n_headers = 0;
  self->error = NULL;
  if (len == 0)
    return TS_HTTP_PARSE_INCOMPLETE;
  end = _ts_http_find_head_end (data, len, 0, last_len, TS_HTTP_MAX_REQUEST_LINE, &status, &reason);
  if (end < 0)
    {
      self->error = reason;
      return end;
    }
  p = data;
  line_end = memchr (p, '\r', end);
  /* HTTP-version SP 3DIGIT SP */
  if (line_end - p < 12 || memcmp (p, "HTTP/1.", 7) != 0 || !g_ascii_isdigit (p[7]) || p[8] != ' '
      || !g_ascii_isdigit (p[9]) || !g_ascii_isdigit (p[10]) || !g_ascii_isdigit (p[11])
      || p[9] == '0' || (line_end - p > 12 && p[12] != ' '))
    {
      self->error = "malformed status line (RFC 9112 §4)";
      return TS_HTTP_PARSE_INVALID;
    }
  self->minor_version = p[7] - '0';
  self->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
  self->reason_phrase = line_end - p > 12 ? p + 13 : line_end;
  self->reason_phrase_len = line_end - self->reason_phrase;
  for (const char *r = self->reason_phrase; r < line_end; r++)
    if (((guchar)*r < 0x20 && *r != '\t') || *r == 0x7f)
      {
        self->error = "control byte in reason phrase (RFC 9112 §4)";
        return TS_HTTP_PARSE_INVALID;
      }
  if (!_ts_http_parse_fields (line_end + 2, data + end, self->headers, &self->n_headers, &status,
                              &reason))
    {
      self->error = reason;
      return TS_HTTP_PARSE_INVALID;
    }
  return end;
}

gssize
ts_http_response_find_header (const TsHttpResponse *self, const char *name, gsize start)
{
  for (gsize i = start; i < self->n_headers; i++)
    if (ts_http_header_is (&self->headers[i], name))
      return i;
  return -1;
}
