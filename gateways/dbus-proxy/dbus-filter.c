/* The pure parts of the filtering D-Bus proxy (see dbus-filter.h).
 *
 * The header parser reads only the fixed part and the header-field array, the way dbus-daemon
 * will read them, and refuses whatever the two could read differently: unknown field codes or
 * flags, a field whose value type is not the one its code has, non-zero padding, strings with
 * an inner NUL, invalid names. Every read is checked against the end of the buffer first. */
#include "dbus-filter.h"

#include <gio/gio.h>
#include <string.h>

/* ---- header ------------------------------------------------------------------------------- */

enum
{
  FIELD_PATH = 1,
  FIELD_INTERFACE = 2,
  FIELD_MEMBER = 3,
  FIELD_ERROR_NAME = 4,
  FIELD_REPLY_SERIAL = 5,
  FIELD_DESTINATION = 6,
  FIELD_SENDER = 7,
  FIELD_SIGNATURE = 8,
  FIELD_UNIX_FDS = 9,
};

/* The value type of each known field code (index = code). */
static const char field_types[] = { 0, 'o', 's', 's', 's', 'u', 's', 's', 'g', 'u' };

#define KNOWN_FLAGS                                                                                \
  (SC_DBUS_FLAG_NO_REPLY_EXPECTED | SC_DBUS_FLAG_NO_AUTO_START                                     \
   | SC_DBUS_FLAG_ALLOW_INTERACTIVE_AUTH)

/* The D-Bus type codes a signature may use. */
#define SIGNATURE_CHARS "ybnqiuxtdsogavh(){}"

static guint32
read_u32 (const guint8 *p, gboolean big_endian)
{
  guint32 v;

  memcpy (&v, p, 4);
  return big_endian ? GUINT32_FROM_BE (v) : GUINT32_FROM_LE (v);
}

static gboolean
fail (GError **error, const char *message)
{
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, message);
  return FALSE;
}

gboolean
sc_dbus_message_sizes (const guint8 *data, gsize len, gsize *header_len, gsize *total_len,
                       GError **error)
{
  gboolean big_endian;
  guint32 body_len, fields_len;
  gsize hlen;

  if (len < SC_DBUS_FIXED_HEADER)
    return fail (error, "message shorter than its fixed header");
  if (data[0] != 'l' && data[0] != 'B')
    return fail (error, "unknown byte order");
  big_endian = data[0] == 'B';
  if (data[1] < SC_DBUS_METHOD_CALL || data[1] > SC_DBUS_SIGNAL)
    return fail (error, "unknown message type");
  if (data[3] != 1)
    return fail (error, "unknown protocol version");
  body_len = read_u32 (data + 4, big_endian);
  fields_len = read_u32 (data + 12, big_endian);
  if (fields_len > SC_DBUS_MAX_FIELDS)
    return fail (error, "header fields over the proxy's limit");
  hlen = SC_DBUS_FIXED_HEADER + (((gsize)fields_len + 7) & ~(gsize)7);
  if (body_len > SC_DBUS_MAX_MESSAGE || hlen + body_len > SC_DBUS_MAX_MESSAGE)
    return fail (error, "message over the maximum size");
  *header_len = hlen;
  *total_len = hlen + body_len;
  return TRUE;
}

/* Advances *pos to the next multiple of `align`, checking that the skipped bytes are within
 * end and zero. */
static gboolean
skip_padding (const guint8 *data, gsize *pos, gsize end, gsize align)
{
  gsize to = (*pos + align - 1) & ~(align - 1);

  if (to > end)
    return FALSE;
  for (gsize i = *pos; i < to; i++)
    if (data[i] != 0)
      return FALSE;
  *pos = to;
  return TRUE;
}

static gboolean
valid_signature (const char *s)
{
  return strspn (s, SIGNATURE_CHARS) == strlen (s) && g_variant_is_signature (s);
}

gboolean
sc_dbus_header_parse (const guint8 *data, gsize len, ScDbusHeader *header, GError **error)
{
  gsize header_len, total_len, pos, end;
  guint32 seen = 0;
  gboolean be;

  memset (header, 0, sizeof *header);
  if (!sc_dbus_message_sizes (data, len, &header_len, &total_len, error))
    return FALSE;
  if (len < header_len)
    return fail (error, "header truncated");
  be = data[0] == 'B';
  header->big_endian = be;
  header->type = data[1];
  header->flags = data[2];
  header->body_len = read_u32 (data + 4, be);
  header->serial = read_u32 (data + 8, be);
  header->header_len = header_len;
  header->total_len = total_len;
  if ((header->flags & ~KNOWN_FLAGS) != 0)
    return fail (error, "unknown header flags");
  if (header->serial == 0)
    return fail (error, "serial 0");

  pos = SC_DBUS_FIXED_HEADER;
  end = SC_DBUS_FIXED_HEADER + read_u32 (data + 12, be);
  while (pos < end)
    {
      guint8 code;
      char type;
      const char *str = NULL;
      guint32 u = 0;

      /* each field is a struct: 8-aligned, and the array holds no padding after its last */
      if (!skip_padding (data, &pos, end, 8) || pos >= end)
        return fail (error, "bad padding in the header fields");
      if (end - pos < 4)
        return fail (error, "header field truncated");
      code = data[pos];
      if (code == 0 || code >= G_N_ELEMENTS (field_types))
        return fail (error, "unknown header field");
      type = field_types[code];
      if (data[pos + 1] != 1 || data[pos + 2] != (guint8)type || data[pos + 3] != 0)
        return fail (error, "header field of the wrong type");
      if ((seen & (1u << code)) != 0)
        return fail (error, "header field given twice");
      seen |= 1u << code;
      pos += 4;

      if (type == 'u')
        {
          if (!skip_padding (data, &pos, end, 4) || end - pos < 4)
            return fail (error, "header field truncated");
          u = read_u32 (data + pos, be);
          pos += 4;
        }
      else if (type == 'g')
        {
          gsize n;

          if (end - pos < 1)
            return fail (error, "header field truncated");
          n = data[pos];
          if (end - pos < 1 + n + 1)
            return fail (error, "header field truncated");
          str = (const char *)data + pos + 1;
          if (data[pos + 1 + n] != 0 || memchr (str, 0, n) != NULL)
            return fail (error, "bad string in the header");
          pos += 1 + n + 1;
        }
      else
        {
          guint32 n;

          if (!skip_padding (data, &pos, end, 4) || end - pos < 4)
            return fail (error, "header field truncated");
          n = read_u32 (data + pos, be);
          if (end - pos - 4 < (gsize)n + 1)
            return fail (error, "header field truncated");
          str = (const char *)data + pos + 4;
          if (data[pos + 4 + n] != 0 || memchr (str, 0, n) != NULL)
            return fail (error, "bad string in the header");
          pos += 4 + (gsize)n + 1;
        }

      switch (code)
        {
        case FIELD_PATH:
          if (!g_variant_is_object_path (str))
            return fail (error, "invalid object path");
          header->path = str;
          break;
        case FIELD_INTERFACE:
          if (!g_dbus_is_interface_name (str))
            return fail (error, "invalid interface name");
          header->interface = str;
          break;
        case FIELD_MEMBER:
          if (!g_dbus_is_member_name (str))
            return fail (error, "invalid member name");
          header->member = str;
          break;
        case FIELD_ERROR_NAME:
          if (!g_dbus_is_error_name (str))
            return fail (error, "invalid error name");
          header->error_name = str;
          break;
        case FIELD_REPLY_SERIAL:
          if (u == 0)
            return fail (error, "reply serial 0");
          header->has_reply_serial = TRUE;
          header->reply_serial = u;
          break;
        case FIELD_DESTINATION:
          if (!g_dbus_is_name (str))
            return fail (error, "invalid destination");
          header->destination = str;
          break;
        case FIELD_SENDER:
          if (!g_dbus_is_name (str))
            return fail (error, "invalid sender");
          header->sender = str;
          break;
        case FIELD_SIGNATURE:
          if (!valid_signature (str))
            return fail (error, "invalid signature");
          header->signature = str;
          break;
        case FIELD_UNIX_FDS:
          if (u > SC_DBUS_MAX_FDS)
            return fail (error, "too many unix fds");
          header->unix_fds = u;
          break;
        default:
          g_assert_not_reached ();
        }
    }
  if (pos != end)
    return fail (error, "header fields overrun their array");
  if (!skip_padding (data, &pos, header_len, 8) || pos != header_len)
    return fail (error, "bad padding after the header");

  switch (header->type)
    {
    case SC_DBUS_METHOD_CALL:
      if (header->path == NULL || header->member == NULL)
        return fail (error, "method call without path or member");
      break;
    case SC_DBUS_METHOD_RETURN:
      if (!header->has_reply_serial)
        return fail (error, "method return without reply serial");
      break;
    case SC_DBUS_ERROR:
      if (!header->has_reply_serial || header->error_name == NULL)
        return fail (error, "error without reply serial or name");
      break;
    case SC_DBUS_SIGNAL:
      if (header->path == NULL || header->interface == NULL || header->member == NULL)
        return fail (error, "signal without path, interface or member");
      break;
    default:
      g_assert_not_reached ();
    }
  if (header->body_len > 0 && (header->signature == NULL || header->signature[0] == '\0'))
    return fail (error, "a body without a signature");
  /* reserved for a connection's own use; the bus disconnects whoever sends them */
  if (g_strcmp0 (header->path, "/org/freedesktop/DBus/Local") == 0
      || g_strcmp0 (header->interface, "org.freedesktop.DBus.Local") == 0)
    return fail (error, "the reserved Local path or interface");
  return TRUE;
}

const char *
sc_dbus_body_first_string (const ScDbusHeader *header, const guint8 *body, gsize len)
{
  guint32 n;

  if (header->signature == NULL || header->signature[0] != 's' || len > header->body_len || len < 4)
    return NULL;
  n = read_u32 (body, header->big_endian);
  if (len - 4 < (gsize)n + 1 || body[4 + n] != 0 || memchr (body + 4, 0, n) != NULL
      || !g_utf8_validate ((const char *)body + 4, n, NULL))
    return NULL;
  return (const char *)body + 4;
}

/* ---- rules -------------------------------------------------------------------------------- */

ScDbusRules *
sc_dbus_rules_new (void)
{
  ScDbusRules *rules = g_new0 (ScDbusRules, 1);

  rules->rules = g_ptr_array_new_with_free_func ((GDestroyNotify)sc_dbus_rule_free);
  return rules;
}

void
sc_dbus_rules_free (ScDbusRules *rules)
{
  if (rules == NULL)
    return;
  g_ptr_array_unref (rules->rules);
  g_free (rules);
}

void
sc_dbus_rule_free (ScDbusRule *rule)
{
  if (rule == NULL)
    return;
  g_free (rule->interface);
  g_free (rule->path);
  g_strfreev (rule->methods);
  g_free (rule);
}

static const char *
json_kind (JsonNode *node)
{
  if (JSON_NODE_HOLDS_OBJECT (node))
    return "an object";
  if (JSON_NODE_HOLDS_ARRAY (node))
    return "an array";
  if (JSON_NODE_HOLDS_NULL (node))
    return "null";
  switch (json_node_get_value_type (node))
    {
    case G_TYPE_STRING:
      return "a string";
    case G_TYPE_BOOLEAN:
      return "a boolean";
    default:
      return "a number";
    }
}

static gboolean
is_string (JsonNode *node)
{
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING;
}

static const char *
rule_string (JsonObject *object, const char *key, const char *where, GError **error)
{
  JsonNode *node = json_object_get_member (object, key);

  if (node == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: '%s' is missing", where, key);
      return NULL;
    }
  if (!is_string (node))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: '%s' must be a string, not %s",
                   where, key, json_kind (node));
      return NULL;
    }
  return json_node_get_string (node);
}

ScDbusRule *
sc_dbus_rule_from_json (JsonNode *node, const char *where, GError **error)
{
  static const char *const keys[] = { "direction", "interface", "object-path", "method" };
  g_autoptr (ScDbusRule) rule = g_new0 (ScDbusRule, 1);
  g_autoptr (GList) members = NULL;
  JsonObject *object;
  JsonNode *method;
  const char *direction, *interface, *path;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: must be an object, not %s",
                   where, json_kind (node));
      return NULL;
    }
  object = json_node_get_object (node);
  members = json_object_get_members (object);
  for (GList *l = members; l != NULL; l = l->next)
    {
      gboolean known = FALSE;

      for (guint k = 0; k < G_N_ELEMENTS (keys) && !known; k++)
        known = strcmp (l->data, keys[k]) == 0;
      if (!known)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "%s: unknown key '%s' (known: direction, interface, object-path, method)",
                       where, (const char *)l->data);
          return NULL;
        }
    }
  if ((direction = rule_string (object, "direction", where, error)) == NULL
      || (interface = rule_string (object, "interface", where, error)) == NULL
      || (path = rule_string (object, "object-path", where, error)) == NULL)
    return NULL;
  if (g_ascii_strcasecmp (direction, "outgoing") == 0)
    rule->direction = SC_DBUS_DIR_OUTGOING;
  else if (g_ascii_strcasecmp (direction, "incoming") == 0)
    rule->direction = SC_DBUS_DIR_INCOMING;
  else if (strcmp (direction, "*") == 0)
    rule->direction = SC_DBUS_DIR_BOTH;
  else
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s: 'direction' must be \"incoming\", \"outgoing\" or \"*\", not '%s'", where,
                   direction);
      return NULL;
    }
  rule->interface = g_strdup (interface);
  rule->path = g_strdup (path);

  method = json_object_get_member (object, "method");
  if (method == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: 'method' is missing", where);
      return NULL;
    }
  if (is_string (method))
    {
      rule->methods = g_new0 (char *, 2);
      rule->methods[0] = g_strdup (json_node_get_string (method));
    }
  else if (JSON_NODE_HOLDS_ARRAY (method))
    {
      JsonArray *list = json_node_get_array (method);
      guint n = json_array_get_length (list);

      if (n == 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "%s: 'method' must not be an empty list (\"\" matches nothing)", where);
          return NULL;
        }
      rule->methods = g_new0 (char *, n + 1);
      for (guint i = 0; i < n; i++)
        {
          JsonNode *element = json_array_get_element (list, i);

          if (!is_string (element))
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "%s: 'method' element %u must be a string, not %s", where, i,
                           json_kind (element));
              return NULL;
            }
          rule->methods[i] = g_strdup (json_node_get_string (element));
        }
    }
  else
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s: 'method' must be a string or a list of strings, not %s", where,
                   json_kind (method));
      return NULL;
    }
  return g_steal_pointer (&rule);
}

gboolean
sc_dbus_rules_add_json (ScDbusRules *rules, JsonNode *array, const char *where, GError **error)
{
  g_autoptr (GPtrArray) parsed = g_ptr_array_new_with_free_func ((GDestroyNotify)sc_dbus_rule_free);
  JsonArray *list;

  if (array == NULL || !JSON_NODE_HOLDS_ARRAY (array))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s: must be a list of rules, not %s", where,
                   array != NULL ? json_kind (array) : "nothing");
      return FALSE;
    }
  list = json_node_get_array (array);
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      g_autofree char *rule_where = g_strdup_printf ("%s rule %u", where, i);
      ScDbusRule *rule
          = sc_dbus_rule_from_json (json_array_get_element (list, i), rule_where, error);
      if (rule == NULL)
        return FALSE;
      g_ptr_array_add (parsed, rule);
    }
  g_ptr_array_extend_and_steal (rules->rules, g_steal_pointer (&parsed));
  return TRUE;
}

gboolean
sc_dbus_pattern_match (const char *pattern, const char *value)
{
  const char *p = pattern, *v = value != NULL ? value : "";
  const char *star = NULL, *resume = NULL;

  if (pattern == NULL || pattern[0] == '\0')
    return FALSE;
  /* classic glob with one backtrack point: the last '*' seen absorbs one more character */
  while (*v != '\0')
    {
      if (*p == '*')
        {
          star = p++;
          resume = v;
        }
      else if (*p == *v)
        {
          p++;
          v++;
        }
      else if (star != NULL)
        {
          p = star + 1;
          v = ++resume;
        }
      else
        return FALSE;
    }
  while (*p == '*')
    p++;
  return *p == '\0';
}

/* ---- classification ----------------------------------------------------------------------- */

static ScDbusVerdict
verdict (ScDbusVerdictKind kind, const char *reason)
{
  return (ScDbusVerdict){ kind, reason };
}

static gboolean
is_bus_call (const ScDbusHeader *header)
{
  return header->type == SC_DBUS_METHOD_CALL
         && g_strcmp0 (header->destination, SC_DBUS_BUS_NAME) == 0;
}

gboolean
sc_dbus_needs_first_arg (ScDbusOrigin origin, const ScDbusHeader *header)
{
  return origin == SC_DBUS_FROM_CLIENT && is_bus_call (header)
         && (g_strcmp0 (header->member, "AddMatch") == 0
             || g_strcmp0 (header->member, "RequestName") == 0);
}

static gboolean
rules_match (const ScDbusRules *rules, ScDbusRuleDirection direction, const ScDbusHeader *header)
{
  for (guint i = 0; rules != NULL && i < rules->rules->len; i++)
    {
      const ScDbusRule *rule = g_ptr_array_index (rules->rules, i);

      if ((rule->direction & direction) == 0
          || !sc_dbus_pattern_match (rule->interface, header->interface)
          || !sc_dbus_pattern_match (rule->path, header->path))
        continue;
      for (char **m = rule->methods; *m != NULL; m++)
        if (sc_dbus_pattern_match (*m, header->member))
          return TRUE;
    }
  return FALSE;
}

ScDbusVerdict
sc_dbus_classify (const ScDbusRules *rules, ScDbusOrigin origin, const ScDbusHeader *header,
                  const char *first_arg, gboolean reply_expected)
{
  switch (header->type)
    {
    case SC_DBUS_METHOD_RETURN:
    case SC_DBUS_ERROR:
      return reply_expected ? verdict (SC_DBUS_PASS, "reply to a call that was passed")
                            : verdict (SC_DBUS_DENY, "reply to no call that was passed");
    case SC_DBUS_METHOD_CALL:
    case SC_DBUS_SIGNAL:
      break;
    default:
      return verdict (SC_DBUS_DENY, "unknown message type");
    }

  if (origin == SC_DBUS_FROM_BUS)
    {
      /* only the bus itself can send with its name as the sender (it sets every sender) */
      if (g_strcmp0 (header->sender, SC_DBUS_BUS_NAME) == 0)
        return verdict (SC_DBUS_PASS, "from the bus itself");
      return rules_match (rules, SC_DBUS_DIR_INCOMING, header)
                 ? verdict (SC_DBUS_PASS, "an incoming rule matches")
                 : verdict (SC_DBUS_DENY, "no incoming rule matches");
    }

  if (is_bus_call (header))
    {
      /* the bus's own interface is always there, whatever interface field the call has (the
       * bus accepts BecomeMonitor without one): refuse by member */
      if (strcmp (header->member, "BecomeMonitor") == 0)
        return verdict (SC_DBUS_DENY, "monitoring the bus is not allowed");
      if (strcmp (header->member, "UpdateActivationEnvironment") == 0)
        return verdict (SC_DBUS_DENY, "changing the activation environment is not allowed");
      if (strcmp (header->member, "AddMatch") == 0)
        {
          /* no attempt to parse match rules the way the bus does: a rule that mentions
           * eavesdropping at all is refused */
          if (first_arg == NULL || strstr (first_arg, "eavesdrop") != NULL)
            return verdict (SC_DBUS_DENY, "eavesdropping match rules are not allowed");
          return verdict (SC_DBUS_PASS, "the bus interface");
        }
      if (strcmp (header->member, "RequestName") == 0)
        {
          if (first_arg == NULL || strcmp (first_arg, SC_DBUS_AGENT_NAME) == 0)
            return verdict (SC_DBUS_DENY, "owning the agent's name is not allowed");
          return verdict (SC_DBUS_PASS, "the bus interface");
        }
      return verdict (SC_DBUS_PASS, "the bus interface");
    }

  /* the agent serves on the system bus as root, and the bus sees the proxy's uid (root) for
   * every container connection: no rule, not even "*", lets a container drive the agent */
  if (g_strcmp0 (header->destination, SC_DBUS_AGENT_NAME) == 0
      || g_strcmp0 (header->interface, SC_DBUS_AGENT_INTERFACE) == 0)
    return verdict (SC_DBUS_DENY, "the agent is not reachable from a container");
  return rules_match (rules, SC_DBUS_DIR_OUTGOING, header)
             ? verdict (SC_DBUS_PASS, "an outgoing rule matches")
             : verdict (SC_DBUS_DENY, "no outgoing rule matches");
}

/* ---- authentication lines ----------------------------------------------------------------- */

/* Printable ASCII, words separated by single spaces, no space at either end. */
static gboolean
line_is_clean (const char *line, gsize len)
{
  if (len == 0 || len > SC_DBUS_AUTH_MAX_LINE || line[0] == ' ' || line[len - 1] == ' ')
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      if (line[i] < 0x20 || line[i] > 0x7e)
        return FALSE;
      if (line[i] == ' ' && i + 1 < len && line[i + 1] == ' ')
        return FALSE;
    }
  return TRUE;
}

static gboolean
is_hex (const char *s)
{
  if (*s == '\0')
    return FALSE;
  for (; *s != '\0'; s++)
    if (!g_ascii_isxdigit (*s))
      return FALSE;
  return TRUE;
}

/* An EXTERNAL identity: the decimal uid, hex-encoded. Is it `uid`? */
static gboolean
external_identity_is (const char *hex, uid_t uid)
{
  g_autofree char *decimal = g_strdup_printf ("%u", (unsigned)uid);
  gsize n = strlen (hex);

  if (n != 2 * strlen (decimal) || !is_hex (hex))
    return FALSE;
  for (gsize i = 0; i < n / 2; i++)
    {
      int byte = g_ascii_xdigit_value (hex[2 * i]) * 16 + g_ascii_xdigit_value (hex[2 * i + 1]);
      if (byte != decimal[i])
        return FALSE;
    }
  return TRUE;
}

static char *
external_identity (uid_t uid)
{
  g_autofree char *decimal = g_strdup_printf ("%u", (unsigned)uid);
  GString *hex = g_string_new (NULL);

  for (const char *c = decimal; *c != '\0'; c++)
    g_string_append_printf (hex, "%02x", (unsigned)*c);
  return g_string_free (hex, FALSE);
}

char *
sc_dbus_auth_filter_client_line (const char *line, gsize len, uid_t client_uid, uid_t proxy_uid,
                                 ScDbusAuthCommand *command)
{
  g_autofree char *copy = NULL;
  g_auto (GStrv) words = NULL;
  guint n;

  *command = SC_DBUS_AUTH_INVALID;
  if (!line_is_clean (line, len))
    return NULL;
  copy = g_strndup (line, len);
  words = g_strsplit (copy, " ", -1);
  n = g_strv_length (words);

  if (strcmp (words[0], "AUTH") == 0)
    {
      g_autofree char *identity = NULL;

      if (n == 1)
        {
          *command = SC_DBUS_AUTH_AUTH;
          return g_strdup ("AUTH");
        }
      if (strcmp (words[1], "EXTERNAL") != 0 || n > 3)
        return NULL;
      *command = SC_DBUS_AUTH_AUTH;
      if (n == 2)
        return g_strdup ("AUTH EXTERNAL");
      if (!external_identity_is (words[2], client_uid))
        {
          *command = SC_DBUS_AUTH_INVALID;
          return NULL;
        }
      identity = external_identity (proxy_uid);
      return g_strconcat ("AUTH EXTERNAL ", identity, NULL);
    }
  if (strcmp (words[0], "DATA") == 0)
    {
      g_autofree char *identity = NULL;

      /* EXTERNAL is the only mechanism let through, so DATA is its identity, if any */
      if (n > 2 || (n == 2 && !external_identity_is (words[1], client_uid)))
        return NULL;
      *command = SC_DBUS_AUTH_DATA;
      if (n == 1)
        return g_strdup ("DATA");
      identity = external_identity (proxy_uid);
      return g_strconcat ("DATA ", identity, NULL);
    }
  if (strcmp (words[0], "ERROR") == 0)
    {
      *command = SC_DBUS_AUTH_ERROR;
      return g_steal_pointer (&copy);
    }
  if (n != 1)
    return NULL;
  if (strcmp (words[0], "BEGIN") == 0)
    *command = SC_DBUS_AUTH_BEGIN;
  else if (strcmp (words[0], "CANCEL") == 0)
    *command = SC_DBUS_AUTH_CANCEL;
  else if (strcmp (words[0], "NEGOTIATE_UNIX_FD") == 0)
    *command = SC_DBUS_AUTH_NEGOTIATE_UNIX_FD;
  else
    return NULL;
  return g_steal_pointer (&copy);
}

ScDbusAuthCommand
sc_dbus_auth_check_bus_line (const char *line, gsize len)
{
  g_autofree char *copy = NULL;
  g_auto (GStrv) words = NULL;
  guint n;

  if (!line_is_clean (line, len))
    return SC_DBUS_AUTH_INVALID;
  copy = g_strndup (line, len);
  words = g_strsplit (copy, " ", -1);
  n = g_strv_length (words);

  if (strcmp (words[0], "OK") == 0)
    return n == 2 && strlen (words[1]) == 32 && is_hex (words[1]) ? SC_DBUS_AUTH_OK
                                                                  : SC_DBUS_AUTH_INVALID;
  if (strcmp (words[0], "REJECTED") == 0)
    {
      for (guint i = 1; i < n; i++)
        for (const char *c = words[i]; *c != '\0'; c++)
          if (!g_ascii_isupper (*c) && !g_ascii_isdigit (*c) && *c != '_' && *c != '-')
            return SC_DBUS_AUTH_INVALID;
      return SC_DBUS_AUTH_REJECTED;
    }
  if (strcmp (words[0], "DATA") == 0)
    return n == 1 || (n == 2 && is_hex (words[1])) ? SC_DBUS_AUTH_DATA : SC_DBUS_AUTH_INVALID;
  if (strcmp (words[0], "ERROR") == 0)
    return SC_DBUS_AUTH_ERROR;
  if (strcmp (words[0], "AGREE_UNIX_FD") == 0)
    return n == 1 ? SC_DBUS_AUTH_AGREE_UNIX_FD : SC_DBUS_AUTH_INVALID;
  return SC_DBUS_AUTH_INVALID;
}
