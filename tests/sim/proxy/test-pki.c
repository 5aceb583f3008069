/* test-pki.c: the lab PKI: files and modes, reuse, name constraints.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "ts-lab-pki.h"

typedef struct
{
  char *tmp;
  char *dir;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  GError *error = NULL;

  f->tmp = g_dir_make_tmp ("ts-test-pki-XXXXXX", &error);
  g_assert_no_error (error);
  f->dir = g_build_filename (f->tmp, "pki", NULL);
}

static void
rm_rf (const char *path)
{
  GDir *d = g_dir_open (path, 0, NULL);
  const char *name;

  if (d != NULL)
    {
      while ((name = g_dir_read_name (d)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          rm_rf (child);
        }
      g_dir_close (d);
      g_rmdir (path);
    }
  else
    g_unlink (path);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  rm_rf (f->tmp);
  g_free (f->tmp);
  g_free (f->dir);
}

static guint
file_mode (const char *path)
{
  struct stat st;

  g_assert_cmpint (stat (path, &st), ==, 0);
  return st.st_mode & 07777;
}

static guint64
file_mtime_ns (const char *path)
{
  struct stat st;

  g_assert_cmpint (stat (path, &st), ==, 0);
  return (guint64)st.st_mtim.tv_sec * G_GUINT64_CONSTANT (1000000000) + st.st_mtim.tv_nsec;
}

/* X509_verify_cert of @leaf with @ca as the only trust anchor, checking
 * @host when not NULL. Returns the X509_V_* result. */
static int
verify (X509 *leaf, X509 *ca, const char *host)
{
  X509_STORE *store = X509_STORE_new ();
  X509_STORE_CTX *ctx = X509_STORE_CTX_new ();
  int result;

  X509_STORE_add_cert (store, ca);
  X509_STORE_CTX_init (ctx, store, leaf, NULL);
  X509_STORE_CTX_set_purpose (ctx, X509_PURPOSE_SSL_SERVER);
  if (host != NULL)
    X509_VERIFY_PARAM_set1_host (X509_STORE_CTX_get0_param (ctx), host, 0);
  result = X509_verify_cert (ctx) == 1 ? X509_V_OK : X509_STORE_CTX_get_error (ctx);
  X509_STORE_CTX_free (ctx);
  X509_STORE_free (store);
  ERR_clear_error ();
  return result;
}

static void
test_create_and_modes (Fixture *f, gconstpointer data)
{
  TsLabPki pki;
  GError *error = NULL;

  g_assert_true (ts_lab_pki_ensure (f->dir, &pki, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (pki.dir, ==, f->dir);
  g_assert_cmpuint (file_mode (pki.dir), ==, 0700);
  g_assert_cmpuint (file_mode (pki.web_ca_key), ==, 0600);
  g_assert_cmpuint (file_mode (pki.server_key), ==, 0600);
  g_assert_cmpuint (file_mode (pki.intercept_ca_key), ==, 0600);
  g_assert_true (g_file_test (pki.web_ca_cert, G_FILE_TEST_IS_REGULAR));
  g_assert_true (g_file_test (pki.server_cert, G_FILE_TEST_IS_REGULAR));
  g_assert_true (g_file_test (pki.intercept_ca_cert, G_FILE_TEST_IS_REGULAR));
  ts_lab_pki_clear (&pki);
  g_assert_null (pki.dir);
}

static void
test_reuse (Fixture *f, gconstpointer data)
{
  TsLabPki a, b;
  GError *error = NULL;
  g_autofree char *ca1 = NULL, *ca2 = NULL, *srv1 = NULL, *srv2 = NULL;
  guint64 t1;

  g_assert_true (ts_lab_pki_ensure (f->dir, &a, &error));
  g_assert_no_error (error);
  t1 = file_mtime_ns (a.web_ca_key);
  g_file_get_contents (a.web_ca_cert, &ca1, NULL, NULL);
  g_file_get_contents (a.server_cert, &srv1, NULL, NULL);
  g_assert_true (ts_lab_pki_ensure (f->dir, &b, &error));
  g_assert_no_error (error);
  g_file_get_contents (b.web_ca_cert, &ca2, NULL, NULL);
  g_file_get_contents (b.server_cert, &srv2, NULL, NULL);
  g_assert_cmpstr (ca1, ==, ca2);
  g_assert_cmpstr (srv1, ==, srv2);
  g_assert_cmpuint (t1, ==, file_mtime_ns (b.web_ca_key));

  /* A missing server certificate is re-issued by the same CA. */
  g_assert_cmpint (g_unlink (b.server_cert), ==, 0);
  ts_lab_pki_clear (&b);
  g_assert_true (ts_lab_pki_ensure (f->dir, &b, &error));
  g_assert_no_error (error);
  {
    g_autoptr (GError) e2 = NULL;
    X509 *ca = ts_lab_pki_load_cert (b.web_ca_cert, &e2);
    X509 *srv = ts_lab_pki_load_cert (b.server_cert, &e2);

    g_assert_no_error (e2);
    g_assert_cmpint (verify (srv, ca, "example.com"), ==, X509_V_OK);
    X509_free (ca);
    X509_free (srv);
  }
  ts_lab_pki_clear (&a);
  ts_lab_pki_clear (&b);
}

/* The stamp of the last full check spares later runs OpenSSL, but a file
 * changed behind its back, or a check that has run out, means a full check. */
static void
test_stamp (Fixture *f, gconstpointer data)
{
  TsLabPki pki;
  GError *error = NULL;
  g_autofree char *stamp = g_build_filename (f->dir, ".checked", NULL);
  g_autofree char *text = NULL;
  g_autofree char *srv_before = NULL;
  char *until;
  X509 *ca, *srv;

  g_assert_true (ts_lab_pki_ensure (f->dir, &pki, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (file_mode (stamp), ==, 0600);
  g_assert_true (g_file_get_contents (stamp, &text, NULL, NULL));
  until = strstr (text, "until ");
  g_assert_nonnull (until);
  /* Valid for less than the origin's certificate's life, more than now. */
  g_assert_cmpint (g_ascii_strtoll (until + 6, NULL, 10), >, (gint64)time (NULL));
  g_assert_cmpint (g_ascii_strtoll (until + 6, NULL, 10), <,
                   (gint64)time (NULL) + TS_LAB_PKI_SERVER_LIFETIME_S);
  g_file_get_contents (pki.server_cert, &srv_before, NULL, NULL);

  /* A server certificate replaced by garbage is re-issued. */
  g_assert_true (g_file_set_contents (pki.server_cert, "garbage\n", -1, NULL));
  ts_lab_pki_clear (&pki);
  g_assert_true (ts_lab_pki_ensure (f->dir, &pki, &error));
  g_assert_no_error (error);
  ca = ts_lab_pki_load_cert (pki.web_ca_cert, &error);
  g_assert_no_error (error);
  srv = ts_lab_pki_load_cert (pki.server_cert, &error);
  g_assert_no_error (error);
  g_assert_cmpint (verify (srv, ca, "example.com"), ==, X509_V_OK);
  X509_free (ca);
  X509_free (srv);

  /* A stamp that ran out: the full check runs and writes a new one. */
  g_clear_pointer (&text, g_free);
  g_assert_true (g_file_get_contents (stamp, &text, NULL, NULL));
  until = strstr (text, "until ");
  g_assert_nonnull (until);
  strcpy (until, "until 1\n");
  g_assert_true (g_file_set_contents (stamp, text, -1, NULL));
  ts_lab_pki_clear (&pki);
  g_assert_true (ts_lab_pki_ensure (f->dir, &pki, &error));
  g_assert_no_error (error);
  g_clear_pointer (&text, g_free);
  g_assert_true (g_file_get_contents (stamp, &text, NULL, NULL));
  g_assert_null (strstr (text, "until 1\n"));
  ts_lab_pki_clear (&pki);
}

/* Several processes at once end with one consistent set. */
static void
test_concurrent (Fixture *f, gconstpointer data)
{
  pid_t pids[4];
  TsLabPki pki;
  GError *error = NULL;
  X509 *ca, *srv;

  for (guint i = 0; i < G_N_ELEMENTS (pids); i++)
    {
      pids[i] = fork ();
      g_assert_cmpint (pids[i], >=, 0);
      if (pids[i] == 0)
        {
          TsLabPki p;
          _exit (ts_lab_pki_ensure (f->dir, &p, NULL) ? 0 : 1);
        }
    }
  for (guint i = 0; i < G_N_ELEMENTS (pids); i++)
    {
      int status = 0;

      g_assert_cmpint (waitpid (pids[i], &status, 0), ==, pids[i]);
      g_assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    }
  g_assert_true (ts_lab_pki_ensure (f->dir, &pki, &error));
  g_assert_no_error (error);
  ca = ts_lab_pki_load_cert (pki.web_ca_cert, &error);
  g_assert_no_error (error);
  srv = ts_lab_pki_load_cert (pki.server_cert, &error);
  g_assert_no_error (error);
  g_assert_cmpint (verify (srv, ca, "www.example.com"), ==, X509_V_OK);
  X509_free (ca);
  X509_free (srv);
  ts_lab_pki_clear (&pki);
}

static void
test_server_cert (Fixture *f, gconstpointer data)
{
  TsLabPki pki;
  GError *error = NULL;
  X509 *web, *icpt, *srv;
  EVP_PKEY *key;

  g_assert_true (ts_lab_pki_ensure (f->dir, &pki, &error));
  web = ts_lab_pki_load_cert (pki.web_ca_cert, &error);
  g_assert_no_error (error);
  icpt = ts_lab_pki_load_cert (pki.intercept_ca_cert, &error);
  g_assert_no_error (error);
  srv = ts_lab_pki_load_cert (pki.server_cert, &error);
  g_assert_no_error (error);
  key = ts_lab_pki_load_key (pki.server_key, &error);
  g_assert_no_error (error);
  g_assert_cmpint (X509_check_private_key (srv, key), ==, 1);

  g_assert_cmpint (verify (srv, web, NULL), ==, X509_V_OK);
  g_assert_cmpint (verify (srv, web, "example.com"), ==, X509_V_OK);
  g_assert_cmpint (verify (srv, web, "www.example.com"), ==, X509_V_OK);
  g_assert_cmpint (verify (srv, web, "server.test"), ==, X509_V_OK);
  g_assert_cmpint (verify (srv, web, "www.google.com"), ==, X509_V_ERR_HOSTNAME_MISMATCH);
  /* The origin is signed by the Web Root CA, not by the Intercept CA. */
  g_assert_cmpint (verify (srv, icpt, NULL), !=, X509_V_OK);
  /* Both CAs carry critical nameConstraints. */
  {
    int crit = -1;
    NAME_CONSTRAINTS *nc = X509_get_ext_d2i (web, NID_name_constraints, &crit, NULL);

    g_assert_nonnull (nc);
    g_assert_cmpint (crit, ==, 1);
    NAME_CONSTRAINTS_free (nc);
    nc = X509_get_ext_d2i (icpt, NID_name_constraints, &crit, NULL);
    g_assert_nonnull (nc);
    g_assert_cmpint (crit, ==, 1);
    NAME_CONSTRAINTS_free (nc);
  }
  X509_free (web);
  X509_free (icpt);
  X509_free (srv);
  EVP_PKEY_free (key);
  ts_lab_pki_clear (&pki);
}

/* A leaf asked to live longer than its CA ends with the CA; one minted
 * under a CA whose life starts later starts with it. */
static void
test_mint_within_ca (Fixture *f, gconstpointer data)
{
  TsLabPki pki;
  GError *error = NULL;
  X509 *ca, *leaf;
  EVP_PKEY *ca_key, *key = NULL;
  X509_STORE *store;
  X509_STORE_CTX *ctx;

  g_assert_true (ts_lab_pki_ensure (f->dir, &pki, &error));
  ca = ts_lab_pki_load_cert (pki.intercept_ca_cert, &error);
  g_assert_no_error (error);
  ca_key = ts_lab_pki_load_key (pki.intercept_ca_key, &error);
  g_assert_no_error (error);
  leaf = ts_lab_pki_mint_leaf (ca, ca_key, "www.example.com", TS_LAB_PKI_CA_LIFETIME_S * 2, &key,
                               &error);
  g_assert_no_error (error);
  g_assert_cmpint (ASN1_TIME_compare (X509_get0_notAfter (leaf), X509_get0_notAfter (ca)), <=, 0);
  g_assert_cmpint (ASN1_TIME_compare (X509_get0_notBefore (leaf), X509_get0_notBefore (ca)), >=, 0);
  /* Still a leaf that verifies now. */
  store = X509_STORE_new ();
  X509_STORE_add_cert (store, ca);
  ctx = X509_STORE_CTX_new ();
  X509_STORE_CTX_init (ctx, store, leaf, NULL);
  g_assert_cmpint (X509_verify_cert (ctx), ==, 1);
  X509_STORE_CTX_free (ctx);
  X509_STORE_free (store);
  X509_free (leaf);
  EVP_PKEY_free (key);
  key = NULL;
  /* A CA valid only from an hour on (a clock set back since it was made):
   * the leaf does not start before it. */
  g_assert_nonnull (X509_gmtime_adj (X509_getm_notBefore (ca), 3600));
  g_assert_cmpint (X509_sign (ca, ca_key, EVP_sha256 ()), >, 0);
  leaf = ts_lab_pki_mint_leaf (ca, ca_key, "www.example.com", 3600, &key, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ASN1_TIME_compare (X509_get0_notBefore (leaf), X509_get0_notBefore (ca)), >=, 0);
  X509_free (leaf);
  EVP_PKEY_free (key);
  X509_free (ca);
  EVP_PKEY_free (ca_key);
  ts_lab_pki_clear (&pki);
}

static void
test_mint (Fixture *f, gconstpointer data)
{
  static const struct
  {
    const char *name;
    gboolean in_lab;
  } cases[] = {
    { "example.com", TRUE },       { "www.example.com", TRUE },  { "a.b.example.com", TRUE },
    { "proxy.test", TRUE },        { "server.test", TRUE },      { "192.0.2.10", TRUE },
    { "198.51.100.7", TRUE },      { "203.0.113.200", TRUE },    { "2001:db8::1", TRUE },
    { "www.google.com", FALSE },   { "8.8.8.8", FALSE },         { "notexample.com", FALSE },
    { "example.com.evil", FALSE }, { "2001:4860::8888", FALSE }, { "192.0.3.1", FALSE },
    { "test.com", FALSE },
  };
  TsLabPki pki;
  GError *error = NULL;
  X509 *icpt, *web;
  EVP_PKEY *icpt_key;

  g_assert_true (ts_lab_pki_ensure (f->dir, &pki, &error));
  icpt = ts_lab_pki_load_cert (pki.intercept_ca_cert, &error);
  g_assert_no_error (error);
  icpt_key = ts_lab_pki_load_key (pki.intercept_ca_key, &error);
  g_assert_no_error (error);
  web = ts_lab_pki_load_cert (pki.web_ca_cert, &error);
  g_assert_no_error (error);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      EVP_PKEY *key = NULL;
      X509 *leaf = ts_lab_pki_mint_leaf (icpt, icpt_key, cases[i].name, 3600, &key, &error);
      int r;

      g_test_message ("minting %s", cases[i].name);
      g_assert_no_error (error);
      g_assert_nonnull (leaf);
      g_assert_nonnull (key);
      g_assert_cmpint (X509_check_private_key (leaf, key), ==, 1);
      g_assert_cmpint (X509_NAME_cmp (X509_get_issuer_name (leaf), X509_get_subject_name (icpt)),
                       ==, 0);
      r = verify (leaf, icpt, NULL);
      if (cases[i].in_lab)
        {
          g_assert_cmpint (r, ==, X509_V_OK);
          if (strchr (cases[i].name, ':') == NULL && !g_ascii_isdigit (cases[i].name[0]))
            g_assert_cmpint (verify (leaf, icpt, cases[i].name), ==, X509_V_OK);
        }
      else
        g_assert_cmpint (r, ==, X509_V_ERR_PERMITTED_VIOLATION);
      /* An Intercept-CA leaf does not verify against the Web Root CA. */
      g_assert_cmpint (verify (leaf, web, NULL), !=, X509_V_OK);
      /* Backdated a minute, short life. */
      {
        time_t now = time (NULL);
        time_t before = now - 30, after = now + 3600 + 5;

        g_assert_cmpint (X509_cmp_time (X509_get0_notBefore (leaf), &before), <, 0);
        g_assert_cmpint (X509_cmp_time (X509_get0_notAfter (leaf), &after), <, 0);
      }
      X509_free (leaf);
      EVP_PKEY_free (key);
    }

  /* Names that are neither DNS names nor IP literals are refused. */
  {
    const char *bad[] = { "", "a b", "evil\n.example.com", "x,DNS:google.com", "a*.test" };

    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        EVP_PKEY *key = NULL;
        X509 *leaf = ts_lab_pki_mint_leaf (icpt, icpt_key, bad[i], 60, &key, &error);

        g_assert_null (leaf);
        g_assert_null (key);
        g_assert_error (error, TS_LAB_PKI_ERROR, TS_LAB_PKI_ERROR_INVALID);
        g_clear_error (&error);
      }
  }
  X509_free (icpt);
  X509_free (web);
  EVP_PKEY_free (icpt_key);
  ts_lab_pki_clear (&pki);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/ts/sim/pki/create-and-modes", Fixture, NULL, fixture_setup, test_create_and_modes,
              fixture_teardown);
  g_test_add ("/ts/sim/pki/reuse", Fixture, NULL, fixture_setup, test_reuse, fixture_teardown);
  g_test_add ("/ts/sim/pki/stamp", Fixture, NULL, fixture_setup, test_stamp, fixture_teardown);
  g_test_add ("/ts/sim/pki/concurrent", Fixture, NULL, fixture_setup, test_concurrent,
              fixture_teardown);
  g_test_add ("/ts/sim/pki/server-cert", Fixture, NULL, fixture_setup, test_server_cert,
              fixture_teardown);
  g_test_add ("/ts/sim/pki/mint", Fixture, NULL, fixture_setup, test_mint, fixture_teardown);
  g_test_add ("/ts/sim/pki/mint-within-ca", Fixture, NULL, fixture_setup, test_mint_within_ca,
              fixture_teardown);
  return g_test_run ();
}
