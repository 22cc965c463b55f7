/*
 * server/cli_keys.c - `switchboard keys rotate`: a new master key, then every stored token
 * re-sealed under it, while a server may be running.
 *
 * Without downtime: the new key goes first in SB_DATA_DIR/master.key and the old ones stay,
 * so a running server still opens every row, old or re-sealed; its vault (meta/vault.h)
 * notices the changed file, reloads, and seals new tokens under the new key. Rows are
 * re-sealed in short transactions with compare-and-swap, so a reconnect meanwhile wins.
 * With SB_MASTER_KEY set, the key is rotated by changing the variable (keep the old key as a
 * line of master.key so old rows still open); this command then re-seals under it.
 */
#include <stdio.h>
#include <string.h>

#include "core/keys.h"
#include "meta/vault.h"
#include "server/cli_accounts.h"
#include "store/store.h"

static int fail(const char *what, enum err rc)
{
    fprintf(stderr, "switchboard keys: %s: %s\n", what, err_name(rc));
    return 1;
}

static int report(const struct config *cfg, const struct meta_vault_rotation *st)
{
    if (*cfg->master_key)
        printf("SB_MASTER_KEY is set, so no key was added; ");
    else
        printf("Added a new master key to %s/master.key; ", cfg->data_dir);
    printf("re-encrypted %lld token%s (%lld already under the current key).\n",
           (long long)st->resealed, st->resealed == 1 ? "" : "s", (long long)st->current);
    if (st->failed == 0)
        return 0;
    fprintf(stderr,
            "switchboard keys: %lld token%s could not be opened with any key and were left as "
            "they are; reconnect those accounts\n",
            (long long)st->failed, st->failed == 1 ? "" : "s");
    return 1;
}

static int rotate(const struct config *cfg)
{
    struct store_opts so = {.data_dir = cfg->data_dir,
                            .database_url = cfg->database_url,
                            .sync_full = strcmp(cfg->db_sync, "full") == 0};
    struct store *s = NULL;
    struct meta_vault *v = NULL;
    struct meta_vault_rotation st = {0};
    int code = 1;
    enum err rc = store_open(&so, &s);
    if (rc == ERR_OK)
        rc = store_migrate(s, NULL, NULL);
    if (rc != ERR_OK)
        code = fail("could not open the database", rc);
    else if (!*cfg->master_key && (rc = keyring_add_new_key(NULL, cfg->data_dir)) != ERR_OK)
        code = fail("could not write a new key to SB_DATA_DIR/master.key", rc);
    else if ((rc = meta_vault_new(cfg->master_key, cfg->data_dir, &v)) != ERR_OK)
        code = fail("could not load the master keys", rc);
    else if ((rc = meta_vault_reseal_all(v, s, 0, &st)) != ERR_OK)
        code = fail("re-encrypting the tokens stopped (run keys rotate again)", rc);
    else
        code = report(cfg, &st);
    meta_vault_free(v);
    store_free(s);
    return code;
}

int cli_keys(const struct config *cfg, int argc, const char **argv)
{
    if (argc != 1 || strcmp(argv[0], "rotate") != 0) {
        fprintf(stderr, "switchboard keys: unknown subcommand (usage: keys rotate)\n");
        return 2;
    }
    return rotate(cfg);
}
