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
/* Puts the job back to run at run_at_ms without counting this attempt (the job did not run:
 * it waits for something outside it, e.g. Meta's throttling of its account). */
MUST_USE enum err store_job_defer(struct store *s, int64_t id, const char *owner, int64_t run_at_ms,
                                  int64_t now_ms);
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

/* ---- connected accounts: Facebook Pages and Instagram accounts (store/accounts.c) ----
 *
 * One row per (platform, external_id). The access token is stored only sealed (core/keys.h:
 * AES-256-GCM under the master key) with the associated data "<platform>:<external_id>"
 * ("messenger:104000000000001"), which stays the same across reconnects and key rotations.
 * The store never sees a plaintext token; meta/vault.h seals and opens. An Instagram
 * account's token is its Page's token; its page_id names that Page. Times are Unix ms. */

enum store_platform { STORE_MESSENGER, STORE_INSTAGRAM };
enum store_account_status {
    STORE_ACCOUNT_ACTIVE,
    STORE_ACCOUNT_NEEDS_RECONNECT, /* the token died (code 190): an operator must reconnect */
    STORE_ACCOUNT_REVOKED,         /* the user removed the app (deauthorize) */
};

/* "messenger" / "instagram"; "active" / "needs_reconnect" / "revoked". */
const char *store_platform_name(enum store_platform p);
const char *store_account_status_name(enum store_account_status st);
/* ERR_INVALID for any other text. */
MUST_USE enum err store_platform_parse(const char *s, enum store_platform *out);

#define STORE_ACCOUNTS_MAX  1000 /* store_accounts_list() answers ERR_TOO_LARGE past this */
#define STORE_TOKEN_AAD_MAX 96   /* "instagram:" + an id, with room to spare */

/* "<platform>:<external_id>" into out; false when it does not fit (an absurd id). */
bool store_token_aad(enum store_platform p, const char *external_id, char *out, size_t cap);

struct store_account {
    int64_t id;
    enum store_platform platform;
    const char *external_id; /* Page id or Instagram professional account id */
    const char *page_id;     /* Instagram: the linked Page; Messenger: the Page itself */
    const char *name, *username, *picture_url; /* NULL when unknown */
    const unsigned char *token_enc;            /* sealed token, NULL when none */
    size_t token_enc_len;
    int64_t token_expires_at;       /* 0: never expires */
    int64_t data_access_expires_at; /* 0: unknown */
    const char *user_id;            /* app-scoped id of the person who connected it */
    const char *scopes;             /* granted scopes, comma-separated, sorted; NULL unknown */
    enum store_account_status status;
    const char *status_reason;     /* plain words, NULL when active */
    const char *subscribed_fields; /* webhook fields as read back from Meta, comma-separated */
    int64_t subscribed_at;         /* 0: never confirmed */
    int64_t created_at, updated_at;
    /* the messaging pipeline (store_account_pause_sends, store_account_seen) */
    int64_t send_paused_until; /* Meta throttles it: no send before this; 0 none */
    int64_t last_event_at;     /* Meta's time of its newest event; 0 never */
    int64_t event_gap_ms;      /* its usual time between events (moving average); 0 unknown */
    int64_t silent_since;      /* the silent-account alert is raised; 0 not */
};

/* What a (re)connect brings for one account: the profile and a freshly sealed token. */
struct store_account_new {
    enum store_platform platform;
    const char *external_id, *page_id, *name, *username, *picture_url;
    const unsigned char *token_enc; /* sealed with store_token_aad(); never empty */
    size_t token_enc_len;
    int64_t token_expires_at, data_access_expires_at;
    const char *user_id, *scopes;
};

/* The rule "a reconnect never overwrites a good token with an empty or worse one", as one
 * pure function. stored: the row's token facts (has_token false when there is no row or no
 * token); incoming: the new token's. Pure: any thread. */
struct store_token_facts {
    bool has_token;
    int64_t expires_at; /* 0: never */
    const char *scopes; /* comma-separated; NULL or "" = none known */
    enum store_account_status status;
};
enum store_token_verdict {
    STORE_TOKEN_REPLACE,     /* take the incoming token */
    STORE_TOKEN_KEEP_EMPTY,  /* the incoming token is empty */
    STORE_TOKEN_KEEP_EXPIRY, /* it expires (sooner) where the stored one lasts (longer) */
    STORE_TOKEN_KEEP_SCOPES, /* it lacks a scope the stored one has */
};
/* The stored token is replaced when it is missing, known dead (status needs_reconnect or
 * revoked, or expired at now_ms), or when the incoming one is at least as good: not empty, not
 * expiring sooner (never > any date; a later date > an earlier one), and holding every scope
 * the stored one holds. */
enum store_token_verdict store_token_compare(const struct store_token_facts *stored,
                                             const struct store_token_facts *incoming,
                                             int64_t now_ms);
const char *store_token_verdict_name(enum store_token_verdict v);

/* Inserts or updates the account by (platform, external_id) in one transaction. The profile
 * (page_id, name, username, picture_url) is always updated; the token fields (token_enc,
 * expiries, user_id, scopes) only when store_token_compare() says REPLACE, and then the
 * status goes back to active. *id receives the row id; *verdict (may be NULL) what happened
 * to the token. ERR_INVALID: no external_id, or no token for a new row. */
MUST_USE enum err store_account_upsert(struct store *s, const struct store_account_new *in,
                                       int64_t now_ms, int64_t *id,
                                       enum store_token_verdict *verdict);
/* One account with its sealed token, strings and bytes in the arena. ERR_NOT_FOUND. */
MUST_USE enum err store_account_get(struct store *s, struct arena *a, enum store_platform p,
                                    const char *external_id, struct store_account *out);
MUST_USE enum err store_account_by_id(struct store *s, struct arena *a, int64_t id,
                                      struct store_account *out);
/* Every account, Pages first then Instagram, by external id; array in the arena (*out NULL
 * when *n is 0). ERR_TOO_LARGE past STORE_ACCOUNTS_MAX. */
MUST_USE enum err store_accounts_list(struct store *s, struct arena *a, struct store_account **out,
                                      size_t *n);
/* Sets the status and its reason (plain words, no token; NULL clears). ERR_NOT_FOUND. */
MUST_USE enum err store_account_set_status(struct store *s, int64_t id,
                                           enum store_account_status st, const char *reason,
                                           int64_t now_ms);
/* Records the webhook fields read back from Meta (comma-separated; "" = none) at now_ms. */
MUST_USE enum err store_account_set_subscription(struct store *s, int64_t id, const char *fields,
                                                 int64_t now_ms);

/* Key rotation (meta/vault.h drives it; safe while a server runs). */
struct store_sealed_token {
    int64_t id;
    enum store_platform platform;
    const char *external_id;
    const unsigned char *token_enc;
    size_t token_enc_len;
};
/* Up to max rows with a token and id > after_id, in id order (bytes in the arena). */
MUST_USE enum err store_account_tokens(struct store *s, struct arena *a, int64_t after_id,
                                       size_t max, struct store_sealed_token *out, size_t *n);
/* Compare-and-swap: replaces token_enc only while it still equals old (a reconnect in the
 * meantime wins). *swapped says whether it did. Call inside store_begin()/store_commit() to
 * swap a batch at once. */
MUST_USE enum err store_account_token_swap(struct store *s, int64_t id, const unsigned char *old,
                                           size_t old_len, const unsigned char *new_enc,
                                           size_t new_len, bool *swapped);

/* ---- privacy: deletion requests and everything stored about one person (sqlite_privacy.c)
 *
 * A person is named by their app-scoped user id (Meta's signed_request user_id): the
 * accounts they connected carry it in user_id, a customer's contact rows in user_id (when
 * known) next to the page-scoped id (PSID/IGSID) the webhooks use. */

struct store_deletion {
    const char *code;    /* the confirmation code */
    const char *user_id; /* app-scoped user id */
    const char *kind;    /* "meta" (the callback) or "cli" */
    const char *status;  /* "pending", "completed" or "failed" */
    const char *detail;  /* completed: JSON counts (store_privacy_counts); failed: the reason */
    int64_t created_at, completed_at; /* completed_at 0 while pending */
};

/* ERR_CONFLICT when the code exists. */
MUST_USE enum err store_deletion_add(struct store *s, const struct store_deletion *d);
/* ERR_NOT_FOUND when absent. Strings in the arena. */
MUST_USE enum err store_deletion_get(struct store *s, struct arena *a, const char *code,
                                     struct store_deletion *out);
/* Sets status, detail and completed_at. ERR_NOT_FOUND when absent. */
MUST_USE enum err store_deletion_finish(struct store *s, const char *code, const char *status,
                                        const char *detail, int64_t now_ms);

struct store_privacy_counts {
    int64_t accounts; /* connections the person made: token, scopes and their id erased */
    int64_t contacts, conversations, messages;
    int64_t events;       /* raw webhook events sent by or to the person's scoped ids */
    int64_t dead_letters; /* unusable webhook bodies that mention those ids */
    int64_t comments;     /* their comments on the business's posts (the rows, not Meta's) */
};

/* Erases everything stored about user_id, in the caller's transaction (call inside
 * store_begin()/store_commit() so a crash undoes all of it or none): as a customer, their
 * contacts, those contacts' conversations and messages, and the events and dead letters that
 * carry the contacts' scoped ids; as an admin who connected accounts, the token, expiries,
 * scopes and their id on those accounts, which become 'revoked' with reason. The accounts
 * and the conversations under them stay: they are the business's records, not the admin's.
 * Running it again finds nothing more (idempotent). */
MUST_USE enum err store_privacy_erase(struct store *s, const char *user_id, const char *reason,
                                      int64_t now_ms, struct store_privacy_counts *out);
/* Deauthorization: every account connected by user_id becomes 'revoked' with reason and
 * loses its token; *n receives how many. */
MUST_USE enum err store_privacy_revoke(struct store *s, const char *user_id, const char *reason,
                                       int64_t now_ms, int64_t *n);

/* One column of an exported row. Text is NUL-terminated and lives until the callback
 * returns; blobs arrive as STORE_V_TEXT when they are valid UTF-8 and are skipped otherwise. */
enum store_value_type { STORE_V_NULL, STORE_V_INT, STORE_V_REAL, STORE_V_TEXT };
struct store_field {
    const char *name;
    enum store_value_type type;
    int64_t i;
    double d;
    const char *text;
    size_t len;
};
typedef enum err store_row_fn(void *ctx, const char *table, const struct store_field *fields,
                              size_t n_fields);
/* Calls fn once per row stored about user_id, table by table ("accounts", "contacts",
 * "conversations", "messages", "events", "comments", "dead_letters", "deletion_requests").
 * Tokens and any other sealed column (*_enc) are never passed. A non-OK return from fn stops the
 * walk and is returned. */
MUST_USE enum err store_privacy_export(struct store *s, const char *user_id, store_row_fn *fn,
                                       void *ctx);

/* ---- conversations and messages (sqlite_inbox.c; inbox/ owns the rules) ----
 *
 * A contact is one customer of one account (PSID or IGSID); a conversation is that
 * contact's thread with the account. Messages are unique per (conversation, Meta mid).
 * The sender (later) sets a row's correlation and passes it to the Send API as `metadata`,
 * so an echo that arrives before the Send API call returns finds its row by it. */

/* The connected account a webhook entry id names. ERR_NOT_FOUND: not ours (never guessed). */
MUST_USE enum err store_account_route(struct store *s, enum store_platform p,
                                      const char *external_id, int64_t *account_id);
/* The conversation of (account, scoped_id), creating the contact and the conversation (mode
 * ai) when missing. *created (may be NULL) says whether the conversation is new. */
MUST_USE enum err store_conversation_ensure(struct store *s, int64_t account_id,
                                            const char *scoped_id, int64_t now_ms,
                                            int64_t *conversation_id, bool *created);

struct store_message_new {
    int64_t conversation_id;
    const char *direction; /* "in" or "out" */
    const char *author;    /* "customer", "ai", "human", "business", "system" */
    const char *mid;       /* Meta's id; NULL when it has none yet */
    const char *text;
    const char *attachments, *reply_to, *meta; /* JSON text or NULL */
    const char *status; /* "received", "queued", "sending", "sent", "failed", "deleted" */
    const char *messaging_type, *tag, *correlation; /* NULL when none */
    int64_t meta_ts;                                /* Meta's time (ms); 0 unknown */
};
/* Inserts the message. *id receives its id, or 0 when (conversation, mid) already exists
 * (then nothing changed: not an error). */
MUST_USE enum err store_message_insert(struct store *s, const struct store_message_new *m,
                                       int64_t now_ms, int64_t *id);
/* An echo of one of our own sends: the outgoing row with this mid, else the oldest outgoing
 * row without a mid in status queued, sending or failed whose correlation equals correlation
 * (NULL: skip that step), which takes the mid. Either becomes 'sent' (a deleted row stays
 * deleted) with meta_ts when it had none. *id: the row, 0 when neither exists (nothing
 * changed). */
MUST_USE enum err store_message_echo_match(struct store *s, int64_t conversation_id,
                                           const char *mid, const char *correlation,
                                           int64_t meta_ts, int64_t now_ms, int64_t *id);
/* Updates of an earlier message by (conversation, mid); *changed says whether a row changed
 * (false: no such message, or the update was already applied or is older than the row's). */
MUST_USE enum err store_message_mark_deleted(struct store *s, int64_t conversation_id,
                                             const char *mid, int64_t now_ms, bool *changed);
/* New text; the old text is appended to meta.edits, meta.num_edit records num_edit, and an
 * edit whose num_edit is not above the stored one is ignored. */
MUST_USE enum err store_message_edit(struct store *s, int64_t conversation_id, const char *mid,
                                     const char *text, int64_t num_edit, int64_t ts_ms,
                                     int64_t now_ms, bool *changed);
/* Records meta.reaction = {action: react|unreact, reaction, emoji, at}; one older than the
 * stored one is ignored. */
MUST_USE enum err store_message_react(struct store *s, int64_t conversation_id, const char *mid,
                                      const char *reaction, const char *emoji, bool is_unreact,
                                      int64_t ts_ms, int64_t now_ms, bool *changed);

/* What one event does to its conversation; every field only ever moves forward, so applying
 * it twice, or after a newer one, changes nothing. */
struct store_conversation_touch {
    int64_t customer_at;    /* a customer action Meta counts for the window; 0: none */
    int64_t message_at;     /* a stored message's time; 0: none */
    int unread;             /* added to unread */
    int standby;            /* -1 unchanged; 1 another app owns the thread; 0 we do */
    int64_t standby_at;     /* the event's time, for standby */
    int64_t read_watermark; /* Messenger read watermark (ms); 0: none */
    const char *read_mid;   /* Instagram: the message seen; NULL: none */
    int64_t read_at;        /* the read event's time */
};
MUST_USE enum err store_conversation_touch(struct store *s, int64_t conversation_id,
                                           const struct store_conversation_touch *t,
                                           int64_t now_ms);
/* mode from_mode -> to_mode with reason (plain words), only while the mode is from_mode;
 * *changed says whether it was. */
MUST_USE enum err store_conversation_set_mode(struct store *s, int64_t conversation_id,
                                              const char *from_mode, const char *to_mode,
                                              const char *reason, int64_t now_ms, bool *changed);

struct store_conversation {
    int64_t id, account_id, contact_id;
    enum store_platform platform;
    const char *account_external_id, *account_name; /* name: @username or Page name; NULL */
    const char *scoped_id, *contact_name, *contact_username; /* names NULL when unknown */
    const char *mode;                                        /* "ai", "human", "paused" */
    int64_t last_customer_at, last_message_at;               /* 0: never */
    const char *handoff_reason;                              /* NULL when none */
    int64_t handoff_at, unread;
    bool is_standby; /* another app (Meta's inbox) owns the thread: the AI stays silent */
    int64_t read_watermark, read_at;
    const char *read_mid;
    const char *handoff_cause;    /* machine name of why a person has it; NULL when none */
    int64_t assigned_operator_id; /* the operator who has it; 0 none */
    int64_t handed_back_at;       /* when an operator last gave it back to the AI; 0 never */
};
#define STORE_CONVERSATIONS_MAX 10000
/* Newest activity first, at most max (<= STORE_CONVERSATIONS_MAX); mode NULL: all modes.
 * Array in the arena (*out NULL when *n is 0). */
MUST_USE enum err store_conversations_list(struct store *s, struct arena *a, const char *mode,
                                           size_t max, struct store_conversation **out, size_t *n);
/* ERR_NOT_FOUND when absent. */
MUST_USE enum err store_conversation_get(struct store *s, struct arena *a, int64_t id,
                                         struct store_conversation *out);

struct store_message {
    int64_t id, conversation_id;
    const char *direction, *author, *mid, *text, *attachments, *reply_to, *meta, *status;
    const char *messaging_type, *tag, *correlation;
    int64_t meta_ts, created_at;
    int64_t operator_id;       /* store_messages_page() only: who wrote a human reply; 0 */
    const char *error_message; /* store_messages_page() only: why a send failed; NULL */
    bool has_sentiment; /* a customer message the agent scored (store_message_set_sentiment) */
    double sentiment;   /* -1 (upset) .. 1 (pleased); 0 when !has_sentiment */
};
/* The oldest max messages of a conversation after after_id, in id order; array in the arena. */
MUST_USE enum err store_messages_list(struct store *s, struct arena *a, int64_t conversation_id,
                                      int64_t after_id, size_t max, struct store_message **out,
                                      size_t *n);

/* ---- who answers a conversation (sqlite_handoff.c; inbox/handoff.c owns the rules) ---- */

/* One move of a conversation's mode, applied only while its mode is one of from[]. A move
 * to "ai" clears the handoff (cause, reason, time, operator); any other move sets them. */
struct store_mode_change {
    const char *from[3]; /* the modes it may leave ("ai", "human", "paused"); unused: NULL */
    const char *to;
    const char *cause, *reason; /* machine name and plain words; ignored when to is "ai" */
    int64_t operator_id;        /* > 0: assigned to this operator; 0: none */
    bool is_hand_back;          /* also records handed_back_at and forgets the AI's disclosure */
};
/* *changed is false when the mode was none of from[], or when the move would change nothing
 * (already in mode to with the same operator). ERR_INVALID for a mode name the schema does
 * not know. */
MUST_USE enum err store_conversation_change_mode(struct store *s, int64_t conversation_id,
                                                 const struct store_mode_change *c, int64_t now_ms,
                                                 bool *changed);
/* The online operator to give a conversation to: an active operator with a live session seen
 * at or after since_ms, the one holding the fewest conversations in mode human (then the most
 * recently seen). *operator_id is 0 when nobody is online. */
MUST_USE enum err store_operator_pick_online(struct store *s, int64_t since_ms, int64_t now_ms,
                                             int64_t *operator_id);

/* ---- the outbox (sqlite_outbox.c; inbox/ owns the rules) ---- */

/* One message by id, strings in the arena. ERR_NOT_FOUND when absent. */
MUST_USE enum err store_message_get(struct store *s, struct arena *a, int64_t id,
                                    struct store_message *out);
/* The id of the conversation's newest outgoing message (any author or status); 0: none. */
MUST_USE enum err store_message_last_out(struct store *s, int64_t conversation_id, int64_t *id);

/* What the sender learned about one of our rows. */
struct store_message_settle {
    const char *status; /* "sending", "sent" or "failed" */
    const char *mid;    /* the Send API's message_id; NULL: none */
    int error_code, error_subcode;
    const char *error_message; /* NULL: none (clears the error columns) */
};
/* Moves an outgoing row that is still queued or sending (a row the echo already made sent, or
 * one deleted, stays as it is). mid is taken only where the row has none, or the same one, and
 * no other row of the conversation holds it. *changed says whether the row changed. */
MUST_USE enum err store_message_settle(struct store *s, int64_t id,
                                       const struct store_message_settle *u, int64_t now_ms,
                                       bool *changed);
/* Records that the AI disclosed itself in this conversation; *first is true only for the
 * first call (the caller adds the disclosure to that reply). */
MUST_USE enum err store_conversation_disclose(struct store *s, int64_t conversation_id,
                                              int64_t now_ms, bool *first);

/* Settings (key -> text). ERR_NOT_FOUND when unset; value in the arena. */
MUST_USE enum err store_setting_get(struct store *s, struct arena *a, const char *key,
                                    const char **value);
MUST_USE enum err store_setting_set(struct store *s, const char *key, const char *value,
                                    int64_t now_ms);

/* ---- knowledge base (kb/ owns chunking and ranking; sqlite_kb.c) ---- */

struct store_kb_doc {
    int64_t id;
    const char *path, *title, *sha256;
    const char *embed_model; /* the model of its chunks' vectors; NULL: none */
    int64_t n_chunks, updated_at;
};

struct store_kb_chunk_new {
    const char *heading, *text;
    const float *vec; /* NULL, or the document's dim floats */
};

struct store_kb_doc_new {
    const char *path, *title, *sha256;
    const char *embed_model; /* NULL when the chunks carry no vectors */
    size_t dim;              /* floats per vector */
    const struct store_kb_chunk_new *chunks;
    size_t n_chunks;
};

struct store_kb_hit {
    int64_t chunk_id;
    const char *path, *title, *heading, *text;
    double bm25;      /* FTS5 bm25(): negative, lower is better; 0 from store_kb_chunks_get() */
    uint64_t matched; /* bit i: phrase i of the MATCH expression occurs in the chunk */
};

/* The document stored for path; ERR_NOT_FOUND when none. Strings in the arena. */
MUST_USE enum err store_kb_doc_get(struct store *s, struct arena *a, const char *path,
                                   struct store_kb_doc *out);
/* Replaces the document at d->path and all its chunks (and their index entries) in one
 * transaction; *id receives the new document's id (may be NULL). */
MUST_USE enum err store_kb_doc_put(struct store *s, const struct store_kb_doc_new *d,
                                   int64_t now_ms, int64_t *id);
/* Removes a document and its chunks; ERR_NOT_FOUND when there is none. */
MUST_USE enum err store_kb_doc_delete(struct store *s, const char *path);
/* Documents whose path starts with prefix (NULL: all), ordered by path, as an array in the
 * arena. */
MUST_USE enum err store_kb_docs_list(struct store *s, struct arena *a, const char *prefix,
                                     struct store_kb_doc **out, size_t *n);
/* The best max chunks for an FTS5 MATCH expression over heading (weight 2) and text (weight
 * 1), best first, ranked by rank_match (NULL: match), while each hit's matched bits are for
 * match: a caller that ranks by a query's selective terms still learns which of all its terms
 * a hit holds. The caller builds both from user text safely (kb_query_terms()); FTS5 syntax
 * errors are ERR_INVALID. */
MUST_USE enum err store_kb_search(struct store *s, struct arena *a, const char *match,
                                  const char *rank_match, size_t max, struct store_kb_hit *out,
                                  size_t *n);
/* How many chunks the MATCH expression phrase matches, counting no further than cap (a
 * posting-list walk, no ranking); phrase NULL: how many chunks there are. */
MUST_USE enum err store_kb_doc_freq(struct store *s, const char *phrase, int64_t cap, int64_t *n);
/* The chunks with these ids, in any order; unknown ids are left out. */
MUST_USE enum err store_kb_chunks_get(struct store *s, struct arena *a, const int64_t *ids,
                                      size_t n_ids, struct store_kb_hit *out, size_t *n);
/* Calls fn for every chunk with a vector of model, in chunk id order; vec lives during the
 * call. */
typedef void store_kb_vec_fn(void *ctx, int64_t chunk_id, const float *vec, size_t dim);
MUST_USE enum err store_kb_vectors(struct store *s, const char *model, store_kb_vec_fn *fn,
                                   void *ctx);
/* A number that changes whenever a document is put or deleted, by any process. */
MUST_USE enum err store_kb_version(struct store *s, int64_t *version);

/* ---- the dashboard: live events, audit log, sign-in throttling, pages (sqlite_dash.c) ----
 *
 * THE BUS. Every change to messages, conversations, posts and accounts writes one bus event in
 * the same transaction as the change (SQLite: triggers; PostgreSQL: triggers too, with the id
 * taken at commit under a transaction-level lock so ids stay in commit order, and NOTIFY for the
 * wake-up). So no caller publishes, nothing is lost, and no event is seen before its change.
 * Ids increase in commit order and are never reused, also after pruning: a reader that has
 * every id up to N and asks for more after N misses nothing. An event names rows by id; the
 * reader loads their current state. */

struct store_bus_event {
    int64_t id;
    const char *type;    /* "message.created", "message.updated", "conversation.updated",
                            "post.updated", "account.updated" */
    const char *payload; /* JSON object of ids: conversation_id, message_id, post_id, account_id;
                            "deleted": true when the row is gone */
    int64_t created_at;
};
#define STORE_BUS_READ_MAX 1000
/* Up to max (<= STORE_BUS_READ_MAX) events with id > after_id, in id order; array in the arena
 * (*out NULL when *n is 0). */
MUST_USE enum err store_bus_read(struct store *s, struct arena *a, int64_t after_id, size_t max,
                                 struct store_bus_event **out, size_t *n);
/* *oldest: the oldest id still kept (0: none kept); *newest: the newest id ever given (0: none
 * yet). Ids in (0, oldest) were pruned. */
MUST_USE enum err store_bus_bounds(struct store *s, int64_t *oldest, int64_t *newest);
/* Deletes the events created before cutoff_ms; *n (may be NULL) how many. */
MUST_USE enum err store_bus_prune(struct store *s, int64_t cutoff_ms, int64_t *n);
/* The in-process wake-up: fn(ctx) is called on the committing thread right after any
 * connection of this process commits a transaction that wrote bus events. fn must be quick,
 * must not block and must not use a store. One listener per process; fn NULL removes it (when
 * this returns, fn is no longer running). Other processes' commits do not call it: a reader
 * also polls. */
typedef void store_bus_notify_fn(void *ctx);
void store_bus_listen(store_bus_notify_fn *fn, void *ctx);
/* Called by backends after such a commit (store_int.h's users only). */
void store_bus_ring(void);

/* The audit log: what operators did. action: "login", "takeover", "reply", "hand_back",
 * "settings", "connect", "delete", ...; target: what it was done to ("conversation:12");
 * detail: a JSON object or NULL (never message text or a secret). */
MUST_USE enum err store_audit_add(struct store *s, int64_t operator_id, const char *action,
                                  const char *target, const char *detail, int64_t now_ms);
struct store_audit {
    int64_t id, operator_id;
    const char *operator_email; /* NULL when the operator is gone */
    const char *action, *target, *detail;
    int64_t created_at;
};
/* Newest first: up to max rows with id < before_id (0: from the newest); array in the arena. */
MUST_USE enum err store_audit_list(struct store *s, struct arena *a, int64_t before_id, size_t max,
                                   struct store_audit **out, size_t *n);

/* Sign-in throttling: failures per key ("email:..." or "ip:..."). The count restarts when the
 * first failure of the window is window_ms old. *failures and *first_at (0 when none) are the
 * state after the call. */
MUST_USE enum err store_login_failures(struct store *s, const char *key, int64_t now_ms,
                                       int64_t window_ms, int64_t *failures, int64_t *first_at);
MUST_USE enum err store_login_failure_add(struct store *s, const char *key, int64_t now_ms,
                                          int64_t window_ms, int64_t *failures, int64_t *first_at);
MUST_USE enum err store_login_failures_clear(struct store *s, const char *key);

/* The inbox as the dashboard pages it. */
enum store_conv_filter {
    STORE_CONV_ALL,
    STORE_CONV_NEEDS_HUMAN, /* mode human or paused: a person has it */
    STORE_CONV_AI,          /* mode ai */
    STORE_CONV_CLOSED,      /* no reply allowed: the customer's last message 7 days old or more */
};
#define STORE_CONV_FILTERS 4
/* Ids of up to max conversations of the filter, newest activity first, strictly after the
 * keyset (before_at, before_id) (before_id 0: from the top). */
MUST_USE enum err store_conversation_ids(struct store *s, enum store_conv_filter f, int64_t now_ms,
                                         int64_t before_at, int64_t before_id, size_t max,
                                         int64_t *ids, size_t *n);
struct store_conv_count {
    int64_t total, unread; /* conversations, and those with unread messages */
};
MUST_USE enum err store_conversation_counts(struct store *s, int64_t now_ms,
                                            struct store_conv_count out[STORE_CONV_FILTERS]);
/* Sets unread to 0; *changed whether it was above. */
MUST_USE enum err store_conversation_mark_read(struct store *s, int64_t conversation_id,
                                               int64_t now_ms, bool *changed);
/* Up to max messages of the conversation, oldest first: with id < before_id when before_id > 0
 * (the newest such), else with id > after_id (the oldest such; after_id 0 and before_id 0: the
 * newest max). *more: whether further rows exist in the direction read. Each row's operator_id
 * and error_message are filled. */
MUST_USE enum err store_messages_page(struct store *s, struct arena *a, int64_t conversation_id,
                                      int64_t before_id, int64_t after_id, size_t max,
                                      struct store_message **out, size_t *n, bool *more);
/* Who wrote a human reply. */
MUST_USE enum err store_message_set_operator(struct store *s, int64_t message_id,
                                             int64_t operator_id);
/* Removes an account and, by cascade, its contacts, conversations and messages. ERR_NOT_FOUND. */
MUST_USE enum err store_account_delete(struct store *s, int64_t id);

/* ---- the messaging pipeline: pacing, liveliness, comments (sqlite_pipeline.c; inbox/ owns
 * the rules) ---- */

/* Meta throttles the account (rate-limit codes, usage headers): its sends wait until
 * until_ms. A pause is only ever lengthened; ERR_NOT_FOUND when there is no such account. */
MUST_USE enum err store_account_pause_sends(struct store *s, int64_t id, int64_t until_ms,
                                            int64_t now_ms);

/* The id of the conversation's message with Meta's id mid; *id 0 when there is none. */
MUST_USE enum err store_message_id_by_mid(struct store *s, int64_t conversation_id, const char *mid,
                                          int64_t *id);

/* Comments on the business's posts and media (Instagram comments, Page feed comments). */
struct store_comment_new {
    int64_t account_id;
    const char *comment_id; /* Meta's id */
    const char *parent_id, *media_id;
    const char *from_id, *from_name; /* the commenter's IGSID / PSID and name; NULL unknown */
    const char *text;
    int64_t meta_ts; /* when it was written (ms); 0 unknown */
};
/* *id: the new row, or 0 when (account, comment_id) is stored already (not an error). */
MUST_USE enum err store_comment_insert(struct store *s, const struct store_comment_new *c,
                                       int64_t now_ms, int64_t *id);

struct store_comment {
    int64_t id, account_id;
    const char *comment_id, *parent_id, *media_id, *from_id, *from_name, *text;
    int64_t meta_ts;
    const char *status; /* "new", "done", "failed" */
    const char *action; /* "left", "public", "private", "hidden"; NULL while new */
    const char *reply_text, *reply_id, *error;
    bool is_hidden;
    int64_t created_at, updated_at;
};
/* ERR_NOT_FOUND when absent. Strings in the arena. */
MUST_USE enum err store_comment_get(struct store *s, struct arena *a, int64_t id,
                                    struct store_comment *out);
/* The newest max comments of the account (0: every account), newest first; array in the
 * arena. */
MUST_USE enum err store_comments_list(struct store *s, struct arena *a, int64_t account_id,
                                      size_t max, struct store_comment **out, size_t *n);

/* What was done about a comment. */
struct store_comment_settle {
    const char *status;                        /* "done" or "failed" */
    const char *action;                        /* "left", "public", "private", "hidden" */
    const char *reply_text, *reply_id, *error; /* NULL: none */
    bool is_hidden;
};
MUST_USE enum err store_comment_settle(struct store *s, int64_t id,
                                       const struct store_comment_settle *u, int64_t now_ms);

/* How often an account's liveliness is written at most: a busy account costs one UPDATE that
 * matches no row per event. */
#define STORE_SEEN_STEP_MS (60LL * 1000)
/* An event of the account arrived, made at ts_ms by Meta's clock: last_event_at moves forward
 * (never back), event_gap_ms moves 1/8 of the way toward the time since the previous one, and
 * silent_since clears. Nothing is written when last_event_at is less than STORE_SEEN_STEP_MS
 * older than ts_ms. */
MUST_USE enum err store_account_seen(struct store *s, int64_t id, int64_t ts_ms, int64_t now_ms);
/* Raises (since_ms > 0) or clears (0) the silent-account alert; *changed whether it moved. */
MUST_USE enum err store_account_set_silent(struct store *s, int64_t id, int64_t since_ms,
                                           int64_t now_ms, bool *changed);

/* ---- the agent's context and records (sqlite_agent.c; agent/ and inbox/turn.c own the rules) */

/* The newest max messages of a conversation before before_id, oldest first, without deleted
 * messages and our failed sends (the customer never saw them). Array in the arena. */
MUST_USE enum err store_messages_before(struct store *s, struct arena *a, int64_t conversation_id,
                                        int64_t before_id, size_t max, struct store_message **out,
                                        size_t *n);

struct store_agent_facts {
    int64_t ai_disclosed_at; /* 0: the AI has not said it is an AI (yet, or since a hand back) */
    int64_t last_ai_at;      /* the AI's newest message that was not a failed send; 0: none */
    const char *referral;    /* the newest customer message's meta.referral (JSON); NULL none */
};
MUST_USE enum err store_agent_facts(struct store *s, struct arena *a, int64_t conversation_id,
                                    struct store_agent_facts *out);
/* Records the agent's score of one customer message. */
MUST_USE enum err store_message_set_sentiment(struct store *s, int64_t message_id, double score);
/* One row of llm_usage: the tokens one turn of a conversation spent. */
MUST_USE enum err store_llm_usage_add(struct store *s, int64_t conversation_id, const char *model,
                                      int64_t prompt_tokens, int64_t completion_tokens,
                                      int64_t now_ms);

/* ---- posts, their images and the media store (sqlite_posts.c; content/ owns the rules) ----
 *
 * A post belongs to one Instagram account and has 1 (an image) or 2..10 items (a carousel).
 * Its state is the publishing state machine's (content/publish.c): scheduled, deferred (the
 * quota is used up until deferred_until), publishing (step: fit, container, poll, publish),
 * published or failed (reason in plain words, Meta's code and subcode when Meta said no). */

#define STORE_POST_ITEMS_MAX 10
#define STORE_POSTS_PAGE_MAX 200

struct store_post_item {
    int position;             /* 0-based */
    const char *source;       /* "file:<sha256>" (an upload, kept in the media store) or a URL */
    const char *media_id;     /* the fitted JPEG (media.id); NULL until fitted */
    const char *container_id; /* a carousel child's container; NULL until made */
    const char *fit_decision; /* JSON (content_fit's record); NULL until fitted */
};

struct store_post {
    int64_t id, account_id;
    const char *state, *step; /* step NULL outside publishing */
    const char *caption, *fit; /* fit: "pad", "blur" or "crop" */
    int64_t scheduled_at, deferred_until;
    const char *container_id, *media_id, *permalink, *reason;
    int error_code, error_subcode;
    int64_t container_at;    /* when the (parent) container was made; 0: none */
    int polls, tries;        /* status reads of the container; failed tries of this step */
    int64_t publish_sent_at; /* media_publish may have been sent since; 0: not */
    int64_t operator_id;     /* who made it in the dashboard; 0: the CLI */
    int64_t created_at, updated_at, published_at;
    struct store_post_item items[STORE_POST_ITEMS_MAX];
    int n_items;
};

/* Inserts a post (state scheduled, or failed when p->state says so) and its items in the
 * caller's transaction; *id receives its id. ERR_INVALID: no item or more than the cap. */
MUST_USE enum err store_post_insert(struct store *s, const struct store_post *p, int64_t now_ms,
                                    int64_t *id);
/* One post with its items (strings in the arena). ERR_NOT_FOUND. */
MUST_USE enum err store_post_get(struct store *s, struct arena *a, int64_t id,
                                 struct store_post *out);
/* Writes the state machine's columns (scheduled_at, state ... published_at; not caption, fit,
 * items). With expect_state non-NULL, only while the stored state is that one: *changed says
 * whether it was (may be NULL). */
MUST_USE enum err store_post_save(struct store *s, const struct store_post *p,
                                  const char *expect_state, int64_t now_ms, bool *changed);
/* One item's media_id, container_id and fit_decision. */
MUST_USE enum err store_post_item_save(struct store *s, int64_t post_id,
                                       const struct store_post_item *it);
/* Up to max (<= STORE_POSTS_PAGE_MAX) posts, newest first, with id < before_id (0: from the
 * newest), of one account (0: any); items are not read (n_items is). Array in the arena. */
MUST_USE enum err store_posts_list(struct store *s, struct arena *a, int64_t account_id,
                                   int64_t before_id, size_t max, struct store_post **out,
                                   size_t *n);
/* The publish times (oldest first) of the account's posts published after since_ms, at most
 * max; *n how many were written. */
MUST_USE enum err store_posts_published_since(struct store *s, int64_t account_id,
                                              int64_t since_ms, int64_t *times, size_t max,
                                              size_t *n);

/* The quota Meta last reported for an account (content_publishing_limit), shown with it. */
struct store_quota {
    int64_t usage, total; /* total 0: never read */
    int64_t checked_at;
};
MUST_USE enum err store_account_quota_set(struct store *s, int64_t account_id,
                                          const struct store_quota *q);
MUST_USE enum err store_account_quota(struct store *s, int64_t account_id, struct store_quota *q);

struct store_media {
    const char *id;     /* unguessable, served at /media/{id}.jpg */
    const char *sha256; /* of the bytes; the file is <data_dir>/media/<sha256>.jpg */
    const char *path;   /* relative to the media directory */
    int64_t bytes;
    int width, height;
    int64_t created_at;
    int64_t expires_at; /* a preview: deleted after this; 0: kept while a post needs it */
};
/* Inserts the row, or when a row with the same sha256 exists, fills m->id with that row's id
 * (in the arena) and clears its expiry when the new one has none (a post now needs it). */
MUST_USE enum err store_media_put(struct store *s, struct arena *a, struct store_media *m);
/* ERR_NOT_FOUND when absent. */
MUST_USE enum err store_media_get(struct store *s, struct arena *a, const char *id,
                                  struct store_media *out);
/* Up to max media rows no post still needs (no item of a post that is not published or
 * failed names it) and not a preview still fresh at now_ms; array in the arena. */
MUST_USE enum err store_media_unused(struct store *s, struct arena *a, int64_t now_ms, size_t max,
                                     struct store_media **out, size_t *n);
MUST_USE enum err store_media_delete(struct store *s, const char *id);
/* Whether any post that is not published or failed has an item with this source. */
MUST_USE enum err store_post_source_in_use(struct store *s, const char *source, bool *in_use);

#endif
