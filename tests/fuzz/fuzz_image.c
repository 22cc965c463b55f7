/*
 * tests/fuzz/fuzz_image.c - content_probe_image() and content_fit_image() on arbitrary bytes,
 * as an upload or a download reaches them: the format sniffing, libvips' loaders (JPEG, PNG
 * through libvips, WebP, HEIF), the pixel cap, the pipeline and the encoder.
 *
 * Properties: never crashes, hangs or reads past the input; every refusal is ERR_INVALID or
 * ERR_TOO_LARGE with words in why; a success is a JPEG (FF D8 ... FF D9) within the size cap
 * whose decision is inside Instagram's rules (width 320..1440, ratio 0.8..1.91).
 * Small output widths keep each run quick.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "content/content.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(bool cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_image: %s\n", what);
        abort();
    }
}

static void check_fitted(const struct content_fitted *f)
{
    require(f->len >= 4 && f->jpeg[0] == 0xFF && f->jpeg[1] == 0xD8, "not a JPEG");
    require(f->jpeg[f->len - 2] == 0xFF && f->jpeg[f->len - 1] == 0xD9, "JPEG not ended");
    require(f->len <= CONTENT_JPEG_MAX_BYTES && f->len == f->d.bytes, "size");
    require(f->d.width >= CONTENT_WIDTH_MIN && f->d.width <= CONTENT_WIDTH_MAX, "width");
    require(5LL * f->d.width >= 4LL * f->d.height && 100LL * f->d.width <= 191LL * f->d.height,
            "ratio outside 4:5..1.91:1");
    require(f->d.action && f->d.format, "decision incomplete");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        require(content_init("fuzz_image") == ERR_OK, "libvips did not start");
        content_set_threads(1);
        ready = true;
    }
    char why[CONTENT_WHY_MAX];
    struct content_probe probe;
    enum err rc = content_probe_image(data, size, &probe, why);
    require(rc == ERR_OK || rc == ERR_INVALID || rc == ERR_TOO_LARGE, "probe code");
    require(rc == ERR_OK || why[0], "a refusal without words");
    if (rc != ERR_OK)
        return 0;
    static const enum content_fit_mode modes[] = {CONTENT_FIT_PAD, CONTENT_FIT_CROP};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        struct content_fit_opts o = {.mode = modes[i], .width = CONTENT_WIDTH_MIN, .quality = 80};
        struct content_fitted f;
        rc = content_fit_image(data, size, &o, &f, why);
        require(rc == ERR_OK || rc == ERR_INVALID || rc == ERR_TOO_LARGE, "fit code");
        require(rc == ERR_OK || why[0], "a failure without words");
        if (rc == ERR_OK)
            check_fitted(&f);
        content_fitted_release(&f);
    }
    return 0;
}
