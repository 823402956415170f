/* The network gateway's pure part: its config items parsed into allow entries, the firewall
 * rules built from them, and the container's address. No side effects, no host access (a
 * hostname is resolved through the function the caller passes), so all of it is unit-tested
 * (tests/unit/check_network_rules.c). gateways/network.c puts the result into the container. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "netfilter.h"

typedef enum {
  SC_NET_OUTGOING, /* host is the destination, ports the destination ports */
  SC_NET_INCOMING, /* host is the source, ports the remote end's source ports */
} ScNetDirection;

enum {
  SC_NET_PROTO_TCP = 1 << 0,
  SC_NET_PROTO_UDP = 1 << 1,
  SC_NET_PROTO_ICMP = 1 << 2,
};

typedef struct {
  guint16 first, last; /* inclusive */
} ScNetPortRange;

/* One entry of an item's "allow" list. */
typedef struct {
  ScNetDirection direction;
  char *host;         /* as written */
  gboolean is_name;   /* a hostname, resolved when the rules are built */
  guint32 addr, mask; /* literal hosts, host byte order; mask 0 is "*" (any address) */
  GArray *ports;      /* ScNetPortRange; empty: every port */
  guint protocols;    /* SC_NET_PROTO_*; 0: every IP protocol */
  char *origin;       /* "<where> item N: allow entry M", for messages */
} ScNetAllow;

void sc_net_allow_free (gpointer allow);

/* Parses one network gateway config (a non-empty JSON array of
 * {"direction": "INCOMING"|"OUTGOING", "allow": [{"host", "ports", "protocols"}...]}) and
 * appends its allow entries (ScNetAllow *) to allows. `where` names the config in messages.
 * Anything malformed: SC_ERROR_GATEWAY_CONFIG naming the item, entry and key; allows is then
 * left as it was. */
gboolean sc_net_parse_config (JsonNode *config, const char *where, GPtrArray *allows,
                              GError **error);

/* Resolves a hostname to its IPv4 addresses (guint32, host byte order, at least one), or
 * returns NULL with an error. */
typedef GArray *(*ScNetResolveFunc) (const char *name, gpointer data, GError **error);

/* At most this many rules in a container (hosts x protocols x port ranges); more is a
 * GatewayConfig error rather than a table the kernel would take seconds to walk. */
#define SC_NET_MAX_RULES 10000

/* The filter rules of a container, in order (ScIptRule *, g_free'd): replies to allowed
 * traffic (conntrack RELATED,ESTABLISHED) and loopback on INPUT and OUTPUT, then one ACCEPT per
 * allowed (address, protocol, port range) in config order, duplicates left out. Everything else
 * falls to the chains' DROP policy. Hostnames go through resolve, every address they have
 * counts. Ports without protocols mean tcp and udp. */
GPtrArray *sc_net_build_rules (GPtrArray *allows, ScNetResolveFunc resolve, gpointer data,
                               GError **error);

/* The address of container `id` in the network netaddr/prefix (host byte order): the first of
 * host numbers 1 + ((id + 1 + k) mod n_hosts), k = 0, 1, ..., that is neither `reserved` (the
 * bridge's address) nor in in_use (a set of GUINT_TO_POINTER (address)). So container 0 gets
 * host 2 of the network, container 1 host 3, and IDs beyond the network's size wrap around,
 * skipping what is taken. Returns 0 when every address is taken. */
guint32 sc_net_pick_address (guint32 netaddr, int prefix, guint32 reserved, int id,
                             GHashTable *in_use);
