/*
 * inbox/worker.c - the worker pool: claim, dispatch by kind, ack / retry / dead-letter.
 *
 * A job's side effects and its ack commit in one transaction, so a crash in between leaves
 * the job to be claimed again after its lease, and the dedupe keys make that replay a no-op.
 */
#include "inbox/inbox.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "content/content.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/thread.h"
#include "inbox/inbox_int.h"
#include "inbox/pace.h"
#include "inbox/silence.h"
#include "kb/kb.h"
#include "meta/graph.h"
#include "meta/meta.h"
#include "meta/privacy.h"
#include "meta/vault.h"
#include "queue/queue.h"

#define CLAIM_BATCH 32
/* INBOX_LEASE_MS is long enough for a batch of deliveries; a crashed worker's jobs are
 * released at the next start (queue_release_orphans), and otherwise come back after it. */
#define IDLE_WAIT_MS   250
#define PRUNE_EVERY_MS (10LL * 60 * 1000)

static struct metric *m_events_new, *m_events_dup, *m_events_unrouted;

static enum err handle_delivery(struct store *s, struct inbox_apply_ctx *ctx, int64_t job_id,
                                const char *body, size_t len, struct inbox_delivery_stats *st,
                                const char **reason);

static enum err run_webhook(struct worker *w, const struct store_job *job, const char **reason)
{
    struct inbox_delivery_stats st = {0};
    struct inbox_apply_ctx ctx = {.app_id = w->in->meta_app_id,
                                  .queue = w->in->is_replying ? w->in->queue : NULL,
                                  .turn_burst_ms = w->in->turn_burst_ms,
                                  .pause_on_business_reply = -1};
    enum err rc = handle_delivery(w->store, &ctx, job->id, (const char *)job->payload,
                                  job->payload_len, &st, reason);
    if (rc == ERR_OK)
        log_debug("webhook.parsed", LOG_INT("job", job->id), LOG_INT("events", st.n_new),
                  LOG_INT("duplicates", st.n_dup), LOG_INT("applied", st.n_applied));
    if (rc == ERR_OK && st.n_unrouted) /* ids only: never message text */
        log_warn("webhook.unrouted", LOG_INT("job", job->id), LOG_INT("events", st.n_unrouted));
    return rc;
}

/* Data deletion (meta/privacy.h): database only, but a person's whole history may be large,
 * so it runs alone in its own transaction rather than in a quick batch. */
static enum err run_privacy_delete(struct worker *w, const struct store_job *job,
                                   const char **reason)
{
    return meta_privacy_run_job(w->store, job, reason);
}

/* A post's next step (content/publish.c): Graph calls with no transaction open; it records
 * its step and acks the job itself. */
static enum err run_publish(struct worker *w, const struct store_job *job, const char **reason)
{
    return content_publish_run(w->in->publisher, w->store, job, reason);
}

/* quick: the handler only touches the database and takes well under a millisecond, so a
 * claimed batch of such jobs shares one transaction (each job a savepoint in it). A handler
 * that calls out over the network must not be quick: it would hold the write lock; it
 * settles itself instead (no transaction around it: it opens its own after the call).
 * Jobs that are not quick are claimed one at a time, after the worker's quick batch, so a
 * slow one (an LLM turn can take many seconds) never holds other conversations' jobs behind
 * it: the other workers claim those. */
static const struct {
    const char *kind;
    job_fn *fn;
    bool quick, settles_itself;
} job_kinds[] = {
    {META_JOB_WEBHOOK, run_webhook, true, false},
    {META_JOB_PRIVACY_DELETE, run_privacy_delete, false, false},
    {INBOX_JOB_TURN, inbox_run_turn, false, true},
    {INBOX_JOB_SEND, inbox_run_send, false, true},
    {INBOX_JOB_GAPFILL, inbox_run_gapfill, false, true},
    {INBOX_JOB_COMMENT, inbox_run_comment, false, true},
    {CONTENT_JOB_PUBLISH, run_publish, false, true},
};

#define N_KINDS (sizeof job_kinds / sizeof job_kinds[0])

/* Metrics exist once inbox_start() ran; tests call the handlers without it. */
static void count(struct metric *m)
{
    if (m)
        metrics_inc(m, 1);
}

static void count_applied(enum inbox_applied how, struct inbox_delivery_stats *st)
{
    if (how == INBOX_APPLIED)
        st->n_applied++;
    if (how == INBOX_UNROUTED) {
        st->n_unrouted++;
        count(m_events_unrouted);
    }
}

/* Stores the event once; a new one is applied to its conversation in the same transaction. */
static enum err store_and_apply(struct store *s, struct inbox_apply_ctx *ctx, int64_t job_id,
                                const struct meta_event *e, int64_t now,
                                struct inbox_delivery_stats *st)
{
    struct store_event se = {.object = e->object,
                             .entry_id = e->entry_id,
                             .kind = meta_event_kind_name(e->kind),
                             .channel = e->channel,
                             .key = e->key,
                             .sender_id = e->sender_id,
                             .recipient_id = e->recipient_id,
                             .mid = e->mid,
                             .ts_ms = e->ts_ms,
                             .raw_json = e->raw_json ? e->raw_json : "{}",
                             .job_id = job_id};
    int64_t id;
    enum err rc = store_event_insert(s, &se, now, &id);
    if (rc == ERR_CONFLICT) {
        st->n_dup++;
        count(m_events_dup);
        return ERR_OK;
    }
    if (rc != ERR_OK)
        return rc;
    st->n_new++;
    count(m_events_new);
    enum inbox_applied how;
    rc = inbox_apply_event(s, ctx, e, now, &how);
    if (rc == ERR_OK)
        count_applied(how, st);
    return rc;
}

static enum err handle_delivery(struct store *s, struct inbox_apply_ctx *ctx, int64_t job_id,
                                const char *body, size_t len, struct inbox_delivery_stats *st,
                                const char **reason)
{
    struct arena a;
    arena_init(&a);
    struct meta_delivery d;
    enum err rc = meta_parse_delivery(&a, body, len, &d, reason);
    int64_t now = clock_now_ms();
    ctx->arena = &a;
    for (size_t i = 0; rc == ERR_OK && i < d.n_events; i++)
        rc = store_and_apply(s, ctx, job_id, &d.events[i], now, st);
    ctx->arena = NULL;
    arena_release(&a);
    return rc;
}

enum err inbox_handle_delivery(struct store *s, int64_t job_id, const char *app_id,
                               const char *body, size_t len, struct inbox_delivery_stats *st,
                               const char **reason)
{
    struct inbox_apply_ctx ctx = {.app_id = app_id, .pause_on_business_reply = -1};
    return handle_delivery(s, &ctx, job_id, body, len, st, reason);
}

/* Payloads of the reply path's jobs: n ids as decimal text, separated by spaces. */
bool inbox_job_ids(const struct store_job *job, int64_t *ids, int n)
{
    char text[64];
    if (job->payload_len == 0 || job->payload_len >= sizeof text)
        return false;
    memcpy(text, job->payload, job->payload_len);
    text[job->payload_len] = '\0';
    char *p = text;
    for (int i = 0; i < n; i++) {
        char *end;
        errno = 0;
        long long v = strtoll(p, &end, 10);
        if (errno || end == p || v <= 0)
            return false;
        ids[i] = v;
        p = end;
    }
    return *p == '\0';
}

#define LEASE_MARGIN_MS 10000 /* kept beyond what the next call may take */

void inbox_lease_keep(void *ctx, long may_take_ms)
{
    struct inbox_lease *l = ctx;
    int64_t want = clock_now_ms() + may_take_ms + LEASE_MARGIN_MS;
    if (want <= l->until_ms)
        return;
    enum err rc = queue_extend(l->w->in->queue, l->w->store, l->job, want - clock_now_ms());
    if (rc == ERR_OK)
        l->until_ms = want;
    else
        log_warn("job.lease_extend_failed", LOG_INT("job", l->job->id), LOG_ERR(rc));
}

static job_fn *find_kind(const char *kind, bool *quick, bool *settles_itself)
{
    *quick = false;
    *settles_itself = false;
    for (size_t i = 0; i < N_KINDS; i++)
        if (strcmp(job_kinds[i].kind, kind) == 0) {
            *quick = job_kinds[i].quick;
            *settles_itself = job_kinds[i].settles_itself;
            return job_kinds[i].fn;
        }
    return NULL;
}

static void settle_failed(struct worker *w, const struct store_job *job, enum err rc,
                          const char *reason)
{
    struct queue *q = w->in->queue;
    bool permanent = rc == ERR_INVALID || rc == ERR_TOO_LARGE; /* retrying cannot help */
    enum err settle = permanent ? queue_bury(q, w->store, job, reason ? reason : "invalid")
                                : queue_retry(q, w->store, job, reason ? reason : err_name(rc));
    if (settle != ERR_OK)
        log_warn("job.settle_failed", LOG_INT("job", job->id), LOG_ERR(settle));
}

/* Runs one job and settles it in the same transaction as its effects (a savepoint, when a
 * batch transaction is open); a kind that settles itself runs with no transaction open. */
static void run_job(struct worker *w, const struct store_job *job)
{
    struct queue *q = w->in->queue;
    const char *reason = NULL;
    bool quick, settles_itself;
    job_fn *fn = find_kind(job->kind, &quick, &settles_itself);
    if (fn && settles_itself) {
        enum err rc = fn(w, job, &reason);
        if (rc != ERR_OK)
            settle_failed(w, job, rc, reason);
        return;
    }
    enum err rc = store_begin(w->store);
    if (rc == ERR_OK)
        rc = fn ? fn(w, job, &reason) : ERR_INVALID;
    if (rc == ERR_OK) {
        rc = queue_ack(q, w->store, job);
        if (rc == ERR_OK)
            rc = store_commit(w->store);
        else
            store_rollback(w->store);
        if (rc != ERR_OK)
            log_warn("job.ack_failed", LOG_INT("job", job->id), LOG_ERR(rc));
        return;
    }
    store_rollback(w->store);
    if (!fn)
        reason = "no handler for this job kind";
    settle_failed(w, job, rc, reason);
}

/* Runs claimed jobs in order; consecutive quick ones share one transaction. */
static void run_batch(struct worker *w, const struct store_job *jobs, size_t n)
{
    for (size_t i = 0; i < n;) {
        bool quick, self;
        size_t end = i;
        while (end < n && find_kind(jobs[end].kind, &quick, &self) && quick)
            end++;
        if (end == i) { /* a slow job: alone */
            run_job(w, &jobs[i++]);
            continue;
        }
        bool batched = store_begin(w->store) == ERR_OK;
        for (; i < end; i++)
            run_job(w, &jobs[i]);
        if (batched && store_commit(w->store) != ERR_OK)
            log_warn("job.batch_commit_failed", LOG_INT("jobs", (long long)end));
    }
}

/* Worker 0's timed chores besides pruning: the gap filler's jobs, each interval. The first
 * round comes one interval after the start (Meta retries what it could not deliver while we
 * were down; the gap filler is for what it lost). */
static void maybe_gapfill(struct worker *w, int64_t *next)
{
    struct inbox *in = w->in;
    int64_t now = clock_now_ms();
    if (w->index != 0 || !in->is_replying || in->gapfill_interval_ms <= 0)
        return;
    if (*next == 0)
        *next = now + in->gapfill_interval_ms;
    if (now < *next)
        return;
    *next = now + in->gapfill_interval_ms;
    enum err rc = inbox_schedule_gapfill(in, w->store, now);
    if (rc != ERR_OK)
        log_warn("gapfill.schedule_failed", LOG_ERR(rc));
}

/* Worker 0 raises and clears the silent-account alerts every INBOX_SILENT_CHECK_MS, or a
 * quarter of the floor when that is shorter (never more often than once a second). */
static void maybe_check_silence(struct worker *w, int64_t *last)
{
    int64_t now = clock_now_ms();
    int64_t every = w->in->silent_floor_ms / 4;
    every = every < 1000 ? 1000 : every > INBOX_SILENT_CHECK_MS ? INBOX_SILENT_CHECK_MS : every;
    if (w->index != 0 || now - *last < every)
        return;
    *last = now;
    enum err rc = inbox_check_silence(w->store, w->in->silent_floor_ms, now, NULL);
    if (rc != ERR_OK)
        log_warn("account.silence_check_failed", LOG_ERR(rc));
}

static void maybe_prune(struct worker *w, int64_t *last)
{
    int64_t now = clock_now_ms();
    if (w->index != 0 || now - *last < PRUNE_EVERY_MS)
        return;
    *last = now;
    int64_t n = 0;
    if (store_jobs_prune(w->store, now - STORE_DEDUPE_RETENTION_MS, &n) == ERR_OK && n)
        log_info("queue.pruned", LOG_INT("jobs", n));
    if (content_media_sweep(w->in->media, w->store, now, NULL) != ERR_OK)
        log_warn("media.sweep_failed");
}

/* Claims up to max jobs of these kinds and runs them; how many. */
static size_t claim_and_run(struct worker *w, const char *const *kinds, size_t n_kinds, size_t max)
{
    struct arena a;
    arena_init(&a);
    struct store_job jobs[CLAIM_BATCH];
    size_t n = 0;
    enum err rc =
        queue_claim(w->in->queue, w->store, kinds, n_kinds, max, INBOX_LEASE_MS, &a, jobs, &n);
    if (rc != ERR_OK && rc != ERR_AGAIN)
        log_warn("job.claim_failed", LOG_ERR(rc));
    run_batch(w, jobs, n);
    arena_release(&a);
    return n;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    char name[16];
    snprintf(name, sizeof name, "sb-worker-%d", w->index);
    /* Acknowledging Meta within its budget matters more than how soon a queued delivery is
     * parsed; only felt when the CPU is full. */
    thread_set_background(name);
    const char *quick[N_KINDS], *slow[N_KINDS];
    size_t n_quick = 0, n_slow = 0;
    for (size_t i = 0; i < N_KINDS; i++) {
        if (job_kinds[i].quick)
            quick[n_quick++] = job_kinds[i].kind;
        else
            slow[n_slow++] = job_kinds[i].kind;
    }
    int64_t last_prune = 0, next_gapfill = 0, last_silence = 0;
    while (!atomic_load(&w->in->stopping)) {
        size_t n = claim_and_run(w, quick, n_quick, CLAIM_BATCH);
        n += claim_and_run(w, slow, n_slow, 1);
        maybe_prune(w, &last_prune);
        maybe_gapfill(w, &next_gapfill);
        maybe_check_silence(w, &last_silence);
        if (n == 0)
            queue_wait(w->in->queue, IDLE_WAIT_MS);
    }
    return NULL;
}

/* The Graph client and the vault for sends. Without an app id and secret there is no Graph
 * client, and then no turn is queued at all: messages are stored, never answered. */
static enum err start_replies(struct inbox *in, const struct inbox_opts *o)
{
    if (!o->graph || meta_graph_new(o->graph, &in->graph) != ERR_OK) {
        log_info("inbox.replies_off", LOG_STR("why", "no Meta app configured"));
        return ERR_OK;
    }
    enum err rc = meta_vault_new(o->master_key, o->data_dir, &in->vault);
    if (rc != ERR_OK)
        return rc;
    static const struct agent_opts no_llm = {0};
    struct agent_opts ao = o->agent ? *o->agent : no_llm;
    ao.business_name = o->business_name;
    char why[AGENT_WHY_MAX];
    rc = agent_new(&ao, &in->agent, why);
    if (rc != ERR_OK) {
        log_error("agent.start_failed", LOG_STR("why", why), LOG_ERR(rc));
        return rc;
    }
    log_info("agent.ready", LOG_BOOL("llm", agent_has_llm(in->agent)));
    in->business_name = xstrdup(o->business_name ? o->business_name : "our business");
    in->turn_burst_ms = o->turn_burst_ms;
    in->pace = inbox_pace_new(o->send_rate);
    in->gapfill_interval_ms = o->gapfill_interval_s * 1000;
    in->silent_floor_ms = o->silent_floor_s * 1000;
    in->is_replying = true;
    return ERR_OK;
}

/* The media store and the publisher (without a Meta app, each post fails saying so). */
static enum err start_publishing(struct inbox *in, const struct inbox_opts *o)
{
    enum err rc = content_media_open(o->data_dir, &in->media);
    if (rc != ERR_OK)
        return rc;
    const struct content_publisher_opts po = {.graph = in->graph,
                                              .vault = in->vault,
                                              .queue = in->queue,
                                              .media = in->media,
                                              .public_url = o->public_url};
    return content_publisher_new(&po, &in->publisher);
}

enum err inbox_start(const struct inbox_opts *o, struct inbox **out)
{
    static const struct kb_opts no_kb = {0};
    m_events_new =
        metrics_counter("switchboard_events_total",
                        "Inbound events parsed from deliveries, by result", "result=\"stored\"");
    m_events_dup =
        metrics_counter("switchboard_events_total",
                        "Inbound events parsed from deliveries, by result", "result=\"duplicate\"");
    m_events_unrouted =
        metrics_counter("switchboard_events_total",
                        "Inbound events parsed from deliveries, by result", "result=\"unrouted\"");
    inbox_gapfill_metrics();
    struct inbox *in = xcalloc(1, sizeof *in);
    in->queue = o->queue;
    in->meta_app_id = o->meta_app_id ? xstrdup(o->meta_app_id) : NULL;
    in->workers = xcalloc((size_t)o->workers, sizeof *in->workers);
    enum err rc = start_replies(in, o);
    if (rc == ERR_OK)
        rc = start_publishing(in, o);
    for (int i = 0; i < o->workers && rc == ERR_OK; i++) {
        struct worker *w = &in->workers[i];
        w->in = in;
        w->index = i;
        rc = store_open(o->store, &w->store);
        if (rc == ERR_OK && in->is_replying)
            rc = kb_new(w->store, o->kb ? o->kb : &no_kb, &w->kb);
        if (rc == ERR_OK && pthread_create(&w->thread, NULL, worker_main, w) != 0)
            rc = ERR_INTERNAL;
        if (rc != ERR_OK) {
            kb_free(w->kb);
            store_free(w->store);
        }
        if (rc == ERR_OK)
            in->n_workers++;
    }
    if (rc != ERR_OK) {
        inbox_stop(in);
        return rc;
    }
    *out = in;
    return ERR_OK;
}

void inbox_stop(struct inbox *in)
{
    if (!in)
        return;
    atomic_store(&in->stopping, true);
    queue_notify(in->queue);
    for (int i = 0; i < in->n_workers; i++) {
        pthread_join(in->workers[i].thread, NULL);
        kb_free(in->workers[i].kb);
        store_free(in->workers[i].store);
    }
    free(in->workers);
    free(in->meta_app_id);
    meta_graph_free(in->graph);
    meta_vault_free(in->vault);
    agent_free(in->agent);
    inbox_pace_free(in->pace);
    content_publisher_free(in->publisher);
    content_media_free(in->media);
    free(in->business_name);
    free(in);
}
