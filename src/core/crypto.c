/*
 * core/crypto.c - OpenSSL-backed primitives and the text codecs.
 */
#include "core/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

void crypto_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
                        unsigned char out[CRYPTO_SHA256_LEN])
{
    unsigned int len = CRYPTO_SHA256_LEN;
    if (!HMAC(EVP_sha256(), key, (int)key_len, msg, msg_len, out, &len)) {
        log_error("crypto.hmac_failed");
        abort();
    }
}

void crypto_sha256(const void *msg, size_t msg_len, unsigned char out[CRYPTO_SHA256_LEN])
{
    unsigned int len = CRYPTO_SHA256_LEN;
    if (!EVP_Digest(msg, msg_len, out, &len, EVP_sha256(), NULL)) {
        log_error("crypto.sha256_failed");
        abort();
    }
}

struct crypto_hmac {
    EVP_MD_CTX *inner, *outer; /* SHA-256 states after (key ^ ipad) and (key ^ opad) */
};

static void must(int ok, const char *what)
{
    if (!ok) {
        log_error("crypto.failed", LOG_STR("op", what));
        abort();
    }
}

static EVP_MD_CTX *padded_state(const unsigned char key[64], unsigned char pad)
{
    unsigned char block[64];
    for (int i = 0; i < 64; i++)
        block[i] = key[i] ^ pad;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    must(c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) && EVP_DigestUpdate(c, block, 64),
         "hmac_init");
    OPENSSL_cleanse(block, sizeof block);
    return c;
}

struct crypto_hmac *crypto_hmac_new(const void *key, size_t key_len)
{
    unsigned char k[64] = {0};
    if (key_len > 64)
        crypto_sha256(key, key_len, k); /* RFC 2104: long keys are hashed first */
    else if (key_len)
        memcpy(k, key, key_len);
    struct crypto_hmac *h = calloc(1, sizeof *h);
    must(h != NULL, "hmac_alloc");
    h->inner = padded_state(k, 0x36);
    h->outer = padded_state(k, 0x5c);
    OPENSSL_cleanse(k, sizeof k);
    return h;
}

void crypto_hmac_free(struct crypto_hmac *h)
{
    if (!h)
        return;
    EVP_MD_CTX_free(h->inner);
    EVP_MD_CTX_free(h->outer);
    free(h);
}

/* One scratch context per thread, freed when the thread exits. */
static pthread_key_t g_work_key;
static pthread_once_t g_work_once = PTHREAD_ONCE_INIT;

static void free_work(void *ctx)
{
    EVP_MD_CTX_free(ctx);
}

static void make_work_key(void)
{
    must(pthread_key_create(&g_work_key, free_work) == 0, "hmac_key");
}

static EVP_MD_CTX *thread_work_ctx(void)
{
    pthread_once(&g_work_once, make_work_key);
    EVP_MD_CTX *work = pthread_getspecific(g_work_key);
    if (!work) {
        must((work = EVP_MD_CTX_new()) != NULL, "hmac_ctx");
        pthread_setspecific(g_work_key, work);
    }
    return work;
}

void crypto_hmac_compute(const struct crypto_hmac *h, const void *msg, size_t msg_len,
                         unsigned char out[CRYPTO_SHA256_LEN])
{
    EVP_MD_CTX *work = thread_work_ctx();
    unsigned char inner[CRYPTO_SHA256_LEN];
    must(EVP_MD_CTX_copy_ex(work, h->inner) && EVP_DigestUpdate(work, msg, msg_len) &&
             EVP_DigestFinal_ex(work, inner, NULL),
         "hmac_inner");
    must(EVP_MD_CTX_copy_ex(work, h->outer) && EVP_DigestUpdate(work, inner, sizeof inner) &&
             EVP_DigestFinal_ex(work, out, NULL),
         "hmac_outer");
}

bool crypto_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

void crypto_random(void *out, size_t n)
{
    if (RAND_bytes(out, (int)n) != 1) {
        log_error("crypto.random_failed");
        abort();
    }
}

void hex_encode(const void *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char *p = in;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

enum err hex_decode(const char *in, size_t in_len, unsigned char *out, size_t out_len)
{
    if (in_len != 2 * out_len)
        return ERR_INVALID;
    for (size_t i = 0; i < out_len; i++) {
        int hi = hex_value(in[2 * i]), lo = hex_value(in[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return ERR_INVALID;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return ERR_OK;
}

static void b64_encode(const unsigned char *p, size_t n, char *out, const char *alpha, bool pad)
{
    size_t o = 0, i = 0;
    for (; i + 2 < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
        out[o++] = alpha[v >> 18];
        out[o++] = alpha[(v >> 12) & 63];
        out[o++] = alpha[(v >> 6) & 63];
        out[o++] = alpha[v & 63];
    }
    if (i < n) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0);
        out[o++] = alpha[v >> 18];
        out[o++] = alpha[(v >> 12) & 63];
        if (i + 1 < n)
            out[o++] = alpha[(v >> 6) & 63];
        else if (pad)
            out[o++] = '=';
        if (pad)
            out[o++] = '=';
    }
    out[o] = '\0';
}

void base64_encode(const void *in, size_t n, char *out)
{
    b64_encode(in, n, out, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
               true);
}

void base64url_encode(const void *in, size_t n, char *out)
{
    b64_encode(in, n, out, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
               false);
}

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

enum err base64_decode(const char *in, size_t in_len, unsigned char *out, size_t out_cap,
                       size_t *out_len)
{
    size_t n = in_len;
    while (n > 0 && in[n - 1] == '=')
        n--;
    size_t n_pad = in_len - n;
    if (n_pad > 2 || (n_pad && in_len % 4 != 0) || n % 4 == 1)
        return ERR_INVALID;
    size_t need = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
    if (need > out_cap)
        return ERR_TOO_LARGE;
    unsigned acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_value(in[i]);
        if (v < 0)
            return ERR_INVALID;
        acc = (acc << 6 | (unsigned)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    if (bits && (acc & ((1u << bits) - 1))) /* non-canonical trailing bits */
        return ERR_INVALID;
    *out_len = o;
    return ERR_OK;
}

void crypto_seal(const unsigned char key[CRYPTO_KEY_LEN], const void *aad, size_t aad_len,
                 const void *in, size_t n, unsigned char *out)
{
    crypto_random(out, CRYPTO_NONCE_LEN);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int len = 0, fin = 0;
    must(c && EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, out) &&
             (aad_len == 0 || EVP_EncryptUpdate(c, NULL, &len, aad, (int)aad_len)) &&
             EVP_EncryptUpdate(c, out + CRYPTO_NONCE_LEN, &len, in, (int)n) &&
             EVP_EncryptFinal_ex(c, out + CRYPTO_NONCE_LEN + len, &fin) &&
             EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, CRYPTO_TAG_LEN,
                                 out + CRYPTO_NONCE_LEN + n),
         "aes-256-gcm seal");
    EVP_CIPHER_CTX_free(c);
}

enum err crypto_open(const unsigned char key[CRYPTO_KEY_LEN], const void *aad, size_t aad_len,
                     const unsigned char *in, size_t n, unsigned char *out, size_t *out_len)
{
    if (n < CRYPTO_SEAL_OVERHEAD)
        return ERR_AUTH;
    size_t ct_len = n - CRYPTO_SEAL_OVERHEAD;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int len = 0, fin = 0;
    must(c && EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, in), "aes-256-gcm open");
    /* The tag is an input here, which OpenSSL's prototype does not say. */
    void *tag = (void *)(uintptr_t)(in + CRYPTO_NONCE_LEN + ct_len);
    bool ok = (aad_len == 0 || EVP_DecryptUpdate(c, NULL, &len, aad, (int)aad_len)) &&
              EVP_DecryptUpdate(c, out, &len, in + CRYPTO_NONCE_LEN, (int)ct_len) &&
              EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, CRYPTO_TAG_LEN, tag) &&
              EVP_DecryptFinal_ex(c, out + len, &fin) == 1;
    EVP_CIPHER_CTX_free(c);
    if (!ok) {
        OPENSSL_cleanse(out, ct_len);
        return ERR_AUTH;
    }
    *out_len = ct_len;
    return ERR_OK;
}

void crypto_cleanse(void *p, size_t n)
{
    OPENSSL_cleanse(p, n);
}
