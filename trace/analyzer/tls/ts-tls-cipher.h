/* ts-tls-cipher.h: record protection for TLS 1.2 and 1.3 AEAD suites, and their key schedules
 * (private). SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <openssl/evp.h>

#include "ts-tls-types.h"

G_BEGIN_DECLS

typedef enum
{
  TS_TLS_AEAD_NONE = 0,
  TS_TLS_AEAD_AES_128_GCM,
  TS_TLS_AEAD_AES_256_GCM,
  TS_TLS_AEAD_CHACHA20_POLY1305,
  TS_TLS_CBC_AES_128, /* TLS 1.1/1.2 block ciphers with an HMAC: not AEAD, */
  TS_TLS_CBC_AES_256, /* but opened through the same call */
} TsTlsAead;

/* What a cipher suite needs for decryption. */
typedef struct
{
  guint16 suite;
  gboolean tls13; /* a TLS 1.3 suite (0x13xx) */
  TsTlsAead aead;
  const char *digest; /* "SHA256" or "SHA384": HKDF / PRF hash */
  gsize hash_len;
  gsize key_len;
  gsize fixed_iv_len;     /* TLS 1.2: 4 for GCM (salt), 12 for ChaCha20, 0 for CBC; TLS 1.3: 12 */
  const char *mac_digest; /* CBC: the HMAC hash ("SHA1", "SHA256", "SHA384"), else NULL */
  gsize mac_len;
} TsTlsSuiteInfo;

#define TS_TLS_AEAD_TAG_LEN 16
#define TS_TLS_KEY_MAX 32
#define TS_TLS_MAC_KEY_MAX 48
#define TS_TLS_CBC_BLOCK 16
#define TS_TLS_IV_LEN 12

/* The suite's parameters, or NULL for a suite we do not decrypt. */
const TsTlsSuiteInfo *_ts_tls_suite_lookup (guint16 suite);

/* One direction's read state: an AEAD context kept across records (keyed
 * once per epoch, only the nonce changes per record). */
typedef struct _TsTlsCipher
{
  EVP_CIPHER_CTX *ctx;
  const TsTlsSuiteInfo *info;
  gboolean tls13;
  guint8 iv[TS_TLS_IV_LEN];
  gboolean ready;
  /* CBC suites: the HMAC, keyed once; and whether encrypt_then_mac
   * (RFC 7366) was negotiated. */
  EVP_MAC_CTX *mac;
  gboolean etm;
  /* AES-GCM: the fixed part of the nonce is set in @ctx once per key, so
   * that a record sets only its last 8 bytes (and its tag) in one call:
   * re-initialising the context per record costs more than the AES of a
   * 1400-byte record in OpenSSL 3.0. */
  gboolean gcm_fixed;
  /* Tells apart the keys this cipher was given: a new number (never 0) at
   * every set_key, unique in the process. */
  guint64 serial;
  /* The key material, for _ts_tls_cipher_copy (). */
  guint8 key[TS_TLS_KEY_MAX];
  guint8 mac_key[TS_TLS_MAC_KEY_MAX];
} TsTlsCipher;

void _ts_tls_cipher_clear (TsTlsCipher *self);

/* Keys @self for @info with @key (info->key_len bytes) and @iv
 * (info->fixed_iv_len bytes). @tls13 selects the record format. FALSE if
 * OpenSSL refuses (then @self is not ready). */
gboolean _ts_tls_cipher_set_key (TsTlsCipher *self, const TsTlsSuiteInfo *info, gboolean tls13,
                                 const guint8 *key, const guint8 *iv);

/* Keys @self (cleared or unused) exactly as @src (ready) is keyed, with the
 * same serial: for another thread that opens records of the same epoch.
 * FALSE if OpenSSL refuses. */
gboolean _ts_tls_cipher_copy (TsTlsCipher *self, const TsTlsCipher *src);

/* Whether @a and @b (both ready) open records alike: the same suite,
 * record format and key material. */
gboolean _ts_tls_cipher_same_keys (const TsTlsCipher *a, const TsTlsCipher *b);

/* TLS 1.1/1.2 CBC suites: keys @self with @key (info->key_len bytes) and
 * @mac_key (info->mac_len bytes); @etm: RFC 7366 encrypt_then_mac. */
gboolean _ts_tls_cipher_set_cbc_key (TsTlsCipher *self, const TsTlsSuiteInfo *info,
                                     const guint8 *key, const guint8 *mac_key, gboolean etm);

/* TLS 1.3: keys @self from a traffic secret (RFC 8446 §7.3). */
gboolean _ts_tls_cipher_set_secret (TsTlsCipher *self, const TsTlsSuiteInfo *info,
                                    const guint8 *secret, gsize secret_len);

/* Opens one record: @header is its 5-byte header, @fragment its body
 * (@fragment_len bytes). Writes the plaintext to @out (at least
 * @fragment_len bytes, not overlapping @fragment). Returns the plaintext
 * length (for TLS 1.3: with the inner type byte and padding still on), or
 * -1 if the record is too short or the tag (CBC: padding or MAC) does not
 * verify. */
gssize _ts_tls_cipher_open (TsTlsCipher *self, guint64 seq, const guint8 *header,
                            const guint8 *fragment, gsize fragment_len, guint8 *out);

/* The same for a record of @rec_len bytes (header included) given as
 * @n_pieces pieces, opened as it lies (no copy of the record): AEAD suites
 * only (CBC suites: FALSE from _ts_tls_cipher_opens_pieces ()). */
gssize _ts_tls_cipher_open_pieces (TsTlsCipher *self, guint64 seq, const TsTlsPiece *pieces,
                                   guint n_pieces, gsize rec_len, guint8 *out);

/* Whether @self (ready) can open records given in pieces. */
gboolean _ts_tls_cipher_opens_pieces (const TsTlsCipher *self);

/* Copies bytes [@from, @from + @len) of the record given as @pieces to @out. */
void _ts_tls_pieces_copy (const TsTlsPiece *pieces, guint n_pieces, gsize from, gsize len,
                          guint8 *out);

/* RFC 8446 §7.1 HKDF-Expand-Label (Secret, Label, Context, Length) with the
 * hash @digest ("SHA256", "SHA384"). */
gboolean _ts_tls13_expand_label (const char *digest, const guint8 *secret, gsize secret_len,
                                 const char *label, const guint8 *context, gsize context_len,
                                 guint8 *out, gsize out_len);

/* RFC 8446 §7.1 HKDF-Extract (Salt, IKM). @out gets the hash length. */
gboolean _ts_tls13_extract (const char *digest, const guint8 *salt, gsize salt_len,
                            const guint8 *ikm, gsize ikm_len, guint8 *out, gsize out_len);

/* RFC 5246 §5 PRF (secret, label, seed) with P_@digest. */
gboolean _ts_tls12_prf (const char *digest, const guint8 *secret, gsize secret_len,
                        const char *label, const guint8 *seed, gsize seed_len, guint8 *out,
                        gsize out_len);

G_END_DECLS
