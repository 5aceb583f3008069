/* ts-analyzer.h: turns trace bytes into a timeline: decode, reassemble TCP,
 * parse HTTP/1, decode and decrypt TLS, match a proxy's legs into tunnels,
 * and say who can read each event.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 *   TsAnalyzer *a = ts_analyzer_new ();
 *   ts_analyzer_add_keylog (a, text, len);        optional, e.g. --keylog FILE
 *   while (read (fd, buf, n) > 0)
 *     {
 *       ts_analyzer_feed (a, buf, n, &error);      FALSE: damage, see below
 *       ts_analyzer_take_changes (a, &changes);   what to redraw
 *     }
 *   ts_analyzer_finish (a, &error);
 *   timeline = ts_analyzer_get_timeline (a);
 *
 * A live stream and a file go the same way: the analyzer works record by
 * record, so feeding a trace in chunks of any size gives exactly the
 * timeline of feeding it whole.
 *
 * Damage: malformed packets, lost TCP bytes, failed decryption are anomaly
 * events and the analysis goes on. Damage to the trace container itself
 * (a broken block) stops reading there: _feed or _finish returns FALSE with
 * the reader's error (naming the offset), an anomaly event records it, and
 * everything read before stays in the timeline.
 */
#pragma once

#include <glib.h>
#include "ts-timeline.h"

G_BEGIN_DECLS

typedef struct _TsAnalyzer TsAnalyzer;

/* What changed since the last ts_analyzer_take_changes (). */
typedef struct
{
  guint first_new_event; /* events [first_new_event, n_events) were appended */
  guint n_events;
  GArray *changed_events; /* guint, sorted: older events updated (readers, tunnel, nodes) */
  gboolean nodes_changed; /* nodes or links were added or changed */
  gboolean tunnels_changed;
} TsAnalyzerChanges;

TsAnalyzer *ts_analyzer_new (void);
void ts_analyzer_free (TsAnalyzer *self);

/* Adds NSS key log text (any chunking; secrets may come before or after
 * their sessions). */
void ts_analyzer_add_keylog (TsAnalyzer *self, const char *text, gsize len);

/* Feeds the next @len bytes of the trace. Returns FALSE with @error once the
 * trace container is damaged (later feeds are ignored). */
gboolean ts_analyzer_feed (TsAnalyzer *self, const guint8 *data, gsize len, GError **error);

/* Feeds a whole trace held in @bytes (a mapped file) without copying it;
 * nothing may be fed afterwards, only _finish. */
gboolean ts_analyzer_feed_bytes (TsAnalyzer *self, GBytes *bytes, GError **error);

/* End of input: gives up on TCP holes, ends open streams, flushes TLS.
 * FALSE with @error when the trace ended inside a block, or held nothing. */
gboolean ts_analyzer_finish (TsAnalyzer *self, GError **error);

/* The timeline (borrowed, valid while @self lives). */
TsTimeline *ts_analyzer_get_timeline (TsAnalyzer *self);

/* Fills @out with what changed since the previous call and starts a new
 * round. Free with ts_analyzer_changes_clear (). */
void ts_analyzer_take_changes (TsAnalyzer *self, TsAnalyzerChanges *out);
void ts_analyzer_changes_clear (TsAnalyzerChanges *changes);

/* Counts: records and packets read, bytes of trace consumed. */
guint64 ts_analyzer_get_n_records (TsAnalyzer *self);
guint64 ts_analyzer_get_n_packets (TsAnalyzer *self);
guint64 ts_analyzer_get_offset (TsAnalyzer *self);
/* Packet @index (an event's `packet`): its capture time, interface id and
 * the byte offset of its block in the trace (read it again there to show
 * its bytes). FALSE when there is no such packet. */
gboolean ts_analyzer_get_packet (TsAnalyzer *self, guint32 index, guint64 *out_time_ns,
                                 guint *out_interface, guint64 *out_trace_offset);

/* The scenario named in the trace, or NULL. */
const char *ts_analyzer_get_scenario (TsAnalyzer *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TsAnalyzer, ts_analyzer_free)

G_END_DECLS
