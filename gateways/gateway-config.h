/* Reading gateway configs: the checks every gateway makes in the same way, with messages that
 * name the capability, its manifest file, the item and the field. All errors are
 * SC_ERROR_GATEWAY_CONFIG. Gateways use these in their prepare op. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

/* Called for one item; `where` reads "capability 'X' (file F) item N". */
typedef gboolean (*ScGatewayItemFunc) (JsonObject *item, const char *where, gpointer data,
                                       GError **error);

/* Calls fn for every item of every config (ScGatewayConfig *, in order). Each config must be a
 * non-empty JSON array; each item an object whose keys are all in `keys` (NULL-terminated): a
 * misspelt key must never be silently ignored. Stops at the first error. */
gboolean sc_gateway_config_foreach_item (GPtrArray *configs, const char *gateway_id,
                                         const char *const *keys, ScGatewayItemFunc fn,
                                         gpointer data, GError **error);

/* A string member. Missing: *out = NULL, an error only when required. Not a string, or empty
 * when non_empty: an error. */
gboolean sc_gateway_item_string (JsonObject *item, const char *key, gboolean required,
                                 gboolean non_empty, const char *where, const char **out,
                                 GError **error);

/* A boolean member. Missing: *out = default_value, an error only when required. */
gboolean sc_gateway_item_bool (JsonObject *item, const char *key, gboolean required,
                               gboolean default_value, const char *where, gboolean *out,
                               GError **error);
