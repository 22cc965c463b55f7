/*
 * emulator/node.c - GET/POST/DELETE /{ver}/{id}: any object by its id, with field expansion.
 *
 * Owns: resolving an id (Page, Instagram account, conversation, message, comment, then
 * containers and media through publish.c), the Page and Instagram-account nodes, and what
 * every node shares: the fields parameter, unknown fields, unknown ids.
 * Does not own: conversations and messages (convo.c), comments (comments.c), containers and
 * media (publish.c).
 */
#include "emulator/emu_send.h"

#include <stdio.h>
#include <string.h>

static const char *const page_fields[] = {"id",
                                          "name",
                                          "category",
                                          "instagram_business_account",
                                          "connected_instagram_account",
                                          "link",
                                          "access_token",
                                          "tasks",
                                          NULL};
static const char *const ig_fields[] = {"id",
                                        "ig_id",
                                        "username",
                                        "name",
                                        "profile_picture_url",
                                        "followers_count",
                                        "follows_count",
                                        "media_count",
                                        "biography",
                                        NULL};

static void json_free(void *p)
{
    json_decref(p);
}

bool emu_fields_get(struct emu_call *c, json_t **out)
{
    const char *s = emu_param(c, "fields");
    *out = NULL;
    if (!s || !*s)
        return true;
    *out = emu_fields_parse(s);
    if (!*out) {
        emu_fail(c, 400, 100, 0,
                 arena_printf(c->a, "(#100) Syntax error in the fields parameter: \"%s\"", s));
        return false;
    }
    arena_on_free(c->a, json_free, *out);
    return true;
}

bool emu_fields_check(struct emu_call *c, json_t *fields, const char *const *known,
                      const char *type)
{
    const char *k;
    json_t *v;
    json_object_foreach(fields, k, v)
    {
        if (emu_in_list(k, known))
            continue;
        emu_fail(c, 400, 100, 0,
                 arena_printf(c->a,
                              "(#100) Tried accessing nonexisting field (%s) on node type (%s)", k,
                              type));
        return false;
    }
    return true;
}

void emu_fail_unsupported(struct emu_call *c, const char *id)
{
    enum http_method m = http_req_method(c->req);
    const char *verb = m == HTTP_POST ? "post" : m == HTTP_DELETE ? "delete" : "get";
    emu_fail(c, 400, 100, 33,
             arena_printf(c->a,
                          "Unsupported %s request. Object with ID '%s' does not exist, cannot be "
                          "loaded due to missing permissions, or does not support this "
                          "operation. Please read the Graph API documentation at "
                          "https://developers.facebook.com/docs/graph-api",
                          verb, id));
}

bool emu_may_act(const struct emu_call *c, int page)
{
    const struct emu_token *t = c->tok;
    if (!t || page < 0)
        return false;
    if (t->kind == EMU_TOK_PAGE)
        return t->page == page;
    return t->kind != EMU_TOK_APP && c->e->pages[page].owner == t->user;
}

/* ---- the Instagram account ---- */

static int media_count(const struct emulator *e, int page)
{
    int n = 0;
    for (size_t i = 0; i < e->n_media; i++)
        n += e->media[i].page == page;
    return n;
}

/* The account as a node (def: the default fields) or inside a Page (only id by default). */
static json_t *ig_json(struct emu_call *c, int page, json_t *f)
{
    const struct emu_page *p = &c->e->pages[page];
    json_t *o = json_pack("{s:s}", "id", p->ig_id);
    if (emu_field_wanted(f, "ig_id", false))
        json_object_set_new(o, "ig_id", json_integer(1000 + page));
    if (emu_field_wanted(f, "username", false))
        json_object_set_new(o, "username", json_string(p->ig_username));
    if (emu_field_wanted(f, "name", false))
        json_object_set_new(o, "name", json_string(p->ig_name));
    if (emu_field_wanted(f, "profile_picture_url", false))
        json_object_set_new(o, "profile_picture_url",
                            json_string(arena_printf(c->a, "%s/_emulator/media/profile-%s.jpg",
                                                     c->e->public_url, p->ig_id)));
    if (emu_field_wanted(f, "followers_count", false))
        json_object_set_new(o, "followers_count", json_integer(1280));
    if (emu_field_wanted(f, "follows_count", false))
        json_object_set_new(o, "follows_count", json_integer(312));
    if (emu_field_wanted(f, "media_count", false))
        json_object_set_new(o, "media_count", json_integer(media_count(c->e, page)));
    if (emu_field_wanted(f, "biography", false))
        json_object_set_new(o, "biography", json_string("Small-batch coffee, roasted weekly."));
    return o;
}

static bool ig_node(struct emu_call *c, const char *id, json_t *f)
{
    int page = emu_page_by_ig_id(c->e, id);
    if (page < 0)
        return false;
    if (!emu_fields_check(c, f, ig_fields, "IGUser"))
        return true;
    json_t *body = ig_json(c, page, f);
    emu_end(c);
    emu_reply(c, 200, body);
    return true;
}

/* ---- the Page ---- */

/* A Page token for the caller's user token, as /me/accounts hands out: it never expires
 * when the user token is long-lived. NULL unless a user token of the Page's owner. */
static const char *page_token(struct emu_call *c, int page)
{
    const struct emu_token *t = c->tok;
    if (!t || (t->kind != EMU_TOK_USER_SHORT && t->kind != EMU_TOK_USER_LONG) ||
        c->e->pages[page].owner != t->user)
        return NULL;
    int user = t->user;
    int64_t expires = t->kind == EMU_TOK_USER_LONG ? 0 : t->expires_ms;
    char scopes[sizeof t->scopes];
    memcpy(scopes, t->scopes, sizeof scopes);
    size_t k = emu_token_issue(c->e, EMU_TOK_PAGE, user, page, expires, scopes);
    c->tok = NULL; /* tokens may have moved */
    return arena_strdup(c->a, c->e->tokens[k].value);
}

static json_t *page_json(struct emu_call *c, int page, json_t *f)
{
    const struct emu_page *p = &c->e->pages[page];
    json_t *o = json_pack("{s:s}", "id", p->id);
    if (emu_field_wanted(f, "name", true))
        json_object_set_new(o, "name", json_string(p->name));
    if (emu_field_wanted(f, "category", false))
        json_object_set_new(o, "category", json_string(p->category));
    if (emu_field_wanted(f, "link", false))
        json_object_set_new(o, "link",
                            json_string(arena_printf(c->a, "https://www.facebook.com/%s", p->id)));
    if (emu_field_wanted(f, "tasks", false))
        json_object_set_new(o, "tasks",
                            json_pack("[ssss]", "ADVERTISE", "ANALYZE", "MESSAGING", "MANAGE"));
    static const char *const ig_keys[] = {"instagram_business_account",
                                          "connected_instagram_account"};
    for (size_t i = 0; i < 2; i++)
        if (p->ig_id[0] && emu_field_wanted(f, ig_keys[i], false))
            json_object_set_new(o, ig_keys[i], ig_json(c, page, json_object_get(f, ig_keys[i])));
    const char *tok = emu_field_wanted(f, "access_token", false) ? page_token(c, page) : NULL;
    if (tok)
        json_object_set_new(o, "access_token", json_string(tok));
    return o;
}

static bool page_node(struct emu_call *c, const char *id, json_t *f)
{
    int page = emu_page_by_id(c->e, id);
    if (page < 0)
        return false;
    if (!emu_fields_check(c, f, page_fields, "Page"))
        return true;
    json_t *ig = json_object_get(f, "instagram_business_account");
    if (json_is_object(ig) && !emu_fields_check(c, ig, ig_fields, "IGUser"))
        return true;
    json_t *body = page_json(c, page, f);
    emu_end(c);
    emu_reply(c, 200, body);
    return true;
}

void emu_h_node(struct http_req *r, void *ctx)
{
    struct emu_call c;
    json_t *f;
    if (!emu_begin(&c, ctx, r, EMU_TOK_ANY) || !emu_fields_get(&c, &f))
        return;
    const char *id = http_req_param(r, "id");
    if (http_req_method(r) == HTTP_GET &&
        (page_node(&c, id, f) || ig_node(&c, id, f) || emu_convo_thread_node(&c, id, f) ||
         emu_convo_message_node(&c, id, f)))
        return;
    if (emu_comment_node(&c, id, f) || emu_publish_node(&c, id, f))
        return;
    emu_fail_unsupported(&c, id);
}
