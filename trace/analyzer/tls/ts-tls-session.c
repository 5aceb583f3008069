/* ts-tls-session.c: the TLS decoder of one TCP connection (placeholder: API only).
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "ts-tls-session.h"

struct _TsTlsSession
{
  TsTlsKeylog *keylog;
  TsTlsEventFunc func;
  gpointer user_data;
  TsTlsSessionInfo info;
  gsize pending_cap;
};

TsTlsSession *
ts_tls_session_new (TsTlsKeylog *keylog, TsTlsEventFunc func, gpointer user_data)
{
  TsTlsSession *self;

  g_return_val_if_fail (func != NULL, NULL);
  self = g_new0 (TsTlsSession, 1);
  self->keylog = keylog != NULL ? ts_tls_keylog_ref (keylog) : NULL;
  self->func = func;
  self->user_data = user_data;
  self->pending_cap = TS_TLS_PENDING_CAP;
  return self;
}

void
ts_tls_session_free (TsTlsSession *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->keylog, ts_tls_keylog_unref);
  g_free (self);
}

gboolean
ts_tls_session_feed (TsTlsSession *self, TsTlsDirection direction, const guint8 *data, gsize len,
                     gint64 time_us)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return TRUE;
}

void
ts_tls_session_gap (TsTlsSession *self, TsTlsDirection direction, guint64 n_bytes)
{
}

gboolean
ts_tls_session_poll (TsTlsSession *self, gint64 time_us)
{
  return FALSE;
}

void
ts_tls_session_finish (TsTlsSession *self)
{
}

void
ts_tls_session_set_pending_cap (TsTlsSession *self, gsize cap)
{
  self->pending_cap = cap;
}

const TsTlsSessionInfo *
ts_tls_session_get_info (TsTlsSession *self)
{
  return &self->info;
}

gboolean
ts_tls_session_looks_like_tls (const guint8 *data, gsize len)
{
  return len >= 5 && data[0] == 22 && data[1] == 3 && data[2] <= 4;
}

const char *
ts_tls_event_kind_to_string (guint kind)
{
  return NULL;
}

const char *
ts_tls_anomaly_to_string (guint anomaly)
{
  return NULL;
}

const char *
ts_tls_direction_to_string (guint direction)
{
  return NULL;
}
