/* The agent's configuration: built-in defaults, overridden by the config file (a GLib key file,
 * group [SoftwareContainer]), overridden by the command line. Every key lives in one table in
 * config.c; the shipped file config/softwarecontainer-config lists each key at its default. */
#pragma once

#include <glib.h>

#define SC_CONFIG_GROUP "SoftwareContainer"
#define SC_DEFAULT_CONFIG_PATH SC_SYSCONFDIR "/softwarecontainer-config"
#define SC_DEFAULT_MANIFEST_DIR SC_SYSCONFDIR "/service-manifest.d"
#define SC_DEFAULT_DEFAULT_MANIFEST_DIR SC_SYSCONFDIR "/service-manifest.default.d"

typedef struct {
  gboolean use_session_bus;
  gint shutdown_timeout; /* seconds, >= 0 */
  gchar *shared_mounts_dir;
  gchar *service_manifest_dir;
  gchar *default_service_manifest_dir;
  /* network gateway */
  gboolean create_bridge;
  gchar *bridge_device;
  gchar *bridge_ip;
  gchar *bridge_netaddr;
  gchar *bridge_netmask;
  gint bridge_netmask_bitlength;
  /* the config file that was read, or NULL when none was (default path missing) */
  gchar *config_file;
} ScConfig;

/* Parses the command line (argv[0] is the program name) and the config file it names (or
 * default_config_path when it names none; that file may be missing). On any error - a missing
 * file given with -c, an unknown group or key, a value of the wrong type or out of range, a bad
 * option - returns NULL with a message naming the file, group and key (or the option).
 * --help prints the options and exits(0), as GOption does. */
ScConfig *sc_config_parse (int argc, char **argv, const char *default_config_path, GError **error);

void sc_config_free (ScConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScConfig, sc_config_free)

/* Names of all keys of the config file, NULL-terminated, in table order (for tests and docs). */
const char *const *sc_config_key_names (void);
