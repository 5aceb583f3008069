/* ts-http-private.h: what the HTTP/1 decoders of sim/proxy share.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "ts-http-request.h"

G_BEGIN_DECLS

/* Finds the end of a head that starts at @start in @data: the offset just
 * after the CRLF CRLF. Checks line terminators (CR must precede LF and be
 * followed by it), the first line against @max_line (414 beyond) and the
 * head against TS_HTTP_MAX_HEAD (431 beyond). Resumes the scan at
 * @last_len. */
gssize _ts_http_find_head_end (const char *data, gsize len, gsize start, gsize last_len,
                               gsize max_line, guint *out_status, const char **out_reason);

/* Decodes the field lines in [@p, @end) (which ends with the empty line).
 * Returns FALSE with a status (400 or 431) and reason when malformed. */
gboolean _ts_http_parse_fields (const char *p, const char *end, TsHttpHeader *headers, gsize *out_n,
                                guint *out_status, const char **out_reason);

/* Parses a Content-Length value: 1*DIGIT, or a list of identical ones
 * (RFC 9110 §8.6 lets a recipient accept "42, 42"), at most
 * TS_HTTP_MAX_CONTENT_LENGTH. FALSE when invalid. */
gboolean _ts_http_parse_content_length (const char *v, gsize len, guint64 *out);

/* Reads one Transfer-Encoding field value (a list of transfer codings, RFC
 * 9112 §6.1), continuing the state of the previous lines of the same
 * message: *@inout_chunked_last says whether the last coding so far is
 * chunked, *@inout_other whether any other coding appeared. FALSE when
 * chunked follows chunked (applied twice, RFC 9112 §7). */
gboolean _ts_http_scan_transfer_codings (const char *value, gsize len, gboolean *inout_chunked_last,
                                         gboolean *inout_other);

/* RFC 9110 §5.6.2 tchar. */
gboolean _ts_http_is_tchar (guchar c);

G_END_DECLS
