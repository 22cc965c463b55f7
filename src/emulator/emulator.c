/*
 * emulator/emulator.c - the emulator's route table, its start and stop, and the
 * `switchboard emulator` command the test suites run as their Meta.
 */
#include "emulator/emulator.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "emulator/emu_int.h"
#include "http/client.h"

#define GRAPH_MAX_BODY ((size_t)1024 * 1024)

/* First match wins: literal paths before {id} ones, the catch-all last. */
static const struct http_route route_table[] = {
    {HTTP_GET, "/", emu_h_simulator, NULL, 0},
    {HTTP_GET, "/_emulator/state", emu_h_control_state, NULL, 0},
    {HTTP_POST, "/_emulator/customers/{n}/messages", emu_h_control_customer_message, NULL, 0},
    {HTTP_POST, "/_emulator/customers/{n}/comments", emu_h_control_comment, NULL, 0},
    {HTTP_GET, "/_emulator/threads/{id}", emu_h_control_thread, NULL, 0},
    {HTTP_GET, "/_emulator/stats", emu_h_control_stats, NULL, 0},
    {HTTP_GET | HTTP_POST | HTTP_DELETE, "/_emulator/faults", emu_h_control_faults, NULL, 0},
    {HTTP_POST, "/_emulator/clock", emu_h_control_clock, NULL, 0},
    {HTTP_POST, "/_emulator/config", emu_h_control_config, NULL, 0},
    {HTTP_GET, "/_emulator/deliveries", emu_h_control_deliveries, NULL, 0},
    {HTTP_POST, "/_emulator/users/{asid}/{action}", emu_h_control_user_action, NULL, 0},
    {HTTP_GET, "/_emulator/media/{file}", emu_h_control_media_image, NULL, 0},
    {HTTP_POST, "/_emulator/containers/{id}", emu_h_control_container, NULL, 0},
    {HTTP_GET, "/{ver}/dialog/oauth", emu_h_dialog, NULL, 0},
    {HTTP_POST, "/{ver}/dialog/oauth/confirm", emu_h_dialog_confirm, NULL, 0},
    {HTTP_GET | HTTP_POST, "/{ver}/oauth/access_token", emu_h_access_token, NULL, 0},
    {HTTP_GET, "/{ver}/debug_token", emu_h_debug_token, NULL, 0},
    {HTTP_GET, "/{ver}/me", emu_h_me, NULL, 0},
    {HTTP_GET, "/{ver}/{id}/accounts", emu_h_me_accounts, NULL, 0},
    {HTTP_GET, "/{ver}/{id}/permissions", emu_h_me_permissions, NULL, 0},
    {HTTP_GET | HTTP_POST, "/{ver}/{id}/messages", emu_h_messages, NULL, GRAPH_MAX_BODY},
    {HTTP_GET | HTTP_POST | HTTP_DELETE, "/{ver}/{id}/subscribed_apps", emu_h_subscribed_apps, NULL,
     0},
    {HTTP_GET, "/{ver}/{id}/conversations", emu_h_conversations, NULL, 0},
    {HTTP_GET | HTTP_POST, "/{ver}/{id}/comments", emu_h_comments, NULL, 0},
    {HTTP_GET | HTTP_POST, "/{ver}/{id}/replies", emu_h_replies, NULL, 0},
    {HTTP_GET | HTTP_POST, "/{ver}/{id}/media", emu_h_media, NULL, GRAPH_MAX_BODY},
    {HTTP_POST, "/{ver}/{id}/media_publish", emu_h_media_publish, NULL, 0},
    {HTTP_GET, "/{ver}/{id}/content_publishing_limit", emu_h_publishing_limit, NULL, 0},
    {HTTP_GET | HTTP_POST | HTTP_DELETE, "/{ver}/{id}", emu_h_node, NULL, GRAPH_MAX_BODY},
    {HTTP_GET | HTTP_POST | HTTP_DELETE, "/*", emu_h_unknown, NULL, GRAPH_MAX_BODY},
};

#define N_ROUTES (sizeof route_table / sizeof route_table[0])

struct emulator_box {
    struct emulator e;
    struct http_route routes[N_ROUTES];
};

static void defaults(struct emulator *e)
{
    struct emulator_opts *o = &e->o;
    if (o->webhook_retry_ms <= 0)
        o->webhook_retry_ms = 1000;
    if (o->webhook_max_attempts <= 0)
        o->webhook_max_attempts = 8;
    if (o->container_ready_ms < 0)
        o->container_ready_ms = 0;
    if (o->quota_total <= 0)
        o->quota_total = 100;
    if (o->rate_limit_per_hour <= 0)
        o->rate_limit_per_hour = 4800;
}

static char *dup_or_null(const char *s)
{
    return s && *s ? xstrdup(s) : NULL;
}

enum err emulator_start(const struct emulator_opts *o, struct emulator **out)
{
    struct emulator_box *box = xcalloc(1, sizeof *box);
    struct emulator *e = &box->e;
    e->o = *o;
    e->clock_offset_ms = -(int64_t)o->start_days_ago * EMU_DAY_MS; /* a test's past */
    defaults(e);
    e->app_id = xstrdup(o->app_id && *o->app_id ? o->app_id : "1234567890123456");
    e->app_secret =
        xstrdup(o->app_secret && *o->app_secret ? o->app_secret : "emulator-app-secret");
    e->webhook_url = dup_or_null(o->webhook_url);
    e->deauthorize_url = dup_or_null(o->deauthorize_url);
    e->deletion_url = dup_or_null(o->deletion_url);
    pthread_mutex_init(&e->mu, NULL);
    snprintf(e->app_tok.value, sizeof e->app_tok.value, "%s|%s", e->app_id, e->app_secret);
    e->app_tok.kind = EMU_TOK_APP;
    e->app_tok.user = -1;
    e->app_tok.page = -1;
    emu_world_seed(e);

    for (size_t i = 0; i < N_ROUTES; i++) {
        box->routes[i] = route_table[i];
        box->routes[i].ctx = e;
    }
    struct http_server_opts ho = {.host = o->host ? o->host : "127.0.0.1",
                                  .port = o->port,
                                  .threads = 16, /* slow-answer faults sleep in a thread */
                                  .idle_timeout_s = 60};
    enum err rc = http_server_start(&ho, box->routes, N_ROUTES, &e->http);
    if (rc == ERR_OK) {
        e->port = http_server_port(e->http);
        char url[128];
        snprintf(url, sizeof url, "http://%s:%d", ho.host, e->port);
        e->public_url = xstrdup(o->public_url && *o->public_url ? o->public_url : url);
        rc = emu_deliver_start(e);
    }
    if (rc != ERR_OK) {
        emulator_stop(e);
        return rc;
    }
    *out = e;
    return ERR_OK;
}

int emulator_port(const struct emulator *e)
{
    return e->port;
}

void emulator_stop(struct emulator *e)
{
    if (!e)
        return;
    if (e->http) {
        __atomic_store_n(&e->is_stopping, true, __ATOMIC_RELEASE); /* late answers go now */
        while (__atomic_load_n(&e->n_late_answers, __ATOMIC_ACQUIRE) > 0)
            clock_sleep_ms(5);
        http_server_quiesce(e->http);
        http_server_drain(e->http, 2000);
        http_server_stop(e->http);
    }
    emu_deliver_stop(e);
    emu_world_free(e);
    pthread_mutex_destroy(&e->mu);
    free(e->app_id);
    free(e->app_secret);
    free(e->public_url);
    free(e->webhook_url);
    free(e->deauthorize_url);
    free(e->deletion_url);
    free((struct emulator_box *)e);
}

/* ---- `switchboard emulator` ---- */

struct flag {
    const char *name;
    const char **str; /* string flags */
    int *num;         /* integer flags */
};

static int usage(const char *why, const char *arg)
{
    fprintf(stderr, "switchboard emulator: %s%s%s\n", why, arg ? ": " : "", arg ? arg : "");
    return 2;
}

static int parse_listen(const char *s, char *host, size_t host_len, int *port)
{
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s || (size_t)(colon - s) >= host_len)
        return -1;
    char *end = NULL;
    long p = strtol(colon + 1, &end, 10);
    if (!end || *end || p < 0 || p > 65535)
        return -1;
    snprintf(host, host_len, "%.*s", (int)(colon - s), s);
    *port = (int)p;
    return 0;
}

static int parse_flags(int argc, const char **argv, struct emulator_opts *o, char *host,
                       size_t host_len)
{
    const char *listen = "127.0.0.1:9090";
    const struct flag flags[] = {
        {"--listen", &listen, NULL},
        {"--app-id", &o->app_id, NULL},
        {"--app-secret", &o->app_secret, NULL},
        {"--webhook", &o->webhook_url, NULL},
        {"--deauthorize-url", &o->deauthorize_url, NULL},
        {"--deletion-url", &o->deletion_url, NULL},
        {"--public-url", &o->public_url, NULL},
        {"--quota", NULL, &o->quota_total},
        {"--rate-limit", NULL, &o->rate_limit_per_hour},
        {"--container-ready-ms", NULL, &o->container_ready_ms},
        {"--webhook-retry-ms", NULL, &o->webhook_retry_ms},
        {"--webhook-max-attempts", NULL, &o->webhook_max_attempts},
        {"--start-days-ago", NULL, &o->start_days_ago},
        {"--customers", NULL, &o->customers},
    };
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--require-proof") == 0) {
            o->require_proof = 1;
            continue;
        }
        const struct flag *f = NULL;
        for (size_t k = 0; k < sizeof flags / sizeof flags[0] && !f; k++)
            if (strcmp(argv[i], flags[k].name) == 0)
                f = &flags[k];
        if (!f)
            return usage("unknown argument", argv[i]);
        if (i + 1 >= argc)
            return usage("missing value for", argv[i]);
        const char *v = argv[++i];
        if (f->str) {
            *f->str = v;
            continue;
        }
        char *end = NULL;
        long n = strtol(v, &end, 10);
        if (!end || *end || n < 0 || n > 100000000)
            return usage("not a non-negative integer", argv[i - 1]);
        *f->num = (int)n;
    }
    if (parse_listen(listen, host, host_len, &o->port) != 0)
        return usage("--listen wants HOST:PORT", listen);
    o->host = host;
    return 0;
}

int emulator_main(int argc, const char **argv)
{
    struct emulator_opts o = {0};
    char host[64];
    int rc = parse_flags(argc, argv, &o, host, sizeof host);
    if (rc != 0)
        return rc;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    http_client_global_init();
    struct emulator *e = NULL;
    enum err err = emulator_start(&o, &e);
    if (err != ERR_OK) {
        fprintf(stderr, "switchboard emulator: cannot listen on %s:%d (%s)\n", host, o.port,
                err_name(err));
        return 1;
    }
    log_info("emulator.listening", LOG_INT("port", e->port), LOG_STR("app_id", e->app_id),
             LOG_STR("url", e->public_url));
    int sig = 0;
    sigwait(&set, &sig);
    log_info("emulator.stopping", LOG_INT("signal", sig));
    emulator_stop(e);
    return 0;
}

void emu_h_unknown(struct http_req *r, void *ctx)
{
    (void)ctx;
    char *msg = arena_printf(http_req_arena(r), "Unknown path components: %s", http_req_path(r));
    emu_error(r, 400, 2500, 0, NULL, msg);
}
