/* The file gateway: host files and directories bind-mounted into a container.
 *
 * Items: {"path-host": S, "path-container": S, "read-only": B}. Trusts the host paths (the
 * integrator wrote them in a manifest; symlinks on the host are followed) but checks in prepare
 * that each exists and is something that can be mounted. Trusts nothing about the container:
 * the mounting itself, with its resolution of container paths inside the container's root, is
 * mount.c's job, done as one all-or-nothing batch. Keys are checked strictly (a typo such as
 * "readonly" must not silently give a writable mount).
 *
 * Merging: the same host file may go to several container paths; a container path given twice
 * must name the same host file (compared by device and inode, so "/a//b" and "/a/b" agree), and
 * then read-write beats read-only. Mounts are made parents first, so a mount below another one
 * is not hidden by it.
 *
 * Write buffers: in a container created with writeBufferEnabled, a writable directory comes in
 * as an overlay whose upper layer belongs to the container (ctx->open_source makes it; the
 * container syncs it into the host directory at Destroy); a file or a read-only item is a plain
 * bind as always.
 *
 * Nothing of this is on the host: the mounts live in the container's mount namespace and go with
 * it, so there is no teardown (a write buffer's upper layer is the container's to sync). */
#include "gateway.h"

#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "json.h"
#include "mount.h"
#include "util.h"

static const char *const file_item_keys[] = { "path-host", "path-container", "read-only" };

typedef struct {
  char *host_path;      /* absolute, as written */
  char *container_path; /* normalised */
  gboolean read_only;
  dev_t host_dev; /* identity of the host file when prepare looked */
  ino_t host_ino;
  char *origin; /* "capability 'X' (file) item N" of the first item naming container_path */
} FileMount;

typedef struct {
  GPtrArray *mounts; /* FileMount *, mounted (committed) */
} FileState;

typedef struct {
  GPtrArray *mounts;     /* FileMount *, parents before children */
  ScMountRecord *record; /* set by apply */
} FileChange;

static void
file_mount_free (gpointer data)
{
  FileMount *mount = data;

  g_free (mount->host_path);
  g_free (mount->container_path);
  g_free (mount->origin);
  g_free (mount);
}

static gpointer
file_state_new (void)
{
  FileState *state = g_new0 (FileState, 1);

  state->mounts = g_ptr_array_new_with_free_func (file_mount_free);
  return state;
}

static void
file_state_free (gpointer data)
{
  FileState *state = data;

  if (state == NULL)
    return;
  g_ptr_array_unref (state->mounts);
  g_free (state);
}

static void
file_change_free (gpointer data)
{
  FileChange *change = data;

  if (change == NULL)
    return;
  g_ptr_array_unref (change->mounts);
  g_clear_pointer (&change->record, sc_mount_record_free);
  g_free (change);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FileChange, file_change_free)

static gboolean
file_check_keys (JsonObject *item, const char *where, GError **error)
{
  g_autoptr (GList) members = json_object_get_members (item);

  for (GList *l = members; l != NULL; l = l->next)
    {
      gboolean known = FALSE;

      for (guint k = 0; k < G_N_ELEMENTS (file_item_keys) && !known; k++)
        known = strcmp (l->data, file_item_keys[k]) == 0;
      if (!known)
        {
          g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                       "%s: unknown key '%s' (known: path-host, path-container, read-only)", where,
                       (const char *) l->data);
          return FALSE;
        }
    }
  return TRUE;
}

static const char *
file_get_path (JsonObject *item, const char *key, const char *where, GError **error)
{
  JsonNode *node = json_object_get_member (item, key);
  const char *path = NULL;

  if (node == NULL)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG, "%s: '%s' is missing", where, key);
      return NULL;
    }
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG, "%s: '%s' must be a string, not %s",
                   where, key, sc_json_type_name (node));
      return NULL;
    }
  path = json_node_get_string (node);
  if (path[0] == '\0')
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG, "%s: '%s' must not be empty", where,
                   key);
      return NULL;
    }
  return path;
}

/* The host side of an item: absolute, existing, and a type that mount.c accepts, so that a bad
 * host path is a config error here rather than a failure half-way through applying. */
static gboolean
file_check_host (FileMount *mount, const char *where, GError **error)
{
  struct stat st;

  if (!g_path_is_absolute (mount->host_path) || strchr (mount->host_path, '\n') != NULL)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                   "%s: 'path-host' must be an absolute path without a newline: '%s'", where,
                   mount->host_path);
      return FALSE;
    }
  if (stat (mount->host_path, &st) < 0)
    {
      int e = errno;
      if (e == ENOENT || e == ENOTDIR)
        g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                     "%s: host path '%s' does not exist", where, mount->host_path);
      else
        g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG, "%s: host path '%s': %s", where,
                     mount->host_path, g_strerror (e));
      return FALSE;
    }
  if (!S_ISDIR (st.st_mode) && !S_ISREG (st.st_mode) && !S_ISFIFO (st.st_mode)
      && !S_ISSOCK (st.st_mode))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                   "%s: host path '%s' is not a directory, regular file, FIFO or socket (device "
                   "nodes are the devicenode gateway's)",
                   where, mount->host_path);
      return FALSE;
    }
  mount->host_dev = st.st_dev;
  mount->host_ino = st.st_ino;
  return TRUE;
}

static FileMount *
file_parse_item (JsonNode *node, const char *where, GError **error)
{
  JsonObject *item = NULL;
  JsonNode *read_only = NULL;
  const char *host = NULL, *container = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *container_path = NULL;
  FileMount *mount = NULL;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG, "%s: must be an object, not %s", where,
                   sc_json_type_name (node));
      return NULL;
    }
  item = json_node_get_object (node);
  if (!file_check_keys (item, where, error)
      || (host = file_get_path (item, "path-host", where, error)) == NULL
      || (container = file_get_path (item, "path-container", where, error)) == NULL)
    return NULL;
  read_only = json_object_get_member (item, "read-only");
  if (read_only != NULL
      && (!JSON_NODE_HOLDS_VALUE (read_only)
          || json_node_get_value_type (read_only) != G_TYPE_BOOLEAN))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                   "%s: 'read-only' must be true or false, not %s", where,
                   sc_json_type_name (read_only));
      return NULL;
    }
  container_path = sc_path_normalize (container, "path-container", &local_error);
  if (container_path == NULL)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG, "%s: %s", where,
                   local_error->message);
      return NULL;
    }
  if (strcmp (container_path, "/") == 0)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                   "%s: 'path-container' must not be the container's root", where);
      return NULL;
    }

  mount = g_new0 (FileMount, 1);
  mount->host_path = g_strdup (host);
  mount->container_path = g_steal_pointer (&container_path);
  mount->read_only = read_only != NULL && json_node_get_boolean (read_only);
  mount->origin = g_strdup (where);
  if (!file_check_host (mount, where, error))
    {
      file_mount_free (mount);
      return NULL;
    }
  return mount;
}

/* Adds a checked item to the change; by_container indexes the change's mounts. Takes mount. */
static gboolean
file_merge (FileChange *change, GHashTable *by_container, FileMount *mount, GError **error)
{
  FileMount *earlier = g_hash_table_lookup (by_container, mount->container_path);

  if (earlier == NULL)
    {
      g_ptr_array_add (change->mounts, mount);
      g_hash_table_insert (by_container, mount->container_path, mount);
      return TRUE;
    }
  if (earlier->host_dev != mount->host_dev || earlier->host_ino != mount->host_ino)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                   "%s: container path '%s' gets host path '%s', but %s already gave it host path "
                   "'%s'",
                   mount->origin, mount->container_path, mount->host_path, earlier->origin,
                   earlier->host_path);
      file_mount_free (mount);
      return FALSE;
    }
  /* the same file at the same place: the more permissive setting wins */
  earlier->read_only = earlier->read_only && mount->read_only;
  file_mount_free (mount);
  return TRUE;
}

static gboolean
file_merge_config (FileChange *change, GHashTable *by_container, const ScGatewayConfig *config,
                   GError **error)
{
  g_autofree char *describe = sc_gateway_config_describe (config);
  JsonArray *items = NULL;
  guint n_items = 0;

  if (config->config == NULL || !JSON_NODE_HOLDS_ARRAY (config->config))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                   "%s: the file config must be a JSON array, not %s", describe,
                   config->config != NULL ? sc_json_type_name (config->config) : "nothing");
      return FALSE;
    }
  items = json_node_get_array (config->config);
  n_items = json_array_get_length (items);
  if (n_items == 0)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                   "%s: the file config is an empty array", describe);
      return FALSE;
    }
  for (guint i = 0; i < n_items; i++)
    {
      g_autofree char *where = g_strdup_printf ("%s item %u", describe, i);
      FileMount *mount = file_parse_item (json_array_get_element (items, i), where, error);

      if (mount == NULL || !file_merge (change, by_container, mount, error))
        return FALSE;
    }
  return TRUE;
}

/* Parents before children: a normalised path sorts after each of its parents ("/a" < "/a/b").
 * Container paths are unique after merging, so there are no ties. */
static gint
file_mount_cmp (gconstpointer a, gconstpointer b)
{
  const FileMount *const *ma = a;
  const FileMount *const *mb = b;

  return strcmp ((*ma)->container_path, (*mb)->container_path);
}

/* gateway.c configures file once per container, so the state holds no mounts here. */
static gpointer
file_prepare (gpointer state, GPtrArray *configs, GError **error)
{
  g_autoptr (FileChange) change = g_new0 (FileChange, 1);
  g_autoptr (GHashTable) by_container = g_hash_table_new (g_str_hash, g_str_equal);

  change->mounts = g_ptr_array_new_with_free_func (file_mount_free);
  for (guint i = 0; i < configs->len; i++)
    if (!file_merge_config (change, by_container, g_ptr_array_index (configs, i), error))
      return NULL;
  g_ptr_array_sort (change->mounts, file_mount_cmp);
  return g_steal_pointer (&change);
}

static void
file_close_fd_cb (gpointer data)
{
  sc_close_fdp (data);
}

static gboolean
file_apply (gpointer state, gpointer data, const ScGatewayContext *ctx, GError **error)
{
  FileChange *change = data;
  g_autoptr (GArray) fds = g_array_sized_new (FALSE, FALSE, sizeof (int), change->mounts->len);
  g_autofree ScMountRequest *requests = g_new0 (ScMountRequest, change->mounts->len);

  g_array_set_clear_func (fds, file_close_fd_cb);
  for (guint i = 0; i < change->mounts->len; i++)
    {
      const FileMount *mount = g_ptr_array_index (change->mounts, i);
      int fd = ctx->open_source != NULL
                   ? ctx->open_source (ctx->open_source_data, mount->host_path, mount->read_only,
                                       error)
                   : sc_mount_open_source (mount->host_path, error);

      if (fd < 0)
        {
          g_prefix_error (error, "%s: ", mount->origin);
          return FALSE;
        }
      g_array_append_val (fds, fd);
      requests[i].source_fd = fd;
      requests[i].container_path = mount->container_path;
      requests[i].read_only = mount->read_only;
    }
  /* the sources stay open until the batch is done; fds closes them on return */
  change->record = sc_mount_into_container (ctx->init_pidfd, requests, change->mounts->len,
                                            ctx->undo_failed, error);
  return change->record != NULL;
}

static void
file_revert (gpointer state, gpointer data, const ScGatewayContext *ctx)
{
  FileChange *change = data;
  g_autoptr (GError) local_error = NULL;

  if (change->record == NULL)
    return;
  if (!sc_mount_record_undo (change->record, ctx->init_pidfd, &local_error))
    sc_gateway_report_undo_failure (ctx, "file", local_error);
  g_clear_pointer (&change->record, sc_mount_record_free);
}

static void
file_commit (gpointer data, gpointer change_data)
{
  FileState *state = data;
  FileChange *change = change_data;

  for (guint i = 0; i < change->mounts->len; i++)
    {
      const FileMount *mount = g_ptr_array_index (change->mounts, i);
      g_debug ("file gateway: %s -> %s (%s)", mount->host_path, mount->container_path,
               mount->read_only ? "read-only" : "read-write");
    }
  /* the record is only needed to revert; committed mounts go with the container */
  g_ptr_array_extend_and_steal (state->mounts, g_steal_pointer (&change->mounts));
  change->mounts = g_ptr_array_new_with_free_func (file_mount_free);
  g_clear_pointer (&change->record, sc_mount_record_free);
}

const ScGatewayOps sc_file_gateway = {
  .id = "file",
  .dynamic = FALSE,
  .state_new = file_state_new,
  .state_free = file_state_free,
  .prepare = file_prepare,
  .apply = file_apply,
  .revert = file_revert,
  .commit = file_commit,
  .change_free = file_change_free,
  .teardown = NULL,
  .environment = NULL,
};
