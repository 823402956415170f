/* The minimal root filesystem of a container (see rootfs.h).
 *
 * Trusts the host's /usr and program directories (they are shown to the container read-only)
 * and /etc/resolv.conf (copied). Writes only below the new rootfs directory, which it creates
 * itself, so nothing in it can be a planted symlink. */
#include "rootfs.h"

#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "error.h"
#include "util.h"

typedef struct {
  const char *path;
  mode_t mode;
} Dir;

static const Dir dirs[] = {
  { "dev", 0755 },  { "proc", 0555 },     { "sys", 0555 },      { "tmp", 01777 },
  { "etc", 0755 },  { "home", 0755 },     { "root", 0700 },     { "run", 0755 },
  { "var", 0755 },  { "var/tmp", 01777 }, { "var/lib", 0755 },  { "mnt", 0755 },
  { "opt", 0755 },  { "srv", 0755 },      { "media", 0755 },    { "usr", 0755 },
  { "gateways", 0755 },
};

/* Directories that hold programs and libraries on a host. */
static const char *const program_dirs[] = { "bin", "sbin", "lib", "lib32", "lib64", "libx32" };

static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n"
                             "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
static const char group[] = "root:x:0:\nnogroup:x:65534:\n";
static const char hosts[] = "127.0.0.1\tlocalhost\n127.0.1.1\tcontained\n"
                            "::1\tlocalhost ip6-localhost ip6-loopback\n";
static const char nsswitch[] = "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n";

static gboolean
write_at (int dirfd, const char *name, const char *data, gsize len, mode_t mode, GError **error)
{
  sc_autofd fd = openat (dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);

  if (fd < 0)
    {
      sc_set_errno_error (error, errno, "rootfs: cannot create %s", name);
      return FALSE;
    }
  while (len > 0)
    {
      ssize_t n = write (fd, data, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          sc_set_errno_error (error, errno, "rootfs: cannot write %s", name);
          return FALSE;
        }
      data += n;
      len -= (gsize) n;
    }
  return TRUE;
}

static gboolean
write_machine_id (int dirfd, GError **error)
{
  guint8 raw[16];
  char hex[33];

  if (getrandom (raw, sizeof raw, 0) != (ssize_t) sizeof raw)
    {
      sc_set_errno_error (error, errno, "rootfs: getrandom");
      return FALSE;
    }
  for (guint i = 0; i < sizeof raw; i++)
    g_snprintf (hex + 2 * i, 3, "%02x", raw[i]);
  hex[32] = '\n';
  return write_at (dirfd, "etc/machine-id", hex, sizeof hex, 0444, error);
}

static gboolean
copy_resolv_conf (int dirfd, GError **error)
{
  g_autofree char *data = NULL;
  gsize len = 0;

  /* No resolver configuration on the host: none in the container either. */
  if (!g_file_get_contents ("/etc/resolv.conf", &data, &len, NULL))
    return TRUE;
  return write_at (dirfd, "etc/resolv.conf", data, len, 0644, error);
}

gboolean
sc_rootfs_create (const char *rootfs, GPtrArray *mount_entries, GError **error)
{
  sc_autofd root = -1;
  struct stat st;

  if (mkdir (rootfs, 0755) < 0)
    {
      sc_set_errno_error (error, errno, "rootfs: cannot create %s", rootfs);
      return FALSE;
    }
  root = open (rootfs, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (root < 0)
    {
      sc_set_errno_error (error, errno, "rootfs: cannot open %s", rootfs);
      return FALSE;
    }

  for (guint i = 0; i < G_N_ELEMENTS (dirs); i++)
    {
      if (mkdirat (root, dirs[i].path, dirs[i].mode) < 0
          || fchmodat (root, dirs[i].path, dirs[i].mode, 0) < 0)
        {
          sc_set_errno_error (error, errno, "rootfs: cannot create %s/%s", rootfs, dirs[i].path);
          return FALSE;
        }
    }

  g_ptr_array_add (mount_entries, g_strdup ("/usr usr none ro,bind,nosuid,nodev 0 0"));
  for (guint i = 0; i < G_N_ELEMENTS (program_dirs); i++)
    {
      g_autofree char *host = g_strconcat ("/", program_dirs[i], NULL);

      if (lstat (host, &st) < 0)
        continue;
      if (S_ISLNK (st.st_mode))
        {
          g_autofree char *target = g_file_read_link (host, NULL);
          if (target == NULL || symlinkat (target, root, program_dirs[i]) < 0)
            {
              sc_set_errno_error (error, errno, "rootfs: cannot copy the symlink %s", host);
              return FALSE;
            }
        }
      else if (S_ISDIR (st.st_mode))
        {
          if (mkdirat (root, program_dirs[i], 0755) < 0)
            {
              sc_set_errno_error (error, errno, "rootfs: cannot create %s/%s", rootfs,
                                  program_dirs[i]);
              return FALSE;
            }
          g_ptr_array_add (mount_entries, g_strdup_printf ("%s %s none ro,bind,nosuid,nodev 0 0",
                                                           host, program_dirs[i]));
        }
    }

  /* the mount point of the init */
  if (!write_at (root, SC_ROOTFS_INIT_PATH + 1, "", 0, 0555, error))
    return FALSE;

  return write_at (root, "etc/passwd", passwd, sizeof passwd - 1, 0644, error)
         && write_at (root, "etc/group", group, sizeof group - 1, 0644, error)
         && write_at (root, "etc/hostname", "contained\n", 10, 0644, error)
         && write_at (root, "etc/hosts", hosts, sizeof hosts - 1, 0644, error)
         && write_at (root, "etc/nsswitch.conf", nsswitch, sizeof nsswitch - 1, 0644, error)
         && write_machine_id (root, error) && copy_resolv_conf (root, error);
}
