/* test-lab.c: the lab for real: run, capture, names, teardown, SIGKILL, side by side, delay, crash,
 * rootless. SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every test body runs in a subprocess (g_test_trap_subprocess); the parent
 * then runs 'tscope down --all' in the test's own lab directory and removes
 * its temporary directory, so a failing test leaves nothing running.
 * Without namespaces the tests skip with the reason, unless
 * TS_REQUIRE_LAB=1, where they fail. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-glib/json-glib.h>

#include "lab-harness.h"
#include "ts-lab-registry.h"
#include "ts-trace-reader.h"

/* ------------------------------------------------------------------ */
/* Helpers.                                                            */

/* Runs tscope with the NULL-terminated arguments. */
static int run_tscope (char **out, char **err, ...) G_GNUC_NULL_TERMINATED;

static int
run_tscope (char **out, char **err, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  va_list args;
  const char *arg;
  int rc;

  g_ptr_array_add (argv, tscope);
  va_start (args, err);
  while ((arg = va_arg (args, const char *)) != NULL)
    g_ptr_array_add (argv, (gpointer)arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);
  rc = spawn (out, err, (const char *const *)argv->pdata);
  if (out != NULL && *out != NULL && rc != 0)
    g_printerr ("%s", *out);
  return rc;
}

static char *
tmp_path (const char *name)
{
  return g_build_filename (tmp_root, name, NULL);
}

/* PIDs whose command name says they belong to lab @lab: "ts-LAB" (the
 * supervisor) or "ts-LAB-NODE" (a node's holder), cut to 15 bytes. */
static GArray *
lab_pids (const char *lab)
{
  GArray *pids = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr (GDir) d = g_dir_open ("/proc", 0, NULL);
  g_autofree char *prefix = g_strdup_printf ("ts-%s", lab);
  const char *entry;

  prefix[MIN (strlen (prefix), 15)] = '\0';
  while ((entry = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_strdup_printf ("/proc/%s/comm", entry);
      g_autofree char *stat_path = g_strdup_printf ("/proc/%s/stat", entry);
      g_autofree char *comm = NULL, *stat = NULL;
      int pid = atoi (entry);

      if (pid <= 0 || !g_file_get_contents (path, &comm, NULL, NULL))
        continue;
      g_strchomp (comm);
      if (!g_str_has_prefix (comm, prefix)
          || (comm[strlen (prefix)] != '\0' && comm[strlen (prefix)] != '-'))
        continue;
      /* A zombie holds no namespace. */
      if (g_file_get_contents (stat_path, &stat, NULL, NULL) && strstr (stat, ") Z ") != NULL)
        continue;
      g_array_append_val (pids, pid);
    }
  return pids;
}

static GHashTable *
netns_of (GArray *pids)
{
  GHashTable *set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; i < pids->len; i++)
    {
      g_autofree char *path = g_strdup_printf ("/proc/%d/ns/net", g_array_index (pids, int, i));
      char *target = g_file_read_link (path, NULL);
      if (target != NULL)
        g_hash_table_add (set, target);
    }
  return set;
}

/* Does any process on the machine still use one of @inodes? */
static gboolean
netns_in_use_now (GHashTable *inodes)
{
  g_autoptr (GDir) d = g_dir_open ("/proc", 0, NULL);
  const char *entry;

  while ((entry = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_strdup_printf ("/proc/%s/ns/net", entry);
      g_autofree char *target = NULL;
      if (atoi (entry) <= 0)
        continue;
      target = g_file_read_link (path, NULL);
      if (target != NULL && g_hash_table_contains (inodes, target))
        {
          g_autofree char *comm_path = g_strdup_printf ("/proc/%s/cmdline", entry);
          g_autofree char *comm = NULL;
          g_file_get_contents (comm_path, &comm, NULL, NULL);
          g_test_message ("process %s (%s) is still in %s", entry, comm ? comm : "?", target);
          return TRUE;
        }
    }
  return FALSE;
}

/* Is one of @inodes still in use after 5 s? (A sanitizer's leak check
 * at exit keeps a process, and its namespaces, a while.) */
static gboolean
netns_in_use (GHashTable *inodes)
{
  for (int i = 0; i < 500; i++)
    {
      if (!netns_in_use_now (inodes))
        return FALSE;
      g_usleep (10000);
    }
  return TRUE;
}

/* Waits up to 5 s for every process of @lab to be gone. */
static gboolean
lab_gone (const char *lab)
{
  for (int i = 0; i < 500; i++)
    {
      g_autoptr (GArray) pids = lab_pids (lab);
      if (pids->len == 0)
        return TRUE;
      g_usleep (10000);
    }
  return FALSE;
}

static char *
lab_dir (const char *lab)
{
  return g_build_filename (g_getenv ("TS_LAB_RUNDIR"), lab, NULL);
}

/* The host side: no interface of ours, and /etc/hosts untouched. */
static void
assert_host_untouched (const char *hosts_before)
{
  g_autofree char *hosts = NULL;
  g_autofree char *links = NULL;
  const char *argv[] = { "ip", "-o", "link", "show", NULL };

  g_assert_true (g_file_get_contents ("/etc/hosts", &hosts, NULL, NULL));
  g_assert_cmpstr (hosts, ==, hosts_before);
  g_assert_cmpint (spawn (&links, NULL, argv), ==, 0);
  g_assert_null (strstr (links, ": w0-a"));
  g_assert_null (strstr (links, "203.0.113"));
}

static char *
tshark (const char *trace, const char *filter, const char *field, const char *extra)
{
  const char *argv[16];
  int n = 0;
  char *out = NULL;

  argv[n++] = "tshark";
  argv[n++] = "-n";
  argv[n++] = "-r";
  argv[n++] = trace;
  if (extra != NULL)
    {
      argv[n++] = "-o";
      argv[n++] = extra;
    }
  if (filter != NULL)
    {
      argv[n++] = "-Y";
      argv[n++] = filter;
    }
  argv[n++] = "-T";
  argv[n++] = "fields";
  argv[n++] = "-e";
  argv[n++] = field;
  argv[n] = NULL;
  g_assert_cmpint (spawn (&out, NULL, argv), ==, 0);
  return out;
}

/* Every event kind in @trace, with its node: "node kind\n" lines. */
static void
add_event_line (const TsTraceRecord *rec, gpointer data)
{
  if (rec->kind == TS_TRACE_RECORD_EVENT)
    g_string_append_printf (data, "%s %s\n", ts_trace_event_get_node (rec->event),
                            ts_trace_event_get_kind (rec->event));
}

static char *
trace_events (const char *trace)
{
  GString *out = g_string_new (NULL);

  for_each_record (trace, add_event_line, out);
  return g_string_free (out, FALSE);
}

typedef struct
{
  GArray *packets; /* guint64 per interface */
  GArray *stats;   /* TsTraceStatistics per interface */
} Counts;

static void
count_record (const TsTraceRecord *rec, gpointer data)
{
  Counts *c = data;

  if (rec->kind == TS_TRACE_RECORD_INTERFACE)
    {
      TsTraceStatistics unknown = { G_MAXUINT64, G_MAXUINT64, G_MAXUINT64, G_MAXUINT64 };
      g_array_set_size (c->packets, c->packets->len + 1);
      g_array_append_val (c->stats, unknown);
    }
  else if (rec->kind == TS_TRACE_RECORD_PACKET)
    g_array_index (c->packets, guint64, rec->interface_id)++;
  else if (rec->kind == TS_TRACE_RECORD_STATISTICS)
    g_array_index (c->stats, TsTraceStatistics, rec->interface_id) = rec->statistics;
}

/* For each interface of @trace: "ifN packets=P delivered=D lost=L\n", from
 * its packets and its statistics block (D and L -1 when it has none). */
static char *
trace_statistics (const char *trace)
{
  g_autoptr (GArray) packets = g_array_new (FALSE, TRUE, sizeof (guint64));
  g_autoptr (GArray) stats = g_array_new (FALSE, TRUE, sizeof (TsTraceStatistics));
  Counts c = { packets, stats };
  GString *out = g_string_new (NULL);

  for_each_record (trace, count_record, &c);
  for (guint i = 0; i < packets->len; i++)
    {
      const TsTraceStatistics *st = &g_array_index (stats, TsTraceStatistics, i);
      g_string_append_printf (
          out,
          "if%u packets=%" G_GUINT64_FORMAT " delivered=%" G_GINT64_FORMAT " lost=%" G_GINT64_FORMAT
          "\n",
          i, g_array_index (packets, guint64, i), (gint64)st->delivered,
          st->delivered == G_MAXUINT64 ? -1 : (gint64)ts_trace_statistics_capture_lost (st));
    }
  return g_string_free (out, FALSE);
}

static void
write_scenario (const char *path, const char *text)
{
  g_autoptr (GError) error = NULL;
  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
}

/* ------------------------------------------------------------------ */
/* Tests.                                                              */

static void
test_run_connect (gconstpointer data)
{
  g_autofree char *lab = lab_name ("conn");
  g_autofree char *trace = tmp_path ("t.pcapng");
  g_autofree char *out = NULL;
  g_autofree char *hosts_before = NULL;
  g_autofree char *connect = NULL, *hello = NULL, *get = NULL, *ifaces = NULL, *descs = NULL,
                  *events = NULL;
  g_autofree char *noise = NULL, *addrs = NULL, *addrs6 = NULL;
  g_autofree char *dir = lab_dir (lab);

  g_file_get_contents ("/etc/hosts", &hosts_before, NULL, NULL);
  g_assert_cmpint (run_tscope (&out, NULL, "run", "connect", "-o", trace, "--lab", lab, NULL), ==,
                   0);
  /* The newcomer's summary. */
  g_assert_nonnull (strstr (out, "Scenario connect:"));
  g_assert_nonnull (strstr (out, "client-proxy"));
  g_assert_nonnull (strstr (out, "[held]   fetched"));
  g_assert_nonnull (strstr (out, "Result: PASS"));
  g_assert_nonnull (strstr (out, trace));

  /* The CONNECT on the client-proxy link only. */
  connect = tshark (trace, "http.request.method == \"CONNECT\"", "frame.interface_name", NULL);
  g_assert_cmpstr (connect, ==, "client-proxy\n");
  /* A TLS handshake on both links (ClientHello and ServerHello each). */
  hello = tshark (trace, "tls.handshake.type == 1 || tls.handshake.type == 2",
                  "frame.interface_name", NULL);
  g_assert_nonnull (strstr (hello, "client-proxy\n"));
  g_assert_nonnull (strstr (hello, "proxy-server\n"));
  /* The inner GET, decrypted from the secrets inside the trace alone. */
  get = tshark (trace, "http.request.method == \"GET\"", "frame.interface_name",
                "tls.keylog_file:/dev/null");
  g_assert_nonnull (strstr (get, "client-proxy\n"));
  g_assert_nonnull (strstr (get, "proxy-server\n"));
  /* Each link's capture says what it delivered (every packet in the trace)
   * and lost (nothing, at this pace). */
  {
    g_autofree char *stats = trace_statistics (trace);
    g_auto (GStrv) lines = g_strsplit (stats, "\n", -1);
    guint64 packets, delivered;
    gint64 lost;
    guint id;

    g_test_message ("%s", stats);
    g_assert_cmpuint (g_strv_length (lines), ==, 3);
    for (guint i = 0; i < 2; i++)
      {
        g_assert_cmpint (sscanf (lines[i],
                                 "if%u packets=%" G_GUINT64_FORMAT " delivered=%" G_GUINT64_FORMAT
                                 " lost=%" G_GINT64_FORMAT,
                                 &id, &packets, &delivered, &lost),
                         ==, 4);
        g_assert_cmpuint (packets, >, 0);
        g_assert_cmpuint (delivered, ==, packets);
        g_assert_cmpint (lost, ==, 0);
      }
  }
  /* One interface per link, named after it, saying which end it captures. */
  ifaces = tshark (trace, NULL, "frame.interface_name", NULL);
  descs = tshark (trace, "frame.interface_name == \"proxy-server\"", "frame.interface_description",
                  NULL);
  g_assert_nonnull (strstr (
      descs, "link proxy-server captured at node proxy (interface server, towards server)"));
  {
    g_auto (GStrv) lines = g_strsplit (ifaces, "\n", -1);
    for (guint i = 0; lines[i] != NULL; i++)
      g_assert_true (lines[i][0] == '\0' || g_str_equal (lines[i], "client-proxy")
                     || g_str_equal (lines[i], "proxy-server"));
  }
  /* No noise (MLD, router solicitations or advertisements, and, since
   * every node knows its neighbours, no neighbour discovery or ARP) and no
   * address outside the documentation ranges. */
  noise = tshark (trace, "icmpv6.type >= 130 && icmpv6.type <= 137 || icmpv6.type == 143 || arp",
                  "frame.number", NULL);
  g_assert_cmpstr (noise, ==, "");
  addrs = tshark (trace, "ip or ipv6", "ip.addr", NULL);
  addrs6 = tshark (trace, "ipv6", "ipv6.addr", NULL);
  {
    g_auto (GStrv) v4 = g_strsplit_set (addrs, "\n,", -1);
    g_auto (GStrv) v6 = g_strsplit_set (addrs6, "\n,", -1);
    for (guint i = 0; v4[i] != NULL; i++)
      g_assert_true (v4[i][0] == '\0' || g_str_has_prefix (v4[i], "192.0.2.")
                     || g_str_has_prefix (v4[i], "198.51.100.")
                     || g_str_has_prefix (v4[i], "203.0.113."));
    for (guint i = 0; v6[i] != NULL; i++)
      g_assert_true (v6[i][0] == '\0' || g_str_has_prefix (v6[i], "2001:db8:")
                     || g_str_has_prefix (v6[i], "ff02::1:ff"));
  }
  events = trace_events (trace);
  g_assert_true (g_str_has_prefix (events, "lab lab.metadata\n"));
  g_assert_nonnull (strstr (events, "client lab.step.finished\n"));
  g_assert_nonnull (strstr (events, "lab lab.expectation\n"));
  /* The summary counts the events as trace-info does (the metadata too),
   * and says the secrets are inside when they are. */
  {
    guint n_events = 0;
    g_autofree char *said = NULL, *info = NULL, *info_stdin = NULL, *err = NULL;
    const char *argv[]
        = { "/bin/sh", "-c", "exec \"$0\" trace-info - < \"$1\"", tscope, trace, NULL };

    for (const char *c = events; *c; c++)
      n_events += *c == '\n';
    said = g_strdup_printf (" TLS key log lines, %u events (the lab's metadata and %u from the lab "
                            "and its actors)\n",
                            n_events, n_events - 1);
    g_assert_nonnull (strstr (out, said));
    g_assert_nonnull (strstr (out, "(the TLS secrets are inside)"));
    g_clear_pointer (&said, g_free);
    said = g_strdup_printf ("\nevents: %u (first: lab.metadata)\n", n_events);
    g_assert_cmpint (run_tscope (&info, NULL, "trace-info", trace, NULL), ==, 0);
    g_assert_nonnull (strstr (info, said));
    /* '-' is standard input, as for explain. */
    g_assert_cmpint (spawn (&info_stdin, &err, argv), ==, 0);
    g_assert_cmpstr (err, ==, "");
    g_assert_true (g_str_has_prefix (info_stdin, "standard input: pcapng, scenario connect"));
    g_assert_cmpstr (strchr (info_stdin, '\n'), ==, strchr (info, '\n'));
  }

  /* Nothing left behind. */
  g_assert_true (lab_gone (lab));
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
  assert_host_untouched (hosts_before);
}

static void
test_segments (gconstpointer data)
{
  g_autofree char *lab = lab_name ("seg");
  g_autofree char *trace = tmp_path ("d.pcapng");
  g_autofree char *lens = NULL, *sums = NULL, *sums4 = NULL;
  g_auto (GStrv) lines = NULL;
  guint n = 0, full = 0;

  /* A response of some 20 KB, so that the server sends full segments. */
  g_assert_cmpint (
      run_tscope (NULL, NULL, "run", "direct", "-o", trace, "--lab", lab, "-q", "--set",
                  "step.fetch.command=ts-client https://example.com/chunked?n=1000", NULL),
      ==, 0);
  lens = tshark (trace, "tcp", "frame.len", NULL);
  lines = g_strsplit (lens, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (lines[i][0] != '\0')
      {
        guint len = atoi (lines[i]);
        g_assert_cmpuint (len, <=, 1500 + 14); /* the MTU plus the Ethernet header */
        n++;
        full += len == 1514;
      }
  g_assert_cmpuint (n, >, 10);
  g_assert_cmpuint (full, >, 0); /* the server's flight was cut into full segments */
  /* Every TCP checksum valid (status 1 = good), and IPv4 header ones. */
  sums = tshark (trace, "tcp", "tcp.checksum.status", "tcp.check_checksum:TRUE");
  g_strdelimit (sums, "\n", ' ');
  g_assert_null (strstr (sums, "0"));
  g_assert_null (strstr (sums, "2"));
  sums4 = tshark (trace, "ip", "ip.checksum.status", "ip.check_checksum:TRUE");
  g_strdelimit (sums4, "\n", ' ');
  g_assert_null (strstr (sums4, "0"));
  g_assert_true (lab_gone (lab));
}

static void
test_up_exec_down (gconstpointer data)
{
  g_autofree char *lab = lab_name ("up");
  g_autofree char *out = NULL, *err = NULL;
  g_autofree char *hosts_before = NULL;
  g_autofree char *dir = lab_dir (lab);
  g_autoptr (GArray) pids = NULL;
  g_autoptr (GHashTable) inodes = NULL;

  g_file_get_contents ("/etc/hosts", &hosts_before, NULL, NULL);
  g_assert_cmpint (run_tscope (&out, NULL, "up", "connect", "--lab", lab, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "is up"));
  g_clear_pointer (&out, g_free);
  /* The name is taken now. */
  g_assert_cmpint (run_tscope (NULL, &err, "up", "connect", "--lab", lab, NULL), ==, 1);
  g_assert_nonnull (strstr (err, "is running"));
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (run_tscope (&out, NULL, "status", NULL), ==, 0);
  g_assert_nonnull (strstr (out, lab));
  g_assert_nonnull (strstr (out, "running"));
  g_clear_pointer (&out, g_free);

  /* Inside a node: its own addresses, names and trust. */
  g_assert_cmpint (
      run_tscope (&out, NULL, "exec", "--lab", lab, "client", "--", "ip", "-o", "addr", NULL), ==,
      0);
  g_assert_nonnull (strstr (out, "192.0.2.1/24"));
  g_assert_nonnull (strstr (out, "2001:db8:1::1/64"));
  g_assert_null (strstr (out, "fe80"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (
      run_tscope (&out, NULL, "exec", "--lab", lab, "client", "--", "cat", "/etc/hosts", NULL), ==,
      0);
  g_assert_nonnull (strstr (out, "server.test server example.com"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_tscope (&out, NULL, "exec", "--lab", lab, "client", "--", "curl", "-sS",
                               "--proxy", "http://proxy.test:8080", "-o", "/dev/null", "-w",
                               "%{http_code}", "https://example.com/", NULL),
                   ==, 0);
  g_assert_cmpstr (out, ==, "200");
  g_clear_pointer (&out, g_free);
  /* Around the proxy: the packets go to the proxy's node, which drops them. */
  g_assert_cmpint (run_tscope (NULL, &err, "exec", "--lab", lab, "client", "--", "curl", "-sS",
                               "-4", "-m", "1", "https://example.com/", NULL),
                   ==, 28);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_tscope (NULL, &err, "exec", "--lab", lab, "nosuchnode", "--", "true", NULL),
                   ==, 1);
  g_assert_nonnull (strstr (err, "has no node 'nosuchnode' (its nodes: client, proxy, server)"));
  g_clear_pointer (&err, g_free);
  assert_host_untouched (hosts_before);

  pids = lab_pids (lab);
  g_assert_cmpuint (pids->len, ==, 4); /* supervisor and three holders */
  inodes = netns_of (pids);
  g_assert_cmpuint (g_hash_table_size (inodes), ==, 4); /* backplane and three nodes */

  /* Bad usage is told apart from a lab that is not there (exit 2). */
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_tscope (NULL, &err, "down", "--lab", "bad name", NULL), ==, 2);
  g_assert_nonnull (strstr (err, "bad lab name"));
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_tscope (NULL, &err, "status", lab, NULL), ==, 2);
  g_assert_nonnull (strstr (err, "unexpected argument"));

  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_tscope (&out, NULL, "down", "--lab", lab, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "is down"));
  g_assert_true (lab_gone (lab));
  g_assert_false (netns_in_use (inodes));
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
  assert_host_untouched (hosts_before);
}

static void
test_sigkill (gconstpointer data)
{
  g_autofree char *lab = lab_name ("kill");
  g_autofree char *out = NULL;
  g_autofree char *dir = lab_dir (lab);
  g_autofree char *pid_path = g_build_filename (dir, "supervisor.pid", NULL);
  g_autofree char *pid_text = NULL;
  g_autoptr (GArray) pids = NULL;
  g_autoptr (GHashTable) inodes = NULL;
  int supervisor;

  g_assert_cmpint (run_tscope (NULL, NULL, "up", "connect", "--lab", lab, NULL), ==, 0);
  g_assert_true (g_file_get_contents (pid_path, &pid_text, NULL, NULL));
  supervisor = atoi (pid_text);
  pids = lab_pids (lab);
  g_assert_cmpuint (pids->len, ==, 4);
  inodes = netns_of (pids);
  g_assert_cmpint (kill (supervisor, SIGKILL), ==, 0);
  /* The kernel ends the lab's PID namespace, its namespaces and links. */
  g_assert_true (lab_gone (lab));
  g_assert_false (netns_in_use (inodes));
  g_assert_cmpint (run_tscope (&out, NULL, "status", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "dead"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_tscope (&out, NULL, "down", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "Removed what 1 dead lab left."));
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_tscope (&out, NULL, "status", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "No lab is running."));
}

static void
test_side_by_side (gconstpointer data)
{
  g_autofree char *a = lab_name ("sa");
  g_autofree char *b = lab_name ("sb");
  g_autofree char *out = NULL, *err = NULL;

  g_assert_cmpint (run_tscope (NULL, NULL, "up", "connect", "--lab", a, "--set",
                               "link.proxy-server.capture=no", "--set",
                               "link.proxy-server.offload=yes", NULL),
                   ==, 0);
  g_assert_cmpint (run_tscope (NULL, NULL, "up", "connect", "--lab", b, "--set",
                               "link.client-proxy.delay=5ms", NULL),
                   ==, 0);
  /* Offloads are off on lab links, unless a link without capture asks. */
  g_assert_cmpint (
      run_tscope (&out, NULL, "exec", "--lab", a, "proxy", "--", "ethtool", "-k", "client", NULL),
      ==, 0);
  g_assert_nonnull (strstr (out, "tx-tcp-segmentation: off"));
  g_assert_nonnull (strstr (out, "generic-segmentation-offload: off"));
  g_assert_nonnull (strstr (out, "generic-receive-offload: off"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (
      run_tscope (&out, NULL, "exec", "--lab", a, "proxy", "--", "ethtool", "-k", "server", NULL),
      ==, 0);
  g_assert_nonnull (strstr (out, "tx-tcp-segmentation: on"));
  g_assert_nonnull (strstr (out, "generic-segmentation-offload: on"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_tscope (&out, NULL, "status", NULL), ==, 0);
  g_assert_nonnull (strstr (out, a));
  g_assert_nonnull (strstr (out, b));
  g_clear_pointer (&out, g_free);
  /* Without --lab, exec and down do not guess. */
  g_assert_cmpint (run_tscope (NULL, &err, "exec", "client", "--", "true", NULL), ==, 1);
  g_assert_nonnull (strstr (err, "2 labs are running"));
  g_clear_pointer (&err, g_free);
  for (int i = 0; i < 2; i++)
    {
      g_assert_cmpint (run_tscope (&out, NULL, "exec", "--lab", i ? b : a, "client", "--", "curl",
                                   "-sS", "--proxy", "http://proxy.test:8080", "-o", "/dev/null",
                                   "-w", "%{http_code}", "https://example.com/", NULL),
                       ==, 0);
      g_assert_cmpstr (out, ==, "200");
      g_clear_pointer (&out, g_free);
    }
  g_assert_cmpint (run_tscope (NULL, NULL, "down", "--lab", a, NULL), ==, 0);
  g_assert_true (lab_gone (a));
  /* The other lab is not touched. */
  g_assert_cmpint (run_tscope (&out, NULL, "exec", "--lab", b, "client", "--", "curl", "-sS",
                               "--proxy", "http://proxy.test:8080", "-o", "/dev/null", "-w",
                               "%{http_code}", "https://example.com/", NULL),
                   ==, 0);
  g_assert_cmpstr (out, ==, "200");
  g_assert_cmpint (run_tscope (NULL, NULL, "down", "--lab", b, NULL), ==, 0);
  g_assert_true (lab_gone (b));
}

static const char delay_scenario[]
    = "[scenario]\n"
      "description = a 50 ms link, probed with 20 TCP connection attempts\n"
      "ipv6 = no\n"
      "[node client]\nrole = client\n"
      "[node server]\nrole = server\n"
      "[link client-server]\ndelay = 50ms\n"
      "[step probe]\nnode = client\n"
      "command = for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do curl -s -m 2 "
      "http://server.test:9/; done; true\n"
      "[expect probed]\nstep = probe\nexit = 0\n";

static int
compare_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void
test_delay (gconstpointer data)
{
  g_autofree char *lab = lab_name ("dly");
  g_autofree char *scenario = tmp_path ("delay.scenario");
  g_autofree char *trace = tmp_path ("delay.pcapng");
  g_autofree char *fields = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (GHashTable) syn = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr (GArray) rtt = g_array_new (FALSE, FALSE, sizeof (double));
  double median;

  write_scenario (scenario, delay_scenario);
  g_assert_cmpint (run_tscope (NULL, NULL, "run", scenario, "-o", trace, "--lab", lab, "-q", NULL),
                   ==, 0);
  /* Round trip: SYN out, RST back, both seen at the client's end. */
  fields = tshark (trace, "tcp.flags.syn == 1 || tcp.flags.reset == 1", "frame.time_epoch", NULL);
  {
    g_autofree char *streams
        = tshark (trace, "tcp.flags.syn == 1 || tcp.flags.reset == 1", "tcp.stream", NULL);
    g_autofree char *resets
        = tshark (trace, "tcp.flags.syn == 1 || tcp.flags.reset == 1", "tcp.flags.reset", NULL);
    g_auto (GStrv) s = g_strsplit (streams, "\n", -1);
    g_auto (GStrv) r = g_strsplit (resets, "\n", -1);
    lines = g_strsplit (fields, "\n", -1);
    for (guint i = 0; lines[i] != NULL && s[i] != NULL && r[i] != NULL; i++)
      {
        double t = g_ascii_strtod (lines[i], NULL);
        if (lines[i][0] == '\0')
          continue;
        if (g_str_equal (r[i], "0") || g_str_equal (r[i], "False"))
          g_hash_table_insert (syn, g_strdup (s[i]), g_memdup2 (&t, sizeof t));
        else if (g_hash_table_contains (syn, s[i]))
          {
            double d = (t - *(double *)g_hash_table_lookup (syn, s[i])) * 1000.0;
            g_array_append_val (rtt, d);
          }
      }
  }
  g_assert_cmpuint (rtt->len, >=, 15);
  g_array_sort (rtt, compare_double);
  median = g_array_index (rtt, double, rtt->len / 2);
  g_printerr ("delay 50 ms each way: %u round trips, min %.2f ms, median %.2f ms\n", rtt->len,
              g_array_index (rtt, double, 0), median);
  g_assert_cmpfloat (g_array_index (rtt, double, 0), >=, 100.0);
  g_assert_cmpfloat (median, <=, 110.0);
  g_assert_true (lab_gone (lab));
}

static void
test_crash (gconstpointer data)
{
  g_autofree char *lab = lab_name ("crash");
  g_autofree char *scenario = tmp_path ("crash.scenario");
  g_autofree char *missing = tmp_path ("missing.scenario");
  g_autofree char *trace = tmp_path ("crash.pcapng");
  g_autofree char *out = NULL, *err = NULL, *events = NULL;
  g_autofree char *dir = lab_dir (lab);
  gint64 start;

  write_scenario (scenario, "[scenario]\ndescription = an actor that crashes\n"
                            "[node client]\n[node server]\n[link client-server]\n"
                            "[actor fragile]\nnode = server\ncommand = sleep 0.3; kill -SEGV $$\n"
                            "[step wait]\nnode = client\ncommand = sleep 1\n"
                            "[expect waited]\nstep = wait\nexit = 0\n");
  start = g_get_monotonic_time ();
  g_assert_cmpint (run_tscope (&out, NULL, "run", scenario, "-o", trace, "--lab", lab, NULL), ==,
                   1);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 10 * G_USEC_PER_SEC);
  g_assert_nonnull (strstr (out, "(crashed)"));
  g_assert_nonnull (strstr (out, "Result: FAIL"));
  events = trace_events (trace);
  g_assert_nonnull (strstr (events, "server lab.actor.crashed\n"));
  g_assert_true (lab_gone (lab));
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));

  /* A missing program: one line naming it, nothing left behind. */
  write_scenario (missing,
                  "[scenario]\ndescription = a missing program\n[node client]\n"
                  "[actor ghost]\nnode = client\ncommand = exec no-such-program-tscope --now\n");
  g_assert_cmpint (run_tscope (NULL, &err, "run", missing, "-o", trace, "--lab", lab, NULL), ==, 1);
  g_assert_cmpstr (err, ==,
                   "tscope: missing.scenario:4: actor ghost needs the program "
                   "'no-such-program-tscope': not found\n");
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
  g_clear_pointer (&err, g_free);
  /* An unknown scenario is bad usage. */
  g_assert_cmpint (run_tscope (NULL, &err, "run", "no-such-scenario", NULL), ==, 2);
  g_assert_true (g_str_has_prefix (err, "tscope: no scenario 'no-such-scenario'"));
}

/* SIGTERM and SIGINT to a running 'tscope run': the lab goes, the status is 1. */
static void
test_interrupt (gconstpointer data)
{
  g_autofree char *scenario = tmp_path ("long.scenario");
  g_autofree char *trace = tmp_path ("long.pcapng");

  write_scenario (scenario, "[scenario]\ndescription = a long step\n"
                            "[node client]\n[node server]\n[link client-server]\n"
                            "[actor idle]\nnode = server\ncommand = exec sleep 600\n"
                            "[step wait]\nnode = client\ncommand = sleep 600\n"
                            "[expect waited]\nstep = wait\nexit = 0\n");
  for (int round = 0; round < 2; round++)
    {
      g_autofree char *lab = lab_name (round ? "int" : "term");
      g_autofree char *dir = lab_dir (lab);
      g_autofree char *step_log = g_build_filename (dir, "nodes", "client", "step-wait.log", NULL);
      g_autofree char *summary = tmp_path ("summary.txt");
      g_autofree char *said = NULL;
      /* The signal goes to tscope alone (kill -INT PID), not to its group
       * as Ctrl-C sends it; the shell only redirects the summary. */
      const char *argv[] = { "/bin/sh", "-c",     "out=$1; shift; exec \"$@\" > \"$out\" 2>&1",
                             "sh",      summary,  tscope,
                             "run",     scenario, "-o",
                             trace,     "--lab",  lab,
                             NULL };
      GPid pid;
      int status;
      gint64 start;
      g_autoptr (GError) error = NULL;

      g_assert_true (g_spawn_async (NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
                                    NULL, &pid, &error));
      for (int i = 0; i < 1000 && !g_file_test (step_log, G_FILE_TEST_EXISTS); i++)
        g_usleep (10000);
      g_assert_true (g_file_test (step_log, G_FILE_TEST_EXISTS));
      start = g_get_monotonic_time ();
      kill (pid, round ? SIGINT : SIGTERM);
      g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
      g_assert_cmpint (g_get_monotonic_time () - start, <, 8 * G_USEC_PER_SEC);
      g_assert_true (WIFEXITED (status));
      g_assert_cmpint (WEXITSTATUS (status), ==, 128 + (round ? SIGINT : SIGTERM));
      g_assert_true (lab_gone (lab));
      g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
      g_assert_true (g_file_get_contents (summary, &said, NULL, NULL));
      g_test_message ("%s", said);
      g_assert_nonnull (strstr (said, round ? "Result: INTERRUPTED by SIGINT (Ctrl-C) before the "
                                              "timeline finished (expectations not checked)\n"
                                            : "Result: INTERRUPTED by SIGTERM before the timeline "
                                              "finished (expectations not checked)\n"));
      g_assert_nonnull (strstr (said, "-> stopped: the run was interrupted"));
      g_assert_null (strstr (said, "[FAILED]"));
      g_assert_null (strstr (said, "signal 9"));
      /* No TLS here: no secrets to speak of. */
      g_assert_null (strstr (said, "secrets are inside"));
      {
        g_autofree char *events = trace_events (trace);
        g_assert_nonnull (strstr (events, "lab lab.interrupted\n"));
        g_assert_null (strstr (events, "lab lab.expectation\n"));
      }
    }
}

/* A lab's name is never cut: the scenario's long name and a long --lab
 * work with status, exec and down as shown; a lab that is not running
 * cannot be brought down (exit 1); a bad --lab or --set is bad usage. */
static void
test_names (gconstpointer data)
{
  g_autofree char *tag = lab_name ("");
  g_autofree char *scenario_name = g_strdup_printf ("a-scenario-with-a-long-name-%s", tag);
  g_autofree char *file = g_strdup_printf ("%s.scenario", scenario_name);
  g_autofree char *scenario = tmp_path (file);
  g_autofree char *long_lab = g_strdup_printf ("an-explicit-long-lab-name-%s", tag);
  g_autofree char *too_long = g_strnfill (TS_LAB_MAX_NAME + 1, 'x');
  g_autofree char *out = NULL, *err = NULL, *shown = NULL;

  g_assert_cmpuint (strlen (scenario_name), >, 24);
  g_assert_cmpuint (strlen (long_lab), >, 22);
  write_scenario (scenario, "[scenario]\ndescription = two nodes\n"
                            "[node client]\n[node server]\n[link client-server]\n");

  /* Bad usage: exit 2 before any lab, naming the option. */
  g_assert_cmpint (run_tscope (NULL, &err, "run", scenario, "--lab", "no/slash", NULL), ==, 2);
  g_assert_true (g_str_has_prefix (err, "tscope: --lab: bad lab name 'no/slash'"));
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_tscope (NULL, &err, "up", scenario, "--lab", too_long, NULL), ==, 2);
  g_assert_nonnull (strstr (err, "at most 64"));
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (
      run_tscope (NULL, &err, "run", "connect", "--set", "link.client-proxy.delay=fast", NULL), ==,
      2);
  g_assert_cmpstr (err, ==,
                   "tscope: --set link.client-proxy.delay: link client-proxy: delay = 'fast': "
                   "expected a duration like 50ms\n");
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (
      run_tscope (NULL, &err, "run", "connect", "--set", "link.client-proxy.rate=0mbit", NULL), ==,
      2);
  g_assert_nonnull (strstr (err, "tscope: --set link.client-proxy.rate: "));
  g_assert_nonnull (strstr (err, "a rate must be at least 1bit"));
  g_clear_pointer (&err, g_free);

  /* The default name: the scenario's, whole. */
  g_assert_cmpint (run_tscope (&out, NULL, "up", scenario, NULL), ==, 0);
  shown = g_strdup_printf ("Lab %s is up", scenario_name);
  g_assert_nonnull (strstr (out, shown));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_tscope (&out, NULL, "up", scenario, "--lab", long_lab, NULL), ==, 0);
  g_clear_pointer (&shown, g_free);
  shown = g_strdup_printf ("Lab %s is up", long_lab);
  g_assert_nonnull (strstr (out, shown));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_tscope (&out, NULL, "status", NULL), ==, 0);
  g_assert_nonnull (strstr (out, scenario_name));
  g_assert_nonnull (strstr (out, long_lab));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_tscope (&out, NULL, "exec", "--lab", scenario_name, "client", "--", "sh",
                               "-c", "echo $TS_LAB", NULL),
                   ==, 0);
  g_assert_cmpstr (g_strchomp (out), ==, scenario_name);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_tscope (&out, NULL, "exec", "--lab", long_lab, "server", "--", "true", NULL),
                   ==, 0);
  g_clear_pointer (&out, g_free);
  /* A command that cannot run: said as tscope says every error. */
  g_assert_cmpint (
      run_tscope (NULL, &err, "exec", "--lab", long_lab, "client", "--", "/nonexistent", NULL), ==,
      1);
  g_assert_true (g_str_has_prefix (err, "tscope: "));
  g_assert_nonnull (strstr (err, "cannot run /nonexistent: "));
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (run_tscope (&out, NULL, "down", "--lab", scenario_name, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "is down"));
  g_assert_true (lab_gone (scenario_name));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_tscope (&out, NULL, "down", "--lab", long_lab, NULL), ==, 0);
  g_assert_true (lab_gone (long_lab));
  g_clear_pointer (&out, g_free);
  /* Gone now: bringing it down again fails, in one line. */
  g_assert_cmpint (run_tscope (&out, &err, "down", "--lab", long_lab, NULL), ==, 1);
  g_clear_pointer (&shown, g_free);
  shown = g_strdup_printf ("tscope: no running lab named '%s' (tscope status lists them)\n",
                           long_lab);
  g_assert_cmpstr (err, ==, shown);
}

/* A link through the userspace wire with every property, an actor event
 * read from TS_EVENTS into the trace and checked by an expectation, and
 * 'tscope list --format json'. */
static void
test_events_and_wire (gconstpointer data)
{
  g_autofree char *lab = lab_name ("ev");
  g_autofree char *scenario = tmp_path ("events.scenario");
  g_autofree char *trace = tmp_path ("events.pcapng");
  g_autofree char *out = NULL, *events = NULL, *list = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  JsonArray *scenarios;
  gboolean found = FALSE;

  write_scenario (
      scenario,
      "[scenario]\ndescription = events and a shaped link\n"
      "[node client]\nrole = client\n[node server]\nrole = server\nnames = example.com\n"
      "[link client-server]\ndelay = 10ms\njitter = 2ms\nloss = 0%\nrate = 2mbit\n"
      "[actor origin]\nnode = server\n"
      "command = exec openssl s_server -quiet -www -accept 443 -cert \"$TS_PKI_DIR/server.pem\" "
      "-key \"$TS_PKI_DIR/server.key\"\n"
      "ready = tcp:443\n"
      "[step fetch]\nnode = client\n"
      "command = curl -sS -o /dev/null -w '%{http_code}' https://example.com/ && "
      "printf '%s client client.result status=200\\n' \"$(date +%s%N)\" >> \"$TS_EVENTS\"\n"
      "[expect result]\nevent = client.result\nevent-node = client\n"
      "[expect no-mint]\nevent = proxy.cert.minted\nabsent = yes\n"
      "[expect fetched]\nstep = fetch\nexit = 0\noutput-contains = 200\n");
  g_assert_cmpint (run_tscope (&out, NULL, "run", scenario, "-o", trace, "--lab", lab, NULL), ==,
                   0);
  g_assert_nonnull (strstr (out, "userspace wire: delay 10.0 ms jitter 2.0 ms rate 2 Mbit/s"));
  g_assert_nonnull (strstr (out, "Result: PASS (3 of 3 expectations held)"));
  events = trace_events (trace);
  g_assert_nonnull (strstr (events, "client client.result\n"));
  g_assert_true (lab_gone (lab));

  g_assert_cmpint (run_tscope (&list, NULL, "list", "--format", "json", NULL), ==, 0);
  json_parser_load_from_data (parser, list, -1, &error);
  g_assert_no_error (error);
  scenarios = json_node_get_array (json_parser_get_root (parser));
  for (guint i = 0; i < json_array_get_length (scenarios); i++)
    {
      JsonObject *o = json_array_get_object_element (scenarios, i);
      if (g_str_equal (json_object_get_string_member (o, "scenario"), "connect"))
        {
          JsonArray *links = json_object_get_array_member (o, "links");
          found = TRUE;
          g_assert_cmpuint (json_array_get_length (json_object_get_array_member (o, "nodes")), ==,
                            3);
          g_assert_cmpstr (
              json_object_get_string_member (json_array_get_object_element (links, 0), "name"), ==,
              "client-proxy");
          g_assert_nonnull (json_object_get_string_member (o, "description"));
        }
    }
  g_assert_true (found);
}

/* Copies the built program @name of @subdir (sim/actors, sim/proxy) into
 * the same place under @build. */
static void
copy_program (const char *build, const char *subdir, const char *name)
{
  const char *env = g_getenv ("TS_BUILD_DIR");
  g_autofree char *src = g_build_filename (env != NULL ? env : TS_BUILD_DIR, subdir, name, NULL);
  g_autofree char *dir = g_build_filename (build, subdir, NULL);
  g_autofree char *dst = g_build_filename (dir, name, NULL);
  g_autofree char *data = NULL;
  gsize len = 0;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_assert_true (g_file_get_contents (src, &data, &len, NULL));
  g_assert_true (g_file_set_contents (dst, data, len, NULL));
  g_assert_cmpint (chmod (dst, 0755), ==, 0);
}

/* The rootless path: as root, run 'tscope run direct' as nobody (with
 * setpriv) in a directory of its own; as another user, run it directly. */
static void
test_rootless (gconstpointer data)
{
  g_autofree char *home = tmp_path ("nobody");
  g_autofree char *bin = g_build_filename (home, "tscope", NULL);
  g_autofree char *build = g_build_filename (home, "build", NULL);
  g_autofree char *scenarios = g_build_filename (home, "scenarios", NULL);
  g_autofree char *scen = g_build_filename (scenarios, "direct.scenario", NULL);
  g_autofree char *trace = g_build_filename (home, "direct.pcapng", NULL);
  g_autofree char *src
      = g_build_filename (TS_SOURCE_DIR, "sim", "scenarios", "direct.scenario", NULL);
  g_autofree char *text = NULL, *bin_data = NULL;
  g_autofree char *out = NULL, *err = NULL, *get = NULL;
  gsize bin_len = 0;
  struct passwd *pw = getpwnam ("nobody");
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);

  g_assert_cmpint (g_mkdir_with_parents (scenarios, 0755), ==, 0);
  g_assert_true (g_file_get_contents (src, &text, NULL, NULL));
  write_scenario (scen, text);
  /* A copy of tscope the other user can reach whatever our build tree's
   * permissions are. */
  g_assert_true (g_file_get_contents (tscope, &bin_data, &bin_len, NULL));
  g_assert_true (g_file_set_contents (bin, bin_data, bin_len, NULL));
  g_assert_cmpint (chmod (bin, 0755), ==, 0);
  /* The same for the actors, in a build tree of their own that the lab
   * finds through TS_BUILD_DIR. */
  copy_program (build, "sim/actors", "ts-server");
  copy_program (build, "sim/actors", "ts-client");
  copy_program (build, "sim/proxy", "ts-proxy");
  chmod (tmp_root, 0755);
  if (geteuid () == 0)
    {
      g_assert_nonnull (pw);
      g_assert_cmpint (chown (home, pw->pw_uid, pw->pw_gid), ==, 0);
      g_assert_cmpint (chown (scenarios, pw->pw_uid, pw->pw_gid), ==, 0);
      g_ptr_array_add (argv, g_strdup ("setpriv"));
      g_ptr_array_add (argv, g_strdup_printf ("--reuid=%u", (guint)pw->pw_uid));
      g_ptr_array_add (argv, g_strdup_printf ("--regid=%u", (guint)pw->pw_gid));
      g_ptr_array_add (argv, g_strdup ("--clear-groups"));
    }
  g_ptr_array_add (argv, g_strdup ("env"));
  g_ptr_array_add (argv, g_strdup_printf ("HOME=%s", home));
  g_ptr_array_add (argv, g_strdup_printf ("XDG_DATA_HOME=%s/data", home));
  g_ptr_array_add (argv, g_strdup_printf ("XDG_RUNTIME_DIR=%s", home));
  g_ptr_array_add (argv, g_strdup_printf ("TS_LAB_RUNDIR=%s/labs", home));
  g_ptr_array_add (argv, g_strdup_printf ("TS_SCENARIO_PATH=%s", scenarios));
  g_ptr_array_add (argv, g_strdup_printf ("TS_BUILD_DIR=%s", build));
  g_ptr_array_add (argv, g_strdup (bin));
  g_ptr_array_add (argv, g_strdup ("run"));
  g_ptr_array_add (argv, g_strdup ("direct"));
  g_ptr_array_add (argv, g_strdup ("-o"));
  g_ptr_array_add (argv, g_strdup (trace));
  g_ptr_array_add (argv, NULL);
  g_assert_cmpint (spawn (&out, &err, (const char *const *)argv->pdata), ==, 0);
  g_assert_nonnull (strstr (out, "rootless (in a user namespace)"));
  g_assert_nonnull (strstr (out, "Result: PASS"));
  get = tshark (trace, "http.request.method == \"GET\"", "frame.interface_name",
                "tls.keylog_file:/dev/null");
  g_assert_cmpstr (get, ==, "client-server\n");
}

int
main (int argc, char **argv)
{
  int rc;

  g_test_init (&argc, &argv, NULL);
  lab_harness_init ();
  LAB_TEST_ADD ("/ts/lab/run/connect", test_run_connect);
  LAB_TEST_ADD ("/ts/lab/capture/segments", test_segments);
  LAB_TEST_ADD ("/ts/lab/up-exec-down", test_up_exec_down);
  LAB_TEST_ADD ("/ts/lab/sigkill", test_sigkill);
  LAB_TEST_ADD ("/ts/lab/side-by-side", test_side_by_side);
  LAB_TEST_ADD ("/ts/lab/delay", test_delay);
  LAB_TEST_ADD ("/ts/lab/crash", test_crash);
  LAB_TEST_ADD ("/ts/lab/interrupt", test_interrupt);
  LAB_TEST_ADD ("/ts/lab/names", test_names);
  LAB_TEST_ADD ("/ts/lab/events-and-wire", test_events_and_wire);
  LAB_TEST_ADD ("/ts/lab/rootless", test_rootless);
  rc = g_test_run ();
  lab_harness_clear ();
  return rc;
}
