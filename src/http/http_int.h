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

#endif
