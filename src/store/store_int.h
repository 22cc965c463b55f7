/*
 * store/store_int.h - what the store's own files share: the backend vtable.
 * Nothing outside src/store/ includes this.
 */
#ifndef SB_STORE_INT_H
#define SB_STORE_INT_H

#include "store/store.h"

/* Conversations, messages and settings (sqlite_inbox.c), kept apart so the main table stays
 * short. */
struct store_inbox_ops {
    enum err (*account_route)(struct store *s, enum store_platform p, const char *external_id,
                              int64_t *account_id);
    enum err (*conversation_ensure)(struct store *s, int64_t account_id, const char *scoped_id,
                                    int64_t now_ms, int64_t *conversation_id, bool *created);
    enum err (*message_insert)(struct store *s, const struct store_message_new *m, int64_t now_ms,
                               int64_t *id);
    enum err (*message_echo_match)(struct store *s, int64_t conversation_id, const char *mid,
                                   const char *correlation, int64_t meta_ts, int64_t now_ms,
                                   int64_t *id);
    enum err (*message_mark_deleted)(struct store *s, int64_t conversation_id, const char *mid,
                                     int64_t now_ms, bool *changed);
    enum err (*message_edit)(struct store *s, int64_t conversation_id, const char *mid,
                             const char *text, int64_t num_edit, int64_t ts_ms, int64_t now_ms,
                             bool *changed);
    enum err (*message_react)(struct store *s, int64_t conversation_id, const char *mid,
                              const char *reaction, const char *emoji, bool is_unreact,
                              int64_t ts_ms, int64_t now_ms, bool *changed);
    enum err (*conversation_touch)(struct store *s, int64_t conversation_id,
                                   const struct store_conversation_touch *t, int64_t now_ms);
    enum err (*conversation_set_mode)(struct store *s, int64_t conversation_id,
                                      const char *from_mode, const char *to_mode,
                                      const char *reason, int64_t now_ms, bool *changed);
    enum err (*conversations_list)(struct store *s, struct arena *a, const char *mode, int64_t id,
                                   size_t max, struct store_conversation **out, size_t *n);
    enum err (*messages_list)(struct store *s, struct arena *a, int64_t conversation_id,
                              int64_t after_id, size_t max, struct store_message **out, size_t *n);
    enum err (*setting_get)(struct store *s, struct arena *a, const char *key, const char **value);
    enum err (*setting_set)(struct store *s, const char *key, const char *value, int64_t now_ms);
};

/* The outbox: our replies' rows as the turn and the sender move them (sqlite_outbox.c). */
struct store_outbox_ops {
    enum err (*message_get)(struct store *s, struct arena *a, int64_t id,
                            struct store_message *out);
    enum err (*message_last_out)(struct store *s, int64_t conversation_id, int64_t *id);
    enum err (*message_settle)(struct store *s, int64_t id, const struct store_message_settle *u,
                               int64_t now_ms, bool *changed);
    enum err (*conversation_disclose)(struct store *s, int64_t conversation_id, int64_t now_ms,
                                      bool *first);
};

/* The dashboard's rows: bus, audit log, sign-in throttling, pages (sqlite_dash.c). */
struct store_dash_ops {
    enum err (*bus_read)(struct store *s, struct arena *a, int64_t after_id, size_t max,
                         struct store_bus_event **out, size_t *n);
    enum err (*bus_bounds)(struct store *s, int64_t *oldest, int64_t *newest);
    enum err (*bus_prune)(struct store *s, int64_t cutoff_ms, int64_t *n);
    enum err (*audit_add)(struct store *s, int64_t operator_id, const char *action,
                          const char *target, const char *detail, int64_t now_ms);
    enum err (*audit_list)(struct store *s, struct arena *a, int64_t before_id, size_t max,
                           struct store_audit **out, size_t *n);
    enum err (*login_failures)(struct store *s, const char *key, int64_t now_ms, int64_t window_ms,
                               bool add, int64_t *failures, int64_t *first_at);
    enum err (*login_failures_clear)(struct store *s, const char *key);
    enum err (*conversation_ids)(struct store *s, enum store_conv_filter f, int64_t now_ms,
                                 int64_t before_at, int64_t before_id, size_t max, int64_t *ids,
                                 size_t *n);
    enum err (*conversation_counts)(struct store *s, int64_t now_ms,
                                    struct store_conv_count out[STORE_CONV_FILTERS]);
    enum err (*conversation_mark_read)(struct store *s, int64_t conversation_id, int64_t now_ms,
                                       bool *changed);
    enum err (*messages_page)(struct store *s, struct arena *a, int64_t conversation_id,
                              int64_t before_id, int64_t after_id, size_t max,
                              struct store_message **out, size_t *n, bool *more);
    enum err (*message_set_operator)(struct store *s, int64_t message_id, int64_t operator_id);
    enum err (*account_delete)(struct store *s, int64_t id);
};

/* Who answers a conversation (sqlite_handoff.c). */
struct store_handoff_ops {
    enum err (*conversation_change_mode)(struct store *s, int64_t conversation_id,
                                         const struct store_mode_change *c, int64_t now_ms,
                                         bool *changed);
    enum err (*operator_pick_online)(struct store *s, int64_t since_ms, int64_t now_ms,
                                     int64_t *operator_id);
};

/* The agent's context and records (sqlite_agent.c). */
struct store_agent_ops {
    enum err (*messages_before)(struct store *s, struct arena *a, int64_t conversation_id,
                                int64_t before_id, size_t max, struct store_message **out,
                                size_t *n);
    enum err (*agent_facts)(struct store *s, struct arena *a, int64_t conversation_id,
                            struct store_agent_facts *out);
    enum err (*message_set_sentiment)(struct store *s, int64_t message_id, double score);
    enum err (*llm_usage_add)(struct store *s, int64_t conversation_id, const char *model,
                              int64_t prompt_tokens, int64_t completion_tokens, int64_t now_ms);
};

/* The messaging pipeline: send pauses, liveliness, comments (sqlite_pipeline.c). */
struct store_pipeline_ops {
    enum err (*account_pause_sends)(struct store *s, int64_t id, int64_t until_ms, int64_t now_ms);
    enum err (*account_seen)(struct store *s, int64_t id, int64_t ts_ms, int64_t now_ms);
    enum err (*account_set_silent)(struct store *s, int64_t id, int64_t since_ms, int64_t now_ms,
                                   bool *changed);
    enum err (*message_id_by_mid)(struct store *s, int64_t conversation_id, const char *mid,
                                  int64_t *id);
    enum err (*comment_insert)(struct store *s, const struct store_comment_new *c, int64_t now_ms,
                               int64_t *id);
    enum err (*comments_read)(struct store *s, struct arena *a, int64_t id, int64_t account_id,
                              size_t max, struct store_comment **out, size_t *n);
    enum err (*comment_settle)(struct store *s, int64_t id, const struct store_comment_settle *u,
                               int64_t now_ms);
};

/* Posts and the media store (sqlite_posts.c). */
struct store_posts_ops {
    enum err (*post_insert)(struct store *s, const struct store_post *p, int64_t now_ms,
                            int64_t *id);
    enum err (*post_get)(struct store *s, struct arena *a, int64_t id, struct store_post *out);
    enum err (*post_save)(struct store *s, const struct store_post *p, const char *expect_state,
                          int64_t now_ms, bool *changed);
    enum err (*post_item_save)(struct store *s, int64_t post_id, const struct store_post_item *it);
    enum err (*posts_list)(struct store *s, struct arena *a, int64_t account_id, int64_t before_id,
                           size_t max, struct store_post **out, size_t *n);
    enum err (*posts_published_since)(struct store *s, int64_t account_id, int64_t since_ms,
                                      int64_t *times, size_t max, size_t *n);
    enum err (*quota_set)(struct store *s, int64_t account_id, const struct store_quota *q);
    enum err (*quota_get)(struct store *s, int64_t account_id, struct store_quota *q);
    enum err (*media_put)(struct store *s, struct arena *a, struct store_media *m);
    enum err (*media_get)(struct store *s, struct arena *a, const char *id,
                          struct store_media *out);
    enum err (*media_unused)(struct store *s, struct arena *a, int64_t now_ms, size_t max,
                             struct store_media **out, size_t *n);
    enum err (*media_delete)(struct store *s, const char *id);
    enum err (*source_in_use)(struct store *s, const char *source, bool *in_use);
};

struct store_ops {
    void (*free)(struct store *s);
    enum err (*exec)(struct store *s, const char *sql); /* savepoints */
    enum err (*begin)(struct store *s);
    enum err (*commit)(struct store *s);
    void (*rollback)(struct store *s);
    enum err (*migrate)(struct store *s, int *from, int *to);
    enum err (*schema_version)(struct store *s, int *version);
    void (*checkpoint)(struct store *s);
    enum err (*jobs_insert)(struct store *s, const struct store_job_new *jobs, size_t n,
                            int64_t now_ms, int64_t *ids);
    enum err (*jobs_claim)(struct store *s, const char *const *kinds, size_t n_kinds,
                           int64_t now_ms, int64_t lease_ms, const char *owner, size_t max,
                           struct arena *a, struct store_job *out, size_t *n_out);
    enum err (*job_finish)(struct store *s, int64_t id, const char *owner, int64_t now_ms);
    enum err (*job_retry)(struct store *s, int64_t id, const char *owner, int64_t run_at_ms,
                          const char *error);
    enum err (*job_extend)(struct store *s, int64_t id, const char *owner, int64_t until_ms);
    enum err (*job_defer)(struct store *s, int64_t id, const char *owner, int64_t run_at_ms,
                          int64_t now_ms);
    enum err (*job_bury)(struct store *s, int64_t id, const char *owner, const char *reason,
                         int64_t now_ms);
    enum err (*jobs_lease_owners)(struct store *s, struct arena *a, const char **out, size_t max,
                                  size_t *n_out);
    enum err (*jobs_release_owner)(struct store *s, const char *owner, int64_t now_ms, int64_t *n);
    enum err (*jobs_prune)(struct store *s, int64_t cutoff_ms, int64_t *n);
    enum err (*queue_stats)(struct store *s, int64_t now_ms, struct store_queue_stats *st);
    enum err (*jobs_next_due)(struct store *s, int64_t *run_at_ms);
    enum err (*journal_offsets)(struct store *s, struct arena *a, struct store_journal_offset *out,
                                size_t max, size_t *n_out);
    enum err (*journal_offset_set)(struct store *s, const char *segment, int64_t offset);
    enum err (*dead_letter_add)(struct store *s, const char *source, const char *kind,
                                const char *reason, const void *payload, size_t len,
                                int64_t now_ms);
    enum err (*dead_letters_list)(struct store *s, size_t max, struct arena *a,
                                  struct store_dead_letter *out, size_t *n_out);
    enum err (*event_insert)(struct store *s, const struct store_event *ev, int64_t now_ms,
                             int64_t *id);
    enum err (*events_count)(struct store *s, int64_t *n);
    enum err (*events_recent)(struct store *s, size_t max, struct arena *a, struct store_event *out,
                              size_t *n_out);
    /* operators, sessions, OAuth states (sqlite_people.c) */
    enum err (*operator_add)(struct store *s, const char *email, const char *hash, const char *role,
                             int64_t now_ms, int64_t *id);
    enum err (*operator_get)(struct store *s, struct arena *a, const char *email, int64_t id,
                             struct store_operator *out);
    enum err (*session_add)(struct store *s, const struct store_session *ss);
    enum err (*session_get)(struct store *s, struct arena *a, const char *id_hash, int64_t now_ms,
                            struct store_session *out);
    enum err (*session_touch)(struct store *s, const char *id_hash, int64_t now_ms,
                              int64_t expires_at);
    enum err (*session_delete)(struct store *s, const char *id_hash);
    enum err (*oauth_state_add)(struct store *s, const char *state_hash, const char *session_hash,
                                int64_t now_ms, int64_t expires_at);
    enum err (*oauth_state_take)(struct store *s, const char *state_hash, const char *session_hash,
                                 int64_t now_ms);
    /* connected accounts (sqlite_accounts.c); the reconnect rule lives in accounts.c */
    enum err (*account_get)(struct store *s, struct arena *a, enum store_platform p,
                            const char *external_id, int64_t id, struct store_account *out);
    enum err (*account_insert)(struct store *s, const struct store_account_new *in, int64_t now_ms,
                               int64_t *id);
    enum err (*account_update)(struct store *s, int64_t id, const struct store_account_new *in,
                               bool with_token, int64_t now_ms);
    enum err (*accounts_list)(struct store *s, struct arena *a, struct store_account **out,
                              size_t *n);
    enum err (*account_set_status)(struct store *s, int64_t id, enum store_account_status st,
                                   const char *reason, int64_t now_ms);
    enum err (*account_set_subscription)(struct store *s, int64_t id, const char *fields,
                                         int64_t now_ms);
    enum err (*account_tokens)(struct store *s, struct arena *a, int64_t after_id, size_t max,
                               struct store_sealed_token *out, size_t *n);
    enum err (*account_token_swap)(struct store *s, int64_t id, const unsigned char *old,
                                   size_t old_len, const unsigned char *new_enc, size_t new_len,
                                   bool *swapped);
    /* privacy: deletion requests, one person's data (sqlite_privacy.c) */
    enum err (*deletion_add)(struct store *s, const struct store_deletion *d);
    enum err (*deletion_get)(struct store *s, struct arena *a, const char *code,
                             struct store_deletion *out);
    enum err (*deletion_finish)(struct store *s, const char *code, const char *status,
                                const char *detail, int64_t now_ms);
    enum err (*privacy_erase)(struct store *s, const char *user_id, const char *reason,
                              int64_t now_ms, struct store_privacy_counts *out);
    enum err (*privacy_revoke)(struct store *s, const char *user_id, const char *reason,
                               int64_t now_ms, int64_t *n);
    enum err (*privacy_export)(struct store *s, const char *user_id, store_row_fn *fn, void *ctx);
    /* knowledge base (sqlite_kb.c) */
    enum err (*kb_doc_get)(struct store *s, struct arena *a, const char *path,
                           struct store_kb_doc *out);
    enum err (*kb_doc_put)(struct store *s, const struct store_kb_doc_new *d, int64_t now_ms,
                           int64_t *id);
    enum err (*kb_doc_delete)(struct store *s, const char *path);
    enum err (*kb_docs_list)(struct store *s, struct arena *a, const char *prefix,
                             struct store_kb_doc **out, size_t *n);
    enum err (*kb_search)(struct store *s, struct arena *a, const char *match,
                          const char *rank_match, size_t max, struct store_kb_hit *out, size_t *n);
    enum err (*kb_doc_freq)(struct store *s, const char *phrase, int64_t cap, int64_t *n);
    enum err (*kb_chunks_get)(struct store *s, struct arena *a, const int64_t *ids, size_t n_ids,
                              struct store_kb_hit *out, size_t *n);
    enum err (*kb_vectors)(struct store *s, const char *model, store_kb_vec_fn *fn, void *ctx);
    enum err (*kb_version)(struct store *s, int64_t *version);
    const struct store_inbox_ops *inbox;
    const struct store_outbox_ops *outbox;
    const struct store_dash_ops *dash;
    const struct store_handoff_ops *handoff;
    const struct store_agent_ops *agent;
    const struct store_pipeline_ops *pipeline;
    const struct store_posts_ops *posts;
};

struct store {
    const struct store_ops *ops;
    int tx_depth;
};

/* Backends: each returns a struct that begins with struct store. */
enum err store_sqlite_open(const struct store_opts *opts, struct store **out);

#endif
