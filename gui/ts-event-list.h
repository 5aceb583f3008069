/* ts-event-list.h: the steps as a list (time, who to whom, what), bound to
 * the session: selecting a row steps there, stepping selects the row. The
 * text alternative of the drawn views, for screen readers and for scanning.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "ts-session.h"

G_BEGIN_DECLS

#define TS_TYPE_EVENT_LIST (ts_event_list_get_type ())
G_DECLARE_FINAL_TYPE (TsEventList, ts_event_list, TS, EVENT_LIST, GtkWidget)

void ts_event_list_set_session (TsEventList *self, TsSession *session);
/* The list model shown (borrowed; NULL without a session). */
GListModel *ts_event_list_get_model (TsEventList *self);
/* The selected row, or GTK_INVALID_LIST_POSITION. */
guint ts_event_list_get_selected (TsEventList *self);

/* Selects row @position, as a click does (the session steps there). */
void ts_event_list_set_selected (TsEventList *self, guint position);

G_END_DECLS
