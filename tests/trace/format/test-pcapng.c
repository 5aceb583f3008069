/* test-pcapng.c: the trace format: writer/reader round trips, the DSB ordering
 * rule, incremental reading, truncation and corruption, classic pcap.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "ts-test-frames.h"
#include "ts-trace-error.h"
#include "ts-trace-reader.h"
#include "ts-trace-writer.h"

#define US (G_GUINT64_CONSTANT (1000))
#define MS (G_GUINT64_CONSTANT (1000000))
#define T0 (G_GUINT64_CONSTANT (1764230400) * 1000000000u)

/* What a reader saw, flattened into comparable text lines. */
static GPtrArray *
read_all (TsTraceReader *reader, GError **error)
{
  GPtrArray *lines = g_ptr_array_new_with_free_func (g_free);
  TsTraceRecord record;
  TsTraceRecordKind kind;

  while ((kind = ts_trace_reader_next (reader, &record, error)) > TS_TRACE_RECORD_NONE)
    {
      switch (kind)
        {
          case TS_TRACE_RECORD_SECTION:
            g_ptr_array_add (lines,
                             g_strdup_printf ("section %s", ts_trace_reader_get_scenario (reader)));
            break;
          case TS_TRACE_RECORD_INTERFACE:
            g_ptr_array_add (lines,
                             g_strdup_printf ("interface %u %s %u %s", record.interface->id,
                                              record.interface->name, record.interface->linktype,
                                              record.interface->description));
            break;
          case TS_TRACE_RECORD_PACKET:
            {
              g_autofree char *hex
                  = g_compute_checksum_for_data (G_CHECKSUM_SHA1, record.data, record.caplen);
              g_ptr_array_add (lines,
                               g_strdup_printf ("packet if%u t=%" G_GUINT64_FORMAT " %u/%u %s",
                                                record.interface_id, record.time_ns, record.caplen,
                                                record.orig_len, hex));
              break;
            }
          case TS_TRACE_RECORD_SECRETS:
            {
              g_autofree char *text = g_strndup ((const char *)record.secrets, record.secrets_len);
              g_ptr_array_add (lines, g_strdup_printf ("secrets %08x %s", record.secrets_type,
                                                       g_strchomp (text)));
            }
            break;
          case TS_TRACE_RECORD_STATISTICS:
            g_ptr_array_add (
                lines, g_strdup_printf (
                           "statistics if%u t=%" G_GUINT64_FORMAT " recv=%" G_GINT64_FORMAT
                           " ifdrop=%" G_GINT64_FORMAT " osdrop=%" G_GINT64_FORMAT
                           " deliv=%" G_GINT64_FORMAT " lost=%" G_GUINT64_FORMAT,
                           record.interface_id, record.time_ns, (gint64)record.statistics.received,
                           (gint64)record.statistics.if_drops, (gint64)record.statistics.os_drops,
                           (gint64)record.statistics.delivered,
                           ts_trace_statistics_capture_lost (&record.statistics)));
            break;
          case TS_TRACE_RECORD_EVENT:
            {
              g_autofree char *line = ts_trace_event_to_line (record.event);
              g_ptr_array_add (lines, g_strdup_printf ("event %s", g_strchomp (line)));
              break;
            }
          case TS_TRACE_RECORD_OTHER:
            g_ptr_array_add (lines, g_strdup_printf ("other %08x", record.block_type));
            break;
          default:
            g_assert_not_reached ();
        }
    }
  if (kind == TS_TRACE_RECORD_ERROR)
    {
      g_ptr_array_unref (lines);
      return NULL;
    }
  return lines;
}

static char *
join (GPtrArray *lines)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < lines->len; i++)
    g_string_append_printf (out, "%s\n", (const char *)lines->pdata[i]);
  return g_string_free (out, FALSE);
}

static const char *keylog_line
    = "CLIENT_RANDOM 0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20 "
      "aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff0011223344556677"
      "\n";

/* A fake ClientHello payload carrying the random of keylog_line. */
static GBytes *
client_hello_frame (TsTestFlow *flow)
{
  guint8 hello[11 + 32 + 8] = { 0x16, 0x03, 0x01, 0x00, 0x2e, 0x01, 0x00, 0x00, 0x2a, 0x03, 0x03 };

  for (int i = 0; i < 32; i++)
    hello[11 + i] = (guint8)(i + 1);
  return ts_test_tcp_frame (flow, 0x18, hello, sizeof hello);
}

/* Writes a small trace of three links into memory. */
static GBytes *
make_trace (guint64 window_ns, gboolean late_secret)
{
  g_autoptr (GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autoptr (TsTraceWriter) writer = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (TsTraceEvent) event = NULL;
  TsTestFlow c2p, p2c, p2s, s2p;
  guint ifs[3];

  writer = ts_trace_writer_new (out, "connect", window_ns, &error);
  g_assert_no_error (error);
  g_assert_true (ts_trace_writer_set_metadata (writer, T0, "{\"nodes\":[]}", &error));
  ifs[0] = ts_trace_writer_add_interface (writer, "client-proxy", TS_LINKTYPE_ETHERNET,
                                          "captured at the proxy end", &error);
  ifs[1] = ts_trace_writer_add_interface (writer, "proxy-server", TS_LINKTYPE_ETHERNET,
                                          "captured at the server end", &error);
  ifs[2] = ts_trace_writer_add_interface (writer, "spare", TS_LINKTYPE_RAW, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ifs[2], ==, 2);

  ts_test_flow_pair (&c2p, &p2c, "192.0.2.10", 40000, "192.0.2.1", 3128);
  ts_test_flow_pair (&p2s, &s2p, "198.51.100.1", 50000, "198.51.100.10", 443);

  /* Packets added out of time order across interfaces. */
  {
    g_autoptr (GBytes) a = ts_test_tcp_frame (&c2p, 0x02, NULL, 0);
    g_autoptr (GBytes) b = ts_test_tcp_frame (&p2s, 0x02, NULL, 0);
    g_autoptr (GBytes) c = client_hello_frame (&c2p);
    gsize len;
    const guint8 *data;

    data = g_bytes_get_data (b, &len);
    g_assert_true (
        ts_trace_writer_add_packet (writer, ifs[1], T0 + 20 * MS, data, len, len, &error));
    data = g_bytes_get_data (a, &len);
    g_assert_true (
        ts_trace_writer_add_packet (writer, ifs[0], T0 + 10 * MS, data, len, len, &error));
    data = g_bytes_get_data (c, &len);
    g_assert_true (
        ts_trace_writer_add_packet (writer, ifs[0], T0 + 30 * MS, data, len, len + 4, &error));
    if (late_secret)
      g_assert_true (ts_trace_writer_advance (writer, T0 + 30 * MS + window_ns, &error));
  }

  event = ts_trace_event_new (T0 + 25 * MS, "proxy", "proxy.connect.allowed");
  ts_trace_event_add (event, "target", "example.com:443");
  ts_trace_event_add (event, "note", "two\nlines and spaces");
  g_assert_true (ts_trace_writer_add_event (writer, event, &error));

  /* The secret arrives after its ClientHello, within the window. */
  g_assert_true (
      ts_trace_writer_add_keylog (writer, T0 + 40 * MS, keylog_line, strlen (keylog_line), &error));
  g_assert_true (
      ts_trace_writer_add_keylog (writer, T0 + 40 * MS, "# comment\nbroken line\n", 22, &error));
  g_assert_cmpuint (ts_trace_writer_get_n_bad_keylog_lines (writer), ==, 1);
  g_assert_cmpuint (ts_trace_writer_get_n_late_secrets (writer), ==, late_secret ? 1 : 0);
  /* What the capture of the first link lost; the spare link's block says
   * nothing. */
  {
    const TsTraceStatistics lost = { 5, 1, 2, 2 };
    const TsTraceStatistics unknown = { G_MAXUINT64, G_MAXUINT64, G_MAXUINT64, G_MAXUINT64 };

    g_assert_true (ts_trace_writer_add_statistics (writer, ifs[0], T0 + 50 * MS, &lost, &error));
    g_assert_true (ts_trace_writer_add_statistics (writer, ifs[2], T0 + 50 * MS, &unknown, &error));
  }
  g_assert_true (ts_trace_writer_close (writer, &error));
  g_assert_no_error (error);
  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
}

static char *
read_trace_text (GBytes *trace)
{
  g_autoptr (TsTraceReader) reader = ts_trace_reader_new ();
  g_autoptr (GPtrArray) lines = NULL;
  g_autoptr (GError) error = NULL;

  ts_trace_reader_feed_bytes (reader, trace);
  lines = read_all (reader, &error);
  g_assert_no_error (error);
  g_assert_true (ts_trace_reader_finish (reader, &error));
  return join (lines);
}

static void
test_round_trip (void)
{
  g_autoptr (GBytes) trace = make_trace (G_MAXUINT64, FALSE);
  g_autofree char *text = read_trace_text (trace);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);

  g_test_message ("%s", text);
  g_assert_cmpstr (lines[0], ==, "section connect");
  g_assert_true (g_str_has_prefix (lines[1], "event "));
  g_assert_nonnull (strstr (lines[1], " lab lab.metadata metadata={\"nodes\":[]}"));
  g_assert_cmpstr (lines[2], ==, "interface 0 client-proxy 1 captured at the proxy end");
  g_assert_cmpstr (lines[3], ==, "interface 1 proxy-server 1 captured at the server end");
  g_assert_cmpstr (lines[4], ==, "interface 2 spare 101 (null)");
  /* Merged by time across interfaces. */
  g_assert_true (g_str_has_prefix (lines[5], "packet if0 t=1764230400010000000 54/54 "));
  g_assert_true (g_str_has_prefix (lines[6], "packet if1 t=1764230400020000000 54/54 "));
  g_assert_cmpstr (lines[7], ==,
                   "event 1764230400025000000 proxy proxy.connect.allowed "
                   "target=example.com:443 note=two%0Alines%20and%20spaces");
  /* The secret precedes the ClientHello that carries its random. */
  g_assert_true (g_str_has_prefix (lines[8], "secrets 544c534b CLIENT_RANDOM 0102"));
  g_assert_true (g_str_has_prefix (lines[9], "packet if0 t=1764230400030000000 105/109 "));
  /* Statistics come after every packet; counters not given stay unknown. */
  g_assert_cmpstr (lines[10], ==,
                   "statistics if0 t=1764230400050000000 recv=5 ifdrop=1 osdrop=2 deliv=2 lost=2");
  g_assert_cmpstr (
      lines[11], ==,
      "statistics if2 t=1764230400050000000 recv=-1 ifdrop=-1 osdrop=-1 deliv=-1 lost=0");
  g_assert_cmpstr (lines[12], ==, "");
}

static void
test_late_secret (void)
{
  g_autoptr (GBytes) trace = make_trace (5 * MS, TRUE);
  g_autofree char *text = read_trace_text (trace);
  const char *hello = strstr (text, "packet if0 t=1764230400030000000");
  const char *secret = strstr (text, "secrets 544c534b CLIENT_RANDOM");

  /* Written out past the window, the ClientHello could not wait: the secret
   * follows it and was counted late (make_trace checks the count). */
  g_assert_nonnull (hello);
  g_assert_nonnull (secret);
  g_assert_true (secret > hello);
}

static void
test_window_lag (void)
{
  g_autoptr (GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autoptr (TsTraceWriter) writer = NULL;
  g_autoptr (GError) error = NULL;
  guint8 payload[60] = { 0 };
  gsize header_size, size;

  writer = ts_trace_writer_new (out, NULL, 100 * MS, &error);
  ts_trace_writer_add_interface (writer, "client-proxy", TS_LINKTYPE_ETHERNET, NULL, &error);
  g_assert_no_error (error);
  header_size = g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (out));
  for (guint i = 0; i < 10; i++)
    ts_trace_writer_add_packet (writer, 0, T0 + i * 20 * MS, payload, sizeof payload,
                                sizeof payload, &error);
  /* At T0 + 150 ms, packets up to T0 + 50 ms are out (3 of them), the rest held. */
  g_assert_true (ts_trace_writer_advance (writer, T0 + 150 * MS, &error));
  size = g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (out));
  g_assert_cmpuint (size - header_size, ==, 3 * (32 + 60 + 4));
  g_assert_true (ts_trace_writer_flush (writer, &error));
  size = g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (out));
  g_assert_cmpuint (size - header_size, ==, 10 * (32 + 60 + 4));
}

/* A bulk transfer's worth of packets on two links whose captures hand
 * them over in batches that overlap in time, released as time goes on:
 * every packet comes back whole, in time order (their bytes are held in
 * slabs that are reused as the window slides). */
static void
test_bulk (void)
{
  g_autoptr (GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autoptr (TsTraceWriter) writer = NULL;
  g_autoptr (TsTraceReader) reader = ts_trace_reader_new ();
  g_autoptr (GBytes) trace = NULL;
  g_autoptr (GError) error = NULL;
  const guint n = 40000, batch = 50;
  guint8 packet[1514];
  TsTraceRecord rec;
  TsTraceRecordKind kind;
  guint64 last_time = 0;
  guint seen = 0;

  writer = ts_trace_writer_new (out, NULL, 100 * MS, &error);
  ts_trace_writer_add_interface (writer, "client-proxy", TS_LINKTYPE_ETHERNET, NULL, &error);
  ts_trace_writer_add_interface (writer, "proxy-server", TS_LINKTYPE_ETHERNET, NULL, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < n; i += 2 * batch)
    {
      /* Packet k (every 20 µs) goes to link k % 2: a batch of each link. */
      for (guint link = 0; link < 2; link++)
        for (guint j = 0; j < batch; j++)
          {
            guint k = i + 2 * j + link;
            gsize len = 60 + k % 1454;

            memset (packet, (int)(k % 251), len);
            memcpy (packet, &k, sizeof k);
            g_assert_true (ts_trace_writer_add_packet (writer, link, T0 + k * 20 * US, packet, len,
                                                       len, &error));
          }
      g_assert_true (ts_trace_writer_advance (writer, T0 + (i + 2 * batch) * 20 * US, &error));
    }
  g_assert_true (ts_trace_writer_close (writer, &error));
  g_assert_no_error (error);

  trace = g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
  ts_trace_reader_feed_bytes (reader, trace);
  while ((kind = ts_trace_reader_next (reader, &rec, &error)) > TS_TRACE_RECORD_NONE)
    if (kind == TS_TRACE_RECORD_PACKET)
      {
        guint k;

        g_assert_cmpuint (rec.caplen, >=, 60);
        memcpy (&k, rec.data, sizeof k);
        g_assert_cmpuint (k, ==, seen);
        g_assert_cmpuint (rec.interface_id, ==, k % 2);
        g_assert_cmpuint (rec.time_ns, ==, T0 + k * 20 * US);
        g_assert_cmpuint (rec.time_ns, >=, last_time);
        g_assert_cmpuint (rec.caplen, ==, 60 + k % 1454);
        for (guint32 b = sizeof k; b < rec.caplen; b++)
          g_assert_cmpuint (rec.data[b], ==, k % 251);
        last_time = rec.time_ns;
        seen++;
      }
  g_assert_no_error (error);
  g_assert_cmpuint (seen, ==, n);
}

static void
test_byte_by_byte (void)
{
  g_autoptr (GBytes) trace = make_trace (G_MAXUINT64, FALSE);
  g_autofree char *whole = read_trace_text (trace);
  g_autoptr (TsTraceReader) reader = ts_trace_reader_new ();
  g_autoptr (GPtrArray) all = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  gsize len;
  const guint8 *data = g_bytes_get_data (trace, &len);

  for (gsize i = 0; i < len; i++)
    {
      g_autoptr (GPtrArray) lines = NULL;

      ts_trace_reader_feed (reader, data + i, 1);
      lines = read_all (reader, &error);
      g_assert_no_error (error);
      for (guint j = 0; j < lines->len; j++)
        g_ptr_array_add (all, g_strdup (lines->pdata[j]));
    }
  g_assert_true (ts_trace_reader_finish (reader, &error));
  g_assert_cmpuint (ts_trace_reader_get_offset (reader), ==, len);
  text = join (all);
  g_assert_cmpstr (text, ==, whole);
}

static void
test_truncation (void)
{
  g_autoptr (GBytes) trace = make_trace (G_MAXUINT64, FALSE);
  gsize len;
  const guint8 *data = g_bytes_get_data (trace, &len);
  gsize n_damaged = 0;

  for (gsize cut = 0; cut < len; cut++)
    {
      g_autoptr (TsTraceReader) reader = ts_trace_reader_new ();
      g_autoptr (GPtrArray) lines = NULL;
      g_autoptr (GError) error = NULL;
      /* A copy of exactly @cut bytes, so ASan sees any over-read. */
      g_autoptr (GBytes) prefix = g_bytes_new (data, cut);

      ts_trace_reader_feed_bytes (reader, prefix);
      lines = read_all (reader, &error);
      g_assert_no_error (error);
      /* pcapng has no end marker: a cut between blocks is a shorter trace,
       * any other cut is damage that names its offset. */
      if (cut > 0 && ts_trace_reader_get_offset (reader) == cut)
        g_assert_true (ts_trace_reader_finish (reader, &error));
      else
        {
          g_assert_false (ts_trace_reader_finish (reader, &error));
          g_assert_error (error, TS_TRACE_ERROR, TS_TRACE_ERROR_TRUNCATED);
          if (cut > 0)
            g_assert_nonnull (strstr (error->message, "offset"));
          n_damaged++;
        }
    }
  /* Twelve blocks: every cut but the eleven inner boundaries is damage. */
  g_assert_cmpuint (n_damaged, ==, len - 11);
}

/* Corrupts a copy of a trace and checks the reader's error. */
static void
check_corrupt (GBytes *trace, gsize at, const guint8 *bytes, gsize n, int code,
               const char *expected)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (trace, &len);
  g_autofree guint8 *copy = g_memdup2 (data, len);
  g_autoptr (GBytes) damaged = NULL;
  g_autoptr (TsTraceReader) reader = ts_trace_reader_new ();
  g_autoptr (GPtrArray) lines = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_cmpuint (at + n, <=, len);
  memcpy (copy + at, bytes, n);
  damaged = g_bytes_new (copy, len);
  ts_trace_reader_feed_bytes (reader, damaged);
  lines = read_all (reader, &error);
  g_assert_null (lines);
  g_assert_error (error, TS_TRACE_ERROR, code);
  g_test_message ("%s", error->message);
  g_assert_cmpstr (error->message, ==, expected);
  /* The failure is sticky. */
  {
    TsTraceRecord record;
    g_autoptr (GError) again = NULL;

    g_assert_cmpint (ts_trace_reader_next (reader, &record, &again), ==, TS_TRACE_RECORD_ERROR);
    g_assert_nonnull (again);
  }
}

static gsize
block_offset (GBytes *trace, guint index)
{
  gsize len, pos = 0;
  const guint8 *data = g_bytes_get_data (trace, &len);

  for (guint i = 0; i < index; i++)
    {
      guint32 total;

      memcpy (&total, data + pos + 4, 4);
      pos += total;
    }
  return pos;
}

static void
put32 (guint8 out[4], guint32 v)
{
  memcpy (out, &v, 4);
}

static void
test_corrupt (void)
{
  g_autoptr (GBytes) trace = make_trace (G_MAXUINT64, FALSE);
  gsize shb = 0, meta = block_offset (trace, 1), idb = block_offset (trace, 2);
  gsize epb = block_offset (trace, 5), dsb = block_offset (trace, 8);
  guint32 shb_len, idb_len;
  guint8 b[4];
  g_autofree char *msg = NULL;

  memcpy (&shb_len, (const guint8 *)g_bytes_get_data (trace, NULL) + 4, 4);
  memcpy (&idb_len, (const guint8 *)g_bytes_get_data (trace, NULL) + idb + 4, 4);

  /* Not a trace at all. */
  check_corrupt (trace, 0, (const guint8 *)"GIF8", 4, TS_TRACE_ERROR_INVALID,
                 "not a pcap or pcapng file: magic 0x47494638 at offset 0");
  /* Byte-order magic. */
  put32 (b, 0xdeadbeef);
  check_corrupt (trace, shb + 8, b, 4, TS_TRACE_ERROR_INVALID,
                 "section header at offset 0 has byte-order magic 0xdeadbeef, not 0x1a2b3c4d");
  /* Length not a multiple of 4. */
  put32 (b, 30);
  msg = g_strdup_printf ("block at offset %" G_GSIZE_FORMAT
                         " has length 30, not a multiple of 4 of at least 12",
                         meta);
  check_corrupt (trace, meta + 4, b, 4, TS_TRACE_ERROR_INVALID, msg);
  g_clear_pointer (&msg, g_free);
  /* Length under the minimum. */
  put32 (b, 8);
  msg = g_strdup_printf (
      "block at offset %" G_GSIZE_FORMAT " has length 8, not a multiple of 4 of at least 12", idb);
  check_corrupt (trace, idb + 4, b, 4, TS_TRACE_ERROR_INVALID, msg);
  g_clear_pointer (&msg, g_free);
  /* Length over the cap. */
  put32 (b, 0x7ffffff0);
  msg = g_strdup_printf (
      "block at offset %" G_GSIZE_FORMAT " has length 2147483632, over the cap of 16777216", epb);
  check_corrupt (trace, epb + 4, b, 4, TS_TRACE_ERROR_TOO_LARGE, msg);
  g_clear_pointer (&msg, g_free);
  /* Header and trailer differ. */
  put32 (b, idb_len + 4);
  msg = g_strdup_printf ("block at offset %" G_GSIZE_FORMAT
                         " has length %u in its header and %u in its trailer",
                         idb, idb_len, idb_len + 4);
  check_corrupt (trace, idb + idb_len - 4, b, 4, TS_TRACE_ERROR_INVALID, msg);
  g_clear_pointer (&msg, g_free);
  /* An option that claims more than the block holds (if_name of the IDB). */
  b[0] = 0xf0;
  b[1] = 0x00;
  msg = g_strdup_printf ("option 2 at offset %" G_GSIZE_FORMAT
                         " claims 240 bytes, only %u left in the block",
                         idb + 16, idb_len - 16 - 4 - 4);
  check_corrupt (trace, idb + 16 + 2, b, 2, TS_TRACE_ERROR_INVALID, msg);
  g_clear_pointer (&msg, g_free);
  /* A packet on an interface never declared. */
  put32 (b, 7);
  msg = g_strdup_printf (
      "packet block at offset %" G_GSIZE_FORMAT " names interface 7 of 3 declared", epb);
  check_corrupt (trace, epb + 8, b, 4, TS_TRACE_ERROR_INVALID, msg);
  g_clear_pointer (&msg, g_free);
  /* Statistics of an interface never declared. */
  {
    gsize isb = block_offset (trace, 10);

    put32 (b, 9);
    msg = g_strdup_printf (
        "statistics block at offset %" G_GSIZE_FORMAT " names interface 9 of 3 declared", isb);
    check_corrupt (trace, isb + 8, b, 4, TS_TRACE_ERROR_INVALID, msg);
    g_clear_pointer (&msg, g_free);
  }
  /* Captured length beyond the block. */
  put32 (b, 4000);
  msg = g_strdup_printf ("packet block at offset %" G_GSIZE_FORMAT
                         " claims 4000 captured bytes, only 60 in the block",
                         epb);
  check_corrupt (trace, epb + 20, b, 4, TS_TRACE_ERROR_INVALID, msg);
  g_clear_pointer (&msg, g_free);
  /* Secrets beyond the block. */
  put32 (b, 100000);
  msg = g_strdup_printf (
      "secrets block at offset %" G_GSIZE_FORMAT " claims 100000 bytes of secrets, only", dsb);
  {
    /* Only the stable prefix is compared here; the exact length is checked above. */
    gsize len;
    const guint8 *data = g_bytes_get_data (trace, &len);
    g_autofree guint8 *copy = g_memdup2 (data, len);
    g_autoptr (GBytes) damaged = NULL;
    g_autoptr (TsTraceReader) reader = ts_trace_reader_new ();
    g_autoptr (GPtrArray) lines = NULL;
    g_autoptr (GError) error = NULL;

    memcpy (copy + dsb + 12, b, 4);
    damaged = g_bytes_new (copy, len);
    ts_trace_reader_feed_bytes (reader, damaged);
    lines = read_all (reader, &error);
    g_assert_error (error, TS_TRACE_ERROR, TS_TRACE_ERROR_INVALID);
    g_assert_true (g_str_has_prefix (error->message, msg));
  }
  g_clear_pointer (&msg, g_free);
  /* A block type the reader does not know is skipped, not damage. */
  {
    g_autoptr (TsTraceReader) reader = ts_trace_reader_new ();
    g_autoptr (GPtrArray) lines = NULL;
    g_autoptr (GError) error = NULL;
    gsize len;
    const guint8 *data = g_bytes_get_data (trace, &len);
    g_autofree guint8 *copy = g_memdup2 (data, len);
    g_autoptr (GBytes) changed = NULL;

    put32 (copy + meta, 0x00000bad);
    changed = g_bytes_new (copy, len);
    ts_trace_reader_feed_bytes (reader, changed);
    lines = read_all (reader, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (lines->pdata[1], ==, "other 00000bad");
  }
  /* A block before any section header. */
  {
    g_autoptr (TsTraceReader) reader = ts_trace_reader_new ();
    g_autoptr (GPtrArray) lines = NULL;
    g_autoptr (GError) error = NULL;
    gsize len;
    const guint8 *data = g_bytes_get_data (trace, &len);

    ts_trace_reader_feed (reader, data, shb_len);
    ts_trace_reader_feed (reader, data + shb_len, len - shb_len);
    lines = read_all (reader, &error);
    g_assert_no_error (error);
  }
}

/* Classic pcap, both stamp resolutions, both byte orders. */
static GBytes *
make_pcap (gboolean nanoseconds, gboolean swapped)
{
  GByteArray *out = g_byte_array_new ();
  guint32 header[6] = { nanoseconds ? 0xa1b23c4du : 0xa1b2c3d4u, 2 | 4 << 16, 0, 0, 65535, 1 };
  guint8 payload[42] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

  if (swapped)
    {
      for (int i = 0; i < 6; i++)
        header[i] = GUINT32_SWAP_LE_BE (header[i]);
      header[1] = GUINT32_SWAP_LE_BE (2u << 16 | 4u);
      header[1] = GUINT32_SWAP_LE_BE (header[1]);
      /* major and minor are 16-bit fields: swap each on its own. */
      {
        guint16 vers[2] = { GUINT16_SWAP_LE_BE (2), GUINT16_SWAP_LE_BE (4) };
        memcpy (&header[1], vers, 4);
      }
    }
  g_byte_array_append (out, (const guint8 *)header, sizeof header);
  for (guint i = 0; i < 3; i++)
    {
      guint32 rec[4]
          = { 1764230400u + i, nanoseconds ? 123456789u : 123456u, sizeof payload, sizeof payload };
      if (swapped)
        for (int j = 0; j < 4; j++)
          rec[j] = GUINT32_SWAP_LE_BE (rec[j]);
      g_byte_array_append (out, (const guint8 *)rec, sizeof rec);
      payload[41] = (guint8)i;
      g_byte_array_append (out, payload, sizeof payload);
    }
  return g_byte_array_free_to_bytes (out);
}

static void
test_classic_pcap (void)
{
  for (int variant = 0; variant < 4; variant++)
    {
      gboolean ns = variant & 1, swapped = (variant & 2) != 0;
      g_autoptr (GBytes) trace = make_pcap (ns, swapped);
      g_autofree char *text = read_trace_text (trace);
      g_auto (GStrv) lines = g_strsplit (text, "\n", -1);

      g_assert_cmpstr (lines[0], ==, "section (null)");
      g_assert_true (g_str_has_prefix (lines[1], ns ? "packet if0 t=1764230400123456789 42/42"
                                                    : "packet if0 t=1764230400123456000 42/42"));
      g_assert_true (g_str_has_prefix (lines[3], "packet if0 t=1764230402"));
    }
  /* A record over the cap. */
  {
    g_autoptr (GBytes) trace = make_pcap (FALSE, FALSE);
    gsize len;
    const guint8 *data = g_bytes_get_data (trace, &len);
    g_autofree guint8 *copy = g_memdup2 (data, len);
    g_autoptr (GBytes) damaged = NULL;
    g_autoptr (TsTraceReader) reader = ts_trace_reader_new ();
    g_autoptr (GError) error = NULL;
    g_autoptr (GPtrArray) lines = NULL;

    put32 (copy + 24 + 8, 0x01000000);
    damaged = g_bytes_new (copy, len);
    ts_trace_reader_feed_bytes (reader, damaged);
    lines = read_all (reader, &error);
    g_assert_error (error, TS_TRACE_ERROR, TS_TRACE_ERROR_TOO_LARGE);
    g_assert_cmpstr (
        error->message, ==,
        "pcap record at offset 24 claims 16777216 captured bytes, over the cap of 262144");
  }
}

static void
test_event_lines (void)
{
  g_autoptr (TsTraceEvent) event = ts_trace_event_new (42, "proxy", "proxy.connect.refused");
  g_autoptr (TsTraceEvent) parsed = NULL;
  g_autoptr (TsTraceEvent) from_journal = NULL;
  g_autoptr (GBytes) journal = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *line = NULL;
  g_autofree char *again = NULL;
  struct
  {
    const char *line;
    const char *message;
  } bad[] = {
    { "", "event line: needs at least TIME NODE KIND, found 0 fields" },
    { "12 proxy", "event line: needs at least TIME NODE KIND, found 2 fields" },
    { "x1 proxy k", "event line: time at column 1 is not a number of nanoseconds" },
    { "1 proxy k a=%zz", "event line: bad %-escape at column 13" },
    { "1 proxy k a=%0", "event line: bad %-escape at column 13" },
    { "1 proxy k A=b", "event line: field at column 11 is not key=value with a key of [a-z0-9_]" },
    { "1 proxy k novalue",
      "event line: field at column 11 is not key=value with a key of [a-z0-9_]" },
    { "1 proxy k node=x",
      "event line: field 'node' at column 11 is reserved or one too many (cap 256)" },
    { "1  proxy k", "event line: empty field at column 3" },
  };

  g_assert_true (ts_trace_event_add (event, "target", "mail.test:25"));
  g_assert_true (ts_trace_event_add (event, "reason", "port 25 not allowed = 100%"));
  g_assert_false (ts_trace_event_add (event, "Bad", "x"));
  g_assert_false (ts_trace_event_add (event, "kind", "x"));
  line = ts_trace_event_to_line (event);
  g_assert_cmpstr (line, ==,
                   "42 proxy proxy.connect.refused target=mail.test:25 "
                   "reason=port%2025%20not%20allowed%20%3D%20100%25\n");
  parsed = ts_trace_event_new_from_line (line, strlen (line), &error);
  g_assert_no_error (error);
  again = ts_trace_event_to_line (parsed);
  g_assert_cmpstr (again, ==, line);
  g_assert_cmpstr (ts_trace_event_get (parsed, "reason"), ==, "port 25 not allowed = 100%");

  journal = ts_trace_event_to_journal (event);
  from_journal = ts_trace_event_new_from_journal (g_bytes_get_data (journal, NULL),
                                                  g_bytes_get_size (journal), &error);
  g_assert_no_error (error);
  g_clear_pointer (&again, g_free);
  again = ts_trace_event_to_line (from_journal);
  g_assert_cmpstr (again, ==, line);

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) e = NULL;
      g_autoptr (TsTraceEvent) none
          = ts_trace_event_new_from_line (bad[i].line, strlen (bad[i].line), &e);
      g_assert_null (none);
      g_assert_error (e, TS_TRACE_ERROR, TS_TRACE_ERROR_INVALID);
      g_assert_cmpstr (e->message, ==, bad[i].message);
    }
}

static void
test_event_emit (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ts-events-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "events", NULL);
  g_autofree char *contents = NULL;
  g_autoptr (TsTraceEvent) event = ts_trace_event_new (0, "client", "client.result");
  g_autoptr (TsTraceEvent) parsed = NULL;
  g_autoptr (GError) error = NULL;

  g_setenv ("TS_EVENTS", path, TRUE);
  ts_trace_event_add (event, "status", "200");
  g_assert_true (ts_trace_event_emit (event, &error));
  g_assert_true (ts_trace_event_emit (event, &error));
  g_unsetenv ("TS_EVENTS");
  g_assert_true (g_file_get_contents (path, &contents, NULL, &error));
  {
    g_auto (GStrv) lines = g_strsplit (contents, "\n", -1);

    g_assert_cmpuint (g_strv_length (lines), ==, 3);
    parsed = ts_trace_event_new_from_line (lines[0], strlen (lines[0]), &error);
    g_assert_no_error (error);
    /* Stamped with the time of emission. */
    g_assert_cmpuint (ts_trace_event_get_time_ns (parsed), >, T0);
    g_assert_cmpstr (ts_trace_event_get (parsed, "status"), ==, "200");
  }
  g_unlink (path);
  g_rmdir (dir);
}

/* Runs tscope trace-info on @trace (cut to @len bytes); returns its stdout. */
static char *
trace_info (GBytes *trace, gsize len, int *out_status, char **out_err)
{
  g_autofree char *dir = g_dir_make_tmp ("ts-info-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "t.pcapng", NULL);
  g_autofree char *tscope = g_build_filename (
      g_getenv ("TS_BUILD_DIR") ? g_getenv ("TS_BUILD_DIR") : TS_BUILD_DIR, "cli", "tscope", NULL);
  const char *argv[] = { tscope, "trace-info", path, NULL };
  g_autoptr (GError) error = NULL;
  char *out = NULL;

  g_assert_true (g_file_set_contents (path, g_bytes_get_data (trace, NULL), (gssize)len, &error));
  g_assert_true (g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out,
                               out_err, out_status, &error));
  g_assert_no_error (error);
  g_unlink (path);
  g_rmdir (dir);
  return out;
}

static void
test_trace_info (void)
{
  g_autoptr (GBytes) trace = make_trace (G_MAXUINT64, FALSE);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = -1;

  out = trace_info (trace, g_bytes_get_size (trace), &status, &err);
  g_test_message ("%s", out);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (out, ": pcapng, scenario connect, written by Tunnelscope "));
  g_assert_nonnull (strstr (out, "interfaces: 3\n"));
  /* With what its capture lost (the interface's statistics block). */
  g_assert_nonnull (strstr (out, "  0 client-proxy     Ethernet                      2 packets "
                                 "(and 2 lost by the capture)  (captured at the proxy end)\n"));
  g_assert_nonnull (strstr (out, "  1 proxy-server     Ethernet                      1 packet  "
                                 "(captured at the server end)\n"));
  g_assert_nonnull (strstr (out, "secrets: 1 block, 1 TLS key log line\n"));
  g_assert_nonnull (strstr (out, "events: 2 (first: lab.metadata)\n"));
  g_assert_nonnull (strstr (out, "damage: none\n"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* Cut inside the last block (the spare link's statistics): what was read
   * is shown, the damage named, exit 1. */
  out = trace_info (trace, g_bytes_get_size (trace) - 10, &status, &err);
  g_assert_false (g_spawn_check_wait_status (status, NULL));
  g_assert_nonnull (strstr (out, "  0 client-proxy     Ethernet                      2 packets "
                                 "(and 2 lost by the capture)"));
  g_assert_nonnull (strstr (out, "damage: the trace ends inside the block at offset "));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* Not a trace at all: one line on stderr. */
  {
    g_autoptr (GBytes) junk = g_bytes_new_static ("hello, world\n", 13);

    out = trace_info (junk, 13, &status, &err);
    g_assert_cmpstr (out, ==, "");
    g_assert_true (g_str_has_prefix (err, "tscope: "));
    g_assert_nonnull (strstr (err, "not a pcap or pcapng file: magic 0x68656c6c at offset 0\n"));
  }
}

/* @data compressed as gzip writes it. */
static GBytes *
gzip_bytes (GBytes *data)
{
  g_autoptr (GZlibCompressor) gzip = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP, -1);
  g_autoptr (GOutputStream) memory = g_memory_output_stream_new_resizable ();
  g_autoptr (GOutputStream) out = g_converter_output_stream_new (memory, G_CONVERTER (gzip));
  g_autoptr (GError) error = NULL;
  gsize written = 0;

  g_assert_true (g_output_stream_write_all (out, g_bytes_get_data (data, NULL),
                                            g_bytes_get_size (data), &written, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_output_stream_close (out, NULL, &error));
  g_assert_no_error (error);
  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (memory));
}

/* A gzip- or zstd-compressed trace is refused with a message that says so
 * and what to do, from a mapped file, fed in chunks, and by trace-info. */
static void
test_compressed (void)
{
  g_autoptr (GBytes) trace = make_trace (G_MAXUINT64, FALSE);
  g_autoptr (GBytes) gz = gzip_bytes (trace);
  static const guint8 zstd_magic[] = { 0x28, 0xb5, 0x2f, 0xfd };
  g_autofree guint8 *zst = g_malloc0 (64);
  const char *gzip_message
      = "the trace is gzip-compressed (magic 1f 8b at offset 0): decompress it first (gunzip)";
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *line = g_strconcat (gzip_message, "\n", NULL);
  g_autoptr (GError) exit_error = NULL;
  int status = -1;

  /* The gzip header as it is (check_corrupt writes its own 2 bytes). */
  check_corrupt (gz, 0, g_bytes_get_data (gz, NULL), 2, TS_TRACE_ERROR_UNSUPPORTED, gzip_message);
  {
    g_autoptr (GBytes) zstd = g_bytes_new (zst, 64);
    check_corrupt (zstd, 0, zstd_magic, sizeof zstd_magic, TS_TRACE_ERROR_UNSUPPORTED,
                   "the trace is zstd-compressed (magic 28 b5 2f fd at offset 0): decompress it "
                   "first (unzstd)");
  }
  {
    /* Fed a byte at a time, as from a pipe. */
    g_autoptr (TsTraceReader) reader = ts_trace_reader_new ();
    g_autoptr (GError) error = NULL;
    const guint8 *data = g_bytes_get_data (gz, NULL);
    TsTraceRecord record;
    TsTraceRecordKind kind = TS_TRACE_RECORD_NONE;

    for (gsize i = 0; i < g_bytes_get_size (gz) && kind == TS_TRACE_RECORD_NONE; i++)
      {
        ts_trace_reader_feed (reader, data + i, 1);
        kind = ts_trace_reader_next (reader, &record, &error);
      }
    g_assert_cmpint (kind, ==, TS_TRACE_RECORD_ERROR);
    g_assert_error (error, TS_TRACE_ERROR, TS_TRACE_ERROR_UNSUPPORTED);
    g_assert_cmpstr (error->message, ==, gzip_message);
  }
  /* tscope trace-info: the same one line, exit status 1. */
  out = trace_info (gz, g_bytes_get_size (gz), &status, &err);
  g_test_message ("%s", err);
  g_assert_cmpstr (out, ==, "");
  g_assert_false (g_spawn_check_wait_status (status, &exit_error));
  g_assert_error (exit_error, G_SPAWN_EXIT_ERROR, 1);
  g_assert_true (g_str_has_prefix (err, "tscope: "));
  g_assert_true (g_str_has_suffix (err, line));
  g_assert_true (strchr (err, '\n') == err + strlen (err) - 1);
}

/* tscope trace-info on a FILE it cannot open says so as tscope explain
 * does, in the system's words: one line, exit status 1. */
static void
test_trace_info_unreadable (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ts-info-XXXXXX", NULL);
  g_autofree char *missing = g_build_filename (dir, "missing.pcapng", NULL);
  g_autofree char *tscope = g_build_filename (
      g_getenv ("TS_BUILD_DIR") ? g_getenv ("TS_BUILD_DIR") : TS_BUILD_DIR, "cli", "tscope", NULL);
  struct
  {
    const char *path, *want;
  } cases[] = {
    { missing, "No such file or directory" },
    { dir, "Is a directory" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const char *argv[] = { tscope, "trace-info", cases[i].path, NULL };
      g_autofree char *out = NULL, *err = NULL, *want = NULL;
      g_autoptr (GError) error = NULL;
      int status = -1;

      g_assert_true (g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out,
                                   &err, &status, &error));
      g_assert_no_error (error);
      want = g_strdup_printf ("tscope: %s: %s\n", cases[i].path, cases[i].want);
      g_assert_cmpstr (err, ==, want);
      g_assert_cmpstr (out, ==, "");
      g_assert_false (g_spawn_check_wait_status (status, &error));
      g_assert_error (error, G_SPAWN_EXIT_ERROR, 1);
    }
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ts/trace/pcapng/round-trip", test_round_trip);
  g_test_add_func ("/ts/trace/pcapng/late-secret", test_late_secret);
  g_test_add_func ("/ts/trace/pcapng/window-lag", test_window_lag);
  g_test_add_func ("/ts/trace/pcapng/bulk", test_bulk);
  g_test_add_func ("/ts/trace/pcapng/byte-by-byte", test_byte_by_byte);
  g_test_add_func ("/ts/trace/pcapng/truncation", test_truncation);
  g_test_add_func ("/ts/trace/pcapng/corrupt", test_corrupt);
  g_test_add_func ("/ts/trace/pcap/classic", test_classic_pcap);
  g_test_add_func ("/ts/trace/event/lines", test_event_lines);
  g_test_add_func ("/ts/trace/pcapng/trace-info", test_trace_info);
  g_test_add_func ("/ts/trace/pcapng/trace-info-unreadable", test_trace_info_unreadable);
  g_test_add_func ("/ts/trace/pcapng/compressed", test_compressed);
  g_test_add_func ("/ts/trace/event/emit", test_event_emit);
  return g_test_run ();
}
