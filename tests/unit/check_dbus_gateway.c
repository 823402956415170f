/* Unit tests of the dbus gateway's config checking (prepare): what it accepts, what it refuses
 * and how the messages name the capability, the item, the bus key and the rule. Starting
 * proxies (apply) is covered by the integration tests (tests/integration/test_dbus.c). */
#include <check.h>
#include <string.h>

#ifndef SC_ENABLE_DBUS_GATEWAY
int
main (void)
{
  return 77; /* the dbus gateway is not in this build */
}
#else

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

static GPtrArray *
configs_new (const char *const *jsons)
{
  GPtrArray *configs = g_ptr_array_new_with_free_func (config_free);

  for (guint i = 0; jsons[i] != NULL; i++)
    {
      ScGatewayConfig *config = g_new0 (ScGatewayConfig, 1);
      g_autoptr (GError) error = NULL;

      config->capability = g_strdup_printf ("cap%u", i);
      config->gateway_id = g_strdup ("dbus");
      config->origin = g_strdup_printf ("/test/cap%u.json", i);
      config->config = json_from_string (jsons[i], &error);
      ck_assert_msg (config->config != NULL, "bad test JSON %s", jsons[i]);
      g_ptr_array_add (configs, config);
    }
  return configs;
}

#define JSONS(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define RULE                                                                                       \
  "{\"direction\": \"outgoing\", \"interface\": \"a.b\", \"object-path\": \"/\", \"method\": "     \
  "\"M\"}"

static void
assert_accepted (const char *const *jsons)
{
  g_autoptr (GPtrArray) configs = configs_new (jsons);
  g_autoptr (GError) error = NULL;
  gpointer state = sc_dbus_gateway.state_new ();
  gpointer change = sc_dbus_gateway.prepare (state, configs, &error);

  ck_assert_msg (change != NULL, "refused %s: %s", jsons[0], error ? error->message : "");
  sc_dbus_gateway.change_free (change);
  sc_dbus_gateway.state_free (state);
}

static void
assert_refused (const char *const *jsons, const char *const *fragments)
{
  g_autoptr (GPtrArray) configs = configs_new (jsons);
  g_autoptr (GError) error = NULL;
  gpointer state = sc_dbus_gateway.state_new ();
  gpointer change = sc_dbus_gateway.prepare (state, configs, &error);

  ck_assert_msg (change == NULL, "accepted %s", jsons[0]);
  ck_assert_msg (g_error_matches (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG), "code %d: %s",
                 error->code, error->message);
  for (const char *const *f = fragments; *f != NULL; f++)
    ck_assert_msg (strstr (error->message, *f) != NULL, "'%s' not in '%s'", *f, error->message);
  sc_dbus_gateway.state_free (state);
}

START_TEST (test_ops)
{
  ck_assert_str_eq (sc_dbus_gateway.id, "dbus");
  ck_assert (sc_dbus_gateway.dynamic);
  ck_assert_ptr_nonnull (sc_dbus_gateway.apply);
  ck_assert_ptr_nonnull (sc_dbus_gateway.revert);
  ck_assert_ptr_nonnull (sc_dbus_gateway.teardown);
  ck_assert_ptr_nonnull (sc_dbus_gateway.environment);
}
END_TEST

START_TEST (test_accepted)
{
  assert_accepted (JSONS ("[{\"dbus-gateway-config-session\": []}]"));
  assert_accepted (JSONS ("[{\"dbus-gateway-config-system\": [" RULE "]}]"));
  assert_accepted (JSONS ("[{\"dbus-gateway-config-session\": [" RULE "], "
                          "\"dbus-gateway-config-system\": [" RULE ", " RULE "]}]"));
  assert_accepted (JSONS ("[{\"dbus-gateway-config-session\": []}, "
                          "{\"dbus-gateway-config-system\": []}]",
                          "[{\"dbus-gateway-config-session\": [" RULE "]}]"));
  /* deny-all as manifests write it, and a method list */
  assert_accepted (JSONS ("[{\"dbus-gateway-config-session\": [{\"direction\": \"*\", "
                          "\"interface\": \"\", \"object-path\": \"\", \"method\": \"\"}]}]"));
  assert_accepted (JSONS ("[{\"dbus-gateway-config-session\": [{\"direction\": \"incoming\", "
                          "\"interface\": \"*\", \"object-path\": \"/a/*\", \"method\": "
                          "[\"A\", \"B*\"]}]}]"));
}
END_TEST

START_TEST (test_refused)
{
  assert_refused (JSONS ("{}"), JSONS ("cap0", "/test/cap0.json", "must be a JSON array"));
  assert_refused (JSONS ("[]"), JSONS ("cap0", "empty array"));
  assert_refused (JSONS ("[3]"), JSONS ("cap0", "item 0", "must be an object"));
  assert_refused (JSONS ("[{}]"), JSONS ("item 0", "neither"));
  assert_refused (JSONS ("[{\"dbus-gateway-config-sessions\": []}]"),
                  JSONS ("item 0", "unknown key 'dbus-gateway-config-sessions'"));
  assert_refused (JSONS ("[{\"dbus-gateway-config-session\": {}}]"),
                  JSONS ("item 0", "'dbus-gateway-config-session'", "must be a list"));
  assert_refused (
      JSONS ("[{\"dbus-gateway-config-session\": [" RULE "]}]",
             "[{\"dbus-gateway-config-session\": []}, "
             "{\"dbus-gateway-config-system\": [" RULE ", {\"direction\": "
             "\"outgoing\", \"interface\": \"a\", \"object-path\": \"/\"}]}]"),
      JSONS ("cap1", "item 1", "'dbus-gateway-config-system' rule 1", "'method' is missing"));
  assert_refused (JSONS ("[{\"dbus-gateway-config-system\": [{\"direction\": \"sideways\", "
                         "\"interface\": \"a\", \"object-path\": \"/\", \"method\": \"m\"}]}]"),
                  JSONS ("rule 0", "'direction' must be"));
  assert_refused (JSONS ("[{\"dbus-gateway-config-system\": [{\"direction\": \"*\", "
                         "\"interface\": \"a\", \"object-path\": \"/\", \"method\": \"m\", "
                         "\"path\": \"/\"}]}]"),
                  JSONS ("rule 0", "unknown key 'path'"));
}
END_TEST

START_TEST (test_environment_without_proxies)
{
  g_autoptr (GHashTable) env = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  gpointer state = sc_dbus_gateway.state_new ();

  sc_dbus_gateway.environment (state, env);
  ck_assert_uint_eq (g_hash_table_size (env), 0);
  sc_dbus_gateway.state_free (state);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("dbus gateway");
  TCase *tc = tcase_create ("prepare");
  SRunner *runner;
  int failed;

  tcase_add_test (tc, test_ops);
  tcase_add_test (tc, test_accepted);
  tcase_add_test (tc, test_refused);
  tcase_add_test (tc, test_environment_without_proxies);
  suite_add_tcase (s, tc);
  runner = srunner_create (s);
  srunner_set_fork_status (runner, CK_FORK_GETENV);
  srunner_run_all (runner, CK_NORMAL);
  failed = srunner_ntests_failed (runner);
  srunner_free (runner);
  return failed == 0 ? 0 : 1;
}
#endif
