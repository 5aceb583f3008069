/* ts-tls-certificate.c: X.509 certificate fields (RFC 5280) through OpenSSL d2i_X509.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "ts-tls-certificate.h"

#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static char *
name_to_string (const X509_NAME *name)
{
  BIO *bio = BIO_new (BIO_s_mem ());
  char *data = NULL;
  long n;
  char *s;

  if (bio == NULL)
    return g_strdup ("");
  /* RFC 2253 order and escaping, but UTF-8 kept readable. */
  X509_NAME_print_ex (bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  n = BIO_get_mem_data (bio, &data);
  s = g_strndup (data != NULL ? data : "", n > 0 ? (gsize)n : 0);
  BIO_free (bio);
  return s;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (Howard Hinnant's days_from_civil). */
static gint64
days_from_civil (gint64 y, guint m, guint d)
{
  gint64 era;
  guint yoe, doy, doe;

  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = (guint)(y - era * 400);
  doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (gint64)doe - 719468;
}

static gboolean
asn1_time_to_unix (const ASN1_TIME *t, gint64 *out)
{
  struct tm tm;

  if (t == NULL || ASN1_TIME_to_tm (t, &tm) != 1)
    return FALSE;
  *out
      = days_from_civil ((gint64)tm.tm_year + 1900, (guint)tm.tm_mon + 1, (guint)tm.tm_mday) * 86400
        + tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
  return TRUE;
}

static char *
format_ip (const guint8 *a, int len)
{
  if (len == 4)
    return g_strdup_printf ("IP:%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
  if (len == 16)
    {
      /* RFC 5952: lower case, the longest run (≥ 2) of zero groups as "::". */
      guint16 g[8];
      int best = -1, best_len = 0;
      GString *s = g_string_new ("IP:");

      for (int i = 0; i < 8; i++)
        g[i] = (guint16)(a[2 * i] << 8 | a[2 * i + 1]);
      for (int i = 0; i < 8;)
        {
          int j = i;

          while (j < 8 && g[j] == 0)
            j++;
          if (j - i > best_len && j - i >= 2)
            {
              best = i;
              best_len = j - i;
            }
          i = j > i ? j : i + 1;
        }
      for (int i = 0; i < 8; i++)
        {
          if (i == best)
            {
              g_string_append (s, "::");
              i += best_len - 1;
              continue;
            }
          if (i > 0 && i != best + best_len)
            g_string_append_c (s, ':');
          g_string_append_printf (s, "%x", g[i]);
        }
      return g_string_free (s, FALSE);
    }
  return g_strdup ("IP:?");
}

static char *
asn1_string_dup (const char *prefix, const ASN1_STRING *str)
{
  const unsigned char *p = ASN1_STRING_get0_data (str);
  int n = ASN1_STRING_length (str);
  GString *s = g_string_new (prefix);

  /* Names on the wire are IA5String; keep printable ASCII, escape the rest. */
  for (int i = 0; i < n; i++)
    {
      if (p[i] >= 0x20 && p[i] < 0x7f)
        g_string_append_c (s, (char)p[i]);
      else
        g_string_append_printf (s, "\\x%02x", p[i]);
    }
  return g_string_free (s, FALSE);
}

gboolean
_ts_tls_certificate_parse (TsTlsCertificate *out, const guint8 *der, gsize der_len, gint64 time_us,
                           GPtrArray *owned)
{
  const unsigned char *p = der;
  X509 *x;
  GENERAL_NAMES *names;
  unsigned int md_len = 0;

  memset (out, 0, sizeof *out);
  out->der = der;
  out->der_len = der_len;
  EVP_Digest (der, der_len, out->sha256, &md_len, EVP_sha256 (), NULL);

  if (der_len > G_MAXINT32)
    return FALSE;
  x = d2i_X509 (NULL, &p, (long)der_len);
  if (x == NULL)
    return FALSE;

  out->parsed = TRUE;
  out->subject = name_to_string (X509_get_subject_name (x));
  g_ptr_array_add (owned, (char *)out->subject);
  out->issuer = name_to_string (X509_get_issuer_name (x));
  g_ptr_array_add (owned, (char *)out->issuer);
  out->self_issued = X509_NAME_cmp (X509_get_subject_name (x), X509_get_issuer_name (x)) == 0;
  out->is_ca = (X509_get_extension_flags (x) & EXFLAG_CA) != 0;

  if (asn1_time_to_unix (X509_get0_notBefore (x), &out->not_before)
      && asn1_time_to_unix (X509_get0_notAfter (x), &out->not_after) && time_us >= 0)
    {
      gint64 now = time_us / G_USEC_PER_SEC;

      if (now < out->not_before)
        out->validity = TS_TLS_CERT_NOT_YET_VALID;
      else if (now > out->not_after)
        out->validity = TS_TLS_CERT_EXPIRED;
      else
        out->validity = TS_TLS_CERT_VALID;
    }

  names = X509_get_ext_d2i (x, NID_subject_alt_name, NULL, NULL);
  if (names != NULL)
    {
      int n = sk_GENERAL_NAME_num (names);
      guint cap = (guint)MIN (n, TS_TLS_SAN_CAP);
      const char **sans = g_new0 (const char *, cap + 1);

      g_ptr_array_add (owned, sans);
      for (int i = 0; i < n && out->n_sans < cap; i++)
        {
          const GENERAL_NAME *gn = sk_GENERAL_NAME_value (names, i);
          char *s = NULL;

          switch (gn->type)
            {
              case GEN_DNS:
                s = asn1_string_dup ("DNS:", gn->d.dNSName);
                break;
              case GEN_IPADD:
                s = format_ip (ASN1_STRING_get0_data (gn->d.iPAddress),
                               ASN1_STRING_length (gn->d.iPAddress));
                break;
              case GEN_URI:
                s = asn1_string_dup ("URI:", gn->d.uniformResourceIdentifier);
                break;
              case GEN_EMAIL:
                s = asn1_string_dup ("email:", gn->d.rfc822Name);
                break;
              default:
                break;
            }
          if (s != NULL)
            {
              g_ptr_array_add (owned, s);
              sans[out->n_sans++] = s;
            }
        }
      out->sans = sans;
      GENERAL_NAMES_free (names);
    }

  X509_free (x);
  return TRUE;
}
