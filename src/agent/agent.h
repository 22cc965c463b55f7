/*
 * agent/agent.h - the AI's decision for one turn: answer the customer, or step aside.
 *
 * Owns: the context stack (persona, the last turns, knowledge passages with their source,
 * what is known of the customer and what the message refers to), the OpenAI-compatible LLM
 * client (retries, tool calling, token usage), the HTTP tools of SB_TOOLS_FILE and the
 * built-in handoff_to_human tool, the guardrails every reply passes (3 sentences, no made-up
 * price or discount, the AI disclosure, platform length, no Markdown), the handoff signals
 * (keywords, sentiment, loops, the model's tool, repeated failures), the retrieval-only answer
 * when no LLM is configured, and the agent.* settings (defaults and validation).
 * Does not own: reading or writing the store (inbox/ assembles the context and applies the
 * decision in its own transaction), the handoff state machine (inbox/handoff.h), sending.
 * Threads: a struct agent is read-only after agent_new() and shared by every worker; each
 * agent_decide() call uses the caller's struct kb (one per worker connection) and arena.
 * Never logs message text, prompts, replies, tool results or keys: ids, counts and classes.
 */
#ifndef SB_AGENT_AGENT_H
#define SB_AGENT_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/mem.h"

struct kb;
struct agent;

/* ---- settings (settings table, edited from the dashboard; the agent owns them) ---- */

#define AGENT_SETTING_PERSONA             "agent.persona"
#define AGENT_SETTING_TONE                "agent.tone"
#define AGENT_SETTING_HANDOFF_KEYWORDS    "agent.handoff_keywords"
#define AGENT_SETTING_SENTIMENT_THRESHOLD "agent.sentiment_threshold"
#define AGENT_SETTING_HISTORY_TURNS       "agent.history_turns"
#define AGENT_SETTING_HANDOFF_COOLDOWN_S  "agent.handoff_cooldown_s"

/* The six keys above, in that order. */
extern const char *const agent_setting_keys[];
#define AGENT_N_SETTINGS 6

struct agent_keywords; /* parsed, folded handoff phrases */

struct agent_settings {
    const char *persona; /* template: {business_name} and {tone} are filled in */
    const char *tone;    /* a few words: "warm, friendly and brief" */
    const struct agent_keywords *keywords;
    double sentiment_threshold; /* -1..1: a recent average below it hands off */
    int history_turns;          /* 10..20 earlier messages given to the model */
    int64_t handoff_cooldown_ms;
};

/* The defaults (persona, English tone, keywords in six languages, -0.5, 12, 600 s). The
 * strings are static; no arena needed. */
void agent_settings_init(struct agent_settings *st);
/* Whether value is acceptable for key, before it is saved (pure; any thread). ERR_INVALID with
 * *err_text (static words for the person editing it) for a bad value, ERR_NOT_FOUND for a key
 * that is not the agent's. */
MUST_USE enum err agent_setting_check(const char *key, const char *value, const char **err_text);
/* The default of an agent.* key as the text a person would store (the persona template, the
 * keywords one a line, "-0.5", ...); NULL for a key that is not the agent's. Static. */
const char *agent_setting_default(const char *key);
/* Applies a stored value over the defaults (parsed into the arena). A value that fails
 * agent_setting_check() leaves the default in place and returns ERR_INVALID with *err_text, so
 * the caller can log it once; ERR_NOT_FOUND for an unknown key. */
MUST_USE enum err agent_settings_apply(struct agent_settings *st, struct arena *a, const char *key,
                                       const char *value, const char **err_text);

/* ---- the agent ---- */

struct agent_opts {
    const char *llm_url;       /* SB_LLM_URL, ".../v1"; NULL or "": no LLM (retrieval answers) */
    const char *llm_model;     /* SB_LLM_MODEL */
    const char *llm_api_key;   /* SB_LLM_API_KEY: Authorization: Bearer when set */
    long llm_timeout_ms;       /* per request (SB_LLM_TIMEOUT_MS); 0: 30000 */
    const char *business_name; /* SB_BUSINESS_NAME */
    const char *tools_file;    /* SB_TOOLS_FILE; NULL or "": only handoff_to_human */
};

#define AGENT_WHY_MAX 256

/* Copies the options and loads the tools file. ERR_INVALID (and why, one line naming the
 * file and the problem) for a tools file that cannot be used; ERR_IO when unreadable.
 * Caller owns *out; free with agent_free(). */
MUST_USE enum err agent_new(const struct agent_opts *o, struct agent **out,
                            char why[AGENT_WHY_MAX]);
void agent_free(struct agent *ag);
/* Whether an LLM is configured. */
bool agent_has_llm(const struct agent *ag);
/* The longest one LLM or tool request may take (the caller keeps its lease beyond it). */
long agent_call_budget_ms(const struct agent *ag);

/* Checks SB_TOOLS_FILE at start (main: exit 2 with why on failure). */
MUST_USE enum err agent_tools_check_file(const char *path, char why[AGENT_WHY_MAX]);

/* ---- one turn ---- */

enum agent_role {
    AGENT_ROLE_CUSTOMER,
    AGENT_ROLE_AI,    /* the AI's own earlier replies */
    AGENT_ROLE_HUMAN, /* a person of the business: an operator or a reply from Meta's apps */
};

struct agent_message {
    enum agent_role role;
    const char *text;      /* NULL or "": nothing but attachments */
    const char *refers_to; /* plain words on what it carries or answers: "replied to the
                              business's Instagram story (URL)", "shared a reel (URL)"; NULL */
    int64_t at_ms;
    bool opens_chat;    /* a referral: the customer opened the chat from an ad or a link */
    bool has_sentiment; /* customer messages scored by an earlier turn */
    double sentiment;
};

/* Called before each network request of the turn with how long it may take, so the caller
 * can keep its job's lease. */
typedef void agent_keepalive_fn(void *ctx, long may_take_ms);

struct agent_context {
    int64_t conversation_id; /* logs only */
    const char *platform;    /* "Instagram" or "Messenger" */
    size_t max_bytes;        /* the platform's text limit in UTF-8 bytes (0: none) */
    size_t max_chars;        /* ... and in code points (0: none) */
    const char *customer_name, *customer_username; /* NULL when unknown */
    const char *opened_from; /* plain words: the ad or link that opened the chat; NULL */
    const char *topic_hint;  /* extra words for retrieval (the ad's title); NULL */
    const struct agent_message *history; /* earlier messages, oldest first */
    size_t n_history;
    const struct agent_message *incoming; /* this turn's customer messages, oldest first */
    size_t n_incoming;
    bool needs_disclosure;     /* agent_needs_disclosure() */
    bool hold_history_signals; /* cooling after a hand back: sentiment and loops stay quiet */
    int64_t now_ms;
    agent_keepalive_fn *keepalive; /* may be NULL */
    void *keepalive_ctx;
};

#define AGENT_DISCLOSURE_GAP_MS (12LL * 3600 * 1000) /* "after a long gap" */

/* The AI says it is an AI assistant at the start of a conversation (never disclosed, or
 * disclosed before a hand back: disclosed_at 0), and when its own last message is more than
 * AGENT_DISCLOSURE_GAP_MS old. Pure. */
bool agent_needs_disclosure(int64_t disclosed_at, int64_t last_ai_at, int64_t now_ms);

enum agent_action {
    AGENT_ANSWER,  /* send text */
    AGENT_HANDOFF, /* a person takes over; send text (the one short notice) if it moved */
    AGENT_SILENT,  /* nothing to say ("ok", a thumbs-up, without an LLM): no reply, no handoff */
};

enum agent_cause {
    AGENT_CAUSE_NONE,
    AGENT_CAUSE_KEYWORD,     /* the customer asked for a person */
    AGENT_CAUSE_SENTIMENT,   /* recent messages read as upset */
    AGENT_CAUSE_LOOP,        /* the AI about to repeat itself, or the customer repeating */
    AGENT_CAUSE_MODEL,       /* the model called handoff_to_human */
    AGENT_CAUSE_FAILURES,    /* the LLM or a tool kept failing */
    AGENT_CAUSE_NO_ANSWER,   /* retrieval found nothing good enough */
    AGENT_CAUSE_GUARDRAIL,   /* the reply kept making a claim nothing supports */
    AGENT_CAUSE_UNSUPPORTED, /* nothing readable: attachments only */
};

/* "keyword", "sentiment", ... (logs). */
const char *agent_cause_name(enum agent_cause c);

struct agent_usage {
    const char *model;                        /* NULL: no LLM call */
    int64_t prompt_tokens, completion_tokens; /* as the server reported; 0 when it did not */
    int n_calls;                              /* LLM requests made, retries included */
};

struct agent_decision {
    enum agent_action action;
    const char *text;  /* the guarded reply, or the handoff notice; NULL only when SILENT */
    bool is_disclosed; /* text opens with the AI disclosure */
    enum agent_cause cause;
    const char *reason; /* HANDOFF: plain words for operators (no message text) */
    const char *source; /* the passage the answer came from, "shipping.md > Costs and times";
                           NULL when none */
    double *sentiment;  /* n_incoming scores, -1..1, one per incoming message */
    struct agent_usage usage;
    int n_tool_calls, n_tool_failures;
};

/* Decides the turn with no database transaction open: searches the knowledge base through
 * kb (may be NULL: no passages), calls the LLM and tools when configured, applies the
 * guardrails. Everything in *out lives in the arena. Handoff is an outcome, not an error:
 * ERR_OK unless ctx is unusable (ERR_INVALID: no incoming message). Worker threads. */
MUST_USE enum err agent_decide(const struct agent *ag, struct kb *kb, struct arena *a,
                               const struct agent_settings *st, const struct agent_context *ctx,
                               struct agent_decision *out);

#endif
