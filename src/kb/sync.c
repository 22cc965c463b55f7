/*
 * kb/sync.c - SB_KB_DIR kept indexed by a background thread.
 *
 * Owns: the thread, its own store connection, the first pass at start (which also gives
 * unchanged files the vectors they lack) and the later passes every interval (files whose
 * SHA-256 changed, new and vanished files). It runs beside the server, so webhook intake never
 * waits for it: each file is its own short transaction, and embeddings are fetched before the
 * transaction begins.
 * Logging: the first pass logs "kb.synced" with its counts and one "kb.file_skipped" per file
 * it could not index; later passes log only when something changed.
 */
#include "kb/kb.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/thread.h"
#include "kb/kb_int.h"
#include "store/store.h"

#define SYNC_EMBED_TIMEOUT_MS 10000 /* bounds how long a stop can wait for the thread */

struct kb_sync {
    pthread_t thread;
    atomic_bool stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char *data_dir, *database_url, *dir, *embed_url, *embed_model, *api_key;
    struct store_opts so;
    struct kb_opts o;
    int64_t interval_ms;
};

struct tally {
    int n[KB_REMOVED + 1];
    bool first;
};

static void on_report(void *ctx, const struct kb_report *r)
{
    struct tally *t = ctx;
    t->n[r->outcome]++;
    if (r->outcome == KB_SKIPPED && r->err != ERR_OK && t->first)
        log_warn("kb.file_skipped", LOG_STR("path", r->path), LOG_STR("reason", r->reason),
                 LOG_ERR(r->err));
    else if (!t->first &&
             (r->outcome == KB_ADDED || r->outcome == KB_UPDATED || r->outcome == KB_REMOVED))
        log_info("kb.file_indexed", LOG_STR("path", r->path),
                 LOG_STR("outcome", kb_outcome_name(r->outcome)), LOG_INT("chunks", r->n_chunks),
                 LOG_BOOL("vectors", r->has_vectors));
}

static void pass(struct kb_sync *ks, struct kb *k, bool first)
{
    struct tally t = {.first = first};
    int64_t t0 = clock_mono_us();
    kb_set_backfill(k, first);
    enum err rc = kb_add_path(k, ks->dir, on_report, &t);
    if (rc == ERR_AGAIN)
        return; /* stopping */
    bool changed = t.n[KB_ADDED] + t.n[KB_UPDATED] + t.n[KB_REMOVED] > 0;
    if (first || changed || rc != ERR_OK)
        log_write(rc == ERR_OK ? LOG_INFO : LOG_WARN, "kb.synced", LOG_STR("dir", ks->dir),
                  LOG_INT("added", t.n[KB_ADDED]), LOG_INT("updated", t.n[KB_UPDATED]),
                  LOG_INT("unchanged", t.n[KB_UNCHANGED]), LOG_INT("skipped", t.n[KB_SKIPPED]),
                  LOG_INT("removed", t.n[KB_REMOVED]), LOG_INT("ms", (clock_mono_us() - t0) / 1000),
                  LOG_ERR(rc), LOG_END);
}

/* Sleeps until the next pass is due; false when it is time to stop. */
static bool wait_next(struct kb_sync *ks)
{
    if (ks->interval_ms <= 0)
        return false;
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += (time_t)(ks->interval_ms / 1000);
    until.tv_nsec += (long)(ks->interval_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&ks->mu);
    int rc = 0;
    while (!atomic_load(&ks->stop) && rc == 0)
        rc = pthread_cond_timedwait(&ks->cv, &ks->mu, &until);
    pthread_mutex_unlock(&ks->mu);
    return !atomic_load(&ks->stop);
}

static void *run(void *arg)
{
    struct kb_sync *ks = arg;
    thread_set_background("sb-kb-sync");
    struct store *s = NULL;
    struct kb *k = NULL;
    enum err rc = store_open(&ks->so, &s);
    if (rc == ERR_OK)
        rc = kb_new(s, &ks->o, &k);
    if (rc != ERR_OK) {
        log_error("kb.sync_failed", LOG_STR("dir", ks->dir), LOG_ERR(rc));
        store_free(s);
        return NULL;
    }
    bool first = true;
    do {
        pass(ks, k, first);
        first = false;
    } while (!atomic_load(&ks->stop) && wait_next(ks));
    kb_free(k);
    store_free(s);
    return NULL;
}

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

static void release(struct kb_sync *ks)
{
    pthread_cond_destroy(&ks->cv);
    pthread_mutex_destroy(&ks->mu);
    free(ks->data_dir);
    free(ks->database_url);
    free(ks->dir);
    free(ks->embed_url);
    free(ks->embed_model);
    free(ks->api_key);
    free(ks);
}

enum err kb_sync_start(const struct store_opts *so, const struct kb_opts *o, const char *dir,
                       int64_t interval_ms, struct kb_sync **out)
{
    struct kb_sync *ks = xcalloc(1, sizeof *ks);
    pthread_mutex_init(&ks->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&ks->cv, &ca);
    pthread_condattr_destroy(&ca);
    ks->data_dir = dup_or_null(so->data_dir);
    ks->database_url = dup_or_null(so->database_url);
    ks->dir = xstrdup(dir);
    ks->embed_url = dup_or_null(o->embed_url);
    ks->embed_model = dup_or_null(o->embed_model);
    ks->api_key = dup_or_null(o->api_key);
    ks->so = (struct store_opts){ks->data_dir, ks->database_url, so->sync_full};
    ks->o = (struct kb_opts){.embed_url = ks->embed_url,
                             .embed_model = ks->embed_model,
                             .api_key = ks->api_key,
                             .embed_timeout_ms = SYNC_EMBED_TIMEOUT_MS,
                             .query_timeout_ms = o->query_timeout_ms,
                             .cancel = &ks->stop};
    ks->interval_ms = interval_ms;
    if (pthread_create(&ks->thread, NULL, run, ks) != 0) {
        log_error("kb.sync_failed", LOG_STR("dir", dir), LOG_STR("reason", "thread"));
        release(ks);
        return ERR_INTERNAL;
    }
    *out = ks;
    return ERR_OK;
}

void kb_sync_stop(struct kb_sync *ks)
{
    if (!ks)
        return;
    pthread_mutex_lock(&ks->mu);
    atomic_store(&ks->stop, true);
    pthread_cond_signal(&ks->cv);
    pthread_mutex_unlock(&ks->mu);
    pthread_join(ks->thread, NULL);
    release(ks);
}
