/* Host unix sockets handed to a container at /gateways/<name> (see gateway-socket.h).
 *
 * Trusts the socket path it is given (the gateway read it from the agent's own environment,
 * which the integrator controls) and the host directory behind /gateways (the agent made it;
 * the container sees it read-only). Trusts nothing inside the container: the mount itself is
 * mount.c's, which resolves /gateways/<name> inside the container's root and checks that the
 * mount ended up on the intended inode. The socket is opened once and that descriptor is what
 * gets mounted, so a rename of the host path after the check changes nothing. */
#include "gateway-socket.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "gateway-config.h"
#include "json.h"
#include "rootfs.h"
#include "util.h"

/* The host path as an O_PATH descriptor of a unix socket, or -1 with GatewayFailed. This is
 * the check of sc_mount_open_source narrowed to sockets, with messages that say which socket. */
static int
open_socket (const char *host_path, const char *what, GError **error)
{
  sc_autofd fd = -1;
  struct stat st;

  if (host_path[0] != '/')
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_FAILED, "%s '%s' is not an absolute path",
                   what, host_path);
      return -1;
    }
  fd = open (host_path, O_PATH | O_CLOEXEC);
  if (fd < 0 || fstat (fd, &st) < 0)
    {
      int e = errno;
      if (e == ENOENT)
        g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_FAILED, "%s %s does not exist", what,
                     host_path);
      else
        g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_FAILED, "%s %s: %s", what, host_path,
                     g_strerror (e));
      return -1;
    }
  if (!S_ISSOCK (st.st_mode))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_FAILED, "%s %s is not a socket", what,
                   host_path);
      return -1;
    }
  return sc_steal_fd (&fd);
}

typedef struct {
  const char *key;
  gboolean any_true;
} Switch;

static gboolean
read_switch_item (JsonObject *item, const char *where, gpointer data, GError **error)
{
  Switch *sw = data;
  gboolean value = FALSE;

  if (!sc_gateway_item_bool (item, sw->key, TRUE, FALSE, where, &value, error))
    return FALSE;
  sw->any_true = sw->any_true || value;
  return TRUE;
}

gboolean
sc_gateway_read_switch (GPtrArray *configs, const char *gateway_id, const char *key,
                        gboolean *any_true, GError **error)
{
  const char *const keys[] = { key, NULL };
  Switch sw = { key, FALSE };

  if (!sc_gateway_config_foreach_item (configs, gateway_id, keys, read_switch_item, &sw, error))
    return FALSE;
  *any_true = sw.any_true;
  return TRUE;
}

ScMountRecord *
sc_gateway_socket_mount (const ScGatewayContext *ctx, const char *host_path, const char *name,
                         const char *what, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autofree char *container_path = g_build_filename (SC_ROOTFS_GATEWAYS_DIR, name, NULL);
  sc_autofd source = -1;
  sc_autofd dir = -1;
  sc_autofd file = -1;
  ScMountRecord *record = NULL;
  ScMountRequest request;

  source = open_socket (host_path, what, error);
  if (source < 0)
    return NULL;

  dir = open (ctx->gateways_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0)
    file = openat (dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC,
                   0644);
  if (dir < 0 || file < 0)
    {
      int e = errno;
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_FAILED,
                   "cannot create the mount point %s/%s for %s: %s", ctx->gateways_dir, name,
                   what, g_strerror (e));
      return NULL;
    }

  request = (ScMountRequest){ .source_fd = source, .container_path = container_path,
                              .read_only = TRUE };
  record = sc_mount_into_container (ctx->init_pidfd, &request, 1, ctx->undo_failed, &local_error);
  if (record == NULL)
    {
      if (unlinkat (dir, name, 0) < 0)
        {
          g_autoptr (GError) undo = NULL;
          sc_set_errno_error (&undo, errno, "cannot remove the mount point %s/%s",
                              ctx->gateways_dir, name);
          sc_gateway_report_undo_failure (ctx, what, undo);
        }
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_FAILED,
                   "cannot make %s %s available at %s in the container: %s", what, host_path,
                   container_path, local_error->message);
      return NULL;
    }
  g_debug ("container %d: %s %s mounted at %s", ctx->container_id, what, host_path,
           container_path);
  return record;
}

void
sc_gateway_socket_unmount (const ScGatewayContext *ctx, const char *name, ScMountRecord *record)
{
  g_autoptr (ScMountRecord) owned = record;
  g_autoptr (GError) local_error = NULL;

  if (owned != NULL && !sc_mount_record_undo (owned, ctx->init_pidfd, &local_error))
    {
      g_prefix_error (&local_error, "cannot unmount %s/%s: ", SC_ROOTFS_GATEWAYS_DIR, name);
      sc_gateway_report_undo_failure (ctx, name, local_error);
      g_clear_error (&local_error);
    }
  if (!sc_gateway_socket_remove (ctx, name, &local_error))
    sc_gateway_report_undo_failure (ctx, name, local_error);
}

gboolean
sc_gateway_socket_remove (const ScGatewayContext *ctx, const char *name, GError **error)
{
  sc_autofd dir = open (ctx->gateways_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);

  if (dir < 0 && errno == ENOENT)
    return TRUE;
  if (dir < 0 || unlinkat (dir, name, 0) < 0)
    {
      int e = errno;
      if (e == ENOENT)
        return TRUE;
      sc_set_errno_error (error, e, "cannot remove %s/%s", ctx->gateways_dir, name);
      return FALSE;
    }
  g_debug ("container %d: removed %s/%s", ctx->container_id, ctx->gateways_dir, name);
  return TRUE;
}
