/*
 * kb/chunk.c - text -> chunks: checking that bytes are text, then sizing markdown.c's
 * sections.
 *
 * Owns: the size and encoding checks (KB_MAX_FILE_BYTES, UTF-8, no NUL), merging tiny
 * sections under their common heading, and splitting long ones at the best boundary near an
 * even share of KB_CHUNK_TARGET (paragraph > line > sentence > space > a character, never
 * past KB_CHUNK_MAX).
 */
#include "kb/kb.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kb/kb_int.h"

#define PATH_SEP " > "

struct chunker {
    struct arena *a;
    struct kb_chunk *v; /* grows with xrealloc; copied into the arena at the end */
    size_t n, cap;
    struct buf tmp;
};

/* ---- is it text? ---- */

/* The code point of the k-byte sequence at s (k from its lead byte), or -1 if malformed. */
static long decode(const unsigned char *s, size_t k)
{
    static const unsigned long min[] = {0, 0, 0x80, 0x800, 0x10000};
    unsigned long cp = s[0] & (0x7f >> k);
    for (size_t j = 1; j < k; j++) {
        if ((s[j] & 0xc0) != 0x80)
            return -1;
        cp = cp << 6 | (s[j] & 0x3f);
    }
    if (cp < min[k] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return -1;
    return (long)cp;
}

static bool utf8_ok(const unsigned char *s, size_t n, bool *has_nul)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c < 0x80) {
            *has_nul |= c == 0;
            i++;
            continue;
        }
        size_t k = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
        if (k == 0 || n - i < k || decode(s + i, k) < 0)
            return false;
        i += k;
    }
    return true;
}

static enum err check_text(const char *s, size_t n, const char **why)
{
    static const char *const nul = "contains NUL bytes (binary, not text)";
    static const char *const bad = "not valid UTF-8 text";
    bool has_nul = false;
    if (!utf8_ok((const unsigned char *)s, n, &has_nul)) {
        *why = bad;
        return ERR_INVALID;
    }
    if (has_nul) {
        *why = nul;
        return ERR_INVALID;
    }
    return ERR_OK;
}

/* ---- output ---- */

static bool space(char c)
{
    return c == ' ' || c == '\n';
}

static void add(struct chunker *c, const char *heading, const char *s, size_t n)
{
    while (n && space(*s)) {
        s++;
        n--;
    }
    while (n && space(s[n - 1]))
        n--;
    if (n == 0)
        return;
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 16;
        c->v = xrealloc(c->v, c->cap * sizeof *c->v);
    }
    c->v[c->n++] = (struct kb_chunk){heading, arena_strndup(c->a, s, n)};
}

/* comps[0..k) joined with " > ", at most KB_HEADING_MAX bytes, in the arena. */
static const char *join(struct arena *a, const char *const *comps, int k)
{
    struct buf b;
    buf_init(&b, (size_t)KB_MAX_DEPTH * (KB_HEADING_MAX + 8));
    enum err rc = ERR_OK;
    for (int i = 0; i < k && rc == ERR_OK; i++) {
        rc = i ? buf_puts(&b, PATH_SEP) : ERR_OK;
        rc = rc == ERR_OK ? buf_puts(&b, comps[i]) : rc;
    }
    size_t len = b.len;
    if (len > KB_HEADING_MAX) {
        len = KB_HEADING_MAX;
        while (len && ((unsigned char)b.data[len] & 0xc0) == 0x80)
            len--; /* never cut a character in two */
        while (len && (b.data[len - 1] == ' ' || b.data[len - 1] == '>'))
            len--; /* nor end on a separator */
    }
    const char *out = arena_strndup(a, b.data ? b.data : "", len);
    buf_release(&b);
    return out;
}

/* ---- splitting ---- */

/* How good a cut just before t[e] is: 3 paragraph, 2 line, 1 sentence, 0 word, -1 none. */
static int break_prio(const char *t, size_t e, size_t len)
{
    if (t[e] == '\n')
        return e + 1 < len && t[e + 1] == '\n' ? 3 : 2;
    if (e >= 3 && ((unsigned char)t[e] & 0xc0) != 0x80 &&
        (memcmp(t + e - 3, "\xe3\x80\x82", 3) == 0 || /* 。 */
         memcmp(t + e - 3, "\xef\xbc\x81", 3) == 0 || /* ！ */
         memcmp(t + e - 3, "\xef\xbc\x9f", 3) == 0))  /* ？ */
        return 1;
    if (t[e] != ' ')
        return -1;
    size_t i = e;
    while (i > 0 && (t[i - 1] == '"' || t[i - 1] == '\'' || t[i - 1] == ')'))
        i--;
    bool sentence = i > 0 && (t[i - 1] == '.' || t[i - 1] == '!' || t[i - 1] == '?');
    return sentence ? 1 : 0;
}

/* The end of the chunk that starts at s, aiming at s + goal. */
static size_t pick_break(const char *t, size_t s, size_t len, size_t goal)
{
    size_t hi = len - s > KB_CHUNK_MAX ? s + KB_CHUNK_MAX : len;
    size_t best = 0;
    long best_score = -(1L << 30);
    for (size_t e = s + goal / 2; e < hi; e++) {
        int prio = break_prio(t, e, len);
        if (prio < 0)
            continue;
        long dist = (long)e - (long)(s + goal);
        long score = prio * 400L - (dist < 0 ? -dist : dist);
        if (score > best_score) {
            best_score = score;
            best = e;
        }
    }
    if (best)
        return best;
    size_t e = hi; /* no space at all: cut between two characters */
    while (e > s + 1 && e < len && ((unsigned char)t[e] & 0xc0) == 0x80)
        e--;
    return e;
}

/* One chunk, or several of about equal size when the text is long. */
static void split(struct chunker *c, const char *heading, const char *t, size_t len)
{
    size_t s = 0;
    while (s < len) {
        while (s < len && space(t[s]))
            s++;
        size_t rem = len - s;
        if (rem == 0)
            break;
        if (rem <= KB_CHUNK_TARGET + KB_CHUNK_TARGET / 4) {
            add(c, heading, t + s, rem);
            break;
        }
        size_t pieces = (rem + KB_CHUNK_TARGET - 1) / KB_CHUNK_TARGET;
        size_t e = pick_break(t, s, len, rem / pieces);
        add(c, heading, t + s, e - s);
        s = e;
    }
}

/* ---- merging ---- */

struct group {
    const struct md_section *first;
    size_t count;
    size_t text_len; /* bodies only */
    size_t est;      /* bodies, heading lines and separators */
    int cp;          /* heading components every member shares */
};

static int common(const struct md_section *a, const struct md_section *b, int limit)
{
    int i = 0;
    while (i < limit && i < a->n_comps && i < b->n_comps && strcmp(a->comps[i], b->comps[i]) == 0)
        i++;
    return i;
}

static size_t path_len(const struct md_section *s)
{
    size_t n = 0;
    for (int i = 0; i < s->n_comps; i++)
        n += strlen(s->comps[i]) + strlen(PATH_SEP);
    return n;
}

static void flush_group(struct chunker *c, struct group *g)
{
    if (g->count == 0)
        return;
    const struct md_section *s = g->first;
    if (g->count == 1) {
        split(c, join(c->a, s->comps, s->n_comps), s->body, s->len);
        g->count = 0;
        return;
    }
    buf_reset(&c->tmp);
    for (size_t i = 0; i < g->count; i++, s = s->next) {
        enum err rc = c->tmp.len ? buf_puts(&c->tmp, "\n\n") : ERR_OK;
        if (s->n_comps > g->cp && rc == ERR_OK) {
            rc = buf_puts(&c->tmp, join(c->a, s->comps + g->cp, s->n_comps - g->cp));
            rc = rc == ERR_OK ? buf_puts(&c->tmp, "\n") : rc;
        }
        if (rc == ERR_OK)
            rc = buf_append(&c->tmp, s->body, s->len);
        err_ignore(rc); /* the cap is far above a group's KB_CHUNK_TARGET */
    }
    split(c, join(c->a, g->first->comps, g->cp), c->tmp.data, c->tmp.len);
    g->count = 0;
}

/* Whether s joins the group: one of them is tiny, they share a heading, the sum fits. */
static bool joins(const struct group *g, const struct md_section *s)
{
    if (g->count == 0 || s->len > KB_CHUNK_TARGET)
        return false;
    if (g->text_len >= KB_CHUNK_MIN && s->len >= KB_CHUNK_MIN)
        return false;
    if (g->est + s->len + path_len(s) + 2 > KB_CHUNK_TARGET)
        return false;
    int cp = common(g->first, s, g->cp);
    return cp > 0 || (g->first->n_comps == 0 && s->n_comps == 0);
}

static void sections(struct chunker *c, const struct md_section *s)
{
    struct group g = {0};
    for (; s; s = s->next) {
        if (joins(&g, s)) {
            g.cp = common(g.first, s, g.cp);
            g.count++;
            g.text_len += s->len;
            g.est += s->len + path_len(s) + 2;
            continue;
        }
        flush_group(c, &g);
        g = (struct group){s, 1, s->len, s->len + path_len(s) + 2, s->n_comps};
    }
    flush_group(c, &g);
}

enum err kb_chunk_text(struct arena *a, const char *data, size_t len, enum kb_format fmt,
                       struct kb_doc *out, const char **why)
{
    const char *dummy = NULL;
    why = why ? why : &dummy;
    *out = (struct kb_doc){0};
    if (len > KB_MAX_FILE_BYTES) {
        *why = "larger than 1 MiB";
        return ERR_TOO_LARGE;
    }
    if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) {
        data += 3;
        len -= 3;
    }
    enum err rc = check_text(data, len, why);
    struct md_result res = {0};
    if (rc == ERR_OK)
        rc = md_parse(a, data, len, fmt, &res);
    if (rc != ERR_OK) {
        *why = rc == ERR_TOO_LARGE ? "too large once parsed" : *why;
        return rc;
    }
    struct chunker c = {.a = a};
    buf_init(&c.tmp, 2 * KB_CHUNK_TARGET + 4 * KB_HEADING_MAX);
    sections(&c, res.first);
    buf_release(&c.tmp);
    out->title = res.title;
    out->n_chunks = c.n;
    out->chunks = c.n ? arena_alloc(a, c.n * sizeof *c.v) : NULL;
    if (c.n)
        memcpy(out->chunks, c.v, c.n * sizeof *c.v);
    free(c.v);
    return ERR_OK;
}

enum err kb_format_for_path(const char *path, enum kb_format *fmt)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash + 1 : path, '.');
    if (!dot || dot[1] == '\0')
        return ERR_INVALID;
    if (strcasecmp(dot, ".md") == 0 || strcasecmp(dot, ".markdown") == 0) {
        *fmt = KB_MARKDOWN;
        return ERR_OK;
    }
    if (strcasecmp(dot, ".txt") == 0) {
        *fmt = KB_TEXT;
        return ERR_OK;
    }
    return ERR_INVALID;
}
