/* ts-tls-keylog.h: a store of TLS secrets from NSS key log lines, fed incrementally.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * The NSS key log format (what SSLKEYLOGFILE, SSL_CTX_set_keylog_callback and
 * a pcapng Decryption Secrets Block of type 0x544c534b hold): one secret per
 * line,
 *
 *     LABEL <client_random: 64 hex digits> <secret: hex>
 *
 * Lines starting with '#' and empty lines are ignored; CRLF is accepted.
 *
 * A TsTlsKeylog is shared by every TsTlsSession of an analysis (reference
 * counted). It may be fed at any time, before or after the sessions whose
 * secrets it carries: a session asks it again each time it is fed (cheaply:
 * it compares ts_tls_keylog_get_generation()), so a secret that arrives after
 * its ClientHello still decrypts the records the session held back (see
 * TS_TLS_PENDING_CAP in ts-tls-session.h).
 *
 * Not thread-safe: use it from one thread (the analyzer's).
 */

typedef enum
{
  TS_TLS_SECRET_CLIENT_RANDOM = 0,        /* TLS 1.2 (and below): the 48-byte master secret */
  TS_TLS_SECRET_CLIENT_EARLY_TRAFFIC,     /* CLIENT_EARLY_TRAFFIC_SECRET */
  TS_TLS_SECRET_CLIENT_HANDSHAKE_TRAFFIC, /* CLIENT_HANDSHAKE_TRAFFIC_SECRET */
  TS_TLS_SECRET_SERVER_HANDSHAKE_TRAFFIC, /* SERVER_HANDSHAKE_TRAFFIC_SECRET */
  TS_TLS_SECRET_CLIENT_TRAFFIC_0,         /* CLIENT_TRAFFIC_SECRET_0 */
  TS_TLS_SECRET_SERVER_TRAFFIC_0,         /* SERVER_TRAFFIC_SECRET_0 */
  TS_TLS_SECRET_EARLY_EXPORTER,           /* EARLY_EXPORTER_SECRET */
  TS_TLS_SECRET_EXPORTER,                 /* EXPORTER_SECRET */
  TS_TLS_N_SECRET_KINDS
} TsTlsSecretKind;

/* Longest secret we store: SHA-384 output, and the 48-byte master secret. */
#define TS_TLS_SECRET_MAX 64

/* Cap on one key log line we keep while waiting for its end (a valid line is
 * at most about 31 + 1 + 64 + 1 + 128 characters). Longer lines are dropped. */
#define TS_TLS_KEYLOG_LINE_CAP 1024

/* Cap on the number of client randoms held (about 600 bytes each): a trace
 * with more TLS sessions than this keeps the first ones and reports the rest
 * as dropped through ts_tls_keylog_get_n_dropped(). */
#define TS_TLS_KEYLOG_ENTRY_CAP (1u << 20)

typedef struct _TsTlsKeylog TsTlsKeylog;

/* A new empty store (transfer full). */
TsTlsKeylog *ts_tls_keylog_new (void);
TsTlsKeylog *ts_tls_keylog_ref (TsTlsKeylog *self);
void ts_tls_keylog_unref (TsTlsKeylog *self);

/* Feeds key log text: any chunking (a line may be split across calls; the
 * tail without a newline is kept until the next call or
 * ts_tls_keylog_end()). Unknown labels and malformed lines are counted
 * (ts_tls_keylog_get_n_malformed) and skipped, never fatal.
 * Returns the number of new secrets stored by this call. */
guint ts_tls_keylog_feed (TsTlsKeylog *self, const char *text, gsize len);

/* Takes the last line even without its newline (end of a file or of a DSB). */
guint ts_tls_keylog_end (TsTlsKeylog *self);

/* Loads a whole key log file. FALSE with @error (G_FILE_ERROR) if it cannot
 * be read; malformed lines inside are skipped as with _feed. */
gboolean ts_tls_keylog_load_file (TsTlsKeylog *self, const char *path, GError **error);

/* Looks up one secret for the session with @client_random (32 bytes).
 * Returns TRUE and sets *@out_secret (borrowed: valid while @self lives, it
 * does not move when secrets are added) and *@out_len; FALSE if unknown. */
gboolean ts_tls_keylog_lookup (TsTlsKeylog *self, const guint8 *client_random, TsTlsSecretKind kind,
                               const guint8 **out_secret, gsize *out_len);

/* Grows by one each time a secret is added: sessions compare it to retry. */
guint64 ts_tls_keylog_get_generation (TsTlsKeylog *self);

guint ts_tls_keylog_get_n_secrets (TsTlsKeylog *self);
guint ts_tls_keylog_get_n_malformed (TsTlsKeylog *self);
guint ts_tls_keylog_get_n_dropped (TsTlsKeylog *self);

/* "CLIENT_RANDOM", "SERVER_TRAFFIC_SECRET_0", ... or NULL. */
const char *ts_tls_secret_kind_to_string (guint kind);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TsTlsKeylog, ts_tls_keylog_unref)

G_END_DECLS
