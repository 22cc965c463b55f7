/*
 * tests/unit/testutil.h - small helpers shared by the unit tests (header-only).
 *
 * Tests run from the repository root (make test), so fixture paths are relative to it:
 * SB_FIXTURES overrides ../shared/reference/fixtures.
 */
#ifndef SB_TESTUTIL_H
#define SB_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h> /* after the headers it needs, in its own block so sorting keeps it last */

/* Whole file, NUL-terminated; NULL if unreadable. Free with free(). */
static inline char *tu_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    buf[got] = '\0';
    if (len)
        *len = got;
    return buf;
}

/* Path of a file under the shared fixtures folder (static buffer, overwritten per call). */
static inline const char *tu_fixture(const char *rel)
{
    static char path[1024];
    const char *root = getenv("SB_FIXTURES");
    snprintf(path, sizeof path, "%s/%s", root ? root : "../shared/reference/fixtures", rel);
    return path;
}

/* Reads a fixture or fails the test. */
static inline char *tu_fixture_read(const char *rel, size_t *len)
{
    char *s = tu_read_file(tu_fixture(rel), len);
    if (!s)
        fail_msg("fixture missing: %s", tu_fixture(rel));
    return s;
}

/* A fresh empty directory under $TMPDIR; remove with tu_rmrf(). Static buffer. */
static inline const char *tu_tmpdir(void)
{
    static char dir[256];
    const char *t = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/sbtest.XXXXXX", t ? t : "/tmp");
    if (!mkdtemp(dir))
        fail_msg("mkdtemp failed");
    return dir;
}

static inline void tu_rmrf(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "warning: could not remove %s\n", dir);
}

#endif
