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

#endif
