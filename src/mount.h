/* Safe mounting of host files and directories into a running container.
 *
 * Trusts: the host path given by the launcher (opened once; the open descriptor is what gets
 * mounted, so a rename after the check changes nothing). Does not trust: anything inside the
 * container. The container path is resolved inside the container's own mount namespace with
 * openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), so neither ".." nor a symlink the app
 * planted can steer a mount (or a created directory) out of the container; missing parents are
 * created one at a time and reopened without following symlinks. The mount is a detached clone
 * of the source (open_tree), made nosuid,nodev (and read-only when asked) before it is attached
 * with move_mount onto the resolved descriptor, then checked to be the intended inode. All of
 * this runs in a short-lived child that setns()es into the container; the agent never changes
 * its own namespaces. A batch is all or nothing: on failure the child removes the mounts and
 * directories it made. */
#pragma once

#include <glib.h>
#include <sys/types.h>

/* Opens host_path (symlinks on the host are followed: the launcher chose it) as O_PATH and
 * checks its type: a directory, regular file, FIFO or unix socket. A missing path or another
 * type (a device node) is SC_ERROR_BAD_PATH. Returns the fd (close-on-exec) or -1. */
int sc_mount_open_source (const char *host_path, GError **error);

typedef struct {
  /* from sc_mount_open_source, or a detached mount (a write buffer's overlay from fsmount:
   * open_tree clones such a mount on the kernels this agent supports); not consumed */
  int source_fd;
  const char *container_path; /* absolute path inside the container */
  gboolean read_only;
} ScMountRequest;

/* What a batch created, so that it can be removed again (file gateway revert). */
typedef struct ScMountRecord ScMountRecord;

/* Mounts every request into the container whose init the pidfd init_pidfd refers to (a pidfd,
 * so that a dead init whose pid was reused can never redirect the mounts), in order, all or none.
 * Errors: SC_ERROR_BAD_PATH for container paths that are not absolute, contain a newline,
 * are already a mount target, exist with the wrong type, or cannot be created;
 * SC_ERROR_SYSTEM when a mount call fails. Messages name the path. When the batch's own
 * rollback fails too (something it made stays in the container), *undo_failed (if not NULL)
 * is set. */
ScMountRecord *sc_mount_into_container (int init_pidfd, const ScMountRequest *requests,
                                        guint n_requests, gboolean *undo_failed,
                                        GError **error);

/* Unmounts what the record mounted and removes what it created, in reverse order. */
gboolean sc_mount_record_undo (ScMountRecord *record, int init_pidfd, GError **error);
void sc_mount_record_free (ScMountRecord *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScMountRecord, sc_mount_record_free)

/* Runs fn(data) in a short-lived child that has entered the mount namespace of the container
 * whose init init_pidfd refers to: "/" and the cwd are the container's root there, and paths
 * resolve as the container sees them. fn runs after fork in a multi-threaded process: only
 * system calls, no malloc. It returns 0 or an errno value; on failure the call fails with
 * SC_ERROR_SYSTEM "<what>: <strerror>". */
gboolean sc_mount_ns_run (int init_pidfd, int (*fn) (gpointer data), gpointer data,
                          const char *what, GError **error);
