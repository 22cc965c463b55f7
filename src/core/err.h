/*
 * core/err.h - the one error enum every fallible function returns.
 *
 * Owns: the codes and their names. The HTTP status for each code lives in http/.
 */
#ifndef SB_CORE_ERR_H
#define SB_CORE_ERR_H

#define MUST_USE __attribute__((warn_unused_result))

enum err {
    ERR_OK = 0,
    ERR_INVALID,   /* bad input: the caller's data is wrong */
    ERR_AUTH,      /* a signature, token or session did not check out */
    ERR_NOT_FOUND, /* no such row, route or file */
    ERR_CONFLICT,  /* already exists (duplicate key, redelivery) */
    ERR_TOO_LARGE, /* over a cap: body, text, image */
    ERR_AGAIN,     /* try later: busy, rate limited, lease held */
    ERR_IO,        /* the disk or a socket failed */
    ERR_UPSTREAM,  /* a remote service answered with an error */
    ERR_INTERNAL,  /* our own bug or a library failure we cannot classify */
};

/* Marks a result deliberately not acted on (a log write, a best-effort cleanup). */
static inline void err_ignore(enum err rc)
{
    (void)rc;
}

/* Stable lower-case name of a code ("invalid", "auth", ...), for logs and JSON errors. */
const char *err_name(enum err rc);

#endif
