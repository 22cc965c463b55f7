/*
 * meta/usage.c - the rate-limit usage headers -> struct meta_usage (meta-platform.md 3.2).
 *
 *   X-App-Usage:               {"call_count":28,"total_time":25,"total_cputime":25}
 *   X-Page-Usage:              the same flat shape (parsed defensively; maybe no longer sent)
 *   X-Business-Use-Case-Usage: {"<business-object-id>":[{"type":"pages","call_count":97,
 *                                "total_cputime":23,"total_time":23,
 *                                "estimated_time_to_regain_access":0}], ...}
 *
 * Values are whole percentages that can pass 100; estimated_time_to_regain_access is minutes.
 * Metrics may arrive as numbers, reals or numeric strings; anything else is ignored.
 */
#include "meta/graph.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <strings.h>

#define USAGE_MAX_VALUE ((size_t)64 * 1024)

enum usage_kind { USAGE_NONE, USAGE_FLAT, USAGE_BUC };

static enum usage_kind kind_of(const char *name)
{
    if (!name)
        return USAGE_NONE;
    if (!strcasecmp(name, "X-App-Usage") || !strcasecmp(name, "X-Page-Usage"))
        return USAGE_FLAT;
    if (!strcasecmp(name, "X-Business-Use-Case-Usage"))
        return USAGE_BUC;
    return USAGE_NONE;
}

/* A metric as a non-negative int clamped to cap, or -1 when absent or not numeric. */
static int metric(const json_t *obj, const char *key, int cap)
{
    const json_t *v = json_object_get(obj, key);
    double d;
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        return i < 0 ? 0 : i > cap ? cap : (int)i;
    }
    if (json_is_real(v)) {
        d = json_real_value(v);
    } else if (json_is_string(v) && *json_string_value(v)) {
        char *end;
        errno = 0;
        d = strtod(json_string_value(v), &end);
        if (*end || errno == ERANGE)
            return -1;
    } else {
        return -1;
    }
    if (!isfinite(d))
        return -1;
    return d <= 0 ? 0 : d >= cap ? cap : (int)ceil(d);
}

static void merge_metrics(const json_t *obj, struct meta_usage *u)
{
    static const char *const pct_keys[] = {"call_count", "total_time", "total_cputime"};
    for (size_t i = 0; i < sizeof pct_keys / sizeof pct_keys[0]; i++) {
        int v = metric(obj, pct_keys[i], META_USAGE_PCT_MAX);
        if (v > u->max_pct)
            u->max_pct = v;
    }
    int regain = metric(obj, "estimated_time_to_regain_access", META_USAGE_REGAIN_MAX);
    if (regain > u->regain_min)
        u->regain_min = regain;
}

/* {"<id>":[{...}, ...], ...}; a lone object instead of the array is accepted too. */
static bool merge_buc(json_t *root, struct meta_usage *u)
{
    const char *id;
    json_t *list;
    json_object_foreach(root, id, list)
    {
        (void)id;
        if (json_is_object(list)) {
            merge_metrics(list, u);
            continue;
        }
        if (!json_is_array(list))
            return false;
        size_t i;
        json_t *item;
        json_array_foreach(list, i, item)
        {
            if (json_is_object(item))
                merge_metrics(item, u);
        }
    }
    return true;
}

enum err meta_parse_usage_header(const char *name, const char *value, size_t len,
                                 struct meta_usage *u)
{
    enum usage_kind kind = kind_of(name);
    if (kind == USAGE_NONE || !value || len > USAGE_MAX_VALUE)
        return ERR_INVALID;
    json_t *root = json_loadb(value, len, 0, NULL);
    struct meta_usage t = *u;
    bool ok = json_is_object(root);
    if (ok && kind == USAGE_FLAT)
        merge_metrics(root, &t);
    else if (ok)
        ok = merge_buc(root, &t);
    json_decref(root);
    if (!ok)
        return ERR_INVALID;
    t.is_present = true;
    *u = t;
    return ERR_OK;
}
