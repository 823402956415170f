/* The cgroups gateway: resource limits written into the container's own cgroup.
 *
 * Items: {"setting": "<controller>.<key>", "value": S}. Trusts nothing in the configs: keys are
 * checked strictly (an unknown key is refused), and a setting name is only ever a file name in
 * the container's cgroup directory: [a-z0-9_.] with a controller before the first dot, no '/',
 * no "..", so no config can name a path outside it. The controllers the agent itself relies on
 * are refused: "cgroup.*" (cgroup.procs would move processes), "devices.*" (the devicenode
 * gateway's job: a devices.allow here would undo the container's device policy) and
 * "freezer.*" (Suspend and Resume). Values are strings without a newline.
 *
 * Merging (all configs of one call, defaults first):
 *   memory.limit_in_bytes, memory.memsw.limit_in_bytes: sizes, decimal with an optional
 *     k/K/m/M/g/G suffix (powers of 1024), at most 2^63 - 1 bytes; the largest wins;
 *   cpu.shares: decimal, 2..262144 (the kernel's range); the largest wins;
 *   net_cls.classid: "0xAAAABBBB" (major:minor handle, 1 to 8 hex digits); the last one wins;
 *   any other setting: the last one wins, written as given.
 * Merged memsw below the merged limit is a config error. Sizes, shares and the classid are
 * written as decimal numbers.
 *
 * Applying writes every merged setting into the container's cgroup through cgroup.c, which
 * knows where each one lands on v1 and v2 and in what order memsw and the limit must be
 * written; a value the kernel refuses or a controller that is not mounted is GatewayFailed
 * naming the setting, and the files written so far get their old values back. Configured once
 * per container (spec: a sandbox is not widened after the app started). Nothing to tear down:
 * the cgroup goes with the container. */
#include "gateway.h"

#include <string.h>

#include "error.h"
#include "gateway-config.h"
#include "json.h"

static const char *const cgroups_item_keys[] = { "setting", "value", NULL };

/* Controllers whose files belong to the agent or to another gateway. */
static const char *const cgroups_refused_controllers[] = { "cgroup", "devices", "freezer" };

typedef enum {
  MERGE_LAST,    /* the last one read wins; written as given */
  MERGE_SIZE,    /* sizes with suffixes; the largest wins */
  MERGE_SHARES,  /* cpu.shares; the largest wins */
  MERGE_CLASSID, /* net_cls.classid; the last one wins */
} MergeRule;

static const struct {
  const char *setting;
  MergeRule rule;
} cgroups_rules[] = {
  { "memory.limit_in_bytes", MERGE_SIZE },
  { "memory.memsw.limit_in_bytes", MERGE_SIZE },
  { "cpu.shares", MERGE_SHARES },
  { "net_cls.classid", MERGE_CLASSID },
};

#define CGROUPS_MIN_SHARES 2
#define CGROUPS_MAX_VALUE 4096

typedef struct {
  char *setting;
  char *value;   /* what is written */
  guint64 number; /* for MERGE_SIZE and MERGE_SHARES */
  char *origin;  /* "capability 'X' (file) item N" that gave the value */
} CgroupsSetting;

/* Both the state and a change: the settings in the order of their first appearance. */
typedef struct {
  GPtrArray *settings;     /* CgroupsSetting * */
  ScCgroupWrites *written; /* change only: set by apply, for revert */
} CgroupsSet;

static void
cgroups_setting_free (gpointer data)
{
  CgroupsSetting *s = data;

  g_free (s->setting);
  g_free (s->value);
  g_free (s->origin);
  g_free (s);
}

static gpointer
cgroups_set_new (void)
{
  CgroupsSet *set = g_new0 (CgroupsSet, 1);

  set->settings = g_ptr_array_new_with_free_func (cgroups_setting_free);
  return set;
}

static void
cgroups_set_free (gpointer data)
{
  CgroupsSet *set = data;

  if (set == NULL)
    return;
  g_ptr_array_unref (set->settings);
  g_clear_pointer (&set->written, sc_cgroup_writes_free);
  g_free (set);
}

typedef CgroupsSet CgroupsChange;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CgroupsChange, cgroups_set_free)

static MergeRule
cgroups_rule (const char *setting)
{
  for (guint i = 0; i < G_N_ELEMENTS (cgroups_rules); i++)
    if (strcmp (setting, cgroups_rules[i].setting) == 0)
      return cgroups_rules[i].rule;
  return MERGE_LAST;
}

/* "<controller>.<key>" of [a-z0-9_.], at most NAME_MAX long, no "..", not ending in '.', and
 * not a controller the agent keeps for itself. */
static gboolean
cgroups_check_setting (const char *setting, const char *where, GError **error)
{
  const char *dot = strchr (setting, '.');
  gsize len = strlen (setting);
  g_autofree char *escaped = g_strescape (setting, NULL);

  if (len > 255 || strspn (setting, "abcdefghijklmnopqrstuvwxyz0123456789_.") != len
      || dot == NULL || dot == setting || setting[len - 1] == '.'
      || strstr (setting, "..") != NULL)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                   "%s: 'setting' must be \"<controller>.<key>\" of lower-case letters, digits, "
                   "'_' and '.', such as \"memory.limit_in_bytes\", not '%s'",
                   where, escaped);
      return FALSE;
    }
  for (guint i = 0; i < G_N_ELEMENTS (cgroups_refused_controllers); i++)
    {
      const char *c = cgroups_refused_controllers[i];
      if (strncmp (setting, c, strlen (c)) == 0 && setting[strlen (c)] == '.')
        {
          g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                       "%s: setting '%s': the %s controller is not configurable through the "
                       "cgroups gateway%s",
                       where, setting, c,
                       strcmp (c, "devices") == 0 ? " (device access is the devicenode gateway's)"
                                                  : "");
          return FALSE;
        }
    }
  return TRUE;
}

/* A size: decimal digits with an optional k/K/m/M/g/G suffix (powers of 1024), range-checked
 * to 2^63 - 1 bytes. */
static gboolean
cgroups_parse_size (const char *setting, const char *value, const char *where, guint64 *out,
                    GError **error)
{
  guint64 n = 0, unit = 1;
  const char *p = value;

  for (; g_ascii_isdigit (*p); p++)
    {
      if (n > (G_MAXINT64 - (guint64) (*p - '0')) / 10)
        goto too_large;
      n = n * 10 + (guint64) (*p - '0');
    }
  if (p == value)
    goto bad;
  switch (*p)
    {
    case '\0':
      break;
    case 'k':
    case 'K':
      unit = G_GUINT64_CONSTANT (1) << 10;
      p++;
      break;
    case 'm':
    case 'M':
      unit = G_GUINT64_CONSTANT (1) << 20;
      p++;
      break;
    case 'g':
    case 'G':
      unit = G_GUINT64_CONSTANT (1) << 30;
      p++;
      break;
    default:
      goto bad;
    }
  if (*p != '\0')
    goto bad;
  if (n > G_MAXINT64 / unit)
    goto too_large;
  *out = n * unit;
  return TRUE;

bad:
  g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
               "%s: %s: '%s' is not a size (decimal bytes, optionally with a k, m or g suffix)",
               where, setting, value);
  return FALSE;
too_large:
  g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
               "%s: %s: '%s' is too large (at most %" G_GINT64_FORMAT " bytes)", where, setting,
               value, G_MAXINT64);
  return FALSE;
}

static gboolean
cgroups_parse_shares (const char *setting, const char *value, const char *where, guint64 *out,
                      GError **error)
{
  gsize len = strlen (value);

  if (strspn (value, "0123456789") != len || len > 9)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                   "%s: %s: '%s' is not a number from %d to %d", where, setting, value,
                   CGROUPS_MIN_SHARES, SC_CGROUP_MAX_SHARES);
      return FALSE;
    }
  *out = g_ascii_strtoull (value, NULL, 10);
  if (*out < CGROUPS_MIN_SHARES || *out > SC_CGROUP_MAX_SHARES)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                   "%s: %s: %s is out of range: it must be at least %d and at most %d", where,
                   setting, value, CGROUPS_MIN_SHARES, SC_CGROUP_MAX_SHARES);
      return FALSE;
    }
  return TRUE;
}

/* "0x" then 1 to 8 hex digits: a 32-bit "major:minor" tc handle. */
static gboolean
cgroups_parse_classid (const char *setting, const char *value, const char *where, guint64 *out,
                       GError **error)
{
  const char *digits = value + 2;
  gsize n = strlen (digits);

  if ((strncmp (value, "0x", 2) != 0 && strncmp (value, "0X", 2) != 0) || n == 0 || n > 8
      || strspn (digits, "0123456789abcdefABCDEF") != n)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                   "%s: %s: '%s' is not a class id of the form 0xAAAABBBB (\"0x\" and 1 to 8 hex "
                   "digits: major AAAA, minor BBBB)",
                   where, setting, value);
      return FALSE;
    }
  *out = g_ascii_strtoull (digits, NULL, 16);
  return TRUE;
}

static gboolean
cgroups_parse_value (CgroupsSetting *s, const char *value, const char *where, GError **error)
{
  switch (cgroups_rule (s->setting))
    {
    case MERGE_SIZE:
      if (!cgroups_parse_size (s->setting, value, where, &s->number, error))
        return FALSE;
      s->value = g_strdup_printf ("%" G_GUINT64_FORMAT, s->number);
      return TRUE;
    case MERGE_SHARES:
      if (!cgroups_parse_shares (s->setting, value, where, &s->number, error))
        return FALSE;
      s->value = g_strdup_printf ("%" G_GUINT64_FORMAT, s->number);
      return TRUE;
    case MERGE_CLASSID:
      if (!cgroups_parse_classid (s->setting, value, where, &s->number, error))
        return FALSE;
      s->value = g_strdup_printf ("%" G_GUINT64_FORMAT, s->number);
      return TRUE;
    case MERGE_LAST:
    default:
      if (strlen (value) > CGROUPS_MAX_VALUE || strchr (value, '\n') != NULL)
        {
          g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                       "%s: %s: the value must be one line of at most %d bytes", where,
                       s->setting, CGROUPS_MAX_VALUE);
          return FALSE;
        }
      s->value = g_strdup (value);
      return TRUE;
    }
}

static CgroupsSetting *
cgroups_parse_item (JsonObject *item, const char *where, GError **error)
{
  const char *setting = NULL, *value = NULL;
  CgroupsSetting *s = NULL;

  if (!sc_gateway_item_string (item, "setting", TRUE, TRUE, where, &setting, error)
      || !sc_gateway_item_string (item, "value", TRUE, TRUE, where, &value, error)
      || !cgroups_check_setting (setting, where, error))
    return NULL;
  s = g_new0 (CgroupsSetting, 1);
  s->setting = g_strdup (setting);
  s->origin = g_strdup (where);
  if (!cgroups_parse_value (s, value, where, error))
    {
      cgroups_setting_free (s);
      return NULL;
    }
  return s;
}

/* Merges a checked setting into the change; by_name indexes the change's settings. Takes s. */
static void
cgroups_merge (CgroupsSet *change, GHashTable *by_name, CgroupsSetting *s)
{
  CgroupsSetting *earlier = g_hash_table_lookup (by_name, s->setting);
  MergeRule rule = cgroups_rule (s->setting);

  if (earlier == NULL)
    {
      g_ptr_array_add (change->settings, s);
      g_hash_table_insert (by_name, s->setting, s);
      return;
    }
  if ((rule == MERGE_SIZE || rule == MERGE_SHARES) && s->number <= earlier->number)
    {
      cgroups_setting_free (s);
      return;
    }
  /* the new value wins: it takes the place of the earlier one, keeping its position */
  g_free (earlier->value);
  g_free (earlier->origin);
  earlier->value = g_steal_pointer (&s->value);
  earlier->origin = g_steal_pointer (&s->origin);
  earlier->number = s->number;
  cgroups_setting_free (s);
}

/* gateway.c configures cgroups once per container, so the state holds nothing here. */
typedef struct {
  CgroupsSet *change;
  GHashTable *by_name;
} CgroupsMerge;

static gboolean
cgroups_merge_item (JsonObject *item, const char *where, gpointer data, GError **error)
{
  CgroupsMerge *m = data;
  CgroupsSetting *s = cgroups_parse_item (item, where, error);

  if (s == NULL)
    return FALSE;
  cgroups_merge (m->change, m->by_name, s);
  return TRUE;
}

static gpointer
cgroups_prepare (gpointer state, GPtrArray *configs, GError **error)
{
  g_autoptr (CgroupsChange) change = cgroups_set_new ();
  g_autoptr (GHashTable) by_name = g_hash_table_new (g_str_hash, g_str_equal);
  const CgroupsSetting *limit = NULL, *memsw = NULL;
  CgroupsMerge merge;

  merge = (CgroupsMerge){ change, by_name };
  if (!sc_gateway_config_foreach_item (configs, "cgroups", cgroups_item_keys, cgroups_merge_item,
                                       &merge, error))
    return NULL;
  limit = g_hash_table_lookup (by_name, "memory.limit_in_bytes");
  memsw = g_hash_table_lookup (by_name, "memory.memsw.limit_in_bytes");
  if (limit != NULL && memsw != NULL && memsw->number < limit->number)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                   "memory.memsw.limit_in_bytes (%" G_GUINT64_FORMAT " bytes, from %s) is lower "
                   "than memory.limit_in_bytes (%" G_GUINT64_FORMAT " bytes, from %s): memory "
                   "plus swap cannot be less than memory",
                   memsw->number, memsw->origin, limit->number, limit->origin);
      return NULL;
    }
  return g_steal_pointer (&change);
}

static gboolean
cgroups_apply (gpointer state, gpointer data, const ScGatewayContext *ctx, GError **error)
{
  CgroupsSet *change = data;
  guint n = change->settings->len;
  g_autofree const char **settings = g_new0 (const char *, n + 1);
  g_autofree const char **values = g_new0 (const char *, n + 1);
  g_autoptr (GError) local_error = NULL;

  for (guint i = 0; i < n; i++)
    {
      const CgroupsSetting *s = g_ptr_array_index (change->settings, i);
      settings[i] = s->setting;
      values[i] = s->value;
    }
  change->written = sc_cgroups_write_settings_full (ctx->cgroups, settings, values, n,
                                                   ctx->undo_failed, &local_error);
  if (change->written == NULL)
    {
      const char *origin = NULL;

      /* cgroup.c names the setting first: say where it came from too */
      for (guint i = 0; i < n && origin == NULL; i++)
        {
          const CgroupsSetting *s = g_ptr_array_index (change->settings, i);
          gsize len = strlen (s->setting);

          if (strncmp (local_error->message, s->setting, len) == 0
              && local_error->message[len] == ':')
            origin = s->origin;
        }
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_FAILED, "%s%s%s",
                   origin != NULL ? origin : "", origin != NULL ? ": " : "",
                   local_error->message);
      return FALSE;
    }
  return TRUE;
}

static void
cgroups_revert (gpointer state, gpointer data, const ScGatewayContext *ctx)
{
  CgroupsSet *change = data;
  g_autoptr (GError) local_error = NULL;

  if (change->written == NULL)
    return;
  if (!sc_cgroup_writes_undo (change->written, &local_error))
    sc_gateway_report_undo_failure (ctx, "cgroups", local_error);
  g_clear_pointer (&change->written, sc_cgroup_writes_free);
}

static void
cgroups_commit (gpointer data, gpointer change_data)
{
  CgroupsSet *state = data;
  CgroupsSet *change = change_data;

  for (guint i = 0; i < change->settings->len; i++)
    {
      const CgroupsSetting *s = g_ptr_array_index (change->settings, i);
      g_debug ("cgroups gateway: %s = %s (%s)", s->setting, s->value, s->origin);
    }
  g_ptr_array_extend_and_steal (state->settings, g_steal_pointer (&change->settings));
  change->settings = g_ptr_array_new_with_free_func (cgroups_setting_free);
  g_clear_pointer (&change->written, sc_cgroup_writes_free);
}

const ScGatewayOps sc_cgroups_gateway = {
  .id = "cgroups",
  .dynamic = FALSE,
  .state_new = cgroups_set_new,
  .state_free = cgroups_set_free,
  .prepare = cgroups_prepare,
  .apply = cgroups_apply,
  .revert = cgroups_revert,
  .commit = cgroups_commit,
  .change_free = cgroups_set_free,
  .teardown = NULL,
  .environment = NULL,
};
