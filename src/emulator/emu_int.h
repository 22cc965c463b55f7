/*
 * emulator/emu_int.h - shared by the emulator's own files; nothing outside includes it.
 *
 * The world: one app, its users (an admin who owns the Pages), Pages (one linked to an
 * Instagram professional account), customers with Page-scoped (PSID) and Instagram-scoped
 * (IGSID) ids, threads and their messages, posts and comments, publishing containers,
 * tokens and OAuth codes, faults, and the webhook outbox.
 *
 * Locking: one mutex, e->mu, guards every field of struct emulator below it. Handlers take
 * it for the time they read or change the world and never across network I/O.
 * Time: every timestamp is emulator time, emu_now_ms(), which tests can move forward.
 */
#ifndef SB_EMULATOR_EMU_INT_H
#define SB_EMULATOR_EMU_INT_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/mem.h"
#include "emulator/emulator.h"
#include "http/http.h"

#define EMU_MAX_USERS     4
#define EMU_MAX_PAGES     4
#define EMU_MAX_CUSTOMERS 10000 /* --customers: the four named ones, then generated ones */
#define EMU_ID_LEN        32
#define EMU_MID_LEN       200
#define EMU_TOKEN_LEN     160

#define EMU_DAY_MS  (24LL * 3600 * 1000)
#define EMU_HOUR_MS (3600LL * 1000)

enum emu_channel { EMU_MESSENGER, EMU_INSTAGRAM };

struct emu_user {
    char asid[EMU_ID_LEN]; /* app-scoped user id */
    char name[64];
    bool has_app;      /* false after deauthorize: every token of the user is dead */
    char granted[512]; /* comma list of granted scopes ("" before the first login) */
};

struct emu_page {
    char id[EMU_ID_LEN];
    char name[64];
    char category[32];
    int owner;              /* user index */
    char ig_id[EMU_ID_LEN]; /* "" when no Instagram account is linked */
    char ig_username[32];
    char ig_name[64];
    char subscribed_fields[512]; /* comma list; "" = app not installed on the Page */
    bool messaging_disabled;     /* IG "Allow access to messages" off: 200/2534041 */
};

struct emu_customer {
    char name[64];
    char ig_username[32];
    char asid[EMU_ID_LEN];
    char psid[EMU_MAX_PAGES][EMU_ID_LEN]; /* scoped to each Page */
    char igsid[EMU_ID_LEN];               /* scoped to the Instagram account of Page 0 */
    bool unavailable;                     /* blocked the business / deactivated: 551/1545041 */
};

/* A conversation between one Page (or its Instagram account) and one customer. */
struct emu_thread {
    char id[EMU_MID_LEN]; /* conversation id: "t_..." (Messenger) or "aWdf..." (Instagram) */
    int page, customer;
    enum emu_channel ch;
    int64_t last_inbound_ms; /* the customer's last message, reaction or postback; 0 none */
    int64_t updated_ms;
};

struct emu_msg {
    char mid[EMU_MID_LEN];
    int thread;   /* index into threads */
    bool inbound; /* customer -> business */
    int64_t ts_ms;
    char *text;            /* heap, may be NULL */
    char *attachment_json; /* heap, one attachment object as JSON, may be NULL */
    char messaging_type[16];
    char tag[32];
    char metadata[4096];
};

struct emu_comment {
    char id[EMU_ID_LEN];
    char media_id[EMU_ID_LEN];
    char parent_id[EMU_ID_LEN]; /* "" for a top-level comment */
    int page;
    enum emu_channel ch;
    int customer; /* -1: written by the business */
    char *text;   /* heap */
    int64_t ts_ms;
    bool private_replied;
    bool hidden;
};

enum emu_container_status {
    EMU_C_IN_PROGRESS,
    EMU_C_FINISHED,
    EMU_C_ERROR,
    EMU_C_EXPIRED,
    EMU_C_PUBLISHED,
};

struct emu_container {
    char id[EMU_ID_LEN];
    int page;
    enum emu_container_status status;
    int64_t created_ms, ready_ms;
    char *caption; /* heap, may be NULL */
    char *image_url;
    unsigned char *jpeg; /* heap: the fetched image */
    size_t jpeg_len;
    int width, height;
    char media_id[EMU_ID_LEN]; /* once published */
    int error_subcode;         /* when status is ERROR */
};

/* A published Instagram post (or one seeded in the world). */
struct emu_media {
    char id[EMU_ID_LEN];
    int page;
    char *caption; /* heap, may be NULL */
    int64_t ts_ms;
    unsigned char *jpeg; /* heap, may be NULL for seeded posts */
    size_t jpeg_len;
    int width, height;
};

enum emu_token_kind { EMU_TOK_USER_SHORT, EMU_TOK_USER_LONG, EMU_TOK_PAGE, EMU_TOK_APP };
#define EMU_TOK_USER  ((1u << EMU_TOK_USER_SHORT) | (1u << EMU_TOK_USER_LONG))
#define EMU_TOK_PAGEK (1u << EMU_TOK_PAGE)
#define EMU_TOK_APPK  (1u << EMU_TOK_APP)
#define EMU_TOK_ANY   (EMU_TOK_USER | EMU_TOK_PAGEK | EMU_TOK_APPK)

struct emu_token {
    char value[EMU_TOKEN_LEN];
    enum emu_token_kind kind;
    int user; /* owner (-1 for the app token) */
    int page; /* for Page tokens */
    int64_t issued_ms;
    int64_t expires_ms; /* 0: never */
    bool revoked;
    char scopes[512];
    /* rate limiting: calls in the current rolling hour, as a ring of minute buckets */
    int64_t bucket_minute[60];
    int bucket_calls[60];
};

struct emu_code {
    char code[64];
    char redirect_uri[512];
    char scopes[512];
    int user;
    int64_t created_ms;
    bool used;
};

enum emu_fault_kind {
    EMU_FAULT_HTTP_500,
    EMU_FAULT_TIMEOUT,
    EMU_FAULT_RATE_LIMIT,
    EMU_FAULT_WINDOW_CLOSED,
    EMU_FAULT_TOKEN_EXPIRED,
    EMU_FAULT_USER_UNAVAILABLE,
    EMU_FAULT_SLOW, /* the call waits delay_ms, then is handled as usual (a slow Meta) */
    /* After the call is carried out (the message stored and its echo queued): */
    EMU_FAULT_SLOW_ANSWER, /* the answer waits delay_ms (0: 2000) */
    EMU_FAULT_LOST_ANSWER, /* the answer is cut off: a 200 whose JSON body is truncated */
    /* Webhooks, not calls (path: a part of the field name, "" any): */
    EMU_FAULT_DROP_WEBHOOK, /* the next N events other than echoes are never delivered */
    EMU_FAULT_DROP_ECHO,    /* the next N echoes are never delivered */
};
#define EMU_FAULT_N_KINDS (EMU_FAULT_DROP_ECHO + 1)

struct emu_fault {
    unsigned methods;   /* HTTP_GET | HTTP_POST ...; 0: any */
    char path_has[128]; /* the request path contains this ("" matches every Graph call) */
    enum emu_fault_kind kind;
    int remaining;
    int code;     /* rate limits: 4, 17, 32, 613 or 80001-80006 (0: 613) */
    int delay_ms; /* timeouts: how long the call hangs before a 504 (0: 15000) */
};

#define EMU_MAX_FAULTS 32

/* One webhook event waiting for delivery or being retried, as Meta batches them. */
struct emu_delivery;

struct emu_delivery_log {
    int64_t id;
    int attempts;
    int last_status; /* 0: connection failed */
    int events;
    bool delivered, dropped;
    int64_t first_ms, last_ms;
};

#define EMU_DELIVERY_LOG 256

struct emulator {
    struct emulator_opts o; /* strings below are owned copies */
    char *app_id, *app_secret, *public_url;
    char *webhook_url, *deauthorize_url, *deletion_url; /* guarded by mu */
    struct http_server *http;
    int port;

    pthread_mutex_t mu;
    int64_t clock_offset_ms;
    uint64_t next_id; /* for new object ids */
    uint64_t seq;     /* for codes, mids, trace ids */

    struct emu_user users[EMU_MAX_USERS];
    int n_users;
    struct emu_page pages[EMU_MAX_PAGES];
    int n_pages;
    struct emu_customer *customers; /* n_customers of them, fixed at the start */
    int n_customers;
    struct emu_thread *threads; /* growable */
    int n_threads;
    size_t cap_threads;
    /* what Graph calls cost the emulator itself (benchmarks subtract it): answered calls and
     * the microseconds from their arrival to their answer */
    uint64_t n_graph_calls, graph_busy_us;
    int n_late_answers;   /* slow answers still waiting in their own thread (atomic) */
    bool is_stopping;     /* late answers go at once (atomic) */

    struct emu_msg *msgs; /* growable, in time order */
    size_t n_msgs, cap_msgs;
    struct emu_comment *comments;
    size_t n_comments, cap_comments;
    struct emu_container *containers;
    size_t n_containers, cap_containers;
    struct emu_media *media; /* newest last */
    size_t n_media, cap_media;
    int64_t *publishes; /* publish times, for the rolling 24 h quota (per Page: media.page) */
    int *publish_page;
    size_t n_publishes, cap_publishes;

    struct emu_token *tokens;
    size_t n_tokens, cap_tokens;
    struct emu_token app_tok; /* "APPID|SECRET": the app token, never stored in tokens */
    struct emu_code *codes;
    size_t n_codes, cap_codes;

    struct emu_fault faults[EMU_MAX_FAULTS];
    int n_faults;

    /* webhook delivery (deliver.c) */
    pthread_t deliver_thread;
    pthread_cond_t deliver_cond;
    bool deliver_stop;
    struct emu_delivery *outbox; /* pending events and retried batches */
    struct emu_delivery_log dlog[EMU_DELIVERY_LOG];
    int64_t n_dlog; /* total ever; dlog is a ring */
};

/* One Graph API call in progress: the parsed parameters and the caller's token. */
struct emu_call {
    struct emulator *e;
    struct http_req *req;
    struct arena *a;
    json_t *params;              /* query, then form or JSON body; freed with the arena */
    json_t *query;               /* the query string alone, for paging URLs */
    const struct emu_token *tok; /* after emu_begin(); points into e->tokens (valid under mu) */
    int tok_index;
    int64_t now_ms;
    struct emu_fault after; /* a slow or lost answer taken by emu_take_answer_fault() */
    bool has_after;
};

/* ---- state.c: the world, ids, time, lookups (call with e->mu held) ---- */
void emu_world_seed(struct emulator *e);
void emu_world_free(struct emulator *e);
int64_t emu_now_ms(const struct emulator *e);
/* A new numeric object id ("179...") into out. */
void emu_new_id(struct emulator *e, char out[EMU_ID_LEN]);
/* Random URL-safe text of n characters (tokens, codes, cursors). */
void emu_random_text(char *out, size_t n);
int emu_page_by_id(const struct emulator *e, const char *id);    /* -1 if none */
int emu_page_by_ig_id(const struct emulator *e, const char *id); /* -1 if none */
/* The customer whose PSID on `page` (Messenger) or IGSID (Instagram) is id; -1 if none. */
int emu_customer_by_scoped_id(const struct emulator *e, int page, enum emu_channel ch,
                              const char *id);
/* The thread between page and customer on ch, created when absent. */
int emu_thread_get(struct emulator *e, int page, int customer, enum emu_channel ch);
int emu_thread_by_id(const struct emulator *e, const char *id); /* -1 if none */
/* Appends a message (text/attachment copied) and returns its index. A Messenger mid is
 * "m_..."; an Instagram one is base64 of ig_dm_item:1:IGMessageID:..., as Meta's are. */
size_t emu_msg_add(struct emulator *e, int thread, bool inbound, const char *text,
                   const char *attachment_json);
int64_t emu_msg_by_mid(const struct emulator *e, const char *mid); /* -1 if none */
size_t emu_comment_add(struct emulator *e, int page, enum emu_channel ch, const char *media_id,
                       const char *parent_id, int customer, const char *text);
int64_t emu_comment_by_id(const struct emulator *e, const char *id);   /* -1 if none */
int64_t emu_media_by_id(const struct emulator *e, const char *id);     /* -1 if none */
int64_t emu_container_by_id(const struct emulator *e, const char *id); /* -1 if none */
/* A new token; returns its index. expires_ms 0 = never. */
size_t emu_token_issue(struct emulator *e, enum emu_token_kind kind, int user, int page,
                       int64_t expires_ms, const char *scopes);
int64_t emu_token_find(const struct emulator *e, const char *value); /* -1 if none */
/* The 24-hour standard window and the 7-day human-agent window, from the customer's last
 * message: true when a send of this kind is allowed now. */
bool emu_window_open(int64_t last_inbound_ms, int64_t now_ms, bool human_agent);
/* Growable arrays: *p has *cap slots of size each; makes room for one more. */
void emu_grow(void **p, size_t *cap, size_t n, size_t size);

/* ---- graph.c: what every Graph call shares ---- */
/* Meta's error object: {"error":{"message","type","code","error_subcode"?,"fbtrace_id"}}.
 * subcode 0 = absent; type NULL = "OAuthException". */
void emu_error(struct http_req *r, int status, int code, int subcode, const char *type,
               const char *message);
/* Starts a Graph call: parses the parameters, applies faults, finds the access token
 * (access_token parameter or "Authorization: Bearer"), checks it is one of `kinds`, alive,
 * and carries a valid appsecret_proof, and counts it against the rate limit (adding the usage
 * headers). On any failure it has answered the request and returns false. On success e->mu is
 * HELD: the handler must call emu_end() before it answers. kinds 0 = no token needed. */
bool emu_begin(struct emu_call *c, struct emulator *e, struct http_req *r, unsigned kinds);
void emu_end(struct emu_call *c);
/* "http_500", "timeout", "rate_limit", "window_closed", "token_expired", "user_unavailable",
 * "slow_answer", "lost_answer", "drop_webhook", "drop_echo" */
bool emu_fault_kind_parse(const char *s, enum emu_fault_kind *out);
const char *emu_fault_kind_name(enum emu_fault_kind k);
/* A handler that has just carried a write out (a message sent, a comment posted) takes the
 * next slow_answer / lost_answer fault matching the request, if any: emu_reply() applies it
 * to a 2xx answer (after mu is released). Call with mu held. */
void emu_take_answer_fault(struct emu_call *c);
/* Whether the next drop_webhook (is_echo false) or drop_echo fault matching field eats this
 * webhook event (consumed here). Call with mu held. */
bool emu_take_drop_fault(struct emulator *e, const char *field, bool is_echo);
/* emu_end() then emu_error(): the usual way a handler gives up. */
void emu_fail(struct emu_call *c, int status, int code, int subcode, const char *message);
/* A string parameter, or NULL. JSON-body values that are not strings are NULL here. */
const char *emu_param(const struct emu_call *c, const char *name);
/* A parameter holding JSON: an object/array in a JSON body, or a string with JSON in a form
 * or query (as Meta accepts recipient={"id":"..."}). NULL if absent or not JSON. Borrowed
 * from c (lives with the request). */
json_t *emu_param_json(struct emu_call *c, const char *name);
/* Parses Graph field expansion "id,name,instagram_business_account{id,username}" into an
 * object mapping each field to null or to its own sub-object. NULL when fields is NULL or
 * malformed. */
json_t *emu_fields_parse(const char *fields);
/* Whether a field was asked for (or no fields parameter was given and def is true). */
bool emu_field_wanted(const json_t *fields, const char *name, bool def);
/* Cursor paging over n items: reads limit/after/before, fills *start, *count and *paging (the
 * "paging" object: cursors, and next/previous URLs built from the request; NULL for an empty
 * list). false on a bad cursor or limit, after emu_fail() (mu released). */
bool emu_paging(struct emu_call *c, size_t n, size_t def_limit, size_t *start, size_t *count,
                json_t **paging);
void emu_reply(struct emu_call *c, int status, json_t *body); /* takes body; after emu_end() */
/* The opaque cursor emu_paging() uses for position index (nested edges build their own). */
void emu_cursor_encode(size_t index, char out[48]);

/* ---- route handlers, one file per concern ---- */
/* emulator.c: any other path, as Meta answers it (code 2500) */
http_handler_fn emu_h_unknown;
/* oauth.c: login dialog, token exchange, debug_token, /me, /me/accounts, subscribed_apps */
http_handler_fn emu_h_dialog, emu_h_dialog_confirm, emu_h_access_token, emu_h_debug_token, emu_h_me,
    emu_h_me_accounts, emu_h_me_permissions, emu_h_subscribed_apps;
/* send.c: the Send API (also /me/messages) */
http_handler_fn emu_h_messages;
/* convo.c: conversations, comments, replies, nodes by id */
http_handler_fn emu_h_conversations, emu_h_comments, emu_h_replies, emu_h_node;
/* publish.c: containers, publishing, quota */
http_handler_fn emu_h_media, emu_h_media_publish, emu_h_publishing_limit;
/* node lookups convo.c's emu_h_node delegates to, when the id is a container or a post */
bool emu_publish_node(struct emu_call *c, const char *id, const json_t *fields);
/* control.c: the emulator's own API (under _emulator) and the simulator page */
http_handler_fn emu_h_control_state, emu_h_control_customer_message, emu_h_control_comment,
    emu_h_control_thread, emu_h_control_faults, emu_h_control_clock, emu_h_control_config,
    emu_h_control_deliveries, emu_h_control_user_action, emu_h_control_media_image, emu_h_simulator,
    emu_h_control_stats,
    emu_h_control_container;

/* ---- deliver.c: webhooks as Meta sends them ---- */
enum err emu_deliver_start(struct emulator *e);
void emu_deliver_stop(struct emulator *e);
/* Queues one event for delivery if the Page has subscribed to `field` (call with mu held).
 * object: "page" or "instagram"; entry_id: the Page or Instagram account id; key: "messaging"
 * or "changes"; ev is stolen. */
void emu_webhook_push(struct emulator *e, const char *object, const char *entry_id, const char *key,
                      const char *field, json_t *ev);
/* signed_request as Meta builds it: base64url(HMAC-SHA256(payload_b64)) "." payload_b64. */
char *emu_signed_request(const struct emulator *e, const char *user_id);

#endif
