/*
 * queue/queue.c - queue semantics on top of store/ rows, and the group-commit writer.
 *
 * The writer takes everything handed to it since its last commit, writes it in one
 * transaction, then answers each item's callback. Under load a commit carries many webhook
 * deliveries; idle, a single delivery commits at once. Nothing is acknowledged before it is
 * in the database.
 */
#include "queue/queue.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/log.h"

#define WRITER_BATCH_MAX   512
#define WRITER_BUSY_TRIES  20
#define BACKOFF_BASE_MS    1000
#define BACKOFF_MAX_MS     (3600 * 1000)

struct item {
    struct item *next;
    bool is_dead_letter;
    struct store_job_new job; /* for dead letters: kind = source, key = reason */
    queue_done_fn *done;
    void *ctx;
    /* strings and payload follow in the same allocation */
};

struct queue {
    int default_max_attempts;
    struct store *wstore; /* the writer's own connection */
    pthread_t writer;
    pthread_mutex_t lock;
    pthread_cond_t has_items; /* writer waits here */
    pthread_cond_t has_jobs;  /* consumers wait here */
    struct item *head, **tail;
    uint64_t seq; /* bumped on every commit, so waiters see a change */
    bool stopping;
};

static char *copy_str(char **p, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    memcpy(*p, s, n);
    char *r = *p;
    *p += n;
    return r;
}

static struct item *item_new(const struct queue_job *j, int default_max)
{
    size_t n = sizeof(struct item) + j->payload_len + 1;
    n += strlen(j->kind) + 1 + (j->key ? strlen(j->key) + 1 : 0) +
         (j->dedupe ? strlen(j->dedupe) + 1 : 0);
    struct item *it = xcalloc(1, n);
    char *p = (char *)(it + 1);
    memcpy(p, j->payload, j->payload_len);
    it->job.payload = p;
    it->job.payload_len = j->payload_len;
    p += j->payload_len + 1;
    it->job.kind = copy_str(&p, j->kind);
    it->job.key = copy_str(&p, j->key);
    it->job.dedupe = copy_str(&p, j->dedupe);
    it->job.run_at_ms = j->run_at_ms ? j->run_at_ms : clock_now_ms();
    it->job.max_attempts = j->max_attempts > 0 ? j->max_attempts : default_max;
    return it;
}

static void push(struct queue *q, struct item *it)
{
    pthread_mutex_lock(&q->lock);
    *q->tail = it;
    q->tail = &it->next;
    pthread_cond_signal(&q->has_items);
    pthread_mutex_unlock(&q->lock);
}

void queue_enqueue_async(struct queue *q, const struct queue_job *job, queue_done_fn *done,
                         void *ctx)
{
    struct item *it = item_new(job, q->default_max_attempts);
    it->done = done;
    it->ctx = ctx;
    push(q, it);
}

void queue_dead_letter_async(struct queue *q, const char *source, const char *reason,
                             const void *payload, size_t len, queue_done_fn *done, void *ctx)
{
    struct queue_job j = {.kind = source, .key = reason, .payload = payload, .payload_len = len};
    struct item *it = item_new(&j, 1);
    it->is_dead_letter = true;
    it->done = done;
    it->ctx = ctx;
    push(q, it);
}

/* Writes one batch in one transaction; fills ids (0 = duplicate). */
static enum err write_batch(struct queue *q, struct item **items, size_t n, int64_t *ids)
{
    struct store_job_new jobs[WRITER_BATCH_MAX];
    size_t jmap[WRITER_BATCH_MAX], nj = 0;
    int64_t now = clock_now_ms();
    enum err rc = store_begin(q->wstore);
    for (size_t i = 0; i < n && rc == ERR_OK; i++) {
        ids[i] = 0;
        if (items[i]->is_dead_letter) {
            const struct store_job_new *d = &items[i]->job;
            rc = store_dead_letter_add(q->wstore, d->kind, NULL, d->key, d->payload,
                                       d->payload_len, now);
        } else {
            jmap[nj] = i;
            jobs[nj++] = items[i]->job;
        }
    }
    int64_t jids[WRITER_BATCH_MAX];
    if (rc == ERR_OK && nj)
        rc = store_jobs_insert(q->wstore, jobs, nj, now, jids);
    if (rc == ERR_OK)
        rc = store_commit(q->wstore);
    else
        store_rollback(q->wstore);
    for (size_t k = 0; rc == ERR_OK && k < nj; k++)
        ids[jmap[k]] = jids[k];
    return rc;
}

static void commit_and_answer(struct queue *q, struct item **items, size_t n)
{
    int64_t ids[WRITER_BATCH_MAX];
    enum err rc = ERR_AGAIN;
    for (int t = 0; t < WRITER_BUSY_TRIES && rc == ERR_AGAIN; t++)
        rc = write_batch(q, items, n, ids);
    if (rc != ERR_OK)
        log_error("queue.commit_failed", LOG_INT("items", n), LOG_ERR(rc));
    for (size_t i = 0; i < n; i++) {
        if (items[i]->done)
            items[i]->done(items[i]->ctx, rc, rc == ERR_OK ? (ids[i] ? ids[i] : 0) : 0);
        free(items[i]);
    }
    /* One consumer is enough to start on a batch; it claims many jobs at once. */
    pthread_mutex_lock(&q->lock);
    q->seq++;
    pthread_cond_signal(&q->has_jobs);
    pthread_mutex_unlock(&q->lock);
}

static void *writer_main(void *arg)
{
    struct queue *q = arg;
    struct item *batch[WRITER_BATCH_MAX];
    for (;;) {
        pthread_mutex_lock(&q->lock);
        while (!q->head && !q->stopping)
            pthread_cond_wait(&q->has_items, &q->lock);
        if (!q->head) { /* stopping and drained */
            pthread_mutex_unlock(&q->lock);
            return NULL;
        }
        size_t n = 0;
        while (q->head && n < WRITER_BATCH_MAX) {
            batch[n++] = q->head;
            q->head = q->head->next;
        }
        if (!q->head)
            q->tail = &q->head;
        pthread_mutex_unlock(&q->lock);
        commit_and_answer(q, batch, n);
    }
}

enum err queue_new(const struct store_opts *so, int default_max_attempts, struct queue **out)
{
    struct queue *q = xcalloc(1, sizeof *q);
    q->default_max_attempts = default_max_attempts > 0 ? default_max_attempts : 8;
    q->tail = &q->head;
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->has_items, NULL);
    pthread_cond_init(&q->has_jobs, NULL);
    enum err rc = store_open(so, &q->wstore);
    if (rc == ERR_OK && pthread_create(&q->writer, NULL, writer_main, q) != 0)
        rc = ERR_INTERNAL;
    if (rc != ERR_OK) {
        store_free(q->wstore);
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
    pthread_mutex_lock(&q->lock);
    q->stopping = true;
    pthread_cond_broadcast(&q->has_items);
    pthread_cond_broadcast(&q->has_jobs);
    pthread_mutex_unlock(&q->lock);
    pthread_join(q->writer, NULL);
    store_free(q->wstore);
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->has_items);
    pthread_cond_destroy(&q->has_jobs);
    free(q);
}

enum err queue_enqueue(struct queue *q, struct store *s, const struct queue_job *job,
                       int64_t *id)
{
    int64_t now = clock_now_ms();
    struct store_job_new j = {
        .kind = job->kind, .key = job->key, .dedupe = job->dedupe, .payload = job->payload,
        .payload_len = job->payload_len, .run_at_ms = job->run_at_ms ? job->run_at_ms : now,
        .max_attempts = job->max_attempts > 0 ? job->max_attempts : q->default_max_attempts};
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
    while (q->seq == seen && !q->stopping)
        if (pthread_cond_timedwait(&q->has_jobs, &q->lock, &ts) != 0)
            break;
    pthread_mutex_unlock(&q->lock);
}

const char *queue_owner(void)
{
    static _Atomic int next_thread;
    static _Thread_local char owner[48];
    if (!owner[0]) {
        unsigned char r[4];
        crypto_random(r, sizeof r);
        snprintf(owner, sizeof owner, "%d.%d.%02x%02x%02x%02x", (int)getpid(),
                 atomic_fetch_add(&next_thread, 1), r[0], r[1], r[2], r[3]);
    }
    return owner;
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
    enum err rc = store_jobs_claim(s, kinds, n_kinds, now, lease_ms, queue_owner(), max, a, out,
                                   &n);
    *n_out = 0;
    for (size_t i = 0; rc == ERR_OK && i < n; i++) {
        /* Claimed more often than allowed: it kept losing its lease (a crash or a hang
         * while handling it). Stop the loop here instead of running it again. */
        if (out[i].attempts > out[i].max_attempts) {
            log_warn("queue.lease_exhausted", LOG_INT("job", out[i].id),
                     LOG_STR("kind", out[i].kind), LOG_INT("attempts", out[i].attempts));
            rc = store_job_bury(s, out[i].id, queue_owner(), "lease expired too many times",
                                now);
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
