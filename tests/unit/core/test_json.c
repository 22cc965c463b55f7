/*
 * tests/unit/core/test_json.c - the hot-path JSON validator: what it accepts and rejects,
 * and that whatever it accepts, jansson (the parser behind it) loads.
 */
#include "core/json.h"

#include "testutil.h"

static const char *const valid[] = {
    "{}",
    "[]",
    " {\"a\" : [1, -2.5e+3, true, false, null, \"x\"]} ",
    "\"str\"",
    "0",
    "-0",
    "1.5E-7",
    "{\"e\":\"\\ud83d\\udc51 \\u2764\\ufe0f\"}",
    "{\"u\":\"https:\\/\\/x\"}",
    "{\"k\":\"caf\xc3\xa9 \xf0\x9f\x91\x91\"}",
    "[9223372036854775807]",
    "[-9223372036854775808]",
    "{\"a\":{\"b\":{\"c\":[[[]]]}}}",
    "\t\r\n[1]\n",
};

static const struct {
    const char *doc, *reason;
} invalid[] = {
    {"", "unexpected end of input"},
    {"{", "expected object key"},
    {"{\"a\":1,}", "expected object key"},
    {"[1,]", "unexpected character"},
    {"{'a':1}", "expected object key"},
    {"{\"a\" 1}", "expected ':'"},
    {"[1 2]", "expected ',' or ']'"},
    {"01", "trailing data after JSON value"},
    {"1.", "invalid number"},
    {"-", "invalid number"},
    {"1e", "invalid number"},
    {"tru", "invalid literal"},
    {"[NaN]", "unexpected character"},
    {"\"abc", "unterminated string"},
    {"\"a\tb\"", "control character in string"},
    {"\"\\x\"", "invalid escape"},
    {"\"\\u12\"", "truncated \\u escape"},
    {"\"\\u12zz\"", "invalid \\u escape"},
    {"\"\\u0000\"", "\\u0000 is not allowed"},
    {"\"\\udc51\"", "lone low surrogate"},
    {"\"\\ud83d\"", "lone high surrogate"},
    {"\"\\ud83d\\u0041\"", "invalid surrogate pair"},
    {"\"\xc3\"", "invalid UTF-8"},
    {"\"\xc3", "truncated UTF-8"},
    {"\"\xc0\xaf\"", "invalid UTF-8"},
    {"\"\xed\xa0\x80\"", "invalid UTF-8"},
    {"\"\xf4\x90\x80\x80\"", "invalid UTF-8"},
    {"[9223372036854775808]", "number out of range"},
    {"[1e999]", "number out of range"},
    {"{} {}", "trailing data after JSON value"},
};

static void test_valid(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++) {
        struct json_error e = {0};
        if (json_validate(valid[i], strlen(valid[i]), JSON_MAX_DEPTH, &e) != ERR_OK)
            fail_msg("rejected %s: %s at %zu", valid[i], e.reason, e.offset);
        json_error_t je;
        json_t *v = json_loadb(valid[i], strlen(valid[i]), JSON_DECODE_ANY, &je);
        if (!v)
            fail_msg("jansson disagrees on %s: %s", valid[i], je.text);
        json_decref(v);
    }
}

static void test_invalid(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
        struct json_error e = {0};
        const char *doc = invalid[i].doc;
        if (json_validate(doc, strlen(doc), JSON_MAX_DEPTH, &e) != ERR_INVALID)
            fail_msg("accepted %s", doc);
        if (!e.reason || strcmp(e.reason, invalid[i].reason) != 0)
            fail_msg("%s: reason '%s', wanted '%s'", doc, e.reason ? e.reason : "(null)",
                     invalid[i].reason);
        json_error_t je;
        json_t *v = json_loadb(doc, strlen(doc), JSON_DECODE_ANY, &je);
        if (v)
            fail_msg("jansson accepts what we reject: %s", doc);
    }
}

static void test_depth_and_embedded_nul(void **state)
{
    (void)state;
    char deep[2 * (JSON_MAX_DEPTH + 1) + 1];
    for (int i = 0; i <= JSON_MAX_DEPTH; i++) {
        deep[i] = '[';
        deep[2 * (JSON_MAX_DEPTH + 1) - 1 - i] = ']';
    }
    deep[2 * (JSON_MAX_DEPTH + 1)] = '\0';
    struct json_error e = {0};
    assert_int_equal(json_validate(deep, strlen(deep), JSON_MAX_DEPTH, &e), ERR_INVALID);
    assert_string_equal(e.reason, "nesting too deep");
    assert_int_equal(json_validate(deep + 1, strlen(deep) - 2, JSON_MAX_DEPTH, &e), ERR_OK);
    /* A NUL byte in the body is data, not a terminator. */
    assert_int_equal(json_validate("{}\0x", 4, JSON_MAX_DEPTH, &e), ERR_INVALID);
    assert_int_equal(json_validate("[\"a\0\"]", 6, JSON_MAX_DEPTH, &e), ERR_INVALID);
}

static void test_accessors(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    json_t *o = json_loads("{\"s\":\"x\",\"n\":1929931607227568,\"ts\":\"1527459824\","
                           "\"r\":1.0,\"b\":1,\"f\":false,\"bad\":\"12x\"}",
                           0, NULL);
    assert_non_null(o);
    assert_string_equal(json_get_str(o, "s"), "x");
    assert_null(json_get_str(o, "n"));
    assert_string_equal(json_get_id(&a, o, "n"), "1929931607227568");
    assert_string_equal(json_get_id(&a, o, "s"), "x");
    assert_null(json_get_id(&a, o, "missing"));
    int64_t v = 0;
    assert_true(json_get_i64(o, "ts", &v));
    assert_int_equal(v, 1527459824);
    assert_true(json_get_i64(o, "r", &v));
    assert_int_equal(v, 1);
    assert_false(json_get_i64(o, "bad", &v));
    assert_true(json_get_bool(o, "b", false));
    assert_false(json_get_bool(o, "f", true));
    assert_true(json_get_bool(o, "missing", true));
    assert_string_equal(json_dump_arena(&a, json_object_get(o, "s")), "\"x\"");
    json_decref(o);
    arena_release(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_depth_and_embedded_nul),
        cmocka_unit_test(test_accessors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
