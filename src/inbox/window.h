/*
 * inbox/window.h - THE messaging-window policy: may this sender reply now, and how.
 *
 * Owns: the 24-hour standard window and the 7-day HUMAN_AGENT window (meta-platform.md 2.3),
 * as one pure function that every send path calls; nothing else in the program decides it.
 * Does not own: the clock (callers pass now), the window's start (the conversation's
 * last_customer_at, kept by inbox/apply.c from every customer action Meta counts).
 * Threads: pure; any thread.
 *
 * Why the AI cannot send with HUMAN_AGENT: the AI path asks window_decide_ai(), whose result
 * type has no tag member at all (only "allowed, RESPONSE"); window_decide() fills `tag` only
 * for WINDOW_SENDER_HUMAN, and tests/unit/inbox/test_window.c sweeps every age to prove it.
 */
#ifndef SB_INBOX_WINDOW_H
#define SB_INBOX_WINDOW_H

#include <stdbool.h>
#include <stdint.h>

#define WINDOW_STANDARD_MS    (24LL * 3600 * 1000)
#define WINDOW_HUMAN_AGENT_MS (7LL * 24 * 3600 * 1000)

enum window_sender {
    WINDOW_SENDER_AI,    /* the agent: RESPONSE within 24 h, nothing after */
    WINDOW_SENDER_HUMAN, /* an operator: RESPONSE within 24 h, HUMAN_AGENT tag within 7 d */
};

enum window_send {
    WINDOW_SEND_NONE,        /* closed for this sender: do not call the Send API */
    WINDOW_SEND_RESPONSE,    /* messaging_type=RESPONSE, no tag */
    WINDOW_SEND_HUMAN_AGENT, /* messaging_type=MESSAGE_TAG, tag=HUMAN_AGENT (humans only) */
};

struct window_decision {
    enum window_send send;
    const char *messaging_type; /* "RESPONSE", "MESSAGE_TAG", or NULL when closed */
    const char *tag;            /* "HUMAN_AGENT" only for WINDOW_SENDER_HUMAN; else NULL */
    const char *reason;         /* plain words when closed (static text); else NULL */
    int64_t until_ms;           /* when this permission ends (exclusive); 0 when closed */
};

/* The policy. last_customer_at_ms: the customer's last counted action (0: never wrote).
 * "Within" is strict: at exactly 24 h the standard window is closed, at exactly 7 d the
 * HUMAN_AGENT window is closed. A last_customer_at in the future (clock skew between Meta and
 * us) counts as "just now": the window is open for the full 24 h from now, never longer. */
struct window_decision window_decide(enum window_sender who, int64_t last_customer_at_ms,
                                     int64_t now_ms);

/* The AI path's view: it can only ever be RESPONSE or nothing; there is no tag to read. */
struct window_ai_decision {
    bool allowed;       /* true: send with messaging_type=RESPONSE */
    const char *reason; /* plain words when not allowed (static text) */
    int64_t until_ms;   /* when the 24 h end (exclusive); 0 when not allowed */
};
struct window_ai_decision window_decide_ai(int64_t last_customer_at_ms, int64_t now_ms);

/* What an operator sees for a conversation. */
enum window_state {
    WINDOW_OPEN,       /* anyone may reply; until_ms = end of the 24 h */
    WINDOW_HUMAN_ONLY, /* only a person, with HUMAN_AGENT; until_ms = end of the 7 d */
    WINDOW_CLOSED,     /* nobody may reply until the customer writes again */
};
/* Derived from window_decide() for both senders. *until_ms (may be NULL) as above, 0 when
 * closed. */
enum window_state window_state_of(int64_t last_customer_at_ms, int64_t now_ms, int64_t *until_ms);
/* "open", "human_only", "closed". */
const char *window_state_name(enum window_state st);

#endif
