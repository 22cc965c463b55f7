/*
 * emulator/emu_publish.h - shared by the three files of Instagram publishing: publish.c
 * (POST /{ig-user-id}/media: containers), publish_live.c (media_publish, the quota,
 * content_publishing_limit) and ig_media.c (reading containers and posts). Nothing else
 * includes it.
 *
 * Every function here expects e->mu held on entry, as emu_begin() leaves it, except
 * emu_pub_reply(). Those that "answer" release mu (emu_end) before replying.
 */
#ifndef SB_EMULATOR_EMU_PUBLISH_H
#define SB_EMULATOR_EMU_PUBLISH_H

#include "emulator/emu_int.h"

/* The permissions Meta lists for each side (meta-platform.md §4.6). */
#define EMU_PUB_SCOPES_READ    "instagram_basic"
#define EMU_PUB_SCOPES_PUBLISH "instagram_basic,instagram_content_publish"

/* An Instagram publishing error (§5.5): Meta's error object with error_user_title and
 * error_user_msg; user_msg NULL = the same as message. */
struct emu_pub_err {
    int code, subcode;
    const char *title, *message, *user_msg;
};

/* Answers 400 with the error; text, when not NULL, replaces both message and user message
 * (for the ones that name a URL, a ratio, a length). mu must NOT be held. */
void emu_pub_reply(struct http_req *r, const struct emu_pub_err *ie, const char *text);
/* emu_end(), then emu_pub_reply(). */
void emu_pub_fail(struct emu_call *c, const struct emu_pub_err *ie, const char *text);
/* Meta's 100/33 GraphMethodException "Unsupported get request. Object with ID ... does not
 * exist, cannot be loaded due to missing permissions, or does not support this operation". */
void emu_pub_unsupported(struct emu_call *c, const char *id);

/* Whether the caller's token may act on the Instagram account of `page` (-1: no such account,
 * id is what the path named): a Page token of that Page, or a user token of the Page's owner
 * (Meta takes either), granted every scope in the comma list `scopes`. Otherwise answers
 * (100/33, or 10 for a missing permission) and returns false. */
bool emu_pub_may_access(struct emu_call *c, int page, const char *id, const char *scopes);
/* The Page whose Instagram account is the {id} of the path, after emu_pub_may_access();
 * -1 once answered. */
int emu_pub_ig_page(struct emu_call *c, const char *scopes);

/* Moves a container along with emulator time: IN_PROGRESS becomes FINISHED at ready_ms, and
 * one not published 24 h after it was made becomes EXPIRED (§5.1). */
void emu_pub_tick(struct emu_container *k, int64_t now_ms);
/* The container `id` of `page`, ticked, if it is FINISHED; otherwise answers with the error
 * media_publish gives for its state (unknown 24/2207006, IN_PROGRESS 9007/2207027, EXPIRED
 * -2/2207020, ERROR -1/2207032, PUBLISHED 100) and returns NULL. */
struct emu_container *emu_pub_ready_container(struct emu_call *c, int page, const char *id);

/* GET /{ig-user-id}/media: the account's posts, newest first, cursor-paged. Answers. */
void emu_pub_list_media(struct emu_call *c);
/* The fields parameter, parsed, every name checked against `known` (NULL-terminated):
 * *out is NULL when there is none, else owned by the request's arena. An unknown field or
 * bad syntax answers 100 and returns false. */
bool emu_pub_fields(struct emu_call *c, const char *const *known, const char *node_type,
                    json_t **out);
/* Ties v to the arena: decref'd when the request ends. */
void emu_pub_arena_json(struct arena *a, json_t *v);

#endif
