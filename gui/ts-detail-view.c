/* ts-detail-view.c: protocol tree and hex view, linked both ways.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "ts-detail-view.h"

/* Cap: bytes shown in the hex view (a packet is at most this big anyway). */
#define HEX_MAX_BYTES (64 * 1024)
/* Layout of a hex line: "0000  " COLS × "xx " " " COLS × ascii "\n",
 * with COLS 16, or 8 where the view is narrow. */
#define HEX_COLS (self->cols)

struct _TsDetailView
{
  GtkWidget parent_instance;

  GtkListBox *tree;
  GtkTextView *hex;
  TsSession *session;
  GArray *fields; /* TsStepField of the shown step */
  GArray *rows;   /* guint: row index -> field index */
  gsize n_bytes;
  gboolean updating;
  guint hl_offset, hl_len;
  gboolean has_hl;
  guint cols;
  gboolean dirty; /* the step changed while the view was hidden */
};

enum
{
  PROP_0,
  PROP_SESSION,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (TsDetailView, ts_detail_view, GTK_TYPE_WIDGET)

static void
hex_range (TsDetailView *self, GtkTextBuffer *buffer, guint offset, guint len, const char *tag)
{
  guint end = offset + len;

  /* Per line: the hex pairs of the range, then its ASCII column. */
  for (guint b = offset; b < end;)
    {
      GtkTextIter s, e;
      guint line = b / HEX_COLS, first = b % HEX_COLS;
      guint last = MIN (end - line * HEX_COLS, HEX_COLS) - 1; /* inclusive, in this line */

      gtk_text_buffer_get_iter_at_line_offset (buffer, &s, line, 6 + first * 3);
      gtk_text_buffer_get_iter_at_line_offset (buffer, &e, line, 6 + last * 3 + 2);
      gtk_text_buffer_apply_tag_by_name (buffer, tag, &s, &e);
      gtk_text_buffer_get_iter_at_line_offset (buffer, &s, line, 6 + HEX_COLS * 3 + 1 + first);
      gtk_text_buffer_get_iter_at_line_offset (buffer, &e, line, 6 + HEX_COLS * 3 + 2 + last);
      gtk_text_buffer_apply_tag_by_name (buffer, tag, &s, &e);
      b = (line + 1) * HEX_COLS;
    }
}

static void
show_selection (TsDetailView *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->hex);
  GtkTextIter start, end;
  int field = self->session ? ts_session_get_selected_field (self->session) : -1;

  if (self->dirty)
    return;
  gtk_text_buffer_get_bounds (buffer, &start, &end);
  gtk_text_buffer_remove_tag_by_name (buffer, "selected", &start, &end);
  self->has_hl = FALSE;
  self->updating = TRUE;
  if (field < 0 || self->fields == NULL || (guint)field >= self->fields->len)
    gtk_list_box_unselect_all (self->tree);
  else
    {
      const TsStepField *f = &g_array_index (self->fields, TsStepField, field);
      guint off = MIN (f->offset, self->n_bytes), len = MIN (f->len, self->n_bytes - off);

      for (guint r = 0; r < self->rows->len; r++)
        if (g_array_index (self->rows, guint, r) == (guint)field)
          gtk_list_box_select_row (self->tree, gtk_list_box_get_row_at_index (self->tree, r));
      if (len > 0)
        {
          GtkTextIter at;
          hex_range (self, buffer, off, len, "selected");
          self->has_hl = TRUE;
          self->hl_offset = off;
          self->hl_len = len;
          gtk_text_buffer_get_iter_at_line (buffer, &at, off / HEX_COLS);
          gtk_text_view_scroll_to_iter (self->hex, &at, 0.1, FALSE, 0, 0);
        }
    }
  self->updating = FALSE;
}

/* Tree rows are kept and relabelled from one step to the next (making
 * widgets is most of a step's cost); rows past the step's fields hide. */
static void
set_row (TsDetailView *self, guint index, const char *text, guint depth, gboolean dim)
{
  GtkListBoxRow *row = gtk_list_box_get_row_at_index (self->tree, (int)index);
  GtkWidget *label;

  if (row == NULL)
    {
      label = gtk_label_new (NULL);
      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_label_set_wrap (GTK_LABEL (label), TRUE);
      gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
      gtk_list_box_append (self->tree, label);
      row = gtk_list_box_get_row_at_index (self->tree, (int)index);
    }
  label = gtk_list_box_row_get_child (row);
  gtk_widget_set_visible (GTK_WIDGET (row), TRUE);
  gtk_label_set_text (GTK_LABEL (label), text);
  gtk_widget_set_margin_start (label, 6 + 18 * (int)depth);
  if (depth == 0 && !dim)
    gtk_widget_add_css_class (label, "heading");
  else
    gtk_widget_remove_css_class (label, "heading");
  if (dim)
    gtk_widget_add_css_class (label, "dim-label");
  else
    gtk_widget_remove_css_class (label, "dim-label");
}

static void
hide_rows_from (TsDetailView *self, guint index)
{
  GtkListBoxRow *row;

  while ((row = gtk_list_box_get_row_at_index (self->tree, (int)index++)) != NULL)
    gtk_widget_set_visible (GTK_WIDGET (row), FALSE);
}

static void
do_rebuild (TsDetailView *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->hex);
  TsStepList *list;
  int step, reader;
  gboolean readable;
  const guint8 *bytes;
  gsize size = 0;
  guint32 ev_off = 0, ev_len = 0;
  g_autoptr (GString) text = g_string_new (NULL);

  self->updating = TRUE;
  g_clear_pointer (&self->fields, g_array_unref);
  g_array_set_size (self->rows, 0);
  self->n_bytes = 0;
  step = self->session ? ts_session_get_step (self->session) : -1;
  if (step < 0)
    {
      hide_rows_from (self, 0);
      gtk_text_buffer_set_text (buffer, "", -1);
      self->updating = FALSE;
      return;
    }
  list = ts_session_get_step_list (self->session);
  reader = ts_session_get_reader (self->session);
  readable = ts_step_list_can_read (list, step, reader);
  self->fields = ts_step_list_dup_fields (list, step);
  for (guint i = 0; i < self->fields->len; i++)
    {
      const TsStepField *f = &g_array_index (self->fields, TsStepField, i);

      if (f->content && !readable)
        {
          /* One line says what this reader is left with. */
          if (i == 0 || !g_array_index (self->fields, TsStepField, i - 1).content)
            {
              g_autofree char *seen = ts_step_list_dup_summary_as (list, step, reader);
              const TsTimeline *tl = ts_step_list_get_timeline (list);
              /* The node's name, also when it was chosen by an address. */
              const char *who = reader >= 0 && (guint)reader < ts_timeline_get_n_nodes (tl)
                                    ? ts_timeline_get_node (tl, (guint)reader)->name
                                    : ts_session_get_as (self->session);
              g_autofree char *line = g_strdup_printf ("Not readable as seen by %s: %s", who, seen);
              set_row (self, self->rows->len, line, 0, TRUE);
              g_array_append_val (self->rows, i);
            }
          continue;
        }
      set_row (self, self->rows->len, f->label, f->depth, FALSE);
      g_array_append_val (self->rows, i);
    }
  hide_rows_from (self, self->rows->len);

  bytes = ts_step_list_get_bytes (list, step, &size, &ev_off, &ev_len);
  size = MIN (size, HEX_MAX_BYTES);
  self->n_bytes = size;
  for (gsize line = 0; line * HEX_COLS < size; line++)
    {
      gsize base = line * HEX_COLS;
      g_string_append_printf (text, "%04" G_GSIZE_MODIFIER "x  ", base);
      for (gsize c = 0; c < HEX_COLS; c++)
        if (base + c < size)
          g_string_append_printf (text, "%02x ", bytes[base + c]);
        else
          g_string_append (text, "   ");
      g_string_append_c (text, ' ');
      for (gsize c = 0; c < HEX_COLS; c++)
        g_string_append_c (text, base + c < size
                                     ? (g_ascii_isprint (bytes[base + c]) ? bytes[base + c] : '.')
                                     : ' ');
      g_string_append_c (text, '\n');
    }
  if (size == 0)
    g_string_append (text, "(no captured bytes: an actor's event)");
  gtk_text_buffer_set_text (buffer, text->str, -1);
  if (ev_len > 0 && ev_off < size)
    {
      GtkTextIter at;
      hex_range (self, buffer, ev_off, MIN (ev_len, size - ev_off), "event");
      /* Show where the event's bytes start. */
      gtk_text_buffer_get_iter_at_line (buffer, &at, ev_off / HEX_COLS);
      gtk_text_view_scroll_to_iter (self->hex, &at, 0.1, TRUE, 0, 0.1);
    }
  self->updating = FALSE;
  show_selection (self);
}

/* A hidden view (another page of the stack) rebuilds when it is shown:
 * stepping costs only what is on screen. */
static void
rebuild (TsDetailView *self)
{
  if (!gtk_widget_get_mapped (GTK_WIDGET (self)))
    {
      self->dirty = TRUE;
      return;
    }
  self->dirty = FALSE;
  do_rebuild (self);
}

static void
ts_detail_view_map (GtkWidget *widget)
{
  TsDetailView *self = TS_DETAIL_VIEW (widget);

  GTK_WIDGET_CLASS (ts_detail_view_parent_class)->map (widget);
  if (self->dirty)
    rebuild (self);
}

static void
on_row_selected (GtkListBox *box, GtkListBoxRow *row, TsDetailView *self)
{
  int index;

  if (self->updating || self->session == NULL || row == NULL)
    return;
  index = gtk_list_box_row_get_index (row);
  if (index >= 0 && (guint)index < self->rows->len)
    ts_session_set_selected_field (self->session, (int)g_array_index (self->rows, guint, index));
}

int
ts_detail_view_field_at_byte (TsDetailView *self, guint offset)
{
  int best = -1;
  guint best_len = G_MAXUINT;

  g_return_val_if_fail (TS_IS_DETAIL_VIEW (self), -1);
  if (self->fields == NULL)
    return -1;
  /* The innermost field: the shortest range covering the byte, among the
   * rows shown. */
  for (guint r = 0; r < self->rows->len; r++)
    {
      guint i = g_array_index (self->rows, guint, r);
      const TsStepField *f = &g_array_index (self->fields, TsStepField, i);
      if (f->len > 0 && offset >= f->offset && offset < f->offset + f->len && f->len <= best_len)
        {
          best = (int)i;
          best_len = f->len;
        }
    }
  return best;
}

static void
on_hex_released (GtkGestureClick *gesture, int n_press, double x, double y, TsDetailView *self)
{
  GtkTextIter iter;
  int bx, by, line, col;
  int cols = (int)self->cols;
  guint byte;
  int field;

  if (self->session == NULL || self->n_bytes == 0)
    return;
  gtk_text_view_window_to_buffer_coords (self->hex, GTK_TEXT_WINDOW_WIDGET, (int)x, (int)y, &bx,
                                         &by);
  gtk_text_view_get_iter_at_location (self->hex, &iter, bx, by);
  line = gtk_text_iter_get_line (&iter);
  col = gtk_text_iter_get_line_offset (&iter);
  if (col >= 6 && col < 6 + cols * 3)
    col = (col - 6) / 3;
  else if (col >= 6 + cols * 3 + 1 && col < 6 + cols * 4 + 1)
    col = col - (6 + cols * 3 + 1);
  else
    return;
  byte = (guint)line * HEX_COLS + (guint)col;
  if (byte >= self->n_bytes)
    return;
  field = ts_detail_view_field_at_byte (self, byte);
  if (field >= 0)
    ts_session_set_selected_field (self->session, field);
}

static void
ts_detail_view_dispose (GObject *object)
{
  TsDetailView *self = TS_DETAIL_VIEW (object);

  ts_detail_view_set_session (self, NULL);
  gtk_widget_dispose_template (GTK_WIDGET (self), TS_TYPE_DETAIL_VIEW);
  /* The template's root child is not bound: unparent it ourselves. */
  {
    GtkWidget *child;
    while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
      gtk_widget_unparent (child);
  }
  G_OBJECT_CLASS (ts_detail_view_parent_class)->dispose (object);
}

static void
ts_detail_view_finalize (GObject *object)
{
  TsDetailView *self = TS_DETAIL_VIEW (object);

  g_clear_pointer (&self->fields, g_array_unref);
  g_clear_pointer (&self->rows, g_array_unref);
  G_OBJECT_CLASS (ts_detail_view_parent_class)->finalize (object);
}

static void
ts_detail_view_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  TsDetailView *self = TS_DETAIL_VIEW (object);

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
ts_detail_view_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  TsDetailView *self = TS_DETAIL_VIEW (object);

  switch (prop_id)
    {
      case PROP_SESSION:
        ts_detail_view_set_session (self, g_value_get_object (value));
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

/* The hex pane is at least as wide as a line of it (offset, COLS bytes,
 * their text), in its own font: the text column is not cut off where the
 * pane is narrow (the ladder's, beside a lesson). */
static void
update_hex_width (TsDetailView *self)
{
  GtkWidget *scrolled = gtk_widget_get_parent (GTK_WIDGET (self->hex));
  g_autofree char *line = g_strnfill (7 + 4 * self->cols, '0');
  g_autoptr (PangoLayout) layout = gtk_widget_create_pango_layout (GTK_WIDGET (self->hex), line);
  int w = 0;

  if (!GTK_IS_SCROLLED_WINDOW (scrolled))
    return;
  pango_layout_get_pixel_size (layout, &w, NULL);
  /* The margins, and room for the scrollbar. */
  gtk_scrolled_window_set_min_content_width (GTK_SCROLLED_WINDOW (scrolled),
                                             w + gtk_text_view_get_left_margin (self->hex)
                                                 + gtk_text_view_get_right_margin (self->hex) + 16);
}

static void
ts_detail_view_css_changed (GtkWidget *widget, GtkCssStyleChange *change)
{
  GTK_WIDGET_CLASS (ts_detail_view_parent_class)->css_changed (widget, change);
  /* Large text: a wider line. */
  update_hex_width (TS_DETAIL_VIEW (widget));
}

/* Ends the scroll animations of the two panes (a step scrolls them:
 * gtk_text_view_scroll_to_iter () and the list's scroll to its selected row
 * animate) before they are unmapped: unmapping a scrolled window while its
 * adjustment animates raises a GLib critical inside GTK 4.8
 * (gtk_adjustment_enable_animation () disconnects a handler id that the
 * value it sets has already cleared). Setting the value ends the
 * animation first. */
static void
stop_scrolling (GtkWidget *scrolled_child)
{
  GtkWidget *sw = gtk_widget_get_ancestor (scrolled_child, GTK_TYPE_SCROLLED_WINDOW);
  GtkAdjustment *adj[2];

  if (sw == NULL)
    return;
  adj[0] = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (sw));
  adj[1] = gtk_scrolled_window_get_hadjustment (GTK_SCROLLED_WINDOW (sw));
  for (guint i = 0; i < 2; i++)
    if (adj[i] != NULL)
      gtk_adjustment_set_value (adj[i], gtk_adjustment_get_value (adj[i]));
}

static void
ts_detail_view_unmap (GtkWidget *widget)
{
  TsDetailView *self = TS_DETAIL_VIEW (widget);

  stop_scrolling (GTK_WIDGET (self->tree));
  stop_scrolling (GTK_WIDGET (self->hex));
  GTK_WIDGET_CLASS (ts_detail_view_parent_class)->unmap (widget);
}

static void
ts_detail_view_class_init (TsDetailViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ts_detail_view_dispose;
  object_class->finalize = ts_detail_view_finalize;
  object_class->get_property = ts_detail_view_get_property;
  object_class->set_property = ts_detail_view_set_property;
  widget_class->css_changed = ts_detail_view_css_changed;
  widget_class->map = ts_detail_view_map;
  widget_class->unmap = ts_detail_view_unmap;

  properties[PROP_SESSION] = g_param_spec_object ("session", NULL, NULL, TS_TYPE_SESSION,
                                                  G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/tunnelscope/Tunnelscope/ts-detail-view.ui");
  gtk_widget_class_bind_template_child (widget_class, TsDetailView, tree);
  gtk_widget_class_bind_template_child (widget_class, TsDetailView, hex);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "detailview");
}

static void
ts_detail_view_init (TsDetailView *self)
{
  GtkTextBuffer *buffer;
  GtkGesture *click;

  gtk_widget_init_template (GTK_WIDGET (self));
  self->rows = g_array_new (FALSE, FALSE, sizeof (guint));
  self->cols = 16;
  update_hex_width (self);
  buffer = gtk_text_view_get_buffer (self->hex);
  gtk_text_buffer_create_tag (buffer, "event", "background", "rgba(53,132,228,0.18)", NULL);
  gtk_text_buffer_create_tag (buffer, "selected", "background", "rgba(230,97,0,0.55)", NULL);
  g_signal_connect (self->tree, "row-selected", G_CALLBACK (on_row_selected), self);
  click = gtk_gesture_click_new ();
  g_signal_connect (click, "released", G_CALLBACK (on_hex_released), self);
  gtk_widget_add_controller (GTK_WIDGET (self->hex), GTK_EVENT_CONTROLLER (click));
}

GtkWidget *
ts_detail_view_new (TsSession *session)
{
  return g_object_new (TS_TYPE_DETAIL_VIEW, "session", session, NULL);
}

TsSession *
ts_detail_view_get_session (TsDetailView *self)
{
  g_return_val_if_fail (TS_IS_DETAIL_VIEW (self), NULL);
  return self->session;
}

void
ts_detail_view_set_session (TsDetailView *self, TsSession *session)
{
  g_return_if_fail (TS_IS_DETAIL_VIEW (self));
  if (self->session == session)
    return;
  if (self->session)
    g_signal_handlers_disconnect_by_data (self->session, self);
  g_set_object (&self->session, session);
  if (session)
    {
      g_signal_connect_swapped (session, "notify::step", G_CALLBACK (rebuild), self);
      g_signal_connect_swapped (session, "notify::as", G_CALLBACK (rebuild), self);
      g_signal_connect_swapped (session, "reset", G_CALLBACK (rebuild), self);
      g_signal_connect_swapped (session, "notify::selected-field", G_CALLBACK (show_selection),
                                self);
    }
  if (self->tree)
    rebuild (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SESSION]);
}

void
ts_detail_view_set_bytes_per_line (TsDetailView *self, guint n)
{
  g_return_if_fail (TS_IS_DETAIL_VIEW (self));
  g_return_if_fail (n == 8 || n == 16);
  if (self->cols == n)
    return;
  self->cols = n;
  update_hex_width (self);
  rebuild (self);
}

int
ts_detail_view_get_hex_min_width (TsDetailView *self)
{
  GtkWidget *scrolled;

  g_return_val_if_fail (TS_IS_DETAIL_VIEW (self), 0);
  scrolled = gtk_widget_get_parent (GTK_WIDGET (self->hex));
  return GTK_IS_SCROLLED_WINDOW (scrolled)
             ? gtk_scrolled_window_get_min_content_width (GTK_SCROLLED_WINDOW (scrolled))
             : 0;
}

guint
ts_detail_view_get_n_rows (TsDetailView *self)
{
  g_return_val_if_fail (TS_IS_DETAIL_VIEW (self), 0);
  return self->rows->len;
}

char *
ts_detail_view_dup_hex_text (TsDetailView *self)
{
  GtkTextBuffer *buffer;
  GtkTextIter s, e;

  g_return_val_if_fail (TS_IS_DETAIL_VIEW (self), NULL);
  buffer = gtk_text_view_get_buffer (self->hex);
  gtk_text_buffer_get_bounds (buffer, &s, &e);
  return gtk_text_buffer_get_text (buffer, &s, &e, FALSE);
}

gboolean
ts_detail_view_get_highlight (TsDetailView *self, guint *out_offset, guint *out_len)
{
  g_return_val_if_fail (TS_IS_DETAIL_VIEW (self), FALSE);
  *out_offset = self->hl_offset;
  *out_len = self->hl_len;
  return self->has_hl;
}
