/*
 * content/content.h - the content engine: images fitted to Instagram's rules, the media store
 * that serves them to Meta, and the publishing state machine within Meta's quota.
 *
 * Owns: fitting with libvips (fit.c: auto-rotate, sRGB, metadata stripped, ratio kept within
 * 4:5..1.91:1 or padded / cropped by attention to the nearest allowed ratio, width 320..1440,
 * JPEG at the highest quality under 8 MB; the decision recorded), the media store (media.c:
 * content-addressed files under SB_DATA_DIR/media, unguessable ids, GET /media/{id}.jpg,
 * cleaned once no post needs them), captions (caption.c), posts and their publishing job
 * (post.c, publish.c: scheduled -> quota -> caption -> fit -> container(s) -> poll -> publish).
 * Does not own: the Graph calls (meta/publish.h), the rows (store/), the queue (queue/).
 * Threads: content_init() once on the main thread before any other call; then every
 * function may run on any thread (libvips is thread-safe; a publisher is shared read-only).
 * Memory: results in the caller's arena, or heap where a function says so.
 */
#ifndef SB_CONTENT_CONTENT_H
#define SB_CONTENT_CONTENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/mem.h"
#include "store/store.h"

#define CONTENT_WHY_MAX 256 /* a reason in plain words, for a person */

/* Starts libvips (its operation cache off: every image is different) with the decoders'
 * limits below. ERR_INTERNAL when libvips cannot start. */
MUST_USE enum err content_init(const char *argv0);
/* Threads libvips may use per image (0: one per CPU). For benchmarks and tests. */
void content_set_threads(int n);

/* ---- fitting (fit.c) ---- */

#define CONTENT_INPUT_MAX_BYTES ((size_t)50 * 1024 * 1024) /* an upload or a download */
#define CONTENT_MAX_PIXELS      100000000LL /* 100 Mpx: a decompression bomb is refused */
#define CONTENT_JPEG_MAX_BYTES  ((size_t)8000000) /* Meta: "8 MB" ("less than 8 MiB") */
#define CONTENT_WIDTH_MIN       320
#define CONTENT_WIDTH_MAX       1440
#define CONTENT_WIDTH_DEFAULT   1080
#define CONTENT_QUALITY_MAX     100
#define CONTENT_QUALITY_MIN     40
#define CONTENT_QUALITY_STEP    5
/* Instagram's feed ratios, width:height, as integer fractions: 4:5 and 1.91:1. */
#define CONTENT_RATIO_MIN 0.8
#define CONTENT_RATIO_MAX 1.91

enum content_fit_mode {
    CONTENT_FIT_PAD,  /* letterbox with a solid colour */
    CONTENT_FIT_BLUR, /* letterbox over a blurred, enlarged copy of the image */
    CONTENT_FIT_CROP, /* cover, keeping the most interesting part (libvips attention) */
};

struct content_fit_opts {
    enum content_fit_mode mode;
    int width;            /* output width, clamped to 320..1440; 0: 1080 */
    double ratio;         /* 0: keep the image's ratio when allowed, else the nearest allowed
                             one; else exactly this ratio (clamped into the allowed range): a
                             carousel's items take the first one's, benchmarks take 0.8 */
    int quality;          /* the first JPEG quality tried; 0: CONTENT_QUALITY_MAX */
    size_t max_bytes;     /* 0: CONTENT_JPEG_MAX_BYTES */
    unsigned char pad[3]; /* the pad colour (sRGB) and the background under transparency */
    bool has_pad;         /* false: white */
};

/* What was done to an image, recorded with its post item and shown. */
struct content_fit_decision {
    const char *format;        /* the input's: "jpeg", "png", "webp", "heif" */
    int src_width, src_height; /* upright (after the EXIF orientation) */
    int orientation;           /* EXIF 1..8 (1: upright) */
    bool had_profile;          /* an embedded ICC profile was converted to sRGB */
    double src_ratio, ratio;   /* width / height before and after */
    const char *action;        /* "keep", "pad", "blur" or "crop" */
    int width, height, quality;
    size_t bytes;
    int64_t ms; /* how long fitting took */
};

struct content_fitted {
    unsigned char *jpeg; /* heap (g_malloc'd by libvips): content_fitted_release() */
    size_t len;
    struct content_fit_decision d;
};

/* What an image is, from its header alone (no pixels decoded). */
struct content_probe {
    const char *format; /* as in the decision; static text */
    int width, height;  /* upright */
    int orientation;
    bool has_alpha, has_profile;
};

/* Checks that bytes are an image we take (JPEG, PNG, WebP, HEIC/AVIF when this libvips reads
 * them), within CONTENT_INPUT_MAX_BYTES and CONTENT_MAX_PIXELS, from its header. ERR_INVALID
 * (not an image, a format we do not take, a header that does not decode), ERR_TOO_LARGE;
 * why says so in plain words. */
MUST_USE enum err content_probe_image(const void *bytes, size_t len, struct content_probe *out,
                                      char why[CONTENT_WHY_MAX]);
/* Fits an image for an Instagram feed post (see the file head). Errors as
 * content_probe_image(), and ERR_TOO_LARGE when no quality down to CONTENT_QUALITY_MIN fits in
 * max_bytes; a malformed image is ERR_INVALID, never a crash. */
MUST_USE enum err content_fit_image(const void *bytes, size_t len,
                                    const struct content_fit_opts *o, struct content_fitted *out,
                                    char why[CONTENT_WHY_MAX]);
void content_fitted_release(struct content_fitted *f);
/* The decision as a JSON object (text in the arena). */
char *content_fit_decision_json(struct arena *a, const struct content_fit_decision *d);
/* The ratio and size an image of w x h gets (pure): what content_fit_image() will do. */
void content_fit_plan(int w, int h, const struct content_fit_opts *o, const char **action,
                      int *out_w, int *out_h);
/* "pad", "blur", "crop" (also "letterbox" for pad and "attention" for crop). */
MUST_USE enum err content_fit_mode_parse(const char *s, enum content_fit_mode *out);
const char *content_fit_mode_name(enum content_fit_mode m);

/* ---- the built-in template renderer (template.c) ---- */

#define CONTENT_HEADLINE_MAX 120 /* characters */
#define CONTENT_BODY_MAX     600

struct content_template {
    const char *layout;          /* "centered" (NULL too), "split", "banner" */
    const char *headline, *body; /* plain UTF-8 text (shown as written, never markup) */
    unsigned char bg[3], fg[3], accent[3];
    const void *logo; /* NULL, or an image we take (content_probe_image()) */
    size_t logo_len;
    int width, height; /* 0: 1080 x 1350 */
};
/* Draws the template as a PNG (*png: g_free()), to be used as a source. ERR_INVALID with why
 * for a bad layout, text over the limits, or a logo that does not decode. */
MUST_USE enum err content_template_render(const struct content_template *t, void **png,
                                          size_t *len, char why[CONTENT_WHY_MAX]);
/* "#rrggbb" -> out. ERR_INVALID otherwise. */
MUST_USE enum err content_colour_parse(const char *s, unsigned char out[3]);

/* ---- image generation: an OpenAI-compatible images API (generate.c) ---- */

struct content_gen_opts {
    const char *url;     /* SB_IMAGE_URL, ending in /v1: POST {url}/images/generations */
    const char *model;   /* SB_IMAGE_MODEL; NULL: none sent */
    const char *api_key; /* sent as Authorization: Bearer when set */
    long timeout_ms;     /* 0: 120000 */
};
#define CONTENT_PROMPT_MAX 4000

/* Asks for one image for prompt (size "1024x1024" when NULL) and returns its bytes (heap;
 * caller frees), from b64_json or by downloading url. ERR_INVALID (no URL configured, a bad
 * prompt), ERR_UPSTREAM (the API failed: why has its words), ERR_TOO_LARGE. */
MUST_USE enum err content_generate_image(const struct content_gen_opts *o, const char *prompt,
                                         const char *size, unsigned char **bytes, size_t *len,
                                         char why[CONTENT_WHY_MAX]);
/* The images API's answer: data[0].b64_json (decoded into the heap, *bytes) or data[0].url
 * (*url in the arena); an error body's error.message into why. Pure (fuzzed). */
MUST_USE enum err content_parse_image_answer(struct arena *a, const char *body, size_t len,
                                             unsigned char **bytes, size_t *n, const char **url,
                                             char why[CONTENT_WHY_MAX]);

/* ---- captions (caption.c) ---- */

#define CONTENT_CAPTION_MAX_CHARS 2200
#define CONTENT_HASHTAGS_MAX      30
#define CONTENT_MENTIONS_MAX      20

struct content_caption_counts {
    size_t chars; /* Unicode code points */
    int hashtags, mentions;
};
/* Counts as Instagram does: '#' before a word character; '@' before a username character and
 * not inside a word (so "dana@example.com" is no mention). Pure. */
void content_caption_count(const char *caption, struct content_caption_counts *out);
/* ERR_INVALID when the caption is not UTF-8, or passes 2,200 characters, 30 hashtags or 20
 * mentions; why says which and by how much. */
MUST_USE enum err content_caption_check(const char *caption, char why[CONTENT_WHY_MAX]);

/* ---- the media store (media.c) ---- */

struct content_media;

/* The store under <data_dir>/media (created, with media/src for uploads). Caller owns *out;
 * free with content_media_free(). ERR_IO when the folder cannot be made. */
MUST_USE enum err content_media_open(const char *data_dir, struct content_media **out);
void content_media_free(struct content_media *m);
/* Stores a fitted JPEG (file by sha256, written atomically; row with an unguessable id);
 * the same bytes again give the same id. expires_at: a preview's end; 0: kept while a post
 * needs it. *id in the arena. */
MUST_USE enum err content_media_put_jpeg(struct content_media *m, struct store *s,
                                         struct arena *a, const void *jpeg, size_t len, int width,
                                         int height, int64_t expires_at, const char **id);
/* Keeps an upload (an original image) until no post needs it: *source is "file:<sha256>". */
MUST_USE enum err content_media_put_source(struct content_media *m, struct arena *a,
                                           const void *bytes, size_t len, const char **source);
/* Reads a source: "file:<sha256>", or an http(s) URL (downloaded, at most
 * CONTENT_INPUT_MAX_BYTES, 20 s; redirects not followed). Caller frees *bytes. ERR_NOT_FOUND
 * (the file is gone), ERR_TOO_LARGE, ERR_UPSTREAM (the download failed; why says how),
 * ERR_INVALID (another kind of source). */
MUST_USE enum err content_media_read_source(struct content_media *m, const char *source,
                                            unsigned char **bytes, size_t *len,
                                            char why[CONTENT_WHY_MAX]);
/* The fitted JPEG of a media id (heap; caller frees). ERR_NOT_FOUND. */
MUST_USE enum err content_media_read(struct content_media *m, struct store *s, const char *id,
                                     unsigned char **bytes, size_t *len);
/* Deletes the media rows and files no post needs any more (and previews past their end), and
 * uploads no post needs that are older than an hour. *n (may be NULL): files deleted. */
MUST_USE enum err content_media_sweep(struct content_media *m, struct store *s, int64_t now_ms,
                                      int *n);

/* A whole regular file of at most cap bytes (heap, NUL-terminated; caller frees).
 * ERR_NOT_FOUND, ERR_TOO_LARGE, ERR_IO. */
MUST_USE enum err content_read_file(const char *path, size_t cap, unsigned char **bytes,
                                    size_t *len);
/* Whether a source is an http(s) URL (else an upload, "file:<sha256>"). */
bool content_source_is_url(const char *source);

struct http_req;

/* GET /media/{id}.jpg (route "/media/{file}"): the JPEG with Content-Type, Content-Length,
 * Cache-Control, ETag (the sha256) and 304 for If-None-Match; 404 for anything else. ctx is a
 * struct content_media_http. */
struct content_media_http {
    struct content_media *media;
    const struct store_opts *store; /* a few connections are kept for the route */
};
void content_media_serve(struct http_req *r, void *ctx);

/* ---- posts (post.c) ---- */

#define CONTENT_JOB_PUBLISH "publish" /* "<post id>": the post's next step */

struct content_post_new {
    int64_t account_id;          /* an active Instagram account */
    const char *caption;         /* "" for none */
    enum content_fit_mode fit;
    int64_t at_ms;               /* when to publish; 0: now */
    const char *const *sources;  /* 1 (an image) or 2..10 (a carousel): "file:..." or URLs */
    size_t n_sources;
    int64_t operator_id;         /* 0: the CLI */
};

/* Validates (account, caption, sources) and stores the post with its first job, in one
 * transaction on s. ERR_INVALID / ERR_NOT_FOUND (no such account) / ERR_CONFLICT (the account
 * is not an active Instagram account) with why. */
MUST_USE enum err content_post_create(struct store *s, const struct content_post_new *p,
                                      int64_t now_ms, int64_t *id, char why[CONTENT_WHY_MAX]);
/* A post that is scheduled or deferred becomes failed ("cancelled"); ERR_CONFLICT once it is
 * publishing or done; ERR_NOT_FOUND. */
MUST_USE enum err content_post_cancel(struct store *s, int64_t id, int64_t operator_id,
                                      int64_t now_ms, char why[CONTENT_WHY_MAX]);
/* Moves a scheduled or deferred post to another time (its job follows). */
MUST_USE enum err content_post_reschedule(struct store *s, int64_t id, int64_t at_ms,
                                          int64_t now_ms, char why[CONTENT_WHY_MAX]);
/* The post as JSON (for `posts list --json`, `posts show` and the REST API): times ISO 8601
 * or null, items with their fit decisions when with_items. A new reference. */
struct json_t;
struct json_t *content_post_json(const struct store_post *p, bool with_items);
/* Queues the post's next job at run_at_ms in the caller's transaction. */
MUST_USE enum err content_post_queue_job(struct store *s, int64_t post_id, int64_t run_at_ms,
                                         int64_t now_ms);

/* ---- the quota (quota.c) ---- */

#define CONTENT_DAY_MS            (24LL * 3600 * 1000)
#define CONTENT_QUOTA_RECHECK_MS  (30LL * 60 * 1000) /* when Meta's count is above ours */

struct content_quota {
    int64_t meta_usage, meta_total; /* content_publishing_limit; total 0: unknown */
    const int64_t *ours;            /* our publishes in the last 24 h, oldest first */
    size_t n_ours;
};
/* Whether a post may be published at now_ms; when not, *slot_at is when the next slot frees
 * (the oldest of our publishes that keeps the count at the total, plus 24 h; Meta counting
 * posts we did not make: now + CONTENT_QUOTA_RECHECK_MS). *used: the larger count. Pure. */
bool content_quota_allows(const struct content_quota *q, int64_t now_ms, int64_t *used,
                          int64_t *slot_at);

/* ---- publishing (publish.c) ---- */

struct meta_graph;
struct meta_vault;
struct queue;

struct content_publisher_opts {
    struct meta_graph *graph; /* borrowed; NULL: no Meta app, every post fails saying so */
    struct meta_vault *vault; /* borrowed */
    struct queue *queue;      /* woken for a next step due now (may be NULL) */
    struct content_media *media;
    const char *public_url;   /* SB_PUBLIC_URL: where Meta fetches /media/{id}.jpg */
    int64_t poll_deadline_ms; /* 0: 10 minutes of IN_PROGRESS before a post fails */
};

struct content_publisher;

MUST_USE enum err content_publisher_new(const struct content_publisher_opts *o,
                                        struct content_publisher **out);
void content_publisher_free(struct content_publisher *p);
/* Runs a publish job: the post's steps until it must wait (the next job is queued for then)
 * or ends, each step's state committed before the next Graph call, so that after a crash no
 * post is published twice (media_publish is only sent again once the container's status
 * says it was not). Settles the job itself (ack with the step's state). Errors: the store's
 * (the job is retried), ERR_INVALID for a bad payload. Worker threads, own connection. */
MUST_USE enum err content_publish_run(struct content_publisher *p, struct store *s,
                                      const struct store_job *job, const char **reason);

#endif
