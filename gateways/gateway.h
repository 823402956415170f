/* The gateway interface. A gateway turns the configs of the capabilities given to a container
 * into something the container may use (environment variables, mounts, devices, ...).
 *
 * Each gateway is one file with one ScGatewayOps table; gateway.c holds the list of tables
 * and the transaction that applies a SetCapabilities call all-or-nothing:
 *   1. every gateway that gets configs parses and checks all of them (prepare: no side effects)
 *      and produces a change against its current state;
 *   2. then each gateway applies its change (apply: undoes its own partial work on failure);
 *   3. if one fails, the changes already applied are reverted in reverse order;
 *   4. only when all applied, each change is committed into the gateway's state.
 * Gateways never include each other and know nothing about D-Bus. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <sys/types.h>

#include "cgroup.h"
#include "manifest.h"

struct lxc_container;

/* What a gateway may know of its container. */
typedef struct {
  int container_id;
  const char *container_name; /* "SC-<id>" */
  pid_t init_pid;             /* the container's init, as seen on the host */
  int init_pidfd;             /* a pidfd of that init (for setns and sc_mount_*) */
  const char *host_dir;       /* <shared-mounts-dir>/SC-<id> on the host */
  const char *gateways_dir;   /* host directory that the container sees as /gateways */
  ScCgroups *cgroups;         /* the container's cgroup directories (cgroup.h) */
  struct lxc_container *lxc;  /* for liblxc calls such as set_cgroup_item; worker thread only */
  /* Opens a host path as the source of a mount into the container, with sc_mount_open_source's
   * checks; in a container with write buffers a writable directory becomes a detached overlay
   * whose upper layer is the container's (filesystem.md). NULL: sc_mount_open_source. */
  int (*open_source) (gpointer data, const char *host_path, gboolean read_only, GError **error);
  gpointer open_source_data;
  /* Set (through sc_gateway_report_undo_failure) when a gateway could not undo its own work,
   * in a failed apply or in revert: the container is then invalid (agent.md). */
  gboolean *undo_failed;
} ScGatewayContext;

typedef struct {
  const char *id;
  /* FALSE: configured once per container; a second configuration is BadState.
   * TRUE: later configs add to what is there. */
  gboolean dynamic;

  gpointer (*state_new) (void);
  void (*state_free) (gpointer state);

  /* Parses and checks every config (ScGatewayConfig *, defaults first, then the capabilities
   * in call order; config->config should be a non-empty JSON array) and merges them with the
   * current state. No side effects. Returns the change to apply, or NULL with a
   * SC_ERROR_GATEWAY_CONFIG error. */
  gpointer (*prepare) (gpointer state, GPtrArray *configs, GError **error);
  /* Makes the change real for the container; on failure undoes its own partial work.
   * NULL: nothing to do on the host. */
  gboolean (*apply) (gpointer state, gpointer change, const ScGatewayContext *ctx, GError **error);
  /* Undoes an applied change because a later gateway failed. NULL: nothing to undo. */
  void (*revert) (gpointer state, gpointer change, const ScGatewayContext *ctx);
  /* Makes the applied change part of the state. */
  void (*commit) (gpointer state, gpointer change);
  void (*change_free) (gpointer change);
  /* Destroy: removes everything the gateway put on the host. NULL: nothing to remove. */
  gboolean (*teardown) (gpointer state, const ScGatewayContext *ctx, GError **error);
  /* Adds the variables Execute'd processes get (name -> value, both owned by the table).
   * NULL: none. */
  void (*environment) (gpointer state, GHashTable *env);
} ScGatewayOps;

/* A gateway could not undo what it did (a failed apply's own cleanup, or revert): logs it with
 * the container ID and marks the context's undo_failed. */
void sc_gateway_report_undo_failure (const ScGatewayContext *ctx, const char *gateway_id,
                                     const GError *error);

/* "capability 'X' (file /a/b.json)": where a config came from, for messages. */
char *sc_gateway_config_describe (const ScGatewayConfig *config);

/* The gateways of this build, in application order. */
const ScGatewayOps *const *sc_gateways (guint *n_gateways);

/* The gateway with this id in this build, or NULL. Sets GatewayConfig naming the id (and
 * saying whether it is a known gateway left out of this build) when there is none. */
const ScGatewayOps *sc_gateway_find (const char *id, GError **error);

/* The gateways of one container. */
typedef struct ScGatewaySet ScGatewaySet;

ScGatewaySet *sc_gateway_set_new (void);
void sc_gateway_set_free (ScGatewaySet *set);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScGatewaySet, sc_gateway_set_free)

/* Applies configs (ScGatewayConfig *, in order) all-or-nothing as described above. A config for
 * a gateway that is not in the build, or for a once-only gateway that is configured already,
 * fails the whole call (GatewayConfig / BadState) before anything is applied. */
gboolean sc_gateway_set_apply (ScGatewaySet *set, GPtrArray *configs, const ScGatewayContext *ctx,
                               GError **error);

/* Removes everything the gateways put on the host, in reverse order. Goes on past failures and
 * reports the first. */
gboolean sc_gateway_set_teardown (ScGatewaySet *set, const ScGatewayContext *ctx, GError **error);

/* Fills env (name -> value, g_free'd) with the variables of every configured gateway. */
void sc_gateway_set_environment (ScGatewaySet *set, GHashTable *env);

/* Gateway ops tables, defined in the gateways' files (gateways/<id>.c). */
extern const ScGatewayOps sc_cgroups_gateway;
extern const ScGatewayOps sc_devicenode_gateway;
extern const ScGatewayOps sc_network_gateway;
extern const ScGatewayOps sc_file_gateway;
extern const ScGatewayOps sc_dbus_gateway;
extern const ScGatewayOps sc_wayland_gateway;
extern const ScGatewayOps sc_pulseaudio_gateway;
extern const ScGatewayOps sc_env_gateway;
