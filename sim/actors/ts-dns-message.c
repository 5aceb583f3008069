/* ts-dns-message.c: DNS queries and answers for A and AAAA records.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "ts-dns-message.h"

#include <string.h>

static const struct
{
  guint value;
  const char *name;
} type_names[] = {
  { TS_DNS_TYPE_A, "A" },
  { TS_DNS_TYPE_CNAME, "CNAME" },
  { TS_DNS_TYPE_AAAA, "AAAA" },
};

static const struct
{
  guint value;
  const char *name;
} rcode_names[] = {
  { TS_DNS_RCODE_NOERROR, "NOERROR" },   { TS_DNS_RCODE_FORMERR, "FORMERR" },
  { TS_DNS_RCODE_SERVFAIL, "SERVFAIL" }, { TS_DNS_RCODE_NXDOMAIN, "NXDOMAIN" },
  { TS_DNS_RCODE_NOTIMP, "NOTIMP" },     { TS_DNS_RCODE_REFUSED, "REFUSED" },
};

const char *
ts_dns_type_to_string (guint type)
{
  for (gsize i = 0; i < G_N_ELEMENTS (type_names); i++)
    if (type_names[i].value == type)
      return type_names[i].name;
  return NULL;
}

const char *
ts_dns_rcode_to_string (guint rcode)
{
  for (gsize i = 0; i < G_N_ELEMENTS (rcode_names); i++)
    if (rcode_names[i].value == rcode)
      return rcode_names[i].name;
  return NULL;
}

void
ts_dns_message_clear (TsDnsMessage *self)
{
  g_return_if_fail (self != NULL);
  for (guint i = 0; i < self->n_answers; i++)
    g_clear_object (&self->answers[i]);
  self->n_answers = 0;
}

/* A bounded cursor with a sticky failure flag. */
typedef struct
{
  const guint8 *data;
  gsize len;
  gsize pos;
  gboolean failed;
} Cursor;

static guint16
be16 (Cursor *c)
{
  guint16 v;

  if (c->failed || c->len - c->pos < 2)
    {
      c->failed = TRUE;
      return 0;
    }
  v = (guint16)((c->data[c->pos] << 8) | c->data[c->pos + 1]);
  c->pos += 2;
  return v;
}

static guint32
be32 (Cursor *c)
{
  guint32 hi = be16 (c);
  return (hi << 16) | be16 (c);
}

static void
skip (Cursor *c, gsize n)
{
  if (c->failed || c->len - c->pos < n)
    c->failed = TRUE;
  else
    c->pos += n;
}

/* Reads a name at the cursor into @out (dotted, lower case). Follows
 * compression pointers only when @allow_pointers. */
static gboolean
read_name (Cursor *c, char *out, gboolean allow_pointers)
{
  gsize pos = c->pos, out_len = 0, wire_len = 0;
  gsize resume = 0;
  guint n_pointers = 0;

  out[0] = '\0';
  for (;;)
    {
      guint8 l;

      if (pos >= c->len)
        return FALSE;
      l = c->data[pos];
      if ((l & 0xc0) == 0xc0)
        {
          if (!allow_pointers || pos + 1 >= c->len || ++n_pointers > TS_DNS_MAX_POINTERS)
            return FALSE;
          if (resume == 0)
            resume = pos + 2;
          pos = (gsize)(((l & 0x3f) << 8) | c->data[pos + 1]);
          continue;
        }
      if (l & 0xc0)
        return FALSE;
      wire_len += 1u + l;
      if (wire_len > TS_DNS_MAX_NAME)
        return FALSE;
      if (l == 0)
        {
          pos++;
          break;
        }
      if (pos + 1 + l > c->len)
        return FALSE;
      if (out_len > 0)
        out[out_len++] = '.';
      for (guint i = 0; i < l; i++)
        {
          char ch = (char)c->data[pos + 1 + i];
          /* Names we serve are host names; anything else cannot match. */
          out[out_len++] = g_ascii_tolower (ch);
        }
      pos += 1u + l;
    }
  out[out_len] = '\0';
  c->pos = resume ? resume : pos;
  return TRUE;
}

static gboolean
parse_header (TsDnsMessage *m, Cursor *c, guint *out_qd, guint *out_an, GError **error)
{
  m->id = be16 (c);
  m->flags = be16 (c);
  *out_qd = be16 (c);
  *out_an = be16 (c);
  be16 (c);
  be16 (c);
  if (c->failed)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "DNS message of %zu bytes is shorter than its 12-byte header", c->len);
      return FALSE;
    }
  m->is_response = (m->flags & 0x8000) != 0;
  m->opcode = (m->flags >> 11) & 0xf;
  m->rcode = m->flags & 0xf;
  return TRUE;
}

static gboolean
parse_question (TsDnsMessage *m, Cursor *c, gboolean allow_pointers, GError **error)
{
  if (!read_name (c, m->name, allow_pointers))
    {
      m->name[0] = '\0';
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "DNS question name is malformed (bad label, pointer or over %d bytes)",
                   TS_DNS_MAX_NAME);
      return FALSE;
    }
  m->qtype = be16 (c);
  m->qclass = be16 (c);
  if (c->failed)
    {
      m->name[0] = '\0';
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "DNS question is cut short after its name");
      return FALSE;
    }
  m->question_end = c->pos;
  return TRUE;
}

gboolean
ts_dns_message_parse_query (TsDnsMessage *out_msg, const guint8 *data, gsize len, GError **error)
{
  Cursor c = { data, MIN (len, (gsize)TS_DNS_MAX_MESSAGE), 0, FALSE };
  guint qd, an;

  g_return_val_if_fail (out_msg != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  memset (out_msg, 0, sizeof *out_msg);

  if (!parse_header (out_msg, &c, &qd, &an, error))
    return FALSE;
  if (out_msg->is_response)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "DNS message is a response");
      return FALSE;
    }
  if (qd != 1)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "DNS query holds %u questions, not 1", qd);
      return FALSE;
    }
  return parse_question (out_msg, &c, FALSE, error);
}

gboolean
ts_dns_message_parse_response (TsDnsMessage *out_msg, const guint8 *data, gsize len, GError **error)
{
  Cursor c = { data, len, 0, FALSE };
  guint qd, an;

  g_return_val_if_fail (out_msg != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  memset (out_msg, 0, sizeof *out_msg);

  if (!parse_header (out_msg, &c, &qd, &an, error))
    return FALSE;
  if (!out_msg->is_response)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "DNS message is not a response");
      return FALSE;
    }
  if (qd > 1)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "DNS response holds %u questions",
                   qd);
      return FALSE;
    }
  if (qd == 1 && !parse_question (out_msg, &c, TRUE, error))
    return FALSE;

  for (guint i = 0; i < an; i++)
    {
      char owner[TS_DNS_MAX_NAME + 1];
      guint16 type, klass, rdlen;

      if (!read_name (&c, owner, TRUE))
        c.failed = TRUE;
      type = be16 (&c);
      klass = be16 (&c);
      be32 (&c);
      rdlen = be16 (&c);
      if (c.failed || c.len - c.pos < rdlen)
        {
          ts_dns_message_clear (out_msg);
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "DNS answer %u of %u is cut short or malformed", i + 1, an);
          return FALSE;
        }
      if (klass == TS_DNS_CLASS_IN && out_msg->n_answers < TS_DNS_MAX_ANSWERS
          && ((type == TS_DNS_TYPE_A && rdlen == 4) || (type == TS_DNS_TYPE_AAAA && rdlen == 16)))
        out_msg->answers[out_msg->n_answers++] = g_inet_address_new_from_bytes (
            c.data + c.pos, type == TS_DNS_TYPE_A ? G_SOCKET_FAMILY_IPV4 : G_SOCKET_FAMILY_IPV6);
      skip (&c, rdlen);
    }
  return TRUE;
}

static void
put16 (GByteArray *out, guint v)
{
  guint8 b[2] = { (guint8)(v >> 8), (guint8)v };
  g_byte_array_append (out, b, 2);
}

static void
put32 (GByteArray *out, guint32 v)
{
  put16 (out, v >> 16);
  put16 (out, v & 0xffff);
}

/* Appends @name as labels; FALSE when it is not a valid name. */
static gboolean
put_name (GByteArray *out, const char *name)
{
  g_auto (GStrv) labels = NULL;
  gsize total = 1;

  if (name[0] != '\0' && strcmp (name, ".") != 0)
    {
      labels = g_strsplit (name, ".", -1);
      for (guint i = 0; labels[i]; i++)
        {
          gsize l = strlen (labels[i]);
          guint8 lb = (guint8)l;

          /* A trailing dot leaves one empty last label; others are invalid. */
          if (l == 0 && labels[i + 1] == NULL && i > 0)
            break;
          if (l == 0 || l > 63)
            return FALSE;
          total += 1 + l;
          if (total > TS_DNS_MAX_NAME)
            return FALSE;
          g_byte_array_append (out, &lb, 1);
          g_byte_array_append (out, (const guint8 *)labels[i], (guint)l);
        }
    }
  g_byte_array_append (out, (const guint8 *)"", 1);
  return TRUE;
}

GBytes *
ts_dns_message_build_response (const TsDnsMessage *query, guint rcode, GPtrArray *addresses)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();
  gboolean has_question = query->name[0] != '\0' || query->question_end > 0;
  guint n_answers = 0;
  guint flags;

  g_return_val_if_fail (query != NULL, NULL);

  if (has_question && rcode == TS_DNS_RCODE_NOERROR && addresses
      && query->qclass == TS_DNS_CLASS_IN)
    for (guint i = 0; i < addresses->len; i++)
      {
        GInetAddress *a = addresses->pdata[i];
        GSocketFamily want
            = query->qtype == TS_DNS_TYPE_A ? G_SOCKET_FAMILY_IPV4 : G_SOCKET_FAMILY_IPV6;
        if ((query->qtype == TS_DNS_TYPE_A || query->qtype == TS_DNS_TYPE_AAAA)
            && g_inet_address_get_family (a) == want)
          n_answers++;
      }

  /* QR, the query's opcode, AA, the query's RD; RA stays 0: we do not recurse. */
  flags = 0x8000 | (query->opcode << 11) | 0x0400 | (query->flags & 0x0100) | (rcode & 0xf);
  put16 (out, query->id);
  put16 (out, flags);
  put16 (out, has_question ? 1 : 0);
  put16 (out, n_answers);
  put16 (out, 0);
  put16 (out, 0);
  if (!has_question)
    return g_byte_array_free_to_bytes (g_steal_pointer (&out));

  if (!put_name (out, query->name))
    return NULL;
  put16 (out, query->qtype);
  put16 (out, query->qclass);
  for (guint i = 0; n_answers > 0 && i < addresses->len; i++)
    {
      GInetAddress *a = addresses->pdata[i];
      gsize size = g_inet_address_get_native_size (a);

      if ((query->qtype == TS_DNS_TYPE_A && size != 4)
          || (query->qtype == TS_DNS_TYPE_AAAA && size != 16))
        continue;
      put16 (out, 0xc00c); /* pointer to the question's name at offset 12 */
      put16 (out, query->qtype);
      put16 (out, TS_DNS_CLASS_IN);
      put32 (out, 60);
      put16 (out, (guint)size);
      g_byte_array_append (out, g_inet_address_to_bytes (a), (guint)size);
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

GBytes *
ts_dns_message_build_query (guint16 id, const char *name, guint16 qtype)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();

  g_return_val_if_fail (name != NULL, NULL);
  put16 (out, id);
  put16 (out, 0x0100); /* RD */
  put16 (out, 1);
  put16 (out, 0);
  put16 (out, 0);
  put16 (out, 0);
  if (!put_name (out, name))
    return NULL;
  put16 (out, qtype);
  put16 (out, TS_DNS_CLASS_IN);
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}
