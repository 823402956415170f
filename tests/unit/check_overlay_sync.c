/* The write-buffer sync (overlay-sync.c) on synthetic upper layers, made as overlayfs makes
 * them: whiteouts are character devices 0:0, an opaque directory carries
 * trusted.overlay.opaque=y. Needs root (mknod, trusted.* xattrs, mounts for the "other file
 * system" and "disk full" cases). */
#include <check.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "error.h"
#include "overlay-sync.h"

static char *tmp;
static char *upper;
static char *lower;

static void
setup (void)
{
  tmp = g_dir_make_tmp ("check-overlay-sync-XXXXXX", NULL);
  ck_assert (tmp != NULL);
  upper = g_build_filename (tmp, "upper", NULL);
  lower = g_build_filename (tmp, "lower", NULL);
  ck_assert_int_eq (g_mkdir (upper, 0755), 0);
  ck_assert_int_eq (g_mkdir (lower, 0755), 0);
}

static void
teardown (void)
{
  g_autofree char *m = g_build_filename (lower, "m", NULL);
  g_autofree char *cmd = g_strdup_printf ("rm -rf --one-file-system %s", tmp);

  /* what the tests mounted */
  umount2 (m, MNT_DETACH);
  umount2 (lower, MNT_DETACH);
  ck_assert_int_eq (system (cmd), 0);
  g_clear_pointer (&tmp, g_free);
  g_clear_pointer (&upper, g_free);
  g_clear_pointer (&lower, g_free);
}

/* ---- helpers -------------------------------------------------------------------------------- */

static char *
at (const char *base, const char *rel)
{
  return g_build_filename (base, rel, NULL);
}

static void
put (const char *base, const char *rel, const char *content)
{
  g_autofree char *path = at (base, rel);
  g_autofree char *dir = g_path_get_dirname (path);

  ck_assert_int_eq (g_mkdir_with_parents (dir, 0755), 0);
  ck_assert (g_file_set_contents (path, content, -1, NULL));
}

static void
dir (const char *base, const char *rel)
{
  g_autofree char *path = at (base, rel);
  ck_assert_int_eq (g_mkdir_with_parents (path, 0755), 0);
}

static void
whiteout (const char *rel)
{
  g_autofree char *path = at (upper, rel);
  ck_assert_msg (mknod (path, S_IFCHR | 0, makedev (0, 0)) == 0, "mknod %s: %s", path,
                 g_strerror (errno));
}

static void
opaque (const char *rel)
{
  g_autofree char *path = at (upper, rel);
  ck_assert_int_eq (setxattr (path, "trusted.overlay.opaque", "y", 1, 0), 0);
}

static char *
get (const char *base, const char *rel)
{
  g_autofree char *path = at (base, rel);
  char *data = NULL;

  if (!g_file_get_contents (path, &data, NULL, NULL))
    return NULL;
  return data;
}

static gboolean
exists (const char *base, const char *rel)
{
  g_autofree char *path = at (base, rel);
  struct stat st;
  return lstat (path, &st) == 0;
}

static struct stat
lstat_of (const char *base, const char *rel)
{
  g_autofree char *path = at (base, rel);
  struct stat st;

  ck_assert_msg (lstat (path, &st) == 0, "%s: %s", path, g_strerror (errno));
  return st;
}

static void
set_mtime (const char *base, const char *rel, time_t sec, long nsec)
{
  g_autofree char *path = at (base, rel);
  struct timespec ts[2] = { { sec, nsec }, { sec, nsec } };
  ck_assert_int_eq (utimensat (AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0);
}

static gboolean
run_sync (ScOverlaySyncStats *stats, GError **error)
{
  int u = open (upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int l = open (lower, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  gboolean ok;

  ck_assert (u >= 0 && l >= 0);
  ok = sc_overlay_sync (u, l, lower, stats, error);
  close (u);
  close (l);
  return ok;
}

static void
sync_ok (ScOverlaySyncStats *stats)
{
  g_autoptr (GError) error = NULL;
  ScOverlaySyncStats local = { 0 };

  ck_assert_msg (run_sync (stats ? stats : &local, &error), "sync failed: %s",
                 error ? error->message : "");
  ck_assert_msg (!exists (lower, SC_OVERLAY_SYNC_STAGING), "the staging directory stayed");
}

static void
assert_content (const char *base, const char *rel, const char *want)
{
  g_autofree char *got = get (base, rel);
  ck_assert_msg (g_strcmp0 (got, want) == 0, "%s/%s: '%s', expected '%s'", base, rel,
                 got ? got : "(missing)", want ? want : "(missing)");
}

static void
mount_tmpfs (const char *path, const char *options)
{
  ck_assert_msg (mount ("tmpfs", path, "tmpfs", 0, options) == 0, "mount %s: %s", path,
                 g_strerror (errno));
}

/* ---- tests ---------------------------------------------------------------------------------- */

START_TEST (new_and_changed_files_with_metadata)
{
  ScOverlaySyncStats stats = { 0 };
  struct stat st;

  put (lower, "a", "old a\n");
  put (lower, "b", "untouched\n");
  put (lower, "d/keep", "kept\n");
  put (upper, "a", "new a\n");
  put (upper, "d/c", "new c\n");
  put (upper, "n/deep/er/file", "deep\n");
  {
    g_autofree char *a = at (upper, "a");
    ck_assert_int_eq (chmod (a, 0640), 0);
    ck_assert_int_eq (lchown (a, 1234, 5678), 0);
  }
  set_mtime (upper, "a", 1000000000, 123456789);
  set_mtime (upper, "d", 1100000000, 0);
  /* a new directory keeps its times too, though it moves to another parent */
  set_mtime (upper, "n/deep", 1150000000, 0);
  set_mtime (upper, "n", 1160000000, 0);

  sync_ok (&stats);
  assert_content (lower, "a", "new a\n");
  assert_content (lower, "b", "untouched\n");
  assert_content (lower, "d/keep", "kept\n");
  assert_content (lower, "d/c", "new c\n");
  assert_content (lower, "n/deep/er/file", "deep\n");
  st = lstat_of (lower, "a");
  ck_assert_uint_eq (st.st_mode & 07777, 0640);
  ck_assert_uint_eq (st.st_uid, 1234);
  ck_assert_uint_eq (st.st_gid, 5678);
  ck_assert_int_eq (st.st_mtim.tv_sec, 1000000000);
  ck_assert_int_eq (st.st_mtim.tv_nsec, 123456789);
  /* a merged directory's times are applied after its children moved in */
  st = lstat_of (lower, "d");
  ck_assert_int_eq (st.st_mtim.tv_sec, 1100000000);
  ck_assert_int_eq (lstat_of (lower, "n").st_mtim.tv_sec, 1160000000);
  ck_assert_int_eq (lstat_of (lower, "n/deep").st_mtim.tv_sec, 1150000000);
  ck_assert_uint_eq (stats.files, 3);
  ck_assert_uint_eq (stats.deletions, 0);
}
END_TEST

START_TEST (whiteouts_delete_files_and_directories)
{
  ScOverlaySyncStats stats = { 0 };

  put (lower, "f", "doomed\n");
  put (lower, "tree/x/y", "doomed too\n");
  put (lower, "d/g", "doomed in a merged dir\n");
  put (lower, "d/stay", "stays\n");
  dir (upper, "d");
  whiteout ("f");
  whiteout ("tree");
  whiteout ("d/g");
  whiteout ("never-existed");

  sync_ok (&stats);
  ck_assert (!exists (lower, "f"));
  ck_assert (!exists (lower, "tree"));
  ck_assert (!exists (lower, "d/g"));
  assert_content (lower, "d/stay", "stays\n");
  ck_assert (!exists (lower, "never-existed"));
  ck_assert_uint_eq (stats.deletions, 3);
}
END_TEST

START_TEST (opaque_directory_replaces_contents)
{
  put (lower, "o/x", "old x\n");
  put (lower, "o/sub/y", "old y\n");
  put (upper, "o/z", "new z\n");
  opaque ("o");
  /* whiteouts inside an opaque directory mean nothing */
  whiteout ("o/x");

  sync_ok (NULL);
  ck_assert (!exists (lower, "o/x"));
  ck_assert (!exists (lower, "o/sub"));
  assert_content (lower, "o/z", "new z\n");
}
END_TEST

START_TEST (non_opaque_directory_merges)
{
  put (lower, "m/x", "old x\n");
  put (upper, "m/z", "new z\n");

  sync_ok (NULL);
  assert_content (lower, "m/x", "old x\n");
  assert_content (lower, "m/z", "new z\n");
}
END_TEST

START_TEST (type_changes)
{
  put (lower, "was-file", "file\n");
  put (upper, "was-file/inside", "now a dir\n");
  put (lower, "was-dir/inside", "dir\n");
  put (upper, "was-dir", "now a file\n");
  put (lower, "was-link-target", "target\n");
  {
    g_autofree char *l = at (lower, "was-link");
    ck_assert_int_eq (symlink ("was-link-target", l), 0);
  }
  put (upper, "was-link", "now a file\n");

  sync_ok (NULL);
  assert_content (lower, "was-file/inside", "now a dir\n");
  assert_content (lower, "was-dir", "now a file\n");
  ck_assert (S_ISREG (lstat_of (lower, "was-link").st_mode));
  assert_content (lower, "was-link", "now a file\n");
  assert_content (lower, "was-link-target", "target\n");
}
END_TEST

START_TEST (symlinks_are_copied_and_never_followed)
{
  g_autofree char *outside = at (tmp, "outside");
  g_autofree char *link = NULL;
  g_autofree char *lower_link = at (lower, "link");
  g_autofree char *escape = at (lower, "escape");
  g_autofree char *ul = at (upper, "link");
  struct stat st;

  /* the app's symlink arrives as a symlink */
  ck_assert_int_eq (symlink ("/etc/passwd", ul), 0);
  set_mtime (upper, "link", 1200000000, 0);
  /* a host symlink where the app has a directory: replaced, not followed */
  ck_assert_int_eq (g_mkdir (outside, 0755), 0);
  ck_assert_int_eq (symlink (outside, escape), 0);
  put (upper, "escape/planted", "must not leave the lower dir\n");
  /* a host symlink where the app changed a file of that name: replaced */
  put (outside, "victim", "outside\n");
  {
    g_autofree char *l = at (lower, "victim");
    g_autofree char *t = at (outside, "victim");
    ck_assert_int_eq (symlink (t, l), 0);
  }
  put (upper, "victim", "replaced the link\n");

  sync_ok (NULL);
  link = g_file_read_link (lower_link, NULL);
  ck_assert_str_eq (link, "/etc/passwd");
  st = lstat_of (lower, "link");
  ck_assert_int_eq (st.st_mtim.tv_sec, 1200000000);
  ck_assert (S_ISDIR (lstat_of (lower, "escape").st_mode));
  assert_content (lower, "escape/planted", "must not leave the lower dir\n");
  ck_assert (!exists (outside, "planted"));
  assert_content (outside, "victim", "outside\n");
  ck_assert (S_ISREG (lstat_of (lower, "victim").st_mode));
}
END_TEST

START_TEST (setuid_setgid_stripped)
{
  put (upper, "suid", "x\n");
  {
    g_autofree char *p = at (upper, "suid");
    ck_assert_int_eq (chmod (p, 06755), 0);
  }
  /* a setgid host directory keeps its bit; the app cannot add one to another */
  dir (lower, "sgid");
  dir (lower, "plain");
  {
    g_autofree char *l = at (lower, "sgid");
    g_autofree char *u = at (upper, "sgid");
    g_autofree char *p = at (upper, "plain");
    ck_assert_int_eq (chmod (l, 02775), 0);
    ck_assert_int_eq (g_mkdir (u, 0770), 0);
    ck_assert_int_eq (chmod (u, 0770), 0);
    ck_assert_int_eq (g_mkdir (p, 0755), 0);
    ck_assert_int_eq (chmod (p, 02755), 0);
  }

  sync_ok (NULL);
  ck_assert_uint_eq (lstat_of (lower, "suid").st_mode & 07777, 0755);
  ck_assert_uint_eq (lstat_of (lower, "sgid").st_mode & 07777, 02770);
  ck_assert_uint_eq (lstat_of (lower, "plain").st_mode & 07777, 0755);
}
END_TEST

START_TEST (special_files_skipped)
{
  ScOverlaySyncStats stats = { 0 };
  g_autofree char *fifo = at (upper, "fifo");
  g_autofree char *dev = at (upper, "null");
  g_autofree char *sock = at (upper, "sock");
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  int s = socket (AF_UNIX, SOCK_STREAM, 0);

  ck_assert_int_eq (mkfifo (fifo, 0644), 0);
  ck_assert_int_eq (mknod (dev, S_IFCHR | 0666, makedev (1, 3)), 0);
  g_strlcpy (addr.sun_path, sock, sizeof addr.sun_path);
  ck_assert_int_eq (bind (s, (struct sockaddr *) &addr, sizeof addr), 0);
  close (s);
  put (upper, "regular", "copied\n");

  sync_ok (&stats);
  ck_assert (!exists (lower, "fifo"));
  ck_assert (!exists (lower, "null"));
  ck_assert (!exists (lower, "sock"));
  assert_content (lower, "regular", "copied\n");
  ck_assert_uint_eq (stats.skipped, 3);
}
END_TEST

START_TEST (xattrs_user_kept_overlay_dropped)
{
  g_autofree char *p = NULL;
  char value[16];
  ssize_t n;

  put (upper, "f", "x\n");
  p = at (upper, "f");
  ck_assert_int_eq (setxattr (p, "user.app", "kept", 4, 0), 0);
  ck_assert_int_eq (setxattr (p, "trusted.overlay.origin", "zz", 2, 0), 0);
  ck_assert_int_eq (setxattr (p, "trusted.other", "no", 2, 0), 0);

  sync_ok (NULL);
  g_free (p);
  p = at (lower, "f");
  n = getxattr (p, "user.app", value, sizeof value);
  ck_assert_int_eq (n, 4);
  ck_assert (memcmp (value, "kept", 4) == 0);
  ck_assert_int_lt (getxattr (p, "trusted.overlay.origin", value, sizeof value), 0);
  ck_assert_int_lt (getxattr (p, "trusted.other", value, sizeof value), 0);
}
END_TEST

START_TEST (mounts_on_the_host_are_not_crossed)
{
  g_autoptr (GError) error = NULL;

  dir (lower, "m");
  {
    g_autofree char *m = at (lower, "m");
    mount_tmpfs (m, "size=64k");
  }
  put (upper, "m/file", "would land on another file system\n");
  put (upper, "top", "top\n");

  ck_assert (!run_sync (NULL, &error));
  ck_assert (g_error_matches (error, SC_ERROR, SC_ERROR_SYSTEM));
  ck_assert_msg (strstr (error->message, "/lower/m") != NULL, "path not named: %s", error->message);
  ck_assert (!exists (lower, "m/file"));
  /* phase 1 failed: nothing visible changed */
  ck_assert (!exists (lower, "top"));
  ck_assert (!exists (lower, SC_OVERLAY_SYNC_STAGING));
}
END_TEST

START_TEST (disk_full_changes_nothing_and_a_retry_completes)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *big = g_malloc (256 * 1024);

  /* the lower directory is a small file system, nearly full of the old version */
  mount_tmpfs (lower, "size=256k");
  put (lower, "doomed", "old\n");
  put (lower, "f", "old f\n");
  memset (big, 'n', 256 * 1024 - 1);
  big[256 * 1024 - 1] = '\0';
  put (upper, "big", big);
  put (upper, "f", "new f\n");
  whiteout ("doomed");

  ck_assert (!run_sync (NULL, &error));
  ck_assert_msg (strstr (error->message, "No space left") != NULL, "%s", error->message);
  assert_content (lower, "doomed", "old\n");
  assert_content (lower, "f", "old f\n");
  ck_assert (!exists (lower, "big"));

  ck_assert_int_eq (mount (NULL, lower, NULL, MS_REMOUNT, "size=1m"), 0);
  sync_ok (NULL);
  ck_assert (!exists (lower, "doomed"));
  assert_content (lower, "f", "new f\n");
  assert_content (lower, "big", big);
}
END_TEST

START_TEST (sync_is_idempotent)
{
  put (lower, "o/x", "old\n");
  put (lower, "gone", "old\n");
  put (upper, "o/y", "new\n");
  opaque ("o");
  whiteout ("gone");
  put (upper, "f", "f\n");

  sync_ok (NULL);
  sync_ok (NULL);
  ck_assert (!exists (lower, "o/x"));
  assert_content (lower, "o/y", "new\n");
  ck_assert (!exists (lower, "gone"));
  assert_content (lower, "f", "f\n");
}
END_TEST

START_TEST (leftover_staging_directory_removed)
{
  put (lower, SC_OVERLAY_SYNC_STAGING "/7", "from an interrupted sync\n");
  put (upper, SC_OVERLAY_SYNC_STAGING "/x", "the app may not use the reserved name\n");
  put (upper, "f", "f\n");

  sync_ok (NULL);
  assert_content (lower, "f", "f\n");
}
END_TEST

START_TEST (too_deep_tree_fails)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) path = g_string_new (upper);

  for (int i = 0; i < SC_OVERLAY_SYNC_MAX_DEPTH + 4; i++)
    {
      g_string_append (path, "/d");
      ck_assert_int_eq (mkdir (path->str, 0755), 0);
    }
  ck_assert (!run_sync (NULL, &error));
  ck_assert_msg (strstr (error->message, "too deep") != NULL, "%s", error->message);
  ck_assert (!exists (lower, "d"));
}
END_TEST

START_TEST (hard_links_become_copies)
{
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;

  put (upper, "a", "linked\n");
  a = at (upper, "a");
  b = at (upper, "b");
  ck_assert_int_eq (link (a, b), 0);

  sync_ok (NULL);
  assert_content (lower, "a", "linked\n");
  assert_content (lower, "b", "linked\n");
  ck_assert_uint_eq (lstat_of (lower, "a").st_nlink, 1);
}
END_TEST

START_TEST (untouched_buffer_writes_nothing)
{
  struct stat st;

  /* the lower directory on a read-only file system: a buffer the app never wrote into syncs */
  mount_tmpfs (lower, "size=64k,mode=0751");
  put (lower, "f", "f\n");
  ck_assert_int_eq (mount (NULL, lower, NULL, MS_REMOUNT | MS_RDONLY, NULL), 0);
  st = lstat_of (lower, ".");
  ck_assert_int_eq (chmod (upper, st.st_mode & 07777), 0);
  sync_ok (NULL);
  assert_content (lower, "f", "f\n");
}
END_TEST

static Suite *
overlay_sync_suite (void)
{
  Suite *s = suite_create ("overlay sync");
  TCase *tc = tcase_create ("sync");
  const struct
  {
    const char *name;
    const TTest *test;
  } tests[] = {
    { "new_and_changed_files_with_metadata", new_and_changed_files_with_metadata },
    { "whiteouts_delete_files_and_directories", whiteouts_delete_files_and_directories },
    { "opaque_directory_replaces_contents", opaque_directory_replaces_contents },
    { "non_opaque_directory_merges", non_opaque_directory_merges },
    { "type_changes", type_changes },
    { "symlinks_are_copied_and_never_followed", symlinks_are_copied_and_never_followed },
    { "setuid_setgid_stripped", setuid_setgid_stripped },
    { "special_files_skipped", special_files_skipped },
    { "xattrs_user_kept_overlay_dropped", xattrs_user_kept_overlay_dropped },
    { "mounts_on_the_host_are_not_crossed", mounts_on_the_host_are_not_crossed },
    { "disk_full_changes_nothing_and_a_retry_completes",
      disk_full_changes_nothing_and_a_retry_completes },
    { "sync_is_idempotent", sync_is_idempotent },
    { "leftover_staging_directory_removed", leftover_staging_directory_removed },
    { "too_deep_tree_fails", too_deep_tree_fails },
    { "hard_links_become_copies", hard_links_become_copies },
    { "untouched_buffer_writes_nothing", untouched_buffer_writes_nothing },
  };

  tcase_add_checked_fixture (tc, setup, teardown);
  for (guint i = 0; i < G_N_ELEMENTS (tests); i++)
    tcase_add_test (tc, tests[i].test);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *runner;
  int failed;

  if (geteuid () != 0)
    {
      g_printerr ("check_overlay_sync needs root (whiteouts are device nodes, opaque marks are "
                  "trusted.* attributes)\n");
      return 77;
    }
  runner = srunner_create (overlay_sync_suite ());
  srunner_set_fork_status (runner, CK_FORK_GETENV);
  srunner_run_all (runner, CK_NORMAL);
  failed = srunner_ntests_failed (runner);
  srunner_free (runner);
  return failed == 0 ? 0 : 1;
}
