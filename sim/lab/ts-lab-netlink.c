/* ts-lab-netlink.c: rtnetlink requests for veth pairs, links, addresses and routes.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "ts-lab-netlink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ts-lab-error.h"

/* One request: far more than the nested attributes of a veth need. */
#define REQUEST_MAX 1024

struct _TsLabNetlink
{
  int fd;
  guint32 seq;
};

typedef struct
{
  guint8 buf[REQUEST_MAX];
  struct nlmsghdr *nh;
} Request;

TsLabNetlink *
ts_lab_netlink_new (GError **error)
{
  TsLabNetlink *self = g_new0 (TsLabNetlink, 1);
  struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

  self->fd = socket (AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (self->fd < 0 || bind (self->fd, (struct sockaddr *)&sa, sizeof sa) != 0)
    {
      g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_SYSTEM, "netlink socket: %s",
                   g_strerror (errno));
      ts_lab_netlink_free (self);
      return NULL;
    }
  return self;
}

void
ts_lab_netlink_free (TsLabNetlink *self)
{
  if (self == NULL)
    return;
  if (self->fd >= 0)
    close (self->fd);
  g_free (self);
}

static void *
request_init (Request *r, guint16 type, guint16 flags, gsize header_len)
{
  memset (r->buf, 0, sizeof r->buf);
  r->nh = (struct nlmsghdr *)r->buf;
  r->nh->nlmsg_len = NLMSG_LENGTH (header_len);
  r->nh->nlmsg_type = type;
  r->nh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
  return NLMSG_DATA (r->nh);
}

static struct rtattr *
add_attr (Request *r, guint16 type, const void *data, gsize len)
{
  struct rtattr *rta = (struct rtattr *)(r->buf + NLMSG_ALIGN (r->nh->nlmsg_len));
  gsize total = RTA_LENGTH (len);

  g_assert (NLMSG_ALIGN (r->nh->nlmsg_len) + RTA_ALIGN (total) <= sizeof r->buf);
  rta->rta_type = type;
  rta->rta_len = total;
  if (len > 0)
    memcpy (RTA_DATA (rta), data, len);
  r->nh->nlmsg_len = NLMSG_ALIGN (r->nh->nlmsg_len) + RTA_ALIGN (total);
  return rta;
}

static void
add_u32 (Request *r, guint16 type, guint32 v)
{
  add_attr (r, type, &v, sizeof v);
}

static void
add_str (Request *r, guint16 type, const char *s)
{
  add_attr (r, type, s, strlen (s) + 1);
}

static struct rtattr *
nest_begin (Request *r, guint16 type)
{
  return add_attr (r, type, NULL, 0);
}

static void
nest_end (Request *r, struct rtattr *nest)
{
  nest->rta_len = (r->buf + r->nh->nlmsg_len) - (guint8 *)nest;
}

static gboolean
transact (TsLabNetlink *self, Request *r, const char *what, GError **error)
{
  guint8 reply[4096];
  gssize n;

  r->nh->nlmsg_seq = ++self->seq;
  if (send (self->fd, r->buf, r->nh->nlmsg_len, 0) != (gssize)r->nh->nlmsg_len)
    {
      g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_SYSTEM, "%s: netlink send: %s", what,
                   g_strerror (errno));
      return FALSE;
    }
  for (;;)
    {
      struct nlmsghdr *h;
      n = recv (self->fd, reply, sizeof reply, 0);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_SYSTEM, "%s: netlink receive: %s", what,
                       g_strerror (errno));
          return FALSE;
        }
      for (h = (struct nlmsghdr *)reply; NLMSG_OK (h, (guint32)n); h = NLMSG_NEXT (h, n))
        {
          if (h->nlmsg_seq != self->seq || h->nlmsg_type != NLMSG_ERROR)
            continue;
          if (h->nlmsg_len < NLMSG_LENGTH (sizeof (struct nlmsgerr)))
            {
              g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_SYSTEM, "%s: short netlink answer",
                           what);
              return FALSE;
            }
          {
            const struct nlmsgerr *e = NLMSG_DATA (h);
            if (e->error != 0)
              {
                g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_SYSTEM, "%s: %s", what,
                             g_strerror (-e->error));
                return FALSE;
              }
          }
          return TRUE;
        }
    }
}

static int
index_of (const char *ifname, GError **error)
{
  int index = if_nametoindex (ifname);

  if (index == 0)
    g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_SYSTEM, "no interface %s: %s", ifname,
                 g_strerror (errno));
  return index;
}

gboolean
ts_lab_netlink_add_veth (TsLabNetlink *self, const char *name, int ns_fd, const guint8 *mac,
                         const char *peer, int peer_ns_fd, const guint8 *peer_mac, guint mtu,
                         GError **error)
{
  Request r;
  struct ifinfomsg *ifi
      = request_init (&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof (struct ifinfomsg));
  struct rtattr *linkinfo, *data, *peer_info;
  struct ifinfomsg peer_ifi = { .ifi_family = AF_UNSPEC };
  g_autofree char *what = g_strdup_printf ("veth %s/%s", name, peer);

  ifi->ifi_family = AF_UNSPEC;
  add_str (&r, IFLA_IFNAME, name);
  add_u32 (&r, IFLA_MTU, mtu);
  if (mac != NULL)
    add_attr (&r, IFLA_ADDRESS, mac, 6);
  if (ns_fd >= 0)
    add_u32 (&r, IFLA_NET_NS_FD, ns_fd);
  linkinfo = nest_begin (&r, IFLA_LINKINFO);
  add_str (&r, IFLA_INFO_KIND, "veth");
  data = nest_begin (&r, IFLA_INFO_DATA);
  peer_info = add_attr (&r, VETH_INFO_PEER, &peer_ifi, sizeof peer_ifi);
  add_str (&r, IFLA_IFNAME, peer);
  add_u32 (&r, IFLA_MTU, mtu);
  if (peer_mac != NULL)
    add_attr (&r, IFLA_ADDRESS, peer_mac, 6);
  if (peer_ns_fd >= 0)
    add_u32 (&r, IFLA_NET_NS_FD, peer_ns_fd);
  nest_end (&r, peer_info);
  nest_end (&r, data);
  nest_end (&r, linkinfo);
  return transact (self, &r, what, error);
}

gboolean
ts_lab_netlink_link_up (TsLabNetlink *self, const char *ifname, gboolean multicast, GError **error)
{
  Request r;
  struct ifinfomsg *ifi = request_init (&r, RTM_NEWLINK, 0, sizeof (struct ifinfomsg));
  g_autofree char *what = g_strdup_printf ("link %s up", ifname);

  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = index_of (ifname, error);
  if (ifi->ifi_index == 0)
    return FALSE;
  ifi->ifi_flags = IFF_UP | (multicast ? IFF_MULTICAST : 0);
  ifi->ifi_change = IFF_UP | IFF_MULTICAST;
  return transact (self, &r, what, error);
}

static int
parse_address (const char *text, guint8 out[16])
{
  if (inet_pton (AF_INET, text, out) == 1)
    return AF_INET;
  if (inet_pton (AF_INET6, text, out) == 1)
    return AF_INET6;
  return AF_UNSPEC;
}

gboolean
ts_lab_netlink_add_address (TsLabNetlink *self, const char *ifname, const char *address,
                            guint prefix, GError **error)
{
  Request r;
  struct ifaddrmsg *ifa
      = request_init (&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, sizeof (struct ifaddrmsg));
  guint8 addr[16];
  int family = parse_address (address, addr);
  gsize len = family == AF_INET ? 4 : 16;
  g_autofree char *what = g_strdup_printf ("address %s/%u on %s", address, prefix, ifname);

  if (family == AF_UNSPEC)
    {
      g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_INVALID, "%s: not an address", what);
      return FALSE;
    }
  ifa->ifa_family = family;
  ifa->ifa_prefixlen = prefix;
  ifa->ifa_index = index_of (ifname, error);
  if (ifa->ifa_index == 0)
    return FALSE;
  if (family == AF_INET6)
    ifa->ifa_flags = IFA_F_NODAD;
  add_attr (&r, IFA_LOCAL, addr, len);
  add_attr (&r, IFA_ADDRESS, addr, len);
  if (family == AF_INET6)
    add_u32 (&r, IFA_FLAGS, IFA_F_NODAD);
  return transact (self, &r, what, error);
}

gboolean
ts_lab_netlink_add_neighbour (TsLabNetlink *self, const char *ifname, const char *address,
                              const guint8 *mac, GError **error)
{
  Request r;
  struct ndmsg *ndm
      = request_init (&r, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, sizeof (struct ndmsg));
  guint8 addr[16];
  int family = parse_address (address, addr);
  g_autofree char *what = g_strdup_printf ("neighbour %s on %s", address, ifname);

  if (family == AF_UNSPEC)
    {
      g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_INVALID, "%s: not an address", what);
      return FALSE;
    }
  ndm->ndm_family = family;
  ndm->ndm_ifindex = index_of (ifname, error);
  if (ndm->ndm_ifindex == 0)
    return FALSE;
  ndm->ndm_state = NUD_PERMANENT;
  add_attr (&r, NDA_DST, addr, family == AF_INET ? 4 : 16);
  add_attr (&r, NDA_LLADDR, mac, 6);
  return transact (self, &r, what, error);
}

gboolean
ts_lab_netlink_add_route (TsLabNetlink *self, const char *dest, const char *via, const char *ifname,
                          GError **error)
{
  Request r;
  struct rtmsg *rtm
      = request_init (&r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, sizeof (struct rtmsg));
  g_autofree char *net = g_strdup (dest);
  char *slash = strchr (net, '/');
  guint8 dst[16], gw[16];
  int family, gw_family;
  int index;
  g_autofree char *what = g_strdup_printf ("route to %s via %s", dest, via);

  if (slash == NULL)
    {
      g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_INVALID, "%s: not a network", what);
      return FALSE;
    }
  *slash = '\0';
  family = parse_address (net, dst);
  gw_family = parse_address (via, gw);
  if (family == AF_UNSPEC || family != gw_family)
    {
      g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_INVALID, "%s: bad addresses", what);
      return FALSE;
    }
  index = index_of (ifname, error);
  if (index == 0)
    return FALSE;
  rtm->rtm_family = family;
  rtm->rtm_dst_len = atoi (slash + 1);
  rtm->rtm_table = RT_TABLE_MAIN;
  rtm->rtm_protocol = RTPROT_BOOT;
  rtm->rtm_scope = RT_SCOPE_UNIVERSE;
  rtm->rtm_type = RTN_UNICAST;
  add_attr (&r, RTA_DST, dst, family == AF_INET ? 4 : 16);
  add_attr (&r, RTA_GATEWAY, gw, family == AF_INET ? 4 : 16);
  add_u32 (&r, RTA_OIF, index);
  return transact (self, &r, what, error);
}
