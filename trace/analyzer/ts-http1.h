/* ts-http1.h: HTTP/1.x parsing of a reassembled connection (RFC 9112):
 * request and response heads, message body framing (Content-Length,
 * chunked, until close), CONNECT and Upgrade turning the connection into a
 * tunnel.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Two levels:
 *
 * - ts_http1_parse_request () / ts_http1_parse_response (): zero-copy,
 *   picohttpparser style. They parse one head from the start of a buffer
 *   and return the head's length, TS_PARSE_INCOMPLETE, or TS_PARSE_INVALID.
 *   The TsHttp1Head points into the buffer.
 *
 * - TsHttp1Conn: both directions of one connection, fed in stream order
 *   with chunks cut anywhere. It pairs responses with requests (a response
 *   to HEAD or a 304 has no body; a 2xx to CONNECT and a 101 turn the
 *   connection into a tunnel), and reports what it finds through callbacks,
 *   synchronously from inside ts_http1_conn_feed (). Fed in chunks it
 *   reports exactly what it reports fed in one piece. Only the head being
 *   parsed is copied (at most TS_HTTP1_MAX_HEAD bytes per direction); body
 *   bytes are counted, not kept.
 *
 * After a tunnel starts, the bytes of each direction after its last HTTP
 * message go to the tunnel_data callback instead. Bytes the client sends
 * after a CONNECT or an Upgrade request, before the response is seen, wait
 * (up to TS_HTTP1_MAX_EARLY bytes) and are handed to the tunnel, or parsed as
 * HTTP again if the proxy refused.
 */
#pragma once

#include <glib.h>
#include "ts-parse.h"

G_BEGIN_DECLS

/* Caps on what the input controls. */
#define TS_HTTP1_MAX_HEAD (64 * 1024)   /* request or status line plus headers */
#define TS_HTTP1_MAX_HEADERS 100        /* header fields per head */
#define TS_HTTP1_MAX_EARLY (256 * 1024) /* client bytes held while a CONNECT/Upgrade waits */
#define TS_HTTP1_MAX_PIPELINE 64        /* requests waiting for their responses */

/* RFC 9112 §3.2 request-target forms. */
typedef enum
{
  TS_HTTP1_TARGET_ORIGIN,    /* /path?query */
  TS_HTTP1_TARGET_ABSOLUTE,  /* http://host/path (to a forward proxy) */
  TS_HTTP1_TARGET_AUTHORITY, /* host:port (CONNECT) */
  TS_HTTP1_TARGET_ASTERISK,  /* * (OPTIONS) */
} TsHttp1TargetForm;

/* A header field: views into the parsed buffer. The value has no OWS
 * around it. A field with @folded came on more than one line (obsolete line
 * folding, RFC 9112 §5.2: only taken in a response): its value runs over
 * its lines with each fold (OWS CRLF RWS) still in it;
 * ts_http1_header_dup_value () gives it with each fold as one SP. */
typedef struct
{
  const char *name;
  gsize name_len;
  const char *value;
  gsize value_len;
  gboolean folded;
} TsHttp1Header;

typedef struct
{
  gboolean is_request;
  /* request */
  const char *method;
  gsize method_len;
  const char *target;
  gsize target_len;
  TsHttp1TargetForm target_form;
  /* response */
  int status;
  const char *reason;
  gsize reason_len;
  /* both */
  int minor_version; /* HTTP/1.x */
  TsHttp1Header headers[TS_HTTP1_MAX_HEADERS];
  gsize n_headers;
  gsize n_folded; /* fields with obsolete line folding (responses only) */
} TsHttp1Head;

/* Parses a request head (request line, header fields, empty line) at the
 * start of @data. Returns the head's length, TS_PARSE_INCOMPLETE, or
 * TS_PARSE_INVALID (bad token, more than TS_HTTP1_MAX_HEADERS fields, a
 * target that fits no form, bare CR, obsolete line folding: a server may
 * reject it, RFC 9112 §5.2). LF alone ends a line (RFC 9112 §2.2). */
gssize ts_http1_parse_request (const guint8 *data, gsize len, TsHttp1Head *out);
/* The same for a status line and header fields, except that obsolete line
 * folding is taken (a user agent must, RFC 9112 §5.2): see TsHttp1Header. */
gssize ts_http1_parse_response (const guint8 *data, gsize len, TsHttp1Head *out);

/* The value of the first header field named @name (case-insensitive), or
 * NULL; its length in *@out_len. A folded value holds its folds. */
const char *ts_http1_head_get (const TsHttp1Head *head, const char *name, gsize *out_len);

/* @header's value, NUL-terminated, each obsolete line folding replaced by
 * one SP (transfer full). */
char *ts_http1_header_dup_value (const TsHttp1Header *header);

/* TRUE if @data starts like an HTTP/1 request line (a known method followed
 * by a space), for the analyzer's protocol guess. Needs at most 8 bytes;
 * FALSE with fewer when unsure. */
gboolean ts_http1_looks_like_request (const guint8 *data, gsize len);

const char *ts_http1_target_form_to_string (TsHttp1TargetForm form);

/* RFC 9112 §7.1 chunked transfer coding, resumable. */
typedef enum
{
  TS_HTTP1_CHUNK_SIZE,
  TS_HTTP1_CHUNK_EXT,
  TS_HTTP1_CHUNK_SIZE_LF,
  TS_HTTP1_CHUNK_DATA,
  TS_HTTP1_CHUNK_DATA_CR,
  TS_HTTP1_CHUNK_DATA_LF,
  TS_HTTP1_CHUNK_TRAILER_START,
  TS_HTTP1_CHUNK_TRAILER_LINE,
  TS_HTTP1_CHUNK_TRAILER_LF,
  TS_HTTP1_CHUNK_FINAL_LF,
  TS_HTTP1_CHUNK_DONE,
} TsHttp1ChunkState;

typedef struct
{
  TsHttp1ChunkState state;
  guint64 remaining; /* of the current chunk */
  guint n_digits;
  guint64 body_len; /* decoded bytes so far */
  guint n_chunks;
  gsize line_len; /* of the current extension or trailer line (capped) */
} TsHttp1Chunked;

void ts_http1_chunked_init (TsHttp1Chunked *self);
/* Consumes chunked coding from @data; returns the bytes consumed (stops
 * right after the last CRLF when the body ends: state DONE), or
 * TS_PARSE_INVALID. */
gssize ts_http1_chunked_feed (TsHttp1Chunked *self, const guint8 *data, gsize len);

/* Direction inside a connection. */
typedef enum
{
  TS_HTTP1_DIR_CLIENT = 0, /* client → server: requests */
  TS_HTTP1_DIR_SERVER = 1, /* server → client: responses */
} TsHttp1Direction;

/* TRUE if @data starts like a message of @dir: a request line from the
 * client (ts_http1_looks_like_request ()), a status line ("HTTP/1.") from
 * the server. */
gboolean ts_http1_starts_message (TsHttp1Direction dir, const guint8 *data, gsize len);

typedef enum
{
  TS_HTTP1_TUNNEL_CONNECT, /* 2xx to CONNECT */
  TS_HTTP1_TUNNEL_UPGRADE, /* 101 Switching Protocols (WebSocket, h2c, ...) */
} TsHttp1TunnelKind;

typedef enum
{
  TS_HTTP1_BODY_NONE,
  TS_HTTP1_BODY_LENGTH,
  TS_HTTP1_BODY_CHUNKED,
  TS_HTTP1_BODY_UNTIL_CLOSE,
  TS_HTTP1_BODY_CUT, /* the capture lost the head's end: only its complete lines are
                      * known, and where the message ends is not */
} TsHttp1BodyKind;

typedef struct
{
  /* A head was parsed. @offset and @len: where it sits in the direction's
   * stream. @head is borrowed for the call. @body: how its body is framed
   * and, for LENGTH, @body_len. For a response, @request_method is the
   * method it answers ("" if unknown). */
  void (*head) (gpointer user_data, TsHttp1Direction dir, guint64 offset, gsize len,
                const TsHttp1Head *head, TsHttp1BodyKind body, guint64 body_len,
                const char *request_method);
  /* A message ended (its body complete; @end: stream offset after it). */
  void (*message_end) (gpointer user_data, TsHttp1Direction dir, guint64 end, guint64 body_len);
  /* The connection became a tunnel: from now on the bytes of both
   * directions go to tunnel_data. @protocol: the Upgrade value or the CONNECT
   * target (borrowed). */
  void (*tunnel) (gpointer user_data, TsHttp1TunnelKind kind, const char *protocol);
  /* Tunnel bytes at @offset of @dir's stream (borrowed). */
  void (*tunnel_data) (gpointer user_data, TsHttp1Direction dir, guint64 offset, const guint8 *data,
                       gsize len);
  /* Malformed input at @offset; @what names the rule. The direction stops
   * parsing (its later bytes are ignored), except after a gap (see
   * ts_http1_conn_gap ()). */
  void (*anomaly) (gpointer user_data, TsHttp1Direction dir, guint64 offset, const char *what);
} TsHttp1Callbacks;

typedef struct _TsHttp1Conn TsHttp1Conn;

/* @callbacks is copied; any callback may be NULL. */
TsHttp1Conn *ts_http1_conn_new (const TsHttp1Callbacks *callbacks, gpointer user_data);
void ts_http1_conn_free (TsHttp1Conn *self);

/* Feeds the next @len bytes of @dir (borrowed for the call). */
void ts_http1_conn_feed (TsHttp1Conn *self, TsHttp1Direction dir, const guint8 *data, gsize len);
/* @len bytes of @dir were lost (a TCP gap): an anomaly unless inside a body
 * of known length or a tunnel, where they are just counted. A head cut by
 * the gap is reported through the head callback with its complete lines
 * (body TS_HTTP1_BODY_CUT) when its first line is whole. After the anomaly
 * the direction waits: parsing resumes at the first piece fed (a
 * ts_http1_conn_feed () call) that starts like a message, a request line
 * from the client or "HTTP/1." from the server, as the analyzer feeds a
 * TCP direction a segment (or a run of segments) at a time; the rest is
 * counted and skipped. (A gap while a CONNECT or Upgrade waits for its
 * response stops the direction's parsing.) */
/* The bytes of @dir end here and a gap follows: a head they cut short is
 * reported now (what those bytes say comes before the gap's report), as
 * ts_http1_conn_gap () would. */
void ts_http1_conn_cut (TsHttp1Conn *self, TsHttp1Direction dir);
void ts_http1_conn_gap (TsHttp1Conn *self, TsHttp1Direction dir, gsize len);
/* @dir may start in the middle of a message (a capture that began inside
 * the connection), and its first @len bytes (0 or more) went by already:
 * they are counted, with no anomaly, and the direction waits for a piece
 * that starts like a message, as after a gap. Only before anything is fed
 * to @dir. */
void ts_http1_conn_skip (TsHttp1Conn *self, TsHttp1Direction dir, gsize len);
/* The direction ended (FIN): a body delimited by close ends here; a head or
 * body cut short is an anomaly. */
void ts_http1_conn_end (TsHttp1Conn *self, TsHttp1Direction dir);

gboolean ts_http1_conn_is_tunnel (const TsHttp1Conn *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TsHttp1Conn, ts_http1_conn_free)

G_END_DECLS
