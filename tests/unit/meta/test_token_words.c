/*
 * tests/unit/meta/test_token_words.c - the pure half of token health (meta/token_words.c):
 * which end is nearer and the days left, the reason for a refused token, the per-account
 * warning, the dashboard banner and the gauge counts. Every case has a fixed "now".
 */
#include "meta/token_check.h"

#include "testutil.h"

#define NOW (1764000000000LL) /* 2025-11-24T16:00:00Z */
#define DAY META_DAY_MS

static void test_expiry_table(void **state)
{
    (void)state;
    static const struct {
        int64_t token, data;
        int64_t at;
        bool is_data;
        int64_t days;
        bool soon;
    } cases[] = {
        {0, 0, 0, false, 0, false},                                    /* never / unknown */
        {NOW + 10 * DAY, 0, NOW + 10 * DAY, false, 10, false},         /* far */
        {0, NOW + 3 * DAY, NOW + 3 * DAY, true, 3, true},              /* data access only */
        {NOW + 8 * DAY, NOW + 2 * DAY, NOW + 2 * DAY, true, 2, true},  /* data access nearer */
        {NOW + 2 * DAY, NOW + 8 * DAY, NOW + 2 * DAY, false, 2, true}, /* token nearer */
        {NOW + 7 * DAY, 0, NOW + 7 * DAY, false, 7, false},            /* exactly 7 days: not yet */
        {NOW + 7 * DAY - 1, 0, NOW + 7 * DAY - 1, false, 6, true},     /* just inside */
        {NOW + 1, 0, NOW + 1, false, 0, true},                         /* within a day */
        {NOW, 0, NOW, false, 0, true},                                 /* this instant */
        {NOW - 1, 0, NOW - 1, false, -1, true},                        /* just passed */
        {NOW - DAY, 0, NOW - DAY, false, -1, true},                    /* a day ago */
        {NOW - DAY - 1, 0, NOW - DAY - 1, false, -2, true},            /* over a day ago */
        {-5, NOW + 9 * DAY, NOW + 9 * DAY, true, 9, false},            /* nonsense ignored */
        {NOW + 3 * DAY, NOW + 3 * DAY, NOW + 3 * DAY, false, 3, true}, /* a tie: the token */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct meta_expiry e = meta_token_expiry(cases[i].token, cases[i].data, NOW);
        if (e.at_ms != cases[i].at || e.is_data_access != cases[i].is_data ||
            e.days_left != cases[i].days || e.is_soon != cases[i].soon)
            fail_msg("case %zu: at %lld data %d days %lld soon %d", i, (long long)e.at_ms,
                     e.is_data_access, (long long)e.days_left, e.is_soon);
    }
}

static void test_dead_token_reason(void **state)
{
    (void)state;
    static const struct {
        int code, subcode;
        const char *want;
    } cases[] = {
        {190, 463,
         "Meta says the token is no longer valid (code 190/463: session expired); reconnect "
         "from the dashboard"},
        {190, 458,
         "Meta says the token is no longer valid (code 190/458: the app was removed from the "
         "account); reconnect from the dashboard"},
        {190, 492,
         "Meta says the token is no longer valid (code 190/492: the person no longer has a role "
         "on the Page); reconnect from the dashboard"},
        {190, 0, "Meta says the token is no longer valid (code 190); reconnect from the dashboard"},
        {190, 12345,
         "Meta says the token is no longer valid (code 190/12345); reconnect from the dashboard"},
        {102, 0,
         "Meta says the token is no longer valid (code 102: session expired); reconnect from the "
         "dashboard"},
        {0, 0, "Meta says the token is no longer valid; reconnect from the dashboard"},
    };
    struct arena a;
    arena_init(&a);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_string_equal(meta_dead_token_reason(&a, cases[i].code, cases[i].subcode),
                            cases[i].want);
    arena_release(&a);
}

static struct store_account account(enum store_platform p, const char *ext, const char *name,
                                    enum store_account_status st, int64_t token_exp,
                                    int64_t data_exp)
{
    return (struct store_account){.id = 1,
                                  .platform = p,
                                  .external_id = ext,
                                  .page_id = ext,
                                  .name = p == STORE_MESSENGER ? name : NULL,
                                  .username = p == STORE_INSTAGRAM ? name : NULL,
                                  .status = st,
                                  .token_expires_at = token_exp,
                                  .data_access_expires_at = data_exp};
}

static void test_account_warning(void **state)
{
    (void)state;
    struct store_account dead =
        account(STORE_MESSENGER, "104", "Northwind Coffee", STORE_ACCOUNT_NEEDS_RECONNECT, 0, 0);
    static const struct {
        enum store_account_status st;
        int64_t token, data;
        const char *reason, *want;
    } cases[] = {
        {STORE_ACCOUNT_ACTIVE, 0, NOW + 60 * DAY, NULL, NULL},
        {STORE_ACCOUNT_ACTIVE, 0, 0, NULL, NULL},
        {STORE_ACCOUNT_ACTIVE, 0, NOW + 5 * DAY, NULL,
         "Data access for its login ends in 5 days (on 2025-11-29); reconnect from the dashboard "
         "to renew it."},
        {STORE_ACCOUNT_ACTIVE, NOW + DAY + 5, NOW + 50 * DAY, NULL,
         "Its token expires in 1 day (on 2025-11-25); reconnect from the dashboard to renew it."},
        {STORE_ACCOUNT_ACTIVE, NOW + 3600 * 1000, 0, NULL,
         "Its token expires within a day (on 2025-11-24); reconnect from the dashboard to renew "
         "it."},
        {STORE_ACCOUNT_ACTIVE, NOW - DAY, 0, NULL,
         "Its token expired on 2025-11-23; reconnect from the dashboard to renew it."},
        {STORE_ACCOUNT_ACTIVE, 0, NOW - 1, NULL,
         "Data access for its login ended on 2025-11-24; reconnect from the dashboard to renew "
         "it."},
        {STORE_ACCOUNT_NEEDS_RECONNECT, 0, 0, "the Page token was refused (code 190)",
         "Needs reconnecting: the Page token was refused (code 190)."},
        {STORE_ACCOUNT_NEEDS_RECONNECT, 0, NOW + DAY, "Gone.", "Needs reconnecting: Gone."},
        {STORE_ACCOUNT_NEEDS_RECONNECT, 0, 0, NULL,
         "Needs reconnecting: Meta no longer accepts its token; reconnect from the dashboard."},
        {STORE_ACCOUNT_REVOKED, 0, 0, NULL,
         "Revoked: the app was removed from the account; reconnect from the dashboard."},
    };
    struct arena a;
    arena_init(&a);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dead.status = cases[i].st;
        dead.token_expires_at = cases[i].token;
        dead.data_access_expires_at = cases[i].data;
        dead.status_reason = cases[i].reason;
        const char *got = meta_account_warning(&a, &dead, NOW);
        if (!cases[i].want)
            assert_null(got);
        else
            assert_string_equal(got, cases[i].want);
    }
    arena_release(&a);
}

static void test_banner(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    struct store_account rows[9] = {
        account(STORE_MESSENGER, "104", "Northwind Coffee", STORE_ACCOUNT_ACTIVE, 0,
                NOW + 60 * DAY),
        account(STORE_INSTAGRAM, "178", "northwind.coffee", STORE_ACCOUNT_ACTIVE, 0, 0),
        account(STORE_MESSENGER, "105", "Outlet", STORE_ACCOUNT_REVOKED, 0, NOW + DAY),
    };
    assert_null(meta_accounts_banner(&a, rows, 3, NOW)); /* revoked alone: no banner */
    assert_null(meta_accounts_banner(&a, rows, 0, NOW));

    rows[0].status = STORE_ACCOUNT_NEEDS_RECONNECT;
    assert_string_equal(meta_accounts_banner(&a, rows, 3, NOW),
                        "1 account needs reconnecting: Northwind Coffee (Facebook Page). Meta no "
                        "longer accepts its token, so nothing is sent or answered there until "
                        "someone reconnects from the dashboard.");
    rows[1].status = STORE_ACCOUNT_NEEDS_RECONNECT;
    rows[2] = account(STORE_MESSENGER, "105", NULL, STORE_ACCOUNT_ACTIVE, 0, NOW + 2 * DAY);
    assert_string_equal(meta_accounts_banner(&a, rows, 3, NOW),
                        "2 accounts need reconnecting: Northwind Coffee (Facebook Page) and "
                        "@northwind.coffee (Instagram). Meta no longer accepts their token, so "
                        "nothing is sent or answered there until someone reconnects from the "
                        "dashboard. Access for Facebook Page 105 ends in 2 days (on 2025-11-26); "
                        "reconnect from the dashboard to keep it working.");
    for (int i = 0; i < 9; i++) {
        char *name = arena_printf(&a, "Page %d", i);
        rows[i] = account(STORE_MESSENGER, name, name, STORE_ACCOUNT_NEEDS_RECONNECT, 0, 0);
    }
    const char *many = meta_accounts_banner(&a, rows, 9, NOW);
    assert_non_null(strstr(many, "9 accounts need reconnecting: Page 0 (Facebook Page), Page 1 "
                                 "(Facebook Page), Page 2 (Facebook Page), Page 3 (Facebook "
                                 "Page), Page 4 (Facebook Page) and 4 more."));
    rows[0] = account(STORE_MESSENGER, "1", "A", STORE_ACCOUNT_ACTIVE, NOW - DAY, 0);
    rows[1] = account(STORE_INSTAGRAM, "2", "b", STORE_ACCOUNT_ACTIVE, 0, NOW + 6 * DAY);
    assert_string_equal(meta_accounts_banner(&a, rows, 2, NOW),
                        "Access for A (Facebook Page) ended on 2025-11-23 and @b (Instagram) "
                        "ends in 6 days (on 2025-11-30); reconnect from the dashboard to keep "
                        "them working.");
    arena_release(&a);
}

static void test_tally(void **state)
{
    (void)state;
    struct store_account rows[] = {
        account(STORE_MESSENGER, "1", "A", STORE_ACCOUNT_ACTIVE, 0, NOW + 3 * DAY),
        account(STORE_INSTAGRAM, "2", "b", STORE_ACCOUNT_ACTIVE, 0, NOW + 30 * DAY),
        account(STORE_MESSENGER, "3", "C", STORE_ACCOUNT_NEEDS_RECONNECT, 0, NOW + DAY),
        account(STORE_MESSENGER, "4", "D", STORE_ACCOUNT_REVOKED, 0, 0),
        account(STORE_MESSENGER, "5", "E", STORE_ACCOUNT_ACTIVE, NOW - 1, 0),
    };
    struct meta_accounts_tally t;
    meta_accounts_tally(rows, sizeof rows / sizeof rows[0], NOW, &t);
    assert_int_equal(t.by_status[STORE_ACCOUNT_ACTIVE], 3);
    assert_int_equal(t.by_status[STORE_ACCOUNT_NEEDS_RECONNECT], 1);
    assert_int_equal(t.by_status[STORE_ACCOUNT_REVOKED], 1);
    assert_int_equal(t.expiring, 2); /* active only; an end already passed counts */
    meta_accounts_tally(NULL, 0, NOW, &t);
    assert_int_equal(t.by_status[STORE_ACCOUNT_ACTIVE] + t.expiring, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expiry_table),    cmocka_unit_test(test_dead_token_reason),
        cmocka_unit_test(test_account_warning), cmocka_unit_test(test_banner),
        cmocka_unit_test(test_tally),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
