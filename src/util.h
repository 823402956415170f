/* Small helpers shared by the agent's modules. */
#pragma once

#include <errno.h>
#include <glib.h>
#include <sys/types.h>
#include <unistd.h>

/* GLib 2.74 has no g_autofd: a descriptor closed when it goes out of scope. */
static inline void
sc_close_fdp (int *fdp)
{
  if (*fdp >= 0)
    {
      int saved = errno;
      close (*fdp);
      errno = saved;
    }
}
#define sc_autofd __attribute__ ((cleanup (sc_close_fdp))) int

static inline int
sc_steal_fd (int *fdp)
{
  int fd = *fdp;
  *fdp = -1;
  return fd;
}

/* Lexically normalises an absolute path: collapses "//", "." and ".." (".." at the root stays
 * at the root). Refuses (SC_ERROR_BAD_PATH, naming `what`) a relative or empty path, a newline,
 * a component longer than NAME_MAX and a path longer than PATH_MAX. Returns "/" or
 * "/a/b" without a trailing slash. */
char *sc_path_normalize (const char *path, const char *what, GError **error);

/* Writes data to path (created with mode, truncated), close-on-exec, no symlink followed in the
 * last component. */
gboolean sc_write_file (const char *path, const char *data, gssize len, mode_t mode, GError **error);

/* Removes path and everything below it without following symlinks and without crossing into
 * another file system (a mount below path is left alone and reported). A missing path is fine. */
gboolean sc_remove_tree (const char *path, GError **error);

/* Helper programs of the agent (sc-init, softwarecontainer-dbus-proxy) sit beside the agent's
 * binary in a build tree, else in SC_LIBEXECDIR. sc_helpers_init records the directory of the
 * agent's binary from argv[0] (resolved as the shell would); main() calls it once, before any
 * thread starts. sc_helper_path returns where `name` is (g_free). */
void sc_helpers_init (const char *argv0);
char *sc_helper_path (const char *name);
