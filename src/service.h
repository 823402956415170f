/* The D-Bus face of the agent (see service.c). */
#pragma once

#include <gio/gio.h>

#include "agent.h"

typedef struct ScService ScService;

/* Exports the agent's object on connection; the caller owns the bus name. */
ScService *sc_service_new (ScAgent *agent, GDBusConnection *connection, GError **error);
void sc_service_free (ScService *service);
