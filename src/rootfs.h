/* The minimal root filesystem of a container, made by the agent itself (no shell template):
 * FHS directories, a few files in /etc, and the host's program directories. On a merged-/usr
 * host /usr is bind-mounted read-only and bin, sbin, lib* are the same symlinks as on the host;
 * on other hosts each program directory is bind-mounted read-only. */
#pragma once

#include <glib.h>

/* Path of the init inside the container (sc-init, bind-mounted read-only). */
#define SC_ROOTFS_INIT_PATH "/.sc-init"
/* Where gateways put sockets and files inside the container. */
#define SC_ROOTFS_GATEWAYS_DIR "/gateways"

/* Makes rootfs (its parent must exist, rootfs itself must not) and appends to mount_entries
 * the lxc.mount.entry values (g_strdup'ed) that bring the host's program directories in. */
gboolean sc_rootfs_create (const char *rootfs, GPtrArray *mount_entries, GError **error);
