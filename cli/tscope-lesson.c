/* tscope-lesson.c: tscope lesson: the lessons in a terminal, step by step, with questions.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmark.h>

#include "ts-lesson.h"
#include "ts-lesson-capture.h"
#include "ts-timeline-render.h"
#include "tscope.h"

#define WIDTH 76

/* Markdown, re-wrapped for a terminal. */
static void
print_markdown (const char *markdown)
{
  cmark_node *doc;
  char *text;

  if (markdown == NULL || *markdown == '\0')
    return;
  doc = cmark_parse_document (markdown, strlen (markdown), CMARK_OPT_DEFAULT);
  text = cmark_render_commonmark (doc, CMARK_OPT_DEFAULT, WIDTH);
  fputs (text, stdout);
  free (text);
  cmark_node_free (doc);
}

static void
print_rule (const char *title)
{
  gsize len = (gsize)g_utf8_strlen (title, -1);

  printf ("\n%s\n", title);
  for (gsize i = 0; i < len && i < WIDTH; i++)
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

static gboolean
answer_matches (const TsLessonQuestion *q, const char *given)
{
  g_autofree char *text = g_strstrip (g_strdup (given));
  char *end = NULL;
  guint64 n;

  if (q->choices->len > 0)
    {
      n = g_ascii_strtoull (text, &end, 10);
      if (end != text && *end == '\0' && n >= 1 && n <= q->choices->len)
        return g_strcmp0 (q->choices->pdata[n - 1], q->answer) == 0;
    }
  return g_ascii_strcasecmp (text, q->answer) == 0;
}

static void
print_question (const TsLessonQuestion *q)
{
  printf ("Question: %s\n", q->prompt);
  for (guint i = 0; i < q->choices->len; i++)
    printf ("  %u. %s\n", i + 1, (const char *)q->choices->pdata[i]);
}

/* Asks @q until answered right, the student gives up (empty line), or input ends. */
static void
ask (const TsLessonQuestion *q)
{
  print_question (q);
  for (;;)
    {
      g_autofree char *given = NULL;

      printf (q->choices->len > 0 ? "Your answer (number or text, Enter to skip): "
                                  : "Your answer (Enter to skip): ");
      given = read_line ();
      if (given == NULL || *given == '\0')
        {
          printf ("The answer: %s\n", q->answer);
          return;
        }
      if (answer_matches (q, given))
        {
          printf ("Right: %s.\n", q->answer);
          return;
        }
      printf ("Not quite; try again.\n");
    }
}

/* The events a step highlights, as seen by its `as` node. */
static void
print_highlights (TsLessonCapture *capture, const TsLessonStep *step)
{
  const TsTimeline *timeline = ts_lesson_capture_get_timeline (capture);
  TsRenderOptions options = { .width = WIDTH + 4, .as_node = -1 };
  g_autoptr (GArray) found = NULL;
  g_autoptr (GError) error = NULL;
  guint64 t0 = 0;

  if (step->highlight == NULL)
    return;
  found = ts_lesson_capture_find (capture, step->highlight, &error);
  if (found == NULL || found->len == 0)
    {
      printf ("(nothing in the capture matches this step's highlight: %s)\n", step->highlight);
      return;
    }
  if (step->as != NULL)
    options.as_node = ts_timeline_find_node (timeline, step->as);
  if (ts_timeline_get_n_events (timeline) > 0)
    t0 = ts_timeline_get_event (timeline, 0)->time_ns;
  printf ("Look at%s%s:\n", step->as != NULL ? ", as seen by " : "",
          step->as != NULL ? step->as : "");
  for (guint i = 0; i < found->len; i++)
    {
      g_autofree char *line
          = ts_timeline_render_event_line (timeline, &options, g_array_index (found, guint, i), t0);
      if (line != NULL)
        printf ("  > %s\n", line);
    }
}

static void
print_step (const TsLesson *lesson, TsLessonCapture *capture, guint index, gboolean all)
{
  const TsLessonStep *step = lesson->steps->pdata[index];
  g_autofree char *title
      = g_strdup_printf ("Step %u of %u: %s", index + 1, lesson->steps->len, step->title);

  print_rule (title);
  printf ("[view: %s%s%s]\n\n", ts_lesson_view_to_string (step->view),
          step->as != NULL ? ", as seen by " : "", step->as != NULL ? step->as : "");
  print_markdown (step->narrative);
  if (capture != NULL)
    {
      printf ("\n");
      print_highlights (capture, step);
    }
  if (step->question != NULL)
    {
      printf ("\n");
      if (all)
        {
          print_question (step->question);
          printf ("Answer: %s\n", step->question->answer);
        }
      else
        ask (step->question);
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
  gboolean all = FALSE;
  const GOptionEntry entries[] = {
    { "all", 0, 0, G_OPTION_ARG_NONE, &all, "Print every step without waiting (answers shown)",
      NULL },
    { NULL },
  };
  g_autofree char *dir = ts_lesson_find_data ("lessons");
  g_autoptr (GPtrArray) files = NULL;
  g_autoptr (TsLesson) lesson = NULL;
  g_autoptr (TsLessonCapture) capture = NULL;
  g_autoptr (GError) error = NULL;
  guint64 number;
  char *end = NULL;

  if (!ts_cli_parse (&argc, &argv, "[N]",
                     "List the lessons, or go through lesson N step by step: its narrative,\n"
                     "what to look at, and its questions (Enter goes on).",
                     entries))
    return TS_EXIT_USAGE;
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
    print_rule (title);
  }
  if (lesson->objectives != NULL)
    printf ("Objectives: %s\n", lesson->objectives);
  if (lesson->cites != NULL)
    printf ("Cites: %s\n", lesson->cites);
  printf ("Capture: %s (live: tscope run %s)\n\n", lesson->capture, lesson->scenario);
  print_markdown (lesson->intro);

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
        TsRenderOptions options = { .width = WIDTH + 4, .as_node = -1, .title = lesson->capture };
        g_autofree char *ladder
            = ts_timeline_render_text (ts_lesson_capture_get_timeline (capture), &options);
        printf ("\nThe whole exchange, from %s:\n\n%s", lesson->capture, ladder);
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
      print_step (lesson, capture, i, all);
    }
  printf ("\nEnd of lesson %u.\n", lesson->number);
  return TS_EXIT_OK;
}
