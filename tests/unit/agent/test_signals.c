/*
 * tests/unit/agent/test_signals.c - folding and sentences, and the handoff signals as customers
 * write: asking for a person in six languages (and the near misses that must not count:
 * "humane", "agentic", "the delivery agent", "in person"), how upset a message reads
 * (negation, intensifiers, "but", emoji), the recent average, and loops (the customer asking
 * again what was answered; the AI about to repeat itself).
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

/* ---- folding, words, sentences ---- */

static void test_fold(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"Hello, WORLD!", "hello world"},
        {"¿Dónde está mi pedido?", "donde esta mi pedido"},
        {"Straße Œuvre Ærø", "strasse oeuvre aero"},
        {"don't can't won't", "dont cant wont"},
        {"l'agent d’accueil", "l agent d accueil"},
        {"c\xcc\xa7"
         "a va",
         "ca va"}, /* decomposed accent */
        {"great\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbdthanks", "great \xf0\x9f\x91\x8d thanks"},
        {"\xe2\x9d\xa4\xef\xb8\x8f love", "\xe2\x9d\xa4 love"},
        {"Привет мир", "Привет мир"}, /* other scripts as written */
        {"a\xff"
         "b",
         "a b"}, /* a malformed byte separates */
        {"", ""},
        {NULL, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = agent_fold(&A, cases[i].in);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("case %zu: got \"%s\", want \"%s\"", i, got, cases[i].want);
    }
}

static void test_sentences(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        size_t n;
        const char *first, *last;
    } cases[] = {
        {"One. Two! Three? Four.", 4, "One.", "Four."},
        {"It costs $5.95 a bag. Ships in 3 days.", 2, "It costs $5.95 a bag.", "Ships in 3 days."},
        {"See e.g. the FAQ. Ask Dr. Smith.", 2, "See e.g. the FAQ.", "Ask Dr. Smith."},
        {"J. R. R. Tolkien wrote it.", 1, "J. R. R. Tolkien wrote it.", NULL},
        {"Wait... what?! Really.", 3, "Wait...", "Really."},
        {"He said \"yes.\" Then left.", 2, "He said \"yes.\"", "Then left."},
        {"Line one\nLine two", 2, "Line one", "Line two"},
        {"No end mark", 1, "No end mark", NULL},
        {"   ", 0, NULL, NULL},
        {"你好。谢谢！", 2, "你好。", "谢谢！"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct agent_span sp[8];
        size_t n = agent_sentences(cases[i].in, sp, 8);
        if (n != cases[i].n)
            fail_msg("case %zu: %zu sentences, want %zu", i, n, cases[i].n);
        if (n && strncmp(cases[i].in + sp[0].off, cases[i].first, sp[0].len) != 0)
            fail_msg("case %zu: first \"%.*s\"", i, (int)sp[0].len, cases[i].in + sp[0].off);
        if (n > 1 && strncmp(cases[i].in + sp[n - 1].off, cases[i].last, sp[n - 1].len) != 0)
            fail_msg("case %zu: last \"%.*s\"", i, (int)sp[n - 1].len, cases[i].in + sp[n - 1].off);
    }
    struct agent_span one[2];
    assert_int_equal(agent_sentences("One. Two. Three.", one, 2), 2); /* the cap */
}

/* ---- keywords ---- */

static const struct {
    const char *text;
    bool asks;
} keyword_cases[] = {
    /* en */
    {"can I talk to a human", true},
    {"HUMAN", true},
    {"human please!!", true},
    {"Is this a bot? I want a real person", true},
    {"I need to speak to someone about my order", true},
    {"agent", true},
    {"Agent!", true},
    {"can i get a live agent", true},
    {"let me talk to an agent please", true},
    {"connect me with a representative", true},
    {"I want to speak with your manager", true},
    {"i'll take legal action if this isn't fixed", true},
    {"how do I file a complaint", true},
    {"person", true},
    /* es */
    {"Quiero hablar con una persona", true},
    {"QUIERO HABLAR CON UN AGENTE", true},
    {"me pasas con un asesor?", true},
    {"necesito un humano", true},
    {"agente", true},
    /* pt */
    {"quero falar com um atendente", true},
    {"posso falar com alguém?", true},
    {"quero atendimento humano", true},
    /* fr */
    {"je veux parler à quelqu'un", true},
    {"Je voudrais parler à un conseiller", true},
    {"un humain svp", true},
    {"c'est possible de parler à une vraie personne ?", true},
    /* de */
    {"Kann ich mit einem Mitarbeiter sprechen?", true},
    {"Ich möchte mit einem Menschen reden", true},
    {"bitte einen echten Menschen", true},
    {"ich will mit jemandem sprechen", true},
    /* it */
    {"posso parlare con un operatore?", true},
    {"vorrei parlare con qualcuno", true},
    {"operatore", true},
    /* near misses */
    {"is the packaging humane?", false},
    {"I love agentic workflows", false},
    {"the delivery agent left it at the door", false},
    {"can I pick it up in person?", false},
    {"how much per person for a tasting?", false},
    {"humans love coffee", false},
    {"do you ship to canada?", false},
    {"my personal order", false},
    {"agency pricing?", false},
    {"pessoa", false},
    {"el agente de la mensajería no vino", false},
    {"Mensch, ist das teuer!", false},
    {"pouvez-vous me conseiller un café ?", false},
    {"", false},
};

static void test_keywords(void **state)
{
    (void)state;
    const struct agent_keywords *k = agent_keywords_default();
    assert_true(k->n > 50);
    for (size_t i = 0; i < sizeof keyword_cases / sizeof keyword_cases[0]; i++) {
        long hit = agent_keywords_match(&A, k, keyword_cases[i].text);
        if ((hit >= 0) != keyword_cases[i].asks)
            fail_msg("case %zu: \"%s\" %s (%s)", i, keyword_cases[i].text,
                     hit >= 0 ? "matched" : "did not match", hit >= 0 ? k->phrases[hit] : "-");
    }
}

static void test_keywords_custom(void **state)
{
    (void)state;
    struct agent_keywords k;
    const char *why = NULL;
    assert_int_equal(agent_keywords_parse(&A, "  Refund  \r\n\n=stop\nÂPPEL MOI\n", &k, &why),
                     ERR_OK);
    assert_int_equal(k.n, 3);
    assert_string_equal(k.phrases[2], "appel moi");
    assert_true(agent_keywords_match(&A, &k, "I want a REFUND now") == 0);
    assert_true(agent_keywords_match(&A, &k, "refunded?") < 0); /* whole words */
    assert_true(agent_keywords_match(&A, &k, "Stop!") == 1);    /* the whole message */
    assert_true(agent_keywords_match(&A, &k, "don't stop") < 0);
    assert_true(agent_keywords_match(&A, &k, "appel-moi svp") == 2);  /* accents, punctuation */
    assert_int_equal(agent_keywords_parse(&A, "", &k, &why), ERR_OK); /* none at all is fine */
    assert_int_equal(k.n, 0);
    char long_line[160];
    memset(long_line, 'a', sizeof long_line - 1);
    long_line[sizeof long_line - 1] = '\0';
    assert_int_equal(agent_keywords_parse(&A, long_line, &k, &why), ERR_INVALID);
    assert_non_null(why);
}

/* ---- sentiment ---- */

static const struct {
    const char *text;
    double lo, hi;
} sentiment_cases[] = {
    {"This is the worst service ever, I'm furious!!", -1, -0.7},
    {"absolutely terrible, never again", -1, -0.7},
    {"I'm really disappointed, the bag arrived damaged", -1, -0.5},
    {"wtf where is my order 😡", -1, -0.5},
    {"esto es una estafa, estoy muy enojado", -1, -0.6},
    {"c'est nul, je suis très déçu", -1, -0.6},
    {"Das ist eine Frechheit, ich bin wütend", -1, -0.6},
    {"che schifo, sono arrabbiato", -1, -0.6},
    {"péssimo atendimento", -1, -0.4},
    {"not happy at all", -1, -0.3}, /* negation */
    {"not bad", 0.2, 1},            /* negation of a negative */
    {"no problem!", 0.1, 1},
    {"the coffee is great but the shipping was awful", -1, -0.3}, /* "but" */
    {"I love it, thank you so much! 😍", 0.7, 1},
    {"great, thanks", 0.5, 1},
    {"do you ship to canada?", 0, 0}, /* no sentiment words */
    {"where is my order NW-10428", 0, 0},
    {"", 0, 0},
};

static void test_sentiment(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof sentiment_cases / sizeof sentiment_cases[0]; i++) {
        double s = agent_sentiment(&A, sentiment_cases[i].text);
        if (s < sentiment_cases[i].lo || s > sentiment_cases[i].hi)
            fail_msg("case %zu: \"%s\" scored %.3f, want %.2f..%.2f", i, sentiment_cases[i].text, s,
                     sentiment_cases[i].lo, sentiment_cases[i].hi);
    }
    /* intensifiers push away from zero, softeners towards it */
    double plain = agent_sentiment(&A, "I am angry");
    assert_true(agent_sentiment(&A, "I am very angry") < plain);
    assert_true(agent_sentiment(&A, "I am slightly angry") > plain);
    assert_true(agent_sentiment(&A, "I am angry!!!") < plain);
}

static void test_sentiment_recent(void **state)
{
    (void)state;
    struct agent_message hist[] = {
        {.role = AGENT_ROLE_CUSTOMER, .text = "x", .has_sentiment = true, .sentiment = -0.9},
        {.role = AGENT_ROLE_AI, .text = "y"},
        {.role = AGENT_ROLE_CUSTOMER, .text = "z", .has_sentiment = true, .sentiment = 0},
        {.role = AGENT_ROLE_CUSTOMER, .text = "w", .has_sentiment = true, .sentiment = -0.6},
    };
    struct agent_message in[2] = {{.role = AGENT_ROLE_CUSTOMER}, {.role = AGENT_ROLE_CUSTOMER}};
    struct agent_context ctx = {.history = hist, .n_history = 4, .incoming = in, .n_incoming = 2};
    double scores[2] = {-0.3, 0}; /* the neutral ones are left out of the average */
    assert_float_equal(agent_sentiment_recent(&ctx, scores), (-0.3 - 0.6 - 0.9) / 3, 1e-9);
    ctx.n_history = 0;
    assert_float_equal(agent_sentiment_recent(&ctx, scores), -0.3, 1e-9);
    double none[2] = {0, 0};
    assert_float_equal(agent_sentiment_recent(&ctx, none), 0, 1e-9);
}

/* ---- loops ---- */

static void test_similarity(void **state)
{
    (void)state;
    assert_float_equal(agent_similarity(&A, "Do you ship to Canada?", "do you ship to canada??"),
                       1.0, 1e-9);
    assert_true(agent_similarity(&A, "do you ship to canada", "how much is shipping to canada") <
                0.8);
    assert_true(agent_similarity(&A, "where is my order", "WHERE IS MY ORDER!!!") > 0.99);
    assert_true(agent_similarity(&A, "where is my order?", "where's my order") > 0.8);
    assert_true(agent_similarity(&A, "hello", "refund") < 0.2);
    assert_float_equal(agent_similarity(&A, "", ""), 0, 1e-9);
}

static void test_customer_repeats(void **state)
{
    (void)state;
    struct agent_message hist[] = {
        {.role = AGENT_ROLE_CUSTOMER, .text = "Where is my order? It's late"},
        {.role = AGENT_ROLE_AI, .text = "Every order gets a tracking number by email."},
        {.role = AGENT_ROLE_CUSTOMER, .text = "ok thanks"},
    };
    struct agent_message in = {.role = AGENT_ROLE_CUSTOMER, .text = "where is my order?? its late"};
    struct agent_context ctx = {.history = hist, .n_history = 3, .incoming = &in, .n_incoming = 1};
    assert_true(agent_customer_repeats(&A, &ctx));
    in.text = "ok thanks"; /* short: never a loop */
    assert_false(agent_customer_repeats(&A, &ctx));
    in.text = "And do you ship to Canada?";
    assert_false(agent_customer_repeats(&A, &ctx));
    /* asked twice in a row with no answer between: the first is not answered yet */
    in.text = "Where is my order? It's late";
    ctx.n_history = 1;
    assert_false(agent_customer_repeats(&A, &ctx));
}

static void test_reply_repeats(void **state)
{
    (void)state;
    const char *disc = "I'm the AI assistant for Northwind Coffee.";
    struct agent_message hist[] = {
        {.role = AGENT_ROLE_AI,
         .text = "I'm the AI assistant for Northwind Coffee. We ship to the United States and "
                 "Canada."},
        {.role = AGENT_ROLE_CUSTOMER, .text = "and to mexico?"},
    };
    struct agent_context ctx = {.history = hist, .n_history = 2};
    assert_true(agent_reply_repeats(&A, &ctx, "We ship to the United States and Canada.", disc));
    assert_false(agent_reply_repeats(&A, &ctx, "We do not ship to other countries yet.", disc));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fold),          cmocka_unit_test(test_sentences),
        cmocka_unit_test(test_keywords),      cmocka_unit_test(test_keywords_custom),
        cmocka_unit_test(test_sentiment),     cmocka_unit_test(test_sentiment_recent),
        cmocka_unit_test(test_similarity),    cmocka_unit_test(test_customer_repeats),
        cmocka_unit_test(test_reply_repeats),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
