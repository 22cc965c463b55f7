/*
 * store/sqlite_kb.c - the knowledge base's rows (SQLite): documents, chunks with their
 * vectors, and the FTS5 index over them.
 *
 * Owns: replacing a document and its chunks in one transaction (migration 6's triggers keep
 * kb_fts in step, also for the chunks ON DELETE CASCADE removes), the BM25 query, and the
 * kb_matched() FTS5 auxiliary function that says which phrases of the query a chunk holds
 * (registered on a connection the first time a search needs it).
 * Statements are prepared per call: indexing runs at file speed, searches a few per turn.
 * Vectors are BLOBs of float32 in the host's byte order (little-endian on every target).
 */
#include "store/sqlite_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"

#define SQ(b)          ((struct sqlite_store *)(b))
#define KB_VERSION_KEY "kb.version"
#define KB_MAX_DIM     65536 /* a longer BLOB is not one of our vectors */

/* ---- documents ---- */

#define DOC_COLUMNS                                                                                \
    "SELECT d.id, d.path, d.title, d.sha256, d.embed_model, d.updated_at,"                         \
    " (SELECT count(*) FROM kb_chunks c WHERE c.document_id = d.id) FROM kb_documents d"

static void doc_row(struct arena *a, sqlite3_stmt *st, struct store_kb_doc *d)
{
    *d = (struct store_kb_doc){.id = sqlite3_column_int64(st, 0),
                               .path = sqlite_col_text(a, st, 1),
                               .title = sqlite_col_text(a, st, 2),
                               .sha256 = sqlite_col_text(a, st, 3),
                               .embed_model = sqlite_col_text(a, st, 4),
                               .updated_at = sqlite3_column_int64(st, 5),
                               .n_chunks = sqlite3_column_int64(st, 6)};
}

enum err sqlite_kb_doc_get(struct store *base, struct arena *a, const char *path,
                           struct store_kb_doc *out)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = sqlite_prepare_once(s, DOC_COLUMNS " WHERE d.path = ?1");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    enum err e = rc == SQLITE_ROW    ? ERR_OK
                 : rc == SQLITE_DONE ? ERR_NOT_FOUND
                                     : sqlite_err(s, rc, "kb_doc_get");
    if (e == ERR_OK)
        doc_row(a, st, out);
    sqlite3_finalize(st);
    return e;
}

enum err sqlite_kb_docs_list(struct store *base, struct arena *a, const char *prefix,
                             struct store_kb_doc **out, size_t *n)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st =
        sqlite_prepare_once(s, DOC_COLUMNS " WHERE ?1 IS NULL OR"
                                           " substr(d.path, 1, length(?1)) = ?1 ORDER BY d.path");
    if (!st)
        return ERR_INTERNAL;
    if (prefix)
        sqlite3_bind_text(st, 1, prefix, -1, SQLITE_STATIC);
    struct store_kb_doc *v = NULL;
    size_t len = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (len == cap) {
            cap = cap ? 2 * cap : 16;
            v = xrealloc(v, cap * sizeof *v);
        }
        doc_row(a, st, &v[len++]);
    }
    enum err e = rc == SQLITE_DONE ? ERR_OK : sqlite_err(s, rc, "kb_docs_list");
    sqlite3_finalize(st);
    *n = e == ERR_OK ? len : 0;
    *out = e == ERR_OK && len ? arena_alloc(a, len * sizeof *v) : NULL;
    if (*out)
        memcpy(*out, v, len * sizeof *v);
    free(v);
    return e;
}

static enum err bump_version(struct sqlite_store *s, int64_t now_ms)
{
    sqlite3_stmt *st =
        sqlite_prepare_once(s, "INSERT INTO settings (key, value, updated_at)"
                               " VALUES ('" KB_VERSION_KEY "', '1', ?1) ON CONFLICT (key)"
                               " DO UPDATE SET value = CAST(value AS INTEGER) + 1,"
                               " updated_at = excluded.updated_at");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, now_ms);
    return sqlite_run_once(s, st, "kb_version_bump", NULL);
}

/* Deletes the document at path (its chunks first, so the triggers see them); *changes = 0
 * when there was none. */
static enum err delete_doc(struct sqlite_store *s, const char *path, int64_t *changes)
{
    sqlite3_stmt *st = sqlite_prepare_once(s, "DELETE FROM kb_chunks WHERE document_id IN"
                                              " (SELECT id FROM kb_documents WHERE path = ?1)");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
    enum err rc = sqlite_run_once(s, st, "kb_chunks_delete", NULL);
    if (rc != ERR_OK)
        return rc;
    st = sqlite_prepare_once(s, "DELETE FROM kb_documents WHERE path = ?1");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
    return sqlite_run_once(s, st, "kb_doc_delete", changes);
}

static enum err insert_chunks(struct sqlite_store *s, int64_t doc_id,
                              const struct store_kb_doc_new *d)
{
    sqlite3_stmt *st =
        sqlite_prepare_once(s, "INSERT INTO kb_chunks (document_id, heading, text, embedding)"
                               " VALUES (?1, ?2, ?3, ?4)");
    if (!st)
        return ERR_INTERNAL;
    enum err rc = ERR_OK;
    for (size_t i = 0; i < d->n_chunks && rc == ERR_OK; i++) {
        const struct store_kb_chunk_new *c = &d->chunks[i];
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        sqlite3_bind_int64(st, 1, doc_id);
        sqlite3_bind_text(st, 2, c->heading ? c->heading : "", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, c->text, -1, SQLITE_STATIC);
        if (c->vec && d->dim)
            sqlite3_bind_blob(st, 4, c->vec, (int)(d->dim * sizeof(float)), SQLITE_STATIC);
        int src = sqlite3_step(st);
        rc = src == SQLITE_DONE ? ERR_OK : sqlite_err(s, src, "kb_chunk_insert");
    }
    sqlite3_finalize(st);
    return rc;
}

static enum err put_doc(struct sqlite_store *s, const struct store_kb_doc_new *d, int64_t now_ms,
                        int64_t *id)
{
    enum err rc = delete_doc(s, d->path, NULL);
    sqlite3_stmt *st = rc == ERR_OK
                           ? sqlite_prepare_once(s, "INSERT INTO kb_documents (path, title, sha256,"
                                                    " embed_model, updated_at)"
                                                    " VALUES (?1, ?2, ?3, ?4, ?5)")
                           : NULL;
    if (!st)
        return rc == ERR_OK ? ERR_INTERNAL : rc;
    sqlite3_bind_text(st, 1, d->path, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, d->title, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, d->sha256, -1, SQLITE_STATIC);
    if (d->embed_model && d->dim)
        sqlite3_bind_text(st, 4, d->embed_model, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, now_ms);
    rc = sqlite_run_once(s, st, "kb_doc_insert", NULL);
    int64_t doc_id = sqlite3_last_insert_rowid(s->db);
    if (rc == ERR_OK)
        rc = insert_chunks(s, doc_id, d);
    if (rc == ERR_OK)
        rc = bump_version(s, now_ms);
    if (rc == ERR_OK && id)
        *id = doc_id;
    return rc;
}

enum err sqlite_kb_doc_put(struct store *base, const struct store_kb_doc_new *d, int64_t now_ms,
                           int64_t *id)
{
    enum err rc = store_begin(base);
    if (rc != ERR_OK)
        return rc;
    rc = put_doc(SQ(base), d, now_ms, id);
    if (rc != ERR_OK) {
        store_rollback(base);
        return rc;
    }
    return store_commit(base);
}

enum err sqlite_kb_doc_delete(struct store *base, const char *path)
{
    enum err rc = store_begin(base);
    if (rc != ERR_OK)
        return rc;
    int64_t changes = 0;
    rc = delete_doc(SQ(base), path, &changes);
    if (rc == ERR_OK && changes == 0)
        rc = ERR_NOT_FOUND;
    if (rc == ERR_OK)
        rc = bump_version(SQ(base), clock_now_ms());
    if (rc != ERR_OK) {
        store_rollback(base);
        return rc;
    }
    return store_commit(base);
}

static sqlite3_stmt *kept(struct sqlite_store *s, int id);
enum { KB_Q_SEARCH, KB_Q_DOC_FREQ, KB_Q_VERSION };

enum err sqlite_kb_version(struct store *base, int64_t *version)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = kept(s, KB_Q_VERSION);
    if (!st)
        return ERR_INTERNAL;
    int rc = sqlite3_step(st);
    *version = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    enum err e = rc == SQLITE_ROW || rc == SQLITE_DONE ? ERR_OK : sqlite_err(s, rc, "kb_version");
    sqlite3_reset(st); /* a kept statement must not hold its read snapshot */
    return e;
}

/* ---- search ---- */

/* kb_matched(kb_fts): bit i set when phrase i of the MATCH expression occurs in the row. */
static void matched_fn(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx,
                       int argc, sqlite3_value **argv)
{
    (void)argc;
    (void)argv;
    sqlite3_uint64 mask = 0;
    int n = api->xPhraseCount(fts);
    for (int i = 0; i < n && i < 64; i++) {
        Fts5PhraseIter it;
        int col = -1, off = -1;
        if (api->xPhraseFirst(fts, i, &it, &col, &off) == SQLITE_OK && col >= 0)
            mask |= (sqlite3_uint64)1 << i;
    }
    sqlite3_result_int64(ctx, (sqlite3_int64)mask);
}

static enum err register_matched(struct sqlite_store *s)
{
    fts5_api *api = NULL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT fts5(?1)", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_pointer(st, 1, (void *)&api, "fts5_api_ptr", NULL);
        sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (!api || api->xCreateFunction(api, "kb_matched", NULL, matched_fn, NULL) != SQLITE_OK) {
        log_error("store.fts5_unavailable");
        return ERR_INTERNAL;
    }
    return ERR_OK;
}

/* kb_matched() reads the position lists, so it runs for the top rows only (a second MATCH
 * pinned to the row), not for every row the OR of common words matches. */
#define SEARCH_SQL                                                                                 \
    "WITH top AS (SELECT rowid AS id, bm25(kb_fts, 2.0, 1.0) AS r"                                 \
    " FROM kb_fts WHERE kb_fts MATCH ?1 ORDER BY r LIMIT ?2)"                                      \
    " SELECT top.id, d.path, d.title, c.heading, c.text, top.r,"                                   \
    " (SELECT kb_matched(kb_fts) FROM kb_fts WHERE kb_fts MATCH ?3 AND rowid = top.id) FROM top"   \
    " JOIN kb_chunks c ON c.id = top.id JOIN kb_documents d ON d.id = c.document_id"               \
    " ORDER BY top.r, top.id"

static const char *const kept_sql[SQLITE_KB_STMTS] = {
    [KB_Q_SEARCH] = SEARCH_SQL,
    [KB_Q_DOC_FREQ] = "SELECT count(*) FROM (SELECT 1 FROM kb_fts WHERE kb_fts MATCH ?1 LIMIT ?2)",
    [KB_Q_VERSION] = "SELECT CAST(value AS INTEGER) FROM settings WHERE key = '" KB_VERSION_KEY "'",
};

/* The statements a search runs, prepared once per connection and kept (reset, bindings
 * cleared); the first search statement on a connection registers kb_matched(). Callers reset
 * a kept statement when done, so it never pins an old snapshot of the database. */
static sqlite3_stmt *kept(struct sqlite_store *s, int id)
{
    sqlite3_stmt *st = s->kb_stmts[id];
    if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return st;
    }
    int rc = sqlite3_prepare_v3(s->db, kept_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (rc == SQLITE_ERROR && id == KB_Q_SEARCH && strstr(sqlite3_errmsg(s->db), "kb_matched")) {
        sqlite3_finalize(st);
        st = NULL;
        if (register_matched(s) != ERR_OK)
            return NULL;
        rc = sqlite3_prepare_v3(s->db, kept_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    }
    if (rc != SQLITE_OK) {
        (void)sqlite_err(s, rc, "kb_prepare");
        sqlite3_finalize(st);
        return NULL;
    }
    s->kb_stmts[id] = st;
    return st;
}

static void hit_row(struct arena *a, sqlite3_stmt *st, struct store_kb_hit *h)
{
    *h = (struct store_kb_hit){.chunk_id = sqlite3_column_int64(st, 0),
                               .path = sqlite_col_text(a, st, 1),
                               .title = sqlite_col_text(a, st, 2),
                               .heading = sqlite_col_text(a, st, 3),
                               .text = sqlite_col_text(a, st, 4)};
    if (sqlite3_column_count(st) > 6) {
        h->bm25 = sqlite3_column_double(st, 5);
        h->matched = (uint64_t)sqlite3_column_int64(st, 6);
    }
}

enum err sqlite_kb_search(struct store *base, struct arena *a, const char *match,
                          const char *rank_match, size_t max, struct store_kb_hit *out, size_t *n)
{
    struct sqlite_store *s = SQ(base);
    *n = 0;
    sqlite3_stmt *st = kept(s, KB_Q_SEARCH);
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_text(st, 1, rank_match ? rank_match : match, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
    sqlite3_bind_text(st, 3, match, -1, SQLITE_STATIC);
    int rc = SQLITE_DONE;
    while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
        hit_row(a, st, &out[(*n)++]);
    if (*n == max)
        rc = SQLITE_DONE;
    enum err e = ERR_OK;
    if (rc != SQLITE_DONE) { /* a MATCH syntax error is the caller's query, not our bug */
        bool syntax = rc == SQLITE_ERROR && strstr(sqlite3_errmsg(s->db), "fts5");
        e = syntax ? ERR_INVALID : sqlite_err(s, rc, "kb_search");
        *n = 0;
    }
    sqlite3_reset(st);
    return e;
}

enum err sqlite_kb_doc_freq(struct store *base, const char *phrase, int64_t cap, int64_t *n)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st =
        phrase ? kept(s, KB_Q_DOC_FREQ) : sqlite_prepare_once(s, "SELECT count(*) FROM kb_chunks");
    if (!st)
        return ERR_INTERNAL;
    if (phrase) {
        sqlite3_bind_text(st, 1, phrase, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, cap);
    }
    int rc = sqlite3_step(st);
    *n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    enum err e = rc == SQLITE_ROW ? ERR_OK
                 : rc == SQLITE_ERROR && strstr(sqlite3_errmsg(s->db), "fts5")
                     ? ERR_INVALID
                     : sqlite_err(s, rc, "kb_doc_freq");
    if (phrase)
        sqlite3_reset(st);
    else
        sqlite3_finalize(st);
    return e;
}

enum err sqlite_kb_chunks_get(struct store *base, struct arena *a, const int64_t *ids, size_t n_ids,
                              struct store_kb_hit *out, size_t *n)
{
    struct sqlite_store *s = SQ(base);
    *n = 0;
    sqlite3_stmt *st =
        sqlite_prepare_once(s, "SELECT c.id, d.path, d.title, c.heading, c.text"
                               " FROM kb_chunks c JOIN kb_documents d ON d.id = c.document_id"
                               " WHERE c.id = ?1");
    if (!st)
        return ERR_INTERNAL;
    enum err e = ERR_OK;
    for (size_t i = 0; i < n_ids && e == ERR_OK; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, ids[i]);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            hit_row(a, st, &out[(*n)++]);
        else if (rc != SQLITE_DONE)
            e = sqlite_err(s, rc, "kb_chunks_get");
    }
    sqlite3_finalize(st);
    return e;
}

enum err sqlite_kb_vectors(struct store *base, const char *model, store_kb_vec_fn *fn, void *ctx)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st =
        sqlite_prepare_once(s, "SELECT c.id, c.embedding FROM kb_chunks c"
                               " JOIN kb_documents d ON d.id = c.document_id"
                               " WHERE d.embed_model = ?1 AND c.embedding IS NOT NULL"
                               " ORDER BY c.id");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
    float *vec = NULL; /* the BLOB's bytes need not be aligned for float */
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        size_t bytes = (size_t)sqlite3_column_bytes(st, 1);
        const void *blob = sqlite3_column_blob(st, 1);
        size_t dim = bytes / sizeof(float);
        if (!blob || dim == 0 || dim > KB_MAX_DIM || bytes % sizeof(float) != 0)
            continue;
        if (dim > cap) {
            vec = xrealloc(vec, bytes);
            cap = dim;
        }
        memcpy(vec, blob, bytes);
        fn(ctx, sqlite3_column_int64(st, 0), vec, dim);
    }
    free(vec);
    enum err e = rc == SQLITE_DONE ? ERR_OK : sqlite_err(s, rc, "kb_vectors");
    sqlite3_finalize(st);
    return e;
}
