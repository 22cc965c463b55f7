/*
 * meta/publish.h - Instagram content publishing on the Graph API (meta-platform.md section 5):
 * containers, their status, media_publish, the post's permalink, the publishing quota.
 *
 * Owns: the paths, parameters and answers of those calls, and their pure parsers.
 * Does not own: when to call them, what a failure means for a post (content/publish.c), the
 * token (meta/vault.h opens it; it is passed in and never kept).
 * Threads: any (each call uses only its arguments). Errors as meta_graph_call().
 * Memory: results live in the caller's arena.
 */
#ifndef SB_META_PUBLISH_H
#define SB_META_PUBLISH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/mem.h"
#include "meta/convo.h"
#include "meta/graph.h"

enum meta_container_status {
    META_CONTAINER_UNKNOWN, /* a status_code this client does not know */
    META_CONTAINER_IN_PROGRESS,
    META_CONTAINER_FINISHED,
    META_CONTAINER_ERROR,   /* processing failed: status says why (a subcode) */
    META_CONTAINER_EXPIRED, /* not published within 24 h */
    META_CONTAINER_PUBLISHED,
};

struct meta_container_state {
    enum meta_container_status code; /* status_code */
    const char *code_text;           /* status_code as Meta sent it */
    const char *words; /* the status field: Meta's words ("Error: Media upload has failed with
                          error code 2207001"); NULL when absent */
};

/* ---- pure parsers (fuzzed: tests/fuzz/fuzz_publish.c) ---- */

/* {"status_code":"FINISHED","status":"...","id":"..."}. ERR_INVALID without a string
 * status_code. Strings in the arena. */
MUST_USE enum err meta_parse_container_status(struct arena *a, const json_t *body,
                                              struct meta_container_state *out);
const char *meta_container_status_name(enum meta_container_status s);
/* {"data":[{"quota_usage":N,"config":{"quota_total":N,"quota_duration":S}}]}. ERR_INVALID
 * without a numeric quota_usage; *total 0 when config is absent. */
MUST_USE enum err meta_parse_publishing_limit(const json_t *body, int64_t *usage, int64_t *total);
/* {"id":"..."} (a string or a number) -> *id in the arena. ERR_INVALID without one. */
MUST_USE enum err meta_parse_created_id(struct arena *a, const json_t *body, const char **id);
/* Meta's timestamps: meta_parse_graph_time() in meta/convo.h. */

/* ---- calls ---- */

struct meta_ig_container_req {
    const char *image_url;     /* an image or a carousel item: a public JPEG URL */
    const char *caption;       /* NULL: none (carousel items take none) */
    bool is_carousel_item;     /* a carousel child */
    const char *const *children; /* a carousel parent: 2..10 container ids; else NULL */
    size_t n_children;
};

/* POST /{ig_id}/media -> the container's id. */
MUST_USE enum err meta_ig_container_create(struct meta_graph *g, struct arena *a, const char *ig_id,
                                           const char *token,
                                           const struct meta_ig_container_req *req,
                                           const char **container_id,
                                           struct meta_graph_error *gerr);
/* GET /{container_id}?fields=status_code,status. */
MUST_USE enum err meta_ig_container_status(struct meta_graph *g, struct arena *a,
                                           const char *container_id, const char *token,
                                           struct meta_container_state *out,
                                           struct meta_graph_error *gerr);
/* POST /{ig_id}/media_publish?creation_id= -> the post's media id. Never call it twice for
 * one container without reading the container's status first (section 5.1). */
MUST_USE enum err meta_ig_media_publish(struct meta_graph *g, struct arena *a, const char *ig_id,
                                        const char *token, const char *container_id,
                                        const char **media_id, struct meta_graph_error *gerr);
/* GET /{media_id}?fields=permalink. */
MUST_USE enum err meta_ig_media_permalink(struct meta_graph *g, struct arena *a,
                                          const char *media_id, const char *token,
                                          const char **permalink, struct meta_graph_error *gerr);
/* GET /{ig_id}/content_publishing_limit?fields=quota_usage,config. */
MUST_USE enum err meta_ig_publishing_limit(struct meta_graph *g, struct arena *a,
                                           const char *ig_id, const char *token, int64_t *usage,
                                           int64_t *total, struct meta_graph_error *gerr);

struct meta_ig_media {
    const char *id, *caption, *permalink; /* caption, permalink NULL when absent */
    int64_t ts_ms;                        /* 0 when absent or unreadable */
};
/* GET /{ig_id}/media?fields=id,caption,permalink,timestamp&limit=N: the newest posts, newest
 * first (at most limit, 1..50). Array in the arena. */
MUST_USE enum err meta_ig_recent_media(struct meta_graph *g, struct arena *a, const char *ig_id,
                                       const char *token, size_t limit, struct meta_ig_media **out,
                                       size_t *n, struct meta_graph_error *gerr);

#endif
