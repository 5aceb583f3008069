/* ts-timeline-render-private.h: the layout the text ladder and the cairo
 * painter share.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "ts-timeline-render.h"

G_BEGIN_DECLS

/* A row of the ladder: an event, or a run of data records shown as one. */
typedef struct
{
  guint index; /* the first event */
  guint count;
  guint64 bytes;
} Row;

gint *_ts_render_columns (const TsTimeline *tl, GArray *order, guint *out_n_cols);
GArray *_ts_render_rows (const TsTimeline *tl, GArray *order, const TsRenderOptions *o);
/* The one-line text of a row as the ladder shows it (transfer full). */
char *_ts_render_row_summary (const TsTimeline *tl, const Row *row, const TsRenderOptions *o);

G_END_DECLS
