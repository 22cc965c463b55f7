/*
 * tests/unit/meta/test_send.c - the Send API client (meta/send.h): every forbidden request
 * refused before the wire, the bodies against Meta's documented shapes, and the calls end to
 * end against the local Meta (emulator/, in-process, appsecret_proof required):
 * the window (24 h, HUMAN_AGENT at 6 and 8 days), sender actions, private replies, public
 * replies, and each error class from injected faults.
 *
 * The emulator is used only through emulator.h and docs/emulator.md.
 */
#include "meta/send.h"

#include "testutil.h"

#include "core/log.h"
#include "emulator/emulator.h"
#include "http/client.h"
#include "http/http.h"

#define APP_ID       "1234567890123456"
#define APP_SECRET   "emulator-app-secret"
#define PAGE_IG      "104000000000001"
#define REDIRECT_URI "https://switchboard.example/oauth/callback"
#define SCOPES                                                                                     \
    "pages_show_list,pages_messaging,pages_manage_metadata,pages_read_engagement,"                 \
    "pages_manage_engagement,instagram_basic,instagram_manage_messages,instagram_manage_comments"
#define HOUR_MS (3600LL * 1000)
#define DAY_MS  (24 * HOUR_MS)

#define N(x) (sizeof(x) / sizeof((x)[0]))

/* ---- helpers ---- */

static struct meta_message text_msg(const char *text)
{
    return (struct meta_message){.kind = META_CONTENT_TEXT, .u.text = text};
}

static char *repeat(struct arena *a, const char *unit, size_t times)
{
    size_t n = strlen(unit);
    char *s = arena_alloc(a, n * times + 1);
    for (size_t i = 0; i < times; i++)
        memcpy(s + i * n, unit, n);
    return s;
}

/* Meta's documented shape with its keys sorted, compact: what our bodies must equal. */
static const char *sorted(struct arena *a, const char *doc)
{
    json_error_t jerr;
    json_t *v = json_loads(doc, 0, &jerr);
    if (!v)
        fail_msg("bad expected JSON: %s", jerr.text);
    char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
    char *out = arena_strdup(a, s);
    free(s);
    json_decref(v);
    return out;
}

/* ---- refusals: nothing reaches the wire ---- */

static const struct meta_quick_reply qr_ok[] = {{"Yes", "YES"}, {"No", "NO"}};
static const struct meta_quick_reply qr_long_title[] = {{"123456789012345678901", "X"}};
static const struct meta_quick_reply qr_empty_title[] = {{"", "X"}};
static const struct meta_quick_reply qr_no_payload[] = {{"Yes", NULL}};
static struct meta_quick_reply qr_14[14];

struct refusal {
    const char *name;
    enum store_platform platform;
    struct meta_message m;
    const char *recipient;
    int mode;
    enum err want;
};

/* Texts built at run time (lengths at the limits). */
static const char *msgr_2000, *ig_1001, *ig_euro_1002, *meta_1000;

static void build_long_texts(struct arena *a)
{
    msgr_2000 = repeat(a, "a", 2000);
    ig_1001 = repeat(a, "a", 1001);
    ig_euro_1002 = repeat(a, "\xe2\x82\xac", 334); /* 334 code points, 1002 bytes */
    meta_1000 = repeat(a, "m", 1000);
    for (size_t i = 0; i < N(qr_14); i++)
        qr_14[i] = (struct meta_quick_reply){"t", "p"};
}

/* Message literals for the tables. */
#define TEXT(t)                                                                                    \
    {                                                                                              \
        .kind = META_CONTENT_TEXT, .u.text = (t)                                                   \
    }
#define URL(ty, link)                                                                              \
    {                                                                                              \
        .kind = META_CONTENT_ATTACHMENT, .u.attachment = {.type = (ty), .url = (link) }            \
    }
#define ATT_ID(ty, id)                                                                             \
    {                                                                                              \
        .kind = META_CONTENT_ATTACHMENT, .u.attachment = {.type = (ty), .attachment_id = (id) }    \
    }

static void refusal_cases(struct refusal *c, size_t *n)
{
    const struct refusal cases[] = {
        {"no text", STORE_MESSENGER, TEXT(NULL), "1", 0, ERR_INVALID},
        {"empty text", STORE_MESSENGER, TEXT(""), "1", 0, ERR_INVALID},
        {"blank text", STORE_INSTAGRAM, TEXT(" \n\t "), "1", 0, ERR_INVALID},
        {"not UTF-8", STORE_MESSENGER, TEXT("caf\xe9"), "1", 0, ERR_INVALID},
        {"overlong UTF-8", STORE_MESSENGER, TEXT("\xc0\xaf"), "1", 0, ERR_INVALID},
        {"surrogate", STORE_INSTAGRAM, TEXT("\xed\xa0\x80"), "1", 0, ERR_INVALID},
        {"messenger 2000 chars", STORE_MESSENGER, TEXT(msgr_2000), "1", 0, ERR_TOO_LARGE},
        {"instagram 1001 bytes", STORE_INSTAGRAM, TEXT(ig_1001), "1", 0, ERR_TOO_LARGE},
        {"instagram 1002 bytes, 334 chars", STORE_INSTAGRAM, TEXT(ig_euro_1002), "1", 0,
         ERR_TOO_LARGE},
        {"url and attachment_id",
         STORE_MESSENGER,
         {.kind = META_CONTENT_ATTACHMENT,
          .u.attachment = {.type = META_ATTACH_IMAGE,
                           .url = "https://x.test/a.png",
                           .attachment_id = "123"}},
         "1",
         0,
         ERR_INVALID},
        {"attachment without source", STORE_MESSENGER, URL(META_ATTACH_IMAGE, NULL), "1", 0,
         ERR_INVALID},
        {"ftp url", STORE_MESSENGER, URL(META_ATTACH_FILE, "ftp://x.test/a.pdf"), "1", 0,
         ERR_INVALID},
        {"url with a space", STORE_MESSENGER, URL(META_ATTACH_IMAGE, "https://x.test/a b.png"), "1",
         0, ERR_INVALID},
        {"bare scheme", STORE_INSTAGRAM, URL(META_ATTACH_VIDEO, "https://"), "1", 0, ERR_INVALID},
        {"attachment_id with a slash", STORE_MESSENGER, ATT_ID(META_ATTACH_AUDIO, "12/3"), "1", 0,
         ERR_INVALID},
        {"reusable by id",
         STORE_MESSENGER,
         {.kind = META_CONTENT_ATTACHMENT,
          .u.attachment = {.type = META_ATTACH_IMAGE, .attachment_id = "1", .is_reusable = true}},
         "1",
         0,
         ERR_INVALID},
        {"template attachment", STORE_MESSENGER, URL((enum meta_attachment_type)4, "https://x.t/"),
         "1", 0, ERR_INVALID},
        {"unknown content kind",
         STORE_MESSENGER,
         {.kind = (enum meta_content_kind)2},
         "1",
         0,
         ERR_INVALID},
        {"14 quick replies",
         STORE_MESSENGER,
         {.kind = META_CONTENT_TEXT, .u.text = "hi", .quick_replies = qr_14, .n_quick_replies = 14},
         "1",
         0,
         ERR_INVALID},
        {"quick reply title 21 chars",
         STORE_INSTAGRAM,
         {.kind = META_CONTENT_TEXT,
          .u.text = "hi",
          .quick_replies = qr_long_title,
          .n_quick_replies = 1},
         "1",
         0,
         ERR_INVALID},
        {"empty quick reply title",
         STORE_MESSENGER,
         {.kind = META_CONTENT_TEXT,
          .u.text = "hi",
          .quick_replies = qr_empty_title,
          .n_quick_replies = 1},
         "1",
         0,
         ERR_INVALID},
        {"quick reply without payload",
         STORE_MESSENGER,
         {.kind = META_CONTENT_TEXT,
          .u.text = "hi",
          .quick_replies = qr_no_payload,
          .n_quick_replies = 1},
         "1",
         0,
         ERR_INVALID},
        {"quick replies counted, none given",
         STORE_MESSENGER,
         {.kind = META_CONTENT_TEXT, .u.text = "hi", .n_quick_replies = 1},
         "1",
         0,
         ERR_INVALID},
        {"empty metadata",
         STORE_MESSENGER,
         {.kind = META_CONTENT_TEXT, .u.text = "hi", .metadata = ""},
         "1",
         0,
         ERR_INVALID},
        {"metadata 1000 chars",
         STORE_MESSENGER,
         {.kind = META_CONTENT_TEXT, .u.text = "hi", .metadata = meta_1000},
         "1",
         0,
         ERR_INVALID},
        {"metadata not UTF-8",
         STORE_INSTAGRAM,
         {.kind = META_CONTENT_TEXT, .u.text = "hi", .metadata = "\xff"},
         "1",
         0,
         ERR_INVALID},
        {"no recipient", STORE_MESSENGER, TEXT("hi"), NULL, 0, ERR_INVALID},
        {"empty recipient", STORE_MESSENGER, TEXT("hi"), "", 0, ERR_INVALID},
        {"recipient with a path", STORE_MESSENGER, TEXT("hi"), "1/../2", 0, ERR_INVALID},
        {"recipient with a space", STORE_INSTAGRAM, TEXT("hi"), "1 2", 0, ERR_INVALID},
        {"a fourth messaging type (retired tags, UTILITY)", STORE_MESSENGER, TEXT("hi"), "1", 3,
         ERR_INVALID},
        {"negative messaging type", STORE_MESSENGER, TEXT("hi"), "1", -1, ERR_INVALID},
        {"unknown platform", (enum store_platform)2, TEXT("hi"), "1", 0, ERR_INVALID},
    };
    memcpy(c, cases, sizeof cases);
    *n = N(cases);
}

/* A client whose Graph is a closed port: a call that reached the wire would fail TRANSIENT. */
static struct meta_graph *unreachable_graph(void)
{
    const struct meta_graph_opts o = {.graph_url = "http://127.0.0.1:1",
                                      .version = "v24.0",
                                      .app_id = APP_ID,
                                      .app_secret = APP_SECRET,
                                      .timeout_ms = 300};
    struct meta_graph *g;
    assert_int_equal(meta_graph_new(&o, &g), ERR_OK);
    return g;
}

static void assert_refused(enum err rc, enum err want, const struct meta_graph_error *e,
                           const char *name)
{
    if (rc != want)
        fail_msg("%s: %s, want %s", name, err_name(rc), err_name(want));
    if (e->cls != META_ERR_INVALID || e->http_status != 0 || e->code != 0 || !e->message[0])
        fail_msg("%s: not refused before the wire (class %s)", name, meta_err_class_name(e->cls));
}

static void test_refusals(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    build_long_texts(&a);
    struct refusal cases[64];
    size_t n;
    refusal_cases(cases, &n);
    struct meta_graph *g = unreachable_graph();
    for (size_t i = 0; i < n; i++) {
        const struct refusal *c = &cases[i];
        const struct meta_send_account acct = {c->platform, PAGE_IG, "EAAtoken"};
        const struct meta_send_kind kind = {(enum meta_send_mode)c->mode};
        char dummy[] = "x";
        char *json = dummy;
        const char *why = NULL;
        enum err rc = meta_send_body(&a, c->platform, c->recipient, kind, &c->m, &json, &why);
        if (rc != c->want || json || !why)
            fail_msg("%s: body %s, want %s", c->name, err_name(rc), err_name(c->want));
        struct meta_send_result r;
        struct meta_graph_error e;
        rc = meta_send_message(g, &a, &acct, c->recipient, kind, &c->m, &r, &e);
        assert_refused(rc, c->want, &e, c->name);
        assert_null(r.message_id);
    }
    meta_graph_free(g);
    arena_release(&a);
}

/* Private replies, sender actions, comments and the account are checked the same way. */
static void test_refusals_other_calls(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    struct meta_graph *g = unreachable_graph();
    const struct meta_send_account ok = {STORE_INSTAGRAM, PAGE_IG, "EAAtoken"};
    const struct meta_send_account bad[] = {
        {STORE_MESSENGER, "104/messages", "EAAtoken"},
        {STORE_MESSENGER, PAGE_IG, NULL},
        {STORE_MESSENGER, PAGE_IG, ""},
        {(enum store_platform)7, PAGE_IG, "EAAtoken"},
    };
    const struct meta_message hi = text_msg("hi");
    const struct meta_message image = URL(META_ATTACH_IMAGE, "https://x.test/a.png");
    struct meta_send_result r;
    struct meta_graph_error e;
    const char *id;
    for (size_t i = 0; i < N(bad); i++) {
        const struct meta_send_kind k = {META_SEND_RESPONSE};
        assert_refused(meta_send_message(g, &a, &bad[i], "1", k, &hi, &r, &e), ERR_INVALID, &e,
                       "bad account");
        assert_refused(meta_send_action(g, &bad[i], "1", META_ACTION_TYPING_ON, &e), ERR_INVALID,
                       &e, "bad account action");
        assert_refused(meta_comment_hide(g, &bad[i], "1", true, &e), ERR_INVALID, &e, "bad hide");
    }
    assert_refused(meta_private_reply(g, &a, &ok, "17865799348089039", &image, &r, &e), ERR_INVALID,
                   &e, "private reply with an attachment");
    assert_refused(meta_private_reply(g, &a, &ok, "1?x=1", &hi, &r, &e), ERR_INVALID, &e,
                   "private reply to a bad comment id");
    assert_refused(meta_private_reply(g, &a, &ok, "1", NULL, &r, &e), ERR_INVALID, &e,
                   "private reply without a message");
    assert_refused(meta_send_action(g, &ok, "", META_ACTION_MARK_SEEN, &e), ERR_INVALID, &e,
                   "action without recipient");
    assert_refused(meta_send_action(g, &ok, "1", (enum meta_sender_action)3, &e), ERR_INVALID, &e,
                   "react is not ours");
    assert_refused(meta_comment_reply(g, &a, &ok, "1", "", &id, &e), ERR_INVALID, &e,
                   "empty public reply");
    assert_refused(meta_comment_reply(g, &a, &ok, "1", repeat(&a, "x", 2201), &id, &e), ERR_INVALID,
                   &e, "public reply 2201 chars");
    assert_refused(meta_comment_reply(g, &a, &ok, "../1", "hi", &id, &e), ERR_INVALID, &e,
                   "public reply to a bad comment id");
    assert_refused(meta_comment_hide(g, &ok, "", true, &e), ERR_INVALID, &e, "hide no comment");
    meta_graph_free(g);
    arena_release(&a);
}

/* ---- bodies: Meta's documented shapes (meta-platform.md 2.1-2.5) ---- */

struct body_case {
    const char *name;
    int call; /* 0 message, 1 private reply, 2 sender action */
    enum store_platform platform;
    const char *to;
    enum meta_send_mode mode;
    struct meta_message m;
    enum meta_sender_action action;
    const char *doc; /* as documented, keys in any order */
};

static const struct meta_quick_reply qr_yes[] = {{"Yes", "YES"}};

static const struct body_case body_cases[] = {
    {"2.1 Messenger request (without notification_type)",
     0,
     STORE_MESSENGER,
     "24014619347007919",
     META_SEND_RESPONSE,
     {.kind = META_CONTENT_TEXT,
      .u.text = "hello, world",
      .quick_replies = qr_yes,
      .n_quick_replies = 1,
      .metadata = "my-correlation-id"},
     0,
     "{\"recipient\":{\"id\":\"24014619347007919\"},\"messaging_type\":\"RESPONSE\",\"message\":{"
     "\"text\":"
     "\"hello, world\",\"quick_replies\":[{\"content_type\":\"text\",\"title\":\"Yes\","
     "\"payload\":\"YES\"}],\"metadata\":\"my-correlation-id\"}}"},
    {"2.2 HUMAN_AGENT", 0, STORE_MESSENGER, "24014619347007919", META_SEND_HUMAN_AGENT, TEXT("..."),
     0,
     "{\"recipient\":{\"id\":\"24014619347007919\"},\"messaging_type\":\"MESSAGE_TAG\",\"tag\":"
     "\"HUMAN_AGENT\",\"message\":{\"text\":\"...\"}}"},
    {"2.2 UPDATE on Instagram", 0, STORE_INSTAGRAM, "17018421156904241", META_SEND_UPDATE,
     TEXT("Back!"), 0,
     "{\"recipient\":{\"id\":\"17018421156904241\"},\"messaging_type\":\"UPDATE\",\"message\":{"
     "\"text\":"
     "\"Back!\"}}"},
    {"2.5 image by url, reusable",
     0,
     STORE_MESSENGER,
     "1",
     META_SEND_RESPONSE,
     {.kind = META_CONTENT_ATTACHMENT,
      .u.attachment = {.type = META_ATTACH_IMAGE,
                       .url = "https://x.test/a.png",
                       .is_reusable = true}},
     0,
     "{\"recipient\":{\"id\":\"1\"},\"messaging_type\":\"RESPONSE\",\"message\":{\"attachment\":"
     "{\"type\":\"image\",\"payload\":{\"url\":\"https://x.test/a.png\",\"is_reusable\":true}}}}"},
    {"2.5 file by attachment_id", 0, STORE_INSTAGRAM, "2", META_SEND_RESPONSE,
     ATT_ID(META_ATTACH_FILE, "1857777774821032"), 0,
     "{\"recipient\":{\"id\":\"2\"},\"messaging_type\":\"RESPONSE\",\"message\":{\"attachment\":"
     "{\"type\":\"file\",\"payload\":{\"attachment_id\":\"1857777774821032\"}}}}"},
    {"audio and video by url", 0, STORE_MESSENGER, "3", META_SEND_RESPONSE,
     URL(META_ATTACH_AUDIO, "http://x.test/a.m4a?sig=1&x=%20"), 0,
     "{\"recipient\":{\"id\":\"3\"},\"messaging_type\":\"RESPONSE\",\"message\":{\"attachment\":"
     "{\"type\":\"audio\",\"payload\":{\"url\":\"http://x.test/a.m4a?sig=1&x=%20\"}}}}"},
    {"UTF-8 text stays UTF-8, quotes escaped", 0, STORE_INSTAGRAM, "4", META_SEND_RESPONSE,
     TEXT("Caf\xc3\xa9 \"ol\xc3\xa9\" \xf0\x9f\x91\x8b\n/ok"), 0,
     "{\"recipient\":{\"id\":\"4\"},\"messaging_type\":\"RESPONSE\",\"message\":{\"text\":"
     "\"Caf\xc3\xa9 \\\"ol\xc3\xa9\\\" \xf0\x9f\x91\x8b\\n/ok\"}}"},
    {"2.3 private reply", 1, STORE_INSTAGRAM, "17865799348089039", 0,
     TEXT("Thanks! How can I help?"), 0,
     "{\"recipient\":{\"comment_id\":\"17865799348089039\"},\"message\":{\"text\":\"Thanks! How "
     "can I help?\"}}"},
    {"2.4 typing_on", 2, STORE_INSTAGRAM, "17018421156904241", 0, TEXT(NULL), META_ACTION_TYPING_ON,
     "{\"recipient\":{\"id\":\"17018421156904241\"},\"sender_action\":\"typing_on\"}"},
    {"2.4 mark_seen", 2, STORE_MESSENGER, "5", 0, TEXT(NULL), META_ACTION_MARK_SEEN,
     "{\"recipient\":{\"id\":\"5\"},\"sender_action\":\"mark_seen\"}"},
    {"2.4 typing_off", 2, STORE_MESSENGER, "5", 0, TEXT(NULL), META_ACTION_TYPING_OFF,
     "{\"recipient\":{\"id\":\"5\"},\"sender_action\":\"typing_off\"}"},
};

static void test_bodies(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    for (size_t i = 0; i < N(body_cases); i++) {
        const struct body_case *c = &body_cases[i];
        char *json = NULL;
        const char *why = NULL;
        enum err rc;
        if (c->call == 0)
            rc = meta_send_body(&a, c->platform, c->to, (struct meta_send_kind){c->mode}, &c->m,
                                &json, &why);
        else if (c->call == 1)
            rc = meta_private_reply_body(&a, c->platform, c->to, &c->m, &json, &why);
        else
            rc = meta_action_body(&a, c->to, c->action, &json, &why);
        if (rc != ERR_OK)
            fail_msg("%s: %s (%s)", c->name, err_name(rc), why ? why : "");
        if (strcmp(json, sorted(&a, c->doc)) != 0)
            fail_msg("%s:\n got  %s\n want %s", c->name, json, sorted(&a, c->doc));
    }
    /* the limits themselves are allowed */
    const struct meta_message at_limit[] = {
        {.kind = META_CONTENT_TEXT, .u.text = repeat(&a, "\xf0\x9f\x98\x80", 1999)},
        {.kind = META_CONTENT_TEXT,
         .u.text = "hi",
         .quick_replies = qr_14,
         .n_quick_replies = 13,
         .metadata = repeat(&a, "\xc3\xa9", 999)},
        {.kind = META_CONTENT_TEXT, .u.text = "hi", .quick_replies = qr_ok, .n_quick_replies = 2},
    };
    build_long_texts(&a);
    for (size_t i = 0; i < N(at_limit); i++) {
        char *json;
        const char *why;
        assert_int_equal(meta_send_body(&a, STORE_MESSENGER, "1", (struct meta_send_kind){0},
                                        &at_limit[i], &json, &why),
                         ERR_OK);
    }
    const struct meta_quick_reply qr_20[] = {{repeat(&a, "\xe2\x9d\xa4", 20), "p"}};
    const struct meta_message m20 = {
        .kind = META_CONTENT_TEXT, .u.text = "hi", .quick_replies = qr_20, .n_quick_replies = 1};
    const char *why;
    assert_int_equal(meta_message_check(STORE_INSTAGRAM, &m20, &why), ERR_OK);
    const struct meta_message ig_1000 = text_msg(repeat(&a, "\xf0\x9f\x98\x80", 250));
    assert_int_equal(meta_message_check(STORE_INSTAGRAM, &ig_1000, &why), ERR_OK);
    arena_release(&a);
}

/* ---- end to end against the local Meta ---- */

struct world {
    struct emulator *emu;
    char base[64];
    struct meta_graph *g;
    struct arena a;
    struct meta_send_account msgr, ig;
    const char *psid[4], *igsid[4]; /* customers' scoped ids on PAGE_IG */
    const char *media_id;           /* the seeded Instagram post */
};

static json_t *control(struct world *w, const char *method, const char *path, const char *json)
{
    static const char *const hdr[] = {"Content-Type: application/json", NULL};
    struct http_client_resp r;
    const char *url = arena_printf(&w->a, "%s%s", w->base, path);
    size_t len = json ? strlen(json) : 0;
    assert_int_equal(http_client_do(method, url, hdr, json, len, 5000, 1 << 20, &r), ERR_OK);
    if (r.status < 200 || r.status >= 300)
        fail_msg("%s %s: %d %s", method, path, r.status, r.body);
    json_t *v = json_loadb(r.body, r.len, 0, NULL);
    free(r.body);
    assert_non_null(v);
    arena_on_free(&w->a, (arena_free_fn *)json_decref, v);
    return v;
}

static void fault(struct world *w, const char *json)
{
    json_t *v = control(w, "POST", "/_emulator/faults", json); /* once: json_is_* are macros */
    assert_true(json_is_array(json_object_get(v, "faults")));
}

static void advance(struct world *w, long long ms)
{
    control(w, "POST", "/_emulator/clock", arena_printf(&w->a, "{\"advance_ms\":%lld}", ms));
}

/* Customer n writes on a channel (this opens the 24-h window); returns the thread id. */
static const char *customer_writes(struct world *w, int n, const char *channel)
{
    const char *body = arena_printf(&w->a, "{\"channel\":\"%s\",\"text\":\"hello\"}", channel);
    json_t *v =
        control(w, "POST", arena_printf(&w->a, "/_emulator/customers/%d/messages", n), body);
    return json_string_value(json_object_get(v, "thread"));
}

static void on_code(void *ctx, const char *k, const char *v)
{
    if (!strcmp(k, "code"))
        *(const char **)ctx = v;
}

/* Dana signs in on the login dialog; the code becomes a long-lived user token, in w->a. */
static const char *login(struct world *w)
{
    char *form =
        arena_printf(&w->a, "client_id=%s&redirect_uri=%s&state=s1&scope=%s&decision=allow", APP_ID,
                     http_url_encode(&w->a, REDIRECT_URI), http_url_encode(&w->a, SCOPES));
    static const char *const hdr[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    static const char *const want[] = {"Location", NULL};
    const struct http_client_req req = {
        .method = "POST",
        .url = arena_printf(&w->a, "%s/v24.0/dialog/oauth/confirm", w->base),
        .headers = hdr,
        .body = form,
        .len = strlen(form),
        .timeout_ms = 5000,
        .max_resp = 1 << 20,
        .want_headers = want,
    };
    struct http_client_resp r;
    assert_int_equal(http_client_do_ex(&req, &r), ERR_OK);
    assert_int_equal(r.status, 302);
    const char *q = r.headers[0] ? strchr(r.headers[0], '?') : NULL;
    assert_non_null(q);
    const char *code = NULL;
    http_form_each(&w->a, q + 1, strcspn(q + 1, "#"), on_code, &code);
    http_client_resp_release(&r);
    assert_non_null(code);
    struct meta_token t;
    struct meta_graph_error e;
    assert_int_equal(meta_exchange_code(w->g, &w->a, code, REDIRECT_URI, &t, &e), ERR_OK);
    /* long-lived, so that its Page token outlives the clock jumps (section 4.1) */
    assert_int_equal(meta_exchange_long_lived(w->g, &w->a, t.access_token, &t, &e), ERR_OK);
    return t.access_token;
}

static enum err keep_page_token(void *ctx, const struct meta_page *p)
{
    struct world *w = ctx;
    if (!strcmp(p->id, PAGE_IG))
        w->msgr.page_token = w->ig.page_token = arena_strdup(&w->a, p->access_token);
    return ERR_OK;
}

/* The customers' PSIDs on PAGE_IG and IGSIDs, and the seeded post, from the control API. */
static void read_world(struct world *w)
{
    json_t *st = control(w, "GET", "/_emulator/state", NULL);
    json_t *customers = json_object_get(st, "customers");
    assert_true(json_array_size(customers) >= 4);
    for (size_t i = 0; i < 4; i++) {
        json_t *c = json_array_get(customers, i);
        w->psid[i] = json_string_value(json_object_get(json_object_get(c, "psid"), PAGE_IG));
        w->igsid[i] = json_string_value(json_object_get(c, "igsid"));
        assert_non_null(w->psid[i]);
        assert_non_null(w->igsid[i]);
    }
    w->media_id =
        json_string_value(json_object_get(json_array_get(json_object_get(st, "media"), 0), "id"));
    assert_non_null(w->media_id);
}

static struct meta_graph *graph_at(const char *base, long timeout_ms)
{
    const struct meta_graph_opts o = {.graph_url = base,
                                      .version = "v24.0",
                                      .app_id = APP_ID,
                                      .app_secret = APP_SECRET,
                                      .timeout_ms = timeout_ms};
    struct meta_graph *g;
    assert_int_equal(meta_graph_new(&o, &g), ERR_OK);
    return g;
}

static int setup(void **state)
{
    log_set_level(LOG_ERROR);
    struct world *w = calloc(1, sizeof *w);
    http_client_global_init();
    const struct emulator_opts eo = {
        .host = "127.0.0.1", .app_id = APP_ID, .app_secret = APP_SECRET, .require_proof = 1};
    assert_int_equal(emulator_start(&eo, &w->emu), ERR_OK);
    snprintf(w->base, sizeof w->base, "http://127.0.0.1:%d", emulator_port(w->emu));
    w->g = graph_at(w->base, 5000);
    arena_init(&w->a);
    w->msgr = (struct meta_send_account){STORE_MESSENGER, PAGE_IG, NULL};
    w->ig = (struct meta_send_account){STORE_INSTAGRAM, PAGE_IG, NULL};
    struct meta_graph_error e;
    assert_int_equal(meta_list_pages(w->g, login(w), 0, keep_page_token, w, &e), ERR_OK);
    assert_non_null(w->msgr.page_token);
    read_world(w);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    struct world *w = *state;
    arena_release(&w->a);
    meta_graph_free(w->g);
    emulator_stop(w->emu);
    free(w);
    return 0;
}

static enum err send_text(struct world *w, const struct meta_send_account *acct, const char *to,
                          enum meta_send_mode mode, const char *text, struct meta_send_result *r,
                          struct meta_graph_error *e)
{
    const struct meta_message m = text_msg(text);
    return meta_send_message(w->g, &w->a, acct, to, (struct meta_send_kind){mode}, &m, r, e);
}

static void assert_class(enum err rc, const struct meta_graph_error *e, enum err want_rc,
                         enum meta_err_class want)
{
    if (rc != want_rc || e->cls != want)
        fail_msg("%s / %s (code %d/%d, HTTP %d), want %s / %s", err_name(rc),
                 meta_err_class_name(e->cls), e->code, e->subcode, e->http_status,
                 err_name(want_rc), meta_err_class_name(want));
}

static void test_send_in_window_and_after(void **state)
{
    struct world *w = *state;
    struct meta_send_result r;
    struct meta_graph_error e;
    const char *thread = customer_writes(w, 0, "messenger");
    const struct meta_message m = {.kind = META_CONTENT_TEXT,
                                   .u.text = "Hi Maya \xf0\x9f\x91\x8b, we open at 8.",
                                   .quick_replies = qr_ok,
                                   .n_quick_replies = 2,
                                   .metadata = "outbox:42"};
    assert_int_equal(meta_send_message(w->g, &w->a, &w->msgr, w->psid[0],
                                       (struct meta_send_kind){META_SEND_RESPONSE}, &m, &r, &e),
                     ERR_OK);
    assert_int_equal(e.cls, META_ERR_NONE);
    assert_true(r.message_id && *r.message_id);
    assert_string_equal(r.recipient_id, w->psid[0]);
    /* the mid is the thread's message id: what the echo will carry */
    json_t *t = control(w, "GET", arena_printf(&w->a, "/_emulator/threads/%s", thread), NULL);
    char *dump = json_dumps(t, 0);
    assert_non_null(strstr(dump, r.message_id));
    free(dump);
    /* Instagram through the Page */
    customer_writes(w, 0, "instagram");
    assert_int_equal(send_text(w, &w->ig, w->igsid[0], META_SEND_RESPONSE, "Hi!", &r, &e), ERR_OK);
    assert_true(r.message_id && *r.message_id);
    assert_int_equal(send_text(w, &w->ig, w->igsid[0], META_SEND_UPDATE, "Also...", &r, &e),
                     ERR_OK);
    /* 25 h later the window is closed on both */
    advance(w, 25 * HOUR_MS);
    assert_class(send_text(w, &w->msgr, w->psid[0], META_SEND_RESPONSE, "late", &r, &e), &e,
                 ERR_UPSTREAM, META_ERR_WINDOW);
    assert_int_equal(e.code, 10);
    assert_int_equal(e.subcode, 2018278);
    assert_null(r.message_id);
    long ms;
    assert_false(meta_graph_retry_delay_ms(&e, 1, &ms));
    assert_class(send_text(w, &w->ig, w->igsid[0], META_SEND_RESPONSE, "late", &r, &e), &e,
                 ERR_UPSTREAM, META_ERR_WINDOW);
    assert_int_equal(e.code, 10);
    assert_int_equal(e.subcode, 2534022);
}

static void test_human_agent_days(void **state)
{
    struct world *w = *state;
    struct meta_send_result r;
    struct meta_graph_error e;
    customer_writes(w, 1, "messenger");
    customer_writes(w, 1, "instagram");
    advance(w, 6 * DAY_MS);
    assert_class(send_text(w, &w->msgr, w->psid[1], META_SEND_RESPONSE, "no", &r, &e), &e,
                 ERR_UPSTREAM, META_ERR_WINDOW);
    assert_int_equal(send_text(w, &w->msgr, w->psid[1], META_SEND_HUMAN_AGENT,
                               "Sorry, we were "
                               "closed. Your order shipped.",
                               &r, &e),
                     ERR_OK);
    assert_true(r.message_id && *r.message_id);
    assert_int_equal(send_text(w, &w->ig, w->igsid[1], META_SEND_HUMAN_AGENT, "Shipped.", &r, &e),
                     ERR_OK);
    advance(w, 2 * DAY_MS); /* 8 days */
    assert_class(send_text(w, &w->msgr, w->psid[1], META_SEND_HUMAN_AGENT, "x", &r, &e), &e,
                 ERR_UPSTREAM, META_ERR_WINDOW);
    assert_int_equal(e.code, 10);
    assert_class(send_text(w, &w->ig, w->igsid[1], META_SEND_HUMAN_AGENT, "x", &r, &e), &e,
                 ERR_UPSTREAM, META_ERR_WINDOW);
}

static void test_sender_actions(void **state)
{
    struct world *w = *state;
    struct meta_graph_error e;
    customer_writes(w, 2, "messenger");
    customer_writes(w, 2, "instagram");
    static const enum meta_sender_action acts[] = {META_ACTION_MARK_SEEN, META_ACTION_TYPING_ON,
                                                   META_ACTION_TYPING_OFF};
    for (size_t i = 0; i < N(acts); i++) {
        assert_int_equal(meta_send_action(w->g, &w->msgr, w->psid[2], acts[i], &e), ERR_OK);
        assert_int_equal(meta_send_action(w->g, &w->ig, w->igsid[2], acts[i], &e), ERR_OK);
    }
}

static bool comment_hidden(struct world *w, const char *comment_id)
{
    const struct meta_param p[] = {{"fields", "id,hidden"}};
    const struct meta_graph_req req = {.method = "GET",
                                       .path = arena_printf(&w->a, "/%s", comment_id),
                                       .params = p,
                                       .n_params = 1,
                                       .access_token = w->ig.page_token};
    struct meta_graph_resp resp;
    struct meta_graph_error e;
    assert_int_equal(meta_graph_call(w->g, &w->a, &req, &resp, &e), ERR_OK);
    return json_is_true(json_object_get(resp.json, "hidden"));
}

static void test_comments(void **state)
{
    struct world *w = *state;
    struct meta_send_result r;
    struct meta_graph_error e;
    const char *body =
        arena_printf(&w->a, "{\"media_id\":\"%s\",\"text\":\"price?\"}", w->media_id);
    json_t *c = control(w, "POST", "/_emulator/customers/3/comments", body);
    const char *comment_id = json_string_value(json_object_get(c, "id"));
    assert_non_null(comment_id);
    const struct meta_message m = {
        .kind = META_CONTENT_TEXT, .u.text = "It's 12 EUR. Anything else?", .metadata = "pr:1"};
    assert_int_equal(meta_private_reply(w->g, &w->a, &w->ig, comment_id, &m, &r, &e), ERR_OK);
    assert_true(r.message_id && *r.message_id);
    assert_string_equal(r.recipient_id, w->igsid[3]);
    /* one private reply per comment */
    enum err rc = meta_private_reply(w->g, &w->a, &w->ig, comment_id, &m, &r, &e);
    assert_int_equal(rc, ERR_UPSTREAM);
    assert_int_equal(e.code, 10900);
    long ms;
    assert_false(meta_graph_retry_delay_ms(&e, 1, &ms));
    /* the public reply */
    const char *reply_id;
    assert_int_equal(
        meta_comment_reply(w->g, &w->a, &w->ig, comment_id, "Thanks! DM sent.", &reply_id, &e),
        ERR_OK);
    assert_true(reply_id && *reply_id && strcmp(reply_id, comment_id) != 0);
    /* hide, then unhide: the comment node says so */
    assert_int_equal(meta_comment_hide(w->g, &w->ig, comment_id, true, &e), ERR_OK);
    assert_true(comment_hidden(w, comment_id));
    assert_int_equal(meta_comment_hide(w->g, &w->ig, comment_id, false, &e), ERR_OK);
    assert_false(comment_hidden(w, comment_id));
}

static void test_faults(void **state)
{
    struct world *w = *state;
    struct meta_send_result r;
    struct meta_graph_error e;
    long ms;
    customer_writes(w, 0, "messenger");
    fault(w,
          "{\"kind\":\"user_unavailable\",\"path\":\"/messages\",\"method\":\"POST\",\"count\":1}");
    assert_class(send_text(w, &w->msgr, w->psid[0], META_SEND_RESPONSE, "a", &r, &e), &e,
                 ERR_UPSTREAM, META_ERR_RECIPIENT);
    assert_false(meta_graph_retry_delay_ms(&e, 1, &ms));
    fault(w, "{\"kind\":\"http_500\",\"path\":\"/messages\",\"method\":\"POST\",\"count\":1}");
    assert_class(send_text(w, &w->msgr, w->psid[0], META_SEND_RESPONSE, "b", &r, &e), &e, ERR_AGAIN,
                 META_ERR_TRANSIENT);
    assert_int_equal(e.http_status, 500);
    assert_true(meta_graph_retry_delay_ms(&e, 1, &ms) && ms > 0);
    fault(w, "{\"kind\":\"rate_limit\",\"path\":\"/messages\",\"method\":\"POST\",\"count\":1}");
    assert_class(send_text(w, &w->msgr, w->psid[0], META_SEND_RESPONSE, "c", &r, &e), &e, ERR_AGAIN,
                 META_ERR_RATE_LIMIT);
    assert_true(e.retry_after_s > 0);
    assert_true(meta_graph_retry_delay_ms(&e, 1, &ms) && ms >= e.retry_after_s * 1000L);
    /* no answer to a send that went out: it may have been delivered */
    fault(w, "{\"kind\":\"timeout\",\"path\":\"/messages\",\"method\":\"POST\",\"count\":1,"
             "\"delay_ms\":1500}");
    struct meta_graph *hasty = graph_at(w->base, 300);
    const struct meta_message m = text_msg("e");
    assert_class(meta_send_message(hasty, &w->a, &w->msgr, w->psid[0],
                                   (struct meta_send_kind){META_SEND_RESPONSE}, &m, &r, &e),
                 &e, ERR_UPSTREAM, META_ERR_AMBIGUOUS);
    assert_int_equal(e.http_status, 0);
    assert_false(meta_graph_retry_delay_ms(&e, 1, &ms));
    meta_graph_free(hasty);
    /* every fault was used once: the next send goes through */
    assert_int_equal(send_text(w, &w->msgr, w->psid[0], META_SEND_RESPONSE, "f", &r, &e), ERR_OK);
    /* last: the emulator may expire the token itself, not only this call */
    fault(w, "{\"kind\":\"token_expired\",\"path\":\"/messages\",\"method\":\"POST\",\"count\":1}");
    assert_class(send_text(w, &w->msgr, w->psid[0], META_SEND_RESPONSE, "d", &r, &e), &e, ERR_AUTH,
                 META_ERR_AUTH);
    assert_int_equal(e.code, 190);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_refusals_other_calls),
        cmocka_unit_test(test_bodies),
        cmocka_unit_test(test_send_in_window_and_after),
        cmocka_unit_test(test_human_agent_days),
        cmocka_unit_test(test_sender_actions),
        cmocka_unit_test(test_comments),
        cmocka_unit_test(test_faults), /* last: it ends with an expired token */
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
