/*
 * tests/unit/inbox/test_reply_text.c - the retrieval-only answer's words: asking for a person
 * (whole words, any case) and a knowledge-base chunk cut to a few plain sentences.
 */
#include "inbox/inbox.h"

#include "testutil.h"

static const struct {
    const char *text;
    bool asks;
} human_cases[] = {
    {"can I talk to a human", true},
    {"HUMAN please", true},
    {"is there an Agent?", true},
    {"a real person!", true},
    {"get me a representative.", true},
    {"humans are great", false}, /* whole words only */
    {"agency work", false},
    {"personally I like it", false},
    {"do you ship to canada?", false},
    {"", false},
    {NULL, false},
};

static void test_asks_for_human(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof human_cases / sizeof human_cases[0]; i++) {
        if (inbox_asks_for_human(human_cases[i].text) != human_cases[i].asks)
            fail_msg("case %zu: \"%s\"", i, human_cases[i].text ? human_cases[i].text : "NULL");
    }
}

static const struct {
    const char *text;
    int sentences;
    size_t max_bytes;
    const char *want;
} trim_cases[] = {
    {"One. Two. Three. Four.", 3, 100, "One. Two. Three."},
    {"One.\nTwo!  Three? Four.", 2, 100, "One. Two!"},
    {"No end mark at all", 3, 100, "No end mark at all"},
    {"- **Autumn Blend** (seasonal): fig.\n- Two.", 3, 100, "Autumn Blend (seasonal): fig. Two."},
    {"## Heading\nText 3.5 kg here. Next.", 1, 100, "Heading Text 3.5 kg here."},
    {"aaaa bbbb cccc dddd", 3, 12, "aaaa bbbb"},
    {"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 3, 5, "\xc3\xa9\xc3\xa9"}, /* never inside a code point */
    {"", 3, 100, ""},
    {"   \n  ", 3, 100, ""},
};

static void test_reply_trim(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof trim_cases / sizeof trim_cases[0]; i++) {
        struct arena a;
        arena_init(&a);
        const char *got = inbox_reply_trim(&a, trim_cases[i].text, trim_cases[i].sentences,
                                           trim_cases[i].max_bytes);
        if (strcmp(got, trim_cases[i].want) != 0)
            fail_msg("case %zu: got \"%s\", want \"%s\"", i, got, trim_cases[i].want);
        arena_release(&a);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_asks_for_human),
        cmocka_unit_test(test_reply_trim),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
