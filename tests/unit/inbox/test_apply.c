/*
 * tests/unit/inbox/test_apply.c - recorded webhook bodies (../shared/reference/fixtures/
 * webhooks) parsed and applied to a temporary SQLite store: customer messages, echoes of our
 * sends (by mid and by correlation, before the Send API answered) and from Business Suite,
 * deletions, edits, reactions, reads, postbacks, referrals, standby, replays, late events and
 * unknown accounts.
 */
#include "inbox/inbox.h"

#include "testutil.h"

#include "core/json.h"
#include "inbox/window.h"
#include "meta/meta.h"

#define NOW_MS   (1800000000000LL)
#define PAGE     "12345654332"
#define CUSTOMER "987654321432"
#define OUR_APP  "1517776481860111"
#define TEXT_MID "mid.1457764197618:41d102a3e1ae206a38"
#define TEXT_TS  1457764197627LL

struct fx {
    char dir[256];
    struct store *s;
    struct arena a;
    struct inbox_apply_ctx ctx;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "%s", tu_tmpdir());
    struct store_opts so = {.data_dir = f->dir};
    assert_int_equal(store_open(&so, &f->s), ERR_OK);
    assert_int_equal(store_migrate(f->s, NULL, NULL), ERR_OK);
    arena_init(&f->a);
    f->ctx =
        (struct inbox_apply_ctx){.app_id = "42", .arena = &f->a, .pause_on_business_reply = -1};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    arena_release(&f->a);
    store_free(f->s);
    tu_rmrf(f->dir);
    free(f);
    return 0;
}

static int64_t add_account(struct fx *f, enum store_platform p, const char *id)
{
    static const unsigned char tok[] = "sealed";
    struct store_account_new in = {.platform = p,
                                   .external_id = id,
                                   .page_id = id,
                                   .name = "Test Page",
                                   .token_enc = tok,
                                   .token_enc_len = sizeof tok};
    int64_t aid = 0;
    assert_int_equal(store_account_upsert(f->s, &in, NOW_MS, &aid, NULL), ERR_OK);
    return aid;
}

/* The fixture with each "from" replaced by "to" (pairs, NULL-terminated); caller frees. */
static char *fixture(const char *rel, const char *const *subst)
{
    char *s = tu_fixture_read(rel, NULL);
    for (; subst && subst[0]; subst += 2) {
        char *at = strstr(s, subst[0]);
        assert_non_null(at);
        size_t n = strlen(s) - strlen(subst[0]) + strlen(subst[1]) + 1;
        char *out = malloc(n);
        snprintf(out, n, "%.*s%s%s", (int)(at - s), s, subst[1], at + strlen(subst[0]));
        free(s);
        s = out;
    }
    return s;
}

/* Parses the body and applies every event directly (no event dedupe: replays reach apply). */
static enum inbox_applied apply_body(struct fx *f, const char *body)
{
    struct meta_delivery d;
    const char *reason = NULL;
    assert_int_equal(meta_parse_delivery(&f->a, body, strlen(body), &d, &reason), ERR_OK);
    assert_true(d.n_events >= 1);
    enum inbox_applied how = INBOX_IGNORED;
    for (size_t i = 0; i < d.n_events; i++)
        assert_int_equal(inbox_apply_event(f->s, &f->ctx, &d.events[i], NOW_MS, &how), ERR_OK);
    return how;
}

static enum inbox_applied apply_fixture(struct fx *f, const char *rel, const char *const *subst)
{
    char *body = fixture(rel, subst);
    enum inbox_applied how = apply_body(f, body);
    free(body);
    return how;
}

static struct store_conversation one_conversation(struct fx *f)
{
    struct store_conversation *rows = NULL;
    size_t n = 0;
    assert_int_equal(store_conversations_list(f->s, &f->a, NULL, 10, &rows, &n), ERR_OK);
    assert_int_equal(n, 1);
    return rows[0];
}

static size_t messages(struct fx *f, int64_t conv, struct store_message **out)
{
    size_t n = 0;
    assert_int_equal(store_messages_list(f->s, &f->a, conv, 0, 50, out, &n), ERR_OK);
    return n;
}

static void test_customer_message(void **state)
{
    struct fx *f = *state;
    add_account(f, STORE_MESSENGER, PAGE);
    assert_int_equal(apply_fixture(f, "webhooks/page/message_text__restfb.json", NULL),
                     INBOX_APPLIED);
    struct store_conversation c = one_conversation(f);
    assert_string_equal(c.scoped_id, CUSTOMER);
    assert_string_equal(c.mode, "ai");
    assert_true(c.last_customer_at == TEXT_TS && c.last_message_at == TEXT_TS);
    assert_int_equal(c.unread, 1);
    struct store_message *m;
    assert_int_equal(messages(f, c.id, &m), 1);
    assert_string_equal(m[0].direction, "in");
    assert_string_equal(m[0].author, "customer");
    assert_string_equal(m[0].status, "received");
    assert_string_equal(m[0].mid, TEXT_MID);
    assert_string_equal(m[0].text, "hello, world!");
    assert_true(m[0].meta_ts == TEXT_TS);
    /* applied again (a replay that got past the events table): nothing changes */
    assert_int_equal(apply_fixture(f, "webhooks/page/message_text__restfb.json", NULL),
                     INBOX_APPLIED);
    struct store_conversation again = one_conversation(f);
    assert_int_equal(messages(f, c.id, &m), 1);
    assert_int_equal(again.unread, 1);
    assert_true(again.last_customer_at == TEXT_TS);
}

static void test_attachments_are_references(void **state)
{
    struct fx *f = *state;
    add_account(f, STORE_MESSENGER, PAGE);
    apply_fixture(f, "webhooks/page/message_attachment_image__restfb.json", NULL);
    struct store_conversation c = one_conversation(f);
    struct store_message *m;
    assert_int_equal(messages(f, c.id, &m), 1);
    assert_non_null(m[0].attachments);
    assert_non_null(strstr(m[0].attachments, "\"type\":\"image\""));
    assert_non_null(strstr(m[0].attachments, "\"url\":"));
}

static void test_out_of_order(void **state)
{
    struct fx *f = *state;
    add_account(f, STORE_MESSENGER, PAGE);
    apply_fixture(f, "webhooks/page/message_text__restfb.json", NULL);
    const char *older[] = {"1457764197627", "1457764000000", "41d102a3e1ae206a38", "older", NULL};
    apply_fixture(f, "webhooks/page/message_text__restfb.json", older);
    struct store_conversation c = one_conversation(f);
    struct store_message *m;
    assert_int_equal(messages(f, c.id, &m), 2);
    assert_true(c.last_customer_at == TEXT_TS && c.last_message_at == TEXT_TS);
    assert_int_equal(c.unread, 2);
}

/* Our send, stored before the Send API answered: the echo finds it by correlation (metadata),
 * gives it the mid, and never adds a second row; a replay finds it by mid. */
static void test_echo_of_our_send(void **state)
{
    struct fx *f = *state;
    int64_t acc = add_account(f, STORE_MESSENGER, PAGE);
    int64_t conv = 0;
    assert_int_equal(store_conversation_ensure(f->s, acc, CUSTOMER, NOW_MS, &conv, NULL), ERR_OK);
    struct store_message_new out = {.conversation_id = conv,
                                    .direction = "out",
                                    .author = "ai",
                                    .text = "hello, world!",
                                    .status = "sending",
                                    .messaging_type = "RESPONSE",
                                    .correlation = "DEVELOPER_DEFINED_METADATA_STRING"};
    int64_t id = 0;
    assert_int_equal(store_message_insert(f->s, &out, NOW_MS, &id), ERR_OK);
    f->ctx.app_id = OUR_APP;
    for (int round = 0; round < 2; round++) {
        apply_fixture(f, "webhooks/page/message_echo__restfb.json", NULL);
        struct store_message *m;
        assert_int_equal(messages(f, conv, &m), 1);
        assert_true(m[0].id == id);
        assert_string_equal(m[0].mid, TEXT_MID);
        assert_string_equal(m[0].status, "sent");
        assert_string_equal(m[0].author, "ai");
    }
    assert_string_equal(one_conversation(f).mode, "ai");
}

/* A reply typed in Business Suite or the phone: stored as the business's, the AI pauses. */
static void test_echo_from_business_suite(void **state)
{
    struct fx *f = *state;
    add_account(f, STORE_MESSENGER, PAGE);
    f->ctx.app_id = "42"; /* not the echo's app */
    apply_fixture(f, "webhooks/page/message_echo__restfb.json", NULL);
    struct store_conversation c = one_conversation(f);
    assert_string_equal(c.mode, "paused");
    assert_string_equal(c.handoff_reason, "a person replied from Meta's apps");
    assert_true(c.last_customer_at == 0); /* echoes never move the window */
    assert_int_equal(c.unread, 0);
    struct store_message *m;
    assert_int_equal(messages(f, c.id, &m), 1);
    assert_string_equal(m[0].direction, "out");
    assert_string_equal(m[0].author, "business");
    assert_string_equal(m[0].status, "sent");
    apply_fixture(f, "webhooks/page/message_echo__restfb.json", NULL);
    assert_int_equal(messages(f, c.id, &m), 1);
}

static void test_business_reply_setting_off(void **state)
{
    struct fx *f = *state;
    add_account(f, STORE_MESSENGER, PAGE);
    assert_int_equal(
        store_setting_set(f->s, INBOX_SETTING_PAUSE_ON_BUSINESS_REPLY, "false", NOW_MS), ERR_OK);
    apply_fixture(f, "webhooks/page/message_echo__restfb.json", NULL);
    assert_string_equal(one_conversation(f).mode, "ai");
}

static void test_deleted_is_an_update(void **state)
{
    struct fx *f = *state;
    add_account(f, STORE_MESSENGER, PAGE);
    const char *mid[] = {TEXT_MID, "message_id", NULL};
    apply_fixture(f, "webhooks/page/message_text__restfb.json", mid);
    for (int round = 0; round < 2; round++)
        apply_fixture(f, "webhooks/page/message_is_deleted__restfb.json", NULL);
    struct store_conversation c = one_conversation(f);
    struct store_message *m;
    assert_int_equal(messages(f, c.id, &m), 1);
    assert_string_equal(m[0].status, "deleted");
}

static void test_deleted_unknown_inserts_nothing(void **state)
{
    struct fx *f = *state;
    add_account(f, STORE_MESSENGER, PAGE);
    apply_fixture(f, "webhooks/page/message_is_deleted__restfb.json", NULL);
    struct store_message *m;
    assert_int_equal(messages(f, one_conversation(f).id, &m), 0);
}

static void test_edit_keeps_old_text(void **state)
{
    struct fx *f = *state;
    add_account(f, STORE_MESSENGER, PAGE);
    apply_fixture(f, "webhooks/page/message_text__restfb.json", NULL);
    const char *edit[] = {"hello, world!", "hello, edited", NULL};
    for (int round = 0; round < 2; round++)
        apply_fixture(f, "webhooks/page/message_edit__restfb.json", edit);
    struct store_message *m;
    assert_int_equal(messages(f, one_conversation(f).id, &m), 1);
    assert_string_equal(m[0].text, "hello, edited");
    assert_non_null(strstr(m[0].meta, "\"edits\":[{"));
    assert_non_null(strstr(m[0].meta, "hello, world!"));
    assert_null(strstr(strstr(m[0].meta, "hello, world!") + 1, "hello, world!")); /* once */
}

static void test_reaction_opens_window(void **state)
{
    struct fx *f = *state;
    int64_t acc = add_account(f, STORE_MESSENGER, "1234567890321");
    int64_t conv = 0;
    assert_int_equal(store_conversation_ensure(f->s, acc, "USER_ID", NOW_MS, &conv, NULL), ERR_OK);
    struct store_message_new out = {.conversation_id = conv,
                                    .direction = "out",
                                    .author = "ai",
                                    .mid = "original_message_id",
                                    .status = "sent"};
    int64_t id = 0;
    assert_int_equal(store_message_insert(f->s, &out, NOW_MS, &id), ERR_OK);
    apply_fixture(f, "webhooks/page/reaction_react__restfb.json", NULL);
    struct store_conversation c = one_conversation(f);
    assert_true(c.last_customer_at == 1572465098502LL);
    struct store_message *m;
    assert_int_equal(messages(f, conv, &m), 1);
    assert_non_null(strstr(m[0].meta, "\"action\":\"react\""));
    assert_non_null(strstr(m[0].meta, "\"reaction\":\"sad\""));
}

static void test_read_watermark(void **state)
{
    struct fx *f = *state;
    add_account(f, STORE_MESSENGER, PAGE);
    apply_fixture(f, "webhooks/page/read__restfb.json", NULL);
    struct store_conversation c = one_conversation(f);
    assert_true(c.read_watermark == 1458668856253LL);
    assert_true(c.last_customer_at == 0); /* a read does not open the window */
}

static void test_postback_and_referral_open_window(void **state)
{
    struct fx *f = *state;
    add_account(f, STORE_MESSENGER, PAGE);
    for (int round = 0; round < 2; round++) {
        apply_fixture(f, "webhooks/page/postback__restfb.json", NULL);
        apply_fixture(f, "webhooks/page/referral_shortlink__restfb.json", NULL);
    }
    struct store_conversation c = one_conversation(f);
    assert_true(c.last_customer_at == 1458692752478LL);
    struct store_message *m;
    assert_int_equal(messages(f, c.id, &m), 2);
    assert_non_null(strstr(m[0].meta, "USER_DEFINED_PAYLOAD"));
    assert_non_null(strstr(m[1].meta, "ref_data_in_m_dot_me_param"));
    assert_string_equal(m[1].author, "customer");
}

static void test_standby_is_stored_never_ours(void **state)
{
    struct fx *f = *state;
    add_account(f, STORE_INSTAGRAM, "17841456778752687");
    apply_fixture(f, "webhooks/instagram/standby_text__chatwoot_issue5906.json", NULL);
    struct store_conversation c = one_conversation(f);
    assert_true(c.is_standby);
    struct store_message *m;
    assert_int_equal(messages(f, c.id, &m), 1);
    assert_non_null(strstr(m[0].meta, "\"standby\":true"));
    assert_string_equal(m[0].text, "Hello");
}

static void test_unknown_account(void **state)
{
    struct fx *f = *state;
    char *body = fixture("webhooks/page/message_text__restfb.json", NULL);
    struct inbox_delivery_stats st = {0};
    const char *reason = NULL;
    assert_int_equal(store_begin(f->s), ERR_OK);
    assert_int_equal(inbox_handle_delivery(f->s, 1, NULL, body, strlen(body), &st, &reason),
                     ERR_OK);
    assert_int_equal(store_commit(f->s), ERR_OK);
    assert_int_equal(st.n_new, 1);
    assert_int_equal(st.n_unrouted, 1);
    assert_int_equal(st.n_applied, 0);
    struct store_conversation *rows = NULL;
    size_t n = 9;
    assert_int_equal(store_conversations_list(f->s, &f->a, NULL, 10, &rows, &n), ERR_OK);
    assert_int_equal(n, 0);
    int64_t events = 0;
    assert_int_equal(store_events_count(f->s, &events), ERR_OK);
    assert_true(events == 1);
    free(body);
}

/* Through the webhook job's own entry point: the same delivery twice is one event, one row. */
static void test_delivery_replayed(void **state)
{
    struct fx *f = *state;
    add_account(f, STORE_MESSENGER, PAGE);
    char *body = fixture("webhooks/page/message_text__restfb.json", NULL);
    for (int round = 0; round < 2; round++) {
        struct inbox_delivery_stats st = {0};
        const char *reason = NULL;
        assert_int_equal(store_begin(f->s), ERR_OK);
        assert_int_equal(inbox_handle_delivery(f->s, 1, NULL, body, strlen(body), &st, &reason),
                         ERR_OK);
        assert_int_equal(store_commit(f->s), ERR_OK);
        assert_int_equal(st.n_applied, round == 0 ? 1 : 0);
        assert_int_equal(st.n_dup, round == 0 ? 0 : 1);
    }
    struct store_message *m;
    assert_int_equal(messages(f, one_conversation(f).id, &m), 1);
    free(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_customer_message, setup, teardown),
        cmocka_unit_test_setup_teardown(test_attachments_are_references, setup, teardown),
        cmocka_unit_test_setup_teardown(test_out_of_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_echo_of_our_send, setup, teardown),
        cmocka_unit_test_setup_teardown(test_echo_from_business_suite, setup, teardown),
        cmocka_unit_test_setup_teardown(test_business_reply_setting_off, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deleted_is_an_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deleted_unknown_inserts_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edit_keeps_old_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reaction_opens_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_watermark, setup, teardown),
        cmocka_unit_test_setup_teardown(test_postback_and_referral_open_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_standby_is_stored_never_ours, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_account, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delivery_replayed, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
