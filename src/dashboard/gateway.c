/*
 * dashboard/gateway.c - /ws: the live events the page applies, fanned out from the bus.
 *
 * The bus is the store's bus_events table (store.h), written by the store itself with every
 * change. The gateway tails it by id on the hub's thread (http/ws.c): woken at once when this
 * process commits (store_bus_listen), and every SB_BUS_POLL_MS for other processes' commits.
 * Each event is turned into one JSON message with the current state of its row, built once,
 * and sent to every connection. The hub thread owns the cursor and every connection, so there
 * is no lock and no event can be sent out of order or twice to one client.
 *
 * A client says where it is with ?after=ID (the last event id it applied, or the event_id a
 * REST answer carried): it first gets every event after that id, then the live ones, with no
 * gap. When those events were pruned (or the id is from another database), it gets
 * {"type":"resync"} and reloads over REST. Every SB_WS_PING_MS each client gets a heartbeat
 * with the newest id, its session is checked (signed out or expired: closed with 4001) and
 * touched (the operator is online, inbox/handoff.h).
 *
 * Upgrades need the session cookie (401) and an Origin equal to SB_PUBLIC_URL's (403).
 */
#include "dashboard/dash_int.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"

#define REPLAY_MAX        5000             /* events replayed to one client; more: resync */
#define BUS_BATCH         500              /* events read per query */
#define BUS_RETENTION_MS  (24LL * 3600000) /* events kept for resuming clients */
#define BUS_PRUNE_EVERY   (10LL * 60000)
#define WS_MAX_FRAME      4096 /* clients send only small control messages */
#define CLOSE_SESSION_END 4001

struct ws_client {
    int64_t operator_id;
    char id_hash[65];
    int64_t after; /* -1: no resume point given */
};

struct gateway {
    struct dashboard *d;
    struct http_ws_hub *hub;
    struct store *store; /* the hub thread's own connection */
    int64_t cursor;      /* the last event id fanned out */
    int64_t last_beat_ms, last_prune_ms;
    char origin[512];
};

/* ---- turning a bus event into a message ---- */

static json_t *payload_of(const struct store_bus_event *e)
{
    json_t *p = json_loads(e->payload ? e->payload : "{}", 0, NULL);
    return p ? p : json_object();
}

static void add_conversation(struct gateway *g, struct arena *a, json_t *out, int64_t id)
{
    struct store_conversation cv;
    if (store_conversation_get(g->store, a, id, &cv) == ERR_OK)
        json_object_set_new(out, "conversation",
                            dash_conversation_json(g->store, a, &cv, clock_now_ms()));
    else
        json_object_set_new(out, "deleted", json_true());
}

static void add_message(struct gateway *g, struct arena *a, json_t *out, int64_t conv, int64_t id)
{
    struct store_message *rows = NULL;
    size_t n = 0;
    bool more = false;
    /* the page query fills what the page shows (operator, error, sentiment) */
    if (store_messages_page(g->store, a, conv, id + 1, 0, 1, &rows, &n, &more) == ERR_OK &&
        n == 1 && rows[0].id == id)
        json_object_set_new(out, "message", dash_message_json(&rows[0]));
    else
        json_object_set_new(out, "deleted", json_true());
}

static void add_account(struct gateway *g, struct arena *a, json_t *out, int64_t id)
{
    struct store_account acct;
    if (store_account_by_id(g->store, a, id, &acct) == ERR_OK)
        json_object_set_new(out, "account", dash_account_json(a, &acct, clock_now_ms()));
    else
        json_object_set_new(out, "deleted", json_true());
}

static void add_post(struct gateway *g, struct arena *a, json_t *out, int64_t id)
{
    struct store_post p;
    if (store_post_get(g->store, a, id, &p) == ERR_OK)
        json_object_set_new(out, "post", dash_post_json(g->store, &p, clock_now_ms()));
    else
        json_object_set_new(out, "deleted", json_true());
}

/* The message for one event, or NULL when it cannot be built (logged). */
static char *event_text(struct gateway *g, const struct store_bus_event *e)
{
    struct arena a;
    arena_init(&a);
    json_t *p = payload_of(e);
    int64_t conv = json_integer_value(json_object_get(p, "conversation_id"));
    int64_t msg = json_integer_value(json_object_get(p, "message_id"));
    int64_t acct = json_integer_value(json_object_get(p, "account_id"));
    int64_t post = json_integer_value(json_object_get(p, "post_id"));
    json_t *out =
        json_pack("{s:s, s:I, s:s}", "type", "event", "id", (json_int_t)e->id, "event", e->type);
    json_object_update(out, p);
    if (json_is_true(json_object_get(p, "deleted")))
        ; /* the row is gone: the ids say which */
    else if (strncmp(e->type, "message.", 8) == 0)
        add_message(g, &a, out, conv, msg);
    else if (strcmp(e->type, "conversation.updated") == 0)
        add_conversation(g, &a, out, conv);
    else if (strcmp(e->type, "account.updated") == 0)
        add_account(g, &a, out, acct);
    else if (strcmp(e->type, "post.updated") == 0)
        add_post(g, &a, out, post);
    char *text = json_dumps(out, JSON_COMPACT);
    json_decref(out);
    json_decref(p);
    arena_release(&a);
    return text;
}

/* ---- sending ---- */

struct batch {
    int64_t id;
    const char *text;
    size_t len;
};

static void send_text(struct http_ws_conn *c, const char *text)
{
    err_ignore(http_ws_send(c, text, strlen(text))); /* a slow client is dropped by the hub */
}

static void send_control(struct http_ws_conn *c, const char *type, int64_t id)
{
    json_t *v = json_pack("{s:s, s:I}", "type", type, "event_id", (json_int_t)id);
    char *t = json_dumps(v, JSON_COMPACT);
    json_decref(v);
    send_text(c, t);
    free(t);
}

static void fan_one(struct http_ws_conn *c, void *arg)
{
    const struct batch *b = arg;
    struct ws_client *cl = http_ws_conn_ctx(c);
    if (cl->after >= b->id)
        return; /* it already had this one from its replay */
    cl->after = b->id;
    err_ignore(http_ws_send(c, b->text, b->len));
}

/* Reads the bus after g->cursor and sends each event to every client (hub thread). */
static void fan_out(struct gateway *g)
{
    for (int rounds = 0; rounds < 20; rounds++) {
        struct arena a;
        arena_init(&a);
        struct store_bus_event *ev = NULL;
        size_t n = 0;
        enum err rc = store_bus_read(g->store, &a, g->cursor, BUS_BATCH, &ev, &n);
        if (rc != ERR_OK)
            log_warn("gateway.bus_read_failed", LOG_ERR(rc));
        for (size_t i = 0; i < n; i++) {
            char *text = event_text(g, &ev[i]);
            struct batch b = {ev[i].id, text, text ? strlen(text) : 0};
            if (text)
                http_ws_each(g->hub, fan_one, &b);
            free(text);
            g->cursor = ev[i].id;
        }
        arena_release(&a);
        if (n < BUS_BATCH)
            return;
    }
}

/* What a client resuming after `after` needs: false when it must reload instead. */
static bool can_resume(struct gateway *g, int64_t after)
{
    int64_t oldest = 0, newest = 0;
    if (store_bus_bounds(g->store, &oldest, &newest) != ERR_OK)
        return false;
    if (after > newest || g->cursor - after > REPLAY_MAX)
        return false; /* another database, or too far behind */
    return after >= g->cursor || (oldest != 0 && after >= oldest - 1);
}

static void replay(struct gateway *g, struct http_ws_conn *c, struct ws_client *cl)
{
    while (cl->after < g->cursor) {
        struct arena a;
        arena_init(&a);
        struct store_bus_event *ev = NULL;
        size_t n = 0;
        if (store_bus_read(g->store, &a, cl->after, BUS_BATCH, &ev, &n) != ERR_OK || n == 0) {
            arena_release(&a);
            break;
        }
        for (size_t i = 0; i < n && ev[i].id <= g->cursor; i++) {
            char *text = event_text(g, &ev[i]);
            if (text && http_ws_send(c, text, strlen(text)) != ERR_OK)
                n = 0; /* dropped */
            free(text);
            cl->after = ev[i].id;
        }
        arena_release(&a);
        if (n == 0)
            break;
    }
    cl->after = g->cursor;
}

static void on_open(struct http_ws_conn *c, void *ctx)
{
    struct gateway *g = ctx;
    struct ws_client *cl = http_ws_conn_ctx(c);
    fan_out(g); /* the cursor is as new as it can be before this client joins */
    if (cl->after >= 0 && can_resume(g, cl->after)) {
        replay(g, c, cl);
        send_control(c, "ready", g->cursor);
        return;
    }
    bool is_resync = cl->after >= 0;
    cl->after = g->cursor;
    send_control(c, is_resync ? "resync" : "ready", g->cursor);
}

static void on_close(struct http_ws_conn *c, void *ctx)
{
    (void)ctx;
    free(http_ws_conn_ctx(c));
}

static void on_drop(void *conn_ctx, void *ctx)
{
    (void)ctx;
    free(conn_ctx);
}

/* Clients send nothing the gateway needs; a ping from the page is answered. */
static void on_text(struct http_ws_conn *c, const char *data, size_t len, void *ctx)
{
    struct gateway *g = ctx;
    if (len == 15 && memcmp(data, "{\"type\":\"ping\"}", 15) == 0)
        send_control(c, "pong", g->cursor);
}

/* ---- heartbeats, sessions, pruning ---- */

static void beat_one(struct http_ws_conn *c, void *arg)
{
    struct gateway *g = arg;
    struct ws_client *cl = http_ws_conn_ctx(c);
    struct arena a;
    arena_init(&a);
    int64_t now = clock_now_ms();
    struct store_session ss;
    if (store_session_get(g->store, &a, cl->id_hash, now, &ss) != ERR_OK) {
        http_ws_close(c, CLOSE_SESSION_END, "session ended");
    } else {
        if (now - ss.last_seen_at > 60 * 1000)
            err_ignore(store_session_touch(g->store, cl->id_hash, now, now + DASHBOARD_SESSION_MS));
        send_control(c, "heartbeat", g->cursor);
    }
    arena_release(&a);
}

static void on_tick(struct http_ws_hub *h, void *ctx)
{
    (void)h;
    struct gateway *g = ctx;
    fan_out(g);
    int64_t now = clock_now_ms();
    if (now - g->last_beat_ms >= g->d->cfg->ws_ping_ms) {
        g->last_beat_ms = now;
        http_ws_each(g->hub, beat_one, g);
    }
    if (now - g->last_prune_ms >= BUS_PRUNE_EVERY) {
        g->last_prune_ms = now;
        int64_t n = 0;
        if (store_bus_prune(g->store, now - BUS_RETENTION_MS, &n) == ERR_OK && n > 0)
            log_info("gateway.bus_pruned", LOG_INT("events", n));
    }
}

static void ring(void *ctx)
{
    http_ws_hub_wake(ctx);
}

/* ---- the route ---- */

/* "scheme://host[:port]" of SB_PUBLIC_URL. */
static void public_origin(const char *url, char *out, size_t cap)
{
    const char *p = strstr(url, "://");
    size_t n = p ? (size_t)(p + 3 - url) + strcspn(p + 3, "/?#") : strlen(url);
    snprintf(out, cap, "%.*s", (int)n, url);
}

static bool parse_after(const char *s, int64_t *out)
{
    if (!s)
        return true;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < 0)
        return false;
    *out = v;
    return true;
}

void dash_h_ws(struct http_req *r, void *ctx)
{
    struct dashboard *d = ctx;
    struct gateway *g = d->gateway;
    struct dashboard_session ss;
    if (!dash_require_session_brief(d, r, &ss))
        return; /* 401 */
    const char *origin = http_req_header(r, "Origin");
    if (!origin || strcmp(origin, g->origin) != 0) {
        log_info("gateway.bad_origin", LOG_INT("operator", ss.operator_id));
        dash_reply_status(r, 403, "origin", "This page may not open the live connection.");
        return;
    }
    int64_t after = -1;
    if (!parse_after(http_req_query(r, "after"), &after)) {
        http_reply_error(r, ERR_INVALID, "after must be an event id");
        return;
    }
    struct ws_client *cl = xcalloc(1, sizeof *cl);
    cl->operator_id = ss.operator_id;
    snprintf(cl->id_hash, sizeof cl->id_hash, "%s", ss.id_hash);
    cl->after = after;
    http_reply_ws(r, g->hub, cl);
}

enum err dash_gateway_start(struct dashboard *d)
{
    struct gateway *g = xcalloc(1, sizeof *g);
    g->d = d;
    public_origin(d->cfg->public_url, g->origin, sizeof g->origin);
    int64_t oldest = 0;
    enum err rc = store_open(d->so, &g->store);
    if (rc == ERR_OK)
        rc = store_bus_bounds(g->store, &oldest, &g->cursor); /* start from now */
    struct http_ws_opts o = {.max_frame = WS_MAX_FRAME,
                             .max_queue = (size_t)d->cfg->ws_max_queue_bytes,
                             .ping_ms = (int)d->cfg->ws_ping_ms,
                             .tick_ms = (int)d->cfg->bus_poll_ms,
                             .on_open = on_open,
                             .on_text = on_text,
                             .on_close = on_close,
                             .on_drop = on_drop,
                             .on_tick = on_tick,
                             .ctx = g};
    g->last_beat_ms = g->last_prune_ms = clock_now_ms();
    if (rc == ERR_OK)
        rc = http_ws_hub_start(&o, &g->hub);
    if (rc != ERR_OK) {
        store_free(g->store);
        free(g);
        return rc;
    }
    store_bus_listen(ring, g->hub);
    d->gateway = g;
    return ERR_OK;
}

void dash_gateway_stop(struct dashboard *d)
{
    struct gateway *g = d->gateway;
    if (!g)
        return;
    store_bus_listen(NULL, NULL);
    http_ws_hub_stop(g->hub);
    store_free(g->store);
    free(g);
    d->gateway = NULL;
}

int dash_gateway_clients(const struct dashboard *d)
{
    return d->gateway ? http_ws_count(d->gateway->hub) : 0;
}
