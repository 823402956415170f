/* Execute through the real agent: output file, missing and non-executable programs, working
 * directory, command-line splitting, environment (call and env gateway), exit codes, host pids
 * and the checks on env names and sizes. */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

/* ---- helpers ------------------------------------------------------------------------------ */

static GVariant *
env_of (const char *const *env)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a{ss}"));
  for (const char *const *e = env; e != NULL && *e != NULL; e++)
    {
      g_auto (GStrv) kv = g_strsplit (*e, "=", 2);
      g_variant_builder_add (&b, "{ss}", kv[0], kv[1] ? kv[1] : "");
    }
  return g_variant_builder_end (&b);
}

/* Calls Execute and asserts it fails with code_word; returns the message (g_free). */
static char *
execute_expect (const char *code_word, int id, const char *command, const char *cwd,
                const char *output_file, GVariant *env)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) r = NULL;

  if (env == NULL)
    env = env_of (NULL);
  r = h_call ("Execute",
              g_variant_new ("(isss@a{ss})", id, command, cwd, output_file, env), &error);
  h_assert_failed (error, code_word);
  return g_strdup (error->message);
}

/* Runs command with cwd and env, waits for it; returns its output and sets *code. */
static char *
run_in (int id, const char *command, const char *cwd, const char *const *env, guint *code)
{
  static int counter;
  g_autofree char *name = g_strdup_printf ("exec-%d.out", counter++);
  g_autofree char *out = h_path (name);
  int pid = h_execute (id, command, cwd, out, env);
  char *text;

  *code = h_wait_exit (id, pid, 30000);
  text = h_read (out);
  unlink (out);
  return text != NULL ? text : g_strdup ("");
}

static char *
run_in_ok (int id, const char *command, const char *cwd, const char *const *env)
{
  guint code;
  char *out = run_in (id, command, cwd, env, &code);

  ck_assert_msg (code == 0, "'%s' (cwd '%s') exited with %u; output:\n%s", command, cwd, code,
                 out);
  return out;
}

/* Asserts that no ProcessStateChanged arrives for container id within ms. */
static void
assert_no_exit_signal (int id, int ms)
{
  h_sleep (ms);
  for (GList *l = h->exits->head; l != NULL; l = l->next)
    {
      HExit *e = l->data;
      ck_assert_msg (e->container != id, "unexpected ProcessStateChanged for pid %u (code %u)",
                     e->pid, e->code);
    }
}

/* ---- output file -------------------------------------------------------------------------- */

START_TEST (output_file_gets_stdout_and_stderr_appended)
{
  int id = h_create ("[]");
  g_autofree char *out = h_path ("both.out");
  g_autofree char *text = NULL;
  int pid;

  ck_assert (!g_file_test (out, G_FILE_TEST_EXISTS));
  pid = h_execute (id, "sh -c 'echo out; echo err >&2'", "/", out, NULL);
  ck_assert_uint_eq (h_wait_exit (id, pid, 30000), 0);
  text = h_read (out);
  ck_assert_msg (text != NULL, "the output file was not created");
  ck_assert_str_eq (text, "out\nerr\n");
  g_clear_pointer (&text, g_free);

  /* a second run into the same file appends */
  pid = h_execute (id, "sh -c 'echo out; echo err >&2'", "/", out, NULL);
  ck_assert_uint_eq (h_wait_exit (id, pid, 30000), 0);
  text = h_read (out);
  ck_assert_str_eq (text, "out\nerr\nout\nerr\n");
  g_clear_pointer (&text, g_free);

  /* an existing file is appended to, not truncated */
  ck_assert (g_file_set_contents (out, "before\n", -1, NULL));
  pid = h_execute (id, "echo after", "/", out, NULL);
  ck_assert_uint_eq (h_wait_exit (id, pid, 30000), 0);
  text = h_read (out);
  ck_assert_str_eq (text, "before\nafter\n");
  h_destroy (id);
}
END_TEST

START_TEST (output_file_empty_discards)
{
  int id = h_create ("[]");
  int pid = h_execute (id, "sh -c 'echo discarded; echo discarded >&2; exit 4'", "/", "", NULL);

  /* it runs (its exit code comes through) and writes nowhere the test can see */
  ck_assert_uint_eq (h_wait_exit (id, pid, 30000), 4);
  h_destroy (id);
}
END_TEST

START_TEST (output_file_bad_paths)
{
  int id = h_create ("[]");
  g_autofree char *missing_dir = h_path ("no-such-dir");
  g_autofree char *in_missing = g_build_filename (missing_dir, "out.txt", NULL);
  g_autofree char *msg = NULL;

  msg = execute_expect ("BadPath", id, "echo x", "/", "relative/out.txt", NULL);
  ck_assert_msg (strstr (msg, "relative/out.txt") != NULL, "message does not name the file: %s",
                 msg);
  g_clear_pointer (&msg, g_free);
  msg = execute_expect ("BadPath", id, "echo x", "/", "out.txt", NULL);
  g_clear_pointer (&msg, g_free);
  msg = execute_expect ("BadPath", id, "echo x", "/", in_missing, NULL);
  ck_assert_msg (strstr (msg, in_missing) != NULL, "message does not name %s: %s", in_missing,
                 msg);
  ck_assert (!g_file_test (missing_dir, G_FILE_TEST_EXISTS));
  assert_no_exit_signal (id, 300);
  h_destroy (id);
}
END_TEST

/* A FIFO as output file: with a reader the output streams through it; without one the call
 * fails at once instead of blocking the agent until someone opens the FIFO. */
START_TEST (output_file_fifo)
{
  int id = h_create ("[]");
  g_autofree char *fifo = h_path ("out.fifo");
  g_autofree char *msg = NULL;
  g_autofree char *out = NULL;
  char buf[64] = { 0 };
  gsize got = 0;
  int reader, pid;

  ck_assert_int_eq (mkfifo (fifo, 0600), 0);
  msg = execute_expect ("BadPath", id, "echo lost", "/", fifo, NULL);
  ck_assert_msg (strstr (msg, fifo) != NULL, "message does not name the FIFO: %s", msg);
  /* the agent still serves this container */
  out = h_run_ok (id, "echo alive");
  ck_assert_str_eq (out, "alive\n");

  reader = open (fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ck_assert_int_ge (reader, 0);
  pid = h_execute (id, "echo through-the-fifo", "/", fifo, NULL);
  ck_assert_uint_eq (h_wait_exit (id, pid, 30000), 0);
  while (got < sizeof buf - 1)
    {
      ssize_t n = read (reader, buf + got, sizeof buf - 1 - got);
      if (n <= 0)
        break;
      got += (gsize) n;
    }
  close (reader);
  ck_assert_str_eq (buf, "through-the-fifo\n");
  h_destroy (id);
}
END_TEST

/* ---- programs that cannot run --------------------------------------------------------------- */

START_TEST (missing_program_exits_127)
{
  int id = h_create ("[]");
  g_autofree char *out = NULL;
  guint code;

  out = run_in (id, "/no/such/program arg", "/", NULL, &code);
  ck_assert_uint_eq (code, 127);
  ck_assert_msg (strstr (out, "not found") != NULL, "no 'not found' message: '%s'", out);
  ck_assert_msg (strstr (out, "/no/such/program") != NULL, "the message does not name it: '%s'",
                 out);
  g_clear_pointer (&out, g_free);

  /* searched in PATH */
  out = run_in (id, "sc-no-such-command", "/", NULL, &code);
  ck_assert_uint_eq (code, 127);
  ck_assert_msg (strstr (out, "not found") != NULL, "no 'not found' message: '%s'", out);
  h_destroy (id);
}
END_TEST

START_TEST (non_executable_exits_126)
{
  int id = h_create ("[]");
  g_autofree char *dir = h_path ("plain");
  g_autofree char *file = g_build_filename (dir, "script", NULL);
  g_autofree char *runnable = g_build_filename (dir, "runnable", NULL);
  g_autofree char *out = NULL;
  guint code;

  ck_assert_int_eq (g_mkdir (dir, 0755), 0);
  ck_assert (g_file_set_contents (file, "#!/bin/sh\necho ran\n", -1, NULL));
  ck_assert_int_eq (chmod (file, 0644), 0);
  ck_assert (g_file_set_contents (runnable, "#!/bin/sh\necho ran\n", -1, NULL));
  ck_assert_int_eq (chmod (runnable, 0755), 0);
  h_bind_mount (id, dir, "/data", TRUE);
  /* control: the same script, executable, runs from there */
  out = run_in_ok (id, "/data/runnable", "/", NULL);
  ck_assert_str_eq (out, "ran\n");
  g_clear_pointer (&out, g_free);
  out = run_in (id, "/data/script", "/", NULL, &code);
  ck_assert_uint_eq (code, 126);
  ck_assert_msg (strstr (out, "ran") == NULL, "the file ran: '%s'", out);
  g_clear_pointer (&out, g_free);
  /* a directory is not executable either */
  out = run_in (id, "/data", "/", NULL, &code);
  ck_assert_uint_eq (code, 126);
  h_destroy (id);
}
END_TEST

/* ---- working directory -------------------------------------------------------------------- */

START_TEST (working_directory)
{
  int id = h_create ("[]");
  g_autofree char *out = NULL;
  g_autofree char *msg = NULL;
  guint code;

  out = run_in_ok (id, "pwd", "/tmp", NULL);
  ck_assert_str_eq (out, "/tmp\n");
  g_clear_pointer (&out, g_free);
  out = run_in_ok (id, "pwd", "/usr/bin", NULL);
  ck_assert_str_eq (out, "/usr/bin\n");
  g_clear_pointer (&out, g_free);
  out = run_in_ok (id, "pwd", "", NULL);
  ck_assert_str_eq (out, "/\n");
  g_clear_pointer (&out, g_free);

  /* a missing directory: an error, and nothing runs */
  msg = execute_expect ("BadPath", id, "touch /tmp/ran-in-missing", "/no/such/dir", "", NULL);
  ck_assert_msg (strstr (msg, "/no/such/dir") != NULL, "message does not name the dir: %s", msg);
  g_clear_pointer (&msg, g_free);
  /* a file is not a directory */
  msg = execute_expect ("BadPath", id, "touch /tmp/ran-in-missing", "/etc/passwd", "", NULL);
  g_clear_pointer (&msg, g_free);
  /* relative */
  msg = execute_expect ("BadPath", id, "touch /tmp/ran-in-missing", "tmp", "", NULL);
  g_clear_pointer (&msg, g_free);
  assert_no_exit_signal (id, 300);
  out = run_in (id, "test -e /tmp/ran-in-missing", "/", NULL, &code);
  ck_assert_msg (code == 1, "a refused Execute ran its command (test -e gave %u)", code);
  h_destroy (id);
}
END_TEST

START_TEST (working_directory_symlink_stays_inside)
{
  int id = h_create ("[]");
  g_autofree char *out = NULL;
  g_autofree char *msg = NULL;
  g_autofree char *host_marker = h_path ("host-only-dir");
  g_autofree char *escape_target = NULL;
  g_autofree char *ln = NULL;

  g_free (h_run_ok (id, "ln -s /.. /tmp/up"));
  g_free (h_run_ok (id, "ln -s ../../../../../../.. /tmp/upup"));
  out = run_in_ok (id, "sh -c 'pwd -P; test -d gateways && echo container-root'", "/tmp/up", NULL);
  ck_assert_str_eq (out, "/\ncontainer-root\n");
  g_clear_pointer (&out, g_free);
  out = run_in_ok (id, "sh -c 'pwd -P; test -d gateways && echo container-root'", "/tmp/upup",
                   NULL);
  ck_assert_str_eq (out, "/\ncontainer-root\n");
  g_clear_pointer (&out, g_free);

  /* a symlink to a host-only path through ".." resolves inside the container, where the path
   * does not exist */
  ck_assert_int_eq (g_mkdir (host_marker, 0755), 0);
  escape_target = g_strdup_printf ("/../../../..%s", host_marker);
  ln = g_strdup_printf ("ln -s %s /tmp/escape", escape_target);
  g_free (h_run_ok (id, ln));
  msg = execute_expect ("BadPath", id, "pwd", "/tmp/escape", "", NULL);
  assert_no_exit_signal (id, 200);
  h_destroy (id);
}
END_TEST

/* ---- command line --------------------------------------------------------------------------- */

START_TEST (command_line_splitting)
{
  int id = h_create ("[]");
  g_autofree char *out = NULL;
  g_autofree char *msg = NULL;

  out = h_run_ok (id, "sh -c 'echo \"a b\"'");
  ck_assert_str_eq (out, "a b\n");
  g_clear_pointer (&out, g_free);
  out = h_run_ok (id, "printf '%s\\n' \"one two\" three");
  ck_assert_str_eq (out, "one two\nthree\n");
  g_clear_pointer (&out, g_free);
  /* no shell unless named: no expansion, no redirection, no pipes */
  out = h_run_ok (id, "echo $HOME");
  ck_assert_str_eq (out, "$HOME\n");
  g_clear_pointer (&out, g_free);
  out = h_run_ok (id, "echo a | b > /tmp/redirected; c");
  ck_assert_str_eq (out, "a | b > /tmp/redirected; c\n");
  g_clear_pointer (&out, g_free);
  out = h_run_ok (id, "sh -c 'test ! -e /tmp/redirected && echo none'");
  ck_assert_str_eq (out, "none\n");
  g_clear_pointer (&out, g_free);
  /* backslash escapes and adjacent quoted parts make one word */
  out = h_run_ok (id, "printf '[%s]\\n' a\\ b 'c'\"d\"");
  ck_assert_str_eq (out, "[a b]\n[cd]\n");
  g_clear_pointer (&out, g_free);

  msg = execute_expect ("InvalidArgument", id, "", "/", "", NULL);
  g_clear_pointer (&msg, g_free);
  msg = execute_expect ("InvalidArgument", id, "   ", "/", "", NULL);
  g_clear_pointer (&msg, g_free);
  msg = execute_expect ("InvalidArgument", id, "echo \"unbalanced", "/", "", NULL);
  g_clear_pointer (&msg, g_free);
  msg = execute_expect ("InvalidArgument", id, "echo 'unbalanced", "/", "", NULL);
  assert_no_exit_signal (id, 200);
  h_destroy (id);
}
END_TEST

/* ---- environment ------------------------------------------------------------------------------ */

START_TEST (env_from_call)
{
  int id = h_create ("[]");
  const char *const env[] = { "SC_ONE=hello world", "SC_TWO=", "SC_THREE=a=b", NULL };
  g_autofree char *out
      = run_in_ok (id, "sh -c 'echo \"[$SC_ONE][${SC_TWO-unset}][$SC_THREE]\"'", "/", env);

  ck_assert_str_eq (out, "[hello world][][a=b]\n");
  g_clear_pointer (&out, g_free);
  /* the environment is per call */
  out = run_in_ok (id, "sh -c 'echo \"[${SC_ONE-unset}]\"'", "/", NULL);
  ck_assert_str_eq (out, "[unset]\n");
  h_destroy (id);
}
END_TEST

#define DEFAULT_ENV_MANIFEST                                                                      \
  "{\"version\": \"1\", \"capabilities\": [{\"name\": \"test.default-env\", \"gateways\": "        \
  "[{\"id\": \"env\", \"config\": [{\"name\": \"FOO\", \"value\": \"gw\"}, "                      \
  "{\"name\": \"BAR\", \"value\": \"gw\"}]}]}]}"
#define MORE_ENV_MANIFEST                                                                         \
  "{\"version\": \"1\", \"capabilities\": [{\"name\": \"test.more-env\", \"gateways\": "           \
  "[{\"id\": \"env\", \"config\": [{\"name\": \"BAZ\", \"value\": \"more\"}]}]}]}"

static void
start_agent_with_env_manifests (void)
{
  h_write_manifest (TRUE, "default-env.json", DEFAULT_ENV_MANIFEST);
  h_write_manifest (FALSE, "more-env.json", MORE_ENV_MANIFEST);
  h_agent_start (NULL);
}

START_TEST (env_call_overrides_gateway)
{
  int id;
  const char *const env[] = { "FOO=call", NULL };
  const char *show = "sh -c 'echo \"FOO=${FOO-unset} BAR=${BAR-unset} BAZ=${BAZ-unset}\"'";
  g_autofree char *out = NULL;

  start_agent_with_env_manifests ();
  id = h_create ("[]");
  /* no SetCapabilities: the first Execute applies the defaults */
  out = run_in_ok (id, show, "/", env);
  ck_assert_str_eq (out, "FOO=call BAR=gw BAZ=unset\n");
  g_clear_pointer (&out, g_free);
  out = run_in_ok (id, show, "/", NULL);
  ck_assert_str_eq (out, "FOO=gw BAR=gw BAZ=unset\n");
  h_destroy (id);
}
END_TEST

START_TEST (env_defaults_applied_once)
{
  const char *const more[] = { "test.more-env", NULL };
  const char *show = "sh -c 'echo \"FOO=${FOO-unset} BAR=${BAR-unset} BAZ=${BAZ-unset}\"'";
  g_autofree char *out = NULL;
  int a, b;

  start_agent_with_env_manifests ();

  /* control: before any Execute, the standard capability merges with the defaults */
  b = h_create ("[]");
  h_set_capabilities (b, more);
  out = run_in_ok (b, show, "/", NULL);
  ck_assert_str_eq (out, "FOO=gw BAR=gw BAZ=more\n");
  g_clear_pointer (&out, g_free);
  h_destroy (b);

  a = h_create ("[]");
  out = run_in_ok (a, show, "/", NULL);
  ck_assert_str_eq (out, "FOO=gw BAR=gw BAZ=unset\n");
  g_clear_pointer (&out, g_free);
  /* defaults are applied already: an empty list applies nothing (a second configuration of
   * the once-only env gateway would fail) */
  h_set_capabilities (a, NULL);
  h_set_capabilities (a, NULL);
  /* the env gateway was configured by the defaults: it takes no more */
  h_call_expect ("BadState", "SetCapabilities", g_variant_new ("(i^as)", a, more));
  out = run_in_ok (a, show, "/", NULL);
  ck_assert_str_eq (out, "FOO=gw BAR=gw BAZ=unset\n");
  g_clear_pointer (&out, g_free);
  /* and the container still works normally */
  h_set_capabilities (a, NULL);
  out = h_run_ok (a, "echo still");
  ck_assert_str_eq (out, "still\n");
  h_destroy (a);
}
END_TEST

START_TEST (env_names_and_count_checked)
{
  int id = h_create ("[]");
  const char *const with_eq[] = { "A=B=c", NULL };
  GVariantBuilder b;
  g_autofree char *msg = NULL;
  g_autofree char *out = NULL;
  GVariant *env;

  /* a key with '=' (env_of would split it, so build it by hand) */
  g_variant_builder_init (&b, G_VARIANT_TYPE ("a{ss}"));
  g_variant_builder_add (&b, "{ss}", "BAD=NAME", "x");
  msg = execute_expect ("InvalidArgument", id, "true", "/", "", g_variant_builder_end (&b));
  g_clear_pointer (&msg, g_free);
  g_variant_builder_init (&b, G_VARIANT_TYPE ("a{ss}"));
  g_variant_builder_add (&b, "{ss}", "", "x");
  msg = execute_expect ("InvalidArgument", id, "true", "/", "", g_variant_builder_end (&b));
  g_clear_pointer (&msg, g_free);
  /* '=' in the value is fine */
  out = run_in_ok (id, "printenv A", "/", with_eq);
  ck_assert_str_eq (out, "B=c\n");
  g_clear_pointer (&out, g_free);

  /* 4097 entries: refused */
  g_variant_builder_init (&b, G_VARIANT_TYPE ("a{ss}"));
  for (int i = 0; i < 4097; i++)
    {
      char name[32];
      g_snprintf (name, sizeof name, "V%04d", i);
      g_variant_builder_add (&b, "{ss}", name, "x");
    }
  msg = execute_expect ("InvalidArgument", id, "true", "/", "", g_variant_builder_end (&b));
  ck_assert_msg (strstr (msg, "4096") != NULL, "message does not give the limit: %s", msg);
  g_clear_pointer (&msg, g_free);
  assert_no_exit_signal (id, 200);

  /* 4096 entries: accepted */
  g_variant_builder_init (&b, G_VARIANT_TYPE ("a{ss}"));
  for (int i = 0; i < 4096; i++)
    {
      char name[32];
      g_snprintf (name, sizeof name, "V%04d", i);
      g_variant_builder_add (&b, "{ss}", name, "x");
    }
  env = g_variant_builder_end (&b);
  {
    g_autoptr (GError) error = NULL;
    g_autofree char *path = h_path ("many.out");
    g_autoptr (GVariant) r = h_call (
        "Execute", g_variant_new ("(isss@a{ss})", id, "printenv V4095", "/", path, env), &error);
    int pid;

    ck_assert_msg (r != NULL, "4096 env entries refused: %s", error ? error->message : "");
    g_variant_get (r, "(i)", &pid);
    ck_assert_uint_eq (h_wait_exit (id, pid, 30000), 0);
    g_clear_pointer (&out, g_free);
    out = h_read (path);
    ck_assert_str_eq (out, "x\n");
  }
  h_destroy (id);
}
END_TEST

START_TEST (broken_default_capability_fails_execute)
{
  int id;
  g_autofree char *msg = NULL;

  /* an env item without a value: the manifest loads, the gateway refuses it when applied */
  h_write_manifest (TRUE, "broken-env.json",
                    "{\"version\": \"1\", \"capabilities\": [{\"name\": \"test.broken\", "
                    "\"gateways\": [{\"id\": \"env\", \"config\": [{\"name\": \"FOO\"}]}]}]}");
  h_agent_start (NULL);
  id = h_create ("[]");
  msg = execute_expect ("GatewayConfig", id, "true", "/", "", NULL);
  ck_assert_msg (strstr (msg, "default") != NULL, "message does not blame the defaults: %s", msg);
  g_clear_pointer (&msg, g_free);
  /* not marked applied: the next Execute tries again, and fails again */
  msg = execute_expect ("GatewayConfig", id, "true", "/", "", NULL);
  g_clear_pointer (&msg, g_free);
  h_call_expect ("GatewayConfig", "SetCapabilities",
                 g_variant_new ("(i^as)", id, (const char *const[]){ NULL }));
  assert_no_exit_signal (id, 300);
  h_destroy (id);
}
END_TEST

START_TEST (execute_refused_when_suspended)
{
  int id = h_create ("[]");
  g_autofree char *msg = NULL;
  g_autofree char *out = NULL;

  h_suspend (id);
  msg = execute_expect ("BadState", id, "touch /tmp/ran-while-suspended", "/", "", NULL);
  h_resume (id);
  assert_no_exit_signal (id, 200);
  out = run_in_ok (id, "sh -c 'test ! -e /tmp/ran-while-suspended && echo none'", "/", NULL);
  ck_assert_str_eq (out, "none\n");
  h_destroy (id);
}
END_TEST

START_TEST (paths_with_newlines_refused)
{
  int id = h_create ("[]");
  g_autofree char *out = h_path ("new\nline.out");
  g_autofree char *msg = NULL;

  g_free (h_run_ok (id, "mkdir -p '/tmp/a\nb'"));
  g_free (h_run_ok (id, "test -d '/tmp/a\nb'"));
  msg = execute_expect ("BadPath", id, "true", "/tmp/a\nb", "", NULL);
  g_clear_pointer (&msg, g_free);
  msg = execute_expect ("BadPath", id, "true", "/", out, NULL);
  ck_assert (!g_file_test (out, G_FILE_TEST_EXISTS));
  assert_no_exit_signal (id, 200);
  h_destroy (id);
}
END_TEST

/* ---- exit codes and pids ---------------------------------------------------------------------- */

START_TEST (exit_codes)
{
  int id = h_create ("[]");
  guint code;
  g_autofree char *out = NULL;

  out = run_in (id, "true", "/", NULL, &code);
  ck_assert_uint_eq (code, 0);
  g_clear_pointer (&out, g_free);
  out = run_in (id, "sh -c 'exit 3'", "/", NULL, &code);
  ck_assert_uint_eq (code, 3);
  g_clear_pointer (&out, g_free);
  out = run_in (id, "sh -c 'exit 255'", "/", NULL, &code);
  ck_assert_uint_eq (code, 255);
  g_clear_pointer (&out, g_free);
  out = run_in (id, "sh -c 'kill -TERM $$'", "/", NULL, &code);
  ck_assert_uint_eq (code, 128 + SIGTERM);
  g_clear_pointer (&out, g_free);
  out = run_in (id, "sh -c 'kill -KILL $$'", "/", NULL, &code);
  ck_assert_uint_eq (code, 128 + SIGKILL);
  h_destroy (id);
}
END_TEST

static char *
ns_link (int pid, const char *ns)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/ns/%s", pid, ns);
  char *target = g_file_read_link (path, NULL);

  ck_assert_msg (target != NULL, "cannot read %s", path);
  return target;
}

START_TEST (pid_is_a_host_pid)
{
  int id = h_create ("[]");
  int pid = h_execute (id, "sleep 60", "/", "", NULL);
  g_autofree char *comm_path = g_strdup_printf ("/proc/%d/comm", pid);
  g_autofree char *comm = NULL;
  g_autofree char *mnt = NULL;
  g_autofree char *our_mnt = ns_link (getpid (), "mnt");
  g_autofree char *pidns = NULL;
  g_autofree char *our_pidns = ns_link (getpid (), "pid");

  ck_assert_int_eq (kill (pid, 0), 0);
  /* Execute answers once the process exists; it may not have reached exec yet */
  for (int i = 0; i < 500; i++)
    {
      g_clear_pointer (&comm, g_free);
      comm = h_read (comm_path);
      if (comm == NULL || strcmp (comm, "sleep\n") == 0)
        break;
      h_sleep (10);
    }
  ck_assert_msg (comm != NULL && strcmp (comm, "sleep\n") == 0, "pid %d is '%s', not sleep", pid,
                 comm);
  mnt = ns_link (pid, "mnt");
  pidns = ns_link (pid, "pid");
  ck_assert_str_ne (mnt, our_mnt);
  ck_assert_str_ne (pidns, our_pidns);
  /* killing it from the host ends the process the signal is about */
  ck_assert_int_eq (kill (pid, SIGKILL), 0);
  ck_assert_uint_eq (h_wait_exit (id, pid, 30000), 128 + SIGKILL);
  h_destroy (id);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("execute");
  TCase *tc = h_tcase ("execute");
  TCase *gw = h_tcase_bus_only ("execute-env-gateway");

  tcase_add_test (tc, output_file_gets_stdout_and_stderr_appended);
  tcase_add_test (tc, output_file_empty_discards);
  tcase_add_test (tc, output_file_bad_paths);
  tcase_add_test (tc, output_file_fifo);
  tcase_add_test (tc, missing_program_exits_127);
  tcase_add_test (tc, non_executable_exits_126);
  tcase_add_test (tc, working_directory);
  tcase_add_test (tc, working_directory_symlink_stays_inside);
  tcase_add_test (tc, command_line_splitting);
  tcase_add_test (tc, env_from_call);
  tcase_add_test (tc, env_names_and_count_checked);
  tcase_add_test (tc, execute_refused_when_suspended);
  tcase_add_test (tc, paths_with_newlines_refused);
  tcase_add_test (tc, exit_codes);
  tcase_add_test (tc, pid_is_a_host_pid);
  tcase_add_test (gw, env_call_overrides_gateway);
  tcase_add_test (gw, env_defaults_applied_once);
  tcase_add_test (gw, broken_default_capability_fails_execute);
  suite_add_tcase (s, tc);
  suite_add_tcase (s, gw);
  return h_run_suite (s);
}
