/*
 * emulator/emulator.h - a faithful local Meta: the Graph API (login, Pages, Send API,
 * conversations, comments, Instagram publishing), webhook delivery, fault injection and a
 * customer-simulator page.
 *
 * Written from Meta's documentation (../shared/reference/meta-platform.md), never from our
 * meta/ module, so that a misreading on one side is caught by the other. It depends on core/
 * and http/ only, and `serve` never starts it: `switchboard demo` and `switchboard emulator`
 * (the tests' Meta) do.
 * State is in memory and dies with the process.
 * Threads: emulator_start()/emulator_stop() from one thread; the emulator runs its own HTTP
 * threads and one webhook-delivery thread.
 */
#ifndef SB_EMULATOR_EMULATOR_H
#define SB_EMULATOR_EMULATOR_H

#include <stdint.h>

#include "core/err.h"

struct emulator_opts {
    const char *host; /* listen address, "127.0.0.1" */
    int port;         /* 0: any free port (see emulator_port()) */
    const char *app_id;
    const char *app_secret;
    const char *public_url;      /* base of paging "next" URLs; NULL: http://host:port */
    const char *webhook_url;     /* where events are POSTed; NULL: nowhere until set */
    const char *deauthorize_url; /* signed_request callbacks; NULL: not configured */
    const char *deletion_url;
    int webhook_retry_ms;     /* first retry delay after the immediate one; 0: 1000 */
    int webhook_max_attempts; /* then the delivery is dropped, as Meta does; 0: 8 */
    int container_ready_ms;   /* how long a new image container stays IN_PROGRESS; <0: 0 */
    int quota_total;          /* posts per rolling 24 h; 0: 100 (Meta's current figure) */
    int rate_limit_per_hour;  /* calls per token per rolling hour before throttling; 0: 4800 */
    int require_proof;        /* 1: calls without appsecret_proof fail (code 100) */
    int customers;            /* how many customers the world has (0: the 4 named ones; at most
                                 10000: the rest are generated, for benchmarks) */
    int start_days_ago;       /* emulator time starts this many days behind the real clock
                                 (POST /_emulator/clock moves it forward), so a test can have a
                                 customer write days "before now" with Meta's own timestamps */
};

struct emulator;

/* Seeds the world (one admin, two Pages, one with an Instagram account, a few customers
 * and a post) and starts serving. Caller owns *out; stop with emulator_stop(). */
MUST_USE enum err emulator_start(const struct emulator_opts *o, struct emulator **out);
int emulator_port(const struct emulator *e);
/* Stops serving and delivering, frees everything (NULL is fine). */
void emulator_stop(struct emulator *e);

/* `switchboard emulator [--listen HOST:PORT] [--app-id ID] [--app-secret S] [--webhook URL]
 * ...`: runs until SIGTERM/SIGINT. Returns the process exit code. */
int emulator_main(int argc, const char **argv);

#endif
