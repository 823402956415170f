/* Unit tests of the env gateway: checking and merging of its configs (prepare), commit and the
 * environment it hands to Execute. The configs are built by hand, as the manifest store would
 * hand them over; apply/revert/teardown do not exist for env. */
#include <check.h>
#include <stdarg.h>
#include <string.h>

#include "error.h"
#include "gateway.h"

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
  ScGatewayConfig *config = g_new0 (ScGatewayConfig, 1);

  config->capability = g_strdup (capability);
  config->gateway_id = g_strdup ("env");
  config->origin = g_strdup_printf ("/test/%s.json", capability);
  config->config = json_from_string (json, &error);
  ck_assert_msg (config->config != NULL, "bad test JSON %s: %s", json,
                 error != NULL ? error->message : "empty");
  return config;
}

/* Prepares the configs (JSON texts, NULL-terminated; the k-th belongs to capability "capk") on
 * a fresh state and commits the change. Returns the environment, or NULL with the error of
 * prepare (and checks that a failed prepare gives no change). */
static GHashTable *
run_env (GError **error, const char *json, ...)
{
  const ScGatewayOps *ops = &sc_env_gateway;
  g_autoptr (GPtrArray) configs = g_ptr_array_new_with_free_func (config_free);
  gpointer state = ops->state_new ();
  gpointer change = NULL;
  GHashTable *env = NULL;
  va_list ap;

  va_start (ap, json);
  for (const char *text = json; text != NULL; text = va_arg (ap, const char *))
    {
      g_autofree char *capability = g_strdup_printf ("cap%u", configs->len);
      g_ptr_array_add (configs, config_new (capability, text));
    }
  va_end (ap);

  change = ops->prepare (state, configs, error);
  if (change != NULL)
    {
      ops->commit (state, change);
      ops->change_free (change);
      env = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      ops->environment (state, env);
    }
  ops->state_free (state);
  return env;
}

static void
assert_var (GHashTable *env, const char *name, const char *value)
{
  const char *got = g_hash_table_lookup (env, name);

  ck_assert_msg (got != NULL, "%s is not set", name);
  ck_assert_str_eq (got, value);
}

/* Prepare must fail with GatewayConfig and a message holding every given fragment. */
static void
assert_refused (const char *const *fragments, const char *json, ...)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) configs = g_ptr_array_new_with_free_func (config_free);
  const ScGatewayOps *ops = &sc_env_gateway;
  gpointer state = ops->state_new ();
  gpointer change = NULL;
  va_list ap;

  va_start (ap, json);
  for (const char *text = json; text != NULL; text = va_arg (ap, const char *))
    {
      g_autofree char *capability = g_strdup_printf ("cap%u", configs->len);
      g_ptr_array_add (configs, config_new (capability, text));
    }
  va_end (ap);

  change = ops->prepare (state, configs, &error);
  ck_assert_msg (change == NULL, "prepare accepted %s", json);
  ck_assert_ptr_nonnull (error);
  ck_assert_msg (g_error_matches (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG),
                 "wrong error code %d: %s", error->code, error->message);
  for (const char *const *f = fragments; f != NULL && *f != NULL; f++)
    ck_assert_msg (strstr (error->message, *f) != NULL, "'%s' not in message: %s", *f,
                   error->message);
  ops->state_free (state);
}

#define FRAGMENTS(...) ((const char *const[]){ __VA_ARGS__, NULL })

START_TEST (test_ops_table)
{
  ck_assert_str_eq (sc_env_gateway.id, "env");
  ck_assert (!sc_env_gateway.dynamic);
  ck_assert_ptr_null (sc_env_gateway.apply);
  ck_assert_ptr_null (sc_env_gateway.revert);
  ck_assert_ptr_null (sc_env_gateway.teardown);
  ck_assert_ptr_nonnull (sc_env_gateway.environment);
}
END_TEST

START_TEST (test_set)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) env = run_env (
      &error, "[{\"name\": \"A\", \"value\": \"1\"}, {\"name\": \"B\", \"value\": \"two words\"}]",
      NULL);

  ck_assert_msg (env != NULL, "%s", error ? error->message : "");
  ck_assert_uint_eq (g_hash_table_size (env), 2);
  assert_var (env, "A", "1");
  assert_var (env, "B", "two words");
}
END_TEST

START_TEST (test_set_explicit_mode)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) env
      = run_env (&error, "[{\"name\": \"A\", \"value\": \"1\", \"mode\": \"set\"}]", NULL);

  ck_assert_ptr_nonnull (env);
  assert_var (env, "A", "1");
}
END_TEST

START_TEST (test_set_twice)
{
  assert_refused (FRAGMENTS ("'A'", "cap0", "item 1", "item 0"),
                  "[{\"name\": \"A\", \"value\": \"1\"}, {\"name\": \"A\", \"value\": \"2\"}]",
                  NULL);
}
END_TEST

START_TEST (test_set_same_value_twice)
{
  /* even the same value: a second set is a conflict in the manifests */
  assert_refused (FRAGMENTS ("'A'"),
                  "[{\"name\": \"A\", \"value\": \"1\"}, {\"name\": \"A\", \"value\": \"1\"}]",
                  NULL);
}
END_TEST

START_TEST (test_set_after_append)
{
  assert_refused (FRAGMENTS ("'P'", "item 1"),
                  "[{\"name\": \"P\", \"value\": \"/x\", \"mode\": \"append\"},"
                  " {\"name\": \"P\", \"value\": \"/y\"}]",
                  NULL);
}
END_TEST

START_TEST (test_set_after_prepend)
{
  assert_refused (FRAGMENTS ("'P'"),
                  "[{\"name\": \"P\", \"value\": \"/x\", \"mode\": \"prepend\"},"
                  " {\"name\": \"P\", \"value\": \"/y\", \"mode\": \"set\"}]",
                  NULL);
}
END_TEST

START_TEST (test_append_without_previous)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) env = run_env (
      &error, "[{\"name\": \"P\", \"value\": \"/x\", \"mode\": \"append\", \"separator\": \":\"}]",
      NULL);

  ck_assert_ptr_nonnull (env);
  assert_var (env, "P", "/x");
}
END_TEST

START_TEST (test_prepend_without_previous)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) env = run_env (
      &error, "[{\"name\": \"P\", \"value\": \"/x\", \"mode\": \"prepend\", \"separator\": \":\"}]",
      NULL);

  ck_assert_ptr_nonnull (env);
  assert_var (env, "P", "/x");
}
END_TEST

START_TEST (test_append_with_separator)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) env
      = run_env (&error,
                 "[{\"name\": \"P\", \"value\": \"/a\"},"
                 " {\"name\": \"P\", \"value\": \"/b\", \"mode\": \"append\","
                 "  \"separator\": \":\"},"
                 " {\"name\": \"P\", \"value\": \"/c\", \"mode\": \"append\","
                 "  \"separator\": \"::\"}]",
                 NULL);

  ck_assert_ptr_nonnull (env);
  assert_var (env, "P", "/a:/b::/c");
}
END_TEST

START_TEST (test_prepend_with_separator)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) env = run_env (
      &error,
      "[{\"name\": \"P\", \"value\": \"/a\"},"
      " {\"name\": \"P\", \"value\": \"/b\", \"mode\": \"prepend\", \"separator\": \":\"}]",
      NULL);

  ck_assert_ptr_nonnull (env);
  assert_var (env, "P", "/b:/a");
}
END_TEST

START_TEST (test_append_prepend_default_separator)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) env
      = run_env (&error,
                 "[{\"name\": \"P\", \"value\": \"b\"},"
                 " {\"name\": \"P\", \"value\": \"c\", \"mode\": \"append\"},"
                 " {\"name\": \"P\", \"value\": \"a\", \"mode\": \"prepend\"}]",
                 NULL);

  ck_assert_ptr_nonnull (env);
  assert_var (env, "P", "abc");
}
END_TEST

START_TEST (test_mode_case_insensitive)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) env
      = run_env (&error,
                 "[{\"name\": \"P\", \"value\": \"b\", \"mode\": \"SET\"},"
                 " {\"name\": \"P\", \"value\": \"c\", \"mode\": \"Append\","
                 "  \"separator\": \",\"},"
                 " {\"name\": \"P\", \"value\": \"a\", \"mode\": \"pREPEND\","
                 "  \"separator\": \",\"}]",
                 NULL);

  ck_assert_msg (env != NULL, "%s", error ? error->message : "");
  assert_var (env, "P", "a,b,c");
}
END_TEST

START_TEST (test_empty_name)
{
  assert_refused (FRAGMENTS ("cap0", "item 0", "'name'", "empty"),
                  "[{\"name\": \"\", \"value\": \"1\"}]", NULL);
}
END_TEST

START_TEST (test_empty_value)
{
  assert_refused (FRAGMENTS ("cap0", "item 1", "'value'", "empty"),
                  "[{\"name\": \"A\", \"value\": \"1\"}, {\"name\": \"B\", \"value\": \"\"}]",
                  NULL);
}
END_TEST

START_TEST (test_missing_name)
{
  assert_refused (FRAGMENTS ("'name'", "missing"), "[{\"value\": \"1\"}]", NULL);
}
END_TEST

START_TEST (test_missing_value)
{
  assert_refused (FRAGMENTS ("'value'", "missing"), "[{\"name\": \"A\"}]", NULL);
}
END_TEST

START_TEST (test_name_with_equals)
{
  assert_refused (FRAGMENTS ("cap0", "item 0", "'name'", "A=B"),
                  "[{\"name\": \"A=B\", \"value\": \"1\"}]", NULL);
}
END_TEST

START_TEST (test_name_with_newline)
{
  assert_refused (FRAGMENTS ("'name'"), "[{\"name\": \"A\\nB\", \"value\": \"1\"}]", NULL);
}
END_TEST

START_TEST (test_unknown_mode)
{
  assert_refused (FRAGMENTS ("cap0", "item 0", "'mode'", "replace"),
                  "[{\"name\": \"A\", \"value\": \"1\", \"mode\": \"replace\"}]", NULL);
}
END_TEST

START_TEST (test_empty_mode)
{
  assert_refused (FRAGMENTS ("'mode'"), "[{\"name\": \"A\", \"value\": \"1\", \"mode\": \"\"}]",
                  NULL);
}
END_TEST

START_TEST (test_non_array_config)
{
  assert_refused (FRAGMENTS ("capability 'cap0'", "/test/cap0.json", "array", "object"),
                  "{\"name\": \"A\", \"value\": \"1\"}", NULL);
  assert_refused (FRAGMENTS ("array", "string"), "\"A=1\"", NULL);
  assert_refused (FRAGMENTS ("array", "null"), "null", NULL);
}
END_TEST

START_TEST (test_empty_array)
{
  assert_refused (FRAGMENTS ("capability 'cap0'", "empty"), "[]", NULL);
}
END_TEST

START_TEST (test_empty_array_in_second_config)
{
  assert_refused (FRAGMENTS ("capability 'cap1'", "empty"), "[{\"name\": \"A\", \"value\": \"1\"}]",
                  "[]", NULL);
}
END_TEST

START_TEST (test_item_not_object)
{
  assert_refused (FRAGMENTS ("cap0", "item 1", "object", "string"),
                  "[{\"name\": \"A\", \"value\": \"1\"}, \"B=2\"]", NULL);
}
END_TEST

START_TEST (test_unknown_key)
{
  assert_refused (FRAGMENTS ("cap0", "item 0", "'seperator'"),
                  "[{\"name\": \"A\", \"value\": \"1\", \"seperator\": \":\"}]", NULL);
}
END_TEST

START_TEST (test_non_string_value)
{
  assert_refused (FRAGMENTS ("item 0", "'value'", "string", "integer"),
                  "[{\"name\": \"A\", \"value\": 1}]", NULL);
  assert_refused (FRAGMENTS ("'value'", "boolean"), "[{\"name\": \"A\", \"value\": true}]", NULL);
  assert_refused (FRAGMENTS ("'value'", "null"), "[{\"name\": \"A\", \"value\": null}]", NULL);
}
END_TEST

START_TEST (test_non_string_name)
{
  assert_refused (FRAGMENTS ("'name'", "string"), "[{\"name\": [\"A\"], \"value\": \"1\"}]", NULL);
}
END_TEST

START_TEST (test_non_string_mode)
{
  assert_refused (FRAGMENTS ("'mode'", "string"),
                  "[{\"name\": \"A\", \"value\": \"1\", \"mode\": 1}]", NULL);
}
END_TEST

START_TEST (test_non_string_separator)
{
  assert_refused (FRAGMENTS ("'separator'", "string"),
                  "[{\"name\": \"A\", \"value\": \"1\", \"mode\": \"append\", \"separator\": 58}]",
                  NULL);
}
END_TEST

START_TEST (test_empty_separator)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) env = run_env (
      &error,
      "[{\"name\": \"P\", \"value\": \"a\", \"separator\": \"\"},"
      " {\"name\": \"P\", \"value\": \"b\", \"mode\": \"append\", \"separator\": \"\"}]",
      NULL);

  ck_assert_ptr_nonnull (env);
  assert_var (env, "P", "ab");
}
END_TEST

START_TEST (test_append_across_capabilities)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) env = run_env (
      &error, "[{\"name\": \"PATH\", \"value\": \"/bin\"}]",
      "[{\"name\": \"PATH\", \"value\": \"/usr/bin\", \"mode\": \"append\", \"separator\": \":\"}]",
      "[{\"name\": \"PATH\", \"value\": \"/sbin\", \"mode\": \"prepend\", \"separator\": \":\"},"
      " {\"name\": \"OTHER\", \"value\": \"x\"}]",
      NULL);

  ck_assert_msg (env != NULL, "%s", error ? error->message : "");
  ck_assert_uint_eq (g_hash_table_size (env), 2);
  assert_var (env, "PATH", "/sbin:/bin:/usr/bin");
  assert_var (env, "OTHER", "x");
}
END_TEST

START_TEST (test_set_across_capabilities)
{
  /* the message names the capability that sets and the one that gave the value before */
  assert_refused (FRAGMENTS ("capability 'cap1'", "capability 'cap0'", "'A'", "/test/cap1.json"),
                  "[{\"name\": \"A\", \"value\": \"1\"}]", "[{\"name\": \"A\", \"value\": \"2\"}]",
                  NULL);
}
END_TEST

START_TEST (test_error_in_later_config)
{
  /* a bad second config fails the whole prepare, good first config notwithstanding */
  assert_refused (FRAGMENTS ("capability 'cap1'", "item 0"),
                  "[{\"name\": \"A\", \"value\": \"1\"}]", "[{\"name\": \"B\"}]", NULL);
}
END_TEST

START_TEST (test_environment_output)
{
  const ScGatewayOps *ops = &sc_env_gateway;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) configs = g_ptr_array_new_with_free_func (config_free);
  g_autoptr (GHashTable) env = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  gpointer state = ops->state_new ();
  gpointer change = NULL;

  /* an empty state adds nothing */
  ops->environment (state, env);
  ck_assert_uint_eq (g_hash_table_size (env), 0);

  g_ptr_array_add (configs, config_new ("cap0", "[{\"name\": \"A\", \"value\": \"1\"},"
                                                " {\"name\": \"B\", \"value\": \"2\"}]"));
  change = ops->prepare (state, configs, &error);
  ck_assert_ptr_nonnull (change);

  /* nothing is visible before commit */
  ops->environment (state, env);
  ck_assert_uint_eq (g_hash_table_size (env), 0);

  ops->commit (state, change);
  ops->change_free (change);

  /* what is in the table already is kept, unless env names it */
  g_hash_table_insert (env, g_strdup ("KEEP"), g_strdup ("k"));
  g_hash_table_insert (env, g_strdup ("A"), g_strdup ("old"));
  ops->environment (state, env);
  ck_assert_uint_eq (g_hash_table_size (env), 3);
  assert_var (env, "A", "1");
  assert_var (env, "B", "2");
  assert_var (env, "KEEP", "k");

  /* the table owns copies: the state can go first */
  ops->state_free (state);
  assert_var (env, "A", "1");
}
END_TEST

START_TEST (test_failed_prepare_leaves_state)
{
  const ScGatewayOps *ops = &sc_env_gateway;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) configs = g_ptr_array_new_with_free_func (config_free);
  g_autoptr (GHashTable) env = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  gpointer state = ops->state_new ();

  g_ptr_array_add (configs, config_new ("cap0", "[{\"name\": \"A\", \"value\": \"1\"},"
                                                " {\"name\": \"A\", \"value\": \"2\"}]"));
  ck_assert_ptr_null (ops->prepare (state, configs, &error));
  ck_assert_ptr_nonnull (error);
  ops->environment (state, env);
  ck_assert_uint_eq (g_hash_table_size (env), 0);
  ops->state_free (state);
}
END_TEST

START_TEST (test_change_free_without_commit)
{
  const ScGatewayOps *ops = &sc_env_gateway;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) configs = g_ptr_array_new_with_free_func (config_free);
  gpointer state = ops->state_new ();
  gpointer change = NULL;

  g_ptr_array_add (configs, config_new ("cap0", "[{\"name\": \"A\", \"value\": \"1\"}]"));
  change = ops->prepare (state, configs, &error);
  ck_assert_ptr_nonnull (change);
  ops->change_free (change);
  ops->state_free (state);
}
END_TEST

static Suite *
env_gateway_suite (void)
{
  Suite *s = suite_create ("env gateway");
  TCase *merge = tcase_create ("merge");
  TCase *refuse = tcase_create ("refuse");
  TCase *state = tcase_create ("state");

  tcase_add_test (merge, test_ops_table);
  tcase_add_test (merge, test_set);
  tcase_add_test (merge, test_set_explicit_mode);
  tcase_add_test (merge, test_append_without_previous);
  tcase_add_test (merge, test_prepend_without_previous);
  tcase_add_test (merge, test_append_with_separator);
  tcase_add_test (merge, test_prepend_with_separator);
  tcase_add_test (merge, test_append_prepend_default_separator);
  tcase_add_test (merge, test_mode_case_insensitive);
  tcase_add_test (merge, test_empty_separator);
  tcase_add_test (merge, test_append_across_capabilities);
  suite_add_tcase (s, merge);

  tcase_add_test (refuse, test_set_twice);
  tcase_add_test (refuse, test_set_same_value_twice);
  tcase_add_test (refuse, test_set_after_append);
  tcase_add_test (refuse, test_set_after_prepend);
  tcase_add_test (refuse, test_set_across_capabilities);
  tcase_add_test (refuse, test_empty_name);
  tcase_add_test (refuse, test_empty_value);
  tcase_add_test (refuse, test_missing_name);
  tcase_add_test (refuse, test_missing_value);
  tcase_add_test (refuse, test_name_with_equals);
  tcase_add_test (refuse, test_name_with_newline);
  tcase_add_test (refuse, test_unknown_mode);
  tcase_add_test (refuse, test_empty_mode);
  tcase_add_test (refuse, test_non_array_config);
  tcase_add_test (refuse, test_empty_array);
  tcase_add_test (refuse, test_empty_array_in_second_config);
  tcase_add_test (refuse, test_item_not_object);
  tcase_add_test (refuse, test_unknown_key);
  tcase_add_test (refuse, test_non_string_value);
  tcase_add_test (refuse, test_non_string_name);
  tcase_add_test (refuse, test_non_string_mode);
  tcase_add_test (refuse, test_non_string_separator);
  tcase_add_test (refuse, test_error_in_later_config);
  suite_add_tcase (s, refuse);

  tcase_add_test (state, test_environment_output);
  tcase_add_test (state, test_failed_prepare_leaves_state);
  tcase_add_test (state, test_change_free_without_commit);
  suite_add_tcase (s, state);
  return s;
}

int
main (void)
{
  SRunner *runner = srunner_create (env_gateway_suite ());
  int failed = 0;

  srunner_set_fork_status (runner, CK_FORK_GETENV);
  srunner_run_all (runner, CK_NORMAL);
  failed = srunner_ntests_failed (runner);
  srunner_free (runner);
  return failed == 0 ? 0 : 1;
}
