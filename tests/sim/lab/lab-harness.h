/* lab-harness.h: what the lab test programs share: running tscope and other
 * programs, and running each test body in a subprocess with a directory of
 * its own, so that a failing test leaves no lab and no file behind.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Without namespaces the tests skip with the reason, unless
 * TS_REQUIRE_LAB=1, where they fail. */
#pragma once

#include <glib.h>

#include "ts-trace-reader.h"

G_BEGIN_DECLS

/* The tscope under test ($TSCOPE, else the build tree's), and the current
 * test's temporary directory (in the subprocess: inherited). */
extern char *tscope;
extern char *tmp_root;

typedef struct
{
  void (*body) (gconstpointer data);
  gconstpointer data;
} LabTest;

/* Registers @fn (taking gconstpointer, ignored) at @path under run_isolated (). */
#define LAB_TEST_ADD(path, fn)                                                                     \
  G_STMT_START                                                                                     \
  {                                                                                                \
    static const LabTest lab_test_ = { fn, NULL };                                                 \
    g_test_add_data_func (path, &lab_test_, run_isolated);                                         \
  }                                                                                                \
  G_STMT_END

/* Sets tscope and, in a test's subprocess, tmp_root; call after g_test_init (). */
void lab_harness_init (void);
void lab_harness_clear (void);

/* Runs @argv (PATH searched); returns the exit status (128 + signal when
 * killed, -1 when it cannot run). @out and @err, when given, take the
 * output; else standard error is echoed (but tshark's). */
int spawn (char **out, char **err, const char *const *argv);

/* A lab name unique to this process: TAG and a number. Transfer full. */
char *lab_name (const char *tag);

/* Can this machine make the lab's namespaces (and is tshark there)? */
gboolean lab_possible (char **out_reason);

/* Calls @visit for each record of the trace file @path, in order; asserts
 * that the whole file reads without damage. */
void for_each_record (const char *path, void (*visit) (const TsTraceRecord *rec, gpointer data),
                      gpointer data);

/* The g_test data function for a LabTest: in the parent, checks the lab is
 * possible, makes the directory, runs the body in a subprocess, then takes
 * down every lab and removes the directory whatever happened. */
void run_isolated (gconstpointer data);

G_END_DECLS
