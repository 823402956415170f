/* The agent (see agent.h): container table, IDs, capabilities, and the split of every method
 * into a check on the main thread and work on the worker thread.
 *
 * Trusts the launcher to be the one the bus policy and service.c let in; trusts nothing in
 * the arguments: sizes, names and IDs are checked here or in the modules below before use.
 * The container table belongs to the main thread; a container object is shared with the
 * worker by reference count, and only the worker changes its state. */
#include "agent.h"

#include <glib-unix.h>
#include <lxc/lxccontainer.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#ifdef SC_ENABLE_NETWORK_GATEWAY
#include "bridge.h"
#endif
#include "cmdline.h"
#include "container.h"
#include "error.h"
#include "manifest.h"
#include "worker.h"

#define SC_MAX_ENV_ENTRIES 4096
#define SC_MAX_CAPABILITIES 4096
#define SC_MAX_NAME_BYTES 4096

/* One container as the main thread sees it. */
typedef struct {
  ScContainer *container;
  GSource *death_source; /* fires when the container's init exits */
} Entry;

struct ScAgent {
  ScRuntime runtime;
  ScManifestStore *manifests;
  ScManifestStore *default_manifests;
  GHashTable *entries; /* id -> Entry */
  gint64 next_id;      /* never reused while the agent runs */
  ScWorker *worker;
  gboolean shutting_down;
  ScProcessExitedFunc process_exited;
  gpointer process_exited_data;
};

/* The work of one call, shared by the main thread and the worker (never at the same time). */
typedef struct {
  ScAgent *agent;
  GTask *task;
  int id;
  ScContainer *container;
  ScContainerOptions options;
  char **argv;
  char *s1, *s2;
  char **names;
  GHashTable *env;
  gboolean flag;
  /* results */
  ScContainer *created;
  pid_t pid;
  GError *error;
} Job;

static void
job_free (Job *job)
{
  g_clear_object (&job->task);
  if (job->container != NULL)
    sc_container_unref (job->container);
  if (job->created != NULL)
    sc_container_unref (job->created);
  g_strfreev (job->argv);
  g_free (job->s1);
  g_free (job->s2);
  g_strfreev (job->names);
  if (job->env != NULL)
    g_hash_table_unref (job->env);
  g_clear_error (&job->error);
  g_free (job);
}

static Job *
job_new (ScAgent *agent, GAsyncReadyCallback callback, gpointer user_data, gpointer tag)
{
  Job *job = g_new0 (Job, 1);

  job->agent = agent;
  job->task = g_task_new (NULL, NULL, callback, user_data);
  g_task_set_source_tag (job->task, tag);
  job->pid = -1;
  return job;
}

/* Answers the caller from the main thread and frees the job. */
static void
job_return_bool (Job *job)
{
  if (job->error != NULL)
    g_task_return_error (job->task, g_steal_pointer (&job->error));
  else
    g_task_return_boolean (job->task, TRUE);
  job_free (job);
}

static void
job_fail (Job *job, GError *error)
{
  g_task_return_error (job->task, error);
  job_free (job);
}

/* Finds the container of a call on the main thread; fails the job if there is none. */
static gboolean
job_find (Job *job, int id)
{
  Entry *entry;

  job->id = id;
  if (job->agent->shutting_down)
    {
      job_fail (job, g_error_new (SC_ERROR, SC_ERROR_BAD_STATE, "the agent is shutting down"));
      return FALSE;
    }
  entry = g_hash_table_lookup (job->agent->entries, GINT_TO_POINTER (id));
  if (entry == NULL)
    {
      job_fail (job, g_error_new (SC_ERROR, SC_ERROR_INVALID_ID, "no container with ID %d", id));
      return FALSE;
    }
  job->container = sc_container_ref (entry->container);
  return TRUE;
}

static void
entry_free (gpointer data)
{
  Entry *entry = data;

  if (entry->death_source != NULL)
    {
      g_source_destroy (entry->death_source);
      g_source_unref (entry->death_source);
    }
  sc_container_unref (entry->container);
  g_free (entry);
}

/* ---- life of the agent --------------------------------------------------------------------- */

static const char *
find_seccomp_profile (void)
{
  static const char *const candidates[] = {
    "/usr/share/lxc/config/common.seccomp",
    "/usr/local/share/lxc/config/common.seccomp",
  };

  for (guint i = 0; i < G_N_ELEMENTS (candidates); i++)
    if (g_file_test (candidates[i], G_FILE_TEST_IS_REGULAR))
      return candidates[i];
  return NULL;
}

/* The shared-mounts dir holds what containers see of the host's gateways (and, with write
 * buffers, what apps wrote): only root may be able to change it. */
static gboolean
check_shared_mounts_dir (const char *dir, GError **error)
{
  struct stat st;

  if (g_mkdir_with_parents (dir, 0755) < 0)
    {
      sc_set_errno_error (error, errno, "shared-mounts-dir %s: cannot create it", dir);
      return FALSE;
    }
  if (lstat (dir, &st) < 0)
    {
      sc_set_errno_error (error, errno, "shared-mounts-dir %s", dir);
      return FALSE;
    }
  if (!S_ISDIR (st.st_mode) || st.st_uid != 0 || (st.st_mode & 022) != 0)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_SYSTEM,
                   "shared-mounts-dir %s must be a directory (not a symlink) owned by root and "
                   "writable only by root (owner uid %u, mode %04o)",
                   dir, (guint) st.st_uid, (guint) (st.st_mode & 07777));
      return FALSE;
    }
  /* Nobody else may be able to swap a component of the path either: every ancestor is root's,
   * and one that others can write to (/tmp) must have the sticky bit. */
  for (g_autofree char *up = g_path_get_dirname (dir); strcmp (up, "/") != 0;)
    {
      char *next;

      if (lstat (up, &st) < 0 || !S_ISDIR (st.st_mode) || st.st_uid != 0
          || ((st.st_mode & 022) != 0 && (st.st_mode & S_ISVTX) == 0))
        {
          g_set_error (error, SC_ERROR, SC_ERROR_SYSTEM,
                       "shared-mounts-dir %s: its parent %s must be a directory owned by root, "
                       "writable only by root or sticky like /tmp",
                       dir, up);
          return FALSE;
        }
      next = g_path_get_dirname (up);
      g_free (up);
      up = next;
    }
  return TRUE;
}

ScAgent *
sc_agent_new (const ScConfig *config, const char *init_path, GError **error)
{
  ScAgent *agent = g_new0 (ScAgent, 1);
  const GPtrArray *defaults;
  const char *lxcpath = lxc_get_global_config_item ("lxc.lxcpath");

  if (lxcpath == NULL || lxcpath[0] != '/')
    {
      g_set_error (error, SC_ERROR, SC_ERROR_LXC, "LXC reports no usable lxc.lxcpath");
      g_free (agent);
      return NULL;
    }
  agent->runtime.lxcpath = g_strdup (lxcpath);
  agent->runtime.shared_mounts_dir = g_strdup (config->shared_mounts_dir);
  agent->runtime.init_path = g_strdup (init_path);
  agent->runtime.seccomp_profile = g_strdup (find_seccomp_profile ());
  agent->runtime.shutdown_timeout = (guint) config->shutdown_timeout;
  if (agent->runtime.seccomp_profile == NULL)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_LXC,
                   "LXC's default seccomp profile (common.seccomp, Debian package liblxc-common) "
                   "is not installed; containers must not run without it");
      sc_agent_free (agent);
      return NULL;
    }
  if (!check_shared_mounts_dir (config->shared_mounts_dir, error))
    {
      sc_agent_free (agent);
      return NULL;
    }
#ifdef SC_ENABLE_NETWORK_GATEWAY
  /* the bridge, NAT and forwarding: platform-wide, kept when the agent exits (bridge.h) */
  if (!sc_bridge_setup (config, error))
    {
      sc_agent_free (agent);
      return NULL;
    }
  agent->runtime.bridge_device = g_strdup (config->bridge_device);
#endif

  agent->manifests = sc_manifest_store_new ();
  agent->default_manifests = sc_manifest_store_new ();
  sc_manifest_store_load (agent->manifests, config->service_manifest_dir);
  sc_manifest_store_load (agent->default_manifests, config->default_service_manifest_dir);

  /* every default capability's configs, in load order */
  agent->runtime.default_configs = g_ptr_array_new ();
  defaults = sc_manifest_store_names_in_load_order (agent->default_manifests);
  for (guint i = 0; i < defaults->len; i++)
    {
      GPtrArray *configs = sc_manifest_store_lookup (agent->default_manifests,
                                                     g_ptr_array_index (defaults, i));
      for (guint k = 0; configs != NULL && k < configs->len; k++)
        g_ptr_array_add (agent->runtime.default_configs, g_ptr_array_index (configs, k));
    }

  agent->entries = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, entry_free);
  agent->worker = sc_worker_new (g_main_context_default ());
  return agent;
}

void
sc_agent_free (ScAgent *agent)
{
  if (agent == NULL)
    return;
  sc_worker_free (agent->worker);
  g_clear_pointer (&agent->entries, g_hash_table_unref);
  g_clear_pointer (&agent->runtime.default_configs, g_ptr_array_unref);
  sc_manifest_store_free (agent->manifests);
  sc_manifest_store_free (agent->default_manifests);
  g_free (agent->runtime.lxcpath);
  g_free (agent->runtime.shared_mounts_dir);
  g_free (agent->runtime.init_path);
  g_free (agent->runtime.seccomp_profile);
  g_free (agent->runtime.bridge_device);
  g_free (agent);
}

void
sc_agent_set_process_exited_func (ScAgent *agent, ScProcessExitedFunc func, gpointer user_data)
{
  agent->process_exited = func;
  agent->process_exited_data = user_data;
}

guint
sc_agent_cleanup_stale (ScAgent *agent)
{
  return sc_container_cleanup_stale (&agent->runtime);
}

static gint
compare_ints (gconstpointer a, gconstpointer b)
{
  int x = *(const int *) a, y = *(const int *) b;
  return (x > y) - (x < y);
}

GArray *
sc_agent_list (ScAgent *agent)
{
  GArray *ids = g_array_sized_new (FALSE, FALSE, sizeof (gint32), g_hash_table_size (agent->entries));
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, agent->entries);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      gint32 id = GPOINTER_TO_INT (key);
      g_array_append_val (ids, id);
    }
  g_array_sort (ids, compare_ints);
  return ids;
}

gchar **
sc_agent_list_capabilities (ScAgent *agent)
{
  return sc_manifest_store_list (agent->manifests);
}

gint
sc_agent_finish_int (ScAgent *agent, GAsyncResult *result, GError **error)
{
  gssize v = g_task_propagate_int (G_TASK (result), error);
  return v < 0 ? -1 : (gint) v;
}

gboolean
sc_agent_finish (ScAgent *agent, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- container death ----------------------------------------------------------------------- */

static void
mark_dead_work (gpointer data)
{
  Job *job = data;
  sc_container_mark_invalid (job->container, "its init process exited unexpectedly");
}

static void
mark_dead_done (gpointer data)
{
  job_free (data);
}

static gboolean
death_cb (gint fd, GIOCondition condition, gpointer user_data)
{
  ScAgent *agent = ((Job *) user_data)->agent;
  int id = ((Job *) user_data)->id;
  Entry *entry = g_hash_table_lookup (agent->entries, GINT_TO_POINTER (id));
  Job *job;

  if (entry == NULL)
    return G_SOURCE_REMOVE;
  g_clear_pointer (&entry->death_source, g_source_unref);
  job = g_new0 (Job, 1);
  job->agent = agent;
  job->container = sc_container_ref (entry->container);
  sc_worker_push (agent->worker, mark_dead_work, mark_dead_done, job);
  return G_SOURCE_REMOVE;
}

static void
watch_death (ScAgent *agent, Entry *entry, int id)
{
  Job *key = g_new0 (Job, 1); /* only agent and id are used */

  key->agent = agent;
  key->id = id;
  entry->death_source = g_unix_fd_source_new (sc_container_pidfd (entry->container), G_IO_IN);
  g_source_set_callback (entry->death_source, G_SOURCE_FUNC (death_cb), key, g_free);
  g_source_attach (entry->death_source, NULL);
}

/* ---- Create -------------------------------------------------------------------------------- */

static void
create_work (gpointer data)
{
  Job *job = data;
  job->created = sc_container_create (&job->agent->runtime, job->id, &job->options, &job->error);
}

static void
create_done (gpointer data)
{
  Job *job = data;
  Entry *entry;

  if (job->error != NULL)
    {
      g_task_return_error (job->task, g_steal_pointer (&job->error));
      job_free (job);
      return;
    }
  entry = g_new0 (Entry, 1);
  entry->container = g_steal_pointer (&job->created);
  g_hash_table_insert (job->agent->entries, GINT_TO_POINTER (job->id), entry);
  watch_death (job->agent, entry, job->id);
  g_task_return_int (job->task, job->id);
  job_free (job);
}

void
sc_agent_create (ScAgent *agent, const char *config_json, GAsyncReadyCallback callback,
                 gpointer user_data)
{
  Job *job = job_new (agent, callback, user_data, sc_agent_create);
  GError *error = NULL;

  if (agent->shutting_down)
    {
      job_fail (job, g_error_new (SC_ERROR, SC_ERROR_BAD_STATE, "the agent is shutting down"));
      return;
    }
  if (!sc_container_options_parse (config_json, &job->options, &error))
    {
      job_fail (job, error);
      return;
    }
  if (agent->next_id > G_MAXINT32)
    {
      job_fail (job, g_error_new (SC_ERROR, SC_ERROR_SYSTEM,
                                  "every container ID has been used; restart the agent"));
      return;
    }
  job->id = (int) agent->next_id++;
  sc_worker_push (agent->worker, create_work, create_done, job);
}

/* ---- Execute ------------------------------------------------------------------------------- */

typedef struct {
  ScAgent *agent;
  int id;
} ProcessWatch;

static void
process_exited_cb (GPid pid, gint status, gpointer user_data)
{
  ProcessWatch *watch = user_data;
  guint code;

  if (WIFEXITED (status))
    code = (guint) WEXITSTATUS (status);
  else if (WIFSIGNALED (status))
    code = 128 + (guint) WTERMSIG (status);
  else
    code = (guint) status;
  g_debug ("container %d: process %d ended with %u", watch->id, (int) pid, code);
  if (watch->agent->process_exited != NULL)
    watch->agent->process_exited (watch->id, pid, code, watch->agent->process_exited_data);
}

static void
execute_work (gpointer data)
{
  Job *job = data;
  job->pid = sc_container_execute (job->container, job->argv, job->s1, job->s2, job->env,
                                   &job->error);
}

static void
execute_done (gpointer data)
{
  Job *job = data;
  ProcessWatch *watch;

  if (job->error != NULL)
    {
      g_task_return_error (job->task, g_steal_pointer (&job->error));
      job_free (job);
      return;
    }
  /* A process that already ended is a zombie until this watch reaps it: nothing is lost, and
   * the reply below goes out before the signal. */
  watch = g_new0 (ProcessWatch, 1);
  watch->agent = job->agent;
  watch->id = job->id;
  g_child_watch_add_full (G_PRIORITY_DEFAULT, job->pid, process_exited_cb, watch, g_free);
  g_task_return_int (job->task, job->pid);
  job_free (job);
}

static gboolean
check_env (GHashTable *env, GError **error)
{
  GHashTableIter iter;
  gpointer key, value;

  if (env == NULL)
    return TRUE;
  if (g_hash_table_size (env) > SC_MAX_ENV_ENTRIES)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT,
                   "env has %u entries; the limit is %d", g_hash_table_size (env),
                   SC_MAX_ENV_ENTRIES);
      return FALSE;
    }
  g_hash_table_iter_init (&iter, env);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      const char *name = key;
      if (name[0] == '\0' || strchr (name, '=') != NULL)
        {
          g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT,
                       "env: '%s' is not a valid variable name (empty or contains '=')", name);
          return FALSE;
        }
      if (strlen (name) > SC_MAX_NAME_BYTES)
        {
          g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT,
                       "env: a variable name is longer than %d bytes", SC_MAX_NAME_BYTES);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
check_path_text (const char *path, const char *what, GError **error)
{
  if (strchr (path, '\n') != NULL)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_BAD_PATH, "%s contains a newline", what);
      return FALSE;
    }
  return TRUE;
}

void
sc_agent_execute (ScAgent *agent, int id, const char *command_line, const char *working_directory,
                  const char *output_file, GHashTable *env, GAsyncReadyCallback callback,
                  gpointer user_data)
{
  Job *job = job_new (agent, callback, user_data, sc_agent_execute);
  GError *error = NULL;

  if (!job_find (job, id))
    return;
  job->argv = sc_cmdline_split (command_line, &error);
  if (job->argv == NULL || !check_env (env, &error)
      || !check_path_text (working_directory, "working directory", &error)
      || !check_path_text (output_file, "output file", &error))
    {
      job_fail (job, error);
      return;
    }
  job->s1 = g_strdup (working_directory);
  job->s2 = g_strdup (output_file);
  job->env = env != NULL ? g_hash_table_ref (env) : NULL;
  sc_worker_push (agent->worker, execute_work, execute_done, job);
}

/* ---- Suspend, Resume, BindMount ------------------------------------------------------------ */

static void
bool_done (gpointer data)
{
  job_return_bool (data);
}

static void
suspend_work (gpointer data)
{
  Job *job = data;
  sc_container_suspend (job->container, &job->error);
}

static void
resume_work (gpointer data)
{
  Job *job = data;
  sc_container_resume (job->container, &job->error);
}

void
sc_agent_suspend (ScAgent *agent, int id, GAsyncReadyCallback callback, gpointer user_data)
{
  Job *job = job_new (agent, callback, user_data, sc_agent_suspend);

  if (job_find (job, id))
    sc_worker_push (agent->worker, suspend_work, bool_done, job);
}

void
sc_agent_resume (ScAgent *agent, int id, GAsyncReadyCallback callback, gpointer user_data)
{
  Job *job = job_new (agent, callback, user_data, sc_agent_resume);

  if (job_find (job, id))
    sc_worker_push (agent->worker, resume_work, bool_done, job);
}

static void
bind_mount_work (gpointer data)
{
  Job *job = data;
  sc_container_bind_mount (job->container, job->s1, job->s2, job->flag, &job->error);
}

void
sc_agent_bind_mount (ScAgent *agent, int id, const char *path_in_host,
                     const char *path_in_container, gboolean read_only,
                     GAsyncReadyCallback callback, gpointer user_data)
{
  Job *job = job_new (agent, callback, user_data, sc_agent_bind_mount);
  GError *error = NULL;

  if (!job_find (job, id))
    return;
  if (!check_path_text (path_in_host, "pathInHost", &error)
      || !check_path_text (path_in_container, "pathInContainer", &error))
    {
      job_fail (job, error);
      return;
    }
  job->s1 = g_strdup (path_in_host);
  job->s2 = g_strdup (path_in_container);
  job->flag = read_only;
  sc_worker_push (agent->worker, bind_mount_work, bool_done, job);
}

/* ---- SetCapabilities ------------------------------------------------------------------------ */

static void
set_capabilities_work (gpointer data)
{
  Job *job = data;
  ScAgent *agent = job->agent;
  ScContainer *c = job->container;
  g_autoptr (GPtrArray) configs = g_ptr_array_new ();
  gboolean with_defaults = !sc_container_defaults_applied (c);

  if (!sc_container_check_usable (c, &job->error))
    return;
  if (with_defaults)
    g_ptr_array_extend (configs, agent->runtime.default_configs, NULL, NULL);
  for (char **n = job->names; *n != NULL; n++)
    {
      GPtrArray *caps;

      if (sc_container_has_capability (c, *n) || g_strv_contains ((const char *const *) (n + 1), *n))
        {
          g_set_error (&job->error, SC_ERROR, SC_ERROR_BAD_STATE,
                       "capability '%s' is applied to container %d already", *n, job->id);
          return;
        }
      caps = sc_manifest_store_lookup (agent->manifests, *n);
      if (caps == NULL)
        {
          g_set_error (&job->error, SC_ERROR, SC_ERROR_CAPABILITY_UNKNOWN,
                       "no service manifest defines the capability '%s'", *n);
          return;
        }
      g_ptr_array_extend (configs, caps, NULL, NULL);
    }
  sc_container_apply_capabilities (c, configs, (const char *const *) job->names, with_defaults,
                                   &job->error);
}

void
sc_agent_set_capabilities (ScAgent *agent, int id, const char *const *capabilities,
                           GAsyncReadyCallback callback, gpointer user_data)
{
  Job *job = job_new (agent, callback, user_data, sc_agent_set_capabilities);
  guint n = g_strv_length ((char **) capabilities);

  if (!job_find (job, id))
    return;
  if (n > SC_MAX_CAPABILITIES)
    {
      job_fail (job, g_error_new (SC_ERROR, SC_ERROR_INVALID_ARGUMENT,
                                  "%u capabilities in one call; the limit is %d", n,
                                  SC_MAX_CAPABILITIES));
      return;
    }
  for (guint i = 0; i < n; i++)
    if (capabilities[i][0] == '\0' || strlen (capabilities[i]) > SC_MAX_NAME_BYTES)
      {
        job_fail (job, g_error_new (SC_ERROR, SC_ERROR_CAPABILITY_UNKNOWN,
                                    "capability name %u is empty or too long", i));
        return;
      }
  job->names = g_strdupv ((char **) capabilities);
  sc_worker_push (agent->worker, set_capabilities_work, bool_done, job);
}

/* ---- Destroy and shutdown ------------------------------------------------------------------ */

static void
destroy_work (gpointer data)
{
  Job *job = data;
  sc_container_destroy (job->container, &job->error);
}

static void
destroy_done (gpointer data)
{
  Job *job = data;
  Entry *entry = g_hash_table_lookup (job->agent->entries, GINT_TO_POINTER (job->id));

  if (job->error == NULL && entry != NULL && entry->container == job->container)
    g_hash_table_remove (job->agent->entries, GINT_TO_POINTER (job->id));
  job_return_bool (job);
}

/* Stops watching for the container's death: Destroy is about to end its init on purpose, and
 * the worker closes the pidfd the watch polls. */
static void
unwatch_death (ScAgent *agent, int id)
{
  Entry *entry = g_hash_table_lookup (agent->entries, GINT_TO_POINTER (id));

  if (entry != NULL && entry->death_source != NULL)
    {
      g_source_destroy (entry->death_source);
      g_clear_pointer (&entry->death_source, g_source_unref);
    }
}

void
sc_agent_destroy (ScAgent *agent, int id, GAsyncReadyCallback callback, gpointer user_data)
{
  Job *job = job_new (agent, callback, user_data, sc_agent_destroy);

  if (!job_find (job, id))
    return;
  unwatch_death (agent, id);
  sc_worker_push (agent->worker, destroy_work, destroy_done, job);
}

typedef struct {
  GTask *task;
  guint pending;
} Shutdown;

static void
nothing_work (gpointer data)
{
}

static void
shutdown_one_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Shutdown *shutdown = user_data;
  ScAgent *agent = g_task_get_task_data (shutdown->task);
  g_autoptr (GError) error = NULL;

  if (!sc_agent_finish (agent, result, &error))
    g_warning ("shutdown: %s", error->message);
  if (--shutdown->pending == 0)
    {
      g_task_return_boolean (shutdown->task, TRUE);
      g_object_unref (shutdown->task);
      g_free (shutdown);
    }
}

void
sc_agent_shutdown (ScAgent *agent, GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GArray) ids = sc_agent_list (agent);
  Shutdown *shutdown = g_new0 (Shutdown, 1);

  shutdown->task = g_task_new (NULL, NULL, callback, user_data);
  g_task_set_task_data (shutdown->task, agent, NULL);
  shutdown->pending = 1; /* held until every Destroy is queued */
  for (guint i = 0; i < ids->len; i++)
    {
      shutdown->pending++;
      sc_agent_destroy (agent, g_array_index (ids, gint32, i), shutdown_one_done, shutdown);
    }
  agent->shutting_down = TRUE;
  /* drop the hold through the worker, so that it comes after every queued Destroy */
  sc_worker_push (agent->worker, nothing_work, bool_done,
                  job_new (agent, shutdown_one_done, shutdown, sc_agent_shutdown));
}
