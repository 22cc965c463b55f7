/*
 * tests/fuzz/fuzz_agent_text.c - the agent's readers of customer and model text on arbitrary
 * bytes: folding and words, sentences, Markdown removal, the guardrails' shape and claims
 * check, the keywords, sentiment and small talk.
 *
 * Properties: never crashes or reads past the text; folded text holds no upper-case ASCII and
 * no double space; sentences lie inside the text, in order, without overlap; a shaped reply
 * has at most 3 sentences, fits 1000 bytes and keeps a whole disclosure first; sentiment is
 * within -1..1.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(bool cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_agent_text: %s\n", what);
        abort();
    }
}

static void check_fold(struct arena *a, const char *text)
{
    const char *f = agent_fold(a, text);
    for (const char *p = f; *p; p++) {
        require(!(*p >= 'A' && *p <= 'Z'), "upper case after folding");
        require(!(p[0] == ' ' && p[1] == ' '), "double space after folding");
    }
    const char *w[64];
    size_t n = agent_words(a, text, w, 64);
    for (size_t i = 0; i < n; i++)
        require(*w[i] && !strchr(w[i], ' ') && strlen(w[i]) <= AGENT_WORD_MAX, "word");
}

static void check_sentences(const char *text)
{
    struct agent_span sp[16];
    size_t n = agent_sentences(text, sp, 16), len = strlen(text), end = 0;
    for (size_t i = 0; i < n; i++) {
        require(sp[i].len > 0 && sp[i].off >= end && sp[i].off + sp[i].len <= len, "span");
        end = sp[i].off + sp[i].len;
    }
}

static void check_shape(struct arena *a, const char *text)
{
    static const char disc[] = "I'm the AI assistant for Northwind Coffee.";
    struct agent_shape sh = {.disclosure = disc, .max_sentences = 3, .max_bytes = 1000};
    const char *out = agent_shape(a, text, &sh);
    if (*out) {
        require(strncmp(out, disc, strlen(disc)) == 0, "disclosure not first");
        require(strlen(out) <= 1000, "over the byte limit");
    }
    sh.disclosure = NULL;
    sh.max_chars = 1999;
    out = agent_shape(a, text, &sh);
    struct agent_span sp[8];
    require(agent_sentences(out, sp, 8) <= 3 || strchr(out, '\n') == NULL, "more than 3");
    const struct agent_evidence ev[2] = {{text, false}, {"{\"total\": 12.5}", true}};
    const char *claim = agent_unsupported_claim(a, out, ev, 2);
    require(!claim || *claim, "empty claim");
    (void)agent_looks_like_markup(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = strndup((const char *)data, size); /* the agent reads C strings */
    struct arena a;
    arena_init(&a);
    check_fold(&a, text);
    check_sentences(text);
    check_sentences(agent_plain(&a, text));
    check_shape(&a, text);
    double s = agent_sentiment(&a, text);
    require(s >= -1 && s <= 1, "sentiment out of range");
    (void)agent_keywords_match(&a, agent_keywords_default(), text);
    bool is_talk;
    (void)agent_small_talk(&a, text, &is_talk);
    struct agent_keywords k;
    const char *why;
    if (agent_keywords_parse(&a, text, &k, &why) == ERR_OK)
        (void)agent_keywords_match(&a, &k, "talk to a human please");
    arena_release(&a);
    free(text);
    return 0;
}
