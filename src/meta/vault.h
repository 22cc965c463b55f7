/*
 * meta/vault.h - access tokens at rest: sealing and opening the accounts' tokens with the
 * master keys, following `switchboard keys rotate` while a server runs, and re-sealing every
 * stored token under the current key.
 *
 * Owns: the one place a plaintext token meets the master key, the associated data
 * "<platform>:<external_id>" (store_token_aad()), and reloading the key file.
 * Reloading: `keys rotate` (another process) writes a new key first in SB_DATA_DIR/master.key
 * and re-seals every row under it. A vault notices in two ways: before sealing it compares the
 * key file's identity (inode, size, mtime) with what it loaded, and when a value does not open
 * (a key id it does not know) it reloads the file, if it changed, and tries once more. So a
 * running server opens the re-sealed rows, and seals new tokens under the new key, with no
 * restart. Anything that opens or seals tokens (the sender, the dashboard) should hold one
 * long-lived vault rather than a bare keyring.
 * Does not own: the key file format (core/keys.c), the rows (store/).
 * Threads: any thread may call any function concurrently; a reload swaps the keyring under a
 * mutex and keeps the old one alive until meta_vault_free().
 */
#ifndef SB_META_VAULT_H
#define SB_META_VAULT_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "store/store.h"

struct meta_vault;

/* master_key: SB_MASTER_KEY ("" or NULL: the key file in data_dir, created if missing). Both
 * strings are copied. Errors as keyring_load(). Caller owns *out; free with meta_vault_free(). */
MUST_USE enum err meta_vault_new(const char *master_key, const char *data_dir,
                                 struct meta_vault **out);
void meta_vault_free(struct meta_vault *v);

/* Seals token (not empty) for the account (p, external_id). Caller frees *out with free().
 * ERR_INVALID for an empty token or id. */
MUST_USE enum err meta_vault_seal(struct meta_vault *v, enum store_platform p,
                                  const char *external_id, const char *token, unsigned char **out,
                                  size_t *out_len);
/* Opens an account's sealed token into a heap string; the caller wipes it with
 * crypto_cleanse() and frees it. ERR_AUTH when no key opens it, even after a reload (wrong
 * account, tampered bytes, or a key that is gone); ERR_NOT_FOUND when the account has none. */
MUST_USE enum err meta_vault_open(struct meta_vault *v, const struct store_account *acct,
                                  char **token);

struct meta_vault_rotation {
    int64_t resealed; /* tokens now under the current key */
    int64_t current;  /* tokens that already were */
    int64_t failed;   /* tokens no key opens (left as they are) */
};

/* Re-seals every stored token that is not under the current key, `batch` rows per
 * transaction (0: 50), with compare-and-swap so a reconnect meanwhile wins. Repeats the pass
 * until one finds nothing to do (at most 3), which catches a server that sealed under the
 * old key while the first pass ran. Store errors are returned; undecryptable rows are counted
 * in failed, not errors. */
MUST_USE enum err meta_vault_reseal_all(struct meta_vault *v, struct store *s, size_t batch,
                                        struct meta_vault_rotation *out);

#endif
