/* ts-cursor.h: a bounded cursor over wire bytes with a sticky failure flag (all decoders).
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every read checks the bounds; a read past the end returns 0 (or NULL) and
 * sets @failed, which stays set, so a decoder can read a whole header and
 * check once. Never cast a struct onto packet memory: read through this. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  const guint8 *data;
  gsize len;
  gsize pos;
  gboolean failed;
} TsCursor;

static inline void
ts_cursor_init (TsCursor *self, const guint8 *data, gsize len)
{
  self->data = data;
  self->len = len;
  self->pos = 0;
  self->failed = FALSE;
}

static inline gsize
ts_cursor_remaining (const TsCursor *self)
{
  return self->failed ? 0 : self->len - self->pos;
}

static inline gboolean
ts_cursor_has (TsCursor *self, gsize n)
{
  if (self->failed || self->len - self->pos < n)
    {
      self->failed = TRUE;
      return FALSE;
    }
  return TRUE;
}

static inline guint8
ts_cursor_u8 (TsCursor *self)
{
  if (!ts_cursor_has (self, 1))
    return 0;
  return self->data[self->pos++];
}

static inline guint16
ts_cursor_be16 (TsCursor *self)
{
  guint16 v;
  if (!ts_cursor_has (self, 2))
    return 0;
  v = (guint16)((self->data[self->pos] << 8) | self->data[self->pos + 1]);
  self->pos += 2;
  return v;
}

static inline guint32
ts_cursor_be24 (TsCursor *self)
{
  guint32 v;
  if (!ts_cursor_has (self, 3))
    return 0;
  v = ((guint32)self->data[self->pos] << 16) | ((guint32)self->data[self->pos + 1] << 8)
      | self->data[self->pos + 2];
  self->pos += 3;
  return v;
}

static inline guint32
ts_cursor_be32 (TsCursor *self)
{
  guint32 v;
  if (!ts_cursor_has (self, 4))
    return 0;
  v = ((guint32)self->data[self->pos] << 24) | ((guint32)self->data[self->pos + 1] << 16)
      | ((guint32)self->data[self->pos + 2] << 8) | self->data[self->pos + 3];
  self->pos += 4;
  return v;
}

static inline guint64
ts_cursor_be64 (TsCursor *self)
{
  guint64 hi = ts_cursor_be32 (self);
  guint64 lo = ts_cursor_be32 (self);
  return (hi << 32) | lo;
}

static inline guint16
ts_cursor_le16 (TsCursor *self)
{
  guint16 v;
  if (!ts_cursor_has (self, 2))
    return 0;
  v = (guint16)(self->data[self->pos] | (self->data[self->pos + 1] << 8));
  self->pos += 2;
  return v;
}

static inline guint32
ts_cursor_le32 (TsCursor *self)
{
  guint32 v;
  if (!ts_cursor_has (self, 4))
    return 0;
  v = self->data[self->pos] | ((guint32)self->data[self->pos + 1] << 8)
      | ((guint32)self->data[self->pos + 2] << 16) | ((guint32)self->data[self->pos + 3] << 24);
  self->pos += 4;
  return v;
}

/* Returns a view of the next @n bytes and steps over them, or NULL. */
static inline const guint8 *
ts_cursor_bytes (TsCursor *self, gsize n)
{
  const guint8 *p;
  if (!ts_cursor_has (self, n))
    return NULL;
  p = self->data + self->pos;
  self->pos += n;
  return p;
}

static inline gboolean
ts_cursor_skip (TsCursor *self, gsize n)
{
  return ts_cursor_bytes (self, n) != NULL || n == 0;
}

/* TRUE when everything was read and nothing failed. */
static inline gboolean
ts_cursor_done (const TsCursor *self)
{
  return !self->failed && self->pos == self->len;
}

/* Reads a vector length of @len_bytes (1, 2 or 3: TLS's <0..2^8-1>,
 * <0..2^16-1>, <0..2^24-1>) and makes @out a cursor over its contents; a
 * length longer than what remains fails both. */
static inline gboolean
ts_cursor_vec (TsCursor *self, guint len_bytes, TsCursor *out)
{
  gsize n = len_bytes == 1   ? ts_cursor_u8 (self)
            : len_bytes == 2 ? ts_cursor_be16 (self)
                             : ts_cursor_be24 (self);
  const guint8 *p = ts_cursor_bytes (self, n);

  ts_cursor_init (out, p, p != NULL ? n : 0);
  out->failed = self->failed;
  return !self->failed;
}

G_END_DECLS
