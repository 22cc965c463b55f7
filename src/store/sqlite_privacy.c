/*
 * store/sqlite_privacy.c - deletion requests, and everything stored about one person:
 * erase (data deletion), revoke (deauthorization) and export (SQLite).
 *
 * A person is an app-scoped user id. As a customer they are the contacts carrying that id
 * and, through the contacts' scoped ids (PSID/IGSID), the conversations, messages, raw
 * events and dead letters about them. As an admin they are the user_id of the accounts they
 * connected. These run at human speed, so statements are prepared per call.
 */
#include "store/sqlite_int.h"

#include <string.h>

#define SQ(b) ((struct sqlite_store *)(b))

#define EXPORT_MAX_COLUMNS 64

/* The person's page-scoped ids, never one of the business's own ids (a contact row that
 * wrongly named a Page would otherwise take the Page's whole history with it). */
#define SCOPED_IDS                                                                                 \
    "(SELECT scoped_id FROM contacts WHERE user_id = ?1"                                           \
    " AND scoped_id NOT IN (SELECT external_id FROM accounts))"

/* Steps a statement that returns no rows and finalizes it; *changes = rows changed. */
/* ---- deletion requests ---- */

enum err sqlite_deletion_add(struct store *base, const struct store_deletion *d)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st =
        sqlite_prepare_once(s, "INSERT INTO deletion_requests (code, user_id, kind, status,"
                               " detail, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_text(st, 1, d->code, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, d->user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, d->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, d->status, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, d->detail, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, d->created_at);
    return sqlite_run_once(s, st, "deletion_add", NULL);
}

enum err sqlite_deletion_get(struct store *base, struct arena *a, const char *code,
                             struct store_deletion *out)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st =
        sqlite_prepare_once(s, "SELECT code, user_id, kind, status, detail, created_at,"
                               " coalesce(completed_at, 0) FROM deletion_requests"
                               " WHERE code = ?1");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    enum err e = rc == SQLITE_ROW    ? ERR_OK
                 : rc == SQLITE_DONE ? ERR_NOT_FOUND
                                     : sqlite_err(s, rc, "deletion_get");
    if (e == ERR_OK)
        *out = (struct store_deletion){.code = sqlite_col_text(a, st, 0),
                                       .user_id = sqlite_col_text(a, st, 1),
                                       .kind = sqlite_col_text(a, st, 2),
                                       .status = sqlite_col_text(a, st, 3),
                                       .detail = sqlite_col_text(a, st, 4),
                                       .created_at = sqlite3_column_int64(st, 5),
                                       .completed_at = sqlite3_column_int64(st, 6)};
    sqlite3_finalize(st);
    return e;
}

enum err sqlite_deletion_finish(struct store *base, const char *code, const char *status,
                                const char *detail, int64_t now_ms)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st =
        sqlite_prepare_once(s, "UPDATE deletion_requests SET status = ?2, detail = ?3,"
                               " completed_at = ?4 WHERE code = ?1");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, detail, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, now_ms);
    int64_t n = 0;
    enum err rc = sqlite_run_once(s, st, "deletion_finish", &n);
    return rc == ERR_OK && n == 0 ? ERR_NOT_FOUND : rc;
}

/* ---- erase and revoke ---- */

/* In this order: what is found through the contacts goes before the contacts themselves;
 * messages before their conversations, so each count is what was deleted (not a cascade). */
static const struct {
    const char *what;
    const char *sql; /* ?1 user_id, ?2 reason, ?3 now */
} erase_steps[] = {
    {"events",
     "DELETE FROM events WHERE sender_id IN " SCOPED_IDS " OR recipient_id IN " SCOPED_IDS},
    {"dead_letters", "DELETE FROM dead_letters WHERE payload IS NOT NULL AND EXISTS ("
                     "SELECT 1 FROM " SCOPED_IDS " AS p WHERE instr(CAST(dead_letters.payload"
                     " AS TEXT), '\"' || p.scoped_id || '\"') > 0)"},
    {"comments", "DELETE FROM comments WHERE from_id IN " SCOPED_IDS},
    {"messages", "DELETE FROM messages WHERE conversation_id IN (SELECT v.id FROM"
                 " conversations v JOIN contacts c ON c.id = v.contact_id WHERE c.user_id = ?1)"},
    {"conversations", "DELETE FROM conversations WHERE contact_id IN"
                      " (SELECT id FROM contacts WHERE user_id = ?1)"},
    {"contacts", "DELETE FROM contacts WHERE user_id = ?1"},
    {"accounts", "UPDATE accounts SET token_enc = NULL, token_expires_at = NULL,"
                 " data_access_expires_at = NULL, scopes = NULL, user_id = NULL,"
                 " status = 'revoked', status_reason = ?2, updated_at = ?3 WHERE user_id = ?1"},
};

static int64_t *erase_count(struct store_privacy_counts *c, size_t step)
{
    int64_t *slots[] = {&c->events,        &c->dead_letters, &c->comments, &c->messages,
                        &c->conversations, &c->contacts,     &c->accounts};
    return slots[step];
}

/* Binds ?1, and ?2/?3 when the statement has them. */
static void bind_person(sqlite3_stmt *st, const char *user_id, const char *reason, int64_t now_ms)
{
    sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
    if (sqlite3_bind_parameter_count(st) >= 3) {
        sqlite3_bind_text(st, 2, reason, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, now_ms);
    }
}

enum err sqlite_privacy_erase(struct store *base, const char *user_id, const char *reason,
                              int64_t now_ms, struct store_privacy_counts *out)
{
    struct sqlite_store *s = SQ(base);
    *out = (struct store_privacy_counts){0};
    enum err rc = ERR_OK;
    for (size_t i = 0; rc == ERR_OK && i < sizeof erase_steps / sizeof erase_steps[0]; i++) {
        sqlite3_stmt *st = sqlite_prepare_once(s, erase_steps[i].sql);
        if (!st)
            return ERR_INTERNAL;
        bind_person(st, user_id, reason, now_ms);
        rc = sqlite_run_once(s, st, erase_steps[i].what, erase_count(out, i));
    }
    return rc;
}

enum err sqlite_privacy_revoke(struct store *base, const char *user_id, const char *reason,
                               int64_t now_ms, int64_t *n)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st =
        sqlite_prepare_once(s, "UPDATE accounts SET token_enc = NULL, token_expires_at = NULL,"
                               " status = 'revoked', status_reason = ?2, updated_at = ?3"
                               " WHERE user_id = ?1");
    if (!st)
        return ERR_INTERNAL;
    bind_person(st, user_id, reason, now_ms);
    return sqlite_run_once(s, st, "privacy_revoke", n);
}

/* ---- export ---- */

static const struct {
    const char *table;
    const char *sql; /* ?1 user_id */
} export_steps[] = {
    {"accounts", "SELECT * FROM accounts WHERE user_id = ?1 ORDER BY id"},
    {"contacts", "SELECT * FROM contacts WHERE user_id = ?1 ORDER BY id"},
    {"conversations", "SELECT v.* FROM conversations v JOIN contacts c ON c.id = v.contact_id"
                      " WHERE c.user_id = ?1 ORDER BY v.id"},
    {"messages", "SELECT m.* FROM messages m JOIN conversations v ON v.id = m.conversation_id"
                 " JOIN contacts c ON c.id = v.contact_id WHERE c.user_id = ?1 ORDER BY m.id"},
    {"events", "SELECT * FROM events WHERE sender_id IN " SCOPED_IDS
               " OR recipient_id IN " SCOPED_IDS " ORDER BY id"},
    {"comments", "SELECT * FROM comments WHERE from_id IN " SCOPED_IDS " ORDER BY id"},
    {"dead_letters", "SELECT * FROM dead_letters WHERE payload IS NOT NULL AND EXISTS ("
                     "SELECT 1 FROM " SCOPED_IDS " AS p WHERE instr(CAST(dead_letters.payload"
                     " AS TEXT), '\"' || p.scoped_id || '\"') > 0) ORDER BY id"},
    {"deletion_requests", "SELECT * FROM deletion_requests WHERE user_id = ?1"
                          " ORDER BY created_at, code"},
};

/* Sealed values and anything named like a credential never leave the store this way. */
static bool column_is_secret(const char *name)
{
    size_t n = strlen(name);
    return (n >= 4 && strcmp(name + n - 4, "_enc") == 0) || strstr(name, "secret") ||
           strcmp(name, "token") == 0 || strcmp(name, "access_token") == 0 ||
           strcmp(name, "password_hash") == 0;
}

static bool utf8_ok(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned c = p[i];
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (c == 0 || len == 0 || i + len > n || (len == 2 && c < 0xC2))
            return false;
        for (size_t k = 1; k < len; k++)
            if ((p[i + k] & 0xC0) != 0x80)
                return false;
        i += len;
    }
    return true;
}

/* Fills f from column i; false when the column is left out (a secret, a binary blob). */
static bool column_field(sqlite3_stmt *st, int i, struct store_field *f)
{
    *f = (struct store_field){.name = sqlite3_column_name(st, i)};
    if (!f->name || column_is_secret(f->name))
        return false;
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER:
        f->type = STORE_V_INT;
        f->i = sqlite3_column_int64(st, i);
        return true;
    case SQLITE_FLOAT:
        f->type = STORE_V_REAL;
        f->d = sqlite3_column_double(st, i);
        return true;
    case SQLITE_NULL:
        f->type = STORE_V_NULL;
        return true;
    default: /* text, or a blob that is text */
        f->text = (const char *)sqlite3_column_text(st, i);
        f->len = (size_t)sqlite3_column_bytes(st, i);
        f->type = STORE_V_TEXT;
        return f->text && utf8_ok((const unsigned char *)f->text, f->len);
    }
}

static enum err export_table(struct sqlite_store *s, size_t step, const char *user_id,
                             store_row_fn *fn, void *ctx)
{
    sqlite3_stmt *st = sqlite_prepare_once(s, export_steps[step].sql);
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
    int n_cols = sqlite3_column_count(st);
    if (n_cols > EXPORT_MAX_COLUMNS)
        n_cols = EXPORT_MAX_COLUMNS;
    struct store_field fields[EXPORT_MAX_COLUMNS];
    enum err rc = ERR_OK;
    int step_rc = SQLITE_DONE;
    while (rc == ERR_OK && (step_rc = sqlite3_step(st)) == SQLITE_ROW) {
        size_t n = 0;
        for (int i = 0; i < n_cols; i++)
            n += column_field(st, i, &fields[n]);
        rc = fn(ctx, export_steps[step].table, fields, n);
    }
    if (rc == ERR_OK && step_rc != SQLITE_DONE)
        rc = sqlite_err(s, step_rc, export_steps[step].table);
    sqlite3_finalize(st);
    return rc;
}

enum err sqlite_privacy_export(struct store *base, const char *user_id, store_row_fn *fn, void *ctx)
{
    enum err rc = ERR_OK;
    for (size_t i = 0; rc == ERR_OK && i < sizeof export_steps / sizeof export_steps[0]; i++)
        rc = export_table(SQ(base), i, user_id, fn, ctx);
    return rc;
}
