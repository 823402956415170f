/* BindMount and the file gateway through the real agent: what a host path looks like inside
 * the container (directories, files, FIFOs, unix sockets), read-only binds, refused sources and
 * targets, paths that try to leave the container through symlinks or "..", mounts into a
 * container whose app is already running, and the rollback of a failed mount. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "harness.h"

/* ---- helpers ------------------------------------------------------------------------------- */

/* A host directory below the test's temp dir holding the file f with the given content. */
static char *
make_host_dir (const char *name, const char *content)
{
  char *dir = h_path (name);

  ck_assert_int_eq (g_mkdir (dir, 0755), 0);
  if (content != NULL)
    {
      g_autofree char *f = g_build_filename (dir, "f", NULL);
      ck_assert (g_file_set_contents (f, content, -1, NULL));
    }
  return dir;
}

static char *
make_host_file (const char *name, const char *content)
{
  char *path = h_path (name);

  ck_assert (g_file_set_contents (path, content, -1, NULL));
  return path;
}

/* Where the container's root directory is on the host. */
static char *
rootfs_path (int id, const char *sub)
{
  return g_strdup_printf ("%s/SC-%d/rootfs%s", h->lxcpath, id, sub != NULL ? sub : "");
}

/* Calls BindMount; returns NULL on success, else the error message (code word included). */
static char *
try_bind_mount (int id, const char *host, const char *container, gboolean read_only)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) r
      = h_call ("BindMount", g_variant_new ("(issb)", id, host, container, read_only), &error);

  if (r != NULL)
    return NULL;
  g_dbus_error_strip_remote_error (error);
  return g_strdup (error->message);
}

/* BindMount must fail with code_word; returns the message (without the code word). */
static char *
bind_mount_expect (const char *code_word, int id, const char *host, const char *container,
                   gboolean read_only)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) r
      = h_call ("BindMount", g_variant_new ("(issb)", id, host, container, read_only), &error);

  h_assert_failed (error, code_word);
  return g_strdup (error->message);
}

/* Exit code of a command in the container; its output in *out if out is not NULL. */
static guint
run_code (int id, const char *command, char **out)
{
  guint code;
  char *text = h_run (id, command, &code);

  if (out != NULL)
    *out = text;
  else
    g_free (text);
  return code;
}

static void
assert_absent_inside (int id, const char *path)
{
  g_autofree char *cmd = g_strdup_printf ("test ! -e %s -a ! -L %s", path, path);
  ck_assert_msg (run_code (id, cmd, NULL) == 0, "%s exists in the container", path);
}

/* The line of the container's mountinfo whose mount point is path, or NULL. */
static char *
inside_mountinfo_line (int id, const char *path)
{
  g_autofree char *info = h_run_ok (id, "cat /proc/self/mountinfo");
  g_auto (GStrv) lines = g_strsplit (info, "\n", -1);
  char *found = NULL;

  for (char **l = lines; *l != NULL; l++)
    {
      g_auto (GStrv) f = g_strsplit (*l, " ", -1);
      if (g_strv_length (f) > 5 && strcmp (f[4], path) == 0)
        {
          g_free (found);
          found = g_strdup (*l); /* the last one is the one on top */
        }
    }
  return found;
}

/* The per-mount options (field 6) of a mountinfo line contain opt. */
static gboolean
mount_line_has_option (const char *line, const char *opt)
{
  g_auto (GStrv) f = g_strsplit (line, " ", -1);
  g_auto (GStrv) opts = NULL;

  if (g_strv_length (f) <= 5)
    return FALSE;
  opts = g_strsplit (f[5], ",", -1);
  return g_strv_contains ((const char *const *) opts, opt);
}

/* Does the host's (the test's) mount namespace have a mount point at or below path? */
static gboolean
host_has_mount_under (const char *path)
{
  g_autofree char *info = h_read ("/proc/self/mountinfo");
  g_auto (GStrv) lines = g_strsplit (info != NULL ? info : "", "\n", -1);
  gsize len = strlen (path);

  for (char **l = lines; *l != NULL; l++)
    {
      g_auto (GStrv) f = g_strsplit (*l, " ", -1);
      if (g_strv_length (f) > 5 && strncmp (f[4], path, len) == 0
          && (f[4][len] == '\0' || f[4][len] == '/'))
        return TRUE;
    }
  return FALSE;
}

static void
assert_dir_empty (const char *path)
{
  g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
  const char *name;

  ck_assert_msg (d != NULL, "%s is gone", path);
  name = g_dir_read_name (d);
  ck_assert_msg (name == NULL, "%s is no longer empty: it holds %s", path, name);
}

/* ---- directories --------------------------------------------------------------------------- */

START_TEST (bind_directory_both_ways)
{
  int id = h_create ("[]");
  g_autofree char *dir = make_host_dir ("shared-dir", "from the host\n");
  g_autofree char *out = NULL;
  g_autofree char *written = NULL;
  g_autofree char *new_file = g_build_filename (dir, "new", NULL);
  g_autofree char *line = NULL;
  g_autofree char *rootfs = rootfs_path (id, NULL);

  h_bind_mount (id, dir, "/mnt/data", FALSE);
  out = h_run_ok (id, "cat /mnt/data/f");
  ck_assert_str_eq (out, "from the host\n");
  g_free (h_run_ok (id, "sh -c 'echo from inside > /mnt/data/new'"));
  written = h_read (new_file);
  ck_assert_ptr_nonnull (written);
  ck_assert_str_eq (written, "from inside\n");
  /* a change on the host shows inside */
  ck_assert (g_file_set_contents (new_file, "changed\n", -1, NULL));
  g_free (out);
  out = h_run_ok (id, "cat /mnt/data/new");
  ck_assert_str_eq (out, "changed\n");
  /* security.md: mounts into the container are nosuid,nodev */
  line = inside_mountinfo_line (id, "/mnt/data");
  ck_assert_msg (line != NULL, "/mnt/data is not a mount point inside");
  ck_assert_msg (mount_line_has_option (line, "nosuid") && mount_line_has_option (line, "nodev")
                     && mount_line_has_option (line, "rw"),
                 "mount options: %s", line);
  /* the mount lives in the container's mount namespace only */
  ck_assert (!host_has_mount_under (rootfs));
  ck_assert (!host_has_mount_under (dir));
  h_destroy (id);
}
END_TEST

START_TEST (bind_creates_missing_parents)
{
  int id = h_create ("[]");
  g_autofree char *dir = make_host_dir ("deep", "deep\n");
  g_autofree char *out = NULL;
  g_autofree char *on_host = rootfs_path (id, "/a/b/c/d");

  assert_absent_inside (id, "/a");
  h_bind_mount (id, dir, "/a/b/c/d", FALSE);
  out = h_run_ok (id, "cat /a/b/c/d/f");
  ck_assert_str_eq (out, "deep\n");
  /* the parents are real directories of the container's root, not something on the host */
  ck_assert (g_file_test (on_host, G_FILE_TEST_IS_DIR));
  g_free (out);
  out = h_run_ok (id, "sh -c 'test -d /a/b/c && ! test -L /a/b && echo ok'");
  ck_assert_str_eq (out, "ok\n");
  h_destroy (id);
}
END_TEST

START_TEST (bind_into_running_app)
{
  int id = h_create ("[]");
  g_autofree char *dir = make_host_dir ("live", NULL);
  g_autofree char *marker = g_build_filename (dir, "marker", NULL);
  g_autofree char *ack = g_build_filename (dir, "ack", NULL);
  g_autofree char *app_out = h_path ("app.out");
  g_autofree char *ack_text = NULL;
  g_autofree char *out = NULL;
  int sleeper, app;

  sleeper = h_execute (id, "sleep 100", "/", NULL, NULL);
  app = h_execute (id,
                   "sh -c 'while ! test -e /mnt/x/marker; do sleep 0.05; done; "
                   "echo seen > /mnt/x/ack'",
                   "/", app_out, NULL);
  h_sleep (200);
  h_bind_mount (id, dir, "/mnt/x", FALSE);
  ck_assert (g_file_set_contents (marker, "here\n", -1, NULL));
  /* a new process sees the mount */
  out = h_run_ok (id, "cat /mnt/x/marker");
  ck_assert_str_eq (out, "here\n");
  /* and so does the one that was running before it was made */
  ck_assert_uint_eq (h_wait_exit (id, app, 20000), 0);
  ack_text = h_read (ack);
  ck_assert_ptr_nonnull (ack_text);
  ck_assert_str_eq (ack_text, "seen\n");
  /* the long-running app was not disturbed (its pid is the host's) */
  ck_assert_int_eq (kill (sleeper, 0), 0);
  h_destroy (id);
}
END_TEST

/* ---- other kinds of host paths ------------------------------------------------------------ */

START_TEST (bind_regular_file)
{
  int id = h_create ("[]");
  g_autofree char *file = make_host_file ("app.conf", "key=value\n");
  g_autofree char *out = NULL;
  g_autofree char *after = NULL;

  h_bind_mount (id, file, "/etc/app.conf", FALSE);
  h_bind_mount (id, file, "/x/y/copy.conf", TRUE);
  out = h_run_ok (id, "cat /etc/app.conf /x/y/copy.conf");
  ck_assert_str_eq (out, "key=value\nkey=value\n");
  g_free (out);
  out = h_run_ok (id, "sh -c 'test -f /x/y/copy.conf && test -d /x/y && echo ok'");
  ck_assert_str_eq (out, "ok\n");
  g_free (h_run_ok (id, "sh -c 'echo more=1 >> /etc/app.conf'"));
  after = h_read (file);
  ck_assert_str_eq (after, "key=value\nmore=1\n");
  /* a directory cannot go onto the file now mounted there, nor a file onto a directory */
  g_free (bind_mount_expect ("BadPath", id, h->tmpdir, "/etc/app.conf", FALSE));
  g_free (bind_mount_expect ("BadPath", id, file, "/etc", FALSE));
  g_free (bind_mount_expect ("BadPath", id, file, "/x/y", FALSE));
  g_free (bind_mount_expect ("BadPath", id, file, "/etc/app.conf", TRUE));
  h_destroy (id);
}
END_TEST

START_TEST (bind_fifo)
{
  int id = h_create ("[]");
  g_autofree char *fifo = h_path ("pipe");
  g_autofree char *reader_out = h_path ("reader.out");
  g_autofree char *text = NULL;
  gint64 deadline;
  int reader, fd = -1;

  ck_assert_int_eq (mkfifo (fifo, 0600), 0);
  h_bind_mount (id, fifo, "/run/app/pipe", FALSE);
  reader = h_execute (id, "sh -c 'read line < /run/app/pipe; echo \"got $line\"'", "/",
                      reader_out, NULL);
  /* the FIFO has a reader once the container's process opened it */
  deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  while ((fd = open (fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC)) < 0)
    {
      ck_assert_msg (errno == ENXIO, "open %s: %s", fifo, g_strerror (errno));
      ck_assert_msg (g_get_monotonic_time () < deadline, "nobody opened the FIFO inside");
      g_usleep (10000);
    }
  ck_assert_int_eq (write (fd, "ping\n", 5), 5);
  close (fd);
  ck_assert_uint_eq (h_wait_exit (id, reader, 20000), 0);
  text = h_read (reader_out);
  ck_assert_str_eq (text, "got ping\n");
  h_destroy (id);
}
END_TEST

typedef struct {
  int listen_fd;
  char line[128];
} EchoServer;

/* Accepts one client, reads one line and answers "echo: <line>". */
static gpointer
echo_server_thread (gpointer data)
{
  EchoServer *server = data;
  struct pollfd pfd = { .fd = server->listen_fd, .events = POLLIN };
  gsize len = 0;
  int fd;

  if (poll (&pfd, 1, 30000) != 1)
    return NULL;
  fd = accept4 (server->listen_fd, NULL, NULL, SOCK_CLOEXEC);
  if (fd < 0)
    return NULL;
  while (len + 1 < sizeof server->line)
    {
      ssize_t n = read (fd, server->line + len, 1);
      if (n <= 0)
        break;
      len++;
      if (server->line[len - 1] == '\n')
        break;
    }
  server->line[len] = '\0';
  if (write (fd, "echo: ", 6) != 6 || write (fd, server->line, len) != (ssize_t) len)
    g_printerr ("echo server: short write\n");
  close (fd);
  return server;
}

START_TEST (bind_unix_socket)
{
  int id = h_create ("[]");
  g_autofree char *sock_path = h_path ("echo.sock");
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  EchoServer server = { 0 };
  GThread *thread;
  g_autofree char *out = NULL;

  ck_assert_uint_lt (strlen (sock_path), sizeof addr.sun_path);
  strcpy (addr.sun_path, sock_path);
  server.listen_fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ck_assert_int_ge (server.listen_fd, 0);
  ck_assert_int_eq (bind (server.listen_fd, (struct sockaddr *) &addr, sizeof addr), 0);
  ck_assert_int_eq (listen (server.listen_fd, 1), 0);
  thread = g_thread_new ("echo", echo_server_thread, &server);

  h_bind_mount (id, sock_path, "/run/host/echo.sock", FALSE);
  out = h_run_ok (id, "/usr/bin/python3 -c \"import socket; s = socket.socket(socket.AF_UNIX); "
                      "s.connect('/run/host/echo.sock'); s.sendall(b'hello\\n'); "
                      "print(s.makefile().readline(), end='')\"");
  ck_assert_ptr_eq (g_thread_join (thread), &server);
  ck_assert_str_eq (server.line, "hello\n");
  ck_assert_str_eq (out, "echo: hello\n");
  close (server.listen_fd);
  h_destroy (id);
}
END_TEST

/* ---- refused ------------------------------------------------------------------------------ */

START_TEST (bind_refused_sources)
{
  int id = h_create ("[]");
  g_autofree char *missing = h_path ("does-not-exist");
  g_autofree char *msg = NULL;
  g_autofree char *rootfs_target = rootfs_path (id, "/mnt/devnull");

  msg = bind_mount_expect ("BadPath", id, "/dev/null", "/mnt/devnull", FALSE);
  ck_assert_msg (strstr (msg, "device") != NULL, "message: %s", msg);
  ck_assert (!g_file_test (rootfs_target, G_FILE_TEST_EXISTS));
  assert_absent_inside (id, "/mnt/devnull");
  g_free (msg);
  msg = bind_mount_expect ("BadPath", id, missing, "/mnt/missing", FALSE);
  ck_assert_msg (strstr (msg, missing) != NULL, "message does not name the path: %s", msg);
  assert_absent_inside (id, "/mnt/missing");
  g_free (msg);
  msg = bind_mount_expect ("BadPath", id, "tmp", "/mnt/relative", FALSE);
  assert_absent_inside (id, "/mnt/relative");
  g_free (msg);
  msg = bind_mount_expect ("BadPath", id, "", "/mnt/empty", FALSE);
  /* the container is still fine */
  g_free (h_run_ok (id, "true"));
  h_destroy (id);
}
END_TEST

START_TEST (bind_refused_targets)
{
  int id = h_create ("[]");
  g_autofree char *dir = make_host_dir ("first", "first\n");
  g_autofree char *other = make_host_dir ("second", "second\n");
  g_autofree char *msg = NULL;
  g_autofree char *out = NULL;

  g_free (bind_mount_expect ("BadPath", id, dir, "mnt/relative", FALSE));
  g_free (bind_mount_expect ("BadPath", id, dir, "", FALSE));
  g_free (bind_mount_expect ("BadPath", id, dir, "/mnt/new\nline", FALSE));
  assert_absent_inside (id, "/mnt/relative");
  assert_absent_inside (id, "/mnt/new");

  h_bind_mount (id, dir, "/mnt/target", FALSE);
  msg = bind_mount_expect ("BadPath", id, other, "/mnt/target", FALSE);
  ck_assert_msg (strstr (msg, "already a mount target") != NULL, "message: %s", msg);
  g_free (msg);
  /* the same place spelt differently */
  msg = bind_mount_expect ("BadPath", id, other, "//mnt/./x/../target/", TRUE);
  ck_assert_msg (strstr (msg, "already a mount target") != NULL, "message: %s", msg);
  out = h_run_ok (id, "cat /mnt/target/f");
  ck_assert_str_eq (out, "first\n");

  /* mount points of the container itself */
  g_free (msg);
  msg = bind_mount_expect ("BadPath", id, other, "/", FALSE);
  g_free (msg);
  msg = bind_mount_expect ("BadPath", id, other, "/usr", FALSE);
  ck_assert_msg (strstr (msg, "already a mount target") != NULL, "message: %s", msg);
  g_free (msg);
  msg = bind_mount_expect ("BadPath", id, other, "/usr/../usr/.", FALSE);
  g_free (out);
  out = h_run_ok (id, "sh -c 'test -x /usr/bin/sh && ! test -e /usr/f && ! test -e /f && echo ok'");
  ck_assert_str_eq (out, "ok\n");

  /* error sources of every method: no such container, suspended container */
  g_free (bind_mount_expect ("InvalidId", id + 1000, dir, "/mnt/other", FALSE));
  h_suspend (id);
  g_free (bind_mount_expect ("BadState", id, other, "/mnt/while-suspended", FALSE));
  h_resume (id);
  assert_absent_inside (id, "/mnt/while-suspended");
  h_destroy (id);
  g_free (bind_mount_expect ("InvalidId", id, dir, "/mnt/after-destroy", FALSE));
}
END_TEST

START_TEST (bind_dotdot_normalised)
{
  int id = h_create ("[]");
  g_autofree char *dir = make_host_dir ("dots", "dots\n");
  g_autofree char *out = NULL;
  g_autofree char *inside = rootfs_path (id, "/opt/y");
  g_autofree char *beside_rootfs = g_strdup_printf ("%s/SC-%d/opt", h->lxcpath, id);

  /* more ".." than components: stays at the container's root */
  h_bind_mount (id, dir, "/mnt/../../../../opt/./x/../y", FALSE);
  out = h_run_ok (id, "cat /opt/y/f");
  ck_assert_str_eq (out, "dots\n");
  ck_assert (g_file_test (inside, G_FILE_TEST_IS_DIR));
  ck_assert (!g_file_test (beside_rootfs, G_FILE_TEST_EXISTS));
  ck_assert (!g_file_test ("/opt/y", G_FILE_TEST_EXISTS));
  assert_absent_inside (id, "/opt/x");
  g_free (out);
  out = h_run_ok (id, "sh -c 'test ! -e /mnt/opt && echo ok'");
  ck_assert_str_eq (out, "ok\n");
  h_destroy (id);
}
END_TEST

/* ---- read-only ----------------------------------------------------------------------------- */

START_TEST (bind_read_only)
{
  int id = h_create ("[]");
  g_autofree char *dir = make_host_dir ("ro", "original\n");
  g_autofree char *file = make_host_file ("ro-file", "original file\n");
  g_autofree char *host_f = g_build_filename (dir, "f", NULL);
  g_autofree char *out = NULL;
  g_autofree char *after = NULL;
  g_autofree char *line = NULL;
  g_autofree char *new_on_host = g_build_filename (dir, "new", NULL);

  h_bind_mount (id, dir, "/ro", TRUE);
  h_bind_mount (id, file, "/etc/ro.conf", TRUE);
  out = h_run_ok (id, "cat /ro/f");
  ck_assert_str_eq (out, "original\n");

  g_free (out);
  ck_assert_uint_ne (run_code (id, "sh -c 'echo x > /ro/f'", &out), 0);
  ck_assert_msg (strstr (out, "Read-only file system") != NULL, "output: %s", out);
  g_free (out);
  ck_assert_uint_ne (run_code (id, "touch /ro/new", &out), 0);
  ck_assert_msg (strstr (out, "Read-only file system") != NULL, "output: %s", out);
  g_free (out);
  ck_assert_uint_ne (run_code (id, "sh -c 'echo x >> /etc/ro.conf'", &out), 0);
  ck_assert_msg (strstr (out, "Read-only file system") != NULL, "output: %s", out);
  g_free (out);
  ck_assert_uint_ne (run_code (id, "rm -f /ro/f", &out), 0);

  /* without CAP_SYS_ADMIN the app cannot make it writable again */
  g_free (out);
  ck_assert_uint_ne (run_code (id, "mount -o remount,bind,rw /ro", &out), 0);
  g_free (out);
  ck_assert_uint_ne (run_code (id, "umount -l /ro", &out), 0);
  g_free (out);
  ck_assert_uint_ne (run_code (id, "sh -c 'echo x > /ro/f'", &out), 0);

  line = inside_mountinfo_line (id, "/ro");
  ck_assert_msg (line != NULL, "/ro is not a mount point inside");
  ck_assert_msg (mount_line_has_option (line, "ro") && mount_line_has_option (line, "nosuid")
                     && mount_line_has_option (line, "nodev"),
                 "mount options: %s", line);

  after = h_read (host_f);
  ck_assert_str_eq (after, "original\n");
  g_free (after);
  after = h_read (file);
  ck_assert_str_eq (after, "original file\n");
  ck_assert (!g_file_test (new_on_host, G_FILE_TEST_EXISTS));
  /* the host side stays writable */
  ck_assert (g_file_set_contents (host_f, "updated\n", -1, NULL));
  g_free (out);
  out = h_run_ok (id, "cat /ro/f");
  ck_assert_str_eq (out, "updated\n");
  h_destroy (id);
}
END_TEST

/* ---- symlinks planted by the app ------------------------------------------------------------ */

/* The app plants links with link_cmd; BindMount of a host dir onto mount_path must leave the
 * host's victim directory alone. If the call succeeds, the mount is inside the container and the
 * directory it landed on is resolved_inside (a path in the container's root). */
static void
check_symlink_escape (int id, const char *link_cmd, const char *mount_path, const char *victim,
                      const char *resolved_inside)
{
  g_autofree char *src = NULL;
  g_autofree char *src_name = g_strdup_printf ("src-%s", strrchr (victim, '/') + 1);
  g_autofree char *msg = NULL;

  src = make_host_dir (src_name, "source\n");
  g_free (h_run_ok (id, link_cmd));
  msg = try_bind_mount (id, src, mount_path, FALSE);

  assert_dir_empty (victim);
  ck_assert_msg (!host_has_mount_under (victim), "a mount appeared on the host under %s", victim);
  ck_assert_msg (!host_has_mount_under (src), "a mount appeared on the host under %s", src);
  if (msg == NULL)
    {
      g_autofree char *cmd = g_strdup_printf ("cat %s/f", mount_path);
      g_autofree char *out = h_run_ok (id, cmd);
      g_autofree char *landed = rootfs_path (id, resolved_inside);
      g_autofree char *line = inside_mountinfo_line (id, resolved_inside);

      ck_assert_str_eq (out, "source\n");
      ck_assert_msg (g_file_test (landed, G_FILE_TEST_IS_DIR),
                     "the mount did not land on %s in the container's root", resolved_inside);
      ck_assert_msg (line != NULL, "no mount at %s inside", resolved_inside);
    }
  else
    {
      /* a clean failure: BadPath, and the container still works */
      ck_assert_msg (g_str_has_prefix (msg, "BadPath: "), "BindMount onto %s: %s", mount_path,
                     msg);
      g_free (h_run_ok (id, "true"));
    }
}

START_TEST (symlink_to_absolute_host_path)
{
  int id = h_create ("[]");
  g_autofree char *victim = make_host_dir ("victim1", NULL);
  g_autofree char *victim2 = make_host_dir ("victim2", NULL);
  g_autofree char *cmd = NULL;
  g_autofree char *resolved = NULL;

  /* dangling inside: the target exists only on the host */
  cmd = g_strdup_printf ("ln -s %s /evil", victim);
  resolved = g_strdup_printf ("%s/sub", victim);
  check_symlink_escape (id, cmd, "/evil/sub", victim, resolved);

  /* the same absolute path also exists inside: it must be the container's one */
  g_free (cmd);
  g_free (resolved);
  cmd = g_strdup_printf ("sh -c 'mkdir -p %s && ln -s %s /evil2'", victim2, victim2);
  resolved = g_strdup_printf ("%s/sub", victim2);
  check_symlink_escape (id, cmd, "/evil2/sub", victim2, resolved);
  h_destroy (id);
}
END_TEST

START_TEST (symlink_with_dotdot_chains)
{
  int id = h_create ("[]");
  g_autofree char *victim3 = make_host_dir ("victim3", NULL);
  g_autofree char *victim4 = make_host_dir ("victim4", NULL);
  g_autofree char *victim5 = make_host_dir ("victim5", NULL);
  g_autofree char *cmd = NULL;
  g_autofree char *path = NULL;
  g_autofree char *resolved = NULL;

  /* "/tmp/../../../<host path>": dangling inside */
  cmd = g_strdup_printf ("ln -s /tmp/../../..%s /home/evil", victim3);
  resolved = g_strdup_printf ("%s/sub", victim3);
  check_symlink_escape (id, cmd, "/home/evil/sub", victim3, resolved);

  /* a relative link climbing above the root: inside it stops at the container's root */
  g_free (cmd);
  g_free (path);
  g_free (resolved);
  cmd = g_strdup ("ln -s ../../../../../../../.. /home/up");
  path = g_strdup_printf ("/home/up%s/sub", victim4);
  resolved = g_strdup_printf ("%s/sub", victim4);
  check_symlink_escape (id, cmd, path, victim4, resolved);

  /* links through links: "/" and "../.." chains */
  g_free (cmd);
  g_free (path);
  g_free (resolved);
  cmd = g_strdup ("sh -c 'ln -s / /r && ln -s /r/../../r/.. /srv/chain && "
                  "ln -s ../../srv/chain/../.. /var/lib/chain2'");
  path = g_strdup_printf ("/var/lib/chain2/r%s/sub", victim5);
  resolved = g_strdup_printf ("%s/sub", victim5);
  check_symlink_escape (id, cmd, path, victim5, resolved);
  h_destroy (id);
}
END_TEST

START_TEST (symlink_to_host_file)
{
  int id = h_create ("[]");
  g_autofree char *victim = make_host_dir ("victim-files", NULL);
  g_autofree char *host_file = g_build_filename (victim, "passwd", NULL);
  g_autofree char *src = make_host_file ("src-file", "source\n");
  g_autofree char *cmd = NULL;
  g_autofree char *msg = NULL;
  g_autofree char *content = NULL;

  /* a regular-file target whose last component is a link to a host file */
  ck_assert (g_file_set_contents (host_file, "host secret\n", -1, NULL));
  cmd = g_strdup_printf ("ln -s %s /etc/app-link", host_file);
  g_free (h_run_ok (id, cmd));
  msg = try_bind_mount (id, src, "/etc/app-link", FALSE);
  content = h_read (host_file);
  ck_assert_str_eq (content, "host secret\n");
  ck_assert (!host_has_mount_under (host_file));
  if (msg != NULL)
    ck_assert_msg (g_str_has_prefix (msg, "BadPath: "), "message: %s", msg);
  else
    {
      g_autofree char *out = h_run_ok (id, "cat /etc/app-link");
      ck_assert_str_eq (out, "source\n");
    }
  h_destroy (id);
}
END_TEST

/* ---- rollback ------------------------------------------------------------------------------ */

START_TEST (failed_bind_leaves_nothing)
{
  int id = h_create ("[]");
  g_autofree char *dir = make_host_dir ("rb", "rb\n");
  g_autofree char *out = NULL;
  g_autofree char *newdir = rootfs_path (id, "/p/newdir");

  g_free (h_run_ok (id, "sh -c 'mkdir -p /p && echo data > /p/file'"));
  /* a regular file where a directory is needed */
  g_free (bind_mount_expect ("BadPath", id, dir, "/p/file/newdir/x", FALSE));
  g_free (bind_mount_expect ("BadPath", id, dir, "/p/file", FALSE));
  /* a component the agent cannot create (procfs) below new ones */
  g_free (bind_mount_expect ("BadPath", id, dir, "/proc/newdir/x", FALSE));
  out = h_run_ok (id, "ls -A /p");
  ck_assert_str_eq (out, "file\n");
  g_free (out);
  out = h_run_ok (id, "cat /p/file");
  ck_assert_str_eq (out, "data\n");
  assert_absent_inside (id, "/p/newdir");
  assert_absent_inside (id, "/proc/newdir");
  ck_assert (!g_file_test (newdir, G_FILE_TEST_EXISTS));
  /* a mount that works afterwards */
  h_bind_mount (id, dir, "/p/newdir/x", FALSE);
  g_free (out);
  out = h_run_ok (id, "cat /p/newdir/x/f");
  ck_assert_str_eq (out, "rb\n");
  h_destroy (id);
}
END_TEST

/* ---- the file gateway -------------------------------------------------------------------- */

static void
write_file_capability (const char *file_name, const char *name, const char *items_json)
{
  g_autofree char *json = g_strdup_printf (
      "{\"version\": \"1\", \"capabilities\": [{\"name\": \"%s\", \"gateways\": "
      "[{\"id\": \"file\", \"config\": %s}]}]}",
      name, items_json);
  h_write_manifest (FALSE, file_name, json);
}

static char *
set_capabilities_expect (const char *code_word, int id, const char *const *caps)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) r = h_call ("SetCapabilities", g_variant_new ("(i^as)", id, caps), &error);

  h_assert_failed (error, code_word);
  return g_strdup (error->message);
}

/* SetCapabilities must fail because a mount failed: BadPath (as BindMount says) or
 * GatewayFailed. */
static char *
set_capabilities_expect_mount_failure (int id, const char *const *caps)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) r = h_call ("SetCapabilities", g_variant_new ("(i^as)", id, caps), &error);
  g_autofree char *remote = NULL;

  ck_assert_msg (error != NULL, "SetCapabilities succeeded");
  remote = g_dbus_error_get_remote_error (error);
  ck_assert_str_eq (remote, "org.freedesktop.DBus.Error.Failed");
  g_dbus_error_strip_remote_error (error);
  ck_assert_msg (g_str_has_prefix (error->message, "BadPath: ")
                     || g_str_has_prefix (error->message, "GatewayFailed: "),
                 "message: %s", error->message);
  return g_strdup (error->message);
}

START_TEST (file_gateway_read_only_once)
{
  g_autofree char *dir = make_host_dir ("gw-data", "gateway\n");
  g_autofree char *dir2 = make_host_dir ("gw-data2", "second\n");
  g_autofree char *items = g_strdup_printf (
      "[{\"path-host\": \"%s\", \"path-container\": \"/data\", \"read-only\": true}]", dir);
  g_autofree char *items2 = g_strdup_printf (
      "[{\"path-host\": \"%s\", \"path-container\": \"/data2\", \"read-only\": false}]", dir2);
  g_autofree char *out = NULL;
  g_autofree char *line = NULL;
  g_autofree char *msg = NULL;
  g_autofree char *host_f = g_build_filename (dir, "f", NULL);
  g_autofree char *after = NULL;
  const char *const data[] = { "data", NULL };
  const char *const data2[] = { "data2", NULL };
  int id;

  write_file_capability ("data.json", "data", items);
  write_file_capability ("data2.json", "data2", items2);
  h_agent_start (NULL);
  id = h_create ("[]");
  assert_absent_inside (id, "/data");
  h_set_capabilities (id, data);
  out = h_run_ok (id, "cat /data/f");
  ck_assert_str_eq (out, "gateway\n");
  g_free (out);
  ck_assert_uint_ne (run_code (id, "sh -c 'echo x > /data/f'", &out), 0);
  ck_assert_msg (strstr (out, "Read-only file system") != NULL, "output: %s", out);
  line = inside_mountinfo_line (id, "/data");
  ck_assert_msg (line != NULL && mount_line_has_option (line, "ro")
                     && mount_line_has_option (line, "nosuid")
                     && mount_line_has_option (line, "nodev"),
                 "mount: %s", line ? line : "none");

  /* file takes configuration once per container */
  msg = set_capabilities_expect ("BadState", id, data2);
  ck_assert_msg (strstr (msg, "file") != NULL, "message does not name the gateway: %s", msg);
  assert_absent_inside (id, "/data2");
  g_free (out);
  out = h_run_ok (id, "cat /data/f");
  ck_assert_str_eq (out, "gateway\n");
  after = h_read (host_f);
  ck_assert_str_eq (after, "gateway\n");
  h_destroy (id);
}
END_TEST

START_TEST (file_gateway_missing_host_path)
{
  g_autofree char *dir = make_host_dir ("gw-ok", "ok\n");
  g_autofree char *missing = h_path ("gw-missing");
  g_autofree char *items = g_strdup_printf (
      "[{\"path-host\": \"%s\", \"path-container\": \"/ok\"},"
      " {\"path-host\": \"%s\", \"path-container\": \"/bad\"}]",
      dir, missing);
  g_autofree char *good = g_strdup_printf (
      "[{\"path-host\": \"%s\", \"path-container\": \"/ok\"}]", dir);
  g_autofree char *msg = NULL;
  g_autofree char *out = NULL;
  const char *const missing_cap[] = { "missing", NULL };
  const char *const good_cap[] = { "good", NULL };
  int id;

  write_file_capability ("missing.json", "missing", items);
  write_file_capability ("good.json", "good", good);
  h_agent_start (NULL);
  id = h_create ("[]");
  msg = set_capabilities_expect ("GatewayConfig", id, missing_cap);
  ck_assert_msg (strstr (msg, missing) != NULL, "message does not name the path: %s", msg);
  assert_absent_inside (id, "/ok");
  assert_absent_inside (id, "/bad");
  /* nothing was configured: the gateway still takes a config */
  h_set_capabilities (id, good_cap);
  out = h_run_ok (id, "cat /ok/f");
  ck_assert_str_eq (out, "ok\n");
  h_destroy (id);
}
END_TEST

START_TEST (file_gateway_merges_items)
{
  g_autofree char *dir = make_host_dir ("gw-merge", "merge\n");
  g_autofree char *other = make_host_dir ("gw-other", "other\n");
  /* the same host dir twice at /shared (read-write wins) and once more at /copy */
  g_autofree char *items = g_strdup_printf (
      "[{\"path-host\": \"%s\", \"path-container\": \"/shared\", \"read-only\": true},"
      " {\"path-host\": \"%s\", \"path-container\": \"/copy\", \"read-only\": true}]",
      dir, dir);
  g_autofree char *items2 = g_strdup_printf (
      "[{\"path-host\": \"%s/\", \"path-container\": \"/shared/\", \"read-only\": false}]", dir);
  g_autofree char *clash = g_strdup_printf (
      "[{\"path-host\": \"%s\", \"path-container\": \"/shared\"}]", other);
  g_autofree char *out = NULL;
  g_autofree char *written = NULL;
  g_autofree char *new_file = g_build_filename (dir, "new", NULL);
  const char *const clash_caps[] = { "ro", "clash", NULL };
  const char *const caps[] = { "ro", "rw", NULL };
  int id;

  write_file_capability ("ro.json", "ro", items);
  write_file_capability ("rw.json", "rw", items2);
  write_file_capability ("clash.json", "clash", clash);
  h_agent_start (NULL);
  id = h_create ("[]");
  /* another host path at the same container path */
  g_free (set_capabilities_expect ("GatewayConfig", id, clash_caps));
  assert_absent_inside (id, "/shared");
  h_set_capabilities (id, caps);
  g_free (h_run_ok (id, "sh -c 'echo inside > /shared/new'"));
  written = h_read (new_file);
  ck_assert_str_eq (written, "inside\n");
  ck_assert_uint_ne (run_code (id, "sh -c 'echo x > /copy/f'", &out), 0);
  ck_assert_msg (strstr (out, "Read-only file system") != NULL, "output: %s", out);
  g_free (out);
  out = h_run_ok (id, "cat /copy/new");
  ck_assert_str_eq (out, "inside\n");
  h_destroy (id);
}
END_TEST

START_TEST (file_gateway_rollback)
{
  g_autofree char *file = make_host_file ("gw-file", "file\n");
  g_autofree char *dir = make_host_dir ("gw-dir", "dir\n");
  /* "/gwf" (a file) is mounted first, then "/gwf/x" needs it to be a directory */
  g_autofree char *half = g_strdup_printf (
      "[{\"path-host\": \"%s\", \"path-container\": \"/gwf\"},"
      " {\"path-host\": \"%s\", \"path-container\": \"/gwf/x\"}]",
      file, dir);
  /* "/gw2/a/b" (new directories) is mounted first, then procfs refuses a directory */
  g_autofree char *half2 = g_strdup_printf (
      "[{\"path-host\": \"%s\", \"path-container\": \"/gw2/a/b\"},"
      " {\"path-host\": \"%s\", \"path-container\": \"/proc/gwx/y\"}]",
      dir, dir);
  g_autofree char *good = g_strdup_printf (
      "[{\"path-host\": \"%s\", \"path-container\": \"/gw2/a/b\", \"read-only\": true}]", dir);
  g_autofree char *out = NULL;
  g_autofree char *gw2_on_host = NULL;
  const char *const half_cap[] = { "half", NULL };
  const char *const half2_cap[] = { "half2", NULL };
  const char *const good_cap[] = { "good", NULL };
  const char *const left[] = { "/gwf", "/gwf/x", "/gw2/a/b", "/proc/gwx/y" };
  int id;

  write_file_capability ("half.json", "half", half);
  write_file_capability ("half2.json", "half2", half2);
  write_file_capability ("good.json", "good", good);
  h_agent_start (NULL);
  id = h_create ("[]");
  gw2_on_host = rootfs_path (id, "/gw2");

  g_free (set_capabilities_expect_mount_failure (id, half_cap));
  assert_absent_inside (id, "/gwf");
  g_free (set_capabilities_expect_mount_failure (id, half2_cap));
  assert_absent_inside (id, "/gw2");
  assert_absent_inside (id, "/proc/gwx");
  ck_assert (!g_file_test (gw2_on_host, G_FILE_TEST_EXISTS));
  for (guint i = 0; i < G_N_ELEMENTS (left); i++)
    {
      g_autofree char *line = inside_mountinfo_line (id, left[i]);
      ck_assert_msg (line == NULL, "a mount is left: %s", line);
    }

  /* failed calls configured nothing */
  h_set_capabilities (id, good_cap);
  g_free (out);
  out = h_run_ok (id, "cat /gw2/a/b/f");
  ck_assert_str_eq (out, "dir\n");
  h_destroy (id);
}
END_TEST

static gboolean
gateway_is_built (const char *upper_id)
{
  g_autofree char *cache_path = g_build_filename (SC_BUILD_DIR, "CMakeCache.txt", NULL);
  g_autofree char *cache = h_read (cache_path);
  g_autofree char *on = g_strdup_printf ("ENABLE_%sGATEWAY:BOOL=ON", upper_id);

  ck_assert_msg (cache != NULL, "cannot read %s", cache_path);
  return strstr (cache, on) != NULL;
}

/* The file gateway's mounts are undone when a gateway applied after it fails. */
START_TEST (file_gateway_reverted_by_later_gateway)
{
  g_autofree char *dir = make_host_dir ("gw-rev", "rev\n");
  g_autofree char *no_socket = h_path ("no-wayland-socket");
  g_autofree char *json = g_strdup_printf (
      "{\"version\": \"1\", \"capabilities\": [{\"name\": \"mixed\", \"gateways\": ["
      " {\"id\": \"file\", \"config\": [{\"path-host\": \"%s\", \"path-container\": "
      "\"/rev/a\"}]},"
      " {\"id\": \"wayland\", \"config\": [{\"enabled\": true}]}]}]}",
      dir);
  g_autofree char *good = g_strdup_printf (
      "[{\"path-host\": \"%s\", \"path-container\": \"/rev/b\"}]", dir);
  g_autofree char *line = NULL;
  g_autofree char *out = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) r = NULL;
  const char *const mixed[] = { "mixed", NULL };
  const char *const good_cap[] = { "good", NULL };
  int id;

  if (!gateway_is_built ("WAYLAND"))
    {
      g_printerr ("note: no wayland gateway in this build; file gateway revert not tested\n");
      return;
    }
  /* the wayland gateway fails when it applies: its socket does not exist */
  g_setenv ("WAYLAND_DISPLAY", no_socket, TRUE);
  h_write_manifest (FALSE, "mixed.json", json);
  write_file_capability ("good.json", "good", good);
  h_agent_start (NULL);
  id = h_create ("[]");
  r = h_call ("SetCapabilities", g_variant_new ("(i^as)", id, mixed), &error);
  ck_assert_msg (r == NULL, "SetCapabilities succeeded without a Wayland socket");
  line = inside_mountinfo_line (id, "/rev/a");
  ck_assert_msg (line == NULL, "the file gateway's mount is left: %s", line);
  assert_absent_inside (id, "/rev");
  assert_absent_inside (id, "/gateways/wayland-0");
  /* the file gateway was not configured by the failed call */
  h_set_capabilities (id, good_cap);
  out = h_run_ok (id, "cat /rev/b/f");
  ck_assert_str_eq (out, "rev\n");
  h_destroy (id);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("mount");
  TCase *tc = h_tcase ("bindmount");
  TCase *sym = h_tcase ("symlinks");
  TCase *gw = h_tcase_bus_only ("file-gateway");

  tcase_add_test (tc, bind_directory_both_ways);
  tcase_add_test (tc, bind_creates_missing_parents);
  tcase_add_test (tc, bind_into_running_app);
  tcase_add_test (tc, bind_regular_file);
  tcase_add_test (tc, bind_fifo);
  tcase_add_test (tc, bind_unix_socket);
  tcase_add_test (tc, bind_refused_sources);
  tcase_add_test (tc, bind_refused_targets);
  tcase_add_test (tc, bind_dotdot_normalised);
  tcase_add_test (tc, bind_read_only);
  tcase_add_test (tc, failed_bind_leaves_nothing);
  suite_add_tcase (s, tc);

  tcase_add_test (sym, symlink_to_absolute_host_path);
  tcase_add_test (sym, symlink_with_dotdot_chains);
  tcase_add_test (sym, symlink_to_host_file);
  suite_add_tcase (s, sym);

  tcase_add_test (gw, file_gateway_read_only_once);
  tcase_add_test (gw, file_gateway_missing_host_path);
  tcase_add_test (gw, file_gateway_merges_items);
  tcase_add_test (gw, file_gateway_rollback);
  tcase_add_test (gw, file_gateway_reverted_by_later_gateway);
  suite_add_tcase (s, gw);
  return h_run_suite (s);
}
