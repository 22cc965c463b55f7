/*
 * agent/text.c - the words and sentences the signals and guardrails read.
 *
 * Owns: folding (lower case; Latin accents removed: é -> e, ß -> ss, œ -> oe; so "AYUDA" and
 * "ayúda" are one word), word splitting (punctuation separates; an apostrophe separates too,
 * except in English "n't", so "l'agent" is "l agent" and "don't" is "dont"; each emoji is a
 * word of its own; joiners, variation selectors and skin tones vanish) and sentence splitting.
 * Pure functions over UTF-8; malformed bytes are read as U+FFFD and never split.
 */
#include "agent/agent_int.h"

#include <string.h>

#include "core/buf.h"

/* U+00C0..U+00FF lower-cased without accents; ' ' separates; A, T and S stand for ae, th, ss. */
static const char latin1[] = "aaaaaaAceeeeiiiidnooooo ouuuuyTSaaaaaaAceeeeiiiidnooooo ouuuuyTy";
/* U+0100..U+017F the same way; I and O stand for ij and oe. */
static const char latin_ext_a[] = "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiiiIIjjkkk"
                                  "llllllllllnnnnnnnnnooooooOOrrrrrrssssssssttttttuuuuuuuuuuuu"
                                  "wwyyyzzzzzzs";

_Static_assert(sizeof latin1 == 65, "64 code points");
_Static_assert(sizeof latin_ext_a == 129, "128 code points");

size_t agent_utf8_next(const char *s, size_t n, uint32_t *cp)
{
    const unsigned char *p = (const unsigned char *)s;
    if (n == 0) {
        *cp = 0;
        return 0;
    }
    size_t len = p[0] < 0x80             ? 1
                 : (p[0] & 0xE0) == 0xC0 ? 2
                 : (p[0] & 0xF0) == 0xE0 ? 3
                 : (p[0] & 0xF8) == 0xF0 ? 4
                                         : 0;
    if (len == 0 || len > n) {
        *cp = 0xFFFD;
        return 1;
    }
    uint32_t v = len == 1 ? p[0] : p[0] & (0x7F >> len);
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80) {
            *cp = 0xFFFD;
            return 1;
        }
        v = (v << 6) | (p[i] & 0x3F);
    }
    static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (v < min[len] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
        *cp = 0xFFFD;
        return 1;
    }
    *cp = v;
    return len;
}

bool agent_is_emoji(uint32_t cp)
{
    return (cp >= 0x1F000 && cp <= 0x1FAFF && !(cp >= 0x1F3FB && cp <= 0x1F3FF)) ||
           (cp >= 0x2600 && cp <= 0x27BF) || cp == 0x2B50 || cp == 0x2B55;
}

static bool is_ignorable(uint32_t cp)
{
    return cp == 0xFE0F || cp == 0xFE0E || (cp >= 0x200B && cp <= 0x200D) || cp == 0x20E3 ||
           (cp >= 0x1F3FB && cp <= 0x1F3FF) || (cp >= 0x0300 && cp <= 0x036F) || cp == 0xAD;
}

static bool is_apostrophe(uint32_t cp)
{
    return cp == '\'' || cp == 0x2019 || cp == 0x2018 || cp == 0x02BC;
}

static bool is_separator(uint32_t cp)
{
    if (cp < 0x80)
        return !((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9'));
    return (cp >= 0xA0 && cp <= 0xBF) || cp == 0xD7 || cp == 0xF7 ||
           (cp >= 0x2000 && cp <= 0x206F) || (cp >= 0x3000 && cp <= 0x303F) ||
           (cp >= 0xFF01 && cp <= 0xFF0F) || (cp >= 0xFF1A && cp <= 0xFF20) || cp == 0xFFFD;
}

/* The folded spelling of a letter into out; its length (0: keep the original bytes). */
static size_t fold_letter(uint32_t cp, char out[3])
{
    char c = 0;
    if (cp >= 'A' && cp <= 'Z')
        c = (char)(cp + 32);
    else if (cp < 0x80)
        c = (char)cp;
    else if (cp >= 0xC0 && cp <= 0xFF)
        c = latin1[cp - 0xC0];
    else if (cp >= 0x100 && cp <= 0x17F)
        c = latin_ext_a[cp - 0x100];
    static const struct {
        char code;
        const char *as;
    } pairs[] = {{'A', "ae"}, {'T', "th"}, {'S', "ss"}, {'I', "ij"}, {'O', "oe"}};
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
        if (c == pairs[i].code) {
            memcpy(out, pairs[i].as, 2);
            return 2;
        }
    if (!c)
        return 0;
    out[0] = c;
    return 1;
}

/* English "n't": the apostrophe at s[i] joins when an n comes before it and a lone t after. */
static bool joins_nt(const struct buf *b, const char *s, size_t n, size_t next)
{
    if (b->len == 0 || b->data[b->len - 1] != 'n' || next >= n || (s[next] | 32) != 't')
        return false;
    uint32_t cp;
    size_t k = agent_utf8_next(s + next + 1, n - next - 1, &cp);
    return k == 0 || is_separator(cp) || is_apostrophe(cp);
}

static void put_space(struct buf *b)
{
    if (b->len && b->data[b->len - 1] != ' ')
        err_ignore(buf_append(b, " ", 1));
}

/* One code point of s[i..) into b; returns its length. */
static size_t fold_one(struct buf *b, const char *s, size_t n, size_t i)
{
    uint32_t cp;
    size_t k = agent_utf8_next(s + i, n - i, &cp);
    char f[3];
    size_t fl;
    if (is_ignorable(cp))
        return k;
    if (is_apostrophe(cp)) {
        if (!joins_nt(b, s, n, i + k))
            put_space(b);
    } else if (agent_is_emoji(cp)) {
        put_space(b);
        err_ignore(buf_append(b, s + i, k));
        put_space(b);
    } else if (is_separator(cp)) {
        put_space(b);
    } else if ((fl = fold_letter(cp, f)) != 0) {
        if (f[0] == ' ')
            put_space(b);
        else
            err_ignore(buf_append(b, f, fl));
    } else {
        err_ignore(buf_append(b, s + i, k)); /* other scripts: as written */
    }
    return k;
}

static char *fold(struct arena *a, const char *text)
{
    size_t n = text ? strnlen(text, AGENT_TEXT_MAX) : 0;
    struct buf b;
    buf_init(&b, 3 * AGENT_TEXT_MAX + 8);
    for (size_t i = 0; i < n;)
        i += fold_one(&b, text, n, i);
    while (b.len && b.data[b.len - 1] == ' ')
        b.len--;
    char *out = arena_strndup(a, b.data ? b.data : "", b.len);
    buf_release(&b);
    return out;
}

const char *agent_fold(struct arena *a, const char *text)
{
    return fold(a, text);
}

size_t agent_words(struct arena *a, const char *text, const char **words, size_t max)
{
    char *f = fold(a, text);
    size_t n = 0;
    for (char *p = f; *p && n < max;) {
        char *sp = strchr(p, ' ');
        if (sp)
            *sp = '\0';
        if (*p && strlen(p) <= AGENT_WORD_MAX)
            words[n++] = p;
        if (!sp)
            break;
        p = sp + 1;
    }
    return n;
}

/* ---- sentences ---- */

static bool is_end_mark(uint32_t cp)
{
    return cp == '.' || cp == '!' || cp == '?' || cp == 0x2026 || cp == 0x3002 || cp == 0xFF01 ||
           cp == 0xFF1F;
}

static bool is_closer(uint32_t cp)
{
    return cp == '"' || cp == '\'' || cp == ')' || cp == ']' || cp == 0x201D || cp == 0x2019 ||
           cp == 0xBB;
}

static bool is_space_byte(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Whether the '.' at s[i] ends an abbreviation or an initial ("e.g.", "Mr.", "J."). */
static bool is_abbreviation(const char *s, size_t i)
{
    static const char *const abbr[] = {"e.g",    "i.e", "mr",  "mrs", "ms",  "dr",  "st", "vs",
                                       "approx", "no",  "nr",  "sr",  "sra", "jr",  "ca", "cf",
                                       "p.ej",   "z.b", "bzw", "ggf", "usw", "ecc", "ex"};
    size_t start = i;
    while (start > 0 && !is_space_byte(s[start - 1]) && s[start - 1] != '(')
        start--;
    size_t len = i - start;
    if (len == 1 && s[start] >= 'A' && s[start] <= 'Z')
        return true; /* an initial */
    for (size_t k = 0; k < sizeof abbr / sizeof abbr[0]; k++) {
        if (strlen(abbr[k]) != len)
            continue;
        size_t j = 0;
        while (j < len && (s[start + j] | 32) == abbr[k][j])
            j++;
        if (j == len)
            return true;
    }
    return false;
}

/* Where the sentence that starts at s[from] ends (exclusive), within n. */
static size_t sentence_end(const char *s, size_t n, size_t from)
{
    size_t i = from;
    while (i < n) {
        if (s[i] == '\n')
            return i;
        uint32_t cp;
        size_t k = agent_utf8_next(s + i, n - i, &cp);
        if (!is_end_mark(cp) || (cp == '.' && is_abbreviation(s, i))) {
            i += k;
            continue;
        }
        bool cjk = cp >= 0x3000; /* 。！？ need no space after them */
        size_t j = i + k;
        while (j < n) { /* "?!", "...", closing quotes and brackets belong to it */
            size_t m = agent_utf8_next(s + j, n - j, &cp);
            if (!is_end_mark(cp) && !is_closer(cp))
                break;
            j += m;
        }
        if (j >= n || is_space_byte(s[j]) || cjk)
            return j;
        i = j;
    }
    return n;
}

size_t agent_sentences(const char *s, struct agent_span *out, size_t max)
{
    size_t n = strlen(s), count = 0, i = 0;
    while (i < n && count < max) {
        while (i < n && is_space_byte(s[i]))
            i++;
        if (i >= n)
            break;
        size_t end = sentence_end(s, n, i), e = end;
        while (e > i && is_space_byte(s[e - 1]))
            e--;
        if (e > i)
            out[count++] = (struct agent_span){i, e - i};
        i = end;
    }
    return count;
}
