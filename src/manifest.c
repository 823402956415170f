/* Service manifests: reading the JSON files that map capability names to gateway configs, and
 * the store the agent looks capabilities up in.
 *
 * Manifests are written by the integrator, but a broken one must never stop the agent: each
 * file is parsed with the limits of json.c and its structure checked completely before
 * anything from it enters the store, so a file is used whole or not at all (and the log says
 * which file and why). The gateway configs themselves are not interpreted here: they are kept
 * as written and the gateways check them when a container gets the capability. */
#include "manifest.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "json.h"

#define MAX_NAME_BYTES 255

struct ScManifestStore {
  /* capability name -> GPtrArray of ScGatewayConfig * (in load order) */
  GHashTable *capabilities;
  /* capability names in the order they were first loaded */
  GPtrArray *names;
};

/* What one file contributes, built completely before it is added to the store. */
typedef struct {
  GPtrArray *names;   /* capability names in file order (may repeat) */
  GPtrArray *configs; /* ScGatewayConfig * in file order */
} FileContents;

static void
gateway_config_free (gpointer data)
{
  ScGatewayConfig *config = data;

  g_free (config->capability);
  g_free (config->gateway_id);
  if (config->config != NULL)
    json_node_unref (config->config);
  g_free (config->origin);
  g_free (config);
}

static void
file_contents_clear (FileContents *contents)
{
  g_clear_pointer (&contents->names, g_ptr_array_unref);
  g_clear_pointer (&contents->configs, g_ptr_array_unref);
}

ScManifestStore *
sc_manifest_store_new (void)
{
  ScManifestStore *store = g_new0 (ScManifestStore, 1);

  store->capabilities =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_ptr_array_unref);
  store->names = g_ptr_array_new_with_free_func (g_free);
  return store;
}

void
sc_manifest_store_free (ScManifestStore *store)
{
  if (store == NULL)
    return;
  g_hash_table_unref (store->capabilities);
  g_ptr_array_unref (store->names);
  g_free (store);
}

/* "an object", "a string", ...: the type of node, for messages. */
static const char *
type_phrase (JsonNode *node)
{
  static const char *const phrases[][2] = {
    { "object", "an object" },   { "array", "an array" },     { "string", "a string" },
    { "integer", "an integer" }, { "number", "a number" },    { "boolean", "a boolean" },
  };
  const char *type = sc_json_type_name (node);

  for (gsize i = 0; i < G_N_ELEMENTS (phrases); i++)
    if (strcmp (phrases[i][0], type) == 0)
      return phrases[i][1];
  return type;
}

/* A name or ID: a non-empty string without newlines, at most MAX_NAME_BYTES. (json.c already
 * refused NUL characters, so strlen sees the whole string.) */
static gboolean
get_name (JsonObject *object, const char *member, const char *where, const char **out,
          GError **error)
{
  JsonNode *node = json_object_get_member (object, member);
  const char *value;

  if (node == NULL)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT, "%s has no \"%s\"", where, member);
      return FALSE;
    }
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT,
                   "%s: \"%s\" is %s, not a string", where, member, type_phrase (node));
      return FALSE;
    }
  value = json_node_get_string (node);
  if (value[0] == '\0')
    {
      g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT, "%s: \"%s\" is empty", where,
                   member);
      return FALSE;
    }
  if (strchr (value, '\n') != NULL || strchr (value, '\r') != NULL)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT,
                   "%s: \"%s\" contains a newline", where, member);
      return FALSE;
    }
  if (strlen (value) > MAX_NAME_BYTES)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT,
                   "%s: \"%s\" is longer than %d bytes", where, member, MAX_NAME_BYTES);
      return FALSE;
    }
  *out = value;
  return TRUE;
}

static JsonArray *
get_array (JsonObject *object, const char *member, const char *where, GError **error)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT, "%s has no \"%s\"", where, member);
      return NULL;
    }
  if (!JSON_NODE_HOLDS_ARRAY (node))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT,
                   "%s: \"%s\" is %s, not an array", where, member, type_phrase (node));
      return NULL;
    }
  return json_node_get_array (node);
}

static gboolean
read_gateway (FileContents *contents, const char *path, const char *capability, JsonNode *node,
              guint index, GError **error)
{
  g_autofree char *where =
      g_strdup_printf ("capability '%s': gateway %u", capability, index + 1);
  ScGatewayConfig *config;
  JsonObject *object;
  JsonNode *value;
  const char *id = NULL;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT, "%s is %s, not an object",
                   where, type_phrase (node));
      return FALSE;
    }
  object = json_node_get_object (node);
  if (!get_name (object, "id", where, &id, error))
    return FALSE;
  value = json_object_get_member (object, "config");
  if (value == NULL)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT, "%s ('%s') has no \"config\"",
                   where, id);
      return FALSE;
    }

  config = g_new0 (ScGatewayConfig, 1);
  config->capability = g_strdup (capability);
  config->gateway_id = g_strdup (id);
  config->config = json_node_copy (value);
  config->origin = g_strdup (path);
  g_ptr_array_add (contents->configs, config);
  return TRUE;
}

static gboolean
read_capability (FileContents *contents, const char *path, JsonNode *node, guint index,
                 GError **error)
{
  g_autofree char *where = g_strdup_printf ("capability %u", index + 1);
  JsonObject *object;
  JsonArray *gateways;
  const char *name = NULL;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT, "%s is %s, not an object",
                   where, type_phrase (node));
      return FALSE;
    }
  object = json_node_get_object (node);
  if (!get_name (object, "name", where, &name, error))
    return FALSE;
  g_free (where);
  where = g_strdup_printf ("capability '%s'", name);
  gateways = get_array (object, "gateways", where, error);
  if (gateways == NULL)
    return FALSE;

  g_ptr_array_add (contents->names, g_strdup (name));
  for (guint i = 0; i < json_array_get_length (gateways); i++)
    if (!read_gateway (contents, path, name, json_array_get_element (gateways, i), i, error))
      return FALSE;
  return TRUE;
}

/* Reads and checks one file. FALSE with an error: the file is unusable. TRUE with
 * contents->names NULL: nothing to load (warned about already). */
static gboolean
read_file (FileContents *contents, const char *path, GError **error)
{
  g_autoptr (JsonNode) root = NULL;
  JsonObject *object;
  JsonNode *version;
  JsonNode *capabilities;
  JsonArray *array;

  root = sc_json_parse_file (path, error);
  if (root == NULL)
    return FALSE;
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT, "%s: the root is %s, not an object",
                   path, type_phrase (root));
      return FALSE;
    }
  object = json_node_get_object (root);

  version = json_object_get_member (object, "version");
  if (version == NULL)
    g_warning ("manifest %s: no \"version\" (expected \"1\"); loading it anyway", path);
  else if (!JSON_NODE_HOLDS_VALUE (version) || json_node_get_value_type (version) != G_TYPE_STRING
           || strcmp (json_node_get_string (version), "1") != 0)
    g_warning ("manifest %s: \"version\" is not \"1\"; loading it anyway", path);

  capabilities = json_object_get_member (object, "capabilities");
  if (capabilities == NULL)
    {
      g_warning ("manifest %s: no \"capabilities\"; nothing loaded from it", path);
      return TRUE;
    }
  if (!JSON_NODE_HOLDS_ARRAY (capabilities))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT,
                   "%s: \"capabilities\" is %s, not an array", path,
                   type_phrase (capabilities));
      return FALSE;
    }
  array = json_node_get_array (capabilities);

  contents->names = g_ptr_array_new_with_free_func (g_free);
  contents->configs = g_ptr_array_new_with_free_func (gateway_config_free);
  for (guint i = 0; i < json_array_get_length (array); i++)
    if (!read_capability (contents, path, json_array_get_element (array, i), i, error))
      {
        g_prefix_error (error, "%s: ", path);
        return FALSE;
      }
  return TRUE;
}

static GPtrArray *
ensure_capability (ScManifestStore *store, const char *name)
{
  GPtrArray *configs = g_hash_table_lookup (store->capabilities, name);

  if (configs == NULL)
    {
      configs = g_ptr_array_new_with_free_func (gateway_config_free);
      g_hash_table_insert (store->capabilities, g_strdup (name), configs);
      g_ptr_array_add (store->names, g_strdup (name));
    }
  return configs;
}

/* Loads one file into the store, whole or not at all. Returns whether it was loaded. */
static gboolean
load_file (ScManifestStore *store, const char *path)
{
  __attribute__ ((cleanup (file_contents_clear))) FileContents contents = { 0 };
  g_autoptr (GError) local_error = NULL;
  g_autofree ScGatewayConfig **configs = NULL;
  gsize n_configs = 0;

  if (!read_file (&contents, path, &local_error))
    {
      /* every error of read_file starts with the path */
      g_warning ("manifest %s; file skipped", local_error->message);
      return FALSE;
    }
  if (contents.names == NULL)
    return FALSE;

  for (guint i = 0; i < contents.names->len; i++)
    ensure_capability (store, g_ptr_array_index (contents.names, i));
  /* ownership of the configs moves from contents to the store */
  configs = (ScGatewayConfig **) g_ptr_array_steal (contents.configs, &n_configs);
  for (gsize i = 0; i < n_configs; i++)
    g_ptr_array_add (g_hash_table_lookup (store->capabilities, configs[i]->capability),
                     configs[i]);
  g_debug ("manifest %s: loaded %u capabilit%s (%" G_GSIZE_FORMAT " gateway config%s)", path,
           contents.names->len, contents.names->len == 1 ? "y" : "ies", n_configs,
           n_configs == 1 ? "" : "s");
  return TRUE;
}

static gboolean
has_json_suffix (const char *name)
{
  return g_str_has_suffix (name, ".json");
}

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static guint
load_directory (ScManifestStore *store, const char *path)
{
  g_autoptr (GDir) dir = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  guint loaded = 0;

  dir = g_dir_open (path, 0, &local_error);
  if (dir == NULL)
    {
      g_warning ("manifest directory %s: %s; nothing loaded from it", path, local_error->message);
      return 0;
    }
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      /* like the shell's *.json, hidden files (editor and lock files) are not manifests */
      if (name[0] == '.' || !has_json_suffix (name))
        {
          g_message ("manifest directory %s: skipping %s (%s)", path, name,
                     name[0] == '.' ? "hidden file" : "not a *.json file");
          continue;
        }
      g_ptr_array_add (names, g_strdup (name));
    }
  g_ptr_array_sort (names, compare_strings);

  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *file = g_build_filename (path, g_ptr_array_index (names, i), NULL);

      if (load_file (store, file))
        loaded++;
    }
  g_debug ("manifest directory %s: %u of %u file(s) loaded", path, loaded, names->len);
  return loaded;
}

guint
sc_manifest_store_load (ScManifestStore *store, const char *path)
{
  struct stat st;

  g_return_val_if_fail (store != NULL, 0);
  g_return_val_if_fail (path != NULL, 0);

  if (stat (path, &st) < 0)
    {
      int e = errno;
      g_warning ("manifest path %s: %s; nothing loaded from it", path, g_strerror (e));
      return 0;
    }
  if (S_ISDIR (st.st_mode))
    return load_directory (store, path);
  if (!has_json_suffix (path))
    {
      g_warning ("manifest file %s: not a *.json file; skipped", path);
      return 0;
    }
  return load_file (store, path) ? 1 : 0;
}

GPtrArray *
sc_manifest_store_lookup (ScManifestStore *store, const char *name)
{
  g_return_val_if_fail (store != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  return g_hash_table_lookup (store->capabilities, name);
}

gchar **
sc_manifest_store_list (ScManifestStore *store)
{
  GPtrArray *list;

  g_return_val_if_fail (store != NULL, NULL);

  list = g_ptr_array_new_full (store->names->len + 1, NULL);
  for (guint i = 0; i < store->names->len; i++)
    g_ptr_array_add (list, g_strdup (g_ptr_array_index (store->names, i)));
  g_ptr_array_sort (list, compare_strings);
  g_ptr_array_add (list, NULL);
  return (gchar **) g_ptr_array_free (list, FALSE);
}

const GPtrArray *
sc_manifest_store_names_in_load_order (ScManifestStore *store)
{
  g_return_val_if_fail (store != NULL, NULL);

  return store->names;
}
