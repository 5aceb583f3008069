/* ts-trace-reader.h: an incremental, bounded reader of pcapng (with our
 * secrets and events) and classic pcap.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Feed it bytes as they come (a file, a pipe from a live lab) and pull
 * records. Every length is checked against what is buffered and against the
 * caps below before it is used; damage is a GError naming the byte offset in
 * the stream and the rule broken, and the reader stops there (what was read
 * before stays valid).
 *
 *   TsTraceReader *r = ts_trace_reader_new ();
 *   ts_trace_reader_feed (r, buf, n);
 *   while ((kind = ts_trace_reader_next (r, &rec, &error)) > TS_TRACE_RECORD_NONE)
 *     ...
 *   kind == TS_TRACE_RECORD_NONE: feed more, or ts_trace_reader_finish () at EOF;
 *   kind == TS_TRACE_RECORD_ERROR: @error is set.
 */
#pragma once

#include <glib.h>
#include "ts-trace-event.h"

G_BEGIN_DECLS

/* Caps on what the input controls. */
#define TS_PCAPNG_MAX_BLOCK (16 * 1024 * 1024) /* one block, header to trailer */
#define TS_PCAPNG_MAX_INTERFACES 4096          /* interfaces in a section */
#define TS_PCAPNG_MAX_OPTIONS 1024             /* options in one block */
#define TS_PCAP_MAX_SNAPLEN (256 * 1024)       /* classic pcap record length */

typedef enum
{
  TS_TRACE_RECORD_ERROR = -1, /* damage: the GError says where and why */
  TS_TRACE_RECORD_NONE = 0,   /* nothing complete buffered: feed more */
  TS_TRACE_RECORD_SECTION,    /* a section header (pcapng) or file header (pcap) */
  TS_TRACE_RECORD_INTERFACE,  /* an interface was declared */
  TS_TRACE_RECORD_PACKET,
  TS_TRACE_RECORD_SECRETS,    /* a Decryption Secrets Block */
  TS_TRACE_RECORD_EVENT,      /* an event (including the lab metadata) */
  TS_TRACE_RECORD_STATISTICS, /* an Interface Statistics Block */
  TS_TRACE_RECORD_OTHER,      /* a block we skip (name resolution, ...) */
} TsTraceRecordKind;

typedef enum
{
  TS_TRACE_FORMAT_UNKNOWN,
  TS_TRACE_FORMAT_PCAPNG,
  TS_TRACE_FORMAT_PCAP,
} TsTraceFormat;

/* An interface's capture statistics (pcapng isb_* options), as counted by
 * the capturing program; G_MAXUINT64 where the block does not say. */
typedef struct
{
  guint64 received;  /* isb_ifrecv: packets the interface received */
  guint64 if_drops;  /* isb_ifdrop: dropped by the interface (its driver, no buffer) */
  guint64 os_drops;  /* isb_osdrop: dropped by the operating system (the capture buffer full) */
  guint64 delivered; /* isb_usrdeliv: delivered to the capturing program */
} TsTraceStatistics;

/* Packets an interface's capture lost: isb_osdrop, dropped by the
 * operating system because the capturing program did not keep up (0 when
 * absent). isb_ifdrop, dropped by the interface itself, is a loss on the
 * network's side, not counted here. */
static inline guint64
ts_trace_statistics_capture_lost (const TsTraceStatistics *s)
{
  return s->os_drops == G_MAXUINT64 ? 0 : s->os_drops;
}

typedef struct
{
  guint id;
  guint linktype;
  guint32 snaplen;
  char *name;            /* if_name, or "ifN" when absent */
  char *description;     /* if_description, or NULL */
  guint64 tsresol_per_s; /* units per second of this interface's timestamps */
} TsTraceInterface;

/* A record. Pointers are borrowed: valid until the next call on the reader
 * (interfaces: as long as the reader lives). */
typedef struct
{
  TsTraceRecordKind kind;
  guint64 offset; /* where the block starts in the stream */
  /* PACKET, STATISTICS */
  guint interface_id;
  guint64 time_ns;
  const guint8 *data;
  guint32 caplen;
  guint32 orig_len;
  /* SECRETS */
  guint32 secrets_type; /* 0x544c534b: TLS key log */
  const guint8 *secrets;
  guint32 secrets_len;
  /* EVENT */
  const TsTraceEvent *event;
  /* INTERFACE */
  const TsTraceInterface *interface;
  /* STATISTICS */
  TsTraceStatistics statistics;
  /* OTHER */
  guint32 block_type;
} TsTraceRecord;

#define TS_PCAPNG_SECRETS_TLS_KEYLOG 0x544c534bu

typedef struct _TsTraceReader TsTraceReader;

TsTraceReader *ts_trace_reader_new (void);
void ts_trace_reader_free (TsTraceReader *self);

/* Appends @len bytes (copied; consumed bytes are dropped as reading goes). */
void ts_trace_reader_feed (TsTraceReader *self, const guint8 *data, gsize len);

/* Reads from @bytes without copying (they are referenced); no more may be
 * fed afterwards. */
void ts_trace_reader_feed_bytes (TsTraceReader *self, GBytes *bytes);

/* The next complete record, NONE, or ERROR (see above). */
TsTraceRecordKind ts_trace_reader_next (TsTraceReader *self, TsTraceRecord *out, GError **error);

/* Declares the end of input: FALSE with an error naming the offset when a
 * partial block or header is left over, or nothing at all was read. */
gboolean ts_trace_reader_finish (TsTraceReader *self, GError **error);

TsTraceFormat ts_trace_reader_get_format (TsTraceReader *self);
/* The scenario named in the section header, or NULL. */
const char *ts_trace_reader_get_scenario (TsTraceReader *self);
/* The program that wrote the section (shb_userappl), or NULL. */
const char *ts_trace_reader_get_application (TsTraceReader *self);
guint ts_trace_reader_get_n_interfaces (TsTraceReader *self);
const TsTraceInterface *ts_trace_reader_get_interface (TsTraceReader *self, guint id);
/* Bytes consumed so far. */
guint64 ts_trace_reader_get_offset (TsTraceReader *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TsTraceReader, ts_trace_reader_free)

G_END_DECLS
