/* The worker thread (see worker.h): a GThreadPool of exactly one exclusive thread. */
#include "worker.h"

struct ScWorker {
  GThreadPool *pool;
  GMainContext *main_context;
};

typedef struct {
  ScWorkerFunc work;
  ScWorkerFunc done;
  gpointer job;
  ScWorker *worker;
} Item;

static gboolean
done_cb (gpointer data)
{
  Item *item = data;
  item->done (item->job);
  return G_SOURCE_REMOVE;
}

static void
run_item (gpointer data, gpointer user_data)
{
  Item *item = data;

  item->work (item->job);
  g_main_context_invoke_full (item->worker->main_context, G_PRIORITY_DEFAULT, done_cb, item,
                              g_free);
}

ScWorker *
sc_worker_new (GMainContext *main_context)
{
  ScWorker *worker = g_new0 (ScWorker, 1);

  worker->main_context = g_main_context_ref (main_context);
  /* exclusive with one thread: jobs run strictly in order on one long-lived thread */
  worker->pool = g_thread_pool_new (run_item, worker, 1, TRUE, NULL);
  return worker;
}

void
sc_worker_push (ScWorker *worker, ScWorkerFunc work, ScWorkerFunc done, gpointer job)
{
  Item *item = g_new0 (Item, 1);

  item->work = work;
  item->done = done;
  item->job = job;
  item->worker = worker;
  g_thread_pool_push (worker->pool, item, NULL);
}

void
sc_worker_free (ScWorker *worker)
{
  if (worker == NULL)
    return;
  g_thread_pool_free (worker->pool, FALSE, TRUE);
  g_main_context_unref (worker->main_context);
  g_free (worker);
}
