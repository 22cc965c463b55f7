/*
 * core/err.c - names of the error codes.
 */
#include "core/err.h"

const char *err_name(enum err rc)
{
    static const char *const names[] = {
        [ERR_OK] = "ok",
        [ERR_INVALID] = "invalid",
        [ERR_AUTH] = "auth",
        [ERR_NOT_FOUND] = "not_found",
        [ERR_CONFLICT] = "conflict",
        [ERR_TOO_LARGE] = "too_large",
        [ERR_AGAIN] = "again",
        [ERR_IO] = "io",
        [ERR_UPSTREAM] = "upstream",
        [ERR_INTERNAL] = "internal",
    };
    if ((unsigned)rc < sizeof names / sizeof names[0] && names[rc])
        return names[rc];
    return "unknown";
}
