/* ts-tls-types.h: TLS protocol constants (RFC 8446, RFC 5246) with their names.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Wire decoders return ≥ 0 (bytes consumed), TS_PARSE_INCOMPLETE or TS_PARSE_INVALID. */
#include "ts-parse.h"

/* A run of bytes of a record cut across segments: a record's pieces, in
 * order, are its bytes, header included. */
typedef struct
{
  const guint8 *data;
  gsize len;
} TsTlsPiece;

/* Pieces a record cut across chunks is followed in (more: it is copied). */
#define TS_TLS_PIECES_MAX 24

/* RFC 8446 §5.1 ContentType. */
typedef enum
{
  TS_TLS_CONTENT_INVALID = 0,
  TS_TLS_CONTENT_CHANGE_CIPHER_SPEC = 20,
  TS_TLS_CONTENT_ALERT = 21,
  TS_TLS_CONTENT_HANDSHAKE = 22,
  TS_TLS_CONTENT_APPLICATION_DATA = 23,
  TS_TLS_CONTENT_HEARTBEAT = 24, /* RFC 6520 */
} TsTlsContentType;

/* ProtocolVersion values. */
typedef enum
{
  TS_TLS_VERSION_SSL3 = 0x0300,
  TS_TLS_VERSION_1_0 = 0x0301,
  TS_TLS_VERSION_1_1 = 0x0302,
  TS_TLS_VERSION_1_2 = 0x0303,
  TS_TLS_VERSION_1_3 = 0x0304,
} TsTlsVersion;

/* RFC 8446 §4 HandshakeType (plus the TLS 1.2 ones from RFC 5246 §7.4). */
typedef enum
{
  TS_TLS_HS_HELLO_REQUEST = 0,
  TS_TLS_HS_CLIENT_HELLO = 1,
  TS_TLS_HS_SERVER_HELLO = 2,
  TS_TLS_HS_NEW_SESSION_TICKET = 4,
  TS_TLS_HS_END_OF_EARLY_DATA = 5,
  TS_TLS_HS_ENCRYPTED_EXTENSIONS = 8,
  TS_TLS_HS_CERTIFICATE = 11,
  TS_TLS_HS_SERVER_KEY_EXCHANGE = 12,
  TS_TLS_HS_CERTIFICATE_REQUEST = 13,
  TS_TLS_HS_SERVER_HELLO_DONE = 14,
  TS_TLS_HS_CERTIFICATE_VERIFY = 15,
  TS_TLS_HS_CLIENT_KEY_EXCHANGE = 16,
  TS_TLS_HS_FINISHED = 20,
  TS_TLS_HS_CERTIFICATE_STATUS = 22,
  TS_TLS_HS_KEY_UPDATE = 24,
  TS_TLS_HS_MESSAGE_HASH = 254,
} TsTlsHandshakeType;

/* RFC 8446 §4.2 ExtensionType (those we decode or name). */
typedef enum
{
  TS_TLS_EXT_SERVER_NAME = 0,
  TS_TLS_EXT_SUPPORTED_GROUPS = 10,
  TS_TLS_EXT_EC_POINT_FORMATS = 11,
  TS_TLS_EXT_SIGNATURE_ALGORITHMS = 13,
  TS_TLS_EXT_ALPN = 16,
  TS_TLS_EXT_ENCRYPT_THEN_MAC = 22,
  TS_TLS_EXT_EXTENDED_MASTER_SECRET = 23,
  TS_TLS_EXT_SESSION_TICKET = 35,
  TS_TLS_EXT_PRE_SHARED_KEY = 41,
  TS_TLS_EXT_EARLY_DATA = 42,
  TS_TLS_EXT_SUPPORTED_VERSIONS = 43,
  TS_TLS_EXT_COOKIE = 44,
  TS_TLS_EXT_PSK_KEY_EXCHANGE_MODES = 45,
  TS_TLS_EXT_KEY_SHARE = 51,
  TS_TLS_EXT_RENEGOTIATION_INFO = 0xff01,
} TsTlsExtensionType;

/* RFC 8446 §6 AlertLevel and AlertDescription. */
typedef enum
{
  TS_TLS_ALERT_LEVEL_WARNING = 1,
  TS_TLS_ALERT_LEVEL_FATAL = 2,
} TsTlsAlertLevel;

typedef enum
{
  TS_TLS_ALERT_CLOSE_NOTIFY = 0,
  TS_TLS_ALERT_UNEXPECTED_MESSAGE = 10,
  TS_TLS_ALERT_BAD_RECORD_MAC = 20,
  TS_TLS_ALERT_RECORD_OVERFLOW = 22,
  TS_TLS_ALERT_HANDSHAKE_FAILURE = 40,
  TS_TLS_ALERT_BAD_CERTIFICATE = 42,
  TS_TLS_ALERT_UNSUPPORTED_CERTIFICATE = 43,
  TS_TLS_ALERT_CERTIFICATE_REVOKED = 44,
  TS_TLS_ALERT_CERTIFICATE_EXPIRED = 45,
  TS_TLS_ALERT_CERTIFICATE_UNKNOWN = 46,
  TS_TLS_ALERT_ILLEGAL_PARAMETER = 47,
  TS_TLS_ALERT_UNKNOWN_CA = 48,
  TS_TLS_ALERT_ACCESS_DENIED = 49,
  TS_TLS_ALERT_DECODE_ERROR = 50,
  TS_TLS_ALERT_DECRYPT_ERROR = 51,
  TS_TLS_ALERT_PROTOCOL_VERSION = 70,
  TS_TLS_ALERT_INSUFFICIENT_SECURITY = 71,
  TS_TLS_ALERT_INTERNAL_ERROR = 80,
  TS_TLS_ALERT_INAPPROPRIATE_FALLBACK = 86,
  TS_TLS_ALERT_USER_CANCELED = 90,
  TS_TLS_ALERT_MISSING_EXTENSION = 109,
  TS_TLS_ALERT_UNSUPPORTED_EXTENSION = 110,
  TS_TLS_ALERT_UNRECOGNIZED_NAME = 112,
  TS_TLS_ALERT_BAD_CERTIFICATE_STATUS_RESPONSE = 113,
  TS_TLS_ALERT_UNKNOWN_PSK_IDENTITY = 115,
  TS_TLS_ALERT_CERTIFICATE_REQUIRED = 116,
  TS_TLS_ALERT_NO_APPLICATION_PROTOCOL = 120,
} TsTlsAlertDescription;

/* Cipher suites we decrypt (and name). RFC 8446 §B.4, RFC 5288, RFC 5289, RFC 7905. */
typedef enum
{
  TS_TLS_CS_RSA_WITH_AES_128_GCM_SHA256 = 0x009c,
  TS_TLS_CS_RSA_WITH_AES_256_GCM_SHA384 = 0x009d,
  TS_TLS_CS_DHE_RSA_WITH_AES_128_GCM_SHA256 = 0x009e,
  TS_TLS_CS_DHE_RSA_WITH_AES_256_GCM_SHA384 = 0x009f,
  TS_TLS_CS_AES_128_GCM_SHA256 = 0x1301,
  TS_TLS_CS_AES_256_GCM_SHA384 = 0x1302,
  TS_TLS_CS_CHACHA20_POLY1305_SHA256 = 0x1303,
  TS_TLS_CS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 = 0xc02b,
  TS_TLS_CS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 = 0xc02c,
  TS_TLS_CS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 = 0xc02f,
  TS_TLS_CS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 = 0xc030,
  TS_TLS_CS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 = 0xcca8,
  TS_TLS_CS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 = 0xcca9,
  TS_TLS_CS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256 = 0xccaa,
} TsTlsCipherSuite;

/* Each returns a static name ("handshake", "TLS 1.3", "client_hello",
 * "TLS_AES_128_GCM_SHA256", ...) or NULL for a value it does not know.
 * ts_tls_version_to_string also names GREASE values as "GREASE". */
const char *ts_tls_content_type_to_string (guint value);
const char *ts_tls_version_to_string (guint value);
const char *ts_tls_handshake_type_to_string (guint value);
const char *ts_tls_extension_type_to_string (guint value);
const char *ts_tls_alert_level_to_string (guint value);
const char *ts_tls_alert_description_to_string (guint value);
const char *ts_tls_cipher_suite_to_string (guint value);
/* Named groups (RFC 8446 §4.2.7): "x25519", "secp256r1", ... */
const char *ts_tls_named_group_to_string (guint value);

/* TRUE for the GREASE values of RFC 8701 (0x?a?a with both bytes equal). */
gboolean ts_tls_is_grease (guint16 value);

G_END_DECLS
