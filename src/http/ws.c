/*
 * http/ws.c - WebSocket connections: the handshake over libmicrohttpd's upgrade, and one hub
 * thread that serves every upgraded socket with epoll and frames them with wslay.
 *
 * Owns: the handshake check and Sec-WebSocket-Accept, handing the socket from the MHD thread
 * to the hub (a locked list and an eventfd), each connection's send queue and its cap, frame
 * caps, pings and the idle drop, closing (MHD_upgrade_action CLOSE closes the socket).
 * Does not own: what a message means (the hub's callbacks).
 * Threads: http_reply_ws() on an HTTP thread; the upgrade callback on an MHD thread; every
 * other function on the hub thread, except http_ws_hub_wake() and http_ws_count().
 */
#include "http/http.h"

#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <wslay/wslay.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/log.h"
#include "http/http_int.h"

#define WS_GUID      "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define EPOLL_BATCH  256
#define IDLE_PINGS_X 5 /* silent for 5 half-intervals (2.5 pings): dropped */

struct http_ws_conn {
    struct http_ws_hub *hub;
    int fd;
    struct MHD_UpgradeResponseHandle *urh; /* NULL: a plain socket (tests) */
    wslay_event_context_ptr ws;
    void *ctx;
    char *extra; /* bytes MHD read past the request, consumed first */
    size_t extra_len, extra_off;
    int64_t last_rx_ms, last_ping_ms;
    bool is_dead, is_opened, wants_out;
    struct http_ws_conn *prev, *next;
};

struct pending {
    int fd;
    struct MHD_UpgradeResponseHandle *urh;
    char *extra;
    size_t extra_len;
    void *ctx;
    struct pending *next;
};

struct http_ws_hub {
    struct http_ws_opts o;
    pthread_t thread;
    int epfd, wakefd;
    _Atomic bool stopping;
    _Atomic int n_open;
    pthread_mutex_t lock; /* pending */
    struct pending *pending;
    struct http_ws_conn *conns; /* the hub thread's list */
    int64_t last_tick_ms, last_ping_round_ms;
};

/* ---- the handshake ---- */

void http_ws_accept_key(const char *key, char out[29])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    EVP_DigestInit_ex(c, EVP_sha1(), NULL);
    EVP_DigestUpdate(c, key, strlen(key));
    EVP_DigestUpdate(c, WS_GUID, sizeof WS_GUID - 1);
    EVP_DigestFinal_ex(c, md, &md_len);
    EVP_MD_CTX_free(c);
    base64_encode(md, md_len, out); /* 20 bytes -> 28 characters and a NUL */
}

/* Whether a comma-separated header value holds token (any case). */
static bool has_token(const char *v, const char *token)
{
    size_t n = strlen(token);
    for (const char *p = v; p && *p;) {
        p += strspn(p, " \t,");
        size_t len = strcspn(p, ",");
        size_t trim = len;
        while (trim && (p[trim - 1] == ' ' || p[trim - 1] == '\t'))
            trim--;
        if (trim == n && strncasecmp(p, token, n) == 0)
            return true;
        p += len;
    }
    return false;
}

/* The 16-byte nonce, base64: 24 characters ending in "==". */
static bool key_ok(const char *key)
{
    unsigned char raw[32];
    size_t n = 0;
    return key && strlen(key) == 24 && base64_decode(key, 24, raw, sizeof raw, &n) == ERR_OK &&
           n == 16;
}

struct upgrade {
    struct http_ws_hub *hub;
    void *ctx;
    bool is_taken;
};

static void on_upgrade(void *cls, struct MHD_Connection *conn, void *con_cls, const char *extra_in,
                       size_t extra_len, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
    (void)conn;
    (void)con_cls;
    struct upgrade *u = cls;
    u->is_taken = true;
    http_ws_adopt(u->hub, sock, urh, extra_in, extra_len, u->ctx);
}

/* The request's arena dies after the upgrade callback, or without it when the 101 never went
 * out: then the context is dropped. */
static void upgrade_done(void *p)
{
    struct upgrade *u = p;
    if (!u->is_taken && u->hub->o.on_drop)
        u->hub->o.on_drop(u->ctx, u->hub->o.ctx);
}

static void refuse(struct http_req *r, struct http_ws_hub *h, void *conn_ctx, int status,
                   const char *why)
{
    if (h->o.on_drop)
        h->o.on_drop(conn_ctx, h->o.ctx);
    if (status == 426)
        http_set_header(r, "Sec-WebSocket-Version", "13");
    json_t *v =
        json_pack("{s:{s:s, s:s, s:s}}", "error", "code", status == 426 ? "upgrade" : "invalid",
                  "message", why, "request_id", http_req_id(r));
    char *text = json_dumps(v, JSON_COMPACT);
    json_decref(v);
    http_reply(r, status, "application/json", text, strlen(text));
    free(text);
}

void http_reply_ws(struct http_req *r, struct http_ws_hub *h, void *conn_ctx)
{
    const char *up = http_req_header(r, "Upgrade"), *co = http_req_header(r, "Connection");
    const char *ver = http_req_header(r, "Sec-WebSocket-Version");
    const char *key = http_req_header(r, "Sec-WebSocket-Key");
    if (!up || !has_token(up, "websocket") || !co || !has_token(co, "upgrade") || !key_ok(key)) {
        refuse(r, h, conn_ctx, 400, "not a WebSocket handshake");
        return;
    }
    if (!ver || strcmp(ver, "13") != 0) {
        refuse(r, h, conn_ctx, 426, "WebSocket version 13 only");
        return;
    }
    struct upgrade *u = arena_alloc(http_req_arena(r), sizeof *u);
    *u = (struct upgrade){h, conn_ctx, false};
    struct MHD_Response *resp = MHD_create_response_for_upgrade(on_upgrade, u);
    if (!resp) {
        refuse(r, h, conn_ctx, 400, "upgrade failed");
        return;
    }
    arena_on_free(http_req_arena(r), upgrade_done, u);
    char accept[29];
    http_ws_accept_key(key, accept);
    MHD_add_response_header(resp, "Upgrade", "websocket");
    MHD_add_response_header(resp, "Sec-WebSocket-Accept", accept);
    http_reply_response(r, MHD_HTTP_SWITCHING_PROTOCOLS, resp);
}

/* ---- adopting a socket (any thread) ---- */

void http_ws_adopt(struct http_ws_hub *h, int fd, void *urh, const char *extra_in, size_t extra_len,
                   void *conn_ctx)
{
    struct pending *p = xcalloc(1, sizeof *p);
    *p = (struct pending){.fd = fd, .urh = urh, .ctx = conn_ctx, .extra_len = extra_len};
    if (extra_len) {
        p->extra = xmalloc(extra_len);
        memcpy(p->extra, extra_in, extra_len);
    }
    pthread_mutex_lock(&h->lock);
    p->next = h->pending;
    h->pending = p;
    pthread_mutex_unlock(&h->lock);
    http_ws_hub_wake(h);
}

void http_ws_hub_wake(struct http_ws_hub *h)
{
    uint64_t one = 1;
    ssize_t n = write(h->wakefd, &one, sizeof one); /* a full counter already means "wake" */
    (void)n;
}

int http_ws_count(const struct http_ws_hub *h)
{
    return atomic_load(&h->n_open);
}

void *http_ws_conn_ctx(const struct http_ws_conn *c)
{
    return c->ctx;
}

/* ---- wslay's I/O ---- */

static ssize_t ws_recv(wslay_event_context_ptr ws, uint8_t *buf, size_t len, int flags, void *ud)
{
    (void)flags;
    struct http_ws_conn *c = ud;
    if (c->extra_off < c->extra_len) {
        size_t n = c->extra_len - c->extra_off;
        n = n < len ? n : len;
        memcpy(buf, c->extra + c->extra_off, n);
        c->extra_off += n;
        return (ssize_t)n;
    }
    ssize_t n;
    while ((n = recv(c->fd, buf, len, 0)) < 0 && errno == EINTR) {
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        wslay_event_set_error(ws, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    if (n <= 0) { /* EOF or a reset */
        wslay_event_set_error(ws, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    c->last_rx_ms = clock_now_ms();
    return n;
}

static ssize_t ws_send(wslay_event_context_ptr ws, const uint8_t *data, size_t len, int flags,
                       void *ud)
{
    struct http_ws_conn *c = ud;
    ssize_t n;
    int f = MSG_NOSIGNAL | ((flags & WSLAY_MSG_MORE) ? MSG_MORE : 0);
    while ((n = send(c->fd, data, len, f)) < 0 && errno == EINTR) {
    }
    if (n < 0) {
        wslay_event_set_error(ws, errno == EAGAIN || errno == EWOULDBLOCK
                                      ? WSLAY_ERR_WOULDBLOCK
                                      : WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return n;
}

static void ws_msg(wslay_event_context_ptr ws, const struct wslay_event_on_msg_recv_arg *m,
                   void *ud)
{
    struct http_ws_conn *c = ud;
    if (m->opcode == WSLAY_TEXT_FRAME && c->hub->o.on_text)
        c->hub->o.on_text(c, (const char *)m->msg, m->msg_length, c->hub->o.ctx);
    else if (m->opcode == WSLAY_BINARY_FRAME)
        wslay_event_queue_close(ws, WSLAY_CODE_UNSUPPORTED_DATA, (const uint8_t *)"text only", 9);
}

static const struct wslay_event_callbacks callbacks = {
    .recv_callback = ws_recv, .send_callback = ws_send, .on_msg_recv_callback = ws_msg};

/* ---- connections (hub thread) ---- */

static void set_interest(struct http_ws_conn *c)
{
    bool out = wslay_event_want_write(c->ws);
    if (out == c->wants_out)
        return;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | (out ? EPOLLOUT : 0), .data.ptr = c};
    if (epoll_ctl(c->hub->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
        c->wants_out = out;
}

/* Sends what wslay has queued; marks the connection dead when it is finished or broken. */
static void pump(struct http_ws_conn *c, bool readable)
{
    if (c->is_dead)
        return;
    if (readable && wslay_event_recv(c->ws) != 0) {
        c->is_dead = true;
        if (wslay_event_want_write(c->ws))
            (void)wslay_event_send(c->ws); /* a close frame wslay queued (1009, 1002...) */
    }
    if (!c->is_dead && wslay_event_want_write(c->ws) && wslay_event_send(c->ws) != 0)
        c->is_dead = true;
    if (!c->is_dead && !wslay_event_want_read(c->ws) && !wslay_event_want_write(c->ws))
        c->is_dead = true; /* both close frames exchanged */
    if (!c->is_dead)
        set_interest(c);
}

static void open_pending(struct http_ws_hub *h, struct pending *p)
{
    struct http_ws_conn *c = xcalloc(1, sizeof *c);
    *c = (struct http_ws_conn){.hub = h,
                               .fd = p->fd,
                               .urh = p->urh,
                               .ctx = p->ctx,
                               .extra = p->extra,
                               .extra_len = p->extra_len,
                               .last_rx_ms = clock_now_ms()};
    c->last_ping_ms = c->last_rx_ms;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = c};
    int fl = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &fl, sizeof fl); /* a test socketpair says no */
    if (wslay_event_context_server_init(&c->ws, &callbacks, c) != 0 ||
        epoll_ctl(h->epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0)
        c->is_dead = true;
    else
        wslay_event_config_set_max_recv_msg_length(c->ws, h->o.max_frame);
    c->next = h->conns;
    if (h->conns)
        h->conns->prev = c;
    h->conns = c;
    atomic_fetch_add(&h->n_open, 1);
    if (!c->is_dead) {
        c->is_opened = true;
        if (h->o.on_open)
            h->o.on_open(c, h->o.ctx);
        pump(c, c->extra_len > 0);
    }
}

static void close_conn(struct http_ws_hub *h, struct http_ws_conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        h->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    epoll_ctl(h->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    if (c->is_opened && h->o.on_close)
        h->o.on_close(c, h->o.ctx);
    else if (!c->is_opened && h->o.on_drop)
        h->o.on_drop(c->ctx, h->o.ctx);
    if (c->ws)
        wslay_event_context_free(c->ws);
    if (c->urh)
        MHD_upgrade_action(c->urh, MHD_UPGRADE_ACTION_CLOSE);
    else
        close(c->fd);
    free(c->extra);
    free(c);
    atomic_fetch_sub(&h->n_open, 1);
}

static void reap(struct http_ws_hub *h)
{
    for (struct http_ws_conn *c = h->conns, *next; c; c = next) {
        next = c->next;
        if (c->is_dead)
            close_conn(h, c);
    }
}

enum err http_ws_send(struct http_ws_conn *c, const char *text, size_t len)
{
    if (c->is_dead || !wslay_event_get_write_enabled(c->ws))
        return ERR_IO;
    struct wslay_event_msg m = {WSLAY_TEXT_FRAME, (const uint8_t *)text, len};
    if (wslay_event_queue_msg(c->ws, &m) != 0) {
        c->is_dead = true;
        return ERR_IO;
    }
    pump(c, false);
    if (!c->is_dead && wslay_event_get_queued_msg_length(c->ws) > c->hub->o.max_queue) {
        log_info("ws.slow_client_dropped",
                 LOG_INT("queued", (long long)wslay_event_get_queued_msg_length(c->ws)));
        c->is_dead = true;
        return ERR_TOO_LARGE;
    }
    return c->is_dead ? ERR_IO : ERR_OK;
}

void http_ws_close(struct http_ws_conn *c, int code, const char *reason)
{
    if (c->is_dead)
        return;
    if (wslay_event_queue_close(c->ws, (uint16_t)code, (const uint8_t *)reason,
                                reason ? strlen(reason) : 0) != 0)
        c->is_dead = true;
    pump(c, false);
}

void http_ws_each(struct http_ws_hub *h, http_ws_each_fn *fn, void *arg)
{
    for (struct http_ws_conn *c = h->conns; c; c = c->next)
        if (!c->is_dead && c->is_opened)
            fn(c, arg);
}

/* ---- the loop ---- */

static void take_pending(struct http_ws_hub *h)
{
    uint64_t v;
    ssize_t n = read(h->wakefd, &v, sizeof v);
    (void)n;
    pthread_mutex_lock(&h->lock);
    struct pending *p = h->pending;
    h->pending = NULL;
    pthread_mutex_unlock(&h->lock);
    while (p) {
        struct pending *next = p->next;
        open_pending(h, p);
        free(p);
        p = next;
    }
}

/* Pings everyone each ping_ms; drops a connection silent for 2.5 intervals. */
static void ping_round(struct http_ws_hub *h, int64_t now)
{
    if (now - h->last_ping_round_ms < h->o.ping_ms / 2)
        return;
    h->last_ping_round_ms = now;
    for (struct http_ws_conn *c = h->conns; c; c = c->next) {
        if (c->is_dead)
            continue;
        if (now - c->last_rx_ms > (int64_t)h->o.ping_ms * IDLE_PINGS_X / 2) {
            log_info("ws.idle_dropped", LOG_INT("silent_ms", now - c->last_rx_ms));
            c->is_dead = true;
        } else if (now - c->last_ping_ms >= h->o.ping_ms) {
            struct wslay_event_msg m = {WSLAY_PING, NULL, 0};
            c->last_ping_ms = now;
            if (wslay_event_queue_msg(c->ws, &m) != 0)
                c->is_dead = true;
            pump(c, false);
        }
    }
}

static void *hub_main(void *arg)
{
    struct http_ws_hub *h = arg;
    struct epoll_event evs[EPOLL_BATCH];
    while (!atomic_load(&h->stopping)) {
        int n = epoll_wait(h->epfd, evs, EPOLL_BATCH, h->o.tick_ms);
        bool woke = false;
        for (int i = 0; i < n; i++) {
            struct http_ws_conn *c = evs[i].data.ptr;
            if (!c) {
                woke = true;
                continue;
            }
            if (evs[i].events & (EPOLLERR | EPOLLHUP))
                c->is_dead = true;
            pump(c, (evs[i].events & (EPOLLIN | EPOLLRDHUP)) != 0);
        }
        if (woke)
            take_pending(h);
        int64_t now = clock_now_ms();
        if ((woke || now - h->last_tick_ms >= h->o.tick_ms) && h->o.on_tick) {
            h->last_tick_ms = now;
            h->o.on_tick(h, h->o.ctx);
        }
        ping_round(h, now);
        reap(h);
    }
    return NULL;
}

enum err http_ws_hub_start(const struct http_ws_opts *o, struct http_ws_hub **out)
{
    if (o->ping_ms <= 0 || o->tick_ms <= 0 || !o->max_frame || !o->max_queue)
        return ERR_INVALID;
    struct http_ws_hub *h = xcalloc(1, sizeof *h);
    h->o = *o;
    pthread_mutex_init(&h->lock, NULL);
    h->epfd = epoll_create1(EPOLL_CLOEXEC);
    h->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (h->epfd < 0 || h->wakefd < 0 || epoll_ctl(h->epfd, EPOLL_CTL_ADD, h->wakefd, &ev) != 0 ||
        pthread_create(&h->thread, NULL, hub_main, h) != 0) {
        log_error("ws.start_failed", LOG_STR("errno", strerror(errno)));
        if (h->epfd >= 0)
            close(h->epfd);
        if (h->wakefd >= 0)
            close(h->wakefd);
        free(h);
        return ERR_IO;
    }
    *out = h;
    return ERR_OK;
}

void http_ws_hub_stop(struct http_ws_hub *h)
{
    if (!h)
        return;
    atomic_store(&h->stopping, true);
    http_ws_hub_wake(h);
    pthread_join(h->thread, NULL);
    take_pending(h); /* upgrades that raced the stop: opened, then closed below */
    for (struct http_ws_conn *c = h->conns; c; c = c->next)
        if (!c->is_dead) {
            wslay_event_queue_close(c->ws, WSLAY_CODE_GOING_AWAY, NULL, 0);
            wslay_event_send(c->ws); /* best effort, never blocks */
            c->is_dead = true;
        }
    reap(h);
    close(h->epfd);
    close(h->wakefd);
    pthread_mutex_destroy(&h->lock);
    free(h);
}
