/* The agent's configuration: built-in defaults, then the config file (a GLib key file), then
 * the command line, each overriding the one before.
 *
 * One table (config_keys) lists every key with its type, default, place in ScConfig, limits
 * and description; parsing, defaults and sc_config_key_names all come from it, and the shipped
 * config/softwarecontainer-config lists the same keys (a unit test checks that).
 *
 * The config file and the command line come from the administrator who starts the agent as
 * root, but they are still checked strictly: a typo must stop the agent at once with a message
 * naming the file, group and key (or the option), never be silently ignored. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "error.h"

typedef enum {
  KEY_BOOL,
  KEY_INT,
  KEY_STRING,
} KeyType;

/* What a string value must look like. */
typedef enum {
  STRING_ABSOLUTE_PATH, /* normalised lexically ("//", ".", "..") */
  STRING_IFNAME,        /* a Linux network interface name */
  STRING_IPV4,          /* dotted-quad IPv4 address */
} StringKind;

typedef struct {
  const char *name;
  KeyType type;
  const char *default_value; /* in the file's syntax */
  gsize offset;              /* of the gboolean, gint or gchar * in ScConfig */
  gint min, max;             /* KEY_INT only */
  StringKind kind;           /* KEY_STRING only */
  const char *description;
} ScConfigKey;

#define FIELD(member) G_STRUCT_OFFSET (ScConfig, member)

static const ScConfigKey config_keys[] = {
  { "use-session-bus", KEY_BOOL, "false", FIELD (use_session_bus), 0, 0, 0,
    "Serve on the session bus instead of the system bus (for development)." },
  { "shutdown-timeout", KEY_INT, "1", FIELD (shutdown_timeout), 0, 3600, 0,
    "Seconds a container gets to stop politely on Destroy before it is stopped by force." },
  { "shared-mounts-dir", KEY_STRING, "/tmp/container", FIELD (shared_mounts_dir), 0, 0,
    STRING_ABSOLUTE_PATH,
    "Host directory holding each container's host-side directory (gateway sockets, files)." },
  { "service-manifest-dir", KEY_STRING, SC_DEFAULT_MANIFEST_DIR, FIELD (service_manifest_dir),
    0, 0, STRING_ABSOLUTE_PATH,
    "Directory (or single .json file) of the service manifests whose capabilities are listed." },
  { "default-service-manifest-dir", KEY_STRING, SC_DEFAULT_DEFAULT_MANIFEST_DIR,
    FIELD (default_service_manifest_dir), 0, 0, STRING_ABSOLUTE_PATH,
    "Directory (or single .json file) of the manifests applied to every container." },
  { "create-bridge", KEY_BOOL, "true", FIELD (create_bridge), 0, 0, 0,
    "Create the network bridge at startup if it does not exist yet." },
  { "bridge-device", KEY_STRING, "lxcbr0", FIELD (bridge_device), 0, 0, STRING_IFNAME,
    "Name of the bridge the containers' network interfaces are attached to." },
  { "bridge-ip", KEY_STRING, "10.0.3.1", FIELD (bridge_ip), 0, 0, STRING_IPV4,
    "IPv4 address of the bridge: the containers' gateway." },
  { "bridge-netaddr", KEY_STRING, "10.0.3.0", FIELD (bridge_netaddr), 0, 0, STRING_IPV4,
    "IPv4 network address of the containers' network." },
  { "bridge-netmask", KEY_STRING, "255.255.255.0", FIELD (bridge_netmask), 0, 0, STRING_IPV4,
    "Netmask of the containers' network, dotted." },
  { "bridge-netmask-bitlength", KEY_INT, "24", FIELD (bridge_netmask_bitlength), 1, 30, 0,
    "Netmask of the containers' network as a prefix length." },
};

/* Keys that older config files carry: accepted, ignored, warned about. */
static const char *const deprecated_keys[] = {
  "deprecated-lxc-config-path",
};

static const ScConfigKey *
find_key (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (config_keys); i++)
    if (strcmp (config_keys[i].name, name) == 0)
      return &config_keys[i];
  return NULL;
}

static gboolean
is_deprecated_key (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (deprecated_keys); i++)
    if (strcmp (deprecated_keys[i], name) == 0)
      return TRUE;
  return FALSE;
}

/* Linux's dev_valid_name(): 1..15 bytes, not "." or "..", no '/', ':' or whitespace. */
static gboolean
is_ifname (const char *value)
{
  gsize len = strlen (value);

  if (len == 0 || len > 15 || strcmp (value, ".") == 0 || strcmp (value, "..") == 0)
    return FALSE;
  for (const char *p = value; *p != '\0'; p++)
    if (*p == '/' || *p == ':' || g_ascii_isspace (*p) || !g_ascii_isgraph (*p))
      return FALSE;
  return TRUE;
}

/* Checks a string value; returns the value to store (normalised) or NULL with an error. */
static char *
check_string (const ScConfigKey *key, const char *value, GError **error)
{
  struct in_addr addr;

  if (strchr (value, '\n') != NULL || strchr (value, '\r') != NULL)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT, "value contains a newline");
      return NULL;
    }
  switch (key->kind)
    {
    case STRING_ABSOLUTE_PATH:
      if (!g_path_is_absolute (value))
        {
          g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT,
                       "value '%s' is not an absolute path", value);
          return NULL;
        }
      return g_canonicalize_filename (value, "/");
    case STRING_IFNAME:
      if (!is_ifname (value))
        {
          g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT,
                       "value '%s' is not a network interface name (1 to 15 characters, "
                       "no '/', ':' or whitespace)",
                       value);
          return NULL;
        }
      return g_strdup (value);
    case STRING_IPV4:
      if (inet_pton (AF_INET, value, &addr) != 1)
        {
          g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT,
                       "value '%s' is not an IPv4 address", value);
          return NULL;
        }
      return g_strdup (value);
    }
  g_return_val_if_reached (NULL);
}

/* Parses `text` as the value of `key` and stores it in config. The error names only the
 * problem; callers prefix where the value came from. */
static gboolean
apply_value (ScConfig *config, const ScConfigKey *key, const char *text, GError **error)
{
  gpointer field = G_STRUCT_MEMBER_P (config, key->offset);
  g_autofree char *stripped = g_strstrip (g_strdup (text));
  g_autoptr (GError) number_error = NULL;
  gint64 number = 0;
  char *value = NULL;

  switch (key->type)
    {
    case KEY_BOOL:
      if (strcmp (stripped, "true") == 0 || strcmp (stripped, "1") == 0)
        *(gboolean *) field = TRUE;
      else if (strcmp (stripped, "false") == 0 || strcmp (stripped, "0") == 0)
        *(gboolean *) field = FALSE;
      else
        {
          g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT,
                       "value '%s' is not a boolean (true or false)", text);
          return FALSE;
        }
      return TRUE;
    case KEY_INT:
      if (!g_ascii_string_to_signed (stripped, 10, G_MININT, G_MAXINT, &number, &number_error))
        {
          g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT,
                       "value '%s' is not an integer", text);
          return FALSE;
        }
      if (number < key->min || number > key->max)
        {
          g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT,
                       "value '%s' is out of range (%d to %d)", text, key->min, key->max);
          return FALSE;
        }
      *(gint *) field = (gint) number;
      return TRUE;
    case KEY_STRING:
      value = check_string (key, text, error);
      if (value == NULL)
        return FALSE;
      g_free (*(char **) field);
      *(char **) field = value;
      return TRUE;
    }
  g_return_val_if_reached (FALSE);
}

static gboolean
apply_defaults (ScConfig *config, GError **error)
{
  for (gsize i = 0; i < G_N_ELEMENTS (config_keys); i++)
    if (!apply_value (config, &config_keys[i], config_keys[i].default_value, error))
      {
        g_prefix_error (error, "built-in default of %s: ", config_keys[i].name);
        return FALSE;
      }
  return TRUE;
}

static gboolean
apply_file_key (ScConfig *config, GKeyFile *keyfile, const char *path, const char *name,
                GError **error)
{
  const ScConfigKey *key = find_key (name);
  g_autofree char *raw = NULL;
  g_autofree char *text = NULL;
  g_autoptr (GError) local_error = NULL;

  if (key == NULL)
    {
      if (is_deprecated_key (name))
        {
          g_warning ("%s: [%s] %s: this key is deprecated and ignored", path, SC_CONFIG_GROUP,
                     name);
          return TRUE;
        }
      g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT, "%s: [%s] %s: unknown key", path,
                   SC_CONFIG_GROUP, name);
      return FALSE;
    }

  raw = g_key_file_get_value (keyfile, SC_CONFIG_GROUP, name, NULL);
  if (key->type == KEY_STRING)
    {
      /* strings get the key file's escapes (\s, \n, \\ ...) resolved */
      text = g_key_file_get_string (keyfile, SC_CONFIG_GROUP, name, &local_error);
      if (text == NULL)
        {
          g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT,
                       "%s: [%s] %s: value '%s' is not a valid string: %s", path,
                       SC_CONFIG_GROUP, name, raw != NULL ? raw : "", local_error->message);
          return FALSE;
        }
    }
  else
    text = g_strdup (raw != NULL ? raw : "");

  if (!apply_value (config, key, text, error))
    {
      g_prefix_error (error, "%s: [%s] %s: ", path, SC_CONFIG_GROUP, name);
      return FALSE;
    }
  return TRUE;
}

/* Reads the config file into config. *found is FALSE when `may_be_missing` and it does not
 * exist. */
static gboolean
apply_file (ScConfig *config, const char *path, gboolean may_be_missing, gboolean *found,
            GError **error)
{
  g_autoptr (GKeyFile) keyfile = g_key_file_new ();
  g_autoptr (GError) local_error = NULL;
  g_auto (GStrv) groups = NULL;
  g_auto (GStrv) keys = NULL;

  *found = FALSE;
  if (!g_key_file_load_from_file (keyfile, path, G_KEY_FILE_NONE, &local_error))
    {
      if (may_be_missing && g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return TRUE;
      g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT, "%s: %s%s", path,
                   local_error->message, may_be_missing ? "" : " (given with -c/--config)");
      return FALSE;
    }
  *found = TRUE;

  groups = g_key_file_get_groups (keyfile, NULL);
  for (char **group = groups; *group != NULL; group++)
    if (strcmp (*group, SC_CONFIG_GROUP) != 0)
      {
        g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT,
                     "%s: unknown group [%s] (the only group is [%s])", path, *group,
                     SC_CONFIG_GROUP);
        return FALSE;
      }
  if (!g_key_file_has_group (keyfile, SC_CONFIG_GROUP))
    return TRUE;

  keys = g_key_file_get_keys (keyfile, SC_CONFIG_GROUP, NULL, NULL);
  for (char **name = keys; name != NULL && *name != NULL; name++)
    if (!apply_file_key (config, keyfile, path, *name, error))
      return FALSE;
  return TRUE;
}

/* What the command line said; NULL / FALSE for what it did not. */
typedef struct {
  char *config_file;
  char *timeout;
  char *manifest_dir;
  char *default_manifest_dir;
  gboolean session_bus;
  char *user;
} CommandLine;

static void
command_line_clear (CommandLine *cl)
{
  g_free (cl->config_file);
  g_free (cl->timeout);
  g_free (cl->manifest_dir);
  g_free (cl->default_manifest_dir);
  g_free (cl->user);
}

/* A path given on the command line, made absolute against the current directory. */
static char *
absolute_path (const char *option, const char *path, GError **error)
{
  if (path[0] == '\0')
    {
      g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT, "option %s: empty path", option);
      return NULL;
    }
  return g_canonicalize_filename (path, NULL);
}

static gboolean
parse_command_line (CommandLine *cl, int argc, char **argv, const char *default_config_path,
                    GError **error)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) local_error = NULL;
  g_auto (GStrv) args = NULL;
  g_autofree char *config_help = NULL;
  g_autofree char *description = NULL;
  guint first_extra = 1;
  GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &cl->config_file, NULL, "PATH" },
    { "timeout", 't', 0, G_OPTION_ARG_STRING, &cl->timeout,
      "Seconds a container gets to stop politely before it is stopped by force "
      "(shutdown-timeout, 0 to 3600)",
      "SECONDS" },
    { "manifest-dir", 'm', 0, G_OPTION_ARG_FILENAME, &cl->manifest_dir,
      "Directory or .json file of the service manifests (service-manifest-dir)", "PATH" },
    { "default-manifest-dir", 'd', 0, G_OPTION_ARG_FILENAME, &cl->default_manifest_dir,
      "Directory or .json file of the default service manifests, applied to every container "
      "(default-service-manifest-dir)",
      "PATH" },
    { "session-bus", 'b', 0, G_OPTION_ARG_NONE, &cl->session_bus,
      "Use the session bus instead of the system bus (use-session-bus)", NULL },
    { "user", 'u', 0, G_OPTION_ARG_STRING, &cl->user,
      "Deprecated and ignored; accepted for old launch scripts", "UID" },
    { NULL },
  };

  config_help = g_strdup_printf ("Read settings from this config file (default: %s)",
                                 default_config_path);
  entries[0].description = config_help;
  description = g_strdup_printf (
      "Settings come from the command line, then the config file, then built-in defaults.\n"
      "A missing config file at the default path means built-in defaults; a file given with\n"
      "--config must exist. The shipped config file (%s) lists every key at its default.",
      default_config_path);

  context = g_option_context_new (NULL);
  g_option_context_set_summary (
      context, "SoftwareContainer agent: a D-Bus service (com.pelagicore.SoftwareContainerAgent)\n"
               "that runs applications in LXC containers and gives them capabilities\n"
               "configured by service manifests.");
  g_option_context_set_description (context, description);
  g_option_context_add_main_entries (context, entries, NULL);

  /* a copy: GOption removes what it parsed, and the caller's argv stays untouched */
  args = g_new0 (char *, (argc > 0 ? argc : 1) + 1);
  args[0] = g_strdup (argc > 0 && argv != NULL && argv[0] != NULL ? argv[0]
                                                                  : "softwarecontainer-agent");
  for (int i = 1; i < argc; i++)
    args[i] = g_strdup (argv[i]);

  if (!g_option_context_parse_strv (context, &args, &local_error))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT, "command line: %s",
                   local_error->message);
      return FALSE;
    }
  if (args[1] != NULL && strcmp (args[1], "--") == 0)
    first_extra = 2;
  if (args[first_extra] != NULL)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT,
                   "command line: unexpected argument '%s'", args[first_extra]);
      return FALSE;
    }
  return TRUE;
}

/* Applies one option's value to `key_name`, naming the option in errors. */
static gboolean
apply_option (ScConfig *config, const char *option, const char *key_name, const char *value,
              GError **error)
{
  if (!apply_value (config, find_key (key_name), value, error))
    {
      g_prefix_error (error, "option %s: ", option);
      return FALSE;
    }
  return TRUE;
}

static gboolean
apply_path_option (ScConfig *config, const char *option, const char *key_name,
                   const char *path, GError **error)
{
  g_autofree char *absolute = absolute_path (option, path, error);

  return absolute != NULL && apply_option (config, option, key_name, absolute, error);
}

static gboolean
apply_command_line (ScConfig *config, const CommandLine *cl, GError **error)
{
  guint64 uid = 0;

  if (cl->timeout != NULL
      && !apply_option (config, "-t/--timeout", "shutdown-timeout", cl->timeout, error))
    return FALSE;
  if (cl->manifest_dir != NULL
      && !apply_path_option (config, "-m/--manifest-dir", "service-manifest-dir",
                             cl->manifest_dir, error))
    return FALSE;
  if (cl->default_manifest_dir != NULL
      && !apply_path_option (config, "-d/--default-manifest-dir", "default-service-manifest-dir",
                             cl->default_manifest_dir, error))
    return FALSE;
  if (cl->session_bus)
    config->use_session_bus = TRUE;
  if (cl->user != NULL)
    {
      if (!g_ascii_string_to_unsigned (cl->user, 10, 0, G_MAXUINT32, &uid, NULL))
        {
          g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT,
                       "option -u/--user: value '%s' is not a user ID", cl->user);
          return FALSE;
        }
      g_warning ("option -u/--user is deprecated and ignored (the agent runs as the user that "
                 "starts it)");
    }
  return TRUE;
}

ScConfig *
sc_config_parse (int argc, char **argv, const char *default_config_path, GError **error)
{
  g_autoptr (ScConfig) config = g_new0 (ScConfig, 1);
  __attribute__ ((cleanup (command_line_clear))) CommandLine cl = { 0 };
  g_autofree char *path = NULL;
  gboolean found = FALSE;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (default_config_path == NULL)
    default_config_path = SC_DEFAULT_CONFIG_PATH;
  if (!parse_command_line (&cl, argc, argv, default_config_path, error))
    return NULL;
  if (!apply_defaults (config, error))
    return NULL;

  if (cl.config_file != NULL)
    {
      path = absolute_path ("-c/--config", cl.config_file, error);
      if (path == NULL)
        return NULL;
    }
  else
    path = g_strdup (default_config_path);
  if (!apply_file (config, path, cl.config_file == NULL, &found, error))
    return NULL;
  if (found)
    config->config_file = g_steal_pointer (&path);

  if (!apply_command_line (config, &cl, error))
    return NULL;
  return g_steal_pointer (&config);
}

void
sc_config_free (ScConfig *config)
{
  if (config == NULL)
    return;
  for (gsize i = 0; i < G_N_ELEMENTS (config_keys); i++)
    if (config_keys[i].type == KEY_STRING)
      g_free (G_STRUCT_MEMBER (char *, config, config_keys[i].offset));
  g_free (config->config_file);
  g_free (config);
}

const char *const *
sc_config_key_names (void)
{
  static const char *names[G_N_ELEMENTS (config_keys) + 1];
  static gsize initialized = 0;

  if (g_once_init_enter (&initialized))
    {
      for (gsize i = 0; i < G_N_ELEMENTS (config_keys); i++)
        names[i] = config_keys[i].name;
      names[G_N_ELEMENTS (config_keys)] = NULL;
      g_once_init_leave (&initialized, 1);
    }
  return names;
}
