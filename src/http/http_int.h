/*
 * http/http_int.h - shared by the http module's own files.
 */
#ifndef SB_HTTP_INT_H
#define SB_HTTP_INT_H

#include <stdbool.h>

#include "http/http.h"

#define ROUTE_MAX_PARAMS 8

struct route_params {
    int n;
    const char *name[ROUTE_MAX_PARAMS];
    const char *value[ROUTE_MAX_PARAMS];
};

/* The first route whose pattern matches path and whose methods include method. When a
 * pattern matched but no method did, returns NULL with *path_matched set (405). Captured
 * {params} are copied into the arena. */
const struct http_route *route_match(const struct http_route *routes, size_t n, const char *path,
                                     enum http_method method, struct arena *a,
                                     struct route_params *params, bool *path_matched);
const char *route_param(const struct route_params *p, const char *name);

/* ---- between server.c and ws.c ---- */
struct MHD_Connection;
struct MHD_Response;
struct MHD_Connection *http_req_conn(const struct http_req *r);
/* Answers with a response made elsewhere (it takes the response). */
void http_reply_response(struct http_req *r, int status, struct MHD_Response *resp);
/* Hands a connected, non-blocking socket to the hub as if it had just been upgraded: extra_in
 * (may be NULL) is data already read from it; urh is MHD's handle (NULL: close(fd) directly,
 * for tests over a socketpair). */
void http_ws_adopt(struct http_ws_hub *h, int fd, void *urh, const char *extra_in, size_t extra_len,
                   void *conn_ctx);
/* The Sec-WebSocket-Accept value for key (RFC 6455 4.2.2) into out (at least 29 bytes). */
void http_ws_accept_key(const char *key, char out[29]);

#endif
