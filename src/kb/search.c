/*
 * kb/search.c - a customer's words -> the best chunks.
 *
 * Owns: the safe query (words, never FTS5 syntax: each term is a quoted string, terms are
 * ORed, stopwords dropped), BM25 through the store, the in-memory cache of vectors (reloaded
 * when store_kb_version() moves), brute-force cosine over it, and reciprocal rank fusion.
 * A query embedding that fails leaves the search lexical, with one log line.
 * Ranking by selective terms: in a large knowledge base (KB_PRUNE_MIN_CHUNKS and more), a term
 * found in more than a tenth of the chunks ("coffee" in a coffee shop's) adds little to BM25
 * yet makes it score thousands of rows; such terms are left out of the ranking expression
 * (when all are that common, only the rarest is kept), and still count for each hit's
 * coverage; so are terms no chunk holds. Chunks holding every remaining term are ranked first (a
 * posting-list intersection, cheap); only when they are fewer than asked for is the OR of the terms
 * ranked. Document frequencies are counted once per term (capped) and kept until the knowledge base
 * changes.
 */
#include "kb/kb.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "kb/kb_int.h"
#include "store/store.h"

#define QUERY_MAX_BYTES     4096
#define TERM_MAX_BYTES      64
#define FUSE_DEPTH          50 /* candidates each ranking brings to the fusion */
#define RRF_K               60.0
#define SEARCH_MAX          50
#define KB_PRUNE_MIN_CHUNKS 2000
#define PRUNE_SHARE         10 /* a term in more than 1/PRUNE_SHARE of the chunks is common */
#define DF_SLOTS            1024

/* ---- the query ---- */

/* English, then common Spanish, Portuguese, French, German and Italian function words and
 * greetings. Content words that also mean something in a shop (hat, dove, ...) are left out. */
static const char *const stopwords[] = {
    "a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any", "are",
    "aren", "as", "at", "be", "because", "been", "before", "being", "below", "between", "both",
    "but", "by", "can", "could", "couldn", "d", "did", "didn", "do", "does", "doesn", "doing",
    "don", "down", "during", "each", "few", "for", "from", "further", "had", "has", "have",
    "having", "he", "hello", "her", "here", "hers", "hey", "hi", "him", "his", "how", "i", "if",
    "im", "in", "into", "is", "isn", "it", "its", "just", "ll", "m", "me", "more", "most", "my",
    "no", "nor", "not", "of", "off", "on", "once", "only", "or", "other", "our", "ours", "out",
    "over", "own", "please", "pls", "plz", "re", "s", "same", "she", "should", "so", "some", "such",
    "t", "than", "thank", "thanks", "that", "the", "their", "them", "then", "there", "these",
    "they", "this", "those", "through", "to", "too", "u", "under", "until", "up", "ur", "us", "ve",
    "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why",
    "will", "with", "would", "you", "your", "yours",
    /* es */
    "al", "algo", "como", "cómo", "con", "cual", "cuál", "cuando", "cuándo", "de", "del", "donde",
    "dónde", "el", "ella", "en", "es", "esa", "ese", "eso", "esta", "este", "esto", "gracias",
    "hay", "hola", "la", "las", "le", "les", "lo", "los", "me", "mi", "mis", "muy", "para", "pero",
    "por", "porque", "puede", "puedo", "que", "qué", "se", "sin", "son", "su", "sus", "te", "tiene",
    "tienen", "tu", "tus", "un", "una", "uno", "unos", "y", "ya", "yo",
    /* pt */
    "ao", "aos", "com", "da", "das", "do", "dos", "ela", "ele", "em", "eu", "isso", "isto", "mas",
    "meu", "minha", "na", "nas", "nos", "não", "obrigada", "obrigado", "olá", "onde", "os", "pode",
    "posso", "qual", "quando", "seu", "sua", "tem", "você", "vocês", "à", "é",
    /* fr */
    "au", "aux", "avec", "avez", "bonjour", "ce", "ces", "cette", "comment", "dans", "des", "du",
    "elle", "est", "et", "il", "ils", "je", "les", "ma", "mes", "merci", "mon", "ne", "nous", "où",
    "pas", "pouvez", "quel", "quelle", "qui", "quoi", "sa", "ses", "sont", "sur", "une", "vos",
    "votre", "vous",
    /* de */
    "aber", "auf", "aus", "bei", "bitte", "danke", "das", "dem", "den", "der", "die", "ein", "eine",
    "einem", "einen", "einer", "für", "hallo", "haben", "ich", "ihr", "ihre", "ist", "kann",
    "können", "mein", "meine", "mit", "nach", "nicht", "oder", "sie", "sind", "und", "von", "wann",
    "was", "wie", "wir", "wo", "zu",
    /* it */
    "chi", "ciao", "della", "delle", "di", "e", "gli", "grazie", "il", "ma", "nel", "nella", "non",
    "per", "quale", "si", "sono", "tra"};

static bool is_stopword(const char *w, size_t n)
{
    for (size_t i = 0; i < sizeof stopwords / sizeof stopwords[0]; i++)
        if (strlen(stopwords[i]) == n && memcmp(stopwords[i], w, n) == 0)
            return true;
    return false;
}

/* Non-ASCII punctuation that separates words: ¿ ¡ « » ‘ ’ “ ” … – — · 。 ， 、 ？ ！ */
static size_t separator_len(const unsigned char *s, size_t n)
{
    static const char *const seps[] = {
        "\xc2\xbf",     "\xc2\xa1",     "\xc2\xab",     "\xc2\xbb",     "\xe2\x80\x98",
        "\xe2\x80\x99", "\xe2\x80\x9c", "\xe2\x80\x9d", "\xe2\x80\xa6", "\xe2\x80\x93",
        "\xe2\x80\x94", "\xc2\xb7",     "\xe3\x80\x82", "\xef\xbc\x8c", "\xe3\x80\x81",
        "\xef\xbc\x9f", "\xef\xbc\x81", "\xc2\xa0"};
    for (size_t i = 0; i < sizeof seps / sizeof seps[0]; i++) {
        size_t k = strlen(seps[i]);
        if (n >= k && memcmp(s, seps[i], k) == 0)
            return k;
    }
    return 0;
}

static bool word_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

/* The next word of s[*i..n), lower-cased into w (TERM_MAX_BYTES + 1); its length, 0 at end.
 * A word longer than TERM_MAX_BYTES is passed over. */
static size_t next_word(const unsigned char *s, size_t n, size_t *i, char *w)
{
    while (*i < n) {
        size_t sep = s[*i] >= 0x80 ? separator_len(s + *i, n - *i) : 0;
        if (sep || !word_byte(s[*i])) {
            *i += sep ? sep : 1;
            continue;
        }
        size_t start = *i, len = 0;
        while (*i < n && word_byte(s[*i]) && !(s[*i] >= 0x80 && separator_len(s + *i, n - *i))) {
            if (len < TERM_MAX_BYTES)
                w[len] = (char)(s[*i] >= 'A' && s[*i] <= 'Z' ? s[*i] + 32 : s[*i]);
            len++;
            (*i)++;
        }
        if (len <= TERM_MAX_BYTES && *i > start)
            return len;
    }
    return 0;
}

static bool seen_term(char terms[][TERM_MAX_BYTES + 1], size_t n, const char *w)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(terms[i], w) == 0)
            return true;
    return false;
}

enum err kb_query_terms(struct arena *a, const char *query, struct kb_terms *out)
{
    *out = (struct kb_terms){.match = ""};
    size_t n = strnlen(query, QUERY_MAX_BYTES), i = 0, len;
    char terms[KB_QUERY_MAX_TERMS][TERM_MAX_BYTES + 1], all[KB_QUERY_MAX_TERMS][TERM_MAX_BYTES + 1];
    size_t n_terms = 0, n_all = 0;
    char w[TERM_MAX_BYTES + 1];
    while ((len = next_word((const unsigned char *)query, n, &i, w)) != 0) {
        w[len] = '\0';
        if (n_all < KB_QUERY_MAX_TERMS && !seen_term(all, n_all, w))
            memcpy(all[n_all++], w, len + 1);
        if (n_terms < KB_QUERY_MAX_TERMS && !is_stopword(w, len) && !seen_term(terms, n_terms, w))
            memcpy(terms[n_terms++], w, len + 1);
    }
    char(*use)[TERM_MAX_BYTES + 1] = n_terms ? terms : all;
    size_t n_use = n_terms ? n_terms : n_all;
    struct buf b;
    buf_init(&b, (size_t)KB_QUERY_MAX_TERMS * (TERM_MAX_BYTES + 8));
    enum err rc = ERR_OK;
    for (size_t k = 0; k < n_use && rc == ERR_OK; k++)
        rc = buf_printf(&b, "%s\"%s\"", k ? " OR " : "", use[k]); /* words hold no '"' */
    if (rc == ERR_OK && n_use) {
        out->match = arena_strndup(a, b.data, b.len);
        out->n = n_use;
        out->weak = n_terms == 0;
    }
    buf_release(&b);
    return rc;
}

/* ---- vectors ---- */

struct kb_vecs {
    bool loaded;
    int64_t version;
    size_t dim, n, cap;
    int64_t *ids; /* ascending */
    float *data;  /* n * dim, unit length */
};

void kb_vecs_free(struct kb_vecs *v)
{
    if (!v)
        return;
    free(v->ids);
    free(v->data);
    free(v);
}

static void on_vector(void *ctx, int64_t id, const float *vec, size_t dim)
{
    struct kb_vecs *v = ctx;
    if (v->n == 0)
        v->dim = dim;
    if (dim != v->dim)
        return; /* an older model's size: left out */
    if (v->n == v->cap) {
        v->cap = v->cap ? 2 * v->cap : 256;
        v->ids = xrealloc(v->ids, v->cap * sizeof *v->ids);
        v->data = xrealloc(v->data, v->cap * dim * sizeof *v->data);
    }
    v->ids[v->n] = id;
    memcpy(v->data + v->n * dim, vec, dim * sizeof *vec);
    v->n++;
}

static enum err refresh_vectors(struct kb *k)
{
    int64_t version = 0;
    enum err rc = store_kb_version(k->s, &version);
    if (rc != ERR_OK)
        return rc;
    if (!k->vecs)
        k->vecs = xcalloc(1, sizeof *k->vecs);
    struct kb_vecs *v = k->vecs;
    if (v->loaded && v->version == version)
        return ERR_OK;
    v->n = 0;
    v->loaded = false;
    rc = store_kb_vectors(k->s, k->embed_model, on_vector, v);
    v->loaded = rc == ERR_OK;
    v->version = version;
    return rc;
}

static long vec_index(const struct kb_vecs *v, int64_t id)
{
    size_t lo = 0, hi = v->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v->ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < v->n && v->ids[lo] == id ? (long)lo : -1;
}

/* The cosine of the query with every cached vector, or NULL (lexical only). */
static float *similarities(struct kb *k, struct arena *a, const char *query)
{
    if (refresh_vectors(k) != ERR_OK || k->vecs->n == 0)
        return NULL;
    const struct kb_vecs *v = k->vecs;
    float *q = NULL;
    size_t dim = 0;
    struct kb_embed_fail fail;
    const char *text = query;
    enum err rc = kb_embed(k, a, &text, 1, k->query_timeout_ms, &q, &dim, &fail);
    if (rc == ERR_OK && dim != v->dim) {
        rc = ERR_UPSTREAM;
        fail.what = "query vector size differs from the stored vectors'";
    }
    if (rc != ERR_OK) {
        log_warn("kb.query_embed_failed", LOG_INT("status", fail.status),
                 LOG_STR("reason", fail.what), LOG_ERR(rc));
        return NULL;
    }
    float *sims = arena_alloc(a, v->n * sizeof *sims);
    for (size_t i = 0; i < v->n; i++) {
        const float *row = v->data + i * dim;
        double dot = 0;
        for (size_t j = 0; j < dim; j++)
            dot += (double)row[j] * q[j];
        sims[i] = (float)dot;
    }
    return sims;
}

/* ---- selective terms ---- */

struct kb_dfs {
    int64_t version, n_chunks;
    struct {
        char term[TERM_MAX_BYTES + 3]; /* quoted, as in the MATCH expression; "" empty slot */
        int64_t docs;
    } slot[DF_SLOTS];
};

void kb_dfs_free(struct kb_dfs *d)
{
    free(d);
}

static size_t df_hash(const char *s)
{
    size_t h = 5381;
    while (*s)
        h = h * 33 + (unsigned char)*s++;
    return h % DF_SLOTS;
}

/* How many chunks hold the quoted term (counted up to the cap that matters); -1 on error. */
static int64_t doc_freq(struct kb *k, const char *quoted, int64_t cap)
{
    size_t h = df_hash(quoted);
    if (strcmp(k->dfs->slot[h].term, quoted) == 0)
        return k->dfs->slot[h].docs;
    int64_t n = 0;
    if (store_kb_doc_freq(k->s, quoted, cap, &n) != ERR_OK)
        return -1;
    snprintf(k->dfs->slot[h].term, sizeof k->dfs->slot[h].term, "%s", quoted);
    k->dfs->slot[h].docs = n;
    return n;
}

/* The ranking expressions: the selective terms ORed (*any) and ANDed (*all, NULL when fewer
 * than two) when the knowledge base is large and a selective term remains; *any = match and
 * *all = NULL otherwise (or on any error). */
static void ranking_match(struct kb *k, struct arena *a, const char *match, size_t n_terms,
                          const char **any, const char **all)
{
    *any = match;
    *all = NULL;
    int64_t version = 0;
    if (n_terms < 2 || store_kb_version(k->s, &version) != ERR_OK)
        return;
    if (!k->dfs)
        k->dfs = xcalloc(1, sizeof *k->dfs);
    if (k->dfs->version != version || k->dfs->n_chunks == 0) {
        memset(k->dfs, 0, sizeof *k->dfs);
        k->dfs->version = version;
        if (store_kb_doc_freq(k->s, NULL, 0, &k->dfs->n_chunks) != ERR_OK)
            return;
    }
    if (k->dfs->n_chunks < KB_PRUNE_MIN_CHUNKS)
        return;
    int64_t limit = k->dfs->n_chunks / PRUNE_SHARE;
    const char *quoted[KB_QUERY_MAX_TERMS], *rarest = NULL;
    int64_t rarest_df = INT64_MAX;
    size_t n = 0;
    for (const char *p = match; n < KB_QUERY_MAX_TERMS && (p = strchr(p, '"')) != NULL;) {
        const char *end = strchr(p + 1, '"');
        if (!end)
            break;
        char *q = arena_strndup(a, p, (size_t)(end - p + 1));
        int64_t df = doc_freq(k, q, k->dfs->n_chunks + 1);
        if (df > 0 && df <= limit)
            quoted[n++] = q;
        if (df > 0 && df < rarest_df) {
            rarest_df = df;
            rarest = q;
        }
        p = end + 1;
    }
    if (n == 0 && rarest)
        quoted[n++] = rarest;
    if (n == 0)
        return;
    const char *or_expr = quoted[0], *and_expr = quoted[0];
    for (size_t i = 1; i < n; i++) {
        or_expr = arena_printf(a, "%s OR %s", or_expr, quoted[i]);
        and_expr = arena_printf(a, "%s AND %s", and_expr, quoted[i]);
    }
    *any = or_expr;
    *all = n > 1 ? and_expr : NULL;
}

/* The lexical candidates: those holding every selective term when there are enough, else the
 * OR of them (see ranking_match()). */
static enum err lexical(struct kb *k, struct arena *a, const struct kb_terms *t, size_t want,
                        struct store_kb_hit *lex, size_t *n_lex)
{
    const char *any, *all;
    ranking_match(k, a, t->match, t->n, &any, &all);
    enum err rc = all ? store_kb_search(k->s, a, t->match, all, want, lex, n_lex) : ERR_OK;
    if (rc == ERR_OK && (!all || *n_lex < want))
        rc = store_kb_search(k->s, a, t->match, any, want, lex, n_lex);
    return rc;
}

/* ---- ranking ---- */

struct cand {
    int64_t id;
    long lex; /* index into the lexical hits, -1 if none */
    double rrf, cosine;
};

static double coverage(uint64_t matched, size_t n_terms)
{
    if (n_terms == 0)
        return 0;
    uint64_t mask = n_terms >= 64 ? ~0ULL : ((1ULL << n_terms) - 1);
    return (double)__builtin_popcountll(matched & mask) / (double)n_terms;
}

static void hit_from(struct kb_hit *h, const struct store_kb_hit *s, size_t n_terms)
{
    *h = (struct kb_hit){.chunk_id = s->chunk_id,
                         .path = s->path,
                         .title = s->title,
                         .heading = s->heading,
                         .text = s->text,
                         .bm25 = -s->bm25,
                         .score = -s->bm25,
                         .coverage = coverage(s->matched, n_terms)};
}

/* The top FUSE_DEPTH vector indexes by similarity, best first; returns how many. */
static size_t top_vectors(const float *sims, size_t n, size_t *top)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k == FUSE_DEPTH && sims[i] <= sims[top[k - 1]])
            continue;
        size_t at = k < FUSE_DEPTH ? k++ : FUSE_DEPTH - 1; /* full: the worst one goes */
        while (at > 0 && sims[top[at - 1]] < sims[i]) {
            top[at] = top[at - 1];
            at--;
        }
        top[at] = i;
    }
    return k;
}

static int by_rrf(const void *pa, const void *pb)
{
    const struct cand *x = pa, *y = pb;
    if (x->rrf != y->rrf)
        return x->rrf > y->rrf ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static size_t candidates(const struct kb_vecs *v, const float *sims, const struct store_kb_hit *lex,
                         size_t n_lex, struct cand *c)
{
    size_t n = 0, top[FUSE_DEPTH] = {0};
    for (size_t i = 0; i < n_lex; i++) {
        long vi = vec_index(v, lex[i].chunk_id);
        c[n++] = (struct cand){lex[i].chunk_id, (long)i, 1.0 / (RRF_K + 1 + (double)i),
                               vi >= 0 ? sims[vi] : 0};
    }
    size_t n_top = top_vectors(sims, v->n, top);
    for (size_t r = 0; r < n_top; r++) {
        int64_t id = v->ids[top[r]];
        size_t j = 0;
        while (j < n && c[j].id != id)
            j++;
        if (j == n)
            c[n++] = (struct cand){id, -1, 0, sims[top[r]]};
        c[j].rrf += 1.0 / (RRF_K + 1 + (double)r);
    }
    qsort(c, n, sizeof *c, by_rrf);
    return n;
}

static enum err fuse(struct kb *k, struct arena *a, const float *sims,
                     const struct store_kb_hit *lex, size_t n_lex, size_t max,
                     struct kb_results *out)
{
    struct cand *c = arena_alloc(a, (n_lex + FUSE_DEPTH) * sizeof *c);
    size_t n = candidates(k->vecs, sims, lex, n_lex, c);
    n = n < max ? n : max;
    int64_t missing[SEARCH_MAX];
    size_t n_missing = 0, n_got = 0;
    for (size_t i = 0; i < n; i++)
        if (c[i].lex < 0)
            missing[n_missing++] = c[i].id;
    struct store_kb_hit *got = arena_alloc(a, (n_missing + 1) * sizeof *got);
    enum err rc =
        n_missing ? store_kb_chunks_get(k->s, a, missing, n_missing, got, &n_got) : ERR_OK;
    if (rc != ERR_OK)
        return rc;
    out->hits = arena_alloc(a, (n + 1) * sizeof *out->hits);
    for (size_t i = 0; i < n; i++) {
        const struct store_kb_hit *s = c[i].lex >= 0 ? &lex[c[i].lex] : NULL;
        for (size_t j = 0; !s && j < n_got; j++)
            if (got[j].chunk_id == c[i].id)
                s = &got[j];
        if (!s)
            continue; /* removed since the vectors were cached */
        struct kb_hit *h = &out->hits[out->n++];
        hit_from(h, s, out->n_terms);
        h->score = c[i].rrf;
        h->cosine = c[i].cosine;
    }
    out->used_vectors = true;
    return ERR_OK;
}

enum err kb_search(struct kb *k, struct arena *a, const char *query, size_t max,
                   struct kb_results *out)
{
    *out = (struct kb_results){0};
    max = max < SEARCH_MAX ? max : SEARCH_MAX;
    struct kb_terms t;
    enum err rc = kb_query_terms(a, query, &t);
    if (rc != ERR_OK || t.n == 0 || max == 0)
        return rc;
    out->n_terms = t.n;
    out->weak_query = t.weak;
    size_t want = kb_has_embed(k) ? FUSE_DEPTH : max, n_lex = 0;
    struct store_kb_hit *lex = arena_alloc(a, want * sizeof *lex);
    rc = lexical(k, a, &t, want, lex, &n_lex);
    if (rc != ERR_OK)
        return rc;
    float *sims = kb_has_embed(k) ? similarities(k, a, query) : NULL;
    if (sims)
        return fuse(k, a, sims, lex, n_lex, max, out);
    out->n = n_lex < max ? n_lex : max;
    out->hits = arena_alloc(a, (out->n + 1) * sizeof *out->hits);
    for (size_t i = 0; i < out->n; i++)
        hit_from(&out->hits[i], &lex[i], t.n);
    return ERR_OK;
}
