/* ts-tls-types.c: names of TLS protocol constants.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "ts-tls-types.h"

typedef struct
{
  guint value;
  const char *name;
} TsTlsName;

static const char *
lookup (const TsTlsName *table, gsize n, guint value)
{
  for (gsize i = 0; i < n; i++)
    if (table[i].value == value)
      return table[i].name;
  return NULL;
}

#define LOOKUP(table, value) lookup (table, G_N_ELEMENTS (table), value)

static const TsTlsName content_types[] = {
  { TS_TLS_CONTENT_INVALID, "invalid" },
  { TS_TLS_CONTENT_CHANGE_CIPHER_SPEC, "change_cipher_spec" },
  { TS_TLS_CONTENT_ALERT, "alert" },
  { TS_TLS_CONTENT_HANDSHAKE, "handshake" },
  { TS_TLS_CONTENT_APPLICATION_DATA, "application_data" },
  { TS_TLS_CONTENT_HEARTBEAT, "heartbeat" },
};

static const TsTlsName versions[] = {
  { TS_TLS_VERSION_SSL3, "SSL 3.0" }, { TS_TLS_VERSION_1_0, "TLS 1.0" },
  { TS_TLS_VERSION_1_1, "TLS 1.1" },  { TS_TLS_VERSION_1_2, "TLS 1.2" },
  { TS_TLS_VERSION_1_3, "TLS 1.3" },
};

static const TsTlsName handshake_types[] = {
  { TS_TLS_HS_HELLO_REQUEST, "hello_request" },
  { TS_TLS_HS_CLIENT_HELLO, "client_hello" },
  { TS_TLS_HS_SERVER_HELLO, "server_hello" },
  { TS_TLS_HS_NEW_SESSION_TICKET, "new_session_ticket" },
  { TS_TLS_HS_END_OF_EARLY_DATA, "end_of_early_data" },
  { TS_TLS_HS_ENCRYPTED_EXTENSIONS, "encrypted_extensions" },
  { TS_TLS_HS_CERTIFICATE, "certificate" },
  { TS_TLS_HS_SERVER_KEY_EXCHANGE, "server_key_exchange" },
  { TS_TLS_HS_CERTIFICATE_REQUEST, "certificate_request" },
  { TS_TLS_HS_SERVER_HELLO_DONE, "server_hello_done" },
  { TS_TLS_HS_CERTIFICATE_VERIFY, "certificate_verify" },
  { TS_TLS_HS_CLIENT_KEY_EXCHANGE, "client_key_exchange" },
  { TS_TLS_HS_FINISHED, "finished" },
  { TS_TLS_HS_CERTIFICATE_STATUS, "certificate_status" },
  { TS_TLS_HS_KEY_UPDATE, "key_update" },
  { TS_TLS_HS_MESSAGE_HASH, "message_hash" },
};

static const TsTlsName extension_types[] = {
  { TS_TLS_EXT_SERVER_NAME, "server_name" },
  { TS_TLS_EXT_SUPPORTED_GROUPS, "supported_groups" },
  { TS_TLS_EXT_EC_POINT_FORMATS, "ec_point_formats" },
  { TS_TLS_EXT_SIGNATURE_ALGORITHMS, "signature_algorithms" },
  { TS_TLS_EXT_ALPN, "application_layer_protocol_negotiation" },
  { TS_TLS_EXT_ENCRYPT_THEN_MAC, "encrypt_then_mac" },
  { TS_TLS_EXT_EXTENDED_MASTER_SECRET, "extended_master_secret" },
  { TS_TLS_EXT_SESSION_TICKET, "session_ticket" },
  { TS_TLS_EXT_PRE_SHARED_KEY, "pre_shared_key" },
  { TS_TLS_EXT_EARLY_DATA, "early_data" },
  { TS_TLS_EXT_SUPPORTED_VERSIONS, "supported_versions" },
  { TS_TLS_EXT_COOKIE, "cookie" },
  { TS_TLS_EXT_PSK_KEY_EXCHANGE_MODES, "psk_key_exchange_modes" },
  { TS_TLS_EXT_KEY_SHARE, "key_share" },
  { TS_TLS_EXT_RENEGOTIATION_INFO, "renegotiation_info" },
};

static const TsTlsName alert_levels[] = {
  { TS_TLS_ALERT_LEVEL_WARNING, "warning" },
  { TS_TLS_ALERT_LEVEL_FATAL, "fatal" },
};

static const TsTlsName alert_descriptions[] = {
  { TS_TLS_ALERT_CLOSE_NOTIFY, "close_notify" },
  { TS_TLS_ALERT_UNEXPECTED_MESSAGE, "unexpected_message" },
  { TS_TLS_ALERT_BAD_RECORD_MAC, "bad_record_mac" },
  { TS_TLS_ALERT_RECORD_OVERFLOW, "record_overflow" },
  { TS_TLS_ALERT_HANDSHAKE_FAILURE, "handshake_failure" },
  { TS_TLS_ALERT_BAD_CERTIFICATE, "bad_certificate" },
  { TS_TLS_ALERT_UNSUPPORTED_CERTIFICATE, "unsupported_certificate" },
  { TS_TLS_ALERT_CERTIFICATE_REVOKED, "certificate_revoked" },
  { TS_TLS_ALERT_CERTIFICATE_EXPIRED, "certificate_expired" },
  { TS_TLS_ALERT_CERTIFICATE_UNKNOWN, "certificate_unknown" },
  { TS_TLS_ALERT_ILLEGAL_PARAMETER, "illegal_parameter" },
  { TS_TLS_ALERT_UNKNOWN_CA, "unknown_ca" },
  { TS_TLS_ALERT_ACCESS_DENIED, "access_denied" },
  { TS_TLS_ALERT_DECODE_ERROR, "decode_error" },
  { TS_TLS_ALERT_DECRYPT_ERROR, "decrypt_error" },
  { TS_TLS_ALERT_PROTOCOL_VERSION, "protocol_version" },
  { TS_TLS_ALERT_INSUFFICIENT_SECURITY, "insufficient_security" },
  { TS_TLS_ALERT_INTERNAL_ERROR, "internal_error" },
  { TS_TLS_ALERT_INAPPROPRIATE_FALLBACK, "inappropriate_fallback" },
  { TS_TLS_ALERT_USER_CANCELED, "user_canceled" },
  { TS_TLS_ALERT_MISSING_EXTENSION, "missing_extension" },
  { TS_TLS_ALERT_UNSUPPORTED_EXTENSION, "unsupported_extension" },
  { TS_TLS_ALERT_UNRECOGNIZED_NAME, "unrecognized_name" },
  { TS_TLS_ALERT_BAD_CERTIFICATE_STATUS_RESPONSE, "bad_certificate_status_response" },
  { TS_TLS_ALERT_UNKNOWN_PSK_IDENTITY, "unknown_psk_identity" },
  { TS_TLS_ALERT_CERTIFICATE_REQUIRED, "certificate_required" },
  { TS_TLS_ALERT_NO_APPLICATION_PROTOCOL, "no_application_protocol" },
};

static const TsTlsName cipher_suites[] = {
  { TS_TLS_CS_RSA_WITH_AES_128_GCM_SHA256, "TLS_RSA_WITH_AES_128_GCM_SHA256" },
  { TS_TLS_CS_RSA_WITH_AES_256_GCM_SHA384, "TLS_RSA_WITH_AES_256_GCM_SHA384" },
  { TS_TLS_CS_DHE_RSA_WITH_AES_128_GCM_SHA256, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256" },
  { TS_TLS_CS_DHE_RSA_WITH_AES_256_GCM_SHA384, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384" },
  { TS_TLS_CS_AES_128_GCM_SHA256, "TLS_AES_128_GCM_SHA256" },
  { TS_TLS_CS_AES_256_GCM_SHA384, "TLS_AES_256_GCM_SHA384" },
  { TS_TLS_CS_CHACHA20_POLY1305_SHA256, "TLS_CHACHA20_POLY1305_SHA256" },
  { 0x1304, "TLS_AES_128_CCM_SHA256" },
  { 0x1305, "TLS_AES_128_CCM_8_SHA256" },
  { TS_TLS_CS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" },
  { TS_TLS_CS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384" },
  { TS_TLS_CS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" },
  { TS_TLS_CS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" },
  { TS_TLS_CS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256" },
  { TS_TLS_CS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256" },
  { TS_TLS_CS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256" },
  { 0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA" },
  { 0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA" },
  { 0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA" },
  { 0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA" },
  { 0x003c, "TLS_RSA_WITH_AES_128_CBC_SHA256" },
  { 0x003d, "TLS_RSA_WITH_AES_256_CBC_SHA256" },
  { 0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256" },
  { 0x006b, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256" },
  { 0x00ff, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV" },
  { 0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA" },
  { 0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA" },
  { 0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA" },
  { 0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA" },
  { 0xc023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256" },
  { 0xc024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384" },
  { 0xc027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256" },
  { 0xc028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384" },
};

static const TsTlsName named_groups[] = {
  { 0x0017, "secp256r1" },
  { 0x0018, "secp384r1" },
  { 0x0019, "secp521r1" },
  { 0x001d, "x25519" },
  { 0x001e, "x448" },
  { 0x0100, "ffdhe2048" },
  { 0x0101, "ffdhe3072" },
  { 0x0102, "ffdhe4096" },
  { 0x0103, "ffdhe6144" },
  { 0x0104, "ffdhe8192" },
  { 0x6399, "X25519Kyber768Draft00" },
  { 0x11ec, "X25519MLKEM768" },
};

gboolean
ts_tls_is_grease (guint16 value)
{
  return (value & 0x0f0f) == 0x0a0a && (value >> 8) == (value & 0xff);
}

const char *
ts_tls_content_type_to_string (guint value)
{
  return LOOKUP (content_types, value);
}

const char *
ts_tls_version_to_string (guint value)
{
  if (value <= 0xffff && ts_tls_is_grease ((guint16)value))
    return "GREASE";
  return LOOKUP (versions, value);
}

const char *
ts_tls_handshake_type_to_string (guint value)
{
  return LOOKUP (handshake_types, value);
}

const char *
ts_tls_extension_type_to_string (guint value)
{
  if (value <= 0xffff && ts_tls_is_grease ((guint16)value))
    return "GREASE";
  return LOOKUP (extension_types, value);
}

const char *
ts_tls_alert_level_to_string (guint value)
{
  return LOOKUP (alert_levels, value);
}

const char *
ts_tls_alert_description_to_string (guint value)
{
  return LOOKUP (alert_descriptions, value);
}

const char *
ts_tls_cipher_suite_to_string (guint value)
{
  if (value <= 0xffff && ts_tls_is_grease ((guint16)value))
    return "GREASE";
  return LOOKUP (cipher_suites, value);
}

const char *
ts_tls_named_group_to_string (guint value)
{
  if (value <= 0xffff && ts_tls_is_grease ((guint16)value))
    return "GREASE";
  return LOOKUP (named_groups, value);
}
