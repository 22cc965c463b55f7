/*
 * content/template.c - the built-in image renderer for businesses with no image model: brand
 * colours, a headline and a body set by Pango (vips_text), an optional logo, three layouts:
 *
 *   centered  the headline in the middle, an accent rule, the body under it
 *   split     the upper half in the accent colour with the headline, the body below
 *   banner    the headline at the top left, the body on an accent banner along the bottom
 *
 * The result is a PNG, used as any other source (it is fitted like an upload). Text is plain:
 * it is escaped before Pango reads it as markup, so "<b>" is shown, never obeyed.
 */
#include "content/content.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vips/vips.h>

#include "content/content_int.h"

#define FONT_HEADLINE "DejaVu Sans Bold"
#define FONT_BODY     "DejaVu Sans"
#define MARGIN_PCT    8

enum layout { LAYOUT_CENTERED, LAYOUT_SPLIT, LAYOUT_BANNER };

/* Fontconfig (under Pango, under vips_text) keeps its font caches for the life of the process
 * and never frees them, and libx265 (the HEIC encoder, used only by tests to make inputs)
 * keeps one block; in an AddressSanitizer build LeakSanitizer would report them at exit. The
 * sanitizer runtime asks this function for suppressions; other builds never call it. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libfontconfig\nleak:libx265\n";
}

enum err content_colour_parse(const char *s, unsigned char out[3])
{
    if (!s || s[0] != '#' || strlen(s) != 7 || strspn(s + 1, "0123456789abcdefABCDEF") != 6)
        return ERR_INVALID;
    for (int i = 0; i < 3; i++) {
        char pair[3] = {s[1 + 2 * i], s[2 + 2 * i], '\0'};
        out[i] = (unsigned char)strtoul(pair, NULL, 16);
    }
    return ERR_OK;
}

static enum err layout_of(const char *name, enum layout *out)
{
    static const char *const names[] = {"centered", "split", "banner"};
    for (int i = 0; i < 3; i++)
        if (strcmp(name ? name : "centered", names[i]) == 0) {
            *out = (enum layout)i;
            return ERR_OK;
        }
    return ERR_INVALID;
}

/* A constant image of colour c the size of like. */
static VipsImage *solid(VipsImage *like, const unsigned char c[3])
{
    double v[3] = {c[0], c[1], c[2]};
    VipsImage *img = vips_image_new_from_image(like, v, 3);
    if (img)
        img->Type = VIPS_INTERPRETATION_sRGB;
    return img;
}

struct canvas {
    VipsObject *ctx; /* holds every intermediate image */
    VipsImage *img;  /* the picture so far, 3 bands sRGB uchar */
    int width, height;
};

static VipsImage **slot(struct canvas *c)
{
    return (VipsImage **)vips_object_local_array(c->ctx, 1);
}

/* Fills the rectangle with colour. */
static int fill(struct canvas *c, int x, int y, int w, int h, const unsigned char colour[3])
{
    VipsImage **t = (VipsImage **)vips_object_local_array(c->ctx, 3);
    if (vips_black(&t[0], w, h, "bands", 3, NULL))
        return -1;
    t[0]->Type = VIPS_INTERPRETATION_sRGB;
    if (!(t[1] = solid(t[0], colour)) || vips_insert(c->img, t[1], &t[2], x, y, NULL))
        return -1;
    c->img = t[2];
    return 0;
}

/* Sets text (escaped) in colour, wrapped to width, with its top-left at (x, y) or centred
 * horizontally when centre; *bottom receives where it ends. */
static int text(struct canvas *c, const char *words, const char *font, int size, int x, int y,
                int width, bool centre, const unsigned char colour[3], int *bottom)
{
    *bottom = y;
    if (!words || !*words)
        return 0;
    char *markup = g_markup_escape_text(words, -1);
    char fontspec[96];
    snprintf(fontspec, sizeof fontspec, "%s %d", font, size);
    VipsImage **t = (VipsImage **)vips_object_local_array(c->ctx, 4);
    int rc = vips_text(&t[0], markup, "font", fontspec, "width", width, "dpi", 72, "align",
                       centre ? VIPS_ALIGN_CENTRE : VIPS_ALIGN_LOW, "wrap", VIPS_TEXT_WRAP_WORD,
                       NULL);
    g_free(markup);
    if (rc)
        return -1;
    int tw = vips_image_get_width(t[0]), th = vips_image_get_height(t[0]);
    if (y + th > c->height)
        th = c->height - y; /* too much text: cut at the edge */
    if (th <= 0)
        return 0;
    int left = centre ? (c->width - tw) / 2 : x;
    if (vips_embed(t[0], &t[1], left, y, c->width, c->height, NULL) ||
        !(t[2] = solid(c->img, colour)) ||
        vips_ifthenelse(t[1], t[2], c->img, &t[3], "blend", TRUE, NULL))
        return -1;
    c->img = t[3];
    *bottom = y + th;
    return 0;
}

/* The logo (any source image we take) scaled to a band of the canvas, at the top left. */
static int logo(struct canvas *c, const void *bytes, size_t len, int margin)
{
    if (!bytes || !len)
        return 0;
    VipsImage **t = (VipsImage **)vips_object_local_array(c->ctx, 4);
    int box = c->height / 9;
    if (vips_thumbnail_buffer((void *)(uintptr_t)bytes, len, &t[0], box, "height", box, NULL) ||
        vips_colourspace(t[0], &t[1], VIPS_INTERPRETATION_sRGB, NULL))
        return -1;
    if (vips_image_hasalpha(t[1])) {
        t[2] = t[1];
        g_object_ref(t[2]);
    } else if (vips_bandjoin_const1(t[1], &t[2], 255.0, NULL)) {
        return -1;
    }
    if (vips_composite2(c->img, t[2], &t[3], VIPS_BLEND_MODE_OVER, "x", margin, "y", margin,
                        NULL))
        return -1;
    VipsImage **u = slot(c);
    if (vips_extract_band(t[3], &u[0], 0, "n", 3, NULL))
        return -1;
    VipsImage **v = slot(c);
    if (vips_cast_uchar(u[0], &v[0], NULL))
        return -1;
    c->img = v[0];
    return 0;
}

static int draw(struct canvas *c, const struct content_template *t, enum layout lay)
{
    int m = c->width * MARGIN_PCT / 100, inner = c->width - 2 * m, y = 0;
    int hs = c->width / 14, bs = c->width / 30;
    switch (lay) {
    case LAYOUT_CENTERED:
        if (text(c, t->headline, FONT_HEADLINE, hs, m, c->height * 3 / 10, inner, true, t->fg,
                 &y) ||
            fill(c, (c->width - inner / 4) / 2, y + bs, inner / 4, bs / 3, t->accent) ||
            text(c, t->body, FONT_BODY, bs, m, y + 2 * bs, inner, true, t->fg, &y))
            return -1;
        break;
    case LAYOUT_SPLIT:
        if (fill(c, 0, 0, c->width, c->height / 2, t->accent) ||
            text(c, t->headline, FONT_HEADLINE, hs, m, c->height / 5, inner, true, t->bg, &y) ||
            text(c, t->body, FONT_BODY, bs, m, c->height / 2 + 2 * bs, inner, true, t->fg, &y))
            return -1;
        break;
    case LAYOUT_BANNER:
        if (text(c, t->headline, FONT_HEADLINE, hs, m, c->height / 5, inner, false, t->fg, &y) ||
            fill(c, 0, c->height * 3 / 4, c->width, c->height / 4, t->accent) ||
            text(c, t->body, FONT_BODY, bs, m, c->height * 3 / 4 + bs, inner, false, t->bg, &y))
            return -1;
        break;
    }
    return logo(c, t->logo, t->logo_len, m / 2);
}

enum err content_template_render(const struct content_template *t, void **png, size_t *len,
                                 char why[CONTENT_WHY_MAX])
{
    *png = NULL;
    *len = 0;
    why[0] = '\0';
    enum layout lay;
    if (layout_of(t->layout, &lay) != ERR_OK) {
        snprintf(why, CONTENT_WHY_MAX, "layout is centered, split or banner");
        return ERR_INVALID;
    }
    if (g_utf8_strlen(t->headline ? t->headline : "", -1) > CONTENT_HEADLINE_MAX ||
        g_utf8_strlen(t->body ? t->body : "", -1) > CONTENT_BODY_MAX ||
        !g_utf8_validate(t->headline ? t->headline : "", -1, NULL) ||
        !g_utf8_validate(t->body ? t->body : "", -1, NULL)) {
        snprintf(why, CONTENT_WHY_MAX, "a headline of at most %d characters and a body of at "
                 "most %d, as UTF-8 text", CONTENT_HEADLINE_MAX, CONTENT_BODY_MAX);
        return ERR_INVALID;
    }
    struct canvas c = {.ctx = VIPS_OBJECT(vips_image_new()),
                       .width = t->width > 0 ? t->width : CONTENT_WIDTH_DEFAULT,
                       .height = t->height > 0 ? t->height : CONTENT_WIDTH_DEFAULT * 5 / 4};
    VipsImage **base = slot(&c);
    int rc = vips_black(&base[0], c.width, c.height, "bands", 3, NULL);
    VipsImage **bg = slot(&c);
    if (rc == 0 && (bg[0] = solid(base[0], t->bg)) != NULL) {
        c.img = bg[0];
        rc = draw(&c, t, lay);
    } else {
        rc = -1;
    }
    if (rc == 0)
        rc = vips_pngsave_buffer(c.img, png, len, "compression", 3, NULL);
    g_object_unref(c.ctx);
    if (rc != 0) {
        char *words = vips_error_buffer_copy();
        snprintf(why, CONTENT_WHY_MAX, "the template could not be drawn: %.150s",
                 words ? words : "");
        g_free(words);
        return ERR_INVALID;
    }
    return ERR_OK;
}
