/* Reading gateway configs (see gateway-config.h). Trusts nothing in the configs. */
#include "gateway-config.h"

#include <string.h>

#include "error.h"
#include "gateway.h"
#include "json.h"

static gboolean
check_keys (JsonObject *item, const char *const *keys, const char *where, GError **error)
{
  g_autoptr (GList) members = json_object_get_members (item);

  for (GList *l = members; l != NULL; l = l->next)
    if (!g_strv_contains (keys, l->data))
      {
        g_autofree char *known = g_strjoinv (", ", (char **) keys);
        g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG, "%s: unknown key '%s' (known: %s)",
                     where, (const char *) l->data, known);
        return FALSE;
      }
  return TRUE;
}

gboolean
sc_gateway_config_foreach_item (GPtrArray *configs, const char *gateway_id,
                                const char *const *keys, ScGatewayItemFunc fn, gpointer data,
                                GError **error)
{
  for (guint k = 0; k < configs->len; k++)
    {
      const ScGatewayConfig *config = g_ptr_array_index (configs, k);
      g_autofree char *describe = sc_gateway_config_describe (config);
      JsonArray *items;
      guint n_items;

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
          JsonNode *node = json_array_get_element (items, i);

          if (!JSON_NODE_HOLDS_OBJECT (node))
            {
              g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG, "%s: must be an object, not %s",
                           where, sc_json_type_name (node));
              return FALSE;
            }
          if (!check_keys (json_node_get_object (node), keys, where, error)
              || !fn (json_node_get_object (node), where, data, error))
            return FALSE;
        }
    }
  return TRUE;
}

gboolean
sc_gateway_item_string (JsonObject *item, const char *key, gboolean required, gboolean non_empty,
                        const char *where, const char **out, GError **error)
{
  JsonNode *node = json_object_get_member (item, key);

  *out = NULL;
  if (node == NULL)
    {
      if (!required)
        return TRUE;
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG, "%s: '%s' is missing", where, key);
      return FALSE;
    }
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG, "%s: '%s' must be a string, not %s",
                   where, key, sc_json_type_name (node));
      return FALSE;
    }
  *out = json_node_get_string (node);
  if (non_empty && **out == '\0')
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG, "%s: '%s' must not be empty", where,
                   key);
      return FALSE;
    }
  return TRUE;
}

gboolean
sc_gateway_item_bool (JsonObject *item, const char *key, gboolean required,
                      gboolean default_value, const char *where, gboolean *out, GError **error)
{
  JsonNode *node = json_object_get_member (item, key);

  *out = default_value;
  if (node == NULL)
    {
      if (!required)
        return TRUE;
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG, "%s: '%s' is missing", where, key);
      return FALSE;
    }
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG, "%s: '%s' must be true or false, not %s",
                   where, key, sc_json_type_name (node));
      return FALSE;
    }
  *out = json_node_get_boolean (node);
  return TRUE;
}
