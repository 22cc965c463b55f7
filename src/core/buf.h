/*
 * core/buf.h - a growable byte buffer with a cap set at creation.
 *
 * Going over the cap returns ERR_TOO_LARGE and leaves the buffer as it was.
 * The buffer is always NUL-terminated (the NUL is not counted in len).
 */
#ifndef SB_CORE_BUF_H
#define SB_CORE_BUF_H

#include <stddef.h>

#include "core/err.h"

struct buf {
    char *data;
    size_t len, alloc, cap;
};

void buf_init(struct buf *b, size_t cap);
void buf_release(struct buf *b);
void buf_reset(struct buf *b);
MUST_USE enum err buf_append(struct buf *b, const void *p, size_t n);
/* Makes room for n more bytes at once (a known Content-Length), within the cap. */
MUST_USE enum err buf_reserve(struct buf *b, size_t n);
MUST_USE enum err buf_puts(struct buf *b, const char *s);
MUST_USE enum err buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends s as the inside of a JSON string (quotes not included), escaping as RFC 8259 says. */
MUST_USE enum err buf_json_escape(struct buf *b, const char *s, size_t n);
/* Appends s with & < > " ' written as HTML entities (text and attribute values alike). */
MUST_USE enum err buf_html_escape(struct buf *b, const char *s);
/* Hands the bytes to the caller (free with free()); the buffer is empty afterwards. */
char *buf_detach(struct buf *b, size_t *len);

#endif
