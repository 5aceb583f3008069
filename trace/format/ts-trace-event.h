/* ts-trace-event.h: an actor event (lab contract), its TS_EVENTS line form and
 * its journal-export form inside the trace.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * An event is a time (nanoseconds, CLOCK_REALTIME), the node that emitted it,
 * a kind (a dotted name such as "proxy.connect.allowed") and ordered
 * key=value fields. Keys are [a-z0-9_]{1,64}; "node", "kind" and "time_ns"
 * are reserved.
 *
 * Line form, one event per line, as actors append it to $TS_EVENTS:
 *
 *   TIME_NS SP NODE SP KIND *( SP KEY "=" VALUE ) LF
 *
 * where VALUE is percent-encoded: '%', space, '=' and every byte below 0x21
 * or equal to 0x7f become %XX. Example:
 *
 *   1764230400000000000 proxy proxy.connect.refused target=mail.test:25 reason=port%20not%20allowed
 *
 * Journal form, the body of a pcapng Systemd Journal Export Block:
 *
 *   __REALTIME_TIMESTAMP=<microseconds>\n
 *   TS_TIME_NS=<ns>\nTS_NODE=<node>\nTS_KIND=<kind>\nMESSAGE=<node> <kind>\n
 *   TS_<KEY in upper case>=<value>\n ...
 *
 * A value holding a newline uses the export format's binary form
 * (NAME\n, little-endian 64-bit length, bytes, \n).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Caps on what input controls. */
#define TS_TRACE_EVENT_MAX_FIELDS 256     /* fields per event */
#define TS_TRACE_EVENT_MAX_KEY 64         /* bytes in one key */
#define TS_TRACE_EVENT_MAX_LINE (1 << 20) /* bytes in one line or journal entry */

/* The kind of the lab-metadata event, written first in every lab trace; its
 * one field "metadata" holds the lab's description as JSON. */
#define TS_TRACE_EVENT_KIND_METADATA "lab.metadata"

typedef struct _TsTraceEvent TsTraceEvent;

/* Returns a new event (transfer full). @node and @kind are copied. */
TsTraceEvent *ts_trace_event_new (guint64 time_ns, const char *node, const char *kind);
void ts_trace_event_free (TsTraceEvent *self);
TsTraceEvent *ts_trace_event_copy (const TsTraceEvent *self);

guint64 ts_trace_event_get_time_ns (const TsTraceEvent *self);
const char *ts_trace_event_get_node (const TsTraceEvent *self);
const char *ts_trace_event_get_kind (const TsTraceEvent *self);

/* Adds a field (key and value copied); a key given twice keeps both, in
 * order. Returns FALSE (and adds nothing) when @key is not [a-z0-9_]{1,64},
 * reserved, or the event already holds TS_TRACE_EVENT_MAX_FIELDS fields. */
gboolean ts_trace_event_add (TsTraceEvent *self, const char *key, const char *value);
void ts_trace_event_add_printf (TsTraceEvent *self, const char *key, const char *format, ...)
  G_GNUC_PRINTF (3, 4);

/* The first value of @key, or NULL. Valid while @self lives. */
const char *ts_trace_event_get (const TsTraceEvent *self, const char *key);
guint ts_trace_event_get_n_fields (const TsTraceEvent *self);
/* Field @i (0-based, < n_fields); both out pointers borrowed. */
void ts_trace_event_get_field (const TsTraceEvent *self, guint i, const char **out_key,
                               const char **out_value);

/* The line form, with the trailing newline (transfer full). */
char *ts_trace_event_to_line (const TsTraceEvent *self);
/* Parses one line (with or without its newline). NULL and an error naming
 * the column on malformed input. */
TsTraceEvent *ts_trace_event_new_from_line (const char *line, gsize len, GError **error);

/* The journal form (transfer full, not padded). */
GBytes *ts_trace_event_to_journal (const TsTraceEvent *self);
/* Parses a journal entry; fields not starting with TS_ are ignored except
 * __REALTIME_TIMESTAMP, used as the time when TS_TIME_NS is absent. */
TsTraceEvent *ts_trace_event_new_from_journal (const guint8 *data, gsize len, GError **error);

/* Writes one event line to the file named by $TS_EVENTS (appending, one
 * write(2) so concurrent writers do not interleave). Does nothing when
 * TS_EVENTS is unset. The time is taken now when @self's time is 0.
 * Returns FALSE with @error on I/O failure. */
gboolean ts_trace_event_emit (const TsTraceEvent *self, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TsTraceEvent, ts_trace_event_free)

G_END_DECLS
