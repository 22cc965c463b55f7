/*
 * store/sqlite_inbox.c - contacts, conversations, messages and settings (SQLite rows).
 *
 * Owns: the SQL behind store.h's conversation section. The rules (which event does what) are
 * in inbox/apply.c. The webhook job runs these statements for every event inside a shared
 * batch transaction, so the hot ones are prepared once per connection (inbox_stmts) and every
 * update is written to be idempotent and monotonic in its WHERE clause.
 */
#include "store/sqlite_int.h"

#include <string.h>

#define SQ(b) ((struct sqlite_store *)(b))

enum inbox_stmt {
    I_ROUTE,
    I_FIND,
    I_CONTACT_ADD,
    I_CONV_ADD,
    I_MSG_INSERT,
    I_MSG_BY_MID,
    I_ECHO_SENT,
    I_ECHO_CORR,
    I_MSG_DELETE,
    I_MSG_EDIT,
    I_MSG_REACT,
    I_CONV_TOUCH,
    I_CONV_MODE,
    I_SETTING_GET,
    I__COUNT
};

_Static_assert(I__COUNT <= SQLITE_INBOX_STMTS, "raise SQLITE_INBOX_STMTS");

static const char *const inbox_sql[I__COUNT] = {
    [I_ROUTE] = "SELECT id FROM accounts WHERE platform = ?1 AND external_id = ?2",
    [I_FIND] = "SELECT c.id, v.id FROM contacts c LEFT JOIN conversations v"
               " ON v.account_id = c.account_id AND v.contact_id = c.id"
               " WHERE c.account_id = ?1 AND c.scoped_id = ?2",
    [I_CONTACT_ADD] = "INSERT INTO contacts (account_id, scoped_id, created_at, updated_at)"
                      " VALUES (?1, ?2, ?3, ?3) RETURNING id",
    [I_CONV_ADD] = "INSERT INTO conversations (account_id, contact_id, created_at, updated_at)"
                   " VALUES (?1, ?2, ?3, ?3) RETURNING id",
    [I_MSG_INSERT] =
        "INSERT INTO messages (conversation_id, direction, author, mid, text, attachments,"
        " reply_to, meta, status, messaging_type, tag, correlation, meta_ts, created_at,"
        " updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14)"
        " ON CONFLICT (conversation_id, mid) WHERE mid IS NOT NULL DO NOTHING RETURNING id",
    [I_MSG_BY_MID] = "SELECT id FROM messages WHERE conversation_id = ?1 AND mid = ?2",
    [I_ECHO_SENT] = "UPDATE messages SET status = CASE WHEN status = 'deleted' THEN status"
                    " ELSE 'sent' END, meta_ts = coalesce(meta_ts, ?2), updated_at = ?3"
                    " WHERE id = ?1 AND (status IN ('queued','sending','failed')"
                    " OR (meta_ts IS NULL AND ?2 IS NOT NULL))",
    [I_ECHO_CORR] = "UPDATE messages SET mid = ?2, status = 'sent', meta_ts = ?4,"
                    " updated_at = ?5 WHERE id = (SELECT id FROM messages"
                    " WHERE conversation_id = ?1 AND correlation = ?3 AND direction = 'out'"
                    " AND mid IS NULL AND status IN ('queued','sending','failed')"
                    " ORDER BY id LIMIT 1) RETURNING id",
    [I_MSG_DELETE] = "UPDATE messages SET status = 'deleted', updated_at = ?3"
                     " WHERE conversation_id = ?1 AND mid = ?2 AND status <> 'deleted'",
    [I_MSG_EDIT] = "UPDATE messages SET meta = json_set(coalesce(meta, '{}'), '$.num_edit', ?4,"
                   " '$.edits', json_insert(coalesce(json_extract(meta, '$.edits'), '[]'), '$[#]',"
                   " json_object('text', text, 'replaced_at', ?5))), text = ?3, updated_at = ?6"
                   " WHERE conversation_id = ?1 AND mid = ?2"
                   " AND coalesce(json_extract(meta, '$.num_edit'), -1) < ?4",
    [I_MSG_REACT] =
        "UPDATE messages SET meta = json_set(coalesce(meta, '{}'), '$.reaction',"
        " json_object('action', ?3, 'reaction', ?4, 'emoji', ?5, 'at', ?6)), updated_at = ?7"
        " WHERE conversation_id = ?1 AND mid = ?2"
        " AND coalesce(json_extract(meta, '$.reaction.at'), -1) < ?6",
    [I_CONV_TOUCH] =
        "UPDATE conversations SET"
        " last_customer_at = nullif(max(coalesce(last_customer_at, 0), ?2), 0),"
        " last_message_at = nullif(max(coalesce(last_message_at, 0), ?3), 0),"
        " unread = unread + ?4,"
        " standby = CASE WHEN ?5 >= 0 AND ?6 >= coalesce(standby_at, 0) THEN ?5 ELSE standby END,"
        " standby_at = CASE WHEN ?5 >= 0 AND ?6 >= coalesce(standby_at, 0) THEN ?6"
        "   ELSE standby_at END,"
        " read_watermark = nullif(max(coalesce(read_watermark, 0), ?7), 0),"
        " read_mid = CASE WHEN ?8 IS NOT NULL AND ?9 >= coalesce(read_at, 0) THEN ?8"
        "   ELSE read_mid END,"
        " read_at = nullif(max(coalesce(read_at, 0), ?9), 0),"
        " updated_at = ?10 WHERE id = ?1",
    [I_CONV_MODE] = "UPDATE conversations SET mode = ?3, handoff_reason = ?4, handoff_at = ?5,"
                    " updated_at = ?5 WHERE id = ?1 AND mode = ?2",
    [I_SETTING_GET] = "SELECT value FROM settings WHERE key = ?1",
};

static sqlite3_stmt *stmt(struct sqlite_store *s, enum inbox_stmt id)
{
    sqlite3_stmt *st = s->inbox_stmts[id];
    if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return st;
    }
    int rc = sqlite3_prepare_v3(s->db, inbox_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                                &s->inbox_stmts[id], NULL);
    if (rc != SQLITE_OK) {
        (void)sqlite_err(s, rc, "prepare inbox");
        return NULL;
    }
    return s->inbox_stmts[id];
}

static void bind_ts(sqlite3_stmt *st, int i, int64_t v)
{
    if (v)
        sqlite3_bind_int64(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

/* Steps a statement that may return one id; *id = 0 when it returned none. */
static enum err step_id(struct sqlite_store *s, sqlite3_stmt *st, const char *what, int64_t *id)
{
    int rc = sqlite3_step(st);
    *id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    enum err e = rc == SQLITE_ROW || rc == SQLITE_DONE ? ERR_OK : sqlite_err(s, rc, what);
    sqlite3_reset(st);
    return e;
}

/* Steps an UPDATE; *changed = whether it changed a row. */
static enum err step_changed(struct sqlite_store *s, sqlite3_stmt *st, const char *what,
                             bool *changed)
{
    enum err e = sqlite_step_done(s, st, what);
    *changed = e == ERR_OK && sqlite3_changes(s->db) > 0;
    return e;
}

static enum err account_route(struct store *base, enum store_platform p, const char *external_id,
                              int64_t *account_id)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = stmt(s, I_ROUTE);
    if (!st)
        return ERR_INTERNAL;
    sqlite_bind_text_or_null(st, 1, store_platform_name(p));
    sqlite_bind_text_or_null(st, 2, external_id);
    enum err rc = step_id(s, st, "account_route", account_id);
    return rc == ERR_OK && *account_id == 0 ? ERR_NOT_FOUND : rc;
}

static enum err insert_pair(struct sqlite_store *s, enum inbox_stmt id, int64_t a, int64_t b,
                            const char *b_text, int64_t now_ms, int64_t *out)
{
    sqlite3_stmt *st = stmt(s, id);
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, a);
    if (b_text)
        sqlite_bind_text_or_null(st, 2, b_text);
    else
        sqlite3_bind_int64(st, 2, b);
    sqlite3_bind_int64(st, 3, now_ms);
    enum err rc = step_id(s, st, "insert contact/conversation", out);
    return rc == ERR_OK && *out == 0 ? ERR_INTERNAL : rc;
}

static enum err conversation_ensure(struct store *base, int64_t account_id, const char *scoped_id,
                                    int64_t now_ms, int64_t *conversation_id, bool *created)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = stmt(s, I_FIND);
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, account_id);
    sqlite_bind_text_or_null(st, 2, scoped_id);
    int64_t contact = 0, conv = 0;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        contact = sqlite3_column_int64(st, 0);
        conv = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return sqlite_err(s, rc, "find conversation");
    enum err e = ERR_OK;
    if (!contact)
        e = insert_pair(s, I_CONTACT_ADD, account_id, 0, scoped_id, now_ms, &contact);
    *created = !conv;
    if (e == ERR_OK && !conv)
        e = insert_pair(s, I_CONV_ADD, account_id, contact, NULL, now_ms, &conv);
    *conversation_id = conv;
    return e;
}

static enum err message_insert(struct store *base, const struct store_message_new *m,
                               int64_t now_ms, int64_t *id)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = stmt(s, I_MSG_INSERT);
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, m->conversation_id);
    const char *texts[] = {m->direction,      m->author,   m->mid,        m->text,
                           m->attachments,    m->reply_to, m->meta,       m->status,
                           m->messaging_type, m->tag,      m->correlation};
    for (int i = 0; i < (int)(sizeof texts / sizeof texts[0]); i++)
        sqlite_bind_text_or_null(st, i + 2, texts[i]);
    bind_ts(st, 13, m->meta_ts);
    sqlite3_bind_int64(st, 14, now_ms);
    return step_id(s, st, "message_insert", id);
}

static enum err echo_by_mid(struct sqlite_store *s, int64_t conv, const char *mid, int64_t meta_ts,
                            int64_t now_ms, int64_t *id)
{
    sqlite3_stmt *st = stmt(s, I_MSG_BY_MID);
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, conv);
    sqlite_bind_text_or_null(st, 2, mid);
    enum err rc = step_id(s, st, "echo by mid", id);
    if (rc != ERR_OK || *id == 0)
        return rc;
    st = stmt(s, I_ECHO_SENT);
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, *id);
    bind_ts(st, 2, meta_ts);
    sqlite3_bind_int64(st, 3, now_ms);
    return sqlite_step_done(s, st, "echo sent");
}

static enum err message_echo_match(struct store *base, int64_t conv, const char *mid,
                                   const char *correlation, int64_t meta_ts, int64_t now_ms,
                                   int64_t *id)
{
    struct sqlite_store *s = SQ(base);
    *id = 0;
    enum err rc = mid ? echo_by_mid(s, conv, mid, meta_ts, now_ms, id) : ERR_OK;
    if (rc != ERR_OK || *id || !correlation || !*correlation)
        return rc;
    sqlite3_stmt *st = stmt(s, I_ECHO_CORR);
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, conv);
    sqlite_bind_text_or_null(st, 2, mid);
    sqlite_bind_text_or_null(st, 3, correlation);
    bind_ts(st, 4, meta_ts);
    sqlite3_bind_int64(st, 5, now_ms);
    return step_id(s, st, "echo by correlation", id);
}

static enum err message_mark_deleted(struct store *base, int64_t conv, const char *mid,
                                     int64_t now_ms, bool *changed)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = stmt(s, I_MSG_DELETE);
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, conv);
    sqlite_bind_text_or_null(st, 2, mid);
    sqlite3_bind_int64(st, 3, now_ms);
    return step_changed(s, st, "message_mark_deleted", changed);
}

static enum err message_edit(struct store *base, int64_t conv, const char *mid, const char *text,
                             int64_t num_edit, int64_t ts_ms, int64_t now_ms, bool *changed)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = stmt(s, I_MSG_EDIT);
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, conv);
    sqlite_bind_text_or_null(st, 2, mid);
    sqlite_bind_text_or_null(st, 3, text);
    sqlite3_bind_int64(st, 4, num_edit);
    bind_ts(st, 5, ts_ms);
    sqlite3_bind_int64(st, 6, now_ms);
    return step_changed(s, st, "message_edit", changed);
}

static enum err message_react(struct store *base, int64_t conv, const char *mid,
                              const char *reaction, const char *emoji, bool is_unreact,
                              int64_t ts_ms, int64_t now_ms, bool *changed)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = stmt(s, I_MSG_REACT);
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, conv);
    sqlite_bind_text_or_null(st, 2, mid);
    sqlite_bind_text_or_null(st, 3, is_unreact ? "unreact" : "react");
    sqlite_bind_text_or_null(st, 4, reaction);
    sqlite_bind_text_or_null(st, 5, emoji);
    sqlite3_bind_int64(st, 6, ts_ms);
    sqlite3_bind_int64(st, 7, now_ms);
    return step_changed(s, st, "message_react", changed);
}

static enum err conversation_touch(struct store *base, int64_t conv,
                                   const struct store_conversation_touch *t, int64_t now_ms)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = stmt(s, I_CONV_TOUCH);
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, conv);
    sqlite3_bind_int64(st, 2, t->customer_at);
    sqlite3_bind_int64(st, 3, t->message_at);
    sqlite3_bind_int(st, 4, t->unread);
    sqlite3_bind_int(st, 5, t->standby);
    sqlite3_bind_int64(st, 6, t->standby_at);
    sqlite3_bind_int64(st, 7, t->read_watermark);
    sqlite_bind_text_or_null(st, 8, t->read_mid);
    sqlite3_bind_int64(st, 9, t->read_at);
    sqlite3_bind_int64(st, 10, now_ms);
    return sqlite_step_done(s, st, "conversation_touch");
}

static enum err conversation_set_mode(struct store *base, int64_t conv, const char *from_mode,
                                      const char *to_mode, const char *reason, int64_t now_ms,
                                      bool *changed)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = stmt(s, I_CONV_MODE);
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, conv);
    sqlite_bind_text_or_null(st, 2, from_mode);
    sqlite_bind_text_or_null(st, 3, to_mode);
    sqlite_bind_text_or_null(st, 4, reason);
    sqlite3_bind_int64(st, 5, now_ms);
    return step_changed(s, st, "conversation_set_mode", changed);
}

/* ---- reads (prepared per call: operators and the CLI, not the hot path) ---- */

static void read_conversation(struct arena *a, sqlite3_stmt *st, struct store_conversation *c)
{
    memset(c, 0, sizeof *c);
    c->id = sqlite3_column_int64(st, 0);
    c->account_id = sqlite3_column_int64(st, 1);
    c->contact_id = sqlite3_column_int64(st, 2);
    enum store_platform p = STORE_MESSENGER;
    err_ignore(store_platform_parse((const char *)sqlite3_column_text(st, 3), &p)); /* CHECK */
    c->platform = p;
    c->account_external_id = sqlite_col_text(a, st, 4);
    c->account_name = sqlite_col_text(a, st, 5);
    c->scoped_id = sqlite_col_text(a, st, 6);
    c->contact_name = sqlite_col_text(a, st, 7);
    c->contact_username = sqlite_col_text(a, st, 8);
    c->mode = sqlite_col_text(a, st, 9);
    c->last_customer_at = sqlite3_column_int64(st, 10);
    c->last_message_at = sqlite3_column_int64(st, 11);
    c->handoff_reason = sqlite_col_text(a, st, 12);
    c->handoff_at = sqlite3_column_int64(st, 13);
    c->unread = sqlite3_column_int64(st, 14);
    c->is_standby = sqlite3_column_int(st, 15) != 0;
    c->read_watermark = sqlite3_column_int64(st, 16);
    c->read_mid = sqlite_col_text(a, st, 17);
    c->read_at = sqlite3_column_int64(st, 18);
    c->handoff_cause = sqlite_col_text(a, st, 19);
    c->assigned_operator_id = sqlite3_column_int64(st, 20);
    c->handed_back_at = sqlite3_column_int64(st, 21);
}

#define CONVERSATION_SELECT                                                                        \
    "SELECT v.id, v.account_id, v.contact_id, a.platform, a.external_id,"                          \
    " CASE WHEN a.username IS NOT NULL THEN '@' || a.username ELSE a.name END,"                    \
    " c.scoped_id, c.name, c.username, v.mode, coalesce(v.last_customer_at, 0),"                   \
    " coalesce(v.last_message_at, 0), v.handoff_reason, coalesce(v.handoff_at, 0), v.unread,"      \
    " v.standby, coalesce(v.read_watermark, 0), v.read_mid, coalesce(v.read_at, 0),"               \
    " v.handoff_cause, coalesce(v.assigned_operator_id, 0), coalesce(v.handed_back_at, 0)"         \
    " FROM conversations v JOIN accounts a ON a.id = v.account_id"                                 \
    " JOIN contacts c ON c.id = v.contact_id"                                                      \
    " WHERE (?1 IS NULL OR v.mode = ?1) AND (?2 = 0 OR v.id = ?2)"                                 \
    " ORDER BY coalesce(v.last_message_at, 0) DESC, v.id DESC LIMIT ?3"

static enum err conversations_list(struct store *base, struct arena *a, const char *mode,
                                   int64_t id, size_t max, struct store_conversation **out,
                                   size_t *n)
{
    struct sqlite_store *s = SQ(base);
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = sqlite_prepare_once(s, CONVERSATION_SELECT);
    if (!st)
        return ERR_INTERNAL;
    sqlite_bind_text_or_null(st, 1, mode);
    sqlite3_bind_int64(st, 2, id);
    sqlite3_bind_int64(st, 3, (int64_t)max);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            struct store_conversation *grown = arena_alloc(a, ncap * sizeof *grown);
            if (*n)
                memcpy(grown, *out, *n * sizeof *grown);
            *out = grown;
            cap = ncap;
        }
        read_conversation(a, st, &(*out)[(*n)++]);
    }
    enum err e = rc == SQLITE_DONE ? ERR_OK : sqlite_err(s, rc, "conversations_list");
    sqlite3_finalize(st);
    return e;
}

void sqlite_read_message(struct arena *a, sqlite3_stmt *st, struct store_message *m)
{
    memset(m, 0, sizeof *m);
    m->id = sqlite3_column_int64(st, 0);
    m->conversation_id = sqlite3_column_int64(st, 1);
    const char **texts[] = {&m->direction,      &m->author,   &m->mid,        &m->text,
                            &m->attachments,    &m->reply_to, &m->meta,       &m->status,
                            &m->messaging_type, &m->tag,      &m->correlation};
    for (int i = 0; i < (int)(sizeof texts / sizeof texts[0]); i++)
        *texts[i] = sqlite_col_text(a, st, i + 2);
    m->meta_ts = sqlite3_column_int64(st, 13);
    m->created_at = sqlite3_column_int64(st, 14);
    m->has_sentiment = sqlite3_column_type(st, 15) != SQLITE_NULL;
    m->sentiment = m->has_sentiment ? sqlite3_column_double(st, 15) : 0;
}

static enum err messages_list(struct store *base, struct arena *a, int64_t conv, int64_t after_id,
                              size_t max, struct store_message **out, size_t *n)
{
    struct sqlite_store *s = SQ(base);
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st =
        sqlite_prepare_once(s, "SELECT " SQLITE_MESSAGE_COLUMNS " FROM messages"
                               " WHERE conversation_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, conv);
    sqlite3_bind_int64(st, 2, after_id);
    sqlite3_bind_int64(st, 3, (int64_t)max);
    if (max)
        *out = arena_alloc(a, max * sizeof **out);
    int rc = SQLITE_DONE;
    while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
        sqlite_read_message(a, st, &(*out)[(*n)++]);
    enum err e = *n == max || rc == SQLITE_DONE ? ERR_OK : sqlite_err(s, rc, "messages_list");
    sqlite3_finalize(st);
    return e;
}

static enum err setting_get(struct store *base, struct arena *a, const char *key,
                            const char **value)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = stmt(s, I_SETTING_GET);
    if (!st)
        return ERR_INTERNAL;
    sqlite_bind_text_or_null(st, 1, key);
    int rc = sqlite3_step(st);
    *value = rc == SQLITE_ROW ? sqlite_col_text(a, st, 0) : NULL;
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return *value ? ERR_OK : ERR_NOT_FOUND;
    return rc == SQLITE_DONE ? ERR_NOT_FOUND : sqlite_err(s, rc, "setting_get");
}

static enum err setting_set(struct store *base, const char *key, const char *value, int64_t now_ms)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st =
        sqlite_prepare_once(s, "INSERT INTO settings (key, value, updated_at)"
                               " VALUES (?1, ?2, ?3) ON CONFLICT (key) DO UPDATE"
                               " SET value = excluded.value, updated_at = excluded.updated_at");
    if (!st)
        return ERR_INTERNAL;
    sqlite_bind_text_or_null(st, 1, key);
    sqlite_bind_text_or_null(st, 2, value);
    sqlite3_bind_int64(st, 3, now_ms);
    enum err e = sqlite_step_done(s, st, "setting_set");
    sqlite3_finalize(st);
    return e;
}

const struct store_inbox_ops sqlite_inbox_ops = {
    .account_route = account_route,
    .conversation_ensure = conversation_ensure,
    .message_insert = message_insert,
    .message_echo_match = message_echo_match,
    .message_mark_deleted = message_mark_deleted,
    .message_edit = message_edit,
    .message_react = message_react,
    .conversation_touch = conversation_touch,
    .conversation_set_mode = conversation_set_mode,
    .conversations_list = conversations_list,
    .messages_list = messages_list,
    .setting_get = setting_get,
    .setting_set = setting_set,
};
