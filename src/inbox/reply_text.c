/*
 * inbox/reply_text.c - the words of a retrieval-only answer: does the customer ask for a
 * person, and a knowledge-base chunk cut to a few plain sentences.
 *
 * Pure functions over bytes; the caller's arena holds the results. ASCII case folding only:
 * the keywords are English words.
 */
#include "inbox/inbox.h"

#include <string.h>

static const char *const human_words[] = {"human", "agent", "person", "representative"};

static bool is_word_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

static bool word_equals(const char *w, size_t len, const char *kw)
{
    if (strlen(kw) != len)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = w[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != kw[i])
            return false;
    }
    return true;
}

bool inbox_asks_for_human(const char *text)
{
    const unsigned char *p = (const unsigned char *)(text ? text : "");
    while (*p) {
        while (*p && !is_word_byte(*p))
            p++;
        const unsigned char *start = p;
        while (*p && is_word_byte(*p))
            p++;
        for (size_t i = 0; p > start && i < sizeof human_words / sizeof human_words[0]; i++)
            if (word_equals((const char *)start, (size_t)(p - start), human_words[i]))
                return true;
    }
    return false;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* A list bullet at the start of a line: "- ", "* ", "+ " or "#" heading marks. */
static size_t skip_line_marks(const char *p)
{
    size_t i = 0;
    while (p[i] == ' ')
        i++;
    if ((p[i] == '-' || p[i] == '*' || p[i] == '+') && p[i + 1] == ' ')
        return i + 2;
    while (p[i] == '#')
        i++;
    return i;
}

/* Folds whitespace, drops emphasis and line marks. */
static char *plain(struct arena *a, const char *text)
{
    size_t n = strlen(text);
    char *out = arena_alloc(a, n + 1);
    size_t o = 0;
    bool line_start = true;
    for (size_t i = 0; i < n;) {
        if (line_start) {
            i += skip_line_marks(text + i);
            line_start = false;
            continue;
        }
        char c = text[i++];
        if (c == '\n')
            line_start = true;
        if (c == '*' || c == '_' || c == '`')
            continue;
        if (is_space(c)) {
            if (o && out[o - 1] != ' ')
                out[o++] = ' ';
            continue;
        }
        out[o++] = c;
    }
    while (o && out[o - 1] == ' ')
        o--;
    out[o] = '\0';
    return out;
}

/* Where the first max sentences end (a '.', '!' or '?' followed by a space or the end). */
static size_t sentences_end(const char *s, int max)
{
    size_t n = strlen(s);
    int seen = 0;
    for (size_t i = 0; i < n; i++)
        if ((s[i] == '.' || s[i] == '!' || s[i] == '?') && (s[i + 1] == ' ' || !s[i + 1]) &&
            ++seen == max)
            return i + 1;
    return n;
}

/* At most max bytes: back to a space in the latter half, else to a code point start. */
static size_t cut_bytes(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    size_t cut = max;
    while (cut > max / 2 && s[cut] != ' ')
        cut--;
    if (s[cut] == ' ')
        return cut;
    cut = max;
    while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
        cut--;
    return cut;
}

const char *inbox_reply_trim(struct arena *a, const char *text, int max_sentences, size_t max_bytes)
{
    char *s = plain(a, text ? text : "");
    size_t len = sentences_end(s, max_sentences > 0 ? max_sentences : 1);
    len = cut_bytes(s, len, max_bytes);
    while (len && s[len - 1] == ' ')
        len--;
    s[len] = '\0';
    return s;
}
