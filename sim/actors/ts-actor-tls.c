/* ts-actor-tls.c: key logging, certificate descriptions and public-key pins.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "ts-actor-tls.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>

static void
keylog_cb (const SSL *ssl, const char *line)
{
  const char *path = g_getenv ("SSLKEYLOGFILE");
  g_autofree char *buf = NULL;
  gsize len;
  int fd;

  if (path == NULL || *path == '\0')
    return;
  fd = open (path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      g_printerr ("%s: cannot open SSLKEYLOGFILE %s: %s\n", g_get_prgname (), path,
                  g_strerror (errno));
      return;
    }
  /* One write, so that lines from several actors sharing the file do not
   * interleave. */
  buf = g_strconcat (line, "\n", NULL);
  len = strlen (buf);
  if (write (fd, buf, len) != (gssize)len)
    g_printerr ("%s: cannot write SSLKEYLOGFILE %s: %s\n", g_get_prgname (), path,
                g_strerror (errno));
  close (fd);
}

void
ts_actor_tls_set_keylog (SSL_CTX *ctx)
{
  g_return_if_fail (ctx != NULL);
  SSL_CTX_set_keylog_callback (ctx, keylog_cb);
}

int
ts_actor_tls_parse_version (const char *text)
{
  g_return_val_if_fail (text != NULL, 0);
  if (g_ascii_strncasecmp (text, "TLSv", 4) == 0)
    text += 4;
  else if (g_ascii_strncasecmp (text, "tls", 3) == 0)
    text += 3;
  if (strcmp (text, "1.2") == 0)
    return TLS1_2_VERSION;
  if (strcmp (text, "1.3") == 0)
    return TLS1_3_VERSION;
  return 0;
}

char *
ts_actor_tls_dup_name (const X509_NAME *name)
{
  BIO *bio;
  char *data = NULL;
  long n;
  char *result;

  g_return_val_if_fail (name != NULL, NULL);
  bio = BIO_new (BIO_s_mem ());
  X509_NAME_print_ex (bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  n = BIO_get_mem_data (bio, &data);
  result = g_strndup (data, (gsize)MAX (n, 0));
  BIO_free (bio);
  return result;
}

char *
ts_actor_tls_dup_fingerprint (X509 *cert)
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  GString *s;

  g_return_val_if_fail (cert != NULL, NULL);
  if (!X509_digest (cert, EVP_sha256 (), md, &md_len))
    return NULL;
  s = g_string_sized_new (md_len * 3);
  for (unsigned int i = 0; i < md_len; i++)
    g_string_append_printf (s, i ? ":%02X" : "%02X", md[i]);
  return g_string_free (s, FALSE);
}

char *
ts_actor_tls_dup_pin (X509 *cert)
{
  unsigned char *der = NULL;
  unsigned char md[32];
  g_autofree char *b64 = NULL;
  int der_len;

  g_return_val_if_fail (cert != NULL, NULL);
  der_len = i2d_PUBKEY (X509_get0_pubkey (cert), &der);
  if (der_len <= 0)
    return NULL;
  if (!EVP_Digest (der, (size_t)der_len, md, NULL, EVP_sha256 (), NULL))
    {
      OPENSSL_free (der);
      return NULL;
    }
  OPENSSL_free (der);
  b64 = g_base64_encode (md, sizeof md);
  return g_strconcat ("sha256//", b64, NULL);
}

gboolean
ts_actor_tls_pin_matches (const char *pin_list, const char *pin)
{
  g_auto (GStrv) pins = NULL;

  g_return_val_if_fail (pin_list != NULL, FALSE);
  g_return_val_if_fail (pin != NULL, FALSE);
  pins = g_strsplit (pin_list, ";", -1);
  for (guint i = 0; pins[i]; i++)
    if (strcmp (g_strstrip (pins[i]), pin) == 0)
      return TRUE;
  return FALSE;
}

gboolean
ts_actor_tls_pin_list_is_valid (const char *pin_list)
{
  g_auto (GStrv) pins = NULL;

  g_return_val_if_fail (pin_list != NULL, FALSE);
  pins = g_strsplit (pin_list, ";", -1);
  if (pins[0] == NULL)
    return FALSE;
  for (guint i = 0; pins[i]; i++)
    {
      const char *p = g_strstrip (pins[i]);
      g_autofree guchar *raw = NULL;
      gsize raw_len = 0;

      /* sha256// plus 44 base64 characters (32 bytes with one '=' pad). */
      if (!g_str_has_prefix (p, "sha256//") || strlen (p) != 8 + 44)
        return FALSE;
      for (const char *c = p + 8; *c; c++)
        if (!g_ascii_isalnum (*c) && *c != '+' && *c != '/' && *c != '=')
          return FALSE;
      raw = g_base64_decode (p + 8, &raw_len);
      if (raw_len != 32)
        return FALSE;
    }
  return TRUE;
}

char *
ts_actor_tls_dup_error (void)
{
  unsigned long e = ERR_peek_last_error ();
  char buf[256];

  if (e == 0)
    return g_strdup ("unknown error");
  ERR_error_string_n (e, buf, sizeof buf);
  ERR_clear_error ();
  return g_strdup (buf);
}
