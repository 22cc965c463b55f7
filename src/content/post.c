/*
 * content/post.c - making, cancelling and rescheduling posts, and their jobs.
 *
 * Two kinds of publish job carry a post id. A wake job ("<id> wake", no ordering key) comes
 * due when the post is (scheduled_at, or deferred_until after the quota ran out); it only
 * moves a post that is still scheduled or deferred and due into publishing, and starts its
 * step chain. There may be stale wake jobs (a reschedule adds one): they find the post not
 * due, or not waiting, and do nothing. The step chain ("<id> step", key "post:<id>") is the
 * only one that acts on a publishing post: one job at a time, each queueing the next in the
 * transaction that records its step, so two workers never run one post's steps at once.
 */
#include "content/content.h"

#include <stdio.h>
#include <string.h>

#include "content/content_int.h"
#include "core/clock.h"
#include "core/log.h"

#define JOB_MAX_ATTEMPTS 20 /* claims of one step job (a crash loop ends in the dead letters) */
#define URL_MAX          2048

static enum err insert_job(struct store *s, int64_t post_id, const char *phase, int64_t run_at,
                           int64_t now)
{
    char payload[48], key[40];
    int n = snprintf(payload, sizeof payload, "%lld %s", (long long)post_id, phase);
    snprintf(key, sizeof key, "post:%lld", (long long)post_id);
    struct store_job_new j = {.kind = CONTENT_JOB_PUBLISH,
                              .key = strcmp(phase, "step") == 0 ? key : NULL,
                              .payload = payload,
                              .payload_len = (size_t)n,
                              .run_at_ms = run_at > now ? run_at : now,
                              .max_attempts = JOB_MAX_ATTEMPTS};
    int64_t id = 0;
    return store_jobs_insert(s, &j, 1, now, &id);
}

enum err content_post_queue_job(struct store *s, int64_t post_id, int64_t run_at_ms,
                                int64_t now_ms)
{
    return insert_job(s, post_id, "wake", run_at_ms, now_ms);
}

enum err content_post_queue_step(struct store *s, int64_t post_id, int64_t run_at_ms,
                                 int64_t now_ms)
{
    return insert_job(s, post_id, "step", run_at_ms, now_ms);
}

static bool url_ok(const char *u)
{
    size_t n = strlen(u);
    if (n > URL_MAX || !content_source_is_url(u))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)u[i] <= 0x20 || (unsigned char)u[i] >= 0x7F)
            return false;
    return true;
}

static bool source_ok(const char *src)
{
    if (!src)
        return false;
    if (strncmp(src, "file:", 5) == 0) {
        size_t n = strspn(src + 5, "0123456789abcdef");
        return n == 64 && src[5 + n] == '\0';
    }
    return url_ok(src);
}

static enum err check_account(struct store *s, struct arena *a, int64_t id,
                              char why[CONTENT_WHY_MAX])
{
    struct store_account acct;
    enum err rc = store_account_by_id(s, a, id, &acct);
    if (rc == ERR_NOT_FOUND)
        snprintf(why, CONTENT_WHY_MAX, "no connected account has id %lld", (long long)id);
    if (rc != ERR_OK)
        return rc;
    if (acct.platform != STORE_INSTAGRAM) {
        snprintf(why, CONTENT_WHY_MAX, "account %lld is a Facebook Page, not an Instagram account",
                 (long long)id);
        return ERR_CONFLICT;
    }
    if (acct.status != STORE_ACCOUNT_ACTIVE) {
        snprintf(why, CONTENT_WHY_MAX, "account %lld needs reconnecting (%s)", (long long)id,
                 store_account_status_name(acct.status));
        return ERR_CONFLICT;
    }
    return ERR_OK;
}

static enum err check_new(const struct content_post_new *p, char why[CONTENT_WHY_MAX])
{
    if (p->n_sources < 1 || p->n_sources > STORE_POST_ITEMS_MAX) {
        snprintf(why, CONTENT_WHY_MAX,
                 "a post has 1 image, or 2 to %d for a carousel (%zu given)",
                 STORE_POST_ITEMS_MAX, p->n_sources);
        return ERR_INVALID;
    }
    for (size_t i = 0; i < p->n_sources; i++)
        if (!source_ok(p->sources[i])) {
            snprintf(why, CONTENT_WHY_MAX,
                     "image %zu is neither an upload nor an http(s) URL of at most %d "
                     "printable ASCII characters",
                     i + 1, URL_MAX);
            return ERR_INVALID;
        }
    return content_caption_check(p->caption ? p->caption : "", why);
}

enum err content_post_create(struct store *s, const struct content_post_new *p, int64_t now_ms,
                             int64_t *id, char why[CONTENT_WHY_MAX])
{
    why[0] = '\0';
    struct arena a;
    arena_init(&a);
    enum err rc = check_new(p, why);
    if (rc == ERR_OK)
        rc = check_account(s, &a, p->account_id, why);
    struct store_post post = {.account_id = p->account_id,
                              .state = "scheduled",
                              .caption = p->caption ? p->caption : "",
                              .fit = content_fit_mode_name(p->fit),
                              .scheduled_at = p->at_ms > 0 ? p->at_ms : now_ms,
                              .operator_id = p->operator_id,
                              .n_items = (int)p->n_sources};
    for (size_t i = 0; rc == ERR_OK && i < p->n_sources; i++)
        post.items[i] = (struct store_post_item){.position = (int)i, .source = p->sources[i]};
    if (rc == ERR_OK)
        rc = store_begin(s);
    if (rc == ERR_OK) {
        rc = store_post_insert(s, &post, now_ms, id);
        if (rc == ERR_OK)
            rc = content_post_queue_job(s, *id, post.scheduled_at, now_ms);
        if (rc == ERR_OK)
            rc = store_commit(s);
        else
            store_rollback(s);
    }
    if (rc == ERR_OK)
        log_info("post.created", LOG_INT("post", *id), LOG_INT("account", p->account_id),
                 LOG_INT("images", p->n_sources), LOG_INT("at", post.scheduled_at));
    arena_release(&a);
    return rc;
}

/* The post, when it is still waiting (scheduled or deferred). */
static enum err load_waiting(struct store *s, struct arena *a, int64_t id, struct store_post *p,
                             char why[CONTENT_WHY_MAX])
{
    why[0] = '\0';
    enum err rc = store_post_get(s, a, id, p);
    if (rc == ERR_NOT_FOUND)
        snprintf(why, CONTENT_WHY_MAX, "no post has id %lld", (long long)id);
    if (rc == ERR_OK && strcmp(p->state, "scheduled") != 0 && strcmp(p->state, "deferred") != 0) {
        snprintf(why, CONTENT_WHY_MAX, "the post is %s already", p->state);
        rc = ERR_CONFLICT;
    }
    return rc;
}

enum err content_post_cancel(struct store *s, int64_t id, int64_t operator_id, int64_t now_ms,
                             char why[CONTENT_WHY_MAX])
{
    struct arena a;
    arena_init(&a);
    struct store_post p;
    enum err rc = load_waiting(s, &a, id, &p, why);
    bool changed = false;
    if (rc == ERR_OK) {
        const char *was = p.state;
        p.state = "failed";
        p.step = NULL;
        p.reason = operator_id ? arena_printf(&a, "cancelled by operator %lld",
                                              (long long)operator_id)
                               : "cancelled";
        rc = store_post_save(s, &p, was, now_ms, &changed);
    }
    if (rc == ERR_OK && !changed) {
        snprintf(why, CONTENT_WHY_MAX, "the post started publishing meanwhile");
        rc = ERR_CONFLICT;
    }
    if (rc == ERR_OK)
        log_info("post.cancelled", LOG_INT("post", id), LOG_INT("operator", operator_id));
    arena_release(&a);
    return rc;
}

enum err content_post_reschedule(struct store *s, int64_t id, int64_t at_ms, int64_t now_ms,
                                 char why[CONTENT_WHY_MAX])
{
    struct arena a;
    arena_init(&a);
    struct store_post p;
    enum err rc = load_waiting(s, &a, id, &p, why);
    bool changed = false;
    if (rc == ERR_OK)
        rc = store_begin(s);
    if (rc == ERR_OK) {
        const char *was = p.state;
        p.state = "scheduled";
        p.scheduled_at = at_ms > now_ms ? at_ms : now_ms;
        p.deferred_until = 0;
        rc = store_post_save(s, &p, was, now_ms, &changed);
        if (rc == ERR_OK && changed)
            rc = content_post_queue_job(s, id, p.scheduled_at, now_ms);
        if (rc == ERR_OK)
            rc = store_commit(s);
        else
            store_rollback(s);
    }
    if (rc == ERR_OK && !changed) {
        snprintf(why, CONTENT_WHY_MAX, "the post started publishing meanwhile");
        rc = ERR_CONFLICT;
    }
    arena_release(&a);
    return rc;
}
