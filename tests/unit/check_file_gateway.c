/* Unit tests of the file gateway's prepare (checking and merging of its configs) and commit.
 * Mounting needs a running container and is left to the integration tests: apply is never
 * called here. What a committed change holds is read from the debug line commit logs for each
 * mount ("file gateway: HOST -> CONTAINER (read-only|read-write)"), captured by a log writer.
 *
 * Host paths live in a temporary directory made per test; in the JSON texts below '@' stands
 * for it. */
#include <check.h>
#include <glib/gstdio.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "gateway.h"

static char *tmpdir;
static GPtrArray *debug_lines; /* char *: debug messages since the test began */

static GLogWriterOutput
capture_writer_cb (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
  if ((level & G_LOG_LEVEL_DEBUG) && debug_lines != NULL)
    {
      for (gsize i = 0; i < n_fields; i++)
        if (strcmp (fields[i].key, "MESSAGE") == 0)
          g_ptr_array_add (debug_lines,
                           fields[i].length < 0
                               ? g_strdup (fields[i].value)
                               : g_strndup (fields[i].value, (gsize) fields[i].length));
      return G_LOG_WRITER_HANDLED;
    }
  return g_log_writer_default (level, fields, n_fields, data);
}

static void
write_or_die (const char *name, const char *data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (tmpdir, name, NULL);

  ck_assert_msg (g_file_set_contents (path, data, -1, &error), "%s", error ? error->message : "");
}

static void
setup (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = NULL;

  tmpdir = g_dir_make_tmp ("sc-file-gw-XXXXXX", &error);
  ck_assert_msg (tmpdir != NULL, "%s", error ? error->message : "");
  write_or_die ("a", "a");
  write_or_die ("b", "b");
  dir = g_build_filename (tmpdir, "d", NULL);
  ck_assert_int_eq (g_mkdir (dir, 0755), 0);
  debug_lines = g_ptr_array_new_with_free_func (g_free);
}

static void
teardown (void)
{
  const char *names[] = { "a", "b", "d" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename (tmpdir, names[i], NULL);
      g_remove (path);
    }
  g_rmdir (tmpdir);
  g_clear_pointer (&tmpdir, g_free);
  g_clear_pointer (&debug_lines, g_ptr_array_unref);
}

/* The text with every '@' replaced by the temporary directory. */
static char *
expand (const char *text)
{
  GString *s = g_string_new (text);

  g_string_replace (s, "@", tmpdir, 0);
  return g_string_free (s, FALSE);
}

static void
config_free (gpointer data)
{
  ScGatewayConfig *config = data;

  g_free (config->capability);
  g_free (config->gateway_id);
  g_free (config->origin);
  if (config->config != NULL)
    json_node_unref (config->config);
  g_free (config);
}

static ScGatewayConfig *
config_new (const char *capability, const char *json)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *text = expand (json);
  ScGatewayConfig *config = g_new0 (ScGatewayConfig, 1);

  config->capability = g_strdup (capability);
  config->gateway_id = g_strdup ("file");
  config->origin = g_strdup_printf ("/test/%s.json", capability);
  config->config = json_from_string (text, &error);
  ck_assert_msg (config->config != NULL, "bad test JSON %s: %s", text,
                 error != NULL ? error->message : "empty");
  return config;
}

/* Prepares the configs (JSON texts, NULL-terminated; the k-th belongs to capability "capk") on
 * a fresh state and, when that works, commits the change (never applying it). */
static gboolean
run_file_va (GError **error, const char *json, va_list ap)
{
  const ScGatewayOps *ops = &sc_file_gateway;
  g_autoptr (GPtrArray) configs = g_ptr_array_new_with_free_func (config_free);
  gpointer state = ops->state_new ();
  gpointer change = NULL;

  for (const char *text = json; text != NULL; text = va_arg (ap, const char *))
    {
      g_autofree char *capability = g_strdup_printf ("cap%u", configs->len);
      g_ptr_array_add (configs, config_new (capability, text));
    }
  change = ops->prepare (state, configs, error);
  if (change != NULL)
    {
      ops->commit (state, change);
      ops->change_free (change);
    }
  ops->state_free (state);
  return change != NULL;
}

/* Runs the configs and checks the mounts commit logged, in order; expected is NULL-terminated
 * with '@' for the temporary directory. */
static void
assert_mounts (const char *const *expected, const char *json, ...)
{
  g_autoptr (GError) error = NULL;
  gboolean ok = FALSE;
  guint n = 0;
  va_list ap;

  va_start (ap, json);
  ok = run_file_va (&error, json, ap);
  va_end (ap);
  ck_assert_msg (ok, "prepare failed: %s", error ? error->message : "");

  for (; expected[n] != NULL; n++)
    {
      g_autofree char *text = expand (expected[n]);
      g_autofree char *line = g_strdup_printf ("file gateway: %s", text);

      ck_assert_msg (n < debug_lines->len, "missing mount %s", text);
      ck_assert_str_eq (g_ptr_array_index (debug_lines, n), line);
    }
  ck_assert_msg (debug_lines->len == n, "%u mounts logged, %u expected", debug_lines->len, n);
}

/* Prepare must fail with GatewayConfig and a message holding every given fragment ('@' for the
 * temporary directory). */
static void
assert_refused (const char *const *fragments, const char *json, ...)
{
  g_autoptr (GError) error = NULL;
  gboolean ok = FALSE;
  va_list ap;

  va_start (ap, json);
  ok = run_file_va (&error, json, ap);
  va_end (ap);
  ck_assert_msg (!ok, "prepare accepted %s", json);
  ck_assert_ptr_nonnull (error);
  ck_assert_msg (g_error_matches (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG),
                 "wrong error code %d: %s", error->code, error->message);
  for (const char *const *f = fragments; f != NULL && *f != NULL; f++)
    {
      g_autofree char *fragment = expand (*f);
      ck_assert_msg (strstr (error->message, fragment) != NULL, "'%s' not in message: %s",
                     fragment, error->message);
    }
  ck_assert_uint_eq (debug_lines->len, 0);
}

#define STRV(...) ((const char *const[]){ __VA_ARGS__, NULL })

START_TEST (test_ops_table)
{
  ck_assert_str_eq (sc_file_gateway.id, "file");
  ck_assert (!sc_file_gateway.dynamic);
  ck_assert_ptr_nonnull (sc_file_gateway.apply);
  ck_assert_ptr_nonnull (sc_file_gateway.revert);
  ck_assert_ptr_null (sc_file_gateway.teardown);
  ck_assert_ptr_null (sc_file_gateway.environment);
}
END_TEST

START_TEST (test_single_read_only_default)
{
  assert_mounts (STRV ("@/a -> /c/a (read-write)"),
                 "[{\"path-host\": \"@/a\", \"path-container\": \"/c/a\"}]", NULL);
}
END_TEST

START_TEST (test_read_only_true_false)
{
  assert_mounts (STRV ("@/a -> /c/a (read-only)", "@/b -> /c/b (read-write)"),
                 "[{\"path-host\": \"@/a\", \"path-container\": \"/c/a\", \"read-only\": true},"
                 " {\"path-host\": \"@/b\", \"path-container\": \"/c/b\", \"read-only\": false}]",
                 NULL);
}
END_TEST

START_TEST (test_directory)
{
  assert_mounts (STRV ("@/d -> /data (read-only)"),
                 "[{\"path-host\": \"@/d\", \"path-container\": \"/data/\", \"read-only\": true}]",
                 NULL);
}
END_TEST

START_TEST (test_same_place_rw_beats_ro)
{
  assert_mounts (STRV ("@/a -> /c/a (read-write)"),
                 "[{\"path-host\": \"@/a\", \"path-container\": \"/c/a\", \"read-only\": true},"
                 " {\"path-host\": \"@/a\", \"path-container\": \"/c/a\", \"read-only\": false}]",
                 NULL);
}
END_TEST

START_TEST (test_same_place_ro_after_rw)
{
  assert_mounts (STRV ("@/a -> /c/a (read-write)"),
                 "[{\"path-host\": \"@/a\", \"path-container\": \"/c/a\"},"
                 " {\"path-host\": \"@/a\", \"path-container\": \"/c/a\", \"read-only\": true}]",
                 NULL);
}
END_TEST

START_TEST (test_same_place_both_ro)
{
  assert_mounts (STRV ("@/a -> /c/a (read-only)"),
                 "[{\"path-host\": \"@/a\", \"path-container\": \"/c/a\", \"read-only\": true},"
                 " {\"path-host\": \"@/a\", \"path-container\": \"/c/a\", \"read-only\": true}]",
                 NULL);
}
END_TEST

START_TEST (test_same_place_across_capabilities)
{
  assert_mounts (STRV ("@/a -> /c/a (read-write)"),
                 "[{\"path-host\": \"@/a\", \"path-container\": \"/c/a\", \"read-only\": true}]",
                 "[{\"path-host\": \"@/a\", \"path-container\": \"/c/a\"}]", NULL);
}
END_TEST

START_TEST (test_same_place_other_spelling)
{
  /* container paths compare normalised, host paths by the file they name */
  assert_mounts (STRV ("@/a -> /c/a (read-write)"),
                 "[{\"path-host\": \"@/a\", \"path-container\": \"/c/a\", \"read-only\": true},"
                 " {\"path-host\": \"@//d/../a\", \"path-container\": \"/c/./x/..//a/\"}]",
                 NULL);
}
END_TEST

START_TEST (test_same_host_two_places)
{
  assert_mounts (STRV ("@/a -> /c/one (read-only)", "@/a -> /c/two (read-write)"),
                 "[{\"path-host\": \"@/a\", \"path-container\": \"/c/one\", \"read-only\": true},"
                 " {\"path-host\": \"@/a\", \"path-container\": \"/c/two\"}]",
                 NULL);
}
END_TEST

START_TEST (test_parents_first)
{
  assert_mounts (STRV ("@/d -> /c (read-write)", "@/a -> /c/sub/a (read-write)",
                       "@/b -> /c2 (read-write)"),
                 "[{\"path-host\": \"@/b\", \"path-container\": \"/c2\"},"
                 " {\"path-host\": \"@/a\", \"path-container\": \"/c/sub/a\"},"
                 " {\"path-host\": \"@/d\", \"path-container\": \"/c\"}]",
                 NULL);
}
END_TEST

START_TEST (test_conflict)
{
  assert_refused (STRV ("cap0", "item 1", "item 0", "'/c/x'", "'@/a'", "'@/b'"),
                  "[{\"path-host\": \"@/a\", \"path-container\": \"/c/x\"},"
                  " {\"path-host\": \"@/b\", \"path-container\": \"/c/x\"}]",
                  NULL);
}
END_TEST

START_TEST (test_conflict_across_capabilities)
{
  assert_refused (STRV ("capability 'cap0'", "capability 'cap1'", "'/c/x'", "'@/a'", "'@/b'"),
                  "[{\"path-host\": \"@/a\", \"path-container\": \"/c/x\"}]",
                  "[{\"path-host\": \"@/b\", \"path-container\": \"/c//x/\"}]", NULL);
}
END_TEST

START_TEST (test_missing_host)
{
  assert_refused (STRV ("cap0", "item 0", "'@/missing'", "does not exist"),
                  "[{\"path-host\": \"@/missing\", \"path-container\": \"/c/x\"}]", NULL);
}
END_TEST

START_TEST (test_missing_host_below_file)
{
  assert_refused (STRV ("'@/a/x'", "does not exist"),
                  "[{\"path-host\": \"@/a/x\", \"path-container\": \"/c/x\"}]", NULL);
}
END_TEST

START_TEST (test_relative_host)
{
  assert_refused (STRV ("'path-host'", "absolute"),
                  "[{\"path-host\": \"a\", \"path-container\": \"/c/x\"}]", NULL);
}
END_TEST

START_TEST (test_device_host)
{
  assert_refused (STRV ("'/dev/null'", "devicenode"),
                  "[{\"path-host\": \"/dev/null\", \"path-container\": \"/dev/null\"}]", NULL);
}
END_TEST

START_TEST (test_relative_container)
{
  assert_refused (STRV ("cap0", "item 0", "path-container", "absolute"),
                  "[{\"path-host\": \"@/a\", \"path-container\": \"c/x\"}]", NULL);
}
END_TEST

START_TEST (test_container_root)
{
  assert_refused (STRV ("path-container", "root"),
                  "[{\"path-host\": \"@/d\", \"path-container\": \"/c/..\"}]", NULL);
}
END_TEST

START_TEST (test_container_newline)
{
  assert_refused (STRV ("path-container", "newline"),
                  "[{\"path-host\": \"@/a\", \"path-container\": \"/c\\nx\"}]", NULL);
}
END_TEST

START_TEST (test_empty_paths)
{
  assert_refused (STRV ("'path-host'", "empty"),
                  "[{\"path-host\": \"\", \"path-container\": \"/c/x\"}]", NULL);
  assert_refused (STRV ("'path-container'", "empty"),
                  "[{\"path-host\": \"@/a\", \"path-container\": \"\"}]", NULL);
}
END_TEST

START_TEST (test_missing_keys)
{
  assert_refused (STRV ("'path-host'", "missing"), "[{\"path-container\": \"/c/x\"}]", NULL);
  assert_refused (STRV ("'path-container'", "missing"), "[{\"path-host\": \"@/a\"}]", NULL);
}
END_TEST

START_TEST (test_non_array_config)
{
  assert_refused (STRV ("capability 'cap0'", "/test/cap0.json", "array", "object"),
                  "{\"path-host\": \"@/a\", \"path-container\": \"/c/a\"}", NULL);
  assert_refused (STRV ("array", "string"), "\"@/a\"", NULL);
}
END_TEST

START_TEST (test_empty_array)
{
  assert_refused (STRV ("capability 'cap0'", "empty"), "[]", NULL);
  assert_refused (STRV ("capability 'cap1'", "empty"),
                  "[{\"path-host\": \"@/a\", \"path-container\": \"/c/a\"}]", "[]", NULL);
}
END_TEST

START_TEST (test_item_not_object)
{
  assert_refused (STRV ("item 1", "object", "array"),
                  "[{\"path-host\": \"@/a\", \"path-container\": \"/c/a\"}, [\"@/b\", \"/c/b\"]]",
                  NULL);
}
END_TEST

START_TEST (test_unknown_key)
{
  assert_refused (STRV ("cap0", "item 0", "'readonly'"),
                  "[{\"path-host\": \"@/a\", \"path-container\": \"/c/a\", \"readonly\": true}]",
                  NULL);
}
END_TEST

START_TEST (test_wrong_types)
{
  assert_refused (STRV ("'read-only'", "string"),
                  "[{\"path-host\": \"@/a\", \"path-container\": \"/c/a\","
                  "  \"read-only\": \"yes\"}]",
                  NULL);
  assert_refused (STRV ("'read-only'", "integer"),
                  "[{\"path-host\": \"@/a\", \"path-container\": \"/c/a\", \"read-only\": 1}]",
                  NULL);
  assert_refused (STRV ("'path-host'", "string", "integer"),
                  "[{\"path-host\": 1, \"path-container\": \"/c/a\"}]", NULL);
  assert_refused (STRV ("'path-container'", "string", "null"),
                  "[{\"path-host\": \"@/a\", \"path-container\": null}]", NULL);
}
END_TEST

START_TEST (test_change_free_without_commit)
{
  const ScGatewayOps *ops = &sc_file_gateway;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) configs = g_ptr_array_new_with_free_func (config_free);
  gpointer state = ops->state_new ();
  gpointer change = NULL;

  g_ptr_array_add (configs,
                   config_new ("cap0", "[{\"path-host\": \"@/a\", \"path-container\": \"/c/a\"}]"));
  change = ops->prepare (state, configs, &error);
  ck_assert_ptr_nonnull (change);
  ops->change_free (change);
  ops->state_free (state);
  ck_assert_uint_eq (debug_lines->len, 0);
}
END_TEST

static Suite *
file_gateway_suite (void)
{
  Suite *s = suite_create ("file gateway");
  TCase *merge = tcase_create ("merge");
  TCase *refuse = tcase_create ("refuse");

  tcase_add_checked_fixture (merge, setup, teardown);
  tcase_add_test (merge, test_ops_table);
  tcase_add_test (merge, test_single_read_only_default);
  tcase_add_test (merge, test_read_only_true_false);
  tcase_add_test (merge, test_directory);
  tcase_add_test (merge, test_same_place_rw_beats_ro);
  tcase_add_test (merge, test_same_place_ro_after_rw);
  tcase_add_test (merge, test_same_place_both_ro);
  tcase_add_test (merge, test_same_place_across_capabilities);
  tcase_add_test (merge, test_same_place_other_spelling);
  tcase_add_test (merge, test_same_host_two_places);
  tcase_add_test (merge, test_parents_first);
  tcase_add_test (merge, test_change_free_without_commit);
  suite_add_tcase (s, merge);

  tcase_add_checked_fixture (refuse, setup, teardown);
  tcase_add_test (refuse, test_conflict);
  tcase_add_test (refuse, test_conflict_across_capabilities);
  tcase_add_test (refuse, test_missing_host);
  tcase_add_test (refuse, test_missing_host_below_file);
  tcase_add_test (refuse, test_relative_host);
  tcase_add_test (refuse, test_device_host);
  tcase_add_test (refuse, test_relative_container);
  tcase_add_test (refuse, test_container_root);
  tcase_add_test (refuse, test_container_newline);
  tcase_add_test (refuse, test_empty_paths);
  tcase_add_test (refuse, test_missing_keys);
  tcase_add_test (refuse, test_non_array_config);
  tcase_add_test (refuse, test_empty_array);
  tcase_add_test (refuse, test_item_not_object);
  tcase_add_test (refuse, test_unknown_key);
  tcase_add_test (refuse, test_wrong_types);
  suite_add_tcase (s, refuse);
  return s;
}

int
main (void)
{
  SRunner *runner = srunner_create (file_gateway_suite ());
  int failed = 0;

  g_log_set_writer_func (capture_writer_cb, NULL, NULL);
  srunner_set_fork_status (runner, CK_FORK_GETENV);
  srunner_run_all (runner, CK_NORMAL);
  failed = srunner_ntests_failed (runner);
  srunner_free (runner);
  return failed == 0 ? 0 : 1;
}
