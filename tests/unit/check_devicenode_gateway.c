/* Unit tests of the devicenode gateway's prepare (checking and merging of its configs, also
 * with what an earlier call committed: the gateway is dynamic) and commit. Making nodes and
 * changing the devices cgroup need a running container and are left to the integration tests:
 * apply is never called here.
 *
 * The host devices used are the ones every Linux host has (/dev/null, /dev/zero, /dev/full,
 * /dev/loop0 where it exists). What a committed change holds is read from the debug line commit
 * logs for each node ("devicenode gateway: NAME (c MAJ:MIN) mode [host's ]MODE"). */
#include <check.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "error.h"
#include "gateway.h"

static GPtrArray *debug_lines; /* char *: debug messages since the test began */
static gpointer state;         /* the gateway state of the test, shared by its calls */

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
setup (void)
{
  debug_lines = g_ptr_array_new_with_free_func (g_free);
  state = sc_devicenode_gateway.state_new ();
}

static void
teardown (void)
{
  sc_devicenode_gateway.state_free (state);
  state = NULL;
  g_clear_pointer (&debug_lines, g_ptr_array_unref);
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
  ScGatewayConfig *config = g_new0 (ScGatewayConfig, 1);

  config->capability = g_strdup (capability);
  config->gateway_id = g_strdup ("devicenode");
  config->origin = g_strdup_printf ("/test/%s.json", capability);
  config->config = json_from_string (json, &error);
  ck_assert_msg (config->config != NULL, "bad test JSON %s: %s", json,
                 error != NULL ? error->message : "empty");
  return config;
}

/* One call: prepares the configs (JSON texts, NULL-terminated; the k-th belongs to capability
 * "capk") on the test's state and, when that works, commits the change (never applying it). */
static gboolean
run_va (GError **error, const char *json, va_list ap)
{
  const ScGatewayOps *ops = &sc_devicenode_gateway;
  g_autoptr (GPtrArray) configs = g_ptr_array_new_with_free_func (config_free);
  gpointer change = NULL;

  g_ptr_array_set_size (debug_lines, 0);
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
  return change != NULL;
}

/* One call; checks the nodes commit logged, in order ("NAME (c 1:5) mode 0644"). */
static void
assert_nodes (const char *const *expected, const char *json, ...)
{
  g_autoptr (GError) error = NULL;
  gboolean ok = FALSE;
  guint n = 0;
  va_list ap;

  va_start (ap, json);
  ok = run_va (&error, json, ap);
  va_end (ap);
  ck_assert_msg (ok, "prepare failed: %s", error ? error->message : "");
  for (; expected[n] != NULL; n++)
    {
      g_autofree char *line = g_strdup_printf ("devicenode gateway: %s", expected[n]);

      ck_assert_msg (n < debug_lines->len, "missing node %s", expected[n]);
      ck_assert_str_eq (g_ptr_array_index (debug_lines, n), line);
    }
  ck_assert_msg (debug_lines->len == n, "%u nodes logged, %u expected (first: %s)",
                 debug_lines->len, n,
                 debug_lines->len > 0 ? (char *) g_ptr_array_index (debug_lines, 0) : "");
}

/* Prepare must fail with GatewayConfig and a message holding every given fragment. */
static void
assert_refused (const char *const *fragments, const char *json, ...)
{
  g_autoptr (GError) error = NULL;
  gboolean ok = FALSE;
  va_list ap;

  va_start (ap, json);
  ok = run_va (&error, json, ap);
  va_end (ap);
  ck_assert_msg (!ok, "prepare accepted %s", json);
  ck_assert_ptr_nonnull (error);
  ck_assert_msg (g_error_matches (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG),
                 "wrong error code %d: %s", error->code, error->message);
  for (const char *const *f = fragments; f != NULL && *f != NULL; f++)
    ck_assert_msg (strstr (error->message, *f) != NULL, "'%s' not in message: %s", *f,
                   error->message);
  ck_assert_uint_eq (debug_lines->len, 0);
}

#define STRV(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* ---- checking ----------------------------------------------------------------------------- */

START_TEST (test_ops_table)
{
  ck_assert_str_eq (sc_devicenode_gateway.id, "devicenode");
  ck_assert (sc_devicenode_gateway.dynamic);
  ck_assert_ptr_nonnull (sc_devicenode_gateway.apply);
  ck_assert_ptr_nonnull (sc_devicenode_gateway.revert);
  ck_assert_ptr_null (sc_devicenode_gateway.teardown);
  ck_assert_ptr_null (sc_devicenode_gateway.environment);
}
END_TEST

START_TEST (test_node_with_mode)
{
  assert_nodes (STRV ("/dev/zero (c 1:5) mode 0644"), "[{\"name\": \"/dev/zero\", \"mode\": \"0644\"}]",
                NULL);
}
END_TEST

START_TEST (test_node_without_mode)
{
  struct stat st;
  g_autofree char *expected = NULL;

  ck_assert_int_eq (stat ("/dev/null", &st), 0);
  expected = g_strdup_printf ("/dev/null (c 1:3) mode host's %04o", st.st_mode & 0777);
  assert_nodes ((const char *const[]){ expected, NULL }, "[{\"name\": \"/dev/null\"}]", NULL);
}
END_TEST

START_TEST (test_block_device)
{
  struct stat st;
  g_autofree char *expected = NULL;

  if (stat ("/dev/loop0", &st) < 0 || !S_ISBLK (st.st_mode))
    return; /* no loop device on this host */
  expected = g_strdup_printf ("/dev/loop0 (b %u:%u) mode 0660", major (st.st_rdev),
                              minor (st.st_rdev));
  assert_nodes ((const char *const[]){ expected, NULL },
                "[{\"name\": \"/dev/loop0\", \"mode\": \"660\"}]", NULL);
}
END_TEST

START_TEST (test_mode_forms)
{
  const char *const forms[][2] = {
    { "\"0644\"", "0644" }, { "\"644\"", "0644" }, { "644", "0644" },  { "\"0\"", "0000" },
    { "0", "0000" },        { "\"7\"", "0007" },   { "777", "0777" },  { "\"0777\"", "0777" }, { "\"00644\"", "0644" },
    { "\"600\"", "0600" },  { "60", "0060" },      { "\"0000\"", "0000" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (forms); i++)
    {
      g_autofree char *json
          = g_strdup_printf ("[{\"name\": \"/dev/zero\", \"mode\": %s}]", forms[i][0]);
      g_autofree char *line = g_strdup_printf ("/dev/zero (c 1:5) mode %s", forms[i][1]);

      /* a fresh state each time: modes only add up */
      teardown ();
      setup ();
      assert_nodes ((const char *const[]){ line, NULL }, json, NULL);
    }
}
END_TEST

START_TEST (test_bad_modes)
{
  const char *const bad[][2] = {
    { "\"0888\"", "is not a mode" },  { "\"8\"", "is not a mode" },
    { "\"rw\"", "is not a mode" },    { "\"\"", "is not a mode" },
    { "\"0o644\"", "is not a mode" }, { "\"-644\"", "is not a mode" },
    { "\" 644\"", "is not a mode" },  { "\"000000644\"", "is not a mode" },
    { "\"01777\"", "above 0777" },    { "\"4755\"", "above 0777" },
    { "1777", "above 0777" },         { "-1", "is not a mode" },
    { "10000", "is not a mode" },     { "648", "is not a mode" },
    { "6.44", "not number" },         { "true", "not boolean" },
    { "null", "not null" },           { "[644]", "not array" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *json
          = g_strdup_printf ("[{\"name\": \"/dev/zero\", \"mode\": %s}]", bad[i][0]);
      assert_refused (STRV ("capability 'cap0'", "item 0", "'mode'", bad[i][1]), json, NULL);
    }
}
END_TEST

START_TEST (test_not_a_device)
{
  assert_refused (STRV ("'/dev/shm' is not a device node on the host", "directory"),
                  "[{\"name\": \"/dev/shm\"}]", NULL);
  assert_refused (STRV ("device '/dev/sc-no-such-device' does not exist on the host"),
                  "[{\"name\": \"/dev/sc-no-such-device\"}]", NULL);
  assert_refused (STRV ("does not exist on the host"), "[{\"name\": \"/dev/null/x\"}]", NULL);
}
END_TEST

START_TEST (test_regular_file_under_dev)
{
  const char *path = "/dev/shm/sc-devicenode-test-file";
  g_autofree char *json = g_strdup_printf ("[{\"name\": \"%s\"}]", path);

  ck_assert (g_file_set_contents (path, "x", -1, NULL));
  assert_refused (STRV ("is not a device node on the host", "regular file"), json, NULL);
  unlink (path);
}
END_TEST

START_TEST (test_names_outside_dev)
{
  assert_refused (STRV ("must be a device node under /dev", "/etc/passwd"),
                  "[{\"name\": \"/etc/passwd\"}]", NULL);
  assert_refused (STRV ("must be a device node under /dev"), "[{\"name\": \"/dev\"}]", NULL);
  assert_refused (STRV ("must be a device node under /dev"), "[{\"name\": \"/dev/\"}]", NULL);
  /* ".." is resolved lexically first: this is /etc/passwd */
  assert_refused (STRV ("must be a device node under /dev"),
                  "[{\"name\": \"/dev/../etc/passwd\"}]", NULL);
  assert_refused (STRV ("must be a device node under /dev"), "[{\"name\": \"/devices/x\"}]",
                  NULL);
  assert_refused (STRV ("absolute"), "[{\"name\": \"dev/null\"}]", NULL);
  assert_refused (STRV ("'name' must not be empty"), "[{\"name\": \"\"}]", NULL);
  assert_refused (STRV ("'name' must be a string, not integer"), "[{\"name\": 5}]", NULL);
  assert_refused (STRV ("'name' is missing"), "[{\"mode\": \"0644\"}]", NULL);
  assert_refused (STRV ("newline"), "[{\"name\": \"/dev/nu\\nll\"}]", NULL);
}
END_TEST

START_TEST (test_item_and_config_shape)
{
  assert_refused (STRV ("unknown key 'permissions'", "known: name, mode"),
                  "[{\"name\": \"/dev/null\", \"permissions\": \"0644\"}]", NULL);
  assert_refused (STRV ("item 1", "must be an object, not string"),
                  "[{\"name\": \"/dev/null\"}, \"/dev/zero\"]", NULL);
  assert_refused (STRV ("must be a JSON array, not object"), "{\"name\": \"/dev/null\"}", NULL);
  assert_refused (STRV ("empty array"), "[]", NULL);
  assert_refused (STRV ("capability 'cap1'", "empty array"), "[{\"name\": \"/dev/null\"}]", "[]",
                  NULL);
}
END_TEST

/* ---- merging -------------------------------------------------------------------------------- */

START_TEST (test_modes_merge_per_class)
{
  assert_nodes (STRV ("/dev/zero (c 1:5) mode 0644"),
                "[{\"name\": \"/dev/zero\", \"mode\": \"0640\"}]",
                "[{\"name\": \"/dev/zero\", \"mode\": \"0604\"}]", NULL);
}
END_TEST

START_TEST (test_modes_merge_in_one_config)
{
  assert_nodes (STRV ("/dev/zero (c 1:5) mode 0754", "/dev/null (c 1:3) mode 0666"),
                "[{\"name\": \"/dev/zero\", \"mode\": \"0700\"},"
                " {\"name\": \"/dev/null\", \"mode\": 666},"
                " {\"name\": \"/dev/zero\", \"mode\": 44},"
                " {\"name\": \"/dev/zero\", \"mode\": \"0010\"},"
                " {\"name\": \"/dev/zero\", \"mode\": \"0400\"}]",
                NULL);
}
END_TEST

START_TEST (test_mode_and_no_mode)
{
  /* an item without a mode adds nothing to the merge */
  assert_nodes (STRV ("/dev/zero (c 1:5) mode 0600"), "[{\"name\": \"/dev/zero\"}]",
                "[{\"name\": \"/dev/zero\", \"mode\": \"0600\"}]", "[{\"name\": \"/dev/zero\"}]",
                NULL);
}
END_TEST

START_TEST (test_same_node_other_spelling)
{
  assert_nodes (STRV ("/dev/zero (c 1:5) mode 0606"),
                "[{\"name\": \"/dev//zero\", \"mode\": \"0600\"},"
                " {\"name\": \"/dev/./zero\", \"mode\": \"0006\"}]",
                NULL);
}
END_TEST

START_TEST (test_error_in_later_config)
{
  assert_refused (STRV ("capability 'cap1'", "/dev/shm"), "[{\"name\": \"/dev/zero\"}]",
                  "[{\"name\": \"/dev/shm\"}]", NULL);
}
END_TEST

/* ---- dynamic: later calls add to what is there ---------------------------------------------- */

START_TEST (test_later_calls_add_nodes)
{
  assert_nodes (STRV ("/dev/zero (c 1:5) mode 0640"),
                "[{\"name\": \"/dev/zero\", \"mode\": \"0640\"}]", NULL);
  assert_nodes (STRV ("/dev/full (c 1:7) mode 0600"),
                "[{\"name\": \"/dev/full\", \"mode\": \"0600\"}]", NULL);
}
END_TEST

START_TEST (test_later_calls_widen_modes)
{
  assert_nodes (STRV ("/dev/zero (c 1:5) mode 0640"),
                "[{\"name\": \"/dev/zero\", \"mode\": \"0640\"}]", NULL);
  /* more permissive: the merged mode */
  assert_nodes (STRV ("/dev/zero (c 1:5) mode 0644"),
                "[{\"name\": \"/dev/zero\", \"mode\": \"0604\"}]", NULL);
  /* nothing new: the node is not in the change */
  assert_nodes (STRV (NULL), "[{\"name\": \"/dev/zero\", \"mode\": \"0600\"}]", NULL);
  assert_nodes (STRV (NULL), "[{\"name\": \"/dev/zero\"}]", NULL);
  /* never narrower */
  assert_nodes (STRV ("/dev/zero (c 1:5) mode 0646"),
                "[{\"name\": \"/dev/zero\", \"mode\": \"0002\"}]", NULL);
}
END_TEST

START_TEST (test_failed_call_leaves_state)
{
  assert_nodes (STRV ("/dev/zero (c 1:5) mode 0600"),
                "[{\"name\": \"/dev/zero\", \"mode\": \"0600\"}]", NULL);
  assert_refused (STRV ("/dev/shm"), "[{\"name\": \"/dev/zero\", \"mode\": \"0666\"}]",
                  "[{\"name\": \"/dev/shm\"}]", NULL);
  /* the refused call changed nothing: 0606 is still news */
  assert_nodes (STRV ("/dev/zero (c 1:5) mode 0606"),
                "[{\"name\": \"/dev/zero\", \"mode\": \"0006\"}]", NULL);
}
END_TEST

START_TEST (test_change_free_without_commit)
{
  const ScGatewayOps *ops = &sc_devicenode_gateway;
  g_autoptr (GPtrArray) configs = g_ptr_array_new_with_free_func (config_free);
  g_autoptr (GError) error = NULL;
  gpointer change = NULL;

  g_ptr_array_add (configs, config_new ("cap0", "[{\"name\": \"/dev/zero\", \"mode\": 600}]"));
  change = ops->prepare (state, configs, &error);
  ck_assert_ptr_nonnull (change);
  ops->change_free (change);
  /* not committed: the next call still makes the node */
  assert_nodes (STRV ("/dev/zero (c 1:5) mode 0600"), "[{\"name\": \"/dev/zero\", \"mode\": 600}]",
                NULL);
}
END_TEST

static Suite *
devicenode_gateway_suite (void)
{
  Suite *s = suite_create ("devicenode-gateway");
  TCase *check = tcase_create ("checking");
  TCase *merge = tcase_create ("merging");
  TCase *dynamic = tcase_create ("dynamic");

  tcase_add_checked_fixture (check, setup, teardown);
  tcase_add_test (check, test_ops_table);
  tcase_add_test (check, test_node_with_mode);
  tcase_add_test (check, test_node_without_mode);
  tcase_add_test (check, test_block_device);
  tcase_add_test (check, test_mode_forms);
  tcase_add_test (check, test_bad_modes);
  tcase_add_test (check, test_not_a_device);
  tcase_add_test (check, test_regular_file_under_dev);
  tcase_add_test (check, test_names_outside_dev);
  tcase_add_test (check, test_item_and_config_shape);
  suite_add_tcase (s, check);

  tcase_add_checked_fixture (merge, setup, teardown);
  tcase_add_test (merge, test_modes_merge_per_class);
  tcase_add_test (merge, test_modes_merge_in_one_config);
  tcase_add_test (merge, test_mode_and_no_mode);
  tcase_add_test (merge, test_same_node_other_spelling);
  tcase_add_test (merge, test_error_in_later_config);
  suite_add_tcase (s, merge);

  tcase_add_checked_fixture (dynamic, setup, teardown);
  tcase_add_test (dynamic, test_later_calls_add_nodes);
  tcase_add_test (dynamic, test_later_calls_widen_modes);
  tcase_add_test (dynamic, test_failed_call_leaves_state);
  tcase_add_test (dynamic, test_change_free_without_commit);
  suite_add_tcase (s, dynamic);
  return s;
}

int
main (void)
{
  SRunner *runner = srunner_create (devicenode_gateway_suite ());
  int failed = 0;

  g_log_set_writer_func (capture_writer_cb, NULL, NULL);
  srunner_set_fork_status (runner, CK_FORK_GETENV);
  srunner_run_all (runner, CK_NORMAL);
  failed = srunner_ntests_failed (runner);
  srunner_free (runner);
  return failed == 0 ? 0 : 1;
}
