/* bench/lifecycle: one app's life in a container through the agent, against the same life
 * driven by liblxc directly (issue 7, doc/performance.md).
 *
 *   lifecycle [--iterations N] [--warmup W] [--json]
 *
 * It starts a private bus and the agent of this build (the integration tests' harness), with
 * a default capability (env), an env capability and a file capability in its manifest dirs,
 * then runs N agent cycles
 *   Create → SetCapabilities (defaults + env + file) → BindMount of a host dir → Execute
 *   /bin/true → its ProcessStateChanged → Destroy
 * and, interleaved with them (so that both see the same machine), N direct-liblxc cycles on the
 * same root filesystem recipe and LXC config (sc_container_define_only): define → start
 * (daemonized, until sc-init runs) → attach /bin/true → wait for it → shutdown → remove every
 * trace (sc_container_remove_traces). It prints a table of medians and tails per step and,
 * with --json, a last line holding one JSON object. It holds the integration tests' lock for
 * the whole run and reports what the harness's leak check finds afterwards.
 *
 * Variants: --network (veth + 20 rules, and 100 rules through SetCapabilities against one
 * iptables run per rule) waits for the network gateway; see network_variant(). */
#include <fcntl.h>
#include <lxc/attach_options.h>
#include <lxc/lxccontainer.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "bench.h"
#include "cgroup.h"
#include "container.h"

/* baseline containers: SC-<n> names, so that the leak check and an agent's startup cleanup
 * know them, far above the IDs the agent hands out in one run */
#define BASELINE_FIRST_ID 1000000

static int iterations = 50;
static int warmup = 3;
static gboolean json;
static gboolean network;

/* A_LIST and A_EMPTY are not part of the cycle: what a call costs without work (List, answered
 * by the main thread) and with a trip through the worker thread (SetCapabilities with no
 * name once the defaults are applied), measured between ProcessStateChanged and Destroy. */
enum { A_CREATE, A_SETCAPS, A_BINDMOUNT, A_EXECUTE, A_EXIT_SIGNAL, A_DESTROY, A_CYCLE, A_LIST,
       A_EMPTY, A_N };
static const char *const agent_steps[A_N] = {
  "Create", "SetCapabilities", "BindMount", "Execute (call)",
  "Execute -> ProcessStateChanged", "Destroy", "whole cycle",
  "(List: a call, no work)", "(SetCapabilities []: via worker)",
};

enum { L_DEFINE, L_START, L_ATTACH, L_WAIT, L_STOP, L_DESTROY, L_CYCLE, L_N };
static const char *const lxc_steps[L_N] = {
  "define (rootfs + config + save)", "start (until sc-init runs)", "attach /bin/true (call)",
  "wait for its exit", "shutdown + wait STOPPED", "destroy + remove traces", "whole cycle",
};

static BenchSamples agent_samples[A_N];
static BenchSamples lxc_samples[L_N];
static ScRuntime baseline_runtime;
static char *bind_source;
static const char *const capabilities[] = { "bench.env", "bench.file", NULL };

/* ---- setup --------------------------------------------------------------------------------- */

static void
write_manifests (void)
{
  g_autofree char *file_source = h_path ("file-source");
  g_autofree char *file_caps = NULL;

  ck_assert (g_file_set_contents (file_source, "from the file gateway\n", -1, NULL));
  bind_source = h_path ("bind-source");
  ck_assert_int_eq (g_mkdir (bind_source, 0755), 0);
  h_write_manifest (TRUE, "defaults.json",
                    "{\"version\": \"1\", \"capabilities\": [{\"name\": \"bench.defaults\", "
                    "\"gateways\": [{\"id\": \"env\", \"config\": ["
                    " {\"name\": \"LANG\", \"value\": \"C.UTF-8\"},"
                    " {\"name\": \"TZ\", \"value\": \"UTC\"}]}]}]}");
  h_write_manifest (FALSE, "env.json",
                    "{\"version\": \"1\", \"capabilities\": [{\"name\": \"bench.env\", "
                    "\"gateways\": [{\"id\": \"env\", \"config\": ["
                    " {\"name\": \"BENCH\", \"value\": \"1\"}]}]}]}");
  file_caps = g_strdup_printf (
      "{\"version\": \"1\", \"capabilities\": [{\"name\": \"bench.file\", "
      "\"gateways\": [{\"id\": \"file\", \"config\": ["
      " {\"path-host\": \"%s\", \"path-container\": \"/opt/bench/file\", \"read-only\": true}"
      "]}]}]}",
      file_source);
  h_write_manifest (FALSE, "file.json", file_caps);
}

/* The runtime the agent makes for itself (agent.c), for sc_container_define_only. */
static void
baseline_runtime_init (void)
{
  static const char *const seccomp[] = { "/usr/share/lxc/config/common.seccomp",
                                         "/usr/local/share/lxc/config/common.seccomp" };
  g_autoptr (GError) error = NULL;

  baseline_runtime.lxcpath = h->lxcpath;
  baseline_runtime.shared_mounts_dir = h->shared_mounts_dir;
  baseline_runtime.init_path = (char *) SC_BUILD_DIR "/bin/sc-init";
  baseline_runtime.shutdown_timeout = 1; /* the harness's agent config says so too */
#ifdef SC_ENABLE_NETWORK_GATEWAY
  /* the agent gives every container a veth on its bridge: so does the baseline */
  baseline_runtime.bridge_device = (char *) SC_TEST_BRIDGE;
#endif
  for (guint i = 0; i < G_N_ELEMENTS (seccomp) && baseline_runtime.seccomp_profile == NULL; i++)
    if (g_file_test (seccomp[i], G_FILE_TEST_IS_REGULAR))
      baseline_runtime.seccomp_profile = (char *) seccomp[i];
  /* liblxc's daemonized start moves the caller into the monitor's cgroup: the baseline goes
   * back after each start as the agent does, else those cgroups could not be removed */
  ck_assert_msg (sc_cgroup_remember_self (&error), "%s", error ? error->message : "");
}

/* ---- the two cycles ----------------------------------------------------------------------- */

static void
agent_cycle (gboolean record)
{
  const char *const no_capabilities[] = { NULL };
  double t[A_CYCLE + 1], probe[3];
  int id, pid;
  guint code, n;

  t[0] = bench_now_ms ();
  id = h_create ("[]");
  t[1] = bench_now_ms ();
  h_set_capabilities (id, capabilities);
  t[2] = bench_now_ms ();
  h_bind_mount (id, bind_source, "/mnt/bench", TRUE);
  t[3] = bench_now_ms ();
  pid = h_execute (id, "/bin/true", "/", NULL, NULL);
  t[4] = bench_now_ms ();
  code = h_wait_exit (id, pid, 10000);
  t[5] = bench_now_ms ();
  ck_assert_uint_eq (code, 0);
  probe[0] = bench_now_ms ();
  g_free (h_list (&n));
  probe[1] = bench_now_ms ();
  h_set_capabilities (id, no_capabilities);
  probe[2] = bench_now_ms ();
  h_destroy (id);
  t[6] = bench_now_ms ();
  if (!record)
    return;
  t[6] -= probe[2] - probe[0];
  for (int s = 0; s < A_CYCLE; s++)
    bench_samples_add (&agent_samples[s], t[s + 1] - t[s]);
  bench_samples_add (&agent_samples[A_CYCLE], t[6] - t[0]);
  bench_samples_add (&agent_samples[A_LIST], probe[1] - probe[0]);
  bench_samples_add (&agent_samples[A_EMPTY], probe[2] - probe[1]);
}

/* Until the container's init is sc-init with its signals set up (it renames itself then): a
 * halt signal sent earlier is lost (lxc-notes.md). */
static void
wait_init_is_sc_init (pid_t init_pid)
{
  g_autofree char *comm_path = g_strdup_printf ("/proc/%d/comm", (int) init_pid);
  double deadline = bench_now_ms () + 5000;
  char *comm = NULL;

  while (!g_file_get_contents (comm_path, &comm, NULL, NULL) || strcmp (comm, "sc-init\n") != 0)
    {
      g_clear_pointer (&comm, g_free);
      ck_assert_msg (bench_now_ms () < deadline, "the baseline's init did not start in 5 s");
      g_usleep (50);
    }
  g_free (comm);
}

static void
lxc_cycle (int n, gboolean record)
{
  g_autofree char *name = g_strdup_printf ("SC-%d", BASELINE_FIRST_ID + n);
  g_autoptr (GError) error = NULL;
  lxc_attach_options_t options = LXC_ATTACH_OPTIONS_DEFAULT;
  lxc_attach_command_t command = { (char *) "/bin/true", (char *[]){ (char *) "/bin/true", NULL } };
  struct lxc_container *c;
  double t[L_N + 1];
  pid_t init_pid, pid = -1;
  int null_in, null_out, status = -1;
  gboolean ok;

  t[0] = bench_now_ms ();
  ok = sc_container_define_only (&baseline_runtime, name, &error);
  ck_assert_msg (ok, "define %s: %s", name, error ? error->message : "");
  t[1] = bench_now_ms ();

  c = lxc_container_new (name, baseline_runtime.lxcpath);
  ck_assert (c != NULL);
  c->want_daemonize (c, TRUE);
  c->want_close_all_fds (c, TRUE);
  ok = c->start (c, 0, NULL);
  ck_assert_msg (sc_cgroup_return_self (&error), "%s", error ? error->message : "");
  ck_assert_msg (ok, "liblxc could not start %s", name);
  init_pid = c->init_pid (c);
  wait_init_is_sc_init (init_pid);
  t[2] = bench_now_ms ();

  null_in = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  null_out = open ("/dev/null", O_WRONLY | O_CLOEXEC);
  options.attach_flags = LXC_ATTACH_DEFAULT | LXC_ATTACH_NO_NEW_PRIVS;
  options.env_policy = LXC_ATTACH_CLEAR_ENV;
  options.stdin_fd = null_in;
  options.stdout_fd = null_out;
  options.stderr_fd = null_out;
  ok = c->attach (c, lxc_attach_run_command, &command, &options, &pid) == 0 && pid > 0;
  sc_container_close_leaked_pidfds (init_pid); /* liblxc leaks one per attach */
  close (null_in);
  close (null_out);
  ck_assert_msg (ok, "liblxc could not attach to %s", name);
  t[3] = bench_now_ms ();
  ck_assert_int_eq (waitpid (pid, &status, 0), pid);
  ck_assert (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  t[4] = bench_now_ms ();

  ok = c->shutdown (c, (int) baseline_runtime.shutdown_timeout) || c->stop (c);
  ck_assert_msg (ok && c->wait (c, "STOPPED", 10), "liblxc could not stop %s", name);
  lxc_container_put (c);
  t[5] = bench_now_ms ();
  ok = sc_container_remove_traces (&baseline_runtime, name, &error);
  ck_assert_msg (ok, "remove %s: %s", name, error ? error->message : "");
  t[6] = bench_now_ms ();
  if (!record)
    return;
  for (int s = 0; s < L_CYCLE; s++)
    bench_samples_add (&lxc_samples[s], t[s + 1] - t[s]);
  bench_samples_add (&lxc_samples[L_CYCLE], t[6] - t[0]);
}

/* ---- the network variant ------------------------------------------------------------------- */

/* The hook for the network gateway (being written): when gateways/network.c lands, this
 * writes a capability with a veth and 20 rules into the manifest dir, adds its name to the
 * capabilities of agent_cycle, and adds the rule-apply measure (100 rules through
 * SetCapabilities against one `iptables` run per rule in the same namespace, ratio printed). */
static gboolean
network_variant (void)
{
#ifdef SC_ENABLE_NETWORK_GATEWAY
  g_printerr ("lifecycle: --network: the network gateway is built, but this benchmark does "
              "not measure it yet (bench/lifecycle.c, network_variant)\n");
#else
  g_printerr ("lifecycle: --network: this build has no network gateway\n");
#endif
  return FALSE;
}

/* ---- report ------------------------------------------------------------------------------- */

static void
report (guint leftovers, long rss_kib)
{
  static const char *const agent_keys[A_N] = {
    "create_ms", "setcaps_ms", "bindmount_ms", "execute_ms", "exit_signal_ms", "destroy_ms",
    "agent_cycle_ms", "list_call_ms", "worker_call_ms",
  };
  static const char *const lxc_keys[L_N] = {
    "liblxc_define_ms", "liblxc_start_ms", "liblxc_attach_ms", "liblxc_wait_ms",
    "liblxc_stop_ms", "liblxc_destroy_ms", "liblxc_cycle_ms",
  };
  g_autofree char *machine = NULL;
  double agent = bench_median (&agent_samples[A_CYCLE]);
  double lxc = bench_median (&lxc_samples[L_CYCLE]);
  BenchJson j;

  bench_json_begin (&j);
  bench_json_number (&j, "agent_cycle_ms", agent);
  bench_json_number (&j, "liblxc_cycle_ms", lxc);
  bench_json_number (&j, "ratio", agent / lxc);
  bench_json_number (&j, "p95_cycle_ms", bench_quantile (&agent_samples[A_CYCLE], 0.95));
  for (int s = 0; s < A_N; s++)
    if (s != A_CYCLE)
      bench_json_number (&j, agent_keys[s], bench_median (&agent_samples[s]));
  bench_json_number (&j, "liblxc_p95_cycle_ms", bench_quantile (&lxc_samples[L_CYCLE], 0.95));
  for (int s = 0; s < L_CYCLE; s++)
    bench_json_number (&j, lxc_keys[s], bench_median (&lxc_samples[s]));
  bench_json_number (&j, "iterations", iterations);
  bench_json_number (&j, "agent_rss_kib", (double) rss_kib);
  bench_json_number (&j, "leftovers", leftovers);
  machine = bench_machine (&j);

  printf ("bench/lifecycle: %d iterations (+%d warm-up) on %s\n\n", iterations, warmup, machine);
  bench_table_head ("agent, over D-Bus (ms)");
  for (int s = 0; s < A_N; s++)
    bench_table_row (agent_steps[s], &agent_samples[s]);
  printf ("\n");
  bench_table_head ("liblxc directly (ms)");
  for (int s = 0; s < L_N; s++)
    bench_table_row (lxc_steps[s], &lxc_samples[s]);
  printf ("\nagent / liblxc (medians): %.2f   agent RSS after the run: %ld KiB   leftovers: %u\n",
          agent / lxc, rss_kib, leftovers);
  if (json)
    bench_json_end (&j);
  else
    g_string_free (j.text, TRUE);
}

static void
body (void)
{
  guint leftovers;
  long rss_kib;

  for (int s = 0; s < A_N; s++)
    bench_samples_init (&agent_samples[s]);
  for (int s = 0; s < L_N; s++)
    bench_samples_init (&lxc_samples[s]);
  write_manifests ();
  baseline_runtime_init ();
  bench_agent_start ();

  for (int i = 0; i < warmup + iterations; i++)
    {
      gboolean record = i >= warmup;
      /* alternate which goes first: neither always runs right after the other's teardown */
      if (i % 2 == 0)
        {
          agent_cycle (record);
          lxc_cycle (i, record);
        }
      else
        {
          lxc_cycle (i, record);
          agent_cycle (record);
        }
    }
  rss_kib = bench_rss_kib (h->agent_pid);
  leftovers = bench_leftovers ();
  report (leftovers, rss_kib);
  ck_assert_msg (leftovers == 0, "the benchmark left %u things on the host", leftovers);
}

int
main (int argc, char **argv)
{
  GOptionEntry entries[] = {
    { "iterations", 'n', 0, G_OPTION_ARG_INT, &iterations, "Cycles of each kind (50)", "N" },
    { "warmup", 'w', 0, G_OPTION_ARG_INT, &warmup, "Unrecorded cycles first (3)", "W" },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &json, "End with one line of JSON", NULL },
    { "network", 0, 0, G_OPTION_ARG_NONE, &network,
      "The network variant (waits for the network gateway)", NULL },
    { NULL, 0, 0, 0, NULL, NULL, NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- the container cycle benchmark");
  g_autoptr (GError) error = NULL;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || iterations < 1 || warmup < 0)
    {
      g_printerr ("lifecycle: %s\n", error ? error->message : "--iterations must be at least 1");
      return 2;
    }
  if (network && !network_variant ())
    return 77;
  return bench_run ("lifecycle", body);
}
