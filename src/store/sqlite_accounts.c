/*
 * store/sqlite_accounts.c - connected Pages and Instagram accounts (SQLite rows).
 *
 * Owns: the SQL of the accounts table. The reconnect rule and the upsert transaction are in
 * accounts.c; this file only reads and writes rows. Tokens arrive and leave sealed.
 * Statements are prepared per call: accounts change at human speed (a connect, a rotation),
 * and a lookup costs far less than the Graph call it precedes.
 */
#include "store/sqlite_int.h"

#include <string.h>

#define SQ(b) ((struct sqlite_store *)(b))

#define ACCOUNT_COLS                                                                               \
    "id, platform, external_id, page_id, name, username, picture_url, token_enc,"                  \
    " coalesce(token_expires_at, 0), coalesce(data_access_expires_at, 0), user_id, scopes,"        \
    " status, status_reason, subscribed_fields, coalesce(subscribed_at, 0), created_at,"           \
    " updated_at, coalesce(send_paused_until, 0), coalesce(last_event_at, 0),"                     \
    " coalesce(event_gap_ms, 0), coalesce(silent_since, 0)"

/* Steps a statement that returns no rows and finalizes it; *changes = rows changed. */
static const unsigned char *blob(struct arena *a, sqlite3_stmt *st, int i, size_t *len)
{
    const void *b = sqlite3_column_blob(st, i);
    int n = sqlite3_column_bytes(st, i);
    *len = b && n > 0 ? (size_t)n : 0;
    if (!*len)
        return NULL;
    unsigned char *out = arena_alloc(a, *len);
    memcpy(out, b, *len);
    return out;
}

static enum store_account_status parse_status(const char *s)
{
    if (s && strcmp(s, "needs_reconnect") == 0)
        return STORE_ACCOUNT_NEEDS_RECONNECT;
    if (s && strcmp(s, "revoked") == 0)
        return STORE_ACCOUNT_REVOKED;
    return STORE_ACCOUNT_ACTIVE;
}

static void read_row(struct arena *a, sqlite3_stmt *st, struct store_account *out)
{
    memset(out, 0, sizeof *out);
    out->id = sqlite3_column_int64(st, 0);
    enum store_platform p = STORE_MESSENGER;
    err_ignore(store_platform_parse((const char *)sqlite3_column_text(st, 1), &p)); /* CHECK */
    out->platform = p;
    out->external_id = sqlite_col_text(a, st, 2);
    out->page_id = sqlite_col_text(a, st, 3);
    out->name = sqlite_col_text(a, st, 4);
    out->username = sqlite_col_text(a, st, 5);
    out->picture_url = sqlite_col_text(a, st, 6);
    out->token_enc = blob(a, st, 7, &out->token_enc_len);
    out->token_expires_at = sqlite3_column_int64(st, 8);
    out->data_access_expires_at = sqlite3_column_int64(st, 9);
    out->user_id = sqlite_col_text(a, st, 10);
    out->scopes = sqlite_col_text(a, st, 11);
    out->status = parse_status((const char *)sqlite3_column_text(st, 12));
    out->status_reason = sqlite_col_text(a, st, 13);
    out->subscribed_fields = sqlite_col_text(a, st, 14);
    out->subscribed_at = sqlite3_column_int64(st, 15);
    out->created_at = sqlite3_column_int64(st, 16);
    out->updated_at = sqlite3_column_int64(st, 17);
    out->send_paused_until = sqlite3_column_int64(st, 18);
    out->last_event_at = sqlite3_column_int64(st, 19);
    out->event_gap_ms = sqlite3_column_int64(st, 20);
    out->silent_since = sqlite3_column_int64(st, 21);
}

enum err sqlite_account_get(struct store *base, struct arena *a, enum store_platform p,
                            const char *external_id, int64_t id, struct store_account *out)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st =
        sqlite_prepare_once(s, "SELECT " ACCOUNT_COLS " FROM accounts WHERE"
                               " (?1 IS NOT NULL AND platform = ?2 AND external_id = ?1)"
                               " OR (?1 IS NULL AND id = ?3)");
    if (!st)
        return ERR_INTERNAL;
    if (external_id)
        sqlite3_bind_text(st, 1, external_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, store_platform_name(p), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, id);
    int rc = sqlite3_step(st);
    enum err e = rc == SQLITE_ROW    ? ERR_OK
                 : rc == SQLITE_DONE ? ERR_NOT_FOUND
                                     : sqlite_err(s, rc, "account_get");
    if (e == ERR_OK)
        read_row(a, st, out);
    sqlite3_finalize(st);
    return e;
}

/* Binds the profile as ?1..?6 and, when with_token, the token fields as ?7..?11. */
static void bind_new(sqlite3_stmt *st, const struct store_account_new *in, bool with_token)
{
    sqlite3_bind_text(st, 1, store_platform_name(in->platform), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, in->external_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, in->page_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, in->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, in->username, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, in->picture_url, -1, SQLITE_STATIC);
    if (!with_token)
        return;
    sqlite3_bind_blob(st, 7, in->token_enc, (int)in->token_enc_len, SQLITE_STATIC);
    if (in->token_expires_at)
        sqlite3_bind_int64(st, 8, in->token_expires_at);
    if (in->data_access_expires_at)
        sqlite3_bind_int64(st, 9, in->data_access_expires_at);
    sqlite3_bind_text(st, 10, in->user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 11, in->scopes, -1, SQLITE_STATIC);
}

enum err sqlite_account_insert(struct store *base, const struct store_account_new *in,
                               int64_t now_ms, int64_t *id)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st =
        sqlite_prepare_once(s, "INSERT INTO accounts (platform, external_id, page_id, name,"
                               " username, picture_url, token_enc, token_expires_at,"
                               " data_access_expires_at, user_id, scopes, status, created_at,"
                               " updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
                               " ?11, 'active', ?12, ?12)");
    if (!st)
        return ERR_INTERNAL;
    bind_new(st, in, true);
    sqlite3_bind_int64(st, 12, now_ms);
    enum err rc = sqlite_run_once(s, st, "account_insert", NULL);
    if (rc == ERR_OK)
        *id = sqlite3_last_insert_rowid(s->db);
    return rc;
}

enum err sqlite_account_update(struct store *base, int64_t id, const struct store_account_new *in,
                               bool with_token, int64_t now_ms)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st =
        with_token
            ? sqlite_prepare_once(s, "UPDATE accounts SET page_id = ?3, name = ?4, username = ?5,"
                                     " picture_url = ?6, token_enc = ?7, token_expires_at = ?8,"
                                     " data_access_expires_at = ?9, user_id = ?10, scopes = ?11,"
                                     " status = 'active', status_reason = NULL, updated_at = ?12"
                                     " WHERE id = ?13 AND platform = ?1 AND external_id = ?2")
            : sqlite_prepare_once(s, "UPDATE accounts SET page_id = ?3, name = ?4, username = ?5,"
                                     " picture_url = ?6, updated_at = ?12"
                                     " WHERE id = ?13 AND platform = ?1 AND external_id = ?2");
    if (!st)
        return ERR_INTERNAL;
    bind_new(st, in, with_token);
    sqlite3_bind_int64(st, 12, now_ms);
    sqlite3_bind_int64(st, 13, id);
    int64_t changes = 0;
    enum err rc = sqlite_run_once(s, st, "account_update", &changes);
    return rc == ERR_OK && changes == 0 ? ERR_NOT_FOUND : rc;
}

enum err sqlite_accounts_list(struct store *base, struct arena *a, struct store_account **out,
                              size_t *n)
{
    struct sqlite_store *s = SQ(base);
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st =
        sqlite_prepare_once(s, "SELECT " ACCOUNT_COLS " FROM accounts"
                               " ORDER BY platform = 'instagram', external_id LIMIT ?1");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int(st, 1, STORE_ACCOUNTS_MAX + 1);
    size_t cap = 0;
    struct store_account *rows = NULL;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < STORE_ACCOUNTS_MAX) {
        if (*n == cap) { /* grow in the arena: old arrays are simply left behind */
            cap = cap ? cap * 2 : 16;
            struct store_account *bigger = arena_alloc(a, cap * sizeof *bigger);
            if (*n)
                memcpy(bigger, rows, *n * sizeof *rows);
            rows = bigger;
        }
        read_row(a, st, &rows[(*n)++]);
    }
    enum err e = rc == SQLITE_ROW    ? ERR_TOO_LARGE
                 : rc == SQLITE_DONE ? ERR_OK
                                     : sqlite_err(s, rc, "accounts_list");
    sqlite3_finalize(st);
    *out = *n ? rows : NULL;
    return e;
}

enum err sqlite_account_set_status(struct store *base, int64_t id, enum store_account_status status,
                                   const char *reason, int64_t now_ms)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = sqlite_prepare_once(s, "UPDATE accounts SET status = ?2, status_reason = ?3,"
                                              " updated_at = ?4 WHERE id = ?1");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, store_account_status_name(status), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, reason, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, now_ms);
    int64_t changes = 0;
    enum err rc = sqlite_run_once(s, st, "account_set_status", &changes);
    return rc == ERR_OK && changes == 0 ? ERR_NOT_FOUND : rc;
}

enum err sqlite_account_set_subscription(struct store *base, int64_t id, const char *fields,
                                         int64_t now_ms)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = sqlite_prepare_once(s, "UPDATE accounts SET subscribed_fields = ?2,"
                                              " subscribed_at = ?3, updated_at = ?3 WHERE id = ?1");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, fields, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now_ms);
    int64_t changes = 0;
    enum err rc = sqlite_run_once(s, st, "account_set_subscription", &changes);
    return rc == ERR_OK && changes == 0 ? ERR_NOT_FOUND : rc;
}

enum err sqlite_account_tokens(struct store *base, struct arena *a, int64_t after_id, size_t max,
                               struct store_sealed_token *out, size_t *n)
{
    struct sqlite_store *s = SQ(base);
    *n = 0;
    sqlite3_stmt *st =
        sqlite_prepare_once(s, "SELECT id, platform, external_id, token_enc FROM accounts"
                               " WHERE id > ?1 AND length(token_enc) > 0 ORDER BY id LIMIT ?2");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, after_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
    int rc = SQLITE_DONE;
    while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_sealed_token *t = &out[(*n)++];
        t->id = sqlite3_column_int64(st, 0);
        enum store_platform p = STORE_MESSENGER;
        err_ignore(store_platform_parse((const char *)sqlite3_column_text(st, 1), &p));
        t->platform = p;
        t->external_id = sqlite_col_text(a, st, 2);
        t->token_enc = blob(a, st, 3, &t->token_enc_len);
    }
    enum err e = *n == max || rc == SQLITE_DONE ? ERR_OK : sqlite_err(s, rc, "account_tokens");
    sqlite3_finalize(st);
    return e;
}

enum err sqlite_account_token_swap(struct store *base, int64_t id, const unsigned char *old,
                                   size_t old_len, const unsigned char *new_enc, size_t new_len,
                                   bool *swapped)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = sqlite_prepare_once(s, "UPDATE accounts SET token_enc = ?3 WHERE id = ?1"
                                              " AND token_enc = ?2");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_blob(st, 2, old, (int)old_len, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, new_enc, (int)new_len, SQLITE_STATIC);
    int64_t changes = 0;
    enum err rc = sqlite_run_once(s, st, "account_token_swap", &changes);
    *swapped = rc == ERR_OK && changes == 1;
    return rc;
}
