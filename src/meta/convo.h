/*
 * meta/convo.h - the Conversations API client (meta-platform.md section 7): a Page's recent
 * conversations on Messenger or Instagram, each with its newest messages, as Meta has them.
 *
 * Owns: the request (GET /{page-id}/conversations?platform=messenger|instagram&fields=
 * id,updated_time,participants,messages.limit(20){id,created_time,from,message,attachments}
 * &limit=N [&user_id=PSID|IGSID]) and the parser of its answer (Meta's time format, who wrote
 * each message, attachments as type + url).
 * Does not own: deciding what is missing or answering it (inbox/gapfill.c), the send
 * reconciliation (inbox/sender.c).
 * Limits Meta sets: 2 calls a second per account; only the 20 newest messages of a
 * conversation can be read; no time-based paging; one page of conversations is read here.
 * Threads: any. Memory: results in the caller's arena. Logs nothing of message text.
 */
#ifndef SB_META_CONVO_H
#define SB_META_CONVO_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/mem.h"
#include "meta/graph.h"
#include "store/store.h"

#define META_CONVO_MAX_MSGS  20 /* Meta shows details of a conversation's 20 newest only */
#define META_CONVO_MAX_CONVS 50 /* ours: conversations asked for in one call at most */

struct meta_convo_attachment {
    const char *type; /* "image", "video", "audio", "file" (from the mime type or the name) */
    const char *url;  /* NULL when Meta gives none */
};

struct meta_convo_msg {
    const char *id;      /* the mid, as the webhook's */
    int64_t created_ms;  /* created_time; 0 when absent or unreadable */
    const char *from_id; /* PSID / IGSID, or the business's own id */
    bool is_business;    /* from_id is the business (Page id or Instagram account id) */
    const char *text;    /* "message"; NULL when empty */
    struct meta_convo_attachment *attachments;
    size_t n_attachments;
};

struct meta_convo {
    const char *id;
    int64_t updated_ms;
    const char *customer_id;     /* the participant that is not the business; NULL when unknown */
    struct meta_convo_msg *msgs; /* newest first, as Meta lists them */
    size_t n_msgs;
};

struct meta_convo_account {
    enum store_platform platform; /* which platform= to ask for */
    const char *page_id;          /* the Page the call is made on */
    const char *business_id;      /* Messenger: the Page id; Instagram: the account's id */
    const char *page_token;       /* borrowed, opened for this call */
};

/* Meta's timestamps, "2026-09-01T10:00:00+0000" (or +hh:mm, or Z; a fraction of a second,
 * as in JavaScript's toISOString(), is dropped) -> Unix ms; ERR_INVALID when not that shape. */
MUST_USE enum err meta_parse_graph_time(const char *s, int64_t *ms);

/* The data[] of a conversations answer, each conversation's messages (at most
 * META_CONVO_MAX_MSGS, items without an id skipped) and its customer (the participant or the
 * sender that is not business_id). ERR_INVALID without a data array. In the arena. */
MUST_USE enum err meta_parse_conversations(struct arena *a, const json_t *body,
                                           const char *business_id, struct meta_convo **out,
                                           size_t *n);

/* One page of the account's conversations, newest activity first: max of them (1 ..
 * META_CONVO_MAX_CONVS), only the customer's when user_id is set. Errors as meta_graph_call();
 * ERR_INVALID before anything is sent for a bad account or max. */
MUST_USE enum err meta_list_conversations(struct meta_graph *g, struct arena *a,
                                          const struct meta_convo_account *acct,
                                          const char *user_id, size_t max, struct meta_convo **out,
                                          size_t *n, struct meta_graph_error *gerr);

#endif
