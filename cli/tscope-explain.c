/* tscope-explain.c: tscope explain: a trace as a timeline and a ladder diagram.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "tscope.h"
#include "ts-analyzer.h"
#include "ts-timeline-render.h"
#ifdef TS_HAVE_CAIRO
#include "ts-ladder-cairo.h"
#endif

/* Bytes read from the trace at a time. */
#define EXPLAIN_CHUNK (256 * 1024)

/* --follow: the events appended since the last call, in time order, as log
 * lines; new tunnels as they are found. */
static void
print_changes (TsAnalyzer *analyzer, const char *as, guint64 *t0, gboolean *have_t0,
               guint *n_tunnels_printed)
{
  TsTimeline *tl = ts_analyzer_get_timeline (analyzer);
  TsAnalyzerChanges changes;
  TsRenderOptions options = { 0, -1, NULL, FALSE };
  g_autoptr (GArray) fresh = g_array_new (FALSE, FALSE, sizeof (guint));

  ts_analyzer_take_changes (analyzer, &changes);
  if (as != NULL && !ts_render_find_as (tl, as, &options.as_node))
    options.as_node = -1;
  for (guint i = changes.first_new_event; i < changes.n_events; i++)
    g_array_append_val (fresh, i);
  for (guint i = 1; i < fresh->len; i++)
    {
      /* Insertion sort by time: a chunk's new events are nearly in order. */
      guint v = g_array_index (fresh, guint, i), j = i;
      guint64 tv = ts_timeline_get_event (tl, v)->time_ns;
      while (j > 0 && ts_timeline_get_event (tl, g_array_index (fresh, guint, j - 1))->time_ns > tv)
        {
          g_array_index (fresh, guint, j) = g_array_index (fresh, guint, j - 1);
          j--;
        }
      g_array_index (fresh, guint, j) = v;
    }
  for (; *n_tunnels_printed < ts_timeline_get_n_tunnels (tl); (*n_tunnels_printed)++)
    {
      g_autofree char *line = ts_timeline_render_tunnel_line (tl, *n_tunnels_printed);
      printf ("%s\n", line);
    }
  for (guint i = 0; i < fresh->len; i++)
    {
      guint index = g_array_index (fresh, guint, i);
      g_autofree char *line = NULL;
      if (!*have_t0)
        {
          *t0 = ts_timeline_get_origin_ns (tl);
          *have_t0 = TRUE;
        }
      line = ts_timeline_render_event_line (tl, &options, index, *t0);
      if (line != NULL)
        printf ("%s\n", line);
    }
  fflush (stdout);
  ts_analyzer_changes_clear (&changes);
}

static void
unmap_trace (gpointer data)
{
  g_mapped_file_unref (data);
}

/* A mapped file that shrinks under us (another program truncates it)
 * raises SIGBUS on the next read of a lost page, in whichever thread: one
 * line naming the file and exit status 1, not a crash. Set up before the
 * mapping; only async-signal-safe calls in the handler. */
static char sigbus_message[512];
static size_t sigbus_message_len;

static void
on_sigbus (int sig)
{
  ssize_t n = write (STDERR_FILENO, sigbus_message, sigbus_message_len);

  (void)n;
  _exit (TS_EXIT_FAILED);
}

static void
catch_sigbus (const char *path)
{
  struct sigaction sa;
  int n = g_snprintf (sigbus_message, sizeof sigbus_message,
                      "tscope: %s: the file shrank while it was read (another program truncated "
                      "it?)\n",
                      path);

  sigbus_message_len = MIN ((size_t)MAX (n, 0), sizeof sigbus_message - 1);
  memset (&sa, 0, sizeof sa);
  sa.sa_handler = on_sigbus;
  sigemptyset (&sa.sa_mask);
  sigaction (SIGBUS, &sa, NULL);
}

/* The trace open on @fd mapped, or NULL when it is not a regular file (or
 * cannot be mapped: it is then read in chunks). */
static GBytes *
map_trace (int fd)
{
  GMappedFile *file;
  GStatBuf st;

  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode) || st.st_size == 0)
    return NULL;
  file = g_mapped_file_new_from_fd (fd, FALSE, NULL);
  if (file == NULL)
    return NULL;
  return g_bytes_new_with_free_func (g_mapped_file_get_contents (file),
                                     g_mapped_file_get_length (file), unmap_trace, file);
}

/* Reads the --keylog file at @path whole into @out_text (NUL-terminated,
 * @out_len bytes). Returns 0, or the errno of the failure, so that the
 * message can name the option rather than GLib's wording. */
static int
read_keylog (const char *path, char **out_text, gsize *out_len)
{
  g_autoptr (GByteArray) text = g_byte_array_new ();
  guint8 chunk[16384];
  int fd = open (path, O_RDONLY);

  if (fd < 0)
    return errno;
  for (;;)
    {
      gssize n = read (fd, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;
          close (fd);
          return saved;
        }
      if (n == 0)
        break;
      g_byte_array_append (text, chunk, (guint)n);
    }
  close (fd);
  *out_len = text->len;
  g_byte_array_append (text, (const guint8 *)"", 1);
  *out_text = (char *)g_byte_array_free (g_steal_pointer (&text), FALSE);
  return 0;
}

static gboolean
write_piece (const char *data, gsize len, gpointer user_data)
{
  return fwrite (data, 1, len, user_data) == len;
}

/* Writes the rendering to @path ("-" or NULL: standard output). The file is
 * opened and truncated in place, never replaced by a rename, so devices and
 * pipes (-o /dev/null) stay what they are. JSON is streamed as it is made. */
static gboolean
write_output (const char *path, TsTimeline *tl, const TsRenderOptions *options, gboolean json,
              GError **error)
{
  gboolean to_stdout = path == NULL || strcmp (path, "-") == 0;
  FILE *f = to_stdout ? stdout : fopen (path, "w");
  gboolean ok;

  if (f == NULL)
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "%s: %s", path,
                   g_strerror (saved));
      return FALSE;
    }
  if (json)
    ok = ts_timeline_render_json_stream (tl, options, write_piece, f);
  else
    {
      g_autofree char *text = ts_timeline_render_text (tl, options);
      ok = write_piece (text, strlen (text), f);
    }
  ok = (fflush (f) == 0) && ok;
  if (!ok)
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "writing %s: %s",
                   to_stdout ? "standard output" : path, g_strerror (saved));
    }
  if (!to_stdout && fclose (f) != 0 && ok)
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "closing %s: %s", path,
                   g_strerror (saved));
      ok = FALSE;
    }
  return ok;
}

int
ts_cmd_explain (int argc, char **argv)
{
  g_autofree char *as = NULL, *format = NULL, *keylog = NULL, *output = NULL;
  gint width = 0;
  gboolean no_coalesce = FALSE, follow = FALSE;
  guint64 follow_t0 = 0;
  gboolean have_t0 = FALSE;
  guint n_tunnels_printed = 0;
  const GOptionEntry entries[] = {
    { "as", 0, 0, G_OPTION_ARG_STRING, &as,
      "Show what NODE (a name, or one of its addresses) could read, or with 'observer' what an "
      "on-path observer of every link could; the rest as \"encrypted, N bytes\"",
      "NODE" },
    { "format", 0, 0, G_OPTION_ARG_STRING, &format,
      "Output format: text (default), json, or a picture: svg, png, pdf (with -o)", "FORMAT" },
    { "width", 0, 0, G_OPTION_ARG_INT, &width,
      "Width of the text ladder in columns (default 80, at least 60)", "N" },
    { "keylog", 0, 0, G_OPTION_ARG_FILENAME, &keylog,
      "Read TLS secrets from an NSS key log FILE too", "FILE" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Write to FILE instead of standard output",
      "FILE" },
    { "every-record", 0, 0, G_OPTION_ARG_NONE, &no_coalesce, "One line per data record (no runs)",
      NULL },
    { "follow", 'f', 0, G_OPTION_ARG_NONE, &follow,
      "Print events as they arrive (a live stream: tscope run -o - | tscope explain -f -), then "
      "the ladder",
      NULL },
    { NULL },
  };
  g_autoptr (TsAnalyzer) analyzer = NULL;
  g_autoptr (GError) error = NULL;
  int fd;
  g_autofree guint8 *buf = NULL;
  const char *path;
  TsRenderOptions options = { 0, -1, NULL, FALSE };
  TsTimeline *tl;
  gboolean damaged = FALSE;
  gboolean picture;

  if (!ts_cli_parse (&argc, &argv, "TRACE|-", "Turn a trace into a timeline and a ladder diagram.",
                     entries))
    return TS_EXIT_USAGE;
  if (argc != 2)
    {
      ts_cli_error (
          "explain needs one TRACE (a file, or - for standard input) (see tscope explain --help)");
      return TS_EXIT_USAGE;
    }
  if (format == NULL)
    format = g_strdup ("text");
  picture
      = strcmp (format, "svg") == 0 || strcmp (format, "png") == 0 || strcmp (format, "pdf") == 0;
  if (strcmp (format, "text") != 0 && strcmp (format, "json") != 0 && !picture)
    {
      ts_cli_error ("unknown --format '%s' (text, json, svg, png or pdf)", format);
      return TS_EXIT_USAGE;
    }
#ifndef TS_HAVE_CAIRO
  if (picture)
    {
      ts_cli_error ("--format %s needs cairo, which this tscope was built without", format);
      return TS_EXIT_USAGE;
    }
#endif
  if (picture && (output == NULL || strcmp (output, "-") == 0))
    {
      ts_cli_error ("--format %s writes a file: name it with -o FILE", format);
      return TS_EXIT_USAGE;
    }
  if (follow && (strcmp (format, "text") != 0 || (output != NULL && strcmp (output, "-") != 0)))
    {
      ts_cli_error (
          "--follow prints the text ladder to standard output: it takes neither --format %s nor -o",
          format);
      return TS_EXIT_USAGE;
    }
  if (width != 0 && width < 60)
    {
      ts_cli_error ("--width %d is too narrow (at least 60)", width);
      return TS_EXIT_USAGE;
    }
  path = argv[1];

  analyzer = ts_analyzer_new ();
  if (keylog != NULL)
    {
      g_autofree char *text = NULL;
      gsize len = 0;
      int saved = read_keylog (keylog, &text, &len);
      if (saved != 0)
        {
          /* Like a TRACE that cannot be opened: what was asked failed. */
          ts_cli_error ("--keylog %s: %s", keylog, g_strerror (saved));
          return TS_EXIT_FAILED;
        }
      ts_analyzer_add_keylog (analyzer, text, len);
    }

  if (strcmp (path, "-") == 0)
    fd = STDIN_FILENO;
  else if ((fd = open (path, O_RDONLY)) < 0)
    {
      ts_cli_error ("%s: %s", path, g_strerror (errno));
      return TS_EXIT_FAILED;
    }
  if (fd != STDIN_FILENO && !follow)
    {
      /* A regular file is mapped and analyzed in one pass: no read () copies
       * of it, and the analyzer may look ahead in it. Standard input, pipes
       * and --follow read in chunks as they come. */
      g_autoptr (GBytes) mapped = NULL;

      catch_sigbus (path);
      mapped = map_trace (fd);
      if (mapped != NULL)
        {
          close (fd);
          fd = -1;
          if (!ts_analyzer_feed_bytes (analyzer, mapped, &error))
            damaged = TRUE;
        }
    }
  buf = g_malloc (EXPLAIN_CHUNK);
  while (fd >= 0 && !damaged)
    {
      gssize n = read (fd, buf, EXPLAIN_CHUNK);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;
          ts_cli_error ("%s: offset %" G_GUINT64_FORMAT ": %s", path,
                        ts_analyzer_get_offset (analyzer), g_strerror (saved));
          if (fd != STDIN_FILENO)
            close (fd);
          return TS_EXIT_FAILED;
        }
      if (n == 0)
        break;
      if (!ts_analyzer_feed (analyzer, buf, (gsize)n, &error))
        damaged = TRUE;
      if (follow)
        print_changes (analyzer, as, &follow_t0, &have_t0, &n_tunnels_printed);
      if (damaged)
        break;
    }
  if (fd >= 0 && fd != STDIN_FILENO)
    close (fd);
  if (!damaged && !ts_analyzer_finish (analyzer, &error))
    damaged = TRUE;
  else if (damaged)
    ts_analyzer_finish (analyzer, NULL);
  if (follow)
    {
      print_changes (analyzer, as, &follow_t0, &have_t0, &n_tunnels_printed);
      printf ("\n");
    }
  if (damaged && ts_analyzer_get_n_packets (analyzer) == 0)
    {
      /* Nothing readable at all: one line, the file, the offset, the cause
       * (the reader's message names the offset). */
      ts_cli_error ("%s: %s", path, error->message);
      return TS_EXIT_FAILED;
    }
  if (damaged)
    {
      /* What could be read is shown and the damage is an anomaly event in
       * it; this line says so where a reader of the ladder (or of JSON on
       * standard output) might miss it. */
      ts_cli_error ("%s: damaged at offset %" G_GUINT64_FORMAT ": %s; shown up to there",
                    strcmp (path, "-") == 0 ? "standard input" : path,
                    ts_analyzer_get_offset (analyzer), error->message);
    }

  tl = ts_analyzer_get_timeline (analyzer);
  if (as != NULL)
    {
      if (!ts_render_find_as (tl, as, &options.as_node))
        {
          GString *names = g_string_new (NULL);
          for (guint i = 0; i < ts_timeline_get_n_nodes (tl); i++)
            if (ts_timeline_get_node (tl, i)->merged_into < 0)
              g_string_append_printf (names, "%s%s", names->len ? ", " : "",
                                      ts_timeline_get_node (tl, i)->name);
          ts_cli_error ("--as %s: no such node in %s (nodes: %s; or observer, on every link)", as,
                        path, names->str);
          g_string_free (names, TRUE);
          return TS_EXIT_USAGE;
        }
    }
  options.width = (guint)width;
  options.title = ts_analyzer_get_scenario (analyzer) ? ts_analyzer_get_scenario (analyzer) : path;
  options.no_coalesce = no_coalesce;
  g_clear_error (&error);
#ifdef TS_HAVE_CAIRO
  if (picture)
    {
      if (!ts_ladder_write (tl, &options, format, output, &error))
        {
          ts_cli_error ("%s", error->message);
          return TS_EXIT_FAILED;
        }
      return TS_EXIT_OK;
    }
#endif
  if (!write_output (output, tl, &options, strcmp (format, "json") == 0, &error))
    {
      ts_cli_error ("%s", error->message);
      return TS_EXIT_FAILED;
    }
  return TS_EXIT_OK;
}
