/* Integration-test harness: a private dbus-daemon playing the system bus, the real agent
 * binary on it, a GDBus client, and a check that the host is clean after every test.
 *
 * Each Check test runs in its own forked process (CK_FORK); the checked fixture
 * sc_test_setup/sc_test_teardown starts and stops the bus and the agent around it. The test
 * process is a child subreaper, so LXC monitors and orphans of a killed agent are reaped here
 * (this machine's PID 1 does not reap). */
#pragma once

#include <check.h>
#include <gio/gio.h>
#include <glib/gstdio.h>

/* Held by every integration suite (and to be held by anything else that starts an agent on
 * this host while tests may run): flock(1) it, e.g. `flock /run/softwarecontainer-tests.lock cmd`. */
#define SC_TEST_LOCK "/run/softwarecontainer-tests.lock"

typedef struct {
  char *tmpdir;             /* removed at teardown */
  char *bus_address;
  GPid bus_pid;
  GPid agent_pid;
  int agent_status;         /* wait status once the agent has exited, else -1 */
  char *agent_log;          /* agent's stdout+stderr */
  char *config_file;
  char *shared_mounts_dir;
  char *manifest_dir;         /* empty unless a test writes manifests there */
  char *default_manifest_dir; /* likewise */
  GDBusConnection *conn;    /* root client on the private bus */
  GQueue *exits;            /* ProcessStateChanged received: HExit * */
  guint signal_sub;
  char *lxcpath;
} Harness;

typedef struct {
  int container;
  guint pid;
  guint code;
} HExit;

extern Harness *h;

/* Check fixtures. sc_test_setup starts bus and agent; sc_test_setup_bus starts only the bus
 * (the test calls h_agent_start itself, e.g. after writing manifests). */
void sc_test_setup (void);
void sc_test_setup_bus (void);
void sc_test_teardown (void);

/* Makes a suite-runner main: runs the suite, returns non-zero on failure. */
int h_run_suite (Suite *suite);
/* A TCase with the standard fixture and a generous timeout. */
TCase *h_tcase (const char *name);
TCase *h_tcase_bus_only (const char *name);

/* Starts the agent with extra command-line arguments (NULL-terminated); waits until it owns
 * its name. Fails the test if it does not. */
void h_agent_start (const char *const *extra_args);
/* h_agent_start with environment changes applied last: "NAME=value" sets, "NAME" unsets (e.g.
 * "G_MESSAGES_DEBUG" for an agent that does not log every step). */
void h_agent_start_env (const char *const *extra_args, const char *const *extra_env);
/* Starts the agent and returns its exit status without waiting for the name (for tests of
 * fail-fast startup); the agent must exit within timeout_ms. */
int h_agent_run_to_exit (const char *const *args, const char *const *envp, int timeout_ms,
                         char **output);
/* SIGTERM (or sig) the agent and wait for it; returns the wait status. */
int h_agent_stop (int sig);
void h_write_manifest (gboolean is_default, const char *file_name, const char *json);

/* Raw call; returns the reply or NULL with error. */
GVariant *h_call (const char *method, GVariant *args, GError **error);
/* Asserts that error is org.freedesktop.DBus.Error.Failed with a message starting
 * "<code_word>: ". Frees nothing. */
void h_assert_failed (GError *error, const char *code_word);
/* Calls and asserts the call fails with code_word; args is consumed. */
void h_call_expect (const char *code_word, const char *method, GVariant *args);

int h_create (const char *config_json);
void h_destroy (int id);
void h_suspend (int id);
void h_resume (int id);
void h_bind_mount (int id, const char *host, const char *container, gboolean read_only);
void h_set_capabilities (int id, const char *const *caps);
int *h_list (guint *n);
/* env: "NAME=value" strings, NULL-terminated, or NULL */
int h_execute (int id, const char *command, const char *cwd, const char *output_file,
               const char *const *env);

/* Waits for ProcessStateChanged of (id, pid) at most timeout_ms; returns its exit code, or
 * fails the test. */
guint h_wait_exit (int id, int pid, int timeout_ms);
/* Runs command in the container and waits for it: returns its output (stdout+stderr) and
 * sets *code. */
char *h_run (int id, const char *command, guint *code);
/* h_run that asserts exit code 0 and returns the output. */
char *h_run_ok (int id, const char *command);

/* Iterates the main context for ms milliseconds (signals arrive). */
void h_sleep (int ms);
/* A path below the test's temp dir (g_free). */
char *h_path (const char *name);
/* Reads a whole file (g_free), NULL if missing. */
char *h_read (const char *path);

/* The network gateway's bridge of every test's agent: the tests' own, never the platform's.
 * Its network is inside SC_TEST_NET_PREFIX "0.0/16"; a test may change the bridge keys with
 * h_config_set but keeps the bridge name and that range. */
#define SC_TEST_BRIDGE "sctestbr0"
#define SC_TEST_NET_PREFIX "10.213."
#define SC_TEST_NETADDR SC_TEST_NET_PREFIX "0.0"
#define SC_TEST_BRIDGE_IP SC_TEST_NET_PREFIX "0.1"
/* The host ends of containers' veth pairs (SC_CONTAINER_VETH_PREFIX of container.h). */
#define SC_TEST_VETH_PREFIX "sceth"
/* Removes the tests' bridge and every NAT rule of the tests' networks, and puts IPv4
 * forwarding back as it was before the first test. Run by sc_test_teardown and, for a test
 * that failed (Check's fork mode ends it without its teardown), by h_run_suite at the end. */
void h_network_cleanup (void);
/* Sets key=value in the agent's config file (replacing the line, or adding it); value NULL
 * removes the key. For a test that changes the config before it starts the agent. */
void h_config_set (const char *key, const char *value);

/* The leak check run by sc_test_teardown; callable in a test too. Fails the test naming
 * every trace of a container left on the host. */
void h_assert_host_clean (void);
/* What that check finds, one "  what\n" line each; "" when the host is clean (g_free). Fails
 * nothing (the benchmarks report it). */
char *h_host_leftovers (void);

/* A second private dbus-daemon, session-like (anyone may own names and talk; message limits at
 * the protocol's maximum), for the D-Bus gateway's tests. Sets DBUS_SESSION_BUS_ADDRESS in this
 * process's environment, so that an agent started afterwards (h_agent_start) inherits it;
 * returns the address. It dies with the test process; h_session_bus_stop stops it earlier. */
const char *h_session_bus_start (void);
void h_session_bus_stop (void);
