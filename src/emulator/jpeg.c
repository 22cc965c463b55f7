/*
 * emulator/jpeg.c - the JPEG header walk behind emu_jpeg_info(): SOI, then marker segments
 * (ITU T.81 B.1.1: 0xFF, optional 0xFF fill bytes, a marker code, a big-endian length that
 * counts itself) until the frame header.
 *
 * Owns: telling a publishable JPEG from anything else, and its size. Does not own: decoding
 * (nothing past the frame header is read), fetching, or Meta's error objects (publish.c).
 * Every read is checked against n before it is made; a decision is taken only on a whole
 * segment, so a prefix of a stream never receives an answer the whole stream would not
 * (except ERR_NOT_FOUND, which more bytes may change).
 */
#include "emulator/emu_jpeg.h"

#include <stdbool.h>
#include <string.h>

enum {
    M_SOF0 = 0xC0, /* baseline */
    M_SOF1 = 0xC1, /* extended sequential */
    M_SOF2 = 0xC2, /* progressive */
    M_DHT = 0xC4,
    M_JPG = 0xC8,
    M_DAC = 0xCC,
    M_RST0 = 0xD0,
    M_RST7 = 0xD7,
    M_SOI = 0xD8,
    M_EOI = 0xD9,
    M_SOS = 0xDA,
    M_APP2 = 0xE2,
    M_APP3 = 0xE3,
    M_TEM = 0x01,
};

#define FRAME_FIXED    6 /* P, Y (2), X (2), Nf */
#define FRAME_MAX_COMP 4

static unsigned be16(const unsigned char *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

/* SOF0..SOF15, less the three codes in that range that are not frame headers. */
static bool is_sof(unsigned m)
{
    return m >= 0xC0 && m <= 0xCF && m != M_DHT && m != M_JPG && m != M_DAC;
}

/* Markers that stand alone, without a length: TEM and RST0..RST7. */
static bool is_standalone(unsigned m)
{
    return m == M_TEM || (m >= M_RST0 && m <= M_RST7);
}

/* An APP segment that makes the file an extended JPEG: MPO (CIPA DC-007 "MPF\0" in APP2)
 * or stereo JPS ("_JPSJPS_" in APP3). */
static bool is_extended(unsigned m, const unsigned char *seg, size_t len)
{
    if (m == M_APP2 && len >= 4 && memcmp(seg, "MPF\0", 4) == 0)
        return true;
    return m == M_APP3 && len >= 8 && memcmp(seg, "_JPSJPS_", 8) == 0;
}

/* The frame header's payload (after the length): P Y X Nf, then Nf x (C, H/V, Tq). */
static enum err read_frame(unsigned m, const unsigned char *seg, size_t len, int *w, int *h)
{
    if (m != M_SOF0 && m != M_SOF1 && m != M_SOF2)
        return ERR_INVALID; /* lossless, hierarchical or arithmetic-coded */
    if (len < FRAME_FIXED)
        return ERR_INVALID;
    unsigned precision = seg[0], y = be16(seg + 1), x = be16(seg + 3), nf = seg[5];
    if (precision != 8 || nf == 0 || nf > FRAME_MAX_COMP || len != FRAME_FIXED + 3 * (size_t)nf)
        return ERR_INVALID;
    if (x == 0 || y == 0) /* y == 0 defers the height to a DNL marker: not supported */
        return ERR_INVALID;
    *w = (int)x;
    *h = (int)y;
    return ERR_OK;
}

/* The next marker code at p[*i] (skipping fill bytes); *i ends past it. */
static enum err next_marker(const unsigned char *p, size_t n, size_t *i, unsigned *m)
{
    if (*i >= n)
        return ERR_NOT_FOUND;
    if (p[*i] != 0xFF)
        return ERR_INVALID; /* a marker was due */
    while (*i < n && p[*i] == 0xFF)
        (*i)++;
    if (*i >= n)
        return ERR_NOT_FOUND;
    *m = p[(*i)++];
    if (*m == 0x00 || *m == M_SOI)
        return ERR_INVALID; /* a stuffed zero outside a scan, or a second SOI */
    return ERR_OK;
}

enum err emu_jpeg_info(const unsigned char *p, size_t n, int *w, int *h)
{
    if (n == 0)
        return ERR_NOT_FOUND;
    if (p[0] != 0xFF || (n > 1 && p[1] != M_SOI))
        return ERR_INVALID;
    if (n < 2)
        return ERR_NOT_FOUND; /* a prefix of SOI */
    size_t i = 2;
    for (;;) {
        unsigned m = 0;
        enum err rc = next_marker(p, n, &i, &m);
        if (rc != ERR_OK)
            return rc;
        if (m == M_SOS || m == M_EOI)
            return ERR_NOT_FOUND; /* a scan or the end before any frame */
        if (is_standalone(m))
            continue;
        if (n - i < 2)
            return ERR_NOT_FOUND;
        size_t len = be16(p + i);
        if (len < 2)
            return ERR_INVALID;
        if (n - i < len)
            return ERR_NOT_FOUND;
        const unsigned char *seg = p + i + 2;
        if (is_sof(m))
            return read_frame(m, seg, len - 2, w, h);
        if (is_extended(m, seg, len - 2))
            return ERR_INVALID;
        i += len;
    }
}
