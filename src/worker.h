/* The agent's one worker thread. Every blocking liblxc call (start, attach, shutdown, ...)
 * and every fork into a container runs here, one job at a time in the order queued, so the
 * D-Bus main loop never blocks and no two liblxc calls ever touch a container at once. */
#pragma once

#include <glib.h>

typedef struct ScWorker ScWorker;

typedef void (*ScWorkerFunc) (gpointer job);

/* main_context: where done callbacks run (the agent's main loop). */
ScWorker *sc_worker_new (GMainContext *main_context);

/* Runs work(job) on the worker thread, then done(job) on the main context. */
void sc_worker_push (ScWorker *worker, ScWorkerFunc work, ScWorkerFunc done, gpointer job);

/* Waits until every queued job has run, then stops the thread. Done callbacks of those jobs
 * run when the main context is next iterated. */
void sc_worker_free (ScWorker *worker);
