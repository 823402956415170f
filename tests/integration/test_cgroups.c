/* The cgroups gateway through the real agent, with real containers: the merged values land in
 * the container's cgroup files on the host (/sys/fs/cgroup/<controller>/lxc/SC-<id>/), a memory
 * limit really kills a process that goes over it, config errors are refused before anything
 * changes, a value the kernel refuses (or a controller that is not mounted) fails the call
 * naming the setting and leaves nothing half-applied, a later gateway's failure restores the
 * values, and the gateway takes one configuration per container.
 *
 * net_cls is not mounted on this host (cgroup v1 hybrid without it): one test shows the clear
 * GatewayFailed without it; another mounts a net_cls hierarchy for its run (before the agent
 * starts: the agent reads the cgroup mounts once), checks that the class id lands in the
 * container's net_cls.classid, and removes the mount again. Every test ends with the harness's
 * leak check, which looks for SC-* cgroup directories too. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define NET_CLS_DIR "/sys/fs/cgroup/net_cls"
#define UNLIMITED "9223372036854771712" /* v1's "no memory limit" on a 4 KiB-page host */

/* ---- helpers ------------------------------------------------------------------------------ */

static char *
cg_path (int id, const char *controller, const char *file)
{
  return g_strdup_printf ("/sys/fs/cgroup/%s/lxc/SC-%d/%s", controller, id, file);
}

/* A file of the container's cgroup, without the newline; fails the test if it is missing. */
static char *
cg_read (int id, const char *controller, const char *file)
{
  g_autofree char *path = cg_path (id, controller, file);
  char *text = h_read (path);

  ck_assert_msg (text != NULL, "cannot read %s", path);
  return g_strchomp (text);
}

static void
assert_cg (int id, const char *controller, const char *file, const char *expected)
{
  g_autofree char *value = cg_read (id, controller, file);

  ck_assert_msg (strcmp (value, expected) == 0, "%s of SC-%d is %s, expected %s", file, id, value,
                 expected);
}

/* A manifest with one capability per (name, items) pair; items is the JSON array of the
 * cgroups gateway's config. */
static void
write_caps (const char *file_name, const char *const *names_and_items)
{
  g_autoptr (GString) json = g_string_new ("{\"version\": \"1\", \"capabilities\": [");

  for (guint i = 0; names_and_items[i] != NULL; i += 2)
    g_string_append_printf (json,
                            "%s{\"name\": \"%s\", \"gateways\": [{\"id\": \"cgroups\", "
                            "\"config\": %s}]}",
                            i > 0 ? ", " : "", names_and_items[i], names_and_items[i + 1]);
  g_string_append (json, "]}");
  h_write_manifest (FALSE, file_name, json->str);
}

/* SetCapabilities that must fail with code_word; returns the message (g_free). */
static char *
set_caps_fails (const char *code_word, int id, const char *const *caps)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) r
      = h_call ("SetCapabilities", g_variant_new ("(i^as)", id, caps), &error);

  h_assert_failed (error, code_word);
  return g_strdup (error->message);
}

static void
assert_contains (const char *text, const char *fragment)
{
  ck_assert_msg (strstr (text, fragment) != NULL, "'%s' not in: %s", fragment, text);
}

#define STRV(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* ---- tests -------------------------------------------------------------------------------- */

START_TEST (merged_values_on_host)
{
  int id;
  int pid;
  g_autofree char *proc_cgroup = NULL;
  g_autofree char *proc_path = NULL;
  g_autofree char *expected_line = NULL;

  write_caps ("limits.json",
              STRV ("test.small",
                    "[{\"setting\": \"memory.limit_in_bytes\", \"value\": \"32m\"},"
                    " {\"setting\": \"cpu.shares\", \"value\": \"512\"}]",
                    "test.large",
                    "[{\"setting\": \"memory.limit_in_bytes\", \"value\": \"48M\"},"
                    " {\"setting\": \"memory.memsw.limit_in_bytes\", \"value\": \"65536k\"},"
                    " {\"setting\": \"cpu.shares\", \"value\": \"2048\"},"
                    " {\"setting\": \"cpu.shares\", \"value\": \"1024\"}]",
                    "test.more",
                    "[{\"setting\": \"memory.limit_in_bytes\", \"value\": \"16m\"},"
                    " {\"setting\": \"memory.swappiness\", \"value\": \"10\"}]"));
  h_agent_start (NULL);
  id = h_create ("[]");
  assert_cg (id, "memory", "memory.limit_in_bytes", UNLIMITED);
  assert_cg (id, "cpu", "cpu.shares", "1024");
  h_set_capabilities (id, STRV ("test.small", "test.large", "test.more"));

  /* the largest values won; the others were written as given */
  assert_cg (id, "memory", "memory.limit_in_bytes", "50331648");
  assert_cg (id, "memory", "memory.memsw.limit_in_bytes", "67108864");
  assert_cg (id, "cpu", "cpu.shares", "2048");
  assert_cg (id, "memory", "memory.swappiness", "10");

  /* and they are the cgroup the container's processes are in */
  pid = h_execute (id, "sleep 30", "/", NULL, NULL);
  proc_path = g_strdup_printf ("/proc/%d/cgroup", pid);
  proc_cgroup = h_read (proc_path);
  expected_line = g_strdup_printf (":memory:/lxc/SC-%d\n", id);
  ck_assert_msg (proc_cgroup != NULL && strstr (proc_cgroup, expected_line) != NULL,
                 "process %d is not in lxc/SC-%d: %s", pid, id, proc_cgroup);
  kill (pid, SIGKILL);
  h_wait_exit (id, pid, 30000);
  h_destroy (id);
}
END_TEST

START_TEST (configured_once)
{
  int id;
  g_autofree char *msg = NULL;

  write_caps ("limits.json", STRV ("test.a", "[{\"setting\": \"cpu.shares\", \"value\": \"512\"}]",
                                   "test.b", "[{\"setting\": \"cpu.shares\", \"value\": \"4096\"}]"));
  h_agent_start (NULL);
  id = h_create ("[]");
  h_set_capabilities (id, STRV ("test.a"));
  assert_cg (id, "cpu", "cpu.shares", "512");
  /* a sandbox is not widened after the fact */
  msg = set_caps_fails ("BadState", id, STRV ("test.b"));
  assert_contains (msg, "cgroups");
  assert_cg (id, "cpu", "cpu.shares", "512");
  /* the agent keeps serving the container */
  g_free (h_run_ok (id, "true"));
  h_destroy (id);
}
END_TEST

START_TEST (memory_limit_kills)
{
  int id;
  guint code;
  g_autofree char *out = NULL;
  g_autofree char *failcnt = NULL;

  write_caps ("limits.json",
              STRV ("test.mem", "[{\"setting\": \"memory.limit_in_bytes\", \"value\": \"32m\"}]"));
  h_agent_start (NULL);
  id = h_create ("[]");
  h_set_capabilities (id, STRV ("test.mem"));
  assert_cg (id, "memory", "memory.limit_in_bytes", "33554432");

  /* under the limit: fine */
  g_free (h_run_ok (id, "python3 -c \"b = bytearray(4*1024*1024); print(len(b))\""));
  /* far over it: the kernel's OOM killer ends it, and ProcessStateChanged says so */
  out = h_run (id, "python3 -c \"b = bytearray(200*1024*1024); print('survived')\"", &code);
  ck_assert_msg (code == 128 + SIGKILL, "exit code %u, output: %s", code, out);
  ck_assert_msg (strstr (out, "survived") == NULL, "the process survived: %s", out);
  failcnt = cg_read (id, "memory", "memory.failcnt");
  ck_assert_msg (atoi (failcnt) > 0, "memory.failcnt is %s", failcnt);
  /* the container itself goes on */
  g_free (h_run_ok (id, "true"));
  h_destroy (id);
}
END_TEST

START_TEST (config_errors_refused)
{
  int id;
  g_autofree char *msg = NULL;

  write_caps ("limits.json",
              STRV ("test.shares1",
                    "[{\"setting\": \"memory.limit_in_bytes\", \"value\": \"32m\"},"
                    " {\"setting\": \"cpu.shares\", \"value\": \"1\"}]",
                    "test.classid",
                    "[{\"setting\": \"net_cls.classid\", \"value\": \"100001\"}]",
                    "test.classid.long",
                    "[{\"setting\": \"net_cls.classid\", \"value\": \"0x123456789\"}]",
                    "test.memsw.low",
                    "[{\"setting\": \"memory.limit_in_bytes\", \"value\": \"64m\"},"
                    " {\"setting\": \"memory.memsw.limit_in_bytes\", \"value\": \"32m\"}]",
                    "test.escape",
                    "[{\"setting\": \"memory/../../x\", \"value\": \"1\"}]",
                    "test.good",
                    "[{\"setting\": \"cpu.shares\", \"value\": \"100\"}]"));
  h_agent_start (NULL);
  id = h_create ("[]");

  msg = set_caps_fails ("GatewayConfig", id, STRV ("test.shares1"));
  assert_contains (msg, "cpu.shares");
  assert_contains (msg, "at least 2");
  assert_contains (msg, "test.shares1");
  g_free (msg);
  msg = set_caps_fails ("GatewayConfig", id, STRV ("test.classid"));
  assert_contains (msg, "net_cls.classid");
  assert_contains (msg, "0xAAAABBBB");
  g_free (msg);
  msg = set_caps_fails ("GatewayConfig", id, STRV ("test.classid.long"));
  assert_contains (msg, "'0x123456789'");
  g_free (msg);
  msg = set_caps_fails ("GatewayConfig", id, STRV ("test.memsw.low"));
  assert_contains (msg, "lower than memory.limit_in_bytes");
  g_free (msg);
  msg = set_caps_fails ("GatewayConfig", id, STRV ("test.escape"));
  assert_contains (msg, "'setting' must be");
  /* nothing was written by the refused calls */
  assert_cg (id, "memory", "memory.limit_in_bytes", UNLIMITED);
  assert_cg (id, "cpu", "cpu.shares", "1024");
  /* and the gateway is still unconfigured: a good config is taken */
  h_set_capabilities (id, STRV ("test.good"));
  assert_cg (id, "cpu", "cpu.shares", "100");
  h_destroy (id);
}
END_TEST

START_TEST (kernel_refusal_restores)
{
  int id;
  g_autofree char *msg = NULL;

  write_caps ("limits.json",
              STRV ("test.refused",
                    "[{\"setting\": \"memory.limit_in_bytes\", \"value\": \"32m\"},"
                    " {\"setting\": \"cpu.shares\", \"value\": \"512\"},"
                    " {\"setting\": \"cpu.cfs_quota_us\", \"value\": \"1\"}]",
                    "test.nofile",
                    "[{\"setting\": \"memory.limit_in_bytes\", \"value\": \"32m\"},"
                    " {\"setting\": \"memory.no_such_setting\", \"value\": \"1\"}]",
                    "test.good",
                    "[{\"setting\": \"cpu.cfs_quota_us\", \"value\": \"50000\"}]"));
  h_agent_start (NULL);
  id = h_create ("[]");

  /* the kernel takes no quota under 1 ms: GatewayFailed naming it, the others restored */
  msg = set_caps_fails ("GatewayFailed", id, STRV ("test.refused"));
  assert_contains (msg, "capability 'test.refused'");
  assert_contains (msg, "item 2: cpu.cfs_quota_us: cannot write '1'");
  assert_contains (msg, "Invalid argument");
  assert_cg (id, "memory", "memory.limit_in_bytes", UNLIMITED);
  assert_cg (id, "cpu", "cpu.shares", "1024");
  assert_cg (id, "cpu", "cpu.cfs_quota_us", "-1");
  g_free (msg);
  msg = set_caps_fails ("GatewayFailed", id, STRV ("test.nofile"));
  assert_contains (msg, "memory.no_such_setting");
  assert_cg (id, "memory", "memory.limit_in_bytes", UNLIMITED);
  /* a failed call configures nothing */
  h_set_capabilities (id, STRV ("test.good"));
  assert_cg (id, "cpu", "cpu.cfs_quota_us", "50000");
  h_destroy (id);
}
END_TEST

START_TEST (later_gateway_failure_restores)
{
  g_autofree char *dir = h_path ("a-dir");
  g_autofree char *manifest = NULL;
  g_autofree char *msg = NULL;
  int id;

  g_mkdir (dir, 0755);
  /* the file gateway comes after cgroups and fails when applied: a directory cannot be mounted
   * onto /dev/null */
  manifest = g_strdup_printf (
      "{\"version\": \"1\", \"capabilities\": ["
      "{\"name\": \"test.both\", \"gateways\": ["
      "  {\"id\": \"cgroups\", \"config\": [{\"setting\": \"memory.limit_in_bytes\", \"value\": \"32m\"}]},"
      "  {\"id\": \"file\", \"config\": [{\"path-host\": \"%s\", \"path-container\": \"/dev/null\"}]}]},"
      "{\"name\": \"test.limit\", \"gateways\": ["
      "  {\"id\": \"cgroups\", \"config\": [{\"setting\": \"memory.limit_in_bytes\", \"value\": \"64m\"}]}]}"
      "]}",
      dir);
  h_write_manifest (FALSE, "both.json", manifest);
  h_agent_start (NULL);
  id = h_create ("[]");
  msg = set_caps_fails ("GatewayFailed", id, STRV ("test.both"));
  assert_contains (msg, "/dev/null");
  assert_cg (id, "memory", "memory.limit_in_bytes", UNLIMITED);
  h_set_capabilities (id, STRV ("test.limit"));
  assert_cg (id, "memory", "memory.limit_in_bytes", "67108864");
  h_destroy (id);
}
END_TEST

START_TEST (destroy_removes_cgroups)
{
  int id;
  const char *const controllers[] = { "memory", "cpu", "devices", "freezer", "pids" };

  write_caps ("limits.json",
              STRV ("test.mem", "[{\"setting\": \"memory.limit_in_bytes\", \"value\": \"32m\"}]"));
  h_agent_start (NULL);
  id = h_create ("[]");
  h_set_capabilities (id, STRV ("test.mem"));
  for (guint i = 0; i < G_N_ELEMENTS (controllers); i++)
    {
      g_autofree char *dir = cg_path (id, controllers[i], "");
      ck_assert_msg (g_file_test (dir, G_FILE_TEST_IS_DIR), "%s is missing", dir);
    }
  h_destroy (id);
  for (guint i = 0; i < G_N_ELEMENTS (controllers); i++)
    {
      g_autofree char *dir = cg_path (id, controllers[i], "");
      ck_assert_msg (!g_file_test (dir, G_FILE_TEST_EXISTS), "%s is still there", dir);
    }
}
END_TEST

/* The example manifest of the source tree, as written. */
START_TEST (example_manifest)
{
  g_autofree char *path = g_build_filename (SC_SOURCE_DIR, "service-manifests",
                                            "service-manifest.d",
                                            "com.example.memory-limited.json", NULL);
  g_autofree char *text = h_read (path);
  g_autofree char *out = NULL;
  guint code;
  int id;

  ck_assert_msg (text != NULL, "cannot read %s", path);
  h_write_manifest (FALSE, "com.example.memory-limited.json", text);
  h_agent_start (NULL);
  id = h_create ("[]");
  h_set_capabilities (id, STRV ("com.example.memory-limited"));
  assert_cg (id, "memory", "memory.limit_in_bytes", "67108864");
  assert_cg (id, "cpu", "cpu.shares", "512");
  out = h_run (id, "python3 -c \"b = bytearray(256*1024*1024)\"", &code);
  ck_assert_msg (code == 128 + SIGKILL, "exit code %u, output: %s", code, out);
  h_destroy (id);
}
END_TEST

/* ---- net_cls ------------------------------------------------------------------------------ */

static gboolean
net_cls_mounted (void)
{
  g_autofree char *mountinfo = h_read ("/proc/self/mountinfo");
  g_auto (GStrv) lines = g_strsplit (mountinfo ? mountinfo : "", "\n", -1);

  for (char **l = lines; *l != NULL; l++)
    {
      const char *fs = strstr (*l, " - cgroup ");
      if (fs != NULL && (strstr (fs, ",net_cls") != NULL || strstr (fs, " net_cls") != NULL))
        return TRUE;
    }
  return FALSE;
}

static gboolean net_cls_ours;

/* rmdir every cgroup below dir, deepest first (LXC leaves lxc/, lxc.monitor/ and
 * lxc.monitor/lxc.pivot behind); a cgroup that still holds processes stays. */
static void
remove_child_cgroups (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *child = g_build_filename (dir, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        {
          remove_child_cgroups (child);
          if (rmdir (child) < 0)
            g_printerr ("cannot remove %s: %s\n", child, g_strerror (errno));
        }
    }
}

/* Removes the net_cls hierarchy this test mounted (the cgroups LXC made in it first, so that the
 * hierarchy does not live on unmounted). Also run at exit, so that a failing test leaves no
 * mount behind. */
static void
net_cls_unmount (void)
{
  if (!net_cls_ours)
    return;
  net_cls_ours = FALSE;
  remove_child_cgroups (NET_CLS_DIR);
  if (umount (NET_CLS_DIR) < 0)
    g_printerr ("cannot unmount %s: %s\n", NET_CLS_DIR, g_strerror (errno));
  rmdir (NET_CLS_DIR);
}

START_TEST (net_cls_not_mounted)
{
  int id;
  g_autofree char *msg = NULL;

  if (net_cls_mounted ())
    {
      g_printerr ("net_cls is mounted on this host: skipping the test of its absence\n");
      return;
    }
  write_caps ("netcls.json",
              STRV ("test.netcls",
                    "[{\"setting\": \"cpu.shares\", \"value\": \"512\"},"
                    " {\"setting\": \"net_cls.classid\", \"value\": \"0x100001\"}]"));
  h_agent_start (NULL);
  id = h_create ("[]");
  msg = set_caps_fails ("GatewayFailed", id, STRV ("test.netcls"));
  assert_contains (msg, "net_cls.classid");
  assert_contains (msg, "not mounted");
  /* nothing half-applied */
  assert_cg (id, "cpu", "cpu.shares", "1024");
  h_destroy (id);
}
END_TEST

START_TEST (net_cls_mounted_for_the_run)
{
  int id, status;
  g_autofree char *classid = NULL;
  g_autofree char *dir = NULL;

  if (!net_cls_mounted ())
    {
      if (g_mkdir_with_parents (NET_CLS_DIR, 0755) < 0
          || mount ("net_cls", NET_CLS_DIR, "cgroup", 0, "net_cls") < 0)
        {
          g_printerr ("cannot mount a net_cls hierarchy (%s): only its absence is tested\n",
                      g_strerror (errno));
          rmdir (NET_CLS_DIR);
          return;
        }
      net_cls_ours = TRUE;
      atexit (net_cls_unmount);
    }
  write_caps ("netcls.json",
              STRV ("test.netcls",
                    "[{\"setting\": \"net_cls.classid\", \"value\": \"0x100002\"},"
                    " {\"setting\": \"net_cls.classid\", \"value\": \"0x00100001\"}]"));
  /* after the mount: the agent reads the cgroup mounts when it starts */
  h_agent_start (NULL);
  id = h_create ("[]");
  h_set_capabilities (id, STRV ("test.netcls"));
  classid = cg_read (id, "net_cls", "net_cls.classid");
  ck_assert_str_eq (classid, "1048577"); /* 0x100001: the last one read */
  dir = cg_path (id, "net_cls", "");
  h_destroy (id);
  ck_assert_msg (!g_file_test (dir, G_FILE_TEST_EXISTS), "%s is still there", dir);
  /* the agent goes before the hierarchy does */
  status = h_agent_stop (SIGTERM);
  ck_assert_msg (WIFEXITED (status) && WEXITSTATUS (status) == 0, "agent status 0x%x", status);
  net_cls_unmount ();
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("cgroups");
  TCase *tc = h_tcase_bus_only ("cgroups");

  tcase_add_test (tc, merged_values_on_host);
  tcase_add_test (tc, configured_once);
  tcase_add_test (tc, memory_limit_kills);
  tcase_add_test (tc, config_errors_refused);
  tcase_add_test (tc, kernel_refusal_restores);
  tcase_add_test (tc, later_gateway_failure_restores);
  tcase_add_test (tc, destroy_removes_cgroups);
  tcase_add_test (tc, example_manifest);
  tcase_add_test (tc, net_cls_not_mounted);
  tcase_add_test (tc, net_cls_mounted_for_the_run);
  suite_add_tcase (s, tc);
  return h_run_suite (s);
}
