/*
 * dashboard/kb_api.c - the knowledge base from the page (list, add, try a search, delete) and
 * the audit log (admin).
 *
 * A document added here is written as Markdown under SB_DATA_DIR/kb-uploads/ and indexed by
 * the same code as `kb add` (kb/), so it is chunked, searched and re-indexed like any other.
 */
#include "dashboard/dash_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/json.h"
#include "core/log.h"
#include "kb/kb.h"

#define KB_TEXT_MAX  (256 * 1024)
#define KB_TITLE_MAX 120
#define AUDIT_PAGE   50

static struct kb *open_kb(struct dashboard *d, struct store *s)
{
    struct kb_opts o = {.embed_url = d->cfg->embed_url,
                        .embed_model = d->cfg->embed_model,
                        .api_key = d->cfg->llm_api_key};
    struct kb *k = NULL;
    return kb_new(s, &o, &k) == ERR_OK ? k : NULL;
}

static json_t *doc_json(const struct store_kb_doc *doc)
{
    return json_pack("{s:I, s:s, s:s?, s:I, s:I, s:b}", "id", (json_int_t)doc->id, "path",
                     doc->path, "title", doc->title, "chunks", (json_int_t)doc->n_chunks,
                     "updated_at_ms", (json_int_t)doc->updated_at, "has_vectors",
                     doc->embed_model != NULL);
}

void dash_h_kb_list(struct http_req *r, void *ctx)
{
    struct dashboard_session ss;
    if (!dashboard_require_session(ctx, r, false, &ss))
        return;
    struct store_kb_doc *docs = NULL;
    size_t n = 0;
    enum err rc = store_kb_docs_list(ss.store, http_req_arena(r), NULL, &docs, &n);
    if (rc != ERR_OK) {
        http_reply_error(r, rc, "could not read the knowledge base");
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, doc_json(&docs[i]));
    http_set_header(r, "Cache-Control", "no-store");
    http_reply_json(r, 200, json_pack("{s:o}", "documents", list));
}

/* A file name from the title: lower-case letters, digits and dashes. */
static char *slug(struct arena *a, const char *title)
{
    char *out = arena_alloc(a, strlen(title) + 1);
    size_t k = 0;
    for (const char *p = title; *p && k < 60; p++) {
        char c = *p >= 'A' && *p <= 'Z' ? (char)(*p + 32) : *p;
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
            out[k++] = c;
        else if (k && out[k - 1] != '-')
            out[k++] = '-';
    }
    while (k && out[k - 1] == '-')
        k--;
    out[k] = '\0';
    return k ? out : arena_strdup(a, "document");
}

static enum err write_doc(const char *path, const char *title, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return ERR_IO;
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        return ERR_IO;
    }
    int ok = fprintf(f, "# %s\n\n%s\n", title, text) > 0;
    ok = fclose(f) == 0 && ok;
    return ok ? ERR_OK : ERR_IO;
}

struct added {
    enum kb_outcome outcome;
    size_t n_chunks;
    const char *reason;
};

static void on_report(void *ctx, const struct kb_report *rep)
{
    struct added *ad = ctx;
    ad->outcome = rep->outcome;
    ad->n_chunks = rep->n_chunks;
    ad->reason = rep->reason ? "the document could not be indexed" : NULL;
}

void dash_h_kb_add(struct http_req *r, void *ctx)
{
    struct dashboard *d = ctx;
    struct dashboard_session ss;
    if (!dashboard_require_session(d, r, true, &ss) || !dash_require_admin(r, &ss))
        return;
    struct arena *a = http_req_arena(r);
    size_t len = 0;
    const char *body = http_req_body(r, &len);
    json_t *in = json_loadb(body, len, 0, NULL);
    const char *title = arena_strdup(a, json_get_str(in, "title") ? json_get_str(in, "title") : "");
    const char *text = arena_strdup(a, json_get_str(in, "text") ? json_get_str(in, "text") : "");
    json_decref(in);
    if (!*title || strlen(title) > KB_TITLE_MAX || strpbrk(title, "\r\n") || !*text ||
        strlen(text) > KB_TEXT_MAX) {
        http_reply_error(r, ERR_INVALID,
                         "a title (one line, at most 120 bytes) and a text (at "
                         "most 256 KiB) are needed");
        return;
    }
    char *dir = arena_printf(a, "%s/kb-uploads", d->cfg->data_dir);
    char *path = arena_printf(a, "%s/%s.md", dir, slug(a, title));
    struct kb *k = open_kb(d, ss.store);
    struct added ad = {KB_SKIPPED, 0, NULL};
    enum err rc =
        (mkdir(dir, 0700) == 0 || errno == EEXIST) && k ? write_doc(path, title, text) : ERR_IO;
    if (rc == ERR_OK)
        rc = kb_add_path(k, path, on_report, &ad);
    kb_free(k);
    if (rc != ERR_OK) {
        http_reply_error(r, rc, ad.reason ? ad.reason : "could not add the document");
        return;
    }
    dash_audit(ss.store, ss.operator_id, "kb_add", arena_printf(a, "kb:%s", path),
               json_pack("{s:s, s:I}", "outcome", kb_outcome_name(ad.outcome), "chunks",
                         (json_int_t)ad.n_chunks));
    http_reply_json(r, 200,
                    json_pack("{s:s, s:s, s:I}", "path", path, "outcome",
                              kb_outcome_name(ad.outcome), "chunks", (json_int_t)ad.n_chunks));
}

void dash_h_kb_search(struct http_req *r, void *ctx)
{
    struct dashboard *d = ctx;
    struct dashboard_session ss;
    if (!dashboard_require_session(d, r, false, &ss))
        return;
    const char *q = http_req_query(r, "q");
    if (!q || !*q || strlen(q) > 1000) {
        http_reply_error(r, ERR_INVALID, "q: what a customer might ask (at most 1000 bytes)");
        return;
    }
    struct arena *a = http_req_arena(r);
    struct kb *k = open_kb(d, ss.store);
    struct kb_results res = {0};
    enum err rc = k ? kb_search(k, a, q, 5, &res) : ERR_IO;
    kb_free(k);
    if (rc != ERR_OK) {
        http_reply_error(r, rc, "could not search");
        return;
    }
    json_t *hits = json_array();
    for (size_t i = 0; i < res.n; i++)
        json_array_append_new(hits, json_pack("{s:s?, s:s?, s:s?, s:f}", "path", res.hits[i].path,
                                              "heading", res.hits[i].heading, "text",
                                              res.hits[i].text, "coverage", res.hits[i].coverage));
    http_reply_json(r, 200, json_pack("{s:o, s:b}", "hits", hits, "weak_query", res.weak_query));
}

void dash_h_kb_delete(struct http_req *r, void *ctx)
{
    struct dashboard *d = ctx;
    struct dashboard_session ss;
    if (!dashboard_require_session(d, r, true, &ss) || !dash_require_admin(r, &ss))
        return;
    struct arena *a = http_req_arena(r);
    const char *p = http_req_param(r, "id");
    long long id = p ? strtoll(p, NULL, 10) : 0;
    struct store_kb_doc *docs = NULL;
    size_t n = 0;
    enum err rc = store_kb_docs_list(ss.store, a, NULL, &docs, &n);
    const char *path = NULL;
    for (size_t i = 0; rc == ERR_OK && i < n; i++)
        if (docs[i].id == id)
            path = docs[i].path;
    if (rc == ERR_OK)
        rc = path ? store_kb_doc_delete(ss.store, path) : ERR_NOT_FOUND;
    if (rc != ERR_OK) {
        http_reply_error(r, rc, rc == ERR_NOT_FOUND ? "no such document" : NULL);
        return;
    }
    char *uploads = arena_printf(a, "%s/kb-uploads/", d->cfg->data_dir);
    if (strncmp(path, uploads, strlen(uploads)) == 0)
        unlink(path); /* ours: gone for good (a file from SB_KB_DIR comes back when it syncs) */
    dash_audit(ss.store, ss.operator_id, "delete", arena_printf(a, "kb:%s", path), NULL);
    http_reply_json(r, 200, json_pack("{s:b}", "ok", 1));
}

void dash_h_audit(struct http_req *r, void *ctx)
{
    struct dashboard_session ss;
    if (!dashboard_require_session(ctx, r, false, &ss) || !dash_require_admin(r, &ss))
        return;
    const char *b = http_req_query(r, "before");
    long long before = b ? strtoll(b, NULL, 10) : 0;
    struct store_audit *rows = NULL;
    size_t n = 0;
    enum err rc = store_audit_list(ss.store, http_req_arena(r), before > 0 ? before : 0, AUDIT_PAGE,
                                   &rows, &n);
    if (rc != ERR_OK) {
        http_reply_error(r, rc, NULL);
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *detail = rows[i].detail ? json_loads(rows[i].detail, 0, NULL) : NULL;
        json_array_append_new(
            list, json_pack("{s:I, s:I, s:s?, s:s, s:s?, s:o, s:I}", "id", (json_int_t)rows[i].id,
                            "operator_id", (json_int_t)rows[i].operator_id, "operator",
                            rows[i].operator_email, "action", rows[i].action, "target",
                            rows[i].target, "detail", detail ? detail : json_null(), "at_ms",
                            (json_int_t)rows[i].created_at));
    }
    http_reply_json(r, 200, json_pack("{s:o}", "entries", list));
}
