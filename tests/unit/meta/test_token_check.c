/*
 * tests/unit/meta/test_token_check.c - meta_token_check_run() against the local Meta
 * (emulator/, in-process, appsecret_proof required) after a real connect: one debug_token per
 * distinct token (the Instagram account shares its Page's), valid tokens change nothing, a
 * refused token marks exactly the accounts holding it, a transient error or a rate limit
 * changes nothing and is not retried, a deauthorized user's accounts all end up
 * needs_reconnect and are not asked about again, and the expiry warning follows the injected
 * clock.
 *
 * The emulator is used only through emulator.h and docs/emulator.md.
 */
#include "meta/token_check.h"

#include "testutil.h"

#include "core/clock.h"
#include "core/log.h"
#include "emulator/emulator.h"
#include "http/client.h"
#include "http/http.h"
#include "meta/connect.h"

#define APP_ID       "1234567890123456"
#define APP_SECRET   "emulator-app-secret"
#define ADMIN_ASID   "10160000000000001"
#define PAGE_IG      "104000000000001"
#define IG_ID        "17841400000000001"
#define REDIRECT_URI "https://switchboard.example/oauth/callback"
#define SCOPES       "pages_show_list,pages_messaging,pages_manage_metadata,instagram_basic"

struct world {
    struct emulator *emu;
    char base[64], dir[256];
    struct meta_graph *g;
    struct store *s;
    struct meta_vault *v;
    struct arena a;
};

/* ---- the emulator's control API ---- */

static int control(struct world *w, const char *path, const char *json)
{
    static const char *const hdr[] = {"Content-Type: application/json", NULL};
    struct http_client_resp r;
    const char *url = arena_printf(&w->a, "%s%s", w->base, path);
    const char *body = json ? json : "";
    assert_int_equal(http_client_do("POST", url, hdr, body, strlen(body), 5000, 1 << 16, &r),
                     ERR_OK);
    free(r.body);
    return r.status;
}

static void fault(struct world *w, const char *json)
{
    int status = control(w, "/_emulator/faults", json);
    assert_true(status >= 200 && status < 300);
}

static void on_query(void *ctx, const char *k, const char *v)
{
    if (!strcmp(k, "code"))
        *(const char **)ctx = v;
}

/* A short-lived user token for Dana Admin through the login dialog, in w->a. */
static const char *login(struct world *w)
{
    char *form =
        arena_printf(&w->a, "client_id=%s&redirect_uri=%s&state=s1&scope=%s&decision=allow", APP_ID,
                     http_url_encode(&w->a, REDIRECT_URI), http_url_encode(&w->a, SCOPES));
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
    struct http_client_resp r;
    assert_int_equal(http_client_do_ex(&req, &r), ERR_OK);
    assert_int_equal(r.status, 302);
    const char *q = r.headers[0] ? strchr(r.headers[0], '?') : NULL;
    assert_non_null(q);
    const char *code = NULL;
    http_form_each(&w->a, q + 1, strcspn(q + 1, "#"), on_query, &code);
    http_client_resp_release(&r);
    assert_non_null(code);
    struct meta_token t;
    struct meta_graph_error e;
    assert_int_equal(meta_exchange_code(w->g, &w->a, code, REDIRECT_URI, &t, &e), ERR_OK);
    return t.access_token;
}

static int setup(void **state)
{
    log_set_level(LOG_ERROR);
    struct world *w = calloc(1, sizeof *w);
    http_client_global_init();
    const struct emulator_opts eo = {
        .host = "127.0.0.1", .app_id = APP_ID, .app_secret = APP_SECRET, .require_proof = 1};
    assert_int_equal(emulator_start(&eo, &w->emu), ERR_OK);
    snprintf(w->base, sizeof w->base, "http://127.0.0.1:%d", emulator_port(w->emu));
    const struct meta_graph_opts go = {.graph_url = w->base,
                                       .version = "v24.0",
                                       .app_id = APP_ID,
                                       .app_secret = APP_SECRET,
                                       .timeout_ms = 5000};
    assert_int_equal(meta_graph_new(&go, &w->g), ERR_OK);
    snprintf(w->dir, sizeof w->dir, "%s", tu_tmpdir());
    struct store_opts so = {.data_dir = w->dir};
    assert_int_equal(store_open(&so, &w->s), ERR_OK);
    assert_int_equal(store_migrate(w->s, NULL, NULL), ERR_OK);
    assert_int_equal(meta_vault_new(NULL, w->dir, &w->v), ERR_OK);
    arena_init(&w->a);
    struct meta_connect_report r;
    const struct meta_connect_opts o = {.wanted_scopes = SCOPES};
    assert_int_equal(meta_connect_accounts(w->g, w->s, w->v, login(w), &o, &w->a, &r), ERR_OK);
    assert_int_equal(r.n_accounts, 3);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    struct world *w = *state;
    arena_release(&w->a);
    meta_vault_free(w->v);
    store_free(w->s);
    meta_graph_free(w->g);
    emulator_stop(w->emu);
    tu_rmrf(w->dir);
    free(w);
    return 0;
}

/* ---- helpers ---- */

static struct meta_token_check_result run_at(struct world *w, int64_t now_ms)
{
    struct meta_token_check_result res;
    assert_int_equal(meta_token_check_run(w->g, w->v, w->s, now_ms, NULL, &res), ERR_OK);
    return res;
}

static struct meta_token_check_result run(struct world *w)
{
    return run_at(w, clock_now_ms());
}

/* Accounts by status: [active, needs_reconnect, revoked]; *ig_page: whether the Page with
 * Instagram and its Instagram account share one status. */
static void statuses(struct world *w, int64_t counts[3], bool *ig_page_same)
{
    struct store_account *rows;
    size_t n = 0;
    assert_int_equal(store_accounts_list(w->s, &w->a, &rows, &n), ERR_OK);
    memset(counts, 0, 3 * sizeof *counts);
    int st_page = -1, st_ig = -2;
    for (size_t i = 0; i < n; i++) {
        counts[rows[i].status]++;
        if (!strcmp(rows[i].external_id, PAGE_IG))
            st_page = (int)rows[i].status;
        if (!strcmp(rows[i].external_id, IG_ID))
            st_ig = (int)rows[i].status;
    }
    *ig_page_same = st_page == st_ig;
}

/* ---- tests ---- */

static void test_valid_tokens_one_call_each(void **state)
{
    struct world *w = *state;
    struct meta_token_check_result r = run(w);
    assert_int_equal(r.n_accounts, 3);
    assert_int_equal(r.n_tokens, 2); /* the Instagram account rides on its Page's token */
    assert_int_equal(r.n_valid, 2);
    assert_int_equal(r.n_invalid + r.n_errors + r.n_skipped + r.n_marked + r.n_expiring, 0);
    int64_t c[3];
    bool same;
    statuses(w, c, &same);
    assert_int_equal(c[STORE_ACCOUNT_ACTIVE], 3);
}

static void test_transient_and_rate_limit_change_nothing(void **state)
{
    struct world *w = *state;
    fault(w, "{\"kind\":\"http_500\",\"path\":\"/debug_token\",\"count\":1}");
    struct meta_token_check_result r = run(w);
    assert_int_equal(r.n_errors, 1); /* not retried: the other token is still checked */
    assert_int_equal(r.n_valid, 1);
    assert_int_equal(r.n_invalid + r.n_marked, 0);
    fault(w, "{\"kind\":\"rate_limit\",\"code\":4,\"path\":\"/debug_token\",\"count\":1}");
    r = run(w);
    assert_int_equal(r.n_errors, 1);
    assert_int_equal(r.n_skipped, 1); /* throttled: the rest waits for the next round */
    assert_int_equal(r.n_valid + r.n_invalid + r.n_marked, 0);
    int64_t c[3];
    bool same;
    statuses(w, c, &same);
    assert_int_equal(c[STORE_ACCOUNT_ACTIVE], 3);
    r = run(w);
    assert_int_equal(r.n_valid, 2);
}

static void test_refused_token_marks_its_accounts(void **state)
{
    struct world *w = *state;
    fault(w, "{\"kind\":\"token_expired\",\"path\":\"/debug_token\",\"count\":1}");
    struct meta_token_check_result r = run(w);
    assert_int_equal(r.n_invalid, 1);
    assert_int_equal(r.n_valid, 1);
    assert_true(r.n_marked == 1 || r.n_marked == 2);
    int64_t c[3];
    bool same;
    statuses(w, c, &same);
    assert_int_equal(c[STORE_ACCOUNT_NEEDS_RECONNECT], (int64_t)r.n_marked);
    assert_true(same); /* a Page and its Instagram account go together */
    size_t marked = r.n_marked;
    r = run(w);
    assert_int_equal(r.n_accounts, 3 - marked);
    assert_int_equal(r.n_marked, 0);
}

static void test_deauthorized_user(void **state)
{
    struct world *w = *state;
    /* no deauthorize URL is configured: 409, but the person has removed the app */
    assert_int_equal(control(w, "/_emulator/users/" ADMIN_ASID "/deauthorize", NULL), 409);
    struct meta_token_check_result r = run(w);
    assert_int_equal(r.n_invalid, 2);
    assert_int_equal(r.n_marked, 3);
    struct store_account acct;
    assert_int_equal(store_account_get(w->s, &w->a, STORE_INSTAGRAM, IG_ID, &acct), ERR_OK);
    assert_int_equal(acct.status, STORE_ACCOUNT_NEEDS_RECONNECT);
    assert_string_equal(acct.status_reason,
                        "Meta says the token is no longer valid (code 190/458: the app was "
                        "removed from the account); reconnect from the dashboard");
    r = run(w);
    assert_int_equal(r.n_accounts + r.n_tokens + r.n_marked, 0); /* nothing asked again */
}

static void test_expiry_follows_the_clock(void **state)
{
    struct world *w = *state;
    struct store_account acct;
    assert_int_equal(store_account_get(w->s, &w->a, STORE_MESSENGER, PAGE_IG, &acct), ERR_OK);
    assert_true(acct.data_access_expires_at > 0); /* 90 days after the login */
    struct meta_token_check_result r = run(w);
    assert_int_equal(r.n_expiring, 0);
    r = run_at(w, acct.data_access_expires_at - 3 * META_DAY_MS);
    assert_int_equal(r.n_expiring, 3);
    assert_int_equal(r.n_valid, 2); /* a warning, not a death */
    r = run_at(w, acct.data_access_expires_at - META_TOKEN_WARN_MS);
    assert_int_equal(r.n_expiring, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_valid_tokens_one_call_each, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transient_and_rate_limit_change_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_refused_token_marks_its_accounts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deauthorized_user, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expiry_follows_the_clock, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
