/*
 * meta/token_check.c - one round of the token health check (token_check.h): expiry warnings
 * from the stored dates, then debug_token once per distinct token among the active accounts.
 *
 * A Page's Instagram account carries the Page's token, so accounts are grouped by the opened
 * token itself (compared in memory, never logged) and each group costs one call. A refused
 * token marks its whole group through meta_accounts_mark_dead(); a transient failure leaves
 * the group for the next round; a rate limit ends this round's calls. Nothing is retried here.
 * Tokens: opened into heap strings for the length of the round, then wiped.
 */
#include "meta/token_check.h"

#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/log.h"

struct group {
    char *token;  /* plaintext, heap; wiped at the end of the round */
    size_t *idx;  /* indices into the round's account list */
    size_t n_idx; /* at least 1 */
};

struct round {
    struct meta_graph *g;
    struct store *s;
    struct arena a;
    struct store_account *accts;
    size_t n_accts;
    struct group *groups;
    size_t n_groups;
    int64_t now_ms;
    bool is_throttled; /* a rate limit ended this round's calls */
    struct meta_token_check_result *out;
};

static void warn_expiring(const struct store_account *acct, const struct meta_expiry *e)
{
    char iso[32];
    clock_format_iso(e->at_ms, iso, sizeof iso);
    log_warn("token.expiring", LOG_INT("account", acct->id),
             LOG_STR("platform", store_platform_name(acct->platform)),
             LOG_STR("external_id", acct->external_id), LOG_INT("days_left", e->days_left),
             LOG_STR("expires_at", iso),
             LOG_STR("which", e->is_data_access ? "data_access" : "token"));
}

/* Puts account i in the group holding the same token (taking token), or a new one. */
static void add_to_group(struct round *r, size_t i, char *token)
{
    for (size_t k = 0; k < r->n_groups; k++) {
        struct group *gr = &r->groups[k];
        if (strcmp(gr->token, token) == 0) {
            gr->idx[gr->n_idx++] = i;
            crypto_cleanse(token, strlen(token));
            free(token);
            return;
        }
    }
    struct group *gr = &r->groups[r->n_groups++];
    gr->token = token;
    gr->idx = arena_alloc(&r->a, r->n_accts * sizeof *gr->idx);
    gr->idx[gr->n_idx++] = i;
}

/* Expiry warnings and grouping, over the active accounts. */
static void survey(struct round *r, struct meta_vault *v)
{
    r->groups = arena_alloc(&r->a, (r->n_accts + 1) * sizeof *r->groups);
    for (size_t i = 0; i < r->n_accts; i++) {
        const struct store_account *acct = &r->accts[i];
        if (acct->status != STORE_ACCOUNT_ACTIVE)
            continue;
        r->out->n_accounts++;
        struct meta_expiry e =
            meta_token_expiry(acct->token_expires_at, acct->data_access_expires_at, r->now_ms);
        if (e.is_soon) {
            warn_expiring(acct, &e);
            r->out->n_expiring++;
        }
        char *token = NULL;
        enum err rc = meta_vault_open(v, acct, &token);
        if (rc != ERR_OK) {
            log_warn("token.check_failed", LOG_INT("account", acct->id),
                     LOG_STR("platform", store_platform_name(acct->platform)),
                     LOG_STR("external_id", acct->external_id),
                     LOG_STR("reason", "the stored token could not be opened"), LOG_ERR(rc));
            r->out->n_skipped++;
            continue;
        }
        add_to_group(r, i, token);
    }
    r->out->n_tokens = r->n_groups;
}

static void refused(struct round *r, const struct group *gr, const struct meta_graph_error *e)
{
    struct store_account *rows = arena_alloc(&r->a, gr->n_idx * sizeof *rows);
    for (size_t k = 0; k < gr->n_idx; k++)
        rows[k] = r->accts[gr->idx[k]];
    size_t n = 0;
    enum err rc = meta_accounts_mark_dead(r->s, rows, gr->n_idx, e, r->now_ms, &n);
    if (rc != ERR_OK)
        log_error("token.mark_failed", LOG_INT("account", rows[0].id), LOG_ERR(rc));
    r->out->n_invalid++;
    r->out->n_marked += n;
}

static void failed(struct round *r, const struct group *gr, const struct meta_graph_error *e,
                   enum err rc)
{
    const struct store_account *first = &r->accts[gr->idx[0]];
    log_warn("token.check_failed", LOG_INT("account", first->id),
             LOG_STR("platform", store_platform_name(first->platform)),
             LOG_STR("external_id", first->external_id), LOG_INT("accounts", gr->n_idx),
             LOG_STR("class", meta_err_class_name(e->cls)), LOG_INT("code", e->code),
             LOG_INT("http_status", e->http_status), LOG_ERR(rc));
    r->out->n_errors++;
    if (e->cls == META_ERR_RATE_LIMIT)
        r->is_throttled = true;
}

/* One debug_token call for one group, and what follows from its answer. */
static void check_group(struct round *r, const struct group *gr)
{
    struct arena call;
    arena_init(&call);
    struct meta_token_info info;
    struct meta_graph_error e;
    memset(&e, 0, sizeof e);
    enum err rc = meta_debug_token(r->g, &call, gr->token, &info, &e);
    if (rc == ERR_OK && info.is_valid) {
        r->out->n_valid++;
    } else if (rc == ERR_OK) {
        e.code = info.error_code ? info.error_code : 190;
        e.subcode = info.error_subcode;
        e.cls = META_ERR_AUTH;
        refused(r, gr, &e);
    } else if (e.cls == META_ERR_AUTH) {
        refused(r, gr, &e);
    } else {
        failed(r, gr, &e, rc);
    }
    arena_release(&call);
}

static void wipe_groups(struct round *r)
{
    for (size_t k = 0; k < r->n_groups; k++) {
        crypto_cleanse(r->groups[k].token, strlen(r->groups[k].token));
        free(r->groups[k].token);
    }
}

enum err meta_token_check_run(struct meta_graph *g, struct meta_vault *v, struct store *s,
                              int64_t now_ms, const atomic_bool *stop,
                              struct meta_token_check_result *out)
{
    memset(out, 0, sizeof *out);
    struct round r = {.g = g, .s = s, .now_ms = now_ms, .out = out};
    arena_init(&r.a);
    int64_t t0 = clock_mono_us();
    enum err rc = store_accounts_list(s, &r.a, &r.accts, &r.n_accts);
    if (rc == ERR_OK)
        survey(&r, v);
    for (size_t k = 0; rc == ERR_OK && k < r.n_groups; k++) {
        if (r.is_throttled || (stop && atomic_load(stop)))
            out->n_skipped++;
        else
            check_group(&r, &r.groups[k]);
    }
    wipe_groups(&r);
    arena_release(&r.a);
    enum log_level level = rc != ERR_OK ? LOG_ERROR : out->n_accounts ? LOG_INFO : LOG_DEBUG;
    log_write(level, "token.checked", LOG_INT("accounts", out->n_accounts),
              LOG_INT("tokens", out->n_tokens), LOG_INT("valid", out->n_valid),
              LOG_INT("invalid", out->n_invalid), LOG_INT("errors", out->n_errors),
              LOG_INT("skipped", out->n_skipped), LOG_INT("expiring", out->n_expiring),
              LOG_INT("marked", out->n_marked), LOG_INT("ms", (clock_mono_us() - t0) / 1000),
              LOG_ERR(rc), LOG_END);
    return rc;
}
