/* ts-http-request.h: a bounded, resumable HTTP/1.1 request-head decoder
 * (RFC 9112 §2-§5) and the framing rules of a request (§6).
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 *   request-line = method SP request-target SP HTTP-version CRLF   (§3)
 *   field-line   = field-name ":" OWS field-value OWS CRLF          (§5)
 *   head         = request-line *( field-line ) CRLF
 *
 * Zero-copy in the style of picohttpparser: every string in a parsed
 * TsHttpRequest is a view into the caller's buffer, valid while it lives.
 * The decoder is strict where leniency is a request-smuggling vector: bare
 * LF or CR, whitespace before a colon, obs-fold, control bytes and NUL are
 * all invalid. Up to TS_HTTP_MAX_LEADING_CRLF empty lines before the
 * request line are skipped (§2.2).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Wire decoder results besides a consumed length >= 0. */
#define TS_HTTP_PARSE_INVALID (-1)
#define TS_HTTP_PARSE_INCOMPLETE (-2)

/* Caps on what input controls. */
#define TS_HTTP_MAX_REQUEST_LINE 8192 /* bytes in the request line: beyond, 414 */
#define TS_HTTP_MAX_HEAD 32768        /* bytes in the whole head: beyond, 431 */
#define TS_HTTP_MAX_HEADERS 100       /* field lines: beyond, 431 */
#define TS_HTTP_MAX_LEADING_CRLF 4    /* empty lines skipped before the request line */

typedef struct
{
  const char *name; /* not NUL-terminated */
  gsize name_len;
  const char *value; /* without surrounding whitespace; not NUL-terminated */
  gsize value_len;
} TsHttpHeader;

typedef struct
{
  const char *method;
  gsize method_len;
  const char *target;
  gsize target_len;
  int minor_version; /* HTTP/1.x */
  TsHttpHeader headers[TS_HTTP_MAX_HEADERS];
  gsize n_headers;
  /* When the result is TS_HTTP_PARSE_INVALID: the status to answer (400,
   * 414, 431, 505) and the rule that was broken (a static string). */
  guint status;
  const char *reason;
} TsHttpRequest;

/* Decodes a request head from @data (@len bytes). @last_len is the length
 * of @data at the previous call that returned TS_HTTP_PARSE_INCOMPLETE for
 * the same request (0 at first): the scan resumes there, so feeding a head
 * byte by byte costs linear time. Returns the length of the head (request
 * line, fields and the empty line) when complete, TS_HTTP_PARSE_INCOMPLETE
 * when more bytes are needed, TS_HTTP_PARSE_INVALID (with self->status and
 * self->reason) when the head is malformed or exceeds a cap. Never reads
 * beyond @len. */
gssize ts_http_request_parse (TsHttpRequest *self, const char *data, gsize len, gsize last_len);

/* Index of the first header named @name (case-insensitive) at or after
 * @start, or -1. */
gssize ts_http_request_find_header (const TsHttpRequest *self, const char *name, gsize start);

/* TRUE when @method (@len bytes) equals the NUL-terminated @expected
 * (methods are case-sensitive, RFC 9110 §9.1). */
gboolean ts_http_method_is (const char *method, gsize len, const char *expected);

/* TRUE when @hdr's name equals @name, case-insensitively. */
gboolean ts_http_header_is (const TsHttpHeader *hdr, const char *name);

typedef enum
{
  TS_HTTP_BODY_NONE,
  TS_HTTP_BODY_LENGTH,
  TS_HTTP_BODY_CHUNKED,
  TS_HTTP_BODY_UNTIL_CLOSE, /* responses only: the body ends when the server closes */
} TsHttpBodyKind;

/* The largest Content-Length accepted (2^62 - 1). */
#define TS_HTTP_MAX_CONTENT_LENGTH ((G_GUINT64_CONSTANT (1) << 62) - 1)

/* Applies the request framing rules of RFC 9112 §6.1-§6.3 to a parsed head
 * and the Host rules of §3.2. On success sets @out_kind and @out_length
 * (for TS_HTTP_BODY_LENGTH). Fails (FALSE, with the status to answer in
 * @out_status and the rule in @out_reason) for: Transfer-Encoding with
 * Content-Length; Transfer-Encoding in HTTP/1.0; a transfer coding list
 * whose last coding is not chunked (400) or that holds any coding but
 * chunked (501); a malformed, overflowing or differing duplicate
 * Content-Length; a missing Host in HTTP/1.1 or more than one Host. */
gboolean ts_http_request_get_framing (const TsHttpRequest *self, TsHttpBodyKind *out_kind,
                                      guint64 *out_length, guint *out_status,
                                      const char **out_reason);

G_END_DECLS
