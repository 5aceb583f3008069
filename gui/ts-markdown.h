/* ts-markdown.h: a lesson's Markdown (parsed with cmark) as Pango markup
 * for a wrapping GtkLabel.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Pango markup for @markdown (transfer full; "" for NULL): paragraphs
 * separated by blank lines, emphasis and strong, code spans in a
 * monospace font on a tinted background, links as <a href> (a GtkLabel
 * opens them), lists with bullets or numbers, block quotes in italics,
 * headings in bold. Raw HTML is shown as text. */
char *ts_markdown_to_pango (const char *markdown);

G_END_DECLS
