/*
 * core/log.c - JSON-lines logger.
 */
#include "core/log.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"

#define LOG_LINE_MAX 8192

static _Atomic int g_level = LOG_INFO;
static _Atomic int g_fd = STDERR_FILENO;
static _Thread_local const char *t_request_id;

static const char *const level_names[] = {"debug", "info", "warn", "error", "fatal"};

void log_set_level(enum log_level level)
{
    atomic_store(&g_level, (int)level);
}

bool log_enabled(enum log_level level)
{
    return (int)level >= atomic_load_explicit(&g_level, memory_order_relaxed);
}

enum err log_parse_level(const char *s, enum log_level *out)
{
    for (int i = LOG_DEBUG; i <= LOG_ERROR; i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return ERR_OK;
        }
    }
    return ERR_INVALID;
}

void log_set_request_id(const char *rid)
{
    t_request_id = rid;
}

bool log_allow(struct log_limit *l, int per_second, int *suppressed)
{
    long long now = clock_now_ms() / 1000;
    *suppressed = 0;
    if (atomic_exchange(&l->second, now) != now) {
        *suppressed = atomic_exchange(&l->dropped, 0);
        atomic_store(&l->used, 0);
    }
    if (atomic_fetch_add(&l->used, 1) < per_second)
        return true;
    atomic_fetch_add(&l->dropped, 1);
    return false;
}

void log_set_fd(int fd)
{
    atomic_store(&g_fd, fd < 0 ? STDERR_FILENO : fd);
}

static enum err put_str(struct buf *b, const char *key, const char *s)
{
    enum err rc = buf_printf(b, ",\"%s\":\"", key);
    if (rc == ERR_OK)
        rc = buf_json_escape(b, s ? s : "", s ? strlen(s) : 0);
    if (rc == ERR_OK)
        rc = buf_puts(b, "\"");
    return rc;
}

static enum err put_field(struct buf *b, const struct log_field *f)
{
    switch (f->type) {
    case LOG_T_STR:
        return put_str(b, f->key, f->v.s);
    case LOG_T_INT:
        return buf_printf(b, ",\"%s\":%lld", f->key, f->v.i);
    case LOG_T_DBL:
        if (isfinite(f->v.d))
            return buf_printf(b, ",\"%s\":%.3f", f->key, f->v.d);
        return buf_printf(b, ",\"%s\":null", f->key);
    case LOG_T_BOOL:
        return buf_printf(b, ",\"%s\":%s", f->key, f->v.i ? "true" : "false");
    case LOG_T_END:
        break;
    }
    return ERR_OK;
}

void log_write(enum log_level level, const char *event, ...)
{
    if (!log_enabled(level))
        return;
    static _Thread_local char line[LOG_LINE_MAX];
    /* A borrowed fixed buffer: a line that would overflow loses its last fields, never
     * its validity (the closing brace has room reserved). */
    struct buf b = {.data = line, .len = 0, .alloc = sizeof line, .cap = sizeof line - 3};
    char ts[32];
    clock_format_iso(clock_now_ms(), ts, sizeof ts);
    err_ignore(buf_printf(&b, "{\"ts\":\"%s\",\"level\":\"%s\"", ts, level_names[level]));
    err_ignore(put_str(&b, "event", event));
    if (t_request_id)
        err_ignore(put_str(&b, "rid", t_request_id));
    va_list ap;
    va_start(ap, event);
    for (;;) {
        struct log_field f = va_arg(ap, struct log_field);
        if (f.type == LOG_T_END)
            break;
        size_t mark = b.len;
        if (put_field(&b, &f) != ERR_OK) { /* did not fit: end at the last whole field */
            b.len = mark;
            break;
        }
    }
    va_end(ap);
    b.data[b.len++] = '}';
    b.data[b.len++] = '\n';
    int fd = atomic_load_explicit(&g_fd, memory_order_relaxed);
    ssize_t n = write(fd, b.data, b.len);
    (void)n; /* nowhere to report a failed log write */
}
