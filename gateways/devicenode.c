/* The devicenode gateway: host device nodes made usable in a container.
 *
 * Items: {"name": "/dev/...", "mode": "NNN" | NNN}. Trusts the host's /dev (the integrator
 * names a node there; symlinks on the host are followed to find its type and major/minor) but
 * checks in prepare that the name is a character or block device. Keys are checked strictly.
 * The name must lie under /dev: the node is made at the same path in the container, whose /dev
 * is a tmpfs of its own (lxc.autodev), and nowhere else.
 *
 * mode: octal permission bits as for chmod, a string of octal digits ("0644", "644") or a JSON
 * integer whose decimal digits are read as octal (644 means 0644); at most 0777 (no setuid,
 * setgid or sticky bits on a device node). Without a mode a node the gateway makes gets the
 * host node's permission bits, and a node that exists already keeps its own.
 *
 * Merging: the same name in several items (in one call, or in later calls: the gateway is
 * dynamic) gets the most permissive mode per user class, which is the bitwise OR of the modes
 * (owner, group and other each keep every permission any item gave them: 0640 and 0604 give
 * 0644). An item without a mode adds nothing to the merge.
 *
 * Applying: first the container's devices cgroup gets "<c|b> <major>:<minor> rw" through liblxc
 * (v1: devices.allow; v2: LXC's device program), unless the container's base rules (its LXC
 * config: LXC's basic nodes) or an earlier grant of this gateway allow it already; never 'm':
 * the agent makes the node itself. Then a short-lived child in the container's mount namespace
 * makes the nodes (mknod with the host's type and major/minor, parents created under /dev),
 * or chmods an existing node of the same device (e.g. /dev/zero from autodev). Nothing the app
 * can plant steers this: /dev is resolved inside the container's root and everything below it
 * with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV, the mode is changed through an
 * O_PATH descriptor of the checked node, and a different file at the node's name is an error.
 * What the child did is recorded in shared memory, so that a failure (in the child, or a later
 * gateway's) undoes it: the nodes it made and the directories it created are removed, changed
 * modes restored, and the grants denied again. Nothing to tear down: the nodes live in the
 * container's /dev and the cgroup goes with the container. */
#include "gateway.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <lxc/lxccontainer.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#include "error.h"
#include "gateway-config.h"
#include "json.h"
#include "mount.h"
#include "util.h"

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

static const char *const devicenode_item_keys[] = { "name", "mode", NULL };

#define DEV_PREFIX "/dev/"
#define NO_MODE (-1)

typedef struct {
  char *name;       /* normalised, under /dev */
  gboolean block;   /* block device, else character device */
  dev_t rdev;       /* the host node's major/minor */
  int mode;         /* merged permission bits, or NO_MODE */
  mode_t host_perm; /* the host node's permission bits */
  gboolean known;   /* change only: the node is in the state already (granted and made) */
  char *origin;     /* the item that gave the current mode (or named it first) */
} DevNode;

typedef struct {
  GHashTable *nodes;   /* name -> DevNode *: made in the container */
  GHashTable *granted; /* "c 10:229" -> itself: allowed in the devices cgroup by this gateway */
} DevState;

/* What the child did for one node; in memory shared with the child. */
typedef struct {
  int created_node;
  int chmodded;
  mode_t old_mode;
  int first_created_dir; /* index of the first path component it created, or -1 */
} NodeResult;

typedef struct {
  int failed_index;
  int failed_errno;
  int undo_errno; /* the first failure while undoing (0: everything undone) */
  const char *failed_step; /* a string constant: the same address in the child */
  NodeResult results[];
} SharedResults;

/* The child's instructions for one node; read-only after fork. */
typedef struct {
  char **components; /* the name below /dev, split at '/' */
  guint n_components;
  mode_t type;        /* S_IFCHR or S_IFBLK */
  dev_t rdev;
  int mode;           /* chmod an existing node to this, or NO_MODE */
  mode_t create_mode; /* mode of a new node */
} NodeOp;

typedef struct {
  GPtrArray *nodes;  /* DevNode *: to make, or to give a more permissive mode */
  GPtrArray *grants; /* char *: rules this change allowed in the devices cgroup (apply) */
  NodeOp *ops;       /* apply: one per node */
  guint n_ops;
  SharedResults *shared;
  gsize shared_size;
} DevChange;

typedef struct {
  const NodeOp *ops;
  guint n_ops;
  SharedResults *shared;
} ChildArgs;

static void
dev_node_free (gpointer data)
{
  DevNode *node = data;

  g_free (node->name);
  g_free (node->origin);
  g_free (node);
}

static gpointer
devicenode_state_new (void)
{
  DevState *state = g_new0 (DevState, 1);

  state->nodes = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, dev_node_free);
  state->granted = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  return state;
}

static void
devicenode_state_free (gpointer data)
{
  DevState *state = data;

  if (state == NULL)
    return;
  g_hash_table_unref (state->nodes);
  g_hash_table_unref (state->granted);
  g_free (state);
}

static void
dev_change_free_ops (DevChange *change)
{
  for (guint i = 0; change->ops != NULL && i < change->n_ops; i++)
    g_strfreev (change->ops[i].components);
  g_clear_pointer (&change->ops, g_free);
  change->n_ops = 0;
  if (change->shared != NULL)
    munmap (change->shared, change->shared_size);
  change->shared = NULL;
}

static void
devicenode_change_free (gpointer data)
{
  DevChange *change = data;

  if (change == NULL)
    return;
  dev_change_free_ops (change);
  g_ptr_array_unref (change->nodes);
  g_ptr_array_unref (change->grants);
  g_free (change);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DevChange, devicenode_change_free)

/* "c 10:229", the key of a device in the devices cgroup. */
static char *
dev_rule_key (const DevNode *node)
{
  return g_strdup_printf ("%c %u:%u", node->block ? 'b' : 'c', major (node->rdev),
                          minor (node->rdev));
}

static int
merge_modes (int a, int b)
{
  if (a == NO_MODE)
    return b;
  if (b == NO_MODE)
    return a;
  return a | b;
}

/* ---- prepare ------------------------------------------------------------------------------ */

/* "0644", "644" or the integer 644: octal digits, at most 0777. */
static gboolean
devicenode_parse_mode (JsonNode *node, const char *where, int *mode, GError **error)
{
  char text[32];
  gsize len;

  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    g_strlcpy (text, json_node_get_string (node), sizeof text);
  else if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_INT64
           && json_node_get_int (node) >= 0 && json_node_get_int (node) <= 7777)
    g_snprintf (text, sizeof text, "%" G_GINT64_FORMAT, json_node_get_int (node));
  else if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_INT64)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                   "%s: 'mode' %" G_GINT64_FORMAT " is not a mode (octal digits, at most 777)",
                   where, json_node_get_int (node));
      return FALSE;
    }
  else
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                   "%s: 'mode' must be a string of octal digits such as \"0644\" or an integer "
                   "such as 644, not %s",
                   where, sc_json_type_name (node));
      return FALSE;
    }
  len = strlen (text);
  if (len == 0 || len > 8 || strspn (text, "01234567") != len)
    {
      g_autofree char *escaped = g_strescape (json_node_get_value_type (node) == G_TYPE_STRING
                                                  ? json_node_get_string (node)
                                                  : text,
                                              NULL);
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                   "%s: 'mode' '%s' is not a mode (octal digits as for chmod, such as \"0644\")",
                   where, escaped);
      return FALSE;
    }
  *mode = (int) g_ascii_strtoull (text, NULL, 8);
  if (*mode > 0777)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                   "%s: 'mode' %s has bits above 0777 (setuid, setgid or sticky): a device node "
                   "takes only permission bits",
                   where, text);
      return FALSE;
    }
  return TRUE;
}

/* The name: a path under /dev naming a character or block device on the host. */
static gboolean
devicenode_check_name (DevNode *node, const char *name, const char *where, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  struct stat st;

  node->name = sc_path_normalize (name, "name", &local_error);
  if (node->name == NULL)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG, "%s: %s", where,
                   local_error->message);
      return FALSE;
    }
  if (!g_str_has_prefix (node->name, DEV_PREFIX))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                   "%s: 'name' must be a device node under /dev, not '%s'", where, name);
      return FALSE;
    }
  if (stat (node->name, &st) < 0)
    {
      int e = errno;
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG, "%s: device '%s' %s on the host",
                   where, node->name,
                   e == ENOENT || e == ENOTDIR ? "does not exist" : g_strerror (e));
      return FALSE;
    }
  if (!S_ISCHR (st.st_mode) && !S_ISBLK (st.st_mode))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                   "%s: '%s' is not a device node on the host (it is a %s)", where, node->name,
                   S_ISDIR (st.st_mode)    ? "directory"
                   : S_ISREG (st.st_mode)  ? "regular file"
                   : S_ISSOCK (st.st_mode) ? "socket"
                   : S_ISFIFO (st.st_mode) ? "FIFO"
                                           : "file of another type");
      return FALSE;
    }
  node->block = S_ISBLK (st.st_mode);
  node->rdev = st.st_rdev;
  node->host_perm = st.st_mode & 0777;
  return TRUE;
}

static DevNode *
devicenode_parse_item (JsonObject *item, const char *where, GError **error)
{
  const char *name = NULL;
  JsonNode *mode = NULL;
  DevNode *node = NULL;

  if (!sc_gateway_item_string (item, "name", TRUE, TRUE, where, &name, error))
    return NULL;
  node = g_new0 (DevNode, 1);
  node->mode = NO_MODE;
  node->origin = g_strdup (where);
  mode = json_object_get_member (item, "mode");
  if (!devicenode_check_name (node, name, where, error)
      || (mode != NULL && !devicenode_parse_mode (mode, where, &node->mode, error)))
    {
      dev_node_free (node);
      return NULL;
    }
  return node;
}

/* Adds a checked item to the change; by_name indexes the change's nodes. Takes node. */
static void
devicenode_merge (DevChange *change, GHashTable *by_name, DevNode *node)
{
  DevNode *earlier = g_hash_table_lookup (by_name, node->name);

  if (earlier == NULL)
    {
      g_ptr_array_add (change->nodes, node);
      g_hash_table_insert (by_name, node->name, node);
      return;
    }
  if (merge_modes (earlier->mode, node->mode) != earlier->mode)
    {
      earlier->mode = merge_modes (earlier->mode, node->mode);
      g_free (earlier->origin);
      earlier->origin = g_steal_pointer (&node->origin);
    }
  dev_node_free (node);
}

/* Merges the configs with each other, then with what the container has already (the gateway is
 * dynamic): a node it has already stays in the change only if its mode gets more permissive. */
typedef struct {
  DevChange *change;
  GHashTable *by_name;
} DevMerge;

static gboolean
devicenode_merge_item (JsonObject *item, const char *where, gpointer data, GError **error)
{
  DevMerge *m = data;
  DevNode *node = devicenode_parse_item (item, where, error);

  if (node == NULL)
    return FALSE;
  devicenode_merge (m->change, m->by_name, node);
  return TRUE;
}

static gpointer
devicenode_prepare (gpointer data, GPtrArray *configs, GError **error)
{
  DevState *state = data;
  g_autoptr (DevChange) change = g_new0 (DevChange, 1);
  g_autoptr (GHashTable) by_name = g_hash_table_new (g_str_hash, g_str_equal);
  DevMerge merge;

  change->nodes = g_ptr_array_new_with_free_func (dev_node_free);
  change->grants = g_ptr_array_new_with_free_func (g_free);
  merge = (DevMerge){ change, by_name };
  if (!sc_gateway_config_foreach_item (configs, "devicenode", devicenode_item_keys,
                                       devicenode_merge_item, &merge, error))
    return NULL;

  for (guint i = change->nodes->len; i-- > 0;)
    {
      DevNode *node = g_ptr_array_index (change->nodes, i);
      const DevNode *have = g_hash_table_lookup (state->nodes, node->name);

      if (have == NULL)
        continue;
      if (have->block != node->block || have->rdev != node->rdev)
        {
          g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_CONFIG,
                       "%s: '%s' is another device on the host than when the container got it "
                       "(%u:%u then, %u:%u now)",
                       node->origin, node->name, major (have->rdev), minor (have->rdev),
                       major (node->rdev), minor (node->rdev));
          return NULL;
        }
      node->known = TRUE;
      if (merge_modes (have->mode, node->mode) == have->mode)
        g_ptr_array_remove_index (change->nodes, i);
      else
        node->mode = merge_modes (have->mode, node->mode);
    }
  return g_steal_pointer (&change);
}

/* ---- the devices cgroup ------------------------------------------------------------------- */

/* Whether an allow rule ("c 1:5 rwm", "c 136:* rwm", "a") gives rw on the device. */
static gboolean
rule_allows_rw (const char *rule, char type, guint maj, guint min)
{
  char t = 0;
  char rmaj[16] = "", rmin[16] = "", access[8] = "";
  int n = sscanf (rule, " %c %15[^:]:%15s %7s", &t, rmaj, rmin, access);

  if (n == 1 && t == 'a')
    return TRUE; /* "a": everything */
  if (n != 4 || (t != 'a' && t != type))
    return FALSE;
  if (strcmp (rmaj, "*") != 0 && g_ascii_strtoull (rmaj, NULL, 10) != maj)
    return FALSE;
  if (strcmp (rmin, "*") != 0 && g_ascii_strtoull (rmin, NULL, 10) != min)
    return FALSE;
  return strchr (access, 'r') != NULL && strchr (access, 'w') != NULL;
}

/* Whether the container's LXC config (its base devices rules) allows the device already. */
static gboolean
base_rules_allow (struct lxc_container *lxc, const DevNode *node)
{
  static const char *const keys[] = { "lxc.cgroup.devices.allow", "lxc.cgroup2.devices.allow" };

  for (guint k = 0; k < G_N_ELEMENTS (keys); k++)
    {
      int len = lxc->get_config_item (lxc, keys[k], NULL, 0);
      g_autofree char *text = NULL;
      g_auto (GStrv) rules = NULL;

      if (len <= 0)
        continue;
      text = g_malloc0 ((gsize) len + 1);
      if (lxc->get_config_item (lxc, keys[k], text, len + 1) < 0)
        continue;
      rules = g_strsplit (text, "\n", -1);
      for (char **r = rules; *r != NULL; r++)
        if (rule_allows_rw (*r, node->block ? 'b' : 'c', major (node->rdev), minor (node->rdev)))
          return TRUE;
    }
  return FALSE;
}

static void
deny_grants (DevChange *change, const ScGatewayContext *ctx)
{
  for (guint i = change->grants->len; i-- > 0;)
    {
      const char *key = g_ptr_array_index (change->grants, i);
      g_autofree char *rule = g_strdup_printf ("%s rw", key);

      if (!ctx->lxc->set_cgroup_item (ctx->lxc, "devices.deny", rule))
        {
          g_autoptr (GError) error = g_error_new (SC_ERROR, SC_ERROR_LXC,
                                                  "LXC could not deny %s again in the devices "
                                                  "cgroup", rule);
          sc_gateway_report_undo_failure (ctx, "devicenode", error);
        }
      else
        g_debug ("devicenode gateway: container %d: denied %s", ctx->container_id, rule);
    }
  g_ptr_array_set_size (change->grants, 0);
}

static gboolean
allow_devices (DevState *state, DevChange *change, const ScGatewayContext *ctx, GError **error)
{
  for (guint i = 0; i < change->nodes->len; i++)
    {
      const DevNode *node = g_ptr_array_index (change->nodes, i);
      g_autofree char *key = dev_rule_key (node);
      g_autofree char *rule = NULL;

      if (node->known || g_hash_table_contains (state->granted, key)
          || g_ptr_array_find_with_equal_func (change->grants, key, g_str_equal, NULL)
          || base_rules_allow (ctx->lxc, node))
        continue;
      rule = g_strdup_printf ("%s rw", key);
      if (!ctx->lxc->set_cgroup_item (ctx->lxc, "devices.allow", rule))
        {
          g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_FAILED,
                       "%s: LXC could not allow '%s' in the container's devices cgroup (%s)",
                       node->origin, rule, node->name);
          deny_grants (change, ctx);
          return FALSE;
        }
      g_debug ("devicenode gateway: container %d: allowed %s (%s)", ctx->container_id, rule,
               node->name);
      g_ptr_array_add (change->grants, g_steal_pointer (&key));
    }
  return TRUE;
}

/* ---- in the container's mount namespace (after fork: system calls only) ------------------ */

static int
open_beneath (int dirfd, const char *name, int flags)
{
  struct open_how how = {
    .flags = (guint64) (flags | O_PATH | O_NOFOLLOW | O_CLOEXEC),
    .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
  };

  return (int) syscall (SYS_openat2, dirfd, name, &how, sizeof how);
}

/* The container's /dev, resolved inside its root without following symlinks. */
static int
open_container_dev (void)
{
  struct open_how how = {
    .flags = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
  };
  int root = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  int dev;

  if (root < 0)
    return -1;
  dev = (int) syscall (SYS_openat2, root, "dev", &how, sizeof how);
  if (dev < 0)
    {
      int e = errno;
      close (root);
      errno = e;
      return -1;
    }
  close (root);
  return dev;
}

/* The directory after the first `count` components of op below /dev; creates missing ones when
 * result is given (recording the first it made there). Returns an fd or -1 with errno. */
static int
walk_components (int dev, const NodeOp *op, guint count, NodeResult *result)
{
  int cur = fcntl (dev, F_DUPFD_CLOEXEC, 3);

  for (guint k = 0; cur >= 0 && k < count; k++)
    {
      int next = open_beneath (cur, op->components[k], O_DIRECTORY);

      if (next < 0 && errno == ENOENT && result != NULL)
        {
          if (mkdirat (cur, op->components[k], 0755) == 0)
            {
              if (result->first_created_dir < 0)
                result->first_created_dir = (int) k;
            }
          else if (errno != EEXIST)
            {
              int e = errno;
              close (cur);
              errno = e;
              return -1;
            }
          next = open_beneath (cur, op->components[k], O_DIRECTORY);
        }
      if (next < 0)
        {
          int e = errno;
          close (cur);
          errno = e;
          return -1;
        }
      close (cur);
      cur = next;
    }
  return cur;
}

/* chmod of the node `name` in dir, through an O_PATH descriptor of it after checking that it is
 * still the device: a name the app swapped meanwhile is never followed. */
static int
chmod_node (int dir, const char *name, const NodeOp *op, mode_t mode)
{
  struct stat st;
  int fd = open_beneath (dir, name, 0);
  int err = 0;

  if (fd < 0)
    return errno;
  if (fstat (fd, &st) < 0)
    err = errno;
  else if ((st.st_mode & S_IFMT) != op->type || st.st_rdev != op->rdev)
    err = EEXIST;
  else if (syscall (SYS_fchmodat2, fd, "", mode, AT_EMPTY_PATH) < 0)
    {
      err = errno;
      /* kernels before 6.6: the node was just checked and cannot be a symlink */
      if (err == ENOSYS)
        err = fchmodat (dir, name, mode, 0) < 0 ? errno : 0;
    }
  close (fd);
  return err;
}

static int
undo_nodes (int dev, const ChildArgs *a)
{
  int first_err = 0;

  for (guint i = a->n_ops; i-- > 0;)
    {
      const NodeOp *op = &a->ops[i];
      NodeResult *r = &a->shared->results[i];
      const char *base = op->components[op->n_components - 1];
      int dir;

      if (!r->created_node && !r->chmodded && r->first_created_dir < 0)
        continue;
      dir = walk_components (dev, op, op->n_components - 1, NULL);
      if (dir >= 0)
        {
          if (r->created_node && unlinkat (dir, base, 0) < 0 && errno != ENOENT && first_err == 0)
            first_err = errno;
          if (r->chmodded)
            {
              int err = chmod_node (dir, base, op, r->old_mode);
              if (err != 0 && err != ENOENT && first_err == 0)
                first_err = err;
            }
          close (dir);
        }
      else if (errno != ENOENT && first_err == 0)
        first_err = errno;
      /* the directories it created, deepest first; one the app filled meanwhile stays */
      for (int k = (int) op->n_components - 2; r->first_created_dir >= 0 && k >= r->first_created_dir;
           k--)
        {
          int parent = walk_components (dev, op, (guint) k, NULL);
          if (parent >= 0)
            {
              if (unlinkat (parent, op->components[k], AT_REMOVEDIR) < 0 && errno != ENOENT
                  && errno != ENOTEMPTY && first_err == 0)
                first_err = errno;
              close (parent);
            }
        }
      r->created_node = r->chmodded = 0;
      r->first_created_dir = -1;
    }
  if (first_err != 0 && a->shared->undo_errno == 0)
    a->shared->undo_errno = first_err;
  return first_err;
}

static int
make_node (int dev, const NodeOp *op, NodeResult *r, const char **step)
{
  const char *base = op->components[op->n_components - 1];
  struct stat st;
  int dir, err = 0;

  *step = "cannot create its directory in the container's /dev";
  dir = walk_components (dev, op, op->n_components - 1, r);
  if (dir < 0)
    return errno;
  if (fstatat (dir, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
    {
      if (errno != ENOENT)
        err = errno;
      else if (mknodat (dir, base, op->type | op->create_mode, op->rdev) < 0)
        err = errno;
      else
        r->created_node = 1;
      *step = "cannot make the node in the container";
    }
  else if ((st.st_mode & S_IFMT) != op->type || st.st_rdev != op->rdev)
    {
      *step = "another file of that name exists in the container";
      err = EEXIST;
    }
  else if (op->mode != NO_MODE && (st.st_mode & 07777) != (mode_t) op->mode)
    {
      *step = "cannot change the mode of the node in the container";
      err = chmod_node (dir, base, op, (mode_t) op->mode);
      if (err == 0)
        {
          r->chmodded = 1;
          r->old_mode = st.st_mode & 07777;
        }
    }
  close (dir);
  return err;
}

static int
make_nodes_cb (gpointer data)
{
  const ChildArgs *a = data;
  int dev;

  umask (0); /* this child's only: modes are exactly the ones asked for */
  dev = open_container_dev ();
  if (dev < 0)
    {
      a->shared->failed_index = -1;
      a->shared->failed_step = "cannot open the container's /dev";
      a->shared->failed_errno = errno;
      return errno;
    }
  for (guint i = 0; i < a->n_ops; i++)
    {
      const char *step = NULL;
      int err = make_node (dev, &a->ops[i], &a->shared->results[i], &step);

      if (err != 0)
        {
          a->shared->failed_index = (int) i;
          a->shared->failed_step = step;
          a->shared->failed_errno = err;
          undo_nodes (dev, a);
          close (dev);
          return err;
        }
    }
  close (dev);
  return 0;
}

static int
undo_nodes_cb (gpointer data)
{
  const ChildArgs *a = data;
  int dev = open_container_dev ();

  int err;

  if (dev < 0)
    return errno;
  err = undo_nodes (dev, a);
  close (dev);
  return err;
}

/* ---- apply, revert, commit ---------------------------------------------------------------- */

static gboolean
make_nodes (DevChange *change, const ScGatewayContext *ctx, GError **error)
{
  guint n = change->nodes->len;
  g_autoptr (GError) local_error = NULL;
  ChildArgs args;

  change->ops = g_new0 (NodeOp, n);
  change->n_ops = n;
  change->shared_size = sizeof (SharedResults) + n * sizeof (NodeResult);
  change->shared = mmap (NULL, change->shared_size, PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (change->shared == MAP_FAILED)
    {
      change->shared = NULL;
      sc_set_errno_error (&local_error, errno, "mmap");
      g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_FAILED, "%s", local_error->message);
      return FALSE;
    }
  change->shared->failed_index = -1;
  for (guint i = 0; i < n; i++)
    {
      const DevNode *node = g_ptr_array_index (change->nodes, i);
      NodeOp *op = &change->ops[i];

      op->components = g_strsplit (node->name + strlen (DEV_PREFIX), "/", -1);
      op->n_components = g_strv_length (op->components);
      op->type = node->block ? S_IFBLK : S_IFCHR;
      op->rdev = node->rdev;
      op->mode = node->mode;
      op->create_mode = node->mode != NO_MODE ? (mode_t) node->mode : node->host_perm;
      change->shared->results[i].first_created_dir = -1;
    }
  args = (ChildArgs){ change->ops, n, change->shared };
  if (!sc_mount_ns_run (ctx->init_pidfd, make_nodes_cb, &args, "device nodes", &local_error))
    {
      if (change->shared->undo_errno != 0)
        {
          g_autoptr (GError) undo = NULL;
          sc_set_errno_error (&undo, change->shared->undo_errno,
                              "removing the device nodes it had made");
          sc_gateway_report_undo_failure (ctx, "devicenode", undo);
        }
      int i = change->shared->failed_index;

      if (i >= 0 && (guint) i < n && change->shared->failed_step != NULL)
        {
          const DevNode *node = g_ptr_array_index (change->nodes, i);
          g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_FAILED, "%s: %s: %s: %s", node->origin,
                       node->name, change->shared->failed_step,
                       g_strerror (change->shared->failed_errno));
        }
      else
        g_set_error (error, SC_ERROR, SC_ERROR_GATEWAY_FAILED, "%s", local_error->message);
      return FALSE;
    }
  return TRUE;
}

static gboolean
devicenode_apply (gpointer data, gpointer change_data, const ScGatewayContext *ctx,
                  GError **error)
{
  DevState *state = data;
  DevChange *change = change_data;

  if (change->nodes->len == 0)
    return TRUE;
  if (!allow_devices (state, change, ctx, error))
    return FALSE;
  if (!make_nodes (change, ctx, error))
    {
      deny_grants (change, ctx);
      dev_change_free_ops (change);
      return FALSE;
    }
  return TRUE;
}

static void
devicenode_revert (gpointer data, gpointer change_data, const ScGatewayContext *ctx)
{
  DevChange *change = change_data;
  g_autoptr (GError) local_error = NULL;

  if (change->shared != NULL)
    {
      ChildArgs args = { change->ops, change->n_ops, change->shared };

      if (!sc_mount_ns_run (ctx->init_pidfd, undo_nodes_cb, &args, "removing device nodes",
                            &local_error))
        sc_gateway_report_undo_failure (ctx, "devicenode", local_error);
      dev_change_free_ops (change);
    }
  deny_grants (change, ctx);
}

static void
devicenode_commit (gpointer data, gpointer change_data)
{
  DevState *state = data;
  DevChange *change = change_data;

  for (guint i = 0; i < change->nodes->len; i++)
    {
      DevNode *node = g_ptr_array_index (change->nodes, i);

      g_debug ("devicenode gateway: %s (%c %u:%u) mode %s%04o", node->name,
               node->block ? 'b' : 'c', major (node->rdev), minor (node->rdev),
               node->mode == NO_MODE ? "host's " : "",
               node->mode == NO_MODE ? node->host_perm : (mode_t) node->mode);
      node->known = TRUE;
      g_hash_table_replace (state->nodes, node->name, node);
    }
  /* the state owns the nodes now */
  g_ptr_array_set_free_func (change->nodes, NULL);
  g_ptr_array_set_size (change->nodes, 0);
  g_ptr_array_set_free_func (change->nodes, dev_node_free);
  for (guint i = 0; i < change->grants->len; i++)
    g_hash_table_add (state->granted, g_strdup (g_ptr_array_index (change->grants, i)));
  g_ptr_array_set_size (change->grants, 0);
  dev_change_free_ops (change);
}

const ScGatewayOps sc_devicenode_gateway = {
  .id = "devicenode",
  .dynamic = TRUE,
  .state_new = devicenode_state_new,
  .state_free = devicenode_state_free,
  .prepare = devicenode_prepare,
  .apply = devicenode_apply,
  .revert = devicenode_revert,
  .commit = devicenode_commit,
  .change_free = devicenode_change_free,
  .teardown = NULL,
  .environment = NULL,
};
