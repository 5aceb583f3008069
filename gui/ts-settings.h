/* ts-settings.h: the app's preferences, kept in the XDG config directory
 * (g_get_user_config_dir ()/tunnelscope/settings.ini, a GKeyFile):
 *
 *   [view]
 *   large-text=true    text for projectors (Ctrl+T)
 *
 * A missing or damaged file means the defaults; a file that cannot be
 * written leaves the preference for this run only, with a warning.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The settings file (transfer full). */
char *ts_settings_get_path (void);

gboolean ts_settings_get_large_text (void);
/* Saves at once (atomically); FALSE with @error when it cannot. */
gboolean ts_settings_set_large_text (gboolean large, GError **error);

G_END_DECLS
