/* tscope-lesson.c: tscope lesson: the lessons in a terminal.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "tscope-not-yet.h"

TS_CMD_NOT_YET (ts_cmd_lesson, "the lessons")
