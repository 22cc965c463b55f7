/*
 * agent/agent.c - one turn's decision: the signals first, then the answer (the LLM with its
 * tools, or retrieval), then the guardrails, then the loop check on what would be sent.
 *
 * Order: nothing readable -> unsupported; a handoff keyword -> keyword; (unless the hand-back
 * cool-down holds them) an upset recent average -> sentiment, the customer repeating an
 * answered question -> loop; then the answer. With an LLM: up to AGENT_TOOL_ROUNDS answers
 * with tool calls are fed back; handoff_to_human -> model; the LLM failing after its retries,
 * AGENT_TOOL_FAILURES failed tool calls, or no usable text -> failures; a reply naming a
 * price, percentage, code or discount that no passage or tool result of this turn backs is
 * asked for once more with a correction, and a second such reply -> guardrail. Finally an
 * answer the AI already gave recently -> loop. Handoff is always one of these causes, never
 * something read out of the model's text.
 */
#include "agent/agent_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

#define NOTICE                                                                                     \
    "I'm passing this to a member of our team, and they will reply here as soon as they can."
#define REASON_MAX 200

static const char *const cause_names[] = {
    [AGENT_CAUSE_NONE] = "none",
    [AGENT_CAUSE_KEYWORD] = "keyword",
    [AGENT_CAUSE_SENTIMENT] = "sentiment",
    [AGENT_CAUSE_LOOP] = "loop",
    [AGENT_CAUSE_MODEL] = "model",
    [AGENT_CAUSE_FAILURES] = "failures",
    [AGENT_CAUSE_NO_ANSWER] = "no_answer",
    [AGENT_CAUSE_GUARDRAIL] = "guardrail",
    [AGENT_CAUSE_UNSUPPORTED] = "unsupported",
};

const char *agent_cause_name(enum agent_cause c)
{
    return (unsigned)c < sizeof cause_names / sizeof cause_names[0] ? cause_names[c] : "unknown";
}

bool agent_needs_disclosure(int64_t disclosed_at, int64_t last_ai_at, int64_t now_ms)
{
    return disclosed_at <= 0 || last_ai_at <= 0 || now_ms - last_ai_at > AGENT_DISCLOSURE_GAP_MS;
}

/* ---- the agent ---- */

enum err agent_new(const struct agent_opts *o, struct agent **out, char why[AGENT_WHY_MAX])
{
    why[0] = '\0';
    struct agent *ag = xcalloc(1, sizeof *ag);
    enum err rc = agent_tools_load(o->tools_file, &ag->tools, why);
    if (rc == ERR_OK)
        rc = agent_llm_init(&ag->llm, o->llm_url, o->llm_model, o->llm_api_key, o->llm_timeout_ms);
    if (rc != ERR_OK) {
        agent_free(ag);
        return rc;
    }
    if (ag->llm.url)
        ag->tools_json = agent_tools_json(&ag->tools);
    ag->business_name =
        xstrdup(o->business_name && *o->business_name ? o->business_name : "our business");
    size_t cap = strlen(ag->business_name) + 64;
    ag->disclosure = xmalloc(cap);
    snprintf(ag->disclosure, cap, "I'm the AI assistant for %s.", ag->business_name);
    *out = ag;
    return ERR_OK;
}

void agent_free(struct agent *ag)
{
    if (!ag)
        return;
    agent_llm_release(&ag->llm);
    agent_tools_release(&ag->tools);
    json_decref(ag->tools_json);
    free(ag->business_name);
    free(ag->disclosure);
    free(ag);
}

bool agent_has_llm(const struct agent *ag)
{
    return ag->llm.url != NULL;
}

long agent_call_budget_ms(const struct agent *ag)
{
    long tool_max = 0;
    for (size_t i = 0; i < ag->tools.n; i++)
        tool_max =
            ag->tools.tools[i].timeout_ms > tool_max ? ag->tools.tools[i].timeout_ms : tool_max;
    long llm = ag->llm.url ? ag->llm.timeout_ms + AGENT_LLM_MAX_WAIT_MS : 0;
    return llm > tool_max ? llm : tool_max;
}

enum err agent_tools_check_file(const char *path, char why[AGENT_WHY_MAX])
{
    struct agent_tools ts;
    why[0] = '\0';
    enum err rc = agent_tools_load(path, &ts, why);
    if (rc == ERR_OK)
        agent_tools_release(&ts);
    return rc;
}

/* ---- outcomes ---- */

void agent_set_handoff(const struct agent *ag, struct arena *a, const struct agent_context *ctx,
                       enum agent_cause cause, const char *reason, struct agent_decision *out)
{
    out->action = AGENT_HANDOFF;
    out->cause = cause;
    out->reason = reason;
    out->source = NULL;
    out->is_disclosed = ctx->needs_disclosure;
    out->text = ctx->needs_disclosure ? arena_printf(a, "%s %s", ag->disclosure, NOTICE) : NOTICE;
}

bool agent_set_answer(const struct agent *ag, struct arena *a, const struct agent_context *ctx,
                      const char *text, struct agent_decision *out)
{
    struct agent_shape sh = {.disclosure = ctx->needs_disclosure ? ag->disclosure : NULL,
                             .max_sentences = AGENT_MAX_SENTENCES,
                             .max_bytes = ctx->max_bytes,
                             .max_chars = ctx->max_chars};
    const char *shaped = agent_shape(a, text, &sh);
    size_t dl = sh.disclosure ? strlen(sh.disclosure) : 0;
    if (!*shaped || strlen(shaped) <= dl)
        return false; /* nothing but the disclosure left */
    out->action = AGENT_ANSWER;
    out->cause = AGENT_CAUSE_NONE;
    out->reason = NULL;
    out->text = shaped;
    out->is_disclosed = sh.disclosure != NULL;
    return true;
}

/* ---- the LLM path ---- */

struct llm_turn {
    const struct agent *ag;
    struct arena *a;
    const struct agent_context *ctx;
    struct agent_decision *out;
    json_t *msgs;
    struct agent_evidence *evidence; /* passages, then tool results */
    size_t n_evidence, cap_evidence;
};

static void add_evidence(struct llm_turn *t, const char *text, bool is_data)
{
    if (t->n_evidence == t->cap_evidence) {
        size_t cap = t->cap_evidence ? 2 * t->cap_evidence : 8;
        struct agent_evidence *grown = arena_alloc(t->a, cap * sizeof *grown);
        if (t->n_evidence)
            memcpy(grown, t->evidence, t->n_evidence * sizeof *grown);
        t->evidence = grown;
        t->cap_evidence = cap;
    }
    t->evidence[t->n_evidence++] = (struct agent_evidence){text, is_data};
}

/* The model's reason for handing off, cut to a few plain words. */
static const char *model_reason(struct arena *a, const char *arguments)
{
    json_t *args = json_loads(arguments ? arguments : "", 0, NULL);
    const char *r = json_string_value(json_object_get(args, "reason"));
    const char *plain = r ? agent_plain(a, r) : "";
    json_decref(args);
    size_t n = strlen(plain);
    if (n > REASON_MAX) {
        n = REASON_MAX;
        while (n > 0 && ((unsigned char)plain[n] & 0xC0) == 0x80)
            n--;
    }
    return n ? arena_printf(a, "the assistant asked for a person: %.*s", (int)n, plain) : NULL;
}

static json_t *assistant_calls(const struct agent_llm_reply *r)
{
    json_t *calls = json_array();
    for (size_t i = 0; i < r->n_calls; i++)
        json_array_append_new(calls,
                              json_pack("{s:s, s:s, s:{s:s, s:s}}", "id", r->calls[i].id, "type",
                                        "function", "function", "name", r->calls[i].name,
                                        "arguments", r->calls[i].arguments));
    json_t *m = json_pack("{s:s, s:o}", "role", "assistant", "tool_calls", calls);
    json_object_set_new(m, "content", r->content ? json_string(r->content) : json_null());
    return m;
}

/* Runs the calls of one answer; false when the turn is decided (a handoff). */
static bool run_calls(struct llm_turn *t, const struct agent_llm_reply *r)
{
    for (size_t i = 0; i < r->n_calls; i++)
        if (strcmp(r->calls[i].name, AGENT_HANDOFF_TOOL) == 0) {
            agent_set_handoff(t->ag, t->a, t->ctx, AGENT_CAUSE_MODEL,
                              model_reason(t->a, r->calls[i].arguments), t->out);
            return false;
        }
    json_array_append_new(t->msgs, assistant_calls(r));
    for (size_t i = 0; i < r->n_calls; i++) {
        const struct agent_tool *tool = agent_tools_find(&t->ag->tools, r->calls[i].name);
        bool failed = false;
        const char *result = "error: there is no tool of that name";
        if (tool) {
            if (t->ctx->keepalive)
                t->ctx->keepalive(t->ctx->keepalive_ctx, tool->timeout_ms);
            result = agent_tool_run(t->a, tool, r->calls[i].arguments, &failed);
            t->out->n_tool_calls++;
            t->out->n_tool_failures += failed;
            if (!failed)
                add_evidence(t, result, true);
        }
        json_array_append_new(t->msgs, json_pack("{s:s, s:s, s:s}", "role", "tool", "tool_call_id",
                                                 r->calls[i].id, "content", result));
    }
    if (t->out->n_tool_failures >= AGENT_TOOL_FAILURES) {
        agent_set_handoff(t->ag, t->a, t->ctx, AGENT_CAUSE_FAILURES, "a tool kept failing", t->out);
        return false;
    }
    return true;
}

static const char *correction(struct arena *a, const char *claim)
{
    return arena_printf(a,
                        "[A note from the system, not the customer: your reply mentioned %s, "
                        "which is not in the knowledge passages or the tool results. Write the "
                        "reply again without it, or call " AGENT_HANDOFF_TOOL ".]",
                        claim);
}

/* The model's text as the answer, after the claims check; false to ask again. */
static bool take_text(struct llm_turn *t, const char *content, bool *corrected)
{
    if (!content || !*content || agent_looks_like_markup(content)) {
        agent_set_handoff(t->ag, t->a, t->ctx, AGENT_CAUSE_FAILURES,
                          "the language model gave no usable answer", t->out);
        return true;
    }
    struct agent_decision d = *t->out;
    if (!agent_set_answer(t->ag, t->a, t->ctx, content, &d)) {
        agent_set_handoff(t->ag, t->a, t->ctx, AGENT_CAUSE_FAILURES,
                          "the language model gave no usable answer", t->out);
        return true;
    }
    const char *claim = agent_unsupported_claim(t->a, d.text, t->evidence, t->n_evidence);
    if (!claim) {
        *t->out = d;
        return true;
    }
    log_info("agent.guard_claim", LOG_INT("conversation", t->ctx->conversation_id),
             LOG_BOOL("retry", !*corrected));
    if (*corrected) {
        agent_set_handoff(t->ag, t->a, t->ctx, AGENT_CAUSE_GUARDRAIL,
                          arena_printf(t->a,
                                       "the assistant kept mentioning %s, which nothing "
                                       "in the knowledge base or tools backs",
                                       claim),
                          t->out);
        return true;
    }
    *corrected = true;
    json_array_append_new(t->msgs,
                          json_pack("{s:s, s:s}", "role", "assistant", "content", content));
    json_array_append_new(
        t->msgs, json_pack("{s:s, s:s}", "role", "user", "content", correction(t->a, claim)));
    return false;
}

/* One request; false when it failed (the turn is handed off). */
static bool ask(struct llm_turn *t, struct agent_llm_reply *r)
{
    char *body = agent_request_body(t->a, t->ag->llm.model, t->msgs, t->ag->tools_json);
    enum err rc =
        body ? agent_llm_complete(&t->ag->llm, t->a, body, strlen(body), t->ctx, r, &t->out->usage)
             : ERR_INTERNAL;
    if (rc == ERR_OK)
        return true;
    agent_set_handoff(t->ag, t->a, t->ctx, AGENT_CAUSE_FAILURES,
                      rc == ERR_INVALID ? "the language model refused the request"
                                        : "the language model kept failing",
                      t->out);
    return false;
}

static void decide_with_llm(const struct agent *ag, struct kb *kb, struct arena *a,
                            const struct agent_settings *st, const struct agent_context *ctx,
                            const char *query, struct agent_decision *out)
{
    struct agent_passage p[AGENT_PASSAGES];
    size_t np = agent_find_passages(kb, a, query, p, AGENT_PASSAGES);
    struct llm_turn t = {.ag = ag, .a = a, .ctx = ctx, .out = out};
    for (size_t i = 0; i < np; i++)
        add_evidence(&t, p[i].text, false);
    t.msgs = agent_messages(a, agent_system_prompt(a, ag->business_name, st, ctx, p, np), ctx);
    arena_on_free(a, (arena_free_fn *)json_decref, t.msgs);
    out->usage.model = ag->llm.model;
    bool corrected = false;
    for (int rounds = 0;;) {
        struct agent_llm_reply r;
        if (!ask(&t, &r))
            return;
        if (r.n_calls == 0) {
            if (take_text(&t, r.content, &corrected))
                return;
            continue;
        }
        if (rounds++ == AGENT_TOOL_ROUNDS) {
            agent_set_handoff(ag, a, ctx, AGENT_CAUSE_FAILURES,
                              "the assistant could not finish with its tools", out);
            return;
        }
        if (!run_calls(&t, &r))
            return;
    }
}

/* ---- the turn ---- */

/* This turn's text for signals and search, the customer's messages joined. */
static const char *merged(struct arena *a, const struct agent_context *ctx)
{
    const char *s = "";
    for (size_t i = 0; i < ctx->n_incoming; i++)
        if (ctx->incoming[i].text && *ctx->incoming[i].text)
            s = arena_printf(a, "%s%s%s", s, *s ? "\n" : "", ctx->incoming[i].text);
    return s;
}

/* Whether this turn's messages include the opening of the chat from an ad or a link. */
static bool opens_chat(const struct agent_context *ctx)
{
    for (size_t i = 0; i < ctx->n_incoming; i++)
        if (ctx->incoming[i].opens_chat)
            return true;
    return false;
}

/* What the customer's words say before anything is looked up; true when it decided. */
static bool first_signals(const struct agent *ag, struct arena *a, const struct agent_settings *st,
                          const struct agent_context *ctx, const char *text,
                          struct agent_decision *out)
{
    if (!*text && !opens_chat(ctx)) {
        agent_set_handoff(ag, a, ctx, AGENT_CAUSE_UNSUPPORTED, NULL, out);
        return true;
    }
    long k = agent_keywords_match(a, st->keywords, text);
    if (k >= 0) {
        agent_set_handoff(
            ag, a, ctx, AGENT_CAUSE_KEYWORD,
            arena_printf(a, "the customer asked for a person (\"%s\")", st->keywords->phrases[k]),
            out);
        return true;
    }
    return false;
}

/* A greeting, thanks or "ok" without an LLM; true when it decided. */
static bool small_talk(const struct agent *ag, struct arena *a, const struct agent_context *ctx,
                       const char *text, struct agent_decision *out)
{
    bool is_talk = false;
    const char *reply = NULL;
    if (!agent_has_llm(ag) && !*text) { /* opened from an ad or a link, nothing said yet */
        reply = agent_greeting();
        is_talk = true;
    } else if (!agent_has_llm(ag)) {
        reply = agent_small_talk(a, text, &is_talk);
    }
    if (!is_talk)
        return false;
    if (!reply || !agent_set_answer(ag, a, ctx, reply, out))
        out->action = AGENT_SILENT;
    return true;
}

/* Whether this turn is only a greeting, thanks or an "ok": saying it twice, and being answered
 * alike, is no loop. */
static bool is_small_talk(struct arena *a, const char *text)
{
    bool talk = false;
    (void)agent_small_talk(a, text, &talk);
    return talk;
}

/* Signals read from the recent history (held back while cooling); true when one decided. */
static bool history_signals(const struct agent *ag, struct arena *a,
                            const struct agent_settings *st, const struct agent_context *ctx,
                            const char *text, struct agent_decision *out)
{
    if (ctx->hold_history_signals)
        return false;
    double avg = agent_sentiment_recent(ctx, out->sentiment);
    if (avg < st->sentiment_threshold) {
        agent_set_handoff(ag, a, ctx, AGENT_CAUSE_SENTIMENT,
                          arena_printf(a,
                                       "the customer seems upset (recent messages score "
                                       "%.2f, below %.2f)",
                                       avg, st->sentiment_threshold),
                          out);
        return true;
    }
    if (!is_small_talk(a, text) && agent_customer_repeats(a, ctx)) {
        agent_set_handoff(ag, a, ctx, AGENT_CAUSE_LOOP,
                          "the customer asked again what the assistant had answered", out);
        return true;
    }
    return false;
}

enum err agent_decide(const struct agent *ag, struct kb *kb, struct arena *a,
                      const struct agent_settings *st, const struct agent_context *ctx,
                      struct agent_decision *out)
{
    *out = (struct agent_decision){0};
    if (!ctx->incoming || ctx->n_incoming == 0)
        return ERR_INVALID;
    out->sentiment = arena_alloc(a, ctx->n_incoming * sizeof *out->sentiment);
    for (size_t i = 0; i < ctx->n_incoming; i++)
        out->sentiment[i] = agent_sentiment(a, ctx->incoming[i].text);
    const char *text = merged(a, ctx);
    if (first_signals(ag, a, st, ctx, text, out) || small_talk(ag, a, ctx, text, out) ||
        history_signals(ag, a, st, ctx, text, out))
        return ERR_OK;
    const char *query = ctx->topic_hint ? arena_printf(a, "%s\n%s", text, ctx->topic_hint) : text;
    if (agent_has_llm(ag))
        decide_with_llm(ag, kb, a, st, ctx, query, out);
    else
        agent_answer_by_retrieval(ag, kb, a, ctx, query, out);
    if (out->action == AGENT_ANSWER && !ctx->hold_history_signals && !is_small_talk(a, text) &&
        agent_reply_repeats(a, ctx, out->text, ag->disclosure))
        agent_set_handoff(ag, a, ctx, AGENT_CAUSE_LOOP, "the assistant was about to repeat itself",
                          out);
    return ERR_OK;
}
