/*
 * tests/unit/core/test_crypto.c - HMAC-SHA256 (RFC 4231 vectors, one-shot and precomputed),
 * hex and base64/base64url codecs (RFC 4648 vectors), constant-time equality, CRC-32C.
 */
#include "core/crypto.h"

#include "queue/crc32c.h"
#include "testutil.h"

static void test_hmac_rfc4231(void **state)
{
    (void)state;
    unsigned char k1[20], k6[131];
    memset(k1, 0x0b, sizeof k1);
    memset(k6, 0xaa, sizeof k6);
    static const char *const want[] = {
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
    };
    const struct {
        const void *key;
        size_t key_len;
        const char *msg;
    } cases[] = {
        {k1, sizeof k1, "Hi There"},
        {"Jefe", 4, "what do ya want for nothing?"},
        {k6, sizeof k6, "Test Using Larger Than Block-Size Key - Hash Key First"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned char mac[32], mac2[32];
        char hex[65];
        crypto_hmac_sha256(cases[i].key, cases[i].key_len, cases[i].msg, strlen(cases[i].msg), mac);
        hex_encode(mac, 32, hex);
        assert_string_equal(hex, want[i]);
        struct crypto_hmac *h = crypto_hmac_new(cases[i].key, cases[i].key_len);
        for (int rep = 0; rep < 3; rep++) { /* the precomputed key is reusable */
            crypto_hmac_compute(h, cases[i].msg, strlen(cases[i].msg), mac2);
            assert_memory_equal(mac, mac2, 32);
        }
        crypto_hmac_free(h);
    }
}

static void test_hex(void **state)
{
    (void)state;
    unsigned char out[4];
    assert_int_equal(hex_decode("00Ff7a10", 8, out, 4), ERR_OK);
    assert_memory_equal(out, "\x00\xff\x7a\x10", 4);
    assert_int_equal(hex_decode("00ff7a1", 7, out, 4), ERR_INVALID);
    assert_int_equal(hex_decode("00ff7g10", 8, out, 4), ERR_INVALID);
    char hex[9];
    hex_encode(out, 4, hex);
    assert_string_equal(hex, "00ff7a10");
}

static void test_base64_rfc4648(void **state)
{
    (void)state;
    static const struct {
        const char *raw, *b64, *b64url;
    } cases[] = {
        {"", "", ""},
        {"f", "Zg==", "Zg"},
        {"fo", "Zm8=", "Zm8"},
        {"foo", "Zm9v", "Zm9v"},
        {"foob", "Zm9vYg==", "Zm9vYg"},
        {"fooba", "Zm9vYmE=", "Zm9vYmE"},
        {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
        {"\xfb\xff", "+/8=", "-_8"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char enc[32];
        unsigned char dec[32];
        size_t n = 0, len = strlen(cases[i].raw);
        base64_encode(cases[i].raw, len, enc);
        assert_string_equal(enc, cases[i].b64);
        base64url_encode(cases[i].raw, len, enc);
        assert_string_equal(enc, cases[i].b64url);
        /* Both alphabets, padded or not, decode to the same bytes. */
        const char *forms[] = {cases[i].b64, cases[i].b64url};
        for (int k = 0; k < 2; k++) {
            assert_int_equal(base64_decode(forms[k], strlen(forms[k]), dec, sizeof dec, &n),
                             ERR_OK);
            assert_int_equal(n, len);
            assert_memory_equal(dec, cases[i].raw, len);
        }
    }
    static const char *const bad[] = {"Zg=", "Z", "Zm9v!", "Zg===", "Zh==", "Zm9=v"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        unsigned char dec[32];
        size_t n;
        if (base64_decode(bad[i], strlen(bad[i]), dec, sizeof dec, &n) != ERR_INVALID)
            fail_msg("accepted bad base64 '%s'", bad[i]);
    }
    unsigned char small[2];
    size_t n;
    assert_int_equal(base64_decode("Zm9v", 4, small, sizeof small, &n), ERR_TOO_LARGE);
}

static void test_equal(void **state)
{
    (void)state;
    assert_true(crypto_equal("abcd", "abcd", 4));
    assert_false(crypto_equal("abcd", "abce", 4));
    assert_true(crypto_equal("x", "y", 0));
}

static void test_crc32c(void **state)
{
    (void)state;
    assert_int_equal(crc32c("123456789", 9), 0xE3069283u);
    assert_int_equal(crc32c_portable("123456789", 9), 0xE3069283u);
    unsigned char buf[1000];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)(i * 7 + 3);
    for (size_t len = 0; len < sizeof buf; len += 37)
        assert_int_equal(crc32c(buf, len), crc32c_portable(buf, len));
}

static void test_random(void **state)
{
    (void)state;
    unsigned char a[16] = {0}, b[16] = {0};
    crypto_random(a, sizeof a);
    crypto_random(b, sizeof b);
    assert_false(crypto_equal(a, b, sizeof a));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hmac_rfc4231),   cmocka_unit_test(test_hex),
        cmocka_unit_test(test_base64_rfc4648), cmocka_unit_test(test_equal),
        cmocka_unit_test(test_crc32c),         cmocka_unit_test(test_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
