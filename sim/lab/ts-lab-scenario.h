/* ts-lab-scenario.h: a lab scenario: nodes, links, actors, timeline, expectations.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A scenario file is plain text in an INI-like form (documented in
 * sim/scenarios/README.md):
 *
 *   # a comment
 *   [scenario]
 *   description = A client fetches a page through a CONNECT proxy.
 *   [node client]
 *   role = client
 *   [link client-proxy]
 *   delay = 50ms
 *   [actor tinyproxy]
 *   node = proxy
 *   command = exec tinyproxy -d -c "$TS_NODE_DIR/tinyproxy.conf"
 *   [file tinyproxy.conf]
 *   node = proxy
 *   text = <<END
 *   Port 8080
 *   END
 *   [step fetch]
 *   node = client
 *   command = curl -sS https://example.com/
 *   [expect fetched]
 *   step = fetch
 *   exit = 0
 *
 * Every error names the file and line ("connect.scenario:12: ...") and what
 * is wrong. Values set with ts_lab_scenario_set () (tscope's --set) replace
 * the file's before the scenario is checked.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Caps on what a scenario file controls. */
#define TS_LAB_SCENARIO_MAX_BYTES (1024 * 1024) /* a scenario file */
#define TS_LAB_SCENARIO_MAX_SECTIONS 512        /* sections in a file */
#define TS_LAB_SCENARIO_MAX_KEYS 64             /* keys in one section ([vars]) */
#define TS_LAB_MAX_NODES 16                     /* nodes in one lab */
#define TS_LAB_MAX_LINKS 32                     /* links in one lab */
#define TS_LAB_MAX_NODE_NAME 12                 /* "ts-" + lab prefix must fit IFNAMSIZ */

typedef struct
{
  char *name;
  char *role;       /* client, proxy, server, or any word */
  char **names;     /* extra host names (e.g. example.com), may be empty */
  char **trust;     /* CAs the node trusts: "web", "intercept" */
  gboolean forward; /* IP forwarding (off: a proxy is no router) */
  guint line;
} TsLabNode;

typedef struct
{
  char *name; /* "A-B" */
  char *a;    /* first end (client side) */
  char *b;
  guint64 delay_ns;  /* one-way, per direction */
  guint64 jitter_ns; /* uniform, +/- */
  double loss;       /* 0..1, per packet and direction */
  guint64 rate_bps;  /* 0: unlimited */
  guint mtu;
  char *subnet4; /* NULL: planned */
  char *subnet6;
  gboolean capture;
  gboolean offload; /* TSO/GSO/GRO/checksum offload left on (capture = no only) */
  guint line;
} TsLabLink;

typedef struct
{
  char *name;
  char *node;
  char *command;    /* run by /bin/sh -c in the node */
  guint ready_port; /* 0: ready at once; else: when something listens on TCP port */
  guint line;
} TsLabActor;

typedef struct
{
  char *name;
  char *node;
  char *command;
  guint64 timeout_ns;
  guint64 pause_ns; /* wait this long before the step */
  guint line;
} TsLabStep;

typedef enum
{
  TS_LAB_EXIT_ANY,
  TS_LAB_EXIT_ZERO,
  TS_LAB_EXIT_NONZERO,
  TS_LAB_EXIT_CODE,
} TsLabExitRule;

typedef struct
{
  char *name;
  char *description;
  char *step; /* NULL: not about a step */
  TsLabExitRule exit_rule;
  int exit_code; /* for TS_LAB_EXIT_CODE */
  char *output_contains;
  char *output_lacks;
  char *event; /* an event kind that must (or, with absent, must not) appear */
  char *event_node;
  gboolean event_absent;
  guint line;
} TsLabExpect;

typedef struct
{
  char *name;   /* file name inside the node's directory */
  char **nodes; /* nodes that get it */
  char *text;
  guint line;
} TsLabFile;

typedef struct _TsLabScenario TsLabScenario;

struct _TsLabScenario
{
  char *path;
  char *name;
  char *description;
  gboolean ipv6;
  GPtrArray *nodes;   /* TsLabNode */
  GPtrArray *links;   /* TsLabLink */
  GPtrArray *actors;  /* TsLabActor */
  GPtrArray *steps;   /* TsLabStep */
  GPtrArray *expects; /* TsLabExpect */
  GPtrArray *files;   /* TsLabFile */
};

/* Parses @text (@len bytes; -1: NUL-terminated) named @path (for messages;
 * its base name without ".scenario" is the default scenario name). @sets
 * (NULL-terminated "KEY=VALUE" strings, may be NULL) override values:
 * KEY is "scenario.KEY" or "TYPE.NAME.KEY" ("link.client-proxy.delay").
 * Returns NULL with a TS_LAB_ERROR whose message starts "FILE:LINE: " (or
 * "--set KEY: ") on any error. Transfer full. */
TsLabScenario *ts_lab_scenario_new_from_data (const char *path, const char *text, gssize len,
                                              const char *const *sets, GError **error);
TsLabScenario *ts_lab_scenario_new_from_file (const char *path, const char *const *sets,
                                              GError **error);

/* Finds a scenario by name (or path: anything with a '/' or ending in
 * ".scenario") in $TS_SCENARIO_PATH, the source tree, and the installed data
 * directory. Returns the path (transfer full) or NULL with
 * TS_LAB_ERROR_NOT_FOUND naming the places looked at. */
char *ts_lab_scenario_find (const char *name, GError **error);

/* Paths of every built-in scenario, sorted by name (transfer full). */
GPtrArray *ts_lab_scenario_list_builtin (void);

/* Lookups; NULL when absent. Borrowed. */
TsLabNode *ts_lab_scenario_get_node (TsLabScenario *self, const char *name);
TsLabLink *ts_lab_scenario_get_link (TsLabScenario *self, const char *name);
TsLabStep *ts_lab_scenario_get_step (TsLabScenario *self, const char *name);

/* Parses "50ms", "1.5s", "200us", "0" (nanoseconds) and "10mbit", "1gbit",
 * "64kbit", "1000bit" (bits per second). FALSE on malformed input. */
gboolean ts_lab_parse_duration (const char *text, guint64 *out_ns);
gboolean ts_lab_parse_rate (const char *text, guint64 *out_bps);

void ts_lab_scenario_free (TsLabScenario *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TsLabScenario, ts_lab_scenario_free)

G_END_DECLS
