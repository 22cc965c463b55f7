/*
 * emulator/convo.c - the Conversations API: GET /{ver}/{page-id}/conversations, conversation
 * and message nodes, and a conversation's messages edge (meta-platform.md §7).
 *
 * Owns: how threads and messages look through Graph (participants, from/to, attachments),
 * newest first; the rule that only the 20 most recent messages of a conversation can be read
 * (older ones answer as deleted); Meta's time format.
 * Does not own: resolving ids to nodes (node.c), comments (comments.c).
 * A thread appears once it holds a message; updated_time is its last message's time.
 */
#include "emulator/emu_send.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/crypto.h"

#define CONVO_DEFAULT_LIMIT 25
#define MSGS_READABLE       20 /* only the newest 20 messages of a conversation can be read */

static const char *const convo_fields[] = {"id",
                                           "updated_time",
                                           "participants",
                                           "senders",
                                           "messages",
                                           "snippet",
                                           "message_count",
                                           "unread_count",
                                           "can_reply",
                                           "link",
                                           "is_owner",
                                           "is_subscribed",
                                           "name",
                                           "former_participants",
                                           "scoped_thread_key",
                                           NULL};
static const char *const msg_fields[] = {
    "id",    "created_time", "from", "to",        "message",        "attachments", "shares",
    "story", "sticker",      "tags", "reactions", "is_unsupported", NULL};

void emu_time_format(int64_t ms, char out[32])
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%S+0000", &tm);
}

/* Whether a field is wanted from a (sub-)field object; an object holding only modifiers
 * ("messages.limit(5)") or nothing asks for the defaults. */
static bool want(const json_t *f, const char *name, bool def)
{
    size_t n = json_is_object(f) ? json_object_size(f) : 0;
    if (n == 0 || (n == 1 && json_object_get(f, "__limit")))
        return def;
    return json_object_get(f, name) != NULL;
}

/* The scoped ids of one side of a thread, as Graph shows a participant. */
static json_t *person_json(const struct emulator *e, const struct emu_thread *t, bool business)
{
    const struct emu_page *p = &e->pages[t->page];
    const struct emu_customer *cu = &e->customers[t->customer];
    if (t->ch == EMU_INSTAGRAM)
        return business ? json_pack("{s:s, s:s}", "username", p->ig_username, "id", p->ig_id)
                        : json_pack("{s:s, s:s}", "username", cu->ig_username, "id", cu->igsid);
    const char *id = business ? p->id : cu->psid[t->page];
    char email[EMU_ID_LEN + 16];
    snprintf(email, sizeof email, "%s@facebook.com", id);
    return json_pack("{s:s, s:s, s:s}", "name", business ? p->name : cu->name, "email", email, "id",
                     id);
}

static json_t *attachment_json(const struct emulator *e, size_t k)
{
    const struct emu_msg *m = &e->msgs[k];
    json_t *att = json_loads(m->attachment_json, 0, NULL);
    const char *type = json_string_value(json_object_get(att, "type"));
    const char *url = json_string_value(json_object_get(json_object_get(att, "payload"), "url"));
    char id[EMU_ID_LEN];
    snprintf(id, sizeof id, "%llu", 18000000000000000ULL + (unsigned long long)k);
    json_t *out = json_pack("{s:s, s:s}", "id", id, "name", type ? type : "attachment");
    if (type && url && strcmp(type, "image") == 0) {
        json_object_set_new(out, "mime_type", json_string("image/jpeg"));
        json_object_set_new(out, "image_data",
                            json_pack("{s:s, s:s}", "url", url, "preview_url", url));
    } else if (type && url && strcmp(type, "video") == 0) {
        json_object_set_new(out, "mime_type", json_string("video/mp4"));
        json_object_set_new(out, "video_data", json_pack("{s:s}", "url", url));
    } else if (url) {
        json_object_set_new(out, "file_url", json_string(url));
    }
    json_decref(att);
    return json_pack("{s:[o]}", "data", out);
}

static json_t *message_json(const struct emulator *e, size_t k, json_t *f)
{
    const struct emu_msg *m = &e->msgs[k];
    const struct emu_thread *t = &e->threads[m->thread];
    json_t *o = json_pack("{s:s}", "id", m->mid);
    char when[32];
    emu_time_format(m->ts_ms, when);
    if (want(f, "created_time", true))
        json_object_set_new(o, "created_time", json_string(when));
    if (want(f, "from", false))
        json_object_set_new(o, "from", person_json(e, t, !m->inbound));
    if (want(f, "to", false))
        json_object_set_new(o, "to", json_pack("{s:[o]}", "data", person_json(e, t, m->inbound)));
    if (want(f, "message", false))
        json_object_set_new(o, "message", json_string(m->text ? m->text : ""));
    if (want(f, "attachments", false) && m->attachment_json)
        json_object_set_new(o, "attachments", attachment_json(e, k));
    return o;
}

/* The readable messages of a thread, newest first: indexes into e->msgs. */
static size_t readable_msgs(const struct emulator *e, int thread, size_t out[MSGS_READABLE])
{
    size_t n = 0;
    for (size_t i = e->n_msgs; i-- > 0 && n < MSGS_READABLE;)
        if (e->msgs[i].thread == thread)
            out[n++] = i;
    return n;
}

/* "id,created_time,from" from a sub-field object (modifiers dropped), for a next URL. */
static const char *field_list(struct emu_call *c, json_t *f)
{
    const char *out = "";
    const char *k;
    json_t *v;
    json_object_foreach(f, k, v)
    {
        if (strcmp(k, "__limit") != 0)
            out = arena_printf(c->a, "%s%s%s", out, *out ? "," : "", k);
    }
    return *out ? out : "id,created_time";
}

/* Paging of a nested messages edge: cursors, and next to the edge of its own. */
static json_t *nested_paging(struct emu_call *c, const struct emu_thread *t, size_t shown, size_t n,
                             size_t limit, json_t *f)
{
    char first[48], last[48];
    emu_cursor_encode(0, first);
    emu_cursor_encode(shown - 1, last);
    json_t *p = json_pack("{s:{s:s, s:s}}", "cursors", "before", first, "after", last);
    if (shown < n) {
        const char *tok = json_string_value(json_object_get(c->query, "access_token"));
        char *url = arena_printf(c->a, "%s/%s/%s/messages?fields=%s&limit=%zu&after=%s",
                                 c->e->public_url, http_req_param(c->req, "ver"), t->id,
                                 http_url_encode(c->a, field_list(c, f)), limit, last);
        if (tok)
            url = arena_printf(c->a, "%s&access_token=%s", url, http_url_encode(c->a, tok));
        json_object_set_new(p, "next", json_string(url));
    }
    return p;
}

static json_t *messages_json(struct emu_call *c, int thread, json_t *f)
{
    const struct emulator *e = c->e;
    size_t idx[MSGS_READABLE];
    size_t n = readable_msgs(e, thread, idx);
    json_int_t lim = json_integer_value(json_object_get(f, "__limit"));
    size_t limit = lim > 0 ? (size_t)lim : CONVO_DEFAULT_LIMIT;
    size_t shown = n < limit ? n : limit;
    json_t *data = json_array();
    for (size_t i = 0; i < shown; i++)
        json_array_append_new(data, message_json(e, idx[i], f));
    json_t *edge = json_pack("{s:o}", "data", data);
    if (shown > 0)
        json_object_set_new(edge, "paging",
                            nested_paging(c, &e->threads[thread], shown, n, limit, f));
    return edge;
}

/* ---- threads ---- */

static void thread_counts(const struct emulator *e, int thread, int *total, int *unread,
                          const char **snippet)
{
    *total = *unread = 0;
    *snippet = "";
    for (size_t i = 0; i < e->n_msgs; i++) {
        const struct emu_msg *m = &e->msgs[i];
        if (m->thread != thread)
            continue;
        (*total)++;
        *unread = m->inbound ? *unread + 1 : 0; /* unread: customer messages since our last */
        *snippet = m->text ? m->text : "";
    }
}

static void add_counts(json_t *o, const struct emulator *e, int thread, json_t *f)
{
    int total, unread;
    const char *snippet;
    thread_counts(e, thread, &total, &unread, &snippet);
    if (want(f, "message_count", false))
        json_object_set_new(o, "message_count", json_integer(total));
    if (want(f, "unread_count", false))
        json_object_set_new(o, "unread_count", json_integer(unread));
    if (want(f, "snippet", false))
        json_object_set_new(o, "snippet", json_string(snippet));
}

static json_t *thread_json(struct emu_call *c, int thread, json_t *f)
{
    const struct emulator *e = c->e;
    const struct emu_thread *t = &e->threads[thread];
    json_t *o = json_pack("{s:s}", "id", t->id);
    char when[32];
    emu_time_format(t->updated_ms, when);
    if (want(f, "updated_time", true))
        json_object_set_new(o, "updated_time", json_string(when));
    if (want(f, "participants", false) || want(f, "senders", false)) {
        json_t *people =
            json_pack("{s:[oo]}", "data", person_json(e, t, false), person_json(e, t, true));
        if (want(f, "senders", false))
            json_object_set(o, "senders", people);
        if (want(f, "participants", false))
            json_object_set(o, "participants", people);
        json_decref(people);
    }
    add_counts(o, e, thread, f);
    if (want(f, "can_reply", false))
        json_object_set_new(o, "can_reply",
                            json_boolean(emu_window_open(t->last_inbound_ms, c->now_ms, false)));
    if (want(f, "scoped_thread_key", false) && t->ch == EMU_MESSENGER)
        json_object_set_new(o, "scoped_thread_key", json_string(t->id));
    if (want(f, "former_participants", false))
        json_object_set_new(o, "former_participants", json_pack("{s:[]}", "data"));
    if (want(f, "messages", false))
        json_object_set_new(o, "messages",
                            messages_json(c, thread, json_object_get(f, "messages")));
    return o;
}

/* fields of a conversation, and of its messages{...}. */
static bool check_convo_fields(struct emu_call *c, json_t *f)
{
    if (!emu_fields_check(c, f, convo_fields, "Conversation"))
        return false;
    const json_t *sub = json_object_get(f, "messages");
    json_t *copy = json_is_object(sub) ? json_deep_copy(sub) : NULL;
    json_object_del(copy, "__limit");
    bool ok = emu_fields_check(c, copy, msg_fields, "Message");
    json_decref(copy);
    return ok;
}

/* ---- GET /{ver}/{page-id}/conversations ---- */

/* The Page's threads on ch that hold a message, newest first (optionally one customer's). */
static size_t list_threads(const struct emulator *e, int page, enum emu_channel ch,
                           const char *user_id, int *out)
{
    size_t n = 0;
    for (int i = e->n_threads - 1; i >= 0; i--) {
        const struct emu_thread *t = &e->threads[i];
        if (t->page != page || t->ch != ch || t->updated_ms == 0)
            continue;
        if (user_id && emu_customer_by_scoped_id(e, page, ch, user_id) != t->customer)
            continue;
        size_t j = n++;
        for (; j > 0 && e->threads[out[j - 1]].updated_ms < t->updated_ms; j--)
            out[j] = out[j - 1];
        out[j] = i;
    }
    return n;
}

static bool convo_page(struct emu_call *c, int *page, enum emu_channel *ch)
{
    const char *id = http_req_param(c->req, "id");
    *page = strcmp(id, "me") == 0 ? c->tok->page : emu_page_by_id(c->e, id);
    if (*page < 0) {
        emu_fail_unsupported(c, id);
        return false;
    }
    if (*page != c->tok->page) {
        emu_fail(c, 400, 200, 0, "(#200) Permissions error");
        return false;
    }
    const char *platform = emu_param(c, "platform");
    *ch = EMU_MESSENGER;
    if (!platform || strcasecmp(platform, "messenger") == 0)
        return true;
    if (strcasecmp(platform, "instagram") == 0) {
        *ch = EMU_INSTAGRAM;
        return true;
    }
    emu_fail(c, 400, 100, 0,
             arena_printf(c->a,
                          "(#100) Param platform must be one of {MESSENGER, INSTAGRAM} - got "
                          "\"%s\".",
                          platform));
    return false;
}

void emu_h_conversations(struct http_req *r, void *ctx)
{
    struct emu_call c;
    int page;
    enum emu_channel ch;
    json_t *f;
    if (!emu_begin(&c, ctx, r, EMU_TOK_PAGEK) || !convo_page(&c, &page, &ch) ||
        !emu_fields_get(&c, &f) || !check_convo_fields(&c, f))
        return;
    int *idx = arena_alloc(c.a, ((size_t)c.e->n_threads + 1) * sizeof *idx);
    size_t n = list_threads(c.e, page, ch, emu_param(&c, "user_id"), idx);
    size_t start, count;
    json_t *paging;
    if (!emu_paging(&c, n, CONVO_DEFAULT_LIMIT, &start, &count, &paging))
        return;
    json_t *data = json_array();
    for (size_t i = 0; i < count; i++)
        json_array_append_new(data, thread_json(&c, idx[start + i], f));
    json_t *body = json_pack("{s:o}", "data", data);
    if (paging)
        json_object_set_new(body, "paging", paging);
    emu_end(&c);
    emu_reply(&c, 200, body);
}

/* ---- nodes: a conversation, a message; the messages edge ---- */

bool emu_convo_thread_node(struct emu_call *c, const char *id, json_t *f)
{
    int t = emu_thread_by_id(c->e, id);
    if (t < 0)
        return false;
    if (!check_convo_fields(c, f))
        return true;
    json_t *body = thread_json(c, t, f);
    emu_end(c);
    emu_reply(c, 200, body);
    return true;
}

bool emu_convo_message_node(struct emu_call *c, const char *id, json_t *f)
{
    const struct emulator *e = c->e;
    int64_t k = emu_msg_by_mid(e, id);
    if (k < 0)
        return false;
    if (!emu_fields_check(c, f, msg_fields, "Message"))
        return true;
    size_t idx[MSGS_READABLE];
    size_t n = readable_msgs(e, e->msgs[k].thread, idx);
    if (n == 0 || idx[n - 1] > (size_t)k) {
        emu_fail(c, 400, 100, 0,
                 "(#100) This message has been deleted. Only the 20 most recent messages of a "
                 "conversation can be read");
        return true;
    }
    json_t *body = message_json(e, (size_t)k, f);
    emu_end(c);
    emu_reply(c, 200, body);
    return true;
}

void emu_convo_messages_edge(struct http_req *r, void *ctx)
{
    struct emu_call c;
    json_t *f;
    if (!emu_begin(&c, ctx, r, EMU_TOK_ANY) || !emu_fields_get(&c, &f) ||
        !emu_fields_check(&c, f, msg_fields, "Message"))
        return;
    const char *id = http_req_param(r, "id");
    int t = emu_thread_by_id(c.e, id);
    if (t < 0) {
        emu_fail_unsupported(&c, id);
        return;
    }
    size_t idx[MSGS_READABLE], start, count;
    size_t n = readable_msgs(c.e, t, idx);
    json_t *paging;
    if (!emu_paging(&c, n, CONVO_DEFAULT_LIMIT, &start, &count, &paging))
        return;
    json_t *data = json_array();
    for (size_t i = 0; i < count; i++)
        json_array_append_new(data, message_json(c.e, idx[start + i], f));
    json_t *body = json_pack("{s:o}", "data", data);
    if (paging)
        json_object_set_new(body, "paging", paging);
    emu_end(&c);
    emu_reply(&c, 200, body);
}
