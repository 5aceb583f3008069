/* test-lesson.c: `tscope lesson` as a student uses it: answers typed to its
 * questions, and its width in a terminal, in a pipe and with --width.
 * SPDX-License-Identifier: GPL-3.0-or-later */
/* posix_openpt (), grantpt (), unlockpt (), ptsname (): a pseudo-terminal. */
#define _XOPEN_SOURCE 600
#include "config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <gio/gio.h>

/* The lessons shipped in lessons/. */
#define N_LESSONS 10

typedef struct
{
  int status;
  char *out;
  char *err;
} Run;

static void
run_clear (Run *r)
{
  g_free (r->out);
  g_free (r->err);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Run, run_clear)

static char *
tscope_path (void)
{
  const char *build = g_getenv ("TS_BUILD_DIR") ? g_getenv ("TS_BUILD_DIR") : TS_BUILD_DIR;
  return g_build_filename (build, "cli", "tscope", NULL);
}

static void
launcher_setenv (GSubprocessLauncher *launcher)
{
  g_subprocess_launcher_setenv (launcher, "TZ", "UTC", TRUE);
  g_subprocess_launcher_setenv (launcher, "LC_ALL", "C", TRUE);
  g_subprocess_launcher_unsetenv (launcher, "COLUMNS");
}

/* Runs `tscope ARGS...` (NULL-terminated) with @input typed on standard input
 * and standard output a pipe; @columns, or NULL, is $COLUMNS. */
static void
run_tscope (Run *r, const char *input, const char *columns, ...)
{
  g_autoptr (GSubprocessLauncher) launcher
      = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                   | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GError) error = NULL;
  const char *arg;
  va_list ap;

  g_ptr_array_add (argv, tscope_path ());
  va_start (ap, columns);
  while ((arg = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (argv, g_strdup (arg));
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  launcher_setenv (launcher);
  if (columns != NULL)
    g_subprocess_launcher_setenv (launcher, "COLUMNS", columns, TRUE);
  proc = g_subprocess_launcher_spawnv (launcher, (const char *const *)argv->pdata, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_communicate_utf8 (proc, input, NULL, &r->out, &r->err, &error));
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (proc));
  r->status = g_subprocess_get_exit_status (proc);
}

/* What tscope answered to the first answer typed to the question @prompt:
 * the line after the question's first "Your answer (...): " prompt. */
static char *
reply_to (const char *out, const char *prompt)
{
  const char *question = strstr (out, prompt);
  const char *reply;

  g_assert_nonnull (question);
  reply = strstr (question, "; Enter to skip): ");
  g_assert_nonnull (reply);
  reply += strlen ("; Enter to skip): ");
  return g_strndup (reply, strcspn (reply, "\n"));
}

/* Types @answer to the question of lesson @lesson after @enters Enters, and
 * returns what tscope said to it. */
static char *
answer (const char *lesson, guint enters, const char *prompt, const char *typed)
{
  g_autoptr (GString) input = g_string_new (NULL);
  g_auto (Run) r = { 0 };

  for (guint i = 0; i < enters; i++)
    g_string_append_c (input, '\n');
  g_string_append_printf (input, "%s\n", typed);
  run_tscope (&r, input->str, NULL, "lesson", lesson, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpstr (r.err, ==, "");
  return reply_to (r.out, prompt);
}

static void
assert_reply (const char *lesson, guint enters, const char *prompt, const char *typed,
              const char *expected)
{
  g_autofree char *reply = answer (lesson, enters, prompt, typed);

  g_test_message ("lesson %s, typed '%s': %s", lesson, typed, reply);
  g_assert_cmpstr (reply, ==, expected);
}

/* Choices that are numbers are lettered, and a typed number is a choice's
 * text, never its position: "2" was the third choice of "0, 1, 2" and was
 * wrong; "1" was the first, "0", and was right. */
static void
test_numeric_choices (void)
{
  const char *udp = "How many UDP datagrams crossed the proxy-server link?";
  const char *syn = "How many SYNs reached the proxy-server link?";
  g_auto (Run) r = { 0 };

  /* Lesson 8: Enter for steps 1 and 2, "TCP" for step 1's question. */
  assert_reply ("8", 1, "Which transport", "TCP", "Right: TCP.");
  assert_reply ("8", 3, udp, "2", "Right: 2.");
  assert_reply ("8", 3, udp, "c", "Right: 2.");
  assert_reply ("8", 3, udp, "C", "Right: 2.");
  assert_reply ("8", 3, udp, "1", "Not quite; try again.");
  assert_reply ("8", 3, udp, "b", "Not quite; try again.");
  assert_reply ("8", 3, udp, "3", "'3' is not one of the choices: type a-c or a choice's text.");
  assert_reply ("8", 3, udp, "d", "'d' is not one of the choices: type a-c or a choice's text.");
  /* Lesson 1: its first question is in step 1. */
  assert_reply ("1", 1, syn, "1", "Not quite; try again.");
  assert_reply ("1", 1, syn, "0", "Right: 0.");
  assert_reply ("1", 1, syn, "a", "Right: 0.");

  run_tscope (&r, "\n", NULL, "lesson", "1", NULL);
  g_assert_nonnull (strstr (r.out, "  a. 0\n  b. 1\n  c. 3\n"
                                   "Your answer (a-c or a choice's text; Enter to skip): "));
}

/* Choices that are words keep their numbers, and their text is taken too. */
static void
test_word_choices (void)
{
  const char *form = "Which form of request target does a client send";
  g_auto (Run) r = { 0 };

  assert_reply ("2", 1, form, "2", "Right: absolute-form.");
  assert_reply ("2", 1, form, " Absolute-Form ", "Right: absolute-form.");
  assert_reply ("2", 1, form, "1", "Not quite; try again.");
  assert_reply ("2", 1, form, "origin-form", "Not quite; try again.");
  assert_reply ("2", 1, form, "a", "'a' is not one of the choices: type 1-4 or a choice's text.");

  run_tscope (&r, "\n", NULL, "lesson", "2", NULL);
  g_assert_nonnull (strstr (r.out, "  1. origin-form\n  2. absolute-form\n"));
}

static gsize
widest_line (const char *text)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  gsize widest = 0;

  for (guint i = 0; lines[i] != NULL; i++)
    widest = MAX (widest, (gsize)g_utf8_strlen (lines[i], -1));
  return widest;
}

/* @text with every run of spaces and newlines made one space. */
static char *
squeeze (const char *text)
{
  GString *out = g_string_new (NULL);

  for (const char *p = text; *p != '\0'; p++)
    if (!g_ascii_isspace (*p))
      g_string_append_c (out, *p);
    else if (out->len > 0 && out->str[out->len - 1] != ' ')
      g_string_append_c (out, ' ');
  return g_string_free (out, FALSE);
}

/* Not a terminal: 80 columns whatever $COLUMNS says; --width as explain's. */
static void
test_width (void)
{
  g_auto (Run) piped = { 0 };
  g_auto (Run) columns = { 0 };
  g_auto (Run) wide = { 0 };
  g_auto (Run) too_narrow = { 0 };

  run_tscope (&piped, NULL, NULL, "lesson", "3", "--all", NULL);
  run_tscope (&columns, NULL, "130", "lesson", "3", "--all", NULL);
  run_tscope (&wide, NULL, NULL, "lesson", "3", "--all", "--width", "130", NULL);
  g_assert_cmpint (piped.status, ==, 0);
  g_assert_cmpint (wide.status, ==, 0);
  g_assert_cmpuint (widest_line (piped.out), ==, 80);
  g_assert_cmpstr (columns.out, ==, piped.out);
  g_assert_cmpuint (widest_line (wide.out), <=, 130);
  g_assert_cmpuint (widest_line (wide.out), >, 80);

  run_tscope (&too_narrow, NULL, NULL, "lesson", "3", "--width", "59", NULL);
  g_assert_cmpint (too_narrow.status, ==, 2);
  g_assert_cmpstr (too_narrow.err, ==, "tscope: --width 59 is too narrow (at least 60)\n");
  g_assert_cmpstr (too_narrow.out, ==, "");
}

/* Every line of every lesson fits the width, and no highlighted event is
 * cut: a question may ask about the end of its summary. */
static void
test_highlights_whole (void)
{
  static const char *const widths[] = { "60", "80", "200" };

  for (guint n = 1; n <= N_LESSONS; n++)
    for (guint w = 0; w < G_N_ELEMENTS (widths); w++)
      {
        g_autofree char *lesson = g_strdup_printf ("%u", n);
        g_auto (Run) r = { 0 };
        g_auto (GStrv) lines = NULL;

        run_tscope (&r, NULL, NULL, "lesson", lesson, "--all", "--width", widths[w], NULL);
        g_assert_cmpint (r.status, ==, 0);
        g_assert_cmpuint (widest_line (r.out), <=, atoi (widths[w]));
        lines = g_strsplit (r.out, "\n", -1);
        for (guint i = 0; lines[i] != NULL; i++)
          if (g_str_has_prefix (lines[i], "  > ") && g_str_has_suffix (lines[i], "..."))
            g_error ("lesson %u at width %s cuts a highlight: %s", n, widths[w], lines[i]);
      }

  /* Lesson 3, step 3 asks for the issuer of the certificate it highlights;
   * lesson 5, step 2 names it (on the left of its compare view). */
  for (guint i = 0; i < 2; i++)
    {
      g_auto (Run) r = { 0 };
      g_autofree char *text = NULL;
      const char *step;

      run_tscope (&r, NULL, NULL, "lesson", i == 0 ? "3" : "5", "--all", "--width", "60", NULL);
      text = squeeze (r.out);
      step = strstr (text, i == 0 ? "Look at, as seen by client: > "
                                  : "Look at, on the left (captures/intercept.pcapng), as seen "
                                    "by client: > ");
      g_assert_nonnull (step);
      g_assert_true (
          g_str_has_prefix (strstr (step, "Certificate example.com, "),
                            "Certificate example.com, issued by Tunnelscope Lab Intercept CA #0 "));
    }
}

/* In a terminal, the terminal's width. */
static void
test_terminal (void)
{
  g_autoptr (GSubprocessLauncher) launcher
      = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) out = g_string_new (NULL);
  g_autofree char *tscope = tscope_path ();
  g_autofree char *got = NULL;
  struct winsize size = { .ws_row = 24, .ws_col = 130 };
  char buf[4096];
  int controller, terminal;
  ssize_t n;

  controller = posix_openpt (O_RDWR | O_NOCTTY);
  if (controller < 0 || grantpt (controller) != 0 || unlockpt (controller) != 0)
    {
      g_test_skip ("no pseudo-terminal");
      return;
    }
  terminal = open (ptsname (controller), O_RDWR | O_NOCTTY);
  g_assert_cmpint (terminal, >=, 0);
  g_assert_cmpint (ioctl (terminal, TIOCSWINSZ, &size), ==, 0);
  launcher_setenv (launcher);
  g_subprocess_launcher_take_stdout_fd (launcher, terminal);
  proc = g_subprocess_launcher_spawn (launcher, &error, tscope, "lesson", "3", "--all", NULL);
  g_assert_no_error (error);
  /* The launcher holds the terminal until freed; the reads below end
   * (EIO) once no one holds it. */
  g_clear_object (&launcher);
  while ((n = read (controller, buf, sizeof buf)) > 0)
    g_string_append_len (out, buf, n);
  g_assert_true (g_subprocess_wait_check (proc, NULL, &error));
  g_assert_no_error (error);
  close (controller);

  {
    g_auto (Run) wide = { 0 };
    g_autoptr (GRegex) crlf = g_regex_new ("\r\n", 0, 0, NULL);

    run_tscope (&wide, NULL, NULL, "lesson", "3", "--all", "--width", "130", NULL);
    got = g_regex_replace_literal (crlf, out->str, -1, 0, "\n", 0, NULL);
    g_assert_cmpstr (got, ==, wide.out);
  }
}

/* A step "as: observer" shows what an on-path observer of every link sees
 * (it showed everyone's view, while saying "as seen by observer"): lesson
 * 10's SYN-ACKs, not the lab's events. */
static void
test_as_observer (void)
{
  g_auto (Run) r = { 0 };
  const char *look;

  run_tscope (&r, "", NULL, "lesson", "10", "--all", NULL);
  g_assert_cmpint (r.status, ==, 0);
  look = strstr (r.out, "Look at, as seen by an on-path observer of every link:\n");
  g_assert_nonnull (look);
  g_assert_nonnull (strstr (look, "SYN,ACK"));
}

/* No two blank lines in a row: a step with nothing highlighted (lesson 9)
 * and a lesson with no introduction (lesson 8) left them. */
static void
test_spacing (void)
{
  for (guint n = 1; n <= 10; n++)
    {
      g_auto (Run) r = { 0 };
      g_autofree char *lesson = g_strdup_printf ("%u", n);

      run_tscope (&r, "", NULL, "lesson", lesson, "--all", NULL);
      g_assert_cmpint (r.status, ==, 0);
      g_test_message ("lesson %u", n);
      g_assert_null (strstr (r.out, "\n\n\n"));
    }
}

/* A step "view: detail" prints its events' detail under them, as the app
 * shows it: lesson 1 asks for the times between SYNs, which the ladder
 * folds into one line and its detail lists. */
static void
test_detail (void)
{
  g_auto (Run) r = { 0 };

  run_tscope (&r, "", NULL, "lesson", "1", "--all", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "no answer to SYN (3 sent)\n"));
  g_assert_nonnull (strstr (r.out, "SYN 2 sent at +1.0"));
}

/* The step's text between its "Step N of" rule and the next step (or the
 * end), from `tscope lesson LESSON --all` (transfer full). */
static char *
step_text (const char *lesson, guint n)
{
  g_auto (Run) r = { 0 };
  g_autofree char *start = g_strdup_printf ("\nStep %u of ", n);
  g_autofree char *next = g_strdup_printf ("\nStep %u of ", n + 1);
  const char *from, *to;

  run_tscope (&r, "", NULL, "lesson", lesson, "--all", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpstr (r.err, ==, "");
  from = strstr (r.out, start);
  g_assert_nonnull (from);
  to = strstr (from, next);
  if (to == NULL)
    to = strstr (from, "\nEnd of lesson");
  g_assert_nonnull (to);
  return g_strndup (from, (gsize)(to - from));
}

/* A compare step says which capture it compares with (the step's own,
 * else the lesson's) and prints its highlights in both, each under a line
 * naming its capture: lesson 3's refusing clients are on the right, where
 * the terminal showed only the intercept capture, in which nothing
 * matched. */
static void
test_compare (void)
{
  struct
  {
    const char *lesson;
    guint step;
    const char *view;
    const char *left;
    const char *right;
  } cases[] = {
    { "3", 6, "[view: compare with intercept-untrusted (captures/intercept-untrusted.pcapng)]\n",
      "(nothing on the left (captures/intercept.pcapng) matches this step's highlight:",
      "Look at, on the right (captures/intercept-untrusted.pcapng):\n"
      "  >   0.057864  client -> proxy  Alert fatal unknown_ca  #0\n" },
    { "3", 7, "[view: compare with intercept-pinned (captures/intercept-pinned.pcapng)]\n",
      "(nothing on the left (captures/intercept.pcapng) matches this step's highlight:",
      "Look at, on the right (captures/intercept-pinned.pcapng):\n"
      "  >   0.062138  client -> proxy  Alert fatal handshake_failure  #0\n" },
    { "1", 3, "[view: compare with connect (captures/connect.pcapng)]\n",
      "Look at, on the left (captures/direct-blocked.pcapng):\n  > ",
      "Look at, on the right (captures/connect.pcapng):\n  > " },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = step_text (cases[i].lesson, cases[i].step);
      const char *view = strstr (text, cases[i].view);
      const char *left = strstr (text, cases[i].left);
      const char *right = strstr (text, cases[i].right);

      g_test_message ("lesson %s step %u:%s", cases[i].lesson, cases[i].step, text);
      g_assert_nonnull (view);
      g_assert_nonnull (left);
      g_assert_nonnull (right);
      g_assert_true (view < left && left < right);
    }
  /* Lesson 1: the client's SYN on the left, the two SYNs of the proxied
   * request on the right. */
  {
    g_autofree char *text = step_text ("1", 3);
    const char *right = strstr (text, "on the right (captures/connect.pcapng)");
    guint n_left = 0, n_right = 0;

    for (const char *p = strstr (text, "  > "); p != NULL; p = strstr (p + 1, "  > "))
      {
        g_assert_nonnull (strstr (p, "SYN"));
        if (p < right)
          n_left++;
        else
          n_right++;
      }
    g_assert_cmpuint (n_left, ==, 1);
    g_assert_cmpuint (n_right, ==, 2);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ts/cli/lesson/numeric-choices", test_numeric_choices);
  g_test_add_func ("/ts/cli/lesson/word-choices", test_word_choices);
  g_test_add_func ("/ts/cli/lesson/width", test_width);
  g_test_add_func ("/ts/cli/lesson/highlights-whole", test_highlights_whole);
  g_test_add_func ("/ts/cli/lesson/terminal", test_terminal);
  g_test_add_func ("/ts/cli/lesson/as-observer", test_as_observer);
  g_test_add_func ("/ts/cli/lesson/detail", test_detail);
  g_test_add_func ("/ts/cli/lesson/spacing", test_spacing);
  g_test_add_func ("/ts/cli/lesson/compare", test_compare);
  return g_test_run ();
}
