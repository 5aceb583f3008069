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

gboolean
ts_http_response_get_framing (const TsHttpResponse *self, gboolean no_body,
                              TsHttpBodyKind *out_kind, guint64 *out_length,
                              gboolean *out_drop_length, const char **out_reason)
{
  gboolean have_cl = FALSE, have_te = FALSE, cl_valid = TRUE;
  gboolean te_chunked_last = FALSE, te_other = FALSE;
  guint64 cl = 0;

  g_return_val_if_fail (self != NULL, FALSE);

  *out_kind = TS_HTTP_BODY_NONE;
  *out_length = 0;
  *out_drop_length = FALSE;
  for (gsize i = 0; i < self->n_headers; i++)
    {
      const TsHttpHeader *h = &self->headers[i];

      if (ts_http_header_is (h, "Content-Length"))
        {
          guint64 v = 0;

          if (!_ts_http_parse_content_length (h->value, h->value_len, &v) || (have_cl && v != cl))
            cl_valid = FALSE;
          have_cl = TRUE;
          cl = v;
        }
      else if (ts_http_header_is (h, "Transfer-Encoding"))
        {
          have_te = TRUE;
          if (!_ts_http_scan_transfer_codings (h->value, h->value_len, &te_chunked_last, &te_other))
            return *out_reason = "chunked applied twice (RFC 9112 §7)", FALSE;
        }
    }
  if (no_body)
    return TRUE;
  if (have_te)
    {
      if (self->minor_version == 0)
        return *out_reason = "Transfer-Encoding in HTTP/1.0 (RFC 9112 §6.1)", FALSE;
      *out_drop_length = have_cl;
      *out_kind = te_chunked_last ? TS_HTTP_BODY_CHUNKED : TS_HTTP_BODY_UNTIL_CLOSE;
      return TRUE;
    }
  if (have_cl)
    {
      if (!cl_valid)
        return *out_reason = "invalid or differing Content-Length (RFC 9112 §6.3)", FALSE;
      *out_kind = cl > 0 ? TS_HTTP_BODY_LENGTH : TS_HTTP_BODY_NONE;
      *out_length = cl;
      return TRUE;
    }
  *out_kind = TS_HTTP_BODY_UNTIL_CLOSE;
  return TRUE;
}
