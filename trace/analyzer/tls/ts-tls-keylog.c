/* ts-tls-keylog.c: a store of TLS secrets from NSS key log lines.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "ts-tls-keylog.h"

#include <string.h>

typedef struct
{
  guint8 client_random[32];
  guint8 lens[TS_TLS_N_SECRET_KINDS];
  guint8 secrets[TS_TLS_N_SECRET_KINDS][TS_TLS_SECRET_MAX];
} TsTlsKeylogEntry;

struct _TsTlsKeylog
{
  gint ref_count;
  GHashTable *entries; /* client_random (inside the entry) → TsTlsKeylogEntry, owned */
  GString *partial;    /* an unfinished line */
  gboolean skipping;   /* the unfinished line went over the cap: drop it at its end */
  guint64 generation;
  guint n_secrets;
  guint n_malformed;
  guint n_dropped;
};

static const char *const secret_labels[TS_TLS_N_SECRET_KINDS] = {
  [TS_TLS_SECRET_CLIENT_RANDOM] = "CLIENT_RANDOM",
  [TS_TLS_SECRET_CLIENT_EARLY_TRAFFIC] = "CLIENT_EARLY_TRAFFIC_SECRET",
  [TS_TLS_SECRET_CLIENT_HANDSHAKE_TRAFFIC] = "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
  [TS_TLS_SECRET_SERVER_HANDSHAKE_TRAFFIC] = "SERVER_HANDSHAKE_TRAFFIC_SECRET",
  [TS_TLS_SECRET_CLIENT_TRAFFIC_0] = "CLIENT_TRAFFIC_SECRET_0",
  [TS_TLS_SECRET_SERVER_TRAFFIC_0] = "SERVER_TRAFFIC_SECRET_0",
  [TS_TLS_SECRET_EARLY_EXPORTER] = "EARLY_EXPORTER_SECRET",
  [TS_TLS_SECRET_EXPORTER] = "EXPORTER_SECRET",
};

const char *
ts_tls_secret_kind_to_string (guint kind)
{
  return kind < TS_TLS_N_SECRET_KINDS ? secret_labels[kind] : NULL;
}

static guint
random_hash (gconstpointer key)
{
  guint h;

  /* Client randoms are random: their first bytes are a fine hash. */
  memcpy (&h, key, sizeof h);
  return h;
}

static gboolean
random_equal (gconstpointer a, gconstpointer b)
{
  return memcmp (a, b, 32) == 0;
}

TsTlsKeylog *
ts_tls_keylog_new (void)
{
  TsTlsKeylog *self = g_new0 (TsTlsKeylog, 1);

  self->ref_count = 1;
  self->entries = g_hash_table_new_full (random_hash, random_equal, NULL, g_free);
  self->partial = g_string_new (NULL);
  return self;
}

TsTlsKeylog *
ts_tls_keylog_ref (TsTlsKeylog *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  self->ref_count++;
  return self;
}

void
ts_tls_keylog_unref (TsTlsKeylog *self)
{
  if (self == NULL)
    return;
  g_return_if_fail (self->ref_count > 0);
  if (--self->ref_count > 0)
    return;
  g_hash_table_destroy (self->entries);
  g_string_free (self->partial, TRUE);
  g_free (self);
}

static int
hex_value (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Decodes exactly @n_hex hex digits into @out; FALSE on a non-hex digit. */
static gboolean
decode_hex (const char *hex, gsize n_hex, guint8 *out)
{
  for (gsize i = 0; i < n_hex / 2; i++)
    {
      int hi = hex_value (hex[2 * i]);
      int lo = hex_value (hex[2 * i + 1]);

      if (hi < 0 || lo < 0)
        return FALSE;
      out[i] = (guint8)(hi << 4 | lo);
    }
  return TRUE;
}

/* One line without its newline. Returns 1 if a new secret was stored. */
static guint
take_line (TsTlsKeylog *self, const char *line, gsize len)
{
  const char *end = line + len;
  const char *p = line;
  const char *label, *cr, *sec;
  gsize label_len, cr_len, sec_len;
  guint8 client_random[32];
  guint8 secret[TS_TLS_SECRET_MAX];
  TsTlsKeylogEntry *entry;
  int kind = -1;

  while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
    end = line + --len;
  while (p < end && (*p == ' ' || *p == '\t'))
    p++;
  if (p == end || *p == '#')
    return 0;

  label = p;
  while (p < end && *p != ' ' && *p != '\t')
    p++;
  label_len = (gsize)(p - label);
  while (p < end && (*p == ' ' || *p == '\t'))
    p++;
  cr = p;
  while (p < end && *p != ' ' && *p != '\t')
    p++;
  cr_len = (gsize)(p - cr);
  while (p < end && (*p == ' ' || *p == '\t'))
    p++;
  sec = p;
  while (p < end && *p != ' ' && *p != '\t')
    p++;
  sec_len = (gsize)(p - sec);

  for (int i = 0; i < TS_TLS_N_SECRET_KINDS; i++)
    if (strlen (secret_labels[i]) == label_len && memcmp (secret_labels[i], label, label_len) == 0)
      kind = i;

  /* OpenSSL also logs the secrets after each KeyUpdate; we derive those ourselves. */
  if (kind < 0
      && ((label_len == 23 && memcmp (label, "CLIENT_TRAFFIC_SECRET_N", 23) == 0)
          || (label_len == 23 && memcmp (label, "SERVER_TRAFFIC_SECRET_N", 23) == 0)))
    return 0;

  if (kind < 0 || p != end || cr_len != 64 || sec_len == 0 || sec_len % 2 != 0
      || sec_len / 2 > TS_TLS_SECRET_MAX || !decode_hex (cr, cr_len, client_random)
      || !decode_hex (sec, sec_len, secret))
    {
      self->n_malformed++;
      return 0;
    }

  entry = g_hash_table_lookup (self->entries, client_random);
  if (entry == NULL)
    {
      if (g_hash_table_size (self->entries) >= TS_TLS_KEYLOG_ENTRY_CAP)
        {
          self->n_dropped++;
          return 0;
        }
      entry = g_new0 (TsTlsKeylogEntry, 1);
      memcpy (entry->client_random, client_random, 32);
      g_hash_table_insert (self->entries, entry->client_random, entry);
    }
  else if (entry->lens[kind] == sec_len / 2
           && memcmp (entry->secrets[kind], secret, sec_len / 2) == 0)
    {
      return 0; /* a repeat (the same key log read twice) */
    }
  else if (entry->lens[kind] != 0)
    {
      /* A different secret for the same session: keep the first, as tshark does. */
      self->n_malformed++;
      return 0;
    }

  memcpy (entry->secrets[kind], secret, sec_len / 2);
  entry->lens[kind] = (guint8)(sec_len / 2);
  self->n_secrets++;
  self->generation++;
  return 1;
}

guint
ts_tls_keylog_feed (TsTlsKeylog *self, const char *text, gsize len)
{
  guint added = 0;
  const char *p, *end;

  g_return_val_if_fail (self != NULL, 0);
  g_return_val_if_fail (text != NULL || len == 0, 0);
  if (len == 0)
    return 0; /* (and @text may be NULL: no arithmetic on it) */
  p = text;
  end = text + len;

  while (p < end)
    {
      const char *nl = memchr (p, '\n', (gsize)(end - p));
      const char *stop = nl != NULL ? nl : end;
      gsize n = (gsize)(stop - p);

      if (self->partial->len == 0 && !self->skipping && nl != NULL)
        {
          /* The common case: a whole line in the input, no copy. */
          added += take_line (self, p, n);
        }
      else if (self->skipping || self->partial->len + n > TS_TLS_KEYLOG_LINE_CAP)
        {
          self->skipping = TRUE;
          g_string_truncate (self->partial, 0);
          if (nl != NULL)
            {
              self->skipping = FALSE;
              self->n_malformed++;
            }
        }
      else
        {
          g_string_append_len (self->partial, p, (gssize)n);
          if (nl != NULL)
            {
              added += take_line (self, self->partial->str, self->partial->len);
              g_string_truncate (self->partial, 0);
            }
        }
      p = nl != NULL ? nl + 1 : end;
    }
  return added;
}

guint
ts_tls_keylog_end (TsTlsKeylog *self)
{
  guint added = 0;

  g_return_val_if_fail (self != NULL, 0);
  if (self->skipping)
    self->n_malformed++;
  else if (self->partial->len > 0)
    added = take_line (self, self->partial->str, self->partial->len);
  self->skipping = FALSE;
  g_string_truncate (self->partial, 0);
  return added;
}

gboolean
ts_tls_keylog_load_file (TsTlsKeylog *self, const char *path, GError **error)
{
  g_autofree char *contents = NULL;
  gsize len = 0;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  if (!g_file_get_contents (path, &contents, &len, error))
    return FALSE;
  ts_tls_keylog_end (self);
  ts_tls_keylog_feed (self, contents, len);
  ts_tls_keylog_end (self);
  return TRUE;
}

gboolean
ts_tls_keylog_lookup (TsTlsKeylog *self, const guint8 *client_random, TsTlsSecretKind kind,
                      const guint8 **out_secret, gsize *out_len)
{
  TsTlsKeylogEntry *entry;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (client_random != NULL, FALSE);
  g_return_val_if_fail ((guint)kind < TS_TLS_N_SECRET_KINDS, FALSE);

  entry = g_hash_table_lookup (self->entries, client_random);
  if (entry == NULL || entry->lens[kind] == 0)
    return FALSE;
  if (out_secret != NULL)
    *out_secret = entry->secrets[kind];
  if (out_len != NULL)
    *out_len = entry->lens[kind];
  return TRUE;
}

guint64
ts_tls_keylog_get_generation (TsTlsKeylog *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->generation;
}

guint
ts_tls_keylog_get_n_secrets (TsTlsKeylog *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->n_secrets;
}

guint
ts_tls_keylog_get_n_malformed (TsTlsKeylog *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->n_malformed;
}

guint
ts_tls_keylog_get_n_dropped (TsTlsKeylog *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->n_dropped;
}
