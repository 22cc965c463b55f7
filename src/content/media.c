/*
 * content/media.c - the media store: fitted JPEGs under <data_dir>/media/<sha256>.jpg (one
 * file per content, written to a temporary name and renamed, so a reader never sees half a
 * file), uploads under media/src/<sha256>, rows in the media table with an unguessable id
 * (128 random bits, base64url), and GET /media/{id}.jpg for Meta's fetcher.
 *
 * A fitted image is kept while a post that is not published or failed needs it, a preview
 * until its expiry; content_media_sweep() deletes the rest, row and file. Ids are never
 * derived from the content, so knowing an image does not let anyone find its URL.
 * Threads: any; the route keeps a few store connections of its own.
 */
#include "content/content.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "content/content_int.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/log.h"
#include "http/client.h"
#include "http/http.h"

#define POOL_MAX          4
#define DOWNLOAD_TIMEOUT  20000L
#define SOURCE_KEEP_MS    (3600LL * 1000) /* an upload no post names yet (a preview's) */
#define SWEEP_BATCH       200
#define MEDIA_ID_BYTES    16
#define MEDIA_ID_TEXT_MAX 64
#define CACHE_CONTROL     "public, max-age=86400"

struct content_media {
    char *dir, *src_dir;
    pthread_mutex_t mu; /* the route's store connections */
    struct store *pool[POOL_MAX];
    int n_pool;
};

static enum err make_dir(const char *path)
{
    if (mkdir(path, 0755) == 0 || errno == EEXIST)
        return ERR_OK;
    log_error("media.mkdir_failed", LOG_STR("path", path), LOG_INT("errno", errno));
    return ERR_IO;
}

enum err content_media_open(const char *data_dir, struct content_media **out)
{
    struct content_media *m = xcalloc(1, sizeof *m);
    struct arena a;
    arena_init(&a);
    m->dir = xstrdup(arena_printf(&a, "%s/media", data_dir && *data_dir ? data_dir : "."));
    m->src_dir = xstrdup(arena_printf(&a, "%s/src", m->dir));
    arena_release(&a);
    pthread_mutex_init(&m->mu, NULL);
    enum err rc = make_dir(m->dir);
    if (rc == ERR_OK)
        rc = make_dir(m->src_dir);
    if (rc != ERR_OK) {
        content_media_free(m);
        return rc;
    }
    *out = m;
    return ERR_OK;
}

void content_media_free(struct content_media *m)
{
    if (!m)
        return;
    for (int i = 0; i < m->n_pool; i++)
        store_free(m->pool[i]);
    pthread_mutex_destroy(&m->mu);
    free(m->dir);
    free(m->src_dir);
    free(m);
}

/* ---- files ---- */

static void sha256_hex(const void *bytes, size_t len, char out[2 * CRYPTO_SHA256_LEN + 1])
{
    unsigned char d[CRYPTO_SHA256_LEN];
    crypto_sha256(bytes, len, d);
    hex_encode(d, sizeof d, out);
}

static enum err write_all(int fd, const unsigned char *p, size_t len)
{
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return ERR_IO;
        p += n;
        len -= (size_t)n;
    }
    return ERR_OK;
}

/* path gets the bytes unless a file of that size is there already (same name, same content). */
static enum err write_file_once(const char *path, const void *bytes, size_t len)
{
    struct stat st;
    if (stat(path, &st) == 0 && (size_t)st.st_size == len)
        return ERR_OK;
    struct arena a;
    arena_init(&a);
    unsigned char rnd[8];
    crypto_random(rnd, sizeof rnd);
    char tag[2 * sizeof rnd + 1];
    hex_encode(rnd, sizeof rnd, tag);
    const char *tmp = arena_printf(&a, "%s.%s.tmp", path, tag);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    enum err rc = fd < 0 ? ERR_IO : write_all(fd, bytes, len);
    if (rc == ERR_OK && fdatasync(fd) != 0)
        rc = ERR_IO;
    if (fd >= 0 && close(fd) != 0)
        rc = ERR_IO;
    if (rc == ERR_OK && rename(tmp, path) != 0)
        rc = ERR_IO;
    if (rc != ERR_OK) {
        log_error("media.write_failed", LOG_INT("errno", errno), LOG_INT("bytes", len));
        if (fd >= 0)
            unlink(tmp);
    }
    arena_release(&a);
    return rc;
}

enum err content_read_file(const char *path, size_t cap, unsigned char **bytes, size_t *len)
{
    *bytes = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT || errno == ENOTDIR ? ERR_NOT_FOUND : ERR_IO;
    struct stat st;
    enum err rc = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? ERR_OK : ERR_IO;
    if (rc == ERR_OK && (size_t)st.st_size > cap)
        rc = ERR_TOO_LARGE;
    unsigned char *p = rc == ERR_OK ? xmalloc((size_t)st.st_size + 1) : NULL;
    size_t got = 0;
    while (rc == ERR_OK && got < (size_t)st.st_size) {
        ssize_t n = read(fd, p + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            rc = ERR_IO;
        else
            got += (size_t)n;
    }
    close(fd);
    if (rc != ERR_OK) {
        free(p);
        return rc;
    }
    p[got] = '\0';
    *bytes = p;
    *len = got;
    return ERR_OK;
}

/* ---- putting ---- */

enum err content_media_put_jpeg(struct content_media *m, struct store *s, struct arena *a,
                                const void *jpeg, size_t len, int width, int height,
                                int64_t expires_at, const char **id)
{
    char sha[2 * CRYPTO_SHA256_LEN + 1];
    sha256_hex(jpeg, len, sha);
    const char *name = arena_printf(a, "%s.jpg", sha);
    enum err rc = write_file_once(arena_printf(a, "%s/%s", m->dir, name), jpeg, len);
    if (rc != ERR_OK)
        return rc;
    unsigned char rnd[MEDIA_ID_BYTES];
    crypto_random(rnd, sizeof rnd);
    char *fresh = arena_alloc(a, MEDIA_ID_TEXT_MAX);
    base64url_encode(rnd, sizeof rnd, fresh);
    struct store_media row = {.id = fresh,
                              .sha256 = arena_strdup(a, sha),
                              .path = name,
                              .bytes = (int64_t)len,
                              .width = width,
                              .height = height,
                              .created_at = clock_now_ms(),
                              .expires_at = expires_at};
    rc = store_media_put(s, a, &row);
    if (rc == ERR_OK)
        *id = row.id;
    return rc;
}

enum err content_media_put_source(struct content_media *m, struct arena *a, const void *bytes,
                                  size_t len, const char **source)
{
    char sha[2 * CRYPTO_SHA256_LEN + 1];
    sha256_hex(bytes, len, sha);
    enum err rc = write_file_once(arena_printf(a, "%s/%s", m->src_dir, sha), bytes, len);
    if (rc == ERR_OK)
        *source = arena_printf(a, "file:%s", sha);
    return rc;
}

/* ---- reading ---- */

static bool is_hex64(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
            return false;
    return n == 2 * CRYPTO_SHA256_LEN;
}

bool content_source_is_url(const char *source)
{
    return strncmp(source, "http://", 7) == 0 || strncmp(source, "https://", 8) == 0;
}

static enum err download(const char *url, unsigned char **bytes, size_t *len,
                         char why[CONTENT_WHY_MAX])
{
    static const char *const headers[] = {"User-Agent: switchboard", "Accept: image/*", NULL};
    struct http_client_resp resp = {0};
    enum err rc = http_client_do("GET", url, headers, NULL, 0, DOWNLOAD_TIMEOUT,
                                 CONTENT_INPUT_MAX_BYTES, &resp);
    if (rc == ERR_TOO_LARGE) {
        snprintf(why, CONTENT_WHY_MAX, "the image at the URL is larger than %zu bytes",
                 CONTENT_INPUT_MAX_BYTES);
        return rc;
    }
    if (rc != ERR_OK) {
        snprintf(why, CONTENT_WHY_MAX, "the image URL could not be fetched (no answer in time)");
        return ERR_UPSTREAM;
    }
    if (resp.status != 200) {
        snprintf(why, CONTENT_WHY_MAX, "the image URL answered HTTP %d", resp.status);
        free(resp.body);
        return resp.status >= 500 ? ERR_UPSTREAM : ERR_INVALID;
    }
    *bytes = (unsigned char *)resp.body;
    *len = resp.len;
    return ERR_OK;
}

enum err content_media_read_source(struct content_media *m, const char *source,
                                   unsigned char **bytes, size_t *len, char why[CONTENT_WHY_MAX])
{
    *bytes = NULL;
    *len = 0;
    why[0] = '\0';
    if (source && content_source_is_url(source))
        return download(source, bytes, len, why);
    if (!source || strncmp(source, "file:", 5) != 0 || !is_hex64(source + 5)) {
        snprintf(why, CONTENT_WHY_MAX, "not an image source (an upload or an http(s) URL)");
        return ERR_INVALID;
    }
    struct arena a;
    arena_init(&a);
    enum err rc = content_read_file(arena_printf(&a, "%s/%s", m->src_dir, source + 5),
                                    CONTENT_INPUT_MAX_BYTES, bytes, len);
    arena_release(&a);
    if (rc == ERR_NOT_FOUND)
        snprintf(why, CONTENT_WHY_MAX, "the uploaded image is no longer stored");
    else if (rc != ERR_OK)
        snprintf(why, CONTENT_WHY_MAX, "the uploaded image could not be read");
    return rc;
}

static enum err read_row_file(struct content_media *m, const struct store_media *row,
                              unsigned char **bytes, size_t *len)
{
    if (strchr(row->path, '/') || row->path[0] == '.')
        return ERR_NOT_FOUND; /* the store only ever writes "<sha256>.jpg" */
    struct arena a;
    arena_init(&a);
    enum err rc = content_read_file(arena_printf(&a, "%s/%s", m->dir, row->path),
                                    CONTENT_JPEG_MAX_BYTES * 2, bytes, len);
    arena_release(&a);
    return rc;
}

enum err content_media_read(struct content_media *m, struct store *s, const char *id,
                            unsigned char **bytes, size_t *len)
{
    struct arena a;
    arena_init(&a);
    struct store_media row;
    enum err rc = store_media_get(s, &a, id, &row);
    if (rc == ERR_OK)
        rc = read_row_file(m, &row, bytes, len);
    arena_release(&a);
    return rc;
}

/* ---- cleaning ---- */

static int sweep_sources(struct content_media *m, struct store *s, int64_t now_ms)
{
    DIR *d = opendir(m->src_dir);
    if (!d)
        return 0;
    int n = 0;
    struct arena a;
    arena_init(&a);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *path = arena_printf(&a, "%s/%s", m->src_dir, e->d_name);
        struct stat st;
        bool in_use = true;
        if (!is_hex64(e->d_name) || stat(path, &st) != 0 ||
            (int64_t)st.st_mtime * 1000 > now_ms - SOURCE_KEEP_MS)
            continue;
        if (store_post_source_in_use(s, arena_printf(&a, "file:%s", e->d_name), &in_use) ==
                ERR_OK &&
            !in_use && unlink(path) == 0)
            n++;
    }
    closedir(d);
    arena_release(&a);
    return n;
}

enum err content_media_sweep(struct content_media *m, struct store *s, int64_t now_ms, int *n)
{
    struct arena a;
    arena_init(&a);
    struct store_media *rows = NULL;
    size_t k = 0;
    int deleted = 0;
    enum err rc = store_media_unused(s, &a, now_ms, SWEEP_BATCH, &rows, &k);
    for (size_t i = 0; rc == ERR_OK && i < k; i++) {
        rc = store_media_delete(s, rows[i].id);
        if (rc == ERR_OK && !strchr(rows[i].path, '/') &&
            unlink(arena_printf(&a, "%s/%s", m->dir, rows[i].path)) == 0)
            deleted++;
    }
    if (rc == ERR_OK)
        deleted += sweep_sources(m, s, now_ms);
    arena_release(&a);
    if (deleted)
        log_info("media.swept", LOG_INT("files", deleted));
    if (n)
        *n = deleted;
    return rc;
}

/* ---- GET /media/{id}.jpg ---- */

static struct store *pool_take(struct content_media *m, const struct store_opts *so)
{
    pthread_mutex_lock(&m->mu);
    struct store *s = m->n_pool ? m->pool[--m->n_pool] : NULL;
    pthread_mutex_unlock(&m->mu);
    if (!s && store_open(so, &s) != ERR_OK)
        return NULL;
    return s;
}

static void pool_give(struct content_media *m, struct store *s)
{
    pthread_mutex_lock(&m->mu);
    if (m->n_pool < POOL_MAX) {
        m->pool[m->n_pool++] = s;
        s = NULL;
    }
    pthread_mutex_unlock(&m->mu);
    store_free(s);
}

/* "{id}.jpg" -> id, when id is base64url of a sane length. */
static const char *media_id_of(struct arena *a, const char *file)
{
    size_t n = file ? strlen(file) : 0;
    if (n < 5 || n - 4 > MEDIA_ID_TEXT_MAX || strcmp(file + n - 4, ".jpg") != 0)
        return NULL;
    for (size_t i = 0; i < n - 4; i++) {
        char c = file[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              c == '-' || c == '_'))
            return NULL;
    }
    return arena_strndup(a, file, n - 4);
}

void content_media_serve(struct http_req *r, void *ctx)
{
    struct content_media_http *h = ctx;
    struct arena *a = http_req_arena(r);
    const char *id = media_id_of(a, http_req_param(r, "file"));
    struct store *s = id ? pool_take(h->media, h->store) : NULL;
    struct store_media row;
    enum err rc = !id ? ERR_NOT_FOUND : !s ? ERR_AGAIN : store_media_get(s, a, id, &row);
    unsigned char *bytes = NULL;
    size_t len = 0;
    if (rc == ERR_OK)
        rc = read_row_file(h->media, &row, &bytes, &len);
    if (s)
        pool_give(h->media, s);
    if (rc != ERR_OK) {
        http_reply_error(r, rc, rc == ERR_NOT_FOUND ? "no such media" : "media unavailable");
        return;
    }
    const char *etag = arena_printf(a, "\"%s\"", row.sha256);
    const char *inm = http_req_header(r, "If-None-Match");
    http_set_header(r, "ETag", etag);
    http_set_header(r, "Cache-Control", CACHE_CONTROL);
    http_set_header(r, "X-Content-Type-Options", "nosniff");
    if (inm && strcmp(inm, etag) == 0)
        http_reply(r, 304, "image/jpeg", "", 0);
    else
        http_reply(r, 200, "image/jpeg", bytes, len);
    free(bytes);
}
