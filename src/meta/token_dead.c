/*
 * meta/token_dead.c - marking accounts whose token Meta refused "needs reconnect", once.
 *
 * Owns: the rule every Graph caller follows on META_ERR_AUTH (code 190/102): mark the account
 * and the accounts sharing its token, in one transaction, only while each is still active and
 * still holds the token that was refused, so a second report of the same death changes and
 * logs nothing, and a reconnect that happened meanwhile is never undone. Senders then read the
 * status and stop instead of retrying (no retry storm).
 * Does not own: deciding that a token is dead (the caller's Graph answer, or token_check.c's
 * debug_token), the reason's words (token_words.c).
 */
#include "meta/token_check.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"

/* Whether cur still holds the sealed token snap was read with (no snapshot: yes). */
static bool same_token(const struct store_account *cur, const struct store_account *snap)
{
    if (!snap->token_enc)
        return true;
    return cur->token_enc && cur->token_enc_len == snap->token_enc_len &&
           memcmp(cur->token_enc, snap->token_enc, snap->token_enc_len) == 0;
}

/* Inside the caller's transaction: marks each row still active with the same token; sets
 * marked[i] for those. */
static enum err mark_rows(struct store *s, struct arena *a, const struct store_account *rows,
                          size_t n, const char *reason, int64_t now_ms, bool *marked)
{
    for (size_t i = 0; i < n; i++) {
        struct store_account cur;
        enum err rc = store_account_by_id(s, a, rows[i].id, &cur);
        if (rc == ERR_NOT_FOUND)
            continue;
        if (rc != ERR_OK)
            return rc;
        if (cur.status != STORE_ACCOUNT_ACTIVE || !same_token(&cur, &rows[i]))
            continue;
        rc = store_account_set_status(s, cur.id, STORE_ACCOUNT_NEEDS_RECONNECT, reason, now_ms);
        if (rc != ERR_OK)
            return rc;
        marked[i] = true;
    }
    return ERR_OK;
}

/* Inside the transaction: used (as it is now) and every account sharing its token (the same
 * page_id), or none when used's row no longer holds the token the caller used. */
static enum err gather(struct store *s, struct arena *a, const struct store_account *used,
                       struct store_account **out, size_t *n)
{
    *n = 0;
    struct store_account cur, *all = NULL;
    size_t n_all = 0;
    enum err rc = store_account_by_id(s, a, used->id, &cur);
    if (rc != ERR_OK || !same_token(&cur, used))
        return rc == ERR_NOT_FOUND ? ERR_OK : rc;
    if ((rc = store_accounts_list(s, a, &all, &n_all)) != ERR_OK)
        return rc;
    struct store_account *rows = arena_alloc(a, (n_all + 1) * sizeof *rows);
    rows[(*n)++] = cur;
    for (size_t i = 0; i < n_all; i++)
        if (all[i].id != cur.id && cur.page_id && all[i].page_id &&
            strcmp(all[i].page_id, cur.page_id) == 0)
            rows[(*n)++] = all[i];
    *out = rows;
    return ERR_OK;
}

static void log_marked(const struct store_account *rows, size_t n, const bool *marked,
                       const struct meta_graph_error *e, const char *reason)
{
    for (size_t i = 0; i < n; i++)
        if (marked[i])
            log_warn("account.needs_reconnect", LOG_INT("account", rows[i].id),
                     LOG_STR("platform", store_platform_name(rows[i].platform)),
                     LOG_STR("external_id", rows[i].external_id), LOG_INT("code", e ? e->code : 0),
                     LOG_INT("subcode", e ? e->subcode : 0), LOG_STR("reason", reason));
}

struct job {
    const struct store_account *used; /* gather from this account, or: */
    const struct store_account *rows; /* these rows */
    size_t n;
    bool *marked; /* n flags, in the arena */
    const char *reason;
};

/* The transaction's body: gathers (when used is set) or takes rows, then marks. */
static enum err mark_tx(struct store *s, struct arena *a, struct job *j, int64_t now_ms)
{
    if (j->used) {
        struct store_account *found = NULL;
        enum err rc = gather(s, a, j->used, &found, &j->n);
        if (rc != ERR_OK)
            return rc;
        j->rows = found;
    }
    j->marked = arena_alloc(a, (j->n + 1) * sizeof *j->marked);
    return mark_rows(s, a, j->rows, j->n, j->reason, now_ms, j->marked);
}

/* One transaction, then one log line per account marked (after the commit). */
static enum err mark_dead(struct store *s, struct job *j, const struct meta_graph_error *e,
                          int64_t now_ms, size_t *n_marked)
{
    struct arena a;
    arena_init(&a);
    j->reason = meta_dead_token_reason(&a, e ? e->code : 0, e ? e->subcode : 0);
    size_t k = 0;
    enum err rc = store_begin(s);
    if (rc == ERR_OK) {
        rc = mark_tx(s, &a, j, now_ms);
        if (rc == ERR_OK)
            rc = store_commit(s); /* rolls back itself when it fails */
        else
            store_rollback(s);
    }
    for (size_t i = 0; rc == ERR_OK && i < j->n; i++)
        k += j->marked[i];
    if (k)
        log_marked(j->rows, j->n, j->marked, e, j->reason);
    if (n_marked)
        *n_marked = k;
    arena_release(&a);
    return rc;
}

enum err meta_account_mark_dead(struct store *s, const struct store_account *used,
                                const struct meta_graph_error *e, int64_t now_ms, size_t *n_marked)
{
    struct job j = {.used = used};
    return mark_dead(s, &j, e, now_ms, n_marked);
}

enum err meta_accounts_mark_dead(struct store *s, const struct store_account *rows, size_t n,
                                 const struct meta_graph_error *e, int64_t now_ms, size_t *n_marked)
{
    struct job j = {.rows = rows, .n = n};
    return mark_dead(s, &j, e, now_ms, n_marked);
}
