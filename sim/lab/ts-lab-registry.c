/* ts-lab-registry.c: lab directories, locks, leftovers, and entering a running lab.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "ts-lab-registry.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ts-lab-error.h"

void
ts_lab_info_free (TsLabInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->name);
  g_free (info->scenario);
  g_strfreev (info->nodes);
  g_free (info);
}

static gboolean
is_tmpfs (const char *path)
{
  struct statfs fs;

  return statfs (path, &fs) == 0 && fs.f_type == TMPFS_MAGIC;
}

/* A private directory of ours in /dev/shm, or NULL: it must be a real
 * directory (not a link) owned by us with mode 0700, since /dev/shm is
 * writable by everyone. */
static char *
private_shm_dir (void)
{
  g_autofree char *top = g_strdup_printf ("/dev/shm/tunnelscope-%u", (guint)geteuid ());
  struct stat st;

  if (!is_tmpfs ("/dev/shm"))
    return NULL;
  if (mkdir (top, 0700) != 0 && errno != EEXIST)
    return NULL;
  if (lstat (top, &st) != 0 || !S_ISDIR (st.st_mode) || st.st_uid != geteuid ()
      || (st.st_mode & 0777) != 0700)
    return NULL;
  return g_steal_pointer (&top);
}

char *
ts_lab_registry_base (gboolean create, GError **error)
{
  const char *env = g_getenv ("TS_LAB_RUNDIR");
  g_autofree char *base = NULL;
  g_autofree char *shm = NULL;

  if (env != NULL && env[0] != '\0')
    base = g_strdup (env);
  else if (geteuid () == 0 && is_tmpfs ("/run"))
    base = g_strdup ("/run/tunnelscope/labs");
  else if (geteuid () == 0 && (shm = private_shm_dir ()) != NULL)
    {
      /* A lab writes some thirty small files; on a disk-backed /run (some
       * containers) that alone costs tens of milliseconds per lab. */
      base = g_build_filename (shm, "labs", NULL);
    }
  else if (geteuid () == 0)
    base = g_strdup ("/run/tunnelscope/labs");
  else if (g_getenv ("XDG_RUNTIME_DIR") != NULL
           && g_file_test (g_getenv ("XDG_RUNTIME_DIR"), G_FILE_TEST_IS_DIR))
    base = g_build_filename (g_getenv ("XDG_RUNTIME_DIR"), "tunnelscope", "labs", NULL);
  else
    {
      g_autofree char *top = g_strdup_printf ("/tmp/tunnelscope-%u", (guint)geteuid ());
      base = g_build_filename (top, "labs", NULL);
    }
  if (create && g_mkdir_with_parents (base, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_SYSTEM,
                   "cannot create the lab directory %s: %s", base, g_strerror (saved));
      return NULL;
    }
  return g_steal_pointer (&base);
}

/* Removes @name under @dirfd recursively, never following symbolic links. */
static void
remove_at (int dirfd, const char *name)
{
  struct stat st;

  if (fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
    return;
  if (S_ISDIR (st.st_mode))
    {
      int fd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      DIR *d;
      struct dirent *ent;

      if (fd < 0)
        return;
      d = fdopendir (fd);
      if (d == NULL)
        {
          close (fd);
          return;
        }
      while ((ent = readdir (d)) != NULL)
        if (strcmp (ent->d_name, ".") != 0 && strcmp (ent->d_name, "..") != 0)
          remove_at (fd, ent->d_name);
      closedir (d);
      unlinkat (dirfd, name, AT_REMOVEDIR);
    }
  else
    unlinkat (dirfd, name, 0);
}

static void
remove_contents_but_lock (const char *dir)
{
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d;
  struct dirent *ent;

  if (fd < 0)
    return;
  d = fdopendir (fd);
  if (d == NULL)
    {
      close (fd);
      return;
    }
  while ((ent = readdir (d)) != NULL)
    if (strcmp (ent->d_name, ".") != 0 && strcmp (ent->d_name, "..") != 0
        && strcmp (ent->d_name, "lock") != 0)
      remove_at (fd, ent->d_name);
  closedir (d);
}

void
ts_lab_registry_remove (const char *dir, int lock_fd)
{
  g_autofree char *lock = g_build_filename (dir, "lock", NULL);

  remove_contents_but_lock (dir);
  unlink (lock);
  rmdir (dir);
  if (lock_fd >= 0)
    close (lock_fd);
}

/* Opens and locks DIR/lock without waiting; the fd, or -1 with errno
 * EWOULDBLOCK (held), ENOENT (gone) or another error. Retries when the file
 * was replaced between open and lock. */
static int
try_lock (const char *dir, gboolean create)
{
  g_autofree char *path = g_build_filename (dir, "lock", NULL);

  for (int attempt = 0; attempt < 10; attempt++)
    {
      struct stat a, b;
      int fd = open (path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0600);

      if (fd < 0)
        return -1;
      if (flock (fd, LOCK_EX | LOCK_NB) != 0)
        {
          int saved = errno;
          close (fd);
          errno = saved;
          return -1;
        }
      if (fstat (fd, &a) == 0 && stat (path, &b) == 0 && a.st_ino == b.st_ino
          && a.st_dev == b.st_dev)
        return fd;
      /* Removed by a cleaner after we opened it: start again. */
      close (fd);
      if (create)
        g_mkdir_with_parents (dir, 0700);
    }
  errno = EAGAIN;
  return -1;
}

gboolean
ts_lab_registry_check_name (const char *name, GError **error)
{
  gsize n = strlen (name);
  gboolean ok = n > 0 && n <= TS_LAB_MAX_NAME && g_ascii_isalnum (name[0]);

  for (gsize i = 0; ok && i < n; i++)
    ok = g_ascii_isalnum (name[i]) || name[i] == '-' || name[i] == '_' || name[i] == '.';
  if (!ok)
    g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_USAGE,
                 "bad lab name '%s': a letter or digit, then letters, digits, '-', '_' or '.'; "
                 "at most %d",
                 name, TS_LAB_MAX_NAME);
  return ok;
}

int
ts_lab_registry_lock (const char *name, char **out_dir, GError **error)
{
  g_autofree char *base = ts_lab_registry_base (TRUE, error);
  g_autofree char *dir = NULL;
  int fd;

  if (base == NULL)
    return -1;
  dir = g_build_filename (base, name, NULL);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_SYSTEM, "cannot create %s: %s", dir,
                   g_strerror (saved));
      return -1;
    }
  fd = try_lock (dir, TRUE);
  if (fd < 0)
    {
      int saved = errno;
      if (saved == EWOULDBLOCK)
        g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_BUSY,
                     "a lab named '%s' is running (tscope down --lab %s, or choose another --lab)",
                     name, name);
      else
        g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_SYSTEM, "cannot lock %s/lock: %s", dir,
                     g_strerror (saved));
      return -1;
    }
  /* Whatever is here besides the lock was left by a dead lab. */
  remove_contents_but_lock (dir);
  *out_dir = g_steal_pointer (&dir);
  return fd;
}

guint
ts_lab_registry_reap (void)
{
  g_autofree char *base = ts_lab_registry_base (FALSE, NULL);
  g_autoptr (GDir) d = base != NULL ? g_dir_open (base, 0, NULL) : NULL;
  const char *entry;
  guint n = 0;

  if (d == NULL)
    return 0;
  while ((entry = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *dir = g_build_filename (base, entry, NULL);
      g_autofree char *lock = g_build_filename (dir, "lock", NULL);
      struct stat st;
      int fd;

      if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
        continue;
      if (stat (lock, &st) != 0)
        {
          /* A lab between mkdir and its lock, or a half-removed one: leave
           * young ones alone. */
          if (stat (dir, &st) == 0 && st.st_mtime + 60 < time (NULL))
            {
              rmdir (dir);
              n++;
            }
          continue;
        }
      fd = try_lock (dir, FALSE);
      if (fd < 0)
        continue;
      ts_lab_registry_remove (dir, fd);
      n++;
    }
  return n;
}

static gboolean
lock_is_held (const char *dir)
{
  g_autofree char *path = g_build_filename (dir, "lock", NULL);
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  gboolean held;

  if (fd < 0)
    return FALSE;
  held = flock (fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  close (fd);
  return held;
}

static TsLabInfo *
read_info (const char *base, const char *name)
{
  g_autofree char *dir = g_build_filename (base, name, NULL);
  g_autofree char *pid_path = g_build_filename (dir, "supervisor.pid", NULL);
  g_autofree char *state_path = g_build_filename (dir, "state", NULL);
  g_autofree char *pid_text = NULL;
  g_autoptr (GKeyFile) state = g_key_file_new ();
  TsLabInfo *info = g_new0 (TsLabInfo, 1);

  info->name = g_strdup (name);
  info->alive = lock_is_held (dir);
  if (g_file_get_contents (pid_path, &pid_text, NULL, NULL))
    info->supervisor_pid = atoi (pid_text);
  if (g_key_file_load_from_file (state, state_path, G_KEY_FILE_NONE, NULL))
    {
      info->scenario = g_key_file_get_string (state, "lab", "scenario", NULL);
      info->rootless = g_key_file_get_boolean (state, "lab", "rootless", NULL);
      info->nodes = g_key_file_get_string_list (state, "lab", "nodes", NULL, NULL);
    }
  if (info->nodes == NULL)
    info->nodes = g_new0 (char *, 1);
  return info;
}

GPtrArray *
ts_lab_registry_list (void)
{
  g_autofree char *base = ts_lab_registry_base (FALSE, NULL);
  g_autoptr (GDir) d = base != NULL ? g_dir_open (base, 0, NULL) : NULL;
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify)ts_lab_info_free);
  const char *entry;

  if (d == NULL)
    return out;
  while ((entry = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *dir = g_build_filename (base, entry, NULL);
      if (g_file_test (dir, G_FILE_TEST_IS_DIR))
        g_ptr_array_add (out, read_info (base, entry));
    }
  return out;
}

TsLabInfo *
ts_lab_registry_find (const char *name, GError **error)
{
  g_autoptr (GPtrArray) labs = ts_lab_registry_list ();
  TsLabInfo *found = NULL;
  guint n_alive = 0;

  for (guint i = 0; i < labs->len; i++)
    {
      TsLabInfo *info = labs->pdata[i];
      if (!info->alive)
        continue;
      n_alive++;
      if (name == NULL || g_str_equal (info->name, name))
        found = info;
    }
  if (name == NULL && n_alive > 1)
    {
      g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_INVALID,
                   "%u labs are running: say which with --lab NAME (tscope status lists them)",
                   n_alive);
      return NULL;
    }
  if (found == NULL)
    {
      if (name != NULL)
        g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_NOT_FOUND,
                     "no running lab named '%s' (tscope status lists them)", name);
      else
        g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_NOT_FOUND,
                     "no lab is running (start one with tscope up SCENARIO)");
      return NULL;
    }
  {
    /* Copy @found out so that the array can be freed. */
    TsLabInfo *copy = g_new0 (TsLabInfo, 1);
    copy->name = g_strdup (found->name);
    copy->scenario = g_strdup (found->scenario);
    copy->supervisor_pid = found->supervisor_pid;
    copy->alive = found->alive;
    copy->rootless = found->rootless;
    copy->nodes = g_strdupv (found->nodes);
    return copy;
  }
}

/* In the child: enters the lab and the node, then forks the command inside
 * the lab's PID namespace. Never returns. */
static void G_GNUC_NORETURN
enter_and_run (TsLabInfo *info, const char *dir, int node_pid, const char *node, char **argv,
               int err_fd)
{
  char path[128];
  int user_fd = -1, mnt_fd, pid_fd, net_fd, node_mnt_fd;
  g_autofree char *env_path = g_build_filename (dir, "nodes", node, "env", NULL);
  g_autofree char *node_dir = g_build_filename (dir, "nodes", node, NULL);
  g_autofree char *env_text = NULL;
  pid_t child;
  int status;

#define DIE(what)                                                                                  \
  do                                                                                               \
    {                                                                                              \
      dprintf (err_fd, "%s: %s\n", what, g_strerror (errno));                                      \
      _exit (125);                                                                                 \
    }                                                                                              \
  while (0)

  g_file_get_contents (env_path, &env_text, NULL, NULL);
  if (info->rootless)
    {
      g_snprintf (path, sizeof path, "/proc/%d/ns/user", info->supervisor_pid);
      if ((user_fd = open (path, O_RDONLY | O_CLOEXEC)) < 0)
        DIE ("cannot open the lab's user namespace");
    }
  g_snprintf (path, sizeof path, "/proc/%d/ns/mnt", info->supervisor_pid);
  if ((mnt_fd = open (path, O_RDONLY | O_CLOEXEC)) < 0)
    DIE ("cannot open the lab's mount namespace");
  g_snprintf (path, sizeof path, "/proc/%d/ns/pid", info->supervisor_pid);
  if ((pid_fd = open (path, O_RDONLY | O_CLOEXEC)) < 0)
    DIE ("cannot open the lab's PID namespace");
  if (user_fd >= 0 && setns (user_fd, CLONE_NEWUSER) != 0)
    DIE ("cannot enter the lab's user namespace");
  /* The supervisor's mount namespace has the lab's /proc, where the node
   * holders' PIDs are valid. */
  if (setns (mnt_fd, CLONE_NEWNS) != 0)
    DIE ("cannot enter the lab's mount namespace");
  g_snprintf (path, sizeof path, "/proc/%d/ns/net", node_pid);
  if ((net_fd = open (path, O_RDONLY | O_CLOEXEC)) < 0)
    DIE ("cannot open the node's network namespace");
  g_snprintf (path, sizeof path, "/proc/%d/ns/mnt", node_pid);
  if ((node_mnt_fd = open (path, O_RDONLY | O_CLOEXEC)) < 0)
    DIE ("cannot open the node's mount namespace");
  if (setns (pid_fd, CLONE_NEWPID) != 0)
    DIE ("cannot enter the lab's PID namespace");
  if (setns (net_fd, CLONE_NEWNET) != 0)
    DIE ("cannot enter the node's network namespace");
  if (setns (node_mnt_fd, CLONE_NEWNS) != 0)
    DIE ("cannot enter the node's mount namespace");

  child = fork ();
  if (child < 0)
    DIE ("fork");
  if (child == 0)
    {
      g_auto (GStrv) lines = g_strsplit (env_text != NULL ? env_text : "", "\n", -1);
      const char *shell_argv[] = { "/bin/bash", "--norc", "-i", NULL };
      g_autofree char *ps1 = g_strdup_printf ("[%s %s] \\w# ", info->name, node);

      prctl (PR_SET_PDEATHSIG, SIGKILL);
      for (guint i = 0; lines[i] != NULL; i++)
        {
          char *eq = strchr (lines[i], '=');
          if (eq == NULL)
            continue;
          *eq = '\0';
          g_setenv (lines[i], eq + 1, TRUE);
        }
      if (chdir (node_dir) != 0 && chdir ("/") != 0)
        _exit (125);
      signal (SIGINT, SIG_DFL);
      signal (SIGQUIT, SIG_DFL);
      if (argv == NULL)
        {
          g_setenv ("PS1", ps1, TRUE);
          if (!g_file_test (shell_argv[0], G_FILE_TEST_IS_EXECUTABLE))
            shell_argv[0] = "/bin/sh", shell_argv[1] = "-i", shell_argv[2] = NULL;
          execv (shell_argv[0], (char **)shell_argv);
          DIE (shell_argv[0]);
        }
      execvp (argv[0], argv);
      dprintf (err_fd, "cannot run %s: %s\n", argv[0], g_strerror (errno));
      _exit (127);
    }
  signal (SIGINT, SIG_IGN);
  signal (SIGQUIT, SIG_IGN);
  while (waitpid (child, &status, 0) < 0 && errno == EINTR)
    ;
  if (WIFEXITED (status))
    _exit (WEXITSTATUS (status));
  _exit (128 + WTERMSIG (status));
#undef DIE
}

int
ts_lab_registry_exec (TsLabInfo *info, const char *node, char **argv, GError **error)
{
  g_autofree char *base = ts_lab_registry_base (FALSE, NULL);
  g_autofree char *dir = g_build_filename (base != NULL ? base : "/nonexistent", info->name, NULL);
  g_autofree char *state_path = g_build_filename (dir, "state", NULL);
  g_autoptr (GKeyFile) state = g_key_file_new ();
  g_autofree char *err_text = NULL;
  int pipefd[2];
  int node_pid;
  pid_t pid;
  int status;
  void (*old_int) (int), (*old_quit) (int);

  if (!g_key_file_load_from_file (state, state_path, G_KEY_FILE_NONE, NULL)
      || (node_pid = g_key_file_get_integer (state, "pids", node, NULL)) <= 0)
    {
      g_autofree char *list = g_strjoinv (", ", info->nodes);
      g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_NOT_FOUND,
                   "lab %s has no node '%s' (its nodes: %s)", info->name, node, list);
      return -1;
    }
  if (pipe2 (pipefd, O_CLOEXEC) != 0)
    {
      g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_SYSTEM, "pipe: %s", g_strerror (errno));
      return -1;
    }
  old_int = signal (SIGINT, SIG_IGN);
  old_quit = signal (SIGQUIT, SIG_IGN);
  pid = fork ();
  if (pid == 0)
    {
      close (pipefd[0]);
      enter_and_run (info, dir, node_pid, node, argv, pipefd[1]);
    }
  close (pipefd[1]);
  {
    char buf[512];
    gssize n;
    GString *s = g_string_new (NULL);
    while ((n = read (pipefd[0], buf, sizeof buf)) > 0)
      g_string_append_len (s, buf, n);
    close (pipefd[0]);
    err_text = g_string_free (s, FALSE);
  }
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  signal (SIGINT, old_int);
  signal (SIGQUIT, old_quit);
  if (WIFEXITED (status) && WEXITSTATUS (status) == 125 && err_text[0] != '\0')
    {
      g_strchomp (err_text);
      g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_SYSTEM, "cannot enter node %s of lab %s: %s",
                   node, info->name, err_text);
      return -1;
    }
  if (WIFEXITED (status) && WEXITSTATUS (status) == 127 && err_text[0] != '\0')
    {
      /* The command itself never ran (its own output never comes here:
       * the pipe closes when it starts). */
      g_strchomp (err_text);
      g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_NOT_FOUND, "node %s of lab %s: %s", node,
                   info->name, err_text);
      return -1;
    }
  return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
}

/* Is @pid still the supervisor of lab @name (and not a reused PID)? */
static gboolean
is_supervisor (int pid, const char *name)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/comm", pid);
  g_autofree char *comm = NULL;
  g_autofree char *want = g_strdup_printf ("ts-%s", name);

  if (pid <= 1 || !g_file_get_contents (path, &comm, NULL, NULL))
    return FALSE;
  g_strchomp (comm);
  want[MIN (strlen (want), 15)] = '\0';
  return g_str_equal (comm, want);
}

gboolean
ts_lab_registry_stop (TsLabInfo *info, guint timeout_ms, GError **error)
{
  g_autofree char *base = ts_lab_registry_base (FALSE, NULL);
  g_autofree char *dir = g_build_filename (base != NULL ? base : "/nonexistent", info->name, NULL);
  gint64 deadline = g_get_monotonic_time () + (gint64)timeout_ms * 1000;
  gboolean killed = FALSE;

  if (lock_is_held (dir) && is_supervisor (info->supervisor_pid, info->name))
    kill (info->supervisor_pid, SIGTERM);
  for (;;)
    {
      int fd = try_lock (dir, FALSE);
      if (fd >= 0)
        {
          ts_lab_registry_remove (dir, fd);
          /* The lock goes a moment before the process: wait for it too. */
          for (int i = 0; i < 500 && is_supervisor (info->supervisor_pid, info->name); i++)
            g_usleep (10000);
          return TRUE;
        }
      if (errno == ENOENT)
        return TRUE; /* removed by its supervisor */
      if (g_get_monotonic_time () > deadline)
        {
          if (killed || !is_supervisor (info->supervisor_pid, info->name))
            {
              g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_FAILED,
                           "lab %s did not stop (supervisor PID %d)", info->name,
                           info->supervisor_pid);
              return FALSE;
            }
          /* The kernel removes the lab's namespaces with its PID namespace. */
          kill (info->supervisor_pid, SIGKILL);
          killed = TRUE;
          deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
        }
      g_usleep (10000);
    }
}
