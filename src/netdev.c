/* Network devices and namespace threads (see netdev.h).
 *
 * Trusts the pidfd it is given to be the container's init (container.c keeps it) and the
 * kernel's answers. The namespace thread is not from a pool: once it has left the host's
 * namespace it must never run anything else. libnl errors are negative NLE_* codes, turned
 * into SC_ERROR_SYSTEM messages naming the device. */
#include "netdev.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include <netlink/cache.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/route.h>

#include "error.h"
#include "util.h"

typedef struct rtnl_link RtnlLink;
typedef struct rtnl_addr RtnlAddr;
typedef struct rtnl_route RtnlRoute;
typedef struct nl_addr NlAddr;
typedef struct nl_cache NlCache;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RtnlLink, rtnl_link_put)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RtnlAddr, rtnl_addr_put)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RtnlRoute, rtnl_route_put)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NlAddr, nl_addr_put)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NlCache, nl_cache_free)

/* ---- namespace threads --------------------------------------------------------------------- */

typedef struct {
  int pidfd;
  ScNetnsFunc fn;
  gpointer data;
  GError *error;
} NetnsJob;

static gpointer
netns_thread (gpointer data)
{
  NetnsJob *job = data;

  if (setns (job->pidfd, CLONE_NEWNET) < 0)
    {
      sc_set_errno_error (&job->error, errno, "cannot enter the container's network namespace");
      return GINT_TO_POINTER (FALSE);
    }
  return GINT_TO_POINTER (job->fn (job->data, &job->error));
}

gboolean
sc_netns_run (int init_pidfd, ScNetnsFunc fn, gpointer data, GError **error)
{
  NetnsJob job = { init_pidfd, fn, data, NULL };
  g_autoptr (GError) thread_error = NULL;
  GThread *thread = g_thread_try_new ("sc-netns", netns_thread, &job, &thread_error);

  if (thread == NULL)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_SYSTEM, "cannot start a thread: %s",
                   thread_error->message);
      return FALSE;
    }
  if (!GPOINTER_TO_INT (g_thread_join (thread)))
    {
      if (job.error == NULL)
        g_set_error (&job.error, SC_ERROR, SC_ERROR_SYSTEM,
                     "work in the container's network namespace failed");
      g_propagate_error (error, job.error);
      return FALSE;
    }
  g_clear_error (&job.error);
  return TRUE;
}

gboolean
sc_sysctl_write (const char *name, const char *value, char **old, GError **error)
{
  g_autofree char *path = g_build_filename ("/proc/sys", name, NULL);
  sc_autofd fd = open (path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  gsize len = strlen (value);

  if (fd < 0)
    {
      sc_set_errno_error (error, errno, "%s", path);
      return FALSE;
    }
  if (old != NULL)
    {
      char buf[256];
      ssize_t n = read (fd, buf, sizeof buf - 1);

      if (n < 0 || lseek (fd, 0, SEEK_SET) < 0)
        {
          sc_set_errno_error (error, errno, "reading %s", path);
          return FALSE;
        }
      buf[n] = '\0';
      *old = g_strdup (g_strchomp (buf));
    }
  if (write (fd, value, len) != (ssize_t) len)
    {
      sc_set_errno_error (error, errno, "writing '%s' to %s", value, path);
      if (old != NULL)
        g_clear_pointer (old, g_free);
      return FALSE;
    }
  return TRUE;
}

/* ---- libnl --------------------------------------------------------------------------------- */

static void
set_nl_error (GError **error, int nlerr, const char *format, ...) G_GNUC_PRINTF (3, 4);

static void
set_nl_error (GError **error, int nlerr, const char *format, ...)
{
  g_autofree char *what = NULL;
  va_list ap;

  va_start (ap, format);
  what = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_set_error (error, SC_ERROR, SC_ERROR_SYSTEM, "%s: %s", what, nl_geterror (nlerr));
}

char *
sc_ipv4_to_string (guint32 addr)
{
  struct in_addr a = { .s_addr = htonl (addr) };
  char text[INET_ADDRSTRLEN];

  inet_ntop (AF_INET, &a, text, sizeof text);
  return g_strdup (text);
}

static NlAddr *
nl_ipv4 (guint32 addr, int prefix)
{
  guint32 be = htonl (addr);
  NlAddr *a = nl_addr_build (AF_INET, &be, sizeof be);

  if (a != NULL)
    nl_addr_set_prefixlen (a, prefix);
  return a;
}

ScNlSock *
sc_netdev_open (GError **error)
{
  struct nl_sock *sk = nl_socket_alloc ();
  int r;

  if (sk == NULL)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_SYSTEM, "cannot allocate a netlink socket");
      return NULL;
    }
  r = nl_connect (sk, NETLINK_ROUTE);
  if (r < 0)
    {
      set_nl_error (error, r, "cannot open a netlink socket");
      nl_socket_free (sk);
      return NULL;
    }
  return sk;
}

void
sc_netdev_close (ScNlSock *sk)
{
  if (sk != NULL)
    nl_socket_free (sk);
}

gboolean
sc_netdev_lookup (ScNlSock *sk, const char *name, ScNetdevInfo *info, GError **error)
{
  g_autoptr (RtnlLink) link = NULL;
  int r = rtnl_link_get_kernel (sk, 0, name, &link);

  *info = (ScNetdevInfo){ 0 };
  if (r == -NLE_OBJ_NOTFOUND || r == -NLE_NODEV)
    return TRUE;
  if (r < 0)
    {
      set_nl_error (error, r, "cannot look up network device %s", name);
      return FALSE;
    }
  info->ifindex = rtnl_link_get_ifindex (link);
  info->is_bridge = rtnl_link_is_bridge (link);
  info->is_up = (rtnl_link_get_flags (link) & IFF_UP) != 0;
  return TRUE;
}

gboolean
sc_netdev_add_bridge (ScNlSock *sk, const char *name, GError **error)
{
  int r = rtnl_link_bridge_add (sk, name);

  if (r < 0)
    {
      set_nl_error (error, r, "cannot create bridge %s", name);
      return FALSE;
    }
  return TRUE;
}

gboolean
sc_netdev_set_up (ScNlSock *sk, const char *name, gboolean up, GError **error)
{
  g_autoptr (RtnlLink) link = NULL;
  g_autoptr (RtnlLink) change = rtnl_link_alloc ();
  int r = rtnl_link_get_kernel (sk, 0, name, &link);

  if (r >= 0)
    {
      if (up)
        rtnl_link_set_flags (change, IFF_UP);
      else
        rtnl_link_unset_flags (change, IFF_UP);
      r = rtnl_link_change (sk, link, change, 0);
    }
  if (r < 0)
    {
      set_nl_error (error, r, "cannot bring %s %s", name, up ? "up" : "down");
      return FALSE;
    }
  return TRUE;
}

gboolean
sc_netdev_has_address (ScNlSock *sk, int ifindex, guint32 addr, int prefix, gboolean *has,
                       GError **error)
{
  g_autoptr (NlCache) cache = NULL;
  guint32 be = htonl (addr);
  int r = rtnl_addr_alloc_cache (sk, &cache);

  *has = FALSE;
  if (r < 0)
    {
      set_nl_error (error, r, "cannot list the addresses of device %d", ifindex);
      return FALSE;
    }
  for (struct nl_object *o = nl_cache_get_first (cache); o != NULL; o = nl_cache_get_next (o))
    {
      RtnlAddr *a = (RtnlAddr *) o;
      struct nl_addr *local = rtnl_addr_get_local (a);

      if (rtnl_addr_get_ifindex (a) == ifindex && rtnl_addr_get_family (a) == AF_INET
          && local != NULL && nl_addr_get_len (local) == sizeof be
          && memcmp (nl_addr_get_binary_addr (local), &be, sizeof be) == 0
          && rtnl_addr_get_prefixlen (a) == prefix)
        *has = TRUE;
    }
  return TRUE;
}

static RtnlAddr *
make_addr (int ifindex, guint32 addr, int prefix)
{
  guint32 mask = prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
  g_autoptr (NlAddr) local = nl_ipv4 (addr, prefix);
  g_autoptr (NlAddr) broadcast = nl_ipv4 ((addr & mask) | ~mask, prefix);
  RtnlAddr *a = rtnl_addr_alloc ();

  if (a == NULL || local == NULL || broadcast == NULL)
    {
      if (a != NULL)
        rtnl_addr_put (a);
      return NULL;
    }
  rtnl_addr_set_ifindex (a, ifindex);
  rtnl_addr_set_family (a, AF_INET);
  rtnl_addr_set_local (a, local);
  rtnl_addr_set_prefixlen (a, prefix);
  rtnl_addr_set_broadcast (a, broadcast);
  return a;
}

gboolean
sc_netdev_add_address (ScNlSock *sk, int ifindex, guint32 addr, int prefix, GError **error)
{
  g_autoptr (RtnlAddr) a = make_addr (ifindex, addr, prefix);
  g_autofree char *text = sc_ipv4_to_string (addr);
  int r = a != NULL ? rtnl_addr_add (sk, a, 0) : -NLE_NOMEM;

  if (r < 0)
    {
      set_nl_error (error, r, "cannot add address %s/%d", text, prefix);
      return FALSE;
    }
  return TRUE;
}

gboolean
sc_netdev_del_address (ScNlSock *sk, int ifindex, guint32 addr, int prefix, GError **error)
{
  g_autoptr (RtnlAddr) a = make_addr (ifindex, addr, prefix);
  g_autofree char *text = sc_ipv4_to_string (addr);
  int r = a != NULL ? rtnl_addr_delete (sk, a, 0) : -NLE_NOMEM;

  if (r < 0 && r != -NLE_NOADDR && r != -NLE_OBJ_NOTFOUND)
    {
      set_nl_error (error, r, "cannot remove address %s/%d", text, prefix);
      return FALSE;
    }
  return TRUE;
}

gboolean
sc_netdev_add_default_route (ScNlSock *sk, int ifindex, guint32 gateway, GError **error)
{
  g_autoptr (RtnlRoute) route = rtnl_route_alloc ();
  g_autoptr (NlAddr) dst = nl_ipv4 (0, 0);
  g_autoptr (NlAddr) via = nl_ipv4 (gateway, 32);
  g_autofree char *text = sc_ipv4_to_string (gateway);
  struct rtnl_nexthop *nh = rtnl_route_nh_alloc ();
  int r;

  if (route == NULL || dst == NULL || via == NULL || nh == NULL)
    {
      if (nh != NULL)
        rtnl_route_nh_free (nh);
      g_set_error (error, SC_ERROR, SC_ERROR_SYSTEM, "out of memory");
      return FALSE;
    }
  rtnl_route_set_family (route, AF_INET);
  rtnl_route_set_table (route, RT_TABLE_MAIN);
  rtnl_route_set_scope (route, RT_SCOPE_UNIVERSE);
  rtnl_route_set_protocol (route, RTPROT_STATIC);
  rtnl_route_set_dst (route, dst);
  rtnl_route_nh_set_ifindex (nh, ifindex);
  rtnl_route_nh_set_gateway (nh, via);
  rtnl_route_add_nexthop (route, nh); /* the route owns nh from here */
  r = rtnl_route_add (sk, route, NLM_F_CREATE | NLM_F_EXCL);
  if (r < 0)
    {
      set_nl_error (error, r, "cannot add the default route via %s", text);
      return FALSE;
    }
  return TRUE;
}
