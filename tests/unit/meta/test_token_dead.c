/*
 * tests/unit/meta/test_token_dead.c - meta_account_mark_dead() and meta_accounts_mark_dead()
 * on a real SQLite store: a refused token marks its account and the accounts sharing it
 * (Page + Instagram) once, with one log line each; a second report changes and logs nothing;
 * revoked accounts and a reconnect that happened meanwhile are left alone.
 */
#include "meta/token_check.h"

#include "testutil.h"

#include <fcntl.h>

#include "core/log.h"

#define NOW (1764000000000LL)

struct world {
    char dir[256], log_path[300];
    int log_fd;
    struct store *s;
    struct arena a;
    int64_t page, ig, other; /* account ids */
};

static int64_t add(struct world *w, enum store_platform p, const char *ext, const char *page,
                   const char *sealed)
{
    const struct store_account_new in = {.platform = p,
                                         .external_id = ext,
                                         .page_id = page,
                                         .name = "Northwind",
                                         .token_enc = (const unsigned char *)sealed,
                                         .token_enc_len = strlen(sealed),
                                         .user_id = "10160000000000001",
                                         .scopes = "pages_messaging"};
    int64_t id = 0;
    assert_int_equal(store_account_upsert(w->s, &in, NOW, &id, NULL), ERR_OK);
    return id;
}

static int setup(void **state)
{
    struct world *w = calloc(1, sizeof *w);
    snprintf(w->dir, sizeof w->dir, "%s", tu_tmpdir());
    snprintf(w->log_path, sizeof w->log_path, "%s/log", w->dir);
    w->log_fd = open(w->log_path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    assert_true(w->log_fd >= 0);
    log_set_fd(w->log_fd);
    log_set_level(LOG_INFO);
    struct store_opts so = {.data_dir = w->dir};
    assert_int_equal(store_open(&so, &w->s), ERR_OK);
    assert_int_equal(store_migrate(w->s, NULL, NULL), ERR_OK);
    arena_init(&w->a);
    w->page = add(w, STORE_MESSENGER, "104000000000001", "104000000000001", "sealed-page-1");
    w->ig = add(w, STORE_INSTAGRAM, "17841400000000001", "104000000000001", "sealed-page-1-ig");
    w->other = add(w, STORE_MESSENGER, "104000000000002", "104000000000002", "sealed-page-2");
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    struct world *w = *state;
    log_set_fd(-1);
    close(w->log_fd);
    arena_release(&w->a);
    store_free(w->s);
    tu_rmrf(w->dir);
    free(w);
    return 0;
}

static struct store_account row(struct world *w, int64_t id)
{
    struct store_account acct;
    assert_int_equal(store_account_by_id(w->s, &w->a, id, &acct), ERR_OK);
    return acct;
}

/* How many times needle occurs in the log so far. */
static int log_count(struct world *w, const char *needle)
{
    char *text = tu_read_file(w->log_path, NULL);
    assert_non_null(text);
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    free(text);
    return n;
}

static const struct meta_graph_error expired = {
    .http_status = 400, .code = 190, .subcode = 463, .cls = META_ERR_AUTH};

static void test_marks_the_token_s_accounts_once(void **state)
{
    struct world *w = *state;
    struct store_account used = row(w, w->ig); /* a send for Instagram used the Page's token */
    size_t n = 99;
    assert_int_equal(meta_account_mark_dead(w->s, &used, &expired, NOW + 1, &n), ERR_OK);
    assert_int_equal(n, 2);
    const char *reason = "Meta says the token is no longer valid (code 190/463: session "
                         "expired); reconnect from the dashboard";
    struct store_account page = row(w, w->page), ig = row(w, w->ig), other = row(w, w->other);
    assert_int_equal(page.status, STORE_ACCOUNT_NEEDS_RECONNECT);
    assert_int_equal(ig.status, STORE_ACCOUNT_NEEDS_RECONNECT);
    assert_string_equal(page.status_reason, reason);
    assert_string_equal(ig.status_reason, reason);
    assert_int_equal(other.status, STORE_ACCOUNT_ACTIVE);
    assert_null(other.status_reason);
    assert_int_equal(log_count(w, "\"event\":\"account.needs_reconnect\""), 2);
    assert_int_equal(log_count(w, "\"subcode\":463"), 2);

    /* the same death reported again (another send, the next health round): nothing at all */
    for (int i = 0; i < 3; i++) {
        n = 99;
        assert_int_equal(meta_account_mark_dead(w->s, &used, &expired, NOW + 100, &n), ERR_OK);
        assert_int_equal(n, 0);
        used = row(w, w->page);
        assert_int_equal(meta_accounts_mark_dead(w->s, &used, 1, &expired, NOW + 100, &n), ERR_OK);
        assert_int_equal(n, 0);
    }
    assert_int_equal(log_count(w, "account.needs_reconnect"), 2);
    assert_int_equal(row(w, w->page).updated_at, NOW + 1); /* not even rewritten */
}

static void test_revoked_stays_revoked(void **state)
{
    struct world *w = *state;
    assert_int_equal(
        store_account_set_status(w->s, w->other, STORE_ACCOUNT_REVOKED, "app removed by user", NOW),
        ERR_OK);
    struct store_account used = row(w, w->other);
    size_t n = 99;
    assert_int_equal(meta_account_mark_dead(w->s, &used, &expired, NOW, &n), ERR_OK);
    assert_int_equal(n, 0);
    struct store_account other = row(w, w->other);
    assert_int_equal(other.status, STORE_ACCOUNT_REVOKED);
    assert_string_equal(other.status_reason, "app removed by user");
    assert_int_equal(log_count(w, "account.needs_reconnect"), 0);
}

static void test_a_reconnect_meanwhile_wins(void **state)
{
    struct world *w = *state;
    struct store_account before = row(w, w->page); /* read, then the call went out... */
    add(w, STORE_MESSENGER, "104000000000001", "104000000000001", "sealed-page-1-fresh");
    size_t n = 99; /* ...and its 190 arrives after the operator reconnected */
    assert_int_equal(meta_account_mark_dead(w->s, &before, &expired, NOW, &n), ERR_OK);
    assert_int_equal(n, 0);
    assert_int_equal(row(w, w->page).status, STORE_ACCOUNT_ACTIVE);
    assert_int_equal(row(w, w->ig).status, STORE_ACCOUNT_ACTIVE);
    assert_int_equal(meta_accounts_mark_dead(w->s, &before, 1, &expired, NOW, &n), ERR_OK);
    assert_int_equal(n, 0);
    assert_int_equal(log_count(w, "account.needs_reconnect"), 0);
}

static void test_explicit_set_and_no_error_details(void **state)
{
    struct world *w = *state;
    struct store_account rows[2] = {row(w, w->other), row(w, w->page)};
    rows[1].token_enc = NULL; /* no snapshot: marked whatever it holds */
    size_t n = 0;
    assert_int_equal(meta_accounts_mark_dead(w->s, rows, 2, NULL, NOW, &n), ERR_OK);
    assert_int_equal(n, 2);
    assert_string_equal(row(w, w->other).status_reason,
                        "Meta says the token is no longer valid; reconnect from the dashboard");
    assert_int_equal(row(w, w->page).status, STORE_ACCOUNT_NEEDS_RECONNECT);
    assert_int_equal(row(w, w->ig).status, STORE_ACCOUNT_ACTIVE); /* not in the set */
    struct store_account gone = rows[0];
    gone.id = 9999;
    assert_int_equal(meta_account_mark_dead(w->s, &gone, &expired, NOW, NULL), ERR_OK);
    assert_int_equal(meta_accounts_mark_dead(w->s, &gone, 1, &expired, NOW, &n), ERR_OK);
    assert_int_equal(n, 0);
    assert_int_equal(log_count(w, "account.needs_reconnect"), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_marks_the_token_s_accounts_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revoked_stays_revoked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_reconnect_meanwhile_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_explicit_set_and_no_error_details, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
