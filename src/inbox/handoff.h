/*
 * inbox/handoff.h - who answers a conversation: the AI or a person, as one state machine.
 *
 *            handoff(cause)                take_over(operator)
 *     ai ──────────────────────▶ human ◀──────────────────── ai | paused | human
 *      ▲  business_reply: ▶ paused │
 *      └──────── hand_back ◀───────┘ (from human or paused)
 *
 * A conversation in mode human or paused hears nothing from the AI until an operator hands
 * it back. Handoff signals that come from history (sentiment, loops) cool down after a hand
 * back: for cooldown_ms they cannot send it back to a person, so an operator's "the customer
 * is fine now" is not undone by the same old messages; a customer who asks for a person, the
 * model's own handoff tool and hard failures are never held back. After a hand back the AI
 * says again that it is an AI (store: the disclosure is forgotten).
 *
 * A handoff gives the conversation to an online operator when there is one: an operator
 * with a live session seen within INBOX_ONLINE_MS (every request and WebSocket heartbeat
 * touches the session), the one holding the fewest conversations. Operators learn of every
 * move from the bus (the store writes conversation.updated with the change).
 *
 * Threads: any worker or HTTP thread, on the caller's store connection and inside the caller's
 * transaction (the move commits with whatever caused it). Never logs message text.
 */
#ifndef SB_INBOX_HANDOFF_H
#define SB_INBOX_HANDOFF_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

struct store;
struct store_conversation;

enum inbox_handoff_cause {
    INBOX_CAUSE_KEYWORD,        /* the customer asked for a person */
    INBOX_CAUSE_SENTIMENT,      /* the customer's recent messages read as upset */
    INBOX_CAUSE_LOOP,           /* the AI repeating itself, or the customer repeating */
    INBOX_CAUSE_MODEL,          /* the model called handoff_to_human */
    INBOX_CAUSE_FAILURES,       /* the LLM or a tool kept failing */
    INBOX_CAUSE_NO_ANSWER,      /* nothing in the knowledge base answers it */
    INBOX_CAUSE_GUARDRAIL,      /* the answer kept breaking a guardrail (e.g. a made-up price) */
    INBOX_CAUSE_UNSUPPORTED,    /* content the AI cannot read */
    INBOX_CAUSE_SEND_REFUSED,   /* Meta refused our reply (window, recipient, permission) */
    INBOX_CAUSE_BUSINESS_REPLY, /* a person replied from Meta's own apps: ai -> paused */
    INBOX_CAUSE_OPERATOR,       /* an operator took it over (inbox_take_over) */
};
#define INBOX_N_CAUSES (INBOX_CAUSE_OPERATOR + 1)

#define INBOX_ONLINE_MS                   (2LL * 60 * 1000)
#define INBOX_HANDOFF_COOLDOWN_MS_DEFAULT (10LL * 60 * 1000)

/* Stable machine name ("keyword", "sentiment", ...), as stored in handoff_cause and shown in
 * logs, metrics and the API. */
const char *inbox_handoff_cause_name(enum inbox_handoff_cause c);
/* ERR_INVALID for an unknown name. */
MUST_USE enum err inbox_handoff_cause_parse(const char *name, enum inbox_handoff_cause *out);
/* What an operator reads when the caller gives no reason of its own. */
const char *inbox_handoff_cause_words(enum inbox_handoff_cause c);

struct inbox_handoff_outcome {
    bool changed;        /* the conversation moved (it was in mode ai) */
    bool is_cooling;     /* held back: a history signal inside the cool-down */
    int64_t operator_id; /* the online operator it went to; 0 none */
};

/* The AI steps aside: ai -> human (INBOX_CAUSE_BUSINESS_REPLY: ai -> paused), with cause and
 * reason (plain words, no message text; NULL: inbox_handoff_cause_words()). Nothing changes
 * when the conversation is not in mode ai, or (sentiment, loop) while cooling. cooldown_ms <= 0
 * means INBOX_HANDOFF_COOLDOWN_MS_DEFAULT. INBOX_CAUSE_OPERATOR is ERR_INVALID here: use
 * inbox_take_over(). ERR_NOT_FOUND when the conversation does not exist. */
MUST_USE enum err inbox_handoff(struct store *s, int64_t conversation_id,
                                enum inbox_handoff_cause cause, const char *reason,
                                int64_t cooldown_ms, int64_t now_ms,
                                struct inbox_handoff_outcome *out);
/* An operator takes the conversation: ai, paused or human (someone else's) -> human, assigned
 * to operator_id (> 0, else ERR_INVALID). *changed false when they already had it. */
MUST_USE enum err inbox_take_over(struct store *s, int64_t conversation_id, int64_t operator_id,
                                  int64_t now_ms, bool *changed);
/* An operator gives it back: human or paused -> ai; the cool-down starts and the AI will
 * disclose itself again. *changed false when it was already with the AI. */
MUST_USE enum err inbox_hand_back(struct store *s, int64_t conversation_id, int64_t operator_id,
                                  int64_t now_ms, bool *changed);

/* Whether history signals are held back now (pure). */
bool inbox_handoff_is_cooling(const struct store_conversation *cv, int64_t cooldown_ms,
                              int64_t now_ms);

#endif
