/*
 * inbox/inbox_int.h - what the inbox's own files share: the pool, a worker, the job handlers.
 * Nothing outside src/inbox/ includes this.
 */
#ifndef SB_INBOX_INT_H
#define SB_INBOX_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "inbox/inbox.h"

struct agent;
struct agent_context;
struct content_media;
struct content_publisher;
struct agent_settings;
struct kb;
struct meta_graph;
struct meta_vault;
struct inbox_pace;

/* A claimed job's lease; a turn keeps its own past it while the agent runs long (turn.c). */
#define INBOX_LEASE_MS 30000

struct worker {
    struct inbox *in;
    pthread_t thread;
    struct store *store;
    struct kb *kb; /* on this worker's connection; NULL when replies are off */
    int index;
};

struct inbox {
    struct queue *queue;
    char *meta_app_id;
    struct worker *workers;
    int n_workers;
    atomic_bool stopping;
    /* replies: all NULL (and is_replying false) when the Graph client could not be made */
    bool is_replying;
    struct meta_graph *graph;
    struct meta_vault *vault;
    char *business_name;
    int64_t turn_burst_ms;
    struct agent *agent;         /* the AI's decisions (shared by the workers, read-only) */
    struct inbox_pace *pace;     /* Send API calls per account (inbox/pace.h) */
    int64_t gapfill_interval_ms; /* 0: off */
    int64_t silent_floor_ms;
    struct content_media *media;         /* the post images' store (swept by worker 0) */
    struct content_publisher *publisher; /* publish jobs (content/publish.c) */
};

/* Queues a job of kind whose payload is id, deduped as "<kind>:<id>", in the caller's
 * transaction; key NULL: unordered. */
MUST_USE enum err inbox_enqueue_id(struct queue *q, struct store *s, const char *kind,
                                   const char *key, int64_t id, int64_t run_at_ms);

/* The n positive ids of a job's payload ("12 345"); false when it holds anything else. */
bool inbox_job_ids(const struct store_job *job, int64_t *ids, int n);

/* A job's lease kept while the agent works (agent_keepalive_fn): extended past the next
 * call's budget plus a margin whenever until_ms would not cover it. */
struct inbox_lease {
    struct worker *w;
    const struct store_job *job;
    int64_t until_ms;
};
void inbox_lease_keep(void *ctx, long may_take_ms);

/* Handlers: ERR_OK commits the job's effects with its ack; anything else rolls them back and
 * the job is retried (or buried for ERR_INVALID / ERR_TOO_LARGE) with *reason. */
typedef enum err job_fn(struct worker *w, const struct store_job *job, const char **reason);

/* turn.c: reads with no transaction open, lets the agent decide (LLM, tools, embeddings: no
 * transaction open either), then settles the outcome and the job in one transaction. */
enum err inbox_run_turn(struct worker *w, const struct store_job *job, const char **reason);
/* sender.c: calls Meta with no transaction open, then settles its row and the job itself
 * (ack, retry at, or failed for good) in one transaction of its own. */
enum err inbox_run_send(struct worker *w, const struct store_job *job, const char **reason);

/* gapfill.c: reads an account's recent conversations through the Conversations API and
 * stores (and answers) the customer messages no webhook brought; settles itself. */
enum err inbox_run_gapfill(struct worker *w, const struct store_job *job, const char **reason);
/* One gapfill job per active account for the interval slot of now_ms (deduped). */
MUST_USE enum err inbox_schedule_gapfill(struct inbox *in, struct store *s, int64_t now_ms);
void inbox_gapfill_metrics(void);

/* comments.c: one stored comment left, answered or hidden (inbox/comments.h); settles itself.
 * inbox_queue_comment() queues it, in the caller's transaction. */
enum err inbox_run_comment(struct worker *w, const struct store_job *job, const char **reason);
MUST_USE enum err inbox_queue_comment(struct queue *q, struct store *s, int64_t comment_row,
                                      int64_t now_ms);

/* context.c: a turn's rows, as the agent's context. */
struct inbox_turn_rows {
    const struct store_conversation *cv;
    const struct store_message *history; /* earlier messages, oldest first */
    size_t n_history;
    const struct store_message *incoming; /* this turn's customer messages, oldest first */
    size_t n_incoming;
    const struct store_agent_facts *facts;
};
/* Fills ctx from rows (strings borrowed from rows or in the arena); the caller sets the
 * hooks and hold_history_signals. */
void inbox_agent_context(struct arena *a, const struct inbox_turn_rows *rows, int64_t now_ms,
                         struct agent_context *ctx);
/* The agent.* settings as stored, over the defaults (a bad stored value is logged and the
 * default kept). */
void inbox_agent_settings(struct store *s, struct arena *a, struct agent_settings *st);

/* Queues a turn for the conversation, due turn_burst_ms after now (dedupe by the message). */
MUST_USE enum err inbox_queue_turn(struct queue *q, struct store *s, int64_t conversation_id,
                                   int64_t message_id, int64_t burst_ms, int64_t now_ms);

#endif
