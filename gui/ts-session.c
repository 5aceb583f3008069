/* ts-session.c: the app's view state, and loading traces off the main loop.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "ts-session.h"

#include <signal.h>
#include <string.h>

/* Bytes read per chunk when loading a file (progress granularity). */
#define LOAD_CHUNK (1024 * 1024)
/* Bytes read per chunk from a live lab's stream. */
#define LIVE_CHUNK (64 * 1024)

struct _TsSession
{
  GObject parent_instance;

  TsStepList *list;
  int step;
  int selected_field;
  char *as;
  int reader;
  gboolean playing;
  double speed;
  guint play_source;
  gboolean loading;
  double progress;
  guint progress_source;
  GTask *load_task;
  gboolean live;
  GSubprocess *live_process;
  GCancellable *live_cancellable;
  GString *live_stderr;
  char *title;
  char *error;
  char *view;
  /* Highlighted timeline events (guint event indexes, as a lesson's query
   * resolves them), and the steps they are at (computed when asked, since
   * steps re-sort as a live lab's events arrive). */
  GArray *highlights;
  GHashTable *highlighted_steps; /* NULL: to compute */
  GSimpleActionGroup *actions;
  GBytes *keylog; /* TLS secrets for the traces it opens, or NULL */
};

G_DEFINE_FINAL_TYPE (TsSession, ts_session, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_STEP,
  PROP_N_STEPS,
  PROP_SELECTED_FIELD,
  PROP_AS,
  PROP_PLAYING,
  PROP_SPEED,
  PROP_LOADING,
  PROP_PROGRESS,
  PROP_LIVE,
  PROP_TITLE,
  PROP_ERROR,
  PROP_VIEW,
  PROP_HIGHLIGHTS,
  N_PROPS
};

enum
{
  SIGNAL_STEPS_ADDED,
  SIGNAL_RESET,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

typedef struct
{
  char *path;
  GBytes *keylog;
  gint permille; /* atomic: progress for the main loop to poll */
} LoadData;

static void
load_data_free (gpointer p)
{
  LoadData *d = p;
  g_free (d->path);
  g_clear_pointer (&d->keylog, g_bytes_unref);
  g_free (d);
}

static void update_actions (TsSession *self);

static void
set_error (TsSession *self, const char *message)
{
  if (g_strcmp0 (self->error, message) == 0)
    return;
  g_free (self->error);
  self->error = g_strdup (message);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ERROR]);
}

static void
set_title (TsSession *self, const char *title)
{
  if (g_strcmp0 (self->title, title) == 0)
    return;
  g_free (self->title);
  self->title = g_strdup (title);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TITLE]);
}

static void
set_loading (TsSession *self, gboolean loading, double progress)
{
  if (self->loading != loading)
    {
      self->loading = loading;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADING]);
    }
  if (self->progress != progress)
    {
      self->progress = progress;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROGRESS]);
    }
}

static void
set_live (TsSession *self, gboolean live)
{
  if (self->live == live)
    return;
  self->live = live;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LIVE]);
  update_actions (self);
}

/* Resolves the whose-eyes name against the current nodes. */
static void
update_reader (TsSession *self)
{
  if (self->as == NULL || *self->as == '\0')
    self->reader = TS_SESSION_READER_EVERYONE;
  else if (g_strcmp0 (self->as, "observer") == 0)
    self->reader = TS_SESSION_READER_OBSERVER;
  else
    {
      int idx = ts_timeline_find_node (ts_step_list_get_timeline (self->list), self->as);
      /* A node this trace lacks sees nothing. */
      self->reader = idx >= 0 ? idx : TS_SESSION_READER_NONE;
    }
}

static GVariant *
highlights_variant (TsSession *self)
{
  return g_variant_new_fixed_array (G_VARIANT_TYPE_UINT32, self->highlights->data,
                                    self->highlights->len, sizeof (guint32));
}

static void
update_highlight_action (TsSession *self)
{
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self->actions), "highlight");

  g_simple_action_set_state (G_SIMPLE_ACTION (action), highlights_variant (self));
}

static void
replace_list (TsSession *self, TsStepList *list)
{
  g_object_freeze_notify (G_OBJECT (self));
  ts_session_set_playing (self, FALSE);
  g_clear_pointer (&self->list, ts_step_list_free);
  self->list = list;
  update_reader (self);
  self->step = ts_step_list_get_n_steps (list) > 0 ? 0 : -1;
  self->selected_field = -1;
  /* Highlights belong to the trace they were resolved in. */
  if (self->highlights->len > 0)
    {
      g_array_set_size (self->highlights, 0);
      update_highlight_action (self);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HIGHLIGHTS]);
    }
  g_clear_pointer (&self->highlighted_steps, g_hash_table_unref);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_STEPS]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STEP]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SELECTED_FIELD]);
  g_signal_emit (self, signals[SIGNAL_RESET], 0);
  update_actions (self);
  g_object_thaw_notify (G_OBJECT (self));
}

static void
ts_session_dispose (GObject *object)
{
  TsSession *self = TS_SESSION (object);

  ts_session_stop_live (self);
  g_clear_handle_id (&self->play_source, g_source_remove);
  g_clear_handle_id (&self->progress_source, g_source_remove);
  g_clear_object (&self->load_task);
  g_clear_object (&self->actions);
  G_OBJECT_CLASS (ts_session_parent_class)->dispose (object);
}

static void
ts_session_finalize (GObject *object)
{
  TsSession *self = TS_SESSION (object);

  g_clear_pointer (&self->list, ts_step_list_free);
  g_free (self->as);
  g_free (self->title);
  g_free (self->error);
  g_free (self->view);
  g_array_unref (self->highlights);
  g_clear_pointer (&self->highlighted_steps, g_hash_table_unref);
  g_clear_pointer (&self->keylog, g_bytes_unref);
  if (self->live_stderr)
    g_string_free (self->live_stderr, TRUE);
  G_OBJECT_CLASS (ts_session_parent_class)->finalize (object);
}

static void
ts_session_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  TsSession *self = TS_SESSION (object);

  switch (prop_id)
    {
      case PROP_STEP:
        g_value_set_int (value, self->step);
        break;
      case PROP_N_STEPS:
        g_value_set_uint (value, ts_session_get_n_steps (self));
        break;
      case PROP_SELECTED_FIELD:
        g_value_set_int (value, self->selected_field);
        break;
      case PROP_AS:
        g_value_set_string (value, self->as);
        break;
      case PROP_PLAYING:
        g_value_set_boolean (value, self->playing);
        break;
      case PROP_SPEED:
        g_value_set_double (value, self->speed);
        break;
      case PROP_LOADING:
        g_value_set_boolean (value, self->loading);
        break;
      case PROP_PROGRESS:
        g_value_set_double (value, self->progress);
        break;
      case PROP_LIVE:
        g_value_set_boolean (value, self->live);
        break;
      case PROP_TITLE:
        g_value_set_string (value, self->title);
        break;
      case PROP_ERROR:
        g_value_set_string (value, self->error);
        break;
      case PROP_VIEW:
        g_value_set_string (value, self->view);
        break;
      case PROP_HIGHLIGHTS:
        g_value_set_variant (value, highlights_variant (self));
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ts_session_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  TsSession *self = TS_SESSION (object);

  switch (prop_id)
    {
      case PROP_STEP:
        ts_session_set_step (self, g_value_get_int (value));
        break;
      case PROP_SELECTED_FIELD:
        ts_session_set_selected_field (self, g_value_get_int (value));
        break;
      case PROP_AS:
        ts_session_set_as (self, g_value_get_string (value));
        break;
      case PROP_PLAYING:
        ts_session_set_playing (self, g_value_get_boolean (value));
        break;
      case PROP_SPEED:
        ts_session_set_speed (self, g_value_get_double (value));
        break;
      case PROP_VIEW:
        ts_session_set_view (self, g_value_get_string (value));
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ts_session_class_init (TsSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = ts_session_dispose;
  object_class->finalize = ts_session_finalize;
  object_class->get_property = ts_session_get_property;
  object_class->set_property = ts_session_set_property;

  properties[PROP_STEP]
      = g_param_spec_int ("step", NULL, NULL, -1, G_MAXINT, -1,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_N_STEPS] = g_param_spec_uint ("n-steps", NULL, NULL, 0, G_MAXUINT, 0,
                                                G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_SELECTED_FIELD]
      = g_param_spec_int ("selected-field", NULL, NULL, -1, G_MAXINT, -1,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_AS] = g_param_spec_string (
      "as", NULL, NULL, "", G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PLAYING]
      = g_param_spec_boolean ("playing", NULL, NULL, FALSE,
                              G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SPEED]
      = g_param_spec_double ("speed", NULL, NULL, 0.25, 100.0, 2.0,
                             G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_LOADING] = g_param_spec_boolean ("loading", NULL, NULL, FALSE,
                                                   G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_PROGRESS] = g_param_spec_double ("progress", NULL, NULL, 0.0, 1.0, 0.0,
                                                   G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_LIVE]
      = g_param_spec_boolean ("live", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_TITLE]
      = g_param_spec_string ("title", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_ERROR]
      = g_param_spec_string ("error", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_VIEW]
      = g_param_spec_string ("view", NULL, NULL, "ladder",
                             G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_HIGHLIGHTS]
      = g_param_spec_variant ("highlights", NULL, NULL, G_VARIANT_TYPE ("au"), NULL,
                              G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_STEPS_ADDED]
      = g_signal_new ("steps-added", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                      NULL, G_TYPE_NONE, 2, G_TYPE_UINT, G_TYPE_UINT);
  signals[SIGNAL_RESET] = g_signal_new ("reset", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                        NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
action_first (GSimpleAction *a, GVariant *p, gpointer user_data)
{
  ts_session_first (user_data);
}

static void
action_previous (GSimpleAction *a, GVariant *p, gpointer user_data)
{
  ts_session_set_playing (user_data, FALSE);
  ts_session_previous (user_data);
}

static void
action_next (GSimpleAction *a, GVariant *p, gpointer user_data)
{
  ts_session_set_playing (user_data, FALSE);
  ts_session_next (user_data);
}

static void
action_last (GSimpleAction *a, GVariant *p, gpointer user_data)
{
  ts_session_last (user_data);
}

static void
action_goto (GSimpleAction *a, GVariant *p, gpointer user_data)
{
  ts_session_set_step (user_data, g_variant_get_int32 (p));
}

static void
action_play (GSimpleAction *a, GVariant *p, gpointer user_data)
{
  TsSession *self = user_data;
  ts_session_set_playing (self, !self->playing);
}

static void
action_stop_live (GSimpleAction *a, GVariant *p, gpointer user_data)
{
  ts_session_stop_live (user_data);
}

static void
action_as (GSimpleAction *a, GVariant *p, gpointer user_data)
{
  ts_session_set_as (user_data, g_variant_get_string (p, NULL));
}

static void
action_faster (GSimpleAction *a, GVariant *p, gpointer user_data)
{
  TsSession *self = user_data;
  ts_session_set_speed (self, self->speed * 2);
}

static void
action_slower (GSimpleAction *a, GVariant *p, gpointer user_data)
{
  TsSession *self = user_data;
  ts_session_set_speed (self, self->speed / 2);
}

static void
action_view (GSimpleAction *a, GVariant *p, gpointer user_data)
{
  ts_session_set_view (user_data, g_variant_get_string (p, NULL));
}

static void
action_highlight (GSimpleAction *a, GVariant *p, gpointer user_data)
{
  gsize n = 0;
  const guint32 *events = g_variant_get_fixed_array (p, &n, sizeof (guint32));

  ts_session_set_highlights (user_data, events, (guint)n);
}

static const GActionEntry action_entries[] = {
  { .name = "first", .activate = action_first },
  { .name = "previous", .activate = action_previous },
  { .name = "next", .activate = action_next },
  { .name = "last", .activate = action_last },
  { .name = "goto", .activate = action_goto, .parameter_type = "i" },
  { .name = "play", .activate = action_play, .state = "false" },
  { .name = "faster", .activate = action_faster },
  { .name = "slower", .activate = action_slower },
  { .name = "stop-live", .activate = action_stop_live },
  { .name = "as", .activate = action_as, .parameter_type = "s", .state = "''" },
  { .name = "view", .activate = action_view, .parameter_type = "s", .state = "'ladder'" },
  { .name = "highlight", .activate = action_highlight, .parameter_type = "au", .state = "@au []" },
};

static void
enable (TsSession *self, const char *name, gboolean enabled)
{
  GAction *a = g_action_map_lookup_action (G_ACTION_MAP (self->actions), name);
  g_simple_action_set_enabled (G_SIMPLE_ACTION (a), enabled);
}

static void
update_actions (TsSession *self)
{
  int n = (int)ts_session_get_n_steps (self);

  if (self->actions == NULL)
    return;
  enable (self, "first", self->step > 0);
  enable (self, "previous", self->step > 0);
  enable (self, "next", self->step + 1 < n);
  enable (self, "last", self->step + 1 < n);
  enable (self, "play", n > 1);
  enable (self, "stop-live", self->live);
}

static void
ts_session_init (TsSession *self)
{
  self->list = ts_step_list_new ();
  self->step = -1;
  self->selected_field = -1;
  self->as = g_strdup ("");
  self->reader = TS_SESSION_READER_EVERYONE;
  self->speed = 2.0;
  self->view = g_strdup ("ladder");
  self->highlights = g_array_new (FALSE, FALSE, sizeof (guint32));
  self->actions = g_simple_action_group_new ();
  g_action_map_add_action_entries (G_ACTION_MAP (self->actions), action_entries,
                                   G_N_ELEMENTS (action_entries), self);
  update_actions (self);
}

TsSession *
ts_session_new (void)
{
  return g_object_new (TS_TYPE_SESSION, NULL);
}

TsStepList *
ts_session_get_step_list (TsSession *self)
{
  g_return_val_if_fail (TS_IS_SESSION (self), NULL);
  return self->list;
}

guint
ts_session_get_n_steps (TsSession *self)
{
  g_return_val_if_fail (TS_IS_SESSION (self), 0);
  return ts_step_list_get_n_steps (self->list);
}

int
ts_session_get_step (TsSession *self)
{
  g_return_val_if_fail (TS_IS_SESSION (self), -1);
  return self->step;
}

void
ts_session_set_step (TsSession *self, int step)
{
  int n;

  g_return_if_fail (TS_IS_SESSION (self));
  n = (int)ts_session_get_n_steps (self);
  step = n == 0 ? -1 : CLAMP (step, 0, n - 1);
  if (step == self->step)
    return;
  self->step = step;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STEP]);
  if (self->selected_field != -1)
    {
      self->selected_field = -1;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SELECTED_FIELD]);
    }
  update_actions (self);
}

void
ts_session_first (TsSession *self)
{
  ts_session_set_step (self, 0);
}

void
ts_session_previous (TsSession *self)
{
  g_return_if_fail (TS_IS_SESSION (self));
  if (self->step > 0)
    ts_session_set_step (self, self->step - 1);
}

void
ts_session_next (TsSession *self)
{
  g_return_if_fail (TS_IS_SESSION (self));
  ts_session_set_step (self, self->step + 1);
}

void
ts_session_last (TsSession *self)
{
  g_return_if_fail (TS_IS_SESSION (self));
  ts_session_set_step (self, G_MAXINT);
}

int
ts_session_get_selected_field (TsSession *self)
{
  g_return_val_if_fail (TS_IS_SESSION (self), -1);
  return self->selected_field;
}

void
ts_session_set_selected_field (TsSession *self, int field)
{
  g_return_if_fail (TS_IS_SESSION (self));
  field = MAX (field, -1);
  if (field == self->selected_field)
    return;
  self->selected_field = field;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SELECTED_FIELD]);
}

const char *
ts_session_get_as (TsSession *self)
{
  g_return_val_if_fail (TS_IS_SESSION (self), "");
  return self->as;
}

void
ts_session_set_as (TsSession *self, const char *as)
{
  GAction *action;

  g_return_if_fail (TS_IS_SESSION (self));
  if (as == NULL)
    as = "";
  if (g_strcmp0 (as, self->as) == 0)
    return;
  g_free (self->as);
  self->as = g_strdup (as);
  update_reader (self);
  action = g_action_map_lookup_action (G_ACTION_MAP (self->actions), "as");
  g_simple_action_set_state (G_SIMPLE_ACTION (action), g_variant_new_string (as));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_AS]);
}

static const char *const views[] = { "ladder", "topology", "detail", "events", "compare", NULL };

const char *
ts_session_get_view (TsSession *self)
{
  g_return_val_if_fail (TS_IS_SESSION (self), "ladder");
  return self->view;
}

void
ts_session_set_view (TsSession *self, const char *view)
{
  GAction *action;

  g_return_if_fail (TS_IS_SESSION (self));
  if (view == NULL || !g_strv_contains (views, view))
    {
      g_warning ("ts_session_set_view: '%s' is not a view", view ? view : "(null)");
      return;
    }
  if (g_strcmp0 (view, self->view) == 0)
    return;
  g_free (self->view);
  self->view = g_strdup (view);
  action = g_action_map_lookup_action (G_ACTION_MAP (self->actions), "view");
  g_simple_action_set_state (G_SIMPLE_ACTION (action), g_variant_new_string (view));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_VIEW]);
}

void
ts_session_set_highlights (TsSession *self, const guint32 *events, guint n_events)
{
  g_return_if_fail (TS_IS_SESSION (self));
  g_return_if_fail (events != NULL || n_events == 0);
  if (n_events == self->highlights->len
      && (n_events == 0
          || memcmp (events, self->highlights->data, n_events * sizeof (guint32)) == 0))
    return;
  g_array_set_size (self->highlights, 0);
  if (n_events > 0)
    g_array_append_vals (self->highlights, events, n_events);
  g_clear_pointer (&self->highlighted_steps, g_hash_table_unref);
  update_highlight_action (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HIGHLIGHTS]);
}

const guint32 *
ts_session_get_highlights (TsSession *self, guint *out_n)
{
  g_return_val_if_fail (TS_IS_SESSION (self), NULL);
  if (out_n)
    *out_n = self->highlights->len;
  return (const guint32 *)self->highlights->data;
}

static GHashTable *
highlighted_steps (TsSession *self)
{
  if (self->highlighted_steps == NULL)
    {
      self->highlighted_steps = g_hash_table_new (NULL, NULL);
      for (guint i = 0; i < self->highlights->len; i++)
        {
          int step
              = ts_step_list_find_step (self->list, g_array_index (self->highlights, guint32, i));
          if (step >= 0)
            g_hash_table_add (self->highlighted_steps, GINT_TO_POINTER (step));
        }
    }
  return self->highlighted_steps;
}

gboolean
ts_session_step_is_highlighted (TsSession *self, guint step)
{
  g_return_val_if_fail (TS_IS_SESSION (self), FALSE);
  if (self->highlights->len == 0)
    return FALSE;
  return g_hash_table_contains (highlighted_steps (self), GINT_TO_POINTER (step));
}

int
ts_session_get_first_highlighted_step (TsSession *self)
{
  GHashTableIter iter;
  gpointer key;
  int first = -1;

  g_return_val_if_fail (TS_IS_SESSION (self), -1);
  g_hash_table_iter_init (&iter, highlighted_steps (self));
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (first < 0 || GPOINTER_TO_INT (key) < first)
      first = GPOINTER_TO_INT (key);
  return first;
}

int
ts_session_get_reader (TsSession *self)
{
  g_return_val_if_fail (TS_IS_SESSION (self), TS_SESSION_READER_EVERYONE);
  return self->reader;
}

char *
ts_session_dup_node_names (TsSession *self)
{
  const TsTimeline *tl;
  GString *names = g_string_new (NULL);

  g_return_val_if_fail (TS_IS_SESSION (self), g_string_free (names, FALSE));
  tl = ts_step_list_get_timeline (self->list);
  for (guint i = 0; i < ts_timeline_get_n_nodes (tl); i++)
    if (ts_timeline_get_node (tl, i)->merged_into < 0)
      g_string_append_printf (names, "%s%s", names->len ? ", " : "",
                              ts_timeline_get_node (tl, i)->name);
  return g_string_free (names, FALSE);
}

static gboolean
play_tick (gpointer user_data)
{
  TsSession *self = user_data;

  if (self->step + 1 >= (int)ts_session_get_n_steps (self) && !self->live)
    {
      self->play_source = 0;
      ts_session_set_playing (self, FALSE);
      return G_SOURCE_REMOVE;
    }
  ts_session_next (self);
  return G_SOURCE_CONTINUE;
}

static void
restart_timer (TsSession *self)
{
  g_clear_handle_id (&self->play_source, g_source_remove);
  if (self->playing)
    self->play_source = g_timeout_add ((guint)(1000.0 / self->speed), play_tick, self);
}

gboolean
ts_session_get_playing (TsSession *self)
{
  g_return_val_if_fail (TS_IS_SESSION (self), FALSE);
  return self->playing;
}

void
ts_session_set_playing (TsSession *self, gboolean playing)
{
  GAction *action;

  g_return_if_fail (TS_IS_SESSION (self));
  playing = !!playing;
  if (playing && ts_session_get_n_steps (self) < 2)
    playing = FALSE;
  if (playing == self->playing)
    return;
  /* Play at the end starts again from the first step. */
  if (playing && self->step + 1 >= (int)ts_session_get_n_steps (self) && !self->live)
    ts_session_set_step (self, 0);
  self->playing = playing;
  restart_timer (self);
  action = g_action_map_lookup_action (G_ACTION_MAP (self->actions), "play");
  g_simple_action_set_state (G_SIMPLE_ACTION (action), g_variant_new_boolean (playing));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PLAYING]);
}

double
ts_session_get_speed (TsSession *self)
{
  g_return_val_if_fail (TS_IS_SESSION (self), 1.0);
  return self->speed;
}

void
ts_session_set_speed (TsSession *self, double speed)
{
  g_return_if_fail (TS_IS_SESSION (self));
  speed = CLAMP (speed, 0.25, 100.0);
  if (speed == self->speed)
    return;
  self->speed = speed;
  restart_timer (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SPEED]);
}

gboolean
ts_session_get_loading (TsSession *self)
{
  return self->loading;
}

double
ts_session_get_progress (TsSession *self)
{
  return self->progress;
}

gboolean
ts_session_get_live (TsSession *self)
{
  return self->live;
}

const char *
ts_session_get_title (TsSession *self)
{
  return self->title;
}

const char *
ts_session_get_error (TsSession *self)
{
  return self->error;
}

GActionGroup *
ts_session_get_actions (TsSession *self)
{
  g_return_val_if_fail (TS_IS_SESSION (self), NULL);
  return G_ACTION_GROUP (self->actions);
}

/* Reads @path into a new step list; updates @data->permille. The file is
 * mapped: the analyzer is fed from the mapping in chunks (for progress),
 * and packets stay views into it rather than copies. */
static TsStepList *
load_path (const char *path, GBytes *keylog, LoadData *data, GCancellable *cancellable,
           GError **error)
{
  g_autoptr (TsStepList) list = ts_step_list_new ();
  g_autoptr (GMappedFile) mapped = NULL;
  g_autoptr (GBytes) bytes = NULL;
  const guint8 *base;
  gsize size, done = 0;
  GError *local = NULL;

  /* Mapping a directory fails with "No such device": say what it is. */
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_IS_DIRECTORY, "%s: is a directory, not a trace",
                   path);
      return NULL;
    }
  mapped = g_mapped_file_new (path, FALSE, &local);
  if (mapped == NULL)
    {
      /* GFileError to GIOError, so callers match one domain. */
      g_set_error (error, G_IO_ERROR, g_io_error_from_file_error (local->code), "%s",
                   local->message);
      g_error_free (local);
      return NULL;
    }
  bytes = g_mapped_file_get_bytes (mapped);
  base = g_bytes_get_data (bytes, &size);
  ts_step_list_set_file (list, bytes);
  ts_step_list_add_keylog (list, keylog);
  while (done < size)
    {
      gsize n = MIN (LOAD_CHUNK, size - done);
      g_autoptr (GError) feed_error = NULL;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;
      if (!ts_step_list_feed (list, base + done, n, &feed_error))
        {
          /* What was read before the damage stays usable (the analyzer
           * shows the damage as an anomaly event), except when nothing
           * was. */
          if (ts_step_list_get_damage (list) == NULL)
            {
              g_propagate_prefixed_error (error, g_steal_pointer (&feed_error), "%s: ", path);
              return NULL;
            }
          /* Still ended: TCP holes given up, open streams closed. */
          ts_step_list_finish (list, NULL);
          return g_steal_pointer (&list);
        }
      done += n;
      if (data && size > 0)
        g_atomic_int_set (&data->permille, (gint)((guint64)done * 1000 / size));
    }
  /* A trace cut short ends inside a block: the same damage, found at the
   * end. */
  if (!ts_step_list_finish (list, error) && ts_step_list_get_damage (list) == NULL)
    {
      g_prefix_error (error, "%s: ", path);
      return NULL;
    }
  g_clear_error (error);
  return g_steal_pointer (&list);
}

static void
load_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  LoadData *data = task_data;
  GError *error = NULL;
  TsStepList *list = load_path (data->path, data->keylog, data, cancellable, &error);

  if (list == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, list, (GDestroyNotify)ts_step_list_free);
}

static gboolean
poll_progress (gpointer user_data)
{
  TsSession *self = user_data;
  LoadData *data;

  if (self->load_task == NULL)
    {
      self->progress_source = 0;
      return G_SOURCE_REMOVE;
    }
  data = g_task_get_task_data (self->load_task);
  set_loading (self, TRUE, g_atomic_int_get (&data->permille) / 1000.0);
  return G_SOURCE_CONTINUE;
}

static char *
title_for (TsStepList *list, const char *path)
{
  g_autofree char *base = g_path_get_basename (path);

  guint64 lost = ts_timeline_get_capture_lost (ts_step_list_get_timeline (list));
  g_autofree char *title = ts_step_list_get_scenario (list)
                               ? g_strdup_printf ("%s — %s", ts_step_list_get_scenario (list), base)
                               : g_steal_pointer (&base);

  if (ts_step_list_get_damage (list) != NULL)
    return g_strdup_printf ("%s — the trace is damaged", title);
  /* Said up front: the gaps it leaves are not the network's. */
  if (lost > 0)
    return g_strdup_printf ("%s — the capture lost %" G_GUINT64_FORMAT " packet%s", title, lost,
                            lost == 1 ? "" : "s");
  return g_steal_pointer (&title);
}

static void
load_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  TsSession *self = TS_SESSION (source);
  GTask *outer = user_data;
  GError *error = NULL;
  TsStepList *list = g_task_propagate_pointer (G_TASK (result), &error);
  LoadData *data = g_task_get_task_data (G_TASK (result));

  g_clear_object (&self->load_task);
  g_clear_handle_id (&self->progress_source, g_source_remove);
  set_loading (self, FALSE, list ? 1.0 : 0.0);
  if (list == NULL)
    {
      set_error (self, error->message);
      g_task_return_error (outer, error);
    }
  else
    {
      g_autofree char *title = title_for (list, data->path);
      set_error (self, NULL);
      replace_list (self, list);
      set_title (self, title);
      g_task_return_boolean (outer, TRUE);
    }
  g_object_unref (outer);
}

void
ts_session_load_async (TsSession *self, GFile *file, GCancellable *cancellable,
                       GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *outer;
  GTask *task;
  LoadData *data;

  g_return_if_fail (TS_IS_SESSION (self));
  g_return_if_fail (G_IS_FILE (file));
  outer = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (outer, ts_session_load_async);
  if (g_file_peek_path (file) == NULL)
    {
      g_task_return_new_error (outer, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                               "Only local files can be opened");
      g_object_unref (outer);
      return;
    }
  ts_session_stop_live (self);
  data = g_new0 (LoadData, 1);
  data->path = g_file_get_path (file);
  data->keylog = self->keylog != NULL ? g_bytes_ref (self->keylog) : NULL;
  task = g_task_new (self, cancellable, load_done, outer);
  g_task_set_task_data (task, data, load_data_free);
  g_clear_object (&self->load_task);
  self->load_task = g_object_ref (task);
  set_loading (self, TRUE, 0.0);
  if (self->progress_source == 0)
    self->progress_source = g_timeout_add (100, poll_progress, self);
  g_task_run_in_thread (task, load_thread);
  g_object_unref (task);
}

gboolean
ts_session_load_finish (TsSession *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
ts_session_clear (TsSession *self)
{
  g_return_if_fail (TS_IS_SESSION (self));
  ts_session_stop_live (self);
  replace_list (self, ts_step_list_new ());
  set_error (self, NULL);
  set_title (self, NULL);
}

void
ts_session_set_keylog (TsSession *self, GBytes *keylog)
{
  g_return_if_fail (TS_IS_SESSION (self));
  g_clear_pointer (&self->keylog, g_bytes_unref);
  self->keylog = keylog != NULL ? g_bytes_ref (keylog) : NULL;
}

gboolean
ts_session_load_path (TsSession *self, const char *path, GError **error)
{
  TsStepList *list;
  g_autofree char *title = NULL;

  g_return_val_if_fail (TS_IS_SESSION (self), FALSE);
  ts_session_stop_live (self);
  list = load_path (path, self->keylog, NULL, NULL, error);
  if (list == NULL)
    return FALSE;
  title = title_for (list, path);
  replace_list (self, list);
  set_title (self, title);
  return TRUE;
}

char *
ts_session_find_tscope (void)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  const char *env = g_getenv ("TS_TSCOPE");

  if (env && *env)
    return g_strdup (env);
  if (exe)
    {
      /* In a build tree the app is build/gui/tunnelscope (or a test under
       * build/...), and tscope is build/cli/tscope. */
      g_autofree char *dir = g_path_get_dirname (exe);
      for (int up = 0; up < 3 && dir; up++)
        {
          g_autofree char *candidate = g_build_filename (dir, "cli", "tscope", NULL);
          char *parent;
          if (g_file_test (candidate, G_FILE_TEST_IS_EXECUTABLE))
            return g_steal_pointer (&candidate);
          candidate = g_build_filename (dir, "tscope", NULL);
          if (g_file_test (candidate, G_FILE_TEST_IS_EXECUTABLE))
            return g_steal_pointer (&candidate);
          parent = g_path_get_dirname (dir);
          g_free (dir);
          dir = parent;
        }
    }
  {
    g_autofree char *installed = g_build_filename (TS_BINDIR, "tscope", NULL);
    if (g_file_test (installed, G_FILE_TEST_IS_EXECUTABLE))
      return g_steal_pointer (&installed);
  }
  return g_find_program_in_path ("tscope");
}

static void live_read (TsSession *self);

static void
live_finished (TsSession *self)
{
  g_autoptr (GError) error = NULL;

  if (!ts_step_list_finish (self->list, &error) && ts_session_get_n_steps (self) == 0
      && (self->live_stderr == NULL || self->live_stderr->len == 0))
    set_error (self, error->message);
  g_clear_object (&self->live_cancellable);
  set_live (self, FALSE);
}

static void
live_read_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  TsSession *self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes
      = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result, &error);
  guint before;

  if (bytes == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          set_error (self, error->message);
          live_finished (self);
        }
      g_object_unref (self);
      return;
    }
  if (g_bytes_get_size (bytes) == 0)
    {
      live_finished (self);
      g_object_unref (self);
      return;
    }
  before = ts_session_get_n_steps (self);
  if (!ts_step_list_feed (self->list, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                          &error))
    {
      set_error (self, error->message);
      ts_session_stop_live (self);
      g_object_unref (self);
      return;
    }
  if (ts_session_get_n_steps (self) > before)
    {
      update_reader (self);
      g_clear_pointer (&self->highlighted_steps, g_hash_table_unref);
      if (self->step < 0)
        {
          self->step = 0;
          g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STEP]);
        }
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_STEPS]);
      g_signal_emit (self, signals[SIGNAL_STEPS_ADDED], 0, before,
                     ts_session_get_n_steps (self) - before);
      update_actions (self);
      if (ts_step_list_get_scenario (self->list))
        set_title (self, ts_step_list_get_scenario (self->list));
    }
  live_read (self);
  g_object_unref (self);
}

static void
live_read (TsSession *self)
{
  GInputStream *out = g_subprocess_get_stdout_pipe (self->live_process);

  g_input_stream_read_bytes_async (out, LIVE_CHUNK, G_PRIORITY_DEFAULT, self->live_cancellable,
                                   live_read_done, g_object_ref (self));
}

static void
live_stderr_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  TsSession *self = user_data;
  g_autoptr (GBytes) bytes
      = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result, NULL);

  if (bytes != NULL && g_bytes_get_size (bytes) > 0)
    {
      if (self->live_stderr == NULL)
        self->live_stderr = g_string_new (NULL);
      if (self->live_stderr->len < 64 * 1024)
        g_string_append_len (self->live_stderr, g_bytes_get_data (bytes, NULL),
                             g_bytes_get_size (bytes));
      g_input_stream_read_bytes_async (G_INPUT_STREAM (source), 4096, G_PRIORITY_DEFAULT, NULL,
                                       live_stderr_done, self);
      return;
    }
  if (self->live_stderr && self->live_stderr->len > 0)
    {
      g_strchomp (self->live_stderr->str);
      set_error (self, self->live_stderr->str);
    }
  g_object_unref (self);
}

gboolean
ts_session_run_live (TsSession *self, const char *scenario, const char *const *argv_override,
                     GError **error)
{
  g_autofree char *tscope = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  const char *argv[6];

  g_return_val_if_fail (TS_IS_SESSION (self), FALSE);
  g_return_val_if_fail (scenario != NULL || argv_override != NULL, FALSE);
  ts_session_stop_live (self);
  if (argv_override == NULL)
    {
      tscope = ts_session_find_tscope ();
      if (tscope == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                       "tscope was not found: build it, or install Tunnelscope");
          return FALSE;
        }
      argv[0] = tscope;
      argv[1] = "run";
      argv[2] = scenario;
      argv[3] = "-o";
      argv[4] = "-";
      argv[5] = NULL;
    }
  proc = g_subprocess_newv (argv_override ? (const char *const *)argv_override : argv,
                            G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, error);
  if (proc == NULL)
    return FALSE;
  replace_list (self, ts_step_list_new ());
  set_error (self, NULL);
  set_title (self, scenario ? scenario : "live");
  if (self->live_stderr)
    g_string_truncate (self->live_stderr, 0);
  self->live_process = g_steal_pointer (&proc);
  self->live_cancellable = g_cancellable_new ();
  set_live (self, TRUE);
  live_read (self);
  g_input_stream_read_bytes_async (g_subprocess_get_stderr_pipe (self->live_process), 4096,
                                   G_PRIORITY_DEFAULT, NULL, live_stderr_done, g_object_ref (self));
  return TRUE;
}

void
ts_session_stop_live (TsSession *self)
{
  g_return_if_fail (TS_IS_SESSION (self));
  if (self->live_cancellable)
    g_cancellable_cancel (self->live_cancellable);
  g_clear_object (&self->live_cancellable);
  if (self->live_process)
    {
      /* The lab's supervisor tears its namespaces down on SIGTERM. */
      g_subprocess_send_signal (self->live_process, SIGTERM);
      g_clear_object (&self->live_process);
    }
  set_live (self, FALSE);
}
