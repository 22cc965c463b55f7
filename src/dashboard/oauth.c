/*
 * dashboard/oauth.c - connecting a business's Pages and Instagram accounts through Facebook
 * Login: /oauth/start sends the signed-in operator to Meta's dialog with a state that is
 * random, single-use, bound to their session and valid for 10 minutes; /oauth/callback checks
 * it, exchanges the code, and hands the user token to the same connect code the CLI uses.
 */
#include "dashboard/dash_int.h"

#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "meta/connect.h"
#include "meta/graph.h"

#define STATE_TTL_MS (10 * 60 * 1000LL)

static const char *redirect_uri(struct dashboard *d, struct arena *a)
{
    return arena_printf(a, "%s/oauth/callback", d->cfg->public_url);
}

void dash_h_oauth_start(struct http_req *r, void *ctx)
{
    struct dashboard *d = ctx;
    struct dashboard_session ss;
    if (!dashboard_require_session(d, r, false, &ss))
        return;
    if (!*d->cfg->meta_app_id) {
        http_reply_error(r, ERR_INVALID, "SB_META_APP_ID is not set");
        return;
    }
    struct store *s = ss.store;
    struct arena *a = http_req_arena(r);
    const char *state = dash_random_token(a);
    int64_t now = clock_now_ms();
    enum err rc =
        store_oauth_state_add(s, dash_hash_hex(a, state), ss.id_hash, now, now + STATE_TTL_MS);
    if (rc != ERR_OK) {
        http_reply_error(r, rc, "could not start the login");
        return;
    }
    const struct config *c = d->cfg;
    char *url = meta_oauth_dialog_url(a, c->meta_oauth_url, c->meta_graph_version, c->meta_app_id,
                                      redirect_uri(d, a), state, c->meta_scopes);
    log_info("oauth.start", LOG_INT("operator", ss.operator_id));
    http_set_header(r, "Location", url);
    http_set_header(r, "Cache-Control", "no-store");
    http_reply_text(r, 302, "");
}

/* ---- the page the operator lands on ---- */

struct kv {
    struct buf *b;
    struct arena *a;
};

static void add_arg(void *ctx, const char *k, const char *v)
{
    struct kv *kv = ctx;
    err_ignore(buf_printf(kv->b, "%s%s=%s", kv->b->len ? "&" : "", http_url_encode(kv->a, k),
                          http_url_encode(kv->a, v)));
}

/* A small page: a heading, a list of lines, a link back to the dashboard. */
static void result_page(struct http_req *r, int status, const char *title, const char *const *lines,
                        size_t n)
{
    struct buf b;
    buf_init(&b, 256 * 1024);
    err_ignore(buf_puts(&b, "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                            "<title>Switchboard: connect accounts</title><style>body{font:16px "
                            "system-ui,sans-serif;max-width:640px;margin:48px auto;padding:0 "
                            "16px;color:#1c1e21}li{margin:8px 0}</style></head><body><h1>"));
    err_ignore(buf_html_escape(&b, title));
    err_ignore(buf_puts(&b, "</h1><ul>"));
    for (size_t i = 0; i < n; i++) {
        err_ignore(buf_puts(&b, "<li>"));
        err_ignore(buf_html_escape(&b, lines[i]));
        err_ignore(buf_puts(&b, "</li>"));
    }
    err_ignore(buf_puts(&b, "</ul><p><a href=\"/\">Back to the dashboard</a></p></body></html>"));
    http_set_header(r, "Cache-Control", "no-store");
    http_reply(r, status, "text/html; charset=utf-8", b.data, b.len);
    buf_release(&b);
}

static void fail_page(struct http_req *r, int status, const char *why)
{
    const char *lines[] = {why};
    result_page(r, status, "Accounts were not connected", lines, 1);
}

/* The state must exist, be unused, unexpired, and belong to this session. */
static bool state_ok(struct http_req *r, const struct dashboard_session *ss)
{
    const char *state = http_req_query(r, "state");
    enum err rc = state ? store_oauth_state_take(ss->store, dash_hash_hex(http_req_arena(r), state),
                                                 ss->id_hash, clock_now_ms())
                        : ERR_NOT_FOUND;
    if (rc == ERR_OK)
        return true;
    log_warn("oauth.bad_state", LOG_ERR(rc), LOG_INT("operator", ss->operator_id));
    fail_page(r, 400,
              rc == ERR_AUTH ? "This login was started from another session. Start again "
                               "from the dashboard."
                             : "This login link has expired or was already used. Start again "
                               "from the dashboard.");
    return false;
}

/* Everything a finished connect says, one line each: accounts, then findings. */
static const char **report_lines(struct arena *a, const struct meta_connect_report *rep, size_t *n)
{
    const char **lines = arena_alloc(a, (rep->n_accounts + rep->n_findings + 1) * sizeof *lines);
    size_t k = 0;
    for (size_t i = 0; i < rep->n_accounts; i++) {
        const struct store_account *acct = &rep->accounts[i].acct;
        bool ig = acct->platform == STORE_INSTAGRAM;
        lines[k++] = arena_printf(
            a, "Connected %s %s%s (%s)", ig ? "Instagram account" : "Page", ig ? "@" : "",
            ig && acct->username ? acct->username : (acct->name ? acct->name : ""),
            acct->external_id);
    }
    for (size_t i = 0; i < rep->n_findings; i++)
        lines[k++] = rep->findings[i].text;
    *n = k;
    return lines;
}

/* The code -> a user token -> the connect every path shares. */
static enum err connect_with_code(struct dashboard *d, struct store *s, struct arena *a,
                                  const char *code, struct meta_connect_report *rep)
{
    struct meta_token tok;
    struct meta_graph_error gerr;
    memset(rep, 0, sizeof *rep);
    enum err rc = meta_exchange_code(d->graph, a, code, redirect_uri(d, a), &tok, &gerr);
    if (rc != ERR_OK) {
        rep->error = arena_printf(a, "Facebook did not accept the login code: %s (code %d)",
                                  gerr.message, gerr.code);
        return rc;
    }
    struct meta_connect_opts o = {.wanted_scopes = d->cfg->meta_scopes};
    return meta_connect_accounts(d->graph, s, d->vault, tok.access_token, &o, a, rep);
}

/* Facebook's redirect back here is a cross-site navigation, which carries no SameSite=Strict
 * cookie. Without one, this answers a tiny page of our own that goes on to /oauth/finish with
 * the same query: a navigation from our own page, so the browser sends the cookie there. */
static void continue_page(struct http_req *r)
{
    struct buf query;
    buf_init(&query, 8 * 1024);
    struct kv kv = {&query, http_req_arena(r)};
    http_req_query_each(r, add_arg, &kv);
    struct buf b;
    buf_init(&b, 32 * 1024);
    const char *url = arena_printf(http_req_arena(r), "/oauth/finish?%.*s", (int)query.len,
                                   query.len ? query.data : "");
    err_ignore(buf_puts(&b, "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                            "<meta http-equiv=\"refresh\" content=\"0;url="));
    err_ignore(buf_html_escape(&b, url));
    err_ignore(buf_puts(&b, "\"><title>Switchboard: connecting</title></head><body><p>"
                            "Finishing the connection&hellip; <a href=\""));
    err_ignore(buf_html_escape(&b, url));
    err_ignore(buf_puts(&b, "\">Continue</a></p></body></html>"));
    http_set_header(r, "Cache-Control", "no-store");
    http_set_header(r, "Referrer-Policy", "no-referrer");
    http_reply(r, 200, "text/html; charset=utf-8", b.data, b.len);
    buf_release(&b);
    buf_release(&query);
}

static void finish(struct dashboard *d, struct http_req *r)
{
    struct dashboard_session ss;
    if (!dashboard_require_session(d, r, false, &ss) || !state_ok(r, &ss))
        return;
    const char *error = http_req_query(r, "error");
    const char *code = http_req_query(r, "code");
    if (error || !code) {
        const char *reason = http_req_query(r, "error_reason");
        fail_page(r, 400,
                  reason && strcmp(reason, "user_denied") == 0
                      ? "You cancelled the Facebook login, so nothing was connected."
                      : "Facebook did not return a login code, so nothing was connected.");
        return;
    }
    if (!d->graph || !d->vault) {
        fail_page(r, 500, "SB_META_APP_ID and SB_META_APP_SECRET must be set to connect.");
        return;
    }
    struct arena *a = http_req_arena(r);
    struct meta_connect_report rep;
    enum err rc = connect_with_code(d, ss.store, a, code, &rep);
    log_info("oauth.callback", LOG_INT("operator", ss.operator_id), LOG_ERR(rc),
             LOG_INT("accounts", rep.n_accounts), LOG_INT("findings", rep.n_findings));
    dash_audit(ss.store, ss.operator_id, "connect", NULL,
               json_pack("{s:s, s:I, s:I}", "result", err_name(rc), "accounts",
                         (json_int_t)rep.n_accounts, "findings", (json_int_t)rep.n_findings));
    if (rc != ERR_OK) {
        fail_page(r, rc == ERR_AUTH ? 403 : 502, rep.error ? rep.error : err_name(rc));
        return;
    }
    size_t n = 0;
    const char **lines = report_lines(a, &rep, &n);
    result_page(r, 200, rep.n_findings ? "Connected, with warnings" : "Accounts connected", lines,
                n);
}

void dash_h_oauth_callback(struct http_req *r, void *ctx)
{
    const char *cookie = dash_cookie(r, DASHBOARD_COOKIE);
    if (!cookie || !*cookie) {
        continue_page(r);
        return;
    }
    finish(ctx, r);
}

void dash_h_oauth_finish(struct http_req *r, void *ctx)
{
    finish(ctx, r);
}
