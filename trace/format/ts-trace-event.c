/* ts-trace-event.c: actor events, their TS_EVENTS line form and journal form.
 * SPDX-License-Identifier: GPL-3.0-or-later */
/* clock_gettime, O_CLOEXEC */
#define _POSIX_C_SOURCE 200809L
#include "config.h"

#include <errno.h>
#include <time.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "ts-trace-error.h"
#include "ts-trace-event.h"

struct _TsTraceEvent
{
  guint64 time_ns;
  char *node;
  char *kind;
  GPtrArray *keys;   /* char *, owned */
  GPtrArray *values; /* char *, owned */
};

TsTraceEvent *
ts_trace_event_new (guint64 time_ns, const char *node, const char *kind)
{
  TsTraceEvent *self;

  g_return_val_if_fail (node != NULL, NULL);
  g_return_val_if_fail (kind != NULL, NULL);

  self = g_new0 (TsTraceEvent, 1);
  self->time_ns = time_ns;
  self->node = g_strdup (node);
  self->kind = g_strdup (kind);
  self->keys = g_ptr_array_new_with_free_func (g_free);
  self->values = g_ptr_array_new_with_free_func (g_free);
  return self;
}

void
ts_trace_event_free (TsTraceEvent *self)
{
  if (self == NULL)
    return;
  g_free (self->node);
  g_free (self->kind);
  g_ptr_array_unref (self->keys);
  g_ptr_array_unref (self->values);
  g_free (self);
}

TsTraceEvent *
ts_trace_event_copy (const TsTraceEvent *self)
{
  TsTraceEvent *copy;

  g_return_val_if_fail (self != NULL, NULL);

  copy = ts_trace_event_new (self->time_ns, self->node, self->kind);
  for (guint i = 0; i < self->keys->len; i++)
    {
      g_ptr_array_add (copy->keys, g_strdup (self->keys->pdata[i]));
      g_ptr_array_add (copy->values, g_strdup (self->values->pdata[i]));
    }
  return copy;
}

guint64
ts_trace_event_get_time_ns (const TsTraceEvent *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->time_ns;
}

const char *
ts_trace_event_get_node (const TsTraceEvent *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->node;
}

const char *
ts_trace_event_get_kind (const TsTraceEvent *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->kind;
}

static gboolean
key_is_valid (const char *key, gsize len)
{
  if (len == 0 || len > TS_TRACE_EVENT_MAX_KEY)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!(g_ascii_islower (key[i]) || g_ascii_isdigit (key[i]) || key[i] == '_'))
      return FALSE;
  return TRUE;
}

static gboolean
key_is_reserved (const char *key)
{
  return strcmp (key, "node") == 0 || strcmp (key, "kind") == 0 || strcmp (key, "time_ns") == 0;
}

gboolean
ts_trace_event_add (TsTraceEvent *self, const char *key, const char *value)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (key != NULL, FALSE);
  g_return_val_if_fail (value != NULL, FALSE);

  if (!key_is_valid (key, strlen (key)) || key_is_reserved (key)
      || self->keys->len >= TS_TRACE_EVENT_MAX_FIELDS)
    return FALSE;
  g_ptr_array_add (self->keys, g_strdup (key));
  g_ptr_array_add (self->values, g_strdup (value));
  return TRUE;
}

void
ts_trace_event_add_printf (TsTraceEvent *self, const char *key, const char *format, ...)
{
  va_list args;
  g_autofree char *value = NULL;

  va_start (args, format);
  value = g_strdup_vprintf (format, args);
  va_end (args);
  ts_trace_event_add (self, key, value);
}

const char *
ts_trace_event_get (const TsTraceEvent *self, const char *key)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (key != NULL, NULL);

  for (guint i = 0; i < self->keys->len; i++)
    if (strcmp (self->keys->pdata[i], key) == 0)
      return self->values->pdata[i];
  return NULL;
}

guint
ts_trace_event_get_n_fields (const TsTraceEvent *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->keys->len;
}

void
ts_trace_event_get_field (const TsTraceEvent *self, guint i, const char **out_key,
                          const char **out_value)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (i < self->keys->len);

  if (out_key != NULL)
    *out_key = self->keys->pdata[i];
  if (out_value != NULL)
    *out_value = self->values->pdata[i];
}

/* Line form: percent-encode '%', ' ', '=' and control bytes. */
static void
append_escaped (GString *out, const char *value)
{
  for (const guchar *p = (const guchar *)value; *p != '\0'; p++)
    {
      if (*p <= 0x20 || *p == 0x7f || *p == '%' || *p == '=')
        g_string_append_printf (out, "%%%02X", *p);
      else
        g_string_append_c (out, (char)*p);
    }
}

char *
ts_trace_event_to_line (const TsTraceEvent *self)
{
  GString *out;

  g_return_val_if_fail (self != NULL, NULL);

  out = g_string_new (NULL);
  g_string_append_printf (out, "%" G_GUINT64_FORMAT " ", self->time_ns);
  append_escaped (out, self->node);
  g_string_append_c (out, ' ');
  append_escaped (out, self->kind);
  for (guint i = 0; i < self->keys->len; i++)
    {
      g_string_append_printf (out, " %s=", (const char *)self->keys->pdata[i]);
      append_escaped (out, self->values->pdata[i]);
    }
  g_string_append_c (out, '\n');
  return g_string_free (out, FALSE);
}

static int
hex_value (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Decodes a percent-encoded token; NULL when an escape is broken or decodes to NUL. */
static char *
unescape (const char *token, gsize len, gsize *out_bad_at)
{
  GString *out = g_string_sized_new (len);

  for (gsize i = 0; i < len; i++)
    {
      if (token[i] == '%')
        {
          int hi, lo;

          if (i + 2 >= len)
            {
              *out_bad_at = i;
              g_string_free (out, TRUE);
              return NULL;
            }
          hi = hex_value (token[i + 1]);
          lo = hex_value (token[i + 2]);
          if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
            {
              *out_bad_at = i;
              g_string_free (out, TRUE);
              return NULL;
            }
          g_string_append_c (out, (char)(hi * 16 + lo));
          i += 2;
        }
      else
        g_string_append_c (out, token[i]);
    }
  return g_string_free (out, FALSE);
}

TsTraceEvent *
ts_trace_event_new_from_line (const char *line, gsize len, GError **error)
{
  g_autoptr (TsTraceEvent) self = NULL;
  g_autofree char *node = NULL;
  g_autofree char *kind = NULL;
  guint64 time_ns = 0;
  gsize pos = 0;
  guint token_index = 0;

  g_return_val_if_fail (line != NULL || len == 0, NULL);

  if (len > TS_TRACE_EVENT_MAX_LINE)
    {
      g_set_error (error, TS_TRACE_ERROR, TS_TRACE_ERROR_TOO_LARGE,
                   "event line of %" G_GSIZE_FORMAT " bytes is over the cap of %d", len,
                   TS_TRACE_EVENT_MAX_LINE);
      return NULL;
    }
  if (len > 0 && line[len - 1] == '\n')
    len--;
  if (len > 0 && line[len - 1] == '\r')
    len--;

  while (pos < len)
    {
      gsize start = pos, end, bad_at = 0;

      while (pos < len && line[pos] != ' ')
        pos++;
      end = pos;
      if (end == start)
        {
          g_set_error (error, TS_TRACE_ERROR, TS_TRACE_ERROR_INVALID,
                       "event line: empty field at column %" G_GSIZE_FORMAT, start + 1);
          return NULL;
        }
      if (pos < len)
        pos++; /* the space */

      if (token_index == 0)
        {
          for (gsize i = start; i < end; i++)
            if (!g_ascii_isdigit (line[i]) || end - start > 20)
              {
                g_set_error (error, TS_TRACE_ERROR, TS_TRACE_ERROR_INVALID,
                             "event line: time at column %" G_GSIZE_FORMAT
                             " is not a number of nanoseconds",
                             start + 1);
                return NULL;
              }
          time_ns = g_ascii_strtoull (line + start, NULL, 10);
        }
      else if (token_index == 1 || token_index == 2)
        {
          char *value = unescape (line + start, end - start, &bad_at);

          if (value == NULL)
            {
              g_set_error (error, TS_TRACE_ERROR, TS_TRACE_ERROR_INVALID,
                           "event line: bad %%-escape at column %" G_GSIZE_FORMAT,
                           start + bad_at + 1);
              return NULL;
            }
          if (token_index == 1)
            node = value;
          else
            {
              kind = value;
              self = ts_trace_event_new (time_ns, node, kind);
            }
        }
      else
        {
          const char *eq = memchr (line + start, '=', end - start);
          g_autofree char *key = NULL;
          g_autofree char *value = NULL;

          if (eq == NULL || !key_is_valid (line + start, (gsize)(eq - (line + start))))
            {
              g_set_error (error, TS_TRACE_ERROR, TS_TRACE_ERROR_INVALID,
                           "event line: field at column %" G_GSIZE_FORMAT
                           " is not key=value with a key of [a-z0-9_]",
                           start + 1);
              return NULL;
            }
          key = g_strndup (line + start, (gsize)(eq - (line + start)));
          value = unescape (eq + 1, (gsize)(line + end - (eq + 1)), &bad_at);
          if (value == NULL)
            {
              g_set_error (error, TS_TRACE_ERROR, TS_TRACE_ERROR_INVALID,
                           "event line: bad %%-escape at column %" G_GSIZE_FORMAT,
                           (gsize)(eq + 1 - line) + bad_at + 1);
              return NULL;
            }
          if (!ts_trace_event_add (self, key, value))
            {
              g_set_error (error, TS_TRACE_ERROR, TS_TRACE_ERROR_INVALID,
                           "event line: field '%s' at column %" G_GSIZE_FORMAT
                           " is reserved or one too many (cap %d)",
                           key, start + 1, TS_TRACE_EVENT_MAX_FIELDS);
              return NULL;
            }
        }
      token_index++;
    }

  if (token_index < 3)
    {
      g_set_error (error, TS_TRACE_ERROR, TS_TRACE_ERROR_INVALID,
                   "event line: needs at least TIME NODE KIND, found %u field%s", token_index,
                   token_index == 1 ? "" : "s");
      return NULL;
    }
  return g_steal_pointer (&self);
}

/* Journal export format: NAME=value\n for text, or NAME\n<le64 len><bytes>\n. */
static void
append_journal_field (GString *out, const char *name, const char *value)
{
  gsize len = strlen (value);

  if (memchr (value, '\n', len) == NULL)
    {
      g_string_append_printf (out, "%s=%s\n", name, value);
      return;
    }
  g_string_append_printf (out, "%s\n", name);
  for (int i = 0; i < 8; i++)
    g_string_append_c (out, (char)((guint64)len >> (8 * i) & 0xff));
  g_string_append_len (out, value, (gssize)len);
  g_string_append_c (out, '\n');
}

GBytes *
ts_trace_event_to_journal (const TsTraceEvent *self)
{
  GString *out;
  char number[32];
  g_autofree char *message = NULL;

  g_return_val_if_fail (self != NULL, NULL);

  out = g_string_new (NULL);
  g_snprintf (number, sizeof number, "%" G_GUINT64_FORMAT, self->time_ns / 1000);
  append_journal_field (out, "__REALTIME_TIMESTAMP", number);
  g_snprintf (number, sizeof number, "%" G_GUINT64_FORMAT, self->time_ns);
  append_journal_field (out, "TS_TIME_NS", number);
  append_journal_field (out, "TS_NODE", self->node);
  append_journal_field (out, "TS_KIND", self->kind);
  message = g_strdup_printf ("%s %s", self->node, self->kind);
  append_journal_field (out, "MESSAGE", message);
  for (guint i = 0; i < self->keys->len; i++)
    {
      g_autofree char *upper = g_ascii_strup (self->keys->pdata[i], -1);
      g_autofree char *name = g_strconcat ("TS_", upper, NULL);

      append_journal_field (out, name, self->values->pdata[i]);
    }
  return g_string_free_to_bytes (out);
}

TsTraceEvent *
ts_trace_event_new_from_journal (const guint8 *data, gsize len, GError **error)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) values = g_ptr_array_new_with_free_func (g_free);
  const char *node = NULL, *kind = NULL;
  guint64 time_ns = 0;
  gboolean have_time = FALSE;
  TsTraceEvent *self;
  gsize pos = 0;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  if (len > TS_TRACE_EVENT_MAX_LINE)
    {
      g_set_error (error, TS_TRACE_ERROR, TS_TRACE_ERROR_TOO_LARGE,
                   "journal entry of %" G_GSIZE_FORMAT " bytes is over the cap of %d", len,
                   TS_TRACE_EVENT_MAX_LINE);
      return NULL;
    }

  while (pos < len && data[pos] != '\0')
    {
      const guint8 *nl = memchr (data + pos, '\n', len - pos);
      const guint8 *eq;
      gsize line_len;

      if (nl == NULL)
        {
          g_set_error (error, TS_TRACE_ERROR, TS_TRACE_ERROR_INVALID,
                       "journal entry: field at byte %" G_GSIZE_FORMAT " has no newline", pos);
          return NULL;
        }
      line_len = (gsize)(nl - (data + pos));
      if (line_len == 0)
        break; /* the blank line that ends an entry */
      eq = memchr (data + pos, '=', line_len);
      if (eq != NULL)
        {
          g_ptr_array_add (names, g_strndup ((const char *)data + pos, (gsize)(eq - (data + pos))));
          g_ptr_array_add (values, g_strndup ((const char *)eq + 1, (gsize)(nl - eq - 1)));
          pos += line_len + 1;
        }
      else
        {
          guint64 value_len = 0;
          gsize value_at = pos + line_len + 1;

          if (len - value_at < 8)
            {
              g_set_error (error, TS_TRACE_ERROR, TS_TRACE_ERROR_INVALID,
                           "journal entry: binary field at byte %" G_GSIZE_FORMAT
                           " is cut before its length",
                           pos);
              return NULL;
            }
          for (int i = 0; i < 8; i++)
            value_len |= (guint64)data[value_at + i] << (8 * i);
          value_at += 8;
          if (value_len > len - value_at || len - value_at - value_len < 1
              || data[value_at + value_len] != '\n')
            {
              g_set_error (error, TS_TRACE_ERROR, TS_TRACE_ERROR_INVALID,
                           "journal entry: binary field at byte %" G_GSIZE_FORMAT
                           " claims %" G_GUINT64_FORMAT " bytes, more than the entry holds",
                           pos, value_len);
              return NULL;
            }
          g_ptr_array_add (names, g_strndup ((const char *)data + pos, line_len));
          g_ptr_array_add (values, g_strndup ((const char *)data + value_at, (gsize)value_len));
          pos = value_at + (gsize)value_len + 1;
        }
      if (names->len > TS_TRACE_EVENT_MAX_FIELDS + 8)
        {
          g_set_error (error, TS_TRACE_ERROR, TS_TRACE_ERROR_TOO_LARGE,
                       "journal entry: more than %d fields", TS_TRACE_EVENT_MAX_FIELDS + 8);
          return NULL;
        }
    }

  for (guint i = 0; i < names->len; i++)
    {
      const char *name = names->pdata[i], *value = values->pdata[i];

      if (strcmp (name, "TS_NODE") == 0)
        node = value;
      else if (strcmp (name, "TS_KIND") == 0)
        kind = value;
      else if (strcmp (name, "TS_TIME_NS") == 0)
        {
          time_ns = g_ascii_strtoull (value, NULL, 10);
          have_time = TRUE;
        }
      else if (strcmp (name, "__REALTIME_TIMESTAMP") == 0 && !have_time)
        time_ns = g_ascii_strtoull (value, NULL, 10) * 1000;
    }
  if (node == NULL || kind == NULL)
    {
      g_set_error (error, TS_TRACE_ERROR, TS_TRACE_ERROR_INVALID, "journal entry has no %s field",
                   node == NULL ? "TS_NODE" : "TS_KIND");
      return NULL;
    }

  self = ts_trace_event_new (time_ns, node, kind);
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = names->pdata[i];
      g_autofree char *key = NULL;

      if (!g_str_has_prefix (name, "TS_") || strcmp (name, "TS_NODE") == 0
          || strcmp (name, "TS_KIND") == 0 || strcmp (name, "TS_TIME_NS") == 0)
        continue;
      key = g_ascii_strdown (name + 3, -1);
      /* An invalid or surplus field from a foreign writer is skipped, not fatal. */
      ts_trace_event_add (self, key, values->pdata[i]);
    }
  return self;
}

static GMutex emit_lock;
static int emit_fd = -1;
static char *emit_path;

gboolean
ts_trace_event_emit (const TsTraceEvent *self, GError **error)
{
  const char *path = g_getenv ("TS_EVENTS");
  g_autoptr (TsTraceEvent) stamped = NULL;
  g_autofree char *line = NULL;
  gsize len;
  ssize_t written;
  int fd;

  g_return_val_if_fail (self != NULL, FALSE);

  if (path == NULL || *path == '\0')
    return TRUE;
  if (self->time_ns == 0)
    {
      stamped = ts_trace_event_copy (self);
      stamped->time_ns = (guint64)g_get_real_time () * 1000;
      /* Nanoseconds where the clock has them. */
      {
        struct timespec ts;

        if (clock_gettime (CLOCK_REALTIME, &ts) == 0)
          stamped->time_ns = (guint64)ts.tv_sec * 1000000000u + (guint64)ts.tv_nsec;
      }
      self = stamped;
    }
  line = ts_trace_event_to_line (self);
  len = strlen (line);

  /* The file stays open between events (a proxy emits several per
   * connection); it is reopened when $TS_EVENTS names another file. Writes
   * are O_APPEND and whole lines, so concurrent writers do not interleave. */
  g_mutex_lock (&emit_lock);
  if (emit_fd < 0 || g_strcmp0 (emit_path, path) != 0)
    {
      if (emit_fd >= 0)
        close (emit_fd);
      g_free (emit_path);
      emit_path = NULL;
      emit_fd = open (path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
      if (emit_fd < 0)
        {
          int saved = errno;
          g_mutex_unlock (&emit_lock);
          g_set_error (error, TS_TRACE_ERROR, TS_TRACE_ERROR_IO, "cannot open events file %s: %s",
                       path, g_strerror (saved));
          return FALSE;
        }
      emit_path = g_strdup (path);
    }
  fd = emit_fd;
  written = write (fd, line, len);
  if (written < 0 || (gsize)written != len)
    {
      int saved = errno;
      close (emit_fd);
      emit_fd = -1;
      g_mutex_unlock (&emit_lock);
      g_set_error (error, TS_TRACE_ERROR, TS_TRACE_ERROR_IO, "cannot write events file %s: %s",
                   path, written < 0 ? g_strerror (saved) : "short write");
      return FALSE;
    }
  g_mutex_unlock (&emit_lock);
  return TRUE;
}
