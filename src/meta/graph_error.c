/*
 * meta/graph_error.c - Graph error bodies -> struct meta_graph_error, the classification table
 * and the retry policy.
 *
 * Owns: the one table that says what each (code, subcode) means for us, from
 * meta-platform.md sections 2.7 (Send API), 3.2 (throttling), 4.3 (token and generic codes)
 * and 5.5 (publishing). Classification uses the code and subcode only, never the message,
 * which Meta localizes.
 * Does not own: the HTTP call (graph.c), the usage headers (usage.c).
 */
#include "meta/graph.h"

#include <limits.h>
#include <string.h>

#include "core/crypto.h"
#include "core/json.h"
#include "meta/graph_int.h"

#define ANY (-1) /* any subcode, including none */

#define TRANSIENT_RETRIES  4 /* 2, 5xx, transport: "limited, with backoff" */
#define RATE_LIMIT_RETRIES 5
#define BACKOFF_BASE_MS    1000L
#define BACKOFF_CAP_MS     60000L
#define BATCH_MAX_ITEMS    50 /* Meta's batch limit; more items are not searched */

struct rule {
    int code_lo, code_hi; /* inclusive */
    int subcode;          /* ANY, or this subcode exactly */
    enum meta_err_class cls;
    int max_retries; /* TRANSIENT and RATE_LIMIT; 0 elsewhere */
};

/* First match wins: exact (code, subcode) pairs come before whole codes. */
static const struct rule rules[] = {
    /* 2.7: "Received invalid JSON reply": the message may have been sent. */
    {1, 1, 1357046, META_ERR_AMBIGUOUS, 0},
    {1, 1, 2207057, META_ERR_INVALID, 0},       /* 5.5 thumbnail offset: fix it */
    {4, 4, 2207051, META_ERR_PERMISSION, 0},    /* 5.5 activity restricted (spam): no retry */
    {9, 9, 2207042, META_ERR_RATE_LIMIT, 0},    /* 5.2 publishing quota: content/ defers the post */
    {10, 10, 2018278, META_ERR_WINDOW, 0},      /* Messenger window closed */
    {10, 10, 2534022, META_ERR_WINDOW, 0},      /* Instagram window closed */
    {10, 10, 2018108, META_ERR_RECIPIENT, 0},   /* person blocked or opted out */
    {100, 100, 2018001, META_ERR_RECIPIENT, 0}, /* no matching user (bad or foreign PSID) */
    {100, 100, 2534014, META_ERR_RECIPIENT, 0}, /* an IG user id instead of an IGSID */
    {100, 100, 2534029, META_ERR_PERMISSION, 0}, /* the business is blocked from IG messaging */
    /* 1545041 is the "person isn't available" subcode (551/1545041); real 200/1545041 bodies
     * carry the (#551) text, so it is the person, not our permissions (2534041 stays
     * PERMISSION: the business switched "Allow access to messages" off). */
    {200, 200, 1545041, META_ERR_RECIPIENT, 0},
    {24, 24, 2207008, META_ERR_TRANSIENT, 2}, /* 5.5 media builder temporary: 1-2 retries */
    {-2, -2, 2207003, META_ERR_TRANSIENT, TRANSIENT_RETRIES}, /* media download too slow */
    {-1, -1, 2207001, META_ERR_TRANSIENT, TRANSIENT_RETRIES}, /* Instagram server error */
    {-2, -1, ANY, META_ERR_INVALID, 0}, /* expired / failed container: make a new one */
    /* Whole codes. */
    {1, 1, ANY, META_ERR_TRANSIENT, 1}, /* "retry once, then treat as config" */
    {2, 2, ANY, META_ERR_TRANSIENT, TRANSIENT_RETRIES},
    {9007, 9007, ANY, META_ERR_TRANSIENT, TRANSIENT_RETRIES},     /* container not ready: poll */
    {4, 4, ANY, META_ERR_RATE_LIMIT, RATE_LIMIT_RETRIES},         /* app */
    {17, 17, ANY, META_ERR_RATE_LIMIT, RATE_LIMIT_RETRIES},       /* user */
    {32, 32, ANY, META_ERR_RATE_LIMIT, RATE_LIMIT_RETRIES},       /* Pages call, user token */
    {341, 341, ANY, META_ERR_RATE_LIMIT, RATE_LIMIT_RETRIES},     /* 4.3 throttling */
    {613, 613, ANY, META_ERR_RATE_LIMIT, RATE_LIMIT_RETRIES},     /* custom / messaging */
    {80000, 80009, ANY, META_ERR_RATE_LIMIT, RATE_LIMIT_RETRIES}, /* BUC: Pages, IG, ... */
    {80014, 80014, ANY, META_ERR_RATE_LIMIT, RATE_LIMIT_RETRIES},
    {102, 102, ANY, META_ERR_AUTH, 0}, /* API session */
    {190, 190, ANY, META_ERR_AUTH, 0}, /* 458/459/460/463/464/467/492 and none: re-auth */
    {551, 551, ANY, META_ERR_RECIPIENT, 0},
    {10, 10, ANY, META_ERR_PERMISSION, 0}, /* incl. 2018065 tag/permission, 1893063 */
    {200, 299, ANY, META_ERR_PERMISSION, 0},
    {25, 25, ANY, META_ERR_PERMISSION, 0},       /* 5.5 Instagram account restricted */
    {230, 230, ANY, META_ERR_PERMISSION, 0},     /* profile consent missing */
    {368, 368, ANY, META_ERR_PERMISSION, 0},     /* policy block: wait, never hammer */
    {36103, 36103, ANY, META_ERR_PERMISSION, 0}, /* IG messaging not available */
    {100, 100, ANY, META_ERR_INVALID, 0},
};

/* No code, or a code the table does not know: the HTTP status decides. */
static const struct rule by_status_transient = {0, 0, ANY, META_ERR_TRANSIENT, TRANSIENT_RETRIES};
static const struct rule by_status_throttled = {0, 0, ANY, META_ERR_RATE_LIMIT, RATE_LIMIT_RETRIES};
static const struct rule by_status_invalid = {0, 0, ANY, META_ERR_INVALID, 0};

static const struct rule *find_rule(int code, int subcode, int http_status)
{
    if (code != 0) {
        for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
            const struct rule *r = &rules[i];
            if (code >= r->code_lo && code <= r->code_hi &&
                (r->subcode == ANY || r->subcode == subcode))
                return r;
        }
    }
    if (http_status == 0 || http_status >= 500)
        return &by_status_transient; /* transport failure or server error */
    if (http_status == 429)
        return &by_status_throttled;
    return &by_status_invalid;
}

enum meta_err_class meta_graph_classify(int code, int subcode, int http_status)
{
    return find_rule(code, subcode, http_status)->cls;
}

const char *meta_err_class_name(enum meta_err_class c)
{
    static const char *const names[] = {
        [META_ERR_NONE] = "none",
        [META_ERR_TRANSIENT] = "transient",
        [META_ERR_RATE_LIMIT] = "rate_limit",
        [META_ERR_AUTH] = "auth",
        [META_ERR_WINDOW] = "window",
        [META_ERR_RECIPIENT] = "recipient",
        [META_ERR_PERMISSION] = "permission",
        [META_ERR_INVALID] = "invalid",
        [META_ERR_AMBIGUOUS] = "ambiguous",
    };
    return (unsigned)c <= META_ERR_AMBIGUOUS ? names[c] : "unknown";
}

enum err meta_err_class_to_err(enum meta_err_class c)
{
    switch (c) {
    case META_ERR_NONE:
        return ERR_OK;
    case META_ERR_AUTH:
        return ERR_AUTH;
    case META_ERR_TRANSIENT:
    case META_ERR_RATE_LIMIT:
        return ERR_AGAIN;
    default:
        return ERR_UPSTREAM;
    }
}

static long jitter(long span)
{
    unsigned r;
    crypto_random(&r, sizeof r);
    return span > 0 ? (long)(r % (unsigned long)(span + 1)) : 0;
}

bool meta_graph_retry_delay_ms(const struct meta_graph_error *e, int attempt, long *delay_ms)
{
    if (e->cls != META_ERR_TRANSIENT && e->cls != META_ERR_RATE_LIMIT)
        return false;
    const struct rule *r = find_rule(e->code, e->subcode, e->http_status);
    int max =
        r->cls == e->cls ? r->max_retries : (e->cls == META_ERR_TRANSIENT ? TRANSIENT_RETRIES : 0);
    if (attempt < 1 || attempt > max)
        return false;
    if (e->cls == META_ERR_RATE_LIMIT) {
        long s = e->retry_after_s > 0 ? e->retry_after_s : META_RATE_LIMIT_DEFAULT_S;
        *delay_ms = s * 1000 + jitter(s * 100); /* up to 10 % later, so callers spread out */
        return true;
    }
    long base = BACKOFF_BASE_MS << (attempt - 1 < 6 ? attempt - 1 : 6);
    if (base > BACKOFF_CAP_MS)
        base = BACKOFF_CAP_MS;
    *delay_ms = base / 2 + jitter(base / 2); /* "equal jitter": between base/2 and base */
    return true;
}

/* ---- parsing ---- */

/* Copies src into dst[cap], cut on a UTF-8 character boundary when it does not fit. */
static void copy_text(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--;
    }
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

static int get_int(const json_t *obj, const char *key)
{
    int64_t v = 0;
    if (!json_get_i64(obj, key, &v) || v < INT_MIN || v > INT_MAX)
        return 0;
    return (int)v;
}

static void classify_into(struct meta_graph_error *e)
{
    e->cls = meta_graph_classify(e->code, e->subcode, e->http_status);
    e->retry_after_s = e->cls == META_ERR_RATE_LIMIT ? META_RATE_LIMIT_DEFAULT_S : 0;
}

static void from_member(const json_t *err, struct meta_graph_error *e)
{
    e->code = get_int(err, "code");
    e->subcode = get_int(err, "error_subcode");
    copy_text(e->type, sizeof e->type, json_get_str(err, "type"));
    copy_text(e->message, sizeof e->message, json_get_str(err, "message"));
    copy_text(e->fbtrace_id, sizeof e->fbtrace_id, json_get_str(err, "fbtrace_id"));
    e->is_transient = json_get_bool(err, "is_transient", false);
}

static bool from_object(const json_t *root, int depth, struct meta_graph_error *e);

/* One batch item {"code":400,"headers":[...],"body":"<JSON text>"}: the body is parsed again. */
static bool from_batch_item(const json_t *item, int depth, struct meta_graph_error *e)
{
    const char *body = json_get_str(item, "body");
    int status = get_int(item, "code");
    json_t *inner = body ? json_loads(body, JSON_DECODE_ANY, NULL) : NULL;
    e->http_status = status;
    bool found = inner && from_object(inner, depth + 1, e);
    json_decref(inner);
    if (!found && status >= 400) {
        e->code = 0; /* a failed item whose body says nothing more */
        found = true;
    }
    return found;
}

static bool from_object(const json_t *root, int depth, struct meta_graph_error *e)
{
    if (depth > 2 || !json_is_object(root))
        return false;
    const json_t *err = json_object_get(root, "error");
    if (json_is_object(err)) {
        from_member(err, e);
    } else if (json_is_string(err)) { /* OAuth 2.0 style: {"error":"invalid_request",...} */
        copy_text(e->type, sizeof e->type, json_string_value(err));
        copy_text(e->message, sizeof e->message, json_get_str(root, "error_description"));
    } else if (json_object_get(root, "error_type") || json_object_get(root, "error_message")) {
        /* Legacy flat OAuth shape: its `code` is the HTTP status, not a Graph code. */
        copy_text(e->type, sizeof e->type, json_get_str(root, "error_type"));
        copy_text(e->message, sizeof e->message, json_get_str(root, "error_message"));
        int status = get_int(root, "code");
        if (e->http_status == 0 && status >= 100 && status <= 599)
            e->http_status = status;
    } else if (json_object_get(root, "error_code")) { /* old REST: {"error_code","error_msg"} */
        e->code = get_int(root, "error_code");
        copy_text(e->message, sizeof e->message, json_get_str(root, "error_msg"));
    } else if (json_is_string(json_object_get(root, "body"))) {
        return from_batch_item(root, depth, e);
    } else {
        return false;
    }
    return true;
}

bool meta_graph_error_from_json(const json_t *root, int http_status, struct meta_graph_error *out)
{
    struct meta_graph_error e = {.http_status = http_status};
    bool found = false;
    if (json_is_array(root)) { /* a batch response: its first failed item */
        size_t n = json_array_size(root);
        for (size_t i = 0; i < n && i < BATCH_MAX_ITEMS && !found; i++) {
            memset(&e, 0, sizeof e);
            e.http_status = http_status;
            found = from_object(json_array_get(root, i), 0, &e);
        }
    } else {
        found = from_object(root, 0, &e);
    }
    if (!found)
        return false;
    classify_into(&e);
    *out = e;
    return true;
}

enum err meta_parse_graph_error(const char *body, size_t len, int http_status,
                                struct meta_graph_error *out)
{
    json_t *root = body ? json_loadb(body, len, JSON_DECODE_ANY, NULL) : NULL;
    bool found = root && meta_graph_error_from_json(root, http_status, out);
    json_decref(root);
    if (found)
        return ERR_OK;
    memset(out, 0, sizeof *out);
    out->http_status = http_status;
    classify_into(out);
    return ERR_INVALID;
}

void meta_graph_error_set(struct meta_graph_error *e, int http_status, enum meta_err_class cls,
                          const char *message)
{
    memset(e, 0, sizeof *e);
    e->http_status = http_status;
    e->cls = cls;
    e->retry_after_s = cls == META_ERR_RATE_LIMIT ? META_RATE_LIMIT_DEFAULT_S : 0;
    copy_text(e->message, sizeof e->message, message);
}

void meta_graph_error_apply_usage(struct meta_graph_error *e, const struct meta_usage *u)
{
    if (e->cls == META_ERR_RATE_LIMIT && u->regain_min > 0)
        e->retry_after_s = u->regain_min * 60;
}
