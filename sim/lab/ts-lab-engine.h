/* ts-lab-engine.h: brings a scenario up as a namespaced mini-network,
 * supervises its actors, captures every link into one trace, runs the
 * timeline, checks the expectations and tears everything down.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The process that calls ts_lab_engine_run () becomes the lab's parent: it
 * takes the lab's lock, writes the nodes' files, enters a user namespace
 * when it is not root, and forks the supervisor as PID 1 of a new PID
 * namespace. The supervisor makes its own network namespace (the backplane,
 * where the userspace wires live; no link to the host), one holder process
 * per node (a network and a mount namespace with the node's hosts file,
 * resolver file and CA bundle), the veth links, addresses, routes, and the
 * captures. Everything lives in namespaces held by processes of that PID
 * namespace: when the supervisor dies, however it dies, the kernel kills
 * them and removes the namespaces, links and mounts; only the lab's
 * directory stays, and ts_lab_registry_reap () removes it.
 */
#pragma once

#include <glib.h>

#include "ts-lab-plan.h"
#include "ts-lab-scenario.h"

G_BEGIN_DECLS

typedef enum
{
  TS_LAB_MODE_RUN,     /* tscope run: timeline, expectations, teardown */
  TS_LAB_MODE_UP,      /* tscope up: stay up, daemonised, until tscope down */
  TS_LAB_MODE_NETWORK, /* bring the network up and down only (benchmarks) */
} TsLabMode;

typedef struct
{
  TsLabMode mode;
  const char *lab;        /* NULL: the scenario's name (run: NAME-2... when taken) */
  const char *trace_path; /* NULL: no trace; "-": standard output */
  gboolean quiet;         /* no summary */
  const char *pki_dir;    /* NULL: the default PKI directory */
} TsLabOptions;

/* Runs @scenario as @options say. Returns the exit status for tscope: 0
 * when the lab came up (up) or every expectation held (run), 128 + N when
 * signal N (SIGINT, SIGTERM, SIGHUP) interrupted it (the expectations are
 * then not checked; @error may say what was interrupted), 1 otherwise,
 * with @error set when the lab could not be made at all (no privileges,
 * busy name, missing program...; TS_LAB_ERROR_USAGE: a bad lab name). */
int ts_lab_engine_run (TsLabScenario *scenario, TsLabPlan *plan, const TsLabOptions *options,
                       GError **error);

G_END_DECLS
