/*
 * tests/unit/store/privacy_seed.h - a small world of people for the privacy tests
 * (header-only): a business with a Page connected by an admin, and two customers who wrote
 * to it. Rows the store has no API for yet (contacts, conversations, messages) are written
 * with SQL on a second connection, the way the inbox will write them.
 */
#ifndef SB_TEST_PRIVACY_SEED_H
#define SB_TEST_PRIVACY_SEED_H

#include <sqlite3.h>

#include "store/store.h"
#include "testutil.h"

#define SEED_PAGE     "104000000000001"
#define SEED_ADMIN    "10160000000000001" /* app-scoped id of the admin who connected it */
#define SEED_MAYA     "10170000000000001" /* customer: app-scoped id */
#define SEED_MAYA_SID "7061839550569623"  /* her page-scoped id (PSID) */
#define SEED_SAM      "10170000000000002"
#define SEED_SAM_SID  "7061839550569624"
#define SEED_TOKEN    "sealed-token-bytes-XYZZY" /* stands for a sealed token */

struct seed {
    char dir[256];
    struct store *s;
    sqlite3 *db;
};

static inline void seed_sql(struct seed *w, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(w->db, sql, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("seed SQL failed: %s (%s)", err ? err : "?", sql);
}

static inline void seed_event(struct seed *w, const char *key, const char *sender,
                              const char *recipient, const char *text)
{
    char raw[512];
    snprintf(raw, sizeof raw,
             "{\"sender\":{\"id\":\"%s\"},\"recipient\":{\"id\":\"%s\"},\"message\":"
             "{\"mid\":\"m-%s\",\"text\":\"%s\"}}",
             sender, recipient, key, text);
    struct store_event ev = {.object = "page",
                             .entry_id = SEED_PAGE,
                             .kind = "message",
                             .channel = "messaging",
                             .key = key,
                             .sender_id = sender,
                             .recipient_id = recipient,
                             .raw_json = raw};
    int64_t id = 0;
    assert_int_equal(store_event_insert(w->s, &ev, 1000, &id), ERR_OK);
}

/* Account 1 (the Page, connected by SEED_ADMIN), Maya (contact 1, conversation 1, three
 * messages, three events: two from her, one echo to her, one dead letter naming her) and Sam
 * (contact 2, conversation 2, two messages, one event, one dead letter). */
static inline void seed_open(struct seed *w)
{
    snprintf(w->dir, sizeof w->dir, "%s", tu_tmpdir());
    struct store_opts so = {.data_dir = w->dir};
    assert_int_equal(store_open(&so, &w->s), ERR_OK);
    assert_int_equal(store_migrate(w->s, NULL, NULL), ERR_OK);
    char path[512];
    snprintf(path, sizeof path, "%s/switchboard.db", w->dir);
    assert_int_equal(sqlite3_open(path, &w->db), SQLITE_OK);
    sqlite3_busy_timeout(w->db, 5000);
    seed_sql(w, "INSERT INTO accounts (id, platform, external_id, name, token_enc, "
                "token_expires_at, user_id, scopes, created_at, updated_at) VALUES (1, "
                "'messenger', '" SEED_PAGE "', 'Northwind Coffee', CAST('" SEED_TOKEN
                "' AS BLOB), 99, '" SEED_ADMIN "', 'pages_messaging', 1, 1);"
                "INSERT INTO contacts (id, account_id, scoped_id, name, user_id, created_at, "
                "updated_at) VALUES (1, 1, '" SEED_MAYA_SID "', 'Maya Lopez', '" SEED_MAYA
                "', 1, 1), (2, 1, '" SEED_SAM_SID "', 'Sam Chen', '" SEED_SAM "', 1, 1);"
                "INSERT INTO conversations (id, account_id, contact_id, created_at, updated_at)"
                " VALUES (1, 1, 1, 1, 1), (2, 1, 2, 1, 1);"
                "INSERT INTO messages (conversation_id, direction, author, text, attachments,"
                " status, created_at, updated_at) VALUES"
                " (1, 'in', 'customer', 'Do you ship to Canada?', '[{\"type\":\"image\"}]',"
                " 'received', 1, 1), (1, 'out', 'ai', 'We do!', NULL, 'sent', 2, 2),"
                " (1, 'in', 'customer', 'Great', NULL, 'received', 3, 3),"
                " (2, 'in', 'customer', 'Open on Sunday?', NULL, 'received', 1, 1),"
                " (2, 'out', 'human', 'Yes, 9 to 5', NULL, 'sent', 2, 2);");
    seed_event(w, "maya-1", SEED_MAYA_SID, SEED_PAGE, "Do you ship to Canada?");
    seed_event(w, "maya-2", SEED_MAYA_SID, SEED_PAGE, "Great");
    seed_event(w, "maya-echo", SEED_PAGE, SEED_MAYA_SID, "We do!");
    seed_event(w, "sam-1", SEED_SAM_SID, SEED_PAGE, "Open on Sunday?");
    static const char maya_dead[] = "{\"sender\":{\"id\":\"" SEED_MAYA_SID "\"},\"text\":\"\xff";
    static const char sam_dead[] = "{\"sender\":{\"id\":\"" SEED_SAM_SID "\"},\"text\":\"\xff";
    assert_int_equal(store_dead_letter_add(w->s, "webhook", NULL, "invalid JSON", maya_dead,
                                           sizeof maya_dead - 1, 1),
                     ERR_OK);
    assert_int_equal(store_dead_letter_add(w->s, "webhook", NULL, "invalid JSON", sam_dead,
                                           sizeof sam_dead - 1, 1),
                     ERR_OK);
}

static inline int64_t seed_count(struct seed *w, const char *sql)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(w->db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static inline void seed_close(struct seed *w)
{
    sqlite3_close(w->db);
    store_free(w->s);
    tu_rmrf(w->dir);
}

#endif
