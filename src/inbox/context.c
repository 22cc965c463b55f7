/*
 * inbox/context.c - a conversation's stored rows as the agent's context for one turn.
 *
 * Owns: who wrote each message (the customer, the AI, or a person of the business), what a
 * message refers to in plain words (the story it replied to, the reel or post it shared, an
 * image it carries: read from the reply_to and attachments columns apply.c writes), what
 * opened the chat (the newest referral: an ad, an m.me / ig.me link), the platform's text
 * limit, and the agent.* settings read over their defaults.
 * Does not own: the decision (agent/), the SQL (store/). CDN URLs of media are left out: they
 * expire and the model cannot open them; a shared link's URL is kept (it is the content).
 */
#include "inbox/inbox_int.h"

#include <jansson.h>
#include <string.h>

#include "agent/agent.h"
#include "core/json.h"
#include "core/log.h"
#include "meta/send.h"

static const struct {
    const char *type, *words;
    bool with_url;
} attachment_words[] = {
    {"image", "sent an image", false},
    {"video", "sent a video", false},
    {"audio", "sent a voice message", false},
    {"file", "sent a file", false},
    {"sticker", "sent a sticker", false},
    {"reel", "shared a reel", false},
    {"ig_reel", "shared an Instagram reel", false},
    {"post", "shared a post", false},
    {"ig_post", "shared an Instagram post", false},
    {"share", "shared a post", false},
    {"story_mention", "mentioned the business in their story", false},
    {"ephemeral", "sent a disappearing photo or video", false},
    {"fallback", "shared a link", true},
    {"appointment_booking", "booked an appointment", false},
};

static const char *attachment_text(struct arena *a, const json_t *att)
{
    const char *type = json_string_value(json_object_get(att, "type"));
    const char *url = json_string_value(json_object_get(att, "url"));
    for (size_t i = 0; type && i < sizeof attachment_words / sizeof attachment_words[0]; i++)
        if (strcmp(type, attachment_words[i].type) == 0)
            return attachment_words[i].with_url && url
                       ? arena_printf(a, "%s (%s)", attachment_words[i].words, url)
                       : attachment_words[i].words;
    return "sent an attachment";
}

/* "replied to the business's story; shared a reel", or NULL. */
static const char *refers_to(struct arena *a, const struct store_message *m, bool is_instagram)
{
    const char *out = NULL;
    json_t *reply = m->reply_to ? json_loads(m->reply_to, 0, NULL) : NULL;
    if (json_object_get(reply, "story"))
        out = is_instagram ? "replied to the business's Instagram story"
                           : "replied to the business's story";
    else if (json_object_get(reply, "mid"))
        out = "replied to an earlier message";
    json_decref(reply);
    json_t *atts = m->attachments ? json_loads(m->attachments, 0, NULL) : NULL;
    size_t i;
    const json_t *att;
    json_array_foreach(atts, i, att)
    {
        const char *w = attachment_text(a, att);
        out = out ? arena_printf(a, "%s; %s", out, w) : w;
        if (i == 3)
            break;
    }
    json_decref(atts);
    return out;
}

/* What opened the chat, from a referral object; *hint: words worth searching for. */
static const char *opened_from(struct arena *a, const char *referral, const char **hint);

/* A referral row (Meta's messaging_referrals, or one riding on a message). */
static const char *referral_of(struct arena *a, const struct store_message *m)
{
    json_t *meta = m->meta ? json_loads(m->meta, 0, NULL) : NULL;
    const json_t *r = json_object_get(meta, "referral");
    const char *out = r ? json_dump_arena(a, r) : NULL;
    json_decref(meta);
    return out;
}

static enum agent_role role_of(const struct store_message *m)
{
    if (strcmp(m->direction, "in") == 0)
        return AGENT_ROLE_CUSTOMER;
    return strcmp(m->author, "ai") == 0 ? AGENT_ROLE_AI : AGENT_ROLE_HUMAN;
}

static void to_agent(struct arena *a, const struct store_message *m, bool is_instagram,
                     struct agent_message *out)
{
    *out = (struct agent_message){.role = role_of(m),
                                  .text = m->text,
                                  .refers_to = refers_to(a, m, is_instagram),
                                  .at_ms = m->meta_ts ? m->meta_ts : m->created_at,
                                  .has_sentiment = m->has_sentiment,
                                  .sentiment = m->sentiment};
    const char *hint, *referral = out->role == AGENT_ROLE_CUSTOMER ? referral_of(a, m) : NULL;
    const char *from = referral ? opened_from(a, referral, &hint) : NULL;
    if (from) {
        const char *words = arena_printf(a, "opened the chat from %s", from);
        out->refers_to = out->refers_to ? arena_printf(a, "%s; %s", words, out->refers_to) : words;
        out->opens_chat = !m->text || !*m->text;
    }
}

/* What opened the chat, from a referral object; *hint: words worth searching for. */
static const char *opened_from(struct arena *a, const char *referral, const char **hint)
{
    *hint = NULL;
    json_t *r = referral ? json_loads(referral, 0, NULL) : NULL;
    const char *source = json_string_value(json_object_get(r, "source"));
    const char *title = json_string_value(json_object_get(r, "ad_title"));
    const char *ref = json_string_value(json_object_get(r, "ref"));
    const char *out = NULL;
    if (title)
        *hint = arena_strdup(a, title);
    if (source && strcmp(source, "ADS") == 0)
        out = title ? arena_printf(a, "the ad \"%s\"", title) : "an ad";
    else if (source && strcmp(source, "CUSTOMER_CHAT_PLUGIN") == 0)
        out = "the chat plugin on the business's website";
    else if (ref)
        out = arena_printf(a, "a link with the reference \"%s\"", ref);
    else if (r)
        out = "a link or an ad";
    json_decref(r);
    return out;
}

void inbox_agent_context(struct arena *a, const struct inbox_turn_rows *rows, int64_t now_ms,
                         struct agent_context *ctx)
{
    const struct store_conversation *cv = rows->cv;
    bool ig = cv->platform == STORE_INSTAGRAM;
    struct agent_message *hist = arena_alloc(a, (rows->n_history + 1) * sizeof *hist);
    struct agent_message *in = arena_alloc(a, (rows->n_incoming + 1) * sizeof *in);
    for (size_t i = 0; i < rows->n_history; i++)
        to_agent(a, &rows->history[i], ig, &hist[i]);
    for (size_t i = 0; i < rows->n_incoming; i++)
        to_agent(a, &rows->incoming[i], ig, &in[i]);
    *ctx = (struct agent_context){
        .conversation_id = cv->id,
        .platform = ig ? "Instagram" : "Messenger",
        .max_bytes = ig ? META_IG_TEXT_MAX_BYTES : 0,
        .max_chars = ig ? 0 : META_MESSENGER_TEXT_MAX_CHARS,
        .customer_name = cv->contact_name,
        .customer_username = cv->contact_username,
        .history = hist,
        .n_history = rows->n_history,
        .incoming = in,
        .n_incoming = rows->n_incoming,
        .needs_disclosure =
            agent_needs_disclosure(rows->facts->ai_disclosed_at, rows->facts->last_ai_at, now_ms),
        .now_ms = now_ms,
    };
    ctx->opened_from = opened_from(a, rows->facts->referral, &ctx->topic_hint);
}

void inbox_agent_settings(struct store *s, struct arena *a, struct agent_settings *st)
{
    agent_settings_init(st);
    for (size_t i = 0; i < AGENT_N_SETTINGS; i++) {
        const char *key = agent_setting_keys[i], *value = NULL, *why = NULL;
        enum err rc = store_setting_get(s, a, key, &value);
        if (rc == ERR_OK && agent_settings_apply(st, a, key, value, &why) != ERR_OK)
            log_warn("agent.setting_invalid", LOG_STR("key", key), LOG_STR("why", why));
        else if (rc != ERR_OK && rc != ERR_NOT_FOUND)
            log_warn("agent.setting_unread", LOG_STR("key", key), LOG_ERR(rc));
    }
}
