/* Safe mounting of host files and directories into a running container (see mount.h for the
 * threat model).
 *
 * The work happens in a child forked from the agent, because setns(CLONE_NEWNS) is refused to
 * a multi-threaded process and the agent must never leave its own namespaces. The child only
 * makes system calls on memory prepared by the parent (no malloc after fork) and reports each
 * step through a pipe: what it created, what it mounted, or the step that failed and its errno.
 * The parent turns that into the record or the error message. */
#include "mount.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "error.h"
#include "util.h"

typedef enum {
  STEP_NONE,
  STEP_OPEN_TREE,
  STEP_SETATTR,
  STEP_SETNS,
  STEP_RESOLVE,
  STEP_MKDIR,
  STEP_CREATE,
  STEP_NOT_DIR,
  STEP_IS_DIR,
  STEP_IS_MOUNT,
  STEP_MOVE,
  STEP_VERIFY,
} Step;

typedef enum {
  MSG_CREATED, /* request `index` created the first `depth` components of its path */
  MSG_MOUNTED, /* request `index` is mounted */
  MSG_ERROR,   /* request `index` failed at `step` with `err`, at component `depth` */
  MSG_UNDONE,  /* undo finished; `err` holds the first failure or 0 */
  MSG_UNDO_FAILED, /* after an error: the batch's own rollback failed with `err` */
} MsgKind;

typedef struct {
  int kind;
  int index;
  int step;
  int err;
  int depth;
} Msg;

/* One request as the child sees it: the normalised path split into components. */
typedef struct {
  int source_fd;
  gboolean source_is_dir;
  gboolean read_only;
  char *path;         /* normalised, "/a/b" */
  char **components;  /* "a", "b", NULL */
  int n_components;
  int tree_fd;        /* child only: the detached clone */
} Job;

struct ScMountRecord {
  GPtrArray *mounted; /* normalised container paths, in mount order */
  GPtrArray *created; /* normalised container paths, in creation order */
};

/* A created entry as the child remembers it for rollback. */
typedef struct {
  int parent_fd;
  const char *name;
  gboolean is_dir;
} Created;

/* Detaches the mount whose root fd refers to. The container's /proc belongs to its PID
 * namespace, where this child does not exist, so the magic link is taken from the host's
 * /proc/self/fd (procfd, opened before setns) by name relative to it. No snprintf after fork. */
static int
umount_fd (int procfd, int fd)
{
  char name[16];
  char digits[16];
  int n = 0;
  unsigned int v = (unsigned int) fd;

  do
    {
      digits[n++] = (char) ('0' + v % 10);
      v /= 10;
    }
  while (v > 0);
  for (int i = 0; i < n; i++)
    name[i] = digits[n - 1 - i];
  name[n] = '\0';
  if (fchdir (procfd) < 0)
    return -1;
  return umount2 (name, MNT_DETACH);
}

static int
sys_openat2 (int dirfd, const char *path, int flags, guint64 resolve)
{
  struct open_how how = { .flags = (guint64) flags, .mode = 0, .resolve = resolve };
  return (int) syscall (SYS_openat2, dirfd, path, &how, sizeof how);
}

/* Opens components[0..depth) of a job below rootfd, inside the root. */
static int
open_in_root (int rootfd, const Job *job, int depth, char *buf, int flags)
{
  size_t len = 0;

  for (int i = 0; i < depth; i++)
    {
      size_t l = strlen (job->components[i]);
      if (len + l + 2 >= PATH_MAX)
        {
          errno = ENAMETOOLONG;
          return -1;
        }
      if (i > 0)
        buf[len++] = '/';
      memcpy (buf + len, job->components[i], l);
      len += l;
    }
  if (len == 0)
    buf[len++] = '.';
  buf[len] = '\0';
  return sys_openat2 (rootfd, buf, flags | O_PATH | O_CLOEXEC,
                      RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

static void
send_msg (int fd, MsgKind kind, int index, int step, int err, int depth)
{
  Msg m = { kind, index, step, err, depth };
  ssize_t n;

  do
    n = write (fd, &m, sizeof m);
  while (n < 0 && errno == EINTR);
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

/* Child: removes what was done so far, newest first. Returns 0 or the first errno. */
static int
child_rollback (int procfd, Job *jobs, int n_mounted, Created *created, int n_created)
{
  int first_err = 0;

  for (int i = n_mounted; i-- > 0;)
    if (umount_fd (procfd, jobs[i].tree_fd) < 0 && first_err == 0)
      first_err = errno;
  /* a created entry the app has removed already is fine; one it has filled is not */
  for (int i = n_created; i-- > 0;)
    if (unlinkat (created[i].parent_fd, created[i].name, created[i].is_dir ? AT_REMOVEDIR : 0) < 0
        && errno != ENOENT && first_err == 0)
      first_err = errno;
  return first_err;
}

/* Child: resolves (creating what is missing) and mounts one job. Returns 0 or reports. */
static int
child_mount_one (int pipe_fd, int procfd, int rootfd, Job *jobs, int index, Created *created, int *n_created,
                 char *buf)
{
  Job *job = &jobs[index];
  int parent_fd = rootfd;
  struct stat st, src;

  for (int depth = 1; depth <= job->n_components; depth++)
    {
      gboolean last = depth == job->n_components;
      gboolean want_dir = !last || job->source_is_dir;
      const char *name = job->components[depth - 1];
      int fd = open_in_root (rootfd, job, depth, buf, 0);

      if (fd < 0 && errno == ENOENT)
        {
          if (want_dir)
            {
              if (mkdirat (parent_fd, name, 0755) < 0)
                {
                  send_msg (pipe_fd, MSG_ERROR, index, STEP_MKDIR, errno, depth);
                  return -1;
                }
            }
          else
            {
              int f = openat (parent_fd, name,
                              O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC | O_NOCTTY, 0644);
              if (f < 0)
                {
                  send_msg (pipe_fd, MSG_ERROR, index, STEP_CREATE, errno, depth);
                  return -1;
                }
              close (f);
            }
          created[*n_created] = (Created){ parent_fd, name, want_dir };
          (*n_created)++;
          send_msg (pipe_fd, MSG_CREATED, index, STEP_NONE, 0, depth);
          /* reopen what we just made without following anything */
          fd = sys_openat2 (parent_fd, name, O_PATH | O_CLOEXEC | O_NOFOLLOW,
                            RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
        }
      if (fd < 0)
        {
          send_msg (pipe_fd, MSG_ERROR, index, STEP_RESOLVE, errno, depth);
          return -1;
        }
      if (fstat (fd, &st) < 0)
        {
          send_msg (pipe_fd, MSG_ERROR, index, STEP_RESOLVE, errno, depth);
          return -1;
        }
      if (want_dir && !S_ISDIR (st.st_mode))
        {
          send_msg (pipe_fd, MSG_ERROR, index, STEP_NOT_DIR, ENOTDIR, depth);
          return -1;
        }
      if (!want_dir && S_ISDIR (st.st_mode))
        {
          send_msg (pipe_fd, MSG_ERROR, index, STEP_IS_DIR, EISDIR, depth);
          return -1;
        }
      /* parent fds stay open until the child exits: rollback needs them */
      parent_fd = fd;
    }

  if (is_mount_root (parent_fd))
    {
      send_msg (pipe_fd, MSG_ERROR, index, STEP_IS_MOUNT, EBUSY, job->n_components);
      return -1;
    }
  if (move_mount (job->tree_fd, "", parent_fd, "",
                  MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    {
      send_msg (pipe_fd, MSG_ERROR, index, STEP_MOVE, errno, job->n_components);
      return -1;
    }

  /* Read the target back: it must now be the source's inode, on a mount root. */
  {
    int check = open_in_root (rootfd, job, job->n_components, buf, 0);
    gboolean ok = check >= 0 && fstat (check, &st) == 0 && fstat (job->source_fd, &src) == 0
                  && st.st_dev == src.st_dev && st.st_ino == src.st_ino && is_mount_root (check);
    if (check >= 0)
      close (check);
    if (!ok)
      {
        umount_fd (procfd, job->tree_fd);
        send_msg (pipe_fd, MSG_ERROR, index, STEP_VERIFY, EIO, job->n_components);
        return -1;
      }
  }
  send_msg (pipe_fd, MSG_MOUNTED, index, STEP_NONE, 0, job->n_components);
  return 0;
}

G_GNUC_NORETURN static void
child_mount (int pipe_fd, int pidfd, Job *jobs, int n_jobs, Created *created)
{
  static char buf[PATH_MAX];
  int n_created = 0;
  int rootfd, procfd;

  procfd = open ("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (procfd < 0)
    {
      send_msg (pipe_fd, MSG_ERROR, 0, STEP_SETNS, errno, 0);
      _exit (1);
    }
  /* Clone the sources while still in the host's mount namespace: open_tree may only copy
   * mounts of the caller's namespace. */
  for (int i = 0; i < n_jobs; i++)
    {
      struct mount_attr attr = {
        .attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (jobs[i].read_only ? MOUNT_ATTR_RDONLY : 0),
      };

      jobs[i].tree_fd = open_tree (jobs[i].source_fd, "",
                                   OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
      if (jobs[i].tree_fd < 0)
        {
          send_msg (pipe_fd, MSG_ERROR, i, STEP_OPEN_TREE, errno, 0);
          _exit (1);
        }
      if (mount_setattr (jobs[i].tree_fd, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
        {
          send_msg (pipe_fd, MSG_ERROR, i, STEP_SETATTR, errno, 0);
          _exit (1);
        }
    }

  if (setns (pidfd, CLONE_NEWNS) < 0)
    {
      send_msg (pipe_fd, MSG_ERROR, 0, STEP_SETNS, errno, 0);
      _exit (1);
    }
  rootfd = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    {
      send_msg (pipe_fd, MSG_ERROR, 0, STEP_SETNS, errno, 0);
      _exit (1);
    }

  for (int i = 0; i < n_jobs; i++)
    if (child_mount_one (pipe_fd, procfd, rootfd, jobs, i, created, &n_created, buf) < 0)
      {
        int err = child_rollback (procfd, jobs, i, created, n_created);
        if (err != 0)
          send_msg (pipe_fd, MSG_UNDO_FAILED, i, STEP_NONE, err, 0);
        _exit (1);
      }
  _exit (0);
}

/* Child: undoes a record. Mounted paths are unmounted only if they are still mount roots. */
G_GNUC_NORETURN static void
child_undo (int pipe_fd, int pidfd, Job *mounted, int n_mounted, Job *created, int n_created)
{
  static char buf[PATH_MAX];
  int first_err = 0;
  int rootfd;
  int procfd = open ("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);

  if (procfd < 0 || setns (pidfd, CLONE_NEWNS) < 0
      || (rootfd = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
    {
      send_msg (pipe_fd, MSG_ERROR, 0, STEP_SETNS, errno, 0);
      _exit (1);
    }
  for (int i = n_mounted; i-- > 0;)
    {
      int fd = open_in_root (rootfd, &mounted[i], mounted[i].n_components, buf, 0);
      if (fd >= 0 && is_mount_root (fd) && umount_fd (procfd, fd) < 0
          && first_err == 0)
        first_err = errno;
      if (fd >= 0)
        close (fd);
    }
  for (int i = n_created; i-- > 0;)
    {
      Job *job = &created[i];
      int parent = open_in_root (rootfd, job, job->n_components - 1, buf, O_DIRECTORY);
      struct stat st;

      if (parent < 0)
        continue;
      if (fstatat (parent, job->components[job->n_components - 1], &st, AT_SYMLINK_NOFOLLOW) == 0)
        {
          if (unlinkat (parent, job->components[job->n_components - 1],
                        S_ISDIR (st.st_mode) ? AT_REMOVEDIR : 0)
                  < 0
              && errno != ENOTEMPTY && first_err == 0)
            first_err = errno;
        }
      close (parent);
    }
  send_msg (pipe_fd, MSG_UNDONE, 0, STEP_NONE, first_err, 0);
  _exit (0);
}

static void
job_clear (Job *job)
{
  g_free (job->path);
  g_strfreev (job->components);
}

static gboolean
job_init (Job *job, const char *path, GError **error)
{
  g_autofree char *normal = sc_path_normalize (path, "path in the container", error);

  if (normal == NULL)
    return FALSE;
  job->path = g_steal_pointer (&normal);
  job->components = g_strsplit (job->path + 1, "/", -1);
  job->n_components = (int) g_strv_length (job->components);
  if (job->n_components == 1 && job->components[0][0] == '\0')
    job->n_components = 0;
  job->tree_fd = -1;
  return TRUE;
}

/* "/a/b" of the first depth components, for messages and records. */
static char *
job_prefix (const Job *job, int depth)
{
  GString *s = g_string_new (NULL);

  for (int i = 0; i < depth && i < job->n_components; i++)
    g_string_append_printf (s, "/%s", job->components[i]);
  if (s->len == 0)
    g_string_append_c (s, '/');
  return g_string_free (s, FALSE);
}

static void
set_step_error (GError **error, const Job *job, const Msg *m)
{
  g_autofree char *where = job_prefix (job, m->depth);
  const char *why = g_strerror (m->err);

  switch ((Step) m->step)
    {
    case STEP_OPEN_TREE:
      g_set_error (error, SC_ERROR, SC_ERROR_SYSTEM, "cannot clone the host mount for %s: %s",
                   job->path, why);
      break;
    case STEP_SETATTR:
      g_set_error (error, SC_ERROR, SC_ERROR_SYSTEM,
                   "cannot make the mount for %s nosuid,nodev%s: %s", job->path,
                   job->read_only ? ",ro" : "", why);
      break;
    case STEP_SETNS:
      g_set_error (error, SC_ERROR, SC_ERROR_SYSTEM,
                   "cannot enter the container's mount namespace: %s", why);
      break;
    case STEP_RESOLVE:
      g_set_error (error, SC_ERROR, SC_ERROR_BAD_PATH, "cannot resolve %s in the container: %s",
                   where, why);
      break;
    case STEP_MKDIR:
      g_set_error (error, SC_ERROR, SC_ERROR_BAD_PATH,
                   "cannot create directory %s in the container: %s", where, why);
      break;
    case STEP_CREATE:
      g_set_error (error, SC_ERROR, SC_ERROR_BAD_PATH,
                   "cannot create the mount point %s in the container: %s", where, why);
      break;
    case STEP_NOT_DIR:
      g_set_error (error, SC_ERROR, SC_ERROR_BAD_PATH,
                   "%s exists in the container and is not a directory", where);
      break;
    case STEP_IS_DIR:
      g_set_error (error, SC_ERROR, SC_ERROR_BAD_PATH,
                   "%s exists in the container and is a directory, but the host path is not", where);
      break;
    case STEP_IS_MOUNT:
      g_set_error (error, SC_ERROR, SC_ERROR_BAD_PATH, "%s is already a mount target in the container",
                   job->path);
      break;
    case STEP_MOVE:
      g_set_error (error, SC_ERROR, SC_ERROR_SYSTEM, "cannot mount onto %s in the container: %s",
                   job->path, why);
      break;
    case STEP_VERIFY:
      g_set_error (error, SC_ERROR, SC_ERROR_SYSTEM,
                   "the mount onto %s did not end up where it was meant to (the path changed "
                   "while mounting); it was removed",
                   job->path);
      break;
    default:
      g_set_error (error, SC_ERROR, SC_ERROR_SYSTEM, "mount helper failed on %s: %s", job->path,
                   why);
      break;
    }
}

/* Forks, runs fn in the child with the write end of a pipe, collects the messages. */
static GArray *
run_child (GError **error, void (*fn) (int pipe_fd, gpointer data), gpointer data)
{
  g_autoptr (GArray) msgs = g_array_new (FALSE, FALSE, sizeof (Msg));
  int fds[2];
  pid_t pid;
  int status = 0;

  if (pipe2 (fds, O_CLOEXEC) < 0)
    {
      sc_set_errno_error (error, errno, "pipe");
      return NULL;
    }
  pid = fork ();
  if (pid < 0)
    {
      int e = errno;
      close (fds[0]);
      close (fds[1]);
      sc_set_errno_error (error, e, "fork");
      return NULL;
    }
  if (pid == 0)
    {
      close (fds[0]);
      fn (fds[1], data);
      _exit (1);
    }
  close (fds[1]);
  for (;;)
    {
      Msg m;
      ssize_t n = read (fds[0], &m, sizeof m);
      if (n < 0 && errno == EINTR)
        continue;
      if (n != (ssize_t) sizeof m)
        break;
      g_array_append_val (msgs, m);
    }
  close (fds[0]);
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  return g_steal_pointer (&msgs);
}

int
sc_mount_open_source (const char *host_path, GError **error)
{
  sc_autofd fd = -1;
  struct stat st;

  if (host_path == NULL || host_path[0] != '/')
    {
      g_set_error (error, SC_ERROR, SC_ERROR_BAD_PATH, "host path '%s' is not absolute",
                   host_path ? host_path : "");
      return -1;
    }
  if (strchr (host_path, '\n') != NULL)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_BAD_PATH, "host path contains a newline");
      return -1;
    }
  fd = open (host_path, O_PATH | O_CLOEXEC);
  if (fd < 0)
    {
      int e = errno;
      g_set_error (error, SC_ERROR, SC_ERROR_BAD_PATH, "host path %s: %s", host_path,
                   e == ENOENT ? "does not exist" : g_strerror (e));
      return -1;
    }
  if (fstat (fd, &st) < 0)
    {
      sc_set_errno_error (error, errno, "host path %s", host_path);
      return -1;
    }
  if (!S_ISDIR (st.st_mode) && !S_ISREG (st.st_mode) && !S_ISFIFO (st.st_mode)
      && !S_ISSOCK (st.st_mode))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_BAD_PATH,
                   "host path %s is a %s; only directories, regular files, FIFOs and unix "
                   "sockets can be bind-mounted (devices go through the devicenode gateway)",
                   host_path,
                   S_ISCHR (st.st_mode)   ? "character device"
                   : S_ISBLK (st.st_mode) ? "block device"
                                          : "special file");
      return -1;
    }
  return sc_steal_fd (&fd);
}

typedef struct {
  int pidfd;
  Job *jobs;
  int n_jobs;
  Created *created;
} MountArgs;

static void
mount_child_cb (int pipe_fd, gpointer data)
{
  MountArgs *a = data;
  child_mount (pipe_fd, a->pidfd, a->jobs, a->n_jobs, a->created);
}

ScMountRecord *
sc_mount_into_container (int init_pidfd, const ScMountRequest *requests, guint n_requests,
                         gboolean *undo_failed, GError **error)
{
  g_autoptr (ScMountRecord) record = g_new0 (ScMountRecord, 1);
  g_autofree Job *jobs = g_new0 (Job, n_requests + 1);
  g_autofree Created *created = NULL;
  g_autoptr (GArray) msgs = NULL;
  MountArgs args;
  guint n_ready = 0;
  int total_components = 0;
  gboolean ok = FALSE;
  const Msg *failed = NULL;
  int undo_err = 0;

  record->mounted = g_ptr_array_new_with_free_func (g_free);
  record->created = g_ptr_array_new_with_free_func (g_free);

  for (; n_ready < n_requests; n_ready++)
    {
      struct stat st;
      Job *job = &jobs[n_ready];

      if (!job_init (job, requests[n_ready].container_path, error))
        goto out;
      if (fstat (requests[n_ready].source_fd, &st) < 0)
        {
          sc_set_errno_error (error, errno, "source of %s", job->path);
          goto out;
        }
      job->source_fd = requests[n_ready].source_fd;
      job->source_is_dir = S_ISDIR (st.st_mode);
      job->read_only = requests[n_ready].read_only;
      total_components += job->n_components;
    }
  created = g_new0 (Created, total_components + 1);

  args = (MountArgs){ init_pidfd, jobs, (int) n_requests, created };
  msgs = run_child (error, mount_child_cb, &args);
  if (msgs == NULL)
    goto out;

  for (guint i = 0; i < msgs->len; i++)
    {
      const Msg *m = &g_array_index (msgs, Msg, i);
      if (m->index < 0 || (guint) m->index >= n_requests)
        continue;
      switch (m->kind)
        {
        case MSG_CREATED:
          g_ptr_array_add (record->created, job_prefix (&jobs[m->index], m->depth));
          break;
        case MSG_MOUNTED:
          g_ptr_array_add (record->mounted, g_strdup (jobs[m->index].path));
          break;
        case MSG_ERROR:
          if (failed == NULL)
            failed = m;
          break;
        case MSG_UNDO_FAILED:
          undo_err = m->err;
          break;
        default:
          break;
        }
    }
  if (failed != NULL)
    {
      set_step_error (error, &jobs[failed->index], failed);
      if (undo_err != 0)
        {
          if (error != NULL && *error != NULL)
            {
              char *old = (*error)->message;
              (*error)->message = g_strdup_printf ("%s; what the call had made in the container "
                                                   "could not all be removed: %s",
                                                   old, g_strerror (undo_err));
              g_free (old);
            }
          if (undo_failed != NULL)
            *undo_failed = TRUE;
        }
      goto out;
    }
  if (record->mounted->len != n_requests)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_SYSTEM,
                   "the mount helper ended before mounting %s", jobs[record->mounted->len].path);
      goto out;
    }
  ok = TRUE;

out:
  for (guint i = 0; i < n_ready; i++)
    job_clear (&jobs[i]);
  return ok ? g_steal_pointer (&record) : NULL;
}

typedef struct {
  int pidfd;
  Job *mounted;
  int n_mounted;
  Job *created;
  int n_created;
} UndoArgs;

static void
undo_child_cb (int pipe_fd, gpointer data)
{
  UndoArgs *a = data;
  child_undo (pipe_fd, a->pidfd, a->mounted, a->n_mounted, a->created, a->n_created);
}

gboolean
sc_mount_record_undo (ScMountRecord *record, int init_pidfd, GError **error)
{
  guint nm = record->mounted->len, nc = record->created->len;
  g_autofree Job *mounted = g_new0 (Job, nm + 1);
  g_autofree Job *created = g_new0 (Job, nc + 1);
  g_autoptr (GArray) msgs = NULL;
  UndoArgs args;
  gboolean ok = FALSE;

  for (guint i = 0; i < nm; i++)
    job_init (&mounted[i], g_ptr_array_index (record->mounted, i), NULL);
  for (guint i = 0; i < nc; i++)
    job_init (&created[i], g_ptr_array_index (record->created, i), NULL);

  args = (UndoArgs){ init_pidfd, mounted, (int) nm, created, (int) nc };
  msgs = run_child (error, undo_child_cb, &args);
  if (msgs != NULL)
    {
      const Msg *last = msgs->len > 0 ? &g_array_index (msgs, Msg, msgs->len - 1) : NULL;
      if (last == NULL)
        g_set_error (error, SC_ERROR, SC_ERROR_SYSTEM, "the unmount helper died");
      else if (last->kind == MSG_ERROR)
        sc_set_errno_error (error, last->err, "cannot enter the container's mount namespace");
      else if (last->err != 0)
        sc_set_errno_error (error, last->err, "cannot remove a mount from the container");
      else
        ok = TRUE;
    }
  for (guint i = 0; i < nm; i++)
    job_clear (&mounted[i]);
  for (guint i = 0; i < nc; i++)
    job_clear (&created[i]);
  if (ok)
    {
      g_ptr_array_set_size (record->mounted, 0);
      g_ptr_array_set_size (record->created, 0);
    }
  return ok;
}

void
sc_mount_record_free (ScMountRecord *record)
{
  if (record == NULL)
    return;
  if (record->mounted != NULL)
    g_ptr_array_unref (record->mounted);
  if (record->created != NULL)
    g_ptr_array_unref (record->created);
  g_free (record);
}

typedef struct {
  int pidfd;
  int (*fn) (gpointer data);
  gpointer data;
} NsRunArgs;

static void
ns_run_child_cb (int pipe_fd, gpointer data)
{
  NsRunArgs *a = data;
  int err;

  if (setns (a->pidfd, CLONE_NEWNS) < 0)
    {
      send_msg (pipe_fd, MSG_ERROR, 0, STEP_SETNS, errno, 0);
      _exit (1);
    }
  err = a->fn (a->data);
  send_msg (pipe_fd, err == 0 ? MSG_UNDONE : MSG_ERROR, 0, STEP_NONE, err, 0);
  _exit (err == 0 ? 0 : 1);
}

gboolean
sc_mount_ns_run (int init_pidfd, int (*fn) (gpointer data), gpointer data, const char *what,
                 GError **error)
{
  NsRunArgs args = { init_pidfd, fn, data };
  g_autoptr (GArray) msgs = run_child (error, ns_run_child_cb, &args);
  const Msg *last;

  if (msgs == NULL)
    return FALSE;
  last = msgs->len > 0 ? &g_array_index (msgs, Msg, msgs->len - 1) : NULL;
  if (last == NULL)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_SYSTEM, "%s: the helper process died", what);
      return FALSE;
    }
  if (last->kind == MSG_ERROR && last->step == STEP_SETNS)
    {
      sc_set_errno_error (error, last->err, "%s: cannot enter the container's mount namespace",
                          what);
      return FALSE;
    }
  if (last->kind == MSG_ERROR)
    {
      sc_set_errno_error (error, last->err, "%s", what);
      return FALSE;
    }
  return TRUE;
}
