/*
 * content/quota.c - Instagram's publishing quota (meta-platform.md section 5.2): a rolling
 * 24-hour count, read live from content_publishing_limit and also counted by us, since Meta
 * recommends a cap of one's own and never documents the number for good (25, 50, 100).
 */
#include "content/content.h"

bool content_quota_allows(const struct content_quota *q, int64_t now_ms, int64_t *used,
                          int64_t *slot_at)
{
    /* Only our publishes inside the window count. */
    size_t first = 0;
    while (first < q->n_ours && q->ours[first] <= now_ms - CONTENT_DAY_MS)
        first++;
    int64_t ours = (int64_t)(q->n_ours - first);
    *used = q->meta_usage > ours ? q->meta_usage : ours;
    *slot_at = 0;
    if (q->meta_total <= 0 || *used < q->meta_total)
        return true;
    /* With `total` of ours in the window, a slot frees when the one that brings the count
     * back under the total leaves it: the (ours - total)-th oldest (0-based). */
    if (ours >= q->meta_total)
        *slot_at = q->ours[first + (size_t)(ours - q->meta_total)] + CONTENT_DAY_MS;
    else
        *slot_at = now_ms + CONTENT_QUOTA_RECHECK_MS;
    return false;
}
