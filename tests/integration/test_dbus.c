/* The D-Bus gateway through the real agent: private session and system buses, a test service
 * of the tests' own (GDBus, in a thread of the test process with its own main context), and
 * clients inside containers (gdbus from the host's /usr, and sc-dbus-test-client from the build
 * tree, bind-mounted). What a client inside sees is checked from its output; what is left on
 * the host (proxy processes, sockets) from the host. Every test ends with the harness's leak
 * check, which includes "no process whose command line contains dbus-proxy". */
#include <fcntl.h>
#include <gio/gunixfdlist.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#ifndef SC_ENABLE_DBUS_GATEWAY
int
main (void)
{
  return 77; /* the dbus gateway is not in this build */
}
#else

#define SVC "com.example.SCTest"
#define SVC_PATH "/com/example/SCTest"
#define TEMP "com.pelagicore.TemperatureService"
#define TEMP_PATH "/com/pelagicore/TemperatureService"
#define CLIENT "/sctest/sc-dbus-test-client"
#define ACCESS_DENIED "org.freedesktop.DBus.Error.AccessDenied"

/* ---- the test service ------------------------------------------------------------------- */

static const char service_xml[]
    = "<node>"
      "<interface name='com.example.SCTest'>"
      " <method name='Echo'><arg type='s' direction='in'/><arg type='s' direction='out'/></method>"
      " <method name='Forbidden'><arg type='s' direction='out'/></method>"
      " <method name='ReadFd'><arg type='h' direction='in'/><arg type='s' "
      "direction='out'/></method>"
      " <method name='OpenFd'><arg type='s' direction='in'/><arg type='h' "
      "direction='out'/></method>"
      " <method name='Size'><arg type='ay' direction='in'/><arg type='u' direction='out'/>"
      "  <arg type='u' direction='out'/></method>"
      " <method name='Make'><arg type='u' direction='in'/><arg type='ay' direction='out'/></method>"
      " <signal name='Ping'><arg type='s'/></signal>"
      " <signal name='Other'><arg type='s'/></signal>"
      "</interface>"
      "<interface name='com.pelagicore.TemperatureService'>"
      " <method name='Echo'><arg type='s' direction='in'/><arg type='s' direction='out'/></method>"
      " <method name='GetTemperature'><arg type='d' direction='out'/></method>"
      " <method name='SetTemperature'><arg type='d' direction='in'/></method>"
      " <signal name='TemperatureChanged'><arg type='d'/></signal>"
      "</interface>"
      "</node>";

typedef struct
{
  char *address;
  char *name;
  char *path;
  int iface; /* index in service_xml */
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  GDBusConnection *conn;
  GMutex lock;
  GCond cond;
  gboolean ready;
  double temperature;
  int calls;
} Service;

static void
service_call (GDBusConnection *c, const char *sender, const char *path, const char *interface,
              const char *method, GVariant *params, GDBusMethodInvocation *invocation,
              gpointer data)
{
  Service *s = data;

  g_atomic_int_inc (&s->calls);
  if (strcmp (method, "Echo") == 0)
    {
      const char *text;
      g_variant_get (params, "(&s)", &text);
      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(s)", text));
    }
  else if (strcmp (method, "Forbidden") == 0)
    g_dbus_method_invocation_return_value (invocation, g_variant_new ("(s)", "should not be"));
  else if (strcmp (method, "ReadFd") == 0)
    {
      GDBusMessage *m = g_dbus_method_invocation_get_message (invocation);
      GUnixFDList *fds = g_dbus_message_get_unix_fd_list (m);
      char buf[256] = { 0 };
      int index, fd;
      ssize_t n = -1;

      g_variant_get (params, "(h)", &index);
      fd = fds != NULL ? g_unix_fd_list_get (fds, index, NULL) : -1;
      if (fd >= 0)
        {
          n = pread (fd, buf, sizeof buf - 1, 0);
          close (fd);
        }
      g_dbus_method_invocation_return_value (
          invocation, g_variant_new ("(s)", n > 0 ? g_strchomp (buf) : "(no fd)"));
    }
  else if (strcmp (method, "OpenFd") == 0)
    {
      g_autoptr (GUnixFDList) fds = g_unix_fd_list_new ();
      int pipe_fds[2];
      const char *text;

      g_variant_get (params, "(&s)", &text);
      g_assert (pipe (pipe_fds) == 0);
      g_assert (write (pipe_fds[1], text, strlen (text)) == (ssize_t)strlen (text));
      close (pipe_fds[1]);
      g_unix_fd_list_append (fds, pipe_fds[0], NULL);
      close (pipe_fds[0]);
      g_dbus_method_invocation_return_value_with_unix_fd_list (invocation, g_variant_new ("(h)", 0),
                                                               fds);
    }
  else if (strcmp (method, "Size") == 0)
    {
      g_autoptr (GVariant) array = g_variant_get_child_value (params, 0);
      gsize len;
      const guint8 *bytes = g_variant_get_fixed_array (array, &len, 1);
      guint32 sum = 0;

      for (gsize i = 0; i < len; i++)
        sum += bytes[i];
      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(uu)", (guint32)len, sum));
    }
  else if (strcmp (method, "Make") == 0)
    {
      guint32 size;
      guint8 *bytes;

      g_variant_get (params, "(u)", &size);
      bytes = g_malloc (size);
      for (guint32 i = 0; i < size; i++)
        bytes[i] = (guint8)(i % 251);
      g_dbus_method_invocation_return_value (
          invocation, g_variant_new ("(@ay)", g_variant_new_from_data (G_VARIANT_TYPE ("ay"), bytes,
                                                                       size, TRUE, g_free, bytes)));
    }
  else if (strcmp (method, "GetTemperature") == 0)
    g_dbus_method_invocation_return_value (invocation, g_variant_new ("(d)", s->temperature));
  else if (strcmp (method, "SetTemperature") == 0)
    {
      g_variant_get (params, "(d)", &s->temperature);
      g_dbus_method_invocation_return_value (invocation, NULL);
    }
  else
    g_dbus_method_invocation_return_dbus_error (invocation, "com.example.Error.Unknown", method);
}

static gpointer
service_thread (gpointer data)
{
  Service *s = data;
  g_autoptr (GDBusNodeInfo) info = g_dbus_node_info_new_for_xml (service_xml, NULL);
  g_autoptr (GVariant) r = NULL;
  g_autoptr (GError) error = NULL;
  GDBusInterfaceVTable vtable = { service_call, NULL, NULL, { 0 } };

  g_main_context_push_thread_default (s->context);
  s->conn = g_dbus_connection_new_for_address_sync (
      s->address,
      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
          | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
      NULL, NULL, &error);
  g_assert_no_error (error);
  g_dbus_connection_set_exit_on_close (s->conn, FALSE);
  g_dbus_connection_register_object (s->conn, s->path, info->interfaces[s->iface], &vtable, s, NULL,
                                     &error);
  g_assert_no_error (error);
  r = g_dbus_connection_call_sync (s->conn, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                   "org.freedesktop.DBus", "RequestName",
                                   g_variant_new ("(su)", s->name, 4), G_VARIANT_TYPE ("(u)"),
                                   G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &error);
  g_assert_no_error (error);
  g_mutex_lock (&s->lock);
  s->ready = TRUE;
  g_cond_signal (&s->cond);
  g_mutex_unlock (&s->lock);
  g_main_loop_run (s->loop);
  g_dbus_connection_close_sync (s->conn, NULL, NULL);
  g_main_context_pop_thread_default (s->context);
  return NULL;
}

/* A service named `name` at `path` on the bus at `address`; iface 0 = com.example.SCTest,
 * 1 = the temperature service. Returns once it owns its name. */
static Service *
service_start (const char *address, const char *name, const char *path, int iface)
{
  Service *s = g_new0 (Service, 1);

  s->address = g_strdup (address);
  s->name = g_strdup (name);
  s->path = g_strdup (path);
  s->iface = iface;
  s->temperature = 21.5;
  s->context = g_main_context_new ();
  s->loop = g_main_loop_new (s->context, FALSE);
  g_mutex_init (&s->lock);
  g_cond_init (&s->cond);
  s->thread = g_thread_new ("service", service_thread, s);
  g_mutex_lock (&s->lock);
  while (!s->ready)
    g_cond_wait (&s->cond, &s->lock);
  g_mutex_unlock (&s->lock);
  return s;
}

static void
service_emit (Service *s, const char *interface, const char *member, GVariant *arg)
{
  g_autoptr (GError) error = NULL;

  ck_assert_msg (
      g_dbus_connection_emit_signal (s->conn, NULL, s->path, interface, member, arg, &error),
      "emit: %s", error ? error->message : "");
  g_dbus_connection_flush_sync (s->conn, NULL, NULL);
}

static void
service_stop (Service *s)
{
  g_main_loop_quit (s->loop);
  g_thread_join (s->thread);
  g_object_unref (s->conn);
  g_main_loop_unref (s->loop);
  g_main_context_unref (s->context);
  g_free (s->address);
  g_free (s->name);
  g_free (s->path);
  g_free (s);
}

/* ---- fixtures and helpers ------------------------------------------------------------------ */

static const char *session_address;

static void
setup_buses (void)
{
  sc_test_setup_bus ();
  session_address = h_session_bus_start ();
}

static void
setup (void)
{
  setup_buses ();
  h_agent_start (NULL);
}

static void
teardown (void)
{
  sc_test_teardown ();
  h_session_bus_stop ();
}

static TCase *
dbus_tcase (const char *name, gboolean start_agent)
{
  TCase *tc = tcase_create (name);

  tcase_add_checked_fixture (tc, start_agent ? setup : setup_buses, teardown);
  tcase_set_timeout (tc, 300);
  return tc;
}

/* A manifest file with one capability giving the dbus gateway `config` (a JSON array). */
static void
write_capability (const char *name, const char *config)
{
  g_autofree char *file = g_strdup_printf ("%s.json", name);
  g_autofree char *json = g_strdup_printf (
      "{\"version\": \"1\", \"capabilities\": [{\"name\": \"%s\", \"gateways\": [{\"id\": "
      "\"dbus\", \"config\": %s}]}]}",
      name, config);

  h_write_manifest (FALSE, file, json);
}

#define RULE(dir, iface, path, method)                                                             \
  "{\"direction\": \"" dir "\", \"interface\": \"" iface "\", \"object-path\": \"" path            \
  "\", \"method\": " method "}"
#define SESSION(rules) "[{\"dbus-gateway-config-session\": [" rules "]}]"
#define SYSTEM(rules) "[{\"dbus-gateway-config-system\": [" rules "]}]"

static void
set_caps (int id, const char *cap)
{
  const char *caps[] = { cap, NULL };
  h_set_capabilities (id, caps);
}

/* A container with the test client's directory mounted at /sctest. */
static int
create_container (void)
{
  g_autofree char *dir = g_path_get_dirname (SC_DBUS_TEST_CLIENT);
  int id = h_create ("[{\"writeBufferEnabled\": false}]");

  h_bind_mount (id, dir, "/sctest", TRUE);
  return id;
}

/* Waits until the output file holds `text`; returns the output. */
static char *
wait_output (const char *path, const char *text, int timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64)timeout_ms * 1000;

  for (;;)
    {
      g_autofree char *out = h_read (path);

      if (out != NULL && strstr (out, text) != NULL)
        return g_steal_pointer (&out);
      if (g_get_monotonic_time () > deadline)
        ck_abort_msg ("'%s' did not appear in %s within %d ms; it holds:\n%s", text, path,
                      timeout_ms, out ? out : "(nothing)");
      h_sleep (10);
    }
}

static void
assert_contains (const char *text, const char *fragment)
{
  ck_assert_msg (strstr (text, fragment) != NULL, "'%s' not in:\n%s", fragment, text);
}

static void
assert_lacks (const char *text, const char *fragment)
{
  ck_assert_msg (strstr (text, fragment) == NULL, "'%s' should not be in:\n%s", fragment, text);
}

/* The pids of the proxies of a container (bus "session", "system" or NULL for both). */
static GArray *
proxy_pids (int id, const char *bus)
{
  g_autoptr (GDir) proc = g_dir_open ("/proc", 0, NULL);
  g_autofree char *want_id = g_strdup_printf ("--container-id %d ", id);
  g_autofree char *want_bus = g_strdup_printf ("--bus %s ", bus ? bus : "");
  GArray *pids = g_array_new (FALSE, FALSE, sizeof (int));
  const char *name;

  while (proc != NULL && (name = g_dir_read_name (proc)) != NULL)
    {
      g_autofree char *path = g_strdup_printf ("/proc/%s/cmdline", name);
      g_autofree char *cmdline = NULL;
      gsize len = 0;

      if (!g_ascii_isdigit (name[0]) || !g_file_get_contents (path, &cmdline, &len, NULL))
        continue;
      for (gsize i = 0; i < len; i++)
        if (cmdline[i] == '\0')
          cmdline[i] = ' ';
      if (strstr (cmdline, "softwarecontainer-dbus-proxy") != NULL
          && strstr (cmdline, want_id) != NULL
          && (bus == NULL || strstr (cmdline, want_bus) != NULL))
        {
          int pid = atoi (name);
          g_array_append_val (pids, pid);
        }
    }
  return pids;
}

static int
the_proxy (int id, const char *bus)
{
  g_autoptr (GArray) pids = proxy_pids (id, bus);

  ck_assert_msg (pids->len == 1, "%u %s proxies for container %d", pids->len, bus, id);
  return g_array_index (pids, int, 0);
}

static char *
socket_path (int id, const char *bus)
{
  return g_strdup_printf ("%s/SC-%d/gateways/dbus-%s-bus.socket", h->shared_mounts_dir, id, bus);
}

/* ---- tests ------------------------------------------------------------------------------- */

START_TEST (allowed_and_denied_calls)
{
  Service *s = service_start (session_address, SVC, SVC_PATH, 0);
  g_autofree char *out = NULL;
  guint code;
  int id;

  write_capability ("test.echo", SESSION (RULE ("outgoing", SVC, SVC_PATH, "\"Echo\"")));
  h_agent_start (NULL);
  id = create_container ();
  set_caps (id, "test.echo");

  /* the environment points at the proxy; the system bus is not offered */
  out = h_run_ok (id, "/bin/sh -c 'echo S=$DBUS_SESSION_BUS_ADDRESS Y=$DBUS_SYSTEM_BUS_ADDRESS'");
  assert_contains (out, "S=unix:path=/gateways/dbus-session-bus.socket Y=\n");
  g_clear_pointer (&out, g_free);

  /* gdbus, the host's, from inside */
  out = h_run_ok (id, "gdbus call --session --dest " SVC " --object-path " SVC_PATH " --method " SVC
                      ".Echo hello");
  assert_contains (out, "('hello',)");
  g_clear_pointer (&out, g_free);
  /* a method no rule allows: AccessDenied, not the 1 s timeout */
  out = h_run (id,
               "gdbus call --timeout 1 --session --dest " SVC " --object-path " SVC_PATH
               " --method " SVC ".Forbidden",
               &code);
  ck_assert_uint_ne (code, 0);
  assert_contains (out, ACCESS_DENIED);
  g_clear_pointer (&out, g_free);
  /* and quickly */
  out = h_run (id, CLIENT " call " SVC " " SVC_PATH " " SVC " Forbidden", &code);
  ck_assert_uint_eq (code, 1);
  assert_contains (out, "ERROR " ACCESS_DENIED);
  {
    const char *ms = strstr (out, "MS ");
    ck_assert_ptr_nonnull (ms);
    ck_assert_msg (atoi (ms + 3) < 1000, "AccessDenied took %s", ms + 3);
  }
  g_clear_pointer (&out, g_free);
  /* the bus's own interface works */
  out = h_run_ok (id, "gdbus call --session --dest org.freedesktop.DBus --object-path "
                      "/org/freedesktop/DBus --method org.freedesktop.DBus.NameHasOwner " SVC);
  assert_contains (out, "(true,)");
  g_clear_pointer (&out, g_free);
  /* the refused call never reached the service */
  ck_assert_int_eq (g_atomic_int_get (&s->calls), 1);

  h_destroy (id);
  service_stop (s);
}
END_TEST

START_TEST (empty_rule_list_blocks_all_but_the_bus)
{
  Service *s = service_start (session_address, SVC, SVC_PATH, 0);
  g_autofree char *out = NULL;
  guint code;
  int id;

  write_capability ("test.none", "[{\"dbus-gateway-config-session\": []}]");
  h_agent_start (NULL);
  id = create_container ();
  set_caps (id, "test.none");
  out = h_run (id, CLIENT " call " SVC " " SVC_PATH " " SVC " Echo \"('x',)\"", &code);
  ck_assert_uint_eq (code, 1);
  assert_contains (out, ACCESS_DENIED);
  g_clear_pointer (&out, g_free);
  out = h_run_ok (id, CLIENT " call org.freedesktop.DBus /org/freedesktop/DBus "
                             "org.freedesktop.DBus ListNames");
  assert_contains (out, SVC);
  g_clear_pointer (&out, g_free);
  out = h_run_ok (id, CLIENT " call org.freedesktop.DBus / org.freedesktop.DBus.Peer Ping");
  g_clear_pointer (&out, g_free);
  ck_assert_int_eq (g_atomic_int_get (&s->calls), 0);
  h_destroy (id);
  service_stop (s);
}
END_TEST

START_TEST (signals_need_an_incoming_rule)
{
  Service *s = service_start (session_address, SVC, SVC_PATH, 0);
  g_autofree char *out_path = h_path ("listen.out");
  g_autofree char *out = NULL;
  int id, pid;

  write_capability ("test.ping", SESSION (RULE ("incoming", SVC, SVC_PATH, "\"Ping\"")));
  h_agent_start (NULL);
  id = create_container ();
  set_caps (id, "test.ping");
  pid = h_execute (id, CLIENT " listen " SVC, "/", out_path, NULL);
  g_free (wait_output (out_path, "READY", 10000));
  service_emit (s, SVC, "Other", g_variant_new ("(s)", "x"));
  service_emit (s, SVC, "Ping", g_variant_new ("(s)", "a"));
  service_emit (s, SVC, "Other", g_variant_new ("(s)", "y"));
  service_emit (s, SVC, "Ping", g_variant_new ("(s)", "end"));
  ck_assert_uint_eq (h_wait_exit (id, pid, 30000), 0);
  out = h_read (out_path);
  assert_contains (out, "SIGNAL Ping a\nSIGNAL Ping end\n");
  assert_lacks (out, "Other");
  assert_lacks (out, "TIMEOUT");
  h_destroy (id);
  service_stop (s);
}
END_TEST

START_TEST (service_inside_answers_only_under_an_incoming_rule)
{
  g_autofree char *out_path = h_path ("serve.out");
  g_autoptr (GDBusConnection) host = NULL;
  g_autoptr (GVariant) r = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *remote = NULL;
  g_autofree char *out = NULL;
  const char *text;
  gint64 start;
  int id, pid;

  write_capability ("test.inside", SESSION (RULE ("incoming", "com.example.Inside",
                                                  "/com/example/Inside", "\"Hello\"")));
  h_agent_start (NULL);
  id = create_container ();
  set_caps (id, "test.inside");
  pid = h_execute (id, CLIENT " serve com.example.Inside 20", "/", out_path, NULL);
  g_free (wait_output (out_path, "READY 1", 10000));

  host = g_dbus_connection_new_for_address_sync (
      session_address,
      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
          | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
      NULL, NULL, &error);
  ck_assert_ptr_nonnull (host);
  r = g_dbus_connection_call_sync (host, "com.example.Inside", "/com/example/Inside",
                                   "com.example.Inside", "Hello", NULL, G_VARIANT_TYPE ("(s)"),
                                   G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &error);
  ck_assert_msg (r != NULL, "Hello: %s", error ? error->message : "");
  g_variant_get (r, "(&s)", &text);
  ck_assert_str_eq (text, "inside");
  /* no incoming rule for Secret: the proxy answers for the container, at once */
  start = g_get_monotonic_time ();
  g_clear_pointer (&r, g_variant_unref);
  r = g_dbus_connection_call_sync (host, "com.example.Inside", "/com/example/Inside",
                                   "com.example.Inside", "Secret", NULL, G_VARIANT_TYPE ("(s)"),
                                   G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &error);
  ck_assert_ptr_null (r);
  remote = g_dbus_error_get_remote_error (error);
  ck_assert_str_eq (remote, ACCESS_DENIED);
  ck_assert_int_lt (g_get_monotonic_time () - start, G_USEC_PER_SEC);

  kill (pid, SIGTERM);
  h_wait_exit (id, pid, 10000);
  out = h_read (out_path);
  assert_contains (out, "CALLED Hello");
  assert_lacks (out, "CALLED Secret");
  h_destroy (id);
}
END_TEST

START_TEST (deny_all_then_allow_on_the_same_connection)
{
  Service *s = service_start (session_address, SVC, SVC_PATH, 0);
  g_autofree char *out_path = h_path ("twice.out");
  g_autofree char *trigger_dir = h_path ("trigger");
  g_autofree char *trigger = g_build_filename (trigger_dir, "go", NULL);
  g_autofree char *out = NULL;
  int id, pid, proxy_before;

  write_capability ("test.denyall", SESSION (RULE ("*", "", "", "\"\"")));
  write_capability ("test.allow", SESSION (RULE ("outgoing", SVC, SVC_PATH, "[\"Echo\"]")));
  h_agent_start (NULL);
  id = create_container ();
  g_mkdir (trigger_dir, 0755);
  h_bind_mount (id, trigger_dir, "/trigger", TRUE);
  set_caps (id, "test.denyall");
  proxy_before = the_proxy (id, "session");
  pid = h_execute (id, CLIENT " twice /trigger/go", "/", out_path, NULL);
  out = wait_output (out_path, "FIRST", 10000);
  assert_contains (out, "FIRST ERROR " ACCESS_DENIED);
  g_clear_pointer (&out, g_free);

  set_caps (id, "test.allow");
  ck_assert_int_eq (the_proxy (id, "session"), proxy_before); /* no restart */
  ck_assert (g_file_set_contents (trigger, "", 0, NULL));
  ck_assert_uint_eq (h_wait_exit (id, pid, 30000), 0);
  out = h_read (out_path);
  assert_contains (out, "SECOND OK second");
  h_destroy (id);
  service_stop (s);
}
END_TEST

START_TEST (monitoring_and_the_agent_are_refused)
{
  Service *s = service_start (session_address, SVC, SVC_PATH, 0);
  static const char *const refused[] = {
    "org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.Monitoring BecomeMonitor "
    "\"(@as [], @u 0)\"",
    "org.freedesktop.DBus /org/freedesktop/DBus - BecomeMonitor \"(@as [], @u 0)\"",
    "org.freedesktop.DBus / org.freedesktop.DBus BecomeMonitor \"(@as [], @u 0)\"",
    "org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus AddMatch "
    "\"(\\\"eavesdrop=true\\\",)\"",
    "org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus AddMatch "
    "\"(\\\"type='method_call',eavesdrop='true'\\\",)\"",
    "org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus UpdateActivationEnvironment "
    "\"(@a{ss} {},)\"",
    "org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus RequestName "
    "\"('com.pelagicore.SoftwareContainerAgent', @u 0)\"",
  };
  g_autofree char *out = NULL;
  guint code;
  int id;

  /* everything allowed both ways on both buses: still not these */
  write_capability (
      "test.all",
      "[{\"dbus-gateway-config-session\": [" RULE (
          "*", "*", "*", "\"*\"") "], \"dbus-gateway-config-system\": [" RULE ("*", "*", "*",
                                                                               "\"*\"") "]}]");
  h_agent_start (NULL);
  id = create_container ();
  set_caps (id, "test.all");
  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    for (int system = 0; system < 2; system++)
      {
        g_autofree char *command
            = g_strdup_printf (CLIENT "%s call %s", system ? " --system" : "", refused[i]);
        out = h_run (id, command, &code);
        ck_assert_msg (code == 1 && strstr (out, "ERROR " ACCESS_DENIED) != NULL,
                       "'%s' was not refused (exit %u):\n%s", command, code, out);
        g_clear_pointer (&out, g_free);
      }
  /* the agent itself, although the rules allow everything */
  out = h_run (id,
               CLIENT " --system call com.pelagicore.SoftwareContainerAgent "
                      "/com/pelagicore/SoftwareContainerAgent "
                      "com.pelagicore.SoftwareContainerAgent List",
               &code);
  ck_assert_uint_eq (code, 1);
  assert_contains (out, ACCESS_DENIED);
  g_clear_pointer (&out, g_free);
  /* what is allowed: an ordinary match rule, a name of its own, the service */
  out = h_run_ok (id, CLIENT " call org.freedesktop.DBus /org/freedesktop/DBus "
                             "org.freedesktop.DBus AddMatch \"(\\\"type='signal'\\\",)\"");
  g_clear_pointer (&out, g_free);
  out = h_run_ok (id, CLIENT " call org.freedesktop.DBus /org/freedesktop/DBus "
                             "org.freedesktop.DBus RequestName \"('com.example.Mine', @u 4)\"");
  assert_contains (out, "OK (1,)");
  g_clear_pointer (&out, g_free);
  out = h_run_ok (id, CLIENT " call " SVC " " SVC_PATH " " SVC " Echo \"('all',)\"");
  assert_contains (out, "OK ('all',)");
  g_clear_pointer (&out, g_free);
  h_destroy (id);
  service_stop (s);
}
END_TEST

START_TEST (many_calls_and_concurrent_clients)
{
  Service *s = service_start (session_address, SVC, SVC_PATH, 0);
  g_autofree char *out = NULL;
  int id;

  write_capability ("test.echo", SESSION (RULE ("outgoing", SVC, SVC_PATH, "\"Echo\"")));
  h_agent_start (NULL);
  id = create_container ();
  set_caps (id, "test.echo");
  out = h_run_ok (id, CLIENT " many 1000");
  assert_contains (out, "OK 1000");
  g_clear_pointer (&out, g_free);
  out = h_run_ok (id, CLIENT " concurrent 20 50");
  assert_contains (out, "OK 1000");
  ck_assert_int_eq (g_atomic_int_get (&s->calls), 2000);
  g_clear_pointer (&out, g_free);
  h_destroy (id);
  service_stop (s);
}
END_TEST

/* Peak resident memory of a process, in KiB. */
static long
peak_rss_kib (int pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", pid);
  g_autofree char *status = h_read (path);
  const char *line = status != NULL ? strstr (status, "VmHWM:") : NULL;

  ck_assert_ptr_nonnull (line);
  return atol (line + 6);
}

START_TEST (fds_and_a_32_mib_message)
{
  Service *s = service_start (session_address, SVC, SVC_PATH, 0);
  g_autofree char *data_dir = h_path ("fd-data");
  g_autofree char *data_file = g_build_filename (data_dir, "file.txt", NULL);
  g_autofree char *out = NULL;
  int id, proxy;

  write_capability ("test.data", SESSION (RULE ("outgoing", SVC, SVC_PATH,
                                                "[\"ReadFd\", \"OpenFd\", \"Size\", \"Make\"]")));
  h_agent_start (NULL);
  id = create_container ();
  g_mkdir (data_dir, 0755);
  ck_assert (g_file_set_contents (data_file, "passed by descriptor\n", -1, NULL));
  h_bind_mount (id, data_dir, "/data", TRUE);
  set_caps (id, "test.data");
  proxy = the_proxy (id, "session");

  out = h_run_ok (id, CLIENT " fd /data/file.txt");
  assert_contains (out, "READ passed by descriptor\n");
  assert_contains (out, "GOT from the host\n");
  g_clear_pointer (&out, g_free);

  out = h_run_ok (id, CLIENT " big 32");
  assert_contains (out, "SENT 33554432\n");
  assert_contains (out, "RECEIVED 33554432\n");
  /* streamed: the proxy never held a whole message (32 MiB); a sanitizer build's shadow
   * memory makes the bound meaningless there */
#ifdef __SANITIZE_ADDRESS__
  const gboolean sanitized = TRUE;
#else
  const gboolean sanitized = FALSE;
#endif
  ck_assert_msg (sanitized || peak_rss_kib (proxy) < 16 * 1024, "the proxy's peak RSS is %ld KiB",
                 peak_rss_kib (proxy));
  h_destroy (id);
  service_stop (s);
}
END_TEST

START_TEST (temperature_service_example)
{
  g_autofree char *manifest = NULL;
  g_autofree char *out_path = h_path ("temperature.out");
  g_autofree char *out = NULL;
  Service *s;
  guint code;
  int id, pid;

  ck_assert (g_file_get_contents (SC_SOURCE_DIR "/service-manifests/service-manifest.d/"
                                                "com.pelagicore.temperatureservice.json",
                                  &manifest, NULL, NULL));
  h_write_manifest (FALSE, "com.pelagicore.temperatureservice.json", manifest);
  h_agent_start (NULL);
  s = service_start (h->bus_address, TEMP, TEMP_PATH, 1);
  id = create_container ();
  set_caps (id, "com.pelagicore.temperatureservice.gettemperature");

  out = h_run_ok (id, CLIENT " --system call " TEMP " " TEMP_PATH " " TEMP " GetTemperature");
  assert_contains (out, "OK (21.5,)");
  g_clear_pointer (&out, g_free);
  out = h_run_ok (id, CLIENT " --system call " TEMP " " TEMP_PATH " " TEMP " Echo \"('hi',)\"");
  assert_contains (out, "OK ('hi',)");
  g_clear_pointer (&out, g_free);
  out = h_run_ok (id, "gdbus introspect --system --dest " TEMP " --object-path " TEMP_PATH);
  assert_contains (out, "SetTemperature");
  g_clear_pointer (&out, g_free);
  out = h_run (id,
               CLIENT " --system call " TEMP " " TEMP_PATH " " TEMP " SetTemperature \"(30.0,)\"",
               &code);
  ck_assert_uint_eq (code, 1);
  assert_contains (out, ACCESS_DENIED);
  g_clear_pointer (&out, g_free);
  /* the incoming rule lets TemperatureChanged in */
  pid = h_execute (id, CLIENT " --system listen " TEMP, "/", out_path, NULL);
  g_free (wait_output (out_path, "READY", 10000));
  service_emit (s, TEMP, "TemperatureChanged", g_variant_new ("(d)", 22.0));
  service_emit (s, TEMP, "TemperatureChanged", g_variant_new ("(d)", -1.0));
  ck_assert_uint_eq (h_wait_exit (id, pid, 30000), 0);
  out = h_read (out_path);
  assert_contains (out, "SIGNAL TemperatureChanged 22.0\nSIGNAL TemperatureChanged -1.0\n");
  g_clear_pointer (&out, g_free);

  set_caps (id, "com.pelagicore.temperatureservice.settemperature");
  out = h_run_ok (id, CLIENT " --system call " TEMP " " TEMP_PATH " " TEMP
                             " SetTemperature \"(30.0,)\"");
  g_clear_pointer (&out, g_free);
  out = h_run_ok (id, CLIENT " --system call " TEMP " " TEMP_PATH " " TEMP " GetTemperature");
  assert_contains (out, "OK (30.0,)");
  g_clear_pointer (&out, g_free);
  h_destroy (id);
  service_stop (s);
}
END_TEST

START_TEST (proxies_go_with_destroy_and_sigterm)
{
  g_autofree char *session_socket = NULL;
  g_autofree char *system_socket = NULL;
  GArray *pids = NULL;
  int id, second, status;

  write_capability ("test.both", "[{\"dbus-gateway-config-session\": [], "
                                 "\"dbus-gateway-config-system\": []}]");
  write_capability ("test.more", SESSION (RULE ("outgoing", "a.b", "/", "\"M\"")));
  h_agent_start (NULL);
  id = create_container ();
  set_caps (id, "test.both");
  pids = proxy_pids (id, NULL);
  ck_assert_uint_eq (pids->len, 2);
  g_array_unref (pids);
  session_socket = socket_path (id, "session");
  system_socket = socket_path (id, "system");
  ck_assert (g_file_test (session_socket, G_FILE_TEST_EXISTS));
  ck_assert (g_file_test (system_socket, G_FILE_TEST_EXISTS));
  /* a later capability for a running bus adds no process */
  set_caps (id, "test.more");
  pids = proxy_pids (id, NULL);
  ck_assert_uint_eq (pids->len, 2);
  g_array_unref (pids);

  h_destroy (id);
  pids = proxy_pids (id, NULL);
  ck_assert_uint_eq (pids->len, 0);
  g_array_unref (pids);
  ck_assert (!g_file_test (session_socket, G_FILE_TEST_EXISTS));
  ck_assert (!g_file_test (system_socket, G_FILE_TEST_EXISTS));

  /* SIGTERM with a live container: the proxies go with it (the leak check says so too) */
  second = create_container ();
  set_caps (second, "test.both");
  pids = proxy_pids (second, NULL);
  ck_assert_uint_eq (pids->len, 2);
  g_array_unref (pids);
  status = h_agent_stop (SIGTERM);
  ck_assert (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  pids = proxy_pids (second, NULL);
  ck_assert_uint_eq (pids->len, 0);
  g_array_unref (pids);
}
END_TEST

START_TEST (unreachable_bus_is_gateway_failed)
{
  const char *caps[] = { "test.session", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) r = NULL;
  g_autoptr (GArray) pids = NULL;
  int id;

  g_setenv ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus", TRUE);
  write_capability ("test.session", "[{\"dbus-gateway-config-system\": []}, "
                                    "{\"dbus-gateway-config-session\": []}]");
  write_capability ("test.system", SYSTEM (RULE ("outgoing", "a.b", "/", "\"M\"")));
  h_agent_start (NULL);
  id = create_container ();
  r = h_call ("SetCapabilities", g_variant_new ("(i^as)", id, caps), &error);
  h_assert_failed (error, "GatewayFailed");
  assert_contains (error->message, "session bus");
  assert_contains (error->message, "/nonexistent/bus");
  /* all or nothing: the system bus's proxy of the same call is gone too */
  pids = proxy_pids (id, NULL);
  ck_assert_uint_eq (pids->len, 0);
  /* and the agent goes on */
  set_caps (id, "test.system");
  the_proxy (id, "system");
  h_destroy (id);
}
END_TEST

START_TEST (a_dead_proxy_is_logged_and_replaced)
{
  Service *s = service_start (session_address, SVC, SVC_PATH, 0);
  g_autofree char *log = NULL;
  g_autofree char *out = NULL;
  g_autofree char *expected = NULL;
  gint64 deadline;
  int id, proxy;

  write_capability ("test.echo", SESSION (RULE ("outgoing", SVC, SVC_PATH, "\"Echo\"")));
  write_capability ("test.more", SESSION (RULE ("outgoing", SVC, SVC_PATH, "\"Forbidden\"")));
  h_agent_start (NULL);
  id = create_container ();
  set_caps (id, "test.echo");
  proxy = the_proxy (id, "session");
  kill (proxy, SIGKILL);
  expected = g_strdup_printf ("container %d: the D-Bus proxy of the session bus (pid %d) exited "
                              "unexpectedly",
                              id, proxy);
  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while ((log = h_read (h->agent_log)) == NULL || strstr (log, expected) == NULL)
    {
      ck_assert_msg (g_get_monotonic_time () < deadline, "no warning in the agent's log");
      g_clear_pointer (&log, g_free);
      h_sleep (20);
    }
  /* the agent keeps serving; the next capability for that bus starts a new proxy with all the
   * rules */
  g_free (h_list (&(guint){ 0 }));
  set_caps (id, "test.more");
  ck_assert_int_ne (the_proxy (id, "session"), proxy);
  out = h_run_ok (id, CLIENT " call " SVC " " SVC_PATH " " SVC " Echo \"('again',)\"");
  assert_contains (out, "OK ('again',)");
  g_clear_pointer (&out, g_free);
  out = h_run_ok (id, CLIENT " call " SVC " " SVC_PATH " " SVC " Forbidden");
  g_clear_pointer (&out, g_free);
  h_destroy (id);
  service_stop (s);
}
END_TEST

/* ---- the authentication phase, from the host, straight on the proxy's socket ------------- */

/* a string literal and its length without the terminating NUL */
#define LIT(s) s, sizeof (s) - 1

static int
raw_connect (const char *path)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct timeval tv = { .tv_sec = 3 };

  g_strlcpy (addr.sun_path, path, sizeof addr.sun_path);
  ck_assert_int_eq (connect (fd, (struct sockaddr *)&addr, sizeof addr), 0);
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

/* Sends data and reads until the proxy closes (or 3 s pass: then *closed is FALSE). */
static GString *
raw_exchange (const char *path, const void *data, gsize len, gboolean *closed)
{
  GString *in = g_string_new (NULL);
  int fd = raw_connect (path);
  char buf[4096];

  ck_assert_int_eq (send (fd, data, len, MSG_NOSIGNAL), (ssize_t)len);
  *closed = FALSE;
  for (;;)
    {
      ssize_t n = read (fd, buf, sizeof buf);
      if (n == 0 || (n < 0 && errno == ECONNRESET))
        {
          *closed = TRUE;
          break;
        }
      if (n < 0)
        break;
      g_string_append_len (in, buf, n);
    }
  close (fd);
  return in;
}

static void
assert_closed (const char *path, const void *data, gsize len, const char *what)
{
  gboolean closed;
  g_autoptr (GString) in = raw_exchange (path, data, len, &closed);

  ck_assert_msg (closed, "the proxy did not close the connection after %s", what);
}

START_TEST (the_proxy_fails_closed)
{
  g_autofree char *path = NULL;
  g_autofree char *long_line = g_strnfill (20000, 'A');
  g_autofree char *hello_blob = NULL;
  g_autoptr (GDBusMessage) hello = g_dbus_message_new_method_call (
      "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "Hello");
  g_autoptr (GString) pipelined
      = g_string_new_len (LIT ("\0AUTH EXTERNAL 30\r\nNEGOTIATE_UNIX_FD\r\nBEGIN\r\n"));
  g_autoptr (GString) in = NULL;
  gsize hello_len;
  gboolean closed;
  int id, fd;

  write_capability ("test.none", "[{\"dbus-gateway-config-session\": []}]");
  h_agent_start (NULL);
  id = create_container ();
  set_caps (id, "test.none");
  path = socket_path (id, "session");

  /* sd-bus and zbus pipeline the handshake and Hello in one write: that works */
  g_dbus_message_set_serial (hello, 1);
  hello_blob
      = (char *)g_dbus_message_to_blob (hello, &hello_len, G_DBUS_CAPABILITY_FLAGS_NONE, NULL);
  g_string_append_len (pipelined, hello_blob, hello_len);
  fd = raw_connect (path);
  ck_assert_int_eq (send (fd, pipelined->str, pipelined->len, 0), (ssize_t)pipelined->len);
  {
    char buf[4096];
    GString *got = g_string_new (NULL);
    gint64 deadline = g_get_monotonic_time () + 3 * G_USEC_PER_SEC;

    const char *agree;

    /* OK <guid>, AGREE_UNIX_FD, then the Hello reply (and NameAcquired) */
    while ((agree = g_strstr_len (got->str, got->len, "AGREE_UNIX_FD\r\n")) == NULL
           || got->len < (gsize)(agree - got->str) + 15 + 16)
      {
        ssize_t n = read (fd, buf, sizeof buf);
        ck_assert_msg (n > 0 && g_get_monotonic_time () < deadline,
                       "no answer to a pipelined handshake; got '%s'", got->str);
        g_string_append_len (got, buf, n);
      }
    ck_assert (g_str_has_prefix (got->str, "OK "));
    {
      const char *message = strstr (got->str, "AGREE_UNIX_FD\r\n") + 15;
      ck_assert_int_eq (message[0], 'l');
      ck_assert_int_eq (message[1], 2); /* a method return */
    }
    g_string_free (got, TRUE);
  }
  close (fd);

  assert_closed (path, LIT ("AUTH EXTERNAL 30\r\n"), "no NUL byte first");
  assert_closed (path, LIT ("\0AUTH\0EXTERNAL 30\r\n"), "a NUL inside a line");
  assert_closed (path, LIT ("\0AUTH  EXTERNAL 30\r\n"), "a doubled space");
  assert_closed (path, LIT ("\0AUTH EXTERNAL 30\n"), "a line without CR");
  assert_closed (path, LIT ("\0STARTTLS\r\n"), "an unknown command");
  assert_closed (path, LIT ("\0AUTH EXTERNAL 31\r\n"), "someone else's uid");
  assert_closed (path, LIT ("\0AUTH ANONYMOUS\r\n"), "another mechanism");
  {
    g_autoptr (GString) t = g_string_new_len ("", 1);
    g_string_append (t, long_line);
    assert_closed (path, t->str, t->len, "an over-long line");
  }
  /* BEGIN without authentication, with data after it */
  assert_closed (path, LIT ("\0BEGIN\r\nl\1\0\1"), "BEGIN before authenticating");
  /* a message that is no message after a good handshake */
  in = raw_exchange (path, LIT ("\0AUTH EXTERNAL 30\r\nBEGIN\r\nxxxxxxxxxxxxxxxxxxxx"), &closed);
  ck_assert (closed);
  ck_assert (g_str_has_prefix (in->str, "OK "));
  h_destroy (id);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("dbus gateway");
  TCase *tc = dbus_tcase ("dbus", FALSE);

  tcase_add_test (tc, allowed_and_denied_calls);
  tcase_add_test (tc, empty_rule_list_blocks_all_but_the_bus);
  tcase_add_test (tc, signals_need_an_incoming_rule);
  tcase_add_test (tc, service_inside_answers_only_under_an_incoming_rule);
  tcase_add_test (tc, deny_all_then_allow_on_the_same_connection);
  tcase_add_test (tc, monitoring_and_the_agent_are_refused);
  tcase_add_test (tc, many_calls_and_concurrent_clients);
  tcase_add_test (tc, fds_and_a_32_mib_message);
  tcase_add_test (tc, temperature_service_example);
  tcase_add_test (tc, proxies_go_with_destroy_and_sigterm);
  tcase_add_test (tc, unreachable_bus_is_gateway_failed);
  tcase_add_test (tc, a_dead_proxy_is_logged_and_replaced);
  tcase_add_test (tc, the_proxy_fails_closed);
  suite_add_tcase (s, tc);
  return h_run_suite (s);
}
#endif
