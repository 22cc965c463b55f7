/*
 * emulator/oauth.c - Facebook Login and the identity side of the Graph API: the OAuth dialog,
 * code and token exchange, debug_token, /me, /me/accounts (Pages and their Instagram
 * accounts by field expansion), /me/permissions and the Page's subscribed_apps edge.
 *
 * As meta-platform.md §4 describes: codes are single-use and live 10 minutes; the code gives
 * a short-lived user token; fb_exchange_token gives a 60-day one; Page tokens obtained with a
 * long-lived user token never expire, those from a short-lived one expire with it.
 */
#include "emulator/emu_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/crypto.h"

#define CODE_TTL_MS       (10 * 60 * 1000LL)
#define SHORT_TOKEN_S     5400
#define LONG_TOKEN_S      5183944
#define DATA_ACCESS_DAYS  90
#define DEFAULT_SCOPES    "pages_show_list,pages_messaging,pages_manage_metadata"
#define SUBSCRIBE_SCOPE   "pages_manage_metadata"
#define ACCOUNTS_DEFAULTS "access_token,category,category_list,name,id,tasks"

/* The Page webhook fields subscribed_fields accepts (Messenger, and the Instagram-via-Page
 * messaging fields Meta lists for the same edge). */
static const char *const page_fields[] = {
    "messages",
    "message_echoes",
    "message_deliveries",
    "message_reads",
    "message_reactions",
    "message_edits",
    "messaging_postbacks",
    "messaging_optins",
    "messaging_referrals",
    "messaging_handovers",
    "messaging_policy_enforcement",
    "messaging_account_linking",
    "messaging_seen",
    "standby",
    "feed",
    "mention",
    "name",
    "picture",
    "inbox_labels",
    "message_template_status_update",
};

static const char *const page_tasks[] = {"ADVERTISE", "ANALYZE",  "CREATE_CONTENT",
                                         "MESSAGING", "MODERATE", "MANAGE"};

/* ---- small helpers ---- */

static bool in_list(const char *list, const char *item)
{
    size_t n = strlen(item);
    for (const char *p = list; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == n && strncmp(p, item, n) == 0)
            return true;
        p = comma ? comma + 1 : NULL;
    }
    return false;
}

static json_t *split_list(const char *list)
{
    json_t *out = json_array();
    for (const char *p = list; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len)
            json_array_append_new(out, json_stringn(p, len));
        p = comma ? comma + 1 : NULL;
    }
    return out;
}

static bool app_ok(struct emu_call *c, bool need_secret)
{
    const struct emulator *e = c->e;
    const char *id = emu_param(c, "client_id");
    const char *secret = emu_param(c, "client_secret");
    if (!id || strcmp(id, e->app_id) != 0) {
        emu_fail(c, 400, 101, 0, "Error validating application. Invalid application ID.");
        return false;
    }
    if (need_secret && (!secret || strlen(secret) != strlen(e->app_secret) ||
                        !crypto_equal(secret, e->app_secret, strlen(secret)))) {
        emu_fail(c, 400, 1, 0, "Error validating client secret.");
        return false;
    }
    return true;
}

static json_t *token_reply(const struct emu_token *t, int64_t now_ms)
{
    json_t *o = json_pack("{s:s, s:s}", "access_token", t->value, "token_type", "bearer");
    if (t->expires_ms)
        json_object_set_new(o, "expires_in", json_integer((t->expires_ms - now_ms) / 1000));
    return o;
}

/* ---- the dialog ---- */

static void dialog_page(struct http_req *r, const struct emulator *e, const char *redirect,
                        const char *state, const char *scope, const char *version)
{
    struct buf b;
    buf_init(&b, 64 * 1024);
    err_ignore(buf_puts(&b, "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                            "<title>Log in with Facebook</title><style>"
                            "body{font:16px system-ui,sans-serif;background:#f0f2f5;margin:0}"
                            "main{max-width:420px;margin:60px auto;background:#fff;"
                            "border-radius:8px;padding:24px;box-shadow:0 2px 8px #0002}"
                            "h1{font-size:20px}button{font-size:16px;padding:10px 18px;"
                            "border-radius:6px;border:0;margin-right:8px;cursor:pointer}"
                            ".go{background:#1877f2;color:#fff}.no{background:#e4e6eb}"
                            "li{list-style:none;margin:6px 0}</style></head><body><main>"
                            "<p>Facebook (local emulator)</p>"));
    err_ignore(buf_printf(&b, "<h1>Continue as %s?</h1><p>App %s is requesting:</p>",
                          e->users[0].name, e->app_id));
    err_ignore(
        buf_printf(&b, "<form method=\"post\" action=\"/%s/dialog/oauth/confirm\">", version));
    err_ignore(buf_puts(&b, "<ul>"));
    json_t *scopes = split_list(scope && *scope ? scope : DEFAULT_SCOPES);
    size_t i;
    json_t *s;
    json_array_foreach(scopes, i, s)
    {
        err_ignore(buf_puts(&b, "<li><label><input type=\"checkbox\" checked name=\"perm_"));
        err_ignore(buf_html_escape(&b, json_string_value(s)));
        err_ignore(buf_puts(&b, "\"> "));
        err_ignore(buf_html_escape(&b, json_string_value(s)));
        err_ignore(buf_puts(&b, "</label></li>"));
    }
    json_decref(scopes);
    err_ignore(buf_puts(&b, "</ul><input type=\"hidden\" name=\"perms_shown\" value=\"1\">"));
    const char *names[] = {"client_id", "redirect_uri", "state", "scope"};
    const char *vals[] = {e->app_id, redirect, state ? state : "", scope ? scope : ""};
    for (size_t k = 0; k < 4; k++) {
        err_ignore(buf_printf(&b, "<input type=\"hidden\" name=\"%s\" value=\"", names[k]));
        err_ignore(buf_html_escape(&b, vals[k]));
        err_ignore(buf_puts(&b, "\">"));
    }
    err_ignore(buf_printf(&b,
                          "<button class=\"go\" name=\"decision\" value=\"allow\">Continue "
                          "as %s</button><button class=\"no\" name=\"decision\" "
                          "value=\"deny\">Cancel</button></form></main></body></html>",
                          e->users[0].name));
    http_reply(r, 200, "text/html; charset=utf-8", b.data, b.len);
    buf_release(&b);
}

static bool absolute_url(const char *u)
{
    return u && (strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0) &&
           !strpbrk(u, " \r\n#");
}

void emu_h_dialog(struct http_req *r, void *ctx)
{
    struct emu_call c;
    if (!emu_begin(&c, ctx, r, 0))
        return;
    const char *redirect = emu_param(&c, "redirect_uri");
    if (!app_ok(&c, false))
        return;
    if (!absolute_url(redirect)) {
        emu_fail(&c, 400, 191, 0,
                 "Can't load URL: The domain of this URL isn't included in "
                 "the app's domains.");
        return;
    }
    const char *scope = emu_param(&c, "scope");
    if (!scope && emu_param(&c, "config_id")) /* Facebook Login for Business */
        scope = DEFAULT_SCOPES;
    emu_end(&c);
    dialog_page(r, c.e, redirect, emu_param(&c, "state"), scope, http_req_param(r, "ver"));
}

static void redirect_to(struct emu_call *c, const char *uri, const char *query)
{
    const char *sep = strchr(uri, '?') ? "&" : "?";
    char *loc = arena_printf(c->a, "%s%s%s#_=_", uri, sep, query);
    http_set_header(c->req, "Location", loc);
    http_reply_text(c->req, 302, "");
}

static char *granted_scopes(struct emu_call *c, const char *requested)
{
    bool shown = emu_param(c, "perms_shown") != NULL;
    char *out = arena_strdup(c->a, "");
    json_t *all = split_list(requested && *requested ? requested : DEFAULT_SCOPES);
    size_t i;
    json_t *s;
    json_array_foreach(all, i, s)
    {
        const char *name = json_string_value(s);
        if (shown && !emu_param(c, arena_printf(c->a, "perm_%s", name)))
            continue;
        out = arena_printf(c->a, "%s%s%s", out, *out ? "," : "", name);
    }
    json_decref(all);
    return out;
}

void emu_h_dialog_confirm(struct http_req *r, void *ctx)
{
    struct emu_call c;
    if (!emu_begin(&c, ctx, r, 0))
        return;
    struct emulator *e = c.e;
    const char *redirect = emu_param(&c, "redirect_uri");
    const char *state = emu_param(&c, "state");
    if (!app_ok(&c, false))
        return;
    if (!absolute_url(redirect)) {
        emu_fail(&c, 400, 191, 0, "Can't load URL: redirect_uri is not an absolute URL.");
        return;
    }
    const char *st = http_url_encode(c.a, state ? state : "");
    const char *decision = emu_param(&c, "decision");
    if (!decision || strcmp(decision, "allow") != 0) {
        emu_end(&c);
        redirect_to(&c, redirect,
                    arena_printf(c.a,
                                 "error=access_denied&error_code=200&error_description="
                                 "Permissions+error&error_reason=user_denied&state=%s",
                                 st));
        return;
    }
    emu_grow((void **)&e->codes, &e->cap_codes, e->n_codes, sizeof *e->codes);
    struct emu_code *code = &e->codes[e->n_codes++];
    memset(code, 0, sizeof *code);
    emu_random_text(code->code, 60);
    snprintf(code->redirect_uri, sizeof code->redirect_uri, "%s", redirect);
    snprintf(code->scopes, sizeof code->scopes, "%s", granted_scopes(&c, emu_param(&c, "scope")));
    code->created_ms = c.now_ms;
    code->user = 0;
    snprintf(e->users[0].granted, sizeof e->users[0].granted, "%s", code->scopes);
    e->users[0].has_app = true;
    char *query = arena_printf(c.a, "code=%s&state=%s", code->code, st);
    emu_end(&c);
    redirect_to(&c, redirect, query);
}

/* ---- tokens ---- */

static void exchange_code(struct emu_call *c)
{
    struct emulator *e = c->e;
    const char *value = emu_param(c, "code");
    const char *redirect = emu_param(c, "redirect_uri");
    struct emu_code *code = NULL;
    for (size_t i = 0; value && i < e->n_codes && !code; i++)
        if (strcmp(e->codes[i].code, value) == 0)
            code = &e->codes[i];
    if (!code) {
        emu_fail(c, 400, 100, 0, "Invalid verification code format.");
        return;
    }
    if (code->used) {
        emu_fail(c, 400, 100, 36009, "This authorization code has been used.");
        return;
    }
    if (c->now_ms - code->created_ms > CODE_TTL_MS) {
        emu_fail(c, 400, 100, 36007, "This authorization code has expired.");
        return;
    }
    if (!redirect || strcmp(redirect, code->redirect_uri) != 0) {
        emu_fail(c, 400, 100, 36008,
                 "Error validating verification code. Please make sure "
                 "your redirect_uri is identical to the one you used in the "
                 "OAuth dialog request");
        return;
    }
    code->used = true;
    size_t t = emu_token_issue(e, EMU_TOK_USER_SHORT, code->user, -1,
                               c->now_ms + SHORT_TOKEN_S * 1000LL, code->scopes);
    json_t *body = token_reply(&e->tokens[t], c->now_ms);
    emu_end(c);
    emu_reply(c, 200, body);
}

static void exchange_long(struct emu_call *c)
{
    struct emulator *e = c->e;
    int64_t i = emu_token_find(e, emu_param(c, "fb_exchange_token"));
    const struct emu_token *in = i >= 0 ? &e->tokens[i] : NULL;
    if (!in || (in->kind != EMU_TOK_USER_SHORT && in->kind != EMU_TOK_USER_LONG)) {
        emu_fail(c, 400, 190, 0, "Invalid OAuth access token - Cannot parse access token");
        return;
    }
    if (in->revoked || !e->users[in->user].has_app ||
        (in->expires_ms && in->expires_ms <= c->now_ms)) {
        emu_fail(c, 400, 190, 463, "Error validating access token: Session has expired.");
        return;
    }
    int user = in->user;
    char scopes[sizeof in->scopes];
    memcpy(scopes, in->scopes, sizeof scopes);
    size_t t =
        emu_token_issue(e, EMU_TOK_USER_LONG, user, -1, c->now_ms + LONG_TOKEN_S * 1000LL, scopes);
    json_t *body = token_reply(&e->tokens[t], c->now_ms);
    emu_end(c);
    emu_reply(c, 200, body);
}

void emu_h_access_token(struct http_req *r, void *ctx)
{
    struct emu_call c;
    if (!emu_begin(&c, ctx, r, 0))
        return;
    const char *grant = emu_param(&c, "grant_type");
    if (!app_ok(&c, true))
        return;
    if (grant && strcmp(grant, "fb_exchange_token") == 0) {
        exchange_long(&c);
    } else if (grant && strcmp(grant, "client_credentials") == 0) {
        json_t *body =
            json_pack("{s:s, s:s}", "access_token", c.e->app_tok.value, "token_type", "bearer");
        emu_end(&c);
        emu_reply(&c, 200, body);
    } else if (grant && strcmp(grant, "authorization_code") != 0) {
        emu_fail(&c, 400, 100, 0, "(#100) Invalid grant_type");
    } else if (!emu_param(&c, "code")) {
        emu_fail(&c, 400, 100, 0, "(#100) Missing code parameter.");
    } else {
        exchange_code(&c);
    }
}

/* ---- debug_token ---- */

static json_t *granular(const struct emulator *e, const struct emu_token *t)
{
    json_t *out = json_array();
    json_t *scopes = split_list(t->scopes);
    size_t i;
    json_t *s;
    json_array_foreach(scopes, i, s)
    {
        const char *name = json_string_value(s);
        bool pages = strncmp(name, "pages_", 6) == 0, ig = strncmp(name, "instagram_", 10) == 0;
        if (!pages && !ig)
            continue;
        json_t *ids = json_array();
        for (int p = 0; p < e->n_pages; p++) {
            if (t->kind == EMU_TOK_PAGE && p != t->page)
                continue;
            if (e->pages[p].owner != t->user || (ig && !e->pages[p].ig_id[0]))
                continue;
            json_array_append_new(ids, json_string(ig ? e->pages[p].ig_id : e->pages[p].id));
        }
        json_array_append_new(out, json_pack("{s:s, s:o}", "scope", name, "target_ids", ids));
    }
    json_decref(scopes);
    return out;
}

static json_t *debug_data(const struct emulator *e, const struct emu_token *t, int64_t now_ms)
{
    bool dead = t->revoked || (t->user >= 0 && !e->users[t->user].has_app);
    bool expired = t->expires_ms && t->expires_ms <= now_ms;
    const char *type = t->kind == EMU_TOK_PAGE ? "PAGE" : t->kind == EMU_TOK_APP ? "APP" : "USER";
    json_t *d =
        json_pack("{s:s, s:s, s:s, s:I, s:b, s:I, s:o}", "app_id", e->app_id, "type", type,
                  "application", "Switchboard (emulated app)", "expires_at",
                  (json_int_t)(t->expires_ms / 1000), "is_valid", !dead && !expired, "issued_at",
                  (json_int_t)(t->issued_ms / 1000), "scopes", split_list(t->scopes));
    if (t->kind != EMU_TOK_APP) {
        json_object_set_new(d, "data_access_expires_at",
                            json_integer((t->issued_ms + DATA_ACCESS_DAYS * EMU_DAY_MS) / 1000));
        json_object_set_new(d, "granular_scopes", granular(e, t));
        json_object_set_new(d, "user_id", json_string(e->users[t->user].asid));
    }
    if (t->kind == EMU_TOK_PAGE)
        json_object_set_new(d, "profile_id", json_string(e->pages[t->page].id));
    if (dead || expired)
        json_object_set_new(d, "error",
                            json_pack("{s:i, s:i, s:s}", "code", 190, "subcode", dead ? 458 : 463,
                                      "message",
                                      dead ? "The user has not authorized application."
                                           : "Session has "
                                             "expired."));
    return d;
}

void emu_h_debug_token(struct http_req *r, void *ctx)
{
    struct emu_call c;
    if (!emu_begin(&c, ctx, r, EMU_TOK_APPK | EMU_TOK_USER))
        return;
    const struct emulator *e = c.e;
    const char *input = emu_param(&c, "input_token");
    if (!input) {
        emu_fail(&c, 400, 100, 0, "(#100) The parameter input_token is required");
        return;
    }
    int64_t i = emu_token_find(e, input);
    json_t *data;
    if (i >= 0)
        data = debug_data(e, &e->tokens[i], c.now_ms);
    else if (strcmp(input, e->app_tok.value) == 0)
        data = debug_data(e, &e->app_tok, c.now_ms);
    else
        data = json_pack("{s:{s:i, s:s}, s:b, s:[]}", "error", "code", 190, "message",
                         "Invalid OAuth access token.", "is_valid", 0, "scopes");
    emu_end(&c);
    emu_reply(&c, 200, json_pack("{s:o}", "data", data));
}

/* ---- /me, /me/permissions ---- */

void emu_h_me(struct http_req *r, void *ctx)
{
    struct emu_call c;
    if (!emu_begin(&c, ctx, r, EMU_TOK_USER | EMU_TOK_PAGEK))
        return;
    const struct emulator *e = c.e;
    json_t *fields = emu_fields_parse(emu_param(&c, "fields"));
    const char *id, *name;
    if (c.tok->kind == EMU_TOK_PAGE) {
        id = e->pages[c.tok->page].id;
        name = e->pages[c.tok->page].name;
    } else {
        id = e->users[c.tok->user].asid;
        name = e->users[c.tok->user].name;
    }
    json_t *body = json_object();
    if (emu_field_wanted(fields, "name", true))
        json_object_set_new(body, "name", json_string(name));
    json_object_set_new(body, "id", json_string(id));
    json_decref(fields);
    emu_end(&c);
    emu_reply(&c, 200, body);
}

/* /{id}/... where id must be "me" or the token's own user. */
static bool self_user(struct emu_call *c, const char *edge)
{
    const char *id = http_req_param(c->req, "id");
    if (c->tok->kind == EMU_TOK_PAGE) {
        emu_fail(c, 400, 100, 0,
                 arena_printf(c->a,
                              "(#100) Tried accessing nonexisting field (%s) on node "
                              "type (Page)",
                              edge));
        return false;
    }
    if (strcmp(id, "me") != 0 && strcmp(id, c->e->users[c->tok->user].asid) != 0) {
        emu_fail(c, 400, 100, 33,
                 arena_printf(c->a,
                              "Unsupported get request. Object with ID '%s' does not "
                              "exist, cannot be loaded due to missing permissions, or "
                              "does not support this operation.",
                              id));
        return false;
    }
    return true;
}

void emu_h_me_permissions(struct http_req *r, void *ctx)
{
    struct emu_call c;
    if (!emu_begin(&c, ctx, r, EMU_TOK_USER | EMU_TOK_PAGEK) || !self_user(&c, "permissions"))
        return;
    json_t *data = json_array();
    json_array_append_new(
        data, json_pack("{s:s, s:s}", "permission", "public_profile", "status", "granted"));
    json_t *scopes = split_list(c.tok->scopes);
    size_t i;
    json_t *s;
    json_array_foreach(scopes, i, s)
    {
        json_array_append_new(data, json_pack("{s:O, s:s}", "permission", s, "status", "granted"));
    }
    json_decref(scopes);
    emu_end(&c);
    emu_reply(&c, 200, json_pack("{s:o}", "data", data));
}

/* ---- /me/accounts ---- */

/* The Page token this user token yields: long-lived (never expires) from a long-lived user
 * token, else one that expires with the user token. Reused while it lives. */
static const struct emu_token *page_token(struct emulator *e, const struct emu_token *user_tok,
                                          int page)
{
    int64_t exp = user_tok->kind == EMU_TOK_USER_LONG ? 0 : user_tok->expires_ms;
    for (size_t i = 0; i < e->n_tokens; i++) {
        const struct emu_token *t = &e->tokens[i];
        if (t->kind == EMU_TOK_PAGE && t->page == page && t->user == user_tok->user &&
            !t->revoked && t->expires_ms == exp && strcmp(t->scopes, user_tok->scopes) == 0)
            return t;
    }
    char scopes[sizeof user_tok->scopes];
    memcpy(scopes, user_tok->scopes, sizeof scopes);
    int user = user_tok->user;
    size_t n = emu_token_issue(e, EMU_TOK_PAGE, user, page, exp, scopes);
    return &e->tokens[n];
}

static json_t *ig_account(const struct emu_page *p, const json_t *sub)
{
    json_t *o = json_object();
    if (emu_field_wanted(sub, "username", false))
        json_object_set_new(o, "username", json_string(p->ig_username));
    if (emu_field_wanted(sub, "name", false))
        json_object_set_new(o, "name", json_string(p->ig_name));
    if (emu_field_wanted(sub, "profile_picture_url", false))
        json_object_set_new(
            o, "profile_picture_url",
            json_sprintf("https://scontent.cdninstagram.com/v/emulated/%s.jpg", p->ig_id));
    json_object_set_new(o, "id", json_string(p->ig_id));
    return o;
}

static json_t *account_item(struct emu_call *c, int page, const json_t *fields)
{
    struct emulator *e = c->e;
    const struct emu_page *p = &e->pages[page];
    json_t *o = json_object();
    if (emu_field_wanted(fields, "access_token", false))
        json_object_set_new(o, "access_token",
                            json_string(page_token(e, &e->tokens[c->tok_index], page)->value));
    if (emu_field_wanted(fields, "category", false))
        json_object_set_new(o, "category", json_string(p->category));
    if (emu_field_wanted(fields, "category_list", false))
        json_object_set_new(
            o, "category_list",
            json_pack("[{s:s, s:s}]", "id", "128673187201735", "name", p->category));
    if (emu_field_wanted(fields, "name", false))
        json_object_set_new(o, "name", json_string(p->name));
    json_object_set_new(o, "id", json_string(p->id));
    if (emu_field_wanted(fields, "tasks", false)) {
        json_t *tasks = json_array();
        for (size_t i = 0; i < sizeof page_tasks / sizeof page_tasks[0]; i++)
            json_array_append_new(tasks, json_string(page_tasks[i]));
        json_object_set_new(o, "tasks", tasks);
    }
    const json_t *ig = json_object_get(fields, "instagram_business_account");
    if (ig && p->ig_id[0])
        json_object_set_new(o, "instagram_business_account", ig_account(p, ig));
    return o;
}

void emu_h_me_accounts(struct http_req *r, void *ctx)
{
    struct emu_call c;
    if (!emu_begin(&c, ctx, r, EMU_TOK_USER | EMU_TOK_PAGEK) || !self_user(&c, "accounts"))
        return;
    const struct emulator *e = c.e;
    const char *fs = emu_param(&c, "fields");
    json_t *fields = emu_fields_parse(fs ? fs : ACCOUNTS_DEFAULTS);
    if (!fields) {
        emu_fail(&c, 400, 100, 0, "(#100) Syntax error in the fields parameter");
        return;
    }
    int mine[EMU_MAX_PAGES], n = 0;
    bool can_list = in_list(c.tok->scopes, "pages_show_list");
    for (int i = 0; can_list && i < e->n_pages; i++)
        if (e->pages[i].owner == c.tok->user)
            mine[n++] = i;
    size_t start, count;
    json_t *paging;
    if (!emu_paging(&c, (size_t)n, 25, &start, &count, &paging)) {
        json_decref(fields);
        return;
    }
    json_t *data = json_array();
    for (size_t i = start; i < start + count; i++)
        json_array_append_new(data, account_item(&c, mine[i], fields));
    json_decref(fields);
    json_t *body = json_pack("{s:o}", "data", data);
    if (paging)
        json_object_set_new(body, "paging", paging);
    emu_end(&c);
    emu_reply(&c, 200, body);
}

/* ---- subscribed_apps ---- */

static bool valid_fields(struct emu_call *c, const char *list)
{
    json_t *items = split_list(list);
    size_t i;
    json_t *s;
    bool ok = json_array_size(items) > 0;
    json_array_foreach(items, i, s)
    {
        bool known = false;
        for (size_t k = 0; k < sizeof page_fields / sizeof page_fields[0] && !known; k++)
            known = strcmp(json_string_value(s), page_fields[k]) == 0;
        if (!known) {
            emu_fail(c, 400, 100, 0,
                     arena_printf(c->a,
                                  "(#100) Param subscribed_fields[%zu] must be one of "
                                  "{messages, message_echoes, messaging_postbacks, ...} "
                                  "- got \"%s\".",
                                  i, json_string_value(s)));
            json_decref(items);
            return false;
        }
    }
    json_decref(items);
    if (!ok)
        emu_fail(c, 400, 100, 0, "(#100) The parameter subscribed_fields is required");
    return ok;
}

/* subscribed_fields as "a,b" (query or form) or ["a","b"] (JSON body). */
static const char *subscribed_param(struct emu_call *c)
{
    const char *s = emu_param(c, "subscribed_fields");
    json_t *arr = json_object_get(c->params, "subscribed_fields");
    if (s || !json_is_array(arr))
        return s;
    char *out = arena_strdup(c->a, "");
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (json_is_string(v))
            out = arena_printf(c->a, "%s%s%s", out, *out ? "," : "", json_string_value(v));
    }
    return out;
}

void emu_h_subscribed_apps(struct http_req *r, void *ctx)
{
    struct emu_call c;
    if (!emu_begin(&c, ctx, r, EMU_TOK_USER | EMU_TOK_PAGEK))
        return;
    struct emulator *e = c.e;
    int page = emu_page_by_id(e, http_req_param(r, "id"));
    if (page < 0) {
        emu_fail(&c, 400, 100, 0,
                 "(#100) subscribed_apps is available on Pages only (the "
                 "object does not exist or is not a Page)");
        return;
    }
    struct emu_page *p = &e->pages[page];
    if (c.tok->kind != EMU_TOK_PAGE || c.tok->page != page) {
        emu_fail(&c, 400, 210, 0,
                 "(#210) A page access token is required to request this "
                 "resource.");
        return;
    }
    enum http_method m = http_req_method(r);
    if (m != HTTP_GET && !in_list(c.tok->scopes, SUBSCRIBE_SCOPE)) {
        emu_fail(&c, 403, 200, 0,
                 "(#200) The app needs the pages_manage_metadata permission "
                 "to subscribe the Page to webhooks.");
        return;
    }
    json_t *body;
    if (m == HTTP_GET) {
        json_t *data = json_array();
        if (p->subscribed_fields[0])
            json_array_append_new(data,
                                  json_pack("{s:s, s:s, s:s, s:o}", "link", "https://example.com/",
                                            "name", "Switchboard (emulated app)", "id", e->app_id,
                                            "subscribed_fields", split_list(p->subscribed_fields)));
        body = json_pack("{s:o}", "data", data);
    } else if (m == HTTP_DELETE) {
        p->subscribed_fields[0] = '\0';
        body = json_pack("{s:b}", "success", 1);
    } else {
        const char *fields = subscribed_param(&c);
        if (!valid_fields(&c, fields))
            return;
        snprintf(p->subscribed_fields, sizeof p->subscribed_fields, "%s", fields);
        body = json_pack("{s:b}", "success", 1);
    }
    emu_end(&c);
    emu_reply(&c, 200, body);
}
