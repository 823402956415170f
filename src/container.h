/* One container: its LXC life cycle, its state machine, the processes it runs, its mounts and
 * its gateways. Knows nothing about D-Bus.
 *
 * Threading: every function here except ref/unref/id makes blocking liblxc calls or forks, and
 * must run on the agent's worker thread (worker.h), one call at a time. */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "manifest.h"

/* What every container of this agent shares. */
typedef struct {
  char *lxcpath;           /* LXC's configured lxcpath */
  char *shared_mounts_dir; /* host-side per-container directories live here */
  char *init_path;         /* sc-init on the host */
  char *seccomp_profile;   /* LXC's default deny-list, or NULL when not installed */
  /* the bridge every container gets a veth pair on (network gateway), or NULL: loopback only */
  char *bridge_device;
  guint shutdown_timeout;  /* seconds between the polite stop and the forced one */
  /* the configs of every default capability (ScGatewayConfig *), applied once per container
   * by its first SetCapabilities or Execute */
  GPtrArray *default_configs;
} ScRuntime;

/* The host end of a container's veth pair is SC_CONTAINER_VETH_PREFIX "<id>" (at most 15
 * bytes for any ID); inside it is eth0. */
#define SC_CONTAINER_VETH_PREFIX "sceth"

/* Create's config. */
typedef struct {
  gboolean write_buffer;
  gboolean tmpfs_write_buffer;
  guint64 tmpfs_size;
} ScContainerOptions;

/* Parses Create's JSON config: an array of objects with the known keys writeBufferEnabled
 * (bool), temporaryFileSystemWriteBufferEnabled (bool), temporaryFileSystemSize (integer bytes,
 * read only when the previous key is true). Later objects override earlier ones. Unknown keys
 * are logged. Errors: SC_ERROR_INVALID_ARGUMENT naming the key. */
gboolean sc_container_options_parse (const char *json, ScContainerOptions *options, GError **error);

typedef enum {
  SC_CONTAINER_RUNNING,
  SC_CONTAINER_SUSPENDED,
  SC_CONTAINER_INVALID,   /* something could not be rolled back: only Destroy is possible */
  SC_CONTAINER_DESTROYED,
} ScContainerState;

typedef struct ScContainer ScContainer;

/* Defines, starts and readies SC-<id>, with write buffers when options->write_buffer
 * (writebuffer.h, filesystem.md). Nothing is left behind on failure. */
ScContainer *sc_container_create (const ScRuntime *runtime, int id,
                                  const ScContainerOptions *options, GError **error);

ScContainer *sc_container_ref (ScContainer *container);
void sc_container_unref (ScContainer *container);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScContainer, sc_container_unref)

int sc_container_id (ScContainer *container);
ScContainerState sc_container_state (ScContainer *container);
pid_t sc_container_init_pid (ScContainer *container);
/* A pidfd of the container's init; readable when init exits. Owned by the container. */
int sc_container_pidfd (ScContainer *container);

/* Runs argv in the container with the gateways' environment overlaid with env (may be NULL),
 * cwd (must be a directory inside the container) and stdout+stderr appended to output_file
 * (NULL or "" discards). Returns the host PID of the process, a child of the agent. */
pid_t sc_container_execute (ScContainer *container, char **argv, const char *cwd,
                            const char *output_file, GHashTable *env, GError **error);

gboolean sc_container_suspend (ScContainer *container, GError **error);
gboolean sc_container_resume (ScContainer *container, GError **error);

gboolean sc_container_bind_mount (ScContainer *container, const char *path_in_host,
                                  const char *path_in_container, gboolean read_only,
                                  GError **error);

/* Capabilities: whether the defaults were applied, whether a name was. */
gboolean sc_container_defaults_applied (ScContainer *container);
gboolean sc_container_has_capability (ScContainer *container, const char *name);

/* Applies gateway configs all-or-nothing; on success records names (capabilities applied) and,
 * when with_defaults, that the defaults are applied (configs must then start with them). */
gboolean sc_container_apply_capabilities (ScContainer *container, GPtrArray *configs,
                                          const char *const *names, gboolean with_defaults,
                                          GError **error);

/* Fails with BadState when the container cannot take Execute, BindMount, SetCapabilities. */
gboolean sc_container_check_usable (ScContainer *container, GError **error);

/* The container's init died on its own (or the container is otherwise broken). */
void sc_container_mark_invalid (ScContainer *container, const char *reason);

/* Tears down gateways, stops (politely, then by force after the shutdown timeout), syncs the
 * write buffers into their host directories, destroys and removes every trace on the host. On
 * failure the container is invalid and a later call retries (a failed sync keeps the buffers:
 * SC_ERROR_SYSTEM naming the host path). */
gboolean sc_container_destroy (ScContainer *container, GError **error);

/* Startup: destroys every SC-<digits> container in lxcpath and what such containers left on
 * the host (shared-mounts directories, cgroups, lock files), after syncing their write buffers;
 * buffers that cannot be synced are kept aside and retried at every start. Other containers
 * are untouched. Returns the number removed; failures are logged. */
guint sc_container_cleanup_stale (const ScRuntime *runtime);

/* For measurements of the agent against liblxc itself (bench/): makes the LXC container `name`
 * exactly as Create does (root file system, host-side directories, LXC config, saved) without
 * starting it or registering it with the agent; a name SC-<n> gets the veth pair of ID n when
 * runtime->bridge_device is set, other names none. sc_container_remove_traces stops such a
 * container and removes everything of it, as Destroy does. */
gboolean sc_container_define_only (const ScRuntime *runtime, const char *name, GError **error);
gboolean sc_container_remove_traces (const ScRuntime *runtime, const char *name, GError **error);

/* Closes pidfds that liblxc leaked into the agent (attach leaks one of the container's init
 * per call): pidfds of init_pid, keeping the containers' own. Every other pidfd (GLib's child
 * watches of Execute'd processes) stays open. */
void sc_container_close_leaked_pidfds (pid_t init_pid);
