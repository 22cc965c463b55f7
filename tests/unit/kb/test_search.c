/*
 * tests/unit/kb/test_search.c - indexing and searching a real SQLite store.
 *
 * The sample shop (examples/kb, copied to a temp folder so it can be edited) is indexed, then:
 * customers' questions find the right document first; FTS5 syntax in a query is only words;
 * re-indexing skips unchanged files, replaces changed ones in full (the FTS index checked
 * with FTS5's own integrity-check), removes vanished ones and refuses non-text; and with an
 * OpenAI-compatible embeddings server started here (deterministic "concept" vectors) the
 * search fuses vectors with BM25, and a failing server only costs the vectors.
 */
#include "kb/kb.h"

#include "testutil.h"

#include <dirent.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/log.h"
#include "http/client.h"
#include "http/http.h"
#include "store/store.h"

/* ---- a world: a store, a kb folder, a kb ---- */

struct world {
    char dir[256], kbdir[300];
    struct store *s;
    struct kb *k;
    struct arena a;
};

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void copy_examples(const char *to)
{
    DIR *d = opendir("examples/kb");
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char from[512], dst[512];
        snprintf(from, sizeof from, "examples/kb/%s", e->d_name);
        snprintf(dst, sizeof dst, "%s/%s", to, e->d_name);
        size_t n = 0;
        char *data = tu_read_file(from, &n);
        assert_non_null(data);
        write_file(dst, data, n);
        free(data);
    }
    closedir(d);
}

static void world_open(struct world *w, const struct kb_opts *o)
{
    assert_int_equal(store_open(&(struct store_opts){.data_dir = w->dir}, &w->s), ERR_OK);
    assert_int_equal(store_migrate(w->s, NULL, NULL), ERR_OK);
    assert_int_equal(kb_new(w->s, o, &w->k), ERR_OK);
}

static void world_close(struct world *w)
{
    kb_free(w->k);
    store_free(w->s);
    w->k = NULL;
    w->s = NULL;
}

static struct world *world_new(const struct kb_opts *o)
{
    struct world *w = calloc(1, sizeof *w);
    snprintf(w->dir, sizeof w->dir, "%s", tu_tmpdir());
    snprintf(w->kbdir, sizeof w->kbdir, "%s/kb", w->dir);
    assert_int_equal(mkdir(w->kbdir, 0700), 0);
    copy_examples(w->kbdir);
    arena_init(&w->a);
    world_open(w, o);
    return w;
}

static void world_free(struct world *w)
{
    world_close(w);
    arena_release(&w->a);
    tu_rmrf(w->dir);
    free(w);
}

/* Reports of one kb_add_path(), by outcome. */
struct tally {
    int n[KB_REMOVED + 1];
    int with_vectors;
    char last_skip[256];
    enum err last_err;
};

static void on_report(void *ctx, const struct kb_report *r)
{
    struct tally *t = ctx;
    t->n[r->outcome]++;
    t->with_vectors += r->has_vectors;
    if (r->outcome == KB_SKIPPED) {
        snprintf(t->last_skip, sizeof t->last_skip, "%s: %s", r->path, r->reason);
        t->last_err = r->err;
    }
}

static struct tally add(struct world *w, const char *path, enum err want)
{
    struct tally t = {0};
    enum err rc = kb_add_path(w->k, path, on_report, &t);
    if (rc != want)
        fail_msg("kb_add_path(%s): %s, want %s (%s)", path, err_name(rc), err_name(want),
                 t.last_skip);
    return t;
}

static struct kb_results search(struct world *w, const char *q, size_t max)
{
    struct kb_results r;
    enum err rc = kb_search(w->k, &w->a, q, max, &r);
    if (rc != ERR_OK)
        fail_msg("kb_search('%s'): %s", q, err_name(rc));
    return r;
}

/* FTS5's own check that the index matches kb_chunks (external content: rank 1). */
static void fts_integrity(const struct world *w)
{
    char path[512];
    snprintf(path, sizeof path, "%s/switchboard.db", w->dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    int rc = sqlite3_exec(db, "INSERT INTO kb_fts (kb_fts, rank) VALUES ('integrity-check', 1)",
                          NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        fail_msg("fts integrity: %s", sqlite3_errmsg(db));
    sqlite3_close(db);
}

/* ---- questions ---- */

static void test_questions(void **state)
{
    (void)state;
    struct world *w = world_new(&(struct kb_opts){0});
    struct tally t = add(w, w->kbdir, ERR_OK);
    assert_int_equal(t.n[KB_ADDED], 4);
    static const struct {
        const char *q, *title, *heading; /* heading NULL: not checked */
    } cases[] = {
        {"do you ship to canada", "Shipping", "Shipping > Where we ship"},
        {"return policy for opened coffee", "Returns and refunds", "Returns and refunds > Coffee"},
        {"opening hours sunday", "Hours and locations", NULL},
        {"discount code", "Returns and refunds", "Returns and refunds > Discounts"},
        {"Do you have a DISCOUNT code???", "Returns and refunds", NULL},
        {"how much is the Ethiopia Guji", "Products", "Products > Coffee"},
        {"can I pause my subscription", "Products", "Products > Subscriptions"},
        {"where is the cafe", "Hours and locations", NULL},
        {"tracking number for my order", "Shipping", "Shipping > Tracking"},
        {"¿Hacen envíos a Canadá?", "Shipping", NULL},
        {"refund for a broken kettle", "Returns and refunds", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct kb_results r = search(w, cases[i].q, 5);
        if (r.n == 0 || strcmp(r.hits[0].title, cases[i].title) != 0)
            fail_msg("'%s': first is '%s', want '%s'", cases[i].q, r.n ? r.hits[0].title : "-",
                     cases[i].title);
        if (cases[i].heading && strcmp(r.hits[0].heading, cases[i].heading) != 0)
            fail_msg("'%s': heading '%s'", cases[i].q, r.hits[0].heading);
        assert_false(r.used_vectors);
        for (size_t j = 0; j < r.n; j++) {
            assert_true(r.hits[j].coverage > 0 && r.hits[j].coverage <= 1);
            assert_true(r.hits[j].score > 0 && r.hits[j].bm25 == r.hits[j].score);
            assert_true(j == 0 || r.hits[j].score <= r.hits[j - 1].score);
        }
    }
    /* the signal the agent uses: a full match, a partial one, none */
    struct kb_results r = search(w, "discount code", 1);
    assert_true(r.n == 1 && r.hits[0].coverage == 1.0 && r.n_terms == 2 && !r.weak_query);
    r = search(w, "do you sell gift cards for coffee", 1);
    assert_true(r.n == 1 && r.hits[0].coverage < 0.5);
    r = search(w, "quantum chromodynamics", 5);
    assert_int_equal(r.n, 0);
    /* a term FTS5's tokenizer drops entirely must not shift which terms were matched */
    r = search(w, "\xe2\x84\xa2 ship canada", 1);
    assert_int_equal(r.n_terms, 3);
    assert_true(r.n == 1 && r.hits[0].coverage > 0.6 && r.hits[0].coverage < 0.7);
    world_free(w);
}

/* ---- FTS5 syntax is only words ---- */

static void test_fts_syntax(void **state)
{
    (void)state;
    struct world *w = world_new(&(struct kb_opts){0});
    (void)add(w, w->kbdir, ERR_OK);
    static const char *const hostile[] = {"\"",
                                          "*",
                                          "NEAR(",
                                          "AND",
                                          "-",
                                          ":",
                                          "\"unterminated",
                                          "ship*",
                                          "heading:ship",
                                          "a AND OR NOT b",
                                          "^ship",
                                          "(ship",
                                          "{heading text}: ship",
                                          "NEAR(ship canada, 2)",
                                          "'",
                                          "\\",
                                          "ship\"; DROP TABLE kb_documents; --",
                                          "",
                                          "   ",
                                          "+-*/^:()[]{}",
                                          "canada -ship",
                                          "OR",
                                          "NOT",
                                          "ship NOT canada",
                                          "\"\"\"\"",
                                          "col:",
                                          "* ship",
                                          "rank",
                                          "bm25(kb_fts)",
                                          "\xf0\x9f\x98\x80 \xe2\x98\x95",
                                          "x\x01y\x7fz"};
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
        struct kb_results r;
        enum err rc = kb_search(w->k, &w->a, hostile[i], 5, &r);
        if (rc != ERR_OK)
            fail_msg("'%s': %s", hostile[i], err_name(rc));
    }
    struct kb_results r = search(w, "heading:ship", 1); /* the words "heading" and "ship" */
    assert_true(r.n == 1 && strcmp(r.hits[0].title, "Shipping") == 0);
    char *longq = malloc(20001);
    for (size_t i = 0; i < 20000; i++)
        longq[i] = "ab\" *(:"[i % 7];
    longq[20000] = '\0';
    r = search(w, longq, 5);
    free(longq);
    struct store_kb_doc *docs;
    size_t n = 0;
    assert_int_equal(kb_list(w->k, &w->a, &docs, &n), ERR_OK);
    assert_int_equal(n, 4); /* nothing was dropped */
    world_free(w);
}

static void test_query_terms(void **state)
{
    (void)state;
    static const struct {
        const char *q, *match;
        size_t n;
        bool weak;
    } cases[] = {
        {"Do you ship to Canada?", "\"ship\" OR \"canada\"", 2, false},
        {"where are you", "\"where\" OR \"are\" OR \"you\"", 3, true},
        {"NEAR(\"x\" AND z*)", "\"near\" OR \"x\" OR \"z\"", 3, false},
        {"ship SHIP Ship", "\"ship\"", 1, false},
        {"", "", 0, false},
        {"!!! ?? ...", "", 0, false},
        {"caf\xc3\xa9's opening", "\"caf\xc3\xa9\" OR \"opening\"", 2, false},
        {"\xc2\xbf"
         "d\xc3\xb3nde est\xc3\xa1n?",
         "\"est\xc3\xa1n\"", 1, false},
        {"don\xe2\x80\x99t ship", "\"ship\"", 1, false},
    };
    struct arena a;
    arena_init(&a);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct kb_terms t;
        assert_int_equal(kb_query_terms(&a, cases[i].q, &t), ERR_OK);
        if (strcmp(t.match, cases[i].match) != 0 || t.n != cases[i].n || t.weak != cases[i].weak)
            fail_msg("'%s': '%s' n=%zu weak=%d", cases[i].q, t.match, t.n, t.weak);
    }
    struct buf b;
    buf_init(&b, 1 << 16);
    for (int i = 0; i < 40; i++)
        assert_int_equal(buf_printf(&b, "word%d ", i), ERR_OK);
    for (int i = 0; i < 100; i++)
        assert_int_equal(buf_puts(&b, "x"), ERR_OK); /* a 100-byte word is passed over */
    struct kb_terms t;
    assert_int_equal(kb_query_terms(&a, b.data, &t), ERR_OK);
    assert_int_equal(t.n, KB_QUERY_MAX_TERMS);
    assert_null(strstr(t.match, "xxxx"));
    buf_release(&b);
    arena_release(&a);
}

/* ---- re-indexing ---- */

static void put(struct world *w, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", w->kbdir, name);
    write_file(path, text, strlen(text));
}

static const char *first_title(struct world *w, const char *q)
{
    struct kb_results r = search(w, q, 1);
    return r.n ? r.hits[0].title : "";
}

static void test_reindex(void **state)
{
    (void)state;
    struct world *w = world_new(&(struct kb_opts){0});
    (void)add(w, w->kbdir, ERR_OK);
    struct tally t = add(w, w->kbdir, ERR_OK);
    assert_int_equal(t.n[KB_UNCHANGED], 4);

    /* a changed file is replaced whole: new words found, old ones gone */
    put(w, "shipping.md", "# Shipping\n\n## Islands\n\nWe ship to Zanzibar by sea freight.\n");
    t = add(w, w->kbdir, ERR_OK);
    assert_int_equal(t.n[KB_UPDATED], 1);
    assert_int_equal(t.n[KB_UNCHANGED], 3);
    assert_string_equal(first_title(w, "zanzibar"), "Shipping");
    assert_string_equal(first_title(w, "tracking number"), "");
    fts_integrity(w);

    /* a vanished file's document goes; hidden files and other types are not indexed */
    char path[512];
    snprintf(path, sizeof path, "%s/returns.md", w->kbdir);
    assert_int_equal(unlink(path), 0);
    put(w, ".hidden.md", "# Hidden\n\nzanzibar\n");
    put(w, "logo.png", "\x89PNG");
    t = add(w, w->kbdir, ERR_OK);
    assert_int_equal(t.n[KB_REMOVED], 1);
    assert_int_equal(t.n[KB_SKIPPED], 1); /* logo.png */
    assert_string_equal(first_title(w, "discount code"), "");
    fts_integrity(w);

    /* a file that turns into something that is not text loses its document */
    put(w, "returns.md", "# Returns\n\nbad \xff byte");
    snprintf(path, sizeof path, "%s/shipping.md", w->kbdir);
    write_file(path, "ship\0binary", 11);
    put(w, "empty.md", "");
    t = add(w, w->kbdir, ERR_OK);
    assert_int_equal(t.n[KB_SKIPPED], 4); /* returns, shipping, empty, logo */
    assert_int_equal(t.n[KB_ADDED] + t.n[KB_UPDATED], 0);
    assert_string_equal(first_title(w, "zanzibar"), "");
    struct store_kb_doc *docs;
    size_t n = 0;
    assert_int_equal(kb_list(w->k, &w->a, &docs, &n), ERR_OK);
    assert_int_equal(n, 2); /* hours, products */
    fts_integrity(w);

    /* files named one by one */
    snprintf(path, sizeof path, "%s/hours-and-locations.md", w->kbdir);
    t = add(w, path, ERR_OK);
    assert_int_equal(t.n[KB_UNCHANGED], 1);
    snprintf(path, sizeof path, "%s/nope.md", w->kbdir);
    t = add(w, path, ERR_NOT_FOUND);
    assert_int_equal(t.last_err, ERR_NOT_FOUND);
    snprintf(path, sizeof path, "%s/logo.png", w->kbdir);
    (void)add(w, path, ERR_INVALID);
    snprintf(path, sizeof path, "%s/shipping.md", w->kbdir);
    (void)add(w, path, ERR_INVALID);
    char *big = malloc(KB_MAX_FILE_BYTES + 10);
    memset(big, 'a', KB_MAX_FILE_BYTES + 10);
    snprintf(path, sizeof path, "%s/big.txt", w->kbdir);
    write_file(path, big, KB_MAX_FILE_BYTES + 10);
    free(big);
    t = add(w, path, ERR_TOO_LARGE);
    assert_int_equal(t.last_err, ERR_TOO_LARGE);
    world_free(w);
}

/* ---- embeddings ---- */

struct fake {
    struct http_server *http;
    int port;
    atomic_int requests, inputs, bad_auth;
    atomic_int mode; /* 0 ok, 1 status 500, 2 one vector short */
};

#define FAKE_DIM 16

/* A toy embedding: words of a few "concepts" share an axis; other words spread thinly. */
static void fake_vector(const char *text, json_t *out)
{
    static const struct {
        const char *word;
        int axis;
    } concepts[] = {{"ship", 0},   {"shipping", 0}, {"parcel", 0},    {"delivery", 0},
                    {"send", 0},   {"canada", 1},   {"abroad", 1},    {"countries", 1},
                    {"states", 1}, {"return", 2},   {"refund", 2},    {"refunds", 2},
                    {"money", 2},  {"hours", 3},    {"sunday", 3},    {"open", 3},
                    {"coffee", 4}, {"beans", 4},    {"espresso", 4},  {"discount", 5},
                    {"coupon", 5}, {"codes", 5},    {"promotions", 5}};
    double v[FAKE_DIM] = {0};
    char word[64];
    size_t n = 0;
    for (const char *p = text;; p++) {
        char c = *p >= 'A' && *p <= 'Z' ? (char)(*p + 32) : *p;
        if ((c >= 'a' && c <= 'z') && n < sizeof word - 1) {
            word[n++] = c;
            continue;
        }
        word[n] = '\0';
        bool known = false;
        for (size_t i = 0; n && i < sizeof concepts / sizeof concepts[0]; i++)
            if (strcmp(word, concepts[i].word) == 0) {
                v[concepts[i].axis] += 1;
                known = true;
            }
        if (n && !known)
            v[8 + (word[0] + n) % 8] += 0.2;
        n = 0;
        if (!*p)
            break;
    }
    for (int i = 0; i < FAKE_DIM; i++)
        json_array_append_new(out, json_real(v[i]));
}

static void fake_embeddings(struct http_req *req, void *ctx)
{
    struct fake *f = ctx;
    atomic_fetch_add(&f->requests, 1);
    const char *auth = http_req_header(req, "Authorization");
    if (!auth || strcmp(auth, "Bearer test-key") != 0)
        atomic_fetch_add(&f->bad_auth, 1);
    if (atomic_load(&f->mode) == 1) {
        http_reply_text(req, 500, "upstream on fire");
        return;
    }
    size_t len = 0;
    const char *body = http_req_body(req, &len);
    json_t *root = json_loadb(body, len, 0, NULL);
    json_t *input = json_object_get(root, "input");
    const char *model = json_string_value(json_object_get(root, "model"));
    if (!json_is_array(input) || !model || strcmp(model, "test-embed") != 0) {
        json_decref(root);
        http_reply_text(req, 400, "bad request");
        return;
    }
    json_t *data = json_array();
    size_t n = json_array_size(input);
    atomic_fetch_add(&f->inputs, (int)n);
    for (size_t i = n; i-- > 0;) { /* reversed: the client must go by "index" */
        if (atomic_load(&f->mode) == 2 && i == 0)
            continue;
        json_t *vec = json_array();
        fake_vector(json_string_value(json_array_get(input, i)), vec);
        json_array_append_new(data, json_pack("{s:s, s:i, s:o}", "object", "embedding", "index",
                                              (int)i, "embedding", vec));
    }
    json_decref(root);
    http_reply_json(
        req, 200,
        json_pack("{s:s, s:o, s:s}", "object", "list", "data", data, "model", "test-embed"));
}

static struct fake *fake_start(void)
{
    static struct http_route route;
    struct fake *f = calloc(1, sizeof *f);
    route = (struct http_route){HTTP_POST, "/v1/embeddings", fake_embeddings, f, 1 << 20};
    struct http_server_opts o = {.host = "127.0.0.1", .port = 0, .threads = 2};
    assert_int_equal(http_server_start(&o, &route, 1, &f->http), ERR_OK);
    f->port = http_server_port(f->http);
    return f;
}

static void fake_stop(struct fake *f)
{
    http_server_stop(f->http);
    free(f);
}

/* Runs fn with the log going to a temp file; returns what was logged (free it). */
static char *logged_during(void (*fn)(void *), void *arg)
{
    char path[] = "/tmp/sbkblog.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    log_set_fd(fd);
    fn(arg);
    log_set_fd(-1);
    close(fd);
    char *text = tu_read_file(path, NULL);
    unlink(path);
    return text;
}

struct run {
    struct world *w;
    struct tally t;
    struct kb_results r;
    const char *q;
};

static void run_add(void *arg)
{
    struct run *x = arg;
    x->t = add(x->w, x->w->kbdir, ERR_OK);
}

static void run_search(void *arg)
{
    struct run *x = arg;
    x->r = search(x->w, x->q, 5);
}

static void test_embeddings(void **state)
{
    (void)state;
    http_client_global_init();
    struct fake *f = fake_start();
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/", f->port);
    struct kb_opts eo = {.embed_url = url, .embed_model = "test-embed", .api_key = "test-key"};

    /* indexed lexically first: the hybrid kb then gives the unchanged files their vectors */
    struct world *w = world_new(&(struct kb_opts){0});
    (void)add(w, w->kbdir, ERR_OK);
    assert_int_equal(search(w, "parcel abroad", 5).n, 0); /* no word in common */
    world_close(w);
    world_open(w, &eo);
    struct tally t = add(w, w->kbdir, ERR_OK);
    assert_int_equal(t.n[KB_UPDATED], 4);
    assert_int_equal(t.with_vectors, 4);
    assert_int_equal(atomic_load(&f->requests), 4); /* one per file: each is one batch */
    assert_int_equal(atomic_load(&f->inputs), 14);
    assert_int_equal(atomic_load(&f->bad_auth), 0);
    t = add(w, w->kbdir, ERR_OK);
    assert_int_equal(t.n[KB_UNCHANGED], 4);
    assert_int_equal(atomic_load(&f->requests), 4); /* unchanged: nothing embedded again */

    /* hybrid: meaning without shared words, and shared words as before */
    struct kb_results r = search(w, "parcel abroad", 5);
    assert_true(r.used_vectors && r.n > 0);
    assert_string_equal(r.hits[0].title, "Shipping");
    assert_true(r.hits[0].cosine > 0.5 && r.hits[0].coverage == 0);
    r = search(w, "discount code", 3);
    assert_true(r.used_vectors && r.n == 3);
    assert_string_equal(r.hits[0].heading, "Returns and refunds > Discounts");
    assert_true(r.hits[0].coverage == 1.0 && r.hits[0].bm25 > 0 && r.hits[0].cosine > 0.5);
    for (size_t i = 1; i < r.n; i++)
        assert_true(r.hits[i].score <= r.hits[i - 1].score);

    /* the service fails: indexing stays lexical, searching too, each logged */
    atomic_store(&f->mode, 1);
    put(w, "shipping.md", "# Shipping\n\nWe ship to Zanzibar by sea freight.\n");
    struct run x = {.w = w};
    char *log = logged_during(run_add, &x);
    assert_int_equal(x.t.n[KB_UPDATED], 1);
    assert_int_equal(x.t.with_vectors, 3); /* the three unchanged files kept theirs */
    assert_non_null(strstr(log, "\"kb.embed_failed\""));
    assert_non_null(strstr(log, "\"status\":500"));
    assert_null(strstr(log, "test-key"));
    free(log);
    x.q = "zanzibar";
    log = logged_during(run_search, &x);
    assert_false(x.r.used_vectors);
    assert_true(x.r.n == 1 && strcmp(x.r.hits[0].title, "Shipping") == 0);
    assert_non_null(strstr(log, "\"kb.query_embed_failed\""));
    free(log);

    /* an answer with a vector missing is no answer */
    atomic_store(&f->mode, 2);
    put(w, "shipping.md", "# Shipping\n\nWe ship to Zanzibar and Pemba by sea freight.\n");
    log = logged_during(run_add, &x);
    assert_int_equal(x.t.n[KB_UPDATED], 1);
    assert_int_equal(x.t.with_vectors, 3);
    assert_non_null(strstr(log, "\"kb.embed_failed\""));
    free(log);
    atomic_store(&f->mode, 0);
    assert_true(search(w, "parcel abroad", 5).used_vectors);
    fts_integrity(w);
    world_free(w);

    /* nobody listening */
    fake_stop(f);
    w = world_new(&eo);
    x.w = w;
    log = logged_during(run_add, &x);
    assert_int_equal(x.t.n[KB_ADDED], 4);
    assert_int_equal(x.t.with_vectors, 0);
    free(log);
    assert_string_equal(first_title(w, "do you ship to canada"), "Shipping");
    world_free(w);
}

/* A knowledge base past KB_PRUNE_MIN_CHUNKS (2000 chunks): a query's very common words do not
 * rank (the chunk with the rare word wins even where the common word is everywhere), yet they
 * still count for coverage; chunks holding every selective word come first, and when there are
 * not enough of them the others follow. */
static void test_large_kb_ranks_by_selective_words(void **state)
{
    (void)state;
    struct world *w = world_new(&(struct kb_opts){0});
    char dir[300];
    snprintf(dir, sizeof dir, "%s/large", w->dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    for (int f = 0; f < 50; f++) {
        char path[400];
        snprintf(path, sizeof path, "%s/doc%02d.md", dir, f);
        FILE *fp = fopen(path, "w");
        assert_non_null(fp);
        for (int s = 0; s < 45; s++) {
            int id = f * 45 + s;
            /* "coffee" in every chunk; "zanzibar" in one; "grinder" in one of ten */
            fprintf(fp, "## Section %d\n\nOur coffee number %d %s%s is sold here every day.\n\n",
                    id, id, id == 1233 ? "zanzibar " : "", id % 10 == 3 ? "grinder" : "mug");
        }
        fclose(fp);
    }
    add(w, dir, ERR_OK);
    struct kb_results r = search(w, "zanzibar coffee", 3);
    assert_true(r.n >= 1);
    assert_non_null(strstr(r.hits[0].text, "zanzibar"));
    assert_float_equal(r.hits[0].coverage, 1.0, 1e-9); /* "coffee" still counted */
    r = search(w, "zanzibar grinder coffee", 3);       /* one chunk holds both selective words */
    assert_int_equal(r.n, 3);                          /* and the OR fills up the rest */
    assert_non_null(strstr(r.hits[0].text, "zanzibar grinder"));
    assert_float_equal(r.hits[0].coverage, 1.0, 1e-9);
    assert_non_null(strstr(r.hits[1].text, "grinder"));
    r = search(w, "coffee", 3); /* only a common word: it still ranks */
    assert_int_equal(r.n, 3);
    world_free(w);
}

int main(void)
{
    log_set_level(LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_questions),
        cmocka_unit_test(test_fts_syntax),
        cmocka_unit_test(test_query_terms),
        cmocka_unit_test(test_reindex),
        cmocka_unit_test(test_embeddings),
        cmocka_unit_test(test_large_kb_ranks_by_selective_words),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
