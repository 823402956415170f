/* The agent's start and end through the real binary: the bus name and the introspected API,
 * fail-fast startup (config file, bus, command line), options that override the config file,
 * a second agent, and a restart after SIGKILL that removes stale SC-* containers and leaves
 * every other LXC container alone. Every test starts the agent itself (bus-only fixture). */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define AGENT_NAME "com.pelagicore.SoftwareContainerAgent"
#define AGENT_PATH "/com/pelagicore/SoftwareContainerAgent"
#define AGENT_IFACE "com.pelagicore.SoftwareContainerAgent"
#define BYSTANDER "sc-test-bystander"

/* ---- helpers ------------------------------------------------------------------------------ */

/* The agent exited on its own, non-zero, within the time given to h_agent_run_to_exit. */
static void
assert_failed_fast (int status, const char *output)
{
  ck_assert_msg (status != -1, "the agent did not exit in time; output:\n%s", output);
  ck_assert_msg (WIFEXITED (status) && WEXITSTATUS (status) != 0,
                 "the agent did not exit non-zero (status 0x%x); output:\n%s", status, output);
}

static void
assert_contains (const char *text, const char *part)
{
  ck_assert_msg (text != NULL && strstr (text, part) != NULL, "'%s' not in:\n%s", part,
                 text ? text : "(nothing)");
}

/* Writes a config file: the fixture's settings plus `extra` lines; returns its path. */
static char *
write_config (const char *file_name, const char *extra)
{
  g_autofree char *base = h_read (h->config_file);
  g_autofree char *text = g_strconcat (base, extra, NULL);
  char *path = h_path (file_name);

  ck_assert (g_file_set_contents (path, text, -1, NULL));
  return path;
}

static char **
list_capabilities (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) r = h_call ("ListCapabilities", NULL, &error);
  char **names = NULL;

  ck_assert_msg (r != NULL, "ListCapabilities: %s", error ? error->message : "");
  g_variant_get (r, "(^as)", &names);
  return names;
}

static guint
count_sc_entries (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  guint n = 0;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    if (g_str_has_prefix (name, "SC-") && name[3] != '\0'
        && strspn (name + 3, "0123456789") == strlen (name + 3))
      n++;
  return n;
}

/* Runs a program to its end; returns its exit status, output in *output (may be NULL). */
static int
run (const char *const *argv, char **output)
{
  g_autoptr (GError) error = NULL;
  int status = -1;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                     NULL, NULL, output, NULL, &status, &error))
    ck_abort_msg ("cannot run %s: %s", argv[0], error->message);
  return status;
}

static void
destroy_bystander (void)
{
  const char *argv[] = { "lxc-destroy", "-n", BYSTANDER, NULL };
  g_autofree char *dir = g_build_filename (h->lxcpath, BYSTANDER, NULL);

  if (g_file_test (dir, G_FILE_TEST_EXISTS))
    run (argv, NULL);
}

/* Whether pid is gone (or a zombie that only waits to be reaped). */
static gboolean
process_gone (pid_t pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_autofree char *stat = h_read (path);
  const char *end = stat != NULL ? strrchr (stat, ')') : NULL;

  return stat == NULL || (end != NULL && end[1] == ' ' && end[2] == 'Z');
}

/* A thread: waits for the child pid (data) to end and reaps it; returns the pid or -1. */
static gpointer
reap_pid (gpointer data)
{
  pid_t pid = (pid_t) GPOINTER_TO_INT (data);
  int status;

  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return GINT_TO_POINTER (-1);
  return GINT_TO_POINTER (pid);
}

/* ---- the bus name and the API ---------------------------------------------------------- */

typedef struct {
  const char *name;
  const char *in;  /* "name:type name:type" */
  const char *out;
} Member;

static const Member contract_methods[] = {
  { "List", "", "containers:ai" },
  { "Create", "config:s", "containerID:i" },
  { "Execute",
    "containerID:i commandLine:s workingDirectory:s outputFile:s env:a{ss}", "pid:i" },
  { "Suspend", "containerID:i", "" },
  { "Resume", "containerID:i", "" },
  { "Destroy", "containerID:i", "" },
  { "BindMount", "containerID:i pathInHost:s pathInContainer:s readOnly:b", "" },
  { "ListCapabilities", "", "capabilities:as" },
  { "SetCapabilities", "containerID:i capabilities:as", "" },
};

static char *
describe_args (GDBusArgInfo **args)
{
  GString *s = g_string_new (NULL);

  for (GDBusArgInfo **a = args; a != NULL && *a != NULL; a++)
    g_string_append_printf (s, "%s%s:%s", s->len > 0 ? " " : "", (*a)->name, (*a)->signature);
  return g_string_free (s, FALSE);
}

START_TEST (introspection_matches_contract)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GDBusNodeInfo) node = NULL;
  const char *xml = NULL;
  GDBusInterfaceInfo *iface;
  GDBusSignalInfo *signal;
  guint n = 0;

  h_agent_start (NULL);
  reply = g_dbus_connection_call_sync (h->conn, AGENT_NAME, AGENT_PATH,
                                       "org.freedesktop.DBus.Introspectable", "Introspect", NULL,
                                       G_VARIANT_TYPE ("(s)"), G_DBUS_CALL_FLAGS_NONE, 10000, NULL,
                                       &error);
  ck_assert_msg (reply != NULL, "Introspect: %s", error ? error->message : "");
  g_variant_get (reply, "(&s)", &xml);
  node = g_dbus_node_info_new_for_xml (xml, &error);
  ck_assert_msg (node != NULL, "the introspection XML does not parse: %s", error->message);
  iface = g_dbus_node_info_lookup_interface (node, AGENT_IFACE);
  ck_assert_msg (iface != NULL, "no interface %s in:\n%s", AGENT_IFACE, xml);

  /* exactly the contract's methods, each with the contract's arguments */
  for (GDBusMethodInfo **m = iface->methods; m != NULL && *m != NULL; m++)
    n++;
  ck_assert_msg (n == G_N_ELEMENTS (contract_methods), "%u methods, not %u:\n%s", n,
                 (guint) G_N_ELEMENTS (contract_methods), xml);
  for (guint i = 0; i < G_N_ELEMENTS (contract_methods); i++)
    {
      const Member *want = &contract_methods[i];
      GDBusMethodInfo *m = g_dbus_interface_info_lookup_method (iface, want->name);
      g_autofree char *in = NULL;
      g_autofree char *out = NULL;

      ck_assert_msg (m != NULL, "method %s missing:\n%s", want->name, xml);
      in = describe_args (m->in_args);
      out = describe_args (m->out_args);
      ck_assert_msg (strcmp (in, want->in) == 0, "%s in: '%s', not '%s'", want->name, in,
                     want->in);
      ck_assert_msg (strcmp (out, want->out) == 0, "%s out: '%s', not '%s'", want->name, out,
                     want->out);
    }

  /* exactly one signal, no properties */
  n = 0;
  for (GDBusSignalInfo **s = iface->signals; s != NULL && *s != NULL; s++)
    n++;
  ck_assert_msg (n == 1, "%u signals, not 1:\n%s", n, xml);
  signal = g_dbus_interface_info_lookup_signal (iface, "ProcessStateChanged");
  ck_assert_msg (signal != NULL, "no ProcessStateChanged signal:\n%s", xml);
  {
    g_autofree char *args = describe_args (signal->args);
    ck_assert_str_eq (args, "containerID:i processID:u isRunning:b exitCode:u");
  }
  ck_assert_msg (iface->properties == NULL || iface->properties[0] == NULL,
                 "the interface has properties:\n%s", xml);

  /* the standard interfaces are there too */
  ck_assert (g_dbus_node_info_lookup_interface (node, "org.freedesktop.DBus.Introspectable")
             != NULL);
}
END_TEST

/* ---- fail-fast startup ------------------------------------------------------------------ */

START_TEST (missing_config_file)
{
  const char *args[] = { "-c", "/nonexistent/softwarecontainer-config", NULL };
  g_autofree char *output = NULL;
  int status = h_agent_run_to_exit (args, NULL, 5000, &output);

  assert_failed_fast (status, output);
  assert_contains (output, "/nonexistent/softwarecontainer-config");
}
END_TEST

START_TEST (unknown_config_key)
{
  g_autofree char *config = write_config ("unknown-key.conf", "shutdown-timout=2\n");
  const char *args[] = { "-c", config, NULL };
  g_autofree char *output = NULL;
  int status = h_agent_run_to_exit (args, NULL, 5000, &output);

  assert_failed_fast (status, output);
  assert_contains (output, config);
  assert_contains (output, "[SoftwareContainer]");
  assert_contains (output, "shutdown-timout");
}
END_TEST

START_TEST (wrong_value_type)
{
  static const char *const cases[][2] = {
    { "shutdown-timeout=soon\n", "shutdown-timeout" },
    { "use-session-bus=maybe\n", "use-session-bus" },
    { "bridge-netmask-bitlength=24.5\n", "bridge-netmask-bitlength" },
    { "create-bridge=2\n", "create-bridge" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *name = g_strdup_printf ("wrong-type-%u.conf", i);
      g_autofree char *config = write_config (name, cases[i][0]);
      const char *args[] = { "-c", config, NULL };
      g_autofree char *output = NULL;
      int status = h_agent_run_to_exit (args, NULL, 5000, &output);

      assert_failed_fast (status, output);
      assert_contains (output, config);
      assert_contains (output, cases[i][1]);
    }
}
END_TEST

START_TEST (bus_unreachable)
{
  const char *args[] = { "-c", h->config_file, NULL };
  const char *env[] = { "DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent/bus-socket", NULL };
  g_autofree char *output = NULL;
  int status = h_agent_run_to_exit (args, env, 5000, &output);

  assert_failed_fast (status, output);
  assert_contains (output, "bus");
}
END_TEST

START_TEST (help_lists_every_option)
{
  static const char *const options[] = {
    "-c, --config", "-t, --timeout", "-m, --manifest-dir", "-d, --default-manifest-dir",
    "-b, --session-bus", "-u, --user", "-h, --help",
  };
  const char *args[] = { "--help", NULL };
  g_autofree char *output = NULL;
  int status = h_agent_run_to_exit (args, NULL, 5000, &output);

  ck_assert_msg (status != -1 && WIFEXITED (status) && WEXITSTATUS (status) == 0,
                 "--help: status 0x%x, output:\n%s", status, output);
  for (guint i = 0; i < G_N_ELEMENTS (options); i++)
    assert_contains (output, options[i]);
}
END_TEST

START_TEST (bad_option_values)
{
  static const char *const cases[][3] = {
    { "-t", "soon", "timeout" },
    { "-t", "-1", "timeout" },
    { "-u", "nobody-at-all", "user" },
    { "--no-such-option", NULL, "no-such-option" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const char *args[] = { "-c", h->config_file, cases[i][0], cases[i][1], NULL };
      g_autofree char *output = NULL;
      int status = h_agent_run_to_exit (args, NULL, 5000, &output);

      assert_failed_fast (status, output);
      assert_contains (output, cases[i][2]);
    }
}
END_TEST

START_TEST (second_agent_cannot_own_the_name)
{
  const char *args[] = { "-c", h->config_file, NULL };
  g_autofree char *output = NULL;
  g_autofree char *text = NULL;
  int status, id, live, pid;

  h_agent_start (NULL);
  /* The first agent has a container with a running process: a second agent must refuse to
   * start before it touches anything (every agent removes stale SC-* containers at startup,
   * so without the host-wide agent lock it would destroy this one). */
  live = h_create ("[]");
  pid = h_execute (live, "sleep 1000", "/", NULL, NULL);
  status = h_agent_run_to_exit (args, NULL, 10000, &output);
  assert_failed_fast (status, output);
  assert_contains (output, AGENT_NAME);
  assert_contains (output, "another softwarecontainer-agent is running");

  /* the first agent still serves, and its container and process were not touched */
  ck_assert_int_eq (kill (pid, 0), 0);
  text = h_run_ok (live, "echo still here");
  ck_assert_str_eq (text, "still here\n");
  id = h_create ("[]");
  h_destroy (id);
  h_destroy (live);
  ck_assert_uint_eq (h_wait_exit (live, pid, 10000), 143);
}
END_TEST

/* ---- options override the config file ---------------------------------------------------- */

START_TEST (timeout_option_is_honoured)
{
  /* the config file says shutdown-timeout=1; -t 3 must win: a process that ignores SIGTERM
   * keeps Destroy waiting for the whole polite-stop time before it is killed */
  const char *args[] = { "-t", "3", NULL };
  gint64 start, took;
  int id, pid;

  h_agent_start (args);
  id = h_create ("[]");
  pid = h_execute (id, "sh -c 'trap \"\" TERM; sleep 1000'", "/", NULL, NULL);
  h_sleep (200);
  start = g_get_monotonic_time ();
  h_destroy (id);
  took = g_get_monotonic_time () - start;
  ck_assert_msg (took >= 2800 * 1000, "Destroy took %ld ms: the -t 3 timeout was not used",
                 (long) (took / 1000));
  ck_assert_uint_eq (h_wait_exit (id, pid, 10000), 137);
}
END_TEST

START_TEST (manifest_options_are_honoured)
{
  g_autofree char *manifests = h_path ("other-manifests");
  g_autofree char *defaults = h_path ("other-defaults");
  g_autofree char *manifest = g_build_filename (manifests, "test.json", NULL);
  g_autofree char *default_manifest = g_build_filename (defaults, "defaults.json", NULL);
  const char *args[] = { "-m", manifests, "-d", defaults, NULL };
  const char *const caps[] = { "test.from-option", NULL };
  g_auto (GStrv) names = NULL;
  g_autofree char *text = NULL;
  int id;

  /* what the config file names: must be overridden by the options */
  h_write_manifest (FALSE, "file.json",
                    "{\"version\": \"1\", \"capabilities\": [{\"name\": \"test.from-file\", "
                    "\"gateways\": [{\"id\": \"env\", \"config\": "
                    "[{\"name\": \"FROM_FILE\", \"value\": \"bad\"}]}]}]}");
  h_write_manifest (TRUE, "file-defaults.json",
                    "{\"version\": \"1\", \"capabilities\": [{\"name\": \"test.file-defaults\", "
                    "\"gateways\": [{\"id\": \"env\", \"config\": "
                    "[{\"name\": \"FILE_DEFAULT\", \"value\": \"bad\"}]}]}]}");
  /* what the options name */
  ck_assert_int_eq (g_mkdir (manifests, 0755), 0);
  ck_assert_int_eq (g_mkdir (defaults, 0755), 0);
  ck_assert (g_file_set_contents (
      manifest,
      "{\"version\": \"1\", \"capabilities\": [{\"name\": \"test.from-option\", "
      "\"gateways\": [{\"id\": \"env\", \"config\": "
      "[{\"name\": \"FROM_OPTION\", \"value\": \"yes\"}]}]}]}",
      -1, NULL));
  ck_assert (g_file_set_contents (
      default_manifest,
      "{\"version\": \"1\", \"capabilities\": [{\"name\": \"test.option-defaults\", "
      "\"gateways\": [{\"id\": \"env\", \"config\": "
      "[{\"name\": \"OPTION_DEFAULT\", \"value\": \"also\"}]}]}]}",
      -1, NULL));

  h_agent_start (args);
  names = list_capabilities ();
  ck_assert_uint_eq (g_strv_length (names), 1);
  ck_assert_str_eq (names[0], "test.from-option");

  id = h_create ("[]");
  h_call_expect ("CapabilityUnknown", "SetCapabilities",
                 g_variant_new ("(i^as)", id, (const char *const[]){ "test.from-file", NULL }));
  h_set_capabilities (id, caps);
  text = h_run_ok (id, "sh -c 'echo \"$FROM_OPTION/$OPTION_DEFAULT/$FROM_FILE/$FILE_DEFAULT\"'");
  ck_assert_str_eq (text, "yes/also//\n");
  h_destroy (id);
}
END_TEST

START_TEST (deprecated_config_key_is_accepted)
{
  g_autofree char *base = h_read (h->config_file);
  g_autofree char *text = g_strconcat (base, "deprecated-lxc-config-path=/usr/share/lxc/config\n",
                                       NULL);
  g_autofree char *log = NULL;
  g_autofree char *out = NULL;
  int id;

  ck_assert (g_file_set_contents (h->config_file, text, -1, NULL));
  h_agent_start (NULL);
  log = h_read (h->agent_log);
  assert_contains (log, "deprecated-lxc-config-path");
  id = h_create ("[]");
  out = h_run_ok (id, "echo ok");
  ck_assert_str_eq (out, "ok\n");
  h_destroy (id);
}
END_TEST

/* ---- restart after SIGKILL ---------------------------------------------------------------- */

START_TEST (restart_after_sigkill_removes_stale_containers)
{
  const char *create[] = { "lxc-create", "-n", BYSTANDER, "-t", "/bin/true", NULL };
  const char *ls[] = { "lxc-ls", "-1", NULL };
  g_autofree char *bystander_dir = g_build_filename (h->lxcpath, BYSTANDER, NULL);
  g_autofree char *bystander_config = g_build_filename (bystander_dir, "config", NULL);
  g_autofree char *bystander_mark = g_build_filename (bystander_dir, "rootfs", "mark", NULL);
  g_autofree char *config_before = NULL;
  g_autofree char *config_after = NULL;
  g_autofree char *mark = NULL;
  g_autofree char *listed = NULL;
  g_autofree int *ids = NULL;
  g_autofree char *out = NULL;
  GThread *reaper;
  int a, b, c, sleeper, status;
  guint n;

  /* a container of somebody else's beside ours (a left-over of a failed run first) */
  destroy_bystander ();
  status = run (create, NULL);
  ck_assert_msg (WIFEXITED (status) && WEXITSTATUS (status) == 0, "lxc-create failed: 0x%x",
                 status);
  ck_assert (g_file_set_contents (bystander_mark, "untouched\n", -1, NULL));
  config_before = h_read (bystander_config);
  ck_assert (config_before != NULL);

  h_agent_start (NULL);
  a = h_create ("[]");
  b = h_create ("[{\"writeBufferEnabled\": false}]");
  c = h_create ("[]");
  sleeper = h_execute (a, "sleep 1000", "/", NULL, NULL);
  h_suspend (c);
  ids = h_list (&n);
  ck_assert_uint_eq (n, 3);
  ck_assert (ids[0] == a && ids[1] == b && ids[2] == c);
  g_clear_pointer (&ids, g_free);
  ck_assert_uint_eq (count_sc_entries (h->lxcpath), 3);

  status = h_agent_stop (SIGKILL);
  ck_assert (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
  /* The agent's children (the sleeper) are ours now: this process is the subreaper, as systemd
   * would be for a real agent. Reap it when it dies, as systemd would: a zombie of the
   * container's PID namespace keeps the namespace's init from ending, and so the stale
   * container from being stopped. */
  reaper = g_thread_new ("reaper", reap_pid, GINT_TO_POINTER (sleeper));
  /* the containers outlive the agent until the next one starts */
  ck_assert_uint_eq (count_sc_entries (h->lxcpath), 3);

  h_agent_start (NULL);
  ids = h_list (&n);
  ck_assert_uint_eq (n, 0);
  ck_assert_uint_eq (count_sc_entries (h->lxcpath), 0);
  ck_assert_uint_eq (count_sc_entries (h->shared_mounts_dir), 0);
  /* the process that ran in a stale container is gone with it */
  ck_assert_msg (process_gone (sleeper), "pid %d of a stale container survives", sleeper);
  ck_assert_int_eq (GPOINTER_TO_INT (g_thread_join (reaper)), sleeper);

  /* the bystander is untouched */
  config_after = h_read (bystander_config);
  ck_assert_msg (g_strcmp0 (config_before, config_after) == 0, "the bystander's config changed");
  mark = h_read (bystander_mark);
  ck_assert_msg (g_strcmp0 (mark, "untouched\n") == 0, "the bystander's rootfs changed");
  status = run (ls, &listed);
  ck_assert (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  assert_contains (listed, BYSTANDER);

  /* the new agent works, and its IDs do not collide with the stale ones' names */
  a = h_create ("[]");
  out = h_run_ok (a, "echo fresh");
  ck_assert_str_eq (out, "fresh\n");
  h_destroy (a);

  destroy_bystander ();
  ck_assert (!g_file_test (bystander_dir, G_FILE_TEST_EXISTS));
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("startup");
  const struct {
    const char *name;
    const TTest *test;
  } tests[] = {
    { "introspection_matches_contract", introspection_matches_contract },
    { "missing_config_file", missing_config_file },
    { "unknown_config_key", unknown_config_key },
    { "wrong_value_type", wrong_value_type },
    { "bus_unreachable", bus_unreachable },
    { "help_lists_every_option", help_lists_every_option },
    { "bad_option_values", bad_option_values },
    { "second_agent_cannot_own_the_name", second_agent_cannot_own_the_name },
    { "timeout_option_is_honoured", timeout_option_is_honoured },
    { "manifest_options_are_honoured", manifest_options_are_honoured },
    { "deprecated_config_key_is_accepted", deprecated_config_key_is_accepted },
    { "restart_after_sigkill_removes_stale_containers",
      restart_after_sigkill_removes_stale_containers },
  };

  /* one TCase per test, so that CK_RUN_CASE=<test name> runs just that one */
  for (guint i = 0; i < G_N_ELEMENTS (tests); i++)
    {
      TCase *tc = h_tcase_bus_only (tests[i].name);
      tcase_add_test (tc, tests[i].test);
      suite_add_tcase (s, tc);
    }
  return h_run_suite (s);
}
