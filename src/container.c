/* One container: LXC life cycle, state machine, Execute, freezer, mounts, gateways, Destroy,
 * and the startup cleanup of containers a crashed agent left behind.
 *
 * Trusts liblxc and the host; trusts nothing inside the container: paths there are resolved
 * by mount.c, processes started there get a cleared environment, no new privileges, the
 * dropped capabilities and no descriptor of the agent's. Every function runs on the worker
 * thread (container.h); the reference count is the only thing other threads touch.
 *
 * Write buffers (writebuffer.h): a container created with writeBufferEnabled has its host
 * directory as a tmpfs, its root file system as an overlay on it, and every writable directory
 * that BindMount or the file gateway brings in as an overlay too. Destroy syncs them into the
 * host after the container has stopped and before anything is removed; a sync that cannot
 * finish keeps everything (the container stays, invalid) for the next Destroy. The startup
 * cleanup syncs the buffers of a crashed agent's containers the same way. */
#include "container.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <lxc/attach_options.h>
#include <lxc/lxccontainer.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "cgroup.h"
#include "error.h"
#include "gateway.h"
#include "json.h"
#include "mount.h"
#include "rootfs.h"
#include "util.h"
#include "writebuffer.h"

typedef struct lxc_container LxcContainer;

static void
lxc_container_unref (LxcContainer *c)
{
  lxc_container_put (c);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LxcContainer, lxc_container_unref)

/* Capabilities the container keeps: Docker's default set without net_raw (security.md). */
#define SC_CAP_KEEP                                                                               \
  "chown dac_override fowner fsetid kill setgid setuid setpcap setfcap net_bind_service "         \
  "sys_chroot mknod audit_write"

/* The devices cgroup: LXC's basic nodes, plus mknod of anything (an app may make a node; it
 * cannot open one that is not allowed here). The devicenode gateway adds to this. */
static const char *const device_rules[] = {
  "c *:* m", "b *:* m",
  "c 1:3 rwm",   /* null */
  "c 1:5 rwm",   /* zero */
  "c 1:7 rwm",   /* full */
  "c 1:8 rwm",   /* random */
  "c 1:9 rwm",   /* urandom */
  "c 5:0 rwm",   /* tty */
  "c 5:1 rwm",   /* console */
  "c 5:2 rwm",   /* ptmx */
  "c 136:* rwm", /* pts */
};

struct ScContainer {
  gatomicrefcount refs;
  int id;
  char *name;      /* SC-<id> */
  char *dir;       /* <lxcpath>/SC-<id> */
  char *host_dir;  /* <shared-mounts-dir>/SC-<id> */
  char *gateways_dir;
  char *rootfs_path; /* what LXC mounts as the root: <dir>/rootfs, or its overlay */
  gboolean write_buffer;
  guint64 write_buffer_size; /* bytes of the tmpfs holding the upper layers */
  const ScRuntime *runtime;
  LxcContainer *lxc;
  ScContainerState state;
  char *invalid_reason;
  pid_t init_pid;
  int pidfd;
  ScCgroups *cgroups;
  ScGatewaySet *gateways;
  GHashTable *capabilities; /* names applied */
  gboolean defaults_applied;
};

/* Pidfds the containers own, so that sc_container_close_leaked_pidfds keeps them. */
static GHashTable *owned_pidfds;
static G_LOCK_DEFINE (owned_pidfds);

static void
own_pidfd (int fd, gboolean own)
{
  G_LOCK (owned_pidfds);
  if (owned_pidfds == NULL)
    owned_pidfds = g_hash_table_new (g_direct_hash, g_direct_equal);
  if (own)
    g_hash_table_add (owned_pidfds, GINT_TO_POINTER (fd));
  else
    g_hash_table_remove (owned_pidfds, GINT_TO_POINTER (fd));
  G_UNLOCK (owned_pidfds);
}

/* The PID a pidfd refers to (its fdinfo's "Pid:" line), -1 if unknown or dead. */
static pid_t
pidfd_target (int fd)
{
  char path[64];
  g_autofree char *info = NULL;
  const char *line;

  g_snprintf (path, sizeof path, "/proc/self/fdinfo/%d", fd);
  if (!g_file_get_contents (path, &info, NULL, NULL)
      || (line = strstr (info, "\nPid:")) == NULL)
    return -1;
  return (pid_t) strtol (line + strlen ("\nPid:"), NULL, 10);
}

void
sc_container_close_leaked_pidfds (pid_t init_pid)
{
  g_autoptr (GDir) d = g_dir_open ("/proc/self/fd", 0, NULL);
  g_autoptr (GArray) leaked = g_array_new (FALSE, FALSE, sizeof (int));
  const char *name;

  if (d == NULL)
    return;
  G_LOCK (owned_pidfds);
  while ((name = g_dir_read_name (d)) != NULL)
    {
      char link[64];
      char path[64];
      int fd = atoi (name);
      ssize_t n;

      if (fd < 3 || (owned_pidfds != NULL && g_hash_table_contains (owned_pidfds, GINT_TO_POINTER (fd))))
        continue;
      g_snprintf (path, sizeof path, "/proc/self/fd/%d", fd);
      n = readlink (path, link, sizeof link - 1);
      if (n <= 0)
        continue;
      link[n] = '\0';
      /* only pidfds of this init: GLib's child watches hold pidfds of attached processes */
      if (strcmp (link, "anon_inode:[pidfd]") == 0 && pidfd_target (fd) == init_pid)
        g_array_append_val (leaked, fd);
    }
  G_UNLOCK (owned_pidfds);
  for (guint i = 0; i < leaked->len; i++)
    close (g_array_index (leaked, int, i));
}

/* ---- Create's options ---------------------------------------------------------------- */

gboolean
sc_container_options_parse (const char *json, ScContainerOptions *options, GError **error)
{
  g_autoptr (JsonNode) root = sc_json_parse (json, -1, "Create config", error);
  JsonArray *array;
  gboolean tmpfs_size_set = FALSE;
  gint64 tmpfs_size = 0;

  *options = (ScContainerOptions){ FALSE, FALSE, 100 * 1024 * 1024 };
  if (root == NULL)
    return FALSE;
  if (!JSON_NODE_HOLDS_ARRAY (root))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT,
                   "Create config must be a JSON array of objects, not %s",
                   sc_json_type_name (root));
      return FALSE;
    }
  array = json_node_get_array (root);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *item = json_array_get_element (array, i);
      JsonObjectIter iter;
      const char *key;
      JsonNode *value;

      if (!JSON_NODE_HOLDS_OBJECT (item))
        {
          g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT,
                       "Create config: element %u must be an object, not %s", i,
                       sc_json_type_name (item));
          return FALSE;
        }
      json_object_iter_init (&iter, json_node_get_object (item));
      while (json_object_iter_next (&iter, &key, &value))
        {
          gboolean is_bool = JSON_NODE_HOLDS_VALUE (value)
                             && json_node_get_value_type (value) == G_TYPE_BOOLEAN;
          gboolean is_int = JSON_NODE_HOLDS_VALUE (value)
                            && json_node_get_value_type (value) == G_TYPE_INT64;

          if (strcmp (key, "writeBufferEnabled") == 0
              || strcmp (key, "temporaryFileSystemWriteBufferEnabled") == 0)
            {
              if (!is_bool)
                {
                  g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT,
                               "Create config: %s must be true or false, not %s", key,
                               sc_json_type_name (value));
                  return FALSE;
                }
              if (key[0] == 'w')
                options->write_buffer = json_node_get_boolean (value);
              else
                options->tmpfs_write_buffer = json_node_get_boolean (value);
            }
          else if (strcmp (key, "temporaryFileSystemSize") == 0)
            {
              if (!is_int)
                {
                  g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT,
                               "Create config: temporaryFileSystemSize must be an integer number "
                               "of bytes, not %s",
                               sc_json_type_name (value));
                  return FALSE;
                }
              tmpfs_size = json_node_get_int (value);
              tmpfs_size_set = TRUE;
            }
          else
            g_warning ("Create config: unknown key '%s' ignored", key);
        }
    }
  if (options->tmpfs_write_buffer && tmpfs_size_set)
    {
      /* a page is the least a tmpfs can hold; 1 TiB is far beyond any head unit */
      if (tmpfs_size < 4096 || tmpfs_size > (G_GINT64_CONSTANT (1) << 40))
        {
          g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT,
                       "Create config: temporaryFileSystemSize %" G_GINT64_FORMAT
                       " is out of range (4096 bytes to 1 TiB)",
                       tmpfs_size);
          return FALSE;
        }
      options->tmpfs_size = (guint64) tmpfs_size;
    }
  return TRUE;
}

/* ---- Create ------------------------------------------------------------------------------ */

static gboolean
set_item (LxcContainer *lxc, const char *key, const char *value, GError **error)
{
  if (!lxc->set_config_item (lxc, key, value))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_LXC, "LXC refused the config item %s = %s", key,
                   value);
      return FALSE;
    }
  return TRUE;
}

/* lxc.net.1: a veth pair on the agent's bridge, named eth0 inside and left down (no flags)
 * until the network gateway configures it; the host end has a name of the agent's own, so that
 * leftovers can be recognised. lxc.net.0 (empty, up) is what brings loopback up. */
static gboolean
configure_veth (ScContainer *c, GError **error)
{
  g_autofree char *pair = g_strdup_printf (SC_CONTAINER_VETH_PREFIX "%d", c->id);
  const char *items[][2] = {
    { "lxc.net.1.type", "veth" },
    { "lxc.net.1.link", c->runtime->bridge_device },
    { "lxc.net.1.name", "eth0" },
    { "lxc.net.1.veth.pair", pair },
  };

  for (guint i = 0; i < G_N_ELEMENTS (items); i++)
    if (!set_item (c->lxc, items[i][0], items[i][1], error))
      return FALSE;
  return TRUE;
}

static gboolean
configure (ScContainer *c, GPtrArray *mount_entries, GError **error)
{
  g_autofree char *rootfs = g_strdup_printf ("dir:%s", c->rootfs_path);
  g_autofree char *cg_container = g_strdup_printf ("lxc/%s", c->name);
  g_autofree char *cg_monitor = g_strdup_printf ("lxc.monitor/%s", c->name);
  g_autofree char *log_file = g_strdup_printf ("%s/lxc.log", c->dir);
  g_autofree char *init_entry = g_strdup_printf ("%s %s none ro,bind,nosuid,nodev 0 0",
                                                 c->runtime->init_path, SC_ROOTFS_INIT_PATH + 1);
  g_autofree char *gateways_entry = g_strdup_printf ("%s %s none ro,bind,nosuid,nodev,noexec 0 0",
                                                     c->gateways_dir, SC_ROOTFS_GATEWAYS_DIR + 1);
  /* The first item must be set before anything can make liblxc load /etc/lxc/default.conf. */
  const char *items[][2] = {
    { "lxc.uts.name", "contained" },
    { "lxc.rootfs.path", rootfs },
    { "lxc.rootfs.options", "nosuid,nodev" },
    { "lxc.mount.auto", "proc:mixed sys:ro" },
    { "lxc.autodev", "1" },
    { "lxc.init.cmd", SC_ROOTFS_INIT_PATH },
    { "lxc.signal.halt", "SIGPWR" },
    { "lxc.net.0.type", "empty" },
    { "lxc.net.0.flags", "up" },
    { "lxc.cap.keep", SC_CAP_KEEP },
    { "lxc.no_new_privs", "1" },
    { "lxc.console.path", "none" },
    { "lxc.tty.max", "0" },
    { "lxc.apparmor.profile", "unconfined" },
    { "lxc.cgroup.dir.container", cg_container },
    { "lxc.cgroup.dir.monitor", cg_monitor },
    { "lxc.cgroup.dir.monitor.pivot", "lxc.monitor" },
    { "lxc.cgroup.devices.deny", "a" },
    { "lxc.log.file", log_file },
    { "lxc.log.level", "WARN" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (items); i++)
    if (!set_item (c->lxc, items[i][0], items[i][1], error))
      return FALSE;
  if (c->runtime->bridge_device != NULL && c->id >= 0 && !configure_veth (c, error))
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (device_rules); i++)
    if (!set_item (c->lxc, "lxc.cgroup.devices.allow", device_rules[i], error))
      return FALSE;
  if (c->runtime->seccomp_profile != NULL
      && !set_item (c->lxc, "lxc.seccomp.profile", c->runtime->seccomp_profile, error))
    return FALSE;
  for (guint i = 0; i < mount_entries->len; i++)
    if (!set_item (c->lxc, "lxc.mount.entry", g_ptr_array_index (mount_entries, i), error))
      return FALSE;
  return set_item (c->lxc, "lxc.mount.entry", init_entry, error)
         && set_item (c->lxc, "lxc.mount.entry", gateways_entry, error);
}

/* After start() returns RUNNING the init may still be liblxc's setup code: wait until it is
 * sc-init with its signals blocked (it names itself after sigprocmask), so that the halt
 * signal of a quick Destroy is never lost and the mount namespace is final. */
static gboolean
wait_init_ready (ScContainer *c, GError **error)
{
  g_autofree char *comm = g_strdup_printf ("/proc/%d/comm", (int) c->init_pid);
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  guint delay_us = 50;

  for (;;)
    {
      g_autofree char *name = NULL;

      if (g_file_get_contents (comm, &name, NULL, NULL) && strcmp (name, "sc-init\n") == 0)
        return TRUE;
      if (syscall (SYS_pidfd_send_signal, c->pidfd, 0, NULL, 0) < 0)
        {
          g_set_error (error, SC_ERROR, SC_ERROR_LXC,
                       "the init of %s exited right after start (see %s/lxc.log)", c->name,
                       c->dir);
          return FALSE;
        }
      if (g_get_monotonic_time () > deadline)
        {
          g_set_error (error, SC_ERROR, SC_ERROR_LXC, "the init of %s did not start within 5 s",
                       c->name);
          return FALSE;
        }
      g_usleep (delay_us);
      delay_us = MIN (delay_us * 2, 2000);
    }
}

static gboolean
start (ScContainer *c, GError **error)
{
  gboolean started;
  g_autoptr (GError) cg_error = NULL;

  c->lxc->want_daemonize (c->lxc, TRUE);
  c->lxc->want_close_all_fds (c->lxc, TRUE);
  started = c->lxc->start (c->lxc, 0, NULL);
  /* liblxc moved the agent into the monitor's cgroup: go back, whatever start said */
  if (!sc_cgroup_return_self (&cg_error))
    g_warning ("cannot move the agent back to its cgroups: %s", cg_error->message);
  if (!started)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_LXC, "LXC could not start %s (see %s/lxc.log)",
                   c->name, c->dir);
      return FALSE;
    }
  c->init_pid = c->lxc->init_pid (c->lxc);
  if (c->init_pid <= 0)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_LXC, "LXC started %s but reports no init", c->name);
      return FALSE;
    }
  c->pidfd = (int) syscall (SYS_pidfd_open, c->init_pid, 0);
  if (c->pidfd < 0)
    {
      sc_set_errno_error (error, errno, "pidfd_open of the init of %s", c->name);
      return FALSE;
    }
  own_pidfd (c->pidfd, TRUE);
  /* pidfd_open gives no close-on-exec flag before 5.10's PIDFD_NONBLOCK era: set it */
  fcntl (c->pidfd, F_SETFD, FD_CLOEXEC);
  if (!wait_init_ready (c, error))
    return FALSE;
  c->cgroups = sc_cgroups_of_pid (c->init_pid, error);
  return c->cgroups != NULL;
}

static ScContainer *
container_alloc (const ScRuntime *runtime, int id)
{
  ScContainer *c = g_new0 (ScContainer, 1);

  g_atomic_ref_count_init (&c->refs);
  c->id = id;
  c->runtime = runtime;
  c->name = g_strdup_printf ("SC-%d", id);
  c->dir = g_build_filename (runtime->lxcpath, c->name, NULL);
  c->host_dir = g_build_filename (runtime->shared_mounts_dir, c->name, NULL);
  c->gateways_dir = g_build_filename (c->host_dir, "gateways", NULL);
  c->rootfs_path = g_build_filename (c->dir, "rootfs", NULL);
  c->pidfd = -1;
  c->state = SC_CONTAINER_INVALID;
  c->gateways = sc_gateway_set_new ();
  c->capabilities = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  return c;
}

/* Removes every trace of a container on the host. Used by Destroy, by a failed Create and by
 * the startup cleanup. The container must be stopped (or never started). */
static gboolean
remove_traces (const ScRuntime *runtime, const char *name, LxcContainer *lxc, GError **error)
{
  g_autofree char *host_dir = g_build_filename (runtime->shared_mounts_dir, name, NULL);
  g_autofree char *dir = g_build_filename (runtime->lxcpath, name, NULL);
  g_autofree char *lock = g_strdup_printf ("/run/lxc/lock%s/.%s", runtime->lxcpath, name);
  g_autoptr (GError) local_error = NULL;
  gboolean ok = TRUE;

  /* A write-buffer tmpfs (and the root overlay on it) goes first. It is refused while it holds
   * unsynced buffers: callers sync before (sc_write_buffer_sync). */
  if (!sc_write_buffer_release (host_dir, FALSE, error))
    return FALSE;
  /* liblxc deletes the directory that lxc.rootfs.path names: with a write buffer that is the
   * overlay's mount point, so name the container's own root directory (the lower layer) */
  if (lxc != NULL && lxc->is_defined (lxc))
    {
      g_autofree char *rootfs = g_strdup_printf ("dir:%s/rootfs", dir);

      if (!lxc->set_config_item (lxc, "lxc.rootfs.path", rootfs) || !lxc->destroy (lxc))
        {
          g_set_error (error, SC_ERROR, SC_ERROR_LXC, "LXC could not destroy %s", name);
          return FALSE;
        }
    }
  /* what liblxc did not remove: a container that was never saved, or half made */
  if (!sc_remove_tree (dir, &local_error) || !sc_remove_tree (host_dir, &local_error))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  if (unlink (lock) < 0 && errno != ENOENT)
    g_debug ("cannot remove %s: %s", lock, g_strerror (errno));
  if (!sc_cgroup_remove_container (name, &local_error))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      ok = FALSE;
    }
  return ok;
}

/* Stops a container: polite halt, then a forced stop after the timeout, then waits until LXC
 * reports it STOPPED (the monitor is done). */
static gboolean
stop (LxcContainer *lxc, const char *name, guint timeout, GError **error)
{
  if (!lxc->is_running (lxc))
    return TRUE;
  if (timeout == 0 || !lxc->shutdown (lxc, (int) timeout))
    {
      if (lxc->is_running (lxc) && !lxc->stop (lxc))
        {
          g_set_error (error, SC_ERROR, SC_ERROR_LXC, "LXC could not stop %s", name);
          return FALSE;
        }
    }
  if (!lxc->wait (lxc, "STOPPED", 10))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_LXC, "%s did not stop within 10 s of being killed",
                   name);
      return FALSE;
    }
  return TRUE;
}

/* Below the (new, empty) container directory: the host-side directories, the root file
 * system and the LXC config, saved. Nothing is started. */
static gboolean
define (ScContainer *c, GError **error)
{
  g_autoptr (GPtrArray) mount_entries = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *rootfs = g_build_filename (c->dir, "rootfs", NULL);

  if (g_mkdir_with_parents (c->runtime->shared_mounts_dir, 0755) < 0
      || mkdir (c->host_dir, 0700) < 0)
    {
      sc_set_errno_error (error, errno, "cannot create %s", c->host_dir);
      return FALSE;
    }
  if (c->write_buffer && !sc_write_buffer_setup (c->host_dir, c->write_buffer_size, error))
    return FALSE;
  if (mkdir (c->gateways_dir, 0755) < 0)
    {
      sc_set_errno_error (error, errno, "cannot create %s", c->gateways_dir);
      return FALSE;
    }
  if (!sc_rootfs_create (rootfs, mount_entries, error))
    return FALSE;
  if (c->write_buffer)
    {
      g_free (c->rootfs_path);
      c->rootfs_path = sc_write_buffer_mount_rootfs (c->host_dir, rootfs, error);
      if (c->rootfs_path == NULL)
        return FALSE;
    }
  if (!configure (c, mount_entries, error))
    return FALSE;
  if (!c->lxc->save_config (c->lxc, NULL))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_LXC, "LXC could not save the config of %s", c->name);
      return FALSE;
    }
  return TRUE;
}

gboolean
sc_container_define_only (const ScRuntime *runtime, const char *name, GError **error)
{
  /* SC-<n> is defined as Create defines ID n: with its veth when the runtime has a bridge */
  g_autoptr (ScContainer) c = container_alloc (
      runtime, g_str_has_prefix (name, "SC-") ? (int) strtol (name + 3, NULL, 10) : -1);

  g_free (c->name);
  g_free (c->dir);
  g_free (c->host_dir);
  g_free (c->gateways_dir);
  g_free (c->rootfs_path);
  c->name = g_strdup (name);
  c->dir = g_build_filename (runtime->lxcpath, c->name, NULL);
  c->rootfs_path = g_build_filename (c->dir, "rootfs", NULL);
  c->host_dir = g_build_filename (runtime->shared_mounts_dir, c->name, NULL);
  c->gateways_dir = g_build_filename (c->host_dir, "gateways", NULL);
  c->lxc = lxc_container_new (c->name, runtime->lxcpath);
  if (c->lxc == NULL || mkdir (c->dir, 0700) < 0)
    {
      sc_set_errno_error (error, errno, "cannot create %s", c->dir);
      return FALSE;
    }
  return define (c, error);
}

gboolean
sc_container_remove_traces (const ScRuntime *runtime, const char *name, GError **error)
{
  g_autoptr (LxcContainer) lxc = lxc_container_new (name, runtime->lxcpath);
  g_autofree char *host_dir = g_build_filename (runtime->shared_mounts_dir, name, NULL);

  return (lxc == NULL || stop (lxc, name, 0, error)) && sc_write_buffer_sync (host_dir, error)
         && remove_traces (runtime, name, lxc, error);
}

/* A failed Create removes the container's directory and with it LXC's log: keep LXC's own
 * words. The log goes to the agent's log, its last error line into the message. */
static void
add_lxc_log_reason (ScContainer *c, GError **error)
{
  g_autofree char *path = g_build_filename (c->dir, "lxc.log", NULL);
  g_autofree char *log = NULL;
  g_auto (GStrv) lines = NULL;
  const char *reason = NULL;
  char *old;

  if (!g_file_get_contents (path, &log, NULL, NULL) || log[0] == '\0')
    return;
  g_warning ("LXC's log of the failed Create of %s:\n%s", c->name, log);
  lines = g_strsplit (log, "\n", -1);
  for (char **l = lines; *l != NULL; l++)
    if (strstr (*l, " ERROR ") != NULL)
      reason = *l;
  if (reason == NULL || error == NULL || *error == NULL)
    return;
  /* "lxc SC-0 20261123... ERROR start - ...": keep what follows the level */
  reason = strstr (reason, " ERROR ") + strlen (" ERROR ");
  old = (*error)->message;
  (*error)->message = g_strdup_printf ("%s; LXC said: %s", old, reason);
  g_free (old);
}

static void
set_exists_error (ScContainer *c, GError **error)
{
  g_set_error (error, SC_ERROR, SC_ERROR_LXC,
               "a container named %s exists already in %s (left by something else than this "
               "agent; restarting the agent removes stale SC-* containers)",
               c->name, c->runtime->lxcpath);
}

ScContainer *
sc_container_create (const ScRuntime *runtime, int id, const ScContainerOptions *options,
                     GError **error)
{
  g_autoptr (ScContainer) c = container_alloc (runtime, id);
  g_autoptr (GError) cleanup_error = NULL;
  gboolean made_dir = FALSE;

  c->write_buffer = options->write_buffer;
  c->write_buffer_size = options->tmpfs_size;
  if (options->tmpfs_write_buffer && !options->write_buffer)
    g_message ("%s: temporaryFileSystemWriteBufferEnabled without writeBufferEnabled: no write "
               "buffer, the setting is ignored",
               c->name);

  /* Checked before liblxc sees the name too: lxc_container_new of an existing container loads
   * its config and leaves a lock file under /run/lxc/lock that is not ours to remove. */
  if (g_file_test (c->dir, G_FILE_TEST_EXISTS))
    {
      set_exists_error (c, error);
      return NULL;
    }
  c->lxc = lxc_container_new (c->name, runtime->lxcpath);
  if (c->lxc == NULL)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_LXC, "LXC could not allocate %s", c->name);
      return NULL;
    }
  if (c->lxc->is_defined (c->lxc))
    {
      set_exists_error (c, error);
      return NULL;
    }

  if (mkdir (c->dir, 0700) < 0)
    {
      sc_set_errno_error (error, errno, "cannot create %s", c->dir);
      return NULL;
    }
  made_dir = TRUE;
  if (!define (c, error))
    goto fail;
  if (!start (c, error))
    goto fail;

  c->state = SC_CONTAINER_RUNNING;
  g_debug ("%s: running, init %d", c->name, (int) c->init_pid);
  return g_steal_pointer (&c);

fail:
  add_lxc_log_reason (c, error);
  if (!stop (c->lxc, c->name, 0, &cleanup_error)
      || (made_dir && !remove_traces (runtime, c->name, c->lxc, &cleanup_error)))
    g_warning ("cleanup after the failed Create of %s: %s", c->name, cleanup_error->message);
  return NULL;
}

ScContainer *
sc_container_ref (ScContainer *container)
{
  g_atomic_ref_count_inc (&container->refs);
  return container;
}

void
sc_container_unref (ScContainer *c)
{
  if (c == NULL || !g_atomic_ref_count_dec (&c->refs))
    return;
  if (c->pidfd >= 0)
    {
      own_pidfd (c->pidfd, FALSE);
      close (c->pidfd);
    }
  if (c->lxc != NULL)
    lxc_container_put (c->lxc);
  sc_cgroups_free (c->cgroups);
  sc_gateway_set_free (c->gateways);
  g_hash_table_unref (c->capabilities);
  g_free (c->invalid_reason);
  g_free (c->name);
  g_free (c->dir);
  g_free (c->host_dir);
  g_free (c->gateways_dir);
  g_free (c->rootfs_path);
  g_free (c);
}

int
sc_container_id (ScContainer *container)
{
  return container->id;
}

ScContainerState
sc_container_state (ScContainer *container)
{
  return container->state;
}

pid_t
sc_container_init_pid (ScContainer *container)
{
  return container->init_pid;
}

int
sc_container_pidfd (ScContainer *container)
{
  return container->pidfd;
}

gboolean
sc_container_check_usable (ScContainer *c, GError **error)
{
  switch (c->state)
    {
    case SC_CONTAINER_RUNNING:
      return TRUE;
    case SC_CONTAINER_SUSPENDED:
      g_set_error (error, SC_ERROR, SC_ERROR_BAD_STATE,
                   "container %d is suspended; Resume it first", c->id);
      return FALSE;
    case SC_CONTAINER_INVALID:
      g_set_error (error, SC_ERROR, SC_ERROR_BAD_STATE,
                   "container %d is invalid (%s); only Destroy is possible", c->id,
                   c->invalid_reason ? c->invalid_reason : "unknown reason");
      return FALSE;
    case SC_CONTAINER_DESTROYED:
    default:
      g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ID, "no container with ID %d", c->id);
      return FALSE;
    }
}

void
sc_container_mark_invalid (ScContainer *c, const char *reason)
{
  if (c->state == SC_CONTAINER_DESTROYED || c->state == SC_CONTAINER_INVALID)
    return;
  g_warning ("container %d is now invalid: %s", c->id, reason);
  c->state = SC_CONTAINER_INVALID;
  g_free (c->invalid_reason);
  c->invalid_reason = g_strdup (reason);
}

/* The source of a mount of host_path into the container: the host path itself, or, for a
 * writable directory of a container with write buffers, an overlay on it (filesystem.md). */
static int
open_mount_source (ScContainer *c, const char *host_path, gboolean read_only, GError **error)
{
  sc_autofd fd = sc_mount_open_source (host_path, error);
  struct stat st;

  if (fd < 0)
    return -1;
  if (!c->write_buffer || read_only || fstat (fd, &st) < 0 || !S_ISDIR (st.st_mode))
    return sc_steal_fd (&fd);
  return sc_write_buffer_overlay (c->host_dir, fd, error);
}

static int
open_mount_source_cb (gpointer data, const char *host_path, gboolean read_only, GError **error)
{
  return open_mount_source (data, host_path, read_only, error);
}

static ScGatewayContext
gateway_context (ScContainer *c)
{
  return (ScGatewayContext){
    .container_id = c->id,
    .container_name = c->name,
    .init_pid = c->init_pid,
    .init_pidfd = c->pidfd,
    .host_dir = c->host_dir,
    .gateways_dir = c->gateways_dir,
    .cgroups = c->cgroups,
    .lxc = c->lxc,
    .open_source = open_mount_source_cb,
    .open_source_data = c,
  };
}

/* ---- Execute --------------------------------------------------------------------------- */

/* Runs in the attached process, inside the container, before the program. Resets what the
 * agent's thread left in it (signal mask and dispositions) and closes every descriptor but
 * 0, 1, 2, then execs. Only async-signal-safe calls. */
static int
exec_in_container (void *payload)
{
  char **argv = payload;
  struct sigaction dfl = { .sa_handler = SIG_DFL };
  sigset_t none;
  const char *msg1 = "softwarecontainer: cannot run ";
  const char *msg3;
  int e;

  for (int s = 1; s < NSIG; s++)
    sigaction (s, &dfl, NULL);
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  syscall (SYS_close_range, 3U, ~0U, 0U);
  execvp (argv[0], argv);
  e = errno;
  msg3 = e == ENOENT ? ": command not found\n" : ": permission denied or not an executable\n";
  if (write (2, msg1, strlen (msg1)) < 0 || write (2, argv[0], strlen (argv[0])) < 0
      || write (2, msg3, strlen (msg3)) < 0)
    _exit (e == ENOENT || e == ENOTDIR ? 127 : 126);
  _exit (e == ENOENT || e == ENOTDIR ? 127 : 126);
}

/* Checks that cwd is a directory inside the container, resolved within its root. */
static gboolean
check_cwd (ScContainer *c, const char *cwd, GError **error)
{
  g_autofree char *root_path = g_strdup_printf ("/proc/%d/root", (int) c->init_pid);
  struct open_how how = { .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                          .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
  sc_autofd root = open (root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  sc_autofd dir = -1;

  /* the pidfd says whether root_path still belongs to our init (pids can be reused) */
  if (root < 0 || syscall (SYS_pidfd_send_signal, c->pidfd, 0, NULL, 0) < 0)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_BAD_STATE, "the init of container %d is gone", c->id);
      return FALSE;
    }
  dir = (int) syscall (SYS_openat2, root, cwd, &how, sizeof how);
  if (dir < 0)
    {
      int e = errno;
      g_set_error (error, SC_ERROR, SC_ERROR_BAD_PATH,
                   "working directory %s does not exist in the container: %s", cwd,
                   e == ENOTDIR ? "not a directory" : g_strerror (e));
      return FALSE;
    }
  return TRUE;
}

/* Opens the output file for appending; *created tells whether this call made it, so that a
 * failed Execute can remove it again. */
static int
open_output (const char *output_file, gboolean *created, GError **error)
{
  const int flags = O_WRONLY | O_APPEND | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC;
  int fd;

  *created = FALSE;
  if (output_file == NULL || output_file[0] == '\0')
    fd = open ("/dev/null", O_WRONLY | O_CLOEXEC);
  else if (output_file[0] != '/')
    {
      g_set_error (error, SC_ERROR, SC_ERROR_BAD_PATH, "output file '%s' is not an absolute path",
                   output_file);
      return -1;
    }
  else
    {
      /* O_NONBLOCK: a FIFO without a reader must not block the worker (ENXIO instead) */
      fd = open (output_file, flags | O_CREAT | O_EXCL, 0644);
      if (fd >= 0)
        *created = TRUE;
      else if (errno == EEXIST)
        fd = open (output_file, flags);
    }
  if (fd < 0)
    {
      int e = errno;
      g_set_error (error, SC_ERROR, SC_ERROR_BAD_PATH, "cannot open output file %s: %s",
                   output_file, e == ENXIO ? "a FIFO without a reader" : g_strerror (e));
      return -1;
    }
  /* the process gets ordinary blocking writes */
  fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
}

static gboolean
apply_defaults_if_needed (ScContainer *c, GError **error);

pid_t
sc_container_execute (ScContainer *c, char **argv, const char *cwd, const char *output_file,
                      GHashTable *env, GError **error)
{
  g_autoptr (GHashTable) full_env = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr (GPtrArray) envv = g_ptr_array_new_with_free_func (g_free);
  lxc_attach_options_t options = LXC_ATTACH_OPTIONS_DEFAULT;
  sc_autofd out = -1;
  sc_autofd in = -1;
  gboolean created_output = FALSE;
  GHashTableIter iter;
  gpointer key, value;
  pid_t pid = -1;
  int ret;

  /* Checks that cannot depend on the default capabilities come first, so that a call they
   * refuse changes nothing. The working directory may be one that a default capability's
   * mount provides: it is checked after the defaults are applied (which then stay applied). */
  if (!sc_container_check_usable (c, error))
    return -1;
  if (cwd == NULL || cwd[0] == '\0')
    cwd = "/";
  if (cwd[0] != '/')
    {
      g_set_error (error, SC_ERROR, SC_ERROR_BAD_PATH,
                   "working directory '%s' is not an absolute path", cwd);
      return -1;
    }
  out = open_output (output_file, &created_output, error);
  if (out < 0)
    return -1;
  /* never fd 0: liblxc would set SIGINT and SIGQUIT to ignored in the agent itself */
  in = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  if (in < 0)
    {
      sc_set_errno_error (error, errno, "/dev/null");
      goto fail;
    }
  if (!apply_defaults_if_needed (c, error) || !check_cwd (c, cwd, error))
    goto fail;

  sc_gateway_set_environment (c->gateways, full_env);
  if (env != NULL)
    {
      g_hash_table_iter_init (&iter, env);
      while (g_hash_table_iter_next (&iter, &key, &value))
        g_hash_table_replace (full_env, g_strdup (key), g_strdup (value));
    }
  g_hash_table_iter_init (&iter, full_env);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_ptr_array_add (envv, g_strdup_printf ("%s=%s", (char *) key, (char *) value));
  g_ptr_array_add (envv, NULL);

  options.attach_flags = LXC_ATTACH_DEFAULT | LXC_ATTACH_NO_NEW_PRIVS;
  options.env_policy = LXC_ATTACH_CLEAR_ENV;
  options.extra_env_vars = (char **) envv->pdata;
  options.initial_cwd = (char *) cwd;
  options.stdin_fd = in;
  options.stdout_fd = out;
  options.stderr_fd = out;

  ret = c->lxc->attach (c->lxc, exec_in_container, argv, &options, &pid);
  sc_container_close_leaked_pidfds (c->init_pid);
  if (ret < 0 || pid <= 0)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_LXC, "LXC could not attach to %s to run %s", c->name,
                   argv[0]);
      goto fail;
    }
  g_debug ("%s: started %s as pid %d", c->name, argv[0], (int) pid);
  return pid;

fail:
  if (created_output && unlink (output_file) < 0)
    g_debug ("cannot remove %s: %s", output_file, g_strerror (errno));
  return -1;
}

/* ---- Suspend / Resume -------------------------------------------------------------------- */

gboolean
sc_container_suspend (ScContainer *c, GError **error)
{
  g_autoptr (GError) thaw_error = NULL;
  g_autoptr (GError) freeze_error = NULL;

  if (c->state == SC_CONTAINER_SUSPENDED)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_BAD_STATE, "container %d is suspended already", c->id);
      return FALSE;
    }
  if (!sc_container_check_usable (c, error))
    return FALSE;
  if (!sc_cgroups_freeze (c->cgroups, TRUE, 5000, &freeze_error))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_LXC, "cannot suspend container %d: %s", c->id,
                   freeze_error->message);
      /* roll back: thaw whatever froze; only if that fails too is the container invalid */
      if (!sc_cgroups_freeze (c->cgroups, FALSE, 5000, &thaw_error))
        sc_container_mark_invalid (c, "a failed Suspend could not be undone");
      return FALSE;
    }
  c->state = SC_CONTAINER_SUSPENDED;
  return TRUE;
}

gboolean
sc_container_resume (ScContainer *c, GError **error)
{
  g_autoptr (GError) thaw_error = NULL;

  if (c->state == SC_CONTAINER_RUNNING)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_BAD_STATE, "container %d is not suspended", c->id);
      return FALSE;
    }
  if (c->state != SC_CONTAINER_SUSPENDED)
    return sc_container_check_usable (c, error);
  if (!sc_cgroups_freeze (c->cgroups, FALSE, 5000, &thaw_error))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_LXC, "cannot resume container %d: %s", c->id,
                   thaw_error->message);
      sc_container_mark_invalid (c, "Resume failed");
      return FALSE;
    }
  c->state = SC_CONTAINER_RUNNING;
  return TRUE;
}

/* ---- BindMount ----------------------------------------------------------------------------- */

gboolean
sc_container_bind_mount (ScContainer *c, const char *path_in_host, const char *path_in_container,
                         gboolean read_only, GError **error)
{
  sc_autofd source = -1;
  g_autoptr (ScMountRecord) record = NULL;
  ScMountRequest request;
  gboolean undo_failed = FALSE;

  if (!sc_container_check_usable (c, error))
    return FALSE;
  source = open_mount_source (c, path_in_host, read_only, error);
  if (source < 0)
    return FALSE;
  request = (ScMountRequest){ source, path_in_container, read_only };
  record = sc_mount_into_container (c->pidfd, &request, 1, &undo_failed, error);
  if (record == NULL)
    {
      if (undo_failed)
        sc_container_mark_invalid (c, "a failed BindMount could not be rolled back");
      return FALSE;
    }
  g_debug ("%s: %s mounted on %s%s", c->name, path_in_host, path_in_container,
           read_only ? " (read-only)" : "");
  return TRUE;
}

/* ---- Capabilities ------------------------------------------------------------------------ */

gboolean
sc_container_defaults_applied (ScContainer *c)
{
  return c->defaults_applied;
}

gboolean
sc_container_has_capability (ScContainer *c, const char *name)
{
  return g_hash_table_contains (c->capabilities, name);
}

gboolean
sc_container_apply_capabilities (ScContainer *c, GPtrArray *configs, const char *const *names,
                                 gboolean with_defaults, GError **error)
{
  ScGatewayContext ctx = gateway_context (c);
  gboolean undo_failed = FALSE;

  if (!sc_container_check_usable (c, error))
    return FALSE;
  ctx.undo_failed = &undo_failed;
  if (!sc_gateway_set_apply (c->gateways, configs, &ctx, error))
    {
      /* rolled back, unless a gateway could not undo its part */
      if (undo_failed)
        sc_container_mark_invalid (c, "a failed SetCapabilities could not be rolled back");
      return FALSE;
    }
  for (const char *const *n = names; n != NULL && *n != NULL; n++)
    g_hash_table_add (c->capabilities, g_strdup (*n));
  if (with_defaults)
    c->defaults_applied = TRUE;
  return TRUE;
}

static gboolean
apply_defaults_if_needed (ScContainer *c, GError **error)
{
  if (c->defaults_applied)
    return TRUE;
  if (!sc_container_apply_capabilities (c, c->runtime->default_configs, NULL, TRUE, error))
    {
      g_prefix_error (error, "default capabilities: ");
      return FALSE;
    }
  return TRUE;
}

/* ---- Destroy --------------------------------------------------------------------------- */

gboolean
sc_container_destroy (ScContainer *c, GError **error)
{
  ScGatewayContext ctx = gateway_context (c);
  g_autoptr (GError) local_error = NULL;

  if (c->state == SC_CONTAINER_DESTROYED)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ID, "no container with ID %d", c->id);
      return FALSE;
    }
  /* A frozen container cannot act on the halt signal, and SIGKILL waits for the thaw. */
  if (c->cgroups != NULL && c->state != SC_CONTAINER_RUNNING
      && !sc_cgroups_freeze (c->cgroups, FALSE, 5000, &local_error))
    {
      g_debug ("%s: thaw before destroy: %s", c->name, local_error->message);
      g_clear_error (&local_error);
    }
  if (!sc_gateway_set_teardown (c->gateways, &ctx, &local_error))
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error), "container %d: ", c->id);
      sc_container_mark_invalid (c, "a gateway could not be torn down");
      return FALSE;
    }
  if (!stop (c->lxc, c->name, c->runtime->shutdown_timeout, error))
    {
      sc_container_mark_invalid (c, "Destroy failed");
      return FALSE;
    }
  /* The container's mount namespace, and with it the overlays, is gone: the upper layers are
   * final. A sync that cannot finish keeps them and the container for the next Destroy. */
  if (c->write_buffer && !sc_write_buffer_sync (c->host_dir, &local_error))
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error), "container %d: ", c->id);
      sc_container_mark_invalid (c, "its write buffers could not be synced; Destroy retries");
      return FALSE;
    }
  if (!remove_traces (c->runtime, c->name, c->lxc, error))
    {
      sc_container_mark_invalid (c, "Destroy failed");
      return FALSE;
    }
  if (c->pidfd >= 0)
    {
      own_pidfd (c->pidfd, FALSE);
      close (c->pidfd);
      c->pidfd = -1;
    }
  c->state = SC_CONTAINER_DESTROYED;
  g_debug ("%s: destroyed", c->name);
  return TRUE;
}

/* ---- Startup cleanup ----------------------------------------------------------------------- */

static gboolean
is_our_name (const char *name)
{
  if (!g_str_has_prefix (name, "SC-") || name[3] == '\0')
    return FALSE;
  for (const char *p = name + 3; *p != '\0'; p++)
    if (!g_ascii_isdigit (*p))
      return FALSE;
  return TRUE;
}

static void
cleanup_one (const ScRuntime *runtime, const char *name)
{
  g_autoptr (LxcContainer) lxc = lxc_container_new (name, runtime->lxcpath);
  g_autofree char *host_dir = g_build_filename (runtime->shared_mounts_dir, name, NULL);
  g_autoptr (GError) error = NULL;

  if (lxc != NULL && !stop (lxc, name, 0, &error))
    {
      g_warning ("stale container %s: %s", name, error->message);
      return;
    }
  /* A crashed agent's write buffers outlive it (tmpfs): synced before anything goes. What
   * cannot be synced is kept, under a new name so that the container's name is free again. */
  if (!sc_write_buffer_sync (host_dir, &error))
    {
      g_autoptr (GError) aside_error = NULL;
      g_autofree char *kept = sc_write_buffer_set_aside (host_dir, runtime->shared_mounts_dir,
                                                         name, &aside_error);

      if (kept == NULL)
        {
          g_warning ("WRITE BUFFERS NOT SYNCED, DATA KEPT in %s; the stale container %s is left "
                     "as it is: %s (and cannot be moved aside: %s)",
                     host_dir, name, error->message, aside_error->message);
          return;
        }
      g_warning ("WRITE BUFFERS NOT SYNCED, DATA KEPT in %s (each start of the agent retries "
                 "the sync): %s",
                 kept, error->message);
      g_clear_error (&error);
    }
  if (!remove_traces (runtime, name, lxc, &error))
    g_warning ("stale container %s: %s", name, error->message);
  else
    g_message ("removed stale container %s", name);
}

guint
sc_container_cleanup_stale (const ScRuntime *runtime)
{
  g_autoptr (GHashTable) names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *lock_dir = g_strdup_printf ("/run/lxc/lock%s", runtime->lxcpath);
  const char *const dirs[] = { runtime->lxcpath, runtime->shared_mounts_dir, lock_dir };
  GHashTableIter iter;
  gpointer name;
  guint kept;

  /* write buffers that an earlier start could not sync (retried before this start adds any) */
  kept = sc_write_buffer_retry_unsynced (runtime->shared_mounts_dir);
  if (kept > 0)
    g_warning ("%u unsynced write buffer(s) kept in %s", kept, runtime->shared_mounts_dir);

  /* A stale container shows up in lxcpath, or (half made) only in the shared-mounts dir, or
   * only as liblxc's lock file ".SC-<id>". */
  for (guint i = 0; i < G_N_ELEMENTS (dirs); i++)
    {
      g_autoptr (GDir) d = g_dir_open (dirs[i], 0, NULL);
      const char *entry;

      while (d != NULL && (entry = g_dir_read_name (d)) != NULL)
        {
          const char *n = entry[0] == '.' && dirs[i] == lock_dir ? entry + 1 : entry;
          if (is_our_name (n))
            g_hash_table_add (names, g_strdup (n));
        }
    }
  g_hash_table_iter_init (&iter, names);
  while (g_hash_table_iter_next (&iter, &name, NULL))
    cleanup_one (runtime, name);
  return g_hash_table_size (names);
}
