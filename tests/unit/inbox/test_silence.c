/*
 * tests/unit/inbox/test_silence.c - the silent-account rule (inbox/silence.h) as a table:
 * quiet for 10 times the account's usual gap, never sooner than the floor; an account that
 * never heard anything counts from when it was connected.
 */
#include "inbox/silence.h"

#include "store/store.h"
#include "testutil.h"

#define MIN_MS  (60LL * 1000)
#define HOUR_MS (60 * MIN_MS)
#define NOW     (1800000000000LL)
#define FLOOR   (4 * HOUR_MS)

static const struct {
    const char *what;
    int64_t quiet_ms;  /* now - last_event_at; -1: never heard anything */
    int64_t gap_ms;    /* event_gap_ms */
    int64_t connected; /* how long ago it was connected */
    bool silent;
} cases[] = {
    {"busy account, quiet a minute", MIN_MS, MIN_MS, 100 * HOUR_MS, false},
    {"busy account, quiet just under the floor", FLOOR - 1, MIN_MS, 100 * HOUR_MS, false},
    {"busy account, quiet for the floor", FLOOR, MIN_MS, 100 * HOUR_MS, true},
    {"hourly account, quiet 9 h", 9 * HOUR_MS, HOUR_MS, 100 * HOUR_MS, false},
    {"hourly account, quiet 10 h", 10 * HOUR_MS, HOUR_MS, 100 * HOUR_MS, true},
    {"daily account, quiet 5 days", 120 * HOUR_MS, 24 * HOUR_MS, 1000 * HOUR_MS, false},
    {"daily account, quiet 10 days", 240 * HOUR_MS, 24 * HOUR_MS, 1000 * HOUR_MS, true},
    {"one event only (no gap yet), quiet 3 h", 3 * HOUR_MS, 0, 100 * HOUR_MS, false},
    {"one event only, quiet 5 h", 5 * HOUR_MS, 0, 100 * HOUR_MS, true},
    {"never heard, connected 1 h ago", -1, 0, HOUR_MS, false},
    {"never heard, connected 5 h ago", -1, 0, 5 * HOUR_MS, true},
};

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct store_account a = {.id = 1,
                                  .created_at = NOW - cases[i].connected,
                                  .last_event_at =
                                      cases[i].quiet_ms < 0 ? 0 : NOW - cases[i].quiet_ms,
                                  .event_gap_ms = cases[i].gap_ms};
        if (inbox_is_silent(&a, FLOOR, NOW) != cases[i].silent)
            fail_msg("%s: silent %d", cases[i].what, !cases[i].silent);
    }
}

static void test_after(void **state)
{
    (void)state;
    assert_true(inbox_silent_after_ms(0, FLOOR) == FLOOR);
    assert_true(inbox_silent_after_ms(-5, FLOOR) == FLOOR);
    assert_true(inbox_silent_after_ms(HOUR_MS, FLOOR) == 10 * HOUR_MS);
    assert_true(inbox_silent_after_ms(INT64_MAX / 2, FLOOR) == INT64_MAX); /* no overflow */
    struct store_account future = {.created_at = NOW + HOUR_MS};
    assert_false(inbox_is_silent(&future, FLOOR, NOW));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_after),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
