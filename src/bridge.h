/* The host side of the network gateway: the bridge the containers' veth devices are attached
 * to, NAT from the containers' network, and IPv4 forwarding. Set up once at startup; all of it
 * is platform-wide and stays when the agent exits (other containers, a restarted agent and the
 * platform's own network setup rely on it). Built with the network gateway only. */
#pragma once

#include <glib.h>

#include "config.h"

/* The containers' network, as checked at startup. Addresses in host byte order. */
typedef struct {
  char *device;    /* the bridge */
  guint32 ip;      /* the bridge's address: the containers' default route */
  guint32 netaddr; /* the network */
  guint32 netmask;
  int prefix; /* netmask as a prefix length, 1..30 */
  gboolean create;
} ScBridge;

/* Checks that the network keys of the config agree with each other: the dotted netmask is the
 * prefix length's, the network address has no host bits, and the bridge's address is a host
 * of that network (neither its network nor its broadcast address). Fills out (free with
 * sc_bridge_clear). Errors: SC_ERROR_INVALID_ARGUMENT naming the keys. Pure. */
gboolean sc_bridge_check_config (const ScConfig *config, ScBridge *out, GError **error);
void sc_bridge_clear (ScBridge *bridge);

/* Startup. With create-bridge: makes the bridge if it is missing, gives it its address if it
 * lacks it, brings it up, adds the MASQUERADE rule for the network to the host's nat table
 * (legacy xtables, under /run/xtables.lock; only if it is not there yet) and turns IPv4
 * forwarding on. Without create-bridge: the bridge must exist (else an error naming it); the
 * platform owns its address, NAT and forwarding. Remembers the settings for sc_bridge_get. */
gboolean sc_bridge_setup (const ScConfig *config, GError **error);

/* The settings sc_bridge_setup checked, or NULL before it succeeded. */
const ScBridge *sc_bridge_get (void);
