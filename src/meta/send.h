/*
 * meta/send.h - the typed Send API client: messages, sender actions, private replies, and
 * public comment replies and hiding (meta-platform.md sections 2 and 6).
 *
 * Owns: what a request may say (checked before anything goes on the wire: one of text or one
 * attachment, at most META_QR_MAX quick replies, metadata, messaging_type RESPONSE / UPDATE /
 * MESSAGE_TAG+HUMAN_AGENT and nothing else), the platform text limits (Messenger under 2000
 * characters, Instagram 1000 bytes or less) and the splitter that keeps long replies inside
 * them, the JSON bodies, and the answers (recipient_id, message_id = the echo's mid).
 * Does not own: the window policy (inbox/ decides the struct meta_send_kind), retries and
 * pacing (the sender asks meta_graph_retry_delay_ms()), marking dead tokens (the sender calls
 * meta_account_mark_dead() on META_ERR_AUTH), storing anything.
 * Errors: every call returns enum err with *gerr filled, and its class says what to do:
 * WINDOW / RECIPIENT / PERMISSION / INVALID never retried; TRANSIENT / RATE_LIMIT retried after
 * meta_graph_retry_delay_ms(); AUTH -> meta_account_mark_dead(); AMBIGUOUS (no usable answer to
 * a sent write, or 1/1357046) -> reconcile by the echo (mid or metadata) before resending.
 * A request refused here is ERR_INVALID (or ERR_TOO_LARGE for text over the platform limit)
 * with gerr->cls META_ERR_INVALID, http_status 0 and the reason in gerr->message: nothing was
 * sent.
 * Threads: any thread; the calls share a struct meta_graph safely.
 * Memory: results live in the caller's arena. Nothing here logs message text, metadata or
 * tokens (meta_graph_call() logs method, path and error codes only).
 */
#ifndef SB_META_SEND_H
#define SB_META_SEND_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "core/mem.h"
#include "meta/graph.h"
#include "store/store.h"

/* ---- limits (section 2.6) ---- */

#define META_MESSENGER_TEXT_MAX_CHARS 1999 /* "under 2000 characters" (code points) */
#define META_IG_TEXT_MAX_BYTES        1000 /* "1000 bytes or less" (UTF-8) */
#define META_METADATA_MAX_CHARS       999  /* "under 1000 characters" */
#define META_QR_MAX                   13   /* quick replies per message */
#define META_QR_TITLE_MAX_CHARS       20
#define META_QR_PAYLOAD_MAX_CHARS     1000
#define META_URL_MAX_BYTES            2048 /* ours: an attachment URL */
/* ours: Meta documents no limit for comment replies; the caption limit of section 5.4 */
#define META_COMMENT_MAX_CHARS 2200
#define META_SPLIT_MAX_PARTS   20    /* ours: a reply longer than this many parts is refused */
#define META_SPLIT_MAX_BYTES   65536 /* ours: input cap of meta_send_split_text() */

/* ---- what a send may be ---- */

/* The window policy's answer (inbox/ computes it; the sender passes it through). There is
 * deliberately no way to name UTILITY or the retired tags (ACCOUNT_UPDATE,
 * CONFIRMED_EVENT_UPDATE, POST_PURCHASE_UPDATE: code 100 since 2026-04-27) or CUSTOMER_FEEDBACK.
 * META_SEND_HUMAN_AGENT (messaging_type MESSAGE_TAG, tag HUMAN_AGENT, up to 7 days) must only
 * ever come from the human path: a message an identified operator typed. Meta forbids it for
 * automated text, and the AI path must have no code that produces it. */
struct meta_send_kind {
    enum meta_send_mode {
        META_SEND_RESPONSE,    /* a reply inside the 24-h window */
        META_SEND_UPDATE,      /* proactive, still inside the 24-h window */
        META_SEND_HUMAN_AGENT, /* a human, after 24 h and within 7 days */
    } mode;
};

enum meta_attachment_type {
    META_ATTACH_IMAGE,
    META_ATTACH_AUDIO,
    META_ATTACH_VIDEO,
    META_ATTACH_FILE,
};

/* One attachment: by a public http(s) URL Meta fetches itself, or by the attachment_id of an
 * earlier reusable upload. Exactly one of url and attachment_id is set. */
struct meta_attachment {
    enum meta_attachment_type type;
    const char *url;           /* http:// or https://, no spaces or controls, <= 2048 bytes */
    const char *attachment_id; /* a Graph id ([A-Za-z0-9_]) */
    bool is_reusable;          /* url only: ask Meta for an attachment_id to reuse */
};

struct meta_quick_reply {
    const char *title;   /* 1..20 characters */
    const char *payload; /* 1..1000 characters; comes back in the quick_reply webhook */
};

/* The content of a message: text or one attachment, never both (the tag says which). */
enum meta_content_kind { META_CONTENT_TEXT, META_CONTENT_ATTACHMENT };

struct meta_message {
    enum meta_content_kind kind;
    union {
        const char *text; /* UTF-8, not empty, within the platform's limit */
        struct meta_attachment attachment;
    } u;
    const struct meta_quick_reply *quick_replies; /* n_quick_replies of them (<= META_QR_MAX) */
    size_t n_quick_replies;
    const char *metadata; /* NULL, or 1..999 characters: our correlation id, back in the echo */
};

/* Who sends: the Page for Messenger, and for Instagram the Page linked to the account (the
 * Instagram-via-Facebook-Login path: POST /{page-id}/messages with the Page token). */
struct meta_send_account {
    enum store_platform platform;
    const char *page_id;    /* store_account.page_id */
    const char *page_token; /* opened for this call (meta/vault.h); borrowed */
};

/* The Send API's answer. recipient_id is NULL when Meta leaves it out. Store message_id: it
 * is the mid of the echo. */
struct meta_send_result {
    const char *recipient_id;
    const char *message_id;
    struct meta_usage usage; /* the answer's rate-limit usage headers (is_present false: none) */
};

enum meta_sender_action {
    META_ACTION_MARK_SEEN,
    META_ACTION_TYPING_ON,
    META_ACTION_TYPING_OFF,
};

/* ---- checks and bodies (pure) ---- */

/* Whether text is valid UTF-8, not empty, and within the platform's limit (Messenger: at most
 * 1999 code points; Instagram: at most 1000 bytes). */
bool meta_text_fits(enum store_platform p, const char *text);

/* Everything the Send API or our policy forbids in m, for platform p: ERR_OK, or ERR_INVALID /
 * ERR_TOO_LARGE (text over the limit: split it) with *why set to a static reason. */
MUST_USE enum err meta_message_check(enum store_platform p, const struct meta_message *m,
                                     const char **why);

/* The JSON bodies, compact with sorted keys, in the arena; the same checks first (*why on
 * refusal). A message to a scoped id (PSID / IGSID):
 *   {"message":{...},"messaging_type":"RESPONSE"|"UPDATE"|"MESSAGE_TAG","recipient":{"id":..},
 *    "tag":"HUMAN_AGENT"(MESSAGE_TAG only)}
 * a private reply (no messaging_type: it answers a comment, within 7 days of it):
 *   {"message":{...},"recipient":{"comment_id":..}}
 * a sender action (nothing else may ride along):
 *   {"recipient":{"id":..},"sender_action":"mark_seen"|"typing_on"|"typing_off"} */
MUST_USE enum err meta_send_body(struct arena *a, enum store_platform p, const char *recipient_id,
                                 struct meta_send_kind kind, const struct meta_message *m,
                                 char **json, const char **why);
MUST_USE enum err meta_private_reply_body(struct arena *a, enum store_platform p,
                                          const char *comment_id, const struct meta_message *m,
                                          char **json, const char **why);
MUST_USE enum err meta_action_body(struct arena *a, const char *recipient_id,
                                   enum meta_sender_action action, char **json, const char **why);

/* ---- the splitter ---- */

/* Cuts text into parts that each pass meta_text_fits(p, ...), in order, preferring (within the
 * latter half of each part's room) a paragraph break, then a line break or a sentence end, then
 * a space, and otherwise cutting between two grapheme clusters (never inside a code point, an
 * emoji + VS16 / skin tone / ZWJ sequence, a flag, a keycap or a combining mark, unless one
 * cluster alone is over the limit). Whitespace at each cut is dropped; text that fits already
 * comes back as one part, unchanged. Parts are NUL-terminated, in the arena.
 * ERR_INVALID: not UTF-8, or nothing but whitespace; ERR_TOO_LARGE: over META_SPLIT_MAX_BYTES
 * or more than META_SPLIT_MAX_PARTS parts. */
MUST_USE enum err meta_send_split_text(struct arena *a, enum store_platform p, const char *text,
                                       const char ***parts, size_t *n_parts);

/* ---- the calls ---- */

/* POST /{page_id}/messages with meta_send_body(): one message to a PSID (Messenger) or an
 * IGSID (Instagram). ERR_OK: *out filled (message_id always set). A 2xx answer without
 * message_id is ERR_UPSTREAM with META_ERR_AMBIGUOUS (it may have been sent). Other errors as
 * meta_graph_call() and the header comment. */
MUST_USE enum err meta_send_message(struct meta_graph *g, struct arena *a,
                                    const struct meta_send_account *acct, const char *recipient_id,
                                    struct meta_send_kind kind, const struct meta_message *m,
                                    struct meta_send_result *out, struct meta_graph_error *gerr);

/* POST /{page_id}/messages with recipient and sender_action only. */
MUST_USE enum err meta_send_action(struct meta_graph *g, const struct meta_send_account *acct,
                                   const char *recipient_id, enum meta_sender_action action,
                                   struct meta_graph_error *gerr);

/* POST /{page_id}/messages with recipient.comment_id: the one private message Meta allows per
 * comment, within 7 days of it (a second is refused, code 10900; too late, 10903). It does not
 * open the 24-h window. Text (with quick replies, metadata) only: attachments are refused. */
MUST_USE enum err meta_private_reply(struct meta_graph *g, struct arena *a,
                                     const struct meta_send_account *acct, const char *comment_id,
                                     const struct meta_message *m, struct meta_send_result *out,
                                     struct meta_graph_error *gerr);

/* A public reply under a comment: POST /{comment_id}/replies (Instagram) or
 * /{comment_id}/comments (Facebook) with message=text (1..META_COMMENT_MAX_CHARS characters).
 * *new_id (in the arena) is the new comment's id. */
MUST_USE enum err meta_comment_reply(struct meta_graph *g, struct arena *a,
                                     const struct meta_send_account *acct, const char *comment_id,
                                     const char *text, const char **new_id,
                                     struct meta_graph_error *gerr);

/* Hides (is_hidden false: unhides) a comment: POST /{comment_id} with hide=true|false
 * (Instagram) or is_hidden=true|false (Facebook). ERR_OK only on {"success":true}. */
MUST_USE enum err meta_comment_hide(struct meta_graph *g, const struct meta_send_account *acct,
                                    const char *comment_id, bool is_hidden,
                                    struct meta_graph_error *gerr);

#endif
