/*
 * meta/graph_login.c - the typed Graph calls of the login flow (meta-platform.md section 4):
 * the login dialog URL, code and long-lived token exchange, /me/accounts with cursor paging,
 * debug_token, and a Page's webhook subscription.
 *
 * Each call is a thin wrapper: parameters in, meta_graph_call(), a pure parser out. The
 * parsers are public so every recorded Graph answer in the fixtures is a test of them.
 * Paging never fetches paging.next (an absolute URL from the answer: section 7's SSRF note):
 * the request is rebuilt under our own Graph URL with after=<cursor>, or, when the answer has
 * no cursor, with the query of the next link (offset- or time-based paging), until next is
 * absent.
 */
#include "meta/graph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "http/http.h"
#include "meta/graph_int.h"

#define ACCOUNT_FIELDS                                                                             \
    "id,name,access_token,tasks,instagram_business_account{id,username,profile_picture_url}"
#define DEFAULT_PAGE_LIMIT 100

static const char *enc(struct arena *a, const char *s)
{
    return http_url_encode(a, s ? s : "");
}

char *meta_oauth_dialog_url(struct arena *a, const char *oauth_url, const char *version,
                            const char *app_id, const char *redirect_uri, const char *state,
                            const char *scope)
{
    const char *base = oauth_url ? oauth_url : "";
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/')
        n--;
    return arena_printf(a,
                        "%.*s/%s/dialog/oauth?client_id=%s&redirect_uri=%s&state=%s&scope=%s"
                        "&response_type=code",
                        (int)n, base, version ? version : "", enc(a, app_id), enc(a, redirect_uri),
                        enc(a, state), enc(a, scope));
}

/* An answer that came back 2xx but not in the documented shape. */
enum err meta_graph_bad_answer(struct meta_graph_error *gerr, int status, const char *what)
{
    meta_graph_error_set(gerr, status, META_ERR_INVALID, what);
    return ERR_UPSTREAM;
}

const char *meta_graph_id_path(struct arena *a, const char *id, const char *edge)
{
    if (!id || !*id)
        return NULL;
    for (const char *c = id; *c; c++) {
        if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
              *c == '_'))
            return NULL;
    }
    return edge ? arena_printf(a, "/%s/%s", id, edge) : arena_printf(a, "/%s", id);
}

static const char **string_array(struct arena *a, const json_t *arr, size_t *n)
{
    size_t cap = json_array_size(arr);
    const char **out = arena_alloc(a, (cap ? cap : 1) * sizeof *out);
    *n = 0;
    for (size_t i = 0; i < cap; i++) {
        const json_t *v = json_array_get(arr, i);
        const char *s = json_is_string(v) ? json_string_value(v) : json_get_str(v, "name");
        if (s)
            out[(*n)++] = s;
    }
    return out;
}

/* ---- tokens ---- */

enum err meta_parse_token(const json_t *body, struct meta_token *out)
{
    memset(out, 0, sizeof *out);
    const char *tok = json_get_str(body, "access_token");
    if (!tok || !*tok)
        return ERR_INVALID;
    out->access_token = tok;
    out->token_type = json_get_str(body, "token_type");
    int64_t exp = 0;
    if (json_get_i64(body, "expires_in", &exp) && exp > 0)
        out->expires_in = exp;
    return ERR_OK;
}

static enum err token_call(struct meta_graph *g, struct arena *a, const struct meta_param *p,
                           size_t n, struct meta_token *out, struct meta_graph_error *gerr)
{
    memset(out, 0, sizeof *out);
    const struct meta_graph_req req = {
        .method = "GET", .path = "/oauth/access_token", .params = p, .n_params = n};
    struct meta_graph_resp resp;
    enum err rc = meta_graph_call(g, a, &req, &resp, gerr);
    if (rc != ERR_OK)
        return rc;
    if (meta_parse_token(resp.json, out) != ERR_OK)
        return meta_graph_bad_answer(gerr, resp.http_status, "no access_token in the answer");
    return ERR_OK;
}

enum err meta_exchange_code(struct meta_graph *g, struct arena *a, const char *code,
                            const char *redirect_uri, struct meta_token *out,
                            struct meta_graph_error *gerr)
{
    const struct meta_param p[] = {
        {"client_id", meta_graph_app_id(g)},
        {"redirect_uri", redirect_uri ? redirect_uri : ""},
        {"client_secret", meta_graph_app_secret(g)},
        {"code", code ? code : ""},
    };
    return token_call(g, a, p, sizeof p / sizeof p[0], out, gerr);
}

enum err meta_exchange_long_lived(struct meta_graph *g, struct arena *a, const char *short_token,
                                  struct meta_token *out, struct meta_graph_error *gerr)
{
    const struct meta_param p[] = {
        {"grant_type", "fb_exchange_token"},
        {"client_id", meta_graph_app_id(g)},
        {"client_secret", meta_graph_app_secret(g)},
        {"fb_exchange_token", short_token ? short_token : ""},
    };
    return token_call(g, a, p, sizeof p / sizeof p[0], out, gerr);
}

/* ---- paging and Pages ---- */

void meta_parse_paging(const json_t *body, const char **after, bool *has_next)
{
    const json_t *paging = json_object_get(body, "paging");
    const char *next = json_get_str(paging, "next");
    *after = json_get_str(json_object_get(paging, "cursors"), "after");
    *has_next = next && *next;
}

struct pairs {
    struct arena *a;
    char *out;
    size_t n;
};

/* One pair of a next link's query, unless it is a credential or overrides the method. */
static void keep_pair(void *ctx, const char *k, const char *v)
{
    static const char *const dropped[] = {"access_token", "appsecret_proof", "appsecret_time",
                                          "method", NULL};
    struct pairs *p = ctx;
    for (size_t i = 0; dropped[i]; i++)
        if (strcmp(k, dropped[i]) == 0)
            return;
    if (!*k || ++p->n > META_PAGING_MAX_PARAMS)
        return;
    p->out =
        arena_printf(p->a, "%s%s%s=%s", p->out, *p->out ? "&" : "", enc(p->a, k), enc(p->a, v));
}

enum err meta_paging_next_query(struct arena *a, const json_t *body, char **query)
{
    *query = NULL;
    const char *after;
    bool has_next;
    meta_parse_paging(body, &after, &has_next);
    if (!has_next)
        return ERR_NOT_FOUND;
    if (after && *after) {
        *query = arena_printf(a, "after=%s", enc(a, after));
        return ERR_OK;
    }
    const char *next = json_get_str(json_object_get(body, "paging"), "next");
    const char *q = strchr(next, '?');
    if (strlen(next) > META_PAGING_NEXT_MAX || !q)
        return ERR_INVALID;
    q++;
    struct pairs p = {.a = a, .out = arena_strdup(a, "")};
    http_form_each(a, q, strcspn(q, "#"), keep_pair, &p);
    if (!*p.out || p.n > META_PAGING_MAX_PARAMS)
        return ERR_INVALID;
    *query = p.out;
    return ERR_OK;
}

static void parse_page(const json_t *item, struct meta_page *p, struct arena *a)
{
    p->name = json_get_str(item, "name");
    p->access_token = json_get_str(item, "access_token");
    const json_t *ig = json_object_get(item, "instagram_business_account");
    p->ig_id = json_get_id(a, ig, "id");
    if (p->ig_id) {
        p->ig_username = json_get_str(ig, "username");
        p->ig_picture_url = json_get_str(ig, "profile_picture_url");
    }
    p->tasks = string_array(a, json_object_get(item, "tasks"), &p->n_tasks);
}

enum err meta_parse_accounts(struct arena *a, const json_t *body, struct meta_page **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    const json_t *data = json_object_get(body, "data");
    if (!json_is_array(data))
        return ERR_INVALID;
    size_t cap = json_array_size(data);
    struct meta_page *pages = arena_alloc(a, (cap ? cap : 1) * sizeof *pages);
    for (size_t i = 0; i < cap; i++) {
        const json_t *item = json_array_get(data, i);
        const char *id = json_get_id(a, item, "id");
        if (!id)
            continue;
        struct meta_page *p = &pages[(*n)++];
        p->id = id;
        parse_page(item, p, a);
    }
    *out = pages;
    return ERR_OK;
}

struct walk {
    struct meta_graph *g;
    const char *user_token;
    char limit[24];
    meta_page_fn *fn;
    void *ctx;
    char *query; /* the next request's pairs (meta_paging_next_query()), NULL first; heap */
    bool is_done;
};

struct req_params {
    struct meta_param p[META_PAGING_MAX_PARAMS + 2];
    size_t n;
    bool has_fields, has_limit;
};

static void add_param(void *ctx, const char *k, const char *v)
{
    struct req_params *rp = ctx;
    if (rp->n < META_PAGING_MAX_PARAMS) {
        rp->p[rp->n++] = (struct meta_param){k, v};
        rp->has_fields |= strcmp(k, "fields") == 0;
        rp->has_limit |= strcmp(k, "limit") == 0;
    }
}

/* The continuation's pairs, with our fields and limit when it does not name them. */
static void page_params(struct walk *w, struct arena *a, struct req_params *rp)
{
    memset(rp, 0, sizeof *rp);
    if (w->query)
        http_form_each(a, w->query, strlen(w->query), add_param, rp);
    if (!rp->has_fields)
        rp->p[rp->n++] = (struct meta_param){"fields", ACCOUNT_FIELDS};
    if (!rp->has_limit)
        rp->p[rp->n++] = (struct meta_param){"limit", w->limit};
}

/* One request of the listing; updates w->query / w->is_done. */
static enum err walk_page(struct walk *w, struct arena *a, struct meta_graph_error *gerr)
{
    struct req_params rp;
    page_params(w, a, &rp);
    const struct meta_graph_req req = {.method = "GET",
                                       .path = "/me/accounts",
                                       .params = rp.p,
                                       .n_params = rp.n,
                                       .access_token = w->user_token};
    struct meta_graph_resp resp;
    enum err rc = meta_graph_call(w->g, a, &req, &resp, gerr);
    struct meta_page *pages;
    size_t n;
    if (rc == ERR_OK && meta_parse_accounts(a, resp.json, &pages, &n) != ERR_OK)
        return meta_graph_bad_answer(gerr, resp.http_status, "accounts answer without data");
    for (size_t i = 0; rc == ERR_OK && i < n; i++)
        rc = w->fn(w->ctx, &pages[i]);
    if (rc != ERR_OK)
        return rc;
    char *query;
    rc = meta_paging_next_query(a, resp.json, &query);
    if (rc == ERR_NOT_FOUND) {
        w->is_done = true;
        return ERR_OK;
    }
    if (rc != ERR_OK)
        return meta_graph_bad_answer(gerr, resp.http_status, "paging.next without a cursor or a query");
    if (w->query && !strcmp(query, w->query))
        return meta_graph_bad_answer(gerr, resp.http_status, "paging.next repeats the last request");
    free(w->query);
    w->query = xstrdup(query);
    return ERR_OK;
}

enum err meta_list_pages(struct meta_graph *g, const char *user_token, int limit, meta_page_fn *fn,
                         void *ctx, struct meta_graph_error *gerr)
{
    struct walk w = {.g = g, .user_token = user_token, .fn = fn, .ctx = ctx};
    snprintf(w.limit, sizeof w.limit, "%d", limit > 0 ? limit : DEFAULT_PAGE_LIMIT);
    memset(gerr, 0, sizeof *gerr);
    enum err rc = ERR_OK;
    for (int page = 0; rc == ERR_OK && !w.is_done; page++) {
        if (page == META_MAX_PAGES) {
            meta_graph_error_set(gerr, 0, META_ERR_INVALID, "too many pages of accounts");
            rc = ERR_TOO_LARGE;
            break;
        }
        struct arena a;
        arena_init(&a);
        rc = walk_page(&w, &a, gerr);
        arena_release(&a);
    }
    free(w.query);
    return rc;
}

/* ---- debug_token ---- */

enum err meta_parse_debug_token(struct arena *a, const json_t *body, struct meta_token_info *out)
{
    memset(out, 0, sizeof *out);
    const json_t *d = json_object_get(body, "data");
    if (!json_is_object(d))
        d = body;
    const json_t *valid = json_object_get(d, "is_valid");
    if (!json_is_boolean(valid))
        return ERR_INVALID;
    out->is_valid = json_is_true(valid);
    out->type = json_get_str(d, "type");
    out->app_id = json_get_id(a, d, "app_id");
    out->user_id = json_get_id(a, d, "user_id");
    out->profile_id = json_get_id(a, d, "profile_id");
    int64_t v = 0;
    if (json_get_i64(d, "expires_at", &v) && v > 0)
        out->expires_at = v;
    v = 0;
    if (json_get_i64(d, "data_access_expires_at", &v) && v > 0)
        out->data_access_expires_at = v;
    out->scopes = string_array(a, json_object_get(d, "scopes"), &out->n_scopes);
    const json_t *err = json_object_get(d, "error");
    if (json_is_object(err)) {
        int64_t c = 0, s = 0;
        if (json_get_i64(err, "code", &c) && c > 0 && c < 1000000000)
            out->error_code = (int)c;
        if ((json_get_i64(err, "subcode", &s) || json_get_i64(err, "error_subcode", &s)) && s > 0 &&
            s < 1000000000)
            out->error_subcode = (int)s;
    }
    return ERR_OK;
}

enum err meta_debug_token(struct meta_graph *g, struct arena *a, const char *token,
                          struct meta_token_info *out, struct meta_graph_error *gerr)
{
    memset(out, 0, sizeof *out);
    const struct meta_param p[] = {{"input_token", token ? token : ""}};
    const struct meta_graph_req req = {.method = "GET",
                                       .path = "/debug_token",
                                       .params = p,
                                       .n_params = 1,
                                       .access_token = meta_graph_app_token(g)};
    struct meta_graph_resp resp;
    enum err rc = meta_graph_call(g, a, &req, &resp, gerr);
    if (rc != ERR_OK)
        return rc;
    if (meta_parse_debug_token(a, resp.json, out) != ERR_OK)
        return meta_graph_bad_answer(gerr, resp.http_status, "debug_token answer without is_valid");
    return ERR_OK;
}

/* ---- subscriptions ---- */

enum err meta_subscribe_page(struct meta_graph *g, const char *page_id, const char *page_token,
                             const char *const *fields, struct meta_graph_error *gerr)
{
    struct arena a;
    arena_init(&a);
    const char *path = meta_graph_id_path(&a, page_id, "subscribed_apps");
    char *list = arena_strdup(&a, "");
    for (size_t i = 0; fields && fields[i]; i++)
        list = arena_printf(&a, "%s%s%s", list, i ? "," : "", fields[i]);
    enum err rc = ERR_INVALID;
    if (!path || !*list || !page_token) {
        meta_graph_error_set(gerr, 0, META_ERR_INVALID, "bad page id, token or fields");
    } else {
        const struct meta_param p[] = {{"subscribed_fields", list}};
        const struct meta_graph_req req = {
            .method = "POST", .path = path, .params = p, .n_params = 1, .access_token = page_token};
        struct meta_graph_resp resp;
        rc = meta_graph_call(g, &a, &req, &resp, gerr);
        if (rc == ERR_OK && !json_is_true(json_object_get(resp.json, "success")))
            rc = meta_graph_bad_answer(gerr, resp.http_status, "subscribe answer without success");
    }
    arena_release(&a);
    return rc;
}

enum err meta_parse_subscriptions(struct arena *a, const json_t *body, const char *app_id,
                                  const char ***fields, size_t *n)
{
    *fields = NULL;
    *n = 0;
    const json_t *data = json_object_get(body, "data");
    if (!json_is_array(data))
        return ERR_INVALID;
    for (size_t i = 0; i < json_array_size(data); i++) {
        const json_t *item = json_array_get(data, i);
        const char *id = json_get_id(a, item, "id");
        if (!app_id || (id && !strcmp(id, app_id))) {
            *fields = string_array(a, json_object_get(item, "subscribed_fields"), n);
            return ERR_OK;
        }
    }
    return ERR_OK;
}

enum err meta_page_subscriptions(struct meta_graph *g, struct arena *a, const char *page_id,
                                 const char *page_token, const char ***fields, size_t *n,
                                 struct meta_graph_error *gerr)
{
    *fields = NULL;
    *n = 0;
    const char *path = meta_graph_id_path(a, page_id, "subscribed_apps");
    if (!path || !page_token) {
        meta_graph_error_set(gerr, 0, META_ERR_INVALID, "bad page id or token");
        return ERR_INVALID;
    }
    const struct meta_graph_req req = {.method = "GET", .path = path, .access_token = page_token};
    struct meta_graph_resp resp;
    enum err rc = meta_graph_call(g, a, &req, &resp, gerr);
    if (rc != ERR_OK)
        return rc;
    if (meta_parse_subscriptions(a, resp.json, meta_graph_app_id(g), fields, n) != ERR_OK)
        return meta_graph_bad_answer(gerr, resp.http_status, "subscribed_apps answer without data");
    return ERR_OK;
}
