/*
 * store/sqlite_int.h - shared by the SQLite backend's files.
 */
#ifndef SB_STORE_SQLITE_INT_H
#define SB_STORE_SQLITE_INT_H

#include <sqlite3.h>

#include "store/store_int.h"

struct sqlite_migration {
    int version;
    const char *name;
    const char *sql;
};

extern const struct sqlite_migration sqlite_migrations[];
extern const int sqlite_n_migrations;

enum sqlite_stmt {
    Q_JOB_INSERT,
    Q_JOB_CLAIM,
    Q_JOB_DELETE,
    Q_JOB_DONE,
    Q_JOB_RETRY,
    Q_JOB_DEFER,
    Q_JOB_EXTEND,
    Q_JOB_BURY_COPY,
    Q_JOB_BURY_MARK,
    Q_JOB_PRUNE,
    Q_JOB_OWNERS,
    Q_JOB_RELEASE_OWNER,
    Q_QUEUE_STATS,
    Q_DEAD_COUNT,
    Q_NEXT_DUE,
    Q_DEAD_ADD,
    Q_DEAD_LIST,
    Q_EVENT_INSERT,
    Q_EVENT_COUNT,
    Q_EVENT_RECENT,
    Q_JOURNAL_LIST,
    Q_JOURNAL_SET,
    Q_JOURNAL_DEL,
    Q__COUNT
};

#define SQLITE_EXEC_CACHE  8
#define SQLITE_INBOX_STMTS 16 /* sqlite_inbox.c's prepared statements */
#define SQLITE_KB_STMTS    3  /* sqlite_kb.c's: search, document frequency, version */

struct sqlite_store {
    struct store base;
    sqlite3 *db;
    sqlite3_stmt *stmts[Q__COUNT];
    struct { /* short statements run often: BEGIN, COMMIT, SAVEPOINT sp1, ... */
        char sql[48];
        sqlite3_stmt *st;
    } exec_cache[SQLITE_EXEC_CACHE];
    sqlite3_stmt *inbox_stmts[SQLITE_INBOX_STMTS];
    sqlite3_stmt *kb_stmts[SQLITE_KB_STMTS]; /* a search runs them every turn */
    sqlite3_stmt *seen_stmt; /* sqlite_pipeline.c's store_account_seen(): every event */
    bool bus_pending;        /* this transaction wrote bus events (sqlite_dash.c's hooks) */
};

/* The prepared statement for id, reset and with its bindings cleared. NULL on failure. */
sqlite3_stmt *sqlite_stmt(struct sqlite_store *s, enum sqlite_stmt id);
/* Maps a SQLite result code to enum err, logging the library's words once. */
enum err sqlite_err(struct sqlite_store *s, int rc, const char *what);
/* For statements prepared per call (people, accounts, the knowledge base, privacy...): a
 * prepared statement or NULL (the failure logged with the SQL); and one step of a statement
 * returning no rows, then finalized, with *changes (may be NULL) the rows it changed (0 on error).
 */
sqlite3_stmt *sqlite_prepare_once(struct sqlite_store *s, const char *sql);
enum err sqlite_run_once(struct sqlite_store *s, sqlite3_stmt *st, const char *what,
                         int64_t *changes);
/* Column i as text in the arena (NULL for SQL NULL); a text parameter or NULL. */
const char *sqlite_col_text(struct arena *a, sqlite3_stmt *st, int i);
void sqlite_bind_text_or_null(sqlite3_stmt *st, int i, const char *v);
/* Steps a statement that returns no rows. */
enum err sqlite_step_done(struct sqlite_store *s, sqlite3_stmt *st, const char *what);

enum err sqlite_migrate(struct store *base, int *from, int *to);
enum err sqlite_schema_version(struct store *base, int *version);

/* Queue and event ops (sqlite_queue.c). */
enum err sqlite_jobs_insert(struct store *base, const struct store_job_new *jobs, size_t n,
                            int64_t now_ms, int64_t *ids);
enum err sqlite_jobs_claim(struct store *base, const char *const *kinds, size_t n_kinds,
                           int64_t now_ms, int64_t lease_ms, const char *owner, size_t max,
                           struct arena *a, struct store_job *out, size_t *n_out);
enum err sqlite_job_finish(struct store *base, int64_t id, const char *owner, int64_t now_ms);
enum err sqlite_job_retry(struct store *base, int64_t id, const char *owner, int64_t run_at_ms,
                          const char *error);
enum err sqlite_job_extend(struct store *base, int64_t id, const char *owner, int64_t until_ms);
enum err sqlite_job_defer(struct store *base, int64_t id, const char *owner, int64_t run_at_ms,
                          int64_t now_ms);
enum err sqlite_job_bury(struct store *base, int64_t id, const char *owner, const char *reason,
                         int64_t now_ms);
enum err sqlite_jobs_lease_owners(struct store *base, struct arena *a, const char **out, size_t max,
                                  size_t *n_out);
enum err sqlite_jobs_release_owner(struct store *base, const char *owner, int64_t now_ms,
                                   int64_t *n);
enum err sqlite_jobs_prune(struct store *base, int64_t cutoff_ms, int64_t *n);
enum err sqlite_queue_stats(struct store *base, int64_t now_ms, struct store_queue_stats *st);
enum err sqlite_jobs_next_due(struct store *base, int64_t *run_at_ms);
enum err sqlite_dead_letter_add(struct store *base, const char *source, const char *kind,
                                const char *reason, const void *payload, size_t len,
                                int64_t now_ms);
enum err sqlite_dead_letters_list(struct store *base, size_t max, struct arena *a,
                                  struct store_dead_letter *out, size_t *n_out);
enum err sqlite_journal_offsets(struct store *base, struct arena *a,
                                struct store_journal_offset *out, size_t max, size_t *n_out);
enum err sqlite_journal_offset_set(struct store *base, const char *segment, int64_t offset);
enum err sqlite_event_insert(struct store *base, const struct store_event *ev, int64_t now_ms,
                             int64_t *id);
enum err sqlite_events_count(struct store *base, int64_t *n);
enum err sqlite_events_recent(struct store *base, size_t max, struct arena *a,
                              struct store_event *out, size_t *n_out);

/* Operators, sessions, OAuth states (sqlite_people.c). */
enum err sqlite_operator_add(struct store *base, const char *email, const char *hash,
                             const char *role, int64_t now_ms, int64_t *id);
enum err sqlite_operator_get(struct store *base, struct arena *a, const char *email, int64_t id,
                             struct store_operator *out);
enum err sqlite_session_add(struct store *base, const struct store_session *ss);
enum err sqlite_session_get(struct store *base, struct arena *a, const char *id_hash,
                            int64_t now_ms, struct store_session *out);
enum err sqlite_session_touch(struct store *base, const char *id_hash, int64_t now_ms,
                              int64_t expires_at);
enum err sqlite_session_delete(struct store *base, const char *id_hash);
enum err sqlite_oauth_state_add(struct store *base, const char *state_hash,
                                const char *session_hash, int64_t now_ms, int64_t expires_at);
enum err sqlite_oauth_state_take(struct store *base, const char *state_hash,
                                 const char *session_hash, int64_t now_ms);

/* Connected accounts (sqlite_accounts.c). */
enum err sqlite_account_get(struct store *base, struct arena *a, enum store_platform p,
                            const char *external_id, int64_t id, struct store_account *out);
enum err sqlite_account_insert(struct store *base, const struct store_account_new *in,
                               int64_t now_ms, int64_t *id);
enum err sqlite_account_update(struct store *base, int64_t id, const struct store_account_new *in,
                               bool with_token, int64_t now_ms);
enum err sqlite_accounts_list(struct store *base, struct arena *a, struct store_account **out,
                              size_t *n);
enum err sqlite_account_set_status(struct store *base, int64_t id, enum store_account_status st,
                                   const char *reason, int64_t now_ms);
enum err sqlite_account_set_subscription(struct store *base, int64_t id, const char *fields,
                                         int64_t now_ms);
enum err sqlite_account_tokens(struct store *base, struct arena *a, int64_t after_id, size_t max,
                               struct store_sealed_token *out, size_t *n);
enum err sqlite_account_token_swap(struct store *base, int64_t id, const unsigned char *old,
                                   size_t old_len, const unsigned char *new_enc, size_t new_len,
                                   bool *swapped);

/* Privacy: deletion requests, erase, revoke, export (sqlite_privacy.c). */
enum err sqlite_deletion_add(struct store *base, const struct store_deletion *d);
enum err sqlite_deletion_get(struct store *base, struct arena *a, const char *code,
                             struct store_deletion *out);
enum err sqlite_deletion_finish(struct store *base, const char *code, const char *status,
                                const char *detail, int64_t now_ms);
enum err sqlite_privacy_erase(struct store *base, const char *user_id, const char *reason,
                              int64_t now_ms, struct store_privacy_counts *out);
enum err sqlite_privacy_revoke(struct store *base, const char *user_id, const char *reason,
                               int64_t now_ms, int64_t *n);
enum err sqlite_privacy_export(struct store *base, const char *user_id, store_row_fn *fn,
                               void *ctx);

/* Conversations, messages, settings (sqlite_inbox.c). */
extern const struct store_inbox_ops sqlite_inbox_ops;
/* Our replies' rows (sqlite_outbox.c). */
extern const struct store_outbox_ops sqlite_outbox_ops;
/* Who answers a conversation (sqlite_handoff.c). */
extern const struct store_handoff_ops sqlite_handoff_ops;
/* The agent's context and records (sqlite_agent.c). */
extern const struct store_agent_ops sqlite_agent_ops;
/* Send pauses, liveliness, comments (sqlite_pipeline.c). */
extern const struct store_pipeline_ops sqlite_pipeline_ops;
/* Posts and the media store (sqlite_posts.c). */
extern const struct store_posts_ops sqlite_posts_ops;

/* The columns of messages sqlite_read_message() reads, in its order (sqlite_inbox.c). */
#define SQLITE_MESSAGE_COLUMNS                                                                     \
    "id, conversation_id, direction, author, mid, text, attachments, reply_to, meta, status,"      \
    " messaging_type, tag, correlation, coalesce(meta_ts, 0), created_at, sentiment"
void sqlite_read_message(struct arena *a, sqlite3_stmt *st, struct store_message *m);

/* The dashboard's rows (sqlite_dash.c), and the commit hooks that ring the bus. */
extern const struct store_dash_ops sqlite_dash_ops;
void sqlite_dash_hooks(struct sqlite_store *s);

/* Knowledge base (sqlite_kb.c). */
enum err sqlite_kb_doc_get(struct store *base, struct arena *a, const char *path,
                           struct store_kb_doc *out);
enum err sqlite_kb_doc_put(struct store *base, const struct store_kb_doc_new *d, int64_t now_ms,
                           int64_t *id);
enum err sqlite_kb_doc_delete(struct store *base, const char *path);
enum err sqlite_kb_docs_list(struct store *base, struct arena *a, const char *prefix,
                             struct store_kb_doc **out, size_t *n);
enum err sqlite_kb_search(struct store *base, struct arena *a, const char *match,
                          const char *rank_match, size_t max, struct store_kb_hit *out, size_t *n);
enum err sqlite_kb_doc_freq(struct store *base, const char *phrase, int64_t cap, int64_t *n);
enum err sqlite_kb_chunks_get(struct store *base, struct arena *a, const int64_t *ids, size_t n_ids,
                              struct store_kb_hit *out, size_t *n);
enum err sqlite_kb_vectors(struct store *base, const char *model, store_kb_vec_fn *fn, void *ctx);
enum err sqlite_kb_version(struct store *base, int64_t *version);

#endif
