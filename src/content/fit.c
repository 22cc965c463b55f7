/*
 * content/fit.c - an image fitted to Instagram's feed rules with libvips (meta-platform.md
 * section 5.3): upright (EXIF orientation), sRGB (an embedded profile converted), no metadata
 * (location!), a ratio within 4:5..1.91:1 (kept when it is, else the nearest allowed one by
 * padding or by an attention crop), a width of 320..1440, JPEG at the highest quality that
 * stays under the size cap.
 *
 * Where the time goes: vips_thumbnail_source() decodes with shrink-on-load (WebP's and
 * HEIF's own), reads sequentially and streams through the pipeline; a JPEG is loaded with the
 * DCT shrink sharp picks (jpeg_shrink(): 4 for a 6000x4000 letterboxed to 1080 wide, where
 * libvips' thumbnail would take 2), so a large JPEG is never whole in memory. PNG has no
 * shrink-on-load: libvips reads it through libpng and zlib, and inflating is most of its time
 * (a whole-stream libdeflate decoder was tried, commit "content: PNG decoded by pngdec.c":
 * 7-10% faster on a 4000x4000, but 75 MB more at peak and slower on small ones: not kept).
 * Libvips errors are translated here, once: a malformed file is ERR_INVALID with libvips'
 * words, never a crash (the loaders run with fail_on=error; pixels are capped from the header
 * before any decoding).
 */
#include "content/content.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vips/vips.h>

#include "content/content_int.h"
#include "core/clock.h"
#include "core/log.h"

#define LOAD_OPTIONS "fail_on=error"
#define BLUR_SHRINK  8   /* the blurred background is made at 1/8 size, then enlarged */
#define BLUR_SIGMA   2.5 /* at that size */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_rc;
static const char *init_argv0;

static void init_vips(void)
{
    init_rc = VIPS_INIT(init_argv0 ? init_argv0 : "switchboard");
    if (init_rc != 0)
        return;
    vips_cache_set_max(0); /* every image is different: the cache would only hold memory */
    vips_leak_set(FALSE);
}

enum err content_init(const char *argv0)
{
    init_argv0 = argv0;
    pthread_once(&init_once, init_vips);
    if (init_rc != 0) {
        log_error("content.vips_failed", LOG_STR("why", "libvips could not start"));
        return ERR_INTERNAL;
    }
    return ERR_OK;
}

void content_set_threads(int n)
{
    vips_concurrency_set(n > 0 ? n : 0);
}

/* ---- modes and the plan ---- */

enum err content_fit_mode_parse(const char *s, enum content_fit_mode *out)
{
    static const struct {
        const char *name;
        enum content_fit_mode mode;
    } names[] = {{"pad", CONTENT_FIT_PAD},   {"letterbox", CONTENT_FIT_PAD},
                 {"blur", CONTENT_FIT_BLUR}, {"crop", CONTENT_FIT_CROP},
                 {"attention", CONTENT_FIT_CROP}};
    for (size_t i = 0; s && i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i].name) == 0) {
            *out = names[i].mode;
            return ERR_OK;
        }
    return ERR_INVALID;
}

const char *content_fit_mode_name(enum content_fit_mode m)
{
    return m == CONTENT_FIT_CROP ? "crop" : m == CONTENT_FIT_BLUR ? "blur" : "pad";
}

/* 4:5 <= w:h <= 1.91:1, exactly, in integers (as the emulator and Meta check it). */
static bool ratio_allowed(int64_t w, int64_t h)
{
    return 5 * w >= 4 * h && 100 * w <= 191 * h;
}

static int clamp_width(int w)
{
    if (w <= 0)
        return CONTENT_WIDTH_DEFAULT;
    return w < CONTENT_WIDTH_MIN ? CONTENT_WIDTH_MIN : w > CONTENT_WIDTH_MAX ? CONTENT_WIDTH_MAX : w;
}

/* The height for width w at ratio r, moved into the allowed range if rounding left it. */
static int height_for(int w, double r)
{
    int h = (int)lround(w / r);
    int h_max = (w * 5) / 4;              /* w/h >= 0.8 */
    int h_min = (w * 100 + 190) / 191;    /* w/h <= 1.91, rounded up */
    return h < h_min ? h_min : h > h_max ? h_max : h < 1 ? 1 : h;
}

void content_fit_plan(int w, int h, const struct content_fit_opts *o, const char **action,
                      int *out_w, int *out_h)
{
    int W = clamp_width(o->width);
    double src = h > 0 ? (double)w / h : 1.0;
    double r = src;
    bool keep = ratio_allowed(w, h);
    if (o->ratio > 0) {
        r = o->ratio < CONTENT_RATIO_MIN ? CONTENT_RATIO_MIN
            : o->ratio > CONTENT_RATIO_MAX ? CONTENT_RATIO_MAX
                                           : o->ratio;
        keep = llabs((int64_t)lround(W / src) - height_for(W, r)) <= 1;
    } else if (!keep) {
        r = src < CONTENT_RATIO_MIN ? CONTENT_RATIO_MIN : CONTENT_RATIO_MAX;
    }
    *out_w = W;
    *out_h = height_for(W, r);
    *action = keep ? "keep" : content_fit_mode_name(o->mode);
}

/* ---- errors ---- */

/* libvips' own words (its error buffer), first line, into why after prefix; the buffer is
 * cleared. */
static void vips_why(char why[CONTENT_WHY_MAX], const char *prefix)
{
    char *words = vips_error_buffer_copy();
    size_t n = words ? strcspn(words, "\n") : 0;
    snprintf(why, CONTENT_WHY_MAX, "%s%s%.*s", prefix, n ? ": " : "", (int)n, words ? words : "");
    g_free(words);
}

/* ---- probing ---- */

/* vips_foreign_find_load_buffer() names the loader's class ("VipsForeignLoadJpegBuffer"). */
static const char *format_of(const char *loader)
{
    static const struct {
        const char *loader, *format;
    } known[] = {{"VipsForeignLoadJpegBuffer", "jpeg"},
                 {"VipsForeignLoadPngBuffer", "png"},
                 {"VipsForeignLoadWebpBuffer", "webp"},
                 {"VipsForeignLoadHeifBuffer", "heif"}};
    for (size_t i = 0; loader && i < sizeof known / sizeof known[0]; i++)
        if (strcmp(loader, known[i].loader) == 0)
            return known[i].format;
    return NULL;
}

/* Whether a JPEG has its end: an EOI (FF D9) after its last start of scan (FF DA; neither
 * can occur inside entropy-coded data, where every FF is stuffed). libvips 8.14 can lose a
 * truncation error raised on a worker thread and save a half-grey image, so a file cut short
 * is refused here instead. Read from the end: the last of the two markers decides (no SOS at
 * all: libvips' header read says what is wrong), so a whole file costs a few bytes. */
static bool jpeg_has_end(const unsigned char *p, size_t len)
{
    for (size_t i = len >= 2 ? len - 1 : 0; i > 0; i--)
        if (p[i - 1] == 0xFF && (p[i] == 0xD9 || p[i] == 0xDA))
            return p[i] == 0xD9;
    return true;
}

enum err content_probe_image(const void *bytes, size_t len, struct content_probe *out,
                             char why[CONTENT_WHY_MAX])
{
    memset(out, 0, sizeof *out);
    why[0] = '\0';
    if (len > CONTENT_INPUT_MAX_BYTES) {
        snprintf(why, CONTENT_WHY_MAX, "the image is %zu bytes; at most %zu are taken", len,
                 CONTENT_INPUT_MAX_BYTES);
        return ERR_TOO_LARGE;
    }
    out->format = len ? format_of(vips_foreign_find_load_buffer(bytes, len)) : NULL;
    vips_error_clear();
    if (!out->format) {
        snprintf(why, CONTENT_WHY_MAX,
                 "not an image that can be used (JPEG, PNG, WebP or HEIC are)");
        return ERR_INVALID;
    }
    if (strcmp(out->format, "jpeg") == 0 && !jpeg_has_end(bytes, len)) {
        snprintf(why, CONTENT_WHY_MAX, "the image could not be read: the JPEG is cut short");
        return ERR_INVALID;
    }
    VipsImage *img = vips_image_new_from_buffer(bytes, len, LOAD_OPTIONS, "access",
                                                VIPS_ACCESS_SEQUENTIAL, NULL);
    if (!img) {
        vips_why(why, "the image could not be read");
        return ERR_INVALID;
    }
    int orientation = 1;
    if (vips_image_get_typeof(img, VIPS_META_ORIENTATION) &&
        vips_image_get_int(img, VIPS_META_ORIENTATION, &orientation) != 0)
        orientation = 1;
    out->orientation = orientation >= 1 && orientation <= 8 ? orientation : 1;
    bool swap = out->orientation >= 5;
    out->width = swap ? vips_image_get_height(img) : vips_image_get_width(img);
    out->height = swap ? vips_image_get_width(img) : vips_image_get_height(img);
    out->has_alpha = vips_image_hasalpha(img);
    out->has_profile = vips_image_get_typeof(img, VIPS_META_ICC_NAME) != 0 ||
                       vips_image_get_interpretation(img) == VIPS_INTERPRETATION_CMYK;
    g_object_unref(img);
    if ((int64_t)out->width * out->height > CONTENT_MAX_PIXELS) {
        snprintf(why, CONTENT_WHY_MAX, "the image is %dx%d (%lld megapixels); at most %lld are taken",
                 out->width, out->height, (long long)out->width * out->height / 1000000,
                 CONTENT_MAX_PIXELS / 1000000);
        return ERR_TOO_LARGE;
    }
    return ERR_OK;
}

/* ---- the pipeline ---- */

struct plan {
    const struct content_fit_opts *o;
    const struct content_probe *probe;
    const char *action;
    int width, height;
    double bg[3];
};

/* The shrink-on-load factor sharp (0.35, fastShrinkOnLoad) gives libjpeg for this fit, so
 * both do the same work: the largest of 8, 4, 2 within the common shrink, one step less when
 * the shrink is exactly that integer (libjpeg's rounding). The common shrink is the larger
 * axis' for pad and blur (contain), the smaller one's for crop and keep (cover). */
static int jpeg_shrink(const struct plan *pl)
{
    double h = (double)pl->probe->width / pl->width, v = (double)pl->probe->height / pl->height;
    bool contain = strcmp(pl->action, "pad") == 0 || strcmp(pl->action, "blur") == 0;
    double shrink = contain ? fmax(h, v) : fmin(h, v);
    int factor = shrink >= 8 ? 8 : shrink >= 4 ? 4 : shrink >= 2 ? 2 : 1;
    return factor > 1 && (int)shrink == factor ? factor / 2 : factor;
}

/* A JPEG that sharp would shrink on load, so loaded, into *out (a new reference); 0 or -1.
 * Anything else (a JPEG read at full size, PNG, WebP, HEIF) is streamed by libvips' loader
 * through vips_thumbnail_source(), with *out NULL. */
static int load(const void *bytes, size_t len, const struct plan *pl, VipsImage **out)
{
    *out = NULL;
    int shrink = strcmp(pl->probe->format, "jpeg") == 0 ? jpeg_shrink(pl) : 1;
    if (shrink == 1)
        return 0;
    return vips_jpegload_buffer((void *)(uintptr_t)bytes, len, out, "shrink", shrink, "fail_on",
                                VIPS_FAIL_ON_ERROR, "access", VIPS_ACCESS_SEQUENTIAL, NULL);
}

/* The decoded, upright, sRGB image at the plan's size (keep, crop) or fitted inside it (pad,
 * blur), without alpha. t: the caller's local array (8 slots from index 0). */
static int thumbnail(const void *bytes, size_t len, const struct plan *pl, VipsImage **t)
{
    bool crop = strcmp(pl->action, "crop") == 0, keep = strcmp(pl->action, "keep") == 0;
    VipsSize size = keep ? VIPS_SIZE_FORCE : VIPS_SIZE_BOTH;
    VipsInteresting interesting = crop ? VIPS_INTERESTING_ATTENTION : VIPS_INTERESTING_NONE;
    const char *export_profile = pl->probe->has_profile ? "srgb" : NULL;
    int rc = load(bytes, len, pl, &t[0]);
    if (rc == 0 && t[0])
        rc = vips_thumbnail_image(t[0], &t[1], pl->width, "height", pl->height, "size", size,
                                  "crop", interesting, export_profile ? "export_profile" : NULL,
                                  export_profile, NULL);
    else if (rc == 0) {
        VipsSource *src = vips_source_new_from_memory(bytes, len);
        rc = src ? 0 : -1;
        if (src) {
            rc = vips_thumbnail_source(src, &t[1], pl->width, "height", pl->height, "size", size,
                                       "crop", interesting, "option_string", LOAD_OPTIONS,
                                       export_profile ? "export_profile" : NULL, export_profile,
                                       NULL);
            g_object_unref(src);
        }
    }
    if (rc == 0)
        rc = vips_colourspace(t[1], &t[2], VIPS_INTERPRETATION_sRGB, NULL);
    if (rc != 0)
        return rc;
    if (!vips_image_hasalpha(t[2])) {
        t[3] = t[2];
        g_object_ref(t[3]);
        return 0;
    }
    VipsArrayDouble *bg = vips_array_double_new(pl->bg, 3);
    rc = vips_flatten(t[2], &t[3], "background", bg, NULL);
    vips_area_unref(VIPS_AREA(bg));
    return rc;
}

/* A blurred, enlarged copy of the fitted image filling the frame, with it on top. */
static int blur_fill(const struct plan *pl, VipsImage *fitted, VipsImage **t, VipsImage **out)
{
    int sw = pl->width / BLUR_SHRINK, sh = pl->height / BLUR_SHRINK;
    int rc = vips_thumbnail_image(fitted, &t[0], sw > 0 ? sw : 1, "height", sh > 0 ? sh : 1,
                                  "crop", VIPS_INTERESTING_CENTRE, "size", VIPS_SIZE_BOTH, NULL);
    if (rc == 0)
        rc = vips_gaussblur(t[0], &t[1], BLUR_SIGMA, NULL);
    if (rc == 0)
        rc = vips_resize(t[1], &t[2], (double)pl->width / vips_image_get_width(t[1]), "vscale",
                         (double)pl->height / vips_image_get_height(t[1]), NULL);
    if (rc == 0)
        rc = vips_gravity(t[2], &t[3], VIPS_COMPASS_DIRECTION_CENTRE, pl->width, pl->height,
                          "extend", VIPS_EXTEND_COPY, NULL);
    if (rc == 0)
        rc = vips_cast_uchar(t[3], &t[4], NULL);
    if (rc == 0)
        rc = vips_insert(t[4], fitted, out, (pl->width - vips_image_get_width(fitted)) / 2,
                         (pl->height - vips_image_get_height(fitted)) / 2, NULL);
    return rc;
}

/* The whole pipeline, ready to encode; *out is a new reference. */
static int build(const void *bytes, size_t len, const struct plan *pl, VipsImage **out)
{
    VipsObject *ctx = VIPS_OBJECT(vips_image_new());
    VipsImage **t = (VipsImage **)vips_object_local_array(ctx, 16);
    int rc = thumbnail(bytes, len, pl, t);
    if (rc == 0 && strcmp(pl->action, "pad") == 0) {
        VipsArrayDouble *bg = vips_array_double_new(pl->bg, 3);
        rc = vips_gravity(t[3], &t[8], VIPS_COMPASS_DIRECTION_CENTRE, pl->width, pl->height,
                          "extend", VIPS_EXTEND_BACKGROUND, "background", bg, NULL);
        vips_area_unref(VIPS_AREA(bg));
    } else if (rc == 0 && strcmp(pl->action, "blur") == 0) {
        /* Two readers of one image: made whole in memory first (at most 1440 x 1800). */
        t[4] = vips_image_copy_memory(t[3]);
        rc = t[4] ? blur_fill(pl, t[4], t + 9, &t[8]) : -1;
    } else if (rc == 0) {
        t[8] = t[3];
        g_object_ref(t[8]);
    }
    if (rc == 0) {
        *out = t[8];
        g_object_ref(*out);
    }
    g_object_unref(ctx);
    return rc;
}

static int encode(VipsImage *img, int quality, void **buf, size_t *len)
{
    return vips_jpegsave_buffer(img, buf, len, "Q", quality, "strip", TRUE, "optimize_coding",
                                TRUE, "subsample_mode", VIPS_FOREIGN_SUBSAMPLE_ON, "interlace",
                                FALSE, NULL);
}

/* Encodes at the first quality, stepping down until the JPEG fits. */
static enum err encode_fitting(const void *bytes, size_t len, const struct plan *pl,
                               struct content_fitted *out, char why[CONTENT_WHY_MAX])
{
    size_t max = pl->o->max_bytes ? pl->o->max_bytes : CONTENT_JPEG_MAX_BYTES;
    int q = pl->o->quality > 0 && pl->o->quality <= CONTENT_QUALITY_MAX ? pl->o->quality
                                                                         : CONTENT_QUALITY_MAX;
    for (;; q -= CONTENT_QUALITY_STEP) {
        VipsImage *img = NULL;
        void *buf = NULL;
        size_t n = 0;
        /* A sequential pipeline is read once: each attempt builds it again. */
        int rc = build(bytes, len, pl, &img);
        if (rc == 0)
            rc = encode(img, q, &buf, &n);
        if (rc == 0) {
            out->d.width = vips_image_get_width(img);
            out->d.height = vips_image_get_height(img);
        }
        if (img)
            g_object_unref(img);
        if (rc != 0) {
            vips_why(why, "the image could not be converted");
            return ERR_INVALID;
        }
        if (n <= max || q - CONTENT_QUALITY_STEP < CONTENT_QUALITY_MIN) {
            if (n > max) {
                g_free(buf);
                snprintf(why, CONTENT_WHY_MAX,
                         "the JPEG is still %zu bytes at quality %d; at most %zu are allowed", n,
                         q, max);
                return ERR_TOO_LARGE;
            }
            out->jpeg = buf;
            out->len = n;
            out->d.quality = q;
            out->d.bytes = n;
            return ERR_OK;
        }
        g_free(buf);
    }
}

enum err content_fit_image(const void *bytes, size_t len, const struct content_fit_opts *o,
                           struct content_fitted *out, char why[CONTENT_WHY_MAX])
{
    int64_t t0 = clock_mono_us();
    memset(out, 0, sizeof *out);
    struct content_probe probe;
    enum err rc = content_probe_image(bytes, len, &probe, why);
    if (rc != ERR_OK)
        return rc;
    struct plan pl = {.o = o, .probe = &probe, .bg = {255, 255, 255}};
    if (o->has_pad)
        for (int i = 0; i < 3; i++)
            pl.bg[i] = o->pad[i];
    content_fit_plan(probe.width, probe.height, o, &pl.action, &pl.width, &pl.height);
    rc = encode_fitting(bytes, len, &pl, out, why);
    vips_error_clear();
    if (rc != ERR_OK)
        return rc;
    out->d.format = probe.format;
    out->d.src_width = probe.width;
    out->d.src_height = probe.height;
    out->d.orientation = probe.orientation;
    out->d.had_profile = probe.has_profile;
    out->d.src_ratio = probe.height ? (double)probe.width / probe.height : 0;
    out->d.ratio = out->d.height ? (double)out->d.width / out->d.height : 0;
    out->d.action = pl.action;
    out->d.ms = (clock_mono_us() - t0) / 1000;
    return ERR_OK;
}

void content_fitted_release(struct content_fitted *f)
{
    if (!f)
        return;
    g_free(f->jpeg);
    f->jpeg = NULL;
    f->len = 0;
}

char *content_fit_decision_json(struct arena *a, const struct content_fit_decision *d)
{
    return arena_printf(a,
                        "{\"format\":\"%s\",\"source\":{\"width\":%d,\"height\":%d,"
                        "\"ratio\":%.4f,\"orientation\":%d},\"action\":\"%s\",\"width\":%d,"
                        "\"height\":%d,\"ratio\":%.4f,\"quality\":%d,\"bytes\":%zu,"
                        "\"srgb_converted\":%s,\"metadata\":\"stripped\",\"ms\":%lld}",
                        d->format ? d->format : "", d->src_width, d->src_height, d->src_ratio,
                        d->orientation, d->action ? d->action : "", d->width, d->height, d->ratio,
                        d->quality, d->bytes, d->had_profile ? "true" : "false",
                        (long long)d->ms);
}
