/*
 * emulator/emu_jpeg.h - what the emulator reads of a JPEG: the frame header's size, and
 * whether the file is one Instagram publishes (meta-platform.md §5.3: "JPEG is the only image
 * format supported. Extended JPEG formats such as MPO and JPS are not supported").
 *
 * Used by the emulator's own files only (publish.c); a pure function of untrusted bytes, with a
 * libFuzzer target (tests/fuzz/fuzz_jpeg.c).
 */
#ifndef SB_EMULATOR_EMU_JPEG_H
#define SB_EMULATOR_EMU_JPEG_H

#include <stddef.h>

#include "core/err.h"

/* Walks the marker segments of p[0..n) from SOI up to the first frame header (SOFn) and
 * stores its width and height (both 1..65535). Reads nothing past p[n - 1] and nothing past
 * the frame header, so trailing bytes never change the answer.
 *   ERR_OK         a baseline (SOF0), extended sequential (SOF1) or progressive (SOF2) 8-bit
 *                  frame; *w and *h are set
 *   ERR_INVALID    not a JPEG (no SOI: PNG, GIF, WebP...), a broken marker structure, another
 *                  coding process (lossless, hierarchical, arithmetic), a precision other than
 *                  8 bits, a bad frame header (no components, zero size), or an extended JPEG
 *                  (an MPF APP2 segment: MPO; a _JPSJPS_ APP3 segment: JPS). Final: no bytes
 *                  appended to p can turn it into ERR_OK.
 *   ERR_NOT_FOUND  no frame header before the bytes run out (empty or truncated input) or
 *                  before the first scan (SOS) or EOI.
 * *w and *h are left alone unless ERR_OK. Thread-safe; allocates nothing. */
MUST_USE enum err emu_jpeg_info(const unsigned char *p, size_t n, int *w, int *h);

#endif
