/* ts-timeline-private.h: how the analyzer builds a timeline.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "ts-timeline.h"

G_BEGIN_DECLS

/* Interns @s in the timeline's string store (NULL stays NULL). */
const char *_ts_timeline_intern (TsTimeline *self, const char *s);
const char *_ts_timeline_intern_len (TsTimeline *self, const char *s, gssize len);
const char *_ts_timeline_intern_vprintf (TsTimeline *self, const char *format, va_list args)
    G_GNUC_PRINTF (2, 0);

/* Adds a node (takes nothing; strings copied). Returns its id. */
guint _ts_timeline_add_node (TsTimeline *self, const char *name, const char *role,
                             gboolean inferred);
void _ts_timeline_node_add_address (TsTimeline *self, guint node, const char *address);
void _ts_timeline_node_add_name (TsTimeline *self, guint node, const char *name);
void _ts_timeline_node_set_role (TsTimeline *self, guint node, const char *role);
guint _ts_timeline_add_link (TsTimeline *self, const char *name, gint a, gint b);
void _ts_timeline_set_link_ends (TsTimeline *self, guint link, gint a, gint b);

TsTimelineConn *_ts_timeline_add_conn (TsTimeline *self);
TsTimelineConn *_ts_timeline_conn (TsTimeline *self, guint id);
TsTimelineTunnel *_ts_timeline_add_tunnel (TsTimeline *self);
TsTimelineTunnel *_ts_timeline_tunnel (TsTimeline *self, guint id);

/* Appends a zeroed event (tls_handshake_type -1, link/src/dst/conn/tunnel
 * -1, packet G_MAXUINT32) and returns its index. */
guint _ts_timeline_append_event (TsTimeline *self);
void _ts_timeline_add_capture_lost (TsTimeline *self, guint64 n);
/* The time of a record read: the first one is the origin. */
void _ts_timeline_see_time (TsTimeline *self, guint64 time_ns);
TsTimelineEvent *_ts_timeline_event (TsTimeline *self, guint index);
/* Adds a detail line to the newest event (it must be the one being built). */
void _ts_timeline_add_detail (TsTimeline *self, guint index, guint depth, const char *format, ...)
    G_GNUC_PRINTF (4, 5);

/* The reader bit of node @node / of the observer of @link (0 past the cap). */
guint64 _ts_timeline_node_bit (const TsTimeline *self, gint node);
guint64 _ts_timeline_observer_bit (const TsTimeline *self, gint link);

G_END_DECLS
