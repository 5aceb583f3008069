/* test-tshark.c: a trace with real TLS sessions, checked by tshark as the referee:
 * it opens with no warning, shows one interface name per link, shows the
 * events, and decrypts the TLS from the embedded secrets alone.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "ts-test-frames.h"
#include "ts-trace-writer.h"

#define MS (G_GUINT64_CONSTANT (1000000))

static TsTraceWriter *writer;
static guint64 now_ns = G_GUINT64_CONSTANT (1764230400) * 1000000000u;

static void
keylog_cb (const SSL *ssl, const char *line)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *text = g_strdup_printf ("%s\n", line);

  /* Secrets reach the lab a little after the packets of their handshake. */
  g_assert_true (ts_trace_writer_add_keylog (writer, now_ns + 2 * MS, text, strlen (text), &error));
  g_assert_no_error (error);
}

static void
make_identity (EVP_PKEY **out_key, X509 **out_cert)
{
  EVP_PKEY *key = EVP_PKEY_Q_keygen (NULL, NULL, "EC", "P-256");
  X509 *cert = X509_new ();
  X509_NAME *name;

  g_assert_nonnull (key);
  ASN1_INTEGER_set (X509_get_serialNumber (cert), 1);
  X509_gmtime_adj (X509_getm_notBefore (cert), -60);
  X509_gmtime_adj (X509_getm_notAfter (cert), 3600);
  X509_set_pubkey (cert, key);
  name = X509_get_subject_name (cert);
  X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_ASC, (const guchar *)"example.com", -1, -1, 0);
  X509_set_issuer_name (cert, name);
  g_assert_cmpint (X509_sign (cert, key, EVP_sha256 ()), >, 0);
  *out_key = key;
  *out_cert = cert;
}

static int
alpn_select (SSL *ssl, const guchar **out, guchar *outlen, const guchar *in, guint inlen, void *arg)
{
  static const guchar h1[] = { 8, 'h', 't', 't', 'p', '/', '1', '.', '1' };

  if (SSL_select_next_proto ((guchar **)out, outlen, h1, sizeof h1, in, inlen)
      != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  return SSL_TLSEXT_ERR_OK;
}

/* Moves what @from wrote into frames on @iface and into @to's input. */
static void
pump (BIO *from, BIO *to, TsTestFlow *flow, TsTestFlow *back, guint iface)
{
  guint8 buf[1400];
  int n;

  while ((n = BIO_read (from, buf, sizeof buf)) > 0)
    {
      g_autoptr (GBytes) frame = NULL;
      g_autoptr (GError) error = NULL;
      gsize len;
      const guint8 *data;

      flow->ack = back->seq;
      frame = ts_test_tcp_frame (flow, 0x18, buf, (gsize)n);
      data = g_bytes_get_data (frame, &len);
      now_ns += 1 * MS;
      g_assert_true (ts_trace_writer_add_packet (writer, iface, now_ns, data, len, len, &error));
      g_assert_cmpint (BIO_write (to, buf, n), ==, n);
    }
}

static void
control (TsTestFlow *flow, TsTestFlow *back, guint8 flags, guint iface)
{
  g_autoptr (GBytes) frame = NULL;
  g_autoptr (GError) error = NULL;
  gsize len;
  const guint8 *data;

  flow->ack = back->seq;
  frame = ts_test_tcp_frame (flow, flags, NULL, 0);
  data = g_bytes_get_data (frame, &len);
  now_ns += 1 * MS;
  g_assert_true (ts_trace_writer_add_packet (writer, iface, now_ns, data, len, len, &error));
}

/* One TLS connection, handshake to close, with an HTTP/1.1 exchange inside. */
static void
tls_session (guint iface, const char *client_ip, const char *server_ip, const char *path,
             int tls_version)
{
  SSL_CTX *cctx = SSL_CTX_new (TLS_client_method ());
  SSL_CTX *sctx = SSL_CTX_new (TLS_server_method ());
  static const guchar alpn[] = { 8, 'h', 't', 't', 'p', '/', '1', '.', '1' };
  BIO *c_in = BIO_new (BIO_s_mem ()), *c_out = BIO_new (BIO_s_mem ());
  BIO *s_in = BIO_new (BIO_s_mem ()), *s_out = BIO_new (BIO_s_mem ());
  TsTestFlow c2s, s2c;
  EVP_PKEY *key;
  X509 *cert;
  SSL *c, *s;
  g_autofree char *request = g_strdup_printf ("GET %s HTTP/1.1\r\nHost: example.com\r\n\r\n", path);
  const char *response = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
  char buf[512];

  make_identity (&key, &cert);
  g_assert_cmpint (SSL_CTX_use_certificate (sctx, cert), ==, 1);
  g_assert_cmpint (SSL_CTX_use_PrivateKey (sctx, key), ==, 1);
  SSL_CTX_set_alpn_select_cb (sctx, alpn_select, NULL);
  SSL_CTX_set_keylog_callback (cctx, keylog_cb);
  SSL_CTX_set_min_proto_version (cctx, tls_version);
  SSL_CTX_set_max_proto_version (cctx, tls_version);
  g_assert_cmpint (SSL_CTX_set_alpn_protos (cctx, alpn, sizeof alpn), ==, 0);

  c = SSL_new (cctx);
  s = SSL_new (sctx);
  SSL_set_bio (c, c_in, c_out);
  SSL_set_bio (s, s_in, s_out);
  SSL_set_connect_state (c);
  SSL_set_accept_state (s);
  SSL_set_tlsext_host_name (c, "example.com");

  ts_test_flow_pair (&c2s, &s2c, client_ip, 40000 + (guint16)iface, server_ip, 443);
  control (&c2s, &s2c, 0x02, iface);
  s2c.seq--; /* the SYN-ACK: its own SYN takes the first number */
  s2c.seq++;
  control (&s2c, &c2s, 0x12, iface);
  control (&c2s, &s2c, 0x10, iface);

  for (int round = 0; round < 10 && !(SSL_is_init_finished (c) && SSL_is_init_finished (s));
       round++)
    {
      SSL_do_handshake (c);
      pump (c_out, s_in, &c2s, &s2c, iface);
      SSL_do_handshake (s);
      pump (s_out, c_in, &s2c, &c2s, iface);
    }
  g_assert_true (SSL_is_init_finished (c));

  g_assert_cmpint (SSL_write (c, request, (int)strlen (request)), ==, (int)strlen (request));
  pump (c_out, s_in, &c2s, &s2c, iface);
  g_assert_cmpint (SSL_read (s, buf, sizeof buf), ==, (int)strlen (request));
  g_assert_cmpint (SSL_write (s, response, (int)strlen (response)), ==, (int)strlen (response));
  pump (s_out, c_in, &s2c, &c2s, iface);
  g_assert_cmpint (SSL_read (c, buf, sizeof buf), ==, (int)strlen (response));
  pump (s_out, c_in, &s2c, &c2s, iface); /* session tickets */

  control (&c2s, &s2c, 0x11, iface);
  control (&s2c, &c2s, 0x11, iface);
  control (&c2s, &s2c, 0x10, iface);

  SSL_free (c);
  SSL_free (s);
  SSL_CTX_free (cctx);
  SSL_CTX_free (sctx);
  EVP_PKEY_free (key);
  X509_free (cert);
}

static char *
run_tshark (const char *path, const char *const *args, char **out_stderr)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  char *out = NULL;
  int status = 0;

  g_ptr_array_add (argv, (gpointer) "tshark");
  g_ptr_array_add (argv, (gpointer) "-n");
  g_ptr_array_add (argv, (gpointer) "-r");
  g_ptr_array_add (argv, (gpointer)path);
  for (const char *const *a = args; *a != NULL; a++)
    g_ptr_array_add (argv, (gpointer)*a);
  g_ptr_array_add (argv, NULL);
  g_assert_true (g_spawn_sync (NULL, (char **)argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                               &out, out_stderr, &status, &error));
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, &error));
  g_assert_no_error (error);
  return out;
}

/* tshark's stderr, less its note about running as root. */
static char *
stderr_warnings (const char *err)
{
  g_auto (GStrv) lines = g_strsplit (err, "\n", -1);
  GString *out = g_string_new (NULL);

  for (char **l = lines; *l != NULL; l++)
    if (**l != '\0' && strstr (*l, "Running as user") == NULL)
      g_string_append_printf (out, "%s\n", *l);
  return g_string_free (out, FALSE);
}

static void
test_tshark_referee (gconstpointer data)
{
  int tls_version = GPOINTER_TO_INT (data);
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autofree char *fields = NULL;
  g_autofree char *err = NULL;
  g_autofree char *warnings = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (TsTraceEvent) event = NULL;
  g_autofree char *tshark = g_find_program_in_path ("tshark");

  if (tshark == NULL)
    {
      g_test_skip ("tshark is not installed (apt install tshark); it is the referee here");
      return;
    }

  dir = g_dir_make_tmp ("ts-tshark-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (dir, "trace.pcapng", NULL);
  writer = ts_trace_writer_new_for_path (path, "connect", 500 * MS, &error);
  g_assert_no_error (error);
  g_assert_true (ts_trace_writer_set_metadata (
      writer, now_ns, "{\"nodes\":[\"client\",\"proxy\",\"server\"]}", &error));
  ts_trace_writer_add_interface (writer, "client-proxy", TS_LINKTYPE_ETHERNET,
                                 "captured at the proxy end", &error);
  ts_trace_writer_add_interface (writer, "proxy-server", TS_LINKTYPE_ETHERNET,
                                 "captured at the server end", &error);
  g_assert_no_error (error);

  event = ts_trace_event_new (now_ns + 5 * MS, "proxy", "proxy.connect.allowed");
  ts_trace_event_add (event, "target", "example.com:443");
  g_assert_true (ts_trace_writer_add_event (writer, event, &error));

  tls_session (0, "192.0.2.10", "192.0.2.1", "/first", tls_version);
  /* The writer runs as a live lab would: time moves on and old items go out. */
  g_assert_true (ts_trace_writer_advance (writer, now_ns, &error));
  tls_session (1, "198.51.100.1", "198.51.100.10", "/second", tls_version);
  g_assert_true (ts_trace_writer_close (writer, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (ts_trace_writer_get_n_late_secrets (writer), ==, 0);
  g_clear_pointer (&writer, ts_trace_writer_free);

  /* Interfaces by name, and the inner HTTP decrypted from the embedded secrets alone. */
  {
    const char *args[] = { "-Y", "http",
                           "-T", "fields",
                           "-e", "frame.interface_name",
                           "-e", "http.request.uri",
                           "-e", "http.response.code",
                           NULL };
    fields = run_tshark (path, args, &err);
  }
  g_test_message ("tshark http:\n%s", fields);
  warnings = stderr_warnings (err);
  g_assert_cmpstr (warnings, ==, "");
  g_assert_cmpstr (fields, ==,
                   "client-proxy\t/first\t\n"
                   "client-proxy\t\t200\n"
                   "proxy-server\t/second\t\n"
                   "proxy-server\t\t200\n");
  g_clear_pointer (&fields, g_free);
  g_clear_pointer (&err, g_free);

  /* Every frame names its link; event blocks are frames without one. */
  {
    const char *args[] = { "-T", "fields", "-e", "frame.interface_name", NULL };
    g_auto (GStrv) lines = NULL;
    guint n_cp = 0, n_ps = 0, n_other = 0;

    fields = run_tshark (path, args, &err);
    lines = g_strsplit (fields, "\n", -1);
    for (char **l = lines; l[0] != NULL && l[1] != NULL; l++)
      {
        if (strcmp (*l, "client-proxy") == 0)
          n_cp++;
        else if (strcmp (*l, "proxy-server") == 0)
          n_ps++;
        else
          n_other++;
      }
    g_assert_cmpuint (n_cp, >, 8);
    g_assert_cmpuint (n_ps, >, 8);
    g_assert_cmpuint (n_other, ==, 2); /* the metadata and the one event */
  }
  g_clear_pointer (&fields, g_free);
  g_clear_pointer (&err, g_free);

  /* The events, with their fields. */
  {
    const char *args[] = { "-Y", "systemd_journal", "-V", NULL };

    fields = run_tshark (path, args, &err);
    g_test_message ("tshark events:\n%s", fields);
    g_assert_nonnull (strstr (fields, "Field name: TS_KIND\n        Field value: lab.metadata\n"));
    g_assert_nonnull (
        strstr (fields, "Field name: TS_KIND\n        Field value: proxy.connect.allowed\n"));
    g_assert_nonnull (
        strstr (fields, "Field name: TS_TARGET\n        Field value: example.com:443\n"));
    g_assert_nonnull (strstr (fields, "Field name: TS_METADATA\n        Field value: {\"nodes\":"));
    warnings = (g_free (warnings), stderr_warnings (err));
    g_assert_cmpstr (warnings, ==, "");
  }

  g_unlink (path);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_data_func ("/ts/trace/pcapng/tshark/tls13", GINT_TO_POINTER (TLS1_3_VERSION),
                        test_tshark_referee);
  g_test_add_data_func ("/ts/trace/pcapng/tshark/tls12", GINT_TO_POINTER (TLS1_2_VERSION),
                        test_tshark_referee);
  return g_test_run ();
}
