/* Execute's command-line splitting: shell-like words, no shell. */
#include <check.h>
#include <string.h>

#include "cmdline.h"
#include "error.h"

static void
expect_words (const char *line, const char *const *words)
{
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) argv = sc_cmdline_split (line, &error);

  ck_assert_msg (argv != NULL, "'%s': %s", line, error ? error->message : "");
  ck_assert_uint_eq (g_strv_length (argv), g_strv_length ((char **) words));
  for (guint i = 0; words[i] != NULL; i++)
    ck_assert_str_eq (argv[i], words[i]);
}

static void
expect_refused (const char *line, const char *fragment)
{
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) argv = sc_cmdline_split (line, &error);

  ck_assert_msg (argv == NULL, "'%s' was accepted", line);
  ck_assert (g_error_matches (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT));
  ck_assert_msg (strstr (error->message, fragment) != NULL, "'%s' not in '%s'", fragment,
                 error->message);
}

START_TEST (plain_words)
{
  expect_words ("/bin/echo a b  c", (const char *const[]){ "/bin/echo", "a", "b", "c", NULL });
  expect_words ("  true  ", (const char *const[]){ "true", NULL });
}
END_TEST

START_TEST (quotes_and_escapes)
{
  expect_words ("sh -c 'echo \"a b\"; exit 3'",
                (const char *const[]){ "sh", "-c", "echo \"a b\"; exit 3", NULL });
  expect_words ("printf '%s\\n' \"one two\" three",
                (const char *const[]){ "printf", "%s\\n", "one two", "three", NULL });
  expect_words ("echo a\\ b", (const char *const[]){ "echo", "a b", NULL });
  expect_words ("echo ''", (const char *const[]){ "echo", "", NULL });
}
END_TEST

START_TEST (no_shell_expansion)
{
  /* the words are passed as they are: no variables, globs or operators are interpreted */
  expect_words ("echo $HOME *.c ; ls | wc",
                (const char *const[]){ "echo", "$HOME", "*.c", ";", "ls", "|", "wc", NULL });
}
END_TEST

START_TEST (refused)
{
  g_autofree char *big = g_malloc (SC_CMDLINE_MAX_BYTES + 2);

  expect_refused ("", "empty");
  expect_refused ("   ", "empty");
  expect_refused ("echo 'unbalanced", "cannot split");
  expect_refused ("echo \"unbalanced", "cannot split");
  expect_refused ("'' arg", "names no program");
  expect_refused ("echo \xff\xfe", "UTF-8");
  memset (big, 'a', SC_CMDLINE_MAX_BYTES + 1);
  big[SC_CMDLINE_MAX_BYTES + 1] = '\0';
  expect_refused (big, "limit");
  big[SC_CMDLINE_MAX_BYTES] = '\0';
  {
    g_auto (GStrv) argv = sc_cmdline_split (big, NULL);
    ck_assert (argv != NULL);
  }
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("cmdline");
  TCase *tc = tcase_create ("split");
  SRunner *sr;
  int failed;

  tcase_add_test (tc, plain_words);
  tcase_add_test (tc, quotes_and_escapes);
  tcase_add_test (tc, no_shell_expansion);
  tcase_add_test (tc, refused);
  suite_add_tcase (s, tc);
  sr = srunner_create (s);
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
