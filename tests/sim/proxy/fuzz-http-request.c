/* fuzz-http-request.c: libFuzzer target for ts-proxy's HTTP/1 decoders:
 * request heads (in one piece and resumed at a split point), framing rules,
 * response heads and their framing rules, the chunked coding.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <stdint.h>
#include <string.h>

#include <glib.h>

#include "ts-http-chunked.h"
#include "ts-http-request.h"
#include "ts-http-response.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  TsHttpRequest req;
  TsHttpResponse resp;
  TsHttpChunked ch;
  gssize whole, split;
  gsize cut = size ? data[0] % (size + 1) : 0;

  whole = ts_http_request_parse (&req, (const char *)data, size, 0);
  if (whole >= 0)
    {
      TsHttpBodyKind kind;
      guint64 length;
      guint status;
      const char *reason;

      g_assert ((gsize)whole <= size);
      for (gsize i = 0; i < req.n_headers; i++)
        g_assert (req.headers[i].name + req.headers[i].name_len <= (const char *)data + size);
      if (!ts_http_request_get_framing (&req, &kind, &length, &status, &reason))
        g_assert (status >= 400 && reason != NULL);
    }
  else if (whole == TS_HTTP_PARSE_INVALID)
    g_assert (req.status >= 400 && req.reason != NULL);

  /* Resuming after a prefix gives the same answer. */
  if (ts_http_request_parse (&req, (const char *)data, cut, 0) == TS_HTTP_PARSE_INCOMPLETE)
    {
      split = ts_http_request_parse (&req, (const char *)data, size, cut);
      g_assert (split == whole);
    }

  if (ts_http_response_parse (&resp, (const char *)data, size, 0) >= 0)
    {
      TsHttpBodyKind kind;
      guint64 length;
      gboolean drop;
      const char *reason = NULL;

      if (!ts_http_response_get_framing (&resp, size > 0 && (data[0] & 1), &kind, &length, &drop,
                                         &reason))
        g_assert (reason != NULL);
      else
        g_assert (kind != TS_HTTP_BODY_LENGTH || length > 0);
    }

  ts_http_chunked_init (&ch);
  if (ts_http_chunked_feed (&ch, data, cut) >= 0)
    ts_http_chunked_feed (&ch, data + cut, size - cut);
  return 0;
}
