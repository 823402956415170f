/* libiptc rules (see netfilter.h).
 *
 * Trusts its callers for the rule model (the network gateway builds it from checked configs);
 * trusts the kernel's tables for nothing it reads back except the comparison libiptc makes.
 * Entry layout (measured, lxc-notes.md): every match and target is
 * XT_ALIGN(header) + XT_ALIGN(payload), the entry is 8-byte aligned, tcp/udp matches need
 * ip.proto, conntrack is used at revision 3 (revision 0 is gone from current kernels), and
 * MASQUERADE carries one range (rangesize 1). A commit replaces a whole table, hence the lock. */
#include "netfilter.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <libiptc/libiptc.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/xt_conntrack.h>
#include <linux/netfilter/xt_tcpudp.h>

#include "error.h"
#include "util.h"

typedef struct xtc_handle IptcHandle;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (IptcHandle, iptc_free)

static const char *const filter_chains[] = { "INPUT", "FORWARD", "OUTPUT" };

ScIptRule
sc_ipt_rule_init (const char *chain, ScIptTarget target)
{
  return (ScIptRule){
    .chain = chain,
    .sport = { 0, 65535 },
    .dport = { 0, 65535 },
    .target = target,
  };
}

static gboolean
has_port_match (const ScIptRule *r)
{
  return (r->proto == IPPROTO_TCP || r->proto == IPPROTO_UDP)
         && (r->sport[0] != 0 || r->sport[1] != 65535 || r->dport[0] != 0
             || r->dport[1] != 65535);
}

static const char *
target_name (ScIptTarget target)
{
  switch (target)
    {
    case SC_IPT_ACCEPT:
      return IPTC_LABEL_ACCEPT;
    case SC_IPT_DROP:
      return IPTC_LABEL_DROP;
    case SC_IPT_MASQUERADE:
    default:
      return "MASQUERADE";
    }
}

/* Writes a match header at p; returns where its payload goes. */
static guint8 *
put_match (guint8 *p, const char *name, guint8 revision, gsize payload)
{
  struct xt_entry_match *m = (struct xt_entry_match *) p;

  m->u.user.match_size = (guint16) (XT_ALIGN (sizeof *m) + XT_ALIGN (payload));
  g_strlcpy (m->u.user.name, name, sizeof m->u.user.name);
  m->u.user.revision = revision;
  return p + XT_ALIGN (sizeof *m);
}

static void
set_iface (const char *name, char *field, unsigned char *mask)
{
  gsize len = strlen (name);

  /* as iptables does: the name and its terminating NUL must match exactly */
  memcpy (field, name, MIN (len, (gsize) IFNAMSIZ - 1));
  memset (mask, 0xff, MIN (len + 1, (gsize) IFNAMSIZ));
}

gpointer
sc_ipt_rule_encode (const ScIptRule *r, gsize *size)
{
  gboolean ports = has_port_match (r);
  gsize port_payload = r->proto == IPPROTO_TCP ? sizeof (struct xt_tcp) : sizeof (struct xt_udp);
  gsize head = XT_ALIGN (sizeof (struct ipt_entry));
  gsize port_size = ports ? XT_ALIGN (sizeof (struct xt_entry_match)) + XT_ALIGN (port_payload) : 0;
  gsize ct_size = r->ct_established ? XT_ALIGN (sizeof (struct xt_entry_match))
                                          + XT_ALIGN (sizeof (struct xt_conntrack_mtinfo3))
                                    : 0;
  gsize target_size = r->target == SC_IPT_MASQUERADE
                          ? XT_ALIGN (sizeof (struct xt_entry_target))
                                + XT_ALIGN (sizeof (struct nf_nat_ipv4_multi_range_compat))
                          : XT_ALIGN (sizeof (struct xt_standard_target));
  gsize total = head + port_size + ct_size + target_size;
  guint8 *buf = g_malloc0 (total); /* malloc's alignment is at least 8 */
  struct ipt_entry *e = (struct ipt_entry *) buf;
  guint8 *p = buf + head;
  struct xt_entry_target *t;

  e->ip.src.s_addr = r->src & r->src_mask;
  e->ip.smsk.s_addr = r->src_mask;
  e->ip.dst.s_addr = r->dst & r->dst_mask;
  e->ip.dmsk.s_addr = r->dst_mask;
  if (r->invert_dst)
    e->ip.invflags |= IPT_INV_DSTIP;
  if (r->in_iface != NULL)
    set_iface (r->in_iface, e->ip.iniface, e->ip.iniface_mask);
  if (r->out_iface != NULL)
    set_iface (r->out_iface, e->ip.outiface, e->ip.outiface_mask);
  e->ip.proto = r->proto;

  if (ports && r->proto == IPPROTO_TCP)
    {
      struct xt_tcp *tcp = (struct xt_tcp *) put_match (p, "tcp", 0, sizeof *tcp);
      tcp->spts[0] = r->sport[0];
      tcp->spts[1] = r->sport[1];
      tcp->dpts[0] = r->dport[0];
      tcp->dpts[1] = r->dport[1];
      p += port_size;
    }
  else if (ports)
    {
      struct xt_udp *udp = (struct xt_udp *) put_match (p, "udp", 0, sizeof *udp);
      udp->spts[0] = r->sport[0];
      udp->spts[1] = r->sport[1];
      udp->dpts[0] = r->dport[0];
      udp->dpts[1] = r->dport[1];
      p += port_size;
    }
  if (r->ct_established)
    {
      struct xt_conntrack_mtinfo3 *ct
          = (struct xt_conntrack_mtinfo3 *) put_match (p, "conntrack", 3, sizeof *ct);
      ct->match_flags = XT_CONNTRACK_STATE;
      ct->state_mask = XT_CONNTRACK_STATE_BIT (IP_CT_ESTABLISHED)
                       | XT_CONNTRACK_STATE_BIT (IP_CT_RELATED);
      p += ct_size;
    }

  e->target_offset = (guint16) (p - buf);
  e->next_offset = (guint16) total;
  t = (struct xt_entry_target *) p;
  t->u.user.target_size = (guint16) target_size;
  g_strlcpy (t->u.user.name, target_name (r->target), sizeof t->u.user.name);
  if (r->target == SC_IPT_MASQUERADE)
    {
      struct nf_nat_ipv4_multi_range_compat *range
          = (struct nf_nat_ipv4_multi_range_compat *) t->data;
      range->rangesize = 1;
    }
  /* a standard target's verdict is filled in by libiptc from the name */
  *size = total;
  return buf;
}

static int
mask_bits (guint32 mask_be)
{
  guint32 m = ntohl (mask_be);
  int bits = 0;

  while (m & 0x80000000u)
    {
      bits++;
      m <<= 1;
    }
  return bits;
}

static void
append_address (GString *s, const char *opt, gboolean invert, guint32 addr, guint32 mask)
{
  char text[INET_ADDRSTRLEN];
  struct in_addr a = { .s_addr = addr & mask };

  inet_ntop (AF_INET, &a, text, sizeof text);
  g_string_append_printf (s, " %s%s %s/%d", invert ? "! " : "", opt, text, mask_bits (mask));
}

static void
append_ports (GString *s, const char *opt, const guint16 range[2])
{
  if (range[0] == 0 && range[1] == 65535)
    return;
  if (range[0] == range[1])
    g_string_append_printf (s, " %s %u", opt, range[0]);
  else
    g_string_append_printf (s, " %s %u:%u", opt, range[0], range[1]);
}

char *
sc_ipt_rule_format (const ScIptRule *r)
{
  GString *s = g_string_new (NULL);

  g_string_append_printf (s, "-A %s", r->chain);
  if (r->src_mask != 0)
    append_address (s, "-s", FALSE, r->src, r->src_mask);
  if (r->dst_mask != 0 || r->invert_dst)
    append_address (s, "-d", r->invert_dst, r->dst, r->dst_mask);
  if (r->in_iface != NULL)
    g_string_append_printf (s, " -i %s", r->in_iface);
  if (r->out_iface != NULL)
    g_string_append_printf (s, " -o %s", r->out_iface);
  switch (r->proto)
    {
    case 0:
      break;
    case IPPROTO_TCP:
      g_string_append (s, " -p tcp");
      break;
    case IPPROTO_UDP:
      g_string_append (s, " -p udp");
      break;
    case IPPROTO_ICMP:
      g_string_append (s, " -p icmp");
      break;
    default:
      g_string_append_printf (s, " -p %u", r->proto);
      break;
    }
  if (has_port_match (r))
    {
      g_string_append_printf (s, " -m %s", r->proto == IPPROTO_TCP ? "tcp" : "udp");
      append_ports (s, "--sport", r->sport);
      append_ports (s, "--dport", r->dport);
    }
  if (r->ct_established)
    g_string_append (s, " -m conntrack --ctstate RELATED,ESTABLISHED");
  g_string_append_printf (s, " -j %s", target_name (r->target));
  return g_string_free (s, FALSE);
}

int
sc_xtables_lock (guint timeout_ms, GError **error)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  sc_autofd fd = open (SC_XTABLES_LOCK, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

  if (fd < 0)
    {
      sc_set_errno_error (error, errno, "cannot open %s", SC_XTABLES_LOCK);
      return -1;
    }
  while (flock (fd, LOCK_EX | LOCK_NB) < 0)
    {
      int e = errno;
      if (e != EWOULDBLOCK && e != EINTR)
        {
          sc_set_errno_error (error, e, "cannot lock %s", SC_XTABLES_LOCK);
          return -1;
        }
      if (g_get_monotonic_time () > deadline)
        {
          g_set_error (error, SC_ERROR, SC_ERROR_SYSTEM,
                       "%s is held by another program (an iptables run?) for more than %u ms",
                       SC_XTABLES_LOCK, timeout_ms);
          return -1;
        }
      g_usleep (2000);
    }
  return sc_steal_fd (&fd);
}

static void
set_iptc_error (GError **error, int err, const char *format, const char *arg)
{
  g_autofree char *what = g_strdup_printf (format, arg);

  g_set_error (error, SC_ERROR, SC_ERROR_SYSTEM, "%s: %s", what, iptc_strerror (err));
}

/* Up to this many tries when a commit finds the table changed under it (EAGAIN). */
#define COMMIT_TRIES 5
#define LOCK_TIMEOUT_MS 10000

static gboolean
filter_replace_once (GPtrArray *rules, const char *policy, int *err, GError **error)
{
  g_autoptr (IptcHandle) h = iptc_init ("filter");
  g_autoptr (GPtrArray) user_chains = g_ptr_array_new_with_free_func (g_free);

  if (h == NULL)
    {
      *err = errno;
      set_iptc_error (error, *err, "cannot read the %s table", "filter");
      return FALSE;
    }
  /* every chain emptied first: a rule jumping to a user-defined chain keeps it alive */
  for (const char *c = iptc_first_chain (h); c != NULL; c = iptc_next_chain (h))
    if (!iptc_builtin (c, h))
      g_ptr_array_add (user_chains, g_strdup (c));
  for (guint i = 0; i < G_N_ELEMENTS (filter_chains); i++)
    if (!iptc_flush_entries (filter_chains[i], h)
        || !iptc_set_policy (filter_chains[i], policy, NULL, h))
      {
        *err = errno;
        set_iptc_error (error, *err, "chain %s", filter_chains[i]);
        return FALSE;
      }
  for (guint i = 0; i < user_chains->len; i++)
    if (!iptc_flush_entries (g_ptr_array_index (user_chains, i), h))
      goto fail_chain;
  for (guint i = 0; i < user_chains->len; i++)
    if (!iptc_delete_chain (g_ptr_array_index (user_chains, i), h))
      goto fail_chain;
  for (guint i = 0; i < rules->len; i++)
    {
      const ScIptRule *r = g_ptr_array_index (rules, i);
      gsize size;
      g_autofree gpointer entry = sc_ipt_rule_encode (r, &size);

      if (!iptc_append_entry (r->chain, entry, h))
        {
          g_autofree char *text = sc_ipt_rule_format (r);
          *err = errno;
          set_iptc_error (error, *err, "rule '%s'", text);
          return FALSE;
        }
    }
  if (!iptc_commit (h))
    {
      *err = errno;
      set_iptc_error (error, *err, "commit of the %s table", "filter");
      return FALSE;
    }
  return TRUE;

fail_chain:
  *err = errno;
  set_iptc_error (error, *err, "removing the user-defined chains of the %s table", "filter");
  return FALSE;
}

gboolean
sc_ipt_filter_replace (GPtrArray *rules, const char *policy, GError **error)
{
  sc_autofd lock = sc_xtables_lock (LOCK_TIMEOUT_MS, error);

  if (lock < 0)
    return FALSE;
  for (int tries = 1;; tries++)
    {
      g_autoptr (GError) local_error = NULL;
      int err = 0;

      if (filter_replace_once (rules, policy, &err, &local_error))
        return TRUE;
      if (err != EAGAIN || tries == COMMIT_TRIES)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
    }
}

static gboolean
ensure_rule_once (const char *table, const ScIptRule *r, gboolean *added, int *err,
                  GError **error)
{
  g_autoptr (IptcHandle) h = iptc_init (table);
  gsize size;
  g_autofree guint8 *entry = sc_ipt_rule_encode (r, &size);
  g_autofree guint8 *mask = g_malloc (size);

  *added = FALSE;
  if (h == NULL)
    {
      *err = errno;
      set_iptc_error (error, *err, "cannot read the %s table", table);
      return FALSE;
    }
  memset (mask, 0xff, size);
  if (iptc_check_entry (r->chain, (struct ipt_entry *) entry, mask, h))
    return TRUE;
  if (!iptc_append_entry (r->chain, (struct ipt_entry *) entry, h) || !iptc_commit (h))
    {
      g_autofree char *text = sc_ipt_rule_format (r);
      g_autofree char *what = g_strdup_printf ("adding '%s' to the %s table", text, table);
      *err = errno;
      set_iptc_error (error, *err, "%s", what);
      return FALSE;
    }
  *added = TRUE;
  return TRUE;
}

gboolean
sc_ipt_ensure_rule (const char *table, const ScIptRule *rule, gboolean *added, GError **error)
{
  sc_autofd lock = sc_xtables_lock (LOCK_TIMEOUT_MS, error);

  if (lock < 0)
    return FALSE;
  for (int tries = 1;; tries++)
    {
      g_autoptr (GError) local_error = NULL;
      int err = 0;

      if (ensure_rule_once (table, rule, added, &err, &local_error))
        return TRUE;
      if (err != EAGAIN || tries == COMMIT_TRIES)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
    }
}
