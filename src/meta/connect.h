/*
 * meta/connect.h - connecting a business's Facebook Pages and their Instagram accounts: the
 * one piece of code under both `switchboard accounts connect --user-token` and the
 * dashboard's /oauth/callback (which exchanges the login code first, then calls this).
 *
 * Owns: the connect sequence (meta-platform.md section 4): the long-lived user token,
 * debug_token (user, expiry, scopes, granular scopes), /me/accounts with paging, sealing and
 * storing every Page and linked Instagram account, subscribing each Page to webhooks and
 * reading the subscription back; and the self-test that names what is wrong in plain words.
 * Does not own: the Graph calls themselves (graph.h), the reconnect rule
 * (store_token_compare()), sealing (vault.h).
 * Guarantees: every token is sealed before it reaches the store and never appears in a log
 * line, a finding or an error message. Nothing is written until Meta has answered every read
 * (exchange, debug_token, every page of /me/accounts, each Page token's debug_token; when that
 * last check cannot be made, the documented lifetime stands), and all accounts are written in
 * one transaction, so a dead token (code 190) at any of those steps leaves the store exactly
 * as it was. Subscribing comes after storing; a Page token refused there (190) marks that
 * Page needs_reconnect.
 * Threads: any thread, with its own store handle; g and v are shared safely.
 */
#ifndef SB_META_CONNECT_H
#define SB_META_CONNECT_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/mem.h"
#include "meta/graph.h"
#include "meta/vault.h"
#include "store/store.h"

/* The webhook fields each Page is subscribed to: the messaging fields INTERFACE.md requires
 * (messages, messaging_postbacks, message_reactions, message_echoes, messaging_seen), the
 * Messenger read receipt, and `feed` for Page comments. Instagram comments are an Instagram
 * object field set in the App Dashboard, not through a Page subscription (section 4.5). */
extern const char *const meta_connect_default_fields[];

/* The scopes a connect expects when none are configured, each with what breaks without it. */
extern const char meta_connect_default_scopes[];

struct meta_connect_opts {
    const char *wanted_scopes; /* comma-separated (SB_META_SCOPES); NULL: the default */
    const char *const *fields; /* NULL-terminated; NULL: meta_connect_default_fields */
    int64_t now_ms;            /* 0: the clock */
};

enum meta_finding_kind {
    META_FINDING_SCOPE_MISSING,    /* a scope not granted (at all, or for one Page/account) */
    META_FINDING_NO_INSTAGRAM,     /* a Page without a linked Instagram account */
    META_FINDING_PAIRING,          /* an Instagram account linked unexpectedly or no longer */
    META_FINDING_PAGE_SKIPPED,     /* a Page whose token is missing or not valid */
    META_FINDING_SUBSCRIBE_FAILED, /* subscribing or reading the subscription back failed */
    META_FINDING_SUBSCRIPTION_INCOMPLETE, /* subscribed, but some fields are missing */
    META_FINDING_TOKEN_KEPT,              /* the stored token was better and was kept */
    META_FINDING_EXPIRY,                  /* the login's data access ends soon */
};

struct meta_finding {
    enum meta_finding_kind kind;
    const char *subject; /* the scope, Page id or Instagram account id it is about */
    const char *text;    /* one sentence in plain words; never a token */
};

struct meta_connected {
    struct store_account acct;        /* the row as stored after the connect */
    enum store_token_verdict verdict; /* what this connect did to its token */
};

struct meta_connect_report {
    const char *user_id;            /* the app-scoped id of the person who logged in */
    int64_t user_token_expires_at;  /* ms; 0: never */
    int64_t data_access_expires_at; /* ms; 0: unknown */
    const char *scopes;             /* granted, sorted, comma-separated */
    struct meta_finding *findings;
    size_t n_findings;
    struct meta_connected *accounts; /* Pages first, then Instagram accounts */
    size_t n_accounts;
    const char *error; /* rc != ERR_OK: one line in plain words (no token); else NULL */
};

/* Connects every Page (and linked Instagram account) user_token reaches. user_token may be
 * short- or long-lived; it is exchanged for a long-lived one first (harmless when it already
 * is), so Page tokens never expire. Findings are warnings: the result is ERR_OK with accounts
 * stored even when some Page failed to subscribe.
 * Errors (out->error says which step and why): ERR_INVALID an empty token or a Page token;
 * ERR_AUTH the token is dead or belongs to another app (code 190 and friends); ERR_NOT_FOUND
 * the token reaches no Page; ERR_AGAIN Meta is throttling or unavailable; ERR_UPSTREAM any
 * other Graph error; store errors as they come. Report strings live in the arena a. */
MUST_USE enum err meta_connect_accounts(struct meta_graph *g, struct store *s, struct meta_vault *v,
                                        const char *user_token, const struct meta_connect_opts *o,
                                        struct arena *a, struct meta_connect_report *out);

const char *meta_finding_kind_name(enum meta_finding_kind k);

#endif
