/* bench/scale: the agent with many live containers (issue 7, doc/performance.md).
 *
 *   scale [--containers N] [--clients C] [--list-seconds S] [--json]
 *
 * It starts a private bus and the agent of this build (the integration tests' harness), notes
 * the agent's RSS, then starts C clients (default 4; a thread and a bus connection each) that
 * Create and Destroy containers of their own in a loop, and meanwhile ramps up to N live
 * containers (default 100), each running `sleep`. At N, with the clients still going, it calls
 * List for S seconds (one call every 5 ms) and records each call's latency, and after each one
 * the latency of a call that the bus daemon answers itself (GetId): the share of the machine and
 * the bus in List's latency. Then it stops the clients, notes the RSS at N, lists once more
 * without load, destroys the N containers (all Destroy calls sent at once, as a launcher
 * closing every app would; at most 100 in flight, the bus's limit is 128) and times that,
 * stops the agent and counts what the harness's leak check finds on the host. It holds the
 * integration tests' lock for the whole run. */
#include <string.h>

#include "bench.h"

#define AGENT_NAME "com.pelagicore.SoftwareContainerAgent"
#define AGENT_PATH "/com/pelagicore/SoftwareContainerAgent"

static int n_containers = 100;
static int n_clients = 4;
static int list_seconds = 10;
static gboolean json;

/* ---- the clients that create and destroy --------------------------------------------------- */

typedef struct {
  GThread *thread;
  GDBusConnection *conn;
  guint cycles;
  guint errors;
  char *first_error;
  BenchSamples create_ms;
} Client;

static gint stop_clients;

static GVariant *
client_call (Client *cl, const char *method, GVariant *args)
{
  g_autoptr (GError) error = NULL;
  GVariant *r = g_dbus_connection_call_sync (cl->conn, AGENT_NAME, AGENT_PATH, AGENT_NAME,
                                             method, args, NULL, G_DBUS_CALL_FLAGS_NONE, 120000,
                                             NULL, &error);
  if (r == NULL)
    {
      cl->errors++;
      if (cl->first_error == NULL)
        cl->first_error = g_strdup_printf ("%s: %s", method, error->message);
    }
  return r;
}

/* Runs in its own thread: only GDBus calls on its own connection, no h_* or ck_*. */
static gpointer
client_thread (gpointer data)
{
  Client *cl = data;

  while (!g_atomic_int_get (&stop_clients))
    {
      double t0 = bench_now_ms ();
      g_autoptr (GVariant) created = client_call (cl, "Create", g_variant_new ("(s)", "[]"));
      g_autoptr (GVariant) destroyed = NULL;
      int id;

      if (created == NULL)
        {
          g_usleep (100000);
          continue;
        }
      bench_samples_add (&cl->create_ms, bench_now_ms () - t0);
      g_variant_get (created, "(i)", &id);
      destroyed = client_call (cl, "Destroy", g_variant_new ("(i)", id));
      if (destroyed != NULL)
        cl->cycles++;
    }
  return NULL;
}

static void
clients_start (Client *clients)
{
  g_atomic_int_set (&stop_clients, 0);
  for (int i = 0; i < n_clients; i++)
    {
      g_autoptr (GError) error = NULL;

      clients[i].conn = g_dbus_connection_new_for_address_sync (
          h->bus_address,
          G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
              | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
          NULL, NULL, &error);
      ck_assert_msg (clients[i].conn != NULL, "client %d: %s", i, error ? error->message : "");
      bench_samples_init (&clients[i].create_ms);
      clients[i].thread = g_thread_new ("client", client_thread, &clients[i]);
    }
}

static void
clients_stop (Client *clients, guint *cycles, guint *errors, BenchSamples *create_ms)
{
  g_atomic_int_set (&stop_clients, 1);
  *cycles = *errors = 0;
  for (int i = 0; i < n_clients; i++)
    {
      g_thread_join (clients[i].thread);
      *cycles += clients[i].cycles;
      *errors += clients[i].errors;
      if (clients[i].first_error != NULL)
        g_printerr ("client %d: %u errors, the first: %s\n", i, clients[i].errors,
                    clients[i].first_error);
      g_array_append_vals (create_ms->values, clients[i].create_ms.values->data,
                           clients[i].create_ms.values->len);
      bench_samples_clear (&clients[i].create_ms);
      g_clear_object (&clients[i].conn);
      g_free (clients[i].first_error);
    }
}

/* ---- List and Destroy ------------------------------------------------------------------------ */

/* One List call's latency in ms; the number of IDs in *n. */
static double
timed_list (guint *n)
{
  double t0 = bench_now_ms ();
  g_autofree int *ids = h_list (n);

  return bench_now_ms () - t0;
}

/* A call that the bus daemon answers itself (GetId) in ms: what any call costs on this machine
 * at this moment, without the agent. */
static double
timed_bus_call (void)
{
  double t0 = bench_now_ms ();
  g_autoptr (GVariant) r = g_dbus_connection_call_sync (
      h->conn, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetId",
      NULL, G_VARIANT_TYPE ("(s)"), G_DBUS_CALL_FLAGS_NONE, 60000, NULL, NULL);

  ck_assert (r != NULL);
  return bench_now_ms () - t0;
}

/* List (and a bus call after each, into bus if not NULL) every 5 ms for seconds. */
static void
sample_list (BenchSamples *s, BenchSamples *bus, int seconds)
{
  double end = bench_now_ms () + seconds * 1000.0;
  guint n;

  while (bench_now_ms () < end)
    {
      bench_samples_add (s, timed_list (&n));
      ck_assert_uint_ge (n, (guint) n_containers);
      if (bus != NULL)
        bench_samples_add (bus, timed_bus_call ());
      g_usleep (5000);
    }
}

typedef struct {
  guint pending;
  guint failed;
} DestroyAll;

static void
destroy_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  DestroyAll *all = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) r = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result,
                                                          &error);
  if (r == NULL)
    {
      if (all->failed++ == 0)
        g_printerr ("Destroy: %s\n", error->message);
    }
  all->pending--;
}

/* The bus daemon lets a connection wait for at most 128 replies (max_replies_per_connection of
 * a system bus): more Destroy calls than this wait on this side. */
#define MAX_PENDING 100

/* Sends every Destroy at once (up to MAX_PENDING in flight) and waits for all replies; returns
 * the time in ms. */
static double
destroy_all (GArray *ids)
{
  DestroyAll all = { 0, 0 };
  double t0 = bench_now_ms ();
  guint next = 0;

  while (next < ids->len || all.pending > 0)
    {
      for (; next < ids->len && all.pending < MAX_PENDING; next++)
        {
          all.pending++;
          g_dbus_connection_call (h->conn, AGENT_NAME, AGENT_PATH, AGENT_NAME, "Destroy",
                                  g_variant_new ("(i)", g_array_index (ids, int, next)), NULL,
                                  G_DBUS_CALL_FLAGS_NONE, 600000, NULL, destroy_done, &all);
        }
      g_main_context_iteration (NULL, TRUE);
    }
  ck_assert_msg (all.failed == 0, "%u Destroy calls failed", all.failed);
  return bench_now_ms () - t0;
}

/* ---- the run --------------------------------------------------------------------------------- */

static void
body (void)
{
  g_autofree Client *clients = g_new0 (Client, MAX (n_clients, 1));
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (int));
  g_autofree char *machine = NULL;
  BenchSamples list_ramp, list_at_n, list_quiet, bus_at_n, create_ramp, create_clients;
  long rss_idle, rss_at_n, rss_after;
  double ramp_ms, destroy_ms, per_container_kib;
  guint cycles, errors, leftovers, n;
  BenchJson j;

  bench_samples_init (&list_ramp);
  bench_samples_init (&list_at_n);
  bench_samples_init (&list_quiet);
  bench_samples_init (&bus_at_n);
  bench_samples_init (&create_ramp);
  bench_samples_init (&create_clients);
  bench_agent_start ();
  h_sleep (500);
  rss_idle = bench_rss_kib (h->agent_pid);

  clients_start (clients);
  ramp_ms = bench_now_ms ();
  for (int i = 0; i < n_containers; i++)
    {
      double t0 = bench_now_ms ();
      int id = h_create ("[]");

      bench_samples_add (&create_ramp, bench_now_ms () - t0);
      h_execute (id, "sleep 1000000", "/", NULL, NULL);
      g_array_append_val (ids, id);
      bench_samples_add (&list_ramp, timed_list (&n));
    }
  ramp_ms = bench_now_ms () - ramp_ms;
  sample_list (&list_at_n, &bus_at_n, list_seconds);
  clients_stop (clients, &cycles, &errors, &create_clients);
  ck_assert_msg (errors == 0, "the clients' calls failed %u times", errors);

  h_sleep (500);
  rss_at_n = bench_rss_kib (h->agent_pid);
  per_container_kib = (double) (rss_at_n - rss_idle) / n_containers;
  sample_list (&list_quiet, NULL, 2);
  destroy_ms = destroy_all (ids);
  h_sleep (500);
  rss_after = bench_rss_kib (h->agent_pid);
  leftovers = bench_leftovers ();

  bench_json_begin (&j);
  bench_json_number (&j, "containers", n_containers);
  bench_json_number (&j, "clients", n_clients);
  bench_json_number (&j, "rss_idle_kib", (double) rss_idle);
  bench_json_number (&j, "rss_at_n_kib", (double) rss_at_n);
  bench_json_number (&j, "rss_per_container_kib", per_container_kib);
  bench_json_number (&j, "rss_after_destroy_kib", (double) rss_after);
  bench_json_number (&j, "list_p50_ms", bench_median (&list_at_n));
  bench_json_number (&j, "list_p99_ms", bench_quantile (&list_at_n, 0.99));
  bench_json_number (&j, "list_max_ms", bench_quantile (&list_at_n, 1.0));
  bench_json_number (&j, "list_samples", list_at_n.values->len);
  bench_json_number (&j, "bus_call_p50_ms", bench_median (&bus_at_n));
  bench_json_number (&j, "bus_call_p99_ms", bench_quantile (&bus_at_n, 0.99));
  bench_json_number (&j, "list_quiet_p50_ms", bench_median (&list_quiet));
  bench_json_number (&j, "list_quiet_p99_ms", bench_quantile (&list_quiet, 0.99));
  bench_json_number (&j, "list_ramp_p99_ms", bench_quantile (&list_ramp, 0.99));
  bench_json_number (&j, "ramp_ms", ramp_ms);
  bench_json_number (&j, "create_under_load_p50_ms", bench_median (&create_ramp));
  bench_json_number (&j, "client_cycles", cycles);
  bench_json_number (&j, "destroy_all_ms", destroy_ms);
  bench_json_number (&j, "leftovers", leftovers);
  machine = bench_machine (&j);

  printf ("bench/scale: %d live containers, %d clients creating and destroying, on %s\n\n",
          n_containers, n_clients, machine);
  printf ("agent RSS: idle %ld KiB, at %d containers %ld KiB (%.1f KiB per container), after "
          "destroying them %ld KiB\n\n",
          rss_idle, n_containers, rss_at_n, per_container_kib, rss_after);
  bench_table_head ("latency (ms)");
  bench_table_row ("List at N, clients running", &list_at_n);
  bench_table_row ("bus GetId at N, clients running", &bus_at_n);
  bench_table_row ("List at N, no clients", &list_quiet);
  bench_table_row ("List during the ramp", &list_ramp);
  bench_table_row ("Create during the ramp (ramp's)", &create_ramp);
  bench_table_row ("Create during the ramp (clients')", &create_clients);
  printf ("\nramp to %d: %.1f s; the clients made and destroyed %u containers meanwhile\n",
          n_containers, ramp_ms / 1000.0, cycles);
  printf ("destroy all %d (every Destroy sent at once): %.2f s\nleftovers on the host: %u\n",
          n_containers, destroy_ms / 1000.0, leftovers);
  if (json)
    bench_json_end (&j);
  else
    g_string_free (j.text, TRUE);
  bench_samples_clear (&list_ramp);
  bench_samples_clear (&list_at_n);
  bench_samples_clear (&list_quiet);
  bench_samples_clear (&bus_at_n);
  bench_samples_clear (&create_ramp);
  bench_samples_clear (&create_clients);
  ck_assert_msg (leftovers == 0, "the benchmark left %u things on the host", leftovers);
}

int
main (int argc, char **argv)
{
  GOptionEntry entries[] = {
    { "containers", 'n', 0, G_OPTION_ARG_INT, &n_containers, "Live containers (100)", "N" },
    { "clients", 'c', 0, G_OPTION_ARG_INT, &n_clients,
      "Clients creating and destroying meanwhile (4)", "C" },
    { "list-seconds", 's', 0, G_OPTION_ARG_INT, &list_seconds,
      "How long List is sampled at N (10)", "S" },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &json, "End with one line of JSON", NULL },
    { NULL, 0, 0, 0, NULL, NULL, NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- the many-containers benchmark");
  g_autoptr (GError) error = NULL;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || n_containers < 1
      || n_clients < 0 || list_seconds < 1)
    {
      g_printerr ("scale: %s\n", error ? error->message : "bad option value");
      return 2;
    }
  return bench_run ("scale", body);
}
