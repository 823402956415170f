/* The D-Bus face of the agent: exports com.pelagicore.SoftwareContainerAgent on
 * /com/pelagicore/SoftwareContainerAgent, checks who calls, unpacks arguments for agent.c and
 * packs its answers. Knows nothing about LXC.
 *
 * Trusts the bus daemon for the identity of callers (GetConnectionCredentials) and nothing
 * else: every caller is checked (root, or the softwarecontainer group), whatever the bus
 * policy let through. Every failure is answered with org.freedesktop.DBus.Error.Failed and a
 * message "<CodeWord>: <sentence>" that launchers match on. */
#include "service.h"

#include <grp.h>
#include <pwd.h>
#include <string.h>

#include "error.h"
#include "sc-dbus-generated.h"

#define SC_OBJECT_PATH "/com/pelagicore/SoftwareContainerAgent"
#define SC_CALLER_GROUP "softwarecontainer"
#define SC_CALLER_CACHE_MAX 256

struct ScService {
  ScAgent *agent;
  GDBusConnection *connection;
  ScSoftwareContainerAgent *skeleton;
  GHashTable *callers; /* unique name -> GINT_TO_POINTER (1 allowed, 2 refused) */
};

/* One pending call: the invocation to answer once the agent is done. */
typedef struct {
  ScService *service;
  GDBusMethodInvocation *invocation;
} Call;

static Call *
call_new (ScService *service, GDBusMethodInvocation *invocation)
{
  Call *call = g_new0 (Call, 1);

  call->service = service;
  call->invocation = g_object_ref (invocation);
  return call;
}

static void
call_free (Call *call)
{
  g_object_unref (call->invocation);
  g_free (call);
}

static void
return_error (GDBusMethodInvocation *invocation, const GError *error)
{
  const char *method = g_dbus_method_invocation_get_method_name (invocation);
  g_autofree char *message = g_strdup_printf ("%s: %s", sc_error_code_word (error), error->message);

  g_message ("%s failed: %s", method, message);
  g_dbus_method_invocation_return_dbus_error (invocation, "org.freedesktop.DBus.Error.Failed",
                                              message);
}

/* ---- who may call ---------------------------------------------------------------------- */

static gboolean
uid_in_group (uid_t uid, gid_t group)
{
  struct passwd pwd, *result = NULL;
  char buf[4096];
  gid_t groups[256];
  int n = G_N_ELEMENTS (groups);

  if (getpwuid_r (uid, &pwd, buf, sizeof buf, &result) != 0 || result == NULL)
    return FALSE;
  if (pwd.pw_gid == group)
    return TRUE;
  if (getgrouplist (pwd.pw_name, pwd.pw_gid, groups, &n) < 0)
    return FALSE;
  for (int i = 0; i < n; i++)
    if (groups[i] == group)
      return TRUE;
  return FALSE;
}

/* The group whose members may call, looked up for each new caller (an integrator may create
 * it while the agent runs). */
static gboolean
caller_group (gid_t *gid)
{
  struct group grp, *result = NULL;
  char buf[4096];

  if (getgrnam_r (SC_CALLER_GROUP, &grp, buf, sizeof buf, &result) != 0 || result == NULL)
    return FALSE;
  *gid = grp.gr_gid;
  return TRUE;
}

/* Asks the bus who `sender` is. Unique names are never reused on a bus, so the verdict is
 * cached (bounded). */
static gboolean
caller_allowed (ScService *service, const char *sender)
{
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariant) creds = NULL;
  g_autoptr (GError) error = NULL;
  gpointer cached = g_hash_table_lookup (service->callers, sender);
  guint32 uid;
  gid_t group;
  gboolean allowed = FALSE;

  if (cached != NULL)
    return GPOINTER_TO_INT (cached) == 1;
  if (sender == NULL) /* a peer-to-peer connection: not offered */
    return FALSE;

  reply = g_dbus_connection_call_sync (service->connection, "org.freedesktop.DBus",
                                       "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                       "GetConnectionCredentials", g_variant_new ("(s)", sender),
                                       G_VARIANT_TYPE ("(a{sv})"), G_DBUS_CALL_FLAGS_NONE, 2000,
                                       NULL, &error);
  if (reply == NULL)
    {
      g_warning ("cannot learn who %s is: %s", sender, error->message);
      return FALSE;
    }
  creds = g_variant_get_child_value (reply, 0);
  if (!g_variant_lookup (creds, "UnixUserID", "u", &uid))
    return FALSE;
  if (uid == 0)
    allowed = TRUE;
  else if (caller_group (&group))
    {
      g_autoptr (GVariant) gids = g_variant_lookup_value (creds, "UnixGroupIDs",
                                                          G_VARIANT_TYPE ("au"));
      if (gids != NULL)
        {
          gsize n = 0;
          const guint32 *g = g_variant_get_fixed_array (gids, &n, sizeof (guint32));
          for (gsize i = 0; i < n; i++)
            if (g[i] == group)
              allowed = TRUE;
        }
      else
        allowed = uid_in_group (uid, group);
    }

  if (g_hash_table_size (service->callers) >= SC_CALLER_CACHE_MAX)
    g_hash_table_remove_all (service->callers);
  g_hash_table_insert (service->callers, g_strdup (sender), GINT_TO_POINTER (allowed ? 1 : 2));
  if (!allowed)
    g_message ("refusing calls from %s (uid %u)", sender, uid);
  return allowed;
}

static gboolean
authorize_method_cb (GDBusInterfaceSkeleton *skeleton, GDBusMethodInvocation *invocation,
                     gpointer user_data)
{
  ScService *service = user_data;

  if (caller_allowed (service, g_dbus_method_invocation_get_sender (invocation)))
    return TRUE;
  g_dbus_method_invocation_return_dbus_error (
      invocation, "org.freedesktop.DBus.Error.AccessDenied",
      "AccessDenied: only root and members of the group '" SC_CALLER_GROUP
      "' may call the SoftwareContainer agent");
  return FALSE;
}

/* ---- methods ----------------------------------------------------------------------------- */

static gboolean
handle_list (ScSoftwareContainerAgent *object, GDBusMethodInvocation *invocation, ScService *s)
{
  g_autoptr (GArray) ids = sc_agent_list (s->agent);
  GVariant *v = g_variant_new_fixed_array (G_VARIANT_TYPE_INT32, ids->data, ids->len,
                                           sizeof (gint32));

  sc_software_container_agent_complete_list (object, invocation, v);
  return TRUE;
}

static gboolean
handle_list_capabilities (ScSoftwareContainerAgent *object, GDBusMethodInvocation *invocation,
                          ScService *s)
{
  g_auto (GStrv) names = sc_agent_list_capabilities (s->agent);

  sc_software_container_agent_complete_list_capabilities (object, invocation,
                                                          (const char *const *) names);
  return TRUE;
}

static void
int_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Call *call = user_data;
  g_autoptr (GError) error = NULL;
  gint value = sc_agent_finish_int (call->service->agent, result, &error);

  if (value < 0)
    return_error (call->invocation, error);
  else
    g_dbus_method_invocation_return_value (call->invocation, g_variant_new ("(i)", value));
  call_free (call);
}

static void
void_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Call *call = user_data;
  g_autoptr (GError) error = NULL;

  if (!sc_agent_finish (call->service->agent, result, &error))
    return_error (call->invocation, error);
  else
    g_dbus_method_invocation_return_value (call->invocation, NULL);
  call_free (call);
}

static gboolean
handle_create (ScSoftwareContainerAgent *object, GDBusMethodInvocation *invocation,
               const char *config, ScService *s)
{
  sc_agent_create (s->agent, config, int_done, call_new (s, invocation));
  return TRUE;
}

static gboolean
handle_execute (ScSoftwareContainerAgent *object, GDBusMethodInvocation *invocation, gint id,
                const char *command_line, const char *working_directory, const char *output_file,
                GVariant *env, ScService *s)
{
  g_autoptr (GHashTable) table = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  GVariantIter iter;
  const char *key, *value;

  g_variant_iter_init (&iter, env);
  while (g_variant_iter_next (&iter, "{&s&s}", &key, &value))
    g_hash_table_replace (table, g_strdup (key), g_strdup (value));
  sc_agent_execute (s->agent, id, command_line, working_directory, output_file, table, int_done,
                    call_new (s, invocation));
  return TRUE;
}

static gboolean
handle_suspend (ScSoftwareContainerAgent *object, GDBusMethodInvocation *invocation, gint id,
                ScService *s)
{
  sc_agent_suspend (s->agent, id, void_done, call_new (s, invocation));
  return TRUE;
}

static gboolean
handle_resume (ScSoftwareContainerAgent *object, GDBusMethodInvocation *invocation, gint id,
               ScService *s)
{
  sc_agent_resume (s->agent, id, void_done, call_new (s, invocation));
  return TRUE;
}

static gboolean
handle_destroy (ScSoftwareContainerAgent *object, GDBusMethodInvocation *invocation, gint id,
                ScService *s)
{
  sc_agent_destroy (s->agent, id, void_done, call_new (s, invocation));
  return TRUE;
}

static gboolean
handle_bind_mount (ScSoftwareContainerAgent *object, GDBusMethodInvocation *invocation, gint id,
                   const char *path_in_host, const char *path_in_container, gboolean read_only,
                   ScService *s)
{
  sc_agent_bind_mount (s->agent, id, path_in_host, path_in_container, read_only, void_done,
                       call_new (s, invocation));
  return TRUE;
}

static gboolean
handle_set_capabilities (ScSoftwareContainerAgent *object, GDBusMethodInvocation *invocation,
                         gint id, const char *const *capabilities, ScService *s)
{
  sc_agent_set_capabilities (s->agent, id, capabilities, void_done, call_new (s, invocation));
  return TRUE;
}

static void
process_exited (int container_id, pid_t pid, guint exit_code, gpointer user_data)
{
  ScService *s = user_data;

  sc_software_container_agent_emit_process_state_changed (s->skeleton, container_id,
                                                         (guint) pid, FALSE, exit_code);
}

/* ---- setup ---------------------------------------------------------------------------- */

ScService *
sc_service_new (ScAgent *agent, GDBusConnection *connection, GError **error)
{
  ScService *s = g_new0 (ScService, 1);

  s->agent = agent;
  s->connection = g_object_ref (connection);
  s->callers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  s->skeleton = sc_software_container_agent_skeleton_new ();
  g_signal_connect (s->skeleton, "g-authorize-method", G_CALLBACK (authorize_method_cb), s);
  g_signal_connect (s->skeleton, "handle-list", G_CALLBACK (handle_list), s);
  g_signal_connect (s->skeleton, "handle-list-capabilities", G_CALLBACK (handle_list_capabilities), s);
  g_signal_connect (s->skeleton, "handle-create", G_CALLBACK (handle_create), s);
  g_signal_connect (s->skeleton, "handle-execute", G_CALLBACK (handle_execute), s);
  g_signal_connect (s->skeleton, "handle-suspend", G_CALLBACK (handle_suspend), s);
  g_signal_connect (s->skeleton, "handle-resume", G_CALLBACK (handle_resume), s);
  g_signal_connect (s->skeleton, "handle-destroy", G_CALLBACK (handle_destroy), s);
  g_signal_connect (s->skeleton, "handle-bind-mount", G_CALLBACK (handle_bind_mount), s);
  g_signal_connect (s->skeleton, "handle-set-capabilities", G_CALLBACK (handle_set_capabilities), s);
  sc_agent_set_process_exited_func (agent, process_exited, s);

  if (!g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (s->skeleton), connection,
                                         SC_OBJECT_PATH, error))
    {
      sc_service_free (s);
      return NULL;
    }
  return s;
}

void
sc_service_free (ScService *s)
{
  if (s == NULL)
    return;
  sc_agent_set_process_exited_func (s->agent, NULL, NULL);
  if (s->skeleton != NULL)
    {
      g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (s->skeleton));
      g_object_unref (s->skeleton);
    }
  g_hash_table_unref (s->callers);
  g_object_unref (s->connection);
  g_free (s);
}
