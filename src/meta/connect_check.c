/*
 * meta/connect_check.c - the connect self-test: what is wrong with a login, in plain words.
 *
 * Owns: the findings a connect reports (scopes not granted, overall or for one Page or
 * Instagram account; a Page without Instagram; an Instagram account under two Pages, granted
 * without its Page, moved to another Page, or dropped by its Page; data access ending soon).
 * Each check reads what connect.c collected; only conn_check_pairing() reads the store.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/json.h"
#include "meta/connect_int.h"

#define EXPIRY_WARN_MS (7LL * 24 * 3600 * 1000) /* section 4.3: alert 7 days ahead */

/* What breaks without each scope (section 4.6). The default wanted list is this column. */
static const struct {
    const char *scope, *why;
} scope_needs[] = {
    {"pages_show_list", "Switchboard cannot list your Pages"},
    {"pages_messaging", "replies on Messenger will fail"},
    {"pages_manage_metadata", "webhook subscriptions will fail, so no messages arrive"},
    {"pages_read_engagement", "conversation history and Page comments cannot be read"},
    {"instagram_basic", "Instagram accounts cannot be read"},
    {"instagram_manage_messages", "replies on Instagram will fail"},
    {"instagram_manage_comments", "Instagram comments cannot be read or answered"},
    {"instagram_content_publish", "publishing to Instagram will fail"},
    {"business_management", "Pages you reach through Business Manager may be missing"},
};

const char meta_connect_default_scopes[] =
    "pages_show_list,pages_messaging,pages_manage_metadata,pages_read_engagement,"
    "instagram_basic,instagram_manage_messages,instagram_manage_comments,"
    "instagram_content_publish,business_management";

static const char *const kind_names[] = {
    [META_FINDING_SCOPE_MISSING] = "scope_missing",
    [META_FINDING_NO_INSTAGRAM] = "no_instagram",
    [META_FINDING_PAIRING] = "pairing",
    [META_FINDING_PAGE_SKIPPED] = "page_skipped",
    [META_FINDING_SUBSCRIBE_FAILED] = "subscribe_failed",
    [META_FINDING_SUBSCRIPTION_INCOMPLETE] = "subscription_incomplete",
    [META_FINDING_TOKEN_KEPT] = "token_kept",
    [META_FINDING_EXPIRY] = "expiry",
};

const char *meta_finding_kind_name(enum meta_finding_kind k)
{
    return (unsigned)k < sizeof kind_names / sizeof kind_names[0] ? kind_names[k] : "?";
}

void conn_finding(struct conn *c, enum meta_finding_kind k, const char *subject, const char *fmt,
                  ...)
{
    struct meta_connect_report *r = c->r;
    if (r->n_findings == c->cap_findings) {
        c->cap_findings = c->cap_findings ? 2 * c->cap_findings : 8;
        struct meta_finding *bigger = arena_alloc(c->a, c->cap_findings * sizeof *bigger);
        if (r->n_findings)
            memcpy(bigger, r->findings, r->n_findings * sizeof *bigger);
        r->findings = bigger;
    }
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    r->findings[r->n_findings++] =
        (struct meta_finding){.kind = k,
                              .subject = subject ? arena_strdup(c->a, subject) : NULL,
                              .text = arena_strdup(c->a, text)};
}

const char *conn_page_label(struct conn *c, const struct conn_page *p)
{
    return p->name ? arena_printf(c->a, "'%s' (%s)", p->name, p->id) : p->id;
}

const char *conn_ig_label(struct conn *c, const char *username, const char *id)
{
    return username ? arena_printf(c->a, "Instagram account @%s", username)
                    : arena_printf(c->a, "Instagram account %s", id);
}

static const char *why(const char *scope)
{
    for (size_t i = 0; i < sizeof scope_needs / sizeof scope_needs[0]; i++)
        if (strcmp(scope_needs[i].scope, scope) == 0)
            return scope_needs[i].why;
    return "features that need it will fail";
}

static bool granted(const struct conn *c, const char *scope)
{
    for (size_t i = 0; i < c->user.n_scopes; i++)
        if (strcmp(c->user.scopes[i], scope) == 0)
            return true;
    return false;
}

static bool any_instagram(const struct conn *c)
{
    for (size_t i = 0; i < c->n_pages; i++)
        if (!c->pages[i].is_skipped && c->pages[i].ig_id)
            return true;
    return false;
}

/* Every wanted scope that was not granted at all. Instagram scopes matter only when a Page
 * has an Instagram account. */
static void check_scopes(struct conn *c)
{
    const char *list = c->o->wanted_scopes ? c->o->wanted_scopes : meta_connect_default_scopes;
    bool ig = any_instagram(c);
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ", ");
        char *scope = arena_strndup(c->a, p, n);
        p += n;
        p += strspn(p, ", ");
        if (!*scope || granted(c, scope) || (!ig && strncmp(scope, "instagram_", 10) == 0))
            continue;
        conn_finding(c, META_FINDING_SCOPE_MISSING, scope,
                     "scope %s was not granted: %s; reconnect and tick it", scope, why(scope));
    }
}

static bool has_target(const json_t *targets, const char *id)
{
    size_t i;
    const json_t *t;
    json_array_foreach(targets, i, t) if (json_is_string(t) &&
                                          strcmp(json_string_value(t), id) == 0) return true;
    return false;
}

static const struct conn_page *page_with_ig(const struct conn *c, const char *ig_id)
{
    for (size_t i = 0; i < c->n_pages; i++)
        if (!c->pages[i].is_skipped && c->pages[i].ig_id && !strcmp(c->pages[i].ig_id, ig_id))
            return &c->pages[i];
    return NULL;
}

/* One granular scope: Pages or Instagram accounts it was not granted for, and Instagram
 * accounts it was granted for that no connected Page links. */
static void check_granular_one(struct conn *c, const char *scope, const json_t *targets)
{
    bool ig = strncmp(scope, "instagram_", 10) == 0;
    for (size_t i = 0; i < c->n_pages; i++) {
        const struct conn_page *p = &c->pages[i];
        const char *id = ig ? p->ig_id : p->id;
        if (p->is_skipped || !id || has_target(targets, id))
            continue;
        conn_finding(c, META_FINDING_SCOPE_MISSING, scope,
                     "scope %s was not granted for %s: %s there; reconnect and tick it", scope,
                     ig ? conn_ig_label(c, p->ig_username, p->ig_id) : conn_page_label(c, p),
                     why(scope));
    }
    size_t i;
    const json_t *t;
    json_array_foreach(targets, i, t)
    {
        const char *id = json_string_value(t);
        if (!ig || !id || page_with_ig(c, id))
            continue;
        conn_finding(c, META_FINDING_PAIRING, id,
                     "Instagram account %s was granted (%s) but is not linked to any Page you "
                     "connected: link it to one of your Pages, or tick its Page when you log in",
                     id, scope);
    }
}

static void check_granular(struct conn *c)
{
    size_t i;
    const json_t *g;
    json_array_foreach(c->granular, i, g)
    {
        const char *scope = json_get_str(g, "scope");
        const json_t *targets = json_object_get(g, "target_ids");
        bool scoped = scope && (!strncmp(scope, "pages_", 6) || !strncmp(scope, "instagram_", 10));
        if (scoped && json_is_array(targets) && granted(c, scope))
            check_granular_one(c, scope, targets);
    }
}

/* Pages without Instagram; an Instagram account under two Pages (the first one keeps it). */
static void check_links(struct conn *c)
{
    for (size_t i = 0; i < c->n_pages; i++) {
        struct conn_page *p = &c->pages[i];
        if (p->is_skipped)
            continue;
        if (!p->ig_id) {
            conn_finding(c, META_FINDING_NO_INSTAGRAM, p->id,
                         "Page %s has no Instagram account linked: link one in Meta Business "
                         "Suite to answer Instagram messages through it",
                         conn_page_label(c, p));
            continue;
        }
        const struct conn_page *first = page_with_ig(c, p->ig_id);
        if (first != p) {
            p->is_ig_skipped = true;
            conn_finding(c, META_FINDING_PAIRING, p->ig_id,
                         "%s appears under both Page %s and Page %s; Switchboard uses the first",
                         conn_ig_label(c, p->ig_username, p->ig_id), conn_page_label(c, first),
                         conn_page_label(c, p));
        }
    }
}

static void check_expiry(struct conn *c)
{
    int64_t end = c->r->data_access_expires_at;
    char date[32];
    if (end && end - c->now_ms < EXPIRY_WARN_MS) {
        clock_format_iso(end, date, sizeof date);
        conn_finding(c, META_FINDING_EXPIRY, c->r->user_id,
                     "data access for this login ends on %.10s: reconnect before then", date);
    }
    for (size_t i = 0; i < c->n_pages; i++) {
        const struct conn_page *p = &c->pages[i];
        if (p->is_skipped || !p->token_expires_at ||
            p->token_expires_at - c->now_ms >= EXPIRY_WARN_MS)
            continue;
        clock_format_iso(p->token_expires_at, date, sizeof date);
        conn_finding(c, META_FINDING_EXPIRY, p->id,
                     "the token of Page %s expires on %s (a short-lived login?): connect with a "
                     "long-lived user token",
                     conn_page_label(c, p), date);
    }
}

void conn_check_login(struct conn *c)
{
    check_links(c);
    check_scopes(c);
    if (json_is_array(c->granular))
        check_granular(c);
    check_expiry(c);
}

/* ---- against what is stored ---- */

static const struct conn_page *listed_page(const struct conn *c, const char *page_id)
{
    for (size_t i = 0; page_id && i < c->n_pages; i++)
        if (!c->pages[i].is_skipped && strcmp(c->pages[i].id, page_id) == 0)
            return &c->pages[i];
    return NULL;
}

static const char *stored_page_label(struct conn *c, const struct store_account *all, size_t n,
                                     const char *page_id)
{
    for (size_t i = 0; i < n; i++)
        if (all[i].platform == STORE_MESSENGER && !strcmp(all[i].external_id, page_id) &&
            all[i].name)
            return arena_printf(c->a, "'%s' (%s)", all[i].name, page_id);
    return page_id;
}

static void check_stored_ig(struct conn *c, const struct store_account *all, size_t n,
                            const struct store_account *row, size_t *cap)
{
    const struct conn_page *now = page_with_ig(c, row->external_id);
    const char *label = conn_ig_label(c, row->username, row->external_id);
    if (now && row->page_id && strcmp(now->id, row->page_id) != 0) {
        conn_finding(c, META_FINDING_PAIRING, row->external_id,
                     "%s is now linked to Page %s, not to Page %s as before; Switchboard follows "
                     "the new link",
                     label, conn_page_label(c, now), stored_page_label(c, all, n, row->page_id));
        return;
    }
    const struct conn_page *was = listed_page(c, row->page_id);
    if (now || !was || row->status != STORE_ACCOUNT_ACTIVE)
        return;
    conn_finding(c, META_FINDING_PAIRING, row->external_id,
                 "%s is linked to no Page you connected: Page %s no longer links it, so its "
                 "messages will not arrive; link it again in Meta Business Suite",
                 label, conn_page_label(c, was));
    if (c->n_unlinked == *cap) {
        *cap = *cap ? 2 * *cap : 4;
        struct store_account *bigger = arena_alloc(c->a, *cap * sizeof *bigger);
        if (c->n_unlinked)
            memcpy(bigger, c->unlinked, c->n_unlinked * sizeof *bigger);
        c->unlinked = bigger;
    }
    c->unlinked[c->n_unlinked++] = *row;
}

enum err conn_check_pairing(struct conn *c)
{
    struct store_account *all = NULL;
    size_t n = 0, cap = 0;
    enum err rc = store_accounts_list(c->s, c->a, &all, &n);
    for (size_t i = 0; rc == ERR_OK && i < n; i++)
        if (all[i].platform == STORE_INSTAGRAM)
            check_stored_ig(c, all, n, &all[i], &cap);
    return rc;
}
