/*
 * tests/unit/inbox/test_comments.c - the comments settings and the offensive-word check
 * (inbox/comments.h): whole words only, ASCII case ignored, a custom lexicon replacing the
 * default, and the mode names.
 */
#include "inbox/comments.h"

#include "testutil.h"

static const struct {
    const char *text;
    const char *lexicon; /* NULL: the default */
    bool offensive;
} cases[] = {
    {"Love this roast!", NULL, false},
    {"you are an IDIOT", NULL, true},
    {"idiot.", NULL, true},
    {"what a classy shop", NULL, false},     /* no "ass" inside a word */
    {"Scunthorpe coffee club", NULL, false}, /* nor "cunt" */
    {"esto es una mierda", NULL, true},
    {"so shit-hot", NULL, true}, /* a hyphen ends a word */
    {"", NULL, false},
    {"pricey", "pricey\nslow", true},
    {"idiot", "pricey\r\nslow \n", false}, /* a custom list replaces the default */
    {"slow", "pricey\r\nslow \n", true},   /* CR and trailing spaces ignored */
    {"café idiot", NULL, true},
    {"anything", "", false},
};

static void test_lexicon(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (inbox_comment_is_offensive(cases[i].text, cases[i].lexicon) != cases[i].offensive)
            fail_msg("\"%s\": offensive %d", cases[i].text, !cases[i].offensive);
    assert_false(inbox_comment_is_offensive(NULL, NULL));
}

static void test_modes_and_defaults(void **state)
{
    (void)state;
    enum inbox_comment_mode m;
    assert_true(inbox_comment_mode_parse("leave", &m) && m == INBOX_COMMENTS_LEAVE);
    assert_true(inbox_comment_mode_parse("reply_public", &m) && m == INBOX_COMMENTS_PUBLIC);
    assert_true(inbox_comment_mode_parse("reply_private", &m) && m == INBOX_COMMENTS_PRIVATE);
    assert_false(inbox_comment_mode_parse("shout", &m));
    assert_false(inbox_comment_mode_parse(NULL, &m));
    assert_string_equal(inbox_comment_setting_default(INBOX_SETTING_COMMENTS_MODE), "leave");
    assert_string_equal(inbox_comment_setting_default(INBOX_SETTING_COMMENTS_HIDE), "false");
    assert_non_null(inbox_comment_setting_default(INBOX_SETTING_COMMENTS_OFFENSIVE));
    assert_null(inbox_comment_setting_default("agent.tone"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lexicon),
        cmocka_unit_test(test_modes_and_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
