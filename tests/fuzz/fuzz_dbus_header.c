/* Fuzz target: the D-Bus proxy's header parser, first-argument reader, classification and
 * authentication-line checks on arbitrary bytes. The first byte picks what the rest is fed to,
 * so that one corpus covers all four. Any crash, sanitizer report or a parse that claims more
 * than the input holds is a bug. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dbus-filter.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static ScDbusRules *
fuzz_rules (void)
{
  static ScDbusRules *rules;
  static const char json[]
      = "[{\"direction\":\"outgoing\",\"interface\":\"com.example.*\",\"object-path\":\"/com/*\","
        "\"method\":[\"Get*\",\"Echo\"]},"
        "{\"direction\":\"incoming\",\"interface\":\"*\",\"object-path\":\"*\",\"method\":\"*\"},"
        "{\"direction\":\"*\",\"interface\":\"\",\"object-path\":\"\",\"method\":\"\"}]";

  if (rules == NULL)
    {
      JsonNode *node = json_from_string (json, NULL);
      rules = sc_dbus_rules_new ();
      if (!sc_dbus_rules_add_json (rules, node, "fuzz", NULL))
        abort ();
      json_node_unref (node);
    }
  return rules;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  ScDbusHeader header;
  gsize header_len, total_len;
  uint8_t mode;
  /* a copy of exactly the input, so that the sanitizer sees any read past its end */
  uint8_t *copy;

  if (size < 1)
    return 0;
  mode = data[0] % 3;
  data++;
  size--;
  copy = malloc (size ? size : 1);
  memcpy (copy, data, size);

  if (mode == 0)
    {
      if (size >= SC_DBUS_FIXED_HEADER
          && sc_dbus_message_sizes (copy, size, &header_len, &total_len, NULL)
          && sc_dbus_header_parse (copy, size, &header, NULL))
        {
          const char *arg = NULL;

          if (header.header_len > size || header.total_len != header.header_len + header.body_len)
            abort ();
          if (size > header.header_len)
            arg = sc_dbus_body_first_string (&header, copy + header.header_len,
                                             MIN (size - header.header_len, header.body_len));
          for (int origin = 0; origin < 2; origin++)
            for (int expected = 0; expected < 2; expected++)
              (void)sc_dbus_classify (fuzz_rules (), origin, &header, arg, expected);
        }
    }
  else if (mode == 1)
    {
      ScDbusAuthCommand command;
      char *line = sc_dbus_auth_filter_client_line ((const char *)copy, size, 1000, 0, &command);

      if (line != NULL && strlen (line) > SC_DBUS_AUTH_MAX_LINE + 16)
        abort ();
      g_free (line);
    }
  else
    (void)sc_dbus_auth_check_bus_line ((const char *)copy, size);
  free (copy);
  return 0;
}
