/*
 * tests/unit/content/test_fit.c - content_fit_image() and content_probe_image(): formats
 * (JPEG, PNG with and without alpha, WebP, HEIC/AVIF where this libvips writes them, or else a
 * clear error for a broken one), ratios at and beyond both of Instagram's limits, pad / blur
 * / crop, the width clamp, the EXIF orientation, metadata stripped, sRGB, the quality steps
 * under a size cap, the pixel cap, malformed input.
 *
 * Inputs are made here with libvips (a gradient with noise, so JPEG sizes are realistic) and
 * every output is decoded again to check what Instagram will see.
 */
#include "content/content.h"

#include <vips/vips.h>

#include "testutil.h"

/* An RGB test picture (bands 3, or 4 with alpha) of w x h. A new reference. */
static VipsImage *picture(int w, int h, bool alpha)
{
    VipsImage *xyz = NULL, *noise = NULL, *sum = NULL, *u = NULL, *rgb = NULL, *out = NULL;
    assert_int_equal(vips_xyz(&xyz, w, h, NULL), 0);
    assert_int_equal(vips_gaussnoise(&noise, w, h, "mean", 0.0, "sigma", 20.0, NULL), 0);
    VipsImage *x = NULL, *y = NULL;
    assert_int_equal(vips_extract_band(xyz, &x, 0, NULL), 0);
    assert_int_equal(vips_extract_band(xyz, &y, 1, NULL), 0);
    VipsImage *in[3] = {x, y, noise};
    assert_int_equal(vips_sum(in, &sum, 3, NULL), 0);
    assert_int_equal(vips_cast_uchar(sum, &u, NULL), 0);
    VipsImage *bands[3] = {u, x, y};
    VipsImage *xu = NULL, *yu = NULL;
    assert_int_equal(vips_cast_uchar(x, &xu, NULL), 0);
    assert_int_equal(vips_cast_uchar(y, &yu, NULL), 0);
    bands[1] = xu;
    bands[2] = yu;
    assert_int_equal(vips_bandjoin(bands, &rgb, 3, NULL), 0);
    rgb->Type = VIPS_INTERPRETATION_sRGB;
    if (alpha)
        assert_int_equal(vips_bandjoin_const1(rgb, &out, 128.0, NULL), 0);
    else {
        out = rgb;
        g_object_ref(out);
    }
    VipsImage *all[] = {xyz, noise, sum, u, rgb, x, y, xu, yu};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        g_object_unref(all[i]);
    return out;
}

struct buffer {
    void *p;
    size_t len;
};

static struct buffer encode(VipsImage *img, const char *format)
{
    struct buffer b = {0};
    int rc = -1;
    if (strcmp(format, "jpeg") == 0)
        rc = vips_jpegsave_buffer(img, &b.p, &b.len, "Q", 92, NULL);
    else if (strcmp(format, "png") == 0)
        rc = vips_pngsave_buffer(img, &b.p, &b.len, "compression", 1, NULL);
    else if (strcmp(format, "webp") == 0)
        rc = vips_webpsave_buffer(img, &b.p, &b.len, "Q", 90, NULL);
    else if (strcmp(format, "heic") == 0)
        rc = vips_heifsave_buffer(img, &b.p, &b.len, "compression", VIPS_FOREIGN_HEIF_COMPRESSION_HEVC,
                                  NULL);
    else if (strcmp(format, "avif") == 0)
        rc = vips_heifsave_buffer(img, &b.p, &b.len, "compression", VIPS_FOREIGN_HEIF_COMPRESSION_AV1,
                                  NULL);
    if (rc != 0) {
        vips_error_clear();
        b.p = NULL;
        b.len = 0;
    }
    return b;
}

static struct buffer make(int w, int h, const char *format, bool alpha)
{
    VipsImage *img = picture(w, h, alpha);
    struct buffer b = encode(img, format);
    g_object_unref(img);
    return b;
}

/* The output, decoded: its size, bands, interpretation and whether any metadata is left. */
struct seen {
    int width, height, bands;
    VipsInterpretation interpretation;
    bool has_exif, has_icc;
};

static struct seen look(const struct content_fitted *f)
{
    struct seen s = {0};
    assert_true(f->len > 4);
    assert_int_equal(f->jpeg[0], 0xFF);
    assert_int_equal(f->jpeg[1], 0xD8);
    VipsImage *img = vips_image_new_from_buffer(f->jpeg, f->len, "", NULL);
    assert_non_null(img);
    s.width = vips_image_get_width(img);
    s.height = vips_image_get_height(img);
    s.bands = vips_image_get_bands(img);
    s.interpretation = vips_image_get_interpretation(img);
    s.has_exif = vips_image_get_typeof(img, VIPS_META_EXIF_NAME) != 0;
    s.has_icc = vips_image_get_typeof(img, VIPS_META_ICC_NAME) != 0;
    g_object_unref(img);
    return s;
}

static int setup(void **state)
{
    (void)state;
    assert_int_equal(content_init("test_fit"), ERR_OK);
    return 0;
}

/* ---- formats ---- */

static void test_formats(void **state)
{
    (void)state;
    static const struct {
        const char *format, *named;
        bool alpha;
    } cases[] = {{"jpeg", "jpeg", false}, {"png", "png", false}, {"png", "png", true},
                 {"webp", "webp", false}, {"webp", "webp", true}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct buffer in = make(1200, 1500, cases[i].format, cases[i].alpha);
        assert_non_null(in.p);
        struct content_fit_opts o = {.mode = CONTENT_FIT_PAD};
        struct content_fitted f;
        char why[CONTENT_WHY_MAX];
        assert_int_equal(content_fit_image(in.p, in.len, &o, &f, why), ERR_OK);
        struct seen s = look(&f);
        assert_int_equal(s.width, 1080);
        assert_int_equal(s.height, 1350);
        assert_int_equal(s.bands, 3); /* alpha flattened */
        assert_int_equal(s.interpretation, VIPS_INTERPRETATION_sRGB);
        assert_string_equal(f.d.format, cases[i].named);
        assert_string_equal(f.d.action, "keep");
        assert_int_equal(f.d.quality, CONTENT_QUALITY_MAX);
        assert_int_equal(f.d.bytes, f.len);
        content_fitted_release(&f);
        g_free(in.p);
    }
}

/* HEIC or AVIF when this libvips can write one to test with; a broken one is a clear error
 * either way. */
static void test_heif(void **state)
{
    (void)state;
    const char *names[] = {"heic", "avif"};
    int tried = 0;
    for (size_t i = 0; i < 2; i++) {
        struct buffer in = make(600, 600, names[i], false);
        if (!in.p)
            continue;
        tried++;
        struct content_fit_opts o = {.mode = CONTENT_FIT_CROP};
        struct content_fitted f;
        char why[CONTENT_WHY_MAX];
        enum err rc = content_fit_image(in.p, in.len, &o, &f, why);
        if (rc == ERR_OK) {
            assert_string_equal(f.d.format, "heif");
            assert_int_equal(look(&f).width, 1080);
        } else {
            assert_int_equal(rc, ERR_INVALID); /* no decoder for it: said in words */
            assert_true(strlen(why) > 10);
        }
        content_fitted_release(&f);
        /* cut in half: never a crash, a clear error */
        assert_int_equal(content_fit_image(in.p, in.len / 2, &o, &f, why), ERR_INVALID);
        assert_non_null(strstr(why, "image"));
        g_free(in.p);
    }
    print_message("heif: %d of 2 encoders available to test with\n", tried);
    /* An ftyp box of a HEIC file with nothing after it. */
    static const unsigned char heic_head[] = {0, 0, 0, 0x18, 'f', 't', 'y', 'p', 'h', 'e', 'i',
                                              'c', 0, 0, 0, 0, 'm', 'i', 'f', '1', 'h', 'e', 'i',
                                              'c'};
    struct content_probe p;
    char why[CONTENT_WHY_MAX];
    assert_int_equal(content_probe_image(heic_head, sizeof heic_head, &p, why), ERR_INVALID);
    assert_true(why[0] != '\0');
}

/* ---- ratios ---- */

static void test_ratios(void **state)
{
    (void)state;
    static const struct {
        int w, h;
        enum content_fit_mode mode;
        const char *action;
        int out_w, out_h;
    } cases[] = {
        {800, 1000, CONTENT_FIT_PAD, "keep", 1080, 1350},  /* exactly 4:5 */
        {1910, 1000, CONTENT_FIT_CROP, "keep", 1080, 566}, /* exactly 1.91:1 (565.4 rounds into range) */
        {1000, 1000, CONTENT_FIT_CROP, "keep", 1080, 1080},
        {799, 1000, CONTENT_FIT_PAD, "pad", 1080, 1350}, /* just beyond 4:5 */
        {700, 1000, CONTENT_FIT_CROP, "crop", 1080, 1350},
        {600, 1000, CONTENT_FIT_BLUR, "blur", 1080, 1350},
        {1920, 1000, CONTENT_FIT_PAD, "pad", 1080, 566}, /* just beyond 1.91:1 */
        {3000, 1000, CONTENT_FIT_CROP, "crop", 1080, 566},
        {3000, 1000, CONTENT_FIT_BLUR, "blur", 1080, 566},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct buffer in = make(cases[i].w, cases[i].h, "jpeg", false);
        struct content_fit_opts o = {.mode = cases[i].mode};
        struct content_fitted f;
        char why[CONTENT_WHY_MAX];
        assert_int_equal(content_fit_image(in.p, in.len, &o, &f, why), ERR_OK);
        struct seen s = look(&f);
        print_message("%dx%d %s -> %s %dx%d\n", cases[i].w, cases[i].h,
                      content_fit_mode_name(cases[i].mode), f.d.action, s.width, s.height);
        assert_string_equal(f.d.action, cases[i].action);
        assert_int_equal(s.width, cases[i].out_w);
        assert_int_equal(s.height, cases[i].out_h);
        assert_true(5 * s.width >= 4 * s.height && 100 * s.width <= 191 * s.height);
        content_fitted_release(&f);
        g_free(in.p);
    }
}

/* The plan alone (pure): widths clamped, a forced ratio (a carousel's first item). */
static void test_plan(void **state)
{
    (void)state;
    static const struct {
        int w, h, width;
        double ratio;
        const char *action;
        int out_w, out_h;
    } cases[] = {
        {1200, 1500, 100, 0, "keep", 320, 400},   {1200, 1500, 5000, 0, "keep", 1440, 1800},
        {1200, 1500, 0, 1.0, "pad", 1080, 1080},  {1000, 1000, 0, 1.0, "keep", 1080, 1080},
        {1000, 1000, 0, 0.5, "pad", 1080, 1350},  {1000, 1000, 0, 3.0, "pad", 1080, 566},
        {100, 10000, 0, 0, "pad", 1080, 1350},    {10000, 100, 0, 0, "pad", 1080, 566},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct content_fit_opts o = {.width = cases[i].width, .ratio = cases[i].ratio};
        const char *action;
        int w, h;
        content_fit_plan(cases[i].w, cases[i].h, &o, &action, &w, &h);
        assert_string_equal(action, cases[i].action);
        assert_int_equal(w, cases[i].out_w);
        assert_int_equal(h, cases[i].out_h);
    }
}

/* ---- orientation, metadata, colour ---- */

static void test_orientation_and_metadata(void **state)
{
    (void)state;
    VipsImage *img = picture(1000, 800, false); /* stored landscape, shown portrait */
    VipsImage *copy = NULL;
    assert_int_equal(vips_copy(img, &copy, NULL), 0);
    vips_image_set_int(copy, VIPS_META_ORIENTATION, 6);
    vips_image_set_string(copy, "exif-ifd0-Artist", "Dana");
    struct buffer in = {0};
    assert_int_equal(vips_jpegsave_buffer(copy, &in.p, &in.len, "Q", 90, NULL), 0);
    g_object_unref(copy);
    g_object_unref(img);
    struct content_probe p;
    char why[CONTENT_WHY_MAX];
    assert_int_equal(content_probe_image(in.p, in.len, &p, why), ERR_OK);
    assert_int_equal(p.orientation, 6);
    assert_int_equal(p.width, 800);
    assert_int_equal(p.height, 1000);
    struct content_fit_opts o = {.mode = CONTENT_FIT_CROP};
    struct content_fitted f;
    assert_int_equal(content_fit_image(in.p, in.len, &o, &f, why), ERR_OK);
    struct seen s = look(&f);
    assert_int_equal(s.width, 1080); /* upright: portrait 4:5, kept */
    assert_int_equal(s.height, 1350);
    assert_string_equal(f.d.action, "keep");
    assert_false(s.has_exif); /* no EXIF (and so no location) left */
    assert_false(s.has_icc);
    content_fitted_release(&f);
    g_free(in.p);
}

/* A JPEG large enough to be shrunk on load (sharp's factor 2 here, a 3.7 shrink) is still turned
 * upright before it is padded: a 2000 x 5000 picture, stored so or stored on its side with
 * orientation 6, is padded left and right (blue at x = 10), its content in the middle. */
static void test_orientation_shrunk_on_load(void **state)
{
    (void)state;
    static const struct {
        int w, h, orientation;
    } cases[] = {{2000, 5000, 1}, {5000, 2000, 6}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        VipsImage *img = picture(cases[i].w, cases[i].h, false), *copy = NULL;
        assert_int_equal(vips_copy(img, &copy, NULL), 0);
        vips_image_set_int(copy, VIPS_META_ORIENTATION, cases[i].orientation);
        struct buffer in = {0};
        assert_int_equal(vips_jpegsave_buffer(copy, &in.p, &in.len, "Q", 90, NULL), 0);
        g_object_unref(copy);
        g_object_unref(img);
        struct content_fit_opts o = {.mode = CONTENT_FIT_PAD, .pad = {0, 0, 255}, .has_pad = true};
        struct content_fitted f;
        char why[CONTENT_WHY_MAX];
        assert_int_equal(content_fit_image(in.p, in.len, &o, &f, why), ERR_OK);
        assert_string_equal(f.d.action, "pad");
        VipsImage *out = vips_image_new_from_buffer(f.jpeg, f.len, "", NULL);
        assert_non_null(out);
        assert_int_equal(vips_image_get_width(out), 1080);
        assert_int_equal(vips_image_get_height(out), 1350);
        double *edge = NULL, *middle = NULL;
        int n = 0;
        assert_int_equal(vips_getpoint(out, &edge, &n, 10, 675, NULL), 0);
        assert_int_equal(vips_getpoint(out, &middle, &n, 540, 675, NULL), 0);
        assert_int_equal(n, 3);
        assert_true(edge[0] < 10 && edge[1] < 10 && edge[2] > 245);       /* the pad */
        assert_true(middle[0] > 60 || middle[1] > 60 || middle[2] < 190); /* not the pad */
        g_free(edge);
        g_free(middle);
        g_object_unref(out);
        content_fitted_release(&f);
        g_free(in.p);
    }
}

/* An image with an embedded (non-sRGB) profile comes out sRGB without the profile. */
static void test_profile_converted(void **state)
{
    (void)state;
    VipsImage *img = picture(800, 800, false), *p3 = NULL;
    /* Converted to libvips' built-in Display P3 profile, which stays attached. */
    int rc = vips_icc_transform(img, &p3, "p3", "input_profile", "srgb", NULL);
    g_object_unref(img);
    if (rc != 0) {
        vips_error_clear();
        print_message("no ICC support in this libvips: skipped\n");
        return;
    }
    struct buffer in = {0};
    assert_int_equal(vips_jpegsave_buffer(p3, &in.p, &in.len, NULL), 0);
    g_object_unref(p3);
    struct content_fit_opts o = {.mode = CONTENT_FIT_PAD};
    struct content_fitted f;
    char why[CONTENT_WHY_MAX];
    assert_int_equal(content_fit_image(in.p, in.len, &o, &f, why), ERR_OK);
    assert_true(f.d.had_profile);
    struct seen s = look(&f);
    assert_false(s.has_icc);
    assert_int_equal(s.interpretation, VIPS_INTERPRETATION_sRGB);
    content_fitted_release(&f);
    g_free(in.p);
}

/* ---- caps ---- */

static void test_size_cap_steps_quality(void **state)
{
    (void)state;
    struct buffer in = make(1440, 1800, "png", false);
    struct content_fit_opts o = {.mode = CONTENT_FIT_PAD, .width = 1440};
    struct content_fitted f;
    char why[CONTENT_WHY_MAX];
    assert_int_equal(content_fit_image(in.p, in.len, &o, &f, why), ERR_OK);
    size_t at_best = f.len;
    content_fitted_release(&f);
    o.max_bytes = at_best / 2; /* the highest quality is too big: it steps down */
    assert_int_equal(content_fit_image(in.p, in.len, &o, &f, why), ERR_OK);
    assert_true(f.len <= o.max_bytes);
    assert_true(f.d.quality < CONTENT_QUALITY_MAX);
    assert_true(f.d.quality >= CONTENT_QUALITY_MIN);
    int q = f.d.quality;
    content_fitted_release(&f);
    if (q < CONTENT_QUALITY_MAX) { /* and it is the highest that fits: one step up does not */
        o.quality = q + CONTENT_QUALITY_STEP;
        o.max_bytes = at_best / 2;
        assert_int_equal(content_fit_image(in.p, in.len, &o, &f, why), ERR_OK);
        assert_int_equal(f.d.quality, q);
        content_fitted_release(&f);
    }
    o.quality = 0;
    o.max_bytes = 1000; /* impossible */
    assert_int_equal(content_fit_image(in.p, in.len, &o, &f, why), ERR_TOO_LARGE);
    assert_non_null(strstr(why, "quality 40"));
    g_free(in.p);
}

static uint32_t crc32_of(const unsigned char *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return c ^ 0xFFFFFFFFu;
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* A PNG whose header says 20000 x 20000 (400 Mpx) is refused before any pixel is decoded. */
static void test_pixel_cap(void **state)
{
    (void)state;
    unsigned char png[8 + 25 + 18 + 12] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    unsigned char *ihdr = png + 8;
    put32(ihdr, 13);
    memcpy(ihdr + 4, "IHDR", 4);
    put32(ihdr + 8, 20000);
    put32(ihdr + 12, 20000);
    ihdr[16] = 8; /* bit depth */
    ihdr[17] = 2; /* RGB */
    put32(ihdr + 21, crc32_of(ihdr + 4, 17));
    unsigned char *idat = ihdr + 25; /* the start of a zlib stream: read no further */
    put32(idat, 6);
    memcpy(idat + 4, "IDAT\x78\x01\x00\x00\x00\x00", 10);
    put32(idat + 14, crc32_of(idat + 4, 10));
    unsigned char *iend = idat + 18;
    put32(iend, 0);
    memcpy(iend + 4, "IEND", 4);
    put32(iend + 8, crc32_of(iend + 4, 4));
    struct content_probe p;
    char why[CONTENT_WHY_MAX];
    assert_int_equal(content_probe_image(png, sizeof png, &p, why), ERR_TOO_LARGE);
    assert_non_null(strstr(why, "20000x20000"));
    struct content_fit_opts o = {0};
    struct content_fitted f;
    assert_int_equal(content_fit_image(png, sizeof png, &o, &f, why), ERR_TOO_LARGE);
}

static void test_malformed(void **state)
{
    (void)state;
    struct buffer jpeg = make(900, 900, "jpeg", false), png = make(900, 900, "png", false);
    static const char gif[] = "GIF89a\x01\x00\x01\x00\x00\x00\x00;";
    static const char svg[] = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"/>";
    const struct {
        const void *p;
        size_t len;
        const char *words;
    } cases[] = {
        {"", 0, "not an image"},
        {"hello, this is text", 19, "not an image"},
        {gif, sizeof gif - 1, "not an image"}, /* a format we do not take */
        {svg, sizeof svg - 1, "not an image"},
        {jpeg.p, 200, "image"},                /* a JPEG cut short */
        {jpeg.p, jpeg.len - 300, "image"},
        {png.p, 100, "image"},
        {png.p, png.len / 2, "image"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct content_fit_opts o = {.mode = CONTENT_FIT_CROP};
        struct content_fitted f;
        char why[CONTENT_WHY_MAX];
        /* an exact-size copy, so a read past the end is an ASan report */
        void *copy = malloc(cases[i].len ? cases[i].len : 1);
        memcpy(copy, cases[i].p, cases[i].len);
        enum err rc = content_fit_image(copy, cases[i].len, &o, &f, why);
        free(copy);
        print_message("case %zu: %s (%s)\n", i, err_name(rc), why);
        assert_int_equal(rc, ERR_INVALID);
        assert_non_null(strstr(why, cases[i].words));
    }
    g_free(jpeg.p);
    g_free(png.p);
}

static void test_decision_json(void **state)
{
    (void)state;
    struct content_fit_decision d = {.format = "png", .src_width = 700, .src_height = 1000,
                                     .orientation = 1, .src_ratio = 0.7, .ratio = 0.8,
                                     .action = "crop", .width = 1080, .height = 1350,
                                     .quality = 95, .bytes = 123456};
    struct arena a;
    arena_init(&a);
    const char *j = content_fit_decision_json(&a, &d);
    assert_non_null(strstr(j, "\"action\":\"crop\""));
    assert_non_null(strstr(j, "\"quality\":95"));
    assert_non_null(strstr(j, "\"bytes\":123456"));
    assert_non_null(strstr(j, "\"ratio\":0.8000"));
    arena_release(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_heif),
        cmocka_unit_test(test_ratios),
        cmocka_unit_test(test_plan),
        cmocka_unit_test(test_orientation_and_metadata),
        cmocka_unit_test(test_orientation_shrunk_on_load),
        cmocka_unit_test(test_profile_converted),
        cmocka_unit_test(test_size_cap_steps_quality),
        cmocka_unit_test(test_pixel_cap),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_decision_json),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
