/* ts-trace-error.h: the error domain of the trace format library.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define TS_TRACE_ERROR (ts_trace_error_quark ())

typedef enum
{
  TS_TRACE_ERROR_TRUNCATED,   /* the input ends inside a block or header */
  TS_TRACE_ERROR_INVALID,     /* a length, type or field breaks the format */
  TS_TRACE_ERROR_TOO_LARGE,   /* a value is over one of the named caps */
  TS_TRACE_ERROR_UNSUPPORTED, /* valid, but not something we read (e.g. a second byte order) */
  TS_TRACE_ERROR_IO,          /* reading or writing the underlying stream failed */
} TsTraceError;

GQuark ts_trace_error_quark (void);

G_END_DECLS
