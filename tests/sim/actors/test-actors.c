/* test-actors.c: ts-client against ts-server on loopback: HTTP and HTTPS, the REST
 * API, chunked responses, keep-alive, WebSocket, pins and trust, UDP echo, DNS,
 * the SMTP banner, malformed requests, events and key logs.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include <string.h>

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "actors-fixture.h"
#include "ts-ws-frame.h"

typedef ActorsFixture Fixture;

#define ADD(path, fn)                                                                              \
  g_test_add ("/ts/sim/actors/" path, Fixture, NULL, actors_fixture_setup, fn,                     \
              actors_fixture_teardown)

static char *
url (const char *scheme, int port, const char *path)
{
  return g_strdup_printf ("%s://example.com:%d%s", scheme, port, path);
}

/* Runs ts-client --json with @args plus --resolve for @port; parses its
 * output into @out_root (transfer full). Returns the exit status. */
static int
client_json (Fixture *f, int port, const char *const *args, JsonNode **out_root)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (NULL);
  g_autofree char *resolve = actors_fixture_resolve (port);
  g_autofree char *out = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  int rc;

  g_ptr_array_add (argv, "--json");
  g_ptr_array_add (argv, "--resolve");
  g_ptr_array_add (argv, resolve);
  for (guint i = 0; args[i]; i++)
    g_ptr_array_add (argv, (char *)args[i]);
  g_ptr_array_add (argv, NULL);
  rc = actors_fixture_run_client (f, (const char *const *)argv->pdata, &out, NULL);
  g_assert_true (json_parser_load_from_data (parser, out, -1, &error));
  g_assert_no_error (error);
  *out_root = json_node_copy (json_parser_get_root (parser));
  g_assert_true (JSON_NODE_HOLDS_OBJECT (*out_root));
  return rc;
}

static JsonObject *
obj (JsonNode *node)
{
  return json_node_get_object (node);
}

static void
test_http_get (Fixture *f, gconstpointer data)
{
  g_autofree char *u = url ("http", f->http_port, "/");
  const char *args[] = { u, NULL };
  g_autoptr (JsonNode) root = NULL;

  g_assert_cmpint (client_json (f, f->http_port, args, &root), ==, 0);
  g_assert_true (json_object_get_boolean_member (obj (root), "ok"));
  g_assert_cmpint (json_object_get_int_member (obj (root), "status"), ==, 200);
  g_assert_cmpstr (json_object_get_string_member (obj (root), "mode"), ==, "direct");
  g_assert_nonnull (
      strstr (json_object_get_string_member (obj (root), "body"), "Welcome to example.com"));
  g_assert_true (json_object_get_null_member (obj (root), "tls"));
}

static void
test_https_get (Fixture *f, gconstpointer data)
{
  g_autofree char *u = url ("https", f->https_port, "/about.html");
  const char *args[] = { u, NULL };
  g_autoptr (JsonNode) root = NULL;
  JsonObject *tls, *cert, *timing;
  g_autofree char *events = NULL;
  g_autofree char *keylog = NULL;

  g_assert_cmpint (client_json (f, f->https_port, args, &root), ==, 0);
  g_assert_cmpint (json_object_get_int_member (obj (root), "status"), ==, 200);
  tls = json_object_get_object_member (obj (root), "tls");
  g_assert_cmpstr (json_object_get_string_member (tls, "version"), ==, "TLSv1.3");
  g_assert_cmpstr (json_object_get_string_member (tls, "alpn"), ==, "http/1.1");
  g_assert_cmpstr (json_object_get_string_member (tls, "verify"), ==, "ok");
  cert = json_object_get_object_member (tls, "certificate");
  g_assert_nonnull (strstr (json_object_get_string_member (cert, "subject"), "CN=example.com"));
  g_assert_nonnull (strstr (json_object_get_string_member (cert, "issuer"), "Web Root CA"));
  g_assert_cmpuint (strlen (json_object_get_string_member (cert, "sha256")), ==, 32 * 3 - 1);
  g_assert_true (g_str_has_prefix (json_object_get_string_member (cert, "pin"), "sha256//"));
  timing = json_object_get_object_member (obj (root), "timing_ms");
  g_assert_cmpfloat (json_object_get_double_member (timing, "tcp_connect"), >, 0);
  g_assert_cmpfloat (json_object_get_double_member (timing, "tls_handshake"), >, 0);
  g_assert_cmpfloat (json_object_get_double_member (timing, "first_byte"), >, 0);
  g_assert_true (json_object_get_null_member (timing, "proxy_connect"));

  /* Events of both ends, and secrets of both ends. */
  g_assert_true (g_file_get_contents (f->events, &events, NULL, NULL));
  g_assert_nonnull (
      strstr (events, " server server.request method=GET target=/about.html status=200"));
  g_assert_nonnull (strstr (events, " client client.result ok=true"));
  g_assert_nonnull (strstr (events, "cert_issuer="));
  g_assert_true (g_file_get_contents (f->keylog, &keylog, NULL, NULL));
  g_assert_nonnull (strstr (keylog, "CLIENT_TRAFFIC_SECRET_0 "));
}

static void
test_tls12 (Fixture *f, gconstpointer data)
{
  g_autofree char *u = url ("https", f->https_port, "/");
  const char *args[] = { u, "--tls-version=1.2", NULL };
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *keylog = NULL;

  g_assert_cmpint (client_json (f, f->https_port, args, &root), ==, 0);
  g_assert_cmpstr (
      json_object_get_string_member (json_object_get_object_member (obj (root), "tls"), "version"),
      ==, "TLSv1.2");
  g_assert_true (g_file_get_contents (f->keylog, &keylog, NULL, NULL));
  g_assert_nonnull (strstr (keylog, "CLIENT_RANDOM "));
}

static void
test_orders (Fixture *f, gconstpointer data)
{
  g_autofree char *u = url ("https", f->https_port, "/api/orders");
  const char *post[] = { u, "--data", "{\"item\": \"pipette\", \"quantity\": 5}", NULL };
  const char *get[] = { u, NULL };
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (JsonNode) order = NULL;
  g_autoptr (JsonNode) list = NULL;
  g_autoptr (JsonParser) p = json_parser_new ();
  JsonArray *orders;

  g_assert_cmpint (client_json (f, f->https_port, post, &root), ==, 0);
  g_assert_cmpstr (json_object_get_string_member (obj (root), "method"), ==, "POST");
  g_assert_cmpint (json_object_get_int_member (obj (root), "status"), ==, 201);
  g_assert_true (
      json_parser_load_from_data (p, json_object_get_string_member (obj (root), "body"), -1, NULL));
  order = json_node_copy (json_parser_get_root (p));
  g_assert_cmpstr (json_object_get_string_member (obj (order), "item"), ==, "pipette");
  g_assert_cmpint (json_object_get_int_member (obj (order), "quantity"), ==, 5);
  g_assert_cmpint (json_object_get_int_member (obj (order), "id"), ==, 3);

  g_clear_pointer (&root, json_node_unref);
  g_assert_cmpint (client_json (f, f->https_port, get, &root), ==, 0);
  g_assert_true (
      json_parser_load_from_data (p, json_object_get_string_member (obj (root), "body"), -1, NULL));
  list = json_node_copy (json_parser_get_root (p));
  orders = json_object_get_array_member (obj (list), "orders");
  g_assert_cmpuint (json_array_get_length (orders), ==, 3);

  /* A body over the server's limit (1 MiB), over plain HTTP and TLS: the
   * server answers 413 at once and closes; the client reports that answer
   * (it read while it sent), not a write error. 32 MiB outlasts what the
   * sockets hold, so the answer comes while the body is still going out. */
  {
    g_autofree char *big = g_build_filename (f->tmpdir, "big-body", NULL);
    g_autofree char *at = g_strdup_printf ("@%s", big);
    g_autofree char *body = g_strnfill (32 << 20, 'x');
    const int ports[] = { f->http_port, f->https_port };
    const char *schemes[] = { "http", "https" };

    g_assert_true (g_file_set_contents (big, body, -1, NULL));
    for (guint k = 0; k < 2; k++)
      {
        g_autofree char *target = url (schemes[k], ports[k], "/api/orders");
        const char *args[] = { target, "--data", at, NULL };

        g_clear_pointer (&root, json_node_unref);
        g_assert_cmpint (client_json (f, ports[k], args, &root), ==, 1);
        g_assert_cmpint (json_object_get_int_member (obj (root), "status"), ==, 413);
        g_assert_true (json_object_get_boolean_member (obj (root), "answered_before_request_sent"));
        g_assert_cmpstr (json_object_get_string_member (obj (root), "error"), ==,
                         "the server answered 413 Content Too Large");
      }
  }

  /* Not JSON: 400, and the client fails. */
  {
    const char *bad[] = { u, "--data", "not json", NULL };
    g_clear_pointer (&root, json_node_unref);
    g_assert_cmpint (client_json (f, f->https_port, bad, &root), ==, 1);
    g_assert_cmpint (json_object_get_int_member (obj (root), "status"), ==, 400);
    /* unless that is what was expected */
    {
      const char *expect[] = { u, "--data", "not json", "--expect-status=400", NULL };
      g_clear_pointer (&root, json_node_unref);
      g_assert_cmpint (client_json (f, f->https_port, expect, &root), ==, 0);
    }
  }
}

static void
test_chunked_keep_alive (Fixture *f, gconstpointer data)
{
  g_autofree char *u = url ("http", f->http_port, "/chunked?n=4");
  const char *args[] = { u, "--repeat=3", NULL };
  g_autoptr (JsonNode) root = NULL;
  JsonArray *headers;
  const char *last_count = NULL;

  g_assert_cmpint (client_json (f, f->http_port, args, &root), ==, 0);
  g_assert_true (json_object_get_boolean_member (obj (root), "chunked"));
  g_assert_cmpstr (json_object_get_string_member (obj (root), "body"), ==,
                   "chunk 1 of 4\nchunk 2 of 4\nchunk 3 of 4\nchunk 4 of 4\n");
  g_assert_cmpint (json_object_get_int_member (obj (root), "requests"), ==, 3);
  g_assert_cmpint (json_object_get_int_member (obj (root), "connections"), ==, 1);
  /* The server counted three requests on that one connection. */
  headers = json_object_get_array_member (obj (root), "headers");
  for (guint i = 0; i < json_array_get_length (headers); i++)
    {
      JsonArray *h = json_array_get_array_element (headers, i);
      if (g_strcmp0 (json_array_get_string_element (h, 0), "X-Ts-Connection-Requests") == 0)
        last_count = json_array_get_string_element (h, 1);
    }
  g_assert_cmpstr (last_count, ==, "3");

  /* Asking the server to close: one connection per request, reported so. */
  {
    g_autofree char *tls_url = url ("https", f->https_port, "/api/orders");
    const char *again[] = { tls_url, "--repeat=2", "-H", "Connection: close", NULL };
    g_clear_pointer (&root, json_node_unref);
    g_assert_cmpint (client_json (f, f->https_port, again, &root), ==, 0);
    g_assert_cmpint (json_object_get_int_member (obj (root), "requests"), ==, 2);
    g_assert_cmpint (json_object_get_int_member (obj (root), "connections"), ==, 2);
  }
}

static void
test_websocket (Fixture *f, gconstpointer data)
{
  g_autofree char *u = url ("wss", f->https_port, "/ws");
  const char *args[] = { u, "--message", "ping über TLS", NULL };
  g_autoptr (JsonNode) root = NULL;
  JsonObject *ws;
  g_autofree char *events = NULL;

  g_assert_cmpint (client_json (f, f->https_port, args, &root), ==, 0);
  g_assert_cmpint (json_object_get_int_member (obj (root), "status"), ==, 101);
  ws = json_object_get_object_member (obj (root), "websocket");
  g_assert_cmpstr (json_object_get_string_member (ws, "received"), ==, "ping über TLS");
  g_assert_true (json_object_get_boolean_member (ws, "echo_ok"));
  g_assert_true (g_file_get_contents (f->events, &events, NULL, NULL));
  g_assert_nonnull (strstr (events, "server.websocket.message direction=echoed opcode=text"));
}

static void
test_pin (Fixture *f, gconstpointer data)
{
  g_autofree char *u = url ("https", f->https_port, "/");
  const char *first[] = { u, NULL };
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *pin = NULL;
  g_autofree char *err = NULL;
  g_autofree char *resolve = actors_fixture_resolve (f->https_port);

  g_assert_cmpint (client_json (f, f->https_port, first, &root), ==, 0);
  pin = g_strdup (json_object_get_string_member (
      json_object_get_object_member (json_object_get_object_member (obj (root), "tls"),
                                     "certificate"),
      "pin"));

  /* The right pin passes. */
  {
    g_autofree char *opt = g_strconcat ("--pin=", pin, NULL);
    const char *args[] = { u, opt, "--resolve", resolve, NULL };
    g_assert_cmpint (actors_fixture_run_client (f, args, NULL, NULL), ==, 0);
  }
  /* A wrong one fails, clearly, naming both. */
  {
    const char *args[]
        = { u, "--pin=sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "--resolve", resolve,
            NULL };
    g_assert_cmpint (actors_fixture_run_client (f, args, NULL, &err), ==, 1);
    g_assert_nonnull (strstr (err, "ts-client: public key pin mismatch"));
    g_assert_nonnull (strstr (err, pin));
  }
  /* --pin-cert takes the pin from a certificate file, as an app shipping its server's key. */
  {
    const char *good[] = { u, "--pin-cert", f->pki.server_cert, "--resolve", resolve, NULL };
    const char *bad[] = { u, "--pin-cert", f->pki.intercept_ca_cert, "--resolve", resolve, NULL };
    g_assert_cmpint (actors_fixture_run_client (f, good, NULL, NULL), ==, 0);
    g_assert_cmpint (actors_fixture_run_client (f, bad, NULL, NULL), ==, 1);
  }
  /* A malformed one is bad usage. */
  {
    const char *args[] = { u, "--pin=sha256//nope", NULL };
    g_assert_cmpint (actors_fixture_run_client (f, args, NULL, NULL), ==, 2);
  }
}

static void
test_trust (Fixture *f, gconstpointer data)
{
  g_autofree char *u = url ("https", f->https_port, "/");
  g_autoptr (JsonNode) root = NULL;
  JsonObject *tls;

  /* Trusting only the Intercept CA, the origin's certificate is refused,
   * and the report still names its issuer. */
  {
    const char *args[] = { u, "--cacert", f->pki.intercept_ca_cert, NULL };
    g_assert_cmpint (client_json (f, f->https_port, args, &root), ==, 1);
    g_assert_false (json_object_get_boolean_member (obj (root), "ok"));
    g_assert_nonnull (
        strstr (json_object_get_string_member (obj (root), "error"), "certificate refused"));
    tls = json_object_get_object_member (obj (root), "tls");
    g_assert_nonnull (strstr (json_object_get_string_member (
                                  json_object_get_object_member (tls, "certificate"), "issuer"),
                              "Web Root CA"));
  }
  /* --trust-intercept adds the Intercept CA to the Web Root CA. */
  {
    const char *args[] = { u, "--trust-intercept", NULL };
    g_clear_pointer (&root, json_node_unref);
    g_assert_cmpint (client_json (f, f->https_port, args, &root), ==, 0);
    tls = json_object_get_object_member (obj (root), "tls");
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (tls, "trusted")), ==, 2);
  }
  /* The name is checked: an address is not example.com. */
  {
    g_autofree char *by_ip = g_strdup_printf ("https://127.0.0.1:%d/", f->https_port);
    const char *args[] = { by_ip, NULL };
    g_assert_cmpint (actors_fixture_run_client (f, args, NULL, NULL), ==, 1);
  }
}

static void
test_udp_echo (Fixture *f, gconstpointer data)
{
  g_autofree char *u = g_strdup_printf ("udp://127.0.0.1:%d", f->udp_port);
  const char *args[] = { u, "--message", "datagram 1", NULL };
  g_autoptr (JsonNode) root = NULL;
  JsonObject *udp;
  g_autofree char *err = NULL;

  g_assert_cmpint (client_json (f, f->udp_port, args, &root), ==, 0);
  udp = json_object_get_object_member (obj (root), "udp");
  g_assert_cmpstr (json_object_get_string_member (udp, "received"), ==, "datagram 1");
  g_assert_true (json_object_get_boolean_member (udp, "echo_ok"));

  /* "Through the proxy": CONNECT carries only TCP, so it fails, clearly. */
  {
    const char *via[] = { u, "--proxy=127.0.0.1:3128", NULL };
    g_assert_cmpint (actors_fixture_run_client (f, via, NULL, &err), ==, 1);
    g_assert_nonnull (strstr (err, "CONNECT carries only TCP"));
  }
}

static void
test_dns (Fixture *f, gconstpointer data)
{
  g_autofree char *u = g_strdup_printf ("dns://127.0.0.1:%d/Example.COM", f->dns_port);
  g_autofree char *nx = g_strdup_printf ("dns://127.0.0.1:%d/nowhere.test", f->dns_port);
  g_autoptr (JsonNode) root = NULL;
  JsonObject *dns;

  {
    const char *args[] = { u, NULL };
    g_assert_cmpint (client_json (f, f->dns_port, args, &root), ==, 0);
    dns = json_object_get_object_member (obj (root), "dns");
    g_assert_cmpstr (json_object_get_string_member (dns, "rcode"), ==, "NOERROR");
    g_assert_cmpstr (
        json_array_get_string_element (json_object_get_array_member (dns, "answers"), 0), ==,
        "192.0.2.10");
  }
  {
    const char *args[] = { u, "--dns-type=AAAA", NULL };
    g_clear_pointer (&root, json_node_unref);
    g_assert_cmpint (client_json (f, f->dns_port, args, &root), ==, 0);
    dns = json_object_get_object_member (obj (root), "dns");
    g_assert_cmpstr (
        json_array_get_string_element (json_object_get_array_member (dns, "answers"), 0), ==,
        "2001:db8::10");
  }
  {
    const char *args[] = { nx, NULL };
    g_clear_pointer (&root, json_node_unref);
    g_assert_cmpint (client_json (f, f->dns_port, args, &root), ==, 1);
    dns = json_object_get_object_member (obj (root), "dns");
    g_assert_cmpstr (json_object_get_string_member (dns, "rcode"), ==, "NXDOMAIN");
  }
}

/* A raw TCP exchange with the server: send @request, read until it closes. */
static char *
raw_exchange (int port, const char *request, gsize len)
{
  g_autoptr (GSocketClient) sc = g_socket_client_new ();
  g_autoptr (GSocketConnection) conn = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GByteArray) out = g_byte_array_new ();
  GOutputStream *os;
  GInputStream *is;
  guint8 buf[4096];
  gssize n;

  g_socket_client_set_timeout (sc, 10);
  conn = g_socket_client_connect_to_host (sc, "127.0.0.1", (guint16)port, NULL, &error);
  g_assert_no_error (error);
  os = g_io_stream_get_output_stream (G_IO_STREAM (conn));
  is = g_io_stream_get_input_stream (G_IO_STREAM (conn));
  if (len)
    g_assert_true (g_output_stream_write_all (os, request, len, NULL, NULL, &error));
  g_assert_no_error (error);
  while ((n = g_input_stream_read (is, buf, sizeof buf, NULL, &error)) > 0)
    g_byte_array_append (out, buf, (guint)n);
  g_byte_array_append (out, (const guint8 *)"", 1);
  return (char *)g_byte_array_free (g_steal_pointer (&out), FALSE);
}

static void
test_malformed (Fixture *f, gconstpointer data)
{
  static const char *const bad[] = {
    "GET / HTTP/1.1\r\nHost: example.com\r\nBad Header\r\n\r\n",
    "GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET / HTTP/1.1\r\n\r\n", /* no Host */
    "POST /api/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    "POST /api/orders HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *resp = raw_exchange (f->http_port, bad[i], strlen (bad[i]));
      if (!g_str_has_prefix (resp, "HTTP/1.1 400 "))
        g_error ("case %zu: %s", i, resp);
    }
  /* An oversized head: 431. */
  {
    g_autoptr (GString) big = g_string_new ("GET / HTTP/1.1\r\nHost: x\r\nX: ");
    g_autofree char *resp = NULL;
    while (big->len < 20000)
      g_string_append_c (big, 'a');
    g_string_append (big, "\r\n\r\n");
    resp = raw_exchange (f->http_port, big->str, big->len);
    g_assert_true (g_str_has_prefix (resp, "HTTP/1.1 431 "));
  }
  /* A body over 1 MiB is refused before it is read. */
  {
    const char *r = "POST /api/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n";
    g_autofree char *resp = raw_exchange (f->http_port, r, strlen (r));
    g_assert_true (g_str_has_prefix (resp, "HTTP/1.1 413 "));
  }
  /* The server still serves. */
  {
    const char *r = "GET /api/orders/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    g_autofree char *resp = raw_exchange (f->http_port, r, strlen (r));
    g_assert_true (g_str_has_prefix (resp, "HTTP/1.1 200 "));
    g_assert_nonnull (strstr (resp, "\"lab coat\""));
  }
}

static void
test_http10_and_pipelining (Fixture *f, gconstpointer data)
{
  /* HTTP/1.0 without keep-alive: the server answers and closes. */
  {
    const char *r = "GET /chunked?n=2 HTTP/1.0\r\n\r\n";
    g_autofree char *resp = raw_exchange (f->http_port, r, strlen (r));
    g_assert_true (g_str_has_prefix (resp, "HTTP/1.1 200 "));
    g_assert_nonnull (strstr (resp, "Connection: close\r\n"));
    /* no chunked coding for a 1.0 client */
    g_assert_null (strstr (resp, "Transfer-Encoding"));
    g_assert_nonnull (strstr (resp, "chunk 2 of 2\n"));
  }
  /* Two requests in one write: two responses, in order, on one connection. */
  {
    const char *r = "GET /api/orders/1 HTTP/1.1\r\nHost: x\r\n\r\n"
                    "GET /api/orders/2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    g_autofree char *resp = raw_exchange (f->http_port, r, strlen (r));
    const char *first = strstr (resp, "\"lab coat\"");
    const char *second = strstr (resp, "\"test tube\"");
    g_assert_nonnull (first);
    g_assert_nonnull (second);
    g_assert_true (first < second);
    g_assert_nonnull (strstr (resp, "X-Ts-Connection-Requests: 2\r\n"));
  }
}

static void
test_websocket_frames (Fixture *f, gconstpointer data)
{
  static const guint8 key[4] = { 1, 2, 3, 4 };
  g_autoptr (GByteArray) req = g_byte_array_new ();
  g_autofree char *resp = NULL;
  const char *head = "GET /ws HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n";
  /* ping (masked), then text in two fragments, then a text frame without a
   * mask: pong, the reassembled echo, then close 1002. */
  g_byte_array_append (req, (const guint8 *)head, strlen (head));
  ts_ws_frame_append (req, TRUE, TS_WS_OPCODE_PING, key, "pp", 2);
  ts_ws_frame_append (req, FALSE, TS_WS_OPCODE_TEXT, key, "frag", 4);
  ts_ws_frame_append (req, TRUE, TS_WS_OPCODE_CONTINUATION, key, "ment", 4);
  ts_ws_frame_append (req, TRUE, TS_WS_OPCODE_TEXT, NULL, "bad", 3);
  resp = raw_exchange (f->http_port, (const char *)req->data, req->len);

  g_assert_true (g_str_has_prefix (resp, "HTTP/1.1 101 "));
  g_assert_nonnull (strstr (resp, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
  {
    const guint8 *p = (const guint8 *)strstr (resp, "\r\n\r\n") + 4;
    gsize left = strlen (head) + 64; /* generous: the frames are small */
    TsWsFrame fr;
    gssize n;

    n = ts_ws_frame_parse (&fr, p, left);
    g_assert_cmpint (n, >, 0);
    g_assert_cmpint (fr.opcode, ==, TS_WS_OPCODE_PONG);
    g_assert_cmpmem (fr.payload, fr.payload_len, "pp", 2);
    p += n;
    n = ts_ws_frame_parse (&fr, p, left);
    g_assert_cmpint (n, >, 0);
    g_assert_cmpint (fr.opcode, ==, TS_WS_OPCODE_TEXT);
    g_assert_false (fr.masked);
    g_assert_cmpmem (fr.payload, fr.payload_len, "fragment", 8);
    p += n;
    n = ts_ws_frame_parse (&fr, p, left);
    g_assert_cmpint (n, >, 0);
    g_assert_cmpint (fr.opcode, ==, TS_WS_OPCODE_CLOSE);
    g_assert_cmpint ((fr.payload[0] << 8) | fr.payload[1], ==, TS_WS_CLOSE_PROTOCOL_ERROR);
  }
}

/* Listening on "::" serves IPv4 and IPv6 with one socket. */
static void
setup_dual_stack (Fixture *f, gconstpointer data)
{
  const char *extra[] = { "--listen=::", NULL };
  actors_fixture_setup_with (f, extra);
}

static void
test_dual_stack (Fixture *f, gconstpointer data)
{
  g_autofree char *u = url ("https", f->https_port, "/");
  g_autofree char *v6 = g_strdup_printf ("example.com:%d:[::1]", f->https_port);
  g_autofree char *out = NULL;
  const char *args[] = { u, "--resolve", v6, NULL };
  g_autoptr (JsonNode) root = NULL;
  const char *v4_args[] = { u, NULL };

  g_assert_cmpint (client_json (f, f->https_port, v4_args, &root), ==, 0);
  if (!g_file_test ("/proc/net/if_inet6", G_FILE_TEST_EXISTS))
    {
      g_test_skip ("no IPv6 here");
      return;
    }
  if (actors_fixture_run_client (f, args, &out, NULL) != 0)
    {
      g_test_skip ("::1 does not answer here (IPv6 loopback missing)");
      return;
    }
  g_assert_nonnull (strstr (out, "connected:   [::1]:"));
}

/* The text report: the lines scenarios match with output-contains. */
static void
test_text_report (Fixture *f, gconstpointer data)
{
  g_autofree char *resolve = actors_fixture_resolve (f->https_port);
  g_autofree char *u = url ("https", f->https_port, "/api/orders");
  g_autofree char *ws = url ("wss", f->https_port, "/ws");
  g_autofree char *out = NULL;

  {
    const char *args[] = { u, "--resolve", resolve, "--tls-version=1.2", NULL };
    g_assert_cmpint (actors_fixture_run_client (f, args, &out, NULL), ==, 0);
    g_assert_nonnull (strstr (out, "issuer  CN=Tunnelscope Lab Web Root CA"));
    g_assert_nonnull (strstr (out, "tls:         TLSv1.2 "));
    g_assert_nonnull (strstr (out, "status:      HTTP/1.1 200 OK\n"));
    g_assert_nonnull (strstr (out, "timing (ms): tcp "));
    g_assert_nonnull (strstr (out, "result:      ok\n"));
    g_clear_pointer (&out, g_free);
  }
  {
    const char *args[] = { ws, "--resolve", resolve, "--message", "hi", NULL };
    g_assert_cmpint (actors_fixture_run_client (f, args, &out, NULL), ==, 0);
    g_assert_nonnull (strstr (out, "received:    hi (echo ok)\n"));
    g_clear_pointer (&out, g_free);
  }
  {
    const char *args[] = { u, "--resolve", resolve, "--cacert", f->pki.intercept_ca_cert, NULL };
    g_assert_cmpint (actors_fixture_run_client (f, args, &out, NULL), ==, 1);
    g_assert_nonnull (strstr (out, "result:      FAILED: certificate refused: "));
  }
}

/* Many connections at once on the one event loop, requests arriving in
 * pieces, garbage on the HTTP and HTTPS ports: the server keeps serving. */
static void
test_robustness (Fixture *f, gconstpointer data)
{
  enum
  {
    N_CONNS = 100
  };
  g_autoptr (GPtrArray) conns = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GSocketClient) sc = g_socket_client_new ();
  g_autoptr (GRand) rand = g_rand_new_with_seed (42);
  const char *req = "GET /api/orders/2 HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n";
  gsize half = strlen (req) / 2;

  g_socket_client_set_timeout (sc, 20);
  for (guint i = 0; i < N_CONNS; i++)
    {
      g_autoptr (GError) error = NULL;
      GSocketConnection *c
          = g_socket_client_connect_to_host (sc, "127.0.0.1", (guint16)f->http_port, NULL, &error);
      g_assert_no_error (error);
      /* The first half of every request now, the rest once all are open. */
      g_assert_true (g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (c)),
                                                req, half, NULL, NULL, &error));
      g_ptr_array_add (conns, c);
    }
  for (guint i = 0; i < N_CONNS; i++)
    {
      GIOStream *c = conns->pdata[i];
      g_assert_true (g_output_stream_write_all (g_io_stream_get_output_stream (c), req + half,
                                                strlen (req) - half, NULL, NULL, NULL));
    }
  for (guint i = 0; i < N_CONNS; i++)
    {
      GIOStream *c = conns->pdata[i];
      char buf[2048];
      gsize got = 0;
      gssize n;

      while (got < sizeof buf - 1
             && (n = g_input_stream_read (g_io_stream_get_input_stream (c), buf + got,
                                          sizeof buf - 1 - got, NULL, NULL))
                    > 0)
        got += (gsize)n;
      buf[got] = '\0';
      g_assert_true (g_str_has_prefix (buf, "HTTP/1.1 200 "));
      g_assert_nonnull (strstr (buf, "\"test tube\""));
    }

  /* Random bytes on both ports. */
  for (guint i = 0; i < 40; i++)
    {
      guint8 junk[512];
      int port = i % 2 ? f->https_port : f->http_port;
      g_autofree char *resp = NULL;

      for (gsize k = 0; k < sizeof junk; k++)
        junk[k] = (guint8)g_rand_int_range (rand, 0, 256);
      resp = raw_exchange (port, (const char *)junk, sizeof junk);
      if (port == f->http_port && *resp)
        g_assert_true (g_str_has_prefix (resp, "HTTP/1.1 4"));
    }
  {
    g_autofree char *events = NULL;
    g_assert_true (g_file_get_contents (f->events, &events, NULL, NULL));
    g_assert_nonnull (strstr (events, "server.tls.failed"));
    /* (Not "unknown error" when OpenSSL has no error to tell.) */
    g_assert_null (strstr (events, "unknown"));
  }
  /* A connection to the TLS port that closes without a byte: the server
   * says so, not "unknown error" (a proxy that gave up on its client did
   * this in the intercept scenarios). */
  {
    g_autoptr (GSocketClient) client = g_socket_client_new ();
    g_autoptr (GSocketConnection) conn
        = g_socket_client_connect_to_host (client, "127.0.0.1", (guint16)f->https_port, NULL, NULL);
    g_autofree char *events = NULL;

    g_assert_nonnull (conn);
    g_assert_true (g_io_stream_close (G_IO_STREAM (conn), NULL, NULL));
    for (guint i = 0; i < 100; i++)
      {
        g_clear_pointer (&events, g_free);
        g_assert_true (g_file_get_contents (f->events, &events, NULL, NULL));
        if (strstr (events, "without%20starting%20TLS") != NULL)
          break;
        g_usleep (50 * 1000);
      }
    g_assert_nonnull (strstr (events, "reason=the%20peer%20closed%20the%20connection%20without"
                                      "%20starting%20TLS%20(no%20ClientHello)"));
  }

  /* Still serving. */
  {
    g_autofree char *u = url ("https", f->https_port, "/");
    const char *args[] = { u, NULL };
    g_autoptr (JsonNode) root = NULL;
    g_assert_cmpint (client_json (f, f->https_port, args, &root), ==, 0);
  }
}

/* /bytes streams a large body that neither end keeps whole in memory. */
static void
test_download (Fixture *f, gconstpointer data)
{
  g_autofree char *u = url ("https", f->https_port, "/bytes?n=50000000");
  g_autofree char *small = url ("http", f->http_port, "/bytes?n=130");
  const char *args[] = { u, NULL };
  const char *small_args[] = { small, NULL };
  g_autoptr (JsonNode) root = NULL;
  JsonObject *timing;

  g_assert_cmpint (client_json (f, f->https_port, args, &root), ==, 0);
  g_assert_cmpint (json_object_get_int_member (obj (root), "body_length"), ==, 50000000);
  g_assert_true (json_object_get_null_member (obj (root), "body"));
  timing = json_object_get_object_member (obj (root), "timing_ms");
  g_assert_cmpfloat (json_object_get_double_member (timing, "transfer"), >, 0);

  g_clear_pointer (&root, json_node_unref);
  g_assert_cmpint (client_json (f, f->http_port, small_args, &root), ==, 0);
  g_assert_cmpstr (json_object_get_string_member (obj (root), "body"), ==,
                   "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ!\n"
                   "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ!\n"
                   "ab");

  /* A request pipelined behind a generated body is answered after it. */
  {
    const char *r = "GET /bytes?n=300000 HTTP/1.1\r\nHost: x\r\n\r\n"
                    "GET /api/orders/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    g_autofree char *resp = raw_exchange (f->http_port, r, strlen (r));
    const char *second = strstr (resp, "\r\n\r\n");
    g_assert_nonnull (second);
    second += 4 + 300000;
    g_assert_true (g_str_has_prefix (second, "HTTP/1.1 200 "));
    g_assert_nonnull (strstr (second, "\"lab coat\""));
  }
}

static void
test_smtp (Fixture *f, gconstpointer data)
{
  /* ts-client reads the banner. */
  {
    g_autofree char *u = g_strdup_printf ("smtp://example.com:%d", f->smtp_port);
    const char *args[] = { u, NULL };
    g_autoptr (JsonNode) root = NULL;
    g_assert_cmpint (client_json (f, f->smtp_port, args, &root), ==, 0);
    g_assert_true (
        g_str_has_prefix (json_object_get_string_member (
                              json_object_get_object_member (obj (root), "smtp"), "banner"),
                          "220 example.com ESMTP"));
  }

  const char *r = "EHLO client.test\r\nMAIL FROM:<a@b>\r\nQUIT\r\n";
  g_autofree char *resp = raw_exchange (f->smtp_port, r, strlen (r));

  g_assert_true (g_str_has_prefix (resp, "220 example.com ESMTP"));
  g_assert_nonnull (strstr (resp, "250 HELP\r\n"));
  g_assert_nonnull (strstr (resp, "502 "));
  g_assert_nonnull (strstr (resp, "221 "));
}

static void
test_usage (Fixture *f, gconstpointer data)
{
  g_autofree char *err = NULL;
  g_autofree char *out = NULL;
  const char *help[] = { actors_fixture_program ("TS_SERVER"), "--help", NULL };
  const char *bad_port[] = { actors_fixture_program ("TS_SERVER"), "--http-port=99999", NULL };
  const char *no_url[] = { NULL };
  const char *scheme[] = { "gopher://example.com/", NULL };
  const char *proxy[] = { "http://example.com/", "--proxy=nocolon", NULL };

  g_assert_cmpint (actors_fixture_run (f, help, &out, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "--https-port"));
  g_assert_cmpint (actors_fixture_run (f, bad_port, NULL, &err), ==, 2);
  g_assert_true (g_str_has_prefix (err, "ts-server: "));
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (actors_fixture_run_client (f, no_url, NULL, &err), ==, 2);
  g_assert_true (g_str_has_prefix (err, "ts-client: "));
  g_assert_cmpint (actors_fixture_run_client (f, scheme, NULL, NULL), ==, 2);
  g_assert_cmpint (actors_fixture_run_client (f, proxy, NULL, NULL), ==, 2);
  /* Nothing listens there: a failure, not a usage error. */
  {
    g_autofree char *u = g_strdup_printf ("http://127.0.0.1:%d/", actors_fixture_free_port ());
    const char *args[] = { u, NULL };
    g_assert_cmpint (actors_fixture_run_client (f, args, NULL, NULL), ==, 1);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  ADD ("client-server/http-get", test_http_get);
  ADD ("client-server/https-get", test_https_get);
  ADD ("client-server/tls12", test_tls12);
  ADD ("client-server/orders", test_orders);
  ADD ("client-server/chunked-keep-alive", test_chunked_keep_alive);
  ADD ("client-server/websocket", test_websocket);
  ADD ("client-server/pin", test_pin);
  ADD ("client-server/trust", test_trust);
  ADD ("client-server/udp-echo", test_udp_echo);
  ADD ("client-server/dns", test_dns);
  ADD ("server/malformed", test_malformed);
  ADD ("client-server/text-report", test_text_report);
  ADD ("server/smtp", test_smtp);
  ADD ("server/robustness", test_robustness);
  ADD ("server/download", test_download);
  ADD ("server/http10-and-pipelining", test_http10_and_pipelining);
  ADD ("server/websocket-frames", test_websocket_frames);
  g_test_add ("/ts/sim/actors/server/dual-stack", Fixture, NULL, setup_dual_stack, test_dual_stack,
              actors_fixture_teardown);
  ADD ("usage", test_usage);
  return g_test_run ();
}
