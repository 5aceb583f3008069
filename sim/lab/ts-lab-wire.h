/* ts-lab-wire.h: the userspace wire: an AF_PACKET relay between two veth
 * ends that applies a link's delay, jitter, loss and rate.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The kernels this project runs on may lack netem, and TAP devices need real
 * root, so a link with such properties is two veth pairs: node A's interface
 * to end A in the supervisor's namespace, node B's to end B, and this relay
 * between ends A and B. Frames go out in the order they came in (jitter
 * never reorders); the rate is applied as serialisation time before the
 * delay. Each direction has its own queue, capped at
 * TS_LAB_WIRE_MAX_QUEUE_BYTES (tail drop).
 */
#pragma once

#include <glib.h>

#include "ts-lab-scenario.h"

G_BEGIN_DECLS

/* Bytes held per direction: about 1.3 s of 10 Mbit/s; more is tail-dropped. */
#define TS_LAB_WIRE_MAX_QUEUE_BYTES (2 * 1024 * 1024)

typedef struct _TsLabWire TsLabWire;

/* Opens the relay on interfaces @end_a and @end_b of the calling thread's
 * network namespace. @link is borrowed and must outlive the wire. */
TsLabWire *ts_lab_wire_new (const char *end_a, const char *end_b, const TsLabLink *link,
                            GError **error);

/* The two sockets to poll for input. */
void ts_lab_wire_get_fds (TsLabWire *self, int out_fds[2]);

/* Reads every frame waiting on side @side (0 or 1) and queues it for the
 * other side; @now_ns is CLOCK_MONOTONIC. */
void ts_lab_wire_receive (TsLabWire *self, int side, guint64 now_ns);

/* Sends every frame that is due; returns when the next one is due
 * (CLOCK_MONOTONIC ns) or G_MAXUINT64. */
guint64 ts_lab_wire_send_due (TsLabWire *self, guint64 now_ns);

/* Counts: frames relayed, dropped by loss, dropped by a full queue. */
void ts_lab_wire_get_counts (TsLabWire *self, guint64 *out_relayed, guint64 *out_lost,
                             guint64 *out_overflow);

void ts_lab_wire_free (TsLabWire *self);

G_END_DECLS
