/* ts-lab-pki.h: the lab's PKI: a Lab Web Root CA (stands for the public web
 * PKI), the origin's example.com certificate, and the Intercept CA of the
 * intercepting proxy; plus minting of short-lived leaves.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Both CAs carry critical X.509 nameConstraints that permit only the lab's
 * names and address ranges, so neither is of any use outside the lab:
 *
 *   DNS  example.com  (example.com and every name below it)
 *   DNS  test         (every NAME.test)
 *   IP   192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32
 *
 * (OpenSSL leaves IP addresses unchecked when only DNS names are
 * constrained, hence the address ranges.) Keys are EC P-256.
 *
 * Files under the PKI directory (0700):
 *
 *   web-ca.pem, web-ca.key              Lab Web Root CA (key 0600)
 *   server.pem, server.key              example.com leaf signed by it
 *   intercept-ca.pem, intercept-ca.key  Intercept CA (key 0600)
 */
#pragma once

#include <glib.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

G_BEGIN_DECLS

#define TS_LAB_PKI_ERROR (ts_lab_pki_error_quark ())
GQuark ts_lab_pki_error_quark (void);

typedef enum
{
  TS_LAB_PKI_ERROR_IO,      /* a file or directory could not be made or read */
  TS_LAB_PKI_ERROR_CRYPTO,  /* OpenSSL failed; the message holds its reason */
  TS_LAB_PKI_ERROR_INVALID, /* a name or an existing file is not usable */
} TsLabPkiError;

/* Lifetimes. The CAs live long; the origin's certificate is renewed by
 * ts_lab_pki_ensure () when less than a day of it is left. */
#define TS_LAB_PKI_CA_LIFETIME_S (10u * 365 * 24 * 3600)
#define TS_LAB_PKI_SERVER_LIFETIME_S (30u * 24 * 3600)
/* Longest name ts_lab_pki_mint_leaf () accepts (RFC 1035 §2.3.4). */
#define TS_LAB_PKI_MAX_NAME 253

typedef struct
{
  char *dir;         /* the PKI directory */
  char *web_ca_cert; /* path: Lab Web Root CA certificate (PEM) */
  char *web_ca_key;  /* path: its key (PEM, 0600) */
  char *server_cert; /* path: example.com leaf (SANs: example.com, *.example.com, and the
                        lab names *.test), signed by the Web Root CA, PEM */
  char *server_key;
  char *intercept_ca_cert; /* path: Intercept CA certificate (PEM) */
  char *intercept_ca_key;
} TsLabPki;

/* Creates what is missing under @dir (NULL: $XDG_DATA_HOME/tunnelscope/pki,
 * i.e. g_get_user_data_dir()), directory 0700, keys 0600; returns the paths.
 * Safe against two processes creating at once: creation happens under an
 * flock(2) on DIR/.lock and every file is written to a temporary name and
 * renamed, so a reader never sees a partial file. When a CA is (re)created,
 * the certificates it signs are re-issued too. Fills @out (clear it with
 * ts_lab_pki_clear ()); on failure returns FALSE with @error and leaves @out
 * zeroed. */
gboolean ts_lab_pki_ensure (const char *dir, TsLabPki *out, GError **error);

/* Frees the paths in @pki and zeroes it; safe on a zeroed struct. */
void ts_lab_pki_clear (TsLabPki *pki);

/* Mints a leaf for @name (a DNS name or an IP literal) signed by
 * @ca_cert/@ca_key, with its own new key (EC P-256), short life
 * (@lifetime_s, backdated a minute; never outside the CA's validity),
 * SAN = name. Returns the certificate (transfer full) and its key in
 * @out_key (transfer full), or NULL with @error when @name is not a
 * plausible DNS name or IP literal or OpenSSL fails. Names outside the CA's nameConstraints are
 * minted all the same: verification is what rejects them. */
X509 *ts_lab_pki_mint_leaf (X509 *ca_cert, EVP_PKEY *ca_key, const char *name, guint lifetime_s,
                            EVP_PKEY **out_key, GError **error);

/* Helpers for consumers: read a PEM certificate or private key file.
 * Transfer full; NULL with @error on failure. */
X509 *ts_lab_pki_load_cert (const char *path, GError **error);
EVP_PKEY *ts_lab_pki_load_key (const char *path, GError **error);

G_END_DECLS
