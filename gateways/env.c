/* The env gateway: environment variables that every Execute'd process of a container starts with.
 *
 * Items: {"name": S, "value": S, "mode": "set"|"append"|"prepend", "separator": S}. Trusts
 * nothing in the configs: every item is checked (strictly: an unknown key is refused, so that a
 * typo is not silently ignored) and all configs are merged before anything is kept. Nothing is
 * put on the host, so there is nothing to apply, revert or tear down; the merged variables
 * become the base environment of Execute, whose own env argument overrides them.
 *
 * Values are passed as they are: a process environment may hold any byte but NUL, and the JSON
 * parser of the agent (json.c) already refuses NUL. A name must not be empty and must not hold
 * '=' (it would end the name) or a newline; other characters are the integrator's business. */
#include "gateway.h"

#include <string.h>

#include "error.h"
#include "gateway-config.h"
#include "json.h"

typedef enum {
  ENV_MODE_SET,
  ENV_MODE_APPEND,
  ENV_MODE_PREPEND,
} EnvMode;

static const struct {
  const char *word;
  EnvMode mode;
} env_modes[] = {
  { "set", ENV_MODE_SET },
  { "append", ENV_MODE_APPEND },
  { "prepend", ENV_MODE_PREPEND },
};

static const char *const env_item_keys[] = { "name", "value", "mode", "separator", NULL };

typedef struct {
  char *name;
  char *value;
} EnvVar;

/* Both the state and a change: the variables in the order of their first definition. */
typedef struct {
  GPtrArray *vars; /* EnvVar * */
  guint n_vars;    /* vars->len, kept for debugging */
} EnvSet;

/* Where a variable got its current value during one prepare, for messages. */
typedef struct {
  EnvVar *var;  /* owned by the set being built */
  char *origin; /* "capability 'X' (file) item N", or NULL for a variable from the state */
} EnvDef;

static void
env_var_free (gpointer data)
{
  EnvVar *var = data;

  g_free (var->name);
  g_free (var->value);
  g_free (var);
}

static void
env_def_free (gpointer data)
{
  EnvDef *def = data;

  g_free (def->origin);
  g_free (def);
}

static EnvSet *
env_set_new (void)
{
  EnvSet *set = g_new0 (EnvSet, 1);

  set->vars = g_ptr_array_new_with_free_func (env_var_free);
  return set;
}

static void
env_set_free (gpointer data)
{
  EnvSet *set = data;

  if (set == NULL)
    return;
  g_ptr_array_unref (set->vars);
  g_free (set);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EnvSet, env_set_free)

static EnvVar *
env_set_add (EnvSet *set, const char *name, const char *value)
{
  EnvVar *var = g_new0 (EnvVar, 1);

  var->name = g_strdup (name);
  var->value = g_strdup (value);
  g_ptr_array_add (set->vars, var);
  set->n_vars = set->vars->len;
  return var;
}

/* Merges one item into the set being built; defs indexes its variables by name. */
/* What prepare merges into: the variables and, per name, the item that last defined it. */
typedef struct {
  EnvSet *set;
  GHashTable *defs;
} EnvMerge;

static gboolean
env_merge_item (JsonObject *item, const char *where, gpointer data, GError **error)
{
  EnvSet *set = ((EnvMerge *) data)->set;
  GHashTable *defs = ((EnvMerge *) data)->defs;
  const char *name = NULL, *value = NULL, *mode_word = NULL, *separator = NULL;
  EnvMode mode = ENV_MODE_SET;
  EnvDef *def = NULL;

  if (!sc_gateway_item_string (item, "name", TRUE, TRUE, where, &name, error)
      || !sc_gateway_item_string (item, "value", TRUE, TRUE, where, &value, error)
      || !sc_gateway_item_string (item, "mode", FALSE, FALSE, where, &mode_word, error)
      || !sc_gateway_item_string (item, "separator", FALSE, FALSE, where, &separator, error))
    return FALSE;
  if (strpbrk (name, "=\n") != NULL)
    {
      g_autofree char *escaped = g_strescape (name, NULL);
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                   "%s: 'name' must not contain '=' or a newline: '%s'", where, escaped);
      return FALSE;
    }
  if (mode_word != NULL)
    {
      guint k = 0;

      while (k < G_N_ELEMENTS (env_modes) && g_ascii_strcasecmp (mode_word, env_modes[k].word) != 0)
        k++;
      if (k == G_N_ELEMENTS (env_modes))
        {
          g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                       "%s: 'mode' must be \"set\", \"append\" or \"prepend\", not '%s'", where,
                       mode_word);
          return FALSE;
        }
      mode = env_modes[k].mode;
    }
  if (separator == NULL)
    separator = "";

  def = g_hash_table_lookup (defs, name);
  if (def == NULL)
    {
      /* append and prepend of a name without a value simply set it, without a separator */
      def = g_new0 (EnvDef, 1);
      def->var = env_set_add (set, name, value);
      def->origin = g_strdup (where);
      g_hash_table_insert (defs, def->var->name, def);
      return TRUE;
    }

  switch (mode)
    {
    case ENV_MODE_SET:
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                   "%s: sets '%s', which %s already gave a value (use mode \"append\" or "
                   "\"prepend\" to add to it)",
                   where, name, def->origin != NULL ? def->origin : "an earlier configuration");
      return FALSE;
    case ENV_MODE_APPEND:
      {
        char *joined = g_strconcat (def->var->value, separator, value, NULL);
        g_free (def->var->value);
        def->var->value = joined;
        break;
      }
    case ENV_MODE_PREPEND:
      {
        char *joined = g_strconcat (value, separator, def->var->value, NULL);
        g_free (def->var->value);
        def->var->value = joined;
        break;
      }
    }
  g_free (def->origin);
  def->origin = g_strdup (where);
  return TRUE;
}

static gpointer
env_state_new (void)
{
  return env_set_new ();
}

/* gateway.c configures env once per container, so the state is empty here; merging on top of it
 * all the same keeps the change a complete environment that commit can take as it is. */
static gpointer
env_prepare (gpointer state, GPtrArray *configs, GError **error)
{
  EnvSet *current = state;
  g_autoptr (EnvSet) change = env_set_new ();
  g_autoptr (GHashTable) defs = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, env_def_free);
  EnvMerge merge;

  for (guint i = 0; i < current->vars->len; i++)
    {
      const EnvVar *var = g_ptr_array_index (current->vars, i);
      EnvDef *def = g_new0 (EnvDef, 1);

      def->var = env_set_add (change, var->name, var->value);
      g_hash_table_insert (defs, def->var->name, def);
    }
  merge = (EnvMerge){ change, defs };
  if (!sc_gateway_config_foreach_item (configs, "env", env_item_keys, env_merge_item, &merge,
                                       error))
    return NULL;
  return g_steal_pointer (&change);
}

static void
env_commit (gpointer state, gpointer change)
{
  EnvSet *current = state;
  EnvSet *merged = change;
  GPtrArray *old = current->vars;

  /* the change holds the whole environment: swap it in, change_free drops the old one */
  current->vars = merged->vars;
  current->n_vars = merged->n_vars;
  merged->vars = old;
  merged->n_vars = old->len;
  for (guint i = 0; i < current->vars->len; i++)
    {
      const EnvVar *var = g_ptr_array_index (current->vars, i);
      g_debug ("env gateway: %s=%s", var->name, var->value);
    }
  g_debug ("env gateway: %u variable(s)", current->n_vars);
}

/* Replaces what an earlier gateway in the list put there: env comes last, and what the
 * integrator wrote explicitly wins. */
static void
env_environment (gpointer state, GHashTable *env)
{
  EnvSet *current = state;

  for (guint i = 0; i < current->vars->len; i++)
    {
      const EnvVar *var = g_ptr_array_index (current->vars, i);
      g_hash_table_replace (env, g_strdup (var->name), g_strdup (var->value));
    }
}

const ScGatewayOps sc_env_gateway = {
  .id = "env",
  .dynamic = FALSE,
  .state_new = env_state_new,
  .state_free = env_set_free,
  .prepare = env_prepare,
  .apply = NULL,
  .revert = NULL,
  .commit = env_commit,
  .change_free = env_set_free,
  .teardown = NULL,
  .environment = env_environment,
};
