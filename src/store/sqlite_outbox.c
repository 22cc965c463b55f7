/*
 * store/sqlite_outbox.c - our replies' rows as the turn and the sender move them (SQLite).
 *
 * Owns: the SQL behind store.h's outbox section. The rules (when to send, what an error
 * means) are in inbox/turn.c and inbox/sender.c. One statement per call, prepared each time:
 * a reply costs a handful of them, far from the webhook's hot path.
 */
#include "store/sqlite_int.h"

#include <string.h>

#define SQ(b) ((struct sqlite_store *)(b))

static enum err message_get(struct store *base, struct arena *a, int64_t id,
                            struct store_message *m)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st =
        sqlite_prepare_once(s, "SELECT " SQLITE_MESSAGE_COLUMNS " FROM messages WHERE id = ?1");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    enum err e = rc == SQLITE_ROW    ? ERR_OK
                 : rc == SQLITE_DONE ? ERR_NOT_FOUND
                                     : sqlite_err(s, rc, "message_get");
    if (rc == SQLITE_ROW)
        sqlite_read_message(a, st, m);
    sqlite3_finalize(st);
    return e;
}

static enum err message_last_out(struct store *base, int64_t conv, int64_t *id)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = sqlite_prepare_once(s, "SELECT coalesce(max(id), 0) FROM messages"
                                              " WHERE conversation_id = ?1 AND direction = 'out'");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, conv);
    int rc = sqlite3_step(st);
    *id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    enum err e = rc == SQLITE_ROW ? ERR_OK : sqlite_err(s, rc, "message_last_out");
    sqlite3_finalize(st);
    return e;
}

static enum err step_update(struct sqlite_store *s, sqlite3_stmt *st, const char *what,
                            bool *changed)
{
    enum err e = sqlite_step_done(s, st, what);
    *changed = e == ERR_OK && sqlite3_changes(s->db) > 0;
    sqlite3_finalize(st);
    return e;
}

static enum err message_settle(struct store *base, int64_t id, const struct store_message_settle *u,
                               int64_t now_ms, bool *changed)
{
    struct sqlite_store *s = SQ(base);
    *changed = false;
    sqlite3_stmt *st = sqlite_prepare_once(
        s, "UPDATE messages SET status = ?2,"
           " mid = CASE WHEN ?3 IS NULL OR EXISTS (SELECT 1 FROM messages o"
           "   WHERE o.conversation_id = messages.conversation_id AND o.mid = ?3"
           "   AND o.id <> messages.id) THEN mid ELSE coalesce(mid, ?3) END,"
           " error_code = ?4, error_subcode = ?5, error_message = ?6, updated_at = ?7"
           " WHERE id = ?1 AND direction = 'out' AND status IN ('queued','sending')"
           " AND (?3 IS NULL OR mid IS NULL OR mid = ?3)");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, id);
    sqlite_bind_text_or_null(st, 2, u->status);
    sqlite_bind_text_or_null(st, 3, u->mid);
    if (u->error_message) {
        sqlite3_bind_int(st, 4, u->error_code);
        sqlite3_bind_int(st, 5, u->error_subcode);
    }
    sqlite_bind_text_or_null(st, 6, u->error_message);
    sqlite3_bind_int64(st, 7, now_ms);
    return step_update(s, st, "message_settle", changed);
}

static enum err conversation_disclose(struct store *base, int64_t conv, int64_t now_ms, bool *first)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = sqlite_prepare_once(s, "UPDATE conversations SET ai_disclosed_at = ?2"
                                              " WHERE id = ?1 AND ai_disclosed_at IS NULL");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, conv);
    sqlite3_bind_int64(st, 2, now_ms);
    return step_update(s, st, "conversation_disclose", first);
}

const struct store_outbox_ops sqlite_outbox_ops = {
    .message_get = message_get,
    .message_last_out = message_last_out,
    .message_settle = message_settle,
    .conversation_disclose = conversation_disclose,
};
