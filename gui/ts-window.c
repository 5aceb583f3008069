/* ts-window.c: the main window.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "ts-window.h"

#include <string.h>

#include "ts-lesson-files.h"
#include "ts-lesson-progress.h"
#include "ts-tls-types.h"

static const double speeds[] = { 0.5, 1, 2, 4, 8, 16 };

struct _TsWindow
{
  AdwApplicationWindow parent_instance;

  /* template children */
  AdwHeaderBar *header;
  GtkWidget *home_button;
  GtkWidget *as_box;
  GtkDropDown *as_dropdown;
  AdwViewSwitcherTitle *switcher_title;
  GtkProgressBar *progress;
  GtkRevealer *live_revealer;
  GtkSpinner *live_spinner;
  GtkLabel *live_label;
  GtkStack *main_stack;
  TsStartPage *start_page;
  AdwViewStack *views;
  TsLadderView *ladder;
  TsDetailView *ladder_detail;
  TsTopologyView *topology;
  TsDetailView *detail;
  TsEventList *events;
  TsLadderView *compare_a;
  TsLadderView *compare_b;
  GtkLabel *compare_summary;
  GtkLabel *compare_title_a;
  GtkLabel *compare_title_b;
  GtkLabel *compare_note_a;
  GtkLabel *compare_note_b;
  GtkButton *play_button;
  GtkScale *scrubber;
  GtkAdjustment *scrub_adjustment;
  GtkLabel *step_label;
  GtkDropDown *speed_dropdown;
  GtkRevealer *lesson_revealer;
  TsLessonPane *lesson_pane;

  TsSession *session;
  TsSession *compare;
  GtkStringList *as_model;
  GPtrArray *as_values; /* char*: the "as" value of each dropdown item */
  gboolean syncing;
  GtkFileChooserNative *chooser;
  /* The lesson's compare capture on the compare side (captures/NAME.pcapng,
   * as ts_lesson_dup_step_compare_capture () names it), or NULL; and
   * whether one is loading. */
  char *lesson_compare;
  gboolean lesson_compare_loading;
};

G_DEFINE_FINAL_TYPE (TsWindow, ts_window, ADW_TYPE_APPLICATION_WINDOW)

static void load_step_compare (TsWindow *self);

static void
show_error (TsWindow *self, const char *heading, const char *body)
{
  GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (self), heading, body);

  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", "_Close");
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
update_step_label (TsWindow *self)
{
  int step = ts_session_get_step (self->session);
  guint n = ts_session_get_n_steps (self->session);
  g_autofree char *text = NULL;

  guint64 lost = ts_timeline_get_capture_lost (
      ts_step_list_get_timeline (ts_session_get_step_list (self->session)));

  const char *damage = ts_step_list_get_damage (ts_session_get_step_list (self->session));

  if (n == 0)
    text = g_strdup ("no steps");
  else if (damage != NULL)
    text = g_strdup_printf ("step %d of %u · the trace is damaged: read up to the damage", step + 1,
                            n);
  else if (lost > 0)
    text = g_strdup_printf ("step %d of %u · the capture lost %" G_GUINT64_FORMAT " packet%s",
                            step + 1, n, lost, lost == 1 ? "" : "s");
  else
    text = g_strdup_printf ("step %d of %u", step + 1, n);
  gtk_label_set_text (self->step_label, text);
  if (damage != NULL)
    {
      g_autofree char *tip = g_strdup_printf (
          "%s. The steps before it are shown; the anomaly at the end says where it stopped.",
          damage);
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->step_label), tip);
    }
  else
    gtk_widget_set_tooltip_text (GTK_WIDGET (self->step_label),
                                 lost > 0 ? "The capture did not keep up with the traffic: the "
                                            "gaps it left are the capture's, not the network's "
                                            "(see the anomaly on each link, at the end)"
                                          : NULL);
}

static void
update_scrubber (TsWindow *self)
{
  guint n = ts_session_get_n_steps (self->session);

  self->syncing = TRUE;
  gtk_adjustment_configure (self->scrub_adjustment, MAX (ts_session_get_step (self->session), 0), 0,
                            MAX (n, 1) - 1 + 1, 1, MAX (n / 20, 1), 1);
  gtk_widget_set_sensitive (GTK_WIDGET (self->scrubber), n > 1);
  self->syncing = FALSE;
  update_step_label (self);
}

static void
on_scrub (GtkAdjustment *adj, TsWindow *self)
{
  if (self->syncing)
    return;
  ts_session_set_step (self->session, (int)(gtk_adjustment_get_value (adj) + 0.5));
}

/* The whose-eyes choices: everyone, each node, the on-path observer. */
static void
rebuild_as (TsWindow *self)
{
  const TsTimeline *tl = ts_step_list_get_timeline (ts_session_get_step_list (self->session));
  const char *current = ts_session_get_as (self->session);
  int reader = ts_session_get_reader (self->session);
  guint selected = 0;
  g_autoptr (GPtrArray) labels = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_set_size (self->as_values, 0);
  g_ptr_array_add (self->as_values, g_strdup (""));
  g_ptr_array_add (labels, g_strdup ("Everyone (all keys)"));
  for (guint i = 0; i < ts_timeline_get_n_nodes (tl); i++)
    {
      const TsTimelineNode *n = ts_timeline_get_node (tl, i);
      if (n->merged_into >= 0)
        continue;
      /* The node the session resolved its name or address to. */
      if ((int)i == reader)
        selected = self->as_values->len;
      g_ptr_array_add (self->as_values, g_strdup (n->name));
      g_ptr_array_add (labels, n->role ? g_strdup_printf ("%s (%s)", n->name, n->role)
                                       : g_strdup (n->name));
    }
  g_ptr_array_add (self->as_values, g_strdup ("observer"));
  g_ptr_array_add (labels, g_strdup ("On-path observer"));
  if (reader == TS_SESSION_READER_OBSERVER)
    selected = self->as_values->len - 1;
  /* A name this trace lacks (a lesson's, or a trace that replaced the one
   * it was chosen in) is shown as such, not as everyone. */
  if (reader == TS_SESSION_READER_NONE)
    {
      selected = self->as_values->len;
      g_ptr_array_add (self->as_values, g_strdup (current));
      g_ptr_array_add (labels, g_strdup_printf ("%s: no such node", current));
    }
  g_ptr_array_add (labels, NULL);
  self->syncing = TRUE;
  gtk_string_list_splice (self->as_model, 0,
                          g_list_model_get_n_items (G_LIST_MODEL (self->as_model)),
                          (const char *const *)labels->pdata);
  gtk_drop_down_set_selected (self->as_dropdown, selected);
  self->syncing = FALSE;
}

/* In compare mode, a side whose trace lacks the chosen node says so
 * (else it would look like a node that reads nothing). */
static void
update_compare_note (TsWindow *self, TsSession *session, GtkLabel *note)
{
  g_autofree char *text = NULL;

  if (ts_session_get_reader (session) == TS_SESSION_READER_NONE
      && ts_session_get_n_steps (session) > 0)
    {
      g_autofree char *names = ts_session_dup_node_names (session);
      text = g_strdup_printf ("This trace has no node %s (nodes: %s): nothing here is shown "
                              "as seen by it.",
                              ts_session_get_as (session), names);
    }
  gtk_label_set_text (note, text ? text : "");
  gtk_widget_set_visible (GTK_WIDGET (note), text != NULL);
}

static void
update_compare_notes (TsWindow *self)
{
  update_compare_note (self, self->session, self->compare_note_a);
  update_compare_note (self, self->compare, self->compare_note_b);
}

static void
on_as_selected (TsWindow *self)
{
  guint i = gtk_drop_down_get_selected (self->as_dropdown);

  if (self->syncing || i >= self->as_values->len)
    return;
  ts_session_set_as (self->session, self->as_values->pdata[i]);
}

static void
on_session_as (TsWindow *self)
{
  rebuild_as (self);
  /* The compare side looks through the same eyes. */
  ts_session_set_as (self->compare, ts_session_get_as (self->session));
  update_compare_notes (self);
}

/* Compare mode: the second trace follows the first by time since the
 * first packet. */
static void
sync_compare (TsWindow *self)
{
  TsStepList *a = ts_session_get_step_list (self->session);
  TsStepList *b = ts_session_get_step_list (self->compare);
  guint nb = ts_step_list_get_n_steps (b);
  int step = ts_session_get_step (self->session);
  guint64 rel, t0b;
  guint lo = 0, hi;

  if (step < 0 || nb == 0 || ts_step_list_get_n_steps (a) == 0)
    return;
  rel = ts_step_list_get_event (a, step)->time_ns - ts_step_list_get_first_wire_time (a);
  if (ts_step_list_get_event (a, step)->time_ns < ts_step_list_get_first_wire_time (a))
    rel = 0;
  t0b = ts_step_list_get_first_wire_time (b);
  hi = nb;
  /* The last step of b at or before the same time since its start. */
  while (lo + 1 < hi)
    {
      guint mid = (lo + hi) / 2;
      guint64 tm = ts_step_list_get_event (b, mid)->time_ns;
      if (tm <= t0b || tm - t0b <= rel)
        lo = mid;
      else
        hi = mid;
    }
  ts_session_set_step (self->compare, (int)lo);
}

typedef struct
{
  guint steps, client_hellos, requests, connects, tunnels_relay, tunnels_intercept;
  guint proxy_reads_http;
  const char *issuer;
  int round_trips;       /* the client's, -1: no response seen */
  int proxy_round_trips; /* the proxies' own meanwhile, -1: no response seen */
} CompareFacts;

static gboolean
node_has_role (const TsTimeline *tl, int node, const char *role)
{
  const TsTimelineNode *n;

  if (node < 0 || (guint)node >= ts_timeline_get_n_nodes (tl))
    return FALSE;
  n = ts_timeline_get_node (tl, node);
  return g_strcmp0 (n->role, role) == 0;
}

/* The step at which @node first gets a byte of an answer to a request it
 * sent inside its connection (not a proxy's answer to CONNECT), or -1. */
static int
first_response_step (TsStepList *list, int node)
{
  for (guint i = 0; i < ts_step_list_get_n_steps (list); i++)
    {
      const TsTimelineEvent *ev = ts_step_list_get_event (list, i);
      if (ev->dst == node && ev->http_status > 0 && ev->phase != TS_PHASE_PROXY)
        return (int)i;
    }
  return -1;
}

/* Round trips @node waits for before step @end: each time it sends (a
 * flight, however many messages) and must hear from its peer before it can
 * send its next thing. The first message back ends the wait, except a
 * NewSessionTicket (RFC 8446 §4.6.1, RFC 5077 §3.3 in TLS 1.2), which the
 * server may send unasked and which answers nothing. Only connections @node
 * opened count: on those it waits, on the others it answers. In a relayed
 * tunnel a proxy's own waits are its TCP handshake and its CONNECT; the TLS
 * and HTTP it carries are the client's, relayed. */
static guint
count_waits (TsStepList *list, int node, int end)
{
  const TsTimeline *tl = ts_step_list_get_timeline (list);
  gboolean waiting = FALSE;
  guint n = 0;

  for (int i = 0; i < end; i++)
    {
      const TsTimelineEvent *ev = ts_step_list_get_event (list, (guint)i);
      const TsTimelineConn *conn;

      if (ev->layer == TS_LAYER_LAB || ev->anomaly || ev->conn < 0
          || (guint)ev->conn >= ts_timeline_get_n_conns (tl))
        continue;
      conn = ts_timeline_get_conn (tl, (guint)ev->conn);
      if (conn->client != node)
        continue;
      if (ev->tunnel >= 0 && (guint)ev->tunnel < ts_timeline_get_n_tunnels (tl))
        {
          const TsTimelineTunnel *t = ts_timeline_get_tunnel (tl, (guint)ev->tunnel);
          if (t->client != node && t->mode != TS_TUNNEL_MODE_INTERCEPT
              && ev->phase != TS_PHASE_CONNECT && ev->phase != TS_PHASE_PROXY)
            continue;
        }
      if (ev->src == node && !waiting)
        {
          waiting = TRUE;
          n++;
        }
      else if (ev->dst == node && ev->tls_handshake_type != TS_TLS_HS_NEW_SESSION_TICKET)
        waiting = FALSE;
    }
  return n;
}

static void
compare_facts (TsStepList *list, CompareFacts *f)
{
  const TsTimeline *tl = ts_step_list_get_timeline (list);
  int client = -1, first_response;

  memset (f, 0, sizeof *f);
  f->steps = ts_step_list_get_n_steps (list);
  for (guint i = 0; i < ts_timeline_get_n_tunnels (tl); i++)
    {
      const TsTimelineTunnel *t = ts_timeline_get_tunnel (tl, i);
      if (t->mode == TS_TUNNEL_MODE_INTERCEPT)
        f->tunnels_intercept++;
      else if (t->mode == TS_TUNNEL_MODE_RELAY)
        f->tunnels_relay++;
    }
  for (guint n = 0; n < ts_timeline_get_n_nodes (tl) && client < 0; n++)
    if (node_has_role (tl, (int)n, "client"))
      client = (int)n;
  for (guint i = 0; i < f->steps; i++)
    {
      const TsTimelineEvent *ev = ts_step_list_get_event (list, i);
      gboolean from_client = node_has_role (tl, ev->src, "client");
      gboolean to_client = node_has_role (tl, ev->dst, "client");

      if (ev->layer == TS_LAYER_TLS && ev->tls_handshake_type == 1 && from_client)
        f->client_hellos++;
      /* Requests the client sent (a proxy forwarding it is the same one). */
      if (ev->http_method != NULL && from_client)
        {
          if (g_str_equal (ev->http_method, "CONNECT"))
            f->connects++;
          else
            {
              f->requests++;
              for (guint n = 0; n < ts_timeline_get_n_nodes (tl); n++)
                if (node_has_role (tl, n, "proxy") && ts_timeline_event_readable_by (tl, ev, n))
                  {
                    f->proxy_reads_http++;
                    break;
                  }
            }
        }
      if (f->issuer == NULL && ev->tls_cert_issuer != NULL && to_client)
        f->issuer = ev->tls_cert_issuer;
    }
  /* Round trips before the first byte of the (inner) response: the
   * client's own waits (TCP, CONNECT, the TLS handshake, the request),
   * and those the proxies make on their own connections meanwhile (an
   * intercepting proxy's handshake and request to the origin). */
  first_response = client >= 0 ? first_response_step (list, client) : -1;
  f->round_trips = -1;
  f->proxy_round_trips = -1;
  if (first_response >= 0)
    {
      f->round_trips = (int)count_waits (list, client, first_response);
      f->proxy_round_trips = 0;
      for (guint n = 0; n < ts_timeline_get_n_nodes (tl); n++)
        if (node_has_role (tl, (int)n, "proxy"))
          f->proxy_round_trips += (int)count_waits (list, (int)n, first_response);
    }
}

static void
update_compare_summary (TsWindow *self)
{
  CompareFacts a, b;
  g_autoptr (GString) s = g_string_new (NULL);
  g_autofree char *rt_a = NULL, *rt_b = NULL, *prt_a = NULL, *prt_b = NULL;

  update_compare_notes (self);
  gtk_label_set_text (self->compare_title_a, ts_session_get_title (self->session)
                                                 ? ts_session_get_title (self->session)
                                                 : "");
  gtk_label_set_text (self->compare_title_b, ts_session_get_title (self->compare)
                                                 ? ts_session_get_title (self->compare)
                                                 : "");
  if (ts_session_get_n_steps (self->compare) == 0)
    {
      gtk_label_set_text (self->compare_summary,
                          "Open a second trace to compare it with this one, step by step.");
      return;
    }
  compare_facts (ts_session_get_step_list (self->session), &a);
  compare_facts (ts_session_get_step_list (self->compare), &b);
  rt_a = a.round_trips >= 0 ? g_strdup_printf ("%d", a.round_trips) : g_strdup ("–");
  rt_b = b.round_trips >= 0 ? g_strdup_printf ("%d", b.round_trips) : g_strdup ("–");
  prt_a = a.proxy_round_trips >= 0 ? g_strdup_printf ("%d", a.proxy_round_trips) : g_strdup ("–");
  prt_b = b.proxy_round_trips >= 0 ? g_strdup_printf ("%d", b.proxy_round_trips) : g_strdup ("–");
  g_string_append_printf (s, "Left: %u steps · Right: %u steps\n", a.steps, b.steps);
  g_string_append_printf (s, "Certificate issuer the client saw: %s · %s\n",
                          a.issuer ? a.issuer : "none seen", b.issuer ? b.issuer : "none seen");
  g_string_append_printf (s, "Tunnels relayed / intercepted: %u / %u · %u / %u\n", a.tunnels_relay,
                          a.tunnels_intercept, b.tunnels_relay, b.tunnels_intercept);
  g_string_append_printf (s, "Inner HTTP requests the proxy could read: %u of %u · %u of %u\n",
                          a.proxy_reads_http, a.requests, b.proxy_reads_http, b.requests);
  g_string_append_printf (s,
                          "TLS handshakes by the client: %u (%u request%s) · %u (%u request%s)\n",
                          a.client_hellos, a.requests, a.requests == 1 ? "" : "s", b.client_hellos,
                          b.requests, b.requests == 1 ? "" : "s");
  g_string_append_printf (s,
                          "Round trips the client waits for before the first response byte: "
                          "%s · %s\n",
                          rt_a, rt_b);
  g_string_append_printf (
      s, "Round trips the proxies wait for meanwhile, on their own connections: %s · %s", prt_a,
      prt_b);
  gtk_label_set_text (self->compare_summary, s->str);
}

static void
on_step (TsWindow *self)
{
  update_scrubber (self);
  sync_compare (self);
}

static void
on_reset (TsWindow *self)
{
  rebuild_as (self);
  update_scrubber (self);
  update_compare_summary (self);
  gtk_widget_set_visible (self->as_box, TRUE);
}

static void
on_title (TsWindow *self)
{
  const char *title = ts_session_get_title (self->session);

  adw_view_switcher_title_set_subtitle (self->switcher_title, title ? title : "");
  gtk_window_set_title (GTK_WINDOW (self), title ? title : "Tunnelscope");
}

static void
on_loading (TsWindow *self)
{
  gtk_widget_set_visible (GTK_WIDGET (self->progress), ts_session_get_loading (self->session));
  gtk_progress_bar_set_fraction (self->progress, ts_session_get_progress (self->session));
}

static void
on_playing (TsWindow *self)
{
  gboolean playing = ts_session_get_playing (self->session);

  gtk_button_set_icon_name (self->play_button, playing ? "media-playback-pause-symbolic"
                                                       : "media-playback-start-symbolic");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->play_button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  playing ? "Pause" : "Play", -1);
}

static void
on_live (TsWindow *self)
{
  gboolean live = ts_session_get_live (self->session);

  gtk_spinner_set_spinning (self->live_spinner, live);
  gtk_widget_set_visible (GTK_WIDGET (self->live_spinner), live);
  if (live)
    {
      gtk_label_set_text (self->live_label, "The lab is running: events appear as they arrive.");
      gtk_revealer_set_reveal_child (self->live_revealer, TRUE);
    }
  else if (ts_session_get_error (self->session) == NULL)
    gtk_revealer_set_reveal_child (self->live_revealer, FALSE);
}

static void
on_error (TsWindow *self)
{
  const char *error = ts_session_get_error (self->session);

  if (error == NULL)
    return;
  /* Where the lab could not start (no namespaces here), say why and what
   * to do; the lab's own message names the cause. */
  {
    g_autofree char *text = g_strdup_printf (
        "%s%s", error,
        ts_session_get_n_steps (self->session) == 0 && !ts_session_get_loading (self->session)
            ? "\nThe lab needs Linux network namespaces (unprivileged user namespaces, or root). "
              "Where they are not available, open a recorded trace from captures/ instead."
            : "");
    gtk_label_set_text (self->live_label, text);
  }
  gtk_widget_set_visible (GTK_WIDGET (self->live_spinner), FALSE);
  gtk_revealer_set_reveal_child (self->live_revealer, TRUE);
}

static void
on_speed_selected (TsWindow *self)
{
  guint i = gtk_drop_down_get_selected (self->speed_dropdown);

  if (i < G_N_ELEMENTS (speeds))
    ts_session_set_speed (self->session, speeds[i]);
}

static void
on_session_speed (TsWindow *self)
{
  double speed = ts_session_get_speed (self->session);

  for (guint i = 0; i < G_N_ELEMENTS (speeds); i++)
    if (speeds[i] >= speed - 0.01 && gtk_drop_down_get_selected (self->speed_dropdown) != i)
      {
        gtk_drop_down_set_selected (self->speed_dropdown, i);
        break;
      }
}

static void
show_session_page (TsWindow *self)
{
  gtk_stack_set_visible_child_name (self->main_stack, "session");
  adw_view_switcher_title_set_view_switcher_enabled (self->switcher_title, TRUE);
  gtk_widget_set_visible (self->home_button, TRUE);
  gtk_widget_set_visible (self->as_box, TRUE);
}

void
ts_window_set_view (TsWindow *self, const char *view)
{
  g_return_if_fail (TS_IS_WINDOW (self));
  if (g_strcmp0 (view, "start") == 0)
    {
      /* Progress may have moved since the page was last shown. */
      ts_start_page_refresh_lessons (self->start_page);
      gtk_stack_set_visible_child_name (self->main_stack, "start");
      adw_view_switcher_title_set_view_switcher_enabled (self->switcher_title, FALSE);
      gtk_widget_set_visible (self->home_button, FALSE);
      return;
    }
  show_session_page (self);
  /* The session holds the view; the stack follows it (on_session_view). */
  ts_session_set_view (self->session, view);
}

static void
on_session_view (TsWindow *self)
{
  const char *view = ts_session_get_view (self->session);

  if (g_strcmp0 (adw_view_stack_get_visible_child_name (self->views), view) != 0)
    adw_view_stack_set_visible_child_name (self->views, view);
}

/* The view switcher changes the stack: the session follows. */
static void
on_stack_view (TsWindow *self)
{
  const char *view = adw_view_stack_get_visible_child_name (self->views);

  if (view != NULL && !self->syncing)
    ts_session_set_view (self->session, view);
}

const char *
ts_window_get_view (TsWindow *self)
{
  g_return_val_if_fail (TS_IS_WINDOW (self), NULL);
  if (g_strcmp0 (gtk_stack_get_visible_child_name (self->main_stack), "start") == 0)
    return "start";
  return adw_view_stack_get_visible_child_name (self->views);
}

static void
open_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  TsWindow *self = user_data;
  g_autoptr (GError) error = NULL;

  if (!ts_session_load_finish (TS_SESSION (source), result, &error))
    show_error (self, "The trace could not be opened", error->message);
  else
    show_session_page (self);
  g_object_unref (self);
}

void
ts_window_open (TsWindow *self, GFile *file)
{
  g_return_if_fail (TS_IS_WINDOW (self));
  ts_session_load_async (self->session, file, NULL, open_done, g_object_ref (self));
}

gboolean
ts_window_load_path (TsWindow *self, const char *path, GError **error)
{
  g_return_val_if_fail (TS_IS_WINDOW (self), FALSE);
  if (!ts_session_load_path (self->session, path, error))
    return FALSE;
  show_session_page (self);
  return TRUE;
}

gboolean
ts_window_load_compare_path (TsWindow *self, const char *path, GError **error)
{
  g_return_val_if_fail (TS_IS_WINDOW (self), FALSE);
  if (!ts_session_load_path (self->compare, path, error))
    return FALSE;
  /* No lesson step's capture any more: a step comparing loads its own. */
  g_clear_pointer (&self->lesson_compare, g_free);
  update_compare_summary (self);
  sync_compare (self);
  return TRUE;
}

static void
compare_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  TsWindow *self = user_data;
  g_autoptr (GError) error = NULL;

  if (!ts_session_load_finish (TS_SESSION (source), result, &error))
    show_error (self, "The trace could not be opened", error->message);
  else
    {
      g_clear_pointer (&self->lesson_compare, g_free);
      update_compare_summary (self);
      sync_compare (self);
      ts_window_set_view (self, "compare");
    }
  g_object_unref (self);
}

void
ts_window_run_scenario (TsWindow *self, const char *name)
{
  g_autoptr (GError) error = NULL;

  g_return_if_fail (TS_IS_WINDOW (self));
  if (!ts_session_run_live (self->session, name, NULL, &error))
    {
      show_error (self, "The lab could not start", error->message);
      return;
    }
  ts_window_set_view (self, "ladder");
}

static void
chooser_response (GtkNativeDialog *dialog, int response, gpointer user_data)
{
  TsWindow *self = user_data;
  gboolean compare = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (dialog), "compare"));

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      if (compare)
        ts_session_load_async (self->compare, file, NULL, compare_done, g_object_ref (self));
      else
        ts_window_open (self, file);
    }
  g_clear_object (&self->chooser);
}

static void
choose_trace (TsWindow *self, gboolean compare)
{
  GtkFileFilter *traces = gtk_file_filter_new ();
  GtkFileFilter *all = gtk_file_filter_new ();

  if (self->chooser)
    return;
  self->chooser = gtk_file_chooser_native_new (compare ? "Open a Trace to Compare" : "Open a Trace",
                                               GTK_WINDOW (self), GTK_FILE_CHOOSER_ACTION_OPEN,
                                               "_Open", "_Cancel");
  gtk_file_filter_set_name (traces, "Captures (pcapng, pcap)");
  gtk_file_filter_add_pattern (traces, "*.pcapng");
  gtk_file_filter_add_pattern (traces, "*.pcap");
  gtk_file_filter_add_pattern (traces, "*.cap");
  gtk_file_filter_add_mime_type (traces, "application/vnd.tcpdump.pcap");
  gtk_file_filter_add_mime_type (traces, "application/x-pcapng");
  gtk_file_filter_set_name (all, "All Files");
  gtk_file_filter_add_pattern (all, "*");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), traces);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), all);
  g_object_unref (traces);
  g_object_unref (all);
  g_object_set_data (G_OBJECT (self->chooser), "compare", GINT_TO_POINTER (compare));
  g_signal_connect (self->chooser, "response", G_CALLBACK (chooser_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
action_open (GtkWidget *widget, const char *name, GVariant *param)
{
  choose_trace (TS_WINDOW (widget), FALSE);
}

static void
action_open_compare (GtkWidget *widget, const char *name, GVariant *param)
{
  choose_trace (TS_WINDOW (widget), TRUE);
}

gboolean
ts_window_export (TsWindow *self, const char *path, GError **error)
{
  g_return_val_if_fail (TS_IS_WINDOW (self), FALSE);
  if (g_strcmp0 (ts_window_get_view (self), "topology") == 0)
    return ts_topology_view_export (self->topology, path, error);
  return ts_ladder_view_export (
      g_strcmp0 (ts_window_get_view (self), "compare") == 0 ? self->compare_a : self->ladder, path,
      error);
}

static void
export_response (GtkNativeDialog *dialog, int response, gpointer user_data)
{
  TsWindow *self = user_data;

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autoptr (GError) error = NULL;
      if (g_file_peek_path (file) == NULL
          || !ts_window_export (self, g_file_peek_path (file), &error))
        show_error (self, "The picture could not be saved",
                    error ? error->message : "not a local file");
    }
  g_clear_object (&self->chooser);
}

static void
action_export (GtkWidget *widget, const char *name, GVariant *param)
{
  TsWindow *self = TS_WINDOW (widget);
  gboolean topology = g_strcmp0 (ts_window_get_view (self), "topology") == 0;
  const char *const patterns[][2]
      = { { "PNG image", "*.png" }, { "SVG drawing", "*.svg" }, { "PDF document", "*.pdf" } };

  if (self->chooser)
    return;
  self->chooser = gtk_file_chooser_native_new (
      topology ? "Export the Topology" : "Export the Ladder", GTK_WINDOW (self),
      GTK_FILE_CHOOSER_ACTION_SAVE, "_Export", "_Cancel");
  for (guint i = 0; i < G_N_ELEMENTS (patterns); i++)
    {
      GtkFileFilter *filter = gtk_file_filter_new ();
      gtk_file_filter_set_name (filter, patterns[i][0]);
      gtk_file_filter_add_pattern (filter, patterns[i][1]);
      gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), filter);
      g_object_unref (filter);
    }
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (self->chooser),
                                     topology ? "topology.svg" : "ladder.svg");
  g_signal_connect (self->chooser, "response", G_CALLBACK (export_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

enum
{
  PROP_0,
  PROP_FOLD_HANDSHAKES,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
set_fold (TsWindow *self, gboolean fold)
{
  if (self->ladder == NULL || ts_ladder_view_get_fold (self->ladder) == !!fold)
    return;
  ts_ladder_view_set_fold (self->ladder, fold);
  ts_ladder_view_set_fold (self->compare_a, fold);
  ts_ladder_view_set_fold (self->compare_b, fold);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FOLD_HANDSHAKES]);
}

static void
ts_window_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  TsWindow *self = TS_WINDOW (object);

  switch (prop_id)
    {
      case PROP_FOLD_HANDSHAKES:
        g_value_set_boolean (value, self->ladder ? ts_ladder_view_get_fold (self->ladder) : TRUE);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ts_window_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  TsWindow *self = TS_WINDOW (object);

  switch (prop_id)
    {
      case PROP_FOLD_HANDSHAKES:
        set_fold (self, g_value_get_boolean (value));
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
action_show_start (GtkWidget *widget, const char *name, GVariant *param)
{
  ts_window_set_view (TS_WINDOW (widget), "start");
}

static void
action_open_lesson (GtkWidget *widget, const char *name, GVariant *param)
{
  int number = g_variant_get_int32 (param);

  if (number > 0)
    ts_window_open_lesson (TS_WINDOW (widget), (guint)number, G_MAXUINT);
}

/* Alt+Right and Alt+Left: the lesson's steps from anywhere in the window. */
static void
action_lesson_step (GtkWidget *widget, const char *name, GVariant *param)
{
  TsWindow *self = TS_WINDOW (widget);

  if (!ts_window_get_lesson_visible (self))
    return;
  gtk_widget_activate_action (
      GTK_WIDGET (self->lesson_pane),
      g_str_equal (name, "win.lesson-next") ? "lesson.next" : "lesson.previous", NULL);
}

static void
action_close_lesson (GtkWidget *widget, const char *name, GVariant *param)
{
  ts_window_close_lesson (TS_WINDOW (widget));
}

static void
action_run_scenario (GtkWidget *widget, const char *name, GVariant *param)
{
  ts_window_run_scenario (TS_WINDOW (widget), g_variant_get_string (param, NULL));
}

static void
action_view (GtkWidget *widget, const char *name, GVariant *param)
{
  ts_window_set_view (TS_WINDOW (widget), g_variant_get_string (param, NULL));
}

static gboolean
on_drop (GtkDropTarget *target, const GValue *value, double x, double y, TsWindow *self)
{
  GFile *file;

  if (!G_VALUE_HOLDS (value, G_TYPE_FILE))
    return FALSE;
  file = g_value_get_object (value);
  ts_window_open (self, file);
  return TRUE;
}

static void
ts_window_dispose (GObject *object)
{
  TsWindow *self = TS_WINDOW (object);

  if (self->session)
    {
      g_signal_handlers_disconnect_by_data (self->session, self);
      ts_session_stop_live (self->session);
    }
  if (self->compare)
    g_signal_handlers_disconnect_by_data (self->compare, self);
  if (self->views)
    g_signal_handlers_disconnect_by_data (self->views, self);
  if (self->chooser)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  gtk_widget_dispose_template (GTK_WIDGET (self), TS_TYPE_WINDOW);
  g_clear_object (&self->session);
  g_clear_object (&self->compare);
  g_clear_object (&self->as_model);
  G_OBJECT_CLASS (ts_window_parent_class)->dispose (object);
}

static void
ts_window_finalize (GObject *object)
{
  TsWindow *self = TS_WINDOW (object);

  g_clear_pointer (&self->as_values, g_ptr_array_unref);
  g_free (self->lesson_compare);
  G_OBJECT_CLASS (ts_window_parent_class)->finalize (object);
}

static void
ts_window_class_init (TsWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ts_window_dispose;
  object_class->finalize = ts_window_finalize;
  object_class->get_property = ts_window_get_property;
  object_class->set_property = ts_window_set_property;

  properties[PROP_FOLD_HANDSHAKES]
      = g_param_spec_boolean ("fold-handshakes", NULL, NULL, TRUE,
                              G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (TS_TYPE_START_PAGE);
  g_type_ensure (TS_TYPE_LADDER_VIEW);
  g_type_ensure (TS_TYPE_TOPOLOGY_VIEW);
  g_type_ensure (TS_TYPE_DETAIL_VIEW);
  g_type_ensure (TS_TYPE_EVENT_LIST);
  g_type_ensure (TS_TYPE_LESSON_PANE);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/tunnelscope/Tunnelscope/ts-window.ui");
#define BIND(name) gtk_widget_class_bind_template_child (widget_class, TsWindow, name)
  BIND (header);
  BIND (home_button);
  BIND (as_box);
  BIND (as_dropdown);
  BIND (switcher_title);
  BIND (progress);
  BIND (live_revealer);
  BIND (live_spinner);
  BIND (live_label);
  BIND (main_stack);
  BIND (start_page);
  BIND (views);
  BIND (ladder);
  BIND (ladder_detail);
  BIND (topology);
  BIND (detail);
  BIND (events);
  BIND (compare_a);
  BIND (compare_b);
  BIND (compare_summary);
  BIND (compare_title_a);
  BIND (compare_title_b);
  BIND (compare_note_a);
  BIND (compare_note_b);
  BIND (play_button);
  BIND (scrubber);
  BIND (scrub_adjustment);
  BIND (step_label);
  BIND (speed_dropdown);
  BIND (lesson_revealer);
  BIND (lesson_pane);
#undef BIND

  gtk_widget_class_install_action (widget_class, "win.open", NULL, action_open);
  gtk_widget_class_install_action (widget_class, "win.open-compare", NULL, action_open_compare);
  gtk_widget_class_install_action (widget_class, "win.show-start", NULL, action_show_start);
  gtk_widget_class_install_action (widget_class, "win.export", NULL, action_export);
  gtk_widget_class_install_property_action (widget_class, "win.fold-handshakes", "fold-handshakes");
  gtk_widget_class_install_action (widget_class, "win.run-scenario", "s", action_run_scenario);
  gtk_widget_class_install_action (widget_class, "win.view", "s", action_view);
  gtk_widget_class_install_action (widget_class, "win.open-lesson", "i", action_open_lesson);
  gtk_widget_class_install_action (widget_class, "win.lesson-next", NULL, action_lesson_step);
  gtk_widget_class_install_action (widget_class, "win.lesson-previous", NULL, action_lesson_step);
  gtk_widget_class_install_action (widget_class, "win.close-lesson", NULL, action_close_lesson);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_o, GDK_CONTROL_MASK, "win.open", NULL);
}

static void
ts_window_init (TsWindow *self)
{
  GtkDropTarget *drop;

  gtk_widget_init_template (GTK_WIDGET (self));
  self->session = ts_session_new ();
  self->compare = ts_session_new ();
  self->as_values = g_ptr_array_new_with_free_func (g_free);
  self->as_model = gtk_string_list_new (NULL);
  gtk_drop_down_set_model (self->as_dropdown, G_LIST_MODEL (self->as_model));
  gtk_widget_insert_action_group (GTK_WIDGET (self), "session",
                                  ts_session_get_actions (self->session));
  /* The compare side's own actions, for a lesson's highlights there. */
  gtk_widget_insert_action_group (GTK_WIDGET (self), "compare",
                                  ts_session_get_actions (self->compare));

  ts_ladder_view_set_session (self->ladder, self->session);
  ts_detail_view_set_session (self->ladder_detail, self->session);
  ts_detail_view_set_bytes_per_line (self->ladder_detail, 8);
  ts_topology_view_set_session (self->topology, self->session);
  ts_detail_view_set_session (self->detail, self->session);
  ts_event_list_set_session (self->events, self->session);
  ts_lesson_pane_set_session (self->lesson_pane, self->session);
  ts_lesson_pane_set_compare_session (self->lesson_pane, self->compare);
  g_signal_connect_swapped (self->lesson_pane, "close", G_CALLBACK (ts_window_close_lesson), self);
  g_signal_connect_swapped (self->lesson_pane, "step-changed", G_CALLBACK (load_step_compare),
                            self);
  ts_ladder_view_set_session (self->compare_a, self->session);
  ts_ladder_view_set_session (self->compare_b, self->compare);

  g_signal_connect_swapped (self->session, "notify::step", G_CALLBACK (on_step), self);
  g_signal_connect_swapped (self->session, "notify::n-steps", G_CALLBACK (update_scrubber), self);
  g_signal_connect_swapped (self->session, "steps-added", G_CALLBACK (on_reset), self);
  g_signal_connect_swapped (self->session, "reset", G_CALLBACK (on_reset), self);
  g_signal_connect_swapped (self->session, "notify::as", G_CALLBACK (on_session_as), self);
  g_signal_connect_swapped (self->session, "notify::title", G_CALLBACK (on_title), self);
  g_signal_connect_swapped (self->session, "notify::loading", G_CALLBACK (on_loading), self);
  g_signal_connect_swapped (self->session, "notify::progress", G_CALLBACK (on_loading), self);
  g_signal_connect_swapped (self->session, "notify::playing", G_CALLBACK (on_playing), self);
  g_signal_connect_swapped (self->session, "notify::live", G_CALLBACK (on_live), self);
  g_signal_connect_swapped (self->session, "notify::error", G_CALLBACK (on_error), self);
  g_signal_connect_swapped (self->session, "notify::speed", G_CALLBACK (on_session_speed), self);
  g_signal_connect_swapped (self->session, "notify::view", G_CALLBACK (on_session_view), self);
  g_signal_connect_swapped (self->views, "notify::visible-child-name", G_CALLBACK (on_stack_view),
                            self);
  g_signal_connect_swapped (self->compare, "notify::title", G_CALLBACK (update_compare_summary),
                            self);
  g_signal_connect_swapped (self->compare, "reset", G_CALLBACK (update_compare_notes), self);
  g_signal_connect (self->scrub_adjustment, "value-changed", G_CALLBACK (on_scrub), self);
  g_signal_connect_swapped (self->as_dropdown, "notify::selected", G_CALLBACK (on_as_selected),
                            self);
  g_signal_connect_swapped (self->speed_dropdown, "notify::selected",
                            G_CALLBACK (on_speed_selected), self);

  drop = gtk_drop_target_new (G_TYPE_FILE, GDK_ACTION_COPY);
  g_signal_connect (drop, "drop", G_CALLBACK (on_drop), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drop));

  on_reset (self);
  gtk_widget_set_visible (self->as_box, FALSE);
  adw_view_switcher_title_set_view_switcher_enabled (self->switcher_title, FALSE);
  on_playing (self);
  on_speed_selected (self);
  ts_start_page_refresh (self->start_page);
}

TsWindow *
ts_window_new (GtkApplication *app)
{
  return g_object_new (TS_TYPE_WINDOW, "application", app, NULL);
}

TsSession *
ts_window_get_session (TsWindow *self)
{
  g_return_val_if_fail (TS_IS_WINDOW (self), NULL);
  return self->session;
}

TsSession *
ts_window_get_compare_session (TsWindow *self)
{
  g_return_val_if_fail (TS_IS_WINDOW (self), NULL);
  return self->compare;
}

const char *
ts_window_get_compare_summary (TsWindow *self)
{
  g_return_val_if_fail (TS_IS_WINDOW (self), NULL);
  return gtk_label_get_text (self->compare_summary);
}

const char *
ts_window_get_compare_note (TsWindow *self, guint side)
{
  g_return_val_if_fail (TS_IS_WINDOW (self), NULL);
  g_return_val_if_fail (side < 2, NULL);
  return gtk_label_get_text (side == 0 ? self->compare_note_a : self->compare_note_b);
}

GtkWidget *
ts_window_get_compare_title (TsWindow *self, guint side)
{
  g_return_val_if_fail (TS_IS_WINDOW (self), NULL);
  g_return_val_if_fail (side < 2, NULL);
  return GTK_WIDGET (side == 0 ? self->compare_title_a : self->compare_title_b);
}

const char *
ts_window_get_as_label (TsWindow *self)
{
  guint i;

  g_return_val_if_fail (TS_IS_WINDOW (self), NULL);
  i = gtk_drop_down_get_selected (self->as_dropdown);
  if (i >= g_list_model_get_n_items (G_LIST_MODEL (self->as_model)))
    return "";
  return gtk_string_list_get_string (self->as_model, i);
}

TsLadderView *
ts_window_get_ladder (TsWindow *self)
{
  return self->ladder;
}

TsTopologyView *
ts_window_get_topology (TsWindow *self)
{
  return self->topology;
}

TsDetailView *
ts_window_get_detail (TsWindow *self)
{
  return self->detail;
}

TsDetailView *
ts_window_get_ladder_detail (TsWindow *self)
{
  g_return_val_if_fail (TS_IS_WINDOW (self), NULL);
  return self->ladder_detail;
}

TsEventList *
ts_window_get_events (TsWindow *self)
{
  return self->events;
}

TsLessonPane *
ts_window_get_lesson_pane (TsWindow *self)
{
  return self->lesson_pane;
}

gboolean
ts_window_get_lesson_visible (TsWindow *self)
{
  return gtk_revealer_get_reveal_child (self->lesson_revealer)
         && ts_lesson_pane_get_lesson (self->lesson_pane) != NULL;
}

/* The step a lesson opens at: @step, or where the student left it
 * (G_MAXUINT). */
static guint
lesson_start_step (guint number, guint step)
{
  g_autoptr (TsLessonProgress) progress = NULL;

  if (step != G_MAXUINT)
    return step;
  progress = ts_lesson_progress_new (NULL);
  return ts_lesson_progress_get_step (progress, number);
}

/* The compare capture (relative, captures/NAME.pcapng) of @lesson's step
 * @step (clamped, as the pane clamps it), or NULL (transfer full). */
static char *
lesson_step_compare (const TsLesson *lesson, guint step)
{
  return ts_lesson_dup_step_compare_capture (lesson, MIN (step, lesson->steps->len - 1));
}

/* @relative under the data directory, as ts-lesson-files.h finds the
 * lesson's captures (transfer full). */
static char *
lesson_data_path (const char *relative)
{
  g_autofree char *root = ts_lesson_find_data ("");

  return g_build_filename (root, relative, NULL);
}

typedef struct
{
  TsWindow *window;
  char *relative; /* the capture loading, captures/NAME.pcapng */
} StepCompareLoad;

static StepCompareLoad *
step_compare_load_new (TsWindow *window, const char *relative)
{
  StepCompareLoad *load = g_new0 (StepCompareLoad, 1);

  load->window = g_object_ref (window);
  load->relative = g_strdup (relative);
  return load;
}

static void
step_compare_load_free (StepCompareLoad *load)
{
  g_object_unref (load->window);
  g_free (load->relative);
  g_free (load);
}

static void step_compare_loaded (GObject *source, GAsyncResult *result, gpointer user_data);

/* Shows @lesson (transfer full) in the pane at @step, on whatever the
 * sessions hold now. */
static void
show_lesson (TsWindow *self, TsLesson *lesson, guint step, const char *capture_missing)
{
  ts_lesson_pane_set_lesson (self->lesson_pane, lesson, capture_missing);
  gtk_revealer_set_reveal_child (self->lesson_revealer, TRUE);
  show_session_page (self);
  ts_lesson_pane_go (self->lesson_pane, step);
}

/* The lesson step's compare capture on the compare side, where another
 * one is there: a step that names its own compare scenario shows it (the
 * lesson 3 clients that refuse the proxy's certificate), the next step the
 * lesson's again. A step that compares with nothing leaves the side as it
 * is. One load at a time: when it ends, the step shown then is checked
 * again. */
static void
load_step_compare (TsWindow *self)
{
  const TsLesson *lesson = ts_lesson_pane_get_lesson (self->lesson_pane);
  g_autofree char *relative = NULL;
  g_autofree char *path = NULL;
  g_autoptr (GFile) file = NULL;

  if (lesson == NULL || self->lesson_compare_loading)
    return;
  relative = lesson_step_compare (lesson, ts_lesson_pane_get_step (self->lesson_pane));
  if (relative == NULL || g_strcmp0 (relative, self->lesson_compare) == 0)
    return;
  g_free (self->lesson_compare);
  self->lesson_compare = g_strdup (relative);
  path = lesson_data_path (relative);
  file = g_file_new_for_path (path);
  self->lesson_compare_loading = TRUE;
  ts_session_load_async (self->compare, file, NULL, step_compare_loaded,
                         step_compare_load_new (self, relative));
}

static void
step_compare_loaded (GObject *source, GAsyncResult *result, gpointer user_data)
{
  StepCompareLoad *load = user_data;
  TsWindow *self = load->window;
  g_autoptr (GError) error = NULL;
  gboolean loaded = ts_session_load_finish (TS_SESSION (source), result, &error);

  self->lesson_compare_loading = FALSE;
  /* The window was closed meanwhile. */
  if (self->compare == NULL)
    {
      step_compare_load_free (load);
      return;
    }
  /* The compare side holds what this load read, whatever was loaded
   * meanwhile (a lesson opened): the step shown is checked against it. */
  g_free (self->lesson_compare);
  self->lesson_compare = g_strdup (load->relative);
  if (loaded)
    {
      update_compare_summary (self);
      sync_compare (self);
      ts_lesson_pane_show_compare (self->lesson_pane);
    }
  else
    {
      /* Not recorded: an empty side, not another step's capture. */
      g_message ("the lesson's compare capture %s cannot be shown: %s", load->relative,
                 error->message);
      ts_session_clear (self->compare);
    }
  load_step_compare (self);
  step_compare_load_free (load);
}

static char *
missing_message (const char *path, const GError *error)
{
  g_autofree char *base = g_path_get_basename (path);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
    return g_strdup_printf ("This lesson's capture, captures/%s, is not recorded yet.", base);
  return g_strdup_printf ("This lesson's capture could not be read: %s", error->message);
}

gboolean
ts_window_load_lesson (TsWindow *self, guint number, guint step, GError **error)
{
  g_autoptr (TsLesson) lesson = NULL;
  g_autofree char *capture = NULL;
  g_autofree char *compare = NULL;
  g_autofree char *compare_path = NULL;
  g_autofree char *missing = NULL;
  g_autoptr (GError) local = NULL;

  g_return_val_if_fail (TS_IS_WINDOW (self), FALSE);
  lesson = ts_lesson_files_load (number, error);
  if (lesson == NULL)
    return FALSE;
  step = lesson_start_step (number, step);
  capture = ts_lesson_files_capture_path (lesson);
  /* The compare capture of the step it opens at: the lesson's, or the
   * step's own. */
  compare = lesson_step_compare (lesson, step);
  compare_path = compare ? lesson_data_path (compare) : NULL;
  if (!ts_session_load_path (self->session, capture, &local))
    {
      missing = missing_message (capture, local);
      ts_session_clear (self->session);
    }
  g_clear_error (&local);
  g_clear_pointer (&self->lesson_compare, g_free);
  if (compare && ts_session_load_path (self->compare, compare_path, &local))
    {
      update_compare_summary (self);
      sync_compare (self);
    }
  else if (compare)
    ts_session_clear (self->compare);
  self->lesson_compare = g_steal_pointer (&compare);
  show_lesson (self, g_steal_pointer (&lesson), step, missing);
  return TRUE;
}

typedef struct
{
  TsWindow *window;
  TsLesson *lesson;
  char *capture;
  char *compare; /* relative, captures/NAME.pcapng */
  char *missing;
  guint step;
} LessonLoad;

static void
lesson_load_free (LessonLoad *load)
{
  g_object_unref (load->window);
  g_clear_pointer (&load->lesson, ts_lesson_free);
  g_free (load->capture);
  g_free (load->compare);
  g_free (load->missing);
  g_free (load);
}

static void
lesson_compare_loaded (GObject *source, GAsyncResult *result, gpointer user_data)
{
  LessonLoad *load = user_data;
  TsWindow *self = load->window;
  g_autoptr (GError) error = NULL;

  self->lesson_compare_loading = FALSE;
  if (ts_session_load_finish (TS_SESSION (source), result, &error))
    {
      update_compare_summary (self);
      sync_compare (self);
    }
  else
    ts_session_clear (self->compare);
  show_lesson (self, g_steal_pointer (&load->lesson), load->step, load->missing);
  lesson_load_free (load);
}

static void
lesson_loaded (GObject *source, GAsyncResult *result, gpointer user_data)
{
  LessonLoad *load = user_data;
  TsWindow *self = load->window;
  g_autoptr (GError) error = NULL;

  if (!ts_session_load_finish (TS_SESSION (source), result, &error))
    {
      load->missing = missing_message (load->capture, error);
      ts_session_clear (self->session);
    }
  g_clear_pointer (&self->lesson_compare, g_free);
  if (load->compare)
    {
      g_autofree char *path = lesson_data_path (load->compare);
      g_autoptr (GFile) file = g_file_new_for_path (path);

      self->lesson_compare = g_strdup (load->compare);
      self->lesson_compare_loading = TRUE;
      ts_session_load_async (self->compare, file, NULL, lesson_compare_loaded, load);
      return;
    }
  show_lesson (self, g_steal_pointer (&load->lesson), load->step, load->missing);
  lesson_load_free (load);
}

void
ts_window_open_lesson (TsWindow *self, guint number, guint step)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GFile) file = NULL;
  LessonLoad *load;
  TsLesson *lesson;

  g_return_if_fail (TS_IS_WINDOW (self));
  lesson = ts_lesson_files_load (number, &error);
  if (lesson == NULL)
    {
      show_error (self, "The lesson could not be opened", error->message);
      return;
    }
  load = g_new0 (LessonLoad, 1);
  load->window = g_object_ref (self);
  load->lesson = lesson;
  load->step = lesson_start_step (number, step);
  load->capture = ts_lesson_files_capture_path (lesson);
  load->compare = lesson_step_compare (lesson, load->step);
  file = g_file_new_for_path (load->capture);
  ts_session_load_async (self->session, file, NULL, lesson_loaded, load);
}

void
ts_window_close_lesson (TsWindow *self)
{
  g_return_if_fail (TS_IS_WINDOW (self));
  gtk_revealer_set_reveal_child (self->lesson_revealer, FALSE);
  ts_lesson_pane_set_lesson (self->lesson_pane, NULL, NULL);
  g_clear_pointer (&self->lesson_compare, g_free);
  ts_session_set_highlights (self->session, NULL, 0);
  ts_session_set_highlights (self->compare, NULL, 0);
}

TsStartPage *
ts_window_get_start_page (TsWindow *self)
{
  return self->start_page;
}
