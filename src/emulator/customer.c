/*
 * emulator/customer.c - the customer acts: POST /_emulator/customers/{n}/messages (a message,
 * a reaction, a postback or a read) and POST /_emulator/customers/{n}/comments.
 *
 * Each act is recorded in the world and becomes the webhook event Meta sends for it, in the
 * channel's own shape (meta-platform.md 1.5, 1.6, 1.7): Messenger events come from the PSID
 * to the Page under object "page"; Instagram ones from the IGSID to the Instagram account
 * under object "instagram". Messages, reactions and postbacks reopen the 24-hour window
 * (2.3); reads do not.
 * Locking: e->mu held from the lookups to the push; never while answering.
 */
#include "emulator/emu_deliver.h"

#include <stdio.h>
#include <string.h>

#define TEXT_MAX 8000

enum act_kind { ACT_MESSAGE, ACT_REACTION, ACT_POSTBACK, ACT_READ };

/* What the customer does, read from the request body (borrowed from it). */
struct act {
    int customer, page;
    enum emu_channel ch;
    enum act_kind kind;
    const char *text, *mid, *reaction, *emoji, *action, *payload, *title, *quick_reply;
    const json_t *attachment;
    int64_t ts_ms; /* the event's timestamp; 0: now */
};

struct out {
    int status;
    const char *error;
    json_t *reply;
};

static const struct {
    const char *reaction, *emoji;
} emojis[] = {
    {"love", "\u2764\ufe0f"},  {"like", "\U0001F44D"}, {"smile", "\U0001F606"},
    {"wow", "\U0001F62E"},     {"sad", "\U0001F622"},  {"angry", "\U0001F620"},
    {"dislike", "\U0001F44E"},
};

static const char *const kind_names[] = {[ACT_MESSAGE] = "message",
                                         [ACT_REACTION] = "reaction",
                                         [ACT_POSTBACK] = "postback",
                                         [ACT_READ] = "read"};

static const char *str_member(const json_t *b, const char *key, bool *bad)
{
    const json_t *v = json_object_get(b, key);
    if (v && !json_is_string(v) && !json_is_null(v))
        *bad = true;
    return json_string_value(v);
}

static const char *parse_kind(const json_t *b, struct act *a)
{
    const char *kind = json_string_value(json_object_get(b, "kind"));
    a->kind = ACT_MESSAGE;
    if (!kind)
        return json_object_get(b, "kind") ? "kind must be a string" : NULL;
    for (size_t i = 0; i < sizeof kind_names / sizeof kind_names[0]; i++)
        if (strcmp(kind, kind_names[i]) == 0) {
            a->kind = (enum act_kind)i;
            return NULL;
        }
    return "kind must be message, reaction, postback or read";
}

static const char *parse_strings(const json_t *b, struct act *a)
{
    bool bad = false;
    a->text = str_member(b, "text", &bad);
    a->mid = str_member(b, "mid", &bad);
    a->reaction = str_member(b, "reaction", &bad);
    a->emoji = str_member(b, "emoji", &bad);
    a->action = str_member(b, "action", &bad);
    a->payload = str_member(b, "payload", &bad);
    a->title = str_member(b, "title", &bad);
    a->quick_reply = str_member(b, "quick_reply", &bad);
    if (bad)
        return "text, mid, reaction, emoji, action, payload, title and quick_reply are strings";
    if (a->text && strlen(a->text) > TEXT_MAX)
        return "text is too long";
    if (a->action && strcmp(a->action, "react") != 0 && strcmp(a->action, "unreact") != 0)
        return "action must be react or unreact";
    return NULL;
}

/* Reads the act from the body; returns why it is bad, or NULL. */
static const char *parse_act(const json_t *b, struct act *a)
{
    const char *ch = json_string_value(json_object_get(b, "channel"));
    if (!ch || (strcmp(ch, "instagram") != 0 && strcmp(ch, "messenger") != 0))
        return "channel must be instagram or messenger";
    a->ch = strcmp(ch, "instagram") == 0 ? EMU_INSTAGRAM : EMU_MESSENGER;
    const json_t *page = json_object_get(b, "page");
    if (page && !json_is_integer(page))
        return "page must be a Page index";
    a->page = page ? (int)json_integer_value(page) : 0;
    const json_t *ts = json_object_get(b, "timestamp_ms");
    if (ts && (!json_is_integer(ts) || json_integer_value(ts) <= 0))
        return "timestamp_ms must be a positive integer";
    a->ts_ms = ts ? (int64_t)json_integer_value(ts) : 0;
    a->attachment = json_object_get(b, "attachment");
    if (a->attachment &&
        (!json_is_object(a->attachment) || !json_is_string(json_object_get(a->attachment, "type"))))
        return "attachment must be an object with a type";
    const char *bad = parse_kind(b, a);
    if (!bad)
        bad = parse_strings(b, a);
    if (!bad && a->kind == ACT_MESSAGE && !(a->text && *a->text) && !a->attachment)
        bad = "a message needs text or an attachment";
    if (!bad && a->kind == ACT_REACTION && !a->mid)
        bad = "a reaction needs the mid of the message reacted to";
    if (!bad && a->kind == ACT_READ && a->ch == EMU_INSTAGRAM && !a->mid)
        bad = "an Instagram read needs the mid of the message seen";
    return bad;
}

/* ---- events ---- */

static json_t *event_base(const struct emulator *e, const struct act *a, int64_t ts)
{
    const struct emu_customer *c = &e->customers[a->customer];
    const struct emu_page *p = &e->pages[a->page];
    bool ig = a->ch == EMU_INSTAGRAM;
    return json_pack("{s:{s:s}, s:{s:s}, s:I}", "sender", "id", ig ? c->igsid : c->psid[a->page],
                     "recipient", "id", ig ? p->ig_id : p->id, "timestamp", (json_int_t)ts);
}

static void push(struct emulator *e, const struct act *a, const char *field, json_t *ev)
{
    const struct emu_page *p = &e->pages[a->page];
    bool ig = a->ch == EMU_INSTAGRAM;
    emu_webhook_push(e, ig ? "instagram" : "page", ig ? p->ig_id : p->id, "messaging", field, ev);
}

static json_t *message_object(const struct emu_msg *m, const struct act *a)
{
    json_t *msg = json_pack("{s:s}", "mid", m->mid);
    if (a->text && *a->text)
        json_object_set_new(msg, "text", json_string(a->text));
    if (a->attachment)
        json_object_set_new(msg, "attachments", json_pack("[O]", a->attachment));
    if (a->quick_reply)
        json_object_set_new(msg, "quick_reply", json_pack("{s:s}", "payload", a->quick_reply));
    return msg;
}

static const char *do_message(struct emulator *e, const struct act *a, int t, int64_t now)
{
    char *att = a->attachment ? json_dumps(a->attachment, JSON_COMPACT) : NULL;
    size_t i = emu_msg_add(e, t, true, a->text && *a->text ? a->text : NULL, att);
    free(att);
    e->threads[t].last_inbound_ms = now;
    json_t *ev = event_base(e, a, a->ts_ms ? a->ts_ms : now);
    json_object_set_new(ev, "message", message_object(&e->msgs[i], a));
    push(e, a, "messages", ev);
    return e->msgs[i].mid;
}

static const char *emoji_for(const char *reaction)
{
    for (size_t i = 0; i < sizeof emojis / sizeof emojis[0]; i++)
        if (strcmp(reaction, emojis[i].reaction) == 0)
            return emojis[i].emoji;
    return NULL;
}

static void do_reaction(struct emulator *e, const struct act *a, int t, int64_t now)
{
    json_t *r = json_pack("{s:s, s:s}", "mid", a->mid, "action", a->action ? a->action : "react");
    if (!a->action || strcmp(a->action, "react") == 0) {
        const char *reaction = a->reaction ? a->reaction : "love";
        const char *emoji = a->emoji ? a->emoji : emoji_for(reaction);
        json_object_set_new(r, "reaction", json_string(reaction));
        if (emoji)
            json_object_set_new(r, "emoji", json_string(emoji));
        e->threads[t].last_inbound_ms = now;
    }
    json_t *ev = event_base(e, a, a->ts_ms ? a->ts_ms : now);
    json_object_set_new(ev, "reaction", r);
    push(e, a, "message_reactions", ev);
}

static const char *do_postback(struct emulator *e, const struct act *a, int t, int64_t now)
{
    const char *title = a->title ? a->title : "Get Started";
    size_t i = emu_msg_add(e, t, true, title, NULL);
    e->threads[t].last_inbound_ms = now;
    json_t *ev = event_base(e, a, a->ts_ms ? a->ts_ms : now);
    json_object_set_new(ev, "postback",
                        json_pack("{s:s, s:s, s:s}", "mid", e->msgs[i].mid, "title", title,
                                  "payload", a->payload ? a->payload : title));
    push(e, a, "messaging_postbacks", ev);
    return e->msgs[i].mid;
}

static void do_read(struct emulator *e, const struct act *a, int64_t now)
{
    json_t *ev = event_base(e, a, a->ts_ms ? a->ts_ms : now);
    if (a->ch == EMU_INSTAGRAM) {
        json_object_set_new(ev, "read", json_pack("{s:s}", "mid", a->mid));
        push(e, a, "messaging_seen", ev);
    } else {
        json_object_set_new(ev, "read", json_pack("{s:I}", "watermark", (json_int_t)now));
        push(e, a, "message_reads", ev);
    }
}

/* Checks the act against the world (mu held); returns the HTTP status of the problem, or 0. */
static int check_world(const struct emulator *e, const struct act *a, const char **why)
{
    if (a->customer < 0) {
        *why = "no such customer";
        return 404;
    }
    if (a->page < 0 || a->page >= e->n_pages) {
        *why = "no such Page";
        return 404;
    }
    if (a->ch == EMU_INSTAGRAM && !e->pages[a->page].ig_id[0]) {
        *why = "this Page has no Instagram account";
        return 400;
    }
    return 0;
}

static void act_locked(struct emulator *e, const struct act *a, struct out *o)
{
    o->status = check_world(e, a, &o->error);
    if (o->status)
        return;
    bool refers = a->mid && (a->kind == ACT_REACTION || a->kind == ACT_READ);
    int64_t m = refers ? emu_msg_by_mid(e, a->mid) : -1;
    const struct emu_thread *mt = m >= 0 ? &e->threads[e->msgs[m].thread] : NULL;
    if (refers && !(mt && mt->page == a->page && mt->customer == a->customer && mt->ch == a->ch)) {
        o->status = 404;
        o->error = "no message with this mid in the thread";
        return;
    }
    int t = emu_thread_get(e, a->page, a->customer, a->ch);
    int64_t now = emu_now_ms(e);
    const char *mid = refers ? a->mid : NULL;
    if (a->kind == ACT_MESSAGE)
        mid = do_message(e, a, t, now);
    else if (a->kind == ACT_REACTION)
        do_reaction(e, a, t, now);
    else if (a->kind == ACT_POSTBACK)
        mid = do_postback(e, a, t, now);
    else
        do_read(e, a, now);
    o->status = 200;
    o->reply = json_pack("{s:o, s:s, s:I}", "mid", mid ? json_string(mid) : json_null(), "thread",
                         e->threads[t].id, "timestamp", (json_int_t)(a->ts_ms ? a->ts_ms : now));
}

void emu_h_control_customer_message(struct http_req *r, void *ctx)
{
    struct emulator *e = ctx;
    json_t *b = emu_ctl_body(r);
    if (!b)
        return;
    struct act a = {0};
    const char *bad = parse_act(b, &a);
    if (bad) {
        json_decref(b);
        emu_ctl_error(r, 400, bad);
        return;
    }
    struct out o = {0};
    pthread_mutex_lock(&e->mu);
    a.customer = emu_ctl_index(http_req_param(r, "n"), e->n_customers);
    act_locked(e, &a, &o);
    pthread_mutex_unlock(&e->mu);
    json_decref(b);
    if (o.reply)
        http_reply_json(r, o.status, o.reply);
    else
        emu_ctl_error(r, o.status, o.error);
}

/* ---- comments ---- */

struct comment_req {
    int customer;
    const char *media_id, *text, *parent_id;
};

static void comment_locked(struct emulator *e, const struct comment_req *q, struct out *o)
{
    int64_t m = emu_media_by_id(e, q->media_id);
    int64_t parent = q->parent_id ? emu_comment_by_id(e, q->parent_id) : -1;
    o->status = 404;
    if (q->customer < 0)
        o->error = "no such customer";
    else if (m < 0)
        o->error = "no such media";
    else if (q->parent_id && (parent < 0 || strcmp(e->comments[parent].media_id, q->media_id) != 0))
        o->error = "no such parent comment on this media";
    else if (!e->pages[e->media[m].page].ig_id[0])
        o->error = "the media's Page has no Instagram account";
    if (o->error)
        return;
    const struct emu_page *p = &e->pages[e->media[m].page];
    const struct emu_customer *c = &e->customers[q->customer];
    size_t i = emu_comment_add(e, e->media[m].page, EMU_INSTAGRAM, q->media_id, q->parent_id,
                               q->customer, q->text);
    json_t *v = json_pack("{s:{s:s, s:s}, s:{s:s, s:s}, s:s}", "from", "id", c->igsid, "username",
                          c->ig_username, "media", "id", q->media_id, "media_product_type", "FEED",
                          "id", e->comments[i].id);
    if (q->parent_id)
        json_object_set_new(v, "parent_id", json_string(q->parent_id));
    json_object_set_new(v, "text", json_string(q->text));
    emu_webhook_push(e, "instagram", p->ig_id, "changes", "comments", v);
    o->status = 200;
    o->reply = json_pack("{s:s}", "id", e->comments[i].id);
}

void emu_h_control_comment(struct http_req *r, void *ctx)
{
    struct emulator *e = ctx;
    json_t *b = emu_ctl_body(r);
    if (!b)
        return;
    struct comment_req q = {.media_id = json_string_value(json_object_get(b, "media_id")),
                            .text = json_string_value(json_object_get(b, "text")),
                            .parent_id = json_string_value(json_object_get(b, "parent_id"))};
    if (!q.media_id || !q.text || !*q.text || strlen(q.text) > TEXT_MAX) {
        json_decref(b);
        emu_ctl_error(r, 400, "media_id and text (a non-empty string) are required");
        return;
    }
    struct out o = {0};
    pthread_mutex_lock(&e->mu);
    q.customer = emu_ctl_index(http_req_param(r, "n"), e->n_customers);
    comment_locked(e, &q, &o);
    pthread_mutex_unlock(&e->mu);
    json_decref(b);
    if (o.reply)
        http_reply_json(r, o.status, o.reply);
    else
        emu_ctl_error(r, o.status, o.error);
}
