/*
 * meta/vault.c - sealing and opening account tokens, following key rotations (see vault.h for
 * how a running process notices a new key), and re-sealing every stored token.
 */
#include "meta/vault.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/crypto.h"
#include "core/keys.h"
#include "core/log.h"
#include "core/mem.h"

#define RESEAL_BATCH_DEFAULT 50
#define RESEAL_MAX_PASSES    3

struct file_id {
    bool exists;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
};

struct meta_vault {
    char *master_key, *data_dir, *path;
    pthread_mutex_t mu;
    struct keyring *ring; /* current; read-only once loaded */
    struct keyring **old; /* replaced rings, alive until meta_vault_free() */
    size_t n_old;
    struct file_id file_id; /* of the key file when ring was loaded */
};

static struct file_id key_file_id(const char *path)
{
    struct file_id id = {0};
    struct stat st;
    if (stat(path, &st) == 0)
        id = (struct file_id){.exists = true,
                              .dev = st.st_dev,
                              .ino = st.st_ino,
                              .size = st.st_size,
                              .mtime = st.st_mtim};
    return id;
}

static bool same_file(const struct file_id *a, const struct file_id *b)
{
    return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

enum err meta_vault_new(const char *master_key, const char *data_dir, struct meta_vault **out)
{
    *out = NULL;
    struct keyring *ring = NULL;
    enum err rc = keyring_load(master_key, data_dir, &ring);
    if (rc != ERR_OK)
        return rc;
    struct meta_vault *v = xcalloc(1, sizeof *v);
    v->master_key = xstrdup(master_key ? master_key : "");
    v->data_dir = xstrdup(data_dir);
    size_t n = strlen(data_dir) + sizeof "/master.key";
    v->path = xmalloc(n);
    snprintf(v->path, n, "%s/master.key", data_dir);
    pthread_mutex_init(&v->mu, NULL);
    v->ring = ring;
    v->file_id = key_file_id(v->path);
    *out = v;
    return ERR_OK;
}

void meta_vault_free(struct meta_vault *v)
{
    if (!v)
        return;
    keyring_free(v->ring);
    for (size_t i = 0; i < v->n_old; i++)
        keyring_free(v->old[i]);
    free(v->old);
    crypto_cleanse(v->master_key, strlen(v->master_key));
    free(v->master_key);
    free(v->data_dir);
    free(v->path);
    pthread_mutex_destroy(&v->mu);
    free(v);
}

/* The current ring, reloaded first when the key file changed since it was loaded. A reload
 * that fails keeps the ring we have (logged): old values still open with it. */
static const struct keyring *current_ring(struct meta_vault *v)
{
    pthread_mutex_lock(&v->mu);
    struct file_id now = key_file_id(v->path);
    if (!same_file(&now, &v->file_id)) {
        struct keyring *fresh = NULL;
        enum err rc = keyring_load(v->master_key, v->data_dir, &fresh);
        if (rc == ERR_OK) {
            v->old = xrealloc(v->old, (v->n_old + 1) * sizeof(struct keyring *));
            v->old[v->n_old++] = v->ring;
            v->ring = fresh;
            log_info("keys.reloaded", LOG_INT("retired", v->n_old));
        } else {
            log_warn("keys.reload_failed", LOG_ERR(rc));
        }
        v->file_id = now;
    }
    const struct keyring *k = v->ring;
    pthread_mutex_unlock(&v->mu);
    return k;
}

enum err meta_vault_seal(struct meta_vault *v, enum store_platform p, const char *external_id,
                         const char *token, unsigned char **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    char aad[STORE_TOKEN_AAD_MAX];
    if (!token || !*token || !store_token_aad(p, external_id, aad, sizeof aad))
        return ERR_INVALID;
    keyring_seal(current_ring(v), aad, token, strlen(token), out, out_len);
    return ERR_OK;
}

/* Opens with the ring we have; on ERR_AUTH, once more after a reload if the file changed. */
static enum err open_sealed(struct meta_vault *v, enum store_platform p, const char *external_id,
                            const unsigned char *in, size_t n, char **token)
{
    char aad[STORE_TOKEN_AAD_MAX];
    if (!store_token_aad(p, external_id, aad, sizeof aad))
        return ERR_INVALID;
    pthread_mutex_lock(&v->mu);
    const struct keyring *k = v->ring;
    pthread_mutex_unlock(&v->mu);
    size_t len = 0;
    enum err rc = keyring_open(k, aad, in, n, token, &len);
    if (rc == ERR_AUTH) {
        const struct keyring *fresh = current_ring(v);
        if (fresh != k)
            rc = keyring_open(fresh, aad, in, n, token, &len);
    }
    return rc;
}

enum err meta_vault_open(struct meta_vault *v, const struct store_account *acct, char **token)
{
    *token = NULL;
    if (!acct->token_enc || !acct->token_enc_len)
        return ERR_NOT_FOUND;
    return open_sealed(v, acct->platform, acct->external_id, acct->token_enc, acct->token_enc_len,
                       token);
}

/* ---- rotation ---- */

/* Re-seals one row under k (the current ring) with compare-and-swap. */
static void reseal_one(struct meta_vault *v, struct store *s, const struct keyring *k,
                       const struct store_sealed_token *t, struct meta_vault_rotation *st,
                       enum err *rc)
{
    if (keyring_is_current(k, t->token_enc, t->token_enc_len)) {
        st->current++;
        return;
    }
    char *plain = NULL;
    if (open_sealed(v, t->platform, t->external_id, t->token_enc, t->token_enc_len, &plain) !=
        ERR_OK) {
        st->failed++;
        log_warn("keys.reseal_unopenable", LOG_INT("account", t->id));
        return;
    }
    char aad[STORE_TOKEN_AAD_MAX];
    unsigned char *blob = NULL;
    size_t len = 0;
    if (store_token_aad(t->platform, t->external_id, aad, sizeof aad))
        keyring_seal(k, aad, plain, strlen(plain), &blob, &len);
    crypto_cleanse(plain, strlen(plain));
    free(plain);
    bool swapped = false;
    if (blob)
        *rc =
            store_account_token_swap(s, t->id, t->token_enc, t->token_enc_len, blob, len, &swapped);
    free(blob);
    if (swapped)
        st->resealed++;
}

/* One batch of rows after *after_id in one transaction; *n receives how many were read. */
static enum err reseal_batch(struct meta_vault *v, struct store *s, size_t batch, int64_t *after_id,
                             size_t *n, struct meta_vault_rotation *st)
{
    struct arena a;
    arena_init(&a);
    struct store_sealed_token *rows = arena_alloc(&a, batch * sizeof *rows);
    enum err rc = store_account_tokens(s, &a, *after_id, batch, rows, n);
    if (rc == ERR_OK && *n > 0)
        rc = store_begin(s);
    if (rc == ERR_OK && *n > 0) {
        const struct keyring *k = current_ring(v);
        for (size_t i = 0; i < *n && rc == ERR_OK; i++)
            reseal_one(v, s, k, &rows[i], st, &rc);
        if (rc == ERR_OK)
            rc = store_commit(s);
        else
            store_rollback(s);
        *after_id = rows[*n - 1].id;
    }
    arena_release(&a);
    return rc;
}

static enum err reseal_pass(struct meta_vault *v, struct store *s, size_t batch,
                            struct meta_vault_rotation *st)
{
    int64_t after_id = 0;
    size_t n = 0;
    enum err rc;
    do {
        rc = reseal_batch(v, s, batch, &after_id, &n, st);
    } while (rc == ERR_OK && n == batch);
    return rc;
}

enum err meta_vault_reseal_all(struct meta_vault *v, struct store *s, size_t batch,
                               struct meta_vault_rotation *out)
{
    memset(out, 0, sizeof *out);
    if (batch == 0)
        batch = RESEAL_BATCH_DEFAULT;
    enum err rc = reseal_pass(v, s, batch, out);
    int64_t last = out->resealed; /* a pass that changed something is checked by another */
    for (int pass = 1; rc == ERR_OK && last > 0 && pass < RESEAL_MAX_PASSES; pass++) {
        struct meta_vault_rotation again = {0};
        rc = reseal_pass(v, s, batch, &again);
        out->resealed += again.resealed;
        last = again.resealed;
    }
    log_info("keys.resealed", LOG_INT("resealed", out->resealed), LOG_INT("current", out->current),
             LOG_INT("failed", out->failed), LOG_ERR(rc));
    return rc;
}
