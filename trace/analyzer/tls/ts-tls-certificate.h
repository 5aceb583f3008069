/* ts-tls-certificate.h: X.509 certificate fields through OpenSSL (private).
 * SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "ts-tls-session.h"

G_BEGIN_DECLS

/* Fills @out from the DER certificate @der (borrowed: @out->der points into
 * it). Strings and the SAN array are allocated and appended to @owned (a
 * GPtrArray with a g_free element function): they live as long as it.
 * Validity is judged at @time_us (Unix microseconds; < 0: unknown). Returns
 * FALSE (with only der, der_len and sha256 set) if OpenSSL cannot read it. */
gboolean _ts_tls_certificate_parse (TsTlsCertificate *out, const guint8 *der, gsize der_len,
                                    gint64 time_us, GPtrArray *owned);

G_END_DECLS
