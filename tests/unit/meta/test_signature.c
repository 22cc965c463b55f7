/*
 * tests/unit/meta/test_signature.c - X-Hub-Signature-256 parsing and the HMAC check.
 *
 * Expected digests were computed outside the program, with
 *   printf '%s' BODY | openssl dgst -sha256 -hmac SECRET
 * (or `< file` for fixtures), and pasted here; the code under test never produced them.
 */
#include "meta/meta.h"

#include "testutil.h"

#include "core/crypto.h"
#include "core/json.h"

#define HEX_LEN (2 * META_SIGNATURE_LEN)

static void digest_of(const char *hex, unsigned char out[META_SIGNATURE_LEN])
{
    assert_int_equal(strlen(hex), HEX_LEN);
    assert_int_equal(hex_decode(hex, HEX_LEN, out, META_SIGNATURE_LEN), ERR_OK);
}

static void header_of(const char *hex, bool upper, char *out, size_t cap)
{
    int n = snprintf(out, cap, "sha256=%s", hex);
    assert_true(n > 0 && (size_t)n < cap);
    for (char *p = out + 7; upper && *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
}

/* ---- meta_parse_signature_header ---- */

#define HEX64       "0798c798c2a0c4b160d0779c9886c7b2ed8aeffc6321169172af70412d25f0cb"
#define HEX64_UPPER "0798C798C2A0C4B160D0779C9886C7B2ED8AEFFC6321169172AF70412D25F0CB"
#define HEX64_MIXED "0798c798C2A0c4b160D0779c9886C7b2ed8aeffc6321169172AF70412d25f0cb"

static void test_header_parse(void **state)
{
    (void)state;
    static const struct {
        const char *name, *value;
        size_t len; /* 0: strlen(value) */
        enum err rc;
    } cases[] = {
        {"lowercase hex", "sha256=" HEX64, 0, ERR_OK},
        {"uppercase hex", "sha256=" HEX64_UPPER, 0, ERR_OK},
        {"mixed-case hex", "sha256=" HEX64_MIXED, 0, ERR_OK},
        {"len stops before trailing bytes", "sha256=" HEX64 "ffff", 7 + HEX_LEN, ERR_OK},
        {"no prefix", HEX64, 0, ERR_AUTH},
        {"no prefix, padded to length", "0000000" HEX64, 0, ERR_AUTH},
        {"sha1 header", "sha1=07176f4a00970d9b011eb741c95882b7d4dcc97b", 0, ERR_AUTH},
        {"sha1 prefix, 64 hex", "sha1=" HEX64, 0, ERR_AUTH},
        {"sha512 prefix", "sha512=" HEX64, 0, ERR_AUTH},
        {"colon instead of =", "sha256:" HEX64, 0, ERR_AUTH},
        {"63 digits", "sha256=" HEX64, 7 + HEX_LEN - 1, ERR_AUTH},
        {"65 digits", "sha256=" HEX64 "0", 0, ERR_AUTH},
        {"128 digits", "sha256=" HEX64 HEX64, 0, ERR_AUTH},
        {"non-hex digit g",
         "sha256=0798c798c2a0c4b160d0779c9886c7b2ed8aeffc6321169172af70412d25f0cg", 0, ERR_AUTH},
        {"non-hex digit z first",
         "sha256=z798c798c2a0c4b160d0779c9886c7b2ed8aeffc6321169172af70412d25f0cb", 0, ERR_AUTH},
        {"leading space", " sha256=" HEX64, 0, ERR_AUTH},
        {"space inside digits",
         "sha256=0798c798c2a0c4b160d0779c9886c7b2 d8aeffc6321169172af70412d25f0cb", 0, ERR_AUTH},
        {"trailing newline", "sha256=" HEX64 "\n", 0, ERR_AUTH},
        {"0x prefix on digits",
         "sha256=0x98c798c2a0c4b160d0779c9886c7b2ed8aeffc6321169172af70412d25f0cb", 0, ERR_AUTH},
        {"prefix only", "sha256=", 0, ERR_AUTH},
        {"empty", "", 0, ERR_AUTH},
        {"NULL", NULL, 0, ERR_AUTH},
    };
    unsigned char want[META_SIGNATURE_LEN];
    digest_of(HEX64, want);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned char out[META_SIGNATURE_LEN];
        size_t len = cases[i].len ? cases[i].len : (cases[i].value ? strlen(cases[i].value) : 0);
        enum err rc = meta_parse_signature_header(cases[i].value, len, out);
        if (rc != cases[i].rc)
            fail_msg("%s: got %s, want %s", cases[i].name, err_name(rc), err_name(cases[i].rc));
        if (rc == ERR_OK)
            assert_memory_equal(out, want, META_SIGNATURE_LEN);
    }
}

/* ---- meta_verify_signature on known vectors ---- */

#define K10 "kkkkkkkkkk"

static const struct {
    const char *name, *secret, *body;
    size_t body_len; /* 0: strlen(body) */
    const char *hex;
} vectors[] = {
    {"empty delivery", "s3cret", "{\"object\":\"page\",\"entry\":[]}", 0,
     "0798c798c2a0c4b160d0779c9886c7b2ed8aeffc6321169172af70412d25f0cb"},
    {"instagram delivery", "s3cret", "{\"object\":\"instagram\",\"entry\":[]}", 0,
     "e548c076f84395238d5ec1f9bc2367eb74cc5ff1bbb3c81138dfed1fc117bc49"},
    {"empty body", "s3cret", "", 0,
     "91dfac70c5348b04e1babb8b421ac92cec08b565b49ca16130dccb72503647b7"},
    {"RFC-style text", "key", "The quick brown fox jumps over the lazy dog", 0,
     "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"},
    /* \uXXXX surrogate pairs and \/ exactly as Meta sends them: hashed as raw bytes */
    {"escaped unicode and slashes", "app-secret",
     "{\"text\":\"\\ud83d\\ude22 caf\\u00e9\",\"url\":\"https:\\/\\/x.example\\/a\"}", 0,
     "15cd56c41389c5d58c6382dab7022e91c01f6e35ec6dd0cf97d3a5aa033453da"},
    /* the same JSON value decoded and re-serialised: different bytes, different MAC */
    {"same value re-serialised", "app-secret",
     "{\"text\":\"\xF0\x9F\x98\xA2 caf\xC3\xA9\",\"url\":\"https://x.example/a\"}", 0,
     "a977802f3d8368eb756f284b2b878a960958c3e687cb66240d2629ec88dc052f"},
    /* a secret longer than SHA-256's 64-byte block is hashed first */
    {"100-byte secret", K10 K10 K10 K10 K10 K10 K10 K10 K10 K10,
     "{\"object\":\"instagram\",\"entry\":[]}", 0,
     "c0536cb1f8373aeb25d0ca73116e68bc329aaccf8b16964cda6c89fc4e2b81aa"},
    /* the length is the body's, not strlen's: a NUL byte is hashed like any other */
    {"NUL inside body", "s3cret", "ab\0cd", 5,
     "0d19c9ff6d946abb457fb43f20e0e4e43c58e3fb25df4aabe56c329988cd38c6"},
};

#define N_VECTORS (sizeof vectors / sizeof vectors[0])

static size_t vector_len(size_t i)
{
    return vectors[i].body_len ? vectors[i].body_len : strlen(vectors[i].body);
}

static void test_vectors_verify(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_VECTORS; i++) {
        char header[128];
        unsigned char want[META_SIGNATURE_LEN], mac[META_SIGNATURE_LEN];
        digest_of(vectors[i].hex, want);
        for (int upper = 0; upper <= 1; upper++) {
            header_of(vectors[i].hex, upper, header, sizeof header);
            memset(mac, 0, sizeof mac);
            enum err rc = meta_verify_signature(vectors[i].secret, vectors[i].body, vector_len(i),
                                                header, mac);
            if (rc != ERR_OK)
                fail_msg("%s (upper=%d): %s", vectors[i].name, upper, err_name(rc));
            assert_memory_equal(mac, want, META_SIGNATURE_LEN);
        }
        assert_int_equal(
            meta_verify_signature(vectors[i].secret, vectors[i].body, vector_len(i), header, NULL),
            ERR_OK);
    }
}

/* The webhook route hashes with a precomputed key (crypto_hmac_new) rather than through
 * meta_verify_signature(): the same vectors must come out of it. */
static void test_vectors_precomputed_key(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_VECTORS; i++) {
        unsigned char want[META_SIGNATURE_LEN], mac[META_SIGNATURE_LEN];
        digest_of(vectors[i].hex, want);
        struct crypto_hmac *h = crypto_hmac_new(vectors[i].secret, strlen(vectors[i].secret));
        for (int round = 0; round < 2; round++) { /* the key is reusable */
            memset(mac, 0, sizeof mac);
            crypto_hmac_compute(h, vectors[i].body, vector_len(i), mac);
            if (memcmp(mac, want, sizeof mac) != 0)
                fail_msg("%s: precomputed key gave another digest", vectors[i].name);
        }
        crypto_hmac_free(h);
    }
}

/* The NUL vector must not verify when the body is cut at the NUL (as strlen would). */
static void test_body_length_is_respected(void **state)
{
    (void)state;
    char header[128];
    header_of("0d19c9ff6d946abb457fb43f20e0e4e43c58e3fb25df4aabe56c329988cd38c6", false, header,
              sizeof header);
    assert_int_equal(meta_verify_signature("s3cret", "ab\0cd", 5, header, NULL), ERR_OK);
    assert_int_equal(meta_verify_signature("s3cret", "ab\0cd", 2, header, NULL), ERR_AUTH);
    assert_int_equal(meta_verify_signature("s3cret", "ab\0cd", 4, header, NULL), ERR_AUTH);
}

/* Any single changed byte of the body, anywhere, fails the check. */
static void test_flipped_body_byte(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_VECTORS; i++) {
        size_t len = vector_len(i);
        if (len == 0)
            continue;
        char header[128];
        header_of(vectors[i].hex, false, header, sizeof header);
        char *body = malloc(len);
        const size_t at[] = {0, len / 2, len - 1};
        for (size_t k = 0; k < sizeof at / sizeof at[0]; k++) {
            memcpy(body, vectors[i].body, len);
            body[at[k]] ^= 0x01;
            if (meta_verify_signature(vectors[i].secret, body, len, header, NULL) != ERR_AUTH)
                fail_msg("%s: flipping byte %zu still verified", vectors[i].name, at[k]);
        }
        free(body);
        /* one byte more or less */
        assert_int_equal(
            meta_verify_signature(vectors[i].secret, vectors[i].body, len - 1, header, NULL),
            ERR_AUTH);
    }
}

/* Decoding the escapes before hashing (what a JSON round trip does) breaks the signature. */
static void test_reserialised_body_fails(void **state)
{
    (void)state;
    char header[128];
    header_of(vectors[4].hex, false, header, sizeof header); /* the escaped form's MAC */
    assert_int_equal(
        meta_verify_signature("app-secret", vectors[5].body, strlen(vectors[5].body), header, NULL),
        ERR_AUTH);
}

/* Every way the inputs can be wrong gives ERR_AUTH, never a crash or an OK. */
static void test_verify_rejects(void **state)
{
    (void)state;
    const char *body = vectors[0].body;
    size_t len = strlen(body);
    char good[128], bad_digest[128];
    header_of(vectors[0].hex, false, good, sizeof good);
    header_of(vectors[1].hex, false, bad_digest, sizeof bad_digest); /* another body's MAC */
    static const char sha1_hdr[] = "sha1=9bc8e7a8b33c3d6c4b8d3d7a8a3bc8d8d9a3b5c1";
    static const struct {
        const char *name, *secret;
        int header; /* 0 good, 1 another body's digest, 2 NULL, 3 sha1, 4 no prefix, 5 short */
    } cases[] = {
        {"wrong secret", "s3cret2", 0},
        {"secret differs in case", "S3CRET", 0},
        {"secret with a trailing newline", "s3cret\n", 0},
        {"empty secret", "", 0},
        {"NULL secret", NULL, 0},
        {"digest of another body", "s3cret", 1},
        {"missing header", "s3cret", 2},
        {"sha1= header", "s3cret", 3},
        {"digest without sha256=", "s3cret", 4},
        {"digest one digit short", "s3cret", 5},
    };
    char no_prefix[128], short_hdr[128];
    snprintf(no_prefix, sizeof no_prefix, "%s", good + 7);
    snprintf(short_hdr, sizeof short_hdr, "%.*s", (int)strlen(good) - 1, good);
    const char *headers[] = {good, bad_digest, NULL, sha1_hdr, no_prefix, short_hdr};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum err rc =
            meta_verify_signature(cases[i].secret, body, len, headers[cases[i].header], NULL);
        if (rc != ERR_AUTH)
            fail_msg("%s: got %s, want auth", cases[i].name, err_name(rc));
    }
    assert_int_equal(meta_verify_signature("s3cret", body, len, good, NULL), ERR_OK);
}

/* ---- fixtures: real bodies hashed over their exact bytes with a test secret ---- */

static void test_fixture_bodies(void **state)
{
    (void)state;
    static const struct {
        const char *path, *escape, *hex; /* escape: a sequence the raw bytes must hold */
    } cases[] = {
        /* \u2764\ufe0f escapes, as the dashboard test sender delivered them */
        {"webhooks/instagram/dashboard_test_message_reactions__lambda_log_48003812749.json",
         "\\u2764\\ufe0f", "0ba027ecb38f2c2b5f562ed06439d689a6e16a1bc60b3f559193af2d7c600edb"},
        /* https:\/\/ escaped slashes, no trailing newline */
        {"webhooks/instagram/message_story_reply__restfb_issue1246.json", "https:\\/\\/",
         "441c24b9366ffd3f82b274f89e0218e4502eaaeb102983977fe438d4d31f0d64"},
        /* surrogate pairs \ud83d\udc51, \n and \/ together */
        {"webhooks/instagram/message_ig_reel_echo__pyfile_58257524432.json", "\\ud83d\\udc51",
         "51db8162accd1d295eedf66fea91f8f64de45cbae1f367930318667719a47961"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len;
        char *body = tu_fixture_read(cases[i].path, &len);
        assert_non_null(strstr(body, cases[i].escape));
        char header[128];
        header_of(cases[i].hex, false, header, sizeof header);
        if (meta_verify_signature("test_app_secret", body, len, header, NULL) != ERR_OK)
            fail_msg("%s: raw bytes did not verify", cases[i].path);
        body[len / 2] ^= 0x20;
        assert_int_equal(meta_verify_signature("test_app_secret", body, len, header, NULL),
                         ERR_AUTH);
        free(body);
    }
}

/* The dashboard test delivery's real headers: X-Hub-Signature-256 parses (lowercase hex), the
 * legacy sha1 X-Hub-Signature does not, and without Meta's app secret nothing verifies. */
static void test_dashboard_http_headers(void **state)
{
    (void)state;
    char *raw = tu_fixture_read(
        "webhooks/instagram/dashboard_test_message_reactions_http__lambda_log_48003812749.json",
        NULL);
    json_error_t jerr;
    json_t *root = json_loads(raw, 0, &jerr);
    free(raw);
    assert_non_null(root);
    const json_t *headers = json_object_get(root, "headers");
    const char *sig256 = json_string_value(json_object_get(headers, "X-Hub-Signature-256"));
    const char *sig1 = json_string_value(json_object_get(headers, "X-Hub-Signature"));
    const char *body = json_string_value(json_object_get(root, "body"));
    assert_non_null(sig256);
    assert_non_null(sig1);
    assert_non_null(body);

    unsigned char d[META_SIGNATURE_LEN], want[META_SIGNATURE_LEN];
    assert_int_equal(meta_parse_signature_header(sig256, strlen(sig256), d), ERR_OK);
    digest_of("3511b999d872029da97d4834918456d0c1f9a93e0ad4630fdcf1f1cbcd749e14", want);
    assert_memory_equal(d, want, META_SIGNATURE_LEN);
    assert_int_equal(meta_parse_signature_header(sig1, strlen(sig1), d), ERR_AUTH);
    assert_int_equal(meta_verify_signature("test_app_secret", body, strlen(body), sig256, NULL),
                     ERR_AUTH);
    assert_int_equal(meta_verify_signature("test_app_secret", body, strlen(body), sig1, NULL),
                     ERR_AUTH);
    json_decref(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_parse),
        cmocka_unit_test(test_vectors_verify),
        cmocka_unit_test(test_vectors_precomputed_key),
        cmocka_unit_test(test_body_length_is_respected),
        cmocka_unit_test(test_flipped_body_byte),
        cmocka_unit_test(test_reserialised_body_fails),
        cmocka_unit_test(test_verify_rejects),
        cmocka_unit_test(test_fixture_bodies),
        cmocka_unit_test(test_dashboard_http_headers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
