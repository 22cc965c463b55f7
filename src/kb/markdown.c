/*
 * kb/markdown.c - Markdown (or plain text) -> sections: heading path + plain body text.
 *
 * Owns: the block level, one line at a time with one line of lookahead (for setext
 * headings): ATX and setext headings, code fences (kept verbatim), block quotes, list items,
 * tables, thematic breaks, reference definitions, paragraphs. Paragraph lines are joined with
 * a space, list items and table rows and code lines go on their own line, blocks are split by
 * a blank line. Inline syntax is inline.c's.
 * Does not own: sizes and merging (chunk.c).
 */
#include "kb/kb_int.h"

#include <string.h>

#define HEADING_PART_MAX 160 /* bytes of one heading's text */

enum sep { SEP_NONE, SEP_SPACE, SEP_LINE, SEP_PARA };

struct parser {
    struct arena *a;
    enum kb_format fmt;
    const char *heads[KB_MAX_DEPTH];
    const char *title;
    struct buf body, scratch;
    enum sep sep;  /* owed before the next text of this section */
    bool in_para;  /* the previous line was text a continuation line joins */
    bool in_fence; /* inside ``` or ~~~ */
    char fence_ch;
    size_t fence_len;
    struct md_inline il;
    struct md_result res;
    struct md_section **tail;
};

/* ---- classifying a line ---- */

static bool blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t')
            return false;
    return true;
}

static size_t skip_ws(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    return i;
}

static size_t run_of(const char *s, size_t n, char c)
{
    size_t i = 0;
    while (i < n && s[i] == c)
        i++;
    return i;
}

/* ``` or ~~~ (3 or more); a backtick fence's info string has no backtick. */
static bool fence(const char *s, size_t n, char *ch, size_t *len)
{
    if (n < 3 || (s[0] != '`' && s[0] != '~'))
        return false;
    size_t k = run_of(s, n, s[0]);
    if (k < 3 || (s[0] == '`' && memchr(s + k, '`', n - k)))
        return false;
    *ch = s[0];
    *len = k;
    return true;
}

/* "## Text ##" -> level 2, "Text". */
static int atx(const char *s, size_t n, const char **text, size_t *len)
{
    size_t k = run_of(s, n, '#');
    if (k == 0 || k > KB_MAX_DEPTH || (k < n && s[k] != ' ' && s[k] != '\t'))
        return 0;
    const char *t = s + k;
    size_t m = n - k;
    while (m && (t[m - 1] == ' ' || t[m - 1] == '\t'))
        m--;
    size_t closing = 0;
    while (closing < m && t[m - 1 - closing] == '#')
        closing++;
    if (closing == m || t[m - 1 - closing] == ' ' || t[m - 1 - closing] == '\t')
        m -= closing;
    *text = t;
    *len = m;
    return (int)k;
}

/* A setext underline: "===" -> 1, "---" -> 2 (two or more, trailing blanks allowed). */
static int underline(const char *s, size_t n)
{
    size_t i = skip_ws(s, n);
    if (i > 3 || i >= n || (s[i] != '=' && s[i] != '-'))
        return 0;
    size_t k = run_of(s + i, n - i, s[i]);
    if (k < 2 || !blank(s + i + k, n - i - k))
        return 0;
    return s[i] == '=' ? 1 : 2;
}

static bool thematic(const char *s, size_t n)
{
    if (n == 0 || (s[0] != '*' && s[0] != '-' && s[0] != '_'))
        return false;
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == s[0])
            count++;
        else if (s[i] != ' ' && s[i] != '\t')
            return false;
    }
    return count >= 3;
}

/* "- ", "* ", "+ ", "1. ", "1) " (and "• " in text): the marker's length, or 0. */
static size_t list_marker(const char *s, size_t n)
{
    size_t k = 0;
    if (n >= 1 && (s[0] == '-' || s[0] == '*' || s[0] == '+'))
        k = 1;
    else if (n >= 3 && memcmp(s, "\xe2\x80\xa2", 3) == 0)
        k = 3;
    else {
        while (k < n && k < 9 && s[k] >= '0' && s[k] <= '9')
            k++;
        if (k == 0 || k >= n || (s[k] != '.' && s[k] != ')'))
            return 0;
        k++;
    }
    if (k < n && s[k] != ' ' && s[k] != '\t')
        return 0;
    k += skip_ws(s + k, n - k);
    if (n - k >= 4 && s[k] == '[' && s[k + 2] == ']' && s[k + 3] == ' ' &&
        (s[k + 1] == ' ' || s[k + 1] == 'x' || s[k + 1] == 'X'))
        k += 4; /* a task list's box */
    return k;
}

static bool ref_definition(const char *s, size_t n)
{
    if (n < 4 || s[0] != '[' || s[1] == '^')
        return false;
    const char *c = memchr(s, ']', n);
    return c && (size_t)(c - s) + 1 < n && c[1] == ':';
}

static bool table_delimiter(const char *s, size_t n)
{
    bool pipe = false, dash = false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '|')
            pipe = true;
        else if (s[i] == '-')
            dash = true;
        else if (s[i] != ':' && s[i] != ' ' && s[i] != '\t')
            return false;
    }
    return pipe && dash;
}

/* ---- writing the body ---- */

static enum err put_sep(struct parser *p)
{
    static const char *const text[] = {"", " ", "\n", "\n\n"};
    if (p->body.len == 0 || p->sep == SEP_NONE)
        return ERR_OK;
    return buf_puts(&p->body, text[p->sep]);
}

/* Appends one line of text after the separator owed (at least sep). raw: no inline syntax. */
static enum err emit(struct parser *p, enum sep sep, const char *s, size_t n, bool raw)
{
    if (sep > p->sep)
        p->sep = sep;
    size_t before = p->body.len;
    enum err rc = put_sep(p);
    size_t mark = p->body.len;
    for (size_t i = 0; raw && i < n && rc == ERR_OK; i++)
        rc = md_put(&p->body, mark, s[i]);
    while (raw && p->body.len > mark && p->body.data[p->body.len - 1] == ' ')
        p->body.len--;
    if (!raw && rc == ERR_OK) {
        p->il.out = &p->body;
        rc = md_inline_line(&p->il, s, n);
    }
    if (p->body.len == mark) { /* nothing visible: the separator stays owed */
        p->body.len = before;
    } else {
        p->sep = SEP_NONE;
    }
    if (p->body.data)
        p->body.data[p->body.len] = '\0';
    return rc;
}

static enum err flush(struct parser *p)
{
    if (p->body.len == 0)
        return ERR_OK;
    struct md_section *sec = arena_alloc(p->a, sizeof *sec);
    for (int i = 0; i < KB_MAX_DEPTH; i++)
        if (p->heads[i] && *p->heads[i])
            sec->comps[sec->n_comps++] = p->heads[i];
    sec->body = arena_strndup(p->a, p->body.data, p->body.len);
    sec->len = p->body.len;
    *p->tail = sec;
    p->tail = &sec->next;
    p->res.n++;
    buf_reset(&p->body);
    return ERR_OK;
}

static enum err heading(struct parser *p, int level, const char *s, size_t n)
{
    enum err rc = flush(p);
    buf_reset(&p->scratch);
    p->il.out = &p->scratch;
    if (rc == ERR_OK)
        rc = md_inline_line(&p->il, s, n);
    if (rc != ERR_OK)
        return rc;
    size_t len = p->scratch.len;
    if (len > HEADING_PART_MAX) {
        len = HEADING_PART_MAX;
        while (len && ((unsigned char)p->scratch.data[len] & 0xc0) == 0x80)
            len--; /* never cut a character in two */
        while (len && p->scratch.data[len - 1] == ' ')
            len--;
    }
    const char *text = arena_strndup(p->a, p->scratch.data ? p->scratch.data : "", len);
    p->heads[level - 1] = text;
    for (int i = level; i < KB_MAX_DEPTH; i++)
        p->heads[i] = NULL;
    if (level == 1 && !p->title && *text)
        p->title = text;
    p->sep = SEP_NONE;
    p->in_para = false;
    return ERR_OK;
}

/* "| a | b |" -> "a | b" on a line of its own. */
static enum err table_row(struct parser *p, const char *s, size_t n)
{
    buf_reset(&p->scratch);
    p->il.out = &p->scratch;
    enum err rc = ERR_OK;
    size_t i = s[0] == '|' ? 1 : 0;
    while (i < n && rc == ERR_OK) {
        size_t j = i;
        while (j < n && (s[j] != '|' || (j > i && s[j - 1] == '\\')))
            j++;
        if (!blank(s + i, j - i)) {
            if (p->scratch.len)
                rc = buf_puts(&p->scratch, " | ");
            if (rc == ERR_OK)
                rc = md_inline_line(&p->il, s + i, j - i);
        }
        i = j + 1;
    }
    p->in_para = false;
    if (rc != ERR_OK || p->scratch.len == 0)
        return rc;
    return emit(p, SEP_LINE, p->scratch.data, p->scratch.len, true);
}

/* ---- one line ---- */

static enum err text_line(struct parser *p, const char *s, size_t n)
{
    size_t k = list_marker(s, n);
    enum err rc = k ? emit(p, SEP_LINE, s + k, n - k, true)
                    : emit(p, p->in_para ? SEP_SPACE : SEP_NONE, s, n, true);
    p->in_para = true;
    return rc;
}

static enum err fenced_line(struct parser *p, const char *s, size_t n)
{
    size_t i = skip_ws(s, n);
    size_t k = run_of(s + i, n - i, p->fence_ch);
    if (i <= 3 && k >= p->fence_len && blank(s + i + k, n - i - k)) {
        p->in_fence = false;
        p->sep = p->sep > SEP_PARA ? p->sep : SEP_PARA;
        return ERR_OK;
    }
    return emit(p, SEP_LINE, s, n, true);
}

/* A Markdown line that is not blank, a fence or inside one. *skip_next: it used next. */
static enum err block_line(struct parser *p, const char *s, size_t n, const char *next,
                           size_t next_n, bool *skip_next)
{
    const char *t;
    size_t tn, k;
    int level = atx(s, n, &t, &tn);
    if (level)
        return heading(p, level, t, tn);
    if (!p->in_para && next && (level = underline(next, next_n)) != 0 && !list_marker(s, n) &&
        s[0] != '|') {
        *skip_next = true;
        return heading(p, level, s, n);
    }
    if (table_delimiter(s, n) && !thematic(s, n))
        return ERR_OK; /* |---|---| under a table's head row */
    if (thematic(s, n) || ref_definition(s, n)) {
        p->in_para = false;
        p->sep = p->sep > SEP_PARA ? p->sep : SEP_PARA;
        return ERR_OK;
    }
    if (s[0] == '|')
        return table_row(p, s, n);
    enum err rc = (k = list_marker(s, n)) != 0
                      ? emit(p, SEP_LINE, s + k, n - k, false)
                      : emit(p, p->in_para ? SEP_SPACE : SEP_NONE, s, n, false);
    p->in_para = true;
    return rc;
}

static enum err md_line(struct parser *p, const char *s, size_t n, const char *next, size_t next_n,
                        bool *skip_next)
{
    if (p->in_fence)
        return fenced_line(p, s, n);
    if (p->fmt == KB_MARKDOWN && p->il.in_comment)
        return emit(p, p->in_para ? SEP_SPACE : SEP_NONE, s, n, false);
    size_t i = skip_ws(s, n);
    while (p->fmt == KB_MARKDOWN && i < n && s[i] == '>') /* block quotes */
        i += 1 + skip_ws(s + i + 1, n - i - 1);
    s += i;
    n -= i;
    if (n == 0) {
        p->in_para = false;
        p->sep = SEP_PARA;
        return ERR_OK;
    }
    if (p->fmt == KB_TEXT)
        return text_line(p, s, n);
    if (fence(s, n, &p->fence_ch, &p->fence_len)) {
        p->in_fence = true;
        p->in_para = false;
        p->sep = SEP_PARA;
        return ERR_OK;
    }
    return block_line(p, s, n, next, next_n, skip_next);
}

/* The next line of [*pos, end), without its ending (LF, CRLF or a lone CR). */
static bool next_line(const char **pos, const char *end, const char **line, size_t *len)
{
    const char *s = *pos;
    if (s >= end)
        return false;
    const char *e = s;
    while (e < end && *e != '\n' && *e != '\r')
        e++;
    *line = s;
    *len = (size_t)(e - s);
    if (e < end && *e == '\r' && e + 1 < end && e[1] == '\n')
        e++;
    *pos = e < end ? e + 1 : e;
    return true;
}

enum err md_parse(struct arena *a, const char *s, size_t n, enum kb_format fmt,
                  struct md_result *out)
{
    struct parser p = {.a = a, .fmt = fmt};
    p.tail = &p.res.first;
    buf_init(&p.body, 4 * KB_MAX_FILE_BYTES);
    buf_init(&p.scratch, 4 * KB_MAX_FILE_BYTES);
    const char *pos = s, *end = s + n, *cur = NULL, *nxt = NULL;
    size_t cur_n = 0, nxt_n = 0;
    bool have = next_line(&pos, end, &cur, &cur_n);
    enum err rc = ERR_OK;
    while (have && rc == ERR_OK) {
        bool have_next = next_line(&pos, end, &nxt, &nxt_n);
        bool skip = false;
        rc = md_line(&p, cur, cur_n, have_next ? nxt : NULL, nxt_n, &skip);
        if (skip)
            have_next = next_line(&pos, end, &nxt, &nxt_n);
        cur = nxt;
        cur_n = nxt_n;
        have = have_next;
    }
    if (rc == ERR_OK)
        rc = flush(&p);
    buf_release(&p.body);
    buf_release(&p.scratch);
    p.res.title = p.title;
    *out = p.res;
    return rc;
}
