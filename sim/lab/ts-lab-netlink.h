/* ts-lab-netlink.h: the few rtnetlink requests the lab needs (veth pairs
 * into namespaces, links up, addresses, routes), made in-process.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A TsLabNetlink talks to the network namespace its calling thread was in
 * when it was made. Every request waits for the kernel's answer; an error
 * names the request and the kernel's reason.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _TsLabNetlink TsLabNetlink;

TsLabNetlink *ts_lab_netlink_new (GError **error);
void ts_lab_netlink_free (TsLabNetlink *self);

/* Creates the veth pair @name/@peer, each end moved into the network
 * namespace behind @ns_fd / @peer_ns_fd (-1: stays here), with @mtu and
 * the 6-byte hardware addresses @mac / @peer_mac (NULL: the kernel picks). */
gboolean ts_lab_netlink_add_veth (TsLabNetlink *self, const char *name, int ns_fd,
                                  const guint8 *mac, const char *peer, int peer_ns_fd,
                                  const guint8 *peer_mac, guint mtu, GError **error);
/* Sets interface @ifname up, with or without IFF_MULTICAST. */
gboolean ts_lab_netlink_link_up (TsLabNetlink *self, const char *ifname, gboolean multicast,
                                 GError **error);
/* Adds @address/@prefix (IPv4 or IPv6; IPv6 without duplicate address
 * detection) to @ifname. */
gboolean ts_lab_netlink_add_address (TsLabNetlink *self, const char *ifname, const char *address,
                                     guint prefix, GError **error);
/* Adds a permanent neighbour entry on @ifname: @address (IPv4 or IPv6) is
 * at the 6-byte hardware address @mac. No ARP or neighbour discovery for it
 * then. */
gboolean ts_lab_netlink_add_neighbour (TsLabNetlink *self, const char *ifname, const char *address,
                                       const guint8 *mac, GError **error);
/* Adds a route to @dest ("NET/PREFIX") via @via on @ifname. */
gboolean ts_lab_netlink_add_route (TsLabNetlink *self, const char *dest, const char *via,
                                   const char *ifname, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TsLabNetlink, ts_lab_netlink_free)

G_END_DECLS
