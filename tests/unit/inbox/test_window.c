/*
 * tests/unit/inbox/test_window.c - the messaging-window policy as a table (23:59, 24:00,
 * 24:01, 6 days, 7 days, 8 days, never wrote, clock skew), and the proof that the AI path can
 * never obtain a HUMAN_AGENT send.
 */
#include "inbox/window.h"

#include "testutil.h"

#define MIN_MS  (60LL * 1000)
#define HOUR_MS (60 * MIN_MS)
#define DAY_MS  (24 * HOUR_MS)
#define NOW_MS  (1800000000000LL)

enum { NONE = WINDOW_SEND_NONE, RESP = WINDOW_SEND_RESPONSE, TAG = WINDOW_SEND_HUMAN_AGENT };

static const struct {
    const char *what;
    int64_t age_ms; /* now - last_customer_at; INT64_MIN: never wrote */
    int ai, human;  /* enum window_send */
    enum window_state state;
} cases[] = {
    {"just now", 0, RESP, RESP, WINDOW_OPEN},
    {"1 ms", 1, RESP, RESP, WINDOW_OPEN},
    {"23:59", 23 * HOUR_MS + 59 * MIN_MS, RESP, RESP, WINDOW_OPEN},
    {"24 h minus 1 ms", DAY_MS - 1, RESP, RESP, WINDOW_OPEN},
    {"exactly 24 h", DAY_MS, NONE, TAG, WINDOW_HUMAN_ONLY},
    {"24:01", DAY_MS + MIN_MS, NONE, TAG, WINDOW_HUMAN_ONLY},
    {"6 days", 6 * DAY_MS, NONE, TAG, WINDOW_HUMAN_ONLY},
    {"7 d minus 1 ms", 7 * DAY_MS - 1, NONE, TAG, WINDOW_HUMAN_ONLY},
    {"exactly 7 days", 7 * DAY_MS, NONE, NONE, WINDOW_CLOSED},
    {"8 days", 8 * DAY_MS, NONE, NONE, WINDOW_CLOSED},
    {"a year", 365 * DAY_MS, NONE, NONE, WINDOW_CLOSED},
    {"never wrote", INT64_MIN, NONE, NONE, WINDOW_CLOSED},
    {"clock skew: 5 s in the future", -5000, RESP, RESP, WINDOW_OPEN},
    {"clock skew: 3 days in the future", -3 * DAY_MS, RESP, RESP, WINDOW_OPEN},
};

static int64_t last_of(int64_t age)
{
    return age == INT64_MIN ? 0 : NOW_MS - age;
}

static void check_decision(const struct window_decision *d, int want, const char *what)
{
    if ((int)d->send != want)
        fail_msg("%s: send %d, want %d", what, (int)d->send, want);
    switch (d->send) {
    case WINDOW_SEND_RESPONSE:
        assert_string_equal(d->messaging_type, "RESPONSE");
        assert_null(d->tag);
        assert_null(d->reason);
        break;
    case WINDOW_SEND_HUMAN_AGENT:
        assert_string_equal(d->messaging_type, "MESSAGE_TAG");
        assert_string_equal(d->tag, "HUMAN_AGENT");
        break;
    case WINDOW_SEND_NONE:
        assert_null(d->messaging_type);
        assert_null(d->tag);
        assert_non_null(d->reason);
        assert_true(d->until_ms == 0);
        break;
    }
}

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t last = last_of(cases[i].age_ms);
        struct window_decision ai = window_decide(WINDOW_SENDER_AI, last, NOW_MS);
        struct window_decision hu = window_decide(WINDOW_SENDER_HUMAN, last, NOW_MS);
        check_decision(&ai, cases[i].ai, cases[i].what);
        check_decision(&hu, cases[i].human, cases[i].what);
        int64_t until = -1;
        if (window_state_of(last, NOW_MS, &until) != cases[i].state)
            fail_msg("%s: state %s", cases[i].what,
                     window_state_name(window_state_of(last, NOW_MS, NULL)));
        struct window_ai_decision a = window_decide_ai(last, NOW_MS);
        assert_int_equal(a.allowed, cases[i].ai == RESP);
        assert_true(a.allowed ? a.reason == NULL : a.reason != NULL);
        (void)until;
    }
}

/* The deadlines: 24 h (open) and 7 d (human only) after the customer's message, and skew
 * never stretches them past now + 24 h. */
static void test_until(void **state)
{
    (void)state;
    int64_t until = 0;
    int64_t last = NOW_MS - 23 * HOUR_MS;
    assert_int_equal(window_state_of(last, NOW_MS, &until), WINDOW_OPEN);
    assert_true(until == last + DAY_MS);
    last = NOW_MS - 2 * DAY_MS;
    assert_int_equal(window_state_of(last, NOW_MS, &until), WINDOW_HUMAN_ONLY);
    assert_true(until == last + 7 * DAY_MS);
    assert_int_equal(window_state_of(NOW_MS + 3 * DAY_MS, NOW_MS, &until), WINDOW_OPEN);
    assert_true(until == NOW_MS + DAY_MS);
    assert_int_equal(window_state_of(0, NOW_MS, &until), WINDOW_CLOSED);
    assert_true(until == 0);
}

/* The AI path cannot obtain HUMAN_AGENT: across every age from -1 day to 9 days in one-minute
 * steps, the AI's decision never carries a tag and is never MESSAGE_TAG; and the AI's own
 * result type has no tag member at all (window_ai_decision: allowed, reason, until_ms), which
 * the static assertion below pins so a tag member cannot be added unnoticed. */
struct ai_shape {
    bool allowed;
    const char *reason;
    int64_t until_ms;
};
_Static_assert(sizeof(struct window_ai_decision) == sizeof(struct ai_shape),
               "window_ai_decision must stay {allowed, reason, until_ms}: no tag for the AI");

static void test_ai_never_tags(void **state)
{
    (void)state;
    for (int64_t age = -DAY_MS; age <= 9 * DAY_MS; age += MIN_MS) {
        struct window_decision d = window_decide(WINDOW_SENDER_AI, NOW_MS - age, NOW_MS);
        assert_null(d.tag);
        assert_true(d.send != WINDOW_SEND_HUMAN_AGENT);
        if (d.messaging_type)
            assert_string_equal(d.messaging_type, "RESPONSE");
        struct window_ai_decision a = window_decide_ai(NOW_MS - age, NOW_MS);
        assert_int_equal(a.allowed, d.send == WINDOW_SEND_RESPONSE);
    }
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(window_state_name(WINDOW_OPEN), "open");
    assert_string_equal(window_state_name(WINDOW_HUMAN_ONLY), "human_only");
    assert_string_equal(window_state_name(WINDOW_CLOSED), "closed");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_until),
        cmocka_unit_test(test_ai_never_tags),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
