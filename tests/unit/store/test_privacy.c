/*
 * tests/unit/store/test_privacy.c - deletion requests, erase, revoke and export on a real
 * SQLite database (store.h, sqlite_privacy.c).
 */
#include "store/store.h"

#include "core/log.h"
#include "store/privacy_seed.h"
#include "testutil.h"

static struct store_privacy_counts erase(struct seed *w, const char *user_id)
{
    struct store_privacy_counts c;
    assert_int_equal(store_begin(w->s), ERR_OK);
    assert_int_equal(store_privacy_erase(w->s, user_id, "erased by the test", 5000, &c), ERR_OK);
    assert_int_equal(store_commit(w->s), ERR_OK);
    return c;
}

static void test_erase_customer(void **state)
{
    (void)state;
    struct seed w;
    seed_open(&w);
    struct store_privacy_counts c = erase(&w, SEED_MAYA);
    assert_int_equal(c.contacts, 1);
    assert_int_equal(c.conversations, 1);
    assert_int_equal(c.messages, 3);
    assert_int_equal(c.events, 3); /* two from her, the echo to her */
    assert_int_equal(c.dead_letters, 1);
    assert_int_equal(c.accounts, 0);
    /* nothing of hers is left anywhere */
    assert_int_equal(seed_count(&w, "SELECT count(*) FROM contacts WHERE user_id = '" SEED_MAYA
                                    "' OR scoped_id = '" SEED_MAYA_SID "'"),
                     0);
    assert_int_equal(seed_count(&w, "SELECT count(*) FROM conversations WHERE contact_id = 1"), 0);
    assert_int_equal(seed_count(&w, "SELECT count(*) FROM messages WHERE conversation_id = 1"), 0);
    assert_int_equal(
        seed_count(&w, "SELECT count(*) FROM events WHERE raw LIKE '%" SEED_MAYA_SID "%'"), 0);
    assert_int_equal(seed_count(&w, "SELECT count(*) FROM dead_letters WHERE CAST(payload AS "
                                    "TEXT) LIKE '%" SEED_MAYA_SID "%'"),
                     0);
    /* Sam's data and the business's account are untouched */
    assert_int_equal(seed_count(&w, "SELECT count(*) FROM messages WHERE conversation_id = 2"), 2);
    assert_int_equal(seed_count(&w, "SELECT count(*) FROM events"), 1);
    assert_int_equal(seed_count(&w, "SELECT count(*) FROM dead_letters"), 1);
    assert_int_equal(seed_count(&w, "SELECT count(*) FROM accounts WHERE token_enc IS NOT NULL"
                                    " AND status = 'active' AND user_id = '" SEED_ADMIN "'"),
                     1);
    /* a second run finds nothing more */
    c = erase(&w, SEED_MAYA);
    assert_int_equal(
        c.contacts + c.conversations + c.messages + c.events + c.dead_letters + c.accounts, 0);
    seed_close(&w);
}

/* A rollback undoes the whole erase: a crash midway leaves everything for the retry. */
static void test_erase_rolls_back_as_one(void **state)
{
    (void)state;
    struct seed w;
    seed_open(&w);
    struct store_privacy_counts c;
    assert_int_equal(store_begin(w.s), ERR_OK);
    assert_int_equal(store_privacy_erase(w.s, SEED_MAYA, "x", 5000, &c), ERR_OK);
    assert_int_equal(c.messages, 3);
    store_rollback(w.s);
    assert_int_equal(seed_count(&w, "SELECT count(*) FROM messages"), 5);
    assert_int_equal(seed_count(&w, "SELECT count(*) FROM events"), 4);
    assert_int_equal(seed_count(&w, "SELECT count(*) FROM contacts"), 2);
    seed_close(&w);
}

static void test_erase_admin_keeps_business_records(void **state)
{
    (void)state;
    struct seed w;
    seed_open(&w);
    struct store_privacy_counts c = erase(&w, SEED_ADMIN);
    assert_int_equal(c.accounts, 1);
    assert_int_equal(c.contacts + c.conversations + c.messages + c.events, 0);
    assert_int_equal(seed_count(&w, "SELECT count(*) FROM accounts WHERE id = 1 AND token_enc IS"
                                    " NULL AND user_id IS NULL AND scopes IS NULL AND"
                                    " token_expires_at IS NULL AND status = 'revoked' AND"
                                    " status_reason = 'erased by the test'"),
                     1);
    assert_int_equal(
        seed_count(&w, "SELECT count(*) FROM accounts WHERE user_id = '" SEED_ADMIN "'"), 0);
    assert_int_equal(seed_count(&w, "SELECT count(*) FROM messages"), 5);
    assert_int_equal(seed_count(&w, "SELECT count(*) FROM conversations"), 2);
    seed_close(&w);
}

/* A contact row that wrongly names the Page itself must not take the Page's history. */
static void test_erase_never_matches_the_business(void **state)
{
    (void)state;
    struct seed w;
    seed_open(&w);
    seed_sql(&w, "INSERT INTO contacts (account_id, scoped_id, user_id, created_at, updated_at)"
                 " VALUES (1, '" SEED_PAGE "', '99', 1, 1)");
    struct store_privacy_counts c = erase(&w, "99");
    assert_int_equal(c.contacts, 1);
    assert_int_equal(c.events, 0);
    assert_int_equal(seed_count(&w, "SELECT count(*) FROM events"), 4);
    seed_close(&w);
}

static void test_revoke(void **state)
{
    (void)state;
    struct seed w;
    seed_open(&w);
    seed_sql(
        &w,
        "INSERT INTO accounts (id, platform, external_id, token_enc, user_id, "
        "created_at, updated_at) VALUES (2, 'instagram', '17841400000000001', x'0102', '" SEED_ADMIN
        "', 1, 1), (3, 'messenger', '104000000000002', x'0304', 'other', 1,"
        " 1)");
    int64_t n = -1;
    assert_int_equal(store_privacy_revoke(w.s, SEED_ADMIN, "app removed by user", 7000, &n),
                     ERR_OK);
    assert_int_equal(n, 2);
    assert_int_equal(seed_count(&w, "SELECT count(*) FROM accounts WHERE user_id = '" SEED_ADMIN
                                    "' AND status = 'revoked' AND token_enc IS NULL AND"
                                    " status_reason = 'app removed by user' AND updated_at = 7000"),
                     2);
    assert_int_equal(seed_count(&w, "SELECT count(*) FROM accounts WHERE id = 3 AND status ="
                                    " 'active' AND token_enc IS NOT NULL"),
                     1);
    assert_int_equal(store_privacy_revoke(w.s, "nobody", "x", 7000, &n), ERR_OK);
    assert_int_equal(n, 0);
    seed_close(&w);
}

static void test_deletion_requests(void **state)
{
    (void)state;
    struct seed w;
    seed_open(&w);
    struct store_deletion d = {.code = "c0de",
                               .user_id = SEED_MAYA,
                               .kind = "meta",
                               .status = "pending",
                               .created_at = 42};
    assert_int_equal(store_deletion_add(w.s, &d), ERR_OK);
    assert_int_equal(store_deletion_add(w.s, &d), ERR_CONFLICT);
    struct arena a;
    arena_init(&a);
    struct store_deletion got;
    assert_int_equal(store_deletion_get(w.s, &a, "c0de", &got), ERR_OK);
    assert_string_equal(got.user_id, SEED_MAYA);
    assert_string_equal(got.status, "pending");
    assert_null(got.detail);
    assert_int_equal(got.created_at, 42);
    assert_int_equal(got.completed_at, 0);
    assert_int_equal(store_deletion_finish(w.s, "c0de", "completed", "{\"messages\":3}", 99),
                     ERR_OK);
    assert_int_equal(store_deletion_get(w.s, &a, "c0de", &got), ERR_OK);
    assert_string_equal(got.status, "completed");
    assert_string_equal(got.detail, "{\"messages\":3}");
    assert_int_equal(got.completed_at, 99);
    assert_int_equal(store_deletion_get(w.s, &a, "nope", &got), ERR_NOT_FOUND);
    assert_int_equal(store_deletion_finish(w.s, "nope", "completed", NULL, 1), ERR_NOT_FOUND);
    arena_release(&a);
    seed_close(&w);
}

struct walk {
    int rows[8];
    bool saw_secret, saw_raw_with_text, saw_payload;
};

static const char *const walk_tables[] = {"accounts",         "contacts", "conversations",
                                          "messages",         "events",   "dead_letters",
                                          "deletion_requests"};

static enum err visit(void *ctx, const char *table, const struct store_field *f, size_t n)
{
    struct walk *wk = ctx;
    size_t t = 0;
    while (t < 7 && strcmp(walk_tables[t], table) != 0)
        t++;
    assert_true(t < 7);
    wk->rows[t]++;
    for (size_t i = 0; i < n; i++) {
        wk->saw_secret |= strstr(f[i].name, "token_enc") != NULL;
        wk->saw_secret |= f[i].type == STORE_V_TEXT && strstr(f[i].text, SEED_TOKEN) != NULL;
        wk->saw_raw_with_text |= strcmp(f[i].name, "raw") == 0 && f[i].type == STORE_V_TEXT &&
                                 strstr(f[i].text, SEED_MAYA_SID) != NULL;
        wk->saw_payload |= strcmp(table, "dead_letters") == 0 && strcmp(f[i].name, "payload") == 0;
    }
    return ERR_OK;
}

static void test_export(void **state)
{
    (void)state;
    struct seed w;
    seed_open(&w);
    struct store_deletion d = {
        .code = "c1", .user_id = SEED_MAYA, .kind = "cli", .status = "pending", .created_at = 1};
    assert_int_equal(store_deletion_add(w.s, &d), ERR_OK);
    struct walk wk = {0};
    assert_int_equal(store_privacy_export(w.s, SEED_MAYA, visit, &wk), ERR_OK);
    int want[] = {0, 1, 1, 3, 3, 1, 1};
    for (int i = 0; i < 7; i++)
        if (wk.rows[i] != want[i])
            fail_msg("%s: %d rows, want %d", walk_tables[i], wk.rows[i], want[i]);
    assert_true(wk.saw_raw_with_text);
    assert_false(wk.saw_payload); /* that dead letter is not UTF-8: left out, not mangled */
    assert_false(wk.saw_secret);

    struct walk admin = {0};
    assert_int_equal(store_privacy_export(w.s, SEED_ADMIN, visit, &admin), ERR_OK);
    assert_int_equal(admin.rows[0], 1); /* the account, without its token */
    assert_false(admin.saw_secret);
    seed_close(&w);
}

static enum err stop_early(void *ctx, const char *table, const struct store_field *f, size_t n)
{
    (void)table;
    (void)f;
    (void)n;
    (*(int *)ctx)++;
    return ERR_TOO_LARGE;
}

static void test_export_stops_on_error(void **state)
{
    (void)state;
    struct seed w;
    seed_open(&w);
    int calls = 0;
    assert_int_equal(store_privacy_export(w.s, SEED_MAYA, stop_early, &calls), ERR_TOO_LARGE);
    assert_int_equal(calls, 1);
    seed_close(&w);
}

int main(void)
{
    log_set_level(LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_erase_customer),
        cmocka_unit_test(test_erase_rolls_back_as_one),
        cmocka_unit_test(test_erase_admin_keeps_business_records),
        cmocka_unit_test(test_erase_never_matches_the_business),
        cmocka_unit_test(test_revoke),
        cmocka_unit_test(test_deletion_requests),
        cmocka_unit_test(test_export),
        cmocka_unit_test(test_export_stops_on_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
