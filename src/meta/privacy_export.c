/*
 * meta/privacy_export.c - everything stored about one person as one JSON document
 * (`switchboard privacy export --user ID`).
 *
 * The rows come from store_privacy_export(), which never passes a token or any other sealed
 * column; columns that hold JSON (an event's raw body, a message's attachments) are embedded
 * as JSON rather than as strings, so the document reads as what Meta sent.
 */
#include "meta/privacy.h"

#include <string.h>

#include "core/clock.h"

static const char *const tables[] = {"accounts", "contacts", "conversations", "messages",
                                     "events",   "comments", "dead_letters",  "deletion_requests"};

static const char *const json_columns[] = {"raw", "attachments", "reply_to", "meta", "detail"};

static bool is_json_column(const char *name)
{
    for (size_t i = 0; i < sizeof json_columns / sizeof json_columns[0]; i++)
        if (strcmp(name, json_columns[i]) == 0)
            return true;
    return false;
}

static json_t *field_value(const struct store_field *f)
{
    switch (f->type) {
    case STORE_V_INT:
        return json_integer((json_int_t)f->i);
    case STORE_V_REAL:
        return json_real(f->d);
    case STORE_V_TEXT:
        if (is_json_column(f->name)) {
            json_t *v = json_loadb(f->text, f->len, JSON_DECODE_ANY, NULL);
            if (json_is_object(v) || json_is_array(v))
                return v;
            json_decref(v);
        }
        return json_stringn(f->text, f->len); /* NULL if not UTF-8: the store checked */
    default:
        return json_null();
    }
}

static enum err add_row(void *ctx, const char *table, const struct store_field *fields,
                        size_t n_fields)
{
    json_t *doc = ctx;
    json_t *rows = json_object_get(doc, table);
    if (!rows)
        return ERR_INTERNAL;
    json_t *row = json_object();
    for (size_t i = 0; i < n_fields; i++) {
        json_t *v = field_value(&fields[i]);
        json_object_set_new(row, fields[i].name, v ? v : json_null());
    }
    json_array_append_new(rows, row);
    return ERR_OK;
}

enum err meta_privacy_export(struct store *s, const char *user_id, json_t **out)
{
    char now[32];
    clock_format_iso(clock_now_ms(), now, sizeof now);
    json_t *doc = json_pack("{s:s,s:s}", "user_id", user_id, "exported_at", now);
    if (!doc)
        return ERR_INVALID; /* user_id is not UTF-8 */
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
        json_object_set_new(doc, tables[i], json_array());
    enum err rc = store_privacy_export(s, user_id, add_row, doc);
    if (rc != ERR_OK) {
        json_decref(doc);
        return rc;
    }
    *out = doc;
    return ERR_OK;
}
