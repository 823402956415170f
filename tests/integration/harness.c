/* Integration-test harness (see harness.h). */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <lxc/lxccontainer.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define AGENT_NAME "com.pelagicore.SoftwareContainerAgent"
#define AGENT_PATH "/com/pelagicore/SoftwareContainerAgent"
#define AGENT_IFACE "com.pelagicore.SoftwareContainerAgent"

Harness *h;

/* ---- processes --------------------------------------------------------------------------- */

/* Reaps every child that has exited; records the agent's status. The harness is a subreaper:
 * LXC monitors and orphans end up here. */
static void
reap (void)
{
  int status;
  pid_t pid;

  while ((pid = waitpid (-1, &status, WNOHANG)) > 0)
    if (h != NULL && pid == h->agent_pid)
      h->agent_status = status;
}

static gboolean
wait_pid (GPid pid, int *status, int timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  for (;;)
    {
      pid_t r = waitpid (pid, status, WNOHANG);
      if (r == pid)
        return TRUE;
      if (r < 0)
        {
          /* reaped by reap() already */
          if (h != NULL && pid == h->agent_pid && h->agent_status != -1)
            {
              *status = h->agent_status;
              return TRUE;
            }
          return FALSE;
        }
      if (g_get_monotonic_time () > deadline)
        return FALSE;
      g_usleep (2000);
    }
}

char *
h_path (const char *name)
{
  return g_build_filename (h->tmpdir, name, NULL);
}

char *
h_read (const char *path)
{
  char *data = NULL;
  if (!g_file_get_contents (path, &data, NULL, NULL))
    return NULL;
  return data;
}

static void
dump_agent_log (void)
{
  g_autofree char *log = h != NULL && h->agent_log != NULL ? h_read (h->agent_log) : NULL;
  if (log != NULL && log[0] != '\0')
    g_printerr ("---- agent log (%s) ----\n%s---- end of agent log ----\n", h->agent_log, log);
}

/* ---- the bus ------------------------------------------------------------------------------ */

static void
start_bus (void)
{
  g_autofree char *conf = h_path ("bus.conf");
  g_autofree char *socket = h_path ("bus.socket");
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  const char *argv[] = { "dbus-daemon", "--nofork", "--config-file", conf, NULL };
  gint64 deadline;

  /* A system-bus-like policy: anyone may connect and talk, then the shipped policy of the
   * agent decides who may own and call it (it comes last, so it wins). */
  text = g_strdup_printf (
      "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN\"\n"
      " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
      "<busconfig>\n"
      "  <type>system</type>\n"
      "  <listen>unix:path=%s</listen>\n"
      "  <auth>EXTERNAL</auth>\n"
      "  <policy context=\"default\">\n"
      "    <allow user=\"*\"/>\n"
      "    <allow own=\"*\"/>\n"
      "    <allow send_type=\"method_call\"/>\n"
      "    <allow send_type=\"signal\"/>\n"
      "    <allow send_requested_reply=\"true\" send_type=\"method_return\"/>\n"
      "    <allow send_requested_reply=\"true\" send_type=\"error\"/>\n"
      "    <allow receive_type=\"method_call\"/>\n"
      "    <allow receive_type=\"method_return\"/>\n"
      "    <allow receive_type=\"error\"/>\n"
      "    <allow receive_type=\"signal\"/>\n"
      "  </policy>\n"
      "  <include>%s/dbus/com.pelagicore.SoftwareContainerAgent.conf</include>\n"
      "%s"
      "</busconfig>\n",
      socket, SC_SOURCE_DIR,
      g_getenv ("SC_TEST_BUS_OPEN") != NULL
          ? "  <policy context=\"mandatory\">\n"
            "    <allow send_destination=\"" AGENT_NAME "\"/>\n"
            "  </policy>\n"
          : "");
  ck_assert (g_file_set_contents (conf, text, -1, NULL));
  if (!g_spawn_async (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD,
                      NULL, NULL, &h->bus_pid, &error))
    ck_abort_msg ("cannot start dbus-daemon: %s", error->message);
  h->bus_address = g_strdup_printf ("unix:path=%s", socket);
  deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (!g_file_test (socket, G_FILE_TEST_EXISTS))
    {
      ck_assert_msg (g_get_monotonic_time () < deadline, "dbus-daemon did not start");
      g_usleep (2000);
    }
  g_setenv ("DBUS_SYSTEM_BUS_ADDRESS", h->bus_address, TRUE);

  /* the socket file appears at bind(), before dbus-daemon listens on it: a connection refused
   * right after is a race, not a failure */
  for (;;)
    {
      g_clear_error (&error);
      h->conn = g_dbus_connection_new_for_address_sync (
          h->bus_address,
          G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
              | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
          NULL, NULL, &error);
      if (h->conn != NULL || g_get_monotonic_time () > deadline)
        break;
      g_usleep (5000);
    }
  ck_assert_msg (h->conn != NULL, "cannot connect to the test bus: %s",
                 error ? error->message : "");
  g_dbus_connection_set_exit_on_close (h->conn, FALSE);
}

static void
on_process_state_changed (GDBusConnection *conn, const char *sender, const char *path,
                          const char *iface, const char *signal, GVariant *params, gpointer data)
{
  HExit *e = g_new0 (HExit, 1);
  gboolean running;

  g_variant_get (params, "(iubu)", &e->container, &e->pid, &running, &e->code);
  if (running)
    {
      g_free (e);
      return;
    }
  g_queue_push_tail (h->exits, e);
}

/* ---- the tests' network (network gateway) --------------------------------------------------- */

static gboolean
run_quiet (const char *const *argv, char **out)
{
  int status = -1;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                     NULL, NULL, out, NULL, &status, NULL))
    return FALSE;
  return WIFEXITED (status) && WEXITSTATUS (status) == 0;
}

static char *saved_ip_forward;

void
h_network_cleanup (void)
{
  const char *del_bridge[] = { "ip", "link", "del", SC_TEST_BRIDGE, NULL };
  const char *list_nat[] = { "iptables-legacy", "-w", "-t", "nat", "-S", "POSTROUTING", NULL };
  g_autofree char *nat = NULL;

  if (g_file_test ("/sys/class/net/" SC_TEST_BRIDGE, G_FILE_TEST_EXISTS))
    run_quiet (del_bridge, NULL);
  /* every MASQUERADE rule of the tests' networks (SC_TEST_NET_PREFIX*), whatever their size */
  if (run_quiet (list_nat, &nat))
    {
      g_auto (GStrv) lines = g_strsplit (nat, "\n", -1);
      for (char **l = lines; *l != NULL; l++)
        if (g_str_has_prefix (*l, "-A POSTROUTING -s " SC_TEST_NET_PREFIX)
            && g_str_has_suffix (*l, "-j MASQUERADE"))
          {
            g_autofree char *cmd = g_strdup_printf ("iptables-legacy -w -t nat -D %s", *l + 3);
            g_auto (GStrv) argv = g_strsplit (cmd, " ", -1);
            run_quiet ((const char *const *) argv, NULL);
          }
    }
  /* /proc files are written in place (g_file_set_contents would rename over them) */
  if (saved_ip_forward != NULL)
    {
      int fd = open ("/proc/sys/net/ipv4/ip_forward", O_WRONLY | O_CLOEXEC);
      if (fd >= 0)
        {
          if (write (fd, saved_ip_forward, strlen (saved_ip_forward)) < 0)
            g_printerr ("cannot restore net.ipv4.ip_forward: %s\n", g_strerror (errno));
          close (fd);
        }
    }
}

/* Remembers IPv4 forwarding as it was before any agent of this process turned it on. */
static void
save_ip_forward (void)
{
  if (saved_ip_forward == NULL)
    g_file_get_contents ("/proc/sys/net/ipv4/ip_forward", &saved_ip_forward, NULL, NULL);
}

void
h_config_set (const char *key, const char *value)
{
  g_autofree char *text = h_read (h->config_file);
  g_auto (GStrv) lines = g_strsplit (text != NULL ? text : "", "\n", -1);
  g_autoptr (GString) out = g_string_new (NULL);
  g_autofree char *prefix = g_strdup_printf ("%s=", key);
  gboolean done = FALSE;

  for (char **l = lines; *l != NULL; l++)
    {
      if (**l == '\0')
        continue;
      if (g_str_has_prefix (*l, prefix))
        {
          if (value != NULL)
            g_string_append_printf (out, "%s%s\n", prefix, value);
          done = TRUE;
        }
      else
        g_string_append_printf (out, "%s\n", *l);
    }
  if (!done && value != NULL)
    g_string_append_printf (out, "%s%s\n", prefix, value);
  ck_assert (g_file_set_contents (h->config_file, out->str, -1, NULL));
}

/* ---- fixtures ------------------------------------------------------------------------------ */

static void
common_setup (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *conf = NULL;

  prctl (PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  h = g_new0 (Harness, 1);
  h->agent_status = -1;
  h->tmpdir = g_dir_make_tmp ("sc-test-XXXXXX", &error);
  ck_assert_msg (h->tmpdir != NULL, "tmpdir: %s", error ? error->message : "");
  chmod (h->tmpdir, 0755);
  h->exits = g_queue_new ();
  h->lxcpath = g_strdup (lxc_get_global_config_item ("lxc.lxcpath"));
  h->shared_mounts_dir = h_path ("shared");
  h->manifest_dir = h_path ("manifests");
  h->default_manifest_dir = h_path ("default-manifests");
  g_mkdir (h->manifest_dir, 0755);
  g_mkdir (h->default_manifest_dir, 0755);
  h->config_file = h_path ("agent.conf");
  h->agent_log = h_path ("agent.log");
  /* the network gateway's bridge is the tests' own (never the platform's lxcbr0); the
   * harness removes it and its NAT rule after each test (h_network_cleanup) */
  conf = g_strdup_printf ("[SoftwareContainer]\n"
                          "shared-mounts-dir=%s\n"
                          "service-manifest-dir=%s\n"
                          "default-service-manifest-dir=%s\n"
                          "shutdown-timeout=1\n"
                          "bridge-device=" SC_TEST_BRIDGE "\n"
                          "bridge-ip=" SC_TEST_BRIDGE_IP "\n"
                          "bridge-netaddr=" SC_TEST_NETADDR "\n"
                          "bridge-netmask=255.255.255.0\n"
                          "bridge-netmask-bitlength=24\n",
                          h->shared_mounts_dir, h->manifest_dir, h->default_manifest_dir);
  ck_assert (g_file_set_contents (h->config_file, conf, -1, NULL));
  save_ip_forward ();
  start_bus ();
  h->signal_sub = g_dbus_connection_signal_subscribe (
      h->conn, NULL, AGENT_IFACE, "ProcessStateChanged", AGENT_PATH, NULL,
      G_DBUS_SIGNAL_FLAGS_NONE, on_process_state_changed, NULL, NULL);
}

void
sc_test_setup_bus (void)
{
  common_setup ();
}

void
sc_test_setup (void)
{
  common_setup ();
  h_agent_start (NULL);
}

void
h_agent_start (const char *const *extra_args)
{
  h_agent_start_env (extra_args, NULL);
}

void
h_agent_start_env (const char *const *extra_args, const char *const *extra_env)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) envp = g_get_environ ();
  int log_fd;
  gint64 deadline;

  ck_assert_msg (h->agent_pid == 0 || h->agent_status != -1, "an agent is running already");
  g_ptr_array_add (argv, SC_AGENT_BINARY);
  g_ptr_array_add (argv, "-c");
  g_ptr_array_add (argv, h->config_file);
  for (const char *const *a = extra_args; a != NULL && *a != NULL; a++)
    g_ptr_array_add (argv, (char *) *a);
  g_ptr_array_add (argv, NULL);
  envp = g_environ_setenv (envp, "LXC_MEMFD_REXEC", "1", TRUE);
  envp = g_environ_setenv (envp, "G_MESSAGES_DEBUG", "all", TRUE);
  /* a sanitizer build: liblxc's own leaks are not the agent's */
  envp = g_environ_setenv (envp, "LSAN_OPTIONS", "suppressions=" SC_TEST_DATA_DIR "/lsan.supp", FALSE);
  /* the test programs run without leak detection (their fixtures live until exit); the agent
   * is what a sanitizer build checks */
  envp = g_environ_setenv (envp, "ASAN_OPTIONS", "detect_leaks=1", TRUE);
  envp = g_environ_setenv (envp, "DBUS_SYSTEM_BUS_ADDRESS", h->bus_address, TRUE);
  for (const char *const *e = extra_env; e != NULL && *e != NULL; e++)
    {
      g_auto (GStrv) kv = g_strsplit (*e, "=", 2);
      envp = kv[1] != NULL ? g_environ_setenv (envp, kv[0], kv[1], TRUE)
                           : g_environ_unsetenv (envp, kv[0]);
    }

  log_fd = open (h->agent_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  ck_assert (log_fd >= 0);
  h->agent_status = -1;
  if (!g_spawn_async_with_fds (NULL, (char **) argv->pdata, envp, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
                               NULL, &h->agent_pid, -1, log_fd, log_fd, &error))
    ck_abort_msg ("cannot start the agent: %s", error->message);
  close (log_fd);

  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  for (;;)
    {
      g_autoptr (GVariant) r = g_dbus_connection_call_sync (
          h->conn, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
          "NameHasOwner", g_variant_new ("(s)", AGENT_NAME), G_VARIANT_TYPE ("(b)"),
          G_DBUS_CALL_FLAGS_NONE, 2000, NULL, NULL);
      gboolean owned = FALSE;
      int status;

      if (r != NULL)
        g_variant_get (r, "(b)", &owned);
      if (owned)
        return;
      if (waitpid (h->agent_pid, &status, WNOHANG) == h->agent_pid)
        {
          h->agent_status = status;
          dump_agent_log ();
          ck_abort_msg ("the agent exited during startup (status %d)", status);
        }
      if (g_get_monotonic_time () > deadline)
        {
          dump_agent_log ();
          ck_abort_msg ("the agent did not take its bus name within 10 s");
        }
      g_usleep (5000);
    }
}

int
h_agent_run_to_exit (const char *const *args, const char *const *envp_extra, int timeout_ms,
                     char **output)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) envp = g_get_environ ();
  g_autofree char *log = h_path ("agent-run.log");
  int log_fd, status = -1;
  GPid pid;

  g_ptr_array_add (argv, SC_AGENT_BINARY);
  for (const char *const *a = args; a != NULL && *a != NULL; a++)
    g_ptr_array_add (argv, (char *) *a);
  g_ptr_array_add (argv, NULL);
  envp = g_environ_setenv (envp, "LXC_MEMFD_REXEC", "1", TRUE);
  envp = g_environ_setenv (envp, "DBUS_SYSTEM_BUS_ADDRESS", h->bus_address, TRUE);
  for (const char *const *e = envp_extra; e != NULL && *e != NULL; e++)
    {
      g_auto (GStrv) kv = g_strsplit (*e, "=", 2);
      envp = g_environ_setenv (envp, kv[0], kv[1] ? kv[1] : "", TRUE);
    }
  log_fd = open (log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ck_assert (log_fd >= 0);
  if (!g_spawn_async_with_fds (NULL, (char **) argv->pdata, envp, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
                               NULL, &pid, -1, log_fd, log_fd, &error))
    ck_abort_msg ("cannot start the agent: %s", error->message);
  close (log_fd);
  if (!wait_pid (pid, &status, timeout_ms))
    {
      kill (pid, SIGKILL);
      wait_pid (pid, &status, 5000);
      if (output != NULL)
        *output = h_read (log);
      return -1;
    }
  if (output != NULL)
    *output = h_read (log);
  return status;
}

int
h_agent_stop (int sig)
{
  int status = -1;

  if (h->agent_pid == 0 || h->agent_status != -1)
    return h->agent_status;
  kill (h->agent_pid, sig);
  if (!wait_pid (h->agent_pid, &status, 60000))
    {
      dump_agent_log ();
      kill (h->agent_pid, SIGKILL);
      wait_pid (h->agent_pid, &status, 5000);
      h->agent_status = status;
      ck_abort_msg ("the agent did not exit within 60 s of signal %d", sig);
    }
  h->agent_status = status;
  return status;
}

void
h_write_manifest (gboolean is_default, const char *file_name, const char *json)
{
  g_autofree char *path = g_build_filename (is_default ? h->default_manifest_dir : h->manifest_dir,
                                            file_name, NULL);
  ck_assert (g_file_set_contents (path, json, -1, NULL));
}

void
sc_test_teardown (void)
{
  int status;

  if (h == NULL)
    return;
  if (h->agent_pid != 0 && h->agent_status == -1)
    {
      status = h_agent_stop (SIGTERM);
      if (!(WIFEXITED (status) && WEXITSTATUS (status) == 0))
        {
          dump_agent_log ();
          ck_abort_msg ("the agent did not exit 0 on SIGTERM (status 0x%x)", status);
        }
    }
  reap ();
  h_network_cleanup ();
  h_assert_host_clean ();
  if (h->signal_sub != 0)
    g_dbus_connection_signal_unsubscribe (h->conn, h->signal_sub);
  g_clear_object (&h->conn);
  if (h->bus_pid != 0)
    {
      kill (h->bus_pid, SIGTERM);
      wait_pid (h->bus_pid, &status, 5000);
    }
  reap ();
  if (h->tmpdir != NULL && g_getenv ("SC_TEST_KEEP") == NULL)
    {
      const char *argv[] = { "rm", "-rf", "--one-file-system", h->tmpdir, NULL };
      g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
                    NULL, NULL);
    }
}

/* ---- the leak check ------------------------------------------------------------------------ */

static gboolean
is_sc_name (const char *name)
{
  if (!g_str_has_prefix (name, "SC-") || name[3] == '\0')
    return FALSE;
  for (const char *p = name + 3; *p; p++)
    if (!g_ascii_isdigit (*p))
      return FALSE;
  return TRUE;
}

static void
find_sc_entries (const char *dir, int depth, GString *found)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      if (is_sc_name (name) || (name[0] == '.' && is_sc_name (name + 1)))
        g_string_append_printf (found, "  %s\n", path);
      else if (depth > 0 && g_file_test (path, G_FILE_TEST_IS_DIR)
               && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
        find_sc_entries (path, depth - 1, found);
    }
}

void
h_assert_host_clean (void)
{
  g_autoptr (GString) found = g_string_new (h_host_leftovers ());

  if (found->len > 0)
    {
      dump_agent_log ();
      g_printerr ("the host is not clean after the test:\n%s", found->str);
      /* Check limits the length of a failure message */
      if (found->len > 2000)
        g_string_truncate (found, 2000);
      ck_abort_msg ("the host is not clean after the test:\n%s", found->str);
    }
}

char *
h_host_leftovers (void)
{
  GString *found = g_string_new (NULL);
  g_autofree char *mountinfo = h_read ("/proc/self/mountinfo");
  g_autofree char *lock_dir = g_strdup_printf ("/run/lxc/lock%s", h->lxcpath);
  g_auto (GStrv) lines = g_strsplit (mountinfo ? mountinfo : "", "\n", -1);
  g_autoptr (GDir) proc = NULL;
  const char *name;

  find_sc_entries (h->lxcpath, 0, found);
  find_sc_entries (h->shared_mounts_dir, 0, found);
  find_sc_entries ("/tmp/container", 0, found);
  find_sc_entries (lock_dir, 0, found);
  /* cgroups: lxc/SC-* and lxc.monitor/SC-* at any depth a hierarchy might put them */
  find_sc_entries ("/sys/fs/cgroup", 5, found);
  for (char **l = lines; *l != NULL; l++)
    if (strstr (*l, "/SC-") != NULL || strstr (*l, h->shared_mounts_dir) != NULL)
      g_string_append_printf (found, "  mount: %s\n", *l);
  /* the host ends of containers' veth pairs (network gateway) */
  {
    g_autoptr (GDir) net = g_dir_open ("/sys/class/net", 0, NULL);
    const char *dev;

    while (net != NULL && (dev = g_dir_read_name (net)) != NULL)
      if (g_str_has_prefix (dev, SC_TEST_VETH_PREFIX))
        g_string_append_printf (found, "  veth: %s\n", dev);
  }
  /* write buffers (filesystem.md): an overlay with one of our upper layers, wherever it is
   * mounted, and buffers an agent set aside as unsynced */
  for (char **l = lines; *l != NULL; l++)
    {
      const char *fs = strstr (*l, " - ");
      if (fs != NULL && g_str_has_prefix (fs, " - overlay ")
          && (strstr (fs, "rootfs-upper") != NULL || strstr (fs, "/buffer-") != NULL)
          && strstr (*l, "/SC-") == NULL && strstr (*l, h->shared_mounts_dir) == NULL)
        g_string_append_printf (found, "  write-buffer overlay: %s\n", *l);
    }
  {
    const char *const parents[] = { h->shared_mounts_dir, "/tmp/container" };

    for (guint i = 0; i < G_N_ELEMENTS (parents); i++)
      {
        g_autoptr (GDir) d = g_dir_open (parents[i], 0, NULL);
        const char *entry;

        while (d != NULL && (entry = g_dir_read_name (d)) != NULL)
          if (g_str_has_prefix (entry, "unsynced-"))
            g_string_append_printf (found, "  unsynced write buffer: %s/%s\n", parents[i], entry);
      }
  }
  proc = g_dir_open ("/proc", 0, NULL);
  while (proc != NULL && (name = g_dir_read_name (proc)) != NULL)
    {
      g_autofree char *cmdline_path = g_strdup_printf ("/proc/%s/cmdline", name);
      g_autofree char *cmdline = NULL;
      gsize len = 0;

      if (!g_ascii_isdigit (name[0]) || !g_file_get_contents (cmdline_path, &cmdline, &len, NULL)
          || len == 0)
        continue;
      /* judge by the program (argv[0]) and LXC's monitor title, never by arguments: a
       * compiler's command line may mention sc-init or the agent */
      {
        g_autofree char *prog = g_path_get_basename (cmdline);
        gboolean ours = strcmp (prog, "sc-init") == 0 || strcmp (prog, ".sc-init") == 0
                        || (g_str_has_prefix (cmdline, "[lxc monitor]")
                            && strstr (cmdline, " SC-") != NULL)
                        || (strcmp (prog, "softwarecontainer-agent") == 0 && atoi (name) != getpid ())
                        || strstr (prog, "dbus-proxy") != NULL;
        if (!ours)
          continue;
      }
      for (gsize i = 0; i + 1 < len; i++)
        if (cmdline[i] == '\0')
          cmdline[i] = ' ';
      g_string_append_printf (found, "  process %s: %s\n", name, cmdline);
    }
  return g_string_free (found, FALSE);
}

/* ---- calls -------------------------------------------------------------------------------- */

GVariant *
h_call (const char *method, GVariant *args, GError **error)
{
  return g_dbus_connection_call_sync (h->conn, AGENT_NAME, AGENT_PATH, AGENT_IFACE, method, args,
                                      NULL, G_DBUS_CALL_FLAGS_NONE, 60000, NULL, error);
}

void
h_assert_failed (GError *error, const char *code_word)
{
  g_autofree char *remote = NULL;
  g_autofree char *prefix = g_strdup_printf ("%s: ", code_word);

  ck_assert_msg (error != NULL, "expected a %s error, the call succeeded", code_word);
  remote = g_dbus_error_get_remote_error (error);
  ck_assert_msg (g_strcmp0 (remote, "org.freedesktop.DBus.Error.Failed") == 0,
                 "expected org.freedesktop.DBus.Error.Failed, got %s (%s)", remote,
                 error->message);
  g_dbus_error_strip_remote_error (error);
  ck_assert_msg (g_str_has_prefix (error->message, prefix), "expected '%s...', got '%s'", prefix,
                 error->message);
}

void
h_call_expect (const char *code_word, const char *method, GVariant *args)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) r = h_call (method, args, &error);

  h_assert_failed (error, code_word);
}

static GVariant *
call_ok (const char *method, GVariant *args)
{
  g_autoptr (GError) error = NULL;
  GVariant *r = h_call (method, args, &error);

  if (r == NULL)
    {
      dump_agent_log ();
      ck_abort_msg ("%s failed: %s", method, error->message);
    }
  return r;
}

int
h_create (const char *config_json)
{
  g_autoptr (GVariant) r = call_ok ("Create", g_variant_new ("(s)", config_json));
  int id;

  g_variant_get (r, "(i)", &id);
  return id;
}

void
h_destroy (int id)
{
  g_autoptr (GVariant) r = call_ok ("Destroy", g_variant_new ("(i)", id));
}

void
h_suspend (int id)
{
  g_autoptr (GVariant) r = call_ok ("Suspend", g_variant_new ("(i)", id));
}

void
h_resume (int id)
{
  g_autoptr (GVariant) r = call_ok ("Resume", g_variant_new ("(i)", id));
}

void
h_bind_mount (int id, const char *host, const char *container, gboolean read_only)
{
  g_autoptr (GVariant) r
      = call_ok ("BindMount", g_variant_new ("(issb)", id, host, container, read_only));
}

void
h_set_capabilities (int id, const char *const *caps)
{
  const char *const none[] = { NULL };
  g_autoptr (GVariant) r
      = call_ok ("SetCapabilities", g_variant_new ("(i^as)", id, caps ? caps : none));
}

int *
h_list (guint *n)
{
  g_autoptr (GVariant) r = call_ok ("List", NULL);
  g_autoptr (GVariant) a = g_variant_get_child_value (r, 0);
  gsize len = 0;
  const gint32 *ids = g_variant_get_fixed_array (a, &len, sizeof (gint32));

  *n = (guint) len;
  {
    int *copy = g_new0 (int, len + 1); /* never a zero-size allocation */
    if (len > 0)
      memcpy (copy, ids, len * sizeof (gint32));
    return copy;
  }
}

static GVariant *
env_variant (const char *const *env)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a{ss}"));
  for (const char *const *e = env; e != NULL && *e != NULL; e++)
    {
      g_auto (GStrv) kv = g_strsplit (*e, "=", 2);
      g_variant_builder_add (&b, "{ss}", kv[0], kv[1] ? kv[1] : "");
    }
  return g_variant_builder_end (&b);
}

int
h_execute (int id, const char *command, const char *cwd, const char *output_file,
           const char *const *env)
{
  g_autoptr (GVariant) r = call_ok (
      "Execute", g_variant_new ("(isss@a{ss})", id, command, cwd ? cwd : "/",
                                output_file ? output_file : "", env_variant (env)));
  int pid;

  g_variant_get (r, "(i)", &pid);
  ck_assert_int_gt (pid, 0);
  return pid;
}

static gboolean
timeout_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

void
h_sleep (int ms)
{
  gboolean done = FALSE;
  guint id = g_timeout_add (ms, timeout_cb, &done);

  while (!done)
    g_main_context_iteration (NULL, TRUE);
  (void) id;
}

guint
h_wait_exit (int id, int pid, int timeout_ms)
{
  gboolean timed_out = FALSE;
  guint timer = g_timeout_add (timeout_ms, timeout_cb, &timed_out);

  for (;;)
    {
      for (GList *l = h->exits->head; l != NULL; l = l->next)
        {
          HExit *e = l->data;
          if (e->container == id && e->pid == (guint) pid)
            {
              guint code = e->code;
              g_queue_delete_link (h->exits, l);
              g_free (e);
              if (!timed_out)
                g_source_remove (timer);
              return code;
            }
        }
      if (timed_out)
        {
          dump_agent_log ();
          ck_abort_msg ("no ProcessStateChanged for pid %d of container %d within %d ms", pid, id,
                        timeout_ms);
        }
      g_main_context_iteration (NULL, TRUE);
    }
}

char *
h_run (int id, const char *command, guint *code)
{
  static int counter;
  g_autofree char *name = g_strdup_printf ("run-%d.out", counter++);
  g_autofree char *out = h_path (name);
  int pid = h_execute (id, command, "/", out, NULL);
  char *text;

  *code = h_wait_exit (id, pid, 30000);
  text = h_read (out);
  unlink (out);
  return text != NULL ? text : g_strdup ("");
}

char *
h_run_ok (int id, const char *command)
{
  guint code;
  char *out = h_run (id, command, &code);

  ck_assert_msg (code == 0, "'%s' exited with %u; output:\n%s", command, code, out);
  return out;
}

/* ---- suites -------------------------------------------------------------------------------- */

TCase *
h_tcase (const char *name)
{
  TCase *tc = tcase_create (name);

  tcase_add_checked_fixture (tc, sc_test_setup, sc_test_teardown);
  tcase_set_timeout (tc, 300);
  return tc;
}

TCase *
h_tcase_bus_only (const char *name)
{
  TCase *tc = tcase_create (name);

  tcase_add_checked_fixture (tc, sc_test_setup_bus, sc_test_teardown);
  tcase_set_timeout (tc, 300);
  return tc;
}

int
h_run_suite (Suite *suite)
{
  SRunner *runner = NULL;
  int failed, lock_fd;

  if (geteuid () != 0)
    {
      g_printerr ("integration tests need root (real LXC containers)\n");
      return 77;
    }
  /* Every agent removes stale SC-* containers when it starts, and the leak check looks at the
   * whole host: two suites at once would break each other. Held until exit. */
  lock_fd = open (SC_TEST_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd < 0 || flock (lock_fd, LOCK_EX) < 0)
    {
      g_printerr ("cannot lock %s\n", SC_TEST_LOCK);
      return 1;
    }
  save_ip_forward ();
  runner = srunner_create (suite);
  srunner_set_fork_status (runner, CK_FORK);
  srunner_run_all (runner, CK_NORMAL);
  failed = srunner_ntests_failed (runner);
  srunner_free (runner);
  /* a test that failed ended without its teardown (Check's fork mode): the next test's teardown
   * or this removes what it left of the tests' network */
  h_network_cleanup ();
  return failed == 0 ? 0 : 1;
}

/* ---- a session bus (the D-Bus gateway's tests) --------------------------------------------- */

static GPid session_bus_pid;
static char *session_bus_address;

/* In the bus's child before exec: it dies with the test process, whatever happens to it. */
static void
session_bus_child_setup (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
}

const char *
h_session_bus_start (void)
{
  g_autofree char *conf = h_path ("session-bus.conf");
  g_autofree char *socket = h_path ("session-bus.socket");
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  const char *argv[] = { "dbus-daemon", "--nofork", "--config-file", conf, NULL };
  gint64 deadline;

  ck_assert_msg (session_bus_pid == 0, "a session bus is running already");
  /* a session bus as a desktop has one, with room for messages of the maximum size */
  text = g_strdup_printf (
      "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN\"\n"
      " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
      "<busconfig>\n"
      "  <type>session</type>\n"
      "  <listen>unix:path=%s</listen>\n"
      "  <auth>EXTERNAL</auth>\n"
      "  <limit name=\"max_message_size\">134217728</limit>\n"
      "  <limit name=\"max_incoming_bytes\">1000000000</limit>\n"
      "  <limit name=\"max_outgoing_bytes\">1000000000</limit>\n"
      "  <limit name=\"max_message_unix_fds\">64</limit>\n"
      "  <policy context=\"default\">\n"
      "    <allow send_destination=\"*\" eavesdrop=\"true\"/>\n"
      "    <allow eavesdrop=\"true\"/>\n"
      "    <allow own=\"*\"/>\n"
      "  </policy>\n"
      "</busconfig>\n",
      socket);
  ck_assert (g_file_set_contents (conf, text, -1, NULL));
  if (!g_spawn_async (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD,
                      session_bus_child_setup, NULL, &session_bus_pid, &error))
    ck_abort_msg ("cannot start the session dbus-daemon: %s", error->message);
  session_bus_address = g_strdup_printf ("unix:path=%s", socket);
  deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  for (;;)
    {
      g_autoptr (GDBusConnection) c = NULL;

      if (g_file_test (socket, G_FILE_TEST_EXISTS))
        c = g_dbus_connection_new_for_address_sync (
            session_bus_address,
            G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
                | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
            NULL, NULL, NULL);
      if (c != NULL)
        break;
      ck_assert_msg (g_get_monotonic_time () < deadline, "the session dbus-daemon did not start");
      g_usleep (5000);
    }
  g_setenv ("DBUS_SESSION_BUS_ADDRESS", session_bus_address, TRUE);
  return session_bus_address;
}

void
h_session_bus_stop (void)
{
  int status;

  if (session_bus_pid == 0)
    return;
  kill (session_bus_pid, SIGTERM);
  if (!wait_pid (session_bus_pid, &status, 5000))
    {
      kill (session_bus_pid, SIGKILL);
      wait_pid (session_bus_pid, &status, 5000);
    }
  session_bus_pid = 0;
  g_clear_pointer (&session_bus_address, g_free);
  g_unsetenv ("DBUS_SESSION_BUS_ADDRESS");
}
