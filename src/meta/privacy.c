/*
 * meta/privacy.c - Meta's data deletion and deauthorize callbacks, and the durable deletion
 * job behind them.
 *
 * POST /meta/data-deletion answers only after the request row and its job are committed
 * together, so an answered request is never lost: the job runs on a worker, and a crash
 * before or during it leaves the job to run again after the restart (its effects and its
 * ack commit in one transaction, and the erase is idempotent).
 *
 * What "everything belonging to that user" means (README, "Privacy"): for a customer, their
 * contact rows, conversations, messages, and the raw webhook events and dead letters that
 * carry their page-scoped ids. For an admin who connected Pages, their access tokens, granted
 * scopes and their id on those connections, which become 'revoked'. The Page and Instagram
 * accounts and the customers' conversations under them are kept: they are the business's
 * records (other people's messages to the business), not the admin's personal data, and the
 * business can reconnect with another admin. The deletion request row itself is kept, with
 * the id, as the record that the request was honoured (its status page needs it).
 */
#include "meta/privacy.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/log.h"
#include "queue/queue.h"

struct meta_privacy {
    char *app_secret;
    char *public_url; /* without a trailing '/' */
    struct queue *queue;
    pthread_mutex_t lock; /* guards store: one connection for these rare requests */
    struct store *store;
};

enum err meta_privacy_new(const struct meta_privacy_opts *o, struct meta_privacy **out)
{
    struct meta_privacy *p = xcalloc(1, sizeof *p);
    enum err rc = store_open(o->store, &p->store);
    if (rc != ERR_OK) {
        free(p);
        return rc;
    }
    p->app_secret = xstrdup(o->app_secret ? o->app_secret : "");
    const char *url = o->public_url ? o->public_url : "";
    size_t n = strlen(url);
    while (n > 0 && url[n - 1] == '/')
        n--;
    p->public_url = xstrndup(url, n);
    p->queue = o->queue;
    pthread_mutex_init(&p->lock, NULL);
    if (!*p->app_secret)
        log_warn("privacy.no_app_secret", LOG_STR("effect", "every callback is refused"));
    *out = p;
    return ERR_OK;
}

void meta_privacy_free(struct meta_privacy *p)
{
    if (!p)
        return;
    store_free(p->store);
    pthread_mutex_destroy(&p->lock);
    crypto_cleanse(p->app_secret, strlen(p->app_secret));
    free(p->app_secret);
    free(p->public_url);
    free(p);
}

bool meta_deletion_code_ok(const char *s)
{
    if (!s || strlen(s) != META_DELETION_CODE_LEN)
        return false;
    for (const char *c = s; *c; c++)
        if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
            return false;
    return true;
}

/* ---- recording a request ---- */

static enum err enqueue(struct store *s, struct queue *q, const char *code)
{
    char dedupe[16 + META_DELETION_CODE_LEN];
    snprintf(dedupe, sizeof dedupe, "privacy:%s", code);
    struct queue_job job = {.kind = META_JOB_PRIVACY_DELETE,
                            .dedupe = dedupe,
                            .payload = code,
                            .payload_len = strlen(code)};
    int64_t id = 0;
    if (q)
        return queue_enqueue(q, s, &job, &id);
    struct store_job_new j = {.kind = job.kind,
                              .dedupe = job.dedupe,
                              .payload = job.payload,
                              .payload_len = job.payload_len,
                              .run_at_ms = clock_now_ms(),
                              .max_attempts = 8};
    return store_jobs_insert(s, &j, 1, clock_now_ms(), &id);
}

enum err meta_privacy_request(struct store *s, struct queue *q, const char *user_id,
                              const char *kind, char code[META_DELETION_CODE_LEN + 1])
{
    if (!meta_user_id_ok(user_id))
        return ERR_INVALID;
    unsigned char raw[META_DELETION_CODE_LEN / 2];
    crypto_random(raw, sizeof raw);
    hex_encode(raw, sizeof raw, code);
    struct store_deletion d = {.code = code,
                               .user_id = user_id,
                               .kind = kind,
                               .status = "pending",
                               .created_at = clock_now_ms()};
    enum err rc = store_begin(s);
    if (rc != ERR_OK)
        return rc;
    rc = store_deletion_add(s, &d);
    if (rc == ERR_OK)
        rc = enqueue(s, q, code);
    if (rc != ERR_OK) {
        store_rollback(s);
        return rc;
    }
    return store_commit(s);
}

/* ---- the job ---- */

#define FAILED_WORDS                                                                               \
    "A storage error stopped the deletion several times in a row. It has been reported to the "    \
    "business, whose operators can run it again; your data may not be deleted yet."

static char *counts_json(struct arena *a, const struct store_privacy_counts *c)
{
    return arena_printf(a,
                        "{\"accounts\":%lld,\"contacts\":%lld,\"conversations\":%lld,"
                        "\"messages\":%lld,\"events\":%lld,\"dead_letters\":%lld,"
                        "\"comments\":%lld}",
                        (long long)c->accounts, (long long)c->contacts, (long long)c->conversations,
                        (long long)c->messages, (long long)c->events, (long long)c->dead_letters,
                        (long long)c->comments);
}

static enum err erase(struct store *s, struct arena *a, const struct store_deletion *d)
{
    struct store_privacy_counts c;
    int64_t now = clock_now_ms();
    const char *reason = "the person who connected it asked Meta to delete their data";
    enum err rc = store_privacy_erase(s, d->user_id, reason, now, &c);
    if (rc == ERR_OK)
        rc = store_deletion_finish(s, d->code, "completed", counts_json(a, &c), now);
    if (rc == ERR_OK)
        log_info("privacy.deleted", LOG_STR("code", d->code), LOG_INT("accounts", c.accounts),
                 LOG_INT("contacts", c.contacts), LOG_INT("conversations", c.conversations),
                 LOG_INT("messages", c.messages), LOG_INT("events", c.events),
                 LOG_INT("dead_letters", c.dead_letters));
    return rc;
}

/* On the job's last attempt a failure is not left to the dead letters alone: the erase is
 * undone (a savepoint) and the request is marked failed, so its page says so instead of
 * "in progress" for ever. */
static enum err erase_or_give_up(struct store *s, struct arena *a, const struct store_deletion *d,
                                 const struct store_job *job)
{
    bool last = job->max_attempts > 0 && job->attempts >= job->max_attempts;
    enum err rc = last ? store_begin(s) : ERR_OK;
    if (rc == ERR_OK)
        rc = erase(s, a, d);
    if (!last)
        return rc;
    if (rc == ERR_OK)
        return store_commit(s);
    store_rollback(s);
    log_error("privacy.delete_failed", LOG_STR("code", d->code), LOG_INT("attempts", job->attempts),
              LOG_ERR(rc));
    return store_deletion_finish(s, d->code, "failed", FAILED_WORDS, clock_now_ms());
}

enum err meta_privacy_run_job(struct store *s, const struct store_job *job, const char **reason)
{
    char code[META_DELETION_CODE_LEN + 1] = "";
    if (job->payload_len == META_DELETION_CODE_LEN)
        memcpy(code, job->payload, META_DELETION_CODE_LEN);
    if (!meta_deletion_code_ok(code)) {
        *reason = "payload is not a confirmation code";
        return ERR_INVALID;
    }
    struct arena a;
    arena_init(&a);
    struct store_deletion d;
    enum err rc = store_deletion_get(s, &a, code, &d);
    if (rc == ERR_NOT_FOUND) {
        *reason = "no deletion request with this code";
        rc = ERR_INVALID;
    } else if (rc == ERR_OK && strcmp(d.status, "pending") == 0) {
        rc = erase_or_give_up(s, &a, &d, job);
    } /* else already completed: a replay of a finished job does nothing */
    arena_release(&a);
    return rc;
}

/* ---- the HTTP callbacks ---- */

static void find_signed_request(void *ctx, const char *key, const char *value)
{
    const char **out = ctx;
    if (!*out && strcmp(key, "signed_request") == 0)
        *out = value;
}

/* 400 with a JSON error naming what was wrong (static words, never the request). */
static void refuse(struct http_req *req, const char *route, enum err rc, const char *why)
{
    static struct log_limit limit;
    int suppressed;
    if (log_allow(&limit, 20, &suppressed))
        log_info("privacy.callback_rejected", LOG_STR("route", route), LOG_ERR(rc),
                 LOG_STR("reason", why), LOG_INT("suppressed_before", suppressed));
    http_reply_json(req, 400,
                    json_pack("{s:{s:s,s:s,s:s}}", "error", "code", err_name(rc), "message", why,
                              "request_id", http_req_id(req)));
}

/* The verified user id of the request's signed_request, or NULL after answering 400. */
static const char *verified_user(struct meta_privacy *p, struct http_req *req, const char *route)
{
    size_t len;
    const char *body = http_req_body(req, &len);
    const char *sr = NULL;
    http_form_each(http_req_arena(req), body, len, find_signed_request, &sr);
    if (!sr || !*sr) {
        refuse(req, route, ERR_INVALID, "form field signed_request is missing");
        return NULL;
    }
    struct meta_signed_request msr;
    const char *why = NULL;
    enum err rc = meta_parse_signed_request(http_req_arena(req), p->app_secret, sr, strlen(sr),
                                            NULL, &msr, &why);
    if (rc == ERR_OK && !msr.user_id) {
        rc = ERR_INVALID;
        why = "signed_request names no user";
    }
    if (rc != ERR_OK) {
        refuse(req, route, rc, why ? why : err_name(rc));
        return NULL;
    }
    return msr.user_id;
}

void meta_privacy_deletion(struct http_req *req, void *ctx)
{
    struct meta_privacy *p = ctx;
    const char *user_id = verified_user(p, req, "data-deletion");
    if (!user_id)
        return;
    char code[META_DELETION_CODE_LEN + 1];
    pthread_mutex_lock(&p->lock);
    enum err rc = meta_privacy_request(p->store, p->queue, user_id, "meta", code);
    pthread_mutex_unlock(&p->lock);
    if (rc != ERR_OK) {
        log_error("privacy.request_failed", LOG_ERR(rc));
        http_reply_error(req, ERR_AGAIN, "the request could not be recorded; try again");
        return;
    }
    log_info("privacy.deletion_requested", LOG_STR("code", code), LOG_STR("via", "meta"));
    char *url = arena_printf(http_req_arena(req), "%s/meta/data-deletion/%s", p->public_url, code);
    http_reply_json(req, 200, json_pack("{s:s,s:s}", "url", url, "confirmation_code", code));
}

void meta_privacy_deauthorize(struct http_req *req, void *ctx)
{
    struct meta_privacy *p = ctx;
    const char *user_id = verified_user(p, req, "deauthorize");
    if (!user_id)
        return;
    const char *reason = arena_printf(
        http_req_arena(req), "app removed by user %s (Meta deauthorize callback)", user_id);
    int64_t n = 0;
    pthread_mutex_lock(&p->lock);
    enum err rc = store_privacy_revoke(p->store, user_id, reason, clock_now_ms(), &n);
    pthread_mutex_unlock(&p->lock);
    if (rc != ERR_OK) {
        log_error("privacy.revoke_failed", LOG_ERR(rc));
        http_reply_error(req, ERR_AGAIN, "the revocation could not be recorded; try again");
        return;
    }
    log_info("privacy.deauthorized", LOG_INT("accounts", n));
    http_reply_json(req, 200, json_pack("{s:b}", "success", 1));
}

static bool wants_json(const struct http_req *req)
{
    const char *accept = http_req_header(req, "Accept");
    return accept && strstr(accept, "application/json") != NULL;
}

static void reply_page(struct http_req *req, int status, const char *html)
{
    http_set_header(req, "Cache-Control", "no-store");
    http_set_header(req, "Content-Security-Policy",
                    "default-src 'none'; style-src 'unsafe-inline'");
    http_reply(req, status, "text/html; charset=utf-8", html, strlen(html));
}

void meta_privacy_deletion_status(struct http_req *req, void *ctx)
{
    struct meta_privacy *p = ctx;
    const char *code = http_req_param(req, "code");
    struct store_deletion d;
    enum err rc = ERR_NOT_FOUND;
    if (meta_deletion_code_ok(code)) {
        pthread_mutex_lock(&p->lock);
        rc = store_deletion_get(p->store, http_req_arena(req), code, &d);
        pthread_mutex_unlock(&p->lock);
    }
    if (rc != ERR_OK && rc != ERR_NOT_FOUND) {
        http_reply_error(req, ERR_AGAIN, "the status cannot be read now; try again");
        return;
    }
    bool found = rc == ERR_OK;
    if (wants_json(req)) {
        if (!found)
            http_reply_error(req, ERR_NOT_FOUND, "no deletion request with this code");
        else
            http_reply_json(
                req, 200, json_pack("{s:s,s:s}", "confirmation_code", d.code, "status", d.status));
        return;
    }
    reply_page(req, found ? 200 : 404, meta_deletion_page(http_req_arena(req), found ? &d : NULL));
}
