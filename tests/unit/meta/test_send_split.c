/*
 * tests/unit/meta/test_send_split.c - meta_send_split_text() and the platform text limits
 * (meta/send.h): Messenger under 2000 code points, Instagram 1000 bytes or less, cuts at
 * paragraph / line / sentence / word boundaries, never inside a code point or a grapheme
 * cluster (emoji + VS16, skin tones, ZWJ sequences, flags, keycaps, combining marks), and a
 * generated mix of all of them on both platforms.
 */
#include "meta/send.h"

#include "testutil.h"

#include "core/buf.h"

#define N(x) (sizeof(x) / sizeof((x)[0]))

static char *repeat(struct arena *a, const char *unit, size_t times)
{
    size_t n = strlen(unit);
    char *s = arena_alloc(a, n * times + 1);
    for (size_t i = 0; i < times; i++)
        memcpy(s + i * n, unit, n);
    return s;
}

/* Splits, checks that every part fits and that no text was lost or added (whitespace aside). */
static const char **split_ok(struct arena *a, enum store_platform p, const char *text, size_t *n)
{
    const char **parts;
    enum err rc = meta_send_split_text(a, p, text, &parts, n);
    if (rc != ERR_OK)
        fail_msg("split: %s", err_name(rc));
    struct buf joined, want;
    buf_init(&joined, 1 << 20);
    buf_init(&want, 1 << 20);
    for (size_t i = 0; i < *n; i++) {
        if (!meta_text_fits(p, parts[i]))
            fail_msg("part %zu of %zu does not fit (%zu bytes)", i, *n, strlen(parts[i]));
        for (const char *c = parts[i]; *c; c++)
            if (!strchr(" \t\n\r", *c))
                assert_int_equal(buf_append(&joined, c, 1), ERR_OK);
    }
    for (const char *c = text; *c; c++)
        if (!strchr(" \t\n\r", *c))
            assert_int_equal(buf_append(&want, c, 1), ERR_OK);
    assert_string_equal(joined.data, want.data);
    buf_release(&joined);
    buf_release(&want);
    return parts;
}

static size_t count_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static void test_split_limits(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    size_t n;
    const char **p;
    /* Messenger counts code points: 1999 fit, 2000 do not */
    p = split_ok(&a, STORE_MESSENGER, repeat(&a, "a", 1999), &n);
    assert_int_equal(n, 1);
    p = split_ok(&a, STORE_MESSENGER, repeat(&a, "a", 2000), &n);
    assert_int_equal(n, 2);
    assert_int_equal(strlen(p[0]), 1999);
    assert_string_equal(p[1], "a");
    p = split_ok(&a, STORE_MESSENGER, repeat(&a, "\xf0\x9f\x98\x80", 1999), &n); /* 7996 bytes */
    assert_int_equal(n, 1);
    p = split_ok(&a, STORE_MESSENGER, repeat(&a, "\xf0\x9f\x98\x80", 2000), &n);
    assert_int_equal(n, 2);
    assert_int_equal(count_chars(p[0]), 1999);
    /* Instagram counts bytes: exactly 1000 fit */
    p = split_ok(&a, STORE_INSTAGRAM, repeat(&a, "a", 1000), &n);
    assert_int_equal(n, 1);
    p = split_ok(&a, STORE_INSTAGRAM, repeat(&a, "a", 1001), &n);
    assert_int_equal(n, 2);
    assert_int_equal(strlen(p[0]), 1000);
    p = split_ok(&a, STORE_INSTAGRAM, repeat(&a, "\xf0\x9f\x98\x80", 250), &n); /* 1000 bytes */
    assert_int_equal(n, 1);
    p = split_ok(&a, STORE_INSTAGRAM, repeat(&a, "\xf0\x9f\x98\x80", 251), &n);
    assert_int_equal(n, 2);
    assert_int_equal(strlen(p[0]), 1000);
    /* 3-byte characters: 1000 is not a multiple, so the cut lands at 999, not mid-character */
    p = split_ok(&a, STORE_INSTAGRAM, repeat(&a, "\xe2\x82\xac", 334), &n);
    assert_int_equal(n, 2);
    assert_int_equal(strlen(p[0]), 999);
    assert_int_equal(strlen(p[1]), 3);
    /* the same text fits Messenger (334 characters) */
    p = split_ok(&a, STORE_MESSENGER, repeat(&a, "\xe2\x82\xac", 334), &n);
    assert_int_equal(n, 1);
    /* text that fits comes back unchanged, surrounding whitespace included */
    p = split_ok(&a, STORE_INSTAGRAM, "  hello \n", &n);
    assert_int_equal(n, 1);
    assert_string_equal(p[0], "  hello \n");
    /* a long unbroken Messenger text: 1999 + 1999 + 1002 */
    p = split_ok(&a, STORE_MESSENGER, repeat(&a, "x", 5000), &n);
    assert_int_equal(n, 3);
    assert_int_equal(strlen(p[2]), 1002);
    arena_release(&a);
}

static void test_split_boundaries(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    size_t n;
    const char **p;
    /* sentences: every part ends at a sentence end */
    const char *sentences = repeat(&a, "This sentence is exactly forty-six bytes long. ", 60);
    p = split_ok(&a, STORE_INSTAGRAM, sentences, &n);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++) {
        assert_true(p[i][strlen(p[i]) - 1] == '.');
        assert_true(p[i][0] == 'T');
    }
    assert_int_equal(strlen(p[0]), 46 * 21 + 20); /* 21 whole sentences and one space each */
    /* a paragraph break past the middle wins over later sentence ends */
    char *para = arena_printf(&a, "%s\n\n%s", repeat(&a, "Short one. ", 55),
                              repeat(&a, "Another sentence. ", 30));
    p = split_ok(&a, STORE_INSTAGRAM, para, &n);
    assert_int_equal(n, 2);
    assert_int_equal(strlen(p[0]), 11 * 55 - 1);
    assert_true(!strncmp(p[1], "Another", 7));
    /* a line break ranks with a sentence end: the later of the two */
    char *lines = arena_printf(&a, "%s\n%s", repeat(&a, "word ", 150), repeat(&a, "more ", 100));
    p = split_ok(&a, STORE_INSTAGRAM, lines, &n);
    assert_int_equal(n, 2);
    assert_int_equal(strlen(p[0]), 5 * 150 - 1);
    /* no sentences: cut between words, never inside one */
    p = split_ok(&a, STORE_MESSENGER, repeat(&a, "lorem ipsum dolor ", 300), &n);
    assert_int_equal(n, 3);
    for (size_t i = 0; i + 1 < n; i++) {
        const char *last = strrchr(p[i], ' ') + 1;
        assert_true(!strcmp(last, "lorem") || !strcmp(last, "ipsum") || !strcmp(last, "dolor"));
    }
    /* closing quotes after the stop still end the sentence; CJK stops need no space */
    char *quoted = arena_printf(&a, "%s\"Done.\" %s", repeat(&a, "x ", 300), repeat(&a, "y ", 300));
    p = split_ok(&a, STORE_INSTAGRAM, quoted, &n);
    assert_string_equal(p[0] + strlen(p[0]) - 7, "\"Done.\"");
    char *cjk = arena_printf(&a, "%s\xe3\x80\x82%s", repeat(&a, "\xe6\x97\xa5", 300),
                             repeat(&a, "\xe6\x9c\xac", 100)); /* 日...。本... */
    p = split_ok(&a, STORE_INSTAGRAM, cjk, &n);
    assert_int_equal(n, 2);
    assert_int_equal(strlen(p[0]), 903);
    /* whitespace at cuts is dropped */
    p = split_ok(&a, STORE_INSTAGRAM,
                 arena_printf(&a, "%s   \n\n  %s", repeat(&a, "a", 900), repeat(&a, "b", 200)), &n);
    assert_int_equal(n, 2);
    assert_int_equal(strlen(p[0]), 900);
    assert_int_equal(strlen(p[1]), 200);
    arena_release(&a);
}

struct cluster_case {
    const char *name;
    size_t pad;          /* ASCII bytes before the cluster */
    const char *cluster; /* must stay whole */
    size_t first_len;    /* the expected first part's length in bytes */
};

/* Instagram, no spaces: the 1000-byte cut would fall inside the cluster. */
static const struct cluster_case clusters[] = {
    {"emoji + VS16", 997, "\xe2\x9d\xa4\xef\xb8\x8f", 997},      /* U+2764 U+FE0F */
    {"skin tone", 996, "\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd", 996}, /* thumbs up, medium */
    {"flag (two regional indicators)", 996, "\xf0\x9f\x87\xab\xf0\x9f\x87\xb7", 996}, /* FR */
    {"ZWJ family", 990, "\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7",
     990},
    {"combining acute", 999, "e\xcc\x81", 999},
    {"keycap", 998, "1\xef\xb8\x8f\xe2\x83\xa3", 998}, /* 1 U+FE0F U+20E3 */
    {"CR LF", 999, "\r\n", 999},
};

static void test_split_clusters(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    for (size_t i = 0; i < N(clusters); i++) {
        const struct cluster_case *c = &clusters[i];
        char *text =
            arena_printf(&a, "%s%s%s", repeat(&a, "a", c->pad), c->cluster, repeat(&a, "b", 40));
        size_t n;
        const char **p = split_ok(&a, STORE_INSTAGRAM, text, &n);
        if (n != 2 || strlen(p[0]) != c->first_len)
            fail_msg("%s: %zu parts, first %zu bytes", c->name, n, strlen(p[0]));
        if (c->cluster[0] != '\r' && strncmp(p[1], c->cluster, strlen(c->cluster)) != 0)
            fail_msg("%s: the cluster was split", c->name);
    }
    /* a second flag right after the first: the cut goes between the pairs */
    char *flags = arena_printf(&a, "%s%s", repeat(&a, "a", 992),
                               repeat(&a, "\xf0\x9f\x87\xab\xf0\x9f\x87\xb7", 3));
    size_t n;
    const char **p = split_ok(&a, STORE_INSTAGRAM, flags, &n);
    assert_int_equal(strlen(p[0]), 1000);
    /* one cluster longer than the whole limit is cut at a code point */
    p = split_ok(&a, STORE_INSTAGRAM, arena_printf(&a, "e%s", repeat(&a, "\xcc\x81", 600)), &n);
    assert_int_equal(n, 2);
    assert_int_equal(strlen(p[0]), 999);
    arena_release(&a);
}

/* Mixed text from a fixed generator: every part fits and nothing is lost, on both platforms. */
static void test_split_mixed(void **state)
{
    (void)state;
    static const char *const pieces[] = {
        "word",
        "longerword",
        ". ",
        "! ",
        "? ",
        " ",
        " ",
        " ",
        "\n",
        "\n\n",
        "caf\xc3\xa9",
        "\xe2\x82\xac",
        "\xf0\x9f\x98\x80",
        "\xe2\x9d\xa4\xef\xb8\x8f",
        "\xf0\x9f\x87\xab\xf0\x9f\x87\xb7",
        "\xe6\x97\xa5\xe3\x80\x82",
        "e\xcc\x81",
    };
    struct arena a;
    arena_init(&a);
    uint32_t seed = 12345;
    for (int round = 0; round < 200; round++) {
        struct buf b;
        buf_init(&b, 1 << 20);
        assert_int_equal(buf_puts(&b, "Start"), ERR_OK);
        size_t target = 200 + (size_t)round * 37;
        while (b.len < target) {
            seed = seed * 1103515245u + 12345u;
            assert_int_equal(buf_puts(&b, pieces[(seed >> 16) % N(pieces)]), ERR_OK);
        }
        size_t n;
        split_ok(&a, STORE_INSTAGRAM, b.data, &n);
        split_ok(&a, STORE_MESSENGER, b.data, &n);
        buf_release(&b);
    }
    arena_release(&a);
}

static void test_split_refusals(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    const char **p;
    size_t n;
    assert_int_equal(meta_send_split_text(&a, STORE_INSTAGRAM, " \n\t ", &p, &n), ERR_INVALID);
    assert_int_equal(meta_send_split_text(&a, STORE_INSTAGRAM, "", &p, &n), ERR_INVALID);
    assert_int_equal(meta_send_split_text(&a, STORE_INSTAGRAM, NULL, &p, &n), ERR_INVALID);
    assert_int_equal(meta_send_split_text(&a, STORE_MESSENGER, "ok \xff", &p, &n), ERR_INVALID);
    assert_int_equal(meta_send_split_text(&a, STORE_MESSENGER, "\xf0\x9f\x98", &p, &n),
                     ERR_INVALID); /* truncated */
    assert_null(p);
    assert_int_equal(n, 0);
    const char *huge = repeat(&a, "a", META_SPLIT_MAX_BYTES + 1);
    assert_int_equal(meta_send_split_text(&a, STORE_MESSENGER, huge, &p, &n), ERR_TOO_LARGE);
    const char *many = repeat(&a, "a", 1000 * META_SPLIT_MAX_PARTS + 1);
    assert_int_equal(meta_send_split_text(&a, STORE_INSTAGRAM, many, &p, &n), ERR_TOO_LARGE);
    p = split_ok(&a, STORE_INSTAGRAM, repeat(&a, "a", 1000 * META_SPLIT_MAX_PARTS), &n);
    assert_int_equal(n, META_SPLIT_MAX_PARTS);
    arena_release(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_limits),   cmocka_unit_test(test_split_boundaries),
        cmocka_unit_test(test_split_clusters), cmocka_unit_test(test_split_mixed),
        cmocka_unit_test(test_split_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
