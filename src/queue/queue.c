/*
 * queue/queue.c - queue semantics on top of store/ rows, fed through the intake journal.
 *
 * Producers on a hot path (the webhook) call queue_submit(): one append to the journal and
 * the job is durable; no thread hand-off, no waiting on the database. The loader thread
 * moves journal records into the job table in batches, in one transaction with the offset
 * it reached, so a crash replays from the last commit and the dedupe key makes any replay a
 * no-op. Consumers then claim, ack, retry and bury rows as usual.
 */
#include "queue/queue.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/thread.h"
#include "queue/journal.h"

#define LOAD_BATCH_MAX  512
#define LOAD_TRIES      20
#define MAX_SEGMENTS    1024
#define MAX_OFFSETS     1024
#define LOADER_IDLE_MS  100
#define BACKOFF_BASE_MS 1000LL
#define BACKOFF_MAX_MS  (3600LL * 1000)

enum rec_type { REC_JOB = 1, REC_DEAD_LETTER = 2 };

struct queue {
    int default_max_attempts;
    struct store *lstore; /* the loader's own connection */
    struct journal *journal;
    pthread_t loader;
    atomic_bool stopping;
    pthread_mutex_t lock;
    pthread_cond_t has_jobs; /* consumers wait here */
    uint64_t seq;            /* bumped on every load, so waiters see a change */
    struct store_journal_offset offsets[MAX_OFFSETS];
    char offset_names[MAX_OFFSETS][64];
    size_t n_offsets;
    struct metric *m_loaded, *m_load_dups;
};

/* ---- record encoding: type, kind, key, dedupe, run_at, max_attempts, payload ---- */

static enum err put_str16(struct buf *b, const char *s)
{
    uint16_t n = s ? (uint16_t)strlen(s) : 0xFFFF;
    if (s && strlen(s) >= 0xFFFF)
        return ERR_TOO_LARGE;
    enum err rc = buf_append(b, &n, 2);
    return rc == ERR_OK && s ? buf_append(b, s, n) : rc;
}

static enum err encode(struct buf *b, enum rec_type type, const struct queue_job *j, int64_t run_at,
                       int max_attempts)
{
    unsigned char t = (unsigned char)type;
    int32_t ma = max_attempts;
    enum err rc = buf_append(b, &t, 1);
    if (rc == ERR_OK)
        rc = put_str16(b, j->kind);
    if (rc == ERR_OK)
        rc = put_str16(b, j->key);
    if (rc == ERR_OK)
        rc = put_str16(b, j->dedupe);
    if (rc == ERR_OK)
        rc = buf_append(b, &run_at, 8);
    if (rc == ERR_OK)
        rc = buf_append(b, &ma, 4);
    if (rc == ERR_OK)
        rc = buf_append(b, j->payload, j->payload_len);
    return rc;
}

struct cursor {
    const unsigned char *p, *end;
};

static bool take(struct cursor *c, void *out, size_t n)
{
    if ((size_t)(c->end - c->p) < n)
        return false;
    memcpy(out, c->p, n);
    c->p += n;
    return true;
}

static bool take_str16(struct cursor *c, struct arena *a, const char **out)
{
    uint16_t n;
    if (!take(c, &n, 2))
        return false;
    if (n == 0xFFFF) {
        *out = NULL;
        return true;
    }
    if ((size_t)(c->end - c->p) < n)
        return false;
    *out = arena_strndup(a, (const char *)c->p, n);
    c->p += n;
    return true;
}

struct decoded {
    enum rec_type type;
    struct store_job_new job; /* dead letters: kind = source, key = reason */
};

static bool decode(struct arena *a, const void *rec, size_t len, struct decoded *d)
{
    struct cursor c = {rec, (const unsigned char *)rec + len};
    unsigned char t;
    int32_t ma;
    if (!take(&c, &t, 1) || !take_str16(&c, a, &d->job.kind) || !d->job.kind ||
        !take_str16(&c, a, &d->job.key) || !take_str16(&c, a, &d->job.dedupe) ||
        !take(&c, &d->job.run_at_ms, 8) || !take(&c, &ma, 4))
        return false;
    d->type = t == REC_DEAD_LETTER ? REC_DEAD_LETTER : REC_JOB;
    d->job.max_attempts = ma;
    d->job.payload_len = (size_t)(c.end - c.p);
    d->job.payload = arena_strndup(a, (const char *)c.p, d->job.payload_len);
    return true;
}

/* ---- producers ---- */

static enum err submit(struct queue *q, enum rec_type type, const struct queue_job *job)
{
    struct buf b;
    buf_init(&b, JOURNAL_RECORD_MAX);
    int64_t run_at = job->run_at_ms ? job->run_at_ms : clock_now_ms();
    int ma = job->max_attempts > 0 ? job->max_attempts : q->default_max_attempts;
    size_t need = 1 + 3 * 2 + 8 + 4 + job->payload_len + strlen(job->kind) +
                  (job->key ? strlen(job->key) : 0) + (job->dedupe ? strlen(job->dedupe) : 0);
    enum err rc = buf_reserve(&b, need); /* one allocation on the webhook path, not three */
    if (rc == ERR_OK)
        rc = encode(&b, type, job, run_at, ma);
    if (rc == ERR_OK)
        rc = journal_append(q->journal, b.data, b.len);
    buf_release(&b);
    return rc;
}

enum err queue_submit(struct queue *q, const struct queue_job *job)
{
    return submit(q, REC_JOB, job);
}

enum err queue_submit_dead_letter(struct queue *q, const char *source, const char *reason,
                                  const void *payload, size_t len)
{
    struct queue_job j = {.kind = source, .key = reason, .payload = payload, .payload_len = len};
    return submit(q, REC_DEAD_LETTER, &j);
}

/* ---- the loader ---- */

static int64_t *offset_slot(struct queue *q, const char *segment, bool create)
{
    for (size_t i = 0; i < q->n_offsets; i++)
        if (strcmp(q->offsets[i].segment, segment) == 0)
            return &q->offsets[i].offset;
    if (!create || q->n_offsets == MAX_OFFSETS)
        return NULL;
    size_t i = q->n_offsets++;
    snprintf(q->offset_names[i], sizeof q->offset_names[i], "%s", segment);
    q->offsets[i] = (struct store_journal_offset){q->offset_names[i], 0};
    return &q->offsets[i].offset;
}

static void forget_offset(struct queue *q, const char *segment)
{
    for (size_t i = 0; i < q->n_offsets; i++)
        if (strcmp(q->offsets[i].segment, segment) == 0) {
            size_t last = --q->n_offsets;
            memcpy(q->offset_names[i], q->offset_names[last], sizeof q->offset_names[i]);
            q->offsets[i] =
                (struct store_journal_offset){q->offset_names[i], q->offsets[last].offset};
            return;
        }
}

struct batch {
    struct arena arena;
    struct decoded items[LOAD_BATCH_MAX];
    size_t n;
};

static enum err collect(void *ctx, const void *rec, size_t len)
{
    struct batch *b = ctx;
    if (!decode(&b->arena, rec, len, &b->items[b->n])) {
        log_error("queue.bad_journal_record", LOG_INT("bytes", len));
        return ERR_OK; /* skip it: the CRC matched, so this is our bug, not the disk's */
    }
    b->n++;
    return ERR_OK;
}

/* Inserts the batch and the new offset in one transaction. */
static enum err store_batch(struct queue *q, struct batch *b, const char *segment,
                            uint64_t next_offset, size_t *n_dups)
{
    int64_t now = clock_now_ms();
    enum err rc = store_begin(q->lstore);
    *n_dups = 0;
    for (size_t i = 0; i < b->n && rc == ERR_OK; i++) {
        const struct store_job_new *j = &b->items[i].job;
        int64_t id = 0;
        if (b->items[i].type == REC_DEAD_LETTER)
            rc = store_dead_letter_add(q->lstore, j->kind, NULL, j->key, j->payload, j->payload_len,
                                       now);
        else if ((rc = store_jobs_insert(q->lstore, j, 1, now, &id)) == ERR_OK && !id)
            (*n_dups)++;
    }
    if (rc == ERR_OK)
        rc = store_journal_offset_set(q->lstore, segment, (int64_t)next_offset);
    if (rc == ERR_OK)
        return store_commit(q->lstore);
    store_rollback(q->lstore);
    return rc;
}

/* Loads what one segment has; true if anything was loaded. *removed: the segment was
 * finished and deleted. */
static bool load_segment(struct queue *q, struct journal_segment *seg, struct batch *b,
                         bool *removed)
{
    *removed = false;
    int64_t *off = offset_slot(q, seg->name, true);
    if (!off)
        return false;
    seg->offset = (uint64_t)*off;
    uint64_t next = seg->offset;
    bool at_end = false, corrupt = false;
    b->n = 0;
    enum err rc =
        journal_read(q->journal, seg, LOAD_BATCH_MAX, collect, b, &next, &at_end, &corrupt);
    if (rc == ERR_OK && next != seg->offset) {
        size_t dups = 0;
        rc = ERR_AGAIN;
        for (int t = 0; t < LOAD_TRIES && rc == ERR_AGAIN; t++)
            rc = store_batch(q, b, seg->name, next, &dups);
        if (rc == ERR_OK) {
            *off = (int64_t)next;
            metrics_inc(q->m_loaded, b->n);
            metrics_inc(q->m_load_dups, dups);
        }
    }
    if (rc != ERR_OK) {
        log_error("queue.load_failed", LOG_STR("segment", seg->name), LOG_ERR(rc));
        return false;
    }
    if (at_end && seg->sealed && store_journal_offset_set(q->lstore, seg->name, -1) == ERR_OK) {
        journal_remove(q->journal, seg->name);
        forget_offset(q, seg->name);
        *removed = true;
    }
    return next != seg->offset;
}

/* One pass over every segment; the number of segments still on disk goes to *n_left. */
static bool load_pass(struct queue *q, struct batch *b, size_t *n_left)
{
    static _Thread_local struct journal_segment segs[MAX_SEGMENTS];
    size_t n = 0;
    bool loaded = false;
    if (journal_segments(q->journal, segs, MAX_SEGMENTS, &n) != ERR_OK)
        log_error("queue.journal_unreadable");
    *n_left = n;
    for (size_t i = 0; i < n; i++) {
        bool removed;
        arena_init(&b->arena);
        loaded |= load_segment(q, &segs[i], b, &removed);
        arena_release(&b->arena);
        *n_left -= removed;
    }
    if (loaded) {
        pthread_mutex_lock(&q->lock);
        q->seq++;
        pthread_cond_broadcast(&q->has_jobs);
        pthread_mutex_unlock(&q->lock);
    }
    return loaded;
}

static void *loader_main(void *arg)
{
    struct queue *q = arg;
    thread_set_background("sb-loader"); /* what it moves is already durable in the journal */
    struct batch *b = xcalloc(1, sizeof *b);
    size_t left = 0;
    for (;;) {
        bool stopping = atomic_load(&q->stopping);
        bool loaded = load_pass(q, b, &left);
        if (stopping && !loaded) /* sealed before the flag was seen: this pass was complete */
            break;
        if (!loaded)
            journal_wait(q->journal, LOADER_IDLE_MS);
    }
    if (left)
        log_warn("queue.journal_left", LOG_INT("segments", left));
    free(b);
    return NULL;
}

static enum err load_offsets(struct queue *q)
{
    struct arena a;
    arena_init(&a);
    struct store_journal_offset tmp[MAX_OFFSETS];
    size_t n = 0;
    enum err rc = store_journal_offsets(q->lstore, &a, tmp, MAX_OFFSETS, &n);
    for (size_t i = 0; rc == ERR_OK && i < n; i++) {
        int64_t *slot = offset_slot(q, tmp[i].segment, true);
        if (slot)
            *slot = tmp[i].offset;
    }
    arena_release(&a);
    return rc;
}

enum err queue_new(const struct store_opts *so, int default_max_attempts, struct queue **out)
{
    struct queue *q = xcalloc(1, sizeof *q);
    q->default_max_attempts = default_max_attempts > 0 ? default_max_attempts : 8;
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->has_jobs, NULL);
    q->m_loaded = metrics_counter("switchboard_queue_loaded_total",
                                  "Journal records moved into the job table", NULL);
    q->m_load_dups = metrics_counter("switchboard_queue_duplicates_total",
                                     "Submitted jobs dropped by their dedupe key at load", NULL);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/journal", so->data_dir);
    enum err rc = store_open(so, &q->lstore);
    if (rc == ERR_OK)
        rc = load_offsets(q);
    if (rc == ERR_OK)
        rc = journal_open(dir, so->sync_full, &q->journal);
    if (rc == ERR_OK && pthread_create(&q->loader, NULL, loader_main, q) != 0)
        rc = ERR_INTERNAL;
    if (rc != ERR_OK) {
        journal_close(q->journal);
        store_free(q->lstore);
        free(q);
        return rc;
    }
    *out = q;
    return ERR_OK;
}

void queue_free(struct queue *q)
{
    if (!q)
        return;
    journal_seal_all(q->journal); /* producers have stopped: everything becomes loadable */
    atomic_store(&q->stopping, true);
    journal_wake(q->journal);
    pthread_join(q->loader, NULL);
    pthread_mutex_lock(&q->lock);
    pthread_cond_broadcast(&q->has_jobs);
    pthread_mutex_unlock(&q->lock);
    journal_close(q->journal);
    store_free(q->lstore);
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->has_jobs);
    free(q);
}

enum err queue_enqueue(struct queue *q, struct store *s, const struct queue_job *job, int64_t *id)
{
    int64_t now = clock_now_ms();
    struct store_job_new j = {.kind = job->kind,
                              .key = job->key,
                              .dedupe = job->dedupe,
                              .payload = job->payload,
                              .payload_len = job->payload_len,
                              .run_at_ms = job->run_at_ms ? job->run_at_ms : now,
                              .max_attempts = job->max_attempts > 0 ? job->max_attempts
                                                                    : q->default_max_attempts};
    enum err rc = store_jobs_insert(s, &j, 1, now, id);
    if (rc == ERR_OK)
        queue_notify(q);
    return rc;
}

void queue_notify(struct queue *q)
{
    pthread_mutex_lock(&q->lock);
    q->seq++;
    pthread_cond_broadcast(&q->has_jobs);
    pthread_mutex_unlock(&q->lock);
}

void queue_wait(struct queue *q, int64_t timeout_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (timeout_ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&q->lock);
    uint64_t seen = q->seq;
    while (q->seq == seen && !atomic_load(&q->stopping))
        if (pthread_cond_timedwait(&q->has_jobs, &q->lock, &ts) != 0)
            break;
    pthread_mutex_unlock(&q->lock);
}

static void host_name(char *out, size_t len)
{
    if (gethostname(out, len) != 0 || !*out)
        snprintf(out, len, "localhost");
    out[len - 1] = '\0';
    for (char *p = out; *p; p++)
        if (*p == '/')
            *p = '_';
}

const char *queue_owner(void)
{
    static _Atomic int next_thread;
    static _Thread_local char owner[128];
    if (!owner[0]) {
        char host[64];
        host_name(host, sizeof host);
        unsigned char r[4];
        crypto_random(r, sizeof r);
        snprintf(owner, sizeof owner, "%s/%d/%d.%02x%02x%02x%02x", host, (int)getpid(),
                 atomic_fetch_add(&next_thread, 1), r[0], r[1], r[2], r[3]);
    }
    return owner;
}

/* True when owner ("host/pid/...") names a process on this host that no longer exists. */
static bool owner_is_gone(const char *owner, const char *host)
{
    size_t hlen = strlen(host);
    if (strncmp(owner, host, hlen) != 0 || owner[hlen] != '/')
        return false;
    char *end;
    long pid = strtol(owner + hlen + 1, &end, 10);
    if (*end != '/' || pid <= 0)
        return false;
    return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

enum err queue_release_orphans(struct queue *q, struct store *s)
{
    (void)q;
    char host[64];
    host_name(host, sizeof host);
    struct arena a;
    arena_init(&a);
    const char *owners[256];
    size_t n = 0;
    enum err rc = store_jobs_lease_owners(s, &a, owners, 256, &n);
    for (size_t i = 0; rc == ERR_OK && i < n; i++) {
        int64_t released = 0;
        if (!owner_is_gone(owners[i], host))
            continue;
        rc = store_jobs_release_owner(s, owners[i], clock_now_ms(), &released);
        if (rc == ERR_OK && released)
            log_info("queue.orphans_released", LOG_STR("owner", owners[i]),
                     LOG_INT("jobs", released));
    }
    arena_release(&a);
    return rc;
}

int64_t queue_backoff_ms(int attempts)
{
    int64_t ms = BACKOFF_BASE_MS;
    for (int i = 1; i < attempts && ms < BACKOFF_MAX_MS; i++)
        ms *= 2;
    return ms < BACKOFF_MAX_MS ? ms : BACKOFF_MAX_MS;
}

enum err queue_claim(struct queue *q, struct store *s, const char *const *kinds, size_t n_kinds,
                     size_t max, int64_t lease_ms, struct arena *a, struct store_job *out,
                     size_t *n_out)
{
    int64_t now = clock_now_ms();
    size_t n = 0;
    enum err rc =
        store_jobs_claim(s, kinds, n_kinds, now, lease_ms, queue_owner(), max, a, out, &n);
    *n_out = 0;
    for (size_t i = 0; rc == ERR_OK && i < n; i++) {
        /* Claimed more often than allowed: it kept losing its lease (a crash or a hang
         * while handling it). Stop the loop here instead of running it again. */
        if (out[i].attempts > out[i].max_attempts) {
            log_warn("queue.lease_exhausted", LOG_INT("job", out[i].id),
                     LOG_STR("kind", out[i].kind), LOG_INT("attempts", out[i].attempts));
            rc = store_job_bury(s, out[i].id, queue_owner(), "lease expired too many times", now);
            continue;
        }
        out[(*n_out)++] = out[i];
    }
    (void)q;
    return rc;
}

enum err queue_ack(struct queue *q, struct store *s, const struct store_job *job)
{
    (void)q;
    return store_job_ack(s, job->id, queue_owner(), clock_now_ms());
}

enum err queue_bury(struct queue *q, struct store *s, const struct store_job *job,
                    const char *reason)
{
    (void)q;
    log_warn("queue.dead_letter", LOG_INT("job", job->id), LOG_STR("kind", job->kind),
             LOG_INT("attempts", job->attempts), LOG_STR("reason", reason));
    return store_job_bury(s, job->id, queue_owner(), reason, clock_now_ms());
}

enum err queue_retry_at(struct queue *q, struct store *s, const struct store_job *job,
                        int64_t run_at_ms, const char *error)
{
    if (job->attempts >= job->max_attempts)
        return queue_bury(q, s, job, error);
    log_info("queue.retry", LOG_INT("job", job->id), LOG_STR("kind", job->kind),
             LOG_INT("attempt", job->attempts), LOG_INT("in_ms", run_at_ms - clock_now_ms()));
    return store_job_retry(s, job->id, queue_owner(), run_at_ms, error);
}

enum err queue_defer(struct queue *q, struct store *s, const struct store_job *job,
                     int64_t run_at_ms, const char *why)
{
    (void)q;
    int64_t now = clock_now_ms();
    log_debug("queue.defer", LOG_INT("job", job->id), LOG_STR("kind", job->kind),
              LOG_STR("why", why), LOG_INT("in_ms", run_at_ms - now));
    return store_job_defer(s, job->id, queue_owner(), run_at_ms, now);
}

enum err queue_retry(struct queue *q, struct store *s, const struct store_job *job,
                     const char *error)
{
    int64_t base = queue_backoff_ms(job->attempts);
    uint32_t r;
    crypto_random(&r, sizeof r);
    int64_t jitter = (int64_t)(r % (uint32_t)(base / 4 + 1)); /* up to +25 % */
    return queue_retry_at(q, s, job, clock_now_ms() + base + jitter, error);
}

enum err queue_extend(struct queue *q, struct store *s, const struct store_job *job,
                      int64_t lease_ms)
{
    (void)q;
    return store_job_extend(s, job->id, queue_owner(), clock_now_ms() + lease_ms);
}
