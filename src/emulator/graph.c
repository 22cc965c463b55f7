/*
 * emulator/graph.c - what every Graph API call shares: parameters, faults, the access token,
 * appsecret_proof, rate limits and usage headers, error objects, field expansion and paging.
 *
 * Meta accepts parameters in the query string, a form body or a JSON body, and values that
 * are JSON (recipient, message) either as JSON or as a JSON string: so does this file.
 */
#include "emulator/emu_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/log.h"

#define PROOF_MAX_AGE_S 300

static void set_trace(struct http_req *r, char out[28])
{
    emu_random_text(out, 23);
    http_set_header(r, "x-fb-trace-id", out);
}

void emu_error(struct http_req *r, int status, int code, int subcode, const char *type,
               const char *message)
{
    char trace[28];
    set_trace(r, trace);
    json_t *err = json_pack("{s:s, s:s, s:i, s:s}", "message", message, "type",
                            type ? type : "OAuthException", "code", code, "fbtrace_id", trace);
    if (subcode)
        json_object_set_new(err, "error_subcode", json_integer(subcode));
    if (code == 1 || code == 2 || code == 4 || code == 17 || code == 32 || code == 613)
        json_object_set_new(err, "is_transient", json_true());
    if (code == 190) {
        const char *auth = arena_printf(
            http_req_arena(r), "OAuth \"Facebook Platform\" \"invalid_token\" \"%s\"", message);
        http_set_header(r, "WWW-Authenticate", auth);
    }
    json_t *body = json_pack("{s:o}", "error", err);
    char *text = json_dumps(body, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_ESCAPE_SLASH);
    json_decref(body);
    http_reply(r, status, "application/json; charset=UTF-8", text, strlen(text));
    free(text);
}

/* A slow answer waits in a thread of its own, the request deferred: sleeping in the server's
 * thread would also hold up every other connection that thread serves, so a request sent
 * alongside (even by a process killed since) would be carried out seconds late, which is not
 * how Meta behaves. */
struct late_answer {
    struct emulator *e;
    struct http_req *req;
    int status;
    long delay_ms;
    char *text;
    size_t len;
};

static void *answer_late(void *arg)
{
    struct late_answer *l = arg;
    long waited = 0;
    do { /* at least once: the handler that deferred the request has returned by then */
        clock_sleep_ms(10);
        waited += 10;
    } while (waited < l->delay_ms && !__atomic_load_n(&l->e->is_stopping, __ATOMIC_ACQUIRE));
    struct emulator *e = l->e;
    __atomic_fetch_add(&e->n_graph_calls, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&e->graph_busy_us, (uint64_t)http_req_age_us(l->req), __ATOMIC_RELAXED);
    http_reply(l->req, l->status, "application/json; charset=UTF-8", l->text, l->len); /* last */
    free(l->text);
    free(l);
    __atomic_fetch_sub(&e->n_late_answers, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* True when the answer will go later from its own thread (text is then taken). */
static bool defer_answer(struct emu_call *c, int status, char *text, size_t len, long delay_ms)
{
    struct late_answer *l = xcalloc(1, sizeof *l);
    *l = (struct late_answer){
        .e = c->e, .req = c->req, .status = status, .delay_ms = delay_ms, .text = text, .len = len};
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    __atomic_fetch_add(&c->e->n_late_answers, 1, __ATOMIC_ACQ_REL);
    http_defer(c->req);
    bool ok = pthread_create(&t, &attr, answer_late, l) == 0;
    pthread_attr_destroy(&attr);
    if (!ok) { /* answered at once instead */
        __atomic_fetch_sub(&c->e->n_late_answers, 1, __ATOMIC_RELEASE);
        free(l);
    }
    return ok;
}

void emu_reply(struct emu_call *c, int status, json_t *body)
{
    char trace[28];
    set_trace(c->req, trace);
    http_set_header(c->req, "facebook-api-version", "v24.0");
    char *text = json_dumps(body, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_ESCAPE_SLASH);
    json_decref(body);
    size_t len = strlen(text);
    if (c->has_after && status / 100 == 2) { /* mu is released */
        log_info("emulator.fault", LOG_STR("kind", emu_fault_kind_name(c->after.kind)),
                 LOG_STR("path", http_req_path(c->req)));
        if (c->after.kind == EMU_FAULT_SLOW_ANSWER &&
            defer_answer(c, status, text, len, c->after.delay_ms > 0 ? c->after.delay_ms : 2000))
            return;
        if (c->after.kind != EMU_FAULT_SLOW_ANSWER)
            len /= 2; /* the message was sent; its answer is lost on the way */
    }
    http_reply(c->req, status, "application/json; charset=UTF-8", text, len);
    free(text);
    __atomic_fetch_add(&c->e->n_graph_calls, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&c->e->graph_busy_us, (uint64_t)http_req_age_us(c->req), __ATOMIC_RELAXED);
}

void emu_end(struct emu_call *c)
{
    pthread_mutex_unlock(&c->e->mu);
}

void emu_fail(struct emu_call *c, int status, int code, int subcode, const char *message)
{
    emu_end(c);
    emu_error(c->req, status, code, subcode, NULL, message);
}

/* ---- parameters ---- */

static void put_query(void *ctx, const char *k, const char *v)
{
    struct emu_call *c = ctx;
    json_object_set_new(c->params, k, json_string(v));
    json_object_set_new(c->query, k, json_string(v));
}

static void put_form(void *ctx, const char *k, const char *v)
{
    struct emu_call *c = ctx;
    json_object_set_new(c->params, k, json_string(v));
}

static void json_free(void *p)
{
    json_decref(p);
}

static bool parse_params(struct emu_call *c)
{
    c->params = json_object();
    c->query = json_object();
    arena_on_free(c->a, json_free, c->params);
    arena_on_free(c->a, json_free, c->query);
    http_req_query_each(c->req, put_query, c);
    size_t len = 0;
    const char *body = http_req_body(c->req, &len);
    if (!body || len == 0)
        return true;
    const char *ct = http_req_header(c->req, "Content-Type");
    if (ct && strncmp(ct, "application/json", 16) == 0) {
        json_t *v = json_loadb(body, len, 0, NULL);
        if (!json_is_object(v)) {
            json_decref(v);
            return false;
        }
        json_object_update(c->params, v);
        json_decref(v);
        return true;
    }
    http_form_each(c->a, body, len, put_form, c);
    return true;
}

const char *emu_param(const struct emu_call *c, const char *name)
{
    return json_string_value(json_object_get(c->params, name));
}

json_t *emu_param_json(struct emu_call *c, const char *name)
{
    json_t *v = json_object_get(c->params, name);
    if (json_is_object(v) || json_is_array(v))
        return v;
    if (!json_is_string(v))
        return NULL;
    json_t *parsed = json_loads(json_string_value(v), 0, NULL);
    if (!parsed)
        return NULL;
    arena_on_free(c->a, json_free, parsed);
    return parsed;
}

/* ---- faults ---- */

static const char *const fault_names[EMU_FAULT_N_KINDS] = {
    [EMU_FAULT_HTTP_500] = "http_500",           [EMU_FAULT_TIMEOUT] = "timeout",
    [EMU_FAULT_RATE_LIMIT] = "rate_limit",       [EMU_FAULT_WINDOW_CLOSED] = "window_closed",
    [EMU_FAULT_TOKEN_EXPIRED] = "token_expired", [EMU_FAULT_USER_UNAVAILABLE] = "user_unavailable",
    [EMU_FAULT_SLOW] = "slow",
    [EMU_FAULT_SLOW_ANSWER] = "slow_answer",     [EMU_FAULT_LOST_ANSWER] = "lost_answer",
    [EMU_FAULT_DROP_WEBHOOK] = "drop_webhook",   [EMU_FAULT_DROP_ECHO] = "drop_echo",
};

const char *emu_fault_kind_name(enum emu_fault_kind k)
{
    return (unsigned)k < EMU_FAULT_N_KINDS ? fault_names[k] : "unknown";
}

/* When a fault of this kind strikes: before the call is carried out, after it, or on a
 * webhook. */
enum fault_stage { STAGE_BEFORE, STAGE_AFTER, STAGE_WEBHOOK };

static enum fault_stage stage_of(enum emu_fault_kind k)
{
    if (k == EMU_FAULT_SLOW_ANSWER || k == EMU_FAULT_LOST_ANSWER)
        return STAGE_AFTER;
    if (k == EMU_FAULT_DROP_WEBHOOK || k == EMU_FAULT_DROP_ECHO)
        return STAGE_WEBHOOK;
    return STAGE_BEFORE;
}

/* The first pending fault of the stage that matches (method, where); consumed. */
static bool take_fault(struct emulator *e, enum fault_stage stage, unsigned method,
                       const char *where, bool is_echo, struct emu_fault *out)
{
    for (int i = 0; i < e->n_faults; i++) {
        struct emu_fault *f = &e->faults[i];
        if (stage_of(f->kind) != stage)
            continue;
        if (stage == STAGE_WEBHOOK && (f->kind == EMU_FAULT_DROP_ECHO) != is_echo)
            continue;
        if (f->methods && !(f->methods & method))
            continue;
        if (f->path_has[0] && !strstr(where, f->path_has))
            continue;
        *out = *f;
        if (--f->remaining <= 0)
            e->faults[i] = e->faults[--e->n_faults];
        return true;
    }
    return false;
}

void emu_take_answer_fault(struct emu_call *c)
{
    c->has_after = take_fault(c->e, STAGE_AFTER, http_req_method(c->req), http_req_path(c->req),
                              false, &c->after);
}

bool emu_take_drop_fault(struct emulator *e, const char *field, bool is_echo)
{
    struct emu_fault f;
    if (!take_fault(e, STAGE_WEBHOOK, 0, field, is_echo, &f))
        return false;
    log_info("emulator.fault", LOG_STR("kind", fault_names[f.kind]), LOG_STR("field", field));
    return true;
}

static void usage_header(struct http_req *r, const char *page_id, const char *type, int pct,
                         int regain_min);

static void apply_fault(struct emulator *e, struct http_req *r, const struct emu_fault *f)
{
    bool ig = strstr(http_req_path(r), "1784") != NULL; /* an Instagram account in the path */
    log_info("emulator.fault", LOG_STR("kind", fault_names[f->kind]),
             LOG_STR("path", http_req_path(r)));
    switch (f->kind) {
    case EMU_FAULT_SLOW_ANSWER:
    case EMU_FAULT_LOST_ANSWER:
    case EMU_FAULT_DROP_WEBHOOK:
    case EMU_FAULT_DROP_ECHO: /* never taken before a call */
        emu_error(r, 500, 2, 0, NULL, "misplaced fault");
        return;
    case EMU_FAULT_HTTP_500:
        emu_error(r, 500, 2, 0, NULL,
                  "An unexpected error has occurred. Please retry your "
                  "request later.");
        return;
    case EMU_FAULT_TIMEOUT:
        clock_sleep_ms(f->delay_ms > 0 ? f->delay_ms : 15000);
        http_reply_text(r, 504, "Gateway Timeout");
        return;
    case EMU_FAULT_RATE_LIMIT: {
        int code = f->code ? f->code : 613;
        usage_header(r, e->pages[0].id, ig ? "instagram" : "messenger", 100, 5);
        const char *msg = code == 4    ? "(#4) Application request limit reached"
                          : code == 17 ? "(#17) User request limit reached"
                          : code == 32 ? "(#32) Page request limit reached"
                          : code == 613
                              ? "(#613) Calls to this api have exceeded the rate limit."
                              : "There have been too many calls to this account. Wait a bit "
                                "and try again.";
        emu_error(r, 400, code, 0, NULL, msg);
        return;
    }
    case EMU_FAULT_WINDOW_CLOSED:
        if (ig)
            emu_error(r, 400, 10, 2534022, "IGApiException",
                      "This message is sent outside of allowed window.");
        else
            emu_error(r, 400, 10, 2018278, NULL,
                      "(#10) This message is sent outside of allowed window. Learn more about "
                      "the new policy here: https://developers.facebook.com/docs/messenger-"
                      "platform/policy-overview");
        return;
    case EMU_FAULT_TOKEN_EXPIRED:
        emu_error(r, 400, 190, 463, NULL,
                  "Error validating access token: Session has expired. The current time is "
                  "after the expiry time of the token.");
        return;
    case EMU_FAULT_USER_UNAVAILABLE:
        emu_error(r, 400, 551, 1545041, NULL, "This person isn't available right now.");
        return;
    case EMU_FAULT_SLOW: /* handled in emu_begin(): the call goes on */
        return;
    }
}

bool emu_fault_kind_parse(const char *s, enum emu_fault_kind *out)
{
    for (size_t i = 0; s && i < EMU_FAULT_N_KINDS; i++)
        if (strcmp(s, fault_names[i]) == 0) {
            *out = (enum emu_fault_kind)i;
            return true;
        }
    return false;
}

/* ---- tokens and appsecret_proof ---- */

static const char *token_of(const struct emu_call *c)
{
    const char *t = emu_param(c, "access_token");
    if (t)
        return t;
    const char *h = http_req_header(c->req, "Authorization");
    if (h && strncmp(h, "Bearer ", 7) == 0)
        return h + 7;
    if (h && strncmp(h, "OAuth ", 6) == 0)
        return h + 6;
    return NULL;
}

static bool proof_ok(const struct emu_call *c, const char *token, const char *proof)
{
    const struct emulator *e = c->e;
    const char *t = emu_param(c, "appsecret_time");
    const char *msg = token;
    if (t) {
        char *end = NULL;
        long long secs = strtoll(t, &end, 10);
        long long now_s = emu_now_ms(e) / 1000;
        if (!end || *end || secs > now_s + 60 || now_s - secs > PROOF_MAX_AGE_S)
            return false;
        msg = arena_printf(c->a, "%s|%s", token, t);
    }
    unsigned char mac[CRYPTO_SHA256_LEN];
    crypto_hmac_sha256(e->app_secret, strlen(e->app_secret), msg, strlen(msg), mac);
    char want[2 * CRYPTO_SHA256_LEN + 1];
    hex_encode(mac, sizeof mac, want);
    return strlen(proof) == strlen(want) && crypto_equal(proof, want, strlen(want));
}

/* Checks the token and its proof; on failure answers (mu is released) and returns false. */
static bool check_token(struct emu_call *c, unsigned kinds)
{
    struct emulator *e = c->e;
    const char *value = token_of(c);
    if (!value) {
        emu_fail(c, 400, 104, 0, "An access token is required to request this resource.");
        return false;
    }
    int64_t i = emu_token_find(e, value);
    const struct emu_token *t = i >= 0 ? &e->tokens[i] : NULL;
    if (!t && strcmp(value, e->app_tok.value) == 0)
        t = &e->app_tok;
    if (!t) {
        emu_fail(c, 400, 190, 0, "Invalid OAuth access token - Cannot parse access token");
        return false;
    }
    if (t->revoked || (t->user >= 0 && !e->users[t->user].has_app)) {
        char *msg = arena_printf(c->a,
                                 "Error validating access token: The user has not "
                                 "authorized application %s.",
                                 e->app_id);
        emu_fail(c, 400, 190, 458, msg);
        return false;
    }
    if (t->expires_ms && t->expires_ms <= c->now_ms) {
        emu_fail(c, 400, 190, 463,
                 "Error validating access token: Session has expired. The current time is "
                 "after the expiry time of the token.");
        return false;
    }
    if (!(kinds & (1u << t->kind))) {
        if (kinds == EMU_TOK_PAGEK)
            emu_fail(c, 400, 210, 0,
                     "(#210) A page access token is required to request this "
                     "resource.");
        else
            emu_fail(c, 400, 100, 0, "(#100) This call requires a user access token.");
        return false;
    }
    const char *proof = emu_param(c, "appsecret_proof");
    if (proof && t->kind != EMU_TOK_APP && !proof_ok(c, value, proof)) {
        emu_fail(c, 400, 100, 0, "Invalid appsecret_proof provided in the API argument");
        return false;
    }
    if (!proof && e->o.require_proof && t->kind != EMU_TOK_APP) {
        emu_fail(c, 400, 100, 0,
                 "API calls from the server require an appsecret_proof "
                 "argument");
        return false;
    }
    c->tok = t;
    c->tok_index = (int)i;
    return true;
}

/* ---- rate limits ---- */

static void usage_header(struct http_req *r, const char *page_id, const char *type, int pct,
                         int regain_min)
{
    struct arena *a = http_req_arena(r);
    if (!page_id) {
        http_set_header(r, "x-app-usage",
                        arena_printf(a,
                                     "{\"call_count\":%d,\"total_cputime\":%d,"
                                     "\"total_time\":%d}",
                                     pct, pct / 2, pct / 2));
        return;
    }
    http_set_header(r, "x-business-use-case-usage",
                    arena_printf(a,
                                 "{\"%s\":[{\"type\":\"%s\",\"call_count\":%d,"
                                 "\"total_cputime\":%d,\"total_time\":%d,"
                                 "\"estimated_time_to_regain_access\":%d}]}",
                                 page_id, type, pct, pct / 2, pct / 2, regain_min));
}

/* Counts the call in the token's rolling hour; returns calls in the hour and the minutes
 * until the oldest counted minute leaves the window. */
static int count_call(struct emu_token *t, int64_t now_ms, int *regain_min)
{
    int64_t minute = now_ms / 60000;
    int slot = (int)(minute % 60);
    if (t->bucket_minute[slot] != minute) {
        t->bucket_minute[slot] = minute;
        t->bucket_calls[slot] = 0;
    }
    t->bucket_calls[slot]++;
    int total = 0;
    int64_t oldest = minute;
    for (int i = 0; i < 60; i++)
        if (minute - t->bucket_minute[i] < 60 && t->bucket_calls[i] > 0) {
            total += t->bucket_calls[i];
            if (t->bucket_minute[i] < oldest)
                oldest = t->bucket_minute[i];
        }
    *regain_min = (int)(60 - (minute - oldest));
    return total;
}

static bool rate_limit(struct emu_call *c)
{
    struct emulator *e = c->e;
    struct emu_token *t = c->tok_index >= 0 ? &e->tokens[c->tok_index] : &e->app_tok;
    int regain = 0;
    int calls = count_call(t, c->now_ms, &regain);
    int limit = e->o.rate_limit_per_hour;
    int pct = (int)((int64_t)calls * 100 / limit);
    const char *path = http_req_path(c->req);
    bool send = strstr(path, "/messages") != NULL;
    const char *page_id = t->kind == EMU_TOK_PAGE ? e->pages[t->page].id : NULL;
    const char *type = !send ? "pages" : strstr(path, "/1784") ? "instagram" : "messenger";
    usage_header(c->req, page_id, type, pct > 100 ? 100 : pct, calls > limit ? regain : 0);
    if (calls <= limit)
        return true;
    bool page_path = strstr(path, "/me/") == NULL && strstr(path, "/104") != NULL;
    if (t->kind == EMU_TOK_APP)
        emu_fail(c, 400, 4, 0, "(#4) Application request limit reached");
    else if (t->kind == EMU_TOK_PAGE && send)
        emu_fail(c, 400, 613, 0, "(#613) Calls to this api have exceeded the rate limit.");
    else if (t->kind == EMU_TOK_PAGE)
        emu_fail(c, 400, 80001, 0,
                 "(#80001) There have been too many calls to this Page "
                 "account. Wait a bit and try again.");
    else if (page_path)
        emu_fail(c, 400, 32, 0, "(#32) Page request limit reached");
    else
        emu_fail(c, 400, 17, 0, "(#17) User request limit reached");
    return false;
}

/* "v24.0": a "v", digits, a dot, digits. */
static bool version_ok(const char *v)
{
    if (!v || v[0] != 'v')
        return false;
    size_t major = strspn(v + 1, "0123456789");
    if (major == 0 || v[1 + major] != '.')
        return false;
    const char *minor = v + 2 + major;
    size_t n = strspn(minor, "0123456789");
    return n > 0 && minor[n] == '\0';
}

bool emu_begin(struct emu_call *c, struct emulator *e, struct http_req *r, unsigned kinds)
{
    *c = (struct emu_call){.e = e, .req = r, .a = http_req_arena(r), .tok_index = -1};
    if (!version_ok(http_req_param(r, "ver"))) {
        emu_h_unknown(r, e);
        return false;
    }
    if (!parse_params(c)) {
        emu_error(r, 400, 100, 0, NULL, "(#100) The request body is not valid JSON");
        return false;
    }
    pthread_mutex_lock(&e->mu);
    c->now_ms = emu_now_ms(e);
    struct emu_fault f;
    if (take_fault(e, STAGE_BEFORE, http_req_method(r), http_req_path(r), false, &f)) {
        pthread_mutex_unlock(&e->mu);
        if (f.kind != EMU_FAULT_SLOW) {
            apply_fault(e, r, &f);
            return false;
        }
        log_info("emulator.fault", LOG_STR("kind", "slow"), LOG_STR("path", http_req_path(r)));
        clock_sleep_ms(f.delay_ms > 0 ? f.delay_ms : 15000);
        pthread_mutex_lock(&e->mu);
        c->now_ms = emu_now_ms(e);
    }
    if (!kinds)
        return true;
    if (!check_token(c, kinds))
        return false;
    return rate_limit(c);
}

/* ---- field expansion ---- */

/* fields := field ("," field)* ; field := name ("." modifier "(" arg ")")* ("{" fields "}")? */
static const char *parse_fields(const char *p, json_t *out, int depth)
{
    while (*p && *p != '}') {
        size_t n = strcspn(p, ",{}.()");
        if (n == 0 || depth > 8)
            return NULL;
        char *name = xstrndup(p, n);
        p += n;
        json_t *sub = NULL;
        while (*p == '.') {
            size_t m = strcspn(p + 1, "(");
            const char *close = strchr(p, ')');
            if (!close || p[1 + m] != '(')
                goto bad;
            if (!sub)
                sub = json_object();
            if (m == 5 && strncmp(p + 1, "limit", 5) == 0)
                json_object_set_new(sub, "__limit", json_integer(strtoll(p + 7, NULL, 10)));
            p = close + 1;
        }
        if (*p == '{') {
            if (!sub)
                sub = json_object();
            p = parse_fields(p + 1, sub, depth + 1);
            if (!p || *p != '}')
                goto bad;
            p++;
        }
        json_object_set_new(out, name, sub ? sub : json_null());
        free(name);
        if (*p == ',')
            p++;
        continue;
    bad:
        json_decref(sub);
        free(name);
        return NULL;
    }
    return p;
}

json_t *emu_fields_parse(const char *fields)
{
    if (!fields)
        return NULL;
    json_t *out = json_object();
    const char *end = parse_fields(fields, out, 0);
    if (!end || *end) {
        json_decref(out);
        return NULL;
    }
    return out;
}

bool emu_field_wanted(const json_t *fields, const char *name, bool def)
{
    if (!fields)
        return def;
    return json_object_get(fields, name) != NULL;
}

/* ---- cursor paging ---- */

void emu_cursor_encode(size_t index, char out[48])
{
    char raw[24], b64[40];
    int n = snprintf(raw, sizeof raw, "%zu", index + 1000000);
    base64_encode(raw, (size_t)n, b64);
    size_t o = 0;
    for (const char *p = b64; *p && o < 44; p++) {
        if (*p == '=' || *p == 'Z') {
            out[o++] = 'Z';
            out[o++] = *p == '=' ? 'D' : 'A';
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
}

static bool cursor_decode(const char *s, size_t *index)
{
    char b64[64];
    size_t o = 0;
    for (const char *p = s; *p; p++) {
        if (o + 1 >= sizeof b64)
            return false;
        if (*p == 'Z') {
            p++;
            if (*p != 'A' && *p != 'D')
                return false;
            b64[o++] = *p == 'D' ? '=' : 'Z';
        } else {
            b64[o++] = *p;
        }
    }
    unsigned char raw[48];
    size_t n = 0;
    if (o == 0 || base64_decode(b64, o, raw, sizeof raw - 1, &n) != ERR_OK)
        return false;
    raw[n] = '\0';
    char *end = NULL;
    unsigned long long v = strtoull((const char *)raw, &end, 10);
    if (!end || *end || v < 1000000)
        return false;
    *index = (size_t)(v - 1000000);
    return true;
}

static char *page_url(struct emu_call *c, const char *which, const char *cursor, size_t limit)
{
    struct arena *a = c->a;
    const char *path = http_req_path(c->req);
    const char *me = strstr(path, "/me/");
    if (me && c->tok && c->tok->kind != EMU_TOK_APP) {
        const char *self = c->tok->kind == EMU_TOK_PAGE ? c->e->pages[c->tok->page].id
                                                        : c->e->users[c->tok->user].asid;
        path = arena_printf(a, "%.*s/%s%s", (int)(me - path), path, self, me + 3);
    }
    char *url = arena_printf(a, "%s%s?", c->e->public_url, path);
    const char *k;
    json_t *v;
    json_object_foreach(c->query, k, v)
    {
        if (strcmp(k, "after") && strcmp(k, "before") && strcmp(k, "limit"))
            url = arena_printf(a, "%s%s=%s&", url, http_url_encode(a, k),
                               http_url_encode(a, json_string_value(v)));
    }
    return arena_printf(a, "%slimit=%zu&%s=%s", url, limit, which, cursor);
}

bool emu_paging(struct emu_call *c, size_t n, size_t def_limit, size_t *start, size_t *count,
                json_t **paging)
{
    *paging = NULL;
    size_t limit = def_limit;
    const char *ls = emu_param(c, "limit");
    if (ls) {
        char *end = NULL;
        long long v = strtoll(ls, &end, 10);
        if (!end || *end || v < 1 || v > 1000) {
            emu_fail(c, 400, 100, 0, "(#100) The parameter limit must be a positive integer");
            return false;
        }
        limit = (size_t)v;
    }
    const char *after = emu_param(c, "after"), *before = emu_param(c, "before");
    size_t at = 0, s = 0;
    if ((after && !cursor_decode(after, &at)) || (before && !cursor_decode(before, &at))) {
        emu_fail(c, 400, 100, 0, "(#100) The cursor specified is invalid");
        return false;
    }
    if (after)
        s = at + 1;
    else if (before)
        s = at > limit ? at - limit : 0;
    if (s > n)
        s = n;
    *start = s;
    *count = n - s < limit ? n - s : limit;
    if (*count == 0)
        return true;
    char first[48], last[48];
    emu_cursor_encode(s, first);
    emu_cursor_encode(s + *count - 1, last);
    json_t *p = json_pack("{s:{s:s, s:s}}", "cursors", "before", first, "after", last);
    if (s + *count < n)
        json_object_set_new(p, "next", json_string(page_url(c, "after", last, limit)));
    if (s > 0)
        json_object_set_new(p, "previous", json_string(page_url(c, "before", first, limit)));
    *paging = p;
    return true;
}
