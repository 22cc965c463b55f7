/*
 * tests/unit/agent/test_guard.c - the guardrails on every AI message: Markdown removed, at
 * most 3 sentences with the disclosure counted, cut at a sentence boundary to Instagram's 1000
 * bytes and Messenger's 2000 characters, and every price, percentage, code and discount backed
 * by this turn's passages or tool results.
 */
#include "agent/agent_int.h"

#include "testutil.h"

static struct arena A;

static int setup(void **state)
{
    (void)state;
    arena_init(&A);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    arena_release(&A);
    return 0;
}

static void test_plain(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"**Autumn Blend** is _lovely_ and `cheap`.", "Autumn Blend is lovely and cheap."},
        {"## Shipping\nWe ship to Canada.", "Shipping. We ship to Canada."},
        {"Options:\n- Autumn Blend: $17\n- Decaf: $18", "Options: Autumn Blend: $17. Decaf: $18"},
        {"1. Grind\n2) Brew", "Grind. Brew"},
        {"> quoted text", "quoted text"},
        {"See [our site](https://shop.example/faq) now",
         "See our site (https://shop.example/faq) now"},
        {"![logo](https://x.example/l.png)", "logo (https://x.example/l.png)"},
        {"```\ncode\n```\nafter", "code. after"},
        {"snake_case and a_b@shop.example stay", "snake_case and a_b@shop.example stay"},
        {"-5 degrees #hashtag", "-5 degrees #hashtag"},
        {"• bullet one\n• bullet two", "bullet one. bullet two"},
        {"  lots   of\tspace  ", "lots of space"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = agent_plain(&A, cases[i].in);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("case %zu: got \"%s\", want \"%s\"", i, got, cases[i].want);
    }
}

static const char *disc = "I'm the AI assistant for Northwind Coffee.";

static void test_shape_sentences(void **state)
{
    (void)state;
    struct agent_shape sh = {.max_sentences = 3};
    assert_string_equal(agent_shape(&A, "One. Two. Three. Four.", &sh), "One. Two. Three.");
    sh.disclosure = disc; /* the disclosure is one of the three */
    assert_string_equal(agent_shape(&A, "One. Two. Three.", &sh),
                        "I'm the AI assistant for Northwind Coffee. One. Two.");
    assert_string_equal(agent_shape(&A, "  ", &sh), "");
    assert_string_equal(agent_shape(&A, "It is $5.95. Yes.", &sh),
                        "I'm the AI assistant for Northwind Coffee. It is $5.95. Yes.");
}

static char *repeat(const char *unit, size_t times)
{
    size_t n = strlen(unit);
    char *s = arena_alloc(&A, n * times + 1);
    for (size_t i = 0; i < times; i++)
        memcpy(s + i * n, unit, n);
    return s;
}

static size_t code_points(const char *s)
{
    size_t c = 0;
    for (; *s; s++)
        c += ((unsigned char)*s & 0xC0) != 0x80;
    return c;
}

static void test_shape_limits(void **state)
{
    (void)state;
    /* Instagram: bytes. Three long sentences of é (2 bytes each): the cut falls between them. */
    const char *s1 = repeat("\xc3\xa9", 300);
    const char *text = arena_printf(&A, "%s. %s. %s.", s1, s1, s1);
    struct agent_shape ig = {.max_sentences = 3, .max_bytes = 1000};
    const char *got = agent_shape(&A, text, &ig);
    assert_true(strlen(got) <= 1000);
    assert_int_equal(strlen(got), 601); /* one whole sentence: two would be 1203 bytes */
    /* Messenger: characters. 1200-character sentences: the second does not fit in 1999. */
    const char *s2 = repeat("\xc3\xa9", 1200);
    struct agent_shape ms = {.max_sentences = 3, .max_chars = 1999};
    got = agent_shape(&A, arena_printf(&A, "%s. %s.", s2, s2), &ms);
    assert_int_equal(code_points(got), 1201);
    /* one sentence alone over the limit: cut at a word, never inside a character */
    const char *words = repeat("caf\xc3\xa9 ", 400);
    got = agent_shape(&A, words, &ig);
    assert_true(strlen(got) <= 1000 && strlen(got) > 900);
    assert_true(got[strlen(got) - 1] == '\xa9'); /* ends on "café", whole */
    /* the disclosure always stays whole */
    ig.disclosure = disc;
    got = agent_shape(&A, arena_printf(&A, "%s. %s.", s1, s1), &ig);
    assert_true(strncmp(got, disc, strlen(disc)) == 0);
    assert_true(strlen(got) <= 1000);
}

static void test_markup(void **state)
{
    (void)state;
    assert_true(agent_looks_like_markup("{\"name\": \"handoff_to_human\"}"));
    assert_true(agent_looks_like_markup("  [1, 2]"));
    assert_true(agent_looks_like_markup("<tool_call>"));
    assert_false(agent_looks_like_markup("Sure, we ship to Canada."));
}

static const char *const passages[] = {
    "United States: free standard shipping on orders of $35 or more; otherwise $5.95.",
    "Canada: $12.95 flat rate, 5 to 10 business days.",
    "We do not offer discount codes through direct messages.",
};

static const char *const tool_results[] = {
    "{\"order\":\"NW-10428\",\"total\":42.5,\"promo\":\"FALL15\",\"discount_pct\":15}",
};

static const struct {
    const char *reply;
    int evidence; /* 0 passages only, 1 passages and the tool result */
    bool backed;
} claims[] = {
    {"Shipping to Canada is $12.95.", 0, true},
    {"Shipping is free over $35, otherwise it is $5.95.", 0, true},
    {"Shipping to Canada is 12,95 $.", 0, true}, /* the same amount, written otherwise */
    {"Shipping to Canada is $11.95.", 0, false},
    {"Canada shipping costs 13 dollars.", 0, false},
    {"Canada shipping is only $5 this week.", 0, false}, /* "5 to 10 business days" is no price */
    {"Your order total was $42.50.", 1, true},           /* a tool's bare number backs a price */
    {"Your order total was $42.50.", 0, false},          /* ...and without the tool, nothing does */
    {"Use code FALL15 for 15% off.", 1, true},
    {"Use code SAVE20 for 20% off.", 1, false},
    {"You get 10% off your next order.", 0, false},
    {"We can give you 15 percent off.", 1, true},
    {"I can offer you a discount on your next order.", 1, true},
    {"We do not offer discount codes through direct messages.", 0, true},
    {"I can offer you a discount on your next order.", -1, false}, /* no evidence at all */
    {"Your promo code is WELCOME", 0, false},
    {"It arrives in 5 to 10 business days.", 0, true}, /* not prices */
    {"We are open from 7:00 to 18:00 and ship to 2 countries.", 0, true},
    {"Order NW-10428 is on its way.", 0, true},
};

static void test_claims(void **state)
{
    (void)state;
    const struct agent_evidence all[4] = {
        {passages[0], false}, {passages[1], false}, {passages[2], false}, {tool_results[0], true}};
    for (size_t i = 0; i < sizeof claims / sizeof claims[0]; i++) {
        size_t n = claims[i].evidence < 0 ? 0 : claims[i].evidence ? 4 : 3;
        const char *bad = agent_unsupported_claim(&A, claims[i].reply, all, n);
        if ((bad == NULL) != claims[i].backed)
            fail_msg("case %zu: \"%s\": %s", i, claims[i].reply, bad ? bad : "backed");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain),        cmocka_unit_test(test_shape_sentences),
        cmocka_unit_test(test_shape_limits), cmocka_unit_test(test_markup),
        cmocka_unit_test(test_claims),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
