/* ts-actor-event.h: emitting an actor event in one call (lab contract).
 * SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The node name events carry: $TS_NODE, or @fallback when it is unset. */
const char *ts_actor_event_node (const char *fallback);

/* Emits an event of @kind with key, value pairs (a NULL value skips its
 * key), ended by a NULL key, through ts_trace_event_emit () to $TS_EVENTS.
 * The node is ts_actor_event_node (g_get_prgname ()). A write failure is
 * reported once on standard error and otherwise ignored: an event must
 * never stop traffic. */
void ts_actor_event_emit (const char *kind, const char *first_key, ...) G_GNUC_NULL_TERMINATED;

G_END_DECLS
