/*
 * store/sqlite_pipeline.c - the messaging pipeline's rows (SQLite): accounts' send pauses and
 * liveliness, and comments.
 *
 * Owns: the SQL behind store.h's pipeline section. The rules (when Meta throttles, when an
 * account is silent, what to do with a comment) are in inbox/.
 * store_account_seen() runs for every routed webhook event, so its UPDATE is shaped to match
 * no row at all while the account's last_event_at is recent (a busy account costs an index
 * probe, not a write); its statement is prepared once per connection. The others run at
 * human or throttling speed and are prepared per call.
 */
#include "store/sqlite_int.h"

#include <string.h>

#define SQ(b) ((struct sqlite_store *)(b))

static enum err run_changed(struct sqlite_store *s, sqlite3_stmt *st, const char *what,
                            bool *changed)
{
    int64_t n = 0;
    enum err rc = sqlite_run_once(s, st, what, &n);
    if (changed)
        *changed = n > 0;
    return rc;
}

static enum err account_pause_sends(struct store *base, int64_t id, int64_t until_ms,
                                    int64_t now_ms)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = sqlite_prepare_once(
        s, "UPDATE accounts SET send_paused_until = max(coalesce(send_paused_until, 0), ?2),"
           " updated_at = ?3 WHERE id = ?1");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, until_ms);
    sqlite3_bind_int64(st, 3, now_ms);
    bool changed = false;
    enum err rc = run_changed(s, st, "account_pause_sends", &changed);
    return rc == ERR_OK && !changed ? ERR_NOT_FOUND : rc;
}

/* The moving average: 7/8 of the old gap and 1/8 of the new one (the first gap taken as is).
 * The WHERE keeps a recent account from being written at all. */
static const char seen_sql[] =
    "UPDATE accounts SET"
    " event_gap_ms = CASE WHEN last_event_at IS NULL THEN event_gap_ms"
    "   WHEN event_gap_ms IS NULL THEN ?2 - last_event_at"
    "   ELSE (7 * event_gap_ms + (?2 - last_event_at)) / 8 END,"
    " last_event_at = ?2, silent_since = NULL"
    " WHERE id = ?1 AND (last_event_at IS NULL OR last_event_at <= ?2 - ?3)";

static enum err account_seen(struct store *base, int64_t id, int64_t ts_ms, int64_t now_ms)
{
    struct sqlite_store *s = SQ(base);
    (void)now_ms; /* updated_at is the profile's: a heartbeat does not move it */
    if (s->seen_stmt) {
        sqlite3_reset(s->seen_stmt);
        sqlite3_clear_bindings(s->seen_stmt);
    } else {
        int rc = sqlite3_prepare_v3(s->db, seen_sql, -1, SQLITE_PREPARE_PERSISTENT,
                                    &s->seen_stmt, NULL);
        if (rc != SQLITE_OK)
            return sqlite_err(s, rc, "prepare account_seen");
    }
    sqlite3_stmt *st = s->seen_stmt;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, ts_ms);
    sqlite3_bind_int64(st, 3, STORE_SEEN_STEP_MS);
    int rc = sqlite3_step(st);
    return rc == SQLITE_DONE ? ERR_OK : sqlite_err(s, rc, "account_seen");
}

static enum err account_set_silent(struct store *base, int64_t id, int64_t since_ms,
                                   int64_t now_ms, bool *changed)
{
    struct sqlite_store *s = SQ(base);
    (void)now_ms;
    sqlite3_stmt *st =
        sqlite_prepare_once(s, "UPDATE accounts SET silent_since = ?2 WHERE id = ?1"
                               " AND silent_since IS NOT ?2");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, id);
    if (since_ms > 0)
        sqlite3_bind_int64(st, 2, since_ms);
    return run_changed(s, st, "account_set_silent", changed);
}

static enum err message_id_by_mid(struct store *base, int64_t conv, const char *mid, int64_t *id)
{
    struct sqlite_store *s = SQ(base);
    *id = 0;
    sqlite3_stmt *st = sqlite_prepare_once(
        s, "SELECT id FROM messages WHERE conversation_id = ?1 AND mid = ?2");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, conv);
    sqlite_bind_text_or_null(st, 2, mid);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    enum err e = rc == SQLITE_ROW || rc == SQLITE_DONE ? ERR_OK : sqlite_err(s, rc, "message_by_mid");
    sqlite3_finalize(st);
    return e;
}

const struct store_pipeline_ops sqlite_pipeline_ops = {
    .account_pause_sends = account_pause_sends,
    .account_seen = account_seen,
    .account_set_silent = account_set_silent,
    .message_id_by_mid = message_id_by_mid,
};
