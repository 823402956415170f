/* The security baseline through the real agent: what an Execute'd process gets (descriptors,
 * no_new_privs, seccomp, capabilities, environment), what the container cannot do to itself,
 * who may call, oversized and malformed input, container IDs, and read-only bind mounts. */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

/* lxc.cap.keep of security.md: chown dac_override fowner fsetid kill setgid setuid setpcap
 * setfcap net_bind_service sys_chroot mknod audit_write */
#define KEEP_MASK "00000000a80405fb"

/* ---- helpers ------------------------------------------------------------------------------ */

static GVariant *
no_env (void)
{
  return g_variant_new_array (G_VARIANT_TYPE ("{ss}"), NULL, 0);
}

/* Calls method and asserts it fails with code_word; returns the message (g_free). */
static char *
call_expect_msg (const char *code_word, const char *method, GVariant *args)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) r = h_call (method, args, &error);

  h_assert_failed (error, code_word);
  return g_strdup (error->message);
}

/* The value of "Name:\t..." in /proc/<pid>/status text (g_free), or NULL. */
static char *
status_field (const char *status, const char *name)
{
  g_auto (GStrv) lines = g_strsplit (status, "\n", -1);
  g_autofree char *prefix = g_strdup_printf ("%s:", name);

  for (char **l = lines; *l != NULL; l++)
    if (g_str_has_prefix (*l, prefix))
      return g_strstrip (g_strdup (*l + strlen (prefix)));
  return NULL;
}

/* Runs command and asserts it ran (the program exists) but failed. */
static void
expect_refused (int id, const char *command)
{
  guint code;
  g_autofree char *out = h_run (id, command, &code);

  ck_assert_msg (code != 0, "'%s' succeeded inside the container: %s", command, out);
  ck_assert_msg (code < 126, "'%s' did not run (exit %u): %s", command, code, out);
}

static guint
list_length (void)
{
  guint n;
  g_autofree int *ids = h_list (&n);

  return n;
}

static void
find_sc_names (const char *dir, GString *found)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    if (g_str_has_prefix (name, "SC-"))
      g_string_append_printf (found, "  %s/%s\n", dir, name);
}

/* A refused Create left nothing on the host (h_assert_host_clean cannot run while the agent
 * lives: it counts the agent itself as a leak). */
static void
assert_no_container_traces (void)
{
  g_autoptr (GString) found = g_string_new (NULL);
  g_autofree char *mountinfo = h_read ("/proc/self/mountinfo");

  find_sc_names (h->lxcpath, found);
  find_sc_names (h->shared_mounts_dir, found);
  find_sc_names ("/sys/fs/cgroup/devices/lxc", found);
  if (mountinfo != NULL && strstr (mountinfo, "/SC-") != NULL)
    g_string_append (found, "  a mount of an SC-* path\n");
  ck_assert_msg (found->len == 0, "a refused Create left traces:\n%s", found->str);
}

/* Runs argv (NULL-terminated) on the host and returns its stdout+stderr and exit status. */
static char *
host_run (const char *const *argv, int *status)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                     status, &error))
    ck_abort_msg ("cannot run %s: %s", argv[0], error->message);
  return g_strconcat (out, err, NULL);
}

static char *
list_as_nobody (int *status)
{
  const char *const argv[] = { "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                               "gdbus", "call", "--system",
                               "--dest", "com.pelagicore.SoftwareContainerAgent",
                               "--object-path", "/com/pelagicore/SoftwareContainerAgent",
                               "--method", "com.pelagicore.SoftwareContainerAgent.List", NULL };

  /* DBUS_SYSTEM_BUS_ADDRESS is set to the test bus in our environment by the harness */
  ck_assert_str_eq (g_getenv ("DBUS_SYSTEM_BUS_ADDRESS"), h->bus_address);
  return host_run (argv, status);
}

static char *
list_as_root (int *status)
{
  const char *const argv[] = { "gdbus", "call", "--system",
                               "--dest", "com.pelagicore.SoftwareContainerAgent",
                               "--object-path", "/com/pelagicore/SoftwareContainerAgent",
                               "--method", "com.pelagicore.SoftwareContainerAgent.List", NULL };

  return host_run (argv, status);
}

/* ---- what a started process gets ------------------------------------------------------------ */

START_TEST (process_has_only_standard_fds)
{
  int id = h_create ("[]");
  g_autofree char *out = NULL;

  /* the shell's own descriptors (ls opens one more for the directory it reads) */
  out = h_run_ok (id, "sh -c 'ls /proc/$$/fd'");
  ck_assert_str_eq (out, "0\n1\n2\n");
  g_clear_pointer (&out, g_free);
  /* and the program Execute starts directly: ls itself has 0, 1, 2 and its directory */
  out = h_run_ok (id, "ls /proc/self/fd");
  ck_assert_str_eq (out, "0\n1\n2\n3\n");
  g_clear_pointer (&out, g_free);
  /* the container's init holds nothing of the agent's either (a process there could reopen
   * its descriptors through /proc/1/fd) */
  out = h_run_ok (id, "ls /proc/1/fd");
  ck_assert_str_eq (out, "0\n1\n2\n");
  g_clear_pointer (&out, g_free);
  /* stdin is /dev/null, stdout and stderr the output file */
  out = h_run_ok (id, "sh -c 'readlink /proc/$$/fd/0'");
  ck_assert_str_eq (out, "/dev/null\n");
  h_destroy (id);
}
END_TEST

START_TEST (process_privileges)
{
  int id = h_create ("[]");
  g_autofree char *status = h_run_ok (id, "cat /proc/self/status");
  const char *const fields[] = { "CapBnd", "CapEff", "CapPrm" };
  g_autofree char *nnp = status_field (status, "NoNewPrivs");
  g_autofree char *seccomp = status_field (status, "Seccomp");
  g_autofree char *amb = status_field (status, "CapAmb");
  g_autofree char *uid = status_field (status, "Uid");

  ck_assert_msg (nnp != NULL && strcmp (nnp, "1") == 0, "NoNewPrivs: %s", nnp);
  ck_assert_msg (seccomp != NULL && strcmp (seccomp, "2") == 0, "Seccomp: %s", seccomp);
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      g_autofree char *v = status_field (status, fields[i]);
      ck_assert_msg (v != NULL && strcmp (v, KEEP_MASK) == 0, "%s: %s, expected %s", fields[i], v,
                     KEEP_MASK);
    }
  ck_assert_msg (amb != NULL && strcmp (amb, "0000000000000000") == 0, "CapAmb: %s", amb);
  ck_assert_msg (uid != NULL && g_str_has_prefix (uid, "0\t"), "Uid: %s", uid);
  h_destroy (id);
}
END_TEST

START_TEST (process_environment_is_clean)
{
  int id;
  g_autofree char *path = h_path ("env.out");
  const char *const call_env[] = { "SC_FROM_CALL=yes", NULL };
  const char *const forbidden[] = { "G_MESSAGES_DEBUG", "LXC_MEMFD_REXEC",
                                    "DBUS_SYSTEM_BUS_ADDRESS", "HOME", "USER", "LOGNAME",
                                    "SC_TEST_CANARY", NULL };
  const char *const allowed[] = { "container", "PATH", "SC_FROM_CALL", NULL };
  g_autofree char *out = NULL;
  g_auto (GStrv) lines = NULL;
  gboolean saw_call = FALSE, saw_container = FALSE;
  int pid;

  /* a canary in the agent's environment (it inherits the test's), next to what the harness
   * gives it (G_MESSAGES_DEBUG, LXC_MEMFD_REXEC, DBUS_SYSTEM_BUS_ADDRESS) */
  g_setenv ("SC_TEST_CANARY", "leak", TRUE);
  h_agent_start (NULL);
  id = h_create ("[]");
  pid = h_execute (id, "env", "/", path, call_env);
  ck_assert_uint_eq (h_wait_exit (id, pid, 30000), 0);
  out = h_read (path);
  ck_assert (out != NULL);
  lines = g_strsplit (out, "\n", -1);
  for (char **l = lines; *l != NULL; l++)
    {
      g_autofree char *name = NULL;
      const char *eq = strchr (*l, '=');

      if (**l == '\0')
        continue;
      ck_assert_msg (eq != NULL, "odd env line '%s'", *l);
      name = g_strndup (*l, (gsize) (eq - *l));
      ck_assert_msg (!g_strv_contains (forbidden, name), "'%s' leaked into the container:\n%s",
                     name, out);
      ck_assert_msg (g_strv_contains (allowed, name), "unexpected variable '%s':\n%s", name, out);
      if (strcmp (*l, "SC_FROM_CALL=yes") == 0)
        saw_call = TRUE;
      if (strcmp (*l, "container=lxc") == 0)
        saw_container = TRUE;
    }
  ck_assert_msg (saw_call, "the call's variable is missing:\n%s", out);
  ck_assert_msg (saw_container, "container=lxc is missing:\n%s", out);
  h_destroy (id);
}
END_TEST

static char *
ns_of (int pid, const char *ns)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/ns/%s", pid, ns);
  char *target = g_file_read_link (path, NULL);

  ck_assert_msg (target != NULL, "cannot read %s", path);
  return target;
}

/* Waits until pid runs program (Execute answers once the process exists, maybe before exec). */
static void
wait_exec (int pid, const char *program)
{
  g_autofree char *comm_path = g_strdup_printf ("/proc/%d/comm", pid);
  g_autofree char *want = g_strdup_printf ("%s\n", program);
  g_autofree char *comm = NULL;

  for (int i = 0; i < 500; i++)
    {
      g_clear_pointer (&comm, g_free);
      comm = h_read (comm_path);
      if (comm == NULL || strcmp (comm, want) == 0)
        break;
      h_sleep (10);
    }
  ck_assert_msg (comm != NULL && strcmp (comm, want) == 0, "pid %d is '%s', not %s", pid, comm,
                 program);
}

START_TEST (process_confined_to_container)
{
  int id = h_create ("[]");
  int pid = h_execute (id, "sleep 60", "/", "", NULL);
  const char *const namespaces[] = { "mnt", "pid", "uts", "ipc", "net" };
  g_autofree char *cgroup_path = g_strdup_printf ("/proc/%d/cgroup", pid);
  g_autofree char *cgroups = NULL;
  g_autofree char *ours = g_strdup_printf ("/lxc/SC-%d", id);
  g_auto (GStrv) lines = NULL;
  guint v1 = 0;

  wait_exec (pid, "sleep");
  cgroups = h_read (cgroup_path);
  for (guint i = 0; i < G_N_ELEMENTS (namespaces); i++)
    {
      g_autofree char *theirs = ns_of (pid, namespaces[i]);
      g_autofree char *mine = ns_of (getpid (), namespaces[i]);
      ck_assert_msg (strcmp (theirs, mine) != 0, "the process shares the host's %s namespace",
                     namespaces[i]);
    }
  /* in the container's cgroup under every v1 hierarchy mounted here (limits, the devices
   * rules and the freezer reach it); a hierarchy not mounted under /sys/fs/cgroup is not
   * LXC's to use */
  ck_assert (cgroups != NULL);
  lines = g_strsplit (cgroups, "\n", -1);
  for (char **l = lines; *l != NULL; l++)
    {
      g_auto (GStrv) fields = g_strsplit (*l, ":", 3);
      g_autofree char *mounted = NULL;
      const char *name;

      if (g_strv_length (fields) != 3 || fields[1][0] == '\0')
        continue;
      name = g_str_has_prefix (fields[1], "name=") ? fields[1] + 5 : fields[1];
      mounted = g_build_filename ("/sys/fs/cgroup", name, "cgroup.procs", NULL);
      if (!g_file_test (mounted, G_FILE_TEST_EXISTS))
        continue;
      ck_assert_msg (strcmp (fields[2], ours) == 0, "the process is outside %s: %s", ours, *l);
      if (strcmp (name, "devices") == 0 || strcmp (name, "freezer") == 0
          || strcmp (name, "memory") == 0)
        v1++;
    }
  ck_assert_uint_eq (v1, 3);
  ck_assert_int_eq (kill (pid, SIGKILL), 0);
  ck_assert_uint_eq (h_wait_exit (id, pid, 30000), 128 + SIGKILL);
  h_destroy (id);
}
END_TEST

/* ---- what the container cannot do to itself -------------------------------------------------- */

START_TEST (container_cannot_raise_limits)
{
  int id = h_create ("[]");
  g_autofree char *out = NULL;
  guint code;

  out = h_run_ok (id, "hostname");
  ck_assert_str_eq (out, "contained\n");
  g_clear_pointer (&out, g_free);

  /* /usr is a read-only bind of the host's: no remount, no write */
  expect_refused (id, "mount -o remount,rw /usr");
  expect_refused (id, "mount -o remount,bind,rw /usr");
  expect_refused (id, "umount -l /usr");
  out = h_run (id, "sh -c 'echo x > /usr/sc-security-test'", &code);
  ck_assert_msg (code != 0, "writing to /usr worked");
  ck_assert_msg (strstr (out, "Read-only file system") != NULL, "not EROFS: %s", out);
  ck_assert (!g_file_test ("/usr/sc-security-test", G_FILE_TEST_EXISTS));
  g_clear_pointer (&out, g_free);

  /* devices: a node may be made, but only the allowed ones open. /dev is where nodes work at
   * all (the root is nodev), so the control there shows the cgroup is what refuses mem. */
  out = h_run_ok (id, "sh -c 'mknod /dev/sc-null c 1 3 && echo x > /dev/sc-null && echo ok'");
  ck_assert_str_eq (out, "ok\n");
  g_clear_pointer (&out, g_free);
  out = h_run (id,
               "sh -c 'mknod /dev/sc-mem c 1 1 || { echo mknod-refused; exit 0; }; "
               "head -c 1 /dev/sc-mem'",
               &code);
  ck_assert_msg (strstr (out, "mknod-refused") != NULL
                     || (code == 1 && strstr (out, "Operation not permitted") != NULL),
                 "opening 1:1 (mem) did not fail with EPERM (devices cgroup), exit %u: %s", code,
                 out);
  g_clear_pointer (&out, g_free);
  out = h_run (id,
               "sh -c 'mknod /tmp/x c 1 1 || { echo mknod-refused; exit 0; }; head -c 1 /tmp/x'",
               &code);
  ck_assert_msg (strstr (out, "mknod-refused") != NULL || code == 1,
                 "/tmp/x (1:1) could be opened, exit %u: %s", code, out);
  g_clear_pointer (&out, g_free);

  /* /proc/sys is read-only, and so is sysrq-trigger where the kernel has it (test -w asks
   * access(2), which writes nothing) */
  g_clear_pointer (&out, g_free);
  out = h_run_ok (id, "sh -c 'test ! -e /proc/sysrq-trigger || ! test -w /proc/sysrq-trigger "
                      "&& echo safe'");
  ck_assert_str_eq (out, "safe\n");
  g_clear_pointer (&out, g_free);
  out = h_run (id, "sh -c 'cat /proc/sys/kernel/hostname > /proc/sys/kernel/hostname'", &code);
  ck_assert_msg (code != 0, "writing /proc/sys worked");
  ck_assert_msg (strstr (out, "Read-only file system") != NULL, "not EROFS: %s", out);
  g_clear_pointer (&out, g_free);
  expect_refused (id, "mount -o remount,rw /proc/sys");
  out = h_run (id, "sh -c 'cat /proc/sys/kernel/hostname > /proc/sys/kernel/hostname'", &code);
  ck_assert_msg (code != 0, "writing /proc/sys worked after the remount attempt");
  h_destroy (id);
}
END_TEST

START_TEST (read_only_bind_mount_stays_read_only)
{
  int id = h_create ("[]");
  g_autofree char *dir = h_path ("ro-src");
  g_autofree char *marker = g_build_filename (dir, "marker", NULL);
  g_autofree char *written = g_build_filename (dir, "written", NULL);
  g_autofree char *out = NULL;
  guint code;

  ck_assert_int_eq (g_mkdir (dir, 0755), 0);
  ck_assert (g_file_set_contents (marker, "host\n", -1, NULL));
  h_bind_mount (id, dir, "/mnt/ro", TRUE);

  out = h_run (id, "sh -c 'echo x > /mnt/ro/written'", &code);
  ck_assert_msg (code != 0 && strstr (out, "Read-only file system") != NULL,
                 "the read-only mount took a write: %s", out);
  g_clear_pointer (&out, g_free);
  expect_refused (id, "mount -o remount,rw /mnt/ro");
  expect_refused (id, "mount -o remount,bind,rw /mnt/ro");
  expect_refused (id, "umount /mnt/ro");
  expect_refused (id, "umount -l /mnt/ro");
  /* a new mount on top is refused too */
  expect_refused (id, "mount -t tmpfs none /mnt/ro");

  /* still mounted, still read-only */
  out = h_run_ok (id, "cat /mnt/ro/marker");
  ck_assert_str_eq (out, "host\n");
  g_clear_pointer (&out, g_free);
  out = h_run (id, "sh -c 'echo x > /mnt/ro/written'", &code);
  ck_assert_msg (code != 0 && strstr (out, "Read-only file system") != NULL,
                 "the mount became writable: %s", out);
  ck_assert (!g_file_test (written, G_FILE_TEST_EXISTS));
  h_destroy (id);
}
END_TEST

/* ---- who may call ---------------------------------------------------------------------------- */

static void
open_bus_setup (void)
{
  g_setenv ("SC_TEST_BUS_OPEN", "1", TRUE);
}

static void
open_bus_teardown (void)
{
  g_unsetenv ("SC_TEST_BUS_OPEN");
}

START_TEST (agent_refuses_non_root)
{
  int status;
  g_autofree char *out = NULL;
  g_autofree char *log = NULL;

  ck_assert (g_getenv ("SC_TEST_BUS_OPEN") != NULL);
  /* control: the same call as root works */
  out = list_as_root (&status);
  ck_assert_msg (status == 0, "List as root failed: %s", out);
  g_clear_pointer (&out, g_free);

  out = list_as_nobody (&status);
  ck_assert_msg (status != 0, "List as uid 65534 succeeded: %s", out);
  ck_assert_msg (strstr (out, "org.freedesktop.DBus.Error.AccessDenied") != NULL,
                 "no AccessDenied: %s", out);
  ck_assert_msg (strstr (out, "may call the SoftwareContainer agent") != NULL,
                 "not the agent's refusal: %s", out);
  /* the agent itself refused, and said so */
  log = h_read (h->agent_log);
  ck_assert_msg (log != NULL && strstr (log, "uid 65534") != NULL,
                 "the agent did not log the refusal:\n%s", log);
}
END_TEST

START_TEST (bus_policy_refuses_non_root)
{
  int status;
  g_autofree char *out = NULL;
  g_autofree char *log = NULL;

  ck_assert (g_getenv ("SC_TEST_BUS_OPEN") == NULL);
  out = list_as_root (&status);
  ck_assert_msg (status == 0, "List as root failed: %s", out);
  g_clear_pointer (&out, g_free);

  out = list_as_nobody (&status);
  ck_assert_msg (status != 0, "List as uid 65534 succeeded: %s", out);
  ck_assert_msg (strstr (out, "org.freedesktop.DBus.Error.AccessDenied") != NULL,
                 "no AccessDenied: %s", out);
  /* the bus refused: the agent never saw the call */
  ck_assert_msg (strstr (out, "may call the SoftwareContainer agent") == NULL,
                 "the call reached the agent: %s", out);
  log = h_read (h->agent_log);
  ck_assert_msg (log == NULL || strstr (log, "uid 65534") == NULL,
                 "the call reached the agent:\n%s", log);
}
END_TEST

/* ---- oversized and malformed input ------------------------------------------------------------ */

/* "[{"writeBufferEnabled": false}   ...   ]" of exactly `size` bytes */
static char *
padded_config (gsize size)
{
  const char *head = "[{\"writeBufferEnabled\": false}";
  GString *s = g_string_sized_new (size + 1);

  g_string_append (s, head);
  while (s->len < size - 1)
    g_string_append_c (s, ' ');
  g_string_append_c (s, ']');
  ck_assert_uint_eq (s->len, size);
  return g_string_free (s, FALSE);
}

/* "[" then depth-1 nested objects: {"a": {"a": ... {} ... }} then "]" */
static char *
nested_config (int depth)
{
  GString *s = g_string_new ("[");

  for (int i = 1; i < depth - 1; i++)
    g_string_append (s, "{\"a\": ");
  g_string_append (s, "{}");
  for (int i = 1; i < depth - 1; i++)
    g_string_append_c (s, '}');
  g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}

START_TEST (oversized_create_config)
{
  g_autofree char *big = padded_config (1024 * 1024 + 1);
  g_autofree char *limit = padded_config (1024 * 1024);
  g_autofree char *msg = NULL;
  int id;

  msg = call_expect_msg ("InvalidArgument", "Create", g_variant_new ("(s)", big));
  ck_assert_msg (strstr (msg, "larger") != NULL, "message does not say why: %s", msg);
  ck_assert_uint_eq (list_length (), 0);
  assert_no_container_traces ();

  /* exactly 1 MiB is fine */
  id = h_create (limit);
  ck_assert_uint_eq (list_length (), 1);
  h_destroy (id);
}
END_TEST

START_TEST (nested_create_config)
{
  g_autofree char *deep65 = nested_config (65);
  g_autofree char *deep64 = nested_config (64);
  g_autofree char *arrays65 = NULL;
  g_autofree char *msg = NULL;
  int id;

  msg = call_expect_msg ("InvalidArgument", "Create", g_variant_new ("(s)", deep65));
  ck_assert_msg (strstr (msg, "nested") != NULL, "message does not mention nesting: %s", msg);
  g_clear_pointer (&msg, g_free);
  arrays65 = g_strconcat ("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
                          "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
                          NULL);
  ck_assert_uint_eq (strlen (arrays65), 130);
  msg = call_expect_msg ("InvalidArgument", "Create", g_variant_new ("(s)", arrays65));
  ck_assert_msg (strstr (msg, "nested") != NULL, "message does not mention nesting: %s", msg);
  g_clear_pointer (&msg, g_free);
  ck_assert_uint_eq (list_length (), 0);
  assert_no_container_traces ();

  /* 64 levels parse (the unknown key "a" is only warned about) */
  id = h_create (deep64);
  h_destroy (id);
}
END_TEST

START_TEST (nul_in_create_config)
{
  g_autofree char *msg = NULL;

  msg = call_expect_msg ("InvalidArgument", "Create",
                         g_variant_new ("(s)", "[{\"x\": \"a\\u0000b\"}]"));
  g_clear_pointer (&msg, g_free);
  msg = call_expect_msg ("InvalidArgument", "Create",
                         g_variant_new ("(s)", "[{\"writeBufferEnabled\\u0000\": true}]"));
  g_clear_pointer (&msg, g_free);
  /* json-glib's own octal escape would make a NUL as well */
  msg = call_expect_msg ("InvalidArgument", "Create", g_variant_new ("(s)", "[{\"x\": \"\\0\"}]"));
  ck_assert_uint_eq (list_length (), 0);
  assert_no_container_traces ();
}
END_TEST

START_TEST (oversized_command_line)
{
  int id = h_create ("[]");
  const gsize limit = 128 * 1024;
  GString *cmd = g_string_new ("true ");
  g_autofree char *msg = NULL;
  g_autofree char *at_limit = NULL;
  int pid;

  while (cmd->len < limit + 1)
    g_string_append_c (cmd, 'a');
  ck_assert_uint_eq (cmd->len, limit + 1);
  msg = call_expect_msg ("InvalidArgument", "Execute",
                         g_variant_new ("(isss@a{ss})", id, cmd->str, "/", "", no_env ()));
  g_string_truncate (cmd, limit);
  at_limit = g_string_free (cmd, FALSE);
  /* nothing ran for the refused one; exactly 128 KiB runs */
  pid = h_execute (id, at_limit, "/", "", NULL);
  ck_assert_uint_eq (h_wait_exit (id, pid, 30000), 0);
  ck_assert_uint_eq (g_queue_get_length (h->exits), 0);
  ck_assert_uint_eq (list_length (), 1);
  h_destroy (id);
}
END_TEST

/* ---- container IDs ----------------------------------------------------------------------------- */

static void
assert_invalid_id_everywhere (int bad, const char *host_dir)
{
  const char *const none[] = { NULL };
  g_autofree char *msg = NULL;

  h_call_expect ("InvalidId", "Execute",
                 g_variant_new ("(isss@a{ss})", bad, "true", "/", "", no_env ()));
  h_call_expect ("InvalidId", "Suspend", g_variant_new ("(i)", bad));
  h_call_expect ("InvalidId", "Resume", g_variant_new ("(i)", bad));
  h_call_expect ("InvalidId", "BindMount", g_variant_new ("(issb)", bad, host_dir, "/x", TRUE));
  h_call_expect ("InvalidId", "SetCapabilities", g_variant_new ("(i^as)", bad, none));
  msg = call_expect_msg ("InvalidId", "Destroy", g_variant_new ("(i)", bad));
  ck_assert_msg (strstr (msg, "ID") != NULL, "message does not name the ID: %s", msg);
}

START_TEST (invalid_ids)
{
  g_autofree char *dir = h_path ("id-src");
  int live, dead, again;
  g_autofree char *out = NULL;
  guint n;
  g_autofree int *ids = NULL;
  const int bad[] = { -1, -2, G_MININT32, G_MAXINT32, 12345 };

  ck_assert_int_eq (g_mkdir (dir, 0755), 0);
  live = h_create ("[]");
  dead = h_create ("[]");
  ck_assert_int_ge (live, 0);
  ck_assert_int_ne (live, dead);
  h_destroy (dead);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    if (bad[i] != live)
      assert_invalid_id_everywhere (bad[i], dir);
  assert_invalid_id_everywhere (dead, dir);

  /* a destroyed ID is not handed out again */
  again = h_create ("[]");
  ck_assert_int_ne (again, dead);
  ck_assert_int_ne (again, live);
  ck_assert_int_ge (again, 0);
  assert_invalid_id_everywhere (dead, dir);

  /* the live ones were not disturbed */
  ids = h_list (&n);
  ck_assert_uint_eq (n, 2);
  out = h_run_ok (live, "echo alive");
  ck_assert_str_eq (out, "alive\n");
  h_destroy (live);
  h_destroy (again);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("security");
  TCase *tc = h_tcase ("security");
  TCase *env = h_tcase_bus_only ("security-env");
  TCase *input = h_tcase ("input");
  TCase *open_bus = h_tcase ("caller-agent-check");
  TCase *closed_bus = h_tcase ("caller-bus-policy");

  tcase_add_test (tc, process_has_only_standard_fds);
  tcase_add_test (tc, process_privileges);
  tcase_add_test (tc, process_confined_to_container);
  tcase_add_test (env, process_environment_is_clean);
  tcase_add_test (tc, container_cannot_raise_limits);
  tcase_add_test (tc, read_only_bind_mount_stays_read_only);
  tcase_add_test (input, oversized_create_config);
  tcase_add_test (input, nested_create_config);
  tcase_add_test (input, nul_in_create_config);
  tcase_add_test (input, oversized_command_line);
  tcase_add_test (input, invalid_ids);
  /* the unchecked fixture runs in the runner before the fork: the checked setup sees it */
  tcase_add_unchecked_fixture (open_bus, open_bus_setup, open_bus_teardown);
  tcase_add_test (open_bus, agent_refuses_non_root);
  tcase_add_test (closed_bus, bus_policy_refuses_non_root);
  suite_add_tcase (s, tc);
  suite_add_tcase (s, env);
  suite_add_tcase (s, input);
  suite_add_tcase (s, open_bus);
  suite_add_tcase (s, closed_bus);
  return h_run_suite (s);
}
