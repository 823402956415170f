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

/* Writing settings into a container's cgroup (the cgroups gateway). Settings are named as on
 * cgroup v1, "<controller>.<key>" (checked by the caller: [a-z0-9_.] only, no "..", no '/'),
 * with values as the v1 file takes them (sizes and shares in decimal). Where each lands:
 * - the controller has a v1 hierarchy: the file <controller dir>/<setting>, value as given;
 * - else the controller is enabled in the container's v2 cgroup: the v2 file, mapped as
 *     memory.limit_in_bytes        -> memory.max
 *     memory.memsw.limit_in_bytes  -> memory.swap.max = memsw - limit (v2 limits swap alone;
 *                                     the limit is the one in the same batch, else memory.max)
 *     cpu.shares (2..262144)       -> cpu.weight = 1 + ((shares - 2) * 9999) / 262142
 *     any other                    -> <v2 dir>/<setting>, value as given;
 * - else (a controller that is not mounted; net_cls and net_prio never exist on v2): an error
 *   naming the setting and the controller.
 * On v1 memsw must never be below the limit, not even between two writes: a batch that sets
 * both writes them in the order that keeps it so. */
#define SC_CGROUP_MAX_SHARES 262144

/* What a batch wrote, with the values the files held before (to restore them). */
typedef struct ScCgroupWrites ScCgroupWrites;

/* Writes settings[i] = values[i] into the container's cgroup, all or none: every file is read
 * before it is written, and on a failure the files written so far get their old values back.
 * Errors (SC_ERROR_SYSTEM) start with the setting's name. */
ScCgroupWrites *sc_cgroups_write_settings (ScCgroups *cgroups, const char *const *settings,
                                           const char *const *values, guint n, GError **error);
/* The same; when the old values cannot all be written back after a failure, *undo_failed is
 * set (the cgroup is then neither as before nor as asked). */
ScCgroupWrites *sc_cgroups_write_settings_full (ScCgroups *cgroups, const char *const *settings,
                                                const char *const *values, guint n,
                                                gboolean *undo_failed, GError **error);
/* Writes the old values back, in reverse order. A file whose old value could not be read (a
 * write-only file) is left as it is. Goes on past failures and reports the first. */
gboolean sc_cgroup_writes_undo (ScCgroupWrites *writes, GError **error);
void sc_cgroup_writes_free (ScCgroupWrites *writes);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScCgroupWrites, sc_cgroup_writes_free)

/* A set of directories given by hand (controllers[i] -> dirs[i]; "" for the v2 directory),
 * for tests. */
ScCgroups *sc_cgroups_new_from_dirs (const char *const *controllers, const char *const *dirs,
                                     guint n);
