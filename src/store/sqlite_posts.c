/*
 * store/sqlite_posts.c - posts, their items, the account's quota and the media rows (SQLite).
 *
 * Owns: the SQL behind store.h's posts section. The state machine's rules are content/'s;
 * every change to a post writes its bus event by trigger (migration 11). Prepared per call:
 * a post takes a handful of statements over its whole life.
 */
#include "store/sqlite_int.h"

#include <string.h>

#define SQ(b) ((struct sqlite_store *)(b))

#define POST_COLUMNS                                                                               \
    "id, account_id, state, step, caption, fit, scheduled_at, coalesce(deferred_until, 0),"        \
    " container_id, media_id, permalink, reason, coalesce(error_code, 0),"                         \
    " coalesce(error_subcode, 0), coalesce(container_at, 0), polls, tries,"                        \
    " coalesce(publish_sent_at, 0), coalesce(operator_id, 0), created_at, updated_at,"             \
    " coalesce(published_at, 0),"                                                                  \
    " (SELECT count(*) FROM post_items i WHERE i.post_id = posts.id)"

#define MEDIA_COLUMNS                                                                              \
    "id, sha256, path, bytes, coalesce(width, 0), coalesce(height, 0), created_at,"                \
    " coalesce(expires_at, 0)"

static void bind_ms_or_null(sqlite3_stmt *st, int i, int64_t v)
{
    if (v)
        sqlite3_bind_int64(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

static void read_post(struct arena *a, sqlite3_stmt *st, struct store_post *p)
{
    memset(p, 0, sizeof *p);
    p->id = sqlite3_column_int64(st, 0);
    p->account_id = sqlite3_column_int64(st, 1);
    p->state = sqlite_col_text(a, st, 2);
    p->step = sqlite_col_text(a, st, 3);
    p->caption = sqlite_col_text(a, st, 4);
    p->fit = sqlite_col_text(a, st, 5);
    p->scheduled_at = sqlite3_column_int64(st, 6);
    p->deferred_until = sqlite3_column_int64(st, 7);
    p->container_id = sqlite_col_text(a, st, 8);
    p->media_id = sqlite_col_text(a, st, 9);
    p->permalink = sqlite_col_text(a, st, 10);
    p->reason = sqlite_col_text(a, st, 11);
    p->error_code = sqlite3_column_int(st, 12);
    p->error_subcode = sqlite3_column_int(st, 13);
    p->container_at = sqlite3_column_int64(st, 14);
    p->polls = sqlite3_column_int(st, 15);
    p->tries = sqlite3_column_int(st, 16);
    p->publish_sent_at = sqlite3_column_int64(st, 17);
    p->operator_id = sqlite3_column_int64(st, 18);
    p->created_at = sqlite3_column_int64(st, 19);
    p->updated_at = sqlite3_column_int64(st, 20);
    p->published_at = sqlite3_column_int64(st, 21);
    p->n_items = sqlite3_column_int(st, 22);
}

static enum err insert_item(struct sqlite_store *s, int64_t post_id,
                            const struct store_post_item *it)
{
    sqlite3_stmt *st = sqlite_prepare_once(
        s, "INSERT INTO post_items (post_id, position, source, media_id, container_id,"
           " fit_decision) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, post_id);
    sqlite3_bind_int(st, 2, it->position);
    sqlite_bind_text_or_null(st, 3, it->source);
    sqlite_bind_text_or_null(st, 4, it->media_id);
    sqlite_bind_text_or_null(st, 5, it->container_id);
    sqlite_bind_text_or_null(st, 6, it->fit_decision);
    return sqlite_run_once(s, st, "post_item_insert", NULL);
}

static enum err post_insert(struct store *base, const struct store_post *p, int64_t now,
                            int64_t *id)
{
    struct sqlite_store *s = SQ(base);
    enum err rc = store_begin(base);
    if (rc != ERR_OK)
        return rc;
    sqlite3_stmt *st = sqlite_prepare_once(
        s, "INSERT INTO posts (account_id, state, caption, fit, scheduled_at, reason,"
           " operator_id, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)");
    rc = st ? ERR_OK : ERR_INTERNAL;
    if (st) {
        sqlite3_bind_int64(st, 1, p->account_id);
        sqlite_bind_text_or_null(st, 2, p->state ? p->state : "scheduled");
        sqlite_bind_text_or_null(st, 3, p->caption ? p->caption : "");
        sqlite_bind_text_or_null(st, 4, p->fit ? p->fit : "pad");
        sqlite3_bind_int64(st, 5, p->scheduled_at);
        sqlite_bind_text_or_null(st, 6, p->reason);
        bind_ms_or_null(st, 7, p->operator_id);
        sqlite3_bind_int64(st, 8, now);
        rc = sqlite_run_once(s, st, "post_insert", NULL);
    }
    int64_t post_id = sqlite3_last_insert_rowid(s->db);
    for (int i = 0; rc == ERR_OK && i < p->n_items; i++)
        rc = insert_item(s, post_id, &p->items[i]);
    if (rc != ERR_OK) {
        store_rollback(base);
        return rc;
    }
    *id = post_id;
    return store_commit(base);
}

static enum err read_items(struct sqlite_store *s, struct arena *a, struct store_post *p)
{
    sqlite3_stmt *st = sqlite_prepare_once(
        s, "SELECT position, source, media_id, container_id, fit_decision FROM post_items"
           " WHERE post_id = ?1 ORDER BY position LIMIT ?2");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, p->id);
    sqlite3_bind_int(st, 2, STORE_POST_ITEMS_MAX);
    int rc;
    p->n_items = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_post_item *it = &p->items[p->n_items++];
        it->position = sqlite3_column_int(st, 0);
        it->source = sqlite_col_text(a, st, 1);
        it->media_id = sqlite_col_text(a, st, 2);
        it->container_id = sqlite_col_text(a, st, 3);
        it->fit_decision = sqlite_col_text(a, st, 4);
    }
    enum err e = rc == SQLITE_DONE ? ERR_OK : sqlite_err(s, rc, "post_items");
    sqlite3_finalize(st);
    return e;
}

static enum err post_get(struct store *base, struct arena *a, int64_t id, struct store_post *out)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = sqlite_prepare_once(s, "SELECT " POST_COLUMNS " FROM posts WHERE id = ?1");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    enum err e = rc == SQLITE_ROW    ? ERR_OK
                 : rc == SQLITE_DONE ? ERR_NOT_FOUND
                                     : sqlite_err(s, rc, "post_get");
    if (rc == SQLITE_ROW)
        read_post(a, st, out);
    sqlite3_finalize(st);
    return e == ERR_OK ? read_items(s, a, out) : e;
}

static enum err post_save(struct store *base, const struct store_post *p, const char *expect,
                          int64_t now, bool *changed)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = sqlite_prepare_once(
        s, "UPDATE posts SET state = ?2, step = ?3, deferred_until = ?4, container_id = ?5,"
           " media_id = ?6, permalink = ?7, reason = ?8, error_code = ?9, error_subcode = ?10,"
           " container_at = ?11, polls = ?12, tries = ?13, publish_sent_at = ?14,"
           " published_at = ?15, updated_at = ?16, scheduled_at = ?18"
           " WHERE id = ?1 AND (?17 IS NULL OR state = ?17)");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, p->id);
    sqlite_bind_text_or_null(st, 2, p->state);
    sqlite_bind_text_or_null(st, 3, p->step);
    bind_ms_or_null(st, 4, p->deferred_until);
    sqlite_bind_text_or_null(st, 5, p->container_id);
    sqlite_bind_text_or_null(st, 6, p->media_id);
    sqlite_bind_text_or_null(st, 7, p->permalink);
    sqlite_bind_text_or_null(st, 8, p->reason);
    bind_ms_or_null(st, 9, p->error_code);
    bind_ms_or_null(st, 10, p->error_subcode);
    bind_ms_or_null(st, 11, p->container_at);
    sqlite3_bind_int(st, 12, p->polls);
    sqlite3_bind_int(st, 13, p->tries);
    bind_ms_or_null(st, 14, p->publish_sent_at);
    bind_ms_or_null(st, 15, p->published_at);
    sqlite3_bind_int64(st, 16, now);
    sqlite_bind_text_or_null(st, 17, expect);
    sqlite3_bind_int64(st, 18, p->scheduled_at);
    int64_t n = 0;
    enum err rc = sqlite_run_once(s, st, "post_save", &n);
    if (changed)
        *changed = n > 0;
    return rc;
}

static enum err post_item_save(struct store *base, int64_t post_id,
                               const struct store_post_item *it)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = sqlite_prepare_once(
        s, "UPDATE post_items SET media_id = ?3, container_id = ?4, fit_decision = ?5"
           " WHERE post_id = ?1 AND position = ?2");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, post_id);
    sqlite3_bind_int(st, 2, it->position);
    sqlite_bind_text_or_null(st, 3, it->media_id);
    sqlite_bind_text_or_null(st, 4, it->container_id);
    sqlite_bind_text_or_null(st, 5, it->fit_decision);
    return sqlite_run_once(s, st, "post_item_save", NULL);
}

static enum err posts_list(struct store *base, struct arena *a, int64_t account_id,
                           int64_t before_id, size_t max, struct store_post **out, size_t *n)
{
    struct sqlite_store *s = SQ(base);
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = sqlite_prepare_once(
        s, "SELECT " POST_COLUMNS " FROM posts WHERE (?1 = 0 OR account_id = ?1)"
           " AND (?2 = 0 OR id < ?2) ORDER BY id DESC LIMIT ?3");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_int64(st, 2, before_id);
    sqlite3_bind_int64(st, 3, (int64_t)max);
    if (max)
        *out = arena_alloc(a, max * sizeof **out);
    int rc = SQLITE_DONE;
    while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
        read_post(a, st, &(*out)[(*n)++]);
    enum err e = *n == max || rc == SQLITE_DONE ? ERR_OK : sqlite_err(s, rc, "posts_list");
    sqlite3_finalize(st);
    return e;
}

static enum err posts_published_since(struct store *base, int64_t account_id, int64_t since_ms,
                                      int64_t *times, size_t max, size_t *n)
{
    struct sqlite_store *s = SQ(base);
    *n = 0;
    sqlite3_stmt *st = sqlite_prepare_once(
        s, "SELECT published_at FROM posts WHERE account_id = ?1 AND published_at > ?2"
           " AND state = 'published' ORDER BY published_at LIMIT ?3");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_int64(st, 2, since_ms);
    sqlite3_bind_int64(st, 3, (int64_t)max);
    int rc = SQLITE_DONE;
    while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
        times[(*n)++] = sqlite3_column_int64(st, 0);
    enum err e = *n == max || rc == SQLITE_DONE ? ERR_OK : sqlite_err(s, rc, "posts_published");
    sqlite3_finalize(st);
    return e;
}

static enum err quota_set(struct store *base, int64_t account_id, const struct store_quota *q)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = sqlite_prepare_once(
        s, "UPDATE accounts SET quota_usage = ?2, quota_total = ?3, quota_checked_at = ?4"
           " WHERE id = ?1");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_int64(st, 2, q->usage);
    sqlite3_bind_int64(st, 3, q->total);
    sqlite3_bind_int64(st, 4, q->checked_at);
    return sqlite_run_once(s, st, "quota_set", NULL);
}

static enum err quota_get(struct store *base, int64_t account_id, struct store_quota *q)
{
    struct sqlite_store *s = SQ(base);
    memset(q, 0, sizeof *q);
    sqlite3_stmt *st = sqlite_prepare_once(
        s, "SELECT coalesce(quota_usage, 0), coalesce(quota_total, 0),"
           " coalesce(quota_checked_at, 0) FROM accounts WHERE id = ?1");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, account_id);
    int rc = sqlite3_step(st);
    enum err e = rc == SQLITE_ROW    ? ERR_OK
                 : rc == SQLITE_DONE ? ERR_NOT_FOUND
                                     : sqlite_err(s, rc, "quota_get");
    if (rc == SQLITE_ROW) {
        q->usage = sqlite3_column_int64(st, 0);
        q->total = sqlite3_column_int64(st, 1);
        q->checked_at = sqlite3_column_int64(st, 2);
    }
    sqlite3_finalize(st);
    return e;
}

static void read_media(struct arena *a, sqlite3_stmt *st, struct store_media *m)
{
    m->id = sqlite_col_text(a, st, 0);
    m->sha256 = sqlite_col_text(a, st, 1);
    m->path = sqlite_col_text(a, st, 2);
    m->bytes = sqlite3_column_int64(st, 3);
    m->width = sqlite3_column_int(st, 4);
    m->height = sqlite3_column_int(st, 5);
    m->created_at = sqlite3_column_int64(st, 6);
    m->expires_at = sqlite3_column_int64(st, 7);
}

static enum err media_put(struct store *base, struct arena *a, struct store_media *m)
{
    struct sqlite_store *s = SQ(base);
    /* A second put of the same bytes keeps the first row's id; one a post needs is kept. */
    sqlite3_stmt *st = sqlite_prepare_once(
        s, "INSERT INTO media (id, sha256, path, bytes, width, height, created_at, expires_at)"
           " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (sha256) DO UPDATE SET"
           " expires_at = CASE WHEN excluded.expires_at IS NULL OR media.expires_at IS NULL"
           " THEN NULL ELSE max(media.expires_at, excluded.expires_at) END RETURNING id");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_text(st, 1, m->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, m->sha256, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, m->path, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, m->bytes);
    sqlite3_bind_int(st, 5, m->width);
    sqlite3_bind_int(st, 6, m->height);
    sqlite3_bind_int64(st, 7, m->created_at);
    bind_ms_or_null(st, 8, m->expires_at);
    int rc = sqlite3_step(st);
    enum err e = rc == SQLITE_ROW ? ERR_OK : sqlite_err(s, rc, "media_put");
    if (rc == SQLITE_ROW)
        m->id = sqlite_col_text(a, st, 0);
    sqlite3_finalize(st);
    return e;
}

static enum err media_get(struct store *base, struct arena *a, const char *id,
                          struct store_media *out)
{
    struct sqlite_store *s = SQ(base);
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = sqlite_prepare_once(s, "SELECT " MEDIA_COLUMNS " FROM media WHERE id = ?1");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    enum err e = rc == SQLITE_ROW    ? ERR_OK
                 : rc == SQLITE_DONE ? ERR_NOT_FOUND
                                     : sqlite_err(s, rc, "media_get");
    if (rc == SQLITE_ROW)
        read_media(a, st, out);
    sqlite3_finalize(st);
    return e;
}

static enum err media_unused(struct store *base, struct arena *a, int64_t now, size_t max,
                             struct store_media **out, size_t *n)
{
    struct sqlite_store *s = SQ(base);
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = sqlite_prepare_once(
        s, "SELECT " MEDIA_COLUMNS " FROM media m WHERE (m.expires_at IS NULL OR"
           " m.expires_at <= ?1) AND NOT EXISTS (SELECT 1 FROM post_items i JOIN posts p ON"
           " p.id = i.post_id WHERE i.media_id = m.id AND p.state NOT IN ('published','failed'))"
           " ORDER BY m.created_at LIMIT ?2");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int64(st, 2, (int64_t)max);
    if (max)
        *out = arena_alloc(a, max * sizeof **out);
    int rc = SQLITE_DONE;
    while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
        read_media(a, st, &(*out)[(*n)++]);
    enum err e = *n == max || rc == SQLITE_DONE ? ERR_OK : sqlite_err(s, rc, "media_unused");
    sqlite3_finalize(st);
    return e;
}

static enum err media_delete(struct store *base, const char *id)
{
    struct sqlite_store *s = SQ(base);
    /* Items of finished posts keep no reference to a file that is gone. */
    sqlite3_stmt *st = sqlite_prepare_once(
        s, "UPDATE post_items SET media_id = NULL WHERE media_id = ?1");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    enum err rc = sqlite_run_once(s, st, "media_unlink", NULL);
    if (rc != ERR_OK)
        return rc;
    st = sqlite_prepare_once(s, "DELETE FROM media WHERE id = ?1");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    return sqlite_run_once(s, st, "media_delete", NULL);
}

static enum err source_in_use(struct store *base, const char *source, bool *in_use)
{
    struct sqlite_store *s = SQ(base);
    *in_use = false;
    sqlite3_stmt *st = sqlite_prepare_once(
        s, "SELECT 1 FROM post_items i JOIN posts p ON p.id = i.post_id WHERE i.source = ?1"
           " AND p.state NOT IN ('published','failed') LIMIT 1");
    if (!st)
        return ERR_INTERNAL;
    sqlite3_bind_text(st, 1, source, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    enum err e = rc == SQLITE_ROW || rc == SQLITE_DONE ? ERR_OK : sqlite_err(s, rc, "source_use");
    *in_use = rc == SQLITE_ROW;
    sqlite3_finalize(st);
    return e;
}

const struct store_posts_ops sqlite_posts_ops = {
    .post_insert = post_insert,
    .post_get = post_get,
    .post_save = post_save,
    .post_item_save = post_item_save,
    .posts_list = posts_list,
    .posts_published_since = posts_published_since,
    .quota_set = quota_set,
    .quota_get = quota_get,
    .media_put = media_put,
    .media_get = media_get,
    .media_unused = media_unused,
    .media_delete = media_delete,
    .source_in_use = source_in_use,
};
