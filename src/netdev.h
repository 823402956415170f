/* Network devices for the network gateway: a few libnl-3 route calls (links, addresses, the
 * default route), sysctl files, and work inside a container's network namespace done by a
 * short-lived thread of the agent. Built with the network gateway only.
 *
 * setns(CLONE_NEWNET) changes the namespace of the calling thread only, so the agent's own
 * threads never leave the host's namespace: a new thread enters the container's namespace
 * through a pidfd of its init (a pid could be reused; a pidfd cannot), runs the function, and
 * ends. Netlink sockets and libiptc handles belong to the namespace they were made in: the
 * function makes its own, after the switch, and closes them before it returns; one netlink
 * socket per thread. Files under /proc/sys/net opened by that thread are the settings of the
 * container's namespace. Addresses here are IPv4 in host byte order. */
#pragma once

#include <glib.h>

typedef gboolean (*ScNetnsFunc) (gpointer data, GError **error);

/* Runs fn(data, error) in a new thread that has entered the network namespace of the process
 * that init_pidfd refers to, and waits for it. Fails with SC_ERROR_SYSTEM when the thread
 * cannot be made or the namespace cannot be entered (the init is gone). */
gboolean sc_netns_run (int init_pidfd, ScNetnsFunc fn, gpointer data, GError **error);

/* Writes value to /proc/sys/<name> ("net/ipv4/ping_group_range") as the calling thread's
 * namespaces see it. If old is not NULL, *old gets the value it had (without the newline). */
gboolean sc_sysctl_write (const char *name, const char *value, char **old, GError **error);

/* A NETLINK_ROUTE socket of the calling thread's network namespace. */
typedef struct nl_sock ScNlSock;
ScNlSock *sc_netdev_open (GError **error);
void sc_netdev_close (ScNlSock *sk);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScNlSock, sc_netdev_close)

typedef struct {
  int ifindex; /* 0: there is no such device */
  gboolean is_bridge;
  gboolean is_up;
} ScNetdevInfo;

/* Looks a device up by name. A missing device is not an error (ifindex 0). */
gboolean sc_netdev_lookup (ScNlSock *sk, const char *name, ScNetdevInfo *info, GError **error);
gboolean sc_netdev_add_bridge (ScNlSock *sk, const char *name, GError **error);
gboolean sc_netdev_set_up (ScNlSock *sk, const char *name, gboolean up, GError **error);
/* Whether the device has exactly addr/prefix. */
gboolean sc_netdev_has_address (ScNlSock *sk, int ifindex, guint32 addr, int prefix,
                                gboolean *has, GError **error);
/* Adds addr/prefix with the network's broadcast address. */
gboolean sc_netdev_add_address (ScNlSock *sk, int ifindex, guint32 addr, int prefix,
                                GError **error);
gboolean sc_netdev_del_address (ScNlSock *sk, int ifindex, guint32 addr, int prefix,
                                GError **error);
/* The default route via gateway on the device. */
gboolean sc_netdev_add_default_route (ScNlSock *sk, int ifindex, guint32 gateway,
                                      GError **error);
/* "a.b.c.d" (a static buffer per call site is not thread-safe: g_free the result). */
char *sc_ipv4_to_string (guint32 addr);
