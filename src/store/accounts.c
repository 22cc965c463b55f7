/*
 * store/accounts.c - connected accounts, the part every backend shares: names of platforms
 * and statuses, the token's associated data, the reconnect rule ("never overwrite a good
 * token with an empty or worse one") and the upsert transaction that applies it.
 *
 * Owns: the decision which token a reconnect keeps. Backends only read and write rows
 * (store_ops.account_*); the rule runs here, inside one transaction, so two connects at once
 * (dashboard and CLI) cannot both win.
 * Does not own: sealing or opening tokens (meta/vault.c), talking to Meta (meta/connect.c).
 */
#include "store/store.h"

#include <stdio.h>
#include <string.h>

#include "store/store_int.h"

static const char *const platform_names[] = {
    [STORE_MESSENGER] = "messenger",
    [STORE_INSTAGRAM] = "instagram",
};

static const char *const status_names[] = {
    [STORE_ACCOUNT_ACTIVE] = "active",
    [STORE_ACCOUNT_NEEDS_RECONNECT] = "needs_reconnect",
    [STORE_ACCOUNT_REVOKED] = "revoked",
};

static const char *const verdict_names[] = {
    [STORE_TOKEN_REPLACE] = "replace",
    [STORE_TOKEN_KEEP_EMPTY] = "keep_empty",
    [STORE_TOKEN_KEEP_EXPIRY] = "keep_expiry",
    [STORE_TOKEN_KEEP_SCOPES] = "keep_scopes",
};

const char *store_platform_name(enum store_platform p)
{
    return (unsigned)p < sizeof platform_names / sizeof platform_names[0] ? platform_names[p] : "?";
}

const char *store_account_status_name(enum store_account_status st)
{
    return (unsigned)st < sizeof status_names / sizeof status_names[0] ? status_names[st] : "?";
}

const char *store_token_verdict_name(enum store_token_verdict v)
{
    return (unsigned)v < sizeof verdict_names / sizeof verdict_names[0] ? verdict_names[v] : "?";
}

enum err store_platform_parse(const char *s, enum store_platform *out)
{
    for (size_t i = 0; s && i < sizeof platform_names / sizeof platform_names[0]; i++) {
        if (strcmp(s, platform_names[i]) == 0) {
            *out = (enum store_platform)i;
            return ERR_OK;
        }
    }
    return ERR_INVALID;
}

bool store_token_aad(enum store_platform p, const char *external_id, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s:%s", store_platform_name(p), external_id ? external_id : "");
    return n > 0 && (size_t)n < cap && external_id && *external_id;
}

/* ---- the reconnect rule ---- */

/* Whether the comma-separated list holds scope (exactly, not as a prefix). */
static bool has_scope(const char *list, const char *scope, size_t len)
{
    for (const char *p = list; p && *p;) {
        size_t n = strcspn(p, ",");
        if (n == len && strncmp(p, scope, len) == 0)
            return true;
        p += n + (p[n] == ',');
    }
    return false;
}

/* Every scope of have is in want. */
static bool scopes_cover(const char *want, const char *have)
{
    for (const char *p = have; p && *p;) {
        size_t n = strcspn(p, ",");
        if (n > 0 && !has_scope(want, p, n))
            return false;
        p += n + (p[n] == ',');
    }
    return true;
}

static bool is_dead(const struct store_token_facts *t, int64_t now_ms)
{
    return !t->has_token || t->status != STORE_ACCOUNT_ACTIVE ||
           (t->expires_at != 0 && t->expires_at <= now_ms);
}

enum store_token_verdict store_token_compare(const struct store_token_facts *stored,
                                             const struct store_token_facts *incoming,
                                             int64_t now_ms)
{
    if (!incoming->has_token)
        return STORE_TOKEN_KEEP_EMPTY;
    if (is_dead(stored, now_ms))
        return STORE_TOKEN_REPLACE;
    if (incoming->expires_at != 0 &&
        (stored->expires_at == 0 || incoming->expires_at < stored->expires_at))
        return STORE_TOKEN_KEEP_EXPIRY;
    if (!scopes_cover(incoming->scopes, stored->scopes))
        return STORE_TOKEN_KEEP_SCOPES;
    return STORE_TOKEN_REPLACE;
}

/* ---- the upsert ---- */

static enum err upsert_in_tx(struct store *s, const struct store_account_new *in, int64_t now_ms,
                             int64_t *id, enum store_token_verdict *verdict)
{
    struct arena a;
    arena_init(&a);
    struct store_account cur;
    enum err rc = s->ops->account_get(s, &a, in->platform, in->external_id, 0, &cur);
    const struct store_token_facts incoming = {.has_token = in->token_enc && in->token_enc_len > 0,
                                               .expires_at = in->token_expires_at,
                                               .scopes = in->scopes,
                                               .status = STORE_ACCOUNT_ACTIVE};
    if (rc == ERR_NOT_FOUND) {
        *verdict = incoming.has_token ? STORE_TOKEN_REPLACE : STORE_TOKEN_KEEP_EMPTY;
        rc = incoming.has_token ? s->ops->account_insert(s, in, now_ms, id) : ERR_INVALID;
    } else if (rc == ERR_OK) {
        const struct store_token_facts stored = {.has_token = cur.token_enc_len > 0,
                                                 .expires_at = cur.token_expires_at,
                                                 .scopes = cur.scopes,
                                                 .status = cur.status};
        *verdict = store_token_compare(&stored, &incoming, now_ms);
        *id = cur.id;
        rc = s->ops->account_update(s, cur.id, in, *verdict == STORE_TOKEN_REPLACE, now_ms);
    }
    arena_release(&a);
    return rc;
}

enum err store_account_upsert(struct store *s, const struct store_account_new *in, int64_t now_ms,
                              int64_t *id, enum store_token_verdict *verdict)
{
    enum store_token_verdict v = STORE_TOKEN_KEEP_EMPTY;
    if (!in->external_id || !*in->external_id)
        return ERR_INVALID;
    enum err rc = store_begin(s);
    if (rc != ERR_OK)
        return rc;
    rc = upsert_in_tx(s, in, now_ms, id, &v);
    if (rc == ERR_OK)
        rc = store_commit(s);
    else
        store_rollback(s);
    if (verdict)
        *verdict = v;
    return rc;
}

/* ---- the rest dispatches to the backend ---- */

enum err store_account_get(struct store *s, struct arena *a, enum store_platform p,
                           const char *external_id, struct store_account *out)
{
    if (!external_id || !*external_id)
        return ERR_INVALID;
    return s->ops->account_get(s, a, p, external_id, 0, out);
}

enum err store_account_by_id(struct store *s, struct arena *a, int64_t id,
                             struct store_account *out)
{
    return s->ops->account_get(s, a, STORE_MESSENGER, NULL, id, out);
}

enum err store_accounts_list(struct store *s, struct arena *a, struct store_account **out,
                             size_t *n)
{
    return s->ops->accounts_list(s, a, out, n);
}

enum err store_account_set_status(struct store *s, int64_t id, enum store_account_status st,
                                  const char *reason, int64_t now_ms)
{
    return s->ops->account_set_status(s, id, st, reason, now_ms);
}

enum err store_account_set_subscription(struct store *s, int64_t id, const char *fields,
                                        int64_t now_ms)
{
    return s->ops->account_set_subscription(s, id, fields ? fields : "", now_ms);
}

enum err store_account_tokens(struct store *s, struct arena *a, int64_t after_id, size_t max,
                              struct store_sealed_token *out, size_t *n)
{
    return s->ops->account_tokens(s, a, after_id, max, out, n);
}

enum err store_account_token_swap(struct store *s, int64_t id, const unsigned char *old,
                                  size_t old_len, const unsigned char *new_enc, size_t new_len,
                                  bool *swapped)
{
    *swapped = false;
    if (!old || !old_len || !new_enc || !new_len)
        return ERR_INVALID;
    return s->ops->account_token_swap(s, id, old, old_len, new_enc, new_len, swapped);
}
