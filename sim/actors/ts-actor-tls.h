/* ts-actor-tls.h: what ts-server and ts-client share about TLS: key logging
 * (lab contract), versions, and how a certificate is described and pinned.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

G_BEGIN_DECLS

/* Installs the key log callback on @ctx: each NSS key log line is appended
 * (one write(2), O_APPEND) to the file named by $SSLKEYLOGFILE at the time
 * of the handshake; nothing happens when it is unset. */
void ts_actor_tls_set_keylog (SSL_CTX *ctx);

/* Parses "1.2" or "1.3" (also "tls1.2", "TLSv1.3") into TLS1_2_VERSION or
 * TLS1_3_VERSION; 0 when @text is something else. */
int ts_actor_tls_parse_version (const char *text);

/* The subject or issuer as an RFC 2253 string ("CN=example.com,O=..."),
 * transfer full. */
char *ts_actor_tls_dup_name (const X509_NAME *name);

/* SHA-256 of the DER certificate as upper-case hex pairs joined by ':'
 * (the form openssl x509 -fingerprint prints). Transfer full. */
char *ts_actor_tls_dup_fingerprint (X509 *cert);

/* The public-key pin of @cert: "sha256//" base64 (SHA-256 (DER
 * SubjectPublicKeyInfo)), as curl's --pinnedpubkey and HPKP write it.
 * Transfer full; NULL when the key cannot be encoded. */
char *ts_actor_tls_dup_pin (X509 *cert);

/* TRUE when @pin_list ("sha256//A" or "sha256//A;sha256//B") names the pin
 * @pin. */
gboolean ts_actor_tls_pin_matches (const char *pin_list, const char *pin);

/* TRUE when every entry of @pin_list is "sha256//" followed by the base64
 * of 32 bytes. */
gboolean ts_actor_tls_pin_list_is_valid (const char *pin_list);

/* The most recent OpenSSL error queue as one line, and clears the queue.
 * Transfer full; "unknown error" when the queue is empty. */
char *ts_actor_tls_dup_error (void);

G_END_DECLS
