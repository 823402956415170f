/* Capabilities through the real agent: ListCapabilities from the manifests, SetCapabilities
 * with its all-or-nothing rule, its error sources, defaults applied exactly once and before
 * the named capabilities, once-only gateways, and capabilities spread over several files. The
 * effect is read from inside the container (the env gateway's variables, the file gateway's
 * mounts). Every test writes its manifests first and starts the agent itself. */
#include <string.h>

#include "harness.h"

/* ---- helpers ------------------------------------------------------------------------------- */

/* A manifest with one capability holding one gateway config. */
static void
write_capability (gboolean is_default, const char *file_name, const char *name,
                  const char *gateway_id, const char *config_json)
{
  g_autofree char *json = g_strdup_printf (
      "{\"version\": \"1\", \"capabilities\": [{\"name\": \"%s\", \"gateways\": "
      "[{\"id\": \"%s\", \"config\": %s}]}]}",
      name, gateway_id, config_json);
  h_write_manifest (is_default, file_name, json);
}

/* An env capability setting name=value (mode "set"). */
static void
write_env_capability (gboolean is_default, const char *file_name, const char *name,
                      const char *var, const char *value)
{
  g_autofree char *config
      = g_strdup_printf ("[{\"name\": \"%s\", \"value\": \"%s\"}]", var, value);
  write_capability (is_default, file_name, name, "env", config);
}

static void
set_caps (int id, const char *cap1, const char *cap2)
{
  const char *const caps[] = { cap1, cap2, NULL };
  h_set_capabilities (id, cap1 != NULL ? caps : NULL);
}

/* SetCapabilities must fail with code_word; returns the message (code word included). */
static char *
set_caps_expect (const char *code_word, int id, const char *cap1, const char *cap2)
{
  const char *const caps[] = { cap1, cap2, NULL };
  const char *const none[] = { NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) r = h_call (
      "SetCapabilities", g_variant_new ("(i^as)", id, cap1 != NULL ? caps : none), &error);

  h_assert_failed (error, code_word);
  return g_strdup (error->message);
}

static void
assert_contains (const char *text, const char *part)
{
  ck_assert_msg (strstr (text, part) != NULL, "'%s' does not contain '%s'", text, part);
}

/* The value of a variable in a new process of the container, or NULL when it is not set. */
static char *
env_inside (int id, const char *var)
{
  g_autofree char *cmd = g_strdup_printf ("printenv %s", var);
  guint code;
  g_autofree char *out = h_run (id, cmd, &code);
  gsize len;

  if (code != 0)
    return NULL;
  len = strlen (out);
  ck_assert_msg (len > 0 && out[len - 1] == '\n', "printenv said '%s'", out);
  out[len - 1] = '\0';
  return g_steal_pointer (&out);
}

static void
assert_env (int id, const char *var, const char *expected)
{
  g_autofree char *value = env_inside (id, var);

  if (expected == NULL)
    ck_assert_msg (value == NULL, "%s is set to '%s' in the container", var, value);
  else
    {
      ck_assert_msg (value != NULL, "%s is not set in the container", var);
      ck_assert_str_eq (value, expected);
    }
}

static char **
list_capabilities (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) r = h_call ("ListCapabilities", NULL, &error);
  char **names = NULL;

  ck_assert_msg (r != NULL, "ListCapabilities: %s", error ? error->message : "");
  g_variant_get (r, "(^as)", &names);
  return names;
}

static char *
join_names (char **names)
{
  return g_strjoinv (",", names);
}

/* ---- ListCapabilities ------------------------------------------------------------------------ */

START_TEST (list_sorted_without_defaults)
{
  g_auto (GStrv) names = NULL;
  g_autofree char *joined = NULL;
  g_autofree char *log = NULL;

  h_write_manifest (FALSE, "b.json",
                    "{\"version\": \"1\", \"capabilities\": ["
                    " {\"name\": \"zeta\", \"gateways\": []},"
                    " {\"name\": \"alpha\", \"gateways\": [{\"id\": \"env\", \"config\": "
                    "   [{\"name\": \"A\", \"value\": \"1\"}]}]}]}");
  h_write_manifest (FALSE, "a.json",
                    "{\"version\": \"1\", \"capabilities\": ["
                    " {\"name\": \"mid\", \"gateways\": []},"
                    " {\"name\": \"alpha\", \"gateways\": []}]}");
  /* a valid manifest in a file that is not *.json, and broken *.json files: skipped */
  h_write_manifest (FALSE, "notes.txt",
                    "{\"version\": \"1\", \"capabilities\": [{\"name\": \"from-txt\", "
                    "\"gateways\": []}]}");
  h_write_manifest (FALSE, "broken.json",
                    "{\"version\": \"1\", \"capabilities\": [{\"name\": \"from-broken\", "
                    "\"gateways\": [");
  h_write_manifest (FALSE, "list.json", "[{\"name\": \"from-array\"}]");
  write_env_capability (TRUE, "default.json", "hidden-default", "D", "1");

  h_agent_start (NULL);
  names = list_capabilities ();
  joined = join_names (names);
  ck_assert_str_eq (joined, "alpha,mid,zeta");
  /* the skipped files are named in the log */
  log = h_read (h->agent_log);
  assert_contains (log, "broken.json");
  assert_contains (log, "list.json");
  assert_contains (log, "notes.txt");
}
END_TEST

START_TEST (list_empty)
{
  g_auto (GStrv) names = NULL;

  /* only defaults */
  write_env_capability (TRUE, "default.json", "hidden-default", "D", "1");
  h_agent_start (NULL);
  names = list_capabilities ();
  ck_assert_uint_eq (g_strv_length (names), 0);
}
END_TEST

/* ---- SetCapabilities errors ------------------------------------------------------------------ */

START_TEST (unknown_capability_applies_nothing)
{
  g_autofree char *msg = NULL;
  int id;

  write_env_capability (FALSE, "env.json", "envcap", "FOO", "bar");
  write_env_capability (TRUE, "default.json", "def", "DEF", "yes");
  h_agent_start (NULL);
  id = h_create ("[]");
  msg = set_caps_expect ("CapabilityUnknown", id, "envcap", "nosuchcap");
  assert_contains (msg, "nosuchcap");
  /* neither the named capability nor... */
  assert_env (id, "FOO", NULL);
  /* ...the defaults were applied by the failed call: Execute applied them */
  assert_env (id, "DEF", "yes");

  /* error sources: no such container, suspended container */
  g_free (set_caps_expect ("InvalidId", id + 1000, "envcap", NULL));
  h_suspend (id);
  g_free (set_caps_expect ("BadState", id, "envcap", NULL));
  h_resume (id);
  assert_env (id, "FOO", NULL);
  h_destroy (id);
  g_free (set_caps_expect ("InvalidId", id, "envcap", NULL));
}
END_TEST

START_TEST (unknown_capability_then_applied)
{
  int id;

  write_env_capability (FALSE, "env.json", "envcap", "FOO", "bar");
  write_env_capability (TRUE, "default.json", "def", "DEF", "yes");
  h_agent_start (NULL);
  id = h_create ("[]");
  g_free (set_caps_expect ("CapabilityUnknown", id, "nosuchcap", "envcap"));
  /* the failed call configured nothing: env and the defaults still take their configs */
  set_caps (id, "envcap", NULL);
  assert_env (id, "FOO", "bar");
  assert_env (id, "DEF", "yes");
  h_destroy (id);
}
END_TEST

/* A gateway id the project knows but this build left out (the CMake cache says which are
 * built), "cgroups" if possible; NULL if every one is built. */
static const char *
unbuilt_gateway_id (void)
{
  static const char *const ids[][2] = {
    { "cgroups", "CGROUPS" }, { "devicenode", "DEVICENODE" }, { "network", "NETWORK" },
    { "dbus", "DBUS" },       { "wayland", "WAYLAND" },       { "pulseaudio", "PULSEAUDIO" },
  };
  g_autofree char *cache_path = g_build_filename (SC_BUILD_DIR, "CMakeCache.txt", NULL);
  g_autofree char *cache = h_read (cache_path);

  ck_assert_msg (cache != NULL, "cannot read %s", cache_path);
  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    {
      g_autofree char *on = g_strdup_printf ("ENABLE_%sGATEWAY:BOOL=ON", ids[i][1]);
      if (strstr (cache, on) == NULL)
        return ids[i][0];
    }
  return NULL;
}

START_TEST (gateway_ids_not_in_build)
{
  const char *unbuilt = unbuilt_gateway_id ();
  g_autofree char *msg = NULL;
  int id;

  write_env_capability (FALSE, "env.json", "envcap", "FOO", "bar");
  write_capability (FALSE, "nosuch.json", "nosuchgw", "nosuch", "[{\"x\": 1}]");
  if (unbuilt != NULL)
    write_capability (FALSE, "unbuilt.json", "unbuiltcap", unbuilt, "[{\"x\": 1}]");
  else
    g_printerr ("note: every gateway is in this build; a left-out one is not tested\n");
  h_agent_start (NULL);
  id = h_create ("[]");

  msg = set_caps_expect ("GatewayConfig", id, "envcap", "nosuchgw");
  assert_contains (msg, "'nosuch'");
  assert_env (id, "FOO", NULL);
  if (unbuilt != NULL)
    {
      g_autofree char *quoted = g_strdup_printf ("'%s'", unbuilt);

      g_free (msg);
      msg = set_caps_expect ("GatewayConfig", id, "unbuiltcap", "envcap");
      assert_contains (msg, quoted);
      assert_env (id, "FOO", NULL);
    }
  h_destroy (id);
}
END_TEST

START_TEST (malformed_env_configs)
{
  /* name -> config; each fails on its own and together with a good env capability */
  static const char *const bad[][2] = {
    { "not-array", "{\"name\": \"X\", \"value\": \"1\"}" },
    { "empty-array", "[]" },
    { "equals-in-name", "[{\"name\": \"A=B\", \"value\": \"1\"}]" },
    { "empty-name", "[{\"name\": \"\", \"value\": \"1\"}]" },
    { "empty-value", "[{\"name\": \"X\", \"value\": \"\"}]" },
    { "bad-mode", "[{\"name\": \"X\", \"value\": \"1\", \"mode\": \"replace\"}]" },
    { "set-twice", "[{\"name\": \"GOOD\", \"value\": \"2\"}]" },
    { "not-object", "[\"X=1\"]" },
  };
  int id;

  write_env_capability (FALSE, "good.json", "good", "GOOD", "1");
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *file = g_strdup_printf ("%s.json", bad[i][0]);
      write_capability (FALSE, file, bad[i][0], "env", bad[i][1]);
    }
  h_agent_start (NULL);
  id = h_create ("[]");
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_free (set_caps_expect ("GatewayConfig", id, "good", bad[i][0]));
      if (strcmp (bad[i][0], "set-twice") != 0)
        g_free (set_caps_expect ("GatewayConfig", id, bad[i][0], NULL));
    }
  assert_env (id, "GOOD", NULL);
  assert_env (id, "X", NULL);
  /* nothing was configured by the failures */
  set_caps (id, "good", NULL);
  assert_env (id, "GOOD", "1");
  h_destroy (id);
}
END_TEST

START_TEST (bad_file_config_blocks_env)
{
  g_autofree char *missing = h_path ("no-such-dir");
  g_autofree char *bad_file = g_strdup_printf (
      "[{\"path-host\": \"%s\", \"path-container\": \"/x\"}]", missing);
  g_autofree char *msg = NULL;
  int id;

  write_env_capability (FALSE, "good.json", "good", "GOOD", "1");
  write_capability (FALSE, "badfile.json", "badfile", "file", bad_file);
  write_capability (FALSE, "relfile.json", "relfile", "file",
                    "[{\"path-host\": \"/tmp\", \"path-container\": \"relative\"}]");
  write_capability (FALSE, "typofile.json", "typofile", "file",
                    "[{\"path-host\": \"/tmp\", \"path-container\": \"/t\", \"readonly\": true}]");
  h_agent_start (NULL);
  id = h_create ("[]");
  msg = set_caps_expect ("GatewayConfig", id, "good", "badfile");
  assert_contains (msg, missing);
  g_free (set_caps_expect ("GatewayConfig", id, "relfile", "good"));
  g_free (set_caps_expect ("GatewayConfig", id, "good", "typofile"));
  assert_env (id, "GOOD", NULL);
  g_free (h_run_ok (id, "sh -c 'test ! -e /x && test ! -e /t && test ! -e /relative'"));
  h_destroy (id);
}
END_TEST

START_TEST (same_capability_twice)
{
  g_autofree char *msg = NULL;
  int id;

  /* no gateway at all: only the name can make a second application fail */
  h_write_manifest (FALSE, "plain.json",
                    "{\"version\": \"1\", \"capabilities\": [{\"name\": \"plain\", "
                    "\"gateways\": []}]}");
  write_env_capability (FALSE, "env.json", "envcap", "FOO", "bar");
  h_agent_start (NULL);
  id = h_create ("[]");

  /* twice in one call: refused, and the env capability of the call is not applied */
  msg = set_caps_expect ("BadState", id, "envcap", "envcap");
  assert_contains (msg, "envcap");
  assert_env (id, "FOO", NULL);

  set_caps (id, "plain", NULL);
  g_free (msg);
  msg = set_caps_expect ("BadState", id, "plain", NULL);
  assert_contains (msg, "plain");
  /* a call naming it again with something new applies nothing either */
  g_free (msg);
  msg = set_caps_expect ("BadState", id, "envcap", "plain");
  assert_env (id, "FOO", NULL);
  set_caps (id, "envcap", NULL);
  assert_env (id, "FOO", "bar");
  h_destroy (id);
}
END_TEST

START_TEST (env_once_only)
{
  g_autofree char *msg = NULL;
  g_autofree char *out = NULL;
  guint n;
  g_autofree int *ids = NULL;
  int id;

  write_env_capability (FALSE, "e1.json", "e1", "A", "1");
  write_env_capability (FALSE, "e2.json", "e2", "B", "2");
  h_write_manifest (FALSE, "plain.json",
                    "{\"version\": \"1\", \"capabilities\": [{\"name\": \"plain\", "
                    "\"gateways\": []}]}");
  h_agent_start (NULL);
  id = h_create ("[]");
  set_caps (id, "e1", NULL);
  msg = set_caps_expect ("BadState", id, "e2", NULL);
  assert_contains (msg, "env");
  g_free (msg);
  /* together with a capability that would be fine alone: nothing of it is applied */
  msg = set_caps_expect ("BadState", id, "plain", "e2");
  assert_env (id, "A", "1");
  assert_env (id, "B", NULL);
  /* the agent keeps serving, the container too; "plain" was not recorded as applied */
  set_caps (id, "plain", NULL);
  ids = h_list (&n);
  ck_assert_uint_eq (n, 1);
  out = h_run_ok (id, "echo still here");
  ck_assert_str_eq (out, "still here\n");
  h_destroy (id);
}
END_TEST

/* ---- defaults -------------------------------------------------------------------------------- */

START_TEST (empty_list_applies_defaults_once)
{
  int id, id2;

  write_env_capability (TRUE, "default.json", "def", "DEF", "yes");
  write_env_capability (FALSE, "named.json", "named", "NAMED", "1");
  h_agent_start (NULL);
  id = h_create ("[]");
  set_caps (id, NULL, NULL);
  assert_env (id, "DEF", "yes");
  assert_env (id, "NAMED", NULL);
  /* again: a second application of the defaults would be a second env config (BadState) */
  set_caps (id, NULL, NULL);
  assert_env (id, "DEF", "yes");
  /* env counts as configured since the defaults went in */
  g_free (set_caps_expect ("BadState", id, "named", NULL));
  h_destroy (id);

  /* the first Execute applies them just the same */
  id2 = h_create ("[]");
  assert_env (id2, "DEF", "yes");
  set_caps (id2, NULL, NULL);
  g_free (set_caps_expect ("BadState", id2, "named", NULL));
  assert_env (id2, "NAMED", NULL);
  h_destroy (id2);
}
END_TEST

START_TEST (defaults_before_named)
{
  g_auto (GStrv) names = NULL;
  int id;

  write_env_capability (TRUE, "default.json", "def", "SEARCH", "default");
  write_capability (FALSE, "named.json", "named", "env",
                    "[{\"name\": \"SEARCH\", \"value\": \"named\", \"mode\": \"append\", "
                    "\"separator\": \":\"},"
                    " {\"name\": \"FRONT\", \"value\": \"x\", \"mode\": \"PREPEND\", "
                    "\"separator\": \":\"}]");
  /* sets what the default set: fails, and with it the defaults of this first call */
  write_capability (FALSE, "clash.json", "clash", "env",
                    "[{\"name\": \"SEARCH\", \"value\": \"clash\"}]");
  h_agent_start (NULL);
  names = list_capabilities ();
  ck_assert_uint_eq (g_strv_length (names), 2);
  ck_assert_str_eq (names[0], "clash");
  ck_assert_str_eq (names[1], "named");
  id = h_create ("[]");
  g_free (set_caps_expect ("GatewayConfig", id, "clash", NULL));
  set_caps (id, "named", NULL);
  assert_env (id, "SEARCH", "default:named");
  /* prepend of a name not set before sets it, without a separator */
  assert_env (id, "FRONT", "x");
  h_destroy (id);
}
END_TEST

START_TEST (defaults_from_several_files)
{
  int id;

  /* default files apply in file-name order too */
  write_env_capability (TRUE, "10-first.json", "first", "CHAIN", "one");
  write_capability (TRUE, "20-second.json", "second", "env",
                    "[{\"name\": \"CHAIN\", \"value\": \"two\", \"mode\": \"append\", "
                    "\"separator\": \",\"}]");
  write_capability (FALSE, "named.json", "named", "env",
                    "[{\"name\": \"CHAIN\", \"value\": \"zero\", \"mode\": \"prepend\", "
                    "\"separator\": \",\"}]");
  h_agent_start (NULL);
  id = h_create ("[]");
  set_caps (id, "named", NULL);
  assert_env (id, "CHAIN", "zero,one,two");
  h_destroy (id);
}
END_TEST

START_TEST (broken_default_capability)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) r = NULL;
  int id;

  /* a default that cannot apply makes every first SetCapabilities and Execute fail */
  write_capability (TRUE, "default.json", "def", "env", "{\"name\": \"D\", \"value\": \"1\"}");
  write_env_capability (FALSE, "named.json", "named", "NAMED", "1");
  h_agent_start (NULL);
  id = h_create ("[]");
  g_free (set_caps_expect ("GatewayConfig", id, "named", NULL));
  g_free (set_caps_expect ("GatewayConfig", id, NULL, NULL));
  r = h_call ("Execute",
              g_variant_new ("(isss@a{ss})", id, "true", "/", "",
                             g_variant_new_array (G_VARIANT_TYPE ("{ss}"), NULL, 0)),
              &error);
  h_assert_failed (error, "GatewayConfig");
  h_destroy (id);
}
END_TEST

/* ---- manifests ------------------------------------------------------------------------------- */

START_TEST (manifest_paths_may_be_files)
{
  g_autofree char *single = h_path ("single.json");
  g_autofree char *single_default = h_path ("single-default.json");
  const char *const args[] = { "-m", single, "-d", single_default, NULL };
  g_auto (GStrv) names = NULL;
  g_autofree char *joined = NULL;
  int id;

  ck_assert (g_file_set_contents (
      single,
      "{\"version\": \"1\", \"capabilities\": ["
      " {\"name\": \"one\", \"gateways\": [{\"id\": \"env\", \"config\": "
      "   [{\"name\": \"ONE\", \"value\": \"1\"}]}]},"
      " {\"name\": \"two\", \"gateways\": []}]}",
      -1, NULL));
  ck_assert (g_file_set_contents (
      single_default,
      "{\"version\": \"1\", \"capabilities\": [{\"name\": \"def\", \"gateways\": "
      "[{\"id\": \"env\", \"config\": [{\"name\": \"DEF\", \"value\": \"d\"}]}]}]}",
      -1, NULL));
  /* the configured directories hold something else, which the command line overrides */
  write_env_capability (FALSE, "dir.json", "from-dir", "DIR", "1");
  h_agent_start (args);
  names = list_capabilities ();
  joined = join_names (names);
  ck_assert_str_eq (joined, "one,two");
  id = h_create ("[]");
  set_caps (id, "one", NULL);
  assert_env (id, "ONE", "1");
  assert_env (id, "DEF", "d");
  h_destroy (id);
}
END_TEST


START_TEST (same_capability_in_two_files)
{
  g_auto (GStrv) names = NULL;
  int id;

  write_env_capability (FALSE, "10-a.json", "multi", "MA", "a1");
  /* the second file appends to what the first one set: only right in file-name order */
  write_capability (FALSE, "20-b.json", "multi", "env",
                    "[{\"name\": \"MB\", \"value\": \"b1\"},"
                    " {\"name\": \"MA\", \"value\": \"a2\", \"mode\": \"append\", "
                    "\"separator\": \":\"}]");
  h_agent_start (NULL);
  names = list_capabilities ();
  ck_assert_uint_eq (g_strv_length (names), 1);
  ck_assert_str_eq (names[0], "multi");
  id = h_create ("[]");
  set_caps (id, "multi", NULL);
  assert_env (id, "MA", "a1:a2");
  assert_env (id, "MB", "b1");
  h_destroy (id);
}
END_TEST

START_TEST (env_and_file_in_one_capability)
{
  g_autofree char *dir = h_path ("both");
  g_autofree char *f = g_build_filename (dir, "f", NULL);
  g_autofree char *json = NULL;
  g_autofree char *out = NULL;
  guint code;
  int id;

  ck_assert_int_eq (g_mkdir (dir, 0755), 0);
  ck_assert (g_file_set_contents (f, "both\n", -1, NULL));
  json = g_strdup_printf (
      "{\"version\": \"1\", \"capabilities\": [{\"name\": \"both\", \"gateways\": ["
      " {\"id\": \"env\", \"config\": [{\"name\": \"BOTH_DIR\", \"value\": \"/srv/both\"}]},"
      " {\"id\": \"file\", \"config\": [{\"path-host\": \"%s\", \"path-container\": "
      "\"/srv/both\", \"read-only\": true}]}]}]}",
      dir);
  h_write_manifest (FALSE, "both.json", json);
  h_agent_start (NULL);
  id = h_create ("[]");
  set_caps (id, "both", NULL);
  assert_env (id, "BOTH_DIR", "/srv/both");
  out = h_run_ok (id, "sh -c 'cat \"$BOTH_DIR/f\"'");
  ck_assert_str_eq (out, "both\n");
  g_free (out);
  out = h_run (id, "sh -c 'echo x > /srv/both/f'", &code);
  ck_assert_uint_ne (code, 0);
  assert_contains (out, "Read-only file system");
  h_destroy (id);
}
END_TEST

START_TEST (env_ok_file_fails_applies_nothing)
{
  g_autofree char *file = h_path ("plain-file");
  g_autofree char *json = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) r = NULL;
  const char *const caps[] = { "mixed", NULL };
  int id;

  ck_assert (g_file_set_contents (file, "x\n", -1, NULL));
  /* the env part is fine; the file part fails when mounting (a file where a dir is needed) */
  json = g_strdup_printf (
      "{\"version\": \"1\", \"capabilities\": [{\"name\": \"mixed\", \"gateways\": ["
      " {\"id\": \"env\", \"config\": [{\"name\": \"MIXED\", \"value\": \"1\"}]},"
      " {\"id\": \"file\", \"config\": [{\"path-host\": \"%s\", \"path-container\": "
      "\"/etc/passwd/x\"}]}]}]}",
      h->tmpdir);
  h_write_manifest (FALSE, "mixed.json", json);
  h_agent_start (NULL);
  id = h_create ("[]");
  r = h_call ("SetCapabilities", g_variant_new ("(i^as)", id, caps), &error);
  ck_assert_msg (r == NULL, "SetCapabilities succeeded");
  assert_env (id, "MIXED", NULL);
  g_free (h_run_ok (id, "sh -c 'test -f /etc/passwd && test ! -e /etc/passwd/x'"));
  h_destroy (id);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("capabilities");
  TCase *list = h_tcase_bus_only ("list");
  TCase *set = h_tcase_bus_only ("set");
  TCase *defaults = h_tcase_bus_only ("defaults");

  tcase_add_test (list, list_sorted_without_defaults);
  tcase_add_test (list, list_empty);
  tcase_add_test (list, manifest_paths_may_be_files);
  suite_add_tcase (s, list);

  tcase_add_test (set, unknown_capability_applies_nothing);
  tcase_add_test (set, unknown_capability_then_applied);
  tcase_add_test (set, gateway_ids_not_in_build);
  tcase_add_test (set, malformed_env_configs);
  tcase_add_test (set, bad_file_config_blocks_env);
  tcase_add_test (set, same_capability_twice);
  tcase_add_test (set, env_once_only);
  tcase_add_test (set, same_capability_in_two_files);
  tcase_add_test (set, env_and_file_in_one_capability);
  tcase_add_test (set, env_ok_file_fails_applies_nothing);
  suite_add_tcase (s, set);

  tcase_add_test (defaults, empty_list_applies_defaults_once);
  tcase_add_test (defaults, defaults_before_named);
  tcase_add_test (defaults, defaults_from_several_files);
  tcase_add_test (defaults, broken_default_capability);
  suite_add_tcase (s, defaults);
  return h_run_suite (s);
}
