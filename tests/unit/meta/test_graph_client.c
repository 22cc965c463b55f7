/*
 * tests/unit/meta/test_graph_client.c - the Graph client end to end against the local Meta
 * (emulator/), started in-process on a free port.
 *
 * The emulator is used only through emulator.h and its documented world (docs/emulator.md):
 * app 1234567890123456 / emulator-app-secret, Dana Admin, Page 104000000000001 with Instagram
 * 17841400000000001, Page 104000000000002 without. It is started with require_proof, so every
 * call that succeeds here carried a correct appsecret_proof.
 */
#include "meta/graph.h"

#include "testutil.h"

#include "emulator/emulator.h"
#include "http/client.h"
#include "http/http.h"

#define APP_ID       "1234567890123456"
#define APP_SECRET   "emulator-app-secret"
#define PAGE_IG      "104000000000001"
#define PAGE_PLAIN   "104000000000002"
#define IG_ID        "17841400000000001"
#define REDIRECT_URI "https://switchboard.example/oauth/callback"
#define SCOPES       "pages_show_list,pages_messaging,pages_manage_metadata,instagram_basic"

struct world {
    struct emulator *emu;
    char base[64];
    struct meta_graph *g;
    struct arena a;
    const char *user_token; /* long-lived, in a */
};

static struct meta_graph *new_graph(const char *base, const char *secret, long timeout_ms)
{
    const struct meta_graph_opts o = {.graph_url = base,
                                      .version = "v24.0",
                                      .app_id = APP_ID,
                                      .app_secret = secret,
                                      .timeout_ms = timeout_ms};
    struct meta_graph *g;
    assert_int_equal(meta_graph_new(&o, &g), ERR_OK);
    return g;
}

static struct emulator *start_emulator(int rate_limit_per_hour)
{
    const struct emulator_opts o = {.host = "127.0.0.1",
                                    .app_id = APP_ID,
                                    .app_secret = APP_SECRET,
                                    .rate_limit_per_hour = rate_limit_per_hour,
                                    .require_proof = 1};
    struct emulator *e;
    assert_int_equal(emulator_start(&o, &e), ERR_OK);
    return e;
}

/* ---- the login dialog, driven like a browser ---- */

struct callback {
    const char *code, *state;
};

static void on_query(void *ctx, const char *k, const char *v)
{
    struct callback *cb = ctx;
    if (!strcmp(k, "code"))
        cb->code = v;
    else if (!strcmp(k, "state"))
        cb->state = v;
}

/* Opens the dialog, confirms it, and returns the code from the redirect's Location. */
static const char *login_code(struct world *w, const char *state)
{
    char *url = meta_oauth_dialog_url(&w->a, w->base, "v24.0", APP_ID, REDIRECT_URI, state, SCOPES);
    struct http_client_resp r;
    assert_int_equal(http_client_do("GET", url, NULL, NULL, 0, 5000, 1 << 20, &r), ERR_OK);
    assert_int_equal(r.status, 200);
    free(r.body);
    char *form =
        arena_printf(&w->a, "client_id=%s&redirect_uri=%s&state=%s&scope=%s&decision=allow", APP_ID,
                     http_url_encode(&w->a, REDIRECT_URI), http_url_encode(&w->a, state),
                     http_url_encode(&w->a, SCOPES));
    static const char *const hdr[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    static const char *const want[] = {"Location", NULL};
    const struct http_client_req req = {
        .method = "POST",
        .url = arena_printf(&w->a, "%s/v24.0/dialog/oauth/confirm", w->base),
        .headers = hdr,
        .body = form,
        .len = strlen(form),
        .timeout_ms = 5000,
        .max_resp = 1 << 20,
        .want_headers = want,
    };
    assert_int_equal(http_client_do_ex(&req, &r), ERR_OK);
    assert_int_equal(r.status, 302);
    const char *loc = r.headers[0];
    assert_non_null(loc);
    assert_true(!strncmp(loc, REDIRECT_URI "?", strlen(REDIRECT_URI) + 1));
    const char *q = loc + strlen(REDIRECT_URI) + 1;
    size_t qlen = strcspn(q, "#"); /* Facebook appends "#_=_"; a browser keeps it client-side */
    struct callback cb = {0};
    http_form_each(&w->a, q, qlen, on_query, &cb);
    http_client_resp_release(&r);
    assert_non_null(cb.code);
    assert_non_null(cb.state);
    assert_string_equal(cb.state, state);
    return cb.code;
}

static int setup(void **state)
{
    struct world *w = calloc(1, sizeof *w);
    http_client_global_init();
    w->emu = start_emulator(0);
    snprintf(w->base, sizeof w->base, "http://127.0.0.1:%d", emulator_port(w->emu));
    w->g = new_graph(w->base, APP_SECRET, 5000);
    arena_init(&w->a);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    struct world *w = *state;
    arena_release(&w->a);
    meta_graph_free(w->g);
    emulator_stop(w->emu);
    free(w);
    return 0;
}

/* A long-lived user token, through the whole documented flow (once per run). */
static const char *user_token(struct world *w)
{
    if (w->user_token)
        return w->user_token;
    struct meta_graph_error e;
    struct meta_token short_tok, long_tok;
    const char *code = login_code(w, "csrf-1");
    assert_int_equal(meta_exchange_code(w->g, &w->a, code, REDIRECT_URI, &short_tok, &e), ERR_OK);
    assert_true(short_tok.expires_in > 0 && short_tok.expires_in <= 24 * 3600);
    assert_int_equal(meta_exchange_long_lived(w->g, &w->a, short_tok.access_token, &long_tok, &e),
                     ERR_OK);
    assert_true(long_tok.expires_in > 30 * 86400); /* "about 60 days" */
    assert_string_not_equal(long_tok.access_token, short_tok.access_token);
    w->user_token = long_tok.access_token;
    return w->user_token;
}

static void test_code_exchange(void **state)
{
    struct world *w = *state;
    struct meta_graph_error e;
    struct meta_token t;
    const char *code = login_code(w, "state with spaces & symbols/=");
    /* redirect_uri must match the dialog's byte for byte */
    enum err rc = meta_exchange_code(w->g, &w->a, code, REDIRECT_URI "x", &t, &e);
    assert_int_not_equal(rc, ERR_OK);
    assert_int_not_equal(e.cls, META_ERR_NONE);
    code = login_code(w, "csrf-2");
    assert_int_equal(meta_exchange_code(w->g, &w->a, code, REDIRECT_URI, &t, &e), ERR_OK);
    assert_non_null(t.access_token);
    /* codes are single-use */
    rc = meta_exchange_code(w->g, &w->a, code, REDIRECT_URI, &t, &e);
    assert_int_equal(rc, ERR_UPSTREAM);
    assert_int_equal(e.http_status, 400);
    assert_int_equal(e.cls, META_ERR_INVALID);
    assert_int_equal(e.code, 100);
    assert_non_null(user_token(w));
}

struct pages {
    int n;
    char id[4][32], ig[4][32], ig_username[4][64];
    bool has_token[4];
    const char *fail_at; /* stop the listing at this id */
};

static enum err on_page(void *ctx, const struct meta_page *p)
{
    struct pages *ps = ctx;
    if (ps->fail_at && !strcmp(p->id, ps->fail_at))
        return ERR_CONFLICT;
    if (ps->n == 4)
        return ERR_TOO_LARGE;
    snprintf(ps->id[ps->n], sizeof ps->id[0], "%s", p->id);
    snprintf(ps->ig[ps->n], sizeof ps->ig[0], "%s", p->ig_id ? p->ig_id : "");
    snprintf(ps->ig_username[ps->n], sizeof ps->ig_username[0], "%s",
             p->ig_username ? p->ig_username : "");
    ps->has_token[ps->n] = p->access_token && *p->access_token;
    ps->n++;
    return ERR_OK;
}

/* limit=1: one Page per request, so the second Page comes only through after=. */
static void test_list_pages(void **state)
{
    struct world *w = *state;
    struct meta_graph_error e;
    struct pages ps = {0};
    assert_int_equal(meta_list_pages(w->g, user_token(w), 1, on_page, &ps, &e), ERR_OK);
    assert_int_equal(ps.n, 2);
    assert_string_equal(ps.id[0], PAGE_IG);
    assert_string_equal(ps.ig[0], IG_ID);
    assert_string_equal(ps.ig_username[0], "northwind.coffee");
    assert_string_equal(ps.id[1], PAGE_PLAIN);
    assert_string_equal(ps.ig[1], "");
    assert_true(ps.has_token[0] && ps.has_token[1]);
    /* the callback's code stops the walk */
    struct pages stop = {.fail_at = PAGE_PLAIN};
    assert_int_equal(meta_list_pages(w->g, user_token(w), 1, on_page, &stop, &e), ERR_CONFLICT);
    assert_int_equal(stop.n, 1);
}

struct first_page {
    char id[32], token[512];
};

static enum err keep_first(void *ctx, const struct meta_page *p)
{
    struct first_page *f = ctx;
    if (!f->id[0] && !strcmp(p->id, PAGE_IG)) {
        snprintf(f->id, sizeof f->id, "%s", p->id);
        snprintf(f->token, sizeof f->token, "%s", p->access_token);
    }
    return ERR_OK;
}

static const char *page_token(struct world *w)
{
    struct meta_graph_error e;
    struct first_page f = {0};
    assert_int_equal(meta_list_pages(w->g, user_token(w), 0, keep_first, &f, &e), ERR_OK);
    assert_string_equal(f.id, PAGE_IG);
    return arena_strdup(&w->a, f.token);
}

static bool has(const char *const *list, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(list[i], s))
            return true;
    return false;
}

static void test_debug_token(void **state)
{
    struct world *w = *state;
    struct meta_graph_error e;
    struct meta_token_info t;
    assert_int_equal(meta_debug_token(w->g, &w->a, user_token(w), &t, &e), ERR_OK);
    assert_true(t.is_valid);
    assert_string_equal(t.type, "USER");
    assert_string_equal(t.app_id, APP_ID);
    assert_non_null(t.user_id);
    assert_true(t.expires_at > 0);
    assert_true(has(t.scopes, t.n_scopes, "pages_messaging"));
    assert_int_equal(meta_debug_token(w->g, &w->a, page_token(w), &t, &e), ERR_OK);
    assert_true(t.is_valid);
    assert_string_equal(t.type, "PAGE");
    assert_string_equal(t.profile_id, PAGE_IG);
    /* a token Meta never issued: answered, not an error */
    assert_int_equal(meta_debug_token(w->g, &w->a, "EAAnotatoken", &t, &e), ERR_OK);
    assert_false(t.is_valid);
}

static void test_subscribe(void **state)
{
    struct world *w = *state;
    struct meta_graph_error e;
    const char *tok = page_token(w);
    const char **got;
    size_t n;
    assert_int_equal(meta_page_subscriptions(w->g, &w->a, PAGE_IG, tok, &got, &n, &e), ERR_OK);
    assert_int_equal(n, 0);
    static const char *const fields[] = {"messages",          "messaging_postbacks",
                                         "message_reactions", "message_echoes",
                                         "messaging_seen",    NULL};
    assert_int_equal(meta_subscribe_page(w->g, PAGE_IG, tok, fields, &e), ERR_OK);
    assert_int_equal(meta_page_subscriptions(w->g, &w->a, PAGE_IG, tok, &got, &n, &e), ERR_OK);
    assert_int_equal(n, 5);
    for (size_t i = 0; fields[i]; i++)
        if (!has(got, n, fields[i]))
            fail_msg("%s not subscribed", fields[i]);
    /* arguments that must never reach the wire */
    assert_int_equal(meta_subscribe_page(w->g, "104/../me", tok, fields, &e), ERR_INVALID);
    static const char *const none[] = {NULL};
    assert_int_equal(meta_subscribe_page(w->g, PAGE_IG, tok, none, &e), ERR_INVALID);
}

static void test_bad_token(void **state)
{
    struct world *w = *state;
    struct meta_graph_error e;
    struct pages ps = {0};
    assert_int_equal(meta_list_pages(w->g, "EAAnotatoken", 1, on_page, &ps, &e), ERR_AUTH);
    assert_int_equal(e.code, 190);
    assert_int_equal(e.cls, META_ERR_AUTH);
    assert_int_equal(e.http_status, 400);
    assert_int_equal(ps.n, 0);
    long ms;
    assert_false(meta_graph_retry_delay_ms(&e, 1, &ms));
}

/* require_proof: the same call without a proof fails, and with a proof from the wrong secret. */
static void test_appsecret_proof(void **state)
{
    struct world *w = *state;
    const char *url = arena_printf(&w->a, "%s/v24.0/me/accounts?access_token=%s", w->base,
                                   http_url_encode(&w->a, user_token(w)));
    struct http_client_resp r;
    assert_int_equal(http_client_do("GET", url, NULL, NULL, 0, 5000, 1 << 20, &r), ERR_OK);
    struct meta_graph_error e;
    assert_int_equal(meta_parse_graph_error(r.body, r.len, r.status, &e), ERR_OK);
    assert_int_equal(e.code, 100);
    free(r.body);

    struct meta_graph *wrong = new_graph(w->base, "not-the-app-secret", 5000);
    struct pages ps = {0};
    assert_int_equal(meta_list_pages(wrong, user_token(w), 1, on_page, &ps, &e), ERR_UPSTREAM);
    assert_int_equal(e.code, 100);
    assert_int_equal(e.cls, META_ERR_INVALID);
    assert_int_equal(ps.n, 0);
    meta_graph_free(wrong);
}

static void test_usage_headers(void **state)
{
    struct world *w = *state;
    struct meta_graph_error e;
    struct meta_graph_resp resp;
    const struct meta_param p[] = {{"fields", "id,name"}};
    struct meta_graph_req req = {
        .method = "GET", .path = "/me", .params = p, .n_params = 1, .access_token = user_token(w)};
    assert_int_equal(meta_graph_call(w->g, &w->a, &req, &resp, &e), ERR_OK);
    assert_int_equal(resp.http_status, 200);
    assert_non_null(json_object_get(resp.json, "id"));
    assert_true(resp.usage.is_present); /* X-App-Usage for a user token */
    assert_true(resp.usage.max_pct >= 0 && resp.usage.max_pct < 100);
    req.path = "/" PAGE_IG;
    req.access_token = page_token(w);
    assert_int_equal(meta_graph_call(w->g, &w->a, &req, &resp, &e), ERR_OK);
    assert_true(resp.usage.is_present); /* X-Business-Use-Case-Usage for a Page token */
    /* paths that would change the URL's meaning are refused before anything is sent */
    static const char *const bad[] = {"me", "/me?x=1", "/../x", "/a//b", "/a b", "/a%2f", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        req.path = bad[i];
        assert_int_equal(meta_graph_call(w->g, &w->a, &req, &resp, &e), ERR_INVALID);
    }
}

/* Calls tok until the emulator throttles it (at most 20); returns the failing call's error. */
static void call_until_throttled(struct world *w, const char *path, const char *tok,
                                 struct meta_graph_resp *resp, struct meta_graph_error *e)
{
    const struct meta_graph_req req = {.method = "GET", .path = path, .access_token = tok};
    enum err rc = ERR_OK;
    for (int calls = 0; rc == ERR_OK && calls < 20; calls++)
        rc = meta_graph_call(w->g, &w->a, &req, resp, e);
    assert_int_equal(rc, ERR_AGAIN);
    assert_int_equal(e->cls, META_ERR_RATE_LIMIT);
    assert_true(resp->usage.is_present && resp->usage.max_pct >= 100);
    long ms;
    assert_true(meta_graph_retry_delay_ms(e, 1, &ms) && ms >= e->retry_after_s * 1000L);
}

/* A small hourly budget: past 100 % the emulator throttles. X-App-Usage (user tokens) carries
 * no estimate, so the default wait applies; X-Business-Use-Case-Usage (Page tokens) carries
 * estimated_time_to_regain_access, which becomes the wait. */
static void test_rate_limit(void **state)
{
    (void)state;
    struct world w = {.emu = start_emulator(3)};
    snprintf(w.base, sizeof w.base, "http://127.0.0.1:%d", emulator_port(w.emu));
    w.g = new_graph(w.base, APP_SECRET, 5000);
    arena_init(&w.a);
    const char *page_tok = page_token(&w); /* one call on the user token's budget */
    struct meta_graph_error e;
    struct meta_graph_resp resp;
    call_until_throttled(&w, "/me", user_token(&w), &resp, &e);
    assert_int_equal(e.code, 17); /* user request limit */
    assert_int_equal(resp.usage.regain_min, 0);
    assert_int_equal(e.retry_after_s, META_RATE_LIMIT_DEFAULT_S);
    call_until_throttled(&w, "/" PAGE_IG, page_tok, &resp, &e);
    assert_int_equal(e.code, 80001); /* Pages BUC (Page token) */
    assert_true(resp.usage.regain_min > 0);
    assert_int_equal(e.retry_after_s, resp.usage.regain_min * 60);
    arena_release(&w.a);
    meta_graph_free(w.g);
    emulator_stop(w.emu);
}

/* Injected faults: a 500 on a read is transient; a write with no answer is ambiguous. */
static void post_fault(struct world *w, const char *json)
{
    static const char *const hdr[] = {"Content-Type: application/json", NULL};
    struct http_client_resp r;
    const char *url = arena_printf(&w->a, "%s/_emulator/faults", w->base);
    assert_int_equal(http_client_do("POST", url, hdr, json, strlen(json), 5000, 1 << 16, &r),
                     ERR_OK);
    assert_true(r.status >= 200 && r.status < 300);
    free(r.body);
}

static void test_faults(void **state)
{
    struct world *w = *state;
    const char *tok = page_token(w);
    struct meta_graph_error e;
    struct meta_graph_resp resp;
    post_fault(w, "{\"kind\":\"http_500\",\"path\":\"/subscribed_apps\",\"method\":\"GET\","
                  "\"count\":1}");
    const struct meta_graph_req req = {
        .method = "GET", .path = "/" PAGE_IG "/subscribed_apps", .access_token = tok};
    assert_int_equal(meta_graph_call(w->g, &w->a, &req, &resp, &e), ERR_AGAIN);
    assert_int_equal(e.http_status, 500);
    assert_int_equal(e.cls, META_ERR_TRANSIENT);
    assert_int_equal(meta_graph_call(w->g, &w->a, &req, &resp, &e), ERR_OK);

    post_fault(w, "{\"kind\":\"timeout\",\"path\":\"/subscribed_apps\",\"method\":\"POST\","
                  "\"count\":1,\"delay_ms\":1500}");
    struct meta_graph *hasty = new_graph(w->base, APP_SECRET, 300);
    static const char *const fields[] = {"messages", NULL};
    assert_int_equal(meta_subscribe_page(hasty, PAGE_IG, tok, fields, &e), ERR_UPSTREAM);
    assert_int_equal(e.http_status, 0);
    assert_int_equal(e.cls, META_ERR_AMBIGUOUS);
    meta_graph_free(hasty);
}

static void test_new_rejects(void **state)
{
    (void)state;
    struct meta_graph *g;
    const struct meta_graph_opts bad[] = {
        {.graph_url = "", .version = "v24.0", .app_id = "1", .app_secret = "s"},
        {.graph_url = "http://x", .version = "v24.0/x", .app_id = "1", .app_secret = "s"},
        {.graph_url = "http://x", .version = "v24.0", .app_id = "1", .app_secret = ""},
        {.graph_url = "http://x", .version = "v24.0", .app_id = NULL, .app_secret = "s"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(meta_graph_new(&bad[i], &g), ERR_INVALID);
        assert_null(g);
    }
    meta_graph_free(NULL);
}

static void test_dialog_url(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    const char *u = meta_oauth_dialog_url(&a, "https://www.facebook.com/", "v24.0", APP_ID,
                                          "https://x.example/cb?a=1", "s t", "a,b");
    assert_string_equal(u, "https://www.facebook.com/v24.0/dialog/oauth?client_id=" APP_ID
                           "&redirect_uri=https%3A%2F%2Fx.example%2Fcb%3Fa%3D1&state=s%20t"
                           "&scope=a%2Cb&response_type=code");
    arena_release(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_rejects),   cmocka_unit_test(test_dialog_url),
        cmocka_unit_test(test_code_exchange), cmocka_unit_test(test_list_pages),
        cmocka_unit_test(test_debug_token),   cmocka_unit_test(test_subscribe),
        cmocka_unit_test(test_bad_token),     cmocka_unit_test(test_appsecret_proof),
        cmocka_unit_test(test_usage_headers), cmocka_unit_test(test_rate_limit),
        cmocka_unit_test(test_faults),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
