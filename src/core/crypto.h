/*
 * core/crypto.h - the primitives the program uses: HMAC-SHA256, SHA-256, constant-time
 * comparison, random bytes, hex and base64/base64url codecs.
 *
 * Threads: every function is safe to call from any thread.
 */
#ifndef SB_CORE_CRYPTO_H
#define SB_CORE_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

#define CRYPTO_SHA256_LEN 32

void crypto_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
                        unsigned char out[CRYPTO_SHA256_LEN]);
void crypto_sha256(const void *msg, size_t msg_len, unsigned char out[CRYPTO_SHA256_LEN]);

/* A key made ready for HMAC-SHA256 once (its inner and outer pad states precomputed), for
 * hot paths: about a quarter of crypto_hmac_sha256()'s cost per message. */
struct crypto_hmac;
/* Caller owns the result; free with crypto_hmac_free(). The key is not kept in clear. */
struct crypto_hmac *crypto_hmac_new(const void *key, size_t key_len);
void crypto_hmac_free(struct crypto_hmac *h);
/* Same result as crypto_hmac_sha256() with the same key. Any thread, concurrently. */
void crypto_hmac_compute(const struct crypto_hmac *h, const void *msg, size_t msg_len,
                         unsigned char out[CRYPTO_SHA256_LEN]);
/* Overwrites n bytes in a way the compiler cannot drop (keys, plaintext tokens). */
void crypto_cleanse(void *p, size_t n);
/* Constant-time equality of two n-byte strings. */
bool crypto_equal(const void *a, const void *b, size_t n);
/* Fills out with n bytes from the OS CSPRNG; aborts if the OS cannot supply them. */
void crypto_random(void *out, size_t n);

/* Lower-case hex of n bytes into out (2n+1 bytes, NUL-terminated). */
void hex_encode(const void *in, size_t n, char *out);
/* Decodes exactly out_len bytes from 2*out_len hex digits (either case); ERR_INVALID on a
 * wrong length or a non-hex digit. */
MUST_USE enum err hex_decode(const char *in, size_t in_len, unsigned char *out, size_t out_len);

/* Base64 (RFC 4648 section 4) with padding; out needs 4*ceil(n/3)+1 bytes. */
void base64_encode(const void *in, size_t n, char *out);
/* Base64url (RFC 4648 section 5) without padding; out needs 4*ceil(n/3)+1 bytes. */
void base64url_encode(const void *in, size_t n, char *out);
/* Decodes base64 or base64url (either alphabet, padding optional but, if present, correct).
 * out needs 3*ceil(in_len/4) bytes; *out_len receives the decoded length. */
MUST_USE enum err base64_decode(const char *in, size_t in_len, unsigned char *out, size_t out_cap,
                                size_t *out_len);

/* AES-256-GCM. A sealed value is nonce (12 random bytes) | ciphertext | tag (16 bytes), so
 * out needs n + CRYPTO_SEAL_OVERHEAD bytes. aad is authenticated, not stored. */
#define CRYPTO_KEY_LEN       32
#define CRYPTO_NONCE_LEN     12
#define CRYPTO_TAG_LEN       16
#define CRYPTO_SEAL_OVERHEAD (CRYPTO_NONCE_LEN + CRYPTO_TAG_LEN)
void crypto_seal(const unsigned char key[CRYPTO_KEY_LEN], const void *aad, size_t aad_len,
                 const void *in, size_t n, unsigned char *out);
/* Opens what crypto_seal() made with the same key and aad; out needs n - CRYPTO_SEAL_OVERHEAD
 * bytes. ERR_AUTH when the key, the aad or any byte is wrong (out is then zeroed). */
MUST_USE enum err crypto_open(const unsigned char key[CRYPTO_KEY_LEN], const void *aad,
                              size_t aad_len, const unsigned char *in, size_t n, unsigned char *out,
                              size_t *out_len);

#endif
