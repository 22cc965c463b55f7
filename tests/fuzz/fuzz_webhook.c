/*
 * tests/fuzz/fuzz_webhook.c - meta_parse_delivery() on arbitrary bytes, as the ingest path
 * sees a raw webhook body.
 *
 * Properties: never crashes, leaks or reads out of bounds (the body is not NUL-terminated);
 * every event it returns has its always-present fields set and every string it points to is
 * readable until the arena dies; at most META_MAX_EVENTS events; an error (ERR_INVALID or
 * ERR_TOO_LARGE) comes with a reason and no events. The same bytes go through the
 * json_validate() / jansson differential (fuzzutil.h), because ingest checks bodies with the
 * validator and the worker parses them with jansson.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "fuzzutil.h"
#include "meta/meta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t sink;

/* Reads a string the parser handed out, so ASan checks it is live and terminated. */
static void touch(const char *s)
{
    if (s)
        sink += strlen(s);
}

static void require(bool cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_webhook: %s\n", what);
        abort();
    }
}

static void check_event(const struct meta_event *e)
{
    require((unsigned)e->kind <= META_EV_UNKNOWN, "event kind out of range");
    require(e->object && e->channel && e->entry_id && e->key, "event without object/key");
    const char *strs[] = {
        e->object,
        e->channel,
        e->entry_id,
        e->field,
        e->sender_id,
        e->recipient_id,
        e->mid,
        e->text,
        e->app_id,
        e->metadata,
        e->reaction,
        e->emoji,
        e->reply_to_mid,
        e->reply_to_story_id,
        e->reply_to_story_url,
        e->quick_reply_payload,
        e->postback_title,
        e->postback_payload,
        e->comment_id,
        e->media_id,
        e->parent_id,
        e->from_id,
        e->from_username,
        e->verb,
        e->key,
        e->raw_json,
        meta_event_kind_name(e->kind),
    };
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        touch(strs[i]);
    for (size_t i = 0; i < e->n_attachments; i++) {
        touch(e->attachments[i].type);
        touch(e->attachments[i].url);
        touch(e->attachments[i].title);
        touch(e->attachments[i].id);
    }
    const struct meta_referral *r = e->referral;
    if (r) {
        const char *rs[] = {r->ref,      r->source,    r->type,   r->ad_id,
                            r->ad_title, r->photo_url, r->post_id};
        for (size_t i = 0; i < sizeof rs / sizeof rs[0]; i++)
            touch(rs[i]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena a;
    arena_init(&a);
    struct meta_delivery d;
    const char *reason = NULL;
    enum err rc = meta_parse_delivery(&a, (const char *)data, size, &d, &reason);
    if (rc == ERR_OK) {
        require(d.object != NULL, "delivery without object");
        require(d.n_events <= META_MAX_EVENTS, "more than META_MAX_EVENTS events");
        require(d.n_events == 0 || d.events != NULL, "events missing");
        for (size_t i = 0; i < d.n_events; i++)
            check_event(&d.events[i]);
    } else {
        require(rc == ERR_INVALID || rc == ERR_TOO_LARGE, "unexpected error code");
        require(reason != NULL, "error without a reason");
        require(d.n_events == 0, "events returned with an error");
    }
    arena_release(&a);
    (void)fuzz_check_json_differential(data, size);
    return 0;
}
