/* Unit tests of config.c: defaults, config file, command line, their precedence, the errors,
 * and that the shipped config file lists every key. */
#include <check.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "error.h"

static char *tmp_dir;
static char *default_path; /* <tmp_dir>/default-config: the default path of the tests */

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    while ((name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *child = g_build_filename (path, name, NULL);
        remove_tree (child);
      }
  g_remove (path);
}

static void
setup (void)
{
  tmp_dir = g_dir_make_tmp ("check_config-XXXXXX", NULL);
  ck_assert_ptr_nonnull (tmp_dir);
  default_path = g_build_filename (tmp_dir, "default-config", NULL);
}

static void
teardown (void)
{
  remove_tree (tmp_dir);
  g_clear_pointer (&tmp_dir, g_free);
  g_clear_pointer (&default_path, g_free);
}

static char *
write_config (const char *name, const char *contents)
{
  char *path = g_build_filename (tmp_dir, name, NULL);

  ck_assert (g_file_set_contents (path, contents, -1, NULL));
  return path;
}

/* sc_config_parse on the given arguments (program name added), expecting success. */
#define parse_ok(...) parse_ok_ (__VA_ARGS__, NULL)
static ScConfig *
parse_ok_ (const char *first, ...)
{
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  const char *arg;
  ScConfig *config;
  va_list ap;

  g_ptr_array_add (args, (gpointer) "softwarecontainer-agent");
  va_start (ap, first);
  for (arg = first; arg != NULL; arg = va_arg (ap, const char *))
    g_ptr_array_add (args, (gpointer) arg);
  va_end (ap);
  g_ptr_array_add (args, NULL);
  config = sc_config_parse ((int) args->len - 1, (char **) args->pdata, default_path, &error);
  ck_assert_msg (config != NULL, "unexpected error: %s", error != NULL ? error->message : "?");
  return config;
}

/* Expects sc_config_parse to fail with SC_ERROR_INVALID_ARGUMENT and a message containing all
 * the given fragments. Call with arguments, NULL, fragments, NULL. */
static void
expect_failure (const char *first, ...)
{
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (ScConfig) config = NULL;
  const char *arg;
  va_list ap;

  g_ptr_array_add (args, (gpointer) "softwarecontainer-agent");
  va_start (ap, first);
  for (arg = first; arg != NULL; arg = va_arg (ap, const char *))
    g_ptr_array_add (args, (gpointer) arg);
  g_ptr_array_add (args, NULL);
  config = sc_config_parse ((int) args->len - 1, (char **) args->pdata, default_path, &error);
  ck_assert_msg (config == NULL, "parse succeeded");
  ck_assert_ptr_nonnull (error);
  ck_assert_msg (g_error_matches (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT), "%s",
                 error->message);
  while ((arg = va_arg (ap, const char *)) != NULL)
    ck_assert_msg (strstr (error->message, arg) != NULL, "'%s' does not contain '%s'",
                   error->message, arg);
  va_end (ap);
}

/* Expects the default config file with `contents` to be refused, the message naming the file,
 * the group and `key`, plus `fragment`. */
static void
expect_file_failure (const char *contents, const char *key, const char *fragment)
{
  g_autofree char *path = write_config ("default-config", contents);

  expect_failure (NULL, path, "[SoftwareContainer]", key, fragment, NULL);
}

static void
assert_defaults (const ScConfig *config)
{
  ck_assert (!config->use_session_bus);
  ck_assert_int_eq (config->shutdown_timeout, 1);
  ck_assert_str_eq (config->shared_mounts_dir, "/tmp/container");
  ck_assert_str_eq (config->service_manifest_dir, SC_DEFAULT_MANIFEST_DIR);
  ck_assert_str_eq (config->default_service_manifest_dir, SC_DEFAULT_DEFAULT_MANIFEST_DIR);
  ck_assert (config->create_bridge);
  ck_assert_str_eq (config->bridge_device, "lxcbr0");
  ck_assert_str_eq (config->bridge_ip, "10.0.3.1");
  ck_assert_str_eq (config->bridge_netaddr, "10.0.3.0");
  ck_assert_str_eq (config->bridge_netmask, "255.255.255.0");
  ck_assert_int_eq (config->bridge_netmask_bitlength, 24);
}

static const char full_file[] = "[SoftwareContainer]\n"
                                "use-session-bus=true\n"
                                "shutdown-timeout=7\n"
                                "shared-mounts-dir=/var/sc/mounts\n"
                                "service-manifest-dir=/opt/manifests\n"
                                "default-service-manifest-dir=/opt/default-manifests\n"
                                "create-bridge=false\n"
                                "bridge-device=scbr1\n"
                                "bridge-ip=192.168.7.1\n"
                                "bridge-netaddr=192.168.7.0\n"
                                "bridge-netmask=255.255.0.0\n"
                                "bridge-netmask-bitlength=16\n";

static void
assert_full_file (const ScConfig *config)
{
  ck_assert (config->use_session_bus);
  ck_assert_int_eq (config->shutdown_timeout, 7);
  ck_assert_str_eq (config->shared_mounts_dir, "/var/sc/mounts");
  ck_assert_str_eq (config->service_manifest_dir, "/opt/manifests");
  ck_assert_str_eq (config->default_service_manifest_dir, "/opt/default-manifests");
  ck_assert (!config->create_bridge);
  ck_assert_str_eq (config->bridge_device, "scbr1");
  ck_assert_str_eq (config->bridge_ip, "192.168.7.1");
  ck_assert_str_eq (config->bridge_netaddr, "192.168.7.0");
  ck_assert_str_eq (config->bridge_netmask, "255.255.0.0");
  ck_assert_int_eq (config->bridge_netmask_bitlength, 16);
}

START_TEST (test_missing_default_file_means_defaults)
{
  g_autoptr (ScConfig) config = parse_ok (NULL);

  assert_defaults (config);
  ck_assert_ptr_null (config->config_file);
}
END_TEST

START_TEST (test_empty_file_means_defaults)
{
  g_autofree char *path = write_config ("default-config", "# nothing\n");
  g_autoptr (ScConfig) config = parse_ok (NULL);

  assert_defaults (config);
  ck_assert_str_eq (config->config_file, path);
}
END_TEST

START_TEST (test_file_overrides_defaults)
{
  g_autofree char *path = write_config ("default-config", full_file);
  g_autoptr (ScConfig) config = parse_ok (NULL);

  assert_full_file (config);
  ck_assert_str_eq (config->config_file, path);
}
END_TEST

START_TEST (test_file_overrides_per_key)
{
  /* a key the file leaves out keeps its default */
  g_autofree char *path =
      write_config ("default-config", "[SoftwareContainer]\nshutdown-timeout=9\n");
  g_autoptr (ScConfig) config = parse_ok (NULL);

  ck_assert_int_eq (config->shutdown_timeout, 9);
  ck_assert_str_eq (config->service_manifest_dir, SC_DEFAULT_MANIFEST_DIR);
  ck_assert_str_eq (config->bridge_device, "lxcbr0");
  ck_assert (config->create_bridge);
}
END_TEST

START_TEST (test_config_option)
{
  g_autofree char *path = write_config ("other-config", full_file);
  g_autofree char *ignored = write_config ("default-config", "[SoftwareContainer]\nbogus=1\n");
  g_autoptr (ScConfig) config = NULL;

  /* -c replaces the default path: the (broken) default file is not read */
  config = parse_ok ("-c", path);
  assert_full_file (config);
  ck_assert_str_eq (config->config_file, path);
  g_clear_pointer (&config, sc_config_free);

  config = parse_ok ("--config", path);
  assert_full_file (config);
}
END_TEST

START_TEST (test_command_line_overrides_file)
{
  g_autofree char *path = write_config ("default-config", full_file);
  g_autoptr (ScConfig) config = NULL;

  config = parse_ok ("-t", "3", "-m", "/cli/manifests", "-d", "/cli/defaults");
  ck_assert_int_eq (config->shutdown_timeout, 3);
  ck_assert_str_eq (config->service_manifest_dir, "/cli/manifests");
  ck_assert_str_eq (config->default_service_manifest_dir, "/cli/defaults");
  /* keys the command line does not set come from the file */
  ck_assert_str_eq (config->shared_mounts_dir, "/var/sc/mounts");
  ck_assert_str_eq (config->bridge_device, "scbr1");
  g_clear_pointer (&config, sc_config_free);

  /* one option at a time: only that key changes */
  config = parse_ok ("--timeout", "0");
  ck_assert_int_eq (config->shutdown_timeout, 0);
  ck_assert_str_eq (config->service_manifest_dir, "/opt/manifests");
  g_clear_pointer (&config, sc_config_free);

  config = parse_ok ("--manifest-dir", "/only/m");
  ck_assert_int_eq (config->shutdown_timeout, 7);
  ck_assert_str_eq (config->service_manifest_dir, "/only/m");
  ck_assert_str_eq (config->default_service_manifest_dir, "/opt/default-manifests");
  g_clear_pointer (&config, sc_config_free);

  config = parse_ok ("--default-manifest-dir", "/only/d");
  ck_assert_str_eq (config->service_manifest_dir, "/opt/manifests");
  ck_assert_str_eq (config->default_service_manifest_dir, "/only/d");
}
END_TEST

START_TEST (test_command_line_overrides_defaults)
{
  g_autoptr (ScConfig) config = parse_ok ("-b", "-t", "3600");

  ck_assert (config->use_session_bus);
  ck_assert_int_eq (config->shutdown_timeout, 3600);
  ck_assert_str_eq (config->service_manifest_dir, SC_DEFAULT_MANIFEST_DIR);
  g_clear_pointer (&config, sc_config_free);

  config = parse_ok ("--session-bus");
  ck_assert (config->use_session_bus);
  ck_assert_int_eq (config->shutdown_timeout, 1);
}
END_TEST

START_TEST (test_session_bus_file_and_option)
{
  g_autofree char *path =
      write_config ("default-config", "[SoftwareContainer]\nuse-session-bus=false\n");
  g_autoptr (ScConfig) config = NULL;

  config = parse_ok (NULL);
  ck_assert (!config->use_session_bus);
  g_clear_pointer (&config, sc_config_free);
  config = parse_ok ("-b");
  ck_assert (config->use_session_bus);
}
END_TEST

START_TEST (test_relative_paths_made_absolute)
{
  g_autofree char *cwd = g_get_current_dir ();
  g_autofree char *path = write_config ("rel-config", "[SoftwareContainer]\nshutdown-timeout=5\n");
  g_autofree char *expected_m = g_build_filename (tmp_dir, "rel", "manifests", NULL);
  g_autofree char *expected_d = g_build_filename (tmp_dir, "defaults", NULL);
  g_autoptr (ScConfig) config = NULL;

  ck_assert_int_eq (chdir (tmp_dir), 0);
  config = parse_ok ("-c", "rel-config", "-m", "rel/manifests", "-d", "./x/../defaults/");
  ck_assert_int_eq (chdir (cwd), 0);

  ck_assert_int_eq (config->shutdown_timeout, 5);
  ck_assert_str_eq (config->config_file, path);
  ck_assert_str_eq (config->service_manifest_dir, expected_m);
  ck_assert_str_eq (config->default_service_manifest_dir, expected_d);
}
END_TEST

START_TEST (test_argv_untouched)
{
  char *argv[] = { "agent", "-t", "2", "-b", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (ScConfig) config = sc_config_parse (4, argv, default_path, &error);

  ck_assert_ptr_nonnull (config);
  ck_assert_str_eq (argv[0], "agent");
  ck_assert_str_eq (argv[1], "-t");
  ck_assert_str_eq (argv[2], "2");
  ck_assert_str_eq (argv[3], "-b");
  ck_assert_ptr_null (argv[4]);
}
END_TEST

START_TEST (test_missing_config_option_file)
{
  g_autofree char *missing = g_build_filename (tmp_dir, "missing-config", NULL);

  expect_failure ("-c", missing, NULL, missing, NULL);
}
END_TEST

START_TEST (test_unknown_key)
{
  expect_file_failure ("[SoftwareContainer]\nshutdown-timeout=1\nshutdown-timout=2\n",
                       "shutdown-timout", "unknown key");
}
END_TEST

START_TEST (test_unknown_group)
{
  g_autofree char *path = write_config ("default-config", "[SoftwareContainer]\n"
                                                          "shutdown-timeout=2\n"
                                                          "[Network]\n"
                                                          "bridge-device=x\n");

  expect_failure (NULL, path, "[Network]", "unknown group", NULL);
}
END_TEST

START_TEST (test_wrong_type)
{
  expect_file_failure ("[SoftwareContainer]\nshutdown-timeout=abc\n", "shutdown-timeout",
                       "value 'abc' is not an integer");
  expect_file_failure ("[SoftwareContainer]\nshutdown-timeout=1.5\n", "shutdown-timeout",
                       "not an integer");
  expect_file_failure ("[SoftwareContainer]\nshutdown-timeout=\n", "shutdown-timeout",
                       "not an integer");
  expect_file_failure ("[SoftwareContainer]\nuse-session-bus=maybe\n", "use-session-bus",
                       "value 'maybe' is not a boolean");
  expect_file_failure ("[SoftwareContainer]\ncreate-bridge=yes\n", "create-bridge",
                       "not a boolean");
  expect_file_failure ("[SoftwareContainer]\nbridge-ip=lxcbr0\n", "bridge-ip",
                       "not an IPv4 address");
}
END_TEST

START_TEST (test_out_of_range)
{
  expect_file_failure ("[SoftwareContainer]\nshutdown-timeout=-1\n", "shutdown-timeout",
                       "out of range");
  expect_file_failure ("[SoftwareContainer]\nshutdown-timeout=3601\n", "shutdown-timeout",
                       "out of range");
  expect_file_failure ("[SoftwareContainer]\nshutdown-timeout=99999999999999999999\n",
                       "shutdown-timeout", "99999999999999999999");
  expect_file_failure ("[SoftwareContainer]\nbridge-netmask-bitlength=31\n",
                       "bridge-netmask-bitlength", "out of range");
  expect_file_failure ("[SoftwareContainer]\nbridge-netmask-bitlength=0\n",
                       "bridge-netmask-bitlength", "out of range");
  expect_file_failure ("[SoftwareContainer]\nshared-mounts-dir=tmp/container\n",
                       "shared-mounts-dir", "not an absolute path");
  expect_file_failure ("[SoftwareContainer]\nservice-manifest-dir=\n", "service-manifest-dir",
                       "not an absolute path");
  expect_file_failure ("[SoftwareContainer]\nbridge-device=averyveryverylongname\n",
                       "bridge-device", "network interface name");
  expect_file_failure ("[SoftwareContainer]\nbridge-device=a/b\n", "bridge-device",
                       "network interface name");
  expect_file_failure ("[SoftwareContainer]\nbridge-device=a\\sb\n", "bridge-device",
                       "network interface name");
  expect_file_failure ("[SoftwareContainer]\nbridge-netmask=255.255.255.256\n",
                       "bridge-netmask", "not an IPv4 address");
  expect_file_failure ("[SoftwareContainer]\nbridge-netaddr=10.0.3\n", "bridge-netaddr",
                       "not an IPv4 address");
}
END_TEST

START_TEST (test_newline_refused)
{
  expect_file_failure ("[SoftwareContainer]\nshared-mounts-dir=/tmp/a\\nb\n", "shared-mounts-dir",
                       "newline");
}
END_TEST

START_TEST (test_path_normalized)
{
  g_autofree char *path = write_config (
      "default-config", "[SoftwareContainer]\nshared-mounts-dir=/tmp//sc/./mounts/\n");
  g_autoptr (ScConfig) config = parse_ok (NULL);

  ck_assert_str_eq (config->shared_mounts_dir, "/tmp/sc/mounts");
}
END_TEST

START_TEST (test_bad_key_file_syntax)
{
  g_autofree char *path = write_config ("default-config", "[SoftwareContainer]\nnot a key\n");

  expect_failure (NULL, path, NULL);
}
END_TEST

START_TEST (test_deprecated_key_ignored)
{
  g_autofree char *path =
      write_config ("default-config", "[SoftwareContainer]\n"
                                      "deprecated-lxc-config-path=/usr/share/lxc/config\n"
                                      "shutdown-timeout=4\n");
  g_autoptr (ScConfig) config = parse_ok (NULL);

  ck_assert_int_eq (config->shutdown_timeout, 4);
  ck_assert_str_eq (config->config_file, path);
}
END_TEST

START_TEST (test_user_option_accepted)
{
  g_autoptr (ScConfig) config = parse_ok ("-u", "1000");

  assert_defaults (config);
  g_clear_pointer (&config, sc_config_free);
  config = parse_ok ("--user", "0", "-t", "2");
  ck_assert_int_eq (config->shutdown_timeout, 2);
  expect_failure ("-u", "abc", NULL, "--user", "abc", NULL);
}
END_TEST

START_TEST (test_bad_timeout_option)
{
  expect_failure ("-t", "abc", NULL, "--timeout", "not an integer", NULL);
  expect_failure ("-t", "-1", NULL, "--timeout", "out of range", NULL);
  expect_failure ("--timeout", "3601", NULL, "--timeout", "out of range", NULL);
  expect_failure ("-t", NULL, "-t", NULL);
}
END_TEST

START_TEST (test_bad_command_line)
{
  expect_failure ("--bogus", NULL, "--bogus", NULL);
  expect_failure ("-x", NULL, "-x", NULL);
  expect_failure ("extra", NULL, "extra", NULL);
  expect_failure ("-b", "--", "extra", NULL, "extra", NULL);
  expect_failure ("-m", "", NULL, "--manifest-dir", NULL);
}
END_TEST

START_TEST (test_file_error_despite_option)
{
  /* a file error is reported even when the command line would override the key */
  g_autofree char *path =
      write_config ("default-config", "[SoftwareContainer]\nshutdown-timeout=x\n");

  expect_failure ("-t", "3", NULL, path, "shutdown-timeout", NULL);
}
END_TEST

START_TEST (test_key_names)
{
  const char *const *names = sc_config_key_names ();
  static const char *const expected[] = {
    "use-session-bus",      "shutdown-timeout",         "shared-mounts-dir",
    "service-manifest-dir", "default-service-manifest-dir", "create-bridge",
    "bridge-device",        "bridge-ip",                "bridge-netaddr",
    "bridge-netmask",       "bridge-netmask-bitlength",
  };

  ck_assert_uint_eq (g_strv_length ((char **) names), G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    ck_assert (g_strv_contains (names, expected[i]));
  ck_assert (!g_strv_contains (names, "deprecated-lxc-config-path"));
}
END_TEST

/* Every key appears in the shipped file, commented out at its default. */
START_TEST (test_shipped_config_lists_every_key)
{
  g_autofree char *shipped = g_build_filename (SC_SOURCE_DIR, "config", "softwarecontainer-config",
                                               NULL);
  g_autofree char *contents = NULL;
  g_auto (GStrv) lines = NULL;
  const char *const *names = sc_config_key_names ();

  ck_assert (g_file_get_contents (shipped, &contents, NULL, NULL));
  lines = g_strsplit (contents, "\n", -1);
  for (guint k = 0; names[k] != NULL; k++)
    {
      g_autofree char *prefix = g_strdup_printf ("# %s=", names[k]);
      gboolean found = FALSE;

      for (guint i = 0; lines[i] != NULL; i++)
        if (g_str_has_prefix (lines[i], prefix))
          found = TRUE;
      ck_assert_msg (found, "%s: no line '%s...'", shipped, prefix);
    }
}
END_TEST

/* The shipped file as is parses to the defaults, and with every key uncommented it still
 * parses and gives the defaults (the shown values are valid and are the defaults). */
START_TEST (test_shipped_config_values_are_defaults)
{
  g_autofree char *shipped = g_build_filename (SC_SOURCE_DIR, "config", "softwarecontainer-config",
                                               NULL);
  g_autofree char *contents = NULL;
  g_autofree char *uncommented_path = NULL;
  g_auto (GStrv) lines = NULL;
  const char *const *names = sc_config_key_names ();
  g_autoptr (ScConfig) config = NULL;
  GString *uncommented = g_string_new (NULL);

  config = parse_ok ("-c", shipped);
  assert_defaults (config);
  g_clear_pointer (&config, sc_config_free);

  ck_assert (g_file_get_contents (shipped, &contents, NULL, NULL));
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      gboolean is_key = FALSE;

      for (guint k = 0; names[k] != NULL; k++)
        {
          g_autofree char *prefix = g_strdup_printf ("# %s=", names[k]);
          if (g_str_has_prefix (lines[i], prefix))
            is_key = TRUE;
        }
      g_string_append_printf (uncommented, "%s\n", is_key ? lines[i] + 2 : lines[i]);
    }
  uncommented_path = write_config ("uncommented", uncommented->str);
  g_string_free (uncommented, TRUE);

  config = parse_ok ("-c", uncommented_path);
  ck_assert (!config->use_session_bus);
  ck_assert_int_eq (config->shutdown_timeout, 1);
  ck_assert_str_eq (config->shared_mounts_dir, "/tmp/container");
  ck_assert (config->create_bridge);
  ck_assert_str_eq (config->bridge_device, "lxcbr0");
  ck_assert_str_eq (config->bridge_ip, "10.0.3.1");
  ck_assert_str_eq (config->bridge_netaddr, "10.0.3.0");
  ck_assert_str_eq (config->bridge_netmask, "255.255.255.0");
  ck_assert_int_eq (config->bridge_netmask_bitlength, 24);
  /* the file shows the paths of the default /usr/local prefix */
  ck_assert_str_eq (config->service_manifest_dir,
                    "/usr/local/etc/softwarecontainer/service-manifest.d");
  ck_assert_str_eq (config->default_service_manifest_dir,
                    "/usr/local/etc/softwarecontainer/service-manifest.default.d");
}
END_TEST

static Suite *
config_suite (void)
{
  Suite *s = suite_create ("config");
  TCase *precedence = tcase_create ("precedence");
  TCase *errors = tcase_create ("errors");
  TCase *shipped = tcase_create ("shipped");

  tcase_add_checked_fixture (precedence, setup, teardown);
  tcase_add_test (precedence, test_missing_default_file_means_defaults);
  tcase_add_test (precedence, test_empty_file_means_defaults);
  tcase_add_test (precedence, test_file_overrides_defaults);
  tcase_add_test (precedence, test_file_overrides_per_key);
  tcase_add_test (precedence, test_config_option);
  tcase_add_test (precedence, test_command_line_overrides_file);
  tcase_add_test (precedence, test_command_line_overrides_defaults);
  tcase_add_test (precedence, test_session_bus_file_and_option);
  tcase_add_test (precedence, test_relative_paths_made_absolute);
  tcase_add_test (precedence, test_argv_untouched);
  tcase_add_test (precedence, test_path_normalized);
  tcase_add_test (precedence, test_deprecated_key_ignored);
  tcase_add_test (precedence, test_user_option_accepted);
  suite_add_tcase (s, precedence);

  tcase_add_checked_fixture (errors, setup, teardown);
  tcase_add_test (errors, test_missing_config_option_file);
  tcase_add_test (errors, test_unknown_key);
  tcase_add_test (errors, test_unknown_group);
  tcase_add_test (errors, test_wrong_type);
  tcase_add_test (errors, test_out_of_range);
  tcase_add_test (errors, test_newline_refused);
  tcase_add_test (errors, test_bad_key_file_syntax);
  tcase_add_test (errors, test_bad_timeout_option);
  tcase_add_test (errors, test_bad_command_line);
  tcase_add_test (errors, test_file_error_despite_option);
  suite_add_tcase (s, errors);

  tcase_add_checked_fixture (shipped, setup, teardown);
  tcase_add_test (shipped, test_key_names);
  tcase_add_test (shipped, test_shipped_config_lists_every_key);
  tcase_add_test (shipped, test_shipped_config_values_are_defaults);
  suite_add_tcase (s, shipped);
  return s;
}

int
main (void)
{
  SRunner *runner = srunner_create (config_suite ());
  int failed;

  srunner_run_all (runner, CK_NORMAL);
  failed = srunner_ntests_failed (runner);
  srunner_free (runner);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
