/*
 * core/keys.h - the master keys that encrypt tokens at rest (AES-256-GCM).
 *
 * The current key is SB_MASTER_KEY (base64 of 32 bytes) when set, else the first key in
 * SB_DATA_DIR/master.key, a file created with mode 0600 on first use. The file holds one base64
 * key per line: after `keys rotate` the new key comes first and the older ones stay, so values
 * sealed under them still open while they are re-encrypted.
 * A sealed value is 'K' | key id (the first 4 bytes of SHA-256 of the key) | nonce | ciphertext
 * | tag; the associated data (an account id, say) binds it to the row it belongs to.
 * Threads: a keyring is read-only once loaded; any thread may seal and open with it.
 */
#ifndef SB_CORE_KEYS_H
#define SB_CORE_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

struct keyring;

/* master_key_b64: SB_MASTER_KEY ("" or NULL: use the key file). ERR_INVALID for a malformed
 * key or key file, ERR_IO when the file cannot be read or created. Caller owns *out. */
MUST_USE enum err keyring_load(const char *master_key_b64, const char *data_dir,
                               struct keyring **out);
void keyring_free(struct keyring *k);
/* Seals under the current key. Caller frees *out with free(). */
void keyring_seal(const struct keyring *k, const char *aad, const void *in, size_t n,
                  unsigned char **out, size_t *out_len);
/* Opens a sealed value into a NUL-terminated heap string (free with free()). ERR_AUTH when no
 * key of the ring opens it (wrong key, wrong aad, tampered bytes). */
MUST_USE enum err keyring_open(const struct keyring *k, const char *aad, const unsigned char *in,
                               size_t n, char **out, size_t *out_len);
/* Whether a sealed value is under the current key (rotation leaves nothing else behind). */
bool keyring_is_current(const struct keyring *k, const unsigned char *in, size_t n);
/* Puts a new random key first in the key file, keeping the old ones. ERR_INVALID when
 * SB_MASTER_KEY is set (that key is rotated by changing the variable). */
MUST_USE enum err keyring_add_new_key(const char *master_key_b64, const char *data_dir);

#endif
