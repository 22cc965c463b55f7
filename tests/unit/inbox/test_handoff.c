/*
 * tests/unit/inbox/test_handoff.c - the ai / human / paused state machine on a temporary
 * SQLite store: every move, repeated moves, the cool-down after a hand back, the disclosure
 * forgotten on hand back, and which online operator a handoff goes to.
 */
#include "inbox/handoff.h"

#include "testutil.h"

#include "store/store.h"

#define NOW_MS    (1800000000000LL)
#define MINUTE_MS (60LL * 1000)

struct fx {
    char dir[256];
    struct store *s;
    struct arena a;
    int64_t conv;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "%s", tu_tmpdir());
    struct store_opts so = {.data_dir = f->dir};
    assert_int_equal(store_open(&so, &f->s), ERR_OK);
    assert_int_equal(store_migrate(f->s, NULL, NULL), ERR_OK);
    arena_init(&f->a);
    static const unsigned char tok[] = "sealed";
    struct store_account_new in = {.platform = STORE_INSTAGRAM,
                                   .external_id = "17841400000000001",
                                   .page_id = "104000000000001",
                                   .token_enc = tok,
                                   .token_enc_len = sizeof tok};
    int64_t acc = 0;
    assert_int_equal(store_account_upsert(f->s, &in, NOW_MS, &acc, NULL), ERR_OK);
    assert_int_equal(store_conversation_ensure(f->s, acc, "IGSID1", NOW_MS, &f->conv, NULL),
                     ERR_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    arena_release(&f->a);
    store_free(f->s);
    tu_rmrf(f->dir);
    free(f);
    return 0;
}

static struct store_conversation get(struct fx *f, int64_t conv)
{
    struct store_conversation cv;
    assert_int_equal(store_conversation_get(f->s, &f->a, conv, &cv), ERR_OK);
    return cv;
}

/* An operator with a session last seen at seen_ms. */
static int64_t add_operator(struct fx *f, const char *email, int64_t seen_ms)
{
    int64_t id = 0;
    assert_int_equal(store_operator_add(f->s, email, "$argon2id$x", "agent", NOW_MS, &id), ERR_OK);
    char hash[80];
    snprintf(hash, sizeof hash, "session-of-%s", email);
    struct store_session ss = {.id_hash = hash,
                               .operator_id = id,
                               .csrf = "c",
                               .created_at = seen_ms,
                               .expires_at = NOW_MS + 3600 * 1000,
                               .last_seen_at = seen_ms};
    assert_int_equal(store_session_add(f->s, &ss), ERR_OK);
    return id;
}

static void test_handoff_moves_ai_to_human_once(void **state)
{
    struct fx *f = *state;
    struct inbox_handoff_outcome h;
    assert_int_equal(inbox_handoff(f->s, f->conv, INBOX_CAUSE_KEYWORD, NULL, 0, NOW_MS, &h),
                     ERR_OK);
    assert_true(h.changed);
    assert_int_equal(h.operator_id, 0); /* nobody online */
    struct store_conversation cv = get(f, f->conv);
    assert_string_equal(cv.mode, "human");
    assert_string_equal(cv.handoff_cause, "keyword");
    assert_string_equal(cv.handoff_reason, "the customer asked for a person");
    assert_int_equal(cv.handoff_at, NOW_MS);
    /* again, and with another cause: already with a person, nothing moves */
    assert_int_equal(
        inbox_handoff(f->s, f->conv, INBOX_CAUSE_MODEL, "x", 0, NOW_MS + MINUTE_MS, &h), ERR_OK);
    assert_false(h.changed);
    cv = get(f, f->conv);
    assert_string_equal(cv.handoff_cause, "keyword");
    assert_int_equal(cv.handoff_at, NOW_MS);
}

static void test_business_reply_pauses(void **state)
{
    struct fx *f = *state;
    struct inbox_handoff_outcome h;
    assert_int_equal(inbox_handoff(f->s, f->conv, INBOX_CAUSE_BUSINESS_REPLY, NULL, 0, NOW_MS, &h),
                     ERR_OK);
    assert_true(h.changed);
    struct store_conversation cv = get(f, f->conv);
    assert_string_equal(cv.mode, "paused");
    assert_string_equal(cv.handoff_cause, "business_reply");
    /* paused is silent too: an automatic handoff does not move it */
    assert_int_equal(inbox_handoff(f->s, f->conv, INBOX_CAUSE_KEYWORD, NULL, 0, NOW_MS, &h),
                     ERR_OK);
    assert_false(h.changed);
    assert_string_equal(get(f, f->conv).mode, "paused");
}

static void test_take_over_and_reassign(void **state)
{
    struct fx *f = *state;
    int64_t ann = add_operator(f, "ann@example.com", NOW_MS);
    int64_t bob = add_operator(f, "bob@example.com", NOW_MS);
    bool changed = false;
    assert_int_equal(inbox_take_over(f->s, f->conv, ann, NOW_MS, &changed), ERR_OK);
    assert_true(changed);
    struct store_conversation cv = get(f, f->conv);
    assert_string_equal(cv.mode, "human");
    assert_string_equal(cv.handoff_cause, "operator");
    assert_int_equal(cv.assigned_operator_id, ann);
    assert_int_equal(inbox_take_over(f->s, f->conv, ann, NOW_MS + 1, &changed), ERR_OK);
    assert_false(changed); /* she already has it */
    assert_int_equal(inbox_take_over(f->s, f->conv, bob, NOW_MS + 2, &changed), ERR_OK);
    assert_true(changed);
    cv = get(f, f->conv);
    assert_int_equal(cv.assigned_operator_id, bob);
    assert_int_equal(cv.handoff_at, NOW_MS); /* still the time it left the AI */
    assert_int_equal(inbox_take_over(f->s, f->conv, 0, NOW_MS, &changed), ERR_INVALID);
}

static void test_hand_back_clears_and_rediscloses(void **state)
{
    struct fx *f = *state;
    bool first = false;
    assert_int_equal(store_conversation_disclose(f->s, f->conv, NOW_MS, &first), ERR_OK);
    assert_true(first);
    int64_t ann = add_operator(f, "ann@example.com", NOW_MS);
    bool changed = false;
    assert_int_equal(inbox_take_over(f->s, f->conv, ann, NOW_MS, &changed), ERR_OK);
    assert_int_equal(inbox_hand_back(f->s, f->conv, ann, NOW_MS + MINUTE_MS, &changed), ERR_OK);
    assert_true(changed);
    struct store_conversation cv = get(f, f->conv);
    assert_string_equal(cv.mode, "ai");
    assert_null(cv.handoff_cause);
    assert_null(cv.handoff_reason);
    assert_int_equal(cv.handoff_at, 0);
    assert_int_equal(cv.assigned_operator_id, 0);
    assert_int_equal(cv.handed_back_at, NOW_MS + MINUTE_MS);
    assert_int_equal(store_conversation_disclose(f->s, f->conv, NOW_MS + 2 * MINUTE_MS, &first),
                     ERR_OK);
    assert_true(first); /* the AI says again that it is an AI */
    assert_int_equal(inbox_hand_back(f->s, f->conv, ann, NOW_MS + 3 * MINUTE_MS, &changed), ERR_OK);
    assert_false(changed);
    assert_int_equal(get(f, f->conv).handed_back_at, NOW_MS + MINUTE_MS);
}

static void test_paused_hands_back(void **state)
{
    struct fx *f = *state;
    struct inbox_handoff_outcome h;
    assert_int_equal(inbox_handoff(f->s, f->conv, INBOX_CAUSE_BUSINESS_REPLY, NULL, 0, NOW_MS, &h),
                     ERR_OK);
    bool changed = false;
    assert_int_equal(inbox_hand_back(f->s, f->conv, 1, NOW_MS + 1, &changed), ERR_OK);
    assert_true(changed);
    assert_string_equal(get(f, f->conv).mode, "ai");
}

static void test_cool_down_holds_back_history_signals(void **state)
{
    struct fx *f = *state;
    const int64_t cool = 10 * MINUTE_MS;
    struct inbox_handoff_outcome h;
    assert_int_equal(inbox_handoff(f->s, f->conv, INBOX_CAUSE_SENTIMENT, NULL, cool, NOW_MS, &h),
                     ERR_OK);
    assert_true(h.changed); /* never handed back: no cool-down */
    bool changed = false;
    const int64_t back = NOW_MS + MINUTE_MS;
    assert_int_equal(inbox_hand_back(f->s, f->conv, 7, back, &changed), ERR_OK);
    static const struct {
        enum inbox_handoff_cause cause;
        int64_t after_ms;
        bool moves;
    } cases[] = {
        {INBOX_CAUSE_SENTIMENT, 0, false},
        {INBOX_CAUSE_LOOP, 9 * MINUTE_MS, false},
        {INBOX_CAUSE_SENTIMENT, 10 * MINUTE_MS, true}, /* cooled down */
        {INBOX_CAUSE_KEYWORD, MINUTE_MS, true},        /* asked for a person: never held */
        {INBOX_CAUSE_MODEL, MINUTE_MS, true},
        {INBOX_CAUSE_FAILURES, 0, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(
            inbox_handoff(f->s, f->conv, cases[i].cause, NULL, cool, back + cases[i].after_ms, &h),
            ERR_OK);
        assert_int_equal(h.changed, cases[i].moves);
        assert_int_equal(h.is_cooling, !cases[i].moves);
        if (h.changed) /* back to the AI for the next case, at the same hand-back time */
            assert_int_equal(store_conversation_change_mode(
                                 f->s, f->conv,
                                 &(struct store_mode_change){.from = {"human"}, .to = "ai"}, back,
                                 &changed),
                             ERR_OK);
    }
    struct store_conversation cv = get(f, f->conv);
    assert_true(inbox_handoff_is_cooling(&cv, cool, back + cool - 1));
    assert_false(inbox_handoff_is_cooling(&cv, cool, back + cool));
    assert_true(inbox_handoff_is_cooling(&cv, 0, back + INBOX_HANDOFF_COOLDOWN_MS_DEFAULT - 1));
}

static void test_handoff_goes_to_least_busy_online_operator(void **state)
{
    struct fx *f = *state;
    int64_t stale = add_operator(f, "away@example.com", NOW_MS - INBOX_ONLINE_MS - 1);
    int64_t busy = add_operator(f, "busy@example.com", NOW_MS);
    int64_t free_op = add_operator(f, "free@example.com", NOW_MS - MINUTE_MS);
    /* busy already holds a conversation */
    int64_t acc = get(f, f->conv).account_id, other = 0;
    assert_int_equal(store_conversation_ensure(f->s, acc, "IGSID2", NOW_MS, &other, NULL), ERR_OK);
    bool changed = false;
    assert_int_equal(inbox_take_over(f->s, other, busy, NOW_MS, &changed), ERR_OK);
    struct inbox_handoff_outcome h;
    assert_int_equal(inbox_handoff(f->s, f->conv, INBOX_CAUSE_NO_ANSWER, NULL, 0, NOW_MS, &h),
                     ERR_OK);
    assert_true(h.changed);
    assert_int_equal(h.operator_id, free_op);
    assert_int_equal(get(f, f->conv).assigned_operator_id, free_op);
    assert_true(h.operator_id != stale);
    /* a paused conversation is nobody's */
    int64_t third = 0;
    assert_int_equal(store_conversation_ensure(f->s, acc, "IGSID3", NOW_MS, &third, NULL), ERR_OK);
    assert_int_equal(inbox_handoff(f->s, third, INBOX_CAUSE_BUSINESS_REPLY, NULL, 0, NOW_MS, &h),
                     ERR_OK);
    assert_int_equal(h.operator_id, 0);
    assert_int_equal(get(f, third).assigned_operator_id, 0);
}

static void test_bad_calls(void **state)
{
    struct fx *f = *state;
    struct inbox_handoff_outcome h;
    assert_int_equal(inbox_handoff(f->s, f->conv, INBOX_CAUSE_OPERATOR, NULL, 0, NOW_MS, &h),
                     ERR_INVALID);
    assert_int_equal(
        inbox_handoff(f->s, f->conv, (enum inbox_handoff_cause)99, NULL, 0, NOW_MS, &h),
        ERR_INVALID);
    assert_int_equal(inbox_handoff(f->s, 999999, INBOX_CAUSE_KEYWORD, NULL, 0, NOW_MS, &h),
                     ERR_NOT_FOUND);
    bool changed = true;
    struct store_mode_change bad = {.from = {"ai"}, .to = "closed"};
    assert_int_equal(store_conversation_change_mode(f->s, f->conv, &bad, NOW_MS, &changed),
                     ERR_INVALID);
    assert_false(changed);
    assert_string_equal(get(f, f->conv).mode, "ai");
}

static void test_cause_names(void **state)
{
    (void)state;
    for (int i = 0; i < INBOX_N_CAUSES; i++) {
        enum inbox_handoff_cause c;
        const char *name = inbox_handoff_cause_name((enum inbox_handoff_cause)i);
        assert_int_equal(inbox_handoff_cause_parse(name, &c), ERR_OK);
        assert_int_equal(c, i);
        assert_true(strlen(inbox_handoff_cause_words(c)) > 8);
    }
    enum inbox_handoff_cause c;
    assert_int_equal(inbox_handoff_cause_parse("Keyword", &c), ERR_INVALID);
    assert_int_equal(inbox_handoff_cause_parse(NULL, &c), ERR_INVALID);
    assert_string_equal(inbox_handoff_cause_name((enum inbox_handoff_cause) - 1), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_handoff_moves_ai_to_human_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_business_reply_pauses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_take_over_and_reassign, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hand_back_clears_and_rediscloses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paused_hands_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cool_down_holds_back_history_signals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_handoff_goes_to_least_busy_online_operator, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bad_calls, setup, teardown),
        cmocka_unit_test(test_cause_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
