/* Unit tests of the D-Bus proxy's pure parts (gateways/dbus-proxy/dbus-filter.c): the
 * classification function over a table of cases, the header parser on valid, truncated and
 * malformed input, the first-argument reader, the rule parser and the authentication lines. */
#include <check.h>
#include <gio/gio.h>
#include <string.h>

#ifndef SC_ENABLE_DBUS_GATEWAY
int
main (void)
{
  return 77; /* the dbus gateway is not in this build */
}
#else

#include "dbus-filter.h"

/* ---- helpers ------------------------------------------------------------------------------ */

static ScDbusRules *
rules_from (const char *json)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) node = json_from_string (json, &error);
  ScDbusRules *rules = sc_dbus_rules_new ();

  ck_assert_msg (node != NULL, "bad test JSON: %s", json);
  ck_assert_msg (sc_dbus_rules_add_json (rules, node, "test", &error), "rules %s: %s", json,
                 error ? error->message : "");
  return rules;
}

/* A message blob made by GDBus, so that what the parser gets is what clients send. */
static GBytes *
gdbus_blob (GDBusMessageType type, const char *destination, const char *path, const char *interface,
            const char *member, GVariant *body)
{
  g_autoptr (GDBusMessage) m = g_dbus_message_new ();
  g_autoptr (GError) error = NULL;
  guchar *blob;
  gsize size = 0;

  g_dbus_message_set_message_type (m, type);
  g_dbus_message_set_serial (m, 7);
  if (destination)
    g_dbus_message_set_destination (m, destination);
  if (path)
    g_dbus_message_set_path (m, path);
  if (interface)
    g_dbus_message_set_interface (m, interface);
  if (member)
    g_dbus_message_set_member (m, member);
  if (type == G_DBUS_MESSAGE_TYPE_METHOD_RETURN || type == G_DBUS_MESSAGE_TYPE_ERROR)
    g_dbus_message_set_reply_serial (m, 3);
  if (type == G_DBUS_MESSAGE_TYPE_ERROR)
    g_dbus_message_set_error_name (m, "org.example.Error.Failed");
  if (body)
    g_dbus_message_set_body (m, body);
  blob = g_dbus_message_to_blob (m, &size, G_DBUS_CAPABILITY_FLAGS_NONE, &error);
  ck_assert_msg (blob != NULL, "%s", error ? error->message : "");
  return g_bytes_new_take (blob, size);
}

/* A little-endian message written byte by byte, to make the malformed ones. */
typedef struct
{
  GByteArray *b;
} Raw;

static void
raw_u8 (Raw *r, guint8 v)
{
  g_byte_array_append (r->b, &v, 1);
}

static void
raw_u32 (Raw *r, guint32 v)
{
  guint32 le = GUINT32_TO_LE (v);
  g_byte_array_append (r->b, (guint8 *)&le, 4);
}

static void
raw_align (Raw *r, guint n)
{
  while (r->b->len % n != 0)
    raw_u8 (r, 0);
}

static Raw
raw_begin (guint8 type, guint8 flags, guint32 serial, guint32 body_len)
{
  Raw r = { g_byte_array_new () };

  raw_u8 (&r, 'l');
  raw_u8 (&r, type);
  raw_u8 (&r, flags);
  raw_u8 (&r, 1);
  raw_u32 (&r, body_len);
  raw_u32 (&r, serial);
  raw_u32 (&r, 0); /* fields length, set by raw_end */
  return r;
}

static void
raw_field_string (Raw *r, guint8 code, char type, const char *value, gsize len)
{
  raw_align (r, 8);
  raw_u8 (r, code);
  raw_u8 (r, 1);
  raw_u8 (r, (guint8)type);
  raw_u8 (r, 0);
  if (type == 'g')
    raw_u8 (r, (guint8)len);
  else
    {
      raw_align (r, 4);
      raw_u32 (r, (guint32)len);
    }
  g_byte_array_append (r->b, (const guint8 *)value, len);
  raw_u8 (r, 0);
}

static void
raw_field_u32 (Raw *r, guint8 code, guint32 v)
{
  raw_align (r, 8);
  raw_u8 (r, code);
  raw_u8 (r, 1);
  raw_u8 (r, 'u');
  raw_u8 (r, 0);
  raw_u32 (r, v);
}

#define RAW_S(r, code, type, s) raw_field_string (r, code, type, s, strlen (s))

/* Sets the field-array length and pads the header; appends body_len zero bytes. */
static GBytes *
raw_end (Raw *r, guint32 body_len)
{
  guint32 fields = GUINT32_TO_LE (r->b->len - 16);

  memcpy (r->b->data + 12, &fields, 4);
  raw_align (r, 8);
  for (guint32 i = 0; i < body_len; i++)
    raw_u8 (r, 0);
  return g_byte_array_free_to_bytes (r->b);
}

/* A valid call: /a, com.example.I, M, to com.example.D */
static Raw
raw_call (void)
{
  Raw r = raw_begin (1, 0, 5, 0);

  RAW_S (&r, 1, 'o', "/a");
  RAW_S (&r, 2, 's', "com.example.I");
  RAW_S (&r, 3, 's', "M");
  RAW_S (&r, 6, 's', "com.example.D");
  return r;
}

static gboolean
parses (GBytes *bytes, ScDbusHeader *header, GError **error)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  ScDbusHeader local;

  return sc_dbus_header_parse (data, len, header != NULL ? header : &local, error);
}

static void
assert_refused (GBytes *bytes, const char *fragment)
{
  g_autoptr (GError) error = NULL;

  ck_assert_msg (!parses (bytes, NULL, &error), "a malformed message (%s) was accepted", fragment);
  ck_assert_msg (strstr (error->message, fragment) != NULL, "'%s' not in '%s'", fragment,
                 error->message);
  g_bytes_unref (bytes);
}

/* ---- classification ----------------------------------------------------------------------- */

static const char *const rule_sets[] = {
  /* 0: none */
  "[]",
  /* 1: the shape of the temperature-service manifest, with a method list */
  "[{\"direction\": \"outgoing\", \"interface\": \"com.example.Svc\", \"object-path\": "
  "\"/com/example/Svc\", \"method\": [\"Get\", \"Set\"]},"
  " {\"direction\": \"incoming\", \"interface\": \"com.example.Svc\", \"object-path\": "
  "\"/com/example/Svc\", \"method\": \"Changed\"}]",
  /* 2: wildcards inside names */
  "[{\"direction\": \"outgoing\", \"interface\": \"com.example.*\", \"object-path\": "
  "\"/com/example/*\", \"method\": \"*\"}]",
  /* 3: everything, both ways */
  "[{\"direction\": \"*\", \"interface\": \"*\", \"object-path\": \"*\", \"method\": \"*\"}]",
  /* 4: deny-all as manifests write it */
  "[{\"direction\": \"*\", \"interface\": \"\", \"object-path\": \"\", \"method\": \"\"}]",
  /* 5: one rule for both directions */
  "[{\"direction\": \"*\", \"interface\": \"com.x\", \"object-path\": \"/x\", \"method\": "
  "\"Ping\"}]",
  /* 6: globs in a method list */
  "[{\"direction\": \"outgoing\", \"interface\": \"com.a\", \"object-path\": \"/a\", \"method\": "
  "[\"Get*\", \"Echo\"]}]",
};

enum
{
  OUT = SC_DBUS_FROM_CLIENT,
  IN = SC_DBUS_FROM_BUS
};
enum
{
  CALL = 1,
  RET = 2,
  ERR = 3,
  SIG = 4
};
enum
{
  PASS = SC_DBUS_PASS,
  DENY = SC_DBUS_DENY
};

typedef struct
{
  int rules;
  int origin;
  int type;
  const char *interface, *path, *member, *destination, *sender;
  const char *arg;
  gboolean reply_expected;
  int expected;
} Case;

#define BUS "org.freedesktop.DBus"
#define BUSPATH "/org/freedesktop/DBus"
#define SVC "com.example.Svc"
#define SVCPATH "/com/example/Svc"

/* clang-format off */
static const Case cases[] = {
  /* method lists, paths, interfaces */
  { 1, OUT, CALL, SVC, SVCPATH, "Get", ":1.2", NULL, NULL, 0, PASS },
  { 1, OUT, CALL, SVC, SVCPATH, "Set", "com.example.Name", NULL, NULL, 0, PASS },
  { 1, OUT, CALL, SVC, SVCPATH, "Other", ":1.2", NULL, NULL, 0, DENY },
  { 1, OUT, CALL, SVC, "/com/example/Other", "Get", ":1.2", NULL, NULL, 0, DENY },
  { 1, OUT, CALL, "com.example.Other", SVCPATH, "Get", ":1.2", NULL, NULL, 0, DENY },
  { 1, OUT, CALL, NULL, SVCPATH, "Get", ":1.2", NULL, NULL, 0, DENY },
  /* directions */
  { 1, OUT, SIG, SVC, SVCPATH, "Changed", NULL, NULL, NULL, 0, DENY },
  { 1, IN, SIG, SVC, SVCPATH, "Changed", NULL, ":1.5", NULL, 0, PASS },
  { 1, IN, SIG, SVC, SVCPATH, "Other", NULL, ":1.5", NULL, 0, DENY },
  { 1, IN, CALL, SVC, SVCPATH, "Get", ":1.9", ":1.5", NULL, 0, DENY },
  { 1, IN, SIG, SVC, SVCPATH, "Get", NULL, ":1.5", NULL, 0, DENY },
  /* no rules: only the bus */
  { 0, OUT, CALL, SVC, SVCPATH, "Get", ":1.2", NULL, NULL, 0, DENY },
  { 0, OUT, SIG, SVC, SVCPATH, "Changed", NULL, NULL, NULL, 0, DENY },
  { 0, OUT, CALL, BUS, BUSPATH, "ListNames", BUS, NULL, NULL, 0, PASS },
  { 0, OUT, CALL, BUS, BUSPATH, "Hello", BUS, NULL, NULL, 0, PASS },
  { 0, OUT, CALL, "org.freedesktop.DBus.Peer", "/", "Ping", BUS, NULL, NULL, 0, PASS },
  { 0, OUT, CALL, BUS, BUSPATH, "GetConnectionUnixUser", BUS, NULL, NULL, 0, PASS },
  { 0, IN, SIG, BUS, BUSPATH, "NameOwnerChanged", NULL, BUS, NULL, 0, PASS },
  { 0, IN, SIG, BUS, BUSPATH, "NameAcquired", ":1.4", BUS, NULL, 0, PASS },
  { 0, IN, SIG, SVC, SVCPATH, "Changed", NULL, ":1.9", NULL, 0, DENY },
  /* a peer that says it is the bus in the interface but is not: the sender decides */
  { 0, IN, SIG, BUS, BUSPATH, "NameOwnerChanged", NULL, ":1.9", NULL, 0, DENY },
  { 0, IN, CALL, BUS, BUSPATH, "BecomeMonitor", ":1.4", ":1.9", NULL, 0, DENY },
  /* wildcards inside names */
  { 2, OUT, CALL, "com.example.Foo", "/com/example/a/b", "Anything", ":1.2", NULL, NULL, 0, PASS },
  { 2, OUT, CALL, "com.exampleX.Foo", "/com/example/a", "Anything", ":1.2", NULL, NULL, 0, DENY },
  { 2, OUT, CALL, "com.example.Foo", "/com/example", "Anything", ":1.2", NULL, NULL, 0, DENY },
  { 2, OUT, CALL, NULL, "/com/example/a", "Anything", ":1.2", NULL, NULL, 0, DENY },
  { 2, IN, SIG, "com.example.Foo", "/com/example/a", "Anything", NULL, ":1.2", NULL, 0, DENY },
  /* everything */
  { 3, OUT, CALL, SVC, SVCPATH, "Anything", ":1.2", NULL, NULL, 0, PASS },
  { 3, IN, CALL, SVC, SVCPATH, "Anything", ":1.2", ":1.7", NULL, 0, PASS },
  { 3, OUT, CALL, NULL, SVCPATH, "NoInterface", ":1.2", NULL, NULL, 0, PASS },
  { 3, OUT, SIG, SVC, SVCPATH, "Changed", NULL, NULL, NULL, 0, PASS },
  /* empty strings match nothing */
  { 4, OUT, CALL, SVC, SVCPATH, "Get", ":1.2", NULL, NULL, 0, DENY },
  { 4, IN, SIG, SVC, SVCPATH, "Changed", NULL, ":1.2", NULL, 0, DENY },
  { 4, OUT, CALL, BUS, BUSPATH, "ListNames", BUS, NULL, NULL, 0, PASS },
  /* one rule for both directions */
  { 5, OUT, CALL, "com.x", "/x", "Ping", ":1.2", NULL, NULL, 0, PASS },
  { 5, IN, CALL, "com.x", "/x", "Ping", ":1.2", ":1.3", NULL, 0, PASS },
  { 5, IN, CALL, "com.x", "/x", "Pong", ":1.2", ":1.3", NULL, 0, DENY },
  /* globs in a method list */
  { 6, OUT, CALL, "com.a", "/a", "GetFoo", ":1.2", NULL, NULL, 0, PASS },
  { 6, OUT, CALL, "com.a", "/a", "Echo", ":1.2", NULL, NULL, 0, PASS },
  { 6, OUT, CALL, "com.a", "/a", "EchoX", ":1.2", NULL, NULL, 0, DENY },
  { 6, OUT, CALL, "com.a", "/a", "Ge", ":1.2", NULL, NULL, 0, DENY },
  /* replies and errors: only to calls that were passed */
  { 0, IN, RET, NULL, NULL, NULL, ":1.4", ":1.2", NULL, TRUE, PASS },
  { 0, IN, RET, NULL, NULL, NULL, ":1.4", ":1.2", NULL, FALSE, DENY },
  { 0, IN, ERR, NULL, NULL, NULL, ":1.4", ":1.2", NULL, TRUE, PASS },
  { 0, IN, ERR, NULL, NULL, NULL, ":1.4", ":1.2", NULL, FALSE, DENY },
  { 0, OUT, RET, NULL, NULL, NULL, ":1.2", NULL, NULL, TRUE, PASS },
  { 0, OUT, RET, NULL, NULL, NULL, ":1.2", NULL, NULL, FALSE, DENY },
  { 3, OUT, ERR, NULL, NULL, NULL, ":1.2", NULL, NULL, FALSE, DENY },
  { 3, IN, RET, NULL, NULL, NULL, ":1.4", BUS, NULL, FALSE, DENY },
  /* monitoring, whatever the interface or path, whatever the rules */
  { 3, OUT, CALL, "org.freedesktop.DBus.Monitoring", BUSPATH, "BecomeMonitor", BUS, NULL, NULL, 0, DENY },
  { 3, OUT, CALL, NULL, BUSPATH, "BecomeMonitor", BUS, NULL, NULL, 0, DENY },
  { 3, OUT, CALL, BUS, "/", "BecomeMonitor", BUS, NULL, NULL, 0, DENY },
  { 0, OUT, CALL, "org.freedesktop.DBus.Monitoring", "/x", "BecomeMonitor", BUS, NULL, NULL, 0, DENY },
  /* eavesdropping match rules */
  { 3, OUT, CALL, BUS, BUSPATH, "AddMatch", BUS, NULL, "type='signal',interface='com.x'", 0, PASS },
  { 0, OUT, CALL, BUS, BUSPATH, "AddMatch", BUS, NULL, "type='signal'", 0, PASS },
  { 3, OUT, CALL, BUS, BUSPATH, "AddMatch", BUS, NULL, "eavesdrop=true,type='method_call'", 0, DENY },
  { 3, OUT, CALL, BUS, BUSPATH, "AddMatch", BUS, NULL, "type='signal',eavesdrop='true'", 0, DENY },
  { 3, OUT, CALL, NULL, BUSPATH, "AddMatch", BUS, NULL, "eavesdrop='true'", 0, DENY },
  { 3, OUT, CALL, BUS, BUSPATH, "AddMatch", BUS, NULL, NULL, 0, DENY },
  /* the activation environment */
  { 3, OUT, CALL, BUS, BUSPATH, "UpdateActivationEnvironment", BUS, NULL, NULL, 0, DENY },
  { 3, OUT, CALL, NULL, "/", "UpdateActivationEnvironment", BUS, NULL, NULL, 0, DENY },
  /* the agent's name and the agent itself */
  { 3, OUT, CALL, BUS, BUSPATH, "RequestName", BUS, NULL, SC_DBUS_AGENT_NAME, 0, DENY },
  { 0, OUT, CALL, BUS, BUSPATH, "RequestName", BUS, NULL, SC_DBUS_AGENT_NAME, 0, DENY },
  { 3, OUT, CALL, BUS, BUSPATH, "RequestName", BUS, NULL, "com.example.Mine", 0, PASS },
  { 3, OUT, CALL, BUS, BUSPATH, "RequestName", BUS, NULL, NULL, 0, DENY },
  { 3, OUT, CALL, SC_DBUS_AGENT_INTERFACE, "/com/pelagicore/SoftwareContainerAgent", "Create",
    SC_DBUS_AGENT_NAME, NULL, NULL, 0, DENY },
  { 3, OUT, CALL, SC_DBUS_AGENT_INTERFACE, "/com/pelagicore/SoftwareContainerAgent", "Create",
    ":1.1", NULL, NULL, 0, DENY },
  { 3, OUT, CALL, "org.freedesktop.DBus.Introspectable", "/", "Introspect", SC_DBUS_AGENT_NAME,
    NULL, NULL, 0, DENY },
  /* a call without a destination is not a bus call: the rules decide */
  { 0, OUT, CALL, BUS, BUSPATH, "ListNames", NULL, NULL, NULL, 0, DENY },
};
/* clang-format on */

START_TEST (test_classify_table)
{
  const Case *k = &cases[_i];
  g_autoptr (ScDbusRules) rules = rules_from (rule_sets[k->rules]);
  ScDbusHeader header = { 0 };
  ScDbusVerdict v;

  header.type = (guint8)k->type;
  header.serial = 9;
  header.interface = k->interface;
  header.path = k->path;
  header.member = k->member;
  header.destination = k->destination;
  header.sender = k->sender;
  if (k->type == RET || k->type == ERR)
    {
      header.has_reply_serial = TRUE;
      header.reply_serial = 4;
    }
  if (k->arg != NULL)
    header.signature = "s";
  ck_assert_int_eq (
      sc_dbus_needs_first_arg (k->origin, &header),
      k->origin == OUT && k->type == CALL && g_strcmp0 (k->destination, BUS) == 0
          && (g_strcmp0 (k->member, "AddMatch") == 0 || g_strcmp0 (k->member, "RequestName") == 0));
  v = sc_dbus_classify (rules, k->origin, &header, k->arg, k->reply_expected);
  ck_assert_msg ((int)v.kind == k->expected,
                 "case %d (rules %d, %s type %d %s.%s on %s to %s from %s, arg %s): got %s (%s)",
                 _i, k->rules, k->origin == OUT ? "outgoing" : "incoming", k->type,
                 k->interface ? k->interface : "-", k->member ? k->member : "-",
                 k->path ? k->path : "-", k->destination ? k->destination : "-",
                 k->sender ? k->sender : "-", k->arg ? k->arg : "-",
                 v.kind == SC_DBUS_PASS ? "pass" : "deny", v.reason);
  ck_assert_ptr_nonnull (v.reason);
}
END_TEST

START_TEST (test_classify_rules_update)
{
  /* the same message, decided again against a rule set that grew */
  g_autoptr (ScDbusRules) rules = rules_from (rule_sets[4]);
  ScDbusHeader header = { .type = CALL,
                          .serial = 2,
                          .interface = SVC,
                          .path = SVCPATH,
                          .member = "Get",
                          .destination = ":1.3" };
  g_autoptr (JsonNode) more
      = json_from_string ("[{\"direction\": \"outgoing\", \"interface\": \"" SVC
                          "\", \"object-path\": \"" SVCPATH "\", \"method\": \"Get\"}]",
                          NULL);

  ck_assert_int_eq (sc_dbus_classify (rules, SC_DBUS_FROM_CLIENT, &header, NULL, FALSE).kind,
                    SC_DBUS_DENY);
  ck_assert (sc_dbus_rules_add_json (rules, more, "more", NULL));
  ck_assert_int_eq (sc_dbus_classify (rules, SC_DBUS_FROM_CLIENT, &header, NULL, FALSE).kind,
                    SC_DBUS_PASS);
}
END_TEST

START_TEST (test_pattern)
{
  ck_assert (sc_dbus_pattern_match ("*", "anything"));
  ck_assert (sc_dbus_pattern_match ("*", ""));
  ck_assert (sc_dbus_pattern_match ("*", NULL));
  ck_assert (!sc_dbus_pattern_match ("", ""));
  ck_assert (!sc_dbus_pattern_match ("", NULL));
  ck_assert (!sc_dbus_pattern_match ("", "x"));
  ck_assert (!sc_dbus_pattern_match (NULL, "x"));
  ck_assert (sc_dbus_pattern_match ("abc", "abc"));
  ck_assert (!sc_dbus_pattern_match ("abc", "abcd"));
  ck_assert (!sc_dbus_pattern_match ("abc", "ab"));
  ck_assert (!sc_dbus_pattern_match ("abc", NULL));
  ck_assert (sc_dbus_pattern_match ("a*", "a"));
  ck_assert (sc_dbus_pattern_match ("a*c", "abbbc"));
  ck_assert (sc_dbus_pattern_match ("a*c", "ac"));
  ck_assert (!sc_dbus_pattern_match ("a*c", "acb"));
  ck_assert (sc_dbus_pattern_match ("*b*", "abc"));
  ck_assert (sc_dbus_pattern_match ("a**b", "aXb"));
  ck_assert (sc_dbus_pattern_match ("*.Get*", "com.x.GetFoo"));
  ck_assert (sc_dbus_pattern_match ("a*b*c", "aXbYbZc"));
  ck_assert (!sc_dbus_pattern_match ("a*b*c", "aXbYbZ"));
  ck_assert (!sc_dbus_pattern_match ("?", "x")); /* '?' is no wildcard */
  ck_assert (sc_dbus_pattern_match ("?", "?"));
}
END_TEST

/* ---- the header parser -------------------------------------------------------------------- */

START_TEST (test_parse_gdbus_call)
{
  g_autoptr (GBytes) bytes
      = gdbus_blob (G_DBUS_MESSAGE_TYPE_METHOD_CALL, "com.example.D", "/com/example/O",
                    "com.example.I", "Method", g_variant_new ("(si)", "first", 42));
  g_autoptr (GError) error = NULL;
  ScDbusHeader h;
  gsize len, header_len, total_len;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  ck_assert (sc_dbus_message_sizes (data, len, &header_len, &total_len, &error));
  ck_assert_uint_eq (total_len, len);
  ck_assert_msg (sc_dbus_header_parse (data, len, &h, &error), "%s", error ? error->message : "");
  ck_assert_uint_eq (h.type, SC_DBUS_METHOD_CALL);
  ck_assert_uint_eq (h.serial, 7);
  ck_assert_uint_eq (h.header_len, header_len);
  ck_assert_uint_eq (h.total_len, len);
  ck_assert_str_eq (h.destination, "com.example.D");
  ck_assert_str_eq (h.path, "/com/example/O");
  ck_assert_str_eq (h.interface, "com.example.I");
  ck_assert_str_eq (h.member, "Method");
  ck_assert_str_eq (h.signature, "si");
  ck_assert_ptr_null (h.sender);
  ck_assert (!h.has_reply_serial);
  ck_assert_str_eq (sc_dbus_body_first_string (&h, data + h.header_len, h.body_len), "first");
}
END_TEST

START_TEST (test_parse_gdbus_other_types)
{
  g_autoptr (GBytes) ret
      = gdbus_blob (G_DBUS_MESSAGE_TYPE_METHOD_RETURN, ":1.4", NULL, NULL, NULL, NULL);
  g_autoptr (GBytes) err = gdbus_blob (G_DBUS_MESSAGE_TYPE_ERROR, ":1.4", NULL, NULL, NULL,
                                       g_variant_new ("(s)", "text"));
  g_autoptr (GBytes) sig = gdbus_blob (G_DBUS_MESSAGE_TYPE_SIGNAL, NULL, "/s", "com.example.I",
                                       "Changed", g_variant_new ("(d)", 1.5));
  ScDbusHeader h;

  ck_assert (parses (ret, &h, NULL));
  ck_assert_uint_eq (h.type, SC_DBUS_METHOD_RETURN);
  ck_assert (h.has_reply_serial);
  ck_assert_uint_eq (h.reply_serial, 3);
  ck_assert (parses (err, &h, NULL));
  ck_assert_uint_eq (h.type, SC_DBUS_ERROR);
  ck_assert_str_eq (h.error_name, "org.example.Error.Failed");
  ck_assert (parses (sig, &h, NULL));
  ck_assert_uint_eq (h.type, SC_DBUS_SIGNAL);
  ck_assert_str_eq (h.member, "Changed");
  /* a double is no string */
  ck_assert_ptr_null (sc_dbus_body_first_string (
      &h, (const guint8 *)g_bytes_get_data (sig, NULL) + h.header_len, h.body_len));
}
END_TEST

START_TEST (test_parse_big_endian)
{
  g_autoptr (GDBusMessage) m
      = g_dbus_message_new_method_call ("com.example.D", "/o", "com.example.I", "M");
  g_autoptr (GBytes) bytes = NULL;
  ScDbusHeader h;
  guchar *blob;
  gsize size;

  g_dbus_message_set_serial (m, 0x01020304);
  g_dbus_message_set_byte_order (m, G_DBUS_MESSAGE_BYTE_ORDER_BIG_ENDIAN);
  g_dbus_message_set_body (m, g_variant_new ("(s)", "big"));
  blob = g_dbus_message_to_blob (m, &size, G_DBUS_CAPABILITY_FLAGS_NONE, NULL);
  bytes = g_bytes_new_take (blob, size);
  ck_assert (parses (bytes, &h, NULL));
  ck_assert (h.big_endian);
  ck_assert_uint_eq (h.serial, 0x01020304);
  ck_assert_str_eq (sc_dbus_body_first_string (&h, blob + h.header_len, h.body_len), "big");
}
END_TEST

START_TEST (test_parse_truncated)
{
  g_autoptr (GBytes) bytes
      = gdbus_blob (G_DBUS_MESSAGE_TYPE_METHOD_CALL, "com.example.D", "/com/example/O",
                    "com.example.I", "Method", g_variant_new ("(s)", "x"));
  gsize len, header_len, total_len;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  ck_assert (sc_dbus_message_sizes (data, len, &header_len, &total_len, NULL));
  /* every prefix shorter than the header is refused, each read inside the prefix only */
  for (gsize n = 0; n < header_len; n++)
    {
      g_autofree guint8 *copy = g_memdup2 (data, n);
      ScDbusHeader h;

      ck_assert_msg (!sc_dbus_header_parse (copy, n, &h, NULL), "a %zu-byte prefix parsed", n);
      if (n < SC_DBUS_FIXED_HEADER)
        ck_assert (!sc_dbus_message_sizes (copy, n, &header_len, &total_len, NULL));
    }
  /* the header alone is enough */
  {
    g_autofree guint8 *copy = g_memdup2 (data, header_len);
    ScDbusHeader h;

    ck_assert (sc_dbus_header_parse (copy, header_len, &h, NULL));
    /* and the first argument is not read past what is there */
    ck_assert_ptr_null (sc_dbus_body_first_string (&h, copy + header_len, 0));
    ck_assert_ptr_null (sc_dbus_body_first_string (&h, data + header_len, h.body_len - 1));
  }
}
END_TEST

START_TEST (test_parse_fixed_part)
{
  Raw r;
  GBytes *b;

  r = raw_call ();
  r.b->data[0] = 'x';
  assert_refused (raw_end (&r, 0), "byte order");
  r = raw_call ();
  r.b->data[1] = 0;
  assert_refused (raw_end (&r, 0), "message type");
  r = raw_call ();
  r.b->data[1] = 5;
  assert_refused (raw_end (&r, 0), "message type");
  r = raw_call ();
  r.b->data[3] = 2;
  assert_refused (raw_end (&r, 0), "version");
  r = raw_call ();
  r.b->data[2] = 0x08;
  assert_refused (raw_end (&r, 0), "flags");
  r = raw_call ();
  memset (r.b->data + 8, 0, 4);
  assert_refused (raw_end (&r, 0), "serial 0");
  /* sizes: fields over the limit, a body over the maximum message */
  r = raw_call ();
  b = raw_end (&r, 0);
  {
    gsize len;
    const guint8 *orig = g_bytes_get_data (b, &len);
    guint8 *data = g_memdup2 (orig, len);
    guint32 big = GUINT32_TO_LE (SC_DBUS_MAX_FIELDS + 1);
    guint32 huge = GUINT32_TO_LE (SC_DBUS_MAX_MESSAGE);
    gsize hl, tl;

    memcpy (data + 12, &big, 4);
    ck_assert (!sc_dbus_message_sizes (data, len, &hl, &tl, NULL));
    memcpy (data, g_bytes_get_data (b, NULL), len);
    memcpy (data + 4, &huge, 4);
    ck_assert (!sc_dbus_message_sizes (data, len, &hl, &tl, NULL));
    g_free (data);
  }
  g_bytes_unref (b);
}
END_TEST

START_TEST (test_parse_fields)
{
  Raw r;

  /* the valid base */
  r = raw_call ();
  {
    g_autoptr (GBytes) ok = raw_end (&r, 0);
    ck_assert (parses (ok, NULL, NULL));
  }
  /* unknown field codes */
  r = raw_call ();
  RAW_S (&r, 10, 's', "x");
  assert_refused (raw_end (&r, 0), "unknown header field");
  r = raw_call ();
  RAW_S (&r, 0, 's', "x");
  assert_refused (raw_end (&r, 0), "unknown header field");
  /* a field with the wrong type: PATH as a string, MEMBER as a path */
  r = raw_begin (1, 0, 5, 0);
  RAW_S (&r, 1, 's', "/a");
  RAW_S (&r, 3, 's', "M");
  assert_refused (raw_end (&r, 0), "wrong type");
  r = raw_begin (1, 0, 5, 0);
  RAW_S (&r, 1, 'o', "/a");
  RAW_S (&r, 3, 'o', "/M");
  assert_refused (raw_end (&r, 0), "wrong type");
  /* twice the same field */
  r = raw_call ();
  RAW_S (&r, 3, 's', "N");
  assert_refused (raw_end (&r, 0), "twice");
  /* a string with a NUL inside, one without its terminating NUL */
  r = raw_begin (1, 0, 5, 0);
  RAW_S (&r, 1, 'o', "/a");
  raw_field_string (&r, 3, 's', "M\0N", 3);
  assert_refused (raw_end (&r, 0), "bad string");
  r = raw_call ();
  r.b->data[r.b->len - 1] = 'x'; /* the destination's NUL */
  assert_refused (raw_end (&r, 0), "");
  /* non-zero padding between fields */
  r = raw_begin (1, 0, 5, 0);
  RAW_S (&r, 1, 'o', "/a");
  raw_u8 (&r, 1);
  RAW_S (&r, 3, 's', "M");
  assert_refused (raw_end (&r, 0), "padding");
  /* invalid names, paths, signatures */
  r = raw_begin (1, 0, 5, 0);
  RAW_S (&r, 1, 'o', "/a//b");
  RAW_S (&r, 3, 's', "M");
  assert_refused (raw_end (&r, 0), "object path");
  r = raw_call ();
  RAW_S (&r, 7, 's', "not a name");
  assert_refused (raw_end (&r, 0), "sender");
  r = raw_begin (1, 0, 5, 0);
  RAW_S (&r, 1, 'o', "/a");
  RAW_S (&r, 2, 's', "NoDots");
  RAW_S (&r, 3, 's', "M");
  assert_refused (raw_end (&r, 0), "interface");
  r = raw_begin (1, 0, 5, 0);
  RAW_S (&r, 1, 'o', "/a");
  RAW_S (&r, 3, 's', "Bad.Member");
  assert_refused (raw_end (&r, 0), "member");
  r = raw_call ();
  RAW_S (&r, 8, 'g', "s(");
  assert_refused (raw_end (&r, 0), "signature");
  r = raw_call ();
  RAW_S (&r, 8, 'g', "ms"); /* a GVariant maybe type, not D-Bus */
  assert_refused (raw_end (&r, 0), "signature");
  /* required fields */
  r = raw_begin (1, 0, 5, 0);
  RAW_S (&r, 1, 'o', "/a");
  assert_refused (raw_end (&r, 0), "without path or member");
  r = raw_begin (4, 0, 5, 0);
  RAW_S (&r, 1, 'o', "/a");
  RAW_S (&r, 3, 's', "M");
  assert_refused (raw_end (&r, 0), "signal without");
  r = raw_begin (3, 0, 5, 0);
  RAW_S (&r, 4, 's', "com.example.Error");
  assert_refused (raw_end (&r, 0), "error without");
  r = raw_begin (2, 0, 5, 0);
  RAW_S (&r, 6, 's', ":1.1");
  assert_refused (raw_end (&r, 0), "return without");
  r = raw_begin (2, 0, 5, 0);
  raw_field_u32 (&r, 5, 0);
  assert_refused (raw_end (&r, 0), "reply serial 0");
  /* a body without a signature */
  r = raw_begin (1, 0, 5, 8);
  RAW_S (&r, 1, 'o', "/a");
  RAW_S (&r, 3, 's', "M");
  assert_refused (raw_end (&r, 8), "without a signature");
  /* the reserved Local path */
  r = raw_begin (1, 0, 5, 0);
  RAW_S (&r, 1, 'o', "/org/freedesktop/DBus/Local");
  RAW_S (&r, 3, 's', "M");
  assert_refused (raw_end (&r, 0), "Local");
  /* too many fds */
  r = raw_call ();
  raw_field_u32 (&r, 9, SC_DBUS_MAX_FDS + 1);
  assert_refused (raw_end (&r, 0), "unix fds");
  /* a string length that runs past the field array */
  r = raw_begin (1, 0, 5, 0);
  RAW_S (&r, 1, 'o', "/a");
  RAW_S (&r, 3, 's', "M");
  {
    guint32 big = GUINT32_TO_LE (1000);
    memcpy (r.b->data + 16 + 4, &big, 4);
  }
  assert_refused (raw_end (&r, 0), "");
  /* non-zero padding after the field array */
  r = raw_begin (1, 0, 5, 0);
  RAW_S (&r, 1, 'o', "/a");
  RAW_S (&r, 3, 's', "M");
  {
    GBytes *b = raw_end (&r, 0);
    gsize len;
    const guint8 *orig = g_bytes_get_data (b, &len);
    guint8 *data = g_memdup2 (orig, len);

    ck_assert_uint_eq (len % 8, 0);
    /* "M\0" ends at an odd offset: the byte after it is padding */
    data[len - 1] = 0xff;
    g_bytes_unref (b);
    assert_refused (g_bytes_new_take (data, len), "padding");
  }
}
END_TEST

START_TEST (test_first_string)
{
  ScDbusHeader h = { .signature = "su", .body_len = 16 };
  guint8 body[16] = { 3, 0, 0, 0, 'a', 'b', 'c', 0, 1, 0, 0, 0 };

  ck_assert_str_eq (sc_dbus_body_first_string (&h, body, 16), "abc");
  ck_assert_ptr_null (sc_dbus_body_first_string (&h, body, 7)); /* NUL not there */
  ck_assert_ptr_null (sc_dbus_body_first_string (&h, body, 3));
  body[7] = 'x';
  ck_assert_ptr_null (sc_dbus_body_first_string (&h, body, 16));
  body[7] = 0;
  body[5] = 0;
  ck_assert_ptr_null (sc_dbus_body_first_string (&h, body, 16)); /* inner NUL */
  body[5] = 'b';
  body[0] = 200; /* runs past the body */
  ck_assert_ptr_null (sc_dbus_body_first_string (&h, body, 16));
  body[0] = 3;
  body[4] = 0xff; /* not UTF-8 */
  ck_assert_ptr_null (sc_dbus_body_first_string (&h, body, 16));
  body[4] = 'a';
  h.signature = "us";
  ck_assert_ptr_null (sc_dbus_body_first_string (&h, body, 16));
  h.signature = NULL;
  ck_assert_ptr_null (sc_dbus_body_first_string (&h, body, 16));
}
END_TEST

/* Random corruption of valid messages must never crash or read out of bounds (the fuzz target
 * does this at scale; this is the quick version every build runs). */
START_TEST (test_parse_mutations)
{
  g_autoptr (GBytes) bytes
      = gdbus_blob (G_DBUS_MESSAGE_TYPE_METHOD_CALL, "com.example.D", "/com/example/O",
                    "com.example.I", "Method", g_variant_new ("(sh)", "first", 0));
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  g_autoptr (GRand) rand = g_rand_new_with_seed (42);

  for (int i = 0; i < 20000; i++)
    {
      g_autofree guint8 *copy = g_memdup2 (data, len);
      gsize n = g_rand_int_range (rand, 0, (gint32)len + 1);
      ScDbusHeader h;

      for (int k = 0; k < 1 + i % 4; k++)
        copy[g_rand_int_range (rand, 0, (gint32)len)] = (guint8)g_rand_int (rand);
      if (sc_dbus_header_parse (copy, n, &h, NULL))
        {
          ck_assert_uint_le (h.header_len, n);
          if (h.path)
            ck_assert ((const guint8 *)h.path > copy && (const guint8 *)h.path < copy + n);
          (void)sc_dbus_body_first_string (&h, copy + h.header_len,
                                           MIN (n - h.header_len, h.body_len));
        }
    }
}
END_TEST

/* ---- rules -------------------------------------------------------------------------------- */

static void
assert_rule_refused (const char *json, const char *fragment)
{
  g_autoptr (JsonNode) node = json_from_string (json, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (ScDbusRule) rule = NULL;

  ck_assert_ptr_nonnull (node);
  rule = sc_dbus_rule_from_json (node, "here", &error);
  ck_assert_msg (rule == NULL, "rule accepted: %s", json);
  ck_assert_msg (strstr (error->message, fragment) != NULL
                     && g_str_has_prefix (error->message, "here: "),
                 "'%s' not in '%s'", fragment, error->message);
}

START_TEST (test_rule_parse)
{
  g_autoptr (JsonNode) node = json_from_string (
      "{\"direction\": \"Incoming\", \"interface\": \"\", \"object-path\": \"*\", \"method\": "
      "[\"A\", \"B\"]}",
      NULL);
  g_autoptr (ScDbusRule) rule = sc_dbus_rule_from_json (node, "here", NULL);

  ck_assert_ptr_nonnull (rule);
  ck_assert_int_eq (rule->direction, SC_DBUS_DIR_INCOMING);
  ck_assert_str_eq (rule->interface, "");
  ck_assert_str_eq (rule->path, "*");
  ck_assert_uint_eq (g_strv_length (rule->methods), 2);

  assert_rule_refused ("[]", "must be an object");
  assert_rule_refused ("{\"interface\": \"*\", \"object-path\": \"*\", \"method\": \"*\"}",
                       "'direction' is missing");
  assert_rule_refused ("{\"direction\": \"*\", \"object-path\": \"*\", \"method\": \"*\"}",
                       "'interface' is missing");
  assert_rule_refused ("{\"direction\": \"*\", \"interface\": \"*\", \"method\": \"*\"}",
                       "'object-path' is missing");
  assert_rule_refused ("{\"direction\": \"*\", \"interface\": \"*\", \"object-path\": \"*\"}",
                       "'method' is missing");
  assert_rule_refused ("{\"direction\": \"*\", \"interface\": \"*\", \"object-path\": \"*\", "
                       "\"method\": \"*\", \"methods\": \"x\"}",
                       "unknown key 'methods'");
  assert_rule_refused ("{\"direction\": \"both\", \"interface\": \"*\", \"object-path\": \"*\", "
                       "\"method\": \"*\"}",
                       "'direction' must be");
  assert_rule_refused ("{\"direction\": \"*\", \"interface\": 1, \"object-path\": \"*\", "
                       "\"method\": \"*\"}",
                       "'interface' must be a string, not a number");
  assert_rule_refused ("{\"direction\": \"*\", \"interface\": \"*\", \"object-path\": null, "
                       "\"method\": \"*\"}",
                       "'object-path' must be a string, not null");
  assert_rule_refused ("{\"direction\": \"*\", \"interface\": \"*\", \"object-path\": \"*\", "
                       "\"method\": []}",
                       "empty list");
  assert_rule_refused ("{\"direction\": \"*\", \"interface\": \"*\", \"object-path\": \"*\", "
                       "\"method\": [\"a\", true]}",
                       "element 1 must be a string");
  assert_rule_refused ("{\"direction\": \"*\", \"interface\": \"*\", \"object-path\": \"*\", "
                       "\"method\": {}}",
                       "string or a list");
}
END_TEST

START_TEST (test_rules_all_or_nothing)
{
  g_autoptr (ScDbusRules) rules = rules_from (rule_sets[1]);
  g_autoptr (JsonNode) bad = json_from_string (
      "[{\"direction\": \"*\", \"interface\": \"*\", \"object-path\": \"*\", \"method\": \"*\"},"
      " {\"direction\": \"up\", \"interface\": \"*\", \"object-path\": \"*\", \"method\": \"*\"}]",
      NULL);
  g_autoptr (JsonNode) object = json_from_string ("{}", NULL);
  g_autoptr (GError) error = NULL;

  ck_assert (!sc_dbus_rules_add_json (rules, bad, "list", &error));
  ck_assert_msg (strstr (error->message, "list rule 1") != NULL, "%s", error->message);
  ck_assert_uint_eq (rules->rules->len, 2);
  g_clear_error (&error);
  ck_assert (!sc_dbus_rules_add_json (rules, object, "list", &error));
  ck_assert_uint_eq (rules->rules->len, 2);
}
END_TEST

/* ---- authentication lines ---------------------------------------------------------------- */

static void
assert_client_line (const char *line, uid_t client, uid_t proxy, const char *expected,
                    ScDbusAuthCommand expected_command)
{
  ScDbusAuthCommand command;
  g_autofree char *out
      = sc_dbus_auth_filter_client_line (line, strlen (line), client, proxy, &command);

  if (expected == NULL)
    {
      ck_assert_msg (out == NULL, "'%s' was accepted as '%s'", line, out);
      return;
    }
  ck_assert_msg (out != NULL, "'%s' was refused", line);
  ck_assert_str_eq (out, expected);
  ck_assert_int_eq (command, expected_command);
}

START_TEST (test_auth_client_lines)
{
  g_autofree char *too_long = g_strnfill (SC_DBUS_AUTH_MAX_LINE + 1, 'A');
  ScDbusAuthCommand command;

  assert_client_line ("AUTH", 0, 0, "AUTH", SC_DBUS_AUTH_AUTH);
  assert_client_line ("AUTH EXTERNAL", 0, 0, "AUTH EXTERNAL", SC_DBUS_AUTH_AUTH);
  assert_client_line ("AUTH EXTERNAL 30", 0, 0, "AUTH EXTERNAL 30", SC_DBUS_AUTH_AUTH);
  /* an app uid that is not the proxy's: the bus sees the proxy, so it gets the proxy's */
  assert_client_line ("AUTH EXTERNAL 31303030", 1000, 0, "AUTH EXTERNAL 30", SC_DBUS_AUTH_AUTH);
  assert_client_line ("AUTH EXTERNAL 30", 0, 1000, "AUTH EXTERNAL 31303030", SC_DBUS_AUTH_AUTH);
  /* an identity that is not the client's own */
  assert_client_line ("AUTH EXTERNAL 31", 0, 0, NULL, 0);
  assert_client_line ("AUTH EXTERNAL 3030", 0, 0, NULL, 0);
  assert_client_line ("AUTH EXTERNAL 3", 0, 0, NULL, 0);
  assert_client_line ("AUTH EXTERNAL zz", 0, 0, NULL, 0);
  /* other mechanisms */
  assert_client_line ("AUTH ANONYMOUS", 0, 0, NULL, 0);
  assert_client_line ("AUTH DBUS_COOKIE_SHA1 30", 0, 0, NULL, 0);
  assert_client_line ("AUTH external 30", 0, 0, NULL, 0);
  assert_client_line ("AUTH EXTERNAL 30 extra", 0, 0, NULL, 0);
  /* whitespace tricks */
  assert_client_line ("AUTH  EXTERNAL", 0, 0, NULL, 0);
  assert_client_line (" AUTH", 0, 0, NULL, 0);
  assert_client_line ("AUTH ", 0, 0, NULL, 0);
  assert_client_line ("AUTH\tEXTERNAL", 0, 0, NULL, 0);
  assert_client_line ("BEGIN\r", 0, 0, NULL, 0);
  assert_client_line ("", 0, 0, NULL, 0);
  /* a NUL inside the line */
  ck_assert_ptr_null (sc_dbus_auth_filter_client_line ("AUTH\0EXTERNAL", 13, 0, 0, &command));
  ck_assert_ptr_null (
      sc_dbus_auth_filter_client_line (too_long, strlen (too_long), 0, 0, &command));
  /* the other commands */
  assert_client_line ("BEGIN", 0, 0, "BEGIN", SC_DBUS_AUTH_BEGIN);
  assert_client_line ("BEGIN now", 0, 0, NULL, 0);
  assert_client_line ("begin", 0, 0, NULL, 0);
  assert_client_line ("CANCEL", 0, 0, "CANCEL", SC_DBUS_AUTH_CANCEL);
  assert_client_line ("NEGOTIATE_UNIX_FD", 0, 0, "NEGOTIATE_UNIX_FD",
                      SC_DBUS_AUTH_NEGOTIATE_UNIX_FD);
  assert_client_line ("DATA", 0, 0, "DATA", SC_DBUS_AUTH_DATA);
  assert_client_line ("DATA 30", 0, 0, "DATA 30", SC_DBUS_AUTH_DATA);
  assert_client_line ("DATA 31", 0, 0, NULL, 0);
  assert_client_line ("ERROR something went wrong", 0, 0, "ERROR something went wrong",
                      SC_DBUS_AUTH_ERROR);
  assert_client_line ("STARTTLS", 0, 0, NULL, 0);
  assert_client_line ("OK 0123456789abcdef0123456789abcdef", 0, 0, NULL, 0);
}
END_TEST

START_TEST (test_auth_bus_lines)
{
  ck_assert_int_eq (sc_dbus_auth_check_bus_line ("OK 0123456789abcdef0123456789abcdef", 35),
                    SC_DBUS_AUTH_OK);
  ck_assert_int_eq (sc_dbus_auth_check_bus_line ("OK", 2), SC_DBUS_AUTH_INVALID);
  ck_assert_int_eq (sc_dbus_auth_check_bus_line ("OK 0123", 7), SC_DBUS_AUTH_INVALID);
  ck_assert_int_eq (sc_dbus_auth_check_bus_line ("REJECTED EXTERNAL DBUS_COOKIE_SHA1", 34),
                    SC_DBUS_AUTH_REJECTED);
  ck_assert_int_eq (sc_dbus_auth_check_bus_line ("REJECTED", 8), SC_DBUS_AUTH_REJECTED);
  ck_assert_int_eq (sc_dbus_auth_check_bus_line ("REJECTED ext", 12), SC_DBUS_AUTH_INVALID);
  ck_assert_int_eq (sc_dbus_auth_check_bus_line ("DATA", 4), SC_DBUS_AUTH_DATA);
  ck_assert_int_eq (sc_dbus_auth_check_bus_line ("DATA 3031", 9), SC_DBUS_AUTH_DATA);
  ck_assert_int_eq (sc_dbus_auth_check_bus_line ("DATA xyz", 8), SC_DBUS_AUTH_INVALID);
  ck_assert_int_eq (sc_dbus_auth_check_bus_line ("AGREE_UNIX_FD", 13), SC_DBUS_AUTH_AGREE_UNIX_FD);
  ck_assert_int_eq (sc_dbus_auth_check_bus_line ("AGREE_UNIX_FD x", 15), SC_DBUS_AUTH_INVALID);
  ck_assert_int_eq (sc_dbus_auth_check_bus_line ("ERROR \"no\"", 10), SC_DBUS_AUTH_ERROR);
  ck_assert_int_eq (sc_dbus_auth_check_bus_line ("BEGIN", 5), SC_DBUS_AUTH_INVALID);
  ck_assert_int_eq (sc_dbus_auth_check_bus_line ("OK\0", 3), SC_DBUS_AUTH_INVALID);
  ck_assert_int_eq (sc_dbus_auth_check_bus_line ("", 0), SC_DBUS_AUTH_INVALID);
}
END_TEST

static Suite *
dbus_filter_suite (void)
{
  Suite *s = suite_create ("dbus filter");
  TCase *classify = tcase_create ("classify");
  TCase *parse = tcase_create ("parse");
  TCase *rules = tcase_create ("rules");
  TCase *auth = tcase_create ("auth");

  tcase_add_loop_test (classify, test_classify_table, 0, G_N_ELEMENTS (cases));
  tcase_add_test (classify, test_classify_rules_update);
  tcase_add_test (classify, test_pattern);
  suite_add_tcase (s, classify);

  tcase_add_test (parse, test_parse_gdbus_call);
  tcase_add_test (parse, test_parse_gdbus_other_types);
  tcase_add_test (parse, test_parse_big_endian);
  tcase_add_test (parse, test_parse_truncated);
  tcase_add_test (parse, test_parse_fixed_part);
  tcase_add_test (parse, test_parse_fields);
  tcase_add_test (parse, test_first_string);
  tcase_add_test (parse, test_parse_mutations);
  suite_add_tcase (s, parse);

  tcase_add_test (rules, test_rule_parse);
  tcase_add_test (rules, test_rules_all_or_nothing);
  suite_add_tcase (s, rules);

  tcase_add_test (auth, test_auth_client_lines);
  tcase_add_test (auth, test_auth_bus_lines);
  suite_add_tcase (s, auth);
  return s;
}

int
main (void)
{
  SRunner *runner = srunner_create (dbus_filter_suite ());
  int failed = 0;

  srunner_set_fork_status (runner, CK_FORK_GETENV);
  srunner_run_all (runner, CK_NORMAL);
  failed = srunner_ntests_failed (runner);
  srunner_free (runner);
  return failed == 0 ? 0 : 1;
}
#endif
