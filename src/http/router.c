/*
 * http/router.c - matching a path against the static route table.
 *
 * Patterns are literal segments, {name} segments (one non-empty segment, captured) and a
 * final "*" (the rest of the path, possibly empty). No regular expressions, no allocation
 * on a miss.
 */
#include "http/http_int.h"

#include <string.h>

static bool match(const char *pat, const char *path, struct arena *a, struct route_params *p)
{
    p->n = 0;
    while (*pat) {
        if (pat[0] == '*' && pat[1] == '\0')
            return true;
        if (*pat == '{') {
            const char *close = strchr(pat, '}');
            size_t seg = strcspn(path, "/");
            if (!close || seg == 0 || p->n == ROUTE_MAX_PARAMS)
                return false;
            p->name[p->n] = arena_strndup(a, pat + 1, (size_t)(close - pat - 1));
            p->value[p->n++] = arena_strndup(a, path, seg);
            pat = close + 1;
            path += seg;
            continue;
        }
        if (*pat != *path)
            return false;
        pat++;
        path++;
    }
    return *path == '\0';
}

const struct http_route *route_match(const struct http_route *routes, size_t n, const char *path,
                                     enum http_method method, struct arena *a,
                                     struct route_params *params, bool *path_matched)
{
    *path_matched = false;
    for (size_t i = 0; i < n; i++) {
        if (!match(routes[i].pattern, path, a, params))
            continue;
        *path_matched = true;
        if (routes[i].methods & method)
            return &routes[i];
    }
    params->n = 0;
    return NULL;
}

const char *route_param(const struct route_params *p, const char *name)
{
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->name[i], name) == 0)
            return p->value[i];
    return NULL;
}
