/* The containers' bridge, NAT and forwarding at startup (see bridge.h).
 *
 * Trusts the administrator's config file for its values but checks that they agree with each
 * other before touching the host. Runs on the main thread, in the host's network namespace,
 * before the worker thread exists. Everything made here is platform-wide and is never removed
 * by the agent: the bridge may be shared with the platform, and a NAT rule removed at exit
 * would cut off containers of an agent restarted by systemd. The NAT rule is added only when
 * an identical one is not there yet, so restarts do not pile up duplicates. */
#include "bridge.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "error.h"
#include "netdev.h"
#include "netfilter.h"

static ScBridge current;
static gboolean current_set;

static guint32
parse_ipv4 (const char *text)
{
  struct in_addr a = { 0 };

  /* config.c has checked the dotted quads already */
  inet_pton (AF_INET, text, &a);
  return ntohl (a.s_addr);
}

void
sc_bridge_clear (ScBridge *bridge)
{
  g_clear_pointer (&bridge->device, g_free);
}

gboolean
sc_bridge_check_config (const ScConfig *config, ScBridge *out, GError **error)
{
  int prefix = config->bridge_netmask_bitlength;
  guint32 mask = prefix <= 0 ? 0 : 0xffffffffu << (32 - prefix);
  guint32 ip = parse_ipv4 (config->bridge_ip);
  guint32 netaddr = parse_ipv4 (config->bridge_netaddr);
  guint32 netmask = parse_ipv4 (config->bridge_netmask);
  g_autofree char *where = g_strdup_printf (
      "%s, group [" SC_CONFIG_GROUP "]",
      config->config_file != NULL ? config->config_file : "built-in defaults");
  g_autofree char *mask_text = sc_ipv4_to_string (mask);
  g_autofree char *net_text = sc_ipv4_to_string (netaddr & mask);

  *out = (ScBridge){ 0 };
  if (prefix < 1 || prefix > 30)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT,
                   "%s: bridge-netmask-bitlength %d is out of range (1 to 30)", where, prefix);
      return FALSE;
    }
  if (netmask != mask)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT,
                   "%s: bridge-netmask %s does not match bridge-netmask-bitlength %d (which is "
                   "netmask %s)",
                   where, config->bridge_netmask, prefix, mask_text);
      return FALSE;
    }
  if ((netaddr & ~mask) != 0)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT,
                   "%s: bridge-netaddr %s is not a network address for a /%d network (host bits "
                   "are set; the network would be %s)",
                   where, config->bridge_netaddr, prefix, net_text);
      return FALSE;
    }
  if ((ip & mask) != netaddr)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT,
                   "%s: bridge-ip %s is outside the containers' network %s/%d (bridge-netaddr, "
                   "bridge-netmask-bitlength)",
                   where, config->bridge_ip, config->bridge_netaddr, prefix);
      return FALSE;
    }
  if (ip == netaddr || ip == (netaddr | ~mask))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT,
                   "%s: bridge-ip %s is the %s address of the network %s/%d, not a host address",
                   where, config->bridge_ip, ip == netaddr ? "network" : "broadcast",
                   config->bridge_netaddr, prefix);
      return FALSE;
    }
  out->device = g_strdup (config->bridge_device);
  out->ip = ip;
  out->netaddr = netaddr;
  out->netmask = mask;
  out->prefix = prefix;
  out->create = config->create_bridge;
  return TRUE;
}

/* MASQUERADE for what leaves the containers' network: -s net/bits ! -d net/bits. */
static gboolean
ensure_nat (const ScBridge *b, GError **error)
{
  ScIptRule rule = sc_ipt_rule_init ("POSTROUTING", SC_IPT_MASQUERADE);
  g_autofree char *text = NULL;
  gboolean added = FALSE;

  rule.src = rule.dst = htonl (b->netaddr);
  rule.src_mask = rule.dst_mask = htonl (b->netmask);
  rule.invert_dst = TRUE;
  text = sc_ipt_rule_format (&rule);
  if (!sc_ipt_ensure_rule ("nat", &rule, &added, error))
    {
      g_prefix_error (error, "NAT for the containers' network: ");
      return FALSE;
    }
  if (added)
    g_message ("added to the nat table (iptables-legacy -t nat): %s", text);
  else
    g_debug ("the nat table has the containers' rule already: %s", text);
  return TRUE;
}

static gboolean
setup (const ScBridge *b, GError **error)
{
  g_autoptr (ScNlSock) sk = sc_netdev_open (error);
  ScNetdevInfo info;
  gboolean has_address = FALSE;
  g_autofree char *ip_text = sc_ipv4_to_string (b->ip);

  if (sk == NULL || !sc_netdev_lookup (sk, b->device, &info, error))
    return FALSE;
  if (info.ifindex == 0 && !b->create)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_SYSTEM,
                   "the network bridge '%s' (bridge-device) does not exist, and create-bridge is "
                   "false: create the bridge before starting the agent, or set "
                   "create-bridge=true",
                   b->device);
      return FALSE;
    }
  if (info.ifindex == 0)
    {
      if (!sc_netdev_add_bridge (sk, b->device, error)
          || !sc_netdev_lookup (sk, b->device, &info, error))
        return FALSE;
      if (info.ifindex == 0)
        {
          g_set_error (error, SC_ERROR, SC_ERROR_SYSTEM,
                       "bridge %s vanished right after it was created", b->device);
          return FALSE;
        }
      g_message ("created the network bridge %s", b->device);
    }
  if (!info.is_bridge)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_SYSTEM,
                   "the network device '%s' (bridge-device) exists but is not a bridge",
                   b->device);
      return FALSE;
    }
  if (!sc_netdev_has_address (sk, info.ifindex, b->ip, b->prefix, &has_address, error))
    return FALSE;

  if (!b->create)
    {
      /* the platform owns this bridge: say what will not work, change nothing */
      if (!has_address)
        g_warning ("bridge %s does not have the address %s/%d (bridge-ip): containers will have "
                   "no working default route",
                   b->device, ip_text, b->prefix);
      if (!info.is_up)
        g_warning ("bridge %s is down: containers will have no network", b->device);
      return TRUE;
    }
  if (!has_address && !sc_netdev_add_address (sk, info.ifindex, b->ip, b->prefix, error))
    {
      g_prefix_error (error, "bridge %s: ", b->device);
      return FALSE;
    }
  if (!info.is_up && !sc_netdev_set_up (sk, b->device, TRUE, error))
    return FALSE;
  if (!ensure_nat (b, error))
    return FALSE;
  if (!sc_sysctl_write ("net/ipv4/ip_forward", "1", NULL, error))
    {
      g_prefix_error (error, "cannot turn on IPv4 forwarding: ");
      return FALSE;
    }
  g_debug ("bridge %s: %s/%d, NAT and IPv4 forwarding on", b->device, ip_text, b->prefix);
  return TRUE;
}

gboolean
sc_bridge_setup (const ScConfig *config, GError **error)
{
  ScBridge b;

  if (!sc_bridge_check_config (config, &b, error))
    return FALSE;
  if (!setup (&b, error))
    {
      sc_bridge_clear (&b);
      return FALSE;
    }
  sc_bridge_clear (&current);
  current = b;
  current_set = TRUE;
  return TRUE;
}

const ScBridge *
sc_bridge_get (void)
{
  return current_set ? &current : NULL;
}
