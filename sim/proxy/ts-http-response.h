/* ts-http-response.h: a bounded, resumable HTTP/1.1 response-head decoder
 * (RFC 9112 §4), for a parent proxy's answer to CONNECT and for following
 * intercepted exchanges.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 *   status-line = HTTP-version SP status-code SP [ reason-phrase ] CRLF
 *   head        = status-line *( field-line CRLF ) CRLF
 */
#pragma once

#include "ts-http-request.h"

G_BEGIN_DECLS

typedef struct
{
  int minor_version;
  guint status; /* 100..999 */
  const char *reason_phrase;
  gsize reason_phrase_len;
  TsHttpHeader headers[TS_HTTP_MAX_HEADERS];
  gsize n_headers;
  const char *error; /* when invalid: the rule broken (static) */
} TsHttpResponse;

/* Same contract as ts_http_request_parse (): ≥ 0 head length,
 * TS_HTTP_PARSE_INCOMPLETE, TS_HTTP_PARSE_INVALID (with self->error).
 * Views point into @data. */
gssize ts_http_response_parse (TsHttpResponse *self, const char *data, gsize len, gsize last_len);

/* Index of the first header named @name at or after @start, or -1. */
gssize ts_http_response_find_header (const TsHttpResponse *self, const char *name, gsize start);

/* Applies the response framing rules of RFC 9112 §6.3 to a parsed head.
 * @no_body: the response has no content whatever its fields say (to HEAD;
 * 1xx, 204, 304). On success sets @out_kind, @out_length (for
 * TS_HTTP_BODY_LENGTH) and @out_drop_length: TRUE when Transfer-Encoding
 * decides the framing and a Content-Length came too, which a proxy MUST
 * remove before forwarding (§6.3 item 3). Transfer-Encoding whose last
 * coding is not chunked, or no framing field at all, is
 * TS_HTTP_BODY_UNTIL_CLOSE (items 4 and 7). Fails (FALSE, the rule in
 * @out_reason) for an invalid or differing Content-Length without
 * Transfer-Encoding (item 5: a proxy MUST answer 502), chunked applied
 * twice, and Transfer-Encoding in HTTP/1.0 (§6.1: faulty framing). */
gboolean ts_http_response_get_framing (const TsHttpResponse *self, gboolean no_body,
                                       TsHttpBodyKind *out_kind, guint64 *out_length,
                                       gboolean *out_drop_length, const char **out_reason);

G_END_DECLS
