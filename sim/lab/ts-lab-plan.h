/* ts-lab-plan.h: plans a scenario's network: interface names, addresses,
 * routes and host names, from documentation ranges only.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Addresses: with at most three links, each link gets a whole /24 of its
 * own: the link at a server 203.0.113.0/24 ("the internet"), the link at a
 * client 192.0.2.0/24, the others 198.51.100.0/24; otherwise the three /24s
 * are cut into /28s in link order. IPv6: 2001:db8:N::/64 for the Nth link.
 * The first end of a link gets host 1, the second host 2. A link's subnet4
 * and subnet6 override the plan; overlaps and addresses outside the
 * documentation ranges are errors.
 *
 * Interfaces are named after the node at the other end ("proxy" in node
 * client), so 'ip addr' inside a node reads like the topology.
 *
 * Routes: every node reaches every lab subnet through its neighbour on a
 * shortest path; forwarding stays off unless a node asks for it, so a client
 * trying to bypass its proxy puts packets on the wire that the proxy drops.
 *
 * Names: NODE.test and NODE, plus the node's extra names, resolve on each
 * node to the address the target has on the link nearest that node.
 */
#pragma once

#include <glib.h>

#include "ts-lab-scenario.h"

G_BEGIN_DECLS

typedef struct
{
  char *node;   /* this end's node */
  char *ifname; /* interface name in the node: the peer's node name */
  char *addr4;  /* "192.0.2.1" */
  char *addr6;  /* "2001:db8:1::1", NULL without IPv6 */
} TsLabPlanEnd;

typedef struct
{
  TsLabLink *link; /* borrowed from the scenario */
  char *subnet4;   /* "192.0.2.0/24" */
  guint prefix4;
  char *subnet6; /* "2001:db8:1::/64" or NULL */
  guint prefix6;
  TsLabPlanEnd ends[2];
  gboolean wire; /* delay, jitter, loss or rate: through the userspace wire */
} TsLabPlanLink;

typedef struct
{
  char *dest; /* CIDR */
  char *via;  /* next hop address */
  char *dev;  /* interface */
  gboolean ipv6;
} TsLabPlanRoute;

typedef struct
{
  TsLabNode *node;   /* borrowed */
  GPtrArray *routes; /* TsLabPlanRoute */
  char *hosts;       /* the node's /etc/hosts */
} TsLabPlanNode;

typedef struct
{
  TsLabScenario *scenario; /* borrowed: must outlive the plan */
  GPtrArray *links;        /* TsLabPlanLink, in scenario order */
  GPtrArray *nodes;        /* TsLabPlanNode, in scenario order */
} TsLabPlan;

/* Plans @scenario. NULL with TS_LAB_ERROR_INVALID ("FILE:LINE: ...") on an
 * address outside the documentation ranges or a collision. */
TsLabPlan *ts_lab_plan_new (TsLabScenario *scenario, GError **error);
void ts_lab_plan_free (TsLabPlan *self);

TsLabPlanNode *ts_lab_plan_get_node (TsLabPlan *self, const char *name);
/* The first address of @node (its end of its first link), family 4 or 6. */
const char *ts_lab_plan_get_address (TsLabPlan *self, const char *node, int family);

/* The plan as a JSON object (nodes, roles, names, addresses, links, ends):
 * the core of the trace's lab metadata and of 'tscope list --format json'.
 * Transfer full. */
char *ts_lab_plan_to_json (TsLabPlan *self, const char *lab, gboolean pretty);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TsLabPlan, ts_lab_plan_free)

G_END_DECLS
