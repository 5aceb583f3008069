/* ts-lesson.h: a lesson: a Markdown file (parsed with cmark) of metadata and steps.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The format (lessons/README.md has a worked example):
 *
 *   # TITLE                        the first level-1 heading
 *   - scenario: NAME               a list of "key: value" items right after it:
 *   - capture: FILE                scenario, capture (default captures/SCENARIO.pcapng),
 *   - objectives: TEXT             objectives, cites, compare (a second scenario)
 *   INTRODUCTION                   any Markdown
 *   ## STEP TITLE                  each level-2 heading starts a step
 *   - highlight: QUERY             optional settings list: highlight, view, as,
 *   - compare: NAME                compare (a second scenario for this step's
 *                                  `view: compare`, instead of the lesson's)
 *   NARRATIVE                      any Markdown
 *   > Question: PROMPT             optional, a block quote: the prompt, a list of
 *   > - CHOICE ...                 choices (none: a short answer), and a paragraph
 *   > answer: TEXT                 with the answer and, where the answer is a fact
 *   > from: QUERY -> FIELD         of the capture, where to compute it from
 *                                  (FIELD #count: how many events match;
 *                                  "from-compare:" reads the step's compare
 *                                  capture: its own compare, else the lesson's)
 *
 * A `view: compare` step and a "from-compare:" question need a compare
 * scenario, the step's or the lesson's; a step's `compare:` goes with
 * `view: compare` (a capture the student would not see is no step's).
 *
 * A QUERY is space-separated KEY=VALUE (exact) or KEY~VALUE (contains)
 * matched against the fields of the analyzer's JSON events
 * (trace/analyzer/SCHEMA.md); a KEY may be a dotted path (tls.sni).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define TS_LESSON_ERROR (ts_lesson_error_quark ())
GQuark ts_lesson_error_quark (void);

typedef enum
{
  TS_LESSON_ERROR_IO,
  TS_LESSON_ERROR_INVALID,
} TsLessonError;

/* Caps on what a lesson file controls. */
#define TS_LESSON_MAX_SIZE (1024 * 1024)
#define TS_LESSON_MAX_STEPS 200

typedef enum
{
  TS_LESSON_VIEW_LADDER,
  TS_LESSON_VIEW_TOPOLOGY,
  TS_LESSON_VIEW_DETAIL,
  TS_LESSON_VIEW_COMPARE,
} TsLessonView;

typedef struct
{
  char *prompt;
  GPtrArray *choices; /* char *; empty for a short answer */
  char *answer;
  char *from_query; /* or NULL: the answer is written by hand */
  char *from_field;
  gboolean from_compare; /* computed from the step's compare capture ("from-compare:") */
  guint line;
} TsLessonQuestion;

typedef struct
{
  char *title;
  char *narrative; /* Markdown */
  char *highlight; /* a query, or NULL */
  TsLessonView view;
  char *as;                   /* whose eyes: a node name, "observer", or NULL for everyone */
  char *compare;              /* the step's own compare scenario, or NULL: the lesson's */
  TsLessonQuestion *question; /* or NULL */
  guint line;
} TsLessonStep;

typedef struct
{
  char *path;
  guint number; /* from the file name: NN-name.md */
  char *title;
  char *scenario;
  char *compare; /* a second scenario for compare mode, or NULL */
  char *capture; /* relative to the source tree, e.g. captures/connect.pcapng */
  char *objectives;
  char *cites;
  char *intro;      /* Markdown */
  GPtrArray *steps; /* TsLessonStep * */
} TsLesson;

/* Parses @path. Errors name the file and line: "lessons/04-connect.md:12:
 * unknown step setting 'foo' (known: highlight, view, as, compare)". */
TsLesson *ts_lesson_new_from_file (const char *path, GError **error);
TsLesson *ts_lesson_new_from_data (const char *path, const char *text, gsize len, GError **error);
void ts_lesson_free (TsLesson *self);

/* The lesson files of @dir (NN-*.md), sorted by number: a GPtrArray of paths. */
GPtrArray *ts_lesson_list_files (const char *dir, GError **error);

/* @name ("lessons", "captures", "" for the root) under Tunnelscope's data
 * directory: $TS_DATA_DIR when set, else the source tree when running from
 * a build, else the installed data directory (transfer full). tscope and
 * the app find lessons and their captures alike. */
char *ts_lesson_find_data (const char *name);

const char *ts_lesson_view_to_string (TsLessonView view);

/* The compare scenario of step @index: the step's own `compare:`, else the
 * lesson's; NULL when neither has one (borrowed, valid while @self lives). */
const char *ts_lesson_get_step_compare (const TsLesson *self, guint index);

/* The capture of step @index's compare scenario, found as the lesson's
 * compare capture is: captures/SCENARIO.pcapng, relative to the data
 * directory (ts_lesson_find_data ()); NULL when the step compares with
 * nothing (transfer full). */
char *ts_lesson_dup_step_compare_capture (const TsLesson *self, guint index);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TsLesson, ts_lesson_free)

G_END_DECLS
