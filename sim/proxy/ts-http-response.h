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

G_END_DECLS
