/*
 * bench/ws_fanout.c - one event fanned out to N WebSocket clients: how long until the last
 * one has it. Used by bench/ws.sh; prints figures, asserts nothing about time.
 *
 *   ws_fanout PORT COOKIE ORIGIN CSRF CONVERSATION_ID N_CLIENTS N_EVENTS
 *
 * Opens N_CLIENTS connections to /ws (one epoll loop, non-blocking), waits until every one
 * said "ready", then N_EVENTS times: takes the clock, asks the server to take the conversation
 * over or hand it back (alternately; each is one conversation.updated event), and waits until
 * every client has received an event with that id (the first client to get one names it).
 * Prints the p50 / p99 / max of "request sent -> last client has it" in milliseconds.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct client {
    int fd;
    char buf[1 << 16];
    size_t len;
    int ready;
    long long last_id;
};

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int dial(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        perror("connect");
        exit(2);
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static void write_all(int fd, const char *s, size_t n)
{
    while (n) {
        ssize_t k = write(fd, s, n);
        if (k <= 0) {
            perror("write");
            exit(2);
        }
        s += k;
        n -= (size_t)k;
    }
}

/* Consumes whole frames from c->buf; records "ready" and the newest event id. */
static void frames(struct client *c)
{
    size_t off = 0;
    for (;;) {
        if (c->len - off < 2)
            break;
        unsigned char *p = (unsigned char *)c->buf + off;
        size_t n = p[1] & 0x7f, hdr = 2;
        if (n == 126) {
            if (c->len - off < 4)
                break;
            n = ((size_t)p[2] << 8) | p[3];
            hdr = 4;
        } else if (n == 127) {
            if (c->len - off < 10)
                break;
            n = 0;
            for (int i = 0; i < 8; i++)
                n = (n << 8) | p[2 + i];
            hdr = 10;
        }
        if (c->len - off < hdr + n)
            break;
        char *payload = (char *)p + hdr;
        if ((p[0] & 0x0f) == 1) {
            if (n > 16 && memmem(payload, n, "\"type\":\"ready\"", 14))
                c->ready = 1;
            char *e = memmem(payload, n, "\"type\":\"event\",\"id\":", 20);
            if (e)
                c->last_id = strtoll(e + 20, NULL, 10);
        } else if ((p[0] & 0x0f) == 9) { /* ping: answer with a masked pong */
            unsigned char pong[6] = {0x8a, 0x80, 0, 0, 0, 0};
            write_all(c->fd, (char *)pong, sizeof pong);
        }
        off += hdr + n;
    }
    memmove(c->buf, c->buf + off, c->len - off);
    c->len -= off;
}

static void upgrade(struct client *c, int port, const char *cookie, const char *origin)
{
    char req[2048];
    int n = snprintf(req, sizeof req,
                     "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\nCookie: sb_session=%s\r\nOrigin: %s\r\n\r\n",
                     port, cookie, origin);
    write_all(c->fd, req, (size_t)n);
    while (!memmem(c->buf, c->len, "\r\n\r\n", 4)) {
        ssize_t k = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
        if (k <= 0) {
            fprintf(stderr, "upgrade: connection closed\n");
            exit(2);
        }
        c->len += (size_t)k;
    }
    if (strncmp(c->buf, "HTTP/1.1 101", 12) != 0) {
        fprintf(stderr, "upgrade refused: %.40s\n", c->buf);
        exit(2);
    }
    char *end = memmem(c->buf, c->len, "\r\n\r\n", 4) + 4;
    c->len -= (size_t)(end - c->buf);
    memmove(c->buf, end, c->len);
}

/* One POST on a fresh connection; returns the status. */
static int post(int port, const char *path, const char *cookie, const char *csrf)
{
    int fd = dial(port);
    char req[1024], resp[4096];
    int n = snprintf(req, sizeof req,
                     "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: sb_session=%s\r\n"
                     "X-CSRF-Token: %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                     path, cookie, csrf);
    write_all(fd, req, (size_t)n);
    ssize_t k = read(fd, resp, sizeof resp - 1);
    close(fd);
    return k > 12 ? atoi(resp + 9) : 0;
}

static void pump(int ep, struct client *cl, int timeout_ms)
{
    struct epoll_event evs[256];
    int n = epoll_wait(ep, evs, 256, timeout_ms);
    for (int i = 0; i < n; i++) {
        struct client *c = &cl[evs[i].data.u32];
        ssize_t k = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
        if (k == 0) {
            fprintf(stderr, "a client was disconnected\n");
            exit(2);
        }
        if (k > 0) {
            c->len += (size_t)k;
            frames(c);
        }
    }
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc != 8) {
        fprintf(stderr, "usage: ws_fanout PORT COOKIE ORIGIN CSRF CONV N_CLIENTS N_EVENTS\n");
        return 2;
    }
    int port = atoi(argv[1]), n = atoi(argv[6]), events = atoi(argv[7]);
    const char *cookie = argv[2], *origin = argv[3], *csrf = argv[4], *conv = argv[5];
    struct client *cl = calloc((size_t)n, sizeof *cl);
    int ep = epoll_create1(0);
    for (int i = 0; i < n; i++) {
        cl[i].fd = dial(port);
        upgrade(&cl[i], port, cookie, origin);
        frames(&cl[i]);
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (unsigned)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, cl[i].fd, &ev);
    }
    for (int all = 0; !all;) {
        pump(ep, cl, 100);
        all = 1;
        for (int i = 0; i < n; i++)
            all &= cl[i].ready;
    }
    printf("connected %d clients\n", n);
    fflush(stdout);
    double *lat = calloc((size_t)events, sizeof *lat);
    char path[128];
    for (int e = 0; e < events; e++) {
        snprintf(path, sizeof path, "/api/conversations/%s/%s", conv, e % 2 ? "handback" : "takeover");
        long long before = cl[0].last_id;
        double t0 = now_ms();
        if (post(port, path, cookie, csrf) != 200) {
            fprintf(stderr, "POST %s failed\n", path);
            return 2;
        }
        while (cl[0].last_id == before)
            pump(ep, cl, 100);
        long long want = cl[0].last_id;
        for (int i = 0; i < n; i++)
            while (cl[i].last_id < want)
                pump(ep, cl, 100);
        lat[e] = now_ms() - t0;
    }
    qsort(lat, (size_t)events, sizeof *lat, cmp);
    printf("fan-out to %d clients over %d events: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", n,
           events, lat[events / 2], lat[(int)(events * 0.99)], lat[events - 1]);
    return 0;
}
