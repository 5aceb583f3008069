/* ts-tls-session.c: the TLS decoder of one TCP connection: records, handshake, decryption.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "ts-tls-session.h"

#include <string.h>

#include <openssl/crypto.h>

#include "ts-tls-cipher.h"
#include "ts-tls-handshake.h"

/* Which keys protect a direction's records now. */
typedef enum
{
  EPOCH_CLEAR,       /* nothing protected (yet) */
  EPOCH_HANDSHAKE,   /* TLS 1.3: [sender]_handshake_traffic_secret */
  EPOCH_APPLICATION, /* TLS 1.3: [sender]_application_traffic_secret_N */
  EPOCH_TLS12,       /* TLS 1.2: after ChangeCipherSpec, the key block */
} Epoch;

/* What installing a direction's keys came to. */
typedef enum
{
  KEYS_OK,
  KEYS_NOT_YET, /* a secret (or the ServerHello) is missing: may come later */
  KEYS_NEVER,   /* an unsupported suite, or keys that OpenSSL refused */
} KeysResult;

typedef struct
{
  guint64 offset; /* stream offset of the next byte to be fed */
  gboolean started;
  gboolean stopped;
  gboolean desync; /* after a gap: scanning for a record header */

  /* The record being assembled across chunks. */
  guint8 *rbuf; /* grown to the largest record seen, at most TS_TLS_RECORD_CAP */
  gsize rbuf_size;
  gsize rlen;
  /* Where rbuf's bytes come from, while src_len == rlen (a record opened
   * ahead from the same pieces of the trace needs no comparison). Bytes
   * past the header in memory that stays (TsTlsAhead.stable) are copied
   * only when needed: rbuf holds the first @copied (if fewer than rlen,
   * src is whole and the rest is still where it came from). */
  TsTlsPiece src[TS_TLS_PIECES_MAX];
  guint n_src;
  gsize src_len;
  gsize copied;

  /* Protection. */
  Epoch epoch;
  TsTlsCipher cipher;
  guint64 seq;
  guint8 secret[TS_TLS_SECRET_MAX]; /* TLS 1.3: the current traffic secret */
  gsize secret_len;
  gboolean undecryptable; /* keys lost in a gap or refused, or an unsupported suite */
  guint64 seq_end;        /* stream offset where the record numbered @seq starts, in step */
  guint64 mean_len;       /* wire size of recent protected records, in 1/16 byte (EMA) */
  guint16 rec_version;    /* outer version of the last record opened */

  /* After a gap: record sync is searched again, and the sequence number of
   * the next protected record is unknown (seq_lost): it is @seq plus the
   * number of records lost since seq_end. A gap run lasts until a record
   * opens; gaps within it refill its budget of trial decryptions. */
  gboolean had_gap;
  gboolean seq_lost;
  guint64 n_seen;       /* records of this run whose header was read (counted, not guessed)... */
  guint64 seen_bytes;   /* ...and their bytes */
  guint seq_budget;     /* trial decryptions left to this run */
  guint64 seq_reach;    /* distance from the estimate its failed records were tried to */
  gboolean seq_told;    /* its DECRYPT_FAILED is reported */
  guint64 n_seq_opaque; /* its records that no candidate opened */

  /* TLS 1.3 0-RTT (client only): the ClientHello offered early data, and
   * records may be under the early traffic key until EndOfEarlyData or the
   * first record that opens with the handshake key. */
  gboolean early_active;
  TsTlsCipher early;
  guint64 early_seq;
  gboolean told_missing; /* MISSING_KEYS reported for this epoch */
  guint handshake;       /* TLS 1.2: the handshake its keys come from (0, or a renegotiation) */

  /* A handshake message being assembled across records. */
  GByteArray *hs;
  guint64 hs_offset; /* stream offset of the record holding its first byte */
  guint64 hs_skip;   /* bytes left of a message over TS_TLS_HANDSHAKE_CAP */

  /* Protected records held back until their keys arrive: whole records,
   * back to back, the first at held_offset. */
  GByteArray *held;
  guint64 held_offset;
  gint64 held_since_us; /* capture time of the first held record, or -1 */
  gboolean gave_up;     /* stop holding: report at once */
} Dir;

/* One renegotiation's handshake: its randoms, suite and encrypt_then_mac. */
typedef struct
{
  guint handshake; /* 1, 2, ...: which renegotiation */
  guint8 client_random[32], server_random[32];
  gboolean have_client_hello, have_server_hello;
  gboolean offered_etm, etm; /* the ClientHello offered it, the ServerHello took it */
  const TsTlsSuiteInfo *suite;
} Reneg;

struct _TsTlsSession
{
  TsTlsKeylog *keylog;
  TsTlsEventFunc func;
  gpointer user_data;
  guint64 keylog_generation; /* when held records were last tried */
  gboolean retry_needed;     /* the state changed: try held records again */
  gsize pending_cap;
  gint64 time_us;
  gboolean finished;

  const TsTlsSuiteInfo *suite;
  char *server_name;
  char *alpn;
  TsTlsSessionInfo info;

  guint8 *plain; /* decrypted record, grown to the largest fragment seen */
  gsize plain_size;
  gboolean in_early;      /* the record being dispatched came in 0-RTT data */
  gboolean offered_tls13; /* the ClientHello listed TLS 1.3 in supported_versions */
  gboolean offered_etm;   /* the ClientHello offered encrypt_then_mac (RFC 7366) */
  gboolean etm;           /* ...and the ServerHello accepted it */
  /* TLS 1.2 renegotiation (RFC 5246 §7.4.1): a new handshake under the
   * current keys; each direction takes the new keys with its next
   * change_cipher_spec. Handshake k's randoms and suite, in slot k % 2
   * (the two directions are at most one handshake apart, whatever order
   * their records are read in); handshake 0 is info's. */
  Reneg reneg[2];
  guint n_client_hellos; /* renegotiating ClientHellos seen */
  guint n_server_hellos; /* their ServerHellos seen */
  Dir dir[2];
  const TsTlsAhead *ahead; /* records opened ahead, or NULL */
  gpointer ahead_data;
};

/* The largest fragment (RFC 5246 §6.2.3: TLSCiphertext.length ≤ 2^14 + 2048). */
#define FRAGMENT_MAX (16384 + 2048)

/* The smallest protected record: header and AEAD tag (an empty TLS 1.2
 * ChaCha20 record). A gap of n bytes lost at most n / this records. */
#define TS_TLS_MIN_RECORD (5 + 16)

/* After a gap the sequence number of the next record is estimated: the
 * records since the last one in step whose header was read are counted,
 * the bytes of those lost whole are divided by the recent records' mean
 * size. The window is what the lost bytes allow at worst (one record per
 * TS_TLS_MIN_RECORD bytes), without a cap: the search goes outwards from
 * the estimate (each try is one AEAD over the record), first the
 * TS_TLS_GAP_SEQ_NEAR numbers either side, where a bulk transfer of equal
 * records is found at the first try; then, for a record that still does
 * not open, further out, at most TS_TLS_GAP_RECORD_TRIALS tries per record
 * and TS_TLS_GAP_SEQ_TRIALS per gap run (each gap refills it). A run's
 * later records go on from where its earlier ones stopped, so an estimate
 * that is far off (a burst of small records lost among large ones) is
 * still reached, record by record and gap by gap, while a hopeless
 * direction (two KeyUpdates lost in one gap) costs at most
 * TS_TLS_GAP_SEQ_TRIALS tries per gap, whatever the number of records. */
#define TS_TLS_GAP_SEQ_NEAR 4
#define TS_TLS_GAP_RECORD_TRIALS 64
#define TS_TLS_GAP_SEQ_TRIALS 512

static const char *const event_kind_names[] = {
  "record", "handshake", "change_cipher_spec", "alert", "application_data", "opaque", "anomaly",
};

static const char *const anomaly_names[] = {
  "none",           "not_tls",    "malformed_record", "malformed_message",
  "too_large",      "unexpected", "missing_keys",     "unsupported_cipher",
  "decrypt_failed", "gap",        "truncated",
};

const char *
ts_tls_event_kind_to_string (guint kind)
{
  return kind < G_N_ELEMENTS (event_kind_names) ? event_kind_names[kind] : NULL;
}

const char *
ts_tls_anomaly_to_string (guint anomaly)
{
  return anomaly < G_N_ELEMENTS (anomaly_names) ? anomaly_names[anomaly] : NULL;
}

const char *
ts_tls_direction_to_string (guint direction)
{
  return direction == TS_TLS_DIR_CLIENT   ? "client"
         : direction == TS_TLS_DIR_SERVER ? "server"
                                          : NULL;
}

TsTlsSession *
ts_tls_session_new (TsTlsKeylog *keylog, TsTlsEventFunc func, gpointer user_data)
{
  TsTlsSession *self;

  g_return_val_if_fail (func != NULL, NULL);

  self = g_new0 (TsTlsSession, 1);
  self->keylog = keylog != NULL ? ts_tls_keylog_ref (keylog) : NULL;
  self->keylog_generation = keylog != NULL ? ts_tls_keylog_get_generation (keylog) : 0;
  self->func = func;
  self->user_data = user_data;
  self->pending_cap = TS_TLS_PENDING_CAP;
  self->time_us = -1;
  for (int i = 0; i < 2; i++)
    {
      self->dir[i].hs = g_byte_array_new ();
      self->dir[i].held = g_byte_array_new ();
    }
  return self;
}

void
ts_tls_session_free (TsTlsSession *self)
{
  if (self == NULL)
    return;
  for (int i = 0; i < 2; i++)
    {
      Dir *d = &self->dir[i];

      _ts_tls_cipher_clear (&d->cipher);
      _ts_tls_cipher_clear (&d->early);
      OPENSSL_cleanse (d->secret, sizeof d->secret);
      g_free (d->rbuf);
      g_byte_array_unref (d->hs);
      g_byte_array_unref (d->held);
    }
  g_clear_pointer (&self->keylog, ts_tls_keylog_unref);
  g_free (self->plain);
  g_free (self->server_name);
  g_free (self->alpn);
  g_free (self);
}

void
ts_tls_session_set_pending_cap (TsTlsSession *self, gsize cap)
{
  g_return_if_fail (self != NULL);
  self->pending_cap = cap;
}

/* Copies the bytes of the record in rbuf up to @upto (rlen, or the length
 * of the record just framed from it) that are still only where they came
 * from. */
static void
fill_rbuf (Dir *d, gsize upto)
{
  if (d->copied < upto)
    {
      _ts_tls_pieces_copy (d->src, d->n_src, d->copied, upto - d->copied, d->rbuf + d->copied);
      d->copied = upto;
    }
}

void
ts_tls_session_set_ahead (TsTlsSession *self, const TsTlsAhead *ahead, gpointer user_data)
{
  g_return_if_fail (self != NULL);
  /* What stays readable for the old helper need not for a new one. */
  for (int i = 0; i < 2; i++)
    fill_rbuf (&self->dir[i], self->dir[i].rlen);
  self->ahead = ahead;
  self->ahead_data = user_data;
}

gboolean
ts_tls_session_get_sync (TsTlsSession *self, TsTlsDirection direction, TsTlsSync *out)
{
  Dir *d;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (direction == TS_TLS_DIR_CLIENT || direction == TS_TLS_DIR_SERVER, FALSE);
  d = &self->dir[direction];
  /* Only where the next protected records follow one another with keys
   * that change at no record's content: application data (TLS 1.3, until a
   * KeyUpdate) or TLS 1.2 after ChangeCipherSpec. */
  if (self->finished || d->stopped || d->desync || d->seq_lost || d->held->len > 0
      || d->early_active || !d->cipher.ready
      || (d->epoch != EPOCH_APPLICATION && d->epoch != EPOCH_TLS12))
    return FALSE;
  fill_rbuf (d, d->rlen);
  out->fed = d->offset;
  out->partial = d->rbuf;
  out->partial_len = d->rlen;
  out->seq = d->seq;
  out->cipher = &d->cipher;
  out->all_protected = d->epoch == EPOCH_TLS12;
  return TRUE;
}

const TsTlsSessionInfo *
ts_tls_session_get_info (TsTlsSession *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  self->info.server_name = self->server_name;
  self->info.alpn = self->alpn;
  self->info.decrypting[0] = self->dir[0].cipher.ready;
  self->info.decrypting[1] = self->dir[1].cipher.ready;
  return &self->info;
}

/* Buffers grow to what the records need: a session of small records stays
 * small, and _finish gives everything back. */
static void
ensure_rbuf (Dir *d, gsize n)
{
  if (d->rbuf_size < n)
    {
      d->rbuf_size = MAX (n, MIN (2 * d->rbuf_size, (gsize)TS_TLS_RECORD_CAP));
      d->rbuf = g_realloc (d->rbuf, d->rbuf_size);
    }
}

static guint8 *
ensure_plain (TsTlsSession *self, gsize n)
{
  if (self->plain_size < n)
    {
      self->plain_size = MAX (n, MIN (2 * self->plain_size, (gsize)TS_TLS_RECORD_CAP));
      g_free (self->plain);
      self->plain = g_malloc (self->plain_size);
    }
  return self->plain;
}

/* ---- events ---- */

static void
emit (TsTlsSession *self, TsTlsEvent *ev)
{
  ev->early = self->in_early;
  self->func (ev, self->user_data);
}

static void emit_anomaly (TsTlsSession *self, TsTlsDirection direction, TsTlsAnomaly anomaly,
                          guint64 offset, guint64 end_offset, const char *format, ...)
    G_GNUC_PRINTF (6, 7);

static void
emit_anomaly (TsTlsSession *self, TsTlsDirection direction, TsTlsAnomaly anomaly, guint64 offset,
              guint64 end_offset, const char *format, ...)
{
  TsTlsEvent ev = { 0 };
  char detail[256];
  va_list args;

  va_start (args, format);
  g_vsnprintf (detail, sizeof detail, format, args);
  va_end (args);

  ev.kind = TS_TLS_EVENT_ANOMALY;
  ev.direction = direction;
  ev.offset = offset;
  ev.end_offset = end_offset;
  ev.anomaly = anomaly;
  ev.detail = detail;
  emit (self, &ev);
}

/* ---- keys ---- */

static KeysResult
install_keys (TsTlsSession *self, TsTlsDirection direction)
{
  Dir *d = &self->dir[direction];
  const TsTlsSuiteInfo *suite = self->suite;
  const guint8 *secret;
  gsize secret_len;

  if (d->cipher.ready)
    return KEYS_OK;
  if (d->undecryptable)
    return KEYS_NEVER;
  if (!self->info.have_server_hello || !self->info.have_client_hello)
    return KEYS_NOT_YET;
  if (suite == NULL)
    {
      d->undecryptable = TRUE;
      emit_anomaly (self, direction, TS_TLS_ANOMALY_UNSUPPORTED_CIPHER, d->offset, d->offset,
                    "cipher suite 0x%04x (%s) in %s is not one we decrypt (AES-GCM, "
                    "ChaCha20-Poly1305; AES-CBC from TLS 1.1)",
                    self->info.cipher_suite,
                    ts_tls_cipher_suite_to_string (self->info.cipher_suite) ?: "unknown",
                    ts_tls_version_to_string (self->info.version) ?: "an unknown version");
      return KEYS_NEVER;
    }
  if (self->keylog == NULL)
    return KEYS_NOT_YET;

  if (d->epoch == EPOCH_HANDSHAKE || d->epoch == EPOCH_APPLICATION)
    {
      TsTlsSecretKind kind;

      if (d->epoch == EPOCH_HANDSHAKE)
        kind = direction == TS_TLS_DIR_CLIENT ? TS_TLS_SECRET_CLIENT_HANDSHAKE_TRAFFIC
                                              : TS_TLS_SECRET_SERVER_HANDSHAKE_TRAFFIC;
      else
        kind = direction == TS_TLS_DIR_CLIENT ? TS_TLS_SECRET_CLIENT_TRAFFIC_0
                                              : TS_TLS_SECRET_SERVER_TRAFFIC_0;
      if (!ts_tls_keylog_lookup (self->keylog, self->info.client_random, kind, &secret,
                                 &secret_len))
        return KEYS_NOT_YET;
      if (secret_len != suite->hash_len || !suite->tls13)
        {
          d->undecryptable = TRUE;
          emit_anomaly (self, direction, TS_TLS_ANOMALY_MISSING_KEYS, d->offset, d->offset,
                        "%s is %" G_GSIZE_FORMAT " bytes, %s needs %" G_GSIZE_FORMAT,
                        ts_tls_secret_kind_to_string (kind), secret_len,
                        ts_tls_cipher_suite_to_string (suite->suite), suite->hash_len);
          return KEYS_NEVER;
        }
      memcpy (d->secret, secret, secret_len);
      d->secret_len = secret_len;
      if (!_ts_tls_cipher_set_secret (&d->cipher, suite, d->secret, d->secret_len))
        {
          d->undecryptable = TRUE;
          return KEYS_NEVER;
        }
      return KEYS_OK;
    }

  if (d->epoch == EPOCH_TLS12)
    {
      /* RFC 5246 §6.3: key_block = PRF(master_secret, "key expansion",
       * server_random + client_random), cut into client_write_MAC_key,
       * server_write_MAC_key (CBC suites only), client_write_key,
       * server_write_key, client_write_IV, server_write_IV (AEAD suites
       * only: RFC 5288 §3, RFC 7905 §2). */
      guint8 seed[64];
      guint8 block[2 * TS_TLS_MAC_KEY_MAX + 2 * TS_TLS_KEY_MAX + 2 * TS_TLS_IV_LEN];
      const guint8 *client_random = self->info.client_random, *server_random;
      gboolean etm = self->etm, client = direction == TS_TLS_DIR_CLIENT;
      gsize m, k, v;
      gboolean ok;

      server_random = self->info.server_random;
      if (d->handshake > 0)
        {
          const Reneg *r = &self->reneg[d->handshake % 2];
          if (r->handshake != d->handshake || !r->have_client_hello || !r->have_server_hello)
            return KEYS_NOT_YET;
          if (r->suite == NULL || r->suite->tls13)
            {
              d->undecryptable = TRUE;
              emit_anomaly (self, direction, TS_TLS_ANOMALY_UNSUPPORTED_CIPHER, d->offset,
                            d->offset,
                            "cipher suite 0x%04x (%s) of the renegotiation is not one we decrypt",
                            self->info.cipher_suite,
                            ts_tls_cipher_suite_to_string (self->info.cipher_suite) ?: "unknown");
              return KEYS_NEVER;
            }
          suite = r->suite;
          client_random = r->client_random;
          server_random = r->server_random;
          etm = r->etm && r->offered_etm;
        }
      m = suite->mac_digest != NULL ? suite->mac_len : 0;
      k = suite->key_len;
      v = suite->fixed_iv_len;
      if (suite->tls13)
        {
          d->undecryptable = TRUE;
          return KEYS_NEVER;
        }
      if (!ts_tls_keylog_lookup (self->keylog, client_random, TS_TLS_SECRET_CLIENT_RANDOM, &secret,
                                 &secret_len))
        return KEYS_NOT_YET;
      memcpy (seed, server_random, 32);
      memcpy (seed + 32, client_random, 32);
      ok = _ts_tls12_prf (suite->digest, secret, secret_len, "key expansion", seed, sizeof seed,
                          block, 2 * m + 2 * k + 2 * v);
      if (ok && m > 0)
        ok = _ts_tls_cipher_set_cbc_key (&d->cipher, suite, block + 2 * m + (client ? 0 : k),
                                         block + (client ? 0 : m), etm);
      else if (ok)
        ok = _ts_tls_cipher_set_key (&d->cipher, suite, FALSE, block + (client ? 0 : k),
                                     block + 2 * k + (client ? 0 : v));
      OPENSSL_cleanse (block, sizeof block);
      if (!ok)
        {
          d->undecryptable = TRUE;
          return KEYS_NEVER;
        }
      return KEYS_OK;
    }

  return KEYS_NOT_YET;
}

/* Moves @direction to a new key epoch, starting with its next record. */
static void
set_epoch (TsTlsSession *self, TsTlsDirection direction, Epoch epoch)
{
  Dir *d = &self->dir[direction];

  d->epoch = epoch;
  d->seq = 0;
  d->cipher.ready = FALSE;
  d->told_missing = FALSE;
}

/* The client's early traffic keys (RFC 8446 §7.1 client_early_traffic_secret),
 * with the suite of the ServerHello: a server that accepts early data
 * selects the PSK's suite (§4.2.10). */
static KeysResult
install_early_keys (TsTlsSession *self)
{
  Dir *d = &self->dir[TS_TLS_DIR_CLIENT];
  const guint8 *secret;
  gsize secret_len;

  if (d->early.ready)
    return KEYS_OK;
  if (self->suite == NULL || !self->suite->tls13)
    return KEYS_NEVER;
  if (self->keylog == NULL
      || !ts_tls_keylog_lookup (self->keylog, self->info.client_random,
                                TS_TLS_SECRET_CLIENT_EARLY_TRAFFIC, &secret, &secret_len))
    return KEYS_NOT_YET;
  if (secret_len != self->suite->hash_len
      || !_ts_tls_cipher_set_secret (&d->early, self->suite, secret, secret_len))
    return KEYS_NEVER;
  return KEYS_OK;
}

/* ---- handshake ---- */

/* The suite of the ServerHello @hs, whose version and suite are in @info:
 * NULL where we do not decrypt it. *@out_etm: whether the ServerHello
 * accepts encrypt_then_mac. */
static const TsTlsSuiteInfo *
choose_suite (const TsTlsSessionInfo *info, const TsTlsHandshake *hs, gboolean *out_etm)
{
  const TsTlsSuiteInfo *suite = _ts_tls_suite_lookup (info->cipher_suite);

  if (suite != NULL && suite->tls13 != (info->version == TS_TLS_VERSION_1_3))
    suite = NULL;
  /* CBC with an explicit IV per record needs TLS 1.1 or later. */
  if (suite != NULL && suite->mac_digest != NULL && info->version < TS_TLS_VERSION_1_1)
    suite = NULL;
  *out_etm = FALSE;
  for (guint i = 0; i < hs->n_extensions; i++)
    if (hs->extensions[i] == TS_TLS_EXT_ENCRYPT_THEN_MAC)
      *out_etm = TRUE;
  return suite;
}

/* The slot of renegotiation @handshake (1, 2, ...), cleared when it held an
 * older one. */
static Reneg *
reneg_slot (TsTlsSession *self, guint handshake)
{
  Reneg *r = &self->reneg[handshake % 2];

  if (r->handshake != handshake)
    {
      memset (r, 0, sizeof *r);
      r->handshake = handshake;
    }
  return r;
}

/* The client random @d's keys come from. */
static const guint8 *
key_random (TsTlsSession *self, const Dir *d)
{
  const Reneg *r = &self->reneg[d->handshake % 2];

  return d->handshake > 0 && r->handshake == d->handshake ? r->client_random
                                                          : self->info.client_random;
}

static void
on_handshake (TsTlsSession *self, TsTlsDirection direction, const TsTlsHandshake *hs)
{
  Dir *d = &self->dir[direction];
  TsTlsSessionInfo *info = &self->info;

  switch (hs->type)
    {
      case TS_TLS_HS_CLIENT_HELLO:
        if (direction != TS_TLS_DIR_CLIENT || hs->random == NULL)
          break;
        /* After a HelloRetryRequest the second ClientHello keeps the random. */
        if (!info->have_client_hello)
          {
            for (guint i = 0; i < hs->n_extensions; i++)
              {
                if (hs->extensions[i] == TS_TLS_EXT_EARLY_DATA)
                  d->early_active = TRUE;
                if (hs->extensions[i] == TS_TLS_EXT_ENCRYPT_THEN_MAC)
                  self->offered_etm = TRUE;
              }
            for (guint i = 0; i < hs->n_supported_versions; i++)
              if (hs->supported_versions[i] == TS_TLS_VERSION_1_3)
                self->offered_tls13 = TRUE;
            memcpy (info->client_random, hs->random, 32);
            info->have_client_hello = TRUE;
            self->retry_needed = TRUE;
          }
        else if (d->epoch == EPOCH_TLS12)
          {
            /* A renegotiation, inside the protected records. */
            Reneg *r = reneg_slot (self, ++self->n_client_hellos);
            memcpy (r->client_random, hs->random, 32);
            r->have_client_hello = TRUE;
            for (guint i = 0; i < hs->n_extensions; i++)
              if (hs->extensions[i] == TS_TLS_EXT_ENCRYPT_THEN_MAC)
                r->offered_etm = TRUE;
            self->retry_needed = TRUE;
          }
        if (hs->server_name != NULL && self->server_name == NULL)
          self->server_name = g_strdup (hs->server_name);
        break;

      case TS_TLS_HS_SERVER_HELLO:
        if (direction != TS_TLS_DIR_SERVER || hs->random == NULL || hs->n_cipher_suites != 1)
          break;
        if (info->have_server_hello)
          {
            /* A renegotiation's answer (TLS 1.2 again: RFC 8446 has none). */
            Reneg *r;
            if (d->epoch != EPOCH_TLS12 || hs->selected_version == TS_TLS_VERSION_1_3)
              break;
            r = reneg_slot (self, ++self->n_server_hellos);
            memcpy (r->server_random, hs->random, 32);
            r->have_server_hello = TRUE;
            info->version = hs->selected_version;
            info->cipher_suite = hs->cipher_suites[0];
            r->suite = choose_suite (info, hs, &r->etm);
            self->retry_needed = TRUE;
            break;
          }
        info->version = hs->selected_version;
        info->cipher_suite = hs->cipher_suites[0];
        if (hs->is_hello_retry_request)
          {
            /* RFC 8446 §4.2.10: after a HelloRetryRequest, no early data. */
            info->hello_retry = TRUE;
            self->dir[TS_TLS_DIR_CLIENT].early_active = FALSE;
            break;
          }
        memcpy (info->server_random, hs->random, 32);
        info->have_server_hello = TRUE;
        self->suite = choose_suite (info, hs, &self->etm);
        self->etm = self->etm && self->offered_etm;
        if (hs->n_alpn > 0 && self->alpn == NULL)
          self->alpn = g_strdup (hs->alpn[0]);
        if (info->version == TS_TLS_VERSION_1_3)
          {
            /* RFC 8446 §7: everything after the ServerHello is protected with
             * the handshake traffic keys, in both directions. */
            set_epoch (self, TS_TLS_DIR_SERVER, EPOCH_HANDSHAKE);
            set_epoch (self, TS_TLS_DIR_CLIENT, EPOCH_HANDSHAKE);
          }
        self->retry_needed = TRUE;
        break;

      case TS_TLS_HS_ENCRYPTED_EXTENSIONS:
        if (hs->n_alpn > 0 && self->alpn == NULL)
          self->alpn = g_strdup (hs->alpn[0]);
        break;

      case TS_TLS_HS_END_OF_EARLY_DATA:
        d->early_active = FALSE;
        break;

      case TS_TLS_HS_FINISHED:
        /* RFC 8446 §7.1: the sender's application traffic keys start with its
         * next record. */
        if (d->epoch == EPOCH_HANDSHAKE)
          set_epoch (self, direction, EPOCH_APPLICATION);
        break;

      case TS_TLS_HS_KEY_UPDATE:
        /* RFC 8446 §7.2: application_traffic_secret_N+1 =
         *   HKDF-Expand-Label(application_traffic_secret_N, "traffic upd", "", Hash.length) */
        if (d->epoch == EPOCH_APPLICATION && d->cipher.ready && self->suite != NULL)
          {
            guint8 next[TS_TLS_SECRET_MAX];

            if (_ts_tls13_expand_label (self->suite->digest, d->secret, d->secret_len,
                                        "traffic upd", NULL, 0, next, d->secret_len)
                && _ts_tls_cipher_set_secret (&d->cipher, self->suite, next, d->secret_len))
              {
                memcpy (d->secret, next, d->secret_len);
                d->seq = 0;
              }
            else
              {
                d->cipher.ready = FALSE;
                d->undecryptable = TRUE;
              }
            OPENSSL_cleanse (next, sizeof next);
          }
        else if (d->epoch == EPOCH_APPLICATION)
          {
            /* We could not follow the old keys; the new ones are unknown too. */
            d->undecryptable = TRUE;
          }
        break;

      default:
        break;
    }
}

static void
deliver_handshake (TsTlsSession *self, TsTlsDirection direction, const guint8 *msg, gsize len,
                   guint64 offset, guint64 end_offset, gboolean encrypted, gboolean decrypted)
{
  TsTlsHandshakeScratch scratch;
  TsTlsEvent ev = { 0 };
  gssize r;

  scratch.owned = NULL;
  r = _ts_tls_handshake_decode (&scratch, msg, len, self->info.version, self->time_us);
  g_assert (r != TS_PARSE_INCOMPLETE);

  ev.kind = TS_TLS_EVENT_HANDSHAKE;
  ev.direction = direction;
  ev.offset = offset;
  ev.end_offset = end_offset;
  ev.encrypted = encrypted;
  ev.decrypted = decrypted;
  ev.handshake = &scratch.hs;
  emit (self, &ev);

  if (r == TS_PARSE_INVALID)
    emit_anomaly (self, direction, TS_TLS_ANOMALY_MALFORMED_MESSAGE, offset, end_offset,
                  "%s of %u bytes: %s",
                  ts_tls_handshake_type_to_string (scratch.hs.type) ?: "handshake message",
                  scratch.hs.length, scratch.error);
  else
    {
      if ((scratch.hs.type == TS_TLS_HS_CLIENT_HELLO && direction != TS_TLS_DIR_CLIENT)
          || (scratch.hs.type == TS_TLS_HS_SERVER_HELLO && direction != TS_TLS_DIR_SERVER))
        emit_anomaly (self, direction, TS_TLS_ANOMALY_UNEXPECTED, offset, end_offset,
                      "a %s from the %s side: the directions look swapped, it is ignored",
                      ts_tls_handshake_type_to_string (scratch.hs.type),
                      ts_tls_direction_to_string (direction));
      on_handshake (self, direction, &scratch.hs);
    }
  _ts_tls_handshake_scratch_clear (&scratch);
}

static guint32
hs_length (const guint8 *p)
{
  return (guint32)p[1] << 16 | (guint32)p[2] << 8 | p[3];
}

/* Handshake bytes of one record (RFC 8446 §5.1: messages may be split
 * across records and several may share one). */
static void
feed_handshake (TsTlsSession *self, TsTlsDirection direction, const guint8 *p, gsize n,
                guint64 offset, guint64 end_offset, gboolean encrypted, gboolean decrypted)
{
  Dir *d = &self->dir[direction];

  while (n > 0)
    {
      if (d->hs_skip > 0)
        {
          gsize k = (gsize)MIN (d->hs_skip, n);

          d->hs_skip -= k;
          p += k;
          n -= k;
          continue;
        }

      if (d->hs->len == 0)
        {
          if (n >= 4)
            {
              gsize total = 4 + (gsize)hs_length (p);

              if (total > TS_TLS_HANDSHAKE_CAP)
                {
                  emit_anomaly (self, direction, TS_TLS_ANOMALY_TOO_LARGE, offset, end_offset,
                                "%s of %" G_GSIZE_FORMAT " bytes is over the cap of %u",
                                ts_tls_handshake_type_to_string (p[0]) ?: "handshake message",
                                total - 4, TS_TLS_HANDSHAKE_CAP);
                  d->hs_skip = total;
                  continue;
                }
              if (total <= n)
                {
                  deliver_handshake (self, direction, p, total, offset, end_offset, encrypted,
                                     decrypted);
                  p += total;
                  n -= total;
                  continue;
                }
            }
          g_byte_array_append (d->hs, p, (guint)n);
          d->hs_offset = offset;
          return;
        }
      else
        {
          gsize total, take;

          if (d->hs->len < 4)
            {
              take = MIN (4 - d->hs->len, n);
              g_byte_array_append (d->hs, p, (guint)take);
              p += take;
              n -= take;
              if (d->hs->len < 4)
                return;
            }
          total = 4 + (gsize)hs_length (d->hs->data);
          if (total > TS_TLS_HANDSHAKE_CAP)
            {
              emit_anomaly (self, direction, TS_TLS_ANOMALY_TOO_LARGE, d->hs_offset, end_offset,
                            "%s of %" G_GSIZE_FORMAT " bytes is over the cap of %u",
                            ts_tls_handshake_type_to_string (d->hs->data[0]) ?: "handshake message",
                            total - 4, TS_TLS_HANDSHAKE_CAP);
              d->hs_skip = total - d->hs->len;
              g_byte_array_set_size (d->hs, 0);
              continue;
            }
          take = MIN (total - d->hs->len, n);
          g_byte_array_append (d->hs, p, (guint)take);
          p += take;
          n -= take;
          if (d->hs->len == total)
            {
              deliver_handshake (self, direction, d->hs->data, total, d->hs_offset, end_offset,
                                 encrypted, decrypted);
              g_byte_array_set_size (d->hs, 0);
            }
        }
    }
}

/* ---- records ---- */

/* The plaintext (or cleartext) content of one record. */
static void
dispatch_content (TsTlsSession *self, TsTlsDirection direction, guint8 type, const guint8 *p,
                  gsize n, guint64 offset, guint64 end_offset, gboolean encrypted,
                  gboolean decrypted)
{
  TsTlsEvent ev = { 0 };

  ev.direction = direction;
  ev.offset = offset;
  ev.end_offset = end_offset;
  ev.encrypted = encrypted;
  ev.decrypted = decrypted;

  switch (type)
    {
      case TS_TLS_CONTENT_HANDSHAKE:
        if (n == 0)
          emit_anomaly (self, direction, TS_TLS_ANOMALY_MALFORMED_MESSAGE, offset, end_offset,
                        "an empty handshake record (RFC 8446 §5.1 forbids it)");
        feed_handshake (self, direction, p, n, offset, end_offset, encrypted, decrypted);
        break;

      case TS_TLS_CONTENT_ALERT:
        /* RFC 8446 §6: struct { AlertLevel level; AlertDescription description; } Alert; */
        ev.kind = TS_TLS_EVENT_ALERT;
        for (gsize i = 0; i + 2 <= n; i += 2)
          {
            ev.alert_level = p[i];
            ev.alert_description = p[i + 1];
            emit (self, &ev);
          }
        if (n % 2 != 0 || n == 0)
          emit_anomaly (self, direction, TS_TLS_ANOMALY_MALFORMED_MESSAGE, offset, end_offset,
                        "an alert record of %" G_GSIZE_FORMAT " bytes (alerts are 2 bytes)", n);
        break;

      case TS_TLS_CONTENT_CHANGE_CIPHER_SPEC:
        /* RFC 5246 §7.1: struct { enum { change_cipher_spec(1), (255) } type; } */
        ev.kind = TS_TLS_EVENT_CHANGE_CIPHER_SPEC;
        ev.data = p;
        ev.len = n;
        emit (self, &ev);
        if (n != 1 || p[0] != 1)
          emit_anomaly (self, direction, TS_TLS_ANOMALY_MALFORMED_MESSAGE, offset, end_offset,
                        "a change_cipher_spec of %" G_GSIZE_FORMAT " bytes (1 byte, value 1)", n);
        if (encrypted)
          {
            /* A renegotiation's, under the keys it ends: this side's next
             * records are under the keys of the handshake it took part in. */
            guint hs
                = direction == TS_TLS_DIR_CLIENT ? self->n_client_hellos : self->n_server_hellos;
            if (self->dir[direction].epoch == EPOCH_TLS12 && hs > self->dir[direction].handshake)
              {
                set_epoch (self, direction, EPOCH_TLS12);
                self->dir[direction].handshake = hs;
              }
            break;
          }
        /* RFC 8446 §D.4: a TLS 1.3 client may send its dummy change_cipher_spec
         * right after the ClientHello, before early data. */
        if (!self->info.have_server_hello && !self->info.hello_retry
            && !(direction == TS_TLS_DIR_CLIENT && self->offered_tls13))
          emit_anomaly (self, direction, TS_TLS_ANOMALY_UNEXPECTED, offset, end_offset,
                        "a change_cipher_spec before the ServerHello");
        else if (self->info.version != TS_TLS_VERSION_1_3
                 && self->dir[direction].epoch == EPOCH_CLEAR)
          set_epoch (self, direction, EPOCH_TLS12);
        /* In TLS 1.3 it is the compatibility-mode dummy (RFC 8446 §D.4). */
        break;

      case TS_TLS_CONTENT_APPLICATION_DATA:
        ev.kind = TS_TLS_EVENT_APPLICATION_DATA;
        ev.data = p;
        ev.len = n;
        self->info.n_app_bytes[direction] += n;
        emit (self, &ev);
        break;

      case TS_TLS_CONTENT_HEARTBEAT:
        break;

      default:
        emit_anomaly (self, direction, TS_TLS_ANOMALY_MALFORMED_MESSAGE, offset, end_offset,
                      "inner content type %u is not a TLS content type", type);
        break;
    }
}

/* RFC 8446 §5.2 TLSInnerPlaintext: content, then the real type, then zeros. */
/* @i: the length of @plain (@n bytes) without its trailing zeros, @type its
 * last byte (when i > 0), found by dispatch_inner or ahead. */
static void
dispatch_inner_found (TsTlsSession *self, TsTlsDirection direction, const guint8 *plain, gsize n,
                      gsize i, guint8 type, guint64 offset, guint64 end_offset)
{
  if (i == 0)
    emit_anomaly (
        self, direction, TS_TLS_ANOMALY_MALFORMED_MESSAGE, offset, end_offset,
        "a decrypted record with no content type (all %" G_GSIZE_FORMAT " bytes are zero)", n);
  else
    dispatch_content (self, direction, type, plain, i - 1, offset, end_offset, TRUE, TRUE);
}

static void
dispatch_inner (TsTlsSession *self, TsTlsDirection direction, const guint8 *plain, gsize n,
                guint64 offset, guint64 end_offset)
{
  gsize i = n;

  while (i > 0 && plain[i - 1] == 0)
    i--;
  dispatch_inner_found (self, direction, plain, n, i, i > 0 ? plain[i - 1] : 0, offset, end_offset);
}

/*
 * A client record while 0-RTT may be under way (RFC 8446 §2.3, §4.2.10):
 * early data under client_early_traffic_secret, or, once the client moved
 * on (EndOfEarlyData sent, or early data rejected), the handshake key. We
 * try the handshake key first: the first record it opens ends early data.
 * Neither sequence number moves on a failed try.
 */
static gboolean
process_early_record (TsTlsSession *self, const guint8 *rec, gsize rec_len, guint64 offset,
                      gboolean may_hold)
{
  const TsTlsDirection direction = TS_TLS_DIR_CLIENT;
  Dir *d = &self->dir[direction];
  const guint8 *frag = rec + 5;
  gsize frag_len = rec_len - 5;
  guint64 end_offset = offset + rec_len;
  KeysResult hk = install_keys (self, direction);
  KeysResult ek = install_early_keys (self);
  TsTlsEvent ev = { 0 };
  gssize n = -1;

  if (may_hold && (hk == KEYS_NOT_YET || ek == KEYS_NOT_YET) && hk != KEYS_OK && ek != KEYS_OK)
    return FALSE;

  ev.kind = TS_TLS_EVENT_RECORD;
  ev.direction = direction;
  ev.offset = offset;
  ev.end_offset = end_offset;
  ev.content_type = rec[0];
  ev.record_version = (guint16)(rec[1] << 8 | rec[2]);
  ev.record_length = (guint16)frag_len;
  ev.encrypted = TRUE;
  self->info.n_records[direction]++;
  ensure_plain (self, frag_len);

  if (hk == KEYS_OK
      && (n = _ts_tls_cipher_open (&d->cipher, d->seq, rec, frag, frag_len, self->plain)) >= 0)
    {
      d->early_active = FALSE;
      ev.record_seq = d->seq++;
      ev.decrypted = TRUE;
      self->info.n_decrypted[direction]++;
      emit (self, &ev);
      dispatch_inner (self, direction, self->plain, (gsize)n, offset, end_offset);
      return TRUE;
    }

  if (ek == KEYS_OK
      && (n = _ts_tls_cipher_open (&d->early, d->early_seq, rec, frag, frag_len, self->plain)) >= 0)
    {
      ev.record_seq = d->early_seq++;
      ev.decrypted = TRUE;
      self->info.n_decrypted[direction]++;
      self->in_early = TRUE;
      emit (self, &ev);
      dispatch_inner (self, direction, self->plain, (gsize)n, offset, end_offset);
      self->in_early = FALSE;
      return TRUE;
    }

  ev.record_seq = d->early_seq;
  emit (self, &ev);
  if (hk != KEYS_OK && ek != KEYS_OK)
    {
      if (!d->told_missing)
        {
          d->told_missing = TRUE;
          emit_anomaly (self, direction, TS_TLS_ANOMALY_MISSING_KEYS, offset, end_offset,
                        "no early or handshake traffic secret for a client record after a "
                        "ClientHello that offered 0-RTT");
        }
    }
  else
    emit_anomaly (self, direction, TS_TLS_ANOMALY_DECRYPT_FAILED, offset, end_offset,
                  "a client record of %" G_GSIZE_FORMAT " bytes opens with neither the early "
                  "nor the handshake traffic keys",
                  frag_len);
  ev.kind = TS_TLS_EVENT_OPAQUE;
  ev.data = frag;
  ev.len = frag_len;
  emit (self, &ev);
  return TRUE;
}

static gboolean
window_passed (TsTlsSession *self, Dir *d)
{
  return d->held->len > 0 && self->time_us >= 0 && d->held_since_us >= 0
         && self->time_us - d->held_since_us > TS_TLS_PENDING_WINDOW_US;
}

static gboolean
can_hold (TsTlsSession *self, Dir *d, gsize rec_len)
{
  return self->keylog != NULL && !self->finished && !d->gave_up && self->pending_cap > 0
         && d->held->len + rec_len <= self->pending_cap && !window_passed (self, d);
}

/* What the search after a gap came to, for the record's events. */
typedef struct
{
  guint64 seq;           /* the record's sequence number, or the estimate if none opens it */
  guint64 lo, hi;        /* the numbers it may have */
  guint n_trials;        /* AEAD tries spent on it */
  gboolean false_header; /* not tried: its version is not this direction's */
  gboolean key_update;   /* it opened under the next traffic secret (a KeyUpdate was lost) */
  gboolean resumed;      /* it ends a run in which records were left opaque... */
  guint64 n_opaque;      /* ...this many */
  guint64 n_lost;        /* records between the last one in step and this one */
} GapSearch;

/* A record header read at a record boundary or found by the scan after a
 * gap (deterministic: the same headers for any chunking). Its size goes
 * into the mean that lost bytes are divided by, weighted to the recent
 * records (1/16: a few small records among bulk ones move it little, and
 * a bulk transfer after a handshake sets it within tens of records); after
 * a gap it is a record of the run counted, not estimated. */
static void
note_header (Dir *d, const guint8 *hdr)
{
  guint64 len = 5 + (guint64)(hdr[3] << 8 | hdr[4]);

  if (d->epoch != EPOCH_CLEAR)
    d->mean_len
        = d->mean_len == 0
              ? len * 16
              : (guint64)((gint64)d->mean_len + ((gint64)len * 16 - (gint64)d->mean_len) / 16);
  if (d->seq_lost)
    {
      d->n_seen++;
      d->seen_bytes += len;
    }
}

/* A protected record after a gap (@offset: where it starts): find its
 * sequence number, at most one record per TS_TLS_MIN_RECORD bytes after
 * the last record in step, trying first the numbers that the records'
 * sizes point to (see TS_TLS_GAP_SEQ_TRIALS). On success the direction is
 * back in step; on failure it stays in the run (@seq still the first
 * number a lost record may have: a record that opens with none may be a
 * false header's). */
static gssize
open_after_gap (TsTlsSession *self, Dir *d, const guint8 *rec, const guint8 *frag, gsize frag_len,
                guint64 offset, GapSearch *out)
{
  guint64 span = offset > d->seq_end ? offset - d->seq_end : 0;
  /* The records since the last one in step whose headers were read are
   * counted (this one is the last of them); the rest of the bytes is
   * records lost whole, estimated. */
  guint64 n_before = d->n_seen > 0 ? d->n_seen - 1 : 0;
  guint64 rest = span - MIN (d->seen_bytes - MIN (d->seen_bytes, 5 + frag_len), span);
  guint64 lo = d->seq, hi, est, k;
  guint cap = MIN (TS_TLS_GAP_RECORD_TRIALS, d->seq_budget), used = 0;
  /* TLS 1.3: a KeyUpdate may have been lost with the bytes; the next
   * generation of the traffic secret (RFC 8446 §7.2) restarts at 0. */
  gboolean next_ok = d->cipher.tls13 && d->epoch == EPOCH_APPLICATION && d->secret_len > 0;
  TsTlsCipher next = { 0 };
  guint8 next_secret[TS_TLS_SECRET_MAX];
  gboolean in_next = FALSE;
  gssize n = -1;

  /* At most one record per TS_TLS_MIN_RECORD bytes lost. */
  k = MIN (n_before, G_MAXUINT64 - lo);
  hi = lo + k + MIN (rest / TS_TLS_MIN_RECORD, G_MAXUINT64 - lo - k);
  est = lo + k;
  if (d->mean_len > 0)
    est += MIN ((rest * 16 + d->mean_len / 2) / d->mean_len, hi - est);
  memset (out, 0, sizeof *out);
  out->seq = est;
  out->lo = lo;
  out->hi = hi;

  /* A header whose version is not this direction's (framed right after a
   * record that did not open) is most likely not a record: no tries. */
  if (d->rec_version != 0 && (guint16)(rec[1] << 8 | rec[2]) != d->rec_version)
    {
      out->false_header = TRUE;
      return -1;
    }

  /* TLS 1.2 GCM: OpenSSL, NSS and GnuTLS send the sequence number as the
   * explicit nonce; try it first. One try per record, as a record in step
   * costs: outside the budget. */
  if ((d->cipher.info->aead == TS_TLS_AEAD_AES_128_GCM
       || d->cipher.info->aead == TS_TLS_AEAD_AES_256_GCM)
      && !d->cipher.tls13 && frag_len >= 8)
    {
      guint64 guess = 0;

      for (int i = 0; i < 8; i++)
        guess = guess << 8 | frag[i];
      if (guess >= lo && guess <= hi)
        {
          out->n_trials++;
          if ((n = _ts_tls_cipher_open (&d->cipher, guess, rec, frag, frag_len, self->plain)) >= 0)
            {
              out->seq = guess;
              goto found;
            }
        }
    }

  /* Outwards from the estimate, ring by ring: est, est + 1, est - 1,
   * est + 2, ... within [lo, hi], and the next secret's 0, 1, 2, ...
   * alongside. After the near ring, on from where the run's earlier
   * records stopped. */
  for (guint64 r = 0;;)
    {
      guint64 cand[3];
      gboolean cand_next[3] = { FALSE, FALSE, FALSE };
      guint n_cand = 0;
      gboolean in_window;

      if (r <= hi - est)
        cand[n_cand++] = est + r;
      if (r > 0 && r <= est - lo)
        cand[n_cand++] = est - r;
      in_window = n_cand > 0;
      if (next_ok && r <= hi - lo)
        {
          in_window = TRUE;
          cand_next[n_cand] = TRUE;
          cand[n_cand++] = r;
        }
      if (!in_window)
        break; /* the whole window is tried */
      for (guint i = 0; i < n_cand; i++)
        {
          TsTlsCipher *c = &d->cipher;

          if (used == cap)
            goto failed;
          if (cand_next[i])
            {
              if (!next.ready
                  && (!_ts_tls13_expand_label (self->suite->digest, d->secret, d->secret_len,
                                               "traffic upd", NULL, 0, next_secret, d->secret_len)
                      || !_ts_tls_cipher_set_secret (&next, self->suite, next_secret,
                                                     d->secret_len)))
                {
                  next_ok = FALSE;
                  continue;
                }
              c = &next;
            }
          used++;
          out->n_trials++;
          if ((n = _ts_tls_cipher_open (c, cand[i], rec, frag, frag_len, self->plain)) >= 0)
            {
              out->seq = cand[i];
              in_next = cand_next[i];
              goto found;
            }
        }
      if (r > TS_TLS_GAP_SEQ_NEAR)
        d->seq_reach = r + 1;
      r = r == TS_TLS_GAP_SEQ_NEAR ? MAX (r + 1, d->seq_reach) : r + 1;
    }

failed:
  d->seq_budget -= used;
  _ts_tls_cipher_clear (&next);
  OPENSSL_cleanse (next_secret, sizeof next_secret);
  return -1;

found:
  if (in_next)
    {
      _ts_tls_cipher_clear (&d->cipher);
      d->cipher = next;
      memcpy (d->secret, next_secret, d->secret_len);
      out->key_update = TRUE;
    }
  else
    _ts_tls_cipher_clear (&next);
  OPENSSL_cleanse (next_secret, sizeof next_secret);
  out->n_lost = in_next ? 0 : out->seq - lo;
  out->resumed = d->seq_told;
  out->n_opaque = d->n_seq_opaque;
  d->seq = out->seq + 1;
  d->seq_lost = FALSE;
  d->seq_reach = 0;
  d->seq_told = FALSE;
  d->n_seq_opaque = 0;
  return n;
}

/* One framed record (header and fragment, @rec_len bytes, at stream
 * @offset). Returns FALSE if it needs keys not yet known and @may_hold:
 * the caller holds it back; otherwise it is reported. */
static gboolean
process_record_in (TsTlsSession *self, TsTlsDirection direction, const guint8 *rec, gsize rec_len,
                   guint64 offset, gboolean may_hold)
{
  Dir *d = &self->dir[direction];
  guint8 type = rec[0];
  const guint8 *frag = rec + 5;
  gsize frag_len = rec_len - 5;
  guint64 end_offset = offset + rec_len;
  gboolean protected;
  TsTlsEvent ev = { 0 };
  KeysResult keys;
  gssize n;
  const guint8 *plain;
  gboolean ahead = FALSE;
  gsize inner_len = 0;
  guint8 inner_type = 0;
  GapSearch gs = { 0 };
  /* Framed from rbuf with bytes not copied yet: only a record opened ahead
   * needs none of them. */
  gboolean lazy = rec == d->rbuf && d->copied < rec_len;

  if (d->epoch == EPOCH_TLS12)
  protected = TRUE;
  else if (d->epoch != EPOCH_CLEAR) protected = type == TS_TLS_CONTENT_APPLICATION_DATA;
  else
      /* Application data before the ServerHello is early data or the client
       * racing ahead of our view of the server: protected, keys unknown. */
      protected
      = type == TS_TLS_CONTENT_APPLICATION_DATA && !self->info.have_server_hello;

  if (lazy && (!protected || (d->early_active && d->epoch == EPOCH_HANDSHAKE)))
    {
      fill_rbuf (d, rec_len);
      lazy = FALSE;
    }

  ev.kind = TS_TLS_EVENT_RECORD;
  ev.direction = direction;
  ev.offset = offset;
  ev.end_offset = end_offset;
  ev.content_type = type;
  ev.record_version = (guint16)(rec[1] << 8 | rec[2]);
  ev.record_length = (guint16)frag_len;

  if (!protected)
    {
      self->info.n_records[direction]++;
      emit (self, &ev);
      dispatch_content (self, direction, type, frag, frag_len, offset, end_offset, FALSE, FALSE);
      return TRUE;
    }

  if (d->early_active && d->epoch == EPOCH_HANDSHAKE)
    return process_early_record (self, rec, rec_len, offset, may_hold);

  keys = install_keys (self, direction);
  if (lazy && (keys != KEYS_OK || d->seq_lost || self->ahead == NULL))
    {
      fill_rbuf (d, rec_len);
      lazy = FALSE;
    }
  if (keys == KEYS_NOT_YET && may_hold)
    return FALSE;

  self->info.n_records[direction]++;
  ev.encrypted = TRUE;
  ev.record_seq = d->seq;

  if (keys != KEYS_OK)
    {
      /* After a gap, @seq stays the first number a lost record may have. */
      if (!d->seq_lost)
        d->seq++;
      emit (self, &ev);
      if (keys == KEYS_NOT_YET && !d->told_missing)
        {
          const guint8 *random = key_random (self, d);
          d->told_missing = TRUE;
          /* Secrets are found by the ClientHello's random: without it
           * there is no random to name (nor to look up). */
          if (!self->info.have_client_hello && !self->info.have_server_hello)
            emit_anomaly (self, direction, TS_TLS_ANOMALY_MISSING_KEYS, offset, end_offset,
                          "the TLS handshake is not in the capture (it began before the "
                          "capture did), so these records cannot be decrypted");
          else if (!self->info.have_client_hello)
            emit_anomaly (self, direction, TS_TLS_ANOMALY_MISSING_KEYS, offset, end_offset,
                          "the ClientHello is not in the capture, so its client random, which "
                          "finds the secrets in a key log, is not known: these records cannot be "
                          "decrypted");
          else
            emit_anomaly (self, direction, TS_TLS_ANOMALY_MISSING_KEYS, offset, end_offset,
                          "no %s secret for client random %02x%02x%02x%02x…",
                          d->epoch == EPOCH_TLS12         ? "CLIENT_RANDOM"
                          : d->epoch == EPOCH_HANDSHAKE   ? "handshake traffic"
                          : d->epoch == EPOCH_APPLICATION ? "application traffic"
                                                          : "(ServerHello not seen)",
                          random[0], random[1], random[2], random[3]);
        }
      ev.kind = TS_TLS_EVENT_OPAQUE;
      ev.data = frag;
      ev.len = frag_len;
      emit (self, &ev);
      return TRUE;
    }

  plain = ensure_plain (self, frag_len);
  if (d->seq_lost)
    {
      n = open_after_gap (self, d, rec, frag, frag_len, offset, &gs);
      ev.record_seq = gs.seq;
    }
  else
    {
      /* Opened ahead (the same keys, sequence number and bytes give the
       * same plaintext and verdict), or here. */
      gboolean have_src = rec == d->rbuf && d->src_len == rec_len;

      n = self->ahead != NULL
              ? self->ahead->open (self->ahead_data, d->cipher.serial, d->seq, lazy ? NULL : rec,
                                   rec_len, have_src ? d->src : NULL, have_src ? d->n_src : 0,
                                   &plain, &inner_len, &inner_type)
              : TS_TLS_AHEAD_MISS;
      ahead = n != TS_TLS_AHEAD_MISS;
      if (!ahead)
        {
          /* Opened here, still where it lies if it can be. */
          if (lazy && (self->ahead->open_here == NULL || !_ts_tls_cipher_opens_pieces (&d->cipher)))
            {
              fill_rbuf (d, rec_len);
              lazy = FALSE;
            }
          if (self->ahead != NULL && self->ahead->open_here != NULL)
            n = self->ahead->open_here (self->ahead_data, &d->cipher, d->seq, lazy ? NULL : rec,
                                        rec_len, have_src ? d->src : NULL, have_src ? d->n_src : 0,
                                        &plain);
          else
            {
              plain = self->plain;
              n = _ts_tls_cipher_open (&d->cipher, d->seq, rec, frag, frag_len, self->plain);
            }
        }
      if (self->ahead != NULL && self->ahead->verify && plain != self->plain)
        {
          /* Tests: a result from the helper (or a twin's) is the one
           * opened here. */
          guint8 *mine = ensure_plain (self, frag_len);
          gssize m;

          if (lazy)
            fill_rbuf (d, rec_len);
          lazy = FALSE;
          m = _ts_tls_cipher_open (&d->cipher, d->seq, rec, frag, frag_len, mine);
          if (m != n || (n > 0 && memcmp (mine, plain, (gsize)n) != 0))
            g_error ("record %" G_GUINT64_FORMAT " opened ahead differs from its opening here",
                     d->seq);
        }
      d->seq++;
    }
  if (n < 0)
    {
      if (lazy)
        fill_rbuf (d, rec_len);
      emit (self, &ev);
      if (d->seq_lost)
        {
          /* Once per run: its later records are tried as well, and the
           * record that opens says so. */
          if (!d->seq_told && gs.false_header)
            emit_anomaly (self, direction, TS_TLS_ANOMALY_DECRYPT_FAILED, offset, end_offset,
                          "after the gap, a record of version 0x%04x where this direction's are "
                          "0x%04x (a false header?): records are opaque until one opens",
                          (guint)ev.record_version, (guint)d->rec_version);
          else if (!d->seq_told)
            emit_anomaly (
                self, direction, TS_TLS_ANOMALY_DECRYPT_FAILED, offset, end_offset,
                "after the gap, none of %u sequence numbers tried (estimate %" G_GUINT64_FORMAT
                ", possible %" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT
                ") opens this record: records are opaque until one opens",
                gs.n_trials, gs.seq, gs.lo, gs.hi);
          d->seq_told = TRUE;
          d->n_seq_opaque++;
        }
      else
        emit_anomaly (self, direction, TS_TLS_ANOMALY_DECRYPT_FAILED, offset, end_offset,
                      "record %" G_GUINT64_FORMAT " of %" G_GSIZE_FORMAT
                      " bytes does not verify with the %s keys",
                      ev.record_seq, frag_len,
                      ts_tls_cipher_suite_to_string (self->info.cipher_suite) ?: "negotiated");
      ev.kind = TS_TLS_EVENT_OPAQUE;
      ev.data = frag;
      ev.len = frag_len;
      emit (self, &ev);
      return TRUE;
    }

  self->info.n_decrypted[direction]++;
  d->rec_version = ev.record_version;
  ev.decrypted = TRUE;
  emit (self, &ev);
  /* Worth saying after records were left opaque; a gap that costs none
   * is told by its GAP anomaly and the decrypted records alone. */
  if (gs.resumed && gs.key_update)
    emit_anomaly (self, direction, TS_TLS_ANOMALY_GAP, offset, end_offset,
                  "decryption resumes: this record is number %" G_GUINT64_FORMAT
                  " under the next traffic secret (a KeyUpdate was lost); %" G_GUINT64_FORMAT
                  " records before it were left opaque",
                  gs.seq, gs.n_opaque);
  else if (gs.resumed)
    emit_anomaly (self, direction, TS_TLS_ANOMALY_GAP, offset, end_offset,
                  "decryption resumes: this record is number %" G_GUINT64_FORMAT
                  ", %" G_GUINT64_FORMAT " after the last one in step (%" G_GUINT64_FORMAT
                  " of them left opaque)",
                  gs.seq, gs.n_lost, gs.n_opaque);

  if (d->epoch == EPOCH_TLS12)
    dispatch_content (self, direction, type, plain, (gsize)n, offset, end_offset, TRUE, TRUE);
  else if (ahead)
    dispatch_inner_found (self, direction, plain, (gsize)n, inner_len, inner_type, offset,
                          end_offset);
  else
    dispatch_inner (self, direction, plain, (gsize)n, offset, end_offset);
  return TRUE;
}

/* process_record_in, keeping where the next record in step starts: what
 * the records lost in a later gap are counted from. */
static gboolean
process_record (TsTlsSession *self, TsTlsDirection direction, const guint8 *rec, gsize rec_len,
                guint64 offset, gboolean may_hold)
{
  Dir *d = &self->dir[direction];

  if (!process_record_in (self, direction, rec, rec_len, offset, may_hold))
    return FALSE;
  if (!d->seq_lost)
    d->seq_end = offset + rec_len;
  return TRUE;
}

/* Reports every held record of @d, keys or not. */
static void
give_up (TsTlsSession *self, TsTlsDirection direction)
{
  Dir *d = &self->dir[direction];
  gsize pos = 0;

  d->gave_up = TRUE;
  while (pos < d->held->len)
    {
      const guint8 *rec = d->held->data + pos;
      gsize rec_len = 5 + (gsize)(rec[3] << 8 | rec[4]);

      process_record (self, direction, rec, rec_len, d->held_offset + pos, FALSE);
      pos += rec_len;
    }
  g_byte_array_set_size (d->held, 0);
}

/* Tries the held records of @d again, in order, up to the first that still
 * lacks keys. */
static gboolean
retry_held (TsTlsSession *self, TsTlsDirection direction)
{
  Dir *d = &self->dir[direction];
  gsize pos = 0;

  while (pos < d->held->len)
    {
      const guint8 *rec = d->held->data + pos;
      gsize rec_len = 5 + (gsize)(rec[3] << 8 | rec[4]);

      if (!process_record (self, direction, rec, rec_len, d->held_offset + pos, TRUE))
        break;
      pos += rec_len;
    }
  if (pos == 0)
    return FALSE;
  g_byte_array_remove_range (d->held, 0, (guint)pos);
  d->held_offset += pos;
  return TRUE;
}

static gboolean
retry_if_needed (TsTlsSession *self)
{
  gboolean any = FALSE;

  for (int i = 0; i < 2; i++)
    if (window_passed (self, &self->dir[i]))
      {
        /* One last try with what the key log holds now. */
        self->retry_needed = TRUE;
        break;
      }

  for (int round = 0; round < 4; round++)
    {
      guint64 generation = self->keylog != NULL ? ts_tls_keylog_get_generation (self->keylog) : 0;

      if (!self->retry_needed && generation == self->keylog_generation)
        break;
      self->retry_needed = FALSE;
      self->keylog_generation = generation;
      for (int i = 0; i < 2; i++)
        if (self->dir[i].held->len > 0)
          any |= retry_held (self, (TsTlsDirection)i);
    }
  for (int i = 0; i < 2; i++)
    if (window_passed (self, &self->dir[i]))
      {
        give_up (self, (TsTlsDirection)i);
        any = TRUE;
      }
  return any;
}

static void
framed (TsTlsSession *self, TsTlsDirection direction, const guint8 *rec, gsize rec_len,
        guint64 offset)
{
  Dir *d = &self->dir[direction];

  if (d->held->len > 0)
    {
      if (rec == d->rbuf)
        fill_rbuf (d, rec_len);
      /* Keep stream order: once one record waits, the ones after it wait. */
      if (can_hold (self, d, rec_len))
        {
          g_byte_array_append (d->held, rec, (guint)rec_len);
          return;
        }
      give_up (self, direction);
    }
  if (!process_record (self, direction, rec, rec_len, offset, can_hold (self, d, rec_len)))
    {
      if (rec == d->rbuf)
        fill_rbuf (d, rec_len); /* (it was: no keys yet) */
      d->held_offset = offset;
      d->held_since_us = self->time_us;
      g_byte_array_append (d->held, rec, (guint)rec_len);
    }
}

/*
 * RFC 8446 §5.1 (RFC 5246 §6.2.1) record header:
 *
 *     struct {
 *         ContentType type;                  -- 1 byte: 20..24
 *         ProtocolVersion legacy_record_version;  -- 0x0300..0x0304
 *         uint16 length;                     -- ≤ 2^14 + 2048
 *         opaque fragment[TLSPlaintext.length];
 *     } TLSPlaintext;
 *
 * Returns 5 (the header length) if @hdr (5 bytes) is a plausible header,
 * TS_PARSE_INVALID otherwise.
 */
static gssize
check_header (const guint8 *hdr)
{
  guint length = (guint)(hdr[3] << 8 | hdr[4]);

  if (hdr[0] < TS_TLS_CONTENT_CHANGE_CIPHER_SPEC || hdr[0] > TS_TLS_CONTENT_HEARTBEAT)
    return TS_PARSE_INVALID;
  if (hdr[1] != 3 || hdr[2] > 4)
    return TS_PARSE_INVALID;
  if (length > FRAGMENT_MAX)
    return TS_PARSE_INVALID;
  return 5;
}

/* After a gap in protected records the next header is searched among
 * ciphertext, where check_header passes about once in 48 KiB; a false
 * one frames a record that swallows the true ones behind it. While the
 * sequence number is searched (the keys are known), a header unlike this
 * direction's records is passed over: another outer version than the
 * records opened, or in TLS 1.3 application data another type than
 * application_data (RFC 8446 §5). */
static gboolean
resync_plausible (const Dir *d, const guint8 *hdr)
{
  if (!d->seq_lost || d->rec_version == 0)
    return TRUE;
  return (guint16)(hdr[1] << 8 | hdr[2]) == d->rec_version
         && (d->epoch != EPOCH_APPLICATION || hdr[0] == TS_TLS_CONTENT_APPLICATION_DATA);
}

static void
stop_direction (TsTlsSession *self, TsTlsDirection direction, const guint8 *hdr, guint64 offset)
{
  Dir *d = &self->dir[direction];

  if (d->held->len > 0)
    give_up (self, direction);
  if (d->had_gap)
    {
      /* A false header found after a gap: keep searching. */
      emit_anomaly (self, direction, TS_TLS_ANOMALY_MALFORMED_RECORD, offset, offset + 5,
                    "record header %02x %02x%02x %02x%02x after a gap: searching on", hdr[0],
                    hdr[1], hdr[2], hdr[3], hdr[4]);
      d->desync = TRUE;
      return;
    }
  d->stopped = TRUE;
  emit_anomaly (self, direction,
                d->started ? TS_TLS_ANOMALY_MALFORMED_RECORD : TS_TLS_ANOMALY_NOT_TLS, offset,
                offset + 5,
                "record header %02x %02x%02x %02x%02x: content type %u, version 0x%02x%02x, "
                "length %u (max %u)",
                hdr[0], hdr[1], hdr[2], hdr[3], hdr[4], hdr[0], hdr[1], hdr[2],
                (guint)(hdr[3] << 8 | hdr[4]), FRAGMENT_MAX);
}

static void
consume (TsTlsSession *self, TsTlsDirection direction, const guint8 *data, gsize len)
{
  Dir *d = &self->dir[direction];

  while (len > 0)
    {
      gsize need, take;
      gboolean tracked, stays;

      if (d->stopped)
        {
          d->offset += len;
          return;
        }

      if (d->desync)
        {
          /* After a gap: slide a 5-byte window until it looks like a header. */
          ensure_rbuf (d, 5);
          d->src_len = G_MAXSIZE;
          d->rbuf[d->rlen++] = *data++;
          d->copied = d->rlen;
          len--;
          d->offset++;
          if (d->rlen < 5)
            continue;
          if (check_header (d->rbuf) == 5 && resync_plausible (d, d->rbuf))
            {
              d->desync = FALSE;
              note_header (d, d->rbuf);
              if (5 + (gsize)(d->rbuf[3] << 8 | d->rbuf[4]) == 5)
                {
                  framed (self, direction, d->rbuf, 5, d->offset - 5);
                  d->rlen = 0;
                }
              continue;
            }
          memmove (d->rbuf, d->rbuf + 1, 4);
          d->rlen = d->copied = 4;
          continue;
        }

      if (d->rlen == 0 && len >= 5)
        {
          gsize rec_len;

          if (check_header (data) != 5)
            {
              stop_direction (self, direction, data, d->offset);
              continue;
            }
          d->started = TRUE;
          rec_len = 5 + (gsize)(data[3] << 8 | data[4]);
          if (len >= rec_len)
            {
              /* The fast path: a whole record in the input, no copy (one
               * cut across chunks is read below, its header too). */
              guint64 offset = d->offset;

              note_header (d, data);
              d->offset += rec_len;
              framed (self, direction, data, rec_len, offset);
              data += rec_len;
              len -= rec_len;
              continue;
            }
        }

      ensure_rbuf (d, d->rlen < 5 ? 5 : 5 + (gsize)(d->rbuf[3] << 8 | d->rbuf[4]));
      need = d->rlen < 5 ? 5 - d->rlen : 5 + (gsize)(d->rbuf[3] << 8 | d->rbuf[4]) - d->rlen;
      take = MIN (need, len);
      if (d->rlen == 0)
        d->n_src = d->src_len = d->copied = 0;
      tracked = d->src_len == d->rlen && d->n_src < TS_TLS_PIECES_MAX;
      if (tracked)
        {
          d->src[d->n_src].data = data;
          d->src[d->n_src++].len = take;
          d->src_len += take;
        }
      else
        {
          fill_rbuf (d, d->rlen);
          d->src_len = G_MAXSIZE;
        }
      stays = tracked && self->ahead != NULL && self->ahead->stable != NULL
              && self->ahead->stable (self->ahead_data, data, take);
      /* A piece that does not stay (a reassembly buffer's, for segments
       * that came out of order) is gone by the time the record is whole:
       * src no longer describes the record, which is copied whole. */
      if (tracked && !stays)
        d->src_len = G_MAXSIZE;
      if (!stays || d->rlen < 5)
        {
          fill_rbuf (d, d->rlen);
          memcpy (d->rbuf + d->rlen, data, take);
          d->copied = d->rlen + take;
        }
      d->rlen += take;
      data += take;
      len -= take;
      d->offset += take;

      if (d->rlen == 5 && take == need)
        {
          if (check_header (d->rbuf) != 5)
            {
              d->rlen = 0;
              stop_direction (self, direction, d->rbuf, d->offset - 5);
              if (d->desync)
                {
                  /* Go on scanning from the window's second byte, as the
                   * fast path does: the same events for any chunking. */
                  memmove (d->rbuf, d->rbuf + 1, 4);
                  d->rlen = d->copied = 4;
                  d->src_len = G_MAXSIZE;
                }
              continue;
            }
          d->started = TRUE;
          note_header (d, d->rbuf);
        }
      if (d->rlen >= 5 && d->rlen == 5 + (gsize)(d->rbuf[3] << 8 | d->rbuf[4]))
        {
          gsize rec_len = d->rlen;

          d->rlen = 0;
          framed (self, direction, d->rbuf, rec_len, d->offset - rec_len);
        }
    }
}

gboolean
ts_tls_session_feed (TsTlsSession *self, TsTlsDirection direction, const guint8 *data, gsize len,
                     gint64 time_us)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (direction == TS_TLS_DIR_CLIENT || direction == TS_TLS_DIR_SERVER, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);

  if (self->finished)
    return FALSE;
  self->time_us = time_us;
  retry_if_needed (self);
  consume (self, direction, data, len);
  retry_if_needed (self);
  return !self->dir[direction].stopped;
}

void
ts_tls_session_gap (TsTlsSession *self, TsTlsDirection direction, guint64 n_bytes)
{
  Dir *d;

  g_return_if_fail (self != NULL);
  g_return_if_fail (direction == TS_TLS_DIR_CLIENT || direction == TS_TLS_DIR_SERVER);

  d = &self->dir[direction];
  if (self->finished || n_bytes == 0)
    return;
  if (d->held->len > 0)
    give_up (self, direction);
  if (!d->stopped)
    {
      /* Application data keeps its keys across a gap: only the sequence
       * number is unknown (open_after_gap searches it). During the
       * handshake a lost Finished or key change cannot be guessed: that
       * direction is no longer decrypted. */
      gboolean keep = d->epoch == EPOCH_APPLICATION || d->epoch == EPOCH_TLS12;
      /* The record this gap cuts, if its header was read. */
      guint64 cut_len
          = !d->desync && d->rlen >= 5 ? 5 + (guint64)(d->rbuf[3] << 8 | d->rbuf[4]) : 0;

      emit_anomaly (self, direction, TS_TLS_ANOMALY_GAP, d->offset, d->offset + n_bytes,
                    "%" G_GUINT64_FORMAT " bytes lost at stream offset %" G_GUINT64_FORMAT
                    ": record sync lost; %s",
                    n_bytes, d->offset,
                    keep ? "decryption resumes if the record sequence number is found"
                         : "this direction is no longer decrypted");
      d->desync = TRUE;
      d->had_gap = TRUE;
      d->rlen = 0;
      g_byte_array_set_size (d->hs, 0);
      d->hs_skip = 0;
      d->early_active = FALSE;
      if (keep)
        {
          if (!d->seq_lost)
            {
              /* A new run, counted from the last record in step (seq_end),
               * the record cut by this gap the first one read. */
              d->seq_reach = 0;
              d->seq_told = FALSE;
              d->n_seq_opaque = 0;
              d->n_seen = cut_len > 0 ? 1 : 0;
              d->seen_bytes = cut_len;
            }
          d->seq_lost = TRUE;
          d->seq_budget = TS_TLS_GAP_SEQ_TRIALS;
        }
      else
        {
          d->undecryptable = TRUE;
          d->cipher.ready = FALSE;
        }
    }
  d->offset += n_bytes;
}

gboolean
ts_tls_session_poll (TsTlsSession *self, gint64 time_us)
{
  g_return_val_if_fail (self != NULL, FALSE);

  if (self->finished)
    return FALSE;
  self->time_us = time_us;
  return retry_if_needed (self);
}

void
ts_tls_session_finish (TsTlsSession *self)
{
  g_return_if_fail (self != NULL);

  if (self->finished)
    return;
  retry_if_needed (self);
  self->finished = TRUE;
  for (int i = 0; i < 2; i++)
    {
      Dir *d = &self->dir[i];

      if (d->held->len > 0)
        give_up (self, (TsTlsDirection)i);
      if (d->rlen > 0 && !d->desync && !d->stopped)
        emit_anomaly (
            self, (TsTlsDirection)i, TS_TLS_ANOMALY_TRUNCATED, d->offset - d->rlen, d->offset,
            "the stream ends inside a record (%" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " bytes)",
            d->rlen, d->rlen >= 5 ? 5 + (gsize)(d->rbuf[3] << 8 | d->rbuf[4]) : (gsize)5);
      if (d->hs->len > 0)
        emit_anomaly (self, (TsTlsDirection)i, TS_TLS_ANOMALY_TRUNCATED, d->hs_offset, d->offset,
                      "the stream ends inside a handshake message (%u bytes of it)", d->hs->len);
      d->rlen = 0;
      g_clear_pointer (&d->rbuf, g_free);
      d->rbuf_size = 0;
      g_byte_array_unref (d->hs);
      d->hs = g_byte_array_new ();
      _ts_tls_cipher_clear (&d->cipher);
      _ts_tls_cipher_clear (&d->early);
    }
  g_clear_pointer (&self->plain, g_free);
  self->plain_size = 0;
}

gboolean
ts_tls_session_looks_like_tls (const guint8 *data, gsize len)
{
  if (data == NULL || len < 5)
    return FALSE;
  if (data[0] != TS_TLS_CONTENT_HANDSHAKE || check_header (data) != 5)
    return FALSE;
  /* A ClientHello (or a ServerHello, for a capture that starts mid-way). */
  return len < 6 || data[5] == TS_TLS_HS_CLIENT_HELLO || data[5] == TS_TLS_HS_SERVER_HELLO;
}

gboolean
ts_tls_session_looks_like_record (const guint8 *data, gsize len)
{
  return data != NULL && len >= 5 && check_header (data) == 5 && data[0] != TS_TLS_CONTENT_HEARTBEAT
         && data[2] >= 1 && (data[3] | data[4]) != 0;
}
