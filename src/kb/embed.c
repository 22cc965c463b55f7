/*
 * kb/embed.c - the embeddings client: POST {SB_EMBED_URL}/embeddings with
 * {"model": ..., "input": [...]} (OpenAI-compatible; OpenAI, llama.cpp, Ollama and vLLM
 * answer the same shape), Authorization: Bearer SB_LLM_API_KEY when one is set.
 *
 * Owns: batching (at most 32 inputs or 256 KiB a request), checking the answer (one vector
 * per input, by "index" when given, all of one dimension, finite numbers) and normalising
 * every vector to unit length, so a cosine is a dot product.
 * Does not own: retries or logging (the caller degrades to lexical search and logs once).
 */
#include "kb/kb_int.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "http/client.h"

#define EMBED_BATCH       32
#define EMBED_BATCH_BYTES ((size_t)256 * 1024)
#define EMBED_MAX_RESP    ((size_t)64 << 20)

static enum err failed(struct kb_embed_fail *fail, int status, const char *what)
{
    fail->status = status;
    fail->what = what;
    return ERR_UPSTREAM;
}

static char *request_body(const char *model, const char *const *texts, size_t n, size_t *len)
{
    json_t *input = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(input, json_string(texts[i]));
    json_t *root = json_object();
    json_object_set_new(root, "model", json_string(model));
    json_object_set_new(root, "input", input);
    char *body = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    *len = body ? strlen(body) : 0;
    return body;
}

static void normalise(float *v, size_t dim)
{
    double sum = 0;
    for (size_t i = 0; i < dim; i++)
        sum += (double)v[i] * v[i];
    if (sum <= 0)
        return;
    double inv = 1.0 / sqrt(sum);
    for (size_t i = 0; i < dim; i++)
        v[i] = (float)(v[i] * inv);
}

/* One data[] item into row `at` of v (dim floats). */
static bool read_vector(const json_t *emb, float *row, size_t dim)
{
    for (size_t j = 0; j < dim; j++) {
        const json_t *x = json_array_get(emb, j);
        double f = json_is_number(x) ? json_number_value(x) : NAN;
        if (!isfinite(f) || fabs(f) > 1e30)
            return false;
        row[j] = (float)f;
    }
    normalise(row, dim);
    return true;
}

/* The vectors of one answer, in input order, in *out (malloc'd, n * *dim floats). */
static const char *parse(const json_t *root, size_t n, float **out, size_t *dim)
{
    const json_t *data = json_object_get(root, "data");
    if (!json_is_array(data) || json_array_size(data) != n)
        return "not one vector per input";
    float *v = NULL;
    bool *seen = xcalloc(n, 1);
    const char *bad = NULL;
    for (size_t i = 0; i < n && !bad; i++) {
        const json_t *item = json_array_get(data, i);
        const json_t *emb = json_object_get(item, "embedding");
        const json_t *idx = json_object_get(item, "index");
        size_t at = json_is_integer(idx) ? (size_t)json_integer_value(idx) : i;
        size_t m = json_is_array(emb) ? json_array_size(emb) : 0;
        if (!v && m > 0 && m <= KB_EMBED_MAX_DIM) {
            *dim = m;
            v = xcalloc(n * m, sizeof *v);
        }
        if (!v || m != *dim)
            bad = "vectors missing or of different sizes";
        else if (at >= n || seen[at])
            bad = "bad vector index";
        else if (!read_vector(emb, v + at * m, m))
            bad = "a vector holds something other than numbers";
        else
            seen[at] = true;
    }
    free(seen);
    if (bad)
        free(v);
    else
        *out = v;
    return bad;
}

static enum err request(const struct kb *k, const char *const *texts, size_t n, long timeout_ms,
                        float **vecs, size_t *dim, struct kb_embed_fail *fail)
{
    size_t base_len = strlen(k->embed_url);
    while (base_len && k->embed_url[base_len - 1] == '/')
        base_len--;
    size_t url_cap = base_len + sizeof "/embeddings";
    char *url = xmalloc(url_cap);
    snprintf(url, url_cap, "%.*s/embeddings", (int)base_len, k->embed_url);
    char *auth = NULL;
    if (k->api_key && *k->api_key) {
        size_t cap = strlen(k->api_key) + sizeof "Authorization: Bearer ";
        auth = xmalloc(cap);
        snprintf(auth, cap, "Authorization: Bearer %s", k->api_key);
    }
    const char *headers[] = {"Content-Type: application/json", auth, NULL};
    size_t len = 0;
    char *body = request_body(k->embed_model, texts, n, &len);
    struct http_client_resp resp = {0};
    enum err rc =
        body ? http_client_do("POST", url, headers, body, len, timeout_ms, EMBED_MAX_RESP, &resp)
             : ERR_INTERNAL;
    free(body);
    free(url);
    if (auth) {
        crypto_cleanse(auth, strlen(auth));
        free(auth);
    }
    if (rc != ERR_OK) {
        free(resp.body);
        return failed(fail, 0, rc == ERR_TOO_LARGE ? "answer too large" : "request failed");
    }
    if (resp.status != 200) {
        free(resp.body);
        return failed(fail, resp.status, "error status");
    }
    json_t *root = json_loadb(resp.body, resp.len, 0, NULL);
    free(resp.body);
    const char *bad = root ? parse(root, n, vecs, dim) : "answer is not JSON";
    json_decref(root);
    return bad ? failed(fail, resp.status, bad) : ERR_OK;
}

/* How many of texts[0..n) go in the next request. */
static size_t batch_size(const char *const *texts, size_t n)
{
    size_t m = 0, bytes = 0;
    while (m < n && m < EMBED_BATCH) {
        bytes += strlen(texts[m]) + 8;
        if (m > 0 && bytes > EMBED_BATCH_BYTES)
            break;
        m++;
    }
    return m;
}

enum err kb_embed(const struct kb *k, struct arena *a, const char *const *texts, size_t n,
                  long timeout_ms, float **vecs, size_t *dim, struct kb_embed_fail *fail)
{
    *fail = (struct kb_embed_fail){0};
    float *all = NULL;
    size_t d = 0;
    for (size_t i = 0; i < n;) {
        size_t m = batch_size(texts + i, n - i), bd = 0;
        float *v = NULL;
        enum err rc = request(k, texts + i, m, timeout_ms, &v, &bd, fail);
        if (rc != ERR_OK)
            return rc;
        if (!all) {
            d = bd;
            all = arena_alloc(a, n * d * sizeof *all);
        }
        if (bd != d) {
            free(v);
            return failed(fail, 200, "vectors of different sizes across requests");
        }
        memcpy(all + i * d, v, m * d * sizeof *v);
        free(v);
        i += m;
    }
    *vecs = all;
    *dim = d;
    return ERR_OK;
}
