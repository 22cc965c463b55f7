/*
 * tests/unit/core/test_keys.c - AES-256-GCM sealing and the master keyring: round trips,
 * tampering, wrong associated data, the key file (created 0600, reused), rotation.
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/crypto.h"
#include "core/keys.h"

static void test_seal_open_and_tamper(void **state)
{
    (void)state;
    unsigned char key[CRYPTO_KEY_LEN], other[CRYPTO_KEY_LEN];
    crypto_random(key, sizeof key);
    crypto_random(other, sizeof other);
    const char *msg = "EAAPtoken-value";
    size_t n = strlen(msg);
    unsigned char sealed[64], out[64];
    size_t out_len = 0;
    crypto_seal(key, "acct:1", 6, msg, n, sealed);
    assert_int_equal(crypto_open(key, "acct:1", 6, sealed, n + CRYPTO_SEAL_OVERHEAD, out, &out_len),
                     ERR_OK);
    assert_int_equal(out_len, n);
    assert_memory_equal(out, msg, n);
    assert_memory_not_equal(sealed + CRYPTO_NONCE_LEN, msg, n); /* not in the clear */
    static const struct {
        const char *what;
        size_t flip; /* byte to flip, or SIZE_MAX for none */
        const char *aad;
        bool other_key;
    } bad[] = {
        {"wrong aad", SIZE_MAX, "acct:2", false},      {"wrong key", SIZE_MAX, "acct:1", true},
        {"nonce flipped", 0, "acct:1", false},         {"ciphertext flipped", 13, "acct:1", false},
        {"tag flipped", 12 + 15 + 3, "acct:1", false},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        unsigned char copy[64];
        memcpy(copy, sealed, sizeof copy);
        if (bad[i].flip != SIZE_MAX)
            copy[bad[i].flip] ^= 1;
        enum err rc = crypto_open(bad[i].other_key ? other : key, bad[i].aad, 6, copy,
                                  n + CRYPTO_SEAL_OVERHEAD, out, &out_len);
        if (rc != ERR_AUTH)
            fail_msg("%s: opened", bad[i].what);
    }
    assert_int_equal(crypto_open(key, NULL, 0, sealed, 5, out, &out_len), ERR_AUTH);
}

static char *temp_dir(void)
{
    char *d = strdup("/tmp/sb-keys-XXXXXX");
    assert_non_null(mkdtemp(d));
    return d;
}

static void test_key_file_created_private_and_reused(void **state)
{
    (void)state;
    char *dir = temp_dir();
    struct keyring *a = NULL, *b = NULL;
    assert_int_equal(keyring_load(NULL, dir, &a), ERR_OK);
    char path[256];
    snprintf(path, sizeof path, "%s/master.key", dir);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    unsigned char *blob = NULL;
    size_t len = 0;
    keyring_seal(a, "7", "secret", 6, &blob, &len);
    assert_int_equal(keyring_load("", dir, &b), ERR_OK); /* the same file: the same key */
    char *plain = NULL;
    size_t plain_len = 0;
    assert_int_equal(keyring_open(b, "7", blob, len, &plain, &plain_len), ERR_OK);
    assert_string_equal(plain, "secret");
    assert_int_equal(keyring_open(b, "8", blob, len, &plain, &plain_len) == ERR_AUTH, 1);
    free(plain);
    /* rotation: new key first, the old one still opens, new seals are under the new key */
    assert_int_equal(keyring_add_new_key(NULL, dir), ERR_OK);
    struct keyring *c = NULL;
    assert_int_equal(keyring_load(NULL, dir, &c), ERR_OK);
    assert_false(keyring_is_current(c, blob, len));
    assert_int_equal(keyring_open(c, "7", blob, len, &plain, &plain_len), ERR_OK);
    free(plain);
    unsigned char *blob2 = NULL;
    keyring_seal(c, "7", "secret", 6, &blob2, &len);
    assert_true(keyring_is_current(c, blob2, len));
    assert_int_equal(keyring_open(a, "7", blob2, len, &plain, &plain_len), ERR_AUTH);
    free(blob);
    free(blob2);
    keyring_free(a);
    keyring_free(b);
    keyring_free(c);
    unlink(path);
    rmdir(dir);
    free(dir);
}

static void test_env_key_and_bad_keys(void **state)
{
    (void)state;
    char *dir = temp_dir();
    struct keyring *k = NULL;
    /* base64 of 32 bytes: used as is, and no key file is created */
    const char *env = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    assert_int_equal(keyring_load(env, dir, &k), ERR_OK);
    char path[256];
    snprintf(path, sizeof path, "%s/master.key", dir);
    assert_int_equal(access(path, F_OK), -1);
    assert_int_equal(keyring_add_new_key(env, dir), ERR_INVALID);
    keyring_free(k);
    static const char *const bad[] = {"short",
                                      "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==", "!!!!"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(keyring_load(bad[i], dir, &k), ERR_INVALID);
    FILE *f = fopen(path, "w");
    fputs("not base64 at all\n", f);
    fclose(f);
    assert_int_equal(keyring_load(NULL, dir, &k), ERR_INVALID);
    unlink(path);
    rmdir(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seal_open_and_tamper),
        cmocka_unit_test(test_key_file_created_private_and_reused),
        cmocka_unit_test(test_env_key_and_bad_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
