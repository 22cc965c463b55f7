/*
 * tests/fuzz/fuzz_signed_request.c - meta_parse_signed_request() on arbitrary bytes.
 *
 * The input is used twice:
 *   1. as a whole signed_request: never crashes or reads past the input (it is not
 *      NUL-terminated), returns one of the documented codes with a reason, and an accepted
 *      request carries a well-formed user id (or none);
 *   2. as a payload, signed here the way Meta signs (HMAC-SHA256 over the base64url payload
 *      segment), unpadded and padded: the signature always checks out, so the verdict is
 *      never ERR_AUTH with freshness checks off; both encodings give the same verdict; an
 *      accepted payload comes back byte for byte; another secret, or one changed character
 *      of the payload segment, is ERR_AUTH before any parsing (for any non-empty payload).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "meta/privacy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SECRET "fuzz-app-secret"

static void require(bool cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_signed_request: %s\n", what);
        abort();
    }
}

static bool known_code(enum err rc)
{
    return rc == ERR_OK || rc == ERR_INVALID || rc == ERR_AUTH || rc == ERR_TOO_LARGE;
}

static void as_request(const uint8_t *data, size_t size)
{
    struct arena a;
    arena_init(&a);
    struct meta_signed_request r;
    const char *why = NULL;
    struct meta_sr_limits lim = {.max_age_s = -1, .max_skew_s = -1};
    enum err rc = meta_parse_signed_request(&a, SECRET, (const char *)data, size, &lim, &r, &why);
    require(known_code(rc), "unexpected code");
    require(rc == ERR_OK || why != NULL, "failure without a reason");
    require(rc != ERR_OK || !r.user_id || meta_user_id_ok(r.user_id), "bad user id accepted");
    require(size <= META_SR_MAX_LEN || rc == ERR_TOO_LARGE, "oversize request not refused");
    arena_release(&a);
}

/* "<sig>.<payload>" for the raw payload bytes, padded or not. */
static char *sign(struct arena *a, const uint8_t *data, size_t size, bool pad, size_t *len)
{
    char *p = arena_alloc(a, 4 * (size / 3 + 1) + 4);
    base64url_encode(data, size, p);
    size_t n = strlen(p);
    while (pad && n % 4)
        p[n++] = '=';
    unsigned char mac[CRYPTO_SHA256_LEN];
    crypto_hmac_sha256(SECRET, strlen(SECRET), p, n, mac);
    char sig[64];
    base64url_encode(mac, sizeof mac, sig);
    char *out = arena_printf(a, "%s%s.%s", sig, pad ? "=" : "", p);
    *len = strlen(out);
    return out;
}

static enum err parse(struct arena *a, const char *secret, const char *sr, size_t len,
                      struct meta_signed_request *r)
{
    struct meta_sr_limits lim = {.max_age_s = -1, .max_skew_s = -1};
    return meta_parse_signed_request(a, secret, sr, len, &lim, r, NULL);
}

static void as_payload(const uint8_t *data, size_t size)
{
    if (size > META_SR_MAX_LEN / 2)
        return;
    struct arena a;
    arena_init(&a);
    struct meta_signed_request r1, r2;
    size_t n1, n2;
    char *plain = sign(&a, data, size, false, &n1);
    char *padded = sign(&a, data, size, true, &n2);
    enum err rc1 = parse(&a, SECRET, plain, n1, &r1);
    enum err rc2 = parse(&a, SECRET, padded, n2, &r2);
    require(known_code(rc1) && rc1 != ERR_AUTH, "a correctly signed payload failed the check");
    require(rc1 == rc2, "padded and unpadded encodings disagree");
    if (rc1 == ERR_OK) {
        require(r1.payload_len == size && memcmp(r1.payload, data, size) == 0,
                "payload not returned byte for byte");
        require((r1.user_id == NULL) == (r2.user_id == NULL), "user id differs by padding");
        require(!r1.user_id || strcmp(r1.user_id, r2.user_id) == 0, "user id differs");
        require(r1.issued_at == r2.issued_at, "issued_at differs");
    }
    if (size > 0) { /* (an empty payload segment is refused as malformed before any HMAC) */
        require(parse(&a, "another-secret", plain, n1, &r1) == ERR_AUTH, "wrong secret accepted");
        /* one payload character changed, within the base64url alphabet */
        char *dot = strchr(plain, '.');
        size_t at = (size_t)(dot + 1 - plain) + data[0] % (n1 - (size_t)(dot + 1 - plain));
        plain[at] = plain[at] == 'A' ? 'B' : 'A';
        require(parse(&a, SECRET, plain, n1, &r1) == ERR_AUTH, "changed payload accepted");
    }
    arena_release(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    as_request(data, size);
    as_payload(data, size);
    return 0;
}
