/*
 * store/sqlite_handoff.c - who answers a conversation: its mode and handoff columns (SQLite).
 *
 * Owns: the SQL behind store.h's handoff section. The rules (which moves exist, what each
 * cause means, the cool-down) are in inbox/handoff.c. Prepared per call: a handoff is rare.
 */
#include "store/sqlite_int.h"

#include <string.h>

#define SQ(b) ((struct sqlite_store *)(b))

static bool is_mode(const char *m)
{
    return m && (strcmp(m, "ai") == 0 || strcmp(m, "human") == 0 || strcmp(m, "paused") == 0);
}

/* ?1 id, ?2..?4 from, ?5 to, ?6 cause, ?7 reason, ?8 operator (NULL: none), ?9 now,
 * ?10 hand back. Moving to ai clears the handoff; the no-op guard keeps a repeated move from
 * touching the row (and from announcing a change on the bus). */
static const char change_sql[] =
    "UPDATE conversations SET mode = ?5,"
    " handoff_cause = CASE WHEN ?5 = 'ai' THEN NULL ELSE ?6 END,"
    " handoff_reason = CASE WHEN ?5 = 'ai' THEN NULL ELSE ?7 END,"
    " handoff_at = CASE WHEN ?5 = 'ai' THEN NULL WHEN mode = ?5 THEN handoff_at ELSE ?9 END,"
    " assigned_operator_id = CASE WHEN ?5 = 'ai' THEN NULL ELSE ?8 END,"
    " handed_back_at = CASE WHEN ?10 THEN ?9 ELSE handed_back_at END,"
    " ai_disclosed_at = CASE WHEN ?10 THEN NULL ELSE ai_disclosed_at END,"
    " updated_at = ?9"
    " WHERE id = ?1 AND mode IN (?2, ?3, ?4)"
    " AND NOT (mode = ?5 AND assigned_operator_id IS ?8)";

static enum err conversation_change_mode(struct store *base, int64_t conv,
                                         const struct store_mode_change *c, int64_t now_ms,
                                         bool *changed)
{
    struct sqlite_store *s = SQ(base);
    *changed = false;
    if (!is_mode(c->to))
        return ERR_INVALID;
    for (int i = 0; i < 3; i++)
        if (c->from[i] && !is_mode(c->from[i]))
            return ERR_INVALID;
    sqlite3_stmt *st = sqlite_prepare_once(s, change_sql);
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, conv);
    for (int i = 0; i < 3; i++)
        sqlite_bind_text_or_null(st, 2 + i, c->from[i]);
    sqlite_bind_text_or_null(st, 5, c->to);
    sqlite_bind_text_or_null(st, 6, c->cause);
    sqlite_bind_text_or_null(st, 7, c->reason);
    if (c->operator_id > 0)
        sqlite3_bind_int64(st, 8, c->operator_id);
    sqlite3_bind_int64(st, 9, now_ms);
    sqlite3_bind_int(st, 10, c->is_hand_back);
    enum err e = sqlite_step_done(s, st, "conversation_change_mode");
    *changed = e == ERR_OK && sqlite3_changes(s->db) > 0;
    sqlite3_finalize(st);
    return e;
}

static enum err operator_pick_online(struct store *base, int64_t since_ms, int64_t now_ms,
                                     int64_t *operator_id)
{
    struct sqlite_store *s = SQ(base);
    *operator_id = 0;
    sqlite3_stmt *st = sqlite_prepare_once(
        s, "SELECT o.id FROM operators o JOIN sessions x ON x.operator_id = o.id"
           " WHERE o.disabled_at IS NULL AND x.last_seen_at >= ?1 AND x.expires_at > ?2"
           " GROUP BY o.id"
           " ORDER BY (SELECT count(*) FROM conversations v"
           "   WHERE v.assigned_operator_id = o.id AND v.mode = 'human'),"
           " max(x.last_seen_at) DESC, o.id LIMIT 1");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, since_ms);
    sqlite3_bind_int64(st, 2, now_ms);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *operator_id = sqlite3_column_int64(st, 0);
    enum err e =
        rc == SQLITE_ROW || rc == SQLITE_DONE ? ERR_OK : sqlite_err(s, rc, "operator_pick_online");
    sqlite3_finalize(st);
    return e;
}

const struct store_handoff_ops sqlite_handoff_ops = {
    .conversation_change_mode = conversation_change_mode,
    .operator_pick_online = operator_pick_online,
};
