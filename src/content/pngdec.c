/*
 * content/pngdec.c - a PNG straight into a libvips memory image (content_int.h).
 *
 * Why: libvips 8.14 reads PNG through libpng and zlib, row by row; here the whole zlib stream
 * is inflated in one call by libdeflate (about twice zlib's speed, with SIMD Adler-32 and
 * CRC-32), then the rows are unfiltered in place (SSE2 for 3- and 4-byte pixels, the common
 * photos) and packed, leaving an ordinary uchar image for the rest of the pipeline.
 *
 * Takes: 8-bit grey, grey + alpha, RGB and RGBA, not interlaced, with no palette, tRNS, iCCP
 * or eXIf chunk (no transparency key, profile or orientation to apply) and no unknown
 * critical chunk. Everything else, and every PNG found wrong here (a bad CRC, a stream that
 * does not inflate to exactly the image, an unknown filter, no IEND), is left to libvips'
 * own loader, which then reads it or says what is wrong in its words: the fast path never
 * changes which files are taken.
 * Memory: the image (width * height * bands bytes, freed when the image closes) and, only
 * while inflating a stream split over several IDAT chunks, one joined copy of it.
 */
#include "content/content_int.h"

#include <libdeflate.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

struct png_layout {
    uint32_t width, height;
    int bands;
    size_t first_idat; /* offset of the first IDAT chunk */
    size_t idat_len;   /* its data and that of the IDAT chunks right after it */
    int n_idat;
};

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool is_type(const unsigned char *type, const char *name)
{
    return memcmp(type, name, 4) == 0;
}

/* Whether a chunk's CRC (over its type and data) is right. */
static bool crc_ok(const unsigned char *chunk, uint32_t n)
{
    return libdeflate_crc32(0, chunk + 4, (size_t)n + 4) == be32(chunk + 8 + n);
}

static bool take_ihdr(const unsigned char *chunk, uint32_t n, struct png_layout *l)
{
    static const int bands_of[7] = {1, 0, 3, 0, 2, 0, 4}; /* by colour type; 0: not taken */
    if (!is_type(chunk + 4, "IHDR") || n != 13 || !crc_ok(chunk, n))
        return false;
    const unsigned char *d = chunk + 8;
    l->width = be32(d);
    l->height = be32(d + 4);
    int depth = d[8], colour = d[9];
    /* compression 0, filter method 0, no interlace */
    if (depth != 8 || colour > 6 || d[10] != 0 || d[11] != 0 || d[12] != 0)
        return false;
    l->bands = bands_of[colour];
    return l->bands > 0 && l->width > 0 && l->height > 0;
}

/* 1: the chunk is fine to pass over, 0: not this decoder's PNG, 2: IEND. */
static int other_chunk(const unsigned char *chunk)
{
    const unsigned char *type = chunk + 4;
    if (is_type(type, "IEND"))
        return 2;
    if (is_type(type, "tRNS") || is_type(type, "iCCP") || is_type(type, "eXIf") ||
        is_type(type, "PLTE"))
        return 0;
    return (type[0] & 0x20) != 0; /* ancillary (lower case first letter): skipped */
}

/* Walks the chunks: true when the PNG is one this decoder takes, its layout in l. */
static bool scan(const unsigned char *p, size_t len, struct png_layout *l)
{
    static const unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    memset(l, 0, sizeof *l);
    if (len < 8 || memcmp(p, signature, 8) != 0)
        return false;
    size_t off = 8;
    bool idat_ended = false;
    while (len - off >= 12) {
        uint32_t n = be32(p + off);
        if (n > 0x7FFFFFFFu || n > len - off - 12)
            return false;
        const unsigned char *chunk = p + off;
        if (off == 8) {
            if (!take_ihdr(chunk, n, l))
                return false;
        } else if (is_type(chunk + 4, "IDAT")) {
            if (idat_ended || !crc_ok(chunk, n))
                return false; /* IDAT chunks must follow one another */
            if (l->n_idat++ == 0)
                l->first_idat = off;
            l->idat_len += n;
        } else {
            idat_ended = l->n_idat > 0;
            int kind = other_chunk(chunk);
            if (kind != 1)
                return kind == 2 && l->n_idat > 0;
        }
        off += (size_t)n + 12;
    }
    return false; /* no IEND: cut short */
}

/* The zlib stream, contiguous: in place for one IDAT chunk, else joined into *joined. */
static const unsigned char *stream_of(const unsigned char *p, const struct png_layout *l,
                                      unsigned char **joined)
{
    *joined = NULL;
    if (l->n_idat == 1)
        return p + l->first_idat + 8;
    unsigned char *z = g_try_malloc(l->idat_len ? l->idat_len : 1);
    if (!z)
        return NULL;
    size_t off = l->first_idat, at = 0;
    for (int i = 0; i < l->n_idat; i++) {
        uint32_t n = be32(p + off);
        memcpy(z + at, p + off + 8, n);
        at += n;
        off += (size_t)n + 12;
    }
    *joined = z;
    return z;
}

/* ---- unfiltering (PNG section 9), in place: row y's filtered bytes start at
 * y * (stride + 1) + 1 and its pixels are written at y * stride, at or before them, each
 * byte read before any write reaches it. ---- */

static unsigned char paeth(int a, int b, int c)
{
    int pa = abs(b - c), pb = abs(a - c), pc = abs(a + b - 2 * c);
    return (unsigned char)(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
}

/* Any pixel size, byte by byte; up is NULL on the first row (a row of zeros). */
static void unfilter_bytes(unsigned char *dst, const unsigned char *src, const unsigned char *up,
                           size_t stride, int bpp, int filter)
{
    for (size_t i = 0; i < stride; i++) {
        int a = i >= (size_t)bpp ? dst[i - bpp] : 0;
        int b = up ? up[i] : 0;
        int c = up && i >= (size_t)bpp ? up[i - bpp] : 0;
        int x = src[i];
        switch (filter) {
        case 1:
            x += a;
            break;
        case 2:
            x += b;
            break;
        case 3:
            x += (a + b) >> 1;
            break;
        case 4:
            x += paeth(a, b, c);
            break;
        default:
            break;
        }
        dst[i] = (unsigned char)x;
    }
}

#ifdef __SSE2__
static __m128i load_px(const unsigned char *p, int bpp)
{
    uint32_t v = 0;
    memcpy(&v, p, (size_t)bpp);
    return _mm_cvtsi32_si128((int)v);
}

static void store_px(unsigned char *p, __m128i v, int bpp)
{
    uint32_t u = (uint32_t)_mm_cvtsi128_si32(v);
    memcpy(p, &u, (size_t)bpp);
}

static __m128i abs16(__m128i v)
{
    return _mm_max_epi16(v, _mm_sub_epi16(_mm_setzero_si128(), v));
}

/* Sub, Avg and Paeth for 3- or 4-byte pixels, a pixel at a time (each needs its left
 * neighbour's result), the channels side by side in 16-bit lanes. */
static void unfilter_pixels(unsigned char *dst, const unsigned char *src, const unsigned char *up,
                            size_t stride, int bpp, int filter)
{
    const __m128i zero = _mm_setzero_si128();
    __m128i a = zero, c = zero; /* left and upper left, widened */
    for (size_t i = 0; i < stride; i += (size_t)bpp) {
        __m128i x = load_px(src + i, bpp);
        __m128i b = up ? _mm_unpacklo_epi8(load_px(up + i, bpp), zero) : zero;
        __m128i pred;
        if (filter == 1) {
            pred = a;
        } else if (filter == 3) {
            pred = _mm_srli_epi16(_mm_add_epi16(a, b), 1);
        } else {
            __m128i pa = _mm_sub_epi16(b, c), pb = _mm_sub_epi16(a, c);
            __m128i pc = abs16(_mm_add_epi16(pa, pb));
            pa = abs16(pa);
            pb = abs16(pb);
            __m128i least = _mm_min_epi16(_mm_min_epi16(pa, pb), pc);
            __m128i is_a = _mm_cmpeq_epi16(least, pa), is_b = _mm_cmpeq_epi16(least, pb);
            __m128i b_or_c = _mm_or_si128(_mm_and_si128(is_b, b), _mm_andnot_si128(is_b, c));
            pred = _mm_or_si128(_mm_and_si128(is_a, a), _mm_andnot_si128(is_a, b_or_c));
        }
        __m128i out = _mm_add_epi8(x, _mm_packus_epi16(pred, zero));
        store_px(dst + i, out, bpp);
        a = _mm_unpacklo_epi8(out, zero);
        c = b;
    }
}

/* Up, 16 bytes at a time: each block is loaded before its (earlier or equal) store. */
static void unfilter_up(unsigned char *dst, const unsigned char *src, const unsigned char *up,
                        size_t stride)
{
    size_t i = 0;
    for (; i + 16 <= stride; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(src + i));
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(up + i));
        _mm_storeu_si128((__m128i *)(void *)(dst + i), _mm_add_epi8(x, b));
    }
    for (; i < stride; i++)
        dst[i] = (unsigned char)(src[i] + up[i]);
}
#endif

static void unfilter_row(unsigned char *dst, const unsigned char *src, const unsigned char *up,
                         size_t stride, int bpp, int filter)
{
    if (filter == 0 || (filter == 2 && !up)) {
        memmove(dst, src, stride);
        return;
    }
#ifdef __SSE2__
    if (filter == 2) {
        unfilter_up(dst, src, up, stride);
        return;
    }
    if (bpp >= 3) {
        unfilter_pixels(dst, src, up, stride, bpp, filter);
        return;
    }
#endif
    unfilter_bytes(dst, src, up, stride, bpp, filter);
}

/* All rows, packed to stride bytes each; false on a filter type that does not exist. */
static bool unfilter(unsigned char *raw, size_t stride, uint32_t height, int bpp)
{
    for (uint32_t y = 0; y < height; y++) {
        const unsigned char *src = raw + (size_t)y * (stride + 1);
        unsigned char *dst = raw + (size_t)y * stride;
        int filter = src[0];
        if (filter > 4)
            return false;
        unfilter_row(dst, src + 1, y ? dst - stride : NULL, stride, bpp, filter);
    }
    return true;
}

/* ---- the image ---- */

static void free_pixels(VipsImage *image, void *pixels)
{
    (void)image;
    g_free(pixels);
}

/* The pixels inflated and unfiltered, or NULL (g_free() it). */
static unsigned char *decode(const unsigned char *p, const struct png_layout *l)
{
    size_t stride = (size_t)l->width * (size_t)l->bands;
    size_t raw_len = (stride + 1) * l->height;
    unsigned char *raw = g_try_malloc(raw_len), *joined;
    const unsigned char *z = raw ? stream_of(p, l, &joined) : NULL;
    struct libdeflate_decompressor *d = z ? libdeflate_alloc_decompressor() : NULL;
    /* exactly raw_len bytes, or it is not the image the header describes */
    bool ok = d && libdeflate_zlib_decompress(d, z, l->idat_len, raw, raw_len, NULL) ==
                       LIBDEFLATE_SUCCESS;
    if (d)
        libdeflate_free_decompressor(d);
    if (z)
        g_free(joined);
    if (ok)
        ok = unfilter(raw, stride, l->height, l->bands);
    if (!ok) {
        g_free(raw);
        return NULL;
    }
    return raw;
}

VipsImage *content_png_fast(const void *bytes, size_t len, const struct content_probe *probe)
{
    struct png_layout l;
    if (!probe->format || strcmp(probe->format, "png") != 0 || probe->has_profile ||
        probe->orientation != 1 || !scan(bytes, len, &l))
        return NULL;
    if ((int64_t)l.width * l.height > CONTENT_MAX_PIXELS)
        return NULL; /* the probe refuses it first; never decoded here */
    unsigned char *pixels = decode(bytes, &l);
    if (!pixels)
        return NULL;
    size_t size = (size_t)l.width * l.height * (size_t)l.bands;
    VipsImage *img = vips_image_new_from_memory(pixels, size, (int)l.width, (int)l.height, l.bands,
                                                VIPS_FORMAT_UCHAR);
    if (!img) {
        g_free(pixels);
        vips_error_clear();
        return NULL;
    }
    g_signal_connect(img, "postclose", G_CALLBACK(free_pixels), pixels);
    img->Type = l.bands < 3 ? VIPS_INTERPRETATION_B_W : VIPS_INTERPRETATION_sRGB;
    return img;
}
