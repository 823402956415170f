/* The devicenode gateway through the real agent, with real containers: a host device appears
 * in the container with the host's major/minor and the merged mode, and can be used there;
 * the container's devices cgroup allows exactly the configured devices beyond LXC's basic
 * nodes (seen on the host in devices.list); a device that was not granted cannot be opened
 * inside, not even through a node the app makes itself with mknod; later calls add devices
 * (the gateway is dynamic); a later gateway's failure takes the nodes and the grants back.
 *
 * Devices used: /dev/zero (one of LXC's basic nodes: made by autodev, allowed already),
 * /dev/fuse and /dev/net/tun (not allowed by default; opening them has no side effects), and
 * a test node the test makes on the host with mknod (c 1:3, the null device) under /dev and
 * removes again. Every test ends with the harness's leak check. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "harness.h"

/* ---- helpers ------------------------------------------------------------------------------ */

static int
compare_lines (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* The lines of the container's devices.list on the host, sorted, one string. */
static char *
devices_list (int id)
{
  g_autofree char *path = g_strdup_printf ("/sys/fs/cgroup/devices/lxc/SC-%d/devices.list", id);
  g_autofree char *text = h_read (path);
  g_auto (GStrv) lines = NULL;

  ck_assert_msg (text != NULL, "cannot read %s", path);
  lines = g_strsplit (g_strchomp (text), "\n", -1);
  qsort (lines, g_strv_length (lines), sizeof (char *), compare_lines);
  return g_strjoinv ("\n", lines);
}

static gboolean
has_line (const char *text, const char *line)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);

  return g_strv_contains ((const char *const *) lines, line);
}

/* The lines of after that are not in before. */
static char *
added_lines (const char *before, const char *after)
{
  g_auto (GStrv) lines = g_strsplit (after, "\n", -1);
  g_autoptr (GString) added = g_string_new (NULL);

  for (char **l = lines; *l != NULL; l++)
    if (!has_line (before, *l))
      g_string_append_printf (added, "%s%s", added->len > 0 ? "\n" : "", *l);
  return g_strdup (added->str);
}

static void
write_manifest (const char *file_name, const char *json)
{
  h_write_manifest (FALSE, file_name, json);
}

/* A capability `name` giving the devicenode gateway the items (a JSON array). */
static char *
devicenode_cap (const char *name, const char *items)
{
  return g_strdup_printf ("{\"name\": \"%s\", \"gateways\": [{\"id\": \"devicenode\", "
                          "\"config\": %s}]}",
                          name, items);
}

static void
write_caps (const char *const *caps)
{
  g_autofree char *joined = g_strjoinv (", ", (char **) caps);
  g_autofree char *json
      = g_strdup_printf ("{\"version\": \"1\", \"capabilities\": [%s]}", joined);

  write_manifest ("devices.json", json);
}

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

/* "MODE MAJ:MIN TYPE" of a path inside the container (stat prints the numbers in hex). */
static char *
stat_inside (int id, const char *path)
{
  g_autofree char *cmd = g_strdup_printf ("stat -c '%%a %%t:%%T %%F' %s", path);
  char *out = h_run_ok (id, cmd);

  return g_strchomp (out);
}

/* Opens path read-write inside the container; returns "ok" or the errno name. */
static char *
open_inside (int id, const char *path)
{
  g_autofree char *cmd = g_strdup_printf (
      "python3 -c \"import os, errno\n"
      "try:\n"
      "    os.close(os.open('%s', os.O_RDWR)); print('ok')\n"
      "except OSError as e:\n"
      "    print(errno.errorcode[e.errno])\"",
      path);
  char *out = h_run_ok (id, cmd);

  return g_strchomp (out);
}

#define STRV(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* ---- tests -------------------------------------------------------------------------------- */

START_TEST (zero_with_merged_mode)
{
  g_autofree char *a = devicenode_cap ("test.zero.a", "[{\"name\": \"/dev/zero\", \"mode\": \"0640\"}]");
  g_autofree char *b = devicenode_cap ("test.zero.b", "[{\"name\": \"/dev/zero\", \"mode\": 604}]");
  g_autofree char *before = NULL, *after = NULL, *st = NULL, *ls = NULL, *bytes = NULL;
  int id;

  write_caps (STRV (a, b));
  h_agent_start (NULL);
  id = h_create ("[]");
  before = devices_list (id);
  h_set_capabilities (id, STRV ("test.zero.a", "test.zero.b"));

  /* owner rw from a, group r from a, other r from b */
  st = stat_inside (id, "/dev/zero");
  ck_assert_str_eq (st, "644 1:5 character special file");
  ls = h_run_ok (id, "ls -l /dev/zero");
  ck_assert_msg (g_str_has_prefix (ls, "crw-r--r-- "), "ls -l: %s", ls);
  bytes = h_run_ok (id, "sh -c 'head -c 4 /dev/zero | od -An -tx1'");
  ck_assert_str_eq (g_strstrip (bytes), "00 00 00 00");
  /* /dev/zero is one of LXC's basic nodes: nothing added to the devices cgroup */
  after = devices_list (id);
  ck_assert_str_eq (after, before);
  h_destroy (id);
}
END_TEST

static char *test_node;

static void
remove_test_node (void)
{
  if (test_node != NULL)
    unlink (test_node);
}

START_TEST (mknod_test_device)
{
  g_autofree char *items = NULL, *cap = NULL, *st = NULL, *out = NULL, *cmd = NULL;
  struct stat host;
  int id;

  test_node = g_strdup_printf ("/dev/sc-test-null-%d", (int) getpid ());
  unlink (test_node);
  ck_assert_msg (mknod (test_node, S_IFCHR | 0600, makedev (1, 3)) == 0, "mknod %s: %s",
                 test_node, g_strerror (errno));
  atexit (remove_test_node);
  items = g_strdup_printf ("[{\"name\": \"%s\", \"mode\": \"0666\"}]", test_node);
  cap = devicenode_cap ("test.node", items);
  write_caps (STRV (cap));
  h_agent_start (NULL);
  id = h_create ("[]");
  h_set_capabilities (id, STRV ("test.node"));

  st = stat_inside (id, test_node);
  ck_assert_str_eq (st, "666 1:3 character special file");
  /* usable: it is the null device */
  cmd = g_strdup_printf ("sh -c 'echo gone > %s && cat %s && echo done'", test_node, test_node);
  out = h_run_ok (id, cmd);
  ck_assert_str_eq (out, "done\n");
  /* as another user too: the mode is what counts */
  g_free (out);
  g_free (cmd);
  cmd = g_strdup_printf ("setpriv --reuid=1000 --regid=1000 --clear-groups sh -c 'echo x > %s && echo done'",
                         test_node);
  out = h_run_ok (id, cmd);
  ck_assert_str_eq (out, "done\n");
  /* the host's node is untouched */
  ck_assert_int_eq (stat (test_node, &host), 0);
  ck_assert_uint_eq (host.st_mode & 07777, 0600);
  h_destroy (id);
  remove_test_node ();
}
END_TEST

START_TEST (mode_limits_other_users)
{
  g_autofree char *cap = devicenode_cap ("test.zero", "[{\"name\": \"/dev/zero\", \"mode\": \"0600\"}]");
  g_autofree char *out = NULL;
  guint code;
  int id;

  write_caps (STRV (cap));
  h_agent_start (NULL);
  id = h_create ("[]");
  h_set_capabilities (id, STRV ("test.zero"));
  g_free (h_run_ok (id, "head -c 1 /dev/zero"));
  out = h_run (id, "setpriv --reuid=1000 --regid=1000 --clear-groups head -c 1 /dev/zero", &code);
  ck_assert_msg (code != 0 && strstr (out, "Permission denied") != NULL, "code %u: %s", code, out);
  h_destroy (id);
}
END_TEST

START_TEST (not_granted_cannot_be_opened)
{
  g_autofree char *cap = devicenode_cap ("test.fuse", "[{\"name\": \"/dev/fuse\", \"mode\": \"0666\"}]");
  g_autofree char *before = NULL, *after = NULL, *added = NULL, *result = NULL, *st = NULL;
  int id;

  write_caps (STRV (cap));
  h_agent_start (NULL);
  id = h_create ("[]");
  before = devices_list (id);
  ck_assert_msg (!has_line (before, "c 10:229 rw") && !has_line (before, "c 10:229 rwm"),
                 "fuse is allowed before the gateway: %s", before);

  /* the app may make a node (mknod is allowed, and the container keeps CAP_MKNOD) ... */
  g_free (h_run_ok (id, "mknod /dev/sc-own-fuse c 10 229"));
  /* ... but not open it: the devices cgroup says no */
  result = open_inside (id, "/dev/sc-own-fuse");
  ck_assert_str_eq (result, "EPERM");
  g_free (result);
  result = open_inside (id, "/dev/fuse");
  ck_assert_str_eq (result, "ENOENT");

  /* granted later (dynamic): the gateway's node and the app's both open */
  h_set_capabilities (id, STRV ("test.fuse"));
  st = stat_inside (id, "/dev/fuse");
  ck_assert_str_eq (st, "666 a:e5 character special file");
  g_free (result);
  result = open_inside (id, "/dev/fuse");
  ck_assert_str_eq (result, "ok");
  g_free (result);
  result = open_inside (id, "/dev/sc-own-fuse");
  ck_assert_str_eq (result, "ok");
  /* exactly that device was added, read-write and no more */
  after = devices_list (id);
  added = added_lines (before, after);
  ck_assert_str_eq (added, "c 10:229 rw");
  h_destroy (id);
}
END_TEST

START_TEST (node_in_subdirectory)
{
  g_autofree char *cap = devicenode_cap ("test.tun", "[{\"name\": \"/dev/net/tun\"}]");
  g_autofree char *before = NULL, *after = NULL, *added = NULL, *result = NULL, *st = NULL;
  g_autofree char *expected = NULL;
  struct stat host;
  int id;

  ck_assert_int_eq (stat ("/dev/net/tun", &host), 0);
  write_caps (STRV (cap));
  h_agent_start (NULL);
  id = h_create ("[]");
  before = devices_list (id);
  h_set_capabilities (id, STRV ("test.tun"));
  /* no mode given: the host node's */
  st = stat_inside (id, "/dev/net/tun");
  expected = g_strdup_printf ("%o a:c8 character special file", host.st_mode & 0777);
  ck_assert_str_eq (st, expected);
  result = open_inside (id, "/dev/net/tun");
  ck_assert_str_eq (result, "ok");
  after = devices_list (id);
  added = added_lines (before, after);
  ck_assert_str_eq (added, "c 10:200 rw");
  h_destroy (id);
}
END_TEST

START_TEST (later_calls_add)
{
  g_autofree char *a = devicenode_cap ("test.a", "[{\"name\": \"/dev/zero\", \"mode\": \"0640\"}]");
  g_autofree char *b = devicenode_cap ("test.b", "[{\"name\": \"/dev/zero\", \"mode\": \"0604\"},"
                                                 " {\"name\": \"/dev/fuse\", \"mode\": \"0600\"}]");
  g_autofree char *c = devicenode_cap ("test.c", "[{\"name\": \"/dev/fuse\", \"mode\": \"0060\"}]");
  g_autofree char *st = NULL, *result = NULL;
  int id;

  write_caps (STRV (a, b, c));
  h_agent_start (NULL);
  id = h_create ("[]");
  h_set_capabilities (id, STRV ("test.a"));
  st = stat_inside (id, "/dev/zero");
  ck_assert_str_eq (st, "640 1:5 character special file");
  h_set_capabilities (id, STRV ("test.b"));
  g_free (st);
  st = stat_inside (id, "/dev/zero");
  ck_assert_str_eq (st, "644 1:5 character special file");
  g_free (st);
  st = stat_inside (id, "/dev/fuse");
  ck_assert_str_eq (st, "600 a:e5 character special file");
  h_set_capabilities (id, STRV ("test.c"));
  g_free (st);
  st = stat_inside (id, "/dev/fuse");
  ck_assert_str_eq (st, "660 a:e5 character special file");
  result = open_inside (id, "/dev/fuse");
  ck_assert_str_eq (result, "ok");
  /* the same capability twice is refused, as for every gateway */
  g_free (set_caps_fails ("BadState", id, STRV ("test.a")));
  h_destroy (id);
}
END_TEST

START_TEST (later_gateway_failure_takes_back)
{
  g_autofree char *dir = h_path ("a-dir");
  g_autofree char *manifest = NULL;
  g_autofree char *msg = NULL, *before = NULL, *after = NULL, *result = NULL, *st = NULL;
  guint code;
  int id;

  g_mkdir (dir, 0755);
  /* the file gateway comes after devicenode and fails when applied: a directory cannot be
   * mounted onto /dev/null */
  manifest = g_strdup_printf (
      "{\"version\": \"1\", \"capabilities\": ["
      "{\"name\": \"test.both\", \"gateways\": ["
      "  {\"id\": \"devicenode\", \"config\": [{\"name\": \"/dev/net/tun\", \"mode\": \"0666\"},"
      "                                        {\"name\": \"/dev/zero\", \"mode\": \"0600\"}]},"
      "  {\"id\": \"file\", \"config\": [{\"path-host\": \"%s\", \"path-container\": \"/dev/null\"}]}]}"
      "]}",
      dir);
  write_manifest ("both.json", manifest);
  h_agent_start (NULL);
  id = h_create ("[]");
  before = devices_list (id);
  st = stat_inside (id, "/dev/zero");
  msg = set_caps_fails ("GatewayFailed", id, STRV ("test.both"));
  assert_contains (msg, "/dev/null");

  /* the node and the directory it made are gone, /dev/zero has its mode back, the grant too */
  g_free (h_run (id, "test -e /dev/net", &code));
  ck_assert_msg (code != 0, "/dev/net is still in the container");
  after = stat_inside (id, "/dev/zero");
  ck_assert_str_eq (after, st);
  g_free (after);
  after = devices_list (id);
  ck_assert_str_eq (after, before);
  g_free (h_run_ok (id, "mkdir -p /dev/net"));
  g_free (h_run_ok (id, "mknod /dev/net/tun c 10 200"));
  result = open_inside (id, "/dev/net/tun");
  ck_assert_str_eq (result, "EPERM");
  h_destroy (id);
}
END_TEST

START_TEST (existing_other_file_fails)
{
  g_autofree char *cap = devicenode_cap ("test.two",
                                         "[{\"name\": \"/dev/net/tun\", \"mode\": \"0666\"},"
                                         " {\"name\": \"/dev/fuse\"}]");
  g_autofree char *msg = NULL, *before = NULL, *after = NULL, *st = NULL;
  guint code;
  int id;

  write_caps (STRV (cap));
  h_agent_start (NULL);
  id = h_create ("[]");
  before = devices_list (id);
  /* the app put something else at the second name: the gateway neither uses nor replaces it,
   * and takes back what it did for the first one */
  g_free (h_run_ok (id, "mknod /dev/fuse c 1 3"));
  msg = set_caps_fails ("GatewayFailed", id, STRV ("test.two"));
  assert_contains (msg, "/dev/fuse");
  assert_contains (msg, "another file of that name");
  after = devices_list (id);
  ck_assert_str_eq (after, before);
  g_free (h_run (id, "test -e /dev/net", &code));
  ck_assert_msg (code != 0, "/dev/net is still in the container");
  st = stat_inside (id, "/dev/fuse");
  ck_assert_str_eq (st, "644 1:3 character special file");
  h_destroy (id);
}
END_TEST

START_TEST (planted_symlink_not_followed)
{
  g_autofree char *cap = devicenode_cap ("test.tun", "[{\"name\": \"/dev/net/tun\"}]");
  g_autofree char *msg = NULL, *before = NULL, *after = NULL;
  guint code;
  int id;

  write_caps (STRV (cap));
  h_agent_start (NULL);
  id = h_create ("[]");
  before = devices_list (id);
  /* the app makes /dev/net a symlink elsewhere: the gateway must not create the node there */
  g_free (h_run_ok (id, "mkdir /tmp/elsewhere"));
  g_free (h_run_ok (id, "ln -s /tmp/elsewhere /dev/net"));
  msg = set_caps_fails ("GatewayFailed", id, STRV ("test.tun"));
  assert_contains (msg, "/dev/net/tun");
  g_free (h_run (id, "test -e /tmp/elsewhere/tun", &code));
  ck_assert_msg (code != 0, "the node was made through the symlink");
  after = devices_list (id);
  ck_assert_str_eq (after, before);
  h_destroy (id);
}
END_TEST

START_TEST (config_errors)
{
  g_autofree char *a = devicenode_cap ("test.notdev", "[{\"name\": \"/dev/shm\"}]");
  g_autofree char *b = devicenode_cap ("test.missing", "[{\"name\": \"/dev/sc-no-such-device\"}]");
  g_autofree char *c = devicenode_cap ("test.outside", "[{\"name\": \"/etc/passwd\"}]");
  g_autofree char *d = devicenode_cap ("test.mode", "[{\"name\": \"/dev/zero\", \"mode\": \"rw\"}]");
  g_autofree char *msg = NULL;
  int id;

  write_caps (STRV (a, b, c, d));
  h_agent_start (NULL);
  id = h_create ("[]");
  msg = set_caps_fails ("GatewayConfig", id, STRV ("test.notdev"));
  assert_contains (msg, "not a device node");
  g_free (msg);
  msg = set_caps_fails ("GatewayConfig", id, STRV ("test.missing"));
  assert_contains (msg, "does not exist");
  g_free (msg);
  msg = set_caps_fails ("GatewayConfig", id, STRV ("test.outside"));
  assert_contains (msg, "under /dev");
  g_free (msg);
  msg = set_caps_fails ("GatewayConfig", id, STRV ("test.mode"));
  assert_contains (msg, "'mode'");
  h_destroy (id);
}
END_TEST

static char *
read_example (const char *file_name)
{
  g_autofree char *path = g_build_filename (SC_SOURCE_DIR, "service-manifests",
                                            "service-manifest.d", file_name, NULL);
  char *text = h_read (path);

  ck_assert_msg (text != NULL, "cannot read %s", path);
  return text;
}

/* The example manifests of the source tree, as written: com.example.fuse works on any host with
 * /dev/fuse; com.example.gpu needs /dev/dri/card0, which this host may lack. */
START_TEST (example_manifests)
{
  g_autofree char *fuse = read_example ("com.example.fuse.json");
  g_autofree char *gpu = read_example ("com.example.gpu.json");
  g_autofree char *st = NULL, *result = NULL;
  int id;

  h_write_manifest (FALSE, "com.example.fuse.json", fuse);
  h_write_manifest (FALSE, "com.example.gpu.json", gpu);
  h_agent_start (NULL);
  id = h_create ("[]");
  h_set_capabilities (id, STRV ("com.example.fuse"));
  st = stat_inside (id, "/dev/fuse");
  ck_assert_str_eq (st, "666 a:e5 character special file");
  result = open_inside (id, "/dev/fuse");
  ck_assert_str_eq (result, "ok");
  if (g_file_test ("/dev/dri/card0", G_FILE_TEST_EXISTS))
    {
      h_set_capabilities (id, STRV ("com.example.gpu"));
      g_free (h_run_ok (id, "test -c /dev/dri/card0"));
    }
  else
    {
      g_autofree char *msg = set_caps_fails ("GatewayConfig", id, STRV ("com.example.gpu"));
      assert_contains (msg, "device '/dev/dri/card0' does not exist on the host");
    }
  h_destroy (id);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("devicenode");
  TCase *tc = h_tcase_bus_only ("devicenode");

  tcase_add_test (tc, zero_with_merged_mode);
  tcase_add_test (tc, mknod_test_device);
  tcase_add_test (tc, mode_limits_other_users);
  tcase_add_test (tc, not_granted_cannot_be_opened);
  tcase_add_test (tc, node_in_subdirectory);
  tcase_add_test (tc, later_calls_add);
  tcase_add_test (tc, later_gateway_failure_takes_back);
  tcase_add_test (tc, existing_other_file_fails);
  tcase_add_test (tc, planted_symlink_not_followed);
  tcase_add_test (tc, config_errors);
  tcase_add_test (tc, example_manifests);
  suite_add_tcase (s, tc);
  return h_run_suite (s);
}
