/*
 * tests/fuzz/fuzz_markdown_chunker.c - kb_chunk_text() and kb_query_terms() on arbitrary
 * bytes.
 *
 * The first byte picks what runs: even -> the Markdown chunker, odd -> the text chunker, and a
 * first byte of 'Q' -> the query builder, whose result must be an FTS5 expression SQLite
 * accepts (it runs against an in-memory FTS5 table with the same tokenizer as kb_fts).
 * Properties of the chunker: never crashes, leaks or reads past the input (it is not
 * NUL-terminated); an error comes with a reason, and ERR_INVALID only for bytes that are not
 * UTF-8 text (checked by an independent validator here); every chunk is 1..KB_CHUNK_MAX bytes
 * of valid UTF-8 without NUL or CR and without leading or trailing blanks; headings are valid
 * and capped; the title is valid.
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb/kb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(bool cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_markdown_chunker: %s\n", what);
        abort();
    }
}

/* RFC 3629 UTF-8 without NUL, written independently of src/kb/chunk.c. */
static bool is_text(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned c = s[i], len, cp;
        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf)
            len = 2, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
            len = 3, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
            len = 4, cp = c & 0x07;
        else
            return false;
        if (n - i < len)
            return false;
        for (unsigned j = 1; j < len; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + j] & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += len;
    }
    return true;
}

static void check_string(const char *s, size_t cap, bool may_be_empty)
{
    size_t n = strlen(s);
    require(may_be_empty || n > 0, "empty chunk");
    require(n <= cap, "over its cap");
    require(is_text((const unsigned char *)s, n), "not valid UTF-8");
    require(!strchr(s, '\r'), "a CR survived");
    require(n == 0 || (s[0] != ' ' && s[0] != '\n' && s[n - 1] != ' ' && s[n - 1] != '\n'),
            "untrimmed");
}

static void chunker(const uint8_t *data, size_t size, enum kb_format fmt)
{
    struct arena a;
    arena_init(&a);
    struct kb_doc d;
    const char *why = NULL;
    enum err rc = kb_chunk_text(&a, (const char *)data, size, fmt, &d, &why);
    size_t skip = size >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
    bool text = is_text(data + skip, size - skip);
    if (rc != ERR_OK) {
        require(why && *why, "an error without a reason");
        require(rc == ERR_INVALID && !text, "refused text that is valid UTF-8");
    } else {
        require(text, "accepted bytes that are not UTF-8 text");
        require(d.n_chunks <= size, "more chunks than bytes");
        for (size_t i = 0; i < d.n_chunks; i++) {
            check_string(d.chunks[i].text, KB_CHUNK_MAX, false);
            check_string(d.chunks[i].heading, KB_HEADING_MAX, true);
        }
        if (d.title)
            check_string(d.title, KB_HEADING_MAX, true);
    }
    arena_release(&a);
}

/* An FTS5 table like kb_fts (same tokenizer), made once. */
static sqlite3 *fts_db(void)
{
    static sqlite3 *db;
    if (!db) {
        require(sqlite3_open(":memory:", &db) == SQLITE_OK, "sqlite open");
        require(sqlite3_exec(db,
                             "CREATE VIRTUAL TABLE f USING fts5(heading, text, tokenize="
                             "'porter unicode61 remove_diacritics 2');"
                             "INSERT INTO f VALUES ('Shipping', 'We ship to Canada.');",
                             NULL, NULL, NULL) == SQLITE_OK,
                "fts5 table");
    }
    return db;
}

static void query(const uint8_t *data, size_t size)
{
    char *q = malloc(size + 1);
    memcpy(q, data, size);
    q[size] = '\0';
    struct arena a;
    arena_init(&a);
    struct kb_terms t;
    require(kb_query_terms(&a, q, &t) == ERR_OK, "query terms failed");
    require(t.n <= KB_QUERY_MAX_TERMS, "too many terms");
    require((t.n == 0) == (*t.match == '\0'), "terms and match disagree");
    if (t.n) {
        sqlite3_stmt *st = NULL;
        require(sqlite3_prepare_v2(fts_db(), "SELECT count(*) FROM f WHERE f MATCH ?1", -1, &st,
                                   NULL) == SQLITE_OK,
                "prepare");
        sqlite3_bind_text(st, 1, t.match, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        if (rc != SQLITE_ROW)
            fprintf(stderr, "match '%s': %s\n", t.match, sqlite3_errmsg(fts_db()));
        require(rc == SQLITE_ROW, "the query is not a valid FTS5 expression");
        sqlite3_finalize(st);
    }
    arena_release(&a);
    free(q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (data[0] == 'Q')
        query(data + 1, size - 1);
    else
        chunker(data + 1, size - 1, data[0] & 1 ? KB_TEXT : KB_MARKDOWN);
    return 0;
}
