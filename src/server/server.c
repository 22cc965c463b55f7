/*
 * server/server.c - start the roles, wait for a signal, stop in the safe order.
 */
#include "server/server.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "content/content.h"
#include "core/clock.h"
#include "core/log.h"
#include "dashboard/dashboard.h"
#include "http/http.h"
#include "inbox/inbox.h"
#include "kb/kb.h"
#include "meta/graph.h"
#include "meta/meta.h"
#include "meta/privacy.h"
#include "queue/queue.h"
#include "server/demo_int.h"
#include "server/ops.h"
#include "server/scheduler.h"
#include "store/store.h"

struct server {
    const struct config *cfg;
    struct store_opts so;
    struct store *main_store;
    struct queue *queue;
    struct inbox *inbox;
    struct kb_sync *kb_sync; /* SB_KB_DIR, indexed in the background */
    struct meta_ingest *ingest;
    struct meta_privacy *privacy;
    struct ops *ops;
    struct scheduler *scheduler; /* token health (ROLE_SCHEDULER) and account gauges */
    struct dashboard *dashboard;
    struct content_media *media; /* GET /media/{id}.jpg */
    struct content_media_http media_http;
    struct http_server *http;
    struct http_route routes[64];
    size_t n_routes;
};

enum err server_parse_role(const char *s, unsigned *roles)
{
    static const struct {
        const char *name;
        unsigned role;
    } names[] = {{"ingest", ROLE_INGEST},
                 {"worker", ROLE_WORKER},
                 {"gateway", ROLE_GATEWAY},
                 {"scheduler", ROLE_SCHEDULER}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i].name) == 0) {
            *roles = names[i].role;
            return ERR_OK;
        }
    return ERR_INVALID;
}

static void add_route(struct server *r, unsigned methods, const char *pattern, http_handler_fn *fn,
                      void *ctx, size_t max_body)
{
    r->routes[r->n_routes++] = (struct http_route){methods, pattern, fn, ctx, max_body};
}

/* Meta's data deletion and deauthorize callbacks (meta/privacy.h). */
static enum err add_privacy_routes(struct server *r, const struct config *cfg)
{
    struct meta_privacy_opts po = {.app_secret = cfg->meta_app_secret,
                                   .public_url = cfg->public_url,
                                   .store = &r->so,
                                   .queue = r->queue};
    enum err rc = meta_privacy_new(&po, &r->privacy);
    if (rc != ERR_OK)
        return rc;
    add_route(r, HTTP_POST, "/meta/data-deletion", meta_privacy_deletion, r->privacy,
              META_PRIVACY_MAX_BODY);
    add_route(r, HTTP_GET, "/meta/data-deletion/{code}", meta_privacy_deletion_status, r->privacy,
              0);
    add_route(r, HTTP_POST, "/meta/deauthorize", meta_privacy_deauthorize, r->privacy,
              META_PRIVACY_MAX_BODY);
    return ERR_OK;
}

static enum err start_http(struct server *r, const struct config *cfg, unsigned roles)
{
    if (roles & ROLE_INGEST) {
        struct meta_ingest_opts io = {.app_secret = cfg->meta_app_secret,
                                      .verify_token = cfg->meta_verify_token,
                                      .queue = r->queue};
        enum err rc = meta_ingest_new(&io, &r->ingest);
        if (rc != ERR_OK)
            return rc;
        add_route(r, HTTP_GET, "/webhooks/meta", meta_webhook_verify, r->ingest, 0);
        add_route(r, HTTP_POST, "/webhooks/meta", meta_webhook_receive, r->ingest,
                  (size_t)cfg->webhook_max_bytes);
        rc = add_privacy_routes(r, cfg);
        if (rc != ERR_OK)
            return rc;
    }
    add_route(r, HTTP_GET, "/healthz", ops_healthz, r->ops, 0);
    add_route(r, HTTP_GET, "/readyz", ops_readyz, r->ops, 0);
    add_route(r, HTTP_GET, "/metrics", ops_metrics, r->ops, 0);
    enum err mrc = content_media_open(cfg->data_dir, &r->media);
    if (mrc != ERR_OK)
        return mrc;
    r->media_http = (struct content_media_http){.media = r->media, .store = &r->so};
    add_route(r, HTTP_GET, "/media/{file}", content_media_serve, &r->media_http, 0);
    if (roles & ROLE_GATEWAY) {
        enum err rc = dashboard_new(cfg, &r->so, r->queue, &r->dashboard);
        if (rc == ERR_OK)
            rc = dashboard_start_live(r->dashboard);
        if (rc != ERR_OK)
            return rc;
        r->n_routes += dashboard_routes(r->dashboard, r->routes + r->n_routes,
                                        sizeof r->routes / sizeof r->routes[0] - r->n_routes);
    }
    struct http_server_opts ho = {.host = cfg->listen_host,
                                  .port = cfg->listen_port,
                                  .threads = (int)cfg->http_threads,
                                  .idle_timeout_s = 60};
    return http_server_start(&ho, r->routes, r->n_routes, &r->http);
}

/* The workers, with what the reply path needs: the Graph client's options (no app id or
 * secret: replies off), the vault's key, the knowledge base's options. */
static enum err start_inbox(struct server *r, const struct config *cfg)
{
    const struct meta_graph_opts go = {.graph_url = cfg->meta_graph_url,
                                       .version = cfg->meta_graph_version,
                                       .app_id = cfg->meta_app_id,
                                       .app_secret = cfg->meta_app_secret};
    const struct kb_opts ko = {
        .embed_url = cfg->embed_url, .embed_model = cfg->embed_model, .api_key = cfg->llm_api_key};
    const struct agent_opts ao = {.llm_url = cfg->llm_url,
                                  .llm_model = cfg->llm_model,
                                  .llm_api_key = cfg->llm_api_key,
                                  .llm_timeout_ms = (long)cfg->llm_timeout_ms,
                                  .tools_file = cfg->tools_file};
    struct inbox_opts io = {.store = &r->so,
                            .queue = r->queue,
                            .workers = (int)cfg->workers,
                            .meta_app_id = cfg->meta_app_id,
                            .graph = &go,
                            .master_key = cfg->master_key,
                            .data_dir = cfg->data_dir,
                            .kb = &ko,
                            .business_name = cfg->business_name,
                            .turn_burst_ms = cfg->turn_burst_ms,
                            .send_rate = cfg->send_rate,
                            .gapfill_interval_s = cfg->gapfill_interval_s,
                            .silent_floor_s = cfg->silent_floor_s,
                            .agent = &ao,
                            .public_url = cfg->public_url};
    return inbox_start(&io, &r->inbox);
}

static enum err start(struct server *r, const struct config *cfg, unsigned roles)
{
    r->cfg = cfg;
    r->so = (struct store_opts){.data_dir = cfg->data_dir,
                                .database_url = cfg->database_url,
                                .sync_full = strcmp(cfg->db_sync, "full") == 0};
    enum err rc = content_init("switchboard");
    if (rc == ERR_OK)
        rc = store_open(&r->so, &r->main_store);
    if (rc == ERR_OK)
        rc = store_migrate(r->main_store, NULL, NULL);
    if (rc == ERR_OK)
        rc = queue_new(&r->so, (int)cfg->queue_max_attempts, &r->queue);
    if (rc == ERR_OK)
        rc = queue_release_orphans(r->queue, r->main_store);
    if (rc == ERR_OK)
        rc = ops_new(&r->so, &r->ops);
    if (rc == ERR_OK && (roles & ROLE_WORKER))
        rc = start_inbox(r, cfg);
    if (rc == ERR_OK && (roles & ROLE_WORKER) && cfg->kb_dir && *cfg->kb_dir) {
        struct kb_opts ko = {.embed_url = cfg->embed_url,
                             .embed_model = cfg->embed_model,
                             .api_key = cfg->llm_api_key};
        rc = kb_sync_start(&r->so, &ko, cfg->kb_dir, KB_SYNC_INTERVAL_MS, &r->kb_sync);
    }
    if (rc == ERR_OK)
        rc = scheduler_start(cfg, &r->so, roles, &r->scheduler);
    if (rc == ERR_OK && (roles & (ROLE_INGEST | ROLE_GATEWAY)))
        rc = start_http(r, cfg, roles);
    return rc;
}

/* The order matters: requests in flight wait for the queue writer, so HTTP drains first;
 * the writer flushes before the database is checkpointed and closed. */
static void stop(struct server *r)
{
    const struct config *cfg = r->cfg;
    if (r->http) {
        http_server_quiesce(r->http);
        dashboard_stop_live(r->dashboard); /* WebSockets closed: nothing holds the drain up */
        if (!http_server_drain(r->http, (int)cfg->shutdown_grace_ms))
            log_warn("server.drain_timeout", LOG_INT("in_flight", http_server_in_flight(r->http)));
        http_server_stop(r->http);
    }
    scheduler_stop(r->scheduler);
    kb_sync_stop(r->kb_sync);
    inbox_stop(r->inbox);
    queue_free(r->queue);
    meta_ingest_free(r->ingest);
    meta_privacy_free(r->privacy);
    ops_free(r->ops);
    dashboard_free(r->dashboard);
    content_media_free(r->media);
    if (r->main_store)
        store_checkpoint(r->main_store);
    store_free(r->main_store);
}

static int wait_for_signal(const sigset_t *set)
{
    int sig = 0;
    while (sigwait(set, &sig) != 0) {
    }
    return sig;
}

enum err server_start(const struct config *cfg, unsigned roles, struct server **out)
{
    signal(SIGPIPE, SIG_IGN);
    struct server *r = xcalloc(1, sizeof *r);
    enum err rc = start(r, cfg, roles);
    if (rc != ERR_OK) {
        log_error("server.start_failed", LOG_ERR(rc));
        server_stop(r);
        return rc;
    }
    log_info("server.started", LOG_STR("listen", cfg->listen),
             LOG_STR("public_url", cfg->public_url), LOG_INT("roles", roles),
             LOG_INT("workers", cfg->workers));
    *out = r;
    return ERR_OK;
}

void server_stop(struct server *r)
{
    if (!r)
        return;
    stop(r);
    free(r);
}

struct store *server_store(struct server *r)
{
    return r->main_store;
}

/* Blocks the stop signals for this thread and the threads it starts. */
static sigset_t block_stop_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    return set;
}

enum err server_run(const struct config *cfg, unsigned roles)
{
    sigset_t set = block_stop_signals();
    struct server *r = NULL;
    enum err rc = server_start(cfg, roles, &r);
    if (rc != ERR_OK)
        return rc;
    int sig = wait_for_signal(&set);
    int64_t t0 = clock_mono_us();
    log_info("server.stopping", LOG_STR("signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"));
    server_stop(r);
    log_info("server.stopped", LOG_INT("ms", (clock_mono_us() - t0) / 1000));
    return ERR_OK;
}

enum err server_demo(struct config *cfg)
{
    sigset_t set = block_stop_signals();
    return demo_run(cfg, &set);
}
