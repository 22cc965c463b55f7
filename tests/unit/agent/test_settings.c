/*
 * tests/unit/agent/test_settings.c - the agent.* settings: what agent_setting_check() accepts
 * and refuses (the dashboard calls it before saving), and that a stored value that is bad
 * leaves the default in place.
 */
#include "agent/agent_int.h"

#include "testutil.h"

static const struct {
    const char *key, *value;
    enum err want;
} cases[] = {
    {AGENT_SETTING_PERSONA, "You help the customers of {business_name}, in a {tone} way.", ERR_OK},
    {AGENT_SETTING_PERSONA, "", ERR_INVALID},
    {AGENT_SETTING_PERSONA, "Hi {customer}", ERR_INVALID}, /* unknown placeholder */
    {AGENT_SETTING_PERSONA, "bad \xff utf-8", ERR_INVALID},
    {AGENT_SETTING_TONE, "warm and brief", ERR_OK},
    {AGENT_SETTING_TONE, "", ERR_INVALID},
    {AGENT_SETTING_HANDOFF_KEYWORDS, "human\nreal person\n=agent", ERR_OK},
    {AGENT_SETTING_HANDOFF_KEYWORDS, "", ERR_OK},
    {AGENT_SETTING_SENTIMENT_THRESHOLD, "-0.5", ERR_OK},
    {AGENT_SETTING_SENTIMENT_THRESHOLD, "1", ERR_OK},
    {AGENT_SETTING_SENTIMENT_THRESHOLD, "-1.01", ERR_INVALID},
    {AGENT_SETTING_SENTIMENT_THRESHOLD, "nan", ERR_INVALID},
    {AGENT_SETTING_SENTIMENT_THRESHOLD, "low", ERR_INVALID},
    {AGENT_SETTING_HISTORY_TURNS, "12", ERR_OK},
    {AGENT_SETTING_HISTORY_TURNS, "10", ERR_OK},
    {AGENT_SETTING_HISTORY_TURNS, "20", ERR_OK},
    {AGENT_SETTING_HISTORY_TURNS, "9", ERR_INVALID},
    {AGENT_SETTING_HISTORY_TURNS, "21", ERR_INVALID},
    {AGENT_SETTING_HISTORY_TURNS, "12.5", ERR_INVALID},
    {AGENT_SETTING_HANDOFF_COOLDOWN_S, "600", ERR_OK},
    {AGENT_SETTING_HANDOFF_COOLDOWN_S, "0", ERR_INVALID},
    {AGENT_SETTING_HANDOFF_COOLDOWN_S, "ten", ERR_INVALID},
    {"agent.unknown", "x", ERR_NOT_FOUND},
    {"inbox.pause_on_business_reply", "true", ERR_NOT_FOUND}, /* not the agent's */
};

static void test_check(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *why = NULL;
        enum err rc = agent_setting_check(cases[i].key, cases[i].value, &why);
        if (rc != cases[i].want)
            fail_msg("case %zu (%s=%s): %s", i, cases[i].key, cases[i].value, err_name(rc));
        if (rc == ERR_INVALID && (!why || !*why))
            fail_msg("case %zu: refused without words", i);
    }
}

static void test_apply(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    struct agent_settings st;
    agent_settings_init(&st);
    assert_int_equal(st.history_turns, 12);
    assert_float_equal(st.sentiment_threshold, -0.5, 1e-9);
    assert_int_equal(st.handoff_cooldown_ms, 600000);
    assert_true(st.keywords->n > 50);
    const char *why = NULL;
    assert_int_equal(agent_settings_apply(&st, &a, AGENT_SETTING_HISTORY_TURNS, "16", &why),
                     ERR_OK);
    assert_int_equal(st.history_turns, 16);
    assert_int_equal(agent_settings_apply(&st, &a, AGENT_SETTING_HISTORY_TURNS, "99", &why),
                     ERR_INVALID);
    assert_int_equal(st.history_turns, 16); /* unchanged by a bad value */
    assert_int_equal(
        agent_settings_apply(&st, &a, AGENT_SETTING_SENTIMENT_THRESHOLD, "-0.25", &why), ERR_OK);
    assert_float_equal(st.sentiment_threshold, -0.25, 1e-9);
    assert_int_equal(agent_settings_apply(&st, &a, AGENT_SETTING_HANDOFF_COOLDOWN_S, "30", &why),
                     ERR_OK);
    assert_int_equal(st.handoff_cooldown_ms, 30000);
    assert_int_equal(agent_settings_apply(&st, &a, AGENT_SETTING_HANDOFF_KEYWORDS, "refund", &why),
                     ERR_OK);
    assert_int_equal(st.keywords->n, 1);
    assert_int_equal(agent_settings_apply(&st, &a, AGENT_SETTING_TONE, "formal", &why), ERR_OK);
    assert_string_equal(st.tone, "formal");
    for (size_t i = 0; i < AGENT_N_SETTINGS; i++)
        assert_int_not_equal(agent_setting_check(agent_setting_keys[i], "", &why), ERR_NOT_FOUND);
    arena_release(&a);
}

static void test_disclosure_rule(void **state)
{
    (void)state;
    int64_t now = 1767225600000LL, hour = 3600 * 1000;
    assert_true(agent_needs_disclosure(0, 0, now));          /* a new conversation */
    assert_true(agent_needs_disclosure(0, now - hour, now)); /* after a hand back */
    assert_false(agent_needs_disclosure(now - hour, now - hour, now));
    assert_true(agent_needs_disclosure(now - 20 * hour, now - 13 * hour, now)); /* a long gap */
    assert_false(agent_needs_disclosure(now - 20 * hour, now - 11 * hour, now));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_apply),
        cmocka_unit_test(test_disclosure_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
