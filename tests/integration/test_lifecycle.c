/* Life cycle through the real agent: Create, List, Execute, Suspend/Resume, Destroy. */
#include <string.h>

#include "harness.h"

START_TEST (create_execute_destroy)
{
  int id = h_create ("[{\"writeBufferEnabled\": false}]");
  guint n;
  g_autofree int *ids = h_list (&n);
  g_autofree char *out = NULL;

  ck_assert_uint_eq (n, 1);
  ck_assert_int_eq (ids[0], id);
  out = h_run_ok (id, "echo hello");
  ck_assert_str_eq (out, "hello\n");
  h_destroy (id);
  g_free (ids);
  ids = h_list (&n);
  ck_assert_uint_eq (n, 0);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("lifecycle");
  TCase *tc = h_tcase ("lifecycle");

  tcase_add_test (tc, create_execute_destroy);
  suite_add_tcase (s, tc);
  return h_run_suite (s);
}
