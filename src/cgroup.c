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
