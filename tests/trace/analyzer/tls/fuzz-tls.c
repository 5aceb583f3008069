/* fuzz-tls.c: libFuzzer target: arbitrary bytes, both directions, into a TLS session.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "ts-tls-keylog.h"
#include "ts-tls-session.h"

int LLVMFuzzerTestOneInput (const guint8 *data, gsize size);

/* The RFC 8448 §3 secrets: an input shaped like that trace (as the seed
 * corpus is) reaches decryption and the decoding of decrypted messages. */
static const char rfc8448_keylog[]
    = "CLIENT_HANDSHAKE_TRAFFIC_SECRET "
      "cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7 "
      "b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21\n"
      "SERVER_HANDSHAKE_TRAFFIC_SECRET "
      "cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7 "
      "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38\n"
      "CLIENT_TRAFFIC_SECRET_0 cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7 "
      "9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5\n"
      "SERVER_TRAFFIC_SECRET_0 cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7 "
      "a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643\n";

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
 * also reach the decryption paths with secrets it made up. Bits 0-6 of
 * 0x7e are a gap in that direction instead: the next two bytes (little
 * endian) times 16, plus one, lost (the search for the sequence number
 * after a capture gap).
 */
int
LLVMFuzzerTestOneInput (const guint8 *data, gsize size)
{
  TsTlsKeylog *keylog = ts_tls_keylog_new ();
  gsize sink = 0;
  guint n_fed = ts_tls_keylog_feed (keylog, rfc8448_keylog, sizeof rfc8448_keylog - 1);
  TsTlsSession *session = ts_tls_session_new (keylog, on_event, &sink);
  gsize pos = 0;

  while (pos < size)
    {
      guint8 control = data[pos++];
      gsize len = control & 0x7f;
      TsTlsDirection dir = (control & 0x80) ? TS_TLS_DIR_SERVER : TS_TLS_DIR_CLIENT;
      guint8 *chunk;

      if ((control & 0x7f) == 0x7e)
        {
          guint64 lost = 1;

          if (size - pos >= 2)
            {
              lost += (guint64)(data[pos] | data[pos + 1] << 8) * 16;
              pos += 2;
            }
          ts_tls_session_gap (session, dir, lost);
          continue;
        }
      if (len == 0 || len > size - pos)
        len = size - pos;
      /* A copy of exactly the chunk, so any over-read is caught. */
      chunk = g_memdup2 (data + pos, len);
      if (control == 0x7f)
        ts_tls_keylog_feed (keylog, (const char *)chunk, len);
      else
        ts_tls_session_feed (session, dir, chunk, len,
                             G_GINT64_CONSTANT (1780272000) * G_USEC_PER_SEC);
      g_free (chunk);
      pos += len;
    }
  ts_tls_session_poll (session, -1);
  ts_tls_session_finish (session);
  ts_tls_session_free (session);
  ts_tls_keylog_unref (keylog);
  g_assert (n_fed == 4);
  return sink == 0xdeadbeef ? 1 : 0;
}
