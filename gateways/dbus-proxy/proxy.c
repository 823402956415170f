/* softwarecontainer-dbus-proxy: the filtering D-Bus proxy of one container and one bus.
 *
 * Started by the D-Bus gateway (gateways/dbus.c) with:
 *   --container-id N --bus session|system --address ADDRESS --socket PATH
 *   --control-fd 3 --status-fd 4
 * It checks that the bus is reachable, listens on PATH (which the container sees under
 * /gateways), and writes one byte 'R' to the status fd (or an error text, then exits). On the
 * control fd it reads lines, each a JSON array of rule objects: the complete rule set from the
 * next message on, on every open connection; each line is acknowledged with 'A' on the status
 * fd (or 'E' and a text up to a newline when it cannot be used). It exits when the control fd
 * reaches its end (the agent is gone) or on SIGTERM, removing its socket.
 *
 * For each client it opens its own connection to the bus and relays in both directions:
 *  - the authentication phase line by line, each line checked (dbus-filter.c); message mode
 *    starts when the client's BEGIN has arrived and the bus has answered every line before it
 *    with a successful authentication (data the client pipelined after BEGIN waits until then);
 *  - then messages, reading only their headers: each is decided by sc_dbus_classify against
 *    the rules; its body is streamed through (or skipped) in pieces, so a message of any size
 *    costs at most a few buffers, never its size.
 * A call that is refused gets an AccessDenied error from the proxy (never a hang); replies and
 * errors pass only for calls passed the other way (serials are tracked both ways). Descriptors
 * passed with a message are kept in a queue per direction and sent with the write that starts
 * at that message's first byte.
 *
 * Trusts the agent (its arguments and control lines); trusts nothing from the client or the
 * bus: anything malformed closes that client's connection (fail closed). */
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <gio/gunixconnection.h>
#include <glib-unix.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "dbus-filter.h"

/* The input buffer of each direction starts at this size, and grows only for headers (or for
 * the few bus calls whose argument is read) that do not fit. */
#define BUF_INITIAL (64 * 1024)
/* The body of a call to the bus whose first argument is read (AddMatch, RequestName): the bus
 * itself refuses match rules over 1 KiB and names over 255 bytes. */
#define FIRST_ARG_MAX_BODY 4096
/* A direction stops reading while its output queue holds this much. */
#define HIGH_WATER (1024 * 1024)
/* Output chunks are coalesced up to this size. */
#define CHUNK_MAX (64 * 1024)
/* Calls waiting for a reply, per client and direction; more are refused. */
#define MAX_PENDING_CALLS 16384
/* Received descriptors not yet given to a message. */
#define MAX_QUEUED_FDS 1024
#define MAX_CLIENTS 512
/* Serials the proxy uses for its own messages (AccessDenied errors) on a client's connection;
 * clients count up from 1 and do not get there. */
#define OWN_SERIAL_FIRST 0xFFFF0000u

typedef struct
{
  int container_id;
  char *bus;     /* "session" or "system", for messages */
  char *address; /* of the real bus */
  char *socket_path;
  int listen_fd;
  int control_fd;
  int status_fd;
  GString *control_line;
  ScDbusRules *rules;
  GHashTable *clients; /* Client * */
  GMainLoop *loop;
  uid_t uid;
  guint next_client_id;
} Proxy;

static Proxy proxy;

#define PREFIX "dbus-proxy (container %d, %s bus): "
#define proxy_warning(fmt, ...) g_warning (PREFIX fmt, proxy.container_id, proxy.bus, ##__VA_ARGS__)
#define proxy_message(fmt, ...) g_message (PREFIX fmt, proxy.container_id, proxy.bus, ##__VA_ARGS__)
#define proxy_debug(fmt, ...) g_debug (PREFIX fmt, proxy.container_id, proxy.bus, ##__VA_ARGS__)

typedef struct
{
  GByteArray *data;
  gsize offset; /* bytes already written */
  int *fds;     /* sent with the write that starts at offset 0 */
  guint n_fds;
} Chunk;

typedef enum
{
  HALF_AUTH,
  HALF_HEADER,
  HALF_BODY_PASS,
  HALF_BODY_DROP,
} HalfState;

typedef struct Client Client;

/* One direction of a client connection: reads from in_fd, writes to out_fd. */
typedef struct
{
  Client *client;
  ScDbusOrigin origin; /* FROM_CLIENT: client -> bus */
  int in_fd;
  int out_fd;
  guint8 *buf;
  gsize start, end, cap; /* unread input is buf[start, end) */
  GQueue in_fds;         /* received descriptors, GINT_TO_POINTER */
  HalfState state;
  gsize remaining; /* body bytes of the current message still to come */
  GQueue out;      /* Chunk *, to write to out_fd */
  gsize out_bytes;
  GQueue deferred; /* Chunk *: injected messages waiting for the end of a passed message */
  gboolean eof;    /* in_fd reached its end */
  gboolean failed; /* writing to out_fd failed */
} Half;

struct Client
{
  gint refs;
  guint id;
  int client_fd;
  int bus_fd;
  uid_t uid;
  pid_t pid;
  GSource *source;
  gpointer client_tag;
  gpointer bus_tag;
  Half up;   /* client -> bus */
  Half down; /* bus -> client */
  /* authentication */
  gboolean got_nul;
  guint auth_pending; /* client lines sent to the bus and not answered yet */
  gboolean begin_seen;
  gboolean authenticated;
  gboolean auth_done;
  /* serials */
  GHashTable *outgoing_calls; /* serial of a call the client made -> TRUE */
  GHashTable *incoming_calls; /* "sender serial" of a call delivered to the client */
  guint32 hello_serial;
  char *unique_name;
  guint32 next_own_serial;
  gboolean draining; /* an end was reached: no more reading; close when flushed */
  gboolean closed;
};

typedef struct
{
  GSource source;
  Client *client;
} ClientSource;

static void client_close (Client *c, const char *why);

/* ---- chunks and output -------------------------------------------------------------------- */

static void
close_fds (int *fds, guint n)
{
  for (guint i = 0; i < n; i++)
    if (fds[i] >= 0)
      close (fds[i]);
}

static void
chunk_free (Chunk *chunk)
{
  close_fds (chunk->fds, chunk->n_fds);
  g_free (chunk->fds);
  g_byte_array_unref (chunk->data);
  g_free (chunk);
}

/* Sends as much of data[*offset, len) as the socket takes; *fds (closed and cleared once in
 * flight) go with a write that starts at offset 0. -1: error (errno), 0: would block, 1: all
 * written. */
static int
send_bytes (int fd, const guint8 *data, gsize len, gsize *offset, int *fds, guint *n_fds)
{
  while (*offset < len)
    {
      struct iovec iov = { (void *)(data + *offset), len - *offset };
      union
      {
        char buf[CMSG_SPACE (sizeof (int) * SC_DBUS_MAX_FDS)];
        struct cmsghdr align;
      } control;
      struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
      ssize_t n;

      if (*offset == 0 && *n_fds > 0)
        {
          struct cmsghdr *cmsg;

          memset (&control, 0, sizeof control);
          msg.msg_control = control.buf;
          msg.msg_controllen = CMSG_SPACE (sizeof (int) * *n_fds);
          cmsg = CMSG_FIRSTHDR (&msg);
          cmsg->cmsg_level = SOL_SOCKET;
          cmsg->cmsg_type = SCM_RIGHTS;
          cmsg->cmsg_len = CMSG_LEN (sizeof (int) * *n_fds);
          memcpy (CMSG_DATA (cmsg), fds, sizeof (int) * *n_fds);
        }
      n = sendmsg (fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
      if (*n_fds > 0)
        {
          /* in flight now: our copies go */
          close_fds (fds, *n_fds);
          *n_fds = 0;
        }
      *offset += (gsize)n;
    }
  return 1;
}

/* Writes what the socket takes. FALSE on a write error. */
static gboolean
half_flush (Half *h)
{
  Chunk *chunk;

  if (h->failed)
    return FALSE;
  while ((chunk = g_queue_peek_head (&h->out)) != NULL)
    {
      gsize before = chunk->offset;
      int r = send_bytes (h->out_fd, chunk->data->data, chunk->data->len, &chunk->offset,
                          chunk->fds, &chunk->n_fds);

      h->out_bytes -= chunk->offset - before;
      if (r < 0)
        {
          h->failed = TRUE;
          return FALSE;
        }
      if (r == 0)
        break;
      chunk_free (g_queue_pop_head (&h->out));
    }
  return TRUE;
}

/* Queues bytes for out_fd; fds (taken) go with the first of them. Data that has fds is the
 * start of a message, so it starts a chunk of its own: a chunk's fds go with its first byte. */
static void
half_emit (Half *h, const guint8 *data, gsize len, int *fds, guint n_fds)
{
  Chunk *last = g_queue_peek_tail (&h->out);

  if (h->failed)
    {
      close_fds (fds, n_fds);
      return;
    }
  if (last != NULL && n_fds == 0 && last->data->len + len <= CHUNK_MAX)
    {
      g_byte_array_append (last->data, data, len);
      h->out_bytes += len;
      return;
    }
  /* nothing queued: large pieces go straight from the input buffer */
  if (last == NULL && len >= 4096)
    {
      gsize sent = 0;
      int r = send_bytes (h->out_fd, data, len, &sent, fds, &n_fds);

      if (r < 0)
        {
          close_fds (fds, n_fds);
          h->failed = TRUE; /* the next flush reports it */
          return;
        }
      if (r > 0)
        return;
      data += sent;
      len -= sent;
    }
  last = g_new0 (Chunk, 1);
  last->data = g_byte_array_sized_new (MAX (len, 256));
  g_byte_array_append (last->data, data, len);
  last->fds = n_fds > 0 ? g_memdup2 (fds, sizeof (int) * n_fds) : NULL;
  last->n_fds = n_fds;
  g_queue_push_tail (&h->out, last);
  h->out_bytes += len;
}

/* A whole message of the proxy's own (an error) for out_fd: queued at once when out_fd's stream
 * is between messages, else after the message being passed. */
static void
half_inject (Half *h, GBytes *message)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (message, &len);

  if (h->state != HALF_BODY_PASS)
    {
      half_emit (h, data, len, NULL, 0);
      return;
    }
  {
    Chunk *chunk = g_new0 (Chunk, 1);

    chunk->data = g_byte_array_new ();
    g_byte_array_append (chunk->data, data, len);
    g_queue_push_tail (&h->deferred, chunk);
  }
}

static void
half_release_deferred (Half *h)
{
  Chunk *chunk;

  while ((chunk = g_queue_pop_head (&h->deferred)) != NULL)
    {
      half_emit (h, chunk->data->data, chunk->data->len, NULL, 0);
      chunk_free (chunk);
    }
}

/* ---- errors the proxy answers with -------------------------------------------------------- */

static GBytes *
access_denied (Client *c, const ScDbusHeader *call, gboolean to_client, const char *reason)
{
  g_autoptr (GDBusMessage) m = g_dbus_message_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  guchar *blob;
  gsize size = 0;

  text = g_strdup_printf ("the D-Bus gateway of the container refused %s.%s on %s: %s",
                          call->interface != NULL ? call->interface : "(no interface)",
                          call->member, call->path, reason);
  g_dbus_message_set_message_type (m, G_DBUS_MESSAGE_TYPE_ERROR);
  g_dbus_message_set_flags (m, G_DBUS_MESSAGE_FLAGS_NO_REPLY_EXPECTED);
  g_dbus_message_set_error_name (m, "org.freedesktop.DBus.Error.AccessDenied");
  g_dbus_message_set_reply_serial (m, call->serial);
  g_dbus_message_set_serial (m, c->next_own_serial);
  c->next_own_serial
      = c->next_own_serial == G_MAXUINT32 ? OWN_SERIAL_FIRST : c->next_own_serial + 1;
  g_dbus_message_set_byte_order (m, call->big_endian ? G_DBUS_MESSAGE_BYTE_ORDER_BIG_ENDIAN
                                                     : G_DBUS_MESSAGE_BYTE_ORDER_LITTLE_ENDIAN);
  if (to_client)
    {
      g_dbus_message_set_sender (m, SC_DBUS_BUS_NAME);
      if (c->unique_name != NULL)
        g_dbus_message_set_destination (m, c->unique_name);
    }
  else
    g_dbus_message_set_destination (m, call->sender);
  g_dbus_message_set_body (m, g_variant_new ("(s)", text));
  /* everything in it was checked on the way in, so this does not fail; if it did, the caller
   * closes the connection rather than let the client wait */
  blob = g_dbus_message_to_blob (m, &size, G_DBUS_CAPABILITY_FLAGS_NONE, &error);
  return blob != NULL ? g_bytes_new_take (blob, size) : NULL;
}

/* ---- messages ----------------------------------------------------------------------------- */

static char *
call_key (const char *sender, guint32 serial)
{
  return g_strdup_printf ("%s %u", sender != NULL ? sender : "", serial);
}

/* Decides the message whose header starts the input of h; FALSE when the client must go. */
static gboolean
half_take_message (Half *h, const ScDbusHeader *header, const char *first_arg)
{
  Client *c = h->client;
  Half *reverse = h == &c->up ? &c->down : &c->up;
  gboolean from_client = h->origin == SC_DBUS_FROM_CLIENT;
  gboolean expects_reply = header->type == SC_DBUS_METHOD_CALL
                           && (header->flags & SC_DBUS_FLAG_NO_REPLY_EXPECTED) == 0;
  gboolean reply_expected = FALSE;
  ScDbusVerdict v;
  int fds[SC_DBUS_MAX_FDS];
  gsize avail, n;

  if (g_queue_get_length (&h->in_fds) < header->unix_fds)
    {
      client_close (c, "a message announces descriptors that did not come with it");
      return FALSE;
    }
  for (guint i = 0; i < header->unix_fds; i++)
    fds[i] = GPOINTER_TO_INT (g_queue_pop_head (&h->in_fds));

  if (header->type == SC_DBUS_METHOD_RETURN || header->type == SC_DBUS_ERROR)
    {
      if (from_client)
        {
          g_autofree char *key = call_key (header->destination, header->reply_serial);
          reply_expected = g_hash_table_remove (c->incoming_calls, key);
        }
      else
        reply_expected
            = g_hash_table_remove (c->outgoing_calls, GUINT_TO_POINTER (header->reply_serial));
    }
  v = sc_dbus_classify (proxy.rules, h->origin, header, first_arg, reply_expected);
  if (v.kind == SC_DBUS_PASS && expects_reply)
    {
      GHashTable *table = from_client ? c->outgoing_calls : c->incoming_calls;

      if (g_hash_table_size (table) >= MAX_PENDING_CALLS)
        v = (ScDbusVerdict){ SC_DBUS_DENY, "too many calls are waiting for replies" };
      else if (from_client)
        g_hash_table_add (table, GUINT_TO_POINTER (header->serial));
      else
        g_hash_table_add (table, call_key (header->sender, header->serial));
    }

  avail = h->end - h->start;
  n = MIN (avail, header->total_len);
  if (v.kind == SC_DBUS_PASS)
    {
      if (from_client && header->type == SC_DBUS_METHOD_CALL
          && g_strcmp0 (header->destination, SC_DBUS_BUS_NAME) == 0
          && strcmp (header->member, "Hello") == 0)
        c->hello_serial = header->serial;
      if (!from_client && header->type == SC_DBUS_METHOD_RETURN && c->unique_name == NULL
          && c->hello_serial != 0 && header->reply_serial == c->hello_serial
          && header->destination != NULL)
        {
          c->unique_name = g_strdup (header->destination);
          proxy_debug ("client %u (pid %d) is %s", c->id, (int)c->pid, c->unique_name);
        }
      half_emit (h, h->buf + h->start, n, fds, header->unix_fds);
      h->state = n < header->total_len ? HALF_BODY_PASS : HALF_HEADER;
    }
  else
    {
      proxy_debug (
          "client %u (%s): %s %s %s.%s on %s from %s: refused: %s", c->id,
          c->unique_name != NULL ? c->unique_name : "?", from_client ? "outgoing" : "incoming",
          header->type == SC_DBUS_METHOD_CALL     ? "call"
          : header->type == SC_DBUS_SIGNAL        ? "signal"
          : header->type == SC_DBUS_METHOD_RETURN ? "reply"
                                                  : "error",
          header->interface != NULL ? header->interface : "",
          header->member != NULL ? header->member : "", header->path != NULL ? header->path : "",
          header->sender != NULL ? header->sender : "the client", v.reason);
      close_fds (fds, header->unix_fds);
      if (expects_reply)
        {
          g_autoptr (GBytes) error = access_denied (c, header, from_client, v.reason);

          if (error == NULL)
            {
              client_close (c, "cannot make an AccessDenied error");
              return FALSE;
            }
          half_inject (reverse, error);
        }
      h->state = n < header->total_len ? HALF_BODY_DROP : HALF_HEADER;
    }
  h->remaining = header->total_len - n;
  h->start += n;
  return TRUE;
}

static gboolean
half_ensure_capacity (Half *h, gsize need)
{
  if (h->start > 0 && h->cap - h->start < need)
    {
      memmove (h->buf, h->buf + h->start, h->end - h->start);
      h->end -= h->start;
      h->start = 0;
    }
  if (h->cap < need)
    {
      h->buf = g_realloc (h->buf, need);
      h->cap = need;
    }
  return TRUE;
}

/* The bus's answers arrive on `down` while the client's lines arrive on `up`. */
static gboolean
client_auth_line (Client *c, Half *h, const char *line, gsize len)
{
  if (h == &c->up)
    {
      ScDbusAuthCommand command;
      g_autofree char *out
          = sc_dbus_auth_filter_client_line (line, len, c->uid, proxy.uid, &command);
      if (out == NULL)
        {
          client_close (c, "an authentication line was refused");
          return FALSE;
        }
      half_emit (&c->up, (const guint8 *)out, strlen (out), NULL, 0);
      half_emit (&c->up, (const guint8 *)"\r\n", 2, NULL, 0);
      if (command == SC_DBUS_AUTH_BEGIN)
        {
          c->begin_seen = TRUE;
          h->state = HALF_HEADER;
        }
      else
        c->auth_pending++;
      return TRUE;
    }

  switch (sc_dbus_auth_check_bus_line (line, len))
    {
    case SC_DBUS_AUTH_OK:
      c->authenticated = TRUE;
      break;
    case SC_DBUS_AUTH_REJECTED:
      c->authenticated = FALSE;
      break;
    case SC_DBUS_AUTH_DATA:
    case SC_DBUS_AUTH_ERROR:
    case SC_DBUS_AUTH_AGREE_UNIX_FD:
      break;
    default:
      client_close (c, "the bus sent an authentication line the proxy does not understand");
      return FALSE;
    }
  if (c->auth_pending == 0)
    {
      client_close (c, "the bus sent an authentication line nobody asked for");
      return FALSE;
    }
  c->auth_pending--;
  half_emit (&c->down, (const guint8 *)line, len, NULL, 0);
  half_emit (&c->down, (const guint8 *)"\r\n", 2, NULL, 0);
  return TRUE;
}

/* Message mode begins when the client said BEGIN and the bus answered every line before it,
 * the last answer being a success. */
static gboolean
client_check_auth_done (Client *c)
{
  if (c->auth_done || !c->begin_seen || c->auth_pending > 0)
    return TRUE;
  if (!c->authenticated)
    {
      client_close (c, "the client began without being authenticated");
      return FALSE;
    }
  c->auth_done = TRUE;
  c->down.state = HALF_HEADER;
  return TRUE;
}

/* Works through the input of h. FALSE when the client was closed. */
static gboolean
half_process (Half *h)
{
  Client *c = h->client;

  while (!c->closed)
    {
      gsize avail = h->end - h->start;
      const guint8 *p = h->buf + h->start;

      if (h->state == HALF_AUTH)
        {
          const guint8 *lf;
          gsize len;

          if (h == &c->up && !c->got_nul)
            {
              if (avail == 0)
                break;
              if (p[0] != 0)
                {
                  client_close (c, "the client did not start with a NUL byte");
                  return FALSE;
                }
              c->got_nul = TRUE;
              h->start++;
              continue;
            }
          lf = memchr (p, '\n', MIN (avail, SC_DBUS_AUTH_MAX_LINE + 2));
          if (lf == NULL)
            {
              if (avail > SC_DBUS_AUTH_MAX_LINE + 1)
                {
                  client_close (c, "an authentication line is too long");
                  return FALSE;
                }
              break;
            }
          len = (gsize)(lf - p);
          if (len == 0 || p[len - 1] != '\r')
            {
              client_close (c, "an authentication line does not end with CR LF");
              return FALSE;
            }
          h->start += len + 1;
          if (!client_auth_line (c, h, (const char *)p, len - 1) || !client_check_auth_done (c))
            return FALSE;
          continue;
        }

      if (h->state == HALF_HEADER)
        {
          g_autoptr (GError) error = NULL;
          ScDbusHeader header;
          gsize header_len, total_len, need;
          const char *first_arg = NULL;
          gboolean with_arg;

          if (h == &c->up && !c->auth_done)
            break; /* pipelined after BEGIN: waits for the bus's answers */
          if (avail < SC_DBUS_FIXED_HEADER)
            break;
          if (!sc_dbus_message_sizes (p, avail, &header_len, &total_len, &error))
            {
              client_close (c, error->message);
              return FALSE;
            }
          if (avail < header_len)
            {
              half_ensure_capacity (h, header_len);
              break;
            }
          if (!sc_dbus_header_parse (p, avail, &header, &error))
            {
              client_close (c, error->message);
              return FALSE;
            }
          with_arg = sc_dbus_needs_first_arg (h->origin, &header)
                     && header.body_len <= FIRST_ARG_MAX_BODY;
          need = with_arg ? total_len : header_len;
          if (avail < need)
            {
              half_ensure_capacity (h, need);
              break;
            }
          if (with_arg)
            first_arg = sc_dbus_body_first_string (&header, p + header_len, header.body_len);
          if (!half_take_message (h, &header, first_arg))
            return FALSE;
          continue;
        }

      /* a body being passed or skipped */
      {
        gsize n = MIN (avail, h->remaining);

        if (n == 0)
          break;
        if (h->state == HALF_BODY_PASS)
          half_emit (h, p, n, NULL, 0);
        h->start += n;
        h->remaining -= n;
        if (h->remaining == 0)
          {
            gboolean passed = h->state == HALF_BODY_PASS;
            h->state = HALF_HEADER;
            if (passed)
              half_release_deferred (h);
          }
      }
    }
  if (h->start == h->end)
    h->start = h->end = 0;
  return !c->closed;
}

/* Whether h's buffer has no room and processing cannot make any (a header or an argument
 * that needs more than the buffer grows to cannot happen: the buffer grows for them). */
static gboolean
half_full (Half *h)
{
  return h->start == 0 && h->end == h->cap;
}

/* Reads once into h's buffer and processes what came. -1: the client was closed; 0: nothing
 * to read (or no room); 1: read something (or reached the end). */
static int
half_read (Half *h)
{
  Client *c = h->client;
  union
  {
    char buf[CMSG_SPACE (sizeof (int) * SC_DBUS_MAX_FDS)];
    struct cmsghdr align;
  } control;
  struct iovec iov;
  struct msghdr msg = { .msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = control.buf,
                        .msg_controllen = sizeof control.buf };
  ssize_t n;

  if (h->eof || half_full (h))
    return 0;
  if (h->end == h->cap)
    half_ensure_capacity (h, h->cap);
  iov.iov_base = h->buf + h->end;
  iov.iov_len = h->cap - h->end;
  do
    n = recvmsg (h->in_fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
    return 0;
  for (struct cmsghdr *cmsg = n < 0 ? NULL : CMSG_FIRSTHDR (&msg); cmsg != NULL;
       cmsg = CMSG_NXTHDR (&msg, cmsg))
    if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS)
      {
        guint count = (cmsg->cmsg_len - CMSG_LEN (0)) / sizeof (int);
        int fds[SC_DBUS_MAX_FDS];

        memcpy (fds, CMSG_DATA (cmsg), MIN (count, SC_DBUS_MAX_FDS) * sizeof (int));
        for (guint i = 0; i < count && i < SC_DBUS_MAX_FDS; i++)
          g_queue_push_tail (&h->in_fds, GINT_TO_POINTER (fds[i]));
      }
  if (n >= 0
      && ((msg.msg_flags & MSG_CTRUNC) != 0 || g_queue_get_length (&h->in_fds) > MAX_QUEUED_FDS))
    {
      client_close (c, "too many descriptors");
      return -1;
    }
  if (n <= 0)
    {
      /* the end, or a read error that is as good as one */
      h->eof = TRUE;
      c->draining = TRUE;
      return 1;
    }
  h->end += (gsize)n;
  return half_process (h) ? 1 : -1;
}

static gboolean
half_can_read (Half *h)
{
  Client *c = h->client;
  Half *reverse = h == &c->up ? &c->down : &c->up;

  return !c->draining && !h->eof && h->out_bytes < HIGH_WATER && reverse->out_bytes < 4 * HIGH_WATER
         && !half_full (h);
}

/* ---- clients ------------------------------------------------------------------------------ */

static void
half_init (Half *h, Client *c, ScDbusOrigin origin, int in_fd, int out_fd)
{
  h->client = c;
  h->origin = origin;
  h->in_fd = in_fd;
  h->out_fd = out_fd;
  h->cap = BUF_INITIAL;
  h->buf = g_malloc (h->cap);
  h->state = HALF_AUTH;
  g_queue_init (&h->in_fds);
  g_queue_init (&h->out);
  g_queue_init (&h->deferred);
}

static void
half_clear (Half *h)
{
  while (!g_queue_is_empty (&h->in_fds))
    close (GPOINTER_TO_INT (g_queue_pop_head (&h->in_fds)));
  g_queue_clear_full (&h->out, (GDestroyNotify)chunk_free);
  g_queue_clear_full (&h->deferred, (GDestroyNotify)chunk_free);
  h->out_bytes = 0;
  g_clear_pointer (&h->buf, g_free);
}

static Client *
client_ref (Client *c)
{
  g_atomic_int_inc (&c->refs);
  return c;
}

static void
client_unref (Client *c)
{
  if (!g_atomic_int_dec_and_test (&c->refs))
    return;
  g_hash_table_unref (c->outgoing_calls);
  g_hash_table_unref (c->incoming_calls);
  g_free (c->unique_name);
  g_free (c);
}

static void
client_close (Client *c, const char *why)
{
  if (c->closed)
    return;
  c->closed = TRUE;
  if (why != NULL)
    proxy_message ("client %u (pid %d%s%s) closed: %s", c->id, (int)c->pid,
                   c->unique_name != NULL ? ", " : "", c->unique_name != NULL ? c->unique_name : "",
                   why);
  else
    proxy_debug ("client %u (pid %d) disconnected", c->id, (int)c->pid);
  g_source_destroy (c->source);
  g_source_unref (c->source);
  c->source = NULL;
  close (c->client_fd);
  close (c->bus_fd);
  half_clear (&c->up);
  half_clear (&c->down);
  g_hash_table_remove (proxy.clients, c); /* drops the table's reference */
}

static void
client_update_events (Client *c)
{
  GIOCondition on_client = 0, on_bus = 0;

  if (half_can_read (&c->up))
    on_client |= G_IO_IN;
  if (half_can_read (&c->down))
    on_bus |= G_IO_IN;
  if (c->down.out.length > 0)
    on_client |= G_IO_OUT;
  if (c->up.out.length > 0)
    on_bus |= G_IO_OUT;
  if (c->client_tag != NULL)
    g_source_modify_unix_fd (c->source, c->client_tag, on_client);
  if (c->bus_tag != NULL)
    g_source_modify_unix_fd (c->source, c->bus_tag, on_bus);
}

/* Reads from one side while it has something and room. A side that hung up is read to its
 * end whatever the output queues hold: nothing more can come from it, and polling it again
 * would only report the hang-up again. */
static gboolean
client_read_side (Client *c, Half *h, GIOCondition condition)
{
  gboolean hup = (condition & (G_IO_HUP | G_IO_ERR)) != 0;

  if ((condition & (G_IO_IN | G_IO_HUP | G_IO_ERR)) == 0)
    return TRUE;
  for (int i = 0; i < (hup ? 1024 : 8) && !h->eof; i++)
    {
      int r;

      if (!half_can_read (h) && !hup)
        break;
      r = half_read (h);
      if (r < 0)
        return FALSE;
      if (r == 0)
        break;
    }
  if (hup && !h->eof)
    {
      /* no room to read the rest: the peer is gone, so is what it still had to say */
      h->eof = TRUE;
      c->draining = TRUE;
    }
  return TRUE;
}

/* After one side ended, nothing can be written to it: stop polling it and drop its output. */
static void
client_drop_ended_side (Client *c, Half *h, gpointer *tag, Half *towards)
{
  if (!h->eof || *tag == NULL)
    return;
  g_source_remove_unix_fd (c->source, *tag);
  *tag = NULL;
  g_queue_clear_full (&towards->out, (GDestroyNotify)chunk_free);
  g_queue_clear_full (&towards->deferred, (GDestroyNotify)chunk_free);
  towards->out_bytes = 0;
}

static gboolean
client_source_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  Client *c = ((ClientSource *)source)->client;
  GIOCondition on_client = 0, on_bus = 0;

  client_ref (c);
  if (c->client_tag != NULL)
    on_client = g_source_query_unix_fd (source, c->client_tag);
  if (c->bus_tag != NULL)
    on_bus = g_source_query_unix_fd (source, c->bus_tag);

  if (!client_read_side (c, &c->up, on_client) || !client_read_side (c, &c->down, on_bus))
    goto out;
  client_drop_ended_side (c, &c->up, &c->client_tag, &c->down);
  client_drop_ended_side (c, &c->down, &c->bus_tag, &c->up);
  if (!half_flush (&c->up) || !half_flush (&c->down))
    {
      client_close (c, NULL);
      goto out;
    }
  /* output drained, or authentication done: input that waited can move on */
  if ((c->up.end > c->up.start || c->down.end > c->down.start)
      && (!half_process (&c->up) || !half_process (&c->down)))
    goto out;
  if (!half_flush (&c->up) || !half_flush (&c->down))
    {
      client_close (c, NULL);
      goto out;
    }
  if (c->draining && c->up.out.length == 0 && c->down.out.length == 0)
    {
      client_close (c, NULL);
      goto out;
    }
  client_update_events (c);
out:
  client_unref (c);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs client_source_funcs = { NULL, NULL, client_source_dispatch, NULL, NULL, NULL };

static int
connect_bus (GError **error)
{
  g_autoptr (GIOStream) stream = g_dbus_address_get_stream_sync (proxy.address, NULL, NULL, error);
  GSocket *socket;
  int fd;

  if (stream == NULL)
    return -1;
  if (!G_IS_UNIX_CONNECTION (stream))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "%s is not a unix socket address (descriptors could not pass)", proxy.address);
      return -1;
    }
  socket = g_socket_connection_get_socket (G_SOCKET_CONNECTION (stream));
  fd = fcntl (g_socket_get_fd (socket), F_DUPFD_CLOEXEC, 3);
  if (fd < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "dup: %s", g_strerror (errno));
      return -1;
    }
  g_unix_set_fd_nonblocking (fd, TRUE, NULL);
  return fd;
}

static void
client_new (int fd)
{
  g_autoptr (GError) error = NULL;
  struct ucred cred = { 0 };
  socklen_t cred_len = sizeof cred;
  Client *c;
  int bus_fd;

  if (g_hash_table_size (proxy.clients) >= MAX_CLIENTS)
    {
      proxy_warning ("refusing a client: %d connections are open", MAX_CLIENTS);
      close (fd);
      return;
    }
  if (getsockopt (fd, SOL_SOCKET, SO_PEERCRED, &cred, &cred_len) < 0)
    {
      proxy_warning ("refusing a client: SO_PEERCRED: %s", g_strerror (errno));
      close (fd);
      return;
    }
  bus_fd = connect_bus (&error);
  if (bus_fd < 0)
    {
      proxy_warning ("cannot connect a client (pid %d) to the bus: %s", (int)cred.pid,
                     error->message);
      close (fd);
      return;
    }

  c = g_new0 (Client, 1);
  c->refs = 1; /* the table's */
  c->id = ++proxy.next_client_id;
  c->client_fd = fd;
  c->bus_fd = bus_fd;
  c->uid = cred.uid;
  c->pid = cred.pid;
  c->next_own_serial = OWN_SERIAL_FIRST;
  c->outgoing_calls = g_hash_table_new (g_direct_hash, g_direct_equal);
  c->incoming_calls = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  half_init (&c->up, c, SC_DBUS_FROM_CLIENT, fd, bus_fd);
  half_init (&c->down, c, SC_DBUS_FROM_BUS, bus_fd, fd);
  /* the bus wants the credentials byte first; the client's is checked, not forwarded */
  half_emit (&c->up, (const guint8 *)"", 1, NULL, 0);
  c->source = g_source_new (&client_source_funcs, sizeof (ClientSource));
  ((ClientSource *)c->source)->client = c;
  g_source_set_static_name (c->source, "dbus-proxy client");
  c->client_tag = g_source_add_unix_fd (c->source, fd, G_IO_IN);
  c->bus_tag = g_source_add_unix_fd (c->source, bus_fd, G_IO_IN | G_IO_OUT);
  g_source_attach (c->source, NULL);
  g_hash_table_add (proxy.clients, c);
  proxy_debug ("client %u: pid %d uid %u", c->id, (int)c->pid, (unsigned)c->uid);
}

static gboolean
listen_cb (int fd, GIOCondition condition, gpointer user_data)
{
  for (int i = 0; i < 16; i++)
    {
      int client = accept4 (fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

      if (client < 0)
        {
          if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            proxy_warning ("accept: %s", g_strerror (errno));
          break;
        }
      client_new (client);
    }
  return G_SOURCE_CONTINUE;
}

/* ---- control ------------------------------------------------------------------------------ */

static void
status_write (const char *data, gsize len)
{
  while (len > 0)
    {
      ssize_t n = write (proxy.status_fd, data, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return; /* the agent is gone: the control fd's end will say so too */
      data += n;
      len -= (gsize)n;
    }
}

static void
control_line (const char *line)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (ScDbusRules) rules = sc_dbus_rules_new ();
  g_autoptr (GError) error = NULL;

  if (!json_parser_load_from_data (parser, line, -1, &error)
      || !sc_dbus_rules_add_json (rules, json_parser_get_root (parser), "rules", &error))
    {
      g_autofree char *text = g_strdup_printf ("E%s\n", error->message);
      proxy_warning ("bad rules from the agent: %s", error->message);
      status_write (text, strlen (text));
      return;
    }
  sc_dbus_rules_free (proxy.rules);
  proxy.rules = g_steal_pointer (&rules);
  proxy_debug ("%u rule(s) hold from now on", proxy.rules->rules->len);
  status_write ("A", 1);
}

static gboolean
control_cb (int fd, GIOCondition condition, gpointer user_data)
{
  char buf[4096];
  ssize_t n;
  char *nl;

  n = read (fd, buf, sizeof buf);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return G_SOURCE_CONTINUE;
  if (n <= 0)
    {
      proxy_debug ("the control pipe closed: exiting");
      g_main_loop_quit (proxy.loop);
      return G_SOURCE_REMOVE;
    }
  g_string_append_len (proxy.control_line, buf, n);
  while ((nl = memchr (proxy.control_line->str, '\n', proxy.control_line->len)) != NULL)
    {
      *nl = '\0';
      control_line (proxy.control_line->str);
      g_string_erase (proxy.control_line, 0, nl - proxy.control_line->str + 1);
    }
  return G_SOURCE_CONTINUE;
}

static gboolean
signal_cb (gpointer user_data)
{
  proxy_debug ("signal: exiting");
  g_main_loop_quit (proxy.loop);
  return G_SOURCE_REMOVE;
}

static int
listen_on (const char *path, GError **error)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  int fd;

  if (strlen (path) >= sizeof addr.sun_path)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FILENAME_TOO_LONG, "socket path %s is too long",
                   path);
      return -1;
    }
  strcpy (addr.sun_path, path);
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "socket: %s",
                   g_strerror (errno));
      return -1;
    }
  if (unlink (path) < 0 && errno != ENOENT)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "cannot remove %s: %s", path,
                   g_strerror (errno));
      close (fd);
      return -1;
    }
  if (bind (fd, (struct sockaddr *)&addr, sizeof addr) < 0 || chmod (path, 0666) < 0
      || listen (fd, 128) < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "cannot listen on %s: %s",
                   path, g_strerror (errno));
      close (fd);
      return -1;
    }
  return fd;
}

static gboolean
check_bus (GError **error)
{
  int fd = connect_bus (error);

  if (fd < 0)
    return FALSE;
  close (fd);
  return TRUE;
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) context
      = g_option_context_new ("- filtering D-Bus proxy of one container");
  g_autoptr (GError) error = NULL;
  int container_id = -1, control_fd = -1, status_fd = -1;
  g_autofree char *bus = NULL, *address = NULL, *socket_path = NULL;
  GOptionEntry entries[] = {
    { "container-id", 0, 0, G_OPTION_ARG_INT, &container_id, "container ID (for logs)", "N" },
    { "bus", 0, 0, G_OPTION_ARG_STRING, &bus, "bus name for logs (session, system)", "NAME" },
    { "address", 0, 0, G_OPTION_ARG_STRING, &address, "D-Bus address of the real bus", "ADDR" },
    { "socket", 0, 0, G_OPTION_ARG_FILENAME, &socket_path, "where to listen", "PATH" },
    { "control-fd", 0, 0, G_OPTION_ARG_INT, &control_fd, "rule lines come here", "FD" },
    { "status-fd", 0, 0, G_OPTION_ARG_INT, &status_fd, "ready and acknowledgements go here", "FD" },
    G_OPTION_ENTRY_NULL,
  };
  GHashTableIter iter;
  gpointer client;

  /* whatever mask the agent's thread had when it spawned us: SIGTERM must get through */
  {
    sigset_t set;

    sigemptyset (&set);
    sigaddset (&set, SIGTERM);
    sigaddset (&set, SIGINT);
    sigprocmask (SIG_UNBLOCK, &set, NULL);
  }
  signal (SIGPIPE, SIG_IGN);
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("softwarecontainer-dbus-proxy: %s\n", error->message);
      return 2;
    }
  if (bus == NULL || address == NULL || socket_path == NULL || control_fd < 0 || status_fd < 0)
    {
      g_printerr ("softwarecontainer-dbus-proxy: --bus, --address, --socket, --control-fd and "
                  "--status-fd are required\n");
      return 2;
    }
  proxy.container_id = container_id;
  proxy.bus = bus;
  proxy.address = address;
  proxy.socket_path = socket_path;
  proxy.control_fd = control_fd;
  proxy.status_fd = status_fd;
  proxy.uid = getuid ();
  proxy.rules = sc_dbus_rules_new (); /* nothing passes until the agent sends rules */
  proxy.control_line = g_string_new (NULL);
  proxy.clients
      = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, (GDestroyNotify)client_unref);
  fcntl (control_fd, F_SETFD, FD_CLOEXEC);
  fcntl (status_fd, F_SETFD, FD_CLOEXEC);

  if (!check_bus (&error))
    {
      g_autofree char *text
          = g_strdup_printf ("cannot reach the %s bus at %s: %s", bus, address, error->message);
      status_write (text, strlen (text));
      return 1;
    }
  proxy.listen_fd = listen_on (socket_path, &error);
  if (proxy.listen_fd < 0)
    {
      status_write (error->message, strlen (error->message));
      return 1;
    }

  proxy.loop = g_main_loop_new (NULL, FALSE);
  g_unix_fd_add (proxy.listen_fd, G_IO_IN, listen_cb, NULL);
  g_unix_set_fd_nonblocking (control_fd, TRUE, NULL);
  g_unix_fd_add (control_fd, G_IO_IN | G_IO_HUP | G_IO_ERR, control_cb, NULL);
  g_unix_signal_add (SIGTERM, signal_cb, NULL);
  g_unix_signal_add (SIGINT, signal_cb, NULL);
  status_write ("R", 1);
  proxy_debug ("listening on %s for %s", socket_path, address);
  g_main_loop_run (proxy.loop);

  unlink (socket_path);
  close (proxy.listen_fd);
  /* closing a client removes it from the table */
  for (;;)
    {
      g_hash_table_iter_init (&iter, proxy.clients);
      if (!g_hash_table_iter_next (&iter, &client, NULL))
        break;
      client_close (client, NULL);
    }
  g_hash_table_unref (proxy.clients);
  sc_dbus_rules_free (proxy.rules);
  g_string_free (proxy.control_line, TRUE);
  g_main_loop_unref (proxy.loop);
  return 0;
}
