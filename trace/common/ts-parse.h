/* ts-parse.h: the return convention of the wire decoders (analyzer, TLS).
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A wire decoder returns a gssize: >= 0 is the number of bytes consumed (or
 * the header length), TS_PARSE_INCOMPLETE means "the input ends too early:
 * give me more", TS_PARSE_INVALID means "these bytes break the format". */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#ifndef TS_PARSE_INCOMPLETE
#define TS_PARSE_INCOMPLETE ((gssize)-2)
#endif
#ifndef TS_PARSE_INVALID
#define TS_PARSE_INVALID ((gssize)-1)
#endif

G_END_DECLS
