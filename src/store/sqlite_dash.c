/*
 * store/sqlite_dash.c - the dashboard's rows (SQLite): the live-event bus that migration 11's
 * triggers fill, the commit hook that wakes the gateway, the audit log, sign-in throttling, and
 * the inbox and message pages.
 *
 * The wake-up: an update hook notes that a connection inserted into bus_events; the WAL hook,
 * which SQLite calls after every commit, rings store_bus_ring() when one did. Installing a WAL
 * hook replaces SQLite's automatic checkpoint, so the hook does that job too (the same
 * threshold as the connection's PRAGMA wal_autocheckpoint).
 */
#include "store/sqlite_int.h"

#include <stdio.h>
#include <string.h>

#define SQ(b)           ((struct sqlite_store *)(b))
#define WAL_CHECKPOINT  4000 /* pages, as PRAGMA wal_autocheckpoint in sqlite.c */
#define CLOSED_AFTER_MS (7LL * 24 * 3600 * 1000) /* inbox/window.h's HUMAN_AGENT window */
#define MESSAGE_COLUMNS                                                                            \
    "id, conversation_id, direction, author, mid, text, attachments, reply_to, meta, status,"      \
    " messaging_type, tag, correlation, coalesce(meta_ts, 0), created_at,"                         \
    " coalesce(operator_id, 0), error_message, sentiment"

/* ---- the wake-up ---- */

static void on_update(void *ctx, int op, const char *db, const char *table, sqlite3_int64 rowid)
{
    (void)db;
    (void)rowid;
    if (op == SQLITE_INSERT && strcmp(table, "bus_events") == 0)
        ((struct sqlite_store *)ctx)->bus_pending = true;
}

static void on_rollback(void *ctx)
{
    ((struct sqlite_store *)ctx)->bus_pending = false;
}

static int on_wal(void *ctx, sqlite3 *db, const char *name, int pages)
{
    struct sqlite_store *s = ctx;
    if (s->bus_pending) {
        s->bus_pending = false;
        store_bus_ring();
    }
    if (pages >= WAL_CHECKPOINT)
        (void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    return SQLITE_OK;
}

void sqlite_dash_hooks(struct sqlite_store *s)
{
    sqlite3_update_hook(s->db, on_update, s);
    sqlite3_rollback_hook(s->db, on_rollback, s);
    sqlite3_wal_hook(s->db, on_wal, s);
}

/* ---- the bus ---- */

static enum err bus_read(struct store *base, struct arena *a, int64_t after_id, size_t max,
                         struct store_bus_event **out, size_t *n)
{
    struct sqlite_store *s = SQ(base);
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = sqlite_prepare_once(s, "SELECT id, type, payload, created_at FROM"
                                              " bus_events WHERE id > ?1 ORDER BY id LIMIT ?2");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, after_id);
    sqlite3_bind_int64(st, 2, (int64_t)max);
    if (max)
        *out = arena_alloc(a, max * sizeof **out);
    int rc = SQLITE_DONE;
    while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
        (*out)[(*n)++] = (struct store_bus_event){.id = sqlite3_column_int64(st, 0),
                                                  .type = sqlite_col_text(a, st, 1),
                                                  .payload = sqlite_col_text(a, st, 2),
                                                  .created_at = sqlite3_column_int64(st, 3)};
    enum err e = *n == max || rc == SQLITE_DONE ? ERR_OK : sqlite_err(s, rc, "bus_read");
    sqlite3_finalize(st);
    if (*n == 0)
        *out = NULL;
    return e;
}

static enum err bus_bounds(struct store *base, int64_t *oldest, int64_t *newest)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = sqlite_prepare_once(
        s, "SELECT coalesce((SELECT min(id) FROM bus_events), 0),"
           " coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'bus_events'), 0)");
    if (!st)
        return ERR_INTERNAL;
    int rc = sqlite3_step(st);
    *oldest = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    *newest = rc == SQLITE_ROW ? sqlite3_column_int64(st, 1) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? ERR_OK : sqlite_err(s, rc, "bus_bounds");
}

static enum err bus_prune(struct store *base, int64_t cutoff_ms, int64_t *n)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = sqlite_prepare_once(s, "DELETE FROM bus_events WHERE created_at < ?1");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, cutoff_ms);
    return sqlite_run_once(s, st, "bus_prune", n);
}

/* ---- the audit log ---- */

static enum err audit_add(struct store *base, int64_t operator_id, const char *action,
                          const char *target, const char *detail, int64_t now_ms)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = sqlite_prepare_once(s, "INSERT INTO audit_log (operator_id, action, target,"
                                              " detail, created_at) VALUES (?1, ?2, ?3, ?4, ?5)");
    if (!st)
        return ERR_INTERNAL;
    if (operator_id)
        sqlite3_bind_int64(st, 1, operator_id);
    sqlite_bind_text_or_null(st, 2, action);
    sqlite_bind_text_or_null(st, 3, target);
    sqlite_bind_text_or_null(st, 4, detail);
    sqlite3_bind_int64(st, 5, now_ms);
    return sqlite_run_once(s, st, "audit_add", NULL);
}

static enum err audit_list(struct store *base, struct arena *a, int64_t before_id, size_t max,
                           struct store_audit **out, size_t *n)
{
    struct sqlite_store *s = SQ(base);
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = sqlite_prepare_once(
        s, "SELECT l.id, coalesce(l.operator_id, 0), o.email, l.action, l.target, l.detail,"
           " l.created_at FROM audit_log l LEFT JOIN operators o ON o.id = l.operator_id"
           " WHERE ?1 = 0 OR l.id < ?1 ORDER BY l.id DESC LIMIT ?2");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, before_id);
    sqlite3_bind_int64(st, 2, (int64_t)max);
    if (max)
        *out = arena_alloc(a, max * sizeof **out);
    int rc = SQLITE_DONE;
    while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
        (*out)[(*n)++] = (struct store_audit){.id = sqlite3_column_int64(st, 0),
                                              .operator_id = sqlite3_column_int64(st, 1),
                                              .operator_email = sqlite_col_text(a, st, 2),
                                              .action = sqlite_col_text(a, st, 3),
                                              .target = sqlite_col_text(a, st, 4),
                                              .detail = sqlite_col_text(a, st, 5),
                                              .created_at = sqlite3_column_int64(st, 6)};
    enum err e = *n == max || rc == SQLITE_DONE ? ERR_OK : sqlite_err(s, rc, "audit_list");
    sqlite3_finalize(st);
    return e;
}

/* ---- sign-in throttling ---- */

static enum err login_failures(struct store *base, const char *key, int64_t now_ms,
                               int64_t window_ms, bool add, int64_t *failures, int64_t *first_at)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = sqlite_prepare_once(
        s, add ? "INSERT INTO login_attempts (key, failures, first_at) VALUES (?1, 1, ?2)"
                 " ON CONFLICT (key) DO UPDATE SET"
                 " failures = CASE WHEN first_at <= ?2 - ?3 THEN 1 ELSE failures + 1 END,"
                 " first_at = CASE WHEN first_at <= ?2 - ?3 THEN ?2 ELSE first_at END"
                 " RETURNING failures, first_at"
               : "SELECT failures, first_at FROM login_attempts"
                 " WHERE key = ?1 AND first_at > ?2 - ?3");
    if (!st)
        return ERR_INTERNAL;
    sqlite_bind_text_or_null(st, 1, key);
    sqlite3_bind_int64(st, 2, now_ms);
    sqlite3_bind_int64(st, 3, window_ms);
    int rc = sqlite3_step(st);
    *failures = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    *first_at = rc == SQLITE_ROW ? sqlite3_column_int64(st, 1) : 0;
    if (rc == SQLITE_ROW)
        rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? ERR_OK : sqlite_err(s, rc, "login_failures");
}

static enum err login_failures_clear(struct store *base, const char *key)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = sqlite_prepare_once(s, "DELETE FROM login_attempts WHERE key = ?1");
    if (!st)
        return ERR_INTERNAL;
    sqlite_bind_text_or_null(st, 1, key);
    return sqlite_run_once(s, st, "login_failures_clear", NULL);
}

/* ---- the inbox ---- */

/* One WHERE clause per filter; ?1 is the start of the closed range (now - 7 days). */
static const char *const filter_sql[STORE_CONV_FILTERS] = {
    [STORE_CONV_ALL] = "1",
    [STORE_CONV_NEEDS_HUMAN] = "mode IN ('human','paused')",
    [STORE_CONV_AI] = "mode = 'ai'",
    [STORE_CONV_CLOSED] = "coalesce(last_customer_at, 0) <= ?1",
};

static enum err conversation_ids(struct store *base, enum store_conv_filter f, int64_t now_ms,
                                 int64_t before_at, int64_t before_id, size_t max, int64_t *ids,
                                 size_t *n)
{
    struct sqlite_store *s = SQ(base);
    *n = 0;
    if ((unsigned)f >= STORE_CONV_FILTERS)
        return ERR_INVALID;
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT id FROM conversations WHERE (%s) AND (?2 = 0 OR"
             " (coalesce(last_message_at, 0), id) < (?3, ?2))"
             " ORDER BY coalesce(last_message_at, 0) DESC, id DESC LIMIT ?4",
             filter_sql[f]);
    sqlite3_stmt *st = sqlite_prepare_once(s, sql);
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, now_ms - CLOSED_AFTER_MS);
    sqlite3_bind_int64(st, 2, before_id);
    sqlite3_bind_int64(st, 3, before_at);
    sqlite3_bind_int64(st, 4, (int64_t)max);
    int rc = SQLITE_DONE;
    while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
        ids[(*n)++] = sqlite3_column_int64(st, 0);
    enum err e = *n == max || rc == SQLITE_DONE ? ERR_OK : sqlite_err(s, rc, "conversation_ids");
    sqlite3_finalize(st);
    return e;
}

static enum err conversation_counts(struct store *base, int64_t now_ms,
                                    struct store_conv_count out[STORE_CONV_FILTERS])
{
    struct sqlite_store *s = SQ(base);
    char sql[1024] = "SELECT";
    for (int f = 0; f < STORE_CONV_FILTERS; f++) {
        size_t len = strlen(sql);
        snprintf(sql + len, sizeof sql - len,
                 "%s coalesce(sum(%s), 0), coalesce(sum((%s) AND unread > 0), 0)", f ? "," : "",
                 filter_sql[f], filter_sql[f]);
    }
    size_t len = strlen(sql);
    snprintf(sql + len, sizeof sql - len, " FROM conversations");
    sqlite3_stmt *st = sqlite_prepare_once(s, sql);
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, now_ms - CLOSED_AFTER_MS);
    int rc = sqlite3_step(st);
    for (int f = 0; f < STORE_CONV_FILTERS; f++)
        out[f] = (struct store_conv_count){
            .total = rc == SQLITE_ROW ? sqlite3_column_int64(st, 2 * f) : 0,
            .unread = rc == SQLITE_ROW ? sqlite3_column_int64(st, 2 * f + 1) : 0};
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? ERR_OK : sqlite_err(s, rc, "conversation_counts");
}

static enum err conversation_mark_read(struct store *base, int64_t conv, int64_t now_ms,
                                       bool *changed)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = sqlite_prepare_once(s, "UPDATE conversations SET unread = 0, updated_at = ?2"
                                              " WHERE id = ?1 AND unread > 0");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, conv);
    sqlite3_bind_int64(st, 2, now_ms);
    int64_t k = 0;
    enum err rc = sqlite_run_once(s, st, "conversation_mark_read", &k);
    *changed = k > 0;
    return rc;
}

static void read_message(struct arena *a, sqlite3_stmt *st, struct store_message *m)
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
    m->operator_id = sqlite3_column_int64(st, 15);
    m->error_message = sqlite_col_text(a, st, 16);
    m->has_sentiment = sqlite3_column_type(st, 17) != SQLITE_NULL;
    m->sentiment = m->has_sentiment ? sqlite3_column_double(st, 17) : 0;
}

static void reverse(struct store_message *m, size_t n)
{
    for (size_t i = 0; i < n / 2; i++) {
        struct store_message t = m[i];
        m[i] = m[n - 1 - i];
        m[n - 1 - i] = t;
    }
}

static enum err messages_page(struct store *base, struct arena *a, int64_t conv, int64_t before_id,
                              int64_t after_id, size_t max, struct store_message **out, size_t *n,
                              bool *more)
{
    struct sqlite_store *s = SQ(base);
    bool newest_first = before_id > 0 || after_id <= 0;
    sqlite3_stmt *st = sqlite_prepare_once(
        s, newest_first ? "SELECT " MESSAGE_COLUMNS " FROM messages WHERE conversation_id = ?1"
                          " AND (?2 <= 0 OR id < ?2) ORDER BY id DESC LIMIT ?3"
                        : "SELECT " MESSAGE_COLUMNS " FROM messages WHERE conversation_id = ?1"
                          " AND id > ?2 ORDER BY id LIMIT ?3");
    *out = NULL;
    *n = 0;
    *more = false;
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, conv);
    sqlite3_bind_int64(st, 2, newest_first ? before_id : after_id);
    sqlite3_bind_int64(st, 3, (int64_t)max + 1); /* one more says whether there are more */
    *out = arena_alloc(a, (max + 1) * sizeof **out);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == max) {
            *more = true;
            rc = SQLITE_DONE;
            break;
        }
        read_message(a, st, &(*out)[(*n)++]);
    }
    enum err e = rc == SQLITE_DONE ? ERR_OK : sqlite_err(s, rc, "messages_page");
    sqlite3_finalize(st);
    if (newest_first)
        reverse(*out, *n);
    return e;
}

static enum err message_set_operator(struct store *base, int64_t id, int64_t operator_id)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = sqlite_prepare_once(s, "UPDATE messages SET operator_id = ?2 WHERE id = ?1");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, operator_id);
    int64_t k = 0;
    enum err rc = sqlite_run_once(s, st, "message_set_operator", &k);
    return rc == ERR_OK && k == 0 ? ERR_NOT_FOUND : rc;
}

static enum err account_delete(struct store *base, int64_t id)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = sqlite_prepare_once(s, "DELETE FROM accounts WHERE id = ?1");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, id);
    int64_t k = 0;
    enum err rc = sqlite_run_once(s, st, "account_delete", &k);
    return rc == ERR_OK && k == 0 ? ERR_NOT_FOUND : rc;
}

const struct store_dash_ops sqlite_dash_ops = {
    .bus_read = bus_read,
    .bus_bounds = bus_bounds,
    .bus_prune = bus_prune,
    .audit_add = audit_add,
    .audit_list = audit_list,
    .login_failures = login_failures,
    .login_failures_clear = login_failures_clear,
    .conversation_ids = conversation_ids,
    .conversation_counts = conversation_counts,
    .conversation_mark_read = conversation_mark_read,
    .messages_page = messages_page,
    .message_set_operator = message_set_operator,
    .account_delete = account_delete,
};
