/* Unit tests of manifest.c: loading directories and single files, skipping unusable files as a
 * whole, concatenation of capabilities across files, and the store's queries. */
#include <check.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "manifest.h"

static char *tmp_dir;

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
  tmp_dir = g_dir_make_tmp ("check_manifest-XXXXXX", NULL);
  ck_assert_ptr_nonnull (tmp_dir);
}

static void
teardown (void)
{
  remove_tree (tmp_dir);
  g_clear_pointer (&tmp_dir, g_free);
}

/* Creates <tmp_dir>/<subdir> and returns its path. */
static char *
make_dir (const char *subdir)
{
  char *path = g_build_filename (tmp_dir, subdir, NULL);

  ck_assert_int_eq (g_mkdir_with_parents (path, 0700), 0);
  return path;
}

/* Writes <dir>/<name> and returns its path. */
static char *
write_file (const char *dir, const char *name, const char *contents)
{
  char *path = g_build_filename (dir, name, NULL);

  ck_assert (g_file_set_contents (path, contents, -1, NULL));
  return path;
}

/* A manifest with one capability `name` that has one gateway `id` whose config is `config`. */
static char *
manifest (const char *name, const char *id, const char *config)
{
  return g_strdup_printf ("{\"version\": \"1\", \"capabilities\": [{\"name\": \"%s\", "
                          "\"gateways\": [{\"id\": \"%s\", \"config\": %s}]}]}",
                          name, id, config);
}

static void
write_manifest (const char *dir, const char *file, const char *name, const char *id,
                const char *config)
{
  g_autofree char *text = manifest (name, id, config);
  g_autofree char *path = write_file (dir, file, text);
}

static guint
n_configs (ScManifestStore *store, const char *name)
{
  GPtrArray *configs = sc_manifest_store_lookup (store, name);

  return configs != NULL ? configs->len : 0;
}

static ScGatewayConfig *
config_at (ScManifestStore *store, const char *name, guint i)
{
  GPtrArray *configs = sc_manifest_store_lookup (store, name);

  ck_assert_ptr_nonnull (configs);
  ck_assert_uint_lt (i, configs->len);
  return g_ptr_array_index (configs, i);
}

/* The string value of a config that is ["<string>"]. */
static const char *
config_string (ScGatewayConfig *config)
{
  ck_assert (JSON_NODE_HOLDS_ARRAY (config->config));
  return json_array_get_string_element (json_node_get_array (config->config), 0);
}

static void
assert_list (ScManifestStore *store, const char *const *expected)
{
  g_auto (GStrv) list = sc_manifest_store_list (store);
  guint n = g_strv_length ((char **) expected);

  ck_assert_uint_eq (g_strv_length (list), n);
  for (guint i = 0; i < n; i++)
    ck_assert_str_eq (list[i], expected[i]);
}

START_TEST (test_two_directories)
{
  g_autofree char *standard = make_dir ("service-manifest.d");
  g_autofree char *defaults = make_dir ("service-manifest.default.d");
  g_autoptr (ScManifestStore) store = sc_manifest_store_new ();
  g_autoptr (ScManifestStore) default_store = sc_manifest_store_new ();
  static const char *const expected[] = { "app.net", "app.sound", NULL };
  static const char *const expected_defaults[] = { "base.env", NULL };
  ScGatewayConfig *config;

  write_manifest (standard, "net.json", "app.net", "network", "[\"n\"]");
  write_manifest (standard, "sound.json", "app.sound", "pulseaudio", "[\"s\"]");
  write_manifest (defaults, "env.json", "base.env", "env", "[\"e\"]");

  ck_assert_uint_eq (sc_manifest_store_load (store, standard), 2);
  ck_assert_uint_eq (sc_manifest_store_load (default_store, defaults), 1);
  assert_list (store, expected);
  assert_list (default_store, expected_defaults);
  ck_assert_ptr_null (sc_manifest_store_lookup (store, "base.env"));

  config = config_at (store, "app.net", 0);
  ck_assert_str_eq (config->capability, "app.net");
  ck_assert_str_eq (config->gateway_id, "network");
  ck_assert_str_eq (config_string (config), "n");
  ck_assert_msg (strstr (config->origin, "net.json") != NULL, "%s", config->origin);
}
END_TEST

START_TEST (test_two_directories_one_store)
{
  g_autofree char *a = make_dir ("a");
  g_autofree char *b = make_dir ("b");
  g_autoptr (ScManifestStore) store = sc_manifest_store_new ();
  const GPtrArray *order;

  write_manifest (a, "x.json", "shared", "env", "[\"from a\"]");
  write_manifest (b, "x.json", "shared", "env", "[\"from b\"]");
  write_manifest (b, "y.json", "only.b", "env", "[\"b\"]");
  ck_assert_uint_eq (sc_manifest_store_load (store, a), 1);
  ck_assert_uint_eq (sc_manifest_store_load (store, b), 2);

  ck_assert_uint_eq (n_configs (store, "shared"), 2);
  ck_assert_str_eq (config_string (config_at (store, "shared", 0)), "from a");
  ck_assert_str_eq (config_string (config_at (store, "shared", 1)), "from b");
  order = sc_manifest_store_names_in_load_order (store);
  ck_assert_uint_eq (order->len, 2);
  ck_assert_str_eq (g_ptr_array_index (order, 0), "shared");
  ck_assert_str_eq (g_ptr_array_index (order, 1), "only.b");
}
END_TEST

START_TEST (test_single_file)
{
  g_autofree char *dir = make_dir ("m");
  g_autofree char *text = manifest ("single", "file", "[{\"path-host\": \"/x\"}]");
  g_autofree char *path = write_file (dir, "single.json", text);
  g_autofree char *other = write_file (dir, "other.json", text);
  g_autoptr (ScManifestStore) store = sc_manifest_store_new ();
  ScGatewayConfig *config;

  ck_assert_uint_eq (sc_manifest_store_load (store, path), 1);
  /* only that file, not its directory */
  ck_assert_uint_eq (n_configs (store, "single"), 1);
  config = config_at (store, "single", 0);
  ck_assert_str_eq (config->origin, path);
  ck_assert (JSON_NODE_HOLDS_ARRAY (config->config));
}
END_TEST

START_TEST (test_single_file_needs_json_suffix)
{
  g_autofree char *dir = make_dir ("m");
  g_autofree char *text = manifest ("cap", "env", "[]");
  g_autofree char *path = write_file (dir, "manifest.txt", text);
  g_autoptr (ScManifestStore) store = sc_manifest_store_new ();
  g_auto (GStrv) list = NULL;

  ck_assert_uint_eq (sc_manifest_store_load (store, path), 0);
  list = sc_manifest_store_list (store);
  ck_assert_uint_eq (g_strv_length (list), 0);
}
END_TEST

START_TEST (test_missing_path)
{
  g_autofree char *missing = g_build_filename (tmp_dir, "nowhere", NULL);
  g_autoptr (ScManifestStore) store = sc_manifest_store_new ();
  g_auto (GStrv) list = NULL;

  ck_assert_uint_eq (sc_manifest_store_load (store, missing), 0);
  list = sc_manifest_store_list (store);
  ck_assert_ptr_nonnull (list);
  ck_assert_ptr_null (list[0]);
  ck_assert_uint_eq (sc_manifest_store_names_in_load_order (store)->len, 0);
}
END_TEST

START_TEST (test_invalid_json_skipped)
{
  g_autofree char *dir = make_dir ("m");
  g_autofree char *bad = write_file (dir, "1-bad.json", "{\"version\": \"1\", \"capabilities\": [");
  g_autoptr (ScManifestStore) store = sc_manifest_store_new ();
  static const char *const expected[] = { "good.one", "good.two", NULL };

  write_manifest (dir, "0-good.json", "good.one", "env", "[\"1\"]");
  write_manifest (dir, "2-good.json", "good.two", "env", "[\"2\"]");
  ck_assert_uint_eq (sc_manifest_store_load (store, dir), 2);
  assert_list (store, expected);
}
END_TEST

START_TEST (test_root_not_object_skipped)
{
  g_autofree char *dir = make_dir ("m");
  g_autofree char *array = write_file (dir, "a.json", "[{\"name\": \"x\", \"gateways\": []}]");
  g_autofree char *string = write_file (dir, "b.json", "\"capabilities\"");
  g_autoptr (ScManifestStore) store = sc_manifest_store_new ();
  static const char *const expected[] = { "kept", NULL };

  write_manifest (dir, "c.json", "kept", "env", "[]");
  ck_assert_uint_eq (sc_manifest_store_load (store, dir), 1);
  assert_list (store, expected);
}
END_TEST

START_TEST (test_non_json_skipped)
{
  g_autofree char *dir = make_dir ("m");
  g_autofree char *sub = make_dir ("m/sub.d");
  g_autofree char *text = manifest ("hidden", "env", "[]");
  g_autofree char *txt = write_file (dir, "readme.txt", text);
  g_autofree char *bak = write_file (dir, "x.json.bak", text);
  g_autofree char *dot = write_file (dir, ".x.json", text);
  g_autoptr (ScManifestStore) store = sc_manifest_store_new ();
  static const char *const expected[] = { "visible", NULL };

  write_manifest (sub, "nested.json", "nested", "env", "[]");
  write_manifest (dir, "visible.json", "visible", "env", "[]");
  ck_assert_uint_eq (sc_manifest_store_load (store, dir), 1);
  assert_list (store, expected);
}
END_TEST

START_TEST (test_same_capability_concatenated_in_file_name_order)
{
  g_autofree char *dir = make_dir ("m");
  g_autoptr (ScManifestStore) store = sc_manifest_store_new ();
  g_autofree char *both = NULL;

  /* written in the opposite order of their names */
  write_manifest (dir, "20-second.json", "shared", "env", "[\"second\"]");
  write_manifest (dir, "10-first.json", "shared", "file", "[\"first\"]");
  ck_assert_uint_eq (sc_manifest_store_load (store, dir), 2);

  ck_assert_uint_eq (n_configs (store, "shared"), 2);
  ck_assert_str_eq (config_string (config_at (store, "shared", 0)), "first");
  ck_assert_str_eq (config_at (store, "shared", 0)->gateway_id, "file");
  ck_assert_msg (g_str_has_suffix (config_at (store, "shared", 0)->origin, "10-first.json"), "%s",
                 config_at (store, "shared", 0)->origin);
  ck_assert_str_eq (config_string (config_at (store, "shared", 1)), "second");
  ck_assert_str_eq (config_at (store, "shared", 1)->gateway_id, "env");
  ck_assert_uint_eq (sc_manifest_store_names_in_load_order (store)->len, 1);
}
END_TEST

START_TEST (test_same_capability_twice_in_one_file)
{
  g_autofree char *dir = make_dir ("m");
  g_autofree char *path = write_file (
      dir, "twice.json",
      "{\"version\": \"1\", \"capabilities\": ["
      "{\"name\": \"dup\", \"gateways\": [{\"id\": \"env\", \"config\": [\"a\"]},"
      "                                  {\"id\": \"file\", \"config\": [\"b\"]}]},"
      "{\"name\": \"other\", \"gateways\": []},"
      "{\"name\": \"dup\", \"gateways\": [{\"id\": \"env\", \"config\": [\"c\"]}]}]}");
  g_autoptr (ScManifestStore) store = sc_manifest_store_new ();
  static const char *const expected[] = { "dup", "other", NULL };

  ck_assert_uint_eq (sc_manifest_store_load (store, path), 1);
  assert_list (store, expected);
  ck_assert_uint_eq (n_configs (store, "dup"), 3);
  ck_assert_str_eq (config_string (config_at (store, "dup", 0)), "a");
  ck_assert_str_eq (config_string (config_at (store, "dup", 1)), "b");
  ck_assert_str_eq (config_string (config_at (store, "dup", 2)), "c");
  /* named, without gateways: known, with nothing to apply */
  ck_assert_ptr_nonnull (sc_manifest_store_lookup (store, "other"));
  ck_assert_uint_eq (n_configs (store, "other"), 0);
}
END_TEST

START_TEST (test_list_sorted_and_load_order)
{
  g_autofree char *dir = make_dir ("m");
  g_autofree char *path = write_file (
      dir, "caps.json",
      "{\"version\": \"1\", \"capabilities\": ["
      "{\"name\": \"zeta\", \"gateways\": []},"
      "{\"name\": \"alpha\", \"gateways\": []},"
      "{\"name\": \"mid\", \"gateways\": []}]}");
  g_autoptr (ScManifestStore) store = sc_manifest_store_new ();
  static const char *const sorted[] = { "alpha", "beta", "mid", "zeta", NULL };
  static const char *const loaded[] = { "zeta", "alpha", "mid", "beta" };
  const GPtrArray *order;

  write_manifest (dir, "more.json", "beta", "env", "[]");
  /* more.json sorts after caps.json */
  ck_assert_uint_eq (sc_manifest_store_load (store, dir), 2);
  assert_list (store, sorted);
  order = sc_manifest_store_names_in_load_order (store);
  ck_assert_uint_eq (order->len, G_N_ELEMENTS (loaded));
  for (guint i = 0; i < G_N_ELEMENTS (loaded); i++)
    ck_assert_str_eq (g_ptr_array_index (order, i), loaded[i]);
}
END_TEST

START_TEST (test_lookup_unknown)
{
  g_autofree char *dir = make_dir ("m");
  g_autoptr (ScManifestStore) store = sc_manifest_store_new ();

  ck_assert_ptr_null (sc_manifest_store_lookup (store, "anything"));
  write_manifest (dir, "a.json", "known", "env", "[]");
  sc_manifest_store_load (store, dir);
  ck_assert_ptr_nonnull (sc_manifest_store_lookup (store, "known"));
  ck_assert_ptr_null (sc_manifest_store_lookup (store, "unknown"));
  ck_assert_ptr_null (sc_manifest_store_lookup (store, "Known"));
}
END_TEST

/* Each of these files has a good capability first and a structure error later: nothing from
 * the file may be loaded. */
START_TEST (test_structure_error_skips_whole_file)
{
  static const char *const broken[] = {
    /* capabilities not an array */
    "{\"version\": \"1\", \"capabilities\": {\"name\": \"good\"}}",
    /* capability not an object */
    "[GOOD, \"bad\"]",
    /* no name */
    "[GOOD, {\"gateways\": []}]",
    /* name not a string */
    "[GOOD, {\"name\": 5, \"gateways\": []}]",
    /* empty name */
    "[GOOD, {\"name\": \"\", \"gateways\": []}]",
    /* name with a newline */
    "[GOOD, {\"name\": \"a\\nb\", \"gateways\": []}]",
    /* name too long */
    "[GOOD, {\"name\": \"LONG\", \"gateways\": []}]",
    /* no gateways */
    "[GOOD, {\"name\": \"bad\"}]",
    /* gateways not an array */
    "[GOOD, {\"name\": \"bad\", \"gateways\": {}}]",
    /* gateway not an object */
    "[GOOD, {\"name\": \"bad\", \"gateways\": [[]]}]",
    /* gateway without id */
    "[GOOD, {\"name\": \"bad\", \"gateways\": [{\"config\": []}]}]",
    /* gateway id empty */
    "[GOOD, {\"name\": \"bad\", \"gateways\": [{\"id\": \"\", \"config\": []}]}]",
    /* gateway id not a string */
    "[GOOD, {\"name\": \"bad\", \"gateways\": [{\"id\": true, \"config\": []}]}]",
    /* gateway without config */
    "[GOOD, {\"name\": \"bad\", \"gateways\": [{\"id\": \"env\"}]}]",
    /* a NUL in a name */
    "[GOOD, {\"name\": \"a\\u0000b\", \"gateways\": []}]",
  };
  static const char good[] =
      "{\"name\": \"good\", \"gateways\": [{\"id\": \"env\", \"config\": []}]}";
  g_autofree char *long_name = g_strnfill (256, 'n');
  g_autofree char *dir = make_dir ("m");

  for (guint i = 0; i < G_N_ELEMENTS (broken); i++)
    {
      g_autoptr (ScManifestStore) store = sc_manifest_store_new ();
      g_autofree char *with_good = NULL;
      g_autofree char *with_long = NULL;
      g_autofree char *text = NULL;
      g_autofree char *path = NULL;
      g_auto (GStrv) parts = NULL;

      parts = g_strsplit (broken[i], "GOOD", -1);
      with_good = g_strjoinv (good, parts);
      g_strfreev (parts);
      parts = g_strsplit (with_good, "LONG", -1);
      with_long = g_strjoinv (long_name, parts);
      text = broken[i][0] == '['
                 ? g_strdup_printf ("{\"version\": \"1\", \"capabilities\": %s}", with_long)
                 : g_strdup (with_long);
      path = write_file (dir, "broken.json", text);

      ck_assert_msg (sc_manifest_store_load (store, path) == 0, "case %u loaded: %s", i, text);
      ck_assert_msg (sc_manifest_store_lookup (store, "good") == NULL, "case %u: %s", i, text);
      ck_assert_uint_eq (sc_manifest_store_names_in_load_order (store)->len, 0);
    }
}
END_TEST

START_TEST (test_name_limits)
{
  g_autofree char *dir = make_dir ("m");
  g_autofree char *name = g_strnfill (255, 'n');
  g_autoptr (ScManifestStore) store = sc_manifest_store_new ();

  write_manifest (dir, "a.json", name, "env", "[]");
  ck_assert_uint_eq (sc_manifest_store_load (store, dir), 1);
  ck_assert_ptr_nonnull (sc_manifest_store_lookup (store, name));
}
END_TEST

START_TEST (test_version_and_capabilities_members)
{
  g_autofree char *dir = make_dir ("m");
  g_autofree char *no_version =
      write_file (dir, "a.json", "{\"capabilities\": [{\"name\": \"a\", \"gateways\": []}]}");
  g_autofree char *other_version = write_file (
      dir, "b.json", "{\"version\": 2, \"capabilities\": [{\"name\": \"b\", \"gateways\": []}]}");
  g_autofree char *no_capabilities = write_file (dir, "c.json", "{\"version\": \"1\"}");
  g_autofree char *empty = write_file (dir, "d.json", "{\"version\": \"1\", \"capabilities\": []}");
  g_autoptr (ScManifestStore) store = sc_manifest_store_new ();
  static const char *const expected[] = { "a", "b", NULL };

  /* a, b (warned about, still loaded) and d (empty); c has nothing to load */
  ck_assert_uint_eq (sc_manifest_store_load (store, dir), 3);
  assert_list (store, expected);
}
END_TEST

START_TEST (test_config_kept_as_written)
{
  g_autofree char *dir = make_dir ("m");
  g_autofree char *path = write_file (
      dir, "kinds.json",
      "{\"version\": \"1\", \"capabilities\": [{\"name\": \"kinds\", \"gateways\": ["
      "{\"id\": \"a\", \"config\": {\"k\": [1, 2]}},"
      "{\"id\": \"b\", \"config\": \"text\"},"
      "{\"id\": \"c\", \"config\": null},"
      "{\"id\": \"d\", \"config\": [{\"x\": true}]}]}]}");
  g_autoptr (ScManifestStore) store = sc_manifest_store_new ();
  JsonArray *array;

  ck_assert_uint_eq (sc_manifest_store_load (store, path), 1);
  ck_assert_uint_eq (n_configs (store, "kinds"), 4);
  ck_assert_str_eq (sc_json_type_name (config_at (store, "kinds", 0)->config), "object");
  ck_assert_str_eq (sc_json_type_name (config_at (store, "kinds", 1)->config), "string");
  ck_assert_str_eq (sc_json_type_name (config_at (store, "kinds", 2)->config), "null");
  array = json_node_get_array (config_at (store, "kinds", 3)->config);
  ck_assert (json_object_get_boolean_member (json_array_get_object_element (array, 0), "x"));
}
END_TEST

START_TEST (test_oversized_file_skipped)
{
  g_autofree char *dir = make_dir ("m");
  g_autofree char *padding = g_strnfill (SC_JSON_MAX_BYTES, ' ');
  g_autofree char *text = g_strdup_printf (
      "{\"version\": \"1\", \"capabilities\": [{\"name\": \"big\", \"gateways\": []}]}%s",
      padding);
  g_autofree char *path = write_file (dir, "big.json", text);
  g_autoptr (ScManifestStore) store = sc_manifest_store_new ();

  write_manifest (dir, "small.json", "small", "env", "[]");
  ck_assert_uint_eq (sc_manifest_store_load (store, dir), 1);
  ck_assert_ptr_null (sc_manifest_store_lookup (store, "big"));
  ck_assert_ptr_nonnull (sc_manifest_store_lookup (store, "small"));
}
END_TEST

START_TEST (test_empty_directory)
{
  g_autofree char *dir = make_dir ("empty");
  g_autoptr (ScManifestStore) store = sc_manifest_store_new ();

  ck_assert_uint_eq (sc_manifest_store_load (store, dir), 0);
  ck_assert_uint_eq (sc_manifest_store_names_in_load_order (store)->len, 0);
}
END_TEST

static Suite *
manifest_suite (void)
{
  Suite *s = suite_create ("manifest");
  TCase *loading = tcase_create ("loading");
  TCase *skipping = tcase_create ("skipping");
  TCase *store = tcase_create ("store");

  tcase_add_checked_fixture (loading, setup, teardown);
  tcase_add_test (loading, test_two_directories);
  tcase_add_test (loading, test_two_directories_one_store);
  tcase_add_test (loading, test_single_file);
  tcase_add_test (loading, test_single_file_needs_json_suffix);
  tcase_add_test (loading, test_missing_path);
  tcase_add_test (loading, test_empty_directory);
  tcase_add_test (loading, test_version_and_capabilities_members);
  tcase_add_test (loading, test_config_kept_as_written);
  tcase_add_test (loading, test_name_limits);
  suite_add_tcase (s, loading);

  tcase_add_checked_fixture (skipping, setup, teardown);
  tcase_add_test (skipping, test_invalid_json_skipped);
  tcase_add_test (skipping, test_root_not_object_skipped);
  tcase_add_test (skipping, test_non_json_skipped);
  tcase_add_test (skipping, test_structure_error_skips_whole_file);
  tcase_add_test (skipping, test_oversized_file_skipped);
  suite_add_tcase (s, skipping);

  tcase_add_checked_fixture (store, setup, teardown);
  tcase_add_test (store, test_same_capability_concatenated_in_file_name_order);
  tcase_add_test (store, test_same_capability_twice_in_one_file);
  tcase_add_test (store, test_list_sorted_and_load_order);
  tcase_add_test (store, test_lookup_unknown);
  suite_add_tcase (s, store);
  return s;
}

int
main (void)
{
  SRunner *runner = srunner_create (manifest_suite ());
  int failed;

  srunner_run_all (runner, CK_NORMAL);
  failed = srunner_ntests_failed (runner);
  srunner_free (runner);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
