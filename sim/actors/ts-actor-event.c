/* ts-actor-event.c: one-call event emission for the actors.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "ts-actor-event.h"

#include <stdarg.h>

#include "ts-trace-event.h"

const char *
ts_actor_event_node (const char *fallback)
{
  const char *node = g_getenv ("TS_NODE");
  return node && *node ? node : fallback;
}

void
ts_actor_event_emit (const char *kind, const char *first_key, ...)
{
  static gboolean warned = FALSE;
  g_autoptr (TsTraceEvent) ev = NULL;
  g_autoptr (GError) error = NULL;
  const char *key;
  va_list ap;

  g_return_if_fail (kind != NULL);
  if (g_getenv ("TS_EVENTS") == NULL)
    return;

  ev = ts_trace_event_new (0, ts_actor_event_node (g_get_prgname ()), kind);
  va_start (ap, first_key);
  for (key = first_key; key != NULL; key = va_arg (ap, const char *))
    {
      const char *value = va_arg (ap, const char *);
      if (value != NULL)
        ts_trace_event_add (ev, key, value);
    }
  va_end (ap);

  if (!ts_trace_event_emit (ev, &error) && !warned)
    {
      warned = TRUE;
      g_printerr ("%s: cannot write event to TS_EVENTS: %s\n", g_get_prgname (), error->message);
    }
}
