/*
 * tests/unit/kb/test_chunk.c - kb_chunk_text(): headings and their paths, merging tiny
 * sections, splitting long ones, Markdown stripping, line endings, BOM, empty input, bytes
 * that are not text, the size cap, and hostile lines that must stay linear.
 */
#include "kb/kb.h"

#include "testutil.h"

#include <stdbool.h>

#include "core/buf.h"

/* A paragraph longer than KB_CHUNK_MIN, so a section made of it is never merged. */
#define L1                                                                                         \
    "Our roastery ships every order within one business day, and every bag carries its "           \
    "roast date on the label."
#define L2                                                                                         \
    "Subscriptions can be paused, changed or cancelled at any time from the account page "         \
    "without any fee."

struct exp_chunk {
    const char *heading;
    const char *text; /* exact text, or NULL to skip the check */
};

static const struct {
    const char *name;
    const char *in;
    size_t len; /* 0: strlen(in) */
    enum kb_format fmt;
    enum err rc;
    const char *title;
    size_t n;
    struct exp_chunk c[4];
} cases[] = {
    {"headings",
     "# Title\n\n" L1 "\n\n## Sub\n\n" L2,
     0,
     KB_MARKDOWN,
     ERR_OK,
     "Title",
     2,
     {{"Title", L1}, {"Title > Sub", L2}}},
    {"nested headings",
     "# A\n## B\n### C\n" L1 "\n## D\n" L2,
     0,
     KB_MARKDOWN,
     ERR_OK,
     "A",
     2,
     {{"A > B > C", L1}, {"A > D", L2}}},
    {"skipped level", "# A\n### C\n" L1 "\n", 0, KB_MARKDOWN, ERR_OK, "A", 1, {{"A > C", L1}}},
    {"closing hashes",
     "## Costs and times ##\n" L1,
     0,
     KB_MARKDOWN,
     ERR_OK,
     NULL,
     1,
     {{"Costs and times", L1}}},
    {"setext",
     "Title\n=====\n\n" L1 "\n\nSub\n---\n" L2,
     0,
     KB_MARKDOWN,
     ERR_OK,
     "Title",
     2,
     {{"Title", L1}, {"Title > Sub", L2}}},
    {"text before any heading",
     L1 "\n\n# T\n\n" L2,
     0,
     KB_MARKDOWN,
     ERR_OK,
     "T",
     2,
     {{"", L1}, {"T", L2}}},
    {"tiny intro merges",
     "# Doc\n\nShort intro.\n\n## One\n\n" L1,
     0,
     KB_MARKDOWN,
     ERR_OK,
     "Doc",
     1,
     {{"Doc", "Short intro.\n\nOne\n" L1}}},
    {"tiny siblings merge",
     "# Doc\n## A\nalpha.\n## B\nbeta.\n",
     0,
     KB_MARKDOWN,
     ERR_OK,
     "Doc",
     1,
     {{"Doc", "A\nalpha.\n\nB\nbeta."}}},
    {"no merge across top headings",
     "# A\nalpha.\n# B\nbeta.\n",
     0,
     KB_MARKDOWN,
     ERR_OK,
     "A",
     2,
     {{"A", "alpha."}, {"B", "beta."}}},
    {"crlf",
     "# Title\r\n\r\n" L1 "\r\n\r\n## Sub\r\n\r\n" L2 "\r\n",
     0,
     KB_MARKDOWN,
     ERR_OK,
     "Title",
     2,
     {{"Title", L1}, {"Title > Sub", L2}}},
    {"lone cr", "# Title\r\r" L1 "\r", 0, KB_MARKDOWN, ERR_OK, "Title", 1, {{"Title", L1}}},
    {"bom", "\xef\xbb\xbf# Title\n\n" L1, 0, KB_MARKDOWN, ERR_OK, "Title", 1, {{"Title", L1}}},
    {"empty", "", 0, KB_MARKDOWN, ERR_OK, NULL, 0, {{0}}},
    {"bom only", "\xef\xbb\xbf", 0, KB_MARKDOWN, ERR_OK, NULL, 0, {{0}}},
    {"blank lines", "\n\n   \n\t\n", 0, KB_MARKDOWN, ERR_OK, NULL, 0, {{0}}},
    {"headings only", "# A\n## B\n", 0, KB_MARKDOWN, ERR_OK, "A", 0, {{0}}},
    {"invalid utf-8", "abc\xff", 0, KB_MARKDOWN, ERR_INVALID, NULL, 0, {{0}}},
    {"overlong", "a\xc0\xaf", 0, KB_MARKDOWN, ERR_INVALID, NULL, 0, {{0}}},
    {"surrogate", "a\xed\xa0\x80", 0, KB_MARKDOWN, ERR_INVALID, NULL, 0, {{0}}},
    {"truncated", "price \xe2\x82", 0, KB_MARKDOWN, ERR_INVALID, NULL, 0, {{0}}},
    {"above U+10FFFF", "\xf4\x90\x80\x80", 0, KB_MARKDOWN, ERR_INVALID, NULL, 0, {{0}}},
    {"nul byte", "a\0b", 3, KB_MARKDOWN, ERR_INVALID, NULL, 0, {{0}}},
    {"valid multibyte",
     "Café ☕ 😀 ¿qué?",
     0,
     KB_MARKDOWN,
     ERR_OK,
     NULL,
     1,
     {{"", "Café ☕ 😀 ¿qué?"}}},
    {"inline syntax",
     "**Bold** and _it_ and `co*de*` [a link](https://x.example/p \"T\") ![alt](a.png) "
     "<b>tag</b> &amp; &#233; <!-- gone --> \\*lit\\* ~~old~~ <https://y.example>",
     0,
     KB_MARKDOWN,
     ERR_OK,
     NULL,
     1,
     {{"", "Bold and it and co*de* a link (https://x.example/p) alt tag & é *lit* old "
           "https://y.example"}}},
    {"plain symbols stay",
     "snake_case and 5 * 3 = 15, ~5 days, a < b",
     0,
     KB_MARKDOWN,
     ERR_OK,
     NULL,
     1,
     {{"", "snake_case and 5 * 3 = 15, ~5 days, a < b"}}},
    {"soft wrap joins",
     "one\ntwo\nthree",
     0,
     KB_MARKDOWN,
     ERR_OK,
     NULL,
     1,
     {{"", "one two three"}}},
    {"lists",
     "Intro:\n- one\n* two\n+ three\n1. four\n2) five\n- [x] done",
     0,
     KB_MARKDOWN,
     ERR_OK,
     NULL,
     1,
     {{"", "Intro:\none\ntwo\nthree\nfour\nfive\ndone"}}},
    {"table",
     "| Size | Price |\n|---|---:|\n| 12 oz | $17 |",
     0,
     KB_MARKDOWN,
     ERR_OK,
     NULL,
     1,
     {{"", "Size | Price\n12 oz | $17"}}},
    {"fence keeps its lines",
     "```c\n# not a heading\nint *p;\n```\nafter",
     0,
     KB_MARKDOWN,
     ERR_OK,
     NULL,
     1,
     {{"", "# not a heading\nint *p;\n\nafter"}}},
    {"quote",
     "> quoted *text*\n> more",
     0,
     KB_MARKDOWN,
     ERR_OK,
     NULL,
     1,
     {{"", "quoted text more"}}},
    {"comment across lines",
     "a <!-- x\n# no\n--> b",
     0,
     KB_MARKDOWN,
     ERR_OK,
     NULL,
     1,
     {{"", "a b"}}},
    {"reference links",
     "[text][r] end\n\n[r]: https://example.com",
     0,
     KB_MARKDOWN,
     ERR_OK,
     NULL,
     1,
     {{"", "text end"}}},
    {"thematic break", "one\n\n***\n\ntwo", 0, KB_MARKDOWN, ERR_OK, NULL, 1, {{"", "one\n\ntwo"}}},
    {"not headings",
     "#hashtag\n####### seven",
     0,
     KB_MARKDOWN,
     ERR_OK,
     NULL,
     1,
     {{"", "#hashtag ####### seven"}}},
    {"text format",
     "# not a heading\n*not emphasis*\n- item\n\nnext",
     0,
     KB_TEXT,
     ERR_OK,
     NULL,
     1,
     {{"", "# not a heading *not emphasis*\nitem\n\nnext"}}},
    {"controls are spaces",
     "a\x01\x02"
     "b\tc\x7f"
     "d",
     0,
     KB_TEXT,
     ERR_OK,
     NULL,
     1,
     {{"", "a b c d"}}},
};

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct arena a;
        arena_init(&a);
        struct kb_doc d;
        const char *why = NULL;
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].in);
        enum err rc = kb_chunk_text(&a, cases[i].in, len, cases[i].fmt, &d, &why);
        if (rc != cases[i].rc)
            fail_msg("%s: rc %s, want %s", cases[i].name, err_name(rc), err_name(cases[i].rc));
        if (rc != ERR_OK) {
            if (!why || !*why)
                fail_msg("%s: no reason", cases[i].name);
            arena_release(&a);
            continue;
        }
        if ((d.title == NULL) != (cases[i].title == NULL) ||
            (d.title && strcmp(d.title, cases[i].title) != 0))
            fail_msg("%s: title '%s'", cases[i].name, d.title ? d.title : "(null)");
        if (d.n_chunks != cases[i].n)
            fail_msg("%s: %zu chunks, want %zu", cases[i].name, d.n_chunks, cases[i].n);
        for (size_t j = 0; j < d.n_chunks; j++) {
            const struct exp_chunk *e = &cases[i].c[j];
            if (strcmp(d.chunks[j].heading, e->heading) != 0)
                fail_msg("%s: chunk %zu heading '%s', want '%s'", cases[i].name, j,
                         d.chunks[j].heading, e->heading);
            if (e->text && strcmp(d.chunks[j].text, e->text) != 0)
                fail_msg("%s: chunk %zu text\n'%s'\nwant\n'%s'", cases[i].name, j, d.chunks[j].text,
                         e->text);
        }
        arena_release(&a);
    }
}

/* ---- sizes ---- */

static bool valid_utf8(const char *s)
{
    struct arena a;
    arena_init(&a);
    struct kb_doc d;
    bool ok = kb_chunk_text(&a, s, strlen(s), KB_TEXT, &d, NULL) == ERR_OK;
    arena_release(&a);
    return ok;
}

static void check_sizes(const struct kb_doc *d)
{
    for (size_t i = 0; i < d->n_chunks; i++) {
        size_t n = strlen(d->chunks[i].text);
        assert_true(n > 0 && n <= KB_CHUNK_MAX);
        assert_true(valid_utf8(d->chunks[i].text));
        assert_true(strlen(d->chunks[i].heading) <= KB_HEADING_MAX);
    }
}

static void test_long_section(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 1 << 20);
    assert_int_equal(buf_puts(&b, "# Policies\n\n## Long one\n\n"), ERR_OK);
    for (int i = 0; i < 100; i++) /* ~4.7 KB of numbered sentences, paragraph every 7th */
        assert_int_equal(buf_printf(&b, "Sentence number %02d says something useful here.%s", i,
                                    i % 7 == 6 ? "\n\n" : " "),
                         ERR_OK);
    struct arena a;
    arena_init(&a);
    struct kb_doc d;
    assert_int_equal(kb_chunk_text(&a, b.data, b.len, KB_MARKDOWN, &d, NULL), ERR_OK);
    assert_true(d.n_chunks >= 5 && d.n_chunks <= 9);
    check_sizes(&d);
    int next = 0;
    for (size_t i = 0; i < d.n_chunks; i++) {
        const char *t = d.chunks[i].text;
        assert_string_equal(d.chunks[i].heading, "Policies > Long one");
        assert_true(strlen(t) >= KB_CHUNK_TARGET / 2); /* no tiny pieces */
        assert_int_equal(t[strlen(t) - 1], '.');       /* cut at a sentence's end */
        char want[32];
        snprintf(want, sizeof want, "Sentence number %02d", next);
        assert_true(strncmp(t, want, strlen(want)) == 0); /* nothing lost, nothing repeated */
        for (const char *p = t; (p = strstr(p, "Sentence number ")); p++)
            next++;
    }
    assert_int_equal(next, 100);
    arena_release(&a);
    buf_release(&b);
}

static void test_huge_line(void **state)
{
    (void)state;
    size_t n = KB_MAX_FILE_BYTES - 16;
    char *s = malloc(n);
    for (size_t i = 0; i < n; i += 2) /* "é" repeated: no space, no ASCII to cut at */
        memcpy(s + i, "\xc3\xa9", 2);
    struct arena a;
    arena_init(&a);
    struct kb_doc d;
    assert_int_equal(kb_chunk_text(&a, s, n, KB_MARKDOWN, &d, NULL), ERR_OK);
    check_sizes(&d);
    size_t total = 0;
    for (size_t i = 0; i < d.n_chunks; i++)
        total += strlen(d.chunks[i].text);
    assert_int_equal(total, n);
    arena_release(&a);
    free(s);
}

static void test_size_cap(void **state)
{
    (void)state;
    size_t n = KB_MAX_FILE_BYTES;
    char *s = malloc(n + 1);
    memset(s, 'a', n + 1);
    for (size_t i = 80; i < n; i += 81)
        s[i] = '\n';
    struct arena a;
    arena_init(&a);
    struct kb_doc d;
    const char *why = NULL;
    assert_int_equal(kb_chunk_text(&a, s, n + 1, KB_TEXT, &d, &why), ERR_TOO_LARGE);
    assert_non_null(why);
    assert_int_equal(kb_chunk_text(&a, s, n, KB_TEXT, &d, &why), ERR_OK);
    check_sizes(&d);
    arena_release(&a);
    free(s);
}

/* Openers without closers, a megabyte of them: must stay linear (a quadratic scan would take
 * minutes here), and every chunk stays valid and capped. */
static void test_hostile_lines(void **state)
{
    (void)state;
    static const char *const units[] = {"[",  "`",   "<!--", "[a](", "![",   "*_",
                                        "&#", "<a ", "](",   "``x`", "[x][", "\\"};
    size_t n = KB_MAX_FILE_BYTES - 64;
    char *s = malloc(n);
    for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
        size_t k = strlen(units[u]);
        for (size_t i = 0; i < n; i++)
            s[i] = units[u][i % k];
        struct arena a;
        arena_init(&a);
        struct kb_doc d;
        assert_int_equal(kb_chunk_text(&a, s, n, KB_MARKDOWN, &d, NULL), ERR_OK);
        check_sizes(&d);
        arena_release(&a);
    }
    free(s);
}

static void test_format_for_path(void **state)
{
    (void)state;
    static const struct {
        const char *path;
        enum err rc;
        enum kb_format fmt;
    } paths[] = {
        {"a.md", ERR_OK, KB_MARKDOWN},           {"dir.v1/A.MARKDOWN", ERR_OK, KB_MARKDOWN},
        {"notes.TXT", ERR_OK, KB_TEXT},          {"x.md.bak", ERR_INVALID, KB_TEXT},
        {"logo.png", ERR_INVALID, KB_TEXT},      {"README", ERR_INVALID, KB_TEXT},
        {"dir.md/README", ERR_INVALID, KB_TEXT}, {"trailing.", ERR_INVALID, KB_TEXT}};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        enum kb_format f = KB_TEXT;
        assert_int_equal(kb_format_for_path(paths[i].path, &f), paths[i].rc);
        if (paths[i].rc == ERR_OK)
            assert_int_equal(f, paths[i].fmt);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),         cmocka_unit_test(test_long_section),
        cmocka_unit_test(test_huge_line),     cmocka_unit_test(test_size_cap),
        cmocka_unit_test(test_hostile_lines), cmocka_unit_test(test_format_for_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
