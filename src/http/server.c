/*
 * http/server.c - libmicrohttpd glue: the access-handler state machine, limits, deferral.
 *
 * A request goes NEW -> READING (body into a capped buffer) -> DISPATCHED (handler runs)
 * -> ANSWERED, or -> DEFERRED (connection suspended) until another thread's http_reply()
 * resumes it. libmicrohttpd calls the access handler again after a resume; that call queues
 * the stored response.
 */
#include "http/http.h"

#include <arpa/inet.h>
#include <assert.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/log.h"
#include "http/http_int.h"

#define MAX_HEADERS 16
/* Per-connection buffer for headers and body chunks; MHD clears it for every request, so
 * it is kept small. A request whose headers do not fit is answered 431. */
#define HTTP_CONN_MEMORY (16 * 1024)

enum req_state { ST_READING, ST_DISPATCHED, ST_DEFERRED };

struct http_server {
    struct MHD_Daemon *d;
    const struct http_route *routes;
    size_t n_routes;
    _Atomic int in_flight;
    _Atomic bool quiesced;
};

struct http_req {
    struct http_server *srv;
    struct MHD_Connection *conn;
    struct arena arena;
    const struct http_route *route;
    struct route_params params;
    enum http_method method;
    const char *path;
    struct buf body;
    enum req_state state;
    bool too_large;
    struct MHD_Response *resp; /* set by http_reply*, queued by the access handler */
    int status;
    const char *hdr_name[MAX_HEADERS], *hdr_value[MAX_HEADERS];
    int n_hdr;
    long long t_body_us;
    char rid[24];
};

static _Atomic unsigned long long g_req_seq;
static unsigned g_rid_prefix;

int http_status_for(enum err rc)
{
    static const int status[] = {
        [ERR_OK] = 200,       [ERR_INVALID] = 400,   [ERR_AUTH] = 403,  [ERR_NOT_FOUND] = 404,
        [ERR_CONFLICT] = 409, [ERR_TOO_LARGE] = 413, [ERR_AGAIN] = 503, [ERR_IO] = 503,
        [ERR_UPSTREAM] = 502, [ERR_INTERNAL] = 500,
    };
    return (unsigned)rc < sizeof status / sizeof status[0] ? status[rc] : 500;
}

static enum http_method parse_method(const char *m)
{
    static const struct {
        const char *name;
        enum http_method m;
    } methods[] = {{"GET", HTTP_GET},        {"HEAD", HTTP_GET},    {"POST", HTTP_POST},
                   {"PUT", HTTP_PUT},        {"PATCH", HTTP_PATCH}, {"DELETE", HTTP_DELETE},
                   {"OPTIONS", HTTP_OPTIONS}};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (strcmp(m, methods[i].name) == 0)
            return methods[i].m;
    return 0;
}

/* ---- request accessors ---- */

enum http_method http_req_method(const struct http_req *r)
{
    return r->method;
}

const char *http_req_path(const struct http_req *r)
{
    return r->path;
}

const char *http_req_header(const struct http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *http_req_query(const struct http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

struct kv_iter {
    http_kv_fn *fn;
    void *ctx;
};

static enum MHD_Result each_kv(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *value)
{
    (void)kind;
    const struct kv_iter *it = cls;
    it->fn(it->ctx, key, value ? value : "");
    return MHD_YES;
}

void http_req_query_each(const struct http_req *r, http_kv_fn *fn, void *ctx)
{
    struct kv_iter it = {fn, ctx};
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, each_kv, &it);
}

int http_server_port(const struct http_server *s)
{
    const union MHD_DaemonInfo *i = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    return i ? (int)i->port : 0;
}

const char *http_req_param(const struct http_req *r, const char *name)
{
    return route_param(&r->params, name);
}

const char *http_req_body(const struct http_req *r, size_t *len)
{
    *len = r->body.len;
    return r->body.data ? r->body.data : "";
}

const char *http_req_id(const struct http_req *r)
{
    return r->rid;
}

const char *http_req_peer(struct http_req *r)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    char *out = arena_alloc(&r->arena, INET6_ADDRSTRLEN);
    out[0] = '\0';
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  INET6_ADDRSTRLEN);
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  INET6_ADDRSTRLEN);
    return out;
}

struct arena *http_req_arena(struct http_req *r)
{
    return &r->arena;
}

long long http_req_age_us(const struct http_req *r)
{
    return clock_mono_us() - r->t_body_us;
}

/* ---- responses ---- */

void http_set_header(struct http_req *r, const char *name, const char *value)
{
    if (r->n_hdr < MAX_HEADERS) {
        r->hdr_name[r->n_hdr] = arena_strdup(&r->arena, name);
        r->hdr_value[r->n_hdr++] = arena_strdup(&r->arena, value);
    }
}

static void reply(struct http_req *r, int status, const char *content_type, const void *body,
                  size_t len, enum MHD_ResponseMemoryMode mode)
{
    assert(r->resp == NULL); /* one answer per request */
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)(uintptr_t)body, mode);
    if (content_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    MHD_add_response_header(resp, "X-Request-Id", r->rid);
    for (int i = 0; i < r->n_hdr; i++)
        MHD_add_response_header(resp, r->hdr_name[i], r->hdr_value[i]);
    r->status = status;
    r->resp = resp;
    if (r->state == ST_DEFERRED)
        MHD_resume_connection(r->conn);
}

struct MHD_Connection *http_req_conn(const struct http_req *r)
{
    return r->conn;
}

void http_reply_response(struct http_req *r, int status, struct MHD_Response *resp)
{
    assert(r->resp == NULL);
    for (int i = 0; i < r->n_hdr; i++)
        MHD_add_response_header(resp, r->hdr_name[i], r->hdr_value[i]);
    r->status = status;
    r->resp = resp;
    if (r->state == ST_DEFERRED)
        MHD_resume_connection(r->conn);
}

void http_reply(struct http_req *r, int status, const char *content_type, const void *body,
                size_t len)
{
    reply(r, status, content_type, body, len, MHD_RESPMEM_MUST_COPY);
}

void http_reply_static(struct http_req *r, int status, const char *content_type, const char *body)
{
    reply(r, status, content_type, body, strlen(body), MHD_RESPMEM_PERSISTENT);
}

void http_reply_text(struct http_req *r, int status, const char *text)
{
    http_reply(r, status, "text/plain; charset=utf-8", text, strlen(text));
}

void http_reply_json(struct http_req *r, int status, json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT);
    json_decref(v);
    if (!s) {
        http_reply_text(r, 500, "internal error\n");
        return;
    }
    http_reply(r, status, "application/json", s, strlen(s));
    free(s);
}

void http_reply_error(struct http_req *r, enum err rc, const char *message)
{
    json_t *v = json_pack("{s:{s:s,s:s,s:s}}", "error", "code", err_name(rc), "message",
                          message ? message : err_name(rc), "request_id", r->rid);
    http_reply_json(r, http_status_for(rc), v);
}

void http_defer(struct http_req *r)
{
    r->state = ST_DEFERRED;
    MHD_suspend_connection(r->conn);
}

/* ---- the access handler ---- */

/* "<8 hex of a per-process random prefix><12 hex of a counter>", without printf. */
static void format_rid(char out[24], unsigned long long seq)
{
    static const char hex[] = "0123456789abcdef";
    unsigned long long v = seq;
    for (int i = 19; i >= 8; i--, v >>= 4)
        out[i] = hex[v & 15];
    v = g_rid_prefix;
    for (int i = 7; i >= 0; i--, v >>= 4)
        out[i] = hex[v & 15];
    out[20] = '\0';
}

static struct http_req *req_new(struct http_server *srv, struct MHD_Connection *conn,
                                const char *url, const char *method)
{
    struct http_req *r = xcalloc(1, sizeof *r);
    r->srv = srv;
    r->conn = conn;
    arena_init(&r->arena);
    r->method = parse_method(method);
    r->path = url; /* lives in the connection's pool until the request completes */
    format_rid(r->rid, atomic_fetch_add_explicit(&g_req_seq, 1, memory_order_relaxed));
    atomic_fetch_add(&srv->in_flight, 1);
    return r;
}

/* Resolves the route; on no match answers 404 or 405 directly. */
static bool resolve(struct http_req *r)
{
    bool path_matched = false;
    r->route = route_match(r->srv->routes, r->srv->n_routes, r->path, r->method, &r->arena,
                           &r->params, &path_matched);
    if (r->route)
        return true;
    if (path_matched) {
        http_reply_error(r, ERR_INVALID, "method not allowed");
        r->status = 405;
    } else {
        http_reply_error(r, ERR_NOT_FOUND, "no such route");
    }
    return false;
}

static enum MHD_Result queue_stored(struct http_req *r)
{
    enum MHD_Result ret = MHD_queue_response(r->conn, (unsigned)r->status, r->resp);
    MHD_destroy_response(r->resp);
    r->resp = NULL;
    return ret;
}

static enum MHD_Result too_large(struct http_req *r)
{
    char msg[96];
    snprintf(msg, sizeof msg, "request body larger than %zu bytes", r->body.cap);
    http_reply_error(r, ERR_TOO_LARGE, msg);
    log_info("http.too_large", LOG_STR("path", r->path), LOG_INT("limit", r->body.cap));
    return queue_stored(r);
}

static enum MHD_Result first_call(struct http_req *r)
{
    if (!resolve(r))
        return queue_stored(r);
    buf_init(&r->body, r->route->max_body ? r->route->max_body : HTTP_DEFAULT_MAX_BODY);
    const char *cl = http_req_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
    unsigned long long declared = cl ? strtoull(cl, NULL, 10) : 0;
    if (declared > r->body.cap)
        return too_large(r);
    if (declared)
        err_ignore(buf_reserve(&r->body, (size_t)declared)); /* within the cap: cannot fail */
    return MHD_YES;
}

static void dispatch(struct http_req *r)
{
    r->state = ST_DISPATCHED;
    r->t_body_us = clock_mono_us();
    log_set_request_id(r->rid);
    r->route->handler(r, r->route->ctx);
    log_set_request_id(NULL);
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
    (void)version;
    struct http_req *r = *con_cls;
    if (!r) {
        *con_cls = r = req_new(cls, conn, url, method);
        return first_call(r);
    }
    if (*upload_data_size) {
        if (!r->too_large && buf_append(&r->body, upload_data, *upload_data_size) != ERR_OK)
            r->too_large = true;
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (r->too_large)
        return too_large(r);
    if (r->state == ST_READING) {
        dispatch(r);
        if (r->state == ST_DEFERRED && !r->resp)
            return MHD_YES; /* suspended; a later http_reply() resumes us */
    }
    if (!r->resp) { /* resumed or returned without an answer: a handler bug */
        log_error("http.no_response", LOG_STR("path", r->path));
        http_reply_error(r, ERR_INTERNAL, "no response");
    }
    return queue_stored(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    (void)toe;
    struct http_server *srv = cls;
    struct http_req *r = *con_cls;
    if (!r)
        return;
    if (r->resp)
        MHD_destroy_response(r->resp);
    buf_release(&r->body);
    arena_release(&r->arena);
    free(r);
    *con_cls = NULL;
    atomic_fetch_sub(&srv->in_flight, 1);
}

__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[256];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    log_warn("http.server", LOG_STR("msg", msg));
}

static enum err make_addr(const struct http_server_opts *o, struct sockaddr_storage *ss, int *flags)
{
    memset(ss, 0, sizeof *ss);
    const char *host = strcmp(o->host, "localhost") == 0 ? "127.0.0.1" : o->host;
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)o->port);
        return ERR_OK;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)o->port);
        *flags |= MHD_USE_IPv6;
        return ERR_OK;
    }
    return ERR_INVALID;
}

static enum MHD_Result accept_policy(void *cls, const struct sockaddr *addr, socklen_t len)
{
    (void)addr;
    (void)len;
    const struct http_server *s = cls;
    return atomic_load(&s->quiesced) ? MHD_NO : MHD_YES;
}

enum err http_server_start(const struct http_server_opts *o, const struct http_route *routes,
                           size_t n_routes, struct http_server **out)
{
    if (!g_rid_prefix)
        crypto_random(&g_rid_prefix, sizeof g_rid_prefix);
    struct sockaddr_storage ss;
    int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                MHD_USE_ITC | MHD_USE_ERROR_LOG | MHD_USE_TURBO | MHD_ALLOW_UPGRADE;
    if (make_addr(o, &ss, &flags) != ERR_OK)
        return ERR_INVALID;
    struct http_server *s = xcalloc(1, sizeof *s);
    s->routes = routes;
    s->n_routes = n_routes;
    long threads = o->threads > 0 ? o->threads : sysconf(_SC_NPROCESSORS_ONLN);
    s->d = MHD_start_daemon(
        (unsigned)flags, (uint16_t)o->port, accept_policy, s, on_access, s,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(threads < 1 ? 1 : threads),
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)(o->idle_timeout_s > 0 ? o->idle_timeout_s : 60),
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONN_MEMORY, MHD_OPTION_CONNECTION_LIMIT,
        20000u, MHD_OPTION_END);
    if (!s->d) {
        free(s);
        log_error("http.bind_failed", LOG_STR("host", o->host), LOG_INT("port", o->port));
        return ERR_IO;
    }
    *out = s;
    return ERR_OK;
}

/* Quiescing refuses new connections through the accept policy instead of
 * MHD_quiesce_daemon(): with a thread pool on epoll, libmicrohttpd 0.9.75 lets the caller and a
 * worker both remove the listening socket from the worker's epoll set, and the loser aborts the
 * process ("Failed to remove listen FD from epoll set"). */

void http_server_quiesce(struct http_server *s)
{
    if (s)
        atomic_store(&s->quiesced, true);
}

bool http_server_drain(struct http_server *s, int timeout_ms)
{
    for (int waited = 0; atomic_load(&s->in_flight) > 0; waited += 10) {
        if (waited >= timeout_ms)
            return false;
        clock_sleep_ms(10);
    }
    return true;
}

int http_server_in_flight(struct http_server *s)
{
    return atomic_load(&s->in_flight);
}

void http_server_stop(struct http_server *s)
{
    if (!s)
        return;
    MHD_stop_daemon(s->d);
    free(s);
}
