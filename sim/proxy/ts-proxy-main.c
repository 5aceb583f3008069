/* ts-proxy-main.c: ts-proxy's command line.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define _GNU_SOURCE
#include "config.h"

#include "ts-proxy.h"
#include "ts-lab-pki.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char summary[]
    = "A forward proxy for the Tunnelscope lab (HTTP/1.1).\n"
      "\n"
      "Modes:\n"
      "  plain forwarding   GET http://host/path ... is sent on in origin-form (or in\n"
      "                     absolute-form to a parent), Host regenerated, hop-by-hop\n"
      "                     fields removed, Via added both ways; the client's\n"
      "                     connection is kept for its next request when the\n"
      "                     response's end is known (one origin connection each).\n"
      "  CONNECT tunnel     CONNECT host:port: port policy (--connect-ports), a TCP\n"
      "                     connection to the target, 200, then a blind relay (splice).\n"
      "  authentication     --auth USER:PASS asks clients for Basic credentials (407).\n"
      "  chaining           --parent HOST:PORT sends everything through a parent proxy\n"
      "                     (CONNECT for tunnels); chains nest to any depth.\n"
      "  interception       --intercept: after 200, TLS from the client is terminated\n"
      "                     with a leaf minted per SNI by the Intercept CA (ALPN\n"
      "                     http/1.1 only: a client offering only h2 gets an\n"
      "                     alert), the origin is verified against the Lab Web\n"
      "                     Root CA, and the decrypted HTTP is relayed and logged.\n"
      "                     Bytes that are not TLS are relayed blind.\n"
      "\n"
      "Refusals: 400 malformed, 403 port or target not allowed (loopback, link-local,\n"
      "the proxy's own addresses), 407 credentials, 408 slow head, 414/431 too large,\n"
      "501 unsupported transfer coding or scheme, 502 unreachable or unresolvable,\n"
      "503 too many connections, 504 timeout. See sim/proxy/HOSTILE.md.\n"
      "\n"
      "Environment: TS_EVENTS (events, one line each), TS_NODE (node name),\n"
      "SSLKEYLOGFILE (TLS secrets of both legs), TS_PKI_DIR (default CA files),\n"
      "TS_WEB_CA (trust anchor for origins).\n"
      "\n"
      "Access log line: TIME CLIENT STATUS METHOD TARGET BYTES_UP BYTES_DOWN MS VIA";

static char *
basic_b64 (const char *user_pass)
{
  return g_base64_encode ((const guchar *)user_pass, strlen (user_pass));
}

static void
options_clear (TsProxyOptions *o)
{
  g_free (o->listen);
  g_free (o->port_file);
  if (o->connect_ports)
    g_array_unref (o->connect_ports);
  if (o->http_ports)
    g_array_unref (o->http_ports);
  g_free (o->auth_b64);
  g_free (o->parent_host);
  g_free (o->parent_auth_b64);
  g_free (o->ca_cert);
  g_free (o->ca_key);
  g_free (o->web_ca);
  g_free (o->access_log);
  g_free (o->node);
  g_free (o->keylog);
  memset (o, 0, sizeof *o);
}

static int
run (int argc, char **argv, TsProxyOptions *po)
{
  g_autoptr (GOptionContext) ctx = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *connect_ports = NULL, *http_ports = NULL, *auth = NULL, *parent = NULL,
                  *parent_auth = NULL;
  int port = 3128, header_timeout = 20, connect_timeout = 10, idle_timeout = 600, max_conns = 4096,
      leaf_lifetime = 3600, busy_poll = 100;
  GOptionEntry entries[] = {
    { "port", 'p', 0, G_OPTION_ARG_INT, &port, "Port to listen on (default 3128; 0: any)", "PORT" },
    { "listen", 'l', 0, G_OPTION_ARG_STRING, &po->listen, "Address to listen on (default: all)",
      "ADDR" },
    { "port-file", 0, 0, G_OPTION_ARG_FILENAME, &po->port_file,
      "Write the bound port to FILE once listening", "FILE" },
    { "connect-ports", 0, 0, G_OPTION_ARG_STRING, &connect_ports,
      "Ports CONNECT may reach (default 443; empty: none, every CONNECT refused)", "LIST" },
    { "http-ports", 0, 0, G_OPTION_ARG_STRING, &http_ports,
      "Ports plain forwarding may reach (default 80,443,1025-65535; empty: none)", "LIST" },
    { "auth", 'a', 0, G_OPTION_ARG_STRING, &auth,
      "Require Basic Proxy-Authorization with these credentials", "USER:PASS" },
    { "parent", 0, 0, G_OPTION_ARG_STRING, &parent, "Send everything through a parent proxy",
      "HOST:PORT" },
    { "parent-auth", 0, 0, G_OPTION_ARG_STRING, &parent_auth,
      "Basic credentials for the parent proxy", "USER:PASS" },
    { "intercept", 'i', 0, G_OPTION_ARG_NONE, &po->intercept,
      "Intercept TLS inside CONNECT tunnels", NULL },
    { "ca-cert", 0, 0, G_OPTION_ARG_FILENAME, &po->ca_cert,
      "Intercept CA certificate (default $TS_PKI_DIR/intercept-ca.pem)", "FILE" },
    { "ca-key", 0, 0, G_OPTION_ARG_FILENAME, &po->ca_key,
      "Intercept CA key (default $TS_PKI_DIR/intercept-ca.key)", "FILE" },
    { "web-ca", 0, 0, G_OPTION_ARG_FILENAME, &po->web_ca,
      "CA that origins must chain to when intercepting (default $TS_WEB_CA, else "
      "$TS_PKI_DIR/web-ca.pem)",
      "FILE" },
    { "leaf-lifetime", 0, 0, G_OPTION_ARG_INT, &leaf_lifetime,
      "Lifetime of minted leaves in seconds: short, as an intercepting proxy's are (default "
      "3600, 120 to 2592000: 30 days)",
      "S" },
    { "header-timeout", 0, 0, G_OPTION_ARG_INT, &header_timeout,
      "Seconds a client has to send its request head or TLS handshake (default 20)", "S" },
    { "connect-timeout", 0, 0, G_OPTION_ARG_INT, &connect_timeout,
      "Seconds to resolve and reach a target or parent, else 504 (default 10)", "S" },
    { "idle-timeout", 0, 0, G_OPTION_ARG_INT, &idle_timeout,
      "Seconds a relay may stay silent before it is closed (default 600)", "S" },
    { "max-connections", 0, 0, G_OPTION_ARG_INT, &max_conns,
      "Client connections served at once; beyond, 503 (default 4096)", "N" },
    { "busy-poll", 0, 0, G_OPTION_ARG_INT, &busy_poll,
      "After a request, poll for the next one without sleeping for up to USEC microseconds, "
      "yielding the CPU between polls (0: never; default 100, at most 100000). An idle proxy "
      "does not spin",
      "USEC" },
    { "access-log", 0, 0, G_OPTION_ARG_FILENAME, &po->access_log,
      "Access log: a file, - for standard output (default) or none", "FILE" },
    { "keylog", 0, 0, G_OPTION_ARG_FILENAME, &po->keylog,
      "NSS key log file for both TLS legs (default $SSLKEYLOGFILE)", "FILE" },
    { "node", 0, 0, G_OPTION_ARG_STRING, &po->node,
      "Node name in events (default $TS_NODE or proxy)", "NAME" },
    { "allow-loopback-targets", 0, 0, G_OPTION_ARG_NONE, &po->allow_loopback,
      "For tests only: allow targets on loopback and on the proxy's own addresses (never the "
      "proxy's own port)",
      NULL },
    { NULL },
  };

  ctx = g_option_context_new ("- Tunnelscope forward proxy");
  g_option_context_set_summary (ctx, summary);
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("ts-proxy: %s (try --help)\n", error->message);
      return 2;
    }
  if (argc > 1)
    {
      g_printerr ("ts-proxy: unexpected argument %s (try --help)\n", argv[1]);
      return 2;
    }
  {
    /* Each value out of its range is named, with the range. */
    static const struct
    {
      const char *option;
      gint64 min, max;
    } ranges[] = {
      { "--port", 0, 65535 },
      { "--header-timeout", 1, G_MAXINT },
      { "--connect-timeout", 1, G_MAXINT },
      { "--idle-timeout", 1, G_MAXINT },
      { "--max-connections", 1, G_MAXINT },
      { "--leaf-lifetime", 120, TS_PROXY_LEAF_LIFETIME_MAX },
      { "--busy-poll", 0, 100000 },
    };
    const gint64 values[] = { port,      header_timeout, connect_timeout, idle_timeout,
                              max_conns, leaf_lifetime,  busy_poll };

    G_STATIC_ASSERT (G_N_ELEMENTS (ranges) == G_N_ELEMENTS (values));
    for (guint i = 0; i < G_N_ELEMENTS (ranges); i++)
      if (values[i] < ranges[i].min || values[i] > ranges[i].max)
        {
          if (ranges[i].max == G_MAXINT)
            g_printerr ("ts-proxy: %s=%" G_GINT64_FORMAT ": must be at least %" G_GINT64_FORMAT
                        " (try --help)\n",
                        ranges[i].option, values[i], ranges[i].min);
          else
            g_printerr ("ts-proxy: %s=%" G_GINT64_FORMAT ": must be %" G_GINT64_FORMAT
                        " to %" G_GINT64_FORMAT " (try --help)\n",
                        ranges[i].option, values[i], ranges[i].min, ranges[i].max);
          return 2;
        }
  }
  po->port = port;
  po->header_timeout_s = header_timeout;
  po->connect_timeout_s = connect_timeout;
  po->idle_timeout_s = idle_timeout;
  po->max_connections = max_conns;
  po->leaf_lifetime_s = leaf_lifetime;
  po->busy_poll_us = busy_poll;
  po->connect_ports = ts_proxy_parse_ports (connect_ports ? connect_ports : "443", &error);
  if (po->connect_ports == NULL)
    {
      g_printerr ("ts-proxy: --connect-ports: %s\n", error->message);
      return 2;
    }
  po->http_ports = ts_proxy_parse_ports (http_ports ? http_ports : "80,443,1025-65535", &error);
  if (po->http_ports == NULL)
    {
      g_printerr ("ts-proxy: --http-ports: %s\n", error->message);
      return 2;
    }
  if (auth)
    {
      if (strchr (auth, ':') == NULL)
        {
          g_printerr ("ts-proxy: --auth needs USER:PASS\n");
          return 2;
        }
      po->auth_b64 = basic_b64 (auth);
    }
  if (parent)
    {
      const char *colon = strrchr (parent, ':');
      guint64 pp;

      if (colon == NULL || !g_ascii_string_to_unsigned (colon + 1, 10, 1, 65535, &pp, NULL))
        {
          g_printerr ("ts-proxy: --parent needs HOST:PORT\n");
          return 2;
        }
      if (parent[0] == '[' && colon > parent + 1 && colon[-1] == ']')
        po->parent_host = g_strndup (parent + 1, colon - parent - 2);
      else
        po->parent_host = g_strndup (parent, colon - parent);
      /* An empty host, or brackets that do not enclose the whole host. */
      if (po->parent_host[0] == 0 || strpbrk (po->parent_host, "[]") != NULL)
        {
          g_printerr ("ts-proxy: --parent needs HOST:PORT ([ADDR]:PORT for IPv6), not %s\n",
                      parent);
          return 2;
        }
      po->parent_port = pp;
    }
  if (parent_auth)
    {
      if (parent == NULL)
        {
          g_printerr ("ts-proxy: --parent-auth needs --parent\n");
          return 2;
        }
      if (strchr (parent_auth, ':') == NULL)
        {
          g_printerr ("ts-proxy: --parent-auth needs USER:PASS\n");
          return 2;
        }
      po->parent_auth_b64 = basic_b64 (parent_auth);
    }
  if (po->node == NULL)
    po->node = g_strdup (g_getenv ("TS_NODE") ? g_getenv ("TS_NODE") : "proxy");
  if (po->keylog != NULL && *po->keylog)
    {
      /* Asked for by name, the key log must be writable (from
       * $SSLKEYLOGFILE it is best effort, as in curl: ts-proxy warns). */
      int fd = open (po->keylog, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);

      if (fd < 0)
        {
          g_printerr ("ts-proxy: cannot open key log %s: %s\n", po->keylog, g_strerror (errno));
          return 1;
        }
      close (fd);
    }
  if (po->keylog == NULL && g_getenv ("SSLKEYLOGFILE"))
    po->keylog = g_strdup (g_getenv ("SSLKEYLOGFILE"));
  if (po->intercept)
    {
      const char *pki_dir = g_getenv ("TS_PKI_DIR");
      TsLabPki pki = { 0 };

      if ((po->ca_cert == NULL || po->ca_key == NULL
           || (po->web_ca == NULL && !g_getenv ("TS_WEB_CA")))
          && pki_dir == NULL)
        {
          /* No lab around: use (and create) the user's lab PKI. */
          if (!ts_lab_pki_ensure (NULL, &pki, &error))
            {
              g_printerr ("ts-proxy: %s\n", error->message);
              return 1;
            }
          pki_dir = pki.dir;
        }
      if (po->ca_cert == NULL)
        po->ca_cert = g_build_filename (pki_dir, "intercept-ca.pem", NULL);
      if (po->ca_key == NULL)
        po->ca_key = g_build_filename (pki_dir, "intercept-ca.key", NULL);
      if (po->web_ca == NULL)
        po->web_ca = g_getenv ("TS_WEB_CA") ? g_strdup (g_getenv ("TS_WEB_CA"))
                                            : g_build_filename (pki_dir, "web-ca.pem", NULL);
      ts_lab_pki_clear (&pki);
    }
  return ts_proxy_run (po);
}

int
main (int argc, char **argv)
{
  TsProxyOptions o = { 0 };
  int status = run (argc, argv, &o);

  options_clear (&o);
  return status;
}
