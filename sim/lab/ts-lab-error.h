/* ts-lab-error.h: the error domain of the lab engine.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define TS_LAB_ERROR (ts_lab_error_quark ())

typedef enum
{
  TS_LAB_ERROR_PARSE,     /* a scenario file breaks the syntax: the message names file:line */
  TS_LAB_ERROR_INVALID,   /* a scenario is well-formed but wrong (unknown node, collision...) */
  TS_LAB_ERROR_NOT_FOUND, /* no such scenario, lab, node or program */
  TS_LAB_ERROR_PRIVILEGE, /* namespaces cannot be made here (neither rootless nor root) */
  TS_LAB_ERROR_BUSY,      /* the lab name is taken by a running lab */
  TS_LAB_ERROR_SYSTEM,    /* a system call or helper program failed */
  TS_LAB_ERROR_FAILED,    /* an actor failed to start, a step timed out, ... */
  TS_LAB_ERROR_USAGE,     /* what the command line gave is wrong (a --set, a --lab name) */
} TsLabError;

GQuark ts_lab_error_quark (void);

G_END_DECLS
