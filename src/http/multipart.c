/*
 * http/multipart.c - multipart/form-data bodies (RFC 7578 over RFC 2046 section 5.1): the
 * boundary from the Content-Type, each part's Content-Disposition name and filename and its
 * Content-Type, and its bytes (pointers into the body, which is not copied).
 *
 * Caps: HTTP_MULTIPART_MAX_PARTS parts, part headers of at most 4 KiB, a boundary of 1..70
 * characters. Anything malformed is ERR_INVALID; nothing reads outside [body, body+len).
 */
#include "http/http.h"

#include <string.h>
#include <strings.h>

#define HEADERS_MAX  4096
#define BOUNDARY_MAX 70

/* The boundary parameter of a multipart/form-data content type, in the arena. */
static const char *boundary_of(struct arena *a, const char *ct)
{
    if (!ct || strncasecmp(ct, "multipart/form-data", 19) != 0)
        return NULL;
    const char *p = ct + 19;
    while ((p = strchr(p, ';')) != NULL) {
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncasecmp(p, "boundary=", 9) != 0)
            continue;
        p += 9;
        bool quoted = *p == '"';
        p += quoted;
        size_t n = strcspn(p, quoted ? "\"" : "; \t");
        if (n == 0 || n > BOUNDARY_MAX || (quoted && p[n] != '"'))
            return NULL;
        return arena_strndup(a, p, n);
    }
    return NULL;
}

static const char *find(const char *hay, size_t n, const char *needle, size_t m)
{
    if (m == 0 || n < m)
        return NULL;
    const char *last = hay + (n - m);
    for (const char *p = hay; p <= last; p++) {
        p = memchr(p, needle[0], (size_t)(last - p) + 1);
        if (!p)
            return NULL;
        if (memcmp(p, needle, m) == 0)
            return p;
    }
    return NULL;
}

/* A parameter (name="...") of a Content-Disposition value, in the arena; NULL if absent. */
static const char *param_of(struct arena *a, const char *v, size_t n, const char *key)
{
    size_t k = strlen(key);
    for (size_t i = 0; i + k + 2 <= n; i++) {
        bool at_start = i == 0 || v[i - 1] == ';' || v[i - 1] == ' ' || v[i - 1] == '\t';
        if (!at_start || strncasecmp(v + i, key, k) != 0 || v[i + k] != '=')
            continue;
        const char *s = v + i + k + 1;
        size_t left = n - (i + k + 1);
        if (left && *s == '"') {
            const char *end = memchr(s + 1, '"', left - 1);
            return end ? arena_strndup(a, s + 1, (size_t)(end - s - 1)) : NULL;
        }
        size_t len = 0;
        while (len < left && s[len] != ';' && s[len] != ' ')
            len++;
        return arena_strndup(a, s, len);
    }
    return NULL;
}

/* The headers of one part: lines up to the blank one. */
static enum err read_headers(struct arena *a, const char *h, size_t n, struct http_part *part)
{
    const char *end = h + n;
    while (h < end) {
        const char *eol = find(h, (size_t)(end - h), "\r\n", 2);
        size_t len = eol ? (size_t)(eol - h) : (size_t)(end - h);
        const char *colon = memchr(h, ':', len);
        if (!colon)
            return ERR_INVALID;
        size_t name_len = (size_t)(colon - h);
        const char *v = colon + 1;
        size_t vlen = len - name_len - 1;
        while (vlen && (*v == ' ' || *v == '\t'))
            v++, vlen--;
        if (name_len == 19 && strncasecmp(h, "Content-Disposition", 19) == 0) {
            if (vlen < 9 || strncasecmp(v, "form-data", 9) != 0)
                return ERR_INVALID;
            part->name = param_of(a, v, vlen, "name");
            part->filename = param_of(a, v, vlen, "filename");
        } else if (name_len == 12 && strncasecmp(h, "Content-Type", 12) == 0) {
            part->content_type = arena_strndup(a, v, vlen);
        }
        h += len + (eol ? 2 : 0);
    }
    return part->name ? ERR_OK : ERR_INVALID;
}

enum err http_multipart_parse(struct arena *a, const char *content_type, const char *body,
                              size_t len, struct http_part *parts, size_t max, size_t *n)
{
    *n = 0;
    const char *b = boundary_of(a, content_type);
    if (!b || !body)
        return ERR_INVALID;
    const char *delim = arena_printf(a, "\r\n--%s", b);
    size_t dlen = strlen(delim);
    /* The first delimiter may open the body (no CRLF before it) or follow a preamble. */
    const char *p = NULL;
    if (len >= dlen - 2 && memcmp(body, delim + 2, dlen - 2) == 0) {
        p = body + dlen - 2;
    } else {
        p = find(body, len, delim, dlen);
        p = p ? p + dlen : NULL;
    }
    const char *end = body + len;
    while (p) {
        if (end - p >= 2 && p[0] == '-' && p[1] == '-')
            return *n ? ERR_OK : ERR_INVALID; /* the close delimiter */
        if (end - p < 2 || p[0] != '\r' || p[1] != '\n' || *n == max)
            return ERR_INVALID;
        p += 2;
        const char *hend = find(p, (size_t)(end - p), "\r\n\r\n", 4);
        if (!hend || hend - p > HEADERS_MAX)
            return ERR_INVALID;
        struct http_part *part = &parts[*n];
        memset(part, 0, sizeof *part);
        if (read_headers(a, p, (size_t)(hend - p), part) != ERR_OK)
            return ERR_INVALID;
        const char *data = hend + 4;
        const char *next = find(data, (size_t)(end - data), delim, dlen);
        if (!next)
            return ERR_INVALID;
        part->data = data;
        part->len = (size_t)(next - data);
        (*n)++;
        p = next + dlen;
    }
    return ERR_INVALID;
}

const struct http_part *http_multipart_find(const struct http_part *parts, size_t n,
                                            const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (parts[i].name && strcmp(parts[i].name, name) == 0)
            return &parts[i];
    return NULL;
}
