/* ts-topology-view.h: the lab's topology: nodes with role icons and their
 * addresses, links with their capture points; the current step travels
 * along its link, and a tunnel is drawn through the proxies it crosses,
 * styled relay or intercept. Drawn in snapshot from the session.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "ts-session.h"

G_BEGIN_DECLS

#define TS_TYPE_TOPOLOGY_VIEW (ts_topology_view_get_type ())
G_DECLARE_FINAL_TYPE (TsTopologyView, ts_topology_view, TS, TOPOLOGY_VIEW, GtkWidget)

GtkWidget *ts_topology_view_new (TsSession *session);
TsSession *ts_topology_view_get_session (TsTopologyView *self);
void ts_topology_view_set_session (TsTopologyView *self, TsSession *session);

/* Exports the picture to @path: PNG, SVG or PDF by the name's extension. */
gboolean ts_topology_view_export (TsTopologyView *self, const char *path, GError **error);

/* Where node @node is drawn (its box centre); FALSE when it is not drawn. */
gboolean ts_topology_view_get_node_position (TsTopologyView *self, guint node, double *out_x,
                                             double *out_y);

G_END_DECLS
