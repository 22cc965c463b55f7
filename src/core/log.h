/*
 * core/log.h - one JSON object per line on stderr.
 *
 *   log_info("send.retry", LOG_STR("conv", id), LOG_INT("attempt", n), LOG_ERR(rc));
 *
 * Event names are stable and dotted. Fields are typed, so every line is valid JSON.
 * Never pass a token, secret, signature or message body: log sizes or ids instead.
 * Threads: any thread; each line is written with a single write(2).
 */
#ifndef SB_CORE_LOG_H
#define SB_CORE_LOG_H

#include <stdatomic.h>
#include <stdbool.h>

#include "core/err.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_FATAL };

enum log_type { LOG_T_END, LOG_T_STR, LOG_T_INT, LOG_T_DBL, LOG_T_BOOL };

struct log_field {
    const char *key;
    enum log_type type;
    union {
        const char *s;
        long long i;
        double d;
    } v;
};

#define LOG_STR(k, x)  ((struct log_field){.key = (k), .type = LOG_T_STR, .v.s = (x)})
#define LOG_INT(k, x)  ((struct log_field){.key = (k), .type = LOG_T_INT, .v.i = (long long)(x)})
#define LOG_DBL(k, x)  ((struct log_field){.key = (k), .type = LOG_T_DBL, .v.d = (double)(x)})
#define LOG_BOOL(k, x) ((struct log_field){.key = (k), .type = LOG_T_BOOL, .v.i = !!(x)})
#define LOG_ERR(rc)    LOG_STR("err", err_name(rc))
#define LOG_END        ((struct log_field){.key = 0, .type = LOG_T_END})

#define log_debug(...) log_write(LOG_DEBUG, __VA_ARGS__, LOG_END)
#define log_info(...)  log_write(LOG_INFO, __VA_ARGS__, LOG_END)
#define log_warn(...)  log_write(LOG_WARN, __VA_ARGS__, LOG_END)
#define log_error(...) log_write(LOG_ERROR, __VA_ARGS__, LOG_END)

/* Writes one line if level is enabled; the variadic part is struct log_field values ending
 * with LOG_END (the macros above add it). */
void log_write(enum log_level level, const char *event, ...);
void log_set_level(enum log_level level);
bool log_enabled(enum log_level level);
/* Parses "debug", "info", "warn", "error". */
MUST_USE enum err log_parse_level(const char *s, enum log_level *out);
/* The request id added to every line this thread writes until cleared with NULL.
 * The string is borrowed: it must outlive the request. */
void log_set_request_id(const char *rid);
/* A per-call-site budget of lines per second, for events a flood could repeat (bad
 * signatures): true while the budget lasts; *suppressed receives how many lines were held
 * back in the previous second (log it with the next line). Threads: any. */
struct log_limit {
    _Atomic long long second;
    _Atomic int used, dropped;
};
bool log_allow(struct log_limit *l, int per_second, int *suppressed);
/* Redirects output to fd (tests); -1 restores stderr. */
void log_set_fd(int fd);

#endif
