/* ts-lesson-pane.c: the lesson player beside the views.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "ts-lesson-pane.h"

#include <json-glib/json-glib.h>

#include "ts-lesson-progress.h"
#include "ts-lesson-query.h"
#include "ts-markdown.h"
#include "ts-timeline-render.h"

struct _TsLessonPane
{
  GtkWidget parent_instance;

  /* template children */
  GtkScrolledWindow *scroller;
  GtkLabel *lesson_label;
  GtkLabel *title_label;
  GtkLabel *objectives_label;
  GtkLabel *source_label;
  GtkWidget *missing_box;
  GtkLabel *missing_label;
  GtkLabel *intro_label;
  GtkLabel *step_title_label;
  GtkLabel *settings_label;
  GtkLabel *narrative_label;
  GtkWidget *question_box;
  GtkLabel *prompt_label;
  GtkBox *choices_box;
  GtkEntry *answer_entry;
  GtkLabel *feedback_label;
  GtkLabel *position_label;

  TsSession *session;
  TsSession *compare; /* the right side of compare mode, or NULL */
  TsLesson *lesson;
  guint step;
  GPtrArray *choices; /* GtkCheckButton *, borrowed (children of choices_box) */
  TsLessonProgress *progress;
  gboolean no_progress; /* pictures of lessons are not a student's progress */
  /* The session's timeline as the analyzer's JSON events, for the
   * queries; NULL: to render again (a new trace, new events). */
  JsonParser *events;
  JsonParser *compare_events; /* the same for the compare side */
  guint requery_source;       /* a live lab's new events: query again soon */
};

/* Cap: the events a lesson's queries run over. Lessons use small captures;
 * a lesson left open over a huge trace does not render it all as JSON. */
#define MAX_QUERY_EVENTS 100000
/* A live lab's events arrive in many small batches: the queries run again
 * at most this often (ms). */
#define REQUERY_INTERVAL_MS 250

G_DEFINE_FINAL_TYPE (TsLessonPane, ts_lesson_pane, GTK_TYPE_WIDGET)

enum
{
  SIGNAL_CLOSE,
  SIGNAL_STEP_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* @session's timeline as the analyzer's JSON events, rendered once into
 * @slot (cleared when the session changes). */
static JsonArray *
timeline_json (TsSession *session, JsonParser **slot)
{
  JsonNode *root, *events;

  if (session == NULL)
    return NULL;
  if (*slot == NULL && ts_session_get_n_steps (session) > MAX_QUERY_EVENTS)
    return NULL;
  if (*slot == NULL)
    {
      const TsTimeline *tl = ts_step_list_get_timeline (ts_session_get_step_list (session));
      TsRenderOptions options = { .as_node = -1, .no_coalesce = TRUE };
      g_autofree char *json = ts_timeline_render_json (tl, &options);
      g_autoptr (GError) error = NULL;

      *slot = json_parser_new ();
      if (!json_parser_load_from_data (*slot, json, -1, &error))
        {
          g_warning ("the timeline's JSON does not parse: %s", error->message);
          return NULL;
        }
    }
  root = json_parser_get_root (*slot);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  events = json_object_get_member (json_node_get_object (root), "events");
  return events && JSON_NODE_HOLDS_ARRAY (events) ? json_node_get_array (events) : NULL;
}

static JsonArray *
events_json (TsLessonPane *self)
{
  return timeline_json (self->session, &self->events);
}

/* The `index` of the events of @events that @query_text matches. */
static GArray *
find_events (JsonArray *events, const char *query_text)
{
  GArray *found = g_array_new (FALSE, FALSE, sizeof (guint32));
  g_autoptr (TsLessonQuery) query = NULL;

  if (events == NULL || query_text == NULL
      || (query = ts_lesson_query_new (query_text, NULL)) == NULL)
    return found;
  for (guint i = 0; i < json_array_get_length (events); i++)
    {
      JsonObject *event = json_array_get_object_element (events, i);

      if (event != NULL && ts_lesson_query_matches (query, event))
        {
          guint32 index = (guint32)json_object_get_int_member_with_default (event, "index", 0);
          g_array_append_val (found, index);
        }
    }
  return found;
}

GArray *
ts_lesson_pane_resolve (TsLessonPane *self, const char *query_text)
{
  g_return_val_if_fail (TS_IS_LESSON_PANE (self), NULL);
  return find_events (events_json (self), query_text);
}

/* The answer the capture gives, where the question says how to compute it. */
static char *
computed_answer (TsLessonPane *self, const TsLessonQuestion *q)
{
  g_autoptr (TsLessonQuery) query = NULL;
  JsonArray *events;
  guint n = 0;

  /* An answer from the compare capture is checked by the lesson tests; the
   * pane confirms only what its own trace says. */
  if (q->from_query == NULL || q->from_compare
      || (query = ts_lesson_query_new (q->from_query, NULL)) == NULL
      || (events = events_json (self)) == NULL)
    return NULL;
  for (guint i = 0; i < json_array_get_length (events); i++)
    {
      JsonObject *event = json_array_get_object_element (events, i);

      if (event == NULL || !ts_lesson_query_matches (query, event))
        continue;
      if (g_strcmp0 (q->from_field, "#count") != 0)
        return ts_lesson_json_get_text (event, q->from_field);
      n++;
    }
  return g_strcmp0 (q->from_field, "#count") == 0 ? g_strdup_printf ("%u", n) : NULL;
}

/* Activates the window's action @name with @param (floating, consumed). */
static void
activate (TsLessonPane *self, const char *name, GVariant *param)
{
  g_autoptr (GVariant) owned = g_variant_ref_sink (param);

  if (!gtk_widget_activate_action_variant (GTK_WIDGET (self), name, owned))
    g_debug ("lesson pane: no action %s here", name);
}

static const TsLessonStep *
current (TsLessonPane *self)
{
  if (self->lesson == NULL || self->step >= self->lesson->steps->len)
    return NULL;
  return self->lesson->steps->pdata[self->step];
}

static void
set_feedback (TsLessonPane *self, const char *text, const char *css)
{
  gtk_label_set_text (self->feedback_label, text);
  gtk_widget_set_visible (GTK_WIDGET (self->feedback_label), text != NULL && *text != '\0');
  gtk_widget_remove_css_class (GTK_WIDGET (self->feedback_label), "success");
  gtk_widget_remove_css_class (GTK_WIDGET (self->feedback_label), "error");
  if (css)
    gtk_widget_add_css_class (GTK_WIDGET (self->feedback_label), css);
}

static void
update_actions (TsLessonPane *self)
{
  guint n = self->lesson ? self->lesson->steps->len : 0;
  const TsLessonStep *step = current (self);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "lesson.previous", n > 0 && self->step > 0);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "lesson.next", n > 0 && self->step + 1 < n);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "lesson.check", step && step->question);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "lesson.show-answer", step && step->question);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "lesson.run-live", self->lesson != NULL);
}

static void
clear_choices (TsLessonPane *self)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->choices_box))) != NULL)
    gtk_box_remove (self->choices_box, child);
  g_ptr_array_set_size (self->choices, 0);
}

static void
select_choice (TsLessonPane *self, const char *text)
{
  for (guint i = 0; i < self->choices->len; i++)
    {
      GtkCheckButton *b = self->choices->pdata[i];
      if (g_strcmp0 (g_object_get_data (G_OBJECT (b), "choice"), text) == 0)
        gtk_check_button_set_active (b, TRUE);
    }
}

static void
on_choice_toggled (GtkCheckButton *button, TsLessonPane *self)
{
  /* A new choice: the old verdict no longer applies. */
  if (gtk_check_button_get_active (button))
    set_feedback (self, "", NULL);
}

static void
show_question (TsLessonPane *self, const TsLessonQuestion *q)
{
  GtkCheckButton *group = NULL;
  gboolean answered;

  clear_choices (self);
  gtk_widget_set_visible (self->question_box, q != NULL);
  set_feedback (self, "", NULL);
  if (q == NULL)
    return;
  gtk_label_set_text (self->prompt_label, q->prompt);
  for (guint i = 0; i < q->choices->len; i++)
    {
      GtkWidget *b = gtk_check_button_new_with_label (q->choices->pdata[i]);

      g_object_set_data_full (G_OBJECT (b), "choice", g_strdup (q->choices->pdata[i]), g_free);
      if (group)
        gtk_check_button_set_group (GTK_CHECK_BUTTON (b), group);
      else
        group = GTK_CHECK_BUTTON (b);
      g_signal_connect (b, "toggled", G_CALLBACK (on_choice_toggled), self);
      gtk_box_append (self->choices_box, b);
      g_ptr_array_add (self->choices, b);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->choices_box), q->choices->len > 0);
  gtk_widget_set_visible (GTK_WIDGET (self->answer_entry), q->choices->len == 0);
  gtk_editable_set_text (GTK_EDITABLE (self->answer_entry), "");
  answered = self->progress
             && ts_lesson_progress_is_answered (self->progress, self->lesson->number, self->step);
  if (answered)
    {
      g_autofree char *text = g_strdup_printf ("Answered right before: %s.", q->answer);
      select_choice (self, q->answer);
      set_feedback (self, text, "success");
    }
}

static const char *
view_title (TsLessonView view)
{
  switch (view)
    {
      case TS_LESSON_VIEW_TOPOLOGY:
        return "Topology";
      case TS_LESSON_VIEW_DETAIL:
        return "Bytes";
      case TS_LESSON_VIEW_COMPARE:
        return "Compare";
      case TS_LESSON_VIEW_LADDER:
      default:
        return "Ladder";
    }
}

/* A compare step whose events are on the right only (a client refusing
 * the proxy's certificate, where the left one trusts it): the left goes to
 * the same time since its first packet, and the right to the first of
 * them. */
static void
go_to_compare_highlight (TsLessonPane *self)
{
  const TsLessonStep *step = current (self);
  TsStepList *left, *right;
  guint64 rel, t0;
  int first;
  guint n;

  if (step == NULL || step->view != TS_LESSON_VIEW_COMPARE || self->session == NULL
      || self->compare == NULL || ts_session_get_first_highlighted_step (self->session) >= 0
      || (first = ts_session_get_first_highlighted_step (self->compare)) < 0)
    return;
  left = ts_session_get_step_list (self->session);
  right = ts_session_get_step_list (self->compare);
  n = ts_step_list_get_n_steps (left);
  if (n == 0)
    return;
  t0 = ts_step_list_get_first_wire_time (right);
  rel = ts_step_list_get_event (right, (guint)first)->time_ns > t0
            ? ts_step_list_get_event (right, (guint)first)->time_ns - t0
            : 0;
  t0 = ts_step_list_get_first_wire_time (left);
  for (guint i = 0; i < n; i++)
    {
      guint64 tm = ts_step_list_get_event (left, i)->time_ns;

      if (i + 1 == n || (tm > t0 && tm - t0 >= rel))
        {
          activate (self, "session.goto", g_variant_new_int32 ((gint32)i));
          /* The right follows the left to the step at or before that
           * time: it shows the first event itself. */
          activate (self, "compare.goto", g_variant_new_int32 (first));
          return;
        }
    }
}

/* Sets the session for the current step, through its actions. */
static void
apply_to_session (TsLessonPane *self, gboolean move)
{
  const TsLessonStep *step = current (self);
  g_autoptr (GArray) found = NULL;
  g_autoptr (GString) settings = g_string_new (NULL);
  guint n_other = 0;

  if (step == NULL)
    return;
  found = ts_lesson_pane_resolve (self, step->highlight);
  /* In compare mode the right side marks the same query in its own trace. */
  if (self->compare)
    {
      g_autoptr (GArray) other
          = step->view == TS_LESSON_VIEW_COMPARE ? find_events (
                timeline_json (self->compare, &self->compare_events), step->highlight)
                                                 : g_array_new (FALSE, FALSE, sizeof (guint32));
      activate (self, "compare.highlight",
                g_variant_new_fixed_array (G_VARIANT_TYPE_UINT32, other->data, other->len,
                                           sizeof (guint32)));
      n_other = other->len;
    }
  activate (
      self, "session.highlight",
      g_variant_new_fixed_array (G_VARIANT_TYPE_UINT32, found->data, found->len, sizeof (guint32)));
  if (move)
    {
      activate (self, "session.view", g_variant_new_string (ts_lesson_view_to_string (step->view)));
      activate (self, "session.as", g_variant_new_string (step->as ? step->as : ""));
      if (found->len > 0 && self->session)
        {
          int first = ts_session_get_first_highlighted_step (self->session);
          if (first >= 0)
            activate (self, "session.goto", g_variant_new_int32 (first));
        }
      else
        go_to_compare_highlight (self);
    }

  g_string_append (settings, view_title (step->view));
  if (step->view == TS_LESSON_VIEW_COMPARE
      && ts_lesson_get_step_compare (self->lesson, self->step) != NULL)
    g_string_append_printf (settings, " with %s",
                            ts_lesson_get_step_compare (self->lesson, self->step));
  if (step->as)
    g_string_append_printf (settings, " · as seen by %s", step->as);
  if (step->highlight && n_other > 0)
    g_string_append_printf (settings, " · %u event%s highlighted on the left, %u on the right",
                            found->len, found->len == 1 ? "" : "s", n_other);
  else if (step->highlight)
    {
      if (found->len > 0)
        g_string_append_printf (settings, " · %u event%s highlighted", found->len,
                                found->len == 1 ? "" : "s");
      else if (self->session && ts_session_get_n_steps (self->session) > MAX_QUERY_EVENTS)
        g_string_append_printf (
            settings, " · this trace is too long for the lesson's highlights (over %d events)",
            MAX_QUERY_EVENTS);
      else if (self->session && ts_session_get_n_steps (self->session) > 0)
        g_string_append_printf (settings, " · nothing in this trace matches %s", step->highlight);
    }
  gtk_label_set_text (self->settings_label, settings->str);
}

void
ts_lesson_pane_go (TsLessonPane *self, guint index)
{
  const TsLessonStep *step;
  g_autofree char *narrative = NULL;
  g_autofree char *position = NULL;
  g_autofree char *heading = NULL;

  g_return_if_fail (TS_IS_LESSON_PANE (self));
  if (self->lesson == NULL || self->lesson->steps->len == 0)
    return;
  self->step = MIN (index, self->lesson->steps->len - 1);
  step = current (self);

  heading = g_strdup_printf ("Lesson %u · step %u of %u", self->lesson->number, self->step + 1,
                             self->lesson->steps->len);
  gtk_label_set_text (self->lesson_label, heading);
  position = g_strdup_printf ("%u / %u", self->step + 1, self->lesson->steps->len);
  gtk_label_set_text (self->position_label, position);
  gtk_label_set_text (self->step_title_label, step->title);
  narrative = ts_markdown_to_pango (step->narrative);
  gtk_label_set_markup (self->narrative_label, narrative);
  /* The introduction leads into the first step only. */
  gtk_widget_set_visible (GTK_WIDGET (self->intro_label),
                          self->step == 0 && self->lesson->intro && *self->lesson->intro);
  show_question (self, step->question);
  /* The window puts the step's compare capture on the compare side first,
   * where it is not there yet. */
  g_signal_emit (self, signals[SIGNAL_STEP_CHANGED], 0);
  apply_to_session (self, TRUE);
  update_actions (self);
  gtk_adjustment_set_value (gtk_scrolled_window_get_vadjustment (self->scroller), 0);

  if (self->progress)
    {
      g_autoptr (GError) error = NULL;
      if (!ts_lesson_progress_set_step (self->progress, self->lesson->number, self->step, &error))
        g_message ("lesson progress not saved: %s", error->message);
    }
}

guint
ts_lesson_pane_get_step (TsLessonPane *self)
{
  g_return_val_if_fail (TS_IS_LESSON_PANE (self), 0);
  return self->step;
}

const TsLesson *
ts_lesson_pane_get_lesson (TsLessonPane *self)
{
  g_return_val_if_fail (TS_IS_LESSON_PANE (self), NULL);
  return self->lesson;
}

/* Right when equal to the answer, ignoring case and surrounding spaces. */
static gboolean
answer_matches (const TsLessonQuestion *q, const char *given)
{
  g_autofree char *text = g_strstrip (g_strdup (given ? given : ""));
  g_autofree char *a = g_utf8_casefold (text, -1);
  g_autofree char *b = g_utf8_casefold (q->answer, -1);

  return g_strcmp0 (a, b) == 0;
}

gboolean
ts_lesson_pane_answer (TsLessonPane *self, const char *answer)
{
  const TsLessonStep *step;
  const TsLessonQuestion *q;

  g_return_val_if_fail (TS_IS_LESSON_PANE (self), FALSE);
  step = current (self);
  if (step == NULL || step->question == NULL)
    return FALSE;
  q = step->question;
  if (answer == NULL || *answer == '\0')
    {
      set_feedback (self, q->choices->len > 0 ? "Choose an answer first." : "Type an answer first.",
                    NULL);
      return FALSE;
    }
  /* The choice answered shows as chosen, whoever answered. */
  for (guint i = 0; i < self->choices->len; i++)
    {
      const char *choice = g_object_get_data (G_OBJECT (self->choices->pdata[i]), "choice");
      g_autofree char *a = g_utf8_casefold (choice, -1);
      g_autofree char *stripped = g_strstrip (g_strdup (answer));
      g_autofree char *b = g_utf8_casefold (stripped, -1);
      if (g_strcmp0 (a, b) == 0 && !gtk_check_button_get_active (self->choices->pdata[i]))
        gtk_check_button_set_active (self->choices->pdata[i], TRUE);
    }
  if (!answer_matches (q, answer))
    {
      set_feedback (self, "Not quite: try again, or show the answer.", "error");
      return FALSE;
    }
  {
    g_autofree char *computed = computed_answer (self, q);
    g_autofree char *text = NULL;
    g_autoptr (GError) error = NULL;

    if (computed != NULL)
      text = g_strdup_printf ("Right: %s. The capture says so too: %s.", q->answer, computed);
    else
      text = g_strdup_printf ("Right: %s.", q->answer);
    set_feedback (self, text, "success");
    if (self->progress
        && !ts_lesson_progress_set_answered (self->progress, self->lesson->number, self->step,
                                             &error))
      g_message ("lesson progress not saved: %s", error->message);
  }
  return TRUE;
}

void
ts_lesson_pane_set_record_progress (TsLessonPane *self, gboolean record)
{
  g_return_if_fail (TS_IS_LESSON_PANE (self));
  self->no_progress = !record;
  if (!record)
    g_clear_pointer (&self->progress, ts_lesson_progress_free);
}

const char *
ts_lesson_pane_get_capture_missing (TsLessonPane *self)
{
  g_return_val_if_fail (TS_IS_LESSON_PANE (self), NULL);
  return gtk_widget_get_visible (self->missing_box) ? gtk_label_get_text (self->missing_label)
                                                    : NULL;
}

const char *
ts_lesson_pane_get_feedback (TsLessonPane *self)
{
  g_return_val_if_fail (TS_IS_LESSON_PANE (self), "");
  return gtk_label_get_text (self->feedback_label);
}

static void
action_check (GtkWidget *widget, const char *name, GVariant *param)
{
  TsLessonPane *self = TS_LESSON_PANE (widget);
  const char *given = NULL;

  for (guint i = 0; i < self->choices->len; i++)
    if (gtk_check_button_get_active (self->choices->pdata[i]))
      given = g_object_get_data (G_OBJECT (self->choices->pdata[i]), "choice");
  if (self->choices->len == 0)
    given = gtk_editable_get_text (GTK_EDITABLE (self->answer_entry));
  ts_lesson_pane_answer (self, given);
}

static void
action_show_answer (GtkWidget *widget, const char *name, GVariant *param)
{
  TsLessonPane *self = TS_LESSON_PANE (widget);
  const TsLessonStep *step = current (self);
  g_autofree char *text = NULL;

  if (step == NULL || step->question == NULL)
    return;
  select_choice (self, step->question->answer);
  if (step->question->choices->len == 0)
    gtk_editable_set_text (GTK_EDITABLE (self->answer_entry), step->question->answer);
  text = g_strdup_printf ("The answer: %s.", step->question->answer);
  set_feedback (self, text, NULL);
}

static void
action_previous (GtkWidget *widget, const char *name, GVariant *param)
{
  TsLessonPane *self = TS_LESSON_PANE (widget);

  if (self->step > 0)
    ts_lesson_pane_go (self, self->step - 1);
}

static void
action_next (GtkWidget *widget, const char *name, GVariant *param)
{
  TsLessonPane *self = TS_LESSON_PANE (widget);

  ts_lesson_pane_go (self, self->step + 1);
}

static void
action_run_live (GtkWidget *widget, const char *name, GVariant *param)
{
  TsLessonPane *self = TS_LESSON_PANE (widget);

  if (self->lesson)
    activate (self, "win.run-scenario", g_variant_new_string (self->lesson->scenario));
}

static void
action_close (GtkWidget *widget, const char *name, GVariant *param)
{
  g_signal_emit (widget, signals[SIGNAL_CLOSE], 0);
}

/* A new trace, or a live lab's new events: the queries run again; the
 * step stays where the student is. */
static void
on_session_changed (TsLessonPane *self)
{
  g_clear_handle_id (&self->requery_source, g_source_remove);
  g_clear_object (&self->events);
  if (self->lesson)
    apply_to_session (self, FALSE);
}

static gboolean
requery (gpointer user_data)
{
  TsLessonPane *self = user_data;

  self->requery_source = 0;
  on_session_changed (self);
  return G_SOURCE_REMOVE;
}

static void
on_steps_added (TsLessonPane *self)
{
  g_clear_object (&self->events);
  if (self->lesson && self->requery_source == 0)
    self->requery_source = g_timeout_add (REQUERY_INTERVAL_MS, requery, self);
}

void
ts_lesson_pane_set_session (TsLessonPane *self, TsSession *session)
{
  g_return_if_fail (TS_IS_LESSON_PANE (self));
  if (self->session)
    g_signal_handlers_disconnect_by_data (self->session, self);
  g_set_object (&self->session, session);
  g_clear_object (&self->events);
  if (session)
    {
      g_signal_connect_swapped (session, "reset", G_CALLBACK (on_session_changed), self);
      g_signal_connect_swapped (session, "steps-added", G_CALLBACK (on_steps_added), self);
    }
}

static void
on_compare_changed (TsLessonPane *self)
{
  g_clear_object (&self->compare_events);
  if (self->lesson)
    apply_to_session (self, FALSE);
}

void
ts_lesson_pane_show_compare (TsLessonPane *self)
{
  g_return_if_fail (TS_IS_LESSON_PANE (self));
  if (self->lesson)
    go_to_compare_highlight (self);
}

void
ts_lesson_pane_set_compare_session (TsLessonPane *self, TsSession *compare)
{
  g_return_if_fail (TS_IS_LESSON_PANE (self));
  if (self->compare)
    g_signal_handlers_disconnect_by_data (self->compare, self);
  g_set_object (&self->compare, compare);
  g_clear_object (&self->compare_events);
  if (compare)
    {
      g_signal_connect_swapped (compare, "reset", G_CALLBACK (on_compare_changed), self);
      g_signal_connect_swapped (compare, "steps-added", G_CALLBACK (on_compare_changed), self);
    }
}

void
ts_lesson_pane_set_lesson (TsLessonPane *self, TsLesson *lesson, const char *capture_missing)
{
  g_autofree char *objectives = NULL;
  g_autofree char *source = NULL;
  g_autofree char *intro = NULL;

  g_return_if_fail (TS_IS_LESSON_PANE (self));
  g_clear_pointer (&self->lesson, ts_lesson_free);
  g_clear_pointer (&self->progress, ts_lesson_progress_free);
  g_clear_object (&self->events);
  g_clear_object (&self->compare_events);
  self->lesson = lesson;
  self->step = 0;
  if (lesson == NULL)
    {
      update_actions (self);
      return;
    }
  if (!self->no_progress)
    self->progress = ts_lesson_progress_new (NULL);
  gtk_label_set_text (self->title_label, lesson->title);
  if (lesson->objectives)
    {
      g_autofree char *escaped = g_markup_escape_text (lesson->objectives, -1);
      objectives = g_strdup_printf ("<b>Objectives.</b> %s", escaped);
    }
  gtk_label_set_markup (self->objectives_label, objectives ? objectives : "");
  gtk_widget_set_visible (GTK_WIDGET (self->objectives_label), objectives != NULL);
  source = g_strdup_printf ("Capture: %s · live: the %s scenario%s%s", lesson->capture,
                            lesson->scenario, lesson->cites ? " · Cites: " : "",
                            lesson->cites ? lesson->cites : "");
  gtk_label_set_text (self->source_label, source);
  if (capture_missing)
    {
      g_autofree char *text = g_strdup_printf (
          "%s\n\nRun the %s scenario live to follow the lesson on a fresh lab (where this machine "
          "can "
          "make one: root, or unprivileged user namespaces); the narrative works without it.",
          capture_missing, lesson->scenario);
      gtk_label_set_text (self->missing_label, text);
    }
  gtk_widget_set_visible (self->missing_box, capture_missing != NULL);
  intro = ts_markdown_to_pango (lesson->intro);
  gtk_label_set_markup (self->intro_label, intro);
  update_actions (self);
}

static void
ts_lesson_pane_dispose (GObject *object)
{
  TsLessonPane *self = TS_LESSON_PANE (object);

  g_clear_handle_id (&self->requery_source, g_source_remove);
  ts_lesson_pane_set_session (self, NULL);
  ts_lesson_pane_set_compare_session (self, NULL);
  gtk_widget_dispose_template (GTK_WIDGET (self), TS_TYPE_LESSON_PANE);
  {
    GtkWidget *child;
    while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
      gtk_widget_unparent (child);
  }
  G_OBJECT_CLASS (ts_lesson_pane_parent_class)->dispose (object);
}

static void
ts_lesson_pane_finalize (GObject *object)
{
  TsLessonPane *self = TS_LESSON_PANE (object);

  g_clear_pointer (&self->lesson, ts_lesson_free);
  g_clear_pointer (&self->progress, ts_lesson_progress_free);
  g_clear_pointer (&self->choices, g_ptr_array_unref);
  g_clear_object (&self->events);
  g_clear_object (&self->compare_events);
  G_OBJECT_CLASS (ts_lesson_pane_parent_class)->finalize (object);
}

static void
ts_lesson_pane_class_init (TsLessonPaneClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ts_lesson_pane_dispose;
  object_class->finalize = ts_lesson_pane_finalize;

  signals[SIGNAL_CLOSE] = g_signal_new ("close", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                        NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_STEP_CHANGED]
      = g_signal_new ("step-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                      NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/tunnelscope/Tunnelscope/ts-lesson-pane.ui");
#define BIND(name) gtk_widget_class_bind_template_child (widget_class, TsLessonPane, name)
  BIND (scroller);
  BIND (lesson_label);
  BIND (title_label);
  BIND (objectives_label);
  BIND (source_label);
  BIND (missing_box);
  BIND (missing_label);
  BIND (intro_label);
  BIND (step_title_label);
  BIND (settings_label);
  BIND (narrative_label);
  BIND (question_box);
  BIND (prompt_label);
  BIND (choices_box);
  BIND (answer_entry);
  BIND (feedback_label);
  BIND (position_label);
#undef BIND
  gtk_widget_class_install_action (widget_class, "lesson.previous", NULL, action_previous);
  gtk_widget_class_install_action (widget_class, "lesson.next", NULL, action_next);
  gtk_widget_class_install_action (widget_class, "lesson.check", NULL, action_check);
  gtk_widget_class_install_action (widget_class, "lesson.show-answer", NULL, action_show_answer);
  gtk_widget_class_install_action (widget_class, "lesson.run-live", NULL, action_run_live);
  gtk_widget_class_install_action (widget_class, "lesson.close", NULL, action_close);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Left, GDK_ALT_MASK, "lesson.previous",
                                       NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Right, GDK_ALT_MASK, "lesson.next",
                                       NULL);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "lessonpane");
}

static void
on_entry_activate (TsLessonPane *self)
{
  action_check (GTK_WIDGET (self), "lesson.check", NULL);
}

static void
ts_lesson_pane_init (TsLessonPane *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->choices = g_ptr_array_new ();
  g_signal_connect_swapped (self->answer_entry, "activate", G_CALLBACK (on_entry_activate), self);
  update_actions (self);
}

GtkWidget *
ts_lesson_pane_new (void)
{
  return g_object_new (TS_TYPE_LESSON_PANE, NULL);
}
