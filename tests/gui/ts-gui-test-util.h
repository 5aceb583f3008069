/* ts-gui-test-util.h: what the GUI tests share: a display of their own
 * (Xvfb) and traces written in the test.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Starts an Xvfb of our own (unless TS_GUI_TEST_USE_DISPLAY=1 and a
 * DISPLAY is set) and points DISPLAY at it. Returns FALSE with a reason in
 * @out_reason when there is no Xvfb. Call before gtk_test_init (). */
gboolean ts_gui_test_start_display (char **out_reason);
/* Stops the Xvfb started above (by its PID). */
void ts_gui_test_stop_display (void);

/* Writes a CONNECT trace: client -> proxy -> server, a relay when
 * @intercept is FALSE, an intercepting proxy (a different TLS session on
 * the second leg) when TRUE; with a forward-proxy plain HTTP request
 * before it and a lab event. Returns the path (transfer full) in @dir. */
char *ts_gui_test_write_connect_trace (const char *dir, const char *name, gboolean intercept);
/* One plain exchange, and a statistics block saying the proxy-server
 * link's capture lost @lost packets. */
char *ts_gui_test_write_lossy_trace (const char *dir, const char *name, guint64 lost);

/* Writes a long trace of @n_requests plain HTTP exchanges through the
 * proxy (about 8 events each). */
char *ts_gui_test_write_long_trace (const char *dir, const char *name, guint n_requests);

/* Writes @n_conns plain HTTP downloads of @segments 1000-byte segments
 * each (few connections, many packets: what a long capture looks like). */
char *ts_gui_test_write_bulk_trace (const char *dir, const char *name, guint n_conns,
                                    guint segments);

G_END_DECLS
