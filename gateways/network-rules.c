/* The network gateway's config parsing, rule building and address choice (network-rules.h).
 *
 * Trusts nothing in the configs: every key is checked strictly (an unknown key is refused, so
 * that a typo such as "port" does not silently allow every port), numbers are range-checked
 * (ports 0..65535, prefix lengths 0..32), hostnames must be RFC 1123 names, and a config that
 * would make more than SC_NET_MAX_RULES rules is refused. IPv6 hosts are refused: the agent
 * writes IPv4 rules only, and the container has no IPv6 on eth0. */
#include "network-rules.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "json.h"

static const char *const item_keys[] = { "direction", "allow" };
static const char *const allow_keys[] = { "host", "ports", "protocols" };

static const struct {
  const char *word;
  guint bit;
  guint8 proto;
} protocols[] = {
  { "tcp", SC_NET_PROTO_TCP, IPPROTO_TCP },
  { "udp", SC_NET_PROTO_UDP, IPPROTO_UDP },
  { "icmp", SC_NET_PROTO_ICMP, IPPROTO_ICMP },
};

void
sc_net_allow_free (gpointer data)
{
  ScNetAllow *a = data;

  if (a == NULL)
    return;
  g_free (a->host);
  g_free (a->origin);
  if (a->ports != NULL)
    g_array_unref (a->ports);
  g_free (a);
}

typedef ScNetAllow NetAllow;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NetAllow, sc_net_allow_free)

/* ---- parsing ------------------------------------------------------------------------------- */

static gboolean
check_keys (JsonObject *object, const char *const *known, guint n_known, const char *known_text,
            const char *where, GError **error)
{
  g_autoptr (GList) members = json_object_get_members (object);

  for (GList *l = members; l != NULL; l = l->next)
    {
      gboolean ok = FALSE;

      for (guint k = 0; k < n_known && !ok; k++)
        ok = strcmp (l->data, known[k]) == 0;
      if (!ok)
        {
          g_autofree char *escaped = g_strescape (l->data, NULL);
          g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                       "%s: unknown key '%s' (known: %s)", where, escaped, known_text);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
is_string (JsonNode *node)
{
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING;
}

static gboolean
is_integer (JsonNode *node)
{
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_INT64;
}

static gboolean
parse_direction (JsonObject *item, const char *where, ScNetDirection *out, GError **error)
{
  JsonNode *node = json_object_get_member (item, "direction");
  const char *text;

  if (node == NULL)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                   "%s: 'direction' is missing (\"INCOMING\" or \"OUTGOING\")", where);
      return FALSE;
    }
  if (!is_string (node))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                   "%s: 'direction' must be the string \"INCOMING\" or \"OUTGOING\", not %s",
                   where, sc_json_type_name (node));
      return FALSE;
    }
  text = json_node_get_string (node);
  if (g_ascii_strcasecmp (text, "OUTGOING") == 0)
    *out = SC_NET_OUTGOING;
  else if (g_ascii_strcasecmp (text, "INCOMING") == 0)
    *out = SC_NET_INCOMING;
  else
    {
      g_autofree char *escaped = g_strescape (text, NULL);
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                   "%s: 'direction' is '%s'; it must be \"INCOMING\" or \"OUTGOING\"", where,
                   escaped);
      return FALSE;
    }
  return TRUE;
}

/* An RFC 1123 host name: labels of letters, digits and '-', 1 to 63 bytes, not starting or
 * ending with '-'; at most 253 bytes; one trailing dot allowed. */
static gboolean
is_hostname (const char *text)
{
  gsize len = strlen (text);
  gsize label = 0;

  if (len > 0 && text[len - 1] == '.')
    len--;
  if (len == 0 || len > 253)
    return FALSE;
  for (gsize i = 0; i <= len; i++)
    {
      char c = i < len ? text[i] : '.';

      if (c == '.')
        {
          if (label == 0 || text[i - 1] == '-')
            return FALSE;
          label = 0;
        }
      else if (g_ascii_isalnum (c) || c == '-')
        {
          if (label == 0 && c == '-')
            return FALSE;
          if (++label > 63)
            return FALSE;
        }
      else
        return FALSE;
    }
  return TRUE;
}

static gboolean
parse_host (JsonObject *entry, const char *where, ScNetAllow *a, GError **error)
{
  JsonNode *node = json_object_get_member (entry, "host");
  const char *text;
  g_autofree char *escaped = NULL;
  g_autofree char *address = NULL;
  const char *slash;
  struct in_addr in;
  int prefix = 32;

  if (node == NULL)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                   "%s: 'host' is missing (an IPv4 address, address/bits, a hostname or \"*\")",
                   where);
      return FALSE;
    }
  if (!is_string (node))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                   "%s: 'host' must be a string (an IPv4 address, address/bits, a hostname or "
                   "\"*\"), not %s",
                   where, sc_json_type_name (node));
      return FALSE;
    }
  text = json_node_get_string (node);
  escaped = g_strescape (text, NULL);
  a->host = g_strdup (text);
  if (strcmp (text, "*") == 0)
    return TRUE; /* addr 0, mask 0: any */
  if (strchr (text, ':') != NULL)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                   "%s: host '%s': IPv6 is not supported (the container has IPv4 only)", where,
                   escaped);
      return FALSE;
    }
  slash = strchr (text, '/');
  address = slash != NULL ? g_strndup (text, (gsize) (slash - text)) : g_strdup (text);
  if (slash != NULL)
    {
      const char *bits = slash + 1;
      if (bits[0] == '\0' || strlen (bits) > 2 || strspn (bits, "0123456789") != strlen (bits)
          || (prefix = atoi (bits)) > 32)
        {
          g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                       "%s: host '%s': the prefix length after '/' must be a number from 0 to 32",
                       where, escaped);
          return FALSE;
        }
    }
  if (inet_pton (AF_INET, address, &in) == 1)
    {
      a->mask = prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
      /* like iptables: host bits of "10.0.3.7/24" are ignored */
      a->addr = ntohl (in.s_addr) & a->mask;
      if (prefix == 0)
        a->addr = 0;
      return TRUE;
    }
  if (slash != NULL || strspn (text, "0123456789.") == strlen (text) || !is_hostname (text))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                   "%s: host '%s' is neither an IPv4 address (a.b.c.d or a.b.c.d/bits), a "
                   "hostname nor \"*\"",
                   where, escaped);
      return FALSE;
    }
  a->is_name = TRUE;
  return TRUE;
}

/* "N" or "X-Y", decimal, 0..65535. */
static gboolean
parse_port_text (const char *text, ScNetPortRange *range)
{
  g_auto (GStrv) parts = g_strsplit (text, "-", -1);
  guint n = g_strv_length (parts);
  guint values[2];

  if (n < 1 || n > 2)
    return FALSE;
  for (guint i = 0; i < n; i++)
    {
      gsize len = strlen (parts[i]);
      if (len == 0 || len > 5 || strspn (parts[i], "0123456789") != len)
        return FALSE;
      values[i] = (guint) atoi (parts[i]);
      if (values[i] > 65535)
        return FALSE;
    }
  range->first = (guint16) values[0];
  range->last = (guint16) values[n - 1];
  return TRUE;
}

static gboolean
parse_one_port (JsonNode *node, const char *where, GArray *ports, GError **error)
{
  ScNetPortRange range;

  if (is_integer (node))
    {
      gint64 v = json_node_get_int (node);
      if (v < 0 || v > 65535)
        {
          g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                       "%s: 'ports': %" G_GINT64_FORMAT " is out of range (0 to 65535)", where, v);
          return FALSE;
        }
      range.first = range.last = (guint16) v;
    }
  else if (is_string (node))
    {
      const char *text = json_node_get_string (node);
      g_autofree char *escaped = g_strescape (text, NULL);

      if (strchr (text, '-') == NULL || !parse_port_text (text, &range))
        {
          g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                       "%s: 'ports': '%s' is not a range \"X-Y\" of port numbers from 0 to 65535 "
                       "(a single port is a JSON number)",
                       where, escaped);
          return FALSE;
        }
      if (range.first > range.last)
        {
          g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                       "%s: 'ports': the range '%s' ends before it starts", where, escaped);
          return FALSE;
        }
    }
  else
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                   "%s: 'ports' must be a port number, a range \"X-Y\" or an array of them, not "
                   "%s",
                   where, sc_json_type_name (node));
      return FALSE;
    }
  g_array_append_val (ports, range);
  return TRUE;
}

static gboolean
parse_ports (JsonObject *entry, const char *where, ScNetAllow *a, GError **error)
{
  JsonNode *node = json_object_get_member (entry, "ports");

  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return parse_one_port (node, where, a->ports, error);
  if (json_array_get_length (json_node_get_array (node)) == 0)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                   "%s: 'ports' is an empty array (leave 'ports' out to allow every port)", where);
      return FALSE;
    }
  for (guint i = 0; i < json_array_get_length (json_node_get_array (node)); i++)
    if (!parse_one_port (json_array_get_element (json_node_get_array (node), i), where, a->ports,
                         error))
      return FALSE;
  return TRUE;
}

static gboolean
parse_one_protocol (JsonNode *node, const char *where, guint *bits, GError **error)
{
  const char *text;

  if (!is_string (node))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                   "%s: 'protocols' must be \"tcp\", \"udp\", \"icmp\" or an array of them, not %s",
                   where, sc_json_type_name (node));
      return FALSE;
    }
  text = json_node_get_string (node);
  for (guint i = 0; i < G_N_ELEMENTS (protocols); i++)
    if (g_ascii_strcasecmp (text, protocols[i].word) == 0)
      {
        *bits |= protocols[i].bit;
        return TRUE;
      }
  {
    g_autofree char *escaped = g_strescape (text, NULL);
    g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                 "%s: 'protocols': unknown protocol '%s' (known: tcp, udp, icmp)", where, escaped);
  }
  return FALSE;
}

static gboolean
parse_protocols (JsonObject *entry, const char *where, ScNetAllow *a, GError **error)
{
  JsonNode *node = json_object_get_member (entry, "protocols");
  JsonArray *array;

  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return parse_one_protocol (node, where, &a->protocols, error);
  array = json_node_get_array (node);
  if (json_array_get_length (array) == 0)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                   "%s: 'protocols' is an empty array (leave 'protocols' out to allow every "
                   "protocol)",
                   where);
      return FALSE;
    }
  for (guint i = 0; i < json_array_get_length (array); i++)
    if (!parse_one_protocol (json_array_get_element (array, i), where, &a->protocols, error))
      return FALSE;
  return TRUE;
}

static ScNetAllow *
parse_allow (JsonNode *node, ScNetDirection direction, const char *where, GError **error)
{
  g_autoptr (NetAllow) a = g_new0 (ScNetAllow, 1);
  JsonObject *entry;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG, "%s: must be an object, not %s",
                   where, sc_json_type_name (node));
      return NULL;
    }
  entry = json_node_get_object (node);
  a->direction = direction;
  a->origin = g_strdup (where);
  a->ports = g_array_new (FALSE, FALSE, sizeof (ScNetPortRange));
  if (!check_keys (entry, allow_keys, G_N_ELEMENTS (allow_keys), "host, ports, protocols", where,
                   error)
      || !parse_host (entry, where, a, error) || !parse_ports (entry, where, a, error)
      || !parse_protocols (entry, where, a, error))
    return NULL;
  if (a->ports->len > 0 && (a->protocols & SC_NET_PROTO_ICMP) != 0)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                   "%s: 'ports' cannot apply to icmp, which has no ports: put icmp in an allow "
                   "entry of its own",
                   where);
      return NULL;
    }
  if (a->ports->len > 0 && a->protocols == 0)
    a->protocols = SC_NET_PROTO_TCP | SC_NET_PROTO_UDP;
  return g_steal_pointer (&a);
}

static gboolean
parse_item (JsonNode *node, const char *where, GPtrArray *allows, GError **error)
{
  JsonObject *item;
  JsonNode *allow;
  JsonArray *entries;
  ScNetDirection direction;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG, "%s: must be an object, not %s",
                   where, sc_json_type_name (node));
      return FALSE;
    }
  item = json_node_get_object (node);
  if (!check_keys (item, item_keys, G_N_ELEMENTS (item_keys), "direction, allow", where, error)
      || !parse_direction (item, where, &direction, error))
    return FALSE;
  allow = json_object_get_member (item, "allow");
  if (allow == NULL || !JSON_NODE_HOLDS_ARRAY (allow))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                   "%s: 'allow' must be an array of {\"host\", \"ports\", \"protocols\"} objects%s%s",
                   where, allow == NULL ? " and is missing" : ", not ",
                   allow == NULL ? "" : sc_json_type_name (allow));
      return FALSE;
    }
  entries = json_node_get_array (allow);
  for (guint i = 0; i < json_array_get_length (entries); i++)
    {
      g_autofree char *entry_where = g_strdup_printf ("%s: allow entry %u", where, i + 1);
      ScNetAllow *a = parse_allow (json_array_get_element (entries, i), direction, entry_where,
                                   error);
      if (a == NULL)
        return FALSE;
      g_ptr_array_add (allows, a);
    }
  return TRUE;
}

gboolean
sc_net_parse_config (JsonNode *config, const char *where, GPtrArray *allows, GError **error)
{
  guint before = allows->len;
  JsonArray *items;

  if (config == NULL || !JSON_NODE_HOLDS_ARRAY (config))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                   "%s: the network gateway's config must be an array of "
                   "{\"direction\", \"allow\"} objects, not %s",
                   where, config != NULL ? sc_json_type_name (config) : "nothing");
      return FALSE;
    }
  items = json_node_get_array (config);
  if (json_array_get_length (items) == 0)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                   "%s: the network gateway's config is an empty array", where);
      return FALSE;
    }
  for (guint i = 0; i < json_array_get_length (items); i++)
    {
      g_autofree char *item_where = g_strdup_printf ("%s item %u", where, i + 1);
      if (!parse_item (json_array_get_element (items, i), item_where, allows, error))
        {
          g_ptr_array_remove_range (allows, before, allows->len - before);
          return FALSE;
        }
    }
  return TRUE;
}

/* ---- rules --------------------------------------------------------------------------------- */

typedef struct {
  GPtrArray *rules;  /* ScIptRule * */
  GHashTable *texts; /* formatted rules already in `rules` */
} RuleSet;

static gboolean
add_rule (RuleSet *set, const ScIptRule *rule, const char *origin, GError **error)
{
  char *text = sc_ipt_rule_format (rule);

  if (g_hash_table_contains (set->texts, text))
    {
      g_free (text);
      return TRUE;
    }
  if (set->rules->len >= SC_NET_MAX_RULES)
    {
      g_free (text);
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                   "%s: the network configs make more than %d firewall rules (one per address, "
                   "protocol and port range): use address ranges (a.b.c.d/bits) and port ranges "
                   "(\"X-Y\")",
                   origin, SC_NET_MAX_RULES);
      return FALSE;
    }
  g_hash_table_add (set->texts, text);
  g_ptr_array_add (set->rules, g_memdup2 (rule, sizeof *rule));
  return TRUE;
}

static void
add_base_rules (RuleSet *set)
{
  ScIptRule in_ct = sc_ipt_rule_init ("INPUT", SC_IPT_ACCEPT);
  ScIptRule in_lo = sc_ipt_rule_init ("INPUT", SC_IPT_ACCEPT);
  ScIptRule out_ct = sc_ipt_rule_init ("OUTPUT", SC_IPT_ACCEPT);
  ScIptRule out_lo = sc_ipt_rule_init ("OUTPUT", SC_IPT_ACCEPT);

  in_ct.ct_established = TRUE;
  out_ct.ct_established = TRUE;
  in_lo.in_iface = "lo";
  out_lo.out_iface = "lo";
  add_rule (set, &in_ct, NULL, NULL);
  add_rule (set, &in_lo, NULL, NULL);
  add_rule (set, &out_ct, NULL, NULL);
  add_rule (set, &out_lo, NULL, NULL);
}

/* The rules of one allow entry for one (address, mask). */
static gboolean
add_allow_rules (RuleSet *set, const ScNetAllow *a, guint32 addr, guint32 mask, GError **error)
{
  gboolean out = a->direction == SC_NET_OUTGOING;
  ScIptRule base = sc_ipt_rule_init (out ? "OUTPUT" : "INPUT", SC_IPT_ACCEPT);

  if (out)
    {
      base.dst = htonl (addr);
      base.dst_mask = htonl (mask);
    }
  else
    {
      base.src = htonl (addr);
      base.src_mask = htonl (mask);
    }
  if (a->protocols == 0)
    return add_rule (set, &base, a->origin, error);
  for (guint p = 0; p < G_N_ELEMENTS (protocols); p++)
    {
      ScIptRule rule = base;

      if ((a->protocols & protocols[p].bit) == 0)
        continue;
      rule.proto = protocols[p].proto;
      if (a->ports->len == 0 || rule.proto == IPPROTO_ICMP)
        {
          if (!add_rule (set, &rule, a->origin, error))
            return FALSE;
          continue;
        }
      for (guint i = 0; i < a->ports->len; i++)
        {
          const ScNetPortRange *range = &g_array_index (a->ports, ScNetPortRange, i);
          guint16 *ports = out ? rule.dport : rule.sport;

          ports[0] = range->first;
          ports[1] = range->last;
          if (!add_rule (set, &rule, a->origin, error))
            return FALSE;
        }
    }
  return TRUE;
}

GPtrArray *
sc_net_build_rules (GPtrArray *allows, ScNetResolveFunc resolve, gpointer data, GError **error)
{
  g_autoptr (GPtrArray) rules = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GHashTable) texts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  RuleSet set = { rules, texts };

  add_base_rules (&set);
  for (guint i = 0; i < allows->len; i++)
    {
      const ScNetAllow *a = g_ptr_array_index (allows, i);
      g_autoptr (GArray) addresses = NULL;

      if (!a->is_name)
        {
          if (!add_allow_rules (&set, a, a->addr, a->mask, error))
            return NULL;
          continue;
        }
      addresses = resolve (a->host, data, error);
      if (addresses == NULL)
        {
          g_prefix_error (error, "%s: ", a->origin);
          return NULL;
        }
      for (guint k = 0; k < addresses->len; k++)
        if (!add_allow_rules (&set, a, g_array_index (addresses, guint32, k), 0xffffffffu, error))
          return NULL;
    }
  return g_steal_pointer (&rules);
}

/* ---- addresses ----------------------------------------------------------------------------- */

guint32
sc_net_pick_address (guint32 netaddr, int prefix, guint32 reserved, int id, GHashTable *in_use)
{
  guint32 n_hosts;

  if (prefix < 1 || prefix > 30 || id < 0)
    return 0;
  n_hosts = (1u << (32 - prefix)) - 2;
  for (guint32 k = 0; k < n_hosts; k++)
    {
      guint32 host = 1 + (guint32) (((guint64) id + 1 + k) % n_hosts);
      guint32 addr = netaddr + host;

      if (addr == reserved
          || (in_use != NULL && g_hash_table_contains (in_use, GUINT_TO_POINTER (addr))))
        continue;
      return addr;
    }
  return 0;
}
