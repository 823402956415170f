/* JSON from outside the agent (Create configs over D-Bus, service manifests on disk), checked
 * against the security baseline before json-glib sees a byte.
 *
 * Trusts nothing in the input. json-glib 1.6 is lenient (single-quoted strings, C comments,
 * octal escapes such as "\0" that yield a NUL, hex numbers) and recursive (deep nesting
 * overflows the stack), so a strict lexer runs first: it follows RFC 8259's strings and escapes
 * exactly, refuses every character outside strings that cannot appear in JSON, and counts
 * nesting. Whatever it accepts, json-glib reads with the same string boundaries, so the depth
 * and NUL checks cannot be fooled by a construct only one of the two understands. Trusts
 * json-glib for the grammar itself. */
#include "json.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "util.h"

/* 1-based line of byte `offset`, for messages. */
static guint
line_of (const char *data, gsize offset)
{
  guint line = 1;

  for (gsize i = 0; i < offset; i++)
    if (data[i] == '\n')
      line++;
  return line;
}

static void
set_lex_error (GError **error, const char *what, const char *data, gsize offset,
               const char *problem)
{
  g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT, "%s: invalid JSON at line %u: %s",
               what, line_of (data, offset), problem);
}

/* Checks one escape sequence; data[*i] is the backslash. On success *i is the last byte of
 * the escape. */
static gboolean
check_escape (const char *data, gsize len, gsize *i, const char *what, GError **error)
{
  gsize at = *i;
  char c = at + 1 < len ? data[at + 1] : '\0';

  if (c == 'u' || c == 'U')
    {
      if (at + 5 < len && memcmp (data + at + 2, "0000", 4) == 0)
        {
          g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT,
                       "%s: JSON string contains a NUL character (\\%c0000 escape) at line %u",
                       what, c, line_of (data, at));
          return FALSE;
        }
      if (c == 'u' && at + 5 < len && g_ascii_isxdigit (data[at + 2])
          && g_ascii_isxdigit (data[at + 3]) && g_ascii_isxdigit (data[at + 4])
          && g_ascii_isxdigit (data[at + 5]))
        {
          *i = at + 5;
          return TRUE;
        }
    }
  else if (c != '\0' && strchr ("\"\\/bfnrt", c) != NULL)
    {
      *i = at + 1;
      return TRUE;
    }
  set_lex_error (error, what, data, at, "invalid escape sequence in string");
  return FALSE;
}

static gboolean
is_space (guchar c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* A byte that may appear outside strings in a number or in true/false/null (json-glib checks
 * the tokens themselves). */
static gboolean
is_token_char (guchar c)
{
  return c == '+' || c == '-' || c == '.' || g_ascii_isalnum (c);
}

static void
set_unexpected_error (GError **error, const char *what, const char *data, gsize offset)
{
  guchar c = (guchar) data[offset];
  g_autofree char *problem = NULL;

  if (g_ascii_isprint (c))
    problem = g_strdup_printf ("unexpected character '%c'", c);
  else
    problem = g_strdup_printf ("unexpected byte 0x%02x", c);
  set_lex_error (error, what, data, offset, problem);
}

/* The strict lexer: string syntax, allowed characters, one top-level value (json-glib 1.6
 * silently ignores a second container after the first) and nesting depth. */
static gboolean
check_structure (const char *data, gsize len, const char *what, GError **error)
{
  guint depth = 0;
  gboolean in_string = FALSE;
  gsize string_start = 0;
  gboolean top_scalar = FALSE; /* inside or after a top-level number/true/false/null */
  gboolean top_done = FALSE;   /* the top-level value is complete */

  for (gsize i = 0; i < len; i++)
    {
      guchar c = (guchar) data[i];

      if (in_string)
        {
          if (c == '"')
            {
              in_string = FALSE;
              if (depth == 0)
                top_done = TRUE;
            }
          else if (c == '\\')
            {
              if (!check_escape (data, len, &i, what, error))
                return FALSE;
            }
          else if (c < 0x20)
            {
              set_lex_error (error, what, data, i, "control character inside a string");
              return FALSE;
            }
          continue;
        }

      if (is_space (c))
        {
          if (depth == 0 && top_scalar)
            top_done = TRUE;
          continue;
        }
      if (depth == 0)
        {
          if (top_done || (top_scalar && !is_token_char (c)))
            {
              set_lex_error (error, what, data, i, "unexpected data after the JSON value");
              return FALSE;
            }
          if (c == ']' || c == '}' || c == ',' || c == ':')
            {
              set_unexpected_error (error, what, data, i);
              return FALSE;
            }
        }

      switch (c)
        {
        case '"':
          in_string = TRUE;
          string_start = i;
          break;
        case '[':
        case '{':
          if (++depth > SC_JSON_MAX_DEPTH)
            {
              g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT,
                           "%s: JSON nested deeper than %d levels", what, SC_JSON_MAX_DEPTH);
              return FALSE;
            }
          break;
        case ']':
        case '}':
          /* depth > 0 here; a mismatched pair is json-glib's to report */
          if (--depth == 0)
            top_done = TRUE;
          break;
        case ',':
        case ':':
          break;
        default:
          if (!is_token_char (c))
            {
              set_unexpected_error (error, what, data, i);
              return FALSE;
            }
          if (depth == 0)
            top_scalar = TRUE;
        }
    }
  if (in_string)
    {
      set_lex_error (error, what, data, string_start, "unterminated string");
      return FALSE;
    }
  return TRUE;
}

/* Turns json-glib's "<data>:3:5: Parse error: unexpected ..." into our message. */
static void
set_parser_error (GError **error, const char *what, const GError *parse_error)
{
  const char *msg = parse_error->message;
  const char *rest = NULL;
  guint64 line = 0;
  char *end = NULL;

  if (g_str_has_prefix (msg, "<data>:"))
    {
      line = g_ascii_strtoull (msg + strlen ("<data>:"), &end, 10);
      if (end != NULL && *end == ':')
        {
          /* skip the column */
          g_ascii_strtoull (end + 1, &end, 10);
          if (end != NULL && g_str_has_prefix (end, ": "))
            rest = end + 2;
        }
    }
  if (rest == NULL || line == 0)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT, "%s: invalid JSON: %s", what, msg);
      return;
    }
  if (g_str_has_prefix (rest, "Parse error: "))
    rest += strlen ("Parse error: ");
  g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT, "%s: invalid JSON at line %u: %s",
               what, (guint) line, rest);
}

JsonNode *
sc_json_parse (const char *data, gssize len, const char *what, GError **error)
{
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (GError) parse_error = NULL;
  const char *bad_utf8 = NULL;
  gsize n;

  g_return_val_if_fail (data != NULL || len == 0, NULL);
  g_return_val_if_fail (what != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* never scan further than one byte past the limit */
  n = len < 0 ? strnlen (data, SC_JSON_MAX_BYTES + 1) : (gsize) len;
  if (n > SC_JSON_MAX_BYTES)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT,
                   "%s: JSON larger than %d bytes", what, SC_JSON_MAX_BYTES);
      return NULL;
    }
  if (n > 0 && memchr (data, '\0', n) != NULL)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT,
                   "%s: JSON contains a NUL byte at line %u", what,
                   line_of (data, (const char *) memchr (data, '\0', n) - data));
      return NULL;
    }
  if (!g_utf8_validate_len (data, n, &bad_utf8))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT,
                   "%s: JSON is not valid UTF-8 (line %u, byte %" G_GSIZE_FORMAT ")", what,
                   line_of (data, bad_utf8 - data), (gsize) (bad_utf8 - data));
      return NULL;
    }
  if (!check_structure (data, n, what, error))
    return NULL;

  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, data, (gssize) n, &parse_error))
    {
      set_parser_error (error, what, parse_error);
      return NULL;
    }
  if (json_parser_get_root (parser) == NULL)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT, "%s: empty JSON document", what);
      return NULL;
    }
  return json_parser_steal_root (parser);
}

JsonNode *
sc_json_parse_file (const char *path, GError **error)
{
  sc_autofd fd = -1;
  struct stat st;
  g_autofree char *data = NULL;
  gsize used = 0;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* O_NONBLOCK: a FIFO named *.json must not hang the agent at startup */
  fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0)
    {
      sc_set_errno_error (error, errno, "%s", path);
      return NULL;
    }
  if (fstat (fd, &st) < 0)
    {
      sc_set_errno_error (error, errno, "%s: fstat", path);
      return NULL;
    }
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT, "%s: not a regular file", path);
      return NULL;
    }
  if (st.st_size > SC_JSON_MAX_BYTES)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT,
                   "%s: file larger than %d bytes (%jd bytes)", path, SC_JSON_MAX_BYTES,
                   (intmax_t) st.st_size);
      return NULL;
    }

  /* The file may grow after fstat: read at most one byte past the limit to notice. */
  data = g_malloc ((gsize) SC_JSON_MAX_BYTES + 1);
  while (used < (gsize) SC_JSON_MAX_BYTES + 1)
    {
      ssize_t r = read (fd, data + used, (gsize) SC_JSON_MAX_BYTES + 1 - used);

      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        {
          sc_set_errno_error (error, errno, "%s: read", path);
          return NULL;
        }
      if (r == 0)
        break;
      used += (gsize) r;
    }
  if (used > SC_JSON_MAX_BYTES)
    {
      g_set_error (error, SC_ERROR, SC_ERROR_INVALID_ARGUMENT, "%s: file larger than %d bytes",
                   path, SC_JSON_MAX_BYTES);
      return NULL;
    }
  return sc_json_parse (data, (gssize) used, path, error);
}

const char *
sc_json_type_name (JsonNode *node)
{
  if (node == NULL)
    return "null";
  switch (json_node_get_node_type (node))
    {
    case JSON_NODE_OBJECT:
      return "object";
    case JSON_NODE_ARRAY:
      return "array";
    case JSON_NODE_NULL:
      return "null";
    case JSON_NODE_VALUE:
      break;
    }
  switch (json_node_get_value_type (node))
    {
    case G_TYPE_STRING:
      return "string";
    case G_TYPE_INT64:
      return "integer";
    case G_TYPE_DOUBLE:
      return "number";
    case G_TYPE_BOOLEAN:
      return "boolean";
    default:
      return "value";
    }
}
