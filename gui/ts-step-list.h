/* ts-step-list.h: what the app steps through: the analyzer's timeline in
 * time order, plus the captured bytes behind each event.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The analyzer (trace/analyzer/ts-analyzer.h) turns the trace into a
 * timeline of protocol events; it keeps no packet bytes, so this list also
 * reads the stream with a TsTraceReader and keeps every packet's bytes (for
 * the hex view) and each link's captured end (from the lab metadata).
 *
 * A step is one timeline event; steps are in time order (the analyzer
 * appends some events late, e.g. a TLS record decrypted once its secret
 * arrives). Feed bytes with ts_step_list_feed () as they come: a file in
 * chunks or a live lab's stream go the same way. Not thread-safe: one
 * thread at a time; a list built in a thread may be handed over whole.
 */
#pragma once

#include <glib.h>

#include "ts-timeline.h"

G_BEGIN_DECLS

/* The reader index of "everyone" and of the on-path observer of a step's
 * link, for ts_step_list_can_read (); node ids are >= 0. */
#define TS_STEP_READER_EVERYONE (-2)
#define TS_STEP_READER_OBSERVER (-1)

/* One row of a step's protocol tree: depth, label, and the bytes of the
 * step's packet it covers (offset, len; len 0 when none). */
typedef struct
{
  guint depth;
  char *label;
  guint32 offset;
  guint32 len;
  gboolean content; /* the analyzer's reading of the content (hidden from
                     * a reader who cannot read the step) */
} TsStepField;

typedef struct _TsStepList TsStepList;

TsStepList *ts_step_list_new (void);
void ts_step_list_free (TsStepList *self);

/* Feeds @len bytes of a trace stream. Returns FALSE with @error when the
 * stream is damaged (what was read before stays). Steps are re-sorted at
 * every feed. */
gboolean ts_step_list_feed (TsStepList *self, const guint8 *data, gsize len, GError **error);
/* Declares that the bytes fed will be exactly @file (a whole trace, e.g. a
 * mapped file), in order: packets are then views into @file rather than
 * copies. Call before the first feed. @file is referenced. */
void ts_step_list_set_file (TsStepList *self, GBytes *file);
/* TLS secrets for the trace to come, as NSS key log lines (SSLKEYLOGFILE),
 * besides those inside it; NULL: none. */
void ts_step_list_add_keylog (TsStepList *self, GBytes *keylog);

/* Declares the end of the stream. FALSE with @error when it ended inside a
 * block (a cut trace: what was read before stays), or held nothing. */
gboolean ts_step_list_finish (TsStepList *self, GError **error);
/* Where a feed or the finish found the trace damaged after some packets
 * were read: the reader's message (naming the offset), else NULL
 * (borrowed). The steps before the damage stay, with the analyzer's
 * "trace damaged" anomaly. */
const char *ts_step_list_get_damage (TsStepList *self);
/* Bytes consumed so far. */
guint64 ts_step_list_get_offset (TsStepList *self);

/* The timeline (borrowed, valid while @self lives). */
const TsTimeline *ts_step_list_get_timeline (TsStepList *self);

/* The scenario named by the trace and the lab's description, or NULL. */
const char *ts_step_list_get_scenario (TsStepList *self);
const char *ts_step_list_get_description (TsStepList *self);
/* The node whose end of @link the capture sits at, or NULL. */
const char *ts_step_list_get_captured_end (TsStepList *self, const char *link);

guint ts_step_list_get_n_steps (TsStepList *self);
/* The time of @self's first event on the wire (lab events before it, such
 * as actors starting, differ from one scenario to another: compare mode
 * counts time from this one). */
guint64 ts_step_list_get_first_wire_time (TsStepList *self);
/* Where the trace's times count from (ts_timeline_get_origin_ns (): its
 * first record, as Wireshark counts). */
guint64 ts_step_list_get_origin_ns (TsStepList *self);
/* The event of step @i (borrowed, valid until the next feed). */
const TsTimelineEvent *ts_step_list_get_event (TsStepList *self, guint i);
/* The step showing timeline event @index, or -1. */
int ts_step_list_find_step (TsStepList *self, guint event_index);

/* The captured bytes of step @i's packet, with the event's own byte range in
 * it (out_offset, out_len); NULL with *out_size 0 for a lab event. */
const guint8 *ts_step_list_get_bytes (TsStepList *self, guint i, gsize *out_size,
                                      guint32 *out_offset, guint32 *out_len);

/* The protocol tree of step @i: the packet's headers (with byte ranges),
 * then the analyzer's detail lines. Transfer full (TsStepField array). */
GArray *ts_step_list_dup_fields (TsStepList *self, guint i);

/* Whether @reader (a node id, TS_STEP_READER_OBSERVER or _EVERYONE) can read
 * step @i's content. */
gboolean ts_step_list_can_read (TsStepList *self, guint i, int reader);
/* Step @i's line as @reader sees it: the summary, or what is left of it:
 * "encrypted, N bytes" for an encrypted event, "tls, N bytes (not on
 * proxy's path)" for one on a link the node is not on, "(never reached
 * NODE)", "(a decision inside NODE)". Transfer full. */
char *ts_step_list_dup_summary_as (TsStepList *self, guint i, int reader);

/* A node's role ("client", "proxy", "server", or "host" when inferred). */
const char *ts_step_list_node_role (TsStepList *self, guint node);
/* The node whose addresses @address shares the longest prefix with among
 * @node's link neighbours: the side of @node that address is on (a proxy
 * has addresses on each of its links), or -1 when no neighbour has an
 * address of its family. */
gint ts_step_list_address_side (TsStepList *self, guint node, const char *address);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TsStepList, ts_step_list_free)

G_END_DECLS
