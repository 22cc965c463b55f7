/*
 * tests/unit/meta/test_usage.c - meta_parse_usage_header() on the header values of
 * meta-platform.md section 3.2, the ones recorded in the fixtures, and malformed ones.
 */
#include "meta/graph.h"

#include "testutil.h"

#define APP  "X-App-Usage"
#define BUC  "X-Business-Use-Case-Usage"
#define PAGE "X-Page-Usage"

static void test_header_values(void **state)
{
    (void)state;
    static const struct {
        const char *name, *value;
        enum err rc;
        int max_pct, regain_min;
    } cases[] = {
        /* 3.2, verbatim */
        {APP, "{\"call_count\":28,\"total_time\":25,\"total_cputime\":25}", ERR_OK, 28, 0},
        {BUC,
         "{\"1234567890\":[{\"type\":\"pages\",\"call_count\":97,\"total_cputime\":23,"
         "\"total_time\":23,\"estimated_time_to_regain_access\":0}]}",
         ERR_OK, 97, 0},
        /* the header seen beside a (#4) error: values pass 100 */
        {APP, "{\"call_count\":68,\"total_cputime\":0,\"total_time\":208}", ERR_OK, 208, 0},
        /* throttled: the estimate is in minutes */
        {BUC,
         "{\"104000000000001\":[{\"type\":\"messenger\",\"call_count\":100,\"total_cputime\":4,"
         "\"total_time\":9,\"estimated_time_to_regain_access\":15}]}",
         ERR_OK, 100, 15},
        /* several objects and types: the worst of all */
        {BUC,
         "{\"1\":[{\"type\":\"pages\",\"call_count\":10,\"estimated_time_to_regain_access\":0},"
         "{\"type\":\"instagram\",\"call_count\":3,\"total_time\":61,"
         "\"estimated_time_to_regain_access\":2}],"
         "\"2\":[{\"type\":\"messenger\",\"call_count\":40,\"estimated_time_to_regain_access\":7}]"
         "}",
         ERR_OK, 61, 7},
        {PAGE, "{\"call_count\":100,\"total_cputime\":12,\"total_time\":30}", ERR_OK, 100, 0},
        /* any case, as HTTP allows */
        {"x-app-usage", "{\"call_count\":1}", ERR_OK, 1, 0},
        {"X-BUSINESS-USE-CASE-USAGE", "{}", ERR_OK, 0, 0},
        /* tolerated oddities */
        {APP, "{\"call_count\":\"45\",\"total_time\":\"x\"}", ERR_OK, 45, 0},
        {APP, "{\"call_count\":99.2}", ERR_OK, 100, 0},
        {APP, "{\"call_count\":-5,\"total_time\":3}", ERR_OK, 3, 0},
        {APP, "{\"call_count\":1e30}", ERR_OK, META_USAGE_PCT_MAX, 0},
        {APP, "{\"call_count\":99999999999999}", ERR_OK, META_USAGE_PCT_MAX, 0},
        {BUC, "{\"1\":[{\"estimated_time_to_regain_access\":99999999}]}", ERR_OK, 0,
         META_USAGE_REGAIN_MAX},
        {BUC, "{\"1\":{\"call_count\":12}}", ERR_OK, 12, 0},
        {BUC, "{\"1\":[7,\"x\",{\"call_count\":5}]}", ERR_OK, 5, 0},
        {APP, "{\"call_count\":null,\"total_time\":[1],\"total_cputime\":{}}", ERR_OK, 0, 0},
        /* malformed */
        {APP, "", ERR_INVALID, 0, 0},
        {APP, "not json", ERR_INVALID, 0, 0},
        {APP, "[1,2]", ERR_INVALID, 0, 0},
        {APP, "{\"call_count\":", ERR_INVALID, 0, 0},
        {APP, "28", ERR_INVALID, 0, 0},
        {BUC, "{\"1\":\"x\"}", ERR_INVALID, 0, 0},
        {BUC, "{\"1\":5}", ERR_INVALID, 0, 0},
        {"X-Ad-Account-Usage", "{\"acc_id_util_pct\":9}", ERR_INVALID, 0, 0},
        {"Content-Type", "{\"call_count\":1}", ERR_INVALID, 0, 0},
        {NULL, "{\"call_count\":1}", ERR_INVALID, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct meta_usage u = {0};
        const char *v = cases[i].value;
        enum err rc = meta_parse_usage_header(cases[i].name, v, strlen(v), &u);
        if (rc != cases[i].rc || u.max_pct != cases[i].max_pct ||
            u.regain_min != cases[i].regain_min || u.is_present != (rc == ERR_OK))
            fail_msg("case %zu (%s: %s): rc %d max %d regain %d", i, cases[i].name, v, rc,
                     u.max_pct, u.regain_min);
    }
}

/* Headers merge: the worst metric and the longest estimate win; a bad header changes nothing. */
static void test_merge(void **state)
{
    (void)state;
    struct meta_usage u = {0};
    static const char app[] = "{\"call_count\":70,\"total_time\":10}";
    static const char buc[] = "{\"5\":[{\"call_count\":20,\"estimated_time_to_regain_access\":3}]}";
    assert_int_equal(meta_parse_usage_header(APP, app, strlen(app), &u), ERR_OK);
    assert_int_equal(meta_parse_usage_header(BUC, buc, strlen(buc), &u), ERR_OK);
    assert_int_equal(u.max_pct, 70);
    assert_int_equal(u.regain_min, 3);
    struct meta_usage before = u;
    assert_int_equal(meta_parse_usage_header(APP, "{\"call_count\":", 14, &u), ERR_INVALID);
    assert_memory_equal(&u, &before, sizeof u);
}

/* The value is a length, not a C string: bytes past len are never read. */
static void test_length_bound(void **state)
{
    (void)state;
    static const char v[] = "{\"call_count\":12}{\"call_count\":99}";
    struct meta_usage u = {0};
    assert_int_equal(meta_parse_usage_header(APP, v, 17, &u), ERR_OK);
    assert_int_equal(u.max_pct, 12);
    size_t big = 64 * 1024 + 1;
    char *huge = malloc(big);
    memset(huge, ' ', big);
    huge[0] = '{';
    huge[big - 1] = '}';
    u = (struct meta_usage){0};
    assert_int_equal(meta_parse_usage_header(APP, huge, big, &u), ERR_INVALID);
    assert_int_equal(meta_parse_usage_header(APP, huge, big - 1, &u), ERR_INVALID); /* no '}' */
    huge[big - 2] = '}';
    assert_int_equal(meta_parse_usage_header(APP, huge, big - 1, &u), ERR_OK);
    free(huge);
}

/* The batch fixture records real X-App-Usage headers, one per item. */
static void test_batch_fixture_headers(void **state)
{
    (void)state;
    size_t len;
    char *raw = tu_fixture_read("graph/batch_response_first_item_error__restfb.json", &len);
    json_t *root = json_loadb(raw, len, 0, NULL);
    assert_non_null(root);
    int seen = 0;
    for (size_t i = 0; i < json_array_size(root); i++) {
        json_t *headers = json_object_get(json_array_get(root, i), "headers");
        for (size_t k = 0; k < json_array_size(headers); k++) {
            json_t *h = json_array_get(headers, k);
            const char *name = json_string_value(json_object_get(h, "name"));
            const char *value = json_string_value(json_object_get(h, "value"));
            struct meta_usage u = {0};
            enum err rc = meta_parse_usage_header(name, value, strlen(value), &u);
            if (!strcmp(name, "X-App-Usage")) {
                assert_int_equal(rc, ERR_OK);
                assert_int_equal(u.max_pct, 2);
                seen++;
            } else {
                assert_int_equal(rc, ERR_INVALID); /* not a usage header */
            }
        }
    }
    assert_int_equal(seen, 2);
    json_decref(root);
    free(raw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_values),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_length_bound),
        cmocka_unit_test(test_batch_fixture_headers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
