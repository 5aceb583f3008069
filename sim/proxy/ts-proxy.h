/* ts-proxy.h: what the files of ts-proxy share: options, connections, the
 * event loop's entry points.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

G_BEGIN_DECLS

/* A port list such as "443" or "80,443,1025-65535". */
typedef struct
{
  guint16 lo, hi;
} TsPortRange;

/* Longest life of a minted leaf (--leaf-lifetime), seconds: 30 days. */
#define TS_PROXY_LEAF_LIFETIME_MAX (30 * 24 * 3600)

typedef struct
{
  char *listen;          /* address to listen on, NULL: all */
  int port;              /* 3128 */
  char *port_file;       /* where to write the bound port, or NULL */
  GArray *connect_ports; /* of TsPortRange: CONNECT targets allowed */
  GArray *http_ports;    /* of TsPortRange: plain-forwarding targets allowed */
  char *auth_b64;        /* expected Basic credentials (base64), or NULL */
  char *parent_host;     /* parent proxy, or NULL */
  guint16 parent_port;
  char *parent_auth_b64; /* credentials for the parent (base64), or NULL */
  gboolean intercept;
  char *ca_cert, *ca_key; /* Intercept CA */
  char *web_ca;           /* trust anchor for origins when intercepting */
  guint leaf_lifetime_s;
  gboolean allow_loopback;
  guint header_timeout_s;
  guint connect_timeout_s;
  guint idle_timeout_s;
  guint max_connections;
  guint busy_poll_us; /* after a request, poll without sleeping this long (0: never) */
  char *access_log; /* "-" stdout, "none", or a file */
  char *node;       /* node name in events */
  char *keylog;     /* NSS key log file, or NULL */
} TsProxyOptions;

/* Parses "80,443,1025-65535"; NULL on error. */
GArray *ts_proxy_parse_ports (const char *text, GError **error);
gboolean ts_proxy_port_allowed (const GArray *ranges, guint port);

/* Runs the proxy until SIGTERM or SIGINT. Returns the exit status. */
int ts_proxy_run (TsProxyOptions *opts);

G_END_DECLS
