/*
 * server/scheduler.c - the token health thread and the account gauges (scheduler.h).
 *
 * The thread runs meta_token_check_run() at start and then every SB_TOKEN_CHECK_INTERVAL_S,
 * with its own store handle, Graph client and vault; a stop wakes it at once and waits at most
 * for the call in hand (TOKEN_CALL_TIMEOUT_MS). Without Meta app credentials there is nothing
 * to ask, so the thread does not start (one info line says so).
 */
#include "server/scheduler.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/thread.h"
#include "meta/graph.h"
#include "meta/token_check.h"
#include "meta/vault.h"
#include "server/server.h"

#define GAUGE_TTL_MS          1000
#define TOKEN_CALL_TIMEOUT_MS 10000 /* bounds how long a stop waits for the thread */

struct scheduler {
    const struct config *cfg;
    const struct store_opts *so;
    /* the token health thread */
    pthread_t thread;
    bool has_thread;
    atomic_bool stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct meta_graph *graph;
    struct meta_vault *vault;
    /* the gauges */
    pthread_mutex_t gauge_mu;
    struct store *gauge_store;
    struct meta_accounts_tally tally;
    int64_t tally_at_ms;
};

static struct metric *m_valid, *m_invalid, *m_error;

/* ---- gauges ---- */

static struct meta_accounts_tally read_tally(struct scheduler *sc)
{
    pthread_mutex_lock(&sc->gauge_mu);
    int64_t now = clock_now_ms();
    if (now - sc->tally_at_ms >= GAUGE_TTL_MS) {
        struct arena a;
        arena_init(&a);
        struct store_account *rows = NULL;
        size_t n = 0;
        if (store_accounts_list(sc->gauge_store, &a, &rows, &n) == ERR_OK)
            meta_accounts_tally(rows, n, now, &sc->tally);
        sc->tally_at_ms = now;
        arena_release(&a);
    }
    struct meta_accounts_tally t = sc->tally;
    pthread_mutex_unlock(&sc->gauge_mu);
    return t;
}

static double g_active(void *ctx)
{
    return (double)read_tally(ctx).by_status[STORE_ACCOUNT_ACTIVE];
}

static double g_needs_reconnect(void *ctx)
{
    return (double)read_tally(ctx).by_status[STORE_ACCOUNT_NEEDS_RECONNECT];
}

static double g_revoked(void *ctx)
{
    return (double)read_tally(ctx).by_status[STORE_ACCOUNT_REVOKED];
}

static double g_expiring(void *ctx)
{
    return (double)read_tally(ctx).expiring;
}

static double g_silent(void *ctx)
{
    return (double)read_tally(ctx).silent;
}

static void register_metrics(struct scheduler *sc)
{
    static const char accounts[] = "Connected Pages and Instagram accounts, by status";
    metrics_gauge("switchboard_accounts", accounts, "status=\"active\"", g_active, sc);
    metrics_gauge("switchboard_accounts", accounts, "status=\"needs_reconnect\"", g_needs_reconnect,
                  sc);
    metrics_gauge("switchboard_accounts", accounts, "status=\"revoked\"", g_revoked, sc);
    metrics_gauge("switchboard_accounts_token_expiring",
                  "Active accounts whose token or data access ends within 7 days", NULL, g_expiring,
                  sc);
    metrics_gauge("switchboard_accounts_silent",
                  "Active accounts that have heard nothing from Meta for far longer than usual",
                  NULL, g_silent, sc);
    static const char checks[] = "Token health checks (debug_token), by outcome";
    m_valid = metrics_counter("switchboard_token_checks_total", checks, "result=\"valid\"");
    m_invalid = metrics_counter("switchboard_token_checks_total", checks, "result=\"invalid\"");
    m_error = metrics_counter("switchboard_token_checks_total", checks, "result=\"error\"");
}

/* ---- the token health thread ---- */

/* Sleeps for the interval; false when it is time to stop. */
static bool wait_next(struct scheduler *sc)
{
    int64_t ms = sc->cfg->token_check_interval_s * 1000;
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += (time_t)(ms / 1000);
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&sc->mu);
    int rc = 0;
    while (!atomic_load(&sc->stop) && rc == 0)
        rc = pthread_cond_timedwait(&sc->cv, &sc->mu, &until);
    pthread_mutex_unlock(&sc->mu);
    return !atomic_load(&sc->stop);
}

static void round_once(struct scheduler *sc, struct store *s)
{
    struct meta_token_check_result res;
    if (meta_token_check_run(sc->graph, sc->vault, s, clock_now_ms(), &sc->stop, &res) != ERR_OK)
        return; /* logged by the round; the next one tries again */
    metrics_inc(m_valid, res.n_valid);
    metrics_inc(m_invalid, res.n_invalid);
    metrics_inc(m_error, res.n_errors);
}

static void *run(void *arg)
{
    struct scheduler *sc = arg;
    thread_set_background("sb-scheduler");
    struct store *s = NULL;
    enum err rc = store_open(sc->so, &s);
    if (rc != ERR_OK) {
        log_error("scheduler.failed", LOG_STR("reason", "the database could not be opened"),
                  LOG_ERR(rc));
        return NULL;
    }
    do
        round_once(sc, s);
    while (!atomic_load(&sc->stop) && wait_next(sc));
    store_free(s);
    return NULL;
}

static enum err start_thread(struct scheduler *sc)
{
    const struct config *cfg = sc->cfg;
    if (!*cfg->meta_app_id || !*cfg->meta_app_secret) {
        log_info("scheduler.token_check_off",
                 LOG_STR("reason", "SB_META_APP_ID and SB_META_APP_SECRET are not both set"));
        return ERR_OK;
    }
    const struct meta_graph_opts go = {.graph_url = cfg->meta_graph_url,
                                       .version = cfg->meta_graph_version,
                                       .app_id = cfg->meta_app_id,
                                       .app_secret = cfg->meta_app_secret,
                                       .timeout_ms = TOKEN_CALL_TIMEOUT_MS};
    enum err rc = meta_graph_new(&go, &sc->graph);
    if (rc == ERR_OK)
        rc = meta_vault_new(cfg->master_key, cfg->data_dir, &sc->vault);
    if (rc != ERR_OK)
        return rc;
    if (pthread_create(&sc->thread, NULL, run, sc) != 0)
        return ERR_INTERNAL;
    sc->has_thread = true;
    log_info("scheduler.started", LOG_INT("token_check_interval_s", cfg->token_check_interval_s));
    return ERR_OK;
}

/* ---- lifecycle ---- */

static void init_sync(struct scheduler *sc)
{
    pthread_mutex_init(&sc->mu, NULL);
    pthread_mutex_init(&sc->gauge_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&sc->cv, &ca);
    pthread_condattr_destroy(&ca);
}

enum err scheduler_start(const struct config *cfg, const struct store_opts *so, unsigned roles,
                         struct scheduler **out)
{
    struct scheduler *sc = xcalloc(1, sizeof *sc);
    sc->cfg = cfg;
    sc->so = so;
    sc->tally_at_ms = INT64_MIN / 2;
    init_sync(sc);
    enum err rc = store_open(so, &sc->gauge_store);
    if (rc == ERR_OK)
        register_metrics(sc); /* before the thread, which counts into them */
    if (rc == ERR_OK && (roles & ROLE_SCHEDULER))
        rc = start_thread(sc);
    if (rc != ERR_OK) {
        log_error("scheduler.failed", LOG_ERR(rc));
        scheduler_stop(sc);
        return rc;
    }
    *out = sc;
    return ERR_OK;
}

void scheduler_stop(struct scheduler *sc)
{
    if (!sc)
        return;
    if (sc->has_thread) {
        pthread_mutex_lock(&sc->mu);
        atomic_store(&sc->stop, true);
        pthread_cond_signal(&sc->cv);
        pthread_mutex_unlock(&sc->mu);
        pthread_join(sc->thread, NULL);
    }
    meta_graph_free(sc->graph);
    meta_vault_free(sc->vault);
    store_free(sc->gauge_store);
    pthread_cond_destroy(&sc->cv);
    pthread_mutex_destroy(&sc->gauge_mu);
    pthread_mutex_destroy(&sc->mu);
    free(sc);
}
