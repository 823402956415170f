/* Unit tests of the wayland gateway: config checking (prepare), the enabled-once-stays-enabled
 * state, the environment it hands to Execute, how it finds the host socket from the agent's
 * XDG_RUNTIME_DIR and WAYLAND_DISPLAY, and that a failed apply leaves nothing behind. The
 * mount into a running container is the integration test's (test_wayland.c): here the context
 * has no container (init_pidfd -1), so an apply that gets as far as mounting fails there. */
#include <check.h>
#include <glib/gstdio.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "error.h"
#include "gateway.h"

static const ScGatewayOps *const ops = &sc_wayland_gateway;
static char *tmpdir;       /* the test's files */
static char *gateways_dir; /* tmpdir/gateways: the host side of /gateways */
static ScGatewayContext ctx;

static void
setup (void)
{
  g_autoptr (GError) error = NULL;

  tmpdir = g_dir_make_tmp ("sc-wayland-gw-XXXXXX", &error);
  ck_assert_msg (tmpdir != NULL, "%s", error ? error->message : "");
  gateways_dir = g_build_filename (tmpdir, "gateways", NULL);
  ck_assert_int_eq (g_mkdir (gateways_dir, 0755), 0);
  ctx = (ScGatewayContext){
    .container_id = 7,
    .container_name = "SC-7",
    .init_pid = 0,
    .init_pidfd = -1,
    .host_dir = tmpdir,
    .gateways_dir = gateways_dir,
  };
  g_unsetenv ("XDG_RUNTIME_DIR");
  g_unsetenv ("WAYLAND_DISPLAY");
}

static void
teardown (void)
{
  const char *argv[] = { "rm", "-rf", tmpdir, NULL };

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL,
                NULL);
  g_clear_pointer (&gateways_dir, g_free);
  g_clear_pointer (&tmpdir, g_free);
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

/* The configs of JSON texts (NULL-terminated); the k-th belongs to capability "capk". */
static GPtrArray *
configs_new (const char *json, va_list ap)
{
  GPtrArray *configs = g_ptr_array_new_with_free_func (config_free);

  for (const char *text = json; text != NULL; text = va_arg (ap, const char *))
    {
      g_autoptr (GError) error = NULL;
      ScGatewayConfig *config = g_new0 (ScGatewayConfig, 1);

      config->capability = g_strdup_printf ("cap%u", configs->len);
      config->gateway_id = g_strdup ("wayland");
      config->origin = g_strdup_printf ("/test/cap%u.json", configs->len);
      config->config = json_from_string (text, &error);
      ck_assert_msg (config->config != NULL, "bad test JSON %s", text);
      g_ptr_array_add (configs, config);
    }
  return configs;
}

static gpointer
prepare (gpointer state, GError **error, const char *json, ...)
{
  g_autoptr (GPtrArray) configs = NULL;
  va_list ap;

  va_start (ap, json);
  configs = configs_new (json, ap);
  va_end (ap);
  return ops->prepare (state, configs, error);
}

/* Prepares, applies and commits as the transaction would; asserts that it worked. */
static void
configure_ok (gpointer state, const char *json)
{
  g_autoptr (GError) error = NULL;
  gpointer change = prepare (state, &error, json, NULL);

  ck_assert_msg (change != NULL, "prepare refused %s: %s", json, error ? error->message : "");
  ck_assert_msg (ops->apply (state, change, &ctx, &error), "apply: %s", error->message);
  ops->commit (state, change);
  ops->change_free (change);
}

/* Prepares and commits without applying: the state logic alone, for configs whose apply would
 * need a container. */
static void
commit_unapplied (gpointer state, const char *json)
{
  g_autoptr (GError) error = NULL;
  gpointer change = prepare (state, &error, json, NULL);

  ck_assert_msg (change != NULL, "prepare refused %s: %s", json, error ? error->message : "");
  ops->commit (state, change);
  ops->change_free (change);
}

static GHashTable *
environment (gpointer state)
{
  GHashTable *env = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  ops->environment (state, env);
  return env;
}

static void
assert_enabled_env (gpointer state)
{
  g_autoptr (GHashTable) env = environment (state);

  ck_assert_uint_eq (g_hash_table_size (env), 2);
  ck_assert_str_eq (g_hash_table_lookup (env, "XDG_RUNTIME_DIR"), "/gateways");
  ck_assert_str_eq (g_hash_table_lookup (env, "WAYLAND_DISPLAY"), "wayland-0");
}

static void
assert_no_env (gpointer state)
{
  g_autoptr (GHashTable) env = environment (state);

  ck_assert_uint_eq (g_hash_table_size (env), 0);
}

static void
assert_gateways_dir_empty (void)
{
  g_autoptr (GDir) d = g_dir_open (gateways_dir, 0, NULL);
  const char *name = d != NULL ? g_dir_read_name (d) : NULL;

  ck_assert_ptr_nonnull (d);
  ck_assert_msg (name == NULL, "%s/%s was left behind", gateways_dir, name);
}

/* Prepare must fail with GatewayConfig and a message holding every fragment. */
static void
assert_refused (const char *const *fragments, const char *json, ...)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) configs = NULL;
  gpointer state = ops->state_new ();
  gpointer change = NULL;
  va_list ap;

  va_start (ap, json);
  configs = configs_new (json, ap);
  va_end (ap);
  change = ops->prepare (state, configs, &error);
  ck_assert_msg (change == NULL, "prepare accepted %s", json);
  ck_assert_msg (g_error_matches (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG),
                 "wrong error: %s", error ? error->message : "none");
  for (const char *const *f = fragments; *f != NULL; f++)
    ck_assert_msg (strstr (error->message, *f) != NULL, "'%s' not in message: %s", *f,
                   error->message);
  assert_no_env (state);
  ops->state_free (state);
}

/* An enabling apply must fail with GatewayFailed and a message holding every fragment, and
 * leave nothing on the host and nothing in the state. */
static void
assert_apply_fails (const char *const *fragments)
{
  g_autoptr (GError) error = NULL;
  gpointer state = ops->state_new ();
  gpointer change = prepare (state, &error, "[{\"enabled\": true}]", NULL);

  ck_assert_ptr_nonnull (change);
  ck_assert_msg (!ops->apply (state, change, &ctx, &error), "apply succeeded");
  ck_assert_msg (g_error_matches (error, SC_ERROR, SC_ERROR_GATEWAY_FAILED), "wrong error: %s",
                 error->message);
  for (const char *const *f = fragments; *f != NULL; f++)
    ck_assert_msg (strstr (error->message, *f) != NULL, "'%s' not in message: %s", *f,
                   error->message);
  /* the transaction reverts a failed gateway's change no further, but a revert must be safe */
  ops->revert (state, change, &ctx);
  ops->change_free (change);
  assert_gateways_dir_empty ();
  assert_no_env (state);
  ops->state_free (state);
}

/* A listening unix socket at tmpdir/name; returns its path. */
static char *
make_socket (const char *name)
{
  char *path = g_build_filename (tmpdir, name, NULL);
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

  ck_assert_int_ge (fd, 0);
  ck_assert_uint_lt (strlen (path), sizeof addr.sun_path);
  strcpy (addr.sun_path, path);
  ck_assert_int_eq (bind (fd, (struct sockaddr *) &addr, sizeof addr), 0);
  close (fd);
  return path;
}

#define FRAGMENTS(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* ---- the ops table and the state ------------------------------------------------------- */

START_TEST (test_ops_table)
{
  ck_assert_str_eq (ops->id, "wayland");
  ck_assert (ops->dynamic);
  ck_assert_ptr_nonnull (ops->apply);
  ck_assert_ptr_nonnull (ops->revert);
  ck_assert_ptr_nonnull (ops->teardown);
  ck_assert_ptr_nonnull (ops->environment);
}
END_TEST

START_TEST (test_enabled_environment)
{
  gpointer state = ops->state_new ();

  assert_no_env (state);
  commit_unapplied (state, "[{\"enabled\": true}]");
  assert_enabled_env (state);
  ops->state_free (state);
}
END_TEST

START_TEST (test_disabled_no_environment)
{
  gpointer state = ops->state_new ();

  configure_ok (state, "[{\"enabled\": false}]");
  assert_no_env (state);
  assert_gateways_dir_empty ();
  ops->state_free (state);
}
END_TEST

START_TEST (test_any_true_enables)
{
  g_autoptr (GError) error = NULL;
  gpointer state = ops->state_new ();
  gpointer change = prepare (state, &error, "[{\"enabled\": false}, {\"enabled\": true}]",
                             "[{\"enabled\": false}]", NULL);

  ck_assert_ptr_nonnull (change);
  ops->commit (state, change);
  ops->change_free (change);
  assert_enabled_env (state);
  ops->state_free (state);
}
END_TEST

START_TEST (test_stays_enabled)
{
  gpointer state = ops->state_new ();

  commit_unapplied (state, "[{\"enabled\": true}]");
  /* false after true changes nothing, and a second true mounts nothing: applying either does
   * not touch the host (the context has no container: a mount attempt would fail) */
  configure_ok (state, "[{\"enabled\": false}]");
  assert_enabled_env (state);
  configure_ok (state, "[{\"enabled\": true}]");
  assert_enabled_env (state);
  assert_gateways_dir_empty ();
  ops->state_free (state);
}
END_TEST

START_TEST (test_later_enable)
{
  gpointer state = ops->state_new ();

  configure_ok (state, "[{\"enabled\": false}]");
  assert_no_env (state);
  commit_unapplied (state, "[{\"enabled\": true}]");
  assert_enabled_env (state);
  ops->state_free (state);
}
END_TEST

START_TEST (test_failed_prepare_leaves_state)
{
  g_autoptr (GError) error = NULL;
  gpointer state = ops->state_new ();

  commit_unapplied (state, "[{\"enabled\": true}]");
  ck_assert_ptr_null (prepare (state, &error, "[{\"enabled\": 1}]", NULL));
  assert_enabled_env (state);
  ops->state_free (state);
}
END_TEST

START_TEST (test_change_free_without_commit)
{
  g_autoptr (GError) error = NULL;
  gpointer state = ops->state_new ();
  gpointer change = prepare (state, &error, "[{\"enabled\": true}]", NULL);

  ck_assert_ptr_nonnull (change);
  ops->change_free (change);
  assert_no_env (state);
  ops->state_free (state);
}
END_TEST

/* ---- configs that are refused ----------------------------------------------------------- */

START_TEST (test_non_array)
{
  assert_refused (FRAGMENTS ("capability 'cap0'", "/test/cap0.json", "JSON array", "object"),
                  "{\"enabled\": true}", NULL);
  assert_refused (FRAGMENTS ("JSON array", "boolean"), "true", NULL);
  assert_refused (FRAGMENTS ("JSON array", "string"), "\"enabled\"", NULL);
}
END_TEST

START_TEST (test_empty_array)
{
  assert_refused (FRAGMENTS ("cap0", "empty array"), "[]", NULL);
  assert_refused (FRAGMENTS ("cap1", "empty array"), "[{\"enabled\": true}]", "[]", NULL);
}
END_TEST

START_TEST (test_item_not_object)
{
  assert_refused (FRAGMENTS ("cap0", "item 1", "must be an object", "boolean"),
                  "[{\"enabled\": true}, true]", NULL);
}
END_TEST

START_TEST (test_unknown_key)
{
  assert_refused (FRAGMENTS ("cap0", "item 0", "unknown key 'enable'", "known: enabled"),
                  "[{\"enable\": true}]", NULL);
  assert_refused (FRAGMENTS ("item 0", "unknown key 'socket'"),
                  "[{\"enabled\": true, \"socket\": \"wayland-1\"}]", NULL);
}
END_TEST

START_TEST (test_missing_key)
{
  assert_refused (FRAGMENTS ("cap0", "item 0", "'enabled' is missing"), "[{}]", NULL);
}
END_TEST

START_TEST (test_non_bool)
{
  assert_refused (FRAGMENTS ("item 0", "'enabled' must be true or false", "string"),
                  "[{\"enabled\": \"true\"}]", NULL);
  assert_refused (FRAGMENTS ("'enabled' must be true or false", "integer"),
                  "[{\"enabled\": 1}]", NULL);
  assert_refused (FRAGMENTS ("'enabled' must be true or false", "null"),
                  "[{\"enabled\": null}]", NULL);
  assert_refused (FRAGMENTS ("'enabled' must be true or false", "array"),
                  "[{\"enabled\": [true]}]", NULL);
}
END_TEST

START_TEST (test_error_in_later_config)
{
  assert_refused (FRAGMENTS ("capability 'cap1'", "item 0", "unknown key"),
                  "[{\"enabled\": true}]", "[{\"enabled\": true, \"x\": 1}]", NULL);
}
END_TEST

/* ---- finding the host socket ------------------------------------------------------------ */

START_TEST (test_no_runtime_dir)
{
  assert_apply_fails (FRAGMENTS ("XDG_RUNTIME_DIR is not set", "wayland-0"));
  g_setenv ("WAYLAND_DISPLAY", "wayland-5", TRUE);
  assert_apply_fails (FRAGMENTS ("XDG_RUNTIME_DIR is not set", "wayland-5"));
  g_setenv ("XDG_RUNTIME_DIR", "", TRUE);
  assert_apply_fails (FRAGMENTS ("XDG_RUNTIME_DIR is not set"));
}
END_TEST

START_TEST (test_relative_runtime_dir)
{
  g_setenv ("XDG_RUNTIME_DIR", "run/user/0", TRUE);
  assert_apply_fails (FRAGMENTS ("XDG_RUNTIME_DIR", "'run/user/0'", "not an absolute path"));
}
END_TEST

START_TEST (test_default_display)
{
  g_autofree char *expected = g_build_filename (tmpdir, "wayland-0", NULL);

  g_setenv ("XDG_RUNTIME_DIR", tmpdir, TRUE);
  assert_apply_fails (FRAGMENTS ("Wayland socket", expected, "does not exist"));
  g_setenv ("WAYLAND_DISPLAY", "", TRUE);
  assert_apply_fails (FRAGMENTS (expected, "does not exist"));
}
END_TEST

START_TEST (test_named_display)
{
  g_autofree char *expected = g_build_filename (tmpdir, "wl-test", NULL);

  g_setenv ("XDG_RUNTIME_DIR", tmpdir, TRUE);
  g_setenv ("WAYLAND_DISPLAY", "wl-test", TRUE);
  assert_apply_fails (FRAGMENTS (expected, "does not exist"));
}
END_TEST

START_TEST (test_absolute_display)
{
  g_autofree char *path = g_build_filename (tmpdir, "elsewhere", "wl", NULL);

  /* taken as it is, without XDG_RUNTIME_DIR */
  g_setenv ("WAYLAND_DISPLAY", path, TRUE);
  assert_apply_fails (FRAGMENTS (path, "does not exist"));
  g_setenv ("XDG_RUNTIME_DIR", "/nonexistent", TRUE);
  assert_apply_fails (FRAGMENTS (path, "does not exist"));
}
END_TEST

START_TEST (test_not_a_socket)
{
  g_autofree char *file = g_build_filename (tmpdir, "wayland-0", NULL);

  ck_assert (g_file_set_contents (file, "", 0, NULL));
  g_setenv ("XDG_RUNTIME_DIR", tmpdir, TRUE);
  assert_apply_fails (FRAGMENTS (file, "is not a socket"));
  g_unlink (file);
  g_setenv ("WAYLAND_DISPLAY", tmpdir, TRUE);
  assert_apply_fails (FRAGMENTS (tmpdir, "is not a socket"));
}
END_TEST

START_TEST (test_mount_failure_leaves_nothing)
{
  g_autofree char *sock = make_socket ("wayland-0");

  /* the socket is fine; mounting fails (no container): the mount point made in the host's
   * gateways dir must be gone again */
  g_setenv ("XDG_RUNTIME_DIR", tmpdir, TRUE);
  assert_apply_fails (FRAGMENTS (sock, "/gateways/wayland-0"));
}
END_TEST

START_TEST (test_mount_point_taken)
{
  g_autofree char *sock = make_socket ("wayland-0");
  g_autofree char *taken = g_build_filename (gateways_dir, "wayland-0", NULL);
  g_autoptr (GError) error = NULL;
  gpointer state = ops->state_new ();
  gpointer change = prepare (state, &error, "[{\"enabled\": true}]", NULL);

  /* something already there is never replaced nor removed */
  ck_assert (g_file_set_contents (taken, "x", 1, NULL));
  g_setenv ("XDG_RUNTIME_DIR", tmpdir, TRUE);
  ck_assert (!ops->apply (state, change, &ctx, &error));
  ck_assert_msg (g_error_matches (error, SC_ERROR, SC_ERROR_GATEWAY_FAILED), "%s",
                 error->message);
  ck_assert_msg (strstr (error->message, taken) != NULL, "%s", error->message);
  ck_assert (g_file_test (taken, G_FILE_TEST_IS_REGULAR));
  ops->change_free (change);
  ops->state_free (state);
}
END_TEST

/* ---- teardown ------------------------------------------------------------------------------ */

START_TEST (test_teardown)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *mount_point = g_build_filename (gateways_dir, "wayland-0", NULL);
  gpointer state = ops->state_new ();

  /* not enabled: not its file */
  ck_assert (g_file_set_contents (mount_point, "", 0, NULL));
  ck_assert (ops->teardown (state, &ctx, &error));
  ck_assert (g_file_test (mount_point, G_FILE_TEST_EXISTS));
  /* enabled: the mount point goes; gone already is fine */
  commit_unapplied (state, "[{\"enabled\": true}]");
  ck_assert_msg (ops->teardown (state, &ctx, &error), "%s", error ? error->message : "");
  assert_gateways_dir_empty ();
  ck_assert_msg (ops->teardown (state, &ctx, &error), "%s", error ? error->message : "");
  ops->state_free (state);
}
END_TEST

static Suite *
wayland_gateway_suite (void)
{
  Suite *s = suite_create ("wayland gateway");
  TCase *state = tcase_create ("state");
  TCase *refuse = tcase_create ("refuse");
  TCase *host = tcase_create ("host socket");

  tcase_add_checked_fixture (state, setup, teardown);
  tcase_add_checked_fixture (refuse, setup, teardown);
  tcase_add_checked_fixture (host, setup, teardown);

  tcase_add_test (state, test_ops_table);
  tcase_add_test (state, test_enabled_environment);
  tcase_add_test (state, test_disabled_no_environment);
  tcase_add_test (state, test_any_true_enables);
  tcase_add_test (state, test_stays_enabled);
  tcase_add_test (state, test_later_enable);
  tcase_add_test (state, test_failed_prepare_leaves_state);
  tcase_add_test (state, test_change_free_without_commit);
  suite_add_tcase (s, state);

  tcase_add_test (refuse, test_non_array);
  tcase_add_test (refuse, test_empty_array);
  tcase_add_test (refuse, test_item_not_object);
  tcase_add_test (refuse, test_unknown_key);
  tcase_add_test (refuse, test_missing_key);
  tcase_add_test (refuse, test_non_bool);
  tcase_add_test (refuse, test_error_in_later_config);
  suite_add_tcase (s, refuse);

  tcase_add_test (host, test_no_runtime_dir);
  tcase_add_test (host, test_relative_runtime_dir);
  tcase_add_test (host, test_default_display);
  tcase_add_test (host, test_named_display);
  tcase_add_test (host, test_absolute_display);
  tcase_add_test (host, test_not_a_socket);
  tcase_add_test (host, test_mount_failure_leaves_nothing);
  tcase_add_test (host, test_mount_point_taken);
  tcase_add_test (host, test_teardown);
  suite_add_tcase (s, host);
  return s;
}

int
main (void)
{
  SRunner *runner = srunner_create (wayland_gateway_suite ());
  int failed = 0;

  srunner_set_fork_status (runner, CK_FORK_GETENV);
  srunner_run_all (runner, CK_NORMAL);
  failed = srunner_ntests_failed (runner);
  srunner_free (runner);
  return failed == 0 ? 0 : 1;
}
