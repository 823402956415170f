/* cgroup lookups for the agent (see cgroup.h).
 *
 * Trusts the host's mount table and /proc. Paths are built from the kernel's own records
 * (/proc/<pid>/cgroup), never from names a container chose. */
#include "cgroup.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "util.h"

typedef struct {
  char *controllers; /* sorted, comma-separated as in /proc/<pid>/cgroup; "" for v2 */
  char *root;        /* the mount's root within the hierarchy */
  char *mountpoint;
} Hierarchy;

struct ScCgroups {
  GHashTable *dirs; /* controller -> directory */
};

static GPtrArray *hierarchies; /* Hierarchy *, filled once by sc_cgroup_init */
static G_LOCK_DEFINE (hierarchies);
static GPtrArray *self_procs; /* cgroup.procs files of the agent's own cgroups */

static void
hierarchy_free (gpointer p)
{
  Hierarchy *h = p;
  g_free (h->controllers);
  g_free (h->root);
  g_free (h->mountpoint);
  g_free (h);
}

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* "rw,cpu,cpuacct" -> "cpu,cpuacct" (sorted), keeping name=... entries. */
static char *
controllers_from_options (const char *options)
{
  g_auto (GStrv) opts = g_strsplit (options, ",", -1);
  g_autoptr (GPtrArray) keep = g_ptr_array_new ();

  for (char **o = opts; *o != NULL; o++)
    {
      static const char *const skip[] = { "rw", "ro", "relatime", "noatime", "nosuid", "nodev",
                                          "noexec", "clone_children", "nsdelegate", "xattr",
                                          "noprefix", "memory_recursiveprot", "favordynmods",
                                          "memory_localevents" };
      gboolean skipped = FALSE;
      for (guint i = 0; i < G_N_ELEMENTS (skip); i++)
        if (strcmp (*o, skip[i]) == 0 || g_str_has_prefix (*o, "release_agent="))
          skipped = TRUE;
      if (!skipped && **o != '\0')
        g_ptr_array_add (keep, *o);
    }
  g_ptr_array_sort (keep, compare_strings);
  g_ptr_array_add (keep, NULL);
  return g_strjoinv (",", (char **) keep->pdata);
}

gboolean
sc_cgroup_init (GError **error)
{
  g_autofree char *data = NULL;
  g_auto (GStrv) lines = NULL;
  GPtrArray *found;

  G_LOCK (hierarchies);
  if (hierarchies != NULL)
    {
      G_UNLOCK (hierarchies);
      return TRUE;
    }
  G_UNLOCK (hierarchies);

  if (!g_file_get_contents ("/proc/self/mountinfo", &data, NULL, error))
    return FALSE;
  found = g_ptr_array_new_with_free_func (hierarchy_free);
  lines = g_strsplit (data, "\n", -1);
  for (char **l = lines; *l != NULL; l++)
    {
      /* id parent maj:min root mountpoint options [optional...] - fstype source superopts */
      g_auto (GStrv) f = g_strsplit (*l, " ", -1);
      guint n = g_strv_length (f);
      guint dash = 0;
      Hierarchy *h;

      for (guint i = 6; i < n; i++)
        if (strcmp (f[i], "-") == 0)
          {
            dash = i;
            break;
          }
      if (dash == 0 || dash + 3 >= n + 1 || dash + 2 >= n)
        continue;
      if (strcmp (f[dash + 1], "cgroup") != 0 && strcmp (f[dash + 1], "cgroup2") != 0)
        continue;
      h = g_new0 (Hierarchy, 1);
      h->root = g_strcompress (f[3]);
      h->mountpoint = g_strcompress (f[4]);
      h->controllers = strcmp (f[dash + 1], "cgroup2") == 0 ? g_strdup ("")
                                                             : controllers_from_options (f[dash + 3]);
      g_ptr_array_add (found, h);
    }

  G_LOCK (hierarchies);
  if (hierarchies == NULL)
    hierarchies = found;
  else
    g_ptr_array_unref (found);
  G_UNLOCK (hierarchies);
  return TRUE;
}

static const Hierarchy *
find_hierarchy (const char *controllers)
{
  for (guint i = 0; hierarchies != NULL && i < hierarchies->len; i++)
    {
      const Hierarchy *h = g_ptr_array_index (hierarchies, i);
      if (strcmp (h->controllers, controllers) == 0)
        return h;
    }
  return NULL;
}

static char *
hierarchy_dir (const Hierarchy *h, const char *path)
{
  const char *rel = path;

  /* a hierarchy mounted at a sub-tree shows paths below its root */
  if (strcmp (h->root, "/") != 0 && g_str_has_prefix (path, h->root))
    rel = path + strlen (h->root);
  return g_build_filename (h->mountpoint, rel, NULL);
}

ScCgroups *
sc_cgroups_of_pid (pid_t pid, GError **error)
{
  g_autofree char *file = g_strdup_printf ("/proc/%d/cgroup", (int) pid);
  g_autofree char *data = NULL;
  g_auto (GStrv) lines = NULL;
  ScCgroups *cg;

  if (!sc_cgroup_init (error))
    return NULL;
  if (!g_file_get_contents (file, &data, NULL, error))
    return NULL;
  cg = g_new0 (ScCgroups, 1);
  cg->dirs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  lines = g_strsplit (data, "\n", -1);
  for (char **l = lines; *l != NULL; l++)
    {
      g_auto (GStrv) f = g_strsplit (*l, ":", 3);
      g_auto (GStrv) ctrls = NULL;
      g_autofree char *key = NULL;
      const Hierarchy *h;

      if (g_strv_length (f) != 3)
        continue;
      key = controllers_from_options (f[1]); /* same order as the mount table's */
      h = find_hierarchy (key);
      if (h == NULL)
        continue;
      /* "cpu,cpuacct" is reachable by each name; the v2 hierarchy by "" */
      if (f[1][0] == '\0')
        {
          g_hash_table_replace (cg->dirs, g_strdup (""), hierarchy_dir (h, f[2]));
          continue;
        }
      ctrls = g_strsplit (f[1], ",", -1);
      for (char **c = ctrls; *c != NULL; c++)
        g_hash_table_replace (cg->dirs, g_strdup (*c), hierarchy_dir (h, f[2]));
    }
  return cg;
}

void
sc_cgroups_free (ScCgroups *cgroups)
{
  if (cgroups == NULL)
    return;
  g_hash_table_unref (cgroups->dirs);
  g_free (cgroups);
}

const char *
sc_cgroups_dir (ScCgroups *cgroups, const char *controller)
{
  return g_hash_table_lookup (cgroups->dirs, controller);
}

static gboolean
read_small (const char *path, char *buf, gsize size)
{
  sc_autofd fd = open (path, O_RDONLY | O_CLOEXEC);
  ssize_t n;

  if (fd < 0)
    return FALSE;
  n = read (fd, buf, size - 1);
  if (n < 0)
    return FALSE;
  buf[n] = '\0';
  return TRUE;
}

static gboolean
write_small (const char *path, const char *value, GError **error)
{
  sc_autofd fd = open (path, O_WRONLY | O_CLOEXEC);
  gsize len = strlen (value);

  if (fd < 0 || write (fd, value, len) != (ssize_t) len)
    {
      sc_set_errno_error (error, errno, "cannot write '%s' to %s", value, path);
      return FALSE;
    }
  return TRUE;
}

gboolean
sc_cgroups_freeze (ScCgroups *cgroups, gboolean freeze, guint timeout_ms, GError **error)
{
  const char *v1 = sc_cgroups_dir (cgroups, "freezer");
  const char *v2 = sc_cgroups_dir (cgroups, "");
  g_autofree char *state_file = NULL;
  g_autofree char *check_file = NULL;
  const char *want;
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  guint delay_us = 50;

  if (v1 != NULL)
    {
      state_file = g_build_filename (v1, "freezer.state", NULL);
      check_file = g_strdup (state_file);
      if (!write_small (state_file, freeze ? "FROZEN" : "THAWED", error))
        return FALSE;
      want = freeze ? "FROZEN" : "THAWED";
    }
  else if (v2 != NULL)
    {
      state_file = g_build_filename (v2, "cgroup.freeze", NULL);
      check_file = g_build_filename (v2, "cgroup.events", NULL);
      if (!write_small (state_file, freeze ? "1" : "0", error))
        return FALSE;
      want = freeze ? "frozen 1" : "frozen 0";
    }
  else
    {
      g_set_error (error, SC_ERROR, SC_ERROR_SYSTEM, "no freezer cgroup found for the container");
      return FALSE;
    }

  for (;;)
    {
      char buf[256];

      if (read_small (check_file, buf, sizeof buf) && strstr (buf, want) != NULL)
        return TRUE;
      if (g_get_monotonic_time () > deadline)
        {
          g_set_error (error, SC_ERROR, SC_ERROR_SYSTEM, "%s did not reach %s within %u ms",
                       check_file, want, timeout_ms);
          return FALSE;
        }
      g_usleep (delay_us);
      delay_us = MIN (delay_us * 2, 10000);
    }
}

gboolean
sc_cgroup_remember_self (GError **error)
{
  g_autoptr (ScCgroups) self = sc_cgroups_of_pid (getpid (), error);
  GHashTableIter iter;
  gpointer key, value;

  if (self == NULL)
    return FALSE;
  if (self_procs != NULL)
    g_ptr_array_unref (self_procs);
  self_procs = g_ptr_array_new_with_free_func (g_free);
  g_hash_table_iter_init (&iter, self->dirs);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      char *procs = g_build_filename (value, "cgroup.procs", NULL);
      /* co-mounted controllers share one directory: write it once */
      if (!g_ptr_array_find_with_equal_func (self_procs, procs, g_str_equal, NULL))
        g_ptr_array_add (self_procs, procs);
      else
        g_free (procs);
    }
  return TRUE;
}

gboolean
sc_cgroup_return_self (GError **error)
{
  char pid[32];

  g_snprintf (pid, sizeof pid, "%d", (int) getpid ());
  for (guint i = 0; self_procs != NULL && i < self_procs->len; i++)
    {
      const char *procs = g_ptr_array_index (self_procs, i);
      /* v2 refuses to move into an inner node that has controllers enabled; the agent was there
       * before, so a failure here is worth reporting */
      if (!write_small (procs, pid, error))
        return FALSE;
    }
  return TRUE;
}

/* rmdir a cgroup directory and its children, deepest first. */
static gboolean
remove_cgroup_tree (const char *dir, GError **error)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  gboolean ok = TRUE;

  if (d == NULL)
    return TRUE; /* gone already */
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *child = g_build_filename (dir, name, NULL);
      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        ok = remove_cgroup_tree (child, ok ? error : NULL) && ok;
    }
  /* LXC reports a container STOPPED while its monitor process is still exiting from the
   * monitor cgroup: EBUSY is transient then. */
  for (guint delay_us = 100;; delay_us *= 2)
    {
      if (rmdir (dir) == 0 || errno == ENOENT)
        return ok;
      if (errno != EBUSY || delay_us > 400000)
        break;
      g_usleep (delay_us);
    }
  if (ok)
    sc_set_errno_error (error, errno, "cannot remove cgroup %s", dir);
  return FALSE;
}

gboolean
sc_cgroup_remove_container (const char *name, GError **error)
{
  g_autoptr (ScCgroups) self = NULL;
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  gboolean ok = TRUE;

  if (!sc_cgroup_init (error))
    return FALSE;
  self = sc_cgroups_of_pid (getpid (), error);
  if (self == NULL)
    return FALSE;
  for (guint i = 0; i < hierarchies->len; i++)
    {
      const Hierarchy *h = g_ptr_array_index (hierarchies, i);
      g_auto (GStrv) ctrls = g_strsplit (h->controllers, ",", -1);
      const char *own = sc_cgroups_dir (self, ctrls[0] != NULL ? ctrls[0] : "");
      const char *bases[] = { own, h->mountpoint };

      for (guint b = 0; b < G_N_ELEMENTS (bases); b++)
        {
          static const char *const parents[] = { "lxc", "lxc.monitor" };
          if (bases[b] == NULL)
            continue;
          for (guint p = 0; p < G_N_ELEMENTS (parents); p++)
            {
              char *dir = g_build_filename (bases[b], parents[p], name, NULL);
              if (g_hash_table_contains (seen, dir))
                {
                  g_free (dir);
                  continue;
                }
              g_hash_table_add (seen, dir);
              ok = remove_cgroup_tree (dir, ok ? error : NULL) && ok;
            }
        }
    }
  return ok;
}

/* ---- Writing settings (the cgroups gateway) ------------------------------------------------- */

typedef struct {
  char *setting;   /* as the caller named it, for messages */
  char *file;      /* absolute path of the file written */
  char *value;     /* what is written */
  char *old_value; /* what the file held before; NULL when it could not be read */
} CgroupWrite;

struct ScCgroupWrites {
  GPtrArray *planned; /* CgroupWrite *, in the order they are written */
  guint n_written;
};

/* The v1 settings that have a v2 file of another name (memory.swap.max and cpu.weight take
 * other values too: see cgroup_map_v2). Every other setting keeps its name on v2. */
static const struct {
  const char *v1;
  const char *v2;
} v2_names[] = {
  { "memory.limit_in_bytes", "memory.max" },
  { "memory.memsw.limit_in_bytes", "memory.swap.max" },
  { "cpu.shares", "cpu.weight" },
};

static void
cgroup_write_free (gpointer data)
{
  CgroupWrite *w = data;

  g_free (w->setting);
  g_free (w->file);
  g_free (w->value);
  g_free (w->old_value);
  g_free (w);
}

void
sc_cgroup_writes_free (ScCgroupWrites *writes)
{
  if (writes == NULL)
    return;
  g_ptr_array_unref (writes->planned);
  g_free (writes);
}

/* A cgroup file's contents without the trailing newline, or NULL. */
static char *
read_value (const char *path)
{
  char buf[4096];

  if (!read_small (path, buf, sizeof buf))
    return NULL;
  return g_strchomp (g_strdup (buf));
}

/* One write(2) of the whole value, as the kernel wants it; the file is never a symlink. */
static gboolean
write_setting (const char *path, const char *value, GError **error)
{
  sc_autofd fd = open (path, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
  gsize len = strlen (value);
  ssize_t n = fd < 0 ? -1 : write (fd, value, len);

  if (n != (ssize_t) len)
    {
      sc_set_errno_error (error, n < 0 ? errno : EIO, "cannot write '%s' to %s", value, path);
      return FALSE;
    }
  return TRUE;
}

static gboolean
v2_has_controller (const char *v2_dir, const char *controller)
{
  g_autofree char *path = g_build_filename (v2_dir, "cgroup.controllers", NULL);
  g_autofree char *list = read_value (path);
  g_auto (GStrv) names = g_strsplit (list != NULL ? list : "", " ", -1);

  return g_strv_contains ((const char *const *) names, controller);
}

static gboolean
parse_decimal (const char *setting, const char *value, guint64 max, guint64 *out, GError **error)
{
  g_autoptr (GError) local_error = NULL;

  if (!g_ascii_string_to_unsigned (value, 10, 0, max, out, &local_error))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_SYSTEM, "%s: '%s' is not a decimal number up to %"
                   G_GUINT64_FORMAT, setting, value, max);
      return FALSE;
    }
  return TRUE;
}

/* The v2 file and value of a v1 setting (cgroup.h). limit: the memory.limit_in_bytes of the same
 * batch, or NULL. */
static gboolean
cgroup_map_v2 (const char *v2_dir, const char *setting, const char *value, const char *limit,
               CgroupWrite *w, GError **error)
{
  const char *name = setting;

  for (guint i = 0; i < G_N_ELEMENTS (v2_names); i++)
    if (strcmp (setting, v2_names[i].v1) == 0)
      name = v2_names[i].v2;
  w->file = g_build_filename (v2_dir, name, NULL);

  if (strcmp (setting, "cpu.shares") == 0)
    {
      guint64 shares = 0;

      if (!parse_decimal (setting, value, SC_CGROUP_MAX_SHARES, &shares, error))
        return FALSE;
      if (shares < 2)
        {
          g_set_error (error, SC_ERROR, SC_ERROR_SYSTEM, "%s: must be at least 2", setting);
          return FALSE;
        }
      w->value = g_strdup_printf ("%" G_GUINT64_FORMAT,
                                  1 + ((shares - 2) * 9999) / (SC_CGROUP_MAX_SHARES - 2));
    }
  else if (strcmp (setting, "memory.memsw.limit_in_bytes") == 0)
    {
      g_autofree char *max_file = g_build_filename (v2_dir, "memory.max", NULL);
      g_autofree char *current = limit == NULL ? read_value (max_file) : NULL;
      guint64 memsw = 0, mem = 0;

      if (limit == NULL && (current == NULL || strcmp (current, "max") == 0))
        {
          g_set_error (error, SC_ERROR, SC_ERROR_SYSTEM,
                       "%s: on cgroup v2 this is mapped to memory.swap.max = memsw - limit, which "
                       "needs memory.limit_in_bytes as well",
                       setting);
          return FALSE;
        }
      if (!parse_decimal (setting, value, G_MAXINT64, &memsw, error)
          || !parse_decimal ("memory.limit_in_bytes", limit != NULL ? limit : current, G_MAXINT64,
                             &mem, error))
        return FALSE;
      if (memsw < mem)
        {
          g_set_error (error, SC_ERROR, SC_ERROR_SYSTEM,
                       "%s: %" G_GUINT64_FORMAT " is below the memory limit %" G_GUINT64_FORMAT,
                       setting, memsw, mem);
          return FALSE;
        }
      w->value = g_strdup_printf ("%" G_GUINT64_FORMAT, memsw - mem);
    }
  else
    w->value = g_strdup (value);
  return TRUE;
}

/* Where a setting lands on this host (cgroup.h). */
static CgroupWrite *
cgroup_plan_one (ScCgroups *cgroups, const char *setting, const char *value, const char *limit,
                 GError **error)
{
  g_autofree char *controller = NULL;
  const char *dot = strchr (setting, '.');
  const char *v1_dir = NULL, *v2_dir = NULL;
  CgroupWrite *w = NULL;

  /* the caller checks names; this keeps a bad one from ever naming a path */
  if (dot == NULL || dot == setting || strchr (setting, '/') != NULL
      || strstr (setting, "..") != NULL)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_SYSTEM, "'%s' is not a cgroup setting name", setting);
      return NULL;
    }
  controller = g_strndup (setting, dot - setting);
  v1_dir = sc_cgroups_dir (cgroups, controller);
  v2_dir = sc_cgroups_dir (cgroups, "");
  w = g_new0 (CgroupWrite, 1);
  w->setting = g_strdup (setting);
  if (v1_dir != NULL)
    {
      w->file = g_build_filename (v1_dir, setting, NULL);
      w->value = g_strdup (value);
      return w;
    }
  if (v2_dir != NULL && v2_has_controller (v2_dir, controller))
    {
      if (cgroup_map_v2 (v2_dir, setting, value, limit, w, error))
        return w;
      cgroup_write_free (w);
      return NULL;
    }
  cgroup_write_free (w);
  g_set_error (error, SC_ERROR, SC_ERROR_SYSTEM,
               "%s: the %s controller is not mounted on this host%s", setting, controller,
               strcmp (controller, "net_cls") == 0 || strcmp (controller, "net_prio") == 0
                   ? " (it exists only on cgroup v1: mount a v1 hierarchy for it, e.g. "
                     "'mount -t cgroup -o net_cls net_cls /sys/fs/cgroup/net_cls', before the "
                     "agent starts)"
                   : "");
  return NULL;
}

static int
find_planned (GPtrArray *planned, const char *v1_name)
{
  for (guint i = 0; i < planned->len; i++)
    {
      const CgroupWrite *w = g_ptr_array_index (planned, i);
      if (strcmp (w->setting, v1_name) == 0 && g_str_has_suffix (w->file, v1_name))
        return (int) i;
    }
  return -1;
}

/* v1 refuses a memory limit above memsw (and memsw below the limit): when a batch sets both,
 * write the limit first if it fits under the current memsw, else memsw first. From a valid
 * (limit, memsw) to another valid one, one of the two orders always works. */
static void
order_v1_memory (GPtrArray *planned)
{
  int l = find_planned (planned, "memory.limit_in_bytes");
  int s = find_planned (planned, "memory.memsw.limit_in_bytes");
  CgroupWrite *limit, *memsw;
  g_autofree char *current = NULL;
  guint64 new_limit = 0, current_memsw = 0;
  gboolean memsw_first;

  if (l < 0 || s < 0)
    return;
  limit = g_ptr_array_index (planned, l);
  memsw = g_ptr_array_index (planned, s);
  current = read_value (memsw->file);
  memsw_first = current != NULL && g_ascii_string_to_unsigned (limit->value, 10, 0, G_MAXUINT64,
                                                               &new_limit, NULL)
                && g_ascii_string_to_unsigned (current, 10, 0, G_MAXUINT64, &current_memsw, NULL)
                && new_limit > current_memsw;
  planned->pdata[MIN (l, s)] = memsw_first ? memsw : limit;
  planned->pdata[MAX (l, s)] = memsw_first ? limit : memsw;
}

static gboolean
cgroup_undo (ScCgroupWrites *writes, GError **error)
{
  gboolean ok = TRUE;

  while (writes->n_written > 0)
    {
      const CgroupWrite *w = g_ptr_array_index (writes->planned, --writes->n_written);
      g_autoptr (GError) local_error = NULL;

      if (w->old_value == NULL)
        {
          g_debug ("cgroup: %s had no readable value before; left as it is", w->file);
          continue;
        }
      if (!write_setting (w->file, w->old_value, &local_error))
        {
          if (ok)
            g_set_error (error, SC_ERROR, SC_ERROR_SYSTEM, "%s: cannot restore: %s", w->setting,
                         local_error->message);
          ok = FALSE;
        }
    }
  return ok;
}

ScCgroupWrites *
sc_cgroups_write_settings (ScCgroups *cgroups, const char *const *settings,
                           const char *const *values, guint n, GError **error)
{
  return sc_cgroups_write_settings_full (cgroups, settings, values, n, NULL, error);
}

ScCgroupWrites *
sc_cgroups_write_settings_full (ScCgroups *cgroups, const char *const *settings,
                                const char *const *values, guint n, gboolean *undo_failed,
                                GError **error)
{
  g_autoptr (ScCgroupWrites) writes = g_new0 (ScCgroupWrites, 1);
  const char *limit = NULL;

  writes->planned = g_ptr_array_new_with_free_func (cgroup_write_free);
  for (guint i = 0; i < n; i++)
    if (strcmp (settings[i], "memory.limit_in_bytes") == 0)
      limit = values[i];
  for (guint i = 0; i < n; i++)
    {
      CgroupWrite *w = cgroup_plan_one (cgroups, settings[i], values[i], limit, error);

      if (w == NULL)
        return NULL;
      g_ptr_array_add (writes->planned, w);
    }
  order_v1_memory (writes->planned);

  for (guint i = 0; i < writes->planned->len; i++)
    {
      CgroupWrite *w = g_ptr_array_index (writes->planned, i);
      g_autoptr (GError) local_error = NULL;
      g_autoptr (GError) undo_error = NULL;

      w->old_value = read_value (w->file);
      if (!write_setting (w->file, w->value, &local_error))
        {
          g_set_error (error, SC_ERROR, SC_ERROR_SYSTEM, "%s: %s", w->setting,
                       local_error->message);
          if (!cgroup_undo (writes, &undo_error))
            {
              g_warning ("cgroup: %s", undo_error->message);
              if (undo_failed != NULL)
                *undo_failed = TRUE;
            }
          return NULL;
        }
      writes->n_written++;
      g_debug ("cgroup: %s = %s (%s, was %s)", w->setting, w->value, w->file,
               w->old_value != NULL ? w->old_value : "unreadable");
    }
  return g_steal_pointer (&writes);
}

gboolean
sc_cgroup_writes_undo (ScCgroupWrites *writes, GError **error)
{
  return cgroup_undo (writes, error);
}

ScCgroups *
sc_cgroups_new_from_dirs (const char *const *controllers, const char *const *dirs, guint n)
{
  ScCgroups *cg = g_new0 (ScCgroups, 1);

  cg->dirs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  for (guint i = 0; i < n; i++)
    g_hash_table_replace (cg->dirs, g_strdup (controllers[i]), g_strdup (dirs[i]));
  return cg;
}
