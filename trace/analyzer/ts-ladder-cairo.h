/* ts-ladder-cairo.h: the ladder diagram as a picture (cairo): the same rows,
 * columns and summaries as the text ladder, for slides (SVG, PNG, PDF).
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Built only when cairo is found (the dependency then defines
 * TS_HAVE_CAIRO). The layout is computed once from a timeline; painting
 * works on any cairo context (an SVG/PDF surface, an image, or a widget's
 * cairo node), so a slide and a screen show the same drawing.
 */
#pragma once

#include <cairo.h>
#include <gio/gio.h>

#include "ts-timeline-render.h"

G_BEGIN_DECLS

typedef struct _TsLadderLayout TsLadderLayout;

/* Lays out @timeline (borrowed: it must outlive the layout) with @options
 * (as_node and title are used; width is ignored). Transfer full. */
TsLadderLayout *ts_ladder_layout_new (const TsTimeline *timeline, const TsRenderOptions *options);
void ts_ladder_layout_free (TsLadderLayout *self);
/* The picture's size in points. */
void ts_ladder_layout_get_size (const TsLadderLayout *self, double *out_width, double *out_height);
/* Paints at (0, 0) in user units of @cr. */
void ts_ladder_layout_paint (const TsLadderLayout *self, cairo_t *cr);

/* Writes the ladder to @path as @format: "svg", "png" or "pdf". FALSE with
 * @error when the format is unknown or cairo could not write. */
gboolean ts_ladder_write (const TsTimeline *timeline, const TsRenderOptions *options,
                          const char *format, const char *path, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TsLadderLayout, ts_ladder_layout_free)

G_END_DECLS
