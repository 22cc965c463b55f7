/*
 * inbox/turn.c - one turn: the customer's unanswered messages become one stored reply and
 * its send job, in the turn job's transaction.
 *
 * Owns: when a turn answers (the conversation still in mode ai, not standby, the window open
 * for the AI, no newer message that will have its own turn: a burst is answered once, by the
 * turn of its last message), and, until the agent (issue 6) exists, what it says: retrieval
 * only (DESIGN.md), the best knowledge-base chunk cut to a few sentences, or a handoff to a
 * person when nothing matches well or the customer asks for one. The first AI reply of a
 * conversation says that it comes from an automated assistant.
 * Does not own: sending (sender.c), the window arithmetic (window.c), ranking (kb/).
 * Never logs message text: ids, counts and reasons only.
 */
#include "inbox/inbox_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/log.h"
#include "inbox/handoff.h"
#include "inbox/window.h"
#include "kb/kb.h"
#include "queue/queue.h"

#define TURN_MAX_MESSAGES 50   /* unanswered messages read for one turn */
#define TURN_QUERY_MAX    4096 /* bytes of customer text searched */
#define TURN_MIN_COVERAGE 0.5  /* share of the query's terms a chunk must hold to be an answer */
#define REPLY_SENTENCES   3
#define REPLY_MAX_BYTES   700 /* with the disclosure, under Instagram's 1000 bytes */
#define HANDOFF_TEXT                                                                               \
    "I'll pass this to a member of the team, and they will get back to you here as soon as "       \
    "they can."

struct turn {
    int64_t conv, trigger;
    struct store_conversation cv;
    struct store_message *in; /* the unanswered customer messages, oldest first */
    size_t n_in;
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

static bool parse_ids(const struct store_job *job, int64_t *ids, int n)
{
    char text[64];
    if (job->payload_len == 0 || job->payload_len >= sizeof text)
        return false;
    memcpy(text, job->payload, job->payload_len);
    text[job->payload_len] = '\0';
    char *p = text;
    for (int i = 0; i < n; i++) {
        char *end;
        errno = 0;
        long long v = strtoll(p, &end, 10);
        if (errno || end == p || v <= 0)
            return false;
        ids[i] = v;
        p = end;
    }
    return *p == '\0';
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

static enum err load(struct store *s, struct arena *a, struct turn *t)
{
    enum err rc = store_conversation_get(s, a, t->conv, &t->cv);
    int64_t last_out = 0;
    if (rc == ERR_OK)
        rc = store_message_last_out(s, t->conv, &last_out);
    struct store_message *rows = NULL;
    size_t n = 0;
    if (rc == ERR_OK)
        rc = store_messages_list(s, a, t->conv, last_out, TURN_MAX_MESSAGES, &rows, &n);
    t->in = rows;
    t->n_in = 0;
    for (size_t i = 0; rc == ERR_OK && i < n; i++)
        if (strcmp(rows[i].direction, "in") == 0 && strcmp(rows[i].status, "deleted") != 0)
            t->in[t->n_in++] = rows[i];
    return rc;
}

static const char *merged_text(struct arena *a, const struct turn *t)
{
    struct buf b;
    buf_init(&b, TURN_QUERY_MAX);
    for (size_t i = 0; i < t->n_in; i++)
        if (t->in[i].text && (buf_append(&b, t->in[i].text, strlen(t->in[i].text)) != ERR_OK ||
                              buf_append(&b, "\n", 1) != ERR_OK))
            break;
    const char *s = arena_strndup(a, b.len ? b.data : "", b.len);
    buf_release(&b);
    return s;
}

/* The answer's text, or NULL for a handoff (*cause says why). */
static const char *answer_text(struct worker *w, struct arena *a, const char *query,
                               enum inbox_handoff_cause *cause)
{
    if (inbox_asks_for_human(query)) {
        *cause = INBOX_CAUSE_KEYWORD;
        return NULL;
    }
    struct kb_results r = {0};
    enum err rc = w->kb ? kb_search(w->kb, a, query, 3, &r) : ERR_NOT_FOUND;
    if (rc != ERR_OK || r.n == 0 || r.weak_query || r.hits[0].coverage < TURN_MIN_COVERAGE) {
        if (rc != ERR_OK)
            log_warn("turn.kb_failed", LOG_ERR(rc));
        *cause = INBOX_CAUSE_NO_ANSWER;
        return NULL;
    }
    const char *text = inbox_reply_trim(a, r.hits[0].text, REPLY_SENTENCES, REPLY_MAX_BYTES);
    if (!*text) {
        *cause = INBOX_CAUSE_NO_ANSWER;
        return NULL;
    }
    return text;
}

static enum err queue_send(struct worker *w, int64_t conv, int64_t row_id, int64_t now_ms)
{
    char payload[32], key[32], dedupe[48];
    int len = snprintf(payload, sizeof payload, "%lld", (long long)row_id);
    snprintf(key, sizeof key, "conv:%lld", (long long)conv);
    snprintf(dedupe, sizeof dedupe, "send:%lld", (long long)row_id);
    struct queue_job j = {.kind = INBOX_JOB_SEND,
                          .key = key,
                          .dedupe = dedupe,
                          .payload = payload,
                          .payload_len = (size_t)len,
                          .run_at_ms = now_ms};
    int64_t id;
    return queue_enqueue(w->in->queue, w->store, &j, &id);
}

/* Stores the reply (queued, with a fresh correlation for the echo) and queues its send. */
static enum err store_reply(struct worker *w, struct arena *a, int64_t conv, const char *text,
                            int64_t now_ms)
{
    bool first = false;
    enum err rc = store_conversation_disclose(w->store, conv, now_ms, &first);
    if (rc != ERR_OK)
        return rc;
    if (first)
        text = arena_printf(a, "I'm Switchboard's automated assistant for %s. %s",
                            w->in->business_name, text);
    unsigned char raw[16];
    char corr[2 * sizeof raw + 4] = "sb:";
    crypto_random(raw, sizeof raw);
    hex_encode(raw, sizeof raw, corr + 3);
    struct store_message_new m = {.conversation_id = conv,
                                  .direction = "out",
                                  .author = "ai",
                                  .text = text,
                                  .status = "queued",
                                  .messaging_type = "RESPONSE",
                                  .correlation = corr};
    int64_t id = 0;
    rc = store_message_insert(w->store, &m, now_ms, &id);
    if (rc == ERR_OK && id)
        rc = queue_send(w, conv, id, now_ms);
    return rc;
}

static enum err answer(struct worker *w, struct arena *a, const struct turn *t, int64_t now_ms)
{
    enum inbox_handoff_cause cause = INBOX_CAUSE_NO_ANSWER;
    const char *text = answer_text(w, a, merged_text(a, t), &cause);
    bool handoff = !text;
    enum err rc = ERR_OK;
    if (handoff) {
        struct inbox_handoff_outcome h;
        rc = inbox_handoff(w->store, t->conv, cause, NULL, 0, now_ms, &h);
        text = HANDOFF_TEXT;
    }
    if (rc == ERR_OK)
        rc = store_reply(w, a, t->conv, text, now_ms);
    if (rc == ERR_OK)
        log_info("turn.answered", LOG_INT("conversation", t->conv),
                 LOG_INT("messages", (long long)t->n_in), LOG_BOOL("handoff", handoff));
    return rc;
}

enum err inbox_run_turn(struct worker *w, const struct store_job *job, const char **reason)
{
    int64_t ids[2];
    if (!parse_ids(job, ids, 2)) {
        *reason = "bad turn payload";
        return ERR_INVALID;
    }
    struct arena a;
    arena_init(&a);
    struct turn t = {.conv = ids[0], .trigger = ids[1]};
    int64_t now = clock_now_ms();
    enum err rc = load(w->store, &a, &t);
    const char *silent = rc == ERR_OK ? why_silent(&t, now) : NULL;
    if (rc == ERR_NOT_FOUND) { /* the conversation was erased meanwhile */
        silent = "conversation gone";
        rc = ERR_OK;
    }
    if (silent)
        log_info("turn.skipped", LOG_INT("conversation", t.conv), LOG_STR("why", silent));
    else if (rc == ERR_OK)
        rc = w->in->is_replying ? answer(w, &a, &t, now) : ERR_OK;
    arena_release(&a);
    return rc;
}
