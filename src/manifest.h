/* Service manifests: JSON files that map capability names to gateway configurations.
 *
 * {"version": "1", "capabilities": [{"name": N, "gateways": [{"id": G, "config": C}]}]}
 *
 * A store is filled from a directory (every *.json in file-name order) or from a single file.
 * A file that cannot be used (not JSON, root not an object, a structure that does not match the
 * format above, over the size limits) is logged with its name and skipped as a whole; loading
 * never fails. The same capability name in several files (or twice in one) concatenates the
 * gateway configs in load order, without merging. Gateway configs are kept as the manifest
 * wrote them: the gateway checks them when a container gets the capability. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

typedef struct {
  gchar *capability; /* the capability this config belongs to */
  gchar *gateway_id;
  JsonNode *config; /* as written in the manifest; owned */
  gchar *origin;    /* file it came from, for messages */
} ScGatewayConfig;

typedef struct ScManifestStore ScManifestStore;

ScManifestStore *sc_manifest_store_new (void);
void sc_manifest_store_free (ScManifestStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScManifestStore, sc_manifest_store_free)

/* Loads a directory's *.json files (sorted by name) or a single file. A missing path is logged
 * (warning) and loads nothing. Returns the number of files loaded. */
guint sc_manifest_store_load (ScManifestStore *store, const char *path);

/* The gateway configs of a capability (ScGatewayConfig *, in load order; owned by the store),
 * or NULL when no manifest names it. */
GPtrArray *sc_manifest_store_lookup (ScManifestStore *store, const char *name);

/* All capability names, sorted; free with g_strfreev. */
gchar **sc_manifest_store_list (ScManifestStore *store);

/* All capability names in the order they were first loaded (not sorted); owned by the store.
 * Used to apply the default capabilities in file order. */
const GPtrArray *sc_manifest_store_names_in_load_order (ScManifestStore *store);
