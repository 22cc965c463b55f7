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
        int rc =
            sqlite3_prepare_v3(s->db, seen_sql, -1, SQLITE_PREPARE_PERSISTENT, &s->seen_stmt, NULL);
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

static enum err account_set_silent(struct store *base, int64_t id, int64_t since_ms, int64_t now_ms,
                                   bool *changed)
{
    struct sqlite_store *s = SQ(base);
    (void)now_ms;
    sqlite3_stmt *st = sqlite_prepare_once(s, "UPDATE accounts SET silent_since = ?2 WHERE id = ?1"
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
    sqlite3_stmt *st =
        sqlite_prepare_once(s, "SELECT id FROM messages WHERE conversation_id = ?1 AND mid = ?2");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, conv);
    sqlite_bind_text_or_null(st, 2, mid);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    enum err e =
        rc == SQLITE_ROW || rc == SQLITE_DONE ? ERR_OK : sqlite_err(s, rc, "message_by_mid");
    sqlite3_finalize(st);
    return e;
}

/* ---- comments ---- */

static enum err comment_insert(struct store *base, const struct store_comment_new *c,
                               int64_t now_ms, int64_t *id)
{
    struct sqlite_store *s = SQ(base);
    *id = 0;
    sqlite3_stmt *st = sqlite_prepare_once(
        s, "INSERT INTO comments (account_id, comment_id, parent_id, media_id, from_id,"
           " from_name, text, meta_ts, created_at, updated_at)"
           " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)"
           " ON CONFLICT (account_id, comment_id) DO NOTHING RETURNING id");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, c->account_id);
    sqlite_bind_text_or_null(st, 2, c->comment_id);
    sqlite_bind_text_or_null(st, 3, c->parent_id);
    sqlite_bind_text_or_null(st, 4, c->media_id);
    sqlite_bind_text_or_null(st, 5, c->from_id);
    sqlite_bind_text_or_null(st, 6, c->from_name);
    sqlite_bind_text_or_null(st, 7, c->text);
    if (c->meta_ts > 0)
        sqlite3_bind_int64(st, 8, c->meta_ts);
    sqlite3_bind_int64(st, 9, now_ms);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    while (rc == SQLITE_ROW)
        rc = sqlite3_step(st);
    enum err e = rc == SQLITE_DONE ? ERR_OK : sqlite_err(s, rc, "comment_insert");
    sqlite3_finalize(st);
    return e;
}

static void read_comment(struct arena *a, sqlite3_stmt *st, struct store_comment *c)
{
    memset(c, 0, sizeof *c);
    c->id = sqlite3_column_int64(st, 0);
    c->account_id = sqlite3_column_int64(st, 1);
    c->comment_id = sqlite_col_text(a, st, 2);
    c->parent_id = sqlite_col_text(a, st, 3);
    c->media_id = sqlite_col_text(a, st, 4);
    c->from_id = sqlite_col_text(a, st, 5);
    c->from_name = sqlite_col_text(a, st, 6);
    c->text = sqlite_col_text(a, st, 7);
    c->meta_ts = sqlite3_column_int64(st, 8);
    c->status = sqlite_col_text(a, st, 9);
    c->action = sqlite_col_text(a, st, 10);
    c->reply_text = sqlite_col_text(a, st, 11);
    c->reply_id = sqlite_col_text(a, st, 12);
    c->error = sqlite_col_text(a, st, 13);
    c->is_hidden = sqlite3_column_int(st, 14) != 0;
    c->created_at = sqlite3_column_int64(st, 15);
    c->updated_at = sqlite3_column_int64(st, 16);
}

/* One comment by id, or the newest max of an account (0: all). */
static enum err comments_read(struct store *base, struct arena *a, int64_t id, int64_t account_id,
                              size_t max, struct store_comment **out, size_t *n)
{
    struct sqlite_store *s = SQ(base);
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = sqlite_prepare_once(
        s, "SELECT id, account_id, comment_id, parent_id, media_id, from_id, from_name, text,"
           " coalesce(meta_ts, 0), status, action, reply_text, reply_id, error, is_hidden,"
           " created_at, updated_at FROM comments"
           " WHERE (?1 > 0 AND id = ?1) OR (?1 = 0 AND (?2 = 0 OR account_id = ?2))"
           " ORDER BY id DESC LIMIT ?3");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, account_id);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
    *out = max ? arena_alloc(a, max * sizeof **out) : NULL;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < max)
        read_comment(a, st, &(*out)[(*n)++]);
    enum err e = rc == SQLITE_DONE || rc == SQLITE_ROW ? ERR_OK : sqlite_err(s, rc, "comments");
    sqlite3_finalize(st);
    return e;
}

static enum err comment_settle(struct store *base, int64_t id, const struct store_comment_settle *u,
                               int64_t now_ms)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = sqlite_prepare_once(
        s, "UPDATE comments SET status = ?2, action = ?3, reply_text = ?4, reply_id = ?5,"
           " error = ?6, is_hidden = ?7, updated_at = ?8 WHERE id = ?1");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, id);
    sqlite_bind_text_or_null(st, 2, u->status);
    sqlite_bind_text_or_null(st, 3, u->action);
    sqlite_bind_text_or_null(st, 4, u->reply_text);
    sqlite_bind_text_or_null(st, 5, u->reply_id);
    sqlite_bind_text_or_null(st, 6, u->error);
    sqlite3_bind_int(st, 7, u->is_hidden ? 1 : 0);
    sqlite3_bind_int64(st, 8, now_ms);
    bool changed = false;
    enum err rc = run_changed(s, st, "comment_settle", &changed);
    return rc == ERR_OK && !changed ? ERR_NOT_FOUND : rc;
}

const struct store_pipeline_ops sqlite_pipeline_ops = {
    .account_pause_sends = account_pause_sends,
    .account_seen = account_seen,
    .account_set_silent = account_set_silent,
    .message_id_by_mid = message_id_by_mid,
    .comment_insert = comment_insert,
    .comments_read = comments_read,
    .comment_settle = comment_settle,
};
