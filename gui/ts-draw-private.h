/* ts-draw-private.h: colours and small drawing helpers shared by the
 * snapshot-drawn views (ladder, topology).
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "ts-timeline.h"

G_BEGIN_DECLS

typedef struct
{
  GdkRGBA fg;     /* the widget's text colour */
  GdkRGBA bg;     /* the window background */
  GdkRGBA dim;    /* lines, lifelines */
  GdkRGBA accent; /* the current step */
  gboolean dark;
} TsPalette;

/* The palette of @widget, from its CSS colour (dark when the text is light). */
void _ts_palette_init (TsPalette *palette, GtkWidget *widget);

/* A layer's colour, readable on @palette's background. */
void _ts_layer_color (const TsPalette *palette, TsLayer layer, gboolean anomaly, GdkRGBA *out);

/* A phase's colour, for brackets. */
void _ts_phase_color (const TsPalette *palette, TsPhase phase, GdkRGBA *out);

/* Draws a line from (x1, y) to (x2, y) with an arrow head at x2. */
void _ts_draw_arrow (cairo_t *cr, double x1, double y1, double x2, double y2, double head);
/* A line from (x1, y1) that ends in a cross at (x2, y2): a packet that went
 * no further. */
void _ts_draw_stop (cairo_t *cr, double x1, double y1, double x2, double y2, double size);

/* Shows @layout with its left edge at @x, vertically centred on @y. */
void _ts_draw_layout (cairo_t *cr, PangoLayout *layout, double x, double y);

/* The pixel height of a line of @widget's font. */
int _ts_font_height (GtkWidget *widget);

/* Orders nodes for columns and positions: clients, then proxies, then
 * servers, then inferred hosts (transfer full: guint node ids). */
GArray *_ts_node_order (const TsTimeline *timeline);

typedef void (*TsDrawFunc) (gpointer data, cairo_t *cr, int width, int height);

/* Draws with @draw into a @width × @height picture at @path: PNG, SVG or
 * PDF by the name's extension, over @background (NULL: transparent).
 * FALSE with @error for another extension or a write error. */
gboolean _ts_export (const char *path, int width, int height, const GdkRGBA *background,
                     TsDrawFunc draw, gpointer data, GError **error);

G_END_DECLS
