/*
 * meta/privacy.h - a person's rights over what Switchboard stores about them: Meta's
 * signed_request, the data deletion and deauthorize callbacks, the durable deletion job
 * behind them, and the export of one person's data (`switchboard privacy`).
 *
 * Owns: signed_request parsing and verification (meta-platform.md section 8), the routes
 * POST /meta/data-deletion, GET /meta/data-deletion/{code} and POST /meta/deauthorize, the
 * "privacy_delete" job, and the export document.
 * Does not own: the SQL (store/: store_privacy_*, store_deletion_*), running jobs (inbox/).
 * Memory: parsed requests and export documents live in the caller's arena or are owned by
 * the caller as said below. Threads: the handlers run on HTTP threads and share one store
 * connection under a mutex (these callbacks come at human speed).
 */
#ifndef SB_META_PRIVACY_H
#define SB_META_PRIVACY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/mem.h"
#include "http/http.h"
#include "store/store.h"

struct queue;

/* ---- signed_request ---- */

#define META_SR_MAX_LEN     8192          /* the whole "<sig>.<payload>" string, in bytes */
#define META_SR_MAX_AGE_S   (24LL * 3600) /* default: issued_at older than a day is refused */
#define META_SR_MAX_SKEW_S  300           /* default: issued_at may run this far ahead */
#define META_SR_USER_ID_MAX 64            /* app-scoped ids are ~17 digits */
#define META_SR_JSON_DEPTH  16

/* Freshness rules; a zeroed struct (or NULL) means the defaults against the real clock. */
struct meta_sr_limits {
    int64_t now_s;      /* Unix seconds to judge by; 0: the clock */
    int64_t max_age_s;  /* 0: META_SR_MAX_AGE_S; negative: no age limit (old test vectors) */
    int64_t max_skew_s; /* 0: META_SR_MAX_SKEW_S; negative: no limit on future times */
};

struct meta_signed_request {
    const char *user_id; /* app-scoped user id as text (string or number in the payload);
                            NULL when the payload has none (a user who never authorized) */
    int64_t issued_at;   /* Unix seconds */
    int64_t expires;     /* Unix seconds; 0 when absent. Informational: in Meta's payloads it
                            has described the user's token, not this request, so freshness is
                            judged by issued_at alone */
    const char *payload; /* the decoded payload JSON (NUL-terminated) */
    size_t payload_len;
};

/* Parses and verifies sr[0..len) ("<base64url sig>.<base64url payload>", either part padded
 * or not): split at the first '.', HMAC-SHA256(app_secret, payload segment exactly as
 * received) compared in constant time with the decoded 32-byte signature, and only then
 * the payload decoded: a JSON object with "algorithm":"HMAC-SHA256" and a numeric issued_at
 * within lim; user_id a string or an integer of [0-9A-Za-z_-] when present; expires numeric
 * when present. Results in the arena.
 * ERR_TOO_LARGE: over META_SR_MAX_LEN. ERR_INVALID: malformed (no '.', bad base64url, a
 * signature that is not 32 bytes, payload not a JSON object, wrong algorithm, missing or
 * non-numeric issued_at, bad user_id). ERR_AUTH: the signature does not match (or no app
 * secret is configured), or issued_at is too old or in the future.
 * *reason (may be NULL) receives static words for a log line; never the request itself.
 * Pure: any thread. */
MUST_USE enum err meta_parse_signed_request(struct arena *a, const char *app_secret, const char *sr,
                                            size_t len, const struct meta_sr_limits *lim,
                                            struct meta_signed_request *out, const char **reason);

/* True when s can be an app-scoped user id: 1..META_SR_USER_ID_MAX of [0-9A-Za-z_-]. */
bool meta_user_id_ok(const char *s);

/* ---- deletion requests and the job that carries them out ---- */

#define META_JOB_PRIVACY_DELETE "privacy_delete"
#define META_DELETION_CODE_LEN  32 /* 128 random bits as lower-case hex */
#define META_PRIVACY_MAX_BODY   ((size_t)32 * 1024)

/* Records a pending deletion request for user_id with a fresh random confirmation code and
 * queues its job, both in one transaction on s (so neither exists without the other).
 * kind: "meta" (the callback) or "cli". q may be NULL (a CLI: the job row is inserted
 * directly and a running server's workers, or the caller, claim it). code receives the
 * confirmation code. ERR_INVALID when user_id fails meta_user_id_ok(). */
MUST_USE enum err meta_privacy_request(struct store *s, struct queue *q, const char *user_id,
                                       const char *kind, char code[META_DELETION_CODE_LEN + 1]);

/* The "privacy_delete" job (payload: the confirmation code), inside the caller's
 * transaction: erases everything stored about the request's user (store_privacy_erase) and
 * marks the request completed with the counts. Idempotent: a request already completed is
 * left alone, and a replay after a crash redoes only what the rollback undid. On the job's
 * last attempt (attempts >= max_attempts) a failing erase is undone and the request is marked
 * "failed" with words for its status page, and ERR_OK returned so that verdict is kept.
 * ERR_INVALID (with *reason) for a payload that names no request: retrying cannot help. */
MUST_USE enum err meta_privacy_run_job(struct store *s, const struct store_job *job,
                                       const char **reason);

/* Everything stored about user_id as one JSON object (accounts they connected without any
 * token, contacts, conversations, messages, raw events, dead letters that mention them,
 * deletion requests). Caller owns *out (json_decref). */
MUST_USE enum err meta_privacy_export(struct store *s, const char *user_id, json_t **out);

/* True when s is a well-formed confirmation code (META_DELETION_CODE_LEN lower-case hex). */
bool meta_deletion_code_ok(const char *s);

/* ---- the HTTP callbacks ---- */

struct meta_privacy_opts {
    const char *app_secret; /* empty: every callback is refused (400) */
    const char *public_url; /* base of the status URL handed to Meta */
    const struct store_opts *store;
    struct queue *queue;
};

struct meta_privacy;

/* Opens the handlers' store connection. Caller owns *out; free with meta_privacy_free()
 * after the HTTP server has stopped. */
MUST_USE enum err meta_privacy_new(const struct meta_privacy_opts *o, struct meta_privacy **out);
void meta_privacy_free(struct meta_privacy *p);
/* Route handlers; ctx is the struct meta_privacy. */
http_handler_fn meta_privacy_deletion;        /* POST /meta/data-deletion */
http_handler_fn meta_privacy_deletion_status; /* GET /meta/data-deletion/{code} */
http_handler_fn meta_privacy_deauthorize;     /* POST /meta/deauthorize */

/* The status page for people (HTML, every value escaped) of one request, into the arena;
 * d NULL: the page for an unknown code. */
char *meta_deletion_page(struct arena *a, const struct store_deletion *d);

#endif
