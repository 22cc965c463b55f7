/*
 * emulator/publish_live.c - going live: POST /{ig-user-id}/media_publish turns a FINISHED
 * container into a post within the rolling 24-hour quota, and
 * GET /{ig-user-id}/content_publishing_limit reports that quota (meta-platform.md §5.1, §5.2).
 *
 * Owns: container status over emulator time, the quota arithmetic, and the Instagram
 * publishing error object (§5.5). Does not own: making containers (publish.c), reading them
 * (ig_media.c).
 * Where Meta documents no behaviour, the choice made here says "Emulator choice".
 */
#include "emulator/emu_publish.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "emulator/emu_deliver.h"

#define QUOTA_DURATION_S 86400

/* The 9007 message is the one in Meta's real response (fixture
 * error_9007_2207027_media_not_ready__metamcp138.json); the documented text is the user message. */
static const struct emu_pub_err E_NOT_READY = {
    9007, 2207027, "Media Not Ready For Publishing", "Media ID is not available",
    "The media is not ready for publishing, please wait for a moment"};
static const struct emu_pub_err E_EXPIRED = {
    -2, 2207020, "Media Expired", "The media you are trying to access has expired.", NULL};
static const struct emu_pub_err E_CREATE_FAILED = {
    -1, 2207032, "Create Media Failed", "Create media fail, please try to re-create media", NULL};
static const struct emu_pub_err E_NOT_FOUND = {24, 2207006, "Media Not Found",
                                               "The media with {id} cannot be found", NULL};
static const struct emu_pub_err E_QUOTA = {9, 2207042, "Maximum Number of Posts Reached",
                                           "You reached maximum number of posts that is allowed "
                                           "to be published by Content Publishing API.",
                                           NULL};

/* ---- the error object ---- */

void emu_pub_reply(struct http_req *r, const struct emu_pub_err *ie, const char *text)
{
    char trace[28];
    emu_random_text(trace, 23);
    http_set_header(r, "x-fb-trace-id", trace);
    const char *message = text ? text : ie->message;
    const char *user_msg = text ? text : ie->user_msg ? ie->user_msg : ie->message;
    json_t *err = json_pack("{s:s, s:s, s:i, s:i, s:b, s:s, s:s, s:s}", "message", message, "type",
                            "OAuthException", "code", ie->code, "error_subcode", ie->subcode,
                            "is_transient", 0, "error_user_title", ie->title, "error_user_msg",
                            user_msg, "fbtrace_id", trace);
    json_t *body = json_pack("{s:o}", "error", err);
    char *s = json_dumps(body, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_ESCAPE_SLASH);
    json_decref(body);
    http_reply(r, 400, "application/json; charset=UTF-8", s, strlen(s));
    free(s);
}

void emu_pub_fail(struct emu_call *c, const struct emu_pub_err *ie, const char *text)
{
    emu_end(c);
    emu_pub_reply(c->req, ie, text);
}

/* ---- containers over time ---- */

void emu_pub_tick(struct emu_container *k, int64_t now_ms)
{
    bool open = k->status == EMU_C_IN_PROGRESS || k->status == EMU_C_FINISHED;
    if (open && now_ms - k->created_ms >= EMU_DAY_MS) {
        k->status = EMU_C_EXPIRED;
        free(k->jpeg); /* never to be published: the image is not needed any more */
        k->jpeg = NULL;
        k->jpeg_len = 0;
    } else if (k->status == EMU_C_IN_PROGRESS && now_ms >= k->ready_ms) {
        k->status = EMU_C_FINISHED;
    }
}

struct emu_container *emu_pub_ready_container(struct emu_call *c, int page, const char *id)
{
    struct emulator *e = c->e;
    int64_t i = emu_container_by_id(e, id);
    if (i < 0 || e->containers[i].page != page) {
        emu_pub_fail(c, &E_NOT_FOUND,
                     arena_printf(c->a, "The media with %.40s cannot be found", id ? id : ""));
        return NULL;
    }
    struct emu_container *k = &e->containers[i];
    emu_pub_tick(k, c->now_ms);
    switch (k->status) {
    case EMU_C_FINISHED:
        return k;
    case EMU_C_IN_PROGRESS:
        emu_pub_fail(c, &E_NOT_READY, NULL);
        return NULL;
    case EMU_C_EXPIRED:
        emu_pub_fail(c, &E_EXPIRED, NULL);
        return NULL;
    case EMU_C_ERROR:
        emu_pub_fail(c, &E_CREATE_FAILED, NULL);
        return NULL;
    case EMU_C_PUBLISHED:
        break;
    }
    /* Emulator choice: Meta documents no answer for a second media_publish of one container
     * (§5.1: never send one blindly; check status_code, PUBLISHED means live). This is an
     * error that makes no second post, so a client that retries blindly is caught. */
    emu_fail(c, 400, 100, 0, "(#100) The media has already been published");
    return NULL;
}

/* ---- the quota ---- */

/* Posts of `page` within the rolling day before now_ms, made at or after since_ms. */
static int quota_usage(const struct emulator *e, int page, int64_t since_ms, int64_t now_ms)
{
    int n = 0;
    for (size_t i = 0; i < e->n_publishes; i++) {
        int64_t t = e->publishes[i];
        if (e->publish_page[i] == page && now_ms - t < EMU_DAY_MS && t >= since_ms)
            n++;
    }
    return n;
}

static void record_publish(struct emulator *e, int page, int64_t now_ms)
{
    size_t cap = e->cap_publishes, cap2 = e->cap_publishes; /* one capacity for both arrays */
    emu_grow((void **)&e->publishes, &cap, e->n_publishes, sizeof *e->publishes);
    emu_grow((void **)&e->publish_page, &cap2, e->n_publishes, sizeof *e->publish_page);
    e->cap_publishes = cap;
    e->publishes[e->n_publishes] = now_ms;
    e->publish_page[e->n_publishes++] = page;
}

/* ---- POST /{ig-user-id}/media_publish ---- */

/* The post: it takes the container's image, and the container becomes PUBLISHED. */
static const struct emu_media *publish(struct emulator *e, struct emu_container *k, int64_t now)
{
    emu_grow((void **)&e->media, &e->cap_media, e->n_media, sizeof *e->media);
    struct emu_media *m = &e->media[e->n_media++];
    memset(m, 0, sizeof *m);
    emu_new_id(e, m->id);
    m->page = k->page;
    m->caption = k->caption ? xstrdup(k->caption) : NULL;
    m->ts_ms = now;
    m->jpeg = k->jpeg;
    m->jpeg_len = k->jpeg_len;
    m->width = k->width;
    m->height = k->height;
    k->jpeg = NULL;
    k->jpeg_len = 0;
    k->status = EMU_C_PUBLISHED;
    memcpy(k->media_id, m->id, sizeof k->media_id);
    record_publish(e, k->page, now);
    return m;
}

void emu_h_media_publish(struct http_req *r, void *ctx)
{
    struct emu_call c;
    if (!emu_begin(&c, ctx, r, EMU_TOK_USER | EMU_TOK_PAGEK))
        return;
    struct emulator *e = c.e;
    int page = emu_pub_ig_page(&c, EMU_PUB_SCOPES_PUBLISH);
    if (page < 0)
        return;
    const char *cid = emu_param(&c, "creation_id");
    if (!cid || !*cid) {
        emu_fail(&c, 400, 100, 0, "(#100) The parameter creation_id is required");
        return;
    }
    struct emu_container *k = emu_pub_ready_container(&c, page, cid);
    if (!k)
        return;
    if (quota_usage(e, page, 0, c.now_ms) >= e->o.quota_total) {
        emu_pub_fail(&c, &E_QUOTA, NULL);
        return;
    }
    const struct emu_media *m = publish(e, k, c.now_ms);
    char id[EMU_ID_LEN];
    memcpy(id, m->id, sizeof id);
    log_info("emulator.published", LOG_STR("media", id), LOG_INT("bytes", m->jpeg_len));
    emu_end(&c);
    emu_reply(&c, 200, json_pack("{s:s}", "id", id));
}

/* ---- GET /{ig-user-id}/content_publishing_limit ---- */

/* since=<unix seconds>, no older than 24 h (§5.2); absent: the whole rolling day. */
static bool read_since(struct emu_call *c, int64_t *since_ms)
{
    *since_ms = 0;
    const char *s = emu_param(c, "since");
    if (!s)
        return true;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (!*s || !end || *end || v < 0 || v > INT64_MAX / 1000 || c->now_ms - v * 1000 > EMU_DAY_MS) {
        /* Emulator choice: Meta documents the rule, not the error. */
        emu_fail(c, 400, 100, 0,
                 "(#100) The parameter since must be a Unix timestamp within the last 24 "
                 "hours");
        return false;
    }
    *since_ms = v * 1000;
    return true;
}

/* quota_usage is the default field; config{quota_total,quota_duration} on request. */
void emu_h_publishing_limit(struct http_req *r, void *ctx)
{
    static const char *const known[] = {"quota_usage", "config", NULL};
    struct emu_call c;
    if (!emu_begin(&c, ctx, r, EMU_TOK_USER | EMU_TOK_PAGEK))
        return;
    int page = emu_pub_ig_page(&c, EMU_PUB_SCOPES_PUBLISH);
    json_t *fields = NULL;
    int64_t since_ms = 0;
    if (page < 0 || !emu_pub_fields(&c, known, "ContentPublishingLimit", &fields) ||
        !read_since(&c, &since_ms))
        return;
    json_t *item = json_object();
    if (emu_field_wanted(fields, "quota_usage", true))
        json_object_set_new(item, "quota_usage",
                            json_integer(quota_usage(c.e, page, since_ms, c.now_ms)));
    if (emu_field_wanted(fields, "config", false))
        json_object_set_new(item, "config",
                            json_pack("{s:i, s:i}", "quota_total", c.e->o.quota_total,
                                      "quota_duration", QUOTA_DURATION_S));
    emu_end(&c);
    emu_reply(&c, 200, json_pack("{s:[o]}", "data", item));
}

/* ---- POST /_emulator/containers/{id} (control, not Meta's) ---- */

/* {"status_code":"ERROR"|"EXPIRED"|"IN_PROGRESS"|"FINISHED", "error_subcode":N?}: moves a
 * container that is not published yet, so that tests can see what a client does with each
 * status Meta documents (§5.1). An ERROR container's status text carries the subcode (default
 * 2207001). */
void emu_h_control_container(struct http_req *r, void *ctx)
{
    static const char *const names[] = {[EMU_C_IN_PROGRESS] = "IN_PROGRESS",
                                        [EMU_C_FINISHED] = "FINISHED",
                                        [EMU_C_ERROR] = "ERROR",
                                        [EMU_C_EXPIRED] = "EXPIRED"};
    struct emulator *e = ctx;
    json_t *b = emu_ctl_body(r);
    if (!b)
        return;
    const char *want = json_string_value(json_object_get(b, "status_code"));
    json_int_t sub = json_integer_value(json_object_get(b, "error_subcode"));
    int st = -1;
    for (int i = 0; want && i < (int)(sizeof names / sizeof names[0]); i++)
        if (names[i] && strcmp(want, names[i]) == 0)
            st = i;
    json_decref(b);
    if (st < 0) {
        emu_ctl_error(r, 400, "status_code must be IN_PROGRESS, FINISHED, ERROR or EXPIRED");
        return;
    }
    pthread_mutex_lock(&e->mu);
    int64_t i = emu_container_by_id(e, http_req_param(r, "id"));
    struct emu_container *k = i >= 0 ? &e->containers[i] : NULL;
    bool ok = k && k->status != EMU_C_PUBLISHED;
    if (ok) {
        k->status = (enum emu_container_status)st;
        k->error_subcode = st == EMU_C_ERROR ? (int)(sub > 0 ? sub : 2207001) : 0;
        k->ready_ms = st == EMU_C_IN_PROGRESS ? INT64_MAX : k->ready_ms;
    }
    pthread_mutex_unlock(&e->mu);
    if (!ok) {
        emu_ctl_error(r, 404, "no such container, or it is published");
        return;
    }
    http_reply_json(r, 200, json_pack("{s:s}", "status_code", names[st]));
}
