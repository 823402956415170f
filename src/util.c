/* Small helpers shared by the agent's modules: path normalisation and file writing. */
#include "util.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"

char *
sc_path_normalize (const char *path, const char *what, GError **error)
{
  g_autoptr (GPtrArray) parts = g_ptr_array_new ();
  g_auto (GStrv) components = NULL;
  GString *out = NULL;

  if (path == NULL || path[0] == '\0')
    {
      g_set_error (error, SC_ERROR, SC_ERROR_BAD_PATH, "%s is empty", what);
      return NULL;
    }
  if (path[0] != '/')
    {
      g_set_error (error, SC_ERROR, SC_ERROR_BAD_PATH, "%s '%s' is not an absolute path", what,
                   path);
      return NULL;
    }
  if (strchr (path, '\n') != NULL)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_BAD_PATH, "%s contains a newline", what);
      return NULL;
    }
  if (strlen (path) >= PATH_MAX)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_BAD_PATH, "%s is longer than %d bytes", what,
                   PATH_MAX - 1);
      return NULL;
    }

  components = g_strsplit (path, "/", -1);
  for (char **c = components; *c != NULL; c++)
    {
      if ((*c)[0] == '\0' || strcmp (*c, ".") == 0)
        continue;
      if (strcmp (*c, "..") == 0)
        {
          if (parts->len > 0)
            g_ptr_array_remove_index (parts, parts->len - 1);
          continue;
        }
      if (strlen (*c) > NAME_MAX)
        {
          g_set_error (error, SC_ERROR, SC_ERROR_BAD_PATH,
                       "%s '%s' has a component longer than %d bytes", what, path, NAME_MAX);
          return NULL;
        }
      g_ptr_array_add (parts, *c);
    }

  out = g_string_new (NULL);
  for (guint i = 0; i < parts->len; i++)
    {
      g_string_append_c (out, '/');
      g_string_append (out, g_ptr_array_index (parts, i));
    }
  if (out->len == 0)
    g_string_append_c (out, '/');
  return g_string_free (out, FALSE);
}

gboolean
sc_write_file (const char *path, const char *data, gssize len, mode_t mode, GError **error)
{
  sc_autofd fd = -1;
  gsize todo = len < 0 ? strlen (data) : (gsize) len;

  fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, mode);
  if (fd < 0)
    {
      sc_set_errno_error (error, errno, "cannot create %s", path);
      return FALSE;
    }
  while (todo > 0)
    {
      ssize_t n = write (fd, data, todo);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          sc_set_errno_error (error, errno, "cannot write %s", path);
          return FALSE;
        }
      data += n;
      todo -= (gsize) n;
    }
  return TRUE;
}

/* Removes the entries of the directory dirfd (on device dev), then nothing else. */
static gboolean
remove_children (int dirfd, dev_t dev, const char *where, GError **error)
{
  int fd = fcntl (dirfd, F_DUPFD_CLOEXEC, 3);
  DIR *d;
  struct dirent *e;
  gboolean ok = TRUE;

  if (fd < 0 || (d = fdopendir (fd)) == NULL)
    {
      if (fd >= 0)
        close (fd);
      sc_set_errno_error (error, errno, "cannot read %s", where);
      return FALSE;
    }
  while ((e = readdir (d)) != NULL)
    {
      struct stat st;

      if (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0)
        continue;
      if (fstatat (dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        continue;
      if (S_ISDIR (st.st_mode))
        {
          g_autofree char *child_where = g_build_filename (where, e->d_name, NULL);
          sc_autofd child = -1;

          if (st.st_dev != dev)
            {
              if (ok)
                g_set_error (error, SC_ERROR, SC_ERROR_SYSTEM,
                             "%s is a mount point; not removing it", child_where);
              ok = FALSE;
              continue;
            }
          child = openat (dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (child < 0 || !remove_children (child, dev, child_where, ok ? error : NULL))
            {
              ok = FALSE;
              continue;
            }
          if (unlinkat (dirfd, e->d_name, AT_REMOVEDIR) < 0)
            {
              if (ok)
                sc_set_errno_error (error, errno, "cannot remove %s", child_where);
              ok = FALSE;
            }
        }
      else if (unlinkat (dirfd, e->d_name, 0) < 0)
        {
          if (ok)
            sc_set_errno_error (error, errno, "cannot remove %s/%s", where, e->d_name);
          ok = FALSE;
        }
    }
  closedir (d);
  return ok;
}

gboolean
sc_remove_tree (const char *path, GError **error)
{
  sc_autofd fd = -1;
  struct stat st;

  if (lstat (path, &st) < 0)
    {
      if (errno == ENOENT)
        return TRUE;
      sc_set_errno_error (error, errno, "cannot remove %s", path);
      return FALSE;
    }
  if (!S_ISDIR (st.st_mode))
    {
      if (unlink (path) < 0 && errno != ENOENT)
        {
          sc_set_errno_error (error, errno, "cannot remove %s", path);
          return FALSE;
        }
      return TRUE;
    }
  fd = open (path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    {
      sc_set_errno_error (error, errno, "cannot open %s", path);
      return FALSE;
    }
  if (!remove_children (fd, st.st_dev, path, error))
    return FALSE;
  if (rmdir (path) < 0 && errno != ENOENT)
    {
      sc_set_errno_error (error, errno, "cannot remove %s", path);
      return FALSE;
    }
  return TRUE;
}

/* Set once by main() before any thread starts; read-only afterwards. */
static char *helpers_self_dir;

void
sc_helpers_init (const char *argv0)
{
  g_autofree char *self = NULL;

  if (strchr (argv0, '/') != NULL)
    self = realpath (argv0, NULL);
  else
    {
      g_autofree char *found = g_find_program_in_path (argv0);
      if (found != NULL)
        self = realpath (found, NULL);
    }
  g_free (helpers_self_dir);
  helpers_self_dir = self != NULL ? g_path_get_dirname (self) : NULL;
}

char *
sc_helper_path (const char *name)
{
  if (helpers_self_dir != NULL)
    {
      g_autofree char *beside = g_build_filename (helpers_self_dir, name, NULL);
      if (g_file_test (beside, G_FILE_TEST_IS_EXECUTABLE))
        return g_steal_pointer (&beside);
    }
  return g_build_filename (SC_LIBEXECDIR, name, NULL);
}
