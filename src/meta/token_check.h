/*
 * meta/token_check.h - tokens in use: when a connection's access ends, whether Meta still
 * accepts its token, and marking a dead one "needs reconnect" exactly once.
 *
 * Owns: the expiry rule (the nearer of the token's expiry and its login's data-access end,
 * warned about META_TOKEN_WARN_DAYS ahead, meta-platform.md section 4.3), the operators' words
 * for it (per account and the dashboard banner), the check round (one debug_token per distinct
 * token, never a retry), and meta_account_mark_dead(), which every Graph caller uses when Meta
 * answers META_ERR_AUTH (code 190/102).
 * Does not own: when a round runs (server/scheduler.c), metrics (the caller counts the
 * result), the rows (store/), opening tokens (vault.h).
 * Threads: the pure functions run anywhere; the others on the caller's thread with its own
 * store handle (g and v are shared safely).
 * Memory: texts live in the caller's arena. No text here ever holds a token.
 */
#ifndef SB_META_TOKEN_CHECK_H
#define SB_META_TOKEN_CHECK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/mem.h"
#include "meta/graph.h"
#include "meta/vault.h"
#include "store/store.h"

#define META_TOKEN_WARN_DAYS 7
#define META_DAY_MS          (24LL * 3600 * 1000)
#define META_TOKEN_WARN_MS   (META_TOKEN_WARN_DAYS * META_DAY_MS)

/* ---- expiry (pure) ---- */

struct meta_expiry {
    int64_t at_ms;       /* the nearer of the two ends that is not 0; 0: neither is known */
    bool is_data_access; /* at_ms is the login's data-access end, not the token's expiry */
    int64_t days_left;   /* whole days from now to at_ms, rounded down (negative once passed) */
    bool is_soon;        /* at_ms != 0 and less than META_TOKEN_WARN_MS away, or passed */
};

/* token_expires_at and data_access_expires_at in Unix ms, 0 meaning never / unknown. */
struct meta_expiry meta_token_expiry(int64_t token_expires_at, int64_t data_access_expires_at,
                                     int64_t now_ms);

/* ---- the operators' words (pure) ---- */

/* One sentence for an account that needs attention, or NULL: needs reconnect or revoked (with
 * its status reason), or an active account whose access ends within META_TOKEN_WARN_DAYS. */
const char *meta_account_warning(struct arena *a, const struct store_account *acct, int64_t now_ms);
/* The dashboard banner: a summary naming the accounts that need reconnecting and the active
 * ones whose access ends within META_TOKEN_WARN_DAYS; NULL when there are none. */
const char *meta_accounts_banner(struct arena *a, const struct store_account *accts, size_t n,
                                 int64_t now_ms);
/* The status reason for a token Meta refused, from its error code and subcode (0: unknown):
 * "Meta says the token is no longer valid (code 190/463: session expired); reconnect from the
 * dashboard". */
const char *meta_dead_token_reason(struct arena *a, int code, int subcode);

struct meta_accounts_tally {
    int64_t by_status[STORE_ACCOUNT_REVOKED + 1]; /* indexed by enum store_account_status */
    int64_t expiring; /* active accounts whose access ends within META_TOKEN_WARN_DAYS */
    int64_t silent;   /* active accounts with the silent-account alert raised (inbox/silence.h) */
};
void meta_accounts_tally(const struct store_account *accts, size_t n, int64_t now_ms,
                         struct meta_accounts_tally *out);

/* ---- dead tokens ---- */

/* Meta refused the token `used` carries (e->cls META_ERR_AUTH; e may be NULL): marks that
 * account needs_reconnect, and with it every account sharing its token (the same page_id: a
 * Page and its Instagram account), each with meta_dead_token_reason() and one warn line
 * "account.needs_reconnect". used is the row the caller read before its call; an account is
 * marked only while it is still active and, when used->token_enc is set, the row still holds
 * that sealed token (a reconnect meanwhile wins). Idempotent: an account already
 * needs_reconnect or revoked is left alone and nothing is logged. *n_marked (may be NULL)
 * receives how many were marked. Callers then stop sending for the account (its status says
 * so) instead of retrying. Store errors are returned. */
MUST_USE enum err meta_account_mark_dead(struct store *s, const struct store_account *used,
                                         const struct meta_graph_error *e, int64_t now_ms,
                                         size_t *n_marked);
/* The same for an explicit set of accounts known to share one token (rows as read before the
 * call that failed). One transaction. */
MUST_USE enum err meta_accounts_mark_dead(struct store *s, const struct store_account *rows,
                                          size_t n, const struct meta_graph_error *e,
                                          int64_t now_ms, size_t *n_marked);

/* ---- the check round ---- */

struct meta_token_check_result {
    size_t n_accounts; /* active accounts looked at */
    size_t n_expiring; /* of them, access ending within META_TOKEN_WARN_DAYS ("token.expiring") */
    size_t n_tokens;   /* distinct tokens among them */
    size_t n_valid, n_invalid, n_errors; /* debug_token outcomes, one per token asked about */
    size_t n_skipped; /* tokens not asked about: throttled, stopping, or not openable */
    size_t n_marked;  /* accounts marked needs_reconnect */
};

/* One round over every active account: warns "token.expiring" for access ending within
 * META_TOKEN_WARN_DAYS of now_ms, then asks debug_token once per distinct token. Invalid
 * (is_valid false, or the call answered META_ERR_AUTH) -> meta_accounts_mark_dead() for every
 * account holding it. Transient errors and rate limits leave the status alone (a rate limit
 * ends the round's calls: the next round tries again). Nothing is retried. stop (may be NULL)
 * is polled between calls. ERR_OK unless the store fails; *out says what happened. */
MUST_USE enum err meta_token_check_run(struct meta_graph *g, struct meta_vault *v, struct store *s,
                                       int64_t now_ms, const atomic_bool *stop,
                                       struct meta_token_check_result *out);

#endif
