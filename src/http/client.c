/*
 * http/client.c - libcurl easy interface, translated to enum err once, here.
 */
#include "http/client.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"

void http_client_global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
    struct buf *b = ctx;
    return buf_append(b, p, size * n) == ERR_OK ? size * n : 0; /* 0 aborts: over the cap */
}

enum err http_client_do(const char *method, const char *url, const char *const *headers,
                        const void *body, size_t len, long timeout_ms, size_t max_resp,
                        struct http_client_resp *resp)
{
    memset(resp, 0, sizeof *resp);
    CURL *c = curl_easy_init();
    if (!c)
        return ERR_INTERNAL;
    struct curl_slist *hl = NULL;
    for (size_t i = 0; headers && headers[i]; i++)
        hl = curl_slist_append(hl, headers[i]);
    struct buf b;
    buf_init(&b, max_resp);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    CURLcode cc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    enum err rc = ERR_OK;
    if (cc == CURLE_WRITE_ERROR)
        rc = ERR_TOO_LARGE;
    else if (cc != CURLE_OK)
        rc = ERR_UPSTREAM;
    if (rc != ERR_OK) {
        log_info("http.client_failed", LOG_STR("curl", curl_easy_strerror(cc)));
        buf_release(&b);
        return rc;
    }
    resp->status = (int)status;
    resp->body = buf_detach(&b, &resp->len);
    return ERR_OK;
}
