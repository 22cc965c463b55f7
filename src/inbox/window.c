/*
 * inbox/window.c - the messaging-window policy (see window.h and meta-platform.md 2.3).
 *
 * Owns: the only arithmetic on the 24-hour and 7-day windows in the program.
 * Pure: no clock, no I/O; every send path and every display of a window calls it.
 */
#include "inbox/window.h"

#include <stddef.h>

static const char REASON_NEVER[] = "the customer has not written yet, so no reply is allowed";
static const char REASON_AI_24H[] =
    "more than 24 hours since the customer's last message: only a person may reply (with the "
    "HUMAN_AGENT tag) until they write again";
static const char REASON_7D[] = "more than 7 days since the customer's last message: no reply "
                                "is allowed until they write again";

static struct window_decision closed(const char *reason)
{
    return (struct window_decision){.send = WINDOW_SEND_NONE, .reason = reason};
}

struct window_decision window_decide(enum window_sender who, int64_t last_customer_at_ms,
                                     int64_t now_ms)
{
    if (last_customer_at_ms <= 0)
        return closed(REASON_NEVER);
    int64_t last = last_customer_at_ms > now_ms ? now_ms : last_customer_at_ms; /* skew */
    int64_t age = now_ms - last;
    if (age < WINDOW_STANDARD_MS)
        return (struct window_decision){.send = WINDOW_SEND_RESPONSE,
                                        .messaging_type = "RESPONSE",
                                        .until_ms = last + WINDOW_STANDARD_MS};
    if (who != WINDOW_SENDER_HUMAN)
        return closed(age < WINDOW_HUMAN_AGENT_MS ? REASON_AI_24H : REASON_7D);
    if (age < WINDOW_HUMAN_AGENT_MS)
        return (struct window_decision){.send = WINDOW_SEND_HUMAN_AGENT,
                                        .messaging_type = "MESSAGE_TAG",
                                        .tag = "HUMAN_AGENT",
                                        .until_ms = last + WINDOW_HUMAN_AGENT_MS};
    return closed(REASON_7D);
}

struct window_ai_decision window_decide_ai(int64_t last_customer_at_ms, int64_t now_ms)
{
    struct window_decision d = window_decide(WINDOW_SENDER_AI, last_customer_at_ms, now_ms);
    /* Only RESPONSE maps to "allowed": a HUMAN_AGENT decision could never become an AI send
     * even if the policy above were changed by mistake. */
    bool ok = d.send == WINDOW_SEND_RESPONSE && d.tag == NULL;
    return (struct window_ai_decision){
        .allowed = ok,
        .reason = ok ? NULL : (d.reason ? d.reason : REASON_AI_24H),
        .until_ms = ok ? d.until_ms : 0,
    };
}

enum window_state window_state_of(int64_t last_customer_at_ms, int64_t now_ms, int64_t *until_ms)
{
    struct window_decision ai = window_decide(WINDOW_SENDER_AI, last_customer_at_ms, now_ms);
    struct window_decision human = window_decide(WINDOW_SENDER_HUMAN, last_customer_at_ms, now_ms);
    enum window_state st = WINDOW_CLOSED;
    int64_t until = 0;
    if (ai.send == WINDOW_SEND_RESPONSE) {
        st = WINDOW_OPEN;
        until = ai.until_ms;
    } else if (human.send == WINDOW_SEND_HUMAN_AGENT) {
        st = WINDOW_HUMAN_ONLY;
        until = human.until_ms;
    }
    if (until_ms)
        *until_ms = until;
    return st;
}

const char *window_state_name(enum window_state st)
{
    switch (st) {
    case WINDOW_OPEN:
        return "open";
    case WINDOW_HUMAN_ONLY:
        return "human_only";
    case WINDOW_CLOSED:
        break;
    }
    return "closed";
}
