/*
 * agent/sentiment.c - how upset a customer's message reads, from -1 (furious) to 1 (delighted).
 *
 * Owns: a small lexicon for customer-service talk (English first, the common words of Spanish,
 * Portuguese, French, German and Italian, and emoji), in the way of VADER (Hutto and Gilbert,
 * 2014): each word has a valence from -4 to 4; an intensifier before it ("very", "muy") adds
 * 0.293 in its direction, a softener ("a bit") takes as much away; a negation in the three
 * words before it ("not", "nunca", "nicht") flips it and damps it (x -0.74); after "but" the
 * clause counts 1.5 times and before it half; each "!" (up to 3) adds 0.292 to the sum's
 * size; the sum s becomes s / sqrt(s^2 + 15). Words are folded (agent_fold()), so the lexicon
 * is written without accents. A few two-word phrases ("rip off", "still waiting") are entries
 * of their own. Pure; any thread.
 */
#include "agent/agent_int.h"

#include <math.h>
#include <string.h>

struct entry {
    const char *word;
    double v;
};

static const struct entry lexicon[] = {
    /* en: negative */
    {"terrible", -3.0},
    {"horrible", -3.0},
    {"awful", -3.0},
    {"worst", -3.1},
    {"bad", -2.5},
    {"poor", -2.0},
    {"useless", -2.5},
    {"pathetic", -3.0},
    {"ridiculous", -2.2},
    {"unacceptable", -2.8},
    {"disgusting", -3.0},
    {"disgusted", -3.0},
    {"angry", -2.5},
    {"furious", -3.2},
    {"mad", -2.2},
    {"annoyed", -2.0},
    {"annoying", -2.0},
    {"frustrated", -2.2},
    {"frustrating", -2.2},
    {"upset", -2.2},
    {"disappointed", -2.2},
    {"disappointing", -2.2},
    {"unhappy", -2.2},
    {"sad", -1.8},
    {"hate", -2.7},
    {"hated", -2.7},
    {"sucks", -2.5},
    {"crap", -2.5},
    {"rubbish", -2.2},
    {"garbage", -2.4},
    {"joke", -1.2},
    {"scam", -3.0},
    {"scammed", -3.2},
    {"fraud", -3.0},
    {"liar", -3.0},
    {"lied", -2.5},
    {"lying", -2.5},
    {"stole", -3.0},
    {"stolen", -2.5},
    {"rude", -2.5},
    {"incompetent", -2.8},
    {"never again", -2.5},
    {"rip off", -2.8},
    {"ripoff", -2.8},
    {"ripped off", -3.0},
    {"waste", -2.0},
    {"wasted", -2.0},
    {"fed up", -2.5},
    {"sick of", -2.5},
    {"tired of", -2.0},
    {"still waiting", -2.0},
    {"no response", -1.8},
    {"ignored", -2.2},
    {"ignoring", -2.2},
    {"broken", -1.8},
    {"damaged", -1.6},
    {"late", -1.2},
    {"wrong", -1.5},
    {"missing", -1.4},
    {"stale", -1.8},
    {"problem", -1.2},
    {"issue", -0.8},
    {"complaint", -1.8},
    {"disaster", -3.0},
    {"nightmare", -3.0},
    {"outraged", -3.2},
    {"outrageous", -3.0},
    {"shocking", -2.2},
    {"appalling", -3.0},
    {"nonsense", -2.0},
    {"fuck", -3.2},
    {"fucking", -3.0},
    {"shit", -2.6},
    {"wtf", -2.5},
    {"damn", -1.6},
    {"hell", -1.5},
    {"refund", -0.6},
    {"worse", -2.2},
    {"slow", -1.2},
    {"unprofessional", -2.6},
    {"never", -0.5},
    {"cancel", -0.8},
    /* en: positive */
    {"good", 1.9},
    {"great", 3.1},
    {"excellent", 3.2},
    {"amazing", 3.0},
    {"awesome", 3.1},
    {"fantastic", 3.1},
    {"perfect", 3.0},
    {"love", 3.0},
    {"loved", 2.9},
    {"lovely", 2.8},
    {"like", 1.5},
    {"nice", 1.8},
    {"happy", 2.7},
    {"glad", 2.0},
    {"thanks", 1.9},
    {"thank", 1.5},
    {"thx", 1.5},
    {"appreciate", 2.0},
    {"helpful", 2.0},
    {"delicious", 2.8},
    {"wonderful", 3.1},
    {"best", 3.0},
    {"pleased", 2.4},
    {"satisfied", 1.8},
    {"fine", 0.8},
    {"ok", 0.9},
    {"okay", 0.9},
    {"cool", 1.3},
    {"yummy", 2.4},
    {"recommend", 1.5},
    {"beautiful", 2.9},
    {"brilliant", 2.8},
    {"superb", 3.1},
    /* es */
    {"pesimo", -3.0},
    {"terrible", -3.0},
    {"horrible", -3.0},
    {"malo", -2.5},
    {"mala", -2.5},
    {"fatal", -2.8},
    {"enojado", -2.5},
    {"enojada", -2.5},
    {"enfadado", -2.5},
    {"enfadada", -2.5},
    {"molesto", -2.0},
    {"molesta", -2.0},
    {"furioso", -3.2},
    {"furiosa", -3.2},
    {"estafa", -3.0},
    {"decepcionado", -2.2},
    {"decepcionada", -2.2},
    {"verguenza", -2.5},
    {"asco", -3.0},
    {"harto", -2.5},
    {"harta", -2.5},
    {"roto", -1.8},
    {"rota", -1.8},
    {"nunca mas", -2.5},
    {"bueno", 1.9},
    {"buena", 1.9},
    {"excelente", 3.2},
    {"genial", 3.0},
    {"perfecto", 3.0},
    {"encanta", 3.0},
    {"gracias", 1.9},
    {"feliz", 2.7},
    {"rico", 2.4},
    {"rica", 2.4},
    /* pt */
    {"pessimo", -3.0},
    {"ruim", -2.5},
    {"horrivel", -3.0},
    {"irritado", -2.2},
    {"irritada", -2.2},
    {"chateado", -2.2},
    {"chateada", -2.2},
    {"decepcionante", -2.2},
    {"golpe", -2.8},
    {"absurdo", -2.2},
    {"lixo", -2.5},
    {"otimo", 3.0},
    {"obrigado", 1.9},
    {"obrigada", 1.9},
    {"adorei", 3.0},
    {"maravilhoso", 3.1},
    {"bom", 1.9},
    {"boa", 1.9},
    /* fr */
    {"nul", -2.5},
    {"nulle", -2.5},
    {"horrible", -3.0},
    {"affreux", -3.0},
    {"mauvais", -2.5},
    {"mauvaise", -2.5},
    {"decu", -2.2},
    {"decue", -2.2},
    {"furieux", -3.2},
    {"furieuse", -3.2},
    {"enerve", -2.2},
    {"enervee", -2.2},
    {"arnaque", -3.0},
    {"inadmissible", -2.8},
    {"honteux", -2.6},
    {"marre", -2.5},
    {"genial", 3.0},
    {"parfait", 3.0},
    {"merci", 1.9},
    {"super", 2.5},
    {"adore", 3.0},
    {"content", 2.2},
    {"contente", 2.2},
    {"bon", 1.9},
    /* de */
    {"schrecklich", -3.0},
    {"furchtbar", -3.0},
    {"schlecht", -2.5},
    {"enttauscht", -2.2},
    {"enttaeuscht", -2.2},
    {"wutend", -3.0},
    {"wuetend", -3.0},
    {"sauer", -2.2},
    {"verargert", -2.2},
    {"betrug", -3.0},
    {"frechheit", -2.8},
    {"unverschamt", -2.8},
    {"katastrophe", -3.0},
    {"mist", -2.2},
    {"kaputt", -1.8},
    {"toll", 3.0},
    {"danke", 1.9},
    {"gut", 1.9},
    {"super", 2.5},
    {"prima", 2.6},
    {"lecker", 2.6},
    {"zufrieden", 1.8},
    /* it */
    {"pessimo", -3.0},
    {"orribile", -3.0},
    {"terribile", -3.0},
    {"arrabbiato", -2.8},
    {"arrabbiata", -2.8},
    {"deluso", -2.2},
    {"delusa", -2.2},
    {"vergogna", -2.5},
    {"truffa", -3.0},
    {"schifo", -3.0},
    {"rotto", -1.8},
    {"ottimo", 3.0},
    {"grazie", 1.9},
    {"perfetto", 3.0},
    {"buono", 1.9},
    {"contento", 2.2},
    {"contenta", 2.2},
    {"bellissimo", 3.0},
    /* emoji (as written: agent_fold() keeps them) */
    {"\xf0\x9f\x98\xa1", -3.0},
    {"\xf0\x9f\x98\xa0", -2.8},
    {"\xf0\x9f\xa4\xac", -3.2},
    {"\xf0\x9f\x98\xa4", -2.2},
    {"\xf0\x9f\x98\x9e", -2.0},
    {"\xf0\x9f\x98\xa2", -2.0},
    {"\xf0\x9f\x98\xad", -2.2},
    {"\xf0\x9f\x98\x92", -1.8},
    {"\xf0\x9f\x91\x8e", -2.0},
    {"\xf0\x9f\x99\x84", -1.5},
    {"\xf0\x9f\x98\xa9", -2.0},
    {"\xf0\x9f\x98\xab", -2.0},
    {"\xf0\x9f\x99\x82", 1.5},
    {"\xf0\x9f\x98\x8a", 2.2},
    {"\xf0\x9f\x98\x80", 2.2},
    {"\xf0\x9f\x98\x83", 2.2},
    {"\xf0\x9f\x98\x8d", 3.0},
    {"\xf0\x9f\xa5\xb0", 3.0},
    {"\xe2\x9d\xa4", 2.8},
    {"\xf0\x9f\x91\x8d", 1.8},
    {"\xf0\x9f\x99\x8f", 1.5},
    {"\xf0\x9f\x98\x82", 1.0},
};

static const char *const intensifiers[] = {
    "very",       "really",     "so",         "extremely", "super",     "totally",
    "absolutely", "incredibly", "completely", "utterly",   "seriously", "truly",
    "most",       "muy",        "tan",        "realmente", "muito",     "tao",
    "tres",       "vraiment",   "trop",       "sehr",      "wirklich",  "total",
    "echt",       "molto",      "davvero",    "proprio",   "veramente"};

static const char *const softeners[] = {"slightly", "somewhat", "kinda", "kind",  "sort", "bit",
                                        "little",   "fairly",   "poco",  "pouco", "peu",  "etwas"};

static const char *const negations[] = {
    "not",    "no",   "never",   "dont",    "doesnt",  "didnt",   "isnt",     "wasnt",  "arent",
    "werent", "cant", "cannot",  "couldnt", "wont",    "wouldnt", "shouldnt", "havent", "hasnt",
    "hadnt",  "aint", "nothing", "nobody",  "neither", "nor",     "without",  "nunca",  "jamas",
    "nada",   "ni",   "sin",     "nao",     "nem",     "jamais",  "sem",      "pas",    "aucun",
    "rien",   "sans", "nicht",   "nie",     "niemals", "kein",    "keine",    "keinen", "keiner",
    "ohne",   "non",  "mai",     "niente",  "senza",   "nessun",  "nessuno"};

/* "mas" (pt) is left out: folded, it is also Spanish "más" (more). */
static const char *const buts[] = {"but", "however", "pero", "mais", "aber", "ma"};

static bool in_list(const char *w, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(w, list[i]) == 0)
            return true;
    return false;
}

#define IN(w, list) in_list((w), (list), sizeof(list) / sizeof(list)[0])

/* The valence of words[i] (or of words[i] words[i+1] as a phrase, *span 2), 0 if none. */
static double valence(const char *const *words, size_t n, size_t i, size_t *span)
{
    *span = 1;
    for (size_t k = 0; k < sizeof lexicon / sizeof lexicon[0]; k++) {
        const char *e = lexicon[k].word, *sp = strchr(e, ' ');
        if (!sp && strcmp(e, words[i]) == 0)
            return lexicon[k].v;
        if (sp && i + 1 < n && strlen(words[i]) == (size_t)(sp - e) &&
            memcmp(words[i], e, (size_t)(sp - e)) == 0 && strcmp(words[i + 1], sp + 1) == 0) {
            *span = 2;
            return lexicon[k].v;
        }
    }
    return 0;
}

#define BOOST      0.293
#define NEGATE     (-0.74)
#define EXCLAIM    0.292
#define NORMALIZER 15.0

/* The valence of the word at i adjusted by the three words before it. */
static double adjusted(const char *const *words, size_t i, double v)
{
    double sign = v > 0 ? 1 : -1;
    if (i >= 1 && IN(words[i - 1], intensifiers))
        v += sign * BOOST;
    if (i >= 1 && IN(words[i - 1], softeners))
        v -= sign * BOOST;
    for (size_t back = 1; back <= 3 && back <= i; back++)
        if (IN(words[i - back], negations)) {
            v *= NEGATE;
            break;
        }
    return v;
}

static int exclamations(const char *text)
{
    int n = 0;
    for (const char *p = text; *p && n < 3; p++)
        n += *p == '!';
    return n;
}

double agent_sentiment(struct arena *a, const char *text)
{
    const char *words[AGENT_SENTIMENT_WORDS];
    size_t n = agent_words(a, text, words, AGENT_SENTIMENT_WORDS);
    double vals[AGENT_SENTIMENT_WORDS] = {0};
    size_t but_at = n; /* the first "but" */
    for (size_t i = 0; i < n; i++) {
        if (but_at == n && IN(words[i], buts))
            but_at = i;
        size_t span = 1;
        double v = valence(words, n, i, &span);
        if (v != 0)
            vals[i] = adjusted(words, i, v);
        i += span - 1;
    }
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += but_at < n ? vals[i] * (i < but_at ? 0.5 : 1.5) : vals[i];
    if (sum == 0)
        return 0;
    sum += (sum > 0 ? 1 : -1) * EXCLAIM * exclamations(text ? text : "");
    double c = sum / sqrt(sum * sum + NORMALIZER);
    return c < -1 ? -1 : c > 1 ? 1 : c;
}

double agent_sentiment_recent(const struct agent_context *ctx, const double *incoming)
{
    double sum = 0;
    int n = 0;
    for (size_t i = ctx->n_incoming; i-- > 0 && n < AGENT_SENTIMENT_WINDOW;)
        if (incoming[i] != 0) {
            sum += incoming[i];
            n++;
        }
    for (size_t i = ctx->n_history; i-- > 0 && n < AGENT_SENTIMENT_WINDOW;) {
        const struct agent_message *m = &ctx->history[i];
        if (m->role == AGENT_ROLE_CUSTOMER && m->has_sentiment && m->sentiment != 0) {
            sum += m->sentiment;
            n++;
        }
    }
    return n ? sum / n : 0;
}
