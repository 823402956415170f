/* Write-buffered filesystems through the real agent (filesystem.md): what the app changes in a
 * buffered directory (writes, new files, deletions, renames, an opaque directory, a symlink,
 * chmod, mtime) stays off the host while the container runs and is all there after Destroy;
 * the root file system is buffered too, within temporaryFileSystemSize; files, read-only mounts
 * and containers without a buffer write through; a sync onto a full disk fails, keeps the
 * buffer and succeeds once there is room; SIGTERM syncs; SIGKILL and a restart sync; a sync
 * never leaves a torn host file. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/* ---- helpers ------------------------------------------------------------------------------- */

#define WB "[{\"writeBufferEnabled\": true}]"

/* Runs a shell script in the container; returns its output and sets *code. */
static char *
sh (int id, const char *script, guint *code)
{
  g_autofree char *quoted = g_shell_quote (script);
  g_autofree char *cmd = g_strdup_printf ("sh -c %s", quoted);

  return h_run (id, cmd, code);
}

static char *
sh_ok (int id, const char *script)
{
  guint code;
  char *out = sh (id, script, &code);

  ck_assert_msg (code == 0, "'%s' exited with %u:\n%s", script, code, out);
  return out;
}

static void
assert_contains (const char *text, const char *fragment)
{
  ck_assert_msg (text != NULL && strstr (text, fragment) != NULL, "'%s' not in '%s'", fragment,
                 text ? text : "(null)");
}

static char *
host_dir_of (int id)
{
  return g_strdup_printf ("%s/SC-%d", h->shared_mounts_dir, id);
}

static void
put (const char *dir, const char *rel, const char *content)
{
  g_autofree char *path = g_build_filename (dir, rel, NULL);
  g_autofree char *parent = g_path_get_dirname (path);

  ck_assert_int_eq (g_mkdir_with_parents (parent, 0755), 0);
  ck_assert (g_file_set_contents (path, content, -1, NULL));
}

static void
assert_file (const char *dir, const char *rel, const char *want)
{
  g_autofree char *path = g_build_filename (dir, rel, NULL);
  g_autofree char *got = h_read (path);

  ck_assert_msg (g_strcmp0 (got, want) == 0, "%s: '%s', expected '%s'", path,
                 got ? got : "(missing)", want ? want : "(missing)");
}

static gboolean
exists (const char *dir, const char *rel)
{
  g_autofree char *path = g_build_filename (dir, rel, NULL);
  struct stat st;

  return lstat (path, &st) == 0;
}

static struct stat
lstat_of (const char *dir, const char *rel)
{
  g_autofree char *path = g_build_filename (dir, rel, NULL);
  struct stat st;

  ck_assert_msg (lstat (path, &st) == 0, "%s: %s", path, g_strerror (errno));
  return st;
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Everything below dir, one line per entry: type, mode, owner, mtime, and the content of files
 * or the target of symlinks. Two equal snapshots: nothing visible changed. */
static void
snapshot_into (GString *out, const char *dir, const char *rel)
{
  g_autofree char *path = rel[0] ? g_build_filename (dir, rel, NULL) : g_strdup (dir);
  g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *sub
          = rel[0] ? g_build_filename (rel, names->pdata[i], NULL) : g_strdup (names->pdata[i]);
      g_autofree char *full = g_build_filename (dir, sub, NULL);
      g_autofree char *content = NULL;
      struct stat st;

      ck_assert (lstat (full, &st) == 0);
      if (S_ISREG (st.st_mode))
        content = h_read (full);
      else if (S_ISLNK (st.st_mode))
        content = g_file_read_link (full, NULL);
      g_string_append_printf (out, "%s %o %u:%u %ld.%09ld %s\n", sub, st.st_mode, st.st_uid,
                              st.st_gid, (long) st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
                              content ? content : "");
      if (S_ISDIR (st.st_mode))
        snapshot_into (out, dir, sub);
    }
}

static char *
snapshot (const char *dir)
{
  GString *out = g_string_new (NULL);
  struct stat st;

  ck_assert (stat (dir, &st) == 0);
  g_string_append_printf (out, ". %o %ld.%09ld\n", st.st_mode, (long) st.st_mtim.tv_sec,
                          st.st_mtim.tv_nsec);
  snapshot_into (out, dir, "");
  return g_string_free (out, FALSE);
}

/* Destroy that must fail with code_word; returns the message. */
static char *
destroy_expect (const char *code_word, int id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) r = h_call ("Destroy", g_variant_new ("(i)", id), &error);

  h_assert_failed (error, code_word);
  return g_strdup (error->message);
}

static gboolean
listed (int id)
{
  guint n;
  g_autofree int *ids = h_list (&n);

  for (guint i = 0; i < n; i++)
    if (ids[i] == id)
      return TRUE;
  return FALSE;
}

/* A small tmpfs of the test's own, as a host directory that can fill up. */
static char *
mount_small_tmpfs (const char *name, const char *size)
{
  char *dir = h_path (name);
  g_autofree char *options = g_strdup_printf ("size=%s,mode=0755", size);

  ck_assert_int_eq (g_mkdir (dir, 0755), 0);
  ck_assert_msg (mount ("tmpfs", dir, "tmpfs", 0, options) == 0, "mount %s: %s", dir,
                 g_strerror (errno));
  return dir;
}

static void
fill_up (const char *dir)
{
  g_autofree char *path = g_build_filename (dir, "filler", NULL);
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  char block[4096];

  ck_assert (fd >= 0);
  memset (block, 'f', sizeof block);
  while (write (fd, block, sizeof block) > 0)
    ;
  close (fd);
}

/* A thread that waits for a child of this process (an orphan of a killed agent) and reaps it. */
static gpointer
reap_pid (gpointer data)
{
  pid_t pid = (pid_t) GPOINTER_TO_INT (data);
  int status;

  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return GINT_TO_POINTER (-1);
  return GINT_TO_POINTER (pid);
}

/* The host directory with one of everything an app may change. */
static char *
make_data_dir (void)
{
  char *dir = h_path ("data");
  g_autofree char *chmodme = g_build_filename (dir, "chmodme", NULL);

  ck_assert_int_eq (g_mkdir (dir, 0751), 0);
  ck_assert_int_eq (chmod (dir, 0751), 0);
  put (dir, "keep", "kept\n");
  put (dir, "change", "old\n");
  put (dir, "delete", "doomed\n");
  put (dir, "rename-src", "renamed\n");
  put (dir, "od/a", "old a\n");
  put (dir, "od/sub/b", "old b\n");
  put (dir, "merged/stay", "stays\n");
  put (dir, "rmdir/x", "doomed\n");
  put (dir, "chmodme", "mode\n");
  put (dir, "mtimeme", "time\n");
  ck_assert_int_eq (chmod (chmodme, 0644), 0);
  return dir;
}

/* What the app does to make_data_dir's directory, mounted at /data. */
static const char app_changes[]
    = "set -e\n"
      "cd /data\n"
      "echo new > change\n"
      "echo created > new\n"
      "mkdir -p newdir/sub && echo deep > newdir/sub/f\n"
      "rm delete\n"
      "mv rename-src rename-dst\n"
      "rm -rf od && mkdir od && echo c > od/c\n"
      "echo more > merged/added\n"
      "rm -rf rmdir\n"
      "ln -s keep link\n"
      "chmod 600 chmodme\n"
      "touch -d @1000000000 mtimeme\n"
      "echo stamped > stamped && chmod 751 stamped && touch -d @1100000000 stamped\n"
      "cat change new od/c\n";

static void
assert_app_changes (const char *dir)
{
  struct stat st;
  g_autofree char *link = NULL;
  g_autofree char *link_path = g_build_filename (dir, "link", NULL);

  assert_file (dir, "keep", "kept\n");
  assert_file (dir, "change", "new\n");
  assert_file (dir, "new", "created\n");
  assert_file (dir, "newdir/sub/f", "deep\n");
  ck_assert (!exists (dir, "delete"));
  ck_assert (!exists (dir, "rename-src"));
  assert_file (dir, "rename-dst", "renamed\n");
  /* the directory removed and made again: only what the app put there */
  ck_assert (!exists (dir, "od/a"));
  ck_assert (!exists (dir, "od/sub"));
  assert_file (dir, "od/c", "c\n");
  assert_file (dir, "merged/stay", "stays\n");
  assert_file (dir, "merged/added", "more\n");
  ck_assert (!exists (dir, "rmdir"));
  link = g_file_read_link (link_path, NULL);
  ck_assert_str_eq (link, "keep");
  ck_assert_uint_eq (lstat_of (dir, "chmodme").st_mode & 07777, 0600);
  ck_assert_int_eq (lstat_of (dir, "mtimeme").st_mtim.tv_sec, 1000000000);
  st = lstat_of (dir, "stamped");
  ck_assert_uint_eq (st.st_mode & 07777, 0751);
  ck_assert_int_eq (st.st_mtim.tv_sec, 1100000000);
  /* the directory itself keeps its mode */
  ck_assert_uint_eq (lstat_of (dir, ".").st_mode & 07777, 0751);
  ck_assert (!exists (dir, ".sc-writebuffer-sync"));
}

/* ---- the buffer ----------------------------------------------------------------------------- */

START_TEST (changes_reach_the_host_only_at_destroy)
{
  g_autofree char *dir = make_data_dir ();
  g_autofree char *before = snapshot (dir);
  g_autofree char *during = NULL;
  g_autofree char *out = NULL;
  g_autofree char *host_dir = NULL;
  guint code;
  int id;

  id = h_create (WB);
  host_dir = host_dir_of (id);
  h_bind_mount (id, dir, "/data", FALSE);
  /* the container sees the host directory as it is, with its mode */
  out = sh_ok (id, "stat -c %a /data; cat /data/keep");
  ck_assert_str_eq (out, "751\nkept\n");
  g_free (out);
  out = sh_ok (id, app_changes);
  ck_assert_str_eq (out, "new\ncreated\nc\n");
  g_free (out);
  /* renaming a directory that came from the host: EXDEV (mv copies instead) */
  out = sh (id, "perl -e 'rename(\"/data/merged\", \"/data/moved\") or die \"$!\\n\"'", &code);
  ck_assert_uint_ne (code, 0);
  assert_contains (out, "Invalid cross-device link");

  during = snapshot (dir);
  ck_assert_str_eq (during, before);
  /* the buffer is a tmpfs of its own */
  {
    struct statvfs vfs;
    ck_assert (statvfs (host_dir, &vfs) == 0);
    ck_assert_uint_eq ((guint64) vfs.f_blocks * vfs.f_frsize, 100 * 1024 * 1024);
  }

  h_destroy (id);
  assert_app_changes (dir);
  ck_assert (!g_file_test (host_dir, G_FILE_TEST_EXISTS));
}
END_TEST

START_TEST (rootfs_is_buffered)
{
  g_autofree char *host_dir = NULL;
  g_autofree char *lower_file = NULL;
  g_autofree char *out = NULL;
  struct statvfs before, after;
  int id;

  id = h_create ("[{\"writeBufferEnabled\": true, \"temporaryFileSystemWriteBufferEnabled\": true,"
                 " \"temporaryFileSystemSize\": 16777216}]");
  host_dir = host_dir_of (id);
  ck_assert (statvfs (host_dir, &before) == 0);
  ck_assert_uint_eq ((guint64) before.f_blocks * before.f_frsize, 16 * 1024 * 1024);
  out = sh_ok (id, "head -c 4194304 /dev/zero > /root/x && echo hi > /etc/motd && cat /etc/motd");
  ck_assert_str_eq (out, "hi\n");
  ck_assert (statvfs (host_dir, &after) == 0);
  ck_assert_uint_ge ((before.f_bfree - after.f_bfree) * (guint64) after.f_frsize, 4194304);
  /* the container's own root directory on the host is the lower layer: untouched */
  lower_file = g_strdup_printf ("%s/SC-%d/rootfs/root/x", h->lxcpath, id);
  ck_assert (!g_file_test (lower_file, G_FILE_TEST_EXISTS));
  h_destroy (id);
}
END_TEST

START_TEST (write_past_size_fails_with_enospc)
{
  g_autofree char *dir = h_path ("data");
  g_autofree char *out = NULL;
  guint code;
  int id;

  ck_assert_int_eq (g_mkdir (dir, 0755), 0);
  id = h_create ("[{\"writeBufferEnabled\": true, \"temporaryFileSystemWriteBufferEnabled\": true,"
                 " \"temporaryFileSystemSize\": 4194304}]");
  h_bind_mount (id, dir, "/data", FALSE);
  out = sh (id, "head -c 8388608 /dev/zero > /data/big", &code);
  ck_assert_uint_ne (code, 0);
  assert_contains (out, "No space left on device");
  g_free (out);
  out = sh (id, "head -c 8388608 /dev/zero > /root/big", &code);
  ck_assert_uint_ne (code, 0);
  assert_contains (out, "No space left on device");
  g_free (out);
  /* nothing else broke: the container runs, frees space, writes again */
  out = sh_ok (id, "rm /data/big /root/big && echo fine > /data/after && cat /data/after");
  ck_assert_str_eq (out, "fine\n");
  h_destroy (id);
  assert_file (dir, "after", "fine\n");
  ck_assert (!exists (dir, "big"));
}
END_TEST

START_TEST (file_mount_falls_back_to_a_bind)
{
  g_autofree char *file = h_path ("file");
  g_autofree char *out = NULL;
  int id;

  ck_assert (g_file_set_contents (file, "old\n", -1, NULL));
  id = h_create (WB);
  h_bind_mount (id, file, "/f", FALSE);
  out = sh_ok (id, "echo new > /f && cat /f");
  ck_assert_str_eq (out, "new\n");
  /* a single file cannot be overlaid: the write went through at once */
  assert_file (h->tmpdir, "file", "new\n");
  h_destroy (id);
  assert_file (h->tmpdir, "file", "new\n");
}
END_TEST

START_TEST (read_only_stays_read_only)
{
  g_autofree char *dir = h_path ("data");
  g_autofree char *host_dir = NULL;
  g_autofree char *out = NULL;
  guint code;
  int id;

  ck_assert_int_eq (g_mkdir (dir, 0755), 0);
  put (dir, "f", "ro\n");
  id = h_create (WB);
  host_dir = host_dir_of (id);
  h_bind_mount (id, dir, "/ro", TRUE);
  out = sh (id, "echo x > /ro/f", &code);
  ck_assert_uint_ne (code, 0);
  assert_contains (out, "Read-only file system");
  /* no buffer was made for it */
  ck_assert (!exists (host_dir, "buffer-1-upper"));
  h_destroy (id);
  assert_file (dir, "f", "ro\n");
}
END_TEST

START_TEST (without_a_buffer_writes_go_through)
{
  g_autofree char *dir = h_path ("data");
  g_autofree char *host_dir = NULL;
  g_autofree char *out = NULL;
  struct statvfs vfs, parent;
  int id;

  ck_assert_int_eq (g_mkdir (dir, 0755), 0);
  id = h_create ("[{\"writeBufferEnabled\": false}]");
  host_dir = host_dir_of (id);
  h_bind_mount (id, dir, "/data", FALSE);
  g_free (sh_ok (id, "echo now > /data/f && rm -f /data/missing"));
  assert_file (dir, "f", "now\n");
  /* the host directory is a plain directory, no tmpfs */
  ck_assert (statvfs (host_dir, &vfs) == 0 && statvfs (h->shared_mounts_dir, &parent) == 0);
  ck_assert_uint_eq (vfs.f_fsid, parent.f_fsid);
  out = sh_ok (id, "echo again >> /data/f; cat /data/f");
  ck_assert_str_eq (out, "now\nagain\n");
  assert_file (dir, "f", "now\nagain\n");
  h_destroy (id);
}
END_TEST

START_TEST (file_gateway_directory_is_buffered)
{
  g_autofree char *dir = h_path ("gw");
  g_autofree char *file = h_path ("gw-file");
  g_autofree char *json = NULL;
  const char *const caps[] = { "store", NULL };
  int id;

  ck_assert_int_eq (g_mkdir (dir, 0755), 0);
  put (dir, "f", "old\n");
  ck_assert (g_file_set_contents (file, "file old\n", -1, NULL));
  json = g_strdup_printf (
      "{\"version\": \"1\", \"capabilities\": [{\"name\": \"store\", \"gateways\": ["
      " {\"id\": \"file\", \"config\": ["
      "  {\"path-host\": \"%s\", \"path-container\": \"/srv/store\"},"
      "  {\"path-host\": \"%s\", \"path-container\": \"/srv/file\"}]}]}]}",
      dir, file);
  h_write_manifest (FALSE, "store.json", json);
  h_agent_start (NULL);
  id = h_create (WB);
  h_set_capabilities (id, caps);
  g_free (
      sh_ok (id, "echo new > /srv/store/f && echo n > /srv/store/n && echo file new > /srv/file"));
  assert_file (dir, "f", "old\n");
  ck_assert (!exists (dir, "n"));
  assert_file (h->tmpdir, "gw-file", "file new\n");
  h_destroy (id);
  assert_file (dir, "f", "new\n");
  assert_file (dir, "n", "n\n");
}
END_TEST

/* ---- when the sync cannot finish ---------------------------------------------------------- */

START_TEST (full_host_disk_fails_destroy_keeps_buffer_and_retry_syncs)
{
  g_autofree char *small = mount_small_tmpfs ("small", "1m");
  g_autofree char *host_dir = NULL;
  g_autofree char *message = NULL;
  g_autofree char *filler = g_build_filename (small, "filler", NULL);
  int id;

  put (small, "f", "old f\n");
  put (small, "doomed", "doomed\n");
  id = h_create (WB);
  host_dir = host_dir_of (id);
  h_bind_mount (id, small, "/data", FALSE);
  g_free (sh_ok (id, "head -c 524288 /dev/urandom > /data/big && echo new f > /data/f && "
                     "rm /data/doomed"));
  fill_up (small);

  message = destroy_expect ("System", id);
  assert_contains (message, small);
  assert_contains (message, "No space left on device");
  /* still listed, invalid, nothing on the host changed, and the buffer is kept */
  ck_assert (listed (id));
  h_call_expect ("BadState", "Execute",
                 g_variant_new ("(isss@a{ss})", id, "true", "/", "",
                                g_variant_new_array (G_VARIANT_TYPE ("{ss}"), NULL, 0)));
  assert_file (small, "f", "old f\n");
  assert_file (small, "doomed", "doomed\n");
  ck_assert (!exists (small, "big"));
  ck_assert (exists (host_dir, "buffer-1-upper/big"));
  assert_file (host_dir, "buffer-1-upper/f", "new f\n");

  /* room again: a second Destroy syncs everything */
  ck_assert_int_eq (unlink (filler), 0);
  h_destroy (id);
  ck_assert (!listed (id));
  assert_file (small, "f", "new f\n");
  ck_assert (!exists (small, "doomed"));
  ck_assert_uint_eq (lstat_of (small, "big").st_size, 524288);
  ck_assert (!exists (small, ".sc-writebuffer-sync"));
  ck_assert_int_eq (umount (small), 0);
}
END_TEST

/* ---- the agent's end -------------------------------------------------------------------- */

START_TEST (sigterm_syncs)
{
  g_autofree char *dir = make_data_dir ();
  int id, status;

  h_agent_start (NULL);
  id = h_create (WB);
  h_bind_mount (id, dir, "/data", FALSE);
  g_free (sh_ok (id, app_changes));
  status = h_agent_stop (SIGTERM);
  ck_assert (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  assert_app_changes (dir);
}
END_TEST

START_TEST (sigkill_then_restart_syncs)
{
  g_autofree char *dir = make_data_dir ();
  g_autofree char *host_dir = NULL;
  g_autofree char *ready = g_build_filename (dir, "open", NULL);
  GThread *reaper;
  int id, sleeper, status;

  h_agent_start (NULL);
  id = h_create (WB);
  host_dir = host_dir_of (id);
  h_bind_mount (id, dir, "/data", FALSE);
  g_free (sh_ok (id, app_changes));
  /* an app that still holds a file of the buffer open for writing when the agent dies */
  sleeper = h_execute (id, "sh -c 'exec 3>>/data/open; echo held >&3; exec sleep 1000'", "/", NULL,
                       NULL);
  for (int i = 0; i < 500; i++)
    {
      g_autofree char *upper = g_build_filename (host_dir, "buffer-1-upper/open", NULL);
      if (g_file_test (upper, G_FILE_TEST_EXISTS))
        break;
      h_sleep (10);
    }

  status = h_agent_stop (SIGKILL);
  ck_assert (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
  /* the sleeper is this process's now (subreaper): reap it when the container is stopped, or
   * its zombie keeps the container's PID namespace alive */
  reaper = g_thread_new ("reaper", reap_pid, GINT_TO_POINTER (sleeper));
  /* nothing reached the host yet */
  assert_file (dir, "change", "old\n");
  ck_assert (g_file_test (host_dir, G_FILE_TEST_IS_DIR));

  h_agent_start (NULL);
  ck_assert_int_eq (GPOINTER_TO_INT (g_thread_join (reaper)), sleeper);
  assert_app_changes (dir);
  assert_file (dir, "open", "held\n");
  ck_assert (!g_file_test (host_dir, G_FILE_TEST_EXISTS));
}
END_TEST

START_TEST (restart_keeps_an_unsyncable_buffer_until_it_syncs)
{
  g_autofree char *small = mount_small_tmpfs ("small", "1m");
  g_autofree char *filler = g_build_filename (small, "filler", NULL);
  g_autofree char *kept = NULL;
  g_autofree char *log = NULL;
  g_autoptr (GDir) d = NULL;
  const char *name;
  int id, status;

  h_agent_start (NULL);
  id = h_create (WB);
  h_bind_mount (id, small, "/data", FALSE);
  g_free (sh_ok (id, "head -c 524288 /dev/urandom > /data/big"));
  fill_up (small);
  status = h_agent_stop (SIGKILL);
  ck_assert (WIFSIGNALED (status));

  /* the restart cannot sync: the buffer is kept aside, the container is gone */
  h_agent_start (NULL);
  d = g_dir_open (h->shared_mounts_dir, 0, NULL);
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    if (g_str_has_prefix (name, "unsynced-SC-"))
      kept = g_build_filename (h->shared_mounts_dir, name, NULL);
  ck_assert_msg (kept != NULL, "no unsynced-SC-* directory in %s", h->shared_mounts_dir);
  ck_assert (exists (kept, "buffer-1-upper/big"));
  log = h_read (h->agent_log);
  assert_contains (log, "WRITE BUFFERS NOT SYNCED, DATA KEPT in");
  ck_assert (!exists (small, "big"));
  /* the ID's name is free again */
  id = h_create ("[]");
  h_destroy (id);

  /* room again: the next start syncs it and removes it */
  status = h_agent_stop (SIGTERM);
  ck_assert (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  ck_assert_int_eq (unlink (filler), 0);
  h_agent_start (NULL);
  ck_assert (!g_file_test (kept, G_FILE_TEST_EXISTS));
  ck_assert_uint_eq (lstat_of (small, "big").st_size, 524288);
  ck_assert_int_eq (umount (small), 0);
}
END_TEST

/* ---- atomicity ------------------------------------------------------------------------------ */

#define BIG_SIZE (48 * 1024 * 1024)

typedef struct
{
  const char *path;
  volatile gint stop;
  guint reads, old_reads, new_reads, torn, missing;
} Reader;

static gpointer
reader_thread (gpointer data)
{
  Reader *r = data;
  char *buf = g_malloc (BIG_SIZE + 1);

  while (!g_atomic_int_get (&r->stop))
    {
      int fd = open (r->path, O_RDONLY | O_CLOEXEC);
      gsize len = 0;
      ssize_t n;

      if (fd < 0)
        {
          r->missing++;
          continue;
        }
      while ((n = read (fd, buf + len, BIG_SIZE + 1 - len)) > 0)
        len += (gsize) n;
      close (fd);
      r->reads++;
      if (len == BIG_SIZE && buf[0] == 'A' && memchr (buf, 'B', len) == NULL)
        r->old_reads++;
      else if (len == BIG_SIZE && buf[0] == 'B' && memchr (buf, 'A', len) == NULL)
        r->new_reads++;
      else
        r->torn++;
    }
  g_free (buf);
  return NULL;
}

START_TEST (sync_never_tears_a_host_file)
{
  g_autofree char *dir = h_path ("data");
  g_autofree char *big = g_build_filename (dir, "big", NULL);
  g_autofree char *content = g_malloc (BIG_SIZE);
  Reader reader = { big, 0, 0, 0, 0, 0, 0 };
  GThread *thread;
  int id;

  ck_assert_int_eq (g_mkdir (dir, 0755), 0);
  memset (content, 'A', BIG_SIZE);
  ck_assert (g_file_set_contents (big, content, BIG_SIZE, NULL));
  id = h_create (WB);
  h_bind_mount (id, dir, "/data", FALSE);
  /* the app rewrites the file in place, the way a naive copy would */
  g_free (sh_ok (id, "head -c 50331648 /dev/zero | tr '\\000' B 1<>/data/big"));

  thread = g_thread_new ("reader", reader_thread, &reader);
  while (reader.reads < 3)
    g_usleep (1000);
  h_destroy (id);
  g_usleep (100 * 1000);
  g_atomic_int_set (&reader.stop, 1);
  g_thread_join (thread);
  ck_assert_msg (reader.torn == 0 && reader.missing == 0,
                 "%u torn and %u missing reads of %u (%u old, %u new)", reader.torn, reader.missing,
                 reader.reads, reader.old_reads, reader.new_reads);
  ck_assert_uint_gt (reader.old_reads, 0);
  ck_assert_uint_gt (reader.new_reads, 0);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("writebuffer");
  const struct
  {
    const char *name;
    const TTest *test;
    gboolean agent_started_by_test;
  } tests[] = {
    { "changes_reach_the_host_only_at_destroy", changes_reach_the_host_only_at_destroy, FALSE },
    { "rootfs_is_buffered", rootfs_is_buffered, FALSE },
    { "write_past_size_fails_with_enospc", write_past_size_fails_with_enospc, FALSE },
    { "file_mount_falls_back_to_a_bind", file_mount_falls_back_to_a_bind, FALSE },
    { "read_only_stays_read_only", read_only_stays_read_only, FALSE },
    { "without_a_buffer_writes_go_through", without_a_buffer_writes_go_through, FALSE },
    { "file_gateway_directory_is_buffered", file_gateway_directory_is_buffered, TRUE },
    { "full_host_disk_fails_destroy_keeps_buffer_and_retry_syncs",
      full_host_disk_fails_destroy_keeps_buffer_and_retry_syncs, FALSE },
    { "sigterm_syncs", sigterm_syncs, TRUE },
    { "sigkill_then_restart_syncs", sigkill_then_restart_syncs, TRUE },
    { "restart_keeps_an_unsyncable_buffer_until_it_syncs",
      restart_keeps_an_unsyncable_buffer_until_it_syncs, TRUE },
    { "sync_never_tears_a_host_file", sync_never_tears_a_host_file, FALSE },
  };

  /* one TCase per test, so that CK_RUN_CASE=<test name> runs just that one */
  for (guint i = 0; i < G_N_ELEMENTS (tests); i++)
    {
      TCase *tc = tests[i].agent_started_by_test ? h_tcase_bus_only (tests[i].name)
                                                 : h_tcase (tests[i].name);
      tcase_add_test (tc, tests[i].test);
      suite_add_tcase (s, tc);
    }
  return h_run_suite (s);
}
