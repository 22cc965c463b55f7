/*
 * dashboard/auth.c - operators and sessions: argon2id passwords (libsodium), the session
 * cookie (only its SHA-256 is stored), the CSRF token, sign-in and sign-out, and the pool of
 * store handles the dashboard's handlers share.
 */
#include "dashboard/dash_int.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "content/content.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/json.h"
#include "core/log.h"

#define MAX_LOGIN_BODY 4096
/* Sign-in throttling: this many failures within the window lock the key until the window
 * (counted from the first failure) ends. */
#define LOGIN_WINDOW_MS     (15LL * 60 * 1000)
#define LOGIN_MAX_PER_EMAIL 5
#define LOGIN_MAX_PER_IP    30

/* ---- the store pool ---- */

struct lease {
    struct dashboard *d;
    struct store *s;
};

static void give_back(void *p)
{
    struct lease *l = p;
    pthread_mutex_lock(&l->d->lock);
    if (l->d->n_free < DASH_POOL_MAX) {
        l->d->free_stores[l->d->n_free++] = l->s;
        l->s = NULL;
    }
    pthread_mutex_unlock(&l->d->lock);
    store_free(l->s);
}

struct store *dash_store(struct dashboard *d, struct http_req *r)
{
    struct store *s = NULL;
    pthread_mutex_lock(&d->lock);
    if (d->n_free > 0)
        s = d->free_stores[--d->n_free];
    pthread_mutex_unlock(&d->lock);
    if (!s && store_open(d->so, &s) != ERR_OK) {
        http_reply_error(r, ERR_IO, "the database is not available");
        return NULL;
    }
    struct lease *l = arena_alloc(http_req_arena(r), sizeof *l);
    *l = (struct lease){d, s};
    arena_on_free(http_req_arena(r), give_back, l);
    return s;
}

/* ---- small helpers ---- */

char *dash_hash_hex(struct arena *a, const char *s)
{
    unsigned char h[CRYPTO_SHA256_LEN];
    crypto_sha256(s, strlen(s), h);
    char *out = arena_alloc(a, 2 * sizeof h + 1);
    hex_encode(h, sizeof h, out);
    return out;
}

char *dash_random_token(struct arena *a)
{
    unsigned char raw[32];
    crypto_random(raw, sizeof raw);
    char *out = arena_alloc(a, 48);
    base64url_encode(raw, sizeof raw, out);
    return out;
}

const char *dash_cookie(struct http_req *r, const char *name)
{
    const char *h = http_req_header(r, "Cookie");
    size_t n = strlen(name);
    for (const char *p = h; p && *p;) {
        p += strspn(p, " ;");
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > n && strncmp(p, name, n) == 0 && p[n] == '=')
            return arena_strndup(http_req_arena(r), p + n + 1, len - n - 1);
        p = end;
    }
    return NULL;
}

void dash_reply_status(struct http_req *r, int status, const char *code, const char *message)
{
    json_t *body = json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", message);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    http_reply(r, status, "application/json", text, strlen(text));
    free(text);
}

static void set_cookie(struct dashboard *d, struct http_req *r, const char *value, long max_age)
{
    bool https = strncmp(d->cfg->public_url, "https://", 8) == 0;
    char *c = arena_printf(http_req_arena(r),
                           "%s=%s; Path=/; HttpOnly; SameSite=Strict; "
                           "Max-Age=%ld%s",
                           DASHBOARD_COOKIE, value, max_age, https ? "; Secure" : "");
    http_set_header(r, "Set-Cookie", c);
    http_set_header(r, "Cache-Control", "no-store");
}

/* ---- lifecycle ---- */

enum err dashboard_new(const struct config *cfg, const struct store_opts *so, struct queue *q,
                       struct dashboard **out)
{
    if (sodium_init() < 0)
        return ERR_INTERNAL;
    struct dashboard *d = xcalloc(1, sizeof *d);
    d->cfg = cfg;
    d->so = so;
    d->queue = q;
    pthread_mutex_init(&d->lock, NULL);
    char pw[33];
    crypto_random(pw, 32);
    pw[32] = '\0';
    if (crypto_pwhash_str(d->dummy_hash, pw, 32, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
        dashboard_free(d);
        return ERR_INTERNAL;
    }
    if (content_media_open(cfg->data_dir, &d->media) != ERR_OK) {
        dashboard_free(d);
        return ERR_IO;
    }
    if (*cfg->meta_app_id && *cfg->meta_app_secret) {
        struct meta_graph_opts go = {.graph_url = cfg->meta_graph_url,
                                     .version = cfg->meta_graph_version,
                                     .app_id = cfg->meta_app_id,
                                     .app_secret = cfg->meta_app_secret};
        enum err rc = meta_graph_new(&go, &d->graph);
        if (rc == ERR_OK)
            rc = meta_vault_new(cfg->master_key, cfg->data_dir, &d->vault);
        if (rc != ERR_OK) {
            dashboard_free(d);
            return rc;
        }
    }
    *out = d;
    return ERR_OK;
}

enum err dashboard_start_live(struct dashboard *d)
{
    return d->gateway ? ERR_OK : dash_gateway_start(d);
}

void dashboard_stop_live(struct dashboard *d)
{
    if (d)
        dash_gateway_stop(d);
}

void dashboard_free(struct dashboard *d)
{
    if (!d)
        return;
    dash_gateway_stop(d);
    for (int i = 0; i < d->n_free; i++)
        store_free(d->free_stores[i]);
    meta_graph_free(d->graph);
    meta_vault_free(d->vault);
    content_media_free(d->media);
    pthread_mutex_destroy(&d->lock);
    free(d);
}

size_t dashboard_routes(struct dashboard *d, struct http_route *out, size_t max)
{
    const struct http_route routes[] = {
        {HTTP_POST, "/api/login", dash_h_login, d, MAX_LOGIN_BODY},
        {HTTP_POST, "/api/logout", dash_h_logout, d, 0},
        {HTTP_GET, "/api/me", dash_h_me, d, 0},
        {HTTP_GET, "/api/accounts", dash_h_accounts, d, 0},
        {HTTP_DELETE, "/api/accounts/{id}", dash_h_account_delete, d, 0},
        {HTTP_GET, "/api/conversations", dash_h_conversations, d, 0},
        {HTTP_GET, "/api/conversations/{id}", dash_h_conversation, d, 0},
        {HTTP_GET, "/api/conversations/{id}/messages", dash_h_messages, d, 0},
        {HTTP_POST, "/api/conversations/{id}/takeover", dash_h_takeover, d, 0},
        {HTTP_POST, "/api/conversations/{id}/handback", dash_h_handback, d, 0},
        {HTTP_POST, "/api/conversations/{id}/reply", dash_h_reply, d, 16 * 1024},
        {HTTP_POST, "/api/conversations/{id}/read", dash_h_read, d, 0},
        {HTTP_GET, "/api/settings", dash_h_settings_get, d, 0},
        {HTTP_PUT, "/api/settings", dash_h_settings_put, d, 64 * 1024},
        {HTTP_GET, "/api/kb", dash_h_kb_list, d, 0},
        {HTTP_POST, "/api/kb", dash_h_kb_add, d, 512 * 1024},
        {HTTP_GET, "/api/kb/search", dash_h_kb_search, d, 0},
        {HTTP_DELETE, "/api/kb/{id}", dash_h_kb_delete, d, 0},
        {HTTP_GET, "/api/audit", dash_h_audit, d, 0},
        {HTTP_GET, "/api/posts", dash_h_posts, d, 0},
        {HTTP_POST, "/api/posts", dash_h_post_create, d, 64 * 1024},
        {HTTP_GET, "/api/posts/{id}", dash_h_post, d, 0},
        {HTTP_POST, "/api/posts/{id}/cancel", dash_h_post_cancel, d, 0},
        {HTTP_POST, "/api/posts/{id}/schedule", dash_h_post_schedule, d, 4096},
        {HTTP_POST, "/api/uploads", dash_h_upload, d, DASH_UPLOAD_MAX_BODY},
        {HTTP_POST, "/api/previews", dash_h_preview, d, 16 * 1024},
        {HTTP_POST, "/api/images/generate", dash_h_generate, d, 16 * 1024},
        {HTTP_POST, "/api/images/template", dash_h_template, d, 16 * 1024},
        {HTTP_GET | HTTP_POST | HTTP_PUT | HTTP_PATCH | HTTP_DELETE, "/api/*", dash_h_no_api, d, 0},
        {HTTP_GET, "/ws", dash_h_ws, d, 0},
        {HTTP_GET, "/oauth/start", dash_h_oauth_start, d, 0},
        {HTTP_GET, "/oauth/callback", dash_h_oauth_callback, d, 0},
        {HTTP_GET, "/oauth/finish", dash_h_oauth_finish, d, 0},
        {HTTP_GET, "/", dash_h_page, d, 0},
        {HTTP_GET, "/app/*", dash_h_asset, d, 0},
    };
    size_t n = sizeof routes / sizeof routes[0];
    if (n > max)
        n = max;
    memcpy(out, routes, n * sizeof routes[0]);
    return n;
}

/* ---- operators ---- */

static bool plausible_email(const char *e)
{
    const char *at = e ? strchr(e, '@') : NULL;
    return at && at != e && strchr(at, '.') && strlen(e) < 255 && !strpbrk(e, " \t\r\n<>\"");
}

enum err dashboard_user_add(struct store *s, const char *email, const char *role,
                            const char *password, int64_t *id)
{
    if (!plausible_email(email) || !role ||
        (strcmp(role, "admin") != 0 && strcmp(role, "agent") != 0) || !password ||
        strlen(password) < DASHBOARD_PASSWORD_MIN)
        return ERR_INVALID;
    if (sodium_init() < 0)
        return ERR_INTERNAL;
    char hash[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(hash, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return ERR_INTERNAL;
    return store_operator_add(s, email, hash, role, clock_now_ms(), id);
}

/* ---- sessions ---- */

/* The session checks on store s (cookie present: checked by the callers). */
static bool check_session(struct http_req *r, bool mutating, const char *cookie, struct store *s,
                          struct dashboard_session *out)
{
    struct arena *a = http_req_arena(r);
    int64_t now = clock_now_ms();
    struct store_session ss;
    struct store_operator op;
    char *id_hash = dash_hash_hex(a, cookie);
    if (store_session_get(s, a, id_hash, now, &ss) != ERR_OK ||
        store_operator_by_id(s, a, ss.operator_id, &op) != ERR_OK) {
        dash_reply_status(r, 401, "auth", "Your session has ended. Sign in again.");
        return false;
    }
    const char *csrf = http_req_header(r, "X-CSRF-Token");
    if (mutating && (!csrf || strlen(csrf) != strlen(ss.csrf) ||
                     !crypto_equal(csrf, ss.csrf, strlen(ss.csrf)))) {
        dash_reply_status(r, 403, "csrf", "Missing or wrong CSRF token.");
        return false;
    }
    if (now - ss.last_seen_at > 60 * 1000) /* sliding expiry, written at most once a minute */
        err_ignore(store_session_touch(s, id_hash, now, now + DASHBOARD_SESSION_MS));
    *out = (struct dashboard_session){.operator_id = op.id,
                                      .email = op.email,
                                      .role = op.role,
                                      .csrf = ss.csrf,
                                      .id_hash = id_hash,
                                      .store = s};
    return true;
}

bool dashboard_require_session(struct dashboard *d, struct http_req *r, bool mutating,
                               struct dashboard_session *out)
{
    const char *cookie = dash_cookie(r, DASHBOARD_COOKIE);
    if (!cookie || !*cookie) {
        dash_reply_status(r, 401, "auth", "Sign in first.");
        return false;
    }
    struct store *s = dash_store(d, r);
    return s && check_session(r, mutating, cookie, s, out);
}

bool dash_require_session_brief(struct dashboard *d, struct http_req *r,
                                struct dashboard_session *out)
{
    const char *cookie = dash_cookie(r, DASHBOARD_COOKIE);
    if (!cookie || !*cookie) {
        dash_reply_status(r, 401, "auth", "Sign in first.");
        return false;
    }
    struct store *s = NULL;
    pthread_mutex_lock(&d->lock);
    if (d->n_free > 0)
        s = d->free_stores[--d->n_free];
    pthread_mutex_unlock(&d->lock);
    if (!s && store_open(d->so, &s) != ERR_OK) {
        http_reply_error(r, ERR_IO, "the database is not available");
        return false;
    }
    bool ok = check_session(r, false, cookie, s, out);
    struct lease l = {d, s};
    give_back(&l); /* now, not when the request ends: an upgraded request lasts for hours */
    out->store = NULL;
    return ok;
}

static json_t *operator_json(const struct dashboard_session *ss)
{
    return json_pack("{s:{s:I, s:s, s:s}, s:s}", "operator", "id", (json_int_t)ss->operator_id,
                     "email", ss->email, "role", ss->role, "csrf", ss->csrf);
}

static bool check_password(struct dashboard *d, const struct store_operator *op, bool found,
                           const char *password)
{
    const char *hash = found ? op->password_hash : d->dummy_hash;
    bool ok = crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
    return found && ok && op->disabled_at == 0;
}

/* ---- sign-in throttling: failures per email and per client address ---- */

static const struct {
    const char *prefix;
    int64_t max_failures;
} throttles[] = {{"email:", LOGIN_MAX_PER_EMAIL}, {"ip:", LOGIN_MAX_PER_IP}};

static const char *throttle_key(struct arena *a, int i, const char *email, struct http_req *r)
{
    if (i == 0) {
        char *k = arena_printf(a, "email:%s", email);
        for (char *p = k; *p; p++)
            *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
        return k;
    }
    return arena_printf(a, "ip:%s", http_req_peer(r));
}

/* Seconds until a sign-in may be tried again (0: now). */
static int64_t throttled_for(struct store *s, struct http_req *r, const char *email, int64_t now)
{
    int64_t wait_ms = 0;
    for (int i = 0; i < (int)(sizeof throttles / sizeof throttles[0]); i++) {
        int64_t n = 0, first = 0;
        const char *key = throttle_key(http_req_arena(r), i, email, r);
        if (store_login_failures(s, key, now, LOGIN_WINDOW_MS, &n, &first) == ERR_OK &&
            n >= throttles[i].max_failures && first + LOGIN_WINDOW_MS - now > wait_ms)
            wait_ms = first + LOGIN_WINDOW_MS - now;
    }
    return (wait_ms + 999) / 1000;
}

static void count_failure(struct store *s, struct http_req *r, const char *email, int64_t now)
{
    for (int i = 0; i < (int)(sizeof throttles / sizeof throttles[0]); i++) {
        int64_t n = 0, first = 0;
        err_ignore(store_login_failure_add(s, throttle_key(http_req_arena(r), i, email, r), now,
                                           LOGIN_WINDOW_MS, &n, &first));
    }
}

static void reply_throttled(struct http_req *r, int64_t wait_s)
{
    char retry[32], msg[128];
    snprintf(retry, sizeof retry, "%lld", (long long)wait_s);
    snprintf(msg, sizeof msg, "Too many failed sign-ins. Try again in %lld minute%s.",
             (long long)(wait_s + 59) / 60, (wait_s + 59) / 60 == 1 ? "" : "s");
    http_set_header(r, "Retry-After", retry);
    log_info("dashboard.login_throttled", LOG_INT("retry_after_s", wait_s));
    dash_reply_status(r, 429, "throttled", msg);
}

static void start_session(struct dashboard *d, struct http_req *r, struct store *s,
                          const struct store_operator *op)
{
    struct arena *a = http_req_arena(r);
    const char *cookie = dash_random_token(a);
    int64_t now = clock_now_ms();
    struct store_session ss = {.id_hash = dash_hash_hex(a, cookie),
                               .operator_id = op->id,
                               .csrf = dash_random_token(a),
                               .created_at = now,
                               .expires_at = now + DASHBOARD_SESSION_MS};
    enum err rc = store_session_add(s, &ss);
    if (rc != ERR_OK) {
        http_reply_error(r, rc, "could not start a session");
        return;
    }
    log_info("dashboard.login", LOG_INT("operator", op->id));
    dash_audit(s, op->id, "login", NULL, NULL);
    set_cookie(d, r, cookie, (long)(DASHBOARD_SESSION_MS / 1000));
    struct dashboard_session view = {op->id, op->email, op->role, ss.csrf, ss.id_hash, s};
    http_reply_json(r, 200, operator_json(&view));
}

void dash_h_login(struct http_req *r, void *ctx)
{
    struct dashboard *d = ctx;
    size_t len = 0;
    const char *body = http_req_body(r, &len);
    json_t *in = json_loadb(body ? body : "", len, 0, NULL);
    const char *email = json_get_str(in, "email"), *password = json_get_str(in, "password");
    if (!email || !password || strlen(email) > 254 || strlen(password) > 1024) {
        json_decref(in);
        http_reply_error(r, ERR_INVALID, "email and password are required");
        return;
    }
    struct store *s = dash_store(d, r);
    struct arena *a = http_req_arena(r);
    email = arena_strdup(a, email);
    int64_t now = clock_now_ms(), wait_s = s ? throttled_for(s, r, email, now) : 0;
    if (wait_s > 0) { /* checked before the password: argon2 costs nothing to a locked email */
        json_decref(in);
        reply_throttled(r, wait_s);
        return;
    }
    struct store_operator op = {0};
    enum err rc = s ? store_operator_by_email(s, a, email, &op) : ERR_IO;
    if (!s || (rc != ERR_OK && rc != ERR_NOT_FOUND)) {
        json_decref(in);
        if (s)
            http_reply_error(r, rc, "could not read operators");
        return;
    }
    bool ok = check_password(d, &op, rc == ERR_OK, password);
    json_decref(in);
    if (!ok) {
        log_info("dashboard.login_failed", LOG_BOOL("known_email", rc == ERR_OK));
        count_failure(s, r, email, now);
        dash_reply_status(r, 401, "auth", "Wrong email or password.");
        return;
    }
    err_ignore(store_login_failures_clear(s, throttle_key(a, 0, email, r)));
    start_session(d, r, s, &op);
}

void dash_h_logout(struct http_req *r, void *ctx)
{
    struct dashboard *d = ctx;
    struct dashboard_session ss;
    if (!dashboard_require_session(d, r, true, &ss))
        return;
    err_ignore(store_session_delete(ss.store, ss.id_hash));
    dash_audit(ss.store, ss.operator_id, "logout", NULL, NULL);
    set_cookie(d, r, "", 0);
    http_reply_json(r, 200, json_pack("{s:b}", "ok", 1));
}

void dash_h_me(struct http_req *r, void *ctx)
{
    struct dashboard_session ss;
    if (dashboard_require_session(ctx, r, false, &ss))
        http_reply_json(r, 200, operator_json(&ss));
}

void dash_h_no_api(struct http_req *r, void *ctx)
{
    struct dashboard_session ss;
    if (dashboard_require_session(ctx, r, false, &ss))
        http_reply_error(r, ERR_NOT_FOUND, "no such route");
}

/* ---- shared by the handlers ---- */

void dash_audit(struct store *s, int64_t operator_id, const char *action, const char *target,
                json_t *detail)
{
    char *text = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
    json_decref(detail);
    enum err rc = store_audit_add(s, operator_id, action, target, text, clock_now_ms());
    if (rc != ERR_OK)
        log_warn("dashboard.audit_failed", LOG_STR("action", action), LOG_ERR(rc));
    free(text);
}

bool dash_require_admin(struct http_req *r, const struct dashboard_session *ss)
{
    if (strcmp(ss->role, "admin") == 0)
        return true;
    dash_reply_status(r, 403, "role", "Only an admin may do this.");
    return false;
}

int64_t dash_event_id(struct store *s)
{
    int64_t oldest = 0, newest = 0;
    err_ignore(store_bus_bounds(s, &oldest, &newest));
    return newest;
}
