/*
 * dashboard/views.c - how a conversation and a message look to the page, the same in the REST
 * answers and in the WebSocket's events, so the page applies either the same way.
 *
 * Times are Unix milliseconds (0: never). The window is the one policy's view for both senders
 * (inbox/window.h): what the AI may do, and how a person's reply would go out.
 */
#include "dashboard/dash_int.h"

#include <jansson.h>
#include <string.h>

#include "inbox/window.h"

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

json_t *dash_window_json(int64_t last_customer_at, int64_t now_ms)
{
    int64_t until = 0;
    enum window_state st = window_state_of(last_customer_at, now_ms, &until);
    struct window_decision human = window_decide(WINDOW_SENDER_HUMAN, last_customer_at, now_ms);
    json_t *o = json_object();
    json_object_set_new(o, "state", json_string(window_state_name(st)));
    json_object_set_new(o, "until_ms", json_integer(until));
    json_object_set_new(o, "ai_may_reply", json_boolean(st == WINDOW_OPEN));
    json_object_set_new(o, "human_reply",
                        human.send == WINDOW_SEND_NONE ? json_null()
                        : human.tag                    ? json_string(human.tag)
                                                       : json_string(human.messaging_type));
    json_object_set_new(o, "reason", str_or_null(human.reason));
    return o;
}

json_t *dash_message_json(const struct store_message *m)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(m->id));
    json_object_set_new(o, "conversation_id", json_integer(m->conversation_id));
    json_object_set_new(o, "direction", str_or_null(m->direction));
    json_object_set_new(o, "author", str_or_null(m->author));
    json_object_set_new(o, "operator_id",
                        m->operator_id ? json_integer(m->operator_id) : json_null());
    json_object_set_new(o, "text", str_or_null(m->text));
    json_object_set_new(o, "status", str_or_null(m->status));
    json_object_set_new(o, "messaging_type", str_or_null(m->messaging_type));
    json_object_set_new(o, "tag", str_or_null(m->tag));
    json_object_set_new(o, "error", str_or_null(m->error_message));
    json_object_set_new(o, "at_ms", json_integer(m->meta_ts ? m->meta_ts : m->created_at));
    json_t *att = m->attachments ? json_loads(m->attachments, 0, NULL) : NULL;
    json_object_set_new(o, "attachments", att ? att : json_array());
    json_t *meta = m->meta ? json_loads(m->meta, 0, NULL) : NULL;
    json_t *reaction = meta ? json_object_get(meta, "reaction") : NULL;
    json_object_set(o, "reaction", reaction ? reaction : json_null());
    json_object_set_new(o, "edited", json_boolean(meta && json_object_get(meta, "edits")));
    json_decref(meta);
    json_object_set_new(o, "sentiment", m->has_sentiment ? json_real(m->sentiment) : json_null());
    return o;
}

/* The last 4 characters of a scoped id: enough to tell two unnamed customers apart. */
static const char *tail4(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    return n > 4 ? id + n - 4 : (id ? id : "");
}

/* The newest message, as the inbox shows it under the name. */
static json_t *last_message(struct store *s, struct arena *a, int64_t conv)
{
    struct store_message *rows = NULL;
    size_t n = 0;
    bool more = false;
    if (store_messages_page(s, a, conv, 0, 0, 1, &rows, &n, &more) != ERR_OK || n == 0)
        return json_null();
    return json_pack("{s:s?, s:s?, s:s?, s:I}", "text", rows[0].text, "author", rows[0].author,
                     "status", rows[0].status, "at_ms",
                     (json_int_t)(rows[0].meta_ts ? rows[0].meta_ts : rows[0].created_at));
}

json_t *dash_conversation_json(struct store *s, struct arena *a,
                               const struct store_conversation *cv, int64_t now_ms)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(cv->id));
    json_object_set_new(o, "platform", json_string(store_platform_name(cv->platform)));
    json_object_set_new(
        o, "account",
        json_pack("{s:I, s:s?}", "id", (json_int_t)cv->account_id, "name", cv->account_name));
    const char *name = cv->contact_name ? cv->contact_name
                       : cv->contact_username
                           ? arena_printf(a, "@%s", cv->contact_username)
                           : arena_printf(a, "Customer \xE2\x80\xA6%s", tail4(cv->scoped_id));
    json_object_set_new(o, "customer",
                        json_pack("{s:s?, s:s?, s:s?, s:s?}", "display", name, "name",
                                  cv->contact_name, "username", cv->contact_username, "scoped_id",
                                  cv->scoped_id));
    json_object_set_new(o, "mode", json_string(cv->mode));
    json_object_set_new(o, "handoff",
                        json_pack("{s:s?, s:s?, s:I}", "reason", cv->handoff_reason, "cause",
                                  cv->handoff_cause, "at_ms", (json_int_t)cv->handoff_at));
    json_object_set_new(o, "assigned_operator_id",
                        cv->assigned_operator_id ? json_integer(cv->assigned_operator_id)
                                                 : json_null());
    json_object_set_new(o, "unread", json_integer(cv->unread));
    json_object_set_new(o, "standby", json_boolean(cv->is_standby));
    json_object_set_new(o, "last_customer_at_ms", json_integer(cv->last_customer_at));
    json_object_set_new(o, "last_message_at_ms", json_integer(cv->last_message_at));
    json_object_set_new(o, "window", dash_window_json(cv->last_customer_at, now_ms));
    json_object_set_new(o, "last_message", last_message(s, a, cv->id));
    return o;
}
