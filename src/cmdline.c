/* Splitting Execute's commandLine into words. The input comes from the launcher; it is only
 * split, never interpreted: no shell runs unless the command names one. */
#include "cmdline.h"

#include <string.h>

#include "error.h"

gchar **
sc_cmdline_split (const char *command_line, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  gchar **argv = NULL;
  gsize len = strlen (command_line);

  if (len > SC_CMDLINE_MAX_BYTES)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT,
                   "command line is %" G_GSIZE_FORMAT " bytes; the limit is %d", len,
                   SC_CMDLINE_MAX_BYTES);
      return NULL;
    }
  if (!g_utf8_validate (command_line, (gssize) len, NULL))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT, "command line is not valid UTF-8");
      return NULL;
    }
  if (!g_shell_parse_argv (command_line, NULL, &argv, &local_error))
    {
      if (g_error_matches (local_error, G_SHELL_ERROR, G_SHELL_ERROR_EMPTY_STRING))
        g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT, "command line is empty");
      else
        g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT, "cannot split command line: %s",
                     local_error->message);
      return NULL;
    }
  if (argv[0][0] == '\0')
    {
      g_strfreev (argv);
      g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT, "command line names no program");
      return NULL;
    }
  return argv;
}
