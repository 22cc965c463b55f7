/*
 * server/server.h - a running Switchboard process: roles, routes, signals, shutdown.
 *
 * Owns: wiring the modules together for `serve` (all roles, or one with --role), the ops
 * routes (/healthz, /readyz, /metrics) and the graceful shutdown on SIGTERM/SIGINT: stop
 * accepting, finish requests in flight (each answered only after its commit), stop the
 * workers after the job in hand, flush the queue writer, checkpoint the database.
 * Threads: server_run() on the main thread; it blocks until a signal.
 */
#ifndef SB_SERVER_SERVER_H
#define SB_SERVER_SERVER_H

#include "core/config.h"
#include "core/err.h"

enum server_role {
    ROLE_INGEST = 1 << 0,    /* webhooks, OAuth, data-deletion callbacks */
    ROLE_WORKER = 1 << 1,    /* queued jobs: events, turns, sends */
    ROLE_GATEWAY = 1 << 2,   /* dashboard, REST, WebSocket */
    ROLE_SCHEDULER = 1 << 3, /* timed work: publishing, reconciliation, pruning */
    ROLE_ALL = 0xf,
};

/* Parses "ingest", "worker", "gateway" or "scheduler". */
MUST_USE enum err server_parse_role(const char *s, unsigned *roles);
/* Runs until SIGTERM or SIGINT; ERR_OK after a clean shutdown. */
MUST_USE enum err server_run(const struct config *cfg, unsigned roles);

/* The same in two halves, for callers that do something while it serves (demo). Block
 * SIGTERM/SIGINT in the calling thread before server_start() so no server thread takes them. */
struct server;
MUST_USE enum err server_start(const struct config *cfg, unsigned roles, struct server **out);
/* Stops in the safe order and frees (NULL is fine). */
void server_stop(struct server *s);
/* A connection of the server's own store, for the caller's thread only. */
struct store *server_store(struct server *s);

/* `switchboard demo`: the server with a demo app secret, fed real-shaped signed deliveries,
 * explaining on stdout what it did with each; then serves until SIGTERM/SIGINT. */
MUST_USE enum err server_demo(struct config *cfg);

#endif
