/*
 * agent/prompt.c - the context stack, as OpenAI chat messages.
 *
 * Owns: the system message (the persona with the business's name and tone filled in; the
 * rules, which the persona cannot remove: at most 3 sentences, nothing invented, say it is an
 * AI, hand off when unsure; what is known of the customer and of what opened the chat; the
 * date; the knowledge passages, each with its source), the earlier turns (the customer as
 * "user", the AI as "assistant", the business's people as "assistant" marked as a person of the
 * team; what a message refers to in brackets after it; consecutive messages of one side
 * joined, since some servers' chat templates insist on turns that alternate) and the request
 * body. Pure; any thread.
 */
#include "agent/agent_int.h"

#include <string.h>

#include "core/buf.h"
#include "core/clock.h"

#define PROMPT_MAX ((size_t)64 * 1024)

static const char rules[] =
    "Rules:\n"
    "- Reply in at most 3 short sentences of plain text: no Markdown, no lists, no headings.\n"
    "- Use only the knowledge passages below, the tool results and this conversation. Never "
    "invent or guess a discount, coupon code, price, date or promise; if it is not written "
    "there, do not say it.\n"
    "- You are an AI assistant: never claim to be a person, and say so if asked.\n"
    "- If you are not sure, if the answer is not in the passages or tools, if the customer asks "
    "for a person or is upset, call the " AGENT_HANDOFF_TOOL " tool instead of answering.\n"
    "- Reply in the customer's language.\n";

/* The persona with {business_name} and {tone} filled in. */
static enum err fill_persona(struct buf *b, const char *persona, const char *business,
                             const char *tone)
{
    enum err rc = ERR_OK;
    for (const char *p = persona; *p && rc == ERR_OK;) {
        if (strncmp(p, "{business_name}", 15) == 0) {
            rc = buf_puts(b, business);
            p += 15;
        } else if (strncmp(p, "{tone}", 6) == 0) {
            rc = buf_puts(b, tone);
            p += 6;
        } else {
            rc = buf_append(b, p++, 1);
        }
    }
    return rc;
}

static enum err about_customer(struct buf *b, const struct agent_context *ctx)
{
    enum err rc = buf_puts(b, "\nThe customer");
    if (rc == ERR_OK && ctx->customer_name)
        rc = buf_printf(b, " is %s", ctx->customer_name);
    if (rc == ERR_OK && ctx->customer_username)
        rc = buf_printf(b, "%s@%s", ctx->customer_name ? " (" : " is ", ctx->customer_username);
    if (rc == ERR_OK && ctx->customer_name && ctx->customer_username)
        rc = buf_puts(b, ")");
    if (rc == ERR_OK)
        rc = buf_printf(b, " and writes on %s.\n", ctx->platform ? ctx->platform : "Messenger");
    if (rc == ERR_OK && ctx->opened_from)
        rc = buf_printf(b, "The chat was opened from %s.\n", ctx->opened_from);
    char date[32];
    clock_format_iso(ctx->now_ms, date, sizeof date);
    if (rc == ERR_OK)
        rc = buf_printf(b, "Today is %.10s (UTC).\n", date);
    return rc;
}

static enum err passages(struct buf *b, const struct agent_passage *p, size_t n)
{
    enum err rc = buf_puts(b, "\nKnowledge passages from the business's documents:\n");
    if (rc == ERR_OK && n == 0)
        rc = buf_puts(b, "(none matched this message)\n");
    for (size_t i = 0; rc == ERR_OK && i < n; i++)
        rc = buf_printf(b, "[%zu] %s\n%s\n", i + 1, p[i].source, p[i].text);
    return rc;
}

const char *agent_system_prompt(struct arena *a, const char *business,
                                const struct agent_settings *st, const struct agent_context *ctx,
                                const struct agent_passage *p, size_t n)
{
    struct buf b;
    buf_init(&b, PROMPT_MAX);
    enum err rc = fill_persona(&b, st->persona, business, st->tone);
    if (rc == ERR_OK)
        rc = buf_printf(&b, "\n\n%s", rules);
    if (rc == ERR_OK && ctx->needs_disclosure)
        rc = buf_puts(&b, "- Do not introduce yourself: your reply will open with a line that "
                          "says you are an AI assistant.\n");
    if (rc == ERR_OK)
        rc = about_customer(&b, ctx);
    if (rc == ERR_OK)
        err_ignore(passages(&b, p, n)); /* over the cap: what fits is still a usable prompt */
    const char *out = arena_strndup(a, b.data ? b.data : "", b.len);
    buf_release(&b);
    return out;
}

/* One message's words for the model: the text, then what it refers to in brackets. */
static const char *words_of(struct arena *a, const struct agent_message *m)
{
    const char *text = m->text && *m->text ? m->text : NULL;
    const char *who = m->role == AGENT_ROLE_HUMAN ? "(a person of the team wrote) " : "";
    if (text && m->refers_to)
        return arena_printf(a, "%s%s [%s]", who, text, m->refers_to);
    if (text)
        return arena_printf(a, "%s%s", who, text);
    return arena_printf(a, "%s[%s]", who, m->refers_to ? m->refers_to : "sent an attachment");
}

static void append_turn(struct arena *a, json_t *msgs, const char *role, const char *text)
{
    size_t n = json_array_size(msgs);
    json_t *last = n ? json_array_get(msgs, n - 1) : NULL;
    const char *lr = json_string_value(json_object_get(last, "role"));
    const char *lc = json_string_value(json_object_get(last, "content"));
    if (lr && lc && strcmp(lr, role) == 0 && strcmp(role, "system") != 0) {
        json_object_set_new(last, "content", json_string(arena_printf(a, "%s\n%s", lc, text)));
        return;
    }
    json_array_append_new(msgs, json_pack("{s:s, s:s}", "role", role, "content", text));
}

static const char *role_name(enum agent_role r)
{
    return r == AGENT_ROLE_CUSTOMER ? "user" : "assistant";
}

json_t *agent_messages(struct arena *a, const char *system, const struct agent_context *ctx)
{
    json_t *msgs = json_array();
    append_turn(a, msgs, "system", system);
    for (size_t i = 0; i < ctx->n_history; i++)
        append_turn(a, msgs, role_name(ctx->history[i].role), words_of(a, &ctx->history[i]));
    for (size_t i = 0; i < ctx->n_incoming; i++)
        append_turn(a, msgs, "user", words_of(a, &ctx->incoming[i]));
    return msgs;
}

/* Strings that are not valid UTF-8 make jansson refuse them; the context's text came from
 * Meta's JSON (valid) and our store, so a NULL here is a bug, not input. */
char *agent_request_body(struct arena *a, const char *model, const json_t *messages, json_t *tools)
{
    json_t *req = json_pack("{s:s, s:O, s:i}", "model", model, "messages", messages,
                            "max_completion_tokens", AGENT_LLM_MAX_TOKENS);
    if (req && tools && json_array_size(tools))
        json_object_set(req, "tools", tools);
    char *body = req ? json_dump_arena(a, req) : NULL;
    json_decref(req);
    return body;
}
