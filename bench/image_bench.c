/*
 * bench/image_bench.c - content_fit_image() in process, the way the server runs it: the file
 * read, decoded, fitted and encoded, timed per run after warm-up runs (as the sharp peer's
 * scripts/bench.js does). The Instagram benchmark's operations: a 4:5 (1080 x 1350) JPEG at
 * quality 90, letterboxed on white (pad) or cropped by attention.
 *
 *   image_bench FILE letterbox|smartcrop RUNS WARMUP THREADS [OUT.jpg]
 *
 * Prints one JSON line: median/min/p90/max ms, output bytes and size, and the fit decision.
 * Peak memory is taken from outside (/usr/bin/time -v), as for the peer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "content/content.h"
#include "core/clock.h"

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static enum err once(const char *path, const struct content_fit_opts *o, struct content_fitted *f,
                     char why[CONTENT_WHY_MAX])
{
    unsigned char *bytes = NULL;
    size_t len = 0;
    enum err rc = content_read_file(path, CONTENT_INPUT_MAX_BYTES, &bytes, &len);
    if (rc == ERR_OK)
        rc = content_fit_image(bytes, len, o, f, why);
    free(bytes);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: image_bench FILE letterbox|smartcrop RUNS WARMUP THREADS [OUT]\n");
        return 2;
    }
    const char *path = argv[1], *op = argv[2];
    int runs = atoi(argv[3]), warmup = atoi(argv[4]), threads = atoi(argv[5]);
    if (content_init(argv[0]) != ERR_OK || runs < 1)
        return 1;
    content_set_threads(threads);
    struct content_fit_opts o = {.mode = strcmp(op, "smartcrop") == 0 ? CONTENT_FIT_CROP
                                                                      : CONTENT_FIT_PAD,
                                 .width = 1080,
                                 .ratio = 0.8,
                                 .quality = 90};
    char why[CONTENT_WHY_MAX];
    struct content_fitted f = {0};
    double *ms = calloc((size_t)runs, sizeof *ms);
    for (int i = 0; i < warmup + runs; i++) {
        content_fitted_release(&f);
        int64_t t0 = clock_mono_us();
        if (once(path, &o, &f, why) != ERR_OK) {
            fprintf(stderr, "image_bench: %s: %s\n", path, why);
            return 1;
        }
        if (i >= warmup)
            ms[i - warmup] = (double)(clock_mono_us() - t0) / 1000.0;
    }
    if (argc > 6) {
        FILE *out = fopen(argv[6], "wb");
        if (out) {
            fwrite(f.jpeg, 1, f.len, out);
            fclose(out);
        }
    }
    qsort(ms, (size_t)runs, sizeof *ms, cmp);
    double median = runs % 2 ? ms[runs / 2] : (ms[runs / 2 - 1] + ms[runs / 2]) / 2;
    int p90 = (int)(0.9 * runs);
    printf("{\"tool\":\"switchboard\",\"op\":\"%s\",\"runs\":%d,\"threads\":%d,\"median_ms\":%.2f,"
           "\"min_ms\":%.2f,\"p90_ms\":%.2f,\"max_ms\":%.2f,\"out_bytes\":%zu,\"width\":%d,"
           "\"height\":%d,\"quality\":%d,\"action\":\"%s\"}\n",
           op, runs, threads, median, ms[0], ms[p90 < runs ? p90 : runs - 1], ms[runs - 1], f.len,
           f.d.width, f.d.height, f.d.quality, f.d.action);
    content_fitted_release(&f);
    free(ms);
    return 0;
}
