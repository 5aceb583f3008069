/* test-lab-scenario.c: scenario parsing (good and bad files, each error message) and address
 * planning. SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "ts-lab-error.h"
#include "ts-lab-plan.h"
#include "ts-lab-scenario.h"

static const char good[] = "# a full scenario\n"
                           "[scenario]\n"
                           "description = everything at once\n"
                           "\n"
                           "[node client]\n"
                           "role = client\n"
                           "trust = web intercept\n"
                           "[node proxy]\n"
                           "role = proxy\n"
                           "[node server]\n"
                           "role = server\n"
                           "names = example.com www.example.com\n"
                           "[link client-proxy]\n"
                           "delay = 50ms\n"
                           "jitter = 5ms\n"
                           "loss = 1%\n"
                           "rate = 10mbit\n"
                           "mtu = 1400\n"
                           "[link proxy-server]\n"
                           "capture = no\n"
                           "[file app.conf]\n"
                           "node = proxy server\n"
                           "text = <<END\n"
                           "  indented line\n"
                           "# not a comment here\n"
                           "END\n"
                           "[actor web]\n"
                           "node = server\n"
                           "command = exec openssl s_server -www\n"
                           "ready = tcp:443\n"
                           "[step fetch]\n"
                           "node = client\n"
                           "command = curl https://example.com/\n"
                           "timeout = 5s\n"
                           "pause = 100ms\n"
                           "[expect ok]\n"
                           "step = fetch\n"
                           "exit = 0\n"
                           "output-contains = 200\n"
                           "[expect refused]\n"
                           "description = the client refuses the certificate\n"
                           "step = fetch\n"
                           "exit = 60\n"
                           "[expect minted]\n"
                           "event = proxy.cert.minted\n"
                           "event-node = proxy\n"
                           "absent = yes\n";

static void
test_good (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TsLabScenario) s
      = ts_lab_scenario_new_from_data ("/x/full.scenario", good, -1, NULL, &error);
  TsLabLink *l;
  TsLabFile *f;
  TsLabExpect *x;
  TsLabStep *st;
  TsLabActor *a;

  g_assert_no_error (error);
  g_assert_nonnull (s);
  g_assert_cmpstr (s->name, ==, "full");
  g_assert_cmpstr (s->description, ==, "everything at once");
  g_assert_cmpuint (s->nodes->len, ==, 3);
  g_assert_cmpuint (s->links->len, ==, 2);
  l = ts_lab_scenario_get_link (s, "client-proxy");
  g_assert_cmpstr (l->a, ==, "client");
  g_assert_cmpstr (l->b, ==, "proxy");
  g_assert_cmpuint (l->delay_ns, ==, 50000000);
  g_assert_cmpuint (l->jitter_ns, ==, 5000000);
  g_assert_cmpfloat_with_epsilon (l->loss, 0.01, 1e-9);
  g_assert_cmpuint (l->rate_bps, ==, 10000000);
  g_assert_cmpuint (l->mtu, ==, 1400);
  g_assert_true (l->capture);
  g_assert_false (ts_lab_scenario_get_link (s, "proxy-server")->capture);
  g_assert_cmpstr (ts_lab_scenario_get_node (s, "client")->trust[1], ==, "intercept");
  g_assert_cmpstr (ts_lab_scenario_get_node (s, "server")->names[1], ==, "www.example.com");
  f = s->files->pdata[0];
  g_assert_cmpstr (f->name, ==, "app.conf");
  g_assert_cmpstr (f->text, ==, "  indented line\n# not a comment here\n");
  g_assert_cmpstr (f->nodes[1], ==, "server");
  a = s->actors->pdata[0];
  g_assert_cmpuint (a->ready_port, ==, 443);
  g_assert_cmpuint (a->line, ==, 27);
  st = ts_lab_scenario_get_step (s, "fetch");
  g_assert_cmpuint (st->timeout_ns, ==, 5000000000u);
  g_assert_cmpuint (st->pause_ns, ==, 100000000u);
  x = s->expects->pdata[0];
  g_assert_cmpint (x->exit_rule, ==, TS_LAB_EXIT_ZERO);
  g_assert_cmpstr (x->output_contains, ==, "200");
  x = s->expects->pdata[1];
  g_assert_cmpint (x->exit_rule, ==, TS_LAB_EXIT_CODE);
  g_assert_cmpint (x->exit_code, ==, 60);
  x = s->expects->pdata[2];
  g_assert_true (x->event_absent);
  g_assert_cmpstr (x->event_node, ==, "proxy");
}

static void
test_builtin (void)
{
  g_autoptr (GPtrArray) paths = ts_lab_scenario_list_builtin ();
  const char *want[] = { "direct",
                         "direct-blocked",
                         "http-forward",
                         "connect",
                         "connect-tls12",
                         "connect-chain",
                         "intercept",
                         "intercept-untrusted",
                         "intercept-pinned",
                         "websocket-over-connect",
                         "connect-port-25-denied",
                         "udp-through-connect-fails" };

  g_assert_cmpuint (paths->len, >=, G_N_ELEMENTS (want));
  for (gsize i = 0; i < G_N_ELEMENTS (want); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *path = ts_lab_scenario_find (want[i], &error);
      g_autoptr (TsLabScenario) s = NULL;
      g_autoptr (TsLabPlan) plan = NULL;

      g_assert_no_error (error);
      s = ts_lab_scenario_new_from_file (path, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (s->name, ==, want[i]);
      g_assert_cmpuint (s->expects->len, >=, 1);
      plan = ts_lab_plan_new (s, &error);
      g_assert_no_error (error);
      /* Played by our own actors: ts-server is the origin, ts-proxy every
       * proxy, and every step is ts-client (the lessons read its report). */
      g_assert_cmpuint (s->actors->len, >=, 1);
      for (guint k = 0; k < s->actors->len; k++)
        {
          TsLabActor *a = s->actors->pdata[k];
          g_assert_true (g_str_has_prefix (a->command, "exec ts-server")
                         || g_str_has_prefix (a->command, "exec ts-proxy"));
        }
      for (guint k = 0; k < s->steps->len; k++)
        {
          TsLabStep *st = s->steps->pdata[k];
          g_auto (GStrv) argv = NULL;
          g_assert_true (g_shell_parse_argv (st->command, NULL, &argv, NULL));
          g_assert_cmpstr (argv[0], ==, "ts-client");
        }
    }
  {
    g_autoptr (GError) error = NULL;
    g_autofree char *path = ts_lab_scenario_find ("no-such-scenario", &error);
    g_assert_null (path);
    g_assert_error (error, TS_LAB_ERROR, TS_LAB_ERROR_NOT_FOUND);
    g_assert_true (g_str_has_prefix (error->message, "no scenario 'no-such-scenario' (looked in "));
  }
}

/* Each bad input and its exact message. */
static const struct
{
  const char *text;
  const char *message;
} bad[] = {
  { "[node a]\n", "bad.scenario:1: no [scenario] section (it holds the description)" },
  { "[scenario]\n",
    "bad.scenario:1: [scenario] needs 'description = ...' (one line for 'tscope list')" },
  { "key = value\n", "bad.scenario:1: 'key = value' before any [section]" },
  { "[scenario]\ndescription = d\njust words\n",
    "bad.scenario:3: expected 'key = value', a '[section]' or a '# comment'" },
  { "[scenario]\ndescription = d\n[nodes a]\n",
    "bad.scenario:3: unknown section '[nodes]' (expected scenario, vars, node, link, actor, "
    "step, expect or file)" },
  { "[scenario]\ndescription = d\n[node]\n",
    "bad.scenario:3: section '[node]' needs exactly one name: [node NAME]" },
  { "[scenario]\ndescription = d\n[node a\n",
    "bad.scenario:3: a section header must be '[TYPE NAME]' on a line of its own" },
  { "[scenario]\ndescription = d\n[node a]\n[node a]\n",
    "bad.scenario:4: [node a] given twice (first at line 3)" },
  { "[scenario]\ndescription = d\n[node a]\nrole = x\nrole = y\n",
    "bad.scenario:5: key 'role' given twice (first at line 4)" },
  { "[scenario]\ndescription = d\n[node a]\ncolour = red\n",
    "bad.scenario:4: unknown key 'colour' in [node a] (known: role, names, trust, forward)" },
  { "[scenario]\ndescription = d\n", "bad.scenario:1: no [node NAME] sections: a lab needs nodes" },
  { "[scenario]\ndescription = d\n[node 1a]\n",
    "bad.scenario:3: bad node name '1a': a letter, then letters, digits or '-'; at most 12" },
  { "[scenario]\ndescription = d\n[node averyveryverylongname]\n",
    "bad.scenario:3: bad node name 'averyveryverylongname': a letter, then letters, digits or '-'; "
    "at most 12" },
  { "[scenario]\ndescription = d\n[node a]\n[node b]\n[link a-c]\n",
    "bad.scenario:5: link 'a-c': a link is named by its two nodes, 'A-B', and each must be a "
    "[node]" },
  { "[scenario]\ndescription = d\n[node a]\n[node b]\n[link a-b]\n[link b-a]\n",
    "bad.scenario:6: link 'b-a' joins the same nodes as link 'a-b' (line 5)" },
  { "[scenario]\ndescription = d\n[node a]\n[node b]\n[link a-b]\ndelay = fast\n",
    "bad.scenario:6: link a-b: delay = 'fast': expected a duration like 50ms" },
  { "[scenario]\ndescription = d\n[node a]\n[node b]\n[link a-b]\nloss = 200%\n",
    "bad.scenario:6: link a-b: loss = '200%': expected a percentage like 1% or a fraction like "
    "0.01" },
  { "[scenario]\ndescription = d\n[node a]\n[node b]\n[link a-b]\nrate = 10mbps\n",
    "bad.scenario:6: link a-b: rate = '10mbps': expected a rate like 10mbit" },
  /* A zero rate would mean no limit: refused, not taken for one. */
  { "[scenario]\ndescription = d\n[node a]\n[node b]\n[link a-b]\nrate = 0mbit\n",
    "bad.scenario:6: link a-b: rate = '0mbit': a rate must be at least 1bit (no rate key: no "
    "limit)" },
  { "[scenario]\ndescription = d\n[node a]\n[node b]\n[link a-b]\nrate = 0.5bit\n",
    "bad.scenario:6: link a-b: rate = '0.5bit': a rate must be at least 1bit (no rate key: no "
    "limit)" },
  { "[scenario]\ndescription = d\n[node a]\n[node b]\n[link a-b]\nmtu = 100\n",
    "bad.scenario:6: link a-b: mtu = '100': expected a number from 1280 to 9000" },
  { "[scenario]\ndescription = d\n[node a]\n[node b]\n[link a-b]\ndelay = 1ms\njitter = 2ms\n",
    "bad.scenario:7: link a-b: jitter is larger than the delay" },
  { "[scenario]\ndescription = d\n[node a]\n[node b]\n[link a-b]\noffload = yes\n",
    "bad.scenario:6: link a-b: offload = yes needs capture = no" },
  { "[scenario]\ndescription = d\n[node a]\n[node b]\n[link a-b]\ncapture = no\ndelay = "
    "1ms\noffload = yes\n",
    "bad.scenario:8: link a-b: offload = yes cannot go with delay, jitter, loss or rate" },
  { "[scenario]\ndescription = d\n[node a]\n[node b]\n[link a-b]\noffload = sometimes\n",
    "bad.scenario:6: link a-b: offload = 'sometimes': expected yes or no" },
  { "[scenario]\ndescription = d\n[node a]\n[node b]\n",
    "bad.scenario:3: node a has no link (add [link a-OTHER])" },
  { "[scenario]\ndescription = d\n[node a]\n[actor x]\nnode = b\ncommand = true\n",
    "bad.scenario:5: actor x: unknown node 'b'" },
  { "[scenario]\ndescription = d\n[node a]\n[actor x]\nnode = a\n",
    "bad.scenario:4: [actor x] needs 'command = ...'" },
  { "[scenario]\ndescription = d\n[node a]\n[actor x]\nnode = a\ncommand = true\nready = 443\n",
    "bad.scenario:7: actor x: ready = '443': expected tcp:PORT" },
  { "[scenario]\ndescription = d\n[node a]\n[step s]\nnode = a\ncommand = true\ntimeout = 0\n",
    "bad.scenario:7: step s: timeout = '0': expected a duration like 10s" },
  { "[scenario]\ndescription = d\n[node a]\n[expect e]\nstep = s\nexit = 0\n",
    "bad.scenario:5: expect e: unknown step 's'" },
  { "[scenario]\ndescription = d\n[node a]\n[step s]\nnode = a\ncommand = true\n[expect e]\nstep = "
    "s\nexit = maybe\n",
    "bad.scenario:9: expect e: exit = 'maybe': expected 0, nonzero, or a code from 1 to 255" },
  { "[scenario]\ndescription = d\n[node a]\n[expect e]\ndescription = nothing\n",
    "bad.scenario:4: expect e: says nothing to check (give 'step' with 'exit' or "
    "'output-contains', or 'event')" },
  { "[scenario]\ndescription = d\n[node a]\n[file f]\nnode = a\ntext = <<END\nline\n",
    "bad.scenario:6: here-document 'text' is never closed by a line 'END'" },
  { "[scenario]\ndescription = d\n[node a]\nnames = google.com\n",
    "bad.scenario:4: node a: name 'google.com' is not a lab name (NAME.test, example.com or "
    "*.example.com)" },
  { "[scenario]\ndescription = d\n[node a]\ntrust = everyone\n",
    "bad.scenario:4: node a: trust 'everyone': expected web and/or intercept" },
  { "[scenario]\ndescription = d\n[node a]\n[file ../etc/passwd]\n",
    "bad.scenario:4: bad name '../etc/passwd' (letters, digits, '-', '_', '.'; at most 64)" },
  { "[scenario]\ndescription = d\0x\n",
    "bad.scenario: not a text file (NUL byte or invalid UTF-8)" },
};

static void
test_bad (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      gsize len = strlen (bad[i].text);
      g_autoptr (TsLabScenario) s = NULL;

      if (strstr (bad[i].message, "NUL") != NULL)
        len += 3; /* the embedded NUL case */
      s = ts_lab_scenario_new_from_data ("dir/bad.scenario", bad[i].text, len, NULL, &error);
      g_test_message ("case %" G_GSIZE_FORMAT ": %s", i,
                      error != NULL ? error->message : "(no error)");
      g_assert_null (s);
      g_assert_nonnull (error);
      g_assert_true (error->domain == TS_LAB_ERROR);
      g_assert_cmpstr (error->message, ==, bad[i].message);
    }
}

/* The caps on what a file controls. */
static void
test_caps (void)
{
  g_autoptr (GString) many = g_string_new ("[scenario]\ndescription = d\n");
  g_autoptr (GString) keys = g_string_new ("[scenario]\ndescription = d\n[vars]\n");
  g_autoptr (GError) error = NULL;
  g_autoptr (TsLabScenario) s = NULL;

  for (int i = 0; i < TS_LAB_SCENARIO_MAX_SECTIONS; i++)
    g_string_append_printf (many, "[step s%d]\n", i);
  s = ts_lab_scenario_new_from_data ("caps.scenario", many->str, -1, NULL, &error);
  g_assert_null (s);
  g_assert_cmpstr (error->message, ==, "caps.scenario:514: more than 512 sections");
  g_clear_error (&error);
  for (int i = 0; i <= TS_LAB_SCENARIO_MAX_KEYS; i++)
    g_string_append_printf (keys, "v%d = 1\n", i);
  s = ts_lab_scenario_new_from_data ("caps.scenario", keys->str, -1, NULL, &error);
  g_assert_null (s);
  g_assert_cmpstr (error->message, ==, "caps.scenario:68: more than 64 keys in one section");
}

static const char two[]
    = "[scenario]\ndescription = d\n[node client]\nrole = client\n[node server]\nrole = server\n"
      "[link client-server]\n[step s]\nnode = client\ncommand = true\n";

static void
test_set (void)
{
  const char *sets[]
      = { "link.client-server.delay=25ms", "scenario.ipv6=no", "step.s.command=false", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (TsLabScenario) s
      = ts_lab_scenario_new_from_data ("two.scenario", two, -1, sets, &error);
  const struct
  {
    const char *set;
    const char *message;
  } bad_sets[] = {
    { "link.client-server.delay", "--set link.client-server.delay: expected KEY=VALUE" },
    { "link.nope.delay=1ms", "--set link.nope.delay: the scenario has no [link nope]" },
    { "link.client-server.colour=red",
      "--set link.client-server.colour: unknown key 'colour' for a link (known: delay, jitter, "
      "loss, rate, mtu, subnet4, subnet6, capture, offload)" },
    { "delay=1ms",
      "--set delay: expected scenario.KEY or TYPE.NAME.KEY (e.g. link.client-proxy.delay=50ms)" },
    /* A bad value given with --set is the --set's fault, not the file's. */
    { "link.client-server.delay=soon",
      "--set link.client-server.delay: link client-server: delay = 'soon': expected a duration "
      "like 50ms" },
    { "link.client-server.rate=0mbit",
      "--set link.client-server.rate: link client-server: rate = '0mbit': a rate must be at "
      "least 1bit (no rate key: no limit)" },
    { "step.s.node=nowhere", "--set step.s.node: step s: unknown node 'nowhere'" },
  };

  g_assert_no_error (error);
  g_assert_cmpuint (ts_lab_scenario_get_link (s, "client-server")->delay_ns, ==, 25000000);
  g_assert_false (s->ipv6);
  g_assert_cmpstr (ts_lab_scenario_get_step (s, "s")->command, ==, "false");
  for (gsize i = 0; i < G_N_ELEMENTS (bad_sets); i++)
    {
      const char *one[] = { bad_sets[i].set, NULL };
      g_autoptr (GError) e = NULL;
      g_autoptr (TsLabScenario) t
          = ts_lab_scenario_new_from_data ("two.scenario", two, -1, one, &e);
      g_assert_null (t);
      g_assert_cmpstr (e->message, ==, bad_sets[i].message);
      /* tscope exits 2 for it: bad usage. */
      g_assert_error (e, TS_LAB_ERROR, TS_LAB_ERROR_USAGE);
    }
}

static void
test_vars (void)
{
  static const char text[] = "[scenario]\ndescription = d\n[vars]\ntls = 1.3\nport = 443\n"
                             "[node client]\n[step s]\nnode = client\n"
                             "command = curl --tls-max {{tls}} https://example.com:{{port}}/\n";
  const char *sets[] = { "vars.tls=1.2", NULL };
  const char *unknown[] = { "vars.colour=red", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (TsLabScenario) s
      = ts_lab_scenario_new_from_data ("v.scenario", text, -1, NULL, &error);
  g_autoptr (TsLabScenario) t = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (ts_lab_scenario_get_step (s, "s")->command, ==,
                   "curl --tls-max 1.3 https://example.com:443/");
  t = ts_lab_scenario_new_from_data ("v.scenario", text, -1, sets, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (ts_lab_scenario_get_step (t, "s")->command, ==,
                   "curl --tls-max 1.2 https://example.com:443/");
  g_clear_pointer (&t, ts_lab_scenario_free);
  t = ts_lab_scenario_new_from_data ("v.scenario", text, -1, unknown, &error);
  g_assert_null (t);
  g_assert_cmpstr (error->message, ==,
                   "--set vars.colour: the scenario has no variable 'colour' in its [vars]");
  g_clear_error (&error);
  {
    /* A variable set to a bad value: the --set is named, not the line using it. */
    static const char timed[] = "[scenario]\ndescription = d\n[vars]\nwait = 1s\n"
                                "[node client]\n[step s]\nnode = client\ncommand = true\n"
                                "timeout = {{wait}}\n";
    const char *bad_wait[] = { "vars.wait=long", NULL };

    t = ts_lab_scenario_new_from_data ("v.scenario", timed, -1, bad_wait, &error);
    g_assert_null (t);
    g_assert_error (error, TS_LAB_ERROR, TS_LAB_ERROR_USAGE);
    g_assert_cmpstr (error->message, ==,
                     "--set vars.wait: step s: timeout = 'long': expected a duration like 10s");
    g_clear_error (&error);
  }
  t = ts_lab_scenario_new_from_data (
      "v.scenario",
      "[scenario]\ndescription = d\n[node a]\n[step s]\nnode = a\ncommand = echo {{nope}}\n", -1,
      NULL, &error);
  g_assert_null (t);
  g_assert_cmpstr (error->message, ==,
                   "v.scenario:6: unknown variable '{{nope}}' (declare it in [vars])");
  g_clear_error (&error);
  t = ts_lab_scenario_new_from_data ("v.scenario", "[scenario]\ndescription = d\n[vars]\nTLS = 1\n",
                                     -1, NULL, &error);
  g_assert_null (t);
  g_assert_cmpstr (
      error->message, ==,
      "v.scenario:4: bad variable name 'TLS' (lower-case letters, digits, '_'; at most 32)");
  g_clear_error (&error);
  t = ts_lab_scenario_new_from_data ("v.scenario", "[scenario]\ndescription = d\n[vars x]\n", -1,
                                     NULL, &error);
  g_assert_null (t);
  g_assert_cmpstr (error->message, ==, "v.scenario:3: [vars] takes no name");
}

static void
test_units (void)
{
  guint64 v;

  g_assert_true (ts_lab_parse_duration ("50ms", &v) && v == 50000000);
  g_assert_true (ts_lab_parse_duration ("1.5s", &v) && v == 1500000000);
  g_assert_true (ts_lab_parse_duration ("200us", &v) && v == 200000);
  g_assert_true (ts_lab_parse_duration ("0", &v) && v == 0);
  g_assert_false (ts_lab_parse_duration ("5", &v));
  g_assert_false (ts_lab_parse_duration ("-5ms", &v));
  g_assert_false (ts_lab_parse_duration ("ms", &v));
  g_assert_true (ts_lab_parse_rate ("10mbit", &v) && v == 10000000);
  g_assert_true (ts_lab_parse_rate ("64kbit", &v) && v == 64000);
  g_assert_false (ts_lab_parse_rate ("10MB", &v));
}

static TsLabPlan *
plan_for (const char *text, TsLabScenario **out_s, GError **error)
{
  *out_s = ts_lab_scenario_new_from_data ("plan.scenario", text, -1, NULL, error);
  if (*out_s == NULL)
    return NULL;
  return ts_lab_plan_new (*out_s, error);
}

static void
test_plan_connect (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = ts_lab_scenario_find ("connect", &error);
  g_autoptr (TsLabScenario) s = ts_lab_scenario_new_from_file (path, NULL, &error);
  g_autoptr (TsLabPlan) plan = ts_lab_plan_new (s, &error);
  TsLabPlanLink *cp, *ps;
  TsLabPlanNode *client, *server;
  TsLabPlanRoute *r;
  g_autofree char *json = NULL;

  g_assert_no_error (error);
  cp = plan->links->pdata[0];
  ps = plan->links->pdata[1];
  g_assert_cmpstr (cp->subnet4, ==, "192.0.2.0/24");
  g_assert_cmpstr (cp->ends[0].addr4, ==, "192.0.2.1");
  g_assert_cmpstr (cp->ends[1].addr4, ==, "192.0.2.2");
  g_assert_cmpstr (cp->ends[0].ifname, ==, "proxy");
  g_assert_cmpstr (cp->ends[1].ifname, ==, "client");
  g_assert_cmpstr (cp->subnet6, ==, "2001:db8:1::/64");
  g_assert_cmpstr (cp->ends[0].addr6, ==, "2001:db8:1::1");
  g_assert_cmpstr (ps->subnet4, ==, "203.0.113.0/24");
  g_assert_cmpstr (ps->ends[1].addr4, ==, "203.0.113.2");
  g_assert_cmpstr (ps->ends[1].addr6, ==, "2001:db8:2::2");
  g_assert_false (cp->wire);

  /* The client reaches the server's subnet only via the proxy. */
  client = ts_lab_plan_get_node (plan, "client");
  g_assert_cmpuint (client->routes->len, ==, 2);
  r = client->routes->pdata[0];
  g_assert_cmpstr (r->dest, ==, "203.0.113.0/24");
  g_assert_cmpstr (r->via, ==, "192.0.2.2");
  g_assert_cmpstr (r->dev, ==, "proxy");
  r = client->routes->pdata[1];
  g_assert_cmpstr (r->dest, ==, "2001:db8:2::/64");
  g_assert_cmpstr (r->via, ==, "2001:db8:1::2");
  g_assert_true (r->ipv6);
  server = ts_lab_plan_get_node (plan, "server");
  r = server->routes->pdata[0];
  g_assert_cmpstr (r->dest, ==, "192.0.2.0/24");
  g_assert_cmpstr (r->via, ==, "203.0.113.1");
  g_assert_cmpuint (ts_lab_plan_get_node (plan, "proxy")->routes->len, ==, 0);

  /* Names: each node sees a target at its nearest address. */
  g_assert_nonnull (
      strstr (client->hosts, "203.0.113.2\tserver.test server example.com www.example.com\n"));
  g_assert_nonnull (strstr (client->hosts, "192.0.2.2\tproxy.test proxy\n"));
  g_assert_nonnull (
      strstr (client->hosts, "2001:db8:2::2\tserver.test server example.com www.example.com\n"));
  g_assert_nonnull (strstr (server->hosts, "203.0.113.1\tproxy.test proxy\n"));
  g_assert_nonnull (strstr (server->hosts, "192.0.2.1\tclient.test client\n"));
  g_assert_cmpstr (ts_lab_plan_get_address (plan, "proxy", 4), ==, "192.0.2.2");

  json = ts_lab_plan_to_json (plan, "lab1", FALSE);
  g_assert_nonnull (strstr (json, "\"lab\":\"lab1\""));
  g_assert_nonnull (strstr (json, "\"captured_end\":\"client\""));
}

static void
test_plan_chain (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = ts_lab_scenario_find ("connect-chain", &error);
  g_autoptr (TsLabScenario) s = ts_lab_scenario_new_from_file (path, NULL, &error);
  g_autoptr (TsLabPlan) plan = ts_lab_plan_new (s, &error);
  TsLabPlanNode *client;

  g_assert_no_error (error);
  g_assert_cmpstr (((TsLabPlanLink *)plan->links->pdata[0])->subnet4, ==, "192.0.2.0/24");
  g_assert_cmpstr (((TsLabPlanLink *)plan->links->pdata[1])->subnet4, ==, "198.51.100.0/24");
  g_assert_cmpstr (((TsLabPlanLink *)plan->links->pdata[2])->subnet4, ==, "203.0.113.0/24");
  client = ts_lab_plan_get_node (plan, "client");
  g_assert_cmpuint (client->routes->len, ==, 4);
  for (guint i = 0; i < client->routes->len; i++)
    {
      TsLabPlanRoute *r = client->routes->pdata[i];
      g_assert_cmpstr (r->via, ==, r->ipv6 ? "2001:db8:1::2" : "192.0.2.2");
    }
  /* proxy2 reaches the client's subnet via proxy1. */
  g_assert_cmpstr (((TsLabPlanRoute *)ts_lab_plan_get_node (plan, "proxy2")->routes->pdata[0])->via,
                   ==, "198.51.100.1");
  g_assert_nonnull (strstr (client->hosts, "198.51.100.2\tproxy2.test proxy2\n"));
}

static void
test_plan_many (void)
{
  g_autoptr (GString) text = g_string_new ("[scenario]\ndescription = d\nipv6 = no\n");
  g_autoptr (GError) error = NULL;
  g_autoptr (TsLabScenario) s = NULL;
  g_autoptr (TsLabPlan) plan = NULL;

  for (int i = 0; i < 6; i++)
    g_string_append_printf (text, "[node n%d]\n", i);
  for (int i = 0; i < 5; i++)
    g_string_append_printf (text, "[link n%d-n%d]\n", i, i + 1);
  plan = plan_for (text->str, &s, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (((TsLabPlanLink *)plan->links->pdata[0])->subnet4, ==, "192.0.2.0/28");
  g_assert_cmpstr (((TsLabPlanLink *)plan->links->pdata[4])->subnet4, ==, "192.0.2.64/28");
  g_assert_cmpstr (((TsLabPlanLink *)plan->links->pdata[4])->ends[1].addr4, ==, "192.0.2.66");
  g_assert_null (((TsLabPlanLink *)plan->links->pdata[0])->subnet6);
  /* n0 reaches n5's link through n1. */
  g_assert_cmpuint (ts_lab_plan_get_node (plan, "n0")->routes->len, ==, 4);
}

static void
test_plan_errors (void)
{
  const struct
  {
    const char *links;
    const char *message;
  } cases[] = {
    { "[link a-b]\nsubnet4 = 10.0.0.0/24\n",
      "plan.scenario:5: link a-b: subnet4 10.0.0.0/24 is outside the documentation ranges "
      "(192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24)" },
    { "[link a-b]\nsubnet4 = 192.0.2.0\n",
      "plan.scenario:5: link a-b: subnet4 = '192.0.2.0': expected an IPv4 network like "
      "192.0.2.0/24 (prefix 8 to 30)" },
    { "[link a-b]\nsubnet4 = 192.0.2.0/28\n[link b-c]\nsubnet4 = 192.0.2.8/29\n",
      "plan.scenario:7: link b-c: its IPv4 subnet collides with link a-b's (line 5)" },
    { "[link a-b]\nsubnet6 = fd00::/64\n", "plan.scenario:5: link a-b: subnet6 fd00::/64 is "
                                           "outside the documentation range 2001:db8::/32" },
    { "[link a-b]\nsubnet6 = 2001:db8:5::/64\n[link b-c]\nsubnet6 = 2001:db8:5::/48\n",
      "plan.scenario:7: link b-c: its IPv6 subnet collides with link a-b's (line 5)" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text
          = g_strdup_printf ("[scenario]\ndescription = d\n[node a]\n[node b]\n%s[node c]\n%s",
                             cases[i].links, strstr (cases[i].links, "b-c") ? "" : "[link a-c]\n");
      g_autoptr (GError) error = NULL;
      g_autoptr (TsLabScenario) s = NULL;
      g_autoptr (TsLabPlan) plan = plan_for (text, &s, &error);
      g_assert_null (plan);
      g_assert_nonnull (error);
      g_assert_cmpstr (error->message, ==, cases[i].message);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ts/lab/scenario/good", test_good);
  g_test_add_func ("/ts/lab/scenario/builtin", test_builtin);
  g_test_add_func ("/ts/lab/scenario/bad", test_bad);
  g_test_add_func ("/ts/lab/scenario/set", test_set);
  g_test_add_func ("/ts/lab/scenario/vars", test_vars);
  g_test_add_func ("/ts/lab/scenario/caps", test_caps);
  g_test_add_func ("/ts/lab/scenario/units", test_units);
  g_test_add_func ("/ts/lab/plan/connect", test_plan_connect);
  g_test_add_func ("/ts/lab/plan/chain", test_plan_chain);
  g_test_add_func ("/ts/lab/plan/many", test_plan_many);
  g_test_add_func ("/ts/lab/plan/errors", test_plan_errors);
  return g_test_run ();
}
