/*
 * content/content_int.h - shared by the content module's own files; nothing outside
 * src/content/ includes it.
 */
#ifndef SB_CONTENT_INT_H
#define SB_CONTENT_INT_H

#include <vips/vips.h>

#include "content/content.h"
#include "meta/graph.h"

/* post.c: the post's step chain, its next job at run_at_ms (in the caller's transaction). */
MUST_USE enum err content_post_queue_step(struct store *s, int64_t post_id, int64_t run_at_ms,
                                          int64_t now_ms);

/* ---- the publishing run (publish.c drives it, publish_steps.c has the steps) ---- */

struct meta_graph;
struct meta_vault;
struct queue;

struct content_publisher {
    struct meta_graph *graph;
    struct meta_vault *vault;
    struct queue *queue;
    struct content_media *media;
    char *public_url;
    int64_t poll_deadline_ms;
};

enum run_next {
    RUN_CONTINUE, /* the next step runs now, in this job */
    RUN_STEP_AT,  /* the step chain goes on at at_ms (a poll, a retry) */
    RUN_WAKE_AT,  /* deferred: a wake job at at_ms */
    RUN_END,      /* published or failed */
};

struct run {
    struct content_publisher *p;
    struct store *s;
    const struct store_job *job;
    struct arena *a;
    int64_t now;
    struct store_post post;
    struct store_account acct;
    char *token; /* heap, wiped and freed at the end */
    enum run_next next;
    int64_t at_ms;
    struct store_quota quota; /* checked_at > 0: to be recorded */
    bool is_dead_token;
    struct meta_graph_error gerr;
};

/* One step of a publishing post, as post.step names it ("quota", "fit", "children",
 * "container", "poll", "publish"): Graph calls with no transaction open; the outcome in
 * r->post and r->next. Store errors are returned. */
MUST_USE enum err content_step_run(struct run *r);
/* The post fails for good with reason (plain words; Meta's code from r->gerr when it said no). */
void content_run_fail(struct run *r, const char *reason);
/* What a Graph error means for the step (doing `what`): a retry later, a dead token, or a
 * failure with Meta's words. */
void content_run_graph_error(struct run *r, const char *what);
/* Commits the post's columns (and the quota, a dead token); with is_final also the next job
 * and the job's ack, in the same transaction. */
MUST_USE enum err content_run_persist(struct run *r, bool is_final);

#endif
