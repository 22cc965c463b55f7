/*
 * store/posts.c - store.h's posts and media calls, dispatched to the live backend.
 */
#include "store/store.h"

#include "store/store_int.h"

enum err store_post_insert(struct store *s, const struct store_post *p, int64_t now_ms,
                           int64_t *id)
{
    if (p->n_items < 1 || p->n_items > STORE_POST_ITEMS_MAX)
        return ERR_INVALID;
    return s->ops->posts->post_insert(s, p, now_ms, id);
}

enum err store_post_get(struct store *s, struct arena *a, int64_t id, struct store_post *out)
{
    return s->ops->posts->post_get(s, a, id, out);
}

enum err store_post_save(struct store *s, const struct store_post *p, const char *expect_state,
                         int64_t now_ms, bool *changed)
{
    return s->ops->posts->post_save(s, p, expect_state, now_ms, changed);
}

enum err store_post_item_save(struct store *s, int64_t post_id, const struct store_post_item *it)
{
    return s->ops->posts->post_item_save(s, post_id, it);
}

enum err store_posts_list(struct store *s, struct arena *a, int64_t account_id, int64_t before_id,
                          size_t max, struct store_post **out, size_t *n)
{
    if (max > STORE_POSTS_PAGE_MAX)
        max = STORE_POSTS_PAGE_MAX;
    return s->ops->posts->posts_list(s, a, account_id, before_id, max, out, n);
}

enum err store_posts_published_since(struct store *s, int64_t account_id, int64_t since_ms,
                                     int64_t *times, size_t max, size_t *n)
{
    return s->ops->posts->posts_published_since(s, account_id, since_ms, times, max, n);
}

enum err store_account_quota_set(struct store *s, int64_t account_id, const struct store_quota *q)
{
    return s->ops->posts->quota_set(s, account_id, q);
}

enum err store_account_quota(struct store *s, int64_t account_id, struct store_quota *q)
{
    return s->ops->posts->quota_get(s, account_id, q);
}

enum err store_media_put(struct store *s, struct arena *a, struct store_media *m)
{
    return s->ops->posts->media_put(s, a, m);
}

enum err store_media_get(struct store *s, struct arena *a, const char *id, struct store_media *out)
{
    return s->ops->posts->media_get(s, a, id, out);
}

enum err store_media_unused(struct store *s, struct arena *a, int64_t now_ms, size_t max,
                            struct store_media **out, size_t *n)
{
    return s->ops->posts->media_unused(s, a, now_ms, max, out, n);
}

enum err store_media_delete(struct store *s, const char *id)
{
    return s->ops->posts->media_delete(s, id);
}

enum err store_post_source_in_use(struct store *s, const char *source, bool *in_use)
{
    return s->ops->posts->source_in_use(s, source, in_use);
}
