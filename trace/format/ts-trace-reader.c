/* ts-trace-reader.c: incremental, bounded reader of pcapng and classic pcap.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "ts-pcapng-private.h"
#include "ts-prefetch.h"
#include "ts-trace-error.h"
#include "ts-trace-reader.h"

/* Classic pcap (draft-ietf-opsawg-pcap):
 *
 *   file header, 24 bytes:  magic | major u16 | minor u16 | reserved u32 |
 *                           reserved u32 | snaplen u32 | linktype u32
 *   record header, 16 bytes: ts_sec | ts_usec or ts_nsec | caplen | orig_len
 */
#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_MAGIC_NS 0xa1b23c4du
#define PCAP_FILE_HEADER 24
#define PCAP_RECORD_HEADER 16

/* A name or description longer than this in an option is cut. */
#define TS_PCAPNG_MAX_NAME 1024

typedef enum
{
  STATE_START,
  STATE_PCAPNG,
  STATE_PCAP,
  STATE_FAILED,
} State;

struct _TsTraceReader
{
  State state;
  TsTraceFormat format;
  GByteArray *buffer;    /* fed bytes, from @base on */
  GBytes *bytes;         /* or zero-copy input */
  gsize pos;             /* next unread byte in the current data */
  guint64 base;          /* stream offset of the current data's first byte */
  guint64 fetched;       /* stream offset prefetched up to (ts_prefetch_ahead ()) */
  gboolean swapped;      /* section or file in the other byte order */
  gboolean nanoseconds;  /* classic pcap with nanosecond stamps */
  GPtrArray *interfaces; /* TsTraceInterface *, of this section */
  GPtrArray *owned;      /* every TsTraceInterface read, owned: they outlive sections */
  char *scenario;
  char *application;
  TsTraceEvent *event; /* the last event returned, owned */
  GError *failure;     /* sticky */
};

static void
interface_free (TsTraceInterface *iface)
{
  g_free (iface->name);
  g_free (iface->description);
  g_free (iface);
}

TsTraceReader *
ts_trace_reader_new (void)
{
  TsTraceReader *self = g_new0 (TsTraceReader, 1);

  self->buffer = g_byte_array_new ();
  self->interfaces = g_ptr_array_new ();
  self->owned = g_ptr_array_new_with_free_func ((GDestroyNotify)interface_free);
  return self;
}

void
ts_trace_reader_free (TsTraceReader *self)
{
  if (self == NULL)
    return;
  g_byte_array_unref (self->buffer);
  g_clear_pointer (&self->bytes, g_bytes_unref);
  g_ptr_array_unref (self->interfaces);
  g_ptr_array_unref (self->owned);
  g_free (self->scenario);
  g_free (self->application);
  g_clear_pointer (&self->event, ts_trace_event_free);
  g_clear_error (&self->failure);
  g_free (self);
}

static const guint8 *
current_data (TsTraceReader *self, gsize *out_len)
{
  if (self->bytes != NULL)
    return g_bytes_get_data (self->bytes, out_len);
  *out_len = self->buffer->len;
  return self->buffer->data;
}

void
ts_trace_reader_feed (TsTraceReader *self, const guint8 *data, gsize len)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (self->bytes == NULL);
  g_return_if_fail (data != NULL || len == 0);

  /* Drop what was consumed once it is most of the buffer. */
  if (self->pos > 0 && self->pos >= self->buffer->len / 2)
    {
      g_byte_array_remove_range (self->buffer, 0, (guint)self->pos);
      self->base += self->pos;
      self->pos = 0;
    }
  while (len > 0)
    {
      guint chunk = (guint)MIN (len, G_MAXUINT / 2);

      g_byte_array_append (self->buffer, data, chunk);
      data += chunk;
      len -= chunk;
    }
}

void
ts_trace_reader_feed_bytes (TsTraceReader *self, GBytes *bytes)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (bytes != NULL);
  g_return_if_fail (self->bytes == NULL && self->buffer->len == self->pos);

  self->base += self->pos;
  self->pos = 0;
  g_byte_array_set_size (self->buffer, 0);
  self->bytes = g_bytes_ref (bytes);
}

static guint16
rd16 (TsTraceReader *self, const guint8 *p)
{
  guint16 v;

  memcpy (&v, p, 2);
  return self->swapped ? GUINT16_SWAP_LE_BE (v) : v;
}

static guint32
rd32 (TsTraceReader *self, const guint8 *p)
{
  guint32 v;

  memcpy (&v, p, 4);
  return self->swapped ? GUINT32_SWAP_LE_BE (v) : v;
}

static TsTraceRecordKind fail (TsTraceReader *self, GError **error, TsTraceError code,
                               const char *format, ...) G_GNUC_PRINTF (4, 5);

static TsTraceRecordKind
fail (TsTraceReader *self, GError **error, TsTraceError code, const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  self->state = STATE_FAILED;
  g_clear_error (&self->failure);
  self->failure = g_error_new_literal (TS_TRACE_ERROR, code, message);
  g_propagate_error (error, g_error_copy (self->failure));
  return TS_TRACE_RECORD_ERROR;
}

static guint64
scale_to_ns (guint64 value, guint64 per_s)
{
  guint64 seconds, fraction;

  if (per_s == 1000000000u)
    return value;
  seconds = value / per_s;
  fraction = value % per_s;
  if (per_s <= G_GUINT64_CONSTANT (18000000000))
    return seconds * 1000000000u + fraction * 1000000000u / per_s;
  return seconds * 1000000000u + (guint64)((double)fraction * 1e9 / (double)per_s);
}

/* Walks the options of a block body from @p to @end, checking every length.
 * Calls @visit for each; returns FALSE and sets the failure on overflow. */
typedef void (*OptionVisit) (TsTraceReader *self, gpointer user_data, guint16 code,
                             const guint8 *value, guint16 len);

static gboolean
walk_options (TsTraceReader *self, const guint8 *block, const guint8 *p, const guint8 *end,
              guint64 block_offset, OptionVisit visit, gpointer user_data, GError **error)
{
  guint n = 0;

  while (p < end)
    {
      guint16 code, len;
      gsize padded;

      if ((gsize)(end - p) < 4)
        {
          fail (self, error, TS_TRACE_ERROR_INVALID,
                "option at offset %" G_GUINT64_FORMAT " is cut: %u bytes left in the block",
                block_offset + (guint64)(p - block), (guint)(end - p));
          return FALSE;
        }
      code = rd16 (self, p);
      len = rd16 (self, p + 2);
      if (code == TS_PCAPNG_OPT_ENDOFOPT)
        return TRUE;
      padded = ((gsize)len + 3) & ~(gsize)3;
      if (padded > (gsize)(end - p - 4))
        {
          fail (self, error, TS_TRACE_ERROR_INVALID,
                "option %u at offset %" G_GUINT64_FORMAT
                " claims %u bytes, only %u left in the block",
                code, block_offset + (guint64)(p - block), len, (guint)(end - p - 4));
          return FALSE;
        }
      if (++n > TS_PCAPNG_MAX_OPTIONS)
        {
          fail (self, error, TS_TRACE_ERROR_TOO_LARGE,
                "block at offset %" G_GUINT64_FORMAT " has more than %d options", block_offset,
                TS_PCAPNG_MAX_OPTIONS);
          return FALSE;
        }
      visit (self, user_data, code, p + 4, len);
      p += 4 + padded;
    }
  return TRUE;
}

static char *
option_string (const guint8 *value, guint16 len)
{
  gsize n = MIN (len, TS_PCAPNG_MAX_NAME);
  const guint8 *nul = memchr (value, '\0', n);

  if (nul != NULL)
    n = (gsize)(nul - value);
  return g_utf8_make_valid ((const char *)value, (gssize)n);
}

static void
visit_shb_option (TsTraceReader *self, gpointer user_data, guint16 code, const guint8 *value,
                  guint16 len)
{
  if (code == TS_PCAPNG_OPT_COMMENT)
    {
      g_autofree char *comment = option_string (value, len);

      if (g_str_has_prefix (comment, TS_PCAPNG_SCENARIO_PREFIX) && self->scenario == NULL)
        self->scenario = g_strdup (comment + strlen (TS_PCAPNG_SCENARIO_PREFIX));
    }
  else if (code == TS_PCAPNG_OPT_SHB_USERAPPL && self->application == NULL)
    self->application = option_string (value, len);
}

static void
visit_idb_option (TsTraceReader *self, gpointer user_data, guint16 code, const guint8 *value,
                  guint16 len)
{
  TsTraceInterface *iface = user_data;
  guint8 r;

  switch (code)
    {
      case TS_PCAPNG_OPT_IF_NAME:
        g_free (iface->name);
        iface->name = option_string (value, len);
        break;
      case TS_PCAPNG_OPT_IF_DESCRIPTION:
        g_free (iface->description);
        iface->description = option_string (value, len);
        break;
      case TS_PCAPNG_OPT_IF_TSRESOL:
        if (len < 1)
          break;
        r = value[0];
        if ((r & 0x80) != 0 && (r & 0x7f) <= 63 && (r & 0x7f) >= 1)
          iface->tsresol_per_s = G_GUINT64_CONSTANT (1) << (r & 0x7f);
        else if ((r & 0x80) == 0 && r <= 19)
          {
            iface->tsresol_per_s = 1;
            for (guint8 i = 0; i < r; i++)
              iface->tsresol_per_s *= 10;
          }
        /* Any other resolution keeps the default: the value is meaningless. */
        break;
      default:
        break;
    }
}

static void
visit_isb_option (TsTraceReader *self, gpointer user_data, guint16 code, const guint8 *value,
                  guint16 len)
{
  TsTraceStatistics *stats = user_data;
  guint64 v;

  if (len != 8)
    return; /* (every counter is a 64-bit integer; anything else means nothing) */
  memcpy (&v, value, 8);
  if (self->swapped)
    v = GUINT64_SWAP_LE_BE (v);
  switch (code)
    {
      case TS_PCAPNG_OPT_ISB_IFRECV:
        stats->received = v;
        break;
      case TS_PCAPNG_OPT_ISB_IFDROP:
        stats->if_drops = v;
        break;
      case TS_PCAPNG_OPT_ISB_OSDROP:
        stats->os_drops = v;
        break;
      case TS_PCAPNG_OPT_ISB_USRDELIV:
        stats->delivered = v;
        break;
      default:
        break;
    }
}

static TsTraceRecordKind
read_pcapng_block (TsTraceReader *self, const guint8 *data, gsize avail, TsTraceRecord *out,
                   GError **error)
{
  guint64 offset = self->base + self->pos;
  guint32 type, total, trailer;
  const guint8 *body, *end;
  gsize body_len;

  if (avail < 12)
    return TS_TRACE_RECORD_NONE;

  memcpy (&type, data, 4); /* the SHB type reads the same in both byte orders */
  if (type == TS_PCAPNG_BLOCK_SHB)
    {
      guint32 magic;

      memcpy (&magic, data + 8, 4);
      if (magic == TS_PCAPNG_BYTE_ORDER_MAGIC)
        self->swapped = FALSE;
      else if (magic == GUINT32_SWAP_LE_BE (TS_PCAPNG_BYTE_ORDER_MAGIC))
        self->swapped = TRUE;
      else
        return fail (self, error, TS_TRACE_ERROR_INVALID,
                     "section header at offset %" G_GUINT64_FORMAT
                     " has byte-order magic 0x%08x, not 0x1a2b3c4d",
                     offset, magic);
    }
  type = rd32 (self, data);
  total = rd32 (self, data + 4);

  if (total < 12 || total % 4 != 0)
    return fail (self, error, TS_TRACE_ERROR_INVALID,
                 "block at offset %" G_GUINT64_FORMAT
                 " has length %u, not a multiple of 4 of at least 12",
                 offset, total);
  if (total > TS_PCAPNG_MAX_BLOCK)
    return fail (self, error, TS_TRACE_ERROR_TOO_LARGE,
                 "block at offset %" G_GUINT64_FORMAT " has length %u, over the cap of %d", offset,
                 total, TS_PCAPNG_MAX_BLOCK);
  if (avail < total)
    return TS_TRACE_RECORD_NONE;

  trailer = rd32 (self, data + total - 4);
  if (trailer != total)
    return fail (self, error, TS_TRACE_ERROR_INVALID,
                 "block at offset %" G_GUINT64_FORMAT
                 " has length %u in its header and %u in its trailer",
                 offset, total, trailer);

  body = data + 8;
  body_len = total - 12;
  end = body + body_len;
  out->offset = offset;
  self->pos += total;

  if (type != TS_PCAPNG_BLOCK_SHB && self->format != TS_TRACE_FORMAT_PCAPNG)
    return fail (self, error, TS_TRACE_ERROR_INVALID,
                 "block at offset %" G_GUINT64_FORMAT " comes before any section header", offset);

  switch (type)
    {
      case TS_PCAPNG_BLOCK_SHB:
        {
          guint16 major;

          if (body_len < 16)
            return fail (self, error, TS_TRACE_ERROR_INVALID,
                         "section header at offset %" G_GUINT64_FORMAT " is %u bytes, under 28",
                         offset, total);
          major = rd16 (self, body + 4);
          if (major != 1)
            return fail (self, error, TS_TRACE_ERROR_UNSUPPORTED,
                         "section header at offset %" G_GUINT64_FORMAT " has version %u, not 1",
                         offset, major);
          self->format = TS_TRACE_FORMAT_PCAPNG;
          /* A new section starts a new set of interfaces. */
          g_ptr_array_set_size (self->interfaces, 0);
          if (!walk_options (self, data, body + 16, end, offset, visit_shb_option, NULL, error))
            return TS_TRACE_RECORD_ERROR;
          out->kind = TS_TRACE_RECORD_SECTION;
          return out->kind;
        }

      case TS_PCAPNG_BLOCK_IDB:
        {
          TsTraceInterface *iface;

          if (body_len < 8)
            return fail (self, error, TS_TRACE_ERROR_INVALID,
                         "interface block at offset %" G_GUINT64_FORMAT " is %u bytes, under 20",
                         offset, total);
          if (self->interfaces->len >= TS_PCAPNG_MAX_INTERFACES)
            return fail (self, error, TS_TRACE_ERROR_TOO_LARGE,
                         "interface block at offset %" G_GUINT64_FORMAT
                         " is one more than the cap of %d interfaces",
                         offset, TS_PCAPNG_MAX_INTERFACES);
          iface = g_new0 (TsTraceInterface, 1);
          iface->id = self->interfaces->len;
          iface->linktype = rd16 (self, body);
          iface->snaplen = rd32 (self, body + 4);
          iface->tsresol_per_s = 1000000;
          if (!walk_options (self, data, body + 8, end, offset, visit_idb_option, iface, error))
            {
              interface_free (iface);
              return TS_TRACE_RECORD_ERROR;
            }
          if (iface->name == NULL)
            iface->name = g_strdup_printf ("if%u", iface->id);
          g_ptr_array_add (self->interfaces, iface);
          g_ptr_array_add (self->owned, iface);
          out->kind = TS_TRACE_RECORD_INTERFACE;
          out->interface = iface;
          return out->kind;
        }

      case TS_PCAPNG_BLOCK_EPB:
      case TS_PCAPNG_BLOCK_PB:
        {
          guint32 id, caplen, orig_len;
          guint64 stamp;
          const TsTraceInterface *iface;

          if (body_len < 20)
            return fail (self, error, TS_TRACE_ERROR_INVALID,
                         "packet block at offset %" G_GUINT64_FORMAT " is %u bytes, under 32",
                         offset, total);
          id = type == TS_PCAPNG_BLOCK_EPB ? rd32 (self, body) : rd16 (self, body);
          stamp = (guint64)rd32 (self, body + 4) << 32 | rd32 (self, body + 8);
          caplen = rd32 (self, body + 12);
          orig_len = rd32 (self, body + 16);
          if (id >= self->interfaces->len)
            return fail (self, error, TS_TRACE_ERROR_INVALID,
                         "packet block at offset %" G_GUINT64_FORMAT
                         " names interface %u of %u declared",
                         offset, id, self->interfaces->len);
          if (caplen > body_len - 20)
            return fail (self, error, TS_TRACE_ERROR_INVALID,
                         "packet block at offset %" G_GUINT64_FORMAT
                         " claims %u captured bytes, only %u in the block",
                         offset, caplen, (guint)(body_len - 20));
          iface = self->interfaces->pdata[id];
          out->kind = TS_TRACE_RECORD_PACKET;
          out->interface_id = id;
          out->time_ns = scale_to_ns (stamp, iface->tsresol_per_s);
          out->data = body + 20;
          out->caplen = caplen;
          out->orig_len = MAX (orig_len, caplen);
          return out->kind;
        }

      case TS_PCAPNG_BLOCK_SPB:
        {
          guint32 orig_len, caplen;
          const TsTraceInterface *iface;

          if (body_len < 4)
            return fail (self, error, TS_TRACE_ERROR_INVALID,
                         "simple packet block at offset %" G_GUINT64_FORMAT
                         " is %u bytes, under 16",
                         offset, total);
          if (self->interfaces->len == 0)
            return fail (self, error, TS_TRACE_ERROR_INVALID,
                         "simple packet block at offset %" G_GUINT64_FORMAT
                         " comes before any interface",
                         offset);
          iface = self->interfaces->pdata[0];
          orig_len = rd32 (self, body);
          caplen = (guint32)MIN ((gsize)orig_len, body_len - 4);
          if (iface->snaplen != 0)
            caplen = MIN (caplen, iface->snaplen);
          out->kind = TS_TRACE_RECORD_PACKET;
          out->interface_id = 0;
          out->time_ns = 0;
          out->data = body + 4;
          out->caplen = caplen;
          out->orig_len = MAX (orig_len, caplen);
          return out->kind;
        }

      case TS_PCAPNG_BLOCK_ISB:
        {
          guint32 id;
          guint64 stamp;

          if (body_len < 12)
            return fail (self, error, TS_TRACE_ERROR_INVALID,
                         "statistics block at offset %" G_GUINT64_FORMAT " is %u bytes, under 24",
                         offset, total);
          id = rd32 (self, body);
          if (id >= self->interfaces->len)
            return fail (self, error, TS_TRACE_ERROR_INVALID,
                         "statistics block at offset %" G_GUINT64_FORMAT
                         " names interface %u of %u declared",
                         offset, id, self->interfaces->len);
          stamp = (guint64)rd32 (self, body + 4) << 32 | rd32 (self, body + 8);
          out->statistics.received = out->statistics.if_drops = G_MAXUINT64;
          out->statistics.os_drops = out->statistics.delivered = G_MAXUINT64;
          if (!walk_options (self, data, body + 12, end, offset, visit_isb_option, &out->statistics,
                             error))
            return TS_TRACE_RECORD_ERROR;
          out->kind = TS_TRACE_RECORD_STATISTICS;
          out->interface_id = id;
          out->time_ns = scale_to_ns (
              stamp, ((const TsTraceInterface *)self->interfaces->pdata[id])->tsresol_per_s);
          return out->kind;
        }

      case TS_PCAPNG_BLOCK_DSB:
        {
          guint32 secrets_type, secrets_len;

          if (body_len < 8)
            return fail (self, error, TS_TRACE_ERROR_INVALID,
                         "secrets block at offset %" G_GUINT64_FORMAT " is %u bytes, under 20",
                         offset, total);
          secrets_type = rd32 (self, body);
          secrets_len = rd32 (self, body + 4);
          if (secrets_len > body_len - 8)
            return fail (self, error, TS_TRACE_ERROR_INVALID,
                         "secrets block at offset %" G_GUINT64_FORMAT
                         " claims %u bytes of secrets, only %u in the block",
                         offset, secrets_len, (guint)(body_len - 8));
          out->kind = TS_TRACE_RECORD_SECRETS;
          out->secrets_type = secrets_type;
          out->secrets = body + 8;
          out->secrets_len = secrets_len;
          return out->kind;
        }

      case TS_PCAPNG_BLOCK_SJE:
        {
          gsize entry_len = body_len;

          /* The entry is padded with zeros to 32 bits. */
          while (entry_len > 0 && body[entry_len - 1] == '\0')
            entry_len--;
          g_clear_pointer (&self->event, ts_trace_event_free);
          self->event = ts_trace_event_new_from_journal (body, entry_len, NULL);
          if (self->event == NULL)
            {
              /* A journal entry from another program: not ours, not damage. */
              out->kind = TS_TRACE_RECORD_OTHER;
              out->block_type = type;
              return out->kind;
            }
          out->kind = TS_TRACE_RECORD_EVENT;
          out->event = self->event;
          return out->kind;
        }

      default:
        out->kind = TS_TRACE_RECORD_OTHER;
        out->block_type = type;
        return out->kind;
    }
}

static TsTraceRecordKind
read_pcap_header (TsTraceReader *self, const guint8 *data, gsize avail, TsTraceRecord *out,
                  GError **error)
{
  TsTraceInterface *iface;
  guint32 magic;
  guint16 major;

  if (avail < PCAP_FILE_HEADER)
    return TS_TRACE_RECORD_NONE;
  memcpy (&magic, data, 4);
  self->swapped
      = magic == GUINT32_SWAP_LE_BE (PCAP_MAGIC_US) || magic == GUINT32_SWAP_LE_BE (PCAP_MAGIC_NS);
  magic = rd32 (self, data);
  self->nanoseconds = magic == PCAP_MAGIC_NS;
  major = rd16 (self, data + 4);
  if (major != 2)
    return fail (self, error, TS_TRACE_ERROR_UNSUPPORTED,
                 "pcap file header at offset 0 has version %u, not 2", major);

  iface = g_new0 (TsTraceInterface, 1);
  iface->id = 0;
  iface->snaplen = rd32 (self, data + 16);
  iface->linktype = rd32 (self, data + 20) & 0x0fffffffu;
  iface->tsresol_per_s = self->nanoseconds ? 1000000000u : 1000000u;
  iface->name = g_strdup ("if0");
  g_ptr_array_add (self->interfaces, iface);
  g_ptr_array_add (self->owned, iface);

  self->pos += PCAP_FILE_HEADER;
  self->state = STATE_PCAP;
  out->kind = TS_TRACE_RECORD_SECTION;
  out->offset = 0;
  return out->kind;
}

static TsTraceRecordKind
read_pcap_record (TsTraceReader *self, const guint8 *data, gsize avail, TsTraceRecord *out,
                  GError **error)
{
  guint64 offset = self->base + self->pos;
  guint32 seconds, fraction, caplen, orig_len;

  if (avail < PCAP_RECORD_HEADER)
    return TS_TRACE_RECORD_NONE;
  seconds = rd32 (self, data);
  fraction = rd32 (self, data + 4);
  caplen = rd32 (self, data + 8);
  orig_len = rd32 (self, data + 12);
  if (caplen > TS_PCAP_MAX_SNAPLEN)
    return fail (self, error, TS_TRACE_ERROR_TOO_LARGE,
                 "pcap record at offset %" G_GUINT64_FORMAT
                 " claims %u captured bytes, over the cap of %d",
                 offset, caplen, TS_PCAP_MAX_SNAPLEN);
  if ((self->nanoseconds && fraction >= 1000000000u)
      || (!self->nanoseconds && fraction >= 1000000u))
    return fail (self, error, TS_TRACE_ERROR_INVALID,
                 "pcap record at offset %" G_GUINT64_FORMAT " has a sub-second part of %u", offset,
                 fraction);
  if (avail - PCAP_RECORD_HEADER < caplen)
    return TS_TRACE_RECORD_NONE;

  self->pos += PCAP_RECORD_HEADER + caplen;
  out->kind = TS_TRACE_RECORD_PACKET;
  out->offset = offset;
  out->interface_id = 0;
  out->time_ns
      = (guint64)seconds * 1000000000u + (self->nanoseconds ? fraction : (guint64)fraction * 1000u);
  out->data = data + PCAP_RECORD_HEADER;
  out->caplen = caplen;
  out->orig_len = MAX (orig_len, caplen);
  return out->kind;
}

TsTraceRecordKind
ts_trace_reader_next (TsTraceReader *self, TsTraceRecord *out, GError **error)
{
  const guint8 *data;
  gsize len;

  g_return_val_if_fail (self != NULL, TS_TRACE_RECORD_ERROR);
  g_return_val_if_fail (out != NULL, TS_TRACE_RECORD_ERROR);

  memset (out, 0, sizeof *out);
  if (self->state == STATE_FAILED)
    {
      g_propagate_error (error, g_error_copy (self->failure));
      return TS_TRACE_RECORD_ERROR;
    }

  data = current_data (self, &len);
  if (data == NULL)
    return TS_TRACE_RECORD_NONE; /* nothing fed yet */
  g_assert (self->pos <= len);
  {
    gsize fetched = self->fetched > self->base ? (gsize)(self->fetched - self->base) : 0;

    ts_prefetch_ahead (data, len, self->pos, &fetched);
    self->fetched = self->base + fetched;
  }
  data += self->pos;
  len -= self->pos;

  switch (self->state)
    {
      case STATE_START:
        {
          guint32 magic;

          if (len < 4)
            return TS_TRACE_RECORD_NONE;
          memcpy (&magic, data, 4);
          if (magic == TS_PCAPNG_BLOCK_SHB)
            {
              self->state = STATE_PCAPNG;
              return read_pcapng_block (self, data, len, out, error);
            }
          if (magic == PCAP_MAGIC_US || magic == PCAP_MAGIC_NS
              || magic == GUINT32_SWAP_LE_BE (PCAP_MAGIC_US)
              || magic == GUINT32_SWAP_LE_BE (PCAP_MAGIC_NS))
            {
              self->format = TS_TRACE_FORMAT_PCAP;
              return read_pcap_header (self, data, len, out, error);
            }
          /* Captures are often compressed to be kept or sent (.pcapng.gz,
           * .pcapng.zst): say so, and what to do, not just the magic. */
          if (data[0] == 0x1f && data[1] == 0x8b)
            return fail (self, error, TS_TRACE_ERROR_UNSUPPORTED,
                         "the trace is gzip-compressed (magic 1f 8b at offset %" G_GUINT64_FORMAT
                         "): decompress it first (gunzip)",
                         self->base + self->pos);
          if (data[0] == 0x28 && data[1] == 0xb5 && data[2] == 0x2f && data[3] == 0xfd)
            return fail (
                self, error, TS_TRACE_ERROR_UNSUPPORTED,
                "the trace is zstd-compressed (magic 28 b5 2f fd at offset %" G_GUINT64_FORMAT
                "): decompress it first (unzstd)",
                self->base + self->pos);
          return fail (self, error, TS_TRACE_ERROR_INVALID,
                       "not a pcap or pcapng file: magic 0x%08x at offset %" G_GUINT64_FORMAT,
                       GUINT32_FROM_BE (magic), self->base + self->pos);
        }
      case STATE_PCAPNG:
        return read_pcapng_block (self, data, len, out, error);
      case STATE_PCAP:
        return read_pcap_record (self, data, len, out, error);
      case STATE_FAILED:
      default:
        g_assert_not_reached ();
    }
  return TS_TRACE_RECORD_ERROR;
}

gboolean
ts_trace_reader_finish (TsTraceReader *self, GError **error)
{
  const guint8 *data;
  gsize len;

  g_return_val_if_fail (self != NULL, FALSE);

  if (self->state == STATE_FAILED)
    {
      g_propagate_error (error, g_error_copy (self->failure));
      return FALSE;
    }
  data = current_data (self, &len);
  if (len > self->pos)
    {
      gsize left = len - self->pos;
      guint64 offset = self->base + self->pos;

      if (self->state == STATE_PCAPNG && left >= 8)
        {
          guint32 total = rd32 (self, data + self->pos + 4);

          fail (self, error, TS_TRACE_ERROR_TRUNCATED,
                "the trace ends inside the block at offset %" G_GUINT64_FORMAT " (%" G_GSIZE_FORMAT
                " of %u bytes)",
                offset, left, total);
        }
      else
        fail (self, error, TS_TRACE_ERROR_TRUNCATED,
              "the trace ends inside a %s at offset %" G_GUINT64_FORMAT " (%" G_GSIZE_FORMAT
              " bytes)",
              self->state == STATE_PCAP
                  ? "record header"
                  : (self->state == STATE_START ? "file header" : "block header"),
              offset, left);
      return FALSE;
    }
  if (self->base + self->pos == 0)
    {
      fail (self, error, TS_TRACE_ERROR_TRUNCATED, "the trace is empty");
      return FALSE;
    }
  return TRUE;
}

TsTraceFormat
ts_trace_reader_get_format (TsTraceReader *self)
{
  g_return_val_if_fail (self != NULL, TS_TRACE_FORMAT_UNKNOWN);
  return self->format;
}

const char *
ts_trace_reader_get_scenario (TsTraceReader *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->scenario;
}

const char *
ts_trace_reader_get_application (TsTraceReader *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->application;
}

guint
ts_trace_reader_get_n_interfaces (TsTraceReader *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->interfaces->len;
}

const TsTraceInterface *
ts_trace_reader_get_interface (TsTraceReader *self, guint id)
{
  g_return_val_if_fail (self != NULL, NULL);
  if (id >= self->interfaces->len)
    return NULL;
  return self->interfaces->pdata[id];
}

guint64
ts_trace_reader_get_offset (TsTraceReader *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->base + self->pos;
}
