/* ts-proxy-test-util.c: helpers for the ts-proxy tests.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define _GNU_SOURCE
#include "ts-proxy-test-util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

struct _TsTestOrigin
{
  int lfd;
  int stop[2];
  guint16 port;
  SSL_CTX *ctx;
  GThread *thread;
  GMutex lock;
  guint n_requests;
  char *last_head;
};

static gssize
conn_read (SSL *ssl, int fd, char *buf, gsize len)
{
  if (ssl)
    {
      size_t n = 0;
      return SSL_read_ex (ssl, buf, len, &n) == 1 ? (gssize)n : 0;
    }
  return recv (fd, buf, len, 0);
}

static void
conn_write (SSL *ssl, int fd, const char *buf, gsize len)
{
  size_t n;

  if (ssl)
    SSL_write_ex (ssl, buf, len, &n);
  else
    (void)!send (fd, buf, len, MSG_NOSIGNAL);
}

static void
origin_serve (TsTestOrigin *self, int fd)
{
  struct timeval tv = { .tv_sec = 5 };
  SSL *ssl = NULL;
  GString *in = g_string_new (NULL);
  char buf[8192];
  const char *end = NULL;
  g_autofree char *resp = NULL;

  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (self->ctx)
    {
      ssl = SSL_new (self->ctx);
      SSL_set_fd (ssl, fd);
      if (SSL_accept (ssl) != 1)
        goto out;
    }
  while ((end = strstr (in->str, "\r\n\r\n")) == NULL)
    {
      gssize n = conn_read (ssl, fd, buf, sizeof buf - 1);

      if (n <= 0)
        goto out;
      g_string_append_len (in, buf, n);
    }
  if (strstr (in->str, " /early") != NULL && strstr (in->str, " /early") < end)
    {
      /* An early answer: refused before the body is read, and the
       * connection closed (as servers with a body size limit do). */
      static const char early[] = "HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\n"
                                  "Connection: close\r\n\r\n";

      g_mutex_lock (&self->lock);
      self->n_requests++;
      g_mutex_unlock (&self->lock);
      /* /early-linger-late: the answer 500 ms after the request is
       * counted, for a test to hold the proxy meanwhile. */
      if (strncmp (strstr (in->str, " /early"), " /early-linger-late ", 20) == 0)
        g_usleep (500 * 1000);
      conn_write (ssl, fd, early, strlen (early));
      if (strncmp (strstr (in->str, " /early"), " /early-linger ", 14) == 0)
        {
          /* ... in a lingering close (RFC 9112 §9.6): our end shut, and
           * what still comes read and dropped until the peer closes (or
           * the receive timeout). */
          if (ssl)
            SSL_shutdown (ssl);
          shutdown (fd, SHUT_WR);
          while (recv (fd, buf, sizeof buf, 0) > 0)
            ;
        }
      goto out;
    }
  {
    /* The body, when Content-Length says so (chunked: up to 0 CRLF CRLF). */
    gsize head_len = end + 4 - in->str;
    g_autofree char *lower = g_ascii_strdown (in->str, head_len);
    const char *cl = strstr (lower, "\r\ncontent-length:");
    gboolean chunked = strstr (lower, "\r\ntransfer-encoding:") != NULL;
    gsize want = cl ? head_len + g_ascii_strtoull (cl + 17, NULL, 10) : head_len;

    while (
        (!chunked && in->len < want)
        || (chunked && g_strstr_len (in->str + head_len, in->len - head_len, "0\r\n\r\n") == NULL))
      {
        gssize n = conn_read (ssl, fd, buf, sizeof buf - 1);

        if (n <= 0)
          break;
        g_string_append_len (in, buf, n);
      }
    g_mutex_lock (&self->lock);
    self->n_requests++;
    g_free (self->last_head);
    self->last_head = g_strndup (in->str, head_len);
    g_mutex_unlock (&self->lock);
  }
  {
    /* Responses a proxy must not pass on as they are: /framing/NAME
     * (framing: RFC 9112 §6.3; proxy-info: a field for the next client
     * only, RFC 9110 §11.7.2). */
    static const char *const framing[][2] = {
      { "cl-and-te", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "5\r\nhello\r\n0\r\n\r\n" },
      { "cl-differing", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!" },
      { "cl-negative", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nhello" },
      { "interim", "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
                   "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello" },
      { "proxy-info", "HTTP/1.1 200 OK\r\nProxy-Authentication-Info: nextnonce=\"n1\"\r\n"
                      "Content-Length: 5\r\n\r\nhello" },
      { "chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "5\r\nhello\r\n7;x=y\r\n, world\r\n0\r\nX-Trailer: 1\r\n\r\n" },
    };
    const char *path = strchr (in->str, ' ');

    for (guint i = 0; path && i < G_N_ELEMENTS (framing); i++)
      {
        g_autofree char *want = g_strdup_printf (" /framing/%s ", framing[i][0]);

        if (g_str_has_prefix (path, want))
          {
            resp = g_strdup (framing[i][1]);
            break;
          }
      }
  }
  if (resp == NULL)
    resp = g_strdup_printf ("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                            "%sConnection: close\r\n\r\n%s",
                            strlen (TS_TEST_ORIGIN_BODY),
                            /* A response that came through two proxies. */
                            g_str_has_prefix (strchr (in->str, ' '), " /two-vias ")
                                ? "Via: 1.0 a\r\nVia: 1.1 b\r\n"
                                : "",
                            TS_TEST_ORIGIN_BODY);
  conn_write (ssl, fd, resp, strlen (resp));
  if (strchr (in->str, ' ') && g_str_has_prefix (strchr (in->str, ' '), " /hold-open "))
    {
      /* An origin that ignores "Connection: close": it keeps its end open
       * until the peer closes (or the receive timeout). */
      while (conn_read (ssl, fd, buf, sizeof buf) > 0)
        ;
    }
  if (ssl)
    SSL_shutdown (ssl);
out:
  if (ssl)
    SSL_free (ssl);
  ERR_clear_error ();
  g_string_free (in, TRUE);
  close (fd);
}

static gpointer
origin_thread (gpointer data)
{
  TsTestOrigin *self = data;

  for (;;)
    {
      struct pollfd pfd[2] = { { self->lfd, POLLIN, 0 }, { self->stop[0], POLLIN, 0 } };
      int fd;

      if (poll (pfd, 2, -1) < 0 && errno != EINTR)
        break;
      if (pfd[1].revents)
        break;
      if (!(pfd[0].revents & POLLIN))
        continue;
      fd = accept4 (self->lfd, NULL, NULL, SOCK_CLOEXEC);
      if (fd >= 0)
        origin_serve (self, fd);
    }
  return NULL;
}

TsTestOrigin *
ts_test_origin_new (const char *cert, const char *key)
{
  TsTestOrigin *self = g_new0 (TsTestOrigin, 1);
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t sl = sizeof sin;

  g_mutex_init (&self->lock);
  self->lfd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_assert_cmpint (bind (self->lfd, (struct sockaddr *)&sin, sizeof sin), ==, 0);
  g_assert_cmpint (listen (self->lfd, 128), ==, 0);
  getsockname (self->lfd, (struct sockaddr *)&sin, &sl);
  self->port = ntohs (sin.sin_port);
  g_assert_cmpint (pipe2 (self->stop, O_CLOEXEC), ==, 0);
  if (cert)
    {
      self->ctx = SSL_CTX_new (TLS_server_method ());
      g_assert_cmpint (SSL_CTX_use_certificate_chain_file (self->ctx, cert), ==, 1);
      g_assert_cmpint (SSL_CTX_use_PrivateKey_file (self->ctx, key, SSL_FILETYPE_PEM), ==, 1);
    }
  self->thread = g_thread_new ("origin", origin_thread, self);
  return self;
}

guint16
ts_test_origin_get_port (TsTestOrigin *self)
{
  return self->port;
}

guint
ts_test_origin_get_n_requests (TsTestOrigin *self)
{
  guint n;

  g_mutex_lock (&self->lock);
  n = self->n_requests;
  g_mutex_unlock (&self->lock);
  return n;
}

char *
ts_test_origin_dup_last_head (TsTestOrigin *self)
{
  char *s;

  g_mutex_lock (&self->lock);
  s = g_strdup (self->last_head);
  g_mutex_unlock (&self->lock);
  return s;
}

void
ts_test_origin_free (TsTestOrigin *self)
{
  if (self == NULL)
    return;
  (void)!write (self->stop[1], "x", 1);
  g_thread_join (self->thread);
  close (self->stop[0]);
  close (self->stop[1]);
  close (self->lfd);
  if (self->ctx)
    SSL_CTX_free (self->ctx);
  g_free (self->last_head);
  g_mutex_clear (&self->lock);
  g_free (self);
}

void
ts_test_children_init (TsTestChildren *self)
{
  self->pids = g_array_new (FALSE, FALSE, sizeof (GPid));
  self->envp = g_get_environ ();
}

void
ts_test_children_setenv (TsTestChildren *self, const char *name, const char *value)
{
  self->envp = g_environ_setenv (self->envp, name, value, TRUE);
}

/* Children die with the test, even when it aborts. */
static void
child_setup (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

GPid
ts_test_children_spawn (TsTestChildren *self, const char *const *argv, const char *log)
{
  g_autoptr (GError) error = NULL;
  GPid pid = 0;
  int fd = -1;

  if (log)
    {
      fd = open (log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
      g_assert_cmpint (fd, >=, 0);
    }
  g_spawn_async_with_fds (NULL, (char **)argv, self->envp,
                          G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_SEARCH_PATH, child_setup, NULL, &pid,
                          -1, fd, fd, &error);
  g_assert_no_error (error);
  if (fd >= 0)
    close (fd);
  g_array_append_val (self->pids, pid);
  return pid;
}

static void
kill_one (GPid pid)
{
  int status;

  if (kill (pid, SIGTERM) != 0)
    {
      waitpid (pid, &status, WNOHANG);
      return;
    }
  /* Up to 5 s for an orderly exit (squid needs its shutdown_lifetime). */
  for (int i = 0; i < 500; i++)
    {
      if (waitpid (pid, &status, WNOHANG) == pid)
        return;
      g_usleep (10000);
    }
  kill (pid, SIGKILL);
  waitpid (pid, &status, 0);
}

void
ts_test_children_kill (TsTestChildren *self, GPid pid)
{
  for (guint i = 0; i < self->pids->len; i++)
    if (g_array_index (self->pids, GPid, i) == pid)
      {
        kill_one (pid);
        g_array_remove_index (self->pids, i);
        return;
      }
}

void
ts_test_children_kill_all (TsTestChildren *self)
{
  if (self->pids == NULL)
    return;
  for (guint i = 0; i < self->pids->len; i++)
    kill_one (g_array_index (self->pids, GPid, i));
  g_array_unref (self->pids);
  self->pids = NULL;
  g_clear_pointer (&self->envp, g_strfreev);
}

gboolean
ts_test_wait_port (guint16 port, guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + (gint64)timeout_ms * 1000;

  while (g_get_monotonic_time () < end)
    {
      struct sockaddr_in sin = { .sin_family = AF_INET,
                                 .sin_port = htons (port),
                                 .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
      int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      int r = connect (fd, (struct sockaddr *)&sin, sizeof sin);

      close (fd);
      if (r == 0)
        return TRUE;
      g_usleep (20000);
    }
  return FALSE;
}

guint16
ts_test_free_port (void)
{
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t sl = sizeof sin;
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  g_assert_cmpint (bind (fd, (struct sockaddr *)&sin, sizeof sin), ==, 0);
  getsockname (fd, (struct sockaddr *)&sin, &sl);
  close (fd);
  return ntohs (sin.sin_port);
}

guint16
ts_test_start_proxy (TsTestChildren *kids, const char *dir, const char *name,
                     const char *const *extra_args)
{
  g_autofree char *port_file = g_strdup_printf ("%s/%s.port", dir, name);
  g_autofree char *log = g_strdup_printf ("%s/%s.log", dir, name);
  g_autofree char *access = g_strdup_printf ("%s/%s.access", dir, name);
  GPtrArray *argv = g_ptr_array_new ();
  gint64 end;
  guint16 port = 0;

  g_ptr_array_add (argv, (char *)TS_PROXY_PATH);
  g_ptr_array_add (argv, (char *)"--port=0");
  g_ptr_array_add (argv, (char *)"--listen=127.0.0.1");
  g_ptr_array_add (argv, g_strdup_printf ("--port-file=%s", port_file));
  g_ptr_array_add (argv, g_strdup_printf ("--access-log=%s", access));
  g_ptr_array_add (argv, g_strdup_printf ("--node=%s", name));
  for (guint i = 0; extra_args && extra_args[i]; i++)
    g_ptr_array_add (argv, (char *)extra_args[i]);
  g_ptr_array_add (argv, NULL);
  ts_test_children_spawn (kids, (const char *const *)argv->pdata, log);
  g_free (argv->pdata[3]);
  g_free (argv->pdata[4]);
  g_free (argv->pdata[5]);
  g_ptr_array_free (argv, TRUE);

  /* Up to 20 s: slow under sanitizers. */
  end = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < end)
    {
      g_autofree char *text = NULL;

      if (g_file_get_contents (port_file, &text, NULL, NULL))
        {
          port = atoi (text);
          break;
        }
      g_usleep (20000);
    }
  if (port == 0)
    {
      g_autofree char *l = NULL;

      g_file_get_contents (log, &l, NULL, NULL);
      g_test_message ("ts-proxy %s did not start: %s", name, l ? l : "(no log)");
      g_test_fail ();
    }
  return port;
}

GBytes *
ts_test_exchange (guint16 port, const void *data, gsize len, guint timeout_ms)
{
  struct sockaddr_in sin = { .sin_family = AF_INET,
                             .sin_port = htons (port),
                             .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  GByteArray *out = g_byte_array_new ();
  gint64 end = g_get_monotonic_time () + (gint64)timeout_ms * 1000;
  gsize sent = 0;

  if (connect (fd, (struct sockaddr *)&sin, sizeof sin) != 0)
    {
      close (fd);
      return g_byte_array_free_to_bytes (out);
    }
  fcntl (fd, F_SETFL, O_NONBLOCK);
  for (;;)
    {
      struct pollfd pfd = { fd, POLLIN | (sent < len ? POLLOUT : 0), 0 };
      gint64 left = (end - g_get_monotonic_time ()) / 1000;
      char buf[4096];

      if (left <= 0 || poll (&pfd, 1, left) <= 0)
        break;
      if ((pfd.revents & POLLOUT) && sent < len)
        {
          gssize n = send (fd, (const char *)data + sent, len - sent, MSG_NOSIGNAL);

          if (n > 0)
            sent += n;
          else if (errno != EAGAIN)
            sent = len; /* the proxy stopped reading: fine, read its answer */
        }
      if (pfd.revents & (POLLIN | POLLHUP | POLLERR))
        {
          gssize n = recv (fd, buf, sizeof buf, 0);

          if (n <= 0 && !(n < 0 && errno == EAGAIN))
            break;
          if (n > 0)
            g_byte_array_append (out, (guint8 *)buf, n);
        }
    }
  close (fd);
  return g_byte_array_free_to_bytes (out);
}

char *
ts_test_exchange_text (guint16 port, const char *request, guint timeout_ms)
{
  g_autoptr (GBytes) resp = ts_test_exchange (port, request, strlen (request), timeout_ms);
  char *text = g_strndup (g_bytes_get_data (resp, NULL), g_bytes_get_size (resp));

  g_test_message ("%s", text);
  return text;
}

guint
ts_test_status (GBytes *resp)
{
  gsize len;
  const char *d = g_bytes_get_data (resp, &len);

  if (len < 12 || memcmp (d, "HTTP/1.", 7) != 0 || d[8] != ' ')
    return 0;
  return (d[9] - '0') * 100 + (d[10] - '0') * 10 + (d[11] - '0');
}

int
ts_test_run (const char *const *argv, guint timeout_s, char **out_stdout, char **out_stderr)
{
  g_autoptr (GError) error = NULL;
  GPtrArray *full = g_ptr_array_new_with_free_func (g_free);
  int status = -1;

  g_ptr_array_add (full, g_strdup ("timeout"));
  g_ptr_array_add (full, g_strdup_printf ("%u", timeout_s));
  for (guint i = 0; argv[i]; i++)
    g_ptr_array_add (full, g_strdup (argv[i]));
  g_ptr_array_add (full, NULL);
  g_spawn_sync (NULL, (char **)full->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, out_stdout,
                out_stderr, &status, &error);
  g_assert_no_error (error);
  g_ptr_array_unref (full);
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

void
ts_test_rm_rf (const char *path)
{
  GDir *d = g_dir_open (path, 0, NULL);
  const char *name;

  if (d != NULL)
    {
      while ((name = g_dir_read_name (d)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          ts_test_rm_rf (child);
        }
      g_dir_close (d);
      g_rmdir (path);
    }
  else
    g_unlink (path);
}
