/*
 * dashboard/conversations_api.c - the inbox and one conversation over REST: lists by filter
 * with unread counts, messages by cursor, take over, reply, hand back, mark read.
 *
 * Cursors are opaque to the page (base64url of a versioned keyset): a conversation page
 * continues after (last activity, id), a message page before or after a message id. Keysets,
 * not offsets, so a page stays right while new messages arrive: new rows only ever sort before
 * (conversations) or after (messages) what the page has. Every answer carries event_id, the
 * bus id read before its queries: the page opens /ws?after=event_id and misses nothing.
 * Each change is recorded in the audit log (never the message text).
 */
#include "dashboard/dash_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/json.h"
#include "core/log.h"
#include "inbox/handoff.h"
#include "inbox/inbox.h"
#include "inbox/window.h"

#define PAGE_DEFAULT 30
#define PAGE_MAX     100

static const struct {
    const char *name;
    enum store_conv_filter f;
} filters[STORE_CONV_FILTERS] = {{"all", STORE_CONV_ALL},
                                 {"needs_human", STORE_CONV_NEEDS_HUMAN},
                                 {"ai", STORE_CONV_AI},
                                 {"closed", STORE_CONV_CLOSED}};

/* ---- cursors ---- */

static char *cursor_make(struct arena *a, const char *kind, int64_t x, int64_t y)
{
    char raw[64];
    int n = snprintf(raw, sizeof raw, "%s1.%lld.%lld", kind, (long long)x, (long long)y);
    char *out = arena_alloc(a, 2 * sizeof raw);
    base64url_encode(raw, (size_t)n, out);
    return out;
}

/* false for a cursor this code did not make. */
static bool cursor_read(const char *c, const char *kind, int64_t *x, int64_t *y)
{
    unsigned char raw[64];
    size_t n = 0;
    if (!c || strlen(c) > 80 || base64_decode(c, strlen(c), raw, sizeof raw - 1, &n) != ERR_OK)
        return false;
    raw[n] = '\0';
    long long a = 0, b = 0;
    char k[4], tail;
    return sscanf((const char *)raw, "%2[a-z]1.%lld.%lld%c", k, &a, &b, &tail) == 3 &&
           strcmp(k, kind) == 0 && a >= 0 && b >= 0 && ((*x = a), (*y = b), true);
}

static bool int_arg(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    if (!s)
        return true;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* The conversation id of the path, after answering 400 when it is not one. */
static bool path_id(struct http_req *r, int64_t *id)
{
    *id = 0;
    if (int_arg(http_req_param(r, "id"), 1, INT64_MAX, id) && *id > 0)
        return true;
    http_reply_error(r, ERR_INVALID, "bad conversation id");
    return false;
}

/* ---- the inbox ---- */

static json_t *counts_json(struct store *s, int64_t now)
{
    struct store_conv_count c[STORE_CONV_FILTERS] = {{0}};
    json_t *o = json_object();
    if (store_conversation_counts(s, now, c) != ERR_OK)
        return o;
    for (int i = 0; i < STORE_CONV_FILTERS; i++)
        json_object_set_new(o, filters[i].name,
                            json_pack("{s:I, s:I}", "total", (json_int_t)c[filters[i].f].total,
                                      "unread", (json_int_t)c[filters[i].f].unread));
    return o;
}

static bool parse_filter(const char *name, enum store_conv_filter *f)
{
    *f = STORE_CONV_ALL;
    for (int i = 0; name && i < STORE_CONV_FILTERS; i++)
        if (strcmp(name, filters[i].name) == 0) {
            *f = filters[i].f;
            return true;
        }
    return !name;
}

void dash_h_conversations(struct http_req *r, void *ctx)
{
    struct dashboard_session ss;
    if (!dashboard_require_session(ctx, r, false, &ss))
        return;
    enum store_conv_filter f;
    int64_t limit = PAGE_DEFAULT, at = 0, id = 0;
    const char *before = http_req_query(r, "before");
    if (!parse_filter(http_req_query(r, "filter"), &f) ||
        !int_arg(http_req_query(r, "limit"), 1, PAGE_MAX, &limit) ||
        (before && !cursor_read(before, "c", &at, &id))) {
        http_reply_error(r, ERR_INVALID,
                         "filter is all, needs_human, ai or closed; limit 1-100; "
                         "before a cursor from this API");
        return;
    }
    struct arena *a = http_req_arena(r);
    int64_t now = clock_now_ms(), event_id = dash_event_id(ss.store);
    int64_t ids[PAGE_MAX];
    size_t n = 0;
    enum err rc = store_conversation_ids(ss.store, f, now, at, id, (size_t)limit, ids, &n);
    json_t *list = json_array();
    struct store_conversation cv = {0};
    for (size_t i = 0; rc == ERR_OK && i < n; i++)
        if ((rc = store_conversation_get(ss.store, a, ids[i], &cv)) == ERR_OK)
            json_array_append_new(list, dash_conversation_json(ss.store, a, &cv, now));
    if (rc != ERR_OK) {
        json_decref(list);
        http_reply_error(r, rc, "could not read the conversations");
        return;
    }
    json_t *body = json_pack("{s:o, s:o, s:I}", "conversations", list, "counts",
                             counts_json(ss.store, now), "event_id", (json_int_t)event_id);
    json_object_set_new(body, "before",
                        n == (size_t)limit
                            ? json_string(cursor_make(a, "c", cv.last_message_at, cv.id))
                            : json_null());
    http_set_header(r, "Cache-Control", "no-store");
    http_reply_json(r, 200, body);
}

void dash_h_conversation(struct http_req *r, void *ctx)
{
    struct dashboard_session ss;
    int64_t id;
    if (!dashboard_require_session(ctx, r, false, &ss) || !path_id(r, &id))
        return;
    struct arena *a = http_req_arena(r);
    int64_t event_id = dash_event_id(ss.store);
    struct store_conversation cv;
    enum err rc = store_conversation_get(ss.store, a, id, &cv);
    if (rc != ERR_OK) {
        http_reply_error(r, rc, rc == ERR_NOT_FOUND ? "no such conversation" : NULL);
        return;
    }
    json_t *body = json_pack("{s:o, s:I}", "conversation",
                             dash_conversation_json(ss.store, a, &cv, clock_now_ms()), "event_id",
                             (json_int_t)event_id);
    http_set_header(r, "Cache-Control", "no-store");
    http_reply_json(r, 200, body);
}

void dash_h_messages(struct http_req *r, void *ctx)
{
    struct dashboard_session ss;
    int64_t conv;
    if (!dashboard_require_session(ctx, r, false, &ss) || !path_id(r, &conv))
        return;
    int64_t limit = PAGE_DEFAULT, before = 0, after = 0, zero = 0;
    const char *bc = http_req_query(r, "before"), *ac = http_req_query(r, "after");
    if (!int_arg(http_req_query(r, "limit"), 1, PAGE_MAX, &limit) || (bc && ac) ||
        (bc && !cursor_read(bc, "m", &before, &zero)) ||
        (ac && !cursor_read(ac, "m", &after, &zero))) {
        http_reply_error(r, ERR_INVALID,
                         "limit 1-100; before or after (not both), a cursor "
                         "from this API");
        return;
    }
    struct arena *a = http_req_arena(r);
    int64_t event_id = dash_event_id(ss.store);
    struct store_conversation cv;
    struct store_message *rows = NULL;
    size_t n = 0;
    bool more = false;
    enum err rc = store_conversation_get(ss.store, a, conv, &cv);
    if (rc == ERR_OK)
        rc = store_messages_page(ss.store, a, conv, before, after, (size_t)limit, &rows, &n, &more);
    if (rc != ERR_OK) {
        http_reply_error(r, rc, rc == ERR_NOT_FOUND ? "no such conversation" : NULL);
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, dash_message_json(&rows[i]));
    bool backwards = !ac; /* the newest page and "before" pages read towards older rows */
    json_t *body = json_pack("{s:o, s:I}", "messages", list, "event_id", (json_int_t)event_id);
    json_object_set_new(body, "before",
                        n && (backwards ? more : true)
                            ? json_string(cursor_make(a, "m", rows[0].id, 0))
                            : json_null());
    json_object_set_new(body, "after",
                        json_string(cursor_make(a, "m", n ? rows[n - 1].id : after, 0)));
    json_object_set_new(body, "has_more", json_boolean(more));
    http_set_header(r, "Cache-Control", "no-store");
    http_reply_json(r, 200, body);
}

/* ---- changes ---- */

/* The conversation as it is now, after a change. */
static void reply_conversation(struct http_req *r, struct store *s, int64_t id, json_t *extra)
{
    struct arena *a = http_req_arena(r);
    struct store_conversation cv;
    enum err rc = store_conversation_get(s, a, id, &cv);
    if (rc != ERR_OK) {
        json_decref(extra);
        http_reply_error(r, rc, NULL);
        return;
    }
    json_t *body = extra ? extra : json_object();
    json_object_set_new(body, "conversation", dash_conversation_json(s, a, &cv, clock_now_ms()));
    http_reply_json(r, 200, body);
}

static const char *target(struct http_req *r, int64_t id)
{
    return arena_printf(http_req_arena(r), "conversation:%lld", (long long)id);
}

/* Runs the move in a transaction with its audit row. */
static enum err move(struct http_req *r, const struct dashboard_session *ss, int64_t id, bool take,
                     bool *changed)
{
    int64_t now = clock_now_ms();
    enum err rc = store_begin(ss->store);
    if (rc != ERR_OK)
        return rc;
    rc = take ? inbox_take_over(ss->store, id, ss->operator_id, now, changed)
              : inbox_hand_back(ss->store, id, ss->operator_id, now, changed);
    if (rc == ERR_OK && *changed)
        dash_audit(ss->store, ss->operator_id, take ? "takeover" : "hand_back", target(r, id),
                   NULL);
    if (rc != ERR_OK) {
        store_rollback(ss->store);
        return rc;
    }
    return store_commit(ss->store);
}

static void h_move(struct http_req *r, void *ctx, bool take)
{
    struct dashboard_session ss;
    int64_t id;
    if (!dashboard_require_session(ctx, r, true, &ss) || !path_id(r, &id))
        return;
    bool changed = false;
    enum err rc = move(r, &ss, id, take, &changed);
    if (rc != ERR_OK) {
        http_reply_error(r, rc, rc == ERR_NOT_FOUND ? "no such conversation" : NULL);
        return;
    }
    log_info(take ? "dashboard.takeover" : "dashboard.hand_back", LOG_INT("conversation", id),
             LOG_INT("operator", ss.operator_id), LOG_BOOL("changed", changed));
    reply_conversation(r, ss.store, id, json_pack("{s:b}", "changed", changed));
}

void dash_h_takeover(struct http_req *r, void *ctx)
{
    h_move(r, ctx, true);
}

void dash_h_handback(struct http_req *r, void *ctx)
{
    h_move(r, ctx, false);
}

/* Stores the reply (taking the conversation over first when the AI has it) with its audit
 * rows, in one transaction. */
static enum err reply_tx(struct http_req *r, struct dashboard *d,
                         const struct dashboard_session *ss, int64_t id, const char *text,
                         struct inbox_human_reply *out)
{
    int64_t now = clock_now_ms();
    struct arena *a = http_req_arena(r);
    struct store_conversation cv;
    enum err rc = store_begin(ss->store);
    if (rc != ERR_OK)
        return rc;
    bool took = false;
    rc = store_conversation_get(ss->store, a, id, &cv);
    if (rc == ERR_OK && strcmp(cv.mode, "ai") == 0)
        rc = inbox_take_over(ss->store, id, ss->operator_id, now, &took);
    if (rc == ERR_OK && took)
        dash_audit(ss->store, ss->operator_id, "takeover", target(r, id),
                   json_pack("{s:s}", "by", "reply"));
    if (rc == ERR_OK)
        rc = inbox_human_reply(ss->store, d->queue, id, ss->operator_id, text, now, out);
    if (rc == ERR_OK)
        dash_audit(ss->store, ss->operator_id, "reply", target(r, id),
                   json_pack("{s:I, s:s, s:s?, s:I}", "message_id", (json_int_t)out->message_id,
                             "messaging_type", out->messaging_type, "tag", out->tag, "bytes",
                             (json_int_t)strlen(text)));
    if (rc != ERR_OK) {
        store_rollback(ss->store);
        return rc;
    }
    return store_commit(ss->store);
}

void dash_h_reply(struct http_req *r, void *ctx)
{
    struct dashboard *d = ctx;
    struct dashboard_session ss;
    int64_t id;
    if (!dashboard_require_session(d, r, true, &ss) || !path_id(r, &id))
        return;
    size_t len = 0;
    const char *body = http_req_body(r, &len);
    json_t *in = json_loadb(body, len, 0, NULL);
    const char *text =
        arena_strdup(http_req_arena(r), json_get_str(in, "text") ? json_get_str(in, "text") : "");
    json_decref(in);
    struct inbox_human_reply out;
    enum err rc = d->queue ? reply_tx(r, d, &ss, id, text, &out) : ERR_IO;
    if (rc == ERR_CONFLICT) {
        dash_reply_status(r, 409, "window_closed", out.refused);
        return;
    }
    if (rc != ERR_OK) {
        http_reply_error(r, rc,
                         rc == ERR_INVALID     ? "write a reply of at most 4000 bytes"
                         : rc == ERR_NOT_FOUND ? "no such conversation"
                                               : "could not store the reply");
        return;
    }
    reply_conversation(r, ss.store, id,
                       json_pack("{s:I, s:s, s:s?}", "message_id", (json_int_t)out.message_id,
                                 "messaging_type", out.messaging_type, "tag", out.tag));
}

void dash_h_read(struct http_req *r, void *ctx)
{
    struct dashboard_session ss;
    int64_t id;
    if (!dashboard_require_session(ctx, r, true, &ss) || !path_id(r, &id))
        return;
    bool changed = false;
    enum err rc = store_conversation_mark_read(ss.store, id, clock_now_ms(), &changed);
    if (rc != ERR_OK) {
        http_reply_error(r, rc, NULL);
        return;
    }
    reply_conversation(r, ss.store, id, json_pack("{s:b}", "changed", changed));
}
