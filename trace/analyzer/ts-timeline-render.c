/* ts-timeline-render.c: text ladder and JSON renderers of a timeline.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "ts-timeline-render-private.h"

#include <string.h>

#include "ts-tls-types.h"

gboolean
ts_timeline_event_seen_by (const TsTimeline *tl, const TsTimelineEvent *e, gint node)
{
  if (node == TS_RENDER_AS_OBSERVER)
    return e->link >= 0;
  if (node < 0)
    return TRUE;
  if (e->src == node)
    return TRUE;
  /* A packet for a node that never reached it (blocked on the way) is not
   * shown to it: only its sender and the links it crossed saw it. */
  if (e->dst == node)
    return e->encrypted || ts_timeline_event_readable_by (tl, e, node);
  /* A node on a link sees what crosses it (it is one of the link's ends). */
  if (e->link >= 0)
    {
      const TsTimelineLink *l = ts_timeline_get_link (tl, (guint)e->link);
      if (l->a == node || l->b == node)
        return TRUE;
    }
  /* Not on its wire: the same content reaches it, if at all, on its own
   * leg, which shows it there. */
  return FALSE;
}

gboolean
ts_timeline_event_read_as (const TsTimeline *tl, const TsTimelineEvent *e, gint as)
{
  if (as == TS_RENDER_AS_OBSERVER)
    {
      const TsTimelineLink *l;

      if (e->link < 0 || (guint)e->link >= ts_timeline_get_n_links (tl))
        return FALSE;
      l = ts_timeline_get_link (tl, (guint)e->link);
      return l->reader >= 0 && l->reader < 64
             && (e->readers & (G_GUINT64_CONSTANT (1) << l->reader)) != 0;
    }
  return as < 0 || ts_timeline_event_readable_by (tl, e, as);
}

gboolean
ts_render_find_as (const TsTimeline *tl, const char *name, gint *out_as)
{
  *out_as = g_strcmp0 (name, "observer") == 0 ? TS_RENDER_AS_OBSERVER
                                              : ts_timeline_find_node (tl, name);
  return *out_as != -1;
}

const char *
ts_render_as_name (const TsTimeline *tl, gint as)
{
  if (as == TS_RENDER_AS_OBSERVER)
    return "an on-path observer of every link";
  if (as < 0 || (guint)as >= ts_timeline_get_n_nodes (tl))
    return NULL;
  return ts_timeline_get_node (tl, (guint)as)->name;
}

gint
ts_timeline_event_arrow_end (const TsTimelineEvent *e)
{
  return e->stops_at >= 0 ? e->stops_at : e->dst;
}

static const char *
node_name (const TsTimeline *tl, gint id)
{
  return id >= 0 ? ts_timeline_get_node (tl, (guint)id)->name : "?";
}

char *
ts_timeline_event_dup_summary (const TsTimeline *tl, const TsTimelineEvent *e)
{
  if (e->stops_at < 0)
    return g_strdup (e->summary);
  return g_strdup_printf ("%s, no further than %s", e->summary, node_name (tl, e->stops_at));
}

static char *
redacted_summary (const TsTimelineEvent *e)
{
  return g_strdup_printf ("encrypted, %" G_GUINT64_FORMAT " bytes", e->wire_len);
}

/* --- text -------------------------------------------------------------- */

static void
put_str (char *line, gsize width, gsize at, const char *s)
{
  for (gsize i = 0; s[i] != '\0' && at + i < width; i++)
    line[at + i] = s[i];
}

static const char *
phase_title (TsPhase phase)
{
  switch (phase)
    {
      case TS_PHASE_CONNECT:
        return "connect";
      case TS_PHASE_PROXY:
        return "proxy negotiation";
      case TS_PHASE_TLS_HANDSHAKE:
        return "TLS handshake";
      case TS_PHASE_DATA:
        return "data";
      case TS_PHASE_CLOSE:
        return "close";
      default:
        return NULL;
    }
}

static char *
tunnel_label (const TsTimeline *tl, gint id)
{
  const TsTimelineTunnel *t = ts_timeline_get_tunnel (tl, (guint)id);
  GString *s = g_string_new (NULL);

  g_string_append_printf (s, "tunnel #%d %s: %s", id, ts_tunnel_mode_to_string (t->mode),
                          node_name (tl, t->client));
  for (guint i = 0; i < t->proxies->len; i++)
    {
      gint p = g_array_index (t->proxies, gint, i);
      g_string_append_printf (s, " > %s%s", node_name (tl, p),
                              p == t->intercepting_proxy ? " (intercepts)" : "");
    }
  g_string_append_printf (s, " > %s (%s)", t->server >= 0 ? node_name (tl, t->server) : "?",
                          t->target ? t->target : "?");
  return g_string_free (s, FALSE);
}

/* Columns: the nodes that take part in some event. Declared nodes keep
 * their order; inferred ones go clients first, then nodes that are both
 * (proxies), then servers. Returns column by node id (-1: none; transfer
 * full) and their count. */
gint *
_ts_render_columns (const TsTimeline *tl, GArray *order, guint *out_n_cols)
{
  guint n_nodes = ts_timeline_get_n_nodes (tl), n_cols = 0;
  gint *column = g_new (gint, MAX (n_nodes, 1));
  g_autofree guint8 *role = g_new0 (guint8, MAX (n_nodes, 1)); /* bit 0 client, bit 1 server */

  for (guint i = 0; i < n_nodes; i++)
    column[i] = -1;
  for (guint k = 0; k < order->len; k++)
    {
      const TsTimelineEvent *e = ts_timeline_get_event (tl, g_array_index (order, guint, k));
      if (e->src >= 0)
        column[e->src] = 0;
      if (e->dst >= 0)
        column[e->dst] = 0;
    }
  for (guint i = 0; i < ts_timeline_get_n_conns (tl); i++)
    {
      const TsTimelineConn *c = ts_timeline_get_conn (tl, i);
      if (c->client >= 0)
        role[c->client] |= 1;
      if (c->server >= 0)
        role[c->server] |= 2;
    }
  for (guint i = 0; i < n_nodes; i++)
    if (!ts_timeline_get_node (tl, i)->inferred)
      column[i] = (gint)n_cols++;
  for (guint rank = 0; rank < 4; rank++)
    for (guint i = 0; i < n_nodes; i++)
      {
        static const guint8 rank_of[4] = { 3, 0, 2, 1 }; /* by role bits */
        if (ts_timeline_get_node (tl, i)->inferred && column[i] == 0 && rank_of[role[i]] == rank)
          column[i] = (gint)n_cols++;
      }
  *out_n_cols = n_cols;
  return column;
}

/* Appends @text as lines of at most @width columns, wrapping at spaces with
 * continuation lines indented by @indent. */
static void
append_wrapped (GString *out, const char *text, gsize width, gsize indent)
{
  gsize len = strlen (text), at = 0, room = width;

  while (at < len)
    {
      gsize n = len - at, cut;
      if (n > room)
        {
          cut = room;
          while (cut > room / 2 && text[at + cut] != ' ')
            cut--;
          if (text[at + cut] != ' ')
            cut = room;
          n = cut;
        }
      if (at > 0)
        g_string_append_printf (out, "%*s", (int)indent, "");
      g_string_append_len (out, text + at, (gssize)n);
      g_string_append_c (out, '\n');
      at += n;
      while (at < len && text[at] == ' ')
        at++;
      room = width - indent;
    }
}

/* @settled: the whole timeline is known, so a packet's stops_at is a
 * conclusion; a live line (printed when the packet is seen) does not
 * claim it, since an answer may still show the packet got further. */
static char *
row_summary (const TsTimeline *tl, const Row *row, const TsRenderOptions *o, gboolean settled)
{
  const TsTimelineEvent *e = ts_timeline_get_event (tl, row->index);
  /* Live, a packet not yet shown to reach its destination is read there
   * when it arrives. */
  gboolean readable = ts_timeline_event_read_as (tl, e, o->as_node)
                      || (!settled && e->stops_at >= 0 && e->dst == o->as_node);

  if (!readable)
    return row->count > 1 ? g_strdup_printf ("encrypted, %" G_GUINT64_FORMAT " bytes in %u records",
                                             row->bytes, row->count)
                          : redacted_summary (e);
  if (row->count > 1)
    return g_strdup_printf ("%s x%u, %" G_GUINT64_FORMAT " bytes%s",
                            e->kind[0] == 't' ? "TLS data" : "data", row->count, row->bytes,
                            e->decrypted   ? ", decrypted"
                            : e->encrypted ? ", encrypted"
                                           : "");
  {
    g_autofree char *text = settled ? ts_timeline_event_dup_summary (tl, e) : NULL;

    return g_strdup_printf ("%s%s%s", e->anomaly ? "! " : "",
                            e->layer == TS_LAYER_HTTP && e->decrypted ? "[in TLS] " : "",
                            settled ? text : e->summary);
  }
}

char *
_ts_render_row_summary (const TsTimeline *tl, const Row *row, const TsRenderOptions *o)
{
  return row_summary (tl, row, o, TRUE);
}

static gboolean
is_data (const TsTimelineEvent *e)
{
  return strcmp (e->kind, "tls.application_data") == 0 || strcmp (e->kind, "data") == 0;
}

/* The rows in time order. A stretch of data records with nothing else in
 * between (from any connection) becomes one row per connection, direction,
 * kind and phase, in order of their first record: bulk transfers through a
 * tunnel read as one arrow per leg. */
GArray *
_ts_render_rows (const TsTimeline *tl, GArray *order, const TsRenderOptions *o)
{
  GArray *rows = g_array_new (FALSE, FALSE, sizeof (Row));
  guint k = 0;

  while (k < order->len)
    {
      guint index = g_array_index (order, guint, k);
      const TsTimelineEvent *e = ts_timeline_get_event (tl, index);
      guint first;

      if (!ts_timeline_event_seen_by (tl, e, o->as_node))
        {
          k++;
          continue;
        }
      if (o->no_coalesce || !is_data (e))
        {
          Row r = { index, 1, e->wire_len };
          g_array_append_val (rows, r);
          k++;
          continue;
        }
      first = rows->len;
      for (; k < order->len; k++)
        {
          const TsTimelineEvent *n = ts_timeline_get_event (tl, g_array_index (order, guint, k));
          gboolean grouped = FALSE;
          gboolean readable_n = ts_timeline_event_read_as (tl, n, o->as_node);

          if (!ts_timeline_event_seen_by (tl, n, o->as_node))
            continue;
          if (!is_data (n))
            break;
          for (guint r = first; r < rows->len && !grouped; r++)
            {
              Row *row = &g_array_index (rows, Row, r);
              const TsTimelineEvent *g = ts_timeline_get_event (tl, row->index);
              gboolean readable_g = ts_timeline_event_read_as (tl, g, o->as_node);
              /* Not across phases: a row's phase is its first record's. */
              if (g->conn == n->conn && g->src == n->src && strcmp (g->kind, n->kind) == 0
                  && g->decrypted == n->decrypted && readable_g == readable_n
                  && g->phase == n->phase)
                {
                  row->count++;
                  row->bytes += n->wire_len;
                  grouped = TRUE;
                }
            }
          if (!grouped)
            {
              Row r = { g_array_index (order, guint, k), 1, n->wire_len };
              g_array_append_val (rows, r);
            }
        }
    }
  return rows;
}

char *
ts_timeline_render_text (const TsTimeline *tl, const TsRenderOptions *options)
{
  TsRenderOptions defaults = { 80, -1, NULL, FALSE };
  const TsRenderOptions *o = options ? options : &defaults;
  gsize width = o->width ? MAX (o->width, 60) : 80;
  GString *out = g_string_new (NULL);
  g_autoptr (GArray) order = ts_timeline_dup_time_order (tl);
  g_autofree gint *column = NULL;
  g_autofree char *line = NULL;
  guint n_nodes = ts_timeline_get_n_nodes (tl), n_cols = 0;
  gsize time_w = 11, spacing, lanes_w;
  guint64 t0 = 0;
  TsPhase cur_phase = TS_PHASE_NONE;
  gint cur_tunnel = -2;
  GArray *rows;

  column = _ts_render_columns (tl, order, &n_cols);
  {
    gsize text_w = MAX (30, width * 9 / 20); /* keep room for the summaries */
    spacing = n_cols > 1 && width > time_w + text_w ? (width - time_w - text_w) / (n_cols - 1) : 4;
  }
  spacing = CLAMP (spacing, 4, 18);
  lanes_w = n_cols > 0 ? (n_cols - 1) * spacing + 1 : 1;
  line = g_malloc (width + 1);

  if (o->title)
    append_wrapped (out, o->title, width, 2);
  if (ts_render_as_name (tl, o->as_node) != NULL)
    {
      g_autofree char *as = g_strdup_printf (
          "as seen by %s: what it cannot read is shown as \"encrypted, N bytes\"",
          ts_render_as_name (tl, o->as_node));
      append_wrapped (out, as, width, 2);
    }
  if (ts_timeline_get_capture_lost (tl) > 0)
    {
      /* Said before the ladder: its gaps are the capture's. */
      g_autofree char *lost = g_strdup_printf (
          "the capture lost %" G_GUINT64_FORMAT
          " packets (it did not keep up): gaps below are the capture's, not the network's",
          ts_timeline_get_capture_lost (tl));
      append_wrapped (out, lost, width, 2);
    }
  for (guint i = 0; i < ts_timeline_get_n_tunnels (tl); i++)
    {
      g_autofree char *label = tunnel_label (tl, (gint)i);
      append_wrapped (out, label, width, 4);
    }
  /* Header: node names centred on their lanes, on as many lines as it
   * takes for long names not to overlap. */
  {
    gsize line_end[4] = { 0, 0, 0, 0 };
    char *hl[4];
    guint used = 1;
    for (guint l = 0; l < 4; l++)
      {
        hl[l] = g_malloc (width + 1);
        memset (hl[l], ' ', width);
      }
    put_str (hl[0], width, 0, "time");
    line_end[0] = 5;
    for (guint c = 0; c < n_cols; c++)
      for (guint i = 0; i < n_nodes; i++)
        if (column[i] == (gint)c)
          {
            const char *name = ts_timeline_get_node (tl, i)->name;
            gsize len = MIN (strlen (name), width / 2);
            gsize x = time_w + (gsize)c * spacing;
            gsize start = x >= len / 2 ? x - len / 2 : 0;
            guint l;
            if (start + len > width)
              start = width - len;
            for (l = 0; l < 4; l++)
              if (start > line_end[l] || (line_end[l] == 0 && l > 0))
                break;
            if (l == 4)
              l = 3;
            for (gsize k = 0; k < len; k++)
              hl[l][start + k] = name[k];
            line_end[l] = start + len;
            used = MAX (used, l + 1);
          }
    for (guint l = 0; l < used; l++)
      {
        gsize end = width;
        while (end > 0 && hl[l][end - 1] == ' ')
          end--;
        g_string_append_len (out, hl[l], (gssize)end);
        g_string_append_c (out, '\n');
      }
    for (guint l = 0; l < 4; l++)
      g_free (hl[l]);
  }

  /* Times count from the trace's first record, whoever sees it: the same
   * moment is the same time in every view, in the app and in Wireshark. */
  t0 = ts_timeline_get_origin_ns (tl);
  rows = _ts_render_rows (tl, order, o);
  for (guint k = 0; k < rows->len; k++)
    {
      const Row *row = &g_array_index (rows, Row, k);
      const TsTimelineEvent *e = ts_timeline_get_event (tl, row->index);
      gint to = ts_timeline_event_arrow_end (e);
      g_autofree char *summary = NULL;
      gsize end;

      /* Phase brackets, with the tunnel they belong to. */
      if (e->phase != TS_PHASE_NONE && (e->phase != cur_phase || e->tunnel != cur_tunnel))
        {
          const char *title = phase_title (e->phase);
          g_autofree char *tlabel = NULL;
          g_autofree char *bracket = NULL;
          if (e->tunnel >= 0)
            {
              const TsTimelineTunnel *tt = ts_timeline_get_tunnel (tl, (guint)e->tunnel);
              tlabel = g_strdup_printf ("tunnel #%d %s to %s", e->tunnel,
                                        ts_tunnel_mode_to_string (tt->mode),
                                        tt->target ? tt->target : "?");
            }
          if (cur_phase != TS_PHASE_NONE)
            g_string_append_printf (out, "%*s] %s\n", (int)time_w - 2, "", phase_title (cur_phase));
          bracket = g_strdup_printf ("%*s[ %s%s%s", (int)time_w - 2, "", title, tlabel ? " - " : "",
                                     tlabel ? tlabel : "");
          append_wrapped (out, bracket, width, time_w + 2);
          cur_phase = e->phase;
          cur_tunnel = e->tunnel;
        }
      summary = _ts_render_row_summary (tl, row, o);

      memset (line, ' ', width);
      {
        char tbuf[32];
        g_snprintf (tbuf, sizeof tbuf, "%10.6f", (double)(e->time_ns - MIN (e->time_ns, t0)) / 1e9);
        put_str (line, width, 0, tbuf);
      }
      for (guint i = 0; i < n_nodes; i++)
        if (column[i] >= 0)
          line[time_w + (gsize)column[i] * spacing] = '|';
      if (e->src >= 0 && to >= 0 && e->src != to && column[e->src] >= 0 && column[to] >= 0)
        {
          gsize a = time_w + (gsize)column[e->src] * spacing,
                b = time_w + (gsize)column[to] * spacing;
          gsize lo = MIN (a, b), hi = MAX (a, b);
          for (gsize x = lo + 1; x < hi; x++)
            line[x] = e->anomaly ? '~' : e->encrypted ? '=' : '-';
          /* A packet that went no further ends in a cross. */
          if (b > a)
            line[hi - 1] = e->stops_at >= 0 ? 'x' : '>';
          else
            line[lo + 1] = e->stops_at >= 0 ? 'x' : '<';
        }
      else if (e->src >= 0 && column[e->src] >= 0)
        line[time_w + (gsize)column[e->src] * spacing] = e->anomaly ? '!' : '*';
      else if (e->anomaly)
        line[time_w - 1] = '!';
      end = time_w + lanes_w + 1;
      if (e->src < 0 && e->anomaly)
        {
          /* An anomaly of the trace itself (damage) is on no lane: its
           * summary runs across them from the first, so that the offset it
           * names is seen at 80 columns however many lanes there are. */
          memset (line + time_w + 1, ' ', width - time_w - 1);
          end = time_w + 2;
        }
      if (end < width)
        put_str (line, width, end, summary);
      if (strlen (summary) + end > width && width > end + 3)
        memcpy (line + width - 3, "...", 3);
      end = width;
      while (end > 0 && line[end - 1] == ' ')
        end--;
      g_string_append_len (out, line, (gssize)end);
      g_string_append_c (out, '\n');
    }
  if (cur_phase != TS_PHASE_NONE)
    g_string_append_printf (out, "%*s] %s\n", (int)time_w - 2, "", phase_title (cur_phase));
  g_array_unref (rows);
  return g_string_free (out, FALSE);
}

char *
ts_timeline_render_event_line (const TsTimeline *tl, const TsRenderOptions *options, guint index,
                               guint64 t0)
{
  TsRenderOptions defaults = { 0, -1, NULL, FALSE };
  const TsRenderOptions *o = options ? options : &defaults;
  const TsTimelineEvent *e = ts_timeline_get_event (tl, index);
  Row row = { index, 1, e->wire_len };
  g_autofree char *summary = NULL;
  g_autofree char *line = NULL;
  gsize width = o->width ? MAX (o->width, 60) : 80;

  /* Live: a packet for the node may still prove to reach it. */
  if (e->dst != o->as_node && !ts_timeline_event_seen_by (tl, e, o->as_node))
    return NULL;
  summary = row_summary (tl, &row, o, FALSE);
  line = g_strdup_printf ("%10.6f  %s %s %s  %s%s%s",
                          (double)(e->time_ns - MIN (e->time_ns, t0)) / 1e9, node_name (tl, e->src),
                          e->src == e->dst || e->dst < 0 ? "*"
                          : e->encrypted                 ? "=>"
                                                         : "->",
                          e->src == e->dst || e->dst < 0 ? "" : node_name (tl, e->dst), summary,
                          e->tunnel >= 0 ? "  #" : "", e->tunnel >= 0 ? "" : "");
  if (e->tunnel >= 0)
    {
      char *with = g_strdup_printf ("%s%d", line, e->tunnel);
      g_free (line);
      line = with;
    }
  if (strlen (line) > width)
    {
      line[width - 3] = '.';
      line[width - 2] = '.';
      line[width - 1] = '.';
      line[width] = '\0';
    }
  return g_steal_pointer (&line);
}

char *
ts_timeline_render_tunnel_line (const TsTimeline *tl, guint tunnel)
{
  return tunnel_label (tl, (gint)tunnel);
}

/* --- JSON --------------------------------------------------------------- */

/* Appending to the output without GLib's general insert (GLib 2.74 does not
 * inline g_string_append_len): most pieces are a few bytes. */
static inline void
put_len (GString *s, const char *p, gsize n)
{
  if (G_UNLIKELY (s->len + n >= s->allocated_len))
    {
      g_string_append_len (s, p, (gssize)n);
      return;
    }
  memcpy (s->str + s->len, p, n);
  s->len += n;
  s->str[s->len] = '\0';
}

static inline void
put_c (GString *s, char c)
{
  put_len (s, &c, 1);
}

static inline void
put_cstr (GString *s, const char *p)
{
  put_len (s, p, strlen (p));
}

/* A string literal, its length known at compile time. */
#define PUT_LIT(s, lit) put_len ((s), "" lit, sizeof (lit) - 1)

/* A literal key (", \"name\": ") and a JSON boolean. */
#define PUT_BOOL(s, key, v)                                                                        \
  (PUT_LIT ((s), key), (v) ? PUT_LIT ((s), "true") : PUT_LIT ((s), "false"))

static void
json_str (GString *s, const char *v)
{
  const guchar *run, *p;

  if (v == NULL)
    {
      PUT_LIT (s, "null");
      return;
    }
  put_c (s, '"');
  run = (const guchar *)v;
  for (p = (const guchar *)v; *p; p++)
    {
      if (*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\')
        continue;
      /* Flush the plain run before the byte that needs care. */
      put_len (s, (const char *)run, (gsize)(p - run));
      run = p + 1;
      switch (*p)
        {
          case '"':
            PUT_LIT (s, "\\\"");
            break;
          case '\\':
            PUT_LIT (s, "\\\\");
            break;
          case '\n':
            PUT_LIT (s, "\\n");
            break;
          case '\r':
            PUT_LIT (s, "\\r");
            break;
          case '\t':
            PUT_LIT (s, "\\t");
            break;
          default:
            if (*p >= 0x80)
              {
                /* Keep valid UTF-8, escape stray bytes. */
                gsize n = 1;
                while (n < 4 && p[n] >= 0x80 && (p[n] & 0xc0) == 0x80)
                  n++;
                if (g_utf8_validate ((const gchar *)p, (gssize)n, NULL))
                  {
                    put_len (s, (const gchar *)p, n);
                    p += n - 1;
                    run = p + 1;
                    break;
                  }
              }
            g_string_append_printf (s, "\\u%04x", *p);
        }
    }
  put_len (s, (const char *)run, (gsize)(p - run));
  put_c (s, '"');
}

/* Appends an unsigned number (printf is the slow part of rendering). */
static void
json_u64 (GString *s, guint64 v)
{
  char buf[24];
  gsize i = sizeof buf;

  do
    {
      buf[--i] = (char)('0' + v % 10);
      v /= 10;
    }
  while (v != 0);
  put_len (s, buf + i, (gsize)(sizeof buf - i));
}

static void
json_int (GString *s, gint64 v)
{
  if (v < 0)
    {
      g_string_append_c (s, '-');
      json_u64 (s, (guint64)-v);
    }
  else
    json_u64 (s, (guint64)v);
}

static void
json_node_ref (GString *s, const TsTimeline *tl, gint id)
{
  if (id < 0)
    g_string_append (s, "null");
  else
    json_str (s, ts_timeline_get_node (tl, (guint)id)->name);
}

static void
json_strv (GString *s, GPtrArray *a)
{
  g_string_append_c (s, '[');
  for (guint i = 0; i < a->len; i++)
    {
      if (i)
        g_string_append_c (s, ',');
      json_str (s, a->pdata[i]);
    }
  g_string_append_c (s, ']');
}

/* Flushes @s to @func once it holds more than this. */
#define JSON_FLUSH (1024 * 1024)

static gboolean
flush (GString *s, TsRenderWriteFunc func, gpointer user_data, gboolean force)
{
  gboolean ok = TRUE;

  if (func != NULL && (force || s->len > JSON_FLUSH))
    {
      ok = func (s->str, s->len, user_data);
      g_string_truncate (s, 0);
    }
  return ok;
}

/* One event of the "events" array into @s (nothing when @o->as_node does
 * not see it); *@first: no event was rendered before it. @reader_sets caches
 * the rendered reader lists by set. */
static void
render_event (const TsTimeline *tl, const TsRenderOptions *o, guint index, GString *s,
              GHashTable *reader_sets, GPtrArray *node_json, GPtrArray *link_json, gboolean *first)
{
  const TsTimelineEvent *e = ts_timeline_get_event (tl, index);
  gboolean readable = ts_timeline_event_read_as (tl, e, o->as_node);
  const char *readers;

  if (!ts_timeline_event_seen_by (tl, e, o->as_node))
    return;
  if (*first)
    PUT_LIT (s, "\n    {\"index\": ");
  else
    PUT_LIT (s, ",\n    {\"index\": ");
  *first = FALSE;
  json_u64 (s, index);
  PUT_LIT (s, ", \"time_ns\": ");
  json_u64 (s, e->time_ns);
  PUT_LIT (s, ", \"link\": ");
  put_cstr (s, e->link >= 0 ? (const char *)link_json->pdata[e->link] : "null");
  PUT_LIT (s, ", \"src\": ");
  put_cstr (s, e->src >= 0 ? (const char *)node_json->pdata[e->src] : "null");
  PUT_LIT (s, ", \"dst\": ");
  put_cstr (s, e->dst >= 0 ? (const char *)node_json->pdata[e->dst] : "null");
  PUT_LIT (s, ", \"stops_at\": ");
  put_cstr (s, e->stops_at >= 0 ? (const char *)node_json->pdata[e->stops_at] : "null");
  PUT_LIT (s, ", \"connection\": ");
  json_int (s, e->conn);
  PUT_LIT (s, ", \"stream\": ");
  json_u64 (s, e->stream);
  /* What the viewer cannot read, it cannot tell the kind of either: an
   * encrypted record, whatever was inside. */
  PUT_LIT (s, ", \"layer\": \"");
  put_cstr (s, readable || !e->encrypted ? ts_layer_to_string (e->layer) : "tls");
  PUT_LIT (s, "\", \"kind\": ");
  json_str (s, readable || !e->encrypted ? e->kind : "tls.encrypted");
  PUT_LIT (s, ", \"phase\": \"");
  put_cstr (s, ts_phase_to_string (e->phase));
  PUT_LIT (s, "\", \"summary\": ");
  if (readable)
    json_str (s, e->summary);
  else
    {
      g_autofree char *r = redacted_summary (e);
      json_str (s, r);
    }
  PUT_LIT (s, ", \"readers\": ");
  readers = g_hash_table_lookup (reader_sets, &e->readers);
  if (readers == NULL)
    {
      GString *rs = g_string_new ("[");
      const char *sep = "";
      for (guint r = 0; r < ts_timeline_get_n_readers (tl) && r < 64; r++)
        if (e->readers & (G_GUINT64_CONSTANT (1) << r))
          {
            g_autofree char *name = ts_timeline_dup_reader_name (tl, r);
            g_string_append (rs, sep);
            json_str (rs, name);
            sep = ", ";
          }
      g_string_append_c (rs, ']');
      readers = g_string_free (rs, FALSE);
      g_hash_table_insert (reader_sets, g_memdup2 (&e->readers, sizeof e->readers),
                           (gpointer)readers);
    }
  put_cstr (s, readers);
  PUT_LIT (s, ", \"tunnel\": ");
  if (e->tunnel >= 0)
    json_int (s, e->tunnel);
  else
    PUT_LIT (s, "null");
  if (e->packet != G_MAXUINT32)
    {
      PUT_LIT (s, ", \"bytes\": {\"packet\": ");
      json_u64 (s, e->packet);
      PUT_LIT (s, ", \"offset\": ");
      json_u64 (s, e->byte_offset);
      PUT_LIT (s, ", \"length\": ");
      json_u64 (s, e->byte_len);
      put_c (s, '}');
    }
  else
    PUT_LIT (s, ", \"bytes\": null");
  PUT_LIT (s, ", \"wire_length\": ");
  json_u64 (s, e->wire_len);
  PUT_BOOL (s, ", \"anomaly\": ", e->anomaly);
  PUT_BOOL (s, ", \"encrypted\": ", e->encrypted);
  PUT_BOOL (s, ", \"decrypted\": ", e->decrypted);
  PUT_BOOL (s, ", \"readable\": ", readable);
  if (readable && e->layer == TS_LAYER_HTTP && (e->http_method || e->http_status))
    {
      PUT_LIT (s, ", \"http\": {\"method\": ");
      json_str (s, e->http_method);
      PUT_LIT (s, ", \"target\": ");
      json_str (s, e->http_target);
      PUT_LIT (s, ", \"status\": ");
      if (e->http_status)
        json_u64 (s, e->http_status);
      else
        PUT_LIT (s, "null");
      put_c (s, '}');
    }
  if (e->layer == TS_LAYER_TLS && e->tls_handshake_type >= 0 && (readable || !e->encrypted))
    {
      const char *v = e->tls_version ? ts_tls_version_to_string (e->tls_version) : NULL;
      const char *cs = e->tls_cipher ? ts_tls_cipher_suite_to_string (e->tls_cipher) : NULL;
      PUT_LIT (s, ", \"tls\": {\"handshake_type\": ");
      json_int (s, e->tls_handshake_type);
      PUT_LIT (s, ", \"handshake\": ");
      json_str (s, ts_tls_handshake_type_to_string ((guint)e->tls_handshake_type));
      PUT_LIT (s, ", \"sni\": ");
      json_str (s, e->tls_sni);
      PUT_LIT (s, ", \"alpn\": ");
      json_str (s, e->tls_alpn);
      PUT_LIT (s, ", \"version\": ");
      json_str (s, v);
      PUT_LIT (s, ", \"cipher\": ");
      json_str (s, cs);
      PUT_LIT (s, ", \"cert_subject\": ");
      json_str (s, e->tls_cert_subject);
      PUT_LIT (s, ", \"cert_issuer\": ");
      json_str (s, e->tls_cert_issuer);
      put_c (s, '}');
    }
  PUT_LIT (s, ", \"detail\": [");
  if (readable)
    {
      const TsTimelineDetail *d = ts_timeline_get_detail (tl, e->detail_first);
      for (guint i = 0; d != NULL && i < e->n_detail; i++)
        {
          if (i)
            PUT_LIT (s, ", {\"depth\": ");
          else
            PUT_LIT (s, "{\"depth\": ");
          json_u64 (s, d[i].depth);
          PUT_LIT (s, ", \"text\": ");
          json_str (s, d[i].text);
          put_c (s, '}');
        }
    }
  PUT_LIT (s, "]}");
}

/* Timelines with more events than this render their second half in
 * another thread (when streamed). */
#define RENDER_SPLIT_EVENTS 20000

typedef struct
{
  const TsTimeline *tl;
  const TsRenderOptions *o;
  GArray *order;
  guint from; /* renders order[from..] */
  GPtrArray *node_json, *link_json;
  GAsyncQueue *pieces; /* GString *, in order, then &half_done */
} HalfJob;

static GString half_done;

static gpointer
render_half (gpointer data)
{
  HalfJob *job = data;
  g_autoptr (GHashTable) reader_sets
      = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  GString *s = g_string_sized_new (JSON_FLUSH + 64 * 1024);
  gboolean first = FALSE;

  for (guint k = job->from; k < job->order->len; k++)
    {
      render_event (job->tl, job->o, g_array_index (job->order, guint, k), s, reader_sets,
                    job->node_json, job->link_json, &first);
      if (s->len > JSON_FLUSH)
        {
          g_async_queue_push (job->pieces, s);
          s = g_string_sized_new (JSON_FLUSH + 64 * 1024);
        }
    }
  g_async_queue_push (job->pieces, s);
  g_async_queue_push (job->pieces, &half_done);
  return NULL;
}

/* Renders into @s, handing full buffers to @func (NULL: keep all in @s). */
static gboolean
render_json (const TsTimeline *tl, const TsRenderOptions *options, GString *s,
             TsRenderWriteFunc func, gpointer user_data)
{
  TsRenderOptions defaults = { 0, -1, NULL, FALSE };
  const TsRenderOptions *o = options ? options : &defaults;
  g_autoptr (GArray) order = ts_timeline_dup_time_order (tl);
  gboolean first = TRUE, listed;
  /* Events share few reader sets: render each set once. */
  g_autoptr (GHashTable) reader_sets
      = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  g_autoptr (GPtrArray) node_json = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) link_json = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < ts_timeline_get_n_nodes (tl); i++)
    {
      GString *n = g_string_new (NULL);
      json_str (n, ts_timeline_get_node (tl, i)->name);
      g_ptr_array_add (node_json, g_string_free (n, FALSE));
    }
  for (guint i = 0; i < ts_timeline_get_n_links (tl); i++)
    {
      GString *n = g_string_new (NULL);
      json_str (n, ts_timeline_get_link (tl, i)->name);
      g_ptr_array_add (link_json, g_string_free (n, FALSE));
    }

  g_string_append (s,
                   "{\n  \"schema\": \"tunnelscope-timeline\",\n  \"version\": 1,\n  \"title\": ");
  json_str (s, o->title);
  g_string_append (s, ",\n  \"as\": ");
  if (o->as_node == TS_RENDER_AS_OBSERVER)
    json_str (s, "observer");
  else
    json_node_ref (s, tl, o->as_node);
  g_string_append (s, ",\n  \"nodes\": [");
  listed = FALSE;
  for (guint i = 0; i < ts_timeline_get_n_nodes (tl); i++)
    {
      const TsTimelineNode *n = ts_timeline_get_node (tl, i);
      if (n->merged_into >= 0)
        continue;
      g_string_append_printf (s, "%s\n    {\"id\": %u, \"name\": ", listed ? "," : "", i);
      listed = TRUE;
      json_str (s, n->name);
      g_string_append (s, ", \"role\": ");
      json_str (s, n->role);
      g_string_append (s, ", \"names\": ");
      json_strv (s, n->names);
      g_string_append (s, ", \"addresses\": ");
      json_strv (s, n->addresses);
      g_string_append_printf (s, ", \"inferred\": %s}", n->inferred ? "true" : "false");
    }
  g_string_append (s, "\n  ],\n  \"links\": [");
  for (guint i = 0; i < ts_timeline_get_n_links (tl); i++)
    {
      const TsTimelineLink *l = ts_timeline_get_link (tl, i);
      g_string_append_printf (s, "%s\n    {\"id\": %u, \"name\": ", i ? "," : "", i);
      json_str (s, l->name);
      g_string_append (s, ", \"ends\": [");
      json_node_ref (s, tl, l->a);
      g_string_append (s, ", ");
      json_node_ref (s, tl, l->b);
      g_string_append (s, "]}");
    }
  g_string_append (s, "\n  ],\n  \"readers\": [");
  listed = FALSE;
  for (guint i = 0; i < ts_timeline_get_n_readers (tl); i++)
    {
      g_autofree char *name = NULL;
      const TsTimelineReader *r = ts_timeline_get_reader (tl, i);
      if (r->kind == TS_READER_NODE && ts_timeline_get_node (tl, (guint)r->id)->merged_into >= 0)
        continue;
      name = ts_timeline_dup_reader_name (tl, i);
      g_string_append_printf (
          s, "%s\n    {\"id\": %u, \"kind\": \"%s\", \"name\": ", listed ? "," : "", i,
          r->kind == TS_READER_NODE ? "node" : "observer");
      listed = TRUE;
      json_str (s, name);
      g_string_append_c (s, '}');
    }
  g_string_append (s, "\n  ],\n  \"connections\": [");
  for (guint i = 0; i < ts_timeline_get_n_conns (tl); i++)
    {
      const TsTimelineConn *c = ts_timeline_get_conn (tl, i);
      g_string_append_printf (s, "%s\n    {\"id\": %u, \"link\": ", i ? "," : "", i);
      if (c->link >= 0)
        json_str (s, ts_timeline_get_link (tl, (guint)c->link)->name);
      else
        g_string_append (s, "null");
      g_string_append (s, ", \"client\": ");
      json_node_ref (s, tl, c->client);
      g_string_append (s, ", \"server\": ");
      json_node_ref (s, tl, c->server);
      g_string_append (s, ", \"client_address\": ");
      json_str (s, c->client_addr);
      g_string_append (s, ", \"server_address\": ");
      json_str (s, c->server_addr);
      g_string_append (s, ", \"protocol\": ");
      json_str (s, c->protocol);
      if (c->tunnel >= 0)
        g_string_append_printf (s, ", \"tunnel\": %d, \"leg\": %d", c->tunnel, c->leg);
      else
        g_string_append (s, ", \"tunnel\": null, \"leg\": null");
      if (c->upstream >= 0)
        g_string_append_printf (s, ", \"upstream\": %d", c->upstream);
      else
        g_string_append (s, ", \"upstream\": null");
      g_string_append_printf (
          s,
          ", \"open_ns\": %" G_GUINT64_FORMAT ", \"close_ns\": %" G_GUINT64_FORMAT
          ", \"bytes_up\": %" G_GUINT64_FORMAT ", \"bytes_down\": %" G_GUINT64_FORMAT "}",
          c->open_ns, c->close_ns, c->bytes[0], c->bytes[1]);
    }
  g_string_append (s, "\n  ],\n  \"tunnels\": [");
  for (guint i = 0; i < ts_timeline_get_n_tunnels (tl); i++)
    {
      const TsTimelineTunnel *t = ts_timeline_get_tunnel (tl, i);
      g_string_append_printf (s, "%s\n    {\"id\": %u, \"client\": ", i ? "," : "", i);
      json_node_ref (s, tl, t->client);
      g_string_append (s, ", \"proxies\": [");
      for (guint k = 0; k < t->proxies->len; k++)
        {
          if (k)
            g_string_append (s, ", ");
          json_node_ref (s, tl, g_array_index (t->proxies, gint, k));
        }
      g_string_append (s, "], \"server\": ");
      json_node_ref (s, tl, t->server);
      g_string_append (s, ", \"target\": ");
      json_str (s, t->target);
      g_string_append (s, ", \"mode\": ");
      json_str (s, ts_tunnel_mode_to_string (t->mode));
      g_string_append (s, ", \"intercepting_proxy\": ");
      json_node_ref (s, tl, t->intercepting_proxy);
      g_string_append (s, ", \"connections\": [");
      for (guint k = 0; k < t->conns->len; k++)
        g_string_append_printf (s, "%s%u", k ? ", " : "", g_array_index (t->conns, guint, k));
      g_string_append (s, "]}");
    }
  g_string_append (s, "\n  ],\n  \"events\": [");
  if (func != NULL && order->len >= RENDER_SPLIT_EVENTS && g_get_num_processors () > 1)
    {
      /* A large timeline: the second half of the events is rendered by
       * another thread meanwhile, into pieces written after ours. */
      HalfJob job = { tl, o, order, order->len / 2, node_json, link_json, NULL };
      GThread *thread;
      gboolean ok = TRUE, strip = FALSE;
      GString *piece;

      job.pieces = g_async_queue_new ();
      thread = g_thread_new ("ts-render", render_half, &job);
      for (guint k = 0; k < job.from; k++)
        {
          render_event (tl, o, g_array_index (order, guint, k), s, reader_sets, node_json,
                        link_json, &first);
          if (ok && !flush (s, func, user_data, FALSE))
            ok = FALSE;
        }
      /* The other half started as if an event came before it. */
      strip = first;
      while ((piece = g_async_queue_pop (job.pieces)) != &half_done)
        {
          const char *p = piece->str;
          gsize n = piece->len;

          if (strip && n > 0)
            {
              g_assert (p[0] == ',');
              p++, n--;
              strip = FALSE;
            }
          put_len (s, p, n);
          g_string_free (piece, TRUE);
          if (ok && !flush (s, func, user_data, FALSE))
            ok = FALSE;
        }
      g_thread_join (thread);
      g_async_queue_unref (job.pieces);
      if (!ok)
        return FALSE;
    }
  else
    for (guint k = 0; k < order->len; k++)
      {
        render_event (tl, o, g_array_index (order, guint, k), s, reader_sets, node_json, link_json,
                      &first);
        if (!flush (s, func, user_data, FALSE))
          return FALSE;
      }
  g_string_append (s, "\n  ]\n}\n");
  return flush (s, func, user_data, TRUE);
}

char *
ts_timeline_render_json (const TsTimeline *tl, const TsRenderOptions *options)
{
  GString *s = g_string_new (NULL);

  render_json (tl, options, s, NULL, NULL);
  return g_string_free (s, FALSE);
}

gboolean
ts_timeline_render_json_stream (const TsTimeline *tl, const TsRenderOptions *options,
                                TsRenderWriteFunc func, gpointer user_data)
{
  g_autoptr (GString) s = g_string_sized_new (JSON_FLUSH + 64 * 1024);

  g_return_val_if_fail (func != NULL, FALSE);
  return render_json (tl, options, s, func, user_data);
}
