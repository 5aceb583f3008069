/* ts-session.h: the one object holding the app's view state: the loaded
 * trace (its steps), the current step, the selection, the whose-eyes
 * filter, playback. Every view binds to it.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Properties (all notify): "step" (int, -1 when there is none), "n-steps",
 * "selected-field" (int, -1 none: a row of the detail tree, linked with the
 * hex view), "as" (whose eyes: "" for everyone, a node name, or
 * "observer"), "playing", "speed" (steps per second), "loading",
 * "progress" (0..1), "live", "title", "error", "view" (the view shown:
 * ladder, topology, detail, events or compare), "highlights" (the
 * timeline events a lesson points at: a GVariant "au" of event indexes).
 *
 * Signals: "steps-added" (guint first, guint n) when steps arrive (a live
 * lab), "reset" when a new trace replaces the steps.
 *
 * Actions ("session.*", the same for keyboard, buttons and lessons):
 * first, previous, next, last, goto (int32), play (stateful), faster,
 * slower, stop-live, as (string state), view (string state), highlight
 * ("au" state: timeline event indexes).
 */
#pragma once

#include <gio/gio.h>

#include "ts-step-list.h"

G_BEGIN_DECLS

#define TS_TYPE_SESSION (ts_session_get_type ())
G_DECLARE_FINAL_TYPE (TsSession, ts_session, TS, SESSION, GObject)

/* The reader index of "everyone" and of the on-path observer (see
 * ts_step_list_can_read ()). */
#define TS_SESSION_READER_EVERYONE (-2)
#define TS_SESSION_READER_OBSERVER (-1)
/* A whose-eyes name that no node of this trace has: it reads nothing. */
#define TS_SESSION_READER_NONE G_MAXINT

TsSession *ts_session_new (void);

/* The steps (borrowed, never NULL: empty before a trace is loaded). */
TsStepList *ts_session_get_step_list (TsSession *self);
guint ts_session_get_n_steps (TsSession *self);

int ts_session_get_step (TsSession *self);
/* Clamps @step to the steps there are. */
void ts_session_set_step (TsSession *self, int step);
void ts_session_first (TsSession *self);
void ts_session_previous (TsSession *self);
void ts_session_next (TsSession *self);
void ts_session_last (TsSession *self);

int ts_session_get_selected_field (TsSession *self);
void ts_session_set_selected_field (TsSession *self, int field);

const char *ts_session_get_as (TsSession *self);
/* "" or NULL: everyone; a node name; "observer". */
void ts_session_set_as (TsSession *self, const char *as);
/* The whose-eyes filter as a reader index for ts_step_list_can_read ():
 * a node id (found by name or by one of its addresses),
 * TS_SESSION_READER_EVERYONE, TS_SESSION_READER_OBSERVER, or
 * TS_SESSION_READER_NONE when this trace has no such node. */
int ts_session_get_reader (TsSession *self);
/* The names of the trace's nodes, "client, proxy, server", for a message
 * that says which there are (transfer full). */
char *ts_session_dup_node_names (TsSession *self);

/* The view the session is shown in: "ladder" (default), "topology",
 * "detail", "events" or "compare". */
const char *ts_session_get_view (TsSession *self);
void ts_session_set_view (TsSession *self, const char *view);

/* Highlights: timeline event indexes (the `index` of the analyzer's
 * events, stable while steps re-sort); cleared when a new trace replaces
 * the steps. Indexes this trace lacks are kept but mark no step. */
void ts_session_set_highlights (TsSession *self, const guint32 *events, guint n_events);
/* Borrowed, valid until the next change; *out_n may be 0. */
const guint32 *ts_session_get_highlights (TsSession *self, guint *out_n);
gboolean ts_session_step_is_highlighted (TsSession *self, guint step);
/* The first step showing a highlighted event, or -1. */
int ts_session_get_first_highlighted_step (TsSession *self);

gboolean ts_session_get_playing (TsSession *self);
void ts_session_set_playing (TsSession *self, gboolean playing);
double ts_session_get_speed (TsSession *self);
void ts_session_set_speed (TsSession *self, double steps_per_second);

gboolean ts_session_get_loading (TsSession *self);
double ts_session_get_progress (TsSession *self);
gboolean ts_session_get_live (TsSession *self);
const char *ts_session_get_title (TsSession *self);
/* The last error, or NULL. */
const char *ts_session_get_error (TsSession *self);

/* Loads a trace file off the main loop (progress in "progress"); the steps
 * replace the current ones when it completes. */
void ts_session_load_async (TsSession *self, GFile *file, GCancellable *cancellable,
                            GAsyncReadyCallback callback, gpointer user_data);
gboolean ts_session_load_finish (TsSession *self, GAsyncResult *result, GError **error);

/* Empties the session (no trace: a lesson whose capture is missing). */
void ts_session_clear (TsSession *self);

/* Loads a trace file synchronously (screenshot mode and tests). */
gboolean ts_session_load_path (TsSession *self, const char *path, GError **error);
/* TLS secrets (NSS key log lines, as SSLKEYLOGFILE writes them) for the
 * traces opened from now on, besides those inside each; NULL: none. */
void ts_session_set_keylog (TsSession *self, GBytes *keylog);

/* Starts `tscope run SCENARIO -o -` and feeds its stream as it comes; the
 * steps are replaced at once by an empty list. FALSE with @error when
 * tscope cannot be started. @argv_override (NULL for the default) replaces
 * the command (tests). */
gboolean ts_session_run_live (TsSession *self, const char *scenario,
                              const char *const *argv_override, GError **error);
void ts_session_stop_live (TsSession *self);

/* The session's actions (borrowed), to insert as "session". */
GActionGroup *ts_session_get_actions (TsSession *self);

/* Where tscope is: beside this program in a build tree, in the install
 * prefix, or on PATH (transfer full; NULL when not found). */
char *ts_session_find_tscope (void);

G_END_DECLS
