/*
 * dashboard/settings_api.c - GET /api/settings and PUT /api/settings (admin): the keys other
 * modules read from the settings table (persona, tone, handoff keywords, thresholds, cool-down,
 * comments), each checked before anything is stored, all in one transaction with its audit row.
 *
 * The module that reads a key owns its default and its rule: the agent.* keys are checked by
 * agent_setting_check() and shown with agent_setting_default(); the others by this table.
 */
#include "dashboard/dash_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "core/clock.h"
#include "core/log.h"
#include "inbox/comments.h"

enum kind { K_TEXT, K_LINES, K_NUMBER, K_INT, K_BOOL, K_CHOICE };

static const struct setting {
    const char *key;
    enum kind kind;
    const char *fallback; /* the reader's default when unset */
    double lo, hi;        /* K_NUMBER, K_INT: range; K_TEXT, K_LINES: max bytes */
    const char *choices;  /* K_CHOICE: '|'-separated */
    const char *label;
} settings[] = {
    /* agent.*: the fallback comes from agent_setting_default(), the rule from the agent */
    {"agent.persona", K_TEXT, NULL, 1, 4000, NULL, "Persona"},
    {"agent.tone", K_TEXT, NULL, 1, 200, NULL, "Tone"},
    {"agent.handoff_keywords", K_LINES, NULL, 0, 20400, NULL, "Handoff keywords"},
    {"agent.sentiment_threshold", K_NUMBER, NULL, -1, 1, NULL, "Sentiment threshold"},
    {"agent.history_turns", K_INT, NULL, 10, 20, NULL, "History turns"},
    {"agent.handoff_cooldown_s", K_INT, NULL, 1, 604800, NULL, "Handoff cool-down (seconds)"},
    {"inbox.pause_on_business_reply", K_BOOL, "true", 0, 0, NULL,
     "Pause the AI when the business replies from Meta's apps"},
    /* comments.*: the fallback comes from inbox_comment_setting_default() */
    {INBOX_SETTING_COMMENTS_MODE, K_CHOICE, NULL, 0, 0, "leave|reply_public|reply_private",
     "Comments"},
    {INBOX_SETTING_COMMENTS_HIDE, K_BOOL, NULL, 0, 0, NULL, "Hide offensive comments"},
    {INBOX_SETTING_COMMENTS_OFFENSIVE, K_LINES, NULL, 0, INBOX_OFFENSIVE_MAX_BYTES, NULL,
     "Offensive words (one a line)"},
};
/* One account's own comments mode: "comments.mode:<account external id>" (checked as
 * comments.mode). */
#define ACCOUNT_MODE_PREFIX INBOX_SETTING_COMMENTS_MODE ":"
#define N_SETTINGS          (sizeof settings / sizeof settings[0])

static bool is_account_mode_key(const char *key)
{
    size_t n = strlen(ACCOUNT_MODE_PREFIX);
    if (strncmp(key, ACCOUNT_MODE_PREFIX, n) != 0 || !key[n] || strlen(key + n) > 64)
        return false;
    return strspn(key + n, "0123456789") == strlen(key + n);
}

static const struct setting *find(const char *key)
{
    if (is_account_mode_key(key))
        key = INBOX_SETTING_COMMENTS_MODE;
    for (size_t i = 0; i < N_SETTINGS; i++)
        if (strcmp(settings[i].key, key) == 0)
            return &settings[i];
    return NULL;
}

static bool is_choice(const char *choices, const char *v)
{
    size_t n = strlen(v);
    for (const char *p = choices; n && p && *p;) {
        size_t len = strcspn(p, "|");
        if (len == n && strncmp(p, v, n) == 0)
            return true;
        p += len + (p[len] == '|');
    }
    return false;
}

static const char *fallback(const struct setting *st)
{
    if (st->fallback)
        return st->fallback;
    const char *v = inbox_comment_setting_default(st->key);
    return v ? v : agent_setting_default(st->key);
}

/* NULL when v is a valid value for st; else why not (static text). */
static const char *check(const struct setting *st, const char *v)
{
    char *end;
    errno = 0;
    const char *agent_why = NULL;
    if (agent_setting_check(st->key, v, &agent_why) != ERR_NOT_FOUND)
        return agent_why; /* the agent's own rule (NULL: accepted) */
    switch (st->kind) {
    case K_TEXT:
    case K_LINES:
        return strlen(v) <= (size_t)st->hi ? NULL : "is too long";
    case K_NUMBER: {
        double x = strtod(v, &end);
        return !errno && end != v && !*end && isfinite(x) && x >= st->lo && x <= st->hi
                   ? NULL
                   : "must be a number from -1 to 1";
    }
    case K_INT: {
        long long x = strtoll(v, &end, 10);
        return !errno && end != v && !*end && x >= st->lo && x <= st->hi ? NULL : "is out of range";
    }
    case K_BOOL:
        return strcmp(v, "true") == 0 || strcmp(v, "false") == 0 ? NULL : "must be true or false";
    case K_CHOICE:
        return is_choice(st->choices, v) ? NULL : "is not one of the choices";
    }
    return "is unknown";
}

static const char *kind_name(enum kind k)
{
    static const char *const names[] = {"text", "lines", "number", "integer", "boolean", "choice"};
    return names[k];
}

void dash_h_settings_get(struct http_req *r, void *ctx)
{
    struct dashboard_session ss;
    if (!dashboard_require_session(ctx, r, false, &ss))
        return;
    struct arena *a = http_req_arena(r);
    json_t *list = json_array();
    for (size_t i = 0; i < N_SETTINGS; i++) {
        const struct setting *st = &settings[i];
        const char *v = NULL;
        bool is_set = store_setting_get(ss.store, a, st->key, &v) == ERR_OK;
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s}", "key", st->key, "label", st->label,
                              "kind", kind_name(st->kind), "value", is_set ? v : fallback(st),
                              "is_set", is_set, "default", fallback(st));
        if (st->kind == K_NUMBER || st->kind == K_INT)
            json_object_set_new(o, "range", json_pack("[f, f]", st->lo, st->hi));
        if (st->kind == K_TEXT || st->kind == K_LINES)
            json_object_set_new(o, "max_bytes", json_integer((json_int_t)st->hi));
        if (st->choices)
            json_object_set_new(o, "choices", json_string(st->choices));
        json_array_append_new(list, o);
    }
    json_t *body =
        json_pack("{s:o, s:b}", "settings", list, "editable", strcmp(ss.role, "admin") == 0);
    http_set_header(r, "Cache-Control", "no-store");
    http_reply_json(r, 200, body);
}

/* Every pair must be a known key with a valid text value; the first bad one is answered. */
static bool validate(struct http_req *r, json_t *in)
{
    const char *key;
    json_t *v;
    if (!json_is_object(in) || json_object_size(in) == 0) {
        http_reply_error(r, ERR_INVALID, "send an object of setting keys and values");
        return false;
    }
    json_object_foreach(in, key, v)
    {
        const struct setting *st = find(key);
        const char *why = !st                  ? "is not a setting"
                          : !json_is_string(v) ? "must be sent as text"
                                               : check(st, json_string_value(v));
        if (why) {
            char msg[256];
            bool whole =
                st && strncmp(key, "agent.", 6) == 0; /* the agent's words are a sentence */
            snprintf(msg, sizeof msg, "%s%s%s",
                     whole ? ""
                     : st  ? st->label
                           : key,
                     whole ? "" : " ", why);
            http_reply_error(r, ERR_INVALID, msg);
            return false;
        }
    }
    return true;
}

static enum err store_all(const struct dashboard_session *ss, json_t *in)
{
    int64_t now = clock_now_ms();
    enum err rc = store_begin(ss->store);
    const char *key;
    json_t *v;
    json_t *keys = json_array();
    json_object_foreach(in, key, v)
    {
        if (rc == ERR_OK)
            rc = store_setting_set(ss->store, key, json_string_value(v), now);
        json_array_append_new(keys, json_string(key));
    }
    if (rc == ERR_OK)
        dash_audit(ss->store, ss->operator_id, "settings", NULL, json_pack("{s:o}", "keys", keys));
    else
        json_decref(keys);
    if (rc != ERR_OK) {
        store_rollback(ss->store);
        return rc;
    }
    return store_commit(ss->store);
}

void dash_h_settings_put(struct http_req *r, void *ctx)
{
    struct dashboard_session ss;
    if (!dashboard_require_session(ctx, r, true, &ss) || !dash_require_admin(r, &ss))
        return;
    size_t len = 0;
    const char *body = http_req_body(r, &len);
    json_t *in = json_loadb(body, len, 0, NULL);
    if (!validate(r, in)) {
        json_decref(in);
        return;
    }
    enum err rc = store_all(&ss, in);
    log_info("dashboard.settings", LOG_INT("operator", ss.operator_id),
             LOG_INT("keys", (long long)json_object_size(in)), LOG_ERR(rc));
    json_decref(in);
    if (rc != ERR_OK) {
        http_reply_error(r, rc, "could not store the settings");
        return;
    }
    dash_h_settings_get(r, ctx);
}
