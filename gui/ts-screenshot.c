/* ts-screenshot.c: a widget rendered to PNG with its own renderer.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "ts-screenshot.h"

gboolean
ts_screenshot_save (GtkWidget *widget, const char *path, GError **error)
{
  g_autoptr (GdkPaintable) paintable = NULL;
  g_autoptr (GskRenderNode) node = NULL;
  g_autoptr (GdkTexture) texture = NULL;
  GtkSnapshot *snapshot;
  GskRenderer *renderer;
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);

  g_return_val_if_fail (GTK_IS_WIDGET (widget), FALSE);
  if (w <= 0 || h <= 0 || !gtk_widget_get_mapped (widget))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "the window is not shown (%d×%d)", w, h);
      return FALSE;
    }
  renderer = gtk_native_get_renderer (gtk_widget_get_native (widget));
  paintable = gtk_widget_paintable_new (widget);
  snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, snapshot, w, h);
  node = gtk_snapshot_free_to_node (snapshot);
  if (node == NULL || renderer == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "the window drew nothing");
      return FALSE;
    }
  texture = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, w, h));
  if (!gdk_texture_save_to_png (texture, path))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: cannot write the PNG", path);
      return FALSE;
    }
  return TRUE;
}

typedef struct
{
  GtkWidget *widget;
  guint frames_left;
  GCallback callback;
  gpointer user_data;
  gulong handler;
  GdkFrameClock *clock;
} Wait;

static void
after_paint (GdkFrameClock *clock, Wait *wait)
{
  if (wait->frames_left > 0)
    {
      wait->frames_left--;
      gtk_widget_queue_draw (wait->widget);
      gdk_frame_clock_request_phase (clock, GDK_FRAME_CLOCK_PHASE_PAINT);
      return;
    }
  g_signal_handler_disconnect (clock, wait->handler);
  ((void (*) (GtkWidget *, gpointer))wait->callback) (wait->widget, wait->user_data);
  g_object_unref (wait->clock);
  g_object_unref (wait->widget);
  g_free (wait);
}

static void
on_map (GtkWidget *widget, Wait *wait)
{
  g_signal_handlers_disconnect_by_func (widget, on_map, wait);
  wait->clock = g_object_ref (gtk_widget_get_frame_clock (widget));
  wait->handler = g_signal_connect (wait->clock, "after-paint", G_CALLBACK (after_paint), wait);
  gtk_widget_queue_draw (widget);
  gdk_frame_clock_request_phase (wait->clock, GDK_FRAME_CLOCK_PHASE_PAINT);
}

void
ts_screenshot_when_painted (GtkWidget *widget, guint n_frames, GCallback callback,
                            gpointer user_data)
{
  Wait *wait = g_new0 (Wait, 1);

  wait->widget = g_object_ref (widget);
  wait->frames_left = n_frames;
  wait->callback = callback;
  wait->user_data = user_data;
  if (gtk_widget_get_mapped (widget))
    on_map (widget, wait);
  else
    g_signal_connect (widget, "map", G_CALLBACK (on_map), wait);
}
