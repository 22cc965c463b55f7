/*
 * store/sqlite_queue.c - jobs, dead letters and inbound events on SQLite.
 */
#include "store/sqlite_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

#define SQ(base) ((struct sqlite_store *)(base))

static const unsigned char *col_blob(struct arena *a, sqlite3_stmt *st, int i, size_t *len)
{
    const void *b = sqlite3_column_blob(st, i);
    *len = (size_t)sqlite3_column_bytes(st, i);
    unsigned char *d = arena_alloc(a, *len + 1); /* +1: payloads are often text */
    if (b && *len)
        memcpy(d, b, *len);
    return d;
}

static enum err insert_one(struct sqlite_store *s, const struct store_job_new *j, int64_t now,
                           int64_t *id)
{
    sqlite3_stmt *st = sqlite_stmt(s, Q_JOB_INSERT);
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_text(st, 1, j->kind, -1, SQLITE_STATIC);
    sqlite_bind_text_or_null(st, 2, j->key);
    sqlite_bind_text_or_null(st, 3, j->dedupe);
    sqlite3_bind_blob(st, 4, j->payload ? j->payload : "", (int)j->payload_len, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, j->max_attempts);
    sqlite3_bind_int64(st, 6, j->run_at_ms);
    sqlite3_bind_int64(st, 7, now);
    enum err rc = sqlite_step_done(s, st, "jobs_insert");
    if (rc == ERR_OK)
        *id = sqlite3_changes(s->db) ? sqlite3_last_insert_rowid(s->db) : 0;
    return rc;
}

enum err sqlite_jobs_insert(struct store *base, const struct store_job_new *jobs, size_t n,
                            int64_t now_ms, int64_t *ids)
{
    struct sqlite_store *s = SQ(base);
    if (n == 1) /* one statement is atomic on its own, inside a transaction or not */
        return insert_one(s, &jobs[0], now_ms, &ids[0]);
    enum err rc = store_begin(base);
    if (rc != ERR_OK)
        return rc;
    for (size_t i = 0; i < n && rc == ERR_OK; i++)
        rc = insert_one(s, &jobs[i], now_ms, &ids[i]);
    if (rc != ERR_OK) {
        store_rollback(base);
        return rc;
    }
    return store_commit(base);
}

/* Oldest first, as the claim chose them (RETURNING does not promise an order). */
static int by_due(const void *a, const void *b)
{
    const struct store_job *x = a, *y = b;
    if (x->run_at_ms != y->run_at_ms)
        return x->run_at_ms < y->run_at_ms ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static enum err claim(struct sqlite_store *s, const char *kinds_csv, int64_t now_ms,
                      int64_t lease_ms, const char *owner, size_t max, struct arena *a,
                      struct store_job *out, size_t *n_out)
{
    sqlite3_stmt *st = sqlite_stmt(s, Q_JOB_CLAIM);
    if (!st)
        return ERR_INTERNAL;
    sqlite_bind_text_or_null(st, 1, kinds_csv);
    sqlite3_bind_int64(st, 2, now_ms);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
    sqlite3_bind_int64(st, 4, now_ms + lease_ms);
    sqlite3_bind_text(st, 5, owner, -1, SQLITE_STATIC);
    size_t n = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < max) {
        struct store_job *j = &out[n++];
        j->id = sqlite3_column_int64(st, 0);
        j->kind = sqlite_col_text(a, st, 1);
        j->key = sqlite_col_text(a, st, 2);
        j->dedupe = sqlite_col_text(a, st, 3);
        j->payload = col_blob(a, st, 4, &j->payload_len);
        j->attempts = sqlite3_column_int(st, 5); /* after this claim's increment */
        j->max_attempts = sqlite3_column_int(st, 6);
        j->run_at_ms = sqlite3_column_int64(st, 7);
        j->created_ms = sqlite3_column_int64(st, 8);
    }
    enum err e = rc == SQLITE_DONE ? ERR_OK : sqlite_err(s, rc, "claim");
    sqlite3_reset(st);
    qsort(out, n, sizeof *out, by_due);
    *n_out = e == ERR_OK ? n : 0;
    return e;
}

enum err sqlite_jobs_claim(struct store *base, const char *const *kinds, size_t n_kinds,
                           int64_t now_ms, int64_t lease_ms, const char *owner, size_t max,
                           struct arena *a, struct store_job *out, size_t *n_out)
{
    struct sqlite_store *s = SQ(base);
    char csv[512] = "";
    struct buf b = {.data = csv, .alloc = sizeof csv, .cap = sizeof csv - 1};
    for (size_t i = 0; i < n_kinds; i++)
        if (buf_printf(&b, "%s%s,", i ? "" : ",", kinds[i]) != ERR_OK)
            return ERR_TOO_LARGE;
    *n_out = 0;
    enum err rc = store_begin(base);
    if (rc != ERR_OK)
        return rc;
    rc = claim(s, n_kinds ? csv : NULL, now_ms, lease_ms, owner, max, a, out, n_out);
    if (rc != ERR_OK) {
        store_rollback(base);
        return rc;
    }
    rc = store_commit(base);
    if (rc != ERR_OK)
        *n_out = 0;
    return rc;
}

/* Runs an owner-guarded update; ERR_CONFLICT when the lease is no longer ours. */
static enum err guarded(struct sqlite_store *s, sqlite3_stmt *st, const char *what)
{
    enum err rc = sqlite_step_done(s, st, what);
    if (rc == ERR_OK && sqlite3_changes(s->db) == 0)
        rc = ERR_CONFLICT;
    return rc;
}

enum err sqlite_job_finish(struct store *base, int64_t id, const char *owner, int64_t now_ms)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = sqlite_stmt(s, Q_JOB_DELETE);
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, owner, -1, SQLITE_STATIC);
    enum err rc = guarded(s, st, "job_delete");
    if (rc != ERR_CONFLICT)
        return rc;
    /* Jobs with a dedupe key stay as 'done' (without payload) until pruned. */
    st = sqlite_stmt(s, Q_JOB_DONE);
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, owner, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now_ms);
    return guarded(s, st, "job_done");
}

enum err sqlite_job_retry(struct store *base, int64_t id, const char *owner, int64_t run_at_ms,
                          const char *error)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = sqlite_stmt(s, Q_JOB_RETRY);
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, owner, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, run_at_ms);
    sqlite_bind_text_or_null(st, 4, error);
    sqlite3_bind_int64(st, 5, run_at_ms);
    return guarded(s, st, "job_retry");
}

enum err sqlite_job_defer(struct store *base, int64_t id, const char *owner, int64_t run_at_ms,
                          int64_t now_ms)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = sqlite_stmt(s, Q_JOB_DEFER);
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, owner, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, run_at_ms);
    sqlite3_bind_int64(st, 4, now_ms);
    return guarded(s, st, "job_defer");
}

enum err sqlite_job_extend(struct store *base, int64_t id, const char *owner, int64_t until_ms)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = sqlite_stmt(s, Q_JOB_EXTEND);
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, owner, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, until_ms);
    return guarded(s, st, "job_extend");
}

enum err sqlite_job_bury(struct store *base, int64_t id, const char *owner, const char *reason,
                         int64_t now_ms)
{
    struct sqlite_store *s = SQ(base);
    enum err rc = store_begin(base);
    if (rc != ERR_OK)
        return rc;
    sqlite3_stmt *st = sqlite_stmt(s, Q_JOB_BURY_COPY);
    if (!st) {
        store_rollback(base);
        return ERR_INTERNAL;
    }
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, owner, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, reason, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, now_ms);
    rc = guarded(s, st, "job_bury");
    if (rc == ERR_OK && !(st = sqlite_stmt(s, Q_JOB_BURY_MARK)))
        rc = ERR_INTERNAL;
    if (rc == ERR_OK) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, reason, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, now_ms);
        rc = sqlite_step_done(s, st, "job_bury_mark");
    }
    if (rc != ERR_OK) {
        store_rollback(base);
        return rc;
    }
    return store_commit(base);
}

/* Fills row i of out from the current row of st. */
typedef void row_fn(sqlite3_stmt *st, struct arena *a, void *out, size_t i);

/* Runs a listing statement whose only parameter (?1) is the row limit, calling fn per row. */
static enum err list_rows(struct sqlite_store *s, enum sqlite_stmt id, size_t max, struct arena *a,
                          row_fn *fn, void *out, size_t *n_out, const char *what)
{
    *n_out = 0;
    sqlite3_stmt *st = sqlite_stmt(s, id);
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)max);
    size_t n = 0;
    int rc = SQLITE_DONE;
    while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
        fn(st, a, out, n++);
    enum err e = (n == max || rc == SQLITE_DONE) ? ERR_OK : sqlite_err(s, rc, what);
    sqlite3_reset(st);
    *n_out = n;
    return e;
}

static void owner_row(sqlite3_stmt *st, struct arena *a, void *out, size_t i)
{
    ((const char **)out)[i] = sqlite_col_text(a, st, 0);
}

enum err sqlite_jobs_lease_owners(struct store *base, struct arena *a, const char **out, size_t max,
                                  size_t *n_out)
{
    return list_rows(SQ(base), Q_JOB_OWNERS, max, a, owner_row, out, n_out, "lease_owners");
}

enum err sqlite_jobs_release_owner(struct store *base, const char *owner, int64_t now_ms,
                                   int64_t *n)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = sqlite_stmt(s, Q_JOB_RELEASE_OWNER);
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now_ms);
    enum err rc = sqlite_step_done(s, st, "release_owner");
    *n = rc == ERR_OK ? sqlite3_changes(s->db) : 0;
    return rc;
}

enum err sqlite_jobs_prune(struct store *base, int64_t cutoff_ms, int64_t *n)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = sqlite_stmt(s, Q_JOB_PRUNE);
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, cutoff_ms);
    enum err rc = sqlite_step_done(s, st, "jobs_prune");
    *n = rc == ERR_OK ? sqlite3_changes(s->db) : 0;
    return rc;
}

/* Runs a one-row statement of integer columns into out[0..n). */
static enum err int_row(struct sqlite_store *s, sqlite3_stmt *st, int64_t *out, int n,
                        const char *what)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        for (int i = 0; i < n; i++)
            out[i] =
                sqlite3_column_type(st, i) == SQLITE_NULL ? INT64_MAX : sqlite3_column_int64(st, i);
    enum err e = rc == SQLITE_ROW    ? ERR_OK
                 : rc == SQLITE_DONE ? ERR_NOT_FOUND /* an aggregate always has a row */
                                     : sqlite_err(s, rc, what);
    sqlite3_reset(st);
    return e;
}

enum err sqlite_queue_stats(struct store *base, int64_t now_ms, struct store_queue_stats *qs)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = sqlite_stmt(s, Q_QUEUE_STATS);
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, now_ms);
    int64_t v[3];
    enum err rc = int_row(s, st, v, 3, "queue_stats");
    if (rc != ERR_OK)
        return rc;
    qs->ready = v[0];
    qs->delayed = v[1];
    qs->running = v[2];
    if (!(st = sqlite_stmt(s, Q_DEAD_COUNT)))
        return ERR_INTERNAL;
    return int_row(s, st, &qs->dead, 1, "dead_count");
}

enum err sqlite_jobs_next_due(struct store *base, int64_t *run_at_ms)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = sqlite_stmt(s, Q_NEXT_DUE);
    if (!st)
        return ERR_INTERNAL;
    return int_row(s, st, run_at_ms, 1, "next_due");
}

enum err sqlite_dead_letter_add(struct store *base, const char *source, const char *kind,
                                const char *reason, const void *payload, size_t len, int64_t now_ms)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = sqlite_stmt(s, Q_DEAD_ADD);
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_text(st, 1, source, -1, SQLITE_STATIC);
    sqlite_bind_text_or_null(st, 2, kind);
    sqlite3_bind_text(st, 3, reason, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, payload ? payload : "", (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, now_ms);
    return sqlite_step_done(s, st, "dead_letter_add");
}

static void dead_letter_row(sqlite3_stmt *st, struct arena *a, void *out, size_t i)
{
    struct store_dead_letter *d = (struct store_dead_letter *)out + i;
    d->id = sqlite3_column_int64(st, 0);
    d->source = sqlite_col_text(a, st, 1);
    d->kind = sqlite_col_text(a, st, 2);
    d->reason = sqlite_col_text(a, st, 3);
    d->payload = col_blob(a, st, 4, &d->payload_len);
    d->attempts = sqlite3_column_int(st, 5);
    d->created_ms = sqlite3_column_int64(st, 6);
}

enum err sqlite_dead_letters_list(struct store *base, size_t max, struct arena *a,
                                  struct store_dead_letter *out, size_t *n_out)
{
    return list_rows(SQ(base), Q_DEAD_LIST, max, a, dead_letter_row, out, n_out, "dead_list");
}

enum err sqlite_event_insert(struct store *base, const struct store_event *ev, int64_t now_ms,
                             int64_t *id)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = sqlite_stmt(s, Q_EVENT_INSERT);
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_text(st, 1, ev->object, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, ev->entry_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, ev->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, ev->channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, ev->key, -1, SQLITE_STATIC);
    sqlite_bind_text_or_null(st, 6, ev->sender_id);
    sqlite_bind_text_or_null(st, 7, ev->recipient_id);
    sqlite_bind_text_or_null(st, 8, ev->mid);
    sqlite3_bind_int64(st, 9, ev->ts_ms);
    sqlite3_bind_text(st, 10, ev->raw_json, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 11, ev->job_id);
    sqlite3_bind_int64(st, 12, now_ms);
    enum err rc = guarded(s, st, "event_insert");
    if (rc == ERR_OK)
        *id = sqlite3_last_insert_rowid(s->db);
    return rc;
}

enum err sqlite_events_count(struct store *base, int64_t *n)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = sqlite_stmt(s, Q_EVENT_COUNT);
    if (!st)
        return ERR_INTERNAL;
    return int_row(s, st, n, 1, "events_count");
}

static void offset_row(sqlite3_stmt *st, struct arena *a, void *out, size_t i)
{
    struct store_journal_offset *o = (struct store_journal_offset *)out + i;
    o->segment = sqlite_col_text(a, st, 0);
    o->offset = sqlite3_column_int64(st, 1);
}

enum err sqlite_journal_offsets(struct store *base, struct arena *a,
                                struct store_journal_offset *out, size_t max, size_t *n_out)
{
    return list_rows(SQ(base), Q_JOURNAL_LIST, max, a, offset_row, out, n_out, "journal_list");
}

enum err sqlite_journal_offset_set(struct store *base, const char *segment, int64_t offset)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = sqlite_stmt(s, offset < 0 ? Q_JOURNAL_DEL : Q_JOURNAL_SET);
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_text(st, 1, segment, -1, SQLITE_STATIC);
    if (offset >= 0)
        sqlite3_bind_int64(st, 2, offset);
    return sqlite_step_done(s, st, "journal_offset_set");
}

static void event_row(sqlite3_stmt *st, struct arena *a, void *out, size_t i)
{
    struct store_event *e = (struct store_event *)out + i;
    e->object = sqlite_col_text(a, st, 0);
    e->entry_id = sqlite_col_text(a, st, 1);
    e->kind = sqlite_col_text(a, st, 2);
    e->channel = sqlite_col_text(a, st, 3);
    e->key = sqlite_col_text(a, st, 4);
    e->sender_id = sqlite_col_text(a, st, 5);
    e->recipient_id = sqlite_col_text(a, st, 6);
    e->mid = sqlite_col_text(a, st, 7);
    e->ts_ms = sqlite3_column_int64(st, 8);
    e->raw_json = sqlite_col_text(a, st, 9);
    e->job_id = sqlite3_column_int64(st, 10);
}

enum err sqlite_events_recent(struct store *base, size_t max, struct arena *a,
                              struct store_event *out, size_t *n_out)
{
    return list_rows(SQ(base), Q_EVENT_RECENT, max, a, event_row, out, n_out, "events_recent");
}
