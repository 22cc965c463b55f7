/*
 * tests/unit/store/test_migrate.c - versioned migrations on SQLite: a new database reaches the
 * latest version, running again changes nothing, a database from a newer binary is refused,
 * and the schema holds every table the design needs.
 */
#include "store/store.h"

#include <sqlite3.h>

#include "core/log.h"
#include "testutil.h"

static struct store *open_at(const char *dir)
{
    struct store_opts so = {.data_dir = dir};
    struct store *s = NULL;
    assert_int_equal(store_open(&so, &s), ERR_OK);
    return s;
}

static void test_fresh_then_idempotent(void **state)
{
    (void)state;
    log_set_level(LOG_WARN);
    char dir[256];
    snprintf(dir, sizeof dir, "%s", tu_tmpdir());
    struct store *s = open_at(dir);
    int from = -1, to = -1, v = -1;
    assert_int_equal(store_schema_version(s, &v), ERR_OK);
    assert_int_equal(v, 0);
    assert_int_equal(store_ping(s), ERR_AGAIN); /* not migrated: not ready */
    assert_int_equal(store_migrate(s, &from, &to), ERR_OK);
    assert_int_equal(from, 0);
    assert_int_equal(to, store_schema_latest());
    assert_int_equal(store_ping(s), ERR_OK);
    store_free(s);
    s = open_at(dir); /* a second process, later */
    assert_int_equal(store_migrate(s, &from, &to), ERR_OK);
    assert_int_equal(from, store_schema_latest());
    assert_int_equal(to, store_schema_latest());
    store_free(s);
    tu_rmrf(dir);
}

static void test_every_table_exists(void **state)
{
    (void)state;
    static const char *const tables[] = {"accounts",
                                         "contacts",
                                         "conversations",
                                         "messages",
                                         "events",
                                         "jobs",
                                         "dead_letters",
                                         "operators",
                                         "sessions",
                                         "audit_log",
                                         "oauth_states",
                                         "deletion_requests",
                                         "media",
                                         "posts",
                                         "post_items",
                                         "kb_documents",
                                         "kb_chunks",
                                         "kb_fts",
                                         "settings",
                                         "bus_events",
                                         "llm_usage",
                                         "journal_offsets",
                                         "schema_migrations"};
    char dir[256];
    snprintf(dir, sizeof dir, "%s", tu_tmpdir());
    struct store *s = open_at(dir);
    assert_int_equal(store_migrate(s, NULL, NULL), ERR_OK);
    store_free(s);
    char path[400];
    snprintf(path, sizeof path, "%s/switchboard.db", dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        sqlite3_stmt *st;
        assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE name = ?",
                                            -1, &st, NULL),
                         SQLITE_OK);
        sqlite3_bind_text(st, 1, tables[i], -1, SQLITE_STATIC);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        if (sqlite3_column_int(st, 0) != 1)
            fail_msg("table %s missing", tables[i]);
        sqlite3_finalize(st);
    }
    /* WAL mode is on. */
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(db);
    tu_rmrf(dir);
}

static void test_newer_database_is_refused(void **state)
{
    (void)state;
    char dir[256];
    snprintf(dir, sizeof dir, "%s", tu_tmpdir());
    struct store *s = open_at(dir);
    assert_int_equal(store_migrate(s, NULL, NULL), ERR_OK);
    store_free(s);
    char path[400];
    snprintf(path, sizeof path, "%s/switchboard.db", dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "INSERT INTO schema_migrations VALUES (9999, 'future', 0)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    s = open_at(dir);
    int from = 0;
    assert_int_equal(store_migrate(s, &from, NULL), ERR_CONFLICT);
    assert_int_equal(from, 9999);
    store_free(s);
    tu_rmrf(dir);
}

static void test_events_once_per_key(void **state)
{
    (void)state;
    char dir[256];
    snprintf(dir, sizeof dir, "%s", tu_tmpdir());
    struct store *s = open_at(dir);
    assert_int_equal(store_migrate(s, NULL, NULL), ERR_OK);
    struct store_event ev = {.object = "instagram",
                             .entry_id = "1784",
                             .kind = "message",
                             .channel = "messaging",
                             .key = "mid:abc",
                             .mid = "abc",
                             .ts_ms = 1,
                             .raw_json = "{}"};
    int64_t id = 0, n = 0;
    assert_int_equal(store_event_insert(s, &ev, 10, &id), ERR_OK);
    assert_true(id > 0);
    assert_int_equal(store_event_insert(s, &ev, 11, &id), ERR_CONFLICT);
    ev.entry_id = "other"; /* the same mid under another account is another event */
    assert_int_equal(store_event_insert(s, &ev, 12, &id), ERR_OK);
    assert_int_equal(store_events_count(s, &n), ERR_OK);
    assert_int_equal(n, 2);
    store_free(s);
    tu_rmrf(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fresh_then_idempotent),
        cmocka_unit_test(test_every_table_exists),
        cmocka_unit_test(test_newer_database_is_refused),
        cmocka_unit_test(test_events_once_per_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
