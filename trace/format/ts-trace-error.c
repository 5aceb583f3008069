/* ts-trace-error.c: the error domain of the trace format library.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "ts-trace-error.h"

G_DEFINE_QUARK (ts - trace - error - quark, ts_trace_error)
