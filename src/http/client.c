/*
 * http/client.c - libcurl easy interface, translated to enum err once, here.
 */
#include "http/client.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"

void http_client_global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct sink {
    struct buf b;
    bool may_truncate, is_truncated;
};

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
    struct sink *k = ctx;
    if (buf_append(&k->b, p, size * n) == ERR_OK)
        return size * n;
    if (k->may_truncate && !k->is_truncated) { /* keep what fits, then stop reading */
        err_ignore(buf_append(&k->b, p, k->b.cap - k->b.len));
        k->is_truncated = true;
    }
    return 0; /* aborts the transfer: over the cap */
}

enum err http_client_do(const char *method, const char *url, const char *const *headers,
                        const void *body, size_t len, long timeout_ms, size_t max_resp,
                        struct http_client_resp *resp)
{
    const struct http_client_req req = {
        .method = method,
        .url = url,
        .headers = headers,
        .body = body,
        .len = len,
        .timeout_ms = timeout_ms,
        .max_resp = max_resp,
    };
    return http_client_do_ex(&req, resp);
}

/* The last value of each asked-for header in the final response (redirects are not followed,
 * so that is the one response; interim 1xx responses are not searched). */
static void take_headers(CURL *c, const char *const *want, struct http_client_resp *resp)
{
    for (size_t i = 0; want && want[i] && i < HTTP_CLIENT_MAX_HEADERS; i++) {
        struct curl_header *h = NULL;
        if (curl_easy_header(c, want[i], 0, CURLH_HEADER, -1, &h) == CURLHE_OK && h && h->value)
            resp->headers[i] = xstrdup(h->value);
    }
}

static CURL *prepare(const struct http_client_req *req, struct curl_slist **hl, struct sink *k)
{
    CURL *c = curl_easy_init();
    if (!c)
        return NULL;
    for (size_t i = 0; req->headers && req->headers[i]; i++)
        *hl = curl_slist_append(*hl, req->headers[i]);
    curl_easy_setopt(c, CURLOPT_URL, req->url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, *hl);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, req->timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, k);
    /* Offer and decode every coding libcurl knows (gzip, deflate, ...): a server may encode
     * an answer even unasked (RFC 9110 12.5.3). max_resp caps the decoded bytes. */
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    if (req->body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->len);
    }
    return c;
}

enum err http_client_do_ex(const struct http_client_req *req, struct http_client_resp *resp)
{
    memset(resp, 0, sizeof *resp);
    struct curl_slist *hl = NULL;
    struct sink k = {.may_truncate = req->may_truncate};
    buf_init(&k.b, req->max_resp);
    CURL *c = prepare(req, &hl, &k);
    if (!c) {
        buf_release(&k.b);
        return ERR_INTERNAL;
    }
    CURLcode cc = curl_easy_perform(c);
    long status = 0, sent = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(c, CURLINFO_REQUEST_SIZE, &sent);
    resp->was_sent = sent > 0;
    enum err rc = ERR_OK;
    if (cc == CURLE_WRITE_ERROR && k.is_truncated)
        rc = ERR_OK; /* the first max_resp bytes, as asked */
    else if (cc == CURLE_WRITE_ERROR)
        rc = ERR_TOO_LARGE;
    else if (cc != CURLE_OK)
        rc = ERR_UPSTREAM;
    if (rc == ERR_OK)
        take_headers(c, req->want_headers, resp);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    if (rc != ERR_OK) {
        log_info("http.client_failed", LOG_STR("curl", curl_easy_strerror(cc)));
        buf_release(&k.b);
        return rc;
    }
    resp->status = (int)status;
    resp->is_truncated = k.is_truncated;
    resp->body = buf_detach(&k.b, &resp->len);
    return ERR_OK;
}

void http_client_resp_release(struct http_client_resp *resp)
{
    free(resp->body);
    for (size_t i = 0; i < HTTP_CLIENT_MAX_HEADERS; i++)
        free(resp->headers[i]);
    memset(resp, 0, sizeof *resp);
}
