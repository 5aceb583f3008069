/* ts-start-page.c: scenarios, open a trace, lessons and their progress.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "ts-start-page.h"

#include <adwaita.h>
#include <json-glib/json-glib.h>

#include "ts-lesson-files.h"
#include "ts-lesson-progress.h"
#include "ts-session.h"

/* Cap: scenarios listed. */
#define MAX_SCENARIOS 200

struct _TsStartPage
{
  GtkWidget parent_instance;

  GtkListBox *scenarios;
  GtkListBox *lessons;
  GtkButton *refresh_button;
  GHashTable *lesson_progress; /* lesson number -> its progress line */
  GCancellable *cancellable;
  guint n_scenarios;
  char *message;
};

G_DEFINE_FINAL_TYPE (TsStartPage, ts_start_page, GTK_TYPE_WIDGET)

static void
clear_rows (TsStartPage *self)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->scenarios))) != NULL)
    gtk_list_box_remove (self->scenarios, child);
  self->n_scenarios = 0;
  g_clear_pointer (&self->message, g_free);
}

void
ts_start_page_set_scenarios_message (TsStartPage *self, const char *message)
{
  GtkWidget *row;

  g_return_if_fail (TS_IS_START_PAGE (self));
  clear_rows (self);
  self->message = g_strdup (message);
  row = adw_action_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), "Scenarios are not available");
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), message);
  adw_action_row_add_prefix (ADW_ACTION_ROW (row),
                             gtk_image_new_from_icon_name ("dialog-information-symbolic"));
  gtk_list_box_append (self->scenarios, row);
}

static const char *
string_member (JsonObject *o, const char *name)
{
  JsonNode *n = json_object_get_member (o, name);

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (n);
}

/* A small topology picture for a scenario row: its nodes in a row, linked,
 * each a dot coloured by role. */
typedef struct
{
  GStrv names;
  GStrv roles;
} Thumb;

static void
thumb_free (gpointer p)
{
  Thumb *t = p;
  g_strfreev (t->names);
  g_strfreev (t->roles);
  g_free (t);
}

static void
draw_thumb (GtkDrawingArea *area, cairo_t *cr, int w, int h, gpointer user_data)
{
  Thumb *t = user_data;
  guint n = g_strv_length (t->names);
  GdkRGBA fg;
  g_autoptr (PangoLayout) layout = gtk_widget_create_pango_layout (GTK_WIDGET (area), NULL);
  PangoAttrList *attrs = pango_attr_list_new ();

  if (n == 0)
    return;
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  gtk_style_context_get_color (gtk_widget_get_style_context (GTK_WIDGET (area)), &fg);
  G_GNUC_END_IGNORE_DEPRECATIONS
  pango_attr_list_insert (attrs, pango_attr_scale_new (0.75));
  pango_layout_set_attributes (layout, attrs);
  pango_attr_list_unref (attrs);
  cairo_set_line_width (cr, 2);
  cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.4);
  cairo_move_to (cr, w / (2.0 * n), h * 0.35);
  cairo_line_to (cr, w - w / (2.0 * n), h * 0.35);
  cairo_stroke (cr);
  for (guint i = 0; i < n; i++)
    {
      double x = w * (i + 0.5) / n;
      const char *role = t->roles[i] ? t->roles[i] : "";
      int lw, lh;

      if (g_str_equal (role, "client"))
        cairo_set_source_rgb (cr, 0.21, 0.52, 0.89);
      else if (g_str_equal (role, "proxy"))
        cairo_set_source_rgb (cr, 0.90, 0.38, 0.0);
      else if (g_str_equal (role, "server"))
        cairo_set_source_rgb (cr, 0.15, 0.53, 0.30);
      else
        cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.6);
      cairo_arc (cr, x, h * 0.35, 6, 0, 2 * G_PI);
      cairo_fill (cr);
      pango_layout_set_text (layout, t->names[i], -1);
      pango_layout_get_pixel_size (layout, &lw, &lh);
      cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.8);
      cairo_move_to (cr, x - lw / 2.0, h * 0.35 + 9);
      pango_cairo_show_layout (cr, layout);
    }
}

static GtkWidget *
topology_thumb (JsonObject *o)
{
  JsonNode *nodes = json_object_get_member (o, "nodes");
  g_autoptr (GStrvBuilder) names = g_strv_builder_new ();
  g_autoptr (GStrvBuilder) roles = g_strv_builder_new ();
  GtkWidget *area;
  Thumb *t;
  guint n = 0;

  if (nodes == NULL || !JSON_NODE_HOLDS_ARRAY (nodes))
    return NULL;
  for (guint i = 0; i < json_array_get_length (json_node_get_array (nodes)) && n < 8; i++)
    {
      JsonNode *node = json_array_get_element (json_node_get_array (nodes), i);
      if (!JSON_NODE_HOLDS_OBJECT (node)
          || string_member (json_node_get_object (node), "name") == NULL)
        continue;
      g_strv_builder_add (names, string_member (json_node_get_object (node), "name"));
      g_strv_builder_add (roles, string_member (json_node_get_object (node), "role")
                                     ? string_member (json_node_get_object (node), "role")
                                     : "");
      n++;
    }
  if (n == 0)
    return NULL;
  t = g_new0 (Thumb, 1);
  t->names = g_strv_builder_end (names);
  t->roles = g_strv_builder_end (roles);
  area = gtk_drawing_area_new ();
  gtk_drawing_area_set_content_width (GTK_DRAWING_AREA (area), 70 * (int)n);
  gtk_drawing_area_set_content_height (GTK_DRAWING_AREA (area), 40);
  gtk_widget_set_valign (area, GTK_ALIGN_CENTER);
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (area), draw_thumb, t, thumb_free);
  gtk_accessible_update_property (GTK_ACCESSIBLE (area), GTK_ACCESSIBLE_PROPERTY_LABEL, "Topology",
                                  -1);
  return area;
}

/* "client → proxy → server" from a scenario's nodes, when it lists them. */
static char *
topology_line (JsonObject *o)
{
  JsonNode *nodes = json_object_get_member (o, "nodes");
  g_autoptr (GString) s = g_string_new (NULL);

  if (nodes == NULL || !JSON_NODE_HOLDS_ARRAY (nodes))
    return NULL;
  for (guint i = 0; i < json_array_get_length (json_node_get_array (nodes)) && i < 12; i++)
    {
      JsonNode *n = json_array_get_element (json_node_get_array (nodes), i);
      const char *name = NULL;
      if (JSON_NODE_HOLDS_OBJECT (n))
        name = string_member (json_node_get_object (n), "name");
      else if (JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING)
        name = json_node_get_string (n);
      if (name)
        g_string_append_printf (s, "%s%s", s->len ? " → " : "", name);
    }
  return s->len ? g_string_free (g_steal_pointer (&s), FALSE) : NULL;
}

gboolean
ts_start_page_set_scenarios_json (TsStartPage *self, const char *json, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root;
  JsonArray *array = NULL;

  g_return_val_if_fail (TS_IS_START_PAGE (self), FALSE);
  if (!json_parser_load_from_data (parser, json, -1, error))
    return FALSE;
  root = json_parser_get_root (parser);
  if (root && JSON_NODE_HOLDS_ARRAY (root))
    array = json_node_get_array (root);
  else if (root && JSON_NODE_HOLDS_OBJECT (root))
    {
      JsonNode *s = json_object_get_member (json_node_get_object (root), "scenarios");
      if (s && JSON_NODE_HOLDS_ARRAY (s))
        array = json_node_get_array (s);
    }
  if (array == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "expected a JSON array of scenarios (or an object with \"scenarios\")");
      return FALSE;
    }
  clear_rows (self);
  for (guint i = 0; i < json_array_get_length (array) && i < MAX_SCENARIOS; i++)
    {
      JsonNode *n = json_array_get_element (array, i);
      JsonObject *o;
      const char *name, *description;
      g_autofree char *topo = NULL;
      g_autofree char *subtitle = NULL;
      g_autofree char *run_label = NULL;
      GtkWidget *row, *run;

      if (!JSON_NODE_HOLDS_OBJECT (n))
        continue;
      o = json_node_get_object (n);
      name = string_member (o, "name");
      if (name == NULL)
        name = string_member (o, "scenario");
      if (name == NULL)
        continue;
      description = string_member (o, "description");
      topo = topology_line (o);
      if (description)
        subtitle = g_strdup (description);
      else
        subtitle = g_strdup (description ? description : topo ? topo : "");
      row = adw_action_row_new ();
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), name);
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
      adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 3);
      {
        GtkWidget *thumb = topology_thumb (o);
        if (thumb)
          adw_action_row_add_suffix (ADW_ACTION_ROW (row), thumb);
      }
      run = gtk_button_new_with_label ("Run");
      gtk_widget_set_valign (run, GTK_ALIGN_CENTER);
      gtk_actionable_set_action_name (GTK_ACTIONABLE (run), "win.run-scenario");
      gtk_actionable_set_action_target_value (GTK_ACTIONABLE (run), g_variant_new_string (name));
      run_label = g_strdup_printf ("Run the %s scenario", name);
      gtk_accessible_update_property (GTK_ACCESSIBLE (run), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      run_label, -1);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), run);
      adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), run);
      gtk_list_box_append (self->scenarios, row);
      self->n_scenarios++;
    }
  if (self->n_scenarios == 0)
    ts_start_page_set_scenarios_message (self, "tscope lists no scenarios.");
  return TRUE;
}

static void
list_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  TsStartPage *self = user_data;
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  GSubprocess *proc = G_SUBPROCESS (source);

  if (!g_subprocess_communicate_utf8_finish (proc, result, &out, &err, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        ts_start_page_set_scenarios_message (self, error->message);
      g_object_unref (self);
      return;
    }
  if (!g_subprocess_get_successful (proc))
    {
      g_autofree char *msg = NULL;
      g_strstrip (err);
      msg = g_strdup_printf ("'tscope list --format json' failed: %s",
                             err && *err ? err : "no scenarios yet");
      ts_start_page_set_scenarios_message (self, msg);
    }
  else
    {
      g_autoptr (GError) parse_error = NULL;
      if (!ts_start_page_set_scenarios_json (self, out, &parse_error))
        {
          g_autofree char *msg = g_strdup_printf (
              "'tscope list --format json' printed something else: %s", parse_error->message);
          ts_start_page_set_scenarios_message (self, msg);
        }
    }
  g_object_unref (self);
}

void
ts_start_page_refresh (TsStartPage *self)
{
  g_autofree char *tscope = ts_session_find_tscope ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) proc = NULL;

  g_return_if_fail (TS_IS_START_PAGE (self));
  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (tscope == NULL)
    {
      ts_start_page_set_scenarios_message (
          self,
          "tscope was not found, so the lab cannot run from here. Build or install Tunnelscope "
          "with its lab, or open a recorded trace instead.");
      return;
    }
  proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error,
                           tscope, "list", "--format", "json", NULL);
  if (proc == NULL)
    {
      ts_start_page_set_scenarios_message (self, error->message);
      return;
    }
  self->cancellable = g_cancellable_new ();
  g_subprocess_communicate_utf8_async (proc, NULL, self->cancellable, list_done,
                                       g_object_ref (self));
}

static void
ts_start_page_dispose (GObject *object)
{
  TsStartPage *self = TS_START_PAGE (object);

  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (self), TS_TYPE_START_PAGE);
  /* The template's root child is not bound: unparent it ourselves. */
  {
    GtkWidget *child;
    while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
      gtk_widget_unparent (child);
  }
  G_OBJECT_CLASS (ts_start_page_parent_class)->dispose (object);
}

static void
ts_start_page_finalize (GObject *object)
{
  TsStartPage *self = TS_START_PAGE (object);

  g_free (self->message);
  g_hash_table_unref (self->lesson_progress);
  G_OBJECT_CLASS (ts_start_page_parent_class)->finalize (object);
}

static void
ts_start_page_class_init (TsStartPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ts_start_page_dispose;
  object_class->finalize = ts_start_page_finalize;
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/tunnelscope/Tunnelscope/ts-start-page.ui");
  gtk_widget_class_bind_template_child (widget_class, TsStartPage, scenarios);
  gtk_widget_class_bind_template_child (widget_class, TsStartPage, refresh_button);
  gtk_widget_class_bind_template_child (widget_class, TsStartPage, lessons);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
ts_start_page_init (TsStartPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->lesson_progress = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  g_signal_connect_swapped (self->refresh_button, "clicked", G_CALLBACK (ts_start_page_refresh),
                            self);
  ts_start_page_set_scenarios_message (self, "Looking for scenarios…");
  ts_start_page_refresh_lessons (self);
}

/* "Step 3 of 5 · 1 of 2 questions answered", and how far along (0..1). */
static char *
progress_line (const TsLesson *lesson, TsLessonProgress *progress, double *out_fraction)
{
  guint n = lesson->steps->len, questions = 0, answered = 0, reached;

  for (guint i = 0; i < n; i++)
    if (((TsLessonStep *)lesson->steps->pdata[i])->question)
      {
        questions++;
        answered += ts_lesson_progress_is_answered (progress, lesson->number, i);
      }
  if (!ts_lesson_progress_has (progress, lesson->number))
    {
      *out_fraction = 0;
      return g_strdup_printf ("%u steps, %u question%s · not started", n, questions,
                              questions == 1 ? "" : "s");
    }
  reached = MIN (ts_lesson_progress_get_reached (progress, lesson->number) + 1, n);
  *out_fraction = n ? (double)reached / n : 0;
  if (reached == n && answered == questions)
    return g_strdup_printf ("Finished · %u of %u question%s answered", answered, questions,
                            questions == 1 ? "" : "s");
  return g_strdup_printf ("Step %u of %u reached · %u of %u question%s answered", reached, n,
                          answered, questions, questions == 1 ? "" : "s");
}

void
ts_start_page_refresh_lessons (TsStartPage *self)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) lessons = NULL;
  g_autoptr (TsLessonProgress) progress = NULL;
  GtkWidget *child;

  g_return_if_fail (TS_IS_START_PAGE (self));
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->lessons))) != NULL)
    gtk_list_box_remove (self->lessons, child);
  g_hash_table_remove_all (self->lesson_progress);
  lessons = ts_lesson_files_load_all (&error);
  if (lessons == NULL || lessons->len == 0)
    {
      GtkWidget *row = adw_action_row_new ();
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), "No lessons here");
      adw_action_row_set_subtitle (
          ADW_ACTION_ROW (row),
          error ? error->message
                : "Install Tunnelscope's lessons, or run it from its source tree.");
      gtk_list_box_append (self->lessons, row);
      return;
    }
  progress = ts_lesson_progress_new (NULL);
  for (guint i = 0; i < lessons->len; i++)
    {
      const TsLesson *lesson = lessons->pdata[i];
      g_autofree char *title = g_strdup_printf ("%u. %s", lesson->number, lesson->title);
      g_autofree char *capture = ts_lesson_files_capture_path (lesson);
      g_autofree char *line = NULL;
      g_autofree char *subtitle = NULL;
      g_autofree char *open_label = NULL;
      GtkWidget *row, *open, *level;
      double fraction = 0;
      gboolean started = ts_lesson_progress_has (progress, lesson->number);

      line = progress_line (lesson, progress, &fraction);
      if (!g_file_test (capture, G_FILE_TEST_EXISTS))
        subtitle = g_strdup_printf (
            "%s\nIts capture is not recorded yet: run it live from the lesson.", line);
      g_hash_table_insert (self->lesson_progress, GUINT_TO_POINTER (lesson->number),
                           g_strdup (line));
      row = adw_action_row_new ();
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle ? subtitle : line);
      adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 3);
      level = gtk_level_bar_new_for_interval (0, 1);
      gtk_level_bar_set_value (GTK_LEVEL_BAR (level), fraction);
      gtk_widget_set_size_request (level, 64, -1);
      gtk_widget_set_valign (level, GTK_ALIGN_CENTER);
      gtk_accessible_update_property (GTK_ACCESSIBLE (level), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      "Progress", -1);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), level);
      open = gtk_button_new_with_label (g_str_has_prefix (line, "Finished") ? "Review"
                                        : started                           ? "Continue"
                                                                            : "Start");
      gtk_widget_set_valign (open, GTK_ALIGN_CENTER);
      gtk_actionable_set_action_name (GTK_ACTIONABLE (open), "win.open-lesson");
      gtk_actionable_set_action_target_value (GTK_ACTIONABLE (open),
                                              g_variant_new_int32 ((gint32)lesson->number));
      open_label = g_strdup_printf ("Open lesson %u: %s", lesson->number, lesson->title);
      gtk_accessible_update_property (GTK_ACCESSIBLE (open), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      open_label, -1);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), open);
      adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), open);
      gtk_list_box_append (self->lessons, row);
    }
}

guint
ts_start_page_get_n_lessons (TsStartPage *self)
{
  g_return_val_if_fail (TS_IS_START_PAGE (self), 0);
  return g_hash_table_size (self->lesson_progress);
}

const char *
ts_start_page_get_lesson_progress (TsStartPage *self, guint number)
{
  g_return_val_if_fail (TS_IS_START_PAGE (self), NULL);
  return g_hash_table_lookup (self->lesson_progress, GUINT_TO_POINTER (number));
}

GtkWidget *
ts_start_page_new (void)
{
  return g_object_new (TS_TYPE_START_PAGE, NULL);
}

guint
ts_start_page_get_n_scenarios (TsStartPage *self)
{
  g_return_val_if_fail (TS_IS_START_PAGE (self), 0);
  return self->n_scenarios;
}

const char *
ts_start_page_get_message (TsStartPage *self)
{
  g_return_val_if_fail (TS_IS_START_PAGE (self), NULL);
  return self->message;
}
