/* tscope-lab.c: the lab subcommands (list, up, down, status, exec, shell, run, record).
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "tscope-not-yet.h"

TS_CMD_NOT_YET (ts_cmd_list, "the lab engine")
TS_CMD_NOT_YET (ts_cmd_up, "the lab engine")
TS_CMD_NOT_YET (ts_cmd_down, "the lab engine")
TS_CMD_NOT_YET (ts_cmd_status, "the lab engine")
TS_CMD_NOT_YET (ts_cmd_exec, "the lab engine")
TS_CMD_NOT_YET (ts_cmd_shell, "the lab engine")
TS_CMD_NOT_YET (ts_cmd_run, "the lab engine")
TS_CMD_NOT_YET (ts_cmd_record, "the lab engine")
