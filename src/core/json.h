/*
 * core/json.h - a strict allocation-free JSON validator, and small jansson helpers.
 *
 * Owns: "is this body JSON?" on the webhook hot path (no allocation, no tree), and the
 * tolerant accessors the Meta parsers use on real traffic (ids that are numbers or strings,
 * timestamps that are numbers or numeric strings).
 */
#ifndef SB_CORE_JSON_H
#define SB_CORE_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/mem.h"

#define JSON_MAX_DEPTH 128

struct json_error {
    size_t offset;      /* byte offset of the problem */
    const char *reason; /* static text: "unterminated string", ... */
};

/* Checks that s[0..n) is exactly one RFC 8259 value (UTF-8, no NUL escapes, integers that fit
 * in 64 bits, finite reals, nesting at most max_depth). ERR_INVALID with *err filled if not.
 * s needs no terminator. Accepts what jansson's json_loadb accepts with JSON_DECODE_ANY,
 * so a body that passes here parses there. */
MUST_USE enum err json_validate(const char *s, size_t n, int max_depth, struct json_error *err);

/* The string member `key` of obj, or NULL when absent or not a string. Borrowed from obj. */
const char *json_get_str(const json_t *obj, const char *key);
/* An id member that may be a string or an integer, as text in the arena; NULL if neither. */
const char *json_get_id(struct arena *a, const json_t *obj, const char *key);
/* An integer member that may be a JSON integer, a real with no fraction, or a decimal string.
 * Returns false (and leaves *out) when absent or not numeric. */
bool json_get_i64(const json_t *obj, const char *key, int64_t *out);
/* A boolean member; true/false, or 1/0 as integers. Absent or other types give def. */
bool json_get_bool(const json_t *obj, const char *key, bool def);
/* Compact serialisation with sorted keys into the arena (NULL if v is NULL). */
char *json_dump_arena(struct arena *a, const json_t *v);

#endif
