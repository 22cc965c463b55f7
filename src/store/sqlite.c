/*
 * store/sqlite.c - the SQLite backend: connection, pragmas, statement cache, migrations.
 *
 * One connection per struct store (SQLITE_OPEN_NOMUTEX: the caller keeps it on one thread).
 * WAL mode lets readers run beside the single writer; busy_timeout queues writers.
 */
#include "store/sqlite_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/clock.h"
#include "core/log.h"

#define SQLITE_BUSY_TIMEOUT_MS 10000

/* SQLite has one writer at a time. Between threads of this process, writers queue on this
 * mutex (fair, no sleeping); SQLite's busy handler only sees other processes (the CLI). */
static pthread_mutex_t g_write_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const stmt_sql[Q__COUNT] = {
    [Q_JOB_INSERT] =
        "INSERT INTO jobs (kind, key, dedupe, payload, state, attempts, max_attempts, run_at,"
        " created_at, updated_at) VALUES (?1, ?2, ?3, ?4, 'ready', 0, ?5, ?6, ?7, ?7)"
        " ON CONFLICT (dedupe) DO NOTHING",
    [Q_JOB_CLAIM] =
        "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_until = ?4,"
        " lease_owner = ?5, updated_at = ?2 WHERE id IN (SELECT id FROM jobs j"
        " WHERE state IN ('ready','running') AND run_at <= ?2"
        " AND (state = 'ready' OR lease_until <= ?2)"
        " AND (?1 IS NULL OR instr(?1, ',' || kind || ',') > 0)"
        " AND (key IS NULL OR NOT EXISTS (SELECT 1 FROM jobs p WHERE p.key = j.key"
        "   AND p.id < j.id AND p.state IN ('ready','running')))"
        " ORDER BY run_at, id LIMIT ?3)"
        " RETURNING id, kind, key, dedupe, payload, attempts, max_attempts, run_at, created_at",
    [Q_JOB_DELETE] = "DELETE FROM jobs WHERE id = ?1 AND state = 'running' AND lease_owner = ?2"
                     " AND dedupe IS NULL",
    [Q_JOB_DONE] = "UPDATE jobs SET state = 'done', payload = NULL, lease_until = NULL,"
                   " updated_at = ?3 WHERE id = ?1 AND state = 'running' AND lease_owner = ?2",
    [Q_JOB_RETRY] = "UPDATE jobs SET state = 'ready', run_at = ?3, lease_until = NULL,"
                    " lease_owner = NULL, last_error = ?4, updated_at = ?5"
                    " WHERE id = ?1 AND state = 'running' AND lease_owner = ?2",
    [Q_JOB_DEFER] = "UPDATE jobs SET state = 'ready', run_at = ?3, lease_until = NULL,"
                    " lease_owner = NULL, attempts = max(attempts - 1, 0), updated_at = ?4"
                    " WHERE id = ?1 AND state = 'running' AND lease_owner = ?2",
    [Q_JOB_EXTEND] = "UPDATE jobs SET lease_until = ?3 WHERE id = ?1 AND state = 'running'"
                     " AND lease_owner = ?2",
    [Q_JOB_BURY_COPY] =
        "INSERT INTO dead_letters (source, kind, reason, payload, attempts, job_id, created_at)"
        " SELECT 'job', kind, ?3, payload, attempts, id, ?4 FROM jobs"
        " WHERE id = ?1 AND state = 'running' AND lease_owner = ?2",
    [Q_JOB_BURY_MARK] = "UPDATE jobs SET state = 'dead', payload = NULL, lease_until = NULL,"
                        " last_error = ?2, updated_at = ?3 WHERE id = ?1",
    [Q_JOB_PRUNE] = "DELETE FROM jobs WHERE state IN ('done','dead') AND updated_at < ?1",
    [Q_JOB_OWNERS] = "SELECT DISTINCT lease_owner FROM jobs WHERE state = 'running'"
                     " AND lease_owner IS NOT NULL LIMIT ?1",
    [Q_JOB_RELEASE_OWNER] = "UPDATE jobs SET state = 'ready', lease_until = NULL,"
                            " lease_owner = NULL, updated_at = ?2"
                            " WHERE state = 'running' AND lease_owner = ?1",
    [Q_QUEUE_STATS] = "SELECT coalesce(sum(state = 'ready' AND run_at <= ?1), 0),"
                      " coalesce(sum(state = 'ready' AND run_at > ?1), 0),"
                      " coalesce(sum(state = 'running'), 0)"
                      " FROM jobs WHERE state IN ('ready','running')",
    [Q_DEAD_COUNT] = "SELECT count(*) FROM dead_letters",
    [Q_NEXT_DUE] = "SELECT min(run_at) FROM jobs WHERE state IN ('ready','running')"
                   " AND state = 'ready'",
    [Q_DEAD_ADD] = "INSERT INTO dead_letters (source, kind, reason, payload, created_at)"
                   " VALUES (?1, ?2, ?3, ?4, ?5)",
    [Q_DEAD_LIST] = "SELECT id, source, kind, reason, payload, attempts, created_at"
                    " FROM dead_letters ORDER BY id DESC LIMIT ?1",
    [Q_EVENT_INSERT] =
        "INSERT INTO events (object, entry_id, kind, channel, key, sender_id, recipient_id, mid,"
        " ts, raw, job_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
        " ON CONFLICT (object, entry_id, key) DO NOTHING",
    [Q_EVENT_COUNT] = "SELECT count(*) FROM events",
    [Q_EVENT_RECENT] = "SELECT object, entry_id, kind, channel, key, sender_id, recipient_id,"
                       " mid, ts, raw, job_id FROM (SELECT * FROM events ORDER BY id DESC"
                       " LIMIT ?1) ORDER BY id",
    [Q_JOURNAL_LIST] = "SELECT segment, offset FROM journal_offsets ORDER BY segment LIMIT ?1",
    [Q_JOURNAL_SET] = "INSERT INTO journal_offsets (segment, offset) VALUES (?1, ?2)"
                      " ON CONFLICT (segment) DO UPDATE SET offset = excluded.offset",
    [Q_JOURNAL_DEL] = "DELETE FROM journal_offsets WHERE segment = ?1",
};

enum err sqlite_err(struct sqlite_store *s, int rc, const char *what)
{
    int primary = rc & 0xff;
    enum err e;
    switch (primary) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
        return ERR_OK;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        e = ERR_AGAIN;
        break;
    case SQLITE_CONSTRAINT:
        e = ERR_CONFLICT;
        break;
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
        e = ERR_IO;
        break;
    case SQLITE_TOOBIG:
        e = ERR_TOO_LARGE;
        break;
    default:
        e = ERR_INTERNAL;
    }
    log_warn("store.sqlite_error", LOG_STR("op", what), LOG_INT("code", rc),
             LOG_STR("msg", s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc)));
    return e;
}

sqlite3_stmt *sqlite_stmt(struct sqlite_store *s, enum sqlite_stmt id)
{
    sqlite3_stmt *st = s->stmts[id];
    if (!st) {
        int rc = sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                                    &s->stmts[id], NULL);
        if (rc != SQLITE_OK) {
            (void)sqlite_err(s, rc, "prepare");
            return NULL;
        }
        return s->stmts[id];
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
}

sqlite3_stmt *sqlite_prepare_once(struct sqlite_store *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        (void)sqlite_err(s, rc, sql);
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

enum err sqlite_run_once(struct sqlite_store *s, sqlite3_stmt *st, const char *what,
                         int64_t *changes)
{
    int rc = sqlite3_step(st);
    enum err e = rc == SQLITE_DONE ? ERR_OK : sqlite_err(s, rc, what);
    if (changes)
        *changes = e == ERR_OK ? sqlite3_changes64(s->db) : 0;
    sqlite3_finalize(st);
    return e;
}

const char *sqlite_col_text(struct arena *a, sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? arena_strndup(a, (const char *)t, (size_t)sqlite3_column_bytes(st, i)) : NULL;
}

void sqlite_bind_text_or_null(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

enum err sqlite_step_done(struct sqlite_store *s, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    enum err e = rc == SQLITE_DONE ? ERR_OK : sqlite_err(s, rc, what);
    sqlite3_reset(st);
    return e;
}

static void sqlite_free(struct store *base)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    for (int i = 0; i < Q__COUNT; i++)
        sqlite3_finalize(s->stmts[i]);
    for (int i = 0; i < SQLITE_EXEC_CACHE; i++)
        sqlite3_finalize(s->exec_cache[i].st);
    for (int i = 0; i < SQLITE_INBOX_STMTS; i++)
        sqlite3_finalize(s->inbox_stmts[i]);
    sqlite3_finalize(s->seen_stmt);
    for (int i = 0; i < SQLITE_KB_STMTS; i++)
        sqlite3_finalize(s->kb_stmts[i]);
    sqlite3_close(s->db);
    free(s);
}

/* A short single statement, prepared once per connection and kept. */
static sqlite3_stmt *cached(struct sqlite_store *s, const char *sql)
{
    for (int i = 0; i < SQLITE_EXEC_CACHE; i++) {
        if (s->exec_cache[i].st && strcmp(s->exec_cache[i].sql, sql) == 0)
            return s->exec_cache[i].st;
        if (!s->exec_cache[i].st) {
            if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->exec_cache[i].st,
                                   NULL) != SQLITE_OK)
                return NULL;
            snprintf(s->exec_cache[i].sql, sizeof s->exec_cache[i].sql, "%s", sql);
            return s->exec_cache[i].st;
        }
    }
    return NULL; /* cache full: the caller runs it uncached */
}

static enum err sqlite_exec(struct store *base, const char *sql)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    sqlite3_stmt *st = strlen(sql) < sizeof s->exec_cache[0].sql ? cached(s, sql) : NULL;
    if (st)
        return sqlite_step_done(s, st, sql);
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? ERR_OK : sqlite_err(s, rc, sql);
}

static enum err sqlite_begin(struct store *base)
{
    pthread_mutex_lock(&g_write_lock);
    enum err rc = sqlite_exec(base, "BEGIN IMMEDIATE");
    if (rc != ERR_OK)
        pthread_mutex_unlock(&g_write_lock);
    return rc;
}

static enum err sqlite_commit(struct store *base)
{
    enum err rc = sqlite_exec(base, "COMMIT");
    if (rc == ERR_OK) /* on failure store_commit() rolls back, which unlocks */
        pthread_mutex_unlock(&g_write_lock);
    return rc;
}

static void sqlite_rollback(struct store *base)
{
    err_ignore(sqlite_exec(base, "ROLLBACK"));
    pthread_mutex_unlock(&g_write_lock);
}

/* Another process holds the write lock: wait in short steps (SQLite's own handler sleeps
 * whole milliseconds from the first retry, which is most of a webhook's latency budget). */
static int on_busy(void *ctx, int n)
{
    (void)ctx;
    int64_t waited_us = 0;
    for (int i = 0; i < n; i++)
        waited_us += i < 10 ? 50 << (i / 2) : 2000;
    if (waited_us / 1000 >= SQLITE_BUSY_TIMEOUT_MS)
        return 0;
    clock_sleep_us(n < 10 ? 50 << (n / 2) : 2000);
    return 1;
}

static void sqlite_checkpoint(struct store *base)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    int rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY)
        (void)sqlite_err(s, rc, "checkpoint");
}

static const struct store_ops sqlite_ops = {
    .free = sqlite_free,
    .exec = sqlite_exec,
    .begin = sqlite_begin,
    .commit = sqlite_commit,
    .rollback = sqlite_rollback,
    .migrate = sqlite_migrate,
    .schema_version = sqlite_schema_version,
    .checkpoint = sqlite_checkpoint,
    .jobs_insert = sqlite_jobs_insert,
    .jobs_claim = sqlite_jobs_claim,
    .job_finish = sqlite_job_finish,
    .job_retry = sqlite_job_retry,
    .job_defer = sqlite_job_defer,
    .job_extend = sqlite_job_extend,
    .job_bury = sqlite_job_bury,
    .jobs_lease_owners = sqlite_jobs_lease_owners,
    .jobs_release_owner = sqlite_jobs_release_owner,
    .jobs_prune = sqlite_jobs_prune,
    .queue_stats = sqlite_queue_stats,
    .jobs_next_due = sqlite_jobs_next_due,
    .journal_offsets = sqlite_journal_offsets,
    .journal_offset_set = sqlite_journal_offset_set,
    .dead_letter_add = sqlite_dead_letter_add,
    .dead_letters_list = sqlite_dead_letters_list,
    .event_insert = sqlite_event_insert,
    .events_count = sqlite_events_count,
    .events_recent = sqlite_events_recent,
    .operator_add = sqlite_operator_add,
    .operator_get = sqlite_operator_get,
    .session_add = sqlite_session_add,
    .session_get = sqlite_session_get,
    .session_touch = sqlite_session_touch,
    .session_delete = sqlite_session_delete,
    .oauth_state_add = sqlite_oauth_state_add,
    .oauth_state_take = sqlite_oauth_state_take,
    .account_get = sqlite_account_get,
    .account_insert = sqlite_account_insert,
    .account_update = sqlite_account_update,
    .accounts_list = sqlite_accounts_list,
    .account_set_status = sqlite_account_set_status,
    .account_set_subscription = sqlite_account_set_subscription,
    .account_tokens = sqlite_account_tokens,
    .account_token_swap = sqlite_account_token_swap,
    .deletion_add = sqlite_deletion_add,
    .deletion_get = sqlite_deletion_get,
    .deletion_finish = sqlite_deletion_finish,
    .privacy_erase = sqlite_privacy_erase,
    .privacy_revoke = sqlite_privacy_revoke,
    .privacy_export = sqlite_privacy_export,
    .kb_doc_get = sqlite_kb_doc_get,
    .kb_doc_put = sqlite_kb_doc_put,
    .kb_doc_delete = sqlite_kb_doc_delete,
    .kb_docs_list = sqlite_kb_docs_list,
    .kb_search = sqlite_kb_search,
    .kb_doc_freq = sqlite_kb_doc_freq,
    .kb_chunks_get = sqlite_kb_chunks_get,
    .kb_vectors = sqlite_kb_vectors,
    .kb_version = sqlite_kb_version,
    .inbox = &sqlite_inbox_ops,
    .outbox = &sqlite_outbox_ops,
    .dash = &sqlite_dash_ops,
    .handoff = &sqlite_handoff_ops,
    .agent = &sqlite_agent_ops,
    .pipeline = &sqlite_pipeline_ops,
    .posts = &sqlite_posts_ops,
};

static enum err make_dir(const char *path)
{
    if (mkdir(path, 0700) == 0 || errno == EEXIST)
        return ERR_OK;
    log_error("store.mkdir_failed", LOG_STR("path", path), LOG_STR("errno", strerror(errno)));
    return ERR_IO;
}

enum err store_sqlite_open(const struct store_opts *opts, struct store **out)
{
    enum err rc = make_dir(opts->data_dir);
    if (rc != ERR_OK)
        return rc;
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/switchboard.db", opts->data_dir) >= sizeof path)
        return ERR_INVALID;
    struct sqlite_store *s = calloc(1, sizeof *s);
    if (!s)
        return ERR_INTERNAL;
    s->base.ops = &sqlite_ops;
    int src = sqlite3_open_v2(
        path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (src == SQLITE_OK)
        src = sqlite3_busy_handler(s->db, on_busy, NULL);
    if (src != SQLITE_OK) {
        rc = sqlite_err(s, src, "open");
        sqlite_free(&s->base);
        return rc;
    }
    char pragmas[256];
    snprintf(pragmas, sizeof pragmas,
             "PRAGMA journal_mode = WAL; PRAGMA synchronous = %s; PRAGMA foreign_keys = ON;"
             " PRAGMA temp_store = MEMORY; PRAGMA cache_size = -32768;"
             " PRAGMA mmap_size = 268435456; PRAGMA wal_autocheckpoint = 4000;",
             opts->sync_full ? "FULL" : "NORMAL");
    rc = sqlite_exec(&s->base, pragmas);
    if (rc != ERR_OK) {
        sqlite_free(&s->base);
        return rc;
    }
    sqlite_dash_hooks(s); /* after the pragmas: it takes over wal_autocheckpoint */
    *out = &s->base;
    return ERR_OK;
}

enum err sqlite_schema_version(struct store *base, int *version)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db, "SELECT coalesce(max(version), 0) FROM schema_migrations",
                                -1, &st, NULL);
    if (rc != SQLITE_OK) { /* no table yet: a new database */
        *version = 0;
        return ERR_OK;
    }
    rc = sqlite3_step(st);
    *version = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? ERR_OK : sqlite_err(s, rc, "schema_version");
}

int store_schema_latest(void)
{
    return sqlite_migrations[sqlite_n_migrations - 1].version;
}

static enum err apply_migration(struct sqlite_store *s, const struct sqlite_migration *m)
{
    enum err rc = store_begin(&s->base);
    if (rc != ERR_OK)
        return rc;
    int v = 0; /* another process may have migrated since we looked */
    rc = sqlite_schema_version(&s->base, &v);
    if (rc == ERR_OK && v >= m->version)
        return store_commit(&s->base);
    if (rc == ERR_OK)
        rc = sqlite_exec(&s->base, m->sql);
    if (rc == ERR_OK) {
        char sql[512];
        char *name = sqlite3_mprintf("%q", m->name);
        snprintf(sql, sizeof sql,
                 "INSERT INTO schema_migrations (version, name, applied_at) VALUES (%d, '%s',"
                 " %lld)",
                 m->version, name, (long long)clock_now_ms());
        sqlite3_free(name);
        rc = sqlite_exec(&s->base, sql);
    }
    if (rc != ERR_OK) {
        store_rollback(&s->base);
        return rc;
    }
    return store_commit(&s->base);
}

enum err sqlite_migrate(struct store *base, int *from, int *to)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    enum err rc = sqlite_exec(base, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                                    " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                                    " applied_at INTEGER NOT NULL)");
    int v = 0;
    if (rc == ERR_OK)
        rc = sqlite_schema_version(base, &v);
    if (rc != ERR_OK)
        return rc;
    if (from)
        *from = v;
    if (v > store_schema_latest()) {
        log_error("store.schema_newer", LOG_INT("database", v),
                  LOG_INT("binary", store_schema_latest()));
        return ERR_CONFLICT;
    }
    for (int i = 0; i < sqlite_n_migrations && rc == ERR_OK; i++) {
        const struct sqlite_migration *m = &sqlite_migrations[i];
        if (m->version <= v)
            continue;
        rc = apply_migration(s, m);
        if (rc == ERR_OK) {
            log_info("store.migrated", LOG_INT("version", m->version), LOG_STR("name", m->name));
            v = m->version;
        }
    }
    if (to)
        *to = v;
    return rc;
}
