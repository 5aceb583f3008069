/* ts-tls-cursor.h: a bounded reader over TLS bytes with a sticky failure flag (private).
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every read checks the bounds. A read past the end returns 0 (or NULL) and
 * sets @failed, which stays set: a decoder reads a whole structure and
 * checks once. TLS vectors (<0..2^8-1>, <0..2^16-1>, <0..2^24-1>) are read
 * as sub-cursors with ts_tls_cursor_vec (), which fails the parent when the
 * announced length is longer than what remains. */
#pragma once

#include <glib.h>
#include <string.h>

G_BEGIN_DECLS

typedef struct
{
  const guint8 *data;
  gsize len;
  gsize pos;
  gboolean failed;
} TsTlsCursor;

static inline void
ts_tls_cursor_init (TsTlsCursor *self, const guint8 *data, gsize len)
{
  self->data = data;
  self->len = len;
  self->pos = 0;
  self->failed = FALSE;
}

static inline gsize
ts_tls_cursor_remaining (const TsTlsCursor *self)
{
  return self->failed ? 0 : self->len - self->pos;
}

static inline gboolean
ts_tls_cursor_done (const TsTlsCursor *self)
{
  return !self->failed && self->pos == self->len;
}

static inline gboolean
ts_tls_cursor_has (TsTlsCursor *self, gsize n)
{
  if (self->failed || self->len - self->pos < n)
    {
      self->failed = TRUE;
      return FALSE;
    }
  return TRUE;
}

static inline guint8
ts_tls_cursor_u8 (TsTlsCursor *self)
{
  if (!ts_tls_cursor_has (self, 1))
    return 0;
  return self->data[self->pos++];
}

static inline guint16
ts_tls_cursor_be16 (TsTlsCursor *self)
{
  guint16 v;

  if (!ts_tls_cursor_has (self, 2))
    return 0;
  v = (guint16)((self->data[self->pos] << 8) | self->data[self->pos + 1]);
  self->pos += 2;
  return v;
}

static inline guint32
ts_tls_cursor_be24 (TsTlsCursor *self)
{
  guint32 v;

  if (!ts_tls_cursor_has (self, 3))
    return 0;
  v = ((guint32)self->data[self->pos] << 16) | ((guint32)self->data[self->pos + 1] << 8)
      | self->data[self->pos + 2];
  self->pos += 3;
  return v;
}

static inline guint32
ts_tls_cursor_be32 (TsTlsCursor *self)
{
  guint32 v;

  if (!ts_tls_cursor_has (self, 4))
    return 0;
  v = ((guint32)self->data[self->pos] << 24) | ((guint32)self->data[self->pos + 1] << 16)
      | ((guint32)self->data[self->pos + 2] << 8) | self->data[self->pos + 3];
  self->pos += 4;
  return v;
}

/* A view of the next @n bytes (borrowed from the cursor's data), or NULL. */
static inline const guint8 *
ts_tls_cursor_bytes (TsTlsCursor *self, gsize n)
{
  const guint8 *p;

  if (!ts_tls_cursor_has (self, n))
    return NULL;
  p = self->data + self->pos;
  self->pos += n;
  return p;
}

static inline void
ts_tls_cursor_skip (TsTlsCursor *self, gsize n)
{
  if (ts_tls_cursor_has (self, n))
    self->pos += n;
}

/* Reads a vector length of @len_bytes (1, 2 or 3) and makes @out a cursor
 * over its contents. On failure both are failed. */
static inline gboolean
ts_tls_cursor_vec (TsTlsCursor *self, guint len_bytes, TsTlsCursor *out)
{
  gsize n = len_bytes == 1   ? ts_tls_cursor_u8 (self)
            : len_bytes == 2 ? ts_tls_cursor_be16 (self)
                             : ts_tls_cursor_be24 (self);
  const guint8 *p = ts_tls_cursor_bytes (self, n);

  ts_tls_cursor_init (out, p, p != NULL ? n : 0);
  out->failed = self->failed;
  return !self->failed;
}

G_END_DECLS
