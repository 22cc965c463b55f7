/*
 * content/content_int.h - shared by the content module's own files; nothing outside
 * src/content/ includes it.
 */
#ifndef SB_CONTENT_INT_H
#define SB_CONTENT_INT_H

#include <vips/vips.h>

#include "content/content.h"

/* pngdec.c: a PNG decoded straight into a libvips memory image (faster than the libpng
 * loader), for the shapes it handles: 8-bit grey, grey+alpha, RGB, RGBA, non-interlaced.
 * 0 with *out NULL: not such a PNG, use libvips' loader; 0 with *out: the image (a new
 * reference); -1: the PNG is malformed (libvips' error buffer says why). */
int content_png_fast(const void *bytes, size_t len, const struct content_probe *probe,
                     VipsImage **out);

/* post.c: the post's step chain, its next job at run_at_ms (in the caller's transaction). */
MUST_USE enum err content_post_queue_step(struct store *s, int64_t post_id, int64_t run_at_ms,
                                          int64_t now_ms);

#endif
