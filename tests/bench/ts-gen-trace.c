/* ts-gen-trace.c: writes a large synthetic but real trace for benchmarks: a CONNECT
 * tunnel over two links carrying one real TLS session (OpenSSL, memory BIOs)
 * full of application data, with its secrets embedded.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "ts-test-frames.h"
#include "ts-trace-writer.h"

#define US (G_GUINT64_CONSTANT (1000))

static TsTraceWriter *writer;
static gboolean one_link; /* only the proxy-server link carries the TLS session */
static gboolean any;      /* one interface "any" (Linux cooked v2): link 0 is index 2, 1 is 3 */
static gint records_per_response = 16;
static gint reorder; /* every reorder-th segment of the server's goes out after the next one */
static gint drop;    /* every drop-th segment of the server's is missing on the client's link */
static guint64 now_ns = G_GUINT64_CONSTANT (1764230400) * 1000000000u;

static void
die (const char *what, GError *error)
{
  fprintf (stderr, "ts-gen-trace: %s%s%s\n", what, error ? ": " : "", error ? error->message : "");
  exit (1);
}

static void
keylog_cb (const SSL *ssl, const char *line)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *text = g_strdup_printf ("%s\n", line);

  if (!ts_trace_writer_add_keylog (writer, now_ns, text, strlen (text), &error))
    die ("cannot add secrets", error);
}

/* The frame of @payload as one segment on @iface (0: client-proxy, 1:
 * proxy-server), which it advances @flow over. */
static GBytes *
make_segment (guint iface, TsTestFlow *flow, TsTestFlow *back, guint8 flags, const guint8 *payload,
              gsize len)
{
  GBytes *frame;

  flow->ack = back->seq;
  frame = ts_test_tcp_frame (flow, flags, payload, len);
  if (any)
    {
      GBytes *cooked = ts_test_sll2_frame (frame, (gint32)iface + 2);
      g_bytes_unref (frame);
      frame = cooked;
    }
  return frame;
}

/* Writes @frame (taken) on @iface. */
static void
write_frame (guint iface, GBytes *frame)
{
  g_autoptr (GError) error = NULL;
  gsize frame_len;
  const guint8 *data = g_bytes_get_data (frame, &frame_len);

  now_ns += 20 * US;
  if (!ts_trace_writer_add_packet (writer, any ? 0 : iface, now_ns, data, frame_len, frame_len,
                                   &error)
      || !ts_trace_writer_advance (writer, now_ns, &error))
    die ("cannot write", error);
  g_bytes_unref (frame);
}

/* Emits @payload as one segment on @iface. */
static void
segment (guint iface, TsTestFlow *flow, TsTestFlow *back, guint8 flags, const guint8 *payload,
         gsize len)
{
  write_frame (iface, make_segment (iface, flow, back, flags, payload, len));
}

typedef struct
{
  TsTestFlow c2p, p2c, p2s, s2p;
} Tunnel;

/* Relays TLS bytes as the proxy would: one segment on each link per chunk
 * (with --reorder, on each link every so many of the server's chunks come
 * after the next one, as segments sent from two CPUs over veth do). */
static void
relay (Tunnel *t, gboolean from_client, const guint8 *data, gsize len, guint64 *n_packets)
{
  static guint64 n_chunks;

  while (len > 0)
    {
      gsize n = MIN (len, 1448);

      if (!from_client && reorder > 0 && ++n_chunks % (guint64)reorder == 0 && len > n)
        {
          gsize m = MIN (len - n, 1448);
          GBytes *late1 = make_segment (1, &t->s2p, &t->p2s, 0x18, data, n);
          GBytes *early1 = make_segment (1, &t->s2p, &t->p2s, 0x18, data + n, m);
          GBytes *late0 = one_link ? NULL : make_segment (0, &t->p2c, &t->c2p, 0x18, data, n);
          GBytes *early0 = one_link ? NULL : make_segment (0, &t->p2c, &t->c2p, 0x18, data + n, m);

          write_frame (1, early1);
          write_frame (1, late1);
          if (!one_link)
            {
              write_frame (0, early0);
              write_frame (0, late0);
            }
          *n_packets += one_link ? 2 : 4;
          data += n + m;
          len -= n + m;
          continue;
        }
      if (from_client)
        {
          if (!one_link)
            segment (0, &t->c2p, &t->p2c, 0x18, data, n);
          segment (1, &t->p2s, &t->s2p, 0x18, data, n);
        }
      else
        {
          segment (1, &t->s2p, &t->p2s, 0x18, data, n);
          if (!one_link && drop > 0 && ++n_chunks % (guint64)drop == 0)
            g_bytes_unref (make_segment (0, &t->p2c, &t->c2p, 0x18, data, n)); /* lost */
          else if (!one_link)
            segment (0, &t->p2c, &t->c2p, 0x18, data, n);
        }
      *n_packets += one_link ? 1 : 2;
      data += n;
      len -= n;
    }
}

static void
drain (BIO *from, BIO *to, Tunnel *t, gboolean from_client, guint64 *n_packets)
{
  guint8 buf[16384 + 512];
  int n;

  while ((n = BIO_read (from, buf, sizeof buf)) > 0)
    {
      relay (t, from_client, buf, (gsize)n, n_packets);
      BIO_write (to, buf, n);
    }
}

int
main (int argc, char **argv)
{
  gint64 packets = 1000000;
  gint record = 1400;
  g_autofree char *output = NULL;
  gboolean tls12 = FALSE;
  g_autofree char *cipher = NULL;
  const GOptionEntry entries[] = {
    { "packets", 'n', 0, G_OPTION_ARG_INT64, &packets, "About how many packets (default 1000000)",
      "N" },
    { "record", 'r', 0, G_OPTION_ARG_INT, &record,
      "Application bytes per TLS record (default 1400)", "BYTES" },
    { "tls12", 0, 0, G_OPTION_ARG_NONE, &tls12, "Use TLS 1.2 (default 1.3)", NULL },
    { "cipher", 0, 0, G_OPTION_ARG_STRING, &cipher,
      "The cipher suite: a TLS 1.3 name (TLS_CHACHA20_POLY1305_SHA256) or, with --tls12, an "
      "OpenSSL one (ECDHE-ECDSA-AES256-GCM-SHA384; default: OpenSSL's choice)",
      "NAME" },
    { "one-link", 0, 0, G_OPTION_ARG_NONE, &one_link,
      "Carry the TLS session on the proxy-server link only", NULL },
    { "any", 0, 0, G_OPTION_ARG_NONE, &any,
      "As tcpdump -i any on the proxy's host: one interface of Linux cooked v2 frames, each "
      "link an interface index",
      NULL },
    { "response-records", 0, 0, G_OPTION_ARG_INT, &records_per_response,
      "TLS records in each HTTP response body (default 16)", "N" },
    { "reorder", 0, 0, G_OPTION_ARG_INT, &reorder,
      "Every Nth segment of the server's data comes after the next one, on each link (default 0: "
      "in order)",
      "N" },
    { "drop", 0, 0, G_OPTION_ARG_INT, &drop,
      "Every Nth segment of the server's data is missing on the client-proxy link, as if the "
      "capture lost it (default 0: none)",
      "N" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Where to write the trace", "FILE" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- write a large benchmark trace");
  g_autoptr (GError) error = NULL;
  SSL_CTX *cctx, *sctx;
  SSL *c, *s;
  BIO *c_in, *c_out, *s_in, *s_out;
  EVP_PKEY *key;
  X509 *cert;
  Tunnel t;
  guint64 n_packets = 0;
  g_autofree guint8 *app = NULL;
  guint8 sink[16384];
  const char *connect = "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n";
  const char *ok = "HTTP/1.1 200 Connection established\r\n\r\n";

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || output == NULL || packets < 100
      || record < 1 || record > 16384 || records_per_response < 1 || reorder < 0 || drop < 0)
    {
      fprintf (stderr, "ts-gen-trace: %s\n",
               error ? error->message : "needs -o FILE, --packets >= 100, 1 <= --record <= 16384");
      return 2;
    }

  writer = ts_trace_writer_new_for_path (output, "bench-connect",
                                         100 * G_GUINT64_CONSTANT (1000000), &error);
  if (writer == NULL)
    die ("cannot open the output", error);
  ts_trace_writer_set_metadata (writer, now_ns, "{\"generator\":\"ts-gen-trace\"}", &error);
  if (any)
    ts_trace_writer_add_interface (writer, "any", TS_LINKTYPE_LINUX_SLL2, "generated", &error);
  else
    {
      ts_trace_writer_add_interface (writer, "client-proxy", TS_LINKTYPE_ETHERNET, "generated",
                                     &error);
      ts_trace_writer_add_interface (writer, "proxy-server", TS_LINKTYPE_ETHERNET, "generated",
                                     &error);
    }

  ts_test_flow_pair (&t.c2p, &t.p2c, "192.0.2.10", 40000, "192.0.2.1", 3128);
  ts_test_flow_pair (&t.p2s, &t.s2p, "198.51.100.1", 50000, "198.51.100.10", 443);

  /* TCP handshakes and the CONNECT exchange. */
  segment (0, &t.c2p, &t.p2c, 0x02, NULL, 0);
  segment (0, &t.p2c, &t.c2p, 0x12, NULL, 0);
  segment (0, &t.c2p, &t.p2c, 0x10, NULL, 0);
  segment (0, &t.c2p, &t.p2c, 0x18, (const guint8 *)connect, strlen (connect));
  segment (1, &t.p2s, &t.s2p, 0x02, NULL, 0);
  segment (1, &t.s2p, &t.p2s, 0x12, NULL, 0);
  segment (1, &t.p2s, &t.s2p, 0x10, NULL, 0);
  segment (0, &t.p2c, &t.c2p, 0x18, (const guint8 *)ok, strlen (ok));
  n_packets += 8;

  key = EVP_PKEY_Q_keygen (NULL, NULL, "EC", "P-256");
  cert = X509_new ();
  ASN1_INTEGER_set (X509_get_serialNumber (cert), 1);
  X509_gmtime_adj (X509_getm_notBefore (cert), -60);
  X509_gmtime_adj (X509_getm_notAfter (cert), 86400);
  X509_set_pubkey (cert, key);
  X509_NAME_add_entry_by_txt (X509_get_subject_name (cert), "CN", MBSTRING_ASC,
                              (const guchar *)"example.com", -1, -1, 0);
  X509_set_issuer_name (cert, X509_get_subject_name (cert));
  X509_sign (cert, key, EVP_sha256 ());

  cctx = SSL_CTX_new (TLS_client_method ());
  sctx = SSL_CTX_new (TLS_server_method ());
  SSL_CTX_use_certificate (sctx, cert);
  SSL_CTX_use_PrivateKey (sctx, key);
  SSL_CTX_set_keylog_callback (cctx, keylog_cb);
  if (tls12)
    SSL_CTX_set_max_proto_version (cctx, TLS1_2_VERSION);
  if (cipher != NULL
      && (tls12 ? SSL_CTX_set_cipher_list (cctx, cipher) : SSL_CTX_set_ciphersuites (cctx, cipher))
             != 1)
    die ("OpenSSL does not know that cipher suite", NULL);
  c = SSL_new (cctx);
  s = SSL_new (sctx);
  c_in = BIO_new (BIO_s_mem ());
  c_out = BIO_new (BIO_s_mem ());
  s_in = BIO_new (BIO_s_mem ());
  s_out = BIO_new (BIO_s_mem ());
  SSL_set_bio (c, c_in, c_out);
  SSL_set_bio (s, s_in, s_out);
  SSL_set_connect_state (c);
  SSL_set_accept_state (s);
  SSL_set_tlsext_host_name (c, "example.com");
  for (int round = 0; round < 10 && !(SSL_is_init_finished (c) && SSL_is_init_finished (s));
       round++)
    {
      SSL_do_handshake (c);
      drain (c_out, s_in, &t, TRUE, &n_packets);
      SSL_do_handshake (s);
      drain (s_out, c_in, &t, FALSE, &n_packets);
    }
  if (!SSL_is_init_finished (c))
    die ("the TLS handshake did not finish", NULL);

  /* Application data: the server sends records, the client acknowledges. */
  app = g_malloc (record);
  for (gint i = 0; i < record; i++)
    app[i] = (guint8)('a' + i % 26);
  /* Application data: HTTP/1.1 keep-alive requests, each answered with a body
   * of records_per_response records, as a real download through the tunnel
   * looks (and so that tshark's HTTP dissector sees well-formed messages). */
  for (guint64 n_records = 1, n_requests = 0; (gint64)n_packets < packets; n_requests++)
    {
      g_autofree char *request = g_strdup_printf ("GET /file/%" G_GUINT64_FORMAT " HTTP/1.1\r\n"
                                                  "Host: example.com\r\n\r\n",
                                                  n_requests);
      g_autofree char *head
          = g_strdup_printf ("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                             "Content-Length: %d\r\n\r\n",
                             record * records_per_response);

      SSL_write (c, request, (int)strlen (request));
      drain (c_out, s_in, &t, TRUE, &n_packets);
      while (SSL_read (s, sink, sizeof sink) > 0)
        ;
      SSL_write (s, head, (int)strlen (head));
      for (int i = 0; i < records_per_response; i++, n_records++)
        {
          SSL_write (s, app, record);
          drain (s_out, c_in, &t, FALSE, &n_packets);
          while (SSL_read (c, sink, sizeof sink) > 0)
            ;
          /* Receivers acknowledge every second segment, as delayed ACK does. */
          if (n_records % 2 == 0)
            {
              if (!one_link)
                segment (0, &t.c2p, &t.p2c, 0x10, NULL, 0);
              segment (1, &t.p2s, &t.s2p, 0x10, NULL, 0);
              n_packets += one_link ? 1 : 2;
            }
        }
    }

  segment (0, &t.c2p, &t.p2c, 0x11, NULL, 0);
  segment (1, &t.p2s, &t.s2p, 0x11, NULL, 0);
  segment (1, &t.s2p, &t.p2s, 0x11, NULL, 0);
  segment (0, &t.p2c, &t.c2p, 0x11, NULL, 0);
  n_packets += 4;
  if (!ts_trace_writer_close (writer, &error))
    die ("cannot finish the trace", error);
  fprintf (stderr, "ts-gen-trace: wrote %" G_GUINT64_FORMAT " packets to %s\n", n_packets, output);

  ts_trace_writer_free (writer);
  SSL_free (c);
  SSL_free (s);
  SSL_CTX_free (cctx);
  SSL_CTX_free (sctx);
  EVP_PKEY_free (key);
  X509_free (cert);
  return 0;
}
