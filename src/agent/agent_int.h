/*
 * agent/agent_int.h - what the agent's own files share (and its unit tests and fuzz targets
 * reach): text helpers, the signals, the guardrails, the LLM client, the tools. Nothing else
 * in src/ includes this.
 */
#ifndef SB_AGENT_INT_H
#define SB_AGENT_INT_H

#include <assert.h>
#include <jansson.h>
#include <string.h>

#include "agent/agent.h"
#include "core/crypto.h"
#include "core/json.h"

#define AGENT_TEXT_MAX               8192 /* bytes of one message or reply the agent reads */
#define AGENT_WORD_MAX               64
#define AGENT_MAX_SENTENCES          3
#define AGENT_SENTIMENT_WORDS        512
#define AGENT_SENTIMENT_WINDOW       3 /* recent scored customer messages averaged */
#define AGENT_HANDOFF_TOOL           "handoff_to_human"
#define AGENT_MAX_TOOL_CALLS         8 /* per model answer */
#define AGENT_TOOL_ROUNDS            3 /* answers with tool calls fed back, per turn */
#define AGENT_TOOL_FAILURES          2 /* failed tool calls in a turn that hand off */
#define AGENT_LLM_ATTEMPTS           3
#define AGENT_LLM_MAX_WAIT_MS        20000 /* a longer Retry-After is not waited for */
#define AGENT_LLM_MAX_TOKENS         1024
#define AGENT_LLM_TIMEOUT_MS_DEFAULT 30000
#define AGENT_PASSAGES               3

static inline void crypto_cleanse_str(char *s)
{
    if (s)
        crypto_cleanse(s, strlen(s));
}

/* ---- text (text.c) ---- */

/* One code point of s[0..n) into *cp (U+FFFD for a malformed byte, which counts 1); its
 * length in bytes, 0 at the end. */
size_t agent_utf8_next(const char *s, size_t n, uint32_t *cp);
bool agent_is_emoji(uint32_t cp);
/* text folded: lower case, Latin accents removed, punctuation gone, words separated by one
 * space, emoji as words of their own (see text.c). At most AGENT_TEXT_MAX bytes are read. */
const char *agent_fold(struct arena *a, const char *text);
/* The folded words of text into words (at most max, each <= AGENT_WORD_MAX); how many. */
size_t agent_words(struct arena *a, const char *text, const char **words, size_t max);

struct agent_span {
    size_t off, len;
};
/* The first max sentences of plain text s (a '.', '!', '?', '…' or a CJK end mark followed by
 * a space or the end, not after "e.g." or an initial; a line break also ends one), trimmed. */
size_t agent_sentences(const char *s, struct agent_span *out, size_t max);

/* ---- signals (keywords.c, sentiment.c, loops.c) ---- */

struct agent_keywords {
    const char **phrases; /* folded */
    bool *whole;          /* the whole message must be the phrase */
    size_t n;
};

/* One phrase a line (blank lines ignored; "=phrase": the whole message). ERR_INVALID with
 * *why for more than 200 phrases or one longer than 100 bytes. In the arena. */
MUST_USE enum err agent_keywords_parse(struct arena *a, const char *text,
                                       struct agent_keywords *out, const char **why);
const struct agent_keywords *agent_keywords_default(void);
/* The defaults as the setting's text, built once (static). */
const char *agent_keywords_default_setting(void);
/* The defaults as the setting's text (what the dashboard shows before anyone edits it). */
const char *agent_default_keywords_text(struct arena *a);
/* The index of the first phrase found in text, -1 for none. */
long agent_keywords_match(struct arena *a, const struct agent_keywords *k, const char *text);

/* -1..1 (0: no sentiment words). */
double agent_sentiment(struct arena *a, const char *text);
/* The average of the non-zero scores of the last AGENT_SENTIMENT_WINDOW customer messages:
 * this turn's (incoming[], one per ctx->incoming) and then the history's recorded ones. */
double agent_sentiment_recent(const struct agent_context *ctx, const double *incoming);

/* 0..1: Dice coefficient of the character trigrams of the folded texts. */
double agent_similarity(struct arena *a, const char *x, const char *y);
bool agent_customer_repeats(struct arena *a, const struct agent_context *ctx);
bool agent_reply_repeats(struct arena *a, const struct agent_context *ctx, const char *reply,
                         const char *disclosure);

/* Small talk without an LLM (smalltalk.c): NULL with *is_talk false when text is more than a
 * greeting, thanks or an acknowledgement; NULL with *is_talk true for an acknowledgement
 * (nothing to say); else the reply, in the customer's language. */
const char *agent_small_talk(struct arena *a, const char *text, bool *is_talk);
/* "Hi! How can I help you today?" */
const char *agent_greeting(void);

/* ---- guardrails (guard.c) ---- */

/* Markdown removed, whitespace folded, line breaks made sentence ends; in the arena. */
const char *agent_plain(struct arena *a, const char *text);

struct agent_shape {
    const char *disclosure;      /* a sentence to open with; NULL: none */
    int max_sentences;           /* in all, the disclosure included */
    size_t max_bytes, max_chars; /* 0: no limit */
};
/* text as plain whole sentences within the shape ("" when nothing is left). */
const char *agent_shape(struct arena *a, const char *text, const struct agent_shape *sh);
/* Whether text opens like JSON or markup (a model writing a tool call as text). */
bool agent_looks_like_markup(const char *text);
/* What can back a claim: a knowledge passage, or a tool's answer (is_data: its bare numbers,
 * {"total": 42.5}, count as amounts; a passage's numbers count only where they are one). */
struct agent_evidence {
    const char *text;
    bool is_data;
};
/* The first price, percentage, code or discount in reply that no evidence backs, in words
 * ("the price 12.00"); NULL when every claim is backed. */
const char *agent_unsupported_claim(struct arena *a, const char *reply,
                                    const struct agent_evidence *ev, size_t n_ev);

/* ---- the LLM (llm.c) ---- */

struct agent_tool_call {
    const char *id, *name, *arguments; /* arguments: JSON text */
};

struct agent_llm_reply {
    const char *content; /* NULL when the model only called tools */
    struct agent_tool_call *calls;
    size_t n_calls;
    const char *finish_reason; /* NULL when absent */
    bool has_usage;
    int64_t prompt_tokens, completion_tokens;
};

/* The answer of a 200: ERR_INVALID (and *why) when it holds no message. In the arena. */
MUST_USE enum err agent_llm_parse_reply(struct arena *a, const char *body, size_t len,
                                        struct agent_llm_reply *out, const char **why);

struct agent_llm_error {
    char type[64], code[64], message[256]; /* "" when absent; cut on a character boundary */
};
/* An error body; ERR_INVALID when it is none of the known shapes (fields empty). */
MUST_USE enum err agent_llm_parse_error(const char *body, size_t len, struct agent_llm_error *out);

struct agent_llm {
    char *url; /* ".../chat/completions"; NULL: no LLM */
    char *model;
    char *auth; /* "Authorization: Bearer ..." or NULL */
    long timeout_ms;
};

MUST_USE enum err agent_llm_init(struct agent_llm *l, const char *url, const char *model,
                                 const char *key, long timeout_ms);
void agent_llm_release(struct agent_llm *l);
/* One completion with the retry policy; usage counts every attempt and adds the tokens.
 * ERR_UPSTREAM: it kept failing; ERR_INVALID: refused (4xx) or unusable. */
MUST_USE enum err agent_llm_complete(const struct agent_llm *l, struct arena *a, const char *body,
                                     size_t len, const struct agent_context *ctx,
                                     struct agent_llm_reply *out, struct agent_usage *usage);

/* ---- the context stack (prompt.c) ---- */

struct agent_passage {
    const char *source; /* "shipping.md > Costs and times" */
    const char *text;
};

extern const char agent_default_persona[];

const char *agent_system_prompt(struct arena *a, const char *business,
                                const struct agent_settings *st, const struct agent_context *ctx,
                                const struct agent_passage *p, size_t n);
/* [system, earlier turns..., this turn] (caller owns the array). */
json_t *agent_messages(struct arena *a, const char *system, const struct agent_context *ctx);
/* {"model","messages","tools"?,"max_completion_tokens"} as JSON text in the arena. */
char *agent_request_body(struct arena *a, const char *model, const json_t *messages, json_t *tools);

/* ---- tools (tools.c) ---- */

struct agent_tool {
    const char *name, *description; /* borrowed from the file's JSON */
    const json_t *parameters;
    const char *url;
    bool is_post;
    char **headers; /* "Name: value" with ${VAR} resolved */
    size_t n_headers;
    long timeout_ms;
};

struct agent_tools {
    json_t *root;
    struct agent_tool *tools;
    size_t n;
};

/* ERR_INVALID / ERR_TOO_LARGE with why (one line naming the tool and field). */
MUST_USE enum err agent_tools_parse(const char *data, size_t len, struct agent_tools *out,
                                    char *why);
/* path NULL or "": no tools (ERR_OK). ERR_IO when unreadable. */
MUST_USE enum err agent_tools_load(const char *path, struct agent_tools *out, char *why);
void agent_tools_release(struct agent_tools *ts);
/* The "tools" array of a request: handoff_to_human first, then the file's (caller owns it). */
json_t *agent_tools_json(const struct agent_tools *ts);
const struct agent_tool *agent_tools_find(const struct agent_tools *ts, const char *name);

struct agent_tool_req {
    const char *url;
    const char *body; /* POST: the JSON object of the remaining arguments; GET: NULL */
};
/* The request a call makes; ERR_INVALID with *why (words for the model) for bad arguments. */
MUST_USE enum err agent_tool_request(struct arena *a, const struct agent_tool *t,
                                     const char *arguments, struct agent_tool_req *out,
                                     const char **why);
/* Runs the call; the result for the model (never NULL). *failed: the tool did not answer or
 * answered 5xx. */
const char *agent_tool_run(struct arena *a, const struct agent_tool *t, const char *arguments,
                           bool *failed);

/* ---- the agent (agent.c, retrieve.c) ---- */

struct agent {
    struct agent_llm llm;
    struct agent_tools tools;
    json_t *tools_json; /* NULL without an LLM */
    char *business_name;
    char *disclosure; /* "I'm the AI assistant for <business>." */
};

/* The retrieval-only answer (no LLM): the best sentences of the best passage, or a handoff. */
void agent_answer_by_retrieval(const struct agent *ag, struct kb *kb, struct arena *a,
                               const struct agent_context *ctx, const char *query,
                               struct agent_decision *out);
/* kb_search() results as passages with their source, best first; how many. */
size_t agent_find_passages(struct kb *kb, struct arena *a, const char *query,
                           struct agent_passage *out, size_t max);
/* The decision's text for a handoff: the notice, after the disclosure when one is due. */
void agent_set_handoff(const struct agent *ag, struct arena *a, const struct agent_context *ctx,
                       enum agent_cause cause, const char *reason, struct agent_decision *out);
/* The decision's text for an answer: shaped; false when nothing is left of it. */
bool agent_set_answer(const struct agent *ag, struct arena *a, const struct agent_context *ctx,
                      const char *text, struct agent_decision *out);

#endif
