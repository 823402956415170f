/* The network gateway through the real agent, with real containers, a real bridge and a test
 * host: a network namespace of the test's own ("sctest-host") with a veth into the agent's
 * bridge (the tests' own bridge, SC_TEST_BRIDGE), the address TH_ADDR, and small TCP and UDP
 * servers (a Python script, also bind-mounted into the containers as the client). Every packet
 * stays on this machine: the containers only ever talk to the test host, the bridge and
 * themselves.
 *
 * Covered: no network capability means eth0 down and nothing reaches the test host; OUTGOING
 * rules by port and protocol; allow-all (tcp, udp, iputils ping); INCOMING rules by the remote
 * end's source port; a hostname rule (the test host's name put in /etc/hosts for the test and
 * the file restored byte for byte); two containers get different addresses; the app can neither
 * change its rules or its interface nor open raw or packet sockets; a second configuration is
 * BadState and the first stays; malformed configs are GatewayConfig and change nothing; a later
 * gateway's failure undoes the network setup; 100 rules in one commit; the shipped example
 * manifests; Destroy leaves no veth; addresses wrap around and run out clearly; the startup
 * checks (bridge missing with create-bridge=false, contradictory keys); the NAT rule is not
 * duplicated by a restart and the bridge stays after the agent exits; an existing bridge is used
 * as it is with create-bridge=false. The rules are read as an integrator would, with nsenter and
 * iptables-legacy in the container's namespace. The harness removes the bridge and NAT rule
 * after each test; this file removes the test host and the /etc/hosts entry after each test
 * (and, for a test that failed and so skipped its teardown, before the next one and at the end
 * of the run). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define TH_NS "sctest-host"
#define TH_VETH "sctesth0"
#define TH_ADDR SC_TEST_NET_PREFIX "0.250"
#define TH_NAME "sc-testhost.test"
#define TCP_OPEN 8080
#define TCP_OTHER 8081
#define UDP_PORT 5353

#ifdef SC_ENABLE_NETWORK_GATEWAY

/* The servers and clients, one script for both sides. */
static const char net_script[] =
    "import socket, sys, threading, time\n"
    "def tcp_loop(s, port):\n"
    "    while True:\n"
    "        c, addr = s.accept()\n"
    "        try:\n"
    "            c.settimeout(2)\n"
    "            c.recv(100)\n"
    "            c.sendall(b'tcp %d from %s:%d\\n' % (port, addr[0].encode(), addr[1]))\n"
    "        except OSError:\n"
    "            pass\n"
    "        c.close()\n"
    "def udp_loop(s, port):\n"
    "    while True:\n"
    "        data, addr = s.recvfrom(100)\n"
    "        s.sendto(b'udp %d from %s\\n' % (port, addr[0].encode()), addr)\n"
    "def serve(ready, specs):\n"
    "    for spec in specs:\n"
    "        proto, port = spec.split(':')\n"
    "        port = int(port)\n"
    "        if proto == 'tcp':\n"
    "            s = socket.socket()\n"
    "            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
    "            s.bind(('0.0.0.0', port))\n"
    "            s.listen(16)\n"
    "            threading.Thread(target=tcp_loop, args=(s, port), daemon=True).start()\n"
    "        else:\n"
    "            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
    "            s.bind(('0.0.0.0', port))\n"
    "            threading.Thread(target=udp_loop, args=(s, port), daemon=True).start()\n"
    "    if ready == '-':\n"
    "        print('ready', flush=True)\n"
    "    else:\n"
    "        open(ready, 'w').write('ready\\n')\n"
    "    while True:\n"
    "        time.sleep(3600)\n"
    "def tcp(host, port, sport=None):\n"
    "    s = socket.socket()\n"
    "    s.settimeout(1.5)\n"
    "    try:\n"
    "        if sport is not None:\n"
    "            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
    "            s.bind(('0.0.0.0', int(sport)))\n"
    "        s.connect((host, int(port)))\n"
    "        s.sendall(b'hi\\n')\n"
    "        print(s.recv(100).decode().strip())\n"
    "        return 0\n"
    "    except OSError as e:\n"
    "        print('tcp %s blocked: %s' % (port, type(e).__name__))\n"
    "        return 1\n"
    "def udp(host, port):\n"
    "    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
    "    s.settimeout(1.5)\n"
    "    try:\n"
    "        s.sendto(b'hi', (host, int(port)))\n"
    "        print(s.recvfrom(100)[0].decode().strip())\n"
    "        return 0\n"
    "    except OSError as e:\n"
    "        print('udp %s blocked: %s' % (port, type(e).__name__))\n"
    "        return 1\n"
    "def sockets():\n"
    "    kinds = [('packet', socket.AF_PACKET, socket.SOCK_RAW, 0),\n"
    "             ('raw', socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP),\n"
    "             ('raw-tcp', socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP),\n"
    "             ('icmp-dgram', socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP)]\n"
    "    for name, fam, typ, proto in kinds:\n"
    "        try:\n"
    "            socket.socket(fam, typ, proto).close()\n"
    "            print('%s: open' % name)\n"
    "        except OSError as e:\n"
    "            print('%s: %s' % (name, type(e).__name__))\n"
    "    return 0\n"
    "def loopback():\n"
    "    s = socket.socket()\n"
    "    s.bind(('127.0.0.1', 0))\n"
    "    s.listen(1)\n"
    "    c = socket.create_connection(s.getsockname(), timeout=2)\n"
    "    s.accept()[0].sendall(b'lo ok')\n"
    "    print(c.recv(10).decode())\n"
    "    return 0\n"
    "cmd = sys.argv[1]\n"
    "if cmd == 'serve':\n"
    "    serve(sys.argv[2], sys.argv[3:])\n"
    "elif cmd == 'tcp':\n"
    "    sys.exit(tcp(*sys.argv[2:]))\n"
    "elif cmd == 'udp':\n"
    "    sys.exit(udp(*sys.argv[2:]))\n"
    "elif cmd == 'sockets':\n"
    "    sys.exit(sockets())\n"
    "elif cmd == 'loopback':\n"
    "    sys.exit(loopback())\n";

/* ---- the test host and /etc/hosts ---------------------------------------------------------- */

/* /etc/hosts as it was, while a test has changed it. A file, not memory: a failed test ends
 * without its teardown (Check's fork mode) and the next test or main() restores from it. */
#define HOSTS_BACKUP "/run/sc-test-network.hosts"

static GPid th_server_pid;

/* Runs a command line, stderr discarded, stdout into *out (or discarded). No ck_* calls: also
 * used outside a test (main's cleanup). */
static gboolean
run_cmd (const char *cmd, char **out)
{
  g_auto (GStrv) argv = NULL;
  g_autofree char *discard = NULL;
  int status = -1;

  if (!g_shell_parse_argv (cmd, NULL, &argv, NULL)
      || !g_spawn_sync (NULL, argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                        NULL, out != NULL ? out : &discard, NULL, &status, NULL))
    return FALSE;
  return WIFEXITED (status) && WEXITSTATUS (status) == 0;
}

static void
run_ok (const char *cmd)
{
  ck_assert_msg (run_cmd (cmd, NULL), "'%s' failed", cmd);
}

/* Writes a file in place (/etc/hosts may be a bind mount: no rename). */
static gboolean
write_in_place (const char *path, const char *data, gsize len)
{
  FILE *f = fopen (path, "w");
  gboolean ok;

  if (f == NULL)
    return FALSE;
  ok = fwrite (data, 1, len, f) == len;
  return fclose (f) == 0 && ok;
}

static void
hosts_restore (void)
{
  g_autofree char *saved = NULL;
  gsize len = 0;

  if (!g_file_get_contents (HOSTS_BACKUP, &saved, &len, NULL))
    return;
  if (!write_in_place ("/etc/hosts", saved, len))
    {
      g_printerr ("cannot restore /etc/hosts from %s: %s\n", HOSTS_BACKUP, g_strerror (errno));
      return;
    }
  unlink (HOSTS_BACKUP);
}

static void
hosts_add_test_host (void)
{
  g_autofree char *saved = NULL;
  g_autofree char *text = NULL;
  gsize len = 0;

  ck_assert (!g_file_test (HOSTS_BACKUP, G_FILE_TEST_EXISTS));
  ck_assert (g_file_get_contents ("/etc/hosts", &saved, &len, NULL));
  ck_assert (g_file_set_contents (HOSTS_BACKUP, saved, (gssize) len, NULL));
  text = g_strdup_printf ("%s%s%s %s\n", saved, len > 0 && saved[len - 1] != '\n' ? "\n" : "",
                          TH_ADDR, TH_NAME);
  ck_assert (write_in_place ("/etc/hosts", text, strlen (text)));
}

/* Removes the test host (its servers, namespace and veth) and restores /etc/hosts: after each
 * test, before each test (what a failed one left) and at the end of the run. */
static void
th_cleanup (void)
{
  g_autofree char *pids = NULL;

  if (th_server_pid != 0)
    {
      int status;
      kill (th_server_pid, SIGKILL);
      waitpid (th_server_pid, &status, 0);
      th_server_pid = 0;
    }
  /* processes of a failed test's test host keep its namespace (and veth) alive */
  if (run_cmd ("ip netns pids " TH_NS, &pids))
    {
      g_auto (GStrv) list = g_strsplit (pids, "\n", -1);
      for (char **p = list; *p != NULL; p++)
        if (**p != '\0')
          kill (atoi (*p), SIGKILL);
    }
  run_cmd ("ip netns del " TH_NS, NULL);
  if (g_file_test ("/sys/class/net/" TH_VETH, G_FILE_TEST_EXISTS))
    run_cmd ("ip link del " TH_VETH, NULL);
  hosts_restore ();
}

static char *
script_path (void)
{
  return h_path ("nettest/net.py");
}

static void
write_script (void)
{
  g_autofree char *dir = h_path ("nettest");
  g_autofree char *path = script_path ();

  g_mkdir (dir, 0755);
  ck_assert (g_file_set_contents (path, net_script, -1, NULL));
}

/* The test host on the agent's bridge (which exists once the agent has started). */
static void
th_start (void)
{
  g_autofree char *script = script_path ();
  g_autofree char *ready = h_path ("th-ready");
  /* 80, 443 and 53 for the shipped web-access example */
  g_autofree char *ports = g_strdup_printf ("tcp:%d tcp:%d udp:%d tcp:80 tcp:443 udp:53", TCP_OPEN,
                                            TCP_OTHER, UDP_PORT);
  g_autofree char *cmd = g_strdup_printf ("ip netns exec " TH_NS " /usr/bin/python3 %s serve %s %s",
                                          script, ready, ports);
  g_auto (GStrv) argv = NULL;
  g_autoptr (GError) error = NULL;
  gint64 deadline;

  run_ok ("ip netns add " TH_NS);
  run_ok ("ip link add " TH_VETH " type veth peer name eth0 netns " TH_NS);
  run_ok ("ip link set " TH_VETH " master " SC_TEST_BRIDGE " up");
  run_ok ("ip netns exec " TH_NS " ip addr add " TH_ADDR "/24 dev eth0");
  run_ok ("ip netns exec " TH_NS " ip link set eth0 up");
  run_ok ("ip netns exec " TH_NS " ip link set lo up");
  ck_assert (g_shell_parse_argv (cmd, NULL, &argv, NULL));
  if (!g_spawn_async (NULL, argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD, NULL,
                      NULL, &th_server_pid, &error))
    ck_abort_msg ("cannot start the test host's servers: %s", error->message);
  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (!g_file_test (ready, G_FILE_TEST_EXISTS))
    {
      ck_assert_msg (g_get_monotonic_time () < deadline, "the test host's servers did not start");
      g_usleep (10000);
    }
}

static void
net_setup (void)
{
  th_cleanup ();
  sc_test_setup ();
  write_script ();
  th_start ();
}

static void
net_setup_bus (void)
{
  th_cleanup ();
  sc_test_setup_bus ();
  write_script ();
}

static void
net_teardown (void)
{
  th_cleanup ();
  sc_test_teardown ();
}

static TCase *
net_tcase (const char *name, gboolean with_agent)
{
  TCase *tc = tcase_create (name);

  tcase_add_checked_fixture (tc, with_agent ? net_setup : net_setup_bus, net_teardown);
  tcase_set_timeout (tc, 300);
  return tc;
}

/* ---- helpers ------------------------------------------------------------------------------- */

static void
assert_contains (const char *text, const char *part)
{
  ck_assert_msg (text != NULL && strstr (text, part) != NULL, "'%s' not in:\n%s", part,
                 text ? text : "(nothing)");
}

/* A manifest with one capability per (name, network config) pair. */
static void
write_caps (const char *file_name, const char *const *names_and_configs)
{
  g_autoptr (GString) json = g_string_new ("{\"version\": \"1\", \"capabilities\": [");

  for (guint i = 0; names_and_configs[i] != NULL; i += 2)
    g_string_append_printf (json,
                            "%s{\"name\": \"%s\", \"gateways\": [{\"id\": \"network\", "
                            "\"config\": %s}]}",
                            i > 0 ? ", " : "", names_and_configs[i], names_and_configs[i + 1]);
  g_string_append (json, "]}");
  h_write_manifest (FALSE, file_name, json->str);
}

/* Writes the capabilities and restarts the agent so that it reads them (the fixture started
 * it before the test could write manifests; the bridge and the test host stay). */
static void
restart_with_caps (const char *const *names_and_configs)
{
  int status;

  write_caps ("net.json", names_and_configs);
  status = h_agent_stop (SIGTERM);
  ck_assert_msg (WIFEXITED (status) && WEXITSTATUS (status) == 0, "agent exit status 0x%x",
                 status);
  h_agent_start (NULL);
}

/* A container with the script at /nettest and the given capabilities (NULL: none). */
static int
net_container (const char *capability)
{
  g_autofree char *dir = h_path ("nettest");
  int id = h_create ("[]");

  h_bind_mount (id, dir, "/nettest", TRUE);
  if (capability != NULL)
    {
      const char *caps[] = { capability, NULL };
      h_set_capabilities (id, caps);
    }
  return id;
}

/* Runs the script in the container: returns its output; *ok tells whether it exited 0. */
static char *
client (int id, const char *args, gboolean *ok)
{
  g_autofree char *cmd = g_strdup_printf ("/usr/bin/python3 /nettest/net.py %s", args);
  guint code;
  char *out = h_run (id, cmd, &code);

  *ok = code == 0;
  return out;
}

static void
expect_reach (int id, const char *args, gboolean reachable)
{
  gboolean ok;
  g_autofree char *out = client (id, args, &ok);

  ck_assert_msg (ok == reachable, "container %d: '%s' %s; output: %s", id, args,
                 reachable ? "was blocked" : "got through", out);
}

/* The host PID of a process in the container (for nsenter), kept running until Destroy. */
static int
container_pid (int id)
{
  return h_execute (id, "sleep 600", "/", "", NULL);
}

/* `iptables-legacy -S` in the container's network namespace, as an integrator reads it. */
static char *
rules_of (int id)
{
  int pid = container_pid (id);
  g_autofree char *cmd = g_strdup_printf ("nsenter -t %d -n iptables-legacy -S", pid);
  char *out = NULL;

  ck_assert_msg (run_cmd (cmd, &out), "'%s' failed", cmd);
  return out;
}

static const char base_rules[] = "-P INPUT DROP\n"
                                 "-P FORWARD DROP\n"
                                 "-P OUTPUT DROP\n"
                                 "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n"
                                 "-A INPUT -i lo -j ACCEPT\n";
static const char base_output_rules[]
    = "-A OUTPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n"
      "-A OUTPUT -o lo -j ACCEPT\n";

static void
assert_rules (int id, const char *input_rules, const char *output_rules)
{
  g_autofree char *rules = rules_of (id);
  g_autofree char *expected = g_strconcat (base_rules, input_rules, base_output_rules,
                                           output_rules, NULL);

  ck_assert_msg (strcmp (rules, expected) == 0, "rules of container %d:\n%s\nexpected:\n%s", id,
                 rules, expected);
}

/* eth0 inside: its IPv4 address ("" when none) and whether it is up. */
static char *
eth0_address (int id, gboolean *up)
{
  g_autofree char *link = h_run_ok (id, "ip -o link show dev eth0");
  g_autofree char *addr = h_run_ok (id, "ip -4 -o addr show dev eth0");
  const char *inet = strstr (addr, "inet ");

  *up = strstr (link, ",UP") != NULL || strstr (link, "<UP") != NULL;
  if (inet == NULL)
    return g_strdup ("");
  inet += strlen ("inet ");
  return g_strndup (inet, strcspn (inet, " "));
}

static char *
set_caps_fails (const char *code_word, int id, const char *const *caps)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) r = h_call ("SetCapabilities", g_variant_new ("(i^as)", id, caps), &error);

  h_assert_failed (error, code_word);
  return g_strdup (error->message);
}

static gboolean
veth_exists (int id)
{
  g_autofree char *path = g_strdup_printf ("/sys/class/net/" SC_TEST_VETH_PREFIX "%d", id);
  return g_file_test (path, G_FILE_TEST_EXISTS);
}

#define TCP(port) "tcp " TH_ADDR " " G_STRINGIFY (port)
#define UDP(port) "udp " TH_ADDR " " G_STRINGIFY (port)

/* ---- no network ---------------------------------------------------------------------------- */

START_TEST (no_capability_no_network)
{
  int id = net_container (NULL);
  g_autofree char *addr = NULL;
  g_autofree char *master = NULL;
  g_autofree char *rules = NULL;
  gboolean up = TRUE;

  /* the veth pair is there, on the bridge, with eth0 down inside and no address */
  ck_assert (veth_exists (id));
  {
    g_autofree char *link = g_strdup_printf ("/sys/class/net/" SC_TEST_VETH_PREFIX "%d/master", id);
    master = g_file_read_link (link, NULL);
  }
  ck_assert_msg (master != NULL && g_str_has_suffix (master, "/" SC_TEST_BRIDGE), "master %s",
                 master);
  addr = eth0_address (id, &up);
  ck_assert_msg (!up, "eth0 is up without a network capability");
  ck_assert_str_eq (addr, "");
  expect_reach (id, TCP (TCP_OPEN), FALSE);
  expect_reach (id, UDP (UDP_PORT), FALSE);
  /* loopback works, and nothing was written into the table */
  h_run_ok (id, "/usr/bin/python3 /nettest/net.py loopback");
  rules = rules_of (id);
  ck_assert_str_eq (rules, "-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n");
  h_destroy (id);
  ck_assert (!veth_exists (id));
}
END_TEST

/* ---- outgoing ------------------------------------------------------------------------------ */

START_TEST (outgoing_tcp_port_only)
{
  const char *caps[] = { "test.web", "[{\"direction\": \"OUTGOING\", \"allow\": [{\"host\": \""
                                      TH_ADDR "\", \"ports\": 8080, \"protocols\": \"tcp\"}]}]",
                         NULL };
  int id;
  gboolean ok, up;
  g_autofree char *out = NULL;
  g_autofree char *addr = NULL;

  restart_with_caps (caps);
  id = net_container ("test.web");
  addr = eth0_address (id, &up);
  ck_assert (up);
  ck_assert_str_eq (addr, SC_TEST_NET_PREFIX "0.2/24");
  out = client (id, TCP (TCP_OPEN), &ok);
  ck_assert_msg (ok, "tcp 8080: %s", out);
  /* the test host sees the container's own address (no NAT inside the network) */
  assert_contains (out, "tcp 8080 from " SC_TEST_NET_PREFIX "0.2:");
  /* what an app sees (doc/gateways/network.md): a dropped SYN is retried until the connect
   * times out; a dropped datagram fails the send at once with EPERM */
  g_free (out);
  out = client (id, TCP (TCP_OTHER), &ok);
  ck_assert (!ok);
  assert_contains (out, "TimeoutError");
  g_free (out);
  out = client (id, UDP (UDP_PORT), &ok);
  ck_assert (!ok);
  assert_contains (out, "PermissionError");
  assert_rules (id, "", "-A OUTPUT -d " TH_ADDR "/32 -p tcp -m tcp --dport 8080 -j ACCEPT\n");
  h_destroy (id);
}
END_TEST

START_TEST (allow_all_tcp_udp_icmp)
{
  const char *caps[] = { "test.all", "[{\"direction\": \"OUTGOING\", \"allow\": [{\"host\": \"*\"}]}]",
                         NULL };
  int id;
  g_autofree char *ping = NULL;

  restart_with_caps (caps);
  id = net_container ("test.all");
  expect_reach (id, TCP (TCP_OPEN), TRUE);
  expect_reach (id, TCP (TCP_OTHER), TRUE);
  expect_reach (id, UDP (UDP_PORT), TRUE);
  /* iputils ping: an ICMP datagram socket, allowed by ping_group_range, through the rules */
  ping = h_run_ok (id, "ping -c 1 -W 2 " TH_ADDR);
  assert_contains (ping, "1 received");
  /* and the bridge (the host) answers too */
  h_run_ok (id, "ping -c 1 -W 2 " SC_TEST_BRIDGE_IP);
  assert_rules (id, "", "-A OUTPUT -j ACCEPT\n");
  h_destroy (id);
}
END_TEST

START_TEST (icmp_only_allows_ping)
{
  const char *caps[] = {
    "test.ping",
    "[{\"direction\": \"OUTGOING\", \"allow\": [{\"host\": \"" TH_ADDR "\", \"protocols\": "
    "[\"icmp\"]}]}]",
    NULL
  };
  int id;
  guint code;
  g_autofree char *busybox = NULL;

  restart_with_caps (caps);
  id = net_container ("test.ping");
  h_run_ok (id, "ping -c 1 -W 2 " TH_ADDR);
  expect_reach (id, TCP (TCP_OPEN), FALSE);
  expect_reach (id, UDP (UDP_PORT), FALSE);
  /* busybox's ping wants a raw socket, which needs CAP_NET_RAW: it fails (see the docs) */
  busybox = h_run (id, "busybox ping -c 1 -W 2 " TH_ADDR, &code);
  ck_assert_msg (code != 127, "busybox is not installed (scripts/setup.sh installs it)");
  ck_assert_msg (code != 0, "busybox ping worked without CAP_NET_RAW: %s", busybox);
  ck_assert_msg (strstr (busybox, "ermission") != NULL || strstr (busybox, "not permitted") != NULL,
                 "busybox ping failed for another reason than the missing raw socket: %s", busybox);
  assert_rules (id, "", "-A OUTPUT -d " TH_ADDR "/32 -p icmp -j ACCEPT\n");
  h_destroy (id);
}
END_TEST

START_TEST (ports_ranges_and_udp)
{
  const char *caps[] = {
    "test.mixed",
    "[{\"direction\": \"OUTGOING\", \"allow\": ["
    "{\"host\": \"" SC_TEST_NET_PREFIX "0.0/24\", \"ports\": [5353, \"8079-8080\"]}]}]",
    NULL
  };
  int id;

  restart_with_caps (caps);
  id = net_container ("test.mixed");
  /* ports without protocols: tcp and udp */
  expect_reach (id, TCP (TCP_OPEN), TRUE);
  expect_reach (id, UDP (UDP_PORT), TRUE);
  expect_reach (id, TCP (TCP_OTHER), FALSE);
  assert_rules (id, "",
                "-A OUTPUT -d " SC_TEST_NET_PREFIX "0.0/24 -p tcp -m tcp --dport 5353 -j ACCEPT\n"
                "-A OUTPUT -d " SC_TEST_NET_PREFIX "0.0/24 -p tcp -m tcp --dport 8079:8080 -j ACCEPT\n"
                "-A OUTPUT -d " SC_TEST_NET_PREFIX "0.0/24 -p udp -m udp --dport 5353 -j ACCEPT\n"
                "-A OUTPUT -d " SC_TEST_NET_PREFIX "0.0/24 -p udp -m udp --dport 8079:8080 -j ACCEPT\n");
  h_destroy (id);
}
END_TEST

/* ---- incoming ------------------------------------------------------------------------------ */

/* From the test host to the container's port 9000, from a given source port. */
static gboolean
th_connect (const char *container_addr, int sport)
{
  g_autofree char *script = script_path ();
  g_autofree char *cmd = g_strdup_printf ("ip netns exec " TH_NS " /usr/bin/python3 %s tcp %s 9000 %d",
                                          script, container_addr, sport);
  return run_cmd (cmd, NULL);
}

START_TEST (incoming_by_remote_source_port)
{
  const char *caps[] = {
    "test.incoming",
    "[{\"direction\": \"INCOMING\", \"allow\": [{\"host\": \"" TH_ADDR "\", \"ports\": 40000, "
    "\"protocols\": \"tcp\"}]}]",
    NULL
  };
  g_autofree char *out_file = h_path ("server.out");
  g_autofree char *addr = NULL;
  g_autofree char *ip = NULL;
  gint64 deadline;
  gboolean up;
  int id;

  restart_with_caps (caps);
  id = net_container ("test.incoming");
  addr = eth0_address (id, &up);
  ip = g_strndup (addr, strcspn (addr, "/"));
  h_execute (id, "/usr/bin/python3 /nettest/net.py serve - tcp:9000", "/", out_file, NULL);
  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  for (;;)
    {
      g_autofree char *text = h_read (out_file);
      if (text != NULL && strstr (text, "ready") != NULL)
        break;
      ck_assert_msg (g_get_monotonic_time () < deadline, "the container's server did not start");
      h_sleep (20);
    }
  /* the INCOMING rule is about the remote end's source port (as the original did) */
  ck_assert_msg (th_connect (ip, 40000), "source port 40000 was blocked");
  ck_assert_msg (!th_connect (ip, 40001), "source port 40001 got through");
  /* no OUTGOING rule: the container cannot open connections itself */
  expect_reach (id, TCP (TCP_OPEN), FALSE);
  assert_rules (id, "-A INPUT -s " TH_ADDR "/32 -p tcp -m tcp --sport 40000 -j ACCEPT\n", "");
  h_destroy (id);
}
END_TEST

/* ---- hostnames ----------------------------------------------------------------------------- */

START_TEST (hostname_rule)
{
  const char *caps[] = {
    "test.byname",
    "[{\"direction\": \"OUTGOING\", \"allow\": [{\"host\": \"" TH_NAME "\", \"ports\": 8080, "
    "\"protocols\": \"tcp\"}]}]",
    NULL
  };
  g_autofree char *before = h_read ("/etc/hosts");
  g_autofree char *after = NULL;
  int id;

  hosts_add_test_host ();
  restart_with_caps (caps);
  id = net_container ("test.byname");
  expect_reach (id, TCP (TCP_OPEN), TRUE);
  expect_reach (id, TCP (TCP_OTHER), FALSE);
  assert_rules (id, "", "-A OUTPUT -d " TH_ADDR "/32 -p tcp -m tcp --dport 8080 -j ACCEPT\n");
  h_destroy (id);
  hosts_restore ();
  after = h_read ("/etc/hosts");
  ck_assert_str_eq (after, before);
}
END_TEST

/* ---- addresses ----------------------------------------------------------------------------- */

START_TEST (two_containers_two_addresses)
{
  const char *caps[] = { "test.all", "[{\"direction\": \"OUTGOING\", \"allow\": [{\"host\": \"*\"}]}]",
                         NULL };
  int a, b;
  gboolean up_a, up_b, ok;
  g_autofree char *addr_a = NULL;
  g_autofree char *addr_b = NULL;
  g_autofree char *out_a = NULL;
  g_autofree char *out_b = NULL;
  g_autofree char *from_a = NULL;
  g_autofree char *from_b = NULL;

  restart_with_caps (caps);
  a = net_container ("test.all");
  b = net_container ("test.all");
  addr_a = eth0_address (a, &up_a);
  addr_b = eth0_address (b, &up_b);
  ck_assert (up_a && up_b);
  ck_assert_str_ne (addr_a, addr_b);
  out_a = client (a, TCP (TCP_OPEN), &ok);
  ck_assert (ok);
  out_b = client (b, TCP (TCP_OPEN), &ok);
  ck_assert (ok);
  from_a = g_strdup_printf ("from %.*s:", (int) strcspn (addr_a, "/"), addr_a);
  from_b = g_strdup_printf ("from %.*s:", (int) strcspn (addr_b, "/"), addr_b);
  assert_contains (out_a, from_a);
  assert_contains (out_b, from_b);
  h_destroy (a);
  h_destroy (b);
}
END_TEST

START_TEST (addresses_wrap_around_and_run_out)
{
  const char *caps[] = { "test.all", "[{\"direction\": \"OUTGOING\", \"allow\": [{\"host\": \"*\"}]}]",
                         NULL };
  int ids[7];
  gboolean up;
  g_autofree char *msg = NULL;
  g_autofree char *addr = NULL;

  /* a /29: hosts .1 (the bridge) to .6 */
  h_config_set ("bridge-netmask", "255.255.255.248");
  h_config_set ("bridge-netmask-bitlength", "29");
  write_caps ("net.json", caps);
  h_agent_start (NULL);
  for (int i = 0; i < 5; i++)
    {
      g_autofree char *a = NULL;
      g_autofree char *expected = g_strdup_printf (SC_TEST_NET_PREFIX "0.%d/29", i + 2);

      ids[i] = net_container ("test.all");
      a = eth0_address (ids[i], &up);
      ck_assert_str_eq (a, expected);
    }
  /* the sixth wraps around to host 1, the bridge's, and takes the first free one instead */
  h_destroy (ids[0]);
  ids[5] = net_container ("test.all");
  addr = eth0_address (ids[5], &up);
  ck_assert_str_eq (addr, SC_TEST_NET_PREFIX "0.2/29");
  /* now every address is taken */
  ids[6] = net_container (NULL);
  msg = set_caps_fails ("GatewayFailed", ids[6], (const char *const[]){ "test.all", NULL });
  assert_contains (msg, "no free address");
  assert_contains (msg, SC_TEST_NET_PREFIX "0.0/29");
  for (int i = 1; i < 7; i++)
    h_destroy (ids[i]);
}
END_TEST

/* ---- the app cannot get around its firewall ----------------------------------------------- */

START_TEST (app_cannot_change_rules_or_interface)
{
  const char *caps[] = { "test.web", "[{\"direction\": \"OUTGOING\", \"allow\": [{\"host\": \""
                                      TH_ADDR "\", \"ports\": 8080, \"protocols\": \"tcp\"}]}]",
                         NULL };
  const char *attempts[] = {
    "iptables-legacy -F",
    "iptables-legacy -P OUTPUT ACCEPT",
    "iptables-nft -F", /* plain "iptables" is an alternatives link the container lacks */
    "iptables-nft -P OUTPUT ACCEPT",
    "ip link set eth0 down",
    "ip addr add " SC_TEST_NET_PREFIX "0.99/24 dev eth0",
    "ip route del default",
    "sh -c 'echo 0 > /proc/sys/net/ipv6/conf/eth0/disable_ipv6'",
    "sh -c 'echo \"1 0\" > /proc/sys/net/ipv4/ping_group_range'",
  };
  g_autofree char *rules_before = NULL;
  g_autofree char *rules_after = NULL;
  g_autofree char *addr = NULL;
  g_autofree char *sockets = NULL;
  gboolean up;
  int id;

  restart_with_caps (caps);
  id = net_container ("test.web");
  rules_before = rules_of (id);
  for (guint i = 0; i < G_N_ELEMENTS (attempts); i++)
    {
      guint code;
      g_autofree char *out = h_run (id, attempts[i], &code);
      ck_assert_msg (code != 0, "'%s' succeeded inside the container: %s", attempts[i], out);
      ck_assert_msg (code != 126 && code != 127, "'%s' did not run: %s", attempts[i], out);
    }
  rules_after = rules_of (id);
  ck_assert_str_eq (rules_after, rules_before);
  addr = eth0_address (id, &up);
  ck_assert (up);
  ck_assert_str_eq (addr, SC_TEST_NET_PREFIX "0.2/24");
  expect_reach (id, TCP (TCP_OPEN), TRUE);
  expect_reach (id, TCP (TCP_OTHER), FALSE);
  /* no raw or packet socket (CAP_NET_RAW is gone); the ICMP datagram socket is allowed */
  sockets = h_run_ok (id, "/usr/bin/python3 /nettest/net.py sockets");
  assert_contains (sockets, "packet: PermissionError");
  assert_contains (sockets, "raw: PermissionError");
  assert_contains (sockets, "raw-tcp: PermissionError");
  assert_contains (sockets, "icmp-dgram: open");
  /* no IPv6 on eth0: it would bypass the IPv4 rules */
  {
    g_autofree char *v6 = h_run_ok (id, "ip -6 -o addr show dev eth0");
    ck_assert_str_eq (v6, "");
  }
  h_destroy (id);
}
END_TEST

/* ---- configuration errors and once-only ---------------------------------------------------- */

START_TEST (second_configuration_is_bad_state)
{
  const char *caps[] = {
    "test.web",
    "[{\"direction\": \"OUTGOING\", \"allow\": [{\"host\": \"" TH_ADDR "\", \"ports\": 8080, "
    "\"protocols\": \"tcp\"}]}]",
    "test.all", "[{\"direction\": \"OUTGOING\", \"allow\": [{\"host\": \"*\"}]}]",
    NULL
  };
  g_autofree char *msg = NULL;
  g_autofree char *rules_before = NULL;
  g_autofree char *rules_after = NULL;
  int id;

  restart_with_caps (caps);
  id = net_container ("test.web");
  rules_before = rules_of (id);
  msg = set_caps_fails ("BadState", id, (const char *const[]){ "test.all", NULL });
  assert_contains (msg, "network");
  rules_after = rules_of (id);
  ck_assert_str_eq (rules_after, rules_before);
  expect_reach (id, TCP (TCP_OPEN), TRUE);
  expect_reach (id, TCP (TCP_OTHER), FALSE);
  h_destroy (id);
}
END_TEST

/* Each config is refused with GatewayConfig naming what is wrong, and nothing changes. */
START_TEST (malformed_configs_change_nothing)
{
  static const char *const bad[][2] = {
    { "{\"direction\": \"OUTGOING\"}", "must be an array" },
    { "[]", "empty array" },
    { "[42]", "must be an object" },
    { "[{\"allow\": []}]", "'direction' is missing" },
    { "[{\"direction\": \"SIDEWAYS\", \"allow\": []}]", "SIDEWAYS" },
    { "[{\"direction\": 1, \"allow\": []}]", "'direction' must be" },
    { "[{\"direction\": \"OUTGOING\"}]", "'allow'" },
    { "[{\"direction\": \"OUTGOING\", \"allow\": {}}]", "'allow'" },
    { "[{\"direction\": \"OUTGOING\", \"allow\": [], \"extra\": 1}]", "unknown key 'extra'" },
    { "[{\"direction\": \"OUTGOING\", \"allow\": [{\"ports\": 80}]}]", "'host' is missing" },
    { "[{\"direction\": \"OUTGOING\", \"allow\": [{\"host\": \"\"}]}]", "host ''" },
    { "[{\"direction\": \"OUTGOING\", \"allow\": [{\"host\": \"300.1.1.1\"}]}]", "300.1.1.1" },
    { "[{\"direction\": \"OUTGOING\", \"allow\": [{\"host\": \"10.0.0.1/33\"}]}]", "prefix length" },
    { "[{\"direction\": \"OUTGOING\", \"allow\": [{\"host\": \"::1\"}]}]", "IPv6" },
    { "[{\"direction\": \"OUTGOING\", \"allow\": [{\"host\": \"bad_name!\"}]}]", "bad_name!" },
    { "[{\"direction\": \"OUTGOING\", \"allow\": [{\"host\": 10}]}]", "'host' must be a string" },
    { "[{\"direction\": \"OUTGOING\", \"allow\": [{\"host\": \"*\", \"ports\": 70000}]}]",
      "70000 is out of range" },
    { "[{\"direction\": \"OUTGOING\", \"allow\": [{\"host\": \"*\", \"ports\": -1}]}]",
      "-1 is out of range" },
    { "[{\"direction\": \"OUTGOING\", \"allow\": [{\"host\": \"*\", \"ports\": \"90-80\"}]}]",
      "ends before it starts" },
    { "[{\"direction\": \"OUTGOING\", \"allow\": [{\"host\": \"*\", \"ports\": \"1-70000\"}]}]",
      "1-70000" },
    { "[{\"direction\": \"OUTGOING\", \"allow\": [{\"host\": \"*\", \"ports\": \"80\"}]}]",
      "JSON number" },
    { "[{\"direction\": \"OUTGOING\", \"allow\": [{\"host\": \"*\", \"ports\": []}]}]",
      "empty array" },
    { "[{\"direction\": \"OUTGOING\", \"allow\": [{\"host\": \"*\", \"ports\": 8.5}]}]",
      "'ports' must be" },
    { "[{\"direction\": \"OUTGOING\", \"allow\": [{\"host\": \"*\", \"protocols\": \"sctp\"}]}]",
      "unknown protocol 'sctp'" },
    { "[{\"direction\": \"OUTGOING\", \"allow\": [{\"host\": \"*\", \"protocols\": []}]}]",
      "empty array" },
    { "[{\"direction\": \"OUTGOING\", \"allow\": [{\"host\": \"*\", \"ports\": 80, "
      "\"protocols\": \"icmp\"}]}]",
      "icmp" },
    { "[{\"direction\": \"OUTGOING\", \"allow\": [{\"host\": \"*\", \"port\": 80}]}]",
      "unknown key 'port'" },
  };
  g_autoptr (GPtrArray) caps = g_ptr_array_new_with_free_func (g_free);
  const char *good[] = { "test.good", "[{\"direction\": \"OUTGOING\", \"allow\": [{\"host\": \"*\"}]}]",
                         NULL };
  g_autofree char *rules = NULL;
  g_autofree char *addr = NULL;
  gboolean up;
  int id;

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_ptr_array_add (caps, g_strdup_printf ("test.bad%u", i));
      g_ptr_array_add (caps, g_strdup (bad[i][0]));
    }
  g_ptr_array_add (caps, g_strdup (good[0]));
  g_ptr_array_add (caps, g_strdup (good[1]));
  g_ptr_array_add (caps, NULL);
  restart_with_caps ((const char *const *) caps->pdata);
  id = net_container (NULL);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *name = g_strdup_printf ("test.bad%u", i);
      g_autofree char *msg
          = set_caps_fails ("GatewayConfig", id, (const char *const[]){ name, NULL });
      assert_contains (msg, bad[i][1]);
      assert_contains (msg, name);
    }
  /* nothing changed: eth0 down, no rules; and the gateway still takes its one configuration */
  addr = eth0_address (id, &up);
  ck_assert (!up);
  ck_assert_str_eq (addr, "");
  rules = rules_of (id);
  ck_assert_str_eq (rules, "-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n");
  h_set_capabilities (id, (const char *const[]){ "test.good", NULL });
  expect_reach (id, TCP (TCP_OPEN), TRUE);
  h_destroy (id);
}
END_TEST

/* A gateway applied after the network gateway fails (wayland, its socket missing): the network
 * setup is undone (eth0 down, no address, no rules, the address free again). */
START_TEST (later_gateway_failure_reverts_network)
{
  const char *env[] = { "XDG_RUNTIME_DIR=/nonexistent-sc-test-runtime", "WAYLAND_DISPLAY", NULL };
  g_autofree char *msg = NULL;
  g_autofree char *addr = NULL;
  g_autofree char *rules = NULL;
  g_autofree char *addr_after = NULL;
  gboolean up = TRUE;
  int status, id;

  h_write_manifest (FALSE, "both.json",
                    "{\"version\": \"1\", \"capabilities\": ["
                    "{\"name\": \"test.both\", \"gateways\": ["
                    "{\"id\": \"network\", \"config\": [{\"direction\": \"OUTGOING\", "
                    "\"allow\": [{\"host\": \"*\"}]}]},"
                    "{\"id\": \"wayland\", \"config\": [{\"enabled\": true}]}]},"
                    "{\"name\": \"test.all\", \"gateways\": ["
                    "{\"id\": \"network\", \"config\": [{\"direction\": \"OUTGOING\", "
                    "\"allow\": [{\"host\": \"*\"}]}]}]}]}");
  status = h_agent_stop (SIGTERM);
  ck_assert (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  h_agent_start_env (NULL, env);
  id = net_container (NULL);
  msg = set_caps_fails ("GatewayFailed", id, (const char *const[]){ "test.both", NULL });
  assert_contains (msg, "wayland");
  addr = eth0_address (id, &up);
  ck_assert_msg (!up, "eth0 stayed up after the rollback");
  ck_assert_str_eq (addr, "");
  rules = rules_of (id);
  ck_assert_str_eq (rules, "-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n");
  expect_reach (id, TCP (TCP_OPEN), FALSE);
  /* the gateway was not configured: it takes a configuration, with the same address */
  h_set_capabilities (id, (const char *const[]){ "test.all", NULL });
  addr_after = eth0_address (id, &up);
  ck_assert (up);
  ck_assert_str_eq (addr_after, SC_TEST_NET_PREFIX "0.2/24");
  expect_reach (id, TCP (TCP_OPEN), TRUE);
  h_destroy (id);
}
END_TEST

START_TEST (hundred_rules_in_one_commit)
{
  g_autoptr (GString) config = g_string_new ("[{\"direction\": \"OUTGOING\", \"allow\": [{\"host\": \""
                                             TH_ADDR "\", \"protocols\": \"tcp\", \"ports\": [");
  g_autoptr (GString) expected = g_string_new (NULL);
  const char *caps[] = { "test.hundred", NULL, NULL };
  g_autofree char *log = NULL;
  int id;

  for (int p = 0; p < 100; p++)
    {
      g_string_append_printf (config, "%s%d", p > 0 ? ", " : "", 10000 + p);
      g_string_append_printf (expected,
                              "-A OUTPUT -d " TH_ADDR "/32 -p tcp -m tcp --dport %d -j ACCEPT\n",
                              10000 + p);
    }
  g_string_append (config, "]}]}]");
  caps[1] = config->str;
  restart_with_caps (caps);
  id = net_container ("test.hundred");
  assert_rules (id, "", expected->str);
  /* 4 base rules and the 100: one libiptc commit (the agent says so in its debug log) */
  log = h_read (h->agent_log);
  assert_contains (log, "104 firewall rules in one commit");
  h_destroy (id);
}
END_TEST

/* ---- the shipped examples ------------------------------------------------------------------ */

static char *
read_example (const char *file_name)
{
  g_autofree char *path = g_build_filename (SC_SOURCE_DIR, "service-manifests",
                                            "service-manifest.d", file_name, NULL);
  char *text = h_read (path);

  ck_assert_msg (text != NULL, "cannot read %s", path);
  return text;
}

/* service-manifests/service-manifest.d/com.example.{web-access,ping-only,local-only}.json as
 * shipped; local-only names the default network 10.0.3.0/24, which becomes the tests' one. */
START_TEST (shipped_examples)
{
  g_autofree char *web = read_example ("com.example.web-access.json");
  g_autofree char *ping = read_example ("com.example.ping-only.json");
  g_autofree char *local_text = read_example ("com.example.local-only.json");
  g_autoptr (GString) local = g_string_new (local_text);
  guint code;
  int id_web, id_ping, id_local;
  int status;

  ck_assert_uint_eq (g_string_replace (local, "10.0.3.0/24", SC_TEST_NETADDR "/24", 0), 2);
  h_write_manifest (FALSE, "com.example.web-access.json", web);
  h_write_manifest (FALSE, "com.example.ping-only.json", ping);
  h_write_manifest (FALSE, "com.example.local-only.json", local->str);
  status = h_agent_stop (SIGTERM);
  ck_assert (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  h_agent_start (NULL);

  id_web = net_container ("com.example.web-access");
  expect_reach (id_web, TCP (80), TRUE);
  expect_reach (id_web, TCP (443), TRUE);
  expect_reach (id_web, UDP (53), TRUE);
  expect_reach (id_web, TCP (TCP_OPEN), FALSE);
  expect_reach (id_web, UDP (UDP_PORT), FALSE);
  g_free (h_run (id_web, "ping -c 1 -W 1 " TH_ADDR, &code));
  ck_assert_msg (code != 0, "web-access let ping through");

  id_ping = net_container ("com.example.ping-only");
  h_run_ok (id_ping, "ping -c 1 -W 2 " TH_ADDR);
  expect_reach (id_ping, TCP (80), FALSE);
  expect_reach (id_ping, UDP (53), FALSE);

  id_local = net_container ("com.example.local-only");
  expect_reach (id_local, TCP (TCP_OPEN), TRUE);
  expect_reach (id_local, UDP (UDP_PORT), TRUE);
  h_run_ok (id_local, "ping -c 1 -W 2 " TH_ADDR);
  assert_rules (id_local, "-A INPUT -s " SC_TEST_NETADDR "/24 -j ACCEPT\n",
                "-A OUTPUT -d " SC_TEST_NETADDR "/24 -j ACCEPT\n");

  h_destroy (id_web);
  h_destroy (id_ping);
  h_destroy (id_local);
}
END_TEST

/* ---- life of the veth ---------------------------------------------------------------------- */

START_TEST (destroy_removes_the_veth)
{
  const char *caps[] = { "test.all", "[{\"direction\": \"OUTGOING\", \"allow\": [{\"host\": \"*\"}]}]",
                         NULL };
  int a, b;

  restart_with_caps (caps);
  a = net_container ("test.all");
  b = net_container (NULL);
  ck_assert (veth_exists (a));
  ck_assert (veth_exists (b));
  h_destroy (a);
  ck_assert_msg (!veth_exists (a), "the veth of a configured container outlived Destroy");
  h_destroy (b);
  ck_assert_msg (!veth_exists (b), "the veth of an unconfigured container outlived Destroy");
}
END_TEST

/* ---- startup ------------------------------------------------------------------------------- */

static int
run_agent_to_exit (char **output)
{
  const char *args[] = { "-c", h->config_file, NULL };

  return h_agent_run_to_exit (args, NULL, 10000, output);
}

START_TEST (startup_refuses_missing_bridge)
{
  g_autofree char *out = NULL;
  int status;

  h_config_set ("create-bridge", "false");
  ck_assert (!g_file_test ("/sys/class/net/" SC_TEST_BRIDGE, G_FILE_TEST_EXISTS));
  status = run_agent_to_exit (&out);
  ck_assert_msg (WIFEXITED (status) && WEXITSTATUS (status) != 0, "status 0x%x: %s", status, out);
  assert_contains (out, "'" SC_TEST_BRIDGE "'");
  assert_contains (out, "create-bridge");
  ck_assert (!g_file_test ("/sys/class/net/" SC_TEST_BRIDGE, G_FILE_TEST_EXISTS));
}
END_TEST

START_TEST (startup_refuses_contradictory_network_keys)
{
  static const char *const cases[][4] = {
    /* key, value, words of the message */
    { "bridge-ip", SC_TEST_NET_PREFIX "1.1", "bridge-ip", "outside" },
    { "bridge-ip", SC_TEST_NET_PREFIX "0.255", "bridge-ip", "broadcast" },
    { "bridge-netmask", "255.255.0.0", "bridge-netmask", "does not match" },
    { "bridge-netaddr", SC_TEST_NET_PREFIX "0.7", "bridge-netaddr", "host bits" },
  };
  g_autofree char *original = h_read (h->config_file);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *out = NULL;
      int status;

      ck_assert (g_file_set_contents (h->config_file, original, -1, NULL));
      h_config_set (cases[i][0], cases[i][1]);
      status = run_agent_to_exit (&out);
      ck_assert_msg (WIFEXITED (status) && WEXITSTATUS (status) != 0, "%s=%s: status 0x%x: %s",
                     cases[i][0], cases[i][1], status, out);
      assert_contains (out, cases[i][2]);
      assert_contains (out, cases[i][3]);
      assert_contains (out, h->config_file);
      ck_assert_msg (!g_file_test ("/sys/class/net/" SC_TEST_BRIDGE, G_FILE_TEST_EXISTS),
                     "%s=%s: the bridge was made anyway", cases[i][0], cases[i][1]);
    }
}
END_TEST

static guint
count_nat_rules (void)
{
  g_autofree char *nat = NULL;
  guint n = 0;

  ck_assert (run_cmd ("iptables-legacy -w -t nat -S POSTROUTING", &nat));
  for (const char *p = nat; (p = strstr (p, "-A POSTROUTING -s " SC_TEST_NETADDR "/24 ! -d "
                                            SC_TEST_NETADDR "/24 -j MASQUERADE\n"))
                            != NULL;
       p++)
    n++;
  return n;
}

START_TEST (bridge_and_nat_stay_and_are_not_duplicated)
{
  g_autofree char *fwd = NULL;
  g_autofree char *addr = NULL;
  int status;

  h_agent_start (NULL);
  ck_assert_uint_eq (count_nat_rules (), 1);
  status = h_agent_stop (SIGTERM);
  ck_assert (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  /* platform-wide: the bridge, its address, the NAT rule and forwarding stay */
  ck_assert (g_file_test ("/sys/class/net/" SC_TEST_BRIDGE, G_FILE_TEST_EXISTS));
  ck_assert (run_cmd ("ip -4 -o addr show dev " SC_TEST_BRIDGE, &addr));
  assert_contains (addr, SC_TEST_BRIDGE_IP "/24");
  ck_assert_uint_eq (count_nat_rules (), 1);
  fwd = h_read ("/proc/sys/net/ipv4/ip_forward");
  ck_assert_str_eq (fwd, "1\n");
  /* a restart finds them and adds nothing */
  h_agent_start (NULL);
  ck_assert_uint_eq (count_nat_rules (), 1);
}
END_TEST

START_TEST (existing_bridge_used_as_it_is)
{
  const char *caps[] = { "test.all", "[{\"direction\": \"OUTGOING\", \"allow\": [{\"host\": \"*\"}]}]",
                         NULL };
  int id;

  /* the platform made the bridge; the agent only uses it */
  run_ok ("ip link add " SC_TEST_BRIDGE " type bridge");
  run_ok ("ip addr add " SC_TEST_BRIDGE_IP "/24 dev " SC_TEST_BRIDGE);
  run_ok ("ip link set " SC_TEST_BRIDGE " up");
  h_config_set ("create-bridge", "false");
  write_caps ("net.json", caps);
  h_agent_start (NULL);
  th_start ();
  ck_assert_uint_eq (count_nat_rules (), 0);
  id = net_container ("test.all");
  expect_reach (id, TCP (TCP_OPEN), TRUE);
  h_destroy (id);
}
END_TEST

static Suite *
network_suite (void)
{
  Suite *s = suite_create ("network");
  TCase *tc = net_tcase ("traffic", TRUE);
  TCase *tc_bus = net_tcase ("setup", FALSE);

  tcase_add_test (tc, no_capability_no_network);
  tcase_add_test (tc, outgoing_tcp_port_only);
  tcase_add_test (tc, allow_all_tcp_udp_icmp);
  tcase_add_test (tc, icmp_only_allows_ping);
  tcase_add_test (tc, ports_ranges_and_udp);
  tcase_add_test (tc, incoming_by_remote_source_port);
  tcase_add_test (tc, hostname_rule);
  tcase_add_test (tc, two_containers_two_addresses);
  tcase_add_test (tc, app_cannot_change_rules_or_interface);
  tcase_add_test (tc, second_configuration_is_bad_state);
  tcase_add_test (tc, malformed_configs_change_nothing);
  tcase_add_test (tc, later_gateway_failure_reverts_network);
  tcase_add_test (tc, hundred_rules_in_one_commit);
  tcase_add_test (tc, shipped_examples);
  tcase_add_test (tc, destroy_removes_the_veth);
  suite_add_tcase (s, tc);

  tcase_add_test (tc_bus, addresses_wrap_around_and_run_out);
  tcase_add_test (tc_bus, startup_refuses_missing_bridge);
  tcase_add_test (tc_bus, startup_refuses_contradictory_network_keys);
  tcase_add_test (tc_bus, bridge_and_nat_stay_and_are_not_duplicated);
  tcase_add_test (tc_bus, existing_bridge_used_as_it_is);
  suite_add_tcase (s, tc_bus);
  return s;
}

int
main (void)
{
  int r = h_run_suite (network_suite ());

  if (r != 77)
    th_cleanup (); /* what a failed test left */
  return r;
}

#else /* !SC_ENABLE_NETWORK_GATEWAY */

int
main (void)
{
  g_printerr ("the network gateway is not in this build\n");
  return 77;
}

#endif
