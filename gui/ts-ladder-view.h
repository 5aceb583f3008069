/* ts-ladder-view.h: the ladder diagram: a column per node, an arrow per
 * event, the current step highlighted; drawn in snapshot, only the rows
 * that are visible, so 100,000 events scroll smoothly. Scrollable: put it
 * in a GtkScrolledWindow.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "ts-session.h"

G_BEGIN_DECLS

#define TS_TYPE_LADDER_VIEW (ts_ladder_view_get_type ())
G_DECLARE_FINAL_TYPE (TsLadderView, ts_ladder_view, TS, LADDER_VIEW, GtkWidget)

GtkWidget *ts_ladder_view_new (TsSession *session);
TsSession *ts_ladder_view_get_session (TsLadderView *self);
void ts_ladder_view_set_session (TsLadderView *self, TsSession *session);

/* Exports what the view shows (its size, its rows) to @path: PNG, SVG or
 * PDF by the name's extension. FALSE with @error otherwise. */
gboolean ts_ladder_view_export (TsLadderView *self, const char *path, GError **error);

/* The first and last step drawn by the last snapshot (-1 when none): what
 * tests check to know only the visible rows are drawn. */
void ts_ladder_view_get_drawn_range (TsLadderView *self, int *out_first, int *out_last);
/* Labels the last snapshot drew past their room: into the time column,
 * into the tunnel marker's margin on the right, over the tunnel's name
 * ("relay", "intercept"), or on more than one line: 0, as labels are one
 * line ellipsized to their room (the arrow's gap, or the free space on its
 * row beside it). For tests. */
guint ts_ladder_view_get_drawn_overruns (TsLadderView *self);
/* The label of @step (a folded row: its first step) as the last snapshot
 * drew it: TRUE when it did, with @out_room the width it was given and
 * @out_needed the width its whole text needs, in pixels (either may be
 * NULL). For tests. */
gboolean ts_ladder_view_get_drawn_label (TsLadderView *self, guint step, double *out_room,
                                         int *out_needed);
/* Folding (on by default): a TCP handshake, SYN then SYN-ACK, is one row
 * with arrow heads at both ends; the steps stay the session's. */
void ts_ladder_view_set_fold (TsLadderView *self, gboolean fold);
gboolean ts_ladder_view_get_fold (TsLadderView *self);
/* Rows drawn for the steps (fewer than steps when folded). */
guint ts_ladder_view_get_n_rows (TsLadderView *self);

/* The row height in pixels. */
int ts_ladder_view_get_row_height (TsLadderView *self);

G_END_DECLS
