/* fuzz-trace-reader.c: libFuzzer target for the pcap/pcapng reader, whole and in chunks.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdint.h>

#include "ts-trace-reader.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
drain (TsTraceReader *reader)
{
  TsTraceRecord record;
  TsTraceRecordKind kind;
  volatile guint8 sink = 0;

  while ((kind = ts_trace_reader_next (reader, &record, NULL)) > TS_TRACE_RECORD_NONE)
    {
      /* Touch every byte a record points at, so an over-read shows. */
      if (kind == TS_TRACE_RECORD_PACKET)
        for (guint32 i = 0; i < record.caplen; i++)
          sink ^= record.data[i];
      else if (kind == TS_TRACE_RECORD_SECRETS)
        for (guint32 i = 0; i < record.secrets_len; i++)
          sink ^= record.secrets[i];
      else if (kind == TS_TRACE_RECORD_EVENT)
        g_free (ts_trace_event_to_line (record.event));
    }
  (void)sink;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GBytes) bytes = g_bytes_new (data, size);
  g_autoptr (TsTraceReader) whole = ts_trace_reader_new ();
  g_autoptr (TsTraceReader) chunked = ts_trace_reader_new ();
  size_t step = size > 0 ? 1 + data[0] % 97 : 1;

  ts_trace_reader_feed_bytes (whole, bytes);
  drain (whole);
  ts_trace_reader_finish (whole, NULL);

  for (size_t pos = 0; pos < size; pos += step)
    {
      ts_trace_reader_feed (chunked, data + pos, MIN (step, size - pos));
      drain (chunked);
    }
  ts_trace_reader_finish (chunked, NULL);

  /* The line parser of events takes hostile input too. */
  {
    TsTraceEvent *event = ts_trace_event_new_from_line ((const char *)data, size, NULL);
    ts_trace_event_free (event);
    event = ts_trace_event_new_from_journal (data, size, NULL);
    ts_trace_event_free (event);
  }
  return 0;
}
