/*
 * content/generate.c - one image from an OpenAI-compatible images API:
 * POST {SB_IMAGE_URL}/images/generations {"model","prompt","n":1,"size","response_format":
 * "b64_json"} with Authorization: Bearer when a key is set; the answer's data[0].b64_json, or
 * data[0].url downloaded (servers that ignore response_format answer with a URL).
 *
 * Caps: the answer at most 4/3 of CONTENT_INPUT_MAX_BYTES plus framing, the image itself at
 * most CONTENT_INPUT_MAX_BYTES. Never logs the prompt or the key.
 */
#include "content/content.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/json.h"
#include "core/log.h"
#include "http/client.h"

#define GEN_TIMEOUT_MS 120000L
#define ANSWER_MAX     (CONTENT_INPUT_MAX_BYTES / 3 * 4 + 64 * 1024)
#define URL_CAP        2048

enum err content_parse_image_answer(struct arena *a, const char *body, size_t len,
                                    unsigned char **bytes, size_t *n, const char **url,
                                    char why[CONTENT_WHY_MAX])
{
    *bytes = NULL;
    *n = 0;
    *url = NULL;
    why[0] = '\0';
    json_t *root = json_loadb(body, len, 0, NULL);
    const json_t *item = json_array_get(json_object_get(root, "data"), 0);
    const char *b64 = json_get_str(item, "b64_json");
    const char *link = json_get_str(item, "url");
    const char *msg = json_get_str(json_object_get(root, "error"), "message");
    enum err rc = ERR_UPSTREAM;
    if (b64) {
        size_t blen = strlen(b64), cap = blen / 4 * 3 + 3;
        if (cap > CONTENT_INPUT_MAX_BYTES + 3) {
            rc = ERR_TOO_LARGE;
            snprintf(why, CONTENT_WHY_MAX, "the generated image is larger than %zu bytes",
                     CONTENT_INPUT_MAX_BYTES);
        } else {
            unsigned char *out = xmalloc(cap ? cap : 1);
            rc = base64_decode(b64, blen, out, cap, n);
            if (rc == ERR_OK)
                *bytes = out;
            else {
                free(out);
                rc = ERR_UPSTREAM;
                snprintf(why, CONTENT_WHY_MAX, "the images API sent b64_json that is not base64");
            }
        }
    } else if (link && strlen(link) < URL_CAP &&
               (strncmp(link, "https://", 8) == 0 || strncmp(link, "http://", 7) == 0)) {
        *url = arena_strdup(a, link);
        rc = ERR_OK;
    } else {
        snprintf(why, CONTENT_WHY_MAX, "the images API answered no image%s%.180s",
                 msg ? ": " : "", msg ? msg : "");
    }
    json_decref(root);
    return rc;
}

static char *request_body(const struct content_gen_opts *o, const char *prompt, const char *size)
{
    json_t *req = json_pack("{s:s, s:i, s:s, s:s}", "prompt", prompt, "n", 1, "size",
                            size ? size : "1024x1024", "response_format", "b64_json");
    if (o->model && *o->model)
        json_object_set_new(req, "model", json_string(o->model));
    char *text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    return text;
}

static enum err call_api(const struct content_gen_opts *o, struct arena *a, const char *prompt,
                         const char *size, struct http_client_resp *resp,
                         char why[CONTENT_WHY_MAX])
{
    const char *endpoint = arena_printf(a, "%s/images/generations", o->url);
    const char *auth = o->api_key && *o->api_key
                           ? arena_printf(a, "Authorization: Bearer %s", o->api_key)
                           : NULL;
    const char *headers[] = {"Content-Type: application/json", auth, NULL};
    char *body = request_body(o, prompt, size);
    int64_t t0 = clock_mono_us();
    enum err rc = http_client_do("POST", endpoint, headers, body, strlen(body),
                                 o->timeout_ms > 0 ? o->timeout_ms : GEN_TIMEOUT_MS, ANSWER_MAX,
                                 resp);
    free(body);
    log_info("image.generate", LOG_ERR(rc), LOG_INT("status", rc == ERR_OK ? resp->status : 0),
             LOG_INT("ms", (clock_mono_us() - t0) / 1000), LOG_INT("prompt_bytes", strlen(prompt)));
    if (rc != ERR_OK)
        snprintf(why, CONTENT_WHY_MAX, "the images API at SB_IMAGE_URL did not answer in time");
    return rc == ERR_TOO_LARGE ? ERR_TOO_LARGE : rc == ERR_OK ? ERR_OK : ERR_UPSTREAM;
}

static enum err download(const char *url, unsigned char **bytes, size_t *len,
                         char why[CONTENT_WHY_MAX])
{
    struct http_client_resp resp = {0};
    enum err rc = http_client_do("GET", url, NULL, NULL, 0, GEN_TIMEOUT_MS,
                                 CONTENT_INPUT_MAX_BYTES, &resp);
    if (rc == ERR_OK && resp.status == 200) {
        *bytes = (unsigned char *)resp.body;
        *len = resp.len;
        return ERR_OK;
    }
    if (rc == ERR_OK)
        free(resp.body);
    snprintf(why, CONTENT_WHY_MAX, "the generated image's URL could not be fetched");
    return rc == ERR_TOO_LARGE ? ERR_TOO_LARGE : ERR_UPSTREAM;
}

enum err content_generate_image(const struct content_gen_opts *o, const char *prompt,
                                const char *size, unsigned char **bytes, size_t *len,
                                char why[CONTENT_WHY_MAX])
{
    *bytes = NULL;
    *len = 0;
    why[0] = '\0';
    if (!o->url || !*o->url) {
        snprintf(why, CONTENT_WHY_MAX, "no image model is configured (SB_IMAGE_URL); use the "
                                       "built-in template instead");
        return ERR_INVALID;
    }
    if (!prompt || !*prompt || strlen(prompt) > CONTENT_PROMPT_MAX ||
        (size && strspn(size, "0123456789x") != strlen(size))) {
        snprintf(why, CONTENT_WHY_MAX, "a prompt of 1 to %d bytes (and a size like 1024x1024)",
                 CONTENT_PROMPT_MAX);
        return ERR_INVALID;
    }
    struct arena a;
    arena_init(&a);
    struct http_client_resp resp = {0};
    enum err rc = call_api(o, &a, prompt, size, &resp, why);
    const char *url = NULL;
    if (rc == ERR_OK) {
        rc = content_parse_image_answer(&a, resp.body, resp.len, bytes, len, &url, why);
        if (rc == ERR_UPSTREAM && resp.status != 200)
            snprintf(why + strlen(why), CONTENT_WHY_MAX - strlen(why), " (HTTP %d)", resp.status);
        free(resp.body);
    }
    if (rc == ERR_OK && url)
        rc = download(url, bytes, len, why);
    arena_release(&a);
    return rc;
}
