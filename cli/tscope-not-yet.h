/* tscope-not-yet.h: the answer of a subcommand that a later issue fills in.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "tscope.h"

#define TS_CMD_NOT_YET(fn, what)                                              \
  int fn (int argc, char **argv)                                              \
  {                                                                           \
    ts_cli_error ("%s is not built yet (%s)", argv[0], what);                 \
    return TS_EXIT_FAILED;                                                    \
  }
