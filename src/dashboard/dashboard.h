/*
 * dashboard/dashboard.h - the operators' side of Switchboard: sign-in (argon2id passwords,
 * sessions in an HttpOnly cookie, a CSRF token for every change), the REST API under /api/,
 * and connecting Meta accounts through Facebook Login (/oauth/start, /oauth/callback).
 *
 * Threads: handlers run on the HTTP threads; each takes a store handle from the dashboard's
 * pool for the length of the request.
 */
#ifndef SB_DASHBOARD_DASHBOARD_H
#define SB_DASHBOARD_DASHBOARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/err.h"
#include "http/http.h"
#include "store/store.h"

#define DASHBOARD_COOKIE       "sb_session"
#define DASHBOARD_SESSION_MS   (12LL * 3600 * 1000) /* idle sessions end after 12 h */
#define DASHBOARD_PASSWORD_MIN 10

struct dashboard;
struct queue;

/* Borrows cfg, so and q (human replies' send jobs) for the dashboard's lifetime. Caller owns
 * *out. */
MUST_USE enum err dashboard_new(const struct config *cfg, const struct store_opts *so,
                                struct queue *q, struct dashboard **out);
/* Starts the WebSocket gateway (/ws): its thread tails the bus (store.h). */
MUST_USE enum err dashboard_start_live(struct dashboard *d);
/* Closes every live connection and stops the gateway; call after http_server_quiesce() and
 * before draining, so no WebSocket holds the drain up. NULL and a second call are fine. */
void dashboard_stop_live(struct dashboard *d);
/* Stops the gateway if needed and frees (NULL is fine). */
void dashboard_free(struct dashboard *d);
/* Writes the dashboard's routes (ctx = d) into out; returns how many (at most max). */
size_t dashboard_routes(struct dashboard *d, struct http_route *out, size_t max);

/* The operator behind a request. */
struct dashboard_session {
    int64_t operator_id;
    const char *email, *role, *csrf; /* in the request's arena */
    const char *id_hash;
    struct store *store; /* a handle for the rest of the request */
};
/* Checks the session cookie (and, when mutating, the X-CSRF-Token header). On failure it has
 * answered 401 (no or dead session) or 403 (bad CSRF token) and returns false. */
bool dashboard_require_session(struct dashboard *d, struct http_req *r, bool mutating,
                               struct dashboard_session *out);

/* `switchboard user add`: creates an operator. ERR_INVALID for a bad email, role or a password
 * shorter than DASHBOARD_PASSWORD_MIN; ERR_CONFLICT when the email exists. */
MUST_USE enum err dashboard_user_add(struct store *s, const char *email, const char *role,
                                     const char *password, int64_t *id);

#endif
