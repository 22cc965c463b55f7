/*
 * content/post_json.c - a post as JSON, the one shape the CLI and the REST API print.
 */
#include "content/content.h"

#include <jansson.h>

#include "core/clock.h"

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *iso_or_null(int64_t ms)
{
    if (ms <= 0)
        return json_null();
    char iso[32];
    clock_format_iso(ms, iso, sizeof iso);
    return json_string(iso);
}

static json_t *int_or_null(int64_t v)
{
    return v ? json_integer(v) : json_null();
}

static json_t *items_json(const struct store_post *p)
{
    json_t *arr = json_array();
    for (int i = 0; i < p->n_items; i++) {
        const struct store_post_item *it = &p->items[i];
        json_t *o = json_object();
        json_object_set_new(o, "position", json_integer(it->position));
        json_object_set_new(o, "source",
                            json_string(content_source_is_url(it->source) ? it->source
                                                                          : "upload"));
        json_object_set_new(o, "media_id", str_or_null(it->media_id));
        json_object_set_new(o, "container_id", str_or_null(it->container_id));
        json_t *d = it->fit_decision ? json_loads(it->fit_decision, 0, NULL) : NULL;
        json_object_set_new(o, "fit", d ? d : json_null());
        json_array_append_new(arr, o);
    }
    return arr;
}

json_t *content_post_json(const struct store_post *p, bool with_items)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(p->id));
    json_object_set_new(o, "account_id", json_integer(p->account_id));
    json_object_set_new(o, "state", json_string(p->state));
    json_object_set_new(o, "step", str_or_null(p->step));
    json_object_set_new(o, "caption", json_string(p->caption ? p->caption : ""));
    json_object_set_new(o, "fit", json_string(p->fit ? p->fit : "pad"));
    json_object_set_new(o, "images", json_integer(p->n_items));
    json_object_set_new(o, "kind", json_string(p->n_items > 1 ? "carousel" : "image"));
    json_object_set_new(o, "scheduled_at", iso_or_null(p->scheduled_at));
    json_object_set_new(o, "deferred_until", iso_or_null(p->deferred_until));
    json_object_set_new(o, "container_id", str_or_null(p->container_id));
    json_object_set_new(o, "media_id", str_or_null(p->media_id));
    json_object_set_new(o, "permalink", str_or_null(p->permalink));
    json_object_set_new(o, "reason", str_or_null(p->reason));
    json_object_set_new(o, "error_code", int_or_null(p->error_code));
    json_object_set_new(o, "error_subcode", int_or_null(p->error_subcode));
    json_object_set_new(o, "polls", json_integer(p->polls));
    json_object_set_new(o, "created_at", iso_or_null(p->created_at));
    json_object_set_new(o, "updated_at", iso_or_null(p->updated_at));
    json_object_set_new(o, "published_at", iso_or_null(p->published_at));
    if (with_items)
        json_object_set_new(o, "items", items_json(p));
    return o;
}
