/*
 * meta/connect.c - the connect sequence (see connect.h): long-lived user token, debug_token,
 * Pages, Page tokens, one transaction that stores every account, then the webhook
 * subscriptions and their read-back.
 *
 * Reads first, writes last: every Graph answer the stored rows depend on is in hand before
 * store_begin(), so a code 190 at any read leaves nothing half-written. Subscribing comes
 * after storing, so the first webhook finds its account.
 * Tokens: the caller's token is borrowed; the long-lived one and the Page tokens are heap
 * copies wiped at the end; only sealed bytes go to the store. Error texts come from Meta's
 * `message`, which never carries the token (checked anyway: words()).
 */
#include "meta/connect.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/json.h"
#include "core/log.h"
#include "meta/connect_int.h"
#include "meta/graph_int.h"

#define SUBSCRIBE_ATTEMPTS     2
#define SUBSCRIBE_MAX_DELAY_MS 2000

const char *const meta_connect_default_fields[] = {
    "messages",
    "messaging_postbacks",
    "message_reactions",
    "message_echoes",
    "messaging_seen",
    "message_reads",
    "feed",
    NULL,
};

static enum err fail(struct conn *c, enum err rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum err fail(struct conn *c, enum err rc, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    c->r->error = arena_strdup(c->a, line);
    return rc;
}

/* "<Meta's message> (code 190/463)", with the message withheld if it ever held a token. */
static const char *words(struct conn *c, const struct meta_graph_error *e)
{
    const char *msg = e->message[0] ? e->message : "no answer";
    if ((c->input_token && *c->input_token && strstr(msg, c->input_token)) ||
        (c->user_token && strstr(msg, c->user_token)))
        msg = "(Meta's message withheld: it quoted the token)";
    if (e->code && e->subcode)
        return arena_printf(c->a, "%s (code %d/%d)", msg, e->code, e->subcode);
    if (e->code)
        return arena_printf(c->a, "%s (code %d)", msg, e->code);
    if (e->http_status)
        return arena_printf(c->a, "%s (HTTP %d)", msg, e->http_status);
    return msg;
}

/* GET /debug_token with the app token, keeping the raw data object for granular_scopes. */
static enum err debug_raw(struct conn *c, const char *token, struct meta_token_info *info,
                          const json_t **data, struct meta_graph_error *e)
{
    const struct meta_param p[] = {{"input_token", token}};
    const struct meta_graph_req req = {.method = "GET",
                                       .path = "/debug_token",
                                       .params = p,
                                       .n_params = 1,
                                       .access_token = meta_graph_app_token(c->g)};
    struct meta_graph_resp resp;
    enum err rc = meta_graph_call(c->g, &c->work, &req, &resp, e);
    if (rc == ERR_OK && meta_parse_debug_token(&c->work, resp.json, info) != ERR_OK) {
        meta_graph_error_set(e, resp.http_status, META_ERR_INVALID, "debug_token without is_valid");
        rc = ERR_UPSTREAM;
    }
    if (rc == ERR_OK && data) {
        *data = json_object_get(resp.json, "data");
        if (!json_is_object(*data))
            *data = resp.json;
    }
    return rc;
}

/* The exchange failed with a token error: say why in the clearest words debug_token gives. */
static enum err explain_refused(struct conn *c, const struct meta_graph_error *e)
{
    struct meta_token_info info;
    struct meta_graph_error e2;
    enum err rc = debug_raw(c, c->input_token, &info, NULL, &e2);
    if (rc == ERR_OK && info.is_valid && info.type && strcmp(info.type, "PAGE") == 0)
        return fail(c, ERR_INVALID,
                    "this is a Page access token; connect needs the user token of a person who "
                    "manages the Pages");
    if (rc == ERR_OK && !info.is_valid && info.error_code) {
        const char *code = info.error_subcode
                               ? arena_printf(c->a, "%d/%d", info.error_code, info.error_subcode)
                               : arena_printf(c->a, "%d", info.error_code);
        return fail(c, ERR_AUTH,
                    "the user token is not valid (code %s): it expired, was revoked or is not "
                    "a token; log in again and use a fresh one",
                    code);
    }
    return fail(c, ERR_AUTH, "Meta refused the user token: %s; log in again and use a fresh one",
                words(c, e));
}

static enum err get_long_lived(struct conn *c)
{
    struct meta_token tok;
    struct meta_graph_error e;
    enum err rc = meta_exchange_long_lived(c->g, &c->work, c->input_token, &tok, &e);
    if (rc == ERR_AUTH)
        return explain_refused(c, &e);
    if (rc != ERR_OK)
        return fail(c, rc, "exchanging the user token for a long-lived one failed: %s%s",
                    words(c, &e),
                    rc == ERR_UPSTREAM ? "; check SB_META_APP_ID and SB_META_APP_SECRET" : "");
    c->user_token = xstrdup(tok.access_token);
    return ERR_OK;
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* The granted scopes, sorted and comma-separated, in the report arena. */
static const char *join_scopes(struct conn *c, const char **scopes, size_t n)
{
    qsort(scopes, n, sizeof *scopes, cmp_str);
    char *out = arena_strdup(c->a, "");
    for (size_t i = 0; i < n; i++)
        if (i == 0 || strcmp(scopes[i], scopes[i - 1]) != 0)
            out = arena_printf(c->a, "%s%s%s", out, *out ? "," : "", scopes[i]);
    return out;
}

static enum err inspect_user(struct conn *c)
{
    struct meta_graph_error e;
    const json_t *data = NULL;
    struct meta_token_info *u = &c->user;
    enum err rc = debug_raw(c, c->user_token, u, &data, &e);
    if (rc != ERR_OK)
        return fail(c, rc, "checking the user token (debug_token) failed: %s", words(c, &e));
    if (!u->is_valid)
        return fail(c, ERR_AUTH, "the long-lived user token is not valid (code %d); log in again",
                    u->error_code);
    const char *app_id = meta_graph_app_id(c->g);
    if (u->app_id && strcmp(u->app_id, app_id) != 0)
        return fail(c, ERR_AUTH, "the token was issued to app %s, not to this app (%s)", u->app_id,
                    app_id);
    c->granular = json_object_get(data, "granular_scopes");
    c->r->user_id = u->user_id ? arena_strdup(c->a, u->user_id) : NULL;
    c->r->user_token_expires_at = u->expires_at * 1000;
    c->r->data_access_expires_at = u->data_access_expires_at * 1000;
    c->r->scopes = join_scopes(c, u->scopes, u->n_scopes);
    return ERR_OK;
}

/* ---- Pages ---- */

static const char *dup_or_null(struct arena *a, const char *s)
{
    return s && *s ? arena_strdup(a, s) : NULL;
}

static enum err on_page(void *ctx, const struct meta_page *p)
{
    struct conn *c = ctx;
    if (c->n_pages == c->cap_pages) {
        c->cap_pages = c->cap_pages ? 2 * c->cap_pages : 8;
        c->pages = xrealloc(c->pages, c->cap_pages * sizeof *c->pages);
    }
    struct conn_page *cp = &c->pages[c->n_pages++];
    *cp = (struct conn_page){.id = arena_strdup(c->a, p->id),
                             .name = dup_or_null(c->a, p->name),
                             .ig_id = dup_or_null(c->a, p->ig_id),
                             .ig_username = dup_or_null(c->a, p->ig_username),
                             .ig_picture = dup_or_null(c->a, p->ig_picture_url),
                             .token = p->access_token && *p->access_token ? xstrdup(p->access_token)
                                                                          : NULL};
    return ERR_OK;
}

static enum err list_pages(struct conn *c)
{
    struct meta_graph_error e;
    enum err rc = meta_list_pages(c->g, c->user_token, 0, on_page, c, &e);
    if (rc != ERR_OK)
        return fail(c, rc, "listing your Pages (/me/accounts) failed: %s", words(c, &e));
    if (c->n_pages == 0)
        return fail(c, ERR_NOT_FOUND,
                    "this login reaches no Facebook Page: log in again, tick your Pages in the "
                    "dialog, and make sure pages_show_list is granted");
    return ERR_OK;
}

/* debug_token on the Page token: its expiry, and whether it works at all. When the check
 * itself fails, the documented lifetime stands: a Page token from a long-lived user token
 * never expires (section 4.1). */
static void inspect_page(struct conn *c, struct conn_page *p)
{
    if (!p->token) {
        p->is_skipped = true;
        conn_finding(c, META_FINDING_PAGE_SKIPPED, p->id,
                     "Page %s gave no access token: your role on it does not allow managing "
                     "messages, so it was not connected",
                     conn_page_label(c, p));
        return;
    }
    struct meta_token_info info;
    struct meta_graph_error e;
    enum err rc = debug_raw(c, p->token, &info, NULL, &e);
    if (rc == ERR_OK && !info.is_valid) {
        p->is_skipped = true;
        conn_finding(c, META_FINDING_PAGE_SKIPPED, p->id,
                     "the token Meta gave for Page %s is not valid (code %d), so it was not "
                     "connected; reconnect",
                     conn_page_label(c, p), info.error_code);
        return;
    }
    p->token_expires_at = rc == ERR_OK ? info.expires_at * 1000 : 0;
}

static size_t usable_pages(const struct conn *c)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n_pages; i++)
        n += !c->pages[i].is_skipped;
    return n;
}

/* ---- storing ---- */

static enum err upsert(struct conn *c, enum store_platform pf, const struct conn_page *p,
                       int64_t *id, enum store_token_verdict *verdict)
{
    bool ig = pf == STORE_INSTAGRAM;
    const char *ext = ig ? p->ig_id : p->id;
    unsigned char *blob = NULL;
    size_t len = 0;
    enum err rc = meta_vault_seal(c->v, pf, ext, p->token, &blob, &len);
    const struct store_account_new in = {
        .platform = pf,
        .external_id = ext,
        .page_id = p->id,
        .name = ig ? NULL : p->name, /* an Instagram account shows as @username */
        .username = ig ? p->ig_username : NULL,
        .picture_url = ig ? p->ig_picture : NULL,
        .token_enc = blob,
        .token_enc_len = len,
        .token_expires_at = p->token_expires_at,
        .data_access_expires_at = c->r->data_access_expires_at,
        .user_id = c->r->user_id,
        .scopes = c->r->scopes,
    };
    if (rc == ERR_OK)
        rc = store_account_upsert(c->s, &in, c->now_ms, id, verdict);
    free(blob);
    return rc;
}

static void note_kept(struct conn *c, const char *what, enum store_token_verdict v)
{
    if (v == STORE_TOKEN_KEEP_EXPIRY)
        conn_finding(c, META_FINDING_TOKEN_KEPT, what,
                     "kept the stored token of %s: the new one expires sooner (it came from a "
                     "short-lived login?); the stored one still works",
                     what);
    else if (v == STORE_TOKEN_KEEP_SCOPES)
        conn_finding(c, META_FINDING_TOKEN_KEPT, what,
                     "kept the stored token of %s: the new login granted fewer scopes than the "
                     "stored one has",
                     what);
}

static enum err store_page(struct conn *c, struct conn_page *p)
{
    enum err rc = upsert(c, STORE_MESSENGER, p, &p->acct_id, &p->verdict);
    if (rc == ERR_OK && p->ig_id && !p->is_ig_skipped)
        rc = upsert(c, STORE_INSTAGRAM, p, &p->ig_acct_id, &p->ig_verdict);
    return rc;
}

/* Every account in one transaction: all stored, or none. */
static enum err store_all(struct conn *c)
{
    enum err rc = store_begin(c->s);
    for (size_t i = 0; rc == ERR_OK && i < c->n_pages; i++)
        if (!c->pages[i].is_skipped)
            rc = store_page(c, &c->pages[i]);
    for (size_t i = 0; rc == ERR_OK && i < c->n_unlinked; i++)
        rc = store_account_set_status(c->s, c->unlinked[i].id, STORE_ACCOUNT_NEEDS_RECONNECT,
                                      "no longer linked to its Page", c->now_ms);
    if (rc == ERR_OK)
        return store_commit(c->s);
    store_rollback(c->s);
    return fail(c, rc, "storing the accounts failed (%s); nothing was changed", err_name(rc));
}

/* ---- webhook subscriptions ---- */

static const char *join_fields(struct arena *a, const char *const *f, size_t n)
{
    char *out = arena_strdup(a, "");
    for (size_t i = 0; i < n; i++)
        out = arena_printf(a, "%s%s%s", out, i ? "," : "", f[i]);
    return out;
}

static enum err subscribe_with_retry(struct conn *c, const struct conn_page *p,
                                     const char *const *fields, struct meta_graph_error *e)
{
    enum err rc = ERR_OK;
    for (int attempt = 1; attempt <= SUBSCRIBE_ATTEMPTS; attempt++) {
        rc = meta_subscribe_page(c->g, p->id, p->token, fields, e);
        long delay_ms = 0;
        /* Subscribing is idempotent, so an ambiguous answer may be retried too. */
        bool again = rc == ERR_AGAIN || e->cls == META_ERR_AMBIGUOUS;
        if (rc == ERR_OK || !again || attempt == SUBSCRIBE_ATTEMPTS)
            break;
        if (!meta_graph_retry_delay_ms(e, attempt, &delay_ms))
            delay_ms = 200;
        clock_sleep_ms(delay_ms < SUBSCRIBE_MAX_DELAY_MS ? delay_ms : SUBSCRIBE_MAX_DELAY_MS);
    }
    return rc;
}

static void subscribe_failed(struct conn *c, struct conn_page *p, enum err rc,
                             const struct meta_graph_error *e)
{
    conn_finding(c, META_FINDING_SUBSCRIBE_FAILED, p->id,
                 "subscribing Page %s to webhooks failed: %s; no messages will arrive from it "
                 "until this works (reconnect; pages_manage_metadata and a MODERATE task on the "
                 "Page are needed)",
                 conn_page_label(c, p), words(c, e));
    if (rc == ERR_AUTH && p->verdict == STORE_TOKEN_REPLACE)
        err_ignore(store_account_set_status(c->s, p->acct_id, STORE_ACCOUNT_NEEDS_RECONNECT,
                                            "the Page token was refused (code 190)", c->now_ms));
}

/* Which wanted fields the read-back lacks, as "a, b"; NULL when none. */
static const char *missing_fields(struct arena *a, const char *const *want, const char **got,
                                  size_t n_got)
{
    char *out = NULL;
    for (size_t i = 0; want[i]; i++) {
        bool found = false;
        for (size_t j = 0; j < n_got && !found; j++)
            found = strcmp(want[i], got[j]) == 0;
        if (!found)
            out = arena_printf(a, "%s%s%s", out ? out : "", out ? ", " : "", want[i]);
    }
    return out;
}

static void read_back(struct conn *c, struct conn_page *p, const char *const *want)
{
    const char **got = NULL;
    size_t n = 0;
    struct meta_graph_error e;
    enum err rc = meta_page_subscriptions(c->g, &c->work, p->id, p->token, &got, &n, &e);
    if (rc != ERR_OK) {
        conn_finding(c, META_FINDING_SUBSCRIBE_FAILED, p->id,
                     "reading back the webhook subscription of Page %s failed: %s",
                     conn_page_label(c, p), words(c, &e));
        return;
    }
    const char *list = join_fields(c->a, got, n);
    err_ignore(store_account_set_subscription(c->s, p->acct_id, list, c->now_ms));
    if (p->ig_acct_id) /* Instagram's messaging webhooks flow through its Page's install */
        err_ignore(store_account_set_subscription(c->s, p->ig_acct_id, list, c->now_ms));
    const char *missing = missing_fields(c->a, want, got, n);
    if (missing && n > 0)
        conn_finding(c, META_FINDING_SUBSCRIPTION_INCOMPLETE, p->id,
                     "Page %s is subscribed to webhooks, but not to: %s", conn_page_label(c, p),
                     missing);
}

static void subscribe_all(struct conn *c)
{
    const char *const *fields = c->o->fields ? c->o->fields : meta_connect_default_fields;
    for (size_t i = 0; i < c->n_pages; i++) {
        struct conn_page *p = &c->pages[i];
        if (p->is_skipped)
            continue;
        struct meta_graph_error e;
        enum err rc = subscribe_with_retry(c, p, fields, &e);
        if (rc != ERR_OK)
            subscribe_failed(c, p, rc, &e);
        read_back(c, p, fields);
    }
}

/* ---- the report ---- */

static void add_account(struct conn *c, int64_t id, enum store_token_verdict v, size_t *cap)
{
    struct meta_connect_report *r = c->r;
    struct store_account acct;
    if (store_account_by_id(c->s, c->a, id, &acct) != ERR_OK)
        return;
    if (r->n_accounts == *cap) {
        *cap = *cap ? 2 * *cap : 8;
        struct meta_connected *bigger = arena_alloc(c->a, *cap * sizeof *bigger);
        if (r->n_accounts)
            memcpy(bigger, r->accounts, r->n_accounts * sizeof *bigger);
        r->accounts = bigger;
    }
    r->accounts[r->n_accounts++] = (struct meta_connected){.acct = acct, .verdict = v};
}

static void fill_accounts(struct conn *c)
{
    size_t cap = 0;
    for (size_t i = 0; i < c->n_pages; i++) {
        const struct conn_page *p = &c->pages[i];
        if (!p->is_skipped) {
            add_account(c, p->acct_id, p->verdict, &cap);
            note_kept(c, conn_page_label(c, p), p->verdict);
        }
    }
    for (size_t i = 0; i < c->n_pages; i++) {
        const struct conn_page *p = &c->pages[i];
        if (!p->is_skipped && p->ig_acct_id) {
            add_account(c, p->ig_acct_id, p->ig_verdict, &cap);
            note_kept(c, conn_ig_label(c, p->ig_username, p->ig_id), p->ig_verdict);
        }
    }
}

/* ---- the sequence ---- */

static enum err run(struct conn *c)
{
    enum err rc = get_long_lived(c);
    if (rc == ERR_OK)
        rc = inspect_user(c);
    if (rc == ERR_OK)
        rc = list_pages(c);
    for (size_t i = 0; rc == ERR_OK && i < c->n_pages; i++)
        inspect_page(c, &c->pages[i]);
    if (rc == ERR_OK && usable_pages(c) == 0)
        rc = fail(c, ERR_NOT_FOUND, "no Page could be connected: %s",
                  c->r->n_findings ? c->r->findings[c->r->n_findings - 1].text : "none is usable");
    if (rc == ERR_OK) {
        conn_check_login(c);
        rc = conn_check_pairing(c);
        if (rc != ERR_OK)
            rc = fail(c, rc, "reading the stored accounts failed (%s)", err_name(rc));
    }
    if (rc == ERR_OK)
        rc = store_all(c);
    if (rc == ERR_OK) {
        subscribe_all(c);
        fill_accounts(c);
    }
    return rc;
}

static void wipe(char *token)
{
    if (token) {
        crypto_cleanse(token, strlen(token));
        free(token);
    }
}

enum err meta_connect_accounts(struct meta_graph *g, struct store *s, struct meta_vault *v,
                               const char *user_token, const struct meta_connect_opts *o,
                               struct arena *a, struct meta_connect_report *out)
{
    static const struct meta_connect_opts defaults = {0};
    memset(out, 0, sizeof *out);
    struct conn c = {.g = g, .s = s, .v = v, .o = o ? o : &defaults, .r = out, .a = a};
    c.now_ms = c.o->now_ms ? c.o->now_ms : clock_now_ms();
    c.input_token = user_token;
    if (!user_token || !*user_token)
        return fail(&c, ERR_INVALID, "no user token was given");
    arena_init(&c.work);
    enum err rc = run(&c);
    log_write(rc == ERR_OK ? LOG_INFO : LOG_WARN, "accounts.connect", LOG_STR("user", out->user_id),
              LOG_INT("pages", c.n_pages), LOG_INT("accounts", out->n_accounts),
              LOG_INT("findings", out->n_findings), LOG_ERR(rc), LOG_END);
    for (size_t i = 0; i < c.n_pages; i++)
        wipe(c.pages[i].token);
    free(c.pages);
    wipe(c.user_token);
    arena_release(&c.work);
    return rc;
}
