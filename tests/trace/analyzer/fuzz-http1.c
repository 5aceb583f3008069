/* fuzz-http1.c: libFuzzer target for the HTTP/1 parser, the chunked decoder
 * and WebSocket frames.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The input is cut into chunks at 0xff bytes; chunks alternate between the
 * client and the server direction of one connection (tunnel bytes go to a
 * WebSocket decoder). The whole input is also parsed as one request, one
 * response and one chunked body, and as HTTP/2 frames whose header blocks
 * are decompressed (HPACK). */
#include "config.h"

#include <string.h>

#include "ts-http1.h"
#include "ts-http2-headers.h"
#include "ts-http2.h"
#include "ts-websocket.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static void
on_head (gpointer user_data, TsHttp1Direction dir, guint64 offset, gsize len, const TsHttp1Head *h,
         TsHttp1BodyKind body, guint64 body_len, const char *request_method)
{
  /* Touch every view the parser handed out. */
  volatile gsize sum = 0;

  if (h->is_request)
    sum += (gsize)h->method[0] + (gsize)h->target[h->target_len - 1];
  for (gsize i = 0; i < h->n_headers; i++)
    sum += (gsize)h->headers[i].name[0]
           + (h->headers[i].value_len ? (gsize)h->headers[i].value[h->headers[i].value_len - 1]
                                      : 0);
  (void)sum;
  g_assert (request_method != NULL || h->is_request);
}

static void
on_ws (gpointer user_data, guint64 offset, const TsWebsocketFrame *f, const guint8 *preview,
       gsize n)
{
  g_assert (n <= TS_WEBSOCKET_PREVIEW);
}

static void
on_tunnel_data (gpointer user_data, TsHttp1Direction dir, guint64 offset, const guint8 *data,
                gsize len)
{
  TsWebsocketStream **ws = user_data;

  ts_websocket_stream_feed (ws[dir], offset, data, len);
}

static void
on_h2_frame (gpointer user_data, guint64 offset, const TsHttp2FrameHeader *f, const guint8 *payload,
             gsize payload_len)
{
  TsHttp2HeaderBlock b;
  volatile gsize sum = 0;

  if (ts_http2_header_decoder_feed (user_data, f, payload, payload_len, &b)
      == TS_HTTP2_HEADERS_DONE)
    for (guint i = 0; i < b.n_fields; i++)
      sum += strlen (b.fields[i].name) + (gsize)b.fields[i].name[b.fields[i].name_len]
             + (gsize)b.fields[i].value[b.fields[i].value_len];
  (void)sum;
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  static const TsHttp1Callbacks cb = { on_head, NULL, NULL, on_tunnel_data, NULL };
  TsWebsocketStream *ws[2] = { ts_websocket_stream_new (on_ws, NULL, NULL),
                               ts_websocket_stream_new (on_ws, NULL, NULL) };
  TsHttp1Conn *conn = ts_http1_conn_new (&cb, ws);
  TsHttp1Head head;
  TsHttp1Chunked chunked;
  TsWebsocketFrame frame;
  gsize at = 0;
  int dir = 0;

  (void)ts_http1_parse_request (data, size, &head);
  if (ts_http1_parse_response (data, size, &head) > 0)
    for (gsize i = 0; i < head.n_headers; i++)
      if (head.headers[i].folded)
        g_free (ts_http1_header_dup_value (&head.headers[i]));
  ts_http1_chunked_init (&chunked);
  (void)ts_http1_chunked_feed (&chunked, data, size);
  (void)ts_websocket_parse_header (data, size, &frame);
  (void)ts_http1_looks_like_request (data, size);
  {
    TsHttp2HeaderDecoder *hd = ts_http2_header_decoder_new ();
    TsHttp2Stream *h2 = ts_http2_stream_new (FALSE, on_h2_frame, NULL, hd);

    ts_http2_stream_feed (h2, 0, data, size);
    ts_http2_stream_free (h2);
    ts_http2_header_decoder_free (hd);
  }

  while (at < size)
    {
      const guint8 *end = memchr (data + at, 0xff, size - at);
      gsize n = end ? (gsize)(end - (data + at)) : size - at;
      guint8 *copy = g_memdup2 (data + at, n); /* exact size, for ASan */

      if (n > 0 && n < 3 && data[at] == 0)
        ts_http1_conn_gap (conn, dir, n);
      else
        ts_http1_conn_feed (conn, dir, copy, n);
      g_free (copy);
      at += n + 1;
      dir = 1 - dir;
    }
  ts_http1_conn_end (conn, TS_HTTP1_DIR_CLIENT);
  ts_http1_conn_end (conn, TS_HTTP1_DIR_SERVER);
  ts_http1_conn_free (conn);
  ts_websocket_stream_free (ws[0]);
  ts_websocket_stream_free (ws[1]);
  return 0;
}
