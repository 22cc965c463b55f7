/*
 * tests/unit/core/test_log_metrics.c - log lines are single valid JSON objects (escaping,
 * levels, request id, truncation of oversized lines) and metrics render in Prometheus text.
 */
#include "core/log.h"

#include <jansson.h>

#include "core/clock.h"
#include "core/metrics.h"
#include "testutil.h"

/* Captures what log_write() prints, one call at a time, through a pipe. */
static char *capture(void (*fn)(void))
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    log_set_fd(p[1]);
    fn();
    log_set_fd(-1);
    close(p[1]);
    static char out[65536];
    ssize_t n = read(p[0], out, sizeof out - 1);
    close(p[0]);
    out[n > 0 ? n : 0] = '\0';
    return out;
}

static void emit_escapes(void)
{
    log_set_level(LOG_INFO);
    log_set_request_id("rid-1");
    log_info("test.escape", LOG_STR("s", "quote\" back\\ nl\n tab\t ctl\x01 \xc3\xa9"),
             LOG_INT("n", -42), LOG_BOOL("b", 1), LOG_DBL("d", 1.5), LOG_STR("null", NULL));
    log_set_request_id(NULL);
    log_debug("test.hidden"); /* below the level: nothing */
}

static void test_escaping(void **state)
{
    (void)state;
    char *out = capture(emit_escapes);
    assert_non_null(strchr(out, '\n'));
    assert_null(strchr(strchr(out, '\n') + 1, '\n')); /* exactly one line */
    json_error_t je;
    json_t *v = json_loads(out, 0, &je);
    if (!v)
        fail_msg("not JSON: %s (%s)", out, je.text);
    assert_string_equal(json_string_value(json_object_get(v, "event")), "test.escape");
    assert_string_equal(json_string_value(json_object_get(v, "level")), "info");
    assert_string_equal(json_string_value(json_object_get(v, "rid")), "rid-1");
    assert_string_equal(json_string_value(json_object_get(v, "s")),
                        "quote\" back\\ nl\n tab\t ctl\x01 \xc3\xa9");
    assert_int_equal(json_integer_value(json_object_get(v, "n")), -42);
    assert_true(json_is_true(json_object_get(v, "b")));
    assert_non_null(json_object_get(v, "ts"));
    json_decref(v);
}

static void emit_huge(void)
{
    static char big[20000];
    memset(big, 'x', sizeof big - 1);
    log_warn("test.huge", LOG_INT("before", 1), LOG_STR("big", big), LOG_INT("after", 2));
}

static void test_oversized_line_stays_json(void **state)
{
    (void)state;
    char *out = capture(emit_huge);
    json_t *v = json_loads(out, 0, NULL);
    assert_non_null(v);
    assert_int_equal(json_integer_value(json_object_get(v, "before")), 1);
    assert_null(json_object_get(v, "big")); /* dropped whole, never cut mid-string */
    json_decref(v);
}

static void test_rate_limit(void **state)
{
    (void)state;
    for (int attempt = 0; attempt < 5; attempt++) {
        struct log_limit l = {0};
        int suppressed = -1, allowed = 0;
        long long sec = clock_now_ms() / 1000;
        for (int i = 0; i < 25; i++)
            allowed += log_allow(&l, 20, &suppressed);
        if (clock_now_ms() / 1000 != sec)
            continue; /* crossed a second boundary: the budget reset; measure again */
        assert_int_equal(allowed, 20);
        assert_int_equal(atomic_load(&l.dropped), 5);
        return;
    }
    fail_msg("could not stay within one second");
}

static double gauge_fn(void *ctx)
{
    return *(double *)ctx;
}

static void test_metrics_render(void **state)
{
    (void)state;
    metrics_reset();
    struct metric *a = metrics_counter("switchboard_x_total", "X things", "result=\"a\"");
    struct metric *b = metrics_counter("switchboard_x_total", "X things", "result=\"b\"");
    assert_ptr_equal(a, metrics_counter("switchboard_x_total", "X things", "result=\"a\""));
    static const double bounds[] = {0.001, 0.01};
    struct metric *h = metrics_histogram("switchboard_lat_seconds", "Latency", bounds, 2);
    static double g = 7;
    metrics_gauge("switchboard_depth", "Depth", NULL, gauge_fn, &g);
    metrics_inc(a, 3);
    metrics_inc(b, 1);
    metrics_observe(h, 0.0005);
    metrics_observe(h, 0.005);
    metrics_observe(h, 5);
    struct buf out;
    buf_init(&out, 1 << 16);
    assert_int_equal(metrics_render(&out), ERR_OK);
    static const char *const want[] = {
        "# HELP switchboard_x_total X things\n# TYPE switchboard_x_total counter\n"
        "switchboard_x_total{result=\"a\"} 3\nswitchboard_x_total{result=\"b\"} 1\n",
        "switchboard_lat_seconds_bucket{le=\"0.001\"} 1\n",
        "switchboard_lat_seconds_bucket{le=\"0.01\"} 2\n",
        "switchboard_lat_seconds_bucket{le=\"+Inf\"} 3\n",
        "switchboard_lat_seconds_count 3\n",
        "# TYPE switchboard_depth gauge\nswitchboard_depth 7\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(out.data, want[i]))
            fail_msg("missing:\n%s\nin:\n%s", want[i], out.data);
    buf_release(&out);
    metrics_reset();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_oversized_line_stays_json),
        cmocka_unit_test(test_metrics_render),
        cmocka_unit_test(test_rate_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
