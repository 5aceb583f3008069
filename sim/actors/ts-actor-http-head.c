/* ts-actor-http-head.c: a bounded, zero-copy HTTP/1.x head parser.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "ts-actor-http-head.h"

#include <string.h>

/* tchar (RFC 9110 §5.6.2). */
static gboolean
is_tchar (guchar c)
{
  if (g_ascii_isalnum (c))
    return TRUE;
  return c != '\0' && strchr ("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Finds the end of the line that starts at @pos: the line's length without
 * its terminator goes to @out_len, the index after the LF is returned.
 * Returns TS_PARSE_INCOMPLETE when no LF is in the buffer, TS_PARSE_INVALID
 * on a bare CR. */
static gssize
next_line (const char *data, gsize len, gsize pos, gsize *out_len)
{
  gsize i;

  for (i = pos; i < len; i++)
    {
      if (data[i] == '\n')
        {
          gsize end = i;
          if (end > pos && data[end - 1] == '\r')
            end--;
          *out_len = end - pos;
          return (gssize)(i + 1);
        }
      if (data[i] == '\r' && i + 1 < len && data[i + 1] != '\n')
        return TS_PARSE_INVALID;
    }
  return TS_PARSE_INCOMPLETE;
}

/* "HTTP/1." DIGIT: the minor version, or -1. */
static int
parse_version (const char *s, gsize len)
{
  if (len != 8 || memcmp (s, "HTTP/1.", 7) != 0 || !g_ascii_isdigit (s[7]))
    return -1;
  return s[7] - '0';
}

static gssize
parse_request_line (TsActorHttpHead *head, const char *line, gsize len)
{
  const char *sp1, *sp2;
  int minor;

  sp1 = memchr (line, ' ', len);
  if (sp1 == NULL || sp1 == line || (gsize)(sp1 - line) > TS_ACTOR_HTTP_MAX_METHOD)
    return TS_PARSE_INVALID;
  for (const char *p = line; p < sp1; p++)
    if (!is_tchar (*p))
      return TS_PARSE_INVALID;
  sp2 = memchr (sp1 + 1, ' ', len - (gsize)(sp1 + 1 - line));
  if (sp2 == NULL || sp2 == sp1 + 1)
    return TS_PARSE_INVALID;
  for (const char *p = sp1 + 1; p < sp2; p++)
    if ((guchar)*p <= 0x20 || (guchar)*p >= 0x7f)
      return TS_PARSE_INVALID;
  minor = parse_version (sp2 + 1, len - (gsize)(sp2 + 1 - line));
  if (minor < 0)
    return TS_PARSE_INVALID;

  head->method = line;
  head->method_len = (gsize)(sp1 - line);
  head->target = sp1 + 1;
  head->target_len = (gsize)(sp2 - sp1 - 1);
  head->version_minor = (guint)minor;
  return 0;
}

static gssize
parse_status_line (TsActorHttpHead *head, const char *line, gsize len)
{
  int minor;

  /* "HTTP/1.1 200" is the shortest: the reason phrase may be absent. */
  if (len < 12 || line[8] != ' ')
    return TS_PARSE_INVALID;
  minor = parse_version (line, 8);
  if (minor < 0)
    return TS_PARSE_INVALID;
  if (!g_ascii_isdigit (line[9]) || !g_ascii_isdigit (line[10]) || !g_ascii_isdigit (line[11]))
    return TS_PARSE_INVALID;
  if (len > 12 && line[12] != ' ')
    return TS_PARSE_INVALID;
  for (gsize i = 13; i < len; i++)
    if (((guchar)line[i] < 0x20 && line[i] != '\t') || line[i] == 0x7f)
      return TS_PARSE_INVALID;

  head->version_minor = (guint)minor;
  head->status = (guint)((line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0'));
  if (head->status < 100)
    return TS_PARSE_INVALID;
  head->reason = len > 13 ? line + 13 : line + len;
  head->reason_len = len > 13 ? len - 13 : 0;
  return 0;
}

static gssize
parse_field_line (TsActorHttpHead *head, const char *line, gsize len)
{
  const char *colon, *value, *end;
  TsActorHttpHeader *h;

  /* obs-fold (RFC 9112 §5.2): a server may reject it; we do. */
  if (line[0] == ' ' || line[0] == '\t')
    return TS_PARSE_INVALID;
  colon = memchr (line, ':', len);
  if (colon == NULL || colon == line)
    return TS_PARSE_INVALID;
  for (const char *p = line; p < colon; p++)
    if (!is_tchar (*p))
      return TS_PARSE_INVALID;
  value = colon + 1;
  end = line + len;
  while (value < end && (*value == ' ' || *value == '\t'))
    value++;
  while (end > value && (end[-1] == ' ' || end[-1] == '\t'))
    end--;
  for (const char *p = value; p < end; p++)
    if (((guchar)*p < 0x20 && *p != '\t') || *p == 0x7f)
      return TS_PARSE_INVALID;

  if (head->n_headers >= TS_ACTOR_HTTP_MAX_HEADERS)
    return TS_PARSE_TOO_LARGE;
  h = &head->headers[head->n_headers++];
  h->name = line;
  h->name_len = (gsize)(colon - line);
  h->value = value;
  h->value_len = (gsize)(end - value);
  return 0;
}

/* Whether the start of a request line, before its end has arrived, can
 * still become valid: a token, SP, visible characters, SP, "HTTP/1.x". This
 * refuses garbage at once instead of waiting for a line end that may never
 * come. */
static gboolean
partial_request_line_ok (const char *p, gsize len)
{
  static const char version[] = "HTTP/1.";
  int field = 0;
  gsize field_len = 0;

  for (gsize i = 0; i < len; i++)
    {
      guchar c = (guchar)p[i];

      if (c == '\r')
        return i + 1 == len; /* a CR can only be the last byte so far */
      if (c == ' ')
        {
          if (field_len == 0 || ++field > 2)
            return FALSE;
          field_len = 0;
          continue;
        }
      field_len++;
      if (field == 0 && (!is_tchar (c) || field_len > TS_ACTOR_HTTP_MAX_METHOD))
        return FALSE;
      if (field == 1 && (c <= 0x20 || c >= 0x7f))
        return FALSE;
      if (field == 2
          && (field_len > 8 || (field_len <= 7 && c != (guchar)version[field_len - 1])
              || (field_len == 8 && !g_ascii_isdigit (c))))
        return FALSE;
    }
  return TRUE;
}

static gssize
parse_head (TsActorHttpHead *out_head, const char *data, gsize len, gboolean request)
{
  TsActorHttpHead head = { 0 };
  gsize limit = MIN (len, (gsize)TS_ACTOR_HTTP_MAX_HEAD);
  gsize pos = 0, line_len = 0;
  gssize next, r;
  gboolean first = TRUE;

  g_return_val_if_fail (out_head != NULL, TS_PARSE_INVALID);
  g_return_val_if_fail (data != NULL || len == 0, TS_PARSE_INVALID);

  /* RFC 9112 §2.2: a server should ignore at least one empty line before
   * the request line. */
  if (request)
    {
      while (pos + 1 < limit && data[pos] == '\r' && data[pos + 1] == '\n' && pos < 4)
        pos += 2;
    }

  for (;;)
    {
      next = next_line (data, limit, pos, &line_len);
      if (next == TS_PARSE_INCOMPLETE && first && request
          && !partial_request_line_ok (data + pos, limit - pos))
        return TS_PARSE_INVALID;
      if (next == TS_PARSE_INCOMPLETE)
        return len >= TS_ACTOR_HTTP_MAX_HEAD ? TS_PARSE_TOO_LARGE : TS_PARSE_INCOMPLETE;
      if (next < 0)
        return next;
      if (first)
        {
          if (line_len == 0)
            return TS_PARSE_INVALID;
          r = request ? parse_request_line (&head, data + pos, line_len)
                      : parse_status_line (&head, data + pos, line_len);
          first = FALSE;
        }
      else if (line_len == 0)
        {
          *out_head = head;
          return next;
        }
      else
        r = parse_field_line (&head, data + pos, line_len);
      if (r < 0)
        return r;
      pos = (gsize)next;
    }
}

gssize
ts_actor_http_head_parse_request (TsActorHttpHead *out_head, const char *data, gsize len)
{
  return parse_head (out_head, data, len, TRUE);
}

gssize
ts_actor_http_head_parse_response (TsActorHttpHead *out_head, const char *data, gsize len)
{
  return parse_head (out_head, data, len, FALSE);
}

static gboolean
name_is (const TsActorHttpHeader *h, const char *name)
{
  return strlen (name) == h->name_len && g_ascii_strncasecmp (h->name, name, h->name_len) == 0;
}

const char *
ts_actor_http_head_get (const TsActorHttpHead *self, const char *name, gsize *out_len)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  for (guint i = 0; i < self->n_headers; i++)
    if (name_is (&self->headers[i], name))
      {
        if (out_len)
          *out_len = self->headers[i].value_len;
        return self->headers[i].value;
      }
  if (out_len)
    *out_len = 0;
  return NULL;
}

guint
ts_actor_http_head_count (const TsActorHttpHead *self, const char *name)
{
  guint n = 0;

  g_return_val_if_fail (self != NULL, 0);
  for (guint i = 0; i < self->n_headers; i++)
    if (name_is (&self->headers[i], name))
      n++;
  return n;
}

gboolean
ts_actor_http_head_has_token (const TsActorHttpHead *self, const char *name, const char *token)
{
  gsize token_len;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (token != NULL, FALSE);
  token_len = strlen (token);

  for (guint i = 0; i < self->n_headers; i++)
    {
      const char *p, *end;

      if (!name_is (&self->headers[i], name))
        continue;
      p = self->headers[i].value;
      end = p + self->headers[i].value_len;
      while (p < end)
        {
          const char *comma = memchr (p, ',', (gsize)(end - p));
          const char *e = comma ? comma : end;
          const char *s = p;

          while (s < e && (*s == ' ' || *s == '\t'))
            s++;
          while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
          if ((gsize)(e - s) == token_len && g_ascii_strncasecmp (s, token, token_len) == 0)
            return TRUE;
          p = comma ? comma + 1 : end;
        }
    }
  return FALSE;
}

gboolean
ts_actor_http_head_get_content_length (const TsActorHttpHead *self, gint64 *out_length)
{
  gint64 found = -1;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (out_length != NULL, FALSE);

  for (guint i = 0; i < self->n_headers; i++)
    {
      const TsActorHttpHeader *h = &self->headers[i];
      gint64 v = 0;

      if (!name_is (h, "Content-Length"))
        continue;
      /* 1*DIGIT, at most 15 digits so the value cannot overflow. */
      if (h->value_len == 0 || h->value_len > 15)
        return FALSE;
      for (gsize k = 0; k < h->value_len; k++)
        {
          if (!g_ascii_isdigit (h->value[k]))
            return FALSE;
          v = v * 10 + (h->value[k] - '0');
        }
      if (found >= 0 && found != v)
        return FALSE;
      found = v;
    }
  *out_length = found;
  return TRUE;
}

gboolean
ts_actor_http_head_method_is (const TsActorHttpHead *self, const char *method)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return self->method != NULL && strlen (method) == self->method_len
         && memcmp (self->method, method, self->method_len) == 0;
}

char *
ts_actor_http_head_dup (const char *view, gsize len)
{
  return g_strndup (view, len);
}
