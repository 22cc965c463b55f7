/*
 * kb/index.c - files and folders -> documents in the store.
 *
 * Owns: reading a file under KB_MAX_FILE_BYTES, the SHA-256 that decides "unchanged", turning
 * chunks (and their vectors, when embeddings are configured) into one store_kb_doc_put()
 * transaction, walking a folder in name order, and removing the documents whose files left
 * it. Documents are keyed by the file's real path (realpath(3)), so the same file added
 * from two working directories, or through a symlink, is one document.
 * An embedding failure is logged once per file ("kb.embed_failed") and costs only vectors.
 */
#include "kb/kb.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/log.h"
#include "kb/kb_int.h"
#include "store/store.h"

#define WALK_MAX_DEPTH 8
#define WALK_MAX_FILES 10000

struct walk {
    struct kb *k;
    kb_report_fn *fn;
    void *ctx;
    char **seen; /* real paths of the candidate files met */
    size_t n_seen, cap_seen, n_files;
    bool complete;  /* every entry was looked at: pruning is safe */
    enum err error; /* the first runtime failure */
};

enum err kb_new(struct store *s, const struct kb_opts *o, struct kb **out)
{
    struct kb *k = xcalloc(1, sizeof *k);
    k->s = s;
    k->embed_url = xstrdup(o->embed_url ? o->embed_url : "");
    k->embed_model = xstrdup(o->embed_model ? o->embed_model : "");
    k->api_key = xstrdup(o->api_key ? o->api_key : "");
    k->embed_timeout_ms = o->embed_timeout_ms > 0 ? o->embed_timeout_ms : 30000;
    k->query_timeout_ms = o->query_timeout_ms > 0 ? o->query_timeout_ms : 5000;
    k->cancel = o->cancel;
    k->backfill = true;
    *out = k;
    return ERR_OK;
}

void kb_free(struct kb *k)
{
    if (!k)
        return;
    crypto_cleanse(k->api_key, strlen(k->api_key));
    free(k->embed_url);
    free(k->embed_model);
    free(k->api_key);
    kb_vecs_free(k->vecs);
    kb_dfs_free(k->dfs);
    free(k);
}

void kb_set_backfill(struct kb *k, bool on)
{
    k->backfill = on;
}

const char *kb_outcome_name(enum kb_outcome o)
{
    static const char *const names[] = {"added", "updated", "unchanged", "skipped", "removed"};
    return (unsigned)o < sizeof names / sizeof names[0] ? names[o] : "?";
}

enum err kb_list(struct kb *k, struct arena *a, struct store_kb_doc **out, size_t *n)
{
    return store_kb_docs_list(k->s, a, NULL, out, n);
}

/* ---- one file ---- */

struct file {
    const char *shown, *real;
    char *data;
    size_t len;
    char sha[2 * CRYPTO_SHA256_LEN + 1];
    struct store_kb_doc old;
    bool has_old;
};

static void report(struct walk *w, const char *path, enum kb_outcome o, enum err err,
                   const char *reason, size_t n_chunks, bool vectors)
{
    struct kb_report r = {path, o, err, reason, n_chunks, vectors};
    if (w->fn)
        w->fn(w->ctx, &r);
}

/* Reads the whole file into f->data; *why for people when it fails. */
static enum err read_file(struct file *f, const char **why)
{
    int fd = open(f->real, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        int e = errno;
        *why = strerror(e);
        if (fd >= 0)
            close(fd);
        return e == ENOENT ? ERR_NOT_FOUND : ERR_IO;
    }
    enum err rc = ERR_OK;
    if (!S_ISREG(st.st_mode)) {
        *why = "not a regular file";
        rc = ERR_INVALID;
    } else if ((size_t)st.st_size > KB_MAX_FILE_BYTES) {
        *why = "larger than 1 MiB";
        rc = ERR_TOO_LARGE;
    }
    f->data = rc == ERR_OK ? xmalloc(KB_MAX_FILE_BYTES + 1) : NULL;
    while (rc == ERR_OK && f->len <= KB_MAX_FILE_BYTES) {
        ssize_t got = read(fd, f->data + f->len, KB_MAX_FILE_BYTES + 1 - f->len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            *why = strerror(errno);
            rc = ERR_IO;
        }
        if (got <= 0)
            break;
        f->len += (size_t)got;
    }
    if (rc == ERR_OK && f->len > KB_MAX_FILE_BYTES) { /* it grew while we looked */
        *why = "larger than 1 MiB";
        rc = ERR_TOO_LARGE;
    }
    close(fd);
    return rc;
}

/* The file name without folder and extension, '-' and '_' as spaces: a title of last resort. */
static const char *stem_title(struct arena *a, const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    char *t = arena_strndup(a, base, dot && dot != base ? (size_t)(dot - base) : strlen(base));
    for (char *p = t; *p; p++)
        if (*p == '-' || *p == '_')
            *p = ' ';
    return t;
}

/* Vectors for the chunks, or NULL (logged) when the service fails. */
static const float *embed_chunks(struct kb *k, struct arena *a, const struct file *f,
                                 const struct kb_doc *doc, size_t *dim)
{
    const char **texts = arena_alloc(a, doc->n_chunks * sizeof *texts);
    for (size_t i = 0; i < doc->n_chunks; i++)
        texts[i] = *doc->chunks[i].heading
                       ? arena_printf(a, "%s\n\n%s", doc->chunks[i].heading, doc->chunks[i].text)
                       : doc->chunks[i].text;
    float *v = NULL;
    struct kb_embed_fail fail;
    int64_t t0 = clock_mono_us();
    enum err rc = kb_embed(k, a, texts, doc->n_chunks, k->embed_timeout_ms, &v, dim, &fail);
    if (rc == ERR_OK)
        return v;
    log_warn("kb.embed_failed", LOG_STR("path", f->real), LOG_INT("chunks", doc->n_chunks),
             LOG_INT("status", fail.status), LOG_STR("reason", fail.what),
             LOG_INT("ms", (clock_mono_us() - t0) / 1000), LOG_ERR(rc));
    return NULL;
}

/* Stores the chunks (replacing the old document); the outcome. */
static enum err store_doc(struct walk *w, struct arena *a, struct file *f, const struct kb_doc *doc)
{
    struct kb *k = w->k;
    size_t dim = 0;
    const float *vecs = kb_has_embed(k) ? embed_chunks(k, a, f, doc, &dim) : NULL;
    if (!vecs && f->has_old && strcmp(f->old.sha256, f->sha) == 0) {
        report(w, f->shown, KB_UNCHANGED, ERR_OK, NULL, (size_t)f->old.n_chunks,
               f->old.embed_model != NULL);
        return ERR_OK; /* only came for vectors, and got none */
    }
    struct store_kb_chunk_new *cs = arena_alloc(a, doc->n_chunks * sizeof *cs);
    for (size_t i = 0; i < doc->n_chunks; i++)
        cs[i] = (struct store_kb_chunk_new){doc->chunks[i].heading, doc->chunks[i].text,
                                            vecs ? vecs + i * dim : NULL};
    struct store_kb_doc_new d = {.path = f->real,
                                 .title = doc->title ? doc->title : stem_title(a, f->shown),
                                 .sha256 = f->sha,
                                 .embed_model = vecs ? k->embed_model : NULL,
                                 .dim = vecs ? dim : 0,
                                 .chunks = cs,
                                 .n_chunks = doc->n_chunks};
    enum err rc = store_kb_doc_put(k->s, &d, clock_now_ms(), NULL);
    if (rc != ERR_OK) {
        report(w, f->shown, KB_SKIPPED, rc, "could not store it", 0, false);
        return rc;
    }
    report(w, f->shown, f->has_old ? KB_UPDATED : KB_ADDED, ERR_OK, NULL, doc->n_chunks,
           vecs != NULL);
    return ERR_OK;
}

static bool up_to_date(const struct kb *k, const struct file *f)
{
    if (!f->has_old || strcmp(f->old.sha256, f->sha) != 0)
        return false;
    if (!kb_has_embed(k) || !k->backfill || f->old.n_chunks == 0)
        return true;
    return f->old.embed_model && strcmp(f->old.embed_model, k->embed_model) == 0;
}

/* The old document goes when the file can no longer be indexed (not on a read error). */
static enum err skip_content(struct walk *w, struct file *f, enum err why_rc, const char *why)
{
    enum err rc = f->has_old ? store_kb_doc_delete(w->k->s, f->real) : ERR_OK;
    if (rc == ERR_NOT_FOUND)
        rc = ERR_OK;
    report(w, f->shown, KB_SKIPPED, why_rc, why, 0, false);
    return rc;
}

/* Indexes one file. Returns a runtime failure (store, I/O) or the reason it was skipped. */
static enum err index_file(struct walk *w, struct arena *a, struct file *f, enum kb_format fmt)
{
    const char *why = NULL;
    enum err rc = store_kb_doc_get(w->k->s, a, f->real, &f->old);
    f->has_old = rc == ERR_OK;
    if (rc == ERR_OK || rc == ERR_NOT_FOUND)
        rc = read_file(f, &why);
    if (rc == ERR_TOO_LARGE || rc == ERR_INVALID)
        return skip_content(w, f, rc, why) == ERR_OK ? rc : ERR_INTERNAL;
    if (rc != ERR_OK) {
        report(w, f->shown, KB_SKIPPED, rc, why ? why : "could not read it", 0, false);
        return rc;
    }
    unsigned char digest[CRYPTO_SHA256_LEN];
    crypto_sha256(f->data, f->len, digest);
    hex_encode(digest, sizeof digest, f->sha);
    if (up_to_date(w->k, f)) {
        report(w, f->shown, KB_UNCHANGED, ERR_OK, NULL, (size_t)f->old.n_chunks,
               f->old.embed_model != NULL);
        return ERR_OK;
    }
    struct kb_doc doc;
    rc = kb_chunk_text(a, f->data, f->len, fmt, &doc, &why);
    if (rc != ERR_OK)
        return skip_content(w, f, rc, why) == ERR_OK ? rc : ERR_INTERNAL;
    if (doc.n_chunks == 0)
        return skip_content(w, f, ERR_OK, "empty: no text to index");
    return store_doc(w, a, f, &doc);
}

/* shown: the path to print; real: the resolved path to key the document on. */
static enum err add_file(struct walk *w, const char *shown, const char *real)
{
    enum kb_format fmt;
    if (kb_format_for_path(shown, &fmt) != ERR_OK) {
        report(w, shown, KB_SKIPPED, ERR_INVALID, "not a .md, .markdown or .txt file", 0, false);
        return ERR_INVALID;
    }
    struct arena a;
    arena_init(&a);
    struct file f = {.shown = shown, .real = real};
    enum err rc = index_file(w, &a, &f, fmt);
    free(f.data);
    arena_release(&a);
    return rc;
}

/* ---- folders ---- */

static bool runtime_failure(enum err rc)
{
    return rc != ERR_OK && rc != ERR_INVALID && rc != ERR_TOO_LARGE;
}

static void remember(struct walk *w, const char *real)
{
    if (w->n_seen == w->cap_seen) {
        w->cap_seen = w->cap_seen ? 2 * w->cap_seen : 64;
        w->seen = xrealloc(w->seen, w->cap_seen * sizeof *w->seen);
    }
    w->seen[w->n_seen++] = xstrdup(real);
}

static enum err walk_dir(struct walk *w, const char *shown, const char *real, int depth);

static enum err walk_entry(struct walk *w, const char *shown, const char *real, int depth)
{
    struct stat st;
    if (lstat(real, &st) != 0)
        return ERR_OK; /* gone since the listing */
    if (S_ISDIR(st.st_mode)) {
        if (depth < WALK_MAX_DEPTH)
            return walk_dir(w, shown, real, depth + 1);
        w->complete = false;
        return ERR_OK;
    }
    bool is_link = S_ISLNK(st.st_mode);
    if (is_link && (stat(real, &st) != 0 || !S_ISREG(st.st_mode)))
        return ERR_OK; /* symlinked folders are not followed, dangling links ignored */
    if (!S_ISREG(st.st_mode))
        return ERR_OK;
    if (w->n_files++ >= WALK_MAX_FILES) {
        w->complete = false;
        return ERR_OK;
    }
    char resolved[PATH_MAX];
    const char *key = is_link && realpath(real, resolved) ? resolved : real;
    enum kb_format fmt;
    if (kb_format_for_path(shown, &fmt) == ERR_OK)
        remember(w, key);
    enum err rc = add_file(w, shown, key);
    if (runtime_failure(rc) && w->error == ERR_OK)
        w->error = rc;
    return ERR_OK;
}

static enum err walk_dir(struct walk *w, const char *shown, const char *real, int depth)
{
    struct dirent **names;
    int n = scandir(real, &names, NULL, alphasort);
    if (n < 0) {
        report(w, shown, KB_SKIPPED, ERR_IO, strerror(errno), 0, false);
        w->complete = false;
        w->error = w->error ? w->error : ERR_IO;
        return ERR_OK;
    }
    enum err rc = ERR_OK;
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        if (rc == ERR_OK && w->k->cancel && atomic_load(w->k->cancel))
            rc = ERR_AGAIN;
        if (rc == ERR_OK && name[0] != '.') {
            char *cs = xmalloc(strlen(shown) + strlen(name) + 2);
            char *cr = xmalloc(strlen(real) + strlen(name) + 2);
            snprintf(cs, strlen(shown) + strlen(name) + 2, "%s/%s", shown, name);
            snprintf(cr, strlen(real) + strlen(name) + 2, "%s/%s", real, name);
            rc = walk_entry(w, cs, cr, depth);
            free(cs);
            free(cr);
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Removes the documents under real/ whose files were not met. */
static enum err prune(struct walk *w, const char *real)
{
    struct arena a;
    arena_init(&a);
    struct store_kb_doc *docs = NULL;
    size_t n = 0;
    const char *prefix = arena_printf(&a, "%s/", strcmp(real, "/") == 0 ? "" : real);
    enum err rc = store_kb_docs_list(w->k->s, &a, prefix, &docs, &n);
    if (w->n_seen)
        qsort(w->seen, w->n_seen, sizeof *w->seen, cmp_str);
    for (size_t i = 0; i < n && rc == ERR_OK; i++) {
        const char *key = docs[i].path;
        if (w->n_seen && bsearch(&key, w->seen, w->n_seen, sizeof *w->seen, cmp_str))
            continue;
        rc = store_kb_doc_delete(w->k->s, docs[i].path);
        if (rc == ERR_OK)
            report(w, docs[i].path, KB_REMOVED, ERR_OK, NULL, (size_t)docs[i].n_chunks, false);
        else if (rc == ERR_NOT_FOUND) /* another process got there first */
            rc = ERR_OK;
    }
    arena_release(&a);
    return rc;
}

static enum err add_dir(struct walk *w, const char *shown, const char *real)
{
    w->complete = true;
    enum err rc = walk_dir(w, shown, real, 0);
    if (rc == ERR_OK && w->complete)
        rc = prune(w, real);
    if (rc == ERR_OK)
        rc = w->error;
    return rc;
}

enum err kb_add_path(struct kb *k, const char *path, kb_report_fn *fn, void *ctx)
{
    struct walk w = {.k = k, .fn = fn, .ctx = ctx};
    char real[PATH_MAX];
    struct stat st;
    if (!realpath(path, real) || stat(real, &st) != 0) {
        bool missing = errno == ENOENT || errno == ENOTDIR;
        report(&w, path, KB_SKIPPED, missing ? ERR_NOT_FOUND : ERR_IO,
               missing ? "no such file or directory" : strerror(errno), 0, false);
        return missing ? ERR_NOT_FOUND : ERR_IO;
    }
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/')
        len--;
    char *shown = xstrndup(path, len);
    enum err rc = S_ISDIR(st.st_mode) ? add_dir(&w, shown, real) : add_file(&w, shown, real);
    for (size_t i = 0; i < w.n_seen; i++)
        free(w.seen[i]);
    free(w.seen);
    free(shown);
    return rc;
}
