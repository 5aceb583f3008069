/* proxy-bench-tool.c: load generator and origins for tests/bench/proxy-bench.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 *   proxy-bench-tool source PORTFILE [ADDR]        origin: streams bytes to every client
 *   proxy-bench-tool hold PORTFILE [ADDR]          origin: accepts and holds connections
 *   proxy-bench-tool close PORTFILE [ADDR]         origin: accepts and closes at once
 *   proxy-bench-tool recv HOST PORT BYTES [TARGET] reads BYTES (through CONNECT TARGET)
 *   proxy-bench-tool setups HOST PORT TARGET SECS  CONNECT setups per second, one loop
 *   proxy-bench-tool idle HOST PORT TARGET N SECS  opens N tunnels, prints "ready", holds SECS
 *
 * Origins listen on ADDR (IPv4, default 127.0.0.1) on an ephemeral port,
 * written to PORTFILE.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double
now (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *host = "127.0.0.1";

static int
listen_any (const char *port_file)
{
  struct sockaddr_in sin = { .sin_family = AF_INET };
  socklen_t sl = sizeof sin;
  int fd = socket (AF_INET, SOCK_STREAM, 0);
  FILE *f;
  int one = 1;

  inet_pton (AF_INET, host, &sin.sin_addr);
  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd < 0 || bind (fd, (struct sockaddr *)&sin, sizeof sin) != 0 || listen (fd, 4096) != 0)
    {
      perror ("listen");
      exit (1);
    }
  getsockname (fd, (struct sockaddr *)&sin, &sl);
  f = fopen (port_file, "w");
  fprintf (f, "%u\n", ntohs (sin.sin_port));
  fclose (f);
  return fd;
}

static int
dial (unsigned port)
{
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons (port) };
  int fd = socket (AF_INET, SOCK_STREAM, 0);

  inet_pton (AF_INET, host, &sin.sin_addr);
  if (connect (fd, (struct sockaddr *)&sin, sizeof sin) != 0)
    {
      close (fd);
      return -1;
    }
  /* No TCP_NODELAY: the client sends one request per connection and then
   * only reads, so Nagle never holds anything back. */
  {
    /* A proxy that stalls counts as a failure, not as a hang. */
    struct timeval tv = { .tv_sec = 5 };
    setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  return fd;
}

/* Sends CONNECT and reads the answer head; 0 when it was a 2xx. Tunnel
 * bytes that came with the head are counted in *out_extra. One recv ()
 * per read of the answer (no peeking, no polling sleep): the client loop
 * is part of every peer's setup rate, so it should cost as little as it
 * can, the same for all. */
static int
tunnel (int fd, const char *target, long long *out_extra)
{
  char req[256], buf[4096];
  size_t len = 0;
  int n_req = snprintf (req, sizeof req, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target);

  *out_extra = 0;
  if (send (fd, req, n_req, MSG_NOSIGNAL) != n_req)
    return -1;
  while (len < sizeof buf - 1)
    {
      ssize_t n = recv (fd, buf + len, sizeof buf - 1 - len, 0);
      char *end;

      if (n <= 0)
        return -1;
      len += n;
      buf[len] = 0;
      end = strstr (buf, "\r\n\r\n");
      if (end)
        {
          *out_extra = len - (end + 4 - buf);
          return len >= 12 && buf[9] == '2' ? 0 : -1;
        }
    }
  return -1;
}

static void *
source_conn (void *data)
{
  int fd = (int)(long)data;
  static char buf[1 << 18];

  while (send (fd, buf, sizeof buf, MSG_NOSIGNAL) > 0)
    ;
  close (fd);
  return NULL;
}

static void
raise_nofile (void)
{
  struct rlimit rl;

  if (getrlimit (RLIMIT_NOFILE, &rl) == 0)
    {
      rl.rlim_cur = rl.rlim_max;
      setrlimit (RLIMIT_NOFILE, &rl);
    }
}

int
main (int argc, char **argv)
{
  signal (SIGPIPE, SIG_IGN);
  raise_nofile ();
  /* Origins: an optional listen address last. Clients: the host first. */
  if (argc == 4
      && (strcmp (argv[1], "source") == 0 || strcmp (argv[1], "hold") == 0
          || strcmp (argv[1], "close") == 0))
    {
      host = argv[3];
      argc = 3;
    }
  else if (argc >= 3
           && (strcmp (argv[1], "recv") == 0 || strcmp (argv[1], "setups") == 0
               || strcmp (argv[1], "idle") == 0))
    {
      host = argv[2];
      argv[2] = argv[1];
      argv++;
      argc--;
    }
  if (argc == 3 && strcmp (argv[1], "source") == 0)
    {
      int lfd = listen_any (argv[2]);

      for (;;)
        {
          int fd = accept (lfd, NULL, NULL);
          pthread_t t;
          pthread_attr_t attr;

          if (fd < 0)
            continue;
          pthread_attr_init (&attr);
          pthread_attr_setdetachstate (&attr, PTHREAD_CREATE_DETACHED);
          pthread_create (&t, &attr, source_conn, (void *)(long)fd);
        }
    }
  if (argc == 3 && strcmp (argv[1], "hold") == 0)
    {
      int lfd = listen_any (argv[2]);

      for (;;)
        {
          /* Held connections are closed by the peer; keep accepting. */
          int fd = accept (lfd, NULL, NULL);
          (void)fd;
        }
    }
  if (argc == 3 && strcmp (argv[1], "close") == 0)
    {
      int lfd = listen_any (argv[2]);

      for (;;)
        {
          int fd = accept (lfd, NULL, NULL);

          if (fd >= 0)
            close (fd);
        }
    }
  if ((argc == 4 || argc == 5) && strcmp (argv[1], "recv") == 0)
    {
      long long want = atoll (argv[3]), got = 0;
      static char buf[1 << 20];
      int fd = dial (atoi (argv[2]));
      double t0;

      if (fd < 0 || (argc == 5 && tunnel (fd, argv[4], &got) != 0))
        {
          fprintf (stderr, "recv: cannot set up\n");
          return 1;
        }
      t0 = now ();
      while (got < want)
        {
          ssize_t n = recv (fd, buf, sizeof buf, 0);

          if (n <= 0)
            break;
          got += n;
        }
      printf ("%.1f\n", got / (now () - t0) / (1 << 20));
      close (fd);
      return got < want;
    }
  if (argc == 5 && strcmp (argv[1], "setups") == 0)
    {
      double secs = atof (argv[4]), t0 = now ();
      long n = 0, failed = 0;

      while (now () - t0 < secs)
        {
          int fd = dial (atoi (argv[2]));
          long long extra;

          if (fd < 0 || tunnel (fd, argv[3], &extra) != 0)
            failed++;
          else
            n++;
          if (fd >= 0)
            close (fd);
        }
      printf ("%.0f %ld %ld\n", n / (now () - t0), failed, n);
      return 0;
    }
  if (argc == 6 && strcmp (argv[1], "idle") == 0)
    {
      int count = atoi (argv[4]);
      int *fds = calloc (count, sizeof *fds);

      for (int i = 0; i < count; i++)
        {
          long long extra;

          fds[i] = dial (atoi (argv[2]));
          if (fds[i] < 0 || tunnel (fds[i], argv[3], &extra) != 0)
            {
              fprintf (stderr, "idle: tunnel %d failed\n", i);
              return 1;
            }
        }
      printf ("ready\n");
      fflush (stdout);
      sleep (atoi (argv[5]));
      for (int i = 0; i < count; i++)
        close (fds[i]);
      return 0;
    }
  fprintf (stderr, "usage: see the header of proxy-bench-tool.c\n");
  return 2;
}
