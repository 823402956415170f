/* The wayland gateway through the real agent, with a real compositor and a real client: weston
 * (headless backend) on the host, wayland-info (wayland-utils, from the host's /usr, which the
 * container sees) inside the container. The agent finds the compositor through its own
 * XDG_RUNTIME_DIR and WAYLAND_DISPLAY, which it inherits from the test (set before
 * h_agent_start).
 *
 * Checked from both sides: inside (the client lists the compositor's globals; the environment;
 * the mount is there once, read-only) and on the host (the mount point in the container's
 * gateways dir, the socket's mode untouched, nothing left after Destroy or a failed call). */
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define DISPLAY_NAME "sc-test-wayland"

static const char *const no_caps[] = { NULL };

static const char manifest[]
    = "{\"version\": \"1\", \"capabilities\": ["
      " {\"name\": \"test.wayland\","
      "  \"gateways\": [{\"id\": \"wayland\", \"config\": [{\"enabled\": true}]}]},"
      " {\"name\": \"test.wayland-again\","
      "  \"gateways\": [{\"id\": \"wayland\", \"config\": [{\"enabled\": true}]}]},"
      " {\"name\": \"test.wayland-off\","
      "  \"gateways\": [{\"id\": \"wayland\", \"config\": [{\"enabled\": false}]}]},"
      " {\"name\": \"test.wayland-off-later\","
      "  \"gateways\": [{\"id\": \"wayland\", \"config\": [{\"enabled\": false}]}]},"
      " {\"name\": \"test.wayland-typo\","
      "  \"gateways\": [{\"id\": \"wayland\", \"config\": [{\"enable\": true}]}]},"
      " {\"name\": \"test.wayland-and-audio\","
      "  \"gateways\": [{\"id\": \"wayland\", \"config\": [{\"enabled\": true}]},"
      "               {\"id\": \"pulseaudio\", \"config\": [{\"audio\": true}]}]}"
      "]}";

/* ---- the compositor ------------------------------------------------------------------------ */

static void
die_with_test_cb (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
}

/* The 0700 runtime directory of the test's compositor (created once). */
static char *
runtime_dir (void)
{
  char *dir = h_path ("xdg-runtime");

  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    ck_assert_int_eq (g_mkdir (dir, 0700), 0);
  return dir;
}

static gboolean
is_socket (const char *path)
{
  struct stat st;

  return lstat (path, &st) == 0 && S_ISSOCK (st.st_mode);
}

/* Starts weston on the headless backend, listening on <runtime_dir>/DISPLAY_NAME, with a shell
 * that starts no helper clients; returns when the socket is there. It dies with the test
 * process if the test fails before stop_weston. */
static GPid
start_weston (void)
{
  g_autofree char *dir = runtime_dir ();
  g_autofree char *socket = g_build_filename (dir, DISPLAY_NAME, NULL);
  g_autofree char *log = h_path ("weston.log");
  g_autofree char *xdg = g_strconcat ("XDG_RUNTIME_DIR=", dir, NULL);
  g_autoptr (GError) error = NULL;
  const char *argv[] = { "weston", "--backend=headless-backend.so", "--socket=" DISPLAY_NAME,
                         "--shell=kiosk-shell.so", "--no-config", "--idle-time=0",
                         "--log", log, NULL };
  const char *envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", xdg, NULL };
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  GPid pid;
  int status;

  if (!g_spawn_async (NULL, (char **) argv, (char **) envp,
                      G_SPAWN_SEARCH_PATH_FROM_ENVP | G_SPAWN_DO_NOT_REAP_CHILD
                          | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                      die_with_test_cb, NULL, &pid, &error))
    ck_abort_msg ("cannot start weston: %s", error->message);
  while (!is_socket (socket))
    {
      if (waitpid (pid, &status, WNOHANG) == pid)
        {
          g_autofree char *text = h_read (log);
          ck_abort_msg ("weston exited (status 0x%x) before making %s:\n%s", status, socket,
                        text ? text : "");
        }
      ck_assert_msg (g_get_monotonic_time () < deadline, "weston made no socket %s within 10 s",
                     socket);
      g_usleep (10000);
    }
  return pid;
}

static void
stop_weston (GPid pid)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  int status;

  kill (pid, SIGTERM);
  while (waitpid (pid, &status, WNOHANG) != pid)
    {
      if (g_get_monotonic_time () > deadline)
        {
          kill (pid, SIGKILL);
          waitpid (pid, &status, 0);
          break;
        }
      g_usleep (10000);
    }
}

/* ---- helpers ------------------------------------------------------------------------------- */

/* The agent finds the compositor the way a Wayland client would: these are its variables. */
static void
agent_env_for_weston (void)
{
  g_autofree char *dir = runtime_dir ();

  g_setenv ("XDG_RUNTIME_DIR", dir, TRUE);
  g_setenv ("WAYLAND_DISPLAY", DISPLAY_NAME, TRUE);
}

static void
start_agent (void)
{
  h_write_manifest (FALSE, "wayland.json", manifest);
  g_unsetenv ("PULSE_SERVER");
  h_agent_start (NULL);
}

static void
set_caps (int id, const char *first, ...)
{
  g_autoptr (GPtrArray) caps = g_ptr_array_new ();
  va_list ap;

  va_start (ap, first);
  for (const char *c = first; c != NULL; c = va_arg (ap, const char *))
    g_ptr_array_add (caps, (gpointer) c);
  va_end (ap);
  g_ptr_array_add (caps, NULL);
  h_set_capabilities (id, (const char *const *) caps->pdata);
}

/* SetCapabilities that must fail with code_word; returns the message (g_free). */
static char *
set_caps_fails (int id, const char *code_word, const char *cap)
{
  g_autoptr (GError) error = NULL;
  const char *caps[] = { cap, NULL };
  g_autoptr (GVariant) r
      = h_call ("SetCapabilities", g_variant_new ("(i^as)", id, caps), &error);

  h_assert_failed (error, code_word);
  return g_strdup (error->message);
}

static char *
host_mount_point (int id)
{
  g_autofree char *name = g_strdup_printf ("SC-%d", id);

  return g_build_filename (h->shared_mounts_dir, name, "gateways", "wayland-0", NULL);
}

/* wayland-info in the container lists the test compositor's globals. */
static void
assert_client_works (int id)
{
  g_autofree char *out = h_run_ok (id, "wayland-info");

  ck_assert_msg (strstr (out, "wl_compositor") != NULL, "wayland-info listed no wl_compositor:\n%s",
                 out);
  ck_assert_msg (strstr (out, "wl_shm") != NULL, "wayland-info listed no wl_shm:\n%s", out);
}

/* No Wayland socket in the container, under any name a client might try. */
static void
assert_no_wayland (int id)
{
  g_autofree char *dir = runtime_dir ();
  g_autofree char *host_env = g_strdup_printf ("XDG_RUNTIME_DIR=%s", dir);
  const char *const host_vars[] = { host_env, "WAYLAND_DISPLAY=" DISPLAY_NAME, NULL };
  const char *const inside_vars[] = { "XDG_RUNTIME_DIR=/gateways", "WAYLAND_DISPLAY=wayland-0",
                                      NULL };
  const char *const *tries[] = { NULL, host_vars, inside_vars };
  g_autofree char *env_out = h_run_ok (id, "sh -c 'echo \"[$XDG_RUNTIME_DIR][$WAYLAND_DISPLAY]\"'");
  g_autofree char *mounts = h_run_ok (id, "cat /proc/self/mountinfo");
  g_autofree char *host_file = host_mount_point (id);

  ck_assert_str_eq (env_out, "[][]\n");
  ck_assert_msg (strstr (mounts, " /gateways/wayland-0 ") == NULL,
                 "a wayland mount in the container:\n%s", mounts);
  ck_assert_msg (!g_file_test (host_file, G_FILE_TEST_EXISTS), "%s exists", host_file);
  for (guint i = 0; i < G_N_ELEMENTS (tries); i++)
    {
      g_autofree char *out_file = h_path ("no-wayland.out");
      g_autofree char *out = NULL;
      int pid = h_execute (id, "wayland-info", "/", out_file, tries[i]);
      guint code = h_wait_exit (id, pid, 30000);

      out = h_read (out_file);
      unlink (out_file);
      ck_assert_msg (code != 0, "wayland-info connected without the gateway (try %u):\n%s", i,
                     out ? out : "");
      ck_assert_msg (out == NULL || strstr (out, "wl_compositor") == NULL, "%s", out);
    }
}

/* ---- tests --------------------------------------------------------------------------------- */

START_TEST (client_reaches_compositor)
{
  GPid weston = start_weston ();
  g_autofree char *dir = runtime_dir ();
  g_autofree char *socket = g_build_filename (dir, DISPLAY_NAME, NULL);
  g_autofree char *host_file = NULL;
  g_autofree char *out = NULL;
  struct stat before, after;
  guint code;
  int id;

  agent_env_for_weston ();
  start_agent ();
  id = h_create ("[]");
  host_file = host_mount_point (id);
  set_caps (id, "test.wayland", NULL);

  assert_client_works (id);
  out = h_run_ok (id, "sh -c 'echo \"$XDG_RUNTIME_DIR $WAYLAND_DISPLAY\"; "
                      "test -S /gateways/wayland-0 && echo socket'");
  ck_assert_str_eq (out, "/gateways wayland-0\nsocket\n");
  g_clear_pointer (&out, g_free);
  /* Execute's own env still wins over the gateway's */
  {
    const char *const env[] = { "WAYLAND_DISPLAY=other", NULL };
    g_autofree char *file = h_path ("override.out");
    int pid = h_execute (id, "sh -c 'echo $WAYLAND_DISPLAY'", "/", file, env);

    ck_assert_uint_eq (h_wait_exit (id, pid, 30000), 0);
    out = h_read (file);
    ck_assert_str_eq (out, "other\n");
    g_clear_pointer (&out, g_free);
  }

  /* host side: the mount point is in the container's gateways dir, not a mount on the host */
  ck_assert_msg (g_file_test (host_file, G_FILE_TEST_IS_REGULAR), "%s is missing", host_file);
  /* the mount is read-only: the app cannot change the host socket's mode through it */
  ck_assert_int_eq (stat (socket, &before), 0);
  out = h_run (id, "chmod 0777 /gateways/wayland-0", &code);
  ck_assert_msg (code != 0, "chmod of the mounted socket worked:\n%s", out);
  ck_assert_msg (strstr (out, "Read-only") != NULL, "%s", out);
  ck_assert_int_eq (stat (socket, &after), 0);
  ck_assert_uint_eq (before.st_mode, after.st_mode);

  h_destroy (id);
  ck_assert (!g_file_test (host_file, G_FILE_TEST_EXISTS));
  /* the compositor is unharmed by the container's end */
  ck_assert (is_socket (socket));
  stop_weston (weston);
}
END_TEST

START_TEST (without_gateway_no_connection)
{
  GPid weston = start_weston ();
  int bare, off;

  agent_env_for_weston ();
  start_agent ();
  bare = h_create ("[]");
  h_set_capabilities (bare, no_caps);
  assert_no_wayland (bare);
  off = h_create ("[]");
  set_caps (off, "test.wayland-off", NULL);
  assert_no_wayland (off);
  h_destroy (bare);
  h_destroy (off);
  stop_weston (weston);
}
END_TEST

START_TEST (enabled_stays_enabled_and_mounts_once)
{
  GPid weston = start_weston ();
  g_autofree char *count = NULL;
  int id;

  agent_env_for_weston ();
  start_agent ();
  id = h_create ("[]");
  set_caps (id, "test.wayland-off", NULL);
  assert_no_wayland (id);
  set_caps (id, "test.wayland", NULL);
  assert_client_works (id);
  /* dynamic: more configs are accepted; a second true mounts nothing more, a later false takes
   * nothing away */
  set_caps (id, "test.wayland-again", NULL);
  set_caps (id, "test.wayland-off-later", NULL);
  assert_client_works (id);
  count = h_run_ok (id, "grep -c ' /gateways/wayland-0 ' /proc/self/mountinfo");
  ck_assert_str_eq (count, "1\n");
  g_clear_pointer (&count, g_free);
  count = h_run_ok (id, "sh -c 'echo \"$XDG_RUNTIME_DIR $WAYLAND_DISPLAY\"'");
  ck_assert_str_eq (count, "/gateways wayland-0\n");
  /* the same capability again is BadState, as for every gateway */
  g_free (set_caps_fails (id, "BadState", "test.wayland"));
  assert_client_works (id);
  h_destroy (id);
  stop_weston (weston);
}
END_TEST

START_TEST (missing_socket_fails)
{
  g_autofree char *dir = runtime_dir ();
  g_autofree char *socket = g_build_filename (dir, DISPLAY_NAME, NULL);
  g_autofree char *message = NULL;
  GPid weston;
  int id;

  agent_env_for_weston ();
  start_agent ();
  id = h_create ("[]");
  message = set_caps_fails (id, "GatewayFailed", "test.wayland");
  ck_assert_msg (strstr (message, socket) != NULL && strstr (message, "does not exist") != NULL,
                 "%s", message);
  ck_assert_msg (strstr (message, "wayland") != NULL, "%s", message);
  g_free (h_run_ok (id, "true"));
  assert_no_wayland (id);

  /* nothing of the failed call stayed: once the compositor is up, the same capability works */
  weston = start_weston ();
  set_caps (id, "test.wayland", NULL);
  assert_client_works (id);
  h_destroy (id);
  stop_weston (weston);
}
END_TEST

START_TEST (no_runtime_dir_fails)
{
  g_autofree char *message = NULL;
  int id;

  g_unsetenv ("XDG_RUNTIME_DIR");
  g_setenv ("WAYLAND_DISPLAY", DISPLAY_NAME, TRUE);
  start_agent ();
  id = h_create ("[]");
  message = set_caps_fails (id, "GatewayFailed", "test.wayland");
  ck_assert_msg (strstr (message, "XDG_RUNTIME_DIR is not set") != NULL, "%s", message);
  assert_no_wayland (id);
  h_destroy (id);
}
END_TEST

START_TEST (absolute_display)
{
  GPid weston = start_weston ();
  g_autofree char *dir = runtime_dir ();
  g_autofree char *socket = g_build_filename (dir, DISPLAY_NAME, NULL);
  g_autofree char *out = NULL;
  int id;

  g_unsetenv ("XDG_RUNTIME_DIR");
  g_setenv ("WAYLAND_DISPLAY", socket, TRUE);
  start_agent ();
  id = h_create ("[]");
  set_caps (id, "test.wayland", NULL);
  assert_client_works (id);
  out = h_run_ok (id, "sh -c 'echo \"$XDG_RUNTIME_DIR $WAYLAND_DISPLAY\"'");
  ck_assert_str_eq (out, "/gateways wayland-0\n");
  h_destroy (id);
  stop_weston (weston);
}
END_TEST

START_TEST (reverted_when_a_later_gateway_fails)
{
  GPid weston = start_weston ();
  g_autofree char *message = NULL;
  int id;

  /* pulseaudio is applied after wayland and fails without PULSE_SERVER: the wayland mount
   * made for the same call must be undone */
  agent_env_for_weston ();
  start_agent ();
  id = h_create ("[]");
  message = set_caps_fails (id, "GatewayFailed", "test.wayland-and-audio");
  ck_assert_msg (strstr (message, "PULSE_SERVER") != NULL, "%s", message);
  assert_no_wayland (id);
  set_caps (id, "test.wayland", NULL);
  assert_client_works (id);
  h_destroy (id);
  stop_weston (weston);
}
END_TEST

START_TEST (malformed_config_refused)
{
  GPid weston = start_weston ();
  g_autofree char *message = NULL;
  int id;

  agent_env_for_weston ();
  start_agent ();
  id = h_create ("[]");
  message = set_caps_fails (id, "GatewayConfig", "test.wayland-typo");
  ck_assert_msg (strstr (message, "test.wayland-typo") != NULL
                     && strstr (message, "unknown key 'enable'") != NULL,
                 "%s", message);
  assert_no_wayland (id);
  set_caps (id, "test.wayland", NULL);
  assert_client_works (id);
  h_destroy (id);
  stop_weston (weston);
}
END_TEST

/* The examples in service-manifests/ as shipped: the Wayland-only one works here; the
 * integration guidelines' one also wants /dev/dri/card0, which this machine may not have. */
START_TEST (example_manifests)
{
  GPid weston = start_weston ();
  const char *const files[] = { "com.example.wayland.json", "com.example.wayland-access.json" };
  int id;

  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *src = g_build_filename (SC_SOURCE_DIR, "service-manifests",
                                               "service-manifest.d", files[i], NULL);
      g_autofree char *text = h_read (src);

      ck_assert_msg (text != NULL, "cannot read %s", src);
      h_write_manifest (FALSE, files[i], text);
    }
  agent_env_for_weston ();
  h_agent_start (NULL);

  id = h_create ("[]");
  set_caps (id, "com.example.wayland", NULL);
  assert_client_works (id);
  h_destroy (id);

  if (!g_file_test ("/dev/dri/card0", G_FILE_TEST_EXISTS))
    {
      g_autoptr (GError) error = NULL;
      const char *caps[] = { "com.example.wayland-access", NULL };
      g_autoptr (GVariant) r = NULL;

      id = h_create ("[]");
      r = h_call ("SetCapabilities", g_variant_new ("(i^as)", id, caps), &error);
      ck_assert_msg (r == NULL, "com.example.wayland-access worked without /dev/dri/card0");
      g_dbus_error_strip_remote_error (error);
      ck_assert_msg (strstr (error->message, "devicenode") != NULL, "%s", error->message);
      assert_no_wayland (id);
      h_destroy (id);
    }
  stop_weston (weston);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("wayland gateway");
  TCase *tc = h_tcase_bus_only ("wayland");

  tcase_add_test (tc, client_reaches_compositor);
  tcase_add_test (tc, without_gateway_no_connection);
  tcase_add_test (tc, enabled_stays_enabled_and_mounts_once);
  tcase_add_test (tc, missing_socket_fails);
  tcase_add_test (tc, no_runtime_dir_fails);
  tcase_add_test (tc, absolute_display);
  tcase_add_test (tc, reverted_when_a_later_gateway_fails);
  tcase_add_test (tc, malformed_config_refused);
  tcase_add_test (tc, example_manifests);
  suite_add_tcase (s, tc);
  return h_run_suite (s);
}
