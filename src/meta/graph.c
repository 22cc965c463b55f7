/*
 * meta/graph.c - the Graph API call primitive: URL, parameters, access token and
 * appsecret_proof on the wire; the answer parsed, its errors classified, its usage headers read.
 *
 * Owns: the only place an access token or the app secret is put into a request. Tokens go in
 * the query string (GET, DELETE, POST with a JSON body) or the form body (other POSTs); the
 * log line names the method, the path (never its query), the status and the error code.
 * Does not own: the error table (graph_error.c), the usage headers (usage.c), typed calls
 * (graph_login.c).
 * Threads: struct meta_graph is read-only after meta_graph_new(); calls run concurrently.
 */
#include "meta/graph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/log.h"
#include "http/client.h"
#include "http/http.h"
#include "meta/graph_int.h"

#define GRAPH_DEFAULT_TIMEOUT_MS 15000L
#define GRAPH_MAX_RESP           ((size_t)4 * 1024 * 1024)
#define GRAPH_MAX_PATH           512

struct meta_graph {
    char *base; /* "{graph_url}/{version}", no trailing slash */
    char *app_id;
    char *app_token; /* "{app_id}|{app_secret}" (debug_token) */
    char *app_secret;
    struct crypto_hmac *proof_key; /* HMAC key = app secret */
    long timeout_ms;
};

/* The usage headers, in the order resp->headers[] returns them. */
static const char *const usage_headers[] = {"X-App-Usage", "X-Business-Use-Case-Usage",
                                            "X-Page-Usage", NULL};

static bool is_set(const char *s)
{
    return s && *s;
}

enum err meta_graph_new(const struct meta_graph_opts *o, struct meta_graph **out)
{
    *out = NULL;
    if (!is_set(o->graph_url) || !is_set(o->version) || !is_set(o->app_id) ||
        !is_set(o->app_secret) || strchr(o->version, '/'))
        return ERR_INVALID;
    struct meta_graph *g = xcalloc(1, sizeof *g);
    size_t n = strlen(o->graph_url);
    while (n > 0 && o->graph_url[n - 1] == '/')
        n--;
    struct buf b;
    buf_init(&b, 4096);
    if (buf_printf(&b, "%.*s/%s", (int)n, o->graph_url, o->version) != ERR_OK) {
        buf_release(&b);
        free(g);
        return ERR_INVALID;
    }
    g->base = buf_detach(&b, NULL);
    g->app_id = xstrdup(o->app_id);
    g->app_secret = xstrdup(o->app_secret);
    size_t tlen = strlen(o->app_id) + 1 + strlen(o->app_secret) + 1;
    g->app_token = xmalloc(tlen);
    snprintf(g->app_token, tlen, "%s|%s", o->app_id, o->app_secret);
    g->proof_key = crypto_hmac_new(o->app_secret, strlen(o->app_secret));
    g->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : GRAPH_DEFAULT_TIMEOUT_MS;
    *out = g;
    return ERR_OK;
}

static void free_secret(char *s)
{
    if (s)
        crypto_cleanse(s, strlen(s));
    free(s);
}

void meta_graph_free(struct meta_graph *g)
{
    if (!g)
        return;
    free(g->base);
    free(g->app_id);
    free_secret(g->app_token);
    free_secret(g->app_secret);
    crypto_hmac_free(g->proof_key);
    free(g);
}

const char *meta_graph_app_token(const struct meta_graph *g)
{
    return g->app_token;
}

const char *meta_graph_app_id(const struct meta_graph *g)
{
    return g->app_id;
}

const char *meta_graph_app_secret(const struct meta_graph *g)
{
    return g->app_secret;
}

/* ---- the request ---- */

static bool valid_method(const char *m)
{
    return m && (!strcmp(m, "GET") || !strcmp(m, "POST") || !strcmp(m, "DELETE"));
}

/* "/a/b_c.d-e": no query, no fragment, no "..", nothing to escape. */
static bool valid_path(const char *p)
{
    if (!p || p[0] != '/' || strlen(p) > GRAPH_MAX_PATH || strstr(p, "..") || strstr(p, "//"))
        return false;
    for (const char *c = p; *c; c++) {
        bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                  (*c >= '0' && *c <= '9') || *c == '/' || *c == '_' || *c == '.' || *c == '-';
        if (!ok)
            return false;
    }
    return true;
}

static char *append_param(struct arena *a, char *s, const char *k, const char *v)
{
    return arena_printf(a, "%s%s%s=%s", s, *s ? "&" : "", http_url_encode(a, k),
                        http_url_encode(a, v));
}

/* k=v&... with the access token and its proof last. */
static char *encode_params(struct arena *a, const struct meta_graph *g,
                           const struct meta_graph_req *req)
{
    char *s = arena_strdup(a, "");
    for (size_t i = 0; i < req->n_params; i++) {
        if (req->params[i].key && req->params[i].value)
            s = append_param(a, s, req->params[i].key, req->params[i].value);
    }
    if (req->access_token) {
        unsigned char mac[CRYPTO_SHA256_LEN];
        char proof[2 * CRYPTO_SHA256_LEN + 1];
        crypto_hmac_compute(g->proof_key, req->access_token, strlen(req->access_token), mac);
        hex_encode(mac, sizeof mac, proof);
        s = append_param(a, s, "access_token", req->access_token);
        s = append_param(a, s, "appsecret_proof", proof);
    }
    return s;
}

static bool is_write(const char *method)
{
    return strcmp(method, "GET") != 0;
}

/* ---- the answer ---- */

static void decref(void *p)
{
    json_decref(p);
}

static void read_usage(const struct http_client_resp *h, struct meta_usage *u)
{
    for (size_t i = 0; usage_headers[i]; i++) {
        const char *v = h->headers[i];
        if (v)
            err_ignore(meta_parse_usage_header(usage_headers[i], v, strlen(v), u));
    }
}

/* The answer of a call that reached Meta: JSON success, or a classified error. */
static enum err take_answer(struct arena *a, const struct meta_graph_req *req,
                            const struct http_client_resp *h, struct meta_graph_resp *resp,
                            struct meta_graph_error *gerr)
{
    json_t *root = json_loadb(h->body, h->len, JSON_DECODE_ANY, NULL);
    if (root)
        arena_on_free(a, decref, root);
    bool ok_status = h->status >= 200 && h->status < 300;
    if (ok_status && root && !json_is_object(json_object_get(root, "error"))) {
        resp->json = root;
        return ERR_OK;
    }
    if (!root || !meta_graph_error_from_json(root, h->status, gerr)) {
        enum meta_err_class cls = meta_graph_classify(0, 0, h->status);
        if (ok_status) /* 2xx that is not JSON: a write may have happened */
            cls = is_write(req->method) ? META_ERR_AMBIGUOUS : META_ERR_TRANSIENT;
        meta_graph_error_set(gerr, h->status, cls, root ? "no error object" : "answer is not JSON");
    }
    meta_graph_error_apply_usage(gerr, &resp->usage);
    return meta_err_class_to_err(gerr->cls);
}

static void log_call(const struct meta_graph_req *req, const struct meta_graph_error *gerr,
                     int status, int64_t t0_us)
{
    long long ms = (clock_mono_us() - t0_us) / 1000;
    if (gerr->cls == META_ERR_NONE) {
        log_debug("graph.call", LOG_STR("method", req->method), LOG_STR("path", req->path),
                  LOG_INT("status", status), LOG_INT("ms", ms));
        return;
    }
    log_info("graph.call_failed", LOG_STR("method", req->method), LOG_STR("path", req->path),
             LOG_INT("status", status), LOG_INT("code", gerr->code),
             LOG_INT("subcode", gerr->subcode), LOG_STR("class", meta_err_class_name(gerr->cls)),
             LOG_STR("fbtrace_id", gerr->fbtrace_id), LOG_INT("ms", ms));
}

static void build_request(struct arena *a, const struct meta_graph *g,
                          const struct meta_graph_req *req, struct http_client_req *hr)
{
    static const char *const json_hdr[] = {"Content-Type: application/json",
                                           "Accept: application/json", NULL};
    static const char *const form_hdr[] = {"Content-Type: application/x-www-form-urlencoded",
                                           "Accept: application/json", NULL};
    static const char *const get_hdr[] = {"Accept: application/json", NULL};
    const char *params = encode_params(a, g, req);
    bool is_post = !strcmp(req->method, "POST");
    bool in_body = is_post && !req->json_body;
    memset(hr, 0, sizeof *hr);
    hr->method = req->method;
    hr->url = in_body || !*params ? arena_printf(a, "%s%s", g->base, req->path)
                                  : arena_printf(a, "%s%s?%s", g->base, req->path, params);
    hr->headers = in_body ? form_hdr : (is_post ? json_hdr : get_hdr);
    hr->body = in_body ? params : (is_post ? req->json_body : NULL);
    hr->len = hr->body ? strlen(hr->body) : 0;
    hr->timeout_ms = g->timeout_ms;
    hr->max_resp = GRAPH_MAX_RESP;
    hr->want_headers = usage_headers;
}

enum err meta_graph_call(struct meta_graph *g, struct arena *a, const struct meta_graph_req *req,
                         struct meta_graph_resp *resp, struct meta_graph_error *gerr)
{
    memset(resp, 0, sizeof *resp);
    memset(gerr, 0, sizeof *gerr);
    if (!valid_method(req->method) || !valid_path(req->path) ||
        (req->json_body && strcmp(req->method, "POST") != 0)) {
        meta_graph_error_set(gerr, 0, META_ERR_INVALID, "bad method or path");
        return ERR_INVALID;
    }
    struct http_client_req hr;
    build_request(a, g, req, &hr);
    struct http_client_resp h;
    int64_t t0 = clock_mono_us();
    enum err rc = http_client_do_ex(&hr, &h);
    if (rc != ERR_OK) {
        /* No answer. A write that reached Meta may have been carried out (2.7). */
        enum meta_err_class cls = rc == ERR_TOO_LARGE ? META_ERR_INVALID : META_ERR_TRANSIENT;
        if (is_write(req->method) && h.was_sent)
            cls = META_ERR_AMBIGUOUS;
        meta_graph_error_set(gerr, 0, cls, rc == ERR_TOO_LARGE ? "answer too large" : "no answer");
        log_call(req, gerr, 0, t0);
        return rc == ERR_TOO_LARGE ? ERR_TOO_LARGE : meta_err_class_to_err(cls);
    }
    resp->http_status = h.status;
    read_usage(&h, &resp->usage);
    rc = take_answer(a, req, &h, resp, gerr);
    log_call(req, gerr, h.status, t0);
    http_client_resp_release(&h);
    return rc;
}
