/* ts-screenshot.h: renders a realized widget (the real window) into a
 * texture with its own renderer and saves it as PNG.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Renders @widget as it is now (it must be mapped) and writes @path.
 * FALSE with @error when it has no size or the file cannot be written. */
gboolean ts_screenshot_save (GtkWidget *widget, const char *path, GError **error);

/* Calls @callback once @widget's window has been mapped and painted
 * @n_frames times (a layout and a paint after the last change). */
void ts_screenshot_when_painted (GtkWidget *widget, guint n_frames, GCallback callback,
                                 gpointer user_data);

G_END_DECLS
