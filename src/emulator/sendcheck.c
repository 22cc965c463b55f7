/*
 * emulator/sendcheck.c - the Send API's checks on what is being sent: messaging_type and
 * tags, the message object (text or attachment), quick replies and metadata.
 *
 * Owns: the limits of meta-platform.md §2.2, §2.5 and §2.6, with Meta's error codes (100).
 * Does not own: who the recipient is, the window, storing or echoing (send.c).
 * Wording: Meta's own messages where the reference quotes one ("(#100) Length of param
 * message[text] must be less than or equal to 2000"); elsewhere ours, in Meta's style. Tests
 * and clients branch on codes, never on the words.
 */
#include "emulator/emu_send.h"

#include <stdio.h>
#include <string.h>

#include "core/json.h"

#define MESSENGER_TEXT_MAX_CHARS 2000 /* the text must be shorter than this */
#define IG_TEXT_MAX_BYTES        1000 /* at most this */
#define METADATA_MAX_CHARS       1000 /* shorter than this */
#define QUICK_REPLIES_MAX        13

static const char *const messaging_types[] = {"RESPONSE", "UPDATE", "MESSAGE_TAG", "UTILITY", NULL};
static const char *const retired_tags[] = {"ACCOUNT_UPDATE", "CONFIRMED_EVENT_UPDATE",
                                           "POST_PURCHASE_UPDATE", NULL};
static const char *const messenger_types[] = {"image", "audio", "video", "file", "template", NULL};
static const char *const ig_types[] = {"image",    "audio",      "video",       "file",
                                       "template", "like_heart", "MEDIA_SHARE", NULL};

bool emu_in_list(const char *s, const char *const *list)
{
    for (size_t i = 0; s && list[i]; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

size_t emu_utf8_len(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        n += (*p & 0xC0) != 0x80;
    return n;
}

static bool bad(struct emu_call *c, const char *message)
{
    emu_fail(c, 400, 100, 0, message);
    return false;
}

static bool check_tag(struct emu_call *c, enum emu_channel ch, struct emu_send_msg *m)
{
    const char *tag = m->tag;
    if (emu_in_list(tag, retired_tags))
        return bad(c, arena_printf(c->a,
                                   "(#100) The tag %s is no longer supported: it was retired on "
                                   "April 27, 2026",
                                   tag));
    if (strcmp(tag, "HUMAN_AGENT") == 0 ||
        (ch == EMU_MESSENGER && strcmp(tag, "CUSTOMER_FEEDBACK") == 0)) {
        m->extended = true;
        return true;
    }
    if (strcmp(tag, "CUSTOMER_FEEDBACK") == 0)
        return bad(c, "(#100) The tag CUSTOMER_FEEDBACK is not available for Instagram Messaging");
    return bad(c, arena_printf(c->a,
                               "(#100) Param tag must be one of {HUMAN_AGENT, CUSTOMER_FEEDBACK} "
                               "- got \"%s\".",
                               tag));
}

bool emu_send_check_type(struct emu_call *c, enum emu_channel ch, bool private_reply,
                         struct emu_send_msg *m)
{
    json_t *type = json_object_get(c->params, "messaging_type");
    json_t *tag = json_object_get(c->params, "tag");
    m->messaging_type = json_string_value(type);
    m->tag = json_string_value(tag);
    if (!type && ch == EMU_MESSENGER && !private_reply)
        return bad(c, "(#100) The parameter messaging_type is required");
    if (type && !emu_in_list(m->messaging_type, messaging_types))
        return bad(c, arena_printf(c->a,
                                   "(#100) Param messaging_type must be one of {RESPONSE, UPDATE, "
                                   "MESSAGE_TAG, UTILITY} - got \"%s\".",
                                   m->messaging_type ? m->messaging_type : "(not a string)"));
    bool is_tag_type = m->messaging_type && strcmp(m->messaging_type, "MESSAGE_TAG") == 0;
    if (is_tag_type && !tag)
        return bad(c, "(#100) Param tag is required when messaging_type is MESSAGE_TAG");
    if (!tag)
        return true;
    if (!m->tag)
        return bad(c, "(#100) Param tag must be a string");
    if (type && !is_tag_type)
        return bad(c, "(#100) Param tag can only be used with messaging_type MESSAGE_TAG");
    return check_tag(c, ch, m);
}

/* ---- the message object ---- */

static bool check_text(struct emu_call *c, enum emu_channel ch, const json_t *text)
{
    if (!json_is_string(text))
        return bad(c, "(#100) Param message[text] must be a string");
    if (ch == EMU_INSTAGRAM && json_string_length(text) > IG_TEXT_MAX_BYTES)
        return bad(c, "(#100) Length of param message[text] must be less than or equal to 1000 "
                      "bytes");
    if (ch == EMU_MESSENGER && emu_utf8_len(json_string_value(text)) >= MESSENGER_TEXT_MAX_CHARS)
        return bad(c, "(#100) Length of param message[text] must be less than or equal to 2000");
    return true;
}

static bool is_url(const char *s)
{
    return s && (strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0) &&
           strlen(s) > 8 && strlen(s) <= 2048;
}

/* image/audio/video/file: payload {url} or {attachment_id}. */
static bool check_media_payload(struct emu_call *c, const json_t *payload)
{
    const json_t *url = json_object_get(payload, "url");
    const json_t *aid = json_object_get(payload, "attachment_id");
    if (url && aid)
        return bad(c, "(#100) Param message[attachment][payload] must have url or "
                      "attachment_id, not both");
    if (aid)
        return json_string_value(aid) && *json_string_value(aid)
                   ? true
                   : bad(c, "(#100) Param message[attachment][payload][attachment_id] must be "
                            "a valid ID string");
    if (!is_url(json_string_value(url)))
        return bad(c, "(#100) Param message[attachment][payload][url] must be a valid URL");
    return true;
}

static bool check_payload(struct emu_call *c, int page, const char *type, const json_t *payload)
{
    if (strcmp(type, "like_heart") == 0)
        return true;
    if (!json_is_object(payload))
        return bad(c, "(#100) Param message[attachment][payload] must be an object");
    if (strcmp(type, "template") == 0) {
        const char *tt = json_string_value(json_object_get(payload, "template_type"));
        return tt && *tt ? true
                         : bad(c, "(#100) Param message[attachment][payload][template_type] is "
                                  "required");
    }
    if (strcmp(type, "MEDIA_SHARE") == 0) {
        int64_t k = emu_media_by_id(c->e, json_string_value(json_object_get(payload, "id")));
        return k >= 0 && c->e->media[k].page == page
                   ? true
                   : bad(c, "(#100) MEDIA_SHARE works only for posts the account owns");
    }
    return check_media_payload(c, payload);
}

static bool check_attachment(struct emu_call *c, enum emu_channel ch, int page,
                             struct emu_send_msg *m)
{
    const json_t *att = m->attachment;
    if (!json_is_object(att))
        return bad(c, "(#100) Param message[attachment] must be an object");
    const char *type = json_string_value(json_object_get(att, "type"));
    const char *const *types = ch == EMU_INSTAGRAM ? ig_types : messenger_types;
    if (!emu_in_list(type, types))
        return bad(c, ch == EMU_INSTAGRAM
                          ? "(#100) Param message[attachment][type] must be one of {image, audio, "
                            "video, file, template, like_heart, MEDIA_SHARE}"
                          : "(#100) Param message[attachment][type] must be one of {audio, file, "
                            "image, template, video}");
    if (!check_payload(c, page, type, json_object_get(att, "payload")))
        return false;
    m->attachment_json = json_dump_arena(c->a, att);
    return true;
}

static bool check_quick_replies(struct emu_call *c, enum emu_channel ch, const json_t *qrs)
{
    if (!json_is_array(qrs) || json_array_size(qrs) == 0)
        return bad(c, "(#100) Param message[quick_replies] must be a non-empty array");
    if (json_array_size(qrs) > QUICK_REPLIES_MAX)
        return bad(c, "(#100) Param message[quick_replies] must have at most 13 elements");
    size_t i;
    const json_t *qr;
    json_array_foreach(qrs, i, qr)
    {
        const char *ct = json_string_value(json_object_get(qr, "content_type"));
        bool text = ct && strcmp(ct, "text") == 0;
        bool contact =
            ct && (strcmp(ct, "user_phone_number") == 0 || strcmp(ct, "user_email") == 0);
        if (!text && !(contact && ch == EMU_MESSENGER))
            return bad(c, "(#100) Param message[quick_replies][content_type] is not valid");
        if (text && (!json_string_value(json_object_get(qr, "title")) ||
                     !json_string_value(json_object_get(qr, "payload"))))
            return bad(c, "(#100) A text quick reply needs a title and a payload");
    }
    return true;
}

bool emu_send_check_message(struct emu_call *c, enum emu_channel ch, int page,
                            struct emu_send_msg *m)
{
    const json_t *msg = emu_param_json(c, "message");
    if (!json_is_object(msg))
        return bad(c, "(#100) Param message must be a JSON object");
    const json_t *text = json_object_get(msg, "text");
    m->attachment = json_object_get(msg, "attachment");
    if (text && m->attachment)
        return bad(c, "(#100) Only one of message[text] and message[attachment] can be set");
    if ((!text && !m->attachment) || (json_is_string(text) && json_string_length(text) == 0))
        return bad(c, "(#100) Message cannot be empty, must provide valid attachment or text");
    if (text && !check_text(c, ch, text))
        return false;
    m->text = json_string_value(text);
    if (m->attachment && !check_attachment(c, ch, page, m))
        return false;
    const json_t *qrs = json_object_get(msg, "quick_replies");
    if (qrs && !check_quick_replies(c, ch, qrs))
        return false;
    const json_t *meta = json_object_get(msg, "metadata");
    if (meta && !json_is_string(meta))
        return bad(c, "(#100) Param message[metadata] must be a string");
    if (meta && emu_utf8_len(json_string_value(meta)) >= METADATA_MAX_CHARS)
        return bad(c, "(#100) Length of param message[metadata] must be less than 1000");
    m->metadata = json_string_value(meta);
    return true;
}
