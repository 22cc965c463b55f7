/*
 * meta/token_words.c - the pure half of token health: which end of a connection's access is
 * nearer and how many days are left, the per-account warning, the dashboard banner, the
 * status reason for a refused token, and the counts behind the account gauges.
 *
 * Memory: every text in the caller's arena; none ever holds a token.
 */
#include "meta/token_check.h"

#include <string.h>

#include "core/clock.h"

#define BANNER_NAMES_MAX 5 /* names listed per sentence; the rest are "and N more" */

struct meta_expiry meta_token_expiry(int64_t token_expires_at, int64_t data_access_expires_at,
                                     int64_t now_ms)
{
    struct meta_expiry e = {0};
    if (token_expires_at > 0)
        e.at_ms = token_expires_at;
    if (data_access_expires_at > 0 && (!e.at_ms || data_access_expires_at < e.at_ms)) {
        e.at_ms = data_access_expires_at;
        e.is_data_access = true;
    }
    if (!e.at_ms)
        return e;
    int64_t left = e.at_ms - now_ms;
    e.days_left = left >= 0 ? left / META_DAY_MS : -((-left + META_DAY_MS - 1) / META_DAY_MS);
    e.is_soon = left < META_TOKEN_WARN_MS;
    return e;
}

static struct meta_expiry account_expiry(const struct store_account *acct, int64_t now_ms)
{
    return meta_token_expiry(acct->token_expires_at, acct->data_access_expires_at, now_ms);
}

/* "Northwind Coffee (Facebook Page)", "@northwind.coffee (Instagram)". */
static const char *display_name(struct arena *a, const struct store_account *acct)
{
    bool ig = acct->platform == STORE_INSTAGRAM;
    const char *kind = ig ? "Instagram" : "Facebook Page";
    if (ig && acct->username && *acct->username)
        return arena_printf(a, "@%s (%s)", acct->username, kind);
    if (acct->name && *acct->name)
        return arena_printf(a, "%s (%s)", acct->name, kind);
    return arena_printf(a, "%s %s", kind, acct->external_id ? acct->external_id : "?");
}

static const char *day_date(struct arena *a, int64_t at_ms)
{
    char iso[32];
    clock_format_iso(at_ms, iso, sizeof iso);
    return arena_strndup(a, iso, 10);
}

/* "in 5 days (on 2026-12-01)", "within a day (on ...)", "on 2026-11-30" once passed. */
static const char *when_text(struct arena *a, const struct meta_expiry *e, int64_t now_ms)
{
    const char *date = day_date(a, e->at_ms);
    if (e->at_ms <= now_ms)
        return arena_printf(a, "on %s", date);
    if (e->days_left == 0)
        return arena_printf(a, "within a day (on %s)", date);
    return arena_printf(a, "in %lld day%s (on %s)", (long long)e->days_left,
                        e->days_left == 1 ? "" : "s", date);
}

static const char *expiry_warning(struct arena *a, const struct meta_expiry *e, int64_t now_ms)
{
    bool passed = e->at_ms <= now_ms;
    const char *what = e->is_data_access ? "Data access for its login" : "Its token";
    const char *verb =
        e->is_data_access ? (passed ? "ended" : "ends") : (passed ? "expired" : "expires");
    return arena_printf(a, "%s %s %s; reconnect from the dashboard to renew it.", what, verb,
                        when_text(a, e, now_ms));
}

static const char *with_reason(struct arena *a, const char *head, const char *reason,
                               const char *fallback)
{
    const char *r = reason && *reason ? reason : fallback;
    size_t n = strlen(r);
    return arena_printf(a, "%s: %s%s", head, r, n && r[n - 1] == '.' ? "" : ".");
}

const char *meta_account_warning(struct arena *a, const struct store_account *acct, int64_t now_ms)
{
    if (acct->status == STORE_ACCOUNT_NEEDS_RECONNECT)
        return with_reason(a, "Needs reconnecting", acct->status_reason,
                           "Meta no longer accepts its token; reconnect from the dashboard");
    if (acct->status == STORE_ACCOUNT_REVOKED)
        return with_reason(a, "Revoked", acct->status_reason,
                           "the app was removed from the account; reconnect from the dashboard");
    struct meta_expiry e = account_expiry(acct, now_ms);
    return e.is_soon ? expiry_warning(a, &e, now_ms) : NULL;
}

/* Appends item to a list "A, B and C" being built in *list (n items so far, of total). */
static void list_add(struct arena *a, const char **list, size_t n, size_t total, const char *item)
{
    if (n >= BANNER_NAMES_MAX) {
        if (n == BANNER_NAMES_MAX)
            *list = arena_printf(a, "%s and %zu more", *list, total - BANNER_NAMES_MAX);
        return;
    }
    const char *sep = n == 0 ? "" : n + 1 == total ? " and " : ", ";
    *list = arena_printf(a, "%s%s%s", *list, sep, item);
}

static bool is_expiring(const struct store_account *acct, int64_t now_ms)
{
    return acct->status == STORE_ACCOUNT_ACTIVE && account_expiry(acct, now_ms).is_soon;
}

static const char *dead_sentence(struct arena *a, const struct store_account *accts, size_t n,
                                 size_t total)
{
    const char *list = "";
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (accts[i].status == STORE_ACCOUNT_NEEDS_RECONNECT)
            list_add(a, &list, k++, total, display_name(a, &accts[i]));
    return arena_printf(a,
                        "%zu account%s need%s reconnecting: %s. Meta no longer accepts %s "
                        "token, so nothing is sent or answered there until someone reconnects "
                        "from the dashboard.",
                        total, total == 1 ? "" : "s", total == 1 ? "s" : "", list,
                        total == 1 ? "its" : "their");
}

static const char *expiring_sentence(struct arena *a, const struct store_account *accts, size_t n,
                                     size_t total, int64_t now_ms)
{
    const char *list = "";
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_expiring(&accts[i], now_ms))
            continue;
        struct meta_expiry e = account_expiry(&accts[i], now_ms);
        const char *when = e.at_ms <= now_ms ? arena_printf(a, "ended %s", when_text(a, &e, now_ms))
                                             : arena_printf(a, "ends %s", when_text(a, &e, now_ms));
        list_add(a, &list, k++, total, arena_printf(a, "%s %s", display_name(a, &accts[i]), when));
    }
    return arena_printf(a, "Access for %s; reconnect from the dashboard to keep %s working.", list,
                        total == 1 ? "it" : "them");
}

const char *meta_accounts_banner(struct arena *a, const struct store_account *accts, size_t n,
                                 int64_t now_ms)
{
    size_t n_dead = 0, n_soon = 0;
    for (size_t i = 0; i < n; i++) {
        n_dead += accts[i].status == STORE_ACCOUNT_NEEDS_RECONNECT;
        n_soon += is_expiring(&accts[i], now_ms);
    }
    if (!n_dead && !n_soon)
        return NULL;
    const char *dead = n_dead ? dead_sentence(a, accts, n, n_dead) : NULL;
    const char *soon = n_soon ? expiring_sentence(a, accts, n, n_soon, now_ms) : NULL;
    if (dead && soon)
        return arena_printf(a, "%s %s", dead, soon);
    return dead ? dead : soon;
}

/* What Meta's code-190 subcodes mean (meta-platform.md section 4.3), in plain words. */
static const char *subcode_words(int code, int subcode)
{
    static const struct {
        int subcode;
        const char *words;
    } table[] = {
        {458, "the app was removed from the account"},
        {459, "the person must log in at facebook.com to unlock their account"},
        {460, "the password was changed"},
        {463, "session expired"},
        {464, "the person has not confirmed their account"},
        {467, "the token is not valid"},
        {492, "the person no longer has a role on the Page"},
    };
    if (code == 102)
        return "session expired";
    for (size_t i = 0; code == 190 && i < sizeof table / sizeof table[0]; i++)
        if (table[i].subcode == subcode)
            return table[i].words;
    return NULL;
}

const char *meta_dead_token_reason(struct arena *a, int code, int subcode)
{
    const char *words = subcode_words(code, subcode);
    const char *tail = "reconnect from the dashboard";
    const char *head = "Meta says the token is no longer valid";
    if (code && subcode)
        return words ? arena_printf(a, "%s (code %d/%d: %s); %s", head, code, subcode, words, tail)
                     : arena_printf(a, "%s (code %d/%d); %s", head, code, subcode, tail);
    if (code)
        return words ? arena_printf(a, "%s (code %d: %s); %s", head, code, words, tail)
                     : arena_printf(a, "%s (code %d); %s", head, code, tail);
    return arena_printf(a, "%s; %s", head, tail);
}

void meta_accounts_tally(const struct store_account *accts, size_t n, int64_t now_ms,
                         struct meta_accounts_tally *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < n; i++) {
        if ((unsigned)accts[i].status <= STORE_ACCOUNT_REVOKED)
            out->by_status[accts[i].status]++;
        out->expiring += is_expiring(&accts[i], now_ms);
        out->silent += accts[i].status == STORE_ACCOUNT_ACTIVE && accts[i].silent_since > 0;
    }
}
