/* ts-tls-session.h: the TLS decoder of one TCP connection: records, handshake, decryption.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "ts-tls-types.h"
#include "ts-tls-keylog.h"

G_BEGIN_DECLS

/*
 * What the consumer does (the analyzer, once per TCP connection that looks
 * like TLS):
 *
 *     TsTlsSession *tls = ts_tls_session_new (keylog, on_tls_event, conn);
 *     ...for each in-order chunk of reassembled bytes, either direction:
 *     ts_tls_session_feed (tls, TS_TLS_DIR_CLIENT, data, len, capture_time_us);
 *     ...after a hole in the TCP stream:
 *     ts_tls_session_gap (tls, TS_TLS_DIR_SERVER, n_lost_bytes);
 *     ...when new secrets were fed to the key log and the connection is idle:
 *     ts_tls_session_poll (tls, now_us);
 *     ...at the end of the connection or of the trace:
 *     ts_tls_session_finish (tls);
 *     ts_tls_session_free (tls);
 *
 * Each direction is the reassembled byte stream of one side, starting at the
 * first byte of the TCP payload (stream offset 0). Chunks may be cut
 * anywhere: the session keeps the partial record it needs (at most
 * TS_TLS_RECORD_CAP bytes per direction) and reports exactly the same events
 * whether a stream is fed whole or one byte at a time.
 *
 * Events are delivered synchronously, in stream order per direction, through
 * the TsTlsEventFunc given at construction, from inside _feed, _gap, _poll
 * and _finish. An event and everything it points to (strings, byte views,
 * certificate fields) is borrowed: valid only during the callback. Copy what
 * you keep. The callback must not call back into the same session.
 *
 * Decryption. The session reads the client random from the ClientHello, the
 * version and cipher suite from the ServerHello, and the secrets from the
 * key log: TLS 1.3 traffic secrets (handshake, application, then each
 * KeyUpdate), TLS 1.2 master secret (CLIENT_RANDOM). Protected records are
 * decrypted with AES-128-GCM, AES-256-GCM or ChaCha20-Poly1305 (and, in
 * TLS 1.1/1.2, AES-CBC with HMAC, MAC-then-encrypt or encrypt_then_mac); the
 * handshake messages inside (EncryptedExtensions, Certificate,
 * CertificateVerify, Finished, NewSessionTicket, KeyUpdate) are decoded like
 * clear ones and flagged `decrypted`.
 *
 * When a protected record arrives and the secret it needs is not (yet) in
 * the key log, the session holds the record back, at most
 * TS_TLS_PENDING_CAP bytes and TS_TLS_PENDING_WINDOW_US of capture time per
 * direction, and retries each time the key log grows (checked on every
 * _feed and _poll). Events of a direction stay in stream order: nothing
 * after a held record is reported before it. Held records are given up,
 * reported as TS_TLS_EVENT_OPAQUE after a TS_TLS_ANOMALY_MISSING_KEYS, when
 * the cap or the window is passed, at _finish, or at once when the session
 * has no key log or set_pending_cap (0) was called. (Our own traces carry
 * each session's secrets before its first packet, so holding is for other
 * writers' streams and key logs loaded late.)
 *
 * Certificates are parsed with OpenSSL (d2i_X509); their validity is judged
 * at the capture time of the chunk that completed the Certificate message
 * (the @time_us given to _feed), never at the current time.
 *
 * Malformed input is never fatal: it becomes a TS_TLS_EVENT_ANOMALY. A
 * direction that does not parse as TLS records (TS_TLS_ANOMALY_NOT_TLS,
 * TS_TLS_ANOMALY_MALFORMED_RECORD) stops: the rest of its bytes are
 * ignored and _feed returns FALSE for it.
 */

typedef enum
{
  TS_TLS_DIR_CLIENT = 0, /* client → server (the side that sent the ClientHello) */
  TS_TLS_DIR_SERVER = 1, /* server → client */
} TsTlsDirection;

/* Largest record we accept: 2^14 + 2048 (RFC 5246 §6.2.3 TLSCiphertext) plus
 * the 5-byte header. Anything longer is a malformed record. */
#define TS_TLS_RECORD_CAP (5 + 16384 + 2048)

/* Largest handshake message we reassemble across records (a certificate
 * chain is the largest in practice; the wire allows 2^24 - 1). A longer one
 * is reported as a TS_TLS_ANOMALY_TOO_LARGE and skipped. */
#define TS_TLS_HANDSHAKE_CAP (256 * 1024)

/* Default cap on the protected records held back per direction while waiting
 * for secrets (bytes, headers included). */
#define TS_TLS_PENDING_CAP (256 * 1024)

/* How long (capture time, from the first held record) a direction waits for
 * its secrets before giving its held records up. Not applied while the
 * feed's time is unknown (< 0). */
#define TS_TLS_PENDING_WINDOW_US (5 * G_USEC_PER_SEC)

/* Caps on the lists decoded from hello messages; longer lists are cut and
 * flagged `truncated`. */
#define TS_TLS_LIST_CAP 128
#define TS_TLS_ALPN_CAP 16

/* Cap on the certificates decoded from one Certificate message (the rest are
 * counted in n_certificates_total but not parsed). */
#define TS_TLS_CERT_CHAIN_CAP 16

/* Cap on SANs reported per certificate. */
#define TS_TLS_SAN_CAP 64

typedef enum
{
  TS_TLS_EVENT_RECORD,    /* a record header was framed (every record, clear or protected) */
  TS_TLS_EVENT_HANDSHAKE, /* a complete handshake message: ->handshake */
  TS_TLS_EVENT_CHANGE_CIPHER_SPEC,
  TS_TLS_EVENT_ALERT,            /* ->alert_level, ->alert_description */
  TS_TLS_EVENT_APPLICATION_DATA, /* ->data/->len: plaintext (decrypted, or cleartext) */
  TS_TLS_EVENT_OPAQUE,  /* a protected record we could not decrypt: ->data/->len is ciphertext */
  TS_TLS_EVENT_ANOMALY, /* ->anomaly and ->detail */
} TsTlsEventKind;

typedef enum
{
  TS_TLS_ANOMALY_NONE = 0,
  TS_TLS_ANOMALY_NOT_TLS,            /* the first bytes of a direction are not a TLS record */
  TS_TLS_ANOMALY_MALFORMED_RECORD,   /* bad content type, version or length: the direction stops */
  TS_TLS_ANOMALY_MALFORMED_MESSAGE,  /* a handshake message, alert or CCS that does not decode */
  TS_TLS_ANOMALY_TOO_LARGE,          /* over one of the caps above */
  TS_TLS_ANOMALY_UNEXPECTED,         /* a message out of place (e.g. data before the handshake) */
  TS_TLS_ANOMALY_MISSING_KEYS,       /* protected records, but no secret for them */
  TS_TLS_ANOMALY_UNSUPPORTED_CIPHER, /* a suite we do not decrypt (CCM, 3DES, ...) */
  TS_TLS_ANOMALY_DECRYPT_FAILED,     /* the AEAD tag did not verify */
  TS_TLS_ANOMALY_GAP,                /* bytes were lost (ts_tls_session_gap): record sync lost */
  TS_TLS_ANOMALY_TRUNCATED,          /* _finish with a partial record or message left */
} TsTlsAnomaly;

/* Certificate validity at the capture time. */
typedef enum
{
  TS_TLS_CERT_VALIDITY_UNKNOWN = 0, /* no capture time (time_us < 0) or dates unreadable */
  TS_TLS_CERT_VALID,
  TS_TLS_CERT_NOT_YET_VALID,
  TS_TLS_CERT_EXPIRED,
} TsTlsCertValidity;

typedef struct
{
  const guint8 *der; /* the certificate as on the wire */
  gsize der_len;
  gboolean parsed;     /* FALSE: OpenSSL could not read it; only der and sha256 are set */
  const char *subject; /* one line, RFC 2253 ("CN=example.com,O=Lab") */
  const char *issuer;
  const char *const *sans; /* "DNS:example.com", "IP:192.0.2.1", "URI:...", "email:..." */
  guint n_sans;
  gint64 not_before; /* Unix seconds (UTC) */
  gint64 not_after;
  TsTlsCertValidity validity;
  gboolean self_issued; /* subject == issuer */
  gboolean is_ca;       /* basicConstraints CA:TRUE */
  guint8 sha256[32];    /* SHA-256 of der */
} TsTlsCertificate;

/* Decoded fields of a handshake message. Lists are in wire order, GREASE
 * values included (see ts_tls_is_grease). Fields a message does not carry
 * are zero / NULL. */
typedef struct
{
  TsTlsHandshakeType type;
  guint32 length;     /* body length from the header */
  const guint8 *body; /* the body (length bytes), decrypted if it was protected */

  /* ClientHello and ServerHello */
  guint16 legacy_version;
  const guint8 *random; /* 32 bytes */
  const guint8 *session_id;
  guint8 session_id_len;
  gboolean is_hello_retry_request; /* a ServerHello with the RFC 8446 §4.1.3 special random */

  /* ClientHello: offered; ServerHello: the one chosen (n_cipher_suites == 1) */
  const guint16 *cipher_suites;
  guint n_cipher_suites;
  const guint16 *extensions; /* extension types, in order */
  guint n_extensions;
  const char *server_name; /* SNI host_name (ClientHello), NUL-terminated copy; NULL if absent */
  /* ALPN: ClientHello: offered; ServerHello (TLS 1.2) and EncryptedExtensions: chosen */
  const char *const *alpn;
  guint n_alpn;
  const guint16 *supported_versions; /* ClientHello: offered */
  guint n_supported_versions;
  guint16 selected_version; /* ServerHello: supported_versions if present, else legacy_version */
  const guint16 *supported_groups;
  guint n_supported_groups;
  const guint16 *key_share_groups; /* ClientHello: offered shares; ServerHello: the chosen one;
                                      HelloRetryRequest: the requested group */
  guint n_key_share_groups;
  gboolean truncated; /* a list above was cut at TS_TLS_LIST_CAP / TS_TLS_ALPN_CAP */

  /* Certificate */
  const TsTlsCertificate *certificates; /* leaf first */
  guint n_certificates;                 /* parsed here (≤ TS_TLS_CERT_CHAIN_CAP) */
  guint n_certificates_total;           /* in the message */

  /* NewSessionTicket (TLS 1.3) */
  guint32 ticket_lifetime;

  /* KeyUpdate */
  gboolean update_requested;
} TsTlsHandshake;

typedef struct
{
  TsTlsEventKind kind;
  TsTlsDirection direction;
  /* Stream offsets (in @direction) of the bytes this event came from: from
   * the header of the first record to the end of the last record that
   * carried it. For a RECORD event, exactly that record. */
  guint64 offset;
  guint64 end_offset;
  gboolean encrypted; /* it was carried in protected records */
  gboolean decrypted; /* ...and the session decrypted them */

  /* RECORD */
  guint8 content_type; /* outer type as on the wire */
  guint16 record_version;
  guint16 record_length;
  guint64 record_seq; /* sequence number in its key epoch (protected records) */

  /* HANDSHAKE */
  const TsTlsHandshake *handshake;

  /* ALERT */
  guint8 alert_level;
  guint8 alert_description;

  /* APPLICATION_DATA (plaintext), OPAQUE (ciphertext), CHANGE_CIPHER_SPEC (its byte) */
  const guint8 *data;
  gsize len;

  /* ANOMALY */
  TsTlsAnomaly anomaly;
  const char *detail; /* one line naming the rule and the values */

  /* Carried in TLS 1.3 0-RTT early data (RFC 8446 §2.3), decrypted with
   * CLIENT_EARLY_TRAFFIC_SECRET. */
  gboolean early;
} TsTlsEvent;

typedef void (*TsTlsEventFunc) (const TsTlsEvent *event, gpointer user_data);

/* What the session has learnt so far (borrowed, valid while @self lives and
 * until the next call into it). */
typedef struct
{
  gboolean have_client_hello;
  gboolean have_server_hello;
  gboolean hello_retry; /* a HelloRetryRequest was seen */
  guint8 client_random[32];
  guint8 server_random[32];
  guint16 version;         /* negotiated (TS_TLS_VERSION_*), 0 until ServerHello */
  guint16 cipher_suite;    /* negotiated, 0 until ServerHello */
  const char *server_name; /* SNI, or NULL */
  const char *alpn;        /* the chosen protocol, or NULL */
  gboolean decrypting[2];  /* keys in use per direction */
  guint64 n_records[2];
  guint64 n_decrypted[2]; /* records decrypted */
  guint64 n_app_bytes[2]; /* application plaintext bytes delivered */
} TsTlsSessionInfo;

typedef struct _TsTlsSession TsTlsSession;

/* A new session. @keylog (nullable) is referenced; @func (not NULL) receives
 * every event with @user_data. Transfer full: free with ts_tls_session_free. */
TsTlsSession *ts_tls_session_new (TsTlsKeylog *keylog, TsTlsEventFunc func, gpointer user_data);
void ts_tls_session_free (TsTlsSession *self);

/* Feeds the next @len bytes of @direction (@data borrowed for the call).
 * @time_us is the capture time of these bytes (Unix microseconds, or -1 if
 * unknown): used to judge certificate validity. Returns FALSE once the
 * direction has stopped (not TLS, or malformed records): feeding more is
 * then useless but harmless. */
gboolean ts_tls_session_feed (TsTlsSession *self, TsTlsDirection direction, const guint8 *data,
                              gsize len, gint64 time_us);

/* @n_bytes of @direction were lost (call it where the hole is, between the
 * feeds of the bytes before and after it). The direction reports
 * TS_TLS_ANOMALY_GAP, drops its partial record and message, and scans for
 * the next plausible record header (a false one found that way is a
 * TS_TLS_ANOMALY_MALFORMED_RECORD and the scan goes on, rather than
 * stopping the direction). Application data decryption resumes: the
 * sequence number of the next protected record is estimated from the lost
 * bytes and the sizes of recent records, and tried outwards from there
 * (TLS 1.2 GCM: its explicit nonce first), within a budget of tries (see
 * TS_TLS_GAP_SEQ_TRIALS in the .c). Records that no candidate opens stay
 * opaque, with one TS_TLS_ANOMALY_DECRYPT_FAILED for the stretch, until
 * one opens (a TS_TLS_ANOMALY_GAP then says decryption resumed). A gap
 * during the TLS 1.3 handshake ends decryption of that direction. */
void ts_tls_session_gap (TsTlsSession *self, TsTlsDirection direction, guint64 n_bytes);

/* Retries held records if the key log has grown since the last try.
 * Returns TRUE if anything was reported. */
gboolean ts_tls_session_poll (TsTlsSession *self, gint64 time_us);

/* End of both directions: held records are given up (MISSING_KEYS + OPAQUE),
 * a partial record or message is reported as TS_TLS_ANOMALY_TRUNCATED.
 * Later feeds are ignored. */
void ts_tls_session_finish (TsTlsSession *self);

/* Bytes of protected records held back per direction while keys are
 * missing (default TS_TLS_PENDING_CAP; 0: never wait). */
void ts_tls_session_set_pending_cap (TsTlsSession *self, gsize cap);

const TsTlsSessionInfo *ts_tls_session_get_info (TsTlsSession *self);

/* Records opened ahead of the session, by another thread that reads the
 * trace ahead of the analyzer (ts-decrypt-ahead.h). The session asks before
 * it opens a protected record of an application data epoch itself:
 *
 * @open: the record @rec (@rec_len bytes, header included) under the keys
 * numbered @serial (TsTlsCipher.serial) at sequence number @seq. Returns
 * what _ts_tls_cipher_open () would, with *@out_plain set (borrowed, valid
 * until the next call of @open) and, when it returns n >= 0, *@out_inner_len
 * the plaintext's length without its trailing zeros (RFC 8446 §5.2
 * TLSInnerPlaintext: the content type is its last byte, *@out_inner_type;
 * 0 when every byte is zero), so that the caller need not read the
 * record's end; or
 * TS_TLS_AHEAD_MISS when it was not opened ahead: the session then opens it
 * itself. Called only where the session would open the record anyway, with
 * the same keys, sequence number and bytes, so the events are the same with
 * or without it. @src (@n_src pieces, or NULL): where the bytes of @rec
 * were copied from, when the session knows (a record cut across chunks);
 * bytes at the same address need no comparison. @rec is NULL when the
 * session has not copied them (all of @src is @stable then).
 *
 * @stable: whether @len bytes fed at @data stay readable, unchanged, for as
 * long as the hook is set (the trace the helper reads): the session then
 * leaves the body of a record cut across chunks there until it needs it.
 *
 * @open_here: after a miss, opens the record with @cipher as
 * _ts_tls_cipher_open () would (@rec NULL: from @src, all of it @stable),
 * *@out_plain valid until the next call of either function (it may take
 * the result of the same bytes opened under the same keys and sequence
 * number for another session). */
#define TS_TLS_AHEAD_MISS G_MINSSIZE
struct _TsTlsCipher;
typedef struct
{
  gssize (*open) (gpointer user_data, guint64 serial, guint64 seq, const guint8 *rec, gsize rec_len,
                  const TsTlsPiece *src, guint n_src, const guint8 **out_plain,
                  gsize *out_inner_len, guint8 *out_inner_type);
  gboolean (*stable) (gpointer user_data, const guint8 *data, gsize len);
  gssize (*open_here) (gpointer user_data, const struct _TsTlsCipher *cipher, guint64 seq,
                       const guint8 *rec, gsize rec_len, const TsTlsPiece *src, guint n_src,
                       const guint8 **out_plain);
  gboolean verify; /* tests: every result of @open is checked by opening the record here */
} TsTlsAhead;

/* @ahead (static storage, or NULL to stop) is asked with @user_data. */
void ts_tls_session_set_ahead (TsTlsSession *self, const TsTlsAhead *ahead, gpointer user_data);

/* Where a direction stands, for a reader that follows its records ahead. */
typedef struct
{
  guint64 fed;                       /* stream offset of the next byte to feed */
  const guint8 *partial;             /* the bytes of a record fed in part (borrowed), */
  gsize partial_len;                 /* the last partial_len bytes before @fed */
  guint64 seq;                       /* the sequence number of the next protected record */
  const struct _TsTlsCipher *cipher; /* the keys opening it (ts-tls-cipher.h); borrowed */
  gboolean all_protected;            /* TLS 1.2: every record is protected; TLS 1.3: only
                                        application_data (23) records */
} TsTlsSync;

/* Fills @out and returns TRUE when @direction's next records can be opened
 * by someone who knows only @out: keys in use for application data, no
 * record held back or lost, no 0-RTT. FALSE otherwise. */
gboolean ts_tls_session_get_sync (TsTlsSession *self, TsTlsDirection direction, TsTlsSync *out);

/* Cheap check for the analyzer's protocol guess: TRUE if @data (the first
 * bytes of a stream, at least 5 wanted) starts like a TLS record carrying a
 * handshake. Returns FALSE when @len < 5. */
gboolean ts_tls_session_looks_like_tls (const guint8 *data, gsize len);

/* The same for a stream joined in the middle (a capture begun after the
 * handshake): TRUE if @data starts with a plausible header of any record
 * (RFC 8446 §5.1, RFC 5246 §6.2.1), judged more strictly than the session
 * does: no SSL 3.0, heartbeat or empty record. */
gboolean ts_tls_session_looks_like_record (const guint8 *data, gsize len);

const char *ts_tls_event_kind_to_string (guint kind);
const char *ts_tls_anomaly_to_string (guint anomaly);
const char *ts_tls_direction_to_string (guint direction);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TsTlsSession, ts_tls_session_free)

G_END_DECLS
