/* The agent: the table of containers, ID allocation, the capability store, and one function
 * per D-Bus method. Knows nothing about D-Bus: service.c unpacks calls and packs replies.
 *
 * Methods that touch LXC are asynchronous: the call is checked on the main thread, the work is
 * queued on the worker thread, and `callback` runs on the main thread with a GAsyncResult to
 * hand to the matching _finish function. Everything else here runs on the main thread. */
#pragma once

#include <gio/gio.h>
#include <sys/types.h>

#include "config.h"

typedef struct ScAgent ScAgent;

/* A process started by Execute ended: exit_code is its exit status, or 128 + signal. */
typedef void (*ScProcessExitedFunc) (int container_id, pid_t pid, guint exit_code,
                                     gpointer user_data);

/* Reads the manifests and prepares the runtime; init_path is sc-init on the host. */
ScAgent *sc_agent_new (const ScConfig *config, const char *init_path, GError **error);
void sc_agent_free (ScAgent *agent);

void sc_agent_set_process_exited_func (ScAgent *agent, ScProcessExitedFunc func,
                                       gpointer user_data);

/* Startup, before the bus name is taken: removes stale SC-* containers. Blocking. */
guint sc_agent_cleanup_stale (ScAgent *agent);

/* IDs of the containers, sorted. */
GArray *sc_agent_list (ScAgent *agent);
/* Names of the standard (non-default) capabilities, sorted. */
gchar **sc_agent_list_capabilities (ScAgent *agent);

void sc_agent_create (ScAgent *agent, const char *config_json, GAsyncReadyCallback callback,
                      gpointer user_data);
void sc_agent_execute (ScAgent *agent, int id, const char *command_line,
                       const char *working_directory, const char *output_file, GHashTable *env,
                       GAsyncReadyCallback callback, gpointer user_data);
void sc_agent_suspend (ScAgent *agent, int id, GAsyncReadyCallback callback, gpointer user_data);
void sc_agent_resume (ScAgent *agent, int id, GAsyncReadyCallback callback, gpointer user_data);
void sc_agent_destroy (ScAgent *agent, int id, GAsyncReadyCallback callback, gpointer user_data);
void sc_agent_bind_mount (ScAgent *agent, int id, const char *path_in_host,
                          const char *path_in_container, gboolean read_only,
                          GAsyncReadyCallback callback, gpointer user_data);
void sc_agent_set_capabilities (ScAgent *agent, int id, const char *const *capabilities,
                                GAsyncReadyCallback callback, gpointer user_data);

/* Create and Execute: the new container ID / the host PID, or -1 with error. */
gint sc_agent_finish_int (ScAgent *agent, GAsyncResult *result, GError **error);
/* The other methods. */
gboolean sc_agent_finish (ScAgent *agent, GAsyncResult *result, GError **error);

/* SIGTERM: refuses new work, destroys every container as Destroy would, then calls back.
 * Failures are logged. */
void sc_agent_shutdown (ScAgent *agent, GAsyncReadyCallback callback, gpointer user_data);
