/*
 * http/http.h - the HTTP server: routes, limits, request ids, deferred responses.
 *
 * Owns: libmicrohttpd, the route table, body caps (over the cap: 413 before the body is read
 * when Content-Length says so), JSON error bodies, graceful shutdown, and the one table that
 * maps enum err to an HTTP status.
 * Does not own: what any route means.
 * Threads: handlers run on the server's threads. A handler must answer with one http_reply*()
 * call, either before it returns or, after http_defer(), later from any thread.
 * Memory: each request has an arena that dies when the response has been sent.
 */
#ifndef SB_HTTP_HTTP_H
#define SB_HTTP_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "core/mem.h"

enum http_method {
    HTTP_GET = 1 << 0,
    HTTP_POST = 1 << 1,
    HTTP_PUT = 1 << 2,
    HTTP_PATCH = 1 << 3,
    HTTP_DELETE = 1 << 4,
    HTTP_OPTIONS = 1 << 5,
};

struct http_req;
struct http_server;

typedef void http_handler_fn(struct http_req *req, void *ctx);

struct http_route {
    unsigned methods;    /* HTTP_GET | HTTP_POST ...; HEAD is served by GET routes */
    const char *pattern; /* "/webhooks/meta", "/meta/data-deletion/{code}", "/media/{id}", prefix
                            "/web/" + "*" */
    http_handler_fn *handler;
    void *ctx;
    size_t max_body; /* bytes; 0 = HTTP_DEFAULT_MAX_BODY */
};

#define HTTP_DEFAULT_MAX_BODY ((size_t)64 * 1024)

struct http_server_opts {
    const char *host; /* IP literal or "localhost" */
    int port;
    int threads;        /* event-loop threads; 0 = one per CPU */
    int idle_timeout_s; /* an idle keep-alive connection is closed after this */
};

/* Binds and starts serving the routes (the table is borrowed and must outlive the server).
 * Caller owns *out; stop with http_server_stop(). */
MUST_USE enum err http_server_start(const struct http_server_opts *o,
                                    const struct http_route *routes, size_t n_routes,
                                    struct http_server **out);
/* Stops accepting new connections; requests in flight go on. */
void http_server_quiesce(struct http_server *s);
/* Waits until no request is in flight or timeout_ms passes; true if drained. */
bool http_server_drain(struct http_server *s, int timeout_ms);
/* Closes everything and frees the server (NULL is fine). */
void http_server_stop(struct http_server *s);
int http_server_in_flight(struct http_server *s);
/* The port the server is bound to (useful when it was started with port 0). */
int http_server_port(const struct http_server *s);

/* Request accessors. Strings are borrowed for the request's lifetime. */
enum http_method http_req_method(const struct http_req *r);
const char *http_req_path(const struct http_req *r);
const char *http_req_header(const struct http_req *r, const char *name);
const char *http_req_query(const struct http_req *r, const char *name);
const char *http_req_param(const struct http_req *r, const char *name); /* {name} in pattern */
const char *http_req_body(const struct http_req *r, size_t *len);       /* NUL-terminated */
const char *http_req_id(const struct http_req *r);
/* The client's IP address as text ("127.0.0.1", "::1"), in the request's arena; "" unknown. */
const char *http_req_peer(struct http_req *r);
struct arena *http_req_arena(struct http_req *r);
typedef void http_kv_fn(void *ctx, const char *key, const char *value);
/* Calls fn(ctx, key, value) for every query-string argument in order (value "" when absent). */
void http_req_query_each(const struct http_req *r, http_kv_fn *fn, void *ctx);

/* Form and URL helpers (form.c). */
/* Calls fn for each pair of an application/x-www-form-urlencoded string, both decoded ('+' is
 * a space, %XX a byte) into the arena. A pair with a malformed escape keeps it as written. */
void http_form_each(struct arena *a, const char *s, size_t n, http_kv_fn *fn, void *ctx);
/* s percent-encoded for a query string (RFC 3986 unreserved characters kept), in the arena. */
char *http_url_encode(struct arena *a, const char *s);
/* multipart/form-data (multipart.c). A part's bytes point into the body (not copied); its
 * strings are in the arena. ERR_INVALID for another content type, no boundary, a malformed
 * body or more than max parts. */
#define HTTP_MULTIPART_MAX_PARTS 16
struct http_part {
    const char *name, *filename, *content_type; /* filename, content_type NULL when absent */
    const char *data;
    size_t len;
};
MUST_USE enum err http_multipart_parse(struct arena *a, const char *content_type,
                                       const char *body, size_t len, struct http_part *parts,
                                       size_t max, size_t *n);
/* The first part with this name, or NULL. */
const struct http_part *http_multipart_find(const struct http_part *parts, size_t n,
                                            const char *name);
/* Microseconds since the request's body was complete (the ack-latency clock). */
long long http_req_age_us(const struct http_req *r);

/* Responses: exactly one per request. The body is copied. */
void http_set_header(struct http_req *r, const char *name, const char *value);
void http_reply(struct http_req *r, int status, const char *content_type, const void *body,
                size_t len);
void http_reply_text(struct http_req *r, int status, const char *text);
/* A body that lives for the whole program (a string literal): not copied. */
void http_reply_static(struct http_req *r, int status, const char *content_type, const char *body);
/* Takes ownership of v (decref'd). */
void http_reply_json(struct http_req *r, int status, json_t *v);
/* {"error":{"code":"<err_name>","message":...}} with the status for rc. */
void http_reply_error(struct http_req *r, enum err rc, const char *message);
/* The handler will answer later, from any thread, with one http_reply*() call. Call it
 * before starting the work that will answer. */
void http_defer(struct http_req *r);

/* The single mapping from enum err to an HTTP status. */
int http_status_for(enum err rc);

/* ---- WebSocket (ws.c): RFC 6455 over libmicrohttpd's upgrade, framed by wslay ----
 *
 * A hub is one thread with one epoll set serving every WebSocket connection handed to it, so
 * a connection's state is touched by that thread only and needs no lock. Each connection has a
 * capped send queue: a client too slow to take what it is sent is dropped (its queue over
 * max_queue), never the server. Messages from clients are capped at max_frame (close 1009).
 * The hub pings every ping_ms and drops a connection that has said nothing (not even a pong)
 * for two and a half intervals. Text messages only; binary ones close with 1003. */

struct http_ws_hub;
struct http_ws_conn;

struct http_ws_opts {
    size_t max_frame; /* largest message accepted from a client, bytes */
    size_t max_queue; /* bytes queued to one client before it is dropped as too slow */
    int ping_ms;      /* > 0 */
    int tick_ms;      /* on_tick runs at least this often (> 0) */
    /* All on the hub thread. on_open: the connection is live (conn_ctx as given to
     * http_reply_ws); on_close: it is gone (last call with it; free conn_ctx here). on_drop:
     * conn_ctx of an upgrade that never happened (any thread). on_tick: after
     * http_ws_hub_wake() and every tick_ms. */
    void (*on_open)(struct http_ws_conn *c, void *ctx);
    void (*on_text)(struct http_ws_conn *c, const char *data, size_t len, void *ctx);
    void (*on_close)(struct http_ws_conn *c, void *ctx);
    void (*on_drop)(void *conn_ctx, void *ctx);
    void (*on_tick)(struct http_ws_hub *h, void *ctx);
    void *ctx;
};

/* Starts the hub thread. Caller owns *out; stop with http_ws_hub_stop(). */
MUST_USE enum err http_ws_hub_start(const struct http_ws_opts *o, struct http_ws_hub **out);
/* Closes every connection (1001 "going away"; each gets on_close), joins the thread, frees. Call
 * before http_server_stop() (NULL is fine). */
void http_ws_hub_stop(struct http_ws_hub *h);
/* Any thread, cheap, never blocks: on_tick runs soon on the hub thread. */
void http_ws_hub_wake(struct http_ws_hub *h);
/* In a GET handler: checks the WebSocket handshake (Upgrade, Connection, version 13, key) and
 * answers 101, after which the hub owns the connection with conn_ctx; or answers 400 (426 for
 * another version) and calls on_drop. */
void http_reply_ws(struct http_req *r, struct http_ws_hub *h, void *conn_ctx);

/* Hub thread only. */
void *http_ws_conn_ctx(const struct http_ws_conn *c);
/* Queues a text message and starts sending it. ERR_TOO_LARGE: the client is too slow (queue
 * over max_queue) and is being dropped; ERR_IO: the connection is closing. */
MUST_USE enum err http_ws_send(struct http_ws_conn *c, const char *text, size_t len);
/* Starts a close handshake with code and reason (short, static). */
void http_ws_close(struct http_ws_conn *c, int code, const char *reason);
typedef void http_ws_each_fn(struct http_ws_conn *c, void *arg);
/* Calls fn for every open connection (fn may send or close). */
void http_ws_each(struct http_ws_hub *h, http_ws_each_fn *fn, void *arg);
/* Open connections (any thread; a snapshot). */
int http_ws_count(const struct http_ws_hub *h);

#endif
