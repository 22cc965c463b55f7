/*
 * tests/fuzz/fuzz_json.c - json_validate() on arbitrary bytes.
 *
 * Properties: never crashes or reads out of bounds (the input is not NUL-terminated);
 * a failure carries a reason and an offset within the input; validator OK => jansson's
 * json_loadb(JSON_DECODE_ANY) loads it; a smaller depth cap never accepts more.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/json.h"
#include "fuzzutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bool ok = fuzz_check_json_differential(data, size);
    /* Monotonic in the cap: what passes a shallow limit passes the default one. */
    int shallow = size ? 1 + data[0] % 8 : 1;
    struct json_error err = {0};
    if (json_validate((const char *)data, size, shallow, &err) == ERR_OK && !ok) {
        fprintf(stderr, "json_validate: OK at depth %d but not at %d\n", shallow, JSON_MAX_DEPTH);
        abort();
    }
    return 0;
}
