/* What the benchmarks share (see bench.h). */
#include "bench.h"

#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/utsname.h>
#include <unistd.h>

static void (*bench_body) (void);

START_TEST (bench_test)
{
  bench_body ();
}
END_TEST

int
bench_run (const char *name, void (*body) (void))
{
  Suite *suite = suite_create (name);
  TCase *tc = tcase_create (name);
  SRunner *runner;
  int lock_fd, failed;

  if (geteuid () != 0)
    {
      g_printerr ("%s: the benchmarks need root (real LXC containers)\n", name);
      return 77;
    }
  /* Every agent removes the SC-* containers it finds when it starts: never while a test suite
   * (or another benchmark) has one running. Held until exit. */
  lock_fd = open (SC_TEST_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd < 0 || flock (lock_fd, LOCK_EX) < 0)
    {
      g_printerr ("%s: cannot lock %s\n", name, SC_TEST_LOCK);
      return 1;
    }
  bench_body = body;
  tcase_add_checked_fixture (tc, sc_test_setup_bus, sc_test_teardown);
  tcase_add_test (tc, bench_test);
  suite_add_tcase (suite, tc);
  runner = srunner_create (suite);
  /* one process: the body's numbers stay here, and no timeout cuts a long run */
  srunner_set_fork_status (runner, CK_NOFORK);
  srunner_run_all (runner, CK_SILENT);
  failed = srunner_ntests_failed (runner);
  if (failed > 0)
    {
      TestResult **results = srunner_failures (runner);
      for (int i = 0; i < failed; i++)
        g_printerr ("%s: failed at %s:%d: %s\n", name, tr_lfile (results[i]),
                    tr_lno (results[i]), tr_msg (results[i]));
      free (results);
    }
  srunner_free (runner);
  return failed == 0 ? 0 : 1;
}

void
bench_agent_start (void)
{
  const char *const env[] = { "G_MESSAGES_DEBUG", NULL };

  h_agent_start_env (NULL, env);
}

double
bench_now_ms (void)
{
  return (double) g_get_monotonic_time () / 1000.0;
}

void
bench_samples_init (BenchSamples *s)
{
  s->values = g_array_new (FALSE, FALSE, sizeof (double));
}

void
bench_samples_clear (BenchSamples *s)
{
  g_clear_pointer (&s->values, g_array_unref);
}

void
bench_samples_add (BenchSamples *s, double ms)
{
  g_array_append_val (s->values, ms);
}

static gint
compare_doubles (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

double
bench_quantile (const BenchSamples *s, double q)
{
  g_autoptr (GArray) sorted = NULL;
  guint rank;

  if (s->values == NULL || s->values->len == 0)
    return NAN;
  sorted = g_array_copy (s->values);
  g_array_sort (sorted, compare_doubles);
  rank = (guint) ceil (q * sorted->len);
  return g_array_index (sorted, double, CLAMP (rank, 1, sorted->len) - 1);
}

double
bench_median (const BenchSamples *s)
{
  return bench_quantile (s, 0.5);
}

void
bench_table_head (const char *title)
{
  printf ("%-34s %9s %9s %9s %9s %6s\n", title, "median", "p95", "p99", "max", "n");
}

void
bench_table_row (const char *name, const BenchSamples *s)
{
  printf ("%-34s %9.2f %9.2f %9.2f %9.2f %6u\n", name, bench_median (s), bench_quantile (s, 0.95),
          bench_quantile (s, 0.99), bench_quantile (s, 1.0), s->values->len);
}

void
bench_json_begin (BenchJson *j)
{
  j->text = g_string_new ("{");
}

static void
json_key (BenchJson *j, const char *key)
{
  if (j->text->len > 1)
    g_string_append (j->text, ", ");
  g_string_append_printf (j->text, "\"%s\": ", key);
}

void
bench_json_number (BenchJson *j, const char *key, double value)
{
  json_key (j, key);
  if (isnan (value) || isinf (value))
    g_string_append (j->text, "null");
  else if (value == (double) (long long) value)
    g_string_append_printf (j->text, "%lld", (long long) value);
  else
    g_string_append_printf (j->text, "%.3f", value);
}

void
bench_json_string (BenchJson *j, const char *key, const char *value)
{
  json_key (j, key);
  g_string_append_c (j->text, '"');
  for (const char *p = value; *p != '\0'; p++)
    {
      if (*p == '"' || *p == '\\')
        g_string_append_c (j->text, '\\');
      if ((unsigned char) *p >= 0x20)
        g_string_append_c (j->text, *p);
    }
  g_string_append_c (j->text, '"');
}

void
bench_json_end (BenchJson *j)
{
  g_string_append_c (j->text, '}');
  printf ("%s\n", j->text->str);
  fflush (stdout);
  g_string_free (j->text, TRUE);
  j->text = NULL;
}

long
bench_rss_kib (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", (int) pid);
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents (path, &status, NULL, NULL)
      || (line = strstr (status, "\nVmRSS:")) == NULL)
    return -1;
  return strtol (line + strlen ("\nVmRSS:"), NULL, 10);
}

char *
bench_machine (BenchJson *j)
{
  g_autofree char *cpuinfo = NULL;
  g_autofree char *cpu = NULL;
  struct utsname u;
  const char *line;
  long cores = sysconf (_SC_NPROCESSORS_ONLN);

  if (uname (&u) < 0)
    g_strlcpy (u.release, "?", sizeof u.release);
  if (g_file_get_contents ("/proc/cpuinfo", &cpuinfo, NULL, NULL)
      && (line = strstr (cpuinfo, "model name")) != NULL && (line = strchr (line, ':')) != NULL)
    cpu = g_strstrip (g_strndup (line + 1, strcspn (line + 1, "\n")));
  else
    cpu = g_strdup ("?");
  if (j != NULL)
    {
      bench_json_number (j, "nproc", (double) cores);
      bench_json_string (j, "kernel", u.release);
      bench_json_string (j, "cpu", cpu);
    }
  return g_strdup_printf ("%ld cores, kernel %s, %s", cores, u.release, cpu);
}

guint
bench_leftovers (void)
{
  g_autofree char *found = NULL;
  guint n = 0;

  if (h->agent_pid != 0 && h->agent_status == -1)
    h_agent_stop (SIGTERM);
  found = h_host_leftovers ();
  for (const char *p = found; *p != '\0'; p++)
    n += *p == '\n';
  if (n > 0)
    g_printerr ("left on the host:\n%s", found);
  return n;
}
