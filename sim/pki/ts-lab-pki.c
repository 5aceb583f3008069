/* ts-lab-pki.c: creates and reuses the lab's CAs and the origin's certificate;
 * mints short-lived leaves.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define _GNU_SOURCE
#include "ts-lab-pki.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

G_DEFINE_QUARK (ts - lab - pki - error - quark, ts_lab_pki_error)

G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509, X509_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_PKEY, EVP_PKEY_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BIO, BIO_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509_NAME, X509_NAME_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GENERAL_NAMES, GENERAL_NAMES_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509_EXTENSION, X509_EXTENSION_free)

/* What the lab's CAs permit (see the header). OpenSSL matches a DNS
 * subtree "example.com" against the name itself and any name ending in
 * ".example.com", so no leading dot is wanted. */
#define TS_LAB_NAME_CONSTRAINTS                                                                    \
  "critical,"                                                                                      \
  "permitted;DNS:example.com,"                                                                     \
  "permitted;DNS:test,"                                                                            \
  "permitted;IP:192.0.2.0/255.255.255.0,"                                                          \
  "permitted;IP:198.51.100.0/255.255.255.0,"                                                       \
  "permitted;IP:203.0.113.0/255.255.255.0,"                                                        \
  "permitted;IP:2001:db8::/ffff:ffff::"

/* The origin's names. OpenSSL's host check ignores a wildcard with fewer
 * than two labels after it, so the usual lab names of the origin are listed
 * besides "*.test". */
static const char *const server_names[] = {
  "example.com", "*.example.com", "*.test", "server.test", "origin.test", "www.test",
};

static gboolean
set_crypto_error (GError **error, const char *what)
{
  unsigned long e = ERR_get_error ();
  char buf[256] = "unknown reason";

  if (e != 0)
    ERR_error_string_n (e, buf, sizeof buf);
  ERR_clear_error ();
  g_set_error (error, TS_LAB_PKI_ERROR, TS_LAB_PKI_ERROR_CRYPTO, "%s: %s", what, buf);
  return FALSE;
}

static EVP_PKEY *
new_key (GError **error)
{
  EVP_PKEY *key = EVP_PKEY_Q_keygen (NULL, NULL, "EC", "P-256");

  if (key == NULL)
    set_crypto_error (error, "EC P-256 key generation failed");
  return key;
}

static gboolean
set_random_serial (X509 *x)
{
  guint8 bytes[16];
  BIGNUM *bn;
  gboolean ok;

  if (RAND_bytes (bytes, sizeof bytes) != 1)
    return FALSE;
  bytes[0] &= 0x7f; /* positive, at most 20 octets (RFC 5280 §4.1.2.2) */
  bytes[0] |= 0x40; /* and never short */
  bn = BN_bin2bn (bytes, sizeof bytes, NULL);
  ok = bn != NULL && BN_to_ASN1_INTEGER (bn, X509_get_serialNumber (x)) != NULL;
  BN_free (bn);
  return ok;
}

static gboolean
add_ext_conf (X509 *x, X509 *issuer, int nid, const char *value)
{
  X509V3_CTX ctx;
  g_autoptr (X509_EXTENSION) ext = NULL;

  X509V3_set_ctx (&ctx, issuer, x, NULL, NULL, 0);
  ext = X509V3_EXT_nconf_nid (NULL, &ctx, nid, value);
  return ext != NULL && X509_add_ext (x, ext, -1) == 1;
}

/* A certificate with validity [now - @backdate_s, now + @lifetime_s] and
 * subject CN=@cn (when not NULL), O=Tunnelscope Lab. */
static X509 *
new_cert (const char *cn, EVP_PKEY *key, guint backdate_s, guint lifetime_s)
{
  g_autoptr (X509) x = X509_new ();
  X509_NAME *name;

  if (x == NULL || X509_set_version (x, X509_VERSION_3) != 1 || !set_random_serial (x))
    return NULL;
  if (X509_gmtime_adj (X509_getm_notBefore (x), -(long)backdate_s) == NULL
      || X509_gmtime_adj (X509_getm_notAfter (x), (long)lifetime_s) == NULL)
    return NULL;
  name = X509_get_subject_name (x);
  if (X509_NAME_add_entry_by_txt (name, "O", MBSTRING_UTF8, (const guint8 *)"Tunnelscope Lab", -1,
                                  -1, 0)
      != 1)
    return NULL;
  if (cn != NULL
      && X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_UTF8, (const guint8 *)cn, -1, -1, 0) != 1)
    return NULL;
  if (X509_set_pubkey (x, key) != 1)
    return NULL;
  return g_steal_pointer (&x);
}

static X509 *
make_ca (const char *cn, EVP_PKEY *key, GError **error)
{
  g_autoptr (X509) x = new_cert (cn, key, 60, TS_LAB_PKI_CA_LIFETIME_S);

  if (x == NULL || X509_set_issuer_name (x, X509_get_subject_name (x)) != 1
      || !add_ext_conf (x, x, NID_basic_constraints, "critical,CA:TRUE,pathlen:0")
      || !add_ext_conf (x, x, NID_key_usage, "critical,keyCertSign,cRLSign")
      || !add_ext_conf (x, x, NID_subject_key_identifier, "hash")
      || !add_ext_conf (x, x, NID_name_constraints, TS_LAB_NAME_CONSTRAINTS))
    {
      set_crypto_error (error, "building a CA certificate failed");
      return NULL;
    }
  if (X509_sign (x, key, EVP_sha256 ()) == 0)
    {
      set_crypto_error (error, "self-signing a CA certificate failed");
      return NULL;
    }
  return g_steal_pointer (&x);
}

/* A DNS name (letters, digits, '-', '_', '.', a leading "*." allowed) or an
 * IP literal. Returns the IP as an octet string when it is one. */
static gboolean
check_name (const char *name, ASN1_OCTET_STRING **out_ip, GError **error)
{
  gsize len = strlen (name);

  *out_ip = NULL;
  if (len == 0 || len > TS_LAB_PKI_MAX_NAME)
    {
      g_set_error (error, TS_LAB_PKI_ERROR, TS_LAB_PKI_ERROR_INVALID,
                   "name of %" G_GSIZE_FORMAT " bytes (1 to %d allowed)", len, TS_LAB_PKI_MAX_NAME);
      return FALSE;
    }
  *out_ip = a2i_IPADDRESS (name);
  if (*out_ip != NULL)
    return TRUE;
  ERR_clear_error ();
  for (gsize i = 0; i < len; i++)
    {
      char c = name[i];

      if (g_ascii_isalnum (c) || c == '-' || c == '_' || c == '.' || (c == '*' && i == 0))
        continue;
      g_set_error (error, TS_LAB_PKI_ERROR, TS_LAB_PKI_ERROR_INVALID,
                   "name \"%s\" holds byte 0x%02x at %" G_GSIZE_FORMAT
                   " (a DNS name or IP literal is needed)",
                   name, (guint8)c, i);
      return FALSE;
    }
  if (name[0] == '*' && name[1] != '.')
    {
      g_set_error (error, TS_LAB_PKI_ERROR, TS_LAB_PKI_ERROR_INVALID,
                   "name \"%s\": a wildcard must be a whole first label", name);
      return FALSE;
    }
  return TRUE;
}

/* Adds the names as a subjectAltName (critical when the subject holds no
 * CN, RFC 5280 §4.2.1.6). */
static gboolean
add_san (X509 *x, const char *const *names, gsize n_names, gboolean critical, GError **error)
{
  g_autoptr (GENERAL_NAMES) gens = sk_GENERAL_NAME_new_null ();

  for (gsize i = 0; i < n_names; i++)
    {
      ASN1_OCTET_STRING *ip = NULL;
      GENERAL_NAME *gen;

      if (!check_name (names[i], &ip, error))
        return FALSE;
      gen = GENERAL_NAME_new ();
      if (ip != NULL)
        GENERAL_NAME_set0_value (gen, GEN_IPADD, ip);
      else
        {
          ASN1_IA5STRING *dns = ASN1_IA5STRING_new ();

          ASN1_STRING_set (dns, names[i], -1);
          GENERAL_NAME_set0_value (gen, GEN_DNS, dns);
        }
      sk_GENERAL_NAME_push (gens, gen);
    }
  if (X509_add1_ext_i2d (x, NID_subject_alt_name, gens, critical, X509V3_ADD_DEFAULT) != 1)
    return set_crypto_error (error, "adding subjectAltName failed");
  return TRUE;
}

/* A leaf for @names, signed by the CA. The CN is the first name when it is
 * a DNS name of at most 64 bytes: an IP literal in the CN would be taken
 * for a DNS name by name-constraint checks. */
static X509 *
make_leaf (X509 *ca_cert, EVP_PKEY *ca_key, const char *const *names, gsize n_names,
           guint lifetime_s, EVP_PKEY *key, GError **error)
{
  g_autoptr (X509) x = NULL;
  ASN1_OCTET_STRING *ip = NULL;
  const char *cn = names[0];

  if (!check_name (names[0], &ip, error))
    return NULL;
  if (ip != NULL || strlen (cn) > 64)
    cn = NULL;
  ASN1_OCTET_STRING_free (ip);
  x = new_cert (cn, key, 60, lifetime_s);
  /* Its validity within its CA's (RFC 5280 §6.1.3 checks each certificate
   * of the path at the same time): a long --leaf-lifetime, or a CA made a
   * moment ago, must not give a leaf that outlives or predates its CA. */
  if (x != NULL && ASN1_TIME_compare (X509_get0_notAfter (x), X509_get0_notAfter (ca_cert)) > 0
      && X509_set1_notAfter (x, X509_get0_notAfter (ca_cert)) != 1)
    g_clear_pointer (&x, X509_free);
  if (x != NULL && ASN1_TIME_compare (X509_get0_notBefore (x), X509_get0_notBefore (ca_cert)) < 0
      && X509_set1_notBefore (x, X509_get0_notBefore (ca_cert)) != 1)
    g_clear_pointer (&x, X509_free);
  if (x == NULL || X509_set_issuer_name (x, X509_get_subject_name (ca_cert)) != 1
      || !add_ext_conf (x, ca_cert, NID_basic_constraints, "critical,CA:FALSE")
      || !add_ext_conf (x, ca_cert, NID_key_usage, "critical,digitalSignature")
      || !add_ext_conf (x, ca_cert, NID_ext_key_usage, "serverAuth")
      || !add_ext_conf (x, ca_cert, NID_subject_key_identifier, "hash")
      || !add_ext_conf (x, ca_cert, NID_authority_key_identifier, "keyid:always"))
    {
      set_crypto_error (error, "building a leaf certificate failed");
      return NULL;
    }
  if (!add_san (x, names, n_names, FALSE, error))
    return NULL;
  if (X509_sign (x, ca_key, EVP_sha256 ()) == 0)
    {
      set_crypto_error (error, "signing a leaf certificate failed");
      return NULL;
    }
  return g_steal_pointer (&x);
}

X509 *
ts_lab_pki_mint_leaf (X509 *ca_cert, EVP_PKEY *ca_key, const char *name, guint lifetime_s,
                      EVP_PKEY **out_key, GError **error)
{
  g_autoptr (EVP_PKEY) key = NULL;
  X509 *x;

  g_return_val_if_fail (ca_cert != NULL, NULL);
  g_return_val_if_fail (ca_key != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (out_key != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  key = new_key (error);
  if (key == NULL)
    return NULL;
  x = make_leaf (ca_cert, ca_key, &name, 1, lifetime_s, key, error);
  if (x != NULL)
    *out_key = g_steal_pointer (&key);
  return x;
}

X509 *
ts_lab_pki_load_cert (const char *path, GError **error)
{
  g_autoptr (BIO) bio = BIO_new_file (path, "r");
  X509 *x;

  if (bio == NULL)
    {
      ERR_clear_error ();
      g_set_error (error, TS_LAB_PKI_ERROR, TS_LAB_PKI_ERROR_IO, "cannot open %s: %s", path,
                   g_strerror (errno));
      return NULL;
    }
  x = PEM_read_bio_X509 (bio, NULL, NULL, NULL);
  if (x == NULL)
    {
      ERR_clear_error ();
      g_set_error (error, TS_LAB_PKI_ERROR, TS_LAB_PKI_ERROR_INVALID, "%s holds no PEM certificate",
                   path);
    }
  return x;
}

EVP_PKEY *
ts_lab_pki_load_key (const char *path, GError **error)
{
  g_autoptr (BIO) bio = BIO_new_file (path, "r");
  EVP_PKEY *key;

  if (bio == NULL)
    {
      ERR_clear_error ();
      g_set_error (error, TS_LAB_PKI_ERROR, TS_LAB_PKI_ERROR_IO, "cannot open %s: %s", path,
                   g_strerror (errno));
      return NULL;
    }
  key = PEM_read_bio_PrivateKey (bio, NULL, NULL, NULL);
  if (key == NULL)
    {
      ERR_clear_error ();
      g_set_error (error, TS_LAB_PKI_ERROR, TS_LAB_PKI_ERROR_INVALID, "%s holds no PEM private key",
                   path);
    }
  return key;
}

/* Writes @bio's contents to @path through a temporary file and a rename. */
static gboolean
write_bio (BIO *bio, const char *path, int mode, GError **error)
{
  char *data = NULL;
  long len = BIO_get_mem_data (bio, &data);

  return g_file_set_contents_full (path, data, len, G_FILE_SET_CONTENTS_CONSISTENT, mode, error);
}

static gboolean
write_cert (X509 *x, const char *path, GError **error)
{
  g_autoptr (BIO) bio = BIO_new (BIO_s_mem ());

  if (PEM_write_bio_X509 (bio, x) != 1)
    return set_crypto_error (error, "PEM encoding of a certificate failed");
  return write_bio (bio, path, 0644, error);
}

static gboolean
write_key (EVP_PKEY *key, const char *path, GError **error)
{
  g_autoptr (BIO) bio = BIO_new (BIO_s_mem ());

  if (PEM_write_bio_PrivateKey (bio, key, NULL, NULL, 0, NULL, NULL) != 1)
    return set_crypto_error (error, "PEM encoding of a key failed");
  return write_bio (bio, path, 0600, error);
}

/* Loads a CA from its two files, or creates both when either is missing or
 * unusable. Sets *@out_created when it made a new one. */
static gboolean
ensure_ca (const char *cert_path, const char *key_path, const char *cn, X509 **out_cert,
           EVP_PKEY **out_key, gboolean *out_created, GError **error)
{
  g_autoptr (X509) cert = NULL;
  g_autoptr (EVP_PKEY) key = NULL;

  *out_created = FALSE;
  if (g_file_test (cert_path, G_FILE_TEST_EXISTS) && g_file_test (key_path, G_FILE_TEST_EXISTS))
    {
      cert = ts_lab_pki_load_cert (cert_path, NULL);
      key = ts_lab_pki_load_key (key_path, NULL);
      if (cert != NULL && key != NULL && X509_check_private_key (cert, key) == 1
          && X509_cmp_current_time (X509_get0_notAfter (cert)) > 0)
        {
          *out_cert = g_steal_pointer (&cert);
          *out_key = g_steal_pointer (&key);
          return TRUE;
        }
      ERR_clear_error ();
      g_clear_pointer (&cert, X509_free);
      g_clear_pointer (&key, EVP_PKEY_free);
    }
  key = new_key (error);
  if (key == NULL)
    return FALSE;
  cert = make_ca (cn, key, error);
  if (cert == NULL)
    return FALSE;
  /* The key first: a certificate on disk always has its key beside it. */
  if (!write_key (key, key_path, error) || !write_cert (cert, cert_path, error))
    return FALSE;
  *out_cert = g_steal_pointer (&cert);
  *out_key = g_steal_pointer (&key);
  *out_created = TRUE;
  return TRUE;
}

/* TRUE when the server certificate at @cert_path is signed by @ca, matches
 * the key at @key_path and has more than a day left. */
static gboolean
server_cert_usable (const char *cert_path, const char *key_path, X509 *ca, EVP_PKEY *ca_key)
{
  g_autoptr (X509) cert = ts_lab_pki_load_cert (cert_path, NULL);
  g_autoptr (EVP_PKEY) key = ts_lab_pki_load_key (key_path, NULL);
  time_t tomorrow = time (NULL) + 24 * 3600;
  gboolean ok;

  ok = cert != NULL && key != NULL && X509_check_private_key (cert, key) == 1
       && X509_verify (cert, ca_key) == 1
       && X509_cmp_time (X509_get0_notAfter (cert), &tomorrow) > 0
       && X509_NAME_cmp (X509_get_issuer_name (cert), X509_get_subject_name (ca)) == 0;
  ERR_clear_error ();
  return ok;
}

void
ts_lab_pki_clear (TsLabPki *pki)
{
  g_return_if_fail (pki != NULL);
  g_free (pki->dir);
  g_free (pki->web_ca_cert);
  g_free (pki->web_ca_key);
  g_free (pki->server_cert);
  g_free (pki->server_key);
  g_free (pki->intercept_ca_cert);
  g_free (pki->intercept_ca_key);
  memset (pki, 0, sizeof *pki);
}

/* The six files of the PKI, in a fixed order. */
static void
pki_files (TsLabPki *pki, const char *out[6])
{
  out[0] = pki->web_ca_cert;
  out[1] = pki->web_ca_key;
  out[2] = pki->server_cert;
  out[3] = pki->server_key;
  out[4] = pki->intercept_ca_cert;
  out[5] = pki->intercept_ca_key;
}

/* The identity of the PKI's files (device, inode, size, change and
 * modification times), one line each; NULL when one is missing. */
static char *
files_identity (TsLabPki *pki)
{
  const char *files[6];
  GString *s = g_string_new (NULL);

  pki_files (pki, files);
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      struct stat st;

      if (stat (files[i], &st) != 0)
        {
          g_string_free (s, TRUE);
          return NULL;
        }
      g_string_append_printf (s, "%ju %ju %jd %jd.%09ld %jd.%09ld\n", (uintmax_t)st.st_dev,
                              (uintmax_t)st.st_ino, (intmax_t)st.st_size,
                              (intmax_t)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
                              (intmax_t)st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
    }
  return g_string_free (s, FALSE);
}

/* The stamp of the last full check: the files' identity, then "until T",
 * the time (Unix seconds) until which that check holds. A lab run starts in
 * milliseconds; parsing keys and verifying signatures with OpenSSL on every
 * run would take several of them. */
static gboolean
stamp_holds (TsLabPki *pki, const char *stamp_path)
{
  g_autofree char *text = NULL;
  g_autofree char *identity = NULL;
  const char *until;
  gint64 t;

  if (!g_file_get_contents (stamp_path, &text, NULL, NULL))
    return FALSE;
  identity = files_identity (pki);
  if (identity == NULL || !g_str_has_prefix (text, identity))
    return FALSE;
  until = text + strlen (identity);
  if (!g_str_has_prefix (until, "until "))
    return FALSE;
  t = g_ascii_strtoll (until + 6, NULL, 10);
  return t > 0 && (gint64)time (NULL) < t;
}

/* The Unix time of @t, or 0. */
static gint64
asn1_unix_time (const ASN1_TIME *t)
{
  struct tm tm;

  if (ASN1_TIME_to_tm (t, &tm) != 1)
    return 0;
  return (gint64)timegm (&tm);
}

static void
write_stamp (TsLabPki *pki, const char *stamp_path, X509 *web, X509 *icpt)
{
  g_autoptr (X509) server = ts_lab_pki_load_cert (pki->server_cert, NULL);
  g_autofree char *identity = files_identity (pki);
  g_autofree char *text = NULL;
  gint64 until;

  ERR_clear_error ();
  if (server == NULL || identity == NULL)
    return;
  /* What the checks below demand: both CAs valid, the origin's certificate
   * valid for more than a day. */
  until
      = MIN (asn1_unix_time (X509_get0_notAfter (web)), asn1_unix_time (X509_get0_notAfter (icpt)));
  until = MIN (until, asn1_unix_time (X509_get0_notAfter (server)) - 24 * 3600);
  text = g_strdup_printf ("%suntil %" G_GINT64_FORMAT "\n", identity, until);
  if (!g_file_set_contents_full (stamp_path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, NULL))
    g_unlink (stamp_path);
}

static gboolean
ensure_locked (TsLabPki *pki, GError **error)
{
  g_autoptr (X509) web = NULL;
  g_autoptr (EVP_PKEY) web_key = NULL;
  g_autoptr (X509) icpt = NULL;
  g_autoptr (EVP_PKEY) icpt_key = NULL;
  gboolean created = FALSE;
  g_autofree char *stamp_path = g_build_filename (pki->dir, ".checked", NULL);

  if (stamp_holds (pki, stamp_path))
    return TRUE;
  if (!ensure_ca (pki->web_ca_cert, pki->web_ca_key, "Tunnelscope Lab Web Root CA", &web, &web_key,
                  &created, error))
    return FALSE;
  if (created || !server_cert_usable (pki->server_cert, pki->server_key, web, web_key))
    {
      g_autoptr (EVP_PKEY) key = new_key (error);
      g_autoptr (X509) cert = NULL;

      if (key == NULL)
        return FALSE;
      cert = make_leaf (web, web_key, server_names, G_N_ELEMENTS (server_names),
                        TS_LAB_PKI_SERVER_LIFETIME_S, key, error);
      if (cert == NULL || !write_key (key, pki->server_key, error)
          || !write_cert (cert, pki->server_cert, error))
        return FALSE;
    }
  if (!ensure_ca (pki->intercept_ca_cert, pki->intercept_ca_key, "Tunnelscope Lab Intercept CA",
                  &icpt, &icpt_key, &created, error))
    return FALSE;
  write_stamp (pki, stamp_path, web, icpt);
  return TRUE;
}

gboolean
ts_lab_pki_ensure (const char *dir, TsLabPki *out, GError **error)
{
  g_autofree char *lock_path = NULL;
  TsLabPki pki = { 0 };
  gboolean ok;
  int fd;

  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  memset (out, 0, sizeof *out);
  if (dir != NULL)
    pki.dir = g_strdup (dir);
  else
    pki.dir = g_build_filename (g_get_user_data_dir (), "tunnelscope", "pki", NULL);
  if (g_mkdir_with_parents (pki.dir, 0700) != 0)
    {
      int e = errno;

      g_set_error (error, TS_LAB_PKI_ERROR, TS_LAB_PKI_ERROR_IO, "cannot create %s: %s", pki.dir,
                   g_strerror (e));
      ts_lab_pki_clear (&pki);
      return FALSE;
    }
  /* The keys must not be readable by others even when the directory existed. */
  if (g_chmod (pki.dir, 0700) != 0)
    {
      int e = errno;

      g_set_error (error, TS_LAB_PKI_ERROR, TS_LAB_PKI_ERROR_IO, "cannot chmod 0700 %s: %s",
                   pki.dir, g_strerror (e));
      ts_lab_pki_clear (&pki);
      return FALSE;
    }
  pki.web_ca_cert = g_build_filename (pki.dir, "web-ca.pem", NULL);
  pki.web_ca_key = g_build_filename (pki.dir, "web-ca.key", NULL);
  pki.server_cert = g_build_filename (pki.dir, "server.pem", NULL);
  pki.server_key = g_build_filename (pki.dir, "server.key", NULL);
  pki.intercept_ca_cert = g_build_filename (pki.dir, "intercept-ca.pem", NULL);
  pki.intercept_ca_key = g_build_filename (pki.dir, "intercept-ca.key", NULL);

  lock_path = g_build_filename (pki.dir, ".lock", NULL);
  fd = open (lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0 || flock (fd, LOCK_EX) != 0)
    {
      int e = errno;

      g_set_error (error, TS_LAB_PKI_ERROR, TS_LAB_PKI_ERROR_IO, "cannot lock %s: %s", lock_path,
                   g_strerror (e));
      if (fd >= 0)
        close (fd);
      ts_lab_pki_clear (&pki);
      return FALSE;
    }
  ok = ensure_locked (&pki, error);
  close (fd); /* releases the lock */
  if (!ok)
    {
      ts_lab_pki_clear (&pki);
      return FALSE;
    }
  *out = pki;
  return TRUE;
}
