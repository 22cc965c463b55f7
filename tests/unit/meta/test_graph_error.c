/*
 * tests/unit/meta/test_graph_error.c - every Graph fixture through the matching parser: error
 * bodies through meta_parse_graph_error() and the classification table, success bodies
 * through the token, debug_token, accounts, paging and subscription parsers (and never
 * mistaken for errors); plus the table and the retry policy on codes no fixture carries.
 *
 * Expected classes come from meta-platform.md (section 2.7's table and retry policy, 3.2's
 * throttle codes, 4.3's token and generic codes, 5.5's publishing codes), not from the parser.
 * Two readings the document leaves open are pinned here, with the reason beside the case:
 * 200/1545041 (RECIPIENT) and 10/2018065 (PERMISSION).
 */
#include "meta/graph.h"

#include "testutil.h"

#include <dirent.h>

#define GR "graph/"

/* ---- error fixtures ---- */

struct err_case {
    const char *file;
    bool is_fragment; /* the file is the `error` member only: refused as is, then wrapped */
    int status_in;    /* the HTTP status the body came with (0: not recorded) */
    int status_out, code, subcode;
    enum meta_err_class cls;
    const char *type, *fbtrace;
    bool is_transient;
    const char *message_prefix;
};

static const struct err_case err_cases[] = {
    /* 2.7: 100/2018047 "Fix, then retry": not in the retry list, so a request error. */
    {GR "error_100_2018047_upload_attachment_failure__cn_notes.json", false, 400, 400, 100, 2018047,
     META_ERR_INVALID, "OAuthException", "AN1pzAEZj4AwdT5gygdvNXL", false,
     "(#100) Upload attachment failure."},
    /* 555-byte message: kept to the buffer, cut on a character boundary. */
    {GR "error_100_missing_permission_long_msg__pyfb.json", false, 400, 400, 100, 0,
     META_ERR_INVALID, "OAuthException", "AQt_hJ68vFybS4TnupatNtX", false,
     "(#100) Object does not exist, cannot be loaded"},
    /* 2016 form without the subcode: code 100 alone is "Invalid parameter" (never retried). */
    {GR "error_100_no_matching_user_no_subcode__hartleybrody7.json", false, 400, 400, 100, 0,
     META_ERR_INVALID, "OAuthException", "H88xneLGeNw", false, "(#100) No matching user found"},
    {GR "error_100_ppca_appsecret_proof__pyfb.json", false, 400, 400, 100, 0, META_ERR_INVALID,
     "OAuthException", "A1m6KK6iBqvjzPeQd4DYbKM", false, "(#100) Pages Public Content Access"},
    /* 2.7: 10/2018065 "Tag or permission not allowed" -> a permission problem, not the window
     * (only 2018278 and 2534022 are the window). fbtrace_id "H\/vnkB0t7Fk" is unescaped. */
    {GR "error_10_2018065_outside_window_subscription_perm__botframework2050.json", false, 400, 400,
     10, 2018065, META_ERR_PERMISSION, "OAuthException", "H/vnkB0t7Fk", false,
     "(#10) This message is sent outside of allowed window. You need page_messaging"},
    {GR "error_10_2018278_outside_window_en__cn_notes.json", false, 400, 400, 10, 2018278,
     META_ERR_WINDOW, "OAuthException", "AxIIVeNpuf3y2jeXdufRcEX", false,
     "(#10) This message is sent outside of allowed window. Learn more about the new policy "
     "here: https://developers.facebook.com/docs"},
    {GR "error_10_2018278_outside_window_zh_localized__cn_notes.json", false, 400, 400, 10, 2018278,
     META_ERR_WINDOW, "OAuthException", "AdSBrmIpW02GvBiXC4X4CfL", false,
     "(#10) \xe8\xbf\x99\xe6\x9d\xa1\xe6\xb6\x88\xe6\x81\xaf"},
    /* graph.instagram.com: HTTP 403 and IGApiException. */
    {GR "error_10_2534022_ig_outside_window__composio3604.json", false, 403, 403, 10, 2534022,
     META_ERR_WINDOW, "IGApiException", "A9C5BFZGYCvRghcFEHTjgpC", false,
     "This message is sent outside of allowed window."},
    {GR "error_190_460_password_changed__bootbot154_error_member.json", true, 400, 400, 190, 460,
     META_ERR_AUTH, "OAuthException", "A12JgDU07Gj", false, "Error validating access token"},
    {GR "error_190_460_with_user_msg__restfb.json", false, 400, 400, 190, 460, META_ERR_AUTH,
     "OAuthException", "EJplcsCHuLu", false, "Message describing the error"},
    {GR "error_190_463_session_expired__valorant105.json", false, 400, 400, 190, 463, META_ERR_AUTH,
     "OAuthException", "AXS25JPViBb5AY5tP5EzTnD", false,
     "Error validating access token: Session has expired"},
    /* 190 without a subcode: still "token invalid, re-authenticate". */
    {GR "error_190_cannot_parse_token_no_subcode__fbiossdk2576.json", false, 400, 400, 190, 0,
     META_ERR_AUTH, "OAuthException", "A9xnjd1iwrUx8qFJt1sld_Q", false,
     "Invalid OAuth access token - Cannot parse access token"},
    /* 2.7: code 1 is retried once whatever the subcode (1357046 aside). */
    {GR "error_1_duplicate_spam__restfb.json", false, 400, 400, 1, 1446036, META_ERR_TRANSIENT,
     "OAuthException", "AXNSTEPpjX5zEG-g80nQydI", false, "An unknown error occurred"},
    {GR "error_1_unknown_with_subcode__restfb.json", false, 400, 400, 1, 1965014,
     META_ERR_TRANSIENT, "OAuthException", "EmOAvxDPlF2", false, "An unknown error occurred"},
    /* 200/1545041: 1545041 is the "person isn't available" subcode (551/1545041) and this real
     * body says "(#551) the user cannot receive messages for now": the person, not our setup. */
    {GR "error_200_1545041_localized_551_text__cn_notes.json", false, 400, 400, 200, 1545041,
     META_ERR_RECIPIENT, "OAuthException", "AxTByfgzd8fqNieOe1cQIz2", false, "(#551) "},
    {GR "error_200_permissions__cn_notes.json", false, 400, 400, 200, 0, META_ERR_PERMISSION,
     "OAuthException", "AbUhinTvMOkPfgH-hzBJKfQ", false, "(#200) Permissions error"},
    {GR "error_2500_igapiexception__restfb.json", false, 400, 400, 2500, 0, META_ERR_INVALID,
     "IGApiException", "A7OjVVCXwSdfpIERKqntSKo", false, "Unknown path components"},
    {GR "error_2_transient_unexpected__ryz310_70.json", false, 400, 400, 2, 0, META_ERR_TRANSIENT,
     "OAuthException", "HbP+i+BdlMX", true, "An unexpected error has occurred."},
    {GR "error_4_app_rate_limit__cn_notes.json", false, 400, 400, 4, 0, META_ERR_RATE_LIMIT,
     "OAuthException", "Arh2gqLppNgpXBQMILRJ8lm", true, "(#4) Application request limit"},
    {GR "error_4_app_rate_limit_compact__mashshare70.json", false, 400, 400, 4, 0,
     META_ERR_RATE_LIMIT, "OAuthException", "GNV+FOvDX3z", true, "(#4) Application request"},
    {GR "error_551_1545041_unavailable__cn_notes.json", false, 400, 400, 551, 1545041,
     META_ERR_RECIPIENT, "OAuthException", "AfLpdQHj4s1h8w6MbvPPOUc", false,
     "(#551) This person isn't available right now."},
    /* 5.5: 9007/2207027 "Yes, after polling"; no fbtrace_id in this capture. */
    {GR "error_9007_2207027_media_not_ready__metamcp138.json", false, 400, 400, 9007, 2207027,
     META_ERR_TRANSIENT, "OAuthException", "", false, "Media ID is not available"},
    /* Legacy flat shape: its `code` 400 is the HTTP status, there is no Graph code. */
    {GR "error_legacy_flat_oauth__restfb.json", false, 0, 400, 0, 0, META_ERR_INVALID,
     "OAuthException", "", false, "Error validating verification code."},
    /* A batch answer (HTTP 200): the first item failed with 400, its body a JSON string. */
    {GR "batch_response_first_item_error__restfb.json", false, 200, 400, 100, 0, META_ERR_INVALID,
     "GraphMethodException", "AjPj2sQoTXX", false,
     "Unsupported get request. Object with ID '2' does not exist"},
};

static bool valid_utf8_end(const char *s)
{
    size_t n = strlen(s);
    size_t i = n;
    while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
        i--;
    if (i == 0)
        return n == 0;
    unsigned char lead = (unsigned char)s[i - 1];
    size_t want = lead < 0x80 ? 0 : lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : 1;
    return n - i == want;
}

static void check_error(const struct err_case *c, const struct meta_graph_error *e)
{
    if (e->http_status != c->status_out || e->code != c->code || e->subcode != c->subcode ||
        e->cls != c->cls)
        fail_msg("%s: got status %d code %d/%d class %s", c->file, e->http_status, e->code,
                 e->subcode, meta_err_class_name(e->cls));
    assert_string_equal(e->type, c->type);
    assert_string_equal(e->fbtrace_id, c->fbtrace);
    assert_int_equal(e->is_transient, c->is_transient);
    if (strncmp(e->message, c->message_prefix, strlen(c->message_prefix)) != 0)
        fail_msg("%s: message \"%s\"", c->file, e->message);
    assert_true(strlen(e->message) < META_ERR_MESSAGE_MAX && valid_utf8_end(e->message));
    assert_int_equal(e->retry_after_s, c->cls == META_ERR_RATE_LIMIT ? 60 : 0);
}

static void test_error_fixtures(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof err_cases / sizeof err_cases[0]; i++) {
        const struct err_case *c = &err_cases[i];
        size_t len;
        char *body = tu_fixture_read(c->file, &len);
        struct meta_graph_error e;
        if (c->is_fragment) {
            assert_int_equal(meta_parse_graph_error(body, len, c->status_in, &e), ERR_INVALID);
            char *wrapped = malloc(len + 16);
            int n = snprintf(wrapped, len + 16, "{\"error\":%s}", body);
            free(body);
            body = wrapped;
            len = (size_t)n;
        }
        if (meta_parse_graph_error(body, len, c->status_in, &e) != ERR_OK)
            fail_msg("%s: not parsed as an error", c->file);
        check_error(c, &e);
        free(body);
    }
}

/* ---- success fixtures: the matching parser, and never an error ---- */

enum ok_kind {
    OK_TOKEN,    /* meta_parse_token */
    OK_DEBUG,    /* meta_parse_debug_token */
    OK_ACCOUNTS, /* meta_parse_accounts + meta_parse_paging */
    OK_LIST,     /* a paged list of nodes: meta_parse_paging and the data[] size */
    OK_EDGE,     /* a node with a paged edge `member` */
    OK_SUBS,     /* an /app/subscriptions item: its fields as subscribed_fields */
    OK_NODE,     /* no typed parser yet: not an error, no top-level paging */
};

struct ok_case {
    const char *file;
    enum ok_kind kind;
    bool wrap_data; /* one node: parsed as {"data":[FILE]} */
    /* token */
    const char *token, *token_type;
    int64_t expires_in;
    /* debug_token */
    const char *dt_type, *app_id, *user_id, *profile_id;
    int64_t expires_at, data_access_expires_at;
    size_t n_scopes;
    const char *scope0;
    /* accounts, lists, edges */
    size_t n_items;
    const char *id0, *name0, *token0, *ig0;
    size_t n_tasks0;
    const char *after, *member;
    bool has_next;
    /* subscriptions */
    const char *field0, *field3;
};

static const struct ok_case ok_cases[] = {
    {.file = GR "oauth_app_token__pyfb.json",
     .kind = OK_TOKEN,
     .token = "123456789|fvYq7ORmqKa2IDCijArPOYKB0",
     .token_type = "bearer"},
    {.file = GR "oauth_long_lived_token_exchange__pyfb.json",
     .kind = OK_TOKEN,
     .token = "token",
     .token_type = "bearer",
     .expires_in = 5184000},
    {.file = GR "ig_basic_display_token__pyfb.json", .kind = OK_TOKEN, .token = "token"},
    {.file = GR "ig_login_token_with_permissions__restfb.json",
     .kind = OK_TOKEN,
     .token = "EAACEdEose0..."},
    {.file = GR "debug_token_data__restfb.json",
     .kind = OK_DEBUG,
     .dt_type = "USER",
     .app_id = "1234567890",
     .user_id = "9876543212345",
     .expires_at = 1561330800,
     .data_access_expires_at = 1563217616,
     .n_scopes = 8,
     .scope0 = "user_location"},
    {.file = GR "debug_token_full__pyfb.json",
     .kind = OK_DEBUG,
     .dt_type = "USER",
     .app_id = "appId",
     .user_id = "userId",
     .expires_at = 1577347200,
     .data_access_expires_at = 1585040349,
     .n_scopes = 5,
     .scope0 = "email"},
    {.file = GR "debug_token_granular_scopes__restfb.json",
     .kind = OK_DEBUG,
     .dt_type = "USER",
     .app_id = "{app-id}",
     .user_id = "{user-id}",
     .expires_at = 1641733200,
     .data_access_expires_at = 1649504517,
     .n_scopes = 3,
     .scope0 = "pages_show_list"},
    /* expires_at 0 = never; numeric ids come back as text. */
    {.file = GR "debug_token_never_expires__restfb.json",
     .kind = OK_DEBUG,
     .app_id = "100000000000",
     .user_id = "1207059",
     .profile_id = "123456789",
     .n_scopes = 2,
     .scope0 = "email"},
    {.file = GR "debug_token_wrapped_numeric_ids__restfb.json",
     .kind = OK_DEBUG,
     .app_id = "100000000000",
     .user_id = "1207059",
     .expires_at = 1352419328,
     .n_scopes = 2,
     .scope0 = "email"},
    {.file = GR "me_accounts_compact__pyfb.json",
     .kind = OK_ACCOUNTS,
     .n_items = 1,
     .id0 = "2121008874780932",
     .name0 = "MyLife",
     .token0 = "access_token",
     .n_tasks0 = 6,
     .after = "after"},
    /* One Page linked to Instagram, one not (no key at all); no next: the last page. */
    {.file = GR "me_accounts_instagram_business_account__keboola29.json",
     .kind = OK_ACCOUNTS,
     .n_items = 2,
     .id0 = "1960059394258217",
     .name0 = "Noonania",
     .ig0 = "17841401382855558",
     .after = "MTc3MDU3OTMyMzE3NTUw"},
    {.file = GR "me_accounts_item__restfb.json",
     .kind = OK_ACCOUNTS,
     .wrap_data = true,
     .n_items = 1,
     .id0 = "1234567890",
     .name0 = "Sample Page",
     .token0 = "{access-token}",
     .n_tasks0 = 6},
    {.file = GR "me_accounts_page1_next__pyfb.json",
     .kind = OK_ACCOUNTS,
     .n_items = 4,
     .id0 = "123",
     .name0 = "AAAAAAAAA",
     .token0 = "access_token",
     .n_tasks0 = 6,
     .after = "after",
     .has_next = true},
    {.file = GR "me_accounts_page2_previous__pyfb.json",
     .kind = OK_ACCOUNTS,
     .n_items = 2,
     .id0 = "123456",
     .name0 = "CCCCCCCCC",
     .token0 = "access_token",
     .n_tasks0 = 6,
     .after = "after"},
    {.file = GR "page_instagram_business_account__restfb.json",
     .kind = OK_ACCOUNTS,
     .wrap_data = true,
     .n_items = 1,
     .id0 = "123456789",
     .ig0 = "987654321"},
    {.file = GR "paging_cursors_next_summary__restfb.json",
     .kind = OK_ACCOUNTS,
     .n_items = 6,
     .id0 = "1234567891",
     .name0 = "Tester1",
     .after = "NzU1MjI1MjU0",
     .has_next = true},
    /* An empty page that still has next: not the end. */
    {.file = GR "paging_empty_data_with_next__restfb.json",
     .kind = OK_ACCOUNTS,
     .after = "aftercursos....",
     .has_next = true},
    /* The last page may have no paging object at all. */
    {.file = GR "paging_last_page_no_paging__restfb.json", .kind = OK_ACCOUNTS},
    {.file = GR "comments_page_with_summary__pyfb.json",
     .kind = OK_LIST,
     .n_items = 10,
     .after = "after",
     .has_next = true},
    {.file = GR "ig_comment_replies__pyfb.json", .kind = OK_LIST, .n_items = 1},
    {.file = GR "ig_content_publishing_limit__restfb.json", .kind = OK_LIST, .n_items = 1},
    {.file = GR "ig_content_publishing_limit_compact__pyfb.json", .kind = OK_LIST, .n_items = 1},
    {.file = GR "message_text_with_emoji__pyfb.json",
     .kind = OK_EDGE,
     .member = "attachments",
     .after = "MAZDZD",
     .has_next = true},
    {.file = GR "message_with_image_attachment__pyfb.json",
     .kind = OK_EDGE,
     .member = "attachments",
     .after = "MAZDZD",
     .has_next = true},
    {.file = GR "message_eu_privacy_placeholder__restfb.json",
     .kind = OK_EDGE,
     .member = "attachments"},
    {.file = GR "app_subscriptions_fields_with_version__restfb.json",
     .kind = OK_SUBS,
     .n_items = 4,
     .field0 = "feed",
     .field3 = "ratings"},
    {.file = GR "comment_create_response__pyfb.json", .kind = OK_NODE},
    {.file = GR "conversation_full_fields__pyfb.json", .kind = OK_NODE},
    {.file = GR "conversation_node__pyfb.json", .kind = OK_NODE},
    {.file = GR "ig_comment_username_only__restfb.json", .kind = OK_NODE},
    {.file = GR "ig_container_status_finished__pyfb.json", .kind = OK_NODE},
    {.file = GR "ig_container_status_finished_copyright__restfb.json", .kind = OK_NODE},
    {.file = GR "ig_container_status_in_progress__restfb.json", .kind = OK_NODE},
    {.file = GR "ig_media_container_create__pyfb.json", .kind = OK_NODE},
    {.file = GR "ig_media_publish__pyfb.json", .kind = OK_NODE},
    {.file = GR "ig_mentioned_comment__pyfb.json", .kind = OK_NODE},
    {.file = GR "ig_mentioned_media__restfb.json", .kind = OK_NODE},
    {.file = GR "ig_message_fields_placeholder__restfb.json", .kind = OK_NODE},
    {.file = GR "ig_message_story_reply__restfb.json", .kind = OK_NODE},
    {.file = GR "resumable_upload_start__restfb.json", .kind = OK_NODE},
    {.file = GR "send_api_success_old_mid__restfb.json", .kind = OK_NODE},
    {.file = GR "success_true__restfb.json", .kind = OK_NODE},
};

static void expect_str(const char *file, const char *what, const char *got, const char *want)
{
    if (want ? !got || strcmp(got, want) != 0 : got != NULL)
        fail_msg("%s: %s is \"%s\", want \"%s\"", file, what, got ? got : "(null)",
                 want ? want : "(null)");
}

static void expect_i64(const char *file, const char *what, int64_t got, int64_t want)
{
    if (got != want)
        fail_msg("%s: %s is %lld, want %lld", file, what, (long long)got, (long long)want);
}

static void check_paging(const struct ok_case *c, const json_t *body)
{
    const char *after;
    bool has_next;
    meta_parse_paging(body, &after, &has_next);
    expect_str(c->file, "paging after", after, c->after);
    expect_i64(c->file, "has_next", has_next, c->has_next);
}

static void check_token(const struct ok_case *c, const json_t *body)
{
    struct meta_token t;
    assert_int_equal(meta_parse_token(body, &t), ERR_OK);
    expect_str(c->file, "access_token", t.access_token, c->token);
    expect_str(c->file, "token_type", t.token_type, c->token_type);
    expect_i64(c->file, "expires_in", t.expires_in, c->expires_in);
}

static void check_debug(struct arena *a, const struct ok_case *c, const json_t *body)
{
    struct meta_token_info t;
    assert_int_equal(meta_parse_debug_token(a, body, &t), ERR_OK);
    assert_true(t.is_valid);
    expect_str(c->file, "type", t.type, c->dt_type);
    expect_str(c->file, "app_id", t.app_id, c->app_id);
    expect_str(c->file, "user_id", t.user_id, c->user_id);
    expect_str(c->file, "profile_id", t.profile_id, c->profile_id);
    expect_i64(c->file, "expires_at", t.expires_at, c->expires_at);
    expect_i64(c->file, "data_access_expires_at", t.data_access_expires_at,
               c->data_access_expires_at);
    expect_i64(c->file, "n_scopes", (int64_t)t.n_scopes, (int64_t)c->n_scopes);
    expect_str(c->file, "scopes[0]", t.scopes[0], c->scope0);
    expect_i64(c->file, "error_code", t.error_code, 0);
}

static void check_accounts(struct arena *a, const struct ok_case *c, const json_t *body)
{
    struct meta_page *p;
    size_t n;
    assert_int_equal(meta_parse_accounts(a, body, &p, &n), ERR_OK);
    expect_i64(c->file, "pages", (int64_t)n, (int64_t)c->n_items);
    if (n == 0)
        return;
    expect_str(c->file, "id", p[0].id, c->id0);
    expect_str(c->file, "name", p[0].name, c->name0);
    expect_str(c->file, "access_token", p[0].access_token, c->token0);
    expect_str(c->file, "ig_id", p[0].ig_id, c->ig0);
    expect_i64(c->file, "tasks", (int64_t)p[0].n_tasks, (int64_t)c->n_tasks0);
    for (size_t i = 1; i < n; i++) /* in these files only the first Page has Instagram */
        expect_str(c->file, "other ig_id", p[i].ig_id, NULL);
}

/* The fields of an /app/subscriptions item, as a Page's subscribed_apps answer would list. */
static void check_subs(struct arena *a, const struct ok_case *c, json_t *body)
{
    json_t *wrapped = json_pack("{s:[{s:s,s:O}]}", "data", "id", "42", "subscribed_fields",
                                json_object_get(body, "fields"));
    const char **f;
    size_t n;
    assert_int_equal(meta_parse_subscriptions(a, wrapped, "42", &f, &n), ERR_OK);
    expect_i64(c->file, "fields", (int64_t)n, (int64_t)c->n_items);
    expect_str(c->file, "fields[0]", f[0], c->field0);
    expect_str(c->file, "fields[3]", f[3], c->field3);
    assert_int_equal(meta_parse_subscriptions(a, wrapped, "43", &f, &n), ERR_OK);
    assert_int_equal(n, 0);
    json_decref(wrapped);
}

static void check_ok(struct arena *a, const struct ok_case *c, json_t *body)
{
    switch (c->kind) {
    case OK_TOKEN:
        check_token(c, body);
        break;
    case OK_DEBUG:
        check_debug(a, c, body);
        break;
    case OK_ACCOUNTS:
        check_accounts(a, c, body);
        check_paging(c, body);
        break;
    case OK_LIST:
        expect_i64(c->file, "items", (int64_t)json_array_size(json_object_get(body, "data")),
                   (int64_t)c->n_items);
        check_paging(c, body);
        break;
    case OK_EDGE:
        check_paging(c, json_object_get(body, c->member));
        break;
    case OK_SUBS:
        check_subs(a, c, body);
        break;
    case OK_NODE:
        check_paging(c, body);
        break;
    }
}

static void test_success_fixtures(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof ok_cases / sizeof ok_cases[0]; i++) {
        const struct ok_case *c = &ok_cases[i];
        size_t len;
        char *raw = tu_fixture_read(c->file, &len);
        struct meta_graph_error e;
        if (meta_parse_graph_error(raw, len, 200, &e) != ERR_INVALID)
            fail_msg("%s: a success body read as an error", c->file);
        json_t *body = json_loadb(raw, len, 0, NULL);
        if (!body)
            fail_msg("%s: not JSON", c->file);
        if (c->wrap_data)
            body = json_pack("{s:[o]}", "data", body);
        struct arena a;
        arena_init(&a);
        check_ok(&a, c, body);
        arena_release(&a);
        json_decref(body);
        free(raw);
    }
}

static bool listed(const char *path)
{
    for (size_t i = 0; i < sizeof err_cases / sizeof err_cases[0]; i++)
        if (!strcmp(err_cases[i].file, path))
            return true;
    for (size_t i = 0; i < sizeof ok_cases / sizeof ok_cases[0]; i++)
        if (!strcmp(ok_cases[i].file, path))
            return true;
    return false;
}

static void test_every_fixture_has_a_case(void **state)
{
    (void)state;
    DIR *dir = opendir(tu_fixture(GR));
    if (!dir)
        fail_msg("cannot open %s", tu_fixture(GR));
    size_t n = 0;
    for (struct dirent *de; (de = readdir(dir));) {
        if (de->d_name[0] == '.')
            continue;
        char path[512];
        snprintf(path, sizeof path, GR "%s", de->d_name);
        if (!listed(path))
            fail_msg("fixture %s has no test case", path);
        n++;
    }
    closedir(dir);
    assert_int_equal(n,
                     sizeof err_cases / sizeof err_cases[0] + sizeof ok_cases / sizeof ok_cases[0]);
}

/* ---- the table on codes no fixture carries ---- */

static void test_classify_table(void **state)
{
    (void)state;
    static const struct {
        int code, subcode, status;
        enum meta_err_class cls;
    } cases[] = {
        {17, 0, 400, META_ERR_RATE_LIMIT},        /* user limit */
        {17, 2446079, 400, META_ERR_RATE_LIMIT},  /* ads v3.3 */
        {32, 0, 400, META_ERR_RATE_LIMIT},        /* Page request limit */
        {341, 0, 400, META_ERR_RATE_LIMIT},       /* 4.3 throttling */
        {613, 0, 400, META_ERR_RATE_LIMIT},       /* custom */
        {613, 2534040, 400, META_ERR_RATE_LIMIT}, /* messaging rate */
        {613, 1996, 400, META_ERR_RATE_LIMIT},    /* inconsistent volume */
        {80001, 0, 400, META_ERR_RATE_LIMIT},     /* BUC Pages */
        {80002, 0, 400, META_ERR_RATE_LIMIT},     /* BUC Instagram */
        {80006, 0, 400, META_ERR_RATE_LIMIT},     /* BUC Messenger */
        {80000, 0, 400, META_ERR_RATE_LIMIT},     /* ads / WA / catalog BUCs */
        {80009, 0, 400, META_ERR_RATE_LIMIT},
        {80014, 0, 400, META_ERR_RATE_LIMIT},
        {80010, 0, 400, META_ERR_INVALID},      /* not a documented BUC code */
        {4, 2018354, 400, META_ERR_RATE_LIMIT}, /* app limit, marketing */
        {9, 2207042, 400, META_ERR_RATE_LIMIT}, /* publishing quota */
        {102, 0, 400, META_ERR_AUTH},           /* API session */
        {190, 458, 400, META_ERR_AUTH},
        {190, 459, 400, META_ERR_AUTH},
        {190, 464, 400, META_ERR_AUTH},
        {190, 467, 400, META_ERR_AUTH},
        {190, 492, 400, META_ERR_AUTH}, /* lost the Page role */
        {190, 0, 500, META_ERR_AUTH},   /* code wins over the status */
        {10, 2534022, 403, META_ERR_WINDOW},
        {10, 2018108, 400, META_ERR_RECIPIENT},  /* blocked or opted out */
        {100, 2018001, 400, META_ERR_RECIPIENT}, /* no matching user */
        {100, 2534014, 400, META_ERR_RECIPIENT}, /* IG user id, not IGSID */
        {551, 0, 400, META_ERR_RECIPIENT},
        {10, 1893063, 400, META_ERR_PERMISSION}, /* Page restricted */
        {10, 0, 400, META_ERR_PERMISSION},
        {100, 2534029, 400, META_ERR_PERMISSION}, /* business blocked from IG messaging */
        {200, 2534041, 400, META_ERR_PERMISSION}, /* "Allow access to messages" off */
        {299, 0, 400, META_ERR_PERMISSION},
        {230, 0, 400, META_ERR_PERMISSION},
        {368, 0, 400, META_ERR_PERMISSION},      /* policy block: never hammer */
        {36103, 0, 400, META_ERR_PERMISSION},    /* IG messaging not available */
        {25, 2207050, 400, META_ERR_PERMISSION}, /* IG account restricted */
        {4, 2207051, 400, META_ERR_PERMISSION},  /* restricted activity: no retry */
        {1, 1357046, 400, META_ERR_AMBIGUOUS},   /* may have been sent */
        {1, 1357046, 500, META_ERR_AMBIGUOUS},
        {1, 99, 400, META_ERR_TRANSIENT}, /* retry once */
        {2, 2018344, 503, META_ERR_TRANSIENT},
        {-2, 2207003, 400, META_ERR_TRANSIENT}, /* media download too slow */
        {-1, 2207001, 400, META_ERR_TRANSIENT}, /* Instagram server error */
        {-2, 2207020, 400, META_ERR_INVALID},   /* container expired: new container */
        {-1, 2207032, 400, META_ERR_INVALID},
        {24, 2207008, 400, META_ERR_TRANSIENT},  /* builder temporary */
        {24, 2207006, 400, META_ERR_INVALID},    /* media not found */
        {9004, 2207052, 400, META_ERR_INVALID},  /* media URL not fetchable */
        {36003, 2207009, 400, META_ERR_INVALID}, /* aspect ratio */
        {1, 2207057, 400, META_ERR_INVALID},     /* thumbnail offset */
        {506, 0, 400, META_ERR_INVALID},         /* duplicate post */
        {100, 0, 400, META_ERR_INVALID},
        {0, 0, 0, META_ERR_TRANSIENT}, /* transport */
        {0, 0, 500, META_ERR_TRANSIENT},
        {0, 0, 502, META_ERR_TRANSIENT},
        {12345, 0, 503, META_ERR_TRANSIENT}, /* unknown code, server error */
        {0, 0, 429, META_ERR_RATE_LIMIT},
        {0, 0, 400, META_ERR_INVALID},
        {12345, 0, 400, META_ERR_INVALID}, /* unknown code: never retried */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum meta_err_class got =
            meta_graph_classify(cases[i].code, cases[i].subcode, cases[i].status);
        if (got != cases[i].cls)
            fail_msg("%d/%d (HTTP %d): %s, want %s", cases[i].code, cases[i].subcode,
                     cases[i].status, meta_err_class_name(got), meta_err_class_name(cases[i].cls));
    }
}

/* ---- the retry policy (2.7: "Retry only 1 (once), 2, 4, 17, 32, 341, 613, 800xx and
 * transport errors/5xx, using exponential backoff with jitter") ---- */

static struct meta_graph_error err_of(int code, int subcode, int status, int retry_after_s)
{
    struct meta_graph_error e = {.http_status = status, .code = code, .subcode = subcode};
    e.cls = meta_graph_classify(code, subcode, status);
    e.retry_after_s = retry_after_s;
    return e;
}

static void test_retry_policy(void **state)
{
    (void)state;
    static const struct {
        int code, subcode, status, retry_after_s;
        int max_attempts;    /* retries allowed: attempts 1..max say yes, max+1 says no */
        long min_ms, max_ms; /* bounds of the first retry's delay */
    } cases[] = {
        {1, 99, 400, 0, 1, 500, 1000}, /* once */
        {1, 1446036, 400, 0, 1, 500, 1000},
        {2, 0, 500, 0, 4, 500, 1000},
        {0, 0, 0, 0, 4, 500, 1000}, /* transport */
        {0, 0, 503, 0, 4, 500, 1000},
        {4, 0, 400, 60, 5, 60000, 66000},           /* default wait */
        {80006, 0, 400, 1200, 5, 1200000, 1320000}, /* 20 min from the usage header */
        {613, 0, 400, 0, 5, 60000, 66000},          /* no estimate: META_RATE_LIMIT_DEFAULT_S */
        {9, 2207042, 400, 60, 0, 0, 0},             /* quota: content/ defers, no blind retry */
        {1, 1357046, 400, 0, 0, 0, 0},              /* ambiguous: reconcile first */
        {190, 463, 400, 0, 0, 0, 0},
        {10, 2018278, 400, 0, 0, 0, 0},
        {551, 1545041, 400, 0, 0, 0, 0},
        {100, 0, 400, 0, 0, 0, 0},
        {368, 0, 400, 0, 0, 0, 0},
        {24, 2207008, 400, 0, 2, 500, 1000}, /* "retry 1-2x" */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct meta_graph_error e =
            err_of(cases[i].code, cases[i].subcode, cases[i].status, cases[i].retry_after_s);
        for (int attempt = 1; attempt <= cases[i].max_attempts + 1; attempt++) {
            long ms = -1;
            bool yes = meta_graph_retry_delay_ms(&e, attempt, &ms);
            if (yes != (attempt <= cases[i].max_attempts))
                fail_msg("%d/%d attempt %d: retry %d", e.code, e.subcode, attempt, yes);
            if (yes && attempt == 1 && (ms < cases[i].min_ms || ms > cases[i].max_ms))
                fail_msg("%d/%d: first delay %ld ms", e.code, e.subcode, ms);
        }
    }
    /* Backoff grows, stays within [base/2, base], and is capped at a minute. */
    struct meta_graph_error e = err_of(2, 0, 500, 0);
    long ms;
    assert_true(meta_graph_retry_delay_ms(&e, 3, &ms) && ms >= 2000 && ms <= 4000);
    assert_false(meta_graph_retry_delay_ms(&e, 0, &ms));
    /* A write that got no answer is ambiguous, whatever the code says. */
    e.cls = META_ERR_AMBIGUOUS;
    assert_false(meta_graph_retry_delay_ms(&e, 1, &ms));
}

/* ---- shapes no fixture has ---- */

static void test_odd_bodies(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        int status;
        enum err rc;
        int status_out, code, subcode;
        enum meta_err_class cls;
        const char *type, *message;
    } cases[] = {
        /* code and subcode as numeric strings */
        {"{\"error\":{\"code\":\"190\",\"error_subcode\":\"463\",\"message\":\"x\"}}", 400, ERR_OK,
         400, 190, 463, META_ERR_AUTH, "", "x"},
        /* OAuth 2.0 style */
        {"{\"error\":\"invalid_request\",\"error_description\":\"bad code\"}", 400, ERR_OK, 400, 0,
         0, META_ERR_INVALID, "invalid_request", "bad code"},
        /* old REST shape: a Graph code */
        {"{\"error_code\":613,\"error_msg\":\"Calls to this api have exceeded the rate limit.\"}",
         400, ERR_OK, 400, 613, 0, META_ERR_RATE_LIMIT, "", "Calls to this api"},
        /* out-of-range code: unknown */
        {"{\"error\":{\"code\":99999999999,\"type\":\"OAuthException\"}}", 400, ERR_OK, 400, 0, 0,
         META_ERR_INVALID, "OAuthException", ""},
        {"{\"error\":{}}", 503, ERR_OK, 503, 0, 0, META_ERR_TRANSIENT, "", ""},
        {"{\"error\":{\"code\":true,\"message\":7}}", 400, ERR_OK, 400, 0, 0, META_ERR_INVALID, "",
         ""},
        /* a failed batch item whose body is not JSON */
        {"[{\"code\":200,\"body\":\"{}\"},{\"code\":502,\"body\":\"<html>\"}]", 200, ERR_OK, 502, 0,
         0, META_ERR_TRANSIENT, "", ""},
        /* nothing that is an error: the status alone gives the class */
        {"<html>Bad Gateway</html>", 502, ERR_INVALID, 502, 0, 0, META_ERR_TRANSIENT, "", ""},
        {"", 429, ERR_INVALID, 429, 0, 0, META_ERR_RATE_LIMIT, "", ""},
        {"{\"data\":[]}", 400, ERR_INVALID, 400, 0, 0, META_ERR_INVALID, "", ""},
        {"[{\"code\":200,\"body\":\"{\\\"id\\\":\\\"1\\\"}\"}]", 200, ERR_INVALID, 200, 0, 0,
         META_ERR_INVALID, "", ""},
        {"\"error\"", 400, ERR_INVALID, 400, 0, 0, META_ERR_INVALID, "", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct meta_graph_error e;
        enum err rc =
            meta_parse_graph_error(cases[i].body, strlen(cases[i].body), cases[i].status, &e);
        if (rc != cases[i].rc || e.http_status != cases[i].status_out || e.code != cases[i].code ||
            e.subcode != cases[i].subcode || e.cls != cases[i].cls)
            fail_msg("case %zu: rc %d status %d code %d/%d class %s", i, rc, e.http_status, e.code,
                     e.subcode, meta_err_class_name(e.cls));
        assert_string_equal(e.type, cases[i].type);
        assert_true(!strncmp(e.message, cases[i].message, strlen(cases[i].message)));
    }
}

/* A long localized message is cut on a character boundary, never inside one. */
static void test_message_truncation(void **state)
{
    (void)state;
    char body[4096];
    size_t o = (size_t)snprintf(body, sizeof body, "{\"error\":{\"code\":10,\"message\":\"");
    for (int i = 0; i < 400; i++) /* 3-byte characters: 1200 bytes */
        o += (size_t)snprintf(body + o, sizeof body - o, "\xe6\xb6\x88");
    o += (size_t)snprintf(body + o, sizeof body - o, "\"}}");
    struct meta_graph_error e;
    assert_int_equal(meta_parse_graph_error(body, o, 400, &e), ERR_OK);
    assert_int_equal(strlen(e.message), (META_ERR_MESSAGE_MAX - 1) / 3 * 3);
    assert_true(valid_utf8_end(e.message));
}

/* The continuation of a paged listing: the cursor first, else the next link's own query
 * without credentials; the last page, and a next with nothing to go on, say so. */
static void test_paging_next_query(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        enum err rc;
        const char *query;
    } cases[] = {
        {"{\"data\":[],\"paging\":{\"cursors\":{\"after\":\"QVFI+/=\"},\"next\":\"https://g/x?"
         "after=other\"}}",
         ERR_OK, "after=QVFI%2B%2F%3D"},
        {"{\"data\":[],\"paging\":{\"next\":\"https://graph.facebook.com/v24.0/1017/accounts?"
         "access_token=EAAB&fields=id%2Cname&limit=2&after=cur-2&appsecret_proof=ab\"}}",
         ERR_OK, "fields=id%2Cname&limit=2&after=cur-2"},
        {"{\"paging\":{\"next\":\"https://g/v24.0/me/accounts?offset=4&method=delete&"
         "appsecret_time=1#frag\"}}",
         ERR_OK, "offset=4"},
        {"{\"paging\":{\"next\":\"https://g/v24.0/me/"
         "accounts?until=1700000000&__paging_token=x+y\"}}",
         ERR_OK, "until=1700000000&__paging_token=x%20y"},
        {"{\"data\":[],\"paging\":{\"cursors\":{\"after\":\"c\"}}}", ERR_NOT_FOUND, NULL},
        {"{\"data\":[]}", ERR_NOT_FOUND, NULL},
        {"{\"paging\":{\"next\":\"https://g/v24.0/me/accounts\"}}", ERR_INVALID, NULL},
        {"{\"paging\":{\"next\":\"https://g/x?access_token=EAAB&appsecret_proof=1\"}}", ERR_INVALID,
         NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct arena a;
        arena_init(&a);
        json_t *body = json_loads(cases[i].body, 0, NULL);
        assert_non_null(body);
        static char unset[] = "unset";
        char *q = unset;
        enum err rc = meta_paging_next_query(&a, body, &q);
        if (rc != cases[i].rc)
            fail_msg("case %zu: rc %d, want %d", i, rc, cases[i].rc);
        if (cases[i].query)
            assert_string_equal(q, cases[i].query);
        else
            assert_null(q);
        json_decref(body);
        arena_release(&a);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_fixture_has_a_case),
        cmocka_unit_test(test_error_fixtures),
        cmocka_unit_test(test_success_fixtures),
        cmocka_unit_test(test_classify_table),
        cmocka_unit_test(test_retry_policy),
        cmocka_unit_test(test_odd_bodies),
        cmocka_unit_test(test_message_truncation),
        cmocka_unit_test(test_paging_next_query),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
