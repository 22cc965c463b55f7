/*
 * core/json.c - the validator (a recursive-descent recogniser, depth-capped) and helpers.
 */
#include "core/json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct vstate {
    const unsigned char *p, *end, *start;
    int depth, max_depth;
    const char *reason;
};

static bool fail(struct vstate *v, const char *reason)
{
    if (!v->reason)
        v->reason = reason;
    return false;
}

static void skip_ws(struct vstate *v)
{
    while (v->p < v->end && (*v->p == ' ' || *v->p == '\t' || *v->p == '\n' || *v->p == '\r'))
        v->p++;
}

static int hex4(const unsigned char *p)
{
    int x = 0;
    for (int i = 0; i < 4; i++) {
        int c = p[i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return -1;
        x = x << 4 | d;
    }
    return x;
}

/* One \uXXXX escape (p at the 'u'), pairing surrogates as jansson does. */
static bool unicode_escape(struct vstate *v)
{
    if (v->end - v->p < 5)
        return fail(v, "truncated \\u escape");
    int cp = hex4(v->p + 1);
    if (cp < 0)
        return fail(v, "invalid \\u escape");
    v->p += 5;
    if (cp == 0)
        return fail(v, "\\u0000 is not allowed");
    if (cp >= 0xDC00 && cp <= 0xDFFF)
        return fail(v, "lone low surrogate");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (v->end - v->p < 6 || v->p[0] != '\\' || v->p[1] != 'u')
            return fail(v, "lone high surrogate");
        int lo = hex4(v->p + 2);
        if (lo < 0xDC00 || lo > 0xDFFF)
            return fail(v, "invalid surrogate pair");
        v->p += 6;
    }
    return true;
}

/* One UTF-8 sequence starting at v->p (a byte >= 0x80): well-formed, shortest form, no
 * surrogates, at most U+10FFFF. */
static bool utf8_seq(struct vstate *v)
{
    unsigned c = *v->p;
    int len;
    unsigned cp;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4, cp = c & 0x07;
    else
        return fail(v, "invalid UTF-8");
    if (v->end - v->p < len)
        return fail(v, "truncated UTF-8");
    for (int i = 1; i < len; i++) {
        if ((v->p[i] & 0xC0) != 0x80)
            return fail(v, "invalid UTF-8");
        cp = cp << 6 | (v->p[i] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return fail(v, "invalid UTF-8");
    v->p += len;
    return true;
}

static bool string(struct vstate *v)
{
    v->p++; /* opening quote */
    while (v->p < v->end) {
        unsigned c = *v->p;
        if (c == '"') {
            v->p++;
            return true;
        }
        if (c < 0x20)
            return fail(v, "control character in string");
        if (c == '\\') {
            if (++v->p >= v->end)
                return fail(v, "unterminated string");
            c = *v->p;
            if (c == 'u') {
                if (!unicode_escape(v))
                    return false;
                continue;
            }
            if (!strchr("\"\\/bfnrt", (int)c) || c == 0)
                return fail(v, "invalid escape");
            v->p++;
        } else if (c >= 0x80) {
            if (!utf8_seq(v))
                return false;
        } else {
            v->p++;
        }
    }
    return fail(v, "unterminated string");
}

static bool digits(struct vstate *v)
{
    const unsigned char *s = v->p;
    while (v->p < v->end && *v->p >= '0' && *v->p <= '9')
        v->p++;
    return v->p > s;
}

/* Significant digits kept when a real is too long for number_in_range()'s buffer. The overflow
 * threshold (halfway between DBL_MAX and 2^1024) has 309 significant digits, so 400 digits
 * plus a sticky digit decide overflow exactly as the full text does. */
#define JSON_REAL_DIGITS 400

/* Rewrites the real s[0..n) (already checked by number()) as "[-]<digits>e<exp>" in out
 * (at least 512 bytes) with at most JSON_REAL_DIGITS significant digits, then a 1 when
 * nonzero digits were dropped, so strtod sees the same magnitude and the same side of every
 * rounding boundary that matters here. Returns false when the value is zero. */
static bool shorten_real(const unsigned char *s, size_t n, char *out)
{
    const unsigned char *end = s + n;
    size_t o = 0, kept = 0;
    long long scale = 0; /* power of ten that multiplies the digits written */
    bool in_frac = false, sticky = false;
    if (*s == '-')
        out[o++] = (char)*s++;
    for (; s < end && ((*s >= '0' && *s <= '9') || *s == '.'); s++) {
        if (*s == '.') {
            in_frac = true;
            continue;
        }
        if (in_frac)
            scale--; /* each fraction digit divides by ten */
        if (kept == 0 && *s == '0')
            continue; /* a leading zero adds nothing */
        if (kept < JSON_REAL_DIGITS) {
            out[o++] = (char)*s;
            kept++;
        } else {
            sticky |= *s != '0';
            scale++; /* a dropped digit: the kept ones are worth ten times more */
        }
    }
    if (kept == 0)
        return false;
    if (sticky)
        out[o++] = '1', scale--;
    long long e = 0, sign = 1;
    if (s < end && (*s == 'e' || *s == 'E')) {
        s++;
        if (s < end && (*s == '+' || *s == '-'))
            sign = *s++ == '-' ? -1 : 1;
        for (; s < end && *s >= '0' && *s <= '9'; s++)
            if (e < 1000000000000LL) /* saturate: far beyond any double's range */
                e = e * 10 + (*s - '0');
    }
    snprintf(out + o, 32, "e%lld", sign * e + scale);
    return true;
}

/* Integers must fit in int64 and reals must be finite, as in jansson. */
static bool number_in_range(const unsigned char *s, size_t n, bool is_int)
{
    char tmp[512];
    if (n >= sizeof tmp) {
        if (is_int)
            return false; /* 500 digits without a leading zero cannot fit in 64 bits */
        if (!shorten_real(s, n, tmp))
            return true; /* zero however written */
    } else {
        memcpy(tmp, s, n);
        tmp[n] = '\0';
    }
    errno = 0;
    if (is_int) {
        (void)strtoll(tmp, NULL, 10);
        return errno != ERANGE;
    }
    double d = strtod(tmp, NULL);
    return !(errno == ERANGE && isinf(d));
}

static bool number(struct vstate *v)
{
    const unsigned char *s = v->p;
    bool is_int = true;
    if (*v->p == '-')
        v->p++;
    if (v->p < v->end && *v->p == '0')
        v->p++;
    else if (!digits(v))
        return fail(v, "invalid number");
    if (v->p < v->end && *v->p == '.') {
        v->p++;
        is_int = false;
        if (!digits(v))
            return fail(v, "invalid number");
    }
    if (v->p < v->end && (*v->p == 'e' || *v->p == 'E')) {
        v->p++;
        is_int = false;
        if (v->p < v->end && (*v->p == '+' || *v->p == '-'))
            v->p++;
        if (!digits(v))
            return fail(v, "invalid number");
    }
    if (!number_in_range(s, (size_t)(v->p - s), is_int))
        return fail(v, "number out of range");
    return true;
}

static bool literal(struct vstate *v, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(v->end - v->p) < n || memcmp(v->p, word, n) != 0)
        return fail(v, "invalid literal");
    v->p += n;
    return true;
}

static bool value(struct vstate *v);

static bool container(struct vstate *v, unsigned char close)
{
    if (++v->depth > v->max_depth)
        return fail(v, "nesting too deep");
    v->p++;
    skip_ws(v);
    if (v->p < v->end && *v->p == close) {
        v->p++;
        v->depth--;
        return true;
    }
    for (;;) {
        skip_ws(v);
        if (close == '}') {
            if (v->p >= v->end || *v->p != '"')
                return fail(v, "expected object key");
            if (!string(v))
                return false;
            skip_ws(v);
            if (v->p >= v->end || *v->p != ':')
                return fail(v, "expected ':'");
            v->p++;
        }
        if (!value(v))
            return false;
        skip_ws(v);
        if (v->p < v->end && *v->p == ',') {
            v->p++;
            continue;
        }
        if (v->p < v->end && *v->p == close) {
            v->p++;
            v->depth--;
            return true;
        }
        return fail(v, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static bool value(struct vstate *v)
{
    skip_ws(v);
    if (v->p >= v->end)
        return fail(v, "unexpected end of input");
    switch (*v->p) {
    case '{':
        return container(v, '}');
    case '[':
        return container(v, ']');
    case '"':
        return string(v);
    case 't':
        return literal(v, "true");
    case 'f':
        return literal(v, "false");
    case 'n':
        return literal(v, "null");
    default:
        if (*v->p == '-' || (*v->p >= '0' && *v->p <= '9'))
            return number(v);
        return fail(v, "unexpected character");
    }
}

enum err json_validate(const char *s, size_t n, int max_depth, struct json_error *err)
{
    struct vstate v = {.p = (const unsigned char *)s,
                       .end = (const unsigned char *)s + n,
                       .start = (const unsigned char *)s,
                       .max_depth = max_depth};
    bool ok = value(&v);
    if (ok) {
        skip_ws(&v);
        if (v.p != v.end)
            ok = fail(&v, "trailing data after JSON value");
    }
    if (ok)
        return ERR_OK;
    if (err) {
        err->offset = (size_t)(v.p - v.start);
        err->reason = v.reason;
    }
    return ERR_INVALID;
}

const char *json_get_str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

const char *json_get_id(struct arena *a, const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v))
        return arena_printf(a, "%lld", (long long)json_integer_value(v));
    return NULL;
}

bool json_get_i64(const json_t *obj, const char *key, int64_t *out)
{
    const json_t *v = json_object_get(obj, key);
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return true;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (d != floor(d) || fabs(d) > 9.0e18)
            return false;
        *out = (int64_t)d;
        return true;
    }
    const char *s = json_string_value(v);
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (*end || errno == ERANGE)
        return false;
    *out = x;
    return true;
}

bool json_get_bool(const json_t *obj, const char *key, bool def)
{
    const json_t *v = json_object_get(obj, key);
    if (json_is_boolean(v))
        return json_is_true(v);
    if (json_is_integer(v))
        return json_integer_value(v) != 0;
    return def;
}

char *json_dump_arena(struct arena *a, const json_t *v)
{
    if (!v)
        return NULL;
    char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    if (!s)
        return NULL;
    char *d = arena_strdup(a, s);
    free(s);
    return d;
}
