/*
 * tests/unit/meta/test_privacy.c - deletion requests and their job, the export document and
 * the status page (meta/privacy.c, privacy_export.c, privacy_page.c) on a real database.
 */
#include "meta/privacy.h"

#include "core/log.h"
#include "store/privacy_seed.h"
#include "testutil.h"

static const char *const kinds[] = {META_JOB_PRIVACY_DELETE};

/* Claims the one due deletion job (fails the test when there is none). */
static struct store_job claim(struct seed *w, struct arena *a)
{
    struct store_job job;
    size_t n = 0;
    assert_int_equal(store_jobs_claim(w->s, kinds, 1, INT64_MAX / 2, 60000, "test", 1, a, &job, &n),
                     ERR_OK);
    assert_int_equal(n, 1);
    return job;
}

static enum err run_in_tx(struct seed *w, const struct store_job *job, const char **reason)
{
    assert_int_equal(store_begin(w->s), ERR_OK);
    enum err rc = meta_privacy_run_job(w->s, job, reason);
    if (rc == ERR_OK)
        assert_int_equal(store_commit(w->s), ERR_OK);
    else
        store_rollback(w->s);
    return rc;
}

static void test_request_and_job(void **state)
{
    (void)state;
    struct seed w;
    seed_open(&w);
    char code[META_DELETION_CODE_LEN + 1], other[META_DELETION_CODE_LEN + 1];
    assert_int_equal(meta_privacy_request(w.s, NULL, SEED_MAYA, "meta", code), ERR_OK);
    assert_true(meta_deletion_code_ok(code));
    assert_int_equal(meta_privacy_request(w.s, NULL, SEED_MAYA, "cli", other), ERR_OK);
    assert_string_not_equal(code, other); /* random, never reused */
    /* the row and its job exist together */
    assert_int_equal(seed_count(&w, "SELECT count(*) FROM deletion_requests WHERE status ="
                                    " 'pending' AND user_id = '" SEED_MAYA "'"),
                     2);
    assert_int_equal(seed_count(&w, "SELECT count(*) FROM jobs WHERE kind = 'privacy_delete'"
                                    " AND state = 'ready' AND dedupe = 'privacy:' || payload"),
                     2);

    struct arena a;
    arena_init(&a);
    struct store_job job = claim(&w, &a);
    const char *reason = NULL;
    assert_int_equal(run_in_tx(&w, &job, &reason), ERR_OK);
    struct store_deletion d;
    const char *done_code = (const char *)job.payload; /* NUL-terminated by the store */
    assert_int_equal(store_deletion_get(w.s, &a, done_code, &d), ERR_OK);
    assert_string_equal(d.status, "completed");
    assert_string_equal(d.detail, "{\"accounts\":0,\"contacts\":1,\"conversations\":1,"
                                  "\"messages\":3,\"events\":3,\"dead_letters\":1,\"comments\":0}");
    assert_true(d.completed_at > 0);
    assert_int_equal(
        seed_count(&w, "SELECT count(*) FROM contacts WHERE user_id = '" SEED_MAYA "'"), 0);
    /* a replay (the crash came after the commit but before anything else) changes nothing */
    int64_t completed_at = d.completed_at;
    assert_int_equal(run_in_tx(&w, &job, &reason), ERR_OK);
    assert_int_equal(store_deletion_get(w.s, &a, done_code, &d), ERR_OK);
    assert_int_equal(d.completed_at, completed_at);
    /* the second request finds nothing left, and says so */
    struct store_job second = claim(&w, &a);
    assert_int_equal(run_in_tx(&w, &second, &reason), ERR_OK);
    assert_int_equal(store_deletion_get(w.s, &a, (const char *)second.payload, &d), ERR_OK);
    assert_string_equal(d.detail, "{\"accounts\":0,\"contacts\":0,\"conversations\":0,"
                                  "\"messages\":0,\"events\":0,\"dead_letters\":0,\"comments\":0}");
    arena_release(&a);
    seed_close(&w);
}

static void test_job_refuses_bad_payloads(void **state)
{
    (void)state;
    struct seed w;
    seed_open(&w);
    static const struct {
        const char *payload;
        const char *reason;
    } cases[] = {
        {"", "payload is not a confirmation code"},
        {"0123456789abcdef0123456789abcdeF", "payload is not a confirmation code"},
        {"0123456789abcdef0123456789abcdef0", "payload is not a confirmation code"},
        {"0123456789abcdef0123456789abcdef", "no deletion request with this code"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct store_job job = {.kind = META_JOB_PRIVACY_DELETE,
                                .payload = (const unsigned char *)cases[i].payload,
                                .payload_len = strlen(cases[i].payload)};
        const char *reason = NULL;
        assert_int_equal(run_in_tx(&w, &job, &reason), ERR_INVALID);
        assert_string_equal(reason, cases[i].reason);
    }
    char code[META_DELETION_CODE_LEN + 1];
    assert_int_equal(meta_privacy_request(w.s, NULL, "not an id", "cli", code), ERR_INVALID);
    assert_int_equal(meta_privacy_request(w.s, NULL, "", "cli", code), ERR_INVALID);
    assert_int_equal(seed_count(&w, "SELECT count(*) FROM deletion_requests"), 0);
    assert_int_equal(seed_count(&w, "SELECT count(*) FROM jobs"), 0);
    seed_close(&w);
}

/* A storage failure is retried; on the last attempt the request is marked failed instead,
 * with nothing half deleted. */
static void test_last_attempt_marks_failed(void **state)
{
    (void)state;
    struct seed w;
    seed_open(&w);
    char code[META_DELETION_CODE_LEN + 1];
    assert_int_equal(meta_privacy_request(w.s, NULL, SEED_MAYA, "meta", code), ERR_OK);
    seed_sql(&w, "DROP TABLE dead_letters"); /* the erase's second step now fails */
    struct store_job job = {.kind = META_JOB_PRIVACY_DELETE,
                            .payload = (const unsigned char *)code,
                            .payload_len = strlen(code),
                            .attempts = 1,
                            .max_attempts = 3};
    const char *reason = NULL;
    assert_int_not_equal(run_in_tx(&w, &job, &reason), ERR_OK);
    job.attempts = 3;
    assert_int_equal(run_in_tx(&w, &job, &reason), ERR_OK);
    struct arena a;
    arena_init(&a);
    struct store_deletion d;
    assert_int_equal(store_deletion_get(w.s, &a, code, &d), ERR_OK);
    assert_string_equal(d.status, "failed");
    assert_non_null(strstr(d.detail, "storage error"));
    assert_int_equal(seed_count(&w, "SELECT count(*) FROM events"), 4); /* the first step undone */
    assert_non_null(strstr(meta_deletion_page(&a, &d), "could not be completed"));
    arena_release(&a);
    seed_close(&w);
}

static void test_export_document(void **state)
{
    (void)state;
    struct seed w;
    seed_open(&w);
    json_t *doc = NULL;
    assert_int_equal(meta_privacy_export(w.s, SEED_MAYA, &doc), ERR_OK);
    assert_string_equal(json_string_value(json_object_get(doc, "user_id")), SEED_MAYA);
    const json_t *contacts = json_object_get(doc, "contacts");
    assert_int_equal(json_array_size(contacts), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(contacts, 0), "name")),
                        "Maya Lopez");
    const json_t *messages = json_object_get(doc, "messages");
    assert_int_equal(json_array_size(messages), 3);
    /* JSON columns are embedded as JSON */
    const json_t *att = json_object_get(json_array_get(messages, 0), "attachments");
    assert_true(json_is_array(att));
    const json_t *events = json_object_get(doc, "events");
    assert_int_equal(json_array_size(events), 3);
    const json_t *raw = json_object_get(json_array_get(events, 0), "raw");
    assert_string_equal(json_string_value(json_object_get(json_object_get(raw, "sender"), "id")),
                        SEED_MAYA_SID);
    assert_int_equal(json_array_size(json_object_get(doc, "accounts")), 0);
    assert_int_equal(json_array_size(json_object_get(doc, "dead_letters")), 1);
    char *text = json_dumps(doc, JSON_COMPACT);
    assert_null(strstr(text, SEED_SAM_SID)); /* nobody else's data */
    assert_null(strstr(text, "Sam Chen"));
    free(text);
    json_decref(doc);

    assert_int_equal(meta_privacy_export(w.s, SEED_ADMIN, &doc), ERR_OK);
    const json_t *acct = json_array_get(json_object_get(doc, "accounts"), 0);
    assert_non_null(acct);
    assert_string_equal(json_string_value(json_object_get(acct, "external_id")), SEED_PAGE);
    assert_null(json_object_get(acct, "token_enc"));
    text = json_dumps(doc, JSON_COMPACT);
    assert_null(strstr(text, SEED_TOKEN));
    assert_null(strstr(text, "token_enc"));
    free(text);
    json_decref(doc);
    seed_close(&w);
}

static void test_status_page(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    struct store_deletion d = {.code = "0123456789abcdef0123456789abcdef",
                               .user_id = SEED_MAYA,
                               .kind = "meta",
                               .status = "pending",
                               .created_at = 1700000000000};
    char *page = meta_deletion_page(&a, &d);
    assert_non_null(strstr(page, "Status: in progress."));
    assert_non_null(strstr(page, d.code));
    assert_non_null(strstr(page, "2023-11-14T22:13:20 UTC"));
    assert_null(strstr(page, SEED_MAYA)); /* the page names the request, not the person */

    d.status = "completed";
    d.completed_at = 1700000001000;
    d.detail = "{\"accounts\":0,\"contacts\":1,\"conversations\":1,\"messages\":3,\"events\":1,"
               "\"dead_letters\":0,\"comments\":0}";
    page = meta_deletion_page(&a, &d);
    assert_non_null(strstr(page, "Status: completed."));
    assert_non_null(strstr(page, "<li>3 messages</li>"));
    assert_non_null(strstr(page, "<li>1 conversation with this business</li>"));
    assert_null(strstr(page, "dead"));

    d.detail = "{\"accounts\":0,\"contacts\":0,\"conversations\":0,\"messages\":0,\"events\":0,"
               "\"dead_letters\":0,\"comments\":0}";
    page = meta_deletion_page(&a, &d);
    assert_non_null(strstr(page, "We held no data about you"));

    d.status = "failed";
    d.detail = "<script>alert(1)</script> & more";
    page = meta_deletion_page(&a, &d);
    assert_non_null(strstr(page, "could not be completed"));
    assert_null(strstr(page, "<script>"));
    assert_non_null(strstr(page, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more"));

    page = meta_deletion_page(&a, NULL);
    assert_non_null(strstr(page, "no deletion request with this confirmation code"));
    arena_release(&a);
}

static void test_code_format(void **state)
{
    (void)state;
    assert_true(meta_deletion_code_ok("0123456789abcdef0123456789abcdef"));
    assert_false(meta_deletion_code_ok("0123456789ABCDEF0123456789abcdef"));
    assert_false(meta_deletion_code_ok("0123456789abcdef0123456789abcde"));
    assert_false(meta_deletion_code_ok("../../../../etc/passwd0123456789"));
    assert_false(meta_deletion_code_ok(""));
    assert_false(meta_deletion_code_ok(NULL));
}

int main(void)
{
    log_set_level(LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_and_job),
        cmocka_unit_test(test_job_refuses_bad_payloads),
        cmocka_unit_test(test_last_attempt_marks_failed),
        cmocka_unit_test(test_export_document),
        cmocka_unit_test(test_status_page),
        cmocka_unit_test(test_code_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
