/*
 * tests/unit/inbox/test_pace.c - the per-account token bucket of the sender (inbox/pace.h):
 * a second's worth of burst, then the rate; accounts apart; half the rate near Meta's limit;
 * no pacing at rate 0; the clock never running back.
 */
#include "inbox/pace.h"

#include "testutil.h"

#define T0 (1800000000000LL)

static void test_burst_then_rate(void **state)
{
    (void)state;
    struct inbox_pace *p = inbox_pace_new(6); /* 6 calls a second: two replies of 3 */
    assert_true(inbox_pace_take(p, 1, 3, T0) == 0);
    assert_true(inbox_pace_take(p, 1, 3, T0) == 0);
    int64_t wait = inbox_pace_take(p, 1, 3, T0); /* the bucket is empty: 3 calls = 500 ms */
    assert_true(wait == 500);
    assert_true(inbox_pace_take(p, 1, 3, T0 + 499) > 0); /* nothing was taken meanwhile */
    assert_true(inbox_pace_take(p, 1, 3, T0 + 500) == 0);
    /* a long quiet fills the bucket to one second's worth, no more */
    assert_true(inbox_pace_take(p, 1, 3, T0 + 60000) == 0);
    assert_true(inbox_pace_take(p, 1, 3, T0 + 60000) == 0);
    assert_true(inbox_pace_take(p, 1, 3, T0 + 60000) > 0);
    inbox_pace_free(p);
}

static void test_accounts_apart(void **state)
{
    (void)state;
    struct inbox_pace *p = inbox_pace_new(3);
    assert_true(inbox_pace_take(p, 1, 3, T0) == 0);
    assert_true(inbox_pace_take(p, 1, 3, T0) > 0);
    for (int64_t acct = 2; acct < 100; acct++) /* another account is not held up */
        assert_true(inbox_pace_take(p, acct, 3, T0) == 0);
    inbox_pace_free(p);
}

static void test_usage_halves_the_rate(void **state)
{
    (void)state;
    struct inbox_pace *p = inbox_pace_new(6);
    assert_true(inbox_pace_take(p, 7, 6, T0) == 0);
    inbox_pace_usage(p, 7, INBOX_PACE_SLOW_PCT - 1, T0); /* below the mark: nothing */
    assert_true(inbox_pace_take(p, 7, 3, T0) == 500);
    inbox_pace_usage(p, 7, 95, T0);
    assert_true(inbox_pace_take(p, 7, 3, T0) == 1000); /* 3 calls at 3 a second */
    /* after the slow minute the rate is back */
    assert_true(inbox_pace_take(p, 7, 6, T0 + INBOX_PACE_SLOW_MS + 2000) == 0);
    assert_true(inbox_pace_take(p, 7, 3, T0 + INBOX_PACE_SLOW_MS + 2000) == 500);
    inbox_pace_free(p);
}

static void test_unpaced_and_odd_inputs(void **state)
{
    (void)state;
    struct inbox_pace *p = inbox_pace_new(0);
    for (int i = 0; i < 1000; i++)
        assert_true(inbox_pace_take(p, 1, 3, T0) == 0);
    inbox_pace_free(p);
    p = inbox_pace_new(2);
    assert_true(inbox_pace_take(p, 1, 50, T0) == 0);      /* more than the bucket: a full bucket */
    assert_true(inbox_pace_take(p, 1, 1, T0 - 5000) > 0); /* the clock going back adds nothing */
    assert_true(inbox_pace_take(p, 1, 0, T0) == 0);
    inbox_pace_free(p);
    inbox_pace_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_rate),
        cmocka_unit_test(test_accounts_apart),
        cmocka_unit_test(test_usage_halves_the_rate),
        cmocka_unit_test(test_unpaced_and_odd_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
