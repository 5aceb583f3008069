/* test-lab-scenarios.c: the built-in scenarios run and pass, their captures show what they are
 * about, and ts-client's report agrees with the capture. SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Three kinds of test, each a path of its own so that meson runs them side
 * by side:
 *
 *   /ts/lab/scenarios/run/NAME   (suite lab) `tscope run NAME` exits 0 in
 *                                a real lab; connect and intercept also
 *                                check ts-client's report against the trace
 *   /ts/lab/scenarios/timing     (suite lab) connect with 50 ms on the
 *                                proxy-server link: the extra round trips
 *                                show in the CONNECT phase and the TLS
 *                                handshake, not in the TCP connect
 *   /ts/lab/captures/NAME        (suite interop, no lab) tshark decodes from
 *                                captures/NAME.pcapng what the scenario is
 *                                about; for connect and intercept the
 *                                report's issuer and fingerprint match the
 *                                certificate on the client's link
 *
 * Lab tests run their body in a subprocess with a directory of their own;
 * the parent then runs 'tscope down --all' there and removes the
 * directory, whatever the body did. Without namespaces they skip with the
 * reason, unless TS_REQUIRE_LAB=1, where they fail. */
#include "config.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab-harness.h"
#include "ts-trace-event.h"
#include "ts-trace-reader.h"

/* The built-in scenarios; tests/sim/lab/meson.build lists the same. */
static const char *const scenarios[] = {
  "direct",
  "direct-blocked",
  "http-forward",
  "connect",
  "connect-tls12",
  "connect-chain",
  "intercept",
  "intercept-untrusted",
  "intercept-pinned",
  "websocket-over-connect",
  "connect-port-25-denied",
  "udp-through-connect-fails",
};

/* ------------------------------------------------------------------ */
/* Helpers.                                                            */

/* The values of @field in the frames of @trace that match @filter, one
 * line per frame (tshark -T fields), decrypted with the secrets inside the
 * trace only. */
static char *
tshark (const char *trace, const char *filter, const char *field)
{
  const char *argv[]
      = { "tshark", "-n",     "-r", trace, "-o", "tls.keylog_file:/dev/null", "-Y", filter,
          "-T",     "fields", "-e", field, NULL };
  char *out = NULL;

  g_assert_cmpint (spawn (&out, NULL, argv), ==, 0);
  return out;
}

static guint
count_lines (const char *text)
{
  guint n = 0;

  for (const char *p = text; *p != '\0'; p++)
    n += *p == '\n';
  return n;
}

/* How many frames of @trace match @filter. */
static guint
frames (const char *trace, const char *filter)
{
  g_autofree char *out = tshark (trace, filter, "frame.number");
  return count_lines (out);
}

/* How many frames match @filter on link @link. */
static guint
frames_on (const char *trace, const char *link, const char *filter)
{
  g_autofree char *f = g_strdup_printf ("frame.interface_name == \"%s\" && (%s)", link, filter);
  return frames (trace, f);
}

static void
assert_on (const char *trace, const char *link, const char *filter)
{
  if (frames_on (trace, link, filter) == 0)
    g_error ("%s: no frame on %s matches: %s", trace, link, filter);
}

static void
assert_not_on (const char *trace, const char *link, const char *filter)
{
  guint n = frames_on (trace, link, filter);
  if (n != 0)
    g_error ("%s: %u frames on %s match, none should: %s", trace, n, link, filter);
}

static void
assert_nowhere (const char *trace, const char *filter)
{
  guint n = frames (trace, filter);
  if (n != 0)
    g_error ("%s: %u frames match, none should: %s", trace, n, filter);
}

/* Every event of @trace (TsTraceEvent), in order. */
static void
copy_event (const TsTraceRecord *rec, gpointer data)
{
  if (rec->kind == TS_TRACE_RECORD_EVENT)
    g_ptr_array_add (data, ts_trace_event_copy (rec->event));
}

static GPtrArray *
trace_events (const char *trace)
{
  GPtrArray *events = g_ptr_array_new_with_free_func ((GDestroyNotify)ts_trace_event_free);

  for_each_record (trace, copy_event, events);
  return events;
}

/* The client.result events of @events, in order (borrowed). */
static GPtrArray *
client_results (GPtrArray *events)
{
  GPtrArray *out = g_ptr_array_new ();

  for (guint i = 0; i < events->len; i++)
    if (g_str_equal (ts_trace_event_get_kind (events->pdata[i]), "client.result"))
      g_ptr_array_add (out, events->pdata[i]);
  return out;
}

static char *
hex_fingerprint (const unsigned char *der, gsize len)
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  GString *s = g_string_new (NULL);

  g_assert_true (EVP_Digest (der, len, md, &md_len, EVP_sha256 (), NULL));
  for (unsigned int i = 0; i < md_len; i++)
    g_string_append_printf (s, i ? ":%02X" : "%02X", md[i]);
  return g_string_free (s, FALSE);
}

/* ts-client's report agrees with the capture: every client.result in
 * @trace names a certificate (by its SHA-256) that the client received in
 * a Certificate message on link @link, issued by @issuer_cn; the report's
 * issuer says the same. */
static void
check_report (const char *trace, const char *link, const char *issuer_cn)
{
  g_autoptr (GPtrArray) events = trace_events (trace);
  g_autoptr (GPtrArray) results = client_results (events);
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autofree char *filter
      = g_strdup_printf ("tls.handshake.type == 11 && frame.interface_name == \"%s\"", link);
  g_autofree char *certs = tshark (trace, filter, "tls.handshake.certificate");
  g_auto (GStrv) lines = g_strsplit (certs, "\n", -1);
  g_autofree char *want_issuer = g_strdup_printf ("CN=%s", issuer_cn);

  /* The leaf of each Certificate message the client's link carried, as
   * tshark decrypted it. */
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto (GStrv) chain = g_strsplit (lines[i], ",", 2);
      g_autofree guchar *der = NULL;
      const guchar *p;
      gsize len = strlen (chain[0] != NULL ? chain[0] : "") / 2;
      X509 *cert;
      char cn[256] = "";

      if (len == 0)
        continue;
      der = g_malloc (len);
      for (gsize k = 0; k < len; k++)
        der[k] = (guchar)(g_ascii_xdigit_value (chain[0][2 * k]) * 16
                          + g_ascii_xdigit_value (chain[0][2 * k + 1]));
      p = der;
      cert = d2i_X509 (NULL, &p, (long)len);
      g_assert_nonnull (cert);
      X509_NAME_get_text_by_NID (X509_get_issuer_name (cert), NID_commonName, cn, sizeof cn);
      g_hash_table_insert (seen, hex_fingerprint (der, len), g_strdup (cn));
      X509_free (cert);
    }
  g_assert_cmpuint (g_hash_table_size (seen), >, 0);
  g_assert_cmpuint (results->len, >, 0);
  for (guint i = 0; i < results->len; i++)
    {
      const char *sha = ts_trace_event_get (results->pdata[i], "cert_sha256");
      const char *issuer = ts_trace_event_get (results->pdata[i], "cert_issuer");
      const char *cn;

      g_assert_cmpstr (ts_trace_event_get_node (results->pdata[i]), ==, "client");
      g_assert_nonnull (sha);
      g_assert_nonnull (issuer);
      g_test_message ("%s: client.result issuer '%s', certificate %s", trace, issuer, sha);
      /* The report's issuer is the one asked for... */
      g_assert_true (g_str_has_prefix (issuer, want_issuer));
      /* ... and it is the issuer of the very certificate on the wire. */
      cn = g_hash_table_lookup (seen, sha);
      if (cn == NULL)
        g_error ("%s: the client reports certificate %s, which no Certificate message on %s "
                 "carries",
                 trace, sha, link);
      g_assert_cmpstr (cn, ==, issuer_cn);
    }
}

/* A number field of an event, in milliseconds. */
static double
event_ms (TsTraceEvent *ev, const char *key)
{
  const char *value = ts_trace_event_get (ev, key);

  if (value == NULL)
    g_error ("client.result has no %s", key);
  return g_ascii_strtod (value, NULL);
}

/* ------------------------------------------------------------------ */
/* What each capture is about, as tshark decodes it.                   */

static void
capture_direct (const char *t)
{
  assert_on (t, "client-server", "tls.handshake.type == 1");
  assert_on (t, "client-server", "tls.handshake.type == 2");
  assert_on (t, "client-server",
             "http.request.method == \"GET\" && http.request.uri == \"/api/orders\"");
  assert_on (t, "client-server", "http.response.code == 200");
}

static void
capture_direct_blocked (const char *t)
{
  /* The SYN reaches the wire, again and again, and nothing answers. */
  g_assert_cmpuint (frames_on (t, "client-proxy",
                               "tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.dstport == 443"),
                    >=, 2);
  assert_nowhere (t, "tcp.flags.syn == 1 && tcp.flags.ack == 1");
  assert_nowhere (t, "tcp.flags.reset == 1");
  assert_not_on (t, "proxy-server", "tcp");
  assert_nowhere (t, "http || tls");
}

static void
capture_http_forward (const char *t)
{
  /* Absolute-form to the proxy, origin-form with Via to the origin. */
  assert_on (
      t, "client-proxy",
      "http.request.method == \"GET\" && http.request.uri == \"http://example.com/headers\"");
  assert_on (t, "proxy-server",
             "http.request.method == \"GET\" && http.request.uri == \"/headers\"");
  assert_on (t, "proxy-server", "http.request.line contains \"Via: 1.1 proxy\"");
  assert_not_on (t, "client-proxy", "http.request.line contains \"Via:\"");
  assert_on (t, "proxy-server", "http.response.code == 200");
  assert_on (t, "client-proxy", "http.response.code == 200");
  assert_nowhere (t, "tls || http.request.method == \"CONNECT\"");
}

/* CONNECT to example.com:443 on @first and 200 back, from which on TLS. */
static void
assert_connect (const char *t, const char *first)
{
  assert_on (t, first,
             "http.request.method == \"CONNECT\" && http.request.uri == \"example.com:443\"");
  assert_on (t, first, "http.response.code == 200 && !tls");
}

static void
capture_connect (const char *t)
{
  g_autofree char *randoms = NULL;
  g_auto (GStrv) r = NULL;

  assert_connect (t, "client-proxy");
  assert_not_on (t, "proxy-server", "http.request.method == \"CONNECT\"");
  /* One TLS session end to end: the same ClientHello on both links. */
  for (guint i = 0; i < 2; i++)
    {
      const char *link = i ? "proxy-server" : "client-proxy";
      assert_on (t, link, "tls.handshake.type == 1");
      assert_on (t, link, "tls.handshake.type == 2");
      assert_on (t, link, "http.request.method == \"GET\" && http.request.uri == \"/api/orders\"");
      assert_on (t, link, "http.response.code == 200 && tls");
    }
  randoms = tshark (t, "tls.handshake.type == 1", "tls.handshake.random");
  r = g_strsplit (randoms, "\n", -1);
  g_assert_cmpuint (g_strv_length (r), ==, 3);
  g_assert_cmpstr (r[0], ==, r[1]);
  check_report (t, "client-proxy", "Tunnelscope Lab Web Root CA");
}

static void
capture_connect_tls12 (const char *t)
{
  assert_connect (t, "client-proxy");
  for (guint i = 0; i < 2; i++)
    {
      const char *link = i ? "proxy-server" : "client-proxy";
      /* TLS 1.2: no supported_versions in the ServerHello, and the
       * Certificate in clear (a handshake record, not application data). */
      assert_on (t, link,
                 "tls.handshake.type == 2 && tls.handshake.version == 0x0303 && "
                 "!tls.handshake.extensions.supported_version");
      assert_on (t, link, "tls.handshake.type == 11 && tls.record.content_type == 22");
      assert_on (t, link, "http.request.method == \"GET\" && http.request.uri == \"/api/orders\"");
    }
  assert_nowhere (
      t, "tls.handshake.extensions.supported_version == 0x0304 && tls.handshake.type == 2");
}

static void
capture_connect_chain (const char *t)
{
  assert_connect (t, "client-proxy1");
  assert_connect (t, "proxy1-proxy2");
  assert_not_on (t, "proxy2-server", "http.request.method == \"CONNECT\"");
  g_assert_cmpuint (frames (t, "http.request.method == \"CONNECT\""), ==, 2);
  for (guint i = 0; i < 3; i++)
    {
      const char *link = i == 0 ? "client-proxy1" : i == 1 ? "proxy1-proxy2" : "proxy2-server";
      assert_on (t, link, "tls.handshake.type == 1");
      assert_on (t, link, "http.request.method == \"GET\"");
      assert_on (t, link, "http.response.code == 200 && tls");
    }
}

static void
capture_intercept (const char *t)
{
  g_autofree char *randoms = NULL;
  g_autofree char *links = NULL;

  assert_connect (t, "client-proxy");
  /* Two TLS sessions per tunnel: the proxy's own ClientHello upstream. */
  randoms = tshark (t, "tls.handshake.type == 1 && frame.interface_name == \"proxy-server\"",
                    "tls.handshake.random");
  links = tshark (t, "tls.handshake.type == 1 && frame.interface_name == \"client-proxy\"",
                  "tls.handshake.random");
  g_assert_cmpuint (count_lines (randoms), >=, 1);
  {
    g_auto (GStrv) up = g_strsplit (randoms, "\n", -1);
    for (guint i = 0; up[i] != NULL && up[i][0] != '\0'; i++)
      g_assert_null (strstr (links, up[i]));
  }
  /* Each side's certificate: minted by the Intercept CA for the client,
   * the origin's own from the Lab Web Root CA for the proxy. */
  assert_on (t, "client-proxy",
             "tls.handshake.type == 11 && x509sat.uTF8String == \"Tunnelscope Lab Intercept CA\"");
  assert_not_on (t, "client-proxy", "x509sat.uTF8String == \"Tunnelscope Lab Web Root CA\"");
  assert_on (t, "proxy-server",
             "tls.handshake.type == 11 && x509sat.uTF8String == \"Tunnelscope Lab Web Root CA\"");
  /* The REST calls, decrypted on both links. */
  for (guint i = 0; i < 2; i++)
    {
      const char *link = i ? "proxy-server" : "client-proxy";
      assert_on (t, link,
                 "http.request.method == \"POST\" && http.request.uri == \"/api/orders\" && "
                 "http.file_data contains \"secret sauce\"");
      assert_on (t, link, "http.response.code == 201");
      assert_on (t, link, "http.request.method == \"GET\" && http.request.uri == \"/api/orders\"");
      assert_on (t, link, "http.response.code == 200 && http.file_data contains \"secret sauce\"");
    }
  check_report (t, "client-proxy", "Tunnelscope Lab Intercept CA");
}

/* The client refused the minted certificate with alert @alert; no request
 * went anywhere. */
static void
assert_refused (const char *t, const char *alert)
{
  g_autofree char *filter
      = g_strdup_printf ("tls.alert_message.desc == %s && ipv6.src == 2001:db8:1::1 || "
                         "tls.alert_message.desc == %s && ip.src == 192.0.2.1",
                         alert, alert);

  assert_connect (t, "client-proxy");
  assert_on (t, "client-proxy", "tls.handshake.type == 1");
  assert_on (t, "client-proxy",
             "tls.handshake.type == 11 && x509sat.uTF8String == \"Tunnelscope Lab Intercept CA\"");
  assert_on (t, "client-proxy", filter);
  assert_nowhere (t, "http.request.method == \"GET\" || http.request.method == \"POST\"");
}

static void
capture_intercept_untrusted (const char *t)
{
  assert_refused (t, "48"); /* unknown_ca */
}

static void
capture_intercept_pinned (const char *t)
{
  assert_refused (t, "40"); /* handshake_failure: the pin, checked inside the handshake */
}

static void
capture_websocket (const char *t)
{
  assert_connect (t, "client-proxy");
  for (guint i = 0; i < 2; i++)
    {
      const char *link = i ? "proxy-server" : "client-proxy";
      assert_on (t, link,
                 "http.request.method == \"GET\" && http.request.uri == \"/ws\" && http.upgrade "
                 "contains \"websocket\"");
      assert_on (t, link, "http.response.code == 101");
      /* The message, masked from the client, and its echo. */
      g_assert_cmpuint (
          frames_on (
              t, link,
              "websocket.opcode == 1 && websocket.payload.text == \"hello through the tunnel\""),
          ==, 2);
      assert_on (t, link, "websocket.opcode == 1 && websocket.mask == 1");
      assert_on (t, link, "websocket.opcode == 8");
    }
}

static void
capture_port_25 (const char *t)
{
  assert_on (t, "client-proxy",
             "http.request.method == \"CONNECT\" && http.request.uri == \"mail.example.com:25\"");
  assert_on (t, "client-proxy", "http.response.code == 403");
  assert_nowhere (t, "http.response.code == 200");
  /* The proxy did not even try the mail server. */
  assert_not_on (t, "proxy-server", "tcp");
  assert_nowhere (t, "tcp.port == 25 || smtp");
}

static void
capture_udp (const char *t)
{
  /* No CONNECT can carry it; the datagram sent around the proxy goes
   * nowhere; the proxy's node gets its echo. */
  assert_nowhere (t, "http");
  assert_on (t, "client-proxy", "udp.dstport == 7");
  assert_not_on (t, "client-proxy", "udp.srcport == 7");
  assert_on (t, "proxy-server", "udp.dstport == 7");
  assert_on (t, "proxy-server", "udp.srcport == 7");
}

typedef struct
{
  const char *name;
  void (*check) (const char *trace);
} CaptureCheck;

static const CaptureCheck capture_checks[] = {
  { "direct", capture_direct },
  { "direct-blocked", capture_direct_blocked },
  { "http-forward", capture_http_forward },
  { "connect", capture_connect },
  { "connect-tls12", capture_connect_tls12 },
  { "connect-chain", capture_connect_chain },
  { "intercept", capture_intercept },
  { "intercept-untrusted", capture_intercept_untrusted },
  { "intercept-pinned", capture_intercept_pinned },
  { "websocket-over-connect", capture_websocket },
  { "connect-port-25-denied", capture_port_25 },
  { "udp-through-connect-fails", capture_udp },
};

static void
test_capture (gconstpointer data)
{
  const CaptureCheck *c = data;
  const char *dir = g_getenv ("TS_CAPTURES_DIR");
  g_autofree char *file = g_strdup_printf ("%s.pcapng", c->name);
  g_autofree char *trace
      = g_build_filename (dir != NULL ? dir : TS_SOURCE_DIR "/captures", file, NULL);

  if (!g_file_test ("/usr/bin/tshark", G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_skip ("tshark is not installed");
      return;
    }
  if (!g_file_test (trace, G_FILE_TEST_EXISTS))
    g_error ("%s is missing (tscope record --all makes it)", trace);
  c->check (trace);
}

/* ------------------------------------------------------------------ */
/* Lab tests.                                                          */

static void
test_run (gconstpointer data)
{
  const char *name = data;
  g_autofree char *lab = lab_name ("sc");
  g_autofree char *file = g_strdup_printf ("%s.pcapng", name);
  g_autofree char *trace = g_build_filename (tmp_root, file, NULL);
  g_autofree char *out = NULL;
  g_autoptr (GPtrArray) events = NULL;
  g_autoptr (GPtrArray) results = NULL;
  const char *argv[] = { tscope, "run", name, "-o", trace, "--lab", lab, NULL };
  int rc = spawn (&out, NULL, argv);

  if (rc != 0)
    g_error ("tscope run %s exited %d:\n%s", name, rc, out);
  g_assert_nonnull (strstr (out, "Result: PASS"));
  events = trace_events (trace);
  results = client_results (events);
  g_assert_cmpuint (results->len, >=, 1);
  if (g_str_equal (name, "connect"))
    check_report (trace, "client-proxy", "Tunnelscope Lab Web Root CA");
  else if (g_str_equal (name, "intercept"))
    check_report (trace, "client-proxy", "Tunnelscope Lab Intercept CA");
}

/* One run of connect; the client's timing from its client.result. */
static void
connect_timing (const char *tag, const char *set, double *tcp, double *proxy, double *tls)
{
  g_autofree char *lab = lab_name (tag);
  g_autofree char *file = g_strdup_printf ("%s.pcapng", tag);
  g_autofree char *trace = g_build_filename (tmp_root, file, NULL);
  g_autofree char *out = NULL;
  g_autoptr (GPtrArray) events = NULL;
  g_autoptr (GPtrArray) results = NULL;
  const char *argv[]
      = { tscope, "run", "connect", "-o", trace, "--lab", lab, "-q", set != NULL ? "--set" : NULL,
          set,    NULL };
  int rc = spawn (&out, NULL, argv);

  if (rc != 0)
    g_error ("tscope run connect %s exited %d:\n%s", set ? set : "", rc, out);
  events = trace_events (trace);
  results = client_results (events);
  g_assert_cmpuint (results->len, ==, 1);
  *tcp = event_ms (results->pdata[0], "t_tcp_connect_ms");
  *proxy = event_ms (results->pdata[0], "t_proxy_connect_ms");
  *tls = event_ms (results->pdata[0], "t_tls_handshake_ms");
  g_printerr ("connect %s: tcp %.1f ms, CONNECT %.1f ms, TLS %.1f ms\n", set ? set : "(plain)",
              *tcp, *proxy, *tls);
}

/* 50 ms each way on proxy-server is one extra round trip of 100 ms for
 * each exchange that crosses that link: the proxy's TCP handshake with the
 * origin (inside the CONNECT phase, before the 200) and the TLS 1.3
 * handshake (one round trip end to end). The client's TCP handshake with
 * the proxy does not cross it. Each delayed run is taken twice and the
 * smaller growth kept, so that a busy machine does not fake a round trip. */
static void
test_timing (void)
{
  double tcp0, proxy0, tls0;
  double tcp = G_MAXDOUBLE, proxy = G_MAXDOUBLE, tls = G_MAXDOUBLE;

  connect_timing ("tb", NULL, &tcp0, &proxy0, &tls0);
  for (int i = 0; i < 2; i++)
    {
      double a, b, c;
      connect_timing (i ? "td2" : "td1", "link.proxy-server.delay=50ms", &a, &b, &c);
      tcp = MIN (tcp, a);
      proxy = MIN (proxy, b);
      tls = MIN (tls, c);
    }
  g_printerr ("growth with 50 ms on proxy-server: tcp %+.1f ms, CONNECT %+.1f ms, TLS %+.1f ms\n",
              tcp - tcp0, proxy - proxy0, tls - tls0);
  /* The delay is real: a round trip cannot take less than 100 ms. */
  g_assert_cmpfloat (proxy, >=, 100.0);
  g_assert_cmpfloat (tls, >=, 100.0);
  /* About one round trip each: nearer one than two (a second round trip,
   * such as neighbour discovery before the proxy's SYN, would be a fault). */
  g_assert_cmpfloat (proxy - proxy0, >, 60.0);
  g_assert_cmpfloat (proxy - proxy0, <, 160.0);
  g_assert_cmpfloat (tls - tls0, >, 60.0);
  g_assert_cmpfloat (tls - tls0, <, 160.0);
  /* Not in the TCP connect to the proxy. */
  g_assert_cmpfloat (tcp - tcp0, <, 50.0);
  g_assert_cmpfloat (tcp, <, 100.0);
}

static void
timing_body (gconstpointer data)
{
  test_timing ();
}

int
main (int argc, char **argv)
{
  LabTest run_tests[G_N_ELEMENTS (scenarios)];
  LabTest timing = { timing_body, NULL };
  int rc;

  g_test_init (&argc, &argv, NULL);
  lab_harness_init ();

  G_STATIC_ASSERT (G_N_ELEMENTS (capture_checks) == G_N_ELEMENTS (scenarios));
  for (gsize i = 0; i < G_N_ELEMENTS (scenarios); i++)
    {
      g_autofree char *run_path = g_strdup_printf ("/ts/lab/scenarios/run/%s", scenarios[i]);
      g_autofree char *cap_path = g_strdup_printf ("/ts/lab/captures/%s", capture_checks[i].name);

      run_tests[i].body = test_run;
      run_tests[i].data = scenarios[i];
      g_test_add_data_func (run_path, &run_tests[i], run_isolated);
      g_test_add_data_func (cap_path, &capture_checks[i], test_capture);
    }
  g_test_add_data_func ("/ts/lab/scenarios/timing", &timing, run_isolated);
  rc = g_test_run ();
  lab_harness_clear ();
  return rc;
}
