/* ts-event-list.c: the steps as a list view.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "ts-event-list.h"

#include "ts-step-model.h"

struct _TsEventList
{
  GtkWidget parent_instance;
  GtkWidget *scrolled;
  GtkListView *view;
  GtkSingleSelection *selection;
  TsSession *session;
  gboolean syncing;
  guint scroll_tick;
};

G_DEFINE_FINAL_TYPE (TsEventList, ts_event_list, GTK_TYPE_WIDGET)

static void
setup_row (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer data)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *mark = gtk_image_new_from_icon_name ("starred-symbolic");
  GtkWidget *time = gtk_label_new (NULL);
  GtkWidget *route = gtk_label_new (NULL);
  GtkWidget *summary = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (time), 1);
  gtk_label_set_width_chars (GTK_LABEL (time), 12);
  gtk_widget_add_css_class (time, "numeric");
  gtk_widget_add_css_class (time, "dim-label");
  gtk_label_set_xalign (GTK_LABEL (route), 0);
  gtk_label_set_width_chars (GTK_LABEL (route), 18);
  gtk_label_set_ellipsize (GTK_LABEL (route), PANGO_ELLIPSIZE_END);
  gtk_label_set_xalign (GTK_LABEL (summary), 0);
  gtk_label_set_ellipsize (GTK_LABEL (summary), PANGO_ELLIPSIZE_END);
  gtk_widget_set_hexpand (summary, TRUE);
  /* A lesson's highlight: shown or not, it keeps its place so the columns align. */
  gtk_widget_add_css_class (mark, "warning");
  gtk_accessible_update_property (GTK_ACCESSIBLE (mark), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Highlighted by the lesson", -1);
  gtk_box_append (GTK_BOX (box), mark);
  gtk_box_append (GTK_BOX (box), time);
  gtk_box_append (GTK_BOX (box), route);
  gtk_box_append (GTK_BOX (box), summary);
  gtk_list_item_set_child (item, box);
}

static void
bind_row (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer data)
{
  TsStepItem *step = gtk_list_item_get_item (item);
  GtkWidget *box = gtk_list_item_get_child (item);
  GtkWidget *mark = gtk_widget_get_first_child (box);
  GtkWidget *time = gtk_widget_get_next_sibling (mark);
  GtkWidget *route = gtk_widget_get_next_sibling (time);
  GtkWidget *summary = gtk_widget_get_next_sibling (route);

  gtk_widget_set_opacity (mark, ts_step_item_get_highlighted (step) ? 1.0 : 0.0);
  gtk_accessible_update_state (GTK_ACCESSIBLE (mark), GTK_ACCESSIBLE_STATE_HIDDEN,
                               !ts_step_item_get_highlighted (step), -1);
  gtk_label_set_text (GTK_LABEL (time), ts_step_item_get_time (step));
  gtk_label_set_text (GTK_LABEL (route), ts_step_item_get_route (step));
  gtk_label_set_text (GTK_LABEL (summary), ts_step_item_get_summary (step));
  if (ts_step_item_get_readable (step))
    gtk_widget_remove_css_class (summary, "dim-label");
  else
    gtk_widget_add_css_class (summary, "dim-label");
}

static void
on_selected (TsEventList *self)
{
  guint pos = gtk_single_selection_get_selected (self->selection);

  if (self->syncing || self->session == NULL || pos == GTK_INVALID_LIST_POSITION)
    return;
  ts_session_set_step (self->session, (int)pos);
}

/* Scrolls on the next frame: a list that was just shown has no size yet. */
static gboolean
scroll_tick (GtkWidget *widget, GdkFrameClock *clock, gpointer user_data)
{
  TsEventList *self = TS_EVENT_LIST (widget);
  guint pos = gtk_single_selection_get_selected (self->selection);

  if (gtk_widget_get_height (GTK_WIDGET (self->view)) <= 0)
    return G_SOURCE_CONTINUE;
  self->scroll_tick = 0;
  if (pos != GTK_INVALID_LIST_POSITION)
    gtk_widget_activate_action (GTK_WIDGET (self->view), "list.scroll-to-item", "u", pos);
  return G_SOURCE_REMOVE;
}

static void
on_step (TsEventList *self)
{
  int step = ts_session_get_step (self->session);

  if (step < 0 || (guint)step >= g_list_model_get_n_items (G_LIST_MODEL (self->selection)))
    return;
  self->syncing = TRUE;
  gtk_single_selection_set_selected (self->selection, (guint)step);
  self->syncing = FALSE;
  if (gtk_widget_get_mapped (GTK_WIDGET (self)) && self->scroll_tick == 0)
    self->scroll_tick = gtk_widget_add_tick_callback (GTK_WIDGET (self), scroll_tick, NULL, NULL);
}

static void
on_map (TsEventList *self)
{
  if (self->session)
    on_step (self);
}

void
ts_event_list_set_session (TsEventList *self, TsSession *session)
{
  g_autoptr (TsStepModel) model = NULL;

  g_return_if_fail (TS_IS_EVENT_LIST (self));
  if (self->session)
    g_signal_handlers_disconnect_by_data (self->session, self);
  g_set_object (&self->session, session);
  if (session == NULL)
    {
      gtk_single_selection_set_model (self->selection, NULL);
      return;
    }
  model = ts_step_model_new (session);
  self->syncing = TRUE;
  gtk_single_selection_set_model (self->selection, G_LIST_MODEL (model));
  self->syncing = FALSE;
  g_signal_connect_swapped (session, "notify::step", G_CALLBACK (on_step), self);
  g_signal_connect_swapped (session, "reset", G_CALLBACK (on_step), self);
  /* The model is rebuilt for new eyes, and the selection with it. */
  g_signal_connect_swapped (session, "notify::as", G_CALLBACK (on_step), self);
  on_step (self);
}

GListModel *
ts_event_list_get_model (TsEventList *self)
{
  g_return_val_if_fail (TS_IS_EVENT_LIST (self), NULL);
  return gtk_single_selection_get_model (self->selection);
}

guint
ts_event_list_get_selected (TsEventList *self)
{
  g_return_val_if_fail (TS_IS_EVENT_LIST (self), GTK_INVALID_LIST_POSITION);
  return gtk_single_selection_get_selected (self->selection);
}

static void
ts_event_list_dispose (GObject *object)
{
  TsEventList *self = TS_EVENT_LIST (object);

  ts_event_list_set_session (self, NULL);
  if (self->scroll_tick)
    gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->scroll_tick);
  self->scroll_tick = 0;
  g_clear_pointer (&self->scrolled, gtk_widget_unparent);
  G_OBJECT_CLASS (ts_event_list_parent_class)->dispose (object);
}

static void
ts_event_list_class_init (TsEventListClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = ts_event_list_dispose;
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "eventlist");
}

static void
ts_event_list_init (TsEventList *self)
{
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();

  g_signal_connect (factory, "setup", G_CALLBACK (setup_row), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_row), NULL);
  self->selection = gtk_single_selection_new (NULL);
  gtk_single_selection_set_autoselect (self->selection, FALSE);
  gtk_single_selection_set_can_unselect (self->selection, TRUE);
  g_signal_connect_swapped (self->selection, "notify::selected", G_CALLBACK (on_selected), self);
  /* The view takes the selection and the factory. */
  self->view = GTK_LIST_VIEW (
      gtk_list_view_new (GTK_SELECTION_MODEL (g_object_ref (self->selection)), factory));
  gtk_widget_add_css_class (GTK_WIDGET (self->view), "rich-list");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->view), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Events", -1);
  self->scrolled = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (self->scrolled), GTK_WIDGET (self->view));
  gtk_widget_set_parent (self->scrolled, GTK_WIDGET (self));
  g_signal_connect_swapped (self, "map", G_CALLBACK (on_map), self);
  /* The view holds its own reference; ours goes with the widget. */
  g_object_unref (self->selection);
}

void
ts_event_list_set_selected (TsEventList *self, guint position)
{
  g_return_if_fail (TS_IS_EVENT_LIST (self));
  /* As a click on the row does. */
  gtk_single_selection_set_selected (self->selection, position);
}
