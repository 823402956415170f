/* The pulseaudio gateway: the sound server's socket, reachable in the container.
 *
 * Items: {"audio": B}; some item true means audio. Configured once per container (a sandbox's
 * audio is not widened after the app started), so within that one configuration "true" wins.
 * With audio, the socket named by the agent's PULSE_SERVER ("unix:/path" or a plain absolute
 * path) is bind-mounted at /gateways/pulse-native and Execute'd processes get
 * PULSE_SERVER=unix:/gateways/pulse-native. PULSE_SERVER is read when the gateway is applied:
 * unset, a TCP address, a relative path, a list of several servers, or a socket that is not
 * there is GatewayFailed saying which. Without audio (false, or a config that is refused) the
 * gateway does not look at PULSE_SERVER or the sound server at all.
 *
 * Trusts the agent's environment (the integrator's); checks the configs strictly. Only a unix
 * socket can be handed over: the container has no route to a TCP server unless the network
 * gateway gives it one, and then the app can use PULSE_SERVER itself. */
#include "gateway.h"

#include <string.h>

#include "error.h"
#include "gateway-socket.h"
#include "rootfs.h"

#define PULSE_NAME "pulse-native"
#define PULSE_UNIX_PREFIX "unix:"

typedef struct {
  gboolean audio; /* the socket is mounted (committed) */
} PulseState;

typedef struct {
  gboolean audio;        /* some item said true */
  ScMountRecord *record; /* set by apply, until commit or revert */
} PulseChange;

static gpointer
pulse_state_new (void)
{
  return g_new0 (PulseState, 1);
}

static void
pulse_change_free (gpointer data)
{
  PulseChange *change = data;

  if (change == NULL)
    return;
  g_clear_pointer (&change->record, sc_mount_record_free);
  g_free (change);
}

/* The socket path of the agent's PULSE_SERVER, or NULL with a GatewayFailed error saying what
 * is wrong with it. */
static char *
pulse_server_socket (GError **error)
{
  const char *server = g_getenv ("PULSE_SERVER");
  const char *path = NULL;

  if (server == NULL || server[0] == '\0')
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_FAILED,
                   "PULSE_SERVER is not set in the agent's environment; set it to the sound "
                   "server's socket (\"unix:/path\" or \"/path\")");
      return NULL;
    }
  if (strpbrk (server, " \t\n") != NULL)
    {
      g_autofree char *escaped = g_strescape (server, NULL);
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_FAILED,
                   "PULSE_SERVER of the agent ('%s') names several servers; a container can be "
                   "given one unix socket (\"unix:/path\" or \"/path\")",
                   escaped);
      return NULL;
    }
  if (g_str_has_prefix (server, PULSE_UNIX_PREFIX))
    path = server + strlen (PULSE_UNIX_PREFIX);
  else if (server[0] == '/')
    path = server;
  else
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_FAILED,
                   "PULSE_SERVER of the agent ('%s') is not a unix socket; only \"unix:/path\" or "
                   "an absolute path can be made available in a container",
                   server);
      return NULL;
    }
  if (path[0] != '/')
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_FAILED,
                   "PULSE_SERVER of the agent ('%s') does not name an absolute socket path",
                   server);
      return NULL;
    }
  return g_strdup (path);
}

/* gateway.c configures pulseaudio once per container, so the state has no audio here. */
static gpointer
pulse_prepare (gpointer data, GPtrArray *configs, GError **error)
{
  PulseChange *change = NULL;
  gboolean audio = FALSE;

  if (!sc_gateway_read_switch (configs, "pulseaudio", "audio", &audio, error))
    return NULL;
  change = g_new0 (PulseChange, 1);
  change->audio = audio;
  return change;
}

static gboolean
pulse_apply (gpointer data, gpointer change_data, const ScGatewayContext *ctx, GError **error)
{
  PulseChange *change = change_data;
  g_autofree char *host_socket = NULL;

  if (!change->audio)
    return TRUE;
  host_socket = pulse_server_socket (error);
  if (host_socket == NULL)
    return FALSE;
  change->record = sc_gateway_socket_mount (ctx, host_socket, PULSE_NAME,
                                            "the PulseAudio socket", error);
  return change->record != NULL;
}

static void
pulse_revert (gpointer data, gpointer change_data, const ScGatewayContext *ctx)
{
  PulseChange *change = change_data;

  if (change->record != NULL)
    sc_gateway_socket_unmount (ctx, PULSE_NAME, g_steal_pointer (&change->record));
}

static void
pulse_commit (gpointer data, gpointer change_data)
{
  PulseState *state = data;
  PulseChange *change = change_data;

  state->audio = state->audio || change->audio;
  g_debug ("pulseaudio gateway: %s", state->audio ? "audio, socket at " SC_ROOTFS_GATEWAYS_DIR
                                                    "/" PULSE_NAME
                                                  : "no audio");
  /* the record is only needed to revert; teardown removes the mount point by name */
  g_clear_pointer (&change->record, sc_mount_record_free);
}

static gboolean
pulse_teardown (gpointer data, const ScGatewayContext *ctx, GError **error)
{
  PulseState *state = data;

  return !state->audio || sc_gateway_socket_remove (ctx, PULSE_NAME, error);
}

static void
pulse_environment (gpointer data, GHashTable *env)
{
  PulseState *state = data;

  if (state->audio)
    g_hash_table_replace (env, g_strdup ("PULSE_SERVER"),
                          g_strdup (PULSE_UNIX_PREFIX SC_ROOTFS_GATEWAYS_DIR "/" PULSE_NAME));
}

const ScGatewayOps sc_pulseaudio_gateway = {
  .id = "pulseaudio",
  .dynamic = FALSE,
  .state_new = pulse_state_new,
  .state_free = g_free,
  .prepare = pulse_prepare,
  .apply = pulse_apply,
  .revert = pulse_revert,
  .commit = pulse_commit,
  .change_free = pulse_change_free,
  .teardown = pulse_teardown,
  .environment = pulse_environment,
};
