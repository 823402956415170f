/* The dbus gateway: filtered access to the agent's session and system buses.
 *
 * Items: {"dbus-gateway-config-session": [RULE...], "dbus-gateway-config-system": [RULE...]},
 * either key absent = that bus is not offered by the item; RULE as in dbus-filter.h
 * ({"direction", "interface", "object-path", "method"}), checked strictly by the same parser the
 * proxy uses. The gateway is dynamic: later capabilities add rules.
 *
 * For each offered bus the gateway runs one softwarecontainer-dbus-proxy (found beside the agent
 * in a build tree, else in SC_LIBEXECDIR) listening on <gateways_dir>/dbus-<bus>-bus.socket,
 * which the container sees under /gateways; Execute'd processes get DBUS_SESSION_BUS_ADDRESS /
 * DBUS_SYSTEM_BUS_ADDRESS pointing there. The proxy gets exactly five descriptors: /dev/null,
 * the agent's stdout and stderr (its log), a control pipe (fd 3) on which the gateway writes the
 * complete rule set of that bus as one JSON line, and a status pipe (fd 4) on which the proxy
 * answers: 'R' once it listens (or an error text, then it exits), then 'A' for each rule line
 * once those rules hold. So apply returns only when the proxy is ready and the rules hold, with
 * no sleep anywhere. Revert sends the previous rule set again (rules only ever replace the whole
 * set, which is what makes a later gateway's failure undoable).
 *
 * The real buses are the agent's: the session bus of its DBUS_SESSION_BUS_ADDRESS, the system
 * bus of its DBUS_SYSTEM_BUS_ADDRESS or /run/dbus/system_bus_socket. The proxy connects once
 * before it says it is ready, so a bus the agent cannot reach is a GatewayFailed naming it.
 *
 * Processes. Everything here runs on the agent's worker thread. The proxies are children of
 * the agent spawned without a child watch, and this file is the only one that reaps them, always
 * by pid (waitpid(pid), never waitpid(-1)): teardown stops them (control pipe closed and SIGTERM;
 * SIGKILL after PROXY_STOP_TIMEOUT_MS) and reaps them, and apply reaps a proxy that died on its
 * own before it uses that bus again (then it starts a new one with all the rules). So that a
 * death is logged when it happens, not only when the gateway is next used, a source on the
 * agent's main context watches each proxy's status pipe for its hang-up and logs a warning with
 * the container ID; it only logs (it never reaps, and touches no gateway state), and teardown
 * destroys it before stopping the proxy on purpose. A pipe rather than a pidfd: the agent closes
 * pidfds it does not know of after every Execute (liblxc leaks them). */
#include "gateway.h"

#include <fcntl.h>
#include <glib-unix.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "dbus-filter.h"
#include "error.h"
#include "json.h"
#include "rootfs.h"
#include "util.h"

#define PROXY_PROGRAM "softwarecontainer-dbus-proxy"
#define PROXY_ANSWER_TIMEOUT_MS 5000
#define PROXY_STOP_TIMEOUT_MS 2000
#define DEFAULT_SYSTEM_BUS_ADDRESS "unix:path=/run/dbus/system_bus_socket"

typedef enum
{
  BUS_SESSION,
  BUS_SYSTEM,
  N_BUSES,
} Bus;

static const char *const bus_names[N_BUSES] = { "session", "system" };
static const char *const bus_keys[N_BUSES]
    = { "dbus-gateway-config-session", "dbus-gateway-config-system" };
static const char *const bus_env[N_BUSES]
    = { "DBUS_SESSION_BUS_ADDRESS", "DBUS_SYSTEM_BUS_ADDRESS" };
static const char *const bus_sockets[N_BUSES]
    = { "dbus-session-bus.socket", "dbus-system-bus.socket" };

/* A running proxy. */
typedef struct
{
  GPid pid;
  int control_fd; /* write end of its control pipe */
  int status_fd;  /* read end of its status pipe */
  GSource *death_watch;
  char *socket_path;
  int container_id;
  Bus bus;
} DbusProxy;

typedef struct
{
  JsonArray *rules[N_BUSES]; /* committed rule objects of each bus */
  DbusProxy *proxies[N_BUSES];
} DbusState;

typedef struct
{
  gboolean offered[N_BUSES];
  JsonArray *added[N_BUSES]; /* rule objects this call adds */
  /* set by apply until commit or revert */
  DbusProxy *started[N_BUSES]; /* started by this call */
  gboolean updated[N_BUSES];   /* a running proxy got the merged rules */
} DbusChange;

/* ---- the proxies ---------------------------------------------------------------------------- */

typedef struct
{
  int container_id;
  Bus bus;
  GPid pid;
  int fd;
} DeathWatch;

static void
death_watch_free (gpointer data)
{
  DeathWatch *watch = data;

  close (watch->fd);
  g_free (watch);
}

/* On the agent's main context: the proxy's end of the status pipe closed, so it exited. */
static gboolean
death_watch_cb (int fd, GIOCondition condition, gpointer data)
{
  DeathWatch *watch = data;

  g_warning ("container %d: the D-Bus proxy of the %s bus (pid %d) exited unexpectedly; the "
             "container's connections to that bus are cut until a capability configures the "
             "bus again",
             watch->container_id, bus_names[watch->bus], (int)watch->pid);
  return G_SOURCE_REMOVE;
}

static void
proxy_watch (DbusProxy *p)
{
  DeathWatch *watch = g_new0 (DeathWatch, 1);

  watch->container_id = p->container_id;
  watch->bus = p->bus;
  watch->pid = p->pid;
  watch->fd = fcntl (p->status_fd, F_DUPFD_CLOEXEC, 3);
  if (watch->fd < 0)
    {
      g_warning ("container %d: cannot watch the %s bus D-Bus proxy: %s", p->container_id,
                 bus_names[p->bus], g_strerror (errno));
      g_free (watch);
      return;
    }
  p->death_watch = g_unix_fd_source_new (watch->fd, G_IO_HUP | G_IO_ERR);
  g_source_set_callback (p->death_watch, G_SOURCE_FUNC (death_watch_cb), watch, death_watch_free);
  g_source_set_static_name (p->death_watch, "dbus-proxy death watch");
  g_source_attach (p->death_watch, g_main_context_default ());
}

/* Stops (unless it is reaped already), reaps and forgets a proxy, and removes its socket. */
static void
proxy_free (DbusProxy *p)
{
  if (p == NULL)
    return;
  if (p->death_watch != NULL)
    {
      g_source_destroy (p->death_watch);
      g_source_unref (p->death_watch);
    }
  if (p->control_fd >= 0)
    close (p->control_fd); /* the proxy exits when its control pipe ends */
  if (p->pid > 0)
    {
      struct pollfd pfd = { .fd = p->status_fd, .events = POLLIN };
      gint64 deadline = g_get_monotonic_time () + PROXY_STOP_TIMEOUT_MS * 1000;
      int status;

      kill (p->pid, SIGTERM);
      /* its status pipe hangs up when it exits; acknowledgements nobody read may come first */
      while (p->status_fd >= 0)
        {
          int left = (int)((deadline - g_get_monotonic_time ()) / 1000);
          char buf[256];

          if (left <= 0 || poll (&pfd, 1, left) <= 0)
            break;
          if ((pfd.revents & POLLIN) != 0 && read (p->status_fd, buf, sizeof buf) > 0)
            continue;
          if ((pfd.revents & (POLLHUP | POLLERR | POLLIN)) != 0)
            break;
        }
      if (waitpid (p->pid, &status, WNOHANG) != p->pid)
        {
          if (g_get_monotonic_time () >= deadline)
            g_warning ("container %d: the D-Bus proxy of the %s bus (pid %d) did not stop within "
                       "%d ms of SIGTERM: killing it",
                       p->container_id, bus_names[p->bus], (int)p->pid, PROXY_STOP_TIMEOUT_MS);
          kill (p->pid, SIGKILL);
          while (waitpid (p->pid, &status, 0) < 0 && errno == EINTR)
            ;
        }
      g_debug ("container %d: the D-Bus proxy of the %s bus (pid %d) stopped", p->container_id,
               bus_names[p->bus], (int)p->pid);
    }
  if (p->status_fd >= 0)
    close (p->status_fd);
  if (p->socket_path != NULL && unlink (p->socket_path) < 0 && errno != ENOENT)
    g_warning ("container %d: cannot remove %s: %s", p->container_id, p->socket_path,
               g_strerror (errno));
  g_free (p->socket_path);
  g_free (p);
}

/* A proxy that died on its own is reaped here, logged, and forgotten (its socket removed). */
static void
proxy_reap_if_dead (DbusProxy **pp)
{
  DbusProxy *p = *pp;
  g_autofree char *how = NULL;
  int status;

  if (p == NULL || waitpid (p->pid, &status, WNOHANG) != p->pid)
    return;
  how = WIFEXITED (status) ? g_strdup_printf ("exit status %d", WEXITSTATUS (status))
                           : g_strdup_printf ("signal %d", WTERMSIG (status));
  g_warning ("container %d: the D-Bus proxy of the %s bus (pid %d) had exited (%s); a new one "
             "takes its place",
             p->container_id, bus_names[p->bus], (int)p->pid, how);
  p->pid = 0;
  proxy_free (p);
  *pp = NULL;
}

/* Waits for the proxy's answer `want` ('R' ready, 'A' rules hold); anything else is an error
 * text (after an 'E', up to a newline; or whatever comes before its exit). */
static gboolean
proxy_wait (DbusProxy *p, char want, GError **error)
{
  gint64 deadline = g_get_monotonic_time () + PROXY_ANSWER_TIMEOUT_MS * 1000;
  g_autoptr (GString) text = NULL;

  for (;;)
    {
      struct pollfd pfd = { .fd = p->status_fd, .events = POLLIN };
      int left = (int)((deadline - g_get_monotonic_time ()) / 1000);
      char c;
      ssize_t n;

      if (left <= 0 || poll (&pfd, 1, left) == 0)
        {
          g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_FAILED,
                       "the D-Bus proxy of the %s bus did not answer within %d ms",
                       bus_names[p->bus], PROXY_ANSWER_TIMEOUT_MS);
          return FALSE;
        }
      n = read (p->status_fd, &c, 1);
      if (n < 0 && (errno == EINTR || errno == EAGAIN))
        continue;
      if (n == 1 && text == NULL && c == want)
        return TRUE;
      if (n == 1 && text == NULL)
        {
          text = g_string_new (NULL);
          if (c == 'E')
            continue;
        }
      if (n == 1 && c != '\n')
        {
          if (text->len < 4096)
            g_string_append_c (text, c);
          continue;
        }
      break;
    }
  g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_FAILED, "the %s bus: %s", bus_names[p->bus],
               text != NULL && text->len > 0 ? text->str : "the D-Bus proxy exited");
  return FALSE;
}

static char *
rules_line (JsonArray *committed, JsonArray *added)
{
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autoptr (JsonNode) root = json_node_new (JSON_NODE_ARRAY);
  JsonArray *all = json_array_new ();

  for (guint i = 0; committed != NULL && i < json_array_get_length (committed); i++)
    json_array_add_element (all, json_node_copy (json_array_get_element (committed, i)));
  for (guint i = 0; added != NULL && i < json_array_get_length (added); i++)
    json_array_add_element (all, json_node_copy (json_array_get_element (added, i)));
  json_node_take_array (root, all);
  json_generator_set_root (generator, root);
  /* not pretty: one line, with any newline in a string escaped */
  return json_generator_to_data (generator, NULL);
}

/* Writes a complete rule set on the control pipe. */
static gboolean
proxy_write_rules (DbusProxy *p, const char *line, GError **error)
{
  g_autofree char *text = g_strconcat (line, "\n", NULL);
  gsize len = strlen (text);
  const char *data = text;

  while (len > 0)
    {
      ssize_t n = write (p->control_fd, data, len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_FAILED,
                       "the %s bus: cannot send rules to its D-Bus proxy: %s", bus_names[p->bus],
                       g_strerror (errno));
          return FALSE;
        }
      data += n;
      len -= (gsize)n;
    }
  return TRUE;
}

/* Sends a complete rule set and waits until it holds. */
static gboolean
proxy_send_rules (DbusProxy *p, const char *line, GError **error)
{
  return proxy_write_rules (p, line, error) && proxy_wait (p, 'A', error);
}

static const char *
bus_address (Bus bus, GError **error)
{
  const char *address = g_getenv (bus_env[bus]);

  if (address != NULL && address[0] != '\0')
    return address;
  if (bus == BUS_SYSTEM)
    return DEFAULT_SYSTEM_BUS_ADDRESS;
  g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_FAILED,
               "the session bus cannot be reached: the agent has no DBUS_SESSION_BUS_ADDRESS "
               "in its environment");
  return NULL;
}

/* Starts a proxy for bus with these rules and waits until it listens and they hold. */
static DbusProxy *
proxy_start (const ScGatewayContext *ctx, Bus bus, const char *line, GError **error)
{
  g_autofree char *program = sc_helper_path (PROXY_PROGRAM);
  g_autofree char *id = g_strdup_printf ("%d", ctx->container_id);
  g_autoptr (GError) spawn_error = NULL;
  const char *address = bus_address (bus, error);
  const char *debug = g_getenv ("G_MESSAGES_DEBUG");
  g_autofree char *debug_env
      = debug != NULL ? g_strconcat ("G_MESSAGES_DEBUG=", debug, NULL) : NULL;
  int control[2] = { -1, -1 }, status[2] = { -1, -1 };
  DbusProxy *p;

  if (address == NULL)
    return NULL;
  if (!g_file_test (program, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_FAILED,
                   "the %s bus: the D-Bus proxy %s is missing", bus_names[bus], program);
      return NULL;
    }
  if (!g_unix_open_pipe (control, FD_CLOEXEC, NULL) || !g_unix_open_pipe (status, FD_CLOEXEC, NULL))
    {
      int e = errno;

      sc_close_fdp (&control[0]);
      sc_close_fdp (&control[1]);
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_FAILED, "the %s bus: pipe: %s", bus_names[bus],
                   g_strerror (e));
      return NULL;
    }

  p = g_new0 (DbusProxy, 1);
  p->container_id = ctx->container_id;
  p->bus = bus;
  p->control_fd = control[1];
  p->status_fd = status[0];
  p->socket_path = g_build_filename (ctx->gateways_dir, bus_sockets[bus], NULL);
  {
    const char *argv[] = { program,
                           "--container-id",
                           id,
                           "--bus",
                           bus_names[bus],
                           "--address",
                           address,
                           "--socket",
                           p->socket_path,
                           "--control-fd",
                           "3",
                           "--status-fd",
                           "4",
                           NULL };
    const char *envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", debug_env, NULL };
    const int source_fds[] = { control[0], status[1] };
    const int target_fds[] = { 3, 4 };
    gboolean spawned = g_spawn_async_with_pipes_and_fds (
        NULL, argv, envp, G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDIN_FROM_DEV_NULL, NULL, NULL, -1,
        -1, -1, source_fds, target_fds, G_N_ELEMENTS (source_fds), &p->pid, NULL, NULL, NULL,
        &spawn_error);

    close (control[0]);
    close (status[1]);
    if (!spawned)
      {
        g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_FAILED,
                     "the %s bus: cannot start the D-Bus proxy %s: %s", bus_names[bus], program,
                     spawn_error->message);
        p->pid = 0;
        g_clear_pointer (&p->socket_path, g_free); /* not ours: never created */
        proxy_free (p);
        return NULL;
      }
  }
  /* the line waits in the pipe while the proxy starts; a proxy that fails to start reports
   * why on the status pipe, which says more than the write error would */
  proxy_write_rules (p, line, NULL);
  if (!proxy_wait (p, 'R', error) || !proxy_wait (p, 'A', error))
    {
      proxy_free (p);
      return NULL;
    }
  proxy_watch (p);
  g_debug ("container %d: D-Bus proxy of the %s bus: pid %d, %s for %s", ctx->container_id,
           bus_names[bus], (int)p->pid, p->socket_path, address);
  return p;
}

/* ---- configs ---------------------------------------------------------------------------- */

static void
dbus_change_free (gpointer data)
{
  DbusChange *change = data;

  if (change == NULL)
    return;
  for (int b = 0; b < N_BUSES; b++)
    {
      g_clear_pointer (&change->added[b], json_array_unref);
      proxy_free (change->started[b]);
    }
  g_free (change);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DbusChange, dbus_change_free)

static gboolean
dbus_merge_item (DbusChange *change, JsonNode *node, const char *where, GError **error)
{
  g_autoptr (GList) members = NULL;
  JsonObject *item;
  gboolean any = FALSE;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG, "%s: must be an object, not %s", where,
                   sc_json_type_name (node));
      return FALSE;
    }
  item = json_node_get_object (node);
  members = json_object_get_members (item);
  for (GList *l = members; l != NULL; l = l->next)
    if (strcmp (l->data, bus_keys[BUS_SESSION]) != 0 && strcmp (l->data, bus_keys[BUS_SYSTEM]) != 0)
      {
        g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                     "%s: unknown key '%s' (known: %s, %s)", where, (const char *)l->data,
                     bus_keys[BUS_SESSION], bus_keys[BUS_SYSTEM]);
        return FALSE;
      }
  for (int b = 0; b < N_BUSES; b++)
    {
      g_autofree char *rules_where = g_strdup_printf ("%s '%s'", where, bus_keys[b]);
      g_autoptr (GError) local_error = NULL;
      g_autoptr (ScDbusRules) checked = sc_dbus_rules_new ();
      JsonNode *rules = json_object_get_member (item, bus_keys[b]);
      JsonArray *list;

      if (rules == NULL)
        continue;
      any = TRUE;
      if (!sc_dbus_rules_add_json (checked, rules, rules_where, &local_error))
        {
          g_set_error_literal (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG, local_error->message);
          return FALSE;
        }
      change->offered[b] = TRUE;
      if (change->added[b] == NULL)
        change->added[b] = json_array_new ();
      list = json_node_get_array (rules);
      for (guint i = 0; i < json_array_get_length (list); i++)
        json_array_add_element (change->added[b],
                                json_node_copy (json_array_get_element (list, i)));
    }
  if (!any)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG, "%s: has neither '%s' nor '%s'", where,
                   bus_keys[BUS_SESSION], bus_keys[BUS_SYSTEM]);
      return FALSE;
    }
  return TRUE;
}

static gpointer
dbus_prepare (gpointer state, GPtrArray *configs, GError **error)
{
  g_autoptr (DbusChange) change = g_new0 (DbusChange, 1);

  for (guint k = 0; k < configs->len; k++)
    {
      const ScGatewayConfig *config = g_ptr_array_index (configs, k);
      g_autofree char *describe = sc_gateway_config_describe (config);
      JsonArray *items;
      guint n_items;

      if (config->config == NULL || !JSON_NODE_HOLDS_ARRAY (config->config))
        {
          g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                       "%s: the dbus config must be a JSON array, not %s", describe,
                       config->config != NULL ? sc_json_type_name (config->config) : "nothing");
          return NULL;
        }
      items = json_node_get_array (config->config);
      n_items = json_array_get_length (items);
      if (n_items == 0)
        {
          g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                       "%s: the dbus config is an empty array", describe);
          return NULL;
        }
      for (guint i = 0; i < n_items; i++)
        {
          g_autofree char *where = g_strdup_printf ("%s item %u", describe, i);

          if (!dbus_merge_item (change, json_array_get_element (items, i), where, error))
            return NULL;
        }
    }
  return g_steal_pointer (&change);
}

/* ---- the ops ------------------------------------------------------------------------------ */

static gpointer
dbus_state_new (void)
{
  return g_new0 (DbusState, 1);
}

static void
dbus_state_free (gpointer data)
{
  DbusState *state = data;

  if (state == NULL)
    return;
  for (int b = 0; b < N_BUSES; b++)
    {
      g_clear_pointer (&state->rules[b], json_array_unref);
      proxy_free (state->proxies[b]);
    }
  g_free (state);
}

/* Undoes what apply did for one bus: a proxy it started goes, a running one gets its old rules
 * back. */
static void
dbus_revert_bus (DbusState *state, DbusChange *change, Bus b, const ScGatewayContext *ctx)
{
  if (change->started[b] != NULL)
    g_clear_pointer (&change->started[b], proxy_free);
  if (change->updated[b] && state->proxies[b] != NULL)
    {
      g_autofree char *line = rules_line (state->rules[b], NULL);
      g_autoptr (GError) error = NULL;

      if (!proxy_send_rules (state->proxies[b], line, &error))
        {
          g_prefix_error (&error, "the %s bus's proxy cannot get its old rules back: ",
                          bus_names[b]);
          sc_gateway_report_undo_failure (ctx, "dbus", error);
        }
    }
  change->updated[b] = FALSE;
}

static gboolean
dbus_apply (gpointer data, gpointer change_data, const ScGatewayContext *ctx, GError **error)
{
  DbusState *state = data;
  DbusChange *change = change_data;

  for (int b = 0; b < N_BUSES; b++)
    {
      g_autofree char *line = NULL;

      if (!change->offered[b])
        continue;
      proxy_reap_if_dead (&state->proxies[b]);
      line = rules_line (state->rules[b], change->added[b]);
      if (state->proxies[b] != NULL)
        {
          if (proxy_send_rules (state->proxies[b], line, error))
            {
              change->updated[b] = TRUE;
              continue;
            }
        }
      else if ((change->started[b] = proxy_start (ctx, b, line, error)) != NULL)
        continue;
      while (b-- > 0)
        dbus_revert_bus (state, change, b, ctx);
      return FALSE;
    }
  return TRUE;
}

static void
dbus_revert (gpointer data, gpointer change_data, const ScGatewayContext *ctx)
{
  for (int b = 0; b < N_BUSES; b++)
    dbus_revert_bus (data, change_data, b, ctx);
}

static void
dbus_commit (gpointer data, gpointer change_data)
{
  DbusState *state = data;
  DbusChange *change = change_data;

  for (int b = 0; b < N_BUSES; b++)
    {
      if (!change->offered[b])
        continue;
      if (state->rules[b] == NULL)
        state->rules[b] = json_array_new ();
      for (guint i = 0; i < json_array_get_length (change->added[b]); i++)
        json_array_add_element (state->rules[b],
                                json_node_copy (json_array_get_element (change->added[b], i)));
      if (change->started[b] != NULL)
        state->proxies[b] = g_steal_pointer (&change->started[b]);
      change->updated[b] = FALSE;
      g_debug ("dbus gateway: %s bus: %u rule(s)", bus_names[b],
               json_array_get_length (state->rules[b]));
    }
}

static gboolean
dbus_teardown (gpointer data, const ScGatewayContext *ctx, GError **error)
{
  DbusState *state = data;

  /* proxy_free stops, reaps and removes the socket; what it cannot do it logs, and nothing of
   * it could be retried by a later Destroy, so teardown does not fail */
  for (int b = 0; b < N_BUSES; b++)
    g_clear_pointer (&state->proxies[b], proxy_free);
  return TRUE;
}

static void
dbus_environment (gpointer data, GHashTable *env)
{
  DbusState *state = data;

  for (int b = 0; b < N_BUSES; b++)
    if (state->proxies[b] != NULL)
      g_hash_table_replace (
          env, g_strdup (bus_env[b]),
          g_strdup_printf ("unix:path=%s/%s", SC_ROOTFS_GATEWAYS_DIR, bus_sockets[b]));
}

const ScGatewayOps sc_dbus_gateway = {
  .id = "dbus",
  .dynamic = TRUE,
  .state_new = dbus_state_new,
  .state_free = dbus_state_free,
  .prepare = dbus_prepare,
  .apply = dbus_apply,
  .revert = dbus_revert,
  .commit = dbus_commit,
  .change_free = dbus_change_free,
  .teardown = dbus_teardown,
  .environment = dbus_environment,
};
