/*
 * inbox/pace.h - how fast the sender may call the Send API for each account: a token bucket
 * per account (SB_SEND_RATE calls a second, a second's worth of burst), slowed to half while
 * Meta's usage headers say the account is close to its limit.
 *
 * Owns: the arithmetic and the per-account state of this process (each worker process paces
 * its own calls; Meta's own throttling, which every process sees, is the store's
 * send_paused_until, decided by inbox/sender.c).
 * Does not own: the clock (callers pass now), what happens to a call that must wait (the
 * sender sleeps a few ms or defers the job).
 * Threads: any; one mutex inside.
 */
#ifndef SB_INBOX_PACE_H
#define SB_INBOX_PACE_H

#include <stdint.h>

#define INBOX_PACE_SLOW_PCT 80            /* usage at or above this halves the rate */
#define INBOX_PACE_SLOW_MS  (60LL * 1000) /* for this long after the usage was read */

struct inbox_pace;

/* rate_per_s <= 0: no pacing (every take succeeds). Caller owns the result; free with
 * inbox_pace_free(). */
struct inbox_pace *inbox_pace_new(int64_t rate_per_s);
void inbox_pace_free(struct inbox_pace *p);

/* Takes n calls' worth for account_id at now_ms: 0 when they may go now (and they are taken),
 * otherwise how many ms until they may (nothing is taken). n larger than the bucket holds is
 * treated as a full bucket. */
int64_t inbox_pace_take(struct inbox_pace *p, int64_t account_id, int n, int64_t now_ms);

/* Meta's usage headers for the account read max_pct (0..): at or above INBOX_PACE_SLOW_PCT the
 * account runs at half its rate until INBOX_PACE_SLOW_MS after now_ms. */
void inbox_pace_usage(struct inbox_pace *p, int64_t account_id, int max_pct, int64_t now_ms);

#endif
