/* bench-tls.c: TLS decryption throughput of TsTlsSession, against OpenSSL's own record layer.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Makes a TLS session with OpenSSL over memory BIOs (the client sends
 * BENCH_BYTES of application data), then times, in the same run:
 *   - peer: an OpenSSL server reading the client's bytes (SSL_read), and
 *   - ours: a TsTlsSession fed the same bytes in 1448-byte chunks (one TCP
 *     segment each, as the analyzer will), with the key log.
 * Prints MB/s, segments/s and the ratio for each cipher. */
#include "config.h"

#include <string.h>

#include <glib.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "ts-tls-keylog.h"
#include "ts-tls-session.h"

#define BENCH_BYTES (64u * 1024 * 1024)
#define SEGMENT 1448

typedef struct
{
  GString *keylog;
  GByteArray *c2s;
  GByteArray *hs; /* the handshake, both directions, as (dir, len, bytes) runs */
} Capture;

static void
keylog_cb (const SSL *ssl, const char *line)
{
  GString *out = SSL_CTX_get_app_data (SSL_get_SSL_CTX (ssl));

  g_string_append_printf (out, "%s\n", line);
}

static void
move (BIO *from, BIO *to, GByteArray *record, GByteArray *hs, guint8 dir)
{
  char *data;
  long n = BIO_get_mem_data (from, &data);

  if (n <= 0)
    return;
  if (hs != NULL)
    {
      guint32 len = (guint32)n;

      g_byte_array_append (hs, &dir, 1);
      g_byte_array_append (hs, (guint8 *)&len, 4);
      g_byte_array_append (hs, (guint8 *)data, (guint)n);
    }
  if (record != NULL)
    g_byte_array_append (record, (guint8 *)data, (guint)n);
  if (to != NULL)
    BIO_write (to, data, (int)n);
  (void)BIO_reset (from);
}

static void
on_event (const TsTlsEvent *ev, gpointer user_data)
{
  guint64 *app = user_data;

  if (ev->kind == TS_TLS_EVENT_APPLICATION_DATA)
    *app += ev->len;
}

static void
bench (int version, const char *cipher)
{
  EVP_PKEY *key = EVP_EC_gen ("P-256");
  X509 *x = X509_new ();
  SSL_CTX *cctx = SSL_CTX_new (TLS_client_method ());
  SSL_CTX *sctx = SSL_CTX_new (TLS_server_method ());
  SSL *c, *s, *s2;
  BIO *cin = BIO_new (BIO_s_mem ()), *cout = BIO_new (BIO_s_mem ());
  BIO *sin = BIO_new (BIO_s_mem ()), *sout = BIO_new (BIO_s_mem ());
  Capture cap = { g_string_new (NULL), g_byte_array_new (), g_byte_array_new () };
  g_autofree guint8 *chunk = g_malloc (16384);
  g_autofree guint8 *sink = g_malloc (16384);
  gsize handshake_len, sent = 0, got = 0;
  gint64 t0, t_peer, t_ours;
  guint64 app = 0;
  TsTlsKeylog *keylog;
  TsTlsSession *session;
  guint n_segments = 0;

  memset (chunk, 'x', 16384);
  X509_set_version (x, 2);
  X509_gmtime_adj (X509_getm_notBefore (x), 0);
  X509_gmtime_adj (X509_getm_notAfter (x), 3600);
  X509_set_pubkey (x, key);
  X509_sign (x, key, EVP_sha256 ());
  SSL_CTX_use_certificate (sctx, x);
  SSL_CTX_use_PrivateKey (sctx, key);
  for (int i = 0; i < 2; i++)
    {
      SSL_CTX *ctx = i ? sctx : cctx;

      SSL_CTX_set_min_proto_version (ctx, version);
      SSL_CTX_set_max_proto_version (ctx, version);
      if (version == TLS1_3_VERSION)
        SSL_CTX_set_ciphersuites (ctx, cipher);
      else
        SSL_CTX_set_cipher_list (ctx, cipher);
    }
  SSL_CTX_set_app_data (cctx, cap.keylog);
  SSL_CTX_set_keylog_callback (cctx, keylog_cb);
  SSL_CTX_set_num_tickets (sctx, 0);

  c = SSL_new (cctx);
  s = SSL_new (sctx);
  SSL_set_bio (c, cin, cout);
  SSL_set_bio (s, sin, sout);
  SSL_set_connect_state (c);
  SSL_set_accept_state (s);
  for (int i = 0; i < 20 && !(SSL_is_init_finished (c) && SSL_is_init_finished (s)); i++)
    {
      SSL_do_handshake (c);
      move (cout, sin, cap.c2s, cap.hs, 0);
      SSL_do_handshake (s);
      move (sout, cin, NULL, cap.hs, 1);
    }
  g_assert_true (SSL_is_init_finished (c) && SSL_is_init_finished (s));
  handshake_len = cap.c2s->len;

  /* The bulk: written by the client, captured, not yet read by anyone. */
  while (sent < BENCH_BYTES)
    {
      size_t w = 0;

      g_assert_cmpint (SSL_write_ex (c, chunk, 16384, &w), ==, 1);
      sent += w;
      move (cout, NULL, cap.c2s, NULL, 0);
    }

  /* Peer: OpenSSL's record layer decrypting the same bytes. */
  s2 = s;
  BIO_write (sin, cap.c2s->data + handshake_len, (int)(cap.c2s->len - handshake_len));
  t0 = g_get_monotonic_time ();
  while (got < sent)
    {
      size_t r = 0;

      if (SSL_read_ex (s2, sink, 16384, &r) != 1)
        break;
      got += r;
    }
  t_peer = g_get_monotonic_time () - t0;
  g_assert_cmpuint (got, ==, sent);

  /* Ours: the whole client stream, handshake included, in segments. */
  keylog = ts_tls_keylog_new ();
  ts_tls_keylog_feed (keylog, cap.keylog->str, cap.keylog->len);
  t0 = g_get_monotonic_time ();
  session = ts_tls_session_new (keylog, on_event, &app);
  for (gsize pos = 0; pos < cap.hs->len;)
    {
      guint32 len;

      memcpy (&len, cap.hs->data + pos + 1, 4);
      ts_tls_session_feed (session, cap.hs->data[pos], cap.hs->data + pos + 5, len, 0);
      pos += 5 + len;
    }
  for (gsize off = handshake_len; off < cap.c2s->len; off += SEGMENT, n_segments++)
    ts_tls_session_feed (session, TS_TLS_DIR_CLIENT, cap.c2s->data + off,
                         MIN (SEGMENT, cap.c2s->len - off), 0);
  ts_tls_session_finish (session);
  t_ours = g_get_monotonic_time () - t0;
  g_print ("%-8s %-32s ours %7.0f MB/s %9.0f segments/s | OpenSSL SSL_read %7.0f MB/s | "
           "ratio %.2f | decrypted %" G_GUINT64_FORMAT " of %" G_GSIZE_FORMAT " bytes\n",
           version == TLS1_3_VERSION ? "TLS 1.3" : "TLS 1.2", cipher,
           (double)cap.c2s->len / (double)MAX (t_ours, 1),
           n_segments * 1e6 / (double)MAX (t_ours, 1),
           (double)cap.c2s->len / (double)MAX (t_peer, 1), (double)t_peer / (double)MAX (t_ours, 1),
           app, sent);

  ts_tls_session_free (session);
  ts_tls_keylog_unref (keylog);
  SSL_free (c);
  SSL_free (s);
  SSL_CTX_free (cctx);
  SSL_CTX_free (sctx);
  X509_free (x);
  EVP_PKEY_free (key);
  g_string_free (cap.keylog, TRUE);
  g_byte_array_unref (cap.c2s);
  g_byte_array_unref (cap.hs);
}

int
main (int argc, char *argv[])
{
  bench (TLS1_3_VERSION, "TLS_AES_128_GCM_SHA256");
  bench (TLS1_3_VERSION, "TLS_CHACHA20_POLY1305_SHA256");
  bench (TLS1_2_VERSION, "ECDHE-ECDSA-AES256-GCM-SHA384");
  return 0;
}
