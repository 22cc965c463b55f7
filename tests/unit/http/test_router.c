/*
 * tests/unit/http/test_router.c - route matching: literals, {params}, trailing *, 404 vs 405,
 * and the one err -> status table.
 */
#include "http/http_int.h"

#include "testutil.h"

static void h(struct http_req *r, void *ctx)
{
    (void)r;
    (void)ctx;
}

static const struct http_route routes[] = {
    {HTTP_GET, "/webhooks/meta", h, NULL, 0},
    {HTTP_POST, "/webhooks/meta", h, NULL, 1 << 20},
    {HTTP_GET, "/meta/data-deletion/{code}", h, NULL, 0},
    {HTTP_GET | HTTP_POST, "/api/conversations/{id}/messages", h, NULL, 0},
    {HTTP_GET, "/web/*", h, NULL, 0},
};

static void test_matching(void **state)
{
    (void)state;
    static const struct {
        enum http_method m;
        const char *path;
        int route;         /* index, or -1 */
        bool path_matched; /* for -1: 405 rather than 404 */
        const char *param, *value;
    } cases[] = {
        {HTTP_GET, "/webhooks/meta", 0, true, NULL, NULL},
        {HTTP_POST, "/webhooks/meta", 1, true, NULL, NULL},
        {HTTP_DELETE, "/webhooks/meta", -1, true, NULL, NULL},
        {HTTP_GET, "/webhooks/meta/", -1, false, NULL, NULL},
        {HTTP_GET, "/webhooks/metaX", -1, false, NULL, NULL},
        {HTTP_GET, "/meta/data-deletion/abc123", 2, true, "code", "abc123"},
        {HTTP_GET, "/meta/data-deletion/", -1, false, NULL, NULL},
        {HTTP_GET, "/meta/data-deletion/a/b", -1, false, NULL, NULL},
        {HTTP_POST, "/api/conversations/42/messages", 3, true, "id", "42"},
        {HTTP_GET, "/web/app.js", 4, true, NULL, NULL},
        {HTTP_GET, "/web/", 4, true, NULL, NULL},
        {HTTP_GET, "/", -1, false, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct arena a;
        arena_init(&a);
        struct route_params p;
        bool matched = false;
        const struct http_route *r = route_match(routes, sizeof routes / sizeof routes[0],
                                                 cases[i].path, cases[i].m, &a, &p, &matched);
        int got = r ? (int)(r - routes) : -1;
        if (got != cases[i].route)
            fail_msg("%s: route %d, wanted %d", cases[i].path, got, cases[i].route);
        if (got < 0)
            assert_int_equal(matched, cases[i].path_matched);
        if (cases[i].param)
            assert_string_equal(route_param(&p, cases[i].param), cases[i].value);
        arena_release(&a);
    }
}

static void test_status_table(void **state)
{
    (void)state;
    static const struct {
        enum err rc;
        int status;
    } cases[] = {{ERR_OK, 200},       {ERR_INVALID, 400},   {ERR_AUTH, 403},  {ERR_NOT_FOUND, 404},
                 {ERR_CONFLICT, 409}, {ERR_TOO_LARGE, 413}, {ERR_AGAIN, 503}, {ERR_IO, 503},
                 {ERR_UPSTREAM, 502}, {ERR_INTERNAL, 500}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(http_status_for(cases[i].rc), cases[i].status);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matching),
        cmocka_unit_test(test_status_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
