/* ts-analyzer-private.h: knobs of the analyzer for its tests.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "ts-analyzer.h"
#include "ts-decrypt-ahead.h"

G_BEGIN_DECLS

/* Whether a trace fed whole (ts_analyzer_feed_bytes) may have its TLS
 * records opened ahead by a second thread (default TRUE, on a machine with
 * more than one processor). The timeline is the same either way. */
void _ts_analyzer_set_decrypt_ahead (TsAnalyzer *self, gboolean enabled);

/* The helper races the analyzer for every record, with little room to
 * hold them (ts_decrypt_ahead_set_tight): for tests and the fuzzer. */
void _ts_analyzer_set_decrypt_ahead_tight (TsAnalyzer *self, gboolean tight);

/* Every record the helper opened is opened again in the analyzer's thread,
 * and a different result aborts (tests: the plaintext of a body record
 * shows in no event, so a wrong one would otherwise pass unseen). */
void _ts_analyzer_set_decrypt_ahead_checked (TsAnalyzer *self, gboolean checked);

/* What the second thread did (all zero when it did not run), once
 * ts_analyzer_finish () has returned. */
const TsDecryptAheadCounts *_ts_analyzer_get_ahead_counts (TsAnalyzer *self);

G_END_DECLS
