/*
 * core/buf.c - capped growable buffer.
 */
#include "core/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

void buf_init(struct buf *b, size_t cap)
{
    b->data = NULL;
    b->len = b->alloc = 0;
    b->cap = cap;
}

void buf_release(struct buf *b)
{
    free(b->data);
    buf_init(b, b->cap);
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

static enum err reserve(struct buf *b, size_t n)
{
    if (n > b->cap || b->len > b->cap - n)
        return ERR_TOO_LARGE;
    size_t need = b->len + n + 1;
    if (need <= b->alloc)
        return ERR_OK;
    size_t alloc = b->alloc ? b->alloc : 256;
    while (alloc < need)
        alloc *= 2;
    if (alloc > b->cap + 1 && need <= b->cap + 1)
        alloc = b->cap + 1;
    b->data = xrealloc(b->data, alloc);
    b->alloc = alloc;
    return ERR_OK;
}

enum err buf_reserve(struct buf *b, size_t n)
{
    return reserve(b, n);
}

enum err buf_append(struct buf *b, const void *p, size_t n)
{
    enum err rc = reserve(b, n);
    if (rc != ERR_OK)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return ERR_OK;
}

enum err buf_puts(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

enum err buf_printf(struct buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return ERR_INVALID;
    if ((size_t)n < sizeof small)
        return buf_append(b, small, (size_t)n);
    enum err rc = reserve(b, (size_t)n);
    if (rc != ERR_OK)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return ERR_OK;
}

enum err buf_json_escape(struct buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t run = 0; /* bytes copied verbatim in one go */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        enum err rc = buf_append(b, s + run, i - run);
        if (rc != ERR_OK)
            return rc;
        char esc[7] = {'\\', 0};
        size_t elen = 2;
        switch (c) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            elen = 6;
        }
        rc = buf_append(b, esc, elen);
        if (rc != ERR_OK)
            return rc;
        run = i + 1;
    }
    return buf_append(b, s + run, n - run);
}

char *buf_detach(struct buf *b, size_t *len)
{
    char *p = b->data ? b->data : xstrdup("");
    if (len)
        *len = b->len;
    buf_init(b, b->cap);
    return p;
}

enum err buf_html_escape(struct buf *b, const char *s)
{
    enum err rc = ERR_OK;
    for (; s && *s && rc == ERR_OK; s++) {
        const char *rep = *s == '&'    ? "&amp;"
                          : *s == '<'  ? "&lt;"
                          : *s == '>'  ? "&gt;"
                          : *s == '"'  ? "&quot;"
                          : *s == '\'' ? "&#39;"
                                       : NULL;
        rc = rep ? buf_puts(b, rep) : buf_append(b, s, 1);
    }
    return rc;
}
