/*
 * tests/unit/core/test_recent.c - the in-memory redelivery set: duplicates are seen,
 * removal works without breaking other keys' probe chains, and it stays bounded.
 */
#include "core/recent.h"

#include "testutil.h"

static void test_insert_remove(void **state)
{
    (void)state;
    struct recent *r = recent_new();
    char key[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof key, "wh:%d", i);
        assert_true(recent_insert(r, key));
    }
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof key, "wh:%d", i);
        assert_false(recent_insert(r, key));
    }
    for (int i = 0; i < 5000; i += 2) {
        snprintf(key, sizeof key, "wh:%d", i);
        recent_remove(r, key);
    }
    for (int i = 0; i < 5000; i++) { /* removed ones are new again, the others still dups */
        snprintf(key, sizeof key, "wh:%d", i);
        assert_int_equal(recent_insert(r, key), i % 2 == 0);
    }
    recent_free(r);
}

static void test_bounded_but_remembers_recent(void **state)
{
    (void)state;
    struct recent *r = recent_new();
    char key[32];
    /* Far more keys than the set holds: it must neither fail nor grow without bound, and
     * the most recent keys are still recognised. */
    for (int i = 0; i < 2000000; i++) {
        snprintf(key, sizeof key, "k%d", i);
        recent_insert(r, key);
    }
    int remembered = 0;
    for (int i = 2000000 - 1000; i < 2000000; i++) {
        snprintf(key, sizeof key, "k%d", i);
        remembered += !recent_insert(r, key);
    }
    assert_int_equal(remembered, 1000);
    recent_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_insert_remove),
        cmocka_unit_test(test_bounded_but_remembers_recent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
