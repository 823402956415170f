/* Splitting Execute's commandLine into argv the way a shell splits words (quotes and
 * backslashes respected), without starting a shell. */
#pragma once

#include <glib.h>

#define SC_CMDLINE_MAX_BYTES (128 * 1024)

/* Returns a NULL-terminated argv with at least one element, or NULL with
 * SC_ERROR_INVALID_ARGUMENT: empty or blank command line, unbalanced quotes, longer than
 * SC_CMDLINE_MAX_BYTES, not UTF-8. */
gchar **sc_cmdline_split (const char *command_line, GError **error);
