/* ts-http1.c: HTTP/1.x heads, body framing and the switch to a tunnel.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "ts-http1.h"

#include <string.h>

/* RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" /
 * "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA */
static gboolean
is_tchar (guint8 c)
{
  return g_ascii_isalnum (c) || (c != 0 && strchr ("!#$%&'*+-.^_`|~", c) != NULL);
}

static gboolean
is_vchar_or_obs (guint8 c)
{
  return c > 0x20 && c != 0x7f;
}

/* Finds the end of a head: the index after "\n\n" or "\n\r\n", searching
 * from @from. Returns 0 when not found. */
static gsize
find_head_end (const guint8 *data, gsize len, gsize from)
{
  for (gsize i = from; i < len; i++)
    {
      if (data[i] != '\n')
        continue;
      if (i + 1 < len && data[i + 1] == '\n')
        return i + 2;
      if (i + 2 < len && data[i + 1] == '\r' && data[i + 2] == '\n')
        return i + 3;
    }
  return 0;
}

/* Reads one line ending at LF (CR before it dropped) starting at *pos.
 * Returns FALSE on a bare CR inside the line. */
static gboolean
next_line (const guint8 *data, gsize len, gsize *pos, gsize *out_start, gsize *out_len)
{
  gsize s = *pos, e = s;

  while (e < len && data[e] != '\n')
    e++;
  g_assert (e < len);
  *out_start = s;
  *out_len = e - s;
  if (*out_len > 0 && data[e - 1] == '\r')
    (*out_len)--;
  for (gsize i = s; i < s + *out_len; i++)
    if (data[i] == '\r')
      return FALSE;
  *pos = e + 1;
  return TRUE;
}

/* The field value in [*vs, *ve) without its OWS on either side (RFC 9112
 * §5); FALSE when it holds a control character other than HTAB. */
static gboolean
field_value (const guint8 *data, gsize *vs, gsize *ve)
{
  while (*vs < *ve && (data[*vs] == ' ' || data[*vs] == '\t'))
    (*vs)++;
  while (*ve > *vs && (data[*ve - 1] == ' ' || data[*ve - 1] == '\t'))
    (*ve)--;
  for (gsize i = *vs; i < *ve; i++)
    if ((data[i] < 0x20 && data[i] != '\t') || data[i] == 0x7f)
      return FALSE;
  return TRUE;
}

/* Whether a head (@len bytes, ending in its empty line) continues a field
 * line on the next: a line after the first that starts with SP or HTAB
 * (obs-fold, RFC 9112 §5.2). */
static gboolean
folded (const guint8 *data, gsize len)
{
  for (gsize i = 0; i + 1 < len; i++)
    if (data[i] == '\n' && (data[i + 1] == ' ' || data[i + 1] == '\t'))
      return TRUE;
  return FALSE;
}

/* RFC 9112 §5:
 *
 *   field-line   = field-name ":" OWS field-value OWS
 *   obs-fold     = OWS CRLF RWS   ; obsolete line folding, §5.2
 *
 * A line that starts with SP or HTAB continues the field before it. A
 * server may reject that in a request and a user agent must take it in a
 * response, each fold as SP: with @allow_fold (responses) the field's value
 * runs on over its continuation lines, its folds left in place (the head is
 * not copied), and the field is marked folded; without it (requests) the
 * head is invalid. */
static gboolean
parse_fields (const guint8 *data, gsize len, gsize pos, gboolean allow_fold, TsHttp1Head *out)
{
  out->n_headers = 0;
  out->n_folded = 0;
  for (;;)
    {
      gsize ls, ll, colon = 0, vs, ve;
      TsHttp1Header *h;

      if (!next_line (data, len, &pos, &ls, &ll))
        return FALSE;
      if (ll == 0)
        return TRUE;
      if (data[ls] == ' ' || data[ls] == '\t')
        {
          /* A continuation line before any field is whitespace after the
           * start line (§2.2), not a fold: rejected too. */
          if (!allow_fold || out->n_headers == 0)
            return FALSE;
          h = &out->headers[out->n_headers - 1];
          vs = ls;
          ve = ls + ll;
          if (!field_value (data, &vs, &ve))
            return FALSE;
          if (!h->folded)
            out->n_folded++;
          h->folded = TRUE;
          if (vs == ve)
            continue;
          if (h->value_len == 0)
            h->value = (const char *)data + vs;
          h->value_len = (gsize)((const char *)data + ve - h->value);
          continue;
        }
      while (colon < ll && data[ls + colon] != ':')
        {
          if (!is_tchar (data[ls + colon]))
            return FALSE;
          colon++;
        }
      if (colon == 0 || colon == ll)
        return FALSE;
      if (out->n_headers == TS_HTTP1_MAX_HEADERS)
        return FALSE;
      vs = ls + colon + 1;
      ve = ls + ll;
      if (!field_value (data, &vs, &ve))
        return FALSE;
      h = &out->headers[out->n_headers++];
      h->name = (const char *)data + ls;
      h->name_len = colon;
      h->value = (const char *)data + vs;
      h->value_len = ve - vs;
      h->folded = FALSE;
    }
}

/* "HTTP/1.x" at data[pos..pos+8): sets minor version. */
static gboolean
parse_version (const guint8 *p, gsize n, int *minor)
{
  if (n != 8 || memcmp (p, "HTTP/1.", 7) != 0 || !g_ascii_isdigit (p[7]))
    return FALSE;
  *minor = p[7] - '0';
  return TRUE;
}

static gboolean
classify_target (TsHttp1Head *out)
{
  const char *t = out->target;
  gsize n = out->target_len;
  gboolean is_connect = out->method_len == 7 && memcmp (out->method, "CONNECT", 7) == 0;

  if (is_connect)
    {
      /* authority-form: host ":" port, host possibly an IPv6 literal. */
      const char *colon = NULL;
      for (gsize i = 0; i < n; i++)
        if (t[i] == ':')
          colon = t + i;
        else if (t[i] == '/' || t[i] == '?' || t[i] == '#' || t[i] == '@')
          return FALSE;
      if (colon == NULL || colon == t || colon == t + n - 1)
        return FALSE;
      for (const char *q = colon + 1; q < t + n; q++)
        if (!g_ascii_isdigit (*q))
          return FALSE;
      out->target_form = TS_HTTP1_TARGET_AUTHORITY;
      return TRUE;
    }
  if (n == 1 && t[0] == '*')
    {
      out->target_form = TS_HTTP1_TARGET_ASTERISK;
      return TRUE;
    }
  if (t[0] == '/')
    {
      out->target_form = TS_HTTP1_TARGET_ORIGIN;
      return TRUE;
    }
  /* absolute-form: scheme ":" hier-part; a scheme starts with a letter. */
  if (g_ascii_isalpha (t[0]))
    {
      for (gsize i = 1; i < n; i++)
        {
          if (t[i] == ':')
            {
              out->target_form = TS_HTTP1_TARGET_ABSOLUTE;
              return TRUE;
            }
          if (!g_ascii_isalnum (t[i]) && t[i] != '+' && t[i] != '-' && t[i] != '.')
            break;
        }
    }
  return FALSE;
}

/* Rejects early what cannot become a request line, so garbage does not
 * wait for TS_HTTP1_MAX_HEAD bytes. */
static gboolean
request_prefix_plausible (const guint8 *data, gsize len)
{
  gsize i = 0;

  while (i < len && is_tchar (data[i]))
    i++;
  if (i == len)
    return i <= 32;
  return i > 0 && i <= 32 && data[i] == ' ';
}

gssize
ts_http1_parse_request (const guint8 *data, gsize len, TsHttp1Head *out)
{
  gsize end, pos = 0, ls, ll, sp1, sp2;

  g_return_val_if_fail (data != NULL || len == 0, TS_PARSE_INVALID);
  g_return_val_if_fail (out != NULL, TS_PARSE_INVALID);

  memset (out, 0, G_STRUCT_OFFSET (TsHttp1Head, headers));
  out->n_headers = 0;
  out->is_request = TRUE;
  if (!request_prefix_plausible (data, MIN (len, 33)))
    return TS_PARSE_INVALID;
  end = find_head_end (data, len, 0);
  if (end == 0)
    return len > TS_HTTP1_MAX_HEAD ? TS_PARSE_INVALID : TS_PARSE_INCOMPLETE;
  if (end > TS_HTTP1_MAX_HEAD)
    return TS_PARSE_INVALID;
  if (!next_line (data, end, &pos, &ls, &ll))
    return TS_PARSE_INVALID;
  /* method SP request-target SP HTTP-version */
  for (sp1 = ls; sp1 < ls + ll && data[sp1] != ' '; sp1++)
    if (!is_tchar (data[sp1]))
      return TS_PARSE_INVALID;
  if (sp1 == ls || sp1 == ls + ll)
    return TS_PARSE_INVALID;
  for (sp2 = sp1 + 1; sp2 < ls + ll && data[sp2] != ' '; sp2++)
    if (!is_vchar_or_obs (data[sp2]))
      return TS_PARSE_INVALID;
  if (sp2 == sp1 + 1 || sp2 == ls + ll)
    return TS_PARSE_INVALID;
  if (!parse_version (data + sp2 + 1, ls + ll - sp2 - 1, &out->minor_version))
    return TS_PARSE_INVALID;
  out->method = (const char *)data + ls;
  out->method_len = sp1 - ls;
  out->target = (const char *)data + sp1 + 1;
  out->target_len = sp2 - sp1 - 1;
  if (!classify_target (out))
    return TS_PARSE_INVALID;
  if (!parse_fields (data, end, pos, FALSE, out))
    return TS_PARSE_INVALID;
  return (gssize)end;
}

gssize
ts_http1_parse_response (const guint8 *data, gsize len, TsHttp1Head *out)
{
  gsize end, pos = 0, ls, ll;
  const guint8 *l;

  g_return_val_if_fail (data != NULL || len == 0, TS_PARSE_INVALID);
  g_return_val_if_fail (out != NULL, TS_PARSE_INVALID);

  memset (out, 0, G_STRUCT_OFFSET (TsHttp1Head, headers));
  out->n_headers = 0;
  if (len > 0 && memcmp (data, "HTTP/1.", MIN (len, 7)) != 0)
    return TS_PARSE_INVALID;
  end = find_head_end (data, len, 0);
  if (end == 0)
    return len > TS_HTTP1_MAX_HEAD ? TS_PARSE_INVALID : TS_PARSE_INCOMPLETE;
  if (end > TS_HTTP1_MAX_HEAD)
    return TS_PARSE_INVALID;
  if (!next_line (data, end, &pos, &ls, &ll))
    return TS_PARSE_INVALID;
  /* HTTP-version SP status-code SP [ reason-phrase ] */
  l = data + ls;
  if (ll < 12 || !parse_version (l, 8, &out->minor_version) || l[8] != ' '
      || !g_ascii_isdigit (l[9]) || !g_ascii_isdigit (l[10]) || !g_ascii_isdigit (l[11]))
    return TS_PARSE_INVALID;
  out->status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
  if (ll > 12)
    {
      if (l[12] != ' ')
        return TS_PARSE_INVALID;
      out->reason = (const char *)l + 13;
      out->reason_len = ll - 13;
    }
  else
    out->reason = (const char *)l + 12;
  if (!parse_fields (data, end, pos, TRUE, out))
    return TS_PARSE_INVALID;
  return (gssize)end;
}

const char *
ts_http1_head_get (const TsHttp1Head *head, const char *name, gsize *out_len)
{
  gsize n = strlen (name);

  for (gsize i = 0; i < head->n_headers; i++)
    if (head->headers[i].name_len == n && g_ascii_strncasecmp (head->headers[i].name, name, n) == 0)
      {
        if (out_len)
          *out_len = head->headers[i].value_len;
        return head->headers[i].value;
      }
  return NULL;
}

/* Copies the @n bytes of a field value at @v into @out (room for @size
 * bytes, @size > 0, NUL-terminated, cut short if need be) with each
 * obsolete line folding (OWS, a line end, RWS) replaced by one SP (RFC 9112
 * §5.2). Returns the length written. */
static gsize
join_folds (const char *v, gsize n, char *out, gsize size)
{
  gsize o = 0;

  for (gsize i = 0; i < n && o + 1 < size;)
    {
      gsize run = i;
      gboolean line_end = FALSE;

      while (run < n && (v[run] == ' ' || v[run] == '\t' || v[run] == '\r' || v[run] == '\n'))
        line_end |= v[run++] == '\n';
      if (line_end)
        {
          out[o++] = ' ';
          i = run;
          continue;
        }
      /* Blanks inside a line, or one other byte, as they are. */
      run = MAX (run, i + 1);
      while (i < run && o + 1 < size)
        out[o++] = v[i++];
    }
  out[o] = '\0';
  return o;
}

char *
ts_http1_header_dup_value (const TsHttp1Header *header)
{
  char *out;

  g_return_val_if_fail (header != NULL, NULL);
  out = g_malloc (header->value_len + 1);
  join_folds (header->value, header->value_len, out, header->value_len + 1);
  return out;
}

/* The last coding of a Transfer-Encoding list is chunked? (Its OWS may
 * hold an obsolete line folding, CR and LF.) */
static gboolean
last_coding_is_chunked (const char *v, gsize n)
{
  gsize e = n, s;

  while (e > 0 && (g_ascii_isspace (v[e - 1]) || v[e - 1] == ','))
    e--;
  s = e;
  while (s > 0 && v[s - 1] != ',' && !g_ascii_isspace (v[s - 1]))
    s--;
  return e - s == 7 && g_ascii_strncasecmp (v + s, "chunked", 7) == 0;
}

static gboolean
parse_content_length (const char *v, gsize n, guint64 *out)
{
  guint64 x = 0;

  if (n == 0 || n > 19)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    {
      if (!g_ascii_isdigit (v[i]))
        return FALSE;
      x = x * 10 + (guint64)(v[i] - '0');
    }
  *out = x;
  return TRUE;
}

static const char *const methods[] = {
  "GET ", "HEAD ", "POST ", "PUT ", "DELETE ", "CONNECT ", "OPTIONS ", "TRACE ", "PATCH ", "PRI ",
};

gboolean
ts_http1_looks_like_request (const guint8 *data, gsize len)
{
  for (gsize i = 0; i < G_N_ELEMENTS (methods); i++)
    {
      gsize n = strlen (methods[i]);
      if (len >= n && memcmp (data, methods[i], n) == 0)
        return TRUE;
    }
  return FALSE;
}

const char *
ts_http1_target_form_to_string (TsHttp1TargetForm form)
{
  switch (form)
    {
      case TS_HTTP1_TARGET_ORIGIN:
        return "origin";
      case TS_HTTP1_TARGET_ABSOLUTE:
        return "absolute";
      case TS_HTTP1_TARGET_AUTHORITY:
        return "authority";
      case TS_HTTP1_TARGET_ASTERISK:
        return "asterisk";
      default:
        return "unknown";
    }
}

/* --- chunked ------------------------------------------------------------ */

#define CHUNK_LINE_CAP 4096 /* chunk-ext or trailer line */

void
ts_http1_chunked_init (TsHttp1Chunked *self)
{
  memset (self, 0, sizeof *self);
  self->state = TS_HTTP1_CHUNK_SIZE;
}

static int
hexval (guint8 c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static void
size_line_done (TsHttp1Chunked *self)
{
  self->n_digits = 0;
  self->line_len = 0;
  if (self->remaining == 0)
    self->state = TS_HTTP1_CHUNK_TRAILER_START;
  else
    {
      self->n_chunks++;
      self->state = TS_HTTP1_CHUNK_DATA;
    }
}

gssize
ts_http1_chunked_feed (TsHttp1Chunked *self, const guint8 *data, gsize len)
{
  gsize i = 0;

  while (i < len && self->state != TS_HTTP1_CHUNK_DONE)
    {
      guint8 c = data[i];

      switch (self->state)
        {
          case TS_HTTP1_CHUNK_SIZE:
            {
              int h = hexval (c);
              if (h >= 0)
                {
                  if (self->n_digits == 15) /* keeps the size below 2^60 */
                    return TS_PARSE_INVALID;
                  self->remaining = self->remaining * 16 + (guint64)h;
                  self->n_digits++;
                }
              else if (self->n_digits == 0)
                return TS_PARSE_INVALID;
              else if (c == ';' || c == ' ' || c == '\t')
                self->state = TS_HTTP1_CHUNK_EXT;
              else if (c == '\r')
                self->state = TS_HTTP1_CHUNK_SIZE_LF;
              else if (c == '\n')
                size_line_done (self);
              else
                return TS_PARSE_INVALID;
              i++;
              break;
            }
          case TS_HTTP1_CHUNK_EXT:
            if (c == '\r')
              self->state = TS_HTTP1_CHUNK_SIZE_LF;
            else if (c == '\n')
              size_line_done (self);
            else if (++self->line_len > CHUNK_LINE_CAP)
              return TS_PARSE_INVALID;
            i++;
            break;
          case TS_HTTP1_CHUNK_SIZE_LF:
            if (c != '\n')
              return TS_PARSE_INVALID;
            size_line_done (self);
            i++;
            break;
          case TS_HTTP1_CHUNK_DATA:
            {
              gsize n = (gsize)MIN ((guint64)(len - i), self->remaining);
              self->remaining -= n;
              self->body_len += n;
              i += n;
              if (self->remaining == 0)
                self->state = TS_HTTP1_CHUNK_DATA_CR;
              break;
            }
          case TS_HTTP1_CHUNK_DATA_CR:
            if (c == '\r')
              self->state = TS_HTTP1_CHUNK_DATA_LF;
            else if (c == '\n')
              self->state = TS_HTTP1_CHUNK_SIZE;
            else
              return TS_PARSE_INVALID;
            i++;
            break;
          case TS_HTTP1_CHUNK_DATA_LF:
            if (c != '\n')
              return TS_PARSE_INVALID;
            self->state = TS_HTTP1_CHUNK_SIZE;
            i++;
            break;
          case TS_HTTP1_CHUNK_TRAILER_START:
            if (c == '\r')
              self->state = TS_HTTP1_CHUNK_FINAL_LF;
            else if (c == '\n')
              self->state = TS_HTTP1_CHUNK_DONE;
            else
              {
                self->line_len = 1;
                self->state = TS_HTTP1_CHUNK_TRAILER_LINE;
              }
            i++;
            break;
          case TS_HTTP1_CHUNK_TRAILER_LINE:
            if (c == '\r')
              self->state = TS_HTTP1_CHUNK_TRAILER_LF;
            else if (c == '\n')
              self->state = TS_HTTP1_CHUNK_TRAILER_START;
            else if (++self->line_len > CHUNK_LINE_CAP)
              return TS_PARSE_INVALID;
            i++;
            break;
          case TS_HTTP1_CHUNK_TRAILER_LF:
            if (c != '\n')
              return TS_PARSE_INVALID;
            self->state = TS_HTTP1_CHUNK_TRAILER_START;
            i++;
            break;
          case TS_HTTP1_CHUNK_FINAL_LF:
            if (c != '\n')
              return TS_PARSE_INVALID;
            self->state = TS_HTTP1_CHUNK_DONE;
            i++;
            break;
          case TS_HTTP1_CHUNK_DONE:
          default:
            g_assert_not_reached ();
        }
    }
  return (gssize)i;
}

/* --- the connection ----------------------------------------------------- */

typedef enum
{
  DIR_HEAD,
  DIR_BODY_LENGTH,
  DIR_BODY_CHUNKED,
  DIR_BODY_CLOSE,
  DIR_WAIT, /* client: CONNECT or Upgrade sent, response not seen */
  DIR_TUNNEL,
  DIR_LOST, /* bytes were lost: waits for a piece fed that starts like a message */
  DIR_DEAD,
} DirState;

typedef struct
{
  DirState state;
  guint64 offset;      /* stream offset of the next byte fed */
  GByteArray *head;    /* bytes of the head being parsed */
  guint64 head_offset; /* stream offset of head->data[0] */
  gsize scan;          /* head bytes already searched for the end */
  guint64 remaining;   /* DIR_BODY_LENGTH */
  guint64 body_len;
  TsHttp1Chunked chunked;
  gboolean after_wait; /* enter DIR_WAIT when this message ends */
  GByteArray *early;   /* DIR_WAIT: client bytes held */
  guint64 early_offset;
} Dir;

typedef struct
{
  char method[24];
  gboolean upgrade; /* the request asked for an Upgrade */
} Pending;

struct _TsHttp1Conn
{
  TsHttp1Callbacks cb;
  gpointer user_data;
  Dir dir[2];
  GQueue requests; /* Pending*, oldest first */
  gboolean tunnel;
};

TsHttp1Conn *
ts_http1_conn_new (const TsHttp1Callbacks *callbacks, gpointer user_data)
{
  TsHttp1Conn *self = g_new0 (TsHttp1Conn, 1);

  if (callbacks != NULL)
    self->cb = *callbacks;
  self->user_data = user_data;
  for (int i = 0; i < 2; i++)
    {
      self->dir[i].head = g_byte_array_new ();
      self->dir[i].early = g_byte_array_new ();
    }
  g_queue_init (&self->requests);
  return self;
}

void
ts_http1_conn_free (TsHttp1Conn *self)
{
  if (self == NULL)
    return;
  for (int i = 0; i < 2; i++)
    {
      g_byte_array_unref (self->dir[i].head);
      g_byte_array_unref (self->dir[i].early);
    }
  g_queue_clear_full (&self->requests, g_free);
  g_free (self);
}

gboolean
ts_http1_conn_is_tunnel (const TsHttp1Conn *self)
{
  return self->tunnel;
}

static void
anomaly (TsHttp1Conn *self, TsHttp1Direction dir, guint64 offset, const char *what)
{
  self->dir[dir].state = DIR_DEAD;
  if (self->cb.anomaly)
    self->cb.anomaly (self->user_data, dir, offset, what);
}

static void
message_end (TsHttp1Conn *self, TsHttp1Direction dir)
{
  Dir *d = &self->dir[dir];

  if (self->cb.message_end)
    self->cb.message_end (self->user_data, dir, d->offset, d->body_len);
  d->body_len = 0;
  if (d->after_wait)
    {
      d->after_wait = FALSE;
      d->state = DIR_WAIT;
      d->early_offset = d->offset;
      g_byte_array_set_size (d->early, 0);
    }
  else if (d->state != DIR_TUNNEL)
    d->state = DIR_HEAD;
}

static void feed (TsHttp1Conn *self, TsHttp1Direction dir, const guint8 *data, gsize len);

static void
start_tunnel (TsHttp1Conn *self, TsHttp1TunnelKind kind, const char *protocol)
{
  Dir *c = &self->dir[TS_HTTP1_DIR_CLIENT];
  g_autoptr (GByteArray) early = NULL;

  self->tunnel = TRUE;
  if (self->cb.tunnel)
    self->cb.tunnel (self->user_data, kind, protocol);
  self->dir[TS_HTTP1_DIR_SERVER].state = DIR_TUNNEL;
  if (c->state == DIR_WAIT)
    {
      early = g_steal_pointer (&c->early);
      c->early = g_byte_array_new ();
      c->state = DIR_TUNNEL;
      if (early->len > 0 && self->cb.tunnel_data)
        self->cb.tunnel_data (self->user_data, TS_HTTP1_DIR_CLIENT, c->early_offset, early->data,
                              early->len);
    }
  else
    c->state = DIR_TUNNEL;
}

/* The client's CONNECT or Upgrade was refused: parse what it sent since as
 * HTTP again. */
static void
resume_client (TsHttp1Conn *self)
{
  Dir *c = &self->dir[TS_HTTP1_DIR_CLIENT];
  g_autoptr (GByteArray) early = NULL;

  if (c->state != DIR_WAIT)
    {
      c->after_wait = FALSE;
      return;
    }
  early = g_steal_pointer (&c->early);
  c->early = g_byte_array_new ();
  c->state = DIR_HEAD;
  c->offset = c->early_offset;
  if (early->len > 0)
    feed (self, TS_HTTP1_DIR_CLIENT, early->data, early->len);
}

static void
on_request (TsHttp1Conn *self, const TsHttp1Head *h, guint64 offset, gsize len)
{
  Dir *d = &self->dir[TS_HTTP1_DIR_CLIENT];
  const char *te, *cl, *up;
  gsize te_len = 0, cl_len = 0, up_len = 0;
  TsHttp1BodyKind body = TS_HTTP1_BODY_NONE;
  guint64 body_len = 0;
  Pending *p = g_new0 (Pending, 1);
  gboolean is_connect = h->method_len == 7 && memcmp (h->method, "CONNECT", 7) == 0;
  gboolean asked_upgrade;

  memcpy (p->method, h->method, MIN (h->method_len, sizeof p->method - 1));
  te = ts_http1_head_get (h, "Transfer-Encoding", &te_len);
  cl = ts_http1_head_get (h, "Content-Length", &cl_len);
  up = ts_http1_head_get (h, "Upgrade", &up_len);
  p->upgrade = up != NULL && up_len > 0;
  asked_upgrade = p->upgrade;
  /* Past the cap the request is not remembered: its response is paired
   * with nothing (g_free'd here, so read nothing from @p below). */
  if (g_queue_get_length (&self->requests) < TS_HTTP1_MAX_PIPELINE)
    g_queue_push_tail (&self->requests, p);
  else
    g_free (p);

  if (te != NULL)
    {
      if (!last_coding_is_chunked (te, te_len))
        {
          anomaly (self, TS_HTTP1_DIR_CLIENT, offset,
                   "request Transfer-Encoding does not end in chunked (RFC 9112 §6.3)");
          return;
        }
      body = TS_HTTP1_BODY_CHUNKED;
    }
  else if (cl != NULL)
    {
      if (!parse_content_length (cl, cl_len, &body_len))
        {
          anomaly (self, TS_HTTP1_DIR_CLIENT, offset, "request Content-Length is not a number");
          return;
        }
      body = body_len > 0 ? TS_HTTP1_BODY_LENGTH : TS_HTTP1_BODY_NONE;
    }
  if (self->cb.head)
    self->cb.head (self->user_data, TS_HTTP1_DIR_CLIENT, offset, len, h, body, body_len, NULL);
  d->after_wait = is_connect || asked_upgrade;
  d->body_len = 0;
  if (body == TS_HTTP1_BODY_CHUNKED)
    {
      ts_http1_chunked_init (&d->chunked);
      d->state = DIR_BODY_CHUNKED;
    }
  else if (body == TS_HTTP1_BODY_LENGTH)
    {
      d->remaining = body_len;
      d->state = DIR_BODY_LENGTH;
    }
  else
    message_end (self, TS_HTTP1_DIR_CLIENT);
}

static void
on_response (TsHttp1Conn *self, const TsHttp1Head *h, guint64 offset, gsize len)
{
  Dir *d = &self->dir[TS_HTTP1_DIR_SERVER];
  Pending *p = g_queue_peek_head (&self->requests);
  char method[sizeof p->method] = "";
  gboolean asked_upgrade = p != NULL && p->upgrade;
  const char *te, *cl;
  gsize te_len = 0, cl_len = 0;
  TsHttp1BodyKind body;
  guint64 body_len = 0;
  gboolean is_connect;
  gboolean interim = h->status >= 100 && h->status < 200 && h->status != 101;
  gboolean tunnel_connect;
  gboolean tunnel_upgrade = h->status == 101;
  char protocol[256] = "";

  if (p != NULL)
    memcpy (method, p->method, sizeof method);
  is_connect = strcmp (method, "CONNECT") == 0;
  tunnel_connect = is_connect && h->status >= 200 && h->status < 300;
  te = ts_http1_head_get (h, "Transfer-Encoding", &te_len);
  cl = ts_http1_head_get (h, "Content-Length", &cl_len);
  if (strcmp (method, "HEAD") == 0 || (h->status >= 100 && h->status < 200) || h->status == 204
      || h->status == 304 || tunnel_connect)
    body = TS_HTTP1_BODY_NONE;
  else if (te != NULL)
    body = last_coding_is_chunked (te, te_len) ? TS_HTTP1_BODY_CHUNKED : TS_HTTP1_BODY_UNTIL_CLOSE;
  else if (cl != NULL)
    {
      if (!parse_content_length (cl, cl_len, &body_len))
        {
          anomaly (self, TS_HTTP1_DIR_SERVER, offset, "response Content-Length is not a number");
          return;
        }
      body = body_len > 0 ? TS_HTTP1_BODY_LENGTH : TS_HTTP1_BODY_NONE;
    }
  else
    body = TS_HTTP1_BODY_UNTIL_CLOSE;

  if (self->cb.head)
    self->cb.head (self->user_data, TS_HTTP1_DIR_SERVER, offset, len, h, body, body_len, method);

  if (!interim && p != NULL)
    g_free (g_queue_pop_head (&self->requests));

  d->body_len = 0;
  if (tunnel_connect || tunnel_upgrade)
    {
      if (tunnel_upgrade)
        {
          gsize up_len = 0;
          const char *up = ts_http1_head_get (h, "Upgrade", &up_len);
          /* @up points into the head: not NUL-terminated, and perhaps
           * folded. */
          if (up != NULL)
            join_folds (up, up_len, protocol, sizeof protocol);
        }
      else
        {
          /* The CONNECT target is not in the response: the consumer has it. */
          g_strlcpy (protocol, "CONNECT", sizeof protocol);
        }
      if (self->cb.message_end)
        self->cb.message_end (self->user_data, TS_HTTP1_DIR_SERVER, d->offset, 0);
      start_tunnel (self, tunnel_connect ? TS_HTTP1_TUNNEL_CONNECT : TS_HTTP1_TUNNEL_UPGRADE,
                    protocol);
      return;
    }
  if (!interim && (is_connect || asked_upgrade))
    resume_client (self);
  if (body == TS_HTTP1_BODY_CHUNKED)
    {
      ts_http1_chunked_init (&d->chunked);
      d->state = DIR_BODY_CHUNKED;
    }
  else if (body == TS_HTTP1_BODY_LENGTH)
    {
      d->remaining = body_len;
      d->state = DIR_BODY_LENGTH;
    }
  else if (body == TS_HTTP1_BODY_UNTIL_CLOSE)
    d->state = DIR_BODY_CLOSE;
  else
    message_end (self, TS_HTTP1_DIR_SERVER);
}

/* HEAD state: collects a head; returns bytes of @data consumed. */
static gsize
feed_head (TsHttp1Conn *self, TsHttp1Direction dir, const guint8 *data, gsize len)
{
  Dir *d = &self->dir[dir];
  gsize used = 0, old, take, end;
  TsHttp1Head head;
  gssize r;

  if (d->head->len == 0)
    {
      /* Empty lines before a request line are ignored (RFC 9112 §2.2). */
      while (used < len && (data[used] == '\r' || data[used] == '\n'))
        used++;
      d->offset += used;
      if (used == len)
        return used;
      d->head_offset = d->offset;
      d->scan = 0;
    }
  old = d->head->len;
  take = MIN (len - used, TS_HTTP1_MAX_HEAD + 1 - old);
  g_byte_array_append (d->head, data + used, (guint)take);
  end = find_head_end (d->head->data, d->head->len, d->scan > 2 ? d->scan - 2 : 0);
  if (end == 0)
    {
      d->scan = d->head->len;
      /* Reject garbage early rather than waiting for the cap. */
      if (dir == TS_HTTP1_DIR_CLIENT
              ? !request_prefix_plausible (d->head->data, MIN (d->head->len, 33))
              : memcmp (d->head->data, "HTTP/1.", MIN (d->head->len, 7)) != 0)
        {
          anomaly (self, dir, d->head_offset,
                   dir == TS_HTTP1_DIR_CLIENT ? "not an HTTP/1 request line"
                                              : "not an HTTP/1 status line");
          return len;
        }
      if (d->head->len > TS_HTTP1_MAX_HEAD)
        {
          anomaly (self, dir, d->head_offset, "head longer than TS_HTTP1_MAX_HEAD");
          return len;
        }
      d->offset += take;
      return used + take;
    }
  /* The head ends inside what was appended. */
  r = dir == TS_HTTP1_DIR_CLIENT ? ts_http1_parse_request (d->head->data, end, &head)
                                 : ts_http1_parse_response (d->head->data, end, &head);
  if (r < 0)
    {
      anomaly (self, dir, d->head_offset,
               dir == TS_HTTP1_DIR_SERVER ? "malformed HTTP/1 response head"
               : folded (d->head->data, end)
                   ? "HTTP/1 request head with obsolete line folding, not decoded (RFC 9112 "
                     "§5.2: a server rejects it with 400 or reads each fold as a space)"
                   : "malformed HTTP/1 request head");
      return len;
    }
  g_assert ((gsize)r == end && end > old);
  used += end - old;
  d->offset = d->head_offset + end;
  if (dir == TS_HTTP1_DIR_CLIENT)
    on_request (self, &head, d->head_offset, end);
  else
    on_response (self, &head, d->head_offset, end);
  g_byte_array_set_size (d->head, 0);
  d->scan = 0;
  return used;
}

static void
feed (TsHttp1Conn *self, TsHttp1Direction dir, const guint8 *data, gsize len)
{
  Dir *d = &self->dir[dir];

  while (len > 0)
    {
      gsize n = 0;

      switch (d->state)
        {
          case DIR_HEAD:
            n = feed_head (self, dir, data, len);
            break;
          case DIR_BODY_LENGTH:
            n = (gsize)MIN ((guint64)len, d->remaining);
            d->remaining -= n;
            d->body_len += n;
            d->offset += n;
            if (d->remaining == 0)
              message_end (self, dir);
            break;
          case DIR_BODY_CHUNKED:
            {
              gssize r = ts_http1_chunked_feed (&d->chunked, data, len);
              if (r < 0)
                {
                  anomaly (self, dir, d->offset, "malformed chunked body (RFC 9112 §7.1)");
                  return;
                }
              n = (gsize)r;
              d->offset += n;
              d->body_len = d->chunked.body_len;
              if (d->chunked.state == TS_HTTP1_CHUNK_DONE)
                message_end (self, dir);
              break;
            }
          case DIR_BODY_CLOSE:
            n = len;
            d->body_len += n;
            d->offset += n;
            break;
          case DIR_WAIT:
            n = len;
            if (d->early->len + len <= TS_HTTP1_MAX_EARLY)
              g_byte_array_append (d->early, data, (guint)len);
            else
              {
                anomaly (self, dir, d->offset,
                         "client sent more than TS_HTTP1_MAX_EARLY bytes before the CONNECT or "
                         "Upgrade response");
                return;
              }
            d->offset += n;
            break;
          case DIR_TUNNEL:
            n = len;
            if (self->cb.tunnel_data)
              self->cb.tunnel_data (self->user_data, dir, d->offset, data, len);
            d->offset += n;
            break;
          case DIR_LOST:
          case DIR_DEAD:
          default:
            d->offset += len;
            return;
        }
      data += n;
      len -= n;
    }
}

void
ts_http1_conn_feed (TsHttp1Conn *self, TsHttp1Direction dir, const guint8 *data, gsize len)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (dir == TS_HTTP1_DIR_CLIENT || dir == TS_HTTP1_DIR_SERVER);
  g_return_if_fail (data != NULL || len == 0);
  if (self->dir[dir].state == DIR_LOST && ts_http1_starts_message (dir, data, len))
    self->dir[dir].state = DIR_HEAD;
  feed (self, dir, data, len);
}

/* (Where a direction that lost bytes picks up again.) */
gboolean
ts_http1_starts_message (TsHttp1Direction dir, const guint8 *data, gsize len)
{
  return dir == TS_HTTP1_DIR_CLIENT ? ts_http1_looks_like_request (data, len)
                                    : len >= 7 && memcmp (data, "HTTP/1.", 7) == 0;
}

static void
lose (TsHttp1Conn *self, TsHttp1Direction dir)
{
  Dir *d = &self->dir[dir];

  d->state = DIR_LOST;
  g_byte_array_set_size (d->head, 0);
  d->scan = 0;
  d->body_len = 0;
  d->after_wait = FALSE;
}

/* A gap cut the head being collected (a capture with a short snapshot
 * length keeps a segment's first bytes only): what its complete lines say
 * is reported, so that the request or status line is not lost with the
 * rest. The message's framing is unknown (TS_HTTP1_BODY_CUT). FALSE when
 * not even its first line can be read. */
static gboolean
report_cut_head (TsHttp1Conn *self, TsHttp1Direction dir)
{
  Dir *d = &self->dir[dir];
  g_autoptr (GByteArray) lines = NULL;
  gsize end = d->head->len;
  TsHttp1Head head;
  gssize r;

  while (end > 0 && d->head->data[end - 1] != '\n')
    end--;
  if (end == 0)
    return FALSE; /* not even the first line is whole */
  lines = g_byte_array_sized_new ((guint)end + 2);
  g_byte_array_append (lines, d->head->data, (guint)end);
  g_byte_array_append (lines, (const guint8 *)"\r\n", 2);
  r = dir == TS_HTTP1_DIR_CLIENT ? ts_http1_parse_request (lines->data, lines->len, &head)
                                 : ts_http1_parse_response (lines->data, lines->len, &head);
  if (r < 0)
    return FALSE;
  if (dir == TS_HTTP1_DIR_CLIENT)
    {
      Pending *p = g_new0 (Pending, 1);
      gsize up_len = 0;
      const char *up = ts_http1_head_get (&head, "Upgrade", &up_len);

      memcpy (p->method, head.method, MIN (head.method_len, sizeof p->method - 1));
      p->upgrade = up != NULL && up_len > 0;
      if (g_queue_get_length (&self->requests) < TS_HTTP1_MAX_PIPELINE)
        g_queue_push_tail (&self->requests, p);
      else
        g_free (p);
      if (self->cb.head)
        self->cb.head (self->user_data, dir, d->head_offset, d->head->len, &head, TS_HTTP1_BODY_CUT,
                       0, NULL);
    }
  else
    {
      Pending *p = g_queue_peek_head (&self->requests);
      char method[sizeof p->method] = "";
      gboolean interim = head.status >= 100 && head.status < 200 && head.status != 101;

      if (p != NULL)
        memcpy (method, p->method, sizeof method);
      if (self->cb.head)
        self->cb.head (self->user_data, dir, d->head_offset, d->head->len, &head, TS_HTTP1_BODY_CUT,
                       0, method);
      if (!interim && p != NULL)
        g_free (g_queue_pop_head (&self->requests));
    }
  return TRUE;
}

void
ts_http1_conn_cut (TsHttp1Conn *self, TsHttp1Direction dir)
{
  Dir *d;

  g_return_if_fail (self != NULL);
  g_return_if_fail (dir == TS_HTTP1_DIR_CLIENT || dir == TS_HTTP1_DIR_SERVER);
  d = &self->dir[dir];
  /* The gap that follows then finds the direction lost: no anomaly. */
  if (d->state == DIR_HEAD && d->head->len > 0 && report_cut_head (self, dir))
    lose (self, dir);
}

void
ts_http1_conn_gap (TsHttp1Conn *self, TsHttp1Direction dir, gsize len)
{
  Dir *d;

  g_return_if_fail (self != NULL);
  g_return_if_fail (dir == TS_HTTP1_DIR_CLIENT || dir == TS_HTTP1_DIR_SERVER);
  d = &self->dir[dir];
  switch (d->state)
    {
      case DIR_BODY_LENGTH:
        if (len <= d->remaining)
          {
            d->remaining -= len;
            d->body_len += len;
            d->offset += len;
            if (d->remaining == 0)
              message_end (self, dir);
            return;
          }
        break;
      case DIR_BODY_CLOSE:
        d->body_len += len;
        d->offset += len;
        return;
      case DIR_TUNNEL:
      case DIR_LOST:
      case DIR_DEAD:
        d->offset += len;
        return;
      case DIR_WAIT:
        anomaly (self, dir, d->offset, "bytes lost in the capture: HTTP/1 parsing stops");
        d->offset += len;
        return;
      case DIR_HEAD:
        /* A head reported as cut says so, and where parsing goes on, in
         * its own event: no anomaly beside it. */
        ts_http1_conn_cut (self, dir);
        if (d->state == DIR_LOST)
          {
            d->offset += len;
            return;
          }
        break;
      default:
        break;
    }
  anomaly (self, dir, d->offset,
           dir == TS_HTTP1_DIR_CLIENT
               ? "bytes lost in the capture: HTTP/1 parsing resumes at the next request"
               : "bytes lost in the capture: HTTP/1 parsing resumes at the next response");
  lose (self, dir);
  d->offset += len;
}

void
ts_http1_conn_skip (TsHttp1Conn *self, TsHttp1Direction dir, gsize len)
{
  Dir *d;

  g_return_if_fail (self != NULL);
  g_return_if_fail (dir == TS_HTTP1_DIR_CLIENT || dir == TS_HTTP1_DIR_SERVER);
  d = &self->dir[dir];
  g_return_if_fail (d->state == DIR_HEAD && d->head->len == 0);
  lose (self, dir);
  d->offset += len;
}

void
ts_http1_conn_end (TsHttp1Conn *self, TsHttp1Direction dir)
{
  Dir *d;

  g_return_if_fail (self != NULL);
  d = &self->dir[dir];
  switch (d->state)
    {
      case DIR_BODY_CLOSE:
        message_end (self, dir);
        d->state = DIR_DEAD;
        break;
      case DIR_HEAD:
        if (d->head->len > 0)
          anomaly (self, dir, d->head_offset, "connection closed inside an HTTP/1 head");
        d->state = DIR_DEAD;
        break;
      case DIR_BODY_LENGTH:
      case DIR_BODY_CHUNKED:
        anomaly (self, dir, d->offset, "connection closed inside an HTTP/1 body");
        break;
      default:
        break;
    }
}
