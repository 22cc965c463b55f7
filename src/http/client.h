/*
 * http/client.h - the outbound HTTP client (libcurl): one synchronous request with a
 * timeout and a capped response body.
 *
 * Threads: any; each call uses its own easy handle. http_client_global_init() once at start.
 */
#ifndef SB_HTTP_CLIENT_H
#define SB_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

#define HTTP_CLIENT_MAX_HEADERS 8 /* response headers one call can ask for */

struct http_client_resp {
    int status;
    char *body; /* NUL-terminated; free with free() (or http_client_resp_release()) */
    size_t len;
    bool was_sent; /* the request reached the server; also set when the call failed after that */
    bool is_truncated; /* may_truncate: the body is the first max_resp bytes of a longer one */
    char *headers[HTTP_CLIENT_MAX_HEADERS]; /* http_client_do_ex(): values of the asked-for
                                               response headers, in the order asked; NULL when
                                               absent */
};

void http_client_global_init(void);

/* headers: NULL-terminated "Name: value" strings (may be NULL). ERR_UPSTREAM when the
 * connection fails or times out, ERR_TOO_LARGE past max_resp bytes; any HTTP status is
 * ERR_OK with resp->status set. Redirects are not followed. */
MUST_USE enum err http_client_do(const char *method, const char *url, const char *const *headers,
                                 const void *body, size_t len, long timeout_ms, size_t max_resp,
                                 struct http_client_resp *resp);

struct http_client_req {
    const char *method, *url;
    const char *const *headers; /* as for http_client_do() */
    const void *body;           /* NULL: no body */
    size_t len;
    long timeout_ms;
    size_t max_resp;
    bool may_truncate; /* past max_resp: keep the first max_resp bytes and succeed (the rest is
                          not read) instead of ERR_TOO_LARGE */
    const char *const *want_headers; /* NULL-terminated response header names (any case), at
                                        most HTTP_CLIENT_MAX_HEADERS; may be NULL */
};

/* http_client_do() that also returns the asked-for response headers (of the final response)
 * and whether the request was sent. Same errors; on an error resp->was_sent is still set and
 * nothing else needs freeing. On ERR_OK free everything with http_client_resp_release(). */
MUST_USE enum err http_client_do_ex(const struct http_client_req *req,
                                    struct http_client_resp *resp);
/* Frees the body and header values and zeroes resp (a zeroed resp is fine). */
void http_client_resp_release(struct http_client_resp *resp);

#endif
