/* main.c: tunnelscope, the GTK4 app.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "ts-application.h"

int
main (int argc, char **argv)
{
  g_autoptr (TsApplication) app = ts_application_new ();
  int status;

  status = g_application_run (G_APPLICATION (app), argc, argv);
  return status != 0 ? status : ts_application_get_exit_status (app);
}
