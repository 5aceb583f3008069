/* ts-tls-handshake.c: decoders of TLS handshake message bodies (RFC 8446 §4, RFC 5246 §7.4).
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "ts-tls-handshake.h"

#include <string.h>

#include "ts-tls-certificate.h"
#include "ts-cursor.h"

/* RFC 8446 §4.1.3: the random of a HelloRetryRequest, SHA-256("HelloRetryRequest"). */
static const guint8 hrr_random[32] = {
  0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
  0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

typedef enum
{
  IN_CLIENT_HELLO,
  IN_SERVER_HELLO,
  IN_HELLO_RETRY_REQUEST,
  IN_ENCRYPTED_EXTENSIONS,
} ExtensionContext;

void
_ts_tls_handshake_scratch_clear (TsTlsHandshakeScratch *self)
{
  g_clear_pointer (&self->owned, g_ptr_array_unref);
}

static void
push16 (TsTlsHandshakeScratch *self, guint16 *list, guint *n, guint16 value)
{
  if (*n < TS_TLS_LIST_CAP)
    list[(*n)++] = value;
  else
    self->hs.truncated = TRUE;
}

/*
 * RFC 6066 §3 server_name:
 *
 *     struct {
 *         NameType name_type;                 -- 0: host_name
 *         select (name_type) {
 *             case host_name: HostName;       -- opaque HostName<1..2^16-1>
 *         } name;
 *     } ServerName;
 *     struct {
 *         ServerName server_name_list<1..2^16-1>
 *     } ServerNameList;
 */
static gboolean
decode_server_name (TsTlsHandshakeScratch *self, TsCursor *ext)
{
  TsCursor list, name;

  if (!ts_cursor_vec (ext, 2, &list))
    return FALSE;
  while (ts_cursor_remaining (&list) > 0)
    {
      guint8 type = ts_cursor_u8 (&list);

      if (!ts_cursor_vec (&list, 2, &name))
        return FALSE;
      if (type == 0 && self->hs.server_name == NULL)
        {
          gsize n = MIN (name.len, sizeof self->server_name - 1);

          if (name.len == 0 || memchr (name.data, 0, name.len) != NULL)
            return FALSE;
          memcpy (self->server_name, name.data, n);
          self->server_name[n] = '\0';
          if (n < name.len)
            self->hs.truncated = TRUE;
          self->hs.server_name = self->server_name;
        }
    }
  return ts_cursor_done (ext);
}

/*
 * RFC 7301 §3.1 application_layer_protocol_negotiation:
 *
 *     opaque ProtocolName<1..2^8-1>;
 *     struct {
 *         ProtocolName protocol_name_list<2..2^16-1>
 *     } ProtocolNameList;
 */
static gboolean
decode_alpn (TsTlsHandshakeScratch *self, TsCursor *ext)
{
  TsCursor list, name;

  self->hs.alpn = self->alpn;
  if (!ts_cursor_vec (ext, 2, &list))
    return FALSE;
  while (ts_cursor_remaining (&list) > 0)
    {
      if (!ts_cursor_vec (&list, 1, &name) || name.len == 0)
        return FALSE;
      if (self->hs.n_alpn < TS_TLS_ALPN_CAP)
        {
          char *dst = self->alpn_names[self->hs.n_alpn];

          /* Protocol names are opaque bytes; show what is not printable as '?'. */
          for (gsize i = 0; i < name.len; i++)
            dst[i] = name.data[i] >= 0x20 && name.data[i] < 0x7f ? (char)name.data[i] : '?';
          dst[name.len] = '\0';
          self->alpn[self->hs.n_alpn++] = dst;
          self->alpn[self->hs.n_alpn] = NULL;
        }
      else
        self->hs.truncated = TRUE;
    }
  return ts_cursor_done (ext);
}

/*
 * RFC 8446 §4.2 extensions, as carried by ClientHello, ServerHello,
 * HelloRetryRequest and EncryptedExtensions:
 *
 *     struct {
 *         ExtensionType extension_type;       -- uint16
 *         opaque extension_data<0..2^16-1>;
 *     } Extension;
 *
 * supported_versions (§4.2.1):
 *     ClientHello:  ProtocolVersion versions<2..254>;
 *     ServerHello:  ProtocolVersion selected_version;
 * supported_groups (§4.2.7):  NamedGroup named_group_list<2..2^16-1>;
 * key_share (§4.2.8):
 *     struct { NamedGroup group; opaque key_exchange<1..2^16-1>; } KeyShareEntry;
 *     ClientHello:        KeyShareEntry client_shares<0..2^16-1>;
 *     HelloRetryRequest:  NamedGroup selected_group;
 *     ServerHello:        KeyShareEntry server_share;
 */
static gboolean
decode_extensions (TsTlsHandshakeScratch *self, TsCursor *c, ExtensionContext where)
{
  TsCursor exts, ext, list;
  TsTlsHandshake *hs = &self->hs;

  hs->extensions = self->extensions;
  if (!ts_cursor_vec (c, 2, &exts))
    return FALSE;
  while (ts_cursor_remaining (&exts) > 0)
    {
      guint16 type = ts_cursor_be16 (&exts);
      gboolean ok = TRUE;

      if (!ts_cursor_vec (&exts, 2, &ext))
        return FALSE;
      push16 (self, self->extensions, &hs->n_extensions, type);

      switch (type)
        {
          case TS_TLS_EXT_SERVER_NAME:
            if (where == IN_CLIENT_HELLO)
              ok = decode_server_name (self, &ext);
            break;
          case TS_TLS_EXT_ALPN:
            ok = decode_alpn (self, &ext);
            break;
          case TS_TLS_EXT_SUPPORTED_VERSIONS:
            hs->supported_versions = self->supported_versions;
            if (where == IN_CLIENT_HELLO)
              {
                ok = ts_cursor_vec (&ext, 1, &list) && list.len % 2 == 0;
                while (ok && ts_cursor_remaining (&list) > 0)
                  push16 (self, self->supported_versions, &hs->n_supported_versions,
                          ts_cursor_be16 (&list));
              }
            else
              {
                hs->selected_version = ts_cursor_be16 (&ext);
                push16 (self, self->supported_versions, &hs->n_supported_versions,
                        hs->selected_version);
              }
            ok = ok && ts_cursor_done (&ext);
            break;
          case TS_TLS_EXT_SUPPORTED_GROUPS:
            hs->supported_groups = self->supported_groups;
            ok = ts_cursor_vec (&ext, 2, &list) && list.len % 2 == 0;
            while (ok && ts_cursor_remaining (&list) > 0)
              push16 (self, self->supported_groups, &hs->n_supported_groups,
                      ts_cursor_be16 (&list));
            ok = ok && ts_cursor_done (&ext);
            break;
          case TS_TLS_EXT_KEY_SHARE:
            hs->key_share_groups = self->key_share_groups;
            if (where == IN_CLIENT_HELLO)
              {
                ok = ts_cursor_vec (&ext, 2, &list);
                while (ok && ts_cursor_remaining (&list) > 0)
                  {
                    TsCursor key;
                    guint16 group = ts_cursor_be16 (&list);

                    ok = ts_cursor_vec (&list, 2, &key);
                    if (ok)
                      push16 (self, self->key_share_groups, &hs->n_key_share_groups, group);
                  }
              }
            else if (where == IN_HELLO_RETRY_REQUEST)
              push16 (self, self->key_share_groups, &hs->n_key_share_groups, ts_cursor_be16 (&ext));
            else if (where == IN_SERVER_HELLO)
              {
                TsCursor key;
                guint16 group = ts_cursor_be16 (&ext);

                if (ts_cursor_vec (&ext, 2, &key))
                  push16 (self, self->key_share_groups, &hs->n_key_share_groups, group);
              }
            ok = ok && ts_cursor_done (&ext);
            break;
          default:
            break;
        }
      if (!ok)
        {
          self->error = "an extension does not match its declared structure";
          return FALSE;
        }
    }
  return TRUE;
}

/*
 * RFC 8446 §4.1.2 ClientHello (TLS 1.2 is the same, extensions optional):
 *
 *     struct {
 *         ProtocolVersion legacy_version = 0x0303;
 *         Random random;                               -- 32 bytes
 *         opaque legacy_session_id<0..32>;
 *         CipherSuite cipher_suites<2..2^16-2>;
 *         opaque legacy_compression_methods<1..2^8-1>;
 *         Extension extensions<8..2^16-1>;
 *     } ClientHello;
 */
static gboolean
decode_client_hello (TsTlsHandshakeScratch *self, TsCursor *c)
{
  TsTlsHandshake *hs = &self->hs;
  TsCursor sid, suites, comp;

  hs->legacy_version = ts_cursor_be16 (c);
  hs->random = ts_cursor_bytes (c, 32);
  if (!ts_cursor_vec (c, 1, &sid) || sid.len > 32)
    return FALSE;
  hs->session_id = sid.data;
  hs->session_id_len = (guint8)sid.len;
  if (!ts_cursor_vec (c, 2, &suites) || suites.len % 2 != 0)
    return FALSE;
  hs->cipher_suites = self->cipher_suites;
  while (ts_cursor_remaining (&suites) > 0)
    push16 (self, self->cipher_suites, &hs->n_cipher_suites, ts_cursor_be16 (&suites));
  if (!ts_cursor_vec (c, 1, &comp))
    return FALSE;
  if (ts_cursor_remaining (c) == 0)
    return !c->failed;
  return decode_extensions (self, c, IN_CLIENT_HELLO) && ts_cursor_done (c);
}

/*
 * RFC 8446 §4.1.3 ServerHello (and HelloRetryRequest, the same structure
 * with the special random):
 *
 *     struct {
 *         ProtocolVersion legacy_version = 0x0303;
 *         Random random;
 *         opaque legacy_session_id_echo<0..32>;
 *         CipherSuite cipher_suite;
 *         uint8 legacy_compression_method = 0;
 *         Extension extensions<6..2^16-1>;
 *     } ServerHello;
 */
static gboolean
decode_server_hello (TsTlsHandshakeScratch *self, TsCursor *c)
{
  TsTlsHandshake *hs = &self->hs;
  TsCursor sid;

  hs->legacy_version = ts_cursor_be16 (c);
  hs->selected_version = hs->legacy_version;
  hs->random = ts_cursor_bytes (c, 32);
  if (hs->random != NULL && memcmp (hs->random, hrr_random, 32) == 0)
    hs->is_hello_retry_request = TRUE;
  if (!ts_cursor_vec (c, 1, &sid) || sid.len > 32)
    return FALSE;
  hs->session_id = sid.data;
  hs->session_id_len = (guint8)sid.len;
  self->cipher_suites[0] = ts_cursor_be16 (c);
  hs->cipher_suites = self->cipher_suites;
  hs->n_cipher_suites = 1;
  ts_cursor_u8 (c);
  if (c->failed)
    return FALSE;
  if (ts_cursor_remaining (c) == 0)
    return TRUE;
  return decode_extensions (self, c,
                            hs->is_hello_retry_request ? IN_HELLO_RETRY_REQUEST : IN_SERVER_HELLO)
         && ts_cursor_done (c);
}

/*
 * RFC 8446 §4.4.2 Certificate (TLS 1.3):
 *
 *     struct {
 *         opaque cert_data<1..2^24-1>;             -- X509 (DER)
 *         Extension extensions<0..2^16-1>;
 *     } CertificateEntry;
 *     struct {
 *         opaque certificate_request_context<0..2^8-1>;
 *         CertificateEntry certificate_list<0..2^24-1>;
 *     } Certificate;
 *
 * RFC 5246 §7.4.2 Certificate (TLS 1.2 and below):
 *
 *     opaque ASN.1Cert<1..2^24-1>;
 *     struct {
 *         ASN.1Cert certificate_list<0..2^24-1>;
 *     } Certificate;
 */
static gboolean
decode_certificate (TsTlsHandshakeScratch *self, TsCursor *c, gboolean tls13, gint64 time_us)
{
  TsTlsHandshake *hs = &self->hs;
  TsCursor ctx, list, cert, exts;

  if (tls13 && !ts_cursor_vec (c, 1, &ctx))
    return FALSE;
  if (!ts_cursor_vec (c, 3, &list) || !ts_cursor_done (c))
    return FALSE;
  hs->certificates = self->certificates;
  while (ts_cursor_remaining (&list) > 0)
    {
      if (!ts_cursor_vec (&list, 3, &cert) || cert.len == 0)
        return FALSE;
      if (tls13 && !ts_cursor_vec (&list, 2, &exts))
        return FALSE;
      hs->n_certificates_total++;
      if (hs->n_certificates < TS_TLS_CERT_CHAIN_CAP)
        {
          if (self->owned == NULL)
            self->owned = g_ptr_array_new_with_free_func (g_free);
          _ts_tls_certificate_parse (&self->certificates[hs->n_certificates], cert.data, cert.len,
                                     time_us, self->owned);
          hs->n_certificates++;
        }
    }
  return TRUE;
}

gssize
_ts_tls_handshake_decode (TsTlsHandshakeScratch *self, const guint8 *msg, gsize len,
                          guint16 version, gint64 time_us)
{
  TsTlsHandshake *hs = &self->hs;
  TsCursor c;
  guint32 length;
  gboolean ok = TRUE;

  memset (hs, 0, sizeof *hs);
  self->error = NULL;
  if (len < 4)
    return TS_PARSE_INCOMPLETE;
  length = (guint32)msg[1] << 16 | (guint32)msg[2] << 8 | msg[3];
  if (len - 4 < length)
    return TS_PARSE_INCOMPLETE;

  hs->type = msg[0];
  hs->length = length;
  hs->body = msg + 4;
  ts_cursor_init (&c, hs->body, length);

  switch (hs->type)
    {
      case TS_TLS_HS_CLIENT_HELLO:
        ok = decode_client_hello (self, &c);
        break;
      case TS_TLS_HS_SERVER_HELLO:
        ok = decode_server_hello (self, &c);
        break;
      case TS_TLS_HS_ENCRYPTED_EXTENSIONS:
        /* RFC 8446 §4.3.1: struct { Extension extensions<0..2^16-1>; } */
        ok = decode_extensions (self, &c, IN_ENCRYPTED_EXTENSIONS) && ts_cursor_done (&c);
        break;
      case TS_TLS_HS_CERTIFICATE:
        ok = decode_certificate (self, &c, version == TS_TLS_VERSION_1_3, time_us);
        break;
      case TS_TLS_HS_NEW_SESSION_TICKET:
        /* RFC 8446 §4.6.1 starts with uint32 ticket_lifetime; RFC 5077 §3.3
         * with uint32 ticket_lifetime_hint. */
        hs->ticket_lifetime = ts_cursor_be32 (&c);
        ok = !c.failed;
        break;
      case TS_TLS_HS_KEY_UPDATE:
        /* RFC 8446 §4.6.3: enum { update_not_requested(0), update_requested(1) } */
        {
          guint8 req = ts_cursor_u8 (&c);

          ok = ts_cursor_done (&c) && req <= 1;
          hs->update_requested = req == 1;
        }
        break;
      case TS_TLS_HS_FINISHED:
        ok = length > 0;
        break;
      default:
        break;
    }

  if (!ok)
    {
      if (self->error == NULL)
        self->error = "the body is shorter or longer than its fields";
      return TS_PARSE_INVALID;
    }
  return (gssize)(4 + length);
}
