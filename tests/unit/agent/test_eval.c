/*
 * tests/unit/agent/test_eval.c - the evaluation table: customers' messages to the sample shop
 * (examples/kb, Northwind Coffee) and what the agent should do with each when no LLM is
 * configured: answer from which passage, say nothing, or hand off and why.
 *
 * Every row is decided by the real agent over the real store and knowledge base, as a first
 * message (so every answer carries the AI disclosure). A row also names a few words the answer
 * must contain, so an answer from the right passage but with the wrong sentences fails too.
 * The whole table is printed with the outcome of each row, and one wrong row fails the test.
 * Some rows are limits of lexical retrieval, written down as such: a question sharing no word
 * with the policies ("what's your address?") is handed to a person, not guessed at.
 */
#include "world.h"

struct row {
    const char *message;
    const char *want;  /* "handoff:<cause>", "silent", or the source of the answer */
    const char *words; /* "|"-separated words the answer must contain (NULL: none) */
};

#define SHIP     "Shipping > Where we ship (shipping.md)"
#define COSTS    "Shipping > Costs and times (shipping.md)"
#define ROAST    "Shipping > Roasting and dispatch (shipping.md)"
#define TRACK    "Shipping > Tracking (shipping.md)"
#define COFFEE   "Products > Coffee (products.md)"
#define SUBS     "Products > Subscriptions (products.md)"
#define GEAR     "Products > Equipment (products.md)"
#define R_COFFEE "Returns and refunds > Coffee (returns.md)"
#define R_GEAR   "Returns and refunds > Equipment (returns.md)"
#define REFUNDS  "Returns and refunds > How refunds work (returns.md)"
#define DISCOUNT "Returns and refunds > Discounts (returns.md)"
#define HOURS    "Hours and locations (hours-and-locations.md)"
#define WHERE    "Hours and locations > Where we are (hours-and-locations.md)"
#define SUPPORT  "Hours and locations > Customer support (hours-and-locations.md)"
#define TALK     "small talk"

static const struct row rows[] = {
    /* shipping */
    {"Do you ship to Canada?", SHIP, "Canada"},
    {"how much is shipping to canada", COSTS, "$12.95"},
    {"How long does standard shipping take?", COSTS, "3 to 5 business days"},
    {"do you have express shipping?", COSTS, "Express|$14.95"},
    {"Do you ship to the UK?", SHIP, "other countries"},
    {"Who pays the import duties for orders to Canada?", COSTS, "Import duties"},
    {"Which days do you roast?", ROAST, "Monday, Wednesday and Friday"},
    {"How can I track my order?", TRACK, "tracking number"},
    {"Is shipping free on big orders?", COSTS, "$35"},
    /* products */
    {"What does the Autumn Blend taste like?", COFFEE, "fig, cocoa"},
    {"how much is the ethiopia guji", COFFEE, "$21"},
    {"Do you have decaf?", COFFEE, "Decaf Colombia"},
    {"Can I get the espresso ground?", COFFEE, "ground for espresso"},
    {"do you sell whole beans", COFFEE, "whole beans"},
    {"How does the coffee subscription work?", SUBS, "every 2 or 4 weeks"},
    {"Can I pause my subscription?", SUBS, "paused"},
    {"How much is the gooseneck kettle?", GEAR, "$45"},
    {"what does the hand grinder cost", GEAR, "$59"},
    {"Is the Alder Street Espresso good for milk drinks?", COFFEE, "milk drinks"},
    /* returns and refunds */
    {"My bag arrived damaged, what can I do?", R_COFFEE, "replacement"},
    {"Can I return an opened bag of coffee?", R_COFFEE, "opened bags"},
    {"can i return a kettle i never used", R_GEAR, "30 days"},
    {"How long do refunds take?", REFUNDS, "5 business days"},
    {"Do you give store credit?", REFUNDS, "store credit"},
    {"Can I get a discount code?", DISCOUNT, "discount codes"},
    {"any promo codes?", DISCOUNT, "website"},
    /* hours and places */
    {"What are your opening hours?", HOURS, "Monday to Friday: 7:00 to 18:00"},
    {"Are you open on Sunday?", HOURS, "Sunday: 9:00 to 15:00"},
    {"Where is your café?", WHERE, "1420 SE Alder Street"},
    {"Is there parking near the cafe?", WHERE, "parking"},
    {"is the cafe wheelchair accessible", WHERE, "step-free"},
    {"When does your support team answer messages?", SUPPORT, "9:00 to 17:00"},
    /* small talk */
    {"hi", TALK, "How can I help"},
    {"Thank you so much!", TALK, "welcome"},
    {"Hola", TALK, "Hola"},
    {"ok \xf0\x9f\x91\x8d", "silent", NULL},
    /* a person, asked for in six languages */
    {"I want to talk to a real person", "handoff:keyword", "member of our team"},
    {"HUMAN", "handoff:keyword", NULL},
    {"quiero hablar con un agente", "handoff:keyword", NULL},
    {"Posso falar com um atendente?", "handoff:keyword", NULL},
    {"Je voudrais parler \xc3\xa0 un conseiller", "handoff:keyword", NULL},
    {"Kann ich bitte mit einem Mitarbeiter sprechen?", "handoff:keyword", NULL},
    {"Posso parlare con un operatore?", "handoff:keyword", NULL},
    /* upset */
    {"This is the worst service ever, I'm furious!!", "handoff:sentiment", NULL},
    {"Absolutely terrible. I am so angry, nobody answers", "handoff:sentiment", NULL},
    /* nothing in the policies answers it */
    {"Do you sell tea?", "handoff:no_answer", NULL},
    {"Can I book a table for 6 on Friday evening?", "handoff:no_answer", NULL},
    {"Where is my order NW-10428? It has been two weeks", "handoff:no_answer", NULL},
    {"What's your address?", "handoff:no_answer", NULL}, /* no word in common (lexical) */
    {"\xc2\xbfHacen env\xc3\xados a Canad\xc3\xa1?", "handoff:no_answer", NULL}, /* English KB */
    {"Do you have vacancies for baristas?", "handoff:no_answer", NULL},
};

#define N_ROWS (sizeof rows / sizeof rows[0])

static const char *outcome(const struct agent_decision *d)
{
    static char buf[256];
    if (d->action == AGENT_SILENT)
        return "silent";
    if (d->action == AGENT_HANDOFF)
        snprintf(buf, sizeof buf, "handoff:%s", agent_cause_name(d->cause));
    else
        snprintf(buf, sizeof buf, "%s", d->source ? d->source : TALK);
    return buf;
}

static bool has_words(const char *text, const char *words)
{
    char copy[256];
    snprintf(copy, sizeof copy, "%s", words ? words : "");
    for (char *save = NULL, *w = strtok_r(copy, "|", &save); w; w = strtok_r(NULL, "|", &save))
        if (!text || !strstr(text, w))
            return false;
    return true;
}

static void test_eval_table(void **state)
{
    (void)state;
    assert_true(N_ROWS >= 40);
    struct world *w = world_new(NULL);
    size_t right = 0;
    for (size_t i = 0; i < N_ROWS; i++) {
        struct agent_message m;
        struct agent_context ctx = world_turn(&m, rows[i].message, NULL, 0);
        struct agent_decision d;
        assert_int_equal(agent_decide(w->ag, w->kb, &w->a, &w->st, &ctx, &d), ERR_OK);
        const char *got = outcome(&d);
        bool ok = strcmp(got, rows[i].want) == 0 && has_words(d.text, rows[i].words);
        bool disclosed = d.action == AGENT_SILENT ||
                         (d.is_disclosed && strncmp(d.text,
                                                    "I'm the AI assistant for Northwind "
                                                    "Coffee.",
                                                    40) == 0);
        ok = ok && disclosed;
        right += ok;
        printf("%-4s %-52.52s -> %s%s%s\n", ok ? "ok" : "FAIL", rows[i].message, got,
               ok ? "" : "   want ", ok ? "" : rows[i].want);
        printf("     said: %s\n", d.text ? d.text : "(nothing)");
    }
    printf("evaluation: %zu of %zu right\n", right, N_ROWS);
    world_free(w);
    assert_int_equal(right, N_ROWS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eval_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
