/* ts-tls-cipher.c: AEAD record protection (RFC 8446 §5.2-5.3, RFC 5288, RFC 7905) and key
 * schedules. SPDX-License-Identifier: GPL-3.0-or-later */
#include "ts-tls-cipher.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>

#include "ts-tls-types.h"

static const TsTlsSuiteInfo suites[] = {
  { TS_TLS_CS_AES_128_GCM_SHA256, TRUE, TS_TLS_AEAD_AES_128_GCM, "SHA256", 32, 16, 12 },
  { TS_TLS_CS_AES_256_GCM_SHA384, TRUE, TS_TLS_AEAD_AES_256_GCM, "SHA384", 48, 32, 12 },
  { TS_TLS_CS_CHACHA20_POLY1305_SHA256, TRUE, TS_TLS_AEAD_CHACHA20_POLY1305, "SHA256", 32, 32, 12 },
  { TS_TLS_CS_RSA_WITH_AES_128_GCM_SHA256, FALSE, TS_TLS_AEAD_AES_128_GCM, "SHA256", 32, 16, 4 },
  { TS_TLS_CS_RSA_WITH_AES_256_GCM_SHA384, FALSE, TS_TLS_AEAD_AES_256_GCM, "SHA384", 48, 32, 4 },
  { TS_TLS_CS_DHE_RSA_WITH_AES_128_GCM_SHA256, FALSE, TS_TLS_AEAD_AES_128_GCM, "SHA256", 32, 16,
    4 },
  { TS_TLS_CS_DHE_RSA_WITH_AES_256_GCM_SHA384, FALSE, TS_TLS_AEAD_AES_256_GCM, "SHA384", 48, 32,
    4 },
  { TS_TLS_CS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, FALSE, TS_TLS_AEAD_AES_128_GCM, "SHA256", 32, 16,
    4 },
  { TS_TLS_CS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, FALSE, TS_TLS_AEAD_AES_256_GCM, "SHA384", 48, 32,
    4 },
  { TS_TLS_CS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, FALSE, TS_TLS_AEAD_AES_128_GCM, "SHA256", 32, 16,
    4 },
  { TS_TLS_CS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, FALSE, TS_TLS_AEAD_AES_256_GCM, "SHA384", 48, 32,
    4 },
  { TS_TLS_CS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, FALSE, TS_TLS_AEAD_CHACHA20_POLY1305,
    "SHA256", 32, 32, 12 },
  { TS_TLS_CS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, FALSE, TS_TLS_AEAD_CHACHA20_POLY1305,
    "SHA256", 32, 32, 12 },
  { TS_TLS_CS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256, FALSE, TS_TLS_AEAD_CHACHA20_POLY1305, "SHA256",
    32, 32, 12 },
};

/* TLS 1.1/1.2 CBC suites (RFC 5246 §A.5, RFC 5289): key block of MAC keys
 * and cipher keys, no fixed IV (each record carries its own). */
static const TsTlsSuiteInfo cbc_suites[] = {
  { 0x002f, FALSE, TS_TLS_CBC_AES_128, "SHA256", 32, 16, 0, "SHA1", 20 },
  { 0x0035, FALSE, TS_TLS_CBC_AES_256, "SHA256", 32, 32, 0, "SHA1", 20 },
  { 0x0033, FALSE, TS_TLS_CBC_AES_128, "SHA256", 32, 16, 0, "SHA1", 20 },
  { 0x0039, FALSE, TS_TLS_CBC_AES_256, "SHA256", 32, 32, 0, "SHA1", 20 },
  { 0x003c, FALSE, TS_TLS_CBC_AES_128, "SHA256", 32, 16, 0, "SHA256", 32 },
  { 0x003d, FALSE, TS_TLS_CBC_AES_256, "SHA256", 32, 32, 0, "SHA256", 32 },
  { 0x0067, FALSE, TS_TLS_CBC_AES_128, "SHA256", 32, 16, 0, "SHA256", 32 },
  { 0x006b, FALSE, TS_TLS_CBC_AES_256, "SHA256", 32, 32, 0, "SHA256", 32 },
  { 0xc009, FALSE, TS_TLS_CBC_AES_128, "SHA256", 32, 16, 0, "SHA1", 20 },
  { 0xc00a, FALSE, TS_TLS_CBC_AES_256, "SHA256", 32, 32, 0, "SHA1", 20 },
  { 0xc013, FALSE, TS_TLS_CBC_AES_128, "SHA256", 32, 16, 0, "SHA1", 20 },
  { 0xc014, FALSE, TS_TLS_CBC_AES_256, "SHA256", 32, 32, 0, "SHA1", 20 },
  { 0xc023, FALSE, TS_TLS_CBC_AES_128, "SHA256", 32, 16, 0, "SHA256", 32 },
  { 0xc024, FALSE, TS_TLS_CBC_AES_256, "SHA384", 48, 32, 0, "SHA384", 48 },
  { 0xc027, FALSE, TS_TLS_CBC_AES_128, "SHA256", 32, 16, 0, "SHA256", 32 },
  { 0xc028, FALSE, TS_TLS_CBC_AES_256, "SHA384", 48, 32, 0, "SHA384", 48 },
};

const TsTlsSuiteInfo *
_ts_tls_suite_lookup (guint16 suite)
{
  for (gsize i = 0; i < G_N_ELEMENTS (suites); i++)
    if (suites[i].suite == suite)
      return &suites[i];
  for (gsize i = 0; i < G_N_ELEMENTS (cbc_suites); i++)
    if (cbc_suites[i].suite == suite)
      return &cbc_suites[i];
  return NULL;
}

/* Fetching an algorithm walks OpenSSL's provider tables: do it once. */
static EVP_CIPHER *
fetch_cipher (TsTlsAead aead)
{
  /* Indexed by TsTlsAead. */
  static const char *const names[]
      = { NULL, "AES-128-GCM", "AES-256-GCM", "ChaCha20-Poly1305", "AES-128-CBC", "AES-256-CBC" };
  static EVP_CIPHER *ciphers[G_N_ELEMENTS (names)];
  static gsize once;

  if (g_once_init_enter (&once))
    {
      for (gsize i = 1; i < G_N_ELEMENTS (names); i++)
        ciphers[i] = EVP_CIPHER_fetch (NULL, names[i], NULL);
      g_once_init_leave (&once, 1);
    }
  return (guint)aead < G_N_ELEMENTS (names) ? ciphers[aead] : NULL;
}

static EVP_KDF *
fetch_kdf (gboolean tls12)
{
  static EVP_KDF *hkdf, *prf;
  static gsize once;

  if (g_once_init_enter (&once))
    {
      hkdf = EVP_KDF_fetch (NULL, "HKDF", NULL);
      prf = EVP_KDF_fetch (NULL, "TLS1-PRF", NULL);
      g_once_init_leave (&once, 1);
    }
  return tls12 ? prf : hkdf;
}

static EVP_MAC *
fetch_hmac (void)
{
  static EVP_MAC *hmac;
  static gsize once;

  if (g_once_init_enter (&once))
    {
      hmac = EVP_MAC_fetch (NULL, "HMAC", NULL);
      g_once_init_leave (&once, 1);
    }
  return hmac;
}

void
_ts_tls_cipher_clear (TsTlsCipher *self)
{
  g_clear_pointer (&self->ctx, EVP_CIPHER_CTX_free);
  g_clear_pointer (&self->mac, EVP_MAC_CTX_free);
  OPENSSL_cleanse (self->iv, sizeof self->iv);
  OPENSSL_cleanse (self->key, sizeof self->key);
  OPENSSL_cleanse (self->mac_key, sizeof self->mac_key);
  self->info = NULL;
  self->ready = FALSE;
  self->gcm_fixed = FALSE;
}

static guint64
next_serial (void)
{
  static gsize last; /* atomic */

  return (guint64)g_atomic_pointer_add (&last, 1) + 1;
}

/* AES-GCM: the first 4 bytes of every nonce are fixed per key (TLS 1.3:
 * the write IV's; TLS 1.2: the salt), the last 8 vary per record. OpenSSL's
 * TLS IV parameters (RFC 5288 §3 fixed and invocation fields) set them
 * without re-initialising the context. */
static gboolean
set_gcm_fixed (TsTlsCipher *self)
{
  OSSL_PARAM params[2];

  params[0] = OSSL_PARAM_construct_octet_string (OSSL_CIPHER_PARAM_AEAD_TLS1_IV_FIXED, self->iv, 4);
  params[1] = OSSL_PARAM_construct_end ();
  return EVP_CIPHER_CTX_set_params (self->ctx, params) == 1;
}

gboolean
_ts_tls_cipher_set_key (TsTlsCipher *self, const TsTlsSuiteInfo *info, gboolean tls13,
                        const guint8 *key, const guint8 *iv)
{
  EVP_CIPHER *cipher = fetch_cipher (info->aead);

  self->ready = FALSE;
  if (cipher == NULL)
    return FALSE;
  if (self->ctx == NULL)
    self->ctx = EVP_CIPHER_CTX_new ();
  if (self->ctx == NULL)
    return FALSE;
  if (EVP_DecryptInit_ex (self->ctx, cipher, NULL, key, NULL) != 1)
    return FALSE;
  self->info = info;
  self->tls13 = tls13;
  memcpy (self->key, key, info->key_len);
  memset (self->iv, 0, sizeof self->iv);
  memcpy (self->iv, iv, tls13 ? TS_TLS_IV_LEN : info->fixed_iv_len);
  self->gcm_fixed = (info->aead == TS_TLS_AEAD_AES_128_GCM || info->aead == TS_TLS_AEAD_AES_256_GCM)
                    && set_gcm_fixed (self);
  self->serial = next_serial ();
  self->ready = TRUE;
  return TRUE;
}

gboolean
_ts_tls_cipher_set_cbc_key (TsTlsCipher *self, const TsTlsSuiteInfo *info, const guint8 *key,
                            const guint8 *mac_key, gboolean etm)
{
  EVP_CIPHER *cipher = fetch_cipher (info->aead);
  OSSL_PARAM params[2];

  self->ready = FALSE;
  if (cipher == NULL || fetch_hmac () == NULL || info->mac_digest == NULL)
    return FALSE;
  if (self->ctx == NULL)
    self->ctx = EVP_CIPHER_CTX_new ();
  if (self->mac == NULL)
    self->mac = EVP_MAC_CTX_new (fetch_hmac ());
  if (self->ctx == NULL || self->mac == NULL)
    return FALSE;
  if (EVP_DecryptInit_ex (self->ctx, cipher, NULL, key, NULL) != 1)
    return FALSE;
  /* The record's own padding is checked below, not by EVP. */
  EVP_CIPHER_CTX_set_padding (self->ctx, 0);
  params[0] = OSSL_PARAM_construct_utf8_string (OSSL_MAC_PARAM_DIGEST, (char *)info->mac_digest, 0);
  params[1] = OSSL_PARAM_construct_end ();
  if (EVP_MAC_init (self->mac, mac_key, info->mac_len, params) != 1)
    return FALSE;
  self->info = info;
  self->tls13 = FALSE;
  self->etm = etm;
  memcpy (self->key, key, info->key_len);
  memcpy (self->mac_key, mac_key, info->mac_len);
  self->gcm_fixed = FALSE;
  self->serial = next_serial ();
  self->ready = TRUE;
  return TRUE;
}

gboolean
_ts_tls_cipher_copy (TsTlsCipher *self, const TsTlsCipher *src)
{
  gboolean ok;

  g_return_val_if_fail (src->ready, FALSE);
  if (src->mac != NULL)
    ok = _ts_tls_cipher_set_cbc_key (self, src->info, src->key, src->mac_key, src->etm);
  else
    ok = _ts_tls_cipher_set_key (self, src->info, src->tls13, src->key, src->iv);
  if (ok)
    self->serial = src->serial;
  return ok;
}

gboolean
_ts_tls_cipher_same_keys (const TsTlsCipher *a, const TsTlsCipher *b)
{
  const TsTlsSuiteInfo *info = a->info;

  if (!a->ready || !b->ready || info != b->info || a->tls13 != b->tls13
      || (a->mac == NULL) != (b->mac == NULL))
    return FALSE;
  if (a->mac != NULL)
    return a->etm == b->etm && memcmp (a->key, b->key, info->key_len) == 0
           && memcmp (a->mac_key, b->mac_key, info->mac_len) == 0;
  return memcmp (a->key, b->key, info->key_len) == 0 && memcmp (a->iv, b->iv, sizeof a->iv) == 0;
}

/* HMAC (RFC 5246 §6.2.3.1) over seq_num + type + version + length + @data. */
static gboolean
cbc_mac (TsTlsCipher *self, guint64 seq, const guint8 *header, gsize length, const guint8 *data,
         gsize data_len, guint8 *out)
{
  guint8 pseudo[13];
  gsize out_len = 0;

  for (int i = 0; i < 8; i++)
    pseudo[i] = (guint8)(seq >> (56 - 8 * i));
  pseudo[8] = header[0];
  pseudo[9] = header[1];
  pseudo[10] = header[2];
  pseudo[11] = (guint8)(length >> 8);
  pseudo[12] = (guint8)length;
  /* Re-initialised with no key: the key given at set_cbc_key stays. */
  return EVP_MAC_init (self->mac, NULL, 0, NULL) == 1
         && EVP_MAC_update (self->mac, pseudo, sizeof pseudo) == 1
         && EVP_MAC_update (self->mac, data, data_len) == 1
         && EVP_MAC_final (self->mac, out, &out_len, EVP_MAX_MD_SIZE) == 1
         && out_len == self->info->mac_len;
}

/*
 * RFC 5246 §6.2.3.2 GenericBlockCipher (TLS 1.1 and 1.2):
 *
 *     struct {
 *         opaque IV[SecurityParameters.record_iv_length];
 *         block-ciphered struct {
 *             opaque content[TLSCompressed.length];
 *             opaque MAC[SecurityParameters.mac_length];
 *             uint8 padding[GenericBlockCipher.padding_length];
 *             uint8 padding_length;
 *         };
 *     } GenericBlockCipher;
 *
 * With RFC 7366 encrypt_then_mac the MAC follows the ciphertext instead,
 * computed over IV and ciphertext, and the block holds content and padding.
 */
static gssize
cbc_open (TsTlsCipher *self, guint64 seq, const guint8 *header, const guint8 *fragment,
          gsize fragment_len, guint8 *out)
{
  gsize mac_len = self->info->mac_len;
  guint8 mac[EVP_MAX_MD_SIZE];
  const guint8 *iv = fragment;
  const guint8 *ct = fragment + TS_TLS_CBC_BLOCK;
  gsize ct_len;
  guint8 pad;
  gsize content_len;
  int n = 0;

  if (self->etm)
    {
      if (fragment_len < TS_TLS_CBC_BLOCK + TS_TLS_CBC_BLOCK + mac_len)
        return -1;
      ct_len = fragment_len - TS_TLS_CBC_BLOCK - mac_len;
      if (!cbc_mac (self, seq, header, fragment_len - mac_len, fragment, fragment_len - mac_len,
                    mac)
          || CRYPTO_memcmp (mac, fragment + fragment_len - mac_len, mac_len) != 0)
        return -1;
    }
  else
    {
      if (fragment_len < TS_TLS_CBC_BLOCK + MAX (TS_TLS_CBC_BLOCK, mac_len + 1))
        return -1;
      ct_len = fragment_len - TS_TLS_CBC_BLOCK;
    }
  if (ct_len == 0 || ct_len % TS_TLS_CBC_BLOCK != 0)
    return -1;
  if (EVP_DecryptInit_ex (self->ctx, NULL, NULL, NULL, iv) != 1
      || EVP_DecryptUpdate (self->ctx, out, &n, ct, (int)ct_len) != 1 || (gsize)n != ct_len)
    return -1;

  /* The padding: padding_length + 1 bytes, each equal to padding_length. */
  pad = out[ct_len - 1];
  if ((gsize)pad + 1 > ct_len)
    return -1;
  for (gsize i = ct_len - 1 - pad; i < ct_len; i++)
    if (out[i] != pad)
      return -1;
  content_len = ct_len - 1 - pad;
  if (self->etm)
    return (gssize)content_len;

  if (content_len < mac_len)
    return -1;
  content_len -= mac_len;
  if (!cbc_mac (self, seq, header, content_len, out, content_len, mac)
      || CRYPTO_memcmp (mac, out + content_len, mac_len) != 0)
    return -1;
  return (gssize)content_len;
}

gboolean
_ts_tls_cipher_set_secret (TsTlsCipher *self, const TsTlsSuiteInfo *info, const guint8 *secret,
                           gsize secret_len)
{
  guint8 key[TS_TLS_KEY_MAX];
  guint8 iv[TS_TLS_IV_LEN];
  gboolean ok;

  /* RFC 8446 §7.3: [sender]_write_key = HKDF-Expand-Label(Secret, "key", "", key_length),
   * [sender]_write_iv = HKDF-Expand-Label(Secret, "iv", "", iv_length). */
  ok = _ts_tls13_expand_label (info->digest, secret, secret_len, "key", NULL, 0, key, info->key_len)
       && _ts_tls13_expand_label (info->digest, secret, secret_len, "iv", NULL, 0, iv, sizeof iv)
       && _ts_tls_cipher_set_key (self, info, TRUE, key, iv);
  OPENSSL_cleanse (key, sizeof key);
  return ok;
}

/* The per-record nonce of RFC 8446 §5.3 and RFC 7905 §2: the 64-bit
 * sequence number, left-padded to 12 bytes, XORed with the write IV. */
static void
xor_nonce (const guint8 *iv, guint64 seq, guint8 *nonce)
{
  memcpy (nonce, iv, TS_TLS_IV_LEN);
  for (int i = 0; i < 8; i++)
    nonce[TS_TLS_IV_LEN - 1 - i] ^= (guint8)(seq >> (8 * i));
}

/* The nonce and additional data of an AEAD record with @header (5 bytes)
 * and a fragment of @fragment_len bytes whose first bytes are @explicit (8
 * bytes, TLS 1.2 GCM only). Sets *@ct_off and *@ct_len: where the
 * ciphertext lies in the fragment. FALSE if the record is too short. */
static gboolean
aead_params (TsTlsCipher *self, guint64 seq, const guint8 *header, const guint8 *explicit,
             gsize fragment_len, guint8 *nonce, guint8 *aad, gsize *aad_len, gsize *ct_off,
             gsize *ct_len)
{
  if (self->tls13)
    {
      /* RFC 8446 §5.2: additional_data = the record header;
       * the plaintext holds at least the inner content type. */
      if (fragment_len < TS_TLS_AEAD_TAG_LEN + 1)
        return FALSE;
      xor_nonce (self->iv, seq, nonce);
      memcpy (aad, header, 5);
      *aad_len = 5;
      *ct_off = 0;
      *ct_len = fragment_len - TS_TLS_AEAD_TAG_LEN;
      return TRUE;
    }
  else
    {
      gsize explicit_len = self->info->aead == TS_TLS_AEAD_CHACHA20_POLY1305 ? 0 : 8;

      /* RFC 5246 §6.2.3.3: additional_data = seq_num + type + version + length
       * (of the plaintext). GCM (RFC 5288 §3): nonce = salt[4] + explicit[8],
       * the explicit part first in the fragment. ChaCha20 (RFC 7905 §2):
       * nonce = IV XOR seq, nothing explicit. */
      if (fragment_len < explicit_len + TS_TLS_AEAD_TAG_LEN)
        return FALSE;
      if (explicit_len > 0)
        {
          memcpy (nonce, self->iv, 4);
          memcpy (nonce + 4, explicit, 8);
        }
      else
        xor_nonce (self->iv, seq, nonce);
      *ct_off = explicit_len;
      *ct_len = fragment_len - explicit_len - TS_TLS_AEAD_TAG_LEN;
      for (int i = 0; i < 8; i++)
        aad[i] = (guint8)(seq >> (56 - 8 * i));
      aad[8] = header[0];
      aad[9] = header[1];
      aad[10] = header[2];
      aad[11] = (guint8)(*ct_len >> 8);
      aad[12] = (guint8)*ct_len;
      *aad_len = 13;
      return TRUE;
    }
}

/* Starts an AEAD record: nonce, tag and additional data. */
static gboolean
aead_begin (TsTlsCipher *self, const guint8 *nonce, const guint8 *aad, gsize aad_len, guint8 *tag)
{
  int n = 0;

  if (self->gcm_fixed)
    {
      /* The nonce's last 8 bytes and the tag in one call (the tag is only
       * compared at the final call, which still verifies it). */
      OSSL_PARAM params[3];

      params[0] = OSSL_PARAM_construct_octet_string (OSSL_CIPHER_PARAM_AEAD_TLS1_SET_IV_INV,
                                                     (void *)(nonce + 4), TS_TLS_IV_LEN - 4);
      params[1] = OSSL_PARAM_construct_octet_string (OSSL_CIPHER_PARAM_AEAD_TAG, tag,
                                                     TS_TLS_AEAD_TAG_LEN);
      params[2] = OSSL_PARAM_construct_end ();
      return EVP_CIPHER_CTX_set_params (self->ctx, params) == 1
             && EVP_DecryptUpdate (self->ctx, NULL, &n, aad, (int)aad_len) == 1;
    }
  return EVP_DecryptInit_ex (self->ctx, NULL, NULL, NULL, nonce) == 1
         && EVP_DecryptUpdate (self->ctx, NULL, &n, aad, (int)aad_len) == 1
         && EVP_CIPHER_CTX_ctrl (self->ctx, EVP_CTRL_AEAD_SET_TAG, TS_TLS_AEAD_TAG_LEN, tag) == 1;
}

/* Decrypts @len bytes at @ct to @out (a stream cipher mode: as many out). */
static gboolean
aead_update (TsTlsCipher *self, const guint8 *ct, gsize len, guint8 *out)
{
  int n = 0;

  return len == 0 || (EVP_DecryptUpdate (self->ctx, out, &n, ct, (int)len) == 1 && (gsize)n == len);
}

/* Verifies the tag. */
static gboolean
aead_finish (TsTlsCipher *self, guint8 *out)
{
  int m = 0;

  return EVP_DecryptFinal_ex (self->ctx, out, &m) == 1;
}

gssize
_ts_tls_cipher_open (TsTlsCipher *self, guint64 seq, const guint8 *header, const guint8 *fragment,
                     gsize fragment_len, guint8 *out)
{
  guint8 nonce[TS_TLS_IV_LEN];
  guint8 aad[13];
  gsize aad_len, ct_off, ct_len;
  guint8 tag[TS_TLS_AEAD_TAG_LEN];

  g_assert (self->ready);

  if (self->info->aead == TS_TLS_CBC_AES_128 || self->info->aead == TS_TLS_CBC_AES_256)
    return cbc_open (self, seq, header, fragment, fragment_len, out);

  if (!aead_params (self, seq, header, fragment, fragment_len, nonce, aad, &aad_len, &ct_off,
                    &ct_len))
    return -1;
  memcpy (tag, fragment + ct_off + ct_len, TS_TLS_AEAD_TAG_LEN);
  if (!aead_begin (self, nonce, aad, aad_len, tag)
      || !aead_update (self, fragment + ct_off, ct_len, out) || !aead_finish (self, out + ct_len))
    return -1;
  return (gssize)ct_len;
}

gboolean
_ts_tls_cipher_opens_pieces (const TsTlsCipher *self)
{
  return self->ready && self->info->aead != TS_TLS_CBC_AES_128
         && self->info->aead != TS_TLS_CBC_AES_256;
}

void
_ts_tls_pieces_copy (const TsTlsPiece *pieces, guint n_pieces, gsize from, gsize len, guint8 *out)
{
  gsize at = 0;

  for (guint i = 0; i < n_pieces && len > 0; i++)
    {
      const TsTlsPiece *p = &pieces[i];

      if (from < at + p->len)
        {
          gsize skip = from - at, take = MIN (p->len - skip, len);

          memcpy (out, p->data + skip, take);
          out += take;
          from += take;
          len -= take;
        }
      at += p->len;
    }
}

gssize
_ts_tls_cipher_open_pieces (TsTlsCipher *self, guint64 seq, const TsTlsPiece *pieces,
                            guint n_pieces, gsize rec_len, guint8 *out)
{
  guint8 header[5], explicit[8] = { 0 };
  guint8 nonce[TS_TLS_IV_LEN];
  guint8 aad[13];
  gsize aad_len, ct_off, ct_len, at = 0, from, to;
  guint8 tag[TS_TLS_AEAD_TAG_LEN];

  g_assert (_ts_tls_cipher_opens_pieces (self));

  if (rec_len < 5)
    return -1;
  _ts_tls_pieces_copy (pieces, n_pieces, 0, 5, header);
  _ts_tls_pieces_copy (pieces, n_pieces, 5, MIN (rec_len - 5, sizeof explicit), explicit);
  if (!aead_params (self, seq, header, explicit, rec_len - 5, nonce, aad, &aad_len, &ct_off,
                    &ct_len))
    return -1;
  _ts_tls_pieces_copy (pieces, n_pieces, 5 + ct_off + ct_len, TS_TLS_AEAD_TAG_LEN, tag);
  if (!aead_begin (self, nonce, aad, aad_len, tag))
    return -1;
  /* The ciphertext is record bytes [from, to). */
  from = 5 + ct_off;
  to = from + ct_len;
  for (guint i = 0; i < n_pieces && at < to; i++)
    {
      gsize a = MAX (at, from), b = MIN (at + pieces[i].len, to);

      if (a < b && !aead_update (self, pieces[i].data + (a - at), b - a, out + (a - from)))
        return -1;
      at += pieces[i].len;
    }
  if (!aead_finish (self, out + ct_len))
    return -1;
  return (gssize)ct_len;
}

gboolean
_ts_tls13_expand_label (const char *digest, const guint8 *secret, gsize secret_len,
                        const char *label, const guint8 *context, gsize context_len, guint8 *out,
                        gsize out_len)
{
  /* RFC 8446 §7.1:
   *   struct {
   *       uint16 length = Length;
   *       opaque label<7..255> = "tls13 " + Label;
   *       opaque context<0..255> = Context;
   *   } HkdfLabel; */
  guint8 info[2 + 1 + 255 + 1 + 255];
  gsize label_len = strlen (label);
  gsize n = 0;
  int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
  OSSL_PARAM params[5];
  EVP_KDF_CTX *kctx;
  int ok;

  g_return_val_if_fail (label_len + 6 <= 255 && context_len <= 255, FALSE);
  info[n++] = (guint8)(out_len >> 8);
  info[n++] = (guint8)out_len;
  info[n++] = (guint8)(6 + label_len);
  memcpy (info + n, "tls13 ", 6);
  n += 6;
  memcpy (info + n, label, label_len);
  n += label_len;
  info[n++] = (guint8)context_len;
  if (context_len > 0)
    memcpy (info + n, context, context_len);
  n += context_len;

  params[0] = OSSL_PARAM_construct_int (OSSL_KDF_PARAM_MODE, &mode);
  params[1] = OSSL_PARAM_construct_utf8_string (OSSL_KDF_PARAM_DIGEST, (char *)digest, 0);
  params[2] = OSSL_PARAM_construct_octet_string (OSSL_KDF_PARAM_KEY, (void *)secret, secret_len);
  params[3] = OSSL_PARAM_construct_octet_string (OSSL_KDF_PARAM_INFO, info, n);
  params[4] = OSSL_PARAM_construct_end ();
  kctx = EVP_KDF_CTX_new (fetch_kdf (FALSE));
  if (kctx == NULL)
    return FALSE;
  ok = EVP_KDF_derive (kctx, out, out_len, params);
  EVP_KDF_CTX_free (kctx);
  return ok == 1;
}

gboolean
_ts_tls13_extract (const char *digest, const guint8 *salt, gsize salt_len, const guint8 *ikm,
                   gsize ikm_len, guint8 *out, gsize out_len)
{
  int mode = EVP_KDF_HKDF_MODE_EXTRACT_ONLY;
  OSSL_PARAM params[5];
  EVP_KDF_CTX *kctx;
  guint8 zero = 0;
  int ok;

  params[0] = OSSL_PARAM_construct_int (OSSL_KDF_PARAM_MODE, &mode);
  params[1] = OSSL_PARAM_construct_utf8_string (OSSL_KDF_PARAM_DIGEST, (char *)digest, 0);
  params[2] = OSSL_PARAM_construct_octet_string (OSSL_KDF_PARAM_KEY,
                                                 ikm_len > 0 ? (void *)ikm : &zero, ikm_len);
  params[3] = OSSL_PARAM_construct_octet_string (OSSL_KDF_PARAM_SALT,
                                                 salt_len > 0 ? (void *)salt : &zero, salt_len);
  params[4] = OSSL_PARAM_construct_end ();
  kctx = EVP_KDF_CTX_new (fetch_kdf (FALSE));
  if (kctx == NULL)
    return FALSE;
  ok = EVP_KDF_derive (kctx, out, out_len, params);
  EVP_KDF_CTX_free (kctx);
  return ok == 1;
}

gboolean
_ts_tls12_prf (const char *digest, const guint8 *secret, gsize secret_len, const char *label,
               const guint8 *seed, gsize seed_len, guint8 *out, gsize out_len)
{
  /* RFC 5246 §5: PRF(secret, label, seed) = P_<hash>(secret, label + seed).
   * OpenSSL's TLS1-PRF concatenates its seed parameters in order. */
  OSSL_PARAM params[5];
  EVP_KDF_CTX *kctx;
  int ok;

  params[0] = OSSL_PARAM_construct_utf8_string (OSSL_KDF_PARAM_DIGEST, (char *)digest, 0);
  params[1] = OSSL_PARAM_construct_octet_string (OSSL_KDF_PARAM_SECRET, (void *)secret, secret_len);
  params[2]
      = OSSL_PARAM_construct_octet_string (OSSL_KDF_PARAM_SEED, (void *)label, strlen (label));
  params[3] = OSSL_PARAM_construct_octet_string (OSSL_KDF_PARAM_SEED, (void *)seed, seed_len);
  params[4] = OSSL_PARAM_construct_end ();
  kctx = EVP_KDF_CTX_new (fetch_kdf (TRUE));
  if (kctx == NULL)
    return FALSE;
  ok = EVP_KDF_derive (kctx, out, out_len, params);
  EVP_KDF_CTX_free (kctx);
  return ok == 1;
}
