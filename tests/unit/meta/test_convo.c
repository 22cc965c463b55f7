/*
 * tests/unit/meta/test_convo.c - the Conversations API answer (meta/convo.h) as Meta documents
 * it (meta-platform.md 7): conversations newest first, each message's author and text, the
 * customer among the participants, attachments by mime type; Meta's time format.
 */
#include "meta/convo.h"

#include "testutil.h"

static const struct {
    const char *text;
    bool ok;
    int64_t ms;
} times[] = {
    {"2026-09-01T10:00:00+0000", true, 1788256800000LL},
    {"2026-09-01T10:00:00Z", true, 1788256800000LL},
    {"2026-09-01T12:00:00+02:00", true, 1788256800000LL},
    {"2026-09-01T04:30:00-0530", true, 1788256800000LL},
    {"2026-09-01T10:00:00.123Z", true, 1788256800000LL},
    {"2026-09-01T10:00:00.Z", false, 0},
    {"2026-13-01T10:00:00+0000", false, 0},
    {"2026-09-01 10:00:00+0000", false, 0},
    {"2026-09-01T10:00:00", false, 0},
    {"2026-09-01T10:00:00+00000", false, 0},
    {"", false, 0},
};

static void test_times(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
        int64_t ms = 0;
        bool ok = meta_parse_graph_time(times[i].text, &ms) == ERR_OK;
        if (ok != times[i].ok || (ok && ms != times[i].ms))
            fail_msg("%s: ok %d ms %lld", times[i].text, ok, (long long)ms);
    }
    int64_t ms;
    assert_int_equal(meta_parse_graph_time(NULL, &ms), ERR_INVALID);
}

static const char ANSWER[] =
    "{\"data\":[{\"id\":\"t_1\",\"updated_time\":\"2026-09-01T10:00:00+0000\","
    "\"participants\":{\"data\":[{\"name\":\"Northwind\",\"id\":\"104\"},{\"name\":\"Maya\","
    "\"id\":\"7001\"}]},\"messages\":{\"data\":["
    "{\"id\":\"m_2\",\"created_time\":\"2026-09-01T10:00:00+0000\",\"from\":{\"id\":\"104\"},"
    "\"message\":\"We ship to Canada.\"},"
    "{\"id\":\"m_1\",\"created_time\":\"2026-09-01T09:59:00+0000\",\"from\":{\"id\":7001},"
    "\"message\":\"do you ship?\",\"attachments\":{\"data\":[{\"mime_type\":\"image/jpeg\","
    "\"image_data\":{\"url\":\"https://cdn.example/a.jpg\"}},{\"name\":\"doc.pdf\","
    "\"file_url\":\"https://cdn.example/d.pdf\"}]}},"
    "{\"created_time\":\"2026-09-01T09:58:00+0000\",\"message\":\"no id: skipped\"}]}},"
    "{\"id\":\"t_2\",\"messages\":{\"data\":[{\"id\":\"m_9\",\"from\":{\"id\":\"7002\"},"
    "\"message\":\"\"}]}},"
    "{\"updated_time\":\"2026-09-01T10:00:00+0000\"}]}";

static void test_parse(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    json_t *root = json_loads(ANSWER, 0, NULL);
    assert_non_null(root);
    struct meta_convo *cv;
    size_t n;
    assert_int_equal(meta_parse_conversations(&a, root, "104", &cv, &n), ERR_OK);
    assert_int_equal(n, 2); /* the third has no id */
    assert_string_equal(cv[0].id, "t_1");
    assert_true(cv[0].updated_ms == 1788256800000LL);
    assert_string_equal(cv[0].customer_id, "7001");
    assert_int_equal(cv[0].n_msgs, 2);
    assert_true(cv[0].msgs[0].is_business);
    assert_string_equal(cv[0].msgs[0].text, "We ship to Canada.");
    assert_false(cv[0].msgs[1].is_business);
    assert_string_equal(cv[0].msgs[1].from_id, "7001"); /* a number, as text */
    assert_int_equal(cv[0].msgs[1].n_attachments, 2);
    assert_string_equal(cv[0].msgs[1].attachments[0].type, "image");
    assert_string_equal(cv[0].msgs[1].attachments[0].url, "https://cdn.example/a.jpg");
    assert_string_equal(cv[0].msgs[1].attachments[1].type, "file");
    /* no participants: the customer is the author of a customer message */
    assert_string_equal(cv[1].customer_id, "7002");
    assert_null(cv[1].msgs[0].text); /* an empty text is none */
    assert_true(cv[1].updated_ms == 0);
    json_decref(root);
    root = json_loads("{\"error\":{\"code\":100}}", 0, NULL);
    assert_int_equal(meta_parse_conversations(&a, root, "104", &cv, &n), ERR_INVALID);
    assert_int_equal(n, 0);
    json_decref(root);
    arena_release(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
