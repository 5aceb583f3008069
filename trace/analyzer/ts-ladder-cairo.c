/* ts-ladder-cairo.c: the ladder diagram painted with cairo (SVG, PNG, PDF).
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "ts-ladder-cairo.h"

#include <math.h>
#include <string.h>

#include <cairo-pdf.h>
#include <cairo-svg.h>

#include "ts-timeline-render-private.h"

/* Geometry, in points. */
#define MARGIN 24.0
#define TIME_W 78.0
#define PHASE_W 96.0
#define COL_W 190.0
#define ROW_H 22.0
#define TITLE_H 26.0
#define LINE_H 15.0
#define HEADER_H 44.0
#define FONT "DejaVu Sans"
/* Cap: rows painted (a picture of a million rows helps nobody). */
#define MAX_ROWS 5000

typedef struct
{
  double r, g, b;
} Rgb;

static const Rgb phase_colors[] = {
  { 1.00, 1.00, 1.00 }, /* none */
  { 0.90, 0.93, 0.98 }, /* connect */
  { 0.99, 0.95, 0.82 }, /* proxy negotiation */
  { 0.88, 0.96, 0.88 }, /* TLS handshake */
  { 0.94, 0.94, 0.94 }, /* data */
  { 0.98, 0.89, 0.89 }, /* close */
};

static const char *const phase_names[]
    = { "", "connect", "proxy", "TLS handshake", "data", "close" };

struct _TsLadderLayout
{
  const TsTimeline *tl;
  TsRenderOptions options;
  GArray *order;
  GArray *rows;
  gint *column;
  guint n_cols;
  guint n_rows; /* painted */
  guint n_tunnels;
  double width, height;
  double top; /* y of the first row */
  guint64 t0;
};

static char *
tunnel_text (const TsTimeline *tl, guint id)
{
  const TsTimelineTunnel *t = ts_timeline_get_tunnel (tl, id);
  GString *s = g_string_new (NULL);

  g_string_append_printf (s, "tunnel #%u (%s): %s", id, ts_tunnel_mode_to_string (t->mode),
                          t->client >= 0 ? ts_timeline_get_node (tl, (guint)t->client)->name : "?");
  for (guint i = 0; i < t->proxies->len; i++)
    {
      gint p = g_array_index (t->proxies, gint, i);
      g_string_append_printf (s, " > %s%s", ts_timeline_get_node (tl, (guint)p)->name,
                              p == t->intercepting_proxy ? " (intercepts)" : "");
    }
  g_string_append_printf (s, " > %s   target %s",
                          t->server >= 0 ? ts_timeline_get_node (tl, (guint)t->server)->name : "?",
                          t->target ? t->target : "?");
  return g_string_free (s, FALSE);
}

TsLadderLayout *
ts_ladder_layout_new (const TsTimeline *timeline, const TsRenderOptions *options)
{
  TsLadderLayout *self = g_new0 (TsLadderLayout, 1);
  TsRenderOptions defaults = { 0, -1, NULL, FALSE };

  g_return_val_if_fail (timeline != NULL, NULL);
  self->tl = timeline;
  self->options = options ? *options : defaults;
  self->order = ts_timeline_dup_time_order (timeline);
  self->rows = _ts_render_rows (timeline, self->order, &self->options);
  self->column = _ts_render_columns (timeline, self->order, &self->n_cols);
  self->n_rows = MIN (self->rows->len, MAX_ROWS);
  self->n_tunnels = ts_timeline_get_n_tunnels (timeline);
  /* Times count from the trace's first record, in every view. */
  self->t0 = ts_timeline_get_origin_ns (timeline);
  self->top = MARGIN + TITLE_H + self->n_tunnels * LINE_H
              + (ts_render_as_name (timeline, self->options.as_node) != NULL ? LINE_H : 0)
              + HEADER_H;
  /* Half a column more on the right for the labels of the last node. */
  self->width = MARGIN * 2 + TIME_W + PHASE_W + (MAX (self->n_cols, 1) + 0.6) * COL_W;
  self->height
      = self->top + (self->n_rows + (self->rows->len > self->n_rows ? 1 : 0)) * ROW_H + MARGIN;
  return self;
}

void
ts_ladder_layout_free (TsLadderLayout *self)
{
  if (self == NULL)
    return;
  g_array_unref (self->order);
  g_array_unref (self->rows);
  g_free (self->column);
  g_free (self);
}

void
ts_ladder_layout_get_size (const TsLadderLayout *self, double *out_width, double *out_height)
{
  *out_width = self->width;
  *out_height = self->height;
}

static double
col_x (const TsLadderLayout *self, gint col)
{
  return MARGIN + TIME_W + PHASE_W + COL_W / 2 + col * COL_W;
}

/* Draws @text with its left edge at @x (or centred on it), cut with an
 * ellipsis to @max_w. */
static void
text_at (cairo_t *cr, double x, double y, const char *text, double max_w, gboolean centre)
{
  cairo_text_extents_t ext;
  g_autofree char *cut = g_strdup (text);
  gsize len = strlen (cut);

  cairo_text_extents (cr, cut, &ext);
  while (ext.x_advance > max_w && len > 4)
    {
      /* Shorten by whole UTF-8 characters. */
      char *prev = g_utf8_find_prev_char (cut, cut + len - 3);
      len = prev ? (gsize)(prev - cut) : len - 1;
      memcpy (cut + len, "...", 4);
      len += 3;
      cairo_text_extents (cr, cut, &ext);
    }
  cairo_move_to (cr, centre ? x - ext.x_advance / 2 : x, y);
  cairo_show_text (cr, cut);
}

static void
arrow (cairo_t *cr, double x0, double x1, double y, gboolean dashed)
{
  double dir = x1 > x0 ? 1.0 : -1.0;
  static const double dash[] = { 5.0, 3.0 };

  cairo_set_line_width (cr, dashed ? 1.8 : 1.2);
  cairo_set_dash (cr, dashed ? dash : NULL, dashed ? 2 : 0, 0);
  cairo_move_to (cr, x0, y);
  cairo_line_to (cr, x1 - dir * 7, y);
  cairo_stroke (cr);
  cairo_set_dash (cr, NULL, 0, 0);
  cairo_move_to (cr, x1, y);
  cairo_line_to (cr, x1 - dir * 8, y - 4);
  cairo_line_to (cr, x1 - dir * 8, y + 4);
  cairo_close_path (cr);
  cairo_fill (cr);
}

/* A packet that went no further than x1: a line ending in a cross. */
static void
stopped (cairo_t *cr, double x0, double x1, double y)
{
  double dir = x1 > x0 ? 1.0 : -1.0, cx = x1 - dir * 6;

  cairo_set_line_width (cr, 1.2);
  cairo_move_to (cr, x0, y);
  cairo_line_to (cr, cx, y);
  cairo_stroke (cr);
  cairo_set_line_width (cr, 2.0);
  cairo_move_to (cr, cx - 4, y - 4);
  cairo_line_to (cr, cx + 4, y + 4);
  cairo_move_to (cr, cx - 4, y + 4);
  cairo_line_to (cr, cx + 4, y - 4);
  cairo_stroke (cr);
}

void
ts_ladder_layout_paint (const TsLadderLayout *self, cairo_t *cr)
{
  const TsTimeline *tl = self->tl;
  guint n_nodes = ts_timeline_get_n_nodes (tl);
  double y;

  cairo_save (cr);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  cairo_select_font_face (cr, FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_font_size (cr, 14);
  cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
  text_at (cr, MARGIN, MARGIN + 14, self->options.title ? self->options.title : "trace",
           self->width - 2 * MARGIN, FALSE);

  cairo_select_font_face (cr, FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, 10.5);
  y = MARGIN + TITLE_H;
  if (ts_render_as_name (tl, self->options.as_node) != NULL)
    {
      g_autofree char *as = g_strdup_printf (
          "as seen by %s: what it cannot read is shown as \"encrypted, N bytes\"",
          ts_render_as_name (tl, self->options.as_node));
      text_at (cr, MARGIN, y + 10, as, self->width - 2 * MARGIN, FALSE);
      y += LINE_H;
    }
  for (guint i = 0; i < self->n_tunnels; i++)
    {
      g_autofree char *t = tunnel_text (tl, i);
      text_at (cr, MARGIN, y + 10, t, self->width - 2 * MARGIN, FALSE);
      y += LINE_H;
    }

  /* Phase bands behind the rows, with the phase named where it starts. */
  {
    TsPhase prev = TS_PHASE_NONE;
    for (guint k = 0; k < self->n_rows; k++)
      {
        const Row *row = &g_array_index (self->rows, Row, k);
        const TsTimelineEvent *e = ts_timeline_get_event (tl, row->index);
        const Rgb *c = &phase_colors[MIN ((guint)e->phase, G_N_ELEMENTS (phase_colors) - 1)];
        double ry = self->top + k * ROW_H;

        if (e->phase == TS_PHASE_NONE)
          continue;
        cairo_set_source_rgb (cr, c->r, c->g, c->b);
        cairo_rectangle (cr, MARGIN + TIME_W, ry, self->width - 2 * MARGIN - TIME_W, ROW_H);
        cairo_fill (cr);
        if (e->phase != prev)
          {
            cairo_set_source_rgb (cr, 0.35, 0.35, 0.35);
            cairo_set_font_size (cr, 9.5);
            text_at (cr, MARGIN + TIME_W + 4, ry + 14, phase_names[e->phase], PHASE_W - 8, FALSE);
          }
        prev = e->phase;
      }
  }

  /* Node headers and lifelines. */
  cairo_set_font_size (cr, 12);
  for (guint i = 0; i < n_nodes; i++)
    {
      const TsTimelineNode *n = ts_timeline_get_node (tl, i);
      double x;

      if (self->column[i] < 0)
        continue;
      x = col_x (self, self->column[i]);
      cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
      cairo_select_font_face (cr, FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
      cairo_set_font_size (cr, 12);
      text_at (cr, x, self->top - HEADER_H + 18, n->name, COL_W - 10, TRUE);
      cairo_select_font_face (cr, FONT, CAIRO_FONT_SLANT_ITALIC, CAIRO_FONT_WEIGHT_NORMAL);
      cairo_set_font_size (cr, 9.5);
      if (n->role != NULL)
        text_at (cr, x, self->top - HEADER_H + 32, n->role, COL_W - 10, TRUE);
      cairo_set_source_rgb (cr, 0.55, 0.55, 0.55);
      cairo_set_line_width (cr, 1.0);
      cairo_move_to (cr, x, self->top - 6);
      cairo_line_to (cr, x, self->height - MARGIN);
      cairo_stroke (cr);
    }

  /* Rows: time, arrow, summary above the arrow. */
  cairo_select_font_face (cr, FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  for (guint k = 0; k < self->n_rows; k++)
    {
      const Row *row = &g_array_index (self->rows, Row, k);
      const TsTimelineEvent *e = ts_timeline_get_event (tl, row->index);
      g_autofree char *summary = _ts_render_row_summary (tl, row, &self->options);
      double ry = self->top + k * ROW_H, ay = ry + ROW_H - 5;
      char tbuf[32];
      gint to = ts_timeline_event_arrow_end (e);
      gboolean arrowed = e->src >= 0 && to >= 0 && e->src != to && self->column[e->src] >= 0
                         && self->column[to] >= 0;

      g_snprintf (tbuf, sizeof tbuf, "%.6f",
                  (double)(e->time_ns - MIN (e->time_ns, self->t0)) / 1e9);
      cairo_set_source_rgb (cr, 0.4, 0.4, 0.4);
      cairo_set_font_size (cr, 9.5);
      text_at (cr, MARGIN, ry + 15, tbuf, TIME_W - 6, FALSE);

      if (e->anomaly)
        cairo_set_source_rgb (cr, 0.75, 0.1, 0.1);
      else if (e->encrypted)
        cairo_set_source_rgb (cr, 0.05, 0.45, 0.2);
      else
        cairo_set_source_rgb (cr, 0.1, 0.2, 0.55);
      cairo_set_font_size (cr, 9.5);
      if (arrowed)
        {
          double x0 = col_x (self, self->column[e->src]), x1 = col_x (self, self->column[to]);
          if (e->stops_at >= 0)
            stopped (cr, x0, x1, ay);
          else
            arrow (cr, x0, x1, ay, e->encrypted);
          /* (Never past the picture's right margin.) */
          text_at (
              cr, MIN (x0, x1) + 6, ay - 4, summary,
              MIN (fabs (x1 - x0) - 10 + COL_W * 0.45, self->width - MARGIN - MIN (x0, x1) - 6),
              FALSE);
        }
      else
        {
          double x = e->src >= 0 && self->column[e->src] >= 0 ? col_x (self, self->column[e->src])
                                                              : MARGIN + TIME_W + PHASE_W;
          cairo_arc (cr, x, ay - 3, 3.2, 0, 2 * G_PI);
          cairo_fill (cr);
          text_at (cr, x + 7, ay, summary, MIN (COL_W * 1.4, self->width - MARGIN - x - 7), FALSE);
        }
    }
  if (self->rows->len > self->n_rows)
    {
      g_autofree char *more = g_strdup_printf ("... %u more rows (see tscope explain for all)",
                                               self->rows->len - self->n_rows);
      cairo_set_source_rgb (cr, 0.4, 0.4, 0.4);
      text_at (cr, MARGIN, self->top + self->n_rows * ROW_H + 15, more, self->width - 2 * MARGIN,
               FALSE);
    }
  cairo_restore (cr);
}

gboolean
ts_ladder_write (const TsTimeline *timeline, const TsRenderOptions *options, const char *format,
                 const char *path, GError **error)
{
  g_autoptr (TsLadderLayout) layout = NULL;
  cairo_surface_t *surface;
  cairo_t *cr;
  cairo_status_t status;
  double w, h;

  g_return_val_if_fail (timeline != NULL && format != NULL && path != NULL, FALSE);
  layout = ts_ladder_layout_new (timeline, options);
  ts_ladder_layout_get_size (layout, &w, &h);
  if (strcmp (format, "svg") == 0)
    surface = cairo_svg_surface_create (path, w, h);
  else if (strcmp (format, "pdf") == 0)
    surface = cairo_pdf_surface_create (path, w, h);
  else if (strcmp (format, "png") == 0)
    surface
        = cairo_image_surface_create (CAIRO_FORMAT_RGB24, (int)ceil (w * 1.5), (int)ceil (h * 1.5));
  else
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "unknown picture format '%s' (svg, png, pdf)", format);
      return FALSE;
    }
  cr = cairo_create (surface);
  if (strcmp (format, "png") == 0)
    cairo_scale (cr, 1.5, 1.5);
  ts_ladder_layout_paint (layout, cr);
  cairo_destroy (cr);
  cairo_surface_flush (surface);
  if (strcmp (format, "png") == 0)
    status = cairo_surface_write_to_png (surface, path);
  else
    {
      cairo_surface_finish (surface);
      status = cairo_surface_status (surface);
    }
  cairo_surface_destroy (surface);
  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", path,
                   cairo_status_to_string (status));
      return FALSE;
    }
  return TRUE;
}
