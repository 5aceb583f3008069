/* ts-trace-writer.c: writes pcapng traces, merging links by time and placing
 * TLS secrets before their sessions.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "ts-pcapng-private.h"
#include "ts-trace-error.h"
#include "ts-trace-reader.h"
#include "ts-trace-writer.h"

/* Client randoms of ClientHellos already written, remembered so that a late
 * secret can be counted; bounded, oldest forgotten first. */
#define TS_TRACE_WRITER_MAX_SEEN_RANDOMS 65536

typedef enum
{
  ITEM_PACKET,
  ITEM_EVENT,
} ItemKind;

/* Packet bytes are copied into slabs, not one allocation each: a lab
 * capturing a bulk transfer holds half a million packets a second for the
 * window, and fresh pages for each (malloc's heap growing and shrinking
 * as the window slides) cost more than the copy. A slab is reused once
 * its last packet is written. */
#define SLAB_SIZE (4 * 1024 * 1024)
#define SLABS_KEPT 8

typedef struct
{
  guint8 *base;
  gsize used;
  guint live; /* items whose bytes are here */
} Slab;

typedef struct
{
  guint64 time_ns;
  guint64 seq; /* arrival order, to keep ties stable */
  ItemKind kind;
  guint32 interface_id;
  guint32 orig_len;
  guint8 *data; /* packet bytes (in @slab) or journal entry (owned) */
  Slab *slab;
  gsize len;
  GString *secrets; /* key log lines to write just before this packet, or NULL */
} Item;

struct _TsTraceWriter
{
  GOutputStream *out;
  GByteArray *pending; /* encoded blocks not yet written to @out */
  guint64 window_ns;
  guint64 seq;
  GArray *held;     /* Item, sorted by (time_ns, seq), from held_head on */
  guint held_head;  /* items before it are written (and cleared) */
  Slab *slab;       /* where packet bytes go now */
  GPtrArray *spare; /* empty slabs, at most SLABS_KEPT */
  guint n_interfaces;
  gboolean wrote_body;      /* something after the section header went out */
  GHashTable *seen_randoms; /* 32-byte client random (GBytes) -> TRUE */
  GQueue seen_order;
  guint64 n_packets;
  guint64 n_late_secrets;
  guint64 n_bad_keylog_lines;
};

/* memmem (), which C11 lacks. */
static const guint8 *
find_bytes (const guint8 *hay, gsize hay_len, const guint8 *needle, gsize needle_len)
{
  const guint8 *p = hay;

  if (needle_len == 0 || hay_len < needle_len)
    return NULL;
  while ((p = memchr (p, needle[0], hay_len - needle_len + 1 - (gsize)(p - hay))) != NULL)
    {
      if (memcmp (p, needle, needle_len) == 0)
        return p;
      p++;
    }
  return NULL;
}

static void
slab_free (Slab *slab)
{
  g_free (slab->base);
  g_free (slab);
}

static void
item_clear (TsTraceWriter *self, Item *item)
{
  if (item->slab == NULL)
    g_free (item->data);
  else if (--item->slab->live == 0 && item->slab != self->slab)
    {
      if (self->spare->len < SLABS_KEPT)
        g_ptr_array_add (self->spare, item->slab);
      else
        slab_free (item->slab);
    }
  if (item->secrets != NULL)
    g_string_free (item->secrets, TRUE);
}

/* A copy of @len bytes of @data in a slab, counted in *@slab_out. */
static guint8 *
slab_copy (TsTraceWriter *self, const guint8 *data, gsize len, Slab **slab_out)
{
  guint8 *copy;

  if (self->slab == NULL || self->slab->used + len > SLAB_SIZE)
    {
      Slab *old = self->slab;

      if (old != NULL && old->live == 0)
        old->used = 0; /* (every packet in it written: start over) */
      else
        {
          if (self->spare->len > 0)
            self->slab = g_ptr_array_steal_index_fast (self->spare, self->spare->len - 1);
          else
            {
              self->slab = g_new0 (Slab, 1);
              self->slab->base = g_malloc (SLAB_SIZE);
            }
          self->slab->used = 0;
        }
    }
  copy = self->slab->base + self->slab->used;
  memcpy (copy, data, len);
  self->slab->used += len;
  self->slab->live++;
  *slab_out = self->slab;
  return copy;
}

static void
put_u16 (GByteArray *out, guint16 v)
{
  g_byte_array_append (out, (const guint8 *)&v, 2);
}

static void
put_u32 (GByteArray *out, guint32 v)
{
  g_byte_array_append (out, (const guint8 *)&v, 4);
}

static void
put_pad (GByteArray *out, gsize len)
{
  static const guint8 zeros[4] = { 0 };
  gsize pad = (4 - len % 4) % 4;

  g_byte_array_append (out, zeros, (guint)pad);
}

static void
put_option (GByteArray *out, guint16 code, const void *value, gsize len)
{
  put_u16 (out, code);
  put_u16 (out, (guint16)len);
  g_byte_array_append (out, value, (guint)len);
  put_pad (out, len);
}

static void
put_string_option (GByteArray *out, guint16 code, const char *value)
{
  gsize len = MIN (strlen (value), 65535 - 3);

  put_option (out, code, value, len);
}

/* Starts a block; returns the offset of its start for end_block (). */
static guint
begin_block (GByteArray *out, guint32 type)
{
  guint start = out->len;

  put_u32 (out, type);
  put_u32 (out, 0); /* total length, filled in by end_block () */
  return start;
}

static void
end_block (GByteArray *out, guint start)
{
  guint32 total = out->len - start + 4;

  memcpy (out->data + start + 4, &total, 4);
  put_u32 (out, total);
}

static gboolean
write_pending (TsTraceWriter *self, gboolean flush_stream, GError **error)
{
  if (self->pending->len > 0)
    {
      if (!g_output_stream_write_all (self->out, self->pending->data, self->pending->len, NULL,
                                      NULL, error))
        return FALSE;
      g_byte_array_set_size (self->pending, 0);
    }
  if (flush_stream && !g_output_stream_flush (self->out, NULL, error))
    return FALSE;
  return TRUE;
}

TsTraceWriter *
ts_trace_writer_new (GOutputStream *out, const char *scenario, guint64 window_ns, GError **error)
{
  g_autoptr (TsTraceWriter) self = NULL;
  guint start;

  g_return_val_if_fail (G_IS_OUTPUT_STREAM (out), NULL);

  self = g_new0 (TsTraceWriter, 1);
  self->out = g_object_ref (out);
  self->pending = g_byte_array_new ();
  self->window_ns = window_ns;
  self->held = g_array_new (FALSE, FALSE, sizeof (Item));
  self->spare = g_ptr_array_new_with_free_func ((GDestroyNotify)slab_free);
  self->seen_randoms
      = g_hash_table_new_full (g_bytes_hash, g_bytes_equal, (GDestroyNotify)g_bytes_unref, NULL);
  g_queue_init (&self->seen_order);

  /* Section Header Block: byte-order magic, version 1.0, unknown section length. */
  start = begin_block (self->pending, TS_PCAPNG_BLOCK_SHB);
  put_u32 (self->pending, TS_PCAPNG_BYTE_ORDER_MAGIC);
  put_u16 (self->pending, 1);
  put_u16 (self->pending, 0);
  put_u32 (self->pending, 0xffffffffu);
  put_u32 (self->pending, 0xffffffffu);
  if (scenario != NULL)
    {
      g_autofree char *comment = g_strconcat (TS_PCAPNG_SCENARIO_PREFIX, scenario, NULL);
      put_string_option (self->pending, TS_PCAPNG_OPT_COMMENT, comment);
    }
  put_string_option (self->pending, TS_PCAPNG_OPT_SHB_OS, "Linux");
  put_string_option (self->pending, TS_PCAPNG_OPT_SHB_USERAPPL, "Tunnelscope " PACKAGE_VERSION);
  put_option (self->pending, TS_PCAPNG_OPT_ENDOFOPT, NULL, 0);
  end_block (self->pending, start);

  if (!write_pending (self, TRUE, error))
    return NULL;
  return g_steal_pointer (&self);
}

TsTraceWriter *
ts_trace_writer_new_for_path (const char *path, const char *scenario, guint64 window_ns,
                              GError **error)
{
  g_autoptr (GFile) file = NULL;
  g_autoptr (GFileOutputStream) stream = NULL;
  g_autoptr (GOutputStream) buffered = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  file = g_file_new_for_path (path);
  stream = g_file_replace (file, NULL, FALSE, G_FILE_CREATE_NONE, NULL, error);
  if (stream == NULL)
    return NULL;
  buffered = g_buffered_output_stream_new_sized (G_OUTPUT_STREAM (stream), 256 * 1024);
  return ts_trace_writer_new (buffered, scenario, window_ns, error);
}

static void
encode_event (GByteArray *out, const guint8 *entry, gsize len)
{
  guint start = begin_block (out, TS_PCAPNG_BLOCK_SJE);

  g_byte_array_append (out, entry, (guint)len);
  put_pad (out, len);
  end_block (out, start);
}

static void
encode_secrets (GByteArray *out, const char *text, gsize len)
{
  guint start = begin_block (out, TS_PCAPNG_BLOCK_DSB);

  put_u32 (out, TS_PCAPNG_SECRETS_TLS_KEYLOG);
  put_u32 (out, (guint32)len);
  g_byte_array_append (out, (const guint8 *)text, (guint)len);
  put_pad (out, len);
  end_block (out, start);
}

gboolean
ts_trace_writer_set_metadata (TsTraceWriter *self, guint64 time_ns, const char *json,
                              GError **error)
{
  g_autoptr (TsTraceEvent) event = NULL;
  g_autoptr (GBytes) entry = NULL;
  gsize len;
  const guint8 *data;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (json != NULL, FALSE);
  g_return_val_if_fail (!self->wrote_body, FALSE);

  event = ts_trace_event_new (time_ns, "lab", TS_TRACE_EVENT_KIND_METADATA);
  ts_trace_event_add (event, "metadata", json);
  entry = ts_trace_event_to_journal (event);
  data = g_bytes_get_data (entry, &len);
  encode_event (self->pending, data, len);
  self->wrote_body = TRUE;
  return write_pending (self, TRUE, error);
}

guint
ts_trace_writer_add_interface (TsTraceWriter *self, const char *name, guint linktype,
                               const char *description, GError **error)
{
  guint start;
  guint8 tsresol = 9; /* nanoseconds */

  g_return_val_if_fail (self != NULL, G_MAXUINT);
  g_return_val_if_fail (name != NULL, G_MAXUINT);

  start = begin_block (self->pending, TS_PCAPNG_BLOCK_IDB);
  put_u16 (self->pending, (guint16)linktype);
  put_u16 (self->pending, 0);
  put_u32 (self->pending, TS_TRACE_WRITER_MAX_PACKET);
  put_string_option (self->pending, TS_PCAPNG_OPT_IF_NAME, name);
  if (description != NULL)
    put_string_option (self->pending, TS_PCAPNG_OPT_IF_DESCRIPTION, description);
  put_option (self->pending, TS_PCAPNG_OPT_IF_TSRESOL, &tsresol, 1);
  put_option (self->pending, TS_PCAPNG_OPT_ENDOFOPT, NULL, 0);
  end_block (self->pending, start);
  self->wrote_body = TRUE;
  if (!write_pending (self, FALSE, error))
    return G_MAXUINT;
  return self->n_interfaces++;
}

/* Finds a TLS ClientHello in a packet and returns its client random, or NULL.
 * A heuristic over raw bytes (no link/IP/TCP decoding): a handshake record
 * header 16 03 0x, a ClientHello (01) of a plausible length, legacy version
 * 03 0x, then the 32-byte random. Only used to count late secrets. */
static const guint8 *
find_client_random (const guint8 *data, gsize len)
{
  const guint8 *p = data;

  /* (memchr () for the first byte: this runs on every packet written.) */
  while (len >= 11 + 32 && (p = memchr (p, 0x16, len - (11 + 32) + 1 - (gsize)(p - data))) != NULL)
    {
      if (p[1] == 0x03 && p[2] <= 0x04 && p[5] == 0x01 && p[6] == 0x00 && p[9] == 0x03
          && p[10] <= 0x04)
        return p + 11;
      p++;
    }
  return NULL;
}

static void
remember_random (TsTraceWriter *self, const guint8 *random)
{
  GBytes *key = g_bytes_new (random, 32);

  if (g_hash_table_contains (self->seen_randoms, key))
    {
      g_bytes_unref (key);
      return;
    }
  g_hash_table_add (self->seen_randoms, key);
  g_queue_push_tail (&self->seen_order, key);
  if (self->seen_order.length > TS_TRACE_WRITER_MAX_SEEN_RANDOMS)
    g_hash_table_remove (self->seen_randoms, g_queue_pop_head (&self->seen_order));
}

static void
encode_item (TsTraceWriter *self, Item *item)
{
  guint start;

  if (item->secrets != NULL)
    encode_secrets (self->pending, item->secrets->str, item->secrets->len);

  if (item->kind == ITEM_EVENT)
    {
      encode_event (self->pending, item->data, item->len);
      return;
    }

  start = begin_block (self->pending, TS_PCAPNG_BLOCK_EPB);
  put_u32 (self->pending, item->interface_id);
  put_u32 (self->pending, (guint32)(item->time_ns >> 32));
  put_u32 (self->pending, (guint32)(item->time_ns & 0xffffffffu));
  put_u32 (self->pending, (guint32)item->len);
  put_u32 (self->pending, item->orig_len);
  g_byte_array_append (self->pending, item->data, (guint)item->len);
  put_pad (self->pending, item->len);
  put_option (self->pending, TS_PCAPNG_OPT_ENDOFOPT, NULL, 0);
  end_block (self->pending, start);

  {
    const guint8 *random = find_client_random (item->data, item->len);
    if (random != NULL)
      remember_random (self, random);
  }
}

/* Writes out the first @n held items. */
static gboolean
release (TsTraceWriter *self, guint n, gboolean flush_stream, GError **error)
{
  for (guint i = 0; i < n; i++)
    {
      Item *item = &g_array_index (self->held, Item, self->held_head + i);
      encode_item (self, item);
      item_clear (self, item);
    }
  self->held_head += n;
  /* Written items are dropped from the array once they are half of it
   * (one move for many releases). */
  if (self->held_head > 0 && self->held_head >= self->held->len / 2)
    {
      g_array_remove_range (self->held, 0, self->held_head);
      self->held_head = 0;
    }
  return write_pending (self, flush_stream, error);
}

static void
hold (TsTraceWriter *self, Item *item)
{
  guint i = self->held->len;

  item->seq = self->seq++;
  /* Items come nearly in order: search from the end. */
  while (i > self->held_head && g_array_index (self->held, Item, i - 1).time_ns > item->time_ns)
    i--;
  g_array_insert_val (self->held, i, *item);
}

gboolean
ts_trace_writer_add_packet (TsTraceWriter *self, guint interface_id, guint64 time_ns,
                            const guint8 *data, gsize caplen, gsize orig_len, GError **error)
{
  Item item = { 0 };

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (interface_id < self->n_interfaces, FALSE);
  g_return_val_if_fail (data != NULL || caplen == 0, FALSE);

  caplen = MIN (caplen, TS_TRACE_WRITER_MAX_PACKET);
  item.kind = ITEM_PACKET;
  item.time_ns = time_ns;
  item.interface_id = interface_id;
  item.orig_len = (guint32)MIN (MAX (orig_len, caplen), G_MAXUINT32);
  item.data = slab_copy (self, data, caplen, &item.slab);
  item.len = caplen;
  hold (self, &item);
  self->n_packets++;
  return TRUE;
}

gboolean
ts_trace_writer_add_event (TsTraceWriter *self, const TsTraceEvent *event, GError **error)
{
  g_autoptr (GBytes) entry = NULL;
  Item item = { 0 };
  gsize len;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (event != NULL, FALSE);

  entry = ts_trace_event_to_journal (event);
  item.kind = ITEM_EVENT;
  item.time_ns = ts_trace_event_get_time_ns (event);
  item.data = g_bytes_unref_to_data (g_steal_pointer (&entry), &len);
  item.len = len;
  hold (self, &item);
  return TRUE;
}

/* Parses "LABEL <64 hex client random> <hex secret>"; fills @random. */
static gboolean
parse_keylog_line (const char *line, gsize len, guint8 random[32])
{
  const char *sp1 = memchr (line, ' ', len);
  const char *hex, *sp2;

  if (sp1 == NULL || sp1 == line)
    return FALSE;
  hex = sp1 + 1;
  sp2 = memchr (hex, ' ', (gsize)(line + len - hex));
  if (sp2 == NULL || sp2 - hex != 64 || sp2 + 1 >= line + len)
    return FALSE;
  for (int i = 0; i < 32; i++)
    {
      int hi = g_ascii_xdigit_value (hex[2 * i]);
      int lo = g_ascii_xdigit_value (hex[2 * i + 1]);

      if (hi < 0 || lo < 0)
        return FALSE;
      random[i] = (guint8)(hi * 16 + lo);
    }
  for (const char *p = sp2 + 1; p < line + len; p++)
    if (!g_ascii_isxdigit (*p))
      return FALSE;
  return TRUE;
}

gboolean
ts_trace_writer_add_keylog (TsTraceWriter *self, guint64 time_ns, const char *text, gsize len,
                            GError **error)
{
  g_autoptr (GString) immediate = g_string_new (NULL);
  gsize pos = 0;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (text != NULL || len == 0, FALSE);

  while (pos < len)
    {
      const char *nl = memchr (text + pos, '\n', len - pos);
      gsize line_len = nl != NULL ? (gsize)(nl - (text + pos)) : len - pos;
      const char *line = text + pos;
      guint8 random[32];
      gboolean placed = FALSE;

      pos += line_len + (nl != NULL ? 1 : 0);
      while (line_len > 0 && (line[line_len - 1] == '\r' || line[line_len - 1] == ' '))
        line_len--;
      if (line_len == 0 || line[0] == '#')
        continue;
      if (!parse_keylog_line (line, line_len, random))
        {
          self->n_bad_keylog_lines++;
          continue;
        }

      for (guint i = self->held_head; i < self->held->len && !placed; i++)
        {
          Item *item = &g_array_index (self->held, Item, i);

          if (item->kind == ITEM_PACKET && find_bytes (item->data, item->len, random, 32) != NULL)
            {
              if (item->secrets == NULL)
                item->secrets = g_string_new (NULL);
              g_string_append_len (item->secrets, line, (gssize)line_len);
              g_string_append_c (item->secrets, '\n');
              placed = TRUE;
            }
        }
      if (!placed)
        {
          g_autoptr (GBytes) key = g_bytes_new (random, 32);

          if (g_hash_table_contains (self->seen_randoms, key))
            self->n_late_secrets++;
          g_string_append_len (immediate, line, (gssize)line_len);
          g_string_append_c (immediate, '\n');
        }
    }

  /* Secrets whose session is not held go out now: before every held packet,
   * so before the session's first packet if it is still to come. */
  if (immediate->len > 0)
    {
      encode_secrets (self->pending, immediate->str, immediate->len);
      self->wrote_body = TRUE;
      return write_pending (self, FALSE, error);
    }
  return TRUE;
}

gboolean
ts_trace_writer_advance (TsTraceWriter *self, guint64 now_ns, GError **error)
{
  guint n = 0;
  guint64 limit;

  g_return_val_if_fail (self != NULL, FALSE);

  if (self->window_ns == G_MAXUINT64 || now_ns < self->window_ns)
    return TRUE;
  limit = now_ns - self->window_ns;
  while (self->held_head + n < self->held->len
         && g_array_index (self->held, Item, self->held_head + n).time_ns <= limit)
    n++;
  if (n == 0)
    return TRUE;
  return release (self, n, TRUE, error);
}

static void
put_counter_option (GByteArray *out, guint16 code, guint64 value)
{
  if (value != G_MAXUINT64)
    put_option (out, code, &value, sizeof value);
}

gboolean
ts_trace_writer_add_statistics (TsTraceWriter *self, guint interface_id, guint64 time_ns,
                                const TsTraceStatistics *stats, GError **error)
{
  guint start;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (interface_id < self->n_interfaces, FALSE);
  g_return_val_if_fail (stats != NULL, FALSE);

  if (!ts_trace_writer_flush (self, error))
    return FALSE;
  start = begin_block (self->pending, TS_PCAPNG_BLOCK_ISB);
  put_u32 (self->pending, interface_id);
  put_u32 (self->pending, (guint32)(time_ns >> 32));
  put_u32 (self->pending, (guint32)(time_ns & 0xffffffffu));
  put_counter_option (self->pending, TS_PCAPNG_OPT_ISB_IFRECV, stats->received);
  put_counter_option (self->pending, TS_PCAPNG_OPT_ISB_IFDROP, stats->if_drops);
  put_counter_option (self->pending, TS_PCAPNG_OPT_ISB_OSDROP, stats->os_drops);
  put_counter_option (self->pending, TS_PCAPNG_OPT_ISB_USRDELIV, stats->delivered);
  put_option (self->pending, TS_PCAPNG_OPT_ENDOFOPT, NULL, 0);
  end_block (self->pending, start);
  return write_pending (self, TRUE, error);
}

gboolean
ts_trace_writer_flush (TsTraceWriter *self, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return release (self, self->held->len - self->held_head, TRUE, error);
}

gboolean
ts_trace_writer_close (TsTraceWriter *self, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);

  if (!ts_trace_writer_flush (self, error))
    return FALSE;
  return g_output_stream_close (self->out, NULL, error);
}

guint64
ts_trace_writer_get_n_packets (TsTraceWriter *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->n_packets;
}

guint64
ts_trace_writer_get_n_late_secrets (TsTraceWriter *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->n_late_secrets;
}

guint64
ts_trace_writer_get_n_bad_keylog_lines (TsTraceWriter *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->n_bad_keylog_lines;
}

void
ts_trace_writer_free (TsTraceWriter *self)
{
  if (self == NULL)
    return;
  g_clear_object (&self->out);
  g_byte_array_unref (self->pending);
  for (guint i = self->held_head; i < self->held->len; i++)
    item_clear (self, &g_array_index (self->held, Item, i));
  g_array_unref (self->held);
  if (self->slab != NULL && self->slab->live == 0)
    slab_free (self->slab);
  g_ptr_array_unref (self->spare);
  g_queue_clear (&self->seen_order);
  g_hash_table_unref (self->seen_randoms);
  g_free (self);
}
