/*
 * content/publish.c - the publishing job (content.h, post.c's two job kinds): a wake moves a
 * due post into publishing and starts its step chain; a step job runs the post's steps
 * (publish_steps.c) until one must wait or the post ends.
 *
 * Crash safety: every step's outcome is committed before the next step's Graph call, and
 * media_publish's moment (publish_sent_at) before it is sent, so a kill -9 anywhere leaves a
 * post whose next run reads Meta's state (the container's status_code) before doing anything
 * that cannot be undone. The job is acked in the transaction that records the last step and
 * queues the next job; until then its lease is extended before each step.
 * Never logs a caption or a token.
 */
#include "content/content.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "content/content_int.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/metrics.h"
#include "meta/token_check.h"
#include "meta/vault.h"
#include "queue/queue.h"

#define STEP_LEASE_MS     120000 /* each step: a few Graph calls of at most 15 s */
#define STEPS_PER_JOB     16
#define POLL_DEADLINE_MS  (10LL * 60 * 1000)
#define WAKE_TOLERANCE_MS 1000

static struct metric *m_published, *m_failed, *m_deferred;

enum err content_publisher_new(const struct content_publisher_opts *o,
                               struct content_publisher **out)
{
    static const char help[] = "Posts that reached an end or waited for the quota, by outcome";
    if (!m_published) {
        m_published = metrics_counter("switchboard_posts_total", help, "result=\"published\"");
        m_failed = metrics_counter("switchboard_posts_total", help, "result=\"failed\"");
        m_deferred = metrics_counter("switchboard_posts_total", help, "result=\"deferred\"");
    }
    struct content_publisher *p = xcalloc(1, sizeof *p);
    p->graph = o->graph;
    p->vault = o->vault;
    p->queue = o->queue;
    p->media = o->media;
    p->public_url = xstrdup(o->public_url ? o->public_url : "");
    size_t n = strlen(p->public_url);
    while (n && p->public_url[n - 1] == '/')
        p->public_url[--n] = '\0';
    p->poll_deadline_ms = o->poll_deadline_ms > 0 ? o->poll_deadline_ms : POLL_DEADLINE_MS;
    *out = p;
    return ERR_OK;
}

void content_publisher_free(struct content_publisher *p)
{
    if (!p)
        return;
    free(p->public_url);
    free(p);
}

/* "<id> wake" or "<id> step". */
static bool parse_payload(const struct store_job *job, int64_t *id, bool *is_step)
{
    char text[48];
    if (job->payload_len == 0 || job->payload_len >= sizeof text)
        return false;
    memcpy(text, job->payload, job->payload_len);
    text[job->payload_len] = '\0';
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    *id = v;
    *is_step = strcmp(end, " step") == 0;
    return errno == 0 && v > 0 && (*is_step || strcmp(end, " wake") == 0);
}

static enum err ack_alone(struct store *s, const struct store_job *job, int64_t now)
{
    return store_job_ack(s, job->id, queue_owner(), now);
}

/* ---- wake ---- */

static enum err wake(struct content_publisher *p, struct store *s, const struct store_job *job,
                     int64_t id)
{
    struct arena a;
    arena_init(&a);
    int64_t now = clock_now_ms();
    struct store_post post;
    enum err rc = store_post_get(s, &a, id, &post);
    bool waiting = rc == ERR_OK && (strcmp(post.state, "scheduled") == 0 ||
                                    strcmp(post.state, "deferred") == 0);
    int64_t due = waiting && strcmp(post.state, "deferred") == 0 ? post.deferred_until
                                                                  : post.scheduled_at;
    if (rc == ERR_NOT_FOUND || (rc == ERR_OK && (!waiting || due > now + WAKE_TOLERANCE_MS))) {
        arena_release(&a); /* gone, cancelled, started, or moved: another wake job has it */
        return ack_alone(s, job, now);
    }
    bool changed = false;
    if (rc == ERR_OK)
        rc = store_begin(s);
    if (rc == ERR_OK) {
        const char *was = post.state;
        post.state = "publishing";
        post.step = "quota";
        post.tries = 0;
        rc = store_post_save(s, &post, was, now, &changed);
        if (rc == ERR_OK && changed)
            rc = content_post_queue_step(s, id, now, now);
        if (rc == ERR_OK)
            rc = ack_alone(s, job, now);
        if (rc == ERR_OK)
            rc = store_commit(s);
        else
            store_rollback(s);
    }
    if (rc == ERR_OK && changed && p->queue)
        queue_notify(p->queue);
    arena_release(&a);
    return rc;
}

/* ---- the step chain ---- */

enum err content_run_persist(struct run *r, bool is_final)
{
    struct store *s = r->s;
    enum err rc = store_begin(s);
    if (rc != ERR_OK)
        return rc;
    bool changed = false;
    rc = store_post_save(s, &r->post, "publishing", r->now, &changed);
    if (rc == ERR_OK && r->quota.checked_at)
        rc = store_account_quota_set(s, r->post.account_id, &r->quota);
    if (rc == ERR_OK && r->is_dead_token)
        rc = meta_account_mark_dead(s, &r->acct, &r->gerr, r->now, NULL);
    if (rc == ERR_OK && is_final && r->next == RUN_STEP_AT)
        rc = content_post_queue_step(s, r->post.id, r->at_ms, r->now);
    if (rc == ERR_OK && is_final && r->next == RUN_WAKE_AT)
        rc = content_post_queue_job(s, r->post.id, r->at_ms, r->now);
    if (rc == ERR_OK && is_final)
        rc = ack_alone(s, r->job, r->now);
    if (rc == ERR_OK)
        rc = store_commit(s);
    else
        store_rollback(s);
    r->quota.checked_at = 0;
    r->is_dead_token = false;
    return rc;
}

static void log_end(const struct run *r)
{
    const struct store_post *p = &r->post;
    if (strcmp(p->state, "published") == 0) {
        metrics_inc(m_published, 1);
        log_info("post.published", LOG_INT("post", p->id), LOG_INT("account", p->account_id),
                 LOG_STR("media", p->media_id ? p->media_id : ""));
    } else if (strcmp(p->state, "failed") == 0) {
        metrics_inc(m_failed, 1);
        log_warn("post.failed", LOG_INT("post", p->id), LOG_INT("account", p->account_id),
                 LOG_STR("reason", p->reason ? p->reason : ""), LOG_INT("code", p->error_code),
                 LOG_INT("subcode", p->error_subcode));
    } else if (strcmp(p->state, "deferred") == 0) {
        metrics_inc(m_deferred, 1);
        log_info("post.deferred", LOG_INT("post", p->id), LOG_INT("account", p->account_id),
                 LOG_INT("until", p->deferred_until));
    }
}

/* The account and its token; false (the post failed) when it cannot publish. */
static enum err open_account(struct run *r)
{
    enum err rc = store_account_by_id(r->s, r->a, r->post.account_id, &r->acct);
    if (rc == ERR_NOT_FOUND) {
        content_run_fail(r, "the account was removed");
        return ERR_OK;
    }
    if (rc != ERR_OK)
        return rc;
    if (!r->p->graph)
        content_run_fail(r, "no Meta app is configured (SB_META_APP_ID, SB_META_APP_SECRET)");
    else if (r->acct.status != STORE_ACCOUNT_ACTIVE)
        content_run_fail(r, "the account needs reconnecting");
    else if (meta_vault_open(r->p->vault, &r->acct, &r->token) != ERR_OK)
        content_run_fail(r, "the account's token cannot be opened; reconnect it");
    return ERR_OK;
}

static enum err run_steps(struct run *r)
{
    r->next = RUN_CONTINUE;
    enum err rc = open_account(r);
    for (int i = 0; rc == ERR_OK && r->next == RUN_CONTINUE && i < STEPS_PER_JOB; i++) {
        r->now = clock_now_ms();
        rc = store_job_extend(r->s, r->job->id, queue_owner(), r->now + STEP_LEASE_MS);
        if (rc == ERR_OK)
            rc = content_step_run(r);
        r->now = clock_now_ms();
        if (rc == ERR_OK && r->next == RUN_CONTINUE)
            rc = content_run_persist(r, false);
    }
    if (rc == ERR_OK && r->next == RUN_CONTINUE) { /* a long chain: go on in a new job */
        r->next = RUN_STEP_AT;
        r->at_ms = r->now;
    }
    if (rc == ERR_OK)
        rc = content_run_persist(r, true);
    if (rc == ERR_OK)
        log_end(r);
    return rc;
}

static enum err step(struct content_publisher *p, struct store *s, const struct store_job *job,
                     int64_t id)
{
    struct arena a;
    arena_init(&a);
    struct run r = {.p = p, .s = s, .job = job, .a = &a, .now = clock_now_ms()};
    enum err rc = store_post_get(s, &a, id, &r.post);
    if (rc == ERR_NOT_FOUND || (rc == ERR_OK && strcmp(r.post.state, "publishing") != 0))
        rc = ack_alone(s, job, r.now);
    else if (rc == ERR_OK)
        rc = run_steps(&r);
    if (rc == ERR_OK && r.next == RUN_STEP_AT && r.at_ms <= r.now && p->queue)
        queue_notify(p->queue);
    /* An ended post needs its images no more: Meta has them (its container was FINISHED). */
    if (rc == ERR_OK && r.next == RUN_END && p->media &&
        content_media_sweep(p->media, s, clock_now_ms(), NULL) != ERR_OK)
        log_warn("media.sweep_failed", LOG_INT("post", id));
    if (r.token) {
        crypto_cleanse(r.token, strlen(r.token));
        free(r.token);
    }
    arena_release(&a);
    return rc;
}

enum err content_publish_run(struct content_publisher *p, struct store *s,
                             const struct store_job *job, const char **reason)
{
    int64_t id;
    bool is_step;
    if (!parse_payload(job, &id, &is_step)) {
        *reason = "bad publish payload";
        return ERR_INVALID;
    }
    return is_step ? step(p, s, job, id) : wake(p, s, job, id);
}
