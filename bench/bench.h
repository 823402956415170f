/* What the benchmarks share (bench/lifecycle, bench/scale): running a body with the
 * integration-test harness's private bus (tests/integration/harness.h), statistics, the JSON
 * line, RSS, and the machine's description.
 *
 * The harness asserts with Check. A benchmark runs its body as the one test of a Check suite
 * in CK_NOFORK mode: a failed harness assertion ends the body and is reported, the fixture
 * (sc_test_setup_bus / sc_test_teardown) starts the bus and removes it and the temp dir, and
 * the harness's leak check runs at the end as after every test. Threads other than the main one
 * must not call h_* or ck_* functions. */
#pragma once

#include <glib.h>
#include <stdio.h>

#include "harness.h"

/* Runs body under the integration tests' lock (SC_TEST_LOCK, held until exit), root only.
 * Returns the process's exit code: 0, 1 (a failure, printed on stderr), 77 (not root). */
int bench_run (const char *name, void (*body) (void));

/* Starts the agent of the build as the tests do, minus their debug logging (a benchmark
 * measures the agent as it runs in a product). */
void bench_agent_start (void);

/* Milliseconds on the monotonic clock. */
double bench_now_ms (void);

/* Samples in ms: add, median, quantile (nearest rank; q in 0..1). */
typedef struct {
  GArray *values; /* double */
} BenchSamples;
void bench_samples_init (BenchSamples *s);
void bench_samples_clear (BenchSamples *s);
void bench_samples_add (BenchSamples *s, double ms);
double bench_quantile (const BenchSamples *s, double q);
double bench_median (const BenchSamples *s);

/* A table row "name  median  p95  p99  max" (ms) on stdout; bench_table_head prints the head. */
void bench_table_head (const char *title);
void bench_table_row (const char *name, const BenchSamples *s);

/* The --json line: one object, keys in the order added. */
typedef struct {
  GString *text;
} BenchJson;
void bench_json_begin (BenchJson *j);
void bench_json_number (BenchJson *j, const char *key, double value);
void bench_json_string (BenchJson *j, const char *key, const char *value);
/* Prints the object as the last line of stdout and frees it. */
void bench_json_end (BenchJson *j);

/* The VmRSS of a process in KiB, -1 if unknown. */
long bench_rss_kib (GPid pid);

/* "N cores, kernel K, CPU" of this machine (g_free). Adds the same as keys to j if not NULL. */
char *bench_machine (BenchJson *j);

/* The leftovers the harness's leak check finds (stops the agent first if it runs): prints them
 * on stderr and returns how many lines there are. */
guint bench_leftovers (void);
