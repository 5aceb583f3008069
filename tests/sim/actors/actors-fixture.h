/* actors-fixture.h: a ts-server on loopback with a fresh lab PKI in a temporary
 * directory, helper processes ended by PID in teardown, and ts-client runs.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "ts-lab-pki.h"

G_BEGIN_DECLS

typedef struct
{
  char *tmpdir;
  TsLabPki pki;
  char *events; /* TS_EVENTS of every process started here */
  char *keylog; /* SSLKEYLOGFILE of every process started here */
  GSubprocess *server;
  int http_port;
  int https_port;
  int smtp_port;
  int udp_port;
  int dns_port;
  GPtrArray *procs; /* GSubprocess: every process started, ended by PID in teardown */
} ActorsFixture;

/* Makes the temporary directory and the PKI; starts ts-server with
 * @extra_args (NULL-terminated, may be NULL) on 127.0.0.1, every port
 * ephemeral, and reads the ports it prints. */
void actors_fixture_setup_with (ActorsFixture *f, const char *const *extra_args);
void actors_fixture_setup (ActorsFixture *f, gconstpointer data);
/* Ends every process by its PID (SIGTERM, then SIGKILL after 5 s) and
 * removes the temporary directory. */
void actors_fixture_teardown (ActorsFixture *f, gconstpointer data);

/* A launcher with the lab contract variables pointing into @f's directory
 * and no proxy variables (curl would honour them). */
GSubprocessLauncher *actors_fixture_launcher (ActorsFixture *f, const char *node,
                                              GSubprocessFlags flags);

/* Starts @argv with @f's environment, standard output and error to
 * TMPDIR/NODE.out and NODE.err; it is ended in teardown. Transfer none. */
GSubprocess *actors_fixture_spawn (ActorsFixture *f, const char *node, const char *const *argv);

/* Ends @p by its PID now (SIGTERM, then SIGKILL after 5 s) and waits for it;
 * teardown then finds it already gone. */
void actors_fixture_end (GSubprocess *p);

/* Runs ts-client with @args (NULL-terminated) and waits for it. Returns its
 * exit status; standard output and error go to @out_stdout and @out_stderr
 * (transfer full, may be NULL). */
int actors_fixture_run_client (ActorsFixture *f, const char *const *args, char **out_stdout,
                               char **out_stderr);

/* Runs any program and waits for it, like actors_fixture_run_client (). */
int actors_fixture_run (ActorsFixture *f, const char *const *argv, char **out_stdout,
                        char **out_stderr);

/* "example.com:PORT:127.0.0.1" for --resolve (transfer full). */
char *actors_fixture_resolve (int port);

/* A TCP port free on 127.0.0.1 right now (for programs that cannot be told
 * to pick one). */
int actors_fixture_free_port (void);

/* Waits until something accepts on 127.0.0.1:@port, up to @timeout_s; FALSE
 * when nothing does or @proc exited. */
gboolean actors_fixture_wait_port (GSubprocess *proc, int port, double timeout_s);

/* The path of a program built here (TS_SERVER, TS_CLIENT from the
 * environment meson sets). */
const char *actors_fixture_program (const char *env_name);

G_END_DECLS
