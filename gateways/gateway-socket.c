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

static gboolean
read_switch_item (JsonNode *node, const char *key, const char *where, gboolean *value,
                  GError **error)
{
  JsonObject *item = NULL;
  JsonNode *member = NULL;
  g_autoptr (GList) members = NULL;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG, "%s: must be an object, not %s", where,
                   sc_json_type_name (node));
      return FALSE;
    }
  item = json_node_get_object (node);
  members = json_object_get_members (item);
  for (GList *l = members; l != NULL; l = l->next)
    if (strcmp (l->data, key) != 0)
      {
        g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                     "%s: unknown key '%s' (known: %s)", where, (const char *) l->data, key);
        return FALSE;
      }
  member = json_object_get_member (item, key);
  if (member == NULL)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG, "%s: '%s' is missing", where, key);
      return FALSE;
    }
  if (!JSON_NODE_HOLDS_VALUE (member) || json_node_get_value_type (member) != G_TYPE_BOOLEAN)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                   "%s: '%s' must be true or false, not %s", where, key,
                   sc_json_type_name (member));
      return FALSE;
    }
  *value = json_node_get_boolean (member);
  return TRUE;
}

gboolean
sc_gateway_read_switch (GPtrArray *configs, const char *gateway_id, const char *key,
                        gboolean *any_true, GError **error)
{
  gboolean result = FALSE;

  for (guint k = 0; k < configs->len; k++)
    {
      const ScGatewayConfig *config = g_ptr_array_index (configs, k);
      g_autofree char *describe = sc_gateway_config_describe (config);
      JsonArray *items = NULL;
      guint n_items = 0;

      if (config->config == NULL || !JSON_NODE_HOLDS_ARRAY (config->config))
        {
          g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                       "%s: the %s config must be a JSON array, not %s", describe, gateway_id,
                       config->config != NULL ? sc_json_type_name (config->config) : "nothing");
          return FALSE;
        }
      items = json_node_get_array (config->config);
      n_items = json_array_get_length (items);
      if (n_items == 0)
        {
          g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                       "%s: the %s config is an empty array", describe, gateway_id);
          return FALSE;
        }
      for (guint i = 0; i < n_items; i++)
        {
          g_autofree char *where = g_strdup_printf ("%s item %u", describe, i);
          gboolean value = FALSE;

          if (!read_switch_item (json_array_get_element (items, i), key, where, &value, error))
            return FALSE;
          result = result || value;
        }
    }
  *any_true = result;
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
  record = sc_mount_into_container (ctx->init_pidfd, &request, 1, &local_error);
  if (record == NULL)
    {
      if (unlinkat (dir, name, 0) < 0)
        {
          int e = errno;
          g_warning ("container %d: cannot remove %s/%s: %s", ctx->container_id,
                     ctx->gateways_dir, name, g_strerror (e));
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
      g_warning ("container %d: cannot unmount %s/%s: %s", ctx->container_id,
                 SC_ROOTFS_GATEWAYS_DIR, name, local_error->message);
      g_clear_error (&local_error);
    }
  if (!sc_gateway_socket_remove (ctx, name, &local_error))
    g_warning ("container %d: %s", ctx->container_id, local_error->message);
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
