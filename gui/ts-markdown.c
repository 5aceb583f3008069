/* ts-markdown.c: Markdown to Pango markup, by walking cmark's tree.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "ts-markdown.h"

#include <string.h>

#include <cmark.h>

/* Cap: list nesting shown by indentation (deeper lists indent no more). */
#define MAX_INDENT 6

static void
append_escaped (GString *out, const char *text)
{
  g_autofree char *escaped = g_markup_escape_text (text ? text : "", -1);
  g_string_append (out, escaped);
}

static guint
list_depth (cmark_node *node)
{
  guint depth = 0;

  for (cmark_node *p = cmark_node_parent (node); p != NULL; p = cmark_node_parent (p))
    if (cmark_node_get_type (p) == CMARK_NODE_LIST)
      depth++;
  return depth;
}

/* A block ends: a blank line after it, except inside a tight list, where
 * items follow each other line by line. */
static void
end_block (GString *out, cmark_node *node)
{
  cmark_node *parent = cmark_node_parent (node);
  gboolean tight = FALSE;

  if (parent && cmark_node_get_type (parent) == CMARK_NODE_ITEM)
    {
      cmark_node *list = cmark_node_parent (parent);
      tight = list && cmark_node_get_list_tight (list);
    }
  g_string_append (out, tight || cmark_node_next (node) == NULL ? "\n" : "\n\n");
}

char *
ts_markdown_to_pango (const char *markdown)
{
  g_autoptr (GString) out = g_string_new (NULL);
  cmark_node *doc;
  cmark_iter *iter;
  cmark_event_type ev;

  if (markdown == NULL || *markdown == '\0')
    return g_strdup ("");
  doc = cmark_parse_document (markdown, strlen (markdown), CMARK_OPT_DEFAULT);
  iter = cmark_iter_new (doc);
  while ((ev = cmark_iter_next (iter)) != CMARK_EVENT_DONE)
    {
      cmark_node *node = cmark_iter_get_node (iter);
      gboolean enter = ev == CMARK_EVENT_ENTER;

      switch (cmark_node_get_type (node))
        {
          case CMARK_NODE_TEXT:
            append_escaped (out, cmark_node_get_literal (node));
            break;
          case CMARK_NODE_CODE:
            g_string_append (out,
                             "<span font_family=\"monospace\" background=\"#8080802e\">\u2009");
            append_escaped (out, cmark_node_get_literal (node));
            g_string_append (out, "\u2009</span>");
            break;
          case CMARK_NODE_CODE_BLOCK:
            {
              g_autofree char *text = g_strdup (cmark_node_get_literal (node));
              g_strchomp (text);
              g_string_append (out, "<span font_family=\"monospace\">");
              append_escaped (out, text);
              g_string_append (out, "</span>");
              end_block (out, node);
            }
            break;
          case CMARK_NODE_HTML_INLINE:
          case CMARK_NODE_HTML_BLOCK:
            append_escaped (out, cmark_node_get_literal (node));
            break;
          case CMARK_NODE_SOFTBREAK:
            g_string_append_c (out, ' ');
            break;
          case CMARK_NODE_LINEBREAK:
            g_string_append_c (out, '\n');
            break;
          case CMARK_NODE_EMPH:
            g_string_append (out, enter ? "<i>" : "</i>");
            break;
          case CMARK_NODE_STRONG:
            g_string_append (out, enter ? "<b>" : "</b>");
            break;
          case CMARK_NODE_LINK:
            if (enter)
              {
                g_autofree char *href = g_markup_escape_text (
                    cmark_node_get_url (node) ? cmark_node_get_url (node) : "", -1);
                g_string_append_printf (out, "<a href=\"%s\">", href);
              }
            else
              g_string_append (out, "</a>");
            break;
          case CMARK_NODE_IMAGE:
            /* The alternative text stands for the picture. */
            break;
          case CMARK_NODE_HEADING:
            if (enter)
              g_string_append (out, "<b>");
            else
              {
                g_string_append (out, "</b>");
                end_block (out, node);
              }
            break;
          case CMARK_NODE_PARAGRAPH:
            if (!enter)
              end_block (out, node);
            break;
          case CMARK_NODE_BLOCK_QUOTE:
            g_string_append (out, enter ? "<i>" : "</i>");
            break;
          case CMARK_NODE_ITEM:
            if (enter)
              {
                cmark_node *list = cmark_node_parent (node);
                guint depth = MIN (list_depth (node), MAX_INDENT);

                for (guint i = 1; i < depth; i++)
                  g_string_append (out, "    ");
                if (list && cmark_node_get_list_type (list) == CMARK_ORDERED_LIST)
                  {
                    int n = cmark_node_get_list_start (list);
                    for (cmark_node *p = cmark_node_previous (node); p; p = cmark_node_previous (p))
                      n++;
                    g_string_append_printf (out, "%d. ", n);
                  }
                else
                  g_string_append (out, "• ");
              }
            break;
          case CMARK_NODE_LIST:
            if (!enter && cmark_node_next (node) != NULL && list_depth (node) == 0)
              g_string_append_c (out, '\n');
            break;
          case CMARK_NODE_THEMATIC_BREAK:
            g_string_append (out, "――――――\n\n");
            break;
          default:
            break;
        }
    }
  cmark_iter_free (iter);
  cmark_node_free (doc);
  /* No trailing blank lines: the label's margins space it. */
  while (out->len > 0 && out->str[out->len - 1] == '\n')
    g_string_truncate (out, out->len - 1);
  return g_string_free (g_steal_pointer (&out), FALSE);
}
