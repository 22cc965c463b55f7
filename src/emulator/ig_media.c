/*
 * emulator/ig_media.c - reading what publishing made: GET /{container-id} (status_code,
 * status), GET /{media-id} (the post: caption, media_type, media_url, permalink, ...) and
 * GET /{ig-user-id}/media (the account's posts, newest first), and who may touch an
 * Instagram account at all.
 *
 * As on Meta, a node answers only the fields asked for (and id); without a fields parameter,
 * id alone. An unknown field is error 100, as Meta answers it.
 * Owns: those views and the access rule. Does not own: the state they show (publish.c,
 * publish_live.c) or serving the image bytes (control.c answers media_url).
 */
#include "emulator/emu_publish.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LIST_DEFAULT_LIMIT 25

static const char *const container_fields[] = {"id", "status", "status_code", NULL};
static const char *const media_fields[] = {"id",
                                           "caption",
                                           "comments_count",
                                           "is_comment_enabled",
                                           "like_count",
                                           "media_product_type",
                                           "media_type",
                                           "media_url",
                                           "owner",
                                           "permalink",
                                           "shortcode",
                                           "timestamp",
                                           "username",
                                           NULL};

/* ---- access ---- */

void emu_pub_unsupported(struct emu_call *c, const char *id)
{
    static const char *const verbs[] = {"get", "post", "delete"};
    enum http_method m = http_req_method(c->req);
    const char *verb = verbs[m == HTTP_POST ? 1 : m == HTTP_DELETE ? 2 : 0];
    char *msg = arena_printf(c->a,
                             "Unsupported %s request. Object with ID '%.40s' does not exist, "
                             "cannot be loaded due to missing permissions, or does not support "
                             "this operation. Please read the Graph API documentation at "
                             "https://developers.facebook.com/docs/graph-api",
                             verb, id ? id : "");
    emu_end(c);
    emu_error(c->req, 400, 100, 33, "GraphMethodException", msg);
}

/* Whether the comma list `granted` holds every name of the comma list `wanted`. */
static bool has_scopes(const char *granted, const char *wanted)
{
    for (const char *w = wanted; *w;) {
        size_t n = strcspn(w, ",");
        bool found = false;
        for (const char *g = granted; *g && !found;) {
            size_t k = strcspn(g, ",");
            found = k == n && strncmp(g, w, n) == 0;
            g += k + (g[k] == ',');
        }
        if (!found)
            return false;
        w += n + (w[n] == ',');
    }
    return true;
}

bool emu_pub_may_access(struct emu_call *c, int page, const char *id, const char *scopes)
{
    const struct emulator *e = c->e;
    const struct emu_token *t = c->tok;
    bool mine = false;
    if (t && page >= 0 && t->kind == EMU_TOK_PAGE)
        mine = t->page == page;
    else if (t && page >= 0 && t->kind != EMU_TOK_APP)
        mine = t->user == e->pages[page].owner;
    if (!mine) {
        emu_pub_unsupported(c, id);
        return false;
    }
    if (!has_scopes(t->scopes, scopes)) {
        emu_fail(c, 400, 10, 0, "(#10) Application does not have permission for this action");
        return false;
    }
    return true;
}

int emu_pub_ig_page(struct emu_call *c, const char *scopes)
{
    const char *id = http_req_param(c->req, "id");
    int page = emu_page_by_ig_id(c->e, id);
    return emu_pub_may_access(c, page, id, scopes) ? page : -1;
}

/* ---- fields ---- */

static void json_free(void *v)
{
    json_decref(v);
}

void emu_pub_arena_json(struct arena *a, json_t *v)
{
    arena_on_free(a, json_free, v);
}

/* Every field asked for is one of `known`; else answers as Meta does and returns false. */
static bool fields_known(struct emu_call *c, json_t *fields, const char *const *known,
                         const char *node_type)
{
    const char *name;
    json_t *sub;
    json_object_foreach(fields, name, sub)
    {
        size_t i = 0;
        while (known[i] && strcmp(known[i], name) != 0)
            i++;
        if (!known[i]) {
            emu_fail(c, 400, 100, 0,
                     arena_printf(c->a,
                                  "(#100) Tried accessing nonexisting field (%.64s) on node "
                                  "type (%s)",
                                  name, node_type));
            return false;
        }
    }
    return true;
}

bool emu_pub_fields(struct emu_call *c, const char *const *known, const char *node_type,
                    json_t **out)
{
    *out = NULL;
    const char *s = emu_param(c, "fields");
    if (!s)
        return true;
    json_t *f = emu_fields_parse(s);
    if (!f) {
        emu_fail(c, 400, 100, 0, "(#100) Syntax error in the fields parameter");
        return false;
    }
    emu_pub_arena_json(c->a, f);
    if (!fields_known(c, f, known, node_type))
        return false;
    *out = f;
    return true;
}

/* ---- containers ---- */

static const char *status_code(enum emu_container_status s)
{
    static const char *const names[] = {
        [EMU_C_IN_PROGRESS] = "IN_PROGRESS",
        [EMU_C_FINISHED] = "FINISHED",
        [EMU_C_ERROR] = "ERROR",
        [EMU_C_EXPIRED] = "EXPIRED",
        [EMU_C_PUBLISHED] = "PUBLISHED",
    };
    return names[s];
}

/* The status prose: Meta's "Finished: ..." text (fixture ig_container_status_finished__pyfb),
 * and for ERROR the subcode, as the status field carries it (§5.1). */
static char *status_text(struct arena *a, const struct emu_container *k)
{
    switch (k->status) {
    case EMU_C_IN_PROGRESS:
        return arena_strdup(a, "In Progress: Media is still being processed.");
    case EMU_C_FINISHED:
        return arena_strdup(a, "Finished: Media has been uploaded and it is ready to be "
                               "published.");
    case EMU_C_ERROR:
        return arena_printf(a, "Error: Media upload has failed with error code %d",
                            k->error_subcode ? k->error_subcode : 2207001);
    case EMU_C_EXPIRED:
        return arena_strdup(a, "Expired: Media has not been published within 24 hours.");
    case EMU_C_PUBLISHED:
        break;
    }
    return arena_strdup(a, "Published: Media has been published.");
}

static json_t *container_json(struct emu_call *c, struct emu_container *k, const json_t *fields)
{
    emu_pub_tick(k, c->now_ms);
    json_t *o = json_object();
    if (emu_field_wanted(fields, "status_code", false))
        json_object_set_new(o, "status_code", json_string(status_code(k->status)));
    if (emu_field_wanted(fields, "status", false))
        json_object_set_new(o, "status", json_string(status_text(c->a, k)));
    json_object_set_new(o, "id", json_string(k->id));
    return o;
}

/* ---- posts ---- */

/* An Instagram shortcode: the numeric id in base 64 with the URL-safe alphabet. */
static void shortcode(const char *id, char out[16])
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned long long v = strtoull(id, NULL, 10);
    char rev[16];
    size_t n = 0;
    do {
        rev[n++] = abc[v % 64];
        v /= 64;
    } while (v && n < sizeof rev - 1);
    for (size_t i = 0; i < n; i++)
        out[i] = rev[n - 1 - i];
    out[n] = '\0';
}

/* Meta's timestamps: "2026-11-24T12:00:00+0000". */
static void graph_time(int64_t ms, char out[32])
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%S+0000", &tm);
}

static int comments_on(const struct emulator *e, const char *media_id)
{
    int n = 0;
    for (size_t i = 0; i < e->n_comments; i++)
        n += strcmp(e->comments[i].media_id, media_id) == 0;
    return n;
}

/* The fields that are plain strings. */
static void media_strings(struct emu_call *c, const struct emu_media *m, const json_t *fields,
                          json_t *o)
{
    const struct emulator *e = c->e;
    char code[16], ts[32];
    shortcode(m->id, code);
    graph_time(m->ts_ms, ts);
    const struct {
        const char *name, *value;
    } s[] = {
        {"caption", m->caption},
        {"media_product_type", "FEED"},
        {"media_type", "IMAGE"},
        {"media_url", arena_printf(c->a, "%s/_emulator/media/%s.jpg", e->public_url, m->id)},
        {"permalink", arena_printf(c->a, "https://www.instagram.com/p/%s/", code)},
        {"shortcode", code},
        {"timestamp", ts},
        {"username", e->pages[m->page].ig_username},
    };
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
        if (s[i].value && emu_field_wanted(fields, s[i].name, false))
            json_object_set_new(o, s[i].name, json_string(s[i].value));
}

static json_t *media_json(struct emu_call *c, const struct emu_media *m, const json_t *fields)
{
    const struct emulator *e = c->e;
    json_t *o = json_object();
    media_strings(c, m, fields, o);
    if (emu_field_wanted(fields, "comments_count", false))
        json_object_set_new(o, "comments_count", json_integer(comments_on(e, m->id)));
    if (emu_field_wanted(fields, "like_count", false))
        json_object_set_new(o, "like_count", json_integer(0));
    if (emu_field_wanted(fields, "is_comment_enabled", false))
        json_object_set_new(o, "is_comment_enabled", json_true());
    if (emu_field_wanted(fields, "owner", false))
        json_object_set_new(o, "owner", json_pack("{s:s}", "id", e->pages[m->page].ig_id));
    json_object_set_new(o, "id", json_string(m->id));
    return o;
}

/* ---- GET /{id} for containers and posts ---- */

/* The fields parameter is read again here (`fields` is the caller's parse of it) because an
 * unknown one is named in the error, and jansson iterates no const object. */
bool emu_publish_node(struct emu_call *c, const char *id, const json_t *fields)
{
    (void)fields;
    struct emulator *e = c->e;
    int64_t k = emu_container_by_id(e, id);
    int64_t m = k < 0 ? emu_media_by_id(e, id) : -1;
    if (k < 0 && m < 0)
        return false;
    int page = k >= 0 ? e->containers[k].page : e->media[m].page;
    if (http_req_method(c->req) != HTTP_GET) {
        emu_pub_unsupported(c, id);
        return true;
    }
    json_t *f = NULL;
    if (!emu_pub_may_access(c, page, id, EMU_PUB_SCOPES_READ) ||
        !emu_pub_fields(c, k >= 0 ? container_fields : media_fields,
                        k >= 0 ? "ShadowIGMediaBuilder" : "ShadowIGMedia", &f))
        return true;
    json_t *body =
        k >= 0 ? container_json(c, &e->containers[k], f) : media_json(c, &e->media[m], f);
    emu_end(c);
    emu_reply(c, 200, body);
    return true;
}

/* ---- GET /{ig-user-id}/media ---- */

void emu_pub_list_media(struct emu_call *c)
{
    const struct emulator *e = c->e;
    int page = emu_pub_ig_page(c, EMU_PUB_SCOPES_READ);
    json_t *fields = NULL;
    if (page < 0 || !emu_pub_fields(c, media_fields, "ShadowIGMedia", &fields))
        return;
    size_t *mine = arena_alloc(c->a, (e->n_media + 1) * sizeof *mine), n = 0;
    for (size_t i = e->n_media; i-- > 0;) /* newest first */
        if (e->media[i].page == page)
            mine[n++] = i;
    size_t start, count;
    json_t *paging;
    if (!emu_paging(c, n, LIST_DEFAULT_LIMIT, &start, &count, &paging))
        return;
    json_t *data = json_array();
    for (size_t i = start; i < start + count; i++)
        json_array_append_new(data, media_json(c, &e->media[mine[i]], fields));
    json_t *body = json_pack("{s:o}", "data", data);
    if (paging)
        json_object_set_new(body, "paging", paging);
    emu_end(c);
    emu_reply(c, 200, body);
}
