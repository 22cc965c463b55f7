/*
 * tests/fuzz/fuzz_jpeg.c - emu_jpeg_info(), the emulator's JPEG header walk, on arbitrary
 * bytes (what an image_url may serve).
 *
 * Properties: never crashes or reads outside the input (which is not NUL-terminated); the
 * only answers are OK, INVALID and NOT_FOUND; OK gives 1..65535 for both sides and leaves
 * them alone otherwise; the answer is the same twice; and it is prefix-stable: when a prefix
 * already gets OK or INVALID, the whole input gets the same answer (and the same size).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emulator/emu_jpeg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(int cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_jpeg: %s\n", what);
        abort();
    }
}

/* The answer for data[0..n), in a buffer of exactly n bytes so an overread is reported. */
static enum err info(const uint8_t *data, size_t n, int *w, int *h)
{
    uint8_t *copy = malloc(n ? n : 1);
    require(copy != NULL, "malloc");
    if (n)
        memcpy(copy, data, n);
    *w = *h = -7;
    enum err rc = emu_jpeg_info(copy, n, w, h);
    free(copy);
    require(rc == ERR_OK || rc == ERR_INVALID || rc == ERR_NOT_FOUND, "unexpected code");
    if (rc == ERR_OK)
        require(*w >= 1 && *w <= 65535 && *h >= 1 && *h <= 65535, "size out of range");
    else
        require(*w == -7 && *h == -7, "size written on failure");
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int w, h, w2, h2;
    enum err rc = info(data, size, &w, &h);
    require(info(data, size, &w2, &h2) == rc && (rc != ERR_OK || (w == w2 && h == h2)),
            "not deterministic");
    /* Prefix stability, checked at a few cut points chosen by the input's own bytes. */
    size_t cuts[3] = {size / 2, size ? data[0] % (size + 1) : 0, size ? size - 1 : 0};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        enum err prc = info(data, cuts[i], &w2, &h2);
        if (prc == ERR_INVALID)
            require(rc == ERR_INVALID, "an invalid prefix became valid");
        if (prc == ERR_OK)
            require(rc == ERR_OK && w == w2 && h == h2, "more bytes changed a found frame");
    }
    return 0;
}
