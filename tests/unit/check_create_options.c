/* Create's JSON config: known keys, types, ranges, later objects override earlier ones. */
#include <check.h>
#include <string.h>

#include "container.h"
#include "error.h"

static void
expect_refused (const char *json, const char *fragment)
{
  g_autoptr (GError) error = NULL;
  ScContainerOptions o;

  ck_assert_msg (!sc_container_options_parse (json, &o, &error), "'%s' was accepted", json);
  ck_assert (g_error_matches (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT));
  ck_assert_msg (strstr (error->message, fragment) != NULL, "'%s' not in '%s'", fragment,
                 error->message);
}

START_TEST (defaults)
{
  ScContainerOptions o;

  ck_assert (sc_container_options_parse ("[]", &o, NULL));
  ck_assert (!o.write_buffer);
  ck_assert (!o.tmpfs_write_buffer);
  ck_assert_uint_eq (o.tmpfs_size, 100 * 1024 * 1024);
  ck_assert (sc_container_options_parse ("[{}]", &o, NULL));
}
END_TEST

START_TEST (known_keys)
{
  ScContainerOptions o;

  ck_assert (sc_container_options_parse (
      "[{\"writeBufferEnabled\": true, \"temporaryFileSystemWriteBufferEnabled\": true,"
      " \"temporaryFileSystemSize\": 1048576}]",
      &o, NULL));
  ck_assert (o.write_buffer);
  ck_assert (o.tmpfs_write_buffer);
  ck_assert_uint_eq (o.tmpfs_size, 1048576);
}
END_TEST

START_TEST (size_read_only_with_tmpfs_flag)
{
  ScContainerOptions o;

  /* the size is read only when temporaryFileSystemWriteBufferEnabled is true */
  ck_assert (sc_container_options_parse ("[{\"temporaryFileSystemSize\": 12}]", &o, NULL));
  ck_assert_uint_eq (o.tmpfs_size, 100 * 1024 * 1024);
}
END_TEST

START_TEST (later_objects_override)
{
  ScContainerOptions o;

  ck_assert (sc_container_options_parse (
      "[{\"writeBufferEnabled\": true}, {\"writeBufferEnabled\": false}]", &o, NULL));
  ck_assert (!o.write_buffer);
}
END_TEST

START_TEST (unknown_keys_accepted)
{
  ScContainerOptions o;

  ck_assert (sc_container_options_parse ("[{\"someFutureKey\": 1}]", &o, NULL));
}
END_TEST

START_TEST (refused)
{
  expect_refused ("", "JSON");
  expect_refused ("[", "JSON");
  expect_refused ("{\"writeBufferEnabled\": true}", "array");
  expect_refused ("[1]", "element 0 must be an object");
  expect_refused ("[{}, \"x\"]", "element 1 must be an object");
  expect_refused ("[{\"writeBufferEnabled\": \"yes\"}]", "writeBufferEnabled");
  expect_refused ("[{\"temporaryFileSystemWriteBufferEnabled\": 1}]",
                  "temporaryFileSystemWriteBufferEnabled");
  expect_refused ("[{\"temporaryFileSystemSize\": \"1M\"}]", "temporaryFileSystemSize");
  expect_refused ("[{\"temporaryFileSystemSize\": 1.5}]", "temporaryFileSystemSize");
  expect_refused ("[{\"temporaryFileSystemWriteBufferEnabled\": true,"
                  " \"temporaryFileSystemSize\": -1}]",
                  "out of range");
  expect_refused ("[{\"temporaryFileSystemWriteBufferEnabled\": true,"
                  " \"temporaryFileSystemSize\": 2199023255553}]",
                  "out of range");
  expect_refused ("[{\"a\": \"\\u0000\"}]", "NUL");
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("create-options");
  TCase *tc = tcase_create ("parse");
  SRunner *sr;
  int failed;

  tcase_add_test (tc, defaults);
  tcase_add_test (tc, known_keys);
  tcase_add_test (tc, size_read_only_with_tmpfs_flag);
  tcase_add_test (tc, later_objects_override);
  tcase_add_test (tc, unknown_keys_accepted);
  tcase_add_test (tc, refused);
  suite_add_tcase (s, tc);
  sr = srunner_create (s);
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
