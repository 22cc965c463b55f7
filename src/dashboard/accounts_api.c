/*
 * dashboard/accounts_api.c - GET /api/accounts: the connected Pages and Instagram accounts as
 * the dashboard shows them, each with its status, expiry and a plain-words warning, and the
 * banner the UI puts on every page while any account needs reconnecting or its access ends
 * within 7 days (meta/token_check.h owns the words).
 *
 * Each account also says whether Meta is throttling its sends (sends_paused_until), when it
 * last heard from Meta and whether the silent-account alert is raised (inbox/silence.h).
 * Never in the answer: a token, sealed or not. Times are ISO 8601 (UTC), null for never /
 * unknown, as in `accounts list --json`.
 */
#include "dashboard/dash_int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "meta/token_check.h"

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *iso_or_null(int64_t ms)
{
    if (ms <= 0)
        return json_null();
    char iso[32];
    clock_format_iso(ms, iso, sizeof iso);
    return json_string(iso);
}

static json_t *csv_array(const char *csv)
{
    json_t *arr = json_array();
    for (const char *p = csv; p && *p;) {
        size_t n = strcspn(p, ",");
        if (n)
            json_array_append_new(arr, json_stringn(p, n));
        p += n + (p[n] == ',');
    }
    return arr;
}

json_t *dash_account_json(struct arena *a, const struct store_account *acct, int64_t now_ms)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(acct->id));
    json_object_set_new(o, "platform", json_string(store_platform_name(acct->platform)));
    json_object_set_new(o, "external_id", json_string(acct->external_id));
    json_object_set_new(o, "page_id", str_or_null(acct->page_id));
    json_object_set_new(o, "name", str_or_null(acct->name));
    json_object_set_new(o, "username", str_or_null(acct->username));
    json_object_set_new(o, "status", json_string(store_account_status_name(acct->status)));
    json_object_set_new(o, "status_reason", str_or_null(acct->status_reason));
    json_object_set_new(o, "token_expires_at", iso_or_null(acct->token_expires_at));
    json_object_set_new(o, "data_access_expires_at", iso_or_null(acct->data_access_expires_at));
    json_object_set_new(o, "subscribed_fields", csv_array(acct->subscribed_fields));
    json_object_set_new(o, "warning", str_or_null(meta_account_warning(a, acct, now_ms)));
    /* the messaging pipeline: Meta's throttling, and the silent-account alert */
    json_object_set_new(
        o, "sends_paused_until",
        iso_or_null(acct->send_paused_until > now_ms ? acct->send_paused_until : 0));
    json_object_set_new(o, "last_event_at", iso_or_null(acct->last_event_at));
    json_object_set_new(o, "silent", json_boolean(acct->silent_since > 0));
    json_object_set_new(o, "silent_since", iso_or_null(acct->silent_since));
    return o;
}

void dash_h_accounts(struct http_req *r, void *ctx)
{
    struct dashboard_session ss;
    if (!dashboard_require_session(ctx, r, false, &ss))
        return;
    struct arena *a = http_req_arena(r);
    int64_t event_id = dash_event_id(ss.store);
    struct store_account *rows = NULL;
    size_t n = 0;
    enum err rc = store_accounts_list(ss.store, a, &rows, &n);
    if (rc != ERR_OK) {
        log_warn("dashboard.accounts_failed", LOG_ERR(rc));
        http_reply_error(r, rc, "could not read the accounts");
        return;
    }
    int64_t now = clock_now_ms();
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = dash_account_json(a, &rows[i], now);
        if (rows[i].platform == STORE_INSTAGRAM)
            json_object_set_new(o, "quota", dash_quota_json(ss.store, rows[i].id, now));
        json_array_append_new(list, o);
    }
    json_t *body = json_object();
    json_object_set_new(body, "accounts", list);
    json_object_set_new(body, "banner", str_or_null(meta_accounts_banner(a, rows, n, now)));
    json_object_set_new(body, "event_id", json_integer(event_id));
    http_set_header(r, "Cache-Control", "no-store");
    http_reply_json(r, 200, body);
}

/* DELETE /api/accounts/{id} (admin): the account and, with it, its conversations. */
void dash_h_account_delete(struct http_req *r, void *ctx)
{
    struct dashboard_session ss;
    if (!dashboard_require_session(ctx, r, true, &ss) || !dash_require_admin(r, &ss))
        return;
    const char *p = http_req_param(r, "id");
    char *end = NULL;
    long long id = p ? strtoll(p, &end, 10) : 0;
    if (!p || *end || id <= 0) {
        http_reply_error(r, ERR_INVALID, "bad account id");
        return;
    }
    struct store_account acct;
    enum err rc = store_account_by_id(ss.store, http_req_arena(r), id, &acct);
    if (rc == ERR_OK)
        rc = store_account_delete(ss.store, id);
    if (rc != ERR_OK) {
        http_reply_error(r, rc, rc == ERR_NOT_FOUND ? "no such account" : "could not delete it");
        return;
    }
    dash_audit(ss.store, ss.operator_id, "delete",
               arena_printf(http_req_arena(r), "account:%lld", id),
               json_pack("{s:s, s:s}", "platform", store_platform_name(acct.platform),
                         "external_id", acct.external_id));
    log_info("dashboard.account_deleted", LOG_INT("account", id),
             LOG_INT("operator", ss.operator_id));
    http_reply_json(r, 200, json_pack("{s:b}", "ok", 1));
}
