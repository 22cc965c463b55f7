/*
 * tests/unit/agent/test_tools.c - SB_TOOLS_FILE: the file checked field by field at start,
 * the tools offered to the model (handoff_to_human first), the request a call makes (the URL
 * template with each argument URL-encoded, the rest in the query for GET or a JSON body for
 * POST, ${VAR} headers), and calls against a tool server started here: the answer truncated
 * to 8 KiB on a character boundary (also an answer of megabytes), a 404 given to the model, a 5xx
 * or no answer a failure.
 */
#include "agent/agent_int.h"

#include "testutil.h"

#include <stdatomic.h>

#include "http/http.h"

static struct arena A;

static int setup(void **state)
{
    (void)state;
    arena_init(&A);
    setenv("SB_TEST_SHOP_KEY", "s3cret", 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    arena_release(&A);
    return 0;
}

#define ORDER_TOOL                                                                                 \
    "{\"name\":\"order_status\",\"description\":\"Look up an order by its number\","               \
    "\"parameters\":{\"type\":\"object\",\"properties\":{\"order_id\":{\"type\":\"string\"},"      \
    "\"email\":{\"type\":\"string\"}},\"required\":[\"order_id\"]},\"method\":\"GET\","            \
    "\"url\":\"%s/api/orders/{order_id}\",\"headers\":{\"Authorization\":\"Bearer "                \
    "${SB_TEST_SHOP_KEY}\"},\"timeout_ms\":2000}"

static const struct {
    const char *file, *why; /* why: a piece of the one-line reason; NULL: accepted */
} files[] = {
    {"{\"tools\":[]}", NULL},
    {"not json", "not JSON"},
    {"{\"tools\":{}}", "expected {\"tools\""},
    {"{\"tools\":[{\"name\":\"bad "
     "name\",\"description\":\"d\",\"parameters\":{\"type\":\"object\"},"
     "\"method\":\"GET\",\"url\":\"https://x.example\"}]}",
     "tools[0]: name"},
    {"{\"tools\":[{\"name\":\"handoff_to_human\",\"description\":\"d\",\"parameters\":{\"type\":"
     "\"object\"},\"method\":\"GET\",\"url\":\"https://x.example\"}]}",
     "built in"},
    {"{\"tools\":[{\"name\":\"t\",\"description\":\"d\",\"parameters\":{\"type\":\"object\"},"
     "\"method\":\"PUT\",\"url\":\"https://x.example\"}]}",
     "method must be GET or POST"},
    {"{\"tools\":[{\"name\":\"t\",\"description\":\"d\",\"parameters\":{\"type\":\"string\"},"
     "\"method\":\"GET\",\"url\":\"https://x.example\"}]}",
     "parameters must be"},
    {"{\"tools\":[{\"name\":\"t\",\"description\":\"d\",\"parameters\":{\"type\":\"object\"},"
     "\"method\":\"GET\",\"url\":\"ftp://x.example\"}]}",
     "url must start"},
    {"{\"tools\":[{\"name\":\"t\",\"description\":\"d\",\"parameters\":{\"type\":\"object\"},"
     "\"method\":\"GET\",\"url\":\"https://x.example/{id}\"}]}",
     "names {id}"},
    {"{\"tools\":[{\"name\":\"t\",\"description\":\"d\",\"parameters\":{\"type\":\"object\"},"
     "\"method\":\"GET\",\"url\":\"https://x.example\",\"headers\":{\"X-Key\":\"${SB_NOT_SET_EVER}"
     "\"}}]}",
     "${SB_NOT_SET_EVER}, which is not set"},
    {"{\"tools\":[{\"name\":\"t\",\"description\":\"d\",\"parameters\":{\"type\":\"object\"},"
     "\"method\":\"GET\",\"url\":\"https://x.example\",\"timeout_ms\":0}]}",
     "timeout_ms"},
    {"{\"tools\":[{\"name\":\"t\",\"description\":\"d\",\"parameters\":{\"type\":\"object\"},"
     "\"method\":\"GET\",\"url\":\"https://x.example\"},{\"name\":\"t\",\"description\":\"d\","
     "\"parameters\":{\"type\":\"object\"},\"method\":\"GET\",\"url\":\"https://x.example\"}]}",
     "used twice"},
};

static void test_parse(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        struct agent_tools ts;
        char why[AGENT_WHY_MAX] = "";
        enum err rc = agent_tools_parse(files[i].file, strlen(files[i].file), &ts, why);
        if (!files[i].why) {
            if (rc != ERR_OK)
                fail_msg("case %zu refused: %s", i, why);
            agent_tools_release(&ts);
        } else if (rc == ERR_OK || !strstr(why, files[i].why) ||
                   strncmp(why, "SB_TOOLS_FILE", 13)) {
            fail_msg("case %zu: %s, why \"%s\"", i, err_name(rc), why);
        }
    }
}

static struct agent_tools load(const char *base, const char *extra)
{
    const char *file = arena_printf(&A, "{\"tools\":[" ORDER_TOOL "%s]}", base, extra ? extra : "");
    struct agent_tools ts;
    char why[AGENT_WHY_MAX];
    assert_int_equal(agent_tools_parse(file, strlen(file), &ts, why), ERR_OK);
    return ts;
}

static void test_offered_and_requests(void **state)
{
    (void)state;
    struct agent_tools ts = load("https://shop.example",
                                 ",{\"name\":\"refund\",\"description\":\"Ask for a refund\","
                                 "\"parameters\":{\"type\":\"object\",\"properties\":{\"order_id\":"
                                 "{\"type\":\"string\"}}},\"method\":\"POST\",\"url\":"
                                 "\"https://shop.example/api/refunds?src=dm\"}");
    assert_int_equal(ts.n, 2);
    assert_string_equal(ts.tools[0].headers[0], "Authorization: Bearer s3cret");
    json_t *offered = agent_tools_json(&ts);
    assert_int_equal(json_array_size(offered), 3);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_array_get(offered, 0), "function"), "name")),
                        "handoff_to_human");
    json_t *fn = json_object_get(json_array_get(offered, 1), "function");
    assert_string_equal(json_string_value(json_object_get(fn, "name")), "order_status");
    assert_non_null(json_object_get(json_object_get(fn, "parameters"), "properties"));
    json_decref(offered);

    struct agent_tool_req req;
    const char *why = NULL;
    assert_int_equal(agent_tool_request(&A, &ts.tools[0],
                                        "{\"order_id\":\"NW 10/428\",\"email\":\"a+b@x.example\"}",
                                        &req, &why),
                     ERR_OK);
    assert_string_equal(req.url,
                        "https://shop.example/api/orders/NW%2010%2F428?email=a%2Bb%40x.example");
    assert_null(req.body);
    assert_int_equal(
        agent_tool_request(&A, &ts.tools[1], "{\"order_id\":\"NW-1\",\"n\":2}", &req, &why),
        ERR_OK);
    assert_string_equal(req.url, "https://shop.example/api/refunds?src=dm");
    assert_string_equal(req.body, "{\"n\":2,\"order_id\":\"NW-1\"}");
    /* the model's mistakes go back to it as words */
    assert_int_equal(agent_tool_request(&A, &ts.tools[0], "{}", &req, &why), ERR_INVALID);
    assert_non_null(strstr(why, "order_id"));
    assert_int_equal(agent_tool_request(&A, &ts.tools[0], "[1]", &req, &why), ERR_INVALID);
    assert_int_equal(agent_tool_request(&A, &ts.tools[0], "{\"order_id\":\"..\"}", &req, &why),
                     ERR_INVALID);
    agent_tools_release(&ts);
}

/* ---- calls against a tool server ---- */

struct shop {
    struct http_server *http;
    int port;
    atomic_int calls;
    char last_auth[64], last_path[256];
};

static void on_order(struct http_req *req, void *ctx)
{
    struct shop *s = ctx;
    atomic_fetch_add(&s->calls, 1);
    const char *auth = http_req_header(req, "Authorization");
    snprintf(s->last_auth, sizeof s->last_auth, "%s", auth ? auth : "");
    snprintf(s->last_path, sizeof s->last_path, "%s", http_req_path(req));
    const char *id = http_req_param(req, "id");
    if (strcmp(id, "big") == 0) {
        static char big[20001] = "x";
        for (size_t i = 1; i + 2 < sizeof big; i += 2)
            memcpy(big + i, "\xc3\xa9", 2); /* é: the cut must not split one */
        http_reply(req, 200, "text/plain", big, sizeof big - 2);
    } else if (strcmp(id, "huge") == 0) { /* 3 MiB: more than any cap of the client */
        size_t n = (size_t)3 << 20;
        char *huge = malloc(n);
        memset(huge, 'y', n);
        http_reply(req, 200, "text/plain", huge, n);
        free(huge);
    } else if (strcmp(id, "missing") == 0) {
        http_reply(req, 404, "application/json", "{\"error\":\"no such order\"}", 25);
    } else if (strcmp(id, "broken") == 0) {
        http_reply_text(req, 503, "down");
    } else {
        http_reply(req, 200, "application/json", "{\"status\":\"shipped\"}", 20);
    }
}

static void test_run(void **state)
{
    (void)state;
    struct shop *s = calloc(1, sizeof *s);
    static struct http_route route;
    route = (struct http_route){HTTP_GET, "/api/orders/{id}", on_order, s, 0};
    struct http_server_opts o = {.host = "127.0.0.1", .port = 0, .threads = 1};
    assert_int_equal(http_server_start(&o, &route, 1, &s->http), ERR_OK);
    s->port = http_server_port(s->http);
    struct agent_tools ts = load(arena_printf(&A, "http://127.0.0.1:%d", s->port), NULL);
    bool failed = true;
    const char *r = agent_tool_run(&A, &ts.tools[0], "{\"order_id\":\"NW-10428\"}", &failed);
    assert_string_equal(r, "{\"status\":\"shipped\"}");
    assert_false(failed);
    assert_string_equal(s->last_auth, "Bearer s3cret");
    assert_string_equal(s->last_path, "/api/orders/NW-10428");
    r = agent_tool_run(&A, &ts.tools[0], "{\"order_id\":\"big\"}", &failed);
    assert_int_equal(strlen(r), 8191); /* "x" and 4095 whole é: 8192 would split one */
    assert_false(failed);
    /* INTERFACE.md: the body "truncated to 8 KiB" is the result, however long the answer */
    r = agent_tool_run(&A, &ts.tools[0], "{\"order_id\":\"huge\"}", &failed);
    assert_int_equal(strlen(r), 8192);
    assert_int_equal(r[0], 'y');
    assert_false(failed);
    r = agent_tool_run(&A, &ts.tools[0], "{\"order_id\":\"missing\"}", &failed);
    assert_string_equal(r, "HTTP 404: {\"error\":\"no such order\"}");
    assert_false(failed);
    r = agent_tool_run(&A, &ts.tools[0], "{\"order_id\":\"broken\"}", &failed);
    assert_true(failed);
    assert_non_null(strstr(r, "503"));
    int before = atomic_load(&s->calls);
    r = agent_tool_run(&A, &ts.tools[0], "{\"email\":\"x\"}", &failed); /* not even sent */
    assert_false(failed);
    assert_int_equal(atomic_load(&s->calls), before);
    http_server_stop(s->http);
    r = agent_tool_run(&A, &ts.tools[0], "{\"order_id\":\"NW-1\"}", &failed); /* nobody there */
    assert_true(failed);
    agent_tools_release(&ts);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_offered_and_requests),
        cmocka_unit_test(test_run),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
