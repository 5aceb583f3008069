/* fuzz-tls.c: libFuzzer target: arbitrary bytes, both directions, into a TLS session.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "ts-tls-keylog.h"
#include "ts-tls-session.h"

int LLVMFuzzerTestOneInput (const guint8 *data, gsize size);

static void
on_event (const TsTlsEvent *ev, gpointer user_data)
{
  gsize *sink = user_data;

  /* Touch what the event points to, so ASan checks it. */
  if (ev->data != NULL && ev->len > 0)
    *sink += ev->data[0] + ev->data[ev->len - 1];
  if (ev->detail != NULL)
    *sink += strlen (ev->detail);
  if (ev->handshake != NULL)
    {
      const TsTlsHandshake *hs = ev->handshake;

      if (hs->server_name != NULL)
        *sink += strlen (hs->server_name);
      for (guint i = 0; i < hs->n_alpn; i++)
        *sink += strlen (hs->alpn[i]);
      for (guint i = 0; i < hs->n_certificates; i++)
        if (hs->certificates[i].parsed)
          *sink += strlen (hs->certificates[i].subject) + hs->certificates[i].n_sans;
    }
}

/*
 * The input is a sequence of chunks: one control byte (bit 7: direction;
 * bits 0-6: length, 0 meaning "the rest"), then that many bytes. A control
 * byte of 0x7f feeds the chunk to the key log instead, so the fuzzer can
 * also reach the decryption paths with secrets it made up.
 */
int
LLVMFuzzerTestOneInput (const guint8 *data, gsize size)
{
  TsTlsKeylog *keylog = ts_tls_keylog_new ();
  gsize sink = 0;
  TsTlsSession *session = ts_tls_session_new (keylog, on_event, &sink);
  gsize pos = 0;

  while (pos < size)
    {
      guint8 control = data[pos++];
      gsize len = control & 0x7f;
      TsTlsDirection dir = (control & 0x80) ? TS_TLS_DIR_SERVER : TS_TLS_DIR_CLIENT;
      guint8 *chunk;

      if (len == 0 || len > size - pos)
        len = size - pos;
      /* A copy of exactly the chunk, so any over-read is caught. */
      chunk = g_memdup2 (data + pos, len);
      if (control == 0x7f)
        ts_tls_keylog_feed (keylog, (const char *) chunk, len);
      else
        ts_tls_session_feed (session, dir, chunk, len, G_GINT64_CONSTANT (1780272000) * G_USEC_PER_SEC);
      g_free (chunk);
      pos += len;
    }
  ts_tls_session_poll (session, -1);
  ts_tls_session_finish (session);
  ts_tls_session_free (session);
  ts_tls_keylog_unref (keylog);
  return sink == 0xdeadbeef ? 1 : 0;
}
