/*
 * meta/send_int.h - UTF-8 helpers shared by the Send API client's own files (send.c,
 * send_split.c); nothing outside meta/ includes it.
 */
#ifndef SB_META_SEND_INT_H
#define SB_META_SEND_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decodes the code point at s[i] (i < len): its length in bytes, or 0 when the bytes there are
 * not well-formed UTF-8 (overlong forms, surrogates, past U+10FFFF, truncated). */
size_t meta_utf8_decode(const char *s, size_t len, size_t i, uint32_t *cp);
/* Whether s[0..len) is well-formed UTF-8; *n_chars (may be NULL) receives its code points. */
bool meta_utf8_count(const char *s, size_t len, size_t *n_chars);
/* Whether s[0..len) (UTF-8) is empty or only whitespace (ASCII and U+3000). */
bool meta_utf8_is_blank(const char *s, size_t len);

#endif
