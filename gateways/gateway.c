/* The list of gateways in this build and the all-or-nothing transaction of SetCapabilities.
 *
 * Trusts the ops tables of the gateways; trusts nothing in the configs (the gateways check them
 * in prepare before anything changes). Runs on the agent's worker thread, one call at a time. */
#include "gateway.h"

#include "error.h"

/* Every gateway the project knows, built or not, so that a capability naming one that this
 * build left out gets a message saying so rather than "no such gateway". */
static const char *const known_gateway_ids[] = {
  "cgroups", "devicenode", "network", "file", "dbus", "wayland", "pulseaudio", "env",
};

/* Application order: limits and devices before mounts and services; env last because it only
 * records variables. Teardown runs in reverse. */
static const ScGatewayOps *const built_gateways[] = {
#ifdef SC_ENABLE_CGROUPS_GATEWAY
  &sc_cgroups_gateway,
#endif
#ifdef SC_ENABLE_DEVICENODE_GATEWAY
  &sc_devicenode_gateway,
#endif
#ifdef SC_ENABLE_NETWORK_GATEWAY
  &sc_network_gateway,
#endif
#ifdef SC_ENABLE_FILE_GATEWAY
  &sc_file_gateway,
#endif
#ifdef SC_ENABLE_DBUS_GATEWAY
  &sc_dbus_gateway,
#endif
#ifdef SC_ENABLE_WAYLAND_GATEWAY
  &sc_wayland_gateway,
#endif
#ifdef SC_ENABLE_PULSEAUDIO_GATEWAY
  &sc_pulseaudio_gateway,
#endif
#ifdef SC_ENABLE_ENV_GATEWAY
  &sc_env_gateway,
#endif
  NULL,
};

#define N_BUILT (G_N_ELEMENTS (built_gateways) - 1)

struct ScGatewaySet {
  gpointer state[N_BUILT + 1];
  gboolean configured[N_BUILT + 1];
};

void
sc_gateway_report_undo_failure (const ScGatewayContext *ctx, const char *gateway_id,
                                const GError *error)
{
  g_warning ("container %d: gateway '%s' could not undo its work: %s", ctx->container_id,
             gateway_id, error != NULL ? error->message : "unknown reason");
  if (ctx->undo_failed != NULL)
    *ctx->undo_failed = TRUE;
}

char *
sc_gateway_config_describe (const ScGatewayConfig *config)
{
  return g_strdup_printf ("capability '%s' (file %s)", config->capability, config->origin);
}

const ScGatewayOps *const *
sc_gateways (guint *n_gateways)
{
  *n_gateways = N_BUILT;
  return built_gateways;
}

static int
gateway_index (const char *id)
{
  for (guint i = 0; i < N_BUILT; i++)
    if (g_strcmp0 (built_gateways[i]->id, id) == 0)
      return (int) i;
  return -1;
}

const ScGatewayOps *
sc_gateway_find (const char *id, GError **error)
{
  int i = gateway_index (id);

  if (i >= 0)
    return built_gateways[i];
  for (guint k = 0; k < G_N_ELEMENTS (known_gateway_ids); k++)
    if (g_strcmp0 (known_gateway_ids[k], id) == 0)
      {
        g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                     "gateway '%s' is not included in this build of the agent", id);
        return NULL;
      }
  g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG, "there is no gateway with id '%s'", id);
  return NULL;
}

ScGatewaySet *
sc_gateway_set_new (void)
{
  ScGatewaySet *set = g_new0 (ScGatewaySet, 1);

  for (guint i = 0; i < N_BUILT; i++)
    set->state[i] = built_gateways[i]->state_new ();
  return set;
}

void
sc_gateway_set_free (ScGatewaySet *set)
{
  if (set == NULL)
    return;
  for (guint i = 0; i < N_BUILT; i++)
    built_gateways[i]->state_free (set->state[i]);
  g_free (set);
}

/* The work of one SetCapabilities call: each gateway's configs and its prepared change. */
typedef struct {
  GPtrArray *configs[N_BUILT + 1];
  gpointer changes[N_BUILT + 1];
} Transaction;

static void
transaction_clear (Transaction *t)
{
  for (guint i = 0; i < N_BUILT; i++)
    {
      if (t->changes[i] != NULL)
        built_gateways[i]->change_free (t->changes[i]);
      if (t->configs[i] != NULL)
        g_ptr_array_unref (t->configs[i]);
    }
}

gboolean
sc_gateway_set_apply (ScGatewaySet *set, GPtrArray *configs, const ScGatewayContext *ctx,
                      GError **error)
{
  __attribute__ ((cleanup (transaction_clear))) Transaction t = { 0 };
  guint applied = 0;

  /* Sort the configs by gateway, keeping their order; refuse unknown and once-only gateways
   * before any gateway looks at its configs. */
  for (guint k = 0; k < configs->len; k++)
    {
      const ScGatewayConfig *config = g_ptr_array_index (configs, k);
      int i = gateway_index (config->gateway_id);

      if (i < 0)
        {
          g_autofree char *where = sc_gateway_config_describe (config);
          sc_gateway_find (config->gateway_id, error);
          g_prefix_error (error, "%s: ", where);
          return FALSE;
        }
      if (set->configured[i] && !built_gateways[i]->dynamic)
        {
          g_autofree char *where = sc_gateway_config_describe (config);
          g_set_error (error, SC_ERROR, SC_ERROR_BAD_STATE,
                       "gateway '%s' is configured already and takes configuration only once "
                       "per container (%s)",
                       built_gateways[i]->id, where);
          return FALSE;
        }
      if (t.configs[i] == NULL)
        t.configs[i] = g_ptr_array_new ();
      g_ptr_array_add (t.configs[i], (gpointer) config);
    }

  for (guint i = 0; i < N_BUILT; i++)
    {
      if (t.configs[i] == NULL)
        continue;
      t.changes[i] = built_gateways[i]->prepare (set->state[i], t.configs[i], error);
      if (t.changes[i] == NULL)
        {
          g_prefix_error (error, "gateway '%s': ", built_gateways[i]->id);
          return FALSE;
        }
    }

  for (; applied < N_BUILT; applied++)
    {
      const ScGatewayOps *ops = built_gateways[applied];

      if (t.changes[applied] == NULL || ops->apply == NULL)
        continue;
      if (!ops->apply (set->state[applied], t.changes[applied], ctx, error))
        {
          /* A config that parsed but could not be applied is the gateway's failure on this
           * host (SetCapabilities' "Gateway error"), whatever went wrong underneath. */
          if (error != NULL && *error != NULL
              && !g_error_matches (*error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG)
              && !g_error_matches (*error, SC_ERROR, SC_ERROR_BAD_STATE))
            {
              (*error)->domain = SC_ERROR;
              (*error)->code = SC_ERROR_GATEWAY_FAILED;
            }
          g_prefix_error (error, "gateway '%s': ", ops->id);
          while (applied-- > 0)
            if (t.changes[applied] != NULL && built_gateways[applied]->revert != NULL)
              built_gateways[applied]->revert (set->state[applied], t.changes[applied], ctx);
          return FALSE;
        }
      g_debug ("container %d: gateway '%s' applied %u config(s)", ctx->container_id, ops->id,
               t.configs[applied]->len);
    }

  for (guint i = 0; i < N_BUILT; i++)
    if (t.changes[i] != NULL)
      {
        built_gateways[i]->commit (set->state[i], t.changes[i]);
        set->configured[i] = TRUE;
      }
  return TRUE;
}

gboolean
sc_gateway_set_teardown (ScGatewaySet *set, const ScGatewayContext *ctx, GError **error)
{
  gboolean ok = TRUE;

  for (guint i = N_BUILT; i-- > 0;)
    {
      g_autoptr (GError) local_error = NULL;
      const ScGatewayOps *ops = built_gateways[i];

      if (!set->configured[i] || ops->teardown == NULL)
        continue;
      if (!ops->teardown (set->state[i], ctx, &local_error))
        {
          g_warning ("container %d: gateway '%s' teardown: %s", ctx->container_id, ops->id,
                     local_error->message);
          if (ok)
            {
              g_propagate_prefixed_error (error, g_steal_pointer (&local_error), "gateway '%s': ",
                                          ops->id);
              ok = FALSE;
            }
        }
    }
  return ok;
}

void
sc_gateway_set_environment (ScGatewaySet *set, GHashTable *env)
{
  for (guint i = 0; i < N_BUILT; i++)
    if (set->configured[i] && built_gateways[i]->environment != NULL)
      built_gateways[i]->environment (set->state[i], env);
}
