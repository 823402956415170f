/* Unit tests of json.c: the limits applied before json-glib sees the data (size, depth, NUL,
 * UTF-8, strict strings) and the messages. */
#include <check.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "json.h"

static char *tmp_dir;

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    while ((name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *child = g_build_filename (path, name, NULL);
        remove_tree (child);
      }
  g_remove (path);
}

static void
setup (void)
{
  tmp_dir = g_dir_make_tmp ("check_json-XXXXXX", NULL);
  ck_assert_ptr_nonnull (tmp_dir);
}

static void
teardown (void)
{
  remove_tree (tmp_dir);
  g_clear_pointer (&tmp_dir, g_free);
}

/* Parses data (len bytes, -1: NUL-terminated) and expects success. */
static JsonNode *
parse_ok (const char *data, gssize len)
{
  g_autoptr (GError) error = NULL;
  JsonNode *node = sc_json_parse (data, len, "test input", &error);

  ck_assert_msg (node != NULL, "unexpected error: %s", error != NULL ? error->message : "?");
  ck_assert_ptr_null (error);
  return node;
}

/* Parses data and expects an SC_ERROR_INVALID_ARGUMENT whose message starts with `what` and
 * contains `fragment`. */
static void
parse_fails (const char *data, gssize len, const char *fragment)
{
  g_autoptr (GError) error = NULL;
  JsonNode *node = sc_json_parse (data, len, "Create config", &error);

  ck_assert_msg (node == NULL, "'%.60s' was accepted", data);
  ck_assert_ptr_nonnull (error);
  ck_assert_msg (g_error_matches (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT), "%s",
                 error->message);
  ck_assert_msg (g_str_has_prefix (error->message, "Create config: "), "%s", error->message);
  ck_assert_msg (strstr (error->message, fragment) != NULL, "'%s' does not contain '%s'",
                 error->message, fragment);
}

static char *
nested_arrays (guint depth)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < depth; i++)
    g_string_append_c (s, '[');
  for (guint i = 0; i < depth; i++)
    g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}

static char *
nested_objects (guint depth)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < depth; i++)
    g_string_append (s, "{\"a\":");
  g_string_append (s, "1");
  for (guint i = 0; i < depth; i++)
    g_string_append_c (s, '}');
  return g_string_free (s, FALSE);
}

/* A JSON string literal of exactly `size` bytes. */
static char *
string_of_size (gsize size)
{
  char *s = g_malloc (size + 1);

  memset (s, 'a', size);
  s[0] = '"';
  s[size - 1] = '"';
  s[size] = '\0';
  return s;
}

static char *
write_tmp_file (const char *name, const char *data, gssize len)
{
  char *path = g_build_filename (tmp_dir, name, NULL);

  ck_assert (g_file_set_contents (path, data, len, NULL));
  return path;
}

START_TEST (test_parse_simple)
{
  g_autoptr (JsonNode) node = parse_ok ("{\"a\": [1, 2.5, \"x\", true, null]}", -1);
  JsonArray *array;

  ck_assert (JSON_NODE_HOLDS_OBJECT (node));
  array = json_object_get_array_member (json_node_get_object (node), "a");
  ck_assert_uint_eq (json_array_get_length (array), 5);
  ck_assert_str_eq (json_array_get_string_element (array, 2), "x");
}
END_TEST

START_TEST (test_size_limit)
{
  g_autofree char *exact = string_of_size (SC_JSON_MAX_BYTES);
  g_autofree char *over = string_of_size (SC_JSON_MAX_BYTES + 1);
  g_autoptr (JsonNode) node = NULL;

  node = parse_ok (exact, -1);
  ck_assert_uint_eq (strlen (json_node_get_string (node)), SC_JSON_MAX_BYTES - 2);
  g_clear_pointer (&node, json_node_unref);
  node = parse_ok (exact, SC_JSON_MAX_BYTES);
  parse_fails (over, -1, "larger than 1048576 bytes");
  parse_fails (over, SC_JSON_MAX_BYTES + 1, "larger than 1048576 bytes");
}
END_TEST

START_TEST (test_file_size_limit)
{
  g_autofree char *exact = string_of_size (SC_JSON_MAX_BYTES);
  g_autofree char *over = string_of_size (SC_JSON_MAX_BYTES + 1);
  g_autofree char *exact_path = write_tmp_file ("exact.json", exact, -1);
  g_autofree char *over_path = write_tmp_file ("over.json", over, -1);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) node = NULL;

  node = sc_json_parse_file (exact_path, &error);
  ck_assert_ptr_null (error);
  ck_assert_ptr_nonnull (node);

  ck_assert_ptr_null (sc_json_parse_file (over_path, &error));
  ck_assert (g_error_matches (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT));
  ck_assert_msg (strstr (error->message, over_path) != NULL, "%s", error->message);
  ck_assert_msg (strstr (error->message, "larger than") != NULL, "%s", error->message);
}
END_TEST

START_TEST (test_depth_limit)
{
  g_autofree char *ok_arrays = nested_arrays (SC_JSON_MAX_DEPTH);
  g_autofree char *deep_arrays = nested_arrays (SC_JSON_MAX_DEPTH + 1);
  g_autofree char *ok_objects = nested_objects (SC_JSON_MAX_DEPTH);
  g_autofree char *deep_objects = nested_objects (SC_JSON_MAX_DEPTH + 1);
  g_autofree char *very_deep = nested_arrays (200000);

  json_node_unref (parse_ok (ok_arrays, -1));
  json_node_unref (parse_ok (ok_objects, -1));
  parse_fails (deep_arrays, -1, "JSON nested deeper than 64 levels");
  parse_fails (deep_objects, -1, "JSON nested deeper than 64 levels");
  /* deep enough to overflow json-glib's recursive parser if it ever got there */
  parse_fails (very_deep, -1, "nested deeper");
}
END_TEST

START_TEST (test_depth_siblings)
{
  /* depth is nesting, not the number of brackets: many shallow siblings are fine */
  GString *s = g_string_new ("[");
  g_autofree char *data = NULL;

  for (guint i = 0; i < 1000; i++)
    g_string_append (s, i == 0 ? "[[1]]" : ",[[1]]");
  g_string_append (s, "]");
  data = g_string_free (s, FALSE);
  json_node_unref (parse_ok (data, -1));
}
END_TEST

START_TEST (test_brackets_in_strings)
{
  g_autofree char *deep = nested_arrays (SC_JSON_MAX_DEPTH + 10);
  g_autofree char *in_string = g_strdup_printf ("[\"%s\", \"{{{{{{\"]", deep);
  g_autofree char *escaped_quote = g_strdup_printf ("[\"\\\"%s\"]", deep);
  g_autofree char *after_backslash = g_strdup_printf ("[\"\\\\\", %s]", deep);
  g_autoptr (JsonNode) node = NULL;

  node = parse_ok (in_string, -1);
  ck_assert_str_eq (json_array_get_string_element (json_node_get_array (node), 1), "{{{{{{");
  json_node_unref (parse_ok (escaped_quote, -1));
  /* "\\" ends the string: the brackets after it are structure and count */
  parse_fails (after_backslash, -1, "nested deeper");
}
END_TEST

START_TEST (test_nul_refused)
{
  static const char raw[] = "{\"a\": \"x\0y\"}";
  g_autoptr (JsonNode) node = NULL;

  parse_fails (raw, sizeof raw - 1, "NUL byte");
  parse_fails ("[\"a\\u0000b\"]", -1, "NUL character");
  parse_fails ("{\"\\u0000\": 1}", -1, "NUL character");
  parse_fails ("[\"\\U0000\"]", -1, "NUL character");
  /* json-glib would turn an octal escape into a NUL */
  parse_fails ("[\"\\0x\"]", -1, "invalid escape");
  /* an escaped backslash followed by the text u0000 is no NUL */
  node = parse_ok ("[\"\\\\u0000\"]", -1);
  ck_assert_str_eq (json_array_get_string_element (json_node_get_array (node), 0), "\\u0000");
}
END_TEST

START_TEST (test_escapes)
{
  g_autoptr (JsonNode) node = parse_ok ("[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\u00E9\"]", -1);

  ck_assert_str_eq (json_array_get_string_element (json_node_get_array (node), 0),
                    "\"\\/\b\f\n\r\t\xc3\xa9\xc3\xa9");
  parse_fails ("[\"\\x41\"]", -1, "invalid escape");
  parse_fails ("[\"\\u00g0\"]", -1, "invalid escape");
  parse_fails ("[\"\\u00\"]", -1, "invalid escape");
  parse_fails ("[\"abc\\", -1, "invalid escape");
}
END_TEST

START_TEST (test_not_strict_json_refused)
{
  /* what json-glib would accept but JSON is not: each could hide a string or comment from a
   * lexer that follows the standard */
  parse_fails ("['a']", -1, "unexpected character");
  parse_fails ("[1 /* \" */]", -1, "unexpected character");
  parse_fails ("[\"a\tb\"]", -1, "control character");
  parse_fails ("[\"abc", -1, "unterminated string");
}
END_TEST

START_TEST (test_invalid_utf8)
{
  parse_fails ("[\"\xff\"]", -1, "not valid UTF-8");
  /* an overlong NUL */
  parse_fails ("[\"\xc0\x80\"]", -1, "not valid UTF-8");
  parse_fails ("[\"\xe2\x82\"]", -1, "not valid UTF-8");
  json_node_unref (parse_ok ("[\"\xe2\x82\xac\"]", -1));
}
END_TEST

START_TEST (test_invalid_json_message)
{
  parse_fails ("{\"a\":\n\n 1,}", -1, "invalid JSON at line 3: ");
  parse_fails ("[1, 2", -1, "invalid JSON");
  parse_fails ("", -1, "empty JSON document");
  parse_fails ("  \n ", -1, "empty JSON document");
}
END_TEST

START_TEST (test_one_top_level_value)
{
  g_autoptr (JsonNode) node = NULL;

  /* json-glib alone would return the first value and ignore the rest */
  parse_fails ("[1] [2]", -1, "after the JSON value");
  parse_fails ("{} {\"a\": 1}", -1, "after the JSON value");
  parse_fails ("1 [2]", -1, "after the JSON value");
  parse_fails ("1[2]", -1, "after the JSON value");
  parse_fails ("\"a\" 1", -1, "after the JSON value");
  parse_fails ("[1]]", -1, "after the JSON value");
  parse_fails ("]", -1, "unexpected character ']'");
  node = parse_ok (" \n[1]\n ", -1);
  g_clear_pointer (&node, json_node_unref);
  node = parse_ok ("-12.5e3", -1);
  ck_assert_str_eq (sc_json_type_name (node), "number");
  g_clear_pointer (&node, json_node_unref);
  node = parse_ok (" true ", -1);
  ck_assert (json_node_get_boolean (node));
  g_clear_pointer (&node, json_node_unref);
  node = parse_ok ("\"s\"", -1);
  ck_assert_str_eq (json_node_get_string (node), "s");
}
END_TEST

START_TEST (test_file_errors)
{
  g_autofree char *missing = g_build_filename (tmp_dir, "missing.json", NULL);
  g_autofree char *fifo = g_build_filename (tmp_dir, "fifo.json", NULL);
  g_autofree char *bad = write_tmp_file ("bad.json", "{\n\"a\": }", -1);
  g_autoptr (GError) error = NULL;

  ck_assert_ptr_null (sc_json_parse_file (missing, &error));
  ck_assert_msg (strstr (error->message, missing) != NULL, "%s", error->message);
  g_clear_error (&error);

  /* must not block waiting for a writer */
  ck_assert_int_eq (mkfifo (fifo, 0600), 0);
  ck_assert_ptr_null (sc_json_parse_file (fifo, &error));
  ck_assert_msg (strstr (error->message, "not a regular file") != NULL, "%s", error->message);
  g_clear_error (&error);

  ck_assert_ptr_null (sc_json_parse_file (tmp_dir, &error));
  g_clear_error (&error);

  ck_assert_ptr_null (sc_json_parse_file (bad, &error));
  ck_assert (g_error_matches (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT));
  ck_assert_msg (g_str_has_prefix (error->message, bad), "%s", error->message);
  ck_assert_msg (strstr (error->message, "invalid JSON at line 2") != NULL, "%s",
                 error->message);
}
END_TEST

START_TEST (test_type_names)
{
  g_autoptr (JsonNode) node =
      parse_ok ("[{}, [], \"s\", 1, 1.5, true, null]", -1);
  JsonArray *array = json_node_get_array (node);
  static const char *const expected[] = {
    "object", "array", "string", "integer", "number", "boolean", "null",
  };

  ck_assert_str_eq (sc_json_type_name (node), "array");
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    ck_assert_str_eq (sc_json_type_name (json_array_get_element (array, i)), expected[i]);
  ck_assert_str_eq (sc_json_type_name (NULL), "null");
}
END_TEST

static Suite *
json_suite (void)
{
  Suite *s = suite_create ("json");
  TCase *limits = tcase_create ("limits");
  TCase *strings = tcase_create ("strings");
  TCase *files = tcase_create ("files");

  tcase_add_test (limits, test_parse_simple);
  tcase_add_test (limits, test_size_limit);
  tcase_add_test (limits, test_depth_limit);
  tcase_add_test (limits, test_depth_siblings);
  tcase_add_test (limits, test_type_names);
  suite_add_tcase (s, limits);

  tcase_add_test (strings, test_brackets_in_strings);
  tcase_add_test (strings, test_nul_refused);
  tcase_add_test (strings, test_escapes);
  tcase_add_test (strings, test_not_strict_json_refused);
  tcase_add_test (strings, test_invalid_utf8);
  tcase_add_test (strings, test_invalid_json_message);
  tcase_add_test (strings, test_one_top_level_value);
  suite_add_tcase (s, strings);

  tcase_add_checked_fixture (files, setup, teardown);
  tcase_add_test (files, test_file_size_limit);
  tcase_add_test (files, test_file_errors);
  suite_add_tcase (s, files);
  return s;
}

int
main (void)
{
  SRunner *runner = srunner_create (json_suite ());
  int failed;

  srunner_run_all (runner, CK_NORMAL);
  failed = srunner_ntests_failed (runner);
  srunner_free (runner);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
