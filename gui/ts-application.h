/* ts-application.h: the Tunnelscope application: command line, app
 * actions (about, quit, large text), shortcuts, the screenshot mode.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 *   tunnelscope [TRACE | --lesson N | --scenario NAME]
 *   tunnelscope --screenshot OUT.png TRACE [--step N] [--view VIEW]
 *               [--compare TRACE2] [--as NODE]
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define TS_APPLICATION_ID "org.tunnelscope.Tunnelscope"

#define TS_TYPE_APPLICATION (ts_application_get_type ())
G_DECLARE_FINAL_TYPE (TsApplication, ts_application, TS, APPLICATION, AdwApplication)

TsApplication *ts_application_new (void);

/* The exit status the command line asked for (the screenshot mode sets it
 * once it is done). */
int ts_application_get_exit_status (TsApplication *self);

/* Registers the app's resources, once (tests call it before building
 * windows without a TsApplication). */
void ts_application_ensure_resources (void);

G_END_DECLS
