/*
 * inbox/silence.h - the silent-account alert: an account that has heard nothing from Meta
 * for far longer than usual (a webhook subscription lost, "Allow access to messages" switched
 * off, a token Meta stopped honouring without telling us) is flagged, logged once
 * (account.silent), counted in /metrics (switchboard_accounts_silent) and shown in
 * /api/accounts.
 *
 * Owns: the rule, as pure functions, and the round that applies it to every active account.
 * "Usual" is the account's own moving average of the time between its events
 * (accounts.event_gap_ms, kept by store_account_seen() from every routed event): silent when
 * the quiet has lasted INBOX_SILENT_FACTOR times that, and never sooner than the floor
 * (SB_SILENT_FLOOR_S); an account that never heard anything counts its quiet from when it
 * was connected.
 * Threads: the round runs on worker 0, on its connection; the rule is pure.
 */
#ifndef SB_INBOX_SILENCE_H
#define SB_INBOX_SILENCE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

struct store;
struct store_account;

#define INBOX_SILENT_FACTOR   10
#define INBOX_SILENT_CHECK_MS (60LL * 1000) /* how often the round runs at most */

/* How long the account may stay quiet before it is silent (ms). */
int64_t inbox_silent_after_ms(int64_t event_gap_ms, int64_t floor_ms);
/* Whether acct (active or not: the caller decides) is silent at now_ms. */
bool inbox_is_silent(const struct store_account *acct, int64_t floor_ms, int64_t now_ms);

/* Raises or clears the alert of every active account; *n_silent (may be NULL) receives how
 * many are silent after it. One log line per alert raised. */
MUST_USE enum err inbox_check_silence(struct store *s, int64_t floor_ms, int64_t now_ms,
                                      int *n_silent);

#endif
