/* The two-phase sync of an overlayfs upper layer into its lower directory (see overlay-sync.h
 * for what is trusted and what is guaranteed).
 *
 * Phase 1 walks the upper tree beside the lower one and builds a plan: one Node per upper entry
 * that changes the host (a staged copy, a deletion, or a directory to merge into). Staged copies
 * are written as they are planned. Phase 2 walks the plan, reopening each merged directory
 * below its parent's descriptor, so that the number of open descriptors grows with the depth of
 * the tree and never with its size. */
#include "overlay-sync.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "error.h"
#include "util.h"

typedef enum
{
  NODE_DELETE, /* a whiteout: remove the host entry */
  NODE_STAGED, /* a staged copy replaces (or becomes) the host entry */
  NODE_MERGE,  /* a directory on both sides: apply the children, then the metadata */
} NodeKind;

typedef struct
{
  NodeKind kind;
  char *name;
  guint staged;        /* NODE_STAGED: its name in the staging directory */
  gboolean is_dir;     /* NODE_STAGED: a directory */
  GPtrArray *children; /* NODE_MERGE: Node * */
} Node;

typedef struct
{
  int staging;            /* the staging directory (O_RDONLY|O_DIRECTORY) */
  dev_t dev;              /* the lower root's device: the walk never leaves it */
  const char *lower_path; /* for messages */
  GString *rel;           /* path below the lower root being worked on, for messages */
  guint next;             /* next staged name */
  ScOverlaySyncStats *stats;
} Sync;

static void
node_free (gpointer data)
{
  Node *node = data;

  if (node == NULL)
    return;
  g_free (node->name);
  if (node->children != NULL)
    g_ptr_array_unref (node->children);
  g_free (node);
}

static Node *
node_new (NodeKind kind, const char *name)
{
  Node *node = g_new0 (Node, 1);

  node->kind = kind;
  node->name = g_strdup (name);
  if (kind == NODE_MERGE)
    node->children = g_ptr_array_new_with_free_func (node_free);
  return node;
}

/* ---- paths for messages -------------------------------------------------------------------- */

static gsize
rel_push (Sync *s, const char *name)
{
  gsize old = s->rel->len;

  if (s->rel->len > 0)
    g_string_append_c (s->rel, '/');
  g_string_append (s->rel, name);
  return old;
}

static void
rel_pop (Sync *s, gsize old)
{
  g_string_truncate (s->rel, old);
}

/* "<lower>/<rel>: <what>: <strerror>" */
static void
sync_error (Sync *s, GError **error, int err, const char *what)
{
  g_set_error (error, SC_ERROR, SC_ERROR_SYSTEM, "%s%s%s: %s: %s", s->lower_path,
               s->rel->len > 0 ? "/" : "", s->rel->str, what, g_strerror (err));
}

static void
staged_name (char *buf, gsize size, guint n)
{
  g_snprintf (buf, size, "%u", n);
}

/* ---- small file-system helpers ------------------------------------------------------------- */

static gboolean
is_whiteout (const struct stat *st)
{
  return S_ISCHR (st->st_mode) && st->st_rdev == makedev (0, 0);
}

static gboolean
is_opaque (int dirfd)
{
  char value[4];
  ssize_t n = fgetxattr (dirfd, "trusted.overlay.opaque", value, sizeof value);

  return n == 1 && value[0] == 'y';
}

static gboolean
is_mount_root (int fd)
{
  struct statx stx;

  if (statx (fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx) < 0)
    return FALSE;
  return (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) != 0
         && (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
}

static const char *
type_name (mode_t mode)
{
  return S_ISFIFO (mode)   ? "FIFO"
         : S_ISSOCK (mode) ? "socket"
         : S_ISCHR (mode)  ? "character device"
         : S_ISBLK (mode)  ? "block device"
                           : "special file";
}

/* g_ptr_array_sort passes pointers to the elements */
static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* The names in a directory (without "." and ".."), sorted. The stream is closed before the
 * caller recurses. */
static GPtrArray *
list_dir (Sync *s, int dirfd, GError **error)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  int fd = fcntl (dirfd, F_DUPFD_CLOEXEC, 3);
  DIR *dir;
  struct dirent *entry;

  if (fd < 0 || (dir = fdopendir (fd)) == NULL)
    {
      int e = errno;
      if (fd >= 0)
        close (fd);
      sync_error (s, error, e, "cannot read the directory");
      return NULL;
    }
  rewinddir (dir);
  errno = 0;
  while ((entry = readdir (dir)) != NULL)
    {
      if (strcmp (entry->d_name, ".") != 0 && strcmp (entry->d_name, "..") != 0)
        g_ptr_array_add (names, g_strdup (entry->d_name));
      errno = 0;
    }
  if (errno != 0)
    {
      int e = errno;
      closedir (dir);
      sync_error (s, error, e, "cannot read the directory");
      return NULL;
    }
  closedir (dir);
  g_ptr_array_sort (names, compare_names);
  return g_steal_pointer (&names);
}

/* Opens the host directory name below lower, refusing to leave the lower file system: another
 * device or a mount root (a bind mount from the same device) is an error. */
static int
open_lower_dir (Sync *s, int lower, const char *name, GError **error)
{
  sc_autofd fd = openat (lower, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;

  if (fd < 0 || fstat (fd, &st) < 0)
    {
      sync_error (s, error, errno, "cannot open the host directory");
      return -1;
    }
  if (st.st_dev != s->dev || is_mount_root (fd))
    {
      sync_error (s, error, EXDEV,
                  "a mount on the host covers this directory; the sync does not cross mounts");
      return -1;
    }
  return sc_steal_fd (&fd);
}

/* Copies user.* and POSIX ACL attributes from src to dst. A lower file system without xattr
 * support loses them (logged); the data is what matters. */
static void
copy_xattrs (Sync *s, int src, int dst, gboolean is_dir)
{
  g_autofree char *list = NULL;
  ssize_t len = flistxattr (src, NULL, 0);

  if (len <= 0)
    return;
  list = g_malloc (len);
  len = flistxattr (src, list, len);
  for (ssize_t off = 0; len > 0 && off < len; off += (ssize_t) strlen (list + off) + 1)
    {
      const char *name = list + off;
      g_autofree char *value = NULL;
      ssize_t vlen;

      if (!g_str_has_prefix (name, "user.") && strcmp (name, "system.posix_acl_access") != 0
          && !(is_dir && strcmp (name, "system.posix_acl_default") == 0))
        continue;
      vlen = fgetxattr (src, name, NULL, 0);
      if (vlen < 0)
        continue;
      value = g_malloc (vlen + 1);
      vlen = fgetxattr (src, name, value, vlen);
      if (vlen < 0 || fsetxattr (dst, name, value, vlen, 0) < 0)
        g_message ("write-buffer sync: %s/%s: extended attribute %s not copied: %s", s->lower_path,
                   s->rel->str, name, g_strerror (errno));
    }
}

/* Owner, user xattrs, mode (setuid/setgid stripped, keep_bits of the host's kept) and times of
 * st onto fd (a file or directory opened for writing or reading). Times last. */
static gboolean
apply_meta (Sync *s, int fd, const struct stat *st, int xattr_src, mode_t keep_bits, GError **error)
{
  struct timespec times[2] = { st->st_atim, st->st_mtim };
  mode_t mode = (st->st_mode & 07777 & ~(mode_t) (S_ISUID | S_ISGID)) | keep_bits;
  struct stat now;

  if (fstat (fd, &now) < 0)
    {
      sync_error (s, error, errno, "cannot stat");
      return FALSE;
    }
  if ((now.st_uid != st->st_uid || now.st_gid != st->st_gid)
      && fchown (fd, st->st_uid, st->st_gid) < 0)
    {
      sync_error (s, error, errno, "cannot set the owner");
      return FALSE;
    }
  if (xattr_src >= 0)
    copy_xattrs (s, xattr_src, fd, S_ISDIR (st->st_mode));
  if ((st->st_mode & (S_ISUID | S_ISGID) & ~keep_bits) != 0)
    g_message ("write-buffer sync: %s/%s: setuid/setgid bits stripped", s->lower_path, s->rel->str);
  if (fchmod (fd, mode) < 0)
    {
      sync_error (s, error, errno, "cannot set the mode");
      return FALSE;
    }
  if (futimens (fd, times) < 0)
    {
      sync_error (s, error, errno, "cannot set the times");
      return FALSE;
    }
  return TRUE;
}

/* ---- copies (phase 1) ---------------------------------------------------------------------- */

static gboolean
copy_file (Sync *s, int src_dir, const char *name, int dst_dir, const char *dst_name,
           GError **error)
{
  sc_autofd src = openat (src_dir, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  sc_autofd dst = -1;
  struct stat st;

  if (src < 0 || fstat (src, &st) < 0)
    {
      sync_error (s, error, errno, "cannot open the buffered file");
      return FALSE;
    }
  if (!S_ISREG (st.st_mode))
    {
      sync_error (s, error, EINVAL, "the buffered file changed its type during the sync");
      return FALSE;
    }
  /* with metacopy=off the upper never holds a data-less copy; if it does, its data is elsewhere */
  if (fgetxattr (src, "trusted.overlay.metacopy", NULL, 0) >= 0)
    {
      sync_error (s, error, EINVAL, "a metacopy-only file (the overlay had metacopy on)");
      return FALSE;
    }
  dst = openat (dst_dir, dst_name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (dst < 0)
    {
      sync_error (s, error, errno, "cannot create the copy in the staging directory");
      return FALSE;
    }
  for (;;)
    {
      ssize_t n = sendfile (dst, src, NULL, 1 << 30);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          sync_error (s, error, errno, "cannot write the copy");
          return FALSE;
        }
      if (n == 0)
        break;
      if (s->stats != NULL)
        s->stats->bytes += (guint64) n;
    }
  if (!apply_meta (s, dst, &st, src, 0, error))
    return FALSE;
  if (s->stats != NULL)
    s->stats->files++;
  return TRUE;
}

static gboolean
copy_symlink (Sync *s, int src_dir, const char *name, const struct stat *st, int dst_dir,
              const char *dst_name, GError **error)
{
  char target[PATH_MAX];
  struct timespec times[2] = { st->st_atim, st->st_mtim };
  ssize_t n = readlinkat (src_dir, name, target, sizeof target - 1);

  if (n < 0)
    {
      sync_error (s, error, errno, "cannot read the buffered symlink");
      return FALSE;
    }
  target[n] = '\0';
  if (symlinkat (target, dst_dir, dst_name) < 0)
    {
      sync_error (s, error, errno, "cannot create the symlink in the staging directory");
      return FALSE;
    }
  if (fchownat (dst_dir, dst_name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0
      || utimensat (dst_dir, dst_name, times, AT_SYMLINK_NOFOLLOW) < 0)
    {
      sync_error (s, error, errno, "cannot set the symlink's owner and times");
      return FALSE;
    }
  if (s->stats != NULL)
    s->stats->symlinks++;
  return TRUE;
}

static gboolean copy_tree (Sync *s, int src, int dst, int depth, GError **error);

/* Copies the directory src_dir/name (an upper directory) as dst_dir/dst_name, whole. */
static gboolean
copy_dir (Sync *s, int src_dir, const char *name, int dst_dir, const char *dst_name, int depth,
          GError **error)
{
  sc_autofd src = -1;
  sc_autofd dst = -1;
  struct stat st;

  if (depth >= SC_OVERLAY_SYNC_MAX_DEPTH)
    {
      sync_error (s, error, ELOOP, "the buffered tree is too deep to sync");
      return FALSE;
    }
  src = openat (src_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (src < 0 || fstat (src, &st) < 0)
    {
      sync_error (s, error, errno, "cannot open the buffered directory");
      return FALSE;
    }
  if (mkdirat (dst_dir, dst_name, 0700) < 0
      || (dst = openat (dst_dir, dst_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
    {
      sync_error (s, error, errno, "cannot create the directory in the staging directory");
      return FALSE;
    }
  if (!copy_tree (s, src, dst, depth + 1, error) || !apply_meta (s, dst, &st, src, 0, error))
    return FALSE;
  if (s->stats != NULL)
    s->stats->dirs++;
  return TRUE;
}

/* Copies one upper entry as dst_dir/dst_name. Whiteouts are nothing here (there is nothing
 * below a new or opaque directory to delete); FIFOs, sockets and devices are skipped. *copied
 * says whether something was made. */
static gboolean
copy_entry (Sync *s, int src_dir, const char *name, const struct stat *st, int dst_dir,
            const char *dst_name, int depth, gboolean *copied, GError **error)
{
  *copied = FALSE;
  if (is_whiteout (st))
    return TRUE;
  if (S_ISREG (st->st_mode))
    *copied = copy_file (s, src_dir, name, dst_dir, dst_name, error);
  else if (S_ISLNK (st->st_mode))
    *copied = copy_symlink (s, src_dir, name, st, dst_dir, dst_name, error);
  else if (S_ISDIR (st->st_mode))
    *copied = copy_dir (s, src_dir, name, dst_dir, dst_name, depth, error);
  else
    {
      g_warning ("write-buffer sync: %s/%s: a %s is not copied to the host", s->lower_path,
                 s->rel->str, type_name (st->st_mode));
      if (s->stats != NULL)
        s->stats->skipped++;
      return TRUE;
    }
  return *copied;
}

static gboolean
copy_tree (Sync *s, int src, int dst, int depth, GError **error)
{
  g_autoptr (GPtrArray) names = list_dir (s, src, error);

  if (names == NULL)
    return FALSE;
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = g_ptr_array_index (names, i);
      gsize old = rel_push (s, name);
      gboolean copied;
      struct stat st;

      if (fstatat (src, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        {
          sync_error (s, error, errno, "cannot stat the buffered entry");
          return FALSE;
        }
      if (!copy_entry (s, src, name, &st, dst, name, depth, &copied, error))
        return FALSE;
      rel_pop (s, old);
    }
  return TRUE;
}

/* ---- phase 1: the plan ---------------------------------------------------------------------- */

/* Plans the upper directory `upper` against the host directory `lower`, appending to nodes. */
static gboolean
plan_dir (Sync *s, int upper, int lower, GPtrArray *nodes, int depth, GError **error)
{
  g_autoptr (GPtrArray) names = NULL;

  if (depth >= SC_OVERLAY_SYNC_MAX_DEPTH)
    {
      sync_error (s, error, ELOOP, "the buffered tree is too deep to sync");
      return FALSE;
    }
  names = list_dir (s, upper, error);
  if (names == NULL)
    return FALSE;
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = g_ptr_array_index (names, i);
      gsize old = rel_push (s, name);
      struct stat st, lst;

      if (depth == 0 && strcmp (name, SC_OVERLAY_SYNC_STAGING) == 0)
        {
          g_warning ("write-buffer sync: %s/%s: a reserved name; not copied to the host",
                     s->lower_path, name);
          rel_pop (s, old);
          continue;
        }
      if (fstatat (upper, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        {
          sync_error (s, error, errno, "cannot stat the buffered entry");
          return FALSE;
        }
      if (is_whiteout (&st))
        {
          g_ptr_array_add (nodes, node_new (NODE_DELETE, name));
          rel_pop (s, old);
          continue;
        }
      if (S_ISDIR (st.st_mode) && fstatat (lower, name, &lst, AT_SYMLINK_NOFOLLOW) == 0
          && S_ISDIR (lst.st_mode))
        {
          sc_autofd ud = openat (upper, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          sc_autofd ld = -1;
          Node *node;

          if (ud < 0)
            {
              sync_error (s, error, errno, "cannot open the buffered directory");
              return FALSE;
            }
          if (!is_opaque (ud))
            {
              node = node_new (NODE_MERGE, name);
              g_ptr_array_add (nodes, node);
              ld = open_lower_dir (s, lower, name, error);
              if (ld < 0 || !plan_dir (s, ud, ld, node->children, depth + 1, error))
                return FALSE;
              rel_pop (s, old);
              continue;
            }
        }
      /* a new entry, a changed file or symlink, an opaque directory, or a type change */
      {
        char staged[16];
        gboolean copied;

        staged_name (staged, sizeof staged, s->next);
        if (!copy_entry (s, upper, name, &st, s->staging, staged, depth, &copied, error))
          return FALSE;
        if (copied)
          {
            Node *node = node_new (NODE_STAGED, name);

            node->staged = s->next++;
            node->is_dir = S_ISDIR (st.st_mode);
            g_ptr_array_add (nodes, node);
          }
      }
      rel_pop (s, old);
    }
  return TRUE;
}

/* ---- phase 2: into place -------------------------------------------------------------------- */

static gboolean
apply_delete (Sync *s, int lower, const Node *node, GError **error)
{
  struct stat st;

  if (fstatat (lower, node->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    {
      if (errno == ENOENT)
        return TRUE; /* gone already (an earlier try, or the host removed it) */
      sync_error (s, error, errno, "cannot stat the host entry to delete");
      return FALSE;
    }
  if (S_ISDIR (st.st_mode))
    {
      /* moved out of sight in one step; removed with the staging directory */
      sc_autofd check = open_lower_dir (s, lower, node->name, error);
      char trash[24];

      if (check < 0)
        return FALSE;
      g_snprintf (trash, sizeof trash, "d%u", s->next++);
      if (renameat (lower, node->name, s->staging, trash) < 0)
        {
          sync_error (s, error, errno, "cannot delete the host directory");
          return FALSE;
        }
    }
  else if (unlinkat (lower, node->name, 0) < 0 && errno != ENOENT)
    {
      sync_error (s, error, errno, "cannot delete the host file");
      return FALSE;
    }
  if (s->stats != NULL)
    s->stats->deletions++;
  return TRUE;
}

static gboolean
apply_staged (Sync *s, int lower, const Node *node, GError **error)
{
  char staged[16];
  struct stat st;
  int r;

  staged_name (staged, sizeof staged, node->staged);
  if (fstatat (lower, node->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    {
      if (errno != ENOENT)
        {
          sync_error (s, error, errno, "cannot stat the host entry");
          return FALSE;
        }
      r = renameat2 (s->staging, staged, lower, node->name, RENAME_NOREPLACE);
    }
  else if (node->is_dir || S_ISDIR (st.st_mode))
    /* a directory replaces, or is replaced: swap, the old one goes with the staging dir */
    r = renameat2 (s->staging, staged, lower, node->name, RENAME_EXCHANGE);
  else
    r = renameat (s->staging, staged, lower, node->name);
  if (r < 0)
    {
      sync_error (s, error, errno, "cannot move the new version into place");
      return FALSE;
    }
  return TRUE;
}

/* A merged directory's own metadata: the host keeps its setuid/setgid bits (a setgid
 * directory's group inheritance), the container cannot add them. */
static gboolean
apply_dir_meta (Sync *s, int upper, int lower, GError **error)
{
  struct stat ust, lst;

  if (fstat (upper, &ust) < 0 || fstat (lower, &lst) < 0)
    {
      sync_error (s, error, errno, "cannot stat the directory");
      return FALSE;
    }
  if (!apply_meta (s, lower, &ust, upper, lst.st_mode & (S_ISUID | S_ISGID), error))
    return FALSE;
  if (s->stats != NULL)
    s->stats->dirs++;
  return TRUE;
}

static gboolean
apply_dir (Sync *s, int upper, int lower, GPtrArray *nodes, GError **error)
{
  for (guint i = 0; i < nodes->len; i++)
    {
      const Node *node = g_ptr_array_index (nodes, i);
      gsize old = rel_push (s, node->name);
      gboolean ok = TRUE;

      switch (node->kind)
        {
        case NODE_DELETE:
          ok = apply_delete (s, lower, node, error);
          break;
        case NODE_STAGED:
          ok = apply_staged (s, lower, node, error);
          break;
        case NODE_MERGE:
          {
            sc_autofd ud
                = openat (upper, node->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            sc_autofd ld = -1;

            if (ud < 0)
              {
                sync_error (s, error, errno, "cannot open the buffered directory");
                return FALSE;
              }
            ld = open_lower_dir (s, lower, node->name, error);
            ok = ld >= 0 && apply_dir (s, ud, ld, node->children, error)
                 && apply_dir_meta (s, ud, ld, error);
          }
          break;
        }
      if (!ok)
        return FALSE;
      rel_pop (s, old);
    }
  return TRUE;
}

/* ---- the staging directory ------------------------------------------------------------------ */

/* Removes dir/name and what is below it, never following symlinks and never leaving dev. */
static gboolean
remove_at (int dir, const char *name, dev_t dev, int depth)
{
  struct stat st;
  gboolean ok = TRUE;

  if (fstatat (dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT;
  if (S_ISDIR (st.st_mode))
    {
      sc_autofd fd = openat (dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      DIR *d;
      struct dirent *entry;
      g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

      if (fd < 0 || st.st_dev != dev || is_mount_root (fd) || depth > SC_OVERLAY_SYNC_MAX_DEPTH + 2)
        return FALSE;
      d = fdopendir (fcntl (fd, F_DUPFD_CLOEXEC, 3));
      if (d == NULL)
        return FALSE;
      while ((entry = readdir (d)) != NULL)
        if (strcmp (entry->d_name, ".") != 0 && strcmp (entry->d_name, "..") != 0)
          g_ptr_array_add (names, g_strdup (entry->d_name));
      closedir (d);
      for (guint i = 0; i < names->len; i++)
        ok = remove_at (fd, g_ptr_array_index (names, i), dev, depth + 1) && ok;
      return ok && unlinkat (dir, name, AT_REMOVEDIR) == 0;
    }
  return unlinkat (dir, name, 0) == 0 || errno == ENOENT;
}

static int
make_staging (Sync *s, int lower, GError **error)
{
  sc_autofd fd = -1;

  /* a leftover of an interrupted sync holds only copies: the upper layer still has them */
  if (!remove_at (lower, SC_OVERLAY_SYNC_STAGING, s->dev, 0))
    {
      sync_error (s, error, errno ? errno : EBUSY,
                  "cannot remove the leftover staging directory " SC_OVERLAY_SYNC_STAGING);
      return -1;
    }
  if (mkdirat (lower, SC_OVERLAY_SYNC_STAGING, 0700) < 0
      || (fd = openat (lower, SC_OVERLAY_SYNC_STAGING,
                       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC))
             < 0)
    {
      sync_error (s, error, errno, "cannot create the staging directory " SC_OVERLAY_SYNC_STAGING);
      return -1;
    }
  return sc_steal_fd (&fd);
}

/* An upper layer that holds nothing and whose root has the lower's mode and owner: the app
 * changed nothing here. Nothing is written then, not even the staging directory (the lower may
 * be on a read-only file system), and the host directory's times are left as they are now. */
static gboolean
upper_is_unchanged (Sync *s, int upper, const struct stat *lower_st, GError **error)
{
  g_autoptr (GPtrArray) names = list_dir (s, upper, error);
  struct stat st;

  if (names == NULL || names->len > 0 || fstat (upper, &st) < 0)
    return FALSE;
  return st.st_mode == lower_st->st_mode && st.st_uid == lower_st->st_uid
         && st.st_gid == lower_st->st_gid;
}

gboolean
sc_overlay_sync (int upper_fd, int lower_fd, const char *lower_path, ScOverlaySyncStats *stats,
                 GError **error)
{
  g_autoptr (GPtrArray) plan = g_ptr_array_new_with_free_func (node_free);
  g_autoptr (GString) rel = g_string_new (NULL);
  sc_autofd staging = -1;
  Sync s = { -1, 0, lower_path, rel, 0, stats };
  struct stat st;
  gboolean ok;

  if (fstat (lower_fd, &st) < 0)
    {
      sync_error (&s, error, errno, "cannot stat the host directory");
      return FALSE;
    }
  s.dev = st.st_dev;
  if (upper_is_unchanged (&s, upper_fd, &st, error))
    return TRUE;
  if (error != NULL && *error != NULL)
    return FALSE;
  staging = make_staging (&s, lower_fd, error);
  if (staging < 0)
    return FALSE;
  s.staging = staging;

  /* phase 1: nothing visible changes */
  ok = plan_dir (&s, upper_fd, lower_fd, plan, 0, error);
  if (ok && syncfs (staging) < 0)
    {
      sync_error (&s, error, errno, "cannot flush the staged copies");
      ok = FALSE;
    }
  /* phase 2: into place */
  if (ok)
    {
      g_string_truncate (rel, 0);
      ok = apply_dir (&s, upper_fd, lower_fd, plan, error);
    }
  if (ok)
    {
      g_string_truncate (rel, 0);
      ok = apply_dir_meta (&s, upper_fd, lower_fd, error);
    }
  if (ok && syncfs (lower_fd) < 0)
    {
      g_string_truncate (rel, 0);
      sync_error (&s, error, errno, "cannot flush the host directory");
      ok = FALSE;
    }
  /* what was staged and not used, and what was replaced */
  if (!remove_at (lower_fd, SC_OVERLAY_SYNC_STAGING, s.dev, 0))
    g_warning ("write-buffer sync: cannot remove %s/%s completely (a mount inside what was "
               "replaced?)",
               lower_path, SC_OVERLAY_SYNC_STAGING);
  return ok;
}
