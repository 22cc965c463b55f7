/*
 * tests/unit/meta/test_signed_request.c - meta_parse_signed_request() over every vector of
 * ../shared/reference/fixtures/signed_request/ and over crafted requests.
 *
 * The fixture expectations (user id, issued_at, padding) were read from the fixtures README
 * and the files' decoded_payload, not from this code: every vector's HMAC is valid (the
 * collector checked it), so each must verify at its own time, and each must be refused as
 * stale today (they were issued between 1970 and 2014). The crafted requests are signed here
 * with HMAC-SHA256 over the base64url payload segment, as meta-platform.md section 8 says.
 */
#include "meta/privacy.h"

#include <dirent.h>

#include "testutil.h"

#include "core/crypto.h"
#include "core/json.h"

#define FIXTURE_DIR "signed_request"
#define DAY         (24 * 3600)

/* ---- the fixtures ---- */

static const struct {
    const char *file;
    const char *user_id; /* NULL: the payload has none */
    int64_t issued_at, expires;
    bool sig_padded, payload_padded;
} fixtures[] = {
    /* Facebook's own format: neither part padded; user_id a string */
    {"omniauth_facebook_user__sr.json", "111111111111111", 1308985018, 1308988800, false, false},
    /* PHP SDK: both parts padded, user_id a string */
    {"php_sdk_access_token__sr.json", "123", 1402551031, 0, true, true},
    /* signature padded, payload not (mixed) */
    {"php_sdk_code__sr.json", "123", 1406310752, 0, true, false},
    /* both padded; user_id a NUMBER (123); issued_at 321 */
    {"php_sdk_code_state__sr.json", "123", 321, 0, true, true},
    /* no user_id: a user who never authorized the app */
    {"php_sdk_unauthorized__sr.json", NULL, 1402551086, 0, true, true},
};

#define N_FIXTURES (sizeof fixtures / sizeof fixtures[0])

struct vector {
    const char *sr, *secret, *decoded;
    json_t *root;
};

static struct vector load_vector(const char *file)
{
    char rel[256];
    snprintf(rel, sizeof rel, FIXTURE_DIR "/%s", file);
    char *text = tu_fixture_read(rel, NULL);
    struct vector v = {0};
    v.root = json_loads(text, 0, NULL);
    free(text);
    assert_non_null(v.root);
    v.sr = json_string_value(json_object_get(v.root, "signed_request"));
    v.secret = json_string_value(json_object_get(v.root, "app_secret"));
    v.decoded = json_string_value(json_object_get(v.root, "decoded_payload_json"));
    assert_non_null(v.sr);
    assert_non_null(v.secret);
    assert_non_null(v.decoded);
    return v;
}

static enum err parse_at(const char *secret, const char *sr, size_t len, int64_t now_s,
                         struct meta_signed_request *out, struct arena *a)
{
    struct meta_sr_limits lim = {.now_s = now_s};
    return meta_parse_signed_request(a, secret, sr, len, &lim, out, NULL);
}

/* Each vector verifies at its own time and yields what its README row says. */
static void check_fixture_verifies(size_t i, const struct vector *v)
{
    struct arena a;
    arena_init(&a);
    struct meta_signed_request r;
    enum err rc = parse_at(v->secret, v->sr, strlen(v->sr), fixtures[i].issued_at + 60, &r, &a);
    if (rc != ERR_OK)
        fail_msg("%s: got %s, want ok", fixtures[i].file, err_name(rc));
    if (fixtures[i].user_id)
        assert_string_equal(r.user_id, fixtures[i].user_id);
    else
        assert_null(r.user_id);
    assert_int_equal(r.issued_at, fixtures[i].issued_at);
    assert_int_equal(r.expires, fixtures[i].expires);
    assert_int_equal(r.payload_len, strlen(v->decoded));
    assert_string_equal(r.payload, v->decoded);
    const char *dot = strchr(v->sr, '.');
    assert_int_equal(dot[-1] == '=', fixtures[i].sig_padded);
    assert_int_equal(v->sr[strlen(v->sr) - 1] == '=', fixtures[i].payload_padded);
    arena_release(&a);
}

/* Freshness is judged by issued_at: today they are all stale; each limit bites at its edge. */
static void check_fixture_freshness(size_t i, const struct vector *v)
{
    struct arena a;
    arena_init(&a);
    struct meta_signed_request r;
    size_t len = strlen(v->sr);
    int64_t t = fixtures[i].issued_at;
    const char *why = NULL;
    assert_int_equal(meta_parse_signed_request(&a, v->secret, v->sr, len, NULL, &r, &why),
                     ERR_AUTH);
    assert_string_equal(why, "issued_at is too old");
    struct meta_sr_limits no_age = {.max_age_s = -1};
    assert_int_equal(meta_parse_signed_request(&a, v->secret, v->sr, len, &no_age, &r, NULL),
                     ERR_OK);
    assert_int_equal(parse_at(v->secret, v->sr, len, t + DAY, &r, &a), ERR_OK);
    assert_int_equal(parse_at(v->secret, v->sr, len, t + DAY + 1, &r, &a), ERR_AUTH);
    assert_int_equal(parse_at(v->secret, v->sr, len, t - META_SR_MAX_SKEW_S, &r, &a), ERR_OK);
    assert_int_equal(parse_at(v->secret, v->sr, len, t - META_SR_MAX_SKEW_S - 1, &r, &a), ERR_AUTH);
    struct meta_sr_limits hour = {.now_s = t + 3601, .max_age_s = 3600};
    assert_int_equal(meta_parse_signed_request(&a, v->secret, v->sr, len, &hour, &r, NULL),
                     ERR_AUTH);
    assert_null(r.user_id); /* a refused request leaves nothing behind */
    arena_release(&a);
}

/* The HMAC is over the bytes as received: another secret, one changed character, or the
 * padding added or removed, and it no longer verifies. */
static void check_fixture_tampering(size_t i, const struct vector *v)
{
    struct arena a;
    arena_init(&a);
    struct meta_signed_request r;
    int64_t now = fixtures[i].issued_at + 60;
    size_t len = strlen(v->sr);
    char *copy = arena_alloc(&a, len + 4);
    assert_int_equal(parse_at("another_secret", v->sr, len, now, &r, &a), ERR_AUTH);
    assert_int_equal(parse_at("", v->sr, len, now, &r, &a), ERR_AUTH);
    assert_int_equal(parse_at(NULL, v->sr, len, now, &r, &a), ERR_AUTH);

    size_t dot = (size_t)(strchr(v->sr, '.') - v->sr);
    memcpy(copy, v->sr, len + 1);
    copy[dot + 5] = copy[dot + 5] == 'A' ? 'B' : 'A'; /* inside the payload segment */
    assert_int_equal(parse_at(v->secret, copy, len, now, &r, &a), ERR_AUTH);
    memcpy(copy, v->sr, len + 1);
    copy[0] = copy[0] == 'A' ? 'B' : 'A'; /* first signature character */
    assert_int_equal(parse_at(v->secret, copy, len, now, &r, &a), ERR_AUTH);

    memcpy(copy, v->sr, len + 1);
    size_t n = len;
    if (fixtures[i].payload_padded) {
        while (copy[n - 1] == '=')
            copy[--n] = '\0';
    } else {
        do /* the padding a PHP encoder would have added; '=' even where none is due */
            copy[n++] = '=';
        while ((n - dot - 1) % 4);
        copy[n] = '\0';
    }
    assert_int_equal(parse_at(v->secret, copy, n, now, &r, &a), ERR_AUTH);
    arena_release(&a);
}

static void test_every_fixture(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_FIXTURES; i++) {
        struct vector v = load_vector(fixtures[i].file);
        assert_true(json_is_true(json_object_get(v.root, "hmac_sha256_valid")));
        check_fixture_verifies(i, &v);
        check_fixture_freshness(i, &v);
        check_fixture_tampering(i, &v);
        json_decref(v.root);
    }
}

/* Every file of the fixture folder has a row above: a new vector cannot go untested. */
static void test_no_fixture_left_out(void **state)
{
    (void)state;
    DIR *d = opendir(tu_fixture(FIXTURE_DIR));
    assert_non_null(d);
    size_t n_files = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        n_files++;
        bool listed = false;
        for (size_t i = 0; i < N_FIXTURES; i++)
            listed |= strcmp(e->d_name, fixtures[i].file) == 0;
        if (!listed)
            fail_msg("fixture %s has no expectation in this test", e->d_name);
    }
    closedir(d);
    assert_int_equal(n_files, N_FIXTURES);
}

/* ---- crafted requests ---- */

#define SECRET "test_app_secret"
#define NOW    1700000000LL

/* "<sig>.<payload>" for payload JSON, signed over the payload segment as written. */
static char *make_sr(struct arena *a, const char *secret, const char *json, bool pad)
{
    size_t n = strlen(json);
    char *p = arena_alloc(a, 4 * (n / 3 + 1) + 4);
    base64url_encode(json, n, p);
    for (size_t k = strlen(p); pad && k % 4; k++)
        p[k] = '=';
    unsigned char mac[CRYPTO_SHA256_LEN];
    crypto_hmac_sha256(secret, strlen(secret), p, strlen(p), mac);
    char sig[64];
    base64url_encode(mac, sizeof mac, sig);
    return arena_printf(a, "%s%s.%s", sig, pad ? "=" : "", p);
}

static void test_crafted_payloads(void **state)
{
    (void)state;
    static const struct {
        const char *name, *json;
        enum err rc;
        const char *user_id;
    } cases[] = {
        {"string user id",
         "{\"algorithm\":\"HMAC-SHA256\",\"issued_at\":1700000000,"
         "\"expires\":1700003600,\"user_id\":\"10170000000000001\"}",
         ERR_OK, "10170000000000001"},
        {"number user id above 2^53",
         "{\"algorithm\":\"HMAC-SHA256\",\"issued_at\":1700000000,\"user_id\":9007199254740993}",
         ERR_OK, "9007199254740993"},
        {"issued_at as a numeric string",
         "{\"algorithm\":\"HMAC-SHA256\",\"issued_at\":\"1700000000\",\"user_id\":\"1\"}", ERR_OK,
         "1"},
        {"expires null",
         "{\"algorithm\":\"HMAC-SHA256\",\"issued_at\":1700000000,"
         "\"expires\":null,\"user_id\":\"1\"}",
         ERR_OK, "1"},
        {"user_id null",
         "{\"algorithm\":\"HMAC-SHA256\",\"issued_at\":1700000000,"
         "\"user_id\":null}",
         ERR_OK, NULL},
        {"algorithm HMAC-SHA1",
         "{\"algorithm\":\"HMAC-SHA1\",\"issued_at\":1700000000,\"user_id\":\"1\"}", ERR_INVALID,
         NULL},
        {"algorithm lower case",
         "{\"algorithm\":\"hmac-sha256\",\"issued_at\":1700000000,\"user_id\":\"1\"}", ERR_INVALID,
         NULL},
        {"algorithm missing", "{\"issued_at\":1700000000,\"user_id\":\"1\"}", ERR_INVALID, NULL},
        {"algorithm a number", "{\"algorithm\":256,\"issued_at\":1700000000}", ERR_INVALID, NULL},
        {"issued_at missing", "{\"algorithm\":\"HMAC-SHA256\",\"user_id\":\"1\"}", ERR_INVALID,
         NULL},
        {"issued_at text", "{\"algorithm\":\"HMAC-SHA256\",\"issued_at\":\"soon\"}", ERR_INVALID,
         NULL},
        {"issued_at fractional", "{\"algorithm\":\"HMAC-SHA256\",\"issued_at\":1700000000.5}",
         ERR_INVALID, NULL},
        {"expires text",
         "{\"algorithm\":\"HMAC-SHA256\",\"issued_at\":1700000000,\"expires\":\"never\"}",
         ERR_INVALID, NULL},
        {"user_id an object",
         "{\"algorithm\":\"HMAC-SHA256\",\"issued_at\":1700000000,\"user_id\":{\"id\":1}}",
         ERR_INVALID, NULL},
        {"user_id true",
         "{\"algorithm\":\"HMAC-SHA256\",\"issued_at\":1700000000,\"user_id\":true}", ERR_INVALID,
         NULL},
        {"user_id empty",
         "{\"algorithm\":\"HMAC-SHA256\",\"issued_at\":1700000000,"
         "\"user_id\":\"\"}",
         ERR_INVALID, NULL},
        {"user_id with a space and markup",
         "{\"algorithm\":\"HMAC-SHA256\",\"issued_at\":1700000000,\"user_id\":\"1 <b>\"}",
         ERR_INVALID, NULL},
        {"user_id of 65 characters",
         "{\"algorithm\":\"HMAC-SHA256\",\"issued_at\":1700000000,\"user_id\":\"1234567890123456"
         "7890123456789012345678901234567890123456789012345\"}",
         ERR_INVALID, NULL},
        {"payload an array", "[\"HMAC-SHA256\",1700000000]", ERR_INVALID, NULL},
        {"payload a string", "\"HMAC-SHA256\"", ERR_INVALID, NULL},
        {"payload not JSON", "algorithm=HMAC-SHA256", ERR_INVALID, NULL},
        {"payload truncated JSON", "{\"algorithm\":\"HMAC-SHA256\",\"issued_at\":17", ERR_INVALID,
         NULL},
        {"nesting deeper than the cap",
         "{\"algorithm\":\"HMAC-SHA256\",\"issued_at\":1700000000,\"x\":"
         "[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}",
         ERR_INVALID, NULL},
        {"a day and a second old", "{\"algorithm\":\"HMAC-SHA256\",\"issued_at\":1699913599}",
         ERR_AUTH, NULL},
        {"exactly a day old", "{\"algorithm\":\"HMAC-SHA256\",\"issued_at\":1699913600}", ERR_OK,
         NULL},
        {"301 s in the future", "{\"algorithm\":\"HMAC-SHA256\",\"issued_at\":1700000301}",
         ERR_AUTH, NULL},
        {"far past (INT64_MIN)",
         "{\"algorithm\":\"HMAC-SHA256\",\"issued_at\":-9223372036854775808}", ERR_AUTH, NULL},
        {"far future (INT64_MAX)",
         "{\"algorithm\":\"HMAC-SHA256\",\"issued_at\":9223372036854775807}", ERR_AUTH, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (int pad = 0; pad <= 1; pad++) {
            struct arena a;
            arena_init(&a);
            char *sr = make_sr(&a, SECRET, cases[i].json, pad);
            struct meta_signed_request r;
            enum err rc = parse_at(SECRET, sr, strlen(sr), NOW, &r, &a);
            if (rc != cases[i].rc)
                fail_msg("%s (%s): got %s, want %s", cases[i].name, pad ? "padded" : "unpadded",
                         err_name(rc), err_name(cases[i].rc));
            if (rc == ERR_OK && cases[i].user_id)
                assert_string_equal(r.user_id, cases[i].user_id);
            else if (rc == ERR_OK)
                assert_null(r.user_id);
            /* with another secret every one of them is a signature failure, never a parse */
            assert_int_equal(parse_at("other", sr, strlen(sr), NOW, &r, &a), ERR_AUTH);
            arena_release(&a);
        }
    }
}

static void test_malformed(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    char *good =
        make_sr(&a, SECRET, "{\"algorithm\":\"HMAC-SHA256\",\"issued_at\":1700000000}", false);
    const char *payload = strchr(good, '.') + 1;
    unsigned char mac[CRYPTO_SHA256_LEN];
    char b64[64];
    /* a correct HMAC over a payload segment with a second '.': signed, but not base64url */
    const char *dotted_payload = arena_printf(&a, "%s.%s", payload, payload);
    crypto_hmac_sha256(SECRET, strlen(SECRET), dotted_payload, strlen(dotted_payload), mac);
    base64url_encode(mac, sizeof mac, b64);
    char *dotted = arena_printf(&a, "%s.%s", b64, dotted_payload);
    base64url_encode(mac, 31, b64);
    char *short_sig = arena_printf(&a, "%s.%s", b64, payload);
    unsigned char long_mac[33] = {0};
    base64url_encode(long_mac, sizeof long_mac, b64);
    char *long_sig = arena_printf(&a, "%s.%s", b64, payload);
    char *huge = arena_alloc(&a, META_SR_MAX_LEN + 2);
    memset(huge, 'A', META_SR_MAX_LEN + 1);
    huge[10] = '.';
    static const struct {
        const char *name;
        size_t which;
        enum err rc;
    } cases[] = {
        {"no dot", 0, ERR_INVALID},
        {"empty signature", 1, ERR_INVALID},
        {"empty payload", 2, ERR_INVALID},
        {"signature not base64url", 3, ERR_INVALID},
        {"31-byte signature", 4, ERR_INVALID},
        {"33-byte signature", 5, ERR_INVALID},
        {"empty string", 6, ERR_INVALID},
        {"second dot inside the payload", 7, ERR_INVALID},
        {"over the size cap", 8, ERR_TOO_LARGE},
    };
    const char *inputs[] = {
        "eyJhbGdvcml0aG0iOiJITUFDLVNIQTI1NiJ9",
        arena_printf(&a, ".%s", payload),
        arena_printf(&a, "%.*s.", (int)(payload - good - 1), good),
        arena_printf(&a, "*%s", good + 1),
        short_sig,
        long_sig,
        "",
        dotted,
        huge,
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct meta_signed_request r;
        const char *why = NULL;
        struct meta_sr_limits lim = {.now_s = NOW};
        const char *in = inputs[cases[i].which];
        enum err rc = meta_parse_signed_request(&a, SECRET, in, strlen(in), &lim, &r, &why);
        if (rc != cases[i].rc)
            fail_msg("%s: got %s, want %s", cases[i].name, err_name(rc), err_name(cases[i].rc));
        assert_non_null(why);
    }
    struct meta_signed_request r;
    assert_int_equal(parse_at(SECRET, good, strlen(good), NOW, &r, &a), ERR_OK);
    /* the length is the caller's: a request cut short does not verify */
    assert_int_equal(parse_at(SECRET, good, strlen(good) - 1, NOW, &r, &a), ERR_AUTH);
    assert_int_equal(parse_at(SECRET, NULL, 0, NOW, &r, &a), ERR_INVALID);
    arena_release(&a);
}

static void test_user_id_rule(void **state)
{
    (void)state;
    assert_true(meta_user_id_ok("10170000000000001"));
    assert_true(meta_user_id_ok("abc_DEF-9"));
    assert_false(meta_user_id_ok(""));
    assert_false(meta_user_id_ok(NULL));
    assert_false(meta_user_id_ok("1 2"));
    assert_false(meta_user_id_ok("1/2"));
    assert_false(
        meta_user_id_ok("12345678901234567890123456789012345678901234567890123456789012345"));
    assert_true(
        meta_user_id_ok("1234567890123456789012345678901234567890123456789012345678901234"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_fixture),    cmocka_unit_test(test_no_fixture_left_out),
        cmocka_unit_test(test_crafted_payloads), cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_user_id_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
