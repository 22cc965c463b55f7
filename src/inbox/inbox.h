/*
 * inbox/inbox.h - the worker pool that turns queued jobs into stored state.
 *
 * Owns: the workers (each with its own store connection), the job-kind table, and the
 * webhook job: a delivery parsed into typed events, each stored once by its dedupe key.
 * The reply path's kinds: a turn (turn.c) answers a conversation's unanswered messages and
 * queues a send (sender.c) for the stored reply; a publish job runs a post's steps
 * (content/content.h). Later: reconciliation.
 * Threads: inbox_start() and inbox_stop() on the main thread; handlers on workers.
 */
#ifndef SB_INBOX_INBOX_H
#define SB_INBOX_INBOX_H

#include "core/err.h"
#include "store/store.h"

struct queue;
struct inbox;
struct meta_event;
struct meta_graph_opts;
struct kb_opts;
struct agent_opts;

struct inbox_opts {
    const struct store_opts *store;
    struct queue *queue;
    int workers;             /* >= 1 */
    const char *meta_app_id; /* SB_META_APP_ID: echoes carrying it are our own sends */
    /* Replies (turns and sends). graph NULL, or options meta_graph_new() refuses (no app id
     * or secret): no turn is ever queued and customers' messages are only stored. */
    const struct meta_graph_opts *graph;
    const char *master_key, *data_dir; /* for the token vault (meta/vault.h) */
    const struct kb_opts *kb;          /* each worker opens a kb on its own connection */
    const char *business_name;         /* SB_BUSINESS_NAME, in the AI's disclosure */
    int64_t turn_burst_ms;             /* SB_TURN_BURST_MS */
    int64_t send_rate;                 /* SB_SEND_RATE: Send API calls a second per account */
    int64_t gapfill_interval_s;        /* SB_GAPFILL_INTERVAL_S; 0: no gap filler */
    int64_t silent_floor_s;            /* SB_SILENT_FLOOR_S: the silent-account alert's floor */
    const struct agent_opts *agent;    /* the LLM, the tools file; NULL: retrieval only */
    const char *public_url;            /* SB_PUBLIC_URL: where Meta fetches post images */
};

/* Job kinds of the reply path (the payload is ids as decimal text). */
#define INBOX_JOB_TURN    "turn" /* "<conversation id> <message id>": answer what is unanswered */
#define INBOX_JOB_SEND    "send" /* "<message id>": send one outgoing row */
#define INBOX_JOB_GAPFILL "gapfill" /* "<account id>": read Meta's recent conversations */
#define INBOX_JOB_COMMENT "comment" /* "<comments row id>": leave, reply to or hide it */

/* Starts the workers. Caller owns *out; stop with inbox_stop(). */
MUST_USE enum err inbox_start(const struct inbox_opts *o, struct inbox **out);
/* Lets every worker finish the job in hand, then joins them and frees the pool. */
void inbox_stop(struct inbox *in);

struct inbox_delivery_stats {
    int n_new, n_dup; /* events stored / already seen */
    int n_applied;    /* new events applied to conversations */
    int n_unrouted;   /* new conversational events for no connected account (kept in events) */
};

/* Handles one webhook delivery payload on the caller's connection, inside the caller's
 * transaction: stores each new event, counts duplicates, and applies each new event to
 * conversations (inbox_apply_event). app_id: SB_META_APP_ID (may be NULL). Exposed for tests.
 * ERR_INVALID (with *reason) when the body cannot be used at all. */
MUST_USE enum err inbox_handle_delivery(struct store *s, int64_t job_id, const char *app_id,
                                        const char *body, size_t len,
                                        struct inbox_delivery_stats *st, const char **reason);

/* ---- applying events to conversations (apply.c) ---- */

/* The setting that says whether a business reply from Meta's own apps pauses the AI in that
 * conversation ("true" by default; "false", "0", "no" or "off" turn it off). */
#define INBOX_SETTING_PAUSE_ON_BUSINESS_REPLY "inbox.pause_on_business_reply"

struct inbox_apply_ctx {
    const char *app_id;          /* SB_META_APP_ID; NULL or "": no echo counts as ours */
    struct queue *queue;         /* NULL: no turns are queued (replies off, or tests) */
    int64_t turn_burst_ms;       /* a turn runs this long after the message that queues it */
    struct arena *arena;         /* JSON columns are built here */
    int pause_on_business_reply; /* -1: read the setting on first need; then 0 or 1 */
};

enum inbox_applied {
    INBOX_APPLIED,  /* contacts, conversation and messages updated */
    INBOX_UNROUTED, /* no connected account has this entry id: the event stays in events */
    INBOX_IGNORED,  /* not a conversational kind (comments, handover, unknown, ...) */
};

/* Applies one event to its contact, conversation and messages in the caller's transaction.
 * Idempotent (a second application changes nothing) and order-safe (an older event never
 * moves a clock back). Errors are the store's (the job is retried). Worker threads. */
MUST_USE enum err inbox_apply_event(struct store *s, struct inbox_apply_ctx *c,
                                    const struct meta_event *e, int64_t now_ms,
                                    enum inbox_applied *out);

/* ---- an operator's reply (human.c) ---- */

#define INBOX_HUMAN_REPLY_MAX 4000 /* bytes; the sender splits for each platform's limit */

struct inbox_human_reply {
    int64_t message_id;         /* the stored row (status queued) */
    const char *messaging_type; /* "RESPONSE", or "MESSAGE_TAG" with tag "HUMAN_AGENT" */
    const char *tag;            /* NULL or "HUMAN_AGENT" (static text) */
    const char *refused;        /* ERR_CONFLICT: why no reply is allowed (static text) */
};

/* Stores operator_id's reply in the conversation, as the window policy allows a person
 * (window_decide(WINDOW_SENDER_HUMAN): RESPONSE inside 24 h of the customer's last message,
 * the HUMAN_AGENT tag inside 7 days), and queues its send job, in the caller's transaction.
 * ERR_INVALID: empty text or longer than INBOX_HUMAN_REPLY_MAX; ERR_CONFLICT: no reply is
 * allowed now (out->refused says why; nothing stored); ERR_NOT_FOUND: no such conversation.
 * Any thread, on the caller's connection. */
MUST_USE enum err inbox_human_reply(struct store *s, struct queue *q, int64_t conversation_id,
                                    int64_t operator_id, const char *text, int64_t now_ms,
                                    struct inbox_human_reply *out);
/* The send job of an outgoing row (turn.c and human.c queue the same job). */
MUST_USE enum err inbox_queue_send(struct queue *q, struct store *s, int64_t conversation_id,
                                   int64_t message_id, int64_t now_ms);

#endif
