/* Life cycle through the real agent: every method's success path, every error source of
 * Create, Destroy, Suspend, Resume and List (seeds/dbus-api.txt), invalid IDs, the state
 * machine (running / suspended / invalid), freezing, many containers at once, exit codes,
 * a container that dies by itself, and SIGTERM with live containers.
 *
 * What is checked is seen from both sides: inside the container (a command's output) and on
 * the host (lxcpath, shared-mounts dir, cgroups, mounts, processes). */
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/* ---- helpers ------------------------------------------------------------------------------ */

static const char *const no_caps[] = { NULL };

/* The IDs List returns, asserted to be strictly increasing (List is sorted, IDs are unique). */
static int *
list_sorted (guint *n)
{
  int *ids = h_list (n);

  for (guint i = 1; i < *n; i++)
    ck_assert_msg (ids[i - 1] < ids[i], "List is not sorted: %d before %d", ids[i - 1], ids[i]);
  return ids;
}

static void
assert_list (const int *expected, guint n_expected)
{
  guint n;
  g_autofree int *ids = list_sorted (&n);

  ck_assert_uint_eq (n, n_expected);
  for (guint i = 0; i < n; i++)
    ck_assert_int_eq (ids[i], expected[i]);
}

static gboolean
list_contains (int id)
{
  guint n;
  g_autofree int *ids = h_list (&n);

  for (guint i = 0; i < n; i++)
    if (ids[i] == id)
      return TRUE;
  return FALSE;
}

/* Number of entries named SC-<digits> (or .SC-<digits>) directly in dir. */
static guint
count_sc_entries (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  guint n = 0;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      const char *p = name[0] == '.' ? name + 1 : name;
      if (g_str_has_prefix (p, "SC-") && p[3] != '\0'
          && strspn (p + 3, "0123456789") == strlen (p + 3))
        n++;
    }
  return n;
}

/* Appends every path named `name` below dir (to depth levels) to found. */
static void
find_named (const char *dir, const char *name, int depth, GString *found)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *entry;

  while (d != NULL && (entry = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, entry, NULL);
      if (strcmp (entry, name) == 0)
        g_string_append_printf (found, "  %s\n", path);
      else if (depth > 0 && g_file_test (path, G_FILE_TEST_IS_DIR)
               && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
        find_named (path, name, depth - 1, found);
    }
}

/* Every trace on the host of container `id` is gone, while the agent (and other containers)
 * may still run; h_assert_host_clean cannot be used then, as it flags the running agent. */
static void
assert_container_gone (int id)
{
  g_autofree char *name = g_strdup_printf ("SC-%d", id);
  g_autofree char *in_mount = g_strdup_printf ("/%s/", name);
  g_autofree char *at_mount_end = g_strdup_printf ("/%s ", name);
  g_autofree char *cg_end = g_strdup_printf ("/%s\n", name);
  g_autofree char *mountinfo = h_read ("/proc/self/mountinfo");
  g_auto (GStrv) lines = g_strsplit (mountinfo ? mountinfo : "", "\n", -1);
  g_autoptr (GString) found = g_string_new (NULL);
  g_autoptr (GDir) proc = g_dir_open ("/proc", 0, NULL);
  const char *paths[] = {
    h->lxcpath, h->shared_mounts_dir, "/tmp/container", NULL,
  };
  g_autofree char *lock = g_strdup_printf ("/run/lxc/lock%s/.%s", h->lxcpath, name);
  const char *pid;

  ck_assert_msg (!list_contains (id), "container %d is still listed", id);
  for (const char **dir = paths; *dir != NULL; dir++)
    {
      g_autofree char *path = g_build_filename (*dir, name, NULL);
      if (g_file_test (path, G_FILE_TEST_EXISTS))
        g_string_append_printf (found, "  %s\n", path);
    }
  if (g_file_test (lock, G_FILE_TEST_EXISTS))
    g_string_append_printf (found, "  %s\n", lock);
  find_named ("/sys/fs/cgroup", name, 5, found);
  for (char **l = lines; *l != NULL; l++)
    if (strstr (*l, in_mount) != NULL || strstr (*l, at_mount_end) != NULL)
      g_string_append_printf (found, "  mount: %s\n", *l);
  while (proc != NULL && (pid = g_dir_read_name (proc)) != NULL)
    {
      g_autofree char *cg_path = g_strdup_printf ("/proc/%s/cgroup", pid);
      g_autofree char *cg = NULL;

      if (g_ascii_isdigit (pid[0]) && g_file_get_contents (cg_path, &cg, NULL, NULL)
          && (strstr (cg, in_mount) != NULL || strstr (cg, cg_end) != NULL))
        g_string_append_printf (found, "  process %s in its cgroup\n", pid);
    }
  ck_assert_msg (found->len == 0, "container %d left traces after Destroy:\n%s", id, found->str);
}

/* Calls method and expects it to fail with code_word; returns the error message (g_free). */
static char *
call_fails (const char *code_word, const char *method, GVariant *args)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) r = h_call (method, args, &error);

  h_assert_failed (error, code_word);
  return g_strdup (error->message);
}

static GVariant *
execute_args (int id, const char *command, const char *output_file)
{
  return g_variant_new ("(isss@a{ss})", id, command, "/", output_file ? output_file : "",
                        g_variant_new_array (G_VARIANT_TYPE ("{ss}"), NULL, 0));
}

static GVariant *
set_caps_args (int id)
{
  return g_variant_new ("(i^as)", id, no_caps);
}

/* Every method that takes an ID fails with code_word on id. */
static void
expect_all_methods_fail (int id, const char *code_word, const char *host_dir)
{
  g_autofree char *out = h_path ("never-written.out");

  h_call_expect (code_word, "Execute", execute_args (id, "touch /x", out));
  h_call_expect (code_word, "BindMount",
                 g_variant_new ("(issb)", id, host_dir, "/never-mounted", FALSE));
  h_call_expect (code_word, "SetCapabilities", set_caps_args (id));
  h_call_expect (code_word, "Suspend", g_variant_new ("(i)", id));
  h_call_expect (code_word, "Resume", g_variant_new ("(i)", id));
  ck_assert_msg (!g_file_test (out, G_FILE_TEST_EXISTS), "a failed Execute opened its output");
}

/* Waits (iterating the main context) until the condition holds; at most timeout_ms. */
static gboolean
file_size_grows (const char *path, goffset than, int timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  GStatBuf st;

  while (g_get_monotonic_time () < deadline)
    {
      if (g_stat (path, &st) == 0 && st.st_size > than)
        return TRUE;
      h_sleep (20);
    }
  return FALSE;
}

static goffset
file_size (const char *path)
{
  GStatBuf st;

  ck_assert_msg (g_stat (path, &st) == 0, "cannot stat %s", path);
  return st.st_size;
}

/* The host PID of the init (PID 1) of the PID namespace that `member` lives in. */
static pid_t
init_of (pid_t member)
{
  g_autofree char *ns_path = g_strdup_printf ("/proc/%d/ns/pid", (int) member);
  g_autofree char *ns = g_file_read_link (ns_path, NULL);
  g_autoptr (GDir) proc = g_dir_open ("/proc", 0, NULL);
  const char *name;

  ck_assert_msg (ns != NULL, "cannot read the PID namespace of %d", (int) member);
  while (proc != NULL && (name = g_dir_read_name (proc)) != NULL)
    {
      g_autofree char *path = NULL;
      g_autofree char *other = NULL;
      g_autofree char *status = NULL;
      const char *nspid;
      const char *eol;

      if (!g_ascii_isdigit (name[0]))
        continue;
      path = g_strdup_printf ("/proc/%s/ns/pid", name);
      other = g_file_read_link (path, NULL);
      if (g_strcmp0 (ns, other) != 0)
        continue;
      g_free (path);
      path = g_strdup_printf ("/proc/%s/status", name);
      if (!g_file_get_contents (path, &status, NULL, NULL)
          || (nspid = strstr (status, "\nNSpid:")) == NULL)
        continue;
      eol = strchr (nspid + 1, '\n');
      /* the last field is the PID inside the innermost namespace */
      if (eol != NULL && eol - nspid > 2 && eol[-1] == '1' && g_ascii_isspace (eol[-2]))
        return (pid_t) atoi (name);
    }
  ck_abort_msg ("no init found in the PID namespace of %d", (int) member);
  return -1;
}

static char *
proc_comm (pid_t pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/comm", (int) pid);
  char *text = h_read (path);

  return text != NULL ? g_strchomp (text) : g_strdup ("");
}

/* Number of pidfds the agent holds. */
static guint
count_agent_pidfds (void)
{
  g_autofree char *dir = g_strdup_printf ("/proc/%d/fd", (int) h->agent_pid);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  guint n = 0;

  ck_assert (d != NULL);
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autofree char *target = g_file_read_link (path, NULL);
      if (g_strcmp0 (target, "anon_inode:[pidfd]") == 0)
        n++;
    }
  return n;
}

/* ---- success paths ---------------------------------------------------------------------- */

START_TEST (create_execute_destroy)
{
  int id = h_create ("[{\"writeBufferEnabled\": false}]");
  guint n;
  g_autofree int *ids = h_list (&n);
  g_autofree char *out = NULL;

  ck_assert_uint_eq (n, 1);
  ck_assert_int_eq (ids[0], id);
  out = h_run_ok (id, "echo hello");
  ck_assert_str_eq (out, "hello\n");
  h_destroy (id);
  g_free (ids);
  ids = h_list (&n);
  ck_assert_uint_eq (n, 0);
}
END_TEST

START_TEST (list_empty_then_sorted)
{
  int a, b, c, d;

  assert_list (NULL, 0);
  a = h_create ("[]");
  b = h_create ("[{\"writeBufferEnabled\": false}]");
  c = h_create ("[]");
  ck_assert_int_ge (a, 0);
  ck_assert_int_lt (a, b);
  ck_assert_int_lt (b, c);
  assert_list ((int[]){ a, b, c }, 3);
  /* a hole in the middle, then one more: still sorted, the hole not refilled */
  h_destroy (b);
  assert_list ((int[]){ a, c }, 2);
  d = h_create ("[]");
  ck_assert_int_gt (d, c);
  assert_list ((int[]){ a, c, d }, 3);
  h_destroy (d);
  h_destroy (a);
  assert_list ((int[]){ c }, 1);
  h_destroy (c);
  assert_list (NULL, 0);
}
END_TEST

START_TEST (every_method_succeeds)
{
  g_autofree char *host_dir = h_path ("shared-with-container");
  g_autofree char *host_file = g_build_filename (host_dir, "greeting", NULL);
  g_autofree char *host_reply = g_build_filename (host_dir, "reply", NULL);
  g_autofree char *out = h_path ("env.out");
  g_autofree char *text = NULL;
  g_autoptr (GVariant) caps = NULL;
  g_autoptr (GVariant) caps_list = NULL;
  g_autoptr (GError) error = NULL;
  const char *const env[] = { "SC_TEST_VAR=some value", NULL };
  int empty_id, id, pid;

  /* Create with [] and with writeBufferEnabled false */
  empty_id = h_create ("[]");
  id = h_create ("[{\"writeBufferEnabled\": false}]");
  assert_list ((int[]){ empty_id, id }, 2);

  /* ListCapabilities: no manifests, nothing listed */
  caps = h_call ("ListCapabilities", NULL, &error);
  ck_assert_msg (caps != NULL, "ListCapabilities: %s", error ? error->message : "");
  ck_assert_str_eq (g_variant_get_type_string (caps), "(as)");
  caps_list = g_variant_get_child_value (caps, 0);
  ck_assert_uint_eq (g_variant_n_children (caps_list), 0);

  /* SetCapabilities with an empty list (just the defaults, of which there are none) */
  h_set_capabilities (id, NULL);

  /* Execute: env, working directory and output file as given */
  pid = h_execute (id, "sh -c 'echo \"$SC_TEST_VAR\"; pwd'", "/etc", out, env);
  ck_assert_uint_eq (h_wait_exit (id, pid, 30000), 0);
  text = h_read (out);
  ck_assert_str_eq (text, "some value\n/etc\n");
  g_clear_pointer (&text, g_free);
  /* the output file is appended to, not truncated */
  pid = h_execute (id, "echo again", "/", out, NULL);
  ck_assert_uint_eq (h_wait_exit (id, pid, 30000), 0);
  text = h_read (out);
  ck_assert_str_eq (text, "some value\n/etc\nagain\n");
  g_clear_pointer (&text, g_free);
  /* an empty output file discards the output */
  pid = h_execute (id, "echo discarded", "/", "", NULL);
  ck_assert_uint_eq (h_wait_exit (id, pid, 30000), 0);

  /* BindMount: a host directory appears inside, writable */
  ck_assert_int_eq (g_mkdir (host_dir, 0755), 0);
  ck_assert (g_file_set_contents (host_file, "from the host\n", -1, NULL));
  h_bind_mount (id, host_dir, "/mnt/from-host", FALSE);
  text = h_run_ok (id, "cat /mnt/from-host/greeting");
  ck_assert_str_eq (text, "from the host\n");
  g_clear_pointer (&text, g_free);
  g_free (h_run_ok (id, "sh -c 'echo from inside > /mnt/from-host/reply'"));
  text = h_read (host_reply);
  ck_assert_str_eq (text, "from inside\n");
  g_clear_pointer (&text, g_free);

  /* Suspend, Resume: the container works afterwards */
  h_suspend (id);
  h_resume (id);
  text = h_run_ok (id, "echo resumed");
  ck_assert_str_eq (text, "resumed\n");
  g_clear_pointer (&text, g_free);

  /* the other container was not touched by any of it */
  text = h_run_ok (empty_id, "sh -c 'test -e /mnt/from-host/greeting || echo absent'");
  ck_assert_str_eq (text, "absent\n");
  g_clear_pointer (&text, g_free);

  /* Destroy */
  h_destroy (id);
  assert_list ((int[]){ empty_id }, 1);
  assert_container_gone (id);
  h_destroy (empty_id);
  assert_list (NULL, 0);
  assert_container_gone (empty_id);
}
END_TEST

/* ---- Create's errors ------------------------------------------------------------------------ */

START_TEST (create_invalid_config)
{
  static const char *const bad[] = {
    "",
    "[",
    "[{\"writeBufferEnabled\": false}",
    "[{writeBufferEnabled: false}]",
    "not json at all",
    "{\"writeBufferEnabled\": false}",
    "\"[]\"",
    "42",
    "null",
    "[1]",
    "[[]]",
    "[{}, \"writeBufferEnabled\"]",
    "[null]",
    "[{\"writeBufferEnabled\": \"false\"}]",
    "[{\"writeBufferEnabled\": 0}]",
    "[{\"writeBufferEnabled\": null}]",
    "[{\"temporaryFileSystemWriteBufferEnabled\": \"yes\"}]",
    "[{\"temporaryFileSystemWriteBufferEnabled\": true, \"temporaryFileSystemSize\": \"100M\"}]",
    "[{\"temporaryFileSystemWriteBufferEnabled\": true, \"temporaryFileSystemSize\": 1.5}]",
    "[{\"temporaryFileSystemSize\": \"1048576\"}]",
    "[{\"temporaryFileSystemSize\": true}]",
  };
  int existing = h_create ("[]");
  int after;

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *message = call_fails ("InvalidArgument", "Create",
                                             g_variant_new ("(s)", bad[i]));

      /* no new container, not in List and not in LXC's lxcpath nor the shared-mounts dir */
      assert_list (&existing, 1);
      ck_assert_msg (count_sc_entries (h->lxcpath) == 1,
                     "Create with '%s' left a container in %s", bad[i], h->lxcpath);
      ck_assert_msg (count_sc_entries (h->shared_mounts_dir) <= 1,
                     "Create with '%s' left a directory in %s", bad[i], h->shared_mounts_dir);
    }

  /* an unknown key is only a warning, which names the key */
  after = h_create ("[{\"writeBufferEnabled\": false, \"someFutureKey\": {\"x\": 1}}]");
  ck_assert_int_gt (after, existing);
  assert_list ((int[]){ existing, after }, 2);
  {
    g_autofree char *log = h_read (h->agent_log);
    ck_assert_msg (log != NULL && strstr (log, "someFutureKey") != NULL,
                   "no warning naming the unknown key in the agent log");
  }
  g_free (h_run_ok (after, "true"));
  h_destroy (after);
  h_destroy (existing);
  assert_list (NULL, 0);
  ck_assert_uint_eq (count_sc_entries (h->lxcpath), 0);
}
END_TEST

/* dbus-api.txt: "Container ID already being in use (caused by lingering old containers)". A
 * lingering SC-<id> that appears after the agent started (its startup cleanup removed the
 * older ones) makes the Create that draws that ID fail; the lingering one is not the agent's to
 * remove, and the next Create draws the next ID. IDs are drawn in sequence, so the next one is
 * known. */
START_TEST (create_over_lingering_container)
{
  int first = h_create ("[]");
  g_autofree char *name = g_strdup_printf ("SC-%d", first + 1);
  g_autofree char *lingering = g_build_filename (h->lxcpath, name, NULL);
  g_autofree char *config = g_build_filename (lingering, "config", NULL);
  g_autofree char *message = NULL;
  g_autofree char *content = NULL;
  int next;

  ck_assert_int_eq (g_mkdir (lingering, 0700), 0);
  ck_assert (g_file_set_contents (config, "# not the agent's\n", -1, NULL));
  message = call_fails ("Lxc", "Create", g_variant_new ("(s)", "[]"));
  ck_assert_msg (strstr (message, name) != NULL, "the error does not name %s: %s", name, message);
  assert_list (&first, 1);
  content = h_read (config);
  ck_assert_msg (g_strcmp0 (content, "# not the agent's\n") == 0,
                 "the failed Create touched the lingering %s", name);
  next = h_create ("[]");
  ck_assert_int_gt (next, first + 1);
  assert_list ((int[]){ first, next }, 2);
  g_free (h_run_ok (next, "true"));
  h_destroy (next);
  h_destroy (first);
  ck_assert (g_file_test (config, G_FILE_TEST_IS_REGULAR));
  ck_assert_int_eq (unlink (config), 0);
  ck_assert_int_eq (rmdir (lingering), 0);
}
END_TEST

/* ---- invalid IDs ---------------------------------------------------------------------------- */

START_TEST (invalid_ids)
{
  g_autofree char *host_dir = h_path ("dir");
  int live = h_create ("[]");
  int destroyed = h_create ("[]");
  const int ids[] = { destroyed + 1000, -1, G_MININT32, G_MAXINT32, destroyed };

  ck_assert_int_eq (g_mkdir (host_dir, 0755), 0);
  h_destroy (destroyed);
  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    {
      expect_all_methods_fail (ids[i], "InvalidId", host_dir);
      h_call_expect ("InvalidId", "Destroy", g_variant_new ("(i)", ids[i]));
      assert_list (&live, 1);
    }
  /* the live container was not disturbed */
  g_free (h_run_ok (live, "true"));
  h_destroy (live);
  /* and Destroy twice: the second is an invalid ID */
  h_call_expect ("InvalidId", "Destroy", g_variant_new ("(i)", live));
  assert_list (NULL, 0);
}
END_TEST

/* ---- the state machine ---------------------------------------------------------------------- */

START_TEST (suspend_resume_states)
{
  g_autofree char *host_dir = h_path ("dir");
  g_autofree char *host_file = g_build_filename (host_dir, "f", NULL);
  g_autofree char *out = h_path ("suspended.out");
  g_autofree char *text = NULL;
  int id = h_create ("[]");

  ck_assert_int_eq (g_mkdir (host_dir, 0755), 0);
  ck_assert (g_file_set_contents (host_file, "content\n", -1, NULL));

  /* Resume of a running container */
  h_call_expect ("BadState", "Resume", g_variant_new ("(i)", id));
  h_suspend (id);
  /* Suspend twice */
  h_call_expect ("BadState", "Suspend", g_variant_new ("(i)", id));
  /* Execute, BindMount and SetCapabilities on a suspended container */
  h_call_expect ("BadState", "Execute", execute_args (id, "touch /x", out));
  h_call_expect ("BadState", "BindMount", g_variant_new ("(issb)", id, host_dir, "/m", FALSE));
  h_call_expect ("BadState", "SetCapabilities", set_caps_args (id));
  ck_assert_msg (!g_file_test (out, G_FILE_TEST_EXISTS), "a refused Execute opened its output");
  assert_list (&id, 1);

  h_resume (id);
  h_call_expect ("BadState", "Resume", g_variant_new ("(i)", id));
  /* now they work, and the refused BindMount left no mount behind on /m */
  h_set_capabilities (id, NULL);
  h_bind_mount (id, host_dir, "/m", TRUE);
  text = h_run_ok (id, "cat /m/f");
  ck_assert_str_eq (text, "content\n");
  g_clear_pointer (&text, g_free);
  text = h_run_ok (id, "sh -c 'test -e /x || echo no-x'");
  ck_assert_str_eq (text, "no-x\n");

  /* Suspend again works after a Resume; Destroy of a suspended container leaves nothing */
  h_suspend (id);
  h_destroy (id);
  assert_list (NULL, 0);
  assert_container_gone (id);
}
END_TEST

START_TEST (ids_never_reused)
{
  int ids[5];

  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    {
      ids[i] = h_create ("[]");
      ck_assert_int_ge (ids[i], 0);
      if (i > 0)
        ck_assert_msg (ids[i] > ids[i - 1], "ID %d after %d", ids[i], ids[i - 1]);
      h_destroy (ids[i]);
      assert_list (NULL, 0);
    }
}
END_TEST

START_TEST (suspend_freezes)
{
  g_autofree char *host_dir = h_path ("ticks");
  g_autofree char *ticks = g_build_filename (host_dir, "log", NULL);
  int id = h_create ("[]");
  goffset frozen, later;
  int pid;

  ck_assert_int_eq (g_mkdir (host_dir, 0755), 0);
  h_bind_mount (id, host_dir, "/ticks", FALSE);
  pid = h_execute (id, "sh -c 'while :; do echo tick >> /ticks/log; sleep 0.05; done'", "/",
                   NULL, NULL);
  ck_assert_msg (file_size_grows (ticks, 10, 10000), "the ticking process does not tick");

  h_suspend (id);
  frozen = file_size (ticks);
  h_sleep (400);
  later = file_size (ticks);
  ck_assert_msg (later == frozen, "the file grew from %ld to %ld bytes while suspended",
                 (long) frozen, (long) later);
  ck_assert_uint_eq (h->exits->length, 0);

  h_resume (id);
  ck_assert_msg (file_size_grows (ticks, frozen, 5000), "the file does not grow after Resume");
  ck_assert_msg (file_size_grows (ticks, file_size (ticks), 5000), "ticking stopped");
  h_destroy (id);
  /* the ticking process ended with the container */
  h_wait_exit (id, pid, 10000);
  assert_container_gone (id);
}
END_TEST

START_TEST (ten_containers)
{
  int ids[10], pids[10];
  char *outs[10];

  for (guint i = 0; i < 10; i++)
    ids[i] = h_create ("[]");
  for (guint i = 0; i < 10; i++)
    {
      g_autofree char *name = g_strdup_printf ("out-%u", i);
      g_autofree char *command = g_strdup_printf ("sh -c 'echo $0-$(hostname)' value%u", i * 7);

      outs[i] = h_path (name);
      pids[i] = h_execute (ids[i], command, "/", outs[i], NULL);
    }
  for (guint i = 0; i < 10; i++)
    {
      g_autofree char *expected = g_strdup_printf ("value%u-contained\n", i * 7);
      g_autofree char *text = NULL;

      ck_assert_uint_eq (h_wait_exit (ids[i], pids[i], 30000), 0);
      text = h_read (outs[i]);
      ck_assert_msg (g_strcmp0 (text, expected) == 0, "container %d wrote '%s', not '%s'", ids[i],
                     text, expected);
      g_free (outs[i]);
    }
  assert_list (ids, 10);
  for (guint i = 0; i < 10; i++)
    h_destroy (ids[i]);
  assert_list (NULL, 0);
  for (guint i = 0; i < 10; i++)
    assert_container_gone (ids[i]);
}
END_TEST

/* ---- processes ------------------------------------------------------------------------------ */

START_TEST (exit_codes)
{
  int id = h_create ("[]");
  guint code, pidfds;
  int pid;

  g_free (h_run (id, "sh -c 'exit 3'", &code));
  ck_assert_uint_eq (code, 3);
  g_free (h_run (id, "sh -c 'kill -TERM $$'", &code));
  ck_assert_uint_eq (code, 143);
  g_free (h_run (id, "/no/such/program", &code));
  ck_assert_uint_eq (code, 127);
  g_free (h_run (id, "true", &code));
  ck_assert_uint_eq (code, 0);

  /* killed from the host through the PID that Execute returned; other processes come and go
   * meanwhile and must not be mistaken for it (nor leave descriptors in the agent) */
  pid = h_execute (id, "sleep 1000", "/", NULL, NULL);
  pidfds = count_agent_pidfds ();
  for (guint i = 0; i < 5; i++)
    g_free (h_run_ok (id, "true"));
  ck_assert_uint_eq (count_agent_pidfds (), pidfds);
  h_sleep (100);
  ck_assert_msg (h->exits->length == 0, "an exit of the sleeping process was reported");
  ck_assert_int_eq (kill (pid, SIGKILL), 0);
  ck_assert_uint_eq (h_wait_exit (id, pid, 10000), 137);
  h_destroy (id);
}
END_TEST

START_TEST (container_dies_by_itself)
{
  g_autofree char *host_dir = h_path ("dir");
  g_autofree char *message = NULL;
  g_autofree char *comm = NULL;
  int id = h_create ("[]");
  int other = h_create ("[]");
  int pid = h_execute (id, "sleep 1000", "/", NULL, NULL);
  gint64 deadline;
  pid_t init;

  ck_assert_int_eq (g_mkdir (host_dir, 0755), 0);
  init = init_of (pid);
  comm = proc_comm (init);
  ck_assert_str_eq (comm, "sc-init");
  ck_assert_int_eq (kill (init, SIGKILL), 0);

  /* the process that ran there is reported, killed with the container */
  ck_assert_uint_eq (h_wait_exit (id, pid, 3000), 137);
  /* the container is marked invalid within a second or two: every call but Destroy fails */
  deadline = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;
  for (;;)
    {
      g_clear_pointer (&message, g_free);
      message = call_fails ("BadState", "Execute", execute_args (id, "true", NULL));
      if (strstr (message, "invalid") != NULL)
        break;
      ck_assert_msg (g_get_monotonic_time () < deadline,
                     "container %d not marked invalid 2 s after its init died: %s", id, message);
      h_sleep (50);
    }
  expect_all_methods_fail (id, "BadState", host_dir);
  /* still listed until destroyed */
  assert_list ((int[]){ id, other }, 2);

  /* the container beside it is unaffected */
  g_free (h_run_ok (other, "true"));

  h_destroy (id);
  assert_list (&other, 1);
  assert_container_gone (id);
  h_destroy (other);
}
END_TEST

/* ---- the agent's end ------------------------------------------------------------------------ */

START_TEST (sigterm_with_live_containers)
{
  int a = h_create ("[]");
  int b = h_create ("[{\"writeBufferEnabled\": false}]");
  int c = h_create ("[]");
  int status;

  h_execute (a, "sleep 1000", "/", NULL, NULL);
  g_free (h_run_ok (b, "true"));
  h_suspend (c);
  assert_list ((int[]){ a, b, c }, 3);
  status = h_agent_stop (SIGTERM);
  ck_assert_msg (WIFEXITED (status) && WEXITSTATUS (status) == 0,
                 "the agent did not exit 0 on SIGTERM (status 0x%x)", status);
  h_assert_host_clean ();
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("lifecycle");
  const struct {
    const char *name;
    const TTest *test;
  } tests[] = {
    { "create_execute_destroy", create_execute_destroy },
    { "list_empty_then_sorted", list_empty_then_sorted },
    { "every_method_succeeds", every_method_succeeds },
    { "create_invalid_config", create_invalid_config },
    { "create_over_lingering_container", create_over_lingering_container },
    { "invalid_ids", invalid_ids },
    { "suspend_resume_states", suspend_resume_states },
    { "ids_never_reused", ids_never_reused },
    { "suspend_freezes", suspend_freezes },
    { "ten_containers", ten_containers },
    { "exit_codes", exit_codes },
    { "container_dies_by_itself", container_dies_by_itself },
    { "sigterm_with_live_containers", sigterm_with_live_containers },
  };

  /* one TCase per test, so that CK_RUN_CASE=<test name> runs just that one */
  for (guint i = 0; i < G_N_ELEMENTS (tests); i++)
    {
      TCase *tc = h_tcase (tests[i].name);
      tcase_add_test (tc, tests[i].test);
      suite_add_tcase (s, tc);
    }
  return h_run_suite (s);
}
