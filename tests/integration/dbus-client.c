/* sc-dbus-test-client: the D-Bus client that test_dbus.c runs inside containers (bind-mounted
 * from the build tree; it links the host's GLib, which the container sees in /usr). It talks to
 * the bus of DBUS_SESSION_BUS_ADDRESS, or with --system of DBUS_SYSTEM_BUS_ADDRESS: the proxy's
 * sockets the D-Bus gateway set up. Every line it prints is flushed at once, so that the test
 * can follow it in the output file while it runs.
 *
 *   call DEST PATH IFACE METHOD [ARGS]   one call; IFACE "-" sends no interface field; ARGS is a
 *                                        GVariant tuple in text form. Prints "OK <reply>" or
 *                                        "ERROR <name>", then "MS <milliseconds>"; exit 0 / 1
 *   many N                               N Echo calls on one connection: "OK N"
 *   concurrent K N                       K connections in K threads, N Echo calls each
 *   listen DEST                          prints "READY", then "SIGNAL <member> <arg>" for every
 *                                        signal from DEST until one whose argument is "end"
 *   twice TRIGGER                        Echo, then waits for the file TRIGGER, then Echo again
 *                                        on the same connection ("FIRST ..."/"SECOND ...")
 *   fd FILE                              ReadFd(h) with FILE open, then OpenFd(s) and read it
 *   big MIB                              Size(ay) and Make(u) of MIB MiB each, checked
 *   serve NAME SECONDS                   owns NAME, exports /com/example/Inside with Hello and
 *                                        Secret, prints "READY", serves SECONDS
 * The test service (test_dbus.c) is com.example.SCTest at /com/example/SCTest. */
#include <fcntl.h>
#include <gio/gio.h>
#include <gio/gunixfdlist.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SVC "com.example.SCTest"
#define SVC_PATH "/com/example/SCTest"

static gboolean use_system;

static GDBusConnection *
connect_bus (void)
{
  g_autoptr (GError) error = NULL;
  const char *address
      = g_getenv (use_system ? "DBUS_SYSTEM_BUS_ADDRESS" : "DBUS_SESSION_BUS_ADDRESS");
  GDBusConnection *c;

  if (address == NULL)
    {
      printf ("NOADDRESS\n");
      exit (2);
    }
  c = g_dbus_connection_new_for_address_sync (address,
                                              G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
                                                  | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                              NULL, NULL, &error);
  if (c == NULL)
    {
      printf ("CONNECT %s\n", error->message);
      exit (2);
    }
  g_dbus_connection_set_exit_on_close (c, FALSE);
  return c;
}

static char *
error_name (GError *error)
{
  char *name = g_dbus_error_get_remote_error (error);
  return name != NULL ? name : g_strdup_printf ("local:%s", error->message);
}

static int
cmd_call (int argc, char **argv)
{
  g_autoptr (GDBusConnection) c = connect_bus ();
  g_autoptr (GDBusMessage) m = NULL;
  g_autoptr (GDBusMessage) reply = NULL;
  g_autoptr (GError) error = NULL;
  gint64 start;

  if (argc < 4)
    return 3;
  m = g_dbus_message_new_method_call (argv[0], argv[1], strcmp (argv[2], "-") == 0 ? NULL : argv[2],
                                      argv[3]);
  if (argc > 4)
    {
      GVariant *args = g_variant_parse (NULL, argv[4], NULL, NULL, &error);
      if (args == NULL)
        {
          printf ("BADARGS %s\n", error->message);
          return 3;
        }
      g_dbus_message_set_body (m, args);
    }
  start = g_get_monotonic_time ();
  reply = g_dbus_connection_send_message_with_reply_sync (c, m, G_DBUS_SEND_MESSAGE_FLAGS_NONE,
                                                          5000, NULL, NULL, &error);
  if (reply != NULL && g_dbus_message_to_gerror (reply, &error))
    g_clear_object (&reply);
  if (reply == NULL)
    {
      g_autofree char *name = error_name (error);
      printf ("ERROR %s\nMS %" G_GINT64_FORMAT "\n", name,
              (g_get_monotonic_time () - start) / 1000);
      return 1;
    }
  {
    GVariant *body = g_dbus_message_get_body (reply);
    g_autofree char *text = body != NULL ? g_variant_print (body, FALSE) : g_strdup ("()");
    printf ("OK %s\nMS %" G_GINT64_FORMAT "\n", text, (g_get_monotonic_time () - start) / 1000);
  }
  return 0;
}

static gboolean
echo (GDBusConnection *c, const char *text, char **out, GError **error)
{
  g_autoptr (GVariant) r = g_dbus_connection_call_sync (
      c, SVC, SVC_PATH, SVC, "Echo", g_variant_new ("(s)", text), G_VARIANT_TYPE ("(s)"),
      G_DBUS_CALL_FLAGS_NONE, 5000, NULL, error);
  if (r == NULL)
    return FALSE;
  g_variant_get (r, "(s)", out);
  return TRUE;
}

static int
run_echoes (GDBusConnection *c, int n, const char *tag)
{
  for (int i = 0; i < n; i++)
    {
      g_autofree char *text = g_strdup_printf ("%s-%d", tag, i);
      g_autofree char *out = NULL;
      g_autoptr (GError) error = NULL;

      if (!echo (c, text, &out, &error))
        {
          printf ("FAIL %s: %s\n", text, error->message);
          return 1;
        }
      if (strcmp (out, text) != 0)
        {
          printf ("FAIL %s: got %s\n", text, out);
          return 1;
        }
    }
  return 0;
}

static int
cmd_many (int argc, char **argv)
{
  g_autoptr (GDBusConnection) c = connect_bus ();
  int n = argc > 0 ? atoi (argv[0]) : 1000;

  if (run_echoes (c, n, "many") != 0)
    return 1;
  printf ("OK %d\n", n);
  return 0;
}

static int concurrent_calls;

static gpointer
concurrent_thread (gpointer data)
{
  g_autoptr (GDBusConnection) c = connect_bus ();
  g_autofree char *tag = g_strdup_printf ("t%d", GPOINTER_TO_INT (data));

  return GINT_TO_POINTER (run_echoes (c, concurrent_calls, tag));
}

static int
cmd_concurrent (int argc, char **argv)
{
  int k = argc > 0 ? atoi (argv[0]) : 20;
  g_autofree GThread **threads = g_new0 (GThread *, k);
  int failed = 0;

  concurrent_calls = argc > 1 ? atoi (argv[1]) : 50;
  for (int i = 0; i < k; i++)
    threads[i] = g_thread_new ("client", concurrent_thread, GINT_TO_POINTER (i));
  for (int i = 0; i < k; i++)
    failed += GPOINTER_TO_INT (g_thread_join (threads[i]));
  if (failed > 0)
    {
      printf ("FAILED %d\n", failed);
      return 1;
    }
  printf ("OK %d\n", k * concurrent_calls);
  return 0;
}

static void
signal_cb (GDBusConnection *c, const char *sender, const char *path, const char *interface,
           const char *member, GVariant *params, gpointer data)
{
  const char *arg = "";

  if (g_variant_is_of_type (params, G_VARIANT_TYPE ("(s)")))
    g_variant_get (params, "(&s)", &arg);
  else if (g_variant_is_of_type (params, G_VARIANT_TYPE ("(d)")))
    {
      double d;
      g_variant_get (params, "(d)", &d);
      arg = d < 0 ? "end" : "number";
      printf ("SIGNAL %s %.1f\n", member, d);
      if (strcmp (arg, "end") == 0)
        g_main_loop_quit (data);
      return;
    }
  printf ("SIGNAL %s %s\n", member, arg);
  if (strcmp (arg, "end") == 0)
    g_main_loop_quit (data);
}

static gboolean
quit_cb (gpointer data)
{
  printf ("TIMEOUT\n");
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

static int
cmd_listen (int argc, char **argv)
{
  g_autoptr (GDBusConnection) c = connect_bus ();
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (GVariant) r = NULL;
  g_autoptr (GError) error = NULL;
  const char *dest = argc > 0 ? argv[0] : SVC;

  g_dbus_connection_signal_subscribe (c, dest, NULL, NULL, NULL, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                      signal_cb, loop, NULL);
  /* a round trip to the bus after the AddMatch: it holds once this returns */
  r = g_dbus_connection_call_sync (c, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                   "org.freedesktop.DBus", "GetId", NULL, NULL,
                                   G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &error);
  if (r == NULL)
    {
      printf ("FAIL %s\n", error->message);
      return 1;
    }
  printf ("READY\n");
  g_timeout_add_seconds (20, quit_cb, loop);
  g_main_loop_run (loop);
  return 0;
}

static int
cmd_twice (int argc, char **argv)
{
  g_autoptr (GDBusConnection) c = connect_bus ();
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  if (argc < 1)
    return 3;
  if (echo (c, "first", &out, &error))
    printf ("FIRST OK %s\n", out);
  else
    {
      g_autofree char *name = error_name (error);
      printf ("FIRST ERROR %s\n", name);
    }
  g_clear_error (&error);
  g_clear_pointer (&out, g_free);
  while (!g_file_test (argv[0], G_FILE_TEST_EXISTS))
    {
      if (g_get_monotonic_time () > deadline)
        {
          printf ("TIMEOUT\n");
          return 1;
        }
      g_usleep (10000);
    }
  if (echo (c, "second", &out, &error))
    printf ("SECOND OK %s\n", out);
  else
    {
      g_autofree char *name = error_name (error);
      printf ("SECOND ERROR %s\n", name);
    }
  return 0;
}

static int
cmd_fd (int argc, char **argv)
{
  g_autoptr (GDBusConnection) c = connect_bus ();
  g_autoptr (GUnixFDList) fds = g_unix_fd_list_new ();
  g_autoptr (GUnixFDList) out_fds = NULL;
  g_autoptr (GVariant) r = NULL;
  g_autoptr (GError) error = NULL;
  const char *text;
  char buf[256] = { 0 };
  int fd, index;
  ssize_t n;

  if (argc < 1)
    return 3;
  fd = open (argv[0], O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      printf ("FAIL open %s\n", argv[0]);
      return 1;
    }
  index = g_unix_fd_list_append (fds, fd, NULL);
  close (fd);
  r = g_dbus_connection_call_with_unix_fd_list_sync (
      c, SVC, SVC_PATH, SVC, "ReadFd", g_variant_new ("(h)", index), G_VARIANT_TYPE ("(s)"),
      G_DBUS_CALL_FLAGS_NONE, 5000, fds, NULL, NULL, &error);
  if (r == NULL)
    {
      printf ("FAIL ReadFd %s\n", error->message);
      return 1;
    }
  g_variant_get (r, "(&s)", &text);
  printf ("READ %s\n", text);
  g_clear_pointer (&r, g_variant_unref);

  r = g_dbus_connection_call_with_unix_fd_list_sync (
      c, SVC, SVC_PATH, SVC, "OpenFd", g_variant_new ("(s)", "from the host"),
      G_VARIANT_TYPE ("(h)"), G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &out_fds, NULL, &error);
  if (r == NULL || out_fds == NULL)
    {
      printf ("FAIL OpenFd %s\n", error ? error->message : "no fds");
      return 1;
    }
  g_variant_get (r, "(h)", &index);
  fd = g_unix_fd_list_get (out_fds, index, &error);
  if (fd < 0)
    {
      printf ("FAIL OpenFd %s\n", error->message);
      return 1;
    }
  n = read (fd, buf, sizeof buf - 1);
  close (fd);
  printf ("GOT %s\n", n > 0 ? buf : "");
  return 0;
}

static int
cmd_big (int argc, char **argv)
{
  g_autoptr (GDBusConnection) c = connect_bus ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) r = NULL;
  g_autoptr (GVariant) got = NULL;
  gsize size = (gsize)(argc > 0 ? atoi (argv[0]) : 32) * 1024 * 1024;
  guint8 *data = g_malloc (size);
  guint32 length, sum = 0, got_sum = 0;
  const guint8 *back;
  gsize back_len;

  for (gsize i = 0; i < size; i++)
    {
      data[i] = (guint8)(i % 251);
      sum += data[i];
    }
  r = g_dbus_connection_call_sync (
      c, SVC, SVC_PATH, SVC, "Size",
      g_variant_new (
          "(@ay)", g_variant_new_from_data (G_VARIANT_TYPE ("ay"), data, size, TRUE, g_free, data)),
      G_VARIANT_TYPE ("(uu)"), G_DBUS_CALL_FLAGS_NONE, 60000, NULL, &error);
  if (r == NULL)
    {
      printf ("FAIL Size %s\n", error->message);
      return 1;
    }
  g_variant_get (r, "(uu)", &length, &got_sum);
  if (length != size || got_sum != sum)
    {
      printf ("FAIL Size %u %u\n", length, got_sum);
      return 1;
    }
  printf ("SENT %zu\n", size);
  g_clear_pointer (&r, g_variant_unref);
  r = g_dbus_connection_call_sync (c, SVC, SVC_PATH, SVC, "Make",
                                   g_variant_new ("(u)", (guint32)size), G_VARIANT_TYPE ("(ay)"),
                                   G_DBUS_CALL_FLAGS_NONE, 60000, NULL, &error);
  if (r == NULL)
    {
      printf ("FAIL Make %s\n", error->message);
      return 1;
    }
  got = g_variant_get_child_value (r, 0);
  back = g_variant_get_fixed_array (got, &back_len, 1);
  if (back_len != size)
    {
      printf ("FAIL Make length %zu\n", back_len);
      return 1;
    }
  for (gsize i = 0; i < back_len; i++)
    if (back[i] != (guint8)(i % 251))
      {
        printf ("FAIL Make byte %zu\n", i);
        return 1;
      }
  printf ("RECEIVED %zu\n", back_len);
  return 0;
}

static const char inside_xml[] = "<node><interface name='com.example.Inside'>"
                                 "<method name='Hello'><arg type='s' direction='out'/></method>"
                                 "<method name='Secret'><arg type='s' direction='out'/></method>"
                                 "</interface></node>";

static void
inside_call (GDBusConnection *c, const char *sender, const char *path, const char *interface,
             const char *method, GVariant *params, GDBusMethodInvocation *invocation, gpointer data)
{
  printf ("CALLED %s\n", method);
  g_dbus_method_invocation_return_value (invocation, g_variant_new ("(s)", "inside"));
}

static int
cmd_serve (int argc, char **argv)
{
  g_autoptr (GDBusConnection) c = connect_bus ();
  g_autoptr (GDBusNodeInfo) info = g_dbus_node_info_new_for_xml (inside_xml, NULL);
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (GVariant) r = NULL;
  g_autoptr (GError) error = NULL;
  GDBusInterfaceVTable vtable = { inside_call, NULL, NULL, { 0 } };
  guint32 result = 0;

  if (argc < 2)
    return 3;
  g_dbus_connection_register_object (c, "/com/example/Inside", info->interfaces[0], &vtable, NULL,
                                     NULL, &error);
  r = g_dbus_connection_call_sync (c, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                   "org.freedesktop.DBus", "RequestName",
                                   g_variant_new ("(su)", argv[0], 4), G_VARIANT_TYPE ("(u)"),
                                   G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &error);
  if (r == NULL)
    {
      printf ("FAIL RequestName %s\n", error->message);
      return 1;
    }
  g_variant_get (r, "(u)", &result);
  printf ("READY %u\n", result);
  g_timeout_add_seconds (atoi (argv[1]), quit_cb, loop);
  g_main_loop_run (loop);
  return 0;
}

int
main (int argc, char **argv)
{
  setvbuf (stdout, NULL, _IOLBF, 0);
  if (argc > 1 && strcmp (argv[1], "--system") == 0)
    {
      use_system = TRUE;
      argc--;
      argv++;
    }
  if (argc < 2)
    {
      fprintf (stderr, "usage: sc-dbus-test-client [--system] COMMAND ARGS...\n");
      return 3;
    }
  if (strcmp (argv[1], "call") == 0)
    return cmd_call (argc - 2, argv + 2);
  if (strcmp (argv[1], "many") == 0)
    return cmd_many (argc - 2, argv + 2);
  if (strcmp (argv[1], "concurrent") == 0)
    return cmd_concurrent (argc - 2, argv + 2);
  if (strcmp (argv[1], "listen") == 0)
    return cmd_listen (argc - 2, argv + 2);
  if (strcmp (argv[1], "twice") == 0)
    return cmd_twice (argc - 2, argv + 2);
  if (strcmp (argv[1], "fd") == 0)
    return cmd_fd (argc - 2, argv + 2);
  if (strcmp (argv[1], "big") == 0)
    return cmd_big (argc - 2, argv + 2);
  if (strcmp (argv[1], "serve") == 0)
    return cmd_serve (argc - 2, argv + 2);
  fprintf (stderr, "unknown command %s\n", argv[1]);
  return 3;
}
