/*
 * content/pngdec.c - PNG straight into a libvips memory image (content_int.h). Not built yet:
 * every PNG goes through libvips' own loader.
 */
#include "content/content_int.h"

int content_png_fast(const void *bytes, size_t len, const struct content_probe *probe,
                     VipsImage **out)
{
    (void)bytes;
    (void)len;
    (void)probe;
    *out = NULL;
    return 0;
}
