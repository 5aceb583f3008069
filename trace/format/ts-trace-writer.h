/* ts-trace-writer.h: writes a Tunnelscope trace as pcapng, holding packets for
 * a window so that links merge by time and TLS secrets precede their session.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The file: a Section Header Block (scenario and version), the lab-metadata
 * event if one is set, Interface Description Blocks (one per link,
 * nanosecond timestamps), then Enhanced Packet Blocks, Decryption Secrets
 * Blocks (NSS key log lines) and Systemd Journal Export Blocks (events),
 * merged by time.
 *
 * The ordering rule: everything added is held until it is older than the
 * window, relative to the newest time the writer was told of
 * (ts_trace_writer_advance ()). A key log line naming a client random is
 * written just before the first held packet that carries that random (the
 * ClientHello), so tshark, which ignores secrets that come after their
 * session, decrypts it. A line whose ClientHello was already written out
 * goes out at once and is counted as late.
 */
#pragma once

#include <gio/gio.h>
#include "ts-trace-event.h"
#include "ts-trace-reader.h"

G_BEGIN_DECLS

/* pcapng link types used by the lab. */
#define TS_LINKTYPE_ETHERNET 1
#define TS_LINKTYPE_RAW 101
#define TS_LINKTYPE_LINUX_SLL 113
#define TS_LINKTYPE_LINUX_SLL2 276

/* Caps: a packet longer than this is cut to it (orig_len keeps the truth). */
#define TS_TRACE_WRITER_MAX_PACKET (256 * 1024)
/* A default window: long enough for a key log line to reach the lab after
 * its handshake. */
#define TS_TRACE_WRITER_DEFAULT_WINDOW_NS (500 * G_GUINT64_CONSTANT (1000000))

typedef struct _TsTraceWriter TsTraceWriter;

/* Starts a trace on @out (a file, or a pipe: the writer flushes @out after
 * every batch it writes). @scenario may be NULL. @window_ns is the hold
 * window; G_MAXUINT64 holds everything until ts_trace_writer_close (). Writes
 * the section header at once. Returns NULL with @error when that fails.
 * @out is referenced. */
TsTraceWriter *ts_trace_writer_new (GOutputStream *out, const char *scenario, guint64 window_ns,
                                    GError **error);
/* Opens (creates or truncates) @path and starts a trace on it. */
TsTraceWriter *ts_trace_writer_new_for_path (const char *path, const char *scenario,
                                             guint64 window_ns, GError **error);

/* Writes the lab-metadata event (kind TS_TRACE_EVENT_KIND_METADATA) at once:
 * call it before anything else is written. @json is a JSON object. */
gboolean ts_trace_writer_set_metadata (TsTraceWriter *self, guint64 time_ns, const char *json,
                                       GError **error);

/* Declares an interface; returns its id (0, 1, ...). Written at once.
 * @description says which end of the link it captures. */
guint ts_trace_writer_add_interface (TsTraceWriter *self, const char *name, guint linktype,
                                     const char *description, GError **error);

/* Adds a packet (copied) seen on @interface_id at @time_ns. Returns FALSE with
 * @error only when writing out older items failed. */
gboolean ts_trace_writer_add_packet (TsTraceWriter *self, guint interface_id, guint64 time_ns,
                                     const guint8 *data, gsize caplen, gsize orig_len,
                                     GError **error);

/* Adds NSS key log text (one or more lines; comments and blank lines are
 * dropped, malformed lines too: they are counted). */
gboolean ts_trace_writer_add_keylog (TsTraceWriter *self, guint64 time_ns, const char *text,
                                     gsize len, GError **error);

/* Adds an actor event (copied). */
gboolean ts_trace_writer_add_event (TsTraceWriter *self, const TsTraceEvent *event,
                                    GError **error);

/* Tells the writer that the time is now @now_ns: items older than
 * now - window are written out, in time order. */
gboolean ts_trace_writer_advance (TsTraceWriter *self, guint64 now_ns, GError **error);

/* Writes every held item, then an Interface Statistics Block for
 * @interface_id at @time_ns with the counters of @stats that are not
 * G_MAXUINT64 (what the capture of that interface received and lost). */
gboolean ts_trace_writer_add_statistics (TsTraceWriter *self, guint interface_id, guint64 time_ns,
                                         const TsTraceStatistics *stats, GError **error);

/* Writes every held item and flushes; the writer stays usable. */
gboolean ts_trace_writer_flush (TsTraceWriter *self, GError **error);

/* Writes every held item, flushes, and closes the stream. */
gboolean ts_trace_writer_close (TsTraceWriter *self, GError **error);

/* Counts for reports: packets, secrets lines, events written or held, and
 * key log lines that came after their session's first packet was written. */
guint64 ts_trace_writer_get_n_packets (TsTraceWriter *self);
guint64 ts_trace_writer_get_n_late_secrets (TsTraceWriter *self);
guint64 ts_trace_writer_get_n_bad_keylog_lines (TsTraceWriter *self);

/* Frees the writer; held items are lost unless closed or flushed first. */
void ts_trace_writer_free (TsTraceWriter *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TsTraceWriter, ts_trace_writer_free)

G_END_DECLS
