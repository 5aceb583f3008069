/* tscope-trace-info.c: tscope trace-info: a trace's interfaces, packets, secrets, events, damage.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>

#include "ts-trace-error.h"
#include "ts-trace-reader.h"
#include "tscope.h"

/* Standard input is read this much at a time. */
#define TRACE_INFO_CHUNK (256 * 1024)

static const char *
linktype_name (guint linktype)
{
  switch (linktype)
    {
      case 1:
        return "Ethernet";
      case 101:
        return "raw IP";
      case 113:
        return "Linux cooked (SLL)";
      case 276:
        return "Linux cooked v2 (SLL2)";
      case 0:
        return "BSD loopback";
      default:
        return "other";
    }
}

static guint
count_lines (const guint8 *data, guint32 len)
{
  guint n = 0;
  gboolean in_line = FALSE;

  for (guint32 i = 0; i < len; i++)
    {
      if (data[i] == '\n')
        {
          n += in_line;
          in_line = FALSE;
        }
      else if (data[i] != '\r' && data[i] != '#')
        in_line = TRUE;
    }
  return n + in_line;
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *)a, *(const char *const *)b);
}

/* What trace-info counts, as the records come. */
typedef struct
{
  GArray *packets; /* guint64 per interface */
  GArray *lost;    /* guint64 per interface */
  GHashTable *kinds;
  char *first_event;
  guint64 n_secret_blocks, n_secret_lines, n_events, n_other;
  guint64 first_ns, last_ns;
  gboolean any_packet;
} Summary;

/* Takes every complete record buffered in @reader into @sum. Returns
 * TS_TRACE_RECORD_NONE (feed more) or TS_TRACE_RECORD_ERROR (@damage set). */
static TsTraceRecordKind
take_records (TsTraceReader *reader, Summary *sum, GError **damage)
{
  TsTraceRecordKind kind;
  TsTraceRecord record;

  while ((kind = ts_trace_reader_next (reader, &record, damage)) > TS_TRACE_RECORD_NONE)
    {
      switch (kind)
        {
          case TS_TRACE_RECORD_PACKET:
            if (sum->packets->len <= record.interface_id)
              g_array_set_size (sum->packets, record.interface_id + 1);
            g_array_index (sum->packets, guint64, record.interface_id)++;
            if (!sum->any_packet || record.time_ns < sum->first_ns)
              sum->first_ns = record.time_ns;
            if (!sum->any_packet || record.time_ns > sum->last_ns)
              sum->last_ns = record.time_ns;
            sum->any_packet = TRUE;
            break;
          case TS_TRACE_RECORD_SECRETS:
            sum->n_secret_blocks++;
            if (record.secrets_type == TS_PCAPNG_SECRETS_TLS_KEYLOG)
              sum->n_secret_lines += count_lines (record.secrets, record.secrets_len);
            break;
          case TS_TRACE_RECORD_EVENT:
            {
              const char *event_kind = ts_trace_event_get_kind (record.event);
              gpointer count = g_hash_table_lookup (sum->kinds, event_kind);

              if (sum->n_events == 0)
                sum->first_event = g_strdup (event_kind);
              g_hash_table_replace (sum->kinds, g_strdup (event_kind),
                                    GUINT_TO_POINTER (GPOINTER_TO_UINT (count) + 1));
              sum->n_events++;
              break;
            }
          case TS_TRACE_RECORD_STATISTICS:
            /* (The last block of an interface has its totals.) */
            if (sum->lost->len <= record.interface_id)
              g_array_set_size (sum->lost, record.interface_id + 1);
            g_array_index (sum->lost, guint64, record.interface_id)
                = ts_trace_statistics_capture_lost (&record.statistics);
            break;
          case TS_TRACE_RECORD_OTHER:
            sum->n_other++;
            break;
          default:
            break;
        }
    }
  return kind;
}

/* Reads standard input in chunks into @reader and @sum; FALSE with @error
 * when reading fails (damage goes to @damage). */
static gboolean
read_stdin (TsTraceReader *reader, Summary *sum, GError **damage, GError **error)
{
  g_autofree guint8 *buf = g_malloc (TRACE_INFO_CHUNK);

  for (;;)
    {
      gssize n = read (STDIN_FILENO, buf, TRACE_INFO_CHUNK);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                       "offset %" G_GUINT64_FORMAT ": %s", ts_trace_reader_get_offset (reader),
                       g_strerror (saved));
          return FALSE;
        }
      if (n == 0)
        break;
      ts_trace_reader_feed (reader, buf, (gsize)n);
      if (take_records (reader, sum, damage) == TS_TRACE_RECORD_ERROR)
        break;
    }
  return TRUE;
}

int
ts_cmd_trace_info (int argc, char **argv)
{
  g_autoptr (TsTraceReader) reader = NULL;
  g_autoptr (GMappedFile) mapped = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) damage = NULL;
  g_autoptr (GArray) packets = g_array_new (FALSE, TRUE, sizeof (guint64));
  g_autoptr (GArray) lost = g_array_new (FALSE, TRUE, sizeof (guint64));
  g_autoptr (GHashTable) kinds = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  Summary sum = { packets, lost, kinds };
  g_autofree char *first_event = NULL;
  TsTraceRecordKind kind = TS_TRACE_RECORD_NONE;
  const char *path;

  if (!ts_cli_parse (
          &argc, &argv, "FILE|-",
          "Summarise a trace: its interfaces (one per captured link), the packets on each,\n"
          "the TLS secrets and actor events it carries, and any damage found.\n"
          "Reads pcapng (ours or any tool's) and classic pcap; '-' reads standard input.\n"
          "Exit status 1 when the trace is damaged (what could be read is shown).",
          NULL))
    return TS_EXIT_USAGE;
  if (argc != 2)
    {
      ts_cli_error ("trace-info needs exactly one FILE (see tscope trace-info --help)");
      return TS_EXIT_USAGE;
    }
  path = argv[1];

  reader = ts_trace_reader_new ();
  if (strcmp (path, "-") == 0)
    {
      path = "standard input";
      if (!read_stdin (reader, &sum, &damage, &error))
        {
          ts_cli_error ("%s: %s", path, error->message);
          return TS_EXIT_FAILED;
        }
    }
  else
    {
      /* Opened first, so that the error is the system's, as tscope explain
       * says it ("FILE: No such file or directory", "FILE: Is a directory"),
       * not GLib's wording of its mapping. */
      int fd = open (path, O_RDONLY);
      struct stat st;
      int saved = 0;

      if (fd < 0 || fstat (fd, &st) != 0)
        saved = errno;
      else if (S_ISDIR (st.st_mode))
        saved = EISDIR;
      if (saved != 0)
        {
          if (fd >= 0)
            close (fd);
          ts_cli_error ("%s: %s", path, g_strerror (saved));
          return TS_EXIT_FAILED;
        }
      mapped = g_mapped_file_new_from_fd (fd, FALSE, &error);
      close (fd);
      if (mapped == NULL)
        {
          ts_cli_error ("%s: %s", path, error->message);
          return TS_EXIT_FAILED;
        }
      bytes = g_mapped_file_get_bytes (mapped);
      ts_trace_reader_feed_bytes (reader, bytes);
    }
  if (damage == NULL)
    kind = take_records (reader, &sum, &damage);
  first_event = sum.first_event;
  if (damage == NULL && kind == TS_TRACE_RECORD_NONE)
    ts_trace_reader_finish (reader, &damage);

  if (ts_trace_reader_get_format (reader) == TS_TRACE_FORMAT_UNKNOWN)
    {
      ts_cli_error ("%s: %s", path, damage != NULL ? damage->message : "not a trace");
      return TS_EXIT_FAILED;
    }

  printf ("%s: %s", path,
          ts_trace_reader_get_format (reader) == TS_TRACE_FORMAT_PCAPNG ? "pcapng" : "pcap");
  if (ts_trace_reader_get_scenario (reader) != NULL)
    printf (", scenario %s", ts_trace_reader_get_scenario (reader));
  if (ts_trace_reader_get_application (reader) != NULL)
    printf (", written by %s", ts_trace_reader_get_application (reader));
  printf ("\n");
  if (sum.any_packet)
    printf ("span: %.6f s\n", (double)(sum.last_ns - sum.first_ns) / 1e9);

  printf ("interfaces: %u\n", ts_trace_reader_get_n_interfaces (reader));
  for (guint i = 0; i < ts_trace_reader_get_n_interfaces (reader); i++)
    {
      const TsTraceInterface *iface = ts_trace_reader_get_interface (reader, i);
      guint64 n = i < packets->len ? g_array_index (packets, guint64, i) : 0;
      guint64 n_lost = i < lost->len ? g_array_index (lost, guint64, i) : 0;

      printf ("  %u %-16s %-22s %8" G_GUINT64_FORMAT " packet%s", i, iface->name,
              linktype_name (iface->linktype), n, n == 1 ? "" : "s");
      if (n_lost > 0)
        printf (" (and %" G_GUINT64_FORMAT " lost by the capture)", n_lost);
      if (iface->description != NULL)
        printf ("  (%s)", iface->description);
      printf ("\n");
    }
  printf ("secrets: %" G_GUINT64_FORMAT " block%s, %" G_GUINT64_FORMAT " TLS key log line%s\n",
          sum.n_secret_blocks, sum.n_secret_blocks == 1 ? "" : "s", sum.n_secret_lines,
          sum.n_secret_lines == 1 ? "" : "s");
  printf ("events: %" G_GUINT64_FORMAT, sum.n_events);
  if (first_event != NULL)
    printf (" (first: %s)", first_event);
  printf ("\n");
  {
    g_autoptr (GPtrArray) names = g_ptr_array_new ();
    GHashTableIter iter;
    gpointer key;

    g_hash_table_iter_init (&iter, kinds);
    while (g_hash_table_iter_next (&iter, &key, NULL))
      g_ptr_array_add (names, key);
    g_ptr_array_sort (names, compare_strings);
    for (guint i = 0; i < names->len; i++)
      printf ("  %-32s %u\n", (const char *)names->pdata[i],
              GPOINTER_TO_UINT (g_hash_table_lookup (kinds, names->pdata[i])));
  }
  if (sum.n_other > 0)
    printf ("other blocks: %" G_GUINT64_FORMAT "\n", sum.n_other);
  if (damage != NULL)
    {
      printf ("damage: %s\n", damage->message);
      ts_cli_error ("%s: damaged: %s (what could be read is shown)", path, damage->message);
      return TS_EXIT_FAILED;
    }
  printf ("damage: none\n");
  return TS_EXIT_OK;
}
