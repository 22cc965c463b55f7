/*
 * agent/retrieve.c - the knowledge passages of a turn, and the answer without an LLM.
 *
 * Owns: turning kb_search() hits into passages with their source ("Shipping > Costs and times
 * (shipping.md)"), and the retrieval-only answer (DESIGN.md: no LLM is a working mode): the
 * best passage must hold at least half of the query's terms, else the turn is handed off;
 * then its sentences are scored by the query terms they hold (a term matches a word that
 * shares its first 4 letters and differs only in an ending: "ship" finds "shipping"), a
 * quarter for terms only in the heading, and one more for a sentence with an amount of money
 * when the customer asks what something costs. The answer is the best sentence, any other
 * sentence of that passage nearly as good (90 %), and then the sentences that follow it in
 * its paragraph or list item, in the document's order, within the 3-sentence cap.
 */
#include "agent/agent_int.h"

#include <stdlib.h>
#include <string.h>

#include "kb/kb.h"

#define RETRIEVE_HITS   5
#define MIN_COVERAGE    0.5
#define HEADING_WEIGHT  0.25
#define PRICE_WEIGHT    1.0
#define NEARLY_AS_GOOD  0.9
#define SENTENCES_MAX   48 /* of one passage */
#define STEM_MIN        4
#define STEM_ENDING_MAX 4

struct sentence {
    const char *text;
    size_t len;
    int line;
    double score;
};

/* The quoted terms of an FTS5 expression kb_query_terms() built, folded. */
static size_t query_terms(struct arena *a, const char *query, const char **terms, size_t max)
{
    struct kb_terms t;
    if (kb_query_terms(a, query, &t) != ERR_OK)
        return 0;
    size_t n = 0;
    for (const char *p = strchr(t.match, '"'); p && n < max;) {
        const char *end = strchr(p + 1, '"');
        if (!end)
            break;
        const char *f = agent_fold(a, arena_strndup(a, p + 1, (size_t)(end - p - 1)));
        if (*f && !strchr(f, ' '))
            terms[n++] = f;
        p = strchr(end + 1, '"');
    }
    return n;
}

static bool stem_match(const char *w, const char *t)
{
    size_t wl = strlen(w), tl = strlen(t), k = 0;
    if (wl == tl && strcmp(w, t) == 0)
        return true;
    while (k < wl && k < tl && w[k] == t[k])
        k++;
    size_t shorter = wl < tl ? wl : tl;
    return k >= STEM_MIN && k + STEM_ENDING_MAX >= (wl > tl ? wl : tl) && k + 2 >= shorter;
}

static int terms_in(struct arena *a, const char *text, size_t len, const char *const *terms,
                    size_t n_terms, bool *seen)
{
    const char *w[256];
    size_t nw = agent_words(a, arena_strndup(a, text, len), w, 256);
    int found = 0;
    for (size_t t = 0; t < n_terms; t++) {
        bool hit = false;
        for (size_t i = 0; i < nw && !hit; i++)
            hit = stem_match(w[i], terms[t]);
        if (seen)
            seen[t] = hit;
        found += hit;
    }
    return found;
}

static bool asks_price(const char *const *terms, size_t n)
{
    static const char *const words[] = {
        "much",    "cost",   "costs",  "price",  "prices", "expensive", "cheap", "fee",
        "fees",    "charge", "cuanto", "cuesta", "precio", "quanto",    "custa", "preco",
        "combien", "coute",  "prix",   "kostet", "preis",  "kosten",    "costa", "prezzo"};
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < sizeof words / sizeof words[0]; k++)
            if (strcmp(terms[i], words[k]) == 0)
                return true;
    return false;
}

static bool has_amount(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == '$' || (i + 3 <= n && memcmp(s + i, "\xe2\x82\xac", 3) == 0) || /* € */
            (i + 2 <= n && memcmp(s + i, "\xc2\xa3", 2) == 0))                      /* £ */
            return true;
    return false;
}

/* The passage's sentences, line by line (a line is a paragraph or a list item). */
static size_t split(struct arena *a, const char *text, struct sentence *out, size_t max)
{
    size_t n = 0;
    int line = 0;
    for (const char *p = text; *p && n < max; line++) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        const char *plain = agent_plain(a, arena_strndup(a, p, len));
        struct agent_span sp[SENTENCES_MAX];
        size_t k = agent_sentences(plain, sp, max - n < SENTENCES_MAX ? max - n : SENTENCES_MAX);
        for (size_t i = 0; i < k; i++)
            out[n++] = (struct sentence){plain + sp[i].off, sp[i].len, line, 0};
        p = nl ? nl + 1 : p + len;
    }
    return n;
}

struct pick {
    const struct kb_hit *hit;
    struct sentence s[SENTENCES_MAX];
    size_t n, best;
};

static void score(struct arena *a, const struct kb_hit *h, const char *const *terms, size_t nt,
                  struct pick *p)
{
    bool in_heading[KB_QUERY_MAX_TERMS] = {0}, in_sentence[KB_QUERY_MAX_TERMS];
    const char *heading = h->heading ? h->heading : "";
    terms_in(a, heading, strlen(heading), terms, nt, in_heading);
    bool price = asks_price(terms, nt);
    p->hit = h;
    p->n = split(a, h->text, p->s, SENTENCES_MAX);
    p->best = 0;
    for (size_t i = 0; i < p->n; i++) {
        struct sentence *s = &p->s[i];
        s->score = terms_in(a, s->text, s->len, terms, nt, in_sentence);
        for (size_t t = 0; t < nt; t++)
            s->score += in_heading[t] && !in_sentence[t] ? HEADING_WEIGHT : 0;
        if (price && has_amount(s->text, s->len))
            s->score += PRICE_WEIGHT;
        if (s->score > p->s[p->best].score)
            p->best = i;
    }
}

/* The chosen sentences of p, in order, into *text; room sentences at most. */
static const char *compose(struct arena *a, const struct pick *p, int room)
{
    bool take[SENTENCES_MAX] = {0};
    const struct sentence *best = &p->s[p->best];
    take[p->best] = true;
    int n = 1;
    for (size_t i = 0; i < p->n && n < room; i++)
        if (!take[i] && best->score > 0 && p->s[i].score >= NEARLY_AS_GOOD * best->score) {
            take[i] = true;
            n++;
        }
    for (size_t i = p->best + 1; i < p->n && n < room && p->s[i].line == best->line; i++)
        if (!take[i]) {
            take[i] = true;
            n++;
        }
    const char *out = "";
    for (size_t i = 0; i < p->n; i++)
        if (take[i])
            out = arena_printf(a, "%s%s%.*s", out, *out ? " " : "", (int)p->s[i].len, p->s[i].text);
    return out;
}

static const char *source_of(struct arena *a, const struct kb_hit *h)
{
    const char *base = h->path ? strrchr(h->path, '/') : NULL;
    base = base ? base + 1 : h->path ? h->path : "";
    if (h->heading && *h->heading)
        return arena_printf(a, "%s (%s)", h->heading, base);
    return arena_strdup(a, base);
}

size_t agent_find_passages(struct kb *kb, struct arena *a, const char *query,
                           struct agent_passage *out, size_t max)
{
    struct kb_results r = {0};
    enum err rc = kb ? kb_search(kb, a, query, max, &r) : ERR_OK;
    if (rc != ERR_OK)
        return 0; /* the store said why; the turn goes on without passages */
    for (size_t i = 0; i < r.n; i++)
        out[i] = (struct agent_passage){source_of(a, &r.hits[i]), r.hits[i].text};
    return r.n;
}

void agent_answer_by_retrieval(const struct agent *ag, struct kb *kb, struct arena *a,
                               const struct agent_context *ctx, const char *query,
                               struct agent_decision *out)
{
    struct kb_results r = {0};
    enum err rc = kb ? kb_search(kb, a, query, RETRIEVE_HITS, &r) : ERR_NOT_FOUND;
    if (rc != ERR_OK || r.n == 0 || r.weak_query || r.hits[0].coverage < MIN_COVERAGE) {
        agent_set_handoff(ag, a, ctx, AGENT_CAUSE_NO_ANSWER, NULL, out);
        return;
    }
    const char *terms[KB_QUERY_MAX_TERMS];
    size_t nt = query_terms(a, query, terms, KB_QUERY_MAX_TERMS);
    struct pick *best = NULL;
    for (size_t i = 0; i < r.n && i < AGENT_PASSAGES; i++) {
        if (r.hits[i].coverage < MIN_COVERAGE)
            continue;
        struct pick *p = arena_alloc(a, sizeof *p);
        score(a, &r.hits[i], terms, nt, p);
        if (p->n && (!best || p->s[p->best].score > best->s[best->best].score))
            best = p;
    }
    int room = AGENT_MAX_SENTENCES - (ctx->needs_disclosure ? 1 : 0);
    if (!best || !agent_set_answer(ag, a, ctx, compose(a, best, room), out)) {
        agent_set_handoff(ag, a, ctx, AGENT_CAUSE_NO_ANSWER, NULL, out);
        return;
    }
    out->source = source_of(a, best->hit);
}
