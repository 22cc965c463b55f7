/*
 * inbox/turn.c - one turn: the customer's unanswered messages become one stored reply (or a
 * handoff and its one short notice) and its send job.
 *
 * Owns: when a turn answers (the conversation still in mode ai, not standby, the window open
 * for the AI, no newer message that will have its own turn: a burst is answered once, by the
 * turn of its last message, and not answered since), gathering the agent's context from the
 * store, and applying the agent's decision: the reply stored before it is sent, or
 * inbox_handoff() with the agent's cause and the notice when the conversation moved; each
 * scored message's sentiment; the turn's token usage.
 * The turn settles itself, like the sender: the context is read with no transaction open
 * (a handful of reads), the agent runs with none (the knowledge base's query embedding, the
 * LLM and the tools may take seconds: the write lock would stall every worker), keeping the
 * job's lease while it runs long; then one transaction checks that the turn is still current
 * (mode ai, no newer customer message, no reply since) and stores the outcome with the ack.
 * A turn overtaken meanwhile stores only the scores and the usage; the newer turn answers.
 * Does not own: what to say (agent/), sending (sender.c), the window arithmetic (window.c).
 * Never logs message text: ids, counts and causes only.
 */
#include "inbox/inbox_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/log.h"
#include "inbox/handoff.h"
#include "inbox/window.h"
#include "kb/kb.h"
#include "queue/queue.h"

#define TURN_MAX_MESSAGES 50 /* unanswered messages read for one turn */

struct turn {
    struct worker *w;
    const struct store_job *job;
    struct arena *a;
    int64_t conv, trigger, now;
    struct store_conversation cv;
    struct store_message *in; /* the unanswered customer messages, oldest first */
    size_t n_in;
    int64_t last_out; /* the newest outgoing message when the context was read */
    struct store_message *hist;
    size_t n_hist;
    struct store_agent_facts facts;
    struct agent_settings st;
    struct inbox_lease lease;
};

enum err inbox_queue_turn(struct queue *q, struct store *s, int64_t conversation_id,
                          int64_t message_id, int64_t burst_ms, int64_t now_ms)
{
    char payload[64], key[32], dedupe[64];
    int len = snprintf(payload, sizeof payload, "%lld %lld", (long long)conversation_id,
                       (long long)message_id);
    snprintf(key, sizeof key, "conv:%lld", (long long)conversation_id);
    snprintf(dedupe, sizeof dedupe, "turn:%lld", (long long)message_id);
    struct queue_job j = {.kind = INBOX_JOB_TURN,
                          .key = key,
                          .dedupe = dedupe,
                          .payload = payload,
                          .payload_len = (size_t)len,
                          .run_at_ms = now_ms + burst_ms};
    int64_t id;
    return queue_enqueue(q, s, &j, &id);
}

/* Why this turn does not answer (static text), or NULL when it should. */
static const char *why_silent(const struct turn *t, int64_t now_ms)
{
    if (strcmp(t->cv.mode, "ai") != 0)
        return "not in ai mode";
    if (t->cv.is_standby)
        return "standby";
    if (t->n_in == 0 || t->in[t->n_in - 1].id < t->trigger)
        return "already answered";
    if (t->in[t->n_in - 1].id > t->trigger)
        return "a newer message has its own turn";
    struct window_ai_decision d = window_decide_ai(t->cv.last_customer_at, now_ms);
    return d.allowed ? NULL : "window closed";
}

/* The conversation and its unanswered customer messages (the newest TURN_MAX_MESSAGES: a
 * longer burst is answered for its end, never taken for answered because its start was read). */
static enum err load_current(struct store *s, struct turn *t)
{
    enum err rc = store_conversation_get(s, t->a, t->conv, &t->cv);
    if (rc == ERR_OK)
        rc = store_message_last_out(s, t->conv, &t->last_out);
    struct store_message *rows = NULL;
    size_t n = 0;
    if (rc == ERR_OK)
        rc = store_messages_before(s, t->a, t->conv, INT64_MAX, TURN_MAX_MESSAGES, &rows, &n);
    t->in = rows;
    t->n_in = 0;
    for (size_t i = 0; rc == ERR_OK && i < n; i++)
        if (rows[i].id > t->last_out && strcmp(rows[i].direction, "in") == 0)
            t->in[t->n_in++] = rows[i];
    return rc;
}

/* Everything the agent is given, read with no transaction open. */
static enum err load_context(struct turn *t)
{
    struct store *s = t->w->store;
    inbox_agent_settings(s, t->a, &t->st);
    enum err rc = store_agent_facts(s, t->a, t->conv, &t->facts);
    if (rc == ERR_OK)
        rc = store_messages_before(s, t->a, t->conv, t->in[0].id, (size_t)t->st.history_turns,
                                   &t->hist, &t->n_hist);
    return rc;
}

/* Stores the reply (queued, with a fresh correlation for the echo) and queues its send. */
static enum err store_reply(struct worker *w, int64_t conv, const struct agent_decision *d,
                            int64_t now_ms)
{
    bool first = false;
    enum err rc =
        d->is_disclosed ? store_conversation_disclose(w->store, conv, now_ms, &first) : ERR_OK;
    unsigned char raw[16];
    char corr[2 * sizeof raw + 4] = "sb:";
    crypto_random(raw, sizeof raw);
    hex_encode(raw, sizeof raw, corr + 3);
    struct store_message_new m = {.conversation_id = conv,
                                  .direction = "out",
                                  .author = "ai",
                                  .text = d->text,
                                  .status = "queued",
                                  .messaging_type = "RESPONSE",
                                  .correlation = corr};
    int64_t id = 0;
    if (rc == ERR_OK)
        rc = store_message_insert(w->store, &m, now_ms, &id);
    if (rc == ERR_OK && id)
        rc = inbox_queue_send(w->in->queue, w->store, conv, id, now_ms);
    return rc;
}

static enum inbox_handoff_cause cause_of(enum agent_cause c)
{
    static const enum inbox_handoff_cause map[] = {
        [AGENT_CAUSE_NONE] = INBOX_CAUSE_NO_ANSWER,
        [AGENT_CAUSE_KEYWORD] = INBOX_CAUSE_KEYWORD,
        [AGENT_CAUSE_SENTIMENT] = INBOX_CAUSE_SENTIMENT,
        [AGENT_CAUSE_LOOP] = INBOX_CAUSE_LOOP,
        [AGENT_CAUSE_MODEL] = INBOX_CAUSE_MODEL,
        [AGENT_CAUSE_FAILURES] = INBOX_CAUSE_FAILURES,
        [AGENT_CAUSE_NO_ANSWER] = INBOX_CAUSE_NO_ANSWER,
        [AGENT_CAUSE_GUARDRAIL] = INBOX_CAUSE_GUARDRAIL,
        [AGENT_CAUSE_UNSUPPORTED] = INBOX_CAUSE_UNSUPPORTED,
    };
    return (unsigned)c < sizeof map / sizeof map[0] ? map[c] : INBOX_CAUSE_NO_ANSWER;
}

/* The decision, in the settle transaction: the reply, or the handoff and its notice. */
static enum err apply(struct turn *t, const struct agent_decision *d)
{
    if (d->action == AGENT_SILENT)
        return ERR_OK; /* an "ok": nothing to say */
    if (d->action == AGENT_ANSWER)
        return store_reply(t->w, t->conv, d, t->now);
    struct inbox_handoff_outcome h;
    enum err rc = inbox_handoff(t->w->store, t->conv, cause_of(d->cause), d->reason,
                                t->st.handoff_cooldown_ms, t->now, &h);
    if (rc == ERR_OK && h.changed)
        rc = store_reply(t->w, t->conv, d, t->now); /* the one short notice */
    return rc;
}

/* What is recorded whether or not the turn is still current: scores and usage. */
static enum err record(struct turn *t, const struct agent_decision *d, size_t n_scored,
                       const struct store_message *scored)
{
    enum err rc = ERR_OK;
    for (size_t i = 0; rc == ERR_OK && i < n_scored; i++)
        rc = store_message_set_sentiment(t->w->store, scored[i].id, d->sentiment[i]);
    if (rc == ERR_OK && d->usage.n_calls > 0)
        rc = store_llm_usage_add(t->w->store, t->conv, d->usage.model, d->usage.prompt_tokens,
                                 d->usage.completion_tokens, t->now);
    return rc;
}

/* One transaction: still current? then the outcome; always the records and the ack. */
static enum err settle(struct turn *t, const struct agent_decision *d, const char **silent)
{
    struct store *s = t->w->store;
    const struct store_message *scored = t->in;
    size_t n_scored = d ? t->n_in : 0;
    enum err rc = store_begin(s);
    if (rc != ERR_OK)
        return rc;
    t->now = clock_now_ms();
    if (d && !*silent) { /* read again inside the transaction: it may have moved meanwhile */
        int64_t before = t->last_out;
        rc = load_current(s, t);
        *silent = rc == ERR_OK ? why_silent(t, t->now) : NULL;
        if (rc == ERR_OK && !*silent && t->last_out != before)
            *silent = "already answered";
    }
    if (rc == ERR_OK && d)
        rc = record(t, d, n_scored, scored);
    if (rc == ERR_OK && d && !*silent)
        rc = apply(t, d);
    if (rc == ERR_OK)
        rc = queue_ack(t->w->in->queue, s, t->job);
    if (rc == ERR_OK)
        rc = store_commit(s);
    else
        store_rollback(s);
    return rc;
}

static void log_outcome(const struct turn *t, const struct agent_decision *d, const char *silent)
{
    if (silent)
        log_info("turn.skipped", LOG_INT("conversation", t->conv), LOG_STR("why", silent));
    else
        log_info("turn.answered", LOG_INT("conversation", t->conv),
                 LOG_INT("messages", (long long)t->n_in),
                 LOG_BOOL("handoff", d->action == AGENT_HANDOFF),
                 LOG_STR("cause", agent_cause_name(d->cause)),
                 LOG_INT("llm_calls", d->usage.n_calls), LOG_INT("tool_calls", d->n_tool_calls),
                 LOG_BOOL("disclosed", d->is_disclosed));
}

/* Reads, decides with no transaction open, settles. */
static enum err run(struct turn *t)
{
    struct store *s = t->w->store;
    enum err rc = load_current(s, t);
    const char *silent = rc == ERR_OK ? why_silent(t, t->now) : NULL;
    if (rc == ERR_NOT_FOUND) { /* the conversation was erased meanwhile */
        silent = "conversation gone";
        rc = ERR_OK;
    }
    if (rc == ERR_OK && !silent && !t->w->in->is_replying)
        silent = "replies off";
    if (rc == ERR_OK && !silent)
        rc = load_context(t);
    if (rc != ERR_OK)
        return rc;
    struct agent_decision d = {0};
    if (!silent) {
        struct inbox_turn_rows rows = {&t->cv, t->hist, t->n_hist, t->in, t->n_in, &t->facts};
        struct agent_context ctx;
        inbox_agent_context(t->a, &rows, t->now, &ctx);
        ctx.hold_history_signals =
            inbox_handoff_is_cooling(&t->cv, t->st.handoff_cooldown_ms, t->now);
        ctx.keepalive = inbox_lease_keep;
        ctx.keepalive_ctx = &t->lease;
        rc = agent_decide(t->w->in->agent, t->w->kb, t->a, &t->st, &ctx, &d);
        if (rc != ERR_OK)
            return rc;
    }
    const char *early = silent;
    rc = settle(t, early ? NULL : &d, &silent);
    if (rc == ERR_OK)
        log_outcome(t, &d, silent);
    return rc;
}

enum err inbox_run_turn(struct worker *w, const struct store_job *job, const char **reason)
{
    int64_t ids[2];
    if (!inbox_job_ids(job, ids, 2)) {
        *reason = "bad turn payload";
        return ERR_INVALID;
    }
    struct arena a;
    arena_init(&a);
    int64_t now = clock_now_ms();
    struct turn t = {.w = w,
                     .job = job,
                     .a = &a,
                     .conv = ids[0],
                     .trigger = ids[1],
                     .now = now,
                     .lease = {w, job, now + INBOX_LEASE_MS / 2}};
    enum err rc = run(&t);
    arena_release(&a);
    return rc;
}
