/*
 * server/scheduler.h - the scheduler role's timed work, and the account gauges.
 *
 * Owns: the token health thread (meta/token_check.h: a round at start, then every
 * SB_TOKEN_CHECK_INTERVAL_S), the counter switchboard_token_checks_total{result=...} and the
 * gauges switchboard_accounts{status=...} and switchboard_accounts_token_expiring, read from
 * the store (at most once a second) whenever /metrics is rendered.
 * Threads: start and stop from the main thread; the round runs on its own thread with its own
 * store handle; the gauges are read on the rendering thread under a mutex.
 */
#ifndef SB_SERVER_SCHEDULER_H
#define SB_SERVER_SCHEDULER_H

#include "core/config.h"
#include "core/err.h"
#include "store/store.h"

struct scheduler;

/* Registers the account gauges (every role: whoever serves /metrics shows them) and, when
 * roles include ROLE_SCHEDULER and SB_META_APP_ID and SB_META_APP_SECRET are set, starts the
 * token health thread. Borrows cfg and so until scheduler_stop(). Caller owns *out. */
MUST_USE enum err scheduler_start(const struct config *cfg, const struct store_opts *so,
                                  unsigned roles, struct scheduler **out);
/* Stops the thread after the call in hand (NULL is fine) and frees. */
void scheduler_stop(struct scheduler *sc);

#endif
