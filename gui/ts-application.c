/* ts-application.c: command line, app actions, the screenshot mode.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "ts-application.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts-lesson-files.h"
#include "ts-screenshot.h"
#include "ts-settings.h"
#include "ts-window.h"

/* The screenshot mode gives up when the window is not painted by then. */
#define SCREENSHOT_TIMEOUT_S 30

struct _TsApplication
{
  AdwApplication parent_instance;

  int exit_status;
  /* the screenshot mode (or, with export, the drawing exported) */
  char *screenshot_path;
  gboolean export;
  guint screenshot_timeout;
};

G_DEFINE_FINAL_TYPE (TsApplication, ts_application, ADW_TYPE_APPLICATION)

/* The generated resource (gnome.compile_resources, c_name ts_gui,
 * --manual-register). */
void ts_gui_register_resource (void);

void
ts_application_ensure_resources (void)
{
  static gsize once = 0;

  if (g_once_init_enter (&once))
    {
      ts_gui_register_resource ();
      g_once_init_leave (&once, 1);
    }
}

static void
action_about (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  GtkApplication *app = user_data;
  static const char *developers[] = { "The Tunnelscope developers", NULL };
  GtkWidget *about = g_object_new (
      ADW_TYPE_ABOUT_WINDOW, "transient-for", gtk_application_get_active_window (app),
      "application-name", "Tunnelscope", "application-icon", TS_APPLICATION_ID, "version",
      PACKAGE_VERSION, "developer-name", "The Tunnelscope developers", "developers", developers,
      "comments",
      "An educational simulator and packet-level teaching toolkit for HTTP "
      "proxying: forward proxies, HTTPS interception, CONNECT tunnels, "
      "proxy chains and MASQUE.",
      "license-type", GTK_LICENSE_GPL_3_0, "copyright", "© The Tunnelscope developers", NULL);
  gtk_window_present (GTK_WINDOW (about));
}

static void
action_quit (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  GList *windows = gtk_application_get_windows (GTK_APPLICATION (user_data));

  /* Closing the windows stops a live lab first. */
  while (windows)
    {
      GList *next = windows->next;
      gtk_window_destroy (GTK_WINDOW (windows->data));
      windows = next;
    }
}

static void
apply_large_text (GtkApplication *app, gboolean large)
{
  for (GList *l = gtk_application_get_windows (app); l; l = l->next)
    {
      if (large)
        gtk_widget_add_css_class (GTK_WIDGET (l->data), "large-text");
      else
        gtk_widget_remove_css_class (GTK_WIDGET (l->data), "large-text");
    }
}

/* Ctrl+T: kept for the next run (an instructor at a projector sets it once). */
static void
action_large_text (GSimpleAction *action, GVariant *state, gpointer user_data)
{
  g_autoptr (GError) error = NULL;

  g_simple_action_set_state (action, state);
  apply_large_text (GTK_APPLICATION (user_data), g_variant_get_boolean (state));
  if (!ts_settings_set_large_text (g_variant_get_boolean (state), &error))
    g_printerr ("tunnelscope: cannot save the large-text setting: %s\n", error->message);
}

static const GActionEntry app_actions[] = {
  { .name = "about", .activate = action_about },
  { .name = "quit", .activate = action_quit },
  { .name = "large-text", .state = "false", .change_state = action_large_text },
};

static const struct
{
  const char *action;
  const char *accels[4];
} accels[] = {
  { "app.quit", { "<Control>q", NULL } },
  { "app.large-text", { "<Control>t", NULL } },
  { "win.open", { "<Control>o", NULL } },
  { "win.export", { "<Control>e", NULL } },
  { "session.next", { "Right", "n", "Page_Down", NULL } },
  { "session.previous", { "Left", "p", "Page_Up", NULL } },
  { "session.first", { "Home", NULL } },
  { "session.last", { "End", NULL } },
  { "session.play", { "space", NULL } },
  { "session.faster", { "plus", "bracketright", NULL } },
  { "session.slower", { "minus", "bracketleft", NULL } },
  { "win.view::ladder", { "<Alt>1", NULL } },
  { "win.view::topology", { "<Alt>2", NULL } },
  { "win.view::detail", { "<Alt>3", NULL } },
  { "win.view::events", { "<Alt>4", NULL } },
  { "win.view::compare", { "<Alt>5", NULL } },
  { "win.lesson-next", { "<Alt>Right", NULL } },
  { "win.lesson-previous", { "<Alt>Left", NULL } },
};

/* The shortcuts, except the plain keys a text field needs (letters, space,
 * arrows, Home, End) while one has the focus: an answer typed in a lesson
 * must not step the trace. */
static void
set_accels (GtkApplication *app, gboolean typing)
{
  for (guint i = 0; i < G_N_ELEMENTS (accels); i++)
    {
      const char *kept[G_N_ELEMENTS (accels[i].accels)] = { NULL };
      guint n = 0;

      for (guint k = 0; accels[i].accels[k] != NULL; k++)
        {
          guint key = 0;
          GdkModifierType mods = 0;

          gtk_accelerator_parse (accels[i].accels[k], &key, &mods);
          if (!typing || (mods & (GDK_CONTROL_MASK | GDK_ALT_MASK)) != 0)
            kept[n++] = accels[i].accels[k];
        }
      gtk_application_set_accels_for_action (app, accels[i].action, kept);
    }
}

static void
on_focus_changed (GtkWindow *window, GParamSpec *pspec, GtkApplication *app)
{
  GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (window));
  gboolean typing = focus != NULL && GTK_IS_EDITABLE (focus);
  gboolean was = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (app), "ts-typing"));

  if (typing == was)
    return;
  g_object_set_data (G_OBJECT (app), "ts-typing", GINT_TO_POINTER (typing));
  set_accels (app, typing);
}

static void
on_window_added (GtkApplication *app, GtkWindow *window)
{
  GAction *large = g_action_map_lookup_action (G_ACTION_MAP (app), "large-text");
  g_autoptr (GVariant) state = g_action_get_state (large);

  if (g_variant_get_boolean (state))
    gtk_widget_add_css_class (GTK_WIDGET (window), "large-text");
  g_signal_connect_object (window, "notify::focus-widget", G_CALLBACK (on_focus_changed), app, 0);
}

static void
ts_application_startup (GApplication *app)
{
  ts_application_ensure_resources ();
  G_APPLICATION_CLASS (ts_application_parent_class)->startup (app);
  g_action_map_add_action_entries (G_ACTION_MAP (app), app_actions, G_N_ELEMENTS (app_actions),
                                   app);
  set_accels (GTK_APPLICATION (app), FALSE);
  g_simple_action_set_state (
      G_SIMPLE_ACTION (g_action_map_lookup_action (G_ACTION_MAP (app), "large-text")),
      g_variant_new_boolean (ts_settings_get_large_text ()));
  g_signal_connect (app, "window-added", G_CALLBACK (on_window_added), NULL);
}

static TsWindow *
new_window (TsApplication *self)
{
  TsWindow *window = ts_window_new (GTK_APPLICATION (self));
  return window;
}

static void
ts_application_activate (GApplication *app)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (app));

  if (window == NULL)
    window = GTK_WINDOW (new_window (TS_APPLICATION (app)));
  gtk_window_present (window);
}

static void
ts_application_open (GApplication *app, GFile **files, int n_files, const char *hint)
{
  for (int i = 0; i < n_files; i++)
    {
      TsWindow *window = new_window (TS_APPLICATION (app));
      ts_window_open (window, files[i]);
      gtk_window_present (GTK_WINDOW (window));
    }
}

static void
screenshot_finish (TsApplication *self, int status)
{
  g_clear_handle_id (&self->screenshot_timeout, g_source_remove);
  self->exit_status = status;
  action_quit (NULL, NULL, self);
  g_application_release (G_APPLICATION (self));
}

static void
screenshot_take (GtkWidget *window, gpointer user_data)
{
  TsApplication *self = user_data;
  g_autoptr (GError) error = NULL;

  if (self->export ? !ts_window_export (TS_WINDOW (window), self->screenshot_path, &error)
                   : !ts_screenshot_save (window, self->screenshot_path, &error))
    {
      g_printerr ("tunnelscope: %s\n", error->message);
      screenshot_finish (self, 1);
      return;
    }
  screenshot_finish (self, 0);
}

static gboolean
screenshot_timed_out (gpointer user_data)
{
  TsApplication *self = user_data;

  self->screenshot_timeout = 0;
  g_printerr (
      "tunnelscope: the window was not painted within %d s (is there a display? try xvfb-run)\n",
      SCREENSHOT_TIMEOUT_S);
  screenshot_finish (self, 1);
  return G_SOURCE_REMOVE;
}

typedef struct
{
  char *screenshot, *export, *view, *compare, *as, *scenario, *keylog;
  int step, lesson;
  gboolean version;
  GStrv rest;
} Options;

static void
options_clear (Options *o)
{
  g_free (o->screenshot);
  g_free (o->export);
  g_free (o->view);
  g_free (o->compare);
  g_free (o->as);
  g_free (o->scenario);
  g_free (o->keylog);
  g_strfreev (o->rest);
  memset (o, 0, sizeof *o);
}

/* An int option not given (0 is a value given, and refused). */
#define OPTION_UNSET G_MININT

/* Parses and checks the command line; FALSE with a message for the user
 * (a usage error, exit status 2). --help prints and exits here. */
static gboolean
parse_options (char **argv, Options *o, GError **error)
{
  const GOptionEntry entries[] = {
    { "scenario", 0, 0, G_OPTION_ARG_STRING, &o->scenario, "Run a lab scenario live", "NAME" },
    { "lesson", 0, 0, G_OPTION_ARG_INT, &o->lesson,
      "Open lesson N on its shipped capture (with --step K: at its step K)", "N" },
    { "screenshot", 0, 0, G_OPTION_ARG_FILENAME, &o->screenshot,
      "Render the window to a PNG and exit", "OUT.png" },
    { "export", 0, 0, G_OPTION_ARG_FILENAME, &o->export,
      "Export the view's drawing (ladder or topology) to a PNG, SVG or PDF and exit", "OUT" },
    { "step", 0, 0, G_OPTION_ARG_INT, &o->step,
      "With --screenshot: show step N (1 is the first); with --lesson: the lesson's step N", "N" },
    { "view", 0, 0, G_OPTION_ARG_STRING, &o->view,
      "With --screenshot: ladder, topology, detail, events, compare (or start, without a TRACE)",
      "VIEW" },
    { "compare", 0, 0, G_OPTION_ARG_FILENAME, &o->compare, "A second trace to compare with",
      "TRACE2" },
    { "as", 0, 0, G_OPTION_ARG_STRING, &o->as, "Whose eyes: a node name, or observer", "NODE" },
    { "keylog", 0, 0, G_OPTION_ARG_FILENAME, &o->keylog,
      "Read TLS secrets from an NSS key log FILE (SSLKEYLOGFILE) too", "FILE" },
    { "version", 0, 0, G_OPTION_ARG_NONE, &o->version, "Print the version and exit", NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &o->rest, NULL, NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context
      = g_option_context_new ("[TRACE | --lesson N | --scenario NAME]");
  g_auto (GStrv) copy = g_strdupv (argv);
  char **args = copy;
  int argc = (int)g_strv_length (copy);

  /* Told apart from a number given: --step 0 and --lesson 0 are refused. */
  o->step = OPTION_UNSET;
  o->lesson = OPTION_UNSET;
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_summary (
      context, "Step through a proxy's traffic: a lab scenario live, or a capture.\n\n"
               "  tunnelscope --screenshot OUT.png TRACE [--step N] [--view "
               "ladder|topology|detail|compare]\n"
               "              [--compare TRACE2] [--as NODE]\n"
               "  tunnelscope --screenshot OUT.png --lesson N [--step K]\n"
               "renders the real window and exits (under xvfb-run -a where there is no display).");
  if (!g_option_context_parse (context, &argc, &args, error))
    return FALSE;
  if (o->step != OPTION_UNSET && o->step <= 0)
    return g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, "--step counts from 1"),
           FALSE;
  if (o->lesson == 0)
    return g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                        "there is no lesson 0 (lessons count from 1)"),
           FALSE;
  if (o->step == OPTION_UNSET)
    o->step = 0;
  if (o->lesson == OPTION_UNSET)
    o->lesson = 0;
  if (o->version)
    return TRUE;
  if (o->rest && g_strv_length (o->rest) > 1)
    return g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, "give at most one trace"),
           FALSE;
  if (o->view
      && !g_strv_contains ((const char *const[]){ "ladder", "topology", "detail", "events",
                                                  "compare", "start", NULL },
                           o->view))
    return g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                        "--view is one of ladder, topology, detail, events, compare, start"),
           FALSE;
  if ((o->rest != NULL && o->rest[0] != NULL) + (o->scenario != NULL) + (o->lesson != 0) > 1)
    return g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                        "give one of TRACE, --lesson N, --scenario NAME"),
           FALSE;
  if (o->screenshot && o->export)
    return g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                        "give --screenshot or --export, not both"),
           FALSE;
  if (o->export && !g_str_has_suffix (o->export, ".png") && !g_str_has_suffix (o->export, ".svg")
      && !g_str_has_suffix (o->export, ".pdf"))
    return g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                        "--export writes .png, .svg or .pdf"),
           FALSE;
  if (o->lesson < 0)
    return g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                        "--lesson takes a lesson number"),
           FALSE;
  if ((o->screenshot || o->export) && (o->rest == NULL || o->rest[0] == NULL)
      && g_strcmp0 (o->view, "start") != 0 && o->lesson == 0)
    return g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                        "%s needs a TRACE or --lesson N",
                        o->screenshot ? "--screenshot" : "--export"),
           FALSE;
  if (o->lesson && o->view)
    return g_set_error (
               error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
               "a lesson's steps choose the view: give --lesson N --step K without --view"),
           FALSE;
  if (!o->screenshot && !o->export && o->lesson == 0 && (o->step || o->view))
    return g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                        "--step and --view go with --screenshot, --export or --lesson"),
           FALSE;
  return TRUE;
}

/* --help, --version and usage errors are answered here, before GTK needs a
 * display; without one, say so plainly. */
static gboolean
ts_application_local_command_line (GApplication *app, char ***arguments, int *exit_status)
{
  Options o = { 0 };
  g_autoptr (GError) error = NULL;

  if (!parse_options (*arguments, &o, &error))
    {
      g_printerr ("tunnelscope: %s (try --help)\n", error->message);
      options_clear (&o);
      *exit_status = 2;
      return TRUE;
    }
  if (o.version)
    {
      g_print ("tunnelscope %s\n", PACKAGE_VERSION);
      options_clear (&o);
      *exit_status = 0;
      return TRUE;
    }
  if (!gtk_init_check ())
    {
      g_printerr ("tunnelscope: cannot open a display%s\n",
                  o.screenshot || o.export ? " (run it under xvfb-run -a)"
                                           : " (is DISPLAY or WAYLAND_DISPLAY set?)");
      options_clear (&o);
      *exit_status = 1;
      return TRUE;
    }
  options_clear (&o);
  return G_APPLICATION_CLASS (ts_application_parent_class)
      ->local_command_line (app, arguments, exit_status);
}

static int
ts_application_command_line (GApplication *app, GApplicationCommandLine *cmdline)
{
  TsApplication *self = TS_APPLICATION (app);
  g_auto (GStrv) argv = g_application_command_line_get_arguments (cmdline, NULL);
  g_autoptr (GError) error = NULL;
  Options o = { 0 };
  char *screenshot, *view, *compare, *as, *scenario;
  int step, lesson;
  TsWindow *window;
  const char *trace;

  if (!parse_options (argv, &o, &error))
    {
      g_application_command_line_printerr (cmdline, "tunnelscope: %s (try --help)\n",
                                           error->message);
      options_clear (&o);
      return 2;
    }
  if (o.export)
    {
      g_free (o.screenshot);
      o.screenshot = g_steal_pointer (&o.export);
      self->export = TRUE;
    }
  screenshot = o.screenshot;
  view = o.view;
  compare = o.compare;
  as = o.as;
  scenario = o.scenario;
  step = o.step;
  lesson = o.lesson;
  trace = o.rest ? o.rest[0] : NULL;

  window = new_window (self);
  if (o.keylog)
    {
      g_autoptr (GFile) file = g_application_command_line_create_file_for_arg (cmdline, o.keylog);
      g_autoptr (GError) read_error = NULL;
      g_autoptr (GBytes) keylog = g_file_load_bytes (file, NULL, NULL, &read_error);

      if (keylog == NULL)
        {
          g_application_command_line_printerr (cmdline, "tunnelscope: %s\n", read_error->message);
          gtk_window_destroy (GTK_WINDOW (window));
          options_clear (&o);
          return 1;
        }
      ts_session_set_keylog (ts_window_get_session (window), keylog);
      ts_session_set_keylog (ts_window_get_compare_session (window), keylog);
    }
  if (trace)
    {
      g_autoptr (GFile) file = g_application_command_line_create_file_for_arg (cmdline, trace);
      if (screenshot)
        {
          g_autoptr (GError) load_error = NULL;
          if (!ts_window_load_path (window, g_file_peek_path (file), &load_error))
            {
              g_application_command_line_printerr (cmdline, "tunnelscope: %s\n",
                                                   load_error->message);
              gtk_window_destroy (GTK_WINDOW (window));
              options_clear (&o);
              return 1;
            }
        }
      else
        ts_window_open (window, file);
    }
  if (compare)
    {
      g_autoptr (GFile) file = g_application_command_line_create_file_for_arg (cmdline, compare);
      g_autoptr (GError) load_error = NULL;
      if (!ts_window_load_compare_path (window, g_file_peek_path (file), &load_error))
        {
          g_application_command_line_printerr (cmdline, "tunnelscope: %s\n", load_error->message);
          gtk_window_destroy (GTK_WINDOW (window));
          options_clear (&o);
          return 1;
        }
    }
  if (lesson)
    {
      guint at = step > 0 ? (guint)step - 1 : G_MAXUINT;

      /* A step the lesson does not have is a usage error, as a lesson
       * that is not there is (below). */
      {
        g_autoptr (TsLesson) bound = ts_lesson_files_load ((guint)lesson, NULL);
        if (bound != NULL && step > 0 && (guint)step > bound->steps->len)
          {
            g_application_command_line_printerr (
                cmdline, "tunnelscope: --step %d: lesson %d has %u step%s\n", step, lesson,
                bound->steps->len, bound->steps->len == 1 ? "" : "s");
            gtk_window_destroy (GTK_WINDOW (window));
            options_clear (&o);
            return 2;
          }
      }
      if (screenshot)
        {
          g_autoptr (GError) lesson_error = NULL;
          /* A picture of a lesson step, not of where a student left it,
           * and no progress of its own. */
          ts_lesson_pane_set_record_progress (ts_window_get_lesson_pane (window), FALSE);
          if (!ts_window_load_lesson (window, (guint)lesson, step > 0 ? at : 0, &lesson_error))
            {
              g_application_command_line_printerr (cmdline, "tunnelscope: %s\n",
                                                   lesson_error->message);
              gtk_window_destroy (GTK_WINDOW (window));
              options_clear (&o);
              return 1;
            }
        }
      else
        {
          /* A lesson that is not there is a command-line error, not a dialog. */
          g_autoptr (GError) lesson_error = NULL;
          g_autoptr (TsLesson) found = ts_lesson_files_load ((guint)lesson, &lesson_error);

          if (found == NULL)
            {
              g_application_command_line_printerr (cmdline, "tunnelscope: %s\n",
                                                   lesson_error->message);
              gtk_window_destroy (GTK_WINDOW (window));
              options_clear (&o);
              return 1;
            }
          ts_window_open_lesson (window, (guint)lesson, at);
        }
      step = 0;
    }
  if (as)
    {
      TsSession *session = ts_window_get_session (window);

      ts_session_set_as (session, as);
      /* As tscope explain does: a name (or address) no node of the trace
       * has is a usage error, not a view where nothing is readable. A
       * trace still loading is checked by the header's drop-down, which
       * says "no such node". */
      if (ts_session_get_n_steps (session) > 0
          && ts_session_get_reader (session) == TS_SESSION_READER_NONE)
        {
          g_autofree char *names = ts_session_dup_node_names (session);
          g_autofree char *where
              = trace ? g_strdup (trace) : g_strdup_printf ("lesson %d's capture", lesson);
          g_application_command_line_printerr (
              cmdline,
              "tunnelscope: --as %s: no such node in %s (nodes: %s; or observer, on every link)\n",
              as, where, names);
          gtk_window_destroy (GTK_WINDOW (window));
          options_clear (&o);
          return 2;
        }
    }
  if (step > 0)
    {
      TsSession *session = ts_window_get_session (window);
      guint n = ts_session_get_n_steps (session);

      /* Beyond the end of a trace already read: said, not clamped in
       * silence (a trace still loading is clamped when it is read). */
      if (n > 0 && (guint)step > n)
        {
          g_application_command_line_printerr (cmdline,
                                               "tunnelscope: --step %d: %s has %u step%s\n", step,
                                               trace ? trace : "the trace", n, n == 1 ? "" : "s");
          gtk_window_destroy (GTK_WINDOW (window));
          options_clear (&o);
          return 2;
        }
      ts_session_set_step (session, step - 1);
    }
  if (scenario)
    ts_window_run_scenario (window, scenario);

  if (screenshot)
    {
      if (!lesson)
        ts_window_set_view (window, view ? view : "ladder");
      /* No animations: the picture is the state, not a transition. */
      g_object_set (gtk_settings_get_default (), "gtk-enable-animations", FALSE, NULL);
      /* A fixed size and the normal text, so that screenshots are
       * comparable whatever the user chose with Ctrl+T. */
      gtk_window_set_default_size (GTK_WINDOW (window), 1280, 800);
      gtk_widget_remove_css_class (GTK_WIDGET (window), "large-text");
      g_free (self->screenshot_path);
      self->screenshot_path = g_strdup (screenshot);
      g_application_hold (app);
      self->screenshot_timeout
          = g_timeout_add_seconds (SCREENSHOT_TIMEOUT_S, screenshot_timed_out, self);
      ts_screenshot_when_painted (GTK_WIDGET (window), 4, G_CALLBACK (screenshot_take), self);
    }
  gtk_window_present (GTK_WINDOW (window));
  options_clear (&o);
  return 0;
}

static void
ts_application_finalize (GObject *object)
{
  TsApplication *self = TS_APPLICATION (object);

  g_clear_handle_id (&self->screenshot_timeout, g_source_remove);
  g_free (self->screenshot_path);
  G_OBJECT_CLASS (ts_application_parent_class)->finalize (object);
}

static void
ts_application_class_init (TsApplicationClass *klass)
{
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = ts_application_finalize;
  app_class->startup = ts_application_startup;
  app_class->activate = ts_application_activate;
  app_class->open = ts_application_open;
  app_class->command_line = ts_application_command_line;
  app_class->local_command_line = ts_application_local_command_line;
}

static void
ts_application_init (TsApplication *self)
{
}

TsApplication *
ts_application_new (void)
{
  /* Non-unique: every invocation is its own process, so the screenshot mode
   * and tests never hand their work to a running instance. */
  return g_object_new (TS_TYPE_APPLICATION, "application-id", TS_APPLICATION_ID, "flags",
                       G_APPLICATION_HANDLES_COMMAND_LINE | G_APPLICATION_NON_UNIQUE,
                       "resource-base-path", "/org/tunnelscope/Tunnelscope", NULL);
}

int
ts_application_get_exit_status (TsApplication *self)
{
  g_return_val_if_fail (TS_IS_APPLICATION (self), 1);
  return self->exit_status;
}
