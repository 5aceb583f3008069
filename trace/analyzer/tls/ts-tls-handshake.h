/* ts-tls-handshake.h: decoders of TLS handshake message bodies (private).
 * SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "ts-tls-session.h"

G_BEGIN_DECLS

/* The storage behind one decoded TsTlsHandshake: the lists it points to.
 * Lives on the caller's stack for the duration of one event. */
typedef struct
{
  TsTlsHandshake hs;
  guint16 cipher_suites[TS_TLS_LIST_CAP];
  guint16 extensions[TS_TLS_LIST_CAP];
  guint16 supported_versions[TS_TLS_LIST_CAP];
  guint16 supported_groups[TS_TLS_LIST_CAP];
  guint16 key_share_groups[TS_TLS_LIST_CAP];
  char server_name[256];
  char alpn_names[TS_TLS_ALPN_CAP][256];
  const char *alpn[TS_TLS_ALPN_CAP + 1];
  TsTlsCertificate certificates[TS_TLS_CERT_CHAIN_CAP];
  GPtrArray *owned;  /* strings of the certificates, freed by _clear */
  const char *error; /* why the body did not decode (static string) */
} TsTlsHandshakeScratch;

void _ts_tls_handshake_scratch_clear (TsTlsHandshakeScratch *self);

/*
 * Decodes one handshake message (RFC 8446 §4):
 *
 *     struct {
 *         HandshakeType msg_type;    -- 1 byte
 *         uint24 length;             -- 3 bytes
 *         opaque body[length];
 *     } Handshake;
 *
 * @msg holds the message from its header on (@len bytes, possibly more than
 * one message). @version is the negotiated version (0 if not yet known): it
 * selects the TLS 1.2 or 1.3 layout of Certificate and NewSessionTicket.
 * @time_us judges certificate validity.
 *
 * Returns the bytes of the message (4 + length), TS_PARSE_INCOMPLETE if
 * @len is shorter, or TS_PARSE_INVALID if the body breaks its structure:
 * then self->hs.type, length and body are still set, the decoded fields are
 * partial, and self->error says why.
 */
gssize _ts_tls_handshake_decode (TsTlsHandshakeScratch *self, const guint8 *msg, gsize len,
                                 guint16 version, gint64 time_us);

G_END_DECLS
