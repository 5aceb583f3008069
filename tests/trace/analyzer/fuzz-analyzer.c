/* fuzz-analyzer.c: libFuzzer target for the whole analyzer fed a trace
 * (in two chunks, cut where the first byte says), then rendered.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "ts-analyzer.h"
#include "ts-timeline-render.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  TsAnalyzer *an = ts_analyzer_new ();
  gsize cut = size > 0 ? (gsize)data[0] * size / 256 : 0;

  if (ts_analyzer_feed (an, data, cut, NULL))
    (void)ts_analyzer_feed (an, data + cut, size - cut, NULL);
  (void)ts_analyzer_finish (an, NULL);
  g_free (ts_timeline_render_text (ts_analyzer_get_timeline (an), NULL));
  g_free (ts_timeline_render_json (ts_analyzer_get_timeline (an), NULL));
  ts_analyzer_free (an);
  return 0;
}
