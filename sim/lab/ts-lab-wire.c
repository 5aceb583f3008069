/* ts-lab-wire.c: an AF_PACKET relay with delay, jitter, loss and rate.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "ts-lab-wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ts-lab-error.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

/* Largest frame we relay: a 9000-byte MTU plus headers. */
#define FRAME_MAX 9216

typedef struct
{
  guint64 due_ns;
  gsize len;
  guint8 data[];
} Frame;

struct _TsLabWire
{
  const TsLabLink *link;
  int fd[2];
  GQueue queue[2]; /* frames to send out of side i */
  gsize queued[2];
  guint64 last_due[2];
  guint64 busy_until[2];
  GRand *rand;
  guint64 relayed, lost, overflow;
};

static int
open_end (const char *ifname, GError **error)
{
  struct sockaddr_ll sll = { 0 };
  int one = 1;
  int fd = socket (AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons (ETH_P_ALL));

  if (fd < 0)
    {
      g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_SYSTEM, "wire: AF_PACKET socket: %s",
                   g_strerror (errno));
      return -1;
    }
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons (ETH_P_ALL);
  sll.sll_ifindex = if_nametoindex (ifname);
  /* Our own sends must not come back to us as input. */
  setsockopt (fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
  if (sll.sll_ifindex == 0 || bind (fd, (struct sockaddr *)&sll, sizeof sll) != 0)
    {
      g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_SYSTEM, "wire: cannot bind to %s: %s", ifname,
                   g_strerror (errno));
      close (fd);
      return -1;
    }
  return fd;
}

TsLabWire *
ts_lab_wire_new (const char *end_a, const char *end_b, const TsLabLink *link, GError **error)
{
  TsLabWire *self = g_new0 (TsLabWire, 1);

  self->link = link;
  self->fd[0] = open_end (end_a, error);
  self->fd[1] = self->fd[0] >= 0 ? open_end (end_b, error) : -1;
  self->rand = g_rand_new ();
  g_queue_init (&self->queue[0]);
  g_queue_init (&self->queue[1]);
  if (self->fd[1] < 0)
    {
      ts_lab_wire_free (self);
      return NULL;
    }
  return self;
}

void
ts_lab_wire_get_fds (TsLabWire *self, int out_fds[2])
{
  out_fds[0] = self->fd[0];
  out_fds[1] = self->fd[1];
}

void
ts_lab_wire_receive (TsLabWire *self, int side, guint64 now_ns)
{
  int out = 1 - side;
  const TsLabLink *l = self->link;

  for (;;)
    {
      guint8 buf[FRAME_MAX];
      struct sockaddr_ll from;
      socklen_t fromlen = sizeof from;
      gssize n = recvfrom (self->fd[side], buf, sizeof buf, MSG_TRUNC, (struct sockaddr *)&from,
                           &fromlen);
      Frame *f;
      guint64 due;

      if (n < 0)
        return;
      if (from.sll_pkttype == PACKET_OUTGOING || n > (gssize)sizeof buf)
        continue;
      if (l->loss > 0 && g_rand_double (self->rand) < l->loss)
        {
          self->lost++;
          continue;
        }
      if (self->queued[out] + n > TS_LAB_WIRE_MAX_QUEUE_BYTES)
        {
          self->overflow++;
          continue;
        }
      due = now_ns;
      if (l->rate_bps > 0)
        {
          /* Serialisation: the frame leaves once those before it have. */
          guint64 tx = (guint64)n * 8 * G_GUINT64_CONSTANT (1000000000) / l->rate_bps;
          self->busy_until[out] = MAX (self->busy_until[out], now_ns) + tx;
          due = self->busy_until[out];
        }
      due += l->delay_ns;
      if (l->jitter_ns > 0)
        due = due - l->jitter_ns + (guint64)g_rand_double_range (self->rand, 0, 2.0 * l->jitter_ns);
      due = MAX (due, self->last_due[out]);
      self->last_due[out] = due;
      f = g_malloc (sizeof (Frame) + n);
      f->due_ns = due;
      f->len = n;
      memcpy (f->data, buf, n);
      g_queue_push_tail (&self->queue[out], f);
      self->queued[out] += n;
    }
}

guint64
ts_lab_wire_send_due (TsLabWire *self, guint64 now_ns)
{
  guint64 next = G_MAXUINT64;

  for (int side = 0; side < 2; side++)
    {
      Frame *f;
      while ((f = g_queue_peek_head (&self->queue[side])) != NULL && f->due_ns <= now_ns)
        {
          g_queue_pop_head (&self->queue[side]);
          self->queued[side] -= f->len;
          if (send (self->fd[side], f->data, f->len, MSG_DONTWAIT) == (gssize)f->len)
            self->relayed++;
          else
            self->overflow++;
          g_free (f);
        }
      if (f != NULL)
        next = MIN (next, f->due_ns);
    }
  return next;
}

void
ts_lab_wire_get_counts (TsLabWire *self, guint64 *out_relayed, guint64 *out_lost,
                        guint64 *out_overflow)
{
  *out_relayed = self->relayed;
  *out_lost = self->lost;
  *out_overflow = self->overflow;
}

void
ts_lab_wire_free (TsLabWire *self)
{
  if (self == NULL)
    return;
  for (int i = 0; i < 2; i++)
    {
      if (self->fd[i] >= 0)
        close (self->fd[i]);
      g_queue_clear_full (&self->queue[i], g_free);
    }
  g_rand_free (self->rand);
  g_free (self);
}
