/*
 * store/store.c - backend selection and the calls every backend shares (transactions).
 */
#include "store/store.h"

#include <pthread.h>
#include <stdio.h>

#include "core/log.h"
#include "store/store_int.h"

enum err store_open(const struct store_opts *opts, struct store **out)
{
    if (opts->database_url && *opts->database_url) {
        log_error("store.backend_unavailable", LOG_STR("backend", "postgres"));
        return ERR_INVALID;
    }
    return store_sqlite_open(opts, out);
}

void store_free(struct store *s)
{
    if (s)
        s->ops->free(s);
}

enum err store_migrate(struct store *s, int *from, int *to)
{
    return s->ops->migrate(s, from, to);
}

enum err store_schema_version(struct store *s, int *version)
{
    return s->ops->schema_version(s, version);
}

enum err store_ping(struct store *s)
{
    int v = 0;
    enum err rc = s->ops->schema_version(s, &v);
    if (rc == ERR_OK && v != store_schema_latest())
        rc = ERR_AGAIN;
    return rc;
}

void store_checkpoint(struct store *s)
{
    s->ops->checkpoint(s);
}

/* Nested levels are savepoints named by depth (same syntax on SQLite and PostgreSQL). */
static enum err savepoint(struct store *s, const char *verb, int depth)
{
    char sql[64];
    snprintf(sql, sizeof sql, "%s sp%d", verb, depth);
    return s->ops->exec(s, sql);
}

enum err store_begin(struct store *s)
{
    enum err rc = s->tx_depth == 0 ? s->ops->begin(s) : savepoint(s, "SAVEPOINT", s->tx_depth);
    if (rc == ERR_OK)
        s->tx_depth++;
    return rc;
}

enum err store_commit(struct store *s)
{
    if (s->tx_depth == 0)
        return ERR_INTERNAL;
    if (--s->tx_depth > 0)
        return savepoint(s, "RELEASE", s->tx_depth);
    enum err rc = s->ops->commit(s);
    if (rc != ERR_OK)
        s->ops->rollback(s);
    return rc;
}

void store_rollback(struct store *s)
{
    if (s->tx_depth == 0)
        return;
    if (--s->tx_depth == 0) {
        s->ops->rollback(s);
        return;
    }
    err_ignore(savepoint(s, "ROLLBACK TO", s->tx_depth)); /* undoes this level only */
    err_ignore(savepoint(s, "RELEASE", s->tx_depth));
}

enum err store_jobs_insert(struct store *s, const struct store_job_new *jobs, size_t n,
                           int64_t now_ms, int64_t *ids)
{
    return s->ops->jobs_insert(s, jobs, n, now_ms, ids);
}

enum err store_jobs_claim(struct store *s, const char *const *kinds, size_t n_kinds, int64_t now_ms,
                          int64_t lease_ms, const char *owner, size_t max, struct arena *a,
                          struct store_job *out, size_t *n_out)
{
    return s->ops->jobs_claim(s, kinds, n_kinds, now_ms, lease_ms, owner, max, a, out, n_out);
}

enum err store_job_ack(struct store *s, int64_t id, const char *owner, int64_t now_ms)
{
    return s->ops->job_finish(s, id, owner, now_ms);
}

enum err store_job_retry(struct store *s, int64_t id, const char *owner, int64_t run_at_ms,
                         const char *error)
{
    return s->ops->job_retry(s, id, owner, run_at_ms, error);
}

enum err store_job_defer(struct store *s, int64_t id, const char *owner, int64_t run_at_ms,
                         int64_t now_ms)
{
    return s->ops->job_defer(s, id, owner, run_at_ms, now_ms);
}

enum err store_job_extend(struct store *s, int64_t id, const char *owner, int64_t until_ms)
{
    return s->ops->job_extend(s, id, owner, until_ms);
}

enum err store_job_bury(struct store *s, int64_t id, const char *owner, const char *reason,
                        int64_t now_ms)
{
    return s->ops->job_bury(s, id, owner, reason, now_ms);
}

enum err store_jobs_lease_owners(struct store *s, struct arena *a, const char **out, size_t max,
                                 size_t *n_out)
{
    return s->ops->jobs_lease_owners(s, a, out, max, n_out);
}

enum err store_jobs_release_owner(struct store *s, const char *owner, int64_t now_ms, int64_t *n)
{
    return s->ops->jobs_release_owner(s, owner, now_ms, n);
}

enum err store_jobs_prune(struct store *s, int64_t cutoff_ms, int64_t *n_deleted)
{
    return s->ops->jobs_prune(s, cutoff_ms, n_deleted);
}

enum err store_queue_stats(struct store *s, int64_t now_ms, struct store_queue_stats *st)
{
    return s->ops->queue_stats(s, now_ms, st);
}

enum err store_jobs_next_due(struct store *s, int64_t *run_at_ms)
{
    return s->ops->jobs_next_due(s, run_at_ms);
}

enum err store_journal_offsets(struct store *s, struct arena *a, struct store_journal_offset *out,
                               size_t max, size_t *n_out)
{
    return s->ops->journal_offsets(s, a, out, max, n_out);
}

enum err store_journal_offset_set(struct store *s, const char *segment, int64_t offset)
{
    return s->ops->journal_offset_set(s, segment, offset);
}

enum err store_dead_letter_add(struct store *s, const char *source, const char *kind,
                               const char *reason, const void *payload, size_t len, int64_t now_ms)
{
    return s->ops->dead_letter_add(s, source, kind, reason, payload, len, now_ms);
}

enum err store_dead_letters_list(struct store *s, size_t max, struct arena *a,
                                 struct store_dead_letter *out, size_t *n_out)
{
    return s->ops->dead_letters_list(s, max, a, out, n_out);
}

enum err store_event_insert(struct store *s, const struct store_event *ev, int64_t now_ms,
                            int64_t *id)
{
    return s->ops->event_insert(s, ev, now_ms, id);
}

enum err store_events_count(struct store *s, int64_t *n)
{
    return s->ops->events_count(s, n);
}

enum err store_events_recent(struct store *s, size_t max, struct arena *a, struct store_event *out,
                             size_t *n_out)
{
    return s->ops->events_recent(s, max, a, out, n_out);
}

enum err store_operator_add(struct store *s, const char *email, const char *password_hash,
                            const char *role, int64_t now_ms, int64_t *id)
{
    return s->ops->operator_add(s, email, password_hash, role, now_ms, id);
}

enum err store_operator_by_email(struct store *s, struct arena *a, const char *email,
                                 struct store_operator *out)
{
    return s->ops->operator_get(s, a, email, 0, out);
}

enum err store_operator_by_id(struct store *s, struct arena *a, int64_t id,
                              struct store_operator *out)
{
    return s->ops->operator_get(s, a, NULL, id, out);
}

enum err store_session_add(struct store *s, const struct store_session *ss)
{
    return s->ops->session_add(s, ss);
}

enum err store_session_get(struct store *s, struct arena *a, const char *id_hash, int64_t now_ms,
                           struct store_session *out)
{
    return s->ops->session_get(s, a, id_hash, now_ms, out);
}

enum err store_session_touch(struct store *s, const char *id_hash, int64_t now_ms,
                             int64_t expires_at)
{
    return s->ops->session_touch(s, id_hash, now_ms, expires_at);
}

enum err store_session_delete(struct store *s, const char *id_hash)
{
    return s->ops->session_delete(s, id_hash);
}

enum err store_oauth_state_add(struct store *s, const char *state_hash, const char *session_hash,
                               int64_t now_ms, int64_t expires_at)
{
    return s->ops->oauth_state_add(s, state_hash, session_hash, now_ms, expires_at);
}

enum err store_oauth_state_take(struct store *s, const char *state_hash, const char *session_hash,
                                int64_t now_ms)
{
    return s->ops->oauth_state_take(s, state_hash, session_hash, now_ms);
}

enum err store_deletion_add(struct store *s, const struct store_deletion *d)
{
    return s->ops->deletion_add(s, d);
}

enum err store_deletion_get(struct store *s, struct arena *a, const char *code,
                            struct store_deletion *out)
{
    return s->ops->deletion_get(s, a, code, out);
}

enum err store_deletion_finish(struct store *s, const char *code, const char *status,
                               const char *detail, int64_t now_ms)
{
    return s->ops->deletion_finish(s, code, status, detail, now_ms);
}

enum err store_privacy_erase(struct store *s, const char *user_id, const char *reason,
                             int64_t now_ms, struct store_privacy_counts *out)
{
    return s->ops->privacy_erase(s, user_id, reason, now_ms, out);
}

enum err store_privacy_revoke(struct store *s, const char *user_id, const char *reason,
                              int64_t now_ms, int64_t *n)
{
    return s->ops->privacy_revoke(s, user_id, reason, now_ms, n);
}

enum err store_privacy_export(struct store *s, const char *user_id, store_row_fn *fn, void *ctx)
{
    return s->ops->privacy_export(s, user_id, fn, ctx);
}

enum err store_kb_doc_get(struct store *s, struct arena *a, const char *path,
                          struct store_kb_doc *out)
{
    return s->ops->kb_doc_get(s, a, path, out);
}

enum err store_kb_doc_put(struct store *s, const struct store_kb_doc_new *d, int64_t now_ms,
                          int64_t *id)
{
    return s->ops->kb_doc_put(s, d, now_ms, id);
}

enum err store_kb_doc_delete(struct store *s, const char *path)
{
    return s->ops->kb_doc_delete(s, path);
}

enum err store_kb_docs_list(struct store *s, struct arena *a, const char *prefix,
                            struct store_kb_doc **out, size_t *n)
{
    return s->ops->kb_docs_list(s, a, prefix, out, n);
}

enum err store_kb_search(struct store *s, struct arena *a, const char *match,
                         const char *rank_match, size_t max, struct store_kb_hit *out, size_t *n)
{
    return s->ops->kb_search(s, a, match, rank_match, max, out, n);
}

enum err store_kb_doc_freq(struct store *s, const char *phrase, int64_t cap, int64_t *n)
{
    return s->ops->kb_doc_freq(s, phrase, cap, n);
}

enum err store_kb_chunks_get(struct store *s, struct arena *a, const int64_t *ids, size_t n_ids,
                             struct store_kb_hit *out, size_t *n)
{
    return s->ops->kb_chunks_get(s, a, ids, n_ids, out, n);
}

enum err store_kb_vectors(struct store *s, const char *model, store_kb_vec_fn *fn, void *ctx)
{
    return s->ops->kb_vectors(s, model, fn, ctx);
}

enum err store_kb_version(struct store *s, int64_t *version)
{
    return s->ops->kb_version(s, version);
}

/* ---- conversations, messages, settings ---- */

enum err store_account_route(struct store *s, enum store_platform p, const char *external_id,
                             int64_t *account_id)
{
    return s->ops->inbox->account_route(s, p, external_id, account_id);
}

enum err store_conversation_ensure(struct store *s, int64_t account_id, const char *scoped_id,
                                   int64_t now_ms, int64_t *conversation_id, bool *created)
{
    bool c = false;
    enum err rc =
        s->ops->inbox->conversation_ensure(s, account_id, scoped_id, now_ms, conversation_id, &c);
    if (created)
        *created = c;
    return rc;
}

enum err store_message_insert(struct store *s, const struct store_message_new *m, int64_t now_ms,
                              int64_t *id)
{
    return s->ops->inbox->message_insert(s, m, now_ms, id);
}

enum err store_message_echo_match(struct store *s, int64_t conversation_id, const char *mid,
                                  const char *correlation, int64_t meta_ts, int64_t now_ms,
                                  int64_t *id)
{
    return s->ops->inbox->message_echo_match(s, conversation_id, mid, correlation, meta_ts, now_ms,
                                             id);
}

enum err store_message_mark_deleted(struct store *s, int64_t conversation_id, const char *mid,
                                    int64_t now_ms, bool *changed)
{
    return s->ops->inbox->message_mark_deleted(s, conversation_id, mid, now_ms, changed);
}

enum err store_message_edit(struct store *s, int64_t conversation_id, const char *mid,
                            const char *text, int64_t num_edit, int64_t ts_ms, int64_t now_ms,
                            bool *changed)
{
    return s->ops->inbox->message_edit(s, conversation_id, mid, text, num_edit, ts_ms, now_ms,
                                       changed);
}

enum err store_message_react(struct store *s, int64_t conversation_id, const char *mid,
                             const char *reaction, const char *emoji, bool is_unreact,
                             int64_t ts_ms, int64_t now_ms, bool *changed)
{
    return s->ops->inbox->message_react(s, conversation_id, mid, reaction, emoji, is_unreact, ts_ms,
                                        now_ms, changed);
}

enum err store_conversation_touch(struct store *s, int64_t conversation_id,
                                  const struct store_conversation_touch *t, int64_t now_ms)
{
    return s->ops->inbox->conversation_touch(s, conversation_id, t, now_ms);
}

enum err store_conversation_set_mode(struct store *s, int64_t conversation_id,
                                     const char *from_mode, const char *to_mode, const char *reason,
                                     int64_t now_ms, bool *changed)
{
    return s->ops->inbox->conversation_set_mode(s, conversation_id, from_mode, to_mode, reason,
                                                now_ms, changed);
}

enum err store_conversations_list(struct store *s, struct arena *a, const char *mode, size_t max,
                                  struct store_conversation **out, size_t *n)
{
    if (max > STORE_CONVERSATIONS_MAX)
        max = STORE_CONVERSATIONS_MAX;
    return s->ops->inbox->conversations_list(s, a, mode, 0, max, out, n);
}

enum err store_conversation_get(struct store *s, struct arena *a, int64_t id,
                                struct store_conversation *out)
{
    struct store_conversation *rows = NULL;
    size_t n = 0;
    enum err rc = s->ops->inbox->conversations_list(s, a, NULL, id, 1, &rows, &n);
    if (rc == ERR_OK && n == 0)
        rc = ERR_NOT_FOUND;
    if (rc == ERR_OK)
        *out = rows[0];
    return rc;
}

enum err store_messages_list(struct store *s, struct arena *a, int64_t conversation_id,
                             int64_t after_id, size_t max, struct store_message **out, size_t *n)
{
    return s->ops->inbox->messages_list(s, a, conversation_id, after_id, max, out, n);
}

enum err store_setting_get(struct store *s, struct arena *a, const char *key, const char **value)
{
    return s->ops->inbox->setting_get(s, a, key, value);
}

enum err store_setting_set(struct store *s, const char *key, const char *value, int64_t now_ms)
{
    return s->ops->inbox->setting_set(s, key, value, now_ms);
}

enum err store_conversation_change_mode(struct store *s, int64_t conversation_id,
                                        const struct store_mode_change *c, int64_t now_ms,
                                        bool *changed)
{
    return s->ops->handoff->conversation_change_mode(s, conversation_id, c, now_ms, changed);
}

enum err store_operator_pick_online(struct store *s, int64_t since_ms, int64_t now_ms,
                                    int64_t *operator_id)
{
    return s->ops->handoff->operator_pick_online(s, since_ms, now_ms, operator_id);
}

enum err store_message_get(struct store *s, struct arena *a, int64_t id, struct store_message *out)
{
    return s->ops->outbox->message_get(s, a, id, out);
}

enum err store_message_last_out(struct store *s, int64_t conversation_id, int64_t *id)
{
    return s->ops->outbox->message_last_out(s, conversation_id, id);
}

enum err store_message_settle(struct store *s, int64_t id, const struct store_message_settle *u,
                              int64_t now_ms, bool *changed)
{
    return s->ops->outbox->message_settle(s, id, u, now_ms, changed);
}

enum err store_conversation_disclose(struct store *s, int64_t conversation_id, int64_t now_ms,
                                     bool *first)
{
    return s->ops->outbox->conversation_disclose(s, conversation_id, now_ms, first);
}

/* ---- the dashboard: bus, audit log, sign-in throttling, pages ---- */

enum err store_bus_read(struct store *s, struct arena *a, int64_t after_id, size_t max,
                        struct store_bus_event **out, size_t *n)
{
    if (max > STORE_BUS_READ_MAX)
        max = STORE_BUS_READ_MAX;
    return s->ops->dash->bus_read(s, a, after_id, max, out, n);
}

enum err store_bus_bounds(struct store *s, int64_t *oldest, int64_t *newest)
{
    return s->ops->dash->bus_bounds(s, oldest, newest);
}

enum err store_bus_prune(struct store *s, int64_t cutoff_ms, int64_t *n)
{
    int64_t k = 0;
    enum err rc = s->ops->dash->bus_prune(s, cutoff_ms, &k);
    if (n)
        *n = k;
    return rc;
}

static pthread_mutex_t bus_lock = PTHREAD_MUTEX_INITIALIZER;
static store_bus_notify_fn *bus_fn;
static void *bus_ctx;

void store_bus_listen(store_bus_notify_fn *fn, void *ctx)
{
    pthread_mutex_lock(&bus_lock);
    bus_fn = fn;
    bus_ctx = ctx;
    pthread_mutex_unlock(&bus_lock);
}

void store_bus_ring(void)
{
    pthread_mutex_lock(&bus_lock);
    if (bus_fn)
        bus_fn(bus_ctx);
    pthread_mutex_unlock(&bus_lock);
}

enum err store_audit_add(struct store *s, int64_t operator_id, const char *action,
                         const char *target, const char *detail, int64_t now_ms)
{
    return s->ops->dash->audit_add(s, operator_id, action, target, detail, now_ms);
}

enum err store_audit_list(struct store *s, struct arena *a, int64_t before_id, size_t max,
                          struct store_audit **out, size_t *n)
{
    return s->ops->dash->audit_list(s, a, before_id, max, out, n);
}

enum err store_login_failures(struct store *s, const char *key, int64_t now_ms, int64_t window_ms,
                              int64_t *failures, int64_t *first_at)
{
    return s->ops->dash->login_failures(s, key, now_ms, window_ms, false, failures, first_at);
}

enum err store_login_failure_add(struct store *s, const char *key, int64_t now_ms,
                                 int64_t window_ms, int64_t *failures, int64_t *first_at)
{
    return s->ops->dash->login_failures(s, key, now_ms, window_ms, true, failures, first_at);
}

enum err store_login_failures_clear(struct store *s, const char *key)
{
    return s->ops->dash->login_failures_clear(s, key);
}

enum err store_conversation_ids(struct store *s, enum store_conv_filter f, int64_t now_ms,
                                int64_t before_at, int64_t before_id, size_t max, int64_t *ids,
                                size_t *n)
{
    return s->ops->dash->conversation_ids(s, f, now_ms, before_at, before_id, max, ids, n);
}

enum err store_conversation_counts(struct store *s, int64_t now_ms,
                                   struct store_conv_count out[STORE_CONV_FILTERS])
{
    return s->ops->dash->conversation_counts(s, now_ms, out);
}

enum err store_conversation_mark_read(struct store *s, int64_t conversation_id, int64_t now_ms,
                                      bool *changed)
{
    return s->ops->dash->conversation_mark_read(s, conversation_id, now_ms, changed);
}

enum err store_messages_page(struct store *s, struct arena *a, int64_t conversation_id,
                             int64_t before_id, int64_t after_id, size_t max,
                             struct store_message **out, size_t *n, bool *more)
{
    return s->ops->dash->messages_page(s, a, conversation_id, before_id, after_id, max, out, n,
                                       more);
}

enum err store_message_set_operator(struct store *s, int64_t message_id, int64_t operator_id)
{
    return s->ops->dash->message_set_operator(s, message_id, operator_id);
}

enum err store_account_delete(struct store *s, int64_t id)
{
    return s->ops->dash->account_delete(s, id);
}

enum err store_messages_before(struct store *s, struct arena *a, int64_t conversation_id,
                               int64_t before_id, size_t max, struct store_message **out, size_t *n)
{
    return s->ops->agent->messages_before(s, a, conversation_id, before_id, max, out, n);
}

enum err store_agent_facts(struct store *s, struct arena *a, int64_t conversation_id,
                           struct store_agent_facts *out)
{
    return s->ops->agent->agent_facts(s, a, conversation_id, out);
}

enum err store_message_set_sentiment(struct store *s, int64_t message_id, double score)
{
    return s->ops->agent->message_set_sentiment(s, message_id, score);
}

enum err store_llm_usage_add(struct store *s, int64_t conversation_id, const char *model,
                             int64_t prompt_tokens, int64_t completion_tokens, int64_t now_ms)
{
    return s->ops->agent->llm_usage_add(s, conversation_id, model, prompt_tokens, completion_tokens,
                                        now_ms);
}

/* ---- the messaging pipeline: send pauses, liveliness, comments ---- */

enum err store_account_pause_sends(struct store *s, int64_t id, int64_t until_ms, int64_t now_ms)
{
    return s->ops->pipeline->account_pause_sends(s, id, until_ms, now_ms);
}

enum err store_account_seen(struct store *s, int64_t id, int64_t ts_ms, int64_t now_ms)
{
    return s->ops->pipeline->account_seen(s, id, ts_ms, now_ms);
}

enum err store_account_set_silent(struct store *s, int64_t id, int64_t since_ms, int64_t now_ms,
                                  bool *changed)
{
    return s->ops->pipeline->account_set_silent(s, id, since_ms, now_ms, changed);
}

enum err store_message_id_by_mid(struct store *s, int64_t conversation_id, const char *mid,
                                 int64_t *id)
{
    return s->ops->pipeline->message_id_by_mid(s, conversation_id, mid, id);
}

enum err store_comment_insert(struct store *s, const struct store_comment_new *c, int64_t now_ms,
                              int64_t *id)
{
    return s->ops->pipeline->comment_insert(s, c, now_ms, id);
}

enum err store_comment_get(struct store *s, struct arena *a, int64_t id, struct store_comment *out)
{
    struct store_comment *rows = NULL;
    size_t n = 0;
    enum err rc = s->ops->pipeline->comments_read(s, a, id, 0, 1, &rows, &n);
    if (rc == ERR_OK && n == 0)
        rc = ERR_NOT_FOUND;
    if (rc == ERR_OK)
        *out = rows[0];
    return rc;
}

enum err store_comments_list(struct store *s, struct arena *a, int64_t account_id, size_t max,
                             struct store_comment **out, size_t *n)
{
    return s->ops->pipeline->comments_read(s, a, 0, account_id, max, out, n);
}

enum err store_comment_settle(struct store *s, int64_t id, const struct store_comment_settle *u,
                              int64_t now_ms)
{
    return s->ops->pipeline->comment_settle(s, id, u, now_ms);
}
