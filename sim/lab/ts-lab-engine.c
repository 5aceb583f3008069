/* ts-lab-engine.c: the lab's parent and supervisor: namespaces, links, capture, actors, timeline.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "ts-lab-engine.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gunixoutputstream.h>
#include <json-glib/json-glib.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ts-lab-error.h"
#include "ts-lab-netlink.h"
#include "ts-lab-pki.h"
#include "ts-lab-registry.h"
#include "ts-lab-wire.h"
#include "ts-trace-event.h"
#include "ts-trace-writer.h"

/* How long an actor may take to listen on its ready port. */
#define ACTOR_READY_TIMEOUT_NS (10 * G_GUINT64_CONSTANT (1000000000))
/* After the last step: late packets (FIN, ACK) and key log lines. */
#define GRACE_NS (300 * G_GUINT64_CONSTANT (1000000))
/* Actors get this long after SIGTERM before SIGKILL. */
#define STOP_TIMEOUT_NS (2 * G_GUINT64_CONSTANT (1000000000))
/* Key log and event files are read this often. */
#define TAIL_PERIOD_NS (20 * G_GUINT64_CONSTANT (1000000))
/* Capture buffer per link. */
#define CAPTURE_BUFFER_BYTES (4 * 1024 * 1024)
#define CAPTURE_SNAPLEN 65535

typedef struct
{
  TsLabPlanNode *pn;
  const char *name;
  char *dir;
  char *keylog;
  char *events;
  char *bundle;
  char **env;
  pid_t holder;
  int net_fd;
  int mnt_fd;
  goffset keylog_off;
  goffset events_off;
  GString *keylog_part;
  GString *events_part;
} Node;

typedef enum
{
  PROC_HOLDER,
  PROC_ACTOR,
  PROC_STEP,
} ProcKind;

typedef struct
{
  ProcKind kind;
  char *name;
  Node *node;
  pid_t pid;
  gboolean running;
  int status;
  gboolean stopping; /* the lab asked it to stop */
  gboolean timed_out;
  gboolean ready;
  guint64 start_ns, end_ns; /* monotonic */
  char *log;
  TsLabActor *actor;
  TsLabStep *step;
} Proc;

typedef struct
{
  TsLabPlanLink *pl;
  pcap_t *pcap;
  int pcap_fd;
  guint iface_id;
  TsLabWire *wire;
  gboolean captured;
  guint64 n_packets;
  guint64 n_lost; /* packets the kernel dropped: its capture buffer was full */
} Link;

typedef struct
{
  TsLabScenario *s;
  TsLabPlan *plan;
  TsLabOptions opt;
  char *lab;
  char *dir;
  int lock_fd;
  gboolean rootless;
  TsLabPki pki;
  int trace_fd;
  int ready_fd; /* to the parent; -1 once told */
  FILE *out;    /* where the summary goes */

  GPtrArray *nodes; /* Node */
  GPtrArray *links; /* Link */
  GPtrArray *procs; /* Proc */
  int sig_fd;
  int self_net_fd;
  TsTraceWriter *writer;
  GError *writer_error;
  gboolean stopping;
  int stop_signal;
  GPtrArray *events; /* TsTraceEvent: every actor event, for expectations */
  guint64 n_secret_lines;
  guint64 last_tail_ns;
  GPtrArray *problems; /* char*: what went wrong besides expectations */
  guint n_held, n_failed;
  GString *expect_report;
  char *actor_path; /* our actors' directories, first on the nodes' PATH */
} Engine;

static guint64
now_mono (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (guint64)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static guint64
now_real (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_REALTIME, &ts);
  return (guint64)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

#define RESOLV_CONF                                                                                \
  "# resolv.conf of a Tunnelscope lab node: there is no DNS server;\n"                             \
  "# names come from /etc/hosts.\nnameserver 127.0.0.1\noptions timeout:1 attempts:1\n"

/* TS_LAB_TIMING=1: milestones with milliseconds since start, on stderr. */
static void
timing (const char *what)
{
  static gint64 start;
  static int enabled = -1;

  if (enabled < 0)
    {
      enabled = g_strcmp0 (g_getenv ("TS_LAB_TIMING"), "1") == 0;
      start = g_get_monotonic_time ();
    }
  if (enabled)
    fprintf (stderr, "tscope: [%d] %7.1f ms %s\n", (int)getpid (),
             (g_get_monotonic_time () - start) / 1000.0, what);
}

static gboolean
write_file (const char *path, const char *text, GError **error)
{
  g_autoptr (GError) local = NULL;

  if (!g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_NONE, 0644, &local))
    {
      g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_SYSTEM, "%s", local->message);
      return FALSE;
    }
  return TRUE;
}

static gboolean
write_proc (const char *path, const char *value)
{
  int fd = open (path, O_WRONLY | O_CLOEXEC);
  gboolean ok;

  if (fd < 0)
    return FALSE;
  ok = write (fd, value, strlen (value)) == (gssize)strlen (value);
  close (fd);
  return ok;
}

static const char *
find_program (const char *name)
{
  static const char *const dirs[] = { "/usr/sbin", "/sbin", "/usr/bin", "/bin" };
  static char found[256];

  for (gsize i = 0; i < G_N_ELEMENTS (dirs); i++)
    {
      g_snprintf (found, sizeof found, "%s/%s", dirs[i], name);
      if (access (found, X_OK) == 0)
        return found;
    }
  return NULL;
}

/* The first word of a shell command, if it names a program we can check. */
static char *
command_program (const char *command)
{
  g_auto (GStrv) argv = NULL;
  guint i = 0;

  if (!g_shell_parse_argv (command, NULL, &argv, NULL))
    return NULL;
  if (argv[0] != NULL && g_str_equal (argv[0], "exec"))
    i = 1;
  if (argv[i] == NULL || strchr (argv[i], '=') != NULL || strchr (argv[i], '$') != NULL)
    return NULL;
  return g_strdup (argv[i]);
}

/* Where our own actors (ts-proxy, ts-server, ts-client) are, as a PATH
 * prefix for the nodes: the build tree when this program runs from one (its
 * executable lies under the build directory it was configured in, or
 * $TS_BUILD_DIR names one: the tests set it), else the installed bindir. A
 * build tree counts only when it holds the actors. Transfer full. */
static char *
actor_path (void)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  const char *env = g_getenv ("TS_BUILD_DIR");
  const char *builds[2] = { NULL, NULL };

  if (exe != NULL && g_str_has_prefix (exe, TS_BUILD_DIR G_DIR_SEPARATOR_S))
    builds[0] = TS_BUILD_DIR;
  if (env != NULL && *env != '\0')
    builds[builds[0] != NULL ? 1 : 0] = env;
  for (guint i = 0; i < G_N_ELEMENTS (builds) && builds[i] != NULL; i++)
    {
      g_autofree char *proxy = g_build_filename (builds[i], "sim", "proxy", NULL);
      g_autofree char *actors = g_build_filename (builds[i], "sim", "actors", NULL);
      g_autofree char *probe = g_build_filename (actors, "ts-client", NULL);

      if (g_file_test (probe, G_FILE_TEST_IS_EXECUTABLE))
        return g_strdup_printf ("%s:%s", proxy, actors);
    }
  return g_strdup (TS_BINDIR);
}

static gboolean
program_exists (const char *program, const char *actors)
{
  g_autofree char *path = NULL;
  static const char *const builtins[]
      = { "sh",  "echo",  "printf", "sleep", "true", "false", "test", "[",
          "for", "while", "if",     "cd",    "set",  ":",     NULL };
  g_auto (GStrv) dirs = g_strsplit (actors, ":", -1);

  if (g_strv_contains (builtins, program))
    return TRUE;
  if (strchr (program, '/') != NULL)
    return access (program, X_OK) == 0;
  for (guint i = 0; dirs[i] != NULL; i++)
    {
      g_autofree char *candidate = g_build_filename (dirs[i], program, NULL);
      if (g_file_test (candidate, G_FILE_TEST_IS_EXECUTABLE))
        return TRUE;
    }
  path = g_find_program_in_path (program);
  return path != NULL || find_program (program) != NULL;
}

/* ------------------------------------------------------------------ */
/* Preparing the lab's files (in the parent, before any namespace).    */

static char *
node_bundle_text (TsLabPki *pki, TsLabNode *n)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; n->trust[i] != NULL; i++)
    {
      g_autofree char *pem = NULL;
      const char *path
          = g_str_equal (n->trust[i], "web") ? pki->web_ca_cert : pki->intercept_ca_cert;
      if (g_file_get_contents (path, &pem, NULL, NULL))
        g_string_append (s, pem);
    }
  return g_string_free (s, FALSE);
}

static char **
node_env (Engine *self, Node *node)
{
  char **env = g_get_environ ();
  static const char *const drop[]
      = { "http_proxy",   "https_proxy",   "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
          "all_proxy",    "no_proxy",      "NO_PROXY",   "ftp_proxy",   "FTP_PROXY",
          "SSL_CERT_DIR", "TS_LAB_RUNDIR", NULL };
  const char *path = g_environ_getenv (env, "PATH");
  /* Our actors first, so that a scenario runs the ones built with this lab. */
  g_autofree char *new_path = g_strdup_printf ("%s:%s:/usr/sbin:/sbin", self->actor_path,
                                               path != NULL ? path : "/usr/bin:/bin");

  for (guint i = 0; drop[i] != NULL; i++)
    env = g_environ_unsetenv (env, drop[i]);
  env = g_environ_setenv (env, "PATH", new_path, TRUE);
  env = g_environ_setenv (env, "TS_LAB", self->lab, TRUE);
  env = g_environ_setenv (env, "TS_NODE", node->name, TRUE);
  env = g_environ_setenv (env, "TS_NODE_DIR", node->dir, TRUE);
  env = g_environ_setenv (env, "TS_WEB_CA", self->pki.web_ca_cert, TRUE);
  env = g_environ_setenv (env, "TS_INTERCEPT_CA", self->pki.intercept_ca_cert, TRUE);
  env = g_environ_setenv (env, "TS_PKI_DIR", self->pki.dir, TRUE);
  env = g_environ_setenv (env, "SSLKEYLOGFILE", node->keylog, TRUE);
  env = g_environ_setenv (env, "TS_EVENTS", node->events, TRUE);
  env = g_environ_setenv (env, "SSL_CERT_FILE", node->bundle, TRUE);
  env = g_environ_setenv (env, "CURL_CA_BUNDLE", node->bundle, TRUE);
  return env;
}

static gboolean
prepare_files (Engine *self, GError **error)
{
  g_autofree char *resolv = g_build_filename (self->dir, "resolv.conf", NULL);

  if (!write_file (resolv, RESOLV_CONF, error))
    return FALSE;
  for (guint i = 0; i < self->s->nodes->len; i++)
    {
      TsLabNode *n = self->s->nodes->pdata[i];
      Node *node = g_new0 (Node, 1);
      g_autofree char *certs = NULL;
      g_autofree char *bundle = NULL;
      g_autofree char *hosts = NULL;
      g_autoptr (GString) env_text = g_string_new (NULL);

      g_ptr_array_add (self->nodes, node);
      node->pn = ts_lab_plan_get_node (self->plan, n->name);
      node->name = n->name;
      node->net_fd = node->mnt_fd = -1;
      node->keylog_part = g_string_new (NULL);
      node->events_part = g_string_new (NULL);
      node->dir = g_build_filename (self->dir, "nodes", n->name, NULL);
      certs = g_build_filename (node->dir, "certs", NULL);
      if (g_mkdir_with_parents (certs, 0755) != 0)
        {
          g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_SYSTEM, "cannot create %s: %s", certs,
                       g_strerror (errno));
          return FALSE;
        }
      /* The lab runs as another user inside its user namespace only in
       * name; the files stay ours. */
      chmod (node->dir, 0755);
      node->keylog = g_build_filename (node->dir, "keylog.txt", NULL);
      node->events = g_build_filename (node->dir, "events.txt", NULL);
      node->bundle = g_build_filename (certs, "ca-certificates.crt", NULL);
      bundle = node_bundle_text (&self->pki, n);
      hosts = g_build_filename (node->dir, "hosts", NULL);
      /* The key log and the events file are made by whoever writes first;
       * the lab reads them when they exist. Fewer files, faster labs. */
      if (!write_file (node->bundle, bundle, error) || !write_file (hosts, node->pn->hosts, error))
        return FALSE;
      node->env = node_env (self, node);
      for (guint k = 0; node->env[k] != NULL; k++)
        if (g_str_has_prefix (node->env[k], "TS_") || g_str_has_prefix (node->env[k], "SSL")
            || g_str_has_prefix (node->env[k], "CURL_CA_BUNDLE=")
            || g_str_has_prefix (node->env[k], "PATH="))
          g_string_append_printf (env_text, "%s\n", node->env[k]);
      {
        g_autofree char *env_path = g_build_filename (node->dir, "env", NULL);
        if (!write_file (env_path, env_text->str, error))
          return FALSE;
      }
    }
  for (guint i = 0; i < self->s->files->len; i++)
    {
      TsLabFile *f = self->s->files->pdata[i];
      for (guint k = 0; f->nodes[k] != NULL; k++)
        {
          g_autofree char *path = g_build_filename (self->dir, "nodes", f->nodes[k], f->name, NULL);
          if (!write_file (path, f->text, error))
            return FALSE;
        }
    }
  return TRUE;
}

static gboolean
check_programs (Engine *self, GError **error)
{
  if (self->opt.mode == TS_LAB_MODE_NETWORK)
    return TRUE;
  for (guint i = 0; i < self->s->actors->len + self->s->steps->len; i++)
    {
      gboolean actor = i < self->s->actors->len;
      TsLabActor *a = actor ? self->s->actors->pdata[i] : NULL;
      TsLabStep *st = actor ? NULL : self->s->steps->pdata[i - self->s->actors->len];
      g_autofree char *program = command_program (actor ? a->command : st->command);
      if (program != NULL && !program_exists (program, self->actor_path))
        {
          g_autofree char *base = g_path_get_basename (self->s->path);
          g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_NOT_FOUND,
                       "%s:%u: %s %s needs the program '%s': not found", base,
                       actor ? a->line : st->line, actor ? "actor" : "step",
                       actor ? a->name : st->name, program);
          return FALSE;
        }
    }
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* The supervisor.                                                     */

static void add_problem (Engine *self, const char *format, ...) G_GNUC_PRINTF (2, 3);

static void
add_problem (Engine *self, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  g_ptr_array_add (self->problems, g_strdup_vprintf (format, args));
  va_end (args);
}

static void lab_event (Engine *self, const char *node, const char *kind,
                       ...) G_GNUC_NULL_TERMINATED;

/* Adds an event of the lab itself: pairs of key, value, then NULL. */
static void
lab_event (Engine *self, const char *node, const char *kind, ...)
{
  g_autoptr (TsTraceEvent) ev = ts_trace_event_new (now_real (), node, kind);
  va_list args;
  const char *key;

  va_start (args, kind);
  while ((key = va_arg (args, const char *)) != NULL)
    {
      const char *value = va_arg (args, const char *);
      ts_trace_event_add (ev, key, value != NULL ? value : "");
    }
  va_end (args);
  if (self->writer != NULL && self->writer_error == NULL)
    ts_trace_writer_add_event (self->writer, ev, &self->writer_error);
  g_ptr_array_add (self->events, g_steal_pointer (&ev));
}

static Proc *
find_proc (Engine *self, pid_t pid)
{
  for (guint i = 0; i < self->procs->len; i++)
    {
      Proc *p = self->procs->pdata[i];
      if (p->pid == pid && p->running)
        return p;
    }
  return NULL;
}

static char *
describe_status (int status, gboolean timed_out)
{
  if (timed_out)
    return g_strdup ("timed out (killed)");
  if (WIFEXITED (status))
    return g_strdup_printf ("exit %d", WEXITSTATUS (status));
  return g_strdup_printf ("killed by signal %d (%s)", WTERMSIG (status),
                          g_strsignal (WTERMSIG (status)));
}

/* How the summary names the signal that interrupted a run. */
static const char *
signal_name (int sig)
{
  switch (sig)
    {
      case SIGINT:
        return "SIGINT (Ctrl-C)";
      case SIGTERM:
        return "SIGTERM";
      case SIGHUP:
        return "SIGHUP";
      case SIGQUIT:
        return "SIGQUIT";
      default:
        return g_strsignal (sig);
    }
}

static void
reap (Engine *self)
{
  for (;;)
    {
      int status;
      pid_t pid = waitpid (-1, &status, WNOHANG);
      Proc *p;

      if (pid <= 0)
        return;
      p = find_proc (self, pid);
      if (p == NULL)
        continue; /* an orphan that reparented to us, the lab's init */
      p->running = FALSE;
      p->status = status;
      p->end_ns = now_mono ();
      if (p->kind == PROC_HOLDER && !p->stopping)
        {
          add_problem (self, "node %s's namespace holder died (%s)", p->node->name,
                       g_strsignal (WTERMSIG (status)));
          self->stopping = TRUE;
        }
      else if (p->kind == PROC_ACTOR && !p->stopping)
        {
          g_autofree char *what = describe_status (status, FALSE);
          g_autofree char *code
              = g_strdup_printf ("%d", WIFEXITED (status) ? WEXITSTATUS (status) : -1);
          g_autofree char *sig
              = g_strdup_printf ("%d", WIFSIGNALED (status) ? WTERMSIG (status) : 0);
          if (WIFSIGNALED (status))
            lab_event (self, p->node->name, "lab.actor.crashed", "actor", p->name, "signal", sig,
                       "status", what, NULL);
          else
            lab_event (self, p->node->name, "lab.actor.exited", "actor", p->name, "exit", code,
                       NULL);
          add_problem (self, "actor %s on %s ended before the lab stopped it: %s%s", p->name,
                       p->node->name, what, WIFSIGNALED (status) ? " (crashed)" : "");
        }
      else if (p->kind == PROC_ACTOR)
        {
          g_autofree char *what = describe_status (status, FALSE);
          lab_event (self, p->node->name, "lab.actor.stopped", "actor", p->name, "status", what,
                     NULL);
        }
    }
}

static void
tail_file (Engine *self, Node *node, gboolean keylog)
{
  const char *path = keylog ? node->keylog : node->events;
  goffset *off = keylog ? &node->keylog_off : &node->events_off;
  GString *part = keylog ? node->keylog_part : node->events_part;
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  char buf[16384];
  gssize n;

  if (fd < 0)
    return;
  while ((n = pread (fd, buf, sizeof buf, *off)) > 0)
    {
      *off += n;
      g_string_append_len (part, buf, n);
    }
  close (fd);
  for (;;)
    {
      char *nl = memchr (part->str, '\n', part->len);
      gsize len;

      if (nl == NULL)
        break;
      len = nl - part->str + 1;
      if (keylog)
        {
          self->n_secret_lines++;
          if (self->writer != NULL && self->writer_error == NULL)
            ts_trace_writer_add_keylog (self->writer, now_real (), part->str, len,
                                        &self->writer_error);
        }
      else
        {
          g_autoptr (GError) local = NULL;
          TsTraceEvent *ev = ts_trace_event_new_from_line (part->str, len, &local);
          if (ev != NULL)
            {
              if (self->writer != NULL && self->writer_error == NULL)
                ts_trace_writer_add_event (self->writer, ev, &self->writer_error);
              g_ptr_array_add (self->events, ev);
            }
        }
      g_string_erase (part, 0, len);
    }
}

static void
tail_all (Engine *self)
{
  for (guint i = 0; i < self->nodes->len; i++)
    {
      tail_file (self, self->nodes->pdata[i], TRUE);
      tail_file (self, self->nodes->pdata[i], FALSE);
    }
}

typedef struct
{
  Engine *self;
  Link *link;
} PacketCtx;

static void
on_packet_ctx (u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
  PacketCtx *ctx = (PacketCtx *)user;
  Engine *self = ctx->self;
  /* Nanosecond precision was asked for: tv_usec holds nanoseconds. */
  guint64 t = (guint64)h->ts.tv_sec * 1000000000u + (guint64)h->ts.tv_usec;

  ctx->link->n_packets++;
  if (self->writer != NULL && self->writer_error == NULL)
    ts_trace_writer_add_packet (self->writer, ctx->link->iface_id, t, bytes, h->caplen, h->len,
                                &self->writer_error);
}

/* One turn of the supervisor's loop: waits at most @max_wait_ns for
 * signals, packets and wire deadlines, and handles what came. */
static void
pump (Engine *self, guint64 max_wait_ns)
{
  struct pollfd fds[1 + 3 * TS_LAB_MAX_LINKS];
  int kinds[1 + 3 * TS_LAB_MAX_LINKS]; /* -1 signals; 2k capture of link k; 2k+1 wire */
  int sides[1 + 3 * TS_LAB_MAX_LINKS];
  nfds_t n = 0;
  guint64 now = now_mono ();
  guint64 wait = MIN (max_wait_ns, TAIL_PERIOD_NS);
  struct timespec ts;

  fds[n] = (struct pollfd){ self->sig_fd, POLLIN, 0 };
  kinds[n++] = -1;
  for (guint k = 0; k < self->links->len; k++)
    {
      Link *l = self->links->pdata[k];
      if (l->pcap != NULL && l->pcap_fd >= 0)
        {
          fds[n] = (struct pollfd){ l->pcap_fd, POLLIN, 0 };
          sides[n] = 0;
          kinds[n++] = 2 * k;
        }
      if (l->wire != NULL)
        {
          int wfds[2];
          guint64 due = ts_lab_wire_send_due (l->wire, now);
          ts_lab_wire_get_fds (l->wire, wfds);
          for (int side = 0; side < 2; side++)
            {
              fds[n] = (struct pollfd){ wfds[side], POLLIN, 0 };
              sides[n] = side;
              kinds[n++] = 2 * k + 1;
            }
          if (due != G_MAXUINT64)
            wait = MIN (wait, due > now ? due - now : 0);
        }
    }
  ts.tv_sec = wait / 1000000000u;
  ts.tv_nsec = wait % 1000000000u;
  if (ppoll (fds, n, &ts, NULL) > 0)
    {
      now = now_mono ();
      for (nfds_t i = 0; i < n; i++)
        {
          if (!(fds[i].revents & (POLLIN | POLLERR | POLLHUP)))
            continue;
          if (kinds[i] == -1)
            {
              struct signalfd_siginfo si;
              while (read (self->sig_fd, &si, sizeof si) == sizeof si)
                {
                  if (si.ssi_signo == SIGCHLD)
                    reap (self);
                  else if (!self->stopping)
                    {
                      self->stopping = TRUE;
                      self->stop_signal = si.ssi_signo;
                    }
                }
            }
          else if (kinds[i] % 2 == 0)
            {
              Link *l = self->links->pdata[kinds[i] / 2];
              PacketCtx ctx = { self, l };
              pcap_dispatch (l->pcap, -1, on_packet_ctx, (u_char *)&ctx);
            }
          else
            ts_lab_wire_receive (((Link *)self->links->pdata[kinds[i] / 2])->wire, sides[i], now);
        }
    }
  now = now_mono ();
  for (guint k = 0; k < self->links->len; k++)
    {
      Link *l = self->links->pdata[k];
      if (l->wire != NULL)
        ts_lab_wire_send_due (l->wire, now);
    }
  if (now - self->last_tail_ns >= TAIL_PERIOD_NS)
    {
      self->last_tail_ns = now;
      tail_all (self);
      if (self->writer != NULL && self->writer_error == NULL)
        ts_trace_writer_advance (self->writer, now_real (), &self->writer_error);
    }
  if (self->writer_error != NULL && !self->stopping)
    {
      add_problem (self, "writing the trace failed: %s", self->writer_error->message);
      self->stopping = TRUE;
    }
}

/* Pumps until @deadline (monotonic) or until stopping. */
static void
pump_until (Engine *self, guint64 deadline)
{
  guint64 now;
  while (!self->stopping && (now = now_mono ()) < deadline)
    pump (self, deadline - now);
}

static void
holder_main (Engine *self, Node *node, int ready_fd)
{
  g_autofree char *hosts = g_build_filename (node->dir, "hosts", NULL);
  g_autofree char *resolv = g_build_filename (self->dir, "resolv.conf", NULL);
  g_autofree char *certs = g_build_filename (node->dir, "certs", NULL);
  g_autofree char *comm = g_strdup_printf ("ts-%s-%s", self->lab, node->name);
  const char *fwd = node->pn->node->forward ? "1" : "0";
  sigset_t all;

  /* Only SIGKILL and SIGTERM end a holder; it has nothing else to do. */
  sigfillset (&all);
  sigprocmask (SIG_UNBLOCK, &all, NULL);
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  prctl (PR_SET_NAME, comm);
  /* Hold nothing of the supervisor's: not its lock, not the pipe to the
   * parent, not the trace. */
  if (ready_fd != 3)
    {
      dup2 (ready_fd, 3);
      ready_fd = 3;
    }
  close_range (4, ~0u, 0);
  {
    /* Nor the caller's output: a pipe held open would never end. */
    int null_fd = open ("/dev/null", O_RDWR | O_CLOEXEC);
    dup2 (null_fd, 0);
    dup2 (null_fd, 1);
    dup2 (null_fd, 2);
  }
  /* Out of the terminal's process group and session: Ctrl-C and hangups
   * go to the supervisor, which ends the lab in order. */
  setsid ();
#define HOLDER_DIE(what)                                                                           \
  do                                                                                               \
    {                                                                                              \
      dprintf (ready_fd, "node %s: %s: %s\n", node->name, what, g_strerror (errno));               \
      _exit (1);                                                                                   \
    }                                                                                              \
  while (0)
  if (unshare (CLONE_NEWNET | CLONE_NEWNS) != 0)
    HOLDER_DIE ("cannot make its namespaces");
  if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
    HOLDER_DIE ("cannot make its mounts private");
  if (mount (hosts, "/etc/hosts", NULL, MS_BIND, NULL) != 0)
    HOLDER_DIE ("cannot bind its hosts file on /etc/hosts");
  /* A missing resolver file or CA directory is no reason to fail. */
  mount (resolv, "/etc/resolv.conf", NULL, MS_BIND, NULL);
  if (g_file_test ("/etc/ssl/certs", G_FILE_TEST_IS_DIR))
    mount (certs, "/etc/ssl/certs", NULL, MS_BIND, NULL);
  /* A sysfs of its own, so that /sys/class/net lists the node's links. */
  mount ("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);

  /* IPv6 without noise: no router advertisements or solicitations, no
   * duplicate address detection, no link-local addresses, MLD reports
   * sent once and at once (before the capture starts). */
  write_proc ("/proc/sys/net/ipv6/conf/default/addr_gen_mode", "1");
  write_proc ("/proc/sys/net/ipv6/mld_qrv", "1");
  for (int d = 0; d < 2; d++)
    {
      const char *conf = d == 0 ? "all" : "default";
      static const char *const off[]
          = { "accept_ra",        "accept_dad", "dad_transmits", "router_solicitations",
              "accept_redirects", NULL };
      char path[128];
      for (guint i = 0; off[i] != NULL; i++)
        {
          g_snprintf (path, sizeof path, "/proc/sys/net/ipv6/conf/%s/%s", conf, off[i]);
          write_proc (path, "0");
        }
      g_snprintf (path, sizeof path, "/proc/sys/net/ipv6/conf/%s/mldv2_unsolicited_report_interval",
                  conf);
      write_proc (path, "1");
      g_snprintf (path, sizeof path, "/proc/sys/net/ipv6/conf/%s/mldv1_unsolicited_report_interval",
                  conf);
      write_proc (path, "1");
      g_snprintf (path, sizeof path, "/proc/sys/net/ipv6/conf/%s/forwarding", conf);
      write_proc (path, fwd);
    }
  write_proc ("/proc/sys/net/ipv4/ip_forward", fwd);
  write_proc ("/proc/sys/net/ipv4/conf/all/accept_redirects", "0");
  write_proc ("/proc/sys/net/ipv4/conf/default/accept_redirects", "0");
  write_proc ("/proc/sys/net/ipv4/conf/all/send_redirects", "0");
  write_proc ("/proc/sys/net/ipv4/conf/default/send_redirects", "0");
  if (write (ready_fd, "", 1) != 1)
    _exit (1);
  close (ready_fd);
  for (;;)
    pause ();
#undef HOLDER_DIE
}

static Proc *
new_proc (Engine *self, ProcKind kind, const char *name, Node *node, pid_t pid)
{
  Proc *p = g_new0 (Proc, 1);

  p->kind = kind;
  p->name = g_strdup (name);
  p->node = node;
  p->pid = pid;
  p->running = TRUE;
  p->start_ns = now_mono ();
  g_ptr_array_add (self->procs, p);
  return p;
}

static gboolean
start_holders (Engine *self, GError **error)
{
  guint n_nodes = self->nodes->len;
  g_autofree int *pipes = g_new (int, n_nodes);
  gboolean ok = TRUE;

  /* All at once: making a network namespace takes milliseconds. */
  for (guint i = 0; i < n_nodes; i++)
    {
      Node *node = self->nodes->pdata[i];
      int p[2];
      pid_t pid;

      pipes[i] = -1;
      if (pipe2 (p, O_CLOEXEC) != 0)
        {
          g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_SYSTEM, "pipe: %s", g_strerror (errno));
          ok = FALSE;
          break;
        }
      pid = fork ();
      if (pid == 0)
        {
          close (p[0]);
          holder_main (self, node, p[1]);
          _exit (1);
        }
      close (p[1]);
      pipes[i] = p[0];
      if (pid < 0)
        {
          g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_SYSTEM, "fork: %s", g_strerror (errno));
          ok = FALSE;
          break;
        }
      node->holder = pid;
      new_proc (self, PROC_HOLDER, node->name, node, pid);
    }
  for (guint i = 0; i < n_nodes; i++)
    {
      Node *node = self->nodes->pdata[i];
      char buf[512];
      gssize n;
      char path[64];

      if (pipes[i] < 0)
        break;
      n = read (pipes[i], buf, sizeof buf - 1);
      close (pipes[i]);
      if (!ok)
        continue;
      if (n != 1)
        {
          buf[MAX (n, 0)] = '\0';
          g_strchomp (buf);
          g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_SYSTEM, "%s",
                       n > 1 ? buf : "a node holder failed to start");
          ok = FALSE;
          continue;
        }
      g_snprintf (path, sizeof path, "/proc/%d/ns/net", node->holder);
      node->net_fd = open (path, O_RDONLY | O_CLOEXEC);
      g_snprintf (path, sizeof path, "/proc/%d/ns/mnt", node->holder);
      node->mnt_fd = open (path, O_RDONLY | O_CLOEXEC);
      if (node->net_fd < 0 || node->mnt_fd < 0)
        {
          g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_SYSTEM,
                       "node %s: cannot open its namespaces: %s", node->name, g_strerror (errno));
          ok = FALSE;
        }
    }
  return ok;
}

static Node *
get_node (Engine *self, const char *name)
{
  for (guint i = 0; i < self->nodes->len; i++)
    if (g_str_equal (((Node *)self->nodes->pdata[i])->name, name))
      return self->nodes->pdata[i];
  return NULL;
}

static void
offloads_off (const char *ifname)
{
  static const guint32 cmds[]
      = { ETHTOOL_STSO, ETHTOOL_SGSO, ETHTOOL_SGRO, ETHTOOL_STXCSUM, ETHTOOL_SRXCSUM, ETHTOOL_SSG };
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

  if (fd < 0)
    return;
  for (gsize i = 0; i < G_N_ELEMENTS (cmds); i++)
    {
      struct ethtool_value v = { cmds[i], 0 };
      struct ifreq ifr = { 0 };
      g_strlcpy (ifr.ifr_name, ifname, IFNAMSIZ);
      ifr.ifr_data = (void *)&v;
      ioctl (fd, SIOCETHTOOL, &ifr);
    }
  close (fd);
}

/* The hardware address of end @e of link @k: locally administered and
 * fixed, so that every node can be told its neighbours' in advance. */
static void
end_mac (guint k, int e, guint8 out[6])
{
  out[0] = 0x02; /* locally administered, unicast */
  out[1] = 't';
  out[2] = 's';
  out[3] = (guint8)((k + 1) >> 8);
  out[4] = (guint8)(k + 1);
  out[5] = (guint8)(e + 1);
}

static gboolean
build_network (Engine *self, GError **error)
{
  /* Phase one, in the backplane: every veth pair, created straight into
   * the nodes' namespaces (a wire's pair has one end here). */
  {
    g_autoptr (TsLabNetlink) nl = ts_lab_netlink_new (error);
    if (nl == NULL)
      return FALSE;
    for (guint k = 0; k < self->plan->links->len; k++)
      {
        TsLabPlanLink *pl = self->plan->links->pdata[k];
        Node *a = get_node (self, pl->ends[0].node);
        Node *b = get_node (self, pl->ends[1].node);
        guint mtu = pl->link->mtu;
        char wa[16], wb[16];
        guint8 mac_a[6], mac_b[6];

        g_snprintf (wa, sizeof wa, "w%u-a", k);
        g_snprintf (wb, sizeof wb, "w%u-b", k);
        end_mac (k, 0, mac_a);
        end_mac (k, 1, mac_b);
        if (!pl->wire)
          {
            if (!ts_lab_netlink_add_veth (nl, pl->ends[0].ifname, a->net_fd, mac_a,
                                          pl->ends[1].ifname, b->net_fd, mac_b, mtu, error))
              return FALSE;
          }
        else if (!ts_lab_netlink_add_veth (nl, pl->ends[0].ifname, a->net_fd, mac_a, wa, -1, NULL,
                                           mtu, error)
                 || !ts_lab_netlink_add_veth (nl, pl->ends[1].ifname, b->net_fd, mac_b, wb, -1,
                                              NULL, mtu, error)
                 || !ts_lab_netlink_link_up (nl, wa, TRUE, error)
                 || !ts_lab_netlink_link_up (nl, wb, TRUE, error))
          return FALSE;
      }
  }

  /* Phase two, in each node: up, addresses, routes. */
  for (guint i = 0; i < self->nodes->len; i++)
    {
      Node *node = self->nodes->pdata[i];
      g_autoptr (TsLabNetlink) nl = NULL;
      gboolean ok = TRUE;

      if (setns (node->net_fd, CLONE_NEWNET) != 0)
        {
          g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_SYSTEM, "node %s: setns: %s", node->name,
                       g_strerror (errno));
          return FALSE;
        }
      nl = ts_lab_netlink_new (error);
      ok = nl != NULL && ts_lab_netlink_link_up (nl, "lo", FALSE, error);
      for (guint k = 0; ok && k < self->plan->links->len; k++)
        {
          TsLabPlanLink *pl = self->plan->links->pdata[k];
          for (int e = 0; ok && e < 2; e++)
            {
              if (!g_str_equal (pl->ends[e].node, node->name))
                continue;
              ok = ts_lab_netlink_link_up (nl, pl->ends[e].ifname, TRUE, error)
                   && ts_lab_netlink_add_address (nl, pl->ends[e].ifname, pl->ends[e].addr4,
                                                  pl->prefix4, error)
                   && (pl->ends[e].addr6 == NULL
                       || ts_lab_netlink_add_address (nl, pl->ends[e].ifname, pl->ends[e].addr6,
                                                      pl->prefix6, error));
              /* The neighbour at the other end is known in advance: no ARP
               * or neighbour discovery round trip before a link's first
               * packet, so a link's delay shows only in the protocols the
               * lessons are about, and the captures hold no such noise. */
              if (ok)
                {
                  const TsLabPlanEnd *peer = &pl->ends[1 - e];
                  guint8 mac[6];

                  end_mac (k, 1 - e, mac);
                  ok = ts_lab_netlink_add_neighbour (nl, pl->ends[e].ifname, peer->addr4, mac,
                                                     error)
                       && (peer->addr6 == NULL
                           || ts_lab_netlink_add_neighbour (nl, pl->ends[e].ifname, peer->addr6,
                                                            mac, error));
                }
            }
        }
      for (guint r = 0; ok && r < node->pn->routes->len; r++)
        {
          TsLabPlanRoute *route = node->pn->routes->pdata[r];
          ok = ts_lab_netlink_add_route (nl, route->dest, route->via, route->dev, error);
        }
      if (!ok)
        {
          g_prefix_error (error, "node %s: ", node->name);
          setns (self->self_net_fd, CLONE_NEWNET);
          return FALSE;
        }
    }

  /* Offloads off everywhere, so that captures hold real segments with
   * valid checksums. The ioctl works on the calling thread's namespace. */
  for (guint i = 0; i < self->nodes->len; i++)
    {
      Node *node = self->nodes->pdata[i];
      if (setns (node->net_fd, CLONE_NEWNET) != 0)
        {
          g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_SYSTEM, "node %s: setns: %s", node->name,
                       g_strerror (errno));
          return FALSE;
        }
      for (guint k = 0; k < self->plan->links->len; k++)
        {
          TsLabPlanLink *pl = self->plan->links->pdata[k];
          for (int e = 0; e < 2; e++)
            if (g_str_equal (pl->ends[e].node, node->name) && !pl->link->offload)
              offloads_off (pl->ends[e].ifname);
        }
    }
  if (setns (self->self_net_fd, CLONE_NEWNET) != 0)
    {
      g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_SYSTEM, "setns back: %s", g_strerror (errno));
      return FALSE;
    }
  for (guint k = 0; k < self->plan->links->len; k++)
    {
      TsLabPlanLink *pl = self->plan->links->pdata[k];
      Link *link = g_new0 (Link, 1);
      link->pl = pl;
      link->pcap_fd = -1;
      g_ptr_array_add (self->links, link);
      if (pl->wire)
        {
          char a[16], b[16];
          g_snprintf (a, sizeof a, "w%u-a", k);
          g_snprintf (b, sizeof b, "w%u-b", k);
          offloads_off (a);
          offloads_off (b);
          link->wire = ts_lab_wire_new (a, b, pl->link, error);
          if (link->wire == NULL)
            return FALSE;
        }
    }
  return TRUE;
}

static gboolean
start_captures (Engine *self, GError **error)
{
  for (guint k = 0; k < self->links->len; k++)
    {
      Link *link = self->links->pdata[k];
      Node *node = get_node (self, link->pl->ends[0].node);
      char errbuf[PCAP_ERRBUF_SIZE] = "";
      const char *ifname = link->pl->ends[0].ifname;
      int rc;

      if (!link->pl->link->capture)
        continue;
      if (setns (node->net_fd, CLONE_NEWNET) != 0)
        {
          g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_SYSTEM, "node %s: setns: %s", node->name,
                       g_strerror (errno));
          return FALSE;
        }
      link->pcap = pcap_create (ifname, errbuf);
      if (link->pcap != NULL)
        {
          pcap_set_snaplen (link->pcap, CAPTURE_SNAPLEN);
          pcap_set_immediate_mode (link->pcap, 1);
          pcap_set_buffer_size (link->pcap, CAPTURE_BUFFER_BYTES);
          pcap_set_tstamp_precision (link->pcap, PCAP_TSTAMP_PRECISION_NANO);
          rc = pcap_activate (link->pcap);
          if (rc >= 0)
            {
              /* The kernel still sends an MLD report or two for each
               * IPv6 address a little after it is added, even without
               * duplicate address detection and with the shortest
               * intervals: leave them out (IPv6 with a hop-by-hop header
               * to a multicast address; nothing else in the lab is). */
              struct bpf_program prog;
              if (pcap_compile (link->pcap, &prog, "not (ip6 and ip6[6] == 0 and ip6[24] == 0xff)",
                                1, PCAP_NETMASK_UNKNOWN)
                  == 0)
                {
                  pcap_setfilter (link->pcap, &prog);
                  pcap_freecode (&prog);
                }
            }
          if (rc < 0)
            {
              g_strlcpy (errbuf, pcap_geterr (link->pcap), sizeof errbuf);
              pcap_close (link->pcap);
              link->pcap = NULL;
            }
        }
      setns (self->self_net_fd, CLONE_NEWNET);
      if (link->pcap == NULL)
        {
          g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_SYSTEM,
                       "cannot capture link %s (interface %s in node %s): %s", link->pl->link->name,
                       ifname, node->name, errbuf);
          return FALSE;
        }
      link->captured = TRUE;
      pcap_setnonblock (link->pcap, 1, errbuf);
      link->pcap_fd = pcap_get_selectable_fd (link->pcap);
    }
  return TRUE;
}

static char *
metadata_json (Engine *self)
{
  g_autofree char *plan = ts_lab_plan_to_json (self->plan, self->lab, FALSE);
  g_autoptr (JsonNode) root = json_from_string (plan, NULL);
  JsonObject *obj = json_node_get_object (root);
  JsonArray *ifaces = json_array_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();

  json_object_set_string_member (obj, "mode",
                                 self->rootless ? "rootless (user namespace)" : "root");
  json_object_set_string_member (obj, "tunnelscope", PACKAGE_VERSION);
  for (guint k = 0; k < self->links->len; k++)
    {
      Link *link = self->links->pdata[k];
      JsonObject *o;
      if (link->pcap == NULL)
        continue;
      o = json_object_new ();
      json_object_set_int_member (o, "id", link->iface_id);
      json_object_set_string_member (o, "name", link->pl->link->name);
      json_object_set_string_member (o, "node", link->pl->ends[0].node);
      json_object_set_string_member (o, "interface", link->pl->ends[0].ifname);
      json_array_add_object_element (ifaces, o);
    }
  json_object_set_array_member (obj, "interfaces", ifaces);
  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, NULL);
}

static gboolean
start_writer (Engine *self, GError **error)
{
  g_autoptr (GOutputStream) out = NULL;
  g_autofree char *json = NULL;

  if (self->trace_fd < 0)
    return TRUE;
  out = g_unix_output_stream_new (self->trace_fd, TRUE);
  self->trace_fd = -1;
  self->writer = ts_trace_writer_new (out, self->s->name, TS_TRACE_WRITER_DEFAULT_WINDOW_NS, error);
  if (self->writer == NULL)
    return FALSE;
  /* Interface ids first, so that the metadata can name them. */
  for (guint k = 0, id = 0; k < self->links->len; k++)
    {
      Link *link = self->links->pdata[k];
      if (link->pcap != NULL)
        link->iface_id = id++;
    }
  json = metadata_json (self);
  if (!ts_trace_writer_set_metadata (self->writer, now_real (), json, error))
    return FALSE;
  for (guint k = 0; k < self->links->len; k++)
    {
      Link *link = self->links->pdata[k];
      g_autofree char *desc = NULL;
      if (link->pcap == NULL)
        continue;
      desc = g_strdup_printf ("link %s captured at node %s (interface %s, towards %s)",
                              link->pl->link->name, link->pl->ends[0].node,
                              link->pl->ends[0].ifname, link->pl->ends[1].node);
      ts_trace_writer_add_interface (self->writer, link->pl->link->name, TS_LINKTYPE_ETHERNET, desc,
                                     error);
      if (error != NULL && *error != NULL)
        return FALSE;
    }
  return TRUE;
}

static pid_t
spawn_in_node (Engine *self, Node *node, const char *command, const char *log_path, GError **error)
{
  pid_t pid = fork ();

  if (pid < 0)
    {
      g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_SYSTEM, "fork: %s", g_strerror (errno));
      return -1;
    }
  if (pid == 0)
    {
      sigset_t all;
      int fd;
      const char *argv[] = { "/bin/sh", "-c", command, NULL };

      setsid ();
      prctl (PR_SET_PDEATHSIG, SIGKILL);
      if (setns (node->net_fd, CLONE_NEWNET) != 0 || setns (node->mnt_fd, CLONE_NEWNS) != 0)
        _exit (126);
      if (chdir (node->dir) != 0)
        _exit (126);
      fd = open (log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
      if (fd >= 0)
        {
          dup2 (fd, 1);
          dup2 (fd, 2);
        }
      fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
      if (fd >= 0)
        dup2 (fd, 0);
      /* Capture sockets and other descriptors stay with the supervisor. */
      close_range (3, ~0u, 0);
      signal (SIGPIPE, SIG_DFL);
      sigfillset (&all);
      sigprocmask (SIG_UNBLOCK, &all, NULL);
      execve (argv[0], (char **)argv, node->env);
      _exit (127);
    }
  return pid;
}

/* Is something listening on TCP @port in @node? Read from the holder's
 * /proc/PID/net, which shows the node's network namespace. */
static gboolean
listening (Node *node, guint port)
{
  for (int v6 = 0; v6 < 2; v6++)
    {
      g_autofree char *path = g_strdup_printf ("/proc/%d/net/tcp%s", node->holder, v6 ? "6" : "");
      g_autofree char *text = NULL;
      g_auto (GStrv) lines = NULL;

      if (!g_file_get_contents (path, &text, NULL, NULL))
        continue;
      lines = g_strsplit (text, "\n", -1);
      for (guint i = 1; lines[i] != NULL; i++)
        {
          g_auto (GStrv) f = g_strsplit_set (g_strstrip (lines[i]), " ", -1);
          const char *local = NULL, *state = NULL;
          guint col = 0;
          for (guint k = 0; f[k] != NULL; k++)
            {
              if (f[k][0] == '\0')
                continue;
              if (col == 1)
                local = f[k];
              else if (col == 3)
                state = f[k];
              col++;
            }
          if (local != NULL && state != NULL && g_str_equal (state, "0A"))
            {
              const char *colon = strrchr (local, ':');
              if (colon != NULL && strtoul (colon + 1, NULL, 16) == port)
                return TRUE;
            }
        }
    }
  return FALSE;
}

static char *
log_tail (const char *path, guint max_lines)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  GString *out = g_string_new (NULL);
  guint n, start;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return g_string_free (out, FALSE);
  g_strchomp (text);
  lines = g_strsplit (text, "\n", -1);
  n = g_strv_length (lines);
  start = n > max_lines ? n - max_lines : 0;
  for (guint i = start; i < n; i++)
    g_string_append_printf (out, "      | %s\n", lines[i]);
  return g_string_free (out, FALSE);
}

/* The first @max_lines lines of a log, indented, with a note of how many
 * more there are: a step's first words say what happened. */
static char *
log_head (const char *path, guint max_lines)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  GString *out = g_string_new (NULL);
  guint n;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return g_string_free (out, FALSE);
  g_strchomp (text);
  if (text[0] == '\0')
    return g_string_free (out, FALSE);
  lines = g_strsplit (text, "\n", -1);
  n = g_strv_length (lines);
  for (guint i = 0; i < n && i < max_lines; i++)
    g_string_append_printf (out, "      | %s\n", lines[i]);
  if (n > max_lines)
    g_string_append_printf (out, "      | (%u more lines)\n", n - max_lines);
  return g_string_free (out, FALSE);
}

static gboolean
start_actors (Engine *self, GError **error)
{
  guint64 deadline;

  for (guint i = 0; i < self->s->actors->len; i++)
    {
      TsLabActor *a = self->s->actors->pdata[i];
      Node *node = get_node (self, a->node);
      g_autofree char *log = g_strdup_printf ("%s/actor-%s.log", node->dir, a->name);
      pid_t pid = spawn_in_node (self, node, a->command, log, error);
      Proc *p;

      if (pid < 0)
        return FALSE;
      p = new_proc (self, PROC_ACTOR, a->name, node, pid);
      p->actor = a;
      p->log = g_steal_pointer (&log);
      lab_event (self, node->name, "lab.actor.started", "actor", a->name, "command", a->command,
                 NULL);
    }
  deadline = now_mono () + ACTOR_READY_TIMEOUT_NS;
  for (;;)
    {
      gboolean all = TRUE;
      for (guint i = 0; i < self->procs->len; i++)
        {
          Proc *p = self->procs->pdata[i];
          if (p->kind != PROC_ACTOR || p->ready)
            continue;
          if (!p->running)
            {
              g_autofree char *what = describe_status (p->status, FALSE);
              g_autofree char *tail = log_tail (p->log, 5);
              g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_FAILED,
                           "actor %s on %s failed to start: %s\n%s", p->name, p->node->name, what,
                           tail);
              return FALSE;
            }
          p->ready = p->actor->ready_port == 0 || listening (p->node, p->actor->ready_port);
          all = all && p->ready;
        }
      if (all)
        return TRUE;
      if (self->stopping)
        {
          g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_FAILED,
                       "interrupted while the actors started");
          return FALSE;
        }
      if (now_mono () > deadline)
        {
          for (guint i = 0; i < self->procs->len; i++)
            {
              Proc *p = self->procs->pdata[i];
              if (p->kind == PROC_ACTOR && !p->ready)
                {
                  g_autofree char *tail = log_tail (p->log, 5);
                  g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_FAILED,
                               "actor %s on %s does not listen on tcp:%u after %u s\n%s", p->name,
                               p->node->name, p->actor->ready_port,
                               (guint)(ACTOR_READY_TIMEOUT_NS / 1000000000u), tail);
                  return FALSE;
                }
            }
        }
      pump (self, 5 * 1000000u);
    }
}

static void
kill_group (Proc *p, int sig)
{
  if (p->running)
    {
      kill (-p->pid, sig);
      kill (p->pid, sig);
    }
}

static void
run_steps (Engine *self)
{
  for (guint i = 0; i < self->s->steps->len && !self->stopping; i++)
    {
      TsLabStep *st = self->s->steps->pdata[i];
      Node *node = get_node (self, st->node);
      g_autofree char *log = g_strdup_printf ("%s/step-%s.log", node->dir, st->name);
      g_autoptr (GError) local = NULL;
      guint64 deadline;
      pid_t pid;
      Proc *p;

      if (st->pause_ns > 0)
        pump_until (self, now_mono () + st->pause_ns);
      if (self->stopping)
        break;
      lab_event (self, node->name, "lab.step.started", "step", st->name, "command", st->command,
                 NULL);
      pid = spawn_in_node (self, node, st->command, log, &local);
      if (pid < 0)
        {
          add_problem (self, "step %s: %s", st->name, local->message);
          continue;
        }
      p = new_proc (self, PROC_STEP, st->name, node, pid);
      p->step = st;
      p->log = g_steal_pointer (&log);
      deadline = p->start_ns + st->timeout_ns;
      while (p->running && !self->stopping)
        {
          guint64 now = now_mono ();
          if (now >= deadline && !p->timed_out)
            {
              p->timed_out = TRUE;
              kill_group (p, SIGKILL);
            }
          pump (self, now < deadline ? deadline - now : 1000000u);
        }
      if (p->running)
        {
          /* Interrupted: the step goes with the lab. */
          p->stopping = TRUE;
          kill_group (p, SIGKILL);
          while (p->running)
            pump (self, 1000000u);
        }
      {
        g_autofree char *what = describe_status (p->status, p->timed_out);
        g_autofree char *ms = g_strdup_printf ("%.0f", (p->end_ns - p->start_ns) / 1e6);
        g_autofree char *code
            = g_strdup_printf ("%d", WIFEXITED (p->status) ? WEXITSTATUS (p->status) : -1);
        lab_event (self, node->name, "lab.step.finished", "step", st->name, "exit", code, "status",
                   what, "duration_ms", ms, NULL);
      }
    }
}

/* Takes in the packets still in the captures' buffers (every link's
 * before any statistics: writing a block flushes what the writer holds,
 * and a later link's packets may be older), then asks each capture what it
 * lost (the kernel drops packets when the supervisor does not keep up: a
 * bulk transfer at memory speed outruns it) and writes that down in the
 * trace, as an Interface Statistics Block per link. */
static void
finish_captures (Engine *self)
{
  for (guint k = 0; k < self->links->len; k++)
    {
      Link *l = self->links->pdata[k];
      PacketCtx ctx = { self, l };

      if (l->pcap != NULL)
        while (pcap_dispatch (l->pcap, -1, on_packet_ctx, (u_char *)&ctx) > 0)
          ;
    }
  for (guint k = 0; k < self->links->len; k++)
    {
      Link *l = self->links->pdata[k];
      struct pcap_stat ps;
      TsTraceStatistics stats;

      if (l->pcap == NULL || pcap_stats (l->pcap, &ps) != 0)
        continue;
      /* (ps_ifdrop: the interface's own drops, the network's loss.) */
      l->n_lost = ps.ps_drop;
      stats.received = ps.ps_recv;
      stats.os_drops = ps.ps_drop;
      stats.if_drops = ps.ps_ifdrop;
      stats.delivered = l->n_packets;
      if (self->writer != NULL && self->writer_error == NULL)
        ts_trace_writer_add_statistics (self->writer, l->iface_id, now_real (), &stats,
                                        &self->writer_error);
    }
}

static void
stop_actors (Engine *self)
{
  guint64 deadline = now_mono () + STOP_TIMEOUT_NS;
  gboolean any;

  for (guint i = 0; i < self->procs->len; i++)
    {
      Proc *p = self->procs->pdata[i];
      if ((p->kind == PROC_ACTOR || p->kind == PROC_STEP) && p->running)
        {
          p->stopping = TRUE;
          kill_group (p, SIGTERM);
        }
    }
  do
    {
      any = FALSE;
      for (guint i = 0; i < self->procs->len; i++)
        {
          Proc *p = self->procs->pdata[i];
          if ((p->kind == PROC_ACTOR || p->kind == PROC_STEP) && p->running)
            {
              any = TRUE;
              if (now_mono () > deadline)
                kill_group (p, SIGKILL);
            }
        }
      if (any)
        {
          gboolean was = self->stopping;
          self->stopping = FALSE; /* pump () must run while we wait */
          pump (self, 5 * 1000000u);
          self->stopping = was || self->stopping;
        }
    }
  while (any);
}

static Proc *
step_proc (Engine *self, const char *name)
{
  for (guint i = 0; i < self->procs->len; i++)
    {
      Proc *p = self->procs->pdata[i];
      if (p->kind == PROC_STEP && g_str_equal (p->name, name))
        return p;
    }
  return NULL;
}

static void
check_expectations (Engine *self)
{
  self->expect_report = g_string_new (NULL);
  for (guint i = 0; i < self->s->expects->len; i++)
    {
      TsLabExpect *x = self->s->expects->pdata[i];
      g_autoptr (GString) want = g_string_new (NULL);
      g_autoptr (GString) got = g_string_new (NULL);
      gboolean held = TRUE;

      if (x->step != NULL)
        {
          Proc *p = step_proc (self, x->step);
          g_autofree char *output = NULL;

          if (p == NULL || p->running)
            {
              held = FALSE;
              g_string_append_printf (want, "step %s runs", x->step);
              g_string_append (got, "it never ran");
            }
          else
            {
              g_autofree char *what = describe_status (p->status, p->timed_out);
              gboolean exited = WIFEXITED (p->status) && !p->timed_out;
              int code = exited ? WEXITSTATUS (p->status) : -1;

              g_file_get_contents (p->log, &output, NULL, NULL);
              if (x->exit_rule != TS_LAB_EXIT_ANY)
                {
                  gboolean ok = x->exit_rule == TS_LAB_EXIT_ZERO      ? code == 0
                                : x->exit_rule == TS_LAB_EXIT_NONZERO ? code != 0
                                                                      : code == x->exit_code;
                  if (x->exit_rule == TS_LAB_EXIT_ZERO)
                    g_string_append_printf (want, "step %s exits 0", x->step);
                  else if (x->exit_rule == TS_LAB_EXIT_NONZERO)
                    g_string_append_printf (want, "step %s fails (exit not 0)", x->step);
                  else
                    g_string_append_printf (want, "step %s exits %d", x->step, x->exit_code);
                  g_string_append_printf (got, "%s", what);
                  held = held && ok;
                }
              if (x->output_contains != NULL)
                {
                  gboolean ok = output != NULL && strstr (output, x->output_contains) != NULL;
                  g_string_append_printf (want, "%soutput has \"%s\"", want->len ? ", " : "",
                                          x->output_contains);
                  if (!ok)
                    g_string_append_printf (got, "%soutput lacks it", got->len ? ", " : "");
                  held = held && ok;
                }
              if (x->output_lacks != NULL)
                {
                  gboolean ok = output == NULL || strstr (output, x->output_lacks) == NULL;
                  g_string_append_printf (want, "%soutput lacks \"%s\"", want->len ? ", " : "",
                                          x->output_lacks);
                  if (!ok)
                    g_string_append_printf (got, "%soutput has it", got->len ? ", " : "");
                  held = held && ok;
                }
            }
        }
      if (x->event != NULL)
        {
          guint count = 0;
          for (guint k = 0; k < self->events->len; k++)
            {
              TsTraceEvent *ev = self->events->pdata[k];
              if (g_str_equal (ts_trace_event_get_kind (ev), x->event)
                  && (x->event_node == NULL
                      || g_str_equal (ts_trace_event_get_node (ev), x->event_node)))
                count++;
            }
          g_string_append_printf (want, "%sevent %s%s%s %s", want->len ? ", " : "", x->event,
                                  x->event_node ? " from " : "", x->event_node ? x->event_node : "",
                                  x->event_absent ? "never happens" : "happens");
          g_string_append_printf (got, "%s%u seen", got->len ? ", " : "", count);
          held = held && (x->event_absent ? count == 0 : count > 0);
        }
      if (held)
        self->n_held++;
      else
        self->n_failed++;
      g_string_append_printf (
          self->expect_report, "  %-8s %s: %s%s%s%s\n", held ? "[held]" : "[FAILED]", x->name,
          x->description != NULL ? x->description : want->str, x->description != NULL ? " (" : "",
          x->description != NULL ? want->str : "", x->description != NULL ? ")" : "");
      if (!held)
        g_string_append_printf (self->expect_report, "           got: %s\n", got->str);
      lab_event (self, "lab", "lab.expectation", "name", x->name, "held", held ? "yes" : "no",
                 "expected", want->str, "got", got->str, NULL);
    }
}

static void
print_summary (Engine *self)
{
  FILE *out = self->out;
  TsLabScenario *s = self->s;

  if (self->opt.quiet || out == NULL)
    return;
  fprintf (out, "\nScenario %s: %s\n", s->name, s->description);
  fprintf (out, "Lab %s, %s\n", self->lab,
           self->rootless ? "rootless (in a user namespace)" : "as root");
  fprintf (out, "\nNodes (each its own network namespace)\n");
  for (guint i = 0; i < s->nodes->len; i++)
    {
      TsLabNode *n = s->nodes->pdata[i];
      g_autoptr (GString) addrs = g_string_new (NULL);
      g_autofree char *names = g_strjoinv (" ", n->names);
      for (guint k = 0; k < self->plan->links->len; k++)
        {
          TsLabPlanLink *pl = self->plan->links->pdata[k];
          for (int e = 0; e < 2; e++)
            if (g_str_equal (pl->ends[e].node, n->name))
              g_string_append_printf (addrs, "%s%s%s%s", addrs->len ? ", " : "", pl->ends[e].addr4,
                                      pl->ends[e].addr6 ? " " : "",
                                      pl->ends[e].addr6 ? pl->ends[e].addr6 : "");
        }
      fprintf (out, "  %-10s %-8s %s.test%s%s  %s\n", n->name, n->role, n->name,
               names[0] ? " " : "", names, addrs->str);
    }
  fprintf (out, "\nLinks\n");
  for (guint k = 0; k < self->links->len; k++)
    {
      Link *l = self->links->pdata[k];
      TsLabLink *ll = l->pl->link;
      g_autoptr (GString) props = g_string_new (NULL);
      if (ll->delay_ns)
        g_string_append_printf (props, " delay %.1f ms", ll->delay_ns / 1e6);
      if (ll->jitter_ns)
        g_string_append_printf (props, " jitter %.1f ms", ll->jitter_ns / 1e6);
      if (ll->loss > 0)
        g_string_append_printf (props, " loss %.2f%%", ll->loss * 100);
      if (ll->rate_bps)
        g_string_append_printf (props, " rate %.3g Mbit/s", ll->rate_bps / 1e6);
      fprintf (out, "  %-16s %-16s %s%s", ll->name, l->pl->subnet4,
               l->pl->wire ? "userspace wire:" : "veth", props->str);
      if (l->captured && l->n_lost > 0)
        fprintf (out,
                 "; captured at %s: %" G_GUINT64_FORMAT " packets, and %" G_GUINT64_FORMAT
                 " more lost by the capture\n",
                 l->pl->ends[0].node, l->n_packets, l->n_lost);
      else if (l->captured)
        fprintf (out, "; captured at %s: %" G_GUINT64_FORMAT " packets\n", l->pl->ends[0].node,
                 l->n_packets);
      else
        fprintf (out, "; not captured\n");
    }
  fprintf (out, "\nActors\n");
  for (guint i = 0; i < self->procs->len; i++)
    {
      Proc *p = self->procs->pdata[i];
      guint n_events = 0;
      g_autofree char *what = NULL;
      if (p->kind != PROC_ACTOR)
        continue;
      for (guint k = 0; k < self->events->len; k++)
        {
          TsTraceEvent *ev = self->events->pdata[k];
          if (g_str_equal (ts_trace_event_get_node (ev), p->node->name)
              && !g_str_has_prefix (ts_trace_event_get_kind (ev), "lab."))
            n_events++;
        }
      what = p->running ? g_strdup ("running") : describe_status (p->status, FALSE);
      {
        g_autofree char *program = command_program (p->actor->command);
        fprintf (out, "  %-10s on %-8s %s: %s%s; %u event%s\n", p->name, p->node->name,
                 program != NULL ? program : "(shell)",
                 p->stopping ? "ran until the lab stopped it, " : "ended on its own, ", what,
                 n_events, n_events == 1 ? "" : "s");
        if (!p->stopping)
          {
            g_autofree char *tail = log_tail (p->log, 5);
            fprintf (out, "%s", tail);
          }
      }
    }
  if (s->steps->len > 0)
    fprintf (out, "\nTimeline\n");
  for (guint i = 0; i < s->steps->len; i++)
    {
      TsLabStep *st = s->steps->pdata[i];
      Proc *p = step_proc (self, st->name);
      g_autofree char *what = p != NULL && !p->running ? describe_status (p->status, p->timed_out)
                                                       : g_strdup ("did not run");
      g_autofree char *tail = p != NULL ? log_head (p->log, 4) : g_strdup ("");
      if (p != NULL && p->stopping)
        {
          g_free (what);
          what = g_strdup ("stopped: the run was interrupted");
        }
      fprintf (out, "  %-10s on %-8s %s\n      -> %s", st->name, st->node, st->command, what);
      if (p != NULL && !p->running)
        fprintf (out, " after %.0f ms", (p->end_ns - p->start_ns) / 1e6);
      fprintf (out, "\n%s", tail);
    }
  if (s->expects->len > 0)
    fprintf (out, "\nExpectations\n%s",
             self->expect_report != NULL ? self->expect_report->str
             : self->stop_signal != 0    ? "  (not checked: the run was interrupted)\n"
                                         : "  (not checked)\n");
  if (self->problems->len > 0)
    {
      fprintf (out, "\nProblems\n");
      for (guint i = 0; i < self->problems->len; i++)
        fprintf (out, "  %s\n", (char *)self->problems->pdata[i]);
    }
  if (self->opt.trace_path != NULL)
    {
      guint64 n = 0, lost = 0;
      for (guint k = 0; k < self->links->len; k++)
        {
          n += ((Link *)self->links->pdata[k])->n_packets;
          lost += ((Link *)self->links->pdata[k])->n_lost;
        }
      /* Counted as tscope trace-info counts them: every event block,
       * the lab's metadata (the first) included. */
      fprintf (out,
               "\nTrace: %s\n  %" G_GUINT64_FORMAT " packets on %u links, %" G_GUINT64_FORMAT
               " TLS key log lines, %u events (the lab's metadata and %u from the lab and its "
               "actors)\n",
               g_str_equal (self->opt.trace_path, "-") ? "standard output" : self->opt.trace_path,
               n, self->links->len, self->n_secret_lines, self->events->len + 1, self->events->len);
      if (lost > 0)
        fprintf (out,
                 "  warning: the capture lost %" G_GUINT64_FORMAT
                 " packets (the traffic outran it): the trace has gaps the network did not "
                 "have (tscope explain marks them)\n",
                 lost);
      if (!g_str_equal (self->opt.trace_path, "-"))
        fprintf (out,
                 "  open it with: wireshark %s%s\n"
                 "  or:           tscope explain %s\n",
                 self->opt.trace_path,
                 self->n_secret_lines > 0 ? "   (the TLS secrets are inside)" : "",
                 self->opt.trace_path);
    }
  if (self->opt.mode == TS_LAB_MODE_RUN && self->stop_signal != 0)
    fprintf (out,
             "\nResult: INTERRUPTED by %s before the timeline finished (expectations not "
             "checked)\n",
             signal_name (self->stop_signal));
  else if (self->opt.mode == TS_LAB_MODE_RUN)
    fprintf (out, "\nResult: %s (%u of %u expectations held)\n",
             self->n_failed == 0 && self->problems->len == 0 ? "PASS" : "FAIL", self->n_held,
             self->n_held + self->n_failed);
  fflush (out);
}

static void
write_state (Engine *self)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autofree char *path = g_build_filename (self->dir, "state", NULL);
  g_autofree char *text = NULL;
  g_autoptr (GPtrArray) names = g_ptr_array_new ();

  g_key_file_set_string (kf, "lab", "scenario", self->s->name);
  g_key_file_set_string (kf, "lab", "scenario_file", self->s->path);
  g_key_file_set_boolean (kf, "lab", "rootless", self->rootless);
  for (guint i = 0; i < self->nodes->len; i++)
    {
      Node *node = self->nodes->pdata[i];
      g_ptr_array_add (names, (gpointer)node->name);
      /* PIDs as the lab's own /proc shows them. */
      g_key_file_set_integer (kf, "pids", node->name, node->holder);
    }
  g_key_file_set_string_list (kf, "lab", "nodes", (const char *const *)names->pdata, names->len);
  text = g_key_file_to_data (kf, NULL, NULL);
  write_file (path, text, NULL);
}

static void
tell_parent (Engine *self, const char *message)
{
  if (self->ready_fd < 0)
    return;
  if (write (self->ready_fd, message, strlen (message)) < 0)
    g_debug ("the parent is gone");
  close (self->ready_fd);
  self->ready_fd = -1;
}

static void
teardown (Engine *self)
{
  for (guint k = 0; k < self->links->len; k++)
    {
      Link *l = self->links->pdata[k];
      g_clear_pointer (&l->pcap, pcap_close);
      g_clear_pointer (&l->wire, ts_lab_wire_free);
    }
  /* Let go of the namespaces first, so that the holders, exiting side by
   * side, are the last users and tear their mounts down in parallel (each
   * mount namespace's end waits for an RCU grace period). */
  for (guint i = 0; i < self->nodes->len; i++)
    {
      Node *node = self->nodes->pdata[i];
      if (node->net_fd >= 0)
        close (node->net_fd);
      if (node->mnt_fd >= 0)
        close (node->mnt_fd);
      node->net_fd = node->mnt_fd = -1;
    }
  for (guint i = 0; i < self->procs->len; i++)
    {
      Proc *p = self->procs->pdata[i];
      if (p->running)
        {
          p->stopping = TRUE;
          kill (p->pid, SIGKILL);
        }
    }
  for (guint i = 0; i < self->procs->len; i++)
    {
      Proc *p = self->procs->pdata[i];
      if (p->running)
        {
          waitpid (p->pid, &p->status, 0);
          p->running = FALSE;
        }
    }
}

/* The supervisor: PID 1 of the lab's PID namespace. Returns its exit status. */
static int
supervise (Engine *self)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *comm = g_strdup_printf ("ts-%s", self->lab);
  sigset_t mask;
  int status = 1;

  prctl (PR_SET_NAME, comm);
  if (self->opt.mode != TS_LAB_MODE_UP)
    prctl (PR_SET_PDEATHSIG, SIGTERM);
  else
    {
      /* A daemon from the start: the caller's session may end any time,
       * and its output must not be held open (errors go up the pipe). */
      g_autofree char *log = g_build_filename (self->dir, "supervisor.log", NULL);
      int fd = open ("/dev/null", O_RDWR | O_CLOEXEC);
      setsid ();
      dup2 (fd, 0);
      fd = open (log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
      dup2 (fd, 1);
      dup2 (fd, 2);
    }
  signal (SIGPIPE, SIG_IGN);
  sigemptyset (&mask);
  sigaddset (&mask, SIGCHLD);
  sigaddset (&mask, SIGINT);
  sigaddset (&mask, SIGTERM);
  sigaddset (&mask, SIGHUP);
  sigaddset (&mask, SIGQUIT);
  sigprocmask (SIG_BLOCK, &mask, NULL);
  self->sig_fd = signalfd (-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);

  /* The backplane: our own network namespace, where the wires live; and
   * our own mount namespace with the lab's /proc. Private first, so that
   * nothing we mount reaches the host. */
  if (unshare (CLONE_NEWNET | CLONE_NEWNS) != 0
      || mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0
      || mount ("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0)
    {
      g_set_error (&error, TS_LAB_ERROR, TS_LAB_ERROR_PRIVILEGE,
                   "cannot make the lab's namespaces: %s", g_strerror (errno));
      goto out;
    }
  self->self_net_fd = open ("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  write_proc ("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
  write_proc ("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");

  timing ("supervisor in its namespaces");
  if (!start_holders (self, &error))
    goto out;
  timing ("node holders up");
  write_state (self);
  if (!build_network (self, &error))
    goto out;
  timing ("network up");
  if (self->opt.mode != TS_LAB_MODE_NETWORK)
    {
      if (self->writer != NULL || self->trace_fd >= 0)
        {
          if (!start_captures (self, &error) || !start_writer (self, &error))
            goto out;
        }
      if (!start_actors (self, &error))
        goto out;
    }
  if (self->opt.mode == TS_LAB_MODE_UP)
    {
      tell_parent (self, "ok\n");
      self->out = stdout;
      while (!self->stopping)
        pump (self, G_MAXUINT64);
      stop_actors (self);
      tail_all (self);
      status = 0;
    }
  else if (self->opt.mode == TS_LAB_MODE_RUN)
    {
      tell_parent (self, "ok\n");
      run_steps (self);
      if (!self->stopping)
        pump_until (self, now_mono () + GRACE_NS);
      stop_actors (self);
      tail_all (self);
      if (self->stop_signal != 0)
        {
          /* The user stopped it: the timeline did not finish, and what its
           * expectations would say is unknown, not failed. */
          g_autofree char *sig = g_strdup_printf ("%d", self->stop_signal);
          lab_event (self, "lab", "lab.interrupted", "signal", sig, NULL);
          status = 128 + self->stop_signal;
        }
      else
        {
          check_expectations (self);
          status = self->n_failed == 0 && self->problems->len == 0 ? 0 : 1;
        }
    }
  else
    {
      tell_parent (self, "ok\n");
      status = 0;
    }

out:
  if (error != NULL)
    {
      g_autofree char *message = g_strdup_printf ("%s\n", error->message);
      if (self->ready_fd >= 0)
        tell_parent (self, message);
      else
        fprintf (stderr, "tscope: %s", message);
      status = 1;
    }
  finish_captures (self);
  if (self->writer != NULL)
    {
      g_autoptr (GError) close_error = NULL;
      if (!ts_trace_writer_close (self->writer, &close_error) && self->writer_error == NULL)
        add_problem (self, "writing the trace failed: %s", close_error->message);
    }
  timing ("tearing down");
  teardown (self);
  timing ("torn down");
  if (error == NULL)
    print_summary (self);
  g_clear_pointer (&self->writer, ts_trace_writer_free);
  ts_lab_registry_remove (self->dir, self->lock_fd);
  self->lock_fd = -1;
  timing ("lab directory removed");
  return status;
}

/* ------------------------------------------------------------------ */
/* The parent.                                                         */

static gboolean
enter_user_namespace (GError **error)
{
  uid_t uid = geteuid ();
  gid_t gid = getegid ();
  char map[64];

  if (unshare (CLONE_NEWUSER) != 0)
    {
      int saved = errno;
      g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_PRIVILEGE,
                   "cannot make namespaces: not root, and this kernel refuses an unprivileged user "
                   "namespace (%s); "
                   "run tscope as root, or allow them (sysctl kernel.unprivileged_userns_clone=1, "
                   "user.max_user_namespaces > 0)",
                   g_strerror (saved));
      return FALSE;
    }
  g_snprintf (map, sizeof map, "0 %u 1\n", (guint)uid);
  if (!write_proc ("/proc/self/setgroups", "deny") || !write_proc ("/proc/self/uid_map", map))
    {
      g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_PRIVILEGE,
                   "cannot map our user into the lab's user namespace: %s", g_strerror (errno));
      return FALSE;
    }
  g_snprintf (map, sizeof map, "0 %u 1\n", (guint)gid);
  if (!write_proc ("/proc/self/gid_map", map))
    {
      g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_PRIVILEGE,
                   "cannot map our group into the lab's user namespace: %s", g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

static void
engine_clear (Engine *self)
{
  for (guint i = 0; self->nodes != NULL && i < self->nodes->len; i++)
    {
      Node *node = self->nodes->pdata[i];
      g_free (node->dir);
      g_free (node->keylog);
      g_free (node->events);
      g_free (node->bundle);
      g_strfreev (node->env);
      g_string_free (node->keylog_part, TRUE);
      g_string_free (node->events_part, TRUE);
      g_free (node);
    }
  g_clear_pointer (&self->nodes, g_ptr_array_unref);
  for (guint i = 0; self->procs != NULL && i < self->procs->len; i++)
    {
      Proc *p = self->procs->pdata[i];
      g_free (p->name);
      g_free (p->log);
      g_free (p);
    }
  g_clear_pointer (&self->procs, g_ptr_array_unref);
  for (guint i = 0; self->links != NULL && i < self->links->len; i++)
    {
      Link *l = self->links->pdata[i];
      g_clear_pointer (&l->pcap, pcap_close);
      g_clear_pointer (&l->wire, ts_lab_wire_free);
      g_free (l);
    }
  g_clear_pointer (&self->links, g_ptr_array_unref);
  g_clear_pointer (&self->events, g_ptr_array_unref);
  g_clear_pointer (&self->problems, g_ptr_array_unref);
  if (self->expect_report != NULL)
    g_string_free (self->expect_report, TRUE);
  g_clear_error (&self->writer_error);
  ts_lab_pki_clear (&self->pki);
  g_free (self->lab);
  g_free (self->dir);
  g_free (self->actor_path);
  if (self->trace_fd >= 0)
    close (self->trace_fd);
}

/* Waits for @child, passing SIGINT, SIGTERM and SIGHUP on to it as they
 * are (the supervisor says which one interrupted a run) and collecting
 * what arrives on @fd (-1: nothing) into @text. Returns TRUE when @child
 * ended (its status in @out_status), FALSE when @stop_at_ok and @text
 * became "ok\n" first. @out_signal (may be NULL) gets the first signal
 * passed on, or stays as it was. */
static gboolean
wait_forwarding (pid_t child, int fd, GString *text, gboolean stop_at_ok, int *out_status,
                 int *out_signal)
{
  sigset_t mask, old;
  int sfd;
  gboolean ended = FALSE;

  sigemptyset (&mask);
  sigaddset (&mask, SIGINT);
  sigaddset (&mask, SIGTERM);
  sigaddset (&mask, SIGHUP);
  sigaddset (&mask, SIGCHLD);
  sigprocmask (SIG_BLOCK, &mask, &old);
  sfd = signalfd (-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  for (;;)
    {
      struct pollfd fds[2] = { { sfd, POLLIN, 0 }, { fd, POLLIN, 0 } };
      if (poll (fds, fd >= 0 ? 2 : 1, 100) < 0 && errno != EINTR)
        break;
      if (fds[0].revents & POLLIN)
        {
          struct signalfd_siginfo si;
          while (read (sfd, &si, sizeof si) == sizeof si)
            if (si.ssi_signo != SIGCHLD)
              {
                kill (child, (int)si.ssi_signo);
                if (out_signal != NULL && *out_signal == 0)
                  *out_signal = (int)si.ssi_signo;
              }
        }
      if (fd >= 0 && (fds[1].revents & (POLLIN | POLLHUP)))
        {
          char buf[1024];
          gssize n = read (fd, buf, sizeof buf);
          if (n > 0)
            g_string_append_len (text, buf, n);
          else
            {
              close (fd);
              fd = -1;
            }
          if (stop_at_ok && g_str_equal (text->str, "ok\n"))
            break;
        }
      if (waitpid (child, out_status, WNOHANG) == child)
        {
          ended = TRUE;
          break;
        }
    }
  if (fd >= 0)
    {
      char buf[1024];
      gssize n;
      /* Whatever the child said before it ended. */
      fcntl (fd, F_SETFL, O_NONBLOCK);
      while (ended && (n = read (fd, buf, sizeof buf)) > 0)
        g_string_append_len (text, buf, n);
      close (fd);
    }
  close (sfd);
  sigprocmask (SIG_SETMASK, &old, NULL);
  return ended;
}

/* The lab's parent (a child of the caller): enters a user namespace when
 * not root, makes the PID namespace, forks the supervisor as its PID 1,
 * and waits until the lab is up (up) or done (run). */
static int
lab_parent (Engine *self, GError **error)
{
  g_autoptr (GString) reply = g_string_new (NULL);
  int ready[2];
  int child_status = 0;
  pid_t pid;

  /* When the caller is killed, end the lab in order (the supervisor gets
   * our SIGTERM); a lab that was asked to stay up outlives its caller. */
  if (self->opt.mode != TS_LAB_MODE_UP)
    prctl (PR_SET_PDEATHSIG, SIGTERM);
  if (self->rootless && !enter_user_namespace (error))
    return 1;
  if (unshare (CLONE_NEWPID) != 0)
    {
      g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_PRIVILEGE,
                   "cannot make the lab's PID namespace: %s", g_strerror (errno));
      return 1;
    }
  if (pipe2 (ready, O_CLOEXEC) != 0)
    {
      g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_SYSTEM, "pipe: %s", g_strerror (errno));
      return 1;
    }
  pid = fork ();
  if (pid < 0)
    {
      g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_SYSTEM, "fork: %s", g_strerror (errno));
      return 1;
    }
  if (pid == 0)
    {
      int status;
      close (ready[0]);
      self->ready_fd = ready[1];
      status = supervise (self);
      engine_clear (self);
      fflush (stdout);
      fflush (stderr);
      _exit (status);
    }
  close (ready[1]);
  close (self->lock_fd);
  self->lock_fd = -1;
  if (self->trace_fd >= 0)
    close (self->trace_fd);
  self->trace_fd = -1;
  {
    g_autofree char *pid_path = g_build_filename (self->dir, "supervisor.pid", NULL);
    g_autofree char *pid_text = g_strdup_printf ("%d\n", pid);
    write_file (pid_path, pid_text, NULL);
  }
  if (!wait_forwarding (pid, ready[0], reply, self->opt.mode == TS_LAB_MODE_UP, &child_status,
                        NULL))
    {
      TsLabScenario *scenario = self->s;
      if (!self->opt.quiet)
        {
          printf ("Lab %s is up (scenario %s, %s).\n", self->lab, scenario->name,
                  self->rootless ? "rootless" : "as root");
          for (guint i = 0; i < scenario->nodes->len; i++)
            {
              TsLabNode *n = scenario->nodes->pdata[i];
              printf ("  %-10s %-8s %s\n", n->name, n->role,
                      ts_lab_plan_get_address (self->plan, n->name, 4));
            }
          printf ("Try:  tscope exec --lab %s NODE -- COMMAND...   tscope shell --lab %s NODE\n"
                  "Stop: tscope down --lab %s\n",
                  self->lab, self->lab, self->lab);
        }
      return 0;
    }
  if (!WIFEXITED (child_status))
    {
      /* What it left is a directory whose lock is free now. */
      ts_lab_registry_reap ();
      g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_FAILED,
                   "the lab's supervisor was killed (signal %d)", WTERMSIG (child_status));
      return 1;
    }
  if (reply->len > 0 && !g_str_equal (reply->str, "ok\n"))
    {
      g_strchomp (reply->str);
      g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_FAILED, "%s", reply->str);
      return 1;
    }
  return WEXITSTATUS (child_status);
}

int
ts_lab_engine_run (TsLabScenario *scenario, TsLabPlan *plan, const TsLabOptions *options,
                   GError **error)
{
  Engine engine = { 0 };
  Engine *self = &engine;
  int msg[2];
  pid_t mid;
  int status = 1;
  g_autoptr (GString) reply = g_string_new (NULL);

  self->s = scenario;
  self->plan = plan;
  self->opt = *options;
  self->trace_fd = -1;
  self->lock_fd = -1;
  self->ready_fd = -1;
  self->sig_fd = -1;
  self->nodes = g_ptr_array_new ();
  self->procs = g_ptr_array_new ();
  self->links = g_ptr_array_new ();
  self->events = g_ptr_array_new_with_free_func ((GDestroyNotify)ts_trace_event_free);
  self->problems = g_ptr_array_new_with_free_func (g_free);
  self->rootless = geteuid () != 0 || g_strcmp0 (g_getenv ("TS_LAB_USERNS"), "1") == 0;
  self->out
      = options->trace_path != NULL && g_str_equal (options->trace_path, "-") ? stderr : stdout;

  /* The name shown is the name down, exec and status take: never cut. */
  if (options->lab != NULL && !ts_lab_registry_check_name (options->lab, error))
    goto out;
  if (options->lab == NULL && !ts_lab_registry_check_name (scenario->name, NULL))
    {
      g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_USAGE,
                   "the scenario's name '%s' cannot name a lab (a letter or digit, then "
                   "letters, digits, '-', '_' or '.'; at most %d): give one with --lab NAME",
                   scenario->name, TS_LAB_MAX_NAME);
      goto out;
    }
  self->actor_path = actor_path ();
  if (!check_programs (self, error))
    goto out;
  timing ("start");
  if (!ts_lab_pki_ensure (options->pki_dir, &self->pki, error))
    goto out;
  timing ("PKI ready");

  ts_lab_registry_reap ();
  {
    const char *name = options->lab != NULL ? options->lab : scenario->name;
    for (guint n = 1; n < 100; n++)
      {
        g_autoptr (GError) local = NULL;
        g_free (self->lab);
        /* A run whose default name is taken becomes NAME-2...; the summary
         * says the name. */
        self->lab
            = n == 1 ? g_strdup (name) : g_strdup_printf ("%.*s-%u", TS_LAB_MAX_NAME - 3, name, n);
        self->lock_fd = ts_lab_registry_lock (self->lab, &self->dir, &local);
        if (self->lock_fd >= 0)
          break;
        if (!g_error_matches (local, TS_LAB_ERROR, TS_LAB_ERROR_BUSY) || options->lab != NULL
            || options->mode == TS_LAB_MODE_UP)
          {
            g_propagate_error (error, g_steal_pointer (&local));
            goto out;
          }
      }
    if (self->lock_fd < 0)
      {
        g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_BUSY, "too many labs named %s-N run", name);
        goto out;
      }
  }
  timing ("locked");
  if (!prepare_files (self, error))
    goto out_remove;
  timing ("files written");
  if (options->trace_path != NULL)
    {
      if (g_str_equal (options->trace_path, "-"))
        self->trace_fd = dup (1);
      else
        self->trace_fd = open (options->trace_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (self->trace_fd < 0)
        {
          g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_SYSTEM, "cannot write the trace to %s: %s",
                       options->trace_path, g_strerror (errno));
          goto out_remove;
        }
    }
  if (pipe2 (msg, O_CLOEXEC) != 0)
    {
      g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_SYSTEM, "pipe: %s", g_strerror (errno));
      goto out_remove;
    }
  fflush (stdout);
  fflush (stderr);
  /* The namespaces are made by a child, so that this process keeps its
   * own (a process whose PID namespace for children has died cannot fork
   * any more, and sanitizers fork helpers at exit). */
  mid = fork ();
  if (mid < 0)
    {
      g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_SYSTEM, "fork: %s", g_strerror (errno));
      goto out_remove;
    }
  if (mid == 0)
    {
      g_autoptr (GError) local = NULL;
      close (msg[0]);
      status = lab_parent (self, &local);
      if (local != NULL && write (msg[1], local->message, strlen (local->message)) < 0)
        g_debug ("the caller is gone");
      close (msg[1]);
      engine_clear (self);
      fflush (stdout);
      fflush (stderr);
      _exit (status);
    }
  close (msg[1]);
  close (self->lock_fd);
  self->lock_fd = -1;
  if (self->trace_fd >= 0)
    close (self->trace_fd);
  self->trace_fd = -1;
  {
    int child_status = 0;
    int interrupted = 0;
    wait_forwarding (mid, msg[0], reply, FALSE, &child_status, &interrupted);
    timing ("lab ended");
    status = WIFEXITED (child_status) ? WEXITSTATUS (child_status) : 1;
    /* Interrupted before the timeline (while the lab came up), the lab
     * says why it stopped; the status says it was the user. */
    if (interrupted != 0 && status != 0)
      status = 128 + interrupted;
    if (reply->len > 0)
      g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_FAILED, "%s", reply->str);
    else if (!WIFEXITED (child_status))
      g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_FAILED,
                   "the lab's parent was killed (signal %d)", WTERMSIG (child_status));
  }
  goto out;

out_remove:
  ts_lab_registry_remove (self->dir, self->lock_fd);
  self->lock_fd = -1;
out:
  if (self->lock_fd >= 0)
    close (self->lock_fd);
  engine_clear (self);
  return status;
}
