/* ts-proxy-test-util.h: helpers for the ts-proxy tests: a loopback origin
 * (HTTP or HTTPS) in a thread, child processes killed by PID, raw
 * exchanges.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _TsTestOrigin TsTestOrigin;

/* Starts an origin on 127.0.0.1 (ephemeral port). With @cert/@key it speaks
 * TLS. It answers every request "200" with a small body, one request per
 * connection, and remembers the last request head; a request for /early
 * gets "413" at once, its body unread, and the connection closed. */
TsTestOrigin *ts_test_origin_new (const char *cert, const char *key);
guint16 ts_test_origin_get_port (TsTestOrigin *self);
guint ts_test_origin_get_n_requests (TsTestOrigin *self);
char *ts_test_origin_dup_last_head (TsTestOrigin *self);
void ts_test_origin_free (TsTestOrigin *self);

#define TS_TEST_ORIGIN_BODY "hello from the origin\n"

/* Children: spawned with stdout/stderr to @log (may be NULL), killed with
 * SIGTERM then SIGKILL by PID at ts_test_children_kill_all (). */
typedef struct
{
  GArray *pids; /* of GPid */
  char **envp;  /* the children's environment (this process's by default) */
} TsTestChildren;

/* Sets a variable in the children's environment (not in this process's:
 * setenv () is unsafe once threads run). */
void ts_test_children_setenv (TsTestChildren *self, const char *name, const char *value);

void ts_test_children_init (TsTestChildren *self);
GPid ts_test_children_spawn (TsTestChildren *self, const char *const *argv, const char *log);
void ts_test_children_kill (TsTestChildren *self, GPid pid);
void ts_test_children_kill_all (TsTestChildren *self);

/* Starts ts-proxy with @extra_args (NULL-terminated) on an ephemeral port
 * in @dir; returns its port (0 and a test failure when it did not start). */
guint16 ts_test_start_proxy (TsTestChildren *kids, const char *dir, const char *name,
                             const char *const *extra_args);

/* Waits until something listens on 127.0.0.1:@port (up to @timeout_ms). */
gboolean ts_test_wait_port (guint16 port, guint timeout_ms);

/* A port that was free a moment ago. */
guint16 ts_test_free_port (void);

/* Connects to 127.0.0.1:@port, sends @data, then reads until EOF or
 * @timeout_ms. Returns what was read (never NULL). */
GBytes *ts_test_exchange (guint16 port, const void *data, gsize len, guint timeout_ms);
/* The same for a text @request; the response as text (logged with
 * g_test_message ()). */
char *ts_test_exchange_text (guint16 port, const char *request, guint timeout_ms);

/* The status code of the first status line in @resp, or 0. */
guint ts_test_status (GBytes *resp);

/* Runs a command synchronously (it is wrapped in timeout(1) with
 * @timeout_s). Returns its exit status; stdout in @out_stdout. */
int ts_test_run (const char *const *argv, guint timeout_s, char **out_stdout, char **out_stderr);

/* Removes a temporary directory tree. */
void ts_test_rm_rf (const char *path);

G_END_DECLS
