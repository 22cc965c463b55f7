/*
 * queue/journal.c - per-thread append-only segments, read back by one loader.
 *
 * A segment is written by exactly one thread; its `committed` length only ever covers whole
 * records, so the reader never sees half a record from a live writer. Segments left by an
 * earlier process are sealed: they are read to their end, and a torn last record (a crash
 * in the middle of a write, or power loss without sync) ends them.
 */
#include "queue/journal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "queue/crc32c.h"

#define SEGMENT_MAX_BYTES (64u << 20)
#define HEADER_LEN        8
#define READ_CHUNK        (256u << 10)

struct seg {
    struct seg *next;
    char name[64];
    int fd;
    pthread_mutex_t mu; /* held by the writer during an append, and to seal */
    _Atomic uint64_t committed;
    atomic_bool sealed;
};

struct journal {
    char dir[PATH_MAX];
    bool sync_full;
    uint64_t id;
    pthread_mutex_t lock; /* segs list, wake-ups */
    pthread_cond_t cond;
    struct seg *segs;
    _Atomic uint64_t appended;
    _Atomic int n_waiting;
    _Atomic int next_writer;
};

static _Atomic uint64_t g_next_journal_id = 1;
static _Thread_local struct {
    uint64_t journal_id;
    struct seg *seg;
    int writer;
} t_cur;

enum err journal_open(const char *dir, bool sync_full, struct journal **out)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        log_error("journal.mkdir_failed", LOG_STR("dir", dir), LOG_STR("errno", strerror(errno)));
        return ERR_IO;
    }
    struct journal *j = xcalloc(1, sizeof *j);
    if ((size_t)snprintf(j->dir, sizeof j->dir, "%s", dir) >= sizeof j->dir) {
        free(j);
        return ERR_INVALID;
    }
    j->sync_full = sync_full;
    j->id = atomic_fetch_add(&g_next_journal_id, 1);
    pthread_mutex_init(&j->lock, NULL);
    pthread_cond_init(&j->cond, NULL);
    *out = j;
    return ERR_OK;
}

void journal_close(struct journal *j)
{
    if (!j)
        return;
    while (j->segs) {
        struct seg *s = j->segs;
        j->segs = s->next;
        if (s->fd >= 0)
            close(s->fd);
        pthread_mutex_destroy(&s->mu);
        free(s);
    }
    pthread_mutex_destroy(&j->lock);
    pthread_cond_destroy(&j->cond);
    free(j);
}

/* A new segment for the calling thread. Names sort by creation time. */
static struct seg *open_segment(struct journal *j)
{
    if (t_cur.journal_id != j->id)
        t_cur.writer = atomic_fetch_add(&j->next_writer, 1);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct seg *s = xcalloc(1, sizeof *s);
    snprintf(s->name, sizeof s->name, "%010lld%09ld-%03d.seg", (long long)ts.tv_sec, ts.tv_nsec,
             t_cur.writer);
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", j->dir, s->name);
    /* Created and listed under the lock: the reader, which looks segments up under the same
     * lock, can never take a brand-new segment of ours for a sealed one from a past run. */
    pthread_mutex_lock(&j->lock);
    s->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
    if (s->fd >= 0) {
        pthread_mutex_init(&s->mu, NULL);
        s->next = j->segs;
        j->segs = s;
    }
    pthread_mutex_unlock(&j->lock);
    if (s->fd < 0) {
        log_error("journal.open_failed", LOG_STR("segment", s->name),
                  LOG_STR("errno", strerror(errno)));
        free(s);
        return NULL;
    }
    t_cur.journal_id = j->id;
    t_cur.seg = s;
    return s;
}

static enum err write_all(int fd, struct iovec *iov, int n)
{
    while (n > 0) {
        ssize_t w = writev(fd, iov, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return ERR_IO;
        }
        while (n > 0 && (size_t)w >= iov->iov_len) {
            w -= (ssize_t)iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + w;
            iov->iov_len -= (size_t)w;
        }
    }
    return ERR_OK;
}

static void wake_reader(struct journal *j)
{
    atomic_fetch_add(&j->appended, 1);
    if (atomic_load(&j->n_waiting) > 0) {
        pthread_mutex_lock(&j->lock);
        pthread_cond_signal(&j->cond);
        pthread_mutex_unlock(&j->lock);
    }
}

/* Appends to s while holding its lock; false when s is sealed (the caller opens another). */
static bool append_to(struct journal *j, struct seg *s, const void *rec, size_t len, enum err *rc)
{
    pthread_mutex_lock(&s->mu);
    uint64_t at = atomic_load(&s->committed);
    if (atomic_load(&s->sealed) || at >= SEGMENT_MAX_BYTES) {
        atomic_store(&s->sealed, true);
        pthread_mutex_unlock(&s->mu);
        return false;
    }
    unsigned char hdr[HEADER_LEN];
    uint32_t n = (uint32_t)len, crc = crc32c(rec, len);
    memcpy(hdr, &n, 4);
    memcpy(hdr + 4, &crc, 4);
    struct iovec iov[2] = {{hdr, HEADER_LEN}, {(void *)(uintptr_t)rec, len}};
    *rc = write_all(s->fd, iov, 2);
    if (*rc == ERR_OK && j->sync_full && fdatasync(s->fd) != 0)
        *rc = ERR_IO;
    if (*rc == ERR_OK) {
        atomic_store(&s->committed, at + HEADER_LEN + len);
    } else { /* a partial record may be on disk: nothing more goes into this segment */
        log_error("journal.write_failed", LOG_STR("segment", s->name),
                  LOG_STR("errno", strerror(errno)));
        atomic_store(&s->sealed, true);
    }
    pthread_mutex_unlock(&s->mu);
    return true;
}

enum err journal_append(struct journal *j, const void *rec, size_t len)
{
    if (len > JOURNAL_RECORD_MAX)
        return ERR_TOO_LARGE;
    enum err rc = ERR_OK;
    for (int tries = 0; tries < 3; tries++) {
        struct seg *s = t_cur.journal_id == j->id ? t_cur.seg : NULL;
        if (!s && !(s = open_segment(j)))
            return ERR_IO;
        if (append_to(j, s, rec, len, &rc)) {
            if (rc == ERR_OK)
                wake_reader(j);
            return rc;
        }
        t_cur.seg = NULL; /* sealed or full: the next try opens a new one */
    }
    return ERR_IO;
}

void journal_seal_all(struct journal *j)
{
    pthread_mutex_lock(&j->lock);
    for (struct seg *s = j->segs; s; s = s->next) {
        pthread_mutex_lock(&s->mu);
        atomic_store(&s->sealed, true);
        pthread_mutex_unlock(&s->mu);
    }
    pthread_mutex_unlock(&j->lock);
}

static struct seg *own_segment(struct journal *j, const char *name)
{
    struct seg *found = NULL;
    pthread_mutex_lock(&j->lock);
    for (struct seg *s = j->segs; s && !found; s = s->next)
        if (s->fd >= 0 && strcmp(s->name, name) == 0)
            found = s;
    pthread_mutex_unlock(&j->lock);
    return found;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct journal_segment *)a)->name,
                  ((const struct journal_segment *)b)->name);
}

enum err journal_segments(struct journal *j, struct journal_segment *out, size_t max, size_t *n)
{
    DIR *d = opendir(j->dir);
    if (!d)
        return ERR_IO;
    *n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && *n < max) {
        size_t len = strlen(e->d_name);
        if (len < 5 || len >= sizeof out->name || strcmp(e->d_name + len - 4, ".seg") != 0)
            continue;
        struct journal_segment *s = &out[(*n)++];
        memcpy(s->name, e->d_name, len + 1);
        s->offset = 0;
        struct seg *own = own_segment(j, s->name);
        s->sealed = !own || atomic_load(&own->sealed);
    }
    closedir(d);
    qsort(out, *n, sizeof *out, by_name);
    return ERR_OK;
}

/* Reads a segment through a window of READ_CHUNK bytes (or one record, if larger), so a
 * batch of small records costs one pread, not two per record. */
struct reader {
    int fd;
    uint64_t limit;
    unsigned char *buf;
    size_t cap;
    uint64_t win_off; /* file offset of buf[0] */
    size_t win_len;
};

/* Points *p at bytes [off, off+n) of the file, refilling the window when needed. The
 * pointer is valid until the next call. */
static enum err view(struct reader *r, uint64_t off, size_t n, const unsigned char **p)
{
    if (off >= r->win_off && off + n <= r->win_off + r->win_len) {
        *p = r->buf + (off - r->win_off);
        return ERR_OK;
    }
    size_t want = n > READ_CHUNK ? n : READ_CHUNK;
    if (want > r->limit - off)
        want = (size_t)(r->limit - off); /* never past what is committed */
    if (want > r->cap) {
        r->buf = xrealloc(r->buf, want);
        r->cap = want;
    }
    size_t got = 0;
    while (got < want) {
        ssize_t k = pread(r->fd, r->buf + got, want - got, (off_t)(off + got));
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return ERR_IO;
        got += (size_t)k;
    }
    r->win_off = off;
    r->win_len = got;
    *p = r->buf;
    return ERR_OK;
}

/* One record at *off: ERR_OK and advances, ERR_NOT_FOUND when no whole record remains
 * before the limit, ERR_INVALID when the bytes there are not a record. */
static enum err next_record(struct reader *r, uint64_t *off, journal_record_fn *fn, void *ctx)
{
    if (r->limit - *off < HEADER_LEN)
        return r->limit == *off ? ERR_NOT_FOUND : ERR_INVALID;
    const unsigned char *p;
    enum err rc = view(r, *off, HEADER_LEN, &p);
    if (rc != ERR_OK)
        return rc;
    uint32_t len, crc;
    memcpy(&len, p, 4);
    memcpy(&crc, p + 4, 4);
    if (len > JOURNAL_RECORD_MAX || r->limit - *off - HEADER_LEN < len)
        return ERR_INVALID;
    rc = view(r, *off + HEADER_LEN, len, &p);
    if (rc != ERR_OK)
        return rc;
    if (crc32c(p, len) != crc)
        return ERR_INVALID;
    rc = fn(ctx, p, len);
    if (rc == ERR_OK)
        *off += HEADER_LEN + len;
    return rc;
}

enum err journal_read(struct journal *j, const struct journal_segment *seg, size_t max_records,
                      journal_record_fn *fn, void *ctx, uint64_t *next_offset, bool *at_end,
                      bool *corrupt)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", j->dir, seg->name);
    struct reader r = {.fd = open(path, O_RDONLY | O_CLOEXEC)};
    *next_offset = seg->offset;
    *at_end = false;
    *corrupt = false;
    if (r.fd < 0)
        return ERR_IO;
    struct seg *own = own_segment(j, seg->name);
    struct stat st;
    if (own)
        r.limit = atomic_load(&own->committed);
    else if (fstat(r.fd, &st) == 0)
        r.limit = (uint64_t)st.st_size;
    enum err rc = ERR_OK;
    for (size_t i = 0; i < max_records && rc == ERR_OK; i++)
        rc = next_record(&r, next_offset, fn, ctx);
    if (rc == ERR_NOT_FOUND) {
        *at_end = true;
        rc = ERR_OK;
    } else if (rc == ERR_INVALID && !own) {
        log_error("journal.torn_record", LOG_STR("segment", seg->name),
                  LOG_INT("offset", *next_offset), LOG_INT("size", r.limit));
        *at_end = *corrupt = true;
        rc = ERR_OK;
    }
    free(r.buf);
    close(r.fd);
    return rc;
}

void journal_remove(struct journal *j, const char *name)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", j->dir, name);
    struct seg *own = own_segment(j, name);
    if (own) { /* sealed, so no writer uses the fd; the struct stays (a thread may still
                * hold a pointer to it) until journal_close() */
        pthread_mutex_lock(&own->mu);
        if (own->fd >= 0)
            close(own->fd);
        own->fd = -1;
        pthread_mutex_unlock(&own->mu);
    }
    if (unlink(path) != 0 && errno != ENOENT)
        log_warn("journal.unlink_failed", LOG_STR("segment", name),
                 LOG_STR("errno", strerror(errno)));
}

void journal_wait(struct journal *j, int64_t timeout_ms)
{
    uint64_t seen = atomic_load(&j->appended);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t ns = ts.tv_nsec + (timeout_ms % 1000) * 1000000;
    ts.tv_sec += timeout_ms / 1000 + ns / 1000000000;
    ts.tv_nsec = ns % 1000000000;
    pthread_mutex_lock(&j->lock);
    atomic_fetch_add(&j->n_waiting, 1);
    while (atomic_load(&j->appended) == seen)
        if (pthread_cond_timedwait(&j->cond, &j->lock, &ts) != 0)
            break;
    atomic_fetch_sub(&j->n_waiting, 1);
    pthread_mutex_unlock(&j->lock);
}

void journal_wake(struct journal *j)
{
    wake_reader(j);
}
