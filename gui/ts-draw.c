/* ts-draw.c: colours and drawing helpers of the snapshot-drawn views.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <math.h>

#include "ts-draw-private.h"

G_GNUC_BEGIN_IGNORE_DEPRECATIONS
static void
widget_color (GtkWidget *widget, GdkRGBA *out)
{
  /* gtk_widget_get_color () is 4.10; the style context is the 4.8 way. */
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), out);
}
G_GNUC_END_IGNORE_DEPRECATIONS

void
_ts_palette_init (TsPalette *p, GtkWidget *widget)
{
  double lum;

  widget_color (widget, &p->fg);
  lum = 0.2126 * p->fg.red + 0.7152 * p->fg.green + 0.0722 * p->fg.blue;
  p->dark = lum > 0.5;
  if (p->dark)
    p->bg = (GdkRGBA){ 0.14, 0.14, 0.14, 1 };
  else
    p->bg = (GdkRGBA){ 0.98, 0.98, 0.98, 1 };
  p->dim = p->fg;
  p->dim.alpha = 0.25;
  p->accent = p->dark ? (GdkRGBA){ 0.47, 0.68, 0.93, 1 } : (GdkRGBA){ 0.21, 0.52, 0.89, 1 };
}

void
_ts_layer_color (const TsPalette *p, TsLayer layer, gboolean anomaly, GdkRGBA *out)
{
  /* GNOME palette, lighter shades on dark backgrounds. */
  static const GdkRGBA light[] = {
    [TS_LAYER_LAB] = { 0.60, 0.45, 0.05, 1 }, /* yellow 5 */
    [TS_LAYER_LINK] = { 0.37, 0.36, 0.39, 1 },
    [TS_LAYER_IP] = { 0.37, 0.36, 0.39, 1 },
    [TS_LAYER_TCP] = { 0.37, 0.36, 0.39, 1 }, /* dark 1 */
    [TS_LAYER_UDP] = { 0.37, 0.36, 0.39, 1 },
    [TS_LAYER_HTTP] = { 0.15, 0.53, 0.30, 1 },      /* green 5 */
    [TS_LAYER_TLS] = { 0.38, 0.21, 0.51, 1 },       /* purple 4 */
    [TS_LAYER_WEBSOCKET] = { 0.10, 0.37, 0.71, 1 }, /* blue 5 */
    [TS_LAYER_DATA] = { 0.39, 0.27, 0.20, 1 },      /* brown */
  };
  static const GdkRGBA dark[] = {
    [TS_LAYER_LAB] = { 0.96, 0.83, 0.18, 1 },  [TS_LAYER_LINK] = { 0.75, 0.74, 0.72, 1 },
    [TS_LAYER_IP] = { 0.75, 0.74, 0.72, 1 },   [TS_LAYER_TCP] = { 0.75, 0.74, 0.72, 1 },
    [TS_LAYER_UDP] = { 0.75, 0.74, 0.72, 1 },  [TS_LAYER_HTTP] = { 0.56, 0.94, 0.64, 1 },
    [TS_LAYER_TLS] = { 0.86, 0.54, 0.87, 1 },  [TS_LAYER_WEBSOCKET] = { 0.60, 0.76, 0.95, 1 },
    [TS_LAYER_DATA] = { 0.80, 0.67, 0.53, 1 },
  };

  if (anomaly)
    *out = p->dark ? (GdkRGBA){ 0.97, 0.38, 0.32, 1 } : (GdkRGBA){ 0.75, 0.11, 0.16, 1 };
  else if ((guint)layer < G_N_ELEMENTS (light))
    *out = p->dark ? dark[layer] : light[layer];
  else
    *out = p->fg;
}

void
_ts_phase_color (const TsPalette *p, TsPhase phase, GdkRGBA *out)
{
  static const GdkRGBA colors[] = {
    [TS_PHASE_NONE] = { 0.5, 0.5, 0.5, 0.0 },   [TS_PHASE_CONNECT] = { 0.47, 0.47, 0.47, 1 },
    [TS_PHASE_PROXY] = { 0.90, 0.38, 0.00, 1 }, [TS_PHASE_TLS_HANDSHAKE] = { 0.57, 0.25, 0.67, 1 },
    [TS_PHASE_DATA] = { 0.20, 0.60, 0.35, 1 },  [TS_PHASE_CLOSE] = { 0.75, 0.11, 0.16, 1 },
  };

  *out = (guint)phase < G_N_ELEMENTS (colors) ? colors[phase] : p->dim;
}

void
_ts_draw_arrow (cairo_t *cr, double x1, double y1, double x2, double y2, double head)
{
  double angle = atan2 (y2 - y1, x2 - x1);

  cairo_move_to (cr, x1, y1);
  cairo_line_to (cr, x2 - cos (angle) * head * 0.6, y2 - sin (angle) * head * 0.6);
  cairo_stroke (cr);
  cairo_move_to (cr, x2, y2);
  cairo_line_to (cr, x2 - head * cos (angle - 0.4), y2 - head * sin (angle - 0.4));
  cairo_line_to (cr, x2 - head * cos (angle + 0.4), y2 - head * sin (angle + 0.4));
  cairo_close_path (cr);
  cairo_fill (cr);
}

void
_ts_draw_stop (cairo_t *cr, double x1, double y1, double x2, double y2, double size)
{
  double angle = atan2 (y2 - y1, x2 - x1);
  double cx = x2 - cos (angle) * size, cy = y2 - sin (angle) * size;

  cairo_move_to (cr, x1, y1);
  cairo_line_to (cr, cx, cy);
  cairo_stroke (cr);
  cairo_save (cr);
  cairo_set_line_width (cr, cairo_get_line_width (cr) * 1.5);
  cairo_move_to (cr, cx - size, cy - size);
  cairo_line_to (cr, cx + size, cy + size);
  cairo_move_to (cr, cx - size, cy + size);
  cairo_line_to (cr, cx + size, cy - size);
  cairo_stroke (cr);
  cairo_restore (cr);
}

void
_ts_draw_layout (cairo_t *cr, PangoLayout *layout, double x, double y)
{
  int w, h;

  pango_layout_get_pixel_size (layout, &w, &h);
  cairo_move_to (cr, x, y - h / 2.0);
  pango_cairo_show_layout (cr, layout);
}

int
_ts_font_height (GtkWidget *widget)
{
  g_autoptr (PangoLayout) layout = gtk_widget_create_pango_layout (widget, "Xg");
  int w, h;

  pango_layout_get_pixel_size (layout, &w, &h);
  return MAX (h, 8);
}

static int
role_rank (const TsTimelineNode *n)
{
  if (n->role == NULL)
    return 3;
  if (g_str_equal (n->role, "client"))
    return 0;
  if (g_str_equal (n->role, "proxy"))
    return 1;
  if (g_str_equal (n->role, "server"))
    return 2;
  return 3;
}

static const TsTimeline *sort_timeline;

static gint
compare_nodes (gconstpointer a, gconstpointer b)
{
  guint ia = *(const guint *)a, ib = *(const guint *)b;
  int ra = role_rank (ts_timeline_get_node (sort_timeline, ia));
  int rb = role_rank (ts_timeline_get_node (sort_timeline, ib));

  if (ra != rb)
    return ra - rb;
  return (int)ia - (int)ib;
}

GArray *
_ts_node_order (const TsTimeline *timeline)
{
  GArray *order = g_array_new (FALSE, FALSE, sizeof (guint));

  /* A node merged into another (a proxy's other address) is not drawn. */
  for (guint i = 0; i < ts_timeline_get_n_nodes (timeline); i++)
    if (ts_timeline_get_node (timeline, i)->merged_into < 0)
      g_array_append_val (order, i);
  /* The main loop is the only caller: a static for the comparator is fine. */
  sort_timeline = timeline;
  g_array_sort (order, compare_nodes);
  sort_timeline = NULL;
  return order;
}

gboolean
_ts_export (const char *path, int width, int height, const GdkRGBA *background, TsDrawFunc draw,
            gpointer data, GError **error)
{
  cairo_surface_t *surface;
  cairo_status_t status;
  cairo_t *cr;
  g_autofree char *lower = g_ascii_strdown (path, -1);
  gboolean png = g_str_has_suffix (lower, ".png");

  if (png)
    surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  else if (g_str_has_suffix (lower, ".svg"))
    surface = cairo_svg_surface_create (path, width, height);
  else if (g_str_has_suffix (lower, ".pdf"))
    surface = cairo_pdf_surface_create (path, width, height);
  else
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "%s: export to .png, .svg or .pdf", path);
      return FALSE;
    }
  cr = cairo_create (surface);
  if (background)
    {
      gdk_cairo_set_source_rgba (cr, background);
      cairo_paint (cr);
    }
  draw (data, cr, width, height);
  cairo_destroy (cr);
  cairo_surface_flush (surface);
  status = png ? cairo_surface_write_to_png (surface, path) : CAIRO_STATUS_SUCCESS;
  cairo_surface_finish (surface);
  if (status == CAIRO_STATUS_SUCCESS)
    status = cairo_surface_status (surface);
  cairo_surface_destroy (surface);
  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", path,
                   cairo_status_to_string (status));
      return FALSE;
    }
  return TRUE;
}
