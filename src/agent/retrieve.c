/*
 * agent/retrieve.c - the knowledge passages of a turn, and the answer without an LLM.
 *
 * Owns: turning kb_search() hits into passages with their source ("Shipping > Costs and times
 * (shipping.md)"), and the retrieval-only answer (DESIGN.md: no LLM is a working mode).
 * A query term matches a word that shares its first 4 letters and differs only in an ending
 * ("ship" finds "shipping"). A few question words stand for the kind of fact they ask for:
 * "how much" / "cost" for an amount of money, "how long" / "take" for a duration, "open" /
 * "hours" for a time of day; a passage or sentence holding such a fact counts as holding the
 * word. The best passage must hold at least half of the query's terms, else the turn is
 * handed off. Its sentences are scored by the terms they hold (the word itself 1, another
 * form of it 0.8, a term only in the heading a quarter); a list under a label line ("Café
 * hours", then one line per day) is read as one sentence ("Café hours: Monday to Friday:
 * 7:00 to 18:00; Saturday: ..."). The
 * answer is the best sentence, any other sentence of that passage nearly as good (90 %), then
 * the best others of its line (paragraph or list item), in the document's order, within the
 * 3-sentence cap. A question about one order ("NW-10428") needs the order's data, which
 * retrieval cannot see: handed off.
 */
#include "agent/agent_int.h"

#include <stdlib.h>
#include <string.h>

#include "kb/kb.h"

#define RETRIEVE_HITS   5
#define MIN_COVERAGE    0.5
#define LABEL_WEIGHT    0.25
#define STEM_WEIGHT     0.8 /* a term found only as another form of the word */
#define NEARLY_AS_GOOD  0.9
#define SENTENCES_MAX   48 /* of one passage */
#define STEM_MIN        4
#define STEM_ENDING_MAX 4
#define LABEL_MAX_WORDS 5

enum intent { INTENT_NONE, INTENT_PRICE, INTENT_DURATION, INTENT_TIME };

static const struct {
    const char *word;
    enum intent kind;
} intents[] = {
    {"much", INTENT_PRICE},      {"cost", INTENT_PRICE},          {"costs", INTENT_PRICE},
    {"price", INTENT_PRICE},     {"prices", INTENT_PRICE},        {"pricing", INTENT_PRICE},
    {"expensive", INTENT_PRICE}, {"cheap", INTENT_PRICE},         {"fee", INTENT_PRICE},
    {"fees", INTENT_PRICE},      {"charge", INTENT_PRICE},        {"cuanto", INTENT_PRICE},
    {"cuesta", INTENT_PRICE},    {"precio", INTENT_PRICE},        {"custa", INTENT_PRICE},
    {"preco", INTENT_PRICE},     {"combien", INTENT_PRICE},       {"coute", INTENT_PRICE},
    {"prix", INTENT_PRICE},      {"kostet", INTENT_PRICE},        {"preis", INTENT_PRICE},
    {"costa", INTENT_PRICE},     {"prezzo", INTENT_PRICE},        {"long", INTENT_DURATION},
    {"take", INTENT_DURATION},   {"takes", INTENT_DURATION},      {"soon", INTENT_DURATION},
    {"fast", INTENT_DURATION},   {"quickly", INTENT_DURATION},    {"tarda", INTENT_DURATION},
    {"demora", INTENT_DURATION}, {"dauert", INTENT_DURATION},     {"open", INTENT_TIME},
    {"opening", INTENT_TIME},    {"opens", INTENT_TIME},          {"close", INTENT_TIME},
    {"closing", INTENT_TIME},    {"closes", INTENT_TIME},         {"hours", INTENT_TIME},
    {"abierto", INTENT_TIME},    {"horario", INTENT_TIME},        {"ouvert", INTENT_TIME},
    {"horaires", INTENT_TIME},   {"offnungszeiten", INTENT_TIME}, {"geoffnet", INTENT_TIME},
    {"aperto", INTENT_TIME},     {"orari", INTENT_TIME},
};

struct query {
    const char *terms[KB_QUERY_MAX_TERMS]; /* folded */
    enum intent intent[KB_QUERY_MAX_TERMS];
    size_t n;
};

struct sentence {
    const char *text;
    size_t len;
    int line;
    double score;
};

/* ---- the query ---- */

static enum intent intent_of(const char *term)
{
    for (size_t i = 0; i < sizeof intents / sizeof intents[0]; i++)
        if (strcmp(term, intents[i].word) == 0)
            return intents[i].kind;
    return INTENT_NONE;
}

/* The quoted terms of the FTS5 expression kb_query_terms() builds, folded. */
static void read_query(struct arena *a, const char *text, struct query *q)
{
    struct kb_terms t;
    q->n = 0;
    if (kb_query_terms(a, text, &t) != ERR_OK)
        return;
    for (const char *p = strchr(t.match, '"'); p && q->n < KB_QUERY_MAX_TERMS;) {
        const char *end = strchr(p + 1, '"');
        if (!end)
            break;
        const char *f = agent_fold(a, arena_strndup(a, p + 1, (size_t)(end - p - 1)));
        if (*f && !strchr(f, ' ')) {
            q->intent[q->n] = intent_of(f);
            q->terms[q->n++] = f;
        }
        p = strchr(end + 1, '"');
    }
}

/* A number of 5 digits or more ("NW-10428"): an order, an account, a parcel. */
static bool names_an_order(struct arena *a, const char *text)
{
    const char *w[AGENT_SENTIMENT_WORDS];
    size_t n = agent_words(a, text, w, AGENT_SENTIMENT_WORDS);
    for (size_t i = 0; i < n; i++)
        if (strlen(w[i]) >= 5 && strspn(w[i], "0123456789") == strlen(w[i]))
            return true;
    return false;
}

/* ---- facts a sentence holds ---- */

static bool has_amount(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == '$' || (i + 3 <= n && memcmp(s + i, "\xe2\x82\xac", 3) == 0) || /* € */
            (i + 2 <= n && memcmp(s + i, "\xc2\xa3", 2) == 0))                      /* £ */
            return true;
    return false;
}

static bool has_time_of_day(const char *s, size_t n)
{
    for (size_t i = 1; i + 2 < n; i++)
        if (s[i] == ':' && s[i - 1] >= '0' && s[i - 1] <= '9' && s[i + 1] >= '0' &&
            s[i + 1] <= '5' && s[i + 2] >= '0' && s[i + 2] <= '9')
            return true;
    return false;
}

static bool has_duration(struct arena *a, const char *s, size_t n)
{
    static const char *const units[] = {"day",     "days",    "week",  "weeks",  "hour",
                                        "hours",   "minutes", "month", "months", "dias",
                                        "semanas", "jours",   "tage",  "giorni"};
    const char *w[128];
    size_t nw = agent_words(a, arena_strndup(a, s, n), w, 128);
    for (size_t i = 1; i < nw; i++)
        for (size_t k = 0; k < sizeof units / sizeof units[0]; k++)
            if (strcmp(w[i], units[k]) == 0 && (strspn(w[i - 1], "0123456789") > 0 ||
                                                (i >= 2 && strspn(w[i - 2], "0123456789") > 0)))
                return true;
    return false;
}

static bool holds(struct arena *a, enum intent k, const char *s, size_t n)
{
    switch (k) {
    case INTENT_PRICE:
        return has_amount(s, n);
    case INTENT_DURATION:
        return has_duration(a, s, n);
    case INTENT_TIME:
        return has_time_of_day(s, n);
    case INTENT_NONE:
        break;
    }
    return false;
}

static bool stem_match(const char *w, const char *t)
{
    size_t wl = strlen(w), tl = strlen(t), k = 0;
    if (wl == tl && strcmp(w, t) == 0)
        return true;
    while (k < wl && k < tl && w[k] == t[k])
        k++;
    size_t shorter = wl < tl ? wl : tl, longer = wl > tl ? wl : tl;
    return k >= STEM_MIN && k + STEM_ENDING_MAX >= longer && k + 2 >= shorter;
}

/* How well s[0..n) holds each term (weight[t]: 1 the word itself or the fact a question word
 * asks for, counted once per kind of fact; STEM_WEIGHT another form of it; 0 not at all);
 * the sum. */
static double terms_in(struct arena *a, const char *s, size_t n, const struct query *q,
                       double *weight)
{
    const char *w[256];
    size_t nw = agent_words(a, arena_strndup(a, s, n), w, 256);
    bool fact_used[INTENT_TIME + 1] = {0};
    double sum = 0;
    for (size_t t = 0; t < q->n; t++) {
        double best = 0;
        for (size_t i = 0; i < nw && best < 1; i++)
            if (strcmp(w[i], q->terms[t]) == 0)
                best = 1;
            else if (best < STEM_WEIGHT && stem_match(w[i], q->terms[t]))
                best = STEM_WEIGHT;
        enum intent k = q->intent[t];
        if (best < 1 && k != INTENT_NONE && !fact_used[k] && holds(a, k, s, n)) {
            best = 1;
            fact_used[k] = true;
        }
        weight[t] = best;
        sum += best;
    }
    return sum;
}

/* ---- a passage's sentences ---- */

/* A short line of words alone (no end mark, no colon, no digit), followed by more lines: the
 * label of a list ("Café hours"), not an item ("Hand grinder (ceramic burrs): $59"). */
static bool is_label(const char *plain, bool has_next)
{
    size_t n = strlen(plain);
    if (!has_next || n == 0 || n > 60 || strchr(".!?;", plain[n - 1]) ||
        strpbrk(plain, ":0123456789"))
        return false;
    int words = 1;
    for (const char *p = plain; *p; p++)
        words += *p == ' ';
    return words <= LABEL_MAX_WORDS;
}

/* The lines of text (a paragraph break ends a list). */
static size_t lines_of(struct arena *a, const char *text, const char **lines, size_t max)
{
    size_t n = 0;
    for (const char *p = text; *p && n < max;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        lines[n++] = len ? agent_plain(a, arena_strndup(a, p, len)) : "";
        p = nl ? nl + 1 : p + len;
    }
    return n;
}

/* The list under a label as one sentence: "Label: a; b; c." (items of one sentence each). */
static size_t list_sentence(struct arena *a, const char *const *lines, size_t n, size_t at,
                            struct sentence *out)
{
    const char *s = arena_printf(a, "%s:", lines[at]);
    size_t i = at + 1;
    for (struct agent_span sp[2]; i < n && *lines[i] && agent_sentences(lines[i], sp, 2) == 1;
         i++) {
        size_t len = strlen(lines[i]);
        if (len && lines[i][len - 1] == '.')
            len--;
        s = arena_printf(a, "%s%s %.*s", s, i > at + 1 ? ";" : "", (int)len, lines[i]);
    }
    if (i == at + 1)
        return 0;
    s = arena_printf(a, "%s.", s);
    *out = (struct sentence){s, strlen(s), (int)at, 0};
    return i - at;
}

static size_t split(struct arena *a, const char *text, struct sentence *out, size_t max)
{
    const char *lines[SENTENCES_MAX];
    size_t n_lines = lines_of(a, text, lines, SENTENCES_MAX), n = 0;
    for (size_t l = 0; l < n_lines && n < max;) {
        size_t used = is_label(lines[l], l + 1 < n_lines && *lines[l + 1])
                          ? list_sentence(a, lines, n_lines, l, &out[n])
                          : 0;
        if (used) {
            n++;
            l += used;
            continue;
        }
        struct agent_span sp[SENTENCES_MAX];
        size_t k = agent_sentences(lines[l], sp, max - n);
        for (size_t i = 0; i < k; i++)
            out[n++] = (struct sentence){lines[l] + sp[i].off, sp[i].len, (int)l, 0};
        l++;
    }
    return n;
}

/* ---- choosing ---- */

struct pick {
    const struct kb_hit *hit;
    struct sentence s[SENTENCES_MAX];
    size_t n, best;
    double coverage; /* terms the whole passage holds */
};

static void score(struct arena *a, const struct kb_hit *h, const struct query *q, struct pick *p)
{
    double in_heading[KB_QUERY_MAX_TERMS], in_s[KB_QUERY_MAX_TERMS];
    bool anywhere[KB_QUERY_MAX_TERMS] = {0};
    const char *heading = h->heading ? h->heading : "";
    terms_in(a, heading, strlen(heading), q, in_heading);
    p->hit = h;
    p->n = split(a, h->text, p->s, SENTENCES_MAX);
    p->best = 0;
    for (size_t i = 0; i < p->n; i++) {
        struct sentence *s = &p->s[i];
        s->score = terms_in(a, s->text, s->len, q, in_s);
        for (size_t t = 0; t < q->n; t++) {
            s->score += in_s[t] == 0 && in_heading[t] > 0 ? LABEL_WEIGHT : 0;
            anywhere[t] |= in_s[t] > 0 || in_heading[t] > 0;
        }
        if (s->score > p->s[p->best].score)
            p->best = i;
    }
    int held = 0;
    for (size_t t = 0; t < q->n; t++)
        held += anywhere[t];
    p->coverage = q->n ? (double)held / (double)q->n : 0;
}

/* Which sentences of p answer: the best, those nearly as good, then the best others of the
 * best one's line, room at most. */
static void choose(const struct pick *p, int room, bool *take)
{
    const struct sentence *best = &p->s[p->best];
    take[p->best] = true;
    int n = 1;
    for (size_t i = 0; i < p->n && n < room; i++)
        if (!take[i] && best->score > 0 && p->s[i].score >= NEARLY_AS_GOOD * best->score) {
            take[i] = true;
            n++;
        }
    for (; n < room; n++) {
        long pick = -1;
        for (size_t i = 0; i < p->n; i++)
            if (!take[i] && p->s[i].line == best->line &&
                (pick < 0 || p->s[i].score > p->s[pick].score))
                pick = (long)i;
        if (pick < 0)
            break;
        take[pick] = true;
    }
}

/* The chosen sentences of p in the document's order; a list item gets its full stop. */
static const char *compose(struct arena *a, const struct pick *p, int room)
{
    bool take[SENTENCES_MAX] = {0};
    choose(p, room, take);
    const char *out = "";
    for (size_t i = 0; i < p->n; i++) {
        if (!take[i])
            continue;
        const struct sentence *s = &p->s[i];
        unsigned char last = s->len ? (unsigned char)s->text[s->len - 1] : '.';
        bool bare = (last >= '0' && last <= '9') || ((last | 32) >= 'a' && (last | 32) <= 'z');
        out = arena_printf(a, "%s%s%.*s%s", out, *out ? " " : "", (int)s->len, s->text,
                           bare ? "." : ""); /* "Gooseneck kettle, 1 litre: $45." */
    }
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

/* The passage whose best sentence scores highest among those holding enough of the query. */
static struct pick *best_pick(struct arena *a, const struct kb_results *r, const struct query *q)
{
    struct pick *best = NULL;
    for (size_t i = 0; i < r->n && i < AGENT_PASSAGES; i++) {
        struct pick *p = arena_alloc(a, sizeof *p);
        score(a, &r->hits[i], q, p);
        double coverage = p->coverage > r->hits[i].coverage ? p->coverage : r->hits[i].coverage;
        if (p->n == 0 || coverage < MIN_COVERAGE)
            continue;
        if (!best || p->s[p->best].score > best->s[best->best].score)
            best = p;
    }
    return best;
}

void agent_answer_by_retrieval(const struct agent *ag, struct kb *kb, struct arena *a,
                               const struct agent_context *ctx, const char *query,
                               struct agent_decision *out)
{
    if (names_an_order(a, query)) {
        agent_set_handoff(ag, a, ctx, AGENT_CAUSE_NO_ANSWER,
                          "the customer asks about one order, which needs a person", out);
        return;
    }
    struct kb_results r = {0};
    enum err rc = kb ? kb_search(kb, a, query, RETRIEVE_HITS, &r) : ERR_NOT_FOUND;
    struct query q;
    read_query(a, query, &q);
    struct pick *best = rc == ERR_OK && !r.weak_query ? best_pick(a, &r, &q) : NULL;
    int room = AGENT_MAX_SENTENCES - (ctx->needs_disclosure ? 1 : 0);
    if (!best || best->s[best->best].score <= 0 ||
        !agent_set_answer(ag, a, ctx, compose(a, best, room), out)) {
        agent_set_handoff(ag, a, ctx, AGENT_CAUSE_NO_ANSWER, NULL, out);
        return;
    }
    out->source = source_of(a, best->hit);
}
