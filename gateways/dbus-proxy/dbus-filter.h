/* The pure parts of the filtering D-Bus proxy: the message header parser, the rules, the one
 * classification function, and the checks of the authentication lines. No I/O, no global state:
 * the proxy program (proxy.c), the D-Bus gateway (which checks configs with the same rule
 * parser), the unit tests and the fuzz target all link this.
 *
 * Trusts nothing it is given: every read is checked against the end of the buffer, and anything
 * it cannot parse, or parses but does not know, is refused (fail closed). */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <sys/types.h>

#define SC_DBUS_BUS_NAME "org.freedesktop.DBus"
#define SC_DBUS_AGENT_NAME "com.pelagicore.SoftwareContainerAgent"
#define SC_DBUS_AGENT_INTERFACE "com.pelagicore.SoftwareContainerAgent"

/* The fixed part of every header: endianness, type, flags, version, body length, serial,
 * header-field array length. */
#define SC_DBUS_FIXED_HEADER 16
/* Our limit on the header-field array (the spec allows 64 MiB; real headers are a few hundred
 * bytes: five names of at most 255 bytes, a path and a signature). */
#define SC_DBUS_MAX_FIELDS (64 * 1024)
/* The spec's limit on a whole message (2^27). */
#define SC_DBUS_MAX_MESSAGE (128 * 1024 * 1024)
/* The most descriptors one message may carry (the kernel's SCM_MAX_FD). */
#define SC_DBUS_MAX_FDS 253
/* The longest authentication line accepted, without its CR LF (dbus-daemon's is 16 KiB). */
#define SC_DBUS_AUTH_MAX_LINE 16384

typedef enum
{
  SC_DBUS_METHOD_CALL = 1,
  SC_DBUS_METHOD_RETURN = 2,
  SC_DBUS_ERROR = 3,
  SC_DBUS_SIGNAL = 4,
} ScDbusType;

#define SC_DBUS_FLAG_NO_REPLY_EXPECTED 0x1
#define SC_DBUS_FLAG_NO_AUTO_START 0x2
#define SC_DBUS_FLAG_ALLOW_INTERACTIVE_AUTH 0x4

/* A parsed header. The strings point into the parsed buffer (each is NUL-terminated there, and
 * valid for its kind: path, interface, member, error or bus name, signature); NULL when the
 * field is absent. Valid as long as that buffer is. */
typedef struct
{
  gboolean big_endian;
  guint8 type;  /* ScDbusType */
  guint8 flags; /* SC_DBUS_FLAG_* */
  guint32 body_len;
  guint32 serial;   /* never 0 */
  gsize header_len; /* fixed part + fields + padding: the body starts here */
  gsize total_len;  /* header_len + body_len */
  const char *path;
  const char *interface;
  const char *member;
  const char *error_name;
  const char *destination;
  const char *sender;
  const char *signature;
  gboolean has_reply_serial;
  guint32 reply_serial;
  guint32 unix_fds;
} ScDbusHeader;

/* From the first SC_DBUS_FIXED_HEADER bytes (len must be at least that): where the body starts
 * and the length of the whole message. FALSE with an error (G_IO_ERROR_INVALID_DATA) for an
 * unknown endianness, type or version, or sizes over the limits above. */
gboolean sc_dbus_message_sizes (const guint8 *data, gsize len, gsize *header_len, gsize *total_len,
                                GError **error);

/* Parses a whole header (len must be at least the header_len of sc_dbus_message_sizes; the
 * body need not be there). Refuses unknown flags and field codes, duplicate fields, a field
 * whose signature is not the one of its code, non-zero padding, strings that are not
 * NUL-terminated or hold a NUL, invalid names, paths and signatures, a missing required field
 * for the type, and a body without a signature. */
gboolean sc_dbus_header_parse (const guint8 *data, gsize len, ScDbusHeader *header, GError **error);

/* The first argument of a body when the signature starts with a string: NUL-terminated, no
 * inner NUL, valid UTF-8, within len bytes of body (which starts at header->header_len of the
 * message). NULL otherwise. */
const char *sc_dbus_body_first_string (const ScDbusHeader *header, const guint8 *body, gsize len);

/* ---- rules ------------------------------------------------------------------------------ */

typedef enum
{
  SC_DBUS_DIR_OUTGOING = 1, /* sent by the container */
  SC_DBUS_DIR_INCOMING = 2, /* sent to the container */
  SC_DBUS_DIR_BOTH = 3,     /* "*" */
} ScDbusRuleDirection;

/* {"direction": "incoming"|"outgoing"|"*", "interface": S, "object-path": S,
 *  "method": S | [S...]}. In the strings, '*' matches any run of characters (so "*" alone
 * matches anything, an absent field too) and every other character itself; the empty string
 * matches nothing. */
typedef struct
{
  ScDbusRuleDirection direction;
  char *interface;
  char *path;
  char **methods; /* at least one */
} ScDbusRule;

typedef struct
{
  GPtrArray *rules; /* ScDbusRule * */
} ScDbusRules;

ScDbusRules *sc_dbus_rules_new (void);
void sc_dbus_rules_free (ScDbusRules *rules);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScDbusRules, sc_dbus_rules_free)

void sc_dbus_rule_free (ScDbusRule *rule);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScDbusRule, sc_dbus_rule_free)

/* One rule object, checked strictly: all four keys present, no other key, the right types,
 * a known direction, a non-empty method list. Messages start with `where` ("... rule 2").
 * Errors: G_IO_ERROR_INVALID_DATA. */
ScDbusRule *sc_dbus_rule_from_json (JsonNode *node, const char *where, GError **error);

/* Appends the rules of a JSON array of rule objects (all or none). */
gboolean sc_dbus_rules_add_json (ScDbusRules *rules, JsonNode *array, const char *where,
                                 GError **error);

/* '*' globbing as described above; value NULL is matched as "". */
gboolean sc_dbus_pattern_match (const char *pattern, const char *value);

/* ---- classification ----------------------------------------------------------------------- */

typedef enum
{
  SC_DBUS_FROM_CLIENT, /* the container sent it: outgoing */
  SC_DBUS_FROM_BUS,    /* the bus delivers it to the container: incoming */
} ScDbusOrigin;

typedef enum
{
  SC_DBUS_PASS,
  /* Not forwarded. A method call that expects a reply is answered with AccessDenied by the
   * proxy; anything else is dropped. */
  SC_DBUS_DENY,
} ScDbusVerdictKind;

typedef struct
{
  ScDbusVerdictKind kind;
  const char *reason; /* static text for logs and error messages */
} ScDbusVerdict;

/* Whether sc_dbus_classify needs the message's first string argument: the caller must then
 * have the whole body (a call to the bus whose argument decides: AddMatch, RequestName). */
gboolean sc_dbus_needs_first_arg (ScDbusOrigin origin, const ScDbusHeader *header);

/* The decision on one message. reply_expected: for a method return or error, whether it
 * answers a call that the proxy passed the other way (the caller keeps that table); ignored
 * for calls and signals. first_arg: see sc_dbus_needs_first_arg (NULL when unreadable). */
ScDbusVerdict sc_dbus_classify (const ScDbusRules *rules, ScDbusOrigin origin,
                                const ScDbusHeader *header, const char *first_arg,
                                gboolean reply_expected);

/* ---- authentication lines ----------------------------------------------------------------- */

typedef enum
{
  SC_DBUS_AUTH_INVALID,
  SC_DBUS_AUTH_AUTH,
  SC_DBUS_AUTH_CANCEL,
  SC_DBUS_AUTH_BEGIN,
  SC_DBUS_AUTH_DATA,
  SC_DBUS_AUTH_ERROR,
  SC_DBUS_AUTH_NEGOTIATE_UNIX_FD,
  /* replies of the bus */
  SC_DBUS_AUTH_OK,
  SC_DBUS_AUTH_REJECTED,
  SC_DBUS_AUTH_AGREE_UNIX_FD,
} ScDbusAuthCommand;

/* Checks one line from the client (without its CR LF) and returns the line to send to the bus
 * (g_free), with *command set; NULL for anything refused: longer than SC_DBUS_AUTH_MAX_LINE,
 * a byte outside printable ASCII (NUL, tab, CR, LF, ...), an unknown command, leading,
 * trailing or doubled spaces, a mechanism other than EXTERNAL, an EXTERNAL identity that is not
 * client_uid. The identity the bus sees is the proxy's own connection, so an EXTERNAL identity
 * (in AUTH or DATA) is rewritten to proxy_uid. */
char *sc_dbus_auth_filter_client_line (const char *line, gsize len, uid_t client_uid,
                                       uid_t proxy_uid, ScDbusAuthCommand *command);

/* Checks one line from the bus (without CR LF): OK <guid>, REJECTED [mechanisms], DATA [hex],
 * ERROR [text] or AGREE_UNIX_FD, printable ASCII only. SC_DBUS_AUTH_INVALID otherwise. */
ScDbusAuthCommand sc_dbus_auth_check_bus_line (const char *line, gsize len);
