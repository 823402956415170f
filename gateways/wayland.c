/* The wayland gateway: the host compositor's socket, reachable in the container.
 *
 * Items: {"enabled": B}. Once enabled it stays enabled: the gateway is dynamic (later
 * capabilities may enable it), and a later false changes nothing. When enabled, the socket that
 * a Wayland client running as the agent would use, $XDG_RUNTIME_DIR/$WAYLAND_DISPLAY
 * ("wayland-0" when WAYLAND_DISPLAY is unset or empty; an absolute WAYLAND_DISPLAY is taken as
 * it is, as libwayland does), is bind-mounted at /gateways/wayland-0, and Execute'd processes
 * get XDG_RUNTIME_DIR=/gateways and WAYLAND_DISPLAY=wayland-0. The name inside is fixed (the
 * host's display name says nothing the app needs, and a fixed name cannot collide with what
 * other gateways put in /gateways).
 *
 * Trusts the agent's environment (the integrator's); checks the configs strictly (a typo such
 * as "enable" must not silently leave the app without a display). The socket is looked at when
 * the gateway is enabled, not when the agent starts, so a compositor that starts after the
 * agent is fine; a missing socket then is GatewayFailed naming it. GPU devices are the
 * devicenode gateway's business. */
#include "gateway.h"

#include "error.h"
#include "gateway-socket.h"
#include "rootfs.h"

#define WAYLAND_NAME "wayland-0"

typedef struct {
  gboolean enabled; /* the socket is mounted (committed) */
} WaylandState;

typedef struct {
  gboolean enable;       /* this call enables it: there is something to apply */
  ScMountRecord *record; /* set by apply, until commit or revert */
} WaylandChange;

static gpointer
wayland_state_new (void)
{
  return g_new0 (WaylandState, 1);
}

static void
wayland_change_free (gpointer data)
{
  WaylandChange *change = data;

  if (change == NULL)
    return;
  g_clear_pointer (&change->record, sc_mount_record_free);
  g_free (change);
}

/* The host socket as a Wayland client running as the agent would find it, or NULL with a
 * GatewayFailed error saying what is missing. */
static char *
wayland_host_socket (GError **error)
{
  const char *display = g_getenv ("WAYLAND_DISPLAY");
  const char *runtime_dir = g_getenv ("XDG_RUNTIME_DIR");

  if (display == NULL || display[0] == '\0')
    display = WAYLAND_NAME;
  if (display[0] == '/')
    return g_strdup (display);
  if (runtime_dir == NULL || runtime_dir[0] == '\0')
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_FAILED,
                   "XDG_RUNTIME_DIR is not set in the agent's environment, so the Wayland socket "
                   "($XDG_RUNTIME_DIR/%s) cannot be found; set it (and WAYLAND_DISPLAY) for the "
                   "agent, or give WAYLAND_DISPLAY as an absolute path",
                   display);
      return NULL;
    }
  if (runtime_dir[0] != '/')
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_FAILED,
                   "XDG_RUNTIME_DIR of the agent ('%s') is not an absolute path", runtime_dir);
      return NULL;
    }
  return g_build_filename (runtime_dir, display, NULL);
}

static gpointer
wayland_prepare (gpointer data, GPtrArray *configs, GError **error)
{
  WaylandState *state = data;
  WaylandChange *change = NULL;
  gboolean enable = FALSE;

  if (!sc_gateway_read_switch (configs, "wayland", "enabled", &enable, error))
    return NULL;
  change = g_new0 (WaylandChange, 1);
  change->enable = enable && !state->enabled;
  return change;
}

static gboolean
wayland_apply (gpointer data, gpointer change_data, const ScGatewayContext *ctx, GError **error)
{
  WaylandChange *change = change_data;
  g_autofree char *host_socket = NULL;

  if (!change->enable)
    return TRUE;
  host_socket = wayland_host_socket (error);
  if (host_socket == NULL)
    return FALSE;
  change->record = sc_gateway_socket_mount (ctx, host_socket, WAYLAND_NAME,
                                            "the Wayland socket", error);
  return change->record != NULL;
}

static void
wayland_revert (gpointer data, gpointer change_data, const ScGatewayContext *ctx)
{
  WaylandChange *change = change_data;

  if (change->record != NULL)
    sc_gateway_socket_unmount (ctx, WAYLAND_NAME, g_steal_pointer (&change->record));
}

static void
wayland_commit (gpointer data, gpointer change_data)
{
  WaylandState *state = data;
  WaylandChange *change = change_data;

  if (change->enable)
    {
      state->enabled = TRUE;
      g_debug ("wayland gateway: enabled, socket at %s/%s", SC_ROOTFS_GATEWAYS_DIR, WAYLAND_NAME);
    }
  else
    g_debug ("wayland gateway: %s", state->enabled ? "enabled already" : "not enabled");
  /* the record is only needed to revert; teardown removes the mount point by name */
  g_clear_pointer (&change->record, sc_mount_record_free);
}

static gboolean
wayland_teardown (gpointer data, const ScGatewayContext *ctx, GError **error)
{
  WaylandState *state = data;

  return !state->enabled || sc_gateway_socket_remove (ctx, WAYLAND_NAME, error);
}

static void
wayland_environment (gpointer data, GHashTable *env)
{
  WaylandState *state = data;

  if (!state->enabled)
    return;
  g_hash_table_replace (env, g_strdup ("XDG_RUNTIME_DIR"), g_strdup (SC_ROOTFS_GATEWAYS_DIR));
  g_hash_table_replace (env, g_strdup ("WAYLAND_DISPLAY"), g_strdup (WAYLAND_NAME));
}

const ScGatewayOps sc_wayland_gateway = {
  .id = "wayland",
  .dynamic = TRUE,
  .state_new = wayland_state_new,
  .state_free = g_free,
  .prepare = wayland_prepare,
  .apply = wayland_apply,
  .revert = wayland_revert,
  .commit = wayland_commit,
  .change_free = wayland_change_free,
  .teardown = wayland_teardown,
  .environment = wayland_environment,
};
