/*
 * core/keys.c - master keys: the key file, key ids, sealing and opening.
 */
#include "core/keys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/crypto.h"
#include "core/mem.h"

#define KEYS_MAX    8
#define KEY_ID_LEN  4
#define SEAL_HEADER (1 + KEY_ID_LEN)
#define B64_KEY_LEN 44 /* base64 of 32 bytes, padded */

struct key {
    unsigned char id[KEY_ID_LEN];
    unsigned char key[CRYPTO_KEY_LEN];
};

struct keyring {
    int n; /* keys[0] is current */
    struct key keys[KEYS_MAX];
};

static enum err add_key(struct keyring *k, const char *b64, size_t len)
{
    unsigned char raw[48];
    size_t n = 0;
    if (k->n == KEYS_MAX || base64_decode(b64, len, raw, sizeof raw, &n) != ERR_OK ||
        n != CRYPTO_KEY_LEN)
        return ERR_INVALID;
    struct key *key = &k->keys[k->n++];
    memcpy(key->key, raw, CRYPTO_KEY_LEN);
    unsigned char digest[CRYPTO_SHA256_LEN];
    crypto_sha256(raw, CRYPTO_KEY_LEN, digest);
    memcpy(key->id, digest, KEY_ID_LEN);
    return ERR_OK;
}

static char *key_path(const char *data_dir)
{
    size_t n = strlen(data_dir) + sizeof "/master.key";
    char *p = xmalloc(n);
    snprintf(p, n, "%s/master.key", data_dir);
    return p;
}

/* Writes lines atomically (temp file, fsync, rename), mode 0600. */
static enum err write_keys(const char *path, const char *text)
{
    size_t n = strlen(path) + 8;
    char *tmp = xmalloc(n);
    snprintf(tmp, n, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    size_t len = strlen(text);
    bool ok = fd >= 0 && write(fd, text, len) == (ssize_t)len && fsync(fd) == 0;
    if (fd >= 0)
        close(fd);
    ok = ok && rename(tmp, path) == 0;
    if (!ok)
        unlink(tmp);
    free(tmp);
    return ok ? ERR_OK : ERR_IO;
}

static void new_key_line(char line[B64_KEY_LEN + 2])
{
    unsigned char raw[CRYPTO_KEY_LEN];
    crypto_random(raw, sizeof raw);
    base64_encode(raw, sizeof raw, line);
    line[B64_KEY_LEN] = '\n';
    line[B64_KEY_LEN + 1] = '\0';
    crypto_cleanse(raw, sizeof raw);
}

static enum err read_file(const char *path, struct keyring *k, bool create)
{
    FILE *f = fopen(path, "re");
    if (!f && errno == ENOENT && create) {
        char line[B64_KEY_LEN + 2];
        new_key_line(line);
        enum err rc = write_keys(path, line);
        if (rc != ERR_OK)
            return rc;
        f = fopen(path, "re");
    }
    if (!f)
        return errno == ENOENT ? ERR_OK : ERR_IO;
    char line[256];
    enum err rc = ERR_OK;
    while (rc == ERR_OK && fgets(line, sizeof line, f)) {
        size_t len = strcspn(line, "\r\n");
        if (len > 0)
            rc = add_key(k, line, len);
    }
    fclose(f);
    return rc;
}

enum err keyring_load(const char *master_key_b64, const char *data_dir, struct keyring **out)
{
    struct keyring *k = xcalloc(1, sizeof *k);
    bool env = master_key_b64 && *master_key_b64;
    enum err rc = env ? add_key(k, master_key_b64, strlen(master_key_b64)) : ERR_OK;
    if (rc == ERR_OK) {
        char *path = key_path(data_dir);
        rc = read_file(path, k, !env);
        free(path);
    }
    if (rc == ERR_OK && k->n == 0)
        rc = ERR_INVALID;
    if (rc != ERR_OK) {
        keyring_free(k);
        return rc;
    }
    *out = k;
    return ERR_OK;
}

void keyring_free(struct keyring *k)
{
    if (!k)
        return;
    crypto_cleanse(k, sizeof *k);
    free(k);
}

void keyring_seal(const struct keyring *k, const char *aad, const void *in, size_t n,
                  unsigned char **out, size_t *out_len)
{
    size_t len = SEAL_HEADER + n + CRYPTO_SEAL_OVERHEAD;
    unsigned char *blob = xmalloc(len);
    blob[0] = 'K';
    memcpy(blob + 1, k->keys[0].id, KEY_ID_LEN);
    crypto_seal(k->keys[0].key, aad, aad ? strlen(aad) : 0, in, n, blob + SEAL_HEADER);
    *out = blob;
    *out_len = len;
}

enum err keyring_open(const struct keyring *k, const char *aad, const unsigned char *in, size_t n,
                      char **out, size_t *out_len)
{
    if (n < SEAL_HEADER + CRYPTO_SEAL_OVERHEAD || in[0] != 'K')
        return ERR_AUTH;
    for (int i = 0; i < k->n; i++) {
        if (memcmp(in + 1, k->keys[i].id, KEY_ID_LEN) != 0)
            continue;
        char *plain = xmalloc(n - SEAL_HEADER - CRYPTO_SEAL_OVERHEAD + 1);
        size_t len = 0;
        if (crypto_open(k->keys[i].key, aad, aad ? strlen(aad) : 0, in + SEAL_HEADER,
                        n - SEAL_HEADER, (unsigned char *)plain, &len) == ERR_OK) {
            plain[len] = '\0';
            *out = plain;
            *out_len = len;
            return ERR_OK;
        }
        free(plain);
    }
    return ERR_AUTH;
}

bool keyring_is_current(const struct keyring *k, const unsigned char *in, size_t n)
{
    return n > SEAL_HEADER && in[0] == 'K' && memcmp(in + 1, k->keys[0].id, KEY_ID_LEN) == 0;
}

enum err keyring_add_new_key(const char *master_key_b64, const char *data_dir)
{
    if (master_key_b64 && *master_key_b64)
        return ERR_INVALID;
    char *path = key_path(data_dir);
    char text[KEYS_MAX * (B64_KEY_LEN + 1) + 2];
    new_key_line(text);
    size_t used = B64_KEY_LEN + 1;
    FILE *f = fopen(path, "re");
    char line[256];
    while (f && used + B64_KEY_LEN + 2 <= sizeof text && fgets(line, sizeof line, f)) {
        size_t len = strcspn(line, "\r\n");
        if (len != B64_KEY_LEN)
            continue;
        memcpy(text + used, line, len);
        text[used + len] = '\n';
        used += len + 1;
    }
    text[used] = '\0';
    if (f)
        fclose(f);
    enum err rc = write_keys(path, text);
    crypto_cleanse(text, sizeof text);
    crypto_cleanse(line, sizeof line);
    free(path);
    return rc;
}
