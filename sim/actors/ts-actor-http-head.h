/* ts-actor-http-head.h: a bounded, zero-copy HTTP/1.x request and response head parser.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * RFC 9112 §2-§5. The parser looks at a buffer that may hold a partial head
 * and answers the picohttpparser way: the number of bytes the head takes
 * (request or status line, header fields and the empty line), or
 * TS_PARSE_INCOMPLETE, TS_PARSE_INVALID, TS_PARSE_TOO_LARGE. Every string
 * in a TsActorHttpHead is a view into the caller's buffer (not NUL-terminated),
 * valid while that buffer is unchanged.
 *
 *   request-line = method SP request-target SP HTTP-version CRLF
 *   status-line  = HTTP-version SP status-code SP [ reason-phrase ] CRLF
 *   field-line   = field-name ":" OWS field-value OWS CRLF
 *
 * Lines may end in a bare LF (RFC 9112 §2.2 lets a recipient accept it); a
 * bare CR, obsolete line folding and whitespace before the colon are invalid.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#ifndef TS_PARSE_INCOMPLETE
#define TS_PARSE_INCOMPLETE (-2)
#endif
#ifndef TS_PARSE_INVALID
#define TS_PARSE_INVALID (-1)
#endif
#ifndef TS_PARSE_TOO_LARGE
#define TS_PARSE_TOO_LARGE (-3)
#endif

/* Caps on what input controls. */
#define TS_ACTOR_HTTP_MAX_HEAD                                                                     \
  16384 /* bytes in a whole head: generous for a lab, small for a server */
#define TS_ACTOR_HTTP_MAX_HEADERS 64 /* header fields in one head */
#define TS_ACTOR_HTTP_MAX_METHOD 32  /* bytes in a method token */

typedef struct
{
  const char *name;
  gsize name_len;
  const char *value;
  gsize value_len;
} TsActorHttpHeader;

typedef struct
{
  /* Request line (requests only). */
  const char *method;
  gsize method_len;
  const char *target;
  gsize target_len;
  /* Status line (responses only). */
  guint status;
  const char *reason;
  gsize reason_len;
  /* The x of HTTP/1.x. */
  guint version_minor;
  TsActorHttpHeader headers[TS_ACTOR_HTTP_MAX_HEADERS];
  guint n_headers;
} TsActorHttpHead;

/* Parses a request head at the start of @data. Returns the head's length in
 * bytes (> 0), TS_PARSE_INCOMPLETE when more bytes are needed,
 * TS_PARSE_INVALID when the bytes cannot be a request head, or
 * TS_PARSE_TOO_LARGE when it is over TS_ACTOR_HTTP_MAX_HEAD bytes or
 * TS_ACTOR_HTTP_MAX_HEADERS fields. @out_head is filled on success only. */
gssize ts_actor_http_head_parse_request (TsActorHttpHead *out_head, const char *data, gsize len);

/* The same for a response head (status line instead of request line). */
gssize ts_actor_http_head_parse_response (TsActorHttpHead *out_head, const char *data, gsize len);

/* The first field named @name (case-insensitive), or NULL; its length goes
 * to @out_len. Borrowed from the parsed buffer. */
const char *ts_actor_http_head_get (const TsActorHttpHead *self, const char *name, gsize *out_len);

/* Number of fields named @name. */
guint ts_actor_http_head_count (const TsActorHttpHead *self, const char *name);

/* TRUE when a field named @name holds @token in its comma-separated list
 * (case-insensitive), as in "Connection: keep-alive, Upgrade". */
gboolean ts_actor_http_head_has_token (const TsActorHttpHead *self, const char *name,
                                       const char *token);

/* The message's Content-Length: TRUE with the value in @out_length (or -1
 * when there is none). FALSE when it is malformed, or given twice with
 * different values (RFC 9112 §6.3 item 5). */
gboolean ts_actor_http_head_get_content_length (const TsActorHttpHead *self, gint64 *out_length);

/* TRUE when @self's method (requests) is @method, case-sensitively. */
gboolean ts_actor_http_head_method_is (const TsActorHttpHead *self, const char *method);

/* A copy of a view as a NUL-terminated string (transfer full). */
char *ts_actor_http_head_dup (const char *view, gsize len);

G_END_DECLS
