/*
 * inbox/inbox.h - the worker pool that turns queued jobs into stored state.
 *
 * Owns: the workers (each with its own store connection), the job-kind table, and the
 * webhook job: a delivery parsed into typed events, each stored once by its dedupe key.
 * Later capabilities add their job kinds here (turns, sends, reconciliation).
 * Threads: inbox_start() and inbox_stop() on the main thread; handlers on workers.
 */
#ifndef SB_INBOX_INBOX_H
#define SB_INBOX_INBOX_H

#include "core/err.h"
#include "store/store.h"

struct queue;
struct inbox;

struct inbox_opts {
    const struct store_opts *store;
    struct queue *queue;
    int workers; /* >= 1 */
};

/* Starts the workers. Caller owns *out; stop with inbox_stop(). */
MUST_USE enum err inbox_start(const struct inbox_opts *o, struct inbox **out);
/* Lets every worker finish the job in hand, then joins them and frees the pool. */
void inbox_stop(struct inbox *in);

/* Handles one webhook delivery payload on the caller's connection, inside the caller's
 * transaction: stores each new event, counts duplicates. Exposed for tests.
 * ERR_INVALID (with *reason) when the body cannot be used at all. */
MUST_USE enum err inbox_handle_delivery(struct store *s, int64_t job_id, const char *body,
                                        size_t len, int *n_new, int *n_dup, const char **reason);

#endif
