/* ts-step-model.c: the steps as a GListModel.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "ts-step-model.h"

struct _TsStepItem
{
  GObject parent_instance;
  guint index;
  gboolean readable;
  gboolean highlighted;
  char *time;
  char *route;
  char *summary;
};

G_DEFINE_FINAL_TYPE (TsStepItem, ts_step_item, G_TYPE_OBJECT)

static void
ts_step_item_finalize (GObject *object)
{
  TsStepItem *self = TS_STEP_ITEM (object);

  g_free (self->time);
  g_free (self->route);
  g_free (self->summary);
  G_OBJECT_CLASS (ts_step_item_parent_class)->finalize (object);
}

static void
ts_step_item_class_init (TsStepItemClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ts_step_item_finalize;
}

static void
ts_step_item_init (TsStepItem *self)
{
}

guint
ts_step_item_get_index (TsStepItem *self)
{
  g_return_val_if_fail (TS_IS_STEP_ITEM (self), 0);
  return self->index;
}

const char *
ts_step_item_get_time (TsStepItem *self)
{
  g_return_val_if_fail (TS_IS_STEP_ITEM (self), NULL);
  return self->time;
}

gboolean
ts_step_item_get_highlighted (TsStepItem *self)
{
  g_return_val_if_fail (TS_IS_STEP_ITEM (self), FALSE);
  return self->highlighted;
}

const char *
ts_step_item_get_route (TsStepItem *self)
{
  g_return_val_if_fail (TS_IS_STEP_ITEM (self), NULL);
  return self->route;
}

const char *
ts_step_item_get_summary (TsStepItem *self)
{
  g_return_val_if_fail (TS_IS_STEP_ITEM (self), NULL);
  return self->summary;
}

gboolean
ts_step_item_get_readable (TsStepItem *self)
{
  g_return_val_if_fail (TS_IS_STEP_ITEM (self), FALSE);
  return self->readable;
}

struct _TsStepModel
{
  GObject parent_instance;
  TsSession *session;
  guint n_items;
};

static GType
ts_step_model_get_item_type (GListModel *model)
{
  return TS_TYPE_STEP_ITEM;
}

static guint
ts_step_model_get_n_items (GListModel *model)
{
  return TS_STEP_MODEL (model)->n_items;
}

static const char *
node_name (const TsTimeline *tl, int node)
{
  return node >= 0 && (guint)node < ts_timeline_get_n_nodes (tl)
             ? ts_timeline_get_node (tl, node)->name
             : "?";
}

static gpointer
ts_step_model_get_item (GListModel *model, guint position)
{
  TsStepModel *self = TS_STEP_MODEL (model);
  TsStepList *list;
  const TsTimeline *tl;
  const TsTimelineEvent *ev;
  TsStepItem *item;
  int reader;

  if (position >= self->n_items || self->session == NULL)
    return NULL;
  list = ts_session_get_step_list (self->session);
  if (position >= ts_step_list_get_n_steps (list))
    return NULL;
  tl = ts_step_list_get_timeline (list);
  ev = ts_step_list_get_event (list, position);
  reader = ts_session_get_reader (self->session);
  item = g_object_new (TS_TYPE_STEP_ITEM, NULL);
  item->index = position;
  item->time = g_strdup_printf ("%.3f ms",
                                (double)(ev->time_ns - ts_step_list_get_origin_ns (list)) / 1e6);
  if (ev->src == ev->dst)
    item->route = g_strdup (node_name (tl, ev->src));
  else
    item->route = g_strdup_printf ("%s → %s", node_name (tl, ev->src), node_name (tl, ev->dst));
  item->summary = ts_step_list_dup_summary_as (list, position, reader);
  item->readable = ts_step_list_can_read (list, position, reader);
  item->highlighted = ts_session_step_is_highlighted (self->session, position);
  return item;
}

static void
ts_step_model_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = ts_step_model_get_item_type;
  iface->get_n_items = ts_step_model_get_n_items;
  iface->get_item = ts_step_model_get_item;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (TsStepModel, ts_step_model, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      ts_step_model_list_model_init))

/* Everything may have changed: the steps, or how they read. */
static void
on_reset (TsStepModel *self)
{
  guint old = self->n_items;

  self->n_items = ts_session_get_n_steps (self->session);
  g_list_model_items_changed (G_LIST_MODEL (self), 0, old, self->n_items);
}

static void
on_steps_added (TsStepModel *self, guint first, guint n)
{
  /* Steps are re-sorted by time as they arrive: replace all. */
  on_reset (self);
}

static void
ts_step_model_dispose (GObject *object)
{
  TsStepModel *self = TS_STEP_MODEL (object);

  if (self->session)
    g_signal_handlers_disconnect_by_data (self->session, self);
  g_clear_object (&self->session);
  G_OBJECT_CLASS (ts_step_model_parent_class)->dispose (object);
}

static void
ts_step_model_class_init (TsStepModelClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = ts_step_model_dispose;
}

static void
ts_step_model_init (TsStepModel *self)
{
}

TsStepModel *
ts_step_model_new (TsSession *session)
{
  TsStepModel *self;

  g_return_val_if_fail (TS_IS_SESSION (session), NULL);
  self = g_object_new (TS_TYPE_STEP_MODEL, NULL);
  self->session = g_object_ref (session);
  self->n_items = ts_session_get_n_steps (session);
  g_signal_connect_swapped (session, "reset", G_CALLBACK (on_reset), self);
  g_signal_connect_swapped (session, "steps-added", G_CALLBACK (on_steps_added), self);
  g_signal_connect_swapped (session, "notify::as", G_CALLBACK (on_reset), self);
  g_signal_connect_swapped (session, "notify::highlights", G_CALLBACK (on_reset), self);
  return self;
}
