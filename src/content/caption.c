/*
 * content/caption.c - Instagram's caption rules (meta-platform.md section 5.4): at most 2,200
 * characters, 30 hashtags and 20 @ tags, counted the way the emulator and Instagram count
 * them, so a caption we accept is one Meta accepts.
 */
#include "content/content.h"

#include <stdio.h>

static bool word_byte(unsigned char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           ch == '_' || ch >= 0x80;
}

void content_caption_count(const char *caption, struct content_caption_counts *out)
{
    *out = (struct content_caption_counts){0};
    const unsigned char *p = (const unsigned char *)(caption ? caption : "");
    for (size_t i = 0; p[i]; i++) {
        out->chars += (p[i] & 0xC0) != 0x80;
        if (p[i] == '#' && word_byte(p[i + 1]))
            out->hashtags++;
        bool after_word = i > 0 && (word_byte(p[i - 1]) || p[i - 1] == '.');
        if (p[i] == '@' && !after_word && (word_byte(p[i + 1]) || p[i + 1] == '.'))
            out->mentions++;
    }
}

/* Well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF). */
static bool utf8_ok(const unsigned char *p)
{
    while (*p) {
        unsigned c = *p;
        size_t n = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : 9;
        if (n == 9 || (n == 1 && c < 0xC2) || (n == 3 && c > 0xF4))
            return false;
        unsigned cp = n ? c & (0x3F >> n) : c;
        for (size_t k = 1; k <= n; k++) {
            if ((p[k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (p[k] & 0x3F);
        }
        if ((n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
            return false;
        p += n + 1;
    }
    return true;
}

enum err content_caption_check(const char *caption, char why[CONTENT_WHY_MAX])
{
    why[0] = '\0';
    if (!caption)
        return ERR_OK;
    if (!utf8_ok((const unsigned char *)caption)) {
        snprintf(why, CONTENT_WHY_MAX, "the caption is not valid UTF-8 text");
        return ERR_INVALID;
    }
    struct content_caption_counts c;
    content_caption_count(caption, &c);
    if (c.chars > CONTENT_CAPTION_MAX_CHARS)
        snprintf(why, CONTENT_WHY_MAX,
                 "the caption has %zu characters; Instagram allows at most %d", c.chars,
                 CONTENT_CAPTION_MAX_CHARS);
    else if (c.hashtags > CONTENT_HASHTAGS_MAX)
        snprintf(why, CONTENT_WHY_MAX, "the caption has %d hashtags; Instagram allows at most %d",
                 c.hashtags, CONTENT_HASHTAGS_MAX);
    else if (c.mentions > CONTENT_MENTIONS_MAX)
        snprintf(why, CONTENT_WHY_MAX,
                 "the caption mentions %d accounts (@); Instagram allows at most %d", c.mentions,
                 CONTENT_MENTIONS_MAX);
    return why[0] ? ERR_INVALID : ERR_OK;
}
