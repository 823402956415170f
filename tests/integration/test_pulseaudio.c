/* The pulseaudio gateway through the real agent, with a real sound server and a real client: a
 * pulseaudio daemon started for the test (null sink, anonymous unix socket in the test's temp
 * dir) and pactl (pulseaudio-utils, from the host's /usr) inside the container. The agent finds
 * the server through its own PULSE_SERVER, inherited from the test (set before h_agent_start).
 *
 * Checked from both sides: inside (pactl reaches the server; the environment; nothing there
 * without the gateway) and on the host (the mount point in the container's gateways dir; after
 * a refused or failed call nothing is left, and without audio the server is not touched). */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static const char *const no_caps[] = { NULL };

static const char manifest[]
    = "{\"version\": \"1\", \"capabilities\": ["
      " {\"name\": \"test.audio\","
      "  \"gateways\": [{\"id\": \"pulseaudio\", \"config\": [{\"audio\": true}]}]},"
      " {\"name\": \"test.audio-again\","
      "  \"gateways\": [{\"id\": \"pulseaudio\", \"config\": [{\"audio\": true}]}]},"
      " {\"name\": \"test.audio-off\","
      "  \"gateways\": [{\"id\": \"pulseaudio\", \"config\": [{\"audio\": false}]}]},"
      " {\"name\": \"test.audio-typo\","
      "  \"gateways\": [{\"id\": \"pulseaudio\", \"config\": [{\"audio\": \"yes\"}]}]}"
      "]}";

/* ---- the sound server ---------------------------------------------------------------------- */

static void
die_with_test_cb (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
}

static char *
server_socket (void)
{
  return h_path ("pulse.sock");
}

static gboolean
is_socket (const char *path)
{
  struct stat st;

  return lstat (path, &st) == 0 && S_ISSOCK (st.st_mode);
}

/* Starts pulseaudio as the test's user (root: it warns, and works) with only a null sink and
 * an anonymous unix socket, its home and runtime dirs in the temp dir, no D-Bus, no idle exit;
 * returns when the socket is there. It dies with the test process if the test fails before
 * stop_server. */
static GPid
start_server (void)
{
  g_autofree char *socket = server_socket ();
  g_autofree char *home = h_path ("pulse-home");
  g_autofree char *runtime = h_path ("pulse-runtime");
  g_autofree char *log = h_path ("pulseaudio.log");
  g_autofree char *home_env = g_strconcat ("HOME=", home, NULL);
  g_autofree char *runtime_env = g_strconcat ("XDG_RUNTIME_DIR=", runtime, NULL);
  g_autofree char *native = g_strdup_printf (
      "module-native-protocol-unix socket=%s auth-anonymous=1", socket);
  g_autofree char *out = NULL;
  g_autoptr (GError) error = NULL;
  const char *argv[] = { "pulseaudio", "--system=false", "-n", "--daemonize=no",
                         "--exit-idle-time=-1", "--use-pid-file=false", "--log-target=stderr",
                         "-L", native, "-L", "module-null-sink", NULL };
  const char *envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", home_env, runtime_env, NULL };
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  int log_fd, status;
  GPid pid;

  if (!g_file_test (home, G_FILE_TEST_IS_DIR))
    ck_assert_int_eq (g_mkdir (home, 0700), 0);
  if (!g_file_test (runtime, G_FILE_TEST_IS_DIR))
    ck_assert_int_eq (g_mkdir (runtime, 0700), 0);
  log_fd = open (log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  ck_assert_int_ge (log_fd, 0);
  if (!g_spawn_async_with_fds (NULL, (char **) argv, (char **) envp,
                               G_SPAWN_SEARCH_PATH_FROM_ENVP | G_SPAWN_DO_NOT_REAP_CHILD,
                               die_with_test_cb, NULL, &pid, -1, log_fd, log_fd, &error))
    ck_abort_msg ("cannot start pulseaudio: %s", error->message);
  close (log_fd);
  while (!is_socket (socket))
    {
      if (waitpid (pid, &status, WNOHANG) == pid)
        {
          out = h_read (log);
          ck_abort_msg ("pulseaudio exited (status 0x%x) before making %s:\n%s", status, socket,
                        out ? out : "");
        }
      ck_assert_msg (g_get_monotonic_time () < deadline,
                     "pulseaudio made no socket %s within 10 s", socket);
      g_usleep (10000);
    }
  return pid;
}

static void
stop_server (GPid pid)
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

static void
start_agent (const char *pulse_server)
{
  h_write_manifest (FALSE, "audio.json", manifest);
  if (pulse_server != NULL)
    g_setenv ("PULSE_SERVER", pulse_server, TRUE);
  else
    g_unsetenv ("PULSE_SERVER");
  h_agent_start (NULL);
}

static char *
unix_server (void)
{
  g_autofree char *socket = server_socket ();

  return g_strconcat ("unix:", socket, NULL);
}

static void
set_cap (int id, const char *cap)
{
  const char *const caps[] = { cap, NULL };

  h_set_capabilities (id, caps);
}

/* SetCapabilities that must fail with code_word; returns the message (g_free). */
static char *
set_cap_fails (int id, const char *code_word, const char *cap)
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

  return g_build_filename (h->shared_mounts_dir, name, "gateways", "pulse-native", NULL);
}

/* pactl in the container reaches the test's server. */
static void
assert_audio (int id)
{
  g_autofree char *out = h_run_ok (id, "pactl info");
  g_autofree char *env = NULL;
  g_autofree char *sinks = NULL;

  ck_assert_msg (strstr (out, "Server Name: pulseaudio") != NULL
                     && strstr (out, "Server String: unix:/gateways/pulse-native") != NULL,
                 "pactl info:\n%s", out);
  sinks = h_run_ok (id, "pactl list short sinks");
  ck_assert_msg (strstr (sinks, "null") != NULL, "no null sink:\n%s", sinks);
  env = h_run_ok (id, "sh -c 'echo \"[$PULSE_SERVER]\"'");
  ck_assert_str_eq (env, "[unix:/gateways/pulse-native]\n");
}

/* No sound server reachable in the container, whatever PULSE_SERVER a client tries. */
static void
assert_no_audio (int id)
{
  g_autofree char *host_server = unix_server ();
  g_autofree char *host_env = g_strconcat ("PULSE_SERVER=", host_server, NULL);
  const char *const host_vars[] = { host_env, NULL };
  const char *const inside_vars[] = { "PULSE_SERVER=unix:/gateways/pulse-native", NULL };
  const char *const *tries[] = { NULL, host_vars, inside_vars };
  g_autofree char *env_out = h_run_ok (id, "sh -c 'echo \"[$PULSE_SERVER]\"'");
  g_autofree char *mounts = h_run_ok (id, "cat /proc/self/mountinfo");
  g_autofree char *host_file = host_mount_point (id);

  ck_assert_str_eq (env_out, "[]\n");
  ck_assert_msg (strstr (mounts, " /gateways/pulse-native ") == NULL,
                 "a pulseaudio mount in the container:\n%s", mounts);
  ck_assert_msg (!g_file_test (host_file, G_FILE_TEST_EXISTS), "%s exists", host_file);
  for (guint i = 0; i < G_N_ELEMENTS (tries); i++)
    {
      g_autofree char *out_file = h_path ("no-audio.out");
      g_autofree char *out = NULL;
      int pid = h_execute (id, "pactl info", "/", out_file, tries[i]);
      guint code = h_wait_exit (id, pid, 30000);

      out = h_read (out_file);
      unlink (out_file);
      ck_assert_msg (code != 0, "pactl reached a server without the gateway (try %u):\n%s", i,
                     out ? out : "");
      ck_assert_msg (out == NULL || strstr (out, "Server Name") == NULL, "%s", out);
    }
}

/* ---- tests --------------------------------------------------------------------------------- */

START_TEST (pactl_reaches_server)
{
  GPid server = start_server ();
  g_autofree char *pulse_server = unix_server ();
  g_autofree char *host_file = NULL;
  g_autofree char *out = NULL;
  int id;

  start_agent (pulse_server);
  id = h_create ("[]");
  host_file = host_mount_point (id);
  set_cap (id, "test.audio");
  assert_audio (id);
  out = h_run_ok (id, "sh -c 'test -S /gateways/pulse-native && echo socket'");
  ck_assert_str_eq (out, "socket\n");
  ck_assert_msg (g_file_test (host_file, G_FILE_TEST_IS_REGULAR), "%s is missing", host_file);
  /* the app can play into the server's null sink */
  g_free (h_run_ok (id, "sh -c 'head -c 17640 /dev/zero | pacat --raw --playback "
                        "--format=s16le --rate=44100 --channels=2'"));
  h_destroy (id);
  ck_assert (!g_file_test (host_file, G_FILE_TEST_EXISTS));
  stop_server (server);
}
END_TEST

START_TEST (without_gateway_no_server)
{
  GPid server = start_server ();
  g_autofree char *pulse_server = unix_server ();
  int bare, off;

  start_agent (pulse_server);
  bare = h_create ("[]");
  h_set_capabilities (bare, no_caps);
  assert_no_audio (bare);
  off = h_create ("[]");
  set_cap (off, "test.audio-off");
  assert_no_audio (off);
  h_destroy (bare);
  h_destroy (off);
  stop_server (server);
}
END_TEST

START_TEST (plain_path)
{
  GPid server = start_server ();
  g_autofree char *socket = server_socket ();
  int id;

  start_agent (socket);
  id = h_create ("[]");
  set_cap (id, "test.audio");
  assert_audio (id);
  h_destroy (id);
  stop_server (server);
}
END_TEST

START_TEST (once_only)
{
  GPid server = start_server ();
  g_autofree char *pulse_server = unix_server ();
  g_autofree char *message = NULL;
  int id;

  start_agent (pulse_server);
  id = h_create ("[]");
  set_cap (id, "test.audio");
  message = set_cap_fails (id, "BadState", "test.audio-off");
  ck_assert_msg (strstr (message, "pulseaudio") != NULL, "%s", message);
  g_clear_pointer (&message, g_free);
  message = set_cap_fails (id, "BadState", "test.audio-again");
  ck_assert_msg (strstr (message, "pulseaudio") != NULL, "%s", message);
  assert_audio (id);
  g_free (h_run_ok (id, "true"));
  h_destroy (id);
  stop_server (server);
}
END_TEST

START_TEST (missing_socket_fails)
{
  g_autofree char *socket = server_socket ();
  g_autofree char *pulse_server = unix_server ();
  g_autofree char *message = NULL;
  GPid server;
  int id;

  start_agent (pulse_server);
  id = h_create ("[]");
  message = set_cap_fails (id, "GatewayFailed", "test.audio");
  ck_assert_msg (strstr (message, socket) != NULL && strstr (message, "does not exist") != NULL,
                 "%s", message);
  assert_no_audio (id);
  /* the failed call configured nothing: once the server is up, the same capability works */
  server = start_server ();
  set_cap (id, "test.audio");
  assert_audio (id);
  h_destroy (id);
  stop_server (server);
}
END_TEST

START_TEST (unset_server_fails)
{
  g_autofree char *message = NULL;
  int id;

  start_agent (NULL);
  id = h_create ("[]");
  message = set_cap_fails (id, "GatewayFailed", "test.audio");
  ck_assert_msg (strstr (message, "PULSE_SERVER is not set") != NULL, "%s", message);
  assert_no_audio (id);
  /* without audio the server is not needed: nothing is looked at */
  set_cap (id, "test.audio-off");
  assert_no_audio (id);
  h_destroy (id);
}
END_TEST

START_TEST (tcp_server_fails)
{
  GPid server = start_server ();
  g_autofree char *message = NULL;
  int id;

  start_agent ("tcp:127.0.0.1:4713");
  id = h_create ("[]");
  message = set_cap_fails (id, "GatewayFailed", "test.audio");
  ck_assert_msg (strstr (message, "'tcp:127.0.0.1:4713'") != NULL
                     && strstr (message, "not a unix socket") != NULL,
                 "%s", message);
  assert_no_audio (id);
  h_destroy (id);
  stop_server (server);
}
END_TEST

START_TEST (malformed_config_refused)
{
  GPid server = start_server ();
  g_autofree char *pulse_server = unix_server ();
  g_autofree char *message = NULL;
  int id;

  start_agent (pulse_server);
  id = h_create ("[]");
  message = set_cap_fails (id, "GatewayConfig", "test.audio-typo");
  ck_assert_msg (strstr (message, "test.audio-typo") != NULL
                     && strstr (message, "'audio' must be true or false") != NULL,
                 "%s", message);
  assert_no_audio (id);
  /* a refused config does not count as the one configuration */
  set_cap (id, "test.audio");
  assert_audio (id);
  h_destroy (id);
  stop_server (server);
}
END_TEST

/* The example in service-manifests/ as shipped. */
START_TEST (example_manifest)
{
  GPid server = start_server ();
  g_autofree char *pulse_server = unix_server ();
  g_autofree char *src = g_build_filename (SC_SOURCE_DIR, "service-manifests",
                                           "service-manifest.d", "com.example.audio.json", NULL);
  g_autofree char *text = h_read (src);
  int id;

  ck_assert_msg (text != NULL, "cannot read %s", src);
  h_write_manifest (FALSE, "com.example.audio.json", text);
  g_setenv ("PULSE_SERVER", pulse_server, TRUE);
  h_agent_start (NULL);
  id = h_create ("[]");
  set_cap (id, "com.example.audio");
  assert_audio (id);
  h_destroy (id);
  stop_server (server);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("pulseaudio gateway");
  TCase *tc = h_tcase_bus_only ("pulseaudio");

  tcase_add_test (tc, pactl_reaches_server);
  tcase_add_test (tc, without_gateway_no_server);
  tcase_add_test (tc, plain_path);
  tcase_add_test (tc, once_only);
  tcase_add_test (tc, missing_socket_fails);
  tcase_add_test (tc, unset_server_fails);
  tcase_add_test (tc, tcp_server_fails);
  tcase_add_test (tc, malformed_config_refused);
  tcase_add_test (tc, example_manifest);
  suite_add_tcase (s, tc);
  return h_run_suite (s);
}
