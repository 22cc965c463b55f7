/*
 * agent/loops.c - a conversation going in circles: the AI about to send what it already said,
 * or the customer asking again what the AI already answered.
 *
 * Owns: the similarity of two texts (the Dice coefficient of their character trigrams after
 * folding case, accents and punctuation, so "Do you ship to Canada?" and "do you ship to
 * canada??" are 1.0 and a rephrased question is well below) and the two loop rules. Short
 * messages ("ok", "thanks", "hi") never count as the customer repeating themselves.
 */
#include "agent/agent_int.h"

#include <stdlib.h>
#include <string.h>

#define LOOP_LOOKBACK      3 /* earlier messages of each side compared */
#define LOOP_MIN_WORDS     3 /* a customer message shorter than this is never a repeat */
#define LOOP_MIN_BYTES     12
#define REPEAT_SIMILARITY  0.8  /* the customer asking the same again */
#define ECHOING_SIMILARITY 0.85 /* the AI about to say the same again */

static int cmp_tri(const void *x, const void *y)
{
    return memcmp(x, y, 3);
}

/* The distinct trigrams of " folded ", sorted; their count. */
static size_t trigrams(struct arena *a, const char *text, char (**out)[3])
{
    const char *f = agent_fold(a, text);
    size_t n = strlen(f);
    char *padded = arena_alloc(a, n + 3);
    padded[0] = ' ';
    memcpy(padded + 1, f, n);
    padded[n + 1] = ' ';
    size_t count = n; /* n + 2 bytes hold n trigrams */
    char(*t)[3] = arena_alloc(a, (count + 1) * 3);
    for (size_t i = 0; i < count; i++)
        memcpy(t[i], padded + i, 3);
    qsort(t, count, 3, cmp_tri);
    size_t u = 0;
    for (size_t i = 0; i < count; i++)
        if (u == 0 || memcmp(t[u - 1], t[i], 3) != 0)
            memcpy(t[u++], t[i], 3);
    *out = t;
    return u;
}

double agent_similarity(struct arena *a, const char *x, const char *y)
{
    char(*tx)[3], (*ty)[3];
    size_t nx = trigrams(a, x ? x : "", &tx), ny = trigrams(a, y ? y : "", &ty);
    if (nx == 0 || ny == 0)
        return 0.0; /* nothing to compare */
    size_t i = 0, j = 0, both = 0;
    while (i < nx && j < ny) {
        int c = memcmp(tx[i], ty[j], 3);
        both += c == 0;
        i += c <= 0;
        j += c >= 0;
    }
    return 2.0 * (double)both / (double)(nx + ny);
}

static bool long_enough(struct arena *a, const char *text)
{
    const char *words[LOOP_MIN_WORDS];
    return text && strlen(text) >= LOOP_MIN_BYTES &&
           agent_words(a, text, words, LOOP_MIN_WORDS) == LOOP_MIN_WORDS;
}

/* Whether one of this turn's messages repeats a customer message the AI answered already. */
bool agent_customer_repeats(struct arena *a, const struct agent_context *ctx)
{
    bool answered = false; /* an AI reply follows the history message being looked at */
    int seen = 0;
    for (size_t h = ctx->n_history; h-- > 0 && seen < LOOP_LOOKBACK;) {
        const struct agent_message *m = &ctx->history[h];
        if (m->role == AGENT_ROLE_AI)
            answered = true;
        if (m->role != AGENT_ROLE_CUSTOMER || !m->text)
            continue;
        seen++;
        for (size_t i = 0; answered && i < ctx->n_incoming; i++) {
            const char *t = ctx->incoming[i].text;
            if (long_enough(a, t) && agent_similarity(a, t, m->text) >= REPEAT_SIMILARITY)
                return true;
        }
    }
    return false;
}

/* text without a leading disclosure sentence. */
static const char *body(const char *text, const char *disclosure)
{
    size_t dl = disclosure ? strlen(disclosure) : 0;
    if (dl && strncmp(text, disclosure, dl) == 0)
        for (text += dl; *text == ' ';)
            text++;
    return text;
}

bool agent_reply_repeats(struct arena *a, const struct agent_context *ctx, const char *reply,
                         const char *disclosure)
{
    const char *mine = body(reply, disclosure);
    int seen = 0;
    for (size_t h = ctx->n_history; h-- > 0 && seen < LOOP_LOOKBACK;) {
        const struct agent_message *m = &ctx->history[h];
        if (m->role != AGENT_ROLE_AI || !m->text)
            continue;
        seen++;
        if (agent_similarity(a, mine, body(m->text, disclosure)) >= ECHOING_SIMILARITY)
            return true;
    }
    return false;
}
