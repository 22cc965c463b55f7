/*
 * meta/graph.h - the Graph API client: one call primitive, Meta's error classes and retry
 * policy, the rate-limit usage headers, and the typed calls of the login flow.
 *
 * Owns: URLs under {graph_url}/{version}, access tokens and appsecret_proof on the wire
 * (query string or form body, never a log line), error bodies -> struct meta_graph_error,
 * X-App-Usage / X-Business-Use-Case-Usage / X-Page-Usage, cursor paging by `after=`.
 * Does not own: storing tokens (store/), deciding when to retry a job (inbox/, content/: they
 * ask meta_graph_retry_delay_ms()), what a message says.
 * Threads: a struct meta_graph is immutable after meta_graph_new(); any thread may call
 * through it concurrently. The parsers are pure functions.
 * Memory: results (JSON and strings) live in the caller's arena.
 */
#ifndef SB_META_GRAPH_H
#define SB_META_GRAPH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/mem.h"

/* ---- errors: classes and retry policy (meta-platform.md sections 2.7, 3.2, 4.3, 5.5) ---- */

enum meta_err_class {
    META_ERR_NONE,       /* no error */
    META_ERR_TRANSIENT,  /* 1 (once), 2, 5xx, transport; publishing 9007 and the temporary
                            -2/2207003, -1/2207001, 24/2207008: retry with backoff */
    META_ERR_RATE_LIMIT, /* 4, 17, 32, 341, 613, 80000-80009, 80014, 429; 9/2207042 (quota,
                            not retried here): wait retry_after_s */
    META_ERR_AUTH,       /* 190 (any subcode), 102: the token is dead; reconnect */
    META_ERR_WINDOW,     /* 10/2018278, 10/2534022: outside the messaging window; never retry */
    META_ERR_RECIPIENT,  /* 551, 100/2018001, 100/2534014, 10/2018108, 200/1545041: unreachable */
    META_ERR_PERMISSION, /* 10, 200-299, 230, 368, 36103, 200/2534041: fix setup; never retry */
    META_ERR_INVALID,    /* 100 and any other request error or unknown code; never retry */
    META_ERR_AMBIGUOUS,  /* 1/1357046, or no answer to a sent write: it may have happened;
                            reconcile (echo by mid/metadata, container status) before resending */
};

#define META_ERR_TYPE_MAX    64
#define META_ERR_MESSAGE_MAX 512
#define META_ERR_TRACE_MAX   64

struct meta_graph_error {
    int http_status;                     /* 0: no HTTP answer (transport) */
    int code;                            /* Graph `code`; 0 when the body had none */
    int subcode;                         /* `error_subcode`; 0 when absent */
    char type[META_ERR_TYPE_MAX];        /* "OAuthException", "IGApiException", ... */
    char message[META_ERR_MESSAGE_MAX];  /* may be localized: never branch on it */
    char fbtrace_id[META_ERR_TRACE_MAX]; /* for support requests; safe to log */
    bool is_transient;                   /* the body's own flag (informational) */
    enum meta_err_class cls;             /* what to do: branch on this */
    int retry_after_s; /* META_ERR_RATE_LIMIT: seconds until calls may resume (the usage
                          headers' estimate, else META_RATE_LIMIT_DEFAULT_S); 0 otherwise */
};

#define META_RATE_LIMIT_DEFAULT_S 60

/* The one classification table: (code, subcode) first, then code ranges, then the HTTP status
 * when the code is unknown (5xx transient, 429 rate limit, anything else invalid). A code of 0
 * with status 0 is a transport failure (transient). */
enum meta_err_class meta_graph_classify(int code, int subcode, int http_status);
const char *meta_err_class_name(enum meta_err_class c);

/* Section 2.7's policy for retry number `attempt` (1 = the first retry) of a call that failed
 * with e: true with *delay_ms set when it may be retried. Transient: exponential backoff with
 * jitter (code 1 only once); rate limit: retry_after_s plus jitter; every other class: false. */
bool meta_graph_retry_delay_ms(const struct meta_graph_error *e, int attempt, long *delay_ms);

/* Parses an error body: {"error":{...}} (error_subcode optional, numbers or numeric strings),
 * {"error":"...","error_description":...}, the legacy flat {error_type, code, error_message}
 * (whose `code` is the HTTP status), the old REST {error_code, error_msg}, one batch item
 * {"code":400,"body":"<JSON string>"} or a batch array (its first failed item). body needs no
 * terminator. ERR_OK with *out filled and classified; ERR_INVALID when the body holds no
 * error (then *out has http_status and the class that status alone gives). */
MUST_USE enum err meta_parse_graph_error(const char *body, size_t len, int http_status,
                                         struct meta_graph_error *out);

/* ---- rate-limit usage headers (section 3.2) ---- */

#define META_USAGE_PCT_MAX    1000000 /* metrics can pass 100; larger values are clamped */
#define META_USAGE_REGAIN_MAX 10080   /* minutes (a week); larger estimates are clamped */

struct meta_usage {
    bool is_present; /* at least one usage header parsed */
    int max_pct;     /* the highest call_count / total_time / total_cputime seen; throttling
                        starts at 100, so slow down well before */
    int regain_min;  /* the largest estimated_time_to_regain_access, in minutes; 0 if none */
};

/* Merges one header into *u (start from a zeroed struct). name is X-App-Usage,
 * X-Business-Use-Case-Usage or X-Page-Usage, in any case; value[0..len) needs no terminator.
 * ERR_INVALID (u unchanged) for another name, a value that is not the documented JSON, or a
 * value over 64 KiB. */
MUST_USE enum err meta_parse_usage_header(const char *name, const char *value, size_t len,
                                          struct meta_usage *u);

/* ---- the client ---- */

struct meta_graph_opts {
    const char *graph_url;  /* SB_META_GRAPH_URL, "https://graph.facebook.com" */
    const char *version;    /* SB_META_GRAPH_VERSION, "v24.0" */
    const char *app_id;     /* for token exchange, debug_token's app token, subscriptions */
    const char *app_secret; /* signs appsecret_proof; never leaves this struct otherwise */
    long timeout_ms;        /* per call; 0: 15000 */
};

struct meta_graph;

/* Copies the options. ERR_INVALID when graph_url, version, app_id or app_secret is empty.
 * Caller owns *out; free with meta_graph_free(). */
MUST_USE enum err meta_graph_new(const struct meta_graph_opts *o, struct meta_graph **out);
void meta_graph_free(struct meta_graph *g);

struct meta_param {
    const char *key, *value;
};

struct meta_graph_req {
    const char *method; /* "GET", "POST" or "DELETE" */
    const char *path;   /* "/me/accounts", "/104000000000001/messages": [A-Za-z0-9_./-], no ".." */
    const struct meta_param *params; /* URL-encoded here; NULL values are skipped */
    size_t n_params;
    const char *json_body;    /* POST only, optional: sent as application/json, and then params,
                                 token and proof go in the query string; otherwise a POST carries
                                 them as a form body */
    const char *access_token; /* NULL for calls that authenticate otherwise (code exchange);
                                 when set, appsecret_proof = hex HMAC-SHA256(secret, token) */
};

struct meta_graph_resp {
    int http_status;
    json_t *json;            /* the parsed body on success; lives until the arena's release */
    struct meta_usage usage; /* this response's usage headers, on success and on error */
};

/* One Graph call. ERR_OK: resp->json is the answer and *gerr is zeroed (cls META_ERR_NONE).
 * Otherwise *gerr says why, and the code follows its class: ERR_AUTH (AUTH), ERR_AGAIN
 * (TRANSIENT, RATE_LIMIT), ERR_UPSTREAM (every other Graph error), ERR_TOO_LARGE (answer
 * over 4 MiB), ERR_INVALID (a bad path or method: nothing was sent). A write (POST, DELETE)
 * that got no usable answer after it was sent is META_ERR_AMBIGUOUS, never TRANSIENT. One log
 * line per call (method, path, status, code, subcode, ms): never the token, proof or query. */
MUST_USE enum err meta_graph_call(struct meta_graph *g, struct arena *a,
                                  const struct meta_graph_req *req, struct meta_graph_resp *resp,
                                  struct meta_graph_error *gerr);

/* ---- the login flow (section 4) ---- */

/* {oauth_url}/{version}/dialog/oauth?client_id=&redirect_uri=&state=&scope=&response_type=code,
 * every value URL-encoded; scope is comma-separated. In the arena. */
char *meta_oauth_dialog_url(struct arena *a, const char *oauth_url, const char *version,
                            const char *app_id, const char *redirect_uri, const char *state,
                            const char *scope);

struct meta_token {
    const char *access_token;
    const char *token_type; /* "bearer"; NULL when absent */
    int64_t expires_in;     /* seconds; 0 when absent (app tokens, some Page tokens) */
};

/* {"access_token","token_type","expires_in"} -> *out (strings borrowed from body). ERR_INVALID
 * without a non-empty access_token. */
MUST_USE enum err meta_parse_token(const json_t *body, struct meta_token *out);
/* The login code -> a short-lived user token. redirect_uri must be the dialog's, byte for byte.
 * Codes are single-use: never retry this call. Errors as meta_graph_call(). */
MUST_USE enum err meta_exchange_code(struct meta_graph *g, struct arena *a, const char *code,
                                     const char *redirect_uri, struct meta_token *out,
                                     struct meta_graph_error *gerr);
/* A short-lived user token -> a long-lived one (about 60 days). */
MUST_USE enum err meta_exchange_long_lived(struct meta_graph *g, struct arena *a,
                                           const char *short_token, struct meta_token *out,
                                           struct meta_graph_error *gerr);

/* ---- paging (section 7) ---- */

/* paging.cursors.after and whether paging.next exists (its URL is never followed: callers
 * rebuild the request with after=). *after is NULL when absent; borrowed from body. */
void meta_parse_paging(const json_t *body, const char **after, bool *has_next);

#define META_PAGING_NEXT_MAX   8192 /* a paging.next link longer than this is refused */
#define META_PAGING_MAX_PARAMS 32   /* pairs a continuation may carry */

/* What the next request of a listing carries, as form-encoded pairs in the arena: "after=C"
 * from paging.cursors.after, else the query of paging.next (cursor-, offset- or time-based
 * links) without access_token, appsecret_proof, appsecret_time and method. The link itself is
 * never fetched: the caller sends the pairs to its own path under its own Graph URL.
 * ERR_NOT_FOUND: no paging.next (the last page); ERR_INVALID: a next with neither a cursor
 * nor a usable query, or one over META_PAGING_NEXT_MAX bytes. */
MUST_USE enum err meta_paging_next_query(struct arena *a, const json_t *body, char **query);

#define META_MAX_PAGES 50 /* a listing stops with ERR_TOO_LARGE past this many pages */

/* ---- Pages and their Instagram accounts (section 4.2) ---- */

struct meta_page {
    const char *id, *name;
    const char *access_token;                         /* NULL when absent */
    const char *ig_id, *ig_username, *ig_picture_url; /* NULL: no linked Instagram account */
    const char **tasks;                               /* "MESSAGING", "MODERATE", ... */
    size_t n_tasks;
};

/* The data[] of one /me/accounts answer. Items without an id are skipped. In the arena. */
MUST_USE enum err meta_parse_accounts(struct arena *a, const json_t *body, struct meta_page **out,
                                      size_t *n);

/* Called once per Page; its strings are valid during the call only, so copy what you keep.
 * A code other than ERR_OK stops the listing and is returned. */
typedef enum err meta_page_fn(void *ctx, const struct meta_page *p);

/* Every Page the user token reaches, with its Page token and linked IG account, `limit` per
 * request (0: 100). Follows meta_paging_next_query() until paging.next is absent; an empty page
 * with next goes on. ERR_TOO_LARGE past META_MAX_PAGES, ERR_UPSTREAM when next comes with
 * nothing to continue by or repeats the last request; Graph errors as meta_graph_call(). */
MUST_USE enum err meta_list_pages(struct meta_graph *g, const char *user_token, int limit,
                                  meta_page_fn *fn, void *ctx, struct meta_graph_error *gerr);

/* ---- debug_token (section 4.3) ---- */

struct meta_token_info {
    bool is_valid;
    const char *type;                          /* "USER", "PAGE", "SYSTEM_USER"; NULL when absent */
    const char *app_id, *user_id, *profile_id; /* as text; NULL when absent */
    int64_t expires_at;                        /* unix seconds; 0 = never */
    int64_t data_access_expires_at;            /* unix seconds; 0 when absent */
    const char **scopes;
    size_t n_scopes;
    int error_code, error_subcode; /* data.error when the token is invalid; else 0 */
};

/* {"data":{...}} (or the bare data object) -> *out, in the arena. ERR_INVALID without
 * is_valid. */
MUST_USE enum err meta_parse_debug_token(struct arena *a, const json_t *body,
                                         struct meta_token_info *out);
/* Inspects token with the app token "{app_id}|{app_secret}". An invalid token is ERR_OK with
 * is_valid false; Graph errors (a bad app secret, ...) as meta_graph_call(). */
MUST_USE enum err meta_debug_token(struct meta_graph *g, struct arena *a, const char *token,
                                   struct meta_token_info *out, struct meta_graph_error *gerr);

/* ---- webhook subscriptions (section 4.5) ---- */

/* POST /{page_id}/subscribed_apps with subscribed_fields=a,b,c and the Page token (form
 * body, like every POST without JSON). fields is NULL-terminated and not empty. ERR_OK only on
 * {"success":true}; another answer is ERR_UPSTREAM (META_ERR_INVALID). */
MUST_USE enum err meta_subscribe_page(struct meta_graph *g, const char *page_id,
                                      const char *page_token, const char *const *fields,
                                      struct meta_graph_error *gerr);
/* The subscribed_fields of app_id (NULL: the first app listed) in a GET
 * /{page}/subscribed_apps answer (strings or {"name":...} objects). Not listed: ERR_OK with
 * *n 0; no data array: ERR_INVALID. In the arena. */
MUST_USE enum err meta_parse_subscriptions(struct arena *a, const json_t *body, const char *app_id,
                                           const char ***fields, size_t *n);
/* The fields this app is subscribed to on the Page (none: *n 0). */
MUST_USE enum err meta_page_subscriptions(struct meta_graph *g, struct arena *a,
                                          const char *page_id, const char *page_token,
                                          const char ***fields, size_t *n,
                                          struct meta_graph_error *gerr);

#endif
