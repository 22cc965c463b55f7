/*
 * store/store.h - the only door to persistent state.
 *
 * Owns: the schema, its migrations and every query, behind one API whose callers never learn
 * which backend is live (SQLite in SB_DATA_DIR by default; PostgreSQL later, same calls).
 * Threads: a struct store is one connection; use one per thread (store_open() again).
 * Memory: results that carry text or bytes are allocated in the caller's arena.
 */
#ifndef SB_STORE_STORE_H
#define SB_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/mem.h"

struct store;

struct store_opts {
    const char *data_dir;     /* SQLite: <data_dir>/switchboard.db (created if missing) */
    const char *database_url; /* non-empty: postgres://... (not built into this binary yet) */
    bool sync_full;           /* fsync every commit (SQLite synchronous=FULL) */
};

/* Opens a connection. Caller owns *out; free with store_free(). Does not migrate. */
MUST_USE enum err store_open(const struct store_opts *opts, struct store **out);
void store_free(struct store *s);
/* Creates or upgrades the schema; *from and *to receive the versions (either may be NULL). */
MUST_USE enum err store_migrate(struct store *s, int *from, int *to);
/* The newest schema version this binary knows, and the database's current one. */
int store_schema_latest(void);
MUST_USE enum err store_schema_version(struct store *s, int *version);
/* A cheap round trip: the connection works and the schema is current. */
MUST_USE enum err store_ping(struct store *s);
/* Flushes what can be flushed (SQLite: WAL checkpoint) before a clean exit. */
void store_checkpoint(struct store *s);

/* Transactions. begin/commit/rollback nest: the outermost level is the transaction, inner
 * levels are savepoints, so a rollback undoes only its own level. Every begin is paired
 * with exactly one commit or rollback. */
MUST_USE enum err store_begin(struct store *s);
MUST_USE enum err store_commit(struct store *s);
void store_rollback(struct store *s);

/* ---- jobs: the durable queue's rows (queue/ holds the semantics) ---- */

struct store_job_new {
    const char *kind;   /* "webhook", "turn", "send", ... */
    const char *key;    /* ordering key: one job per key in flight, in id order; NULL = none */
    const char *dedupe; /* unique over the retention period; NULL = no dedupe */
    const void *payload;
    size_t payload_len;
    int64_t run_at_ms;
    int max_attempts;
};

struct store_job {
    int64_t id;
    const char *kind, *key, *dedupe;
    const unsigned char *payload;
    size_t payload_len;
    int attempts, max_attempts;
    int64_t run_at_ms, created_ms;
};

/* Inserts n jobs in one transaction. ids[i] receives the new id, or 0 when jobs[i].dedupe
 * already existed (a duplicate, not an error). */
MUST_USE enum err store_jobs_insert(struct store *s, const struct store_job_new *jobs, size_t n,
                                    int64_t now_ms, int64_t *ids);
/* Claims up to max runnable jobs of the given kinds (all kinds if n_kinds is 0): ready and
 * due, or running with an expired lease; never a job whose key has an earlier unfinished job.
 * Each claimed job's attempts is incremented and its lease set to now+lease_ms for owner. */
MUST_USE enum err store_jobs_claim(struct store *s, const char *const *kinds, size_t n_kinds,
                                   int64_t now_ms, int64_t lease_ms, const char *owner, size_t max,
                                   struct arena *a, struct store_job *out, size_t *n_out);
/* The following apply only while owner still holds the lease; otherwise ERR_CONFLICT. */
MUST_USE enum err store_job_ack(struct store *s, int64_t id, const char *owner, int64_t now_ms);
MUST_USE enum err store_job_retry(struct store *s, int64_t id, const char *owner, int64_t run_at_ms,
                                  const char *error);
MUST_USE enum err store_job_extend(struct store *s, int64_t id, const char *owner,
                                   int64_t lease_until_ms);
/* Moves the job to the dead letters with its payload and reason. */
MUST_USE enum err store_job_bury(struct store *s, int64_t id, const char *owner, const char *reason,
                                 int64_t now_ms);
/* The distinct lease owners of running jobs (strings in the arena), at most max. */
MUST_USE enum err store_jobs_lease_owners(struct store *s, struct arena *a, const char **out,
                                          size_t max, size_t *n_out);
/* Hands every running job of owner back to the queue at once (its process is gone);
 * attempts keep counting. *n receives how many. */
MUST_USE enum err store_jobs_release_owner(struct store *s, const char *owner, int64_t now_ms,
                                           int64_t *n);
/* How long a finished job's dedupe key is kept: Meta retries a delivery for up to 36 h. */
#define STORE_DEDUPE_RETENTION_MS (48LL * 3600 * 1000)
/* Deletes finished jobs whose dedupe retention ended before cutoff_ms. */
MUST_USE enum err store_jobs_prune(struct store *s, int64_t cutoff_ms, int64_t *n_deleted);

struct store_queue_stats {
    int64_t ready;   /* due now */
    int64_t delayed; /* waiting for run_at (backoff, schedules) */
    int64_t running;
    int64_t dead; /* rows in dead_letters */
};
MUST_USE enum err store_queue_stats(struct store *s, int64_t now_ms, struct store_queue_stats *st);
/* The earliest run_at among ready jobs, or INT64_MAX when none. */
MUST_USE enum err store_jobs_next_due(struct store *s, int64_t *run_at_ms);

/* ---- journal offsets: how far the queue's loader got in each intake segment ---- */

struct store_journal_offset {
    const char *segment;
    int64_t offset;
};

MUST_USE enum err store_journal_offsets(struct store *s, struct arena *a,
                                        struct store_journal_offset *out, size_t max,
                                        size_t *n_out);
/* Upserts the segment's offset; a negative offset forgets the segment. */
MUST_USE enum err store_journal_offset_set(struct store *s, const char *segment, int64_t offset);

/* ---- dead letters ---- */

struct store_dead_letter {
    int64_t id;
    const char *source, *kind, *reason;
    const unsigned char *payload;
    size_t payload_len;
    int attempts;
    int64_t created_ms;
};

MUST_USE enum err store_dead_letter_add(struct store *s, const char *source, const char *kind,
                                        const char *reason, const void *payload, size_t len,
                                        int64_t now_ms);
/* Newest first, at most max. */
MUST_USE enum err store_dead_letters_list(struct store *s, size_t max, struct arena *a,
                                          struct store_dead_letter *out, size_t *n_out);

/* ---- inbound events (typed by meta/, stored once per dedupe key) ---- */

struct store_event {
    const char *object;   /* "page", "instagram", or what Meta sent */
    const char *entry_id; /* Page id / IG account id */
    const char *kind;     /* "message", "reaction", "comment", ... */
    const char *channel;  /* "messaging", "standby", "changes" */
    const char *key;      /* dedupe key within (object, entry_id) */
    const char *sender_id, *recipient_id, *mid;
    int64_t ts_ms;
    const char *raw_json; /* this event's JSON */
    int64_t job_id;       /* the delivery it came in */
};

/* Inserts the event; ERR_CONFLICT (and *id untouched) when its key was seen before. */
MUST_USE enum err store_event_insert(struct store *s, const struct store_event *ev, int64_t now_ms,
                                     int64_t *id);
MUST_USE enum err store_events_count(struct store *s, int64_t *n);
/* The newest max events, oldest first (strings in the arena). */
MUST_USE enum err store_events_recent(struct store *s, size_t max, struct arena *a,
                                      struct store_event *out, size_t *n_out);

/* ---- operators, sessions and OAuth states (the dashboard's sign-in) ---- */

struct store_operator {
    int64_t id;
    const char *email;
    const char *password_hash;       /* argon2id, libsodium's encoded string */
    const char *role;                /* "admin" or "agent" */
    int64_t created_at, disabled_at; /* disabled_at 0: active */
};

/* ERR_CONFLICT when the email (case-insensitive) is taken. */
MUST_USE enum err store_operator_add(struct store *s, const char *email, const char *password_hash,
                                     const char *role, int64_t now_ms, int64_t *id);
/* ERR_NOT_FOUND when absent. Strings in the arena. */
MUST_USE enum err store_operator_by_email(struct store *s, struct arena *a, const char *email,
                                          struct store_operator *out);
MUST_USE enum err store_operator_by_id(struct store *s, struct arena *a, int64_t id,
                                       struct store_operator *out);

struct store_session {
    const char *id_hash; /* hex SHA-256 of the cookie value: the cookie itself is never stored */
    int64_t operator_id;
    const char *csrf;
    int64_t created_at, expires_at, last_seen_at;
};

MUST_USE enum err store_session_add(struct store *s, const struct store_session *ss);
/* A live session (not expired at now_ms); ERR_NOT_FOUND otherwise. */
MUST_USE enum err store_session_get(struct store *s, struct arena *a, const char *id_hash,
                                    int64_t now_ms, struct store_session *out);
MUST_USE enum err store_session_touch(struct store *s, const char *id_hash, int64_t now_ms,
                                      int64_t expires_at);
MUST_USE enum err store_session_delete(struct store *s, const char *id_hash);

/* A login state bound to one session, single use. */
MUST_USE enum err store_oauth_state_add(struct store *s, const char *state_hash,
                                        const char *session_hash, int64_t now_ms,
                                        int64_t expires_at);
/* Marks the state used. ERR_NOT_FOUND: unknown, already used or expired; ERR_AUTH: it belongs to
 * another session (it is then burnt as well). */
MUST_USE enum err store_oauth_state_take(struct store *s, const char *state_hash,
                                         const char *session_hash, int64_t now_ms);

#endif
