/*
 * meta/parse.c - a webhook delivery's raw body -> typed events.
 *
 * Written for real traffic, which is messier than the documentation: ids arrive as strings or
 * numbers; timestamps in ms, in seconds, or as strings; `standby[]` beside `messaging[]`;
 * dashboard tests wrap a DM in `changes[]` or drop the envelope altogether; payloads may be
 * missing, strings, or objects. Nothing here dereferences a member it has not checked, and
 * an unknown shape becomes a META_EV_UNKNOWN event with its raw JSON, never an error.
 */
#include "meta/meta.h"

#include <string.h>

#include "core/crypto.h"
#include "core/json.h"

struct pctx {
    struct arena *a;
    struct meta_delivery *d;
    size_t cap;
    bool is_full; /* an event was refused at META_MAX_EVENTS */
    const char *object;
    const char *entry_id;
};

static const char *const kind_names[] = {
    [META_EV_MESSAGE] = "message",
    [META_EV_ECHO] = "echo",
    [META_EV_MESSAGE_DELETED] = "message_deleted",
    [META_EV_MESSAGE_EDIT] = "message_edit",
    [META_EV_REACTION] = "reaction",
    [META_EV_READ] = "read",
    [META_EV_DELIVERY] = "delivery",
    [META_EV_POSTBACK] = "postback",
    [META_EV_REFERRAL] = "referral",
    [META_EV_OPTIN] = "optin",
    [META_EV_HANDOVER] = "handover",
    [META_EV_POLICY] = "policy",
    [META_EV_COMMENT] = "comment",
    [META_EV_LIVE_COMMENT] = "live_comment",
    [META_EV_MENTION] = "mention",
    [META_EV_FEED] = "feed",
    [META_EV_STORY_INSIGHTS] = "story_insights",
    [META_EV_UNKNOWN] = "unknown",
};

const char *meta_event_kind_name(enum meta_event_kind k)
{
    return (unsigned)k <= META_EV_UNKNOWN ? kind_names[k] : "unknown";
}

/* Meta's messaging timestamps are ms; changes and dashboard tests use seconds. */
static int64_t to_ms(int64_t t)
{
    return t > 0 && t < 1000000000000LL ? t * 1000 : t;
}

static int64_t get_ms(const json_t *obj, const char *key)
{
    int64_t t = 0;
    return json_get_i64(obj, key, &t) ? to_ms(t) : 0;
}

static const char *nested_id(struct arena *a, const json_t *obj, const char *member)
{
    return json_get_id(a, json_object_get(obj, member), "id");
}

static struct meta_event *new_event(struct pctx *c, enum meta_event_kind kind, const char *channel,
                                    const json_t *item)
{
    if (c->d->n_events == c->cap) {
        if (c->cap >= META_MAX_EVENTS) {
            c->is_full = true;
            return NULL;
        }
        size_t cap = c->cap ? c->cap * 2 : 8;
        if (cap > META_MAX_EVENTS)
            cap = META_MAX_EVENTS;
        struct meta_event *ev = arena_alloc(c->a, cap * sizeof *ev);
        if (c->d->n_events)
            memcpy(ev, c->d->events, c->d->n_events * sizeof *ev);
        c->d->events = ev;
        c->cap = cap;
    }
    struct meta_event *e = &c->d->events[c->d->n_events++];
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->object = c->object;
    e->entry_id = c->entry_id;
    e->channel = channel;
    e->raw_json = json_dump_arena(c->a, item);
    return e;
}

/* A key for events without an id of their own: their kind and a digest of their JSON. */
static const char *content_key(struct arena *a, const struct meta_event *e)
{
    unsigned char h[CRYPTO_SHA256_LEN];
    char hex[2 * CRYPTO_SHA256_LEN + 1];
    const char *raw = e->raw_json ? e->raw_json : "";
    crypto_sha256(raw, strlen(raw), h);
    hex_encode(h, 16, hex);
    return arena_printf(a, "%s:%s", meta_event_kind_name(e->kind), hex);
}

static struct meta_referral *parse_referral(struct arena *a, const json_t *r)
{
    if (!json_is_object(r))
        return NULL;
    struct meta_referral *ref = arena_alloc(a, sizeof *ref);
    ref->ref = json_get_str(r, "ref");
    ref->source = json_get_str(r, "source");
    ref->type = json_get_str(r, "type");
    ref->ad_id = json_get_id(a, r, "ad_id");
    const json_t *ctx = json_object_get(r, "ads_context_data");
    ref->ad_title = json_get_str(ctx, "ad_title");
    ref->photo_url = json_get_str(ctx, "photo_url");
    ref->post_id = json_get_id(a, ctx, "post_id");
    return ref;
}

/* The payload member that names what an attachment shows; first match wins. */
static const char *attachment_id(struct arena *a, const json_t *at, const json_t *payload)
{
    static const char *const keys[] = {"sticker_id", "reel_video_id", "ig_post_media_id"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *id = json_get_id(a, payload, keys[i]);
        if (id)
            return id;
    }
    return json_get_id(a, at, "id");
}

static void parse_attachments(struct arena *a, struct meta_event *e, const json_t *arr)
{
    size_t n = json_array_size(arr);
    if (!n)
        return;
    e->attachments = arena_alloc(a, n * sizeof *e->attachments);
    for (size_t i = 0; i < n; i++) {
        const json_t *at = json_array_get(arr, i);
        if (!json_is_object(at))
            continue;
        struct meta_attachment *m = &e->attachments[e->n_attachments++];
        m->type = json_get_str(at, "type");
        const json_t *p = json_object_get(at, "payload"); /* absent, an object, or a string */
        m->url = json_get_str(p, "url");
        m->title = json_get_str(p, "title") ? json_get_str(p, "title") : json_get_str(at, "title");
        m->id = attachment_id(a, at, p);
        if (!m->url)
            m->url = json_get_str(at, "url"); /* fallback attachments carry it at the top */
    }
}

static void parse_reply_to(struct meta_event *e, const json_t *rt)
{
    e->reply_to_mid = json_get_str(rt, "mid");
    const json_t *story = json_object_get(rt, "story");
    e->reply_to_story_id = json_get_str(story, "id");
    e->reply_to_story_url = json_get_str(story, "url");
}

static void parse_message(struct pctx *c, struct meta_event *e, const json_t *m)
{
    e->mid = json_get_str(m, "mid");
    e->text = json_get_str(m, "text");
    e->is_echo = json_get_bool(m, "is_echo", false);
    e->is_self = json_get_bool(m, "is_self", false);
    e->is_unsupported = json_get_bool(m, "is_unsupported", false);
    e->app_id = json_get_id(c->a, m, "app_id");
    e->metadata = json_get_str(m, "metadata");
    e->quick_reply_payload = json_get_str(json_object_get(m, "quick_reply"), "payload");
    parse_reply_to(e, json_object_get(m, "reply_to"));
    parse_attachments(c->a, e, json_object_get(m, "attachments"));
    e->referral = parse_referral(c->a, json_object_get(m, "referral"));
    if (json_get_bool(m, "is_deleted", false))
        e->kind = META_EV_MESSAGE_DELETED;
    else if (e->is_echo)
        e->kind = META_EV_ECHO;
    if (e->mid)
        e->key =
            arena_printf(c->a, "%s:%s", e->kind == META_EV_MESSAGE_DELETED ? "del" : "mid", e->mid);
}

static void parse_reaction(struct pctx *c, struct meta_event *e, const json_t *r)
{
    (void)c;
    e->mid = json_get_str(r, "mid");
    e->reaction = json_get_str(r, "reaction");
    e->emoji = json_get_str(r, "emoji");
    const char *action = json_get_str(r, "action");
    e->is_unreact = action && strcmp(action, "unreact") == 0;
}

static void parse_postback(struct pctx *c, struct meta_event *e, const json_t *p)
{
    e->mid = json_get_str(p, "mid");
    e->postback_title = json_get_str(p, "title");
    e->postback_payload = json_get_str(p, "payload");
    e->referral = parse_referral(c->a, json_object_get(p, "referral"));
    if (e->mid)
        e->key = arena_printf(c->a, "pb:%s", e->mid);
}

static void parse_edit(struct pctx *c, struct meta_event *e, const json_t *m)
{
    e->mid = json_get_str(m, "mid");
    e->text = json_get_str(m, "text");
    json_get_i64(m, "num_edit", &e->num_edit);
    if (e->mid)
        e->key = arena_printf(c->a, "edit:%s:%lld", e->mid, (long long)e->num_edit);
}

/* Which member says what a messaging item is; first match wins. */
static const struct {
    const char *member;
    enum meta_event_kind kind;
} messaging_kinds[] = {
    {"message", META_EV_MESSAGE},
    {"message_edit", META_EV_MESSAGE_EDIT},
    {"reaction", META_EV_REACTION},
    {"read", META_EV_READ},
    {"delivery", META_EV_DELIVERY},
    {"postback", META_EV_POSTBACK},
    {"referral", META_EV_REFERRAL},
    {"optin", META_EV_OPTIN},
    {"pass_thread_control", META_EV_HANDOVER},
    {"take_thread_control", META_EV_HANDOVER},
    {"request_thread_control", META_EV_HANDOVER},
    {"app_roles", META_EV_HANDOVER},
    {"policy_enforcement", META_EV_POLICY},
    {"policy-enforcement", META_EV_POLICY},
};

static struct meta_event *parse_messaging_item(struct pctx *c, const json_t *item,
                                               const char *channel)
{
    if (!json_is_object(item))
        return NULL;
    enum meta_event_kind kind = META_EV_UNKNOWN;
    const json_t *body = NULL;
    for (size_t i = 0; i < sizeof messaging_kinds / sizeof messaging_kinds[0] && !body; i++)
        if ((body = json_object_get(item, messaging_kinds[i].member)))
            kind = messaging_kinds[i].kind;
    struct meta_event *e = new_event(c, kind, channel, item);
    if (!e)
        return NULL;
    e->sender_id = nested_id(c->a, item, "sender");
    e->recipient_id = nested_id(c->a, item, "recipient");
    e->ts_ms = get_ms(item, "timestamp");
    switch (kind) {
    case META_EV_MESSAGE:
        parse_message(c, e, body);
        break;
    case META_EV_MESSAGE_EDIT:
        parse_edit(c, e, body);
        break;
    case META_EV_REACTION:
        parse_reaction(c, e, body);
        break;
    case META_EV_READ:
    case META_EV_DELIVERY:
        e->watermark_ms = get_ms(body, "watermark");
        e->mid = json_get_str(body, "mid");
        break;
    case META_EV_POSTBACK:
        parse_postback(c, e, body);
        break;
    case META_EV_REFERRAL:
        e->referral = parse_referral(c->a, body);
        break;
    default:
        break;
    }
    if (!e->key)
        e->key = content_key(c->a, e);
    return e;
}

static void parse_comment(struct pctx *c, struct meta_event *e, const json_t *v)
{
    e->comment_id = json_get_id(c->a, v, "id");
    e->text = json_get_str(v, "text");
    e->from_id = nested_id(c->a, v, "from");
    e->from_username = json_get_str(json_object_get(v, "from"), "username");
    e->media_id = nested_id(c->a, v, "media");
    e->parent_id = json_get_id(c->a, v, "parent_id");
    e->sender_id = e->from_id;
    if (e->comment_id)
        e->key = arena_printf(c->a, "%s:%s", meta_event_kind_name(e->kind), e->comment_id);
}

/* A feed change's picture or video: a comment's `photo`, or a photo/video post's `link`. */
static void parse_feed_media(struct arena *a, struct meta_event *e, const json_t *v)
{
    const char *photo = json_get_str(v, "photo");
    const char *link = json_get_str(v, "link");
    if (!photo && !link)
        return;
    struct meta_attachment *m = arena_alloc(a, sizeof *m);
    const char *item = json_get_str(v, "item");
    if (photo) {
        m->type = "photo";
        m->url = photo;
    } else {
        bool is_media = item && (strcmp(item, "photo") == 0 || strcmp(item, "video") == 0);
        m->type = is_media ? item : "link";
        m->url = link;
        m->id = json_get_id(a, v, "photo_id");
        if (!m->id)
            m->id = json_get_id(a, v, "video_id");
    }
    e->attachments = m;
    e->n_attachments = 1;
}

/* Page `feed`: old shapes name the author sender_id, newer ones from{id,name}; created_time is
 * seconds and absent on removals, which keep the entry's time. */
static void parse_feed(struct pctx *c, struct meta_event *e, const json_t *v)
{
    e->verb = json_get_str(v, "verb");
    e->comment_id = json_get_id(c->a, v, "comment_id");
    e->parent_id = json_get_id(c->a, v, "parent_id");
    e->media_id = json_get_id(c->a, v, "post_id");
    e->text = json_get_str(v, "message");
    e->reaction = json_get_str(v, "reaction_type");
    e->from_id = nested_id(c->a, v, "from");
    if (!e->from_id)
        e->from_id = json_get_id(c->a, v, "sender_id");
    e->sender_id = e->from_id;
    e->recipient_id = json_get_id(c->a, v, "recipient_id");
    int64_t created_ms = get_ms(v, "created_time");
    if (created_ms)
        e->ts_ms = created_ms;
    parse_feed_media(c->a, e, v);
}

/* IG `mentions` carry {comment_id, media_id}; the Page `mention` field is feed-shaped
 * {post_id, comment_id, message, verb, created_time}. */
static void parse_mention(struct pctx *c, struct meta_event *e, const json_t *v)
{
    e->comment_id = json_get_id(c->a, v, "comment_id");
    e->media_id = json_get_id(c->a, v, "media_id");
    if (!e->media_id)
        e->media_id = json_get_id(c->a, v, "post_id");
    e->text = json_get_str(v, "message");
    e->verb = json_get_str(v, "verb");
    int64_t created_ms = get_ms(v, "created_time");
    if (created_ms)
        e->ts_ms = created_ms;
}

static enum meta_event_kind change_kind(const char *field)
{
    static const struct {
        const char *field;
        enum meta_event_kind kind;
    } fields[] = {
        {"comments", META_EV_COMMENT}, {"live_comments", META_EV_LIVE_COMMENT},
        {"mentions", META_EV_MENTION}, {"mention", META_EV_MENTION}, /* IG, Page */
        {"feed", META_EV_FEED},        {"story_insights", META_EV_STORY_INSIGHTS},
    };
    for (size_t i = 0; field && i < sizeof fields / sizeof fields[0]; i++)
        if (strcmp(field, fields[i].field) == 0)
            return fields[i].kind;
    return META_EV_UNKNOWN;
}

static void parse_change(struct pctx *c, const json_t *change, int64_t entry_ms)
{
    if (!json_is_object(change))
        return;
    const char *field = json_get_str(change, "field");
    const json_t *v = json_object_get(change, "value");
    if (field && strcmp(field, "messages") == 0 && json_is_object(v)) {
        struct meta_event *m = parse_messaging_item(c, v, "changes"); /* dashboard tests */
        if (m)
            m->field = field;
        return;
    }
    /* a change without a value object: keep it as unknown, read nothing from it */
    enum meta_event_kind kind = json_is_object(v) ? change_kind(field) : META_EV_UNKNOWN;
    struct meta_event *e = new_event(c, kind, "changes", change);
    if (!e)
        return;
    e->field = field;
    e->ts_ms = entry_ms;
    if (kind == META_EV_COMMENT || kind == META_EV_LIVE_COMMENT) {
        parse_comment(c, e, v);
    } else if (kind == META_EV_FEED) {
        parse_feed(c, e, v);
    } else if (kind == META_EV_MENTION) {
        parse_mention(c, e, v);
    } else if (kind == META_EV_STORY_INSIGHTS) {
        e->media_id = json_get_id(c->a, v, "media_id");
    }
    if (!e->key)
        e->key = content_key(c->a, e);
}

static void parse_entry(struct pctx *c, const json_t *entry)
{
    if (!json_is_object(entry))
        return;
    c->entry_id = json_get_id(c->a, entry, "id");
    if (!c->entry_id)
        c->entry_id = "0";
    static const char *const channels[] = {"messaging", "standby"};
    for (size_t k = 0; k < 2; k++) {
        const json_t *arr = json_object_get(entry, channels[k]);
        for (size_t i = 0; i < json_array_size(arr); i++)
            parse_messaging_item(c, json_array_get(arr, i), channels[k]);
    }
    const json_t *changes = json_object_get(entry, "changes");
    int64_t entry_ms = get_ms(entry, "time");
    for (size_t i = 0; i < json_array_size(changes); i++)
        parse_change(c, json_array_get(changes, i), entry_ms);
}

static enum err parse_root(struct pctx *c, const json_t *root, const char **reason)
{
    const char *object = json_get_str(root, "object");
    c->object = object ? arena_strdup(c->a, object) : "";
    c->d->object = c->object;
    const json_t *entries = json_object_get(root, "entry");
    if (!entries && json_object_get(root, "field") && json_object_get(root, "value")) {
        c->entry_id = "0"; /* a bare {field, value}: the dashboard's unwrapped test */
        parse_change(c, root, 0);
        return ERR_OK;
    }
    if (!json_is_array(entries)) {
        *reason = "no entry array";
        return ERR_INVALID;
    }
    for (size_t i = 0; i < json_array_size(entries); i++)
        parse_entry(c, json_array_get(entries, i));
    return ERR_OK;
}

static void decref(void *v)
{
    json_decref(v);
}

enum err meta_parse_delivery(struct arena *a, const char *body, size_t len,
                             struct meta_delivery *out, const char **reason)
{
    memset(out, 0, sizeof *out);
    *reason = NULL;
    json_error_t jerr;
    json_t *root = json_loadb(body, len, JSON_DECODE_ANY, &jerr); /* "42": not an object */
    if (!root) {
        *reason = "invalid JSON";
        return ERR_INVALID;
    }
    arena_on_free(a, decref, root);
    if (!json_is_object(root)) {
        *reason = "not a JSON object";
        return ERR_INVALID;
    }
    struct pctx c = {.a = a, .d = out};
    enum err rc = parse_root(&c, root, reason);
    if (rc == ERR_OK && c.is_full) {
        memset(out, 0, sizeof *out); /* refuse the delivery rather than drop its tail */
        *reason = "more than META_MAX_EVENTS events";
        return ERR_TOO_LARGE;
    }
    return rc;
}
