/* ts-lab-registry.h: where labs live while they run: a directory per lab
 * with its lock, and the way into a running lab's nodes.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The base directory is $TS_LAB_RUNDIR if set, else /run/tunnelscope/labs
 * for root, else $XDG_RUNTIME_DIR/tunnelscope/labs (or
 * /tmp/tunnelscope-UID/labs without XDG_RUNTIME_DIR). Each lab has
 * BASE/LAB/ holding:
 *
 *   lock            flock(2)ed by the lab's supervisor for as long as it lives
 *   supervisor.pid  the supervisor's PID as seen from outside the lab
 *   state           a key file: scenario, mode, the nodes' PIDs inside the lab
 *   nodes/NODE/     the node's files: hosts, resolv.conf, certs/, key log, events,
 *                   actor and step logs, files from the scenario
 *
 * Everything else a lab makes (namespaces, links, mounts, processes) lives
 * in namespaces held only by the supervisor's PID namespace, so the kernel
 * removes it when the supervisor dies, even by SIGKILL. A directory whose
 * lock is free is what a dead lab left: ts_lab_registry_reap () removes it.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  char *name;
  char *scenario;
  int supervisor_pid;
  gboolean alive; /* its lock is held */
  gboolean rootless;
  char **nodes;
} TsLabInfo;

/* A lab's name is its directory's name and what down, exec and status take:
 * a letter or digit, then letters, digits, '-', '_' or '.', at most this
 * many bytes (a scenario's name fits; nothing the kernel names depends on
 * it: the namespaces are unnamed, interfaces take node names, and a
 * process name keeps the first 15 bytes of "ts-LAB"). */
#define TS_LAB_MAX_NAME 64

void ts_lab_info_free (TsLabInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TsLabInfo, ts_lab_info_free)

/* Is @name a lab name (see TS_LAB_MAX_NAME)? FALSE with TS_LAB_ERROR_USAGE
 * saying what a name may be. */
gboolean ts_lab_registry_check_name (const char *name, GError **error);

/* The base directory (transfer full); created (0700) when @create. */
char *ts_lab_registry_base (gboolean create, GError **error);

/* Takes the lock of lab @name, after removing what a dead lab of that name
 * left. Returns the locked fd (keep it open for the lab's life) and the lab
 * directory in @out_dir, or -1 with TS_LAB_ERROR_BUSY when a live lab holds
 * the name. */
int ts_lab_registry_lock (const char *name, char **out_dir, GError **error);

/* Removes the directory of lab @name; the caller holds its lock (@lock_fd),
 * which is closed. */
void ts_lab_registry_remove (const char *dir, int lock_fd);

/* Removes the directories of every lab whose lock is free; returns how many. */
guint ts_lab_registry_reap (void);

/* Every lab in the base directory (TsLabInfo, transfer full). */
GPtrArray *ts_lab_registry_list (void);

/* Resolves @name (NULL: the only lab that runs) to a live lab. */
TsLabInfo *ts_lab_registry_find (const char *name, GError **error);

/* Runs @argv (NULL: an interactive shell) inside @node of lab @info, with
 * the lab contract's environment, and returns its exit status (128+signal
 * when killed), or -1 with @error when the node cannot be entered or the
 * command cannot be run (TS_LAB_ERROR_NOT_FOUND: "cannot run CMD: why").
 * Prints nothing itself. */
int ts_lab_registry_exec (TsLabInfo *info, const char *node, char **argv, GError **error);

/* Asks lab @info's supervisor to tear down (SIGTERM), waits up to
 * @timeout_ms for its lock to be free (SIGKILL after that: the kernel then
 * removes its namespaces), and removes its directory. */
gboolean ts_lab_registry_stop (TsLabInfo *info, guint timeout_ms, GError **error);

G_END_DECLS
