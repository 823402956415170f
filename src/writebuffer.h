/* Write buffers on the host: the tmpfs that holds a container's upper layers, the overlays made
 * on it, the record of which upper belongs to which host directory, and the sync at the end.
 *
 * A container with write buffers has its host directory <shared-mounts-dir>/SC-<id> as a tmpfs
 * (mode 0700, nosuid, nodev, of the given size). In it:
 *   rootfs-upper/, rootfs-work/   the root file system's layers
 *   rootfs/                       the root file system's overlay, mounted here on the host
 *                                 (LXC's lxc.rootfs.path)
 *   buffer-<n>-upper/, -work/     the layers of the n-th buffered host directory; its overlay
 *                                 is a detached mount that goes into the container
 *   write-buffers                 one line per buffered directory, written before its overlay
 *                                 exists: "buffer-<n>\t<dev>:<ino>\t<host path>"
 *   gateways/                     the gateways' files (not buffered)
 * The tmpfs, the root overlay and the record outlive the agent's process, so that an agent
 * started after a crash can sync them. The root file system's upper layer is never synced: the
 * container's root is the agent's own throwaway tree, deleted at Destroy.
 *
 * Every function works from the host directory's path alone (no state in memory), so Destroy
 * and the startup cleanup of a crashed agent's containers do the same thing. */
#pragma once

#include <glib.h>

/* Mounts a tmpfs of size bytes on host_dir (an existing, empty directory). */
gboolean sc_write_buffer_setup (const char *host_dir, guint64 size, GError **error);

/* Mounts the root file system's overlay (lower: the directory `lower`) at host_dir/rootfs and
 * returns that path (g_free). */
char *sc_write_buffer_mount_rootfs (const char *host_dir, const char *lower, GError **error);

/* For the host directory lower_fd (O_PATH, from sc_mount_open_source): makes an upper and a
 * work directory (the upper with the lower's owner, mode and times), records the buffer, and
 * returns a detached overlay mount (nosuid, nodev) to mount into the container, or -1. */
int sc_write_buffer_overlay (const char *host_dir, int lower_fd, GError **error);

/* Whether host_dir is a mount of its own (a write-buffer tmpfs). */
gboolean sc_write_buffer_is_mounted (const char *host_dir);

/* The end of a container's buffers, after the container has stopped: remounts the tmpfs
 * read-only (nothing can write into the upper layers any more), unmounts the root overlay, and
 * syncs each recorded buffer into its host directory, in the order they were made. Idempotent:
 * a failed call can be repeated. Errors are SC_ERROR_SYSTEM naming the host path. */
gboolean sc_write_buffer_sync (const char *host_dir, GError **error);

/* Unmounts the root overlay and the tmpfs (if mounted). Refuses while the tmpfs is writable and
 * records buffers: those are synced first (sc_write_buffer_sync). Only a Create that failed
 * before its container ran anything may drop a writable tmpfs: force. */
gboolean sc_write_buffer_release (const char *host_dir, gboolean force, GError **error);

/* Keeps a buffer that could not be synced: moves the tmpfs from host_dir to
 * <parent_dir>/unsynced-<name>-<time> (returned, g_free), so that host_dir and the container's
 * name are free again. The next start of the agent retries the sync. */
char *sc_write_buffer_set_aside (const char *host_dir, const char *parent_dir, const char *name,
                                 GError **error);

/* Prefix of the directories sc_write_buffer_set_aside makes. */
#define SC_WRITE_BUFFER_UNSYNCED_PREFIX "unsynced-"

/* Startup: retries the sync of every buffer that an earlier agent set aside in parent_dir; a
 * synced one is removed. Returns how many stay (each logged with its path). */
guint sc_write_buffer_retry_unsynced (const char *parent_dir);
