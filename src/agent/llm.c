/*
 * agent/llm.c - the OpenAI-compatible chat completions client.
 *
 * Owns: POST {SB_LLM_URL}/chat/completions (Authorization: Bearer SB_LLM_API_KEY when set),
 * the retry policy (a failed connection or timeout, 429 and 5xx are tried again, at most
 * AGENT_LLM_ATTEMPTS times in all, after 250 ms then 1 s with jitter, or after Retry-After /
 * retry-after-ms when the server says so and it is at most AGENT_LLM_MAX_WAIT_MS; any other
 * 4xx never is, nor a 429 that says the quota is used up), and the parsers of the answer and of the
 * error body. The answer is read the way OpenAI documents it, tolerating what llama.cpp's server,
 * Ollama and vLLM do differently: content null (or missing) beside tool_calls, content as an array
 * of text parts, arguments as a JSON string or as an object, a tool call without an id, the
 * legacy function_call, no usage, any finish_reason. Error bodies: {"error":{"message","type",
 * "code","param"}} (OpenAI, llama.cpp), {"error":"text"} (Ollama) and {"object":"error",
 * "message","type","code"} (vLLM).
 * Logs status, error type and code, attempts: never the prompt, the answer or the key.
 */
#include "agent/agent_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/log.h"
#include "http/client.h"

#define LLM_MAX_RESP    ((size_t)1 << 20)
#define LLM_CONTENT_MAX 16384
#define LLM_ARGS_MAX    16384
#define LLM_BACKOFF_MS  250
#define LLM_TOKENS_MAX  100000000LL

/* ---- the answer ---- */

static void copy_trunc(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--;
    }
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

/* s cut to at most cap bytes on a character boundary, in the arena. */
static const char *dup_capped(struct arena *a, const char *s, size_t cap)
{
    size_t n = strnlen(s, cap + 1);
    if (n > cap) {
        n = cap;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    return arena_strndup(a, s, n);
}

/* content: a string, or an array of {"type":"text","text":...} parts; NULL when neither. */
static const char *read_content(struct arena *a, const json_t *c)
{
    if (json_is_string(c))
        return dup_capped(a, json_string_value(c), LLM_CONTENT_MAX);
    if (!json_is_array(c))
        return NULL;
    struct buf b;
    buf_init(&b, LLM_CONTENT_MAX);
    size_t i;
    const json_t *part;
    json_array_foreach(c, i, part)
    {
        const char *t = json_string_value(json_object_get(part, "text"));
        if (t && buf_puts(&b, t) != ERR_OK)
            break;
    }
    const char *out = b.len ? arena_strndup(a, b.data, b.len) : NULL;
    buf_release(&b);
    return out;
}

static bool read_call(struct arena *a, const json_t *fn, const json_t *id, size_t index,
                      struct agent_tool_call *out)
{
    const char *name = json_string_value(json_object_get(fn, "name"));
    const json_t *args = json_object_get(fn, "arguments");
    if (!name || !*name || strlen(name) > 64)
        return false;
    out->name = arena_strdup(a, name);
    out->id = json_is_string(id) && *json_string_value(id)
                  ? dup_capped(a, json_string_value(id), 128)
                  : arena_printf(a, "call_%zu", index);
    if (json_is_string(args))
        out->arguments = dup_capped(a, json_string_value(args), LLM_ARGS_MAX);
    else if (json_is_object(args))
        out->arguments = json_dump_arena(a, args);
    else
        out->arguments = "{}";
    return true;
}

static void read_calls(struct arena *a, const json_t *msg, struct agent_llm_reply *out)
{
    const json_t *calls = json_object_get(msg, "tool_calls");
    const json_t *legacy = json_object_get(msg, "function_call");
    size_t n = json_is_array(calls) ? json_array_size(calls) : json_is_object(legacy) ? 1 : 0;
    n = n < AGENT_MAX_TOOL_CALLS ? n : AGENT_MAX_TOOL_CALLS;
    out->calls = arena_alloc(a, (n + 1) * sizeof *out->calls);
    for (size_t i = 0; i < n; i++) {
        const json_t *c = json_is_array(calls) ? json_array_get(calls, i) : NULL;
        const json_t *fn = c ? json_object_get(c, "function") : legacy;
        if (json_is_object(fn) &&
            read_call(a, fn, json_object_get(c, "id"), i, &out->calls[out->n_calls]))
            out->n_calls++;
    }
}

static int64_t read_tokens(const json_t *usage, const char *key, const char *alt)
{
    json_t *v = json_object_get(usage, key);
    if (!json_is_integer(v))
        v = json_object_get(usage, alt);
    json_int_t t = json_is_integer(v) ? json_integer_value(v) : 0;
    return t < 0 ? 0 : t > LLM_TOKENS_MAX ? LLM_TOKENS_MAX : t;
}

enum err agent_llm_parse_reply(struct arena *a, const char *body, size_t len,
                               struct agent_llm_reply *out, const char **why)
{
    *out = (struct agent_llm_reply){0};
    *why = NULL;
    json_t *root = json_loadb(body, len, 0, NULL);
    const json_t *choices = json_object_get(root, "choices");
    const json_t *choice = json_array_get(choices, 0);
    const json_t *msg = json_object_get(choice, "message");
    if (!json_is_object(msg)) {
        *why = !root                            ? "answer is not JSON"
               : json_object_get(root, "error") ? "an error object"
                                                : "no message";
        json_decref(root);
        return ERR_INVALID;
    }
    out->content = read_content(a, json_object_get(msg, "content"));
    read_calls(a, msg, out);
    const char *fr = json_string_value(json_object_get(choice, "finish_reason"));
    out->finish_reason = fr ? dup_capped(a, fr, 32) : NULL;
    const json_t *usage = json_object_get(root, "usage");
    if (json_is_object(usage)) {
        out->has_usage = true;
        out->prompt_tokens = read_tokens(usage, "prompt_tokens", "input_tokens");
        out->completion_tokens = read_tokens(usage, "completion_tokens", "output_tokens");
    }
    json_decref(root);
    return ERR_OK;
}

/* ---- the error body ---- */

static void code_text(const json_t *code, char *out, size_t cap)
{
    if (json_is_string(code))
        copy_trunc(out, cap, json_string_value(code));
    else if (json_is_integer(code))
        snprintf(out, cap, "%lld", (long long)json_integer_value(code));
    else
        out[0] = '\0';
}

enum err agent_llm_parse_error(const char *body, size_t len, struct agent_llm_error *out)
{
    memset(out, 0, sizeof *out);
    json_t *root = json_loadb(body, len, 0, NULL);
    const json_t *e = json_object_get(root, "error");
    const char *object = json_string_value(json_object_get(root, "object"));
    if (!json_is_object(e) && object && strcmp(object, "error") == 0)
        e = root; /* vLLM: the error is the top level */
    enum err rc = ERR_OK;
    if (json_is_string(e)) {
        copy_trunc(out->message, sizeof out->message, json_string_value(e));
    } else if (json_is_object(e)) {
        copy_trunc(out->message, sizeof out->message,
                   json_string_value(json_object_get(e, "message")));
        copy_trunc(out->type, sizeof out->type, json_string_value(json_object_get(e, "type")));
        code_text(json_object_get(e, "code"), out->code, sizeof out->code);
    } else {
        rc = ERR_INVALID;
    }
    json_decref(root);
    return rc;
}

/* ---- the call ---- */

enum err agent_llm_init(struct agent_llm *l, const char *url, const char *model, const char *key,
                        long timeout_ms)
{
    memset(l, 0, sizeof *l);
    if (!url || !*url)
        return ERR_OK;
    size_t n = strlen(url);
    while (n && url[n - 1] == '/')
        n--;
    size_t cap = n + sizeof "/chat/completions";
    l->url = xmalloc(cap);
    snprintf(l->url, cap, "%.*s/chat/completions", (int)n, url);
    l->model = xstrdup(model ? model : "");
    if (key && *key) {
        size_t kc = strlen(key) + sizeof "Authorization: Bearer ";
        l->auth = xmalloc(kc);
        snprintf(l->auth, kc, "Authorization: Bearer %s", key);
    }
    l->timeout_ms = timeout_ms > 0 ? timeout_ms : AGENT_LLM_TIMEOUT_MS_DEFAULT;
    return ERR_OK;
}

void agent_llm_release(struct agent_llm *l)
{
    free(l->url);
    free(l->model);
    if (l->auth) {
        crypto_cleanse(l->auth, strlen(l->auth));
        free(l->auth);
    }
    memset(l, 0, sizeof *l);
}

/* Retry-After in seconds (or retry-after-ms), in ms; -1 when absent or unreadable. */
static long retry_after_ms(const struct http_client_resp *r)
{
    char *end;
    if (r->headers[1]) {
        long ms = strtol(r->headers[1], &end, 10);
        if (end != r->headers[1] && ms >= 0)
            return ms;
    }
    if (r->headers[0]) {
        double s = strtod(r->headers[0], &end);
        if (end != r->headers[0] && s >= 0 && s < 86400)
            return (long)(s * 1000);
    }
    return -1;
}

/* A 429 that is not a rate limit: OpenAI's "You exceeded your current quota" (type and code
 * insufficient_quota) lasts until someone pays, so trying again only adds load. */
static bool is_out_of_quota(const struct http_client_resp *r)
{
    struct agent_llm_error e;
    if (agent_llm_parse_error(r->body ? r->body : "", r->len, &e) != ERR_OK)
        return false;
    return strcmp(e.type, "insufficient_quota") == 0 || strcmp(e.code, "insufficient_quota") == 0;
}

static long backoff_ms(int attempt)
{
    unsigned char r;
    crypto_random(&r, 1);
    long base = LLM_BACKOFF_MS << (2 * (attempt - 1)); /* 250, 1000 */
    return base + base * (r % 41 - 20) / 100;          /* +-20 % */
}

struct attempt {
    enum err rc;
    int status;
    bool is_retryable;
    long wait_ms; /* before the next attempt */
};

static void log_failure(const struct http_client_resp *r, int attempt, bool will_retry)
{
    struct agent_llm_error e;
    if (agent_llm_parse_error(r->body ? r->body : "", r->len, &e) != ERR_OK)
        memset(&e, 0, sizeof e);
    log_warn("llm.failed", LOG_INT("status", r->status), LOG_STR("type", e.type),
             LOG_STR("code", e.code), LOG_INT("attempt", attempt), LOG_BOOL("retry", will_retry));
}

static void one_attempt(const struct agent_llm *l, struct arena *a, const char *body, size_t len,
                        int attempt, struct agent_llm_reply *out, struct attempt *at)
{
    static const char *const want[] = {"retry-after", "retry-after-ms", NULL};
    const char *headers[] = {"Content-Type: application/json", "Accept: application/json", l->auth,
                             NULL};
    struct http_client_req req = {.method = "POST",
                                  .url = l->url,
                                  .headers = headers,
                                  .body = body,
                                  .len = len,
                                  .timeout_ms = l->timeout_ms,
                                  .max_resp = LLM_MAX_RESP,
                                  .want_headers = want};
    struct http_client_resp r;
    *at = (struct attempt){.rc = http_client_do_ex(&req, &r)};
    if (at->rc != ERR_OK) { /* no connection, a timeout, or an answer over the cap */
        at->is_retryable = at->rc == ERR_UPSTREAM;
        at->wait_ms = backoff_ms(attempt);
        log_warn("llm.failed", LOG_ERR(at->rc), LOG_INT("attempt", attempt),
                 LOG_BOOL("sent", r.was_sent),
                 LOG_BOOL("retry", at->is_retryable && attempt < AGENT_LLM_ATTEMPTS));
        return;
    }
    at->status = r.status;
    if (r.status == 200) {
        const char *why = NULL;
        at->rc = agent_llm_parse_reply(a, r.body, r.len, out, &why);
        if (at->rc != ERR_OK)
            log_warn("llm.bad_answer", LOG_STR("why", why), LOG_INT("bytes", (long long)r.len));
    } else {
        long ra = retry_after_ms(&r);
        bool is_busy = r.status >= 500 || (r.status == 429 && !is_out_of_quota(&r));
        at->rc = is_busy ? ERR_UPSTREAM : ERR_INVALID;
        at->is_retryable = at->rc == ERR_UPSTREAM && ra <= AGENT_LLM_MAX_WAIT_MS;
        at->wait_ms = ra >= 0 ? ra : backoff_ms(attempt);
        log_failure(&r, attempt, at->is_retryable && attempt < AGENT_LLM_ATTEMPTS);
    }
    http_client_resp_release(&r);
}

enum err agent_llm_complete(const struct agent_llm *l, struct arena *a, const char *body,
                            size_t len, const struct agent_context *ctx,
                            struct agent_llm_reply *out, struct agent_usage *usage)
{
    struct attempt at = {0};
    for (int attempt = 1; attempt <= AGENT_LLM_ATTEMPTS; attempt++) {
        if (ctx && ctx->keepalive)
            ctx->keepalive(ctx->keepalive_ctx, l->timeout_ms + AGENT_LLM_MAX_WAIT_MS);
        usage->n_calls++;
        one_attempt(l, a, body, len, attempt, out, &at);
        if (at.rc == ERR_OK) {
            usage->prompt_tokens += out->prompt_tokens;
            usage->completion_tokens += out->completion_tokens;
            return ERR_OK;
        }
        if (!at.is_retryable || attempt == AGENT_LLM_ATTEMPTS)
            break;
        clock_sleep_ms(at.wait_ms);
    }
    return at.rc == ERR_INVALID ? ERR_INVALID : ERR_UPSTREAM;
}
