/*
 * kb/kb_int.h - shared by the kb module's own files; nothing outside src/kb/ includes it.
 */
#ifndef SB_KB_INT_H
#define SB_KB_INT_H

#include "core/buf.h"
#include "kb/kb.h"

#define KB_MAX_DEPTH 6 /* heading levels */

/* ---- Markdown -> sections (markdown.c, inline.c) ---- */

struct md_section {
    struct md_section *next;
    const char *comps[KB_MAX_DEPTH]; /* the heading path, non-empty components only */
    int n_comps;
    const char *body; /* plain text, trimmed, non-empty */
    size_t len;
};

struct md_result {
    const char *title;
    struct md_section *first;
    size_t n;
};

/* Parses validated UTF-8 text (no BOM) into sections with non-empty bodies, in the arena.
 * ERR_TOO_LARGE only if a cap inside is exceeded. */
enum err md_parse(struct arena *a, const char *s, size_t n, enum kb_format fmt,
                  struct md_result *out);

/* Searches for one byte, remembering the last answer so a left-to-right scan of a line is
 * linear even when many openers have no closer. */
struct md_find {
    const char *from, *hit; /* the first c at or after from is hit (NULL: none before end) */
};

struct md_inline {
    struct buf *out;
    const char *end; /* end of the line */
    struct md_find find_close_bracket, find_close_paren, find_gt, find_tick;
    bool in_comment; /* an HTML comment runs past the end of the line */
};

/* Appends s[0..n) to out with inline Markdown removed (emphasis, code spans, links and images,
 * HTML tags and comments, escapes, common entities) and whitespace collapsed. The caller sets
 * out, clears the rest; in_comment says whether the line starts inside a comment and comes
 * back set when one is left open. */
enum err md_inline_line(struct md_inline *st, const char *s, size_t n);

/* Appends one byte, collapsing whitespace (no space at mark or after a space). */
enum err md_put(struct buf *b, size_t mark, char c);

/* ---- store access helpers shared by index.c and search.c ---- */

struct kb_vecs; /* search.c: the vectors cache */
struct kb_dfs;  /* search.c: how many chunks hold each recently searched term */

struct kb {
    struct store *s;
    char *embed_url, *embed_model, *api_key;
    long embed_timeout_ms, query_timeout_ms;
    const atomic_bool *cancel;
    bool backfill; /* give unchanged files that lack vectors their vectors */
    struct kb_vecs *vecs;
    struct kb_dfs *dfs;
};

static inline bool kb_has_embed(const struct kb *k)
{
    return k->embed_url && *k->embed_url && k->embed_model && *k->embed_model;
}

void kb_vecs_free(struct kb_vecs *v);
void kb_dfs_free(struct kb_dfs *d);

/* ---- embeddings (embed.c) ---- */

#define KB_EMBED_MAX_DIM 8192

struct kb_embed_fail {
    int status;       /* HTTP status, 0 when none came back */
    const char *what; /* static words: "connection failed", "bad response", ... */
};

/* Embeds n texts with the kb's model; on ERR_OK *vecs holds n unit-length vectors of *dim
 * floats each, one after the other, in the arena. ERR_UPSTREAM (and *fail filled) when the
 * service fails or answers something unusable. Nothing is logged. */
enum err kb_embed(const struct kb *k, struct arena *a, const char *const *texts, size_t n,
                  long timeout_ms, float **vecs, size_t *dim, struct kb_embed_fail *fail);

/* ---- sync (index.c, for sync.c) ---- */

/* Whether unchanged files without vectors of the configured model get them now. */
void kb_set_backfill(struct kb *k, bool on);

#endif
