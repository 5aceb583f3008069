/* tscope-explain.c: tscope explain: a trace as a timeline and a ladder diagram.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "tscope-not-yet.h"

TS_CMD_NOT_YET (ts_cmd_explain, "the analyzer")
