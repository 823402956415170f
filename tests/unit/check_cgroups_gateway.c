/* Unit tests of the cgroups gateway's prepare (checking and merging of its configs) and commit,
 * and of the settings writer of cgroup.c that its apply uses (v1 files, the v2 mapping, the
 * memsw/limit write order, restoring on failure), run against plain files in a temporary
 * directory that play the cgroup directories. Writing a real cgroup is left to the
 * integration tests.
 *
 * What a committed change holds is read from the debug line commit logs for each setting
 * ("cgroups gateway: SETTING = VALUE (origin)"); the writer's order from its debug lines
 * ("cgroup: SETTING = VALUE (...)"). */
#include <check.h>
#include <glib/gstdio.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"
#include "error.h"
#include "gateway.h"

static GPtrArray *debug_lines; /* char *: debug messages since the test began */
static char *tmpdir;

static GLogWriterOutput
capture_writer_cb (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
  if ((level & G_LOG_LEVEL_DEBUG) && debug_lines != NULL)
    {
      for (gsize i = 0; i < n_fields; i++)
        if (strcmp (fields[i].key, "MESSAGE") == 0)
          g_ptr_array_add (debug_lines,
                           fields[i].length < 0
                               ? g_strdup (fields[i].value)
                               : g_strndup (fields[i].value, (gsize) fields[i].length));
      return G_LOG_WRITER_HANDLED;
    }
  return g_log_writer_default (level, fields, n_fields, data);
}

static void
setup (void)
{
  g_autoptr (GError) error = NULL;

  debug_lines = g_ptr_array_new_with_free_func (g_free);
  tmpdir = g_dir_make_tmp ("sc-cgroups-gw-XXXXXX", &error);
  ck_assert_msg (tmpdir != NULL, "%s", error ? error->message : "");
}

static void
teardown (void)
{
  const char *argv[] = { "rm", "-rf", tmpdir, NULL };

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL,
                NULL);
  g_clear_pointer (&tmpdir, g_free);
  g_clear_pointer (&debug_lines, g_ptr_array_unref);
}

static void
config_free (gpointer data)
{
  ScGatewayConfig *config = data;

  g_free (config->capability);
  g_free (config->gateway_id);
  g_free (config->origin);
  if (config->config != NULL)
    json_node_unref (config->config);
  g_free (config);
}

static ScGatewayConfig *
config_new (const char *capability, const char *json)
{
  g_autoptr (GError) error = NULL;
  ScGatewayConfig *config = g_new0 (ScGatewayConfig, 1);

  config->capability = g_strdup (capability);
  config->gateway_id = g_strdup ("cgroups");
  config->origin = g_strdup_printf ("/test/%s.json", capability);
  config->config = json_from_string (json, &error);
  ck_assert_msg (config->config != NULL, "bad test JSON %s: %s", json,
                 error != NULL ? error->message : "empty");
  return config;
}

/* Prepares the configs (JSON texts, NULL-terminated; the k-th belongs to capability "capk") on
 * a fresh state and, when that works, commits the change (never applying it). */
static gboolean
run_va (GError **error, const char *json, va_list ap)
{
  const ScGatewayOps *ops = &sc_cgroups_gateway;
  g_autoptr (GPtrArray) configs = g_ptr_array_new_with_free_func (config_free);
  gpointer state = ops->state_new ();
  gpointer change = NULL;

  for (const char *text = json; text != NULL; text = va_arg (ap, const char *))
    {
      g_autofree char *capability = g_strdup_printf ("cap%u", configs->len);
      g_ptr_array_add (configs, config_new (capability, text));
    }
  change = ops->prepare (state, configs, error);
  if (change != NULL)
    {
      ops->commit (state, change);
      ops->change_free (change);
    }
  ops->state_free (state);
  return change != NULL;
}

/* Runs the configs and checks the settings commit logged, in order: "SETTING = VALUE". */
static void
assert_settings (const char *const *expected, const char *json, ...)
{
  g_autoptr (GError) error = NULL;
  gboolean ok = FALSE;
  guint n = 0;
  va_list ap;

  va_start (ap, json);
  ok = run_va (&error, json, ap);
  va_end (ap);
  ck_assert_msg (ok, "prepare failed: %s", error ? error->message : "");
  for (; expected[n] != NULL; n++)
    {
      g_autofree char *prefix = g_strdup_printf ("cgroups gateway: %s (", expected[n]);

      ck_assert_msg (n < debug_lines->len, "missing setting %s", expected[n]);
      ck_assert_msg (g_str_has_prefix (g_ptr_array_index (debug_lines, n), prefix),
                     "expected '%s...', got '%s'", prefix,
                     (char *) g_ptr_array_index (debug_lines, n));
    }
  ck_assert_msg (debug_lines->len == n, "%u settings logged, %u expected", debug_lines->len, n);
}

/* Prepare must fail with GatewayConfig and a message holding every given fragment. */
static void
assert_refused (const char *const *fragments, const char *json, ...)
{
  g_autoptr (GError) error = NULL;
  gboolean ok = FALSE;
  va_list ap;

  va_start (ap, json);
  ok = run_va (&error, json, ap);
  va_end (ap);
  ck_assert_msg (!ok, "prepare accepted %s", json);
  ck_assert_ptr_nonnull (error);
  ck_assert_msg (g_error_matches (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG),
                 "wrong error code %d: %s", error->code, error->message);
  for (const char *const *f = fragments; f != NULL && *f != NULL; f++)
    ck_assert_msg (strstr (error->message, *f) != NULL, "'%s' not in message: %s", *f,
                   error->message);
  ck_assert_uint_eq (debug_lines->len, 0);
}

/* One item {"setting": S, "value": V} as a whole config. */
static char *
item (const char *setting, const char *value)
{
  return g_strdup_printf ("[{\"setting\": \"%s\", \"value\": \"%s\"}]", setting, value);
}

static void
assert_value (const char *setting, const char *value, const char *expected)
{
  g_autofree char *json = item (setting, value);
  g_autofree char *line = g_strdup_printf ("%s = %s", setting, expected);

  assert_settings ((const char *const[]){ line, NULL }, json, NULL);
  g_ptr_array_set_size (debug_lines, 0);
}

static void
assert_value_refused (const char *setting, const char *value, const char *fragment)
{
  g_autofree char *json = item (setting, value);

  assert_refused ((const char *const[]){ "capability 'cap0'", "item 0", setting, fragment, NULL },
                  json, NULL);
}

#define STRV(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* ---- prepare ------------------------------------------------------------------------------ */

START_TEST (test_ops_table)
{
  ck_assert_str_eq (sc_cgroups_gateway.id, "cgroups");
  ck_assert (!sc_cgroups_gateway.dynamic);
  ck_assert_ptr_nonnull (sc_cgroups_gateway.apply);
  ck_assert_ptr_nonnull (sc_cgroups_gateway.revert);
  ck_assert_ptr_null (sc_cgroups_gateway.teardown);
  ck_assert_ptr_null (sc_cgroups_gateway.environment);
}
END_TEST

START_TEST (test_size_suffixes)
{
  assert_value ("memory.limit_in_bytes", "123", "123");
  assert_value ("memory.limit_in_bytes", "0", "0");
  assert_value ("memory.limit_in_bytes", "1k", "1024");
  assert_value ("memory.limit_in_bytes", "1K", "1024");
  assert_value ("memory.limit_in_bytes", "32m", "33554432");
  assert_value ("memory.limit_in_bytes", "32M", "33554432");
  assert_value ("memory.limit_in_bytes", "2g", "2147483648");
  assert_value ("memory.memsw.limit_in_bytes", "2G", "2147483648");
}
END_TEST

START_TEST (test_size_overflow)
{
  /* 2^63 - 1 is the largest size; one more, or a suffix that overflows, is refused */
  assert_value ("memory.limit_in_bytes", "9223372036854775807", "9223372036854775807");
  assert_value ("memory.limit_in_bytes", "8589934591g", "9223372035781033984");
  assert_value_refused ("memory.limit_in_bytes", "9223372036854775808", "too large");
  assert_value_refused ("memory.limit_in_bytes", "18446744073709551616", "too large");
  assert_value_refused ("memory.limit_in_bytes", "99999999999999999999999999", "too large");
  assert_value_refused ("memory.limit_in_bytes", "8589934592g", "too large");
  assert_value_refused ("memory.memsw.limit_in_bytes", "9007199254740992k", "too large");
}
END_TEST

START_TEST (test_size_syntax)
{
  const char *const bad[] = { "-1", "32mb", "m", " 32m", "32m ", "3.5m", "0x10", "32t", "+5", "1e6" };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    assert_value_refused ("memory.limit_in_bytes", bad[i], "is not a size");
}
END_TEST

START_TEST (test_largest_wins)
{
  g_autofree char *a = item ("memory.limit_in_bytes", "32m");
  g_autofree char *b = item ("memory.limit_in_bytes", "64m");
  g_autofree char *c = item ("memory.limit_in_bytes", "16m");

  assert_settings (STRV ("memory.limit_in_bytes = 67108864"), a, b, c, NULL);
}
END_TEST

START_TEST (test_largest_wins_origin)
{
  g_autofree char *a = item ("memory.limit_in_bytes", "1g");
  g_autofree char *b = item ("memory.limit_in_bytes", "1024m");
  g_autofree char *c = item ("memory.limit_in_bytes", "2048m");

  assert_settings (STRV ("memory.limit_in_bytes = 2147483648"), a, b, c, NULL);
  ck_assert_msg (strstr (g_ptr_array_index (debug_lines, 0), "capability 'cap2'") != NULL,
                 "origin: %s", (char *) g_ptr_array_index (debug_lines, 0));
}
END_TEST

START_TEST (test_largest_wins_in_one_config)
{
  assert_settings (STRV ("cpu.shares = 2048", "memory.memsw.limit_in_bytes = 134217728"),
                   "[{\"setting\": \"cpu.shares\", \"value\": \"512\"},"
                   " {\"setting\": \"memory.memsw.limit_in_bytes\", \"value\": \"64m\"},"
                   " {\"setting\": \"cpu.shares\", \"value\": \"2048\"},"
                   " {\"setting\": \"memory.memsw.limit_in_bytes\", \"value\": \"128m\"},"
                   " {\"setting\": \"cpu.shares\", \"value\": \"1024\"}]",
                   NULL);
}
END_TEST

START_TEST (test_shares_range)
{
  assert_value ("cpu.shares", "2", "2");
  assert_value ("cpu.shares", "1024", "1024");
  assert_value ("cpu.shares", "262144", "262144");
  assert_value_refused ("cpu.shares", "1", "at least 2");
  assert_value_refused ("cpu.shares", "0", "at least 2");
  assert_value_refused ("cpu.shares", "262145", "at most 262144");
  assert_value_refused ("cpu.shares", "99999999999999999999", "is not a number");
  assert_value_refused ("cpu.shares", "-5", "is not a number");
  assert_value_refused ("cpu.shares", "1k", "is not a number");
  assert_value_refused ("cpu.shares", "abc", "is not a number");
}
END_TEST

START_TEST (test_shares_one_refused_among_others)
{
  g_autofree char *a = item ("cpu.shares", "1024");
  g_autofree char *b = item ("cpu.shares", "1");

  /* the largest would win, but every value is checked */
  assert_refused (STRV ("capability 'cap1'", "cpu.shares", "at least 2"), a, b, NULL);
}
END_TEST

START_TEST (test_memsw_below_limit)
{
  g_autofree char *limit = item ("memory.limit_in_bytes", "64m");
  g_autofree char *memsw = item ("memory.memsw.limit_in_bytes", "48m");
  g_autofree char *small = item ("memory.limit_in_bytes", "32m");

  assert_refused (STRV ("memory.memsw.limit_in_bytes", "lower than memory.limit_in_bytes",
                        "capability 'cap1'", "capability 'cap0'"),
                  limit, memsw, NULL);
  /* the merged values count: 64m wins over 32m, and 48m is below it */
  assert_refused (STRV ("lower than"), small, memsw, limit, NULL);
  assert_refused (STRV ("lower than"),
                  "[{\"setting\": \"memory.memsw.limit_in_bytes\", \"value\": \"1m\"},"
                  " {\"setting\": \"memory.limit_in_bytes\", \"value\": \"2m\"}]",
                  NULL);
}
END_TEST

START_TEST (test_memsw_equal_or_above_limit)
{
  g_autofree char *limit = item ("memory.limit_in_bytes", "64m");
  g_autofree char *equal = item ("memory.memsw.limit_in_bytes", "65536k");
  g_autofree char *above = item ("memory.memsw.limit_in_bytes", "1g");

  assert_settings (STRV ("memory.limit_in_bytes = 67108864",
                         "memory.memsw.limit_in_bytes = 67108864"),
                   limit, equal, NULL);
  g_ptr_array_set_size (debug_lines, 0);
  assert_settings (STRV ("memory.memsw.limit_in_bytes = 1073741824",
                         "memory.limit_in_bytes = 67108864"),
                   above, limit, NULL);
}
END_TEST

START_TEST (test_classid)
{
  assert_value ("net_cls.classid", "0x100001", "1048577");
  assert_value ("net_cls.classid", "0x00100001", "1048577");
  assert_value ("net_cls.classid", "0X1", "1");
  assert_value ("net_cls.classid", "0xffffffff", "4294967295");
  assert_value ("net_cls.classid", "0xABCD0001", "2882338817");
}
END_TEST

START_TEST (test_classid_syntax)
{
  const char *const bad[] = { "0x", "100001", "1048577", "0x123456789", "0xg", "0x-1",
                              "0x 1", "x100001", "0x10:1", "10:1", "0x1 " };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    assert_value_refused ("net_cls.classid", bad[i], "0xAAAABBBB");
}
END_TEST

START_TEST (test_classid_last_wins)
{
  g_autofree char *a = item ("net_cls.classid", "0x100002");
  g_autofree char *b = item ("net_cls.classid", "0x100001");

  assert_settings (STRV ("net_cls.classid = 1048577"), a, b, NULL);
}
END_TEST

START_TEST (test_other_last_wins_as_given)
{
  g_autofree char *a = item ("cpuset.cpus", "0-1");
  g_autofree char *b = item ("cpuset.cpus", "0");
  g_autofree char *c = item ("memory.swappiness", "10");
  g_autofree char *d = item ("memory.soft_limit_in_bytes", "32m");

  /* the first appearance fixes the position, the last value wins; other values are not parsed */
  assert_settings (STRV ("cpuset.cpus = 0", "memory.swappiness = 10",
                         "memory.soft_limit_in_bytes = 32m"),
                   a, c, b, d, NULL);
}
END_TEST

START_TEST (test_setting_names)
{
  const char *const bad[] = {
    "memory/../x",   "../../x",        "memory/memory.limit_in_bytes", "memory",
    ".memory",       "memory.",        "Memory.limit_in_bytes",        "memory..limit",
    "memory.a b",    "memory.limit\\n", "memory.limit-x",              "/sys/fs/cgroup/x.y",
    "memory.\\u00e9", "..",            ".",                            "tasks",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *json = item (bad[i], "1");
      assert_refused (STRV ("'setting' must be \"<controller>.<key>\""), json, NULL);
    }
}
END_TEST

START_TEST (test_setting_name_too_long)
{
  g_autofree char *key = g_strnfill (250, 'a');
  g_autofree char *setting = g_strdup_printf ("memory.%s", key);
  g_autofree char *json = item (setting, "1");

  assert_refused (STRV ("'setting' must be"), json, NULL);
}
END_TEST

START_TEST (test_reserved_controllers)
{
  g_autofree char *procs = item ("cgroup.procs", "1");
  g_autofree char *allow = item ("devices.allow", "a");
  g_autofree char *freeze = item ("freezer.state", "THAWED");

  assert_refused (STRV ("cgroup.procs", "not configurable"), procs, NULL);
  assert_refused (STRV ("devices.allow", "devicenode gateway"), allow, NULL);
  assert_refused (STRV ("freezer.state", "not configurable"), freeze, NULL);
}
END_TEST

START_TEST (test_item_shape)
{
  assert_refused (STRV ("'value' is missing"), "[{\"setting\": \"cpu.shares\"}]", NULL);
  assert_refused (STRV ("'setting' is missing"), "[{\"value\": \"1\"}]", NULL);
  assert_refused (STRV ("'value' must be a string, not integer"),
                  "[{\"setting\": \"cpu.shares\", \"value\": 1024}]", NULL);
  assert_refused (STRV ("'setting' must be a string"),
                  "[{\"setting\": [\"cpu.shares\"], \"value\": \"2\"}]", NULL);
  assert_refused (STRV ("'value' must not be empty"),
                  "[{\"setting\": \"cpu.shares\", \"value\": \"\"}]", NULL);
  assert_refused (STRV ("'setting' must not be empty"),
                  "[{\"setting\": \"\", \"value\": \"2\"}]", NULL);
  assert_refused (STRV ("unknown key 'values'", "known: setting, value"),
                  "[{\"setting\": \"cpu.shares\", \"values\": \"2\"}]", NULL);
  assert_refused (STRV ("item 1", "must be an object, not string"),
                  "[{\"setting\": \"cpu.shares\", \"value\": \"2\"}, \"cpu.shares\"]", NULL);
  assert_refused (STRV ("one line"),
                  "[{\"setting\": \"cpuset.cpus\", \"value\": \"0\\n1\"}]", NULL);
}
END_TEST

START_TEST (test_config_shape)
{
  assert_refused (STRV ("must be a JSON array, not object"),
                  "{\"setting\": \"cpu.shares\", \"value\": \"2\"}", NULL);
  assert_refused (STRV ("empty array"), "[]", NULL);
  assert_refused (STRV ("capability 'cap1'", "empty array"),
                  "[{\"setting\": \"cpu.shares\", \"value\": \"2\"}]", "[]", NULL);
}
END_TEST

/* ---- the settings writer (cgroup.c) ------------------------------------------------------- */

static char *
make_dir (const char *name)
{
  char *dir = g_build_filename (tmpdir, name, NULL);

  ck_assert_int_eq (g_mkdir_with_parents (dir, 0755), 0);
  return dir;
}

static void
put (const char *dir, const char *file, const char *value)
{
  g_autofree char *path = g_build_filename (dir, file, NULL);

  ck_assert (g_file_set_contents (path, value, -1, NULL));
}

static char *
get (const char *dir, const char *file)
{
  g_autofree char *path = g_build_filename (dir, file, NULL);
  char *text = NULL;

  ck_assert_msg (g_file_get_contents (path, &text, NULL, NULL), "cannot read %s", path);
  return text;
}

/* The order of the writer's debug lines: "setting=value,setting=value". */
static char *
write_order (void)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < debug_lines->len; i++)
    {
      const char *line = g_ptr_array_index (debug_lines, i);
      g_auto (GStrv) f = NULL;

      if (!g_str_has_prefix (line, "cgroup: ") || strstr (line, " = ") == NULL)
        continue;
      f = g_strsplit (line + strlen ("cgroup: "), " ", 4);
      g_string_append_printf (s, "%s%s=%s", s->len > 0 ? "," : "", f[0], f[2]);
    }
  return g_string_free (s, FALSE);
}

START_TEST (test_writer_v1)
{
  g_autofree char *mem = make_dir ("memory");
  g_autofree char *cpu = make_dir ("cpu");
  g_autoptr (ScCgroups) cg = sc_cgroups_new_from_dirs (STRV ("memory", "cpu"), STRV (mem, cpu), 2);
  g_autoptr (GError) error = NULL;
  g_autoptr (ScCgroupWrites) w = NULL;
  g_autofree char *a = NULL, *b = NULL;

  put (mem, "memory.limit_in_bytes", "9223372036854771712\n");
  put (cpu, "cpu.shares", "1024\n");
  w = sc_cgroups_write_settings (cg, STRV ("memory.limit_in_bytes", "cpu.shares"),
                                 STRV ("33554432", "2048"), 2, &error);
  ck_assert_msg (w != NULL, "%s", error ? error->message : "");
  a = get (mem, "memory.limit_in_bytes");
  b = get (cpu, "cpu.shares");
  ck_assert_str_eq (a, "33554432");
  ck_assert_str_eq (b, "2048");
  /* undo writes the old values back */
  ck_assert (sc_cgroup_writes_undo (w, &error));
  g_free (a);
  g_free (b);
  a = get (mem, "memory.limit_in_bytes");
  b = get (cpu, "cpu.shares");
  ck_assert_str_eq (a, "9223372036854771712");
  ck_assert_str_eq (b, "1024");
}
END_TEST

START_TEST (test_writer_v1_memsw_order)
{
  g_autofree char *mem = make_dir ("memory");
  g_autoptr (ScCgroups) cg = sc_cgroups_new_from_dirs (STRV ("memory"), STRV (mem), 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (ScCgroupWrites) w = NULL;
  g_autofree char *order = NULL;

  /* raising above the current memsw: memsw first */
  put (mem, "memory.limit_in_bytes", "100");
  put (mem, "memory.memsw.limit_in_bytes", "200");
  w = sc_cgroups_write_settings (cg, STRV ("memory.limit_in_bytes", "memory.memsw.limit_in_bytes"),
                                 STRV ("300", "400"), 2, &error);
  ck_assert_msg (w != NULL, "%s", error ? error->message : "");
  order = write_order ();
  ck_assert_str_eq (order, "memory.memsw.limit_in_bytes=400,memory.limit_in_bytes=300");
  g_clear_pointer (&w, sc_cgroup_writes_free);
  g_clear_pointer (&order, g_free);
  g_ptr_array_set_size (debug_lines, 0);

  /* lowering (or staying under the current memsw): the limit first, whatever the given order */
  w = sc_cgroups_write_settings (cg, STRV ("memory.memsw.limit_in_bytes", "memory.limit_in_bytes"),
                                 STRV ("150", "100"), 2, &error);
  ck_assert_msg (w != NULL, "%s", error ? error->message : "");
  order = write_order ();
  ck_assert_str_eq (order, "memory.limit_in_bytes=100,memory.memsw.limit_in_bytes=150");
}
END_TEST

START_TEST (test_writer_restores_on_failure)
{
  g_autofree char *mem = make_dir ("memory");
  g_autofree char *cpu = make_dir ("cpu");
  g_autofree char *broken = g_build_filename (cpu, "cpu.cfs_quota_us", NULL);
  g_autoptr (ScCgroups) cg = sc_cgroups_new_from_dirs (STRV ("memory", "cpu"), STRV (mem, cpu), 2);
  g_autoptr (GError) error = NULL;
  g_autoptr (ScCgroupWrites) w = NULL;
  g_autofree char *a = NULL, *b = NULL;

  put (mem, "memory.limit_in_bytes", "9223372036854771712\n");
  put (cpu, "cpu.shares", "1024\n");
  /* a directory cannot be written: the kernel refusing a value looks the same to the writer */
  ck_assert_int_eq (g_mkdir (broken, 0755), 0);
  w = sc_cgroups_write_settings (cg, STRV ("memory.limit_in_bytes", "cpu.shares", "cpu.cfs_quota_us"),
                                 STRV ("33554432", "2048", "1000"), 3, &error);
  ck_assert_ptr_null (w);
  ck_assert_msg (g_str_has_prefix (error->message, "cpu.cfs_quota_us: "), "%s", error->message);
  a = get (mem, "memory.limit_in_bytes");
  b = get (cpu, "cpu.shares");
  ck_assert_str_eq (a, "9223372036854771712");
  ck_assert_str_eq (b, "1024");
}
END_TEST

START_TEST (test_writer_not_mounted)
{
  g_autofree char *mem = make_dir ("memory");
  g_autofree char *v2 = make_dir ("unified");
  g_autoptr (ScCgroups) cg = sc_cgroups_new_from_dirs (STRV ("memory", ""), STRV (mem, v2), 2);
  g_autoptr (GError) error = NULL;
  g_autoptr (ScCgroupWrites) w = NULL;

  /* a hybrid host: v2 without controllers; net_cls not mounted as v1 */
  put (v2, "cgroup.controllers", "\n");
  put (mem, "memory.limit_in_bytes", "1");
  w = sc_cgroups_write_settings (cg, STRV ("memory.limit_in_bytes", "net_cls.classid"),
                                 STRV ("2", "1048577"), 2, &error);
  ck_assert_ptr_null (w);
  ck_assert_msg (strstr (error->message, "net_cls.classid: the net_cls controller is not mounted")
                     != NULL,
                 "%s", error->message);
  ck_assert_msg (strstr (error->message, "mount -t cgroup -o net_cls") != NULL, "%s",
                 error->message);
  g_clear_error (&error);
  /* nothing was written: planning fails before the first write */
  {
    g_autofree char *a = get (mem, "memory.limit_in_bytes");
    ck_assert_str_eq (a, "1");
  }
  w = sc_cgroups_write_settings (cg, STRV ("pids.max"), STRV ("10"), 1, &error);
  ck_assert_ptr_null (w);
  ck_assert_msg (strstr (error->message, "pids.max: the pids controller is not mounted") != NULL,
                 "%s", error->message);
}
END_TEST

START_TEST (test_writer_v2_mapping)
{
  g_autofree char *v2 = make_dir ("unified");
  g_autoptr (ScCgroups) cg = sc_cgroups_new_from_dirs (STRV (""), STRV (v2), 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (ScCgroupWrites) w = NULL;
  g_autofree char *max = NULL, *swap = NULL, *weight = NULL, *pids = NULL;

  put (v2, "cgroup.controllers", "cpuset cpu io memory pids\n");
  put (v2, "memory.max", "max\n");
  put (v2, "memory.swap.max", "max\n");
  put (v2, "cpu.weight", "100\n");
  put (v2, "pids.max", "max\n");
  w = sc_cgroups_write_settings (
      cg, STRV ("memory.memsw.limit_in_bytes", "memory.limit_in_bytes", "cpu.shares", "pids.max"),
      STRV ("100663296", "33554432", "1024", "64"), 4, &error);
  ck_assert_msg (w != NULL, "%s", error ? error->message : "");
  max = get (v2, "memory.max");
  swap = get (v2, "memory.swap.max");
  weight = get (v2, "cpu.weight");
  pids = get (v2, "pids.max");
  ck_assert_str_eq (max, "33554432");
  ck_assert_str_eq (swap, "67108864"); /* memsw - limit */
  ck_assert_str_eq (weight, "39");     /* 1 + (1022 * 9999) / 262142 */
  ck_assert_str_eq (pids, "64");
  ck_assert (sc_cgroup_writes_undo (w, &error));
  g_free (max);
  g_free (weight);
  max = get (v2, "memory.max");
  weight = get (v2, "cpu.weight");
  ck_assert_str_eq (max, "max");
  ck_assert_str_eq (weight, "100");
}
END_TEST

START_TEST (test_writer_v2_weight_bounds)
{
  g_autofree char *v2 = make_dir ("unified");
  g_autoptr (ScCgroups) cg = sc_cgroups_new_from_dirs (STRV (""), STRV (v2), 1);
  const char *const shares[] = { "2", "262144", "1" };
  const char *const weights[] = { "1", "10000", NULL };

  put (v2, "cgroup.controllers", "cpu memory\n");
  put (v2, "cpu.weight", "100\n");
  for (guint i = 0; i < G_N_ELEMENTS (shares); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (ScCgroupWrites) w
          = sc_cgroups_write_settings (cg, STRV ("cpu.shares"), &shares[i], 1, &error);
      g_autofree char *weight = get (v2, "cpu.weight");

      if (weights[i] == NULL)
        {
          ck_assert_ptr_null (w);
          ck_assert_msg (strstr (error->message, "at least 2") != NULL, "%s", error->message);
          continue;
        }
      ck_assert_msg (w != NULL, "%s", error ? error->message : "");
      ck_assert_str_eq (weight, weights[i]);
    }
}
END_TEST

START_TEST (test_writer_v2_memsw_needs_limit)
{
  g_autofree char *v2 = make_dir ("unified");
  g_autoptr (ScCgroups) cg = sc_cgroups_new_from_dirs (STRV (""), STRV (v2), 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (ScCgroupWrites) w = NULL;
  g_autofree char *swap = NULL;

  put (v2, "cgroup.controllers", "memory\n");
  put (v2, "memory.max", "max\n");
  put (v2, "memory.swap.max", "max\n");
  w = sc_cgroups_write_settings (cg, STRV ("memory.memsw.limit_in_bytes"), STRV ("1000"), 1,
                                 &error);
  ck_assert_ptr_null (w);
  ck_assert_msg (strstr (error->message, "needs memory.limit_in_bytes") != NULL, "%s",
                 error->message);
  g_clear_error (&error);
  /* with a limit set earlier, that one counts */
  put (v2, "memory.max", "400\n");
  w = sc_cgroups_write_settings (cg, STRV ("memory.memsw.limit_in_bytes"), STRV ("1000"), 1,
                                 &error);
  ck_assert_msg (w != NULL, "%s", error ? error->message : "");
  swap = get (v2, "memory.swap.max");
  ck_assert_str_eq (swap, "600");
}
END_TEST

START_TEST (test_writer_refuses_paths)
{
  g_autofree char *mem = make_dir ("memory");
  g_autoptr (ScCgroups) cg = sc_cgroups_new_from_dirs (STRV ("memory"), STRV (mem), 1);
  const char *const bad[] = { "memory/../../x", "memory..x", "../x", "nodot" };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (ScCgroupWrites) w
          = sc_cgroups_write_settings (cg, &bad[i], STRV ("1"), 1, &error);

      ck_assert_ptr_null (w);
      ck_assert_msg (strstr (error->message, "is not a cgroup setting name") != NULL, "%s",
                     error->message);
    }
}
END_TEST

static Suite *
cgroups_gateway_suite (void)
{
  Suite *s = suite_create ("cgroups-gateway");
  TCase *parse = tcase_create ("prepare");
  TCase *writer = tcase_create ("writer");

  tcase_add_checked_fixture (parse, setup, teardown);
  tcase_add_test (parse, test_ops_table);
  tcase_add_test (parse, test_size_suffixes);
  tcase_add_test (parse, test_size_overflow);
  tcase_add_test (parse, test_size_syntax);
  tcase_add_test (parse, test_largest_wins);
  tcase_add_test (parse, test_largest_wins_origin);
  tcase_add_test (parse, test_largest_wins_in_one_config);
  tcase_add_test (parse, test_shares_range);
  tcase_add_test (parse, test_shares_one_refused_among_others);
  tcase_add_test (parse, test_memsw_below_limit);
  tcase_add_test (parse, test_memsw_equal_or_above_limit);
  tcase_add_test (parse, test_classid);
  tcase_add_test (parse, test_classid_syntax);
  tcase_add_test (parse, test_classid_last_wins);
  tcase_add_test (parse, test_other_last_wins_as_given);
  tcase_add_test (parse, test_setting_names);
  tcase_add_test (parse, test_setting_name_too_long);
  tcase_add_test (parse, test_reserved_controllers);
  tcase_add_test (parse, test_item_shape);
  tcase_add_test (parse, test_config_shape);
  suite_add_tcase (s, parse);

  tcase_add_checked_fixture (writer, setup, teardown);
  tcase_add_test (writer, test_writer_v1);
  tcase_add_test (writer, test_writer_v1_memsw_order);
  tcase_add_test (writer, test_writer_restores_on_failure);
  tcase_add_test (writer, test_writer_not_mounted);
  tcase_add_test (writer, test_writer_v2_mapping);
  tcase_add_test (writer, test_writer_v2_weight_bounds);
  tcase_add_test (writer, test_writer_v2_memsw_needs_limit);
  tcase_add_test (writer, test_writer_refuses_paths);
  suite_add_tcase (s, writer);
  return s;
}

int
main (void)
{
  SRunner *runner = srunner_create (cgroups_gateway_suite ());
  int failed = 0;

  g_log_set_writer_func (capture_writer_cb, NULL, NULL);
  srunner_set_fork_status (runner, CK_FORK_GETENV);
  srunner_run_all (runner, CK_NORMAL);
  failed = srunner_ntests_failed (runner);
  srunner_free (runner);
  return failed == 0 ? 0 : 1;
}
