/*
 * inbox/apply.c - one newly stored webhook event applied to contacts, conversations and
 * messages, inside the webhook job's transaction.
 *
 * Owns: routing an event to its account (entry id = Page id or IG account id; unknown ids are
 * never guessed), who the customer is (the recipient of an echo, else the sender), and what
 * each kind does (meta-platform.md 1.5-1.6, 2.3, 10.4-10.5): customer actions become incoming
 * messages and open the window; echoes settle our own sends or record the business's replies
 * (pausing the AI, by setting); deletions, edits and reactions update earlier rows; reads move
 * a watermark; standby events are stored but mark the thread as owned by another app.
 * Does not own: SQL (store/), the window arithmetic (window.c), answering (turn.c: a new
 * customer message in a conversation the AI answers queues its turn here, in this transaction).
 * Every step is idempotent and never moves a clock backwards, so a replayed or late event
 * changes nothing. Attachments are stored as references (type + url), never downloaded.
 */
#include "inbox/inbox.h"

#include <string.h>

#include "core/json.h"
#include "core/log.h"
#include "inbox/handoff.h"
#include "inbox/inbox_int.h"
#include "meta/meta.h"

#define MAX_ID_LEN 512 /* Meta's ids (mid, PSID) are opaque strings; ours fit well within */

struct target {
    int64_t account_id, conversation_id;
    int64_t ts; /* the event's time in ms (now when Meta gave none) */
    bool is_standby;
};

static int64_t normalize_ts(int64_t ts, int64_t now_ms)
{
    if (ts <= 0)
        return now_ms;
    return ts < 1000000000000LL ? ts * 1000 : ts; /* seconds, by magnitude */
}

static bool opens_window(enum meta_event_kind k)
{
    return k == META_EV_MESSAGE || k == META_EV_POSTBACK || k == META_EV_REFERRAL ||
           k == META_EV_REACTION;
}

static bool is_conversational(enum meta_event_kind k)
{
    switch (k) {
    case META_EV_MESSAGE:
    case META_EV_ECHO:
    case META_EV_MESSAGE_DELETED:
    case META_EV_MESSAGE_EDIT:
    case META_EV_REACTION:
    case META_EV_READ:
    case META_EV_POSTBACK:
    case META_EV_REFERRAL:
        return true;
    default:
        return false;
    }
}

static bool valid_id(const char *id)
{
    return id && *id && strlen(id) <= MAX_ID_LEN;
}

/* ---- JSON columns ---- */

static const char *dump(struct arena *a, json_t *o)
{
    const char *s = json_object_size(o) || json_array_size(o) ? json_dump_arena(a, o) : NULL;
    json_decref(o);
    return s;
}

static void set_str(json_t *o, const char *key, const char *v)
{
    if (v)
        json_object_set_new(o, key, json_string(v));
}

static const char *attachments_json(struct arena *a, const struct meta_event *e)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < e->n_attachments; i++) {
        json_t *o = json_object();
        set_str(o, "type", e->attachments[i].type ? e->attachments[i].type : "unknown");
        set_str(o, "url", e->attachments[i].url);
        json_array_append_new(arr, o);
    }
    return dump(a, arr);
}

static const char *reply_to_json(struct arena *a, const struct meta_event *e)
{
    json_t *o = json_object();
    set_str(o, "mid", e->reply_to_mid);
    if (e->reply_to_story_id || e->reply_to_story_url) {
        json_t *story = json_object();
        set_str(story, "id", e->reply_to_story_id);
        set_str(story, "url", e->reply_to_story_url);
        json_object_set_new(o, "story", story);
    }
    return dump(a, o);
}

static json_t *referral_json(const struct meta_referral *r)
{
    json_t *o = json_object();
    set_str(o, "ref", r->ref);
    set_str(o, "source", r->source);
    set_str(o, "type", r->type);
    set_str(o, "ad_id", r->ad_id);
    set_str(o, "ad_title", r->ad_title);
    set_str(o, "post_id", r->post_id);
    return o;
}

static const char *meta_json(struct arena *a, const struct meta_event *e, bool is_standby)
{
    json_t *o = json_object();
    if (is_standby)
        json_object_set_new(o, "standby", json_true());
    if (e->is_unsupported)
        json_object_set_new(o, "unsupported", json_true());
    set_str(o, "quick_reply", e->quick_reply_payload);
    if (e->kind == META_EV_POSTBACK) {
        json_t *pb = json_object();
        set_str(pb, "title", e->postback_title);
        set_str(pb, "payload", e->postback_payload);
        json_object_set_new(o, "postback", pb);
    }
    if (e->referral)
        json_object_set_new(o, "referral", referral_json(e->referral));
    if (e->kind == META_EV_ECHO) {
        set_str(o, "app_id", e->app_id);
        set_str(o, "metadata", e->metadata);
    }
    return dump(a, o);
}

/* ---- routing ---- */

static bool platform_of(const char *object, enum store_platform *p)
{
    if (object && strcmp(object, "page") == 0)
        *p = STORE_MESSENGER;
    else if (object && strcmp(object, "instagram") == 0)
        *p = STORE_INSTAGRAM;
    else
        return false;
    return true;
}

/* The customer's scoped id: the sender, except in an echo, where Meta swaps the two (some
 * recorded echoes keep the customer as sender: the side that is not the account wins). */
static const char *customer_of(const struct meta_event *e)
{
    if (e->kind != META_EV_ECHO)
        return e->sender_id;
    if (e->recipient_id && strcmp(e->recipient_id, e->entry_id) == 0)
        return e->sender_id;
    return e->recipient_id;
}

/* ERR_NOT_FOUND: not for a connected account (never guessed); ERR_INVALID: no usable
 * customer id (the event stays in events only). */
static enum err find_target(struct store *s, const struct meta_event *e, int64_t now_ms,
                            struct target *t)
{
    enum store_platform p;
    if (!platform_of(e->object, &p) || !valid_id(e->entry_id))
        return ERR_NOT_FOUND;
    const char *customer = customer_of(e);
    if (!valid_id(customer) || strcmp(customer, e->entry_id) == 0)
        return ERR_INVALID; /* no customer, or the account itself */
    enum err rc = store_account_route(s, p, e->entry_id, &t->account_id);
    if (rc == ERR_OK)
        rc = store_conversation_ensure(s, t->account_id, customer, now_ms, &t->conversation_id,
                                       NULL);
    t->ts = normalize_ts(e->ts_ms, now_ms);
    t->is_standby = e->channel && strcmp(e->channel, "standby") == 0;
    return rc;
}

/* ---- per kind ---- */

/* Events without a mid of their own (referrals, old postbacks) are keyed by their dedupe key,
 * with a prefix Meta's ids never carry, so a replay still finds the row. */
static const char *row_mid(struct arena *a, const struct meta_event *e)
{
    if (valid_id(e->mid))
        return e->mid;
    return arena_printf(a, "sb:%s", e->key ? e->key : "");
}

/* A new customer message in a conversation the AI answers: its turn, in this transaction. */
static enum err maybe_queue_turn(struct store *s, struct inbox_apply_ctx *c, int64_t conv,
                                 int64_t message_id, int64_t now_ms)
{
    struct store_conversation cv;
    enum err rc = store_conversation_get(s, c->arena, conv, &cv);
    if (rc != ERR_OK || strcmp(cv.mode, "ai") != 0 || cv.is_standby)
        return rc;
    return inbox_queue_turn(c->queue, s, conv, message_id, c->turn_burst_ms, now_ms);
}

static enum err customer_message(struct store *s, struct inbox_apply_ctx *c,
                                 const struct meta_event *e, const struct target *t, int64_t now_ms)
{
    struct store_message_new m = {
        .conversation_id = t->conversation_id,
        .direction = "in",
        .author = "customer",
        .mid = row_mid(c->arena, e),
        .text = e->kind == META_EV_POSTBACK ? e->postback_title : e->text,
        .attachments = attachments_json(c->arena, e),
        .reply_to = reply_to_json(c->arena, e),
        .meta = meta_json(c->arena, e, t->is_standby),
        .status = "received",
        .meta_ts = t->ts,
    };
    int64_t id = 0;
    enum err rc = store_message_insert(s, &m, now_ms, &id);
    struct store_conversation_touch touch = {.customer_at = t->ts,
                                             .message_at = id ? t->ts : 0,
                                             .unread = id ? 1 : 0,
                                             .standby = t->is_standby,
                                             .standby_at = t->ts};
    if (rc == ERR_OK)
        rc = store_conversation_touch(s, t->conversation_id, &touch, now_ms);
    if (rc == ERR_OK && id && !t->is_standby && c->queue)
        rc = maybe_queue_turn(s, c, t->conversation_id, id, now_ms);
    return rc;
}

static bool pause_on_business_reply(struct store *s, struct inbox_apply_ctx *c)
{
    if (c->pause_on_business_reply < 0) {
        const char *v = NULL;
        bool off =
            store_setting_get(s, c->arena, INBOX_SETTING_PAUSE_ON_BUSINESS_REPLY, &v) == ERR_OK &&
            v &&
            (strcmp(v, "false") == 0 || strcmp(v, "0") == 0 || strcmp(v, "no") == 0 ||
             strcmp(v, "off") == 0);
        c->pause_on_business_reply = off ? 0 : 1;
    }
    return c->pause_on_business_reply == 1;
}

static bool is_our_app(const struct inbox_apply_ctx *c, const struct meta_event *e)
{
    return c->app_id && *c->app_id && e->app_id && strcmp(c->app_id, e->app_id) == 0;
}

/* A business message we did not send: stored as the business's, and the AI steps back. */
static enum err business_echo(struct store *s, struct inbox_apply_ctx *c,
                              const struct meta_event *e, const struct target *t, int64_t now_ms)
{
    struct store_message_new m = {
        .conversation_id = t->conversation_id,
        .direction = "out",
        .author = "business",
        .mid = row_mid(c->arena, e),
        .text = e->text,
        .attachments = attachments_json(c->arena, e),
        .reply_to = reply_to_json(c->arena, e),
        .meta = meta_json(c->arena, e, t->is_standby),
        .status = "sent",
        .meta_ts = t->ts,
    };
    int64_t id = 0;
    enum err rc = store_message_insert(s, &m, now_ms, &id);
    struct store_conversation_touch touch = {
        .message_at = id ? t->ts : 0, .standby = t->is_standby ? 1 : -1, .standby_at = t->ts};
    if (rc == ERR_OK && id)
        rc = store_conversation_touch(s, t->conversation_id, &touch, now_ms);
    bool is_comment_reply = e->metadata && strncmp(e->metadata, "sb:comment:", 11) == 0;
    if (rc == ERR_OK && id && is_our_app(c, e) && !is_comment_reply) /* the sender lost track */
        log_warn("echo.unmatched", LOG_INT("conversation", t->conversation_id));
    else if (rc == ERR_OK && id && is_our_app(c, e))
        log_debug("echo.comment_reply", LOG_INT("conversation", t->conversation_id));
    else if (rc == ERR_OK && id && pause_on_business_reply(s, c)) {
        struct inbox_handoff_outcome h;
        rc = inbox_handoff(s, t->conversation_id, INBOX_CAUSE_BUSINESS_REPLY, NULL, 0, now_ms, &h);
    }
    return rc;
}

static enum err echo(struct store *s, struct inbox_apply_ctx *c, const struct meta_event *e,
                     const struct target *t, int64_t now_ms)
{
    int64_t id = 0;
    enum err rc = ERR_OK;
    if (valid_id(e->mid) || (is_our_app(c, e) && e->metadata))
        rc = store_message_echo_match(s, t->conversation_id, valid_id(e->mid) ? e->mid : NULL,
                                      is_our_app(c, e) ? e->metadata : NULL, t->ts, now_ms, &id);
    if (rc != ERR_OK || id)
        return rc; /* our own send, settled: never a second row */
    return business_echo(s, c, e, t, now_ms);
}

static enum err update_kind(struct store *s, const struct meta_event *e, const struct target *t,
                            int64_t now_ms)
{
    bool changed = false;
    if (!valid_id(e->mid))
        return ERR_OK;
    switch (e->kind) {
    case META_EV_MESSAGE_DELETED:
        return store_message_mark_deleted(s, t->conversation_id, e->mid, now_ms, &changed);
    case META_EV_MESSAGE_EDIT:
        return store_message_edit(s, t->conversation_id, e->mid, e->text, e->num_edit, t->ts,
                                  now_ms, &changed);
    case META_EV_REACTION:
        return store_message_react(s, t->conversation_id, e->mid, e->reaction, e->emoji,
                                   e->is_unreact, t->ts, now_ms, &changed);
    default:
        return ERR_OK;
    }
}

static enum err apply_kind(struct store *s, struct inbox_apply_ctx *c, const struct meta_event *e,
                           const struct target *t, int64_t now_ms)
{
    switch (e->kind) {
    case META_EV_MESSAGE:
    case META_EV_POSTBACK:
    case META_EV_REFERRAL:
        return customer_message(s, c, e, t, now_ms);
    case META_EV_ECHO:
        return echo(s, c, e, t, now_ms);
    case META_EV_READ: {
        struct store_conversation_touch touch = {.standby = -1,
                                                 .read_watermark = e->watermark_ms,
                                                 .read_mid = valid_id(e->mid) ? e->mid : NULL,
                                                 .read_at = t->ts};
        return store_conversation_touch(s, t->conversation_id, &touch, now_ms);
    }
    default:
        break;
    }
    enum err rc = update_kind(s, e, t, now_ms);
    if (rc == ERR_OK && opens_window(e->kind)) { /* a reaction */
        struct store_conversation_touch touch = {
            .customer_at = t->ts, .standby = t->is_standby, .standby_at = t->ts};
        rc = store_conversation_touch(s, t->conversation_id, &touch, now_ms);
    }
    return rc;
}

/* ---- comments (inbox/comments.h) ---- */

/* A new comment: an Instagram comment, or a Page feed change that adds one. Live comments
 * and mentions stay in events only. */
static bool is_new_comment(const struct meta_event *e)
{
    if (e->kind == META_EV_COMMENT)
        return true;
    return e->kind == META_EV_FEED && e->comment_id && e->verb && strcmp(e->verb, "add") == 0;
}

/* Stored once and queued, unless the account wrote it itself (a reply of ours must never be
 * answered again). */
static enum err comment_event(struct store *s, struct inbox_apply_ctx *c,
                              const struct meta_event *e, int64_t now_ms, enum inbox_applied *out)
{
    enum store_platform p;
    int64_t account = 0;
    if (!platform_of(e->object, &p) || !valid_id(e->entry_id) || !valid_id(e->comment_id))
        return ERR_OK;
    enum err rc = store_account_route(s, p, e->entry_id, &account);
    if (rc == ERR_NOT_FOUND) {
        *out = INBOX_UNROUTED;
        return ERR_OK;
    }
    if (rc == ERR_OK)
        rc = store_account_seen(s, account, now_ms, now_ms);
    if (rc != ERR_OK || !valid_id(e->from_id) || strcmp(e->from_id, e->entry_id) == 0)
        return rc;
    struct store_comment_new cn = {.account_id = account,
                                   .comment_id = e->comment_id,
                                   .parent_id = e->parent_id,
                                   .media_id = e->media_id,
                                   .from_id = e->from_id,
                                   .from_name = e->from_username,
                                   .text = e->text,
                                   .meta_ts = normalize_ts(e->ts_ms, now_ms)};
    int64_t id = 0;
    rc = store_comment_insert(s, &cn, now_ms, &id);
    if (rc == ERR_OK && id && c->queue)
        rc = inbox_queue_comment(c->queue, s, id, now_ms);
    if (rc == ERR_OK)
        *out = INBOX_APPLIED;
    return rc;
}

enum err inbox_apply_event(struct store *s, struct inbox_apply_ctx *c, const struct meta_event *e,
                           int64_t now_ms, enum inbox_applied *out)
{
    *out = INBOX_IGNORED;
    if (is_new_comment(e))
        return comment_event(s, c, e, now_ms, out);
    if (!is_conversational(e->kind))
        return ERR_OK; /* comments, handover, optins, unknown: kept in events only */
    struct target t = {0};
    enum err rc = find_target(s, e, now_ms, &t);
    if (rc == ERR_NOT_FOUND || rc == ERR_INVALID) {
        *out = rc == ERR_NOT_FOUND ? INBOX_UNROUTED : INBOX_IGNORED;
        return ERR_OK;
    }
    if (rc == ERR_OK) /* the account hears from Meta: not silent (inbox/silence.h) */
        rc = store_account_seen(s, t.account_id, now_ms, now_ms);
    if (rc == ERR_OK)
        rc = apply_kind(s, c, e, &t, now_ms);
    if (rc == ERR_OK)
        *out = INBOX_APPLIED;
    return rc;
}
