/* Unit tests of the network gateway's pure parts: config parsing (network-rules.c, and the
 * gateway's prepare, which merges several configs), the firewall rules built from the configs
 * (as `iptables-legacy -S` would print them), their libiptc encoding (sizes, alignment, match
 * revisions), the container's address choice, and the startup check of the bridge keys. Nothing
 * here touches the host. */
#include <check.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#ifdef SC_ENABLE_NETWORK_GATEWAY

#include <libiptc/libiptc.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/xt_conntrack.h>
#include <linux/netfilter/xt_tcpudp.h>

#include "bridge.h"
#include "error.h"
#include "gateway.h"
#include "network-rules.h"

/* ---- helpers ------------------------------------------------------------------------------- */

static JsonNode *
parse_json (const char *json)
{
  g_autoptr (GError) error = NULL;
  JsonNode *node = json_from_string (json, &error);

  ck_assert_msg (node != NULL, "bad test JSON %s: %s", json, error ? error->message : "empty");
  return node;
}

static GPtrArray *
parse_ok (const char *json)
{
  g_autoptr (JsonNode) node = parse_json (json);
  g_autoptr (GError) error = NULL;
  GPtrArray *allows = g_ptr_array_new_with_free_func (sc_net_allow_free);

  ck_assert_msg (sc_net_parse_config (node, "cap 'x'", allows, &error), "%s: %s", json,
                 error ? error->message : "");
  return allows;
}

static void
assert_refused (const char *json, const char *fragment)
{
  g_autoptr (JsonNode) node = parse_json (json);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) allows = g_ptr_array_new_with_free_func (sc_net_allow_free);

  ck_assert_msg (!sc_net_parse_config (node, "cap 'x'", allows, &error), "accepted: %s", json);
  ck_assert_msg (g_error_matches (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG),
                 "%s: wrong error %s", json, error->message);
  ck_assert_msg (strstr (error->message, fragment) != NULL, "%s: '%s' not in '%s'", json,
                 fragment, error->message);
  ck_assert_msg (strstr (error->message, "cap 'x'") != NULL, "no origin in '%s'",
                 error->message);
  ck_assert_uint_eq (allows->len, 0);
}

/* A resolver for the tests: "two.example" has two addresses, "one.example" one, others none. */
static GArray *
fake_resolve (const char *name, gpointer data, GError **error)
{
  GArray *a = g_array_new (FALSE, FALSE, sizeof (guint32));
  guint32 v;

  (*(int *) data)++;
  if (strcmp (name, "two.example") == 0)
    {
      v = 0x0a000005; /* 10.0.0.5 */
      g_array_append_val (a, v);
      v = 0x0a000006;
      g_array_append_val (a, v);
    }
  else if (strcmp (name, "one.example") == 0)
    {
      v = 0xc0a80101; /* 192.168.1.1 */
      g_array_append_val (a, v);
    }
  else
    {
      g_array_unref (a);
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG, "host '%s' has no IPv4 address",
                   name);
      return NULL;
    }
  return a;
}

static const char base[] = "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n"
                           "-A INPUT -i lo -j ACCEPT\n"
                           "-A OUTPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n"
                           "-A OUTPUT -o lo -j ACCEPT\n";

/* The rules of a config, one formatted rule a line. */
static char *
rules_text (const char *json, GError **error)
{
  g_autoptr (GPtrArray) allows = parse_ok (json);
  g_autoptr (GPtrArray) rules = NULL;
  GString *s = g_string_new (NULL);
  int calls = 0;

  rules = sc_net_build_rules (allows, fake_resolve, &calls, error);
  if (rules == NULL)
    {
      g_string_free (s, TRUE);
      return NULL;
    }
  for (guint i = 0; i < rules->len; i++)
    {
      g_autofree char *t = sc_ipt_rule_format (g_ptr_array_index (rules, i));
      g_string_append_printf (s, "%s\n", t);
    }
  return g_string_free (s, FALSE);
}

static void
assert_rules (const char *json, const char *expected_after_base)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *got = rules_text (json, &error);
  g_autofree char *expected = g_strconcat (base, expected_after_base, NULL);

  ck_assert_msg (got != NULL, "%s: %s", json, error ? error->message : "");
  ck_assert_msg (strcmp (got, expected) == 0, "%s:\ngot:\n%s\nexpected:\n%s", json, got,
                 expected);
}

#define OUT(allow) "[{\"direction\": \"OUTGOING\", \"allow\": [" allow "]}]"
#define IN(allow) "[{\"direction\": \"INCOMING\", \"allow\": [" allow "]}]"

/* ---- parsing ------------------------------------------------------------------------------- */

START_TEST (test_ops_table)
{
  ck_assert_str_eq (sc_network_gateway.id, "network");
  ck_assert (!sc_network_gateway.dynamic);
  ck_assert_ptr_nonnull (sc_network_gateway.apply);
  ck_assert_ptr_nonnull (sc_network_gateway.revert);
  ck_assert_ptr_nonnull (sc_network_gateway.teardown);
  ck_assert_ptr_null (sc_network_gateway.environment);
}
END_TEST

START_TEST (test_parse_fields)
{
  g_autoptr (GPtrArray) allows = parse_ok (
      "[{\"direction\": \"outgoing\", \"allow\": ["
      "{\"host\": \"10.0.3.7/24\", \"ports\": [80, \"8000-8010\"], \"protocols\": \"TCP\"},"
      "{\"host\": \"*\"}, {\"host\": \"example.com\", \"protocols\": [\"udp\", \"icmp\"]}]},"
      "{\"direction\": \"INCOMING\", \"allow\": [{\"host\": \"192.168.1.1\", \"ports\": 0}]},"
      "{\"direction\": \"INCOMING\", \"allow\": []}]");
  const ScNetAllow *a;

  ck_assert_uint_eq (allows->len, 4);
  a = g_ptr_array_index (allows, 0);
  ck_assert_int_eq (a->direction, SC_NET_OUTGOING);
  ck_assert (!a->is_name);
  ck_assert_uint_eq (a->addr, 0x0a000300); /* host bits dropped, like iptables */
  ck_assert_uint_eq (a->mask, 0xffffff00);
  ck_assert_uint_eq (a->ports->len, 2);
  ck_assert_uint_eq (g_array_index (a->ports, ScNetPortRange, 1).first, 8000);
  ck_assert_uint_eq (g_array_index (a->ports, ScNetPortRange, 1).last, 8010);
  ck_assert_uint_eq (a->protocols, SC_NET_PROTO_TCP);
  ck_assert_str_eq (a->origin, "cap 'x' item 1: allow entry 1");
  a = g_ptr_array_index (allows, 1);
  ck_assert_uint_eq (a->mask, 0);
  ck_assert_uint_eq (a->protocols, 0);
  ck_assert_uint_eq (a->ports->len, 0);
  a = g_ptr_array_index (allows, 2);
  ck_assert (a->is_name);
  ck_assert_str_eq (a->host, "example.com");
  ck_assert_uint_eq (a->protocols, SC_NET_PROTO_UDP | SC_NET_PROTO_ICMP);
  a = g_ptr_array_index (allows, 3);
  ck_assert_int_eq (a->direction, SC_NET_INCOMING);
  /* ports without protocols: tcp and udp */
  ck_assert_uint_eq (a->protocols, SC_NET_PROTO_TCP | SC_NET_PROTO_UDP);
  ck_assert_uint_eq (g_array_index (a->ports, ScNetPortRange, 0).first, 0);
}
END_TEST

START_TEST (test_parse_refused)
{
  static const char *const cases[][2] = {
    { "{}", "must be an array" },
    { "[]", "empty array" },
    { "[\"OUTGOING\"]", "item 1: must be an object" },
    { "[{\"allow\": []}]", "'direction' is missing" },
    { "[{\"direction\": \"IN\", \"allow\": []}]", "'direction' is 'IN'" },
    { "[{\"direction\": null, \"allow\": []}]", "'direction' must be" },
    { "[{\"direction\": \"INCOMING\"}]", "'allow' must be an array" },
    { "[{\"direction\": \"INCOMING\", \"allow\": \"*\"}]", "'allow' must be an array" },
    { "[{\"direction\": \"INCOMING\", \"allow\": [], \"allowed\": []}]", "unknown key 'allowed'" },
    { OUT ("\"*\""), "allow entry 1: must be an object" },
    { OUT ("{}"), "'host' is missing" },
    { OUT ("{\"host\": \"*\", \"proto\": \"tcp\"}"), "unknown key 'proto'" },
    { OUT ("{\"host\": true}"), "'host' must be a string" },
    { OUT ("{\"host\": \"\"}"), "host ''" },
    { OUT ("{\"host\": \"1.2.3\"}"), "host '1.2.3'" },
    { OUT ("{\"host\": \"1.2.3.256\"}"), "host '1.2.3.256'" },
    { OUT ("{\"host\": \"01.2.3.4\"}"), "host '01.2.3.4'" },
    { OUT ("{\"host\": \"1.2.3.4/\"}"), "prefix length" },
    { OUT ("{\"host\": \"1.2.3.4/33\"}"), "prefix length" },
    { OUT ("{\"host\": \"1.2.3.4/-1\"}"), "prefix length" },
    { OUT ("{\"host\": \"1.2.3.4/8/8\"}"), "prefix length" },
    { OUT ("{\"host\": \"example.com/24\"}"), "example.com/24" },
    { OUT ("{\"host\": \"fe80::1\"}"), "IPv6" },
    { OUT ("{\"host\": \"-bad.example\"}"), "-bad.example" },
    { OUT ("{\"host\": \"bad-.example\"}"), "bad-.example" },
    { OUT ("{\"host\": \"a..b\"}"), "a..b" },
    { OUT ("{\"host\": \"under_score.example\"}"), "under_score.example" },
    { OUT ("{\"host\": \"*.example\"}"), "*.example" },
    { OUT ("{\"host\": \"*\", \"ports\": 65536}"), "65536 is out of range (0 to 65535)" },
    { OUT ("{\"host\": \"*\", \"ports\": -1}"), "-1 is out of range" },
    { OUT ("{\"host\": \"*\", \"ports\": 80.5}"), "'ports' must be" },
    { OUT ("{\"host\": \"*\", \"ports\": true}"), "'ports' must be" },
    { OUT ("{\"host\": \"*\", \"ports\": \"80\"}"), "a single port is a JSON number" },
    { OUT ("{\"host\": \"*\", \"ports\": \"80-\"}"), "'80-'" },
    { OUT ("{\"host\": \"*\", \"ports\": \"-80\"}"), "'-80'" },
    { OUT ("{\"host\": \"*\", \"ports\": \"1-2-3\"}"), "'1-2-3'" },
    { OUT ("{\"host\": \"*\", \"ports\": \"+1-2\"}"), "'+1-2'" },
    { OUT ("{\"host\": \"*\", \"ports\": \"100-65536\"}"), "'100-65536'" },
    { OUT ("{\"host\": \"*\", \"ports\": \"90-80\"}"), "'90-80' ends before it starts" },
    { OUT ("{\"host\": \"*\", \"ports\": []}"), "'ports' is an empty array" },
    { OUT ("{\"host\": \"*\", \"ports\": [80, 70000]}"), "70000 is out of range" },
    { OUT ("{\"host\": \"*\", \"ports\": [[80]]}"), "'ports' must be" },
    { OUT ("{\"host\": \"*\", \"protocols\": \"sctp\"}"), "unknown protocol 'sctp'" },
    { OUT ("{\"host\": \"*\", \"protocols\": []}"), "'protocols' is an empty array" },
    { OUT ("{\"host\": \"*\", \"protocols\": [\"tcp\", 6]}"), "'protocols' must be" },
    { OUT ("{\"host\": \"*\", \"protocols\": \"icmp\", \"ports\": 7}"), "icmp, which has no ports" },
    { OUT ("{\"host\": \"*\"}, {\"host\": \"*\", \"ports\": 99999}"), "allow entry 2" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    assert_refused (cases[i][0], cases[i][1]);
}
END_TEST

/* prepare merges every config of a call; one bad config fails the call */
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
  ScGatewayConfig *config = g_new0 (ScGatewayConfig, 1);

  config->capability = g_strdup (capability);
  config->gateway_id = g_strdup ("network");
  config->origin = g_strdup_printf ("/test/%s.json", capability);
  config->config = parse_json (json);
  return config;
}

START_TEST (test_prepare_merges_and_refuses)
{
  const ScGatewayOps *ops = &sc_network_gateway;
  g_autoptr (GPtrArray) configs = g_ptr_array_new_with_free_func (config_free);
  g_autoptr (GError) error = NULL;
  gpointer state = ops->state_new ();
  gpointer change;

  g_ptr_array_add (configs, config_new ("a", OUT ("{\"host\": \"*\"}")));
  g_ptr_array_add (configs, config_new ("b", IN ("{\"host\": \"10.0.0.1\"}")));
  change = ops->prepare (state, configs, &error);
  ck_assert_msg (change != NULL, "%s", error ? error->message : "");
  ops->change_free (change);

  g_ptr_array_add (configs, config_new ("c", OUT ("{\"host\": \"*\", \"ports\": \"2-1\"}")));
  change = ops->prepare (state, configs, &error);
  ck_assert_ptr_null (change);
  ck_assert (g_error_matches (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG));
  ck_assert_msg (strstr (error->message, "capability 'c' (file /test/c.json) item 1: allow "
                                         "entry 1: 'ports'")
                     != NULL,
                 "%s", error->message);
  ops->state_free (state);
}
END_TEST

/* ---- rules --------------------------------------------------------------------------------- */

START_TEST (test_rules_outgoing)
{
  assert_rules (OUT ("{\"host\": \"10.0.3.9\", \"ports\": 80, \"protocols\": \"tcp\"}"),
                "-A OUTPUT -d 10.0.3.9/32 -p tcp -m tcp --dport 80 -j ACCEPT\n");
  assert_rules (OUT ("{\"host\": \"*\"}"), "-A OUTPUT -j ACCEPT\n");
  assert_rules (OUT ("{\"host\": \"0.0.0.0/0\", \"protocols\": \"icmp\"}"),
                "-A OUTPUT -p icmp -j ACCEPT\n");
  assert_rules (OUT ("{\"host\": \"10.1.2.3/16\"}"), "-A OUTPUT -d 10.1.0.0/16 -j ACCEPT\n");
  /* ports without protocols: tcp and udp; ranges; every combination, protocol first */
  assert_rules (OUT ("{\"host\": \"*\", \"ports\": [53, \"1000-1001\"]}"),
                "-A OUTPUT -p tcp -m tcp --dport 53 -j ACCEPT\n"
                "-A OUTPUT -p tcp -m tcp --dport 1000:1001 -j ACCEPT\n"
                "-A OUTPUT -p udp -m udp --dport 53 -j ACCEPT\n"
                "-A OUTPUT -p udp -m udp --dport 1000:1001 -j ACCEPT\n");
  /* the full range is no port match at all */
  assert_rules (OUT ("{\"host\": \"*\", \"ports\": \"0-65535\", \"protocols\": \"udp\"}"),
                "-A OUTPUT -p udp -j ACCEPT\n");
  assert_rules (OUT ("{\"host\": \"*\", \"protocols\": [\"icmp\", \"tcp\"]}"),
                "-A OUTPUT -p tcp -j ACCEPT\n-A OUTPUT -p icmp -j ACCEPT\n");
}
END_TEST

START_TEST (test_rules_incoming)
{
  /* INCOMING: host is the source, ports are the remote end's source ports */
  assert_rules (IN ("{\"host\": \"192.168.0.0/24\", \"ports\": 443, \"protocols\": \"tcp\"}"),
                "-A INPUT -s 192.168.0.0/24 -p tcp -m tcp --sport 443 -j ACCEPT\n");
  assert_rules (IN ("{\"host\": \"*\", \"protocols\": \"icmp\"}"), "-A INPUT -p icmp -j ACCEPT\n");
}
END_TEST

START_TEST (test_rules_hostnames_and_duplicates)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;

  /* every address of a name; the same rule twice is written once */
  assert_rules ("[{\"direction\": \"OUTGOING\", \"allow\": ["
                "{\"host\": \"two.example\", \"ports\": 443, \"protocols\": \"tcp\"},"
                "{\"host\": \"10.0.0.6\", \"ports\": 443, \"protocols\": \"tcp\"}]},"
                "{\"direction\": \"INCOMING\", \"allow\": [{\"host\": \"one.example\"}]}]",
                "-A OUTPUT -d 10.0.0.5/32 -p tcp -m tcp --dport 443 -j ACCEPT\n"
                "-A OUTPUT -d 10.0.0.6/32 -p tcp -m tcp --dport 443 -j ACCEPT\n"
                "-A INPUT -s 192.168.1.1/32 -j ACCEPT\n");
  /* a name that does not resolve: the resolver's error, with where it came from */
  text = rules_text (OUT ("{\"host\": \"*\"}, {\"host\": \"nowhere.example\"}"), &error);
  ck_assert_ptr_null (text);
  ck_assert (g_error_matches (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG));
  ck_assert_msg (strstr (error->message, "allow entry 2: host 'nowhere.example'") != NULL, "%s",
                 error->message);
}
END_TEST

START_TEST (test_rules_limit)
{
  g_autoptr (GString) json = g_string_new ("[{\"direction\": \"OUTGOING\", \"allow\": [{\"host\": "
                                           "\"*\", \"protocols\": \"tcp\", \"ports\": [");
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;

  for (int p = 0; p < SC_NET_MAX_RULES; p++)
    g_string_append_printf (json, "%s%d", p > 0 ? "," : "", p);
  g_string_append (json, "]}]}]");
  text = rules_text (json->str, &error);
  ck_assert_ptr_null (text);
  ck_assert (g_error_matches (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG));
  ck_assert_msg (strstr (error->message, "more than 10000 firewall rules") != NULL, "%s",
                 error->message);
}
END_TEST

/* ---- encoding ------------------------------------------------------------------------------ */

static struct ipt_entry *
encode (const ScIptRule *r, gsize *size)
{
  struct ipt_entry *e = sc_ipt_rule_encode (r, size);

  ck_assert_uint_eq (*size % 8, 0);
  ck_assert_uint_eq (e->next_offset, *size);
  ck_assert_uint_eq (e->target_offset % 8, 0);
  ck_assert_uint_ge (e->target_offset, sizeof (struct ipt_entry));
  return e;
}

START_TEST (test_encode_tcp_port)
{
  ScIptRule r = sc_ipt_rule_init ("OUTPUT", SC_IPT_ACCEPT);
  gsize size;
  g_autofree struct ipt_entry *e = NULL;
  struct xt_entry_match *m;
  struct xt_tcp *tcp;
  struct xt_standard_target *t;

  r.proto = IPPROTO_TCP;
  r.dst = htonl (0x0a000309);
  r.dst_mask = htonl (0xffffffff);
  r.dport[0] = r.dport[1] = 80;
  e = encode (&r, &size);
  ck_assert_uint_eq (e->ip.proto, IPPROTO_TCP);
  ck_assert_uint_eq (ntohl (e->ip.dst.s_addr), 0x0a000309);
  ck_assert_uint_eq (e->ip.dmsk.s_addr, 0xffffffff);
  m = (struct xt_entry_match *) e->elems;
  ck_assert_str_eq (m->u.user.name, "tcp");
  ck_assert_uint_eq (m->u.user.revision, 0);
  ck_assert_uint_eq (m->u.match_size, XT_ALIGN (sizeof *m) + XT_ALIGN (sizeof (struct xt_tcp)));
  tcp = (struct xt_tcp *) m->data;
  ck_assert_uint_eq (tcp->spts[0], 0);
  ck_assert_uint_eq (tcp->spts[1], 65535);
  ck_assert_uint_eq (tcp->dpts[0], 80);
  ck_assert_uint_eq (tcp->dpts[1], 80);
  ck_assert_uint_eq (e->target_offset, sizeof (struct ipt_entry) + m->u.match_size);
  t = (struct xt_standard_target *) ((guint8 *) e + e->target_offset);
  ck_assert_str_eq (t->target.u.user.name, "ACCEPT");
  ck_assert_uint_eq (t->target.u.target_size, XT_ALIGN (sizeof (struct xt_standard_target)));
}
END_TEST

START_TEST (test_encode_conntrack_and_iface)
{
  ScIptRule r = sc_ipt_rule_init ("INPUT", SC_IPT_ACCEPT);
  gsize size;
  g_autofree struct ipt_entry *e = NULL;
  g_autofree struct ipt_entry *lo = NULL;
  struct xt_entry_match *m;
  struct xt_conntrack_mtinfo3 *ct;

  r.ct_established = TRUE;
  e = encode (&r, &size);
  m = (struct xt_entry_match *) e->elems;
  ck_assert_str_eq (m->u.user.name, "conntrack");
  ck_assert_uint_eq (m->u.user.revision, 3);
  ck_assert_uint_eq (m->u.match_size,
                     XT_ALIGN (sizeof *m) + XT_ALIGN (sizeof (struct xt_conntrack_mtinfo3)));
  ct = (struct xt_conntrack_mtinfo3 *) m->data;
  ck_assert_uint_eq (ct->match_flags, XT_CONNTRACK_STATE);
  ck_assert_uint_eq (ct->state_mask, (1 << 1) | (1 << 2)); /* ESTABLISHED, RELATED */
  ck_assert_uint_eq (e->ip.proto, 0);

  r = sc_ipt_rule_init ("INPUT", SC_IPT_ACCEPT);
  r.in_iface = "lo";
  lo = encode (&r, &size);
  ck_assert_str_eq (lo->ip.iniface, "lo");
  /* the name and its NUL must match, nothing beyond */
  ck_assert_uint_eq (lo->ip.iniface_mask[0], 0xff);
  ck_assert_uint_eq (lo->ip.iniface_mask[2], 0xff);
  ck_assert_uint_eq (lo->ip.iniface_mask[3], 0);
  ck_assert_uint_eq (lo->target_offset, sizeof (struct ipt_entry));
}
END_TEST

START_TEST (test_encode_masquerade)
{
  ScIptRule r = sc_ipt_rule_init ("POSTROUTING", SC_IPT_MASQUERADE);
  gsize size;
  g_autofree struct ipt_entry *e = NULL;
  g_autofree char *text = NULL;
  struct xt_entry_target *t;

  r.src = r.dst = htonl (0x0a000300);
  r.src_mask = r.dst_mask = htonl (0xffffff00);
  r.invert_dst = TRUE;
  e = encode (&r, &size);
  ck_assert_uint_eq (e->ip.invflags, IPT_INV_DSTIP);
  t = (struct xt_entry_target *) ((guint8 *) e + e->target_offset);
  ck_assert_str_eq (t->u.user.name, "MASQUERADE");
  ck_assert_uint_eq (t->u.target_size,
                     XT_ALIGN (sizeof *t)
                         + XT_ALIGN (sizeof (struct nf_nat_ipv4_multi_range_compat)));
  ck_assert_uint_eq (((struct nf_nat_ipv4_multi_range_compat *) t->data)->rangesize, 1);
  text = sc_ipt_rule_format (&r);
  ck_assert_str_eq (text, "-A POSTROUTING -s 10.0.3.0/24 ! -d 10.0.3.0/24 -j MASQUERADE");
}
END_TEST

/* ---- addresses ----------------------------------------------------------------------------- */

START_TEST (test_pick_address)
{
  const guint32 net = 0x0a000300, bridge = 0x0a000301; /* 10.0.3.0/24, bridge .1 */
  g_autoptr (GHashTable) in_use = g_hash_table_new (g_direct_hash, g_direct_equal);

  ck_assert_uint_eq (sc_net_pick_address (net, 24, bridge, 0, in_use), net + 2);
  ck_assert_uint_eq (sc_net_pick_address (net, 24, bridge, 1, in_use), net + 3);
  ck_assert_uint_eq (sc_net_pick_address (net, 24, bridge, 252, in_use), net + 254);
  /* wrap-around: host 1 is the bridge's, so the next free one */
  ck_assert_uint_eq (sc_net_pick_address (net, 24, bridge, 253, in_use), net + 2);
  ck_assert_uint_eq (sc_net_pick_address (net, 24, bridge, 254, in_use), net + 2);
  ck_assert_uint_eq (sc_net_pick_address (net, 24, bridge, 255, in_use), net + 3);
  ck_assert_uint_eq (sc_net_pick_address (net, 24, bridge, G_MAXINT32, in_use),
                     net + 1 + (guint32) (((guint64) G_MAXINT32 + 1) % 254));
  /* taken addresses are skipped */
  g_hash_table_add (in_use, GUINT_TO_POINTER (net + 2));
  g_hash_table_add (in_use, GUINT_TO_POINTER (net + 3));
  ck_assert_uint_eq (sc_net_pick_address (net, 24, bridge, 0, in_use), net + 4);
  ck_assert_uint_eq (sc_net_pick_address (net, 24, bridge, 253, in_use), net + 4);
  /* a /30 has two hosts: the bridge and one container */
  g_hash_table_remove_all (in_use);
  ck_assert_uint_eq (sc_net_pick_address (net, 30, bridge, 0, in_use), net + 2);
  ck_assert_uint_eq (sc_net_pick_address (net, 30, bridge, 1, in_use), net + 2);
  g_hash_table_add (in_use, GUINT_TO_POINTER (net + 2));
  ck_assert_uint_eq (sc_net_pick_address (net, 30, bridge, 7, in_use), 0);
  /* the bridge need not be host 1 */
  g_hash_table_remove_all (in_use);
  ck_assert_uint_eq (sc_net_pick_address (net, 24, net + 2, 0, in_use), net + 3);
}
END_TEST

/* ---- the bridge keys ----------------------------------------------------------------------- */

static void
check_bridge (const char *ip, const char *netaddr, const char *netmask, int bits,
              const char *fragment)
{
  ScConfig config = { 0 };
  ScBridge b = { 0 };
  g_autoptr (GError) error = NULL;
  gboolean ok;

  config.bridge_device = (char *) "br-test";
  config.bridge_ip = (char *) ip;
  config.bridge_netaddr = (char *) netaddr;
  config.bridge_netmask = (char *) netmask;
  config.bridge_netmask_bitlength = bits;
  config.create_bridge = TRUE;
  config.config_file = (char *) "/etc/sc.conf";
  ok = sc_bridge_check_config (&config, &b, &error);
  if (fragment == NULL)
    {
      ck_assert_msg (ok, "%s %s/%d: %s", ip, netaddr, bits, error ? error->message : "");
      ck_assert_str_eq (b.device, "br-test");
      sc_bridge_clear (&b);
      return;
    }
  ck_assert_msg (!ok, "%s %s %s/%d accepted", ip, netaddr, netmask, bits);
  ck_assert_msg (strstr (error->message, fragment) != NULL, "'%s' not in '%s'", fragment,
                 error->message);
  ck_assert_msg (strstr (error->message, "/etc/sc.conf") != NULL, "%s", error->message);
}

START_TEST (test_bridge_config)
{
  check_bridge ("10.0.3.1", "10.0.3.0", "255.255.255.0", 24, NULL);
  check_bridge ("10.0.3.254", "10.0.3.0", "255.255.255.0", 24, NULL);
  check_bridge ("172.16.5.9", "172.16.0.0", "255.255.0.0", 16, NULL);
  check_bridge ("10.0.3.1", "10.0.3.0", "255.255.255.252", 30, NULL);
  check_bridge ("10.0.4.1", "10.0.3.0", "255.255.255.0", 24, "bridge-ip 10.0.4.1 is outside");
  check_bridge ("10.0.3.0", "10.0.3.0", "255.255.255.0", 24, "network address");
  check_bridge ("10.0.3.255", "10.0.3.0", "255.255.255.0", 24, "broadcast address");
  check_bridge ("10.0.3.1", "10.0.3.0", "255.255.0.0", 24,
                "bridge-netmask 255.255.0.0 does not match bridge-netmask-bitlength 24");
  check_bridge ("10.0.3.1", "10.0.3.0", "255.0.255.0", 24, "does not match");
  check_bridge ("10.0.3.1", "10.0.3.1", "255.255.255.0", 24, "bridge-netaddr 10.0.3.1");
  check_bridge ("10.0.3.1", "10.0.3.1", "255.255.255.0", 24, "host bits");
}
END_TEST

static Suite *
network_rules_suite (void)
{
  Suite *s = suite_create ("network_rules");
  TCase *tc = tcase_create ("core");

  tcase_add_test (tc, test_ops_table);
  tcase_add_test (tc, test_parse_fields);
  tcase_add_test (tc, test_parse_refused);
  tcase_add_test (tc, test_prepare_merges_and_refuses);
  tcase_add_test (tc, test_rules_outgoing);
  tcase_add_test (tc, test_rules_incoming);
  tcase_add_test (tc, test_rules_hostnames_and_duplicates);
  tcase_add_test (tc, test_rules_limit);
  tcase_add_test (tc, test_encode_tcp_port);
  tcase_add_test (tc, test_encode_conntrack_and_iface);
  tcase_add_test (tc, test_encode_masquerade);
  tcase_add_test (tc, test_pick_address);
  tcase_add_test (tc, test_bridge_config);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *runner = srunner_create (network_rules_suite ());
  int failed;

  srunner_set_fork_status (runner, CK_FORK_GETENV);
  srunner_run_all (runner, CK_NORMAL);
  failed = srunner_ntests_failed (runner);
  srunner_free (runner);
  return failed == 0 ? 0 : 1;
}

#else /* !SC_ENABLE_NETWORK_GATEWAY */

int
main (void)
{
  return 77; /* the network gateway is not in this build */
}

#endif
