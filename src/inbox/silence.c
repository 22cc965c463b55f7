/*
 * inbox/silence.c - the silent-account alert (see silence.h).
 */
#include "inbox/silence.h"

#include "core/log.h"
#include "core/mem.h"
#include "store/store.h"

int64_t inbox_silent_after_ms(int64_t event_gap_ms, int64_t floor_ms)
{
    int64_t usual = event_gap_ms > 0 ? event_gap_ms : 0;
    if (usual > INT64_MAX / INBOX_SILENT_FACTOR)
        return INT64_MAX;
    int64_t after = usual * INBOX_SILENT_FACTOR;
    return after > floor_ms ? after : floor_ms;
}

bool inbox_is_silent(const struct store_account *acct, int64_t floor_ms, int64_t now_ms)
{
    int64_t since = acct->last_event_at > 0 ? acct->last_event_at : acct->created_at;
    if (since <= 0 || now_ms <= since)
        return false;
    return now_ms - since >= inbox_silent_after_ms(acct->event_gap_ms, floor_ms);
}

static enum err check_one(struct store *s, const struct store_account *acct, int64_t floor_ms,
                          int64_t now_ms, bool *silent)
{
    *silent = acct->status == STORE_ACCOUNT_ACTIVE && inbox_is_silent(acct, floor_ms, now_ms);
    bool changed = false;
    enum err rc = store_account_set_silent(s, acct->id, *silent ? now_ms : 0, now_ms, &changed);
    if (rc == ERR_OK && changed && *silent) {
        int64_t since = acct->last_event_at > 0 ? acct->last_event_at : acct->created_at;
        log_warn("account.silent", LOG_INT("account", acct->id),
                 LOG_STR("external_id", acct->external_id),
                 LOG_INT("quiet_s", (now_ms - since) / 1000),
                 LOG_INT("usual_gap_s", acct->event_gap_ms / 1000));
    }
    return rc;
}

enum err inbox_check_silence(struct store *s, int64_t floor_ms, int64_t now_ms, int *n_silent)
{
    struct arena a;
    arena_init(&a);
    struct store_account *rows = NULL;
    size_t n = 0;
    int count = 0;
    enum err rc = store_accounts_list(s, &a, &rows, &n);
    for (size_t i = 0; rc == ERR_OK && i < n; i++) {
        if (rows[i].silent_since > 0 && rows[i].status == STORE_ACCOUNT_ACTIVE &&
            inbox_is_silent(&rows[i], floor_ms, now_ms)) {
            count++; /* raised already: nothing to write */
            continue;
        }
        bool silent = false;
        rc = check_one(s, &rows[i], floor_ms, now_ms, &silent);
        count += silent;
    }
    arena_release(&a);
    if (n_silent)
        *n_silent = count;
    return rc;
}
