/* Write buffers on the host (see writebuffer.h for the layout).
 *
 * Trusts: the host directory of the container (below the shared-mounts dir, which the agent
 * checked at startup to be root's and not writable by others) and the host directories that
 * the launcher or a manifest chose. Does not trust: the upper layers (the app wrote them; the
 * sync in overlay-sync.c treats them so) nor the host directories staying where they were: the
 * record keeps each host directory's path and identity (device and inode), and a directory that
 * was replaced or moved since is not synced into (the buffer is kept instead).
 *
 * Overlays are made with the new mount API (fsopen/fsconfig/fsmount) from descriptors, with the
 * options overlay-notes.md found necessary for an upper layer that a sync can apply:
 * redirect_dir=nofollow,metacopy=off,index=off,xino=off. */
#include "writebuffer.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "error.h"
#include "overlay-sync.h"
#include "util.h"

#define RECORD_FILE "write-buffers"
#define ROOTFS_MOUNT "rootfs"

static const char *const overlay_options[][2] = {
  { "redirect_dir", "nofollow" },
  { "metacopy", "off" },
  { "index", "off" },
  { "xino", "off" },
};

/* Sets "<what>: <strerror>[ (<the kernel's words>)]", the kernel's from the fs context log. */
static void
fs_error (int fs, GError **error, int err, const char *what)
{
  g_autoptr (GString) log = g_string_new (NULL);
  char buf[512];
  ssize_t n;

  while (fs >= 0 && (n = read (fs, buf, sizeof buf - 1)) > 0)
    {
      buf[n] = '\0';
      g_string_append_printf (log, "%s%s", log->len > 0 ? "; " : "", g_strchomp (buf));
    }
  g_set_error (error, SC_ERROR, SC_ERROR_SYSTEM, "%s: %s%s%s%s", what, g_strerror (err),
               log->len > 0 ? " (" : "", log->str, log->len > 0 ? ")" : "");
}

static gboolean
is_mount_root_at (int dirfd, const char *path)
{
  struct statx stx;

  if (statx (dirfd, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx) < 0)
    return FALSE;
  return (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) != 0
         && (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
}

gboolean
sc_write_buffer_is_mounted (const char *host_dir)
{
  return is_mount_root_at (AT_FDCWD, host_dir);
}

gboolean
sc_write_buffer_setup (const char *host_dir, guint64 size, GError **error)
{
  g_autofree char *size_text = g_strdup_printf ("%" G_GUINT64_FORMAT, size);
  /* Inodes cost kernel memory that the size does not count (empty files, directories,
   * whiteouts, short symlinks): one per KiB of the size, at least 16384. */
  g_autofree char *inodes_text = g_strdup_printf ("%" G_GUINT64_FORMAT, MAX (size / 1024, 16384));
  sc_autofd fs = fsopen ("tmpfs", FSOPEN_CLOEXEC);
  sc_autofd mnt = -1;

  if (fs < 0 || fsconfig (fs, FSCONFIG_SET_STRING, "size", size_text, 0) < 0
      || fsconfig (fs, FSCONFIG_SET_STRING, "nr_inodes", inodes_text, 0) < 0
      || fsconfig (fs, FSCONFIG_SET_STRING, "mode", "0700", 0) < 0
      || fsconfig (fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    {
      fs_error (fs, error, errno, "cannot make the write buffers' tmpfs");
      return FALSE;
    }
  mnt = fsmount (fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
  if (mnt < 0 || move_mount (mnt, "", AT_FDCWD, host_dir, MOVE_MOUNT_F_EMPTY_PATH) < 0)
    {
      sc_set_errno_error (error, errno, "cannot mount the write buffers' tmpfs on %s", host_dir);
      return FALSE;
    }
  return TRUE;
}

/* A detached overlay of lower/upper/work (descriptors), nosuid and nodev. */
static int
make_overlay (int lower, int upper, int work, GError **error)
{
  sc_autofd fs = fsopen ("overlay", FSOPEN_CLOEXEC);
  int mnt;

  if (fs < 0)
    {
      sc_set_errno_error (error, errno, "overlayfs is not available");
      return -1;
    }
  /* layers by descriptor (no path to race on); kernels before 6.13 only take paths, and the
   * descriptors' /proc/self/fd links are paths that still name exactly these directories */
  if (fsconfig (fs, FSCONFIG_SET_FD, "lowerdir+", NULL, lower) < 0)
    {
      char l[64], u[64], w[64];

      g_snprintf (l, sizeof l, "/proc/self/fd/%d", lower);
      g_snprintf (u, sizeof u, "/proc/self/fd/%d", upper);
      g_snprintf (w, sizeof w, "/proc/self/fd/%d", work);
      if (fsconfig (fs, FSCONFIG_SET_STRING, "lowerdir", l, 0) < 0
          || fsconfig (fs, FSCONFIG_SET_STRING, "upperdir", u, 0) < 0
          || fsconfig (fs, FSCONFIG_SET_STRING, "workdir", w, 0) < 0)
        {
          fs_error (fs, error, errno, "cannot configure the overlay's layers");
          return -1;
        }
    }
  else if (fsconfig (fs, FSCONFIG_SET_FD, "upperdir", NULL, upper) < 0
           || fsconfig (fs, FSCONFIG_SET_FD, "workdir", NULL, work) < 0)
    {
      fs_error (fs, error, errno, "cannot configure the overlay's layers");
      return -1;
    }
  for (guint i = 0; i < G_N_ELEMENTS (overlay_options); i++)
    if (fsconfig (fs, FSCONFIG_SET_STRING, overlay_options[i][0], overlay_options[i][1], 0) < 0)
      {
        g_autofree char *what = g_strdup_printf ("overlay option %s=%s", overlay_options[i][0],
                                                 overlay_options[i][1]);
        fs_error (fs, error, errno, what);
        return -1;
      }
  if (fsconfig (fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    {
      fs_error (fs, error, errno, "cannot create the overlay");
      return -1;
    }
  mnt = fsmount (fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
  if (mnt < 0)
    fs_error (fs, error, errno, "cannot mount the overlay");
  return mnt;
}

/* Makes dir/upper_name and dir/work_name; the upper gets the lower's owner, mode and times (the
 * container sees the upper root's, and the sync gives them back to the lower). */
static gboolean
make_layers (int dir, const char *upper_name, const char *work_name, int lower, int *upper_out,
             int *work_out, GError **error)
{
  sc_autofd upper = -1;
  sc_autofd work = -1;
  struct stat st;
  struct timespec times[2];

  if (fstat (lower, &st) < 0)
    {
      sc_set_errno_error (error, errno, "cannot stat the lower directory");
      return FALSE;
    }
  if (mkdirat (dir, upper_name, 0700) < 0 || mkdirat (dir, work_name, 0700) < 0
      || (upper = openat (dir, upper_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0
      || (work = openat (dir, work_name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
    {
      sc_set_errno_error (error, errno, "cannot create the write buffer's layers %s", upper_name);
      return FALSE;
    }
  times[0] = st.st_atim;
  times[1] = st.st_mtim;
  if (fchown (upper, st.st_uid, st.st_gid) < 0 || fchmod (upper, st.st_mode & 07777) < 0
      || futimens (upper, times) < 0)
    {
      sc_set_errno_error (error, errno, "cannot give %s the lower directory's owner and mode",
                          upper_name);
      return FALSE;
    }
  *upper_out = sc_steal_fd (&upper);
  *work_out = sc_steal_fd (&work);
  return TRUE;
}

char *
sc_write_buffer_mount_rootfs (const char *host_dir, const char *lower_path, GError **error)
{
  sc_autofd dir = open (host_dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  sc_autofd lower = open (lower_path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  sc_autofd upper = -1;
  sc_autofd work = -1;
  sc_autofd mnt = -1;

  if (dir < 0 || lower < 0)
    {
      sc_set_errno_error (error, errno, "root file system's write buffer: cannot open %s or %s",
                          host_dir, lower_path);
      return NULL;
    }
  if (!make_layers (dir, "rootfs-upper", "rootfs-work", lower, &upper, &work, error))
    return NULL;
  if (mkdirat (dir, ROOTFS_MOUNT, 0755) < 0)
    {
      sc_set_errno_error (error, errno, "cannot create %s/" ROOTFS_MOUNT, host_dir);
      return NULL;
    }
  mnt = make_overlay (lower, upper, work, error);
  if (mnt < 0)
    {
      g_prefix_error (error, "root file system's write buffer: ");
      return NULL;
    }
  if (move_mount (mnt, "", dir, ROOTFS_MOUNT, MOVE_MOUNT_F_EMPTY_PATH) < 0)
    {
      sc_set_errno_error (error, errno, "cannot mount the root file system's overlay on %s/%s",
                          host_dir, ROOTFS_MOUNT);
      return NULL;
    }
  return g_build_filename (host_dir, ROOTFS_MOUNT, NULL);
}

/* The path of a directory descriptor as the kernel knows it, or NULL (deleted, unreachable). */
static char *
fd_path (int fd)
{
  char link[64];
  g_autofree char *path = NULL;

  g_snprintf (link, sizeof link, "/proc/self/fd/%d", fd);
  path = g_file_read_link (link, NULL);
  if (path == NULL || path[0] != '/' || strchr (path, '\n') != NULL
      || g_str_has_suffix (path, " (deleted)"))
    return NULL;
  return g_steal_pointer (&path);
}

static gboolean
append_record (int dir, const char *line, GError **error)
{
  sc_autofd fd
      = openat (dir, RECORD_FILE, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  size_t len = strlen (line);

  if (fd < 0 || write (fd, line, len) != (ssize_t) len)
    {
      sc_set_errno_error (error, errno ? errno : ENOSPC, "cannot record the write buffer");
      return FALSE;
    }
  return TRUE;
}

int
sc_write_buffer_overlay (const char *host_dir, int lower, GError **error)
{
  sc_autofd dir = open (host_dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  sc_autofd upper = -1;
  sc_autofd work = -1;
  g_autofree char *lower_path = fd_path (lower);
  g_autofree char *line = NULL;
  char upper_name[64], work_name[64];
  struct stat st;
  guint n;

  if (dir < 0 || fstat (lower, &st) < 0)
    {
      sc_set_errno_error (error, errno, "write buffer: cannot open %s", host_dir);
      return -1;
    }
  if (!S_ISDIR (st.st_mode) || lower_path == NULL)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_BAD_PATH,
                   "write buffer: the host directory has no path the agent can record");
      return -1;
    }
  /* the first free number; buffers are never removed while the container lives */
  for (n = 1;; n++)
    {
      struct stat probe;

      g_snprintf (upper_name, sizeof upper_name, "buffer-%u-upper", n);
      if (fstatat (dir, upper_name, &probe, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
        break;
    }
  g_snprintf (work_name, sizeof work_name, "buffer-%u-work", n);
  if (!make_layers (dir, upper_name, work_name, lower, &upper, &work, error))
    return -1;
  /* recorded before any write can reach the upper layer */
  line = g_strdup_printf ("buffer-%u\t%" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT "\t%s\n", n,
                          (guint64) st.st_dev, (guint64) st.st_ino, lower_path);
  if (!append_record (dir, line, error))
    return -1;
  {
    int mnt = make_overlay (lower, upper, work, error);
    if (mnt < 0)
      g_prefix_error (error, "write buffer for %s: ", lower_path);
    else
      g_debug ("write buffer %s/buffer-%u for %s", host_dir, n, lower_path);
    return mnt;
  }
}

/* ---- the end ----------------------------------------------------------------------------- */

static gboolean
is_read_only (const char *path)
{
  struct statvfs vfs;

  return statvfs (path, &vfs) == 0 && (vfs.f_flag & ST_RDONLY) != 0;
}

/* Remounts the tmpfs read-only: the superblock, so that the overlays' own references to the
 * upper layers cannot write either. A writer (an open file) makes it EBUSY: wait a little for
 * the last processes of a stopped container to go. */
static gboolean
freeze (const char *host_dir, GError **error)
{
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  while (!is_read_only (host_dir))
    {
      if (mount (NULL, host_dir, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) == 0)
        break;
      if (errno != EBUSY || g_get_monotonic_time () > deadline)
        {
          sc_set_errno_error (error, errno,
                              "cannot make the write buffers in %s read-only (does a process "
                              "outside the container still write there?)",
                              host_dir);
          return FALSE;
        }
      g_usleep (50 * 1000);
    }
  return TRUE;
}

static gboolean
unmount_rootfs (const char *host_dir, GError **error)
{
  g_autofree char *rootfs = g_build_filename (host_dir, ROOTFS_MOUNT, NULL);

  if (is_mount_root_at (AT_FDCWD, rootfs) && umount2 (rootfs, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
    {
      sc_set_errno_error (error, errno, "cannot unmount %s", rootfs);
      return FALSE;
    }
  return TRUE;
}

static gboolean
sync_one (int dir, const char *host_dir, const char *line, GError **error)
{
  g_auto (GStrv) fields = g_strsplit (line, "\t", 3);
  g_autofree char *upper_name = NULL;
  struct open_how how = { .flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
                          .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };
  sc_autofd upper = -1;
  sc_autofd lower = -1;
  guint64 dev = 0, ino = 0;
  ScOverlaySyncStats stats = { 0 };
  struct stat st;
  gint64 start = g_get_monotonic_time ();

  if (g_strv_length (fields) != 3
      || sscanf (fields[1], "%" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT, &dev, &ino) != 2
      || fields[2][0] != '/' || !g_str_has_prefix (fields[0], "buffer-"))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_SYSTEM, "%s/" RECORD_FILE ": a malformed line '%s'",
                   host_dir, line);
      return FALSE;
    }
  upper_name = g_strdup_printf ("%s-upper", fields[0]);
  upper = openat (dir, upper_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (upper < 0)
    {
      sc_set_errno_error (error, errno, "cannot open the write buffer %s/%s", host_dir, upper_name);
      return FALSE;
    }
  lower = (int) syscall (SYS_openat2, AT_FDCWD, fields[2], &how, sizeof how);
  if (lower < 0 || fstat (lower, &st) < 0)
    {
      sc_set_errno_error (error, errno,
                          "cannot sync the write buffer %s/%s: its host directory %s cannot be "
                          "opened (without following symlinks)",
                          host_dir, upper_name, fields[2]);
      return FALSE;
    }
  if ((guint64) st.st_dev != dev || (guint64) st.st_ino != ino)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_SYSTEM,
                   "cannot sync the write buffer %s/%s: its host directory %s was replaced or "
                   "moved while the container ran",
                   host_dir, upper_name, fields[2]);
      return FALSE;
    }
  if (!sc_overlay_sync (upper, lower, fields[2], &stats, error))
    {
      g_prefix_error (error, "cannot sync the write buffer %s/%s into %s: ", host_dir, upper_name,
                      fields[2]);
      return FALSE;
    }
  g_message ("write buffer %s/%s synced into %s in %.3f s: %" G_GUINT64_FORMAT
             " files (%" G_GUINT64_FORMAT " bytes), %" G_GUINT64_FORMAT
             " symlinks, %" G_GUINT64_FORMAT " directories, %" G_GUINT64_FORMAT
             " deletions, %" G_GUINT64_FORMAT " skipped",
             host_dir, upper_name, fields[2], (g_get_monotonic_time () - start) / 1e6, stats.files,
             stats.bytes, stats.symlinks, stats.dirs, stats.deletions, stats.skipped);
  return TRUE;
}

/* The record's lines, or an empty list when there is none. */
static gboolean
read_record (int dir, const char *host_dir, GStrv *lines, GError **error)
{
  sc_autofd fd = openat (dir, RECORD_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  g_autoptr (GString) text = g_string_new (NULL);
  char buf[4096];
  ssize_t n;

  if (fd < 0 && errno == ENOENT)
    {
      *lines = g_new0 (char *, 1);
      return TRUE;
    }
  while (fd >= 0 && (n = read (fd, buf, sizeof buf)) > 0)
    g_string_append_len (text, buf, n);
  if (fd < 0 || n < 0)
    {
      sc_set_errno_error (error, errno, "cannot read %s/" RECORD_FILE, host_dir);
      return FALSE;
    }
  *lines = g_strsplit (text->str, "\n", -1);
  return TRUE;
}

gboolean
sc_write_buffer_sync (const char *host_dir, GError **error)
{
  sc_autofd dir = -1;
  g_auto (GStrv) lines = NULL;

  if (!sc_write_buffer_is_mounted (host_dir))
    return TRUE;
  if (!freeze (host_dir, error) || !unmount_rootfs (host_dir, error))
    return FALSE;
  dir = open (host_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dir < 0)
    {
      sc_set_errno_error (error, errno, "cannot open %s", host_dir);
      return FALSE;
    }
  if (!read_record (dir, host_dir, &lines, error))
    return FALSE;
  for (char **l = lines; *l != NULL; l++)
    if ((*l)[0] != '\0' && !sync_one (dir, host_dir, *l, error))
      return FALSE;
  return TRUE;
}

gboolean
sc_write_buffer_release (const char *host_dir, gboolean force, GError **error)
{
  g_autofree char *record = g_build_filename (host_dir, RECORD_FILE, NULL);

  if (!sc_write_buffer_is_mounted (host_dir))
    return TRUE;
  if (!force && !is_read_only (host_dir) && g_file_test (record, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_SYSTEM,
                   "%s holds write buffers that were not synced; not removed", host_dir);
      return FALSE;
    }
  if (!unmount_rootfs (host_dir, error))
    return FALSE;
  if (umount2 (host_dir, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
    {
      sc_set_errno_error (error, errno, "cannot unmount the write buffers' tmpfs %s", host_dir);
      return FALSE;
    }
  return TRUE;
}

char *
sc_write_buffer_set_aside (const char *host_dir, const char *parent_dir, const char *name,
                           GError **error)
{
  g_autofree char *kept
      = g_strdup_printf ("%s/" SC_WRITE_BUFFER_UNSYNCED_PREFIX "%s-%" G_GINT64_FORMAT, parent_dir,
                         name, g_get_real_time () / G_USEC_PER_SEC);
  sc_autofd tree = -1;

  if (!unmount_rootfs (host_dir, error))
    return NULL;
  if (mkdir (kept, 0700) < 0)
    {
      sc_set_errno_error (error, errno, "cannot create %s", kept);
      return NULL;
    }
  /* a second mount of the same tmpfs, then the first one goes (MS_MOVE is refused below a
   * shared mount, as / is on systemd hosts) */
  tree = open_tree (AT_FDCWD, host_dir, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (tree < 0 || move_mount (tree, "", AT_FDCWD, kept, MOVE_MOUNT_F_EMPTY_PATH) < 0)
    {
      sc_set_errno_error (error, errno, "cannot move the write buffers of %s to %s", host_dir,
                          kept);
      rmdir (kept);
      return NULL;
    }
  if (umount2 (host_dir, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
    g_warning ("write buffers of %s are kept in %s, but %s stays mounted too: %s", name, kept,
               host_dir, g_strerror (errno));
  return g_steal_pointer (&kept);
}

guint
sc_write_buffer_retry_unsynced (const char *parent_dir)
{
  g_autoptr (GDir) d = g_dir_open (parent_dir, 0, NULL);
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  const char *entry;
  guint kept = 0;

  while (d != NULL && (entry = g_dir_read_name (d)) != NULL)
    if (g_str_has_prefix (entry, SC_WRITE_BUFFER_UNSYNCED_PREFIX))
      g_ptr_array_add (paths, g_build_filename (parent_dir, entry, NULL));
  for (guint i = 0; i < paths->len; i++)
    {
      const char *path = g_ptr_array_index (paths, i);
      g_autoptr (GError) error = NULL;

      if (!sc_write_buffer_is_mounted (path))
        {
          /* the tmpfs is gone (a reboot): so are the buffers; an empty directory is left */
          if (rmdir (path) < 0)
            g_warning ("%s: not a write-buffer mount and not empty; left alone", path);
          else
            g_warning ("%s: its write buffers were lost (the tmpfs is gone: a reboot?)", path);
          continue;
        }
      if (!sc_write_buffer_sync (path, &error) || !sc_write_buffer_release (path, FALSE, &error)
          || rmdir (path) < 0)
        {
          g_warning ("WRITE BUFFERS NOT SYNCED, DATA KEPT in %s: %s", path,
                     error != NULL ? error->message : g_strerror (errno));
          kept++;
          continue;
        }
      g_message ("write buffers kept in %s synced at last; removed", path);
    }
  return kept;
}
