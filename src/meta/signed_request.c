/*
 * meta/signed_request.c - Meta's signed_request: "<base64url sig>.<base64url payload>".
 *
 * As meta-platform.md section 8 says: split at the first '.', HMAC-SHA256 keyed with the app
 * secret over the payload segment exactly as received (padding included when the sender
 * padded), compared in constant time with the decoded signature. Nothing in the payload is
 * decoded or parsed before the signature has checked out, so unauthenticated bytes never
 * reach the JSON parser. Then: algorithm HMAC-SHA256, issued_at fresh, user_id a string or a
 * number (both occur, fixtures README oddity 14).
 */
#include "meta/privacy.h"

#include <string.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/json.h"

#define SIG_DECODE_CAP 48 /* room to see that a signature is not 32 bytes */

struct segments {
    const char *sig, *payload;
    size_t sig_len, payload_len;
};

static enum err fail(const char **reason, enum err rc, const char *why)
{
    if (reason)
        *reason = why;
    return rc;
}

static enum err split(const char *sr, size_t len, struct segments *g, const char **reason)
{
    const char *dot = sr ? memchr(sr, '.', len) : NULL;
    if (!dot)
        return fail(reason, ERR_INVALID, "no '.' between signature and payload");
    g->sig = sr;
    g->sig_len = (size_t)(dot - sr);
    g->payload = dot + 1;
    g->payload_len = len - g->sig_len - 1;
    if (g->sig_len == 0 || g->payload_len == 0)
        return fail(reason, ERR_INVALID, "empty signature or payload");
    return ERR_OK;
}

static enum err check_signature(const char *app_secret, const struct segments *g,
                                const char **reason)
{
    unsigned char sig[SIG_DECODE_CAP];
    size_t sig_len = 0;
    if (base64_decode(g->sig, g->sig_len, sig, sizeof sig, &sig_len) != ERR_OK)
        return fail(reason, ERR_INVALID, "signature is not base64url");
    if (sig_len != CRYPTO_SHA256_LEN)
        return fail(reason, ERR_INVALID, "signature is not 32 bytes");
    if (!app_secret || !*app_secret)
        return fail(reason, ERR_AUTH, "no app secret configured");
    unsigned char mac[CRYPTO_SHA256_LEN];
    crypto_hmac_sha256(app_secret, strlen(app_secret), g->payload, g->payload_len, mac);
    if (!crypto_equal(mac, sig, sizeof mac))
        return fail(reason, ERR_AUTH, "signature mismatch");
    return ERR_OK;
}

/* The payload segment decoded and parsed into an object (caller decrefs *root). */
static enum err decode_payload(struct arena *a, const struct segments *g,
                               struct meta_signed_request *out, json_t **root, const char **reason)
{
    size_t cap = g->payload_len / 4 * 3 + 3;
    unsigned char *raw = arena_alloc(a, cap + 1);
    size_t n = 0;
    if (base64_decode(g->payload, g->payload_len, raw, cap, &n) != ERR_OK)
        return fail(reason, ERR_INVALID, "payload is not base64url");
    raw[n] = '\0';
    struct json_error jerr;
    if (json_validate((const char *)raw, n, META_SR_JSON_DEPTH, &jerr) != ERR_OK)
        return fail(reason, ERR_INVALID, "payload is not JSON");
    *root = json_loadb((const char *)raw, n, JSON_DECODE_ANY, NULL);
    if (!json_is_object(*root))
        return fail(reason, ERR_INVALID, "payload is not a JSON object");
    out->payload = (const char *)raw;
    out->payload_len = n;
    return ERR_OK;
}

bool meta_user_id_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > META_SR_USER_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  c == '_' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

static enum err read_fields(struct arena *a, const json_t *root, struct meta_signed_request *out,
                            const char **reason)
{
    const char *alg = json_get_str(root, "algorithm");
    if (!alg || strcmp(alg, "HMAC-SHA256") != 0)
        return fail(reason, ERR_INVALID, "algorithm is not HMAC-SHA256");
    if (!json_get_i64(root, "issued_at", &out->issued_at))
        return fail(reason, ERR_INVALID, "issued_at missing or not a number");
    const json_t *exp = json_object_get(root, "expires");
    if (exp && !json_is_null(exp) && !json_get_i64(root, "expires", &out->expires))
        return fail(reason, ERR_INVALID, "expires is not a number");
    const json_t *uid = json_object_get(root, "user_id");
    if (uid && !json_is_null(uid)) {
        const char *s = json_get_id(a, root, "user_id");
        if (!s || !meta_user_id_ok(s))
            return fail(reason, ERR_INVALID, "user_id is not an id");
        out->user_id = arena_strdup(a, s);
    }
    return ERR_OK;
}

/* Differences taken in unsigned arithmetic: exact for any two int64 values, no overflow. */
static enum err check_fresh(const struct meta_sr_limits *lim, int64_t issued_at,
                            const char **reason)
{
    struct meta_sr_limits l = lim ? *lim : (struct meta_sr_limits){0};
    int64_t now = l.now_s ? l.now_s : clock_now_ms() / 1000;
    int64_t max_age = l.max_age_s ? l.max_age_s : META_SR_MAX_AGE_S;
    int64_t max_skew = l.max_skew_s ? l.max_skew_s : META_SR_MAX_SKEW_S;
    if (max_age > 0 && issued_at < now && (uint64_t)now - (uint64_t)issued_at > (uint64_t)max_age)
        return fail(reason, ERR_AUTH, "issued_at is too old");
    if (max_skew > 0 && issued_at > now && (uint64_t)issued_at - (uint64_t)now > (uint64_t)max_skew)
        return fail(reason, ERR_AUTH, "issued_at is in the future");
    return ERR_OK;
}

enum err meta_parse_signed_request(struct arena *a, const char *app_secret, const char *sr,
                                   size_t len, const struct meta_sr_limits *lim,
                                   struct meta_signed_request *out, const char **reason)
{
    *out = (struct meta_signed_request){0};
    if (len > META_SR_MAX_LEN)
        return fail(reason, ERR_TOO_LARGE, "signed_request is too long");
    struct segments g;
    enum err rc = split(sr, len, &g, reason);
    if (rc == ERR_OK)
        rc = check_signature(app_secret, &g, reason);
    json_t *root = NULL;
    if (rc == ERR_OK)
        rc = decode_payload(a, &g, out, &root, reason);
    if (rc == ERR_OK)
        rc = read_fields(a, root, out, reason);
    json_decref(root);
    if (rc == ERR_OK)
        rc = check_fresh(lim, out->issued_at, reason);
    if (rc != ERR_OK)
        *out = (struct meta_signed_request){0};
    return rc;
}
