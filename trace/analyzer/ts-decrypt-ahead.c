/* ts-decrypt-ahead.c: opens TLS records ahead of the analyzer, in a second thread.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "ts-decrypt-ahead.h"

#include <string.h>

#include <openssl/crypto.h>

#include "ts-tls-session.h"
#include "ts-prefetch.h"
#include "ts-trace-reader.h"

/* pcapng (draft-ietf-opsawg-pcapng §3.1) general block structure:
 *   block type u32 | block total length u32 | body ... | block total length u32
 * Enhanced Packet Block body (§4.3):
 *   interface id u32 | timestamp u32 u32 | captured length u32 | original length u32 | data */
#define BLOCK_SHB 0x0a0d0d0au
#define BLOCK_EPB 0x00000006u

/* RFC 8446 §5.1: type, legacy_record_version, length; fragments up to
 * 2^14 + 2048 bytes (RFC 5246 §6.2.3). */
#define RECORD_HEADER 5
#define FRAGMENT_MAX (16384 + 2048)
#define RECORD_MAX (RECORD_HEADER + FRAGMENT_MAX)

/* The helper opens no record less than this far (bytes of trace) ahead of
 * the analyzer's published position: the analyzer would reach it before it
 * is ready, and open it itself. */
#define TS_DECRYPT_AHEAD_MARGIN (256 * 1024)

/* The analyzer publishes its position in steps of this many bytes (every
 * publication costs both cores a cache line). */
#define POSITION_STEP (64 * 1024)

/* Arena bytes one record may need: a copy of a record cut across segments
 * (or its pieces), its plaintext, and what a wrap at the end of the arena
 * skips. */
#define ARENA_NEED (3 * (gsize)RECORD_MAX)

/* Records opened lately, by keys and sequence number: a proxy that relays a
 * tunnel blind puts the same records on both of its links, and a record
 * seen again needs no second decryption. */
#define MEMO_SLOTS 256

/* Records that refer to the plaintext of an earlier one (its twin) instead
 * of a copy, held at once at most: each keeps the arena under its twin's
 * plaintext from reuse until it is dropped. As many as records can be held:
 * a relayed tunnel makes every other record a twin, and the helper runs up
 * to TS_DECRYPT_AHEAD_WINDOW ahead (with 64, twins went undetected there:
 * a sixth of a relayed tunnel's records were opened twice). */
#define PINS TS_DECRYPT_AHEAD_RECORDS

/* A record opened ahead. */
typedef struct
{
  gsize gen;           /* the restart it belongs to */
  gsize block;         /* offset in the trace of the block that completed it */
  guint64 serial, seq; /* the keys and sequence number it was opened with */
  const guint8 *rec;   /* the record (in the trace, or copied into the arena), */
  gsize rec_len;
  const TsTlsPiece *pieces; /* or, when rec is NULL, its pieces in the trace (in the arena) */
  guint n_pieces;
  const guint8 *plain;
  gssize n;          /* _ts_tls_cipher_open's result */
  gsize inner_len;   /* n without trailing zeros (TLS 1.3 TLSInnerPlaintext) */
  guint8 inner_type; /* the byte before them */
  gsize arena_end;   /* arena position past this record's bytes */
  gsize arena_pin;   /* arena position of the first byte it refers to */
} Entry;

/* Cap: segments of a direction held for the hole before them. */
#define HELD_SEGMENTS 256

/* A direction followed by the helper (helper thread only, once handed over). */
typedef struct
{
  gint link;
  gint32 ifindex; /* see TsDecryptAheadFlow */
  TsAddress src, dst;
  guint16 src_port, dst_port;
  guint32 next_seq;
  TsTlsCipher cipher;
  guint64 rec_seq;
  guint key_hash; /* of the cipher's key material (MEMO_SLOTS) */
  gboolean all_protected;
  /* A record cut across segments: got bytes so far, the first (up to 5) in
   * hdr; they are the pieces, or (copying: a restart's partial record, too
   * many pieces, a suite opened only whole) a copy in buf (RECORD_MAX). */
  gsize got;
  guint8 hdr[RECORD_HEADER];
  TsTlsPiece pieces[TS_TLS_PIECES_MAX]; /* (a record in more is copied) */
  guint n_pieces;
  gboolean copying;
  guint8 *buf;
  /* Segments that came before the ones they follow (veth reorders what two
   * CPUs send): their payloads in the trace, followed once the bytes
   * before them are. */
  struct
  {
    const guint8 *p;
    gsize len;
    guint32 seq;
  } held[HELD_SEGMENTS];
  guint n_held;
  gboolean lost;
} Flow;

typedef enum
{
  STATE_IDLE, /* nothing to follow, or the end of the trace: no more results */
  STATE_RUNNING,
  STATE_WAIT_WINDOW, /* TS_DECRYPT_AHEAD_WINDOW ahead of the analyzer */
  STATE_WAIT_SPACE,  /* the arena or the record ring is full */
} State;

/* A record opened lately (helper thread only). */
typedef struct
{
  gsize gen;
  const Flow *flow;
  guint64 seq;
  gsize index; /* its entry */
} Memo;

/* A record the analyzer opened itself lately (TWINS of them): its keys
 * (a copy to compare, never used to open), sequence number, bytes (as
 * pieces of the trace, or a copy) and result. A relay's other leg carries
 * the same record as many records later as the proxy buffers (tens to
 * hundreds of 16 KiB records through ts-proxy's 1 MiB pipes): 256 of them
 * (their buffers taken as they are first used). */
#define TWINS 256
typedef struct
{
  gboolean used;
  TsTlsCipher keys;
  guint64 seq;
  TsTlsPiece pieces[TS_TLS_PIECES_MAX];
  guint n_pieces;
  gsize rec_len;
  guint8 *plain; /* FRAGMENT_MAX bytes */
  guint8 *copy;  /* RECORD_MAX bytes, for a record whose bytes do not stay */
  gssize n;
} Twin;

/* Fields one thread writes often and the other reads sit on cache lines
 * of their own: sharing a line with the other thread's fields costs both a
 * miss at every access. */
#define LINE 128

struct _TsDecryptAhead
{
  GBytes *trace;
  const guint8 *data;
  gsize size;
  guint64 base;
  gsize margin;     /* TS_DECRYPT_AHEAD_MARGIN, or 0 (tight) */
  gsize arena_size; /* TS_DECRYPT_AHEAD_ARENA, or less (tight) */
  GThread *thread;

  /* Requests, under @lock. */
  GMutex lock;
  GCond cond;
  gint quit;            /* atomic */
  gint restart_pending; /* atomic: the helper polls it */
  gsize restart_at;
  GPtrArray *restart_flows; /* Flow * */
  GArray *restart_linktypes, *restart_links;
  gsize requested_gen;
  gint helper_waits; /* atomic: the helper sleeps on @cond */
  gint analyzer_waits;

  /* Written by the helper, atomic. */
  _Alignas(LINE) gsize head; /* entries written */
  gsize helper_gen;          /* the restart the helper works in */
  gsize done;                /* trace offset the helper has read up to (in helper_gen) */
  gint state;                /* State */
  gint n_lost;               /* directions the helper stopped following */

  /* Written by the analyzer, atomic. */
  _Alignas(LINE) gsize position; /* the analyzer's block, in POSITION_STEP steps */
  gsize tail;                    /* entries dropped */
  gsize arena_dropped;           /* arena position up to which entries were dropped */

  /* The helper's own. */
  _Alignas(LINE) GHashTable *flows; /* Flow * (key and value) */
  Flow *last;                       /* the flow found last */
  GArray *linktypes, *links;
  gsize pos;        /* next block to read */
  gsize fetched;    /* trace prefetched up to here (ts_prefetch_ahead ()) */
  gsize block;      /* the block being read */
  gsize gen;        /* helper_gen, unshared copy */
  gsize arena_head; /* arena position written up to */
  Memo memo[MEMO_SLOTS];
  /* The entries that keep a twin's plaintext, and from where: a FIFO in
   * entry order that keeps only those whose position no later one
   * undercuts, so the front is the lowest (a sliding-window minimum). */
  gsize pin_index[PINS], pin_at[PINS];
  gsize pins_head, pins_tail;
  gsize n_opened, n_twins, n_pieces; /* TsDecryptAheadCounts */

  /* The analyzer's own. */
  _Alignas(LINE) gsize at; /* its block */
  gsize scan;              /* entries before it are of earlier blocks (or restarts) */
  gsize analyzer_gen;
  gboolean missed;
  Twin twins[TWINS];
  guint next_twin;
  GArray *keys; /* TsTlsCipher: copies of the last restart's keys, to compare only */
  TsDecryptAheadCounts counts;
  TsDecryptAheadCounts *counts_out;

  _Alignas(LINE) Entry ring[TS_DECRYPT_AHEAD_RECORDS];
  guint8 *arena;
};

static guint
flow_hash (gconstpointer p)
{
  const Flow *f = p;

  return ts_address_hash (&f->src) ^ (ts_address_hash (&f->dst) * 7) ^ ((guint)f->src_port << 16)
         ^ f->dst_port ^ ((guint)f->link * 31) ^ ((guint)f->ifindex * 131);
}

static gboolean
flow_equal (gconstpointer pa, gconstpointer pb)
{
  const Flow *a = pa, *b = pb;

  return a->link == b->link && a->ifindex == b->ifindex && a->src_port == b->src_port
         && a->dst_port == b->dst_port && ts_address_equal (&a->src, &b->src)
         && ts_address_equal (&a->dst, &b->dst);
}

static void
flow_free (gpointer p)
{
  Flow *f = p;

  _ts_tls_cipher_clear (&f->cipher);
  g_free (f->buf);
  g_free (f);
}

static gsize
atomic_get (gsize *p)
{
  return g_atomic_pointer_get (p);
}

static void
atomic_set (gsize *p, gsize v)
{
  g_atomic_pointer_set (p, v);
}

/* Wakes the other thread if it sleeps (call after changing what it waits on). */
static void
wake (TsDecryptAhead *self, gint *flag)
{
  if (g_atomic_int_get (flag))
    {
      g_mutex_lock (&self->lock);
      g_cond_broadcast (&self->cond);
      g_mutex_unlock (&self->lock);
    }
}

/* --- the helper thread ------------------------------------------------------ */

static void
lose (TsDecryptAhead *self, Flow *f)
{
  if (!f->lost)
    g_atomic_int_inc (&self->n_lost);
  f->lost = TRUE;
}

static gboolean
interrupted (TsDecryptAhead *self)
{
  return g_atomic_int_get (&self->quit) || g_atomic_int_get (&self->restart_pending);
}

static guint32
rd32 (const guint8 *p)
{
  guint32 v;

  memcpy (&v, p, 4);
  return v;
}

/* The arena position from which on bytes may still be read: what the
 * analyzer has not dropped, and the plaintext that records it holds share
 * with their twins. */
static gsize
arena_floor (TsDecryptAhead *self)
{
  gsize tail = atomic_get (&self->tail), floor = atomic_get (&self->arena_dropped);

  while (self->pins_tail < self->pins_head && self->pin_index[self->pins_tail % PINS] < tail)
    self->pins_tail++;
  if (self->pins_tail < self->pins_head)
    floor = MIN (floor, self->pin_at[self->pins_tail % PINS]);
  return floor;
}

/* Room for one more record. */
static gboolean
have_space (TsDecryptAhead *self)
{
  return self->head - atomic_get (&self->tail) < TS_DECRYPT_AHEAD_RECORDS
         && self->arena_head - arena_floor (self) + ARENA_NEED <= self->arena_size;
}

/* Less than half used: where a helper waiting for room goes on (not at
 * every record the analyzer drops, which would wake it for each). */
static gboolean
half_free (TsDecryptAhead *self, gsize head, gsize arena_head)
{
  return head - atomic_get (&self->tail) <= TS_DECRYPT_AHEAD_RECORDS / 2
         && arena_head - arena_floor (self) <= self->arena_size / 2;
}

/* @n contiguous arena bytes (have_space () said there are). */
static guint8 *
arena_alloc (TsDecryptAhead *self, gsize n)
{
  gsize at = self->arena_head % self->arena_size;

  n = (n + 15) & ~(gsize)15; /* pieces are stored there too */
  if (at + n > self->arena_size)
    {
      self->arena_head += self->arena_size - at;
      at = 0;
    }
  self->arena_head += n;
  return self->arena + at;
}

/* Whether two records, each given whole (@rec) or in pieces, have the same
 * bytes. Runs at the same address are not compared. */
static gboolean
same_bytes (const guint8 *rec_a, gsize len_a, const TsTlsPiece *pieces_a, guint n_a,
            const guint8 *rec_b, gsize len_b, const TsTlsPiece *pieces_b, guint n_b)
{
  TsTlsPiece whole_a = { rec_a, len_a }, whole_b = { rec_b, len_b };
  gsize off_a = 0, off_b = 0;
  guint i = 0, j = 0;

  if (len_a != len_b)
    return FALSE;
  if (rec_a != NULL)
    pieces_a = &whole_a, n_a = 1;
  if (rec_b != NULL)
    pieces_b = &whole_b, n_b = 1;
  while (i < n_a && j < n_b)
    {
      const guint8 *pa = pieces_a[i].data + off_a, *pb = pieces_b[j].data + off_b;
      gsize n = MIN (pieces_a[i].len - off_a, pieces_b[j].len - off_b);

      if (pa != pb && memcmp (pa, pb, n) != 0)
        return FALSE;
      off_a += n;
      off_b += n;
      if (off_a == pieces_a[i].len)
        i++, off_a = 0;
      if (off_b == pieces_b[j].len)
        j++, off_b = 0;
    }
  return TRUE;
}

/* The entry of a record that another direction with the same keys carried
 * with @e's sequence number and bytes, if it is still held: then its
 * plaintext is intact (only this thread writes the ring and the arena, and
 * @e's arena bytes are taken already, from room that excluded it). */
static const Entry *
seen_before (TsDecryptAhead *self, const Flow *f, const Memo *memo, const Entry *e)
{
  const Entry *a;

  if (memo->gen != self->gen || memo->flow == f || memo->seq != e->seq
      || memo->index < atomic_get (&self->tail)
      || !_ts_tls_cipher_same_keys (&memo->flow->cipher, &f->cipher))
    return NULL;
  a = &self->ring[memo->index % TS_DECRYPT_AHEAD_RECORDS];
  if (!same_bytes (a->rec, a->rec_len, a->pieces, a->n_pieces, e->rec, e->rec_len, e->pieces,
                   e->n_pieces))
    return NULL;
  return a;
}

/* Opens one record of @f and hands it to the analyzer: @rec_len bytes, at
 * @rec (in the trace, or with @copy in the flow's buffer), or when @rec is
 * NULL the flow's pieces. @hdr: its first 5 bytes. */
static void
open_record (TsDecryptAhead *self, Flow *f, const guint8 *hdr, const guint8 *rec, gsize rec_len,
             gboolean copy)
{
  Entry *e;
  const Entry *same;
  Memo *memo;
  guint8 *plain;

  /* TLS 1.3 protects application_data records only; other types in clear
   * take no sequence number (RFC 8446 §5.2). */
  if (!f->all_protected && hdr[0] != 23)
    return;
  if (self->block < atomic_get (&self->position) + self->margin)
    {
      /* The analyzer is (nearly) there: it opens the record itself, rather
       * than wait for us, so only keep in step. */
      f->rec_seq++;
      return;
    }
  if (!have_space (self))
    {
      /* The analyzer drops what it is done with as it moves on, and does
       * not wait for us meanwhile (told under the lock). The flag is up
       * before the last look, so no drop goes unheard. */
      g_mutex_lock (&self->lock);
      g_atomic_int_set (&self->state, STATE_WAIT_SPACE);
      g_cond_broadcast (&self->cond);
      g_atomic_int_set (&self->helper_waits, 1);
      while (!interrupted (self) && !half_free (self, self->head, self->arena_head))
        g_cond_wait (&self->cond, &self->lock);
      g_atomic_int_set (&self->helper_waits, 0);
      g_atomic_int_set (&self->state, STATE_RUNNING);
      g_mutex_unlock (&self->lock);
      if (interrupted (self))
        {
          /* The flows are replaced, or this is the end: not a direction
           * lost to the trace (no restart is asked for it). */
          f->lost = TRUE;
          return;
        }
    }
  e = &self->ring[self->head % TS_DECRYPT_AHEAD_RECORDS];
  e->pieces = NULL;
  e->n_pieces = 0;
  e->arena_pin = self->arena_head;
  if (copy)
    {
      guint8 *c = arena_alloc (self, rec_len);
      memcpy (c, rec, rec_len);
      rec = c;
    }
  else if (rec == NULL)
    {
      TsTlsPiece *pieces = (TsTlsPiece *)arena_alloc (self, f->n_pieces * sizeof *pieces);

      memcpy (pieces, f->pieces, f->n_pieces * sizeof *pieces);
      e->pieces = pieces;
      e->n_pieces = f->n_pieces;
    }
  e->gen = self->gen;
  e->block = self->block;
  e->serial = f->cipher.serial;
  e->seq = f->rec_seq++;
  e->rec = rec;
  e->rec_len = rec_len;
  memo = &self->memo[(f->key_hash ^ (guint)e->seq) % MEMO_SLOTS];
  /* Compared before any more of the arena is taken: what the twin refers
   * to is intact while it is held (see seen_before). */
  same = self->pins_head - self->pins_tail < PINS ? seen_before (self, f, memo, e) : NULL;
  self->n_opened++;
  self->n_pieces += e->pieces != NULL;
  if (same != NULL)
    {
      /* The same keys, sequence number and bytes: the same plaintext and
       * verdict. Its plaintext is kept (pinned) while this record is held. */
      self->n_twins++;
      e->plain = same->plain;
      e->n = same->n;
      e->inner_len = same->inner_len;
      e->inner_type = same->inner_type;
      e->arena_pin = same->arena_pin;
      while (self->pins_head > self->pins_tail
             && self->pin_at[(self->pins_head - 1) % PINS] >= e->arena_pin)
        self->pins_head--; /* held no longer than this one, and not lower */
      self->pin_index[self->pins_head % PINS] = self->head;
      self->pin_at[self->pins_head % PINS] = e->arena_pin;
      self->pins_head++;
    }
  else
    {
      plain = arena_alloc (self, MAX (rec_len - RECORD_HEADER, (gsize)1));
      e->plain = plain;
      e->n = rec != NULL ? _ts_tls_cipher_open (&f->cipher, e->seq, rec, rec + RECORD_HEADER,
                                                rec_len - RECORD_HEADER, plain)
                         : _ts_tls_cipher_open_pieces (&f->cipher, e->seq, e->pieces, e->n_pieces,
                                                       rec_len, plain);
      /* The content type at the end, while the plaintext is in this core's
       * cache (the analyzer's thread reads no more of a body record). */
      e->inner_len = e->n > 0 ? (gsize)e->n : 0;
      while (e->inner_len > 0 && plain[e->inner_len - 1] == 0)
        e->inner_len--;
      e->inner_type = e->inner_len > 0 ? plain[e->inner_len - 1] : 0;
    }
  e->arena_end = self->arena_head;
  memo->gen = self->gen;
  memo->flow = f;
  memo->seq = e->seq;
  memo->index = self->head;
  atomic_set (&self->head, self->head + 1);
}

/* The record header check of the TLS session (a header it would refuse
 * stops following). */
static gboolean
good_header (const guint8 *h)
{
  return h[0] >= 20 && h[0] <= 24 && h[1] == 3 && h[2] <= 4
         && (gsize)(h[3] << 8 | h[4]) <= FRAGMENT_MAX;
}

/* Adds @len bytes at @p (in the trace) to @f's record cut across segments. */
static void
add_bytes (Flow *f, const guint8 *p, gsize len)
{
  if (!f->copying && f->n_pieces == TS_TLS_PIECES_MAX)
    {
      f->buf = f->buf ?: g_malloc (RECORD_MAX);
      _ts_tls_pieces_copy (f->pieces, f->n_pieces, 0, f->got, f->buf);
      f->copying = TRUE;
    }
  if (f->copying)
    memcpy (f->buf + f->got, p, len);
  else
    {
      f->pieces[f->n_pieces].data = p;
      f->pieces[f->n_pieces++].len = len;
    }
  if (f->got < RECORD_HEADER)
    memcpy (f->hdr + f->got, p, MIN (len, RECORD_HEADER - f->got));
  f->got += len;
}

/* Makes @f ready for its next record cut across segments. */
static void
next_record (Flow *f)
{
  f->got = 0;
  f->n_pieces = 0;
  f->copying = !_ts_tls_cipher_opens_pieces (&f->cipher);
  if (f->copying && f->buf == NULL)
    f->buf = g_malloc (RECORD_MAX);
}

/* In-order bytes of @f: frames records as the TLS session does. */
static void
follow (TsDecryptAhead *self, Flow *f, const guint8 *p, gsize len)
{
  while (len > 0 && !f->lost)
    {
      gsize need, take;

      if (f->got == 0 && len >= RECORD_HEADER)
        {
          gsize rec_len;

          if (!good_header (p))
            {
              lose (self, f);
              return;
            }
          rec_len = RECORD_HEADER + (gsize)(p[3] << 8 | p[4]);
          if (len >= rec_len)
            {
              open_record (self, f, p, p, rec_len, FALSE);
              p += rec_len;
              len -= rec_len;
              continue;
            }
        }
      need = f->got < RECORD_HEADER ? RECORD_HEADER - f->got
                                    : RECORD_HEADER + (gsize)(f->hdr[3] << 8 | f->hdr[4]) - f->got;
      take = MIN (need, len);
      add_bytes (f, p, take);
      p += take;
      len -= take;
      if (f->got == RECORD_HEADER && take == need && !good_header (f->hdr))
        {
          lose (self, f);
          return;
        }
      if (f->got >= RECORD_HEADER && f->got == RECORD_HEADER + (gsize)(f->hdr[3] << 8 | f->hdr[4]))
        {
          if (f->copying)
            open_record (self, f, f->hdr, f->buf, f->got, TRUE);
          else
            open_record (self, f, f->hdr, NULL, f->got, FALSE);
          next_record (f);
        }
    }
}

/* A segment of @f with @len bytes at @payload from TCP sequence number
 * @seq, at or before the next byte: what it has past that is followed. */
static void
follow_segment (TsDecryptAhead *self, Flow *f, const guint8 *payload, gsize len, guint32 seq)
{
  /* Bytes already followed (a retransmission): the first copy counts. */
  gsize old = (gsize)(f->next_seq - seq);

  if (old >= len)
    return;
  f->next_seq += (guint32)(len - old);
  follow (self, f, payload + old, len - old);
}

static void
read_frame (TsDecryptAhead *self, guint32 iface, const guint8 *data, gsize caplen)
{
  TsPacket p;
  Flow key, *f;
  const guint8 *payload;
  gsize len;
  gint link;

  if (iface >= self->links->len)
    return;
  link = g_array_index (self->links, gint, iface);
  if (link < 0 && link != TS_DECRYPT_AHEAD_PER_IFINDEX)
    return;
  if (ts_packet_decode (g_array_index (self->linktypes, guint, iface), data, caplen, &p) < 0
      || p.ip_version == 0 || p.ip_proto != TS_IPPROTO_TCP
      || (p.anomalies & TS_PACKET_ANOMALY_FRAGMENT)
      || (p.payload_len == 0 && p.payload_wire_len == 0))
    return; /* not TCP, or a bare ACK (a third of a bulk transfer) */
  key.link = link == TS_DECRYPT_AHEAD_PER_IFINDEX ? ts_decrypt_ahead_ifindex_link (iface) : link;
  key.ifindex = link == TS_DECRYPT_AHEAD_PER_IFINDEX ? p.ifindex : -1;
  key.src = p.src;
  key.dst = p.dst;
  key.src_port = p.src_port;
  key.dst_port = p.dst_port;
  /* Segments of one direction come in runs: the last one found first. */
  if (self->last != NULL && flow_equal (&key, self->last))
    f = self->last;
  else if ((f = g_hash_table_lookup (self->flows, &key)) != NULL)
    self->last = f;
  if (f == NULL || f->lost)
    return;
  if ((p.tcp_flags & (TS_TCP_SYN | TS_TCP_RST)) || p.payload_len < p.payload_wire_len)
    {
      lose (self, f);
      return;
    }
  payload = data + p.payload_offset;
  len = p.payload_len;
  if ((gint32)(p.tcp_seq - f->next_seq) > 0)
    {
      /* A hole: held while it may be a segment that comes late, else the
       * analyzer knows better (a loss). */
      if (f->n_held == HELD_SEGMENTS)
        lose (self, f);
      else
        {
          f->held[f->n_held].p = payload;
          f->held[f->n_held].len = len;
          f->held[f->n_held++].seq = p.tcp_seq;
        }
      return;
    }
  follow_segment (self, f, payload, len, p.tcp_seq);
  /* Then the held segments that are now in order. */
  for (guint i = 0; i < f->n_held && !f->lost;)
    if ((gint32)(f->held[i].seq - f->next_seq) > 0)
      i++;
    else
      {
        const guint8 *held = f->held[i].p;
        gsize held_len = f->held[i].len;
        guint32 held_seq = f->held[i].seq;

        f->held[i] = f->held[--f->n_held];
        follow_segment (self, f, held, held_len, held_seq);
        i = 0;
      }
}

/* Sleeps until a restart or the end (called with the lock held: both are
 * signalled under it). */
static void
helper_wait (TsDecryptAhead *self)
{
  g_atomic_int_set (&self->helper_waits, 1);
  g_cond_wait (&self->cond, &self->lock);
  g_atomic_int_set (&self->helper_waits, 0);
}

/* Takes the pending restart. Called with the lock held. */
static void
apply_restart (TsDecryptAhead *self)
{
  self->last = NULL;
  g_hash_table_remove_all (self->flows);
  while (self->restart_flows->len > 0)
    {
      Flow *f = g_ptr_array_steal_index_fast (self->restart_flows, self->restart_flows->len - 1);
      g_hash_table_replace (self->flows, f, f);
    }
  g_array_set_size (self->linktypes, 0);
  g_array_append_vals (self->linktypes, self->restart_linktypes->data,
                       self->restart_linktypes->len);
  g_array_set_size (self->links, 0);
  g_array_append_vals (self->links, self->restart_links->data, self->restart_links->len);
  self->pos = self->restart_at;
  self->gen = self->requested_gen;
  /* The analyzer reads done only in the helper's restart: clear it first. */
  atomic_set (&self->done, 0);
  atomic_set (&self->helper_gen, self->gen);
  atomic_set (&self->done, self->pos);
  g_atomic_int_set (&self->state, g_hash_table_size (self->flows) > 0 ? STATE_RUNNING : STATE_IDLE);
  g_atomic_int_set (&self->restart_pending, 0);
  /* The analyzer may wait for this restart. */
  g_cond_broadcast (&self->cond);
}

/* Reads the block at self->pos. FALSE at the end of what can be read (the
 * end of the trace, damage, another section: the analyzer reads on alone). */
static gboolean
read_block (TsDecryptAhead *self)
{
  const guint8 *b = self->data + self->pos;
  gsize left = self->size - self->pos;
  guint32 type, total;

  if (left < 12)
    return FALSE;
  type = rd32 (b);
  total = rd32 (b + 4);
  /* The native byte order only: a swapped section fails these checks or
   * reads as blocks we skip, and nothing read here is trusted anyway. */
  if (total < 12 || total % 4 != 0 || total > left || total > TS_PCAPNG_MAX_BLOCK
      || type == BLOCK_SHB)
    return FALSE;
  self->block = self->pos;
  /* We are the first to read the trace: its headers, and the records the
   * AES reads soon after, are asked for ahead. */
  ts_prefetch_ahead (self->data, self->size, self->pos, &self->fetched);
  if (type == BLOCK_EPB && total >= 32)
    {
      guint32 caplen = rd32 (b + 20);

      if (caplen <= total - 32)
        read_frame (self, rd32 (b + 8), b + 28, caplen);
      if (interrupted (self))
        return TRUE; /* the block is read again after the restart, or never */
    }
  self->pos += total;
  atomic_set (&self->done, self->pos);
  return TRUE;
}

static gpointer
helper_main (gpointer user_data)
{
  TsDecryptAhead *self = user_data;

  g_mutex_lock (&self->lock);
  while (!g_atomic_int_get (&self->quit))
    {
      if (g_atomic_int_get (&self->restart_pending))
        apply_restart (self);
      if (g_atomic_int_get (&self->state) == STATE_IDLE)
        {
          helper_wait (self);
          continue;
        }
      if (self->pos > atomic_get (&self->position) + TS_DECRYPT_AHEAD_WINDOW)
        {
          /* Far enough ahead: go on once the analyzer has come half way
           * (it wakes us then, not at every block). */
          g_atomic_int_set (&self->state, STATE_WAIT_WINDOW);
          g_atomic_int_set (&self->helper_waits, 1);
          while (self->pos > atomic_get (&self->position) + TS_DECRYPT_AHEAD_WINDOW / 2
                 && !interrupted (self))
            g_cond_wait (&self->cond, &self->lock);
          g_atomic_int_set (&self->helper_waits, 0);
          g_atomic_int_set (&self->state, STATE_RUNNING);
          continue;
        }
      g_mutex_unlock (&self->lock);
      /* A batch of blocks without the lock. */
      for (guint i = 0; i < 64; i++)
        {
          gboolean more = read_block (self);

          if (!more)
            {
              g_atomic_int_set (&self->state, STATE_IDLE);
              wake (self, &self->analyzer_waits);
              break;
            }
          if (interrupted (self)
              || self->pos > atomic_get (&self->position) + TS_DECRYPT_AHEAD_WINDOW)
            break;
        }
      g_mutex_lock (&self->lock);
    }
  g_mutex_unlock (&self->lock);
  return NULL;
}

/* --- the analyzer's side ------------------------------------------------- */

TsDecryptAhead *
ts_decrypt_ahead_new (GBytes *trace, guint64 base)
{
  TsDecryptAhead *self = g_aligned_alloc0 (1, sizeof (TsDecryptAhead), LINE);

  self->trace = g_bytes_ref (trace);
  self->data = g_bytes_get_data (trace, &self->size);
  self->base = base;
  self->margin = TS_DECRYPT_AHEAD_MARGIN;
  self->arena_size = TS_DECRYPT_AHEAD_ARENA;
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->restart_flows = g_ptr_array_new_with_free_func (flow_free);
  self->keys = g_array_new (FALSE, FALSE, sizeof (TsTlsCipher));
  self->restart_linktypes = g_array_new (FALSE, FALSE, sizeof (guint));
  self->restart_links = g_array_new (FALSE, FALSE, sizeof (gint));
  self->linktypes = g_array_new (FALSE, FALSE, sizeof (guint));
  self->links = g_array_new (FALSE, FALSE, sizeof (gint));
  self->flows = g_hash_table_new_full (flow_hash, flow_equal, NULL, flow_free);
  self->arena = g_malloc (TS_DECRYPT_AHEAD_ARENA);
  self->state = STATE_IDLE;
  self->thread = g_thread_new ("ts-decrypt-ahead", helper_main, self);
  return self;
}

void
ts_decrypt_ahead_free (TsDecryptAhead *self)
{
  if (self == NULL)
    return;
  g_mutex_lock (&self->lock);
  g_atomic_int_set (&self->quit, 1);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  g_thread_join (self->thread);
  if (self->counts_out != NULL)
    {
      self->counts.opened = self->n_opened;
      self->counts.twins_ahead = self->n_twins;
      self->counts.pieces = self->n_pieces;
      *self->counts_out = self->counts;
    }
  for (guint i = 0; i < TWINS; i++)
    {
      OPENSSL_cleanse (&self->twins[i].keys, sizeof self->twins[i].keys);
      g_free (self->twins[i].plain);
      g_free (self->twins[i].copy);
    }
  if (self->keys->len > 0)
    OPENSSL_cleanse (self->keys->data, self->keys->len * sizeof (TsTlsCipher));
  g_array_unref (self->keys);
  g_hash_table_unref (self->flows);
  g_ptr_array_unref (self->restart_flows);
  g_array_unref (self->restart_linktypes);
  g_array_unref (self->restart_links);
  g_array_unref (self->linktypes);
  g_array_unref (self->links);
  g_free (self->arena);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  g_bytes_unref (self->trace);
  g_aligned_free (self);
}

/* Drops the entries of other restarts and earlier blocks than @block. */
static void
drop_old (TsDecryptAhead *self, gsize block)
{
  gsize tail = self->tail, head = atomic_get (&self->head);
  gsize dropped = self->arena_dropped;

  while (tail < head)
    {
      const Entry *e = &self->ring[tail % TS_DECRYPT_AHEAD_RECORDS];

      if (e->gen == self->analyzer_gen && e->block >= block)
        break;
      dropped = e->arena_end;
      tail++;
    }
  if (tail != self->tail)
    {
      atomic_set (&self->arena_dropped, dropped);
      atomic_set (&self->tail, tail);
      if (g_atomic_int_get (&self->helper_waits)
          && g_atomic_int_get (&self->state) == STATE_WAIT_SPACE)
        wake (self, &self->helper_waits); /* it looks again, and sleeps on if under half */
    }
}

void
ts_decrypt_ahead_set_position (TsDecryptAhead *self, guint64 offset)
{
  gsize at = offset >= self->base ? (gsize)MIN (offset - self->base, (guint64)self->size) : 0;

  self->at = at;
  if (at < self->position + POSITION_STEP && at >= self->position)
    return;
  atomic_set (&self->position, at);
  drop_old (self, at);
  if (g_atomic_int_get (&self->helper_waits) && g_atomic_int_get (&self->state) == STATE_WAIT_WINDOW
      && at + TS_DECRYPT_AHEAD_WINDOW / 2 >= atomic_get (&self->done))
    wake (self, &self->helper_waits);
}

void
ts_decrypt_ahead_restart (TsDecryptAhead *self, guint64 offset, const TsDecryptAheadFlow *flows,
                          guint n_flows, const guint *linktypes, const gint *links, guint n_ifaces)
{
  g_autoptr (GPtrArray) fresh = g_ptr_array_new_with_free_func (flow_free);

  if (self->keys->len > 0)
    OPENSSL_cleanse (self->keys->data, self->keys->len * sizeof (TsTlsCipher));
  g_array_set_size (self->keys, 0);
  /* Keyed here: the analyzer's ciphers may change as soon as this returns. */
  for (guint i = 0; i < n_flows; i++)
    {
      g_array_append_val (self->keys, *flows[i].cipher);
      const TsDecryptAheadFlow *in = &flows[i];
      Flow *f = g_new0 (Flow, 1);

      f->link = in->link;
      f->ifindex = in->ifindex;
      f->src = in->src;
      f->dst = in->dst;
      f->src_port = in->src_port;
      f->dst_port = in->dst_port;
      f->next_seq = in->next_seq;
      f->rec_seq = in->rec_seq;
      f->all_protected = in->all_protected;
      memcpy (&f->key_hash, in->cipher->key, sizeof f->key_hash); /* random bytes */
      if (in->partial_len >= RECORD_MAX || !_ts_tls_cipher_copy (&f->cipher, in->cipher))
        {
          flow_free (f);
          continue;
        }
      next_record (f);
      if (in->partial_len > 0)
        {
          /* Not in the trace (the analyzer's copy): copied on. */
          f->buf = f->buf ?: g_malloc (RECORD_MAX);
          f->copying = TRUE;
          add_bytes (f, in->partial, in->partial_len);
        }
      g_ptr_array_add (fresh, f);
    }
  g_mutex_lock (&self->lock);
  g_ptr_array_set_size (self->restart_flows, 0);
  g_ptr_array_extend_and_steal (self->restart_flows, g_steal_pointer (&fresh));
  g_array_set_size (self->restart_linktypes, 0);
  g_array_append_vals (self->restart_linktypes, linktypes, n_ifaces);
  g_array_set_size (self->restart_links, 0);
  g_array_append_vals (self->restart_links, links, n_ifaces);
  self->restart_at
      = offset >= self->base ? (gsize)MIN (offset - self->base, (guint64)self->size) : self->size;
  self->requested_gen++;
  self->analyzer_gen = self->requested_gen;
  g_atomic_int_set (&self->restart_pending, 1);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  drop_old (self, self->at);
}

/* The entry for record @seq under @serial in @block, or NULL; *@differs when
 * there is one for other bytes. */
static const Entry *
find (TsDecryptAhead *self, gsize block, guint64 serial, guint64 seq, const guint8 *rec,
      gsize rec_len, const TsTlsPiece *src, guint n_src, gboolean *differs)
{
  gsize head = atomic_get (&self->head);

  /* Entries before @block are skipped here, and dropped for the helper (a
   * store both cores pay for) only as the position moves on. */
  if (self->scan < self->tail)
    self->scan = self->tail;
  while (self->scan < head)
    {
      const Entry *e = &self->ring[self->scan % TS_DECRYPT_AHEAD_RECORDS];

      if (e->gen == self->analyzer_gen && e->block >= block)
        break;
      self->scan++;
    }
  for (gsize i = self->scan; i < head; i++)
    {
      const Entry *e = &self->ring[i % TS_DECRYPT_AHEAD_RECORDS];

      if (e->gen != self->analyzer_gen || e->block != block)
        break;
      if (e->serial != serial || e->seq != seq)
        continue;
      /* The same keys and sequence number: the same result for the same
       * bytes (most often the very same bytes of the trace). */
      if (!same_bytes (e->rec, e->rec_len, e->pieces, e->n_pieces, src != NULL ? NULL : rec,
                       rec_len, src, n_src))
        {
          *differs = TRUE;
          return NULL;
        }
      return e;
    }
  return NULL;
}

gssize
ts_decrypt_ahead_open (gpointer user_data, guint64 serial, guint64 seq, const guint8 *rec,
                       gsize rec_len, const TsTlsPiece *src, guint n_src, const guint8 **out_plain,
                       gsize *out_inner_len, guint8 *out_inner_type)
{
  TsDecryptAhead *self = user_data;
  gsize block = self->at;
  gboolean differs = FALSE;
  const Entry *e = NULL;

  /* Where the session's copy came from is read only when it is the trace
   * (a reassembly buffer may be gone by now); else the copy is compared. */
  for (guint i = 0; i < n_src; i++)
    if (!ts_decrypt_ahead_stable (self, src[i].data, src[i].len))
      {
        src = NULL;
        n_src = 0;
        break;
      }
  if (rec != NULL || src != NULL)
    e = find (self, block, serial, seq, rec, rec_len, src, n_src, &differs);

  if (e != NULL)
    {
      self->counts.hits++;
      *out_plain = e->plain;
      *out_inner_len = e->inner_len;
      *out_inner_type = e->inner_type;
      return e->n;
    }
  /* Never wait: the record is opened here (the helper leaves those near
   * our position to us). The analyzer decides whether a restart is worth
   * it (ts_decrypt_ahead_get_lost ()). */
  self->missed = TRUE;
  self->counts.misses++;
  return TS_TLS_AHEAD_MISS;
}

/* Entries near the analyzer's place in the ring looked at for a twin. */
#define TWIN_LOOK_BACK 32
#define TWIN_LOOK_AHEAD 64

/* A record the helper opened (and still holds) with the same keys as
 * @cipher under another serial, sequence number @seq and the bytes of
 * @src (in the trace). */
static const Entry *
twin_ahead (TsDecryptAhead *self, const TsTlsCipher *cipher, guint64 seq, gsize rec_len,
            const TsTlsPiece *src, guint n_src)
{
  gsize head = atomic_get (&self->head);
  gsize from = MAX (self->tail, self->scan > TWIN_LOOK_BACK ? self->scan - TWIN_LOOK_BACK : 0);
  gsize to = MIN (head, MAX (self->scan, from) + TWIN_LOOK_AHEAD);

  for (gsize i = from; i < to; i++)
    {
      const Entry *e = &self->ring[i % TS_DECRYPT_AHEAD_RECORDS];

      if (e->gen != self->analyzer_gen || e->seq != seq || e->rec_len != rec_len
          || e->serial == cipher->serial)
        continue;
      for (guint k = 0; k < self->keys->len; k++)
        {
          const TsTlsCipher *other = &g_array_index (self->keys, TsTlsCipher, k);

          if (other->serial == e->serial)
            {
              if (_ts_tls_cipher_same_keys (other, cipher)
                  && same_bytes (e->rec, e->rec_len, e->pieces, e->n_pieces, NULL, rec_len, src,
                                 n_src))
                return e;
              break;
            }
        }
    }
  return NULL;
}

gssize
ts_decrypt_ahead_open_here (gpointer user_data, const TsTlsCipher *cipher, guint64 seq,
                            const guint8 *rec, gsize rec_len, const TsTlsPiece *src, guint n_src,
                            const guint8 **out_plain)
{
  TsDecryptAhead *self = user_data;
  TsTlsPiece whole = { rec, rec_len };
  gboolean stays = n_src > 0;
  const Entry *e;
  Twin *t;

  for (guint i = 0; i < n_src; i++)
    if (!ts_decrypt_ahead_stable (self, src[i].data, src[i].len))
      stays = FALSE;
  if (!stays)
    {
      /* The session's copy (its pieces are not all in the trace). */
      g_return_val_if_fail (rec != NULL, -1);
      src = &whole;
      n_src = 1;
      stays = ts_decrypt_ahead_stable (self, rec, rec_len);
    }
  for (guint i = 0; i < TWINS; i++)
    {
      t = &self->twins[i];
      if (t->used && t->seq == seq && t->rec_len == rec_len
          && _ts_tls_cipher_same_keys (&t->keys, cipher)
          && same_bytes (NULL, rec_len, t->pieces, t->n_pieces, NULL, rec_len, src, n_src))
        {
          self->counts.twins_here++;
          *out_plain = t->plain;
          return t->n;
        }
    }
  /* Or the helper has it, opened for the other direction (the helper
   * leaves records near our position to us, so of a pair one may be
   * left and the other opened ahead). */
  if ((e = twin_ahead (self, cipher, seq, rec_len, src, n_src)) != NULL)
    {
      self->counts.twins_here++;
      *out_plain = e->plain;
      return e->n;
    }
  t = &self->twins[self->next_twin++ % TWINS];
  t->plain = t->plain ?: g_malloc (FRAGMENT_MAX);
  if (rec != NULL)
    t->n = _ts_tls_cipher_open ((TsTlsCipher *)cipher, seq, rec, rec + RECORD_HEADER,
                                rec_len - RECORD_HEADER, t->plain);
  else
    t->n = _ts_tls_cipher_open_pieces ((TsTlsCipher *)cipher, seq, src, n_src, rec_len, t->plain);
  /* Kept for a twin: its bytes where they stay (the trace), or a copy
   * (a record with bytes that came out of order). */
  t->used = TRUE;
  t->keys = *cipher;
  t->seq = seq;
  t->rec_len = rec_len;
  if (stays)
    {
      t->n_pieces = n_src;
      memcpy (t->pieces, src, n_src * sizeof *src);
    }
  else
    {
      t->copy = t->copy ?: g_malloc (RECORD_MAX);
      memcpy (t->copy, rec, rec_len);
      t->pieces[0].data = t->copy;
      t->pieces[0].len = rec_len;
      t->n_pieces = 1;
    }
  self->counts.opened_here++;
  *out_plain = t->plain;
  return t->n;
}

void
ts_decrypt_ahead_set_tight (TsDecryptAhead *self)
{
  g_return_if_fail (self->requested_gen == 0); /* (only this thread writes it) */
  g_mutex_lock (&self->lock);
  self->margin = 0;
  /* Half of it is 2 records' room: the helper waits for room often. */
  self->arena_size = 4 * ARENA_NEED;
  g_mutex_unlock (&self->lock);
}

void
ts_decrypt_ahead_set_counts (TsDecryptAhead *self, TsDecryptAheadCounts *out)
{
  self->counts_out = out;
}

gboolean
ts_decrypt_ahead_stable (gpointer user_data, const guint8 *data, gsize len)
{
  TsDecryptAhead *self = user_data;

  return data >= self->data && len <= self->size && data <= self->data + (self->size - len);
}

guint
ts_decrypt_ahead_get_lost (TsDecryptAhead *self)
{
  return (guint)g_atomic_int_get (&self->n_lost);
}

gboolean
ts_decrypt_ahead_take_miss (TsDecryptAhead *self)
{
  gboolean missed = self->missed;

  self->missed = FALSE;
  return missed;
}
