/*
 * emulator/publish.c - POST /{ig-user-id}/media: Instagram publishing containers, as
 * meta-platform.md §5.1 describes them. An image container is made from image_url, which
 * the emulator downloads as Meta does; a carousel container from 2 to 10 finished ones.
 *
 * Owns: the request checks (media_type, caption §5.4, user_tags, alt_text), the image checks
 * (§5.3: JPEG only, at most 8 MiB, ratio 4:5 to 1.91:1 for feed images) and making
 * containers. Does not own: their status over time and publishing them (publish_live.c),
 * reading them (ig_media.c), the JPEG header walk (jpeg.c), serving images (control.c).
 * Locking: the image is fetched with e->mu released (emu_end), then mu is taken again to
 * store the container; everything else runs under mu, as emu_begin() leaves it.
 * Where Meta documents no behaviour, the choice made here says "Emulator choice".
 */
#include "emulator/emu_publish.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "emulator/emu_jpeg.h"
#include "http/client.h"

#define IMAGE_MAX_BYTES      ((size_t)8 * 1024 * 1024)
#define FETCH_TIMEOUT_MS     10000L
#define FETCH_AGENT          "User-Agent: facebookexternalhit/1.1"
#define CAPTION_MAX_CHARS    2200
#define CAPTION_MAX_HASHTAGS 30
#define MAX_TAGS             20 /* @mentions in a caption, and user_tags */
#define ALT_TEXT_MAX_CHARS   1000
#define CAROUSEL_MIN         2
#define CAROUSEL_MAX         10

/* §5.5, with Meta's error_user_title; {...} is filled in where the error is given. */
static const struct emu_pub_err E_FETCH = {9004, 2207052, "Media download has failed.",
                                           "The media could not be fetched from this uri: {uri}",
                                           NULL};
static const struct emu_pub_err E_SLOW = {-2, 2207003, "Timeout",
                                          "It takes too long to download the media.", NULL};
static const struct emu_pub_err E_TOO_LARGE = {
    36000, 2207004, "Image is too large",
    "The image is too large to download. It should be less than 8 MiB.", NULL};
static const struct emu_pub_err E_FORMAT = {36001, 2207005, "Unsupported format",
                                            "The image format is not supported.", NULL};
static const struct emu_pub_err E_RATIO = {36003, 2207009, "Cannot Publish Image",
                                           "The submitted image with aspect ratio {r} cannot be "
                                           "published. Please submit an image with a valid "
                                           "aspect ratio.",
                                           NULL};
static const struct emu_pub_err E_CAPTION = {36004, 2207010, "Caption Too Long",
                                             "The submitted image's caption was {n} characters "
                                             "long, but the maximum allowed is 2200 characters.",
                                             NULL};
static const struct emu_pub_err E_TAGS = {100, 2207040, "Too Many Tags",
                                          "Cannot use more than 20 tags per created media.", NULL};
static const struct emu_pub_err E_CAROUSEL = {
    100, 2207028, "Carousel Validation Failed",
    "Carousels need at least 2 photos/videos and no more than 10", NULL};
static const struct emu_pub_err E_MEDIA_TYPE = {100, 2207023, "Unknown Media Type",
                                                "The media type {x} is unknown.", NULL};

enum media_kind { KIND_IMAGE, KIND_STORY, KIND_CAROUSEL };

/* What POST /{ig-user-id}/media asked for; strings are borrowed from the request. */
struct media_req {
    enum media_kind kind;
    const char *image_url;
    const char *caption; /* NULL when absent, or ignored (carousel items, stories) */
    json_t *children;    /* carousel: an array of container ids (owned by the arena) */
};

/* The downloaded image, until it is stored in a container. */
struct image {
    unsigned char *bytes; /* heap */
    size_t len;
    int width, height;
};

/* ---- POST /{ig-user-id}/media: the request ---- */

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        n += (*p & 0xC0) != 0x80;
    return n;
}

static bool word_byte(unsigned char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           ch == '_' || ch >= 0x80;
}

/* Hashtags: '#' before a word character. Mentions: '@' before a username character, not
 * inside a word (so "dana@example.com" is no mention). */
static void count_tags(const char *s, int *hashtags, int *mentions)
{
    *hashtags = *mentions = 0;
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; p[i]; i++) {
        if (p[i] == '#' && word_byte(p[i + 1]))
            (*hashtags)++;
        bool after_word = i > 0 && (word_byte(p[i - 1]) || p[i - 1] == '.');
        if (p[i] == '@' && !after_word && (word_byte(p[i + 1]) || p[i + 1] == '.'))
            (*mentions)++;
    }
}

static bool check_caption(struct emu_call *c, const char *caption)
{
    size_t chars = utf8_chars(caption);
    if (chars > CAPTION_MAX_CHARS) {
        char *msg = arena_printf(c->a,
                                 "The submitted image's caption was %zu characters long, but "
                                 "the maximum allowed is %d characters.",
                                 chars, CAPTION_MAX_CHARS);
        emu_pub_fail(c, &E_CAPTION, msg);
        return false;
    }
    int hashtags, mentions;
    count_tags(caption, &hashtags, &mentions);
    if (hashtags > CAPTION_MAX_HASHTAGS) {
        /* Emulator choice: §5.4 gives the limit (30) but no error code. */
        emu_fail(c, 400, 100, 0, "(#100) The caption cannot contain more than 30 hashtags.");
        return false;
    }
    if (mentions > MAX_TAGS) {
        emu_pub_fail(c, &E_TAGS, NULL);
        return false;
    }
    return true;
}

/* user_tags=[{"username","x","y"}]: x and y in [0, 1] when given (stories take none). */
static bool check_user_tags(struct emu_call *c)
{
    if (!json_object_get(c->params, "user_tags"))
        return true;
    json_t *tags = emu_param_json(c, "user_tags");
    bool ok = json_is_array(tags);
    size_t i;
    json_t *t;
    json_array_foreach(tags, i, t)
    {
        json_t *x = json_object_get(t, "x"), *y = json_object_get(t, "y");
        ok =
            ok && json_is_string(json_object_get(t, "username")) &&
            (!x || (json_is_number(x) && json_number_value(x) >= 0 && json_number_value(x) <= 1)) &&
            (!y || (json_is_number(y) && json_number_value(y) >= 0 && json_number_value(y) <= 1));
    }
    if (!ok) {
        emu_fail(c, 400, 100, 0,
                 "(#100) Param user_tags must be an array of objects with a username and "
                 "x and y between 0 and 1");
        return false;
    }
    if (json_array_size(tags) > MAX_TAGS) {
        emu_pub_fail(c, &E_TAGS, NULL);
        return false;
    }
    return true;
}

static bool flag_param(const struct emu_call *c, const char *name)
{
    const json_t *v = json_object_get(c->params, name);
    const char *s = json_string_value(v);
    return json_is_true(v) || (s && (strcmp(s, "true") == 0 || strcmp(s, "1") == 0));
}

/* media_type: absent (or IMAGE) for a feed image, STORIES, CAROUSEL. Video (VIDEO, REELS)
 * is not emulated and answers as an unknown type. */
static bool read_kind(struct emu_call *c, struct media_req *q)
{
    const char *t = emu_param(c, "media_type");
    if (!t || !*t || strcmp(t, "IMAGE") == 0)
        q->kind = KIND_IMAGE;
    else if (strcmp(t, "STORIES") == 0)
        q->kind = KIND_STORY;
    else if (strcmp(t, "CAROUSEL") == 0)
        q->kind = KIND_CAROUSEL;
    else {
        emu_pub_fail(c, &E_MEDIA_TYPE, arena_printf(c->a, "The media type %.64s is unknown.", t));
        return false;
    }
    return true;
}

/* children: a comma list (or, in a JSON body, an array) of container ids. */
static json_t *read_children(struct emu_call *c)
{
    json_t *v = json_object_get(c->params, "children");
    if (json_is_array(v))
        return v;
    json_t *out = json_array();
    emu_pub_arena_json(c->a, out);
    const char *s = json_string_value(v);
    while (s && *s) {
        size_t n = strcspn(s, ",");
        if (n > 0 && n < EMU_ID_LEN)
            json_array_append_new(out, json_stringn(s, n));
        else if (n > 0)
            json_array_append_new(out, json_string(""));
        s += n + (s[n] == ',');
    }
    return out;
}

static bool read_request(struct emu_call *c, struct media_req *q)
{
    *q = (struct media_req){.image_url = emu_param(c, "image_url")};
    if (!read_kind(c, q) || !check_user_tags(c))
        return false;
    const char *alt = emu_param(c, "alt_text");
    if (alt && utf8_chars(alt) > ALT_TEXT_MAX_CHARS) {
        emu_fail(c, 400, 100, 0, "(#100) alt_text cannot be longer than 1000 characters");
        return false;
    }
    /* §5.1: no caption on carousel items. Emulator choice: one on a story is ignored too. */
    if (q->kind != KIND_STORY && !flag_param(c, "is_carousel_item"))
        q->caption = emu_param(c, "caption");
    if (q->caption && !check_caption(c, q->caption))
        return false;
    if (q->kind == KIND_CAROUSEL) {
        q->children = read_children(c);
        size_t n = json_array_size(q->children);
        if (n < CAROUSEL_MIN || n > CAROUSEL_MAX) {
            emu_pub_fail(c, &E_CAROUSEL, NULL);
            return false;
        }
        return true;
    }
    if (!q->image_url || !*q->image_url) {
        emu_fail(c, 400, 100, 0, "(#100) The parameter image_url is required");
        return false;
    }
    return true;
}

/* ---- fetching and checking the image (mu is NOT held here) ---- */

static bool ratio_ok(int w, int h)
{
    /* 0.8 <= w/h <= 1.91, in integers: 5w >= 4h and 100w <= 191h */
    return 5LL * w >= 4LL * h && 100LL * w <= 191LL * h;
}

static bool http_url(const char *u)
{
    return strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0;
}

/* GET image_url as Meta's fetcher would (no credentials, no redirects followed). On failure
 * answers the request and returns false. */
static bool download(struct http_req *r, const char *url, struct http_client_resp *resp)
{
    struct arena *a = http_req_arena(r);
    const char *const headers[] = {FETCH_AGENT, NULL};
    int64_t t0 = clock_mono_us();
    *resp = (struct http_client_resp){0};
    enum err rc = ERR_UPSTREAM;
    if (http_url(url))
        rc = http_client_do("GET", url, headers, NULL, 0, FETCH_TIMEOUT_MS, IMAGE_MAX_BYTES + 1,
                            resp);
    if (rc == ERR_OK && resp->status == 200 && resp->len <= IMAGE_MAX_BYTES)
        return true;
    if (rc == ERR_OK)
        free(resp->body);
    bool slow = rc == ERR_UPSTREAM && clock_mono_us() - t0 >= FETCH_TIMEOUT_MS * 1000;
    log_info("emulator.media_fetch_failed", LOG_ERR(rc), LOG_INT("status", resp->status),
             LOG_BOOL("timeout", slow));
    if (rc == ERR_TOO_LARGE || (rc == ERR_OK && resp->status == 200))
        emu_pub_reply(r, &E_TOO_LARGE, NULL);
    else if (slow)
        emu_pub_reply(r, &E_SLOW, NULL);
    else
        emu_pub_reply(r, &E_FETCH,
                      arena_printf(a, "The media could not be fetched from this uri: %s", url));
    return false;
}

static bool fetch_image(struct http_req *r, const struct media_req *q, struct image *img)
{
    struct http_client_resp resp;
    if (!download(r, q->image_url, &resp))
        return false;
    int w = 0, h = 0;
    enum err rc = emu_jpeg_info((const unsigned char *)resp.body, resp.len, &w, &h);
    if (rc != ERR_OK) {
        free(resp.body);
        emu_pub_reply(r, &E_FORMAT, NULL);
        return false;
    }
    if (q->kind != KIND_STORY && !ratio_ok(w, h)) {
        free(resp.body);
        /* Meta prints the ratio as a Python tuple of the fraction: ('2000/800',) */
        emu_pub_reply(r, &E_RATIO,
                      arena_printf(http_req_arena(r),
                                   "The submitted image with aspect ratio ('%d/%d',) cannot be "
                                   "published. Please submit an image with a valid aspect ratio.",
                                   w, h));
        return false;
    }
    *img = (struct image){(unsigned char *)resp.body, resp.len, w, h};
    return true;
}

/* ---- containers ---- */

static struct emu_container *new_container(struct emulator *e, int page, const char *caption)
{
    emu_grow((void **)&e->containers, &e->cap_containers, e->n_containers, sizeof *e->containers);
    struct emu_container *k = &e->containers[e->n_containers++];
    memset(k, 0, sizeof *k);
    emu_new_id(e, k->id);
    k->page = page;
    k->status = EMU_C_IN_PROGRESS;
    k->created_ms = emu_now_ms(e);
    k->ready_ms = k->created_ms + e->o.container_ready_ms;
    k->caption = caption ? xstrdup(caption) : NULL;
    return k;
}

static void reply_id(struct emu_call *c, const char *id_under_mu)
{
    char id[EMU_ID_LEN];
    memcpy(id, id_under_mu, sizeof id);
    emu_end(c);
    emu_reply(c, 200, json_pack("{s:s}", "id", id));
}

/* A carousel container is FINISHED at once: its children are. It carries the first child's
 * image (every item is cropped to the first one's ratio, §5.1). */
static void make_carousel(struct emu_call *c, int page, const struct media_req *q)
{
    const struct emu_container *first = NULL;
    size_t i;
    json_t *v;
    json_array_foreach(q->children, i, v)
    {
        const struct emu_container *k = emu_pub_ready_container(c, page, json_string_value(v));
        if (!k)
            return;
        if (!first)
            first = k;
    }
    size_t first_index = (size_t)(first - c->e->containers); /* survives the grow below */
    struct emu_container *k = new_container(c->e, page, q->caption);
    first = &c->e->containers[first_index];
    k->status = EMU_C_FINISHED;
    k->ready_ms = k->created_ms;
    k->width = first->width;
    k->height = first->height;
    if (first->jpeg) {
        k->jpeg = xmalloc(first->jpeg_len);
        memcpy(k->jpeg, first->jpeg, first->jpeg_len);
        k->jpeg_len = first->jpeg_len;
    }
    reply_id(c, k->id);
}

void emu_h_media(struct http_req *r, void *ctx)
{
    struct emu_call c;
    if (!emu_begin(&c, ctx, r, EMU_TOK_USER | EMU_TOK_PAGEK))
        return;
    if (http_req_method(r) == HTTP_GET) {
        emu_pub_list_media(&c);
        return;
    }
    int page = emu_pub_ig_page(&c, EMU_PUB_SCOPES_PUBLISH);
    struct media_req q;
    if (page < 0 || !read_request(&c, &q))
        return;
    if (q.kind == KIND_CAROUSEL) {
        make_carousel(&c, page, &q);
        return;
    }
    emu_end(&c); /* c.tok is not to be used from here on */
    struct image img;
    if (!fetch_image(r, &q, &img))
        return;
    struct emulator *e = c.e;
    pthread_mutex_lock(&e->mu);
    struct emu_container *k = new_container(e, page, q.caption);
    k->image_url = xstrdup(q.image_url);
    k->jpeg = img.bytes;
    k->jpeg_len = img.len;
    k->width = img.width;
    k->height = img.height;
    reply_id(&c, k->id);
}
