/*
 * meta/send_split.c - text limits by platform and the splitter for long replies.
 *
 * Owns: strict UTF-8 decoding, meta_text_fits() (Messenger: under 2000 code points; Instagram:
 * 1000 bytes or less, meta-platform.md sections 2.6 and 10.11) and meta_send_split_text(),
 * which cuts at a paragraph, line, sentence or word boundary, else between grapheme clusters
 * (a practical subset of UAX #29: combining marks, variation selectors, ZWJ sequences, skin
 * tones, tags, keycaps, regional-indicator pairs and CR LF stay whole).
 * Does not own: the requests (send.c).
 * Threads: pure functions.
 */
#include "meta/send.h"

#include <string.h>

#include "meta/send_int.h"

#define ZWJ 0x200D

/* ---- UTF-8 ---- */

static size_t seq_len(unsigned char b, uint32_t *cp, uint32_t *min)
{
    if (b < 0x80) {
        *cp = b;
        *min = 0;
        return 1;
    }
    if ((b & 0xE0) == 0xC0) {
        *cp = b & 0x1F;
        *min = 0x80;
        return 2;
    }
    if ((b & 0xF0) == 0xE0) {
        *cp = b & 0x0F;
        *min = 0x800;
        return 3;
    }
    if ((b & 0xF8) == 0xF0) {
        *cp = b & 0x07;
        *min = 0x10000;
        return 4;
    }
    return 0;
}

size_t meta_utf8_decode(const char *s, size_t len, size_t i, uint32_t *cp)
{
    const unsigned char *u = (const unsigned char *)s;
    uint32_t c, min;
    size_t n = seq_len(u[i], &c, &min);
    if (n == 0 || i + n > len)
        return 0;
    for (size_t k = 1; k < n; k++) {
        if ((u[i + k] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (u[i + k] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return n;
}

bool meta_utf8_count(const char *s, size_t len, size_t *n_chars)
{
    size_t chars = 0;
    for (size_t i = 0; i < len; chars++) {
        uint32_t cp;
        size_t n = meta_utf8_decode(s, len, i, &cp);
        if (n == 0)
            return false;
        i += n;
    }
    if (n_chars)
        *n_chars = chars;
    return true;
}

/* ---- limits ---- */

static bool is_space(uint32_t cp)
{
    return cp == ' ' || (cp >= '\t' && cp <= '\r') || cp == 0x3000;
}

bool meta_utf8_is_blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = meta_utf8_decode(s, len, i, &cp);
        if (n == 0 || !is_space(cp))
            return false;
        i += n;
    }
    return true;
}

static bool within_limit(enum store_platform p, size_t bytes, size_t chars)
{
    if (p == STORE_INSTAGRAM)
        return bytes <= META_IG_TEXT_MAX_BYTES;
    return chars <= META_MESSENGER_TEXT_MAX_CHARS;
}

bool meta_text_fits(enum store_platform p, const char *text)
{
    if (!text)
        return false;
    size_t len = strlen(text), chars;
    return len > 0 && meta_utf8_count(text, len, &chars) && !meta_utf8_is_blank(text, len) &&
           within_limit(p, len, chars);
}

/* ---- grapheme clusters (the cases that matter in chat text) ---- */

/* Code points that attach to the one before them. */
static bool is_extender(uint32_t cp)
{
    return (cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x1AB0 && cp <= 0x1AFF) ||
           (cp >= 0x1DC0 && cp <= 0x1DFF) || (cp >= 0x20D0 && cp <= 0x20FF) || /* keycap */
           (cp >= 0xFE00 && cp <= 0xFE0F) || (cp >= 0xFE20 && cp <= 0xFE2F) || /* VS16 */
           (cp >= 0x1F3FB && cp <= 0x1F3FF) ||                                 /* skin tones */
           (cp >= 0xE0020 && cp <= 0xE007F) || (cp >= 0xE0100 && cp <= 0xE01EF) || cp == ZWJ;
}

static bool is_regional(uint32_t cp)
{
    return cp >= 0x1F1E6 && cp <= 0x1F1FF;
}

/* The start of the code point that ends just before b (b > 0). */
static size_t prev_start(const char *s, size_t b)
{
    size_t i = b - 1;
    while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80)
        i--;
    return i;
}

static uint32_t cp_at(const char *s, size_t len, size_t i)
{
    uint32_t cp;
    return meta_utf8_decode(s, len, i, &cp) ? cp : 0;
}

/* Whether cutting s before byte b (from >= lo) keeps every grapheme cluster whole. */
static bool is_cluster_boundary(const char *s, size_t len, size_t lo, size_t b)
{
    if (b <= lo || b >= len)
        return true;
    uint32_t after = cp_at(s, len, b), before = cp_at(s, len, prev_start(s, b));
    if (is_extender(after) || before == ZWJ || (before == '\r' && after == '\n'))
        return false;
    if (!is_regional(after) || !is_regional(before))
        return true;
    size_t n_ri = 0; /* flags are pairs: cut only after an even number of indicators */
    for (size_t i = b; i > lo && is_regional(cp_at(s, len, prev_start(s, i))); i = prev_start(s, i))
        n_ri++;
    return n_ri % 2 == 0;
}

/* ---- choosing a cut ---- */

/* The largest code-point boundary end such that s[pos..end) fits the platform. */
static size_t room_end(enum store_platform p, const char *s, size_t len, size_t pos)
{
    size_t i = pos, chars = 0;
    while (i < len) {
        uint32_t cp;
        size_t n = meta_utf8_decode(s, len, i, &cp);
        if (!within_limit(p, i + n - pos, chars + 1))
            break;
        i += n;
        chars++;
    }
    return i;
}

struct cuts {
    size_t para, line, sentence, space; /* the latest of each kind; 0: none */
};

static bool is_closer(uint32_t cp)
{
    return cp == ')' || cp == '"' || cp == '\'' || cp == 0x201D || cp == 0x2019 || cp == 0xBB;
}

static bool is_stop(uint32_t cp)
{
    return cp == '.' || cp == '!' || cp == '?' || cp == 0x2026;
}

static bool is_cjk_stop(uint32_t cp)
{
    return cp == 0x3002 || cp == 0xFF01 || cp == 0xFF1F;
}

/* Whether the text before b (> lo) ends a sentence: a stop, then at most two closers. */
static bool ends_sentence(const char *s, size_t len, size_t lo, size_t b)
{
    for (int k = 0; k < 3 && b > lo; k++) {
        b = prev_start(s, b);
        uint32_t cp = cp_at(s, len, b);
        if (is_stop(cp) || is_cjk_stop(cp))
            return true;
        if (!is_closer(cp))
            return false;
    }
    return false;
}

/* A whitespace run starts at i (> pos): record it as a cut, by kind. Returns the run's end. */
static size_t note_space(const char *s, size_t len, size_t pos, size_t i, struct cuts *c)
{
    size_t j = i;
    int newlines = 0;
    uint32_t cp;
    size_t n;
    while (j < len && (n = meta_utf8_decode(s, len, j, &cp)) && is_space(cp)) {
        newlines += cp == '\n';
        j += n;
    }
    if (newlines >= 2)
        c->para = i;
    else if (newlines == 1)
        c->line = i;
    else if (ends_sentence(s, len, pos, i))
        c->sentence = i;
    else
        c->space = i;
    return j;
}

static void find_cuts(const char *s, size_t len, size_t pos, size_t end, struct cuts *c)
{
    memset(c, 0, sizeof *c);
    size_t i = pos;
    while (i <= end && i < len) {
        uint32_t cp;
        size_t n = meta_utf8_decode(s, len, i, &cp);
        if (is_space(cp) && i > pos) {
            i = note_space(s, len, pos, i, c);
            continue;
        }
        if (is_cjk_stop(cp) && i + n <= end)
            c->sentence = i + n;
        i += n;
    }
}

static size_t max2(size_t x, size_t y)
{
    return x > y ? x : y;
}

/* Where the part that starts at pos ends, given that s[pos..end) is its room (end < len). */
static size_t choose_cut(const char *s, size_t len, size_t pos, size_t end)
{
    struct cuts c;
    find_cuts(s, len, pos, end, &c);
    size_t half = pos + (end - pos) / 2;
    size_t line_or_sentence = max2(c.line, c.sentence);
    size_t any = max2(max2(c.para, line_or_sentence), c.space);
    if (c.para > pos && c.para >= half)
        return c.para;
    if (line_or_sentence > pos && line_or_sentence >= half)
        return line_or_sentence;
    if (c.space > pos && c.space >= half)
        return c.space;
    if (any > pos)
        return any;
    for (size_t b = end; b > pos; b = prev_start(s, b)) {
        if (is_cluster_boundary(s, len, pos, b))
            return b;
    }
    return end; /* one cluster longer than the limit: cut it at a code point */
}

/* ---- the splitter ---- */

static size_t skip_space(const char *s, size_t len, size_t i)
{
    uint32_t cp;
    size_t n;
    while (i < len && (n = meta_utf8_decode(s, len, i, &cp)) && is_space(cp))
        i += n;
    return i;
}

static size_t trim_end(const char *s, size_t lo, size_t hi)
{
    while (hi > lo) {
        size_t k = prev_start(s, hi);
        if (!is_space(cp_at(s, hi, k)))
            break;
        hi = k;
    }
    return hi;
}

enum err meta_send_split_text(struct arena *a, enum store_platform p, const char *text,
                              const char ***parts, size_t *n_parts)
{
    *parts = NULL;
    *n_parts = 0;
    size_t len = text ? strnlen(text, META_SPLIT_MAX_BYTES + 1) : 0;
    if (len > META_SPLIT_MAX_BYTES)
        return ERR_TOO_LARGE;
    if (!text || !meta_utf8_count(text, len, NULL) || meta_utf8_is_blank(text, len))
        return ERR_INVALID;
    const char **out = arena_alloc(a, (META_SPLIT_MAX_PARTS + 1) * sizeof *out);
    size_t n = 0;
    if (meta_text_fits(p, text)) {
        out[n++] = arena_strndup(a, text, len);
        *parts = out;
        *n_parts = n;
        return ERR_OK;
    }
    for (size_t pos = skip_space(text, len, 0); pos < len;) {
        if (n == META_SPLIT_MAX_PARTS)
            return ERR_TOO_LARGE;
        size_t last = trim_end(text, pos, len), end = room_end(p, text, len, pos);
        size_t cut = last <= end ? last : choose_cut(text, len, pos, end);
        out[n++] = arena_strndup(a, text + pos, trim_end(text, pos, cut) - pos);
        pos = skip_space(text, len, cut);
    }
    *parts = out;
    *n_parts = n;
    return ERR_OK;
}
