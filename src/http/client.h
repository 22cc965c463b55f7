/*
 * http/client.h - the outbound HTTP client (libcurl): one synchronous request with a
 * timeout and a capped response body.
 *
 * Threads: any; each call uses its own easy handle. http_client_global_init() once at start.
 */
#ifndef SB_HTTP_CLIENT_H
#define SB_HTTP_CLIENT_H

#include <stddef.h>

#include "core/err.h"

struct http_client_resp {
    int status;
    char *body; /* NUL-terminated; free with free() */
    size_t len;
};

void http_client_global_init(void);

/* headers: NULL-terminated "Name: value" strings (may be NULL). ERR_UPSTREAM when the
 * connection fails or times out, ERR_TOO_LARGE past max_resp bytes; any HTTP status is
 * ERR_OK with resp->status set. */
MUST_USE enum err http_client_do(const char *method, const char *url, const char *const *headers,
                                 const void *body, size_t len, long timeout_ms, size_t max_resp,
                                 struct http_client_resp *resp);

#endif
