/* The agent's error domain. Every failure the agent reports over D-Bus carries one of these
 * codes; service.c turns the code into the stable code word that starts the reply message.
 * Codes are part of the API: extend, never rename or renumber. */
#pragma once

#include <glib.h>

#define SC_ERROR (sc_error_quark ())

typedef enum {
  SC_ERROR_INVALID_ID,
  SC_ERROR_BAD_STATE,
  SC_ERROR_INVALID_ARGUMENT,
  SC_ERROR_BAD_PATH,
  SC_ERROR_CAPABILITY_UNKNOWN,
  SC_ERROR_GATEWAY_CONFIG,
  SC_ERROR_GATEWAY_FAILED,
  SC_ERROR_LXC,
  SC_ERROR_SYSTEM,
} ScErrorCode;

GQuark sc_error_quark (void);

/* "InvalidId", "BadState", ...; "System" for codes of other domains. */
const char *sc_error_code_word (const GError *error);

/* Sets a SC_ERROR_SYSTEM error "<what>: <strerror(err)>" (printf-style what). */
void sc_set_errno_error (GError **error, int err, const char *format, ...) G_GNUC_PRINTF (3, 4);
