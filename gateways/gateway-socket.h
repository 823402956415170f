/* Host unix sockets handed to a container at /gateways/<name>: what the gateways that give an
 * app a host service's socket (wayland, pulseaudio) share, including their one-switch config
 * items ({"enabled": B}, {"audio": B}). Not a gateway itself.
 *
 * The host directory behind /gateways (ScGatewayContext.gateways_dir) is mounted read-only in
 * the container, so the mount point is made on the host side: an empty file
 * <gateways_dir>/<name>, which the container then sees as /gateways/<name>. The socket is
 * bind-mounted onto it inside the container's mount namespace (mount.c), read-only (so that
 * the app cannot chmod or chown the host's socket through it) with nosuid,nodev. */
#pragma once

#include <glib.h>

#include "gateway.h"
#include "mount.h"

/* Opens host_path (symlinks followed) and checks that it is a unix socket, creates the mount
 * point <gateways_dir>/<name> and mounts the socket onto /gateways/<name> in the container.
 * `what` names the socket in messages ("the Wayland socket"). All or nothing: on failure
 * nothing is left. Errors: SC_ERROR_GATEWAY_FAILED naming the path (missing, not a socket,
 * cannot be mounted). Returns the record of the mount, for sc_gateway_socket_unmount. */
ScMountRecord *sc_gateway_socket_mount (const ScGatewayContext *ctx, const char *host_path,
                                        const char *name, const char *what, GError **error);

/* Reverts sc_gateway_socket_mount: unmounts (record) and removes the host-side mount point.
 * Failures are logged: a revert cannot fail. Takes the record. */
void sc_gateway_socket_unmount (const ScGatewayContext *ctx, const char *name,
                                ScMountRecord *record);

/* Teardown: removes the host-side mount point <gateways_dir>/<name> (the mount itself goes
 * with the container's mount namespace; unlinking the file from the host detaches it there
 * too). A missing file is fine. */
gboolean sc_gateway_socket_remove (const ScGatewayContext *ctx, const char *name, GError **error);

/* Reads the configs (ScGatewayConfig *) of a gateway whose items are objects with one boolean
 * member `key`, e.g. {"enabled": true}. Strict, as every gateway: a config that is not a
 * non-empty array, an item that is not an object, a missing key, another key or a value that
 * is not true/false is SC_ERROR_GATEWAY_CONFIG naming the capability, the item and the key.
 * *any_true: whether some item says true. */
gboolean sc_gateway_read_switch (GPtrArray *configs, const char *gateway_id, const char *key,
                                 gboolean *any_true, GError **error);
