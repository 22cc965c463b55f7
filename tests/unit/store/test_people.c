/*
 * tests/unit/store/test_people.c - operators, sessions and OAuth login states: emails unique
 * whatever their case, sessions dead once expired, and a login state usable once, only by
 * its own session, only within its lifetime.
 */
#include "store/store.h"

#include "core/log.h"
#include "testutil.h"

static struct store *open_store(void)
{
    log_set_level(LOG_WARN);
    static char dir[256];
    snprintf(dir, sizeof dir, "%s", tu_tmpdir());
    struct store_opts so = {.data_dir = dir};
    struct store *s = NULL;
    assert_int_equal(store_open(&so, &s), ERR_OK);
    assert_int_equal(store_migrate(s, NULL, NULL), ERR_OK);
    return s;
}

static void test_operators_and_sessions(void **state)
{
    (void)state;
    struct store *s = open_store();
    struct arena a;
    arena_init(&a);
    int64_t id = 0, id2 = 0;
    assert_int_equal(store_operator_add(s, "Ana@Shop.example", "$argon2id$x", "admin", 1, &id),
                     ERR_OK);
    assert_int_equal(store_operator_add(s, "ana@shop.EXAMPLE", "$argon2id$y", "agent", 2, &id2),
                     ERR_CONFLICT);
    struct store_operator op;
    assert_int_equal(store_operator_by_email(s, &a, "ana@shop.example", &op), ERR_OK);
    assert_int_equal(op.id, id);
    assert_string_equal(op.role, "admin");
    assert_int_equal(store_operator_by_email(s, &a, "bo@shop.example", &op), ERR_NOT_FOUND);
    assert_int_equal(store_operator_by_id(s, &a, id + 100, &op), ERR_NOT_FOUND);

    struct store_session ss = {
        .id_hash = "h1", .operator_id = id, .csrf = "c", .created_at = 1000, .expires_at = 2000};
    assert_int_equal(store_session_add(s, &ss), ERR_OK);
    struct store_session got;
    assert_int_equal(store_session_get(s, &a, "h1", 1999, &got), ERR_OK);
    assert_string_equal(got.csrf, "c");
    assert_int_equal(store_session_get(s, &a, "h1", 2000, &got), ERR_NOT_FOUND); /* expired */
    assert_int_equal(store_session_touch(s, "h1", 1500, 5000), ERR_OK);
    assert_int_equal(store_session_get(s, &a, "h1", 4999, &got), ERR_OK);
    assert_int_equal(got.last_seen_at, 1500);
    assert_int_equal(store_session_delete(s, "h1"), ERR_OK);
    assert_int_equal(store_session_get(s, &a, "h1", 1600, &got), ERR_NOT_FOUND);
    arena_release(&a);
    store_free(s);
}

static void test_oauth_states(void **state)
{
    (void)state;
    struct store *s = open_store();
    static const struct {
        const char *what, *state, *session;
        int64_t now;
        enum err want;
    } steps[] = {
        {"unknown state", "nope", "sess-a", 1000, ERR_NOT_FOUND},
        {"expired state", "st-old", "sess-a", 700000, ERR_NOT_FOUND},
        {"another session's state", "st-b", "sess-a", 1000, ERR_AUTH},
        {"...which is burnt for its own session too", "st-b", "sess-b", 1000, ERR_NOT_FOUND},
        {"good state", "st-a", "sess-a", 1000, ERR_OK},
        {"the same state again", "st-a", "sess-a", 1001, ERR_NOT_FOUND},
    };
    assert_int_equal(store_oauth_state_add(s, "st-a", "sess-a", 0, 600000), ERR_OK);
    assert_int_equal(store_oauth_state_add(s, "st-b", "sess-b", 0, 600000), ERR_OK);
    assert_int_equal(store_oauth_state_add(s, "st-old", "sess-a", 0, 600000), ERR_OK);
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        enum err rc = store_oauth_state_take(s, steps[i].state, steps[i].session, steps[i].now);
        if (rc != steps[i].want)
            fail_msg("%s: got %s, want %s", steps[i].what, err_name(rc), err_name(steps[i].want));
    }
    store_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_operators_and_sessions),
        cmocka_unit_test(test_oauth_states),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
