/*
 * meta/send.c - the Send API client: request checks, JSON bodies, and the calls for messages,
 * sender actions, private replies and comment moderation (meta-platform.md sections 2, 6).
 *
 * Owns: refusing, before anything is sent, every request Meta or our policy forbids; the
 * documented body shapes; reading recipient_id / message_id and comment ids from the answers.
 * Does not own: the wire, tokens on it and error classification (graph.c, graph_error.c), the
 * text limits and the splitter (send_split.c), the window policy and retries (inbox/).
 * Threads: any; nothing here keeps state. Logs nothing (meta_graph_call() logs each call
 * without its body), so message text and metadata never reach a log line.
 */
#include "meta/send.h"

#include <string.h>

#include "core/json.h"
#include "meta/graph_int.h"
#include "meta/send_int.h"

#define META_ID_MAX_BYTES 128 /* ours: a PSID, IGSID, Page, comment or attachment id */

/* ---- checks ---- */

/* A Graph id: 1..128 of [A-Za-z0-9_] (Facebook comment ids are "{post}_{comment}"). */
static bool is_graph_id(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > META_ID_MAX_BYTES)
        return false;
    for (const char *c = id; *c; c++) {
        if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
              *c == '_'))
            return false;
    }
    return true;
}

/* 1..max code points of UTF-8. */
static bool is_short_text(const char *s, size_t max_chars)
{
    size_t chars;
    return s && *s && meta_utf8_count(s, strlen(s), &chars) && chars <= max_chars;
}

static enum err refuse(const char **why, enum err rc, const char *reason)
{
    *why = reason;
    return rc;
}

static enum err check_text(enum store_platform p, const char *text, const char **why)
{
    if (!text || !*text)
        return refuse(why, ERR_INVALID, "text is empty");
    if (!meta_utf8_count(text, strlen(text), NULL))
        return refuse(why, ERR_INVALID, "text is not UTF-8");
    if (meta_utf8_is_blank(text, strlen(text)))
        return refuse(why, ERR_INVALID, "text is blank");
    if (!meta_text_fits(p, text))
        return refuse(why, ERR_TOO_LARGE, "text is over the platform's limit: split it");
    return ERR_OK;
}

static bool is_url(const char *u)
{
    size_t n = u ? strlen(u) : 0;
    size_t scheme = !strncmp(u ? u : "", "https://", 8)  ? 8
                    : !strncmp(u ? u : "", "http://", 7) ? 7
                                                         : 0;
    if (scheme == 0 || n <= scheme || n > META_URL_MAX_BYTES)
        return false;
    for (const unsigned char *c = (const unsigned char *)u; *c; c++) {
        if (*c <= 0x20 || *c == 0x7F)
            return false;
    }
    return true;
}

static enum err check_attachment(const struct meta_attachment *at, const char **why)
{
    if ((unsigned)at->type > META_ATTACH_FILE)
        return refuse(why, ERR_INVALID, "unknown attachment type");
    if (!at->url == !at->attachment_id)
        return refuse(why, ERR_INVALID, "an attachment needs exactly one of url, attachment_id");
    if (at->url && !is_url(at->url))
        return refuse(why, ERR_INVALID, "attachment url is not a plain http(s) URL");
    if (at->attachment_id && !is_graph_id(at->attachment_id))
        return refuse(why, ERR_INVALID, "attachment_id is not a Graph id");
    if (at->attachment_id && at->is_reusable)
        return refuse(why, ERR_INVALID, "is_reusable applies to a url only");
    return ERR_OK;
}

static enum err check_quick_replies(const struct meta_message *m, const char **why)
{
    if (m->n_quick_replies > META_QR_MAX)
        return refuse(why, ERR_INVALID, "more than 13 quick replies");
    if (m->n_quick_replies > 0 && !m->quick_replies)
        return refuse(why, ERR_INVALID, "quick replies missing");
    for (size_t i = 0; i < m->n_quick_replies; i++) {
        if (!is_short_text(m->quick_replies[i].title, META_QR_TITLE_MAX_CHARS))
            return refuse(why, ERR_INVALID, "quick reply title must be 1..20 characters");
        if (!is_short_text(m->quick_replies[i].payload, META_QR_PAYLOAD_MAX_CHARS))
            return refuse(why, ERR_INVALID, "quick reply payload must be 1..1000 characters");
    }
    return ERR_OK;
}

enum err meta_message_check(enum store_platform p, const struct meta_message *m, const char **why)
{
    *why = NULL;
    if (!m)
        return refuse(why, ERR_INVALID, "no message");
    if ((unsigned)p > STORE_INSTAGRAM)
        return refuse(why, ERR_INVALID, "unknown platform");
    enum err rc = ERR_INVALID;
    if (m->kind == META_CONTENT_TEXT)
        rc = check_text(p, m->u.text, why);
    else if (m->kind == META_CONTENT_ATTACHMENT)
        rc = check_attachment(&m->u.attachment, why);
    else
        *why = "unknown content kind";
    if (rc == ERR_OK)
        rc = check_quick_replies(m, why);
    if (rc == ERR_OK && m->metadata && !is_short_text(m->metadata, META_METADATA_MAX_CHARS))
        rc = refuse(why, ERR_INVALID, "metadata must be 1..999 characters");
    return rc;
}

/* ---- bodies ---- */

static const char *const attachment_types[] = {
    [META_ATTACH_IMAGE] = "image",
    [META_ATTACH_AUDIO] = "audio",
    [META_ATTACH_VIDEO] = "video",
    [META_ATTACH_FILE] = "file",
};

static json_t *attachment_json(const struct meta_attachment *at)
{
    json_t *payload = json_object();
    if (at->url) {
        json_object_set_new(payload, "url", json_string(at->url));
        if (at->is_reusable)
            json_object_set_new(payload, "is_reusable", json_true());
    } else {
        json_object_set_new(payload, "attachment_id", json_string(at->attachment_id));
    }
    return json_pack("{s:s, s:o}", "type", attachment_types[at->type], "payload", payload);
}

/* The "message" object of a checked message. */
static json_t *message_json(const struct meta_message *m)
{
    json_t *msg = json_object();
    if (m->kind == META_CONTENT_TEXT)
        json_object_set_new(msg, "text", json_string(m->u.text));
    else
        json_object_set_new(msg, "attachment", attachment_json(&m->u.attachment));
    if (m->n_quick_replies > 0) {
        json_t *qrs = json_array();
        for (size_t i = 0; i < m->n_quick_replies; i++) {
            const struct meta_quick_reply *q = &m->quick_replies[i];
            json_array_append_new(qrs, json_pack("{s:s, s:s, s:s}", "content_type", "text", "title",
                                                 q->title, "payload", q->payload));
        }
        json_object_set_new(msg, "quick_replies", qrs);
    }
    if (m->metadata)
        json_object_set_new(msg, "metadata", json_string(m->metadata));
    return msg;
}

/* Serialises root (compact, sorted keys) into the arena and drops it. */
static enum err dump(struct arena *a, json_t *root, char **json, const char **why)
{
    *json = root ? json_dump_arena(a, root) : NULL;
    json_decref(root);
    return *json ? ERR_OK : refuse(why, ERR_INTERNAL, "body could not be built");
}

enum err meta_send_body(struct arena *a, enum store_platform p, const char *recipient_id,
                        struct meta_send_kind kind, const struct meta_message *m, char **json,
                        const char **why)
{
    static const char *const types[] = {
        [META_SEND_RESPONSE] = "RESPONSE",
        [META_SEND_UPDATE] = "UPDATE",
        [META_SEND_HUMAN_AGENT] = "MESSAGE_TAG",
    };
    *json = NULL;
    enum err rc = meta_message_check(p, m, why);
    if (rc != ERR_OK)
        return rc;
    if (!is_graph_id(recipient_id))
        return refuse(why, ERR_INVALID, "recipient is not a scoped id");
    if ((unsigned)kind.mode > META_SEND_HUMAN_AGENT)
        return refuse(why, ERR_INVALID, "unknown messaging type");
    json_t *root = json_pack("{s:{s:s}, s:s, s:o}", "recipient", "id", recipient_id,
                             "messaging_type", types[kind.mode], "message", message_json(m));
    if (root && kind.mode == META_SEND_HUMAN_AGENT)
        json_object_set_new(root, "tag", json_string("HUMAN_AGENT"));
    return dump(a, root, json, why);
}

enum err meta_private_reply_body(struct arena *a, enum store_platform p, const char *comment_id,
                                 const struct meta_message *m, char **json, const char **why)
{
    *json = NULL;
    enum err rc = meta_message_check(p, m, why);
    if (rc != ERR_OK)
        return rc;
    if (m->kind != META_CONTENT_TEXT)
        return refuse(why, ERR_INVALID, "a private reply is text only");
    if (!is_graph_id(comment_id))
        return refuse(why, ERR_INVALID, "comment_id is not a Graph id");
    json_t *root = json_pack("{s:{s:s}, s:o}", "recipient", "comment_id", comment_id, "message",
                             message_json(m));
    return dump(a, root, json, why);
}

enum err meta_action_body(struct arena *a, const char *recipient_id, enum meta_sender_action action,
                          char **json, const char **why)
{
    static const char *const actions[] = {
        [META_ACTION_MARK_SEEN] = "mark_seen",
        [META_ACTION_TYPING_ON] = "typing_on",
        [META_ACTION_TYPING_OFF] = "typing_off",
    };
    *json = NULL;
    *why = NULL;
    if (!is_graph_id(recipient_id))
        return refuse(why, ERR_INVALID, "recipient is not a scoped id");
    if ((unsigned)action > META_ACTION_TYPING_OFF)
        return refuse(why, ERR_INVALID, "unknown sender action");
    json_t *root = json_pack("{s:{s:s}, s:s}", "recipient", "id", recipient_id, "sender_action",
                             actions[action]);
    return dump(a, root, json, why);
}

/* ---- calls ---- */

/* A refusal before the wire: nothing was sent. */
static enum err refused(struct meta_graph_error *gerr, enum err rc, const char *why)
{
    meta_graph_error_set(gerr, 0, META_ERR_INVALID, why ? why : "request refused");
    return rc;
}

static enum err check_account(const struct meta_send_account *acct, const char **why)
{
    *why = NULL;
    if (!acct || (unsigned)acct->platform > STORE_INSTAGRAM)
        return refuse(why, ERR_INVALID, "no account");
    if (!is_graph_id(acct->page_id))
        return refuse(why, ERR_INVALID, "page_id is not a Graph id");
    if (!acct->page_token || !*acct->page_token)
        return refuse(why, ERR_INVALID, "no page token");
    return ERR_OK;
}

/* POST {path} with a JSON body; *answer is the parsed 2xx answer, *usage (may be NULL) the
 * answer's usage headers. */
static enum err post(struct meta_graph *g, struct arena *a, const char *path, const char *token,
                     const char *body, const struct meta_param *params, size_t n_params,
                     json_t **answer, struct meta_usage *usage, struct meta_graph_error *gerr)
{
    const struct meta_graph_req req = {.method = "POST",
                                       .path = path,
                                       .params = params,
                                       .n_params = n_params,
                                       .json_body = body,
                                       .access_token = token};
    struct meta_graph_resp resp;
    enum err rc = meta_graph_call(g, a, &req, &resp, gerr);
    *answer = rc == ERR_OK ? resp.json : NULL;
    if (usage)
        *usage = resp.usage;
    return rc;
}

/* {"recipient_id","message_id"}: a 2xx without message_id may still have been sent. */
static enum err take_result(struct arena *a, const json_t *answer, struct meta_send_result *out,
                            struct meta_graph_error *gerr)
{
    out->recipient_id = json_get_id(a, answer, "recipient_id");
    out->message_id = json_get_id(a, answer, "message_id");
    if (out->message_id && *out->message_id)
        return ERR_OK;
    meta_graph_error_set(gerr, 200, META_ERR_AMBIGUOUS, "answer without message_id");
    return ERR_UPSTREAM;
}

static enum err send_body(struct meta_graph *g, struct arena *a,
                          const struct meta_send_account *acct, const char *body,
                          struct meta_send_result *out, struct meta_graph_error *gerr)
{
    const char *path = arena_printf(a, "/%s/messages", acct->page_id);
    json_t *answer;
    enum err rc = post(g, a, path, acct->page_token, body, NULL, 0, &answer, &out->usage, gerr);
    return rc == ERR_OK ? take_result(a, answer, out, gerr) : rc;
}

enum err meta_send_message(struct meta_graph *g, struct arena *a,
                           const struct meta_send_account *acct, const char *recipient_id,
                           struct meta_send_kind kind, const struct meta_message *m,
                           struct meta_send_result *out, struct meta_graph_error *gerr)
{
    memset(out, 0, sizeof *out);
    const char *why;
    char *body;
    enum err rc = check_account(acct, &why);
    if (rc == ERR_OK)
        rc = meta_send_body(a, acct->platform, recipient_id, kind, m, &body, &why);
    if (rc != ERR_OK)
        return refused(gerr, rc, why);
    return send_body(g, a, acct, body, out, gerr);
}

enum err meta_private_reply(struct meta_graph *g, struct arena *a,
                            const struct meta_send_account *acct, const char *comment_id,
                            const struct meta_message *m, struct meta_send_result *out,
                            struct meta_graph_error *gerr)
{
    memset(out, 0, sizeof *out);
    const char *why;
    char *body;
    enum err rc = check_account(acct, &why);
    if (rc == ERR_OK)
        rc = meta_private_reply_body(a, acct->platform, comment_id, m, &body, &why);
    if (rc != ERR_OK)
        return refused(gerr, rc, why);
    return send_body(g, a, acct, body, out, gerr);
}

enum err meta_send_action(struct meta_graph *g, const struct meta_send_account *acct,
                          const char *recipient_id, enum meta_sender_action action,
                          struct meta_graph_error *gerr)
{
    struct arena a;
    arena_init(&a);
    const char *why;
    char *body;
    json_t *answer;
    enum err rc = check_account(acct, &why);
    if (rc == ERR_OK)
        rc = meta_action_body(&a, recipient_id, action, &body, &why);
    if (rc != ERR_OK)
        rc = refused(gerr, rc, why);
    else
        rc = post(g, &a, arena_printf(&a, "/%s/messages", acct->page_id), acct->page_token, body,
                  NULL, 0, &answer, NULL, gerr);
    arena_release(&a);
    return rc;
}

/* ---- comments (section 6) ---- */

enum err meta_comment_reply(struct meta_graph *g, struct arena *a,
                            const struct meta_send_account *acct, const char *comment_id,
                            const char *text, const char **new_id, struct meta_graph_error *gerr)
{
    *new_id = NULL;
    const char *why;
    enum err rc = check_account(acct, &why);
    if (rc == ERR_OK && !is_graph_id(comment_id))
        rc = refuse(&why, ERR_INVALID, "comment_id is not a Graph id");
    if (rc == ERR_OK && !is_short_text(text, META_COMMENT_MAX_CHARS))
        rc = refuse(&why, ERR_INVALID, "reply must be 1..2200 characters of UTF-8");
    if (rc != ERR_OK)
        return refused(gerr, rc, why);
    const char *edge = acct->platform == STORE_INSTAGRAM ? "replies" : "comments";
    const struct meta_param p[] = {{"message", text}};
    json_t *answer;
    rc = post(g, a, arena_printf(a, "/%s/%s", comment_id, edge), acct->page_token, NULL, p, 1,
              &answer, NULL, gerr);
    if (rc != ERR_OK)
        return rc;
    *new_id = json_get_id(a, answer, "id");
    if (*new_id && **new_id)
        return ERR_OK;
    meta_graph_error_set(gerr, 200, META_ERR_AMBIGUOUS, "answer without id");
    return ERR_UPSTREAM;
}

enum err meta_comment_hide(struct meta_graph *g, const struct meta_send_account *acct,
                           const char *comment_id, bool is_hidden, struct meta_graph_error *gerr)
{
    const char *why;
    enum err rc = check_account(acct, &why);
    if (rc == ERR_OK && !is_graph_id(comment_id))
        rc = refuse(&why, ERR_INVALID, "comment_id is not a Graph id");
    if (rc != ERR_OK)
        return refused(gerr, rc, why);
    struct arena a;
    arena_init(&a);
    const char *key = acct->platform == STORE_INSTAGRAM ? "hide" : "is_hidden";
    const struct meta_param p[] = {{key, is_hidden ? "true" : "false"}};
    json_t *answer;
    rc = post(g, &a, arena_printf(&a, "/%s", comment_id), acct->page_token, NULL, p, 1, &answer,
              NULL, gerr);
    if (rc == ERR_OK && !json_is_true(json_object_get(answer, "success"))) {
        meta_graph_error_set(gerr, 200, META_ERR_INVALID, "hide answer without success");
        rc = ERR_UPSTREAM;
    }
    arena_release(&a);
    return rc;
}
