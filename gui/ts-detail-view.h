/* ts-detail-view.h: the selected step's protocol tree and a hex view of its
 * bytes, linked both ways: a row selects its bytes, a click on a byte
 * selects the innermost row covering it (the session's "selected-field").
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "ts-session.h"

G_BEGIN_DECLS

#define TS_TYPE_DETAIL_VIEW (ts_detail_view_get_type ())
G_DECLARE_FINAL_TYPE (TsDetailView, ts_detail_view, TS, DETAIL_VIEW, GtkWidget)

GtkWidget *ts_detail_view_new (TsSession *session);
TsSession *ts_detail_view_get_session (TsDetailView *self);
void ts_detail_view_set_session (TsDetailView *self, TsSession *session);

/* 16 bytes per hex line (the default), or 8 for a narrow view. */
void ts_detail_view_set_bytes_per_line (TsDetailView *self, guint n);
/* The hex pane's least width in pixels: a whole line of it (for tests). */
int ts_detail_view_get_hex_min_width (TsDetailView *self);

/* For tests: the number of tree rows shown, the hex text (transfer full),
 * and the byte range highlighted for the selected field (FALSE if none). */
guint ts_detail_view_get_n_rows (TsDetailView *self);
char *ts_detail_view_dup_hex_text (TsDetailView *self);
gboolean ts_detail_view_get_highlight (TsDetailView *self, guint *out_offset, guint *out_len);
/* The field covering byte @offset (innermost), or -1: what a click on the
 * hex view selects. */
int ts_detail_view_field_at_byte (TsDetailView *self, guint offset);

G_END_DECLS
