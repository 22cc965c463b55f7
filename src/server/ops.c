/*
 * server/ops.c - liveness, readiness and the Prometheus page.
 */
#include "server/ops.h"

#include <pthread.h>
#include <stdlib.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/metrics.h"

#define STATS_TTL_MS 1000

struct ops {
    pthread_mutex_t lock;
    struct store *store;
    struct store_queue_stats stats;
    int64_t stats_at_ms;
    enum err stats_rc;
};

/* Queue gauges read the database at most once per STATS_TTL_MS, whatever the scrape rate. */
static struct store_queue_stats read_stats(struct ops *o)
{
    pthread_mutex_lock(&o->lock);
    int64_t now = clock_now_ms();
    if (now - o->stats_at_ms >= STATS_TTL_MS) {
        o->stats_rc = store_queue_stats(o->store, now, &o->stats);
        o->stats_at_ms = now;
    }
    struct store_queue_stats st = o->stats;
    pthread_mutex_unlock(&o->lock);
    return st;
}

static double g_ready(void *ctx)
{
    return (double)read_stats(ctx).ready;
}

static double g_delayed(void *ctx)
{
    return (double)read_stats(ctx).delayed;
}

static double g_running(void *ctx)
{
    return (double)read_stats(ctx).running;
}

static double g_dead(void *ctx)
{
    return (double)read_stats(ctx).dead;
}

enum err ops_new(const struct store_opts *so, struct ops **out)
{
    struct ops *o = xcalloc(1, sizeof *o);
    pthread_mutex_init(&o->lock, NULL);
    enum err rc = store_open(so, &o->store);
    if (rc != ERR_OK) {
        free(o);
        return rc;
    }
    static const char depth[] = "Jobs in the durable queue, by state";
    metrics_gauge("switchboard_queue_jobs", depth, "state=\"ready\"", g_ready, o);
    metrics_gauge("switchboard_queue_jobs", depth, "state=\"delayed\"", g_delayed, o);
    metrics_gauge("switchboard_queue_jobs", depth, "state=\"running\"", g_running, o);
    metrics_gauge("switchboard_dead_letters", "Rows in the dead-letter table", NULL, g_dead, o);
    *out = o;
    return ERR_OK;
}

void ops_free(struct ops *o)
{
    if (!o)
        return;
    store_free(o->store);
    pthread_mutex_destroy(&o->lock);
    free(o);
}

void ops_healthz(struct http_req *req, void *ctx)
{
    (void)ctx;
    http_reply_text(req, 200, "ok\n");
}

void ops_readyz(struct http_req *req, void *ctx)
{
    struct ops *o = ctx;
    pthread_mutex_lock(&o->lock);
    enum err rc = store_ping(o->store);
    pthread_mutex_unlock(&o->lock);
    if (rc != ERR_OK) {
        log_warn("ops.not_ready", LOG_ERR(rc));
        http_reply_error(req, ERR_AGAIN, "database not reachable or schema not current");
        return;
    }
    http_reply_text(req, 200, "ready\n");
}

void ops_metrics(struct http_req *req, void *ctx)
{
    (void)ctx;
    struct buf b;
    buf_init(&b, 1 << 20);
    if (metrics_render(&b) != ERR_OK) {
        buf_release(&b);
        http_reply_error(req, ERR_INTERNAL, "metrics too large");
        return;
    }
    http_reply(req, 200, "text/plain; version=0.0.4", b.data, b.len);
    buf_release(&b);
}
