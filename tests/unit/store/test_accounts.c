/*
 * tests/unit/store/test_accounts.c - connected accounts: the reconnect rule as a table, upsert
 * / get / list / status / subscription, and key rotation (every token re-sealed, rows opening
 * under old and new keys alike while it runs, a reconnect during rotation winning).
 */
#include "store/store.h"

#include "testutil.h"

#include "core/keys.h"
#include "core/log.h"
#include "meta/vault.h"

#define DAY_MS (24LL * 3600 * 1000)
#define NOW_MS (1800000000000LL)

/* ---- the rule ---- */

static void test_token_rule_table(void **state)
{
    (void)state;
    enum { A = STORE_ACCOUNT_ACTIVE, N = STORE_ACCOUNT_NEEDS_RECONNECT, R = STORE_ACCOUNT_REVOKED };
    static const struct {
        const char *what;
        bool old_has;
        int64_t old_exp;
        const char *old_scopes;
        int old_status;
        bool new_has;
        int64_t new_exp;
        const char *new_scopes;
        enum store_token_verdict want;
    } cases[] = {
        {"first token", false, 0, NULL, A, true, 0, "a,b", STORE_TOKEN_REPLACE},
        {"empty never replaces", true, 0, "a", A, false, 0, "a", STORE_TOKEN_KEEP_EMPTY},
        {"empty never replaces a dead one", true, 0, "a", N, false, 0, "a", STORE_TOKEN_KEEP_EMPTY},
        {"same again", true, 0, "a,b", A, true, 0, "a,b", STORE_TOKEN_REPLACE},
        {"more scopes", true, 0, "a", A, true, 0, "a,b", STORE_TOKEN_REPLACE},
        {"fewer scopes", true, 0, "a,b", A, true, 0, "a", STORE_TOKEN_KEEP_SCOPES},
        {"other scopes", true, 0, "a,b", A, true, 0, "a,c", STORE_TOKEN_KEEP_SCOPES},
        {"scope prefix is not the scope", true, 0, "pages_messaging", A, true, 0,
         "pages_messaging_x", STORE_TOKEN_KEEP_SCOPES},
        {"no scopes known", true, 0, "a", A, true, 0, NULL, STORE_TOKEN_KEEP_SCOPES},
        {"never -> expiring", true, 0, "a", A, true, NOW_MS + DAY_MS, "a", STORE_TOKEN_KEEP_EXPIRY},
        {"expiring -> never", true, NOW_MS + DAY_MS, "a", A, true, 0, "a", STORE_TOKEN_REPLACE},
        {"later expiry", true, NOW_MS + DAY_MS, "a", A, true, NOW_MS + 60 * DAY_MS, "a",
         STORE_TOKEN_REPLACE},
        {"sooner expiry", true, NOW_MS + 60 * DAY_MS, "a", A, true, NOW_MS + DAY_MS, "a",
         STORE_TOKEN_KEEP_EXPIRY},
        {"stored expired", true, NOW_MS - 1, "a,b", A, true, NOW_MS + DAY_MS, "a",
         STORE_TOKEN_REPLACE},
        {"needs reconnect: anything", true, 0, "a,b", N, true, NOW_MS + DAY_MS, "a",
         STORE_TOKEN_REPLACE},
        {"revoked: anything", true, 0, "a,b", R, true, NOW_MS + DAY_MS, NULL, STORE_TOKEN_REPLACE},
        {"expiry beats scopes", true, 0, "a", A, true, NOW_MS + DAY_MS, "a,b",
         STORE_TOKEN_KEEP_EXPIRY},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct store_token_facts old = {.has_token = cases[i].old_has,
                                              .expires_at = cases[i].old_exp,
                                              .scopes = cases[i].old_scopes,
                                              .status =
                                                  (enum store_account_status)cases[i].old_status};
        const struct store_token_facts in = {.has_token = cases[i].new_has,
                                             .expires_at = cases[i].new_exp,
                                             .scopes = cases[i].new_scopes};
        enum store_token_verdict got = store_token_compare(&old, &in, NOW_MS);
        if (got != cases[i].want)
            fail_msg("%s: got %s, want %s", cases[i].what, store_token_verdict_name(got),
                     store_token_verdict_name(cases[i].want));
    }
}

/* ---- rows ---- */

struct fx {
    char dir[256];
    struct store *s;
    struct arena a;
};

static int setup(void **state)
{
    log_set_level(LOG_WARN);
    struct fx *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "%s", tu_tmpdir());
    struct store_opts so = {.data_dir = f->dir};
    assert_int_equal(store_open(&so, &f->s), ERR_OK);
    assert_int_equal(store_migrate(f->s, NULL, NULL), ERR_OK);
    arena_init(&f->a);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    arena_release(&f->a);
    store_free(f->s);
    tu_rmrf(f->dir);
    free(f);
    return 0;
}

static struct store_account_new page(const char *id, const char *name, const char *blob,
                                     int64_t exp, const char *scopes)
{
    return (struct store_account_new){.platform = STORE_MESSENGER,
                                      .external_id = id,
                                      .page_id = id,
                                      .name = name,
                                      .token_enc = (const unsigned char *)blob,
                                      .token_enc_len = blob ? strlen(blob) : 0,
                                      .token_expires_at = exp,
                                      .data_access_expires_at = NOW_MS + 90 * DAY_MS,
                                      .user_id = "u1",
                                      .scopes = scopes};
}

static void test_upsert_get_list(void **state)
{
    struct fx *f = *state;
    int64_t p1 = 0, p2 = 0, ig = 0;
    enum store_token_verdict v;
    struct store_account_new in = page("104", "Coffee", "sealed-1", 0, "a,b");
    assert_int_equal(store_account_upsert(f->s, &in, NOW_MS, &p1, &v), ERR_OK);
    assert_int_equal(v, STORE_TOKEN_REPLACE);
    in = page("105", "Outlet", "sealed-2", 0, "a,b");
    assert_int_equal(store_account_upsert(f->s, &in, NOW_MS, &p2, NULL), ERR_OK);
    struct store_account_new igin = {.platform = STORE_INSTAGRAM,
                                     .external_id = "178",
                                     .page_id = "104",
                                     .username = "coffee",
                                     .picture_url = "https://x/p.jpg",
                                     .token_enc = (const unsigned char *)"sealed-3",
                                     .token_enc_len = 8,
                                     .scopes = "a,b"};
    assert_int_equal(store_account_upsert(f->s, &igin, NOW_MS, &ig, NULL), ERR_OK);

    struct store_account got;
    assert_int_equal(store_account_get(f->s, &f->a, STORE_INSTAGRAM, "178", &got), ERR_OK);
    assert_int_equal(got.id, ig);
    assert_string_equal(got.page_id, "104");
    assert_string_equal(got.username, "coffee");
    assert_null(got.name);
    assert_int_equal(got.token_enc_len, 8);
    assert_memory_equal(got.token_enc, "sealed-3", 8);
    assert_int_equal(got.token_expires_at, 0);
    assert_int_equal(got.status, STORE_ACCOUNT_ACTIVE);
    assert_int_equal(store_account_get(f->s, &f->a, STORE_MESSENGER, "178", &got), ERR_NOT_FOUND);
    assert_int_equal(store_account_by_id(f->s, &f->a, p1, &got), ERR_OK);
    assert_string_equal(got.name, "Coffee");
    assert_int_equal(got.data_access_expires_at, NOW_MS + 90 * DAY_MS);
    assert_string_equal(got.user_id, "u1");
    assert_int_equal(store_account_by_id(f->s, &f->a, 999, &got), ERR_NOT_FOUND);

    struct store_account *rows;
    size_t n;
    assert_int_equal(store_accounts_list(f->s, &f->a, &rows, &n), ERR_OK);
    assert_int_equal(n, 3); /* Pages first, then Instagram */
    assert_string_equal(rows[0].external_id, "104");
    assert_string_equal(rows[1].external_id, "105");
    assert_int_equal(rows[2].platform, STORE_INSTAGRAM);
    (void)p2;
}

static void test_never_worse_and_status(void **state)
{
    struct fx *f = *state;
    int64_t id = 0, id2 = 0;
    enum store_token_verdict v;
    struct store_account_new in = page("104", "Coffee", "good", 0, "a,b");
    assert_int_equal(store_account_upsert(f->s, &in, NOW_MS, &id, &v), ERR_OK);
    /* worse: fewer scopes, renamed Page: the name follows, the token stays */
    in = page("104", "Coffee Roasters", "worse", 0, "a");
    assert_int_equal(store_account_upsert(f->s, &in, NOW_MS + 1, &id2, &v), ERR_OK);
    assert_int_equal(id2, id);
    assert_int_equal(v, STORE_TOKEN_KEEP_SCOPES);
    struct store_account got;
    assert_int_equal(store_account_by_id(f->s, &f->a, id, &got), ERR_OK);
    assert_string_equal(got.name, "Coffee Roasters");
    assert_memory_equal(got.token_enc, "good", 4);
    assert_string_equal(got.scopes, "a,b");
    /* empty: never stored, not even over nothing */
    in = page("104", "Coffee", NULL, 0, "a,b");
    assert_int_equal(store_account_upsert(f->s, &in, NOW_MS, &id2, &v), ERR_OK);
    assert_int_equal(v, STORE_TOKEN_KEEP_EMPTY);
    in = page("999", "Nobody", NULL, 0, "a,b");
    assert_int_equal(store_account_upsert(f->s, &in, NOW_MS, &id2, &v), ERR_INVALID);
    assert_int_equal(store_account_get(f->s, &f->a, STORE_MESSENGER, "999", &got), ERR_NOT_FOUND);
    /* the stored one dies (190): now the worse one is welcome, and the status heals */
    assert_int_equal(store_account_set_status(f->s, id, STORE_ACCOUNT_NEEDS_RECONNECT,
                                              "token refused (code 190)", NOW_MS),
                     ERR_OK);
    assert_int_equal(store_account_by_id(f->s, &f->a, id, &got), ERR_OK);
    assert_int_equal(got.status, STORE_ACCOUNT_NEEDS_RECONNECT);
    assert_string_equal(got.status_reason, "token refused (code 190)");
    in = page("104", "Coffee", "fresh", NOW_MS + DAY_MS, "a");
    assert_int_equal(store_account_upsert(f->s, &in, NOW_MS, &id2, &v), ERR_OK);
    assert_int_equal(v, STORE_TOKEN_REPLACE);
    assert_int_equal(store_account_by_id(f->s, &f->a, id, &got), ERR_OK);
    assert_int_equal(got.status, STORE_ACCOUNT_ACTIVE);
    assert_null(got.status_reason);
    assert_memory_equal(got.token_enc, "fresh", 5);
    assert_int_equal(got.token_expires_at, NOW_MS + DAY_MS);
    /* subscription */
    assert_int_equal(store_account_set_subscription(f->s, id, "messages,feed", NOW_MS + 5), ERR_OK);
    assert_int_equal(store_account_by_id(f->s, &f->a, id, &got), ERR_OK);
    assert_string_equal(got.subscribed_fields, "messages,feed");
    assert_int_equal(got.subscribed_at, NOW_MS + 5);
    assert_int_equal(store_account_set_status(f->s, 999, STORE_ACCOUNT_REVOKED, NULL, NOW_MS),
                     ERR_NOT_FOUND);
}

/* ---- rotation ---- */

static int64_t add_sealed(struct fx *f, struct meta_vault *v, const char *id, const char *token)
{
    unsigned char *blob;
    size_t len;
    assert_int_equal(meta_vault_seal(v, STORE_MESSENGER, id, token, &blob, &len), ERR_OK);
    struct store_account_new in = page(id, "P", NULL, 0, "a");
    in.token_enc = blob;
    in.token_enc_len = len;
    int64_t row = 0;
    assert_int_equal(store_account_upsert(f->s, &in, NOW_MS, &row, NULL), ERR_OK);
    free(blob);
    return row;
}

static void expect_token(struct fx *f, struct meta_vault *v, int64_t id, const char *want)
{
    struct store_account a;
    assert_int_equal(store_account_by_id(f->s, &f->a, id, &a), ERR_OK);
    char *tok = NULL;
    assert_int_equal(meta_vault_open(v, &a, &tok), ERR_OK);
    assert_string_equal(tok, want);
    free(tok);
}

static size_t count_current(struct fx *f, const struct keyring *k)
{
    struct store_sealed_token rows[64];
    size_t n = 0, cur = 0;
    assert_int_equal(store_account_tokens(f->s, &f->a, 0, 64, rows, &n), ERR_OK);
    for (size_t i = 0; i < n; i++)
        cur += keyring_is_current(k, rows[i].token_enc, rows[i].token_enc_len);
    return cur;
}

static void test_rotation(void **state)
{
    struct fx *f = *state;
    struct meta_vault *server = NULL, *cli = NULL;
    assert_int_equal(meta_vault_new(NULL, f->dir, &server), ERR_OK); /* a running server */
    int64_t ids[5];
    char tok[5][32];
    for (int i = 0; i < 5; i++) {
        snprintf(tok[i], sizeof tok[i], "EAAtoken%d", i);
        char ext[16];
        snprintf(ext, sizeof ext, "10%d", i);
        ids[i] = add_sealed(f, server, ext, tok[i]);
    }
    /* keys rotate: a new key first in the file; re-seal one batch of two rows by hand */
    assert_int_equal(keyring_add_new_key(NULL, f->dir), ERR_OK);
    struct keyring *k2 = NULL;
    assert_int_equal(keyring_load(NULL, f->dir, &k2), ERR_OK);
    assert_int_equal(count_current(f, k2), 0);
    assert_int_equal(meta_vault_new(NULL, f->dir, &cli), ERR_OK);
    struct store_sealed_token rows[2];
    size_t n = 0;
    assert_int_equal(store_account_tokens(f->s, &f->a, 0, 2, rows, &n), ERR_OK);
    assert_int_equal(n, 2);
    for (size_t i = 0; i < n; i++) {
        struct store_account a = {.platform = rows[i].platform,
                                  .external_id = rows[i].external_id,
                                  .token_enc = rows[i].token_enc,
                                  .token_enc_len = rows[i].token_enc_len};
        char *plain = NULL;
        assert_int_equal(meta_vault_open(cli, &a, &plain), ERR_OK);
        unsigned char *blob;
        size_t len;
        assert_int_equal(meta_vault_seal(cli, a.platform, a.external_id, plain, &blob, &len),
                         ERR_OK);
        bool swapped = false;
        assert_int_equal(store_account_token_swap(f->s, rows[i].id, rows[i].token_enc,
                                                  rows[i].token_enc_len, blob, len, &swapped),
                         ERR_OK);
        assert_true(swapped);
        free(blob);
        free(plain);
    }
    assert_int_equal(count_current(f, k2), 2);
    /* mid-way: the server (loaded before the rotation) opens new-key and old-key rows alike */
    for (int i = 0; i < 5; i++)
        expect_token(f, server, ids[i], tok[i]);
    /* a stale swap loses to whatever is there now */
    bool swapped = true;
    assert_int_equal(store_account_token_swap(f->s, rows[0].id, rows[0].token_enc,
                                              rows[0].token_enc_len, (const unsigned char *)"x", 1,
                                              &swapped),
                     ERR_OK);
    assert_false(swapped);
    /* the server seals new tokens under the new key without a restart */
    int64_t late = add_sealed(f, server, "199", "EAAlate");
    assert_int_equal(count_current(f, k2), 3);
    /* the rest, in batches of two */
    struct meta_vault_rotation st;
    assert_int_equal(meta_vault_reseal_all(cli, f->s, 2, &st), ERR_OK);
    assert_int_equal(st.resealed, 3);
    assert_int_equal(st.current, 3);
    assert_int_equal(st.failed, 0);
    assert_int_equal(count_current(f, k2), 6);
    for (int i = 0; i < 5; i++)
        expect_token(f, server, ids[i], tok[i]);
    expect_token(f, cli, late, "EAAlate");
    assert_int_equal(meta_vault_reseal_all(cli, f->s, 2, &st), ERR_OK); /* nothing left */
    assert_int_equal(st.resealed, 0);
    assert_int_equal(st.current, 6);
    keyring_free(k2);
    meta_vault_free(cli);
    meta_vault_free(server);
}

static void test_vault_refuses_other_rows(void **state)
{
    struct fx *f = *state;
    struct meta_vault *v = NULL;
    assert_int_equal(meta_vault_new(NULL, f->dir, &v), ERR_OK);
    int64_t id = add_sealed(f, v, "104", "EAAsecret");
    struct store_account a;
    assert_int_equal(store_account_by_id(f->s, &f->a, id, &a), ERR_OK);
    char *tok = NULL;
    a.external_id = "105"; /* another account's aad */
    assert_int_equal(meta_vault_open(v, &a, &tok), ERR_AUTH);
    a.external_id = "104";
    a.platform = STORE_INSTAGRAM;
    assert_int_equal(meta_vault_open(v, &a, &tok), ERR_AUTH);
    a.token_enc_len = 0;
    assert_int_equal(meta_vault_open(v, &a, &tok), ERR_NOT_FOUND);
    unsigned char *blob;
    size_t len;
    assert_int_equal(meta_vault_seal(v, STORE_MESSENGER, "104", "", &blob, &len), ERR_INVALID);
    meta_vault_free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_rule_table),
        cmocka_unit_test_setup_teardown(test_upsert_get_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_never_worse_and_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vault_refuses_other_rows, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
