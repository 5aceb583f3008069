/* ts-http-request.c: the HTTP/1.1 request-head decoder and framing rules.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "ts-http-private.h"

#include <string.h>

gboolean
_ts_http_is_tchar (guchar c)
{
  /* tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
   *         "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA */
  return g_ascii_isalnum (c) || (c != 0 && strchr ("!#$%&'*+-.^_`|~", c) != NULL);
}

static gboolean
fail (guint *out_status, const char **out_reason, guint status, const char *reason)
{
  *out_status = status;
  *out_reason = reason;
  return FALSE;
}

gssize
_ts_http_find_head_end (const char *data, gsize len, gsize start, gsize last_len, gsize max_line,
                        guint *out_status, const char **out_reason)
{
  gsize i = last_len > start + 3 ? last_len - 3 : start;
  const char *lf;

  for (; i < len; i++)
    {
      char c = data[i];

      if (c == '\r')
        {
          if (i + 1 < len && data[i + 1] != '\n')
            return fail (out_status, out_reason, 400, "CR not followed by LF (RFC 9112 §2.2)"),
                   TS_HTTP_PARSE_INVALID;
        }
      else if (c == '\n')
        {
          if (i == start || data[i - 1] != '\r')
            return fail (out_status, out_reason, 400, "bare LF (RFC 9112 §2.2)"),
                   TS_HTTP_PARSE_INVALID;
          if (i >= start + 3 && data[i - 2] == '\n')
            {
              gsize end = i + 1;

              lf = memchr (data + start, '\n', end - start);
              if ((gsize)(lf - (data + start)) > max_line)
                return fail (out_status, out_reason, 414, "request line too long (convention)"),
                       TS_HTTP_PARSE_INVALID;
              if (end - start > TS_HTTP_MAX_HEAD)
                return fail (out_status, out_reason, 431, "header section too large (RFC 6585 §5)"),
                       TS_HTTP_PARSE_INVALID;
              return end;
            }
        }
    }
  /* Incomplete: the caps already apply. */
  lf = memchr (data + start, '\n', MIN (len - start, max_line + 1));
  if (lf == NULL && len - start > max_line)
    return fail (out_status, out_reason, 414, "request line too long (convention)"),
           TS_HTTP_PARSE_INVALID;
  if (len - start > TS_HTTP_MAX_HEAD)
    return fail (out_status, out_reason, 431, "header section too large (RFC 6585 §5)"),
           TS_HTTP_PARSE_INVALID;
  return TS_HTTP_PARSE_INCOMPLETE;
}

gboolean
_ts_http_parse_fields (const char *p, const char *end, TsHttpHeader *headers, gsize *out_n,
                       guint *out_status, const char **out_reason)
{
  gsize n = 0;

  *out_n = 0;
  for (;;)
    {
      const char *name = p, *value, *vend;

      if (p[0] == '\r')
        {
          /* The empty line; the caller found CRLF CRLF here. */
          g_assert (p + 2 == end && p[1] == '\n');
          break;
        }
      if (p[0] == ' ' || p[0] == '\t')
        return fail (out_status, out_reason, 400, "obs-fold (RFC 9112 §5.2)");
      while (p < end && _ts_http_is_tchar ((guchar)*p))
        p++;
      if (p == name)
        return fail (out_status, out_reason, 400, "empty or invalid field name (RFC 9110 §5.1)");
      if (*p == ' ' || *p == '\t')
        return fail (out_status, out_reason, 400,
                     "whitespace between field name and colon (RFC 9112 §5.1)");
      if (*p != ':')
        return fail (out_status, out_reason, 400, "invalid byte in field name (RFC 9110 §5.1)");
      if (n == TS_HTTP_MAX_HEADERS)
        return fail (out_status, out_reason, 431, "too many header fields (RFC 6585 §5)");
      headers[n].name = name;
      headers[n].name_len = p - name;
      p++;
      while (*p == ' ' || *p == '\t')
        p++;
      value = p;
      for (; *p != '\r'; p++)
        {
          guchar c = (guchar)*p;

          if (c < 0x20 && c != '\t')
            return fail (out_status, out_reason, 400,
                         "control byte or NUL in field value (RFC 9110 §5.5)");
          if (c == 0x7f)
            return fail (out_status, out_reason, 400, "DEL in field value (RFC 9110 §5.5)");
        }
      vend = p;
      while (vend > value && (vend[-1] == ' ' || vend[-1] == '\t'))
        vend--;
      headers[n].value = value;
      headers[n].value_len = vend - value;
      n++;
      p += 2; /* CRLF, checked by _ts_http_find_head_end () */
    }
  *out_n = n;
  return TRUE;
}

gssize
ts_http_request_parse (TsHttpRequest *self, const char *data, gsize len, gsize last_len)
{
  gsize start = 0;
  gssize end;
  const char *p, *line_end, *e;
  guint n_crlf = 0;

  g_return_val_if_fail (self != NULL, TS_HTTP_PARSE_INVALID);
  g_return_val_if_fail (data != NULL || len == 0, TS_HTTP_PARSE_INVALID);

  self->n_headers = 0;
  self->status = 0;
  self->reason = NULL;

  /* RFC 9112 §2.2: a server SHOULD ignore at least one empty line before
   * the request line. */
  while (start < len && data[start] == '\r')
    {
      if (start + 1 >= len)
        return TS_HTTP_PARSE_INCOMPLETE;
      if (data[start + 1] != '\n')
        return fail (&self->status, &self->reason, 400, "CR not followed by LF (RFC 9112 §2.2)"),
               TS_HTTP_PARSE_INVALID;
      if (++n_crlf > TS_HTTP_MAX_LEADING_CRLF)
        return fail (&self->status, &self->reason, 400,
                     "too many empty lines before the request line (RFC 9112 §2.2)"),
               TS_HTTP_PARSE_INVALID;
      start += 2;
    }
  if (start == len)
    return TS_HTTP_PARSE_INCOMPLETE;

  /* The method is checked as it arrives, so that a client speaking another
   * protocol (a TLS ClientHello starts 0x16) is refused at once rather
   * than when a timeout fires. */
  for (gsize i = start; i < len && data[i] != ' '; i++)
    if (!_ts_http_is_tchar ((guchar)data[i]))
      return fail (&self->status, &self->reason, 400, "malformed method (RFC 9112 §3.1)"),
             TS_HTTP_PARSE_INVALID;

  end = _ts_http_find_head_end (data, len, start, last_len, TS_HTTP_MAX_REQUEST_LINE, &self->status,
                                &self->reason);
  if (end < 0)
    return end;

  /* request-line = method SP request-target SP HTTP-version */
  p = data + start;
  e = data + end;
  line_end = memchr (p, '\r', e - p);
  g_assert (line_end != NULL);
  self->method = p;
  while (p < line_end && _ts_http_is_tchar ((guchar)*p))
    p++;
  self->method_len = p - self->method;
  if (self->method_len == 0 || p == line_end || *p != ' ')
    return fail (&self->status, &self->reason, 400, "malformed method (RFC 9112 §3.1)"),
           TS_HTTP_PARSE_INVALID;
  p++;
  self->target = p;
  while (p < line_end && (guchar)*p > 0x20 && (guchar)*p < 0x7f)
    p++;
  self->target_len = p - self->target;
  if (self->target_len == 0 || p == line_end || *p != ' ')
    return fail (&self->status, &self->reason, 400, "malformed request target (RFC 9112 §3.2)"),
           TS_HTTP_PARSE_INVALID;
  p++;
  /* HTTP-version = "HTTP/" DIGIT "." DIGIT (§2.3) */
  if (line_end - p != 8 || memcmp (p, "HTTP/", 5) != 0 || !g_ascii_isdigit (p[5]) || p[6] != '.'
      || !g_ascii_isdigit (p[7]))
    return fail (&self->status, &self->reason, 400, "malformed HTTP version (RFC 9112 §2.3)"),
           TS_HTTP_PARSE_INVALID;
  if (p[5] != '1')
    return fail (&self->status, &self->reason, 505, "HTTP major version not 1 (RFC 9110 §15.6.6)"),
           TS_HTTP_PARSE_INVALID;
  self->minor_version = p[7] - '0';

  if (!_ts_http_parse_fields (line_end + 2, e, self->headers, &self->n_headers, &self->status,
                              &self->reason))
    return TS_HTTP_PARSE_INVALID;
  return end;
}

gboolean
ts_http_method_is (const char *method, gsize len, const char *expected)
{
  return strlen (expected) == len && memcmp (method, expected, len) == 0;
}

gboolean
ts_http_header_is (const TsHttpHeader *hdr, const char *name)
{
  return strlen (name) == hdr->name_len
         && g_ascii_strncasecmp (hdr->name, name, hdr->name_len) == 0;
}

gssize
ts_http_request_find_header (const TsHttpRequest *self, const char *name, gsize start)
{
  for (gsize i = start; i < self->n_headers; i++)
    if (ts_http_header_is (&self->headers[i], name))
      return i;
  return -1;
}

gboolean
_ts_http_parse_content_length (const char *v, gsize len, guint64 *out)
{
  gboolean have = FALSE;
  guint64 first = 0;
  gsize i = 0;

  while (i < len)
    {
      guint64 n = 0;
      gsize digits = 0;

      while (i < len && g_ascii_isdigit (v[i]))
        {
          if (n > TS_HTTP_MAX_CONTENT_LENGTH / 10)
            return FALSE;
          n = n * 10 + (v[i] - '0');
          if (n > TS_HTTP_MAX_CONTENT_LENGTH)
            return FALSE;
          i++;
          digits++;
        }
      if (digits == 0 || (have && n != first))
        return FALSE;
      first = n;
      have = TRUE;
      while (i < len && (v[i] == ' ' || v[i] == '\t'))
        i++;
      if (i < len)
        {
          if (v[i] != ',')
            return FALSE;
          i++;
          while (i < len && (v[i] == ' ' || v[i] == '\t'))
            i++;
          if (i == len)
            return FALSE;
        }
    }
  *out = first;
  return have;
}

gboolean
_ts_http_scan_transfer_codings (const char *value, gsize len, gboolean *inout_chunked_last,
                                gboolean *inout_other)
{
  const char *v = value, *ve = value + len;

  while (v < ve)
    {
      const char *t;
      gsize tl;

      while (v < ve && (*v == ' ' || *v == '\t' || *v == ','))
        v++;
      t = v;
      while (v < ve && *v != ',' && *v != ';')
        v++;
      tl = v - t;
      while (tl > 0 && (t[tl - 1] == ' ' || t[tl - 1] == '\t'))
        tl--;
      while (v < ve && *v != ',') /* parameters */
        v++;
      if (tl == 0)
        continue;
      if (tl == 7 && g_ascii_strncasecmp (t, "chunked", 7) == 0)
        {
          if (*inout_chunked_last)
            return FALSE;
          *inout_chunked_last = TRUE;
        }
      else
        {
          *inout_chunked_last = FALSE;
          *inout_other = TRUE;
        }
    }
  return TRUE;
}

gboolean
ts_http_request_get_framing (const TsHttpRequest *self, TsHttpBodyKind *out_kind,
                             guint64 *out_length, guint *out_status, const char **out_reason)
{
  gboolean have_cl = FALSE, have_te = FALSE;
  guint64 cl = 0;
  gsize n_host = 0;
  gboolean te_chunked_last = FALSE, te_other = FALSE;

  g_return_val_if_fail (self != NULL, FALSE);

  for (gsize i = 0; i < self->n_headers; i++)
    {
      const TsHttpHeader *h = &self->headers[i];

      if (ts_http_header_is (h, "Host"))
        n_host++;
      else if (ts_http_header_is (h, "Content-Length"))
        {
          guint64 v;

          if (!_ts_http_parse_content_length (h->value, h->value_len, &v))
            return fail (out_status, out_reason, 400,
                         "invalid Content-Length (RFC 9112 §6.3, RFC 9110 §8.6)");
          if (have_cl && v != cl)
            return fail (out_status, out_reason, 400,
                         "differing Content-Length values (RFC 9112 §6.3)");
          have_cl = TRUE;
          cl = v;
        }
      else if (ts_http_header_is (h, "Transfer-Encoding"))
        {
          /* transfer-coding list: the last one must be chunked. */
          have_te = TRUE;
          if (!_ts_http_scan_transfer_codings (h->value, h->value_len, &te_chunked_last, &te_other))
            return fail (out_status, out_reason, 400, "chunked applied twice (RFC 9112 §7)");
        }
    }

  if (self->minor_version >= 1 && n_host == 0)
    return fail (out_status, out_reason, 400, "missing Host in HTTP/1.1 (RFC 9112 §3.2)");
  if (n_host > 1)
    return fail (out_status, out_reason, 400, "more than one Host (RFC 9112 §3.2)");
  if (have_te)
    {
      if (have_cl)
        return fail (out_status, out_reason, 400,
                     "Transfer-Encoding with Content-Length (RFC 9112 §6.1, §6.3)");
      if (self->minor_version == 0)
        return fail (out_status, out_reason, 400, "Transfer-Encoding in HTTP/1.0 (RFC 9112 §6.1)");
      if (!te_chunked_last)
        return fail (out_status, out_reason, 400,
                     "chunked is not the final transfer coding (RFC 9112 §6.3)");
      if (te_other)
        return fail (out_status, out_reason, 501,
                     "transfer coding other than chunked (RFC 9112 §6.1)");
      *out_kind = TS_HTTP_BODY_CHUNKED;
      *out_length = 0;
      return TRUE;
    }
  if (have_cl && cl > 0)
    {
      *out_kind = TS_HTTP_BODY_LENGTH;
      *out_length = cl;
      return TRUE;
    }
  *out_kind = TS_HTTP_BODY_NONE;
  *out_length = 0;
  return TRUE;
}
