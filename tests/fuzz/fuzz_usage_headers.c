/*
 * tests/fuzz/fuzz_usage_headers.c - meta_parse_usage_header() on arbitrary bytes.
 *
 * The first byte picks the header name (X-App-Usage, X-Business-Use-Case-Usage, X-Page-Usage
 * or an unrelated one: byte % 4, so the seeds start with '0'..'3') and how full the usage
 * already is; the rest is the value, not NUL-terminated.
 * Properties: never crashes, leaks or reads past the value; the code is ERR_OK or
 * ERR_INVALID; an error leaves the struct as it was; a success marks it present and only
 * raises its figures, which stay within META_USAGE_PCT_MAX and META_USAGE_REGAIN_MAX; an
 * unrelated header name is always refused.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meta/graph.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(bool cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_usage_headers: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"X-App-Usage", "X-Business-Use-Case-Usage", "x-page-usage",
                                        "X-Ad-Account-Usage"};
    if (size == 0)
        return 0;
    const char *name = names[data[0] % 4];
    struct meta_usage before = {
        .is_present = data[0] & 4, .max_pct = data[0] >> 3, .regain_min = data[0] >> 5};
    struct meta_usage u = before;
    enum err rc = meta_parse_usage_header(name, (const char *)data + 1, size - 1, &u);
    require(rc == ERR_OK || rc == ERR_INVALID, "unexpected code");
    if (rc != ERR_OK) {
        require(!memcmp(&u, &before, sizeof u), "changed on error");
        return 0;
    }
    require(data[0] % 4 != 3, "accepted an unrelated header");
    require(u.is_present, "not marked present");
    require(u.max_pct >= before.max_pct && u.max_pct <= META_USAGE_PCT_MAX, "max_pct range");
    require(u.regain_min >= before.regain_min && u.regain_min <= META_USAGE_REGAIN_MAX,
            "regain_min range");
    return 0;
}
