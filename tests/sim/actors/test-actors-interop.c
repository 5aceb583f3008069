/* test-actors-interop.c: the actors with other people's programs on loopback: curl and
 * openssl s_client against ts-server; ts-client through squid and tinyproxy (absolute-form,
 * CONNECT then TLS, WebSocket over CONNECT, a CONNECT the proxy refuses).
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "actors-fixture.h"

typedef ActorsFixture Fixture;

#define ADD(path, fn)                                                                              \
  g_test_add ("/ts/sim/actors/interop/" path, Fixture, NULL, actors_fixture_setup, fn,             \
              actors_fixture_teardown)

static gboolean
need_program (const char *name)
{
  g_autofree char *path = g_find_program_in_path (name);

  if (path == NULL)
    {
      g_autofree char *msg = g_strdup_printf ("%s is not installed", name);
      g_test_skip (msg);
      return FALSE;
    }
  return TRUE;
}

/* Runs @argv with @input on its standard input. */
static int
run_with_input (Fixture *f, const char *const *argv, const char *input, char **out_stdout,
                char **out_stderr)
{
  g_autoptr (GSubprocessLauncher) l
      = actors_fixture_launcher (f, "client",
                                 G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                     | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) p = g_subprocess_launcher_spawnv (l, argv, &error);

  g_assert_no_error (error);
  g_ptr_array_add (f->procs, g_object_ref (p));
  g_subprocess_communicate_utf8 (p, input, NULL, out_stdout, out_stderr, &error);
  g_assert_no_error (error);
  if (g_test_verbose ())
    g_printerr ("$ %s\n%s%s", argv[0], *out_stdout, *out_stderr);
  g_assert_true (g_subprocess_get_if_exited (p));
  return g_subprocess_get_exit_status (p);
}

/* ---- curl and openssl against ts-server ---- */

static void
test_curl_http (Fixture *f, gconstpointer data)
{
  g_autofree char *resolve = actors_fixture_resolve (f->http_port);
  g_autofree char *u = g_strdup_printf ("http://example.com:%d/api/orders", f->http_port);
  g_autofree char *out = NULL;
  const char *argv[] = { "curl", "-sS", "--fail", "--resolve", resolve, u, NULL };

  if (!need_program ("curl"))
    return;
  g_assert_cmpint (actors_fixture_run (f, argv, &out, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "\"lab coat\""));
}

static void
test_curl_https (Fixture *f, gconstpointer data)
{
  g_autofree char *resolve = actors_fixture_resolve (f->https_port);
  g_autofree char *orders = g_strdup_printf ("https://example.com:%d/api/orders", f->https_port);
  g_autofree char *chunked = g_strdup_printf ("https://example.com:%d/chunked?n=3", f->https_port);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *keylog = NULL;

  if (!need_program ("curl"))
    return;
  {
    /* With Expect: 100-continue, the server says go before the body comes. */
    const char *argv[] = { "curl",
                           "-sS",
                           "-v",
                           "--fail",
                           "--cacert",
                           f->pki.web_ca_cert,
                           "--resolve",
                           resolve,
                           "-H",
                           "Content-Type: application/json",
                           "-H",
                           "Expect: 100-continue",
                           "--expect100-timeout",
                           "30",
                           "-d",
                           "{\"item\": \"beaker\"}",
                           orders,
                           NULL };
    g_assert_cmpint (actors_fixture_run (f, argv, &out, &err), ==, 0);
    g_assert_nonnull (strstr (out, "\"beaker\""));
    g_assert_nonnull (strstr (out, "\"id\" : 3"));
    g_assert_nonnull (strstr (err, "< HTTP/1.1 100 Continue"));
    g_clear_pointer (&err, g_free);
  }
  {
    const char *argv[]
        = { "curl", "-sS",      "--fail",           "-v",        "--tlsv1.2", "--tls-max",
            "1.2",  "--cacert", f->pki.web_ca_cert, "--resolve", resolve,     chunked,
            NULL };
    g_clear_pointer (&out, g_free);
    g_assert_cmpint (actors_fixture_run (f, argv, &out, &err), ==, 0);
    g_assert_cmpstr (out, ==, "chunk 1 of 3\nchunk 2 of 3\nchunk 3 of 3\n");
    g_assert_nonnull (strstr (err, "TLSv1.2"));
    g_assert_nonnull (strstr (err, "Transfer-Encoding: chunked"));
  }
  /* The web CA is the only one that makes curl trust it. */
  {
    const char *argv[] = { "curl",      "-sS",   "--cacert", f->pki.intercept_ca_cert,
                           "--resolve", resolve, orders,     NULL };
    g_assert_cmpint (actors_fixture_run (f, argv, NULL, NULL), ==, 60);
  }
  /* curl wrote its secrets where the lab contract says. */
  g_assert_true (g_file_get_contents (f->keylog, &keylog, NULL, NULL));
  g_assert_nonnull (strstr (keylog, "CLIENT_RANDOM "));
}

static void
s_client (Fixture *f, const char *version_flag, const char *expect_version)
{
  g_autofree char *connect = g_strdup_printf ("127.0.0.1:%d", f->https_port);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  const char *argv[] = { "openssl",
                         "s_client",
                         "-connect",
                         connect,
                         "-servername",
                         "example.com",
                         "-verify_hostname",
                         "example.com",
                         "-CAfile",
                         f->pki.web_ca_cert,
                         "-verify_return_error",
                         version_flag,
                         "-brief",
                         "-ign_eof",
                         NULL };
  const char *request
      = "GET /about.html HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n";
  g_autofree char *proto = g_strdup_printf ("Protocol version: %s", expect_version);

  if (!need_program ("openssl"))
    return;
  g_assert_cmpint (run_with_input (f, argv, request, &out, &err), ==, 0);
  g_assert_nonnull (strstr (err, proto));
  g_assert_nonnull (strstr (err, "Verification: OK"));
  g_assert_nonnull (strstr (out, "HTTP/1.1 200 OK"));
  g_assert_nonnull (strstr (out, "About example.com"));
}

static void
test_s_client_tls12 (Fixture *f, gconstpointer data)
{
  s_client (f, "-tls1_2", "TLSv1.2");
}

static void
test_s_client_tls13 (Fixture *f, gconstpointer data)
{
  s_client (f, "-tls1_3", "TLSv1.3");
}

/* A server that offers only TLS 1.3 turns a TLS 1.2-only client away. */
static void
setup_tls13_only (Fixture *f, gconstpointer data)
{
  const char *extra[] = { "--tls-version=1.3", NULL };
  actors_fixture_setup_with (f, extra);
}

static void
test_s_client_version_refused (Fixture *f, gconstpointer data)
{
  g_autofree char *connect = g_strdup_printf ("127.0.0.1:%d", f->https_port);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  const char *argv[]
      = { "openssl", "s_client",         "-connect", connect,  "-servername", "example.com",
          "-CAfile", f->pki.web_ca_cert, "-tls1_2",  "-brief", NULL };

  if (!need_program ("openssl"))
    return;
  g_assert_cmpint (run_with_input (f, argv, "", &out, &err), !=, 0);
  g_assert_nonnull (strstr (err, "alert protocol version"));
}

/* ---- proxies ---- */

static char *
write_hosts (Fixture *f, const char *name)
{
  g_autofree char *path = g_build_filename (f->tmpdir, name, NULL);
  g_autoptr (GError) error = NULL;

  g_assert_true (
      g_file_set_contents (path, "127.0.0.1 localhost example.com www.example.com\n", -1, &error));
  return g_steal_pointer (&path);
}

/* squid 5.7 in the foreground (FIELD-NOTES): started in a user namespace
 * without a root mapping, it is not root there and so does not switch to
 * its cache_effective_user; names come from its own hosts_file. */
static int
start_squid (Fixture *f)
{
  g_autofree char *dir = g_build_filename (f->tmpdir, "squid", NULL);
  g_autofree char *conf_path = g_build_filename (dir, "squid.conf", NULL);
  g_autofree char *hosts = write_hosts (f, "squid-hosts");
  g_autofree char *conf = NULL;
  g_autoptr (GError) error = NULL;
  int port = actors_fixture_free_port ();
  GSubprocess *p;

  g_assert_cmpint (g_mkdir (dir, 0700), ==, 0);
  conf = g_strdup_printf ("http_port 127.0.0.1:%d\n"
                          "pid_filename %s/squid.pid\n"
                          "cache_log %s/cache.log\n"
                          "access_log stdio:%s/access.log\n"
                          "cache_store_log none\n"
                          "cache deny all\n"
                          "cache_mem 8 MB\n"
                          "coredump_dir %s\n"
                          "pinger_enable off\n"
                          "shutdown_lifetime 1 seconds\n"
                          "dns_nameservers 127.0.0.1\n"
                          "hosts_file %s\n"
                          "acl tunnel_ports port %d %d\n"
                          "acl CONNECT method CONNECT\n"
                          "http_access deny CONNECT !tunnel_ports\n"
                          "http_access allow localhost\n"
                          "http_access deny all\n",
                          port, dir, dir, dir, dir, hosts, f->https_port, f->http_port);
  g_assert_true (g_file_set_contents (conf_path, conf, -1, &error));
  {
    const char *argv[] = { "unshare", "--user", "squid", "-N", "-f", conf_path, NULL };
    p = actors_fixture_spawn (f, "squid", argv);
  }
  if (!actors_fixture_wait_port (p, port, 30))
    {
      g_autofree char *log = NULL;
      g_autofree char *log_path = g_build_filename (dir, "cache.log", NULL);
      g_file_get_contents (log_path, &log, NULL, NULL);
      g_test_message ("squid did not start:\n%s", log ? log : "(no cache.log)");
      return -1;
    }
  return port;
}

/* tinyproxy 1.11 in the foreground, with no User line; it resolves through
 * the system, so it runs in its own mount namespace where /etc/hosts is a
 * bind mount of ours (as the lab does for each node). */
static int
start_tinyproxy (Fixture *f)
{
  g_autofree char *conf_path = g_build_filename (f->tmpdir, "tinyproxy.conf", NULL);
  g_autofree char *hosts = write_hosts (f, "tinyproxy-hosts");
  g_autofree char *conf = NULL;
  g_autofree char *script = NULL;
  g_autoptr (GError) error = NULL;
  int port = actors_fixture_free_port ();
  GSubprocess *p;

  conf = g_strdup_printf ("Port %d\n"
                          "Listen 127.0.0.1\n"
                          "Timeout 30\n"
                          "Allow 127.0.0.1\n"
                          "ConnectPort %d\n"
                          "ConnectPort %d\n"
                          "LogLevel Info\n"
                          "LogFile \"%s/tinyproxy.log\"\n"
                          "MaxClients 20\n",
                          port, f->https_port, f->http_port, f->tmpdir);
  g_assert_true (g_file_set_contents (conf_path, conf, -1, &error));
  script = g_strdup_printf ("mount --bind '%s' /etc/hosts && exec tinyproxy -d -c '%s'", hosts,
                            conf_path);
  if (geteuid () == 0)
    {
      const char *argv[] = { "unshare", "--mount", "sh", "-c", script, NULL };
      p = actors_fixture_spawn (f, "tinyproxy", argv);
    }
  else
    {
      const char *argv[]
          = { "unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script, NULL };
      p = actors_fixture_spawn (f, "tinyproxy", argv);
    }
  if (!actors_fixture_wait_port (p, port, 30))
    return -1;
  return port;
}

static JsonNode *
client_via (Fixture *f, int proxy_port, const char *url, const char *const *more, int expect_rc)
{
  g_autofree char *proxy = g_strdup_printf ("127.0.0.1:%d", proxy_port);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *out = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;

  g_ptr_array_add (argv, "--json");
  g_ptr_array_add (argv, "--proxy");
  g_ptr_array_add (argv, proxy);
  for (guint i = 0; more && more[i]; i++)
    g_ptr_array_add (argv, (char *)more[i]);
  g_ptr_array_add (argv, (char *)url);
  g_ptr_array_add (argv, NULL);
  g_assert_cmpint (actors_fixture_run_client (f, (const char *const *)argv->pdata, &out, NULL), ==,
                   expect_rc);
  g_assert_true (json_parser_load_from_data (parser, out, -1, &error));
  g_assert_no_error (error);
  return json_node_copy (json_parser_get_root (parser));
}

/* The same four exchanges through any forward proxy. */
static void
through_proxy (Fixture *f, int proxy_port, const char *via_marker)
{
  g_autofree char *http_url = g_strdup_printf ("http://example.com:%d/headers", f->http_port);
  g_autofree char *https_url = g_strdup_printf ("https://example.com:%d/api/orders", f->https_port);
  g_autofree char *ws_url = g_strdup_printf ("ws://example.com:%d/ws", f->http_port);
  g_autofree char *wss_url = g_strdup_printf ("wss://example.com:%d/ws", f->https_port);
  g_autofree char *smtp_url = g_strdup_printf ("smtp://example.com:%d", f->smtp_port);
  g_autoptr (JsonNode) r = NULL;
  JsonObject *o;

  /* http://: absolute-form; the origin sees what the proxy added. */
  r = client_via (f, proxy_port, http_url, NULL, 0);
  o = json_node_get_object (r);
  g_assert_cmpstr (json_object_get_string_member (o, "mode"), ==, "absolute-form");
  g_assert_cmpint (json_object_get_int_member (o, "status"), ==, 200);
  if (via_marker)
    g_assert_nonnull (strstr (json_object_get_string_member (o, "body"), via_marker));
  g_clear_pointer (&r, json_node_unref);

  /* https://: CONNECT, then TLS end to end with the origin's certificate. */
  {
    const char *more[] = { "--data", "{\"item\": \"flask\"}", NULL };
    JsonObject *cert;
    r = client_via (f, proxy_port, https_url, more, 0);
    o = json_node_get_object (r);
    g_assert_cmpstr (json_object_get_string_member (o, "mode"), ==, "connect");
    g_assert_cmpint (json_object_get_int_member (o, "proxy_status"), ==, 200);
    g_assert_cmpint (json_object_get_int_member (o, "status"), ==, 201);
    cert = json_object_get_object_member (json_object_get_object_member (o, "tls"), "certificate");
    g_assert_nonnull (strstr (json_object_get_string_member (cert, "issuer"), "Web Root CA"));
    g_assert_cmpfloat (json_object_get_double_member (
                           json_object_get_object_member (o, "timing_ms"), "proxy_connect"),
                       >, 0);
    g_clear_pointer (&r, json_node_unref);
  }

  /* WebSocket over CONNECT, plain and in TLS. */
  {
    const char *more[] = { "--message", "through the tunnel", NULL };
    r = client_via (f, proxy_port, ws_url, more, 0);
    o = json_node_get_object (r);
    g_assert_true (
        json_object_get_boolean_member (json_object_get_object_member (o, "websocket"), "echo_ok"));
    g_clear_pointer (&r, json_node_unref);
    r = client_via (f, proxy_port, wss_url, more, 0);
    o = json_node_get_object (r);
    g_assert_cmpstr (
        json_object_get_string_member (json_object_get_object_member (o, "websocket"), "received"),
        ==, "through the tunnel");
    g_clear_pointer (&r, json_node_unref);
  }

  /* CONNECT to a port the proxy does not allow: refused with a status, exit 1. */
  r = client_via (f, proxy_port, smtp_url, NULL, 1);
  o = json_node_get_object (r);
  g_assert_cmpint (json_object_get_int_member (o, "proxy_status"), ==, 403);
  g_assert_nonnull (strstr (json_object_get_string_member (o, "error"), "refused CONNECT"));
}

static void
test_squid (Fixture *f, gconstpointer data)
{
  int port;

  if (!need_program ("squid") || !need_program ("unshare"))
    return;
  port = start_squid (f);
  if (port < 0)
    {
      g_test_skip ("squid did not start here (see the test log)");
      return;
    }
  through_proxy (f, port, "squid/");
}

static void
test_tinyproxy (Fixture *f, gconstpointer data)
{
  int port;

  if (!need_program ("tinyproxy") || !need_program ("unshare"))
    return;
  port = start_tinyproxy (f);
  if (port < 0)
    {
      g_test_skip ("tinyproxy did not start here: its mount namespace needs unshare --mount");
      return;
    }
  through_proxy (f, port, "tinyproxy/");
}

/* ts-proxy (sim/proxy), when it is built: like tinyproxy it resolves through
 * the system, so it runs in its own mount namespace with our hosts file. */
static int
start_ts_proxy (Fixture *f, const char *extra_args)
{
  const char *program = g_getenv ("TS_PROXY");
  g_autofree char *hosts = write_hosts (f, "ts-proxy-hosts");
  g_autofree char *port_file = g_build_filename (f->tmpdir, "ts-proxy.port", NULL);
  g_autofree char *script = NULL;
  g_autofree char *ports = g_strdup_printf ("%d,%d", f->https_port, f->http_port);
  gint64 end = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  script = g_strdup_printf ("mount --bind '%s' /etc/hosts && exec '%s' --listen 127.0.0.1 "
                            "--port 0 --port-file '%s' --allow-loopback-targets "
                            "--connect-ports %s --access-log none %s",
                            hosts, program, port_file, ports, extra_args);
  if (geteuid () == 0)
    {
      const char *argv[] = { "unshare", "--mount", "sh", "-c", script, NULL };
      actors_fixture_spawn (f, "proxy", argv);
    }
  else
    {
      const char *argv[]
          = { "unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script, NULL };
      actors_fixture_spawn (f, "proxy", argv);
    }
  while (g_get_monotonic_time () < end)
    {
      g_autofree char *text = NULL;
      if (g_file_get_contents (port_file, &text, NULL, NULL) && atoi (text) > 0)
        return atoi (text);
      g_usleep (50 * 1000);
    }
  return -1;
}

static gboolean
need_ts_proxy (void)
{
  const char *program = g_getenv ("TS_PROXY");

  if (program == NULL || !g_file_test (program, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_skip ("ts-proxy is not built");
      return FALSE;
    }
  return need_program ("unshare");
}

static void
test_ts_proxy (Fixture *f, gconstpointer data)
{
  int port;

  if (!need_ts_proxy ())
    return;
  port = start_ts_proxy (f, "");
  if (port < 0)
    {
      g_test_skip ("ts-proxy did not start here (see ts-proxy's proxy.err)");
      return;
    }
  through_proxy (f, port, NULL);

  /* curl through ts-proxy, CONNECT then TLS, and absolute-form. */
  if (need_program ("curl"))
    {
      g_autofree char *proxy = g_strdup_printf ("http://127.0.0.1:%d", port);
      g_autofree char *https_url
          = g_strdup_printf ("https://example.com:%d/api/orders", f->https_port);
      g_autofree char *http_url = g_strdup_printf ("http://example.com:%d/", f->http_port);
      g_autofree char *out = NULL;
      const char *tls[]
          = { "curl",    "-sS", "--fail", "--proxy", proxy, "--cacert", f->pki.web_ca_cert,
              https_url, NULL };
      const char *plain[] = { "curl", "-sS", "--fail", "--proxy", proxy, http_url, NULL };

      g_assert_cmpint (actors_fixture_run (f, tls, &out, NULL), ==, 0);
      g_assert_nonnull (strstr (out, "\"lab coat\""));
      g_clear_pointer (&out, g_free);
      g_assert_cmpint (actors_fixture_run (f, plain, &out, NULL), ==, 0);
      g_assert_nonnull (strstr (out, "Welcome to example.com"));
    }
}

/* Interception: trusted (the client sees the Intercept CA as issuer and the
 * proxy sees the REST call), untrusted (refused), pinned (detected). */
static void
test_ts_proxy_intercept (Fixture *f, gconstpointer data)
{
  g_autofree char *orders = g_strdup_printf ("https://example.com:%d/api/orders", f->https_port);
  g_autoptr (JsonNode) r = NULL;
  JsonObject *o, *cert;
  int port;

  if (!need_ts_proxy ())
    return;
  port = start_ts_proxy (f, "--intercept");
  if (port < 0)
    {
      g_test_skip ("ts-proxy did not start here (see ts-proxy's proxy.err)");
      return;
    }

  {
    const char *more[] = { "--trust-intercept", "--data", "{\"item\": \"secret sauce\"}", NULL };
    g_autofree char *events = NULL;

    r = client_via (f, port, orders, more, 0);
    o = json_node_get_object (r);
    g_assert_cmpint (json_object_get_int_member (o, "status"), ==, 201);
    cert = json_object_get_object_member (json_object_get_object_member (o, "tls"), "certificate");
    g_assert_nonnull (strstr (json_object_get_string_member (cert, "issuer"), "Intercept CA"));
    g_assert_nonnull (strstr (json_object_get_string_member (cert, "subject"), "example.com"));
    g_clear_pointer (&r, json_node_unref);
    g_assert_true (g_file_get_contents (f->events, &events, NULL, NULL));
    g_assert_nonnull (strstr (events, "proxy.intercept.request"));
  }
  {
    r = client_via (f, port, orders, NULL, 1);
    o = json_node_get_object (r);
    g_assert_nonnull (strstr (json_object_get_string_member (o, "error"), "certificate refused"));
    cert = json_object_get_object_member (json_object_get_object_member (o, "tls"), "certificate");
    g_assert_nonnull (strstr (json_object_get_string_member (cert, "issuer"), "Intercept CA"));
    g_clear_pointer (&r, json_node_unref);
  }
  {
    const char *more[] = { "--trust-intercept", "--pin-cert", f->pki.server_cert, NULL };
    r = client_via (f, port, orders, more, 1);
    o = json_node_get_object (r);
    g_assert_nonnull (
        strstr (json_object_get_string_member (o, "error"), "public key pin mismatch"));
  }
}

/* ---- a delaying relay: the timing breakdown puts round trips where they belong ---- */

typedef struct
{
  GSocket *from;
  GSocket *to;
  gulong delay_us;
} RelayDir;

/* Copies one direction, holding each chunk for the delay: a crude one-way
 * link delay for data (the TCP handshake to the relay itself stays local). */
static gpointer
relay_dir_thread (gpointer data)
{
  RelayDir *d = data;
  char buf[16384];
  gssize n;

  while ((n = g_socket_receive (d->from, buf, sizeof buf, NULL, NULL)) > 0)
    {
      g_usleep (d->delay_us);
      if (g_socket_send (d->to, buf, (gsize)n, NULL, NULL) != n)
        break;
    }
  g_socket_shutdown (d->to, FALSE, TRUE, NULL);
  return NULL;
}

typedef struct
{
  GSocket *listener;
  int upstream_port;
  gulong delay_us;
} Relay;

static gpointer
relay_accept_thread (gpointer data)
{
  Relay *r = data;
  GSocket *client = g_socket_accept (r->listener, NULL, NULL);
  g_autoptr (GSocket) up = NULL;
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) sa = g_inet_socket_address_new (lo, (guint16)r->upstream_port);
  RelayDir a, b;
  GThread *ta, *tb;

  if (client == NULL)
    return NULL;
  g_socket_set_timeout (client, 30);
  up = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  if (up == NULL || !g_socket_connect (up, sa, NULL, NULL))
    {
      g_object_unref (client);
      return NULL;
    }
  g_socket_set_timeout (up, 30);
  a = (RelayDir){ client, up, r->delay_us };
  b = (RelayDir){ up, client, r->delay_us };
  ta = g_thread_new ("relay-up", relay_dir_thread, &a);
  tb = g_thread_new ("relay-down", relay_dir_thread, &b);
  g_thread_join (ta);
  g_thread_join (tb);
  g_object_unref (client);
  return NULL;
}

static void
test_timing_breakdown (Fixture *f, gconstpointer data)
{
  const gulong delay_ms = 100;
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) r = NULL;
  g_autofree char *https_url = g_strdup_printf ("https://example.com:%d/", f->https_port);
  Relay relay = { 0 };
  GThread *t;
  JsonObject *timing;
  int proxy_port;

  if (!need_program ("tinyproxy") || !need_program ("unshare"))
    return;
  proxy_port = start_tinyproxy (f);
  if (proxy_port < 0)
    {
      g_test_skip ("tinyproxy did not start here: its mount namespace needs unshare --mount");
      return;
    }
  /* client --(relay, 100 ms each way)--> tinyproxy --> ts-server */
  relay.listener
      = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  /* Nothing in the relay waits forever, even when the client never comes. */
  g_socket_set_timeout (relay.listener, 30);
  g_assert_true (g_socket_bind (relay.listener, any, TRUE, &error));
  g_assert_true (g_socket_listen (relay.listener, &error));
  bound = g_socket_get_local_address (relay.listener, &error);
  relay.upstream_port = proxy_port;
  relay.delay_us = delay_ms * 1000;
  t = g_thread_new ("relay", relay_accept_thread, &relay);

  {
    int relay_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
    const char *more[] = { "--tls-version=1.3", NULL };
    r = client_via (f, relay_port, https_url, more, 0);
  }
  g_thread_join (t);
  g_clear_object (&relay.listener);

  /* One round trip each for CONNECT, the TLS 1.3 handshake and the
   * request: at least two one-way delays in each phase; none in the TCP
   * handshake with the (local) relay. */
  timing = json_object_get_object_member (json_node_get_object (r), "timing_ms");
  g_assert_cmpfloat (json_object_get_double_member (timing, "proxy_connect"), >=, 2 * delay_ms);
  g_assert_cmpfloat (json_object_get_double_member (timing, "tls_handshake"), >=, 2 * delay_ms);
  g_assert_cmpfloat (json_object_get_double_member (timing, "first_byte"), >=, 2 * delay_ms);
  g_assert_cmpfloat (json_object_get_double_member (timing, "tcp_connect"), <,
                     json_object_get_double_member (timing, "proxy_connect"));
}

/* A proxy that wants credentials: 407 without them, a tunnel with them. */
static void
test_ts_proxy_auth (Fixture *f, gconstpointer data)
{
  g_autofree char *https_url = g_strdup_printf ("https://example.com:%d/", f->https_port);
  g_autofree char *http_url = g_strdup_printf ("http://example.com:%d/", f->http_port);
  g_autoptr (JsonNode) r = NULL;
  JsonObject *o;
  int port;

  if (!need_ts_proxy ())
    return;
  port = start_ts_proxy (f, "--auth lab:secret");
  if (port < 0)
    {
      g_test_skip ("ts-proxy did not start here (see ts-proxy's proxy.err)");
      return;
    }
  r = client_via (f, port, https_url, NULL, 1);
  o = json_node_get_object (r);
  g_assert_cmpint (json_object_get_int_member (o, "proxy_status"), ==, 407);
  g_assert_nonnull (strstr (json_object_get_string_member (o, "error"), "wants credentials"));
  g_clear_pointer (&r, json_node_unref);
  {
    const char *more[] = { "--proxy-user", "lab:secret", NULL };
    r = client_via (f, port, https_url, more, 0);
    g_assert_cmpint (json_object_get_int_member (json_node_get_object (r), "proxy_status"), ==,
                     200);
    g_clear_pointer (&r, json_node_unref);
    r = client_via (f, port, http_url, more, 0);
    g_assert_cmpint (json_object_get_int_member (json_node_get_object (r), "status"), ==, 200);
    g_clear_pointer (&r, json_node_unref);
  }
  {
    const char *more[] = { "--proxy-user", "lab:wrong", NULL };
    r = client_via (f, port, https_url, more, 1);
    g_assert_cmpint (json_object_get_int_member (json_node_get_object (r), "proxy_status"), ==,
                     407);
  }
}

/* ---- tshark reads what the actors put on the wire, with their secrets ---- */

static void
test_tshark_decodes (Fixture *f, gconstpointer data)
{
  g_autofree char *pcap = g_build_filename (f->tmpdir, "lo.pcap", NULL);
  g_autofree char *filter
      = g_strdup_printf ("tcp port %d or tcp port %d", f->https_port, f->http_port);
  g_autofree char *err_path = g_build_filename (f->tmpdir, "capture.err", NULL);
  g_autofree char *orders = g_strdup_printf ("https://example.com:%d/api/orders", f->https_port);
  g_autofree char *wss = g_strdup_printf ("wss://example.com:%d/ws", f->https_port);
  g_autofree char *ws = g_strdup_printf ("ws://example.com:%d/ws", f->http_port);
  g_autofree char *resolve_s = actors_fixture_resolve (f->https_port);
  g_autofree char *resolve_p = actors_fixture_resolve (f->http_port);
  g_autofree char *keylog_opt = g_strconcat ("tls.keylog_file:", f->keylog, NULL);
  g_autofree char *decode_tls = g_strdup_printf ("tcp.port==%d,tls", f->https_port);
  g_autofree char *decode_http = g_strdup_printf ("tcp.port==%d,http", f->http_port);
  g_autofree char *out = NULL;
  gint64 end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  gboolean listening = FALSE;
  GSubprocess *cap;

  if (!need_program ("tcpdump") || !need_program ("tshark"))
    return;
  {
    /* Loopback only, and only this test's two ports. */
    const char *argv[]
        = { "tcpdump", "-i", "lo",   "-U", "--immediate-mode", "-B", "16384", "-s", "65535",
            "-w",      pcap, filter, NULL };
    cap = actors_fixture_spawn (f, "capture", argv);
  }
  while (!listening && g_get_monotonic_time () < end && g_subprocess_get_identifier (cap))
    {
      g_autofree char *err = NULL;
      listening = g_file_get_contents (err_path, &err, NULL, NULL) && strstr (err, "listening on");
      if (!listening)
        g_usleep (50 * 1000);
    }
  if (!listening)
    {
      g_test_skip ("tcpdump cannot capture on lo here (it needs CAP_NET_RAW)");
      return;
    }

  {
    const char *post13[]
        = { "--resolve", resolve_s, "--data", "{\"item\": \"on the wire\"}", orders, NULL };
    const char *get12[] = { "--resolve", resolve_s, "--tls-version=1.2", orders, NULL };
    const char *ws_tls[] = { "--resolve", resolve_s, "--message", "hello in TLS", wss, NULL };
    const char *ws_plain[] = { "--resolve", resolve_p, "--message", "hello in clear", ws, NULL };
    g_assert_cmpint (actors_fixture_run_client (f, post13, NULL, NULL), ==, 0);
    g_assert_cmpint (actors_fixture_run_client (f, get12, NULL, NULL), ==, 0);
    g_assert_cmpint (actors_fixture_run_client (f, ws_tls, NULL, NULL), ==, 0);
    g_assert_cmpint (actors_fixture_run_client (f, ws_plain, NULL, NULL), ==, 0);
  }
  g_usleep (300 * 1000);
  actors_fixture_end (cap);

  {
    const char *argv[] = { "tshark", "-n",
                           "-r",     pcap,
                           "-o",     keylog_opt,
                           "-d",     decode_tls,
                           "-d",     decode_http,
                           "-Y",     "http.request or http.response or websocket",
                           "-T",     "fields",
                           "-E",     "separator=|",
                           "-e",     "http.request.method",
                           "-e",     "http.request.uri",
                           "-e",     "http.response.code",
                           "-e",     "websocket.payload.text",
                           NULL };
    g_assert_cmpint (actors_fixture_run (f, argv, &out, NULL), ==, 0);
  }
  /* The decrypted REST call (TLS 1.3 and 1.2), and WebSocket text both ways. */
  g_assert_nonnull (strstr (out, "POST|/api/orders||"));
  g_assert_nonnull (strstr (out, "||201|"));
  g_assert_nonnull (strstr (out, "GET|/api/orders||"));
  g_assert_nonnull (strstr (out, "||101|"));
  g_assert_nonnull (strstr (out, "|||hello in TLS"));
  g_assert_nonnull (strstr (out, "|||hello in clear"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  ADD ("curl-http", test_curl_http);
  ADD ("curl-https", test_curl_https);
  ADD ("s-client-tls12", test_s_client_tls12);
  ADD ("s-client-tls13", test_s_client_tls13);
  g_test_add ("/ts/sim/actors/interop/s-client-version-refused", Fixture, NULL, setup_tls13_only,
              test_s_client_version_refused, actors_fixture_teardown);
  ADD ("squid", test_squid);
  ADD ("tinyproxy", test_tinyproxy);
  ADD ("timing-breakdown", test_timing_breakdown);
  ADD ("tshark-decodes", test_tshark_decodes);
  ADD ("ts-proxy", test_ts_proxy);
  ADD ("ts-proxy-intercept", test_ts_proxy_intercept);
  ADD ("ts-proxy-auth", test_ts_proxy_auth);
  return g_test_run ();
}
