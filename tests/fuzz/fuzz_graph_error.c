/*
 * tests/fuzz/fuzz_graph_error.c - meta_parse_graph_error() on arbitrary bytes, as the Graph
 * client sees an answer body, under several HTTP statuses; and, when the bytes are JSON, the
 * typed answer parsers of graph.h (token, debug_token, accounts, paging, subscriptions).
 *
 * Properties: never crashes, leaks or reads past the input (it is not NUL-terminated); the
 * code is ERR_OK or ERR_INVALID; the struct always comes back classified (never
 * META_ERR_NONE) exactly as meta_graph_classify() says for its code, subcode and status; its
 * strings are terminated inside their buffers and end on a whole UTF-8 character;
 * retry_after_s is the default for rate limits and 0 otherwise; the retry policy's delays stay
 * within a minute (transient) or retry_after_s + 10 % (rate limit).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meta/graph.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t sink;

static void require(bool cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_graph_error: %s\n", what);
        abort();
    }
}

/* Whether the form-encoded pairs q hold the key k. */
static bool has_key(const char *q, const char *k)
{
    size_t n = strlen(k);
    for (const char *p = q; p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL)
        if (strncmp(p, k, n) == 0 && p[n] == '=')
            return true;
    return false;
}

static void touch(const char *s)
{
    if (s)
        sink += strlen(s);
}

/* Terminated inside cap, and not cut inside a UTF-8 sequence. */
static void check_text(const char *s, size_t cap)
{
    const char *nul = memchr(s, '\0', cap);
    require(nul != NULL, "unterminated string");
    size_t n = (size_t)(nul - s), i = n;
    while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
        i--;
    if (i == 0) {
        require(n == 0, "continuation bytes only");
        return;
    }
    unsigned char lead = (unsigned char)s[i - 1];
    size_t want = lead < 0x80 ? 0 : lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : 1;
    require(n - i == want, "string cut inside a character");
}

static void check_retry(const struct meta_graph_error *e)
{
    for (int attempt = 0; attempt <= 7; attempt++) {
        long ms = -1;
        if (!meta_graph_retry_delay_ms(e, attempt, &ms))
            continue;
        require(attempt >= 1, "retry at attempt 0");
        require(e->cls == META_ERR_TRANSIENT || e->cls == META_ERR_RATE_LIMIT, "retry class");
        long max = e->cls == META_ERR_TRANSIENT ? 60000L : e->retry_after_s * 1100L;
        require(ms >= 0 && ms <= max, "retry delay out of range");
    }
}

static void check_error(const uint8_t *data, size_t size, int status)
{
    struct meta_graph_error e;
    memset(&e, 0xA5, sizeof e); /* the parser must overwrite everything */
    enum err rc = meta_parse_graph_error((const char *)data, size, status, &e);
    require(rc == ERR_OK || rc == ERR_INVALID, "unexpected code");
    require(e.cls > META_ERR_NONE && e.cls <= META_ERR_AMBIGUOUS, "class out of range");
    require(e.cls == meta_graph_classify(e.code, e.subcode, e.http_status), "class mismatch");
    require(e.retry_after_s == (e.cls == META_ERR_RATE_LIMIT ? META_RATE_LIMIT_DEFAULT_S : 0),
            "retry_after_s");
    check_text(e.type, sizeof e.type);
    check_text(e.message, sizeof e.message);
    check_text(e.fbtrace_id, sizeof e.fbtrace_id);
    touch(meta_err_class_name(e.cls));
    if (rc == ERR_INVALID)
        require(e.code == 0 && e.subcode == 0 && e.http_status == status, "invalid but filled");
    check_retry(&e);
}

/* The typed parsers take a jansson tree: feed them whatever the bytes parse to. */
static void check_typed(const uint8_t *data, size_t size)
{
    json_t *root = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (!root)
        return;
    struct arena a;
    arena_init(&a);
    struct meta_token t;
    if (meta_parse_token(root, &t) == ERR_OK)
        touch(t.access_token), touch(t.token_type);
    struct meta_token_info ti;
    if (meta_parse_debug_token(&a, root, &ti) == ERR_OK) {
        touch(ti.type), touch(ti.app_id), touch(ti.user_id), touch(ti.profile_id);
        for (size_t i = 0; i < ti.n_scopes; i++)
            touch(ti.scopes[i]);
    }
    struct meta_page *p;
    size_t n;
    if (meta_parse_accounts(&a, root, &p, &n) == ERR_OK) {
        for (size_t i = 0; i < n; i++) {
            require(p[i].id != NULL, "page without id");
            touch(p[i].id), touch(p[i].name), touch(p[i].access_token), touch(p[i].ig_id);
            touch(p[i].ig_username), touch(p[i].ig_picture_url);
            for (size_t k = 0; k < p[i].n_tasks; k++)
                touch(p[i].tasks[k]);
        }
    }
    const char *after;
    bool has_next;
    meta_parse_paging(root, &after, &has_next);
    touch(after);
    char *next_query;
    enum err nrc = meta_paging_next_query(&a, root, &next_query);
    require(nrc == ERR_OK ? next_query && *next_query && has_next : !next_query,
            "a continuation only with paging.next");
    if (nrc == ERR_OK)
        require(!has_key(next_query, "access_token") && !has_key(next_query, "appsecret_proof"),
                "a continuation carries no credential");
    touch(next_query);
    const char **fields;
    if (meta_parse_subscriptions(&a, root, NULL, &fields, &n) == ERR_OK) {
        for (size_t i = 0; i < n; i++)
            touch(fields[i]);
    }
    arena_release(&a);
    json_decref(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int statuses[] = {0, 200, 400, 403, 429, 500};
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
        check_error(data, size, statuses[i]);
    check_typed(data, size);
    return 0;
}
