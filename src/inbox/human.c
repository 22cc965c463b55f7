/*
 * inbox/human.c - an operator's reply from the dashboard: stored (author human, with who
 * wrote it) before it is sent, with the messaging type and tag the one window policy gives a
 * person, and its send job queued in the same transaction, exactly as a turn queues the AI's.
 *
 * The sender decides again when it sends (window_decide(WINDOW_SENDER_HUMAN) for every human
 * row), so a reply queued at 23:59 into the window that goes out after it takes the tag, and
 * one queued at the end of the seventh day fails instead of being sent late.
 * Never logs message text.
 */
#include "inbox/inbox.h"
#include "inbox/inbox_int.h"

#include <stdio.h>
#include <string.h>

#include "core/crypto.h"
#include "core/log.h"
#include "inbox/window.h"
#include "queue/queue.h"

enum err inbox_enqueue_id(struct queue *q, struct store *s, const char *kind, const char *key,
                          int64_t id, int64_t run_at_ms)
{
    char payload[32], dedupe[48];
    int len = snprintf(payload, sizeof payload, "%lld", (long long)id);
    snprintf(dedupe, sizeof dedupe, "%s:%lld", kind, (long long)id);
    struct queue_job j = {.kind = kind,
                          .key = key,
                          .dedupe = dedupe,
                          .payload = payload,
                          .payload_len = (size_t)len,
                          .run_at_ms = run_at_ms};
    int64_t job_id;
    return queue_enqueue(q, s, &j, &job_id);
}

enum err inbox_queue_send(struct queue *q, struct store *s, int64_t conversation_id,
                          int64_t message_id, int64_t now_ms)
{
    char key[32];
    snprintf(key, sizeof key, "conv:%lld", (long long)conversation_id);
    return inbox_enqueue_id(q, s, INBOX_JOB_SEND, key, message_id, now_ms);
}

static bool blank(const char *t)
{
    for (; t && *t; t++)
        if (*t != ' ' && *t != '\t' && *t != '\n' && *t != '\r')
            return false;
    return true;
}

enum err inbox_human_reply(struct store *s, struct queue *q, int64_t conversation_id,
                           int64_t operator_id, const char *text, int64_t now_ms,
                           struct inbox_human_reply *out)
{
    memset(out, 0, sizeof *out);
    if (blank(text) || strlen(text) > INBOX_HUMAN_REPLY_MAX || operator_id <= 0)
        return ERR_INVALID;
    struct arena a;
    arena_init(&a);
    struct store_conversation cv;
    enum err rc = store_conversation_get(s, &a, conversation_id, &cv);
    struct window_decision d = {0};
    if (rc == ERR_OK) {
        d = window_decide(WINDOW_SENDER_HUMAN, cv.last_customer_at, now_ms);
        if (d.send == WINDOW_SEND_NONE) {
            out->refused = d.reason;
            rc = ERR_CONFLICT;
        }
    }
    unsigned char raw[16];
    char corr[2 * sizeof raw + 4] = "sb:";
    crypto_random(raw, sizeof raw);
    hex_encode(raw, sizeof raw, corr + 3);
    struct store_message_new m = {.conversation_id = conversation_id,
                                  .direction = "out",
                                  .author = "human",
                                  .text = text,
                                  .status = "queued",
                                  .messaging_type = d.messaging_type,
                                  .tag = d.tag,
                                  .correlation = corr};
    if (rc == ERR_OK)
        rc = store_message_insert(s, &m, now_ms, &out->message_id);
    if (rc == ERR_OK)
        rc = store_message_set_operator(s, out->message_id, operator_id);
    if (rc == ERR_OK)
        rc = inbox_queue_send(q, s, conversation_id, out->message_id, now_ms);
    if (rc == ERR_OK) {
        out->messaging_type = d.messaging_type;
        out->tag = d.tag;
        log_info("reply.human_queued", LOG_INT("conversation", conversation_id),
                 LOG_INT("message", out->message_id), LOG_INT("operator", operator_id),
                 LOG_STR("messaging_type", d.messaging_type));
    }
    arena_release(&a);
    return rc;
}
