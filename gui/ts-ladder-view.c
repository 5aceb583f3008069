/* ts-ladder-view.c: the ladder diagram, drawn in snapshot.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "ts-ladder-view.h"

#include <math.h>
#include <string.h>

#include "ts-draw-private.h"
#include "ts-timeline-render.h"

struct _TsLadderView
{
  GtkWidget parent_instance;

  TsSession *session;
  GtkAdjustment *hadjustment;
  GtkAdjustment *vadjustment;
  guint hscroll_policy : 1;
  guint vscroll_policy : 1;
  GArray *columns;   /* guint node ids, left to right */
  GArray *column_of; /* gint: node id -> column */
  int drawn_first, drawn_last;
  gboolean scroll_pending; /* the step changed before we had a size */
  /* Folding: a TCP handshake (SYN then SYN-ACK of one connection, one
   * after the other) is one row. NULL arrays: one row per step. */
  gboolean fold;
  GArray *row_first;   /* guint: row -> its first step */
  GArray *row_of_step; /* guint: step -> its row */
  PangoLayout *layout;
  PangoLayout *small;
  guint drawn_overruns; /* labels the last snapshot drew past their room or into the tag */
  GArray *drawn_labels; /* DrawnLabel: the labels the last snapshot drew */
  /* Shaped text of rows drawn lately (step -> RowText): stepping redraws
   * mostly the same rows, and shaping text is most of a frame's cost. */
  GHashTable *row_text;
  gboolean text_compact; /* the cached times are compact ones */
};

typedef struct
{
  PangoLayout *summary;
  PangoLayout *time;
  double summary_width;
  int natural; /* the summary's whole width */
} RowText;

typedef struct
{
  guint step;
  double room;
  int needed;
} DrawnLabel;

/* Cap: rows whose shaped text is kept (a few screens). */
#define ROW_TEXT_CACHE_MAX 512

static void
row_text_free (gpointer p)
{
  RowText *r = p;
  g_clear_object (&r->summary);
  g_clear_object (&r->time);
  g_free (r);
}

enum
{
  PROP_0,
  PROP_SESSION,
  N_PROPS,
  PROP_HADJUSTMENT,
  PROP_VADJUSTMENT,
  PROP_HSCROLL_POLICY,
  PROP_VSCROLL_POLICY,
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE_WITH_CODE (TsLadderView, ts_ladder_view, GTK_TYPE_WIDGET,
                               G_IMPLEMENT_INTERFACE (GTK_TYPE_SCROLLABLE, NULL))

typedef struct
{
  int line;         /* font line height */
  int row;          /* a step's row */
  int header;       /* the pinned node header */
  int time_w;       /* the time and phase margin on the left */
  int tag_w;        /* the tunnel marker's margin on the right, 0: no tunnels */
  gboolean compact; /* a narrow view: times without unit, phases as colour only */
} Metrics;

/* Below this many lines of width the ladder is compact: a compare pane, a
 * ladder beside a lesson. */
#define COMPACT_LINES 46

static guint n_rows (TsLadderView *self);
static guint row_of (TsLadderView *self, guint step);

/* @width: the view's width, or -1 for the wide layout (what the view
 * asks for). */
static void
metrics (TsLadderView *self, Metrics *m, int width)
{
  const TsTimeline *tl = NULL;

  m->line = _ts_font_height (GTK_WIDGET (self));
  m->row = (int)ceil (m->line * 2.3);
  m->header = m->line * 3;
  m->time_w = m->line * 9;
  m->compact = width >= 0 && width < m->line * COMPACT_LINES;
  if (self->session != NULL)
    tl = ts_step_list_get_timeline (ts_session_get_step_list (self->session));
  /* Compact: the time column is as wide as the trace's last time needs,
   * without its unit (the header says "ms"). */
  if (m->compact && self->layout != NULL)
    {
      TsStepList *list = tl ? ts_session_get_step_list (self->session) : NULL;
      guint n = list ? ts_step_list_get_n_steps (list) : 0;
      char tbuf[32];
      int tw = 0, rw = 0;

      g_snprintf (tbuf, sizeof tbuf, "%.3f",
                  n > 0 ? (double)(ts_step_list_get_event (list, n - 1)->time_ns
                                   - ts_step_list_get_origin_ns (list))
                              / 1e6
                        : 0.0);
      if (strlen (tbuf) < 7)
        g_strlcpy (tbuf, "000.000", sizeof tbuf);
      pango_layout_set_width (self->layout, -1);
      pango_layout_set_text (self->layout, tbuf, -1);
      pango_layout_get_pixel_size (self->layout, &tw, NULL);
      /* A round trip goes under its time: "↻ 0.574". */
      pango_layout_set_text (self->layout, "↻ 0.000", -1);
      pango_layout_get_pixel_size (self->layout, &rw, NULL);
      m->time_w = MIN (8 + MAX (tw, rw) + m->line, m->line * 9);
    }
  /* The tunnel is a coloured marker in a margin of its own on the right,
   * its name written once per tunnel block where its row leaves room. */
  m->tag_w = tl != NULL && ts_timeline_get_n_tunnels (tl) > 0 ? (int)ceil (m->line * 1.1) : 0;
}

static double
column_x (TsLadderView *self, const Metrics *m, int width, int column)
{
  int n = MAX ((int)self->columns->len, 1);
  double span = MAX (width - m->time_w - m->tag_w - m->line * 2, 100);

  return m->time_w + m->line + span * (column + 0.5) / n;
}

static void
rebuild_columns (TsLadderView *self)
{
  const TsTimeline *tl;

  g_clear_pointer (&self->columns, g_array_unref);
  g_array_set_size (self->column_of, 0);
  if (self->session == NULL)
    {
      self->columns = g_array_new (FALSE, FALSE, sizeof (guint));
      return;
    }
  tl = ts_step_list_get_timeline (ts_session_get_step_list (self->session));
  self->columns = _ts_node_order (tl);
  g_array_set_size (self->column_of, ts_timeline_get_n_nodes (tl));
  for (guint i = 0; i < self->column_of->len; i++)
    g_array_index (self->column_of, gint, i) = -1; /* not drawn (merged) */
  for (guint i = 0; i < self->columns->len; i++)
    g_array_index (self->column_of, gint, g_array_index (self->columns, guint, i)) = (gint)i;
}

static int
column_of (TsLadderView *self, int node)
{
  if (node < 0 || (guint)node >= self->column_of->len)
    return -1;
  return g_array_index (self->column_of, gint, node);
}

static void
configure_adjustments (TsLadderView *self)
{
  Metrics m;
  int w = gtk_widget_get_width (GTK_WIDGET (self));
  int h = gtk_widget_get_height (GTK_WIDGET (self));
  guint n = n_rows (self);
  double upper;

  metrics (self, &m, w);
  upper = m.header + (double)n * m.row + m.line;
  if (self->vadjustment)
    gtk_adjustment_configure (
        self->vadjustment,
        CLAMP (gtk_adjustment_get_value (self->vadjustment), 0, MAX (upper - h, 0)), 0,
        MAX (upper, h), m.row, MAX (h - m.header - m.row, m.row), h);
  if (self->hadjustment)
    gtk_adjustment_configure (self->hadjustment, 0, 0, w, m.line, w, w);
}

/* Scrolls so that the current step's row is in view, keeping some context
 * below it. */
static void
scroll_to_step (TsLadderView *self)
{
  Metrics m;
  int step, h = gtk_widget_get_height (GTK_WIDGET (self));
  double top, bottom, value;

  if (self->session == NULL || self->vadjustment == NULL || h <= 0)
    {
      self->scroll_pending = TRUE;
      return;
    }
  self->scroll_pending = FALSE;
  step = ts_session_get_step (self->session);
  if (step < 0)
    return;
  metrics (self, &m, gtk_widget_get_width (GTK_WIDGET (self)));
  value = gtk_adjustment_get_value (self->vadjustment);
  top = (double)row_of (self, (guint)step) * m.row;
  bottom = top + m.row;
  if (top < value)
    gtk_adjustment_set_value (self->vadjustment, MAX (top - m.row, 0));
  else if (bottom > value + h - m.header)
    gtk_adjustment_set_value (self->vadjustment, bottom - (h - m.header) + 2 * m.row);
}

static void
update_accessible (TsLadderView *self)
{
  int step = self->session ? ts_session_get_step (self->session) : -1;
  g_autofree char *text = NULL;

  if (step >= 0)
    text = ts_step_list_dup_summary_as (ts_session_get_step_list (self->session), step,
                                        ts_session_get_reader (self->session));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  text ? text : "No step", -1);
}

static void
forget_row_text (TsLadderView *self)
{
  if (self->row_text)
    g_hash_table_remove_all (self->row_text);
}

static guint
n_rows (TsLadderView *self)
{
  if (self->session == NULL)
    return 0;
  return self->row_first ? self->row_first->len : ts_session_get_n_steps (self->session);
}

static guint
row_first_step (TsLadderView *self, guint row)
{
  return self->row_first ? g_array_index (self->row_first, guint, row) : row;
}

/* Steps in @row: 1, or 2 for a folded handshake. */
static guint
row_n_steps (TsLadderView *self, guint row)
{
  guint end;

  if (self->row_first == NULL)
    return 1;
  end = row + 1 < self->row_first->len ? g_array_index (self->row_first, guint, row + 1)
                                       : ts_session_get_n_steps (self->session);
  return end - g_array_index (self->row_first, guint, row);
}

static guint
row_of (TsLadderView *self, guint step)
{
  if (self->row_of_step == NULL || step >= self->row_of_step->len)
    return step;
  return g_array_index (self->row_of_step, guint, step);
}

static gboolean
folds_with_next (TsStepList *list, guint i)
{
  const TsTimelineEvent *a, *b;

  if (i + 1 >= ts_step_list_get_n_steps (list))
    return FALSE;
  a = ts_step_list_get_event (list, i);
  b = ts_step_list_get_event (list, i + 1);
  return g_str_equal (a->kind, "tcp.syn") && g_str_equal (b->kind, "tcp.syn-ack") && a->conn >= 0
         && a->conn == b->conn && a->src == b->dst && a->dst == b->src;
}

static void
rebuild_rows (TsLadderView *self)
{
  TsStepList *list;
  guint n;

  g_clear_pointer (&self->row_first, g_array_unref);
  g_clear_pointer (&self->row_of_step, g_array_unref);
  if (!self->fold || self->session == NULL)
    return;
  list = ts_session_get_step_list (self->session);
  n = ts_step_list_get_n_steps (list);
  self->row_first = g_array_sized_new (FALSE, FALSE, sizeof (guint), n);
  self->row_of_step = g_array_sized_new (FALSE, FALSE, sizeof (guint), n);
  for (guint i = 0; i < n; i++)
    {
      guint row = self->row_first->len;
      g_array_append_val (self->row_first, i);
      g_array_append_val (self->row_of_step, row);
      if (folds_with_next (list, i))
        {
          i++;
          g_array_append_val (self->row_of_step, row);
        }
    }
}

static void
on_step (TsLadderView *self)
{
  scroll_to_step (self);
  update_accessible (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
on_reset (TsLadderView *self)
{
  forget_row_text (self);
  rebuild_columns (self);
  rebuild_rows (self);
  configure_adjustments (self);
  if (self->vadjustment)
    gtk_adjustment_set_value (self->vadjustment, 0);
  update_accessible (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
on_steps_added (TsLadderView *self)
{
  /* The analyzer may have learnt more about older events (readers). */
  forget_row_text (self);
  rebuild_columns (self);
  rebuild_rows (self);
  configure_adjustments (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
on_redraw (TsLadderView *self)
{
  forget_row_text (self);
  update_accessible (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
set_adjustment (TsLadderView *self, GtkAdjustment **slot, GtkAdjustment *adj)
{
  if (*slot == adj)
    return;
  if (*slot)
    g_signal_handlers_disconnect_by_data (*slot, self);
  g_set_object (slot, adj);
  if (adj)
    g_signal_connect_swapped (adj, "value-changed", G_CALLBACK (gtk_widget_queue_draw), self);
  configure_adjustments (self);
}

static void
ts_ladder_view_size_allocate (GtkWidget *widget, int width, int height, int baseline)
{
  TsLadderView *self = TS_LADDER_VIEW (widget);

  configure_adjustments (self);
  if (self->scroll_pending)
    scroll_to_step (self);
}

static void
ts_ladder_view_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum,
                        int *natural, int *minimum_baseline, int *natural_baseline)
{
  TsLadderView *self = TS_LADDER_VIEW (widget);
  Metrics m;

  metrics (self, &m, -1);
  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      *minimum = m.time_w + m.line * 8 * MAX ((int)self->columns->len, 2) / 2;
      *natural = m.time_w + m.line * 14 * MAX ((int)self->columns->len, 2);
    }
  else
    {
      *minimum = m.header + m.row * 3;
      *natural = m.header + m.row * 12;
    }
}

static void
set_rgba (cairo_t *cr, const GdkRGBA *c, double alpha)
{
  cairo_set_source_rgba (cr, c->red, c->green, c->blue, c->alpha * alpha);
}

static void
draw_text (cairo_t *cr, PangoLayout *layout, const char *text, double x, double y, double max_w,
           gboolean center)
{
  int w, h;

  pango_layout_set_text (layout, text, -1);
  pango_layout_set_width (layout, max_w > 0 ? (int)(max_w * PANGO_SCALE) : -1);
  pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
  pango_layout_get_pixel_size (layout, &w, &h);
  if (center)
    x -= w / 2.0;
  cairo_move_to (cr, x, y - h / 2.0);
  pango_cairo_show_layout (cr, layout);
}

/* Cap: steps looked back for the request a response answers. */
#define RTT_LOOKBACK 64

/* The round trip a reply closes: for a SYN-ACK its SYN, for an HTTP
 * response its request, for a ServerHello its ClientHello, on the same
 * connection in the other direction. Returns the time in ns, or 0. */
static guint64
round_trip (TsStepList *list, int i)
{
  const TsTimelineEvent *ev = ts_step_list_get_event (list, i);
  const char *want;

  if (ev->conn < 0)
    return 0;
  if (g_str_equal (ev->kind, "http.response"))
    want = "http.request";
  else if (g_str_equal (ev->kind, "tcp.syn-ack")
           || (g_str_equal (ev->kind, "tcp.syn") && g_str_has_prefix (ev->summary, "SYN,ACK")))
    want = "tcp.syn";
  else if (g_str_equal (ev->kind, "tls.handshake") && ev->tls_handshake_type == 2)
    want = "tls.handshake";
  else
    return 0;
  for (int k = i - 1; k >= 0 && k >= i - RTT_LOOKBACK; k--)
    {
      const TsTimelineEvent *q = ts_step_list_get_event (list, k);
      if (q->conn == ev->conn && q->src == ev->dst && q->dst == ev->src
          && g_str_equal (q->kind, want)
          && (!g_str_equal (want, "tls.handshake") || q->tls_handshake_type == 1))
        return ev->time_ns >= q->time_ns ? MAX (ev->time_ns - q->time_ns, 1) : 0;
    }
  return 0;
}

/* The shaped summary and time of step @i, cached. */
static RowText *
row_text (TsLadderView *self, TsStepList *list, int i, int reader, guint64 t0, gboolean compact,
          const char *summary_override)
{
  RowText *r = g_hash_table_lookup (self->row_text, GINT_TO_POINTER (i));

  if (r == NULL)
    {
      g_autofree char *summary = summary_override ? g_strdup (summary_override)
                                                  : ts_step_list_dup_summary_as (list, i, reader);
      char tbuf[32];
      PangoAttrList *attrs = pango_attr_list_new ();

      if (g_hash_table_size (self->row_text) >= ROW_TEXT_CACHE_MAX)
        g_hash_table_remove_all (self->row_text);
      r = g_new0 (RowText, 1);
      /* One line per row: a lab event's fields may hold newlines (an
       * intercepted request's headers). */
      g_strdelimit (summary, "\r\n", ' ');
      r->summary = gtk_widget_create_pango_layout (GTK_WIDGET (self), summary);
      pango_layout_set_single_paragraph_mode (r->summary, TRUE);
      pango_layout_get_pixel_size (r->summary, &r->natural, NULL);
      pango_layout_set_ellipsize (r->summary, PANGO_ELLIPSIZE_END);
      g_snprintf (tbuf, sizeof tbuf, compact ? "%.3f" : "%.3f ms",
                  (double)(ts_step_list_get_event (list, i)->time_ns - t0) / 1e6);
      r->time = gtk_widget_create_pango_layout (GTK_WIDGET (self), tbuf);
      pango_attr_list_insert (attrs, pango_attr_scale_new (0.85));
      pango_layout_set_attributes (r->time, attrs);
      pango_attr_list_unref (attrs);
      r->summary_width = -1;
      g_hash_table_insert (self->row_text, GINT_TO_POINTER (i), r);
    }
  return r;
}

static void
row_text_set_width (RowText *r, double summary_width)
{
  if (r->summary_width != summary_width)
    {
      pango_layout_set_width (r->summary, (int)(summary_width * PANGO_SCALE));
      r->summary_width = summary_width;
    }
}

/* Where a label @needed pixels wide goes on its row, for an arrow from
 * @lo to @hi (a node's own event: @lo == @hi, its dot). A row draws one
 * event, so the space beside its arrow, between @left and @right, is free:
 * the label is centred over the arrow where it fits there, else it runs on
 * from the arrow's left end, or back from its right end, and it is
 * ellipsized on the side with more room where it fits in neither.
 * Returns the room; *out_x and *out_align (0 centre, 1 left edge, 2 right
 * edge) say where it is anchored. */
static double
place_label (double lo, double hi, double needed, double left, double right, double pad,
             double *out_x, int *out_align)
{
  double mid = (lo + hi) / 2, room_r = right - (lo + pad), room_l = (hi - pad) - left;

  if (hi - lo > pad && mid - needed / 2 >= left && mid + needed / 2 <= right)
    {
      *out_x = mid;
      *out_align = 0;
      return MIN (needed + 1, 2 * MIN (mid - left, right - mid));
    }
  if (needed <= room_r || room_r >= room_l)
    {
      *out_x = lo + pad;
      *out_align = 1;
      return MAX (room_r, 1);
    }
  *out_x = hi - pad;
  *out_align = 2;
  return MAX (room_l, 1);
}

/* A tunnel's colour, as the topology draws it. */
static GdkRGBA
tunnel_color (const TsPalette *pal, TsTunnelMode mode)
{
  if (mode == TS_TUNNEL_MODE_INTERCEPT)
    return pal->dark ? (GdkRGBA){ 0.97, 0.38, 0.32, 1 } : (GdkRGBA){ 0.75, 0.11, 0.16, 1 };
  return pal->dark ? (GdkRGBA){ 0.38, 0.63, 0.92, 1 } : (GdkRGBA){ 0.10, 0.37, 0.71, 1 };
}

static void
show_layout (cairo_t *cr, PangoLayout *layout, double x, double y, gboolean center)
{
  int lw, lh;

  pango_layout_get_pixel_size (layout, &lw, &lh);
  cairo_move_to (cr, center ? x - lw / 2.0 : x, y - lh / 2.0);
  pango_cairo_show_layout (cr, layout);
}

static void
ladder_draw (gpointer data, cairo_t *cr, int w, int h)
{
  TsLadderView *self = data;
  GtkWidget *widget = GTK_WIDGET (self);
  TsStepList *list;
  const TsTimeline *tl;
  TsPalette pal;
  Metrics m;
  guint n;
  int step, reader, first, last;
  double value;
  guint64 t0 = 0;
  int tag_shown = -1; /* the tunnel whose name the drawn rows showed last */

  self->drawn_first = self->drawn_last = -1;
  g_array_set_size (self->drawn_labels, 0);
  if (self->session == NULL || w <= 0 || h <= 0)
    return;
  list = ts_session_get_step_list (self->session);
  tl = ts_step_list_get_timeline (list);
  n = ts_step_list_get_n_steps (list);
  step = ts_session_get_step (self->session);
  reader = ts_session_get_reader (self->session);
  _ts_palette_init (&pal, widget);
  metrics (self, &m, w);
  value = self->vadjustment ? gtk_adjustment_get_value (self->vadjustment) : 0;

  pango_cairo_update_layout (cr, self->layout);
  pango_cairo_update_layout (cr, self->small);
  pango_layout_set_font_description (self->small, NULL);
  {
    /* The small font: 85% of the widget's. */
    PangoFontDescription *fd = pango_font_description_copy (
        pango_context_get_font_description (pango_layout_get_context (self->layout)));
    /* (Keeping the size's unit: an absolute size set as points grew.) */
    if (pango_font_description_get_size (fd) > 0
        && pango_font_description_get_size_is_absolute (fd))
      pango_font_description_set_absolute_size (fd, pango_font_description_get_size (fd) * 0.85);
    else if (pango_font_description_get_size (fd) > 0)
      pango_font_description_set_size (fd, pango_font_description_get_size (fd) * 85 / 100);
    pango_layout_set_font_description (self->small, fd);
    pango_font_description_free (fd);
  }

  /* Lifelines. */
  cairo_set_line_width (cr, 1);
  for (guint c = 0; c < self->columns->len; c++)
    {
      double x = floor (column_x (self, &m, w, c)) + 0.5;
      set_rgba (cr, &pal.dim, 1);
      cairo_move_to (cr, x, m.header);
      cairo_line_to (cr, x, h);
      cairo_stroke (cr);
    }

  if (n > 0)
    {
      t0 = ts_step_list_get_origin_ns (list);
      guint rows = n_rows (self);
      first = (int)MAX (0, floor (value / m.row));
      last = (int)MIN ((double)rows - 1, floor ((value + h - m.header) / m.row));
      self->drawn_overruns = 0;
      g_array_set_size (self->drawn_labels, 0);
      if (self->text_compact != m.compact)
        {
          forget_row_text (self);
          self->text_compact = m.compact;
        }
      self->drawn_first = (int)row_first_step (self, first);
      self->drawn_last = (int)(row_first_step (self, last) + row_n_steps (self, last) - 1);
      for (int r = first; r <= last; r++)
        {
          int i = (int)row_first_step (self, r);
          gboolean folded = row_n_steps (self, r) > 1;
          gboolean current = step >= i && step < i + (int)row_n_steps (self, r);
          const TsTimelineEvent *ev = ts_step_list_get_event (list, i);
          double y = m.header + (double)r * m.row - value;
          double mid = y + m.row * 0.62;
          int cs = column_of (self, ev->src),
              cd = column_of (self, ts_timeline_event_arrow_end (ev));
          gboolean readable = ts_step_list_can_read (list, i, reader);
          double alpha = readable ? 1.0 : 0.38;
          GdkRGBA color;
          RowText *text;
          gboolean phase_label = FALSE;

          /* A lesson's highlighted events: a warm band and a marker, under
           * the current step's own colour when it is one of them. */
          {
            gboolean marked = FALSE;
            for (int k = 0; k < (int)row_n_steps (self, r) && !marked; k++)
              marked = ts_session_step_is_highlighted (self->session, (guint)(i + k));
            if (marked)
              {
                GdkRGBA warm = pal.dark ? (GdkRGBA){ 0.96, 0.76, 0.07, 1 }
                                        : (GdkRGBA){ 0.90, 0.65, 0.04, 1 };
                if (!current)
                  {
                    set_rgba (cr, &warm, 0.2);
                    cairo_rectangle (cr, 0, y, w, m.row);
                    cairo_fill (cr);
                  }
                set_rgba (cr, &warm, 1);
                cairo_rectangle (cr, w - 6, y + 1, 6, m.row - 2);
                cairo_fill (cr);
              }
          }
          if (current)
            {
              set_rgba (cr, &pal.accent, 0.22);
              cairo_rectangle (cr, 0, y, w, m.row);
              cairo_fill (cr);
              set_rgba (cr, &pal.accent, 1);
              cairo_rectangle (cr, 0, y, 4, m.row);
              cairo_fill (cr);
            }
          /* Phase bracket in the margin, labelled where a phase starts
           * (compact: the colour only, the name in the row's tooltip). */
          if (ev->phase != TS_PHASE_NONE)
            {
              const TsTimelineEvent *prev = i > 0 ? ts_step_list_get_event (list, i - 1) : NULL;
              GdkRGBA pc;
              _ts_phase_color (&pal, ev->phase, &pc);
              set_rgba (cr, &pc, 0.9);
              cairo_rectangle (cr, m.time_w - m.line * 0.6, y + 1, m.line * 0.25, m.row - 2);
              cairo_fill (cr);
              if (!m.compact && (prev == NULL || prev->phase != ev->phase || r == first))
                {
                  set_rgba (cr, &pc, 1);
                  draw_text (cr, self->small, ts_phase_to_string (ev->phase), 8, y + m.row * 0.72,
                             m.time_w - m.line - 8, FALSE);
                  phase_label = TRUE;
                }
            }
          /* A reply says how long its round trip took, under its time. */
          {
            guint64 rtt = phase_label ? 0
                          : folded
                              ? MAX (ts_step_list_get_event (list, i + 1)->time_ns - ev->time_ns, 1)
                              : round_trip (list, i);
            if (rtt > 0)
              {
                char rbuf[48];
                g_snprintf (rbuf, sizeof rbuf, m.compact ? "↻ %.3f" : "↻ %.3f ms", rtt / 1e6);
                set_rgba (cr, &pal.accent, alpha);
                draw_text (cr, self->small, rbuf, 8, y + m.row * 0.72, m.time_w - m.line * 0.6 - 10,
                           FALSE);
              }
          }
          text = row_text (self, list, i, reader, t0, m.compact,
                           folded ? "TCP handshake (SYN, SYN-ACK)" : NULL);
          set_rgba (cr, &pal.fg, 0.6);
          show_layout (cr, text->time, 8, y + m.row * 0.3, FALSE);

          _ts_layer_color (&pal, ev->layer, ev->anomaly, &color);
          if (!readable)
            color = pal.fg;
          set_rgba (cr, &color, alpha);
          cairo_set_line_width (cr, current ? 2.5 : 1.5);
          /* The label: over its arrow, or beside a node's own dot, in the
           * row's free space; never into the time column or the tunnel
           * marker, ellipsized to its room. */
          {
            double lo, hi, pad, anchor, lx, ly, room;
            int align, lw;

            if (cs >= 0 && cd >= 0 && cs != cd)
              {
                double x1 = column_x (self, &m, w, cs), x2 = column_x (self, &m, w, cd);
                if (ev->encrypted && !ev->decrypted)
                  {
                    double dash[] = { 6, 3 };
                    cairo_set_dash (cr, dash, 2, 0);
                  }
                if (ev->stops_at >= 0)
                  _ts_draw_stop (cr, x1, mid, x2, mid, m.line * 0.35);
                else
                  _ts_draw_arrow (cr, x1, mid, x2, mid, m.line * 0.6);
                if (folded)
                  {
                    /* The answer comes back: a head at the sender too. */
                    _ts_draw_arrow (cr, x2, mid, x1, mid, m.line * 0.6);
                  }
                cairo_set_dash (cr, NULL, 0, 0);
                lo = MIN (x1, x2);
                hi = MAX (x1, x2);
                pad = m.line * 0.25;
                ly = y + m.row * 0.3;
              }
            else
              {
                int c = cs >= 0 ? cs : cd;
                lo = hi = c >= 0 ? column_x (self, &m, w, c) : m.time_w + m.line;
                cairo_arc (cr, lo, mid - m.row * 0.15, m.line * 0.3, 0, 2 * G_PI);
                cairo_fill (cr);
                pad = m.line * 0.7;
                ly = mid - m.row * 0.15;
              }
            /* Whole pixels: a layout's pixel size rounds its width up. */
            room = floor (place_label (lo, hi, text->natural, m.time_w, w - m.tag_w - m.line * 0.3,
                                       pad, &anchor, &align));
            row_text_set_width (text, room);
            pango_layout_get_pixel_size (text->summary, &lw, NULL);
            lx = align == 0 ? anchor - lw / 2.0 : align == 1 ? anchor : anchor - lw;
            set_rgba (cr, &pal.fg, alpha);
            show_layout (cr, text->summary, lx, ly, FALSE);
            /* (Or over the rows above and below it: more than one line.) */
            if (lx < m.time_w - 0.5 || lx + lw > w - m.tag_w + 0.5
                || pango_layout_get_line_count (text->summary) > 1)
              self->drawn_overruns++;
            {
              DrawnLabel d = { (guint)i, room, text->natural };
              g_array_append_val (self->drawn_labels, d);
            }

            /* The tunnel: a marker on every row in its colour, its name
             * once per block, right-aligned on the first row with room for
             * it (beside the label, or under it beside the arrow). */
            if (ev->tunnel >= 0 && (guint)ev->tunnel < ts_timeline_get_n_tunnels (tl))
              {
                const TsTimelineTunnel *t = ts_timeline_get_tunnel (tl, ev->tunnel);
                if (t->mode != TS_TUNNEL_MODE_UNKNOWN)
                  {
                    GdkRGBA tc = tunnel_color (&pal, t->mode);
                    set_rgba (cr, &tc, 0.9 * alpha);
                    cairo_rectangle (cr, w - m.tag_w + m.line * 0.2, y + 1, m.line * 0.3,
                                     m.row - 2);
                    cairo_fill (cr);
                    /* (Not on a row half under the pinned header.) */
                    if (ev->tunnel != tag_shown && y >= m.header - 1)
                      {
                        int ww, wh;
                        double wx;
                        pango_layout_set_text (self->small, ts_tunnel_mode_to_string (t->mode), -1);
                        pango_layout_set_width (self->small, -1);
                        pango_layout_get_pixel_size (self->small, &ww, &wh);
                        wx = w - m.tag_w - m.line * 0.3 - ww;
                        if (wx >= lx + lw + m.line * 0.6 && wx > m.time_w)
                          {
                            cairo_move_to (cr, wx, ly - wh / 2.0);
                            tag_shown = ev->tunnel;
                          }
                        else if (wx >= hi + pad + m.line * 0.4 && wx > m.time_w)
                          {
                            cairo_move_to (cr, wx, mid - wh / 2.0);
                            tag_shown = ev->tunnel;
                          }
                        if (tag_shown == ev->tunnel)
                          {
                            set_rgba (cr, &tc, alpha);
                            pango_cairo_show_layout (cr, self->small);
                          }
                      }
                  }
              }
          }
        }
    }
  else
    {
      set_rgba (cr, &pal.fg, 0.55);
      draw_text (cr, self->layout,
                 ts_session_get_live (self->session) ? "Waiting for the lab's first events…"
                                                     : "No events",
                 w / 2.0, m.header + m.row, w - 2 * m.line, TRUE);
    }

  /* The pinned header: node names over their columns. */
  cairo_set_source_rgba (cr, pal.bg.red, pal.bg.green, pal.bg.blue, 1);
  cairo_rectangle (cr, 0, 0, w, m.header);
  cairo_fill (cr);
  set_rgba (cr, &pal.dim, 1);
  cairo_move_to (cr, 0, m.header - 0.5);
  cairo_line_to (cr, w, m.header - 0.5);
  cairo_stroke (cr);
  for (guint c = 0; c < self->columns->len; c++)
    {
      guint id = g_array_index (self->columns, guint, c);
      const TsTimelineNode *node = ts_timeline_get_node (tl, id);
      double x = column_x (self, &m, w, c);
      double cw
          = MAX (w - m.time_w - m.tag_w - m.line * 2, 100) / (double)MAX (self->columns->len, 1)
            - m.line * 0.5;
      gboolean as_this = reader == (int)id;

      if (as_this)
        {
          set_rgba (cr, &pal.accent, 0.25);
          cairo_rectangle (cr, x - cw / 2, 2, cw, m.header - 4);
          cairo_fill (cr);
        }
      set_rgba (cr, &pal.fg, 1);
      pango_layout_set_attributes (self->layout, NULL);
      {
        PangoAttrList *attrs = pango_attr_list_new ();
        pango_attr_list_insert (attrs, pango_attr_weight_new (PANGO_WEIGHT_BOLD));
        pango_layout_set_attributes (self->layout, attrs);
        pango_attr_list_unref (attrs);
      }
      draw_text (cr, self->layout, node->name, x, m.header * 0.36, cw, TRUE);
      pango_layout_set_attributes (self->layout, NULL);
      set_rgba (cr, &pal.fg, 0.6);
      /* Under the name: the role, or the address where the name says it. */
      {
        const char *role = ts_step_list_node_role (list, id);
        g_autofree char *sub = g_strdup (role);
        if (g_str_equal (role, node->name) && node->addresses && node->addresses->len > 0)
          {
            /* The first address on each side: a proxy's client-side one,
             * then its server-side one (the topology shows them all). */
            const char *left = NULL, *right = NULL;
            for (guint k = 0; k < node->addresses->len; k++)
              {
                const char *a = node->addresses->pdata[k];
                gint side = ts_step_list_address_side (list, id, a);
                gboolean is_right = side >= 0 && column_of (self, side) > (int)c;
                if (is_right && right == NULL)
                  right = a;
                else if (!is_right && left == NULL)
                  left = a;
              }
            g_free (sub);
            sub = left && right ? g_strdup_printf ("%s · %s", left, right)
                                : g_strdup (left ? left : right);
          }
        draw_text (cr, self->small, sub, x, m.header * 0.72, cw, TRUE);
      }
    }
  set_rgba (cr, &pal.fg, 0.6);
  draw_text (cr, self->small, m.compact ? "ms" : "time", 8, m.header * 0.72, m.time_w, FALSE);
}

static void
ts_ladder_view_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  cairo_t *cr;

  if (w <= 0 || h <= 0)
    return;
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
  ladder_draw (widget, cr, w, h);
  cairo_destroy (cr);
}

gboolean
ts_ladder_view_export (TsLadderView *self, const char *path, GError **error)
{
  TsPalette pal;
  int w, h;

  g_return_val_if_fail (TS_IS_LADDER_VIEW (self), FALSE);
  w = gtk_widget_get_width (GTK_WIDGET (self));
  h = gtk_widget_get_height (GTK_WIDGET (self));
  _ts_palette_init (&pal, GTK_WIDGET (self));
  return _ts_export (path, w > 0 ? w : 1200, h > 0 ? h : 800, &pal.bg, ladder_draw, self, error);
}

/* A row's tooltip: its whole label, its time, phase and tunnel (what a
 * compact ladder shows as colour only). */
static gboolean
on_query_tooltip (TsLadderView *self, int x, int y, gboolean keyboard, GtkTooltip *tooltip)
{
  Metrics m;
  double value = self->vadjustment ? gtk_adjustment_get_value (self->vadjustment) : 0;
  TsStepList *list;
  const TsTimeline *tl;
  const TsTimelineEvent *ev;
  g_autofree char *summary = NULL;
  g_autoptr (GString) text = NULL;
  int row, i;

  if (self->session == NULL || keyboard)
    return FALSE;
  metrics (self, &m, gtk_widget_get_width (GTK_WIDGET (self)));
  if (y < m.header)
    return FALSE;
  row = (int)floor ((y - m.header + value) / m.row);
  if (row < 0 || row >= (int)n_rows (self))
    return FALSE;
  list = ts_session_get_step_list (self->session);
  tl = ts_step_list_get_timeline (list);
  i = (int)row_first_step (self, (guint)row);
  ev = ts_step_list_get_event (list, i);
  summary = row_n_steps (self, (guint)row) > 1
                ? g_strdup ("TCP handshake (SYN, SYN-ACK)")
                : ts_step_list_dup_summary_as (list, i, ts_session_get_reader (self->session));
  text = g_string_new (summary);
  g_string_append_printf (text, "\n%.3f ms",
                          (double)(ev->time_ns - ts_step_list_get_origin_ns (list)) / 1e6);
  if (ev->phase != TS_PHASE_NONE)
    g_string_append_printf (text, " · %s", ts_phase_to_string (ev->phase));
  if (ev->tunnel >= 0 && (guint)ev->tunnel < ts_timeline_get_n_tunnels (tl)
      && ts_timeline_get_tunnel (tl, ev->tunnel)->mode != TS_TUNNEL_MODE_UNKNOWN)
    g_string_append_printf (
        text, " · tunnel %s",
        ts_tunnel_mode_to_string (ts_timeline_get_tunnel (tl, ev->tunnel)->mode));
  gtk_tooltip_set_text (tooltip, text->str);
  gtk_tooltip_set_tip_area (tooltip,
                            &(GdkRectangle){ 0, (int)(m.header + row * m.row - value),
                                             gtk_widget_get_width (GTK_WIDGET (self)), m.row });
  return TRUE;
}

static void
on_click (GtkGestureClick *gesture, int n_press, double x, double y, TsLadderView *self)
{
  Metrics m;
  double value = self->vadjustment ? gtk_adjustment_get_value (self->vadjustment) : 0;
  int row;

  gtk_widget_grab_focus (GTK_WIDGET (self));
  if (self->session == NULL)
    return;
  metrics (self, &m, gtk_widget_get_width (GTK_WIDGET (self)));
  if (y < m.header)
    return;
  row = (int)floor ((y - m.header + value) / m.row);
  if (row >= 0 && row < (int)n_rows (self))
    {
      ts_session_set_playing (self->session, FALSE);
      ts_session_set_step (self->session, (int)row_first_step (self, row));
    }
}

static void
ts_ladder_view_css_changed (GtkWidget *widget, GtkCssStyleChange *change)
{
  TsLadderView *self = TS_LADDER_VIEW (widget);

  GTK_WIDGET_CLASS (ts_ladder_view_parent_class)->css_changed (widget, change);
  /* Fonts may have changed (large text): new layouts, new metrics. */
  g_clear_object (&self->layout);
  g_clear_object (&self->small);
  self->layout = gtk_widget_create_pango_layout (widget, NULL);
  self->small = gtk_widget_create_pango_layout (widget, NULL);
  forget_row_text (self);
  gtk_widget_queue_resize (widget);
}

static void
ts_ladder_view_dispose (GObject *object)
{
  TsLadderView *self = TS_LADDER_VIEW (object);

  ts_ladder_view_set_session (self, NULL);
  set_adjustment (self, &self->hadjustment, NULL);
  set_adjustment (self, &self->vadjustment, NULL);
  g_clear_object (&self->layout);
  g_clear_object (&self->small);
  g_clear_pointer (&self->row_text, g_hash_table_unref);
  G_OBJECT_CLASS (ts_ladder_view_parent_class)->dispose (object);
}

static void
ts_ladder_view_finalize (GObject *object)
{
  TsLadderView *self = TS_LADDER_VIEW (object);

  g_clear_pointer (&self->columns, g_array_unref);
  g_clear_pointer (&self->column_of, g_array_unref);
  g_clear_pointer (&self->row_first, g_array_unref);
  g_clear_pointer (&self->row_of_step, g_array_unref);
  g_clear_pointer (&self->drawn_labels, g_array_unref);
  G_OBJECT_CLASS (ts_ladder_view_parent_class)->finalize (object);
}

static void
ts_ladder_view_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  TsLadderView *self = TS_LADDER_VIEW (object);

  switch (prop_id)
    {
      case PROP_SESSION:
        g_value_set_object (value, self->session);
        break;
      case PROP_HADJUSTMENT:
        g_value_set_object (value, self->hadjustment);
        break;
      case PROP_VADJUSTMENT:
        g_value_set_object (value, self->vadjustment);
        break;
      case PROP_HSCROLL_POLICY:
        g_value_set_enum (value, self->hscroll_policy);
        break;
      case PROP_VSCROLL_POLICY:
        g_value_set_enum (value, self->vscroll_policy);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ts_ladder_view_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  TsLadderView *self = TS_LADDER_VIEW (object);

  switch (prop_id)
    {
      case PROP_SESSION:
        ts_ladder_view_set_session (self, g_value_get_object (value));
        break;
      case PROP_HADJUSTMENT:
        set_adjustment (self, &self->hadjustment, g_value_get_object (value));
        break;
      case PROP_VADJUSTMENT:
        set_adjustment (self, &self->vadjustment, g_value_get_object (value));
        break;
      case PROP_HSCROLL_POLICY:
        self->hscroll_policy = g_value_get_enum (value);
        break;
      case PROP_VSCROLL_POLICY:
        self->vscroll_policy = g_value_get_enum (value);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ts_ladder_view_class_init (TsLadderViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ts_ladder_view_dispose;
  object_class->finalize = ts_ladder_view_finalize;
  object_class->get_property = ts_ladder_view_get_property;
  object_class->set_property = ts_ladder_view_set_property;
  widget_class->snapshot = ts_ladder_view_snapshot;
  widget_class->measure = ts_ladder_view_measure;
  widget_class->size_allocate = ts_ladder_view_size_allocate;
  widget_class->css_changed = ts_ladder_view_css_changed;

  properties[PROP_SESSION] = g_param_spec_object ("session", NULL, NULL, TS_TYPE_SESSION,
                                                  G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
  g_object_class_override_property (object_class, PROP_HADJUSTMENT, "hadjustment");
  g_object_class_override_property (object_class, PROP_VADJUSTMENT, "vadjustment");
  g_object_class_override_property (object_class, PROP_HSCROLL_POLICY, "hscroll-policy");
  g_object_class_override_property (object_class, PROP_VSCROLL_POLICY, "vscroll-policy");

  gtk_widget_class_set_css_name (widget_class, "ladderview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
ts_ladder_view_init (TsLadderView *self)
{
  GtkGesture *click = gtk_gesture_click_new ();

  self->columns = g_array_new (FALSE, FALSE, sizeof (guint));
  self->column_of = g_array_new (FALSE, TRUE, sizeof (gint));
  self->drawn_first = self->drawn_last = -1;
  self->fold = TRUE;
  self->row_text = g_hash_table_new_full (NULL, NULL, NULL, row_text_free);
  self->drawn_labels = g_array_new (FALSE, FALSE, sizeof (DrawnLabel));
  self->layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), NULL);
  self->small = gtk_widget_create_pango_layout (GTK_WIDGET (self), NULL);
  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);
  gtk_widget_set_has_tooltip (GTK_WIDGET (self), TRUE);
  g_signal_connect (self, "query-tooltip", G_CALLBACK (on_query_tooltip), NULL);
  gtk_widget_set_overflow (GTK_WIDGET (self), GTK_OVERFLOW_HIDDEN);
  g_signal_connect (click, "pressed", G_CALLBACK (on_click), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (click));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Ladder diagram", -1);
}

GtkWidget *
ts_ladder_view_new (TsSession *session)
{
  return g_object_new (TS_TYPE_LADDER_VIEW, "session", session, NULL);
}

TsSession *
ts_ladder_view_get_session (TsLadderView *self)
{
  g_return_val_if_fail (TS_IS_LADDER_VIEW (self), NULL);
  return self->session;
}

void
ts_ladder_view_set_session (TsLadderView *self, TsSession *session)
{
  g_return_if_fail (TS_IS_LADDER_VIEW (self));
  if (self->session == session)
    return;
  if (self->session)
    g_signal_handlers_disconnect_by_data (self->session, self);
  g_set_object (&self->session, session);
  if (session)
    {
      g_signal_connect_swapped (session, "notify::step", G_CALLBACK (on_step), self);
      g_signal_connect_swapped (session, "notify::as", G_CALLBACK (on_redraw), self);
      g_signal_connect_swapped (session, "notify::highlights", G_CALLBACK (gtk_widget_queue_draw),
                                self);
      g_signal_connect_swapped (session, "notify::live", G_CALLBACK (on_redraw), self);
      g_signal_connect_swapped (session, "reset", G_CALLBACK (on_reset), self);
      g_signal_connect_swapped (session, "steps-added", G_CALLBACK (on_steps_added), self);
    }
  on_reset (self);
  on_step (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SESSION]);
}

void
ts_ladder_view_get_drawn_range (TsLadderView *self, int *out_first, int *out_last)
{
  g_return_if_fail (TS_IS_LADDER_VIEW (self));
  *out_first = self->drawn_first;
  *out_last = self->drawn_last;
}

int
ts_ladder_view_get_row_height (TsLadderView *self)
{
  Metrics m;

  g_return_val_if_fail (TS_IS_LADDER_VIEW (self), 0);
  metrics (self, &m, gtk_widget_get_width (GTK_WIDGET (self)));
  return m.row;
}

void
ts_ladder_view_set_fold (TsLadderView *self, gboolean fold)
{
  g_return_if_fail (TS_IS_LADDER_VIEW (self));
  fold = !!fold;
  if (self->fold == fold)
    return;
  self->fold = fold;
  forget_row_text (self);
  rebuild_rows (self);
  configure_adjustments (self);
  scroll_to_step (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

gboolean
ts_ladder_view_get_fold (TsLadderView *self)
{
  g_return_val_if_fail (TS_IS_LADDER_VIEW (self), FALSE);
  return self->fold;
}

guint
ts_ladder_view_get_n_rows (TsLadderView *self)
{
  g_return_val_if_fail (TS_IS_LADDER_VIEW (self), 0);
  return n_rows (self);
}

guint
ts_ladder_view_get_drawn_overruns (TsLadderView *self)
{
  g_return_val_if_fail (TS_IS_LADDER_VIEW (self), 0);
  return self->drawn_overruns;
}

gboolean
ts_ladder_view_get_drawn_label (TsLadderView *self, guint step, double *out_room, int *out_needed)
{
  g_return_val_if_fail (TS_IS_LADDER_VIEW (self), FALSE);
  for (guint k = 0; k < self->drawn_labels->len; k++)
    {
      const DrawnLabel *d = &g_array_index (self->drawn_labels, DrawnLabel, k);
      if (d->step == step)
        {
          if (out_room)
            *out_room = d->room;
          if (out_needed)
            *out_needed = d->needed;
          return TRUE;
        }
    }
  return FALSE;
}
