/* sc-dbus-bench: the D-Bus proxy's throughput and latency, in one run, against a direct
 * connection to the bus and against Debian's xdg-dbus-proxy with an allow-all policy.
 *
 * It starts a private dbus-daemon (session-like, message limits at the protocol's maximum), an
 * echo service on it (GDBus, in a thread with its own main context), softwarecontainer-dbus-proxy
 * twice (rules allowing everything, and a filter of 20 rules whose last one matches the echo
 * method) and xdg-dbus-proxy (no --filter: everything passes), then measures for each path:
 *   - synchronous Echo(s) calls of one client: calls/s, p50 and p99 latency;
 *   - 8 clients at once (a thread and a connection each): calls/s in total;
 *   - one 32 MiB round trip (EchoBytes(ay) -> ay, 32 MiB each way): milliseconds;
 *   - the CPU time the proxy process used per call (utime+stime from /proc).
 * Paths are measured in interleaved rounds (this machine has phases where everything runs
 * about twice as slow), and the median round is reported. Output: a Markdown table.
 *
 *   sc-dbus-bench [--calls N] [--rounds R] [--proxy PATH]
 * It holds the integration tests' lock (/run/softwarecontainer-tests.lock) while it runs, since
 * the tests' leak check counts every process named *dbus-proxy*. */
#include <fcntl.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define SVC "com.example.Bench"
#define SVC_PATH "/com/example/Bench"
#define BIG (32 * 1024 * 1024)
#define THREADS 8

static const char xml[] = "<node><interface name='com.example.Bench'>"
                          "<method name='Echo'><arg type='s' direction='in'/>"
                          "<arg type='s' direction='out'/></method>"
                          "<method name='EchoBytes'><arg type='ay' direction='in'/>"
                          "<arg type='ay' direction='out'/></method>"
                          "</interface></node>";

static int n_calls = 20000;
static int n_rounds = 3;

/* ---- the echo service ------------------------------------------------------------------- */

typedef struct
{
  const char *address;
  GMainContext *context;
  GMainLoop *loop;
  GMutex lock;
  GCond cond;
  gboolean ready;
} Service;

static void
service_call (GDBusConnection *c, const char *sender, const char *path, const char *interface,
              const char *method, GVariant *params, GDBusMethodInvocation *invocation,
              gpointer data)
{
  g_dbus_method_invocation_return_value (invocation, g_variant_ref (params));
}

static gpointer
service_thread (gpointer data)
{
  Service *s = data;
  g_autoptr (GDBusNodeInfo) info = g_dbus_node_info_new_for_xml (xml, NULL);
  g_autoptr (GDBusConnection) c = NULL;
  g_autoptr (GVariant) r = NULL;
  GDBusInterfaceVTable vtable = { service_call, NULL, NULL, { 0 } };

  g_main_context_push_thread_default (s->context);
  c = g_dbus_connection_new_for_address_sync (s->address,
                                              G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
                                                  | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                              NULL, NULL, NULL);
  g_assert (c != NULL);
  g_dbus_connection_register_object (c, SVC_PATH, info->interfaces[0], &vtable, NULL, NULL, NULL);
  r = g_dbus_connection_call_sync (
      c, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "RequestName",
      g_variant_new ("(su)", SVC, 4), NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
  g_assert (r != NULL);
  g_mutex_lock (&s->lock);
  s->ready = TRUE;
  g_cond_signal (&s->cond);
  g_mutex_unlock (&s->lock);
  g_main_loop_run (s->loop);
  return NULL;
}

/* ---- processes ---------------------------------------------------------------------------- */

static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
}

static GPid
spawn (const char *const *argv, const int *source_fds, const int *target_fds, guint n_fds)
{
  g_autoptr (GError) error = NULL;
  GPid pid = 0;

  if (!g_spawn_async_with_pipes_and_fds (NULL, argv, NULL,
                                         G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_SEARCH_PATH
                                             | G_SPAWN_STDIN_FROM_DEV_NULL,
                                         die_with_parent, NULL, -1, -1, -1, source_fds, target_fds,
                                         n_fds, &pid, NULL, NULL, NULL, &error))
    g_error ("cannot start %s: %s", argv[0], error->message);
  return pid;
}

static void
wait_byte (int fd, const char *what)
{
  char c;

  if (read (fd, &c, 1) != 1)
    g_error ("%s did not get ready", what);
}

/* Our proxy with one rule set; returns its pid; *control keeps its control pipe open. */
static GPid
start_our_proxy (const char *program, const char *bus, const char *socket, const char *rules,
                 int *control)
{
  int c[2], s[2];
  int sources[2];
  const int targets[2] = { 3, 4 };
  const char *argv[]
      = { program, "--container-id", "0", "--bus",       "bench", "--address", bus, "--socket",
          socket,  "--control-fd",   "3", "--status-fd", "4",     NULL };
  GPid pid;
  g_autofree char *line = g_strconcat (rules, "\n", NULL);

  g_assert (g_unix_open_pipe (c, FD_CLOEXEC, NULL) && g_unix_open_pipe (s, FD_CLOEXEC, NULL));
  sources[0] = c[0];
  sources[1] = s[1];
  pid = spawn (argv, sources, targets, 2);
  close (c[0]);
  close (s[1]);
  g_assert (write (c[1], line, strlen (line)) == (ssize_t)strlen (line));
  wait_byte (s[0], "softwarecontainer-dbus-proxy");
  wait_byte (s[0], "softwarecontainer-dbus-proxy's rules");
  close (s[0]);
  *control = c[1];
  return pid;
}

static GPid
start_xdg_proxy (const char *bus, const char *socket)
{
  int p[2];
  int sources[1];
  const int targets[1] = { 3 };
  const char *argv[] = { "xdg-dbus-proxy", "--fd=3", bus, socket, NULL };
  GPid pid;

  g_assert (g_unix_open_pipe (p, FD_CLOEXEC, NULL));
  sources[0] = p[1];
  pid = spawn (argv, sources, targets, 1);
  close (p[1]);
  wait_byte (p[0], "xdg-dbus-proxy");
  /* xdg-dbus-proxy exits when this pipe closes: kept open on purpose */
  return pid;
}

/* utime + stime of a process, in microseconds */
static gint64
cpu_us (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int)pid);
  g_autofree char *stat = NULL;
  const char *p;
  unsigned long utime = 0, stime = 0;

  if (pid == 0 || !g_file_get_contents (path, &stat, NULL, NULL)
      || (p = strrchr (stat, ')')) == NULL)
    return 0;
  /* after "pid (comm)": state is field 3; utime and stime are 14 and 15 */
  if (sscanf (p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
    return 0;
  return (gint64)(utime + stime) * G_USEC_PER_SEC / sysconf (_SC_CLK_TCK);
}

/* ---- measurements ------------------------------------------------------------------------ */

static GDBusConnection *
client (const char *address)
{
  g_autoptr (GError) error = NULL;
  GDBusConnection *c = g_dbus_connection_new_for_address_sync (
      address,
      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
          | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
      NULL, NULL, &error);

  if (c == NULL)
    g_error ("cannot connect to %s: %s", address, error->message);
  return c;
}

static void
echo (GDBusConnection *c)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) r
      = g_dbus_connection_call_sync (c, SVC, SVC_PATH, SVC, "Echo", g_variant_new ("(s)", "ping"),
                                     NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  if (r == NULL)
    g_error ("Echo: %s", error->message);
}

static int
cmp_gint64 (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;
  return x < y ? -1 : x > y;
}

typedef struct
{
  const char *name;
  char *address;
  GPid pid;           /* the proxy, 0 for direct */
  GArray *rate;       /* calls/s of each round, one client */
  GArray *rate_multi; /* calls/s of each round, THREADS clients */
  GArray *big_ms;     /* 32 MiB round trip of each round */
  GArray *latencies;  /* µs, all rounds */
  gint64 cpu;         /* µs of proxy CPU over all calls measured */
  gint64 calls;
} Path;

typedef struct
{
  const char *address;
  int calls;
} ThreadJob;

static gpointer
thread_calls (gpointer data)
{
  ThreadJob *job = data;
  g_autoptr (GDBusConnection) c = client (job->address);

  for (int i = 0; i < job->calls; i++)
    echo (c);
  return NULL;
}

static void
measure (Path *p)
{
  g_autoptr (GDBusConnection) c = client (p->address);
  gint64 start, cpu_start = cpu_us (p->pid);
  double seconds;

  for (int i = 0; i < 500; i++)
    echo (c);
  start = g_get_monotonic_time ();
  for (int i = 0; i < n_calls; i++)
    {
      gint64 t = g_get_monotonic_time ();
      echo (c);
      t = g_get_monotonic_time () - t;
      g_array_append_val (p->latencies, t);
    }
  seconds = (g_get_monotonic_time () - start) / 1e6;
  {
    double rate = n_calls / seconds;
    g_array_append_val (p->rate, rate);
  }

  {
    GThread *threads[THREADS];
    ThreadJob job = { p->address, n_calls / THREADS };
    double rate;

    start = g_get_monotonic_time ();
    for (int i = 0; i < THREADS; i++)
      threads[i] = g_thread_new ("bench", thread_calls, &job);
    for (int i = 0; i < THREADS; i++)
      g_thread_join (threads[i]);
    rate = (double)job.calls * THREADS / ((g_get_monotonic_time () - start) / 1e6);
    g_array_append_val (p->rate_multi, rate);
  }
  p->cpu += cpu_us (p->pid) - cpu_start;
  p->calls += n_calls + (n_calls / THREADS) * THREADS + 500;

  {
    guint8 *data = g_malloc0 (BIG);
    g_autoptr (GError) error = NULL;
    g_autoptr (GVariant) r = NULL;
    double ms;

    start = g_get_monotonic_time ();
    r = g_dbus_connection_call_sync (
        c, SVC, SVC_PATH, SVC, "EchoBytes",
        g_variant_new ("(@ay)", g_variant_new_from_data (G_VARIANT_TYPE ("ay"), data, BIG, TRUE,
                                                         g_free, data)),
        NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
    if (r == NULL)
      g_error ("EchoBytes: %s", error->message);
    ms = (g_get_monotonic_time () - start) / 1e3;
    g_array_append_val (p->big_ms, ms);
  }
}

static int
cmp_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double
median (GArray *values)
{
  g_array_sort (values, cmp_double);
  return g_array_index (values, double, values->len / 2);
}

int
main (int argc, char **argv)
{
  g_autofree char *proxy_program = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *conf = NULL;
  g_autofree char *bus_socket = NULL;
  g_autofree char *bus = NULL;
  g_autoptr (GString) filter = g_string_new ("[");
  GOptionEntry entries[] = {
    { "calls", 0, 0, G_OPTION_ARG_INT, &n_calls, "synchronous calls per round", "N" },
    { "rounds", 0, 0, G_OPTION_ARG_INT, &n_rounds, "rounds", "R" },
    { "proxy", 0, 0, G_OPTION_ARG_FILENAME, &proxy_program, "softwarecontainer-dbus-proxy",
      "PATH" },
    G_OPTION_ENTRY_NULL,
  };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  Service service = { 0 };
  Path paths[4] = {
    { .name = "direct on the bus" },
    { .name = "softwarecontainer-dbus-proxy, rules allow all" },
    { .name = "softwarecontainer-dbus-proxy, 20 rules, last matches" },
    { .name = "xdg-dbus-proxy 0.1.4, no filter (allow all)" },
  };
  int controls[2];
  GPid bus_pid;
  int lock_fd;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    g_error ("%s", error->message);
  if (proxy_program == NULL)
    {
      g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
      g_autofree char *here = g_path_get_dirname (self);
      proxy_program = g_build_filename (here, "softwarecontainer-dbus-proxy", NULL);
    }
  lock_fd = open ("/run/softwarecontainer-tests.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd < 0 || flock (lock_fd, LOCK_EX) < 0)
    g_error ("cannot lock /run/softwarecontainer-tests.lock");

  dir = g_dir_make_tmp ("sc-dbus-bench-XXXXXX", &error);
  conf = g_build_filename (dir, "bus.conf", NULL);
  bus_socket = g_build_filename (dir, "bus.socket", NULL);
  bus = g_strdup_printf ("unix:path=%s", bus_socket);
  {
    g_autofree char *text = g_strdup_printf (
        "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN\"\n"
        " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
        "<busconfig><type>session</type><listen>unix:path=%s</listen><auth>EXTERNAL</auth>"
        "<limit name=\"max_message_size\">134217728</limit>"
        "<limit name=\"max_incoming_bytes\">1000000000</limit>"
        "<limit name=\"max_outgoing_bytes\">1000000000</limit>"
        "<policy context=\"default\"><allow send_destination=\"*\" eavesdrop=\"true\"/>"
        "<allow eavesdrop=\"true\"/><allow own=\"*\"/></policy></busconfig>\n",
        bus_socket);
    const char *bus_argv[] = { "dbus-daemon", "--nofork", "--config-file", conf, NULL };

    g_file_set_contents (conf, text, -1, NULL);
    bus_pid = spawn (bus_argv, NULL, NULL, 0);
    for (int i = 0; i < 500 && !g_file_test (bus_socket, G_FILE_TEST_EXISTS); i++)
      g_usleep (10000);
    g_usleep (100000);
  }
  service.address = bus;
  service.context = g_main_context_new ();
  service.loop = g_main_loop_new (service.context, FALSE);
  g_mutex_init (&service.lock);
  g_cond_init (&service.cond);
  g_thread_new ("service", service_thread, &service);
  g_mutex_lock (&service.lock);
  while (!service.ready)
    g_cond_wait (&service.cond, &service.lock);
  g_mutex_unlock (&service.lock);

  for (int i = 0; i < 19; i++)
    g_string_append_printf (filter,
                            "{\"direction\": \"outgoing\", \"interface\": \"com.example.Other%d\", "
                            "\"object-path\": \"/other/%d/*\", \"method\": [\"A\", \"B*\"]},",
                            i, i);
  g_string_append (filter,
                   "{\"direction\": \"outgoing\", \"interface\": \"" SVC "\", "
                   "\"object-path\": \"" SVC_PATH "\", \"method\": [\"Echo\", \"EchoBytes\"]}]");

  paths[0].address = g_strdup (bus);
  {
    g_autofree char *s1 = g_build_filename (dir, "ours-all.socket", NULL);
    g_autofree char *s2 = g_build_filename (dir, "ours-filter.socket", NULL);
    g_autofree char *s3 = g_build_filename (dir, "xdg.socket", NULL);

    paths[1].pid = start_our_proxy (proxy_program, bus, s1,
                                    "[{\"direction\": \"*\", \"interface\": \"*\", "
                                    "\"object-path\": \"*\", \"method\": \"*\"}]",
                                    &controls[0]);
    paths[1].address = g_strdup_printf ("unix:path=%s", s1);
    paths[2].pid = start_our_proxy (proxy_program, bus, s2, filter->str, &controls[1]);
    paths[2].address = g_strdup_printf ("unix:path=%s", s2);
    paths[3].pid = start_xdg_proxy (bus, s3);
    paths[3].address = g_strdup_printf ("unix:path=%s", s3);
  }
  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      paths[i].rate = g_array_new (FALSE, FALSE, sizeof (double));
      paths[i].rate_multi = g_array_new (FALSE, FALSE, sizeof (double));
      paths[i].big_ms = g_array_new (FALSE, FALSE, sizeof (double));
      paths[i].latencies = g_array_new (FALSE, FALSE, sizeof (gint64));
    }

  for (int r = 0; r < n_rounds; r++)
    for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
      {
        g_printerr ("round %d: %s\n", r + 1, paths[i].name);
        measure (&paths[i]);
      }

  printf ("%d rounds of %d synchronous Echo calls per path (1 client), then %d clients at once, "
          "then one 32 MiB round trip; medians of the rounds.\n\n",
          n_rounds, n_calls, THREADS);
  printf ("| path | calls/s, 1 client | ratio | p50 / p99 µs | calls/s, %d clients | ratio | "
          "32 MiB round trip ms | proxy CPU µs/call |\n",
          THREADS);
  printf ("|---|---|---|---|---|---|---|---|\n");
  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      Path *p = &paths[i];
      double rate = median (p->rate), multi = median (p->rate_multi);
      g_autofree char *cpu
          = p->pid != 0 ? g_strdup_printf ("%.1f", (double)p->cpu / p->calls) : g_strdup ("-");

      g_array_sort (p->latencies, cmp_gint64);
      printf ("| %s | %.0f | %.2f | %" G_GINT64_FORMAT " / %" G_GINT64_FORMAT " | %.0f | %.2f | "
              "%.0f | %s |\n",
              p->name, rate, rate / median (paths[0].rate),
              g_array_index (p->latencies, gint64, p->latencies->len / 2),
              g_array_index (p->latencies, gint64, p->latencies->len * 99 / 100), multi,
              multi / median (paths[0].rate_multi), median (p->big_ms), cpu);
    }
  {
    long hwm = 0;
    g_autofree char *path = g_strdup_printf ("/proc/%d/status", (int)paths[1].pid);
    g_autofree char *status = NULL;
    const char *line;

    if (g_file_get_contents (path, &status, NULL, NULL)
        && (line = strstr (status, "VmHWM:")) != NULL)
      hwm = atol (line + 6);
    printf ("\nPeak RSS of softwarecontainer-dbus-proxy after it relayed the 32 MiB messages: "
            "%ld KiB.\n",
            hwm);
  }

  for (guint i = 1; i < G_N_ELEMENTS (paths); i++)
    kill (paths[i].pid, SIGTERM);
  kill (bus_pid, SIGTERM);
  for (guint i = 1; i < G_N_ELEMENTS (paths); i++)
    waitpid (paths[i].pid, NULL, 0);
  waitpid (bus_pid, NULL, 0);
  close (controls[0]);
  close (controls[1]);
  {
    const char *rm[] = { "rm", "-rf", dir, NULL };
    g_spawn_sync (NULL, (char **)rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
  }
  return 0;
}
