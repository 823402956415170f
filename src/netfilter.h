/* IPv4 firewall rules written with libiptc (the legacy xtables interface): a small rule model,
 * its encoding as the kernel's struct ipt_entry, its text as `iptables-legacy -S` prints it,
 * and the two table operations the agent needs (replace the filter table of a container's
 * network namespace; make sure one rule is in a host table). Built with the network gateway.
 *
 * libiptc handles belong to the network namespace of the thread that made them: call the table
 * operations from the thread that is in the namespace to change (netns.h). Each takes
 * /run/xtables.lock for its read-modify-commit, as the iptables tools do, so that a concurrent
 * iptables run in the same namespace does not lose its rules or ours. */
#pragma once

#include <glib.h>

#define SC_XTABLES_LOCK "/run/xtables.lock"

typedef enum {
  SC_IPT_ACCEPT,
  SC_IPT_DROP,
  SC_IPT_MASQUERADE, /* nat table, POSTROUTING */
} ScIptTarget;

/* One rule. Addresses and masks are in network byte order; a mask of 0 matches any address.
 * Ports are host byte order inclusive ranges and only used with proto tcp or udp;
 * {0, 65535} matches any port. Interfaces are NULL for any. */
typedef struct {
  const char *chain; /* "INPUT", "OUTPUT", "POSTROUTING", ...: a static string */
  guint8 proto;      /* 0: any protocol; IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP */
  guint32 src, src_mask;
  guint32 dst, dst_mask;
  gboolean invert_dst; /* "! -d" */
  const char *in_iface, *out_iface;
  guint16 sport[2], dport[2];
  gboolean ct_established; /* -m conntrack --ctstate RELATED,ESTABLISHED (revision 3) */
  ScIptTarget target;
} ScIptRule;

/* A rule that matches everything in chain and jumps to target (fill in the rest). */
ScIptRule sc_ipt_rule_init (const char *chain, ScIptTarget target);

/* The rule as the kernel's entry: struct ipt_entry, its matches and its target, every part
 * XT_ALIGNed and the whole 8-byte aligned. Returns a g_malloc'd buffer of *size bytes. Pure. */
gpointer sc_ipt_rule_encode (const ScIptRule *rule, gsize *size);

/* The rule as `iptables-legacy -S` prints it, e.g.
 * "-A OUTPUT -d 10.0.3.9/32 -p tcp -m tcp --dport 80 -j ACCEPT". Pure. */
char *sc_ipt_rule_format (const ScIptRule *rule);

/* Takes SC_XTABLES_LOCK (waits up to timeout_ms); returns the locked fd (close to unlock). */
int sc_xtables_lock (guint timeout_ms, GError **error);

/* Replaces the filter table of the calling thread's network namespace in one commit: INPUT,
 * FORWARD and OUTPUT get `policy` ("ACCEPT" or "DROP") and exactly `rules` (ScIptRule *, in
 * order; chains INPUT, FORWARD, OUTPUT only); user-defined chains are removed. */
gboolean sc_ipt_filter_replace (GPtrArray *rules, const char *policy, GError **error);

/* Appends rule to its chain of `table` in the calling thread's namespace unless an identical
 * rule is there already (so that a restart does not add a duplicate). *added tells which. */
gboolean sc_ipt_ensure_rule (const char *table, const ScIptRule *rule, gboolean *added,
                             GError **error);
