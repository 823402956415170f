/* Parsing JSON that comes from outside the agent (Create configs, service manifests) with the
 * limits of the security baseline applied before json-glib sees a byte: at most 1 MiB, nesting
 * at most 64 levels, no NUL byte anywhere (neither raw nor as a \u0000 escape), valid UTF-8. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#define SC_JSON_MAX_BYTES (1024 * 1024)
#define SC_JSON_MAX_DEPTH 64

/* Parses len bytes (len < 0: NUL-terminated). `what` names the input in messages
 * ("Create config", "manifest /x/y.json"). Errors are SC_ERROR_INVALID_ARGUMENT. */
JsonNode *sc_json_parse (const char *data, gssize len, const char *what, GError **error);

/* Reads and parses a file, refusing files larger than SC_JSON_MAX_BYTES before reading them. */
JsonNode *sc_json_parse_file (const char *path, GError **error);

/* "object", "array", "string", "integer", "number", "boolean", "null": for messages. */
const char *sc_json_type_name (JsonNode *node);
