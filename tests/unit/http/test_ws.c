/*
 * tests/unit/http/test_ws.c - the WebSocket hub over socketpairs: the accept key (RFC 6455's
 * example), text both ways, a client that stops reading is dropped once its queue passes the
 * cap while another keeps receiving, client frames over the cap close with 1009, and stop
 * closes everyone.
 */
#include "http/http_int.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include "core/clock.h"
#include "testutil.h"

struct world {
    _Atomic int opened, closed, texts, drops;
    _Atomic int send_burst;         /* on_tick: send this many messages to everyone */
    _Atomic int too_large, sent_ok; /* what http_ws_send said */
    char last_text[64];
};

static void on_open(struct http_ws_conn *c, void *ctx)
{
    (void)c;
    atomic_fetch_add(&((struct world *)ctx)->opened, 1);
}

static void on_close(struct http_ws_conn *c, void *ctx)
{
    (void)c;
    atomic_fetch_add(&((struct world *)ctx)->closed, 1);
}

static void on_drop(void *conn_ctx, void *ctx)
{
    (void)conn_ctx;
    atomic_fetch_add(&((struct world *)ctx)->drops, 1);
}

static void on_text(struct http_ws_conn *c, const char *data, size_t len, void *ctx)
{
    struct world *w = ctx;
    snprintf(w->last_text, sizeof w->last_text, "%.*s", (int)len, data);
    atomic_fetch_add(&w->texts, 1);
    err_ignore(http_ws_send(c, "echo", 4));
}

static void send_one(struct http_ws_conn *c, void *arg)
{
    struct world *w = arg;
    static char big[1024];
    memset(big, 'x', sizeof big);
    enum err rc = http_ws_send(c, big, sizeof big);
    if (rc == ERR_TOO_LARGE)
        atomic_fetch_add(&w->too_large, 1);
    else if (rc == ERR_OK)
        atomic_fetch_add(&w->sent_ok, 1);
}

static void on_tick(struct http_ws_hub *h, void *ctx)
{
    struct world *w = ctx;
    for (int n = atomic_exchange(&w->send_burst, 0); n > 0; n--)
        http_ws_each(h, send_one, w);
}

static struct http_ws_hub *hub_for(struct world *w, size_t max_queue, size_t max_frame)
{
    struct http_ws_opts o = {.max_frame = max_frame,
                             .max_queue = max_queue,
                             .ping_ms = 60000,
                             .tick_ms = 10,
                             .on_open = on_open,
                             .on_text = on_text,
                             .on_close = on_close,
                             .on_drop = on_drop,
                             .on_tick = on_tick,
                             .ctx = w};
    struct http_ws_hub *h = NULL;
    assert_int_equal(http_ws_hub_start(&o, &h), ERR_OK);
    return h;
}

/* A connected pair: [0] is the hub's (non-blocking, small send buffer), [1] the client's. */
static void pair(struct http_ws_hub *h, int fds[2])
{
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    int small = 4096;
    setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    setsockopt(fds[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    http_ws_adopt(h, fds[0], NULL, NULL, 0, NULL);
}

static void wait_for(_Atomic int *v, int want)
{
    for (int i = 0; i < 500 && atomic_load(v) < want; i++)
        clock_sleep_ms(10);
    assert_true(atomic_load(v) >= want);
}

/* A masked client text frame. */
static void client_text(int fd, const char *text)
{
    unsigned char f[256] = {0x81, (unsigned char)(0x80 | strlen(text)), 1, 2, 3, 4};
    size_t n = strlen(text);
    for (size_t i = 0; i < n; i++)
        f[6 + i] = (unsigned char)text[i] ^ f[2 + i % 4];
    assert_int_equal(write(fd, f, 6 + n), (ssize_t)(6 + n));
}

/* Reads until EOF or timeout; returns bytes read, and whether EOF came. */
static size_t drain(int fd, int timeout_ms, bool *eof)
{
    size_t total = 0;
    char buf[65536];
    *eof = false;
    struct pollfd p = {fd, POLLIN, 0};
    while (poll(&p, 1, timeout_ms) > 0) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0) {
            *eof = true;
            break;
        }
        total += (size_t)n;
    }
    return total;
}

static void test_accept_key(void **state)
{
    (void)state;
    char out[29];
    http_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out); /* RFC 6455 section 1.3 */
    assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

static void test_text_both_ways(void **state)
{
    (void)state;
    struct world w = {0};
    struct http_ws_hub *h = hub_for(&w, 1 << 20, 1024);
    int fds[2];
    pair(h, fds);
    wait_for(&w.opened, 1);
    client_text(fds[1], "{\"type\":\"ping\"}");
    wait_for(&w.texts, 1);
    assert_string_equal(w.last_text, "{\"type\":\"ping\"}");
    unsigned char got[16];
    struct pollfd p = {fds[1], POLLIN, 0};
    assert_true(poll(&p, 1, 2000) == 1);
    assert_int_equal(read(fds[1], got, sizeof got), 6);
    assert_int_equal(got[0], 0x81); /* FIN, text */
    assert_int_equal(got[1], 4);    /* unmasked, 4 bytes */
    assert_memory_equal(got + 2, "echo", 4);
    http_ws_hub_stop(h);
    assert_int_equal(atomic_load(&w.closed), 1);
    close(fds[1]);
}

static void test_slow_client_dropped_other_keeps_going(void **state)
{
    (void)state;
    struct world w = {0};
    struct http_ws_hub *h = hub_for(&w, 16 * 1024, 1024);
    int slow[2], fast[2];
    pair(h, slow);
    pair(h, fast);
    wait_for(&w.opened, 2);
    bool eof = false;
    size_t fast_bytes = 0;
    /* the slow one never reads; the fast one reads between bursts */
    for (int round = 0; round < 100 && atomic_load(&w.too_large) == 0; round++) {
        atomic_store(&w.send_burst, 8);
        clock_sleep_ms(20);
        fast_bytes += drain(fast[1], 5, &eof);
    }
    assert_int_equal(atomic_load(&w.too_large), 1); /* dropped, once */
    wait_for(&w.closed, 1);
    drain(slow[1], 1000, &eof);
    assert_true(eof); /* the hub closed its end */
    atomic_store(&w.send_burst, 4);
    size_t after = 0;
    for (int i = 0; i < 50 && after < 4 * 1024; i++)
        after += drain(fast[1], 20, &eof);
    assert_true(after >= 4 * 1024); /* the other client is still served */
    assert_false(eof);
    assert_true(fast_bytes > 0);
    http_ws_hub_stop(h);
    assert_int_equal(atomic_load(&w.closed), 2);
    close(slow[1]);
    close(fast[1]);
}

static void test_frame_over_cap_closes_1009(void **state)
{
    (void)state;
    struct world w = {0};
    struct http_ws_hub *h = hub_for(&w, 1 << 20, 16);
    int fds[2];
    pair(h, fds);
    wait_for(&w.opened, 1);
    client_text(fds[1], "this message is longer than sixteen bytes");
    unsigned char got[64];
    size_t n = 0;
    struct pollfd p = {fds[1], POLLIN, 0};
    while (n < 4 && poll(&p, 1, 2000) == 1) { /* the header and the code may come apart */
        ssize_t k = read(fds[1], got + n, sizeof got - n);
        if (k <= 0)
            break;
        n += (size_t)k;
    }
    assert_true(n >= 4);
    assert_int_equal(got[0], 0x88); /* close */
    assert_int_equal((got[2] << 8) | got[3], 1009);
    assert_int_equal(atomic_load(&w.texts), 0);
    http_ws_hub_stop(h);
    close(fds[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accept_key),
        cmocka_unit_test(test_text_both_ways),
        cmocka_unit_test(test_slow_client_dropped_other_keeps_going),
        cmocka_unit_test(test_frame_over_cap_closes_1009),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
