/*
 * tests/unit/content/test_rules.c - the pure rules: Instagram's caption limits as counted
 * there (meta-platform.md section 5.4) and the rolling 24-hour quota with the time a slot
 * frees (section 5.2), and the fit modes' names.
 */
#include "content/content.h"

#include "testutil.h"

static char *repeat(const char *unit, int n)
{
    size_t u = strlen(unit);
    char *s = malloc(u * (size_t)n + 1);
    for (int i = 0; i < n; i++)
        memcpy(s + u * (size_t)i, unit, u);
    s[u * (size_t)n] = '\0';
    return s;
}

static void test_caption_counts(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        size_t chars;
        int hashtags, mentions;
    } cases[] = {
        {"", 0, 0, 0},
        {"Autumn blend is back \xe2\x98\x95 #coffee @northwind.coffee", 48, 1, 1},
        {"mail dana@example.com", 21, 0, 0},      /* inside a word: no mention */
        {"# alone, #1 and #_x", 19, 2, 0},        /* '#' before a word character */
        {"@.dots and @ alone", 18, 0, 1},
        {"caf\xc3\xa9 #caf\xc3\xa9", 10, 1, 0},   /* non-ASCII words count */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct content_caption_counts c;
        content_caption_count(cases[i].text, &c);
        assert_int_equal(c.chars, cases[i].chars);
        assert_int_equal(c.hashtags, cases[i].hashtags);
        assert_int_equal(c.mentions, cases[i].mentions);
    }
}

static void test_caption_limits(void **state)
{
    (void)state;
    char *at_chars = repeat("\xc3\xa9", 2200), *over_chars = repeat("\xc3\xa9", 2201);
    char *at_tags = repeat("#t ", 30), *over_tags = repeat("#t ", 31);
    char *at_mentions = repeat("@u ", 20), *over_mentions = repeat("@u ", 21);
    const struct {
        const char *text;
        enum err rc;
        const char *words;
    } cases[] = {
        {at_chars, ERR_OK, NULL},           {over_chars, ERR_INVALID, "2201 characters"},
        {at_tags, ERR_OK, NULL},            {over_tags, ERR_INVALID, "31 hashtags"},
        {at_mentions, ERR_OK, NULL},        {over_mentions, ERR_INVALID, "21 accounts"},
        {"\xc0\xaf", ERR_INVALID, "UTF-8"}, {"\xed\xa0\x80", ERR_INVALID, "UTF-8"},
        {"ok \xf0\x9f\x98\x80", ERR_OK, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char why[CONTENT_WHY_MAX];
        assert_int_equal(content_caption_check(cases[i].text, why), cases[i].rc);
        if (cases[i].words)
            assert_non_null(strstr(why, cases[i].words));
    }
    free(at_chars), free(over_chars), free(at_tags), free(over_tags), free(at_mentions),
        free(over_mentions);
}

#define H (3600LL * 1000)

static void test_quota(void **state)
{
    (void)state;
    const int64_t now = 100 * CONTENT_DAY_MS;
    /* three of ours: 30 h ago (outside the window), 20 h ago, 2 h ago */
    const int64_t ours[] = {now - 30 * H, now - 20 * H, now - 2 * H};
    static const struct {
        int64_t usage, total;
        size_t n_ours;
        bool allowed;
        int64_t used, slot_from_now;
    } cases[] = {
        {0, 25, 3, true, 2, 0},      /* ours inside the window: 2 */
        {1, 2, 3, false, 2, 4 * H},  /* full: the one from 20 h ago leaves in 4 h */
        {2, 2, 0, false, 2, 30 * 60 * 1000}, /* Meta counts posts we did not make */
        {5, 3, 3, false, 5, 30 * 60 * 1000},
        {0, 1, 3, false, 2, 22 * H}, /* two of ours over a total of 1: the newer must leave */
        {7, 0, 3, true, 7, 0},       /* no total known: Meta decides at media_publish */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct content_quota q = {.meta_usage = cases[i].usage,
                                  .meta_total = cases[i].total,
                                  .ours = ours,
                                  .n_ours = cases[i].n_ours};
        int64_t used = -1, slot = -1;
        assert_int_equal(content_quota_allows(&q, now, &used, &slot), cases[i].allowed);
        assert_int_equal(used, cases[i].used);
        assert_int_equal(slot, cases[i].allowed ? 0 : now + cases[i].slot_from_now);
    }
}

static void test_modes(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        enum content_fit_mode mode;
        const char *canonical;
    } cases[] = {{"pad", CONTENT_FIT_PAD, "pad"},
                 {"letterbox", CONTENT_FIT_PAD, "pad"},
                 {"blur", CONTENT_FIT_BLUR, "blur"},
                 {"crop", CONTENT_FIT_CROP, "crop"},
                 {"attention", CONTENT_FIT_CROP, "crop"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum content_fit_mode m;
        assert_int_equal(content_fit_mode_parse(cases[i].name, &m), ERR_OK);
        assert_int_equal(m, cases[i].mode);
        assert_string_equal(content_fit_mode_name(m), cases[i].canonical);
    }
    enum content_fit_mode m;
    assert_int_equal(content_fit_mode_parse("stretch", &m), ERR_INVALID);
    assert_int_equal(content_fit_mode_parse(NULL, &m), ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_caption_counts),
        cmocka_unit_test(test_caption_limits),
        cmocka_unit_test(test_quota),
        cmocka_unit_test(test_modes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
