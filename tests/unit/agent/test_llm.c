/*
 * tests/unit/agent/test_llm.c - the LLM path of a turn against an OpenAI-compatible server
 * started here, which answers from a script (replies, tool calls, errors, slow answers) and
 * keeps every request so the test can read what was sent: the system prompt (persona with the
 * business and tone, rules, passages with their source, the customer), the history, the
 * tools, the tool results with their tool_call_id. Also the parsers of answers and error
 * bodies in the shapes OpenAI, llama.cpp's server, Ollama and vLLM use.
 */
#include "world.h"

#include <pthread.h>
#include <stdatomic.h>

#include "agent/agent_int.h"
#include "core/clock.h"
#include "http/http.h"

/* ---- parsers ---- */

static void test_parse_reply(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    static const struct {
        const char *body, *content, *call, *args;
        int64_t prompt;
    } cases[] = {
        /* OpenAI */
        {"{\"id\":\"c1\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,\"message\":"
         "{\"role\":\"assistant\",\"content\":\"Hi there.\",\"refusal\":null},\"finish_reason\":"
         "\"stop\"}],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":3,\"total_tokens\":15}}",
         "Hi there.", NULL, NULL, 12},
        /* OpenAI tool call: content null, arguments a JSON string */
        {"{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{"
         "\"id\":\"call_abc\",\"type\":\"function\",\"function\":{\"name\":\"order_status\","
         "\"arguments\":\"{\\\"order_id\\\":\\\"NW-1\\\"}\"}}]},\"finish_reason\":\"tool_calls\"}]"
         "}",
         NULL, "order_status", "{\"order_id\":\"NW-1\"}", 0},
        /* Ollama: arguments an object, no id, no usage */
        {"{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{"
         "\"function\":{\"name\":\"order_status\",\"arguments\":{\"order_id\":\"NW-2\"}}}]},"
         "\"finish_reason\":\"stop\"}]}",
         "", "order_status", "{\"order_id\":\"NW-2\"}", 0},
        /* llama.cpp: content parts, usage with extra fields */
        {"{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":[{\"type\":\"text\","
         "\"text\":\"Hello \"},{\"type\":\"text\",\"text\":\"world\"}]},\"finish_reason\":null}],"
         "\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":2},\"timings\":{}}",
         "Hello world", NULL, NULL, 7},
        /* the legacy function_call */
        {"{\"choices\":[{\"message\":{\"role\":\"assistant\",\"function_call\":{\"name\":"
         "\"handoff_to_human\",\"arguments\":\"{}\"}},\"finish_reason\":\"function_call\"}]}",
         NULL, "handoff_to_human", "{}", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct agent_llm_reply r;
        const char *why;
        assert_int_equal(agent_llm_parse_reply(&a, cases[i].body, strlen(cases[i].body), &r, &why),
                         ERR_OK);
        if (cases[i].content)
            assert_string_equal(r.content, cases[i].content);
        else
            assert_null(r.content);
        assert_int_equal(r.n_calls, cases[i].call ? 1 : 0);
        if (cases[i].call) {
            assert_string_equal(r.calls[0].name, cases[i].call);
            assert_string_equal(r.calls[0].arguments, cases[i].args);
            assert_non_null(r.calls[0].id);
        }
        assert_int_equal(r.prompt_tokens, cases[i].prompt);
    }
    static const char *const bad[] = {"", "[]", "{\"choices\":[]}",
                                      "{\"error\":{\"message\":\"x\"}}",
                                      "{\"choices\":[{\"text\":\"legacy\"}]}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct agent_llm_reply r;
        const char *why = NULL;
        assert_int_equal(agent_llm_parse_reply(&a, bad[i], strlen(bad[i]), &r, &why), ERR_INVALID);
        assert_non_null(why);
    }
    arena_release(&a);
}

static void test_parse_error(void **state)
{
    (void)state;
    static const struct {
        const char *body, *type, *code, *message;
        enum err rc;
    } cases[] = {
        {"{\"error\":{\"message\":\"Rate limit reached\",\"type\":\"requests\",\"param\":null,"
         "\"code\":\"rate_limit_exceeded\"}}",
         "requests", "rate_limit_exceeded", "Rate limit reached", ERR_OK},
        {"{\"error\":{\"code\":500,\"message\":\"model crashed\",\"type\":\"server_error\"}}",
         "server_error", "500", "model crashed", ERR_OK},
        {"{\"error\":\"model 'x' not found\"}", "", "", "model 'x' not found", ERR_OK},
        {"{\"object\":\"error\",\"message\":\"bad\",\"type\":\"BadRequestError\",\"code\":400}",
         "BadRequestError", "400", "bad", ERR_OK},
        {"<html>502</html>", "", "", "", ERR_INVALID},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct agent_llm_error e;
        assert_int_equal(agent_llm_parse_error(cases[i].body, strlen(cases[i].body), &e),
                         cases[i].rc);
        assert_string_equal(e.type, cases[i].type);
        assert_string_equal(e.code, cases[i].code);
        assert_string_equal(e.message, cases[i].message);
    }
}

/* ---- a scripted OpenAI-compatible server ---- */

#define SCRIPT_MAX 8

struct step {
    int status;
    const char *body;
    const char *retry_after;
    int delay_ms;
};

struct llm {
    struct http_server *http;
    int port;
    pthread_mutex_t mu;
    struct step script[SCRIPT_MAX];
    int n_script, next;
    char *requests[SCRIPT_MAX * 2];
    char auth[128];
    atomic_int n_requests;
};

static void on_chat(struct http_req *req, void *ctx)
{
    struct llm *l = ctx;
    size_t len = 0;
    const char *body = http_req_body(req, &len);
    pthread_mutex_lock(&l->mu);
    int i = atomic_fetch_add(&l->n_requests, 1);
    if (i < SCRIPT_MAX * 2)
        l->requests[i] = strndup(body, len);
    const char *auth = http_req_header(req, "Authorization");
    snprintf(l->auth, sizeof l->auth, "%s", auth ? auth : "");
    struct step s = l->next < l->n_script
                        ? l->script[l->next++]
                        : (struct step){500, "{\"error\":\"script ended\"}", NULL, 0};
    pthread_mutex_unlock(&l->mu);
    if (s.delay_ms)
        clock_sleep_ms(s.delay_ms);
    if (s.retry_after)
        http_set_header(req, "Retry-After", s.retry_after);
    http_reply(req, s.status, "application/json", s.body, strlen(s.body));
}

static struct llm *llm_start(void)
{
    struct llm *l = calloc(1, sizeof *l);
    pthread_mutex_init(&l->mu, NULL);
    static struct http_route route;
    route = (struct http_route){HTTP_POST, "/v1/chat/completions", on_chat, l, 1 << 20};
    struct http_server_opts o = {.host = "127.0.0.1", .port = 0, .threads = 2};
    assert_int_equal(http_server_start(&o, &route, 1, &l->http), ERR_OK);
    l->port = http_server_port(l->http);
    return l;
}

static void llm_stop(struct llm *l)
{
    http_server_stop(l->http);
    for (int i = 0; i < SCRIPT_MAX * 2; i++)
        free(l->requests[i]);
    pthread_mutex_destroy(&l->mu);
    free(l);
}

static void say(struct llm *l, int status, const char *body)
{
    l->script[l->n_script++] = (struct step){status, body, NULL, 0};
}

static json_t *request(struct llm *l, int i)
{
    assert_true(i < atomic_load(&l->n_requests));
    json_t *j = json_loads(l->requests[i], 0, NULL);
    assert_non_null(j);
    return j;
}

#define ANSWER(text)                                                                               \
    "{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"" text "\"},"                \
    "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":100,\"completion_tokens\":10}}"
#define CALL(name, args)                                                                           \
    "{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":" \
    "\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"" name "\",\"arguments\":\"" args   \
    "\"}}]},\"finish_reason\":\"tool_calls\"}],\"usage\":{\"prompt_tokens\":50,"                   \
    "\"completion_tokens\":5}}"

struct rig {
    struct llm *l;
    struct world *w;
    atomic_int keepalives;
};

static void count_keepalive(void *ctx, long may_take_ms)
{
    struct rig *r = ctx;
    assert_true(may_take_ms >= 1000);
    atomic_fetch_add(&r->keepalives, 1);
}

static struct rig *rig_new(const char *tools_file, long timeout_ms)
{
    struct rig *r = calloc(1, sizeof *r);
    r->l = llm_start();
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/", r->l->port);
    struct agent_opts o = {.llm_url = url,
                           .llm_model = "test-model",
                           .llm_api_key = "sk-test",
                           .llm_timeout_ms = timeout_ms,
                           .tools_file = tools_file};
    r->w = world_new(&o);
    return r;
}

static void rig_free(struct rig *r)
{
    world_free(r->w);
    llm_stop(r->l);
    free(r);
}

static struct agent_decision decide(struct rig *r, const char *text)
{
    static struct agent_message hist[] = {
        {.role = AGENT_ROLE_CUSTOMER, .text = "hello, I have a question", .at_ms = 1},
        {.role = AGENT_ROLE_AI, .text = "Sure, how can I help?", .at_ms = 2},
        {.role = AGENT_ROLE_HUMAN, .text = "Hi Maya, Dana here.", .at_ms = 3},
    };
    struct agent_message m;
    struct agent_context ctx = world_turn(&m, text, hist, 3);
    m.refers_to = "replied to the business's Instagram story";
    ctx.opened_from = "the ad \"Autumn Blend\"";
    ctx.keepalive = count_keepalive;
    ctx.keepalive_ctx = r;
    struct agent_decision d;
    assert_int_equal(agent_decide(r->w->ag, r->w->kb, &r->w->a, &r->w->st, &ctx, &d), ERR_OK);
    return d;
}

static const char *content_of(json_t *msg)
{
    return json_string_value(json_object_get(msg, "content"));
}

static void test_answer_and_context(void **state)
{
    (void)state;
    struct rig *r = rig_new(NULL, 5000);
    say(r->l, 200,
        ANSWER("**Yes!** We ship to Canada for $12.95. It takes 5 to 10 business "
               "days. Duties are paid by the recipient. Anything else?"));
    r->w->st.tone = "cheerful and short";
    struct agent_decision d = decide(r, "do you ship to canada and how much is it?");
    assert_int_equal(d.action, AGENT_ANSWER);
    /* plain text, cut at the third sentence */
    assert_string_equal(d.text,
                        "Yes! We ship to Canada for $12.95. It takes 5 to 10 business days.");
    assert_false(d.is_disclosed); /* history: disclosed before */
    assert_int_equal(d.usage.n_calls, 1);
    assert_int_equal(d.usage.prompt_tokens, 100);
    assert_int_equal(d.usage.completion_tokens, 10);
    assert_string_equal(d.usage.model, "test-model");
    assert_true(atomic_load(&r->keepalives) >= 1);
    assert_string_equal(r->l->auth, "Bearer sk-test");
    json_t *req = request(r->l, 0);
    assert_string_equal(json_string_value(json_object_get(req, "model")), "test-model");
    json_t *msgs = json_object_get(req, "messages");
    const char *sys = content_of(json_array_get(msgs, 0));
    assert_string_equal(json_string_value(json_object_get(json_array_get(msgs, 0), "role")),
                        "system");
    static const char *const must[] = {"Northwind Coffee",
                                       "cheerful and short",
                                       "3 short sentences",
                                       "Never invent",
                                       "AI assistant",
                                       "handoff_to_human",
                                       "Maya Lopez",
                                       "Instagram",
                                       "the ad \"Autumn Blend\"",
                                       "Shipping > Costs and times (shipping.md)",
                                       "$12.95"};
    for (size_t i = 0; i < sizeof must / sizeof must[0]; i++)
        if (!strstr(sys, must[i]))
            fail_msg("the system prompt lacks \"%s\"", must[i]);
    /* the history, alternating; the team's reply marked; this turn last with what it refers to */
    assert_int_equal(json_array_size(msgs), 4);
    assert_string_equal(content_of(json_array_get(msgs, 1)), "hello, I have a question");
    const char *ai = content_of(json_array_get(msgs, 2));
    assert_non_null(strstr(ai, "Sure, how can I help?"));
    assert_non_null(strstr(ai, "(a person of the team wrote) Hi Maya, Dana here."));
    const char *last = content_of(json_array_get(msgs, 3));
    assert_non_null(strstr(last, "do you ship to canada"));
    assert_non_null(strstr(last, "[replied to the business's Instagram story]"));
    json_t *tools = json_object_get(req, "tools");
    assert_int_equal(json_array_size(tools), 1);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_array_get(tools, 0), "function"), "name")),
                        "handoff_to_human");
    json_decref(req);
    rig_free(r);
}

static void test_model_hands_off(void **state)
{
    (void)state;
    struct rig *r = rig_new(NULL, 5000);
    say(r->l, 200,
        CALL("handoff_to_human", "{\\\"reason\\\": \\\"wants a **refund** exception\\\"}"));
    struct agent_decision d = decide(r, "can I get a refund on an opened bag, please?");
    assert_int_equal(d.action, AGENT_HANDOFF);
    assert_int_equal(d.cause, AGENT_CAUSE_MODEL);
    assert_string_equal(d.reason, "the assistant asked for a person: wants a refund exception");
    assert_non_null(strstr(d.text, "member of our team"));
    rig_free(r);
}

static void test_guardrail_regenerates_once(void **state)
{
    (void)state;
    struct rig *r = rig_new(NULL, 5000);
    say(r->l, 200, ANSWER("Use code SAVE20 for 20% off!"));
    say(r->l, 200, ANSWER("We do not offer discount codes through direct messages."));
    struct agent_decision d = decide(r, "any discount code for me?");
    assert_int_equal(d.action, AGENT_ANSWER);
    assert_string_equal(d.text, "We do not offer discount codes through direct messages.");
    assert_int_equal(d.usage.n_calls, 2);
    json_t *req = request(r->l, 1);
    json_t *msgs = json_object_get(req, "messages");
    size_t n = json_array_size(msgs);
    assert_string_equal(content_of(json_array_get(msgs, n - 2)), "Use code SAVE20 for 20% off!");
    assert_non_null(strstr(content_of(json_array_get(msgs, n - 1)), "20%"));
    json_decref(req);
    rig_free(r);
    /* twice: the safe notice and a handoff */
    r = rig_new(NULL, 5000);
    say(r->l, 200, ANSWER("Shipping to Canada is $5 this week."));
    say(r->l, 200, ANSWER("Good news: 50% off shipping to Canada."));
    d = decide(r, "shipping to canada?");
    assert_int_equal(d.action, AGENT_HANDOFF);
    assert_int_equal(d.cause, AGENT_CAUSE_GUARDRAIL);
    assert_non_null(strstr(d.reason, "50%"));
    rig_free(r);
}

static void test_retries(void **state)
{
    (void)state;
    struct rig *r = rig_new(NULL, 5000);
    say(r->l, 500, "{\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}");
    say(r->l, 503, "busy");
    say(r->l, 200, ANSWER("We ship to Canada."));
    struct agent_decision d = decide(r, "do you ship to canada?");
    assert_int_equal(d.action, AGENT_ANSWER);
    assert_int_equal(d.usage.n_calls, 3);
    rig_free(r);
    /* a rate limit with Retry-After is waited for */
    r = rig_new(NULL, 5000);
    r->l->script[r->l->n_script++] = (struct step){
        429, "{\"error\":{\"message\":\"slow down\",\"code\":\"rate_limit_exceeded\"}}", "1", 0};
    say(r->l, 200, ANSWER("We ship to Canada."));
    d = decide(r, "do you ship to canada?");
    assert_int_equal(d.action, AGENT_ANSWER);
    assert_int_equal(atomic_load(&r->l->n_requests), 2);
    rig_free(r);
    /* a used-up quota is a 429 too, but waiting does not end it: asked once (OpenAI's body) */
    r = rig_new(NULL, 5000);
    say(r->l, 429,
        "{\"error\":{\"message\":\"You exceeded your current quota, please check your plan and "
        "billing details.\",\"type\":\"insufficient_quota\",\"param\":null,\"code\":"
        "\"insufficient_quota\"}}");
    say(r->l, 200, ANSWER("never asked for"));
    d = decide(r, "do you ship to canada?");
    assert_int_equal(d.action, AGENT_HANDOFF);
    assert_int_equal(d.cause, AGENT_CAUSE_FAILURES);
    assert_int_equal(atomic_load(&r->l->n_requests), 1);
    rig_free(r);
    /* kept failing: a person takes over */
    r = rig_new(NULL, 5000);
    for (int i = 0; i < 3; i++)
        say(r->l, 502, "bad gateway");
    d = decide(r, "do you ship to canada?");
    assert_int_equal(d.action, AGENT_HANDOFF);
    assert_int_equal(d.cause, AGENT_CAUSE_FAILURES);
    assert_int_equal(atomic_load(&r->l->n_requests), 3);
    rig_free(r);
    /* a 4xx is never retried */
    r = rig_new(NULL, 5000);
    say(r->l, 400, "{\"error\":{\"message\":\"bad model\",\"type\":\"invalid_request_error\"}}");
    say(r->l, 200, ANSWER("never asked for"));
    d = decide(r, "do you ship to canada?");
    assert_int_equal(d.cause, AGENT_CAUSE_FAILURES);
    assert_int_equal(atomic_load(&r->l->n_requests), 1);
    assert_non_null(strstr(d.reason, "refused"));
    rig_free(r);
}

static void test_slow_answer_times_out(void **state)
{
    (void)state;
    struct rig *r = rig_new(NULL, 1000);
    for (int i = 0; i < 3; i++)
        r->l->script[r->l->n_script++] = (struct step){200, ANSWER("late"), NULL, 1500};
    struct agent_decision d = decide(r, "do you ship to canada?");
    assert_int_equal(d.action, AGENT_HANDOFF);
    assert_int_equal(d.cause, AGENT_CAUSE_FAILURES);
    assert_int_equal(atomic_load(&r->l->n_requests), 3); /* a timeout is tried again */
    assert_true(atomic_load(&r->keepalives) >= 3);
    rig_free(r);
}

static void test_no_usable_text(void **state)
{
    (void)state;
    static const char *const replies[] = {
        "{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":null},\"finish_reason\":"
        "\"length\"}]}",
        ANSWER("{\\\"name\\\": \\\"handoff_to_human\\\"}"), /* a tool call written as text */
        ANSWER("   "),
    };
    for (size_t i = 0; i < sizeof replies / sizeof replies[0]; i++) {
        struct rig *r = rig_new(NULL, 5000);
        say(r->l, 200, replies[i]);
        struct agent_decision d = decide(r, "do you ship to canada?");
        if (d.action != AGENT_HANDOFF || d.cause != AGENT_CAUSE_FAILURES)
            fail_msg("case %zu: %s", i, agent_cause_name(d.cause));
        rig_free(r);
    }
}

/* ---- tools ---- */

struct shop {
    struct http_server *http;
    int port;
    atomic_int calls;
};

static void on_order(struct http_req *req, void *ctx)
{
    struct shop *s = ctx;
    atomic_fetch_add(&s->calls, 1);
    if (strcmp(http_req_param(req, "id"), "NW-500") == 0) {
        http_reply_text(req, 500, "down");
        return;
    }
    const char *body = "{\"order\":\"NW-10428\",\"status\":\"shipped\",\"total\":42.5}";
    http_reply(req, 200, "application/json", body, strlen(body));
}

static struct shop *shop_start(char *tools_path, size_t cap)
{
    struct shop *s = calloc(1, sizeof *s);
    static struct http_route route;
    route = (struct http_route){HTTP_GET, "/orders/{id}", on_order, s, 0};
    struct http_server_opts o = {.host = "127.0.0.1", .port = 0, .threads = 1};
    assert_int_equal(http_server_start(&o, &route, 1, &s->http), ERR_OK);
    s->port = http_server_port(s->http);
    snprintf(tools_path, cap, "%s/tools.json", tu_tmpdir());
    FILE *f = fopen(tools_path, "w");
    assert_non_null(f);
    fprintf(f,
            "{\"tools\":[{\"name\":\"order_status\",\"description\":\"Look up an order\","
            "\"parameters\":{\"type\":\"object\",\"properties\":{\"order_id\":{\"type\":"
            "\"string\"}},\"required\":[\"order_id\"]},\"method\":\"GET\",\"url\":"
            "\"http://127.0.0.1:%d/orders/{order_id}\"}]}",
            s->port);
    fclose(f);
    return s;
}

static void shop_stop(struct shop *s, const char *tools_path)
{
    http_server_stop(s->http);
    char dir[256];
    snprintf(dir, sizeof dir, "%.200s", tools_path);
    *strrchr(dir, '/') = '\0';
    tu_rmrf(dir);
    free(s);
}

static void test_tool_round(void **state)
{
    (void)state;
    char path[512];
    struct shop *s = shop_start(path, sizeof path);
    struct rig *r = rig_new(path, 5000);
    say(r->l, 200, CALL("order_status", "{\\\"order_id\\\": \\\"NW-10428\\\"}"));
    say(r->l, 200, ANSWER("Your order NW-10428 has shipped; the total was $42.50."));
    struct agent_decision d = decide(r, "where is my order NW-10428?");
    assert_int_equal(d.action, AGENT_ANSWER);
    assert_string_equal(d.text, "Your order NW-10428 has shipped; the total was $42.50.");
    assert_int_equal(d.n_tool_calls, 1);
    assert_int_equal(atomic_load(&s->calls), 1);
    assert_int_equal(d.usage.prompt_tokens, 150);
    json_t *first = request(r->l, 0);
    assert_int_equal(json_array_size(json_object_get(first, "tools")), 2);
    json_decref(first);
    json_t *req = request(r->l, 1);
    json_t *msgs = json_object_get(req, "messages");
    size_t n = json_array_size(msgs);
    json_t *asked = json_array_get(msgs, n - 2), *result = json_array_get(msgs, n - 1);
    assert_string_equal(json_string_value(json_object_get(asked, "role")), "assistant");
    assert_true(json_is_null(json_object_get(asked, "content")));
    json_t *call = json_array_get(json_object_get(asked, "tool_calls"), 0);
    assert_string_equal(json_string_value(json_object_get(call, "id")), "call_1");
    assert_string_equal(json_string_value(json_object_get(result, "role")), "tool");
    assert_string_equal(json_string_value(json_object_get(result, "tool_call_id")), "call_1");
    assert_non_null(strstr(content_of(result), "\"status\":\"shipped\""));
    json_decref(req);
    rig_free(r);
    shop_stop(s, path);
}

static void test_tool_limits(void **state)
{
    (void)state;
    char path[512];
    struct shop *s = shop_start(path, sizeof path);
    /* the model never stops asking: three rounds are fed back, the fourth is a handoff */
    struct rig *r = rig_new(path, 5000);
    for (int i = 0; i < 4; i++)
        say(r->l, 200, CALL("order_status", "{\\\"order_id\\\": \\\"NW-1\\\"}"));
    struct agent_decision d = decide(r, "where is my order NW-1?");
    assert_int_equal(d.action, AGENT_HANDOFF);
    assert_int_equal(d.cause, AGENT_CAUSE_FAILURES);
    assert_int_equal(d.n_tool_calls, 3);
    assert_int_equal(atomic_load(&r->l->n_requests), 4);
    rig_free(r);
    /* a tool that keeps failing */
    r = rig_new(path, 5000);
    say(r->l, 200, CALL("order_status", "{\\\"order_id\\\": \\\"NW-500\\\"}"));
    say(r->l, 200, CALL("order_status", "{\\\"order_id\\\": \\\"NW-500\\\"}"));
    say(r->l, 200, ANSWER("never asked for"));
    d = decide(r, "where is my order NW-500?");
    assert_int_equal(d.action, AGENT_HANDOFF);
    assert_int_equal(d.cause, AGENT_CAUSE_FAILURES);
    assert_int_equal(d.n_tool_failures, 2);
    assert_int_equal(atomic_load(&r->l->n_requests), 2);
    rig_free(r);
    shop_stop(s, path);
}

/* Saying thanks twice, and being answered alike, is no loop; repeating a real answer is. */
static void test_loops_with_an_llm(void **state)
{
    (void)state;
    struct rig *r = rig_new(NULL, 5000);
    struct agent_message hist[] = {
        {.role = AGENT_ROLE_CUSTOMER, .text = "thank you so much!", .at_ms = 1},
        {.role = AGENT_ROLE_AI, .text = "You're welcome! Anything else?", .at_ms = 2},
        {.role = AGENT_ROLE_CUSTOMER, .text = "do you ship to mexico?", .at_ms = 3},
        {.role = AGENT_ROLE_AI, .text = "We ship to the United States and Canada.", .at_ms = 4},
    };
    say(r->l, 200, ANSWER("You're welcome! Anything else?"));
    struct agent_message m;
    struct agent_context ctx = world_turn(&m, "thank you so much!", hist, 4);
    struct agent_decision d;
    assert_int_equal(agent_decide(r->w->ag, r->w->kb, &r->w->a, &r->w->st, &ctx, &d), ERR_OK);
    assert_int_equal(d.action, AGENT_ANSWER);
    say(r->l, 200, ANSWER("We ship to the United States and Canada."));
    ctx = world_turn(&m, "what about brazil?", hist, 4);
    assert_int_equal(agent_decide(r->w->ag, r->w->kb, &r->w->a, &r->w->st, &ctx, &d), ERR_OK);
    assert_int_equal(d.action, AGENT_HANDOFF);
    assert_int_equal(d.cause, AGENT_CAUSE_LOOP);
    ctx.hold_history_signals = true; /* after a hand back: no loop signal */
    say(r->l, 200, ANSWER("We ship to the United States and Canada."));
    assert_int_equal(agent_decide(r->w->ag, r->w->kb, &r->w->a, &r->w->st, &ctx, &d), ERR_OK);
    assert_int_equal(d.action, AGENT_ANSWER);
    rig_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_reply),
        cmocka_unit_test(test_parse_error),
        cmocka_unit_test(test_answer_and_context),
        cmocka_unit_test(test_model_hands_off),
        cmocka_unit_test(test_guardrail_regenerates_once),
        cmocka_unit_test(test_retries),
        cmocka_unit_test(test_slow_answer_times_out),
        cmocka_unit_test(test_no_usable_text),
        cmocka_unit_test(test_tool_round),
        cmocka_unit_test(test_tool_limits),
        cmocka_unit_test(test_loops_with_an_llm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
