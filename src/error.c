/* The agent's error domain and the code words of its D-Bus errors. */
#include "error.h"

#include <stdarg.h>

G_DEFINE_QUARK (softwarecontainer-error-quark, sc_error)

static const char *const code_words[] = {
  [SC_ERROR_INVALID_ID] = "InvalidId",
  [SC_ERROR_BAD_STATE] = "BadState",
  [SC_ERROR_INVALID_ARGUMENT] = "InvalidArgument",
  [SC_ERROR_BAD_PATH] = "BadPath",
  [SC_ERROR_CAPABILITY_UNKNOWN] = "CapabilityUnknown",
  [SC_ERROR_GATEWAY_CONFIG] = "GatewayConfig",
  [SC_ERROR_GATEWAY_FAILED] = "GatewayFailed",
  [SC_ERROR_LXC] = "Lxc",
  [SC_ERROR_SYSTEM] = "System",
};

const char *
sc_error_code_word (const GError *error)
{
  if (error->domain == SC_ERROR && error->code >= 0 && (gsize) error->code < G_N_ELEMENTS (code_words)
      && code_words[error->code] != NULL)
    return code_words[error->code];
  return code_words[SC_ERROR_SYSTEM];
}

void
sc_set_errno_error (GError **error, int err, const char *format, ...)
{
  va_list ap;
  g_autofree char *what = NULL;

  va_start (ap, format);
  what = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_set_error (error, SC_ERROR, SC_ERROR_SYSTEM, "%s: %s", what, g_strerror (err));
}
