/* ts-step-model.h: the session's steps as a GListModel, for list widgets
 * (the events list, screen readers). Items are made when asked for: the
 * steps themselves stay an array of structs in the step list.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "ts-session.h"

G_BEGIN_DECLS

#define TS_TYPE_STEP_ITEM (ts_step_item_get_type ())
G_DECLARE_FINAL_TYPE (TsStepItem, ts_step_item, TS, STEP_ITEM, GObject)

/* The step's index in the session. */
guint ts_step_item_get_index (TsStepItem *self);
/* "12.345 ms", "client → proxy", and the summary as the session's reader
 * sees it (borrowed, valid while @self lives). */
const char *ts_step_item_get_time (TsStepItem *self);
const char *ts_step_item_get_route (TsStepItem *self);
const char *ts_step_item_get_summary (TsStepItem *self);
/* Whether the session's reader can read it. */
gboolean ts_step_item_get_readable (TsStepItem *self);
/* Whether a lesson highlights it (ts_session_step_is_highlighted ()). */
gboolean ts_step_item_get_highlighted (TsStepItem *self);

#define TS_TYPE_STEP_MODEL (ts_step_model_get_type ())
G_DECLARE_FINAL_TYPE (TsStepModel, ts_step_model, TS, STEP_MODEL, GObject)

/* A model following @session: items-changed on reset, new steps, and a
 * change of whose eyes or of the highlights. */
TsStepModel *ts_step_model_new (TsSession *session);

G_END_DECLS
