/*
 * kb/inline.c - inline Markdown -> plain text, one line at a time.
 *
 * Owns: emphasis and strikethrough delimiters, code spans, links and images (the text stays;
 * an absolute link target follows it in parentheses), autolinks, HTML tags and comments,
 * backslash escapes and the common entities.
 * Cost: linear in the line. Closers are found through struct md_find, which remembers its
 * last answer, and every scan is bounded by a window, so a hostile line of a million '[' or
 * '`' costs what a line of letters does.
 * The output stays valid UTF-8: only ASCII bytes are ever dropped or inserted, and entities
 * are encoded whole.
 */
#include "kb/kb_int.h"

#include <string.h>
#include <strings.h>

#define INLINE_WINDOW 2048 /* a link's text, a code span or an autolink closes within this */
#define DEST_WINDOW   512  /* a link's (destination "title") */
#define TAG_WINDOW    512  /* an HTML tag */

struct link {
    const char *close;  /* the ']' that ends the text */
    const char *resume; /* where to go on after it */
    const char *url;    /* NULL: nothing to show */
    size_t url_len;
    size_t mark; /* output length when the text began */
};

struct line {
    struct md_inline *st;
    const char *start, *end;
    size_t mark; /* output length at the start of the line */
    struct link link;
    bool in_link;
};

static bool is_ws(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_punct(char c)
{
    return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') ||
           (c >= '{' && c <= '~');
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

enum err md_put(struct buf *b, size_t mark, char c)
{
    if (c == ' ' || c == '\t' || ((unsigned char)c < 0x20) || c == 0x7f) {
        if (b->len == mark || b->data[b->len - 1] == ' ')
            return ERR_OK;
        c = ' ';
    }
    return buf_append(b, &c, 1);
}

static enum err put_n(struct line *l, const char *s, size_t n)
{
    enum err rc = ERR_OK;
    for (size_t i = 0; i < n && rc == ERR_OK; i++)
        rc = md_put(l->st->out, l->mark, s[i]);
    return rc;
}

/* The first c in [from, end) within INLINE_WINDOW, remembering the answer. */
static const char *find(struct md_find *f, const char *from, const char *end, char c)
{
    bool cached = f->from && from >= f->from && (!f->hit || from <= f->hit);
    if (!cached) {
        f->from = from;
        f->hit = memchr(from, c, (size_t)(end - from));
    }
    if (!f->hit || f->hit - from > INLINE_WINDOW)
        return NULL;
    return f->hit;
}

/* ---- code spans and delimiter runs ---- */

static const char *code_span(struct line *l, const char *p, enum err *rc)
{
    const char *q = p;
    while (q < l->end && *q == '`')
        q++;
    size_t k = (size_t)(q - p);
    const char *c = find(&l->st->find_tick, q, l->end, '`');
    if (!c)
        return q; /* an unmatched run is dropped */
    const char *ce = c;
    while (ce < l->end && *ce == '`')
        ce++;
    if ((size_t)(ce - c) != k)
        return q;
    *rc = put_n(l, q, (size_t)(c - q));
    return ce;
}

/* Emphasis (* _) and strikethrough (~~) delimiters go when they flank a word, as in
 * CommonMark; "5 * 3" and snake_case stay as they are. */
static const char *delimiters(struct line *l, const char *p, enum err *rc)
{
    char d = *p;
    const char *q = p;
    while (q < l->end && *q == d)
        q++;
    char prev = ' ', next = ' ';
    if (p > l->start)
        prev = p[-1];
    if (q < l->end)
        next = *q;
    bool left = !is_ws(next) && (!is_punct(next) || is_ws(prev) || is_punct(prev));
    bool right = !is_ws(prev) && (!is_punct(prev) || is_ws(next) || is_punct(next));
    bool drop;
    if (d == '*')
        drop = left || right;
    else if (d == '_')
        drop = (left && (!right || is_punct(prev))) || (right && (!left || is_punct(next)));
    else
        drop = q - p >= 2 && (left || right);
    if (!drop)
        *rc = put_n(l, p, (size_t)(q - p));
    return q;
}

/* ---- links ---- */

/* "<url>" or url (balanced parentheses allowed) from q; returns the byte after it, or NULL. */
static const char *dest_url(const char *q, const char *lim, const char **url, size_t *url_len)
{
    *url = q;
    if (q < lim && *q == '<') {
        const char *gt = memchr(q, '>', (size_t)(lim - q));
        if (!gt)
            return NULL;
        *url = q + 1;
        *url_len = (size_t)(gt - q - 1);
        return gt + 1;
    }
    int depth = 0;
    while (q < lim && !is_ws(*q) && (*q != ')' || depth > 0)) {
        depth += *q == '(' ? 1 : *q == ')' ? -1 : 0;
        q++;
    }
    *url_len = (size_t)(q - *url);
    return q;
}

static const char *skip_blanks(const char *q, const char *lim)
{
    while (q < lim && is_ws(*q))
        q++;
    return q;
}

/* The destination of a link: p at '('. Fills url and returns the byte after ')', or NULL. */
static const char *dest(struct line *l, const char *p, const char **url, size_t *url_len)
{
    const char *lim = l->end - p > DEST_WINDOW ? p + DEST_WINDOW : l->end;
    if (!find(&l->st->find_close_paren, p, l->end, ')'))
        return NULL;
    const char *q = dest_url(skip_blanks(p + 1, lim), lim, url, url_len);
    if (!q)
        return NULL;
    q = skip_blanks(q, lim);
    if (q < lim && (*q == '"' || *q == '\'')) { /* a title */
        const char *t = memchr(q + 1, *q, (size_t)(lim - q - 1));
        if (!t)
            return NULL;
        q = skip_blanks(t + 1, lim);
    }
    return q < lim && *q == ')' ? q + 1 : NULL;
}

static bool shown_url(const char *u, size_t n)
{
    return (n > 7 && strncasecmp(u, "http://", 7) == 0) ||
           (n > 8 && strncasecmp(u, "https://", 8) == 0) ||
           (n > 7 && strncasecmp(u, "mailto:", 7) == 0);
}

/* p at '[' or "![": starts a link whose text is then processed as usual, or returns NULL
 * when this is not one (the bracket is then ordinary text). */
static const char *open_link(struct line *l, const char *p)
{
    bool image = *p == '!';
    const char *open = p + image;
    const char *close = find(&l->st->find_close_bracket, open + 1, l->end, ']');
    if (!close || l->in_link)
        return NULL;
    const char *after = close + 1, *url = NULL, *resume = NULL;
    size_t url_len = 0;
    if (after < l->end && *after == '(') {
        resume = dest(l, after, &url, &url_len);
    } else if (after < l->end && *after == '[') { /* [text][ref] */
        const char *rc = memchr(after + 1, ']', (size_t)(l->end - after - 1));
        resume = rc && rc - after < INLINE_WINDOW ? rc + 1 : NULL;
    }
    if (!resume)
        return NULL;
    l->link = (struct link){.close = close,
                            .resume = resume,
                            .url = !image && shown_url(url, url_len) ? url : NULL,
                            .url_len = url_len,
                            .mark = l->st->out->len};
    l->in_link = true;
    return open + 1;
}

static enum err close_link(struct line *l)
{
    struct buf *b = l->st->out;
    const struct link *k = &l->link;
    l->in_link = false;
    if (!k->url)
        return ERR_OK;
    const char *u = k->url;
    size_t n = k->url_len;
    if (strncasecmp(u, "mailto:", 7) == 0) {
        u += 7;
        n -= 7;
    }
    size_t text_len = b->len - k->mark;
    if (text_len == n && memcmp(b->data + k->mark, u, n) == 0)
        return ERR_OK; /* [https://x](https://x) */
    enum err rc = text_len ? put_n(l, " (", 2) : ERR_OK;
    if (rc == ERR_OK)
        rc = put_n(l, u, n);
    if (rc == ERR_OK && text_len)
        rc = put_n(l, ")", 1);
    return rc;
}

/* ---- HTML, autolinks, entities, escapes ---- */

static const char *angle(struct line *l, const char *p, enum err *rc)
{
    size_t left = (size_t)(l->end - p);
    if (left >= 4 && memcmp(p, "<!--", 4) == 0) {
        const char *c = memmem(p + 4, left - 4, "-->", 3);
        if (!c)
            l->st->in_comment = true;
        return c ? c + 3 : l->end;
    }
    const char *gt = find(&l->st->find_gt, p + 1, l->end, '>');
    if (gt &&
        (shown_url(p + 1, (size_t)(gt - p - 1)) || memchr(p + 1, '@', (size_t)(gt - p - 1)))) {
        bool plain = !memchr(p + 1, ' ', (size_t)(gt - p - 1));
        if (plain) { /* an autolink */
            const char *u = p + 1;
            if (strncasecmp(u, "mailto:", 7) == 0)
                u += 7;
            *rc = put_n(l, u, (size_t)(gt - u));
            return gt + 1;
        }
    }
    char c1 = ' ';
    if (left > 1)
        c1 = p[1];
    bool tag = is_alpha(c1) || c1 == '!' || c1 == '?' || (c1 == '/' && left > 2 && is_alpha(p[2]));
    if (gt && tag && gt - p <= TAG_WINDOW) {
        *rc = md_put(l->st->out, l->mark, ' ');
        return gt + 1;
    }
    *rc = md_put(l->st->out, l->mark, '<');
    return p + 1;
}

static size_t utf8_encode(unsigned long cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

static int digit(char c, bool hex)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (hex && c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (hex && c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* A numeric entity body ("#233", "#xE9") as a code point; 0 when not one we decode. */
static unsigned long numeric_entity(const char *s, size_t n)
{
    if (n < 2 || s[0] != '#')
        return 0;
    bool hex = s[1] == 'x' || s[1] == 'X';
    size_t i = hex ? 2 : 1;
    if (i >= n || n - i > 7)
        return 0;
    unsigned long cp = 0;
    for (; i < n; i++) {
        int d = digit(s[i], hex);
        if (d < 0)
            return 0;
        cp = cp * (hex ? 16 : 10) + (unsigned long)d;
    }
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return cp;
}

static const char *entity(struct line *l, const char *p, enum err *rc)
{
    static const struct {
        const char *name, *text;
    } named[] = {{"amp", "&"},  {"lt", "<"},   {"gt", ">"}, {"quot", "\""},
                 {"apos", "'"}, {"nbsp", " "}, {"#39", "'"}};
    size_t left = (size_t)(l->end - p);
    const char *semi = memchr(p + 1, ';', left - 1 < 10 ? left - 1 : 10);
    if (semi) {
        const char *body = p + 1;
        size_t n = (size_t)(semi - body);
        for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
            if (strlen(named[i].name) == n && memcmp(body, named[i].name, n) == 0) {
                *rc = put_n(l, named[i].text, strlen(named[i].text));
                return semi + 1;
            }
        unsigned long cp = numeric_entity(body, n);
        if (cp) {
            char u[4];
            *rc = cp < 0x20 ? md_put(l->st->out, l->mark, ' ') : put_n(l, u, utf8_encode(cp, u));
            return semi + 1;
        }
    }
    *rc = md_put(l->st->out, l->mark, '&');
    return p + 1;
}

/* ---- the line ---- */

static const char *step(struct line *l, const char *p, enum err *rc)
{
    switch (*p) {
    case '\\':
        if (p + 1 < l->end && is_punct(p[1])) {
            *rc = md_put(l->st->out, l->mark, p[1]);
            return p + 2;
        }
        *rc = p + 1 < l->end ? md_put(l->st->out, l->mark, '\\') : ERR_OK;
        return p + 1;
    case '`':
        return code_span(l, p, rc);
    case '*':
    case '_':
    case '~':
        return delimiters(l, p, rc);
    case '<':
        return angle(l, p, rc);
    case '&':
        return entity(l, p, rc);
    case '!':
    case '[': {
        const char *q = *p == '[' || (p + 1 < l->end && p[1] == '[') ? open_link(l, p) : NULL;
        if (q)
            return q;
        break;
    }
    default:
        break;
    }
    *rc = md_put(l->st->out, l->mark, *p);
    return p + 1;
}

enum err md_inline_line(struct md_inline *st, const char *s, size_t n)
{
    struct line l = {.st = st, .start = s, .end = s + n, .mark = st->out->len};
    st->end = s + n;
    st->find_close_bracket = st->find_close_paren = st->find_gt = st->find_tick =
        (struct md_find){0};
    const char *p = s;
    enum err rc = ERR_OK;
    while (p < l.end && rc == ERR_OK) {
        if (st->in_comment) {
            const char *c = memmem(p, (size_t)(l.end - p), "-->", 3);
            st->in_comment = c == NULL;
            p = c ? c + 3 : l.end;
        } else if (l.in_link && p >= l.link.close) {
            if (p == l.link.close)
                p = l.link.resume;
            else /* a code span or tag in the text ran past the ']': not a link after all */
                l.link.url = NULL;
            rc = close_link(&l);
        } else {
            p = step(&l, p, &rc);
        }
    }
    struct buf *b = st->out;
    while (b->len > l.mark && b->data[b->len - 1] == ' ')
        b->len--;
    if (b->data)
        b->data[b->len] = '\0';
    return rc;
}
