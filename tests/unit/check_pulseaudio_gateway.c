/* Unit tests of the pulseaudio gateway: config checking (prepare), the state and the
 * environment it hands to Execute, how it reads the agent's PULSE_SERVER (what is accepted and
 * what is refused, and why), that without audio it never looks at PULSE_SERVER, and that a
 * failed apply leaves nothing behind. The mount into a running container is the integration
 * test's (test_pulseaudio.c): here the context has no container (init_pidfd -1), so an apply
 * that gets as far as mounting fails there. */
#include <check.h>
#include <glib/gstdio.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "error.h"
#include "gateway.h"

static const ScGatewayOps *const ops = &sc_pulseaudio_gateway;
static char *tmpdir;       /* the test's files */
static char *gateways_dir; /* tmpdir/gateways: the host side of /gateways */
static ScGatewayContext ctx;

static void
setup (void)
{
  g_autoptr (GError) error = NULL;

  tmpdir = g_dir_make_tmp ("sc-pulse-gw-XXXXXX", &error);
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
  g_unsetenv ("PULSE_SERVER");
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
      config->gateway_id = g_strdup ("pulseaudio");
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
assert_audio_env (gpointer state)
{
  g_autoptr (GHashTable) env = environment (state);

  ck_assert_uint_eq (g_hash_table_size (env), 1);
  ck_assert_str_eq (g_hash_table_lookup (env, "PULSE_SERVER"), "unix:/gateways/pulse-native");
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

/* An apply with audio must fail with GatewayFailed and a message holding every fragment, and
 * leave nothing on the host and nothing in the state. */
static void
assert_apply_fails (const char *const *fragments)
{
  g_autoptr (GError) error = NULL;
  gpointer state = ops->state_new ();
  gpointer change = prepare (state, &error, "[{\"audio\": true}]", NULL);

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
  ck_assert_str_eq (ops->id, "pulseaudio");
  ck_assert (!ops->dynamic);
  ck_assert_ptr_nonnull (ops->apply);
  ck_assert_ptr_nonnull (ops->revert);
  ck_assert_ptr_nonnull (ops->teardown);
  ck_assert_ptr_nonnull (ops->environment);
}
END_TEST

START_TEST (test_audio_environment)
{
  gpointer state = ops->state_new ();

  assert_no_env (state);
  commit_unapplied (state, "[{\"audio\": true}]");
  assert_audio_env (state);
  ops->state_free (state);
}
END_TEST

START_TEST (test_no_audio_touches_nothing)
{
  gpointer state = ops->state_new ();

  /* PULSE_SERVER unset would fail an apply with audio: without audio it is not even read */
  configure_ok (state, "[{\"audio\": false}]");
  assert_no_env (state);
  assert_gateways_dir_empty ();
  ops->state_free (state);
}
END_TEST

START_TEST (test_no_audio_bad_server_touches_nothing)
{
  gpointer state = ops->state_new ();

  g_setenv ("PULSE_SERVER", "tcp:localhost:4713", TRUE);
  configure_ok (state, "[{\"audio\": false}, {\"audio\": false}]");
  assert_no_env (state);
  assert_gateways_dir_empty ();
  ops->state_free (state);
}
END_TEST

START_TEST (test_any_true_gives_audio)
{
  g_autoptr (GError) error = NULL;
  gpointer state = ops->state_new ();
  gpointer change = prepare (state, &error, "[{\"audio\": false}]",
                             "[{\"audio\": false}, {\"audio\": true}]", "[{\"audio\": false}]",
                             NULL);

  ck_assert_ptr_nonnull (change);
  ops->commit (state, change);
  ops->change_free (change);
  assert_audio_env (state);
  ops->state_free (state);
}
END_TEST

START_TEST (test_failed_prepare_leaves_state)
{
  g_autoptr (GError) error = NULL;
  gpointer state = ops->state_new ();

  ck_assert_ptr_null (prepare (state, &error, "[{\"audio\": true}]", "[{\"audio\": \"yes\"}]",
                               NULL));
  assert_no_env (state);
  ops->state_free (state);
}
END_TEST

START_TEST (test_change_free_without_commit)
{
  g_autoptr (GError) error = NULL;
  gpointer state = ops->state_new ();
  gpointer change = prepare (state, &error, "[{\"audio\": true}]", NULL);

  ck_assert_ptr_nonnull (change);
  ops->change_free (change);
  assert_no_env (state);
  ops->state_free (state);
}
END_TEST

/* ---- configs that are refused ----------------------------------------------------------- */

START_TEST (test_non_array)
{
  assert_refused (FRAGMENTS ("capability 'cap0'", "/test/cap0.json", "pulseaudio config",
                             "JSON array", "object"),
                  "{\"audio\": true}", NULL);
  assert_refused (FRAGMENTS ("JSON array", "boolean"), "true", NULL);
  assert_refused (FRAGMENTS ("JSON array", "null"), "null", NULL);
}
END_TEST

START_TEST (test_empty_array)
{
  assert_refused (FRAGMENTS ("cap0", "empty array"), "[]", NULL);
  assert_refused (FRAGMENTS ("cap1", "empty array"), "[{\"audio\": false}]", "[]", NULL);
}
END_TEST

START_TEST (test_item_not_object)
{
  assert_refused (FRAGMENTS ("cap0", "item 0", "must be an object", "string"), "[\"audio\"]",
                  NULL);
}
END_TEST

START_TEST (test_unknown_key)
{
  assert_refused (FRAGMENTS ("cap0", "item 0", "unknown key 'enabled'", "known: audio"),
                  "[{\"enabled\": true}]", NULL);
  assert_refused (FRAGMENTS ("item 1", "unknown key 'server'"),
                  "[{\"audio\": true}, {\"audio\": true, \"server\": \"tcp:x\"}]", NULL);
}
END_TEST

START_TEST (test_missing_key)
{
  assert_refused (FRAGMENTS ("cap0", "item 0", "'audio' is missing"), "[{}]", NULL);
}
END_TEST

START_TEST (test_non_bool)
{
  assert_refused (FRAGMENTS ("item 0", "'audio' must be true or false", "string"),
                  "[{\"audio\": \"true\"}]", NULL);
  assert_refused (FRAGMENTS ("'audio' must be true or false", "integer"), "[{\"audio\": 0}]",
                  NULL);
  assert_refused (FRAGMENTS ("'audio' must be true or false", "null"), "[{\"audio\": null}]",
                  NULL);
  assert_refused (FRAGMENTS ("'audio' must be true or false", "object"),
                  "[{\"audio\": {\"on\": true}}]", NULL);
}
END_TEST

START_TEST (test_error_in_later_config)
{
  assert_refused (FRAGMENTS ("capability 'cap1'", "item 0", "'audio' is missing"),
                  "[{\"audio\": true}]", "[{}]", NULL);
}
END_TEST

/* ---- PULSE_SERVER ------------------------------------------------------------------------ */

START_TEST (test_server_unset)
{
  assert_apply_fails (FRAGMENTS ("PULSE_SERVER is not set"));
  g_setenv ("PULSE_SERVER", "", TRUE);
  assert_apply_fails (FRAGMENTS ("PULSE_SERVER is not set"));
}
END_TEST

START_TEST (test_server_tcp)
{
  g_setenv ("PULSE_SERVER", "tcp:localhost:4713", TRUE);
  assert_apply_fails (FRAGMENTS ("'tcp:localhost:4713'", "not a unix socket"));
  g_setenv ("PULSE_SERVER", "tcp6:[::1]", TRUE);
  assert_apply_fails (FRAGMENTS ("'tcp6:[::1]'", "not a unix socket"));
  g_setenv ("PULSE_SERVER", "localhost", TRUE);
  assert_apply_fails (FRAGMENTS ("'localhost'", "not a unix socket"));
  g_setenv ("PULSE_SERVER", "{0123abcd}unix:/run/pulse/native", TRUE);
  assert_apply_fails (FRAGMENTS ("not a unix socket"));
}
END_TEST

START_TEST (test_server_relative)
{
  g_setenv ("PULSE_SERVER", "unix:", TRUE);
  assert_apply_fails (FRAGMENTS ("'unix:'", "absolute"));
  g_setenv ("PULSE_SERVER", "unix:run/pulse/native", TRUE);
  assert_apply_fails (FRAGMENTS ("'unix:run/pulse/native'", "absolute"));
  g_setenv ("PULSE_SERVER", "run/pulse/native", TRUE);
  assert_apply_fails (FRAGMENTS ("'run/pulse/native'", "not a unix socket"));
}
END_TEST

START_TEST (test_server_list)
{
  g_setenv ("PULSE_SERVER", "unix:/run/a unix:/run/b", TRUE);
  assert_apply_fails (FRAGMENTS ("several servers"));
  g_setenv ("PULSE_SERVER", "/run/a\ttcp:x", TRUE);
  assert_apply_fails (FRAGMENTS ("several servers"));
}
END_TEST

START_TEST (test_server_missing)
{
  g_autofree char *path = g_build_filename (tmpdir, "pulse", "native", NULL);
  g_autofree char *unix_path = g_strconcat ("unix:", path, NULL);

  g_setenv ("PULSE_SERVER", unix_path, TRUE);
  assert_apply_fails (FRAGMENTS ("PulseAudio socket", path, "does not exist"));
  g_setenv ("PULSE_SERVER", path, TRUE);
  assert_apply_fails (FRAGMENTS ("PulseAudio socket", path, "does not exist"));
}
END_TEST

START_TEST (test_server_not_a_socket)
{
  g_autofree char *file = g_build_filename (tmpdir, "native", NULL);
  g_autofree char *unix_file = g_strconcat ("unix:", file, NULL);

  ck_assert (g_file_set_contents (file, "", 0, NULL));
  g_setenv ("PULSE_SERVER", unix_file, TRUE);
  assert_apply_fails (FRAGMENTS (file, "is not a socket"));
  g_setenv ("PULSE_SERVER", file, TRUE);
  assert_apply_fails (FRAGMENTS (file, "is not a socket"));
}
END_TEST

/* Both spellings of a real socket get past the checks, to the mount (which fails here, with
 * no container), and leave nothing in the host's gateways dir. */
START_TEST (test_server_socket_accepted)
{
  g_autofree char *sock = make_socket ("native");
  g_autofree char *unix_sock = g_strconcat ("unix:", sock, NULL);

  g_setenv ("PULSE_SERVER", unix_sock, TRUE);
  assert_apply_fails (FRAGMENTS (sock, "/gateways/pulse-native", "in the container"));
  g_setenv ("PULSE_SERVER", sock, TRUE);
  assert_apply_fails (FRAGMENTS (sock, "/gateways/pulse-native", "in the container"));
}
END_TEST

/* ---- teardown ------------------------------------------------------------------------------ */

START_TEST (test_teardown)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *mount_point = g_build_filename (gateways_dir, "pulse-native", NULL);
  gpointer state = ops->state_new ();

  /* no audio: not its file */
  ck_assert (g_file_set_contents (mount_point, "", 0, NULL));
  ck_assert (ops->teardown (state, &ctx, &error));
  ck_assert (g_file_test (mount_point, G_FILE_TEST_EXISTS));
  commit_unapplied (state, "[{\"audio\": true}]");
  ck_assert_msg (ops->teardown (state, &ctx, &error), "%s", error ? error->message : "");
  assert_gateways_dir_empty ();
  ck_assert_msg (ops->teardown (state, &ctx, &error), "%s", error ? error->message : "");
  ops->state_free (state);
}
END_TEST

static Suite *
pulseaudio_gateway_suite (void)
{
  Suite *s = suite_create ("pulseaudio gateway");
  TCase *state = tcase_create ("state");
  TCase *refuse = tcase_create ("refuse");
  TCase *server = tcase_create ("PULSE_SERVER");

  tcase_add_checked_fixture (state, setup, teardown);
  tcase_add_checked_fixture (refuse, setup, teardown);
  tcase_add_checked_fixture (server, setup, teardown);

  tcase_add_test (state, test_ops_table);
  tcase_add_test (state, test_audio_environment);
  tcase_add_test (state, test_no_audio_touches_nothing);
  tcase_add_test (state, test_no_audio_bad_server_touches_nothing);
  tcase_add_test (state, test_any_true_gives_audio);
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

  tcase_add_test (server, test_server_unset);
  tcase_add_test (server, test_server_tcp);
  tcase_add_test (server, test_server_relative);
  tcase_add_test (server, test_server_list);
  tcase_add_test (server, test_server_missing);
  tcase_add_test (server, test_server_not_a_socket);
  tcase_add_test (server, test_server_socket_accepted);
  tcase_add_test (server, test_teardown);
  suite_add_tcase (s, server);
  return s;
}

int
main (void)
{
  SRunner *runner = srunner_create (pulseaudio_gateway_suite ());
  int failed = 0;

  srunner_set_fork_status (runner, CK_FORK_GETENV);
  srunner_run_all (runner, CK_NORMAL);
  failed = srunner_ntests_failed (runner);
  srunner_free (runner);
  return failed == 0 ? 0 : 1;
}
