/* tscope-lesson.c: tscope lesson: the lessons in a terminal, step by step, with questions.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cmark.h>

#include "ts-lesson.h"
#include "ts-lesson-capture.h"
#include "ts-timeline-render.h"
#include "tscope.h"

/* Columns when standard output is no terminal, and the fewest the ladder
 * takes (as tscope explain). */
#define DEFAULT_WIDTH 80
#define MIN_WIDTH 60
/* Prose wider than this is hard to read, however wide the terminal. */
#define MAX_PROSE_WIDTH 76
/* Continuation lines of a highlighted event start under its nodes, past
 * "  > " and the time. */
#define HIGHLIGHT_INDENT 16

/* The terminal's width when standard output is one (its size, else
 * $COLUMNS), else DEFAULT_WIDTH; at least MIN_WIDTH. */
static guint
terminal_width (void)
{
  struct winsize size;
  const char *columns = g_getenv ("COLUMNS");
  guint64 n = 0;
  char *end = NULL;

  if (!isatty (STDOUT_FILENO))
    return DEFAULT_WIDTH;
  if (ioctl (STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0)
    n = size.ws_col;
  else if (columns != NULL)
    {
      n = g_ascii_strtoull (columns, &end, 10);
      if (end == columns || *end != '\0' || n > G_MAXUINT16)
        n = 0;
    }
  return n > 0 ? MAX ((guint)n, MIN_WIDTH) : DEFAULT_WIDTH;
}

static guint
prose_width (guint width)
{
  return MIN (width - 4, MAX_PROSE_WIDTH);
}

/* Where the last @sep starting in the second half of @p's first @room
 * characters is, or NULL. */
static const char *
break_before (const char *p, glong room, const char *sep)
{
  const char *at = g_utf8_offset_to_pointer (p, room);

  for (; g_utf8_pointer_to_offset (p, at) > room / 2; at = g_utf8_prev_char (at))
    if (strncmp (at, sep, strlen (sep)) == 0)
      return at;
  return NULL;
}

/* Prints @prefix and @text, wrapped at spaces to @width columns, continuation
 * lines indented by @indent columns; a word longer than a line is cut. */
static void
print_wrapped (const char *prefix, const char *text, guint width, guint indent)
{
  const char *p = text;
  glong room = (glong)width - g_utf8_strlen (prefix, -1);

  fputs (prefix, stdout);
  while (*p != '\0')
    {
      const char *cut;

      if (g_utf8_strlen (p, -1) <= room)
        {
          printf ("%s\n", p);
          return;
        }
      /* The last "; " in the line's second half, so that a list of
       * citations or objectives breaks between its items; else its last
       * space; none: cut the word. */
      cut = break_before (p, room, "; ");
      if (cut == NULL)
        cut = break_before (p, room, " ");
      if (cut == NULL)
        cut = g_utf8_offset_to_pointer (p, room);
      else if (*cut == ';')
        cut++;
      printf ("%.*s\n", (int)(cut - p), p);
      p = cut;
      while (*p == ' ')
        p++;
      if (*p != '\0')
        printf ("%*s", (int)indent, "");
      room = (glong)width - indent;
    }
}

/* Markdown, re-wrapped for a terminal. */
static gboolean
print_markdown (const char *markdown, guint width)
{
  cmark_node *doc;
  char *text;

  if (markdown == NULL || markdown[strspn (markdown, " \t\r\n")] == '\0')
    return FALSE;
  doc = cmark_parse_document (markdown, strlen (markdown), CMARK_OPT_DEFAULT);
  text = cmark_render_commonmark (doc, CMARK_OPT_DEFAULT, (int)prose_width (width));
  fputs (text, stdout);
  free (text);
  cmark_node_free (doc);
  return TRUE;
}

static void
print_rule (const char *title, guint width)
{
  gsize len = (gsize)g_utf8_strlen (title, -1);

  printf ("\n%s\n", title);
  for (gsize i = 0; i < len && i < prose_width (width); i++)
    putchar ('-');
  printf ("\n\n");
}

/* A line from standard input (without its newline), or NULL at its end. */
static char *
read_line (void)
{
  char buf[1024];

  fflush (stdout);
  if (fgets (buf, sizeof buf, stdin) == NULL)
    return NULL;
  return g_strchomp (g_strdup (buf));
}

/* Choices are numbered 1, 2, 3 unless a choice's own text is a number ("How
 * many SYNs?": 0, 1, 3): then they are lettered a, b, c, so that what the
 * student types means one choice only. */
static gboolean
choices_lettered (const TsLessonQuestion *q)
{
  if (q->choices->len > 26)
    return FALSE;
  for (guint i = 0; i < q->choices->len; i++)
    {
      const char *text = q->choices->pdata[i];
      char *end = NULL;

      /* strtod reads "inf" and "nan" too, which are words here. */
      if (!g_ascii_isdigit (text[text[0] == '-' || text[0] == '+']))
        continue;
      g_ascii_strtod (text, &end);
      if (*end == '\0')
        return TRUE;
    }
  return FALSE;
}

static char *
choice_label (const TsLessonQuestion *q, guint index)
{
  return choices_lettered (q) ? g_strdup_printf ("%c", 'a' + index)
                              : g_strdup_printf ("%u", index + 1);
}

/* The choice @given names: a choice's text (ignoring case and surrounding
 * spaces) before its label, since a student who types the value meant it.
 * -1 when it names none. */
static gint
find_choice (const TsLessonQuestion *q, const char *given)
{
  g_autofree char *text = g_strstrip (g_strdup (given));
  g_autofree char *folded = g_utf8_casefold (text, -1);
  char *end = NULL;
  guint64 n;

  for (guint i = 0; i < q->choices->len; i++)
    {
      g_autofree char *choice = g_utf8_casefold (q->choices->pdata[i], -1);

      if (strcmp (folded, choice) == 0)
        return (gint)i;
    }
  if (choices_lettered (q))
    {
      if (g_ascii_isalpha (text[0]) && text[1] == '\0'
          && (guint)(g_ascii_tolower (text[0]) - 'a') < q->choices->len)
        return g_ascii_tolower (text[0]) - 'a';
      return -1;
    }
  n = g_ascii_strtoull (text, &end, 10);
  if (end != text && *end == '\0' && n >= 1 && n <= q->choices->len)
    return (gint)n - 1;
  return -1;
}

/* Right when equal to the answer, ignoring case and surrounding spaces, as
 * in the app. */
static gboolean
short_answer_matches (const TsLessonQuestion *q, const char *given)
{
  g_autofree char *text = g_strstrip (g_strdup (given));
  g_autofree char *a = g_utf8_casefold (text, -1);
  g_autofree char *b = g_utf8_casefold (q->answer, -1);

  return strcmp (a, b) == 0;
}

/* What may be typed for a choice: "a-c or a choice's text" (transfer full). */
static char *
choice_hint (const TsLessonQuestion *q)
{
  g_autofree char *first = choice_label (q, 0);
  g_autofree char *last = choice_label (q, q->choices->len - 1);

  return g_strdup_printf ("%s%s%s or a choice's text", first, q->choices->len > 1 ? "-" : "",
                          q->choices->len > 1 ? last : "");
}

static void
print_question (const TsLessonQuestion *q, guint width)
{
  print_wrapped ("Question: ", q->prompt, prose_width (width), 2);
  for (guint i = 0; i < q->choices->len; i++)
    {
      g_autofree char *label = choice_label (q, i);
      g_autofree char *prefix = g_strdup_printf ("  %s. ", label);

      print_wrapped (prefix, q->choices->pdata[i], prose_width (width), 5);
    }
}

/* Asks @q until answered right, the student gives up (empty line), or input ends. */
static void
ask (const TsLessonQuestion *q, guint width)
{
  g_autofree char *hint = q->choices->len > 0 ? choice_hint (q) : NULL;

  print_question (q, width);
  for (;;)
    {
      g_autofree char *given = NULL;
      gboolean right;

      if (hint != NULL)
        printf ("Your answer (%s; Enter to skip): ", hint);
      else
        printf ("Your answer (Enter to skip): ");
      given = read_line ();
      if (given == NULL || *given == '\0')
        {
          printf ("The answer: %s\n", q->answer);
          return;
        }
      if (hint != NULL)
        {
          gint choice = find_choice (q, given);

          if (choice < 0)
            {
              printf ("'%s' is not one of the choices: type %s.\n", given, hint);
              continue;
            }
          right = strcmp (q->choices->pdata[choice], q->answer) == 0;
        }
      else
        right = short_answer_matches (q, given);
      if (right)
        {
          printf ("Right: %s.\n", q->answer);
          return;
        }
      printf ("Not quite; try again.\n");
    }
}

/* The events a step highlights in @capture, as seen by its `as` node; in a
 * compare view, under a line naming the @side ("left", "right") and its
 * @file. Each is shown whole, wrapped to @width: a question may ask about
 * the end of its summary (the issuer of a certificate), which the ladder
 * cuts. */
static void
print_highlights (TsLessonCapture *capture, const char *side, const char *file,
                  const TsLessonStep *step, guint width)
{
  const TsTimeline *timeline = ts_lesson_capture_get_timeline (capture);
  /* Wide enough that the renderer cuts nothing; print_wrapped () folds it. */
  TsRenderOptions options = { .width = G_MAXINT, .as_node = -1 };
  g_autoptr (GArray) found = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *where
      = side != NULL ? g_strdup_printf (", on the %s (%s)", side, file) : g_strdup ("");
  g_autofree char *heading = NULL;
  guint64 t0 = 0;

  if (step->highlight == NULL)
    return;
  found = ts_lesson_capture_find (capture, step->highlight, &error);
  if (found == NULL || found->len == 0)
    {
      g_autofree char *text = side != NULL
                                  ? g_strdup_printf ("(nothing on the %s (%s) matches this step's "
                                                     "highlight: %s)",
                                                     side, file, step->highlight)
                                  : g_strdup_printf ("(nothing in the capture matches this step's "
                                                     "highlight: %s)",
                                                     step->highlight);
      print_wrapped ("", text, width, 2);
      return;
    }
  /* (A node, or "observer": an on-path observer of every link.) */
  if (step->as != NULL && !ts_render_find_as (timeline, step->as, &options.as_node))
    options.as_node = -1;
  t0 = ts_timeline_get_origin_ns (timeline);
  heading = g_strdup_printf ("Look at%s%s%s:", where, options.as_node != -1 ? ", as seen by " : "",
                             options.as_node != -1 ? ts_render_as_name (timeline, options.as_node)
                                                   : "");
  print_wrapped ("", heading, width, 2);
  for (guint i = 0; i < found->len; i++)
    {
      guint index = g_array_index (found, guint, i);
      const TsTimelineEvent *e = ts_timeline_get_event (timeline, index);
      g_autofree char *line = ts_timeline_render_event_line (timeline, &options, index, t0);

      if (line == NULL)
        continue;
      print_wrapped ("  > ", line, width, HIGHLIGHT_INDENT);
      /* The detail view's tree, for what its viewer can read (the app
       * shows it beside the ladder). */
      if (step->view == TS_LESSON_VIEW_DETAIL
          && ts_timeline_event_read_as (timeline, e, options.as_node))
        for (guint k = 0; k < e->n_detail; k++)
          {
            const TsTimelineDetail *d = ts_timeline_get_detail (timeline, e->detail_first + k);
            g_autofree char *prefix = g_strnfill (HIGHLIGHT_INDENT + 2 * d->depth, ' ');

            print_wrapped (prefix, d->text, width, HIGHLIGHT_INDENT + 2 * d->depth + 2);
          }
    }
}

/* The captures compare steps show on the right, each analysed once: a
 * relative path (captures/SCENARIO.pcapng) -> TsLessonCapture, or -> NULL
 * with the reason it cannot be shown in @errors. */
typedef struct
{
  GHashTable *captures;
  GHashTable *errors;
} CompareCaptures;

static void
compare_captures_clear (CompareCaptures *self)
{
  g_clear_pointer (&self->captures, g_hash_table_unref);
  g_clear_pointer (&self->errors, g_hash_table_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CompareCaptures, compare_captures_clear)

/* The analysed capture at @rel, or NULL with the reason in @out_error
 * (borrowed from @self). */
static TsLessonCapture *
compare_captures_get (CompareCaptures *self, const char *rel, const char **out_error)
{
  g_autofree char *root = NULL;
  g_autofree char *path = NULL;
  g_autoptr (GError) error = NULL;
  TsLessonCapture *capture;

  if (self->captures == NULL)
    {
      self->captures = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                              (GDestroyNotify)ts_lesson_capture_free);
      self->errors = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
    }
  *out_error = g_hash_table_lookup (self->errors, rel);
  if (*out_error != NULL || (capture = g_hash_table_lookup (self->captures, rel)) != NULL)
    return *out_error != NULL ? NULL : capture;
  root = ts_lesson_find_data ("");
  path = g_build_filename (root, rel, NULL);
  capture = ts_lesson_capture_new_from_file (path, &error);
  if (capture == NULL)
    {
      g_hash_table_insert (self->errors, g_strdup (rel), g_strdup (error->message));
      *out_error = g_hash_table_lookup (self->errors, rel);
      return NULL;
    }
  g_hash_table_insert (self->captures, g_strdup (rel), capture);
  return capture;
}

static void
print_step (const TsLesson *lesson, TsLessonCapture *capture, CompareCaptures *compares,
            guint index, gboolean all, guint width)
{
  const TsLessonStep *step = lesson->steps->pdata[index];
  g_autofree char *title
      = g_strdup_printf ("Step %u of %u: %s", index + 1, lesson->steps->len, step->title);
  /* A compare view shows the lesson's capture on the left and the step's
   * compare capture (its own, else the lesson's) on the right: the
   * terminal says which, and looks into both. */
  gboolean compare = step->view == TS_LESSON_VIEW_COMPARE;
  g_autofree char *compare_rel
      = compare ? ts_lesson_dup_step_compare_capture (lesson, index) : NULL;
  g_autofree char *with
      = compare_rel != NULL ? g_strdup_printf (
            " with %s (%s)", ts_lesson_get_step_compare (lesson, index), compare_rel)
                            : g_strdup ("");
  g_autofree char *view
      = g_strdup_printf ("[view: %s%s%s%s]", ts_lesson_view_to_string (step->view), with,
                         step->as != NULL ? ", as seen by " : "", step->as != NULL ? step->as : "");

  print_rule (title, width);
  print_wrapped ("", view, width, 1);
  printf ("\n");
  (void)print_markdown (step->narrative, width);
  if (compare_rel != NULL && step->highlight != NULL)
    {
      const char *why = NULL;
      TsLessonCapture *other = compare_captures_get (compares, compare_rel, &why);

      printf ("\n");
      if (capture != NULL)
        print_highlights (capture, "left", lesson->capture, step, width);
      if (other != NULL)
        print_highlights (other, "right", compare_rel, step, width);
      else
        {
          g_autofree char *text = g_strdup_printf ("(%s cannot be shown: %s)", compare_rel, why);
          print_wrapped ("", text, width, 2);
        }
    }
  else if (capture != NULL && step->highlight != NULL)
    {
      printf ("\n");
      print_highlights (capture, NULL, NULL, step, width);
    }
  if (step->question != NULL)
    {
      printf ("\n");
      if (all)
        {
          print_question (step->question, width);
          printf ("Answer: %s\n", step->question->answer);
        }
      else
        ask (step->question, width);
    }
}

static int
list_lessons (const char *dir)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) files = ts_lesson_list_files (dir, &error);

  if (files == NULL)
    {
      ts_cli_error ("cannot list the lessons: %s", error->message);
      return TS_EXIT_FAILED;
    }
  printf ("Lessons (tscope lesson N to start one):\n\n");
  for (guint i = 0; i < files->len; i++)
    {
      g_autoptr (TsLesson) lesson = ts_lesson_new_from_file (files->pdata[i], &error);

      if (lesson == NULL)
        {
          ts_cli_error ("%s", error->message);
          return TS_EXIT_FAILED;
        }
      printf ("  %2u  %-46s (%s)\n", lesson->number, lesson->title, lesson->scenario);
    }
  return TS_EXIT_OK;
}

int
ts_cmd_lesson (int argc, char **argv)
{
  gboolean all = FALSE, had_intro;
  gint width = 0;
  const GOptionEntry entries[] = {
    { "all", 0, 0, G_OPTION_ARG_NONE, &all, "Print every step without waiting (answers shown)",
      NULL },
    { "width", 0, 0, G_OPTION_ARG_INT, &width,
      "Width of the text in columns (default the terminal's, else 80; at least 60)", "N" },
    { NULL },
  };
  g_autofree char *dir = ts_lesson_find_data ("lessons");
  g_autoptr (GPtrArray) files = NULL;
  g_autoptr (TsLesson) lesson = NULL;
  g_autoptr (TsLessonCapture) capture = NULL;
  g_auto (CompareCaptures) compares = { 0 };
  g_autoptr (GError) error = NULL;
  guint64 number;
  char *end = NULL;

  if (!ts_cli_parse (&argc, &argv, "[N]",
                     "List the lessons, or go through lesson N step by step: its narrative,\n"
                     "what to look at, and its questions (Enter goes on).",
                     entries))
    return TS_EXIT_USAGE;
  if (width != 0 && width < MIN_WIDTH)
    {
      ts_cli_error ("--width %d is too narrow (at least %d)", width, MIN_WIDTH);
      return TS_EXIT_USAGE;
    }
  if (width == 0)
    width = (gint)terminal_width ();
  if (argc == 1)
    return list_lessons (dir);
  if (argc > 2)
    {
      ts_cli_error ("lesson takes one lesson number (see tscope lesson --help)");
      return TS_EXIT_USAGE;
    }
  number = g_ascii_strtoull (argv[1], &end, 10);
  if (end == argv[1] || *end != '\0' || number == 0)
    {
      ts_cli_error ("'%s' is not a lesson number (tscope lesson lists them)", argv[1]);
      return TS_EXIT_USAGE;
    }
  files = ts_lesson_list_files (dir, &error);
  if (files == NULL)
    {
      ts_cli_error ("cannot list the lessons: %s", error->message);
      return TS_EXIT_FAILED;
    }
  for (guint i = 0; i < files->len && lesson == NULL; i++)
    {
      g_autoptr (TsLesson) candidate = ts_lesson_new_from_file (files->pdata[i], &error);

      if (candidate == NULL)
        {
          ts_cli_error ("%s", error->message);
          return TS_EXIT_FAILED;
        }
      if (candidate->number == number)
        lesson = g_steal_pointer (&candidate);
    }
  if (lesson == NULL)
    {
      ts_cli_error ("there is no lesson %" G_GUINT64_FORMAT " (tscope lesson lists them)", number);
      return TS_EXIT_FAILED;
    }

  {
    g_autofree char *title = g_strdup_printf ("Lesson %u: %s", lesson->number, lesson->title);
    print_rule (title, (guint)width);
  }
  if (lesson->objectives != NULL)
    print_wrapped ("Objectives: ", lesson->objectives, prose_width ((guint)width), 2);
  if (lesson->cites != NULL)
    print_wrapped ("Cites: ", lesson->cites, prose_width ((guint)width), 2);
  {
    g_autofree char *text
        = g_strdup_printf ("%s (live: tscope run %s)", lesson->capture, lesson->scenario);
    print_wrapped ("Capture: ", text, prose_width ((guint)width), 2);
    printf ("\n");
  }
  had_intro = print_markdown (lesson->intro, (guint)width);

  /* The shipped capture: the whole exchange first, then each step points into it. */
  {
    g_autofree char *root = ts_lesson_find_data ("");
    g_autofree char *path = g_path_is_absolute (lesson->capture)
                                ? g_strdup (lesson->capture)
                                : g_build_filename (root, lesson->capture, NULL);

    capture = ts_lesson_capture_new_from_file (path, &error);
    if (capture == NULL)
      {
        printf ("\n(The capture cannot be shown: %s. Run it live with: tscope run %s)\n",
                error->message, lesson->scenario);
        g_clear_error (&error);
      }
    else
      {
        TsRenderOptions options
            = { .width = (guint)width, .as_node = -1, .title = lesson->capture };
        g_autofree char *ladder
            = ts_timeline_render_text (ts_lesson_capture_get_timeline (capture), &options);
        g_autofree char *from = g_strdup_printf ("%s:", lesson->capture);

        /* (The Capture line ends in a blank line when no introduction follows.) */
        if (had_intro)
          printf ("\n");
        print_wrapped ("The whole exchange, from ", from, (guint)width, 2);
        printf ("\n%s", ladder);
      }
  }

  for (guint i = 0; i < lesson->steps->len; i++)
    {
      if (!all)
        {
          g_autofree char *line = NULL;

          printf ("\n[Enter: step %u of %u] ", i + 1, lesson->steps->len);
          line = read_line ();
          if (line == NULL && !isatty (STDIN_FILENO))
            all = TRUE; /* no one is typing: print the rest */
        }
      print_step (lesson, capture, &compares, i, all, (guint)width);
    }
  printf ("\nEnd of lesson %u.\n", lesson->number);
  return TS_EXIT_OK;
}
