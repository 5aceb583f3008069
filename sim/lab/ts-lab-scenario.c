/* ts-lab-scenario.c: parses and checks scenario files, with file:line in every error.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "ts-lab-scenario.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ts-lab-error.h"

G_DEFINE_QUARK (ts - lab - error - quark, ts_lab_error)

/* The generic layer: groups of key = value with the line of each, before
 * they are given meaning. GKeyFile loses line numbers, hence our own. */
typedef struct
{
  char *key;
  char *value;
  guint line; /* 0: from --set */
  char *set;  /* the --set KEY that gave the value (or a variable in it); NULL: the file */
  gboolean used;
} Entry;

typedef struct
{
  char *type; /* "node" */
  char *name; /* "client", or NULL for [scenario] */
  guint line;
  GPtrArray *entries; /* Entry */
} Group;

static void
entry_free (Entry *e)
{
  g_free (e->key);
  g_free (e->value);
  g_free (e->set);
  g_free (e);
}

static void
group_free (Group *g)
{
  g_free (g->type);
  g_free (g->name);
  g_ptr_array_unref (g->entries);
  g_free (g);
}

static const char *const group_types[]
    = { "scenario", "vars", "node", "link", "actor", "step", "expect", "file", NULL };

/* Keys each group type accepts, for "unknown key" errors. */
static const char *const scenario_keys[] = { "name", "description", "ipv6", NULL };
static const char *const node_keys[] = { "role", "names", "trust", "forward", NULL };
static const char *const link_keys[] = { "delay",   "jitter",  "loss",    "rate",    "mtu",
                                         "subnet4", "subnet6", "capture", "offload", NULL };
static const char *const actor_keys[] = { "node", "command", "ready", NULL };
static const char *const step_keys[] = { "node", "command", "timeout", "pause", NULL };
static const char *const expect_keys[]
    = { "description", "step",   "exit", "output-contains", "output-lacks", "event",
        "event-node",  "absent", NULL };
static const char *const file_keys[] = { "node", "text", NULL };

/* [scenario] and [vars] have no name. */
static gboolean
unnamed_type (const char *type)
{
  return g_str_equal (type, "scenario") || g_str_equal (type, "vars");
}

static gboolean
valid_var (const char *name)
{
  gsize n = strlen (name);

  if (n == 0 || n > 32)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_islower (name[i]) && !g_ascii_isdigit (name[i]) && name[i] != '_')
      return FALSE;
  return TRUE;
}

static const char *const *
keys_for_type (const char *type)
{
  if (g_str_equal (type, "scenario"))
    return scenario_keys;
  if (g_str_equal (type, "node"))
    return node_keys;
  if (g_str_equal (type, "link"))
    return link_keys;
  if (g_str_equal (type, "actor"))
    return actor_keys;
  if (g_str_equal (type, "step"))
    return step_keys;
  if (g_str_equal (type, "expect"))
    return expect_keys;
  return file_keys;
}

static gboolean
valid_name (const char *name, gsize max)
{
  gsize n = strlen (name);

  if (n == 0 || n > max || !g_ascii_isalnum (name[0]))
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isalnum (name[i]) && name[i] != '-' && name[i] != '_' && name[i] != '.')
      return FALSE;
  return TRUE;
}

static void set_error_at (GError **error, int code, const char *path, guint line,
                          const char *format, ...) G_GNUC_PRINTF (5, 6);

static void
set_error_at (GError **error, int code, const char *path, guint line, const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;
  g_autofree char *base = g_path_get_basename (path);

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  if (line > 0)
    g_set_error (error, TS_LAB_ERROR, code, "%s:%u: %s", base, line, message);
  else
    g_set_error (error, TS_LAB_ERROR, code, "%s: %s", base, message);
}

static Group *
find_group (GPtrArray *groups, const char *type, const char *name)
{
  for (guint i = 0; i < groups->len; i++)
    {
      Group *g = groups->pdata[i];
      if (g_str_equal (g->type, type) && g_strcmp0 (g->name, name) == 0)
        return g;
    }
  return NULL;
}

static Entry *
find_entry (Group *g, const char *key)
{
  for (guint i = 0; i < g->entries->len; i++)
    {
      Entry *e = g->entries->pdata[i];
      if (g_str_equal (e->key, key))
        return e;
    }
  return NULL;
}

/* Splits the text into groups; syntax errors only. */
static GPtrArray *
parse_groups (const char *path, const char *text, gsize len, GError **error)
{
  g_autoptr (GPtrArray) groups = g_ptr_array_new_with_free_func ((GDestroyNotify)group_free);
  g_auto (GStrv) lines = NULL;
  g_auto (GStrv) raw = NULL;
  g_autofree char *copy = NULL;
  Group *current = NULL;

  if (len > TS_LAB_SCENARIO_MAX_BYTES)
    {
      set_error_at (error, TS_LAB_ERROR_PARSE, path, 0,
                    "file of %" G_GSIZE_FORMAT " bytes is over the cap of %d", len,
                    TS_LAB_SCENARIO_MAX_BYTES);
      return NULL;
    }
  if (memchr (text, '\0', len) != NULL || !g_utf8_validate (text, len, NULL))
    {
      set_error_at (error, TS_LAB_ERROR_PARSE, path, 0,
                    "not a text file (NUL byte or invalid UTF-8)");
      return NULL;
    }
  copy = g_strndup (text, len);
  lines = g_strsplit (copy, "\n", -1);
  /* Here-documents are read from the lines as they were, not stripped;
   * split once, not once per here-document. */
  raw = g_strsplit (copy, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      guint lineno = i + 1;
      char *line = g_strstrip (lines[i]);
      char *eq;

      if (line[0] == '\0' || line[0] == '#' || line[0] == ';')
        continue;
      if (line[0] == '[')
        {
          char *end = strchr (line, ']');
          g_auto (GStrv) words = NULL;
          Group *g;

          if (end == NULL || end[1] != '\0')
            {
              set_error_at (error, TS_LAB_ERROR_PARSE, path, lineno,
                            "a section header must be '[TYPE NAME]' on a line of its own");
              return NULL;
            }
          *end = '\0';
          words = g_strsplit_set (g_strstrip (line + 1), " \t", -1);
          {
            /* Drop empty words from runs of blanks. */
            guint n = 0;
            for (guint w = 0; words[w] != NULL; w++)
              if (words[w][0] != '\0')
                words[n++] = words[w];
              else
                g_free (words[w]);
            words[n] = NULL;
          }
          if (words[0] == NULL || !g_strv_contains (group_types, words[0]))
            {
              set_error_at (error, TS_LAB_ERROR_PARSE, path, lineno,
                            "unknown section '[%s]' (expected scenario, vars, node, link, actor, "
                            "step, expect or file)",
                            words[0] != NULL ? words[0] : "");
              return NULL;
            }
          if (unnamed_type (words[0]) ? words[1] != NULL : (words[1] == NULL || words[2] != NULL))
            {
              set_error_at (error, TS_LAB_ERROR_PARSE, path, lineno,
                            unnamed_type (words[0])
                                ? "[%s] takes no name"
                                : "section '[%s]' needs exactly one name: [%s NAME]",
                            words[0], words[0]);
              return NULL;
            }
          if (words[1] != NULL && !valid_name (words[1], 64))
            {
              set_error_at (error, TS_LAB_ERROR_PARSE, path, lineno,
                            "bad name '%s' (letters, digits, '-', '_', '.'; at most 64)", words[1]);
              return NULL;
            }
          if ((g = find_group (groups, words[0], words[1])) != NULL)
            {
              set_error_at (error, TS_LAB_ERROR_PARSE, path, lineno,
                            "[%s%s%s] given twice (first at line %u)", words[0],
                            words[1] ? " " : "", words[1] ? words[1] : "", g->line);
              return NULL;
            }
          if (groups->len >= TS_LAB_SCENARIO_MAX_SECTIONS)
            {
              set_error_at (error, TS_LAB_ERROR_PARSE, path, lineno, "more than %d sections",
                            TS_LAB_SCENARIO_MAX_SECTIONS);
              return NULL;
            }
          current = g_new0 (Group, 1);
          current->type = g_strdup (words[0]);
          current->name = g_strdup (words[1]);
          current->line = lineno;
          current->entries = g_ptr_array_new_with_free_func ((GDestroyNotify)entry_free);
          g_ptr_array_add (groups, current);
          continue;
        }
      eq = strchr (line, '=');
      if (eq == NULL)
        {
          set_error_at (error, TS_LAB_ERROR_PARSE, path, lineno,
                        "expected 'key = value', a '[section]' or a '# comment'");
          return NULL;
        }
      if (current == NULL)
        {
          set_error_at (error, TS_LAB_ERROR_PARSE, path, lineno,
                        "'key = value' before any [section]");
          return NULL;
        }
      *eq = '\0';
      {
        Entry *e;
        char *key = g_strstrip (line);
        char *value = g_strstrip (eq + 1);
        const char *const *known = keys_for_type (current->type);

        if (g_str_equal (current->type, "vars") && !valid_var (key))
          {
            set_error_at (error, TS_LAB_ERROR_PARSE, path, lineno,
                          "bad variable name '%s' (lower-case letters, digits, '_'; at most 32)",
                          key);
            return NULL;
          }
        if (!g_str_equal (current->type, "vars") && !g_strv_contains (known, key))
          {
            g_autofree char *list = g_strjoinv (", ", (char **)known);
            set_error_at (error, TS_LAB_ERROR_PARSE, path, lineno,
                          "unknown key '%s' in [%s%s%s] (known: %s)", key, current->type,
                          current->name ? " " : "", current->name ? current->name : "", list);
            return NULL;
          }
        if ((e = find_entry (current, key)) != NULL)
          {
            set_error_at (error, TS_LAB_ERROR_PARSE, path, lineno,
                          "key '%s' given twice (first at line %u)", key, e->line);
            return NULL;
          }
        if (current->entries->len >= TS_LAB_SCENARIO_MAX_KEYS)
          {
            set_error_at (error, TS_LAB_ERROR_PARSE, path, lineno,
                          "more than %d keys in one section", TS_LAB_SCENARIO_MAX_KEYS);
            return NULL;
          }
        e = g_new0 (Entry, 1);
        e->key = g_strdup (key);
        e->line = lineno;
        if (g_str_has_prefix (value, "<<"))
          {
            /* A here-document: the lines up to a line holding only the
             * marker, kept verbatim (we split on the original text). */
            const char *marker = value + 2;
            g_autoptr (GString) body = g_string_new (NULL);
            guint j;

            if (!valid_name (marker, 32))
              {
                entry_free (e);
                set_error_at (error, TS_LAB_ERROR_PARSE, path, lineno,
                              "a here-document needs a marker: '%s = <<END'", key);
                return NULL;
              }
            for (j = i + 1; raw[j] != NULL; j++)
              {
                g_autofree char *stripped = g_strstrip (g_strdup (raw[j]));
                if (g_str_equal (stripped, marker))
                  break;
                g_string_append (body, raw[j]);
                g_string_append_c (body, '\n');
              }
            if (raw[j] == NULL)
              {
                entry_free (e);
                set_error_at (error, TS_LAB_ERROR_PARSE, path, lineno,
                              "here-document '%s' is never closed by a line '%s'", key, marker);
                return NULL;
              }
            e->value = g_string_free (g_steal_pointer (&body), FALSE);
            i = j;
          }
        else
          e->value = g_strdup (value);
        g_ptr_array_add (current->entries, e);
      }
    }
  return g_steal_pointer (&groups);
}

/* --set KEY=VALUE: "scenario.KEY" or "TYPE.NAME.KEY"; the name may hold
 * dots, so the key is the last component. */
static gboolean
apply_set (GPtrArray *groups, const char *set, GError **error)
{
  const char *eq = strchr (set, '=');
  g_autofree char *lhs = NULL;
  const char *first_dot, *last_dot;
  g_autofree char *type = NULL, *name = NULL;
  const char *key;
  Group *g;
  Entry *e;

  if (eq == NULL)
    {
      g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_USAGE, "--set %s: expected KEY=VALUE", set);
      return FALSE;
    }
  lhs = g_strndup (set, eq - set);
  first_dot = strchr (lhs, '.');
  last_dot = strrchr (lhs, '.');
  if (first_dot == NULL)
    goto bad;
  type = g_strndup (lhs, first_dot - lhs);
  key = last_dot + 1;
  if (unnamed_type (type))
    {
      if (first_dot != last_dot)
        goto bad;
    }
  else
    {
      if (first_dot == last_dot)
        goto bad;
      name = g_strndup (first_dot + 1, last_dot - first_dot - 1);
    }
  if (!g_strv_contains (group_types, type))
    goto bad;
  if (g_str_equal (type, "vars"))
    {
      g = find_group (groups, "vars", NULL);
      if (g == NULL || find_entry (g, key) == NULL)
        {
          g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_USAGE,
                       "--set %s: the scenario has no variable '%s' in its [vars]", lhs, key);
          return FALSE;
        }
    }
  else if (!g_strv_contains (keys_for_type (type), key))
    {
      g_autofree char *list = g_strjoinv (", ", (char **)keys_for_type (type));
      g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_USAGE,
                   "--set %s: unknown key '%s' for a %s (known: %s)", lhs, key, type, list);
      return FALSE;
    }
  g = find_group (groups, type, name);
  if (g == NULL)
    {
      g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_USAGE,
                   "--set %s: the scenario has no [%s%s%s]", lhs, type, name ? " " : "",
                   name ? name : "");
      return FALSE;
    }
  e = find_entry (g, key);
  if (e == NULL)
    {
      e = g_new0 (Entry, 1);
      e->key = g_strdup (key);
      g_ptr_array_add (g->entries, e);
    }
  g_free (e->value);
  e->value = g_strdup (eq + 1);
  e->line = 0;
  g_free (e->set);
  e->set = g_steal_pointer (&lhs);
  return TRUE;

bad:
  g_set_error (
      error, TS_LAB_ERROR, TS_LAB_ERROR_USAGE,
      "--set %s: expected scenario.KEY or TYPE.NAME.KEY (e.g. link.client-proxy.delay=50ms)", lhs);
  return FALSE;
}

/* Replaces {{NAME}} in every value by the [vars] entry NAME. */
static gboolean
substitute_vars (const char *path, GPtrArray *groups, GError **error)
{
  Group *vars = find_group (groups, "vars", NULL);

  for (guint i = 0; i < groups->len; i++)
    {
      Group *g = groups->pdata[i];
      if (g == vars)
        continue;
      for (guint k = 0; k < g->entries->len; k++)
        {
          Entry *e = g->entries->pdata[k];
          g_autoptr (GString) out = NULL;
          const char *p = e->value;
          const char *open;

          if (strstr (p, "{{") == NULL)
            continue;
          out = g_string_new (NULL);
          while ((open = strstr (p, "{{")) != NULL)
            {
              const char *close = strstr (open + 2, "}}");
              g_autofree char *name = NULL;
              Entry *v;

              if (close == NULL)
                break;
              name = g_strndup (open + 2, close - open - 2);
              v = vars != NULL ? find_entry (vars, name) : NULL;
              if (v == NULL)
                {
                  set_error_at (error, TS_LAB_ERROR_PARSE, path, e->line > 0 ? e->line : g->line,
                                "unknown variable '{{%s}}' (declare it in [vars])", name);
                  return FALSE;
                }
              /* A value that a --set made wrong is the --set's fault. */
              if (v->set != NULL && e->set == NULL)
                e->set = g_strdup (v->set);
              g_string_append_len (out, p, open - p);
              g_string_append (out, v->value);
              p = close + 2;
            }
          g_string_append (out, p);
          g_free (e->value);
          e->value = g_string_free (g_steal_pointer (&out), FALSE);
        }
    }
  return TRUE;
}

gboolean
ts_lab_parse_duration (const char *text, guint64 *out_ns)
{
  char *end = NULL;
  double v;
  double mult;

  if (text == NULL || !g_ascii_isdigit (text[0]))
    return FALSE;
  v = g_ascii_strtod (text, &end);
  if (g_str_equal (end, "") && v == 0)
    mult = 0;
  else if (g_str_equal (end, "ns"))
    mult = 1;
  else if (g_str_equal (end, "us"))
    mult = 1e3;
  else if (g_str_equal (end, "ms"))
    mult = 1e6;
  else if (g_str_equal (end, "s"))
    mult = 1e9;
  else
    return FALSE;
  if (!isfinite (v) || v < 0 || v * mult > 3600e9)
    return FALSE;
  *out_ns = (guint64)(v * mult + 0.5);
  return TRUE;
}

gboolean
ts_lab_parse_rate (const char *text, guint64 *out_bps)
{
  char *end = NULL;
  double v;
  double mult;

  if (text == NULL || !g_ascii_isdigit (text[0]))
    return FALSE;
  v = g_ascii_strtod (text, &end);
  if (g_str_equal (end, "bit"))
    mult = 1;
  else if (g_str_equal (end, "kbit"))
    mult = 1e3;
  else if (g_str_equal (end, "mbit"))
    mult = 1e6;
  else if (g_str_equal (end, "gbit"))
    mult = 1e9;
  else
    return FALSE;
  if (!isfinite (v) || v < 0 || v * mult > 100e9)
    return FALSE;
  *out_bps = (guint64)(v * mult);
  return TRUE;
}

static gboolean
parse_bool (const char *text, gboolean *out)
{
  if (g_str_equal (text, "yes") || g_str_equal (text, "true") || g_str_equal (text, "on"))
    *out = TRUE;
  else if (g_str_equal (text, "no") || g_str_equal (text, "false") || g_str_equal (text, "off"))
    *out = FALSE;
  else
    return FALSE;
  return TRUE;
}

static void
node_free (TsLabNode *n)
{
  g_free (n->name);
  g_free (n->role);
  g_strfreev (n->names);
  g_strfreev (n->trust);
  g_free (n);
}

static void
link_free (TsLabLink *l)
{
  g_free (l->name);
  g_free (l->a);
  g_free (l->b);
  g_free (l->subnet4);
  g_free (l->subnet6);
  g_free (l);
}

static void
actor_free (TsLabActor *a)
{
  g_free (a->name);
  g_free (a->node);
  g_free (a->command);
  g_free (a);
}

static void
step_free (TsLabStep *s)
{
  g_free (s->name);
  g_free (s->node);
  g_free (s->command);
  g_free (s);
}

static void
expect_free (TsLabExpect *x)
{
  g_free (x->name);
  g_free (x->description);
  g_free (x->step);
  g_free (x->output_contains);
  g_free (x->output_lacks);
  g_free (x->event);
  g_free (x->event_node);
  g_free (x);
}

static void
file_free (TsLabFile *f)
{
  g_free (f->name);
  g_strfreev (f->nodes);
  g_free (f->text);
  g_free (f);
}

void
ts_lab_scenario_free (TsLabScenario *self)
{
  if (self == NULL)
    return;
  g_free (self->path);
  g_free (self->name);
  g_free (self->description);
  g_ptr_array_unref (self->nodes);
  g_ptr_array_unref (self->links);
  g_ptr_array_unref (self->actors);
  g_ptr_array_unref (self->steps);
  g_ptr_array_unref (self->expects);
  g_ptr_array_unref (self->files);
  g_free (self);
}

TsLabNode *
ts_lab_scenario_get_node (TsLabScenario *self, const char *name)
{
  for (guint i = 0; i < self->nodes->len; i++)
    if (g_str_equal (((TsLabNode *)self->nodes->pdata[i])->name, name))
      return self->nodes->pdata[i];
  return NULL;
}

TsLabLink *
ts_lab_scenario_get_link (TsLabScenario *self, const char *name)
{
  for (guint i = 0; i < self->links->len; i++)
    if (g_str_equal (((TsLabLink *)self->links->pdata[i])->name, name))
      return self->links->pdata[i];
  return NULL;
}

TsLabStep *
ts_lab_scenario_get_step (TsLabScenario *self, const char *name)
{
  for (guint i = 0; i < self->steps->len; i++)
    if (g_str_equal (((TsLabStep *)self->steps->pdata[i])->name, name))
      return self->steps->pdata[i];
  return NULL;
}

static char **
split_words (const char *value)
{
  g_auto (GStrv) words = g_strsplit_set (value, " \t,", -1);
  GPtrArray *out = g_ptr_array_new ();

  for (guint i = 0; words[i] != NULL; i++)
    if (words[i][0] != '\0')
      g_ptr_array_add (out, g_strdup (words[i]));
  g_ptr_array_add (out, NULL);
  return (char **)g_ptr_array_free (out, FALSE);
}

static void set_error_for (GError **error, const char *path, const Entry *e, guint line,
                           const char *format, ...) G_GNUC_PRINTF (5, 6);

/* An error about the value of @e (NULL: about its section, at @line): a bad
 * --set is bad usage and names the --set, not the file. */
static void
set_error_for (GError **error, const char *path, const Entry *e, guint line, const char *format,
               ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  if (e != NULL && e->set != NULL)
    g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_USAGE, "--set %s: %s", e->set, message);
  else
    set_error_at (error, TS_LAB_ERROR_INVALID, path, e != NULL ? e->line : line, "%s", message);
}

/* Shorthands for the interpretation below. */
#define FAIL(line, ...)                                                                            \
  do                                                                                               \
    {                                                                                              \
      set_error_at (error, TS_LAB_ERROR_INVALID, path, (line), __VA_ARGS__);                       \
      return NULL;                                                                                 \
    }                                                                                              \
  while (0)
/* About the value of entry @e of section @g (@e NULL: the key is missing). */
#define FAIL_AT(e, g, ...)                                                                         \
  do                                                                                               \
    {                                                                                              \
      set_error_for (error, path, (e), (g)->line, __VA_ARGS__);                                    \
      return NULL;                                                                                 \
    }                                                                                              \
  while (0)

static const char *
value_of (Group *g, const char *key, Entry **out_entry)
{
  Entry *e = find_entry (g, key);

  *out_entry = e;
  return e != NULL ? e->value : NULL;
}

/* A required key; the error names the section's line. */
#define REQUIRE(var, g, key)                                                                       \
  do                                                                                               \
    {                                                                                              \
      var = value_of ((g), (key), &e);                                                             \
      if (var == NULL || var[0] == '\0')                                                           \
        FAIL ((g)->line, "[%s %s] needs '%s = ...'", (g)->type, (g)->name, (key));                 \
    }                                                                                              \
  while (0)

TsLabScenario *
ts_lab_scenario_new_from_data (const char *path, const char *text, gssize len,
                               const char *const *sets, GError **error)
{
  g_autoptr (GPtrArray) groups = NULL;
  g_autoptr (TsLabScenario) self = NULL;
  g_autofree char *base = NULL;
  Group *scenario_group;
  Entry *e;
  const char *v;

  g_return_val_if_fail (path != NULL && text != NULL, NULL);

  if (len < 0)
    len = strlen (text);
  groups = parse_groups (path, text, len, error);
  if (groups == NULL)
    return NULL;
  for (guint i = 0; sets != NULL && sets[i] != NULL; i++)
    if (!apply_set (groups, sets[i], error))
      return NULL;
  if (!substitute_vars (path, groups, error))
    return NULL;

  self = g_new0 (TsLabScenario, 1);
  self->path = g_strdup (path);
  self->nodes = g_ptr_array_new_with_free_func ((GDestroyNotify)node_free);
  self->links = g_ptr_array_new_with_free_func ((GDestroyNotify)link_free);
  self->actors = g_ptr_array_new_with_free_func ((GDestroyNotify)actor_free);
  self->steps = g_ptr_array_new_with_free_func ((GDestroyNotify)step_free);
  self->expects = g_ptr_array_new_with_free_func ((GDestroyNotify)expect_free);
  self->files = g_ptr_array_new_with_free_func ((GDestroyNotify)file_free);
  self->ipv6 = TRUE;

  base = g_path_get_basename (path);
  if (g_str_has_suffix (base, ".scenario"))
    base[strlen (base) - strlen (".scenario")] = '\0';
  self->name = g_strdup (base);

  scenario_group = find_group (groups, "scenario", NULL);
  if (scenario_group == NULL)
    FAIL (1, "no [scenario] section (it holds the description)");
  if ((v = value_of (scenario_group, "name", &e)) != NULL)
    {
      if (!valid_name (v, 64))
        FAIL_AT (e, scenario_group, "bad scenario name '%s'", v);
      g_free (self->name);
      self->name = g_strdup (v);
    }
  if ((v = value_of (scenario_group, "description", &e)) == NULL || v[0] == '\0')
    FAIL (scenario_group->line,
          "[scenario] needs 'description = ...' (one line for 'tscope list')");
  self->description = g_strdup (v);
  if ((v = value_of (scenario_group, "ipv6", &e)) != NULL && !parse_bool (v, &self->ipv6))
    FAIL_AT (e, scenario_group, "ipv6 = '%s': expected yes or no", v);

  /* Nodes first: links, actors and steps refer to them. */
  for (guint i = 0; i < groups->len; i++)
    {
      Group *g = groups->pdata[i];
      TsLabNode *n;

      if (!g_str_equal (g->type, "node"))
        continue;
      if (self->nodes->len >= TS_LAB_MAX_NODES)
        FAIL (g->line, "more than %d nodes", TS_LAB_MAX_NODES);
      if (!valid_name (g->name, TS_LAB_MAX_NODE_NAME) || strchr (g->name, '.') != NULL
          || strchr (g->name, '_') != NULL || g_str_equal (g->name, "lo")
          || g_ascii_isdigit (g->name[0]))
        FAIL (g->line, "bad node name '%s': a letter, then letters, digits or '-'; at most %d",
              g->name, TS_LAB_MAX_NODE_NAME);
      n = g_new0 (TsLabNode, 1);
      g_ptr_array_add (self->nodes, n);
      n->name = g_strdup (g->name);
      n->line = g->line;
      n->role = g_strdup ((v = value_of (g, "role", &e)) != NULL ? v : g->name);
      n->names = split_words ((v = value_of (g, "names", &e)) != NULL ? v : "");
      for (guint k = 0; n->names[k] != NULL; k++)
        if (!valid_name (n->names[k], 253)
            || (!g_str_has_suffix (n->names[k], ".test")
                && !g_str_equal (n->names[k], "example.com")
                && !g_str_has_suffix (n->names[k], ".example.com")))
          FAIL_AT (e, g,
                   "node %s: name '%s' is not a lab name (NAME.test, example.com or *.example.com)",
                   n->name, n->names[k]);
      n->trust = split_words ((v = value_of (g, "trust", &e)) != NULL ? v : "web");
      for (guint k = 0; n->trust[k] != NULL; k++)
        if (!g_str_equal (n->trust[k], "web") && !g_str_equal (n->trust[k], "intercept"))
          FAIL_AT (e, g, "node %s: trust '%s': expected web and/or intercept", n->name,
                   n->trust[k]);
      if ((v = value_of (g, "forward", &e)) != NULL && !parse_bool (v, &n->forward))
        FAIL_AT (e, g, "forward = '%s': expected yes or no", v);
    }
  if (self->nodes->len == 0)
    FAIL (scenario_group->line, "no [node NAME] sections: a lab needs nodes");

  for (guint i = 0; i < groups->len; i++)
    {
      Group *g = groups->pdata[i];
      TsLabLink *l;
      const char *dash;

      if (!g_str_equal (g->type, "link"))
        continue;
      if (self->links->len >= TS_LAB_MAX_LINKS)
        FAIL (g->line, "more than %d links", TS_LAB_MAX_LINKS);
      l = g_new0 (TsLabLink, 1);
      g_ptr_array_add (self->links, l);
      l->name = g_strdup (g->name);
      l->line = g->line;
      l->mtu = 1500;
      l->capture = TRUE;
      /* Node names hold no '-' at the split point we choose: try each dash. */
      for (dash = strchr (g->name, '-'); dash != NULL; dash = strchr (dash + 1, '-'))
        {
          g_autofree char *a = g_strndup (g->name, dash - g->name);
          if (ts_lab_scenario_get_node (self, a) != NULL
              && ts_lab_scenario_get_node (self, dash + 1) != NULL)
            {
              l->a = g_steal_pointer (&a);
              l->b = g_strdup (dash + 1);
              break;
            }
        }
      if (l->a == NULL)
        FAIL (g->line,
              "link '%s': a link is named by its two nodes, 'A-B', and each must be a [node]",
              g->name);
      if (g_str_equal (l->a, l->b))
        FAIL (g->line, "link '%s' joins node %s to itself", g->name, l->a);
      for (guint k = 0; k + 1 < self->links->len; k++)
        {
          TsLabLink *o = self->links->pdata[k];
          if ((g_str_equal (o->a, l->a) && g_str_equal (o->b, l->b))
              || (g_str_equal (o->a, l->b) && g_str_equal (o->b, l->a)))
            FAIL (g->line, "link '%s' joins the same nodes as link '%s' (line %u)", l->name,
                  o->name, o->line);
        }
      if ((v = value_of (g, "delay", &e)) != NULL && !ts_lab_parse_duration (v, &l->delay_ns))
        FAIL_AT (e, g, "link %s: delay = '%s': expected a duration like 50ms", l->name, v);
      if ((v = value_of (g, "jitter", &e)) != NULL && !ts_lab_parse_duration (v, &l->jitter_ns))
        FAIL_AT (e, g, "link %s: jitter = '%s': expected a duration like 5ms", l->name, v);
      if (l->jitter_ns > l->delay_ns)
        FAIL_AT (e, g, "link %s: jitter is larger than the delay", l->name);
      if ((v = value_of (g, "loss", &e)) != NULL)
        {
          char *end = NULL;
          double p = g_ascii_strtod (v, &end);
          if (end != NULL && g_str_equal (end, "%"))
            p /= 100.0;
          else if (end == NULL || *end != '\0')
            p = -1;
          if (!(p >= 0 && p <= 1) || !g_ascii_isdigit (v[0]))
            FAIL_AT (e, g,
                     "link %s: loss = '%s': expected a percentage like 1%% or a fraction like 0.01",
                     l->name, v);
          l->loss = p;
        }
      if ((v = value_of (g, "rate", &e)) != NULL && !ts_lab_parse_rate (v, &l->rate_bps))
        FAIL_AT (e, g, "link %s: rate = '%s': expected a rate like 10mbit", l->name, v);
      /* rate_bps 0 means no limit: a zero rate must not pass for one. */
      if (v != NULL && l->rate_bps == 0)
        FAIL_AT (e, g, "link %s: rate = '%s': a rate must be at least 1bit (no rate key: no limit)",
                 l->name, v);
      if ((v = value_of (g, "mtu", &e)) != NULL)
        {
          guint64 mtu;
          if (!g_ascii_string_to_unsigned (v, 10, 1280, 9000, &mtu, NULL))
            FAIL_AT (e, g, "link %s: mtu = '%s': expected a number from 1280 to 9000", l->name, v);
          l->mtu = mtu;
        }
      if ((v = value_of (g, "capture", &e)) != NULL && !parse_bool (v, &l->capture))
        FAIL_AT (e, g, "capture = '%s': expected yes or no", v);
      if ((v = value_of (g, "offload", &e)) != NULL)
        {
          if (!parse_bool (v, &l->offload))
            FAIL_AT (e, g, "link %s: offload = '%s': expected yes or no", l->name, v);
          /* A capture would show 64 KB "segments" with unfinished checksums,
           * and the wire relays one frame at a time. */
          if (l->offload && l->capture)
            FAIL_AT (e, g, "link %s: offload = yes needs capture = no", l->name);
          if (l->offload && (l->delay_ns || l->jitter_ns || l->loss > 0 || l->rate_bps))
            FAIL_AT (e, g, "link %s: offload = yes cannot go with delay, jitter, loss or rate",
                     l->name);
        }
      l->subnet4 = g_strdup (value_of (g, "subnet4", &e));
      l->subnet6 = g_strdup (value_of (g, "subnet6", &e));
    }

  for (guint i = 0; i < groups->len; i++)
    {
      Group *g = groups->pdata[i];

      if (g_str_equal (g->type, "actor"))
        {
          TsLabActor *a = g_new0 (TsLabActor, 1);
          g_ptr_array_add (self->actors, a);
          a->name = g_strdup (g->name);
          a->line = g->line;
          REQUIRE (v, g, "node");
          if (ts_lab_scenario_get_node (self, v) == NULL)
            FAIL_AT (e, g, "actor %s: unknown node '%s'", a->name, v);
          a->node = g_strdup (v);
          REQUIRE (v, g, "command");
          a->command = g_strdup (v);
          if ((v = value_of (g, "ready", &e)) != NULL)
            {
              guint64 port;
              if (!g_str_has_prefix (v, "tcp:")
                  || !g_ascii_string_to_unsigned (v + 4, 10, 1, 65535, &port, NULL))
                FAIL_AT (e, g, "actor %s: ready = '%s': expected tcp:PORT", a->name, v);
              a->ready_port = port;
            }
        }
      else if (g_str_equal (g->type, "step"))
        {
          TsLabStep *s = g_new0 (TsLabStep, 1);
          g_ptr_array_add (self->steps, s);
          s->name = g_strdup (g->name);
          s->line = g->line;
          s->timeout_ns = 30 * G_GUINT64_CONSTANT (1000000000);
          REQUIRE (v, g, "node");
          if (ts_lab_scenario_get_node (self, v) == NULL)
            FAIL_AT (e, g, "step %s: unknown node '%s'", s->name, v);
          s->node = g_strdup (v);
          REQUIRE (v, g, "command");
          s->command = g_strdup (v);
          if ((v = value_of (g, "timeout", &e)) != NULL
              && (!ts_lab_parse_duration (v, &s->timeout_ns) || s->timeout_ns == 0))
            FAIL_AT (e, g, "step %s: timeout = '%s': expected a duration like 10s", s->name, v);
          if ((v = value_of (g, "pause", &e)) != NULL && !ts_lab_parse_duration (v, &s->pause_ns))
            FAIL_AT (e, g, "step %s: pause = '%s': expected a duration like 500ms", s->name, v);
        }
      else if (g_str_equal (g->type, "file"))
        {
          TsLabFile *f = g_new0 (TsLabFile, 1);
          g_ptr_array_add (self->files, f);
          f->name = g_strdup (g->name);
          f->line = g->line;
          if (strchr (f->name, '/') != NULL || f->name[0] == '.')
            FAIL (g->line, "file '%s': a plain file name, without '/' or a leading '.'", f->name);
          REQUIRE (v, g, "node");
          f->nodes = split_words (v);
          for (guint k = 0; f->nodes[k] != NULL; k++)
            if (ts_lab_scenario_get_node (self, f->nodes[k]) == NULL)
              FAIL_AT (e, g, "file %s: unknown node '%s'", f->name, f->nodes[k]);
          if ((v = value_of (g, "text", &e)) == NULL)
            FAIL (g->line, "[file %s] needs 'text = <<END' ... 'END'", f->name);
          f->text = g_strdup (v);
        }
    }

  /* Expectations last: they refer to steps. */
  for (guint i = 0; i < groups->len; i++)
    {
      Group *g = groups->pdata[i];
      TsLabExpect *x;

      if (!g_str_equal (g->type, "expect"))
        continue;
      x = g_new0 (TsLabExpect, 1);
      g_ptr_array_add (self->expects, x);
      x->name = g_strdup (g->name);
      x->line = g->line;
      x->description = g_strdup (value_of (g, "description", &e));
      if ((v = value_of (g, "step", &e)) != NULL)
        {
          if (ts_lab_scenario_get_step (self, v) == NULL)
            FAIL_AT (e, g, "expect %s: unknown step '%s'", x->name, v);
          x->step = g_strdup (v);
        }
      if ((v = value_of (g, "exit", &e)) != NULL)
        {
          guint64 code;
          if (x->step == NULL)
            FAIL_AT (e, g, "expect %s: 'exit' needs 'step = NAME'", x->name);
          if (g_str_equal (v, "0"))
            x->exit_rule = TS_LAB_EXIT_ZERO;
          else if (g_str_equal (v, "nonzero"))
            x->exit_rule = TS_LAB_EXIT_NONZERO;
          else if (g_ascii_string_to_unsigned (v, 10, 1, 255, &code, NULL))
            {
              x->exit_rule = TS_LAB_EXIT_CODE;
              x->exit_code = code;
            }
          else
            FAIL_AT (e, g, "expect %s: exit = '%s': expected 0, nonzero, or a code from 1 to 255",
                     x->name, v);
        }
      x->output_contains = g_strdup (value_of (g, "output-contains", &e));
      x->output_lacks = g_strdup (value_of (g, "output-lacks", &e));
      if ((x->output_contains != NULL || x->output_lacks != NULL) && x->step == NULL)
        FAIL_AT (e, g, "expect %s: 'output-contains' and 'output-lacks' need 'step = NAME'",
                 x->name);
      x->event = g_strdup (value_of (g, "event", &e));
      if ((v = value_of (g, "event-node", &e)) != NULL)
        {
          if (ts_lab_scenario_get_node (self, v) == NULL)
            FAIL_AT (e, g, "expect %s: unknown node '%s'", x->name, v);
          x->event_node = g_strdup (v);
        }
      if ((v = value_of (g, "absent", &e)) != NULL && !parse_bool (v, &x->event_absent))
        FAIL_AT (e, g, "absent = '%s': expected yes or no", v);
      if (x->step == NULL && x->event == NULL)
        FAIL (g->line,
              "expect %s: says nothing to check (give 'step' with 'exit' or 'output-contains', or "
              "'event')",
              x->name);
      if (x->step != NULL && x->exit_rule == TS_LAB_EXIT_ANY && x->output_contains == NULL
          && x->output_lacks == NULL)
        FAIL (g->line, "expect %s: 'step = %s' needs 'exit', 'output-contains' or 'output-lacks'",
              x->name, x->step);
    }

  /* Every node must be reachable: a lab of islands is a typo. */
  if (self->nodes->len > 1)
    for (guint i = 0; i < self->nodes->len; i++)
      {
        TsLabNode *n = self->nodes->pdata[i];
        gboolean linked = FALSE;
        for (guint k = 0; k < self->links->len && !linked; k++)
          {
            TsLabLink *l = self->links->pdata[k];
            linked = g_str_equal (l->a, n->name) || g_str_equal (l->b, n->name);
          }
        if (!linked)
          FAIL (n->line, "node %s has no link (add [link %s-OTHER])", n->name, n->name);
      }
  return g_steal_pointer (&self);
}

TsLabScenario *
ts_lab_scenario_new_from_file (const char *path, const char *const *sets, GError **error)
{
  g_autofree char *text = NULL;
  gsize len = 0;
  g_autoptr (GError) local = NULL;

  if (!g_file_get_contents (path, &text, &len, &local))
    {
      g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_NOT_FOUND, "%s", local->message);
      return NULL;
    }
  return ts_lab_scenario_new_from_data (path, text, len, sets, error);
}

static GPtrArray *
search_dirs (void)
{
  GPtrArray *dirs = g_ptr_array_new_with_free_func (g_free);
  const char *env = g_getenv ("TS_SCENARIO_PATH");

  if (env != NULL && env[0] != '\0')
    {
      g_auto (GStrv) parts = g_strsplit (env, ":", -1);
      for (guint i = 0; parts[i] != NULL; i++)
        if (parts[i][0] != '\0')
          g_ptr_array_add (dirs, g_strdup (parts[i]));
    }
  g_ptr_array_add (dirs, g_build_filename (TS_SOURCE_DIR, "sim", "scenarios", NULL));
  g_ptr_array_add (dirs, g_build_filename (TS_DATADIR, "scenarios", NULL));
  return dirs;
}

char *
ts_lab_scenario_find (const char *name, GError **error)
{
  g_autoptr (GPtrArray) dirs = NULL;
  g_autoptr (GString) looked = g_string_new (NULL);

  if (strchr (name, '/') != NULL || g_str_has_suffix (name, ".scenario"))
    {
      if (g_file_test (name, G_FILE_TEST_IS_REGULAR))
        return g_strdup (name);
      g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_NOT_FOUND, "no scenario file %s", name);
      return NULL;
    }
  dirs = search_dirs ();
  for (guint i = 0; i < dirs->len; i++)
    {
      g_autofree char *file = g_strconcat (name, ".scenario", NULL);
      g_autofree char *path = g_build_filename (dirs->pdata[i], file, NULL);
      if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
        return g_steal_pointer (&path);
      g_string_append_printf (looked, "%s%s", i ? ", " : "", (char *)dirs->pdata[i]);
    }
  g_set_error (error, TS_LAB_ERROR, TS_LAB_ERROR_NOT_FOUND,
               "no scenario '%s' (looked in %s; 'tscope list' shows the scenarios)", name,
               looked->str);
  return NULL;
}

static int
compare_basenames (gconstpointer a, gconstpointer b)
{
  g_autofree char *x = g_path_get_basename (*(char **)a);
  g_autofree char *y = g_path_get_basename (*(char **)b);
  return strcmp (x, y);
}

GPtrArray *
ts_lab_scenario_list_builtin (void)
{
  g_autoptr (GPtrArray) dirs = search_dirs ();
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; i < dirs->len; i++)
    {
      g_autoptr (GDir) dir = g_dir_open (dirs->pdata[i], 0, NULL);
      const char *entry;

      if (dir == NULL)
        continue;
      while ((entry = g_dir_read_name (dir)) != NULL)
        if (g_str_has_suffix (entry, ".scenario") && !g_hash_table_contains (seen, entry))
          {
            g_hash_table_add (seen, g_strdup (entry));
            g_ptr_array_add (out, g_build_filename (dirs->pdata[i], entry, NULL));
          }
    }
  g_ptr_array_sort (out, compare_basenames);
  return out;
}
