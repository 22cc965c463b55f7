/*
 * emulator/emu_send.h - shared by send.c, sendcheck.c, convo.c, node.c and comments.c only.
 *
 * The Send API's request checks (sendcheck.c), and what the nodes share (node.c, convo.c,
 * comments.c): Meta's time format, the fields parameter, node errors, lookups by id.
 * Every function here expects e->mu held (the call is between emu_begin() and emu_end());
 * those that return false have already answered through emu_fail() (mu released).
 */
#ifndef SB_EMULATOR_EMU_SEND_H
#define SB_EMULATOR_EMU_SEND_H

#include <stdbool.h>
#include <stdint.h>

#include "emulator/emu_int.h"

/* ---- sendcheck.c ---- */

/* One message request, as checked. Strings are borrowed from the call (they live with the
 * request); attachment_json is the attachment object as compact JSON in the call's arena. */
struct emu_send_msg {
    const char *messaging_type; /* NULL when absent (Instagram, private replies) */
    const char *tag;            /* NULL when absent */
    bool extended;              /* HUMAN_AGENT or CUSTOMER_FEEDBACK: the 7-day window */
    const char *text;
    const json_t *attachment;
    const char *attachment_json;
    const char *metadata;
};

/* messaging_type and tag: required on Messenger (except for private replies), optional on
 * Instagram; MESSAGE_TAG needs a tag; the three retired tags are refused (code 100). */
bool emu_send_check_type(struct emu_call *c, enum emu_channel ch, bool private_reply,
                         struct emu_send_msg *m);
/* The message object: exactly one of text and attachment, the text limit of the channel
 * (Messenger fewer than 2000 characters, Instagram at most 1000 bytes), the attachment type
 * and payload, quick_replies (at most 13) and metadata (fewer than 1000 characters). */
bool emu_send_check_message(struct emu_call *c, enum emu_channel ch, int page,
                            struct emu_send_msg *m);
/* Whether s (NULL: no) is one of the NULL-terminated list. */
bool emu_in_list(const char *s, const char *const *list);
/* Code points in a UTF-8 string (continuation bytes are not counted). */
size_t emu_utf8_len(const char *s);

/* ---- convo.c ---- */

/* Meta's time format, "2026-09-01T10:00:00+0000" (UTC). */
void emu_time_format(int64_t ms, char out[32]);
/* GET /{ver}/{id} for a conversation / a message (only the 20 newest of its conversation can
 * be read): true when id is one and the call was answered. */
bool emu_convo_thread_node(struct emu_call *c, const char *id, json_t *fields);
bool emu_convo_message_node(struct emu_call *c, const char *id, json_t *fields);
/* GET /{ver}/{conversation-id}/messages: the messages edge on its own (send.c hands GET
 * requests of the messages route here). */
void emu_convo_messages_edge(struct http_req *r, void *ctx);

/* ---- node.c ---- */

/* The fields parameter parsed (freed with the request): *out NULL when absent. On a syntax
 * error it answers 100 and returns false. */
bool emu_fields_get(struct emu_call *c, json_t **out);
/* Every key of fields is one of the NULL-terminated known names, else 100 "Tried accessing
 * nonexisting field (x) on node type (type)" and false. fields NULL is fine. */
bool emu_fields_check(struct emu_call *c, json_t *fields, const char *const *known,
                      const char *type);
/* 100/33 "Unsupported get request. Object with ID '...' does not exist, ...". */
void emu_fail_unsupported(struct emu_call *c, const char *id);
/* Whether the caller's token may act for the Page: its Page token, or its owner's user token. */
bool emu_may_act(const struct emu_call *c, int page);

/* ---- comments.c ---- */

/* GET/POST/DELETE /{ver}/{comment-id}: true when id is a comment and the call was answered. */
bool emu_comment_node(struct emu_call *c, const char *id, json_t *fields);

#endif
