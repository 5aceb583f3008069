/* ts-decrypt-ahead.h: opens TLS records ahead of the analyzer, in a second
 * thread reading a trace held whole in memory (private to the analyzer).
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The analyzer reads a trace block by block and its TLS sessions open every
 * protected record in turn: on bulk data that AES is as much work as all
 * the rest. When the whole trace is in memory (a mapped file), a helper
 * thread walks the blocks ahead of the analyzer, follows the TCP segments
 * of the TLS directions the analyzer named (ts_decrypt_ahead_restart),
 * frames their records and opens them with copies of the same keys. A TLS
 * session then takes the result (ts_decrypt_ahead_open, its TsTlsAhead hook)
 * instead of opening the record itself — only for the same keys, sequence
 * number and record bytes, so it is the result the session would have
 * computed: the timeline is the same with or without the helper, however
 * the threads are scheduled.
 *
 * Two kinds of work are saved on the way. A proxy relaying a tunnel blind
 * puts the same records on both of its links: a record with the same keys,
 * sequence number and bytes as one opened lately (its twin) takes that
 * result, in the helper and in the analyzer's thread alike. And a record
 * cut across segments is opened from its pieces where they lie in the
 * mapped trace (AEAD suites), not from a copy; the TLS session copies such
 * a record only when it needs its bytes (TsTlsAhead.stable).
 *
 * The helper only guesses, and every guess is checked: it follows a
 * direction's segments in order (holding up to HELD_SEGMENTS that come
 * after a hole, for the segment that fills it: veth reorders, TCP
 * retransmits), and a direction it loses (a hole not filled in time, a cut
 * frame, new keys) misses until the analyzer restarts it from where the
 * analyzer stands.
 *
 * Threads: everything but the helper's own loop runs in the analyzer's
 * thread, which never waits for the helper: a record not ready when the
 * analyzer gets there is opened by the analyzer (the helper leaves alone
 * those near the analyzer's position, and stays at most
 * TS_DECRYPT_AHEAD_WINDOW bytes of trace ahead). With two cores, the AES
 * is then shared between the two threads.
 */
#pragma once

#include <glib.h>

#include "ts-packet.h"
#include "ts-tls-cipher.h"

G_BEGIN_DECLS

/* Cap: bytes of trace the helper reads ahead of the analyzer. */
#define TS_DECRYPT_AHEAD_WINDOW (4 * 1024 * 1024)
/* Cap: plaintext held for the analyzer, with the pieces of records cut
 * across segments (or their copies, for CBC suites), bytes. */
#define TS_DECRYPT_AHEAD_ARENA (8 * 1024 * 1024)
/* Cap: records opened ahead and not yet taken. */
#define TS_DECRYPT_AHEAD_RECORDS 8192

/* One TLS direction to follow: the TCP segments from @src to @dst on @link,
 * whose next byte is @next_seq. @partial (@partial_len bytes, borrowed) is
 * the start of a record already read; the record after it (or at @next_seq
 * when there is none) has sequence number @rec_seq under @cipher
 * (borrowed: copied). */
typedef struct
{
  gint link;      /* or, on a capture on "any", ts_decrypt_ahead_ifindex_link () */
  gint32 ifindex; /* there, the SLL2 interface index of its packets; else -1 */
  TsAddress src, dst;
  guint16 src_port, dst_port;
  guint32 next_seq;
  const guint8 *partial;
  gsize partial_len;
  guint64 rec_seq;
  const TsTlsCipher *cipher;
  gboolean all_protected; /* TLS 1.2: every record; TLS 1.3: application_data only */
} TsDecryptAheadFlow;

typedef struct _TsDecryptAhead TsDecryptAhead;

/* In the links given to ts_decrypt_ahead_restart: an interface whose
 * packets each carry the index of their own interface (Linux cooked v2, a
 * capture on "any"), a link per index. Its flows name the link
 * ts_decrypt_ahead_ifindex_link (interface) and the index. */
#define TS_DECRYPT_AHEAD_PER_IFINDEX (-2)

static inline gint
ts_decrypt_ahead_ifindex_link (guint iface)
{
  return -3 - (gint)iface;
}

/* A helper for @trace (referenced), whose first byte is at stream offset
 * @base, and its thread (idle until the first restart). Transfer full. */
TsDecryptAhead *ts_decrypt_ahead_new (GBytes *trace, guint64 base);
/* Stops and joins the thread. */
void ts_decrypt_ahead_free (TsDecryptAhead *self);

/* The analyzer is at the block starting at stream offset @offset: results
 * of earlier blocks are dropped. */
void ts_decrypt_ahead_set_position (TsDecryptAhead *self, guint64 offset);

/* From the block at stream offset @offset on (a block boundary), follow
 * exactly @flows (@n_flows) and nothing else. @linktypes and @links
 * (@n_ifaces each) map the interface ids of this section to link types and
 * the analyzer's links (-1: none). Earlier results are dropped. */
void ts_decrypt_ahead_restart (TsDecryptAhead *self, guint64 offset,
                               const TsDecryptAheadFlow *flows, guint n_flows,
                               const guint *linktypes, const gint *links, guint n_ifaces);

/* The TsTlsAhead open function (see ts-tls-session.h), @user_data the
 * helper. Waits for the helper when it has not read the current block. */
gssize ts_decrypt_ahead_open (gpointer user_data, guint64 serial, guint64 seq, const guint8 *rec,
                              gsize rec_len, const TsTlsPiece *src, guint n_src,
                              const guint8 **out_plain, gsize *out_inner_len,
                              guint8 *out_inner_type);

/* The TsTlsAhead stable function: whether @len bytes at @data lie in the
 * trace the helper reads (readable while it lives). */
gboolean ts_decrypt_ahead_stable (gpointer user_data, const guint8 *data, gsize len);

/* The TsTlsAhead open_here function: opens with @cipher a record that
 * ts_decrypt_ahead_open () did not find, or takes the result of the same
 * record (keys, sequence number, bytes) opened here lately for another
 * direction: a proxy relaying a tunnel blind puts each record on two
 * links. *@out_plain is valid until the next call. */
gssize ts_decrypt_ahead_open_here (gpointer user_data, const TsTlsCipher *cipher, guint64 seq,
                                   const guint8 *rec, gsize rec_len, const TsTlsPiece *src,
                                   guint n_src, const guint8 **out_plain);

/* What the helper did, for tests and benchmarks: records it opened (of
 * them, in pieces where they lie, and from a twin on another link), and
 * in the analyzer's thread, records found ahead, not found, opened here,
 * and taken from a twin opened here. */
typedef struct
{
  gsize opened, pieces, twins_ahead;
  gsize hits, misses, opened_here, twins_here;
} TsDecryptAheadCounts;

/* Tests: the helper races the analyzer for every record (by default it
 * leaves those in the nearest 256 KiB of trace to the analyzer) and holds
 * little (an arena of a few records, so that it wraps and waits for room
 * all the time). Call before the first restart. */
void ts_decrypt_ahead_set_tight (TsDecryptAhead *self);

/* Writes the counts to @out when @self is freed. */
void ts_decrypt_ahead_set_counts (TsDecryptAhead *self, TsDecryptAheadCounts *out);

/* TRUE once when a record was not found ahead since the last call: the
 * analyzer may restart the helper from where it stands. */
gboolean ts_decrypt_ahead_take_miss (TsDecryptAhead *self);

/* How many directions the helper stopped following so far (a hole, a cut
 * frame, a header it could not read): one more says a restart is worth it. */
guint ts_decrypt_ahead_get_lost (TsDecryptAhead *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TsDecryptAhead, ts_decrypt_ahead_free)

G_END_DECLS
