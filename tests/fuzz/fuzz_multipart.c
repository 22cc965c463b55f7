/*
 * tests/fuzz/fuzz_multipart.c - http_multipart_parse() on arbitrary bodies under a few
 * content types (the first input line, when it starts with "multipart/", is used as the
 * content type instead).
 *
 * Properties: never crashes or reads outside the body; an accepted body has 1..max parts, each
 * named, each one's bytes inside the body and in order.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(bool cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_multipart: %s\n", what);
        abort();
    }
}

static void check(struct arena *a, const char *ct, const char *body, size_t len)
{
    struct http_part parts[HTTP_MULTIPART_MAX_PARTS];
    size_t n = 0;
    enum err rc = http_multipart_parse(a, ct, body, len, parts, HTTP_MULTIPART_MAX_PARTS, &n);
    require(rc == ERR_OK || rc == ERR_INVALID, "code");
    if (rc != ERR_OK)
        return;
    require(n >= 1 && n <= HTTP_MULTIPART_MAX_PARTS, "part count");
    const char *last = body;
    for (size_t i = 0; i < n; i++) {
        require(parts[i].name != NULL, "a part without a name");
        require(parts[i].data >= last && parts[i].data + parts[i].len <= body + len, "bounds");
        last = parts[i].data + parts[i].len;
    }
    require(http_multipart_find(parts, n, parts[0].name) == &parts[0], "find");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena a;
    arena_init(&a);
    char *body = malloc(size ? size : 1); /* exactly size bytes: a read past is an ASan report */
    memcpy(body, data, size);
    const char *nl = memchr(body, '\n', size);
    if (nl && size > 10 && memcmp(body, "multipart/", 10) == 0) {
        char *ct = arena_strndup(&a, body, (size_t)(nl - body));
        check(&a, ct, nl + 1, size - (size_t)(nl + 1 - body));
    }
    static const char *const cts[] = {"multipart/form-data; boundary=XyZ",
                                      "multipart/form-data; boundary=\"a b\"", "text/plain"};
    for (size_t i = 0; i < sizeof cts / sizeof cts[0]; i++)
        check(&a, cts[i], body, size);
    free(body);
    arena_release(&a);
    return 0;
}
