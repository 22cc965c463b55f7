/*
 * meta/publish.c - Instagram content publishing calls (publish.h).
 *
 * Each call is a thin wrapper: parameters in, meta_graph_call(), a pure parser out, as in
 * graph_login.c. A POST carries its parameters as a form body (meta_graph_call()), so a
 * caption's '#' is encoded there like every other byte.
 */
#include "meta/publish.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/json.h"
#include "meta/graph_int.h"

#define RECENT_MAX       50
#define STATUS_WORDS_MAX 500
#define CODE_TEXT_MAX    64

static const char *const status_names[] = {
    [META_CONTAINER_UNKNOWN] = "UNKNOWN",   [META_CONTAINER_IN_PROGRESS] = "IN_PROGRESS",
    [META_CONTAINER_FINISHED] = "FINISHED", [META_CONTAINER_ERROR] = "ERROR",
    [META_CONTAINER_EXPIRED] = "EXPIRED",   [META_CONTAINER_PUBLISHED] = "PUBLISHED",
};

#define N_STATUS (sizeof status_names / sizeof status_names[0])

const char *meta_container_status_name(enum meta_container_status s)
{
    return (size_t)s < N_STATUS ? status_names[s] : "UNKNOWN";
}

/* ---- parsers ---- */

enum err meta_parse_container_status(struct arena *a, const json_t *body,
                                     struct meta_container_state *out)
{
    memset(out, 0, sizeof *out);
    const char *code = json_get_str(body, "status_code");
    if (!code)
        return ERR_INVALID;
    out->code_text = arena_strndup(a, code, strnlen(code, CODE_TEXT_MAX));
    const char *words = json_get_str(body, "status");
    out->words = words ? arena_strndup(a, words, strnlen(words, STATUS_WORDS_MAX)) : NULL;
    out->code = META_CONTAINER_UNKNOWN;
    for (size_t i = 1; i < N_STATUS; i++)
        if (strcmp(code, status_names[i]) == 0)
            out->code = (enum meta_container_status)i;
    return ERR_OK;
}

enum err meta_parse_publishing_limit(const json_t *body, int64_t *usage, int64_t *total)
{
    *usage = *total = 0;
    const json_t *item = json_array_get(json_object_get(body, "data"), 0);
    if (!json_is_object(item) || !json_get_i64(item, "quota_usage", usage) || *usage < 0)
        return ERR_INVALID;
    const json_t *config = json_object_get(item, "config");
    if (json_is_object(config) && (!json_get_i64(config, "quota_total", total) || *total < 0))
        *total = 0;
    return ERR_OK;
}

enum err meta_parse_created_id(struct arena *a, const json_t *body, const char **id)
{
    *id = json_get_id(a, body, "id");
    return *id && **id ? ERR_OK : ERR_INVALID;
}

/* ---- calls ---- */

static enum err call(struct meta_graph *g, struct arena *a, const char *method, const char *path,
                     const struct meta_param *p, size_t n, const char *token,
                     struct meta_graph_resp *resp, struct meta_graph_error *gerr)
{
    if (!path || !token || !*token) {
        meta_graph_error_set(gerr, 0, META_ERR_INVALID, "bad id or no token");
        return ERR_INVALID;
    }
    const struct meta_graph_req req = {
        .method = method, .path = path, .params = p, .n_params = n, .access_token = token};
    return meta_graph_call(g, a, &req, resp, gerr);
}

static const char *children_list(struct arena *a, const struct meta_ig_container_req *req)
{
    if (!req->children || req->n_children == 0)
        return NULL;
    char *list = arena_strdup(a, "");
    for (size_t i = 0; i < req->n_children; i++)
        list = arena_printf(a, "%s%s%s", list, i ? "," : "", req->children[i]);
    return list;
}

enum err meta_ig_container_create(struct meta_graph *g, struct arena *a, const char *ig_id,
                                  const char *token, const struct meta_ig_container_req *req,
                                  const char **container_id, struct meta_graph_error *gerr)
{
    *container_id = NULL;
    const char *children = children_list(a, req);
    const struct meta_param p[] = {
        {"image_url", children ? NULL : req->image_url},
        {"is_carousel_item", req->is_carousel_item ? "true" : NULL},
        {"media_type", children ? "CAROUSEL" : NULL},
        {"children", children},
        {"caption", req->is_carousel_item ? NULL : req->caption},
    };
    struct meta_graph_resp resp;
    enum err rc = call(g, a, "POST", meta_graph_id_path(a, ig_id, "media"), p,
                       sizeof p / sizeof p[0], token, &resp, gerr);
    if (rc == ERR_OK && meta_parse_created_id(a, resp.json, container_id) != ERR_OK)
        rc = meta_graph_bad_answer(gerr, resp.http_status, "container answer without an id");
    return rc;
}

enum err meta_ig_container_status(struct meta_graph *g, struct arena *a, const char *container_id,
                                  const char *token, struct meta_container_state *out,
                                  struct meta_graph_error *gerr)
{
    memset(out, 0, sizeof *out);
    const struct meta_param p[] = {{"fields", "status_code,status"}};
    struct meta_graph_resp resp;
    enum err rc = call(g, a, "GET", meta_graph_id_path(a, container_id, NULL), p, 1, token, &resp,
                       gerr);
    if (rc == ERR_OK && meta_parse_container_status(a, resp.json, out) != ERR_OK)
        rc = meta_graph_bad_answer(gerr, resp.http_status, "container without a status_code");
    return rc;
}

enum err meta_ig_media_publish(struct meta_graph *g, struct arena *a, const char *ig_id,
                               const char *token, const char *container_id, const char **media_id,
                               struct meta_graph_error *gerr)
{
    *media_id = NULL;
    const struct meta_param p[] = {{"creation_id", container_id}};
    struct meta_graph_resp resp;
    enum err rc = call(g, a, "POST", meta_graph_id_path(a, ig_id, "media_publish"), p, 1, token,
                       &resp, gerr);
    if (rc == ERR_OK && meta_parse_created_id(a, resp.json, media_id) != ERR_OK)
        rc = meta_graph_bad_answer(gerr, resp.http_status, "media_publish answer without an id");
    return rc;
}

enum err meta_ig_media_permalink(struct meta_graph *g, struct arena *a, const char *media_id,
                                 const char *token, const char **permalink,
                                 struct meta_graph_error *gerr)
{
    *permalink = NULL;
    const struct meta_param p[] = {{"fields", "permalink"}};
    struct meta_graph_resp resp;
    enum err rc =
        call(g, a, "GET", meta_graph_id_path(a, media_id, NULL), p, 1, token, &resp, gerr);
    const char *link = rc == ERR_OK ? json_get_str(resp.json, "permalink") : NULL;
    if (rc == ERR_OK && !link)
        rc = meta_graph_bad_answer(gerr, resp.http_status, "media without a permalink");
    if (link)
        *permalink = arena_strdup(a, link);
    return rc;
}

enum err meta_ig_publishing_limit(struct meta_graph *g, struct arena *a, const char *ig_id,
                                  const char *token, int64_t *usage, int64_t *total,
                                  struct meta_graph_error *gerr)
{
    *usage = *total = 0;
    const struct meta_param p[] = {{"fields", "quota_usage,config"}};
    struct meta_graph_resp resp;
    enum err rc = call(g, a, "GET", meta_graph_id_path(a, ig_id, "content_publishing_limit"), p,
                       1, token, &resp, gerr);
    if (rc == ERR_OK && meta_parse_publishing_limit(resp.json, usage, total) != ERR_OK)
        rc = meta_graph_bad_answer(gerr, resp.http_status, "publishing limit without quota_usage");
    return rc;
}

enum err meta_ig_recent_media(struct meta_graph *g, struct arena *a, const char *ig_id,
                              const char *token, size_t limit, struct meta_ig_media **out,
                              size_t *n, struct meta_graph_error *gerr)
{
    *out = NULL;
    *n = 0;
    limit = limit < 1 ? 1 : limit > RECENT_MAX ? RECENT_MAX : limit;
    const struct meta_param p[] = {{"fields", "id,caption,permalink,timestamp"},
                                   {"limit", arena_printf(a, "%zu", limit)}};
    struct meta_graph_resp resp;
    enum err rc = call(g, a, "GET", meta_graph_id_path(a, ig_id, "media"), p, 2, token, &resp,
                       gerr);
    const json_t *data = rc == ERR_OK ? json_object_get(resp.json, "data") : NULL;
    if (rc == ERR_OK && !json_is_array(data))
        return meta_graph_bad_answer(gerr, resp.http_status, "media list without data");
    size_t count = json_array_size(data) < limit ? json_array_size(data) : limit;
    *out = count ? arena_alloc(a, count * sizeof **out) : NULL;
    for (size_t i = 0; i < count; i++) {
        const json_t *item = json_array_get(data, i);
        struct meta_ig_media *m = &(*out)[*n];
        m->id = json_get_id(a, item, "id");
        if (!m->id)
            continue;
        const char *caption = json_get_str(item, "caption");
        const char *link = json_get_str(item, "permalink");
        m->caption = caption ? arena_strdup(a, caption) : NULL;
        m->permalink = link ? arena_strdup(a, link) : NULL;
        err_ignore(meta_parse_graph_time(json_get_str(item, "timestamp"), &m->ts_ms));
        (*n)++;
    }
    return rc;
}
