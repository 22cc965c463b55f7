/*
 * meta/meta.h - Meta's side of the wire: webhook signatures, webhook deliveries parsed into
 * typed events, and the ingest routes that queue deliveries durably.
 *
 * Owns: X-Hub-Signature-256, the delivery parser (object=page and object=instagram,
 * messaging, standby and changes), the webhook HTTP handlers.
 * Does not own: HTTP serving (http/), storage (store/), deciding replies (agent/, inbox/).
 * Memory: parsed events live in the caller's arena.
 */
#ifndef SB_META_META_H
#define SB_META_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/mem.h"
#include "http/http.h"

struct queue;

/* ---- signatures ---- */

#define META_SIGNATURE_LEN 32

/* Parses "sha256=<64 hex digits>" (hex in either case). ERR_AUTH when missing or malformed. */
MUST_USE enum err meta_parse_signature_header(const char *value, size_t len,
                                              unsigned char out[META_SIGNATURE_LEN]);
/* HMAC-SHA256(app_secret, body) compared in constant time with the header's digest.
 * ERR_AUTH on any mismatch. mac_out (may be NULL) receives the computed digest. */
MUST_USE enum err meta_verify_signature(const char *app_secret, const void *body, size_t len,
                                        const char *header,
                                        unsigned char mac_out[META_SIGNATURE_LEN]);
/* The same check with the key prepared once (crypto_hmac_new): the hot path's form. A NULL
 * key (no app secret configured) refuses everything. */
struct crypto_hmac;
MUST_USE enum err meta_verify_signature_keyed(const struct crypto_hmac *key, const void *body,
                                              size_t len, const char *header,
                                              unsigned char mac_out[META_SIGNATURE_LEN]);

/* ---- typed events ---- */

enum meta_event_kind {
    META_EV_MESSAGE,         /* a customer's message (text and/or attachments) */
    META_EV_ECHO,            /* the business's own message, sent from any app */
    META_EV_MESSAGE_DELETED, /* is_deleted: an update of an earlier message */
    META_EV_MESSAGE_EDIT,
    META_EV_REACTION,
    META_EV_READ,
    META_EV_DELIVERY,
    META_EV_POSTBACK,
    META_EV_REFERRAL,
    META_EV_OPTIN,
    META_EV_HANDOVER,
    META_EV_POLICY,
    META_EV_COMMENT,
    META_EV_LIVE_COMMENT,
    META_EV_MENTION,
    META_EV_FEED,
    META_EV_STORY_INSIGHTS,
    META_EV_UNKNOWN,
};

struct meta_attachment {
    const char *type;  /* image, video, audio, file, share, ig_reel, story_mention, ... */
    const char *url;   /* may be NULL (like_heart, ephemeral, fallback without payload) */
    const char *title; /* reels and fallbacks */
    const char *id;    /* sticker_id, reel_video_id or attachment id when present */
};

struct meta_referral {
    const char *ref, *source, *type, *ad_id, *ad_title, *photo_url, *post_id;
};

struct meta_event {
    enum meta_event_kind kind;
    const char *object;   /* "page", "instagram", or as sent ("" when absent) */
    const char *channel;  /* "messaging", "standby" or "changes" */
    const char *entry_id; /* Page or IG account id ("0" in dashboard tests) */
    const char *field;    /* changes: the field name */
    const char *sender_id, *recipient_id;
    int64_t ts_ms; /* the event's own time, in ms (seconds are converted); 0 if absent */
    const char *mid;
    const char *text;
    struct meta_attachment *attachments;
    size_t n_attachments;
    const char *quick_reply_payload;
    const char *reply_to_mid, *reply_to_story_id, *reply_to_story_url;
    bool is_echo, is_self, is_unsupported;
    const char *app_id, *metadata; /* echoes */
    const char *reaction, *emoji;  /* reactions */
    bool is_unreact;
    const char *postback_title, *postback_payload;
    int64_t watermark_ms; /* read (Messenger) and delivery */
    int64_t num_edit;
    struct meta_referral *referral; /* standalone, or inside a message or postback */
    const char *comment_id, *media_id, *parent_id, *from_id, *from_username, *verb;
    const char *key;      /* dedupe key within (object, entry_id) */
    const char *raw_json; /* this event's JSON, compact with sorted keys */
};

struct meta_delivery {
    const char *object;
    struct meta_event *events;
    size_t n_events;
};

#define META_MAX_EVENTS 5000

/* Parses a delivery's raw body. ERR_INVALID with *reason (static text) when it is not JSON,
 * not an object, or has no entry array; ERR_TOO_LARGE past META_MAX_EVENTS events (no events
 * are returned then). An empty entry array is a delivery with zero events. Unknown event
 * shapes become META_EV_UNKNOWN events, never errors. */
MUST_USE enum err meta_parse_delivery(struct arena *a, const char *body, size_t len,
                                      struct meta_delivery *out, const char **reason);
const char *meta_event_kind_name(enum meta_event_kind k);

/* ---- ingest: GET/POST /webhooks/meta ---- */

struct meta_ingest_opts {
    const char *app_secret;   /* empty: every POST is rejected (403) */
    const char *verify_token; /* empty: every verification is rejected (403) */
    struct queue *queue;
};

struct meta_ingest;

/* Caller owns *out; free with meta_ingest_free() after the HTTP server has stopped. */
MUST_USE enum err meta_ingest_new(const struct meta_ingest_opts *o, struct meta_ingest **out);
void meta_ingest_free(struct meta_ingest *in);
/* Route handlers; ctx is the struct meta_ingest. */
http_handler_fn meta_webhook_verify;
http_handler_fn meta_webhook_receive;

/* The job kind webhook deliveries are queued under. */
#define META_JOB_WEBHOOK "webhook"

#endif
