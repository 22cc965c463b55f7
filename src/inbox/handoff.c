/*
 * inbox/handoff.c - the ai / human / paused state machine (see handoff.h).
 *
 * Owns: which moves exist, each cause's name, words, target mode and whether it cools down.
 * Does not own: deciding that a signal fired (agent/), the SQL (store/).
 */
#include "inbox/handoff.h"

#include <string.h>

#include "core/log.h"
#include "core/mem.h"
#include "store/store.h"

static const struct {
    const char *name, *words;
    const char *to;  /* the mode a handoff with this cause leads to */
    bool is_history; /* a signal read from past messages: held back while cooling */
} causes[INBOX_N_CAUSES] = {
    [INBOX_CAUSE_KEYWORD] = {"keyword", "the customer asked for a person", "human", false},
    [INBOX_CAUSE_SENTIMENT] = {"sentiment", "the customer seems upset", "human", true},
    [INBOX_CAUSE_LOOP] = {"loop", "the conversation is going in circles", "human", true},
    [INBOX_CAUSE_MODEL] = {"model", "the assistant asked for a person", "human", false},
    [INBOX_CAUSE_FAILURES] = {"failures", "the assistant kept failing", "human", false},
    [INBOX_CAUSE_NO_ANSWER] = {"no_answer", "no answer in the knowledge base", "human", false},
    [INBOX_CAUSE_GUARDRAIL] = {"guardrail", "the assistant's answer was not safe to send", "human",
                               false},
    [INBOX_CAUSE_UNSUPPORTED] = {"unsupported",
                                 "the customer sent something the assistant "
                                 "cannot read",
                                 "human", false},
    [INBOX_CAUSE_SEND_REFUSED] = {"send_refused", "Meta refused the reply", "human", false},
    [INBOX_CAUSE_BUSINESS_REPLY] = {"business_reply", "a person replied from Meta's apps", "paused",
                                    false},
    [INBOX_CAUSE_OPERATOR] = {"operator", "an operator took over", "human", false},
};

const char *inbox_handoff_cause_name(enum inbox_handoff_cause c)
{
    return (unsigned)c < INBOX_N_CAUSES ? causes[c].name : "unknown";
}

const char *inbox_handoff_cause_words(enum inbox_handoff_cause c)
{
    return (unsigned)c < INBOX_N_CAUSES ? causes[c].words : "unknown";
}

enum err inbox_handoff_cause_parse(const char *name, enum inbox_handoff_cause *out)
{
    for (int i = 0; name && i < INBOX_N_CAUSES; i++)
        if (strcmp(name, causes[i].name) == 0) {
            *out = (enum inbox_handoff_cause)i;
            return ERR_OK;
        }
    return ERR_INVALID;
}

bool inbox_handoff_is_cooling(const struct store_conversation *cv, int64_t cooldown_ms,
                              int64_t now_ms)
{
    if (cooldown_ms <= 0)
        cooldown_ms = INBOX_HANDOFF_COOLDOWN_MS_DEFAULT;
    return cv->handed_back_at > 0 && now_ms < cv->handed_back_at + cooldown_ms;
}

static enum err check_cooling(struct store *s, int64_t conv, int64_t cooldown_ms, int64_t now_ms,
                              bool *cooling)
{
    struct arena a;
    arena_init(&a);
    struct store_conversation cv;
    enum err rc = store_conversation_get(s, &a, conv, &cv);
    *cooling = rc == ERR_OK && inbox_handoff_is_cooling(&cv, cooldown_ms, now_ms);
    arena_release(&a);
    return rc;
}

enum err inbox_handoff(struct store *s, int64_t conv, enum inbox_handoff_cause cause,
                       const char *reason, int64_t cooldown_ms, int64_t now_ms,
                       struct inbox_handoff_outcome *out)
{
    *out = (struct inbox_handoff_outcome){0};
    if ((unsigned)cause >= INBOX_N_CAUSES || cause == INBOX_CAUSE_OPERATOR)
        return ERR_INVALID;
    enum err rc = check_cooling(s, conv, cooldown_ms, now_ms, &out->is_cooling);
    if (rc != ERR_OK)
        return rc;
    if (out->is_cooling && causes[cause].is_history) {
        log_info("handoff.cooling", LOG_INT("conversation", conv),
                 LOG_STR("cause", causes[cause].name));
        return ERR_OK;
    }
    out->is_cooling = false;
    bool to_human = strcmp(causes[cause].to, "human") == 0;
    if (to_human)
        rc = store_operator_pick_online(s, now_ms - INBOX_ONLINE_MS, now_ms, &out->operator_id);
    struct store_mode_change c = {.from = {"ai"},
                                  .to = causes[cause].to,
                                  .cause = causes[cause].name,
                                  .reason = reason ? reason : causes[cause].words,
                                  .operator_id = out->operator_id};
    if (rc == ERR_OK)
        rc = store_conversation_change_mode(s, conv, &c, now_ms, &out->changed);
    if (rc == ERR_OK && !out->changed)
        out->operator_id = 0;
    if (rc == ERR_OK && out->changed)
        log_info("handoff.started", LOG_INT("conversation", conv),
                 LOG_STR("cause", causes[cause].name), LOG_INT("operator", out->operator_id));
    return rc;
}

enum err inbox_take_over(struct store *s, int64_t conv, int64_t operator_id, int64_t now_ms,
                         bool *changed)
{
    *changed = false;
    if (operator_id <= 0)
        return ERR_INVALID;
    struct store_mode_change c = {.from = {"ai", "paused", "human"},
                                  .to = "human",
                                  .cause = causes[INBOX_CAUSE_OPERATOR].name,
                                  .reason = causes[INBOX_CAUSE_OPERATOR].words,
                                  .operator_id = operator_id};
    enum err rc = store_conversation_change_mode(s, conv, &c, now_ms, changed);
    if (rc == ERR_OK && *changed)
        log_info("handoff.taken_over", LOG_INT("conversation", conv),
                 LOG_INT("operator", operator_id));
    return rc;
}

enum err inbox_hand_back(struct store *s, int64_t conv, int64_t operator_id, int64_t now_ms,
                         bool *changed)
{
    struct store_mode_change c = {.from = {"human", "paused"}, .to = "ai", .is_hand_back = true};
    enum err rc = store_conversation_change_mode(s, conv, &c, now_ms, changed);
    if (rc == ERR_OK && *changed)
        log_info("handoff.handed_back", LOG_INT("conversation", conv),
                 LOG_INT("operator", operator_id));
    return rc;
}
