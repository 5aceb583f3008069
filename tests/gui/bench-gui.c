/* bench-gui.c: the app on a generated trace of about a million packets:
 * time to the first frame (load and analysis, then the window's first
 * rendering) and the redraw time per step (a step, then the whole window
 * rendered with its own renderer).
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 *   bench-gui [--packets N] [--steps K] [TRACE]
 *
 * Prints one line per figure. Run under Xvfb (tests/gui/bench-gui.sh).
 */
#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <sys/resource.h>

#include "ts-application.h"
#include "ts-gui-test-util.h"
#include "ts-window.h"

/* Packets per plain HTTP exchange written by ts_gui_test_write_long_trace (). */
#define PACKETS_PER_EXCHANGE 16

static double
now_s (void)
{
  return g_get_monotonic_time () / 1e6;
}

/* The frame clock's phases: a frame's cost is from its layout to the end
 * of its paint (waiting for the next frame is not counted). */
static double frame_start, frame_end;
static guint frames;

static gboolean in_frame;

/* A frame starts at its layout phase, or at its paint phase when nothing
 * needed a layout. */
static void
on_phase (GdkFrameClock *clock)
{
  if (!in_frame)
    {
      frame_start = g_get_monotonic_time () / 1e6;
      in_frame = TRUE;
    }
}

static void
on_after_paint (GdkFrameClock *clock)
{
  frame_end = g_get_monotonic_time () / 1e6;
  in_frame = FALSE;
  frames++;
}

/* Waits for the next frame to be painted; returns its cost. */
static double
next_frame (GtkWidget *window)
{
  guint before = frames;
  gint64 end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  gtk_widget_queue_draw (window);
  while (frames == before && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  return frame_end - frame_start;
}

static double
cpu_s (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec
         + ru.ru_stime.tv_usec / 1e6;
}

static void
settle (guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64)ms * 1000;

  while (g_get_monotonic_time () < end)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (500);
}

static int
compare_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int
main (int argc, char **argv)
{
  int packets = 1000000, steps = 300;
  g_autofree char *shape = g_strdup ("bulk");
  g_auto (GStrv) rest = NULL;
  const GOptionEntry entries[] = {
    { "packets", 0, 0, G_OPTION_ARG_INT, &packets, "Packets in the generated trace", "N" },
    { "steps", 0, 0, G_OPTION_ARG_INT, &steps, "Steps to time", "K" },
    { "shape", 0, 0, G_OPTION_ARG_STRING, &shape,
      "bulk: 100 downloads of many segments (default); exchanges: one short connection per request",
      "SHAPE" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &rest, NULL, "[TRACE]" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("[TRACE]");
  g_autoptr (GError) error = NULL;
  g_autofree char *reason = NULL;
  g_autofree char *tmpdir = NULL;
  g_autofree char *path = NULL;
  g_autoptr (GArray) times = g_array_new (FALSE, FALSE, sizeof (double));
  TsWindow *window;
  TsSession *session;
  double t0, c0, t_load, c_load, t_frame, sum = 0, sum_update = 0;
  GdkFrameClock *clock;
  GStatBuf st;
  guint n;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("bench-gui: %s\n", error->message);
      return 2;
    }
  g_setenv ("GSK_RENDERER", "cairo", FALSE);
  g_setenv ("TS_TSCOPE", "/nonexistent/tscope", TRUE);
  if (!ts_gui_test_start_display (&reason))
    {
      g_printerr ("bench-gui: %s\n", reason);
      return 1;
    }
  gtk_init ();
  adw_init ();
  ts_application_ensure_resources ();

  if (rest && rest[0])
    path = g_strdup (rest[0]);
  else
    {
      double t = now_s ();
      tmpdir = g_dir_make_tmp ("ts-bench-gui-XXXXXX", NULL);
      if (g_str_equal (shape, "exchanges"))
        path = ts_gui_test_write_long_trace (tmpdir, "bench.pcapng",
                                             (guint)(packets / PACKETS_PER_EXCHANGE));
      else
        path = ts_gui_test_write_bulk_trace (tmpdir, "bench.pcapng", 100, (guint)(packets / 100));
      g_print ("generated: %d packets (%s) in %.2f s\n", packets, shape, now_s () - t);
    }
  if (g_stat (path, &st) == 0)
    g_print ("trace: %s, %.1f MB\n", path, st.st_size / 1e6);

  window = ts_window_new (NULL);
  gtk_window_set_default_size (GTK_WINDOW (window), 1280, 800);
  gtk_window_present (GTK_WINDOW (window));
  settle (300);
  session = ts_window_get_session (window);
  clock = gtk_widget_get_frame_clock (GTK_WIDGET (window));
  g_signal_connect (clock, "layout", G_CALLBACK (on_phase), NULL);
  g_signal_connect (clock, "paint", G_CALLBACK (on_phase), NULL);
  g_signal_connect (clock, "after-paint", G_CALLBACK (on_after_paint), NULL);

  t0 = now_s ();
  c0 = cpu_s ();
  if (!ts_window_load_path (window, path, &error))
    {
      g_printerr ("bench-gui: %s\n", error->message);
      return 1;
    }
  t_load = now_s () - t0;
  c_load = cpu_s () - c0;
  t_frame = next_frame (GTK_WIDGET (window));
  n = ts_session_get_n_steps (session);
  g_print ("steps: %u\n", n);
  g_print ("load and analysis: %.3f s wall, %.3f s CPU\n", t_load, c_load);
  g_print ("time to the first frame: %.3f s (load %.3f s, first frame %.1f ms)\n", now_s () - t0,
           t_load, t_frame * 1000);

  /* Steps: next, and jumps across the trace, each followed by the layout
   * pass and a full rendering of the window. */
  for (int i = 0; i < steps; i++)
    {
      double t = now_s ();
      if (i % 3 == 0)
        ts_session_set_step (session, (int)g_random_int_range (0, (gint32)n));
      else
        ts_session_next (session);
      t = now_s () - t;
      sum_update += t;
      t += next_frame (GTK_WIDGET (window));
      g_array_append_val (times, t);
      sum += t;
    }
  g_array_sort (times, compare_double);
  g_print ("of which the session's update (views rebuilding their state): mean %.2f ms\n",
           sum_update / steps * 1000);
  g_print ("redraw per step (%d steps; the session's update, then the frame's layout and paint): "
           "mean %.2f ms, "
           "median %.2f ms, 95th percentile %.2f ms, max %.2f ms\n",
           steps, sum / steps * 1000, g_array_index (times, double, steps / 2) * 1000,
           g_array_index (times, double, steps * 95 / 100) * 1000,
           g_array_index (times, double, steps - 1) * 1000);

  {
    /* Anonymous memory is what the app holds; file pages are the mapped
     * trace, which the kernel can drop and read again. */
    g_autofree char *status = NULL;
    if (g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
      {
        g_auto (GStrv) lines = g_strsplit (status, "\n", -1);
        for (guint i = 0; lines[i]; i++)
          if (g_str_has_prefix (lines[i], "VmHWM") || g_str_has_prefix (lines[i], "RssAnon")
              || g_str_has_prefix (lines[i], "RssFile"))
            g_print ("memory: %s\n", lines[i]);
      }
  }
  gtk_window_destroy (GTK_WINDOW (window));
  if (tmpdir)
    {
      g_remove (path);
      g_rmdir (tmpdir);
    }
  ts_gui_test_stop_display ();
  return 0;
}
