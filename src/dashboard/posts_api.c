/*
 * dashboard/posts_api.c - the posts' REST API: list and read posts (with their images' URLs and
 * the account's quota), upload an image (multipart/form-data), preview an image fitted by pad
 * and by crop side by side, create a post (uploads or URLs, 1 image or a carousel of 2..10,
 * now or at a time), cancel it or move it while it waits.
 *
 *   GET  /api/posts?account=ID&before=ID&limit=N      newest first
 *   GET  /api/posts/{id}
 *   POST /api/posts        {"account_id","caption","fit","at"?,"images":[{"source"}|{"url"}]}
 *   POST /api/posts/{id}/cancel, /api/posts/{id}/schedule {"at"}
 *   POST /api/uploads      multipart/form-data, the file in the part named "image"
 *   POST /api/previews     {"source"|"url", "modes":["pad","crop"], "ratio"?}
 *   POST /api/images/generate {"prompt","size"?}     an image from SB_IMAGE_URL
 *   POST /api/images/template {"layout","headline","body","bg","fg","accent","logo"?}
 *
 * Changes need the session's CSRF token (dashboard_require_session) and are audited. A preview
 * is a media row that expires after an hour (the sweep deletes it). Never logs a caption.
 */
#include "dashboard/dash_int.h"

#include <glib.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "content/content.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/log.h"
#include "meta/publish.h"

#define POSTS_PAGE       50
#define PREVIEW_KEEP_MS  (3600LL * 1000)
#define PREVIEW_MODES    3
#define OURS_MAX         1000

/* ---- views ---- */

json_t *dash_quota_json(struct store *s, int64_t account_id, int64_t now_ms)
{
    struct store_quota q;
    size_t ours = 0;
    if (store_account_quota(s, account_id, &q) != ERR_OK)
        return json_null();
    int64_t *times = xmalloc(OURS_MAX * sizeof *times);
    if (store_posts_published_since(s, account_id, now_ms - CONTENT_DAY_MS, times, OURS_MAX,
                                    &ours) != ERR_OK)
        ours = 0;
    free(times);
    char at[32] = "";
    if (q.checked_at)
        clock_format_iso(q.checked_at, at, sizeof at);
    int64_t used = q.usage > (int64_t)ours ? q.usage : (int64_t)ours;
    return json_pack("{s:o, s:o, s:I, s:I, s:o}", "usage",
                     q.total ? json_integer(q.usage) : json_null(), "total",
                     q.total ? json_integer(q.total) : json_null(), "ours_24h", (json_int_t)ours,
                     "used", (json_int_t)used, "checked_at",
                     q.checked_at ? json_string(at) : json_null());
}

json_t *dash_post_json(struct store *s, const struct store_post *p, int64_t now_ms)
{
    json_t *o = content_post_json(p, true);
    json_t *items = json_object_get(o, "items");
    for (size_t i = 0; i < json_array_size(items); i++) {
        json_t *it = json_array_get(items, i);
        const char *m = json_string_value(json_object_get(it, "media_id"));
        if (m)
            json_object_set_new(it, "url", json_sprintf("/media/%s.jpg", m));
    }
    json_object_set_new(o, "quota", dash_quota_json(s, p->account_id, now_ms));
    return o;
}

static bool id_param(struct http_req *r, int64_t *id)
{
    const char *p = http_req_param(r, "id");
    char *end = NULL;
    long long v = p ? strtoll(p, &end, 10) : 0;
    *id = v;
    if (!p || *end || v <= 0) {
        http_reply_error(r, ERR_INVALID, "bad post id");
        return false;
    }
    return true;
}

static int64_t query_int(struct http_req *r, const char *name, int64_t def)
{
    const char *v = http_req_query(r, name);
    char *end = NULL;
    long long n = v ? strtoll(v, &end, 10) : def;
    return v && (*end || n < 0) ? def : n;
}

void dash_h_posts(struct http_req *r, void *ctx)
{
    struct dashboard_session ss;
    if (!dashboard_require_session(ctx, r, false, &ss))
        return;
    struct arena *a = http_req_arena(r);
    int64_t event_id = dash_event_id(ss.store);
    int64_t limit = query_int(r, "limit", POSTS_PAGE);
    struct store_post *rows = NULL;
    size_t n = 0;
    enum err rc = store_posts_list(ss.store, a, query_int(r, "account", 0),
                                   query_int(r, "before", 0),
                                   (size_t)(limit > 0 && limit <= POSTS_PAGE ? limit : POSTS_PAGE),
                                   &rows, &n);
    if (rc != ERR_OK) {
        http_reply_error(r, rc, "could not read the posts");
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, content_post_json(&rows[i], false));
    json_t *body = json_pack("{s:o, s:I}", "posts", list, "event_id", (json_int_t)event_id);
    json_object_set_new(body, "before", n ? json_integer(rows[n - 1].id) : json_null());
    http_set_header(r, "Cache-Control", "no-store");
    http_reply_json(r, 200, body);
}

static void reply_post(struct http_req *r, struct store *s, int64_t id, int status)
{
    struct store_post p;
    enum err rc = store_post_get(s, http_req_arena(r), id, &p);
    if (rc != ERR_OK) {
        http_reply_error(r, rc, rc == ERR_NOT_FOUND ? "no such post" : "could not read it");
        return;
    }
    http_set_header(r, "Cache-Control", "no-store");
    http_reply_json(r, status,
                    json_pack("{s:o, s:I}", "post", dash_post_json(s, &p, clock_now_ms()),
                              "event_id", (json_int_t)dash_event_id(s)));
}

void dash_h_post(struct http_req *r, void *ctx)
{
    struct dashboard_session ss;
    int64_t id;
    if (dashboard_require_session(ctx, r, false, &ss) && id_param(r, &id))
        reply_post(r, ss.store, id, 200);
}

/* ---- creating ---- */

static json_t *body_json(struct http_req *r)
{
    size_t len = 0;
    const char *body = http_req_body(r, &len);
    json_t *in = json_loadb(body, len, 0, NULL);
    if (!json_is_object(in)) {
        json_decref(in);
        http_reply_error(r, ERR_INVALID, "the body must be a JSON object");
        return NULL;
    }
    return in;
}

/* An image of the request: {"source":"file:<sha256>"} (an upload) or {"url":"https://..."}. */
static const char *image_source(struct arena *a, const json_t *img)
{
    const char *s = json_get_str(img, "source");
    if (!s)
        s = json_get_str(img, "url");
    return s ? arena_strdup(a, s) : NULL;
}

static bool read_new_post(struct http_req *r, json_t *in, struct content_post_new *np,
                          const char **why)
{
    struct arena *a = http_req_arena(r);
    json_int_t acct = json_integer_value(json_object_get(in, "account_id"));
    const char *caption = json_get_str(in, "caption");
    const char *fit = json_get_str(in, "fit");
    const char *at = json_get_str(in, "at");
    const json_t *images = json_object_get(in, "images");
    size_t n = json_array_size(images);
    np->account_id = acct;
    np->caption = arena_strdup(a, caption ? caption : "");
    if (fit && content_fit_mode_parse(fit, &np->fit) != ERR_OK)
        *why = "fit is pad, blur or crop";
    else if (at && *at && meta_parse_graph_time(at, &np->at_ms) != ERR_OK)
        *why = "at is an ISO 8601 time, such as 2026-12-24T09:00:00Z";
    else if (acct <= 0 || !json_is_array(images) || n == 0 || n > STORE_POST_ITEMS_MAX)
        *why = "account_id and 1 to 10 images are needed";
    if (*why)
        return false;
    const char **sources = arena_alloc(a, n * sizeof *sources);
    for (size_t i = 0; i < n; i++)
        if (!(sources[i] = image_source(a, json_array_get(images, i)))) {
            *why = "each image is {\"source\": an upload's source} or {\"url\": ...}";
            return false;
        }
    np->sources = sources;
    np->n_sources = n;
    return true;
}

void dash_h_post_create(struct http_req *r, void *ctx)
{
    struct dashboard_session ss;
    if (!dashboard_require_session(ctx, r, true, &ss))
        return;
    json_t *in = body_json(r);
    if (!in)
        return;
    struct content_post_new np = {.operator_id = ss.operator_id};
    const char *bad = NULL;
    bool ok = read_new_post(r, in, &np, &bad);
    json_decref(in);
    if (!ok) {
        http_reply_error(r, ERR_INVALID, bad);
        return;
    }
    char why[CONTENT_WHY_MAX];
    int64_t id = 0;
    enum err rc = content_post_create(ss.store, &np, clock_now_ms(), &id, why);
    if (rc != ERR_OK) {
        http_reply_error(r, rc, why[0] ? why : "could not create the post");
        return;
    }
    dash_audit(ss.store, ss.operator_id, "post_create",
               arena_printf(http_req_arena(r), "post:%lld", (long long)id),
               json_pack("{s:I, s:I}", "account_id", (json_int_t)np.account_id, "images",
                         (json_int_t)np.n_sources));
    reply_post(r, ss.store, id, 201);
}

void dash_h_post_cancel(struct http_req *r, void *ctx)
{
    struct dashboard_session ss;
    int64_t id;
    if (!dashboard_require_session(ctx, r, true, &ss) || !id_param(r, &id))
        return;
    char why[CONTENT_WHY_MAX];
    enum err rc = content_post_cancel(ss.store, id, ss.operator_id, clock_now_ms(), why);
    if (rc != ERR_OK) {
        http_reply_error(r, rc, why[0] ? why : "could not cancel it");
        return;
    }
    dash_audit(ss.store, ss.operator_id, "post_cancel",
               arena_printf(http_req_arena(r), "post:%lld", (long long)id), NULL);
    reply_post(r, ss.store, id, 200);
}

void dash_h_post_schedule(struct http_req *r, void *ctx)
{
    struct dashboard_session ss;
    int64_t id, at = 0;
    if (!dashboard_require_session(ctx, r, true, &ss) || !id_param(r, &id))
        return;
    json_t *in = body_json(r);
    if (!in)
        return;
    const char *when = json_get_str(in, "at");
    bool ok = when && meta_parse_graph_time(when, &at) == ERR_OK;
    json_decref(in);
    if (!ok) {
        http_reply_error(r, ERR_INVALID, "at is an ISO 8601 time, such as 2026-12-24T09:00:00Z");
        return;
    }
    char why[CONTENT_WHY_MAX];
    enum err rc = content_post_reschedule(ss.store, id, at, clock_now_ms(), why);
    if (rc != ERR_OK) {
        http_reply_error(r, rc, why[0] ? why : "could not move it");
        return;
    }
    dash_audit(ss.store, ss.operator_id, "post_schedule",
               arena_printf(http_req_arena(r), "post:%lld", (long long)id), NULL);
    reply_post(r, ss.store, id, 200);
}

/* ---- uploads, generated and drawn images, previews ---- */

/* An image for a post: checked, kept in the media store, answered with its source. */
static void keep_source(struct http_req *r, struct dashboard *d, const void *bytes, size_t len)
{
    struct arena *a = http_req_arena(r);
    char why[CONTENT_WHY_MAX];
    struct content_probe probe;
    const char *source = NULL;
    enum err rc = content_probe_image(bytes, len, &probe, why);
    if (rc == ERR_OK && (rc = content_media_put_source(d->media, a, bytes, len, &source)) != ERR_OK)
        snprintf(why, sizeof why, "the image could not be stored");
    if (rc != ERR_OK) {
        http_reply_error(r, rc, why);
        return;
    }
    http_reply_json(r, 201,
                    json_pack("{s:s, s:s, s:i, s:i, s:I}", "source", source, "format",
                              probe.format, "width", probe.width, "height", probe.height,
                              "bytes", (json_int_t)len));
}

void dash_h_upload(struct http_req *r, void *ctx)
{
    struct dashboard *d = ctx;
    struct dashboard_session ss;
    if (!dashboard_require_session(d, r, true, &ss))
        return;
    struct arena *a = http_req_arena(r);
    size_t len = 0;
    const char *body = http_req_body(r, &len);
    struct http_part parts[HTTP_MULTIPART_MAX_PARTS];
    size_t n = 0;
    const struct http_part *img = NULL;
    if (http_multipart_parse(a, http_req_header(r, "Content-Type"), body, len, parts,
                             HTTP_MULTIPART_MAX_PARTS, &n) == ERR_OK)
        img = http_multipart_find(parts, n, "image");
    if (!img) {
        http_reply_error(r, ERR_INVALID, "send multipart/form-data with the file as \"image\"");
        return;
    }
    keep_source(r, d, img->data, img->len);
}

/* One preview: the source fitted by mode, kept for an hour. */
static json_t *preview_one(struct dashboard *d, struct store *s, struct arena *a,
                           const unsigned char *bytes, size_t len, enum content_fit_mode mode,
                           double ratio, char why[CONTENT_WHY_MAX], enum err *rc)
{
    struct content_fit_opts o = {.mode = mode, .ratio = ratio};
    struct content_fitted f;
    *rc = content_fit_image(bytes, len, &o, &f, why);
    const char *id = NULL;
    int64_t now = clock_now_ms();
    if (*rc == ERR_OK)
        *rc = content_media_put_jpeg(d->media, s, a, f.jpeg, f.len, f.d.width, f.d.height,
                                     now + PREVIEW_KEEP_MS, &id);
    json_t *out = NULL;
    if (*rc == ERR_OK) {
        json_t *dec = json_loads(content_fit_decision_json(a, &f.d), 0, NULL);
        out = json_pack("{s:s, s:o, s:o}", "mode", content_fit_mode_name(mode), "url",
                        json_sprintf("/media/%s.jpg", id), "decision", dec ? dec : json_null());
    }
    content_fitted_release(&f);
    return out;
}

static bool read_preview(struct http_req *r, json_t *in, const char **source,
                         enum content_fit_mode *modes, size_t *n_modes, double *ratio)
{
    struct arena *a = http_req_arena(r);
    *source = image_source(a, in);
    *ratio = json_number_value(json_object_get(in, "ratio"));
    const json_t *m = json_object_get(in, "modes");
    *n_modes = 0;
    for (size_t i = 0; i < json_array_size(m) && *n_modes < PREVIEW_MODES; i++)
        if (content_fit_mode_parse(json_string_value(json_array_get(m, i)),
                                   &modes[*n_modes]) == ERR_OK)
            (*n_modes)++;
    if (!m) {
        modes[0] = CONTENT_FIT_PAD;
        modes[1] = CONTENT_FIT_CROP;
        *n_modes = 2;
    }
    return *source && *n_modes > 0 && *ratio >= 0;
}

void dash_h_preview(struct http_req *r, void *ctx)
{
    struct dashboard *d = ctx;
    struct dashboard_session ss;
    if (!dashboard_require_session(d, r, true, &ss))
        return;
    json_t *in = body_json(r);
    if (!in)
        return;
    const char *source;
    enum content_fit_mode modes[PREVIEW_MODES];
    size_t n_modes;
    double ratio;
    bool ok = read_preview(r, in, &source, modes, &n_modes, &ratio);
    json_decref(in);
    if (!ok) {
        http_reply_error(r, ERR_INVALID,
                         "source (an upload) or url, and modes among pad, blur, crop");
        return;
    }
    char why[CONTENT_WHY_MAX];
    unsigned char *bytes = NULL;
    size_t len = 0;
    enum err rc = content_media_read_source(d->media, source, &bytes, &len, why);
    json_t *list = json_array();
    for (size_t i = 0; rc == ERR_OK && i < n_modes; i++) {
        json_t *one = preview_one(d, ss.store, http_req_arena(r), bytes, len, modes[i], ratio,
                                  why, &rc);
        if (one)
            json_array_append_new(list, one);
    }
    free(bytes);
    if (rc != ERR_OK) {
        json_decref(list);
        http_reply_error(r, rc, why[0] ? why : "could not make the preview");
        return;
    }
    http_reply_json(r, 200, json_pack("{s:o}", "previews", list));
}

/* POST /api/images/generate {"prompt","size"?}: one image from SB_IMAGE_URL. */
void dash_h_generate(struct http_req *r, void *ctx)
{
    struct dashboard *d = ctx;
    struct dashboard_session ss;
    if (!dashboard_require_session(d, r, true, &ss))
        return;
    json_t *in = body_json(r);
    if (!in)
        return;
    struct arena *a = http_req_arena(r);
    const char *prompt = arena_strdup(a, json_get_str(in, "prompt") ? json_get_str(in, "prompt")
                                                                     : "");
    const char *size = json_get_str(in, "size") ? arena_strdup(a, json_get_str(in, "size")) : NULL;
    json_decref(in);
    const struct content_gen_opts go = {.url = d->cfg->image_url,
                                        .model = d->cfg->image_model,
                                        .api_key = d->cfg->llm_api_key};
    char why[CONTENT_WHY_MAX];
    unsigned char *bytes = NULL;
    size_t len = 0;
    enum err rc = content_generate_image(&go, prompt, size, &bytes, &len, why);
    if (rc != ERR_OK) {
        http_reply_error(r, rc, why);
        return;
    }
    dash_audit(ss.store, ss.operator_id, "image_generate", NULL,
               json_pack("{s:I}", "prompt_bytes", (json_int_t)strlen(prompt)));
    keep_source(r, d, bytes, len);
    free(bytes);
}

static bool colour_member(const json_t *in, const char *key, const char *def,
                          unsigned char out[3])
{
    const char *v = json_get_str(in, key);
    return content_colour_parse(v ? v : def, out) == ERR_OK;
}

/* POST /api/images/template {"layout","headline","body","bg","fg","accent","logo"?: source}:
 * the built-in renderer. */
void dash_h_template(struct http_req *r, void *ctx)
{
    struct dashboard *d = ctx;
    struct dashboard_session ss;
    if (!dashboard_require_session(d, r, true, &ss))
        return;
    json_t *in = body_json(r);
    if (!in)
        return;
    struct arena *a = http_req_arena(r);
    struct content_template t = {0};
    const char *v;
    t.layout = (v = json_get_str(in, "layout")) ? arena_strdup(a, v) : NULL;
    t.headline = (v = json_get_str(in, "headline")) ? arena_strdup(a, v) : "";
    t.body = (v = json_get_str(in, "body")) ? arena_strdup(a, v) : "";
    const char *logo = (v = json_get_str(in, "logo")) ? arena_strdup(a, v) : NULL;
    bool colours = colour_member(in, "bg", "#1f2a44", t.bg) &&
                   colour_member(in, "fg", "#ffffff", t.fg) &&
                   colour_member(in, "accent", "#f2a541", t.accent);
    json_decref(in);
    char why[CONTENT_WHY_MAX] = "";
    unsigned char *logo_bytes = NULL;
    enum err rc = colours ? ERR_OK : ERR_INVALID;
    if (!colours)
        snprintf(why, sizeof why, "bg, fg and accent are colours like #1f2a44");
    if (rc == ERR_OK && logo)
        rc = content_media_read_source(d->media, logo, &logo_bytes, &t.logo_len, why);
    t.logo = logo_bytes;
    void *png = NULL;
    size_t len = 0;
    if (rc == ERR_OK)
        rc = content_template_render(&t, &png, &len, why);
    free(logo_bytes);
    if (rc != ERR_OK) {
        http_reply_error(r, rc, why);
        return;
    }
    keep_source(r, d, png, len);
    g_free(png);
}
