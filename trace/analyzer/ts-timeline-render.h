/* ts-timeline-render.h: the timeline as text (a ladder diagram) and as JSON.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Both renderers read only the timeline, so `tscope explain`, the golden
 * tests and the app show the same model. The JSON schema is documented in
 * trace/analyzer/SCHEMA.md and kept stable.
 */
#pragma once

#include <glib.h>
#include "ts-timeline.h"

G_BEGIN_DECLS

/* as_node for an on-path observer of every link: it sees every packet,
 * and reads what an observer of that packet's link reads. */
#define TS_RENDER_AS_OBSERVER (-2)

typedef struct
{
  guint width;  /* columns (>= 60); 0: 80 */
  gint as_node; /* -1: everything; TS_RENDER_AS_OBSERVER; else what this node sees and can read */
  const char *title;    /* first line (the trace's name), or NULL */
  gboolean no_coalesce; /* one line per event, even for runs of data records */
} TsRenderOptions;

/* The ladder: one column per node, an arrow per event, phases bracketed,
 * tunnels labelled relay or intercept. Transfer full. */
char *ts_timeline_render_text (const TsTimeline *timeline, const TsRenderOptions *options);

/* The whole timeline as JSON (SCHEMA.md). @options: width is ignored;
 * as_node filters and redacts as in the text. Transfer full. */
char *ts_timeline_render_json (const TsTimeline *timeline, const TsRenderOptions *options);

/* One event as a log line for a live view: relative time (to @t0), src ->
 * dst, summary (redacted under as_node), "#N" for its tunnel; cut to the
 * width. NULL when as_node does not see it. Transfer full. */
char *ts_timeline_render_event_line (const TsTimeline *timeline, const TsRenderOptions *options,
                                     guint index, guint64 t0);
/* "tunnel #0 relay: client > proxy > server (example.com:443)". Transfer full. */
char *ts_timeline_render_tunnel_line (const TsTimeline *timeline, guint tunnel);

/* Receives rendered output in pieces; returns FALSE to stop (a write
 * failed). */
typedef gboolean (*TsRenderWriteFunc) (const char *data, gsize len, gpointer user_data);

/* The JSON, handed to @func in pieces of about a megabyte as it is made
 * (for timelines too large to hold twice). FALSE when @func failed. */
gboolean ts_timeline_render_json_stream (const TsTimeline *timeline, const TsRenderOptions *options,
                                         TsRenderWriteFunc func, gpointer user_data);

/* The node where @event's arrow ends: its destination, or the node a packet
 * that never reached it went no further than (TsTimelineEvent.stops_at). */
gint ts_timeline_event_arrow_end (const TsTimelineEvent *event);
/* @event's summary, with where a packet went no further
 * ("SYN, no further than proxy"). */
char *ts_timeline_event_dup_summary (const TsTimeline *timeline, const TsTimelineEvent *event);

/* Does @node see @event at all: it is the event's source or destination, or
 * an end of the link it crossed (-1: everyone sees everything). Whether it
 * can read it is ts_timeline_event_readable_by (). */
gboolean ts_timeline_event_seen_by (const TsTimeline *timeline, const TsTimelineEvent *event,
                                    gint node);

/* Can @as (a node, TS_RENDER_AS_OBSERVER, or -1 for everyone) read
 * @event's content? */
gboolean ts_timeline_event_read_as (const TsTimeline *timeline, const TsTimelineEvent *event,
                                    gint as);

/* The view a name asks for: a node's name or address, or "observer"
 * (TS_RENDER_AS_OBSERVER). FALSE when there is no such node. */
gboolean ts_render_find_as (const TsTimeline *timeline, const char *name, gint *out_as);

/* Whose view @as is, in words ("proxy", "an on-path observer"); NULL for
 * everyone. */
const char *ts_render_as_name (const TsTimeline *timeline, gint as);

G_END_DECLS
