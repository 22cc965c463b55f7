/*
 * meta/signature.c - X-Hub-Signature-256: "sha256=" and the lowercase hex HMAC-SHA256 of the
 * raw body, keyed with the app secret. The raw bytes are hashed, never re-serialised JSON:
 * Meta signs its escaped-unicode wire form.
 */
#include "meta/meta.h"

#include <string.h>
#include <strings.h>

#include "core/crypto.h"

enum err meta_parse_signature_header(const char *value, size_t len,
                                     unsigned char out[META_SIGNATURE_LEN])
{
    static const char prefix[] = "sha256=";
    const size_t plen = sizeof prefix - 1;
    if (!value || len != plen + 2 * META_SIGNATURE_LEN || strncasecmp(value, prefix, plen) != 0)
        return ERR_AUTH;
    if (hex_decode(value + plen, 2 * META_SIGNATURE_LEN, out, META_SIGNATURE_LEN) != ERR_OK)
        return ERR_AUTH;
    return ERR_OK;
}

enum err meta_verify_signature_keyed(const struct crypto_hmac *key, const void *body, size_t len,
                                     const char *header, unsigned char mac_out[META_SIGNATURE_LEN])
{
    unsigned char want[META_SIGNATURE_LEN], mac[META_SIGNATURE_LEN];
    if (!key || !header || meta_parse_signature_header(header, strlen(header), want) != ERR_OK)
        return ERR_AUTH;
    crypto_hmac_compute(key, body, len, mac);
    if (mac_out)
        memcpy(mac_out, mac, sizeof mac);
    return crypto_equal(mac, want, sizeof mac) ? ERR_OK : ERR_AUTH;
}

enum err meta_verify_signature(const char *app_secret, const void *body, size_t len,
                               const char *header, unsigned char mac_out[META_SIGNATURE_LEN])
{
    if (!app_secret || !*app_secret)
        return ERR_AUTH;
    struct crypto_hmac *key = crypto_hmac_new(app_secret, strlen(app_secret));
    enum err rc = meta_verify_signature_keyed(key, body, len, header, mac_out);
    crypto_hmac_free(key);
    return rc;
}
