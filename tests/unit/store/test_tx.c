/*
 * tests/unit/store/test_tx.c - nested transactions: inner levels are savepoints, so an
 * inner rollback undoes only its own work and the outer commit keeps the rest.
 */
#include "store/store.h"

#include "core/log.h"
#include "testutil.h"

static int64_t add_event(struct store *s, const char *key)
{
    struct store_event ev = {.object = "page",
                             .entry_id = "1",
                             .kind = "message",
                             .channel = "messaging",
                             .key = key,
                             .raw_json = "{}"};
    int64_t id = 0;
    assert_int_equal(store_event_insert(s, &ev, 1, &id), ERR_OK);
    return id;
}

static int64_t count(struct store *s)
{
    int64_t n = -1;
    assert_int_equal(store_events_count(s, &n), ERR_OK);
    return n;
}

static void test_nested(void **state)
{
    (void)state;
    log_set_level(LOG_WARN);
    char dir[256];
    snprintf(dir, sizeof dir, "%s", tu_tmpdir());
    struct store_opts so = {.data_dir = dir};
    struct store *s = NULL;
    assert_int_equal(store_open(&so, &s), ERR_OK);
    assert_int_equal(store_migrate(s, NULL, NULL), ERR_OK);

    assert_int_equal(store_begin(s), ERR_OK);
    add_event(s, "a");
    assert_int_equal(store_begin(s), ERR_OK); /* savepoint */
    add_event(s, "b");
    store_rollback(s); /* undoes b only */
    assert_int_equal(store_begin(s), ERR_OK);
    add_event(s, "c");
    assert_int_equal(store_commit(s), ERR_OK); /* releases the savepoint */
    assert_int_equal(count(s), 2);
    assert_int_equal(store_commit(s), ERR_OK);
    assert_int_equal(count(s), 2); /* a and c */

    assert_int_equal(store_begin(s), ERR_OK);
    add_event(s, "d");
    store_rollback(s); /* the outermost rollback undoes everything of its transaction */
    assert_int_equal(count(s), 2);
    assert_int_equal(store_commit(s), ERR_INTERNAL); /* no transaction is open */

    /* After all that, another connection can write: the write lock was released. */
    struct store *t = NULL;
    assert_int_equal(store_open(&so, &t), ERR_OK);
    assert_int_equal(store_begin(t), ERR_OK);
    add_event(t, "e");
    assert_int_equal(store_commit(t), ERR_OK);
    assert_int_equal(count(s), 3);
    store_free(t);
    store_free(s);
    tu_rmrf(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_nested)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
