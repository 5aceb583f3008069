/* ts-topology-view.c: nodes, links, capture points, the travelling step.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "ts-topology-view.h"

#include <math.h>

#include "ts-draw-private.h"
#include "ts-timeline-render.h"

/* How long the current step takes to travel along its link. */
#define TRAVEL_US (600 * 1000)
/* Nodes per row before the layout wraps (a foreign trace may hold many). */
#define MAX_PER_ROW 6

struct _TsTopologyView
{
  GtkWidget parent_instance;

  TsSession *session;
  GArray *order;   /* guint node ids in layout order */
  GArray *slot_of; /* gint: node id -> slot */
  guint tick_id;
  gint64 travel_start;
  double travel; /* 0..1 */
  PangoLayout *layout;
  PangoLayout *small;
};

enum
{
  PROP_0,
  PROP_SESSION,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (TsTopologyView, ts_topology_view, GTK_TYPE_WIDGET)

typedef struct
{
  int line;
  double box_w, box_h;
} Metrics;

static void
metrics (TsTopologyView *self, Metrics *m)
{
  m->line = _ts_font_height (GTK_WIDGET (self));
  m->box_w = m->line * 6.5;
  m->box_h = m->line * 4.2;
}

/* The drawing grows with the widget (a projected window is mostly
 * topology), up to twice its natural size. */
static double
view_scale (TsTopologyView *self, const Metrics *m)
{
  int w = gtk_widget_get_width (GTK_WIDGET (self)), h = gtk_widget_get_height (GTK_WIDGET (self));
  int n = MAX ((int)self->order->len, 1);
  int per_row = MIN (n, MAX_PER_ROW), rows = (n + per_row - 1) / per_row;
  double sw = w / (per_row * (m->box_w + m->line * 10.0));
  double sh = h / (rows * (m->box_h + m->line * 12.0));

  return CLAMP (MIN (sw, sh), 1.0, 2.0);
}

static gboolean
slot_position (TsTopologyView *self, const Metrics *m, int slot, double *x, double *y)
{
  double scale = view_scale (self, m);
  double w = gtk_widget_get_width (GTK_WIDGET (self)) / scale;
  double h = gtk_widget_get_height (GTK_WIDGET (self)) / scale;
  int n = (int)self->order->len;
  int per_row = MIN (n, MAX_PER_ROW), rows;
  int row, col, in_row;

  if (slot < 0 || slot >= n)
    return FALSE;
  rows = (n + per_row - 1) / per_row;
  row = slot / per_row;
  col = slot % per_row;
  in_row = MIN (per_row, n - row * per_row);
  *x = w * (col + 0.5) / in_row;
  *y = h * (row + 0.45) / rows;
  return TRUE;
}

static gboolean
node_position (TsTopologyView *self, const Metrics *m, int node, double *x, double *y)
{
  if (node < 0 || (guint)node >= self->slot_of->len)
    return FALSE;
  return slot_position (self, m, g_array_index (self->slot_of, gint, node), x, y);
}

static void
rebuild (TsTopologyView *self)
{
  const TsTimeline *tl;

  g_clear_pointer (&self->order, g_array_unref);
  g_array_set_size (self->slot_of, 0);
  if (self->session == NULL)
    {
      self->order = g_array_new (FALSE, FALSE, sizeof (guint));
      return;
    }
  tl = ts_step_list_get_timeline (ts_session_get_step_list (self->session));
  self->order = _ts_node_order (tl);
  g_array_set_size (self->slot_of, ts_timeline_get_n_nodes (tl));
  for (guint i = 0; i < self->slot_of->len; i++)
    g_array_index (self->slot_of, gint, i) = -1; /* not drawn (merged) */
  for (guint i = 0; i < self->order->len; i++)
    g_array_index (self->slot_of, gint, g_array_index (self->order, guint, i)) = (gint)i;
}

static gboolean
tick (GtkWidget *widget, GdkFrameClock *clock, gpointer user_data)
{
  TsTopologyView *self = TS_TOPOLOGY_VIEW (widget);
  gint64 now = gdk_frame_clock_get_frame_time (clock);

  if (self->travel_start == 0)
    self->travel_start = now;
  self->travel = MIN (1.0, (double)(now - self->travel_start) / TRAVEL_US);
  gtk_widget_queue_draw (widget);
  if (self->travel >= 1.0)
    {
      self->tick_id = 0;
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static void
on_step (TsTopologyView *self)
{
  int step = self->session ? ts_session_get_step (self->session) : -1;
  g_autofree char *text = NULL;

  if (step >= 0)
    text = ts_step_list_dup_summary_as (ts_session_get_step_list (self->session), step,
                                        ts_session_get_reader (self->session));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  text ? text : "No step", -1);
  /* Animate only where animations are on and someone is watching. */
  if (gtk_widget_get_mapped (GTK_WIDGET (self)))
    {
      gboolean animate = TRUE;
      g_object_get (gtk_widget_get_settings (GTK_WIDGET (self)), "gtk-enable-animations", &animate,
                    NULL);
      if (animate)
        {
          self->travel = 0;
          self->travel_start = 0;
          if (self->tick_id == 0)
            self->tick_id = gtk_widget_add_tick_callback (GTK_WIDGET (self), tick, NULL, NULL);
        }
      else
        self->travel = 1.0;
    }
  else
    self->travel = 1.0;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
on_reset (TsTopologyView *self)
{
  rebuild (self);
  gtk_widget_queue_resize (GTK_WIDGET (self));
  on_step (self);
}

static void
set_rgba (cairo_t *cr, const GdkRGBA *c, double alpha)
{
  cairo_set_source_rgba (cr, c->red, c->green, c->blue, c->alpha * alpha);
}

static void
draw_text (cairo_t *cr, PangoLayout *layout, const char *text, double x, double y, double max_w)
{
  int w, h;

  pango_layout_set_text (layout, text, -1);
  pango_layout_set_width (layout, max_w > 0 ? (int)(max_w * PANGO_SCALE) : -1);
  pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
  pango_layout_set_alignment (layout, PANGO_ALIGN_CENTER);
  pango_layout_get_pixel_size (layout, &w, &h);
  cairo_move_to (cr, max_w > 0 ? x - max_w / 2 : x - w / 2.0, y - h / 2.0);
  pango_cairo_show_layout (cr, layout);
}

/* Draws @text (lines) with its top at @top, aligned within @max_w: right
 * aligned it ends at @x, left aligned it starts there, centred it is
 * centred on it. Returns its height. */
static int
draw_text_aligned (cairo_t *cr, PangoLayout *layout, const char *text, double x, double top,
                   double max_w, PangoAlignment align)
{
  int h;

  pango_layout_set_text (layout, text, -1);
  pango_layout_set_width (layout, (int)(max_w * PANGO_SCALE));
  pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
  pango_layout_set_alignment (layout, align);
  pango_layout_get_pixel_size (layout, NULL, &h);
  cairo_move_to (cr,
                 align == PANGO_ALIGN_RIGHT  ? x - max_w
                 : align == PANGO_ALIGN_LEFT ? x
                                             : x - max_w / 2,
                 top);
  pango_cairo_show_layout (cr, layout);
  return h;
}

static void
rounded_rect (cairo_t *cr, double x, double y, double w, double h, double r)
{
  cairo_new_sub_path (cr);
  cairo_arc (cr, x + w - r, y + r, r, -G_PI / 2, 0);
  cairo_arc (cr, x + w - r, y + h - r, r, 0, G_PI / 2);
  cairo_arc (cr, x + r, y + h - r, r, G_PI / 2, G_PI);
  cairo_arc (cr, x + r, y + r, r, G_PI, 3 * G_PI / 2);
  cairo_close_path (cr);
}

/* A role glyph centred on (x, y), @s pixels tall: a laptop for a client, a
 * relay box with crossing arrows for a proxy, a stacked rack for a server, a
 * plain host otherwise. */
static void
draw_role_icon (cairo_t *cr, const char *role, double x, double y, double s)
{
  cairo_set_line_width (cr, MAX (1.5, s / 14));
  if (g_str_equal (role, "client"))
    {
      rounded_rect (cr, x - s * 0.5, y - s * 0.45, s, s * 0.65, s * 0.06);
      cairo_stroke (cr);
      cairo_move_to (cr, x - s * 0.65, y + s * 0.35);
      cairo_line_to (cr, x + s * 0.65, y + s * 0.35);
      cairo_stroke (cr);
    }
  else if (g_str_equal (role, "proxy"))
    {
      rounded_rect (cr, x - s * 0.5, y - s * 0.45, s, s * 0.9, s * 0.12);
      cairo_stroke (cr);
      _ts_draw_arrow (cr, x - s * 0.35, y - s * 0.15, x + s * 0.35, y - s * 0.15, s * 0.22);
      _ts_draw_arrow (cr, x + s * 0.35, y + s * 0.18, x - s * 0.35, y + s * 0.18, s * 0.22);
    }
  else if (g_str_equal (role, "server"))
    {
      for (int k = 0; k < 3; k++)
        {
          double top = y - s * 0.45 + k * s * 0.31;
          rounded_rect (cr, x - s * 0.45, top, s * 0.9, s * 0.25, s * 0.05);
          cairo_stroke (cr);
          cairo_arc (cr, x + s * 0.3, top + s * 0.125, s * 0.04, 0, 2 * G_PI);
          cairo_fill (cr);
        }
    }
  else
    {
      cairo_arc (cr, x, y, s * 0.42, 0, 2 * G_PI);
      cairo_stroke (cr);
      cairo_move_to (cr, x - s * 0.42, y);
      cairo_line_to (cr, x + s * 0.42, y);
      cairo_stroke (cr);
      cairo_save (cr);
      cairo_scale (cr, 0.45, 1);
      cairo_arc (cr, x / 0.45, y, s * 0.42, 0, 2 * G_PI);
      cairo_restore (cr);
      cairo_stroke (cr);
    }
}

/* Where the segment between two boxes leaves box A and enters box B. */
static void
box_edges (const Metrics *m, double ax, double ay, double bx, double by, double *x1, double *y1,
           double *x2, double *y2)
{
  double dx = bx - ax, dy = by - ay, len = hypot (dx, dy);
  double tx, ty, t;

  if (len < 1)
    {
      *x1 = *x2 = ax;
      *y1 = *y2 = ay;
      return;
    }
  tx = dx != 0 ? (m->box_w / 2 + 4) / fabs (dx) : G_MAXDOUBLE;
  ty = dy != 0 ? (m->box_h / 2 + 4) / fabs (dy) : G_MAXDOUBLE;
  t = MIN (MIN (tx, ty), 0.45);
  *x1 = ax + dx * t;
  *y1 = ay + dy * t;
  *x2 = bx - dx * t;
  *y2 = by - dy * t;
}

static void
draw_tunnel (TsTopologyView *self, cairo_t *cr, const Metrics *m, const TsPalette *pal,
             const TsTimeline *tl, const TsTimelineTunnel *t)
{
  g_autoptr (GArray) path = g_array_new (FALSE, FALSE, sizeof (gint));
  GdkRGBA relay = pal->dark ? (GdkRGBA){ 0.38, 0.63, 0.92, 1 } : (GdkRGBA){ 0.10, 0.37, 0.71, 1 };
  GdkRGBA intercept
      = pal->dark ? (GdkRGBA){ 0.97, 0.38, 0.32, 1 } : (GdkRGBA){ 0.75, 0.11, 0.16, 1 };
  gboolean broken = FALSE;
  double lx = 0, ly = 0, first_x = -1;
  const char *label;

  g_array_append_val (path, t->client);
  for (guint i = 0; i < t->proxies->len; i++)
    g_array_append_val (path, g_array_index (t->proxies, gint, i));
  if (t->server >= 0)
    g_array_append_val (path, t->server);
  /* One stroke per stretch of the same TLS session: the whole path for a
   * relay; for interception, the client's session up to the proxy, then a
   * dashed one, the proxy's own, beyond it. */
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_width (cr, m->line * 1.1);
  set_rgba (cr, t->mode == TS_TUNNEL_MODE_INTERCEPT ? &intercept : &relay, 0.28);
  for (guint i = 0; i < path->len; i++)
    {
      double x, y;
      int node = g_array_index (path, gint, i);

      if (!node_position (self, m, node, &x, &y))
        continue;
      y += m->box_h / 2 + m->line * 3.8;
      if (i == 0 || !cairo_has_current_point (cr))
        cairo_move_to (cr, x, y);
      else
        cairo_line_to (cr, x, y);
      if (first_x < 0)
        first_x = x;
      lx = (first_x + x) / 2;
      ly = y;
      if (t->mode == TS_TUNNEL_MODE_INTERCEPT && node == t->intercepting_proxy && !broken)
        {
          double dash[] = { m->line * 0.6, m->line * 0.5 };
          cairo_stroke (cr);
          cairo_set_dash (cr, dash, 2, 0);
          cairo_set_line_cap (cr, CAIRO_LINE_CAP_BUTT);
          cairo_move_to (cr, x, y);
          broken = TRUE;
        }
    }
  cairo_stroke (cr);
  cairo_set_dash (cr, NULL, 0, 0);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_BUTT);
  if (t->mode == TS_TUNNEL_MODE_INTERCEPT)
    label = "tunnel: intercepted (TLS ends at the proxy)";
  else if (t->mode == TS_TUNNEL_MODE_RELAY)
    label = "tunnel: relayed (TLS end to end)";
  else
    label = "tunnel";
  if (lx > 0)
    {
      set_rgba (cr, t->mode == TS_TUNNEL_MODE_INTERCEPT ? &intercept : &relay, 1);
      draw_text (cr, self->small, label, lx, ly + m->line * 1.3, m->box_w * 3);
    }
}

static void
topology_draw (gpointer data, cairo_t *cr, int w, int h)
{
  TsTopologyView *self = data;
  GtkWidget *widget = GTK_WIDGET (self);
  TsStepList *list;
  const TsTimeline *tl;
  const TsTimelineEvent *ev = NULL;
  TsPalette pal;
  Metrics m;
  int step, reader;

  if (self->session == NULL || w <= 0 || h <= 0)
    return;
  list = ts_session_get_step_list (self->session);
  tl = ts_step_list_get_timeline (list);
  step = ts_session_get_step (self->session);
  reader = ts_session_get_reader (self->session);
  ev = step >= 0 ? ts_step_list_get_event (list, step) : NULL;
  _ts_palette_init (&pal, widget);
  metrics (self, &m);
  pango_cairo_update_layout (cr, self->layout);
  pango_cairo_update_layout (cr, self->small);
  {
    /* Draw in logical units: scaled up to fill a large window. */
    double scale = view_scale (self, &m);
    cairo_scale (cr, scale, scale);
    w = (int)(w / scale);
    h = (int)(h / scale);
  }

  if (self->order->len == 0)
    {
      set_rgba (cr, &pal.fg, 0.55);
      draw_text (cr, self->layout, "No nodes yet", w / 2.0, h / 2.0, w);
      return;
    }

  /* Links, their names and capture points. */
  for (guint i = 0; i < ts_timeline_get_n_links (tl); i++)
    {
      const TsTimelineLink *l = ts_timeline_get_link (tl, i);
      const char *captured = ts_step_list_get_captured_end (list, l->name);
      double ax, ay, bx, by, x1, y1, x2, y2, cx, cy;
      gboolean current = ev != NULL && ev->link == (int)i;

      if (!node_position (self, &m, l->a, &ax, &ay) || !node_position (self, &m, l->b, &bx, &by))
        continue;
      box_edges (&m, ax, ay, bx, by, &x1, &y1, &x2, &y2);
      /* A link that carries a lesson's highlighted events: a warm band under it. */
      {
        guint n_marks = 0;
        const guint32 *marks = ts_session_get_highlights (self->session, &n_marks);
        gboolean marked = FALSE;

        for (guint k = 0; k < n_marks && !marked; k++)
          marked = marks[k] < ts_timeline_get_n_events (tl)
                   && ts_timeline_get_event (tl, marks[k])->link == (int)i;
        if (marked)
          {
            GdkRGBA warm
                = pal.dark ? (GdkRGBA){ 0.96, 0.76, 0.07, 1 } : (GdkRGBA){ 0.90, 0.65, 0.04, 1 };
            set_rgba (cr, &warm, 0.45);
            cairo_set_line_width (cr, m.line * 0.7);
            cairo_move_to (cr, x1, y1);
            cairo_line_to (cr, x2, y2);
            cairo_stroke (cr);
          }
      }
      set_rgba (cr, current ? &pal.accent : &pal.fg, current ? 1 : 0.45);
      cairo_set_line_width (cr, current ? 3 : 2);
      cairo_move_to (cr, x1, y1);
      cairo_line_to (cr, x2, y2);
      cairo_stroke (cr);
      set_rgba (cr, &pal.fg, 0.7);
      draw_text (cr, self->small, l->name, (x1 + x2) / 2, (y1 + y2) / 2 + m.line * 2.0,
                 fabs (x2 - x1));
      /* The capture point: a tap on the captured end's side of the link. */
      if (captured && ts_timeline_find_node (tl, captured) == l->b)
        cx = x2 + (x1 - x2) * 0.2, cy = y2 + (y1 - y2) * 0.2;
      else if (captured)
        cx = x1 + (x2 - x1) * 0.2, cy = y1 + (y2 - y1) * 0.2;
      else
        cx = (x1 + x2) / 2, cy = (y1 + y2) / 2;
      set_rgba (cr, &pal.bg, 1);
      cairo_arc (cr, cx, cy, m.line * 0.38, 0, 2 * G_PI);
      cairo_fill (cr);
      set_rgba (cr, &pal.fg, 0.8);
      cairo_set_line_width (cr, 1.5);
      cairo_arc (cr, cx, cy, m.line * 0.38, 0, 2 * G_PI);
      cairo_stroke (cr);
      cairo_arc (cr, cx, cy, m.line * 0.16, 0, 2 * G_PI);
      cairo_fill (cr);
      set_rgba (cr, &pal.fg, 0.55);
      draw_text (cr, self->small, "capture", cx, cy + m.line * 0.95, m.line * 5);
    }

  /* The tunnel of the current step, through its proxies. */
  if (ev != NULL && ev->tunnel >= 0 && (guint)ev->tunnel < ts_timeline_get_n_tunnels (tl))
    draw_tunnel (self, cr, &m, &pal, tl, ts_timeline_get_tunnel (tl, ev->tunnel));

  /* Nodes. */
  for (guint s = 0; s < self->order->len; s++)
    {
      guint id = g_array_index (self->order, guint, s);
      const TsTimelineNode *node = ts_timeline_get_node (tl, id);
      const char *role = ts_step_list_node_role (list, id);
      gboolean involved
          = ev != NULL && (ev->src == (int)id || ts_timeline_event_arrow_end (ev) == (int)id);
      double x, y;
      g_autoptr (GString) addrs = g_string_new (NULL);
      g_autoptr (GString) left = g_string_new (NULL);
      g_autoptr (GString) right = g_string_new (NULL);
      int addr_h = 0;

      slot_position (self, &m, s, &x, &y);
      set_rgba (cr, &pal.bg, 1);
      rounded_rect (cr, x - m.box_w / 2, y - m.box_h / 2, m.box_w, m.box_h, m.line * 0.5);
      cairo_fill_preserve (cr);
      if (reader == (int)id)
        {
          set_rgba (cr, &pal.accent, 0.18);
          cairo_fill_preserve (cr);
        }
      set_rgba (cr, involved ? &pal.accent : &pal.fg, involved ? 1 : 0.5);
      cairo_set_line_width (cr, involved || reader == (int)id ? 3 : 1.5);
      cairo_stroke (cr);
      set_rgba (cr, &pal.fg, 0.9);
      draw_role_icon (cr, role, x, y - m.box_h * 0.14, m.line * 1.6);
      set_rgba (cr, &pal.fg, 1);
      draw_text (cr, self->layout, node->name, x, y + m.box_h * 0.3, m.box_w - 6);
      /* Every address, by the side of the node its link is on: a proxy's
       * client-side addresses under its left half, its server-side ones
       * under its right half. */
      for (guint k = 0; node->addresses && k < node->addresses->len; k++)
        {
          const char *a = node->addresses->pdata[k];
          gint side = ts_step_list_address_side (list, id, a);
          double sx, sy;
          GString *to = addrs;
          if (side >= 0 && node_position (self, &m, side, &sx, &sy) && fabs (sx - x) > 1)
            to = sx < x ? left : right;
          g_string_append_printf (to, "%s%s", to->len ? "\n" : "", a);
        }
      set_rgba (cr, &pal.fg, 0.6);
      if (left->len > 0 && right->len > 0)
        {
          /* Two columns, a gap between them. */
          g_string_append_printf (left, "%s%s", addrs->len ? "\n" : "", addrs->str);
          int left_h = draw_text_aligned (cr, self->small, left->str, x - m.line * 0.4,
                                          y + m.box_h / 2 + m.line * 0.3, m.box_w * 0.9,
                                          PANGO_ALIGN_RIGHT);
          int right_h
              = draw_text_aligned (cr, self->small, right->str, x + m.line * 0.4,
                                   y + m.box_h / 2 + m.line * 0.3, m.box_w * 0.9, PANGO_ALIGN_LEFT);
          addr_h = MAX (left_h, right_h);
        }
      else
        {
          g_string_prepend (addrs, left->str);
          g_string_append (addrs, right->str);
          addr_h
              = draw_text_aligned (cr, self->small, addrs->str, x, y + m.box_h / 2 + m.line * 0.3,
                                   m.box_w * 1.6, PANGO_ALIGN_CENTER);
        }
      if (reader == (int)id)
        {
          set_rgba (cr, &pal.accent, 1);
          draw_text (cr, self->small, "(as seen by)", x, y + m.box_h / 2 + m.line * 0.9 + addr_h,
                     m.box_w * 2);
        }
    }

  /* The current step: on its link, a packet travelling from source to
   * destination with its summary; a lab event, as a note on its node. */
  if (ev != NULL)
    {
      g_autofree char *summary = ts_step_list_dup_summary_as (list, step, reader);
      gboolean readable = ts_step_list_can_read (list, step, reader);
      double sx, sy, dx, dy;
      GdkRGBA color;

      _ts_layer_color (&pal, ev->layer, ev->anomaly, &color);
      if (!readable)
        color = pal.fg;
      if (ev->src != ts_timeline_event_arrow_end (ev) && node_position (self, &m, ev->src, &sx, &sy)
          && node_position (self, &m, ts_timeline_event_arrow_end (ev), &dx, &dy))
        {
          double x1, y1, x2, y2, px, py, off = m.line * 1.2;
          box_edges (&m, sx, sy, dx, dy, &x1, &y1, &x2, &y2);
          /* The travelling arrow runs just above the link. */
          y1 -= off;
          y2 -= off;
          set_rgba (cr, &color, readable ? 1 : 0.5);
          cairo_set_line_width (cr, 2.5);
          if (ev->stops_at >= 0)
            _ts_draw_stop (cr, x1, y1, x2, y2, m.line * 0.45);
          else
            _ts_draw_arrow (cr, x1, y1, x2, y2, m.line * 0.7);
          px = x1 + (x2 - x1) * self->travel;
          py = y1 + (y2 - y1) * self->travel;
          cairo_arc (cr, px, py, m.line * 0.45, 0, 2 * G_PI);
          cairo_fill (cr);
          set_rgba (cr, &pal.fg, readable ? 1 : 0.6);
          draw_text (cr, self->layout, summary, (x1 + x2) / 2, (y1 + y2) / 2 - m.line * 1.3,
                     MAX (fabs (x2 - x1) + m.box_w, m.line * 14));
        }
      else if (node_position (self, &m, ev->src >= 0 ? ev->src : ev->dst, &sx, &sy))
        {
          set_rgba (cr, &color, 1);
          draw_text (cr, self->layout, summary, sx, sy - m.box_h / 2 - m.line * 1.8, m.box_w * 3);
        }
      else
        {
          set_rgba (cr, &pal.fg, 0.8);
          draw_text (cr, self->layout, summary, w / 2.0, m.line * 1.2, w - m.line * 2);
        }
      /* A caption for the back of the room: which step, when, which phase. */
      {
        guint64 t0 = ts_step_list_get_origin_ns (list);
        g_autofree char *caption
            = g_strdup_printf ("Step %d of %u · %.3f ms · %s%s%s", step + 1,
                               ts_step_list_get_n_steps (list), (double)(ev->time_ns - t0) / 1e6,
                               readable ? ts_layer_to_string (ev->layer) : "not readable here",
                               ev->phase != TS_PHASE_NONE ? " · " : "",
                               ev->phase != TS_PHASE_NONE ? ts_phase_to_string (ev->phase) : "");
        set_rgba (cr, &pal.fg, 0.7);
        draw_text (cr, self->layout, caption, w / 2.0, h - m.line * 3.2, w - m.line * 2);
        set_rgba (cr, &pal.fg, readable ? 1 : 0.6);
        draw_text (cr, self->layout, summary, w / 2.0, h - m.line * 1.8, w - m.line * 2);
      }
    }
}

static void
ts_topology_view_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  cairo_t *cr;

  if (w <= 0 || h <= 0)
    return;
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
  topology_draw (widget, cr, w, h);
  cairo_destroy (cr);
}

gboolean
ts_topology_view_export (TsTopologyView *self, const char *path, GError **error)
{
  TsPalette pal;
  int w, h;

  g_return_val_if_fail (TS_IS_TOPOLOGY_VIEW (self), FALSE);
  w = gtk_widget_get_width (GTK_WIDGET (self));
  h = gtk_widget_get_height (GTK_WIDGET (self));
  _ts_palette_init (&pal, GTK_WIDGET (self));
  return _ts_export (path, w > 0 ? w : 1200, h > 0 ? h : 700, &pal.bg, topology_draw, self, error);
}

static void
ts_topology_view_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum,
                          int *natural, int *minimum_baseline, int *natural_baseline)
{
  TsTopologyView *self = TS_TOPOLOGY_VIEW (widget);
  Metrics m;
  int n = MAX ((int)self->order->len, 1);
  int per_row = MIN (n, MAX_PER_ROW), rows = (n + per_row - 1) / per_row;

  metrics (self, &m);
  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      *minimum = (int)(per_row * (m.box_w + m.line));
      *natural = (int)(per_row * (m.box_w + m.line * 8));
    }
  else
    {
      *minimum = (int)(rows * (m.box_h + m.line * 6));
      *natural = (int)(rows * (m.box_h + m.line * 10));
    }
}

static void
ts_topology_view_css_changed (GtkWidget *widget, GtkCssStyleChange *change)
{
  TsTopologyView *self = TS_TOPOLOGY_VIEW (widget);

  GTK_WIDGET_CLASS (ts_topology_view_parent_class)->css_changed (widget, change);
  g_clear_object (&self->layout);
  g_clear_object (&self->small);
  self->layout = gtk_widget_create_pango_layout (widget, NULL);
  self->small = gtk_widget_create_pango_layout (widget, NULL);
  {
    PangoAttrList *attrs = pango_attr_list_new ();
    pango_attr_list_insert (attrs, pango_attr_scale_new (0.85));
    pango_layout_set_attributes (self->small, attrs);
    pango_attr_list_unref (attrs);
  }
  gtk_widget_queue_resize (widget);
}

static void
ts_topology_view_dispose (GObject *object)
{
  TsTopologyView *self = TS_TOPOLOGY_VIEW (object);

  ts_topology_view_set_session (self, NULL);
  if (self->tick_id)
    gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->tick_id);
  self->tick_id = 0;
  g_clear_object (&self->layout);
  g_clear_object (&self->small);
  G_OBJECT_CLASS (ts_topology_view_parent_class)->dispose (object);
}

static void
ts_topology_view_finalize (GObject *object)
{
  TsTopologyView *self = TS_TOPOLOGY_VIEW (object);

  g_clear_pointer (&self->order, g_array_unref);
  g_clear_pointer (&self->slot_of, g_array_unref);
  G_OBJECT_CLASS (ts_topology_view_parent_class)->finalize (object);
}

static void
ts_topology_view_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  TsTopologyView *self = TS_TOPOLOGY_VIEW (object);

  switch (prop_id)
    {
      case PROP_SESSION:
        g_value_set_object (value, self->session);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ts_topology_view_set_property (GObject *object, guint prop_id, const GValue *value,
                               GParamSpec *pspec)
{
  TsTopologyView *self = TS_TOPOLOGY_VIEW (object);

  switch (prop_id)
    {
      case PROP_SESSION:
        ts_topology_view_set_session (self, g_value_get_object (value));
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ts_topology_view_class_init (TsTopologyViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ts_topology_view_dispose;
  object_class->finalize = ts_topology_view_finalize;
  object_class->get_property = ts_topology_view_get_property;
  object_class->set_property = ts_topology_view_set_property;
  widget_class->snapshot = ts_topology_view_snapshot;
  widget_class->measure = ts_topology_view_measure;
  widget_class->css_changed = ts_topology_view_css_changed;

  properties[PROP_SESSION] = g_param_spec_object ("session", NULL, NULL, TS_TYPE_SESSION,
                                                  G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
  gtk_widget_class_set_css_name (widget_class, "topologyview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
ts_topology_view_init (TsTopologyView *self)
{
  self->order = g_array_new (FALSE, FALSE, sizeof (guint));
  self->slot_of = g_array_new (FALSE, TRUE, sizeof (gint));
  self->travel = 1.0;
  self->layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), NULL);
  self->small = gtk_widget_create_pango_layout (GTK_WIDGET (self), NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL, "Topology",
                                  -1);
}

GtkWidget *
ts_topology_view_new (TsSession *session)
{
  return g_object_new (TS_TYPE_TOPOLOGY_VIEW, "session", session, NULL);
}

TsSession *
ts_topology_view_get_session (TsTopologyView *self)
{
  g_return_val_if_fail (TS_IS_TOPOLOGY_VIEW (self), NULL);
  return self->session;
}

void
ts_topology_view_set_session (TsTopologyView *self, TsSession *session)
{
  g_return_if_fail (TS_IS_TOPOLOGY_VIEW (self));
  if (self->session == session)
    return;
  if (self->session)
    g_signal_handlers_disconnect_by_data (self->session, self);
  g_set_object (&self->session, session);
  if (session)
    {
      g_signal_connect_swapped (session, "notify::step", G_CALLBACK (on_step), self);
      g_signal_connect_swapped (session, "notify::as", G_CALLBACK (gtk_widget_queue_draw), self);
      g_signal_connect_swapped (session, "notify::highlights", G_CALLBACK (gtk_widget_queue_draw),
                                self);
      g_signal_connect_swapped (session, "reset", G_CALLBACK (on_reset), self);
      g_signal_connect_swapped (session, "steps-added", G_CALLBACK (on_reset), self);
    }
  rebuild (self);
  gtk_widget_queue_resize (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SESSION]);
}

gboolean
ts_topology_view_get_node_position (TsTopologyView *self, guint node, double *out_x, double *out_y)
{
  Metrics m;

  g_return_val_if_fail (TS_IS_TOPOLOGY_VIEW (self), FALSE);
  metrics (self, &m);
  if (!node_position (self, &m, (int)node, out_x, out_y))
    return FALSE;
  *out_x *= view_scale (self, &m);
  *out_y *= view_scale (self, &m);
  return TRUE;
}
