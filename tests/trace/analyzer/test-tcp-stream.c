/* test-tcp-stream.c: TCP reassembly with reordering, retransmission,
 * overlap, gaps and sequence wrap.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "ts-tcp-stream.h"

typedef struct
{
  GString *bytes; /* delivered bytes, '#' for each lost byte */
  guint n_gaps;
  guint64 expect_offset;
} Sink;

static void
deliver (gpointer user_data, guint64 offset, const guint8 *data, gsize len, guint32 packet,
         guint32 packet_offset)
{
  Sink *sink = user_data;

  g_assert_cmpuint (offset, ==, sink->expect_offset);
  sink->expect_offset += len;
  if (data == NULL)
    {
      sink->n_gaps++;
      for (gsize i = 0; i < len; i++)
        g_string_append_c (sink->bytes, '#');
    }
  else
    g_string_append_len (sink->bytes, (const char *)data, (gssize)len);
}

static const char text[] = "The quick brown fox jumps over the lazy dog, again and again.";

static void
add (TsTcpStream *s, guint32 isn, gsize from, gsize to, guint32 packet)
{
  ts_tcp_stream_add (s, isn + 1 + (guint32)from, (const guint8 *)text + from, to - from, FALSE,
                     packet, 54);
}

static void
test_in_order (void)
{
  Sink sink = { g_string_new (NULL) };
  g_autoptr (TsTcpStream) s = ts_tcp_stream_new (deliver, &sink);
  guint32 packet, off;

  ts_tcp_stream_set_syn (s, 100);
  add (s, 100, 0, 10, 1);
  add (s, 100, 10, 30, 2);
  add (s, 100, 30, strlen (text), 3);
  g_assert_cmpstr (sink.bytes->str, ==, text);
  g_assert_true (ts_tcp_stream_lookup (s, 15, &packet, &off));
  g_assert_cmpuint (packet, ==, 2);
  g_assert_cmpuint (off, ==, 54 + 5);
  g_assert_false (ts_tcp_stream_lookup (s, 1000, &packet, &off));
  g_string_free (sink.bytes, TRUE);
}

static void
test_reorder_retransmit_overlap (void)
{
  Sink sink = { g_string_new (NULL) };
  g_autoptr (TsTcpStream) s = ts_tcp_stream_new (deliver, &sink);

  ts_tcp_stream_set_syn (s, 5000);
  add (s, 5000, 20, 30, 3); /* out of order */
  add (s, 5000, 40, 50, 5);
  add (s, 5000, 25, 45, 6); /* overlaps both held segments */
  g_assert_cmpuint (sink.bytes->len, ==, 0);
  g_assert_cmpuint (ts_tcp_stream_get_pending (s), ==, 30);
  add (s, 5000, 0, 10, 1);
  add (s, 5000, 0, 10, 7); /* retransmission of delivered bytes */
  add (s, 5000, 5, 22, 8); /* fills the hole, overlaps the first held one */
  g_assert_cmpuint (sink.bytes->len, ==, 50);
  add (s, 5000, 50, strlen (text), 9);
  g_assert_cmpstr (sink.bytes->str, ==, text);
  g_assert_cmpuint (ts_tcp_stream_get_pending (s), ==, 0);
  g_assert_cmpuint (ts_tcp_stream_get_retransmitted (s), >, 0);
  g_assert_cmpuint (ts_tcp_stream_get_conflicting (s), ==, 0);
  g_assert_cmpuint (ts_tcp_stream_get_lost (s), ==, 0);
  g_assert_cmpuint (sink.n_gaps, ==, 0);
  g_string_free (sink.bytes, TRUE);
}

static void
test_conflict (void)
{
  Sink sink = { g_string_new (NULL) };
  g_autoptr (TsTcpStream) s = ts_tcp_stream_new (deliver, &sink);

  ts_tcp_stream_set_syn (s, 0);
  ts_tcp_stream_add (s, 11, (const guint8 *)"AAAA", 4, FALSE, 1, 0);
  ts_tcp_stream_add (s, 11, (const guint8 *)"AABA", 4, FALSE, 2, 0);
  ts_tcp_stream_add (s, 1, (const guint8 *)"0123456789", 10, FALSE, 3, 0);
  g_assert_cmpstr (sink.bytes->str, ==, "0123456789AAAA");
  g_assert_cmpuint (ts_tcp_stream_get_conflicting (s), ==, 1);
  g_string_free (sink.bytes, TRUE);
}

static void
test_gap_on_flush (void)
{
  Sink sink = { g_string_new (NULL) };
  g_autoptr (TsTcpStream) s = ts_tcp_stream_new (deliver, &sink);

  ts_tcp_stream_set_syn (s, 1);
  add (s, 1, 0, 10, 1);
  add (s, 1, 15, 20, 2);
  ts_tcp_stream_add (s, 2 + 25, (const guint8 *)text + 25, 5, TRUE, 3, 0);
  g_assert_cmpuint (sink.bytes->len, ==, 10);
  g_assert_false (ts_tcp_stream_is_finished (s));
  ts_tcp_stream_flush (s);
  g_assert_cmpuint (sink.n_gaps, ==, 2);
  g_assert_cmpuint (ts_tcp_stream_get_lost (s), ==, 10);
  g_assert_true (ts_tcp_stream_is_finished (s));
  g_assert_cmpstr (sink.bytes->str, ==, "The quick ##### fox ##### over");
  g_assert_false (ts_tcp_stream_lookup (s, 12, NULL, NULL));
  g_string_free (sink.bytes, TRUE);
}

static void
test_cap (void)
{
  Sink sink = { g_string_new (NULL) };
  g_autoptr (TsTcpStream) s = ts_tcp_stream_new (deliver, &sink);
  gsize chunk = 64 * 1024;
  g_autofree guint8 *buf = g_malloc0 (chunk);
  guint64 total = 0;

  ts_tcp_stream_set_syn (s, 0xfffff000u); /* also wraps the sequence space */
  /* Byte 0..chunk is lost; keep sending after it until the cap gives up. */
  for (guint i = 1; i <= TS_TCP_STREAM_MAX_PENDING / chunk + 4; i++)
    {
      ts_tcp_stream_add (s, 0xfffff001u + (guint32)(i * chunk), buf, chunk, FALSE, i, 0);
      total = (i + 1) * chunk;
    }
  g_assert_cmpuint (ts_tcp_stream_get_pending (s), <=, TS_TCP_STREAM_MAX_PENDING);
  g_assert_cmpuint (sink.n_gaps, ==, 1);
  g_assert_cmpuint (ts_tcp_stream_get_lost (s), ==, chunk);
  ts_tcp_stream_flush (s);
  g_assert_cmpuint (ts_tcp_stream_get_delivered (s), ==, total);
  g_string_free (sink.bytes, TRUE);
}

static void
test_mid_stream (void)
{
  Sink sink = { g_string_new (NULL) };
  g_autoptr (TsTcpStream) s = ts_tcp_stream_new (deliver, &sink);

  ts_tcp_stream_add (s, 777, NULL, 0, FALSE, 0, 0); /* bare ACK: ignored */
  ts_tcp_stream_add (s, 9000, (const guint8 *)"abc", 3, FALSE, 1, 0);
  ts_tcp_stream_add (s, 9003, (const guint8 *)"def", 3, FALSE, 2, 0);
  g_assert_true (ts_tcp_stream_get_mid_stream (s));
  g_assert_cmpstr (sink.bytes->str, ==, "abcdef");
  g_string_free (sink.bytes, TRUE);
}

/* Bytes cut by the snap length: a gap in their turn, even when they come
 * before held data. */
static void
test_lost (void)
{
  Sink sink = { g_string_new (NULL) };
  g_autoptr (TsTcpStream) s = ts_tcp_stream_new (deliver, &sink);

  ts_tcp_stream_set_syn (s, 99);
  ts_tcp_stream_add (s, 100, (const guint8 *)"abc", 3, FALSE, 1, 0);
  ts_tcp_stream_add_lost (s, 103, 4, 1);                             /* at the edge: a gap now */
  ts_tcp_stream_add (s, 112, (const guint8 *)"xyz", 3, FALSE, 3, 0); /* held */
  ts_tcp_stream_add (s, 107, (const guint8 *)"de", 2, FALSE, 2, 0);
  ts_tcp_stream_add_lost (s, 109, 3, 2); /* fills the hole as a gap */
  g_assert_cmpstr (sink.bytes->str, ==, "abc####de###xyz");
  g_assert_cmpuint (sink.n_gaps, ==, 2);
  g_assert_cmpuint (ts_tcp_stream_get_lost (s), ==, 7);
  g_assert_cmpuint (ts_tcp_stream_get_pending (s), ==, 0);
  g_string_free (sink.bytes, TRUE);
}

/* A hole the peer acknowledged past becomes a gap before the end. */
static void
test_acked_hole (void)
{
  Sink sink = { g_string_new (NULL) };
  g_autoptr (TsTcpStream) s = ts_tcp_stream_new (deliver, &sink);

  ts_tcp_stream_set_syn (s, 0);
  ts_tcp_stream_add (s, 1, (const guint8 *)"abc", 3, FALSE, 1, 0);
  ts_tcp_stream_add (s, 7, (const guint8 *)"ghi", 3, FALSE, 3, 0); /* 4..6 lost */
  ts_tcp_stream_acked (s, 4);                                      /* not past the hole */
  ts_tcp_stream_acked (s, 10);
  ts_tcp_stream_acked (s, 10);
  g_assert_cmpstr (sink.bytes->str, ==, "abc");
  ts_tcp_stream_acked (s, 10);
  g_assert_cmpstr (sink.bytes->str, ==, "abc###ghi");
  g_assert_cmpuint (ts_tcp_stream_get_lost (s), ==, 3);
  g_string_free (sink.bytes, TRUE);
}

/* Random permutations with duplicates always reassemble the text. */
static void
test_random (void)
{
  gsize n = strlen (text);

  for (guint seed = 0; seed < 500; seed++)
    {
      g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
      Sink sink = { g_string_new (NULL) };
      g_autoptr (TsTcpStream) s = ts_tcp_stream_new (deliver, &sink);
      guint32 isn = g_rand_int (rand);

      ts_tcp_stream_set_syn (s, isn);
      for (guint k = 0; k < 40 || sink.bytes->len < n; k++)
        {
          gsize from = (gsize)g_rand_int_range (rand, 0, (gint32)n);
          gsize step = (gsize)g_rand_int_range (rand, 1, 12); /* not inside MIN: evaluated once */
          gsize to = MIN (n, from + step);
          if (k >= 40)
            from = sink.bytes->len, to = MIN (n, from + 7);
          add (s, isn, from, to, k);
        }
      g_assert_cmpstr (sink.bytes->str, ==, text);
      g_assert_cmpuint (ts_tcp_stream_get_pending (s), ==, 0);
      g_string_free (sink.bytes, TRUE);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ts/trace/tcp/in-order", test_in_order);
  g_test_add_func ("/ts/trace/tcp/reorder-retransmit-overlap", test_reorder_retransmit_overlap);
  g_test_add_func ("/ts/trace/tcp/conflict", test_conflict);
  g_test_add_func ("/ts/trace/tcp/gap-on-flush", test_gap_on_flush);
  g_test_add_func ("/ts/trace/tcp/cap", test_cap);
  g_test_add_func ("/ts/trace/tcp/mid-stream", test_mid_stream);
  g_test_add_func ("/ts/trace/tcp/lost", test_lost);
  g_test_add_func ("/ts/trace/tcp/acked-hole", test_acked_hole);
  g_test_add_func ("/ts/trace/tcp/random", test_random);
  return g_test_run ();
}
