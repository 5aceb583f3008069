/* test-lesson.c: the lesson format: parsing good and bad files, and event queries.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "ts-lesson.h"
#include "ts-lesson-capture.h"
#include "ts-lesson-query.h"
#include "ts-timeline.h"

static const char *good = "# The CONNECT tunnel\n"
                          "\n"
                          "- scenario: connect\n"
                          "- objectives: Read a CONNECT request.\n"
                          "- cites: RFC 9110 §9.3.6\n"
                          "\n"
                          "An *introduction*.\n"
                          "\n"
                          "## The client asks\n"
                          "\n"
                          "- highlight: layer=http method=CONNECT\n"
                          "- view: ladder\n"
                          "- as: proxy\n"
                          "\n"
                          "The client sends `CONNECT example.com:443`.\n"
                          "\n"
                          "> Question: What did the proxy answer?\n"
                          ">\n"
                          "> - 200\n"
                          "> - 403\n"
                          ">\n"
                          "> answer: 200\n"
                          "> from: layer=http kind=response link=client-proxy -> http.status\n"
                          "\n"
                          "## The tunnel\n"
                          "\n"
                          "- Not a setting list, just narrative.\n"
                          "\n"
                          "A second paragraph.\n"
                          "\n"
                          "## With TLS 1.2, on the right\n"
                          "\n"
                          "- view: compare\n"
                          "- compare: connect-tls12\n"
                          "\n"
                          "The certificate crosses in clear.\n"
                          "\n"
                          "> Question: Which version?\n"
                          ">\n"
                          "> answer: TLS 1.2\n"
                          "> from-compare: kind=tls.handshake tls.handshake=server_hello -> "
                          "tls.version\n";

static void
test_parse_good (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TsLesson) lesson
      = ts_lesson_new_from_data ("lessons/04-connect.md", good, strlen (good), &error);
  TsLessonStep *step;

  g_assert_no_error (error);
  g_assert_cmpuint (lesson->number, ==, 4);
  g_assert_cmpstr (lesson->title, ==, "The CONNECT tunnel");
  g_assert_cmpstr (lesson->scenario, ==, "connect");
  g_assert_cmpstr (lesson->capture, ==, "captures/connect.pcapng");
  g_assert_cmpstr (lesson->cites, ==, "RFC 9110 §9.3.6");
  g_assert_cmpstr (lesson->intro, ==, "An *introduction*.\n");
  g_assert_cmpuint (lesson->steps->len, ==, 3);
  g_assert_null (lesson->compare);

  step = lesson->steps->pdata[0];
  g_assert_cmpstr (step->title, ==, "The client asks");
  g_assert_cmpstr (step->highlight, ==, "layer=http method=CONNECT");
  g_assert_cmpint (step->view, ==, TS_LESSON_VIEW_LADDER);
  g_assert_cmpstr (step->as, ==, "proxy");
  g_assert_cmpstr (step->narrative, ==, "The client sends `CONNECT example.com:443`.\n");
  g_assert_nonnull (step->question);
  g_assert_cmpstr (step->question->prompt, ==, "What did the proxy answer?");
  g_assert_cmpuint (step->question->choices->len, ==, 2);
  g_assert_cmpstr (step->question->answer, ==, "200");
  g_assert_cmpstr (step->question->from_query, ==, "layer=http kind=response link=client-proxy");
  g_assert_cmpstr (step->question->from_field, ==, "http.status");

  step = lesson->steps->pdata[1];
  g_assert_null (step->highlight);
  g_assert_null (step->question);
  g_assert_nonnull (strstr (step->narrative, "- Not a setting list, just narrative."));
  g_assert_nonnull (strstr (step->narrative, "A second paragraph."));
  g_assert_null (step->compare);
  g_assert_null (ts_lesson_get_step_compare (lesson, 1));
  g_assert_null (ts_lesson_dup_step_compare_capture (lesson, 1));

  /* A step's own compare scenario, for its compare view and its
   * "from-compare:" question, though the lesson has none. */
  step = lesson->steps->pdata[2];
  g_assert_cmpint (step->view, ==, TS_LESSON_VIEW_COMPARE);
  g_assert_cmpstr (step->compare, ==, "connect-tls12");
  g_assert_cmpstr (ts_lesson_get_step_compare (lesson, 2), ==, "connect-tls12");
  {
    g_autofree char *capture = ts_lesson_dup_step_compare_capture (lesson, 2);
    g_assert_cmpstr (capture, ==, "captures/connect-tls12.pcapng");
  }
  g_assert_true (step->question->from_compare);
}

/* A step's compare overrides the lesson's for that step only. */
static void
test_parse_step_compare (void)
{
  const char *text = "# T\n- scenario: intercept\n- compare: connect\n\n"
                     "## Lesson's\n- view: compare\n\nOn the right, a tunnel.\n\n"
                     "## Step's\n- view: compare\n- compare: intercept-pinned\n\n"
                     "On the right, a pinning client.\n\n"
                     "## Ladder\n\nThe left alone.\n";
  g_autoptr (GError) error = NULL;
  g_autoptr (TsLesson) lesson = ts_lesson_new_from_data ("x/03-a.md", text, strlen (text), &error);
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  g_autofree char *third = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (ts_lesson_get_step_compare (lesson, 0), ==, "connect");
  g_assert_cmpstr (ts_lesson_get_step_compare (lesson, 1), ==, "intercept-pinned");
  g_assert_cmpstr (ts_lesson_get_step_compare (lesson, 2), ==, "connect");
  first = ts_lesson_dup_step_compare_capture (lesson, 0);
  second = ts_lesson_dup_step_compare_capture (lesson, 1);
  third = ts_lesson_dup_step_compare_capture (lesson, 2);
  g_assert_cmpstr (first, ==, "captures/connect.pcapng");
  g_assert_cmpstr (second, ==, "captures/intercept-pinned.pcapng");
  g_assert_cmpstr (third, ==, "captures/connect.pcapng");
}

static void
test_parse_bad (void)
{
  struct
  {
    const char *text;
    const char *message;
  } cases[] = {
    { "", "x/01-a.md: the lesson is empty: it needs a '# ' title" },
    { "Hello\n", "x/01-a.md:1: a lesson starts with its title, a '# ' heading" },
    { "# T\n\n## S\n",
      "x/01-a.md: the lesson names no scenario ('- scenario: NAME' under the title)" },
    { "# T\n- scenario: s\n", "x/01-a.md: the lesson has no steps ('## ' headings)" },
    { "# T\n- scenario: s\n- colour: red\n\n## S\n",
      "x/01-a.md:3: unknown lesson setting 'colour' (known: scenario, capture, compare, "
      "objectives, cites)" },
    { "# T\n- scenario: s\n\n## S\n- view: map\n",
      "x/01-a.md:5: unknown view 'map' (known: ladder, topology, detail, compare)" },
    { "# T\n- scenario: s\n\n## S\n- view: ladder\n- foo: bar\n",
      "x/01-a.md:6: unknown step setting 'foo' (known: highlight, view, as, compare)" },
    { "# T\n- scenario: s\n\n## S\n- view: compare\n",
      "x/01-a.md: line 4: 'view: compare' needs a '- compare: SCENARIO' setting, on the step or "
      "the lesson" },
    { "# T\n- scenario: s\n\n## S\n- compare: t\n",
      "x/01-a.md: line 4: a step's 'compare: t' goes with 'view: compare'" },
    { "# T\n- scenario: s\n- compare: t\n\n## S\n- view: ladder\n- compare: u\n",
      "x/01-a.md: line 5: a step's 'compare: u' goes with 'view: compare'" },
    { "# T\n- scenario: s\n\n## S\n- view: compare\n- compare:\n",
      "x/01-a.md:6: 'compare:' needs a scenario name" },
    { "# T\n- scenario: s\n\n## S\n- highlight: layer\n",
      "x/01-a.md:5: bad highlight: query term 'layer' is not PATH=VALUE, PATH~VALUE or "
      "PATH!=VALUE" },
    { "# T\n- scenario: s\n\n## S\n\n> Question: Why?\n",
      "x/01-a.md:6: the question has no 'answer:' line" },
    { "# T\n- scenario: s\n\n## S\n\n> Question: Why?\n>\n> - a\n> - b\n>\n> answer: c\n",
      "x/01-a.md:6: the answer 'c' is not one of the choices" },
    { "# T\n- scenario: s\n\n## S\n\n> Question: Why?\n>\n> answer: c\n> from: layer=http\n",
      "x/01-a.md:8: 'from:' needs QUERY -> FIELD" },
    { "# T\n- scenario: s\n\n> Question: Why?\n>\n> answer: c\n",
      "x/01-a.md:4: a question belongs to a step ('## ' heading)" },
    { "# T\n- scenario: s\n\n# U\n",
      "x/01-a.md:4: a lesson has one '# ' title; steps are '## ' headings" },
    { "# T\n- scenario: s\n\n## S\n\n> Question: Why?\n>\n> answer: 1\n> from-compare: layer=http "
      "-> #count\n",
      "x/01-a.md: line 6: 'from-compare:' needs a '- compare: SCENARIO' setting, on the step "
      "or the lesson" },
    { "# T\xff\n", "x/01-a.md: the file is not UTF-8" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (TsLesson) lesson
          = ts_lesson_new_from_data ("x/01-a.md", cases[i].text, strlen (cases[i].text), &error);
      g_assert_null (lesson);
      g_assert_error (error, TS_LESSON_ERROR, TS_LESSON_ERROR_INVALID);
      g_assert_cmpstr (error->message, ==, cases[i].message);
    }
}

static void
test_query (void)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  JsonObject *event;
  struct
  {
    const char *query;
    gboolean matches;
  } cases[] = {
    { "layer=http", TRUE },
    { "layer=tls", FALSE },
    { "http.method=CONNECT", TRUE },
    { "http.method=CONNECT http.target~example", TRUE },
    { "http.method=CONNECT http.target~nowhere", FALSE },
    { "http.status=200", FALSE },
    { "http.status!=200", TRUE },
    { "readers=proxy", TRUE },
    { "readers=observer", FALSE },
    { "decrypted=false", TRUE },
    { "time=1.5", TRUE },
  };

  g_assert_true (json_parser_load_from_data (
      parser,
      "{\"layer\":\"http\",\"time\":1.5,\"decrypted\":false,"
      "\"readers\":[\"client\",\"proxy\"],"
      "\"http\":{\"method\":\"CONNECT\",\"target\":\"example.com:443\"}}",
      -1, &error));
  event = json_node_get_object (json_parser_get_root (parser));
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (TsLessonQuery) query = ts_lesson_query_new (cases[i].query, &error);

      g_assert_no_error (error);
      g_assert_cmpint (ts_lesson_query_matches (query, event), ==, cases[i].matches);
    }
  {
    g_autofree char *target = ts_lesson_json_get_text (event, "http.target");
    g_autofree char *missing = ts_lesson_json_get_text (event, "tls.sni");
    g_autofree char *readers = ts_lesson_json_get_text (event, "readers");

    g_assert_cmpstr (readers, ==, "client, proxy");

    g_assert_cmpstr (target, ==, "example.com:443");
    g_assert_null (missing);
  }
}

/* Every shipped lesson parses, has its number, a scenario and questions whose
 * answers are among their choices (the parser checks that). */
static void
test_shipped (void)
{
  const char *source = g_getenv ("TS_SOURCE_DIR") ? g_getenv ("TS_SOURCE_DIR") : TS_SOURCE_DIR;
  g_autofree char *dir = g_build_filename (source, "lessons", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) files = ts_lesson_list_files (dir, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (files->len, ==, 10);
  for (guint i = 0; i < files->len; i++)
    {
      g_autoptr (TsLesson) lesson = ts_lesson_new_from_file (files->pdata[i], &error);

      g_assert_no_error (error);
      g_assert_cmpuint (lesson->number, ==, i + 1);
      g_assert_nonnull (lesson->objectives);
      g_assert_nonnull (lesson->cites);
      g_assert_cmpuint (lesson->steps->len, >=, 3);
      for (guint j = 0; j < lesson->steps->len; j++)
        {
          TsLessonStep *step = lesson->steps->pdata[j];

          g_assert_cmpstr (step->narrative, !=, "");
          if (step->view == TS_LESSON_VIEW_COMPARE)
            g_assert_nonnull (ts_lesson_get_step_compare (lesson, j));
        }
    }
}

/* The capture at @rel under the source tree, analysed once per test
 * (@cache: path -> TsLessonCapture, or no entry when it is not recorded);
 * NULL when it is not recorded (borrowed from @cache). */
static TsLessonCapture *
cached_capture (GHashTable *cache, const char *source, const char *rel)
{
  g_autofree char *path = g_build_filename (source, rel, NULL);
  TsLessonCapture *capture = g_hash_table_lookup (cache, rel);
  g_autoptr (GError) error = NULL;

  if (capture != NULL || !g_file_test (path, G_FILE_TEST_EXISTS))
    return capture;
  capture = ts_lesson_capture_new_from_file (path, &error);
  g_assert_no_error (error);
  g_hash_table_insert (cache, g_strdup (rel), capture);
  return capture;
}

/* Every highlight of a lesson resolves to at least one event of its capture
 * (a compare step's: of its capture or of the step's compare capture, the
 * two sides it shows), and every computed answer agrees with the written
 * one ("from-compare:" ones with the step's compare capture). */
static void
test_captures (void)
{
  const char *source = g_getenv ("TS_SOURCE_DIR") ? g_getenv ("TS_SOURCE_DIR") : TS_SOURCE_DIR;
  g_autofree char *dir = g_build_filename (source, "lessons", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) files = ts_lesson_list_files (dir, &error);
  g_autoptr (GString) missing = g_string_new (NULL);
  g_autoptr (GHashTable) cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                        (GDestroyNotify)ts_lesson_capture_free);
  guint n_checked = 0, n_highlights = 0, n_computed = 0;

  g_assert_no_error (error);
  for (guint i = 0; i < files->len; i++)
    {
      g_autoptr (TsLesson) lesson = ts_lesson_new_from_file (files->pdata[i], &error);
      TsLessonCapture *capture;

      g_assert_no_error (error);
      capture = cached_capture (cache, source, lesson->capture);
      if (capture == NULL)
        {
          g_string_append_printf (missing, " %s", lesson->capture);
          continue;
        }
      n_checked++;
      for (guint j = 0; j < lesson->steps->len; j++)
        {
          TsLessonStep *step = lesson->steps->pdata[j];
          g_autofree char *compare_rel = ts_lesson_dup_step_compare_capture (lesson, j);
          TsLessonCapture *compare
              = compare_rel != NULL ? cached_capture (cache, source, compare_rel) : NULL;

          if (step->view == TS_LESSON_VIEW_COMPARE && compare == NULL)
            g_error ("%s:%u: the compare capture %s is not recorded", lesson->path, step->line,
                     compare_rel);
          if (step->highlight != NULL)
            {
              g_autoptr (GArray) found = ts_lesson_capture_find (capture, step->highlight, &error);
              g_autoptr (GArray) other = NULL;

              g_assert_no_error (error);
              if (step->view == TS_LESSON_VIEW_COMPARE)
                {
                  other = ts_lesson_capture_find (compare, step->highlight, &error);
                  g_assert_no_error (error);
                }
              if (found->len == 0 && (other == NULL || other->len == 0))
                g_error ("%s:%u: highlight '%s' matches no event of %s%s%s", lesson->path,
                         step->line, step->highlight, lesson->capture, other ? " nor of " : "",
                         other ? compare_rel : "");
              n_highlights++;
            }
          if (step->question != NULL && step->question->from_query != NULL)
            {
              g_autofree char *computed = NULL;
              const char *from = step->question->from_compare ? compare_rel : lesson->capture;

              if (step->question->from_compare && compare == NULL)
                g_error ("%s:%u: the compare capture %s is not recorded", lesson->path,
                         step->question->line, compare_rel);
              computed = ts_lesson_capture_compute_answer (
                  step->question->from_compare ? compare : capture, step->question, &error);
              if (computed == NULL)
                g_error ("%s:%u: %s: %s", lesson->path, step->question->line, from, error->message);
              if (g_strcmp0 (computed, step->question->answer) != 0)
                g_error ("%s:%u: the answer is written '%s' but %s says '%s'", lesson->path,
                         step->question->line, step->question->answer, from, computed);
              n_computed++;
            }
        }
    }
  g_test_message ("%u lessons checked against their captures: %u highlights, %u computed answers",
                  n_checked, n_highlights, n_computed);
  if (missing->len > 0)
    g_test_message ("captures not recorded yet:%s", missing->str);
  if (n_checked == 0)
    g_test_skip ("no lesson capture is recorded yet (tscope record --all writes captures/)");
}

/* The code spans of a step's narrative (`connect`, `client-proxy`). */
static GPtrArray *
code_spans (const char *markdown)
{
  GPtrArray *spans = g_ptr_array_new_with_free_func (g_free);

  for (const char *p = strchr (markdown, '`'); p != NULL; p = strchr (p, '`'))
    {
      const char *end = strchr (p + 1, '`');

      if (end == NULL)
        break;
      g_ptr_array_add (spans, g_strndup (p + 1, (gsize)(end - p - 1)));
      p = end + 1;
    }
  return spans;
}

/* A step that names a scenario with a shipped capture (`connect`) talks
 * about that capture: it must be the one the step shows, the lesson's own
 * or, in a compare view, the step's compare capture. Lesson 3 talked about
 * `intercept-untrusted` and `intercept-pinned` over the intercept capture,
 * and lesson 1 about `connect` over direct-blocked's topology. */
static void
test_steps_show_their_captures (void)
{
  const char *source = g_getenv ("TS_SOURCE_DIR") ? g_getenv ("TS_SOURCE_DIR") : TS_SOURCE_DIR;
  g_autofree char *dir = g_build_filename (source, "lessons", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) files = ts_lesson_list_files (dir, &error);
  guint n_named = 0;

  g_assert_no_error (error);
  for (guint i = 0; i < files->len; i++)
    {
      g_autoptr (TsLesson) lesson = ts_lesson_new_from_file (files->pdata[i], &error);

      g_assert_no_error (error);
      for (guint j = 0; j < lesson->steps->len; j++)
        {
          const TsLessonStep *step = lesson->steps->pdata[j];
          g_autoptr (GPtrArray) spans = code_spans (step->narrative);

          for (guint k = 0; k < spans->len; k++)
            {
              const char *name = spans->pdata[k];
              g_autofree char *rel = g_strdup_printf ("captures/%s.pcapng", name);
              g_autofree char *path = g_build_filename (source, rel, NULL);
              gboolean shown;

              if (strchr (name, '/') != NULL || !g_file_test (path, G_FILE_TEST_EXISTS))
                continue;
              n_named++;
              shown = g_str_equal (name, lesson->scenario)
                      || (step->view == TS_LESSON_VIEW_COMPARE
                          && g_strcmp0 (name, ts_lesson_get_step_compare (lesson, j)) == 0);
              if (!shown)
                g_error ("%s:%u: step '%s' talks about the %s capture but shows %s%s%s (%s view)",
                         lesson->path, step->line, step->title, name, lesson->scenario,
                         step->view == TS_LESSON_VIEW_COMPARE ? " and " : "",
                         step->view == TS_LESSON_VIEW_COMPARE
                             ? ts_lesson_get_step_compare (lesson, j)
                             : "",
                         ts_lesson_view_to_string (step->view));
            }
        }
    }
  g_test_message ("%u scenario names in steps, each shown", n_named);
}

/* Lesson 3's refusing clients, each on the right of its step: the client's
 * fatal alert (unknown_ca untrusting, handshake_failure pinning) is there,
 * not in the intercept capture on the left, and no request follows. */
static void
test_interception_refused (void)
{
  const char *source = g_getenv ("TS_SOURCE_DIR") ? g_getenv ("TS_SOURCE_DIR") : TS_SOURCE_DIR;
  g_autofree char *path = g_build_filename (source, "lessons", "03-interception.md", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (TsLesson) lesson = ts_lesson_new_from_file (path, &error);
  g_autofree char *left_path = NULL;
  g_autoptr (TsLessonCapture) left = NULL;
  struct
  {
    const char *title;
    const char *compare;
    const char *alert;
  } cases[] = {
    { "When the client does not trust it", "intercept-untrusted", "Alert fatal unknown_ca" },
    { "Pinning detects it", "intercept-pinned", "Alert fatal handshake_failure" },
  };

  g_assert_no_error (error);
  left_path = g_build_filename (source, lesson->capture, NULL);
  if (!g_file_test (left_path, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("captures/intercept.pcapng is not recorded");
      return;
    }
  left = ts_lesson_capture_new_from_file (left_path, &error);
  g_assert_no_error (error);
  for (gsize c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      const TsLessonStep *step = NULL;
      guint index = 0;
      g_autofree char *rel = NULL;
      g_autofree char *right_path = NULL;
      g_autoptr (TsLessonCapture) right = NULL;
      g_autoptr (GArray) found_left = NULL;
      g_autoptr (GArray) found_right = NULL;
      g_autoptr (GArray) requests = NULL;

      for (guint j = 0; j < lesson->steps->len && step == NULL; j++)
        if (g_str_equal (((TsLessonStep *)lesson->steps->pdata[j])->title, cases[c].title))
          {
            step = lesson->steps->pdata[j];
            index = j;
          }
      g_assert_nonnull (step);
      g_assert_cmpint (step->view, ==, TS_LESSON_VIEW_COMPARE);
      g_assert_cmpstr (ts_lesson_get_step_compare (lesson, index), ==, cases[c].compare);
      g_assert_nonnull (strstr (step->narrative, "right"));
      rel = ts_lesson_dup_step_compare_capture (lesson, index);
      right_path = g_build_filename (source, rel, NULL);
      right = ts_lesson_capture_new_from_file (right_path, &error);
      g_assert_no_error (error);

      g_assert_nonnull (step->highlight);
      found_left = ts_lesson_capture_find (left, step->highlight, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (found_left->len, ==, 0);
      found_right = ts_lesson_capture_find (right, step->highlight, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (found_right->len, ==, 1);
      g_assert_cmpstr (ts_timeline_get_event (ts_lesson_capture_get_timeline (right),
                                              g_array_index (found_right, guint, 0))
                           ->summary,
                       ==, cases[c].alert);
      /* The alert's name is in the narrative, and no request is sent. */
      g_assert_nonnull (strstr (step->narrative, strrchr (cases[c].alert, ' ') + 1));
      requests = ts_lesson_capture_find (right, "kind=http.request http.method!=CONNECT", &error);
      g_assert_no_error (error);
      g_assert_cmpuint (requests->len, ==, 0);
    }
}

/* Lesson 9 said "everything after the ServerHello is encrypted" while its
 * TLS 1.3 capture shows the ChangeCipherSpec of RFC 8446 §D.4 in clear right
 * after the ServerHello. The capture still does, and the step names it. */
static void
test_tls13_change_cipher_spec (void)
{
  const char *source = g_getenv ("TS_SOURCE_DIR") ? g_getenv ("TS_SOURCE_DIR") : TS_SOURCE_DIR;
  g_autofree char *path = g_build_filename (source, "lessons", "09-tls12-and-tls13.md", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (TsLesson) lesson = ts_lesson_new_from_file (path, &error);
  g_autofree char *rel = NULL;
  g_autofree char *capture_path = NULL;
  g_autoptr (TsLessonCapture) capture = NULL;
  g_autoptr (GArray) found = NULL;
  const TsLessonStep *step;
  const TsTimelineEvent *after;

  g_assert_no_error (error);
  step = lesson->steps->pdata[1];
  g_assert_cmpstr (step->title, ==, "The certificate in TLS 1.3");
  g_assert_null (strstr (step->narrative, "everything after the ServerHello"));
  g_assert_nonnull (strstr (step->narrative, "ChangeCipherSpec"));
  g_assert_nonnull (strstr (step->narrative, "RFC 8446 §D.4"));

  rel = g_strdup_printf ("captures/%s.pcapng", lesson->compare);
  capture_path = g_build_filename (source, rel, NULL);
  if (!g_file_test (capture_path, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("the TLS 1.3 capture of lesson 9 is not recorded");
      return;
    }
  capture = ts_lesson_capture_new_from_file (capture_path, &error);
  g_assert_no_error (error);
  found = ts_lesson_capture_find (capture, "layer=tls link=client-proxy src=proxy", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (found->len, >=, 2);
  g_assert_true (g_str_has_prefix (ts_timeline_get_event (ts_lesson_capture_get_timeline (capture),
                                                          g_array_index (found, guint, 0))
                                       ->summary,
                                   "ServerHello TLS 1.3"));
  after = ts_timeline_get_event (ts_lesson_capture_get_timeline (capture),
                                 g_array_index (found, guint, 1));
  g_assert_cmpstr (after->kind, ==, "tls.change_cipher_spec");
  g_assert_false (after->encrypted);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ts/lesson/parse/good", test_parse_good);
  g_test_add_func ("/ts/lesson/parse/bad", test_parse_bad);
  g_test_add_func ("/ts/lesson/parse/step-compare", test_parse_step_compare);
  g_test_add_func ("/ts/lesson/query", test_query);
  g_test_add_func ("/ts/lesson/shipped", test_shipped);
  g_test_add_func ("/ts/lesson/captures", test_captures);
  g_test_add_func ("/ts/lesson/steps-show-their-captures", test_steps_show_their_captures);
  g_test_add_func ("/ts/lesson/interception-refused", test_interception_refused);
  g_test_add_func ("/ts/lesson/tls13-change-cipher-spec", test_tls13_change_cipher_spec);
  return g_test_run ();
}
