/* ts-lab-plan.c: addresses, interface names, routes and hosts files for a scenario.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "ts-lab-plan.h"

#include <arpa/inet.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "ts-lab-error.h"

/* The documentation ranges (RFC 5737, RFC 3849). */
static const struct
{
  guint32 net;
  const char *text;
} doc4[] = {
  { 0xC0000200u, "192.0.2.0/24" },
  { 0xC6336400u, "198.51.100.0/24" },
  { 0xCB007100u, "203.0.113.0/24" },
};

static char *
ip4_to_string (guint32 a)
{
  return g_strdup_printf ("%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}

static gboolean
parse_cidr4 (const char *text, guint32 *out_net, guint *out_prefix)
{
  g_autofree char *addr = NULL;
  const char *slash = strchr (text, '/');
  struct in_addr in;
  guint64 prefix;

  if (slash == NULL || !g_ascii_string_to_unsigned (slash + 1, 10, 8, 30, &prefix, NULL))
    return FALSE;
  addr = g_strndup (text, slash - text);
  if (inet_pton (AF_INET, addr, &in) != 1)
    return FALSE;
  *out_net = ntohl (in.s_addr) & (prefix == 0 ? 0 : 0xffffffffu << (32 - prefix));
  *out_prefix = prefix;
  return TRUE;
}

static gboolean
parse_cidr6 (const char *text, struct in6_addr *out_net, guint *out_prefix)
{
  g_autofree char *addr = NULL;
  const char *slash = strchr (text, '/');
  guint64 prefix;

  if (slash == NULL || !g_ascii_string_to_unsigned (slash + 1, 10, 32, 126, &prefix, NULL))
    return FALSE;
  addr = g_strndup (text, slash - text);
  if (inet_pton (AF_INET6, addr, out_net) != 1)
    return FALSE;
  for (guint bit = prefix; bit < 128; bit++)
    out_net->s6_addr[bit / 8] &= ~(0x80 >> (bit % 8));
  *out_prefix = prefix;
  return TRUE;
}

static gboolean
in_doc4 (guint32 net, guint prefix)
{
  for (gsize i = 0; i < G_N_ELEMENTS (doc4); i++)
    if (prefix >= 24 && (net & 0xffffff00u) == doc4[i].net)
      return TRUE;
  return FALSE;
}

static gboolean
overlap4 (guint32 a, guint pa, guint32 b, guint pb)
{
  guint p = MIN (pa, pb);
  guint32 mask = 0xffffffffu << (32 - p);
  return (a & mask) == (b & mask);
}

static gboolean
overlap6 (const struct in6_addr *a, guint pa, const struct in6_addr *b, guint pb)
{
  guint p = MIN (pa, pb);
  for (guint bit = 0; bit < p; bit++)
    {
      guint8 m = 0x80 >> (bit % 8);
      if ((a->s6_addr[bit / 8] & m) != (b->s6_addr[bit / 8] & m))
        return FALSE;
    }
  return TRUE;
}

static char *
ip6_host (const struct in6_addr *net, guint host)
{
  struct in6_addr a = *net;
  char buf[INET6_ADDRSTRLEN];

  a.s6_addr[15] |= host;
  inet_ntop (AF_INET6, &a, buf, sizeof buf);
  return g_strdup (buf);
}

static void
plan_link_free (TsLabPlanLink *l)
{
  g_free (l->subnet4);
  g_free (l->subnet6);
  for (int i = 0; i < 2; i++)
    {
      g_free (l->ends[i].node);
      g_free (l->ends[i].ifname);
      g_free (l->ends[i].addr4);
      g_free (l->ends[i].addr6);
    }
  g_free (l);
}

static void
plan_route_free (TsLabPlanRoute *r)
{
  g_free (r->dest);
  g_free (r->via);
  g_free (r->dev);
  g_free (r);
}

static void
plan_node_free (TsLabPlanNode *n)
{
  g_ptr_array_unref (n->routes);
  g_free (n->hosts);
  g_free (n);
}

void
ts_lab_plan_free (TsLabPlan *self)
{
  if (self == NULL)
    return;
  g_ptr_array_unref (self->links);
  g_ptr_array_unref (self->nodes);
  g_free (self);
}

TsLabPlanNode *
ts_lab_plan_get_node (TsLabPlan *self, const char *name)
{
  for (guint i = 0; i < self->nodes->len; i++)
    {
      TsLabPlanNode *n = self->nodes->pdata[i];
      if (g_str_equal (n->node->name, name))
        return n;
    }
  return NULL;
}

const char *
ts_lab_plan_get_address (TsLabPlan *self, const char *node, int family)
{
  for (guint i = 0; i < self->links->len; i++)
    {
      TsLabPlanLink *l = self->links->pdata[i];
      for (int e = 0; e < 2; e++)
        if (g_str_equal (l->ends[e].node, node))
          return family == 6 ? l->ends[e].addr6 : l->ends[e].addr4;
    }
  return NULL;
}

static gboolean
is_role (TsLabScenario *s, const char *node, const char *role)
{
  TsLabNode *n = ts_lab_scenario_get_node (s, node);
  return n != NULL && g_str_equal (n->role, role);
}

/* Breadth-first search from @from: for each node index, the index of the
 * link by which it is first reached (-1 for @from and unreachable nodes)
 * and its predecessor. Ties go to the link listed first. */
static void
bfs (TsLabPlan *self, guint from, int *out_via_link, int *out_prev)
{
  TsLabScenario *s = self->scenario;
  guint n = s->nodes->len;
  g_autofree guint *queue = g_new (guint, n);
  g_autofree gboolean *seen = g_new0 (gboolean, n);
  guint head = 0, tail = 0;

  for (guint i = 0; i < n; i++)
    out_via_link[i] = out_prev[i] = -1;
  queue[tail++] = from;
  seen[from] = TRUE;
  while (head < tail)
    {
      guint cur = queue[head++];
      const char *cur_name = ((TsLabNode *)s->nodes->pdata[cur])->name;
      for (guint k = 0; k < self->links->len; k++)
        {
          TsLabPlanLink *l = self->links->pdata[k];
          const char *other = NULL;
          if (g_str_equal (l->ends[0].node, cur_name))
            other = l->ends[1].node;
          else if (g_str_equal (l->ends[1].node, cur_name))
            other = l->ends[0].node;
          if (other == NULL)
            continue;
          for (guint j = 0; j < n; j++)
            if (!seen[j] && g_str_equal (((TsLabNode *)s->nodes->pdata[j])->name, other))
              {
                seen[j] = TRUE;
                out_via_link[j] = k;
                out_prev[j] = cur;
                queue[tail++] = j;
              }
        }
    }
}

static int
end_of (TsLabPlanLink *l, const char *node)
{
  return g_str_equal (l->ends[0].node, node) ? 0 : g_str_equal (l->ends[1].node, node) ? 1 : -1;
}

TsLabPlan *
ts_lab_plan_new (TsLabScenario *scenario, GError **error)
{
  g_autoptr (TsLabPlan) self = g_new0 (TsLabPlan, 1);
  TsLabScenario *s = scenario;
  guint n_links = s->links->len;
  g_autofree guint32 *net4 = g_new0 (guint32, n_links + 1);
  g_autofree guint *pre4 = g_new0 (guint, n_links + 1);
  g_autofree struct in6_addr *net6 = g_new0 (struct in6_addr, n_links + 1);
  g_autofree guint *pre6 = g_new0 (guint, n_links + 1);
  g_autofree char *base = g_path_get_basename (s->path);
  gboolean whole = n_links <= 3;
  gboolean used[3] = { FALSE, FALSE, FALSE };

  self->scenario = scenario;
  self->links = g_ptr_array_new_with_free_func ((GDestroyNotify)plan_link_free);
  self->nodes = g_ptr_array_new_with_free_func ((GDestroyNotify)plan_node_free);

  /* With three links or fewer, a /24 each if the roles give distinct
   * choices; otherwise /28s in order. */
  if (whole)
    for (guint i = 0; i < n_links; i++)
      {
        TsLabLink *l = s->links->pdata[i];
        int want = is_role (s, l->a, "server") || is_role (s, l->b, "server")   ? 2
                   : is_role (s, l->a, "client") || is_role (s, l->b, "client") ? 0
                                                                                : 1;
        if (used[want])
          whole = FALSE;
        used[want] = TRUE;
        net4[i] = doc4[want].net;
        pre4[i] = 24;
      }
  for (guint i = 0; i < n_links; i++)
    {
      TsLabLink *l = s->links->pdata[i];
      TsLabPlanLink *p = g_new0 (TsLabPlanLink, 1);
      g_ptr_array_add (self->links, p);
      p->link = l;
      p->wire = l->delay_ns > 0 || l->jitter_ns > 0 || l->loss > 0 || l->rate_bps > 0;
      p->ends[0].node = g_strdup (l->a);
      p->ends[1].node = g_strdup (l->b);
      p->ends[0].ifname = g_strdup (l->b);
      p->ends[1].ifname = g_strdup (l->a);
      if (!whole)
        {
          guint block = i / 16;
          net4[i] = doc4[block].net | ((i % 16) * 16);
          pre4[i] = 28;
        }
      if (l->subnet4 != NULL)
        {
          if (!parse_cidr4 (l->subnet4, &net4[i], &pre4[i]))
            {
              g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_INVALID,
                           "%s:%u: link %s: subnet4 = '%s': expected an IPv4 network like "
                           "192.0.2.0/24 (prefix 8 to 30)",
                           base, l->line, l->name, l->subnet4);
              return NULL;
            }
          if (!in_doc4 (net4[i], pre4[i]))
            {
              g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_INVALID,
                           "%s:%u: link %s: subnet4 %s is outside the documentation ranges "
                           "(192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24)",
                           base, l->line, l->name, l->subnet4);
              return NULL;
            }
        }
      inet_pton (AF_INET6, "2001:db8::", &net6[i]);
      net6[i].s6_addr[4] = (i + 1) >> 8;
      net6[i].s6_addr[5] = (i + 1) & 0xff;
      pre6[i] = 64;
      if (l->subnet6 != NULL)
        {
          struct in6_addr doc;
          inet_pton (AF_INET6, "2001:db8::", &doc);
          if (!parse_cidr6 (l->subnet6, &net6[i], &pre6[i]))
            {
              g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_INVALID,
                           "%s:%u: link %s: subnet6 = '%s': expected an IPv6 network like "
                           "2001:db8:1::/64 (prefix 32 to 126)",
                           base, l->line, l->name, l->subnet6);
              return NULL;
            }
          if (!overlap6 (&net6[i], pre6[i], &doc, 32) || pre6[i] < 32)
            {
              g_set_error (
                  error, TS_LAB_ERROR, TS_LAB_ERROR_INVALID,
                  "%s:%u: link %s: subnet6 %s is outside the documentation range 2001:db8::/32",
                  base, l->line, l->name, l->subnet6);
              return NULL;
            }
        }
      for (guint k = 0; k < i; k++)
        {
          TsLabLink *o = s->links->pdata[k];
          if (overlap4 (net4[i], pre4[i], net4[k], pre4[k]))
            {
              g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_INVALID,
                           "%s:%u: link %s: its IPv4 subnet collides with link %s's (line %u)",
                           base, l->line, l->name, o->name, o->line);
              return NULL;
            }
          if (s->ipv6 && overlap6 (&net6[i], pre6[i], &net6[k], pre6[k]))
            {
              g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_INVALID,
                           "%s:%u: link %s: its IPv6 subnet collides with link %s's (line %u)",
                           base, l->line, l->name, o->name, o->line);
              return NULL;
            }
        }
      {
        g_autofree char *a = ip4_to_string (net4[i]);
        p->subnet4 = g_strdup_printf ("%s/%u", a, pre4[i]);
        p->prefix4 = pre4[i];
        p->ends[0].addr4 = ip4_to_string (net4[i] + 1);
        p->ends[1].addr4 = ip4_to_string (net4[i] + 2);
      }
      if (s->ipv6)
        {
          g_autofree char *a = ip6_host (&net6[i], 0);
          p->subnet6 = g_strdup_printf ("%s/%u", a, pre6[i]);
          p->prefix6 = pre6[i];
          p->ends[0].addr6 = ip6_host (&net6[i], 1);
          p->ends[1].addr6 = ip6_host (&net6[i], 2);
        }
    }

  /* Routes and hosts files. */
  for (guint i = 0; i < s->nodes->len; i++)
    {
      TsLabNode *node = s->nodes->pdata[i];
      TsLabPlanNode *pn = g_new0 (TsLabPlanNode, 1);
      g_autofree int *via = g_new (int, s->nodes->len);
      g_autofree int *prev = g_new (int, s->nodes->len);
      g_autoptr (GString) hosts = g_string_new (NULL);

      g_ptr_array_add (self->nodes, pn);
      pn->node = node;
      pn->routes = g_ptr_array_new_with_free_func ((GDestroyNotify)plan_route_free);
      bfs (self, i, via, prev);

      /* For each link not attached here: via the first hop towards the
       * nearer end of that link. */
      for (guint k = 0; k < self->links->len; k++)
        {
          TsLabPlanLink *l = self->links->pdata[k];
          int target = -1;
          int hop;
          TsLabPlanLink *first;
          int far;

          if (end_of (l, node->name) >= 0)
            continue;
          for (guint j = 0; j < s->nodes->len; j++)
            {
              const char *nm = ((TsLabNode *)s->nodes->pdata[j])->name;
              if ((g_str_equal (nm, l->ends[0].node) || g_str_equal (nm, l->ends[1].node))
                  && via[j] >= 0)
                {
                  /* Prefer the end with the shorter path. */
                  guint dj = 0, dt = 0;
                  for (int x = j; prev[x] >= 0; x = prev[x])
                    dj++;
                  for (int x = target; target >= 0 && prev[x] >= 0; x = prev[x])
                    dt++;
                  if (target < 0 || dj < dt)
                    target = j;
                }
            }
          if (target < 0)
            continue; /* unreachable island: no route */
          hop = target;
          while (prev[hop] != (int)i)
            hop = prev[hop];
          first = self->links->pdata[via[hop]];
          far = end_of (first, ((TsLabNode *)s->nodes->pdata[hop])->name);
          {
            TsLabPlanRoute *r = g_new0 (TsLabPlanRoute, 1);
            r->dest = g_strdup (l->subnet4);
            r->via = g_strdup (first->ends[far].addr4);
            r->dev = g_strdup (first->ends[1 - far].ifname);
            g_ptr_array_add (pn->routes, r);
            if (s->ipv6)
              {
                r = g_new0 (TsLabPlanRoute, 1);
                r->dest = g_strdup (l->subnet6);
                r->via = g_strdup (first->ends[far].addr6);
                r->dev = g_strdup (first->ends[1 - far].ifname);
                r->ipv6 = TRUE;
                g_ptr_array_add (pn->routes, r);
              }
          }
        }

      g_string_append_printf (
          hosts,
          "# /etc/hosts of node %s, written by the Tunnelscope lab (only inside the node)\n"
          "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n",
          node->name);
      for (int family = 4; family <= 6; family += 2)
        for (guint j = 0; j < s->nodes->len; j++)
          {
            TsLabNode *t = s->nodes->pdata[j];
            const char *addr = NULL;
            g_autofree char *extra = g_strjoinv (" ", t->names);

            if (family == 6 && !s->ipv6)
              continue;
            if (j == i)
              addr = ts_lab_plan_get_address (self, t->name, family);
            else if (via[j] >= 0)
              {
                /* The target's address on the last link of the path. */
                TsLabPlanLink *last = self->links->pdata[via[j]];
                int e = end_of (last, t->name);
                addr = family == 6 ? last->ends[e].addr6 : last->ends[e].addr4;
              }
            if (addr == NULL)
              continue;
            g_string_append_printf (hosts, "%s\t%s.test %s%s%s\n", addr, t->name, t->name,
                                    extra[0] ? " " : "", extra);
          }
      pn->hosts = g_string_free (g_steal_pointer (&hosts), FALSE);
    }
  return g_steal_pointer (&self);
}

char *
ts_lab_plan_to_json (TsLabPlan *self, const char *lab, gboolean pretty)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  TsLabScenario *s = self->scenario;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "scenario");
  json_builder_add_string_value (b, s->name);
  json_builder_set_member_name (b, "description");
  json_builder_add_string_value (b, s->description);
  if (lab != NULL)
    {
      json_builder_set_member_name (b, "lab");
      json_builder_add_string_value (b, lab);
    }
  json_builder_set_member_name (b, "nodes");
  json_builder_begin_array (b);
  for (guint i = 0; i < s->nodes->len; i++)
    {
      TsLabNode *n = s->nodes->pdata[i];
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, n->name);
      json_builder_set_member_name (b, "role");
      json_builder_add_string_value (b, n->role);
      json_builder_set_member_name (b, "names");
      json_builder_begin_array (b);
      {
        g_autofree char *test = g_strconcat (n->name, ".test", NULL);
        json_builder_add_string_value (b, test);
      }
      for (guint k = 0; n->names[k] != NULL; k++)
        json_builder_add_string_value (b, n->names[k]);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "addresses");
      json_builder_begin_array (b);
      for (guint k = 0; k < self->links->len; k++)
        {
          TsLabPlanLink *l = self->links->pdata[k];
          int e = end_of (l, n->name);
          if (e < 0)
            continue;
          json_builder_add_string_value (b, l->ends[e].addr4);
          if (l->ends[e].addr6 != NULL)
            json_builder_add_string_value (b, l->ends[e].addr6);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "links");
  json_builder_begin_array (b);
  for (guint k = 0; k < self->links->len; k++)
    {
      TsLabPlanLink *l = self->links->pdata[k];
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, l->link->name);
      json_builder_set_member_name (b, "subnet4");
      json_builder_add_string_value (b, l->subnet4);
      if (l->subnet6 != NULL)
        {
          json_builder_set_member_name (b, "subnet6");
          json_builder_add_string_value (b, l->subnet6);
        }
      json_builder_set_member_name (b, "ends");
      json_builder_begin_array (b);
      for (int e = 0; e < 2; e++)
        {
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "node");
          json_builder_add_string_value (b, l->ends[e].node);
          json_builder_set_member_name (b, "interface");
          json_builder_add_string_value (b, l->ends[e].ifname);
          json_builder_set_member_name (b, "address4");
          json_builder_add_string_value (b, l->ends[e].addr4);
          if (l->ends[e].addr6 != NULL)
            {
              json_builder_set_member_name (b, "address6");
              json_builder_add_string_value (b, l->ends[e].addr6);
            }
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_set_member_name (b, "delay_ms");
      json_builder_add_double_value (b, l->link->delay_ns / 1e6);
      json_builder_set_member_name (b, "jitter_ms");
      json_builder_add_double_value (b, l->link->jitter_ns / 1e6);
      json_builder_set_member_name (b, "loss");
      json_builder_add_double_value (b, l->link->loss);
      json_builder_set_member_name (b, "rate_bps");
      json_builder_add_int_value (b, l->link->rate_bps);
      json_builder_set_member_name (b, "mtu");
      json_builder_add_int_value (b, l->link->mtu);
      json_builder_set_member_name (b, "wire");
      json_builder_add_string_value (b, l->wire ? "userspace relay" : "veth");
      if (l->link->capture)
        {
          json_builder_set_member_name (b, "captured_end");
          json_builder_add_string_value (b, l->ends[0].node);
        }
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "actors");
  json_builder_begin_array (b);
  for (guint k = 0; k < s->actors->len; k++)
    {
      TsLabActor *a = s->actors->pdata[k];
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, a->name);
      json_builder_set_member_name (b, "node");
      json_builder_add_string_value (b, a->node);
      json_builder_set_member_name (b, "command");
      json_builder_add_string_value (b, a->command);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, pretty);
  return json_generator_to_data (gen, NULL);
}
