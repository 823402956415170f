/* softwarecontainer-agent: options, config, the bus, signals and the main loop. Thin: the
 * work is in agent.c (containers), service.c (D-Bus) and config.c (settings). */
#include <glib-unix.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "cgroup.h"
#include "config.h"
#include "service.h"
#include "util.h"

#define SC_BUS_NAME "com.pelagicore.SoftwareContainerAgent"
/* One agent per host: every agent removes the SC-* containers it finds at startup, so a second
 * one would destroy the first one's containers before it even reached the bus. */
#define SC_AGENT_LOCK "/run/softwarecontainer-agent.lock"

typedef struct {
  GMainLoop *loop;
  ScAgent *agent;
  GDBusConnection *connection;
  guint owner_id;
  gboolean owned;
  gboolean stopping;
  int exit_code;
} App;

/* Takes the host-wide agent lock for the life of the process; the fd stays open (close-on-exec). */
static gboolean
take_agent_lock (GError **error)
{
  int fd = open (SC_AGENT_LOCK, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  char pid[32];

  if (fd < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "cannot open %s: %s",
                   SC_AGENT_LOCK, g_strerror (errno));
      return FALSE;
    }
  if (flock (fd, LOCK_EX | LOCK_NB) < 0)
    {
      int e = errno;
      char other[32] = "";
      ssize_t n = pread (fd, other, sizeof other - 1, 0);

      if (n > 0)
        other[strcspn (other, "\n")] = '\0';
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e),
                   "another softwarecontainer-agent is running on this host%s%s%s (it holds %s); "
                   "one agent serves " SC_BUS_NAME " and manages the SC-* containers of a host",
                   n > 0 ? " (pid " : "", n > 0 ? other : "", n > 0 ? ")" : "", SC_AGENT_LOCK);
      close (fd);
      return FALSE;
    }
  g_snprintf (pid, sizeof pid, "%d\n", (int) getpid ());
  if (ftruncate (fd, 0) < 0 || pwrite (fd, pid, strlen (pid), 0) < 0)
    g_debug ("cannot record the pid in %s", SC_AGENT_LOCK);
  return TRUE;
}

static void
shutdown_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  App *app = user_data;

  g_message ("all containers destroyed; exiting");
  g_main_loop_quit (app->loop);
}

static void
begin_shutdown (App *app, int exit_code)
{
  if (app->stopping)
    return;
  app->stopping = TRUE;
  app->exit_code = exit_code;
  sc_agent_shutdown (app->agent, shutdown_done, app);
}

static gboolean
on_signal (gpointer user_data)
{
  App *app = user_data;

  g_message ("signal received: destroying every container");
  begin_shutdown (app, 0);
  return G_SOURCE_CONTINUE;
}

static void
name_acquired (GDBusConnection *connection, const char *name, gpointer user_data)
{
  App *app = user_data;

  app->owned = TRUE;
  g_message ("serving %s", name);
}

static void
name_lost (GDBusConnection *connection, const char *name, gpointer user_data)
{
  App *app = user_data;

  if (!app->owned)
    {
      g_printerr ("softwarecontainer-agent: cannot own %s on the bus (is another agent "
                  "running, or does the bus policy not allow root to own it?)\n",
                  name);
      app->exit_code = 1;
      g_main_loop_quit (app->loop);
      return;
    }
  g_warning ("lost the bus name %s", name);
  begin_shutdown (app, 1);
}

static void
connection_closed (GDBusConnection *connection, gboolean remote_peer_vanished, GError *error,
                   gpointer user_data)
{
  App *app = user_data;

  g_warning ("the bus connection closed: destroying every container");
  begin_shutdown (app, 1);
}

int
main (int argc, char **argv)
{
  g_autoptr (ScConfig) config = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *init_path = NULL;
  ScService *service = NULL;
  App app = { 0 };

  /* Nothing the agent inherited may reach a container, a helper or the LXC monitor, and a lock
   * or pipe of whoever started it must not stay open for the agent's whole life. */
  syscall (SYS_close_range, 3U, ~0U, 0U);
  umask (022);
  signal (SIGPIPE, SIG_IGN);
  /* inherited socket activation fds must not reach LXC's monitor (lxc-notes.md) */
  g_unsetenv ("LISTEN_FDS");
  g_unsetenv ("LISTEN_PID");
  g_unsetenv ("LISTEN_FDNAMES");

  config = sc_config_parse (argc, argv, SC_DEFAULT_CONFIG_PATH, &error);
  if (config == NULL)
    {
      g_printerr ("softwarecontainer-agent: %s\n", error->message);
      return 1;
    }
  if (!take_agent_lock (&error))
    {
      g_printerr ("softwarecontainer-agent: %s\n", error->message);
      return 1;
    }
  if (g_getenv ("LXC_MEMFD_REXEC") == NULL)
    g_warning ("LXC_MEMFD_REXEC is not set: liblxc does not re-execute the agent from a sealed "
               "memfd, and /proc/self/exe could be overwritten from a container "
               "(CVE-2019-5736); set LXC_MEMFD_REXEC=1 as the systemd unit does");

  app.connection = g_bus_get_sync (config->use_session_bus ? G_BUS_TYPE_SESSION : G_BUS_TYPE_SYSTEM,
                                   NULL, &error);
  if (app.connection == NULL)
    {
      g_printerr ("softwarecontainer-agent: cannot connect to the %s bus: %s\n",
                  config->use_session_bus ? "session" : "system", error->message);
      return 1;
    }
  g_dbus_connection_set_exit_on_close (app.connection, FALSE);

  if (!sc_cgroup_remember_self (&error))
    {
      g_printerr ("softwarecontainer-agent: cannot read the agent's cgroups: %s\n", error->message);
      return 1;
    }
  /* sc-init and the other helpers sit beside the binary in a build tree, else in
   * SC_LIBEXECDIR */
  sc_helpers_init (argv[0]);
  init_path = sc_helper_path ("sc-init");
  if (!g_file_test (init_path, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_printerr ("softwarecontainer-agent: the container init %s is missing\n", init_path);
      return 1;
    }
  app.agent = sc_agent_new (config, init_path, &error);
  if (app.agent == NULL)
    {
      g_printerr ("softwarecontainer-agent: %s\n", error->message);
      return 1;
    }
  /* From here a SIGTERM means the orderly shutdown, even one that comes during the stale
   * cleanup: it is handled as soon as the main loop runs. */
  app.loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGTERM, on_signal, &app);
  g_unix_signal_add (SIGINT, on_signal, &app);
  sc_agent_cleanup_stale (app.agent);

  service = sc_service_new (app.agent, app.connection, &error);
  if (service == NULL)
    {
      g_printerr ("softwarecontainer-agent: cannot export the D-Bus object: %s\n", error->message);
      return 1;
    }

  g_signal_connect (app.connection, "closed", G_CALLBACK (connection_closed), &app);
  app.owner_id = g_bus_own_name_on_connection (app.connection, SC_BUS_NAME,
                                               G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE, name_acquired,
                                               name_lost, &app, NULL);
  g_main_loop_run (app.loop);

  g_bus_unown_name (app.owner_id);
  sc_service_free (service);
  g_dbus_connection_flush_sync (app.connection, NULL, NULL);
  sc_agent_free (app.agent);
  g_object_unref (app.connection);
  g_main_loop_unref (app.loop);
  return app.exit_code;
}
