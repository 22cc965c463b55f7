/*
 * store/sqlite_people.c - operators, their sessions and the OAuth login states (SQLite).
 *
 * These run at human speed (a sign-in, one session lookup per dashboard request), so each
 * statement is prepared per call rather than kept in the backend's statement table.
 */
#include "store/sqlite_int.h"

#include <string.h>

#define SQ(b) ((struct sqlite_store *)(b))

/* Steps a statement that returns no rows and finalizes it; *changes = rows changed. */
enum err sqlite_operator_add(struct store *base, const char *email, const char *hash,
                             const char *role, int64_t now_ms, int64_t *id)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = sqlite_prepare_once(s, "INSERT INTO operators (email, password_hash, role, "
                                              "created_at) VALUES (?1, ?2, ?3, ?4)");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_text(st, 1, email, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, role, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, now_ms);
    enum err rc = sqlite_run_once(s, st, "operator_add", NULL);
    if (rc == ERR_OK)
        *id = sqlite3_last_insert_rowid(s->db);
    return rc;
}

enum err sqlite_operator_get(struct store *base, struct arena *a, const char *email, int64_t id,
                             struct store_operator *out)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = sqlite_prepare_once(s, "SELECT id, email, password_hash, role, created_at, "
                                              "coalesce(disabled_at, 0) FROM operators "
                                              "WHERE (?1 IS NOT NULL AND email = ?1) OR id = ?2");
    if (!st)
        return ERR_INTERNAL;
    if (email)
        sqlite3_bind_text(st, 1, email, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, email ? -1 : id);
    int rc = sqlite3_step(st);
    enum err e = rc == SQLITE_ROW    ? ERR_OK
                 : rc == SQLITE_DONE ? ERR_NOT_FOUND
                                     : sqlite_err(s, rc, "operator_get");
    if (e == ERR_OK)
        *out = (struct store_operator){.id = sqlite3_column_int64(st, 0),
                                       .email = sqlite_col_text(a, st, 1),
                                       .password_hash = sqlite_col_text(a, st, 2),
                                       .role = sqlite_col_text(a, st, 3),
                                       .created_at = sqlite3_column_int64(st, 4),
                                       .disabled_at = sqlite3_column_int64(st, 5)};
    sqlite3_finalize(st);
    return e;
}

enum err sqlite_session_add(struct store *base, const struct store_session *ss)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st =
        sqlite_prepare_once(s, "INSERT INTO sessions (id, operator_id, csrf, created_at, "
                               "expires_at, last_seen_at) VALUES (?1, ?2, ?3, ?4, ?5, ?4)");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_text(st, 1, ss->id_hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, ss->operator_id);
    sqlite3_bind_text(st, 3, ss->csrf, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, ss->created_at);
    sqlite3_bind_int64(st, 5, ss->expires_at);
    return sqlite_run_once(s, st, "session_add", NULL);
}

enum err sqlite_session_get(struct store *base, struct arena *a, const char *id_hash,
                            int64_t now_ms, struct store_session *out)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = sqlite_prepare_once(s, "SELECT s.id, s.operator_id, s.csrf, s.created_at, "
                                              "s.expires_at, s.last_seen_at FROM sessions s "
                                              "JOIN operators o ON o.id = s.operator_id "
                                              "WHERE s.id = ?1 AND s.expires_at > ?2 "
                                              "AND o.disabled_at IS NULL");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_text(st, 1, id_hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now_ms);
    int rc = sqlite3_step(st);
    enum err e = rc == SQLITE_ROW    ? ERR_OK
                 : rc == SQLITE_DONE ? ERR_NOT_FOUND
                                     : sqlite_err(s, rc, "session_get");
    if (e == ERR_OK)
        *out = (struct store_session){.id_hash = sqlite_col_text(a, st, 0),
                                      .operator_id = sqlite3_column_int64(st, 1),
                                      .csrf = sqlite_col_text(a, st, 2),
                                      .created_at = sqlite3_column_int64(st, 3),
                                      .expires_at = sqlite3_column_int64(st, 4),
                                      .last_seen_at = sqlite3_column_int64(st, 5)};
    sqlite3_finalize(st);
    return e;
}

enum err sqlite_session_touch(struct store *base, const char *id_hash, int64_t now_ms,
                              int64_t expires_at)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = sqlite_prepare_once(
        s, "UPDATE sessions SET last_seen_at = ?2, expires_at = ?3 WHERE id = ?1");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_text(st, 1, id_hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now_ms);
    sqlite3_bind_int64(st, 3, expires_at);
    return sqlite_run_once(s, st, "session_touch", NULL);
}

enum err sqlite_session_delete(struct store *base, const char *id_hash)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = sqlite_prepare_once(s, "DELETE FROM sessions WHERE id = ?1");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_text(st, 1, id_hash, -1, SQLITE_STATIC);
    return sqlite_run_once(s, st, "session_delete", NULL);
}

enum err sqlite_oauth_state_add(struct store *base, const char *state_hash,
                                const char *session_hash, int64_t now_ms, int64_t expires_at)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = sqlite_prepare_once(s, "INSERT INTO oauth_states (state_hash, session_id, "
                                              "created_at, expires_at) VALUES (?1, ?2, ?3, ?4)");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_text(st, 1, state_hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, session_hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now_ms);
    sqlite3_bind_int64(st, 4, expires_at);
    return sqlite_run_once(s, st, "oauth_state_add", NULL);
}

enum err sqlite_oauth_state_take(struct store *base, const char *state_hash,
                                 const char *session_hash, int64_t now_ms)
{
    struct sqlite_store *s = SQ(base);
    /* One statement burns the state whatever happens next, so it can never be replayed. */
    sqlite3_stmt *st =
        sqlite_prepare_once(s, "UPDATE oauth_states SET used_at = ?3 WHERE state_hash = ?1 "
                               "AND used_at IS NULL AND expires_at > ?3 "
                               "RETURNING session_id = ?2");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_text(st, 1, state_hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, session_hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now_ms);
    int rc = sqlite3_step(st);
    enum err e = rc == SQLITE_ROW    ? (sqlite3_column_int(st, 0) ? ERR_OK : ERR_AUTH)
                 : rc == SQLITE_DONE ? ERR_NOT_FOUND
                                     : sqlite_err(s, rc, "oauth_state_take");
    if (rc == SQLITE_ROW)
        sqlite3_step(st); /* finish the statement so the update is complete */
    sqlite3_finalize(st);
    return e;
}
