/*
 * tests/unit/emulator/test_window.c - emu_window_open(): the 24-hour standard window and the
 * 7-day HUMAN_AGENT window, measured from the customer's last message (meta-platform.md
 * §2.3), at their boundaries.
 */
#include "emulator/emu_int.h"

#include "testutil.h"

#define T0 1790000000000LL /* some last-inbound time, in ms */

static void test_window_boundaries(void **state)
{
    (void)state;
    static const struct {
        int64_t last_inbound_ms, now_ms;
        bool human_agent, open;
    } cases[] = {
        {T0, T0, false, true},
        {T0, T0 + 1, false, true},
        {T0, T0 + 23 * EMU_HOUR_MS + 59 * 60000, false, true},
        {T0, T0 + EMU_DAY_MS - 1, false, true},
        {T0, T0 + EMU_DAY_MS, false, false}, /* 24 h exactly: closed */
        {T0, T0 + EMU_DAY_MS + 1, false, false},
        {T0, T0 + 6 * EMU_DAY_MS, false, false},
        {T0, T0 + EMU_DAY_MS, true, true}, /* HUMAN_AGENT goes on past 24 h */
        {T0, T0 + 6 * EMU_DAY_MS, true, true},
        {T0, T0 + 7 * EMU_DAY_MS - 1, true, true},
        {T0, T0 + 7 * EMU_DAY_MS, true, false}, /* 7 days exactly: closed */
        {T0, T0 + 30 * EMU_DAY_MS, true, false},
        {0, T0, false, false}, /* the customer never wrote: no window at all */
        {0, T0, true, false},
        {-5, T0, true, false},
        {0, 1, false, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bool got = emu_window_open(cases[i].last_inbound_ms, cases[i].now_ms, cases[i].human_agent);
        if (got != cases[i].open)
            fail_msg("case %zu: last %lld now %lld human_agent %d: got %d, want %d", i,
                     (long long)cases[i].last_inbound_ms, (long long)cases[i].now_ms,
                     cases[i].human_agent, got, cases[i].open);
    }
}

/* A later inbound message moves the window: what counts is the last one. */
static void test_window_follows_last_inbound(void **state)
{
    (void)state;
    int64_t now = T0 + 10 * EMU_DAY_MS;
    for (int64_t age = 0; age <= 8 * EMU_DAY_MS; age += EMU_HOUR_MS) {
        assert_int_equal(emu_window_open(now - age, now, false), age < EMU_DAY_MS);
        assert_int_equal(emu_window_open(now - age, now, true), age < 7 * EMU_DAY_MS);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window_boundaries),
        cmocka_unit_test(test_window_follows_last_inbound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
