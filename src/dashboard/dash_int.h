/*
 * dashboard/dash_int.h - shared by the dashboard's own files.
 */
#ifndef SB_DASHBOARD_DASH_INT_H
#define SB_DASHBOARD_DASH_INT_H

#include <jansson.h>
#include <pthread.h>

#include "dashboard/dashboard.h"
#include "meta/graph.h"
#include "meta/vault.h"

#define DASH_POOL_MAX 16

struct content_media;

struct dashboard {
    const struct config *cfg;
    const struct store_opts *so;
    pthread_mutex_t lock;
    struct store *free_stores[DASH_POOL_MAX]; /* idle handles */
    int n_free;
    struct meta_graph *graph; /* NULL when no Meta app is configured */
    struct meta_vault *vault;
    char dummy_hash[160];    /* verified against when an email is unknown: same cost either way */
    struct queue *queue;     /* human replies' send jobs */
    struct gateway *gateway; /* /ws (gateway.c); NULL until dashboard_start_live() */
    struct content_media *media; /* uploads and previews (posts_api.c) */
};

/* A store handle for this request (returned to the pool when the request's arena dies). NULL
 * after answering 503 when the database cannot be opened. */
struct store *dash_store(struct dashboard *d, struct http_req *r);
/* Hex SHA-256 of s, in the arena. */
char *dash_hash_hex(struct arena *a, const char *s);
/* 32 random bytes as base64url, in the arena. */
char *dash_random_token(struct arena *a);
/* The value of one cookie of the request, or NULL. */
const char *dash_cookie(struct http_req *r, const char *name);

http_handler_fn dash_h_login, dash_h_logout, dash_h_me, dash_h_no_api;
http_handler_fn dash_h_oauth_start, dash_h_oauth_callback, dash_h_oauth_finish; /* oauth.c */
http_handler_fn dash_h_accounts;                                                /* accounts_api.c */
http_handler_fn dash_h_account_delete;
http_handler_fn dash_h_ws; /* gateway.c */
http_handler_fn dash_h_conversations, dash_h_conversation,
    dash_h_messages; /* conversations_api.c */
http_handler_fn dash_h_takeover, dash_h_handback, dash_h_reply, dash_h_read;
http_handler_fn dash_h_settings_get, dash_h_settings_put; /* settings_api.c */
http_handler_fn dash_h_kb_list, dash_h_kb_add, dash_h_kb_search, dash_h_kb_delete; /* kb_api.c */
http_handler_fn dash_h_audit;                                                      /* kb_api.c */
http_handler_fn dash_h_posts, dash_h_post, dash_h_post_create, dash_h_post_cancel,
    dash_h_post_schedule, dash_h_upload, dash_h_preview, dash_h_generate,
    dash_h_template; /* posts_api.c */
/* The largest upload body: an image of CONTENT_INPUT_MAX_BYTES and its multipart framing. */
#define DASH_UPLOAD_MAX_BODY ((size_t)50 * 1024 * 1024 + 64 * 1024)
http_handler_fn dash_h_page, dash_h_asset;                                         /* web.c */

/* dashboard_require_session() for a request that will outlive its checks (the WebSocket
 * upgrade): the store handle goes back to the pool at once; out->store is NULL. */
bool dash_require_session_brief(struct dashboard *d, struct http_req *r,
                                struct dashboard_session *out);
/* {"error":{"code":code,"message":message}} with status. */
void dash_reply_status(struct http_req *r, int status, const char *code, const char *message);
/* Records what an operator did (a failure is logged, never fatal). detail: JSON or NULL. */
void dash_audit(struct store *s, int64_t operator_id, const char *action, const char *target,
                json_t *detail);
/* false (after answering 403) unless the operator is an admin. */
bool dash_require_admin(struct http_req *r, const struct dashboard_session *ss);
/* The bus's newest id: REST answers carry it as event_id, read before their queries, so the
 * page resumes /ws from there with no gap. */
int64_t dash_event_id(struct store *s);

/* views.c: the page's JSON for rows (new references). */
json_t *dash_window_json(int64_t last_customer_at, int64_t now_ms);
json_t *dash_message_json(const struct store_message *m);
json_t *dash_conversation_json(struct store *s, struct arena *a,
                               const struct store_conversation *cv, int64_t now_ms);
json_t *dash_account_json(struct arena *a, const struct store_account *acct, int64_t now_ms);
/* posts_api.c: a post with its images' URLs and its account's quota; an account's quota
 * (Meta's last reading and our own count of the last 24 hours), null when unknown. */
struct store_post;
json_t *dash_post_json(struct store *s, const struct store_post *p, int64_t now_ms);
json_t *dash_quota_json(struct store *s, int64_t account_id, int64_t now_ms);

/* gateway.c */
MUST_USE enum err dash_gateway_start(struct dashboard *d);
void dash_gateway_stop(struct dashboard *d);
int dash_gateway_clients(const struct dashboard *d);

#endif
