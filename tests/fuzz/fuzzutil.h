/*
 * tests/fuzz/fuzzutil.h - checks shared by the fuzz targets (header-only).
 *
 * Owns: the differential property the webhook ingest path relies on: a body that
 * json_validate() accepts is one jansson can load. A violation prints the reason and aborts,
 * which libFuzzer (and the replay driver) reports as a crash.
 */
#ifndef SB_FUZZUTIL_H
#define SB_FUZZUTIL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/json.h"

/* Validates data[0..size) at JSON_MAX_DEPTH; if that says OK, jansson must load it too.
 * Returns true when the validator accepted the input. */
static inline bool fuzz_check_json_differential(const uint8_t *data, size_t size)
{
    struct json_error verr = {0};
    if (json_validate((const char *)data, size, JSON_MAX_DEPTH, &verr) != ERR_OK) {
        if (!verr.reason || verr.offset > size) {
            fprintf(stderr, "json_validate: failure without a reason or offset in range\n");
            abort();
        }
        return false;
    }
    json_error_t jerr;
    json_t *root = json_loadb((const char *)data, size, JSON_DECODE_ANY, &jerr);
    if (!root) {
        fprintf(stderr, "differential: json_validate OK but json_loadb failed at %d: %s\n",
                jerr.position, jerr.text);
        abort();
    }
    json_decref(root);
    return true;
}

#endif
