/*
 * agent/guard.c - the guardrails every AI message passes before it is queued.
 *
 * Owns: plain text (Markdown removed: headings, bullets and numbers of lists, quotes, fences,
 * emphasis, code spans; a link becomes "text (url)"; a line break ends a sentence), the
 * shape (the disclosure first, then whole sentences up to the cap of 3 in all, cut at a
 * sentence boundary, then at a word, to the platform's limit in bytes and code points), and
 * the claims check: every price, percentage, coupon code and mention of a discount in a reply
 * must be backed by the knowledge passages or tool results of this turn (a price by the same
 * number anywhere in them, a percentage by the same percentage, a code by the same code, a
 * discount by any discount word); the customer's own words back nothing.
 * Pure; any thread. Results in the caller's arena.
 */
#include "agent/agent_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"

/* ---- plain text ---- */

/* The length of a Markdown mark at q ("> ", "## ", "- ", "* ", "+ ", "• ", "1. ", "2) "),
 * 0 when none starts there. */
static size_t mark_len(const char *q, const char *end)
{
    const char *m = q;
    if (m < end && (*m == '>' || *m == '#'))
        while (m < end && *m == *q)
            m++;
    else if (m + 1 < end && (*m == '-' || *m == '*' || *m == '+') && m[1] == ' ')
        m++;
    else if (end - m >= 3 && memcmp(m, "\xe2\x80\xa2", 3) == 0)
        m += 3;
    else {
        while (m < end && *m >= '0' && *m <= '9' && m - q < 3)
            m++;
        if (!(m > q && m + 1 < end && (*m == '.' || *m == ')') && m[1] == ' '))
            return 0;
        m++;
    }
    if (m < end && *m != ' ' && *m != '\t' && *m != '#')
        return 0; /* "-5", "#hashtag": text, not a mark */
    return (size_t)(m - q);
}

/* Where the content of a line starts once its Markdown marks are skipped. */
static const char *skip_marks(const char *p, const char *end)
{
    for (;;) {
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        size_t n = mark_len(p, end);
        if (n == 0)
            return p;
        p += n;
    }
}

static bool word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (unsigned char)c >= 0x80;
}

/* A link [text](url) at p: appends "text (url)" and returns its length, else 0. */
static size_t put_link(struct buf *b, const char *p, const char *end)
{
    const char *close = memchr(p, ']', (size_t)(end - p));
    if (!close || close + 1 >= end || close[1] != '(')
        return 0;
    const char *rp = memchr(close, ')', (size_t)(end - close));
    if (!rp)
        return 0;
    err_ignore(buf_append(b, p + 1, (size_t)(close - p - 1)));
    if (rp > close + 2) {
        err_ignore(buf_puts(b, " ("));
        err_ignore(buf_append(b, close + 2, (size_t)(rp - close - 2)));
        err_ignore(buf_puts(b, ")"));
    }
    return (size_t)(rp - p) + 1;
}

static void plain_line(struct buf *b, const char *p, const char *end)
{
    const char *start = p;
    while (p < end) {
        char c = *p;
        size_t link = 0;
        if (c == '!' && p + 1 < end && p[1] == '[')
            p++, c = '[';
        if (c == '[' && (link = put_link(b, p, end)) != 0) {
            p += link;
            continue;
        }
        bool inside_word = (c == '_') && p > start && word_char(p[-1]) && p + 1 < end &&
                           word_char(p[1]); /* snake_case, an e-mail address */
        if (c == '`' || c == '*' || (c == '_' && !inside_word)) {
            p++;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r') {
            if (b->len && b->data[b->len - 1] != ' ')
                err_ignore(buf_append(b, " ", 1));
        } else {
            err_ignore(buf_append(b, &c, 1));
        }
        p++;
    }
}

static bool ends_clause(const struct buf *b)
{
    size_t n = b->len;
    while (n && b->data[n - 1] == ' ')
        n--;
    if (!n)
        return true;
    char c = b->data[n - 1];
    return c == '.' || c == '!' || c == '?' || c == ':' || c == ';' || c == ',' ||
           ((unsigned char)c >= 0x80 && n >= 3 &&
            (memcmp(b->data + n - 3, "\xe2\x80\xa6", 3) == 0 || /* … */
             memcmp(b->data + n - 3, "\xe3\x80\x82", 3) == 0)); /* 。 */
}

const char *agent_plain(struct arena *a, const char *text)
{
    size_t n = text ? strnlen(text, AGENT_TEXT_MAX) : 0;
    struct buf b;
    buf_init(&b, AGENT_TEXT_MAX + 1024);
    for (const char *p = text, *end = text + n; p && p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *s = skip_marks(p, le);
        bool fence = le - s >= 3 && memcmp(s, "```", 3) == 0;
        if (!fence && s < le) {
            size_t before = b.len;
            if (before && !ends_clause(&b))
                err_ignore(buf_puts(&b, "."));
            if (b.len && b.data[b.len - 1] != ' ')
                err_ignore(buf_append(&b, " ", 1));
            plain_line(&b, s, le);
        }
        p = nl ? nl + 1 : end;
    }
    while (b.len && b.data[b.len - 1] == ' ')
        b.len--;
    const char *out = arena_strndup(a, b.data ? b.data : "", b.len);
    buf_release(&b);
    return out;
}

/* ---- the shape ---- */

static size_t code_points(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

static bool fits(const struct agent_shape *sh, const char *s, size_t n)
{
    return (!sh->max_bytes || n <= sh->max_bytes) &&
           (!sh->max_chars || code_points(s, n) <= sh->max_chars);
}

/* The longest prefix of s[0..n) that fits, ending at a space when one is in its second half. */
static size_t cut_to_fit(const struct agent_shape *sh, const char *s, size_t n)
{
    size_t len = n;
    while (len > 0 && !fits(sh, s, len)) {
        len--;
        while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
            len--;
    }
    size_t space = len;
    while (space > len / 2 && s[space] != ' ')
        space--;
    return len < n && s[space] == ' ' ? space : len;
}

const char *agent_shape(struct arena *a, const char *text, const struct agent_shape *sh)
{
    const char *plain = agent_plain(a, text);
    struct agent_span sp[AGENT_MAX_SENTENCES];
    int room = sh->max_sentences - (sh->disclosure ? 1 : 0);
    size_t n = agent_sentences(plain, sp, room > 0 ? (size_t)room : 0);
    if (n == 0)
        return "";
    struct buf b;
    buf_init(&b, AGENT_TEXT_MAX + 1024);
    if (sh->disclosure)
        err_ignore(buf_puts(&b, sh->disclosure));
    size_t kept = b.len;
    for (size_t i = 0; i < n; i++) {
        size_t mark = b.len;
        if (b.len)
            err_ignore(buf_append(&b, " ", 1));
        err_ignore(buf_append(&b, plain + sp[i].off, sp[i].len));
        if (!fits(sh, b.data, b.len)) {
            if (i > 0) {
                b.len = mark; /* the sentences so far fit: stop at a sentence boundary */
                break;
            }
            b.len = cut_to_fit(sh, b.data, b.len);
        }
        kept = b.len;
    }
    while (kept && b.data[kept - 1] == ' ')
        kept--;
    const char *out = arena_strndup(a, b.data, kept);
    buf_release(&b);
    return out;
}

bool agent_looks_like_markup(const char *text)
{
    while (*text == ' ' || *text == '\n' || *text == '\t')
        text++;
    return *text == '{' || *text == '[' || *text == '<';
}

/* ---- claims ---- */

enum claim_kind { CLAIM_PRICE, CLAIM_PERCENT };

struct number {
    double value;
    bool is_percent, is_price;
    bool is_data; /* from a tool's answer: a bare number may be an amount */
};

/* A number at s (digits with ',' or '.' groups) into *v; its length, 0 if none. */
static size_t read_number(const char *s, double *v)
{
    size_t i = 0, last_sep = 0, groups = 0;
    while (s[i] >= '0' && s[i] <= '9')
        i++;
    if (i == 0)
        return 0;
    while ((s[i] == ',' || s[i] == '.') && s[i + 1] >= '0' && s[i + 1] <= '9') {
        last_sep = i++;
        groups++;
        while (s[i] >= '0' && s[i] <= '9')
            i++;
    }
    size_t frac = groups ? i - last_sep - 1 : 0;
    bool decimal = groups && frac != 3; /* 12,95 and 5.95 are decimals; 1,000 is a thousand */
    double x = 0, scale = 0;
    for (size_t k = 0; k < i; k++) {
        if (s[k] == ',' || s[k] == '.') {
            if (decimal && k == last_sep)
                scale = 1;
            continue;
        }
        x = x * 10 + (s[k] - '0');
        if (scale)
            scale *= 10;
    }
    *v = scale ? x / scale : x;
    return i;
}

static bool prefix_ci(const char *s, const char *word)
{
    size_t n = strlen(word);
    for (size_t i = 0; i < n; i++)
        if (!s[i] || (s[i] | (s[i] >= 'A' && s[i] <= 'Z' ? 32 : 0)) != word[i])
            return false;
    return true;
}

static const char *const currency_before[] = {"us$", "ca$",          "c$",       "r$",
                                              "$",   "\xe2\x82\xac", "\xc2\xa3", "\xc2\xa5"};
static const char *const currency_after[] = {
    "\xe2\x82\xac", "$",    "\xc2\xa3", "\xc2\xa5", "usd",          "eur",   "gbp", "cad",
    "dollar",       "euro", "pound",    "dolar",    "d\xc3\xb3lar", "reais", "real"};
static const char *const percent_after[] = {"%",         "percent",   "per cent", "por ciento",
                                            "por cento", "pour cent", "prozent",  "per cento"};

/* Currency words whose plural is the same word going on ("dollars"). */
static bool has_plural(const char *w)
{
    static const char *const words[] = {"dollar", "dolar", "euro", "pound"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcmp(w, words[i]) == 0)
            return true;
    return false;
}

/* Which of list starts at s (after optional spaces); its length, 0 if none. */
static size_t starts_with_any(const char *s, const char *const *list, size_t n)
{
    size_t sp = 0;
    while (s[sp] == ' ')
        sp++;
    for (size_t i = 0; i < n; i++)
        if (prefix_ci(s + sp, list[i])) {
            size_t k = strlen(list[i]);
            bool letter = (list[i][0] | 32) >= 'a' && (list[i][0] | 32) <= 'z';
            if (letter && word_char(s[sp + k]) && !has_plural(list[i]))
                continue; /* "real" in "really" */
            return sp + k;
        }
    return 0;
}

#define ANY(s, list) starts_with_any((s), (list), sizeof(list) / sizeof(list)[0])

/* A number a tool names as a percentage: {"discount_pct": 15}, {"percent_off": 10}. */
static bool named_percent(const char *text, size_t at)
{
    size_t from = at > 24 ? at - 24 : 0;
    char before[32];
    snprintf(before, sizeof before, "%.*s", (int)(at - from), text + from);
    return strcasestr(before, "pct") || strcasestr(before, "percent");
}
#define NUMBERS_MAX 64

/* The numbers in text, with what marks them, at most max. */
static size_t numbers(const char *text, struct number *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; text[i] && n < max;) {
        if (!(text[i] >= '0' && text[i] <= '9') || (i > 0 && word_char(text[i - 1]))) {
            i++;
            continue;
        }
        double v = 0;
        size_t len = read_number(text + i, &v);
        size_t back = i;
        while (back > 0 && text[back - 1] == ' ' && i - back < 1)
            back--;
        bool before = false;
        for (size_t k = 0; k < sizeof currency_before / sizeof currency_before[0]; k++) {
            size_t cl = strlen(currency_before[k]);
            before |= back >= cl && prefix_ci(text + back - cl, currency_before[k]);
        }
        out[n++] = (struct number){.value = v,
                                   .is_percent = ANY(text + i + len, percent_after) != 0 ||
                                                 named_percent(text, i),
                                   .is_price = before || ANY(text + i + len, currency_after)};
        i += len;
    }
    return n;
}

static bool backed(const struct number *claim, const struct number *ev, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (fabs(ev[i].value - claim->value) < 0.005 &&
            (claim->is_percent ? ev[i].is_percent : ev[i].is_price || ev[i].is_data))
            return true;
    return false;
}

static const char *const discount_stems[] = {
    "discount", "descuento", "desconto", "rabatt", "sconto", "remise",    "reduction",
    "coupon",   "voucher",   "promo",    "cupon",  "cupom",  "gutschein", "codice sconto"};
static const char *const code_words[] = {"code",      "coupon", "promo",      "promocode",
                                         "voucher",   "codigo", "cupon",      "cupom",
                                         "gutschein", "codice", "rabattcode", "gutscheincode"};

static bool has_discount_word(struct arena *a, const char *text)
{
    const char *w[AGENT_SENTIMENT_WORDS];
    size_t n = agent_words(a, text, w, AGENT_SENTIMENT_WORDS);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < sizeof discount_stems / sizeof discount_stems[0]; k++)
            if (strncmp(w[i], discount_stems[k], strlen(discount_stems[k])) == 0)
                return true;
    return false;
}

/* A code the reply names: the word after a code word, when it looks like a code (3 to 24
 * letters, digits and '-', with a digit or in capitals). */
static const char *named_code(struct arena *a, const char *reply)
{
    const char *w[AGENT_SENTIMENT_WORDS];
    size_t n = agent_words(a, reply, w, AGENT_SENTIMENT_WORDS);
    for (size_t i = 0; i + 1 < n; i++) {
        bool is_code_word = false;
        for (size_t k = 0; k < sizeof code_words / sizeof code_words[0]; k++)
            is_code_word |= strcmp(w[i], code_words[k]) == 0;
        if (!is_code_word)
            continue;
        size_t at = i + 1;
        if (at + 1 < n && (strcmp(w[at], "is") == 0 || strcmp(w[at], "es") == 0 ||
                           strcmp(w[at], "e") == 0 || strcmp(w[at], "ist") == 0))
            at++;
        size_t len = strlen(w[at]);
        bool digit = strpbrk(w[at], "0123456789") != NULL;
        /* capitals: look the word up as written */
        const char *orig = NULL;
        for (const char *p = reply; (p = strcasestr(p, w[at])) != NULL; p++)
            if ((p == reply || !word_char(p[-1])) && !word_char(p[len])) {
                orig = p;
                break;
            }
        bool caps = orig && len >= 4;
        for (size_t k = 0; caps && k < len; k++)
            caps = !(orig[k] >= 'a' && orig[k] <= 'z');
        if (len >= 3 && len <= 24 && (digit || caps))
            return w[at];
    }
    return NULL;
}

const char *agent_unsupported_claim(struct arena *a, const char *reply,
                                    const struct agent_evidence *evidence, size_t n_evidence)
{
    struct number claims[NUMBERS_MAX];
    struct number *ev = arena_alloc(a, NUMBERS_MAX * (n_evidence + 1) * sizeof *ev);
    size_t n_claims = numbers(reply, claims, NUMBERS_MAX), n_ev = 0;
    bool ev_discount = false;
    const char *code = named_code(a, reply);
    bool code_backed = false;
    for (size_t i = 0; i < n_evidence; i++) {
        size_t got = numbers(evidence[i].text, ev + n_ev, NUMBERS_MAX);
        for (size_t k = 0; k < got; k++)
            ev[n_ev + k].is_data = evidence[i].is_data;
        n_ev += got;
        ev_discount = ev_discount || has_discount_word(a, evidence[i].text);
        code_backed = code_backed || (code && strstr(agent_fold(a, evidence[i].text), code));
    }
    for (size_t i = 0; i < n_claims; i++)
        if ((claims[i].is_price || claims[i].is_percent) && !backed(&claims[i], ev, n_ev))
            return arena_printf(a, claims[i].is_percent ? "%g%%" : "the price %.2f",
                                claims[i].value);
    if (code && !code_backed)
        return arena_printf(a, "the code %s", code);
    if (!ev_discount && has_discount_word(a, reply))
        return "a discount";
    return NULL;
}
