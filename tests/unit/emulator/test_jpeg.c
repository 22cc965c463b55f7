/*
 * tests/unit/emulator/test_jpeg.c - emu_jpeg_info(): the JPEG header walk the emulator uses
 * to accept or refuse an image_url (meta-platform.md §5.3).
 *
 * The byte strings are written out by hand from ITU T.81 B.1 (marker codes, segment
 * lengths, the frame header layout); the real files under tests/fuzz/corpus/jpeg/ were made
 * by libjpeg-turbo's cjpeg and jpegtran from images of a known size. Every input is copied
 * into a buffer of exactly its length, so a read past the end is an ASan report.
 */
#include "emulator/emu_jpeg.h"

#include "testutil.h"

/* Adjacent literals keep a hex escape from swallowing the next character ("\x08" "Exif"). */
#define SOI "\xFF\xD8"
#define EOI "\xFF\xD9"
#define APP0                                                                                       \
    "\xFF\xE0\x00\x10"                                                                             \
    "JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
#define EXIF                                                                                       \
    "\xFF\xE1\x00\x08"                                                                             \
    "Exif\x00\x00"
#define ICC                                                                                        \
    "\xFF\xE2\x00\x10"                                                                             \
    "ICC_PROFILE\x00\x01\x01"
#define COM                                                                                        \
    "\xFF\xFE\x00\x05"                                                                             \
    "hi!"
#define DQT "\xFF\xDB\x00\x05\x00\x01\x01" /* cut short of 64 entries: never looked into */
#define DHT                                                                                        \
    "\xFF\xC4\x00\x14\x00"                                                                         \
    "\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"                             \
    "\x00"
#define DAC "\xFF\xCC\x00\x04\x00\x10"
#define SOS "\xFF\xDA\x00\x08\x01\x01\x00\x00\x3F\x00"
#define MPF                                                                                        \
    "\xFF\xE2\x00\x0A"                                                                             \
    "MPF\x00"                                                                                      \
    "MM\x00\x2A"
#define JPS                                                                                        \
    "\xFF\xE3\x00\x0E"                                                                             \
    "_JPSJPS_"                                                                                     \
    "\x00\x04\x00\x00"
/* Frame headers: marker code, then height and width as two bytes each. */
#define SOF_RGB(code, y, x)                                                                        \
    "\xFF" code "\x00\x11\x08" y x "\x03"                                                          \
    "\x01\x22\x00\x02\x11\x01\x03\x11\x01"
#define SOF_GRAY(code, y, x) "\xFF" code "\x00\x0B\x08" y x "\x01\x01\x11\x00"
#define H480                 "\x01\xE0"
#define W640                 "\x02\x80"

#define B(s) s, sizeof(s) - 1

static const struct {
    const char *name;
    const char *bytes;
    size_t len;
    enum err rc;
    int w, h;
} cases[] = {
    /* what Instagram takes */
    {"baseline", B(SOI APP0 DQT SOF_RGB("\xC0", H480, W640) DHT SOS), ERR_OK, 640, 480},
    {"progressive", B(SOI APP0 SOF_RGB("\xC2", H480, W640) SOS), ERR_OK, 640, 480},
    {"extended sequential, gray", B(SOI SOF_GRAY("\xC1", "\x00\x07", "\x00\x0D")), ERR_OK, 13, 7},
    {"Exif, ICC, comment, DHT, DAC first",
     B(SOI EXIF ICC COM DHT DAC SOF_RGB("\xC0", "\x04\x38", "\x05\x46")), ERR_OK, 1350, 1080},
    {"fill bytes before a marker", B(SOI "\xFF\xFF\xFF" SOF_RGB("\xC0", H480, W640)), ERR_OK, 640,
     480},
    {"RST0 and TEM stand alone", B(SOI "\xFF\xD0\xFF\x01" SOF_RGB("\xC0", H480, W640)), ERR_OK, 640,
     480},
    {"nothing after the frame", B(SOI SOF_GRAY("\xC0", "\x00\x01", "\x00\x01")), ERR_OK, 1, 1},
    {"garbage after the frame", B(SOI SOF_GRAY("\xC0", H480, W640) "\x00\x00GIF89a"), ERR_OK, 640,
     480},
    {"largest size", B(SOI SOF_RGB("\xC2", "\xFF\xFF", "\xFF\xFF")), ERR_OK, 65535, 65535},
    {"APP2 that is not MPF",
     B(SOI "\xFF\xE2\x00\x06"
           "MPFX" SOF_RGB("\xC0", H480, W640)),
     ERR_OK, 640, 480},
    /* other coding processes */
    {"lossless SOF3", B(SOI SOF_RGB("\xC3", H480, W640)), ERR_INVALID, 0, 0},
    {"differential SOF5", B(SOI SOF_RGB("\xC5", H480, W640)), ERR_INVALID, 0, 0},
    {"arithmetic SOF9", B(SOI SOF_RGB("\xC9", H480, W640)), ERR_INVALID, 0, 0},
    {"arithmetic progressive SOF10", B(SOI SOF_RGB("\xCA", H480, W640)), ERR_INVALID, 0, 0},
    {"differential lossless SOF15", B(SOI SOF_RGB("\xCF", H480, W640)), ERR_INVALID, 0, 0},
    /* extended JPEG */
    {"MPO (MPF in APP2)", B(SOI APP0 MPF SOF_RGB("\xC0", H480, W640)), ERR_INVALID, 0, 0},
    {"JPS (_JPSJPS_ in APP3)", B(SOI APP0 JPS SOF_RGB("\xC0", H480, W640)), ERR_INVALID, 0, 0},
    /* not JPEG at all */
    {"PNG", B("\x89PNG\r\n\x1A\n\x00\x00\x00\x0DIHDR"), ERR_INVALID, 0, 0},
    {"GIF", B("GIF89a\x80\x02\xE0\x01"), ERR_INVALID, 0, 0},
    {"WebP", B("RIFF\x1A\x00\x00\x00WEBPVP8L"), ERR_INVALID, 0, 0},
    {"BMP", B("BM\x36\x00\x00\x00"), ERR_INVALID, 0, 0},
    {"FF then not D8", B("\xFF\xD9"), ERR_INVALID, 0, 0},
    {"text", B("<html>"), ERR_INVALID, 0, 0},
    /* no frame header */
    {"empty", "", 0, ERR_NOT_FOUND, 0, 0},
    {"half an SOI", B("\xFF"), ERR_NOT_FOUND, 0, 0},
    {"SOI alone", B(SOI), ERR_NOT_FOUND, 0, 0},
    {"SOI then EOI", B(SOI EOI), ERR_NOT_FOUND, 0, 0},
    {"a scan before any frame", B(SOI APP0 SOS "\x00\x00" EOI), ERR_NOT_FOUND, 0, 0},
    {"ends in fill bytes", B(SOI "\xFF\xFF"), ERR_NOT_FOUND, 0, 0},
    {"ends inside a length", B(SOI "\xFF\xE0\x00"), ERR_NOT_FOUND, 0, 0},
    {"segment longer than the data", B(SOI "\xFF\xE0\x01\x00JFIF"), ERR_NOT_FOUND, 0, 0},
    {"frame header cut short", B(SOI "\xFF\xC0\x00\x11\x08\x01\xE0\x02"), ERR_NOT_FOUND, 0, 0},
    /* broken structure */
    {"segment length 0", B(SOI "\xFF\xE0\x00\x00" SOF_RGB("\xC0", H480, W640)), ERR_INVALID, 0, 0},
    {"segment length 1", B(SOI "\xFF\xE0\x00\x01" SOF_RGB("\xC0", H480, W640)), ERR_INVALID, 0, 0},
    {"bytes where a marker is due", B(SOI "\x00\x00" SOF_RGB("\xC0", H480, W640)), ERR_INVALID, 0,
     0},
    {"FF00 outside a scan", B(SOI "\xFF\x00" SOF_RGB("\xC0", H480, W640)), ERR_INVALID, 0, 0},
    {"a second SOI", B(SOI SOI SOF_RGB("\xC0", H480, W640)), ERR_INVALID, 0, 0},
    /* bad frame headers */
    {"width 0", B(SOI SOF_RGB("\xC0", H480, "\x00\x00")), ERR_INVALID, 0, 0},
    {"height 0 (DNL)", B(SOI SOF_RGB("\xC0", "\x00\x00", W640)), ERR_INVALID, 0, 0},
    {"12-bit samples", B(SOI "\xFF\xC1\x00\x0B\x0C" H480 W640 "\x01\x01\x11\x00"), ERR_INVALID, 0,
     0},
    {"no components", B(SOI "\xFF\xC0\x00\x08\x08" H480 W640 "\x00"), ERR_INVALID, 0, 0},
    {"five components",
     B(SOI "\xFF\xC0\x00\x17\x08" H480 W640 "\x05\x01\x11\x00\x02\x11\x00\x03\x11\x00\x04\x11\x00"
           "\x05\x11\x00"),
     ERR_INVALID, 0, 0},
    {"length disagrees with components", B(SOI "\xFF\xC0\x00\x0B\x08" H480 W640 "\x03\x01\x11\x00"),
     ERR_INVALID, 0, 0},
    {"frame header too short", B(SOI "\xFF\xC0\x00\x07\x08" H480 W640), ERR_INVALID, 0, 0},
};

#define N_CASES (sizeof cases / sizeof cases[0])

/* emu_jpeg_info() over an exact-size copy of p[0..n). */
static enum err run(const char *p, size_t n, int *w, int *h)
{
    unsigned char *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    if (n)
        memcpy(copy, p, n);
    enum err rc = emu_jpeg_info(copy, n, w, h);
    free(copy);
    return rc;
}

static void test_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_CASES; i++) {
        int w = -1, h = -1;
        enum err rc = run(cases[i].bytes, cases[i].len, &w, &h);
        if (rc != cases[i].rc)
            fail_msg("%s: got %s, want %s", cases[i].name, err_name(rc), err_name(cases[i].rc));
        if (rc == ERR_OK && (w != cases[i].w || h != cases[i].h))
            fail_msg("%s: got %dx%d, want %dx%d", cases[i].name, w, h, cases[i].w, cases[i].h);
        if (rc != ERR_OK && (w != -1 || h != -1))
            fail_msg("%s: size written on failure", cases[i].name);
    }
}

/* Every prefix of every case: an answer of OK or INVALID on a prefix is the whole input's
 * answer, since no later byte may change it; a prefix of a valid header is NOT_FOUND. */
static void test_prefixes(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_CASES; i++) {
        for (size_t k = 0; k < cases[i].len; k++) {
            int w = -1, h = -1;
            enum err rc = run(cases[i].bytes, k, &w, &h);
            if (rc == ERR_NOT_FOUND)
                continue;
            if (rc != cases[i].rc)
                fail_msg("%s: %zu-byte prefix gave %s, the whole input %s", cases[i].name, k,
                         err_name(rc), err_name(cases[i].rc));
            if (rc == ERR_OK && (w != cases[i].w || h != cases[i].h))
                fail_msg("%s: %zu-byte prefix gave %dx%d", cases[i].name, k, w, h);
        }
    }
}

/* Files made by libjpeg-turbo (and one by tests/integration/jpegs.py), from the seed corpus. */
static void test_real_files(void **state)
{
    (void)state;
    static const struct {
        const char *file;
        enum err rc;
        int w, h;
    } files[] = {
        {"cjpeg_baseline_420_40x30.jpg", ERR_OK, 40, 30},
        {"cjpeg_progressive_33x17.jpg", ERR_OK, 33, 17},
        {"cjpeg_gray_restart_40x30.jpg", ERR_OK, 40, 30},
        {"jpegtran_progressive_64x80.jpg", ERR_OK, 64, 80},
        {"py_exif_icc_comment.jpg", ERR_OK, 48, 36},
        {"py_padded_after_eoi.jpg", ERR_OK, 10, 10},
        {"cjpeg_arithmetic_33x17.jpg", ERR_INVALID, 0, 0},
        {"py_mpo_first_image.jpg", ERR_INVALID, 0, 0},
        {"png_header.png", ERR_INVALID, 0, 0},
        {"webp_header.webp", ERR_INVALID, 0, 0},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[256];
        snprintf(path, sizeof path, "tests/fuzz/corpus/jpeg/%s", files[i].file);
        size_t len = 0;
        char *data = tu_read_file(path, &len);
        if (!data)
            fail_msg("missing %s (run from the repository root)", path);
        int w = 0, h = 0;
        enum err rc = run(data, len, &w, &h);
        free(data);
        if (rc != files[i].rc || (rc == ERR_OK && (w != files[i].w || h != files[i].h)))
            fail_msg("%s: got %s %dx%d, want %s %dx%d", files[i].file, err_name(rc), w, h,
                     err_name(files[i].rc), files[i].w, files[i].h);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_prefixes),
        cmocka_unit_test(test_real_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
