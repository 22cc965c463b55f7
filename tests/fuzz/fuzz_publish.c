/*
 * tests/fuzz/fuzz_publish.c - the Instagram publishing answers' parsers (meta/publish.h:
 * container status, content_publishing_limit, created ids, Graph timestamps) on whatever the
 * bytes parse to, and the caption rules (content_caption_check, content_caption_count) on the
 * bytes as text, and the images API's answer (content_parse_image_answer).
 *
 * Properties: never crashes or reads past the input; a parsed status is one of the enum's
 * values with its text; a parsed quota is not negative; a caption accepted is within 2,200
 * characters, 30 hashtags and 20 mentions; a refused one says why.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "content/content.h"
#include "meta/publish.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(bool cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_publish: %s\n", what);
        abort();
    }
}

static void check_json(const uint8_t *data, size_t size)
{
    json_t *root = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (!root)
        return;
    struct arena a;
    arena_init(&a);
    struct meta_container_state st;
    if (meta_parse_container_status(&a, root, &st) == ERR_OK) {
        require(st.code >= META_CONTAINER_UNKNOWN && st.code <= META_CONTAINER_PUBLISHED, "code");
        require(st.code_text != NULL, "no status_code text");
        require(strlen(meta_container_status_name(st.code)) > 0, "no name");
    }
    int64_t usage = -1, total = -1;
    if (meta_parse_publishing_limit(root, &usage, &total) == ERR_OK)
        require(usage >= 0 && total >= 0, "negative quota");
    const char *id = NULL;
    if (meta_parse_created_id(&a, root, &id) == ERR_OK)
        require(id && *id, "empty id");
    int64_t ms = 0;
    const char *ts = json_string_value(json_object_get(root, "timestamp"));
    if (ts && meta_parse_graph_time(ts, &ms) == ERR_OK)
        require(ms >= 0, "time before 1970");
    arena_release(&a);
    json_decref(root);
}

static void check_caption(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    char why[CONTENT_WHY_MAX];
    struct content_caption_counts c;
    content_caption_count(text, &c);
    enum err rc = content_caption_check(text, why);
    require(rc == ERR_OK || rc == ERR_INVALID, "caption code");
    if (rc == ERR_OK)
        require(c.chars <= CONTENT_CAPTION_MAX_CHARS && c.hashtags <= CONTENT_HASHTAGS_MAX &&
                    c.mentions <= CONTENT_MENTIONS_MAX,
                "a caption over the limits accepted");
    else
        require(why[0] != '\0', "a refusal without words");
    int64_t ms = 0;
    if (meta_parse_graph_time(text, &ms) == ERR_OK)
        require(ms >= 0, "time before 1970");
    free(text);
}

/* The images API's answer (content/generate.c). */
static void check_image_answer(const uint8_t *data, size_t size)
{
    struct arena a;
    arena_init(&a);
    unsigned char *bytes = NULL;
    size_t n = 0;
    const char *url = NULL;
    char why[CONTENT_WHY_MAX];
    enum err rc = content_parse_image_answer(&a, (const char *)data, size, &bytes, &n, &url, why);
    require(rc == ERR_OK || rc == ERR_UPSTREAM || rc == ERR_TOO_LARGE, "image answer code");
    if (rc == ERR_OK)
        require((bytes != NULL) != (url != NULL), "an answer is bytes or a URL");
    else
        require(why[0] && !bytes && !url, "a refusal without words");
    free(bytes);
    arena_release(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_json(data, size);
    check_image_answer(data, size);
    check_caption(data, size);
    return 0;
}
