/* The network gateway: the container's address, default route and firewall.
 *
 * Every container is created with a veth pair on the agent's bridge (container.c; the host end
 * is sceth<id>), whose inner end is eth0, down. Until this gateway is configured the container
 * has loopback only. Configuring it (once per container: the app's sandbox is not widened
 * after it started) does, inside the container's network namespace, from a short-lived thread
 * of the agent (netdev.h), in this order so that no packet passes before the rules are in:
 *   1. IPv6 off on eth0 (the rules are IPv4 only; a link-local IPv6 address would bypass them),
 *      and net.ipv4.ping_group_range opened to every group, so that ping works through ICMP
 *      datagram sockets without CAP_NET_RAW;
 *   2. the filter table replaced in one libiptc commit: policy DROP on INPUT, FORWARD and
 *      OUTPUT, replies to allowed traffic and loopback accepted, then the config's rules
 *      (network-rules.h);
 *   3. eth0 gets its address (chosen from the container ID, never one another live container
 *      has, never the bridge's) and comes up, with a default route via the bridge.
 * A failure undoes the steps done, in reverse. Hostnames are resolved on the agent's side (its
 * resolver, /etc/hosts first) when the config is applied; every IPv4 address counts.
 *
 * Trusts the configs for nothing (network-rules.c checks them). The app cannot undo any of
 * this: the container holds neither CAP_NET_ADMIN (rules, addresses, links, sysctls) nor
 * CAP_NET_RAW (packet sockets would bypass the rules), and /proc/sys is read-only inside.
 *
 * Teardown releases the address; the veth pair goes with the container's network namespace
 * when LXC stops it (LXC deletes the host end as well), the rules with the namespace. */
#include "gateway.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "bridge.h"
#include "error.h"
#include "netdev.h"
#include "netfilter.h"
#include "network-rules.h"

#define NET_IFACE "eth0"
#define NET_PING_GROUPS "0 2147483647"
/* rules shown one per line in the debug log, at most */
#define NET_LOG_RULES 200

/* Addresses of the containers whose network is configured (GUINT_TO_POINTER (host order)).
 * Only the worker thread applies and tears down gateways. */
static GHashTable *addresses_in_use;

typedef struct {
  GPtrArray *allows; /* ScNetAllow *: the config applied */
  guint32 address;   /* the container's address, 0 until configured */
} NetState;

typedef struct {
  GPtrArray *allows; /* ScNetAllow * of this call */
  guint32 address;   /* set by apply */
  char *old_ping_groups;
  char *old_disable_ipv6;
} NetChange;

static gpointer
net_state_new (void)
{
  NetState *state = g_new0 (NetState, 1);

  state->allows = g_ptr_array_new_with_free_func (sc_net_allow_free);
  return state;
}

static void
net_state_free (gpointer data)
{
  NetState *state = data;

  if (state == NULL)
    return;
  g_ptr_array_unref (state->allows);
  g_free (state);
}

static void
net_change_free (gpointer data)
{
  NetChange *change = data;

  if (change == NULL)
    return;
  g_ptr_array_unref (change->allows);
  g_free (change->old_ping_groups);
  g_free (change->old_disable_ipv6);
  g_free (change);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NetChange, net_change_free)

static gpointer
net_prepare (gpointer state, GPtrArray *configs, GError **error)
{
  g_autoptr (NetChange) change = g_new0 (NetChange, 1);

  change->allows = g_ptr_array_new_with_free_func (sc_net_allow_free);
  for (guint i = 0; i < configs->len; i++)
    {
      const ScGatewayConfig *config = g_ptr_array_index (configs, i);
      g_autofree char *where = sc_gateway_config_describe (config);

      if (!sc_net_parse_config (config->config, where, change->allows, error))
        return NULL;
    }
  return g_steal_pointer (&change);
}

/* ---- hostnames ----------------------------------------------------------------------------- */

static GArray *
resolve_cb (const char *name, gpointer data, GError **error)
{
  struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM };
  struct addrinfo *result = NULL;
  g_autoptr (GArray) addresses = g_array_new (FALSE, FALSE, sizeof (guint32));
  g_autoptr (GHashTable) seen = g_hash_table_new (g_direct_hash, g_direct_equal);
  int r = getaddrinfo (name, NULL, &hints, &result);

  if (r == EAI_NONAME || r == EAI_NODATA || r == EAI_ADDRFAMILY)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                   "host '%s' has no IPv4 address (%s)", name, gai_strerror (r));
      return NULL;
    }
  if (r != 0)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_FAILED, "cannot resolve host '%s': %s",
                   name, r == EAI_SYSTEM ? g_strerror (errno) : gai_strerror (r));
      return NULL;
    }
  for (struct addrinfo *ai = result; ai != NULL; ai = ai->ai_next)
    {
      guint32 addr = ntohl (((struct sockaddr_in *) ai->ai_addr)->sin_addr.s_addr);

      if (ai->ai_family != AF_INET || g_hash_table_contains (seen, GUINT_TO_POINTER (addr)))
        continue;
      g_hash_table_add (seen, GUINT_TO_POINTER (addr));
      g_array_append_val (addresses, addr);
    }
  freeaddrinfo (result);
  if (addresses->len == 0)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG, "host '%s' has no IPv4 address",
                   name);
      return NULL;
    }
  return g_steal_pointer (&addresses);
}

/* ---- inside the container's network namespace ---------------------------------------------- */

typedef enum {
  STEP_NONE,
  STEP_IPV6,
  STEP_PING,
  STEP_RULES,
  STEP_ADDRESS,
  STEP_UP,
  STEP_ROUTE,
} NetStep;

typedef struct {
  /* in */
  GPtrArray *rules; /* ScIptRule * */
  guint32 address, gateway;
  int prefix;
  /* out */
  NetStep done;
  char *old_ping_groups;
  char *old_disable_ipv6;
  double commit_ms;
  GError *undo_error; /* the first step that could not be undone */
} NetJob;

/* Undo goes on past failures; the first one is kept for the caller to report. */
static void
undo_failed (NetJob *job, GError **e)
{
  if (*e == NULL)
    return;
  g_warning ("undoing the network setup: %s", (*e)->message);
  if (job->undo_error == NULL)
    job->undo_error = g_steal_pointer (e);
  g_clear_error (e);
}

static void
undo_steps (NetJob *job, ScNlSock *sk, int ifindex)
{
  g_autoptr (GPtrArray) none = g_ptr_array_new ();
  g_autoptr (GError) e = NULL;

  /* in reverse; the route goes with the address and the link */
  if (job->done >= STEP_UP && !sc_netdev_set_up (sk, NET_IFACE, FALSE, &e))
    undo_failed (job, &e);
  if (job->done >= STEP_ADDRESS
      && !sc_netdev_del_address (sk, ifindex, job->address, job->prefix, &e))
    undo_failed (job, &e);
  if (job->done >= STEP_RULES && !sc_ipt_filter_replace (none, "ACCEPT", &e))
    undo_failed (job, &e);
  if (job->done >= STEP_PING && job->old_ping_groups != NULL
      && !sc_sysctl_write ("net/ipv4/ping_group_range", job->old_ping_groups, NULL, &e))
    undo_failed (job, &e);
  if (job->done >= STEP_IPV6 && job->old_disable_ipv6 != NULL
      && !sc_sysctl_write ("net/ipv6/conf/" NET_IFACE "/disable_ipv6", job->old_disable_ipv6,
                           NULL, &e))
    undo_failed (job, &e);
  job->done = STEP_NONE;
}

static gboolean
configure_in_ns_cb (gpointer data, GError **error)
{
  NetJob *job = data;
  g_autoptr (ScNlSock) sk = sc_netdev_open (error);
  g_autoptr (GError) ipv6_error = NULL;
  ScNetdevInfo info;
  gint64 start;

  if (sk == NULL || !sc_netdev_lookup (sk, NET_IFACE, &info, error))
    return FALSE;
  if (info.ifindex == 0)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_SYSTEM,
                   "the container has no %s (was the agent's bridge missing when it was created?)",
                   NET_IFACE);
      return FALSE;
    }
  /* a kernel without IPv6 has no such file, and then nothing to turn off */
  if (sc_sysctl_write ("net/ipv6/conf/" NET_IFACE "/disable_ipv6", "1", &job->old_disable_ipv6,
                       &ipv6_error))
    job->done = STEP_IPV6;
  else if (!g_file_test ("/proc/sys/net/ipv6", G_FILE_TEST_IS_DIR))
    g_debug ("no IPv6 in this kernel: %s", ipv6_error->message);
  else
    {
      g_propagate_error (error, g_steal_pointer (&ipv6_error));
      return FALSE;
    }
  if (!sc_sysctl_write ("net/ipv4/ping_group_range", NET_PING_GROUPS, &job->old_ping_groups,
                        error))
    goto fail;
  job->done = STEP_PING;
  start = g_get_monotonic_time ();
  if (!sc_ipt_filter_replace (job->rules, "DROP", error))
    goto fail;
  job->commit_ms = (double) (g_get_monotonic_time () - start) / 1000.0;
  job->done = STEP_RULES;
  if (!sc_netdev_add_address (sk, info.ifindex, job->address, job->prefix, error))
    goto fail;
  job->done = STEP_ADDRESS;
  if (!sc_netdev_set_up (sk, NET_IFACE, TRUE, error))
    goto fail;
  job->done = STEP_UP;
  if (!sc_netdev_add_default_route (sk, info.ifindex, job->gateway, error))
    goto fail;
  job->done = STEP_ROUTE;
  return TRUE;

fail:
  undo_steps (job, sk, info.ifindex);
  return FALSE;
}

static gboolean
unconfigure_in_ns_cb (gpointer data, GError **error)
{
  NetJob *job = data;
  g_autoptr (ScNlSock) sk = sc_netdev_open (error);
  ScNetdevInfo info;

  if (sk == NULL || !sc_netdev_lookup (sk, NET_IFACE, &info, error))
    return FALSE;
  job->done = STEP_ROUTE;
  undo_steps (job, sk, info.ifindex);
  return TRUE;
}

/* ---- the ops ------------------------------------------------------------------------------- */

static void
log_rules (int id, GPtrArray *rules)
{
  for (guint i = 0; i < rules->len && i < NET_LOG_RULES; i++)
    {
      g_autofree char *text = sc_ipt_rule_format (g_ptr_array_index (rules, i));
      g_debug ("container %d: firewall: %s", id, text);
    }
  if (rules->len > NET_LOG_RULES)
    g_debug ("container %d: firewall: ... and %u more rules", id, rules->len - NET_LOG_RULES);
}

static gboolean
net_apply (gpointer state, gpointer change_data, const ScGatewayContext *ctx, GError **error)
{
  NetChange *change = change_data;
  const ScBridge *bridge = sc_bridge_get ();
  g_autoptr (GPtrArray) rules = NULL;
  g_autofree char *addr_text = NULL;
  g_autofree char *net_text = NULL;
  g_autofree char *gw_text = NULL;
  NetJob job = { 0 };
  gboolean ok;

  if (bridge == NULL)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_FAILED,
                   "the agent has set up no network bridge");
      return FALSE;
    }
  if (addresses_in_use == NULL)
    addresses_in_use = g_hash_table_new (g_direct_hash, g_direct_equal);
  net_text = sc_ipv4_to_string (bridge->netaddr);
  job.address = sc_net_pick_address (bridge->netaddr, bridge->prefix, bridge->ip,
                                     ctx->container_id, addresses_in_use);
  if (job.address == 0)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_FAILED,
                   "no free address left for container %d in the containers' network %s/%d "
                   "(%u containers have one; bridge-netmask-bitlength sets the network's size)",
                   ctx->container_id, net_text, bridge->prefix,
                   g_hash_table_size (addresses_in_use));
      return FALSE;
    }
  rules = sc_net_build_rules (change->allows, resolve_cb, NULL, error);
  if (rules == NULL)
    return FALSE;

  job.rules = rules;
  job.gateway = bridge->ip;
  job.prefix = bridge->prefix;
  ok = sc_netns_run (ctx->init_pidfd, configure_in_ns_cb, &job, error);
  change->old_ping_groups = g_steal_pointer (&job.old_ping_groups);
  change->old_disable_ipv6 = g_steal_pointer (&job.old_disable_ipv6);
  if (job.undo_error != NULL)
    {
      sc_gateway_report_undo_failure (ctx, "network", job.undo_error);
      g_clear_error (&job.undo_error);
    }
  if (!ok)
    return FALSE;

  change->address = job.address;
  g_hash_table_add (addresses_in_use, GUINT_TO_POINTER (job.address));
  addr_text = sc_ipv4_to_string (job.address);
  gw_text = sc_ipv4_to_string (bridge->ip);
  log_rules (ctx->container_id, rules);
  g_debug ("container %d: network: %s %s/%d up, default route via %s; %u firewall rules in one "
           "commit (%.2f ms)",
           ctx->container_id, NET_IFACE, addr_text, bridge->prefix, gw_text, rules->len,
           job.commit_ms);
  return TRUE;
}

static void
net_revert (gpointer state, gpointer change_data, const ScGatewayContext *ctx)
{
  NetChange *change = change_data;
  const ScBridge *bridge = sc_bridge_get ();
  g_autoptr (GError) error = NULL;
  NetJob job = { 0 };

  if (change->address == 0 || bridge == NULL)
    return;
  job.address = change->address;
  job.prefix = bridge->prefix;
  job.old_ping_groups = change->old_ping_groups;
  job.old_disable_ipv6 = change->old_disable_ipv6;
  if (!sc_netns_run (ctx->init_pidfd, unconfigure_in_ns_cb, &job, &error))
    sc_gateway_report_undo_failure (ctx, "network", error);
  else if (job.undo_error != NULL)
    sc_gateway_report_undo_failure (ctx, "network", job.undo_error);
  g_clear_error (&job.undo_error);
  g_hash_table_remove (addresses_in_use, GUINT_TO_POINTER (change->address));
  change->address = 0;
}

static void
net_commit (gpointer state_data, gpointer change_data)
{
  NetState *state = state_data;
  NetChange *change = change_data;

  while (change->allows->len > 0)
    g_ptr_array_add (state->allows, g_ptr_array_steal_index (change->allows, 0));
  state->address = change->address;
}

static gboolean
net_teardown (gpointer state_data, const ScGatewayContext *ctx, GError **error)
{
  NetState *state = state_data;

  /* the rules and eth0 go with the container's network namespace */
  if (state->address != 0 && addresses_in_use != NULL)
    g_hash_table_remove (addresses_in_use, GUINT_TO_POINTER (state->address));
  state->address = 0;
  return TRUE;
}

const ScGatewayOps sc_network_gateway = {
  .id = "network",
  .dynamic = FALSE,
  .state_new = net_state_new,
  .state_free = net_state_free,
  .prepare = net_prepare,
  .apply = net_apply,
  .revert = net_revert,
  .commit = net_commit,
  .change_free = net_change_free,
  .teardown = net_teardown,
  .environment = NULL,
};
