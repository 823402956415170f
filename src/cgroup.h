/* Where a process's cgroups are on this host (cgroup v1, hybrid or v2), freezing a container
 * through its freezer, moving the agent back to its own cgroups after liblxc moved it, and
 * removing what a container left in the cgroup file systems. The v1/v2 differences live here
 * and nowhere else. */
#pragma once

#include <glib.h>
#include <sys/types.h>

typedef struct ScCgroups ScCgroups;

/* Reads the cgroup mounts of this host (once; later calls are cheap). */
gboolean sc_cgroup_init (GError **error);

/* The cgroup directories of pid: controller ("memory", "freezer", "name=systemd", or "" for
 * the unified v2 hierarchy) -> absolute directory. */
ScCgroups *sc_cgroups_of_pid (pid_t pid, GError **error);
void sc_cgroups_free (ScCgroups *cgroups);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScCgroups, sc_cgroups_free)

/* The directory of one controller (v1) or NULL; "" gives the v2 directory. */
const char *sc_cgroups_dir (ScCgroups *cgroups, const char *controller);

/* Freezes (or thaws) every process of the cgroup and waits until the kernel says it is done,
 * at most timeout_ms. Uses the v1 freezer when mounted, else v2's cgroup.freeze. */
gboolean sc_cgroups_freeze (ScCgroups *cgroups, gboolean freeze, guint timeout_ms, GError **error);

/* Remembers the agent's own cgroups, and writes the agent back into them. liblxc's daemonized
 * start moves the caller into the new container's monitor cgroup (lxc-notes.md). */
gboolean sc_cgroup_remember_self (GError **error);
gboolean sc_cgroup_return_self (GError **error);

/* Removes the directories lxc/<name> and lxc.monitor/<name> (and anything below them) under
 * every hierarchy, below the agent's own cgroup and below the root. Missing ones are fine;
 * a directory that still holds processes is not removed and is reported. */
gboolean sc_cgroup_remove_container (const char *name, GError **error);
