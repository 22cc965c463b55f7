/*
 * emulator/send.c - the Send API: POST /{ver}/{page-id|ig-user-id|me}/messages.
 *
 * Owns: who the recipient is (PSID, IGSID, or a comment for a private reply), the 24-hour
 * and 7-day windows, sender actions, storing the outbound message and its echo webhook
 * (meta-platform.md §2).
 * Does not own: the checks on the message itself (sendcheck.c), webhook delivery (deliver.c).
 * Channels: a Page id or "me" in the path takes a PSID (Messenger) or, when the Page has an
 * Instagram account, an IGSID (Instagram); an Instagram account id takes IGSIDs only.
 */
#include "emulator/emu_send.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

#define PRIVATE_REPLY_MAX_AGE_MS (7 * EMU_DAY_MS)

/* The request as resolved: the Page, the channel and the customer. */
struct send {
    int page;
    enum emu_channel ch;
    bool ig_path;    /* the path names the Instagram account: Instagram only */
    int customer;    /* index into e->customers */
    int64_t comment; /* private reply: index into e->comments; -1 otherwise */
    const char *scoped_id;
};

static void fail_ig(struct emu_call *c, int status, int code, int subcode, const char *message)
{
    emu_end(c);
    emu_error(c->req, status, code, subcode, "IGApiException", message);
}

static void fail_window(struct emu_call *c, enum emu_channel ch)
{
    if (ch == EMU_INSTAGRAM)
        fail_ig(c, 400, 10, 2534022, "This message is sent outside of allowed window.");
    else
        emu_fail(c, 400, 10, 2018278,
                 "(#10) This message is sent outside of allowed window. Learn more about the new "
                 "policy here: https://developers.facebook.com/docs/messenger-platform/"
                 "policy-overview");
}

static bool resolve_path(struct emu_call *c, struct send *s)
{
    const struct emulator *e = c->e;
    const char *id = http_req_param(c->req, "id");
    s->page = strcmp(id, "me") == 0 ? c->tok->page : emu_page_by_id(e, id);
    if (s->page < 0) {
        s->page = emu_page_by_ig_id(e, id);
        s->ig_path = s->page >= 0;
    }
    if (s->page < 0) {
        emu_fail(c, 400, 100, 33,
                 arena_printf(c->a,
                              "Unsupported post request. Object with ID '%s' does not exist, "
                              "cannot be loaded due to missing permissions, or does not support "
                              "this operation.",
                              id));
        return false;
    }
    if (s->page != c->tok->page) {
        emu_fail(c, 400, 200, 0, "(#200) Permissions error");
        return false;
    }
    return true;
}

/* recipient.id: a PSID of the Page, or the IGSID of someone who wrote to its IG account. */
static bool resolve_id(struct emu_call *c, struct send *s, const char *id)
{
    const struct emulator *e = c->e;
    bool has_ig = e->pages[s->page].ig_id[0] != '\0';
    s->customer = -1;
    if (!s->ig_path) {
        s->ch = EMU_MESSENGER;
        s->customer = emu_customer_by_scoped_id(e, s->page, EMU_MESSENGER, id);
    }
    if (s->customer < 0 && has_ig) {
        s->ch = EMU_INSTAGRAM;
        s->customer = emu_customer_by_scoped_id(e, s->page, EMU_INSTAGRAM, id);
    }
    if (s->customer >= 0) {
        s->scoped_id = id;
        return true;
    }
    if (has_ig && emu_page_by_ig_id(e, id) >= 0)
        fail_ig(c, 400, 100, 2534014,
                "No matching Instagram user. Instagram User IDs are not supported by this API: "
                "use the Instagram-scoped ID (IGSID) from the webhook");
    else
        emu_fail(c, 400, 100, 2018001, "(#100) No matching user found");
    return false;
}

/* recipient.comment_id: a customer's comment on the Page's or its IG account's media, at
 * most 7 days old, not privately replied to before. */
static bool resolve_comment(struct emu_call *c, struct send *s, const char *id)
{
    struct emulator *e = c->e;
    int64_t k = emu_comment_by_id(e, id);
    const struct emu_comment *cm = k >= 0 ? &e->comments[k] : NULL;
    if (!cm || cm->page != s->page || (s->ig_path && cm->ch != EMU_INSTAGRAM)) {
        emu_fail(c, 400, 100, 0,
                 "(#100) Param recipient[comment_id] is not a comment on this "
                 "account's posts");
        return false;
    }
    if (cm->customer < 0) {
        emu_fail(c, 400, 100, 0, "(#100) Cannot send a private reply to the account's own comment");
        return false;
    }
    if (c->now_ms - cm->ts_ms > PRIVATE_REPLY_MAX_AGE_MS) {
        emu_fail(c, 400, 10903, 0, "(#10903) This user can't reply to this activity");
        return false;
    }
    if (cm->private_replied) {
        emu_fail(c, 400, 10900, 0, "(#10900) Activity already replied to");
        return false;
    }
    s->comment = k;
    s->ch = cm->ch;
    s->customer = cm->customer;
    const struct emu_customer *cu = &e->customers[cm->customer];
    s->scoped_id = cm->ch == EMU_INSTAGRAM ? cu->igsid : cu->psid[s->page];
    return true;
}

static bool resolve_recipient(struct emu_call *c, struct send *s)
{
    json_t *r = emu_param_json(c, "recipient");
    const char *id = json_is_object(r) ? json_get_id(c->a, r, "id") : NULL;
    const char *comment = json_is_object(r) ? json_get_id(c->a, r, "comment_id") : NULL;
    bool ok = false;
    if (id)
        ok = resolve_id(c, s, id);
    else if (comment)
        ok = resolve_comment(c, s, comment);
    else if (!json_object_get(c->params, "recipient"))
        emu_fail(c, 400, 100, 0, "(#100) The parameter recipient is required");
    else if (!json_is_object(r))
        emu_fail(c, 400, 100, 0, "(#100) Param recipient must be a JSON object");
    else
        emu_fail(c, 400, 100, 0, "(#100) Param recipient must have one of id or comment_id");
    if (!ok)
        return false;
    const struct emulator *e = c->e;
    if (e->customers[s->customer].unavailable) {
        emu_fail(c, 400, 551, 1545041, "(#551) This person isn't available right now.");
        return false;
    }
    if (s->ch == EMU_INSTAGRAM && e->pages[s->page].messaging_disabled) {
        fail_ig(c, 400, 200, 2534041,
                "The account owner has disabled access to instagram direct messages.");
        return false;
    }
    return true;
}

/* ---- sender actions ---- */

static const char *const actions[] = {"mark_seen", "typing_on", "typing_off",
                                      "react",     "unreact",   NULL};
static const char *const sender_action_keys[] = {
    "recipient", "sender_action", "access_token", "appsecret_proof", "appsecret_time", NULL};

/* react/unreact (Instagram): payload {message_id, reaction} naming a message of the thread. */
static bool check_reaction(struct emu_call *c, int thread, bool react)
{
    const json_t *p = emu_param_json(c, "payload");
    int64_t k = emu_msg_by_mid(c->e, json_string_value(json_object_get(p, "message_id")));
    const char *reaction = json_string_value(json_object_get(p, "reaction"));
    if (k < 0 || c->e->msgs[k].thread != thread) {
        emu_fail(c, 400, 100, 0,
                 "(#100) Param payload[message_id] must be a message of this "
                 "conversation");
        return false;
    }
    if (react && (!reaction || strcmp(reaction, "love") != 0)) {
        emu_fail(c, 400, 100, 0, "(#100) Param payload[reaction] must be \"love\"");
        return false;
    }
    return true;
}

/* A sender-action request holds recipient and sender_action only (payload for reactions). */
static bool check_action_alone(struct emu_call *c, bool reaction)
{
    const char *k;
    json_t *v;
    json_object_foreach(c->params, k, v)
    {
        if (emu_in_list(k, sender_action_keys) || (reaction && strcmp(k, "payload") == 0))
            continue;
        emu_fail(c, 400, 100, 0,
                 arena_printf(c->a,
                              "(#100) A sender_action request may hold only recipient and "
                              "sender_action; send \"%s\" in a separate call",
                              k));
        return false;
    }
    return true;
}

static void sender_action(struct emu_call *c, const struct send *s)
{
    struct emulator *e = c->e;
    const char *action = emu_param(c, "sender_action");
    bool reaction = action && (strcmp(action, "react") == 0 || strcmp(action, "unreact") == 0);
    if (s->comment >= 0) {
        emu_fail(c, 400, 100, 0, "(#100) Sender actions need recipient[id]");
        return;
    }
    if (!emu_in_list(action, actions) || (reaction && s->ch != EMU_INSTAGRAM)) {
        emu_fail(c, 400, 100, 0,
                 s->ch == EMU_INSTAGRAM ? "(#100) Param sender_action must be one of {MARK_SEEN, "
                                          "TYPING_ON, TYPING_OFF, REACT, UNREACT}"
                                        : "(#100) Param sender_action must be one of {MARK_SEEN, "
                                          "TYPING_ON, TYPING_OFF}");
        return;
    }
    if (!check_action_alone(c, reaction))
        return;
    int t = emu_thread_get(e, s->page, s->customer, s->ch);
    if (!emu_window_open(e->threads[t].last_inbound_ms, c->now_ms, false)) {
        fail_window(c, s->ch);
        return;
    }
    if (reaction && !check_reaction(c, t, strcmp(action, "react") == 0))
        return;
    json_t *body = json_pack("{s:s}", "recipient_id", s->scoped_id);
    emu_end(c);
    emu_reply(c, 200, body);
}

/* ---- messages ---- */

/* The echo Meta sends back for every message the business sends (§1.5, §1.6): under
 * message_echoes on Messenger, inside messages on Instagram. */
static void push_echo(struct emu_call *c, const struct send *s, const struct emu_msg *m,
                      const struct emu_send_msg *sm)
{
    struct emulator *e = c->e;
    const struct emu_page *p = &e->pages[s->page];
    const char *biz = s->ch == EMU_INSTAGRAM ? p->ig_id : p->id;
    json_t *msg = json_pack("{s:s, s:b, s:I}", "mid", m->mid, "is_echo", 1, "app_id",
                            (json_int_t)strtoll(e->app_id, NULL, 10));
    if (sm->text)
        json_object_set_new(msg, "text", json_string(sm->text));
    if (sm->attachment)
        json_object_set_new(msg, "attachments", json_pack("[O]", sm->attachment));
    if (sm->metadata)
        json_object_set_new(msg, "metadata", json_string(sm->metadata));
    json_t *ev = json_pack("{s:{s:s}, s:{s:s}, s:I, s:o}", "sender", "id", biz, "recipient", "id",
                           s->scoped_id, "timestamp", (json_int_t)m->ts_ms, "message", msg);
    emu_webhook_push(e, s->ch == EMU_INSTAGRAM ? "instagram" : "page", biz, "messaging",
                     s->ch == EMU_INSTAGRAM ? "messages" : "message_echoes", ev);
}

/* Copies at most cap-1 bytes of s, never cutting a UTF-8 sequence. */
static void copy_utf8(char *out, size_t cap, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(out, s ? s : "", n);
    out[n] = '\0';
}

static void store_and_reply(struct emu_call *c, const struct send *s, int thread,
                            const struct emu_send_msg *sm)
{
    struct emulator *e = c->e;
    size_t k = emu_msg_add(e, thread, false, sm->text, sm->attachment_json);
    struct emu_msg *m = &e->msgs[k];
    copy_utf8(m->messaging_type, sizeof m->messaging_type, sm->messaging_type);
    copy_utf8(m->tag, sizeof m->tag, sm->tag);
    copy_utf8(m->metadata, sizeof m->metadata, sm->metadata);
    if (s->comment >= 0)
        e->comments[s->comment].private_replied = true;
    push_echo(c, s, m, sm);
    emu_take_answer_fault(c); /* carried out: only its answer may be slow or lost now */
    json_t *body = json_pack("{s:s, s:s}", "recipient_id", s->scoped_id, "message_id", m->mid);
    emu_end(c);
    emu_reply(c, 200, body);
}

static void send_message(struct emu_call *c, const struct send *s)
{
    struct emulator *e = c->e;
    struct emu_send_msg sm = {0};
    if (!json_object_get(c->params, "message")) {
        emu_fail(c, 400, 100, 0, "(#100) The parameter message or sender_action is required");
        return;
    }
    if (!emu_send_check_type(c, s->ch, s->comment >= 0, &sm) ||
        !emu_send_check_message(c, s->ch, s->page, &sm))
        return;
    int t = emu_thread_get(e, s->page, s->customer, s->ch);
    /* A private reply is allowed without a window and does not open one. */
    if (s->comment < 0 && !emu_window_open(e->threads[t].last_inbound_ms, c->now_ms, sm.extended)) {
        fail_window(c, s->ch);
        return;
    }
    store_and_reply(c, s, t, &sm);
}

void emu_h_messages(struct http_req *r, void *ctx)
{
    if (http_req_method(r) == HTTP_GET) {
        emu_convo_messages_edge(r, ctx);
        return;
    }
    struct emu_call c;
    if (!emu_begin(&c, ctx, r, EMU_TOK_PAGEK))
        return;
    struct send s = {.comment = -1};
    if (!resolve_path(&c, &s) || !resolve_recipient(&c, &s))
        return;
    if (json_object_get(c.params, "sender_action"))
        sender_action(&c, &s);
    else
        send_message(&c, &s);
}
