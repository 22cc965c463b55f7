/*
 * tests/fuzz/fuzz_signature.c - X-Hub-Signature-256: meta_parse_signature_header() and
 * meta_verify_signature() on arbitrary bytes.
 *
 * Properties: the input as a header (raw, and as a C string over the input as body) never
 * crashes; a header built from HMAC(secret, input) verifies (in either hex case) and parses
 * back to the same digest; flipping one hex digit, dropping or adding one character, or
 * changing the secret turns it into ERR_AUTH.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "meta/meta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SECRET     "fuzz-app-secret"
#define PREFIX_LEN 7 /* "sha256=" */
#define HEADER_LEN (PREFIX_LEN + 2 * META_SIGNATURE_LEN)

static void require(bool cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_signature: %s\n", what);
        abort();
    }
}

/* The input itself as a header: raw bytes, then as a NUL-terminated copy. */
static void arbitrary_header(const uint8_t *data, size_t size)
{
    unsigned char out[META_SIGNATURE_LEN], mac[META_SIGNATURE_LEN];
    enum err rc = meta_parse_signature_header((const char *)data, size, out);
    require(rc == ERR_OK || rc == ERR_AUTH, "parse: unexpected code");
    char *hdr = malloc(size + 1);
    require(hdr != NULL, "malloc");
    memcpy(hdr, data, size);
    hdr[size] = '\0';
    rc = meta_verify_signature(SECRET, data, size, hdr, mac);
    require(rc == ERR_OK || rc == ERR_AUTH, "verify: unexpected code");
    free(hdr);
}

/* A digit other than c (either case), chosen by pick. */
static char other_hex(char c, unsigned pick)
{
    static const char digits[] = "0123456789abcdef";
    char d = digits[pick % 16];
    if (d == tolower((unsigned char)c))
        d = digits[(pick + 1) % 16];
    return d;
}

static void valid_header(const uint8_t *data, size_t size)
{
    unsigned char mac[META_SIGNATURE_LEN], got[META_SIGNATURE_LEN], parsed[META_SIGNATURE_LEN];
    crypto_hmac_sha256(SECRET, strlen(SECRET), data, size, mac);
    char hdr[HEADER_LEN + 2];
    memcpy(hdr, "sha256=", PREFIX_LEN);
    hex_encode(mac, sizeof mac, hdr + PREFIX_LEN);

    require(meta_verify_signature(SECRET, data, size, hdr, got) == ERR_OK, "valid header rejected");
    require(memcmp(got, mac, sizeof mac) == 0, "mac_out differs from the HMAC");
    require(meta_parse_signature_header(hdr, HEADER_LEN, parsed) == ERR_OK, "parse rejected");
    require(memcmp(parsed, mac, sizeof mac) == 0, "parsed digest differs");
    require(meta_verify_signature("other-secret", data, size, hdr, NULL) == ERR_AUTH,
            "wrong secret accepted");
    require(meta_verify_signature("", data, size, hdr, NULL) == ERR_AUTH, "empty secret accepted");

    char upper[sizeof hdr];
    for (size_t i = 0; i < sizeof hdr; i++)
        upper[i] = (char)toupper((unsigned char)hdr[i]);
    require(meta_verify_signature(SECRET, data, size, upper, NULL) == ERR_OK,
            "upper-case header rejected");

    unsigned pick = size ? data[0] | (unsigned)data[size - 1] << 8 : 0;
    size_t pos = PREFIX_LEN + pick % (2 * META_SIGNATURE_LEN);
    char flipped[sizeof hdr];
    memcpy(flipped, hdr, sizeof hdr);
    flipped[pos] = other_hex(hdr[pos], pick >> 6);
    require(meta_verify_signature(SECRET, data, size, flipped, NULL) == ERR_AUTH,
            "header with a flipped digit accepted");

    char shorter[sizeof hdr];
    memcpy(shorter, hdr, sizeof hdr);
    shorter[HEADER_LEN - 1] = '\0';
    require(meta_verify_signature(SECRET, data, size, shorter, NULL) == ERR_AUTH,
            "truncated header accepted");
    char longer[sizeof hdr];
    memcpy(longer, hdr, HEADER_LEN);
    longer[HEADER_LEN] = '0';
    longer[HEADER_LEN + 1] = '\0';
    require(meta_verify_signature(SECRET, data, size, longer, NULL) == ERR_AUTH,
            "header with an extra digit accepted");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    arbitrary_header(data, size);
    valid_header(data, size);
    require(meta_verify_signature(SECRET, data, size, NULL, NULL) == ERR_AUTH,
            "NULL header accepted");
    return 0;
}
