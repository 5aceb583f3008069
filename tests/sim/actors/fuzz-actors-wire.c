/* fuzz-actors-wire.c: libFuzzer target for the actors' wire decoders: HTTP request and
 * response heads, chunked bodies, WebSocket frames, DNS queries and responses.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include <stdint.h>
#include <string.h>

#include <glib.h>

#include "ts-dns-message.h"
#include "ts-actor-chunked.h"
#include "ts-actor-http-head.h"
#include "ts-ws-frame.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  TsActorHttpHead head;
  TsActorChunked chunked;
  TsWsFrame frame;
  TsDnsMessage msg;
  g_autoptr (GByteArray) out = g_byte_array_new ();
  gssize n;
  gint64 cl;

  /* Copies, so that a read one byte past the end is caught by ASan. */
  g_autofree char *copy = g_memdup2 (data, size ? size : 1);

  n = ts_actor_http_head_parse_request (&head, copy, size);
  if (n > 0)
    {
      ts_actor_http_head_get_content_length (&head, &cl);
      ts_actor_http_head_has_token (&head, "Connection", "close");
    }
  n = ts_actor_http_head_parse_response (&head, copy, size);
  if (n > 0)
    ts_actor_http_head_has_token (&head, "Transfer-Encoding", "chunked");

  ts_actor_chunked_init (&chunked);
  /* Fed in two halves, to exercise the resumable state. */
  if (ts_actor_chunked_feed (&chunked, (const guint8 *)copy, size / 2, out) >= 0)
    ts_actor_chunked_feed (&chunked, (const guint8 *)copy + size / 2, size - size / 2, out);

  for (gsize pos = 0; pos < size;)
    {
      n = ts_ws_frame_parse (&frame, (const guint8 *)copy + pos, size - pos);
      if (n <= 0)
        break;
      pos += (gsize)n;
    }

  if (ts_dns_message_parse_query (&msg, (const guint8 *)copy, size, NULL))
    {
      GBytes *reply = ts_dns_message_build_response (&msg, TS_DNS_RCODE_NXDOMAIN, NULL);
      g_clear_pointer (&reply, g_bytes_unref);
    }
  if (ts_dns_message_parse_response (&msg, (const guint8 *)copy, size, NULL))
    ts_dns_message_clear (&msg);
  return 0;
}
