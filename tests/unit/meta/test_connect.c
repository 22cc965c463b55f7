/*
 * tests/unit/meta/test_connect.c - meta_connect_accounts() end to end against the local Meta
 * (emulator/, in-process on a free port, with appsecret_proof required): a short-lived login
 * connects both Pages and the Instagram account with never-expiring sealed tokens and live
 * webhook subscriptions; the self-test names the Page without Instagram, unticked scopes and
 * failed subscriptions; a worse reconnect keeps the stored token; dead tokens write nothing.
 *
 * The emulator is used only through emulator.h and docs/emulator.md.
 */
#include "meta/connect.h"

#include "testutil.h"

#include "core/clock.h"
#include "core/crypto.h"
#include "core/log.h"
#include "emulator/emulator.h"
#include "http/client.h"
#include "http/http.h"

#define APP_ID       "1234567890123456"
#define APP_SECRET   "emulator-app-secret"
#define PAGE_IG      "104000000000001"
#define PAGE_PLAIN   "104000000000002"
#define IG_ID        "17841400000000001"
#define REDIRECT_URI "https://switchboard.example/oauth/callback"
#define ALL_SCOPES                                                                                 \
    "pages_show_list,pages_messaging,pages_manage_metadata,instagram_basic,"                       \
    "instagram_manage_messages"

struct world {
    struct emulator *emu;
    char base[64], dir[256];
    struct meta_graph *g;
    struct store *s;
    struct meta_vault *v;
    struct arena a;
};

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

/* ---- the login dialog, driven like a browser ---- */

static void on_query(void *ctx, const char *k, const char *v)
{
    if (!strcmp(k, "code"))
        *(const char **)ctx = v;
}

/* Confirms the dialog for `scope` with only the scopes in `ticked` ticked (NULL: all) and
 * exchanges the code: a short-lived user token, in w->a. */
static const char *login(struct world *w, const char *scope, const char *ticked)
{
    char *form =
        arena_printf(&w->a, "client_id=%s&redirect_uri=%s&state=s1&scope=%s&decision=allow", APP_ID,
                     http_url_encode(&w->a, REDIRECT_URI), http_url_encode(&w->a, scope));
    if (ticked) {
        form = arena_printf(&w->a, "%s&perms_shown=1", form);
        for (const char *p = ticked; *p;) {
            size_t n = strcspn(p, ",");
            form = arena_printf(&w->a, "%s&perm_%.*s=on", form, (int)n, p);
            p += n + (p[n] == ',');
        }
    }
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
    const char *loc = r.headers[0];
    assert_non_null(loc);
    const char *q = strchr(loc, '?');
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

static void fault(struct world *w, const char *json)
{
    static const char *const hdr[] = {"Content-Type: application/json", NULL};
    struct http_client_resp r;
    const char *url = arena_printf(&w->a, "%s/_emulator/faults", w->base);
    assert_int_equal(http_client_do("POST", url, hdr, json, strlen(json), 5000, 1 << 16, &r),
                     ERR_OK);
    assert_true(r.status >= 200 && r.status < 300);
    free(r.body);
}

/* ---- helpers on the report ---- */

static const struct meta_connected *find(const struct meta_connect_report *r, const char *ext)
{
    for (size_t i = 0; i < r->n_accounts; i++)
        if (!strcmp(r->accounts[i].acct.external_id, ext))
            return &r->accounts[i];
    return NULL;
}

static bool has_finding(const struct meta_connect_report *r, enum meta_finding_kind k,
                        const char *needle)
{
    for (size_t i = 0; i < r->n_findings; i++)
        if (r->findings[i].kind == k && strstr(r->findings[i].text, needle))
            return true;
    return false;
}

static size_t stored_count(struct world *w)
{
    struct store_account *rows;
    size_t n = 0;
    assert_int_equal(store_accounts_list(w->s, &w->a, &rows, &n), ERR_OK);
    return n;
}

static enum err connect(struct world *w, const char *token, struct meta_connect_report *r)
{
    const struct meta_connect_opts o = {.wanted_scopes = ALL_SCOPES};
    return meta_connect_accounts(w->g, w->s, w->v, token, &o, &w->a, r);
}

/* ---- tests ---- */

static void test_connect_end_to_end(void **state)
{
    struct world *w = *state;
    struct meta_connect_report r;
    const char *short_token = login(w, ALL_SCOPES, NULL);
    assert_int_equal(connect(w, short_token, &r), ERR_OK);
    assert_null(r.error);
    assert_string_equal(r.user_id, "10160000000000001");
    assert_true(r.user_token_expires_at > clock_now_ms() + 30 * 86400000LL); /* long-lived */
    assert_int_equal(r.n_accounts, 3);
    const struct meta_connected *coffee = find(&r, PAGE_IG), *ig = find(&r, IG_ID);
    assert_non_null(coffee);
    assert_non_null(find(&r, PAGE_PLAIN));
    assert_non_null(ig);
    assert_int_equal(ig->acct.platform, STORE_INSTAGRAM);
    assert_string_equal(ig->acct.page_id, PAGE_IG);
    assert_string_equal(ig->acct.username, "northwind.coffee");
    assert_int_equal(coffee->acct.token_expires_at, 0); /* from a long-lived user token */
    assert_int_equal(coffee->verdict, STORE_TOKEN_REPLACE);
    assert_non_null(strstr(coffee->acct.subscribed_fields, "messaging_seen"));
    assert_string_equal(ig->acct.subscribed_fields, coffee->acct.subscribed_fields);
    assert_true(has_finding(&r, META_FINDING_NO_INSTAGRAM, "Northwind Outlet"));
    assert_int_equal(r.n_findings, 1);
    /* the sealed token is the real Page token: Meta answers it with our subscription */
    char *page_token = NULL;
    assert_int_equal(meta_vault_open(w->v, &coffee->acct, &page_token), ERR_OK);
    const char **fields;
    size_t n;
    struct meta_graph_error e;
    assert_int_equal(meta_page_subscriptions(w->g, &w->a, PAGE_IG, page_token, &fields, &n, &e),
                     ERR_OK);
    assert_int_equal(n, 7);
    for (size_t i = 0; meta_connect_default_fields[i]; i++)
        assert_string_equal(fields[i], meta_connect_default_fields[i]);
    assert_null(strstr(coffee->acct.scopes, page_token));
    crypto_cleanse(page_token, strlen(page_token));
    free(page_token);
    /* connecting again is a clean replace, not a duplicate */
    assert_int_equal(connect(w, short_token, &r), ERR_OK);
    assert_int_equal(stored_count(w), 3);
    assert_int_equal(find(&r, PAGE_IG)->verdict, STORE_TOKEN_REPLACE);
}

static void test_unticked_scope_keeps_the_better_token(void **state)
{
    struct world *w = *state;
    struct meta_connect_report r;
    assert_int_equal(connect(w, login(w, ALL_SCOPES, NULL), &r), ERR_OK);
    const char *worse = login(w, ALL_SCOPES,
                              "pages_show_list,pages_manage_metadata,instagram_basic,"
                              "instagram_manage_messages");
    assert_int_equal(connect(w, worse, &r), ERR_OK);
    assert_true(has_finding(&r, META_FINDING_SCOPE_MISSING, "pages_messaging was not granted"));
    assert_true(has_finding(&r, META_FINDING_TOKEN_KEPT, "Northwind Coffee"));
    const struct meta_connected *coffee = find(&r, PAGE_IG);
    assert_int_equal(coffee->verdict, STORE_TOKEN_KEEP_SCOPES);
    assert_non_null(strstr(coffee->acct.scopes, "pages_messaging"));
    assert_string_equal(r.scopes, "instagram_basic,instagram_manage_messages,"
                                  "pages_manage_metadata,pages_show_list");
}

static void test_dead_tokens_write_nothing(void **state)
{
    struct world *w = *state;
    struct meta_connect_report r;
    assert_int_equal(connect(w, "EAAgarbage", &r), ERR_AUTH);
    assert_non_null(strstr(r.error, "not valid"));
    assert_null(strstr(r.error, "EAAgarbage"));
    assert_int_equal(connect(w, "", &r), ERR_INVALID);
    assert_int_equal(stored_count(w), 0);
    /* 190 in the middle of the reads: the Page listing */
    const char *tok = login(w, ALL_SCOPES, NULL);
    fault(w, "{\"kind\":\"token_expired\",\"path\":\"/me/accounts\",\"method\":\"GET\","
             "\"count\":1}");
    assert_int_equal(connect(w, tok, &r), ERR_AUTH);
    assert_non_null(strstr(r.error, "listing your Pages"));
    assert_int_equal(stored_count(w), 0);
    assert_int_equal(r.n_accounts, 0);
    assert_int_equal(connect(w, tok, &r), ERR_OK); /* the fault was one call */
    assert_int_equal(stored_count(w), 3);
}

static void test_failed_subscription_is_a_finding(void **state)
{
    struct world *w = *state;
    struct meta_connect_report r;
    fault(w, "{\"kind\":\"http_500\",\"path\":\"/subscribed_apps\",\"method\":\"POST\","
             "\"count\":5}");
    assert_int_equal(connect(w, login(w, ALL_SCOPES, NULL), &r), ERR_OK);
    assert_int_equal(r.n_accounts, 3);
    assert_true(has_finding(&r, META_FINDING_SUBSCRIBE_FAILED,
                            "subscribing Page 'Northwind Coffee' (104000000000001)"));
    assert_true(has_finding(&r, META_FINDING_SUBSCRIBE_FAILED, "Northwind Outlet"));
    const struct meta_connected *coffee = find(&r, PAGE_IG);
    assert_string_equal(coffee->acct.subscribed_fields, ""); /* read back: nothing */
    assert_int_equal(coffee->acct.status, STORE_ACCOUNT_ACTIVE);
}

/* Stored Instagram rows that Meta now pairs differently: one moved to another Page, one that
 * its Page no longer links (marked needs_reconnect in the same transaction). */
static void store_ig(struct world *w, const char *ig_id, const char *page_id, const char *user)
{
    unsigned char *blob;
    size_t len;
    assert_int_equal(meta_vault_seal(w->v, STORE_INSTAGRAM, ig_id, "EAAold", &blob, &len), ERR_OK);
    const struct store_account_new in = {.platform = STORE_INSTAGRAM,
                                         .external_id = ig_id,
                                         .page_id = page_id,
                                         .username = user,
                                         .token_enc = blob,
                                         .token_enc_len = len,
                                         .scopes = "instagram_basic"};
    int64_t id;
    assert_int_equal(store_account_upsert(w->s, &in, clock_now_ms(), &id, NULL), ERR_OK);
    free(blob);
}

static void test_unexpected_pairings(void **state)
{
    struct world *w = *state;
    store_ig(w, IG_ID, PAGE_PLAIN, "northwind.coffee");
    store_ig(w, "17841400000000999", PAGE_IG, "old.account");
    struct meta_connect_report r;
    assert_int_equal(connect(w, login(w, ALL_SCOPES, NULL), &r), ERR_OK);
    assert_true(has_finding(&r, META_FINDING_PAIRING,
                            "Instagram account @northwind.coffee is now linked to Page "
                            "'Northwind Coffee' (104000000000001), not to Page 104000000000002"));
    assert_true(has_finding(&r, META_FINDING_PAIRING,
                            "Instagram account @old.account is linked to no Page you connected"));
    assert_string_equal(find(&r, IG_ID)->acct.page_id, PAGE_IG);
    struct store_account old;
    assert_int_equal(store_account_get(w->s, &w->a, STORE_INSTAGRAM, "17841400000000999", &old),
                     ERR_OK);
    assert_int_equal(old.status, STORE_ACCOUNT_NEEDS_RECONNECT);
    assert_string_equal(old.status_reason, "no longer linked to its Page");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_connect_end_to_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unticked_scope_keeps_the_better_token, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_dead_tokens_write_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_subscription_is_a_finding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unexpected_pairings, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
