/* fuzz-analyzer.c: libFuzzer target for the whole analyzer fed a trace,
 * then rendered. When the middle byte is odd, it is fed whole, as tscope
 * explain feeds a mapped file (with the decrypt-ahead thread, racing the
 * analyzer for every record); else in two
 * chunks cut where the first byte says, as a stream comes. (A pcapng file
 * always starts with the same byte: the middle one picks both ways for
 * real traces and their mutations.)
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "ts-analyzer-private.h"
#include "ts-timeline-render.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  TsAnalyzer *an = ts_analyzer_new ();
  gsize cut = size > 0 ? (gsize)data[0] * size / 256 : 0;

  if (size > 0 && (data[size / 2] & 1) != 0)
    {
      GBytes *bytes = g_bytes_new (data, size);

      /* The helper opens every record it can, racing the analyzer (its
       * default leaves the first 256 KiB to the analyzer: all of a small
       * input). */
      _ts_analyzer_set_decrypt_ahead_tight (an, TRUE);
      _ts_analyzer_set_decrypt_ahead_checked (an, TRUE);
      (void)ts_analyzer_feed_bytes (an, bytes, NULL);
      g_bytes_unref (bytes);
    }
  else if (ts_analyzer_feed (an, data, cut, NULL))
    (void)ts_analyzer_feed (an, data + cut, size - cut, NULL);
  (void)ts_analyzer_finish (an, NULL);
  g_free (ts_timeline_render_text (ts_analyzer_get_timeline (an), NULL));
  g_free (ts_timeline_render_json (ts_analyzer_get_timeline (an), NULL));
  ts_analyzer_free (an);
  return 0;
}
