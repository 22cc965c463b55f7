/*
 * kb/kb.h - the knowledge base: documents -> chunks -> lexical index (SQLite FTS5, BM25) and
 * optional embeddings (an OpenAI-compatible /embeddings API); hybrid search.
 *
 * Owns: the Markdown/text chunker; indexing files and folders into the store (unchanged files
 * are skipped by SHA-256, a changed file's chunks are replaced in one transaction, documents
 * whose files vanished from an indexed folder are removed); the safe query builder (user text
 * is never FTS5 syntax); reciprocal rank fusion of BM25 and cosine rankings; the background
 * sync of SB_KB_DIR.
 * Does not own: SQL (store/), HTTP (http/client.h), deciding whether an answer is good
 * enough (agent/: it reads kb_hit.coverage and kb_hit.cosine).
 * Threads: a struct kb borrows one store connection, so it is used on that connection's
 * thread. kb_chunk_text() and kb_query_terms() are pure and run on any thread.
 * Memory: chunks, reports and search results live in the caller's arena.
 */
#ifndef SB_KB_KB_H
#define SB_KB_KB_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/mem.h"

struct store;
struct store_opts;
struct store_kb_doc;

#define KB_MAX_FILE_BYTES  ((size_t)1 << 20) /* a bigger file is ERR_TOO_LARGE */
#define KB_CHUNK_TARGET    800               /* bytes of text a chunk aims at */
#define KB_CHUNK_MAX       1200              /* hard cap on a chunk's text */
#define KB_CHUNK_MIN       100               /* a shorter section merges with a neighbour */
#define KB_HEADING_MAX     512               /* cap on a chunk's heading path */
#define KB_QUERY_MAX_TERMS 24                /* terms of a query beyond this are ignored */

/* ---- chunking ---- */

enum kb_format {
    KB_MARKDOWN, /* headings (ATX and setext), lists, tables, code fences; inline syntax stripped */
    KB_TEXT,     /* paragraphs and list-like lines only: '#' and '*' are just characters */
};

struct kb_chunk {
    const char *heading; /* heading path, "Shipping > Costs and times"; "" before any heading */
    const char *text;    /* plain text: paragraphs split by "\n\n", list items and table rows
                            by "\n", soft-wrapped lines joined; 1..KB_CHUNK_MAX bytes */
};

struct kb_doc {
    const char *title; /* the first level-1 heading (Markdown), or NULL */
    struct kb_chunk *chunks;
    size_t n_chunks; /* 0 for an empty file, or one with headings only */
};

/* Splits data[0..len) (no terminator needed; CRLF, CR and a UTF-8 BOM are fine) into chunks:
 * one section per heading, tiny sections merged with their neighbours under their common
 * heading, long ones split at paragraph, line or sentence boundaries near KB_CHUNK_TARGET and
 * never past KB_CHUNK_MAX. Errors: ERR_TOO_LARGE over KB_MAX_FILE_BYTES; ERR_INVALID for
 * bytes that are not text (a NUL byte, malformed UTF-8). *why (may be NULL) receives a static
 * reason for either. Everything in *out lives in the arena. */
MUST_USE enum err kb_chunk_text(struct arena *a, const char *data, size_t len, enum kb_format fmt,
                                struct kb_doc *out, const char **why);
/* The format a file name implies: .md and .markdown are Markdown, .txt is text (any case);
 * ERR_INVALID for anything else. */
MUST_USE enum err kb_format_for_path(const char *path, enum kb_format *fmt);

/* ---- indexing ---- */

struct kb_opts {
    const char *embed_url;     /* base URL (".../v1"); NULL or "": lexical only */
    const char *embed_model;   /* sent as "model" */
    const char *api_key;       /* Authorization: Bearer (SB_LLM_API_KEY); NULL or "": none */
    long embed_timeout_ms;     /* per request while indexing; 0: 30000 */
    long query_timeout_ms;     /* embedding a search query; 0: 5000 */
    const atomic_bool *cancel; /* optional: set it to stop a folder walk between files */
};

struct kb;

/* A knowledge base over store s (borrowed: it must outlive the kb). The options' strings are
 * copied. Caller owns *out; free with kb_free(). */
MUST_USE enum err kb_new(struct store *s, const struct kb_opts *o, struct kb **out);
void kb_free(struct kb *k);

enum kb_outcome {
    KB_ADDED,     /* a new document */
    KB_UPDATED,   /* its content (or its vectors) changed: chunks replaced */
    KB_UNCHANGED, /* same SHA-256 (and vectors of the configured model, when configured) */
    KB_SKIPPED,   /* not indexed: see err and reason */
    KB_REMOVED,   /* its file vanished from the folder being indexed */
};

/* "added", "updated", "unchanged", "skipped", "removed". */
const char *kb_outcome_name(enum kb_outcome o);

struct kb_report {
    const char *path; /* as walked: the argument, or the argument joined with the entry's name */
    enum kb_outcome outcome;
    enum err err;       /* KB_SKIPPED: ERR_NOT_FOUND (no such path), ERR_INVALID (not a .md,
                           .markdown or .txt file, or not text), ERR_TOO_LARGE, ERR_IO, or
                           ERR_OK for an empty file (nothing to index, not a failure) */
    const char *reason; /* KB_SKIPPED: a few words for people; NULL otherwise */
    size_t n_chunks;
    bool has_vectors; /* the chunks carry embeddings */
};

/* Called once per file (and per removed document), in a sorted, deterministic order. The
 * report and its strings live only during the call. */
typedef void kb_report_fn(void *ctx, const struct kb_report *r);

/* Indexes a file, or every .md, .markdown and .txt file under a folder (hidden entries and
 * symlinked folders are not followed; at most 8 levels and 10000 files). Re-indexing a
 * folder removes the documents under it whose files are gone. A file that is now empty, too
 * large or not text also loses its old document. Embedding failures only cost the vectors:
 * they are logged ("kb.embed_failed") and the file is indexed lexically.
 * Returns ERR_OK when every file was indexed, unchanged, or skipped inside a folder; a named
 * file that was skipped returns its skip error; ERR_NOT_FOUND for a missing path; ERR_AGAIN
 * when cancelled; store errors as they come. fn may be NULL. */
MUST_USE enum err kb_add_path(struct kb *k, const char *path, kb_report_fn *fn, void *ctx);
/* Every document, ordered by path (store_kb_docs_list()). */
MUST_USE enum err kb_list(struct kb *k, struct arena *a, struct store_kb_doc **out, size_t *n);

/* ---- search ---- */

struct kb_terms {
    const char *match; /* an FTS5 expression: "t1" OR "t2" ...; every term quoted, so nothing a
                          customer types is FTS5 syntax */
    size_t n;          /* terms in match, at most KB_QUERY_MAX_TERMS; 0: nothing to search */
    bool weak;         /* every word was a stopword, so they were all kept */
};

/* Splits a query into lower-cased words (letters, digits and any non-ASCII character; other
 * ASCII bytes separate words), drops stopwords (English and common Spanish, Portuguese,
 * French, German and Italian ones) and duplicates, and quotes each term. Queries over 4 KiB
 * are cut. */
MUST_USE enum err kb_query_terms(struct arena *a, const char *query, struct kb_terms *out);

struct kb_hit {
    int64_t chunk_id;
    const char *path, *title, *heading, *text;
    double score;    /* the ranking, higher is better: -bm25 for a lexical search, the
                        reciprocal-rank-fusion sum when vectors were used */
    double bm25;     /* -bm25() (> 0) when the chunk matched lexically, else 0 */
    double coverage; /* query terms found in the chunk / query terms, 0..1 (stemmed) */
    double cosine;   /* similarity of the query's and the chunk's vectors (-1..1) when
                        vectors were used, else 0 */
};

struct kb_results {
    struct kb_hit *hits; /* best first */
    size_t n;
    size_t n_terms;    /* terms searched */
    bool weak_query;   /* kb_terms.weak: treat the coverage with suspicion */
    bool used_vectors; /* hybrid: the query was embedded and fused with BM25 */
};

/* The top max (at most 50) chunks for a customer's words: BM25 over heading (weight 2) and text
 * (weight 1); when embeddings are configured and the store has vectors of that model, fused with
 * the cosine ranking (reciprocal rank fusion, k = 60). A failed query embedding is logged
 * ("kb.query_embed_failed") and the search stays lexical. No terms: ERR_OK with no hits.
 * Results live in the arena. */
MUST_USE enum err kb_search(struct kb *k, struct arena *a, const char *query, size_t max,
                            struct kb_results *out);

/* ---- SB_KB_DIR at start ---- */

struct kb_sync;

#define KB_SYNC_INTERVAL_MS 30000 /* how often serve looks for edits in SB_KB_DIR */

/* Starts a thread with its own store connection that indexes dir at once and then every
 * interval_ms (0: only once) so edits are picked up; the store must be migrated. Each pass is
 * logged ("kb.synced"); failures are logged, never fatal. The strings are copied. Caller owns
 * *out; stop with kb_sync_stop(). */
MUST_USE enum err kb_sync_start(const struct store_opts *so, const struct kb_opts *o,
                                const char *dir, int64_t interval_ms, struct kb_sync **out);
/* Stops after the file in hand (at most one embeddings request) and frees (NULL is fine). */
void kb_sync_stop(struct kb_sync *ks);

#endif
