/*
 * emulator/comments.c - comments on the account's posts (meta-platform.md §6):
 * GET/POST /{ver}/{media-id}/comments, GET/POST /{ver}/{comment-id}/replies (and the Page
 * form, /{comment-id}/comments), and the comment node: read, hide, delete.
 *
 * Owns: how a comment looks through Graph (Instagram's id/text/timestamp/username vocabulary,
 * the Page's message/created_time/is_hidden), the business's own comments and replies.
 * Does not own: customers' comments (control.c writes them), private replies (send.c).
 * Replies hang off a top-level comment, as on Instagram: a reply to a reply joins its parent.
 * No webhook is sent for the business's own comments.
 */
#include "emulator/emu_send.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COMMENT_MAX_CHARS      2200
#define COMMENTS_DEFAULT_LIMIT 25

static const char *const comment_fields[] = {
    "id",        "text",          "timestamp",     "username",  "from",
    "parent_id", "like_count",    "hidden",        "media",     "replies",
    "user",      "message",       "created_time",  "is_hidden", "can_reply_privately",
    "parent",    "comment_count", "permalink_url", NULL};

static bool is_ig(const struct emu_comment *cm)
{
    return cm->ch == EMU_INSTAGRAM;
}

static json_t *author_json(const struct emulator *e, const struct emu_comment *cm)
{
    const struct emu_page *p = &e->pages[cm->page];
    const struct emu_customer *cu = cm->customer >= 0 ? &e->customers[cm->customer] : NULL;
    if (is_ig(cm))
        return json_pack("{s:s, s:s}", "id", cu ? cu->igsid : p->ig_id, "username",
                         cu ? cu->ig_username : p->ig_username);
    return json_pack("{s:s, s:s}", "name", cu ? cu->name : p->name, "id",
                     cu ? cu->psid[cm->page] : p->id);
}

static size_t count_replies(const struct emulator *e, const char *id)
{
    size_t n = 0;
    for (size_t i = 0; i < e->n_comments; i++)
        n += strcmp(e->comments[i].parent_id, id) == 0;
    return n;
}

static json_t *comment_json(struct emu_call *c, size_t k, json_t *f);

static json_t *replies_json(struct emu_call *c, const char *id, json_t *f)
{
    if (!json_is_object(f) || (json_object_size(f) == 1 && json_object_get(f, "__limit")))
        f = NULL; /* replies, replies.limit(n): the default fields */
    json_t *data = json_array();
    for (size_t i = 0; i < c->e->n_comments; i++)
        if (strcmp(c->e->comments[i].parent_id, id) == 0)
            json_array_append_new(data, comment_json(c, i, f));
    return json_pack("{s:o}", "data", data);
}

/* The Instagram vocabulary (text, timestamp, username, hidden). */
static void ig_comment(struct emu_call *c, json_t *o, const struct emu_comment *cm, json_t *f,
                       const char *when)
{
    const struct emulator *e = c->e;
    if (emu_field_wanted(f, "text", true))
        json_object_set_new(o, "text", json_string(cm->text));
    if (emu_field_wanted(f, "timestamp", true))
        json_object_set_new(o, "timestamp", json_string(when));
    if (emu_field_wanted(f, "username", false))
        json_object_set_new(o, "username",
                            json_string(cm->customer >= 0 ? e->customers[cm->customer].ig_username
                                                          : e->pages[cm->page].ig_username));
    if (emu_field_wanted(f, "hidden", false))
        json_object_set_new(o, "hidden", json_boolean(cm->hidden));
    if (emu_field_wanted(f, "parent_id", false) && cm->parent_id[0])
        json_object_set_new(o, "parent_id", json_string(cm->parent_id));
}

/* The Page vocabulary (message, created_time, is_hidden). */
static void page_comment(struct emu_call *c, json_t *o, const struct emu_comment *cm, json_t *f,
                         const char *when)
{
    if (emu_field_wanted(f, "message", true))
        json_object_set_new(o, "message", json_string(cm->text));
    if (emu_field_wanted(f, "created_time", true))
        json_object_set_new(o, "created_time", json_string(when));
    if (emu_field_wanted(f, "is_hidden", false))
        json_object_set_new(o, "is_hidden", json_boolean(cm->hidden));
    if (emu_field_wanted(f, "can_reply_privately", false))
        json_object_set_new(o, "can_reply_privately",
                            json_boolean(cm->customer >= 0 && !cm->private_replied &&
                                         c->now_ms - cm->ts_ms <= 7 * EMU_DAY_MS));
    if (emu_field_wanted(f, "parent", false) && cm->parent_id[0])
        json_object_set_new(o, "parent", json_pack("{s:s}", "id", cm->parent_id));
    if (emu_field_wanted(f, "comment_count", false))
        json_object_set_new(o, "comment_count",
                            json_integer((json_int_t)count_replies(c->e, cm->id)));
}

static json_t *comment_json(struct emu_call *c, size_t k, json_t *f)
{
    const struct emu_comment *cm = &c->e->comments[k];
    json_t *o = json_pack("{s:s}", "id", cm->id);
    char when[32];
    emu_time_format(cm->ts_ms, when);
    if (is_ig(cm))
        ig_comment(c, o, cm, f, when);
    else
        page_comment(c, o, cm, f, when);
    if (emu_field_wanted(f, "from", is_ig(cm) ? false : true))
        json_object_set_new(o, "from", author_json(c->e, cm));
    if (emu_field_wanted(f, "like_count", false))
        json_object_set_new(o, "like_count", json_integer(0));
    if (emu_field_wanted(f, "media", false))
        json_object_set_new(o, "media", json_pack("{s:s}", "id", cm->media_id));
    if (emu_field_wanted(f, "replies", false) && !cm->parent_id[0])
        json_object_set_new(o, "replies", replies_json(c, cm->id, json_object_get(f, "replies")));
    return o;
}

/* ---- writing ---- */

static bool fail_perm(struct emu_call *c)
{
    emu_fail(c, 400, 200, 0, "(#200) Permissions error");
    return false;
}

/* "true"/"false" (query or form) or a JSON boolean: 1 or 0; -1 absent; -2 malformed. */
static int bool_param(const struct emu_call *c, const char *name)
{
    const json_t *v = json_object_get(c->params, name);
    const char *s = json_string_value(v);
    if (!v)
        return -1;
    if (json_is_boolean(v))
        return json_is_true(v);
    if (s && (strcmp(s, "true") == 0 || strcmp(s, "false") == 0))
        return s[0] == 't';
    return -2;
}

/* POST /{comment-id}?hide=true|false (Instagram) or ?is_hidden= (Page). */
static void hide_comment(struct emu_call *c, size_t k)
{
    struct emu_comment *cm = &c->e->comments[k];
    const char *name = is_ig(cm) ? "hide" : "is_hidden";
    int v = bool_param(c, name);
    if (v < 0) {
        emu_fail(c, 400, 100, 0,
                 arena_printf(c->a, "(#100) Param %s must be a boolean (true or false)", name));
        return;
    }
    cm->hidden = v == 1;
    emu_end(c);
    emu_reply(c, 200, json_pack("{s:b}", "success", 1));
}

/* DELETE /{comment-id}: the comment and its replies. */
static void delete_comment(struct emu_call *c, size_t k)
{
    struct emulator *e = c->e;
    char id[EMU_ID_LEN];
    memcpy(id, e->comments[k].id, sizeof id);
    for (size_t i = e->n_comments; i-- > 0;) {
        struct emu_comment *cm = &e->comments[i];
        if (strcmp(cm->id, id) != 0 && strcmp(cm->parent_id, id) != 0)
            continue;
        free(cm->text);
        memmove(cm, cm + 1, (e->n_comments - i - 1) * sizeof *cm);
        e->n_comments--;
    }
    emu_end(c);
    emu_reply(c, 200, json_pack("{s:b}", "success", 1));
}

bool emu_comment_node(struct emu_call *c, const char *id, json_t *f)
{
    int64_t k = emu_comment_by_id(c->e, id);
    if (k < 0)
        return false;
    if (!emu_may_act(c, c->e->comments[k].page)) {
        fail_perm(c);
        return true;
    }
    enum http_method m = http_req_method(c->req);
    if (m == HTTP_POST) {
        hide_comment(c, (size_t)k);
    } else if (m == HTTP_DELETE) {
        delete_comment(c, (size_t)k);
    } else if (emu_fields_check(c, f, comment_fields, "IGComment")) {
        json_t *body = comment_json(c, (size_t)k, f);
        emu_end(c);
        emu_reply(c, 200, body);
    }
    return true;
}

/* The business writes a comment (parent NULL: on the media) and answers {"id"}. */
static void create_comment(struct emu_call *c, int page, enum emu_channel ch, const char *media_id,
                           const char *parent_id)
{
    const char *text = emu_param(c, "message");
    if (!text || !*text) {
        emu_fail(c, 400, 100, 0, "(#100) The parameter message is required");
        return;
    }
    if (emu_utf8_len(text) > COMMENT_MAX_CHARS) {
        emu_fail(c, 400, 100, 0, "(#100) Param message must be at most 2200 characters long");
        return;
    }
    size_t k = emu_comment_add(c->e, page, ch, media_id, parent_id, -1, text);
    emu_take_answer_fault(c);
    json_t *body = json_pack("{s:s}", "id", c->e->comments[k].id);
    emu_end(c);
    emu_reply(c, 200, body);
}

/* GET: the comments of a media (parent "") or the replies of a comment, oldest first. */
static void list_comments(struct emu_call *c, const char *media_id, const char *parent_id)
{
    json_t *f;
    if (!emu_fields_get(c, &f) || !emu_fields_check(c, f, comment_fields, "IGComment"))
        return;
    const struct emulator *e = c->e;
    size_t *idx = arena_alloc(c->a, (e->n_comments + 1) * sizeof *idx);
    size_t n = 0;
    for (size_t i = 0; i < e->n_comments; i++) {
        const struct emu_comment *cm = &e->comments[i];
        if (strcmp(cm->parent_id, parent_id) == 0 &&
            (!media_id || strcmp(cm->media_id, media_id) == 0))
            idx[n++] = i;
    }
    size_t start, count;
    json_t *paging;
    if (!emu_paging(c, n, COMMENTS_DEFAULT_LIMIT, &start, &count, &paging))
        return;
    json_t *data = json_array();
    for (size_t i = 0; i < count; i++)
        json_array_append_new(data, comment_json(c, idx[start + i], f));
    json_t *body = json_pack("{s:o}", "data", data);
    if (paging)
        json_object_set_new(body, "paging", paging);
    emu_end(c);
    emu_reply(c, 200, body);
}

/* /{comment-id}/replies, and the Page form /{comment-id}/comments. */
static void replies(struct emu_call *c, size_t k)
{
    const struct emu_comment *cm = &c->e->comments[k];
    /* a reply to a reply joins the top-level comment */
    int64_t top = cm->parent_id[0] ? emu_comment_by_id(c->e, cm->parent_id) : (int64_t)k;
    if (top < 0)
        top = (int64_t)k;
    cm = &c->e->comments[top];
    if (!emu_may_act(c, cm->page)) {
        fail_perm(c);
        return;
    }
    char id[EMU_ID_LEN], media[EMU_ID_LEN];
    memcpy(id, cm->id, sizeof id);
    memcpy(media, cm->media_id, sizeof media);
    if (http_req_method(c->req) == HTTP_POST)
        create_comment(c, cm->page, cm->ch, media, id);
    else
        list_comments(c, NULL, id);
}

void emu_h_comments(struct http_req *r, void *ctx)
{
    struct emu_call c;
    if (!emu_begin(&c, ctx, r, EMU_TOK_USER | EMU_TOK_PAGEK))
        return;
    const char *id = http_req_param(r, "id");
    int64_t k = emu_comment_by_id(c.e, id);
    if (k >= 0) {
        replies(&c, (size_t)k);
        return;
    }
    int64_t m = emu_media_by_id(c.e, id);
    if (m < 0) {
        emu_fail_unsupported(&c, id);
        return;
    }
    int page = c.e->media[m].page;
    if (!emu_may_act(&c, page)) {
        fail_perm(&c);
        return;
    }
    if (http_req_method(r) == HTTP_POST)
        create_comment(&c, page, EMU_INSTAGRAM, id, NULL);
    else
        list_comments(&c, id, "");
}

void emu_h_replies(struct http_req *r, void *ctx)
{
    struct emu_call c;
    if (!emu_begin(&c, ctx, r, EMU_TOK_USER | EMU_TOK_PAGEK))
        return;
    const char *id = http_req_param(r, "id");
    int64_t k = emu_comment_by_id(c.e, id);
    if (k < 0) {
        emu_fail_unsupported(&c, id);
        return;
    }
    replies(&c, (size_t)k);
}
