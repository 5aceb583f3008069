/* ts-prefetch.h: asks the processor for the bytes a trace reader comes to next.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A reader of a trace touches a block header, a few packet headers and a
 * trailer every 1.5 KiB or so: too sparse for the processor to see a stream
 * and fetch ahead by itself, so each of those reads waits for memory (a
 * quarter of the analyzer's time on a trace of full TLS records). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Bytes asked for ahead of a reader's place. */
#define TS_PREFETCH_AHEAD (16 * 1024)

/* Asks for every cache line of @data (@len bytes) in [@at, @at +
 * TS_PREFETCH_AHEAD) not asked for yet: *@fetched is the offset asked for
 * up to, moved on. */
static inline void
ts_prefetch_ahead (const guint8 *data, gsize len, gsize at, gsize *fetched)
{
#if defined(__GNUC__)
  gsize to = at < len ? MIN (len, at + TS_PREFETCH_AHEAD) : len;
  gsize line = MAX (*fetched, at) & ~(gsize)63; /* 64-byte cache lines */

  for (; line < to; line += 64)
    __builtin_prefetch (data + line);
  *fetched = MAX (*fetched, to);
#endif
}

G_END_DECLS
